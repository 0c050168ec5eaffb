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
    sealer: Option<&Sealer>,
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
            let params: Vec<String> = (1..=INSERT_COLUMNS)
                .map(|c| format!("${}", b + c))
                .collect();
            sql.push_str(&format!("({})", params.join(", ")));
        }
        sql.push_str(" ON CONFLICT (dedup_key) DO NOTHING");
        let mut query = sqlx::query(&sql);
        for row in chunk {
            let payload = serde_json::to_string(&row.payload)?;
            let (payload, key_id) = if row.kind == MailKind::Receipt {
                let sealer = sealer.context("a receipt is enqueued only with a sealer")?;
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

/// Inserts one row of a stream (delivered in order within it); skipped when its `dedup_key`
/// exists already.
pub(crate) async fn insert_streamed(
    tx: &mut sqlx::Transaction<'_, Any>,
    kind: &str,
    dedup_key: &str,
    payload: &str,
    stream: &str,
    now: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO outbox (kind, dedup_key, payload, created_at, next_attempt_at, stream) \
         VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(kind.to_string())
    .bind(dedup_key.to_string())
    .bind(payload.to_string())
    .bind(now.to_string())
    .bind(stream.to_string())
    .execute(&mut **tx)
    .await
    .context("insert into outbox")?;
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

fn kinds_sql(kinds: &[&str]) -> String {
    kinds
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The stored codes of every mail kind.
fn mail_kinds() -> Vec<&'static str> {
    MailKind::ALL.iter().map(|k| k.code()).collect()
}

fn time_after(now: chrono::DateTime<chrono::Utc>, d: std::time::Duration) -> String {
    let d = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1));
    (now + d).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A claimed row of any kind, its payload as stored.
#[derive(Debug, Clone)]
pub(crate) struct RawClaimed {
    pub id: i64,
    pub kind: String,
    pub dedup_key: String,
    pub payload: String,
    pub attempts: i64,
}

/// Claims up to `limit` due rows of `kinds` for `lease`: no other sender takes them before it
/// ends, and a sender that dies leaves them due again once it has. A row with a `stream` is due
/// only when no older row of its stream is still pending (one at a time, in order, per stream);
/// a row given up does not hold its stream.
pub(crate) async fn claim_raw(
    store: &Store,
    kinds: &[&str],
    limit: usize,
    lease: std::time::Duration,
) -> anyhow::Result<Vec<RawClaimed>> {
    let now = chrono::Utc::now();
    let lock = match store.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET claimed_until = $1 \
         WHERE id IN (SELECT o.id FROM outbox o WHERE o.done_at IS NULL AND o.failed_at IS NULL \
           AND o.kind IN ({kinds}) AND o.next_attempt_at <= $2 \
           AND (o.claimed_until IS NULL OR o.claimed_until < $2) \
           AND (o.stream IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.stream = o.stream \
             AND p.id < o.id AND p.done_at IS NULL AND p.failed_at IS NULL)) \
           ORDER BY o.next_attempt_at, o.id LIMIT $3{lock}) \
         AND done_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2) \
         RETURNING id, kind, dedup_key, payload, attempts, key_id",
        kinds = kinds_sql(kinds)
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
        let dedup_key: String = row.try_get("dedup_key")?;
        // A receipt's payload is sealed (the reporter's address); opened only to send it.
        let sealed = row
            .try_get::<Option<i64>, _>("key_id")
            .ok()
            .flatten()
            .is_some();
        let payload = match store.open_text_column(
            &row,
            "payload",
            Column::OutboxPayload,
            &dedup_key,
            sealed,
        ) {
            Ok(p) => p.unwrap_or_default(),
            Err(e) => {
                tracing::error!(outbox.dedup_key = %dedup_key, error = %e, code = e.code(), "outbox payload cannot be opened");
                String::new()
            }
        };
        out.push(RawClaimed {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            dedup_key,
            payload,
            attempts: row.try_get("attempts")?,
        });
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// Claims up to `limit` due mail rows for `lease` (see [`claim_raw`]).
pub async fn claim(
    store: &Store,
    limit: usize,
    lease: std::time::Duration,
) -> anyhow::Result<Vec<Claimed>> {
    Ok(claim_raw(store, &mail_kinds(), limit, lease)
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(Claimed {
                kind: MailKind::from_code(&row.kind)?,
                payload: serde_json::from_str(&row.payload)
                    .map_err(|e| format!("unreadable payload: {e}")),
                id: row.id,
                dedup_key: row.dedup_key,
                attempts: row.attempts,
            })
        })
        .collect())
}

/// What one round of delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Delivered.
    pub sent: usize,
    /// Failed, to be retried.
    pub retry: usize,
    /// Failed for good.
    pub failed: usize,
}

impl Round {
    /// Adds another round's counts.
    pub fn add(&mut self, other: Round) {
        self.sent += other.sent;
        self.retry += other.retry;
        self.failed += other.failed;
    }
}

/// The outcome of one delivery.
pub(crate) enum Delivery {
    /// Delivered.
    Sent,
    /// Failed; worth another attempt.
    Retry(String),
    /// Failed for good.
    GiveUp(String),
}

/// Records the outcomes of a round: deliveries in one commit, failures rescheduled after
/// `backoff(attempts)` or, after `max_attempts`, given up (the row stays, `failed`).
pub(crate) async fn record(
    store: &Store,
    outcomes: Vec<(Attempt, Delivery)>,
    max_attempts: i64,
    backoff: impl Fn(i64) -> std::time::Duration,
) -> anyhow::Result<Round> {
    let mut round = Round::default();
    // A crash before this commit re-sends at most this round, under the same idempotency keys.
    let delivered: Vec<i64> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Delivery::Sent))
        .map(|(a, _)| a.id)
        .collect();
    mark_done(store, &delivered).await?;
    for (Attempt { id, kind, attempts }, outcome) in outcomes {
        match outcome {
            Delivery::Sent => {
                round.sent += 1;
                tracing::info!(outbox_id = id, kind = %kind, "outbox row delivered");
            }
            Delivery::Retry(error) if attempts + 1 < max_attempts => {
                let delay = backoff(attempts + 1);
                mark_failed(store, id, &error, delay, false).await?;
                round.retry += 1;
                tracing::warn!(outbox_id = id, kind = %kind, attempts = attempts + 1,
                    retry_in_secs = delay.as_secs(), error = %error, "not delivered; will retry");
            }
            Delivery::Retry(error) | Delivery::GiveUp(error) => {
                mark_failed(store, id, &error, std::time::Duration::ZERO, true).await?;
                round.failed += 1;
                tracing::error!(outbox_id = id, kind = %kind, attempts = attempts + 1,
                    error = %error, "given up");
            }
        }
    }
    Ok(round)
}

/// Which row was tried: its id, kind and the attempts before this one.
pub(crate) struct Attempt {
    pub id: i64,
    pub kind: &'static str,
    pub attempts: i64,
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

/// Makes every pending row of `kinds` due now (an operator's "retry now" after fixing the SMTP server);
/// with `failed`, rows given up are pending again too. Returns how many rows changed.
pub async fn make_due(store: &Store, kinds: &[&str], failed: bool) -> anyhow::Result<u64> {
    let which = if failed { "" } else { "AND failed_at IS NULL" };
    let sql = format!(
        "UPDATE outbox SET next_attempt_at = $1, failed_at = NULL \
         WHERE done_at IS NULL {which} AND kind IN ({})",
        kinds_sql(kinds)
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

/// Outbox rows of every kind (mail and 12345 pushes), oldest first: those not delivered, or all
/// with `all`.
pub async fn list(store: &Store, all: bool, limit: i64) -> anyhow::Result<Vec<Listed>> {
    let filter = if all { "" } else { "WHERE done_at IS NULL" };
    let sql = format!(
        "SELECT id, kind, dedup_key, attempts, next_attempt_at, last_error, created_at, done_at, \
         failed_at, claimed_until FROM outbox {filter} ORDER BY id LIMIT $1"
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

/// Counts of rows of `kinds` by state: (pending, failed, done).
pub async fn counts(store: &Store, kinds: &[&str]) -> anyhow::Result<(i64, i64, i64)> {
    let sql = format!(
        "SELECT \
           COUNT(CASE WHEN done_at IS NULL AND failed_at IS NULL THEN 1 END) AS pending, \
           COUNT(CASE WHEN done_at IS NULL AND failed_at IS NOT NULL THEN 1 END) AS failed, \
           COUNT(CASE WHEN done_at IS NOT NULL THEN 1 END) AS done \
         FROM outbox WHERE kind IN ({})",
        kinds_sql(kinds)
    );
    let row = sqlx::query(&sql).fetch_one(store.pool()).await?;
    Ok((
        row.try_get("pending")?,
        row.try_get("failed")?,
        row.try_get("done")?,
    ))
}
