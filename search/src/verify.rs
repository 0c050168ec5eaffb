//! Exact matching of query pieces with separators inside (`包过。交`, `电工证，焊工证`, `a-b`).
//!
//! The n-gram fields only index runs of word characters, so such a piece is searched as the AND
//! of its runs, which may occur anywhere in a report. [`VerifiedQuery`] wraps that AND as a
//! candidate query and keeps only the candidates whose folded stored text (title, text, subject
//! name, external id, case number, each folded alone as they are indexed) contains the folded
//! piece. Pieces with separators are rare, so ordinary queries never read the doc store here.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, Value};
use tantivy::store::StoreReader;
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyDocument, TERMINATED};

use crate::analysis::fold;

/// Decompressed doc-store blocks kept per segment scorer (candidates come in doc order, so
/// a few are enough).
const STORE_CACHE_BLOCKS: usize = 4;

/// The documents of `candidates` whose folded `fields` contain `needle` (already folded).
#[derive(Debug)]
pub(crate) struct VerifiedQuery {
    candidates: Box<dyn Query>,
    needle: String,
    fields: Vec<Field>,
}

impl Clone for VerifiedQuery {
    fn clone(&self) -> Self {
        VerifiedQuery {
            candidates: self.candidates.box_clone(),
            needle: self.needle.clone(),
            fields: self.fields.clone(),
        }
    }
}

impl VerifiedQuery {
    pub(crate) fn new(candidates: Box<dyn Query>, needle: String, fields: Vec<Field>) -> Self {
        VerifiedQuery {
            candidates,
            needle,
            fields,
        }
    }
}

impl Query for VerifiedQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(VerifiedWeight {
            candidates: self.candidates.weight(enable_scoring)?,
            needle: self.needle.clone(),
            fields: self.fields.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        self.candidates.query_terms(visitor);
    }
}

struct VerifiedWeight {
    candidates: Box<dyn Weight>,
    needle: String,
    fields: Vec<Field>,
}

impl Weight for VerifiedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let inner = self.candidates.scorer(reader, boost)?;
        let store = reader.get_store_reader(STORE_CACHE_BLOCKS)?;
        Ok(Box::new(VerifiedScorer::new(
            inner,
            store,
            self.needle.clone(),
            self.fields.clone(),
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not contain {:?}",
                self.needle
            )));
        }
        let mut e = Explanation::new("VerifiedQuery", scorer.score());
        e.add_detail(self.candidates.explain(reader, doc)?);
        Ok(e)
    }
}

struct VerifiedScorer {
    inner: Box<dyn Scorer>,
    store: StoreReader,
    needle: String,
    fields: Vec<Field>,
}

impl VerifiedScorer {
    fn new(inner: Box<dyn Scorer>, store: StoreReader, needle: String, fields: Vec<Field>) -> Self {
        let mut s = VerifiedScorer {
            inner,
            store,
            needle,
            fields,
        };
        // A scorer starts on its first document.
        s.settle();
        s
    }

    /// Whether the stored text of `doc` contains the needle. A document that cannot be read is
    /// kept: the candidates contain every true match, so keeping errs on the side of recall.
    fn contains(&self, doc: DocId) -> bool {
        let Ok(d) = self.store.get::<TantivyDocument>(doc) else {
            return true;
        };
        self.fields.iter().any(|f| {
            d.get_all(*f)
                .filter_map(|v| v.as_str())
                .any(|s| fold(s).contains(self.needle.as_str()))
        })
    }

    /// Moves the inner scorer forward from its current document to the first verified one.
    fn settle(&mut self) -> DocId {
        let mut doc = self.inner.doc();
        while doc != TERMINATED && !self.contains(doc) {
            doc = self.inner.advance();
        }
        doc
    }
}

impl DocSet for VerifiedScorer {
    fn advance(&mut self) -> DocId {
        if self.inner.advance() == TERMINATED {
            return TERMINATED;
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.inner.doc() >= target {
            return self.inner.doc();
        }
        if self.inner.seek(target) == TERMINATED {
            return TERMINATED;
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }
}

impl Scorer for VerifiedScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}
