//! `tipline outbox …`: the mail sender and the 12345 pusher on their own, and the list of rows not
//! yet delivered (dead letters included: `failed`).

use crate::config::Config;
use crate::outbox::{platform, queue, MailKind, Sender};
use crate::store::Store;
use clap::Subcommand;
use std::sync::Arc;

/// Outbox commands.
#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// Deliver due mail (`[smtp]`) and 12345 replies (`[platform_12345]`), until stopped or once
    /// with --once.
    Send {
        /// Deliver what is due now and exit (exit code 4 when some mail is still pending or failed).
        #[arg(long)]
        once: bool,
        /// Make pending mail due now instead of waiting out its backoff.
        #[arg(long)]
        now: bool,
        /// Also retry mail that was given up (failed).
        #[arg(long)]
        retry_failed: bool,
    },
    /// List outbox rows not yet delivered (pending, sending, failed = dead letter), without
    /// recipients or contents.
    List {
        /// Include delivered mail.
        #[arg(long)]
        all: bool,
        /// Most rows to print.
        #[arg(long, default_value_t = 200)]
        limit: i64,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs an outbox command; returns the exit code.
pub async fn run(config: Config, command: OutboxCommand) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Arc::new(Store::open(&config).await?);
    match command {
        OutboxCommand::Send {
            once,
            now,
            retry_failed,
        } => {
            let sender = match config.smtp.clone() {
                Some(smtp) => Some(Sender::new(store.clone(), smtp)?),
                None => None,
            };
            let pusher = match config.platform_12345.clone() {
                Some(p) => Some(platform::Pusher::new(store.clone(), p)?),
                None => None,
            };
            let mut kinds: Vec<&str> = Vec::new();
            if sender.is_some() {
                kinds.extend(MailKind::ALL.iter().map(|k| k.code()));
            }
            if pusher.is_some() {
                kinds.push(platform::KIND);
            }
            if kinds.is_empty() {
                anyhow::bail!(
                    "neither [smtp] nor [platform_12345] in the configuration: nothing can be sent"
                );
            }
            if now || retry_failed {
                let n = queue::make_due(&store, &kinds, retry_failed).await?;
                eprintln!("{n} row(s) made due now");
            }
            if once {
                let mut round = queue::Round::default();
                if let Some(sender) = &sender {
                    round.add(sender.send_due().await?);
                }
                if let Some(pusher) = &pusher {
                    round.add(pusher.push_due().await?);
                }
                let (pending, failed, _) = queue::counts(&store, &kinds).await?;
                println!(
                    "sent {}, to retry {}, given up {}; pending {pending}, failed {failed}",
                    round.sent, round.retry, round.failed
                );
                return Ok(if pending > 0 || failed > 0 { 4 } else { 0 });
            }
            let mail = async move {
                match sender {
                    Some(s) => s.run().await,
                    None => std::future::pending().await,
                }
            };
            let pushes = async move {
                match pusher {
                    Some(p) => p.run().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = mail => {}
                _ = pushes => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(0)
        }
        OutboxCommand::List { all, limit, json } => {
            let rows = queue::list(&store, all, limit).await?;
            if json {
                for r in &rows {
                    println!("{}", serde_json::to_string(r)?);
                }
            } else {
                println!(
                    "{:>6}  {:<16} {:<8} {:>8}  {:<24}  {:<24}  last error",
                    "id", "kind", "state", "attempts", "next attempt", "key"
                );
                for r in &rows {
                    println!(
                        "{:>6}  {:<16} {:<8} {:>8}  {:<24}  {:<24}  {}",
                        r.id,
                        r.kind,
                        r.state,
                        r.attempts,
                        r.next_attempt_at,
                        r.dedup_key.as_deref().unwrap_or(""),
                        r.last_error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(0)
        }
    }
}
