//! `tipline import FILE...`: bulk intake of JSONL envelopes, of the 12345 platform's order exports
//! (`.xlsx`/`.xls`/`.csv`, see `super::order_files`), and of mail (`.eml` files and Maildir
//! folders, see `crate::mail::maildir`).
//!
//! Lines are parsed and analysed in parallel, handed to the writer in file order (so that the
//! duplicate stage sees them as they happened), and committed in batches. A bad line is reported
//! with its number and reason and never stops the batch.

use crate::app::App;
use crate::config::Config;
use crate::ingest::{Outcome, Pending};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use intake::EnvelopeWire;
use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

/// Exit code when some lines (or rows) were rejected.
pub const EXIT_SOME_REJECTED: u8 = 3;

#[derive(Default)]
struct Summary {
    new: u64,
    resent: u64,
    same_message: u64,
    rejected: Vec<(String, usize, String)>,
    failed: u64,
    /// Said once per file (ignored columns of a spreadsheet).
    notes: Vec<String>,
}

enum Prepared {
    Ready(Box<crate::ingest::Submission>),
    Rejected(String),
}

/// Imports the files; returns the exit code.
pub async fn run(config: Config, files: &[PathBuf]) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    let app = App::open(config).await?;
    let opened = started.elapsed();
    // The search index follows the writes on the other core instead of catching up after them,
    // committing seldom: every index commit is a segment to build and merge later, and nobody
    // searches an import in progress.
    let stop_indexing = Arc::new(tokio::sync::Notify::new());
    let indexing = tokio::spawn(app.indexer.clone().follow(
        app.ingest.committed.clone(),
        crate::indexer::FollowPace {
            debounce: std::time::Duration::from_millis(500),
            commit_after: std::time::Duration::from_secs(30),
        },
        stop_indexing.clone(),
    ));
    let mut summary = Summary::default();
    for file in files {
        if crate::mail::maildir::is_mail_path(file) {
            let mail = crate::mail::maildir::import(&app, file).await?;
            summary.new += mail.new;
            summary.resent += mail.resent;
            summary.same_message += mail.same_message;
            summary.failed += mail.failed;
            for (name, reason) in mail.rejected {
                summary.rejected.push((name, 1, reason));
            }
            continue;
        }
        if super::order_files::is_order_file(file) {
            import_orders(&app, file, &mut summary).await?;
            continue;
        }
        import_file(&app, file, &mut summary).await?;
    }
    let stored = started.elapsed();
    stop_indexing.notify_one();
    indexing.await?;
    let indexed = app.indexer.catch_up().await?;
    let done = started.elapsed();
    tracing::debug!(
        open_ms = opened.as_millis() as u64,
        store_ms = (stored - opened).as_millis() as u64,
        index_ms = (done - stored).as_millis() as u64,
        "import timing"
    );
    println!(
        "imported: {} new, {} re-sent, {} same message, {} rejected{}",
        summary.new,
        summary.resent,
        summary.same_message,
        summary.rejected.len(),
        if summary.failed > 0 {
            format!(", {} NOT STORED", summary.failed)
        } else {
            String::new()
        }
    );
    tracing::debug!(indexed, "search index caught up");
    for note in &summary.notes {
        println!("{note}");
    }
    for (file, line, reason) in &summary.rejected {
        println!("rejected {file}:{line}: {reason}");
    }
    if summary.failed > 0 {
        return Ok(1);
    }
    Ok(if summary.rejected.is_empty() {
        0
    } else {
        EXIT_SOME_REJECTED
    })
}

/// Imports one file into an open application without printing a summary (for `tipline eval`).
pub async fn import_quietly(app: &Arc<App>, path: &std::path::Path) -> anyhow::Result<()> {
    let mut summary = Summary::default();
    import_file(app, &path.to_path_buf(), &mut summary).await?;
    anyhow::ensure!(
        summary.failed == 0,
        "{} reports were not stored",
        summary.failed
    );
    Ok(())
}

async fn import_file(app: &Arc<App>, path: &PathBuf, summary: &mut Summary) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot open {name}: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = ProgressBar::new(size);
    progress.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    progress.set_message(name.clone());
    let reader = std::io::BufReader::new(file);
    let lines = reader.lines().enumerate();
    let app_for_prepare = app.clone();
    let mut prepared = prepare_in_chunks(lines, move |(index, line)| {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                return (
                    index + 1,
                    0,
                    Some(Prepared::Rejected(format!("unreadable line: {e}"))),
                )
            }
        };
        let bytes = line.len() as u64 + 1;
        if line.trim().is_empty() {
            return (index + 1, bytes, None);
        }
        let result = match serde_json::from_str::<EnvelopeWire>(&line) {
            Err(e) => Prepared::Rejected(format!("not a JSON envelope: {e}")),
            Ok(wire) => match app_for_prepare.prepare(wire, &[], "application/json", line) {
                Ok(s) => Prepared::Ready(Box::new(s)),
                Err(e) => Prepared::Rejected(e.to_string()),
            },
        };
        (index + 1, bytes, Some(result))
    });
    store_all(app, &name, &mut prepared, &progress, summary).await?;
    progress.finish_and_clear();
    Ok(())
}

/// An item's number (line or row), its progress units, and what preparing it gave.
type PreparedItem = (usize, u64, Option<Prepared>);

/// Lines per blocking task: large enough that scheduling a task costs nothing next to its work.
const PREPARE_CHUNK: usize = 128;

/// Prepares items on a few blocking tasks, a chunk at a time, and yields them in input order.
///
/// As many chunks are in flight as there are cores, plus one so that a core never waits for the
/// next chunk: a blocking task per item would start hundreds of threads, each with its own
/// allocator heap (an import's memory tripled and the cores spent their time switching threads).
fn prepare_in_chunks<T, I, F>(
    items: I,
    prepare: F,
) -> impl futures::Stream<Item = Result<PreparedItem, tokio::task::JoinError>> + Unpin
where
    T: Send + 'static,
    I: Iterator<Item = T>,
    F: Fn(T) -> PreparedItem + Send + Sync + 'static,
{
    let prepare = Arc::new(prepare);
    let in_flight = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    let mut items = items.peekable();
    let chunks = std::iter::from_fn(move || {
        items.peek()?;
        Some(items.by_ref().take(PREPARE_CHUNK).collect::<Vec<T>>())
    });
    futures::stream::iter(chunks)
        .map(move |chunk| {
            let prepare = prepare.clone();
            tokio::task::spawn_blocking(move || {
                chunk.into_iter().map(|item| prepare(item)).collect()
            })
        })
        .buffered(in_flight)
        .flat_map(|done: Result<Vec<PreparedItem>, _>| {
            futures::stream::iter(match done {
                Ok(items) => items.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        })
}

/// Hands prepared items to the writer in order (row or line number, progress units, the item) and
/// counts the outcomes; a rejected item is recorded with its number and never stops the rest.
async fn store_all<S>(
    app: &Arc<App>,
    name: &str,
    prepared: &mut S,
    progress: &ProgressBar,
    summary: &mut Summary,
) -> anyhow::Result<()>
where
    S: futures::Stream<Item = Result<PreparedItem, tokio::task::JoinError>> + Unpin,
{
    let mut pending: VecDeque<Pending> = VecDeque::new();
    while let Some(joined) = prepared.next().await {
        let (line_no, units, result) = joined?;
        progress.inc(units);
        match result {
            None => {}
            Some(Prepared::Rejected(reason)) => {
                summary.rejected.push((name.to_string(), line_no, reason))
            }
            Some(Prepared::Ready(submission)) => {
                pending.push_back(app.ingest.enqueue(*submission).await?);
                while pending.len() > 4096 {
                    settle(app, pending.pop_front().expect("non-empty"), summary).await;
                }
            }
        }
    }
    while let Some(p) = pending.pop_front() {
        settle(app, p, summary).await;
    }
    Ok(())
}

/// Imports a 12345 platform export (Excel or CSV): each row as the work order it describes,
/// through the same conversion as `POST /api/v1/channels/12345/orders`.
async fn import_orders(
    app: &Arc<App>,
    path: &std::path::Path,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let name = path.display().to_string();
    // A file that cannot be opened stops the import, as for JSONL; one that is no order export
    // is a rejection of that file.
    std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot open {name}: {e}"))?;
    let table = {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || super::order_files::read(&path)).await?
    };
    let table = match table {
        Ok(t) => t,
        Err(e) => {
            summary.rejected.push((name, 1, e.to_string()));
            return Ok(());
        }
    };
    if !table.ignored.is_empty() {
        summary.notes.push(format!(
            "{name}: ignored columns (未识别的列，已忽略): {}",
            table.ignored.join(", ")
        ));
    }
    let progress = ProgressBar::new(table.rows.len() as u64);
    let app_for_prepare = app.clone();
    let mut prepared = prepare_in_chunks(table.rows.into_iter(), move |row| {
        let result = match row.order {
            Err(reason) => Prepared::Rejected(reason),
            Ok(order) => {
                match app_for_prepare.prepare(order.into(), &[], "application/json", row.raw) {
                    Ok(s) => Prepared::Ready(Box::new(s)),
                    Err(e) => Prepared::Rejected(e.to_string()),
                }
            }
        };
        (row.number, 1, Some(result))
    });
    store_all(app, &name, &mut prepared, &progress, summary).await?;
    progress.finish_and_clear();
    Ok(())
}

async fn settle(app: &App, pending: Pending, summary: &mut Summary) {
    match app.count(pending.wait().await) {
        Ok(ack) => match ack.outcome {
            Outcome::New => summary.new += 1,
            Outcome::Resent => summary.resent += 1,
            Outcome::SameMessage => summary.same_message += 1,
        },
        Err(_) => summary.failed += 1,
    }
}
