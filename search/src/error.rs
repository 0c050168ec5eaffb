//! The errors of the search crate.

/// What can go wrong when opening, writing or searching the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be run as written (maps to HTTP 400). `message` says what to change.
    #[error("bad query: {message}")]
    BadQuery {
        /// What is wrong with the query, for the user.
        message: String,
    },
    /// The index directory holds an index built with another schema (an older version of this
    /// crate): delete the directory and reindex from the event log.
    #[error("the index at {path} was built with another schema; delete it and reindex")]
    IncompatibleSchema {
        /// The index directory.
        path: String,
    },
    /// The index was opened read-only and a write was attempted.
    #[error("the index was opened read-only")]
    ReadOnly,
    /// The index directory could not be created.
    #[error("cannot create the index directory {path}: {source}")]
    Directory {
        /// The index directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An error of the index engine (I/O, corrupt files, the writer lock held by another process).
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
}

impl SearchError {
    pub(crate) fn bad(message: impl Into<String>) -> Self {
        SearchError::BadQuery {
            message: message.into(),
        }
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for SearchError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        SearchError::Index(e.into())
    }
}
