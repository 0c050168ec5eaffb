//! The values that go in and come out: documents, queries, hits.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// One report as the index sees it, with the state of its case. There is deliberately no field
/// for the reporter: reporter identity is never indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    /// The report's id (the index key: [`crate::SearchIndex::upsert`] replaces by it).
    pub report_id: i64,
    /// The case the report belongs to.
    pub case_id: i64,
    /// The case number shown to officers.
    pub case_no: String,
    /// The channel's own id of the report (call id, 12345 work-order number, Message-ID …).
    pub external_id: String,
    /// Channel code (`hotline_12350`, `hotline_12345`, `web_form`, `email`).
    pub channel: String,
    /// The report's title, if the channel has one.
    pub title: Option<String>,
    /// The report's text.
    pub text: String,
    /// The subject's name as written, if known.
    pub subject_name: Option<String>,
    /// The dedup key of the subject (`intake` subject key), if known: [`crate::SearchIndex::subject_history`]
    /// finds reports by it.
    pub subject_key: Option<String>,
    /// Subject kind code (`training_institution`, …).
    pub subject_kind: String,
    /// Category codes (`T2`, `E5`, …).
    pub categories: Vec<String>,
    /// County-level division code (6 digits) where the subject is.
    pub locus: Option<String>,
    /// Names of the locus at every level (province, prefecture, county), searchable as text.
    pub place_names: Vec<String>,
    /// Division code of the handling authority, or `"home"`.
    pub handling: String,
    /// Referral codes (`market_regulation`, `public_security`, `exam_qualification`).
    pub referrals: Vec<String>,
    /// The case's state code.
    pub case_state: String,
    /// When the report was received.
    pub received_at: DateTime<Utc>,
}

/// Order of the hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first (whole words, title and subject matches rank higher). When the text
    /// may match more than [`crate::SCORE_LIMIT`] reports (a very frequent term, or no text),
    /// most recently received first instead, with score 0: scoring them all would be slow and
    /// tell them apart little.
    #[default]
    Relevance,
    /// Most recently received first.
    Newest,
    /// Least recently received first.
    Oldest,
}

/// A search: the user's text plus filters, order and page.
///
/// The text is plain words and phrases: whitespace separates terms that must all occur,
/// `"double quotes"` keep a phrase together, a leading `-` excludes a term. Every term matches
/// as a substring of the title, text, subject name, place names or ids, after folding width,
/// script (traditional → simplified) and case. Empty text matches every report.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The user's text (may be empty).
    pub text: String,
    /// Division code prefix: `"21"` (province), `"2103"` or `"210300"` (prefecture),
    /// `"210302"` (county), or `"home"`. Matches the locus and the handling authority, so a
    /// prefecture sees its whole subtree.
    pub place: Option<String>,
    /// Subject kind code.
    pub subject_kind: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Channel code.
    pub channel: Option<String>,
    /// Case state code.
    pub case_state: Option<String>,
    /// Referral code.
    pub referral: Option<String>,
    /// Received at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Received before this instant (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Order of the hits.
    pub sort: Sort,
    /// Hits to skip.
    pub offset: usize,
    /// Hits to return (at most [`MAX_LIMIT`]; 0 returns only the total and the facets).
    pub limit: usize,
    /// Cases whose reports are left out of hits, totals and facets (the reader's conflicts of
    /// interest).
    pub exclude_cases: Vec<i64>,
}

/// The largest page a query may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// The largest offset a query may ask for.
pub const MAX_OFFSET: usize = 100_000;
/// The longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 256;

impl Default for Query {
    fn default() -> Self {
        Query {
            text: String::new(),
            place: None,
            subject_kind: None,
            category: None,
            channel: None,
            case_state: None,
            referral: None,
            from: None,
            to: None,
            sort: Sort::Relevance,
            offset: 0,
            limit: 20,
            exclude_cases: Vec::new(),
        }
    }
}

impl Query {
    /// A query for `text` with no filters, by relevance, first 20 hits.
    pub fn text(text: impl Into<String>) -> Self {
        Query {
            text: text.into(),
            ..Query::default()
        }
    }
}

/// A field that can be counted: facets and monthly counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FacetField {
    /// Subject kind code.
    SubjectKind,
    /// Category code (a report may count in several).
    Category,
    /// Channel code.
    Channel,
    /// Case state code.
    CaseState,
    /// Referral code (a report may count in several).
    Referral,
    /// Prefecture of the locus (`210300`).
    Prefecture,
    /// County of the locus (`210302`).
    County,
}

impl FacetField {
    /// Every facet field, in the order of [`SearchResults::facets`] keys' meaning.
    pub const ALL: [FacetField; 7] = [
        FacetField::SubjectKind,
        FacetField::Category,
        FacetField::Channel,
        FacetField::CaseState,
        FacetField::Referral,
        FacetField::Prefecture,
        FacetField::County,
    ];

    /// The name used as key in [`SearchResults::facets`].
    pub fn name(self) -> &'static str {
        match self {
            FacetField::SubjectKind => "subject_kind",
            FacetField::Category => "category",
            FacetField::Channel => "channel",
            FacetField::CaseState => "case_state",
            FacetField::Referral => "referral",
            FacetField::Prefecture => "prefecture",
            FacetField::County => "county",
        }
    }

    /// The index field holding the values.
    pub(crate) fn column(self) -> &'static str {
        match self {
            FacetField::SubjectKind => "subject_kind",
            FacetField::Channel => "channel",
            FacetField::CaseState => "case_state",
            FacetField::Category => "fc_category",
            FacetField::Referral => "fc_referral",
            FacetField::Prefecture => "fc_prefecture",
            FacetField::County => "fc_county",
        }
    }
}

/// One matching report.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The report's id.
    pub report_id: i64,
    /// Its case.
    pub case_id: i64,
    /// Its case number.
    pub case_no: String,
    /// The channel's id of the report.
    pub external_id: String,
    /// Channel code.
    pub channel: String,
    /// Relevance score (0 when sorted by time).
    pub score: f32,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// Title as written (not escaped).
    pub title: Option<String>,
    /// An excerpt of the text around the first match, HTML-escaped, matches wrapped in `<b>…</b>`.
    pub snippet: String,
    /// Subject name as written (not escaped).
    pub subject_name: Option<String>,
    /// Subject kind code.
    pub subject_kind: String,
    /// Category codes.
    pub categories: Vec<String>,
    /// County code of the locus.
    pub locus: Option<String>,
    /// Handling authority code or `"home"`.
    pub handling: String,
    /// Case state code.
    pub case_state: String,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResults {
    /// Number of matching reports (all pages).
    pub total: usize,
    /// The requested page.
    pub hits: Vec<Hit>,
    /// For each [`FacetField::name`], the values over all matching reports with their counts,
    /// most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}
