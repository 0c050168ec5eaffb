//! The store: every SQL statement of tipline, over SQLite (the embedded default) or PostgreSQL.
//!
//! Queries are runtime-checked and written once with `$N` placeholders, which both backends accept
//! through sqlx's `Any` driver; only the DDL differs (`migrations/sqlite`, `migrations/postgres`).
//! Ids of reports and cases are allocated by the application in blocks, so that one batch of the
//! group-commit writer is a handful of multi-row statements in one transaction.

mod audit;
mod batch;
mod case_page;
mod cases;
mod deadlines;
mod desk;
mod exclusions;
mod extensions;
mod identity;
mod read;
mod sessions;
mod stats;
mod users;
mod web;

pub use batch::{Attachment, BatchItem, CaseLink, NewCase, StoredReport, SubjectRef};
pub use case_page::CaseFile;
pub use cases::{CaseEditError, QueueFilter, StepApplyError};
pub use deadlines::{claim_notice, notice_event, DueCase, NoticeKind};
pub use exclusions::{exclusion, Exclusion};
pub use extensions::{decision_label, ExtensionError};
pub use identity::rejected_row_key;
pub use read::{CaseRow, EventRow, ExportRow, ReportRow};
pub use stats::{CaseFact, StepFact, Subtree};
pub use users::{Role, User};
pub use web::FileRow;

use crate::identity::Keyring;
use anyhow::Context;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::sync::{Arc, Mutex};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the data directory.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Ids handed out by this node.
#[derive(Debug)]
struct IdBlock {
    next: i64,
    end: i64,
}

/// The database, behind one pool.
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    report_ids: Mutex<IdBlock>,
    case_ids: Mutex<IdBlock>,
    case_prefix: String,
    identity: Arc<Keyring>,
    tokens: users::TokenCache,
}

/// How many ids one PostgreSQL sequence step reserves (the migration's INCREMENT BY).
const PG_ID_BLOCK: i64 = 1024;

impl Store {
    /// Opens the configured database with the reporter-identity keys: loads the keys (creating
    /// the key file on first start), checks that every key the database uses is at hand, and seals
    /// identity still stored in clear (written before encryption at rest).
    pub async fn open(config: &crate::config::Config) -> anyhow::Result<Store> {
        let keys = Keyring::load(&config.identity_key_file())?;
        let store =
            Store::connect(&config.database_url(), &config.case_prefix, Arc::new(keys)).await?;
        store.check_identity_keys().await?;
        Ok(store)
    }

    /// Connects, runs the migrations, and prepares id allocation.
    async fn connect(
        url: &str,
        case_prefix: &str,
        identity: Arc<Keyring>,
    ) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL (use sqlite:// or postgres://)");
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; FULL so that a committed report survives
                        // power loss, not only a crash of the process.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        // A larger page cache than the default 2 MiB: the writer's index updates
                        // otherwise read the same pages again through read(2) in every batch.
                        conn.execute("PRAGMA cache_size = -32768").await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(url)
            .await
            .with_context(|| format!("cannot open the database ({})", redact(url)))?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await,
        }
        .context("database migration failed")?;
        let store = Store {
            pool,
            backend,
            report_ids: Mutex::new(IdBlock { next: 0, end: 0 }),
            case_ids: Mutex::new(IdBlock { next: 0, end: 0 }),
            case_prefix: case_prefix.to_string(),
            identity,
            tokens: Default::default(),
        };
        if backend == Backend::Sqlite {
            // SQLite is one node: continue after the highest id, unbounded.
            let max_report: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM reports")
                .fetch_one(&store.pool)
                .await?
                .try_get(0)?;
            let max_case: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM cases")
                .fetch_one(&store.pool)
                .await?
                .try_get(0)?;
            *store.report_ids.lock().expect("not poisoned") = IdBlock {
                next: max_report + 1,
                end: i64::MAX,
            };
            *store.case_ids.lock().expect("not poisoned") = IdBlock {
                next: max_case + 1,
                end: i64::MAX,
            };
        }
        Ok(store)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The prefix of this deployment's case numbers.
    pub fn case_prefix(&self) -> &str {
        &self.case_prefix
    }

    /// The reporter-identity keys.
    pub fn identity(&self) -> &Keyring {
        &self.identity
    }

    /// The pool, for the few callers that stream.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`, waiting up to the busy timeout): a deferred transaction that reads
    /// first fails with SQLITE_BUSY, without waiting, when another connection commits a write
    /// before its own first write.
    pub async fn begin_write(&self) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await.is_ok()
    }

    async fn allocate(&self, which: &Mutex<IdBlock>, sequence: &str) -> anyhow::Result<i64> {
        loop {
            {
                let mut block = which.lock().expect("not poisoned");
                if block.next < block.end {
                    let id = block.next;
                    block.next += 1;
                    return Ok(id);
                }
            }
            // Only PostgreSQL gets here: reserve the next block from the shared sequence.
            let start: i64 = sqlx::query(&format!("SELECT nextval('{sequence}')"))
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
            let mut block = which.lock().expect("not poisoned");
            if block.next >= block.end {
                *block = IdBlock {
                    next: start,
                    end: start + PG_ID_BLOCK,
                };
            }
        }
    }

    /// A new report id, unique across nodes.
    pub async fn next_report_id(&self) -> anyhow::Result<i64> {
        self.allocate(&self.report_ids, "report_id_blocks").await
    }

    /// A new case id, unique across nodes.
    pub async fn next_case_id(&self) -> anyhow::Result<i64> {
        self.allocate(&self.case_ids, "case_id_blocks").await
    }
}

/// A URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Reads an optional text column.
pub(crate) fn opt_text(row: &AnyRow, column: &str) -> Option<String> {
    row.try_get::<Option<String>, _>(column).ok().flatten()
}

/// The current time as stored: RFC 3339 UTC with milliseconds.
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
