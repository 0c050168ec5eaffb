//! The index wrapper: it owns the tantivy lifecycle (schema, tokenizers, the one writer, the
//! reader) so that callers cannot get it wrong.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::indexer::LogMergePolicy;
use tantivy::query::{BooleanQuery, Occur, Query as TQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, Value};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};

use crate::analysis::{self, fold};
use crate::collect::{pack_case, pack_topic, prefecture_of, MonthCollector, PageCollector, Rank};
use crate::query::{build_with, place_terms, required_terms};
use crate::schema::{self, Fields};
use crate::snippet::snippet;
use crate::types::{FacetField, Hit, Query, SearchDoc, SearchResults, Sort};
use crate::SearchError;

/// Characters of original text in a snippet.
const SNIPPET_CHARS: usize = 120;

/// The most matches a query by relevance scores; above, its page is the most recent matches
/// (see [`SearchIndex::search`]).
pub const SCORE_LIMIT: u64 = 100_000;

/// How the index writer is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// Indexing threads (each builds its own segment).
    pub threads: usize,
    /// Memory for all indexing threads together, in bytes (tantivy needs at least 15 MB per thread).
    pub memory_bytes: usize,
}

impl Default for WriterOptions {
    /// Up to 4 threads (one per core), 64 MB each: enough for ~100k reports per segment flush
    /// without a large resident set.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.clamp(1, 4);
        WriterOptions {
            threads,
            memory_bytes: threads * 64 * 1024 * 1024,
        }
    }
}

/// The search index over the case history.
///
/// `Send + Sync`: share it (e.g. in an `Arc`) between request handlers and the indexing worker.
/// Writes go through one writer behind a mutex; each search takes a fresh searcher. Writes
/// become durable and visible at [`SearchIndex::commit`] only.
pub struct SearchIndex {
    index: Index,
    fields: Fields,
    writer: Option<Mutex<WriterSlot>>,
    reader: IndexReader,
}

/// The one writer, with what [`SearchIndex::optimize`] needs to replace it.
struct WriterSlot {
    /// `None` only while [`SearchIndex::optimize`] swaps writers (or if reopening failed).
    writer: Option<IndexWriter>,
    options: WriterOptions,
    /// Writes queued since the last commit or rollback.
    dirty: bool,
}

impl WriterSlot {
    fn get(&mut self) -> Result<&mut IndexWriter, SearchError> {
        self.writer.as_mut().ok_or_else(|| {
            SearchError::Index(tantivy::TantivyError::SystemError(
                "the index writer could not be reopened after optimize".into(),
            ))
        })
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("writable", &self.writer.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    applied_seq: i64,
}

impl SearchIndex {
    /// Opens the index in `dir` for reading and writing, creating it if absent. Only one process
    /// may hold it open for writing (tantivy's lock file); others use [`SearchIndex::open_read_only`].
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        Self::open_with(dir, WriterOptions::default())
    }

    /// [`SearchIndex::open`] with explicit writer sizing.
    pub fn open_with(dir: &Path, options: WriterOptions) -> Result<SearchIndex, SearchError> {
        let index = open_dir(dir, true)?;
        Self::from_index(index, Some(options))
    }

    /// Opens an existing index for searching only (e.g. the CLI while the server runs); it
    /// reloads by itself shortly after the writer commits.
    pub fn open_read_only(dir: &Path) -> Result<SearchIndex, SearchError> {
        let index = open_dir(dir, false)?;
        Self::from_index(index, None)
    }

    /// A fresh index in memory (tests, benchmarks).
    pub fn open_in_ram() -> Result<SearchIndex, SearchError> {
        let (schema, _) = schema::build();
        Self::from_index(Index::create_in_ram(schema), Some(WriterOptions::default()))
    }

    fn from_index(index: Index, writer: Option<WriterOptions>) -> Result<SearchIndex, SearchError> {
        analysis::register(&index);
        analysis::warm_up();
        let (_, fields) = schema::build();
        let writer = match writer {
            Some(options) => Some(Mutex::new(WriterSlot {
                writer: Some(new_writer(&index, options)?),
                options,
                dirty: false,
            })),
            None => None,
        };
        let policy = if writer.is_some() {
            ReloadPolicy::Manual
        } else {
            ReloadPolicy::OnCommitWithDelay
        };
        let reader = index.reader_builder().reload_policy(policy).try_into()?;
        Ok(SearchIndex {
            index,
            fields,
            writer,
            reader,
        })
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, WriterSlot>, SearchError> {
        let w = self.writer.as_ref().ok_or(SearchError::ReadOnly)?;
        // A panic while holding the lock cannot leave the writer half-updated in a way that
        // matters: uncommitted operations are simply part of the next commit or rollback.
        Ok(w.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Adds or replaces documents (by `report_id`). Not visible until [`SearchIndex::commit`].
    /// Returns the number of documents queued.
    pub fn upsert(&self, docs: impl IntoIterator<Item = SearchDoc>) -> Result<usize, SearchError> {
        let mut slot = self.writer()?;
        slot.dirty = true;
        let writer = slot.get()?;
        let mut n = 0;
        for d in docs {
            let doc = self.to_document(&d);
            writer.delete_term(Term::from_field_i64(self.fields.report_id, d.report_id));
            writer.add_document(doc)?;
            n += 1;
        }
        Ok(n)
    }

    /// Removes a report. Not visible until [`SearchIndex::commit`].
    pub fn delete(&self, report_id: i64) -> Result<(), SearchError> {
        let mut slot = self.writer()?;
        slot.dirty = true;
        slot.get()?
            .delete_term(Term::from_field_i64(self.fields.report_id, report_id));
        Ok(())
    }

    /// Removes every document (for a reindex); the index stays as it was for searches until the
    /// next [`SearchIndex::commit`], which swaps in the new content at once.
    pub fn clear(&self) -> Result<(), SearchError> {
        let mut slot = self.writer()?;
        slot.dirty = true;
        slot.get()?.delete_all_documents()?;
        Ok(())
    }

    /// Makes the writes so far durable, records `applied_seq` (the last event of the log they
    /// include) with them, and makes them visible to searches before returning.
    ///
    /// Blocking (fsync): call it from a blocking thread, not from an async task.
    pub fn commit(&self, applied_seq: i64) -> Result<(), SearchError> {
        {
            let mut slot = self.writer()?;
            let mut prepared = slot.get()?.prepare_commit()?;
            let payload = serde_json::to_string(&Payload { applied_seq }).unwrap_or_default();
            prepared.set_payload(&payload);
            prepared.commit()?;
            slot.dirty = false;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Discards the writes since the last commit.
    pub fn rollback(&self) -> Result<(), SearchError> {
        let mut slot = self.writer()?;
        slot.get()?.rollback()?;
        slot.dirty = false;
        Ok(())
    }

    /// The `applied_seq` of the last commit: replay the event log after it at start-up.
    /// `None` for a new index.
    pub fn applied_seq(&self) -> Result<Option<i64>, SearchError> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Payload>(p).ok())
            .map(|p| p.applied_seq))
    }

    /// Merges the committed index into one segment, after waiting for the background merges,
    /// and makes the result visible. Returns the number of segments before.
    ///
    /// Searches get faster (each segment costs a posting-list lookup per term, and facets and
    /// top hits are merged across segments); call it after a bulk load such as a reindex. It
    /// rewrites the whole index (about a minute per million reports) and blocks writes meanwhile,
    /// while searches keep running on the previous segments. Writes must be committed first
    /// (otherwise it returns an error and changes nothing). `applied_seq` is kept.
    ///
    /// Blocking: call it from a blocking thread, not from an async task.
    pub fn optimize(&self) -> Result<usize, SearchError> {
        let mut slot = self.writer()?;
        if slot.dirty {
            return Err(SearchError::Index(tantivy::TantivyError::InvalidArgument(
                "optimize: commit or roll back the pending writes first".into(),
            )));
        }
        // Waiting for the merges in flight consumes the writer; a fresh one takes its place.
        let waited = match slot.writer.take() {
            Some(old) => old.wait_merging_threads(),
            None => Ok(()),
        };
        let options = slot.options;
        let writer = slot.writer.insert(new_writer(&self.index, options)?);
        waited?;
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            writer.merge(&ids).wait()?;
        }
        drop(slot);
        self.reader.reload()?;
        Ok(ids.len())
    }

    /// Number of segments searched now (after [`SearchIndex::optimize`]: 1).
    pub fn num_segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Makes the last commit visible (needed only for a read-only index that must see a commit
    /// at once; it otherwise reloads within about half a second).
    pub fn reload(&self) -> Result<(), SearchError> {
        self.reader.reload()?;
        Ok(())
    }

    /// Number of reports searchable now.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Runs a query: the page of hits, the total and the facets over all matching reports.
    ///
    /// One pass over the matching set collects the page, the total and the facets together.
    /// When the query's text cannot narrow the matches below [`SCORE_LIMIT`] reports (a very
    /// frequent term, or no text), relevance cannot usefully tell them apart and scoring them
    /// all is what makes such a query slow: the page is then the most recent matches (score
    /// 0), as with [`Sort::Newest`].
    pub fn search(&self, q: &Query) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let rank = if q.limit == 0 || q.offset >= searcher.num_docs() as usize {
            Rank::None
        } else {
            match q.sort {
                Sort::Relevance if self.too_many_to_score(&searcher, q)? => Rank::Newest,
                Sort::Relevance => Rank::Score,
                Sort::Newest => Rank::Newest,
                Sort::Oldest => Rank::Oldest,
            }
        };
        let (query, runs) = build_with(q, &self.fields, rank == Rank::Score)?;
        let collector = PageCollector {
            rank,
            offset: q.offset,
            limit: q.limit,
        };
        let ((total, maps), page) = searcher.search(&query, &collector)?;
        let addrs: Vec<(f32, DocAddress)> = page
            .into_iter()
            .map(|(key, a)| (if rank == Rank::Score { key as f32 } else { 0.0 }, a))
            .collect();
        let hits = self.hits(&searcher, &addrs, &runs)?;
        let facets = FacetField::ALL
            .iter()
            .zip(maps)
            .map(|(f, m)| {
                let mut v: Vec<(String, u64)> = m.into_iter().collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (f.name().to_string(), v)
            })
            .collect();
        Ok(SearchResults {
            total: total as usize,
            hits,
            facets,
        })
    }

    /// Whether the text of a query by relevance may match more than [`SCORE_LIMIT`] reports
    /// (an upper bound from the term dictionary: no posting list is read).
    fn too_many_to_score(&self, searcher: &Searcher, q: &Query) -> Result<bool, SearchError> {
        let terms = required_terms(q, &self.fields)?;
        if terms.is_empty() {
            return Ok(searcher.num_docs() > SCORE_LIMIT);
        }
        let mut bound = u64::MAX;
        for t in &terms {
            bound = bound.min(searcher.doc_freq(t)?);
            if bound <= SCORE_LIMIT {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every report about one subject, newest first: `key_or_name` is a subject key (as given to
    /// [`SearchDoc::subject_key`]) or a subject name (compared after folding, ignoring spaces and
    /// punctuation).
    pub fn subject_history(
        &self,
        key_or_name: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let key = key_or_name.trim();
        let exact = subject_exact(key);
        if key.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let limit = limit.min(crate::types::MAX_LIMIT);
        let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = vec![(
            Occur::Should,
            Box::new(TermQuery::new(
                Term::from_field_text(self.fields.subject_key, key),
                IndexRecordOption::Basic,
            )),
        )];
        if !exact.is_empty() {
            clauses.push((
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.subject_exact, &exact),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let c = TopDocs::with_limit(limit)
            .order_by_fast_field::<tantivy::DateTime>("received_at", Order::Desc);
        let addrs: Vec<(f32, DocAddress)> = searcher
            .search(&query, &c)?
            .into_iter()
            .map(|(_, a)| (0.0, a))
            .collect();
        self.hits(&searcher, &addrs, &[])
    }

    /// Counts of matching reports per month of reception (Beijing time, `YYYY-MM`) and value of
    /// `group_by` (`""` when `None`), in order of month then value. `sort`, `offset` and `limit`
    /// of the query are ignored.
    pub fn counts_by_month(
        &self,
        q: &Query,
        group_by: Option<FacetField>,
    ) -> Result<Vec<(String, String, u64)>, SearchError> {
        let q = Query {
            sort: Sort::Newest,
            offset: 0,
            limit: 0,
            ..q.clone()
        };
        let (query, _) = build_with(&q, &self.fields, false)?;
        let searcher = self.reader.searcher();
        let counts = searcher.search(&query, &MonthCollector { group: group_by })?;
        Ok(counts.into_iter().map(|((m, g), n)| (m, g, n)).collect())
    }

    fn hits(
        &self,
        searcher: &Searcher,
        addrs: &[(f32, DocAddress)],
        runs: &[Vec<char>],
    ) -> Result<Vec<Hit>, SearchError> {
        let f = &self.fields;
        let mut hits = Vec::with_capacity(addrs.len());
        for (score, addr) in addrs {
            let doc: TantivyDocument = searcher.doc(*addr)?;
            let s = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let all = |field| {
                doc.get_all(field)
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            let i = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_i64())
                    .unwrap_or_default()
            };
            let received_at = doc
                .get_first(f.received_at)
                .and_then(|v| v.as_datetime())
                .and_then(|d| DateTime::<Utc>::from_timestamp(d.into_timestamp_secs(), 0))
                .unwrap_or_default();
            let text = s(f.text).unwrap_or_default();
            hits.push(Hit {
                report_id: i(f.report_id),
                case_id: i(f.case_id),
                case_no: s(f.case_no).unwrap_or_default(),
                external_id: s(f.external_id).unwrap_or_default(),
                channel: s(f.channel).unwrap_or_default(),
                score: *score,
                received_at,
                title: s(f.title),
                snippet: snippet(&text, runs, SNIPPET_CHARS),
                subject_name: s(f.subject_name),
                subject_kind: s(f.subject_kind).unwrap_or_default(),
                categories: all(f.category),
                locus: s(f.locus),
                handling: s(f.handling).unwrap_or_default(),
                case_state: s(f.case_state).unwrap_or_default(),
            });
        }
        Ok(hits)
    }

    fn to_document(&self, d: &SearchDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_i64(f.report_id, d.report_id);
        doc.add_i64(f.case_id, d.case_id);
        doc.add_text(f.case_no, &d.case_no);
        doc.add_text(f.external_id, &d.external_id);
        doc.add_text(f.channel, &d.channel);
        if let Some(t) = &d.title {
            doc.add_text(f.title, t);
            doc.add_text(f.title_gram, fold(t));
        }
        doc.add_text(f.text, &d.text);
        if let Some(n) = &d.subject_name {
            doc.add_text(f.subject_name, n);
            doc.add_text(f.subject_gram, fold(n));
            let exact = subject_exact(n);
            if !exact.is_empty() {
                doc.add_text(f.subject_exact, exact);
            }
        }
        if let Some(k) = &d.subject_key {
            if !k.trim().is_empty() {
                doc.add_text(f.subject_key, k.trim());
            }
        }
        doc.add_text(f.subject_kind, &d.subject_kind);
        for c in &d.categories {
            doc.add_text(f.category, c);
        }
        let county = d.locus.clone().unwrap_or_default();
        if let Some(l) = &d.locus {
            doc.add_text(f.locus, l);
        }
        let (categories, referrals) = (joined(&d.categories), joined(&d.referrals));
        doc.add_text(
            f.fc_case,
            pack_case(&d.subject_kind, &d.channel, &d.case_state, &referrals),
        );
        doc.add_text(f.fc_topic, pack_topic(&categories, &county));
        doc.add_text(f.fc_prefecture, prefecture_of(&county));
        doc.add_text(f.fc_county, county);
        doc.add_text(f.fc_category, categories);
        doc.add_text(f.fc_referral, referrals);
        for p in place_terms(d.locus.as_deref(), &d.handling) {
            doc.add_text(f.place, p);
        }
        doc.add_text(f.handling, &d.handling);
        for r in &d.referrals {
            doc.add_text(f.referral, r);
        }
        doc.add_text(f.case_state, &d.case_state);
        doc.add_date(
            f.received_at,
            tantivy::DateTime::from_timestamp_secs(d.received_at.timestamp()),
        );

        // The searchable text, folded part by part and joined by newlines (a separator, which
        // folding would otherwise turn into a space), so that no bigram spans two parts.
        let mut body = String::with_capacity(d.text.len() * 2 + 256);
        for part in d.title.iter().chain(std::iter::once(&d.text)) {
            body.push_str(&fold(part));
            body.push('\n');
        }
        // Jieba words of title and text only: the ranking signal is about the report's wording.
        doc.add_text(f.words, &body);
        for part in d
            .subject_name
            .iter()
            .chain(&d.place_names)
            .chain([&d.external_id, &d.case_no])
        {
            body.push_str(&fold(part));
            body.push('\n');
        }
        doc.add_text(f.body_uni, &body);
        doc.add_text(f.body_tri, &body);
        doc.add_text(f.body, body);
        doc
    }
}

/// Values as one facet value: sorted, deduplicated, joined by commas ("" for none).
fn joined(values: &[String]) -> String {
    let mut v: Vec<&str> = values
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    v.sort_unstable();
    v.dedup();
    v.join(",")
}

/// The form of a subject name compared by [`SearchIndex::subject_history`]: folded, word
/// characters only.
fn subject_exact(name: &str) -> String {
    fold(name)
        .chars()
        .filter(|c| analysis::is_word_char(*c))
        .collect()
}

fn new_writer(index: &Index, o: WriterOptions) -> Result<IndexWriter, SearchError> {
    let writer: IndexWriter = index.writer_with_num_threads(o.threads.max(1), o.memory_bytes)?;
    // A server commits a small segment every few hundred milliseconds. Tantivy's default puts
    // every segment under 10,000 documents in one level, so the growing merge result is merged
    // again with each new handful of small segments; levels from 1,000 documents up merge each
    // document a few times only (log₈ of the index size).
    let mut policy = LogMergePolicy::default();
    policy.set_min_layer_size(1_000);
    writer.set_merge_policy(Box::new(policy));
    Ok(writer)
}

fn open_dir(dir: &Path, create: bool) -> Result<Index, SearchError> {
    let path = dir.display().to_string();
    if create {
        std::fs::create_dir_all(dir).map_err(|source| SearchError::Directory {
            path: path.clone(),
            source,
        })?;
    }
    let (schema, _) = schema::build();
    let mmap = MmapDirectory::open(dir)?;
    let exists = Index::exists(&mmap).map_err(|e| SearchError::Index(e.into()))?;
    if !exists {
        if !create {
            return Err(SearchError::Index(tantivy::TantivyError::SystemError(
                format!("no index at {path}"),
            )));
        }
        return Ok(Index::create(
            mmap,
            schema,
            tantivy::IndexSettings::default(),
        )?);
    }
    let index = Index::open(mmap)?;
    if !same_schema(&index.schema(), &schema) {
        return Err(SearchError::IncompatibleSchema { path });
    }
    Ok(index)
}

fn same_schema(a: &Schema, b: &Schema) -> bool {
    a == b
}
