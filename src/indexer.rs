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

/// How [`Indexer::follow`] keeps up with the writer.
#[derive(Debug, Clone, Copy)]
pub struct FollowPace {
    /// Wait after a writer's commit, so that a burst of commits is read in one go.
    pub debounce: std::time::Duration,
    /// Commit the index only once its oldest uncommitted write is this old.
    pub commit_after: std::time::Duration,
}

/// What one round of [`Indexer::apply_events`] did.
#[derive(Default)]
struct Applied {
    /// Reports (re)indexed.
    indexed: u64,
    /// When the writes it left uncommitted are to be committed.
    commit_due: Option<std::time::Instant>,
}

/// Keeps the search index in step with the database.
pub struct Indexer {
    store: Arc<Store>,
    index: Arc<SearchIndex>,
    writable: bool,
    /// One catch-up at a time; it holds what is applied but not yet committed.
    busy: tokio::sync::Mutex<Uncommitted>,
}

/// Writes applied to the index writer but not yet committed.
#[derive(Default)]
struct Uncommitted {
    /// The last event applied (committed or not); `None` until the first catch-up reads the
    /// index's commit.
    applied_seq: Option<i64>,
    /// Writes are applied that are not committed yet.
    pending: bool,
    /// When the index was last committed by this process.
    last_commit: Option<std::time::Instant>,
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
            busy: tokio::sync::Mutex::new(Uncommitted::default()),
        })
    }

    /// The index, for searching.
    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    /// Applies every event not yet in the index and commits; returns how many reports were
    /// (re)indexed.
    pub async fn catch_up(&self) -> anyhow::Result<u64> {
        Ok(self.apply_events(std::time::Duration::ZERO).await?.indexed)
    }

    /// Applies every event not yet applied, and commits unless the last commit is less than
    /// `commit_after` ago (then the commit is due that long after it). Each commit flushes a segment (its term dictionaries are built
    /// anew, and segments are merged later): a bulk import commits rarely, a server often.
    /// Uncommitted writes lost in a crash are applied again from the event log, since the
    /// index's commit records only the events it holds.
    async fn apply_events(&self, commit_after: std::time::Duration) -> anyhow::Result<Applied> {
        if !self.writable {
            return Ok(Applied::default());
        }
        let mut uncommitted = self.busy.lock().await;
        let mut applied = match uncommitted.applied_seq {
            Some(seq) => seq,
            None => self.index.applied_seq()?.unwrap_or(0),
        };
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
            let upserted =
                tokio::task::spawn_blocking(move || index.upsert(rows.iter().map(search_doc)))
                    .await?;
            if let Err(e) = upserted {
                // Nothing half-applied stays behind: the next catch-up starts at the last commit.
                let index = self.index.clone();
                tokio::task::spawn_blocking(move || index.rollback()).await??;
                *uncommitted = Uncommitted::default();
                return Err(e.into());
            }
            applied = last_seq;
            uncommitted.applied_seq = Some(applied);
            uncommitted.pending = true;
        }
        let due = uncommitted.last_commit.map(|last| last + commit_after);
        if uncommitted.pending && due.is_none_or(|due| due <= std::time::Instant::now()) {
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.commit(applied)).await??;
            uncommitted.pending = false;
            uncommitted.last_commit = Some(std::time::Instant::now());
        }
        Ok(Applied {
            indexed,
            commit_due: due.filter(|_| uncommitted.pending),
        })
    }

    /// Catches up now and again after every commit the writer announces, until `stop` is
    /// notified. After a wake-up it waits `pace.debounce` so that a burst of writer commits is read
    /// in one go, and it commits the index at most every `pace.commit_after`: each index commit
    /// is a segment whose term dictionaries are built and later merged again, which costs far
    /// more than one batch of the writer.
    pub async fn follow(
        self: Arc<Self>,
        committed: Arc<tokio::sync::Notify>,
        pace: FollowPace,
        stop: Arc<tokio::sync::Notify>,
    ) {
        // Without a wake-up, look this often for other nodes' writes.
        const IDLE_LOOK: std::time::Duration = std::time::Duration::from_secs(5);
        loop {
            let mut wait = IDLE_LOOK;
            match self.apply_events(pace.commit_after).await {
                Ok(applied) => {
                    if let Some(due) = applied.commit_due {
                        // Uncommitted writes are made searchable on time even if nothing follows.
                        wait = due.saturating_duration_since(std::time::Instant::now());
                    }
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "search indexing failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
            tokio::select! {
                _ = stop.notified() => return,
                woken = tokio::time::timeout(wait, committed.notified()) => {
                    if woken.is_ok() {
                        tokio::time::sleep(pace.debounce).await;
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
        let mut uncommitted = self.busy.lock().await;
        // Whatever happens below, the next catch-up starts from the index's own commit.
        *uncommitted = Uncommitted::default();
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
