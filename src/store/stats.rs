//! The reads behind statistics and the monthly progress tables (`crate::stats`): plain facts —
//! reports, cases and the officers' steps — in a jurisdiction subtree, with no reporter identity.
//! Aggregation happens in `crate::stats`, the same way on both backends.

use super::Store;
use sqlx::Row;

/// Where: a division-code prefix and whether the home intake desk is included, as in
/// [`crate::scope::Scope`].
#[derive(Debug, Clone)]
pub struct Subtree {
    /// Division-code prefix ("" = nationwide).
    pub prefix: String,
    /// Whether cases still at the home intake desk count.
    pub home_too: bool,
}

impl Subtree {
    /// The SQL condition on `cases c` (same rule as `Scope::sees_case`), using parameter `$n`.
    fn clause(&self, n: usize) -> String {
        let home = if self.home_too {
            " OR c.handling = 'home'"
        } else {
            ""
        };
        format!("(c.handling LIKE ${n} OR c.locus LIKE ${n} OR c.transfer LIKE ${n}{home})")
    }

    fn like(&self) -> String {
        format!("{}%", self.prefix)
    }
}

/// One report, as statistics count it.
#[derive(Debug, Clone)]
pub struct ReportFact {
    /// Received, unix milliseconds.
    pub received_ts: i64,
    /// Channel code.
    pub channel: String,
    /// True for a repeat report (重复件).
    pub repeat: bool,
    /// Its case.
    pub case: CaseFact,
}

/// One case, as statistics and the monthly tables see it: the case and its step deadlines.
#[derive(Debug, Clone)]
pub struct CaseFact {
    /// The case.
    pub row: super::CaseRow,
    /// The step deadlines (JSON of `triage::Deadlines`; null when none).
    pub deadlines: serde_json::Value,
}

/// A case with its first report: when and through which channel it came.
#[derive(Debug, Clone)]
pub struct OpenedCase {
    /// The case.
    pub case: CaseFact,
    /// First report received, unix milliseconds.
    pub first_ts: i64,
    /// The first report's channel.
    pub channel: String,
}

/// One officer's step on a case (an event `case.<step>`), without the actor.
#[derive(Debug, Clone)]
pub struct StepFact {
    /// Case id.
    pub case_id: i64,
    /// Step code (`sign_for`, `record_finding`, …).
    pub step: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// What the step carried.
    pub data: serde_json::Value,
}

/// The case columns, qualified (`c.id, c.case_no, …`), and the step deadlines.
fn case_fields() -> String {
    let mut fields: Vec<String> = super::read::CASE_COLUMNS
        .split(',')
        .map(|c| format!("c.{}", c.trim()))
        .collect();
    fields.push("c.deadlines".to_string());
    fields.join(", ")
}

fn case_fact(row: &sqlx::any::AnyRow) -> anyhow::Result<CaseFact> {
    Ok(CaseFact {
        row: super::read::case_from_row(row)?,
        deadlines: super::opt_text(row, "deadlines")
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or_default(),
    })
}

impl Subtree {
    /// Runs a statement whose parameters are `$1` from, `$2` to and `$3` the subtree.
    async fn fetch(
        &self,
        store: &Store,
        sql: &str,
        from: i64,
        to: i64,
    ) -> anyhow::Result<Vec<sqlx::any::AnyRow>> {
        Ok(sqlx::query(sql)
            .bind(from)
            .bind(to)
            .bind(self.like())
            .fetch_all(store.pool())
            .await?)
    }
}

/// Event kinds read by statistics and the tables: the steps that carry deadlines and results.
const STEP_KINDS: &str = "'case.sign_for', 'case.close', 'case.record_finding', \
     'case.record_actions', 'case.record_rectification'";

impl Store {
    /// Reports received in `[from_ms, to_ms)` whose case lies in the subtree (merged cases'
    /// reports count with the case they moved to).
    pub async fn stats_reports(
        &self,
        within: &Subtree,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<Vec<ReportFact>> {
        let sql = format!(
            "SELECT r.received_ts, r.channel, cr.link, {} FROM reports r \
             JOIN cases c ON c.id = r.case_id LEFT JOIN case_reports cr ON cr.report_id = r.id \
             WHERE r.received_ts >= $1 AND r.received_ts < $2 AND {}",
            case_fields(),
            within.clause(3)
        );
        let rows = within.fetch(self, &sql, from_ms, to_ms).await?;
        rows.iter()
            .map(|row| {
                Ok(ReportFact {
                    received_ts: row.try_get("received_ts")?,
                    channel: row.try_get("channel")?,
                    repeat: super::opt_text(row, "link").as_deref() == Some("repeat"),
                    case: case_fact(row)?,
                })
            })
            .collect()
    }

    /// Cases in the subtree whose first report was received in `[from_ms, to_ms)`; merged
    /// cases are left out (their reports count with the case they moved to).
    pub async fn stats_cases(
        &self,
        within: &Subtree,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<Vec<OpenedCase>> {
        // A case's first report is one received in the period with no earlier report of the
        // same case (a tie in the same millisecond: the lower id). Read from the period's
        // reports through the time index, not by grouping the whole history per case.
        let sql = format!(
            "SELECT r0.received_ts AS first_ts, r0.channel, {} FROM reports r0 \
             JOIN cases c ON c.id = r0.case_id \
             WHERE r0.received_ts >= $1 AND r0.received_ts < $2 AND c.state <> 'merged' AND {} \
             AND NOT EXISTS (SELECT 1 FROM reports e WHERE e.case_id = r0.case_id \
               AND (e.received_ts < r0.received_ts OR (e.received_ts = r0.received_ts AND e.id < r0.id))) \
             ORDER BY c.id, r0.id",
            case_fields(),
            within.clause(3)
        );
        let rows = within.fetch(self, &sql, from_ms, to_ms).await?;
        let mut out: Vec<OpenedCase> = Vec::with_capacity(rows.len());
        for row in &rows {
            let case = case_fact(row)?;
            // Two first reports received in the same millisecond: the lower report id wins.
            if out.last().is_some_and(|o| o.case.row.id == case.row.id) {
                continue;
            }
            out.push(OpenedCase {
                first_ts: row.try_get("first_ts")?,
                channel: row.try_get("channel")?,
                case,
            });
        }
        Ok(out)
    }

    /// Cases of the given subject kinds in the subtree with a finding recorded in
    /// `[from_at, to_at)` (RFC 3339 UTC texts, as events store them).
    pub async fn cases_with_findings(
        &self,
        within: &Subtree,
        kinds: &[&str],
        from_at: &str,
        to_at: &str,
    ) -> anyhow::Result<Vec<CaseFact>> {
        let kinds: Vec<String> = kinds
            .iter()
            .filter(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .map(|k| format!("'{k}'"))
            .collect();
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM cases c WHERE c.state <> 'merged' AND c.subject_kind IN ({}) \
             AND {} AND EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id \
               AND e.kind = 'case.record_finding' AND e.at >= $2 AND e.at < $3) ORDER BY c.id",
            case_fields(),
            kinds.join(", "),
            within.clause(1)
        );
        let rows = sqlx::query(&sql)
            .bind(within.like())
            .bind(from_at.to_string())
            .bind(to_at.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(case_fact).collect()
    }

    /// The steps that statistics and tables read (sign-for, finding, actions, rectification,
    /// close) of these cases, taken before `before` (RFC 3339 UTC), in order.
    pub async fn case_steps(
        &self,
        case_ids: &[i64],
        before: Option<&str>,
    ) -> anyhow::Result<Vec<StepFact>> {
        let mut out = Vec::new();
        // Ids are integers from the database, inlined in chunks to keep statements small.
        for chunk in case_ids.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT case_id, kind, at, data FROM events WHERE case_id IN ({}) \
                 AND kind IN ({STEP_KINDS}) AND at < $1 ORDER BY seq",
                ids.join(", ")
            );
            let rows = sqlx::query(&sql)
                .bind(before.unwrap_or("9999").to_string())
                .fetch_all(self.pool())
                .await?;
            for row in &rows {
                let kind: String = row.try_get("kind")?;
                out.push(StepFact {
                    case_id: row.try_get("case_id")?,
                    step: kind.trim_start_matches("case.").to_string(),
                    at: row.try_get("at")?,
                    data: serde_json::from_str(&row.try_get::<String, _>("data")?)
                        .unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// Users of a role with an e-mail address: (id, name, jurisdiction, e-mail).
    pub async fn users_with_email(
        &self,
        role: super::Role,
    ) -> anyhow::Result<Vec<(i64, String, String, String)>> {
        let rows = sqlx::query(
            "SELECT id, name, jurisdiction, email FROM users WHERE role = $1 AND disabled = 0 \
             AND email IS NOT NULL AND email <> '' ORDER BY jurisdiction, id",
        )
        .bind(role.code().to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("name")?,
                    r.try_get("jurisdiction")?,
                    r.try_get("email")?,
                ))
            })
            .collect()
    }
}
