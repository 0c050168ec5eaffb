//! Reads: reports, cases, events, the export, and the history that rebuilds projections.

use super::{opt_text, Store};
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A stored report, without reporter identity.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    /// Report id.
    pub id: i64,
    /// Channel code.
    pub channel: String,
    /// The channel's own id.
    pub external_id: String,
    /// Time of arrival as given.
    pub received_at: String,
    /// Title.
    pub title: Option<String>,
    /// Text as received.
    pub text: String,
    /// Address.
    pub address: Option<String>,
    /// The channel's deadline.
    pub deadline: Option<String>,
    /// Structured subject, as given.
    pub subject: Option<serde_json::Value>,
    /// Decisions with reasons.
    pub decisions: serde_json::Value,
    /// The case.
    pub case_id: i64,
    /// The user who logged it, if any.
    #[serde(skip)]
    pub logged_by: Option<i64>,
}

const REPORT_COLUMNS: &str =
    "id, channel, external_id, received_at, title, text, address, deadline, subject_json, decisions, case_id, logged_by";

fn report_from_row(row: &AnyRow) -> anyhow::Result<ReportRow> {
    Ok(ReportRow {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        external_id: row.try_get("external_id")?,
        received_at: row.try_get("received_at")?,
        title: opt_text(row, "title"),
        text: row.try_get("text")?,
        address: opt_text(row, "address"),
        deadline: opt_text(row, "deadline"),
        subject: opt_text(row, "subject_json").and_then(|s| serde_json::from_str(&s).ok()),
        decisions: serde_json::from_str(&row.try_get::<String, _>("decisions")?)?,
        case_id: row.try_get("case_id")?,
        logged_by: row.try_get::<Option<i64>, _>("logged_by").ok().flatten(),
    })
}

/// A case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    /// Case id.
    pub id: i64,
    /// Case number.
    pub case_no: String,
    /// State.
    pub state: String,
    /// Subject name.
    pub subject_name: Option<String>,
    /// Normalized subject key.
    pub subject_key: Option<String>,
    /// Subject kind code.
    pub subject_kind: String,
    /// Category codes.
    pub categories: Vec<String>,
    /// County-level locus.
    pub locus: Option<String>,
    /// Handling division or `home`.
    pub handling: String,
    /// Referral codes.
    pub referrals: Vec<String>,
    /// Transfer target.
    pub transfer: Option<String>,
    /// Deadline of the reply.
    pub deadline: Option<String>,
    /// The deadline of the current step (UTC).
    pub due_at: Option<String>,
    /// Reports in the case.
    pub report_count: i64,
    /// Repeat reports (重复件).
    pub repeat_count: i64,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Opened.
    pub opened_at: String,
    /// Last change.
    pub updated_at: String,
}

pub(super) const CASE_COLUMNS: &str =
    "id, case_no, state, subject_name, subject_key, subject_kind, categories, locus, handling, \
     referrals, transfer, deadline, due_at, report_count, repeat_count, version, opened_at, updated_at";

pub(super) fn case_from_row(row: &AnyRow) -> anyhow::Result<CaseRow> {
    Ok(CaseRow {
        id: row.try_get("id")?,
        case_no: row.try_get("case_no")?,
        state: row.try_get("state")?,
        subject_name: opt_text(row, "subject_name"),
        subject_key: opt_text(row, "subject_key"),
        subject_kind: row.try_get("subject_kind")?,
        categories: serde_json::from_str(&row.try_get::<String, _>("categories")?)?,
        locus: opt_text(row, "locus"),
        handling: row.try_get("handling")?,
        referrals: serde_json::from_str(&row.try_get::<String, _>("referrals")?)?,
        transfer: opt_text(row, "transfer"),
        deadline: opt_text(row, "deadline"),
        due_at: opt_text(row, "due_at"),
        report_count: row.try_get("report_count")?,
        repeat_count: row.try_get("repeat_count")?,
        version: row.try_get("version")?,
        opened_at: row.try_get("opened_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// One event of the log.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// Sequence number.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub kind: String,
    /// The case.
    pub case_id: Option<i64>,
    /// The report.
    pub report_id: Option<i64>,
    /// Details and reasons.
    pub data: serde_json::Value,
}

/// An event's place in the log, without its data.
#[derive(Debug, Clone)]
pub struct EventMark {
    /// Sequence number.
    pub seq: i64,
    /// What.
    pub kind: String,
    /// The case.
    pub case_id: Option<i64>,
    /// The report.
    pub report_id: Option<i64>,
}

fn event_from_row(row: &AnyRow) -> anyhow::Result<EventRow> {
    Ok(EventRow {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        kind: row.try_get("kind")?,
        case_id: row.try_get::<Option<i64>, _>("case_id").ok().flatten(),
        report_id: row.try_get::<Option<i64>, _>("report_id").ok().flatten(),
        data: serde_json::from_str(&row.try_get::<String, _>("data")?)
            .unwrap_or(serde_json::Value::Null),
    })
}

/// A report with its case, for the export and the search index.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// The report.
    pub report: ReportRow,
    /// Its case number.
    pub case_no: String,
    /// Its case state.
    pub case_state: String,
    /// Reporter identity, when asked for.
    pub reporter: Option<serde_json::Value>,
}

/// What the duplicate index needs of a stored report to rebuild itself.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// The report.
    pub report: ReportRow,
    /// The reporter's blind index (see `ingest::reporter_key`).
    pub reporter_key: Option<String>,
    /// When its case was closed, if it is.
    pub case_closed_at: Option<String>,
}

impl Store {
    /// The reports stored under any of these idempotency keys: key → (report, case, case number).
    pub async fn find_by_keys(
        &self,
        keys: &[(String, String)],
    ) -> anyhow::Result<std::collections::HashMap<(String, String), (i64, i64, String)>> {
        let mut found = std::collections::HashMap::new();
        // Per channel, so that the lookup uses the `(channel, external_id)` unique index: with
        // `external_id` alone it was a scan of every report, once per batch.
        let mut per_channel: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for (channel, external_id) in keys {
            per_channel
                .entry(channel.as_str())
                .or_default()
                .push(external_id.as_str());
        }
        for (channel, ids) in per_channel {
            for chunk in ids.chunks(250) {
                let placeholders: Vec<String> =
                    (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT r.channel, r.external_id, r.id, r.case_id, c.case_no FROM reports r \
                     JOIN cases c ON c.id = r.case_id \
                     WHERE r.channel = $1 AND r.external_id IN ({})",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query(&sql).bind(channel.to_string());
                for external_id in chunk {
                    query = query.bind(external_id.to_string());
                }
                for row in query.fetch_all(self.pool()).await? {
                    let key: (String, String) = (row.try_get(0)?, row.try_get(1)?);
                    found.insert(key, (row.try_get(2)?, row.try_get(3)?, row.try_get(4)?));
                }
            }
        }
        Ok(found)
    }

    /// The content fingerprint of a stored report.
    pub async fn fingerprint(&self, report_id: i64) -> anyhow::Result<Option<String>> {
        let row = sqlx::query("SELECT fingerprint FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// The subject key recorded for a stored report, if any.
    pub async fn subject_key_of(&self, report_id: i64) -> anyhow::Result<Option<String>> {
        let row = sqlx::query("SELECT subject_key FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.and_then(|r| opt_text(&r, "subject_key")))
    }

    /// A report by id.
    pub async fn report(&self, id: i64) -> anyhow::Result<Option<ReportRow>> {
        let row = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    /// The reports of a case, oldest first.
    pub async fn case_reports(&self, case_id: i64) -> anyhow::Result<Vec<ReportRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE case_id = $1 ORDER BY received_ts, id"
        ))
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// A case by id.
    pub async fn case(&self, id: i64) -> anyhow::Result<Option<CaseRow>> {
        let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(case_from_row).transpose()
    }

    /// The events of a case, in order.
    pub async fn case_events(&self, case_id: i64) -> anyhow::Result<Vec<EventRow>> {
        // A `report.received` event points at its report's decisions (stored once, on the
        // report's row, which never changes) instead of carrying a copy of them.
        let rows = sqlx::query(
            "SELECT e.seq, e.at, e.actor, e.kind, e.case_id, e.report_id, \
             CASE WHEN e.kind = 'report.received' AND r.decisions IS NOT NULL THEN r.decisions \
             ELSE e.data END AS data \
             FROM events e LEFT JOIN reports r ON r.id = e.report_id \
             WHERE e.case_id = $1 ORDER BY e.seq",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Where the events after `seq` point (at most `limit`), for the search projection: only
    /// the sequence, kind and ids, not the data, which the indexer would read and parse for nothing
    /// (older `report.received` events carry the report's whole decisions).
    pub async fn event_marks_after(&self, seq: i64, limit: i64) -> anyhow::Result<Vec<EventMark>> {
        let rows = sqlx::query(
            "SELECT seq, kind, case_id, report_id FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EventMark {
                    seq: row.try_get(0)?,
                    kind: row.try_get(1)?,
                    case_id: row.try_get::<Option<i64>, _>(2)?,
                    report_id: row.try_get::<Option<i64>, _>(3)?,
                })
            })
            .collect()
    }

    /// The highest event sequence number.
    pub async fn last_event_seq(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    /// Number of reports.
    pub async fn report_count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM reports")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    /// Reports with their cases, by id from `after_id`, at most `limit`, for export and indexing.
    pub async fn export_page(
        &self,
        after_id: i64,
        limit: i64,
        with_identity: bool,
    ) -> anyhow::Result<Vec<ExportRow>> {
        self.export_where(
            "r.id > $1 ORDER BY r.id LIMIT $2",
            after_id,
            limit,
            with_identity,
        )
        .await
    }

    /// Given reports with their cases (for the indexer).
    pub async fn export_ids(&self, ids: &[i64]) -> anyhow::Result<Vec<ExportRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            // Ids are integers we produced: safe to inline.
            out.extend(
                self.export_where(
                    &format!("r.id IN ({list}) AND r.id > $1 ORDER BY r.id LIMIT $2"),
                    0,
                    i64::MAX,
                    false,
                )
                .await?,
            );
        }
        Ok(out)
    }

    async fn export_where(
        &self,
        clause: &str,
        a: i64,
        b: i64,
        with_identity: bool,
    ) -> anyhow::Result<Vec<ExportRow>> {
        let identity = if with_identity {
            ", p.name AS p_name, p.phone AS p_phone, p.email AS p_email, p.id_number AS p_id_number, \
             p.anonymous AS p_anonymous, p.key_id AS p_key_id"
        } else {
            ""
        };
        let join = if with_identity {
            "LEFT JOIN reporters p ON p.report_id = r.id"
        } else {
            ""
        };
        let sql = format!(
            "SELECT r.id, r.channel, r.external_id, r.received_at, r.title, r.text, r.address, r.deadline, r.subject_json, \
             r.decisions, r.case_id, c.case_no, c.state{identity} FROM reports r JOIN cases c ON c.id = r.case_id {join} WHERE {clause}"
        );
        let mut rows = sqlx::query(&sql).bind(a).bind(b).fetch(self.pool());
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await? {
            let reporter = if with_identity {
                Some(self.identity_from_row(&row, "p_", row.try_get("id")?)?)
            } else {
                None
            };
            out.push(ExportRow {
                report: report_from_row(&row)?,
                case_no: row.try_get("case_no")?,
                case_state: row.try_get("state")?,
                reporter,
            });
        }
        Ok(out)
    }

    /// Stored reports from `after_id` with what the duplicate index needs.
    pub async fn history_page(&self, after_id: i64, limit: i64) -> anyhow::Result<Vec<HistoryRow>> {
        let sql = format!(
            "SELECT r.{}, c.state, c.updated_at AS case_updated_at, p.reporter_key FROM reports r JOIN cases c ON c.id = r.case_id \
             LEFT JOIN reporters p ON p.report_id = r.id WHERE r.id > $1 ORDER BY r.id LIMIT $2",
            REPORT_COLUMNS.replace(", ", ", r.")
        );
        let rows = sqlx::query(&sql)
            .bind(after_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(HistoryRow {
                    report: report_from_row(row)?,
                    reporter_key: opt_text(row, "reporter_key"),
                    case_closed_at: match row.try_get::<String, _>("state")?.as_str() {
                        "closed" => opt_text(row, "case_updated_at"),
                        _ => None,
                    },
                })
            })
            .collect()
    }
}
