//! tipline: intake and case system for reports about safety-production training and exams.
//!
//! `main` parses the command line, sets up logging and configuration, and hands over to a command
//! in `cli/`. See ARCHITECTURE.md for the map of the code.

mod app;
mod casework;
mod channels;
mod cli;
mod config;
mod conflict;
mod deadlines;
mod identity;
mod indexer;
mod ingest;
mod mail;
mod outbox;
mod pipeline;
mod scope;
mod stats;
mod store;
mod web;

use clap::{Parser, Subcommand};
// Every report allocates many small strings and vectors on several threads (analysis, the writer,
// sqlx, tantivy); glibc's malloc spent ≈ 15 % of an import's CPU consolidating and unlinking.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;

/// tipline — 安全生产培训考试举报受理与案件系统
#[derive(Parser, Debug)]
#[command(name = "tipline", version, about)]
struct Cli {
    /// Data directory (SQLite database, search index, configuration).
    #[arg(
        long,
        global = true,
        env = "TIPLINE_DATA",
        default_value = "tipline-data"
    )]
    data: PathBuf,
    /// Database URL (sqlite://… or postgres://…); default: SQLite in the data directory.
    #[arg(long, global = true, env = "TIPLINE_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file (TOML); default: <data>/tipline.toml when present.
    #[arg(long, global = true, env = "TIPLINE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server (API) with the writer and the indexer.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "TIPLINE_BIND")]
        bind: Option<String>,
    },
    /// Import reports from JSONL files (one envelope a line), `.eml` files or Maildir folders.
    Import {
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Export every report with its case and decisions.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: cli::export::Format,
        /// Include reporter identity (confidential).
        #[arg(long)]
        with_identity: bool,
    },
    /// Write synthetic reports (JSONL) for benchmarks and demos.
    Generate {
        /// How many reports.
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Random seed (the same seed gives the same reports).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of reports that repeat an earlier matter (0–1).
        #[arg(long, default_value_t = 0.1)]
        duplicate_share: f64,
    },
    /// Search the case history (full text, filters).
    Search {
        /// The words or phrases to find (may be empty with filters).
        #[arg(default_value = "")]
        query: String,
        #[command(flatten)]
        filters: cli::search::Filters,
        /// Most hits to print.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: cli::search::Format,
    },
    /// Measure the decisions against a labelled file (locus, handling, kind, categories, referrals,
    /// duplicates), in a scratch database.
    Eval {
        /// A labelled JSONL file (lines with `expect`).
        file: PathBuf,
        /// How many disagreements to print.
        #[arg(long, default_value_t = 20)]
        show: usize,
    },
    /// List the audit log (identity reveals, exports, searches), newest first, as JSON lines.
    Audit {
        /// How many entries.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Rebuild the search index from the database.
    Reindex,
    /// Reporter-identity keys: `status`, `rotate`, `generate`.
    Keys {
        #[command(subcommand)]
        command: cli::keys::KeysCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: cli::users::UserCommand,
    },
    /// Conflicts of interest: which users are excluded from which cases.
    Exclusions {
        #[command(subcommand)]
        command: cli::users::ExclusionCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: cli::users::TokenCommand,
    },
    /// Outgoing mail: deliver (`send`), inspect (`list`).
    Outbox {
        #[command(subcommand)]
        command: cli::outbox::OutboxCommand,
    },
    /// The monthly progress tables (渝考发 附件2–4): write one (`monthly`), mail them (`auto`).
    Report {
        #[command(subcommand)]
        command: cli::report::ReportCommand,
    },
    /// Take reports from the configured IMAP mailboxes; show stored attachments and rejected mail.
    Mail {
        #[command(subcommand)]
        command: cli::mail::MailCommand,
    },
    /// Deadline reminders and escalations (also run inside `serve` on a timer).
    Deadlines {
        #[command(subcommand)]
        command: cli::deadlines::DeadlinesCommand,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIPLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let mut config = config::Config::load(&cli.data, cli.config.as_deref())?;
    if let Some(url) = cli.database_url.filter(|u| !u.is_empty()) {
        config.database_url = Some(url);
    }
    match cli.command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            cli::serve::run(config).await.map(|_| 0)
        }
        Command::Import { files } => cli::import::run(config, &files).await,
        Command::Export {
            format,
            with_identity,
        } => cli::export::run(config, format, with_identity)
            .await
            .map(|_| 0),
        Command::Generate {
            count,
            seed,
            duplicate_share,
        } => cli::generate::run(count, seed, duplicate_share).map(|_| 0),
        Command::Search {
            query,
            filters,
            limit,
            format,
        } => cli::search::run(config, &query, &filters, limit, format).await,
        Command::Eval { file, show } => cli::eval::run(config, &file, show).await,
        Command::Audit { limit } => {
            std::fs::create_dir_all(&config.data_dir)?;
            let store = store::Store::open(&config).await?;
            for entry in store.audit_list(limit).await? {
                println!("{entry}");
            }
            Ok(0)
        }
        Command::Reindex => cli::search::reindex(config).await.map(|_| 0),
        Command::Keys { command } => cli::keys::run(config, command).await,
        Command::User { command } => cli::users::user(config, command).await.map(|_| 0),
        Command::Exclusions { command } => cli::users::exclusions(config, command).await.map(|_| 0),
        Command::Token { command } => cli::users::token(config, command).await.map(|_| 0),
        Command::Outbox { command } => cli::outbox::run(config, command).await,
        Command::Mail { command } => cli::mail::run(config, command).await,
        Command::Report { command } => cli::report::run(config, command).await,
        Command::Deadlines { command } => cli::deadlines::run(config, command).await,
    }
}
