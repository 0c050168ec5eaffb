//! The group-commit writer: the one place where reports become durable.
//!
//! Channels (HTTP handlers, the importer, the mail poller) analyse a report on their own thread,
//! then hand it to the writer and wait. The writer takes whatever has queued up (up to
//! `max_batch`), resolves re-sends, runs the duplicate stage against the history in order, and
//! stores the whole batch in one transaction. Only after the commit does anyone hear "received".

use crate::pipeline::Analysis;
use crate::store::{BatchItem, CaseLink, NewCase, Store, StoredReport, SubjectRef};
use intake::dedup::{DedupDecision, DedupIndex, DedupProbe, Featurizer, PreparedProbe};
use intake::Envelope;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, oneshot, Notify};

/// What a channel hears back.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ack {
    /// New, or the first report of a re-sent submission.
    pub outcome: Outcome,
    /// The report.
    pub report_id: i64,
    /// Its case.
    pub case_id: i64,
    /// The case number to tell the reporter.
    pub case_no: String,
}

/// Whether the submission was new.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Stored now.
    New,
    /// The same `(channel, external_id)` was stored before: that report is returned.
    Resent,
    /// The same message arrived before under another id: that report is returned.
    SameMessage,
}

/// A report on its way to the writer.
pub struct Submission {
    /// The parsed envelope.
    pub envelope: Envelope,
    /// The stages' conclusions.
    pub analysis: Analysis,
    /// Content type of the payload as received.
    pub raw_content_type: String,
    /// The payload as received.
    pub raw_payload: String,
    /// The payload as received when it is bytes (a mail); `raw_payload` is then empty.
    pub raw_bytes: Option<Vec<u8>>,
    /// Attachments, stored in the report's transaction (mail).
    pub attachments: Vec<crate::store::Attachment>,
    /// The user who logged it (an operator, a platform's token), if any.
    pub logged_by: Option<i64>,
    /// SHA-256 (hex) of the receipt code given to an anonymous reporter, if any.
    pub receipt_hash: Option<String>,
    /// What the writer needs, worked out before the report reaches it.
    pub staged: Staged,
}

/// The part of the writer's work on a report that needs no history: done on the channel's
/// thread (in parallel) so that the single writer only decides and stores.
pub struct Staged {
    /// The duplicate stage's view of the report, with its features.
    probe: PreparedProbe,
    /// The subject's record, when the report names a subject with a distinctive core.
    subject: Option<SubjectRef>,
    /// The decisions other than the duplicate one, serialized (see [`decisions_json`]).
    decisions: DecisionParts,
}

/// The analysis' decisions as JSON, each serialized once.
struct DecisionParts {
    deadlines: String,
    extraction: String,
    locus: String,
    routing: String,
}

/// Works out what the writer needs of a report (see [`Staged`]).
pub fn stage(
    envelope: &Envelope,
    analysis: &Analysis,
    keys: &crate::identity::Keyring,
    featurizer: &Featurizer,
) -> Staged {
    let probe = probe_for(envelope, analysis, keys);
    Staged {
        subject: subject_ref(analysis, &probe),
        probe: featurizer.prepare(probe),
        decisions: DecisionParts {
            deadlines: json(&analysis.deadlines),
            extraction: json(&analysis.extraction),
            locus: json(&analysis.locus),
            routing: json(&analysis.routing),
        },
    }
}

/// Plain structs with string keys: serializing them cannot fail.
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("decisions serialize")
}

/// The stored decisions of a report: `{"deadlines":…,"dedup":…,"extraction":…,"locus":…,"routing":…}`,
/// the object the parts make together (readers parse it; nested keys come in field order, and a
/// score is written as the `f32` it is, 0.65, not widened to 0.6499999761581421). Only the
/// duplicate decision is serialized by the writer.
fn decisions_json(parts: &DecisionParts, dedup: &DedupDecision) -> String {
    let dedup = json(dedup);
    let mut out = String::with_capacity(
        80 + parts.deadlines.len()
            + dedup.len()
            + parts.extraction.len()
            + parts.locus.len()
            + parts.routing.len(),
    );
    for (i, (key, value)) in [
        ("deadlines", parts.deadlines.as_str()),
        ("dedup", dedup.as_str()),
        ("extraction", parts.extraction.as_str()),
        ("locus", parts.locus.as_str()),
        ("routing", parts.routing.as_str()),
    ]
    .into_iter()
    .enumerate()
    {
        out.push_str(if i == 0 { "{\"" } else { ",\"" });
        out.push_str(key);
        out.push_str("\":");
        out.push_str(value);
    }
    out.push('}');
    out
}

struct Queued {
    submission: Submission,
    reply: oneshot::Sender<Result<Ack, String>>,
}

/// The handle channels use to store reports.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Queued>,
    dedup: Arc<RwLock<DedupIndex>>,
    featurizer: Featurizer,
    /// Woken after each commit (the search indexer listens).
    pub committed: Arc<Notify>,
}

impl Ingest {
    /// Rebuilds the duplicate index from the database and starts the writer; `home` is the
    /// deployment's home jurisdiction (whose users see the home desk, for conflicts of interest).
    pub async fn start(
        store: Arc<Store>,
        max_batch: usize,
        home: Option<String>,
    ) -> anyhow::Result<Ingest> {
        let dedup = rebuild_dedup(&store).await?;
        // Features suit any index (a rebuilt one too): one featurizer serves for good.
        let featurizer = dedup.featurizer();
        let dedup = Arc::new(RwLock::new(dedup));
        let (queue, rx) = mpsc::channel(max_batch * 4);
        let committed = Arc::new(Notify::new());
        let conflicts = Conflicts {
            version: -1,
            matcher: Default::default(),
            home,
        };
        tokio::spawn(writer(
            store,
            rx,
            dedup.clone(),
            committed.clone(),
            max_batch.max(1),
            conflicts,
        ));
        Ok(Ingest {
            queue,
            dedup,
            featurizer,
            committed,
        })
    }

    /// Stores a report and returns once it is committed (or was stored before).
    pub async fn submit(&self, submission: Submission) -> anyhow::Result<Ack> {
        self.enqueue(submission).await?.wait().await
    }

    /// Queues a report in order and returns a handle to await its commit: callers that feed many
    /// reports (the importer) keep their order while the writer batches them.
    pub async fn enqueue(&self, submission: Submission) -> anyhow::Result<Pending> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Queued { submission, reply })
            .await
            .map_err(|_| anyhow::anyhow!("the writer has stopped"))?;
        Ok(Pending(answer))
    }

    /// The duplicate index (read-only use: previews).
    pub fn dedup(&self) -> &Arc<RwLock<DedupIndex>> {
        &self.dedup
    }

    /// Computes a probe's features for the duplicate stage (see [`stage`]).
    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }
}

/// A queued report's answer, to await.
pub struct Pending(oneshot::Receiver<Result<Ack, String>>);

impl Pending {
    /// Waits for the commit.
    pub async fn wait(self) -> anyhow::Result<Ack> {
        self.0
            .await
            .map_err(|_| anyhow::anyhow!("the writer has stopped"))?
            .map_err(|e| anyhow::anyhow!(e))
    }
}

/// The duplicate stage's view of a report.
pub fn probe_for(
    envelope: &Envelope,
    analysis: &Analysis,
    keys: &crate::identity::Keyring,
) -> DedupProbe {
    DedupProbe {
        text: analysis.normalized.clone(),
        subject_name: analysis
            .extraction
            .subject_name
            .as_deref()
            .map(intake::normalize_text),
        locus: analysis.locus.code.clone(),
        categories: analysis.extraction.categories.clone(),
        reporter_key: reporter_key(
            keys,
            envelope.reporter.phone.as_deref(),
            envelope.reporter.email.as_deref(),
        ),
        received_at: envelope.received_at.with_timezone(&chrono::Utc),
        subject_kind: Some(analysis.extraction.subject_kind),
        place_names: place_names(&analysis.locus),
    }
}

/// Names of the locus at every level, full and short (辽宁省, 辽宁, 鞍山市, 鞍山, 铁东区, 铁东), so
/// that the duplicate stage can strip them from subject names.
pub(crate) fn place_names(locus: &triage::Locus) -> Vec<String> {
    let mut names = Vec::new();
    for full in locus.name.as_deref().unwrap_or("").split_whitespace() {
        names.push(full.to_string());
        for suffix in [
            "维吾尔自治区",
            "壮族自治区",
            "回族自治区",
            "自治区",
            "自治州",
            "自治县",
            "省",
            "市",
            "区",
            "县",
            "旗",
            "盟",
        ] {
            if let Some(short) = full.strip_suffix(suffix) {
                if short.chars().count() >= 2 {
                    names.push(short.to_string());
                }
                break;
            }
        }
    }
    names
}

/// The reporter's key for repeat detection: the blind index (keyed HMAC) of a real phone number,
/// else of the e-mail address — the duplicate index and the database never hold the clear value.
pub fn reporter_key(
    keys: &crate::identity::Keyring,
    phone: Option<&str>,
    email: Option<&str>,
) -> Option<String> {
    phone
        .filter(|p| !p.contains('*'))
        .or(email)
        .filter(|v| !v.trim().is_empty())
        .map(|v| keys.blind(v))
}

async fn rebuild_dedup(store: &Store) -> anyhow::Result<DedupIndex> {
    let mut index = DedupIndex::new();
    let mut after = 0;
    loop {
        let page = store.history_page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = last.report.id;
        for row in &page {
            let Ok(envelope) = stored_envelope(&row.report) else {
                continue;
            };
            let decisions: Analysis =
                match analysis_from_decisions(&row.report.decisions, &envelope) {
                    Some(a) => a,
                    None => continue,
                };
            let mut probe = probe_for(&envelope, &decisions, store.identity());
            probe.reporter_key = row.reporter_key.clone();
            index.insert(row.report.id, row.report.case_id, &probe);
            if let Some(closed) = row
                .case_closed_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            {
                index.close_case(row.report.case_id, closed.with_timezone(&chrono::Utc));
            }
        }
    }
    Ok(index)
}

/// Rebuilds an envelope (without identity) from a stored report.
fn stored_envelope(report: &crate::store::ReportRow) -> anyhow::Result<Envelope> {
    Ok(Envelope {
        channel: report.channel.parse()?,
        external_id: report.external_id.clone(),
        received_at: chrono::DateTime::parse_from_rfc3339(&report.received_at)?,
        reporter: Default::default(),
        subject: report
            .subject
            .clone()
            .and_then(|s| serde_json::from_value(s).ok()),
        address: report.address.clone(),
        title: report.title.clone(),
        text: report.text.clone(),
        deadline: None,
    })
}

fn analysis_from_decisions(decisions: &serde_json::Value, envelope: &Envelope) -> Option<Analysis> {
    Some(Analysis {
        normalized: intake::normalize_text(&envelope.full_text()),
        extraction: serde_json::from_value(decisions.get("extraction")?.clone()).ok()?,
        locus: serde_json::from_value(decisions.get("locus")?.clone()).ok()?,
        routing: serde_json::from_value(decisions.get("routing")?.clone()).ok()?,
        deadlines: serde_json::from_value(decisions.get("deadlines")?.clone()).ok()?,
        fingerprint: String::new(),
    })
}

/// The writer's compiled user names, recompiled when the users counter moves.
struct Conflicts {
    version: i64,
    matcher: crate::conflict::Matcher,
    home: Option<String>,
}

impl Conflicts {
    async fn refresh(&mut self, store: &Store) -> anyhow::Result<()> {
        let version = store.users_version().await?;
        if version != self.version {
            self.matcher = store.conflict_matcher(self.home.as_deref()).await?;
            self.version = version;
        }
        Ok(())
    }
}

async fn writer(
    store: Arc<Store>,
    mut rx: mpsc::Receiver<Queued>,
    dedup: Arc<RwLock<DedupIndex>>,
    committed: Arc<Notify>,
    max_batch: usize,
    mut conflicts: Conflicts,
) {
    // The batch whose transaction is running while the next one is decided: deciding (the
    // duplicate stage, building rows) and committing (SQL, fsync) overlap instead of taking turns.
    let mut committing: Option<Committing> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(q) => batch.push(q),
                Err(_) => break,
            }
        }
        let in_flight = committing.as_ref().map(|c| c.decided.clone());
        let deciding = std::time::Instant::now();
        let decided = match conflicts.refresh(&store).await {
            Ok(()) => {
                decide_batch(
                    &store,
                    &dedup,
                    &conflicts.matcher,
                    &mut batch,
                    in_flight.as_deref(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        let decide_ms = deciding.elapsed().as_secs_f64() * 1e3;
        // The batch before must be committed before this one's transaction starts: this one may
        // join its cases and answer with its reports.
        let waiting = std::time::Instant::now();
        let before = match committing.take() {
            Some(c) => c.settle(&store, &dedup).await,
            None => Ok(HashMap::new()),
        };
        let (decided, before) = match (decided, before) {
            (Ok(decided), Ok(before)) => (decided, before),
            (decided, before) => {
                // This batch was decided against the one before (or failed itself): neither is
                // stored, and their tentative entries must leave the duplicate index.
                let e = before.err().or(decided.err()).expect("one of them failed");
                fail(&store, &dedup, batch, &e).await;
                continue;
            }
        };
        tracing::debug!(
            size = batch.len(),
            decide_ms,
            wait_for_commit_before_ms = waiting.elapsed().as_secs_f64() * 1e3,
            "batch decided"
        );
        let decided = Arc::new(decided);
        committing = Some(Committing {
            decided: decided.clone(),
            commit: tokio::spawn(commit(
                store.clone(),
                decided,
                batch,
                before,
                committed.clone(),
            )),
        });
    }
    if let Some(c) = committing.take() {
        let _ = c.settle(&store, &dedup).await;
    }
}

/// A decided batch whose transaction is running.
struct Committing {
    decided: Arc<Decided>,
    /// Answers the waiters after the commit; gives back what was stored by report id, or the
    /// waiters to fail.
    commit: tokio::task::JoinHandle<Result<HashMap<i64, StoredReport>, NotStored>>,
}

/// A batch whose transaction failed, with its waiters.
struct NotStored {
    error: anyhow::Error,
    batch: Vec<Queued>,
}

impl Committing {
    /// Waits for the commit. After a failure, answers every waiter with the error and rebuilds
    /// the duplicate index, then returns the error.
    async fn settle(
        self,
        store: &Store,
        dedup: &RwLock<DedupIndex>,
    ) -> anyhow::Result<HashMap<i64, StoredReport>> {
        match self.commit.await {
            Ok(Ok(stored)) => Ok(stored),
            Ok(Err(NotStored { error, batch })) => {
                fail(store, dedup, batch, &error).await;
                Err(error)
            }
            Err(e) => {
                // The task panicked: its waiters hear that the writer stopped; no tentative entry
                // may stay behind.
                let error = anyhow::anyhow!("the commit task failed: {e}");
                fail(store, dedup, Vec::new(), &error).await;
                Err(error)
            }
        }
    }
}

/// Stores a decided batch in one transaction and, only then, answers its waiters.
async fn commit(
    store: Arc<Store>,
    decided: Arc<Decided>,
    batch: Vec<Queued>,
    before: HashMap<i64, StoredReport>,
    committed: Arc<Notify>,
) -> Result<HashMap<i64, StoredReport>, NotStored> {
    let started = std::time::Instant::now();
    let stored = match store.commit_batch(&decided.items).await {
        Ok(stored) => stored,
        Err(error) => return Err(NotStored { error, batch }),
    };
    tracing::debug!(
        size = stored.len(),
        commit_ms = started.elapsed().as_secs_f64() * 1e3,
        "batch committed"
    );
    committed.notify_one();
    let acks = acks_for(&decided.slots, &stored, &before);
    for (q, ack) in batch.into_iter().zip(acks) {
        let _ = q.reply.send(Ok(ack));
    }
    Ok(stored.into_iter().map(|s| (s.report_id, s)).collect())
}

/// Answers every waiter of a batch that was not stored, and rebuilds the duplicate index so that
/// no tentative entry of it survives.
async fn fail(store: &Store, dedup: &RwLock<DedupIndex>, batch: Vec<Queued>, e: &anyhow::Error) {
    tracing::error!(error = %format!("{e:#}"), size = batch.len(), "a batch of reports was not stored");
    match rebuild_dedup(store).await {
        Ok(index) => *dedup.write().expect("not poisoned") = index,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "duplicate index rebuild failed")
        }
    }
    for q in batch {
        let _ = q.reply.send(Err(format!("the report was not stored: {e}")));
    }
}

enum Slot {
    /// Answer with this ack (a re-send or the same message).
    Known(Ack),
    /// Same key as an earlier item of this batch.
    SameAs(usize),
    /// Stored by this batch, at this position of the items.
    Stored(usize),
    /// The same message as the item at this position of this batch.
    SameMessageAs(usize),
    /// A report stored by the batch before (committed before this one).
    Before(Outcome, i64),
}

/// A batch with every decision made: the rows to store and how to answer each waiter.
struct Decided {
    items: Vec<BatchItem>,
    slots: Vec<Slot>,
    /// The position in `items` of each stored report and of each stored key.
    item_of_report: HashMap<i64, usize>,
    item_of_key: HashMap<(String, String), usize>,
}

/// The acks of a committed batch, in the order of its waiters.
fn acks_for(
    slots: &[Slot],
    stored: &[StoredReport],
    before: &HashMap<i64, StoredReport>,
) -> Vec<Ack> {
    let ack = |outcome, s: &StoredReport| Ack {
        outcome,
        report_id: s.report_id,
        case_id: s.case_id,
        case_no: s.case_no.clone(),
    };
    let mut acks: Vec<Ack> = Vec::with_capacity(slots.len());
    for slot in slots {
        let a = match slot {
            Slot::Known(a) => a.clone(),
            Slot::SameAs(j) => Ack {
                outcome: Outcome::Resent,
                ..acks[*j].clone()
            },
            Slot::Stored(k) => ack(Outcome::New, &stored[*k]),
            Slot::SameMessageAs(k) => ack(Outcome::SameMessage, &stored[*k]),
            Slot::Before(outcome, report_id) => ack(*outcome, &before[report_id]),
        };
        acks.push(a);
    }
    acks
}

/// Resolves re-sends and runs the duplicate stage for a batch, in order, against the history,
/// the batch itself and `in_flight` (the batch before, whose transaction may still be running).
/// The data of a `report.received` event: where its decisions are (`Store::case_events` reads
/// them from there).
const RECEIVED_EVENT_DATA: &str = r#"{"decisions":"reports.decisions"}"#;

async fn decide_batch(
    store: &Store,
    dedup: &RwLock<DedupIndex>,
    conflicts: &crate::conflict::Matcher,
    batch: &mut [Queued],
    in_flight: Option<&Decided>,
) -> anyhow::Result<Decided> {
    let keys: Vec<(String, String)> = batch
        .iter()
        .map(|q| {
            (
                q.submission.envelope.channel.code().to_string(),
                q.submission.envelope.external_id.clone(),
            )
        })
        .collect();
    let existing = store.find_by_keys(&keys).await?;
    let mut first_of_key: HashMap<&(String, String), usize> = HashMap::new();
    let mut slots = Vec::with_capacity(batch.len());
    let mut items: Vec<BatchItem> = Vec::new();
    let mut item_of_report: HashMap<i64, usize> = HashMap::new();
    let mut item_of_key: HashMap<(String, String), usize> = HashMap::new();
    // A report of this batch or of the one in flight, by id.
    let pending =
        |items: &[BatchItem], item_of_report: &HashMap<i64, usize>, id: i64| match item_of_report
            .get(&id)
        {
            Some(&k) => Some((items[k].fingerprint.clone(), items[k].subject.clone())),
            None => in_flight.and_then(|f| {
                f.item_of_report
                    .get(&id)
                    .map(|&k| (f.items[k].fingerprint.clone(), f.items[k].subject.clone()))
            }),
        };
    for (i, q) in batch.iter_mut().enumerate() {
        let key = &keys[i];
        if let Some((report_id, case_id, case_no)) = existing.get(key) {
            slots.push(Slot::Known(Ack {
                outcome: Outcome::Resent,
                report_id: *report_id,
                case_id: *case_id,
                case_no: case_no.clone(),
            }));
            continue;
        }
        if let Some(&k) = in_flight.and_then(|f| f.item_of_key.get(key)) {
            let report_id = in_flight.expect("found in it").items[k].report_id;
            slots.push(Slot::Before(Outcome::Resent, report_id));
            continue;
        }
        if let Some(&j) = first_of_key.get(key) {
            slots.push(Slot::SameAs(j));
            continue;
        }
        first_of_key.insert(key, i);
        let s = &mut q.submission;
        let prepared = &s.staged.probe;
        let mut decision = dedup
            .read()
            .expect("not poisoned")
            .decide_prepared(prepared);
        // Nothing is dropped on a resemblance: only the very same content (the same fingerprint)
        // is the same message; a near-identical text is stored, joined to the matter's case.
        if let DedupDecision::SameMessage {
            report_id,
            case_id,
            jaccard,
            reasons,
            summary,
        } = &decision
        {
            let (earlier, earlier_key) = match pending(&items, &item_of_report, *report_id) {
                Some((fingerprint, subject)) => (Some(fingerprint), subject.map(|r| r.key)),
                None => (
                    store.fingerprint(*report_id).await?,
                    store.subject_key_of(*report_id).await?,
                ),
            };
            // The subject record's key is the one a named subject gets (none when empty).
            let subjects_differ = match (&s.staged.subject, earlier_key) {
                (Some(subject), Some(earlier_key)) => subject.key != earlier_key,
                _ => false,
            };
            if earlier.as_deref() != Some(s.analysis.fingerprint.as_str()) && subjects_differ {
                // The same wording about another subject is another matter.
                decision = DedupDecision::New {
                    subject_key: None,
                    related: Vec::new(),
                };
            } else if earlier.as_deref() != Some(s.analysis.fingerprint.as_str()) {
                decision = DedupDecision::SameMatter {
                    case_id: *case_id,
                    report_id: *report_id,
                    score: *jaccard,
                    reasons: reasons.clone(),
                    summary: summary.clone(),
                };
            }
        }
        if let DedupDecision::SameMessage {
            report_id, case_id, ..
        } = &decision
        {
            // The same message under another id: nothing new is stored.
            if let Some(&k) = item_of_report.get(report_id) {
                slots.push(Slot::SameMessageAs(k));
            } else if in_flight.is_some_and(|f| f.item_of_report.contains_key(report_id)) {
                slots.push(Slot::Before(Outcome::SameMessage, *report_id));
            } else if let Some(case) = store.case(*case_id).await? {
                slots.push(Slot::Known(Ack {
                    outcome: Outcome::SameMessage,
                    report_id: *report_id,
                    case_id: *case_id,
                    case_no: case.case_no,
                }));
            } else {
                anyhow::bail!("duplicate index names case {case_id}, which is not stored");
            }
            continue;
        }
        let report_id = store.next_report_id().await?;
        item_of_report.insert(report_id, items.len());
        item_of_key.insert(key.clone(), items.len());
        let (mut case, events) = link_for(store, &s.analysis, &decision).await?;
        if let CaseLink::Open(new_case) = &mut case {
            let deadlines = serde_json::to_value(&s.analysis.deadlines)?;
            new_case.deadline = Some(s.analysis.deadlines.reply.to_rfc3339());
            new_case.due_at = crate::casework::due_for(&new_case.state, &deadlines);
            new_case.deadlines = Some(deadlines.to_string());
        }
        let case_id = match &case {
            CaseLink::Open(c) => c.case_id,
            CaseLink::Join { case_id, .. } => *case_id,
        };
        dedup
            .write()
            .expect("not poisoned")
            .insert_prepared(report_id, case_id, prepared);
        let exclusions = excluded_by(store, conflicts, s, &case, &items, in_flight)
            .await?
            .into_iter()
            .map(|named| crate::store::exclusion(case_id, Some(report_id), named))
            .collect();
        let decisions = decisions_json(&s.staged.decisions, &decision);
        // The decisions are stored once, on the report's row; the event points there.
        let mut all_events = vec![(
            "report.received".to_string(),
            RECEIVED_EVENT_DATA.to_string(),
        )];
        all_events.extend(events);
        slots.push(Slot::Stored(items.len()));
        items.push(BatchItem {
            report_id,
            logged_by: s.logged_by,
            receipt_hash: s.receipt_hash.take(),
            envelope: s.envelope.clone(),
            raw_content_type: s.raw_content_type.clone(),
            raw_payload: std::mem::take(&mut s.raw_payload),
            raw_bytes: s.raw_bytes.take(),
            attachments: std::mem::take(&mut s.attachments),
            decisions,
            fingerprint: s.analysis.fingerprint.clone(),
            case,
            subject: s.staged.subject.clone(),
            events: all_events,
            exclusions,
        });
    }
    Ok(Decided {
        items,
        slots,
        item_of_report,
        item_of_key,
    })
}

/// The users a report names whose jurisdiction covers its case (conflict of interest). The case
/// is the one the report opens, one opened earlier in this batch, or a stored one.
async fn excluded_by(
    store: &Store,
    conflicts: &crate::conflict::Matcher,
    s: &Submission,
    case: &CaseLink,
    items: &[BatchItem],
    in_flight: Option<&Decided>,
) -> anyhow::Result<Vec<crate::conflict::Named>> {
    let env = &s.envelope;
    let texts = [
        env.title.as_deref(),
        Some(env.text.as_str()),
        env.subject.as_ref().and_then(|h| h.name.as_deref()),
        s.analysis.extraction.subject_name.as_deref(),
    ];
    let texts = texts.into_iter().flatten();
    if conflicts.named(texts.clone()).is_empty() {
        return Ok(Vec::new());
    }
    let place = |c: &NewCase| (c.handling.clone(), c.locus.clone(), c.transfer.clone());
    let (handling, locus, transfer) = match case {
        CaseLink::Open(c) => place(c),
        CaseLink::Join { case_id, .. } => {
            let pending = in_flight.map_or(&[][..], |f| &f.items[..]);
            let in_batch = items.iter().chain(pending).find_map(|i| match &i.case {
                CaseLink::Open(c) if c.case_id == *case_id => Some(place(c)),
                _ => None,
            });
            match in_batch {
                Some(p) => p,
                None => {
                    let c = store
                        .case(*case_id)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("case {case_id} to join is not stored"))?;
                    (c.handling, c.locus, c.transfer)
                }
            }
        }
    };
    Ok(conflicts.excluded(
        texts,
        crate::conflict::CasePlace {
            handling: &handling,
            locus: locus.as_deref(),
            transfer: transfer.as_deref(),
        },
    ))
}

/// The subject's record key, when the report names a subject with a distinctive core.
fn subject_ref(analysis: &Analysis, probe: &DedupProbe) -> Option<SubjectRef> {
    let name = analysis.extraction.subject_name.clone()?;
    let key = intake::dedup::subject_key_in(&intake::normalize_text(&name), &probe.place_names);
    (!key.is_empty()).then(|| SubjectRef {
        key,
        name,
        kind: analysis.extraction.subject_kind.code().to_string(),
        locus: analysis.locus.code.clone(),
    })
}

/// Turns the duplicate decision into the report's case link and the events that explain it.
async fn link_for(
    store: &Store,
    analysis: &Analysis,
    decision: &DedupDecision,
) -> anyhow::Result<(CaseLink, Vec<(String, String)>)> {
    let decision_json = serde_json::to_string(decision)?;
    let categories = analysis.category_codes();
    match decision {
        DedupDecision::New { subject_key, .. } => {
            let case_id = store.next_case_id().await?;
            let routing = &analysis.routing;
            let state = if routing.transfer.is_some() {
                "transferred"
            } else if matches!(routing.handling, triage::Handling::Division(_)) {
                "routed"
            } else {
                "received"
            };
            let case = NewCase {
                case_id,
                state: state.to_string(),
                subject_name: analysis.extraction.subject_name.clone(),
                subject_key: subject_key.clone(),
                subject_kind: analysis.extraction.subject_kind.code().to_string(),
                categories: serde_json::to_string(&categories)?,
                locus: analysis.locus.code.clone(),
                handling: routing.handling.code().to_string(),
                referrals: serde_json::to_string(&analysis.referral_codes())?,
                transfer: routing.transfer.clone(),
                deadline: None,
                deadlines: None,
                due_at: None,
            };
            Ok((
                CaseLink::Open(case),
                vec![("case.opened".to_string(), decision_json)],
            ))
        }
        DedupDecision::Repeat { case_id, .. } => Ok((
            CaseLink::Join {
                case_id: *case_id,
                link: "repeat",
                repeat: true,
                categories,
            },
            vec![("case.report_linked".to_string(), decision_json)],
        )),
        DedupDecision::SameMatter { case_id, .. } => Ok((
            CaseLink::Join {
                case_id: *case_id,
                link: "same_matter",
                repeat: false,
                categories,
            },
            vec![("case.report_linked".to_string(), decision_json)],
        )),
        DedupDecision::SameMessage { .. } => {
            anyhow::bail!("a same-message decision stores no report")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_read_as_the_whole_object() {
        let pipeline = crate::pipeline::Pipeline::new(&crate::config::Config::default());
        let wire: intake::EnvelopeWire = serde_json::from_str(
            r#"{"channel":"web_form","external_id":"w-1","received_at":"2024-05-06T09:12:00+08:00",
                "text":"鞍山市铁东区恒通职业培训学校交钱就能拿证不用考，电话0412-5892213","reporter":{"phone":"13800000000"}}"#,
        )
        .expect("a wire envelope");
        let envelope = Envelope::parse(wire).expect("a valid envelope");
        let analysis = pipeline.analyze(&envelope, &[]);
        let keys = crate::identity::Keyring::generate_ephemeral();
        let staged = stage(&envelope, &analysis, &keys, &DedupIndex::new().featurizer());
        let decision = DedupDecision::New {
            subject_key: Some("恒通".into()),
            related: Vec::new(),
        };
        let whole = serde_json::json!({
            "extraction": analysis.extraction,
            "locus": analysis.locus,
            "routing": analysis.routing,
            "deadlines": analysis.deadlines,
            "dedup": decision,
        });
        let stored: serde_json::Value =
            serde_json::from_str(&decisions_json(&staged.decisions, &decision)).expect("JSON");
        assert_eq!(stored, whole);
        // A score reads back as the very `f32` the duplicate stage computed.
        let joined = DedupDecision::SameMatter {
            case_id: 7,
            report_id: 9,
            score: 0.84,
            reasons: Vec::new(),
            summary: "并案".into(),
        };
        let stored: serde_json::Value =
            serde_json::from_str(&decisions_json(&staged.decisions, &joined)).expect("JSON");
        let read: DedupDecision =
            serde_json::from_value(stored["dedup"].clone()).expect("a decision");
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            serde_json::to_string(&joined).unwrap()
        );
        assert_eq!(
            staged.probe.probe().reporter_key.as_deref(),
            Some(keys.blind("13800000000").as_str())
        );
        assert_eq!(staged.subject.map(|s| s.key).as_deref(), Some("恒通"));
    }
}
