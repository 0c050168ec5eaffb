//! The outbox's SQL: insert (inside the batch transaction), claim, mark, list. One text for both
//! backends; only the claim adds `FOR UPDATE SKIP LOCKED` on PostgreSQL.
//!
//! Times are stored as `now_text()` (RFC 3339 UTC with milliseconds, fixed width), so they compare
//! as text on both backends.

use super::{MailKind, NewRow, Payload};
use crate::identity::{Column, Sealer};
use crate::store::{Backend, Store};
use anyhow::Context;
use sqlx::{Any, Row};

/// Columns per inserted row; statements are chunked below the bind limit.
const INSERT_COLUMNS: usize = 6;
const MAX_BINDS: usize = 30_000;

/// Inserts rows; a row whose `dedup_key` exists already is skipped (idempotent enqueue). A
/// receipt's payload (the reporter's address) is sealed, bound to its `dedup_key`.
pub(super) async fn insert(
    tx: &mut sqlx::Transaction<'_, Any>,
    rows: Vec<NewRow>,
    now: &str,
    sealer: &Sealer,
) -> anyhow::Result<()> {
    for chunk in rows.chunks(MAX_BINDS / INSERT_COLUMNS) {
        let mut sql = String::from(
            "INSERT INTO outbox (kind, dedup_key, payload, created_at, next_attempt_at, key_id) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * INSERT_COLUMNS;
            let params: Vec<String> = (1..=INSERT_COLUMNS).map(|c| format!("${}", b + c)).collect();
            sql.push_str(&format!("({})", params.join(", ")));
        }
        sql.push_str(" ON CONFLICT (dedup_key) DO NOTHING");
        let mut query = sqlx::query(&sql);
        for row in chunk {
            let payload = serde_json::to_string(&row.payload)?;
            let (payload, key_id) = if row.kind == MailKind::Receipt {
                (
                    sealer.seal_text(Column::OutboxPayload, &row.dedup_key, &payload),
                    Some(i64::from(sealer.id())),
                )
            } else {
                (payload, None)
            };
            query = query
                .bind(row.kind.code().to_string())
                .bind(row.dedup_key.clone())
                .bind(payload)
                .bind(now.to_string())
                .bind(now.to_string())
                .bind(key_id);
        }
        query
            .execute(&mut **tx)
            .await
            .context("insert into outbox")?;
    }
    Ok(())
}

/// A claimed row.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Row id.
    pub id: i64,
    /// Kind (one of [`MailKind`]).
    pub kind: MailKind,
    /// The idempotency key.
    pub dedup_key: String,
    /// The payload, or why it could not be read.
    pub payload: Result<Payload, String>,
    /// Attempts before this one.
    pub attempts: i64,
}

fn kinds_sql() -> String {
    MailKind::ALL
        .iter()
        .map(|k| format!("'{}'", k.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn time_after(now: chrono::DateTime<chrono::Utc>, d: std::time::Duration) -> String {
    let d = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1));
    (now + d).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Claims up to `limit` due rows for `lease`: no other sender takes them before it ends, and a
/// sender that dies leaves them due again once it has.
pub async fn claim(
    store: &Store,
    limit: usize,
    lease: std::time::Duration,
) -> anyhow::Result<Vec<Claimed>> {
    let now = chrono::Utc::now();
    let lock = match store.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET claimed_until = $1 \
         WHERE id IN (SELECT id FROM outbox WHERE done_at IS NULL AND failed_at IS NULL \
           AND kind IN ({kinds}) AND next_attempt_at <= $2 \
           AND (claimed_until IS NULL OR claimed_until < $2) \
           ORDER BY next_attempt_at, id LIMIT $3{lock}) \
         AND done_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2) \
         RETURNING id, kind, dedup_key, payload, attempts, key_id",
        kinds = kinds_sql()
    );
    let rows = sqlx::query(&sql)
        .bind(time_after(now, lease))
        .bind(time_text(now))
        .bind(i64::try_from(limit.max(1)).unwrap_or(1))
        .fetch_all(store.pool())
        .await
        .context("claim outbox rows")?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let Some(kind) = MailKind::from_code(&kind) else {
            continue;
        };
        let dedup_key: String = row.try_get("dedup_key")?;
        let sealed = row.try_get::<Option<i64>, _>("key_id").ok().flatten().is_some();
        let payload = store
            .open_text_column(&row, "payload", Column::OutboxPayload, &dedup_key, sealed)
            .map_err(|e| format!("{}: {e}", e.code()))
            .and_then(|p| {
                serde_json::from_str(&p.unwrap_or_default())
                    .map_err(|e| format!("unreadable payload: {e}"))
            });
        out.push(Claimed {
            id: row.try_get("id")?,
            kind,
            dedup_key,
            payload,
            attempts: row.try_get("attempts")?,
        });
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// Records deliveries, in one statement (one commit) per call.
pub async fn mark_done(store: &Store, ids: &[i64]) -> anyhow::Result<()> {
    for chunk in ids.chunks(1000) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "UPDATE outbox SET done_at = $1, attempts = attempts + 1, claimed_until = NULL, \
             last_error = NULL WHERE id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(time_text(chrono::Utc::now()));
        for id in chunk {
            query = query.bind(*id);
        }
        query
            .execute(store.pool())
            .await
            .context("mark outbox rows done")?;
    }
    Ok(())
}

/// Records a failed attempt: retried after `retry_in`, or given up when `give_up`.
pub async fn mark_failed(
    store: &Store,
    id: i64,
    error: &str,
    retry_in: std::time::Duration,
    give_up: bool,
) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, \
         claimed_until = NULL, failed_at = $3 WHERE id = $4",
    )
    .bind(time_after(now, retry_in))
    .bind(error.to_string())
    .bind(give_up.then(|| time_text(now)))
    .bind(id)
    .execute(store.pool())
    .await
    .context("mark outbox row failed")?;
    Ok(())
}

/// Makes every pending row due now (an operator's "retry now" after fixing the SMTP server);
/// with `failed`, rows given up are pending again too. Returns how many rows changed.
pub async fn make_due(store: &Store, failed: bool) -> anyhow::Result<u64> {
    let which = if failed { "" } else { "AND failed_at IS NULL" };
    let sql = format!(
        "UPDATE outbox SET next_attempt_at = $1, failed_at = NULL \
         WHERE done_at IS NULL {which} AND kind IN ({})",
        kinds_sql()
    );
    let done = sqlx::query(&sql)
        .bind(time_text(chrono::Utc::now()))
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

/// A row as listed (no payload: a receipt's payload holds the reporter's address).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    /// Row id.
    pub id: i64,
    /// Kind code.
    pub kind: String,
    /// Idempotency key (ids only).
    pub dedup_key: Option<String>,
    /// `pending`, `sending`, `failed` or `done`.
    pub state: &'static str,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: String,
    /// The last error (recipient addresses removed).
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: String,
    /// When it was delivered.
    pub done_at: Option<String>,
}

/// Mail rows, oldest first: those not delivered, or all with `all`.
pub async fn list(store: &Store, all: bool, limit: i64) -> anyhow::Result<Vec<Listed>> {
    let filter = if all { "" } else { "AND done_at IS NULL" };
    let sql = format!(
        "SELECT id, kind, dedup_key, attempts, next_attempt_at, last_error, created_at, done_at, \
         failed_at, claimed_until FROM outbox WHERE kind IN ({}) {filter} ORDER BY id LIMIT $1",
        kinds_sql()
    );
    let now = time_text(chrono::Utc::now());
    let rows = sqlx::query(&sql)
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let done_at = crate::store::opt_text(&row, "done_at");
        let failed_at = crate::store::opt_text(&row, "failed_at");
        let claimed = crate::store::opt_text(&row, "claimed_until");
        let state = if done_at.is_some() {
            "done"
        } else if failed_at.is_some() {
            "failed"
        } else if claimed.is_some_and(|c| c > now) {
            "sending"
        } else {
            "pending"
        };
        out.push(Listed {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            dedup_key: crate::store::opt_text(&row, "dedup_key"),
            state,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            last_error: crate::store::opt_text(&row, "last_error"),
            created_at: row.try_get("created_at")?,
            done_at,
        });
    }
    Ok(out)
}

/// Counts of mail rows by state: (pending, failed, done).
pub async fn counts(store: &Store) -> anyhow::Result<(i64, i64, i64)> {
    let sql = format!(
        "SELECT \
           COUNT(CASE WHEN done_at IS NULL AND failed_at IS NULL THEN 1 END) AS pending, \
           COUNT(CASE WHEN done_at IS NULL AND failed_at IS NOT NULL THEN 1 END) AS failed, \
           COUNT(CASE WHEN done_at IS NOT NULL THEN 1 END) AS done \
         FROM outbox WHERE kind IN ({})",
        kinds_sql()
    );
    let row = sqlx::query(&sql).fetch_one(store.pool()).await?;
    Ok((
        row.try_get("pending")?,
        row.try_get("failed")?,
        row.try_get("done")?,
    ))
}
