//! `tipline user …` and `tipline token …`.

use crate::config::Config;
use crate::store::{Role, Store};
use clap::Subcommand;
use std::io::BufRead;

/// User commands.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// Login name.
        name: String,
        /// operator, officer, leader or admin.
        #[arg(long)]
        role: String,
        /// Division code of the user's jurisdiction.
        #[arg(long)]
        jurisdiction: String,
        /// E-mail address for notices of new cases (officers).
        #[arg(long)]
        email: Option<String>,
        /// Another name the user is known by (their name in Chinese, a nickname): a report naming
        /// it excludes the user from its case (conflict of interest). Repeatable.
        #[arg(long = "alias")]
        aliases: Vec<String>,
    },
    /// Add names a user is known by (conflict of interest); stored reports are checked again.
    Alias {
        /// The user.
        name: String,
        /// The names.
        #[arg(required = true)]
        aliases: Vec<String>,
    },
}

/// Exclusion commands.
#[derive(Subcommand, Debug)]
pub enum ExclusionCommand {
    /// List the exclusions for conflict of interest (JSON lines, newest first).
    List,
}

/// Token commands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a bearer token for a user (printed once).
    Add {
        /// The user.
        #[arg(long)]
        user: String,
    },
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir)?;
    Store::open(config).await
}

/// Runs a user command.
pub async fn user(config: Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            jurisdiction,
            email,
            aliases,
        } => {
            let role: Role = role.parse()?;
            let email = email
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty());
            if let Some(e) = &email {
                if e.parse::<lettre::Address>().is_err() {
                    anyhow::bail!("--email must be an e-mail address such as wang@example.gov.cn");
                }
            }
            if jurisdiction.len() < 2
                || jurisdiction.len() > 12
                || !jurisdiction.chars().all(|c| c.is_ascii_digit())
            {
                anyhow::bail!("--jurisdiction must be a division code such as 210300");
            }
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 8 {
                anyhow::bail!(
                    "the password (read from standard input) must have at least 8 characters"
                );
            }
            let store = open_store(&config).await?;
            let id = store.add_user(&name, role, &jurisdiction, password).await?;
            if email.is_some() {
                store.set_user_email(id, email.as_deref()).await?;
            }
            let aliases = clean_aliases(&aliases)?;
            if !aliases.is_empty() {
                store.add_aliases(&name, &aliases).await?;
            }
            println!(
                "user {name} added (id {id}, role {}, jurisdiction {jurisdiction})",
                role.code()
            );
            backfill(&store, &config, id).await?;
        }
        UserCommand::Alias { name, aliases } => {
            let aliases = clean_aliases(&aliases)?;
            let store = open_store(&config).await?;
            let user = store.add_aliases(&name, &aliases).await?;
            println!("user {name}: aliases {}", aliases.join(", "));
            backfill(&store, &config, user.id).await?;
        }
    }
    Ok(())
}

/// Aliases as given, trimmed; refuses ones too short to look for.
pub(crate) fn clean_aliases(aliases: &[String]) -> anyhow::Result<Vec<String>> {
    aliases
        .iter()
        .map(|a| a.trim().to_string())
        .map(|a| {
            let short = if a.is_ascii() { a.len() < 3 } else { a.chars().count() < 2 };
            if short {
                anyhow::bail!("alias {a:?} is too short to look for (2 Chinese characters or 3 letters at least)");
            }
            Ok(a)
        })
        .collect()
}

/// Checks the stored reports for a user's names and records the exclusions found.
async fn backfill(store: &Store, config: &Config, user_id: i64) -> anyhow::Result<()> {
    let added = store
        .backfill_exclusions(user_id, config.triage.home.as_deref())
        .await?;
    if added > 0 {
        println!("excluded from {added} case(s) that name them (conflict of interest)");
    }
    Ok(())
}

/// Runs an exclusion command.
pub async fn exclusions(config: Config, command: ExclusionCommand) -> anyhow::Result<()> {
    match command {
        ExclusionCommand::List => {
            let store = open_store(&config).await?;
            for (row, _) in store.exclusions_list().await? {
                println!("{row}");
            }
        }
    }
    Ok(())
}

/// Runs a token command.
pub async fn token(config: Config, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Add { user } => {
            let store = open_store(&config).await?;
            let token = store.add_token(&user).await?;
            eprintln!("token for {user} (shown once; keep it safe):");
            println!("{token}");
        }
    }
    Ok(())
}
