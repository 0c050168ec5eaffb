//! Users and API tokens. Passwords are argon2 hashes; tokens are stored as SHA-256 digests and
//! shown once.

use super::{now_text, Store};
use anyhow::Context;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::str::FromStr;

/// What a user may do (issue: case work).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Logs calls.
    Operator,
    /// Works cases.
    Officer,
    /// Reads, searches, statistics.
    Leader,
    /// Users, configuration, audit.
    Admin,
}

impl FromStr for Role {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Role> {
        Ok(match s {
            "operator" => Role::Operator,
            "officer" => Role::Officer,
            "leader" => Role::Leader,
            "admin" => Role::Admin,
            other => anyhow::bail!("unknown role {other:?} (operator, officer, leader, admin)"),
        })
    }
}

impl Role {
    /// The code stored.
    pub fn code(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Officer => "officer",
            Role::Leader => "leader",
            Role::Admin => "admin",
        }
    }
}

/// A user, as authenticated.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Division code of the user's jurisdiction.
    pub jurisdiction: String,
}

pub(super) fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Adds a user with an argon2-hashed password.
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        jurisdiction: &str,
        password: &str,
    ) -> anyhow::Result<i64> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?
            .to_string();
        let row = sqlx::query(
            "INSERT INTO users (name, role, jurisdiction, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name.to_string())
        .bind(role.code().to_string())
        .bind(jurisdiction.to_string())
        .bind(hash)
        .bind(now_text())
        .fetch_one(self.pool())
        .await
        .with_context(|| format!("cannot add user {name:?} (does it exist already?)"))?;
        self.bump_users_version(self.pool()).await?;
        Ok(row.try_get(0)?)
    }

    /// Sets or clears the address a user receives notices at (notices of new cases go to the
    /// officers of the handling jurisdiction who have one).
    pub async fn set_user_email(&self, user_id: i64, email: Option<&str>) -> anyhow::Result<()> {
        sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(email.map(str::to_string))
            .bind(user_id)
            .execute(self.pool())
            .await
            .context("cannot set the user's e-mail address")?;
        Ok(())
    }

    /// Checks a user's password. An unknown (or disabled) name costs the same argon2 work as a
    /// wrong password, so that the answer's timing does not tell which names exist. The hashing
    /// runs on the blocking pool: it takes tens of milliseconds of CPU on purpose.
    pub async fn verify_password(
        &self,
        name: &str,
        password: &str,
    ) -> anyhow::Result<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, jurisdiction, password_hash FROM users WHERE name = $1 AND disabled = 0")
            .bind(name.to_string())
            .fetch_optional(self.pool())
            .await?;
        let hash = match &row {
            Some(row) => row.try_get::<String, _>("password_hash")?,
            None => DUMMY_HASH.clone(),
        };
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await??;
        match row {
            Some(row) if matches => Ok(Some(user_from_row(&row)?)),
            _ => Ok(None),
        }
    }

    /// Creates a bearer token for a user and returns it; only its digest is stored.
    pub async fn add_token(&self, user_name: &str) -> anyhow::Result<String> {
        let row = sqlx::query("SELECT id FROM users WHERE name = $1")
            .bind(user_name.to_string())
            .fetch_optional(self.pool())
            .await?
            .with_context(|| format!("no user named {user_name:?}"))?;
        let user_id: i64 = row.try_get(0)?;
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("tl_{}", hex::encode(bytes));
        sqlx::query("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(token_digest(&token))
            .bind(now_text())
            .execute(self.pool())
            .await?;
        Ok(token)
    }

    /// The user a bearer token belongs to.
    pub async fn user_for_token(&self, token: &str) -> anyhow::Result<Option<User>> {
        let digest = token_digest(token);
        if let Some(user) = self.tokens.get(&digest) {
            return Ok(Some(user));
        }
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.jurisdiction FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0",
        )
        .bind(&digest)
        .fetch_optional(self.pool())
        .await?;
        let user = row.as_ref().map(user_from_row).transpose()?;
        if let Some(user) = &user {
            self.tokens.put(digest, user.clone());
        }
        Ok(user)
    }
}

/// A user from a row with the columns `id, name, role, jurisdiction`.
pub(super) fn user_from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get::<String, _>("role")?.parse()?,
        jurisdiction: row.try_get("jurisdiction")?,
    })
}

/// A hash of a random password with the default parameters, verified when the name is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Argon2::default()
        .hash_password(&bytes, &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Bearer tokens verified in the last few seconds, so that a platform posting reports costs one
/// token lookup per few seconds instead of one per request. Only valid tokens are kept (an
/// unknown token cannot fill it). Any change to users or tokens made through this node empties
/// it; one made through another node takes effect here within [`TokenCache::TTL`].
#[derive(Default)]
pub(super) struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (User, std::time::Instant)>>,
}

impl TokenCache {
    const TTL: std::time::Duration = std::time::Duration::from_secs(2);
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, digest: &str) -> Option<User> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(user, _)| user.clone())
    }

    fn put(&self, digest: String, user: User) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(digest, (user, std::time::Instant::now()));
    }

    pub(super) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
