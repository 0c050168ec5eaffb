//! `tipline mail poll [--once]`: the IMAP pollers alone; `tipline mail status`: stored
//! attachments and rejected mail.

use crate::app::App;
use crate::config::Config;
use clap::Subcommand;

/// Mail commands.
#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Poll the configured mailboxes (IDLE where offered), storing every mail as a report.
    Poll {
        /// Take what is waiting, then exit.
        #[arg(long)]
        once: bool,
        /// Only this mailbox (by name).
        #[arg(long)]
        mailbox: Option<String>,
    },
    /// Print stored attachments and rejected mail as JSON (no identity, no content).
    Status,
}

/// Runs a mail command; returns the exit code.
pub async fn run(config: Config, command: MailCommand) -> anyhow::Result<u8> {
    match command {
        MailCommand::Poll { once, mailbox } => {
            let app = App::open(config).await?;
            let stats = crate::mail::imap::poll(app.clone(), mailbox.as_deref(), once).await?;
            let indexed = app.indexer.catch_up().await?;
            tracing::debug!(indexed, "search index caught up");
            println!(
                "mail: {} new, {} re-sent, {} same message, {} rejected{}",
                stats.new,
                stats.resent,
                stats.same_message,
                stats.rejected,
                if stats.failed > 0 {
                    format!(", {} NOT STORED", stats.failed)
                } else {
                    String::new()
                }
            );
            Ok(if stats.failed > 0 { 1 } else { 0 })
        }
        MailCommand::Status => {
            let app = App::open(config).await?;
            let status = crate::mail::status(&app.store).await?;
            println!("{}", serde_json::to_string_pretty(&status)?);
            Ok(0)
        }
    }
}
