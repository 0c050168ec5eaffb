//! Search: the tantivy index over the case history.
//!
//! - [`SearchIndex`] owns the index: schema, tokenizers, the one writer, the reader.
//!   [`SearchIndex::upsert`] queues [`SearchDoc`]s, [`SearchIndex::commit`] makes them durable
//!   and visible and records the last applied event ([`SearchIndex::applied_seq`]).
//! - [`Query`] → [`SearchIndex::search`] → [`SearchResults`]: hits with snippets, the total and
//!   facet counts over the whole matching set. [`SearchIndex::counts_by_month`] feeds charts,
//!   [`SearchIndex::subject_history`] lists one subject's reports.
//!
//! Chinese text is indexed as overlapping character n-grams: unigrams and bigrams (1- and
//! 2-character queries: one term, no positions to read) and trigrams with consecutive positions
//! (3 characters and more: one term, or a phrase of trigrams), so a query finds exactly the
//! reports containing it as a substring (after folding width, script and case with [`fold`]);
//! jieba words, titles and subject names only rank. After a bulk load (a reindex), call
//! [`SearchIndex::optimize`] to merge the index into one segment.
//! Reporter identity is never indexed: [`SearchDoc`] has no field for it.
//!
//! The crate does no I/O beyond its index directory and knows nothing of HTTP or SQL.
//!
//! ```
//! use search::{Query, SearchDoc, SearchIndex};
//!
//! let index = SearchIndex::open_in_ram()?;
//! index.upsert([SearchDoc {
//!     report_id: 1,
//!     case_id: 1,
//!     case_no: "AJ-2024-0001".into(),
//!     external_id: "GD20240506000001".into(),
//!     channel: "hotline_12345".into(),
//!     title: None,
//!     text: "某培訓學校電工證包過，交３８００元不用上課".into(),
//!     subject_name: None,
//!     subject_key: None,
//!     subject_kind: "training_institution".into(),
//!     categories: vec!["T3".into()],
//!     locus: Some("210302".into()),
//!     place_names: vec!["辽宁省".into(), "鞍山市".into(), "铁东区".into()],
//!     handling: "210302".into(),
//!     referrals: vec![],
//!     case_state: "received".into(),
//!     received_at: chrono::Utc::now(),
//! }])?;
//! index.commit(42)?;
//! let found = index.search(&Query { place: Some("2103".into()), ..Query::text("电工证 3800") })?;
//! assert_eq!(found.total, 1);
//! assert!(found.hits[0].snippet.contains("<b>電工證</b>"));
//! assert_eq!(index.applied_seq()?, Some(42));
//! # Ok::<(), search::SearchError>(())
//! ```
#![deny(missing_docs)]

mod analysis;
mod collect;
mod error;
mod index;
mod query;
mod schema;
mod snippet;
mod types;
mod verify;

pub use analysis::fold;
pub use error::SearchError;
pub use index::{SearchIndex, WriterOptions, SCORE_LIMIT};
pub use types::{
    FacetField, Hit, Query, SearchDoc, SearchResults, Sort, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS,
};
