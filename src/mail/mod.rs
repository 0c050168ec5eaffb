//! Mail in: raw mails (from IMAP, `.eml` files, Maildir folders) into reports.
//!
//! [`parse`] turns bytes into an envelope and attachments; [`prepare_raw`] makes the submission
//! that the writer stores with its attachments and the raw mail in one transaction (see
//! `Store::commit_batch`); [`imap`] polls mailboxes and marks a mail
//! done only after its report is committed; [`maildir`] reads folders for `tipline import`.
//! A mail that cannot become a report (poison) is kept in `rejected_mail` with its reason.

pub mod imap;
pub mod maildir;
pub mod parse;

pub use parse::parse_mail;

use crate::app::App;
use crate::store::{Attachment, Store};
use serde::Deserialize;
use std::path::PathBuf;

/// One mailbox to poll (`[[mailboxes]]` in the configuration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// A short name, for logs and for `rejected_mail.mailbox`.
    pub name: String,
    /// IMAP server host.
    pub host: String,
    /// Port (993 with TLS, 143 without).
    #[serde(default)]
    pub port: Option<u16>,
    /// Implicit TLS (IMAPS). Plain text is for localhost and tests.
    #[serde(default = "yes")]
    pub tls: bool,
    /// Login.
    pub user: String,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password (first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Folder to read.
    #[serde(default = "inbox")]
    pub folder: String,
    /// Folder to move done mail to; without one, done mail is marked `\Seen`.
    #[serde(default)]
    pub done_folder: Option<String>,
    /// Folder for poison mail (created when missing).
    #[serde(default = "rejected_folder")]
    pub rejected_folder: String,
    /// Seconds between polls when the server has no IDLE (and the longest IDLE wait).
    #[serde(default = "poll_seconds")]
    pub poll_seconds: u64,
}

fn yes() -> bool {
    true
}
fn inbox() -> String {
    "INBOX".into()
}
fn rejected_folder() -> String {
    "Rejected".into()
}
fn poll_seconds() -> u64 {
    60
}

impl MailboxConfig {
    /// The port in force.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.tls { 993 } else { 143 })
    }

    /// The password, from the environment or a file.
    pub fn password(&self) -> anyhow::Result<String> {
        if let Some(var) = &self.password_env {
            return std::env::var(var).map_err(|_| {
                anyhow::anyhow!(
                    "mailbox {}: environment variable {var} is not set",
                    self.name
                )
            });
        }
        if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!(
                    "mailbox {}: cannot read password file {}: {e}",
                    self.name,
                    file.display()
                )
            })?;
            return Ok(text.lines().next().unwrap_or("").to_string());
        }
        anyhow::bail!("mailbox {}: give password_env or password_file", self.name)
    }
}

/// What became of one raw mail.
#[derive(Debug)]
pub enum MailOutcome {
    /// Poison: it can never become a report. The reason is for `rejected_mail`.
    Rejected {
        /// The Message-ID if it was found.
        message_id: Option<String>,
        /// Why.
        reason: String,
    },
    /// Not stored now; try again later (the mail stays where it is).
    Failed(anyhow::Error),
}

/// Parses and analyses one raw mail (any thread): a submission carrying the raw bytes and the
/// attachments, to hand to the writer; or why not.
pub fn prepare_raw(app: &App, raw: &[u8]) -> Result<crate::ingest::Submission, MailOutcome> {
    let parsed = parse_mail(raw).map_err(|e| MailOutcome::Rejected {
        message_id: None,
        reason: e.reason(),
    })?;
    let message_id = parsed.external_id.clone();
    let mut submission = app
        .prepare(parsed.wire, &[], "message/rfc822", String::new())
        .map_err(|e| MailOutcome::Rejected {
            message_id: Some(message_id.clone()),
            reason: format!("邮件内容不符合受理要求：{}", e.message_zh()),
        })?;
    submission.raw_bytes = Some(raw.to_vec());
    submission.attachments = parsed
        .attachments
        .into_iter()
        .map(Attachment::from)
        .collect();
    tracing::debug!(mail = %parsed.log_id, "mail parsed");
    Ok(submission)
}

impl From<parse::MailAttachment> for Attachment {
    fn from(a: parse::MailAttachment) -> Attachment {
        Attachment {
            file_name: a.file_name,
            content_type: a.content_type,
            size: i64::try_from(a.size).unwrap_or(i64::MAX),
            sha256: a.sha256,
            data: a.data,
            rejected: a.rejected,
        }
    }
}

/// Keeps a poison mail with its reason (once per mailbox and content).
pub async fn store_rejected(
    store: &Store,
    mailbox: &str,
    uid: Option<u32>,
    message_id: Option<&str>,
    reason: &str,
    raw: &[u8],
) -> anyhow::Result<()> {
    // The mail names its sender (identity): it is kept sealed, bound to its mailbox and hash.
    let sha256 = parse::sha256_hex(raw);
    let sealer = store.identity().sealer();
    let sealed = sealer.seal(
        crate::identity::Column::RejectedRaw,
        &crate::store::rejected_row_key(mailbox, &sha256),
        raw,
    );
    sqlx::query(
        "INSERT INTO rejected_mail (mailbox, uid, message_id, sha256, reason, raw, received_at, key_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (mailbox, sha256) DO NOTHING",
    )
    .bind(mailbox.to_string())
    .bind(uid.map(i64::from))
    .bind(message_id.map(str::to_string))
    .bind(sha256)
    .bind(reason.to_string())
    .bind(sealed)
    .bind(crate::store::now_text())
    .bind(i64::from(sealer.id()))
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Attachments and rejected mail, for `tipline mail status` (JSON; no identity, no bytes).
pub async fn status(store: &Store) -> anyhow::Result<serde_json::Value> {
    use sqlx::Row;
    let attachments = sqlx::query(
        "SELECT a.report_id, r.external_id, a.file_name, a.content_type, a.size, a.sha256, \
         a.rejected, CASE WHEN a.data IS NULL THEN 0 ELSE 1 END AS stored \
         FROM attachments a JOIN reports r ON r.id = a.report_id ORDER BY a.id",
    )
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| {
        serde_json::json!({
            "report_id": row.try_get::<i64, _>("report_id").unwrap_or_default(),
            "external_id": row.try_get::<String, _>("external_id").unwrap_or_default(),
            "file_name": row.try_get::<String, _>("file_name").unwrap_or_default(),
            "content_type": row.try_get::<String, _>("content_type").unwrap_or_default(),
            "size": row.try_get::<i64, _>("size").unwrap_or_default(),
            "sha256": row.try_get::<String, _>("sha256").unwrap_or_default(),
            "rejected": crate::store::opt_text(row, "rejected"),
            "stored": row.try_get::<i64, _>("stored").unwrap_or_default() == 1,
        })
    })
    .collect::<Vec<_>>();
    let rejected = sqlx::query(
        "SELECT id, mailbox, uid, message_id, sha256, reason, received_at FROM rejected_mail \
         ORDER BY id",
    )
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| {
        serde_json::json!({
            "id": row.try_get::<i64, _>("id").unwrap_or_default(),
            "mailbox": row.try_get::<String, _>("mailbox").unwrap_or_default(),
            "uid": row.try_get::<Option<i64>, _>("uid").ok().flatten(),
            "message_id": crate::store::opt_text(row, "message_id"),
            "sha256": row.try_get::<String, _>("sha256").unwrap_or_default(),
            "reason": row.try_get::<String, _>("reason").unwrap_or_default(),
            "received_at": row.try_get::<String, _>("received_at").unwrap_or_default(),
        })
    })
    .collect::<Vec<_>>();
    let raw_mails: i64 =
        sqlx::query("SELECT COUNT(*) FROM report_raw WHERE payload_bytes IS NOT NULL")
            .fetch_one(store.pool())
            .await?
            .try_get(0)?;
    Ok(serde_json::json!({
        "raw_mails": raw_mails,
        "attachments": attachments,
        "rejected": rejected,
    }))
}
