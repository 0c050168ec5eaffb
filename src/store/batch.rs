//! One batch of the group-commit writer: every row of every report in one transaction.

use super::{now_text, Backend, Store};
use crate::identity::Column;
use anyhow::Context;
use intake::Envelope;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};
use std::collections::BTreeMap;

/// A case to open for a report.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Allocated id.
    pub case_id: i64,
    /// State to open in (`received`, `routed`, `transferred`).
    pub state: String,
    /// Subject name, if known.
    pub subject_name: Option<String>,
    /// Normalized subject key (the subject's record).
    pub subject_key: Option<String>,
    /// Subject kind code.
    pub subject_kind: String,
    /// JSON list of category codes.
    pub categories: String,
    /// County-level locus.
    pub locus: Option<String>,
    /// Handling division code or `home`.
    pub handling: String,
    /// JSON list of referral codes.
    pub referrals: String,
    /// Transfer target, if any.
    pub transfer: Option<String>,
    /// Deadline (RFC 3339), if any.
    pub deadline: Option<String>,
    /// The step deadlines (JSON), if computed.
    pub deadlines: Option<String>,
    /// The deadline due in the opening state (UTC RFC 3339).
    pub due_at: Option<String>,
}

/// How a report meets its case.
#[derive(Debug, Clone)]
pub enum CaseLink {
    /// The report opens a new case.
    Open(NewCase),
    /// The report joins an existing case.
    Join {
        /// The case.
        case_id: i64,
        /// `repeat` or `same_matter`.
        link: &'static str,
        /// Counts as a repeat report (重复件).
        repeat: bool,
        /// Category codes this report adds to the case.
        categories: Vec<String>,
    },
}

/// A report ready to store.
#[derive(Debug, Clone)]
pub struct BatchItem {
    /// Allocated id.
    pub report_id: i64,
    /// The user who logged it, if any.
    pub logged_by: Option<i64>,
    /// SHA-256 of an anonymous reporter's receipt code, if one was given.
    pub receipt_hash: Option<String>,
    /// The parsed envelope.
    pub envelope: Envelope,
    /// Content type of the raw payload.
    pub raw_content_type: String,
    /// The payload exactly as received.
    pub raw_payload: String,
    /// The payload exactly as received, when it is bytes (a mail).
    pub raw_bytes: Option<Vec<u8>>,
    /// Attachments of the report.
    pub attachments: Vec<Attachment>,
    /// Decisions with reasons (JSON).
    pub decisions: String,
    /// Hash of the normalized content.
    pub fingerprint: String,
    /// Its case.
    pub case: CaseLink,
    /// The subject's record, when the subject is known: key, name, kind code.
    pub subject: Option<SubjectRef>,
    /// Events to append: (kind, JSON data).
    pub events: Vec<(String, String)>,
    /// Users this report names, excluded from its case (conflict of interest).
    pub exclusions: Vec<super::Exclusion>,
}

/// An attachment of a report (mail), kept or refused.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// File name as given (decoded).
    pub file_name: String,
    /// Content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// The bytes; `None` when refused.
    pub data: Option<Vec<u8>>,
    /// Why it was refused.
    pub rejected: Option<String>,
}

/// A report's subject, as a record key.
#[derive(Debug, Clone)]
pub struct SubjectRef {
    /// Normalized key (see `intake::dedup::subject_key`).
    pub key: String,
    /// Full name as found.
    pub name: String,
    /// Kind code.
    pub kind: String,
    /// Locus, if known.
    pub locus: Option<String>,
}

/// What the batch stored for one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// Report id.
    pub report_id: i64,
    /// Case id.
    pub case_id: i64,
    /// Case number.
    pub case_no: String,
}

pub(super) enum Value {
    Int(i64),
    OptInt(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

pub(super) fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    values: Vec<Value>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for v in values {
        query = match v {
            Value::Int(i) => query.bind(i),
            Value::OptInt(i) => query.bind(i),
            Value::Text(t) => query.bind(t),
            Value::Bytes(b) => query.bind(b),
        };
    }
    query
}

/// `INSERT INTO table (cols) VALUES ($1, $2), ($3, $4) …` for `rows` rows; on SQLite with
/// anonymous `?` parameters, which SQLite binds by position: a numbered one is looked up by a
/// linear scan of the statement's parameter names each time sqlx binds it.
fn insert_sql(backend: Backend, table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

const CASE_COLUMNS: &[&str] = &[
    "id",
    "case_no",
    "state",
    "subject_name",
    "subject_key",
    "subject_kind",
    "categories",
    "locus",
    "handling",
    "referrals",
    "transfer",
    "deadline",
    "deadlines",
    "due_at",
    "opened_at",
    "updated_at",
];

/// Most bound values in one statement. Kept small on purpose: SQLite looks a `$N` parameter up
/// by a linear scan, both when preparing and when sqlx binds, so one statement with `n`
/// parameters costs O(n²) (with 30,000 parameters that was half of an import's CPU time). SQLite
/// statements now bind anonymous `?` parameters instead, and 4,096 values per statement measured
/// no faster than 256 (import of 30,000 reports, alternated runs).
const MAX_BINDS: usize = 256;

/// How many rows each statement takes: the largest powers of two that fit the bound-value limit,
/// so that a table has at most a handful of distinct statements, all reused from sqlx's
/// per-connection statement cache instead of prepared anew for every batch size.
pub(super) fn statement_sizes(rows: usize, columns: usize) -> Vec<usize> {
    let cap = (MAX_BINDS / columns.max(1)).max(1);
    let largest = if cap.is_power_of_two() {
        cap
    } else {
        cap.next_power_of_two() / 2
    };
    let mut sizes = Vec::new();
    let mut left = rows;
    let mut size = largest;
    while left > 0 {
        while size > left {
            size /= 2;
        }
        sizes.push(size);
        left -= size;
    }
    sizes
}

async fn insert_rows(
    backend: Backend,
    tx: &mut sqlx::Transaction<'_, Any>,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<()> {
    let sizes = statement_sizes(rows.len(), columns.len());
    let mut rows = rows.into_iter();
    for size in sizes {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(size).collect();
        let sql = insert_sql(backend, table, columns, chunk.len());
        let query = bind_all(sqlx::query(&sql), chunk.into_iter().flatten().collect());
        query
            .execute(&mut **tx)
            .await
            .with_context(|| format!("insert into {table}"))?;
    }
    Ok(())
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

fn opt(s: &Option<String>) -> Value {
    Value::Text(s.clone())
}

impl Store {
    /// Stores a batch in one transaction and returns, per item, its report and case.
    /// Nothing is visible, and nothing may be acknowledged, before this returns `Ok`.
    pub async fn commit_batch(&self, items: &[BatchItem]) -> anyhow::Result<Vec<StoredReport>> {
        let now = now_text();
        let mut tx = self.begin_write().await?;

        // Case numbers: one counter per year of receipt, advanced once per batch.
        let mut per_year: BTreeMap<i32, i64> = BTreeMap::new();
        for item in items {
            if matches!(item.case, CaseLink::Open(_)) {
                *per_year.entry(case_year(&item.envelope)).or_default() += 1;
            }
        }
        let mut next_number: BTreeMap<i32, i64> = BTreeMap::new();
        for (year, count) in &per_year {
            let name = format!("case_no:{year}");
            sqlx::query(
                "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name.clone())
            .execute(&mut *tx)
            .await?;
            let end: i64 = sqlx::query(
                "UPDATE counters SET value = value + $1 WHERE name = $2 RETURNING value",
            )
            .bind(*count)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            next_number.insert(*year, end - count + 1);
        }

        let prefix = self.case_prefix();
        // One key for the whole batch, so that each row's `key_id` names the key of its values.
        let sealer = self.identity().sealer();
        let key_id = i64::from(sealer.id());
        let mut stored = Vec::with_capacity(items.len());
        let mut case_rows = Vec::new();
        let mut report_rows = Vec::with_capacity(items.len());
        let mut raw_rows = Vec::with_capacity(items.len());
        let mut attachment_rows = Vec::new();
        let mut reporter_rows = Vec::new();
        let mut link_rows = Vec::with_capacity(items.len());
        let mut event_rows = Vec::new();
        let mut case_no_of: BTreeMap<i64, String> = BTreeMap::new();

        // Cases first, so that a report joining a case opened earlier in this batch finds it.
        for item in items {
            if let CaseLink::Open(case) = &item.case {
                let year = case_year(&item.envelope);
                let seq = next_number.get_mut(&year).expect("counted above");
                let case_no = format!("{prefix}{year}{:06}", *seq);
                *seq += 1;
                case_no_of.insert(case.case_id, case_no.clone());
                case_rows.push(vec![
                    Value::Int(case.case_id),
                    text(&case_no),
                    text(&case.state),
                    opt(&case.subject_name),
                    opt(&case.subject_key),
                    text(&case.subject_kind),
                    text(&case.categories),
                    opt(&case.locus),
                    text(&case.handling),
                    text(&case.referrals),
                    opt(&case.transfer),
                    opt(&case.deadline),
                    opt(&case.deadlines),
                    opt(&case.due_at),
                    text(&now),
                    text(&now),
                ]);
            }
        }
        insert_rows(
            self.backend(),
            &mut tx,
            "cases",
            CASE_COLUMNS,
            std::mem::take(&mut case_rows),
        )
        .await?;

        for item in items {
            let env = &item.envelope;
            let (case_id, link) = match &item.case {
                CaseLink::Open(case) => (case.case_id, "opened"),
                CaseLink::Join {
                    case_id,
                    link,
                    repeat,
                    categories,
                } => {
                    let case_no = self
                        .join_case(&mut tx, *case_id, *repeat, categories, &now)
                        .await?;
                    case_no_of.insert(*case_id, case_no);
                    (*case_id, *link)
                }
            };
            report_rows.push(vec![
                Value::Int(item.report_id),
                text(env.channel.code()),
                text(&env.external_id),
                text(&env.received_at.to_rfc3339()),
                Value::Int(env.received_at.timestamp_millis()),
                opt(&env.title),
                text(&env.text),
                opt(&env.address),
                Value::Text(env.deadline.map(|d| d.to_rfc3339())),
                Value::Text(
                    env.subject
                        .as_ref()
                        .map(|s| serde_json::to_string(s).expect("serializable")),
                ),
                text(&item.decisions),
                text(&item.fingerprint),
                Value::Text(item.subject.as_ref().map(|s| s.key.clone())),
                Value::Int(case_id),
                Value::OptInt(item.logged_by),
                text(&now),
            ]);
            // Identity is sealed before it reaches a statement: the raw payload holds the
            // reporter's own copy of it (the form post, the 12345 order, the .eml).
            let row_key = item.report_id.to_string();
            raw_rows.push(vec![
                Value::Int(item.report_id),
                text(&item.raw_content_type),
                Value::Text(Some(sealer.seal_text(
                    Column::RawPayload,
                    &row_key,
                    &item.raw_payload,
                ))),
                Value::Bytes(
                    item.raw_bytes
                        .as_ref()
                        .map(|b| sealer.seal(Column::RawBytes, &row_key, b)),
                ),
                Value::Int(key_id),
            ]);
            for a in &item.attachments {
                // One statement per attachment: their bytes can be large.
                attachment_rows.push(vec![
                    Value::Int(item.report_id),
                    text(&a.file_name),
                    text(&a.content_type),
                    Value::Int(a.size),
                    text(&a.sha256),
                    Value::Bytes(a.data.clone()),
                    opt(&a.rejected),
                ]);
            }
            let r = &env.reporter;
            if !r.is_empty() || r.anonymous {
                let seal = |column, v: &Option<String>| {
                    Value::Text(v.as_deref().map(|v| sealer.seal_text(column, &row_key, v)))
                };
                reporter_rows.push(vec![
                    Value::Int(item.report_id),
                    seal(Column::ReporterName, &r.name),
                    seal(Column::ReporterPhone, &r.phone),
                    seal(Column::ReporterEmail, &r.email),
                    seal(Column::ReporterIdNumber, &r.id_number),
                    Value::Int(i64::from(r.anonymous)),
                    Value::Text(crate::ingest::reporter_key(
                        self.identity(),
                        r.phone.as_deref(),
                        r.email.as_deref(),
                    )),
                    Value::Int(key_id),
                ]);
            }
            link_rows.push(vec![
                Value::Int(item.report_id),
                Value::Int(case_id),
                text(link),
                text(&now),
            ]);
            for (kind, data) in &item.events {
                event_rows.push(vec![
                    text(&now),
                    text("system"),
                    text(kind),
                    Value::Int(case_id),
                    Value::Int(item.report_id),
                    text(data),
                ]);
            }
            stored.push(StoredReport {
                report_id: item.report_id,
                case_id,
                case_no: String::new(),
            });
        }
        for s in &mut stored {
            s.case_no = case_no_of.get(&s.case_id).cloned().unwrap_or_default();
        }

        insert_rows(
            self.backend(),
            &mut tx,
            "reports",
            &[
                "id",
                "channel",
                "external_id",
                "received_at",
                "received_ts",
                "title",
                "text",
                "address",
                "deadline",
                "subject_json",
                "decisions",
                "fingerprint",
                "subject_key",
                "case_id",
                "logged_by",
                "stored_at",
            ],
            report_rows,
        )
        .await?;
        insert_rows(
            self.backend(),
            &mut tx,
            "report_raw",
            &[
                "report_id",
                "content_type",
                "payload",
                "payload_bytes",
                "key_id",
            ],
            raw_rows,
        )
        .await?;
        for row in attachment_rows {
            insert_rows(
                self.backend(),
                &mut tx,
                "attachments",
                &[
                    "report_id",
                    "file_name",
                    "content_type",
                    "size",
                    "sha256",
                    "data",
                    "rejected",
                ],
                vec![row],
            )
            .await?;
        }
        insert_rows(
            self.backend(),
            &mut tx,
            "reporters",
            &[
                "report_id",
                "name",
                "phone",
                "email",
                "id_number",
                "anonymous",
                "reporter_key",
                "key_id",
            ],
            reporter_rows,
        )
        .await?;
        let receipt_rows: Vec<Vec<Value>> = items
            .iter()
            .zip(&stored)
            .filter_map(|(item, s)| {
                let hash = item.receipt_hash.clone()?;
                Some(vec![
                    text(&hash),
                    Value::Int(s.report_id),
                    Value::Int(s.case_id),
                    text(&now),
                ])
            })
            .collect();
        insert_rows(
            self.backend(),
            &mut tx,
            "receipts",
            &["code_hash", "report_id", "case_id", "created_at"],
            receipt_rows,
        )
        .await?;
        insert_rows(
            self.backend(),
            &mut tx,
            "case_reports",
            &["report_id", "case_id", "link", "linked_at"],
            link_rows,
        )
        .await?;
        insert_rows(
            self.backend(),
            &mut tx,
            "events",
            &["at", "actor", "kind", "case_id", "report_id", "data"],
            event_rows,
        )
        .await?;
        self.upsert_subjects(&mut tx, items, &now).await?;
        let exclusions: Vec<super::Exclusion> = items
            .iter()
            .flat_map(|i| i.exclusions.iter().cloned())
            .collect();
        super::exclusions::insert_exclusions(&mut tx, &exclusions, &now).await?;
        // Mail the batch causes (receipts, referral letters, notices), in the same transaction.
        let case_nos: Vec<&str> = stored.iter().map(|s| s.case_no.as_str()).collect();
        crate::outbox::enqueue_batch(&mut tx, items, &case_nos, &now, &sealer).await?;
        tx.commit().await.context("commit of a batch of reports")?;
        Ok(stored)
    }

    /// Counts each subject of the batch once per report; one statement for the batch.
    async fn upsert_subjects(
        &self,
        tx: &mut sqlx::Transaction<'_, Any>,
        items: &[BatchItem],
        now: &str,
    ) -> anyhow::Result<()> {
        let mut per_key: BTreeMap<&str, (&SubjectRef, i64)> = BTreeMap::new();
        for s in items.iter().filter_map(|i| i.subject.as_ref()) {
            per_key.entry(s.key.as_str()).or_insert((s, 0)).1 += 1;
        }
        if per_key.is_empty() {
            return Ok(());
        }
        let columns = [
            "subject_key",
            "name",
            "kind",
            "locus",
            "first_seen",
            "last_seen",
            "report_count",
        ];
        let rows: Vec<Vec<Value>> = per_key
            .values()
            .map(|(s, n)| {
                vec![
                    text(&s.key),
                    text(&s.name),
                    text(&s.kind),
                    opt(&s.locus),
                    text(now),
                    text(now),
                    Value::Int(*n),
                ]
            })
            .collect();
        let mut start = 0;
        for size in statement_sizes(rows.len(), columns.len()) {
            let chunk = &rows[start..start + size];
            start += size;
            let mut sql = insert_sql(self.backend(), "subjects", &columns, chunk.len());
            sql.push_str(
                " ON CONFLICT (subject_key) DO UPDATE SET last_seen = excluded.last_seen, \
                 report_count = subjects.report_count + excluded.report_count",
            );
            let values = chunk
                .iter()
                .flat_map(|row| {
                    row.iter().map(|v| match v {
                        Value::Int(i) => Value::Int(*i),
                        Value::OptInt(i) => Value::OptInt(*i),
                        Value::Text(t) => Value::Text(t.clone()),
                        Value::Bytes(b) => Value::Bytes(b.clone()),
                    })
                })
                .collect();
            bind_all(sqlx::query(&sql), values)
                .execute(&mut **tx)
                .await
                .context("upsert subjects")?;
        }
        Ok(())
    }

    async fn join_case(
        &self,
        tx: &mut sqlx::Transaction<'_, Any>,
        case_id: i64,
        repeat: bool,
        add_categories: &[String],
        now: &str,
    ) -> anyhow::Result<String> {
        let row = sqlx::query("SELECT case_no, categories FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut **tx)
            .await
            .with_context(|| format!("case {case_id} to join"))?;
        let case_no: String = row.try_get("case_no")?;
        let mut categories: Vec<String> =
            serde_json::from_str(&row.try_get::<String, _>("categories")?)?;
        categories.extend(add_categories.iter().cloned());
        categories.sort();
        categories.dedup();
        if categories.len() > 1 {
            categories.retain(|c| c != "X");
        }
        sqlx::query(
            "UPDATE cases SET report_count = report_count + 1, repeat_count = repeat_count + $1, \
             categories = $2, updated_at = $3, version = version + 1 WHERE id = $4",
        )
        .bind(i64::from(repeat))
        .bind(serde_json::to_string(&categories)?)
        .bind(now.to_string())
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
        Ok(case_no)
    }
}

/// The year of a case number: the year of receipt in Beijing time.
fn case_year(envelope: &Envelope) -> i32 {
    use chrono::Datelike;
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    envelope.received_at.with_timezone(&beijing).year()
}
