//! What the operator's desk and the admin pages read and change beyond the other modules: a
//! caller's earlier reports by the blind index of the phone, the users and tokens of a subtree,
//! and the audit log paged and filtered.

use super::users::user_from_row;
use super::{now_text, opt_text, Store, User};
use sqlx::Row;

/// An earlier report of a caller (found by the blind index of the phone, never the clear value).
#[derive(Debug, Clone)]
pub struct CallerReport {
    /// The report.
    pub report_id: i64,
    /// Its case.
    pub case_id: i64,
    /// Its channel.
    pub channel: String,
    /// When it came in.
    pub received_at: String,
    /// The user who logged it (an operator), if any.
    pub logged_by: Option<i64>,
}

/// A [`CallerReport`] from a row of `id, case_id, channel, received_at, logged_by`.
fn caller_report(r: &sqlx::any::AnyRow) -> anyhow::Result<CallerReport> {
    Ok(CallerReport {
        report_id: r.try_get(0)?,
        case_id: r.try_get(1)?,
        channel: r.try_get(2)?,
        received_at: r.try_get(3)?,
        logged_by: r.try_get::<Option<i64>, _>(4).ok().flatten(),
    })
}

/// A user as the admin page lists it.
#[derive(Debug, Clone)]
pub struct UserListing {
    /// The user.
    pub user: User,
    /// When added.
    pub created_at: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
    /// Names the user is known by (conflict of interest).
    pub aliases: Vec<String>,
}

/// A bearer token as the admin page lists it (never the token itself: only its digest is kept).
#[derive(Debug, Clone)]
pub struct TokenListing {
    /// Id.
    pub id: i64,
    /// Its user.
    pub user: User,
    /// When issued.
    pub created_at: String,
    /// When revoked, if it is.
    pub revoked_at: Option<String>,
}

/// One entry of the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Sequence number.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: Option<String>,
    /// Why (reveals).
    pub reason: Option<String>,
    /// Details (JSON text).
    pub detail: String,
}

impl Store {
    /// The newest `limit` reports whose reporter has this blind index, newest first.
    pub async fn reports_by_reporter_key(
        &self,
        key: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<CallerReport>> {
        let rows = sqlx::query(
            "SELECT r.id, r.case_id, r.channel, r.received_at, r.logged_by FROM reporters p \
             JOIN reports r ON r.id = p.report_id WHERE p.reporter_key = $1 \
             ORDER BY r.received_at DESC, r.id DESC LIMIT $2",
        )
        .bind(key.to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(caller_report).collect()
    }

    /// The newest `limit` reports a user logged (an operator's calls), newest first.
    pub async fn reports_logged_by(
        &self,
        user_id: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<CallerReport>> {
        let rows = sqlx::query(
            "SELECT id, case_id, channel, received_at, logged_by FROM reports \
             WHERE logged_by = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(caller_report).collect()
    }

    /// Users whose jurisdiction starts with `prefix` (a subtree), by name.
    pub async fn users_under(&self, prefix: &str) -> anyhow::Result<Vec<UserListing>> {
        let rows = sqlx::query(
            "SELECT id, name, role, jurisdiction, created_at, disabled FROM users \
             WHERE jurisdiction LIKE $1 ORDER BY name",
        )
        .bind(format!("{prefix}%"))
        .fetch_all(self.pool())
        .await?;
        let aliases = sqlx::query("SELECT user_id, alias FROM user_aliases ORDER BY alias")
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let user = user_from_row(r)?;
            let own = aliases
                .iter()
                .filter(|a| a.try_get::<i64, _>(0).ok() == Some(user.id))
                .filter_map(|a| a.try_get::<String, _>(1).ok())
                .collect();
            out.push(UserListing {
                created_at: r.try_get("created_at")?,
                disabled: r.try_get::<i64, _>("disabled")? != 0,
                aliases: own,
                user,
            });
        }
        Ok(out)
    }

    /// A user by name.
    pub async fn user_by_name(&self, name: &str) -> anyhow::Result<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, jurisdiction FROM users WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Changes a user's role and jurisdiction.
    pub async fn set_user_role(
        &self,
        user_id: i64,
        role: super::Role,
        jurisdiction: &str,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE users SET role = $1, jurisdiction = $2 WHERE id = $3")
            .bind(role.code().to_string())
            .bind(jurisdiction.to_string())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        self.bump_users_version(self.pool()).await?;
        Ok(())
    }

    /// The tokens of the users whose jurisdiction starts with `prefix`, newest first.
    pub async fn tokens_under(&self, prefix: &str) -> anyhow::Result<Vec<TokenListing>> {
        let rows = sqlx::query(
            "SELECT t.id AS token_id, t.created_at, t.revoked_at, u.id, u.name, u.role, u.jurisdiction \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.jurisdiction LIKE $1 \
             ORDER BY t.id DESC",
        )
        .bind(format!("{prefix}%"))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenListing {
                    id: r.try_get("token_id")?,
                    user: user_from_row(r)?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: opt_text(r, "revoked_at"),
                })
            })
            .collect()
    }

    /// Revokes a token; false when it was revoked already or does not exist.
    pub async fn revoke_token(&self, token_id: i64) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_text())
        .bind(token_id)
        .execute(self.pool())
        .await?;
        self.tokens.clear();
        Ok(done.rows_affected() > 0)
    }

    /// A page of the audit log, newest first, optionally only one actor's or one action's
    /// entries; `limit + 1` rows are read so that the caller knows whether more follow.
    pub async fn audit_page(
        &self,
        actor: Option<&str>,
        action: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, target, reason, detail FROM audit \
             WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR action = $2) \
             ORDER BY seq DESC LIMIT $3 OFFSET $4",
        )
        .bind(actor.unwrap_or("").to_string())
        .bind(action.unwrap_or("").to_string())
        .bind(limit + 1)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: opt_text(r, "target"),
                    reason: opt_text(r, "reason"),
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// The distinct actions in the audit log, for the filter.
    pub async fn audit_actions(&self) -> anyhow::Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT action FROM audit ORDER BY action")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}
