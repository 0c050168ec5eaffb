//! The application: the store, the pipeline, the writer and the projections, wired once and
//! shared by every command and the HTTP server.

use crate::config::Config;
use crate::indexer::Indexer;
use crate::ingest::{Ack, Ingest, Submission};
use crate::pipeline::Pipeline;
use crate::store::Store;
use intake::{Category, Envelope, EnvelopeError, EnvelopeWire};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Reports stored.
    pub reports_new: AtomicU64,
    /// Re-sent submissions answered with the first report.
    pub reports_resent: AtomicU64,
    /// Submissions refused as invalid.
    pub reports_rejected: AtomicU64,
    /// Submissions that could not be stored.
    pub reports_failed: AtomicU64,
}

/// Why a submission was not accepted.
#[derive(Debug)]
pub enum AcceptError {
    /// It could not be stored: the sender may retry.
    NotStored(anyhow::Error),
}

/// Everything a running tipline holds.
pub struct App {
    /// Configuration in force.
    pub config: Config,
    /// The database.
    pub store: Arc<Store>,
    /// The stages.
    pub pipeline: Arc<Pipeline>,
    /// The writer.
    pub ingest: Ingest,
    /// The search projection.
    pub indexer: Arc<Indexer>,
    /// Counters.
    pub metrics: Metrics,
}

impl App {
    /// Opens the database (running migrations), rebuilds the duplicate index and starts the writer.
    pub async fn open(config: Config) -> anyhow::Result<Arc<App>> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            )
        })?;
        let store = Arc::new(Store::open(&config).await?);
        crate::outbox::configure(&config);
        let pipeline = Arc::new(Pipeline::new(&config));
        let ingest =
            Ingest::start(store.clone(), config.max_batch, config.triage.home.clone()).await?;
        let indexer = Arc::new(Indexer::open(&config.index_dir(), store.clone())?);
        Ok(Arc::new(App {
            config,
            store,
            pipeline,
            ingest,
            indexer,
            metrics: Metrics::default(),
        }))
    }

    /// Parses and analyses a submission (pure computation; any thread).
    pub fn prepare(
        &self,
        wire: EnvelopeWire,
        category_hints: &[Category],
        raw_content_type: &str,
        raw_payload: String,
    ) -> Result<Submission, EnvelopeError> {
        let envelope = Envelope::parse(wire).inspect_err(|_| {
            self.metrics
                .reports_rejected
                .fetch_add(1, Ordering::Relaxed);
        })?;
        let analysis = self.pipeline.analyze(&envelope, category_hints);
        let staged = crate::ingest::stage(
            &envelope,
            &analysis,
            self.store.identity(),
            self.ingest.featurizer(),
        );
        Ok(Submission {
            envelope,
            analysis,
            raw_content_type: raw_content_type.to_string(),
            raw_payload,
            raw_bytes: None,
            attachments: Vec::new(),
            logged_by: None,
            receipt_hash: None,
            staged,
        })
    }

    /// Stores a prepared submission and counts the outcome.
    pub async fn store_prepared(&self, submission: Submission) -> Result<Ack, AcceptError> {
        self.count(self.ingest.submit(submission).await)
    }

    /// Counts an outcome for the metrics.
    pub fn count(&self, result: anyhow::Result<Ack>) -> Result<Ack, AcceptError> {
        match result {
            Ok(ack) => {
                let counter = match ack.outcome {
                    crate::ingest::Outcome::New => &self.metrics.reports_new,
                    _ => &self.metrics.reports_resent,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                Ok(ack)
            }
            Err(e) => {
                self.metrics.reports_failed.fetch_add(1, Ordering::Relaxed);
                Err(AcceptError::NotStored(e))
            }
        }
    }
}
