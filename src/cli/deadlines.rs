//! `tipline deadlines sweep`: the deadline sweep once, for cron and tests.

use crate::config::Config;
use crate::store::Store;
use clap::Subcommand;

/// Deadline commands.
#[derive(Subcommand, Debug)]
pub enum DeadlinesCommand {
    /// Record (and enqueue mail for) the reminders and escalations due now, each once; prints
    /// what was done as JSON.
    Sweep {
        /// The time to sweep at (RFC 3339, e.g. 2026-02-10T09:00:00+08:00); default: now.
        #[arg(long, value_parser = parse_time)]
        now: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
        format!("时间应为 RFC 3339 格式，如 2026-02-10T09:00:00+08:00 / expected RFC 3339 such as 2026-02-10T09:00:00+08:00 ({e})")
    })
}

/// Runs a deadline command; returns the exit code.
pub async fn run(config: Config, command: DeadlinesCommand) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::open(&config).await?;
    crate::outbox::configure(&config);
    match command {
        DeadlinesCommand::Sweep { now } => {
            let now = now.map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
            let report = crate::deadlines::sweep(&store, &config, now).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(0)
        }
    }
}
