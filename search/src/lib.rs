//! Search: the tantivy index over the case history.
//!
//! STUB: filled by the search work.
#![deny(missing_docs)]
