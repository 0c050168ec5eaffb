//! Sealed identity in the database: where it lives, reading it back, and re-sealing it under the
//! current key (`tipline keys rotate`, and once for rows written in clear before migration 0011).
//!
//! Every table listed in [`TABLES`] has a `key_id` column naming the key of its row (NULL: clear).
//! Re-sealing pages through a table by primary key, opens each row with the key it names, seals it
//! with the current key, and updates it only if its `key_id` is still the one read — so it can run
//! while `tipline serve` writes, stop at any point, and start again where rows still need it.

use super::batch::{bind_all, Value};
use super::Store;
use crate::identity::{Column, IdentityError};
use anyhow::Context;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bytes,
}

/// A table holding sealed identity.
struct SealedTable {
    table: &'static str,
    /// Integer primary key, for paging.
    pk: &'static str,
    /// Columns whose values name the row in the associated data (joined with `/`).
    row_key: &'static [&'static str],
    columns: &'static [(&'static str, Column, Kind)],
    /// Which rows hold identity.
    filter: &'static str,
}

const TABLES: &[SealedTable] = &[
    SealedTable {
        table: "reporters",
        pk: "report_id",
        row_key: &["report_id"],
        columns: &[
            ("name", Column::ReporterName, Kind::Text),
            ("phone", Column::ReporterPhone, Kind::Text),
            ("email", Column::ReporterEmail, Kind::Text),
            ("id_number", Column::ReporterIdNumber, Kind::Text),
        ],
        filter: "1 = 1",
    },
    SealedTable {
        table: "report_raw",
        pk: "report_id",
        row_key: &["report_id"],
        columns: &[
            ("payload", Column::RawPayload, Kind::Text),
            ("payload_bytes", Column::RawBytes, Kind::Bytes),
        ],
        filter: "1 = 1",
    },
    SealedTable {
        table: "outbox",
        pk: "id",
        row_key: &["dedup_key"],
        columns: &[("payload", Column::OutboxPayload, Kind::Text)],
        filter: "kind = 'receipt'",
    },
    SealedTable {
        table: "rejected_mail",
        pk: "id",
        row_key: &["mailbox", "sha256"],
        columns: &[("raw", Column::RejectedRaw, Kind::Bytes)],
        filter: "1 = 1",
    },
];

/// Rows per re-sealing transaction.
const RESEAL_PAGE: i64 = 256;

/// The row key of a refused mail, as bound in its sealed value.
pub fn rejected_row_key(mailbox: &str, sha256: &str) -> String {
    format!("{mailbox}/{sha256}")
}

/// How many rows use each key.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct KeyStatus {
    /// Key id → rows sealed with it, over every table.
    pub by_key: BTreeMap<u32, i64>,
    /// Rows still in clear.
    pub clear: i64,
    /// Table → (key id, or 0 for clear) → rows.
    pub by_table: BTreeMap<&'static str, BTreeMap<u32, i64>>,
}

impl KeyStatus {
    /// Rows not sealed with key `id` (in clear, or under another key).
    pub fn not_under(&self, id: u32) -> i64 {
        self.clear
            + self
                .by_key
                .iter()
                .filter(|(k, _)| **k != id)
                .map(|(_, n)| n)
                .sum::<i64>()
    }
}

/// What a re-sealing pass did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Resealed {
    /// Rows now sealed with the current key.
    pub resealed: u64,
    /// Rows that could not be opened (a missing key, a damaged value): left as they are.
    pub unreadable: u64,
}

fn row_key(row: &AnyRow, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| match row.try_get::<i64, _>(*c) {
            Ok(i) => i.to_string(),
            Err(_) => row.try_get::<String, _>(*c).unwrap_or_default(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn key_id_of(row: &AnyRow) -> Option<u32> {
    row.try_get::<Option<i64>, _>("key_id")
        .ok()
        .flatten()
        .and_then(|k| u32::try_from(k).ok())
}

impl Store {
    /// Opens a text column of a row that may be sealed (`sealed`: its `key_id` is set).
    pub(crate) fn open_text_column(
        &self,
        row: &AnyRow,
        column_name: &str,
        column: Column,
        row_key: &str,
        sealed: bool,
    ) -> Result<Option<String>, IdentityError> {
        let value = super::opt_text(row, column_name);
        match value {
            Some(v) if sealed => self.identity().open_text(column, row_key, &v).map(Some),
            other => Ok(other),
        }
    }

    /// A reporter's identity as JSON, from a row with the `reporters` columns under `prefix`.
    pub(crate) fn identity_from_row(
        &self,
        row: &AnyRow,
        prefix: &str,
        report_id: i64,
    ) -> Result<serde_json::Value, IdentityError> {
        let sealed = row
            .try_get::<Option<i64>, _>(format!("{prefix}key_id").as_str())
            .ok()
            .flatten()
            .is_some();
        let rk = report_id.to_string();
        let get = |name: &str, column| {
            self.open_text_column(row, &format!("{prefix}{name}"), column, &rk, sealed)
        };
        Ok(serde_json::json!({
            "name": get("name", Column::ReporterName)?,
            "phone": get("phone", Column::ReporterPhone)?,
            "email": get("email", Column::ReporterEmail)?,
            "id_number": get("id_number", Column::ReporterIdNumber)?,
            "anonymous": row.try_get::<Option<i64>, _>(format!("{prefix}anonymous").as_str()).ok().flatten().unwrap_or(0) != 0,
        }))
    }

    /// Rows per key over every table holding identity.
    pub async fn key_status(&self) -> anyhow::Result<KeyStatus> {
        let mut status = KeyStatus::default();
        for t in TABLES {
            let sql = format!(
                "SELECT key_id, COUNT(*) AS n FROM {} WHERE {} GROUP BY key_id",
                t.table, t.filter
            );
            let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
            let per = status.by_table.entry(t.table).or_default();
            for row in rows {
                let n: i64 = row.try_get("n")?;
                match key_id_of(&row) {
                    Some(id) => {
                        *status.by_key.entry(id).or_default() += n;
                        *per.entry(id).or_default() += n;
                    }
                    None => {
                        status.clear += n;
                        *per.entry(0).or_default() += n;
                    }
                }
            }
        }
        Ok(status)
    }

    /// At start-up: every key the database uses must be at hand (else nothing is written and the
    /// missing key is named); fresh keys are then written to the key file; identity still in clear
    /// is sealed.
    pub(super) async fn check_identity_keys(&self) -> anyhow::Result<()> {
        let status = self.key_status().await?;
        let held = self.identity().ids();
        let missing: Vec<u32> = status
            .by_key
            .keys()
            .copied()
            .filter(|id| !held.contains(id))
            .collect();
        if !missing.is_empty() {
            let fresh = if self.identity().is_fresh() {
                " (no key file was found, so none was created)"
            } else {
                ""
            };
            anyhow::bail!(
                "{}: the database holds reporter identity sealed with key(s) {missing:?}, which {} does not hold{fresh}; \
                 restore the key file from its backup or set TIPLINE_IDENTITY_KEY / identity_key_file",
                IdentityError::MissingKey(missing[0]).code(),
                self.identity().source()
            );
        }
        self.identity().save_new()?;
        if status.clear > 0 {
            let done = self.reseal(true).await?;
            tracing::info!(
                rows = done.resealed,
                "reporter identity stored in clear was sealed"
            );
        }
        Ok(())
    }

    /// Seals with the current key every row that uses another key (or, with `only_clear`, every
    /// row still in clear). Rows whose key is missing are counted and left alone.
    pub async fn reseal(&self, only_clear: bool) -> anyhow::Result<Resealed> {
        let mut done = Resealed::default();
        for t in TABLES {
            let mut after = i64::MIN;
            loop {
                let sealer = self.identity().sealer();
                let current = i64::from(sealer.id());
                let which = if only_clear {
                    "key_id IS NULL"
                } else {
                    "(key_id IS NULL OR key_id <> $3)"
                };
                let columns: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
                let sql = format!(
                    "SELECT {pk} AS pk_, {keys}, {cols}, key_id FROM {table} WHERE {pk} > $1 AND {which} AND {filter} \
                     ORDER BY {pk} LIMIT $2",
                    pk = t.pk,
                    keys = t.row_key.join(", "),
                    cols = columns.join(", "),
                    table = t.table,
                    filter = t.filter,
                );
                let mut query = sqlx::query(&sql).bind(after).bind(RESEAL_PAGE);
                if !only_clear {
                    query = query.bind(current);
                }
                let rows = query.fetch_all(self.pool()).await?;
                let Some(last) = rows.last() else { break };
                after = last.try_get("pk_")?;
                let mut tx = self.begin_write().await?;
                for row in &rows {
                    let rk = row_key(row, t.row_key);
                    let old = key_id_of(row);
                    let mut values = Vec::with_capacity(t.columns.len() + 3);
                    let mut clear_texts: BTreeMap<&str, String> = BTreeMap::new();
                    let mut readable = true;
                    for (name, column, kind) in t.columns {
                        let clear: Option<Vec<u8>> = match kind {
                            Kind::Text => super::opt_text(row, name).map(String::into_bytes),
                            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(*name).ok().flatten(),
                        };
                        let clear = match (clear, old) {
                            (None, _) => None,
                            (Some(v), None) => Some(v),
                            (Some(v), Some(_)) => {
                                let opened = match kind {
                                    Kind::Text => std::str::from_utf8(&v)
                                        .map_err(|_| IdentityError::Damaged(column.name()))
                                        .and_then(|s| self.identity().open_text(*column, &rk, s))
                                        .map(String::into_bytes),
                                    Kind::Bytes => self.identity().open(*column, &rk, &v),
                                };
                                match opened {
                                    Ok(c) => Some(c),
                                    Err(e) => {
                                        tracing::warn!(table = t.table, row = %rk, error = %e, "cannot re-seal a row");
                                        readable = false;
                                        break;
                                    }
                                }
                            }
                        };
                        values.push(match (kind, clear) {
                            (_, None) => Value::Text(None),
                            (Kind::Text, Some(c)) => {
                                let text = String::from_utf8_lossy(&c).into_owned();
                                let sealed = sealer.seal_text(*column, &rk, &text);
                                clear_texts.insert(*name, text);
                                Value::Text(Some(sealed))
                            }
                            (Kind::Bytes, Some(c)) => {
                                Value::Bytes(Some(sealer.seal(*column, &rk, &c)))
                            }
                        });
                    }
                    if !readable {
                        done.unreadable += 1;
                        continue;
                    }
                    let mut sets: Vec<String> = columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| format!("{c} = ${}", i + 1))
                        .collect();
                    // Bytes columns take NULL as bytes (PostgreSQL types the parameter).
                    for (v, (_, _, kind)) in values.iter_mut().zip(t.columns) {
                        if matches!(v, Value::Text(None)) && *kind == Kind::Bytes {
                            *v = Value::Bytes(None);
                        }
                    }
                    if t.table == "reporters" {
                        // The blind index, for rows written before it existed.
                        let key = crate::ingest::reporter_key(
                            self.identity(),
                            clear_texts.get("phone").map(String::as_str),
                            clear_texts.get("email").map(String::as_str),
                        );
                        sets.push(format!("reporter_key = ${}", values.len() + 1));
                        values.push(Value::Text(key));
                    }
                    sets.push(format!("key_id = ${}", values.len() + 1));
                    values.push(Value::Int(current));
                    let pk: i64 = row.try_get("pk_")?;
                    values.push(Value::Int(pk));
                    let mut sql = format!(
                        "UPDATE {} SET {} WHERE {} = ${}",
                        t.table,
                        sets.join(", "),
                        t.pk,
                        values.len()
                    );
                    match old {
                        None => sql.push_str(" AND key_id IS NULL"),
                        Some(k) => {
                            values.push(Value::Int(i64::from(k)));
                            sql.push_str(&format!(" AND key_id = ${}", values.len()));
                        }
                    }
                    let changed = bind_all(sqlx::query(&sql), values)
                        .execute(&mut *tx)
                        .await
                        .with_context(|| format!("re-seal a row of {}", t.table))?;
                    done.resealed += changed.rows_affected();
                }
                tx.commit().await.context("commit of re-sealed rows")?;
            }
        }
        Ok(done)
    }
}
