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
    },
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
    Store::open(&config).await
}

/// Runs a user command.
pub async fn user(config: Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            jurisdiction,
            email,
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
            println!(
                "user {name} added (id {id}, role {}, jurisdiction {jurisdiction})",
                role.code()
            );
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
