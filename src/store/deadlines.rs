//! The deadline sweep's SQL: open cases due in a window without a given notice, the notice key
//! rows (`deadline_notices`), their events, and the notice flags of the queue.

use super::Store;
use sqlx::{Any, Row};

/// A notice about a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// The handling officers were reminded before the deadline.
    Reminded,
    /// The jurisdiction above was told that the deadline passed.
    Escalated,
}

impl NoticeKind {
    /// The stored code (`deadline_notices.kind`); the event is `case.<code>`.
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Reminded => "reminded",
            NoticeKind::Escalated => "escalated",
        }
    }
}

/// An open case with a current deadline, as the sweep reads it.
#[derive(Debug, Clone)]
pub struct DueCase {
    /// Case id.
    pub id: i64,
    /// Case number.
    pub case_no: String,
    /// State.
    pub state: String,
    /// Handling jurisdiction or `home`.
    pub handling: String,
    /// County-level locus.
    pub locus: Option<String>,
    /// Subject name.
    pub subject_name: Option<String>,
    /// Category codes.
    pub categories: Vec<String>,
    /// The current deadline (UTC, RFC 3339).
    pub due_at: String,
}

/// States that wait on a deadline (`casework::deadline_step`).
const WAITING: &str =
    "'received', 'routed', 'sent_back', 'signed_for', 'verifying', 'finding', 'actions', 'rectification'";

impl Store {
    /// Open cases whose current deadline lies in (`from`, `until`] and that have no `kind` notice
    /// for it, by deadline then id, after the keyset position `after`, at most `limit`.
    pub async fn cases_due(
        &self,
        from: Option<&str>,
        until: &str,
        kind: NoticeKind,
        after: Option<&(String, i64)>,
        limit: i64,
    ) -> anyhow::Result<Vec<DueCase>> {
        let mut sql = format!(
            "SELECT id, case_no, state, handling, locus, subject_name, categories, due_at FROM cases \
             WHERE due_at IS NOT NULL AND due_at <= $1 AND state IN ({WAITING}) \
             AND NOT EXISTS (SELECT 1 FROM deadline_notices n WHERE n.case_id = cases.id \
               AND n.due_at = cases.due_at AND n.kind = $2)"
        );
        let mut binds: Vec<String> = vec![until.to_string(), kind.code().to_string()];
        if let Some(from) = from {
            binds.push(from.to_string());
            sql.push_str(&format!(" AND due_at > ${}", binds.len()));
        }
        let mut after_id = None;
        if let Some((due, id)) = after {
            binds.push(due.clone());
            let n = binds.len();
            sql.push_str(&format!(
                " AND (due_at > ${n} OR (due_at = ${n} AND id > ${}))",
                n + 1
            ));
            after_id = Some(*id);
        }
        sql.push_str(&format!(" ORDER BY due_at, id LIMIT {}", limit.max(1)));
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b.clone());
        }
        if let Some(id) = after_id {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(DueCase {
                    id: r.try_get("id")?,
                    case_no: r.try_get("case_no")?,
                    state: r.try_get("state")?,
                    handling: r.try_get("handling")?,
                    locus: super::opt_text(r, "locus"),
                    subject_name: super::opt_text(r, "subject_name"),
                    categories: serde_json::from_str(&r.try_get::<String, _>("categories")?)
                        .unwrap_or_default(),
                    due_at: r.try_get("due_at")?,
                })
            })
            .collect()
    }

    /// The notices recorded for the current deadline of each case: (case id, kind code).
    pub async fn current_notices(
        &self,
        cases: &[(i64, Option<&str>)],
    ) -> anyhow::Result<Vec<(i64, String)>> {
        let with_due: Vec<(i64, &str)> = cases
            .iter()
            .filter_map(|(id, due)| due.map(|d| (*id, d)))
            .collect();
        if with_due.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=with_due.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT case_id, due_at, kind FROM deadline_notices WHERE case_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (id, _) in &with_due {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let mut out = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("case_id")?;
            let due: String = r.try_get("due_at")?;
            if with_due.iter().any(|(c, d)| *c == id && *d == due) {
                out.push((id, r.try_get("kind")?));
            }
        }
        Ok(out)
    }
}

/// Claims a notice: inserts its key row unless it exists, and checks that the case still waits
/// on that deadline (a step taken meanwhile moves it). False when there is nothing to do; the
/// caller's transaction is then unchanged.
pub async fn claim_notice(
    tx: &mut sqlx::Transaction<'_, Any>,
    case: &DueCase,
    step: &str,
    kind: NoticeKind,
    target: &str,
    now: &str,
) -> anyhow::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO deadline_notices (case_id, step, due_at, kind, at, target) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(case.id)
    .bind(step.to_string())
    .bind(case.due_at.clone())
    .bind(kind.code().to_string())
    .bind(now.to_string())
    .bind(target.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted != 1 {
        return Ok(false);
    }
    let still = sqlx::query("SELECT state, due_at FROM cases WHERE id = $1")
        .bind(case.id)
        .fetch_optional(&mut **tx)
        .await?
        .is_some_and(|r| {
            r.try_get::<String, _>("state").ok().as_deref() == Some(case.state.as_str())
                && super::opt_text(&r, "due_at").as_deref() == Some(case.due_at.as_str())
        });
    if !still {
        sqlx::query(
            "DELETE FROM deadline_notices WHERE case_id = $1 AND step = $2 AND due_at = $3 AND kind = $4",
        )
        .bind(case.id)
        .bind(step.to_string())
        .bind(case.due_at.clone())
        .bind(kind.code().to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(still)
}

/// Records a notice's event on the case (`case.reminded`, `case.escalated`) and how many were told.
pub async fn notice_event(
    tx: &mut sqlx::Transaction<'_, Any>,
    case_id: i64,
    kind: NoticeKind,
    data: &serde_json::Value,
    now: &str,
    recipients: usize,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO events (at, actor, kind, case_id, report_id, data) VALUES ($1, 'system:deadlines', $2, $3, NULL, $4)",
    )
    .bind(now.to_string())
    .bind(format!("case.{}", kind.code()))
    .bind(case_id)
    .bind(data.to_string())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE deadline_notices SET recipients = $1 WHERE case_id = $2 AND due_at = $3 AND kind = $4",
    )
    .bind(recipients as i64)
    .bind(case_id)
    .bind(data["due_at"].as_str().unwrap_or_default().to_string())
    .bind(kind.code().to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
