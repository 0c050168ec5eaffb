//! The audit log: append-only, read by `tipline audit`. It records acts on confidential data
//! (identity reveals, exports, searches), never the identity itself.

use super::{now_text, Store};
use sqlx::Row;

impl Store {
    /// Appends an audit entry.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        reason: Option<&str>,
        detail: serde_json::Value,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO audit (at, actor, action, target, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(now_text())
            .bind(actor.to_string())
            .bind(action.to_string())
            .bind(target.map(str::to_string))
            .bind(reason.map(str::to_string))
            .bind(detail.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The newest `limit` entries, newest first.
    pub async fn audit_list(&self, limit: i64) -> anyhow::Result<Vec<serde_json::Value>> {
        let rows = sqlx::query("SELECT seq, at, actor, action, target, reason, detail FROM audit ORDER BY seq DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(serde_json::json!({
                    "seq": r.try_get::<i64, _>("seq")?,
                    "at": r.try_get::<String, _>("at")?,
                    "actor": r.try_get::<String, _>("actor")?,
                    "action": r.try_get::<String, _>("action")?,
                    "target": super::opt_text(r, "target"),
                    "reason": super::opt_text(r, "reason"),
                    "detail": serde_json::from_str::<serde_json::Value>(&r.try_get::<String, _>("detail")?).unwrap_or_default(),
                }))
            })
            .collect()
    }

    /// The identity of a report's reporter, opened (confidential: callers must be entitled and
    /// audit it). A missing key is an [`crate::identity::IdentityError`] in the chain.
    pub async fn reporter_identity(
        &self,
        report_id: i64,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let row = sqlx::query(
            "SELECT name, phone, email, id_number, anonymous, key_id FROM reporters WHERE report_id = $1",
        )
        .bind(report_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row
            .map(|r| self.identity_from_row(&r, "", report_id))
            .transpose()?)
    }
}
