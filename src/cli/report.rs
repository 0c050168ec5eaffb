//! `tipline report …`: the monthly progress tables (渝考发 附件2–4) as a file, and the monthly
//! run that mails them (what the timer in `serve` does), for operators and for a missed month.

use crate::config::Config;
use crate::stats::{auto, monthly, Month};
use crate::store::Store;
use clap::Subcommand;
use std::path::PathBuf;

/// Report commands.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Write a jurisdiction's monthly tables (XLSX, three sheets).
    Monthly {
        /// The month, e.g. 2024-05.
        #[arg(long)]
        month: String,
        /// The jurisdiction's division code, e.g. 500000.
        #[arg(long)]
        jurisdiction: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Make and queue the previous month's tables for every jurisdiction with leaders, as the
    /// timer in `serve` does on the 1st–5th (once per month × jurisdiction).
    Auto {
        /// Act as if it were this time (RFC 3339) instead of now.
        #[arg(long)]
        now: Option<String>,
    },
}

/// Runs a report command; returns the exit code.
pub async fn run(config: Config, command: ReportCommand) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::open(&config).await?;
    let home = config.triage.home.clone();
    match command {
        ReportCommand::Monthly {
            month,
            jurisdiction,
            out,
        } => {
            let month = Month::parse(&month).map_err(|e| anyhow::anyhow!("--month: {e}"))?;
            let code = jurisdiction.trim();
            if triage::Gazetteer::get().lookup(code).is_none() || code.len() != 6 {
                anyhow::bail!("--jurisdiction: {code:?} is not a known 6-digit division code");
            }
            let today = chrono::Utc::now()
                .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
                .date_naive();
            let tables = monthly::build(&store, code, home.as_deref(), month, today)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let bytes = tables.to_xlsx()?;
            std::fs::write(&out, bytes)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            let rows: Vec<String> = tables
                .sheets
                .iter()
                .map(|s| format!("{} {}", s.kind.attachment(), s.rows.len()))
                .collect();
            eprintln!("{}: {} rows", out.display(), rows.join(", "));
            Ok(0)
        }
        ReportCommand::Auto { now } => {
            if config.smtp.is_none() {
                anyhow::bail!(
                    "no [smtp] section in the configuration: the tables cannot be mailed"
                );
            }
            let settings = auto::AutoConfig {
                now: now.or(config.monthly_reports.now.clone()),
                ..config.monthly_reports.clone()
            };
            let made = auto::run_due(&store, home.as_deref(), auto::now(&settings)?).await?;
            for (month, jurisdiction, mails) in &made {
                println!("{month} {jurisdiction}: {mails} mail(s) queued");
            }
            if made.is_empty() {
                println!("nothing to do");
            }
            Ok(0)
        }
    }
}
