//! The search projection, fed from the event log. PLACEHOLDER until the search library lands.

use crate::store::Store;
use std::path::Path;
use std::sync::Arc;

/// Keeps the search index in step with the database.
pub struct Indexer {
    #[allow(dead_code)]
    store: Arc<Store>,
}

impl Indexer {
    /// Opens (or creates) the index.
    pub fn open(dir: &Path, store: Arc<Store>) -> anyhow::Result<Indexer> {
        let _ = dir;
        Ok(Indexer { store })
    }

    /// Applies every event not yet in the index.
    pub async fn catch_up(&self) -> anyhow::Result<u64> {
        Ok(0)
    }
}
