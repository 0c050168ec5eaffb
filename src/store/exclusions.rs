//! Conflict of interest in the database: users' aliases, the exclusions of users from cases, and
//! the counter that tells the writer to recompile the names (`crate::conflict`).

use super::users::user_from_row;
use super::{now_text, Store, User};
use crate::conflict::{CasePlace, Matcher, Named};
use anyhow::Context;
use sqlx::{Any, Row};

/// The counter that moves whenever users or their aliases change.
const USERS_VERSION: &str = "users_version";

/// An exclusion to record: a user, from a case, because of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The case.
    pub case_id: i64,
    /// The user named.
    pub user_id: i64,
    /// The report that named them (none when carried over by a merge or split).
    pub report_id: Option<i64>,
    /// The name or alias found.
    pub matched: String,
}

impl Store {
    /// Moves the users counter (inside the caller's transaction or on its own).
    pub(super) async fn bump_users_version<'e>(
        &self,
        conn: impl sqlx::Executor<'e, Database = Any>,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1",
        )
        .bind(USERS_VERSION)
        .execute(conn)
        .await?;
        self.tokens.clear();
        Ok(())
    }

    /// The users counter: when it changes, the names must be compiled again.
    pub async fn users_version(&self) -> anyhow::Result<i64> {
        let row = sqlx::query("SELECT value FROM counters WHERE name = $1")
            .bind(USERS_VERSION)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    /// Every active user with their aliases, compiled for matching.
    pub async fn conflict_matcher(&self, home: Option<&str>) -> anyhow::Result<Matcher> {
        let users = sqlx::query(
            "SELECT id, name, role, jurisdiction FROM users WHERE disabled = 0 ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let aliases =
            sqlx::query("SELECT user_id, alias FROM user_aliases ORDER BY user_id, alias")
                .fetch_all(self.pool())
                .await?;
        let mut list: Vec<(User, Vec<String>)> = users
            .iter()
            .map(|r| Ok((user_from_row(r)?, Vec::new())))
            .collect::<anyhow::Result<_>>()?;
        for row in &aliases {
            let id: i64 = row.try_get(0)?;
            if let Some((_, names)) = list.iter_mut().find(|(u, _)| u.id == id) {
                names.push(row.try_get(1)?);
            }
        }
        Ok(Matcher::new(list, home))
    }

    /// Adds aliases to a user (already known ones are kept once); returns the user.
    pub async fn add_aliases(&self, user_name: &str, aliases: &[String]) -> anyhow::Result<User> {
        let row = sqlx::query("SELECT id, name, role, jurisdiction FROM users WHERE name = $1")
            .bind(user_name.to_string())
            .fetch_optional(self.pool())
            .await?
            .with_context(|| format!("no user named {user_name:?}"))?;
        let user = user_from_row(&row)?;
        let mut tx = self.begin_write().await?;
        for alias in aliases {
            sqlx::query(
                "INSERT INTO user_aliases (user_id, alias) VALUES ($1, $2) ON CONFLICT (user_id, alias) DO NOTHING",
            )
            .bind(user.id)
            .bind(alias.trim().to_string())
            .execute(&mut *tx)
            .await?;
        }
        self.bump_users_version(&mut *tx).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Records exclusions (each once per case and user) with a `case.exclusion` event each.
    pub async fn add_exclusions(&self, exclusions: &[Exclusion]) -> anyhow::Result<usize> {
        let mut tx = self.begin_write().await?;
        let added = insert_exclusions(&mut tx, exclusions, &now_text()).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// True when the user is excluded from the case.
    pub async fn is_excluded(&self, case_id: i64, user_id: i64) -> anyhow::Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM exclusions WHERE case_id = $1 AND user_id = $2")
                .bind(case_id)
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?
                .is_some(),
        )
    }

    /// The cases a user is excluded from.
    pub async fn excluded_cases(&self, user_id: i64) -> anyhow::Result<Vec<i64>> {
        sqlx::query("SELECT case_id FROM exclusions WHERE user_id = $1 ORDER BY case_id")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    /// Every exclusion with the user's name and the case's number, newest first.
    pub async fn exclusions_list(
        &self,
    ) -> anyhow::Result<Vec<(serde_json::Value, super::CaseRow)>> {
        let rows = sqlx::query(
            "SELECT x.case_id, x.user_id, u.name, x.report_id, x.matched, x.created_at FROM exclusions x \
             JOIN users u ON u.id = x.user_id ORDER BY x.created_at DESC, x.case_id, x.user_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let case_id: i64 = r.try_get("case_id")?;
            let Some(case) = self.case(case_id).await? else {
                continue;
            };
            out.push((
                serde_json::json!({
                    "case_id": case_id,
                    "case_no": case.case_no,
                    "user_id": r.try_get::<i64, _>("user_id")?,
                    "user": r.try_get::<String, _>("name")?,
                    "report_id": r.try_get::<Option<i64>, _>("report_id").ok().flatten(),
                    "matched": r.try_get::<String, _>("matched")?,
                    "at": r.try_get::<String, _>("created_at")?,
                }),
                case,
            ));
        }
        Ok(out)
    }

    /// Finds the stored reports that name a user (by the compiled names of every user, so that
    /// the matching is the intake's) and records the exclusions of that user; returns how many
    /// were new.
    pub async fn backfill_exclusions(
        &self,
        user_id: i64,
        home: Option<&str>,
    ) -> anyhow::Result<usize> {
        let matcher = self.conflict_matcher(home).await?;
        let mut after = 0;
        let mut found = Vec::new();
        loop {
            let page = self.export_page(after, 2_000, false).await?;
            let Some(last) = page.last() else { break };
            after = last.report.id;
            for row in &page {
                let texts = report_texts(&row.report);
                if !matcher
                    .named(texts.iter().map(String::as_str))
                    .iter()
                    .any(|n| n.user_id == user_id)
                {
                    continue;
                }
                let Some(case) = self.case(row.report.case_id).await? else {
                    continue;
                };
                let place = CasePlace {
                    handling: &case.handling,
                    locus: case.locus.as_deref(),
                    transfer: case.transfer.as_deref(),
                };
                if let Some(n) = matcher
                    .excluded(texts.iter().map(String::as_str), place)
                    .into_iter()
                    .find(|n| n.user_id == user_id)
                {
                    found.push(exclusion(case.id, Some(row.report.id), n));
                }
            }
        }
        self.add_exclusions(&found).await
    }
}

/// An exclusion from a match.
pub fn exclusion(case_id: i64, report_id: Option<i64>, named: Named) -> Exclusion {
    Exclusion {
        case_id,
        user_id: named.user_id,
        report_id,
        matched: named.matched,
    }
}

/// The texts of a report a name is looked for in: title, text, the subject's name as given and
/// as extracted.
pub fn report_texts(report: &super::ReportRow) -> Vec<String> {
    let mut texts: Vec<String> = report.title.iter().cloned().collect();
    texts.push(report.text.clone());
    if let Some(name) = report.subject.as_ref().and_then(|s| s["name"].as_str()) {
        texts.push(name.to_string());
    }
    if let Some(name) = report.decisions["extraction"]["subject_name"].as_str() {
        texts.push(name.to_string());
    }
    texts
}

/// Inserts exclusions in a transaction, skipping those already there; one event per new one.
pub(super) async fn insert_exclusions(
    tx: &mut sqlx::Transaction<'_, Any>,
    exclusions: &[Exclusion],
    now: &str,
) -> anyhow::Result<usize> {
    let mut added = 0;
    for x in exclusions {
        let done = sqlx::query(
            "INSERT INTO exclusions (case_id, user_id, report_id, matched, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (case_id, user_id) DO NOTHING",
        )
        .bind(x.case_id)
        .bind(x.user_id)
        .bind(x.report_id)
        .bind(x.matched.clone())
        .bind(now.to_string())
        .execute(&mut **tx)
        .await
        .context("insert into exclusions")?;
        if done.rows_affected() == 0 {
            continue;
        }
        added += 1;
        sqlx::query("INSERT INTO events (at, actor, kind, case_id, report_id, data) VALUES ($1, 'system', 'case.exclusion', $2, $3, $4)")
            .bind(now.to_string())
            .bind(x.case_id)
            .bind(x.report_id)
            .bind(serde_json::json!({"user_id": x.user_id, "reason": "conflict_of_interest"}).to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(added)
}

/// Carries the exclusions of one case over to another (a merge or a split): whoever was kept
/// out of a matter stays out of it.
pub(super) async fn copy_exclusions(
    tx: &mut sqlx::Transaction<'_, Any>,
    from: i64,
    to: i64,
    now: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO exclusions (case_id, user_id, report_id, matched, created_at) \
         SELECT $1, user_id, NULL, matched, $2 FROM exclusions WHERE case_id = $3 \
         ON CONFLICT (case_id, user_id) DO NOTHING",
    )
    .bind(to)
    .bind(now.to_string())
    .bind(from)
    .execute(&mut **tx)
    .await
    .context("carry exclusions over")?;
    Ok(())
}
