//! The search projection: keeps the tantivy index in step with the database by tailing the
//! event log. The index records the last applied event sequence in its commit, so after a restart
//! or a crash it resumes from there; `tipline reindex` rebuilds it from scratch. The index is
//! never the only copy of anything.

use crate::store::{ExportRow, Store};
use search::{SearchDoc, SearchError, SearchIndex};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Events read per step of a catch-up.
const EVENTS_PER_STEP: i64 = 20_000;

/// Keeps the search index in step with the database.
pub struct Indexer {
    store: Arc<Store>,
    index: Arc<SearchIndex>,
    writable: bool,
    /// One catch-up at a time.
    busy: tokio::sync::Mutex<()>,
}

impl Indexer {
    /// Opens (or creates) the index. When another process holds the writer (a running server),
    /// opens it read-only: searches work, catching up is that process's job.
    pub fn open(dir: &Path, store: Arc<Store>) -> anyhow::Result<Indexer> {
        let (index, writable) = match SearchIndex::open(dir) {
            Ok(index) => (index, true),
            Err(SearchError::IncompatibleSchema { .. }) => {
                tracing::warn!("search index has an older schema: rebuilding it");
                std::fs::remove_dir_all(dir)?;
                (SearchIndex::open(dir)?, true)
            }
            Err(SearchError::Index(e)) if e.to_string().contains("ock") => {
                (SearchIndex::open_read_only(dir)?, false)
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Indexer {
            store,
            index: Arc::new(index),
            writable,
            busy: tokio::sync::Mutex::new(()),
        })
    }

    /// The index, for searching.
    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    /// Applies every event not yet in the index; returns how many reports were (re)indexed.
    pub async fn catch_up(&self) -> anyhow::Result<u64> {
        if !self.writable {
            return Ok(0);
        }
        let _guard = self.busy.lock().await;
        let mut applied = self.index.applied_seq()?.unwrap_or(0);
        let mut indexed = 0;
        loop {
            let events = self
                .store
                .event_marks_after(applied, EVENTS_PER_STEP)
                .await?;
            let Some(last) = events.last() else { break };
            let last_seq = last.seq;
            let mut report_ids: BTreeSet<i64> = events.iter().filter_map(|e| e.report_id).collect();
            // A change to a case (state, merge) touches every report of the case.
            for case_id in events
                .iter()
                .filter(|e| e.report_id.is_none())
                // Deadline notices change nothing the index holds.
                .filter(|e| !matches!(e.kind.as_str(), "case.reminded" | "case.escalated"))
                .filter_map(|e| e.case_id)
            {
                report_ids.extend(self.store.case_reports(case_id).await?.iter().map(|r| r.id));
            }
            let ids: Vec<i64> = report_ids.into_iter().collect();
            let rows = self.store.export_ids(&ids).await?;
            indexed += rows.len() as u64;
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
                index.upsert(rows.iter().map(search_doc))?;
                index.commit(last_seq)
            })
            .await??;
            applied = last_seq;
        }
        Ok(indexed)
    }

    /// Catches up now and again after every commit the writer announces, until `stop` is
    /// notified (then returns after a last catch-up). After a wake-up it waits `debounce` so that
    /// a burst of writer commits becomes one index commit: the index's commit (fsync, merge) costs
    /// far more than one batch of the writer. Without a wake-up it looks every few seconds, for
    /// other nodes' writes.
    pub async fn follow(
        self: Arc<Self>,
        committed: Arc<tokio::sync::Notify>,
        debounce: std::time::Duration,
        stop: Arc<tokio::sync::Notify>,
    ) {
        loop {
            if let Err(e) = self.catch_up().await {
                tracing::error!(error = %format!("{e:#}"), "search indexing failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            tokio::select! {
                _ = stop.notified() => return,
                woken = tokio::time::timeout(std::time::Duration::from_secs(5), committed.notified()) => {
                    if woken.is_ok() {
                        tokio::time::sleep(debounce).await;
                    }
                }
            }
        }
    }

    /// Rebuilds the index from the database, reporting progress as (done, total).
    pub async fn rebuild(&self, mut progress: impl FnMut(u64, u64)) -> anyhow::Result<u64> {
        anyhow::ensure!(
            self.writable,
            "the search index is in use by another process (stop tipline serve first)"
        );
        let _guard = self.busy.lock().await;
        let total = self.store.report_count().await? as u64;
        let last_seq = self.store.last_event_seq().await?;
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.clear()).await??;
        let mut after = 0;
        let mut done = 0;
        loop {
            let page = self.store.export_page(after, 5_000, false).await?;
            let Some(last) = page.last() else { break };
            after = last.report.id;
            done += page.len() as u64;
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.upsert(page.iter().map(search_doc)))
                .await??;
            progress(done, total);
        }
        let index = self.index.clone();
        // One segment after a bulk rebuild: queries touch one term dictionary per field.
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            index.commit(last_seq)?;
            index.optimize().map(|_| ())
        })
        .await??;
        Ok(done)
    }
}

/// The search document of a stored report: its text and decisions, never its reporter.
pub fn search_doc(row: &ExportRow) -> SearchDoc {
    let r = &row.report;
    let d = &r.decisions;
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .or_else(|| x["code"].as_str().map(str::to_string))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let text_of = |v: &serde_json::Value| v.as_str().map(str::to_string);
    SearchDoc {
        report_id: r.id,
        case_id: r.case_id,
        case_no: row.case_no.clone(),
        external_id: r.external_id.clone(),
        channel: r.channel.clone(),
        title: r.title.clone(),
        text: r.text.clone(),
        subject_name: text_of(&d["extraction"]["subject_name"]),
        subject_key: text_of(&d["dedup"]["subject_key"]),
        subject_kind: text_of(&d["extraction"]["subject_kind"]).unwrap_or_else(|| "other".into()),
        categories: strings(&d["extraction"]["categories"]),
        locus: text_of(&d["locus"]["code"]),
        place_names: d["locus"]["name"]
            .as_str()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        handling: d["routing"]["handling"]
            .as_str()
            .unwrap_or("home")
            .to_string(),
        referrals: strings(&d["routing"]["referrals"]),
        case_state: row.case_state.clone(),
        received_at: chrono::DateTime::parse_from_rfc3339(&r.received_at)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default(),
    }
}
