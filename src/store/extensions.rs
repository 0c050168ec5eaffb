//! Extension requests (延期): an officer asks for more working days with a reason; a leader of the
//! handling jurisdiction (or above) approves or denies. Approval moves the current step's deadline
//! and the later ones on the working-day calendar. Each act is one transaction with its event; a
//! request on a case from a 12345 order is also a reply to the platform (延期申请).

use super::{now_text, Store};
use sqlx::Row;
use std::collections::HashMap;

/// Why an extension act was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    /// No such case or request.
    #[error("not found")]
    NotFound,
    /// The act contradicts the state of the case or the request: (zh, en).
    #[error("{1}")]
    Conflict(String, String),
    /// A database error.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ExtensionError {
    fn from(e: sqlx::Error) -> Self {
        ExtensionError::Store(e.into())
    }
}

const COLUMNS: &str = "case_id, n, state, days, reason, requested_by, requested_at, decided_by, \
                       decided_at, decision_reason";

fn view(row: &sqlx::any::AnyRow) -> Result<serde_json::Value, sqlx::Error> {
    Ok(serde_json::json!({
        "case_id": row.try_get::<i64, _>("case_id")?,
        "n": row.try_get::<i64, _>("n")?,
        "state": row.try_get::<String, _>("state")?,
        "days": row.try_get::<i64, _>("days")?,
        "reason": row.try_get::<String, _>("reason")?,
        "requested_by": row.try_get::<String, _>("requested_by")?,
        "requested_at": row.try_get::<String, _>("requested_at")?,
        "decided_by": super::opt_text(row, "decided_by"),
        "decided_at": super::opt_text(row, "decided_at"),
        "decision_reason": super::opt_text(row, "decision_reason"),
    }))
}

async fn event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: i64,
    actor: &str,
    kind: &str,
    data: &serde_json::Value,
    at: &str,
) -> anyhow::Result<()> {
    let seq: i64 = sqlx::query(
        "INSERT INTO events (at, actor, kind, case_id, report_id, data) \
         VALUES ($1, $2, $3, $4, NULL, $5) RETURNING seq",
    )
    .bind(at.to_string())
    .bind(actor.to_string())
    .bind(kind.to_string())
    .bind(case_id)
    .bind(data.to_string())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    crate::outbox::platform::enqueue(tx, case_id, seq, kind, data, at).await
}

fn state_conflict(state: &str) -> ExtensionError {
    let label = crate::casework::state_label(state);
    ExtensionError::Conflict(
        format!("案件当前状态为“{label}”，没有可延长的办理时限"),
        format!("a case in state {state} has no deadline to extend"),
    )
}

impl Store {
    /// Records an officer's request for `days` more working days; returns its number `n`.
    pub async fn request_extension(
        &self,
        case_id: i64,
        days: i64,
        reason: &str,
        actor: &str,
    ) -> Result<i64, ExtensionError> {
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let state: String = sqlx::query("SELECT state FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ExtensionError::NotFound)?
            .try_get(0)?;
        if crate::casework::deadline_step(&state).is_none() {
            return Err(state_conflict(&state));
        }
        let pending: i64 =
            sqlx::query("SELECT COUNT(*) FROM extensions WHERE case_id = $1 AND state = 'pending'")
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        if pending > 0 {
            return Err(ExtensionError::Conflict(
                "该案件已有待审批的延期申请".into(),
                "the case already has a pending extension request".into(),
            ));
        }
        let n: i64 =
            sqlx::query("SELECT COALESCE(MAX(n), 0) + 1 FROM extensions WHERE case_id = $1")
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        sqlx::query(
            "INSERT INTO extensions (case_id, n, state, days, reason, requested_by, requested_at) \
             VALUES ($1, $2, 'pending', $3, $4, $5, $6)",
        )
        .bind(case_id)
        .bind(n)
        .bind(days)
        .bind(reason.to_string())
        .bind(actor.to_string())
        .bind(now.clone())
        .execute(&mut *tx)
        .await?;
        let data = serde_json::json!({"n": n, "days": days, "reason": reason});
        event(
            &mut tx,
            case_id,
            actor,
            "case.extension_requested",
            &data,
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Records a leader's decision on request `n`; an approval moves the deadlines (and the case's
    /// version). Returns the request as decided.
    pub async fn decide_extension(
        &self,
        case_id: i64,
        n: i64,
        approve: bool,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<serde_json::Value, ExtensionError> {
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let request = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM extensions WHERE case_id = $1 AND n = $2"
        ))
        .bind(case_id)
        .bind(n)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ExtensionError::NotFound)?;
        let current: String = request.try_get("state")?;
        if current != "pending" {
            return Err(ExtensionError::Conflict(
                format!(
                    "该延期申请已审批（{}），不能再次审批",
                    decision_label(&current)
                ),
                format!("the extension request was already decided ({current})"),
            ));
        }
        let days: i64 = request.try_get("days")?;
        let mut data = serde_json::json!({"n": n, "days": days, "reason": reason});
        if approve {
            let case = sqlx::query("SELECT state, deadlines, due_at FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?;
            let state: String = case.try_get("state")?;
            let deadlines: serde_json::Value = super::opt_text(&case, "deadlines")
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default();
            let extended = crate::casework::extended(
                &state,
                &deadlines,
                u32::try_from(days).unwrap_or(0),
                triage::WorkCalendar::embedded(),
            )
            .ok_or_else(|| state_conflict(&state))?;
            let due_at = crate::casework::due_for(&state, &extended);
            sqlx::query(
                "UPDATE cases SET deadlines = $1, due_at = $2, updated_at = $3, \
                 version = version + 1 WHERE id = $4",
            )
            .bind(extended.to_string())
            .bind(due_at.clone())
            .bind(now.clone())
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
            data["due_before"] = serde_json::json!(super::opt_text(&case, "due_at"));
            data["due_after"] = serde_json::json!(due_at);
        }
        let decided = if approve { "approved" } else { "denied" };
        sqlx::query(
            "UPDATE extensions SET state = $1, decided_by = $2, decided_at = $3, \
             decision_reason = $4 WHERE case_id = $5 AND n = $6",
        )
        .bind(decided.to_string())
        .bind(actor.to_string())
        .bind(now.clone())
        .bind(reason.map(str::to_string))
        .bind(case_id)
        .bind(n)
        .execute(&mut *tx)
        .await?;
        let kind = format!("case.extension_{decided}");
        event(&mut tx, case_id, actor, &kind, &data, &now).await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM extensions WHERE case_id = $1 AND n = $2"
        ))
        .bind(case_id)
        .bind(n)
        .fetch_one(&mut *tx)
        .await?;
        let out = view(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    /// The extension requests of a case, oldest first.
    pub async fn extensions(&self, case_id: i64) -> anyhow::Result<Vec<serde_json::Value>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM extensions WHERE case_id = $1 ORDER BY n"
        ))
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(view).collect::<Result<_, _>>()?)
    }

    /// The latest extension request of each of the cases that have one.
    pub async fn latest_extensions(
        &self,
        case_ids: &[i64],
    ) -> anyhow::Result<HashMap<i64, serde_json::Value>> {
        let mut out = HashMap::new();
        for chunk in case_ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM extensions WHERE case_id IN ({}) ORDER BY case_id, n",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(self.pool()).await? {
                let v = view(&row)?;
                out.insert(row.try_get::<i64, _>("case_id")?, v);
            }
        }
        Ok(out)
    }
}

/// The Chinese name of a request's state.
pub fn decision_label(state: &str) -> &str {
    match state {
        "pending" => "待审批",
        "approved" => "已批准",
        "denied" => "未批准",
        other => other,
    }
}
