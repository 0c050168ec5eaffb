//! `.eml` files and Maildir folders for `tipline import` (the way an office migrates old mail).
//!
//! A path is mail when it ends in `.eml`, or is a directory: a Maildir (`cur/` and `new/`), or a
//! folder of `.eml` files. Mails are parsed in parallel and handed to the writer in file-name
//! order (Maildir names begin with the delivery time). Poison mail is kept in `rejected_mail`
//! (mailbox `import`) and reported; it never stops the import.

use super::{prepare_raw, store_rejected, MailOutcome};
use crate::app::App;
use crate::ingest::{Outcome, Pending};
use futures::StreamExt;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What an import of mail did.
#[derive(Debug, Default)]
pub struct MailImport {
    /// Reports stored.
    pub new: u64,
    /// Stored before (same Message-ID).
    pub resent: u64,
    /// The same message under another id.
    pub same_message: u64,
    /// Poison mails: (file, reason).
    pub rejected: Vec<(String, String)>,
    /// Not stored.
    pub failed: u64,
}

/// True when `tipline import` should read this path as mail.
pub fn is_mail_path(path: &Path) -> bool {
    path.is_dir()
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("eml"))
}

/// The mail files under a path, in order.
pub fn mail_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let maildir = path.join("cur").is_dir() || path.join("new").is_dir();
    let dirs: Vec<PathBuf> = if maildir {
        vec![path.join("cur"), path.join("new")]
    } else {
        vec![path.to_path_buf()]
    };
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let p = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !p.is_file() || name.starts_with('.') {
                continue;
            }
            let is_eml = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
            if maildir || is_eml {
                files.push(p);
            }
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Imports the mails under a path.
pub async fn import(app: &Arc<App>, path: &Path) -> anyhow::Result<MailImport> {
    let files = mail_files(path)?;
    let mut result = MailImport::default();
    let app2 = app.clone();
    let mut prepared = futures::stream::iter(files)
        .map(move |file| {
            let app = app2.clone();
            tokio::task::spawn_blocking(move || {
                let name = file.display().to_string();
                match std::fs::read(&file) {
                    Err(e) => (name, Err(MailOutcome::Failed(e.into())), Vec::new()),
                    Ok(raw) => {
                        let r = prepare_raw(&app, &raw);
                        (name, r, raw)
                    }
                }
            })
        })
        .buffered(64);
    let mut pending: VecDeque<Pending> = VecDeque::new();
    while let Some(joined) = prepared.next().await {
        let (name, r, raw) = joined?;
        match r {
            Ok(submission) => {
                pending.push_back(app.ingest.enqueue(submission).await?);
                while pending.len() > 1024 {
                    settle(app, pending.pop_front().expect("non-empty"), &mut result).await;
                }
            }
            Err(MailOutcome::Rejected { message_id, reason }) => {
                store_rejected(
                    &app.store,
                    "import",
                    None,
                    message_id.as_deref(),
                    &reason,
                    &raw,
                )
                .await?;
                result.rejected.push((name, reason));
            }
            Err(MailOutcome::Failed(e)) => {
                result.rejected.push((name, format!("无法读取：{e}")));
            }
        }
    }
    while let Some(p) = pending.pop_front() {
        settle(app, p, &mut result).await;
    }
    Ok(result)
}

async fn settle(app: &App, pending: Pending, result: &mut MailImport) {
    match app.count(pending.wait().await) {
        Ok(ack) => match ack.outcome {
            Outcome::New => result.new += 1,
            Outcome::Resent => result.resent += 1,
            Outcome::SameMessage => result.same_message += 1,
        },
        Err(_) => result.failed += 1,
    }
}
