//! Login sessions of people and the failed-login counts that rate-limit guessing. A session is a
//! random cookie value of which only the SHA-256 is stored, with its CSRF token, an absolute expiry
//! and the time it was last used (idle timeout).

use super::users::{token_digest, user_from_row};
use super::{now_text, Store, User};
use chrono::{Duration, SecondsFormat, Utc};
use rand::RngCore;
use sqlx::Row;

/// A new session: the cookie value (shown once, to the browser) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie value; only its digest is stored.
    pub token: String,
    /// The token unsafe requests must echo (`X-CSRF-Token` or the form field `csrf_token`).
    pub csrf_token: String,
}

/// How often the last-use time of a session is written (not on every request).
const TOUCH_EVERY_SECONDS: i64 = 60;

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

fn utc_text(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Opens a session for a user, ending at the latest `lifetime` from now; removes the expired
    /// sessions of every user on the way.
    pub async fn create_session(
        &self,
        user_id: i64,
        lifetime: Duration,
    ) -> anyhow::Result<NewSession> {
        let now = Utc::now();
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(utc_text(now))
            .execute(self.pool())
            .await?;
        let session = NewSession {
            token: format!("tls_{}", random_hex(32)),
            csrf_token: random_hex(24),
        };
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $4)",
        )
        .bind(token_digest(&session.token))
        .bind(user_id)
        .bind(session.csrf_token.clone())
        .bind(utc_text(now))
        .bind(utc_text(now + lifetime))
        .execute(self.pool())
        .await?;
        Ok(session)
    }

    /// The user and CSRF token of a live session (not expired, used within `idle`), and marks it
    /// used.
    pub async fn session_user(
        &self,
        token: &str,
        idle: Duration,
    ) -> anyhow::Result<Option<(User, String)>> {
        let now = Utc::now();
        let digest = token_digest(token);
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.jurisdiction, s.csrf_token, s.last_seen_at FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.disabled = 0",
        )
        .bind(digest.clone())
        .bind(utc_text(now))
        .bind(utc_text(now - idle))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last_seen: String = row.try_get("last_seen_at")?;
        if last_seen < utc_text(now - Duration::seconds(TOUCH_EVERY_SECONDS)) {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(utc_text(now))
                .bind(digest)
                .execute(self.pool())
                .await?;
        }
        Ok(Some((user_from_row(&row)?, row.try_get("csrf_token")?)))
    }

    /// Ends a session (logout); true when there was one.
    pub async fn end_session(&self, token: &str) -> anyhow::Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_digest(token))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a failed login (never the password) and forgets failures older than `window`.
    pub async fn record_login_failure(
        &self,
        name: &str,
        client: &str,
        window: Duration,
    ) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(utc_text(Utc::now() - window))
            .execute(self.pool())
            .await?;
        sqlx::query("INSERT INTO login_failures (at, name, client) VALUES ($1, $2, $3)")
            .bind(now_text())
            .bind(name.to_string())
            .bind(client.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// When the account name or the client address has `max` or more failed logins within
    /// `window`, the number of seconds until one of them leaves the window; `None` when neither
    /// is blocked.
    pub async fn login_blocked_for(
        &self,
        name: &str,
        client: &str,
        max: i64,
        window: Duration,
    ) -> anyhow::Result<Option<i64>> {
        let now = Utc::now();
        let since = utc_text(now - window);
        let mut wait: Option<i64> = None;
        for (column, value) in [("name", name), ("client", client)] {
            // The failure whose leaving brings the count under `max`: the max-th newest.
            let row = sqlx::query(&format!(
                "SELECT at FROM login_failures WHERE {column} = $1 AND at >= $2 \
                 ORDER BY at DESC LIMIT 1 OFFSET $3"
            ))
            .bind(value.to_string())
            .bind(since.clone())
            .bind((max - 1).max(0))
            .fetch_optional(self.pool())
            .await?;
            let Some(row) = row else { continue };
            let at: String = row.try_get(0)?;
            let at = chrono::DateTime::parse_from_rfc3339(&at)?.with_timezone(&Utc);
            let seconds = ((at + window) - now).num_seconds().max(1);
            wait = Some(wait.map_or(seconds, |w| w.max(seconds)));
        }
        Ok(wait)
    }

    /// Forgets an account name's failed logins after it logged in successfully.
    pub async fn clear_login_failures(&self, name: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE name = $1")
            .bind(name.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
