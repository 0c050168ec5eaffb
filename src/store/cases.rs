//! Officers' corrections of the duplicate stage: merge two cases, split reports out of a case.
//! Nothing is deleted: reports move, the merged case keeps its number and points to the other,
//! and every move is an event with who and why.

use super::{now_text, Store};
use anyhow::Context;
use sqlx::Row;

/// Why a correction was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseEditError {
    /// A case or report does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change contradicts the case's state.
    #[error("{0}")]
    Conflict(String),
    /// A database error.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl From<sqlx::Error> for CaseEditError {
    fn from(e: sqlx::Error) -> Self {
        CaseEditError::Store(e.into())
    }
}

impl Store {
    /// Moves every report of case `from` into case `into`; `from` becomes `merged`.
    /// Returns the ids of the reports moved.
    pub async fn merge_cases(
        &self,
        from: i64,
        into: i64,
        actor: &str,
        reason: &str,
    ) -> Result<Vec<i64>, CaseEditError> {
        if from == into {
            return Err(CaseEditError::Conflict(
                "a case cannot be merged into itself".into(),
            ));
        }
        let now = now_text();
        let mut tx = self.begin_write().await?;
        for id in [from, into] {
            let row = sqlx::query("SELECT state FROM cases WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let state: String = row
                .ok_or_else(|| CaseEditError::NotFound(format!("case {id}")))?
                .try_get(0)?;
            if state == "merged" {
                return Err(CaseEditError::Conflict(format!(
                    "case {id} is already merged into another case"
                )));
            }
        }
        let moved: Vec<i64> = sqlx::query("SELECT id FROM reports WHERE case_id = $1 ORDER BY id")
            .bind(from)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let n = moved.len() as i64;
        sqlx::query("UPDATE reports SET case_id = $1 WHERE case_id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE case_reports SET case_id = $1, link = 'merged', linked_at = $2 WHERE case_id = $3")
            .bind(into)
            .bind(now.clone())
            .bind(from)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE cases SET state = 'merged', merged_into = $1, report_count = 0, updated_at = $2, version = version + 1 WHERE id = $3",
        )
        .bind(into)
        .bind(now.clone())
        .bind(from)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE cases SET report_count = report_count + $1, updated_at = $2, version = version + 1 WHERE id = $3")
            .bind(n)
            .bind(now.clone())
            .bind(into)
            .execute(&mut *tx)
            .await?;
        let data =
            serde_json::json!({"from": from, "into": into, "reports": moved, "reason": reason})
                .to_string();
        for (case, kind) in [(from, "case.merged_into"), (into, "case.merged_from")] {
            sqlx::query("INSERT INTO events (at, actor, kind, case_id, report_id, data) VALUES ($1, $2, $3, $4, NULL, $5)")
                .bind(now.clone())
                .bind(actor.to_string())
                .bind(kind.to_string())
                .bind(case)
                .bind(data.clone())
                .execute(&mut *tx)
                .await?;
        }
        super::exclusions::copy_exclusions(&mut tx, from, into, &now).await?;
        tx.commit().await.context("commit of a merge")?;
        Ok(moved)
    }

    /// Moves the given reports of a case into a new case opened with the first report's decisions.
    /// Returns the new case's id and number.
    pub async fn split_reports(
        &self,
        case_id: i64,
        report_ids: &[i64],
        actor: &str,
        reason: &str,
    ) -> Result<(i64, String), CaseEditError> {
        if report_ids.is_empty() {
            return Err(CaseEditError::Conflict("no report to split off".into()));
        }
        let now = now_text();
        let new_case_id = self.next_case_id().await?;
        let mut tx = self.begin_write().await?;
        let case = sqlx::query("SELECT state, report_count FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| CaseEditError::NotFound(format!("case {case_id}")))?;
        let count: i64 = case.try_get("report_count")?;
        for id in report_ids {
            let row = sqlx::query("SELECT case_id FROM reports WHERE id = $1")
                .bind(*id)
                .fetch_optional(&mut *tx)
                .await?;
            let owner: i64 = row
                .ok_or_else(|| CaseEditError::NotFound(format!("report {id}")))?
                .try_get(0)?;
            if owner != case_id {
                return Err(CaseEditError::Conflict(format!(
                    "report {id} is not in case {case_id}"
                )));
            }
        }
        if report_ids.len() as i64 >= count {
            return Err(CaseEditError::Conflict(
                "a split must leave at least one report in the case".into(),
            ));
        }
        let first =
            sqlx::query("SELECT decisions, received_at, subject_key FROM reports WHERE id = $1")
                .bind(report_ids[0])
                .fetch_one(&mut *tx)
                .await?;
        let decisions: serde_json::Value =
            serde_json::from_str(&first.try_get::<String, _>("decisions")?)
                .map_err(|e| CaseEditError::Store(e.into()))?;
        let received_at: String = first.try_get("received_at")?;
        // A report that joined as "same matter" has no key in its duplicate decision; its own
        // column holds the subject it is about, which the new case keeps.
        let subject_key: Option<String> = decisions["dedup"]["subject_key"]
            .as_str()
            .map(str::to_string)
            .or(first.try_get("subject_key")?);
        let year = chrono::DateTime::parse_from_rfc3339(&received_at)
            .map(|t| {
                use chrono::Datelike;
                t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
                    .year()
            })
            .unwrap_or(2000);
        let counter = format!("case_no:{year}");
        sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(counter.clone())
        .execute(&mut *tx)
        .await?;
        let seq: i64 =
            sqlx::query("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
                .bind(counter)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let case_no = format!("{}{year}{seq:06}", self.case_prefix());
        let list = |v: &serde_json::Value| -> String {
            let codes: Vec<String> = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| {
                            x.as_str()
                                .or_else(|| x["code"].as_str())
                                .map(str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into())
        };
        let handling = decisions["routing"]["handling"]
            .as_str()
            .unwrap_or("home")
            .to_string();
        let state = if decisions["routing"]["transfer"].is_string() {
            "transferred"
        } else if handling != "home" {
            "routed"
        } else {
            "received"
        };
        sqlx::query(
            "INSERT INTO cases (id, case_no, state, subject_name, subject_key, subject_kind, categories, locus, handling, \
 referrals, transfer, report_count, opened_at, updated_at, deadlines, due_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(new_case_id)
        .bind(case_no.clone())
        .bind(state.to_string())
        .bind(decisions["extraction"]["subject_name"].as_str().map(str::to_string))
        .bind(subject_key)
        .bind(decisions["extraction"]["subject_kind"].as_str().unwrap_or("other").to_string())
        .bind(list(&decisions["extraction"]["categories"]))
        .bind(decisions["locus"]["code"].as_str().map(str::to_string))
        .bind(handling)
        .bind(list(&decisions["routing"]["referrals"]))
        .bind(decisions["routing"]["transfer"].as_str().map(str::to_string))
        .bind(report_ids.len() as i64)
        .bind(now.clone())
        .bind(now.clone())
        .bind(Some(decisions["deadlines"].to_string()).filter(|_| decisions["deadlines"].is_object()))
        .bind(crate::casework::due_for(state, &decisions["deadlines"]))
        .execute(&mut *tx)
        .await?;
        for id in report_ids {
            sqlx::query("UPDATE reports SET case_id = $1 WHERE id = $2")
                .bind(new_case_id)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE case_reports SET case_id = $1, link = 'split', linked_at = $2 WHERE report_id = $3")
                .bind(new_case_id)
                .bind(now.clone())
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE cases SET report_count = report_count - $1, updated_at = $2, version = version + 1 WHERE id = $3")
            .bind(report_ids.len() as i64)
            .bind(now.clone())
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        let data = serde_json::json!({"from": case_id, "into": new_case_id, "case_no": case_no, "reports": report_ids, "reason": reason})
            .to_string();
        for (case, kind) in [
            (case_id, "case.split_out"),
            (new_case_id, "case.split_from"),
        ] {
            sqlx::query("INSERT INTO events (at, actor, kind, case_id, report_id, data) VALUES ($1, $2, $3, $4, NULL, $5)")
                .bind(now.clone())
                .bind(actor.to_string())
                .bind(kind.to_string())
                .bind(case)
                .bind(data.clone())
                .execute(&mut *tx)
                .await?;
        }
        super::exclusions::copy_exclusions(&mut tx, case_id, new_case_id, &now).await?;
        tx.commit().await.context("commit of a split")?;
        Ok((new_case_id, case_no))
    }

    /// The cases and reports about one subject (by its key), newest first.
    pub async fn subject_history(&self, key: &str) -> anyhow::Result<Option<serde_json::Value>> {
        let Some(subject) = sqlx::query(
            "SELECT subject_key, name, kind, locus, first_seen, last_seen, report_count FROM subjects WHERE subject_key = $1",
        )
        .bind(key.to_string())
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let reports = sqlx::query(
            "SELECT r.id, r.external_id, r.channel, r.received_at, r.case_id, c.case_no, c.state FROM reports r \
             JOIN cases c ON c.id = r.case_id WHERE r.subject_key = $1 ORDER BY r.received_ts DESC, r.id DESC",
        )
        .bind(key.to_string())
        .fetch_all(self.pool())
        .await?;
        let reports: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                Ok(serde_json::json!({
                    "report_id": r.try_get::<i64, _>("id")?,
                    "external_id": r.try_get::<String, _>("external_id")?,
                    "channel": r.try_get::<String, _>("channel")?,
                    "received_at": r.try_get::<String, _>("received_at")?,
                    "case_id": r.try_get::<i64, _>("case_id")?,
                    "case_no": r.try_get::<String, _>("case_no")?,
                    "case_state": r.try_get::<String, _>("state")?,
                }))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        let mut cases: Vec<serde_json::Value> = Vec::new();
        for r in &reports {
            if !cases.iter().any(|c| c["case_id"] == r["case_id"]) {
                cases.push(serde_json::json!({"case_id": r["case_id"], "case_no": r["case_no"], "case_state": r["case_state"]}));
            }
        }
        Ok(Some(serde_json::json!({
            "subject_key": subject.try_get::<String, _>("subject_key")?,
            "name": subject.try_get::<String, _>("name")?,
            "kind": subject.try_get::<String, _>("kind")?,
            "locus": super::opt_text(&subject, "locus"),
            "first_seen": subject.try_get::<String, _>("first_seen")?,
            "last_seen": subject.try_get::<String, _>("last_seen")?,
            "report_count": subject.try_get::<i64, _>("report_count")?,
            "cases": cases,
            "reports": reports,
        })))
    }
}

/// Why a step on a case was refused.
#[derive(Debug, thiserror::Error)]
pub enum StepApplyError {
    /// No such case.
    #[error("case not found")]
    NotFound,
    /// Someone else changed the case first (optimistic concurrency).
    #[error("the case changed meanwhile: version {current}, not {expected}")]
    VersionMismatch {
        /// The version the caller saw.
        expected: i64,
        /// The version now.
        current: i64,
    },
    /// The step is illegal from the state, or its content is wrong.
    #[error(transparent)]
    Step(#[from] crate::casework::StepError),
    /// A database error.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StepApplyError {
    fn from(e: sqlx::Error) -> Self {
        StepApplyError::Store(e.into())
    }
}

impl Store {
    /// Applies an officer's step to a case: checks the state and (when given) the version the
    /// officer saw, moves the case, and records the step as an event — in one transaction.
    pub async fn apply_step(
        &self,
        case_id: i64,
        if_match: Option<i64>,
        step: &crate::casework::Step,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<i64, StepApplyError> {
        use crate::casework::Step;
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT state, version, deadlines FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StepApplyError::NotFound)?;
        let state: String = row.try_get("state")?;
        let version: i64 = row.try_get("version")?;
        let deadlines: serde_json::Value = super::opt_text(&row, "deadlines")
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or_default();
        if let Some(expected) = if_match {
            if expected != version {
                return Err(StepApplyError::VersionMismatch {
                    expected,
                    current: version,
                });
            }
        }
        step.check(&state, reason)?;
        let (extra, value) = match step {
            Step::Route { handling } => (", handling = $6", Some(handling.clone())),
            Step::Transfer { to } => (", transfer = $6", Some(to.clone())),
            _ => ("", None),
        };
        let sql = format!(
            "UPDATE cases SET state = $1, version = version + 1, updated_at = $2, due_at = $5{extra} \
             WHERE id = $3 AND version = $4"
        );
        let mut update = sqlx::query(&sql)
            .bind(step.to_state().to_string())
            .bind(now.clone())
            .bind(case_id)
            .bind(version)
            .bind(crate::casework::due_for(step.to_state(), &deadlines));
        if let Some(v) = value {
            update = update.bind(v);
        }
        if update.execute(&mut *tx).await?.rows_affected() != 1 {
            return Err(StepApplyError::VersionMismatch {
                expected: version,
                current: version + 1,
            });
        }
        let mut data = serde_json::to_value(step).map_err(|e| StepApplyError::Store(e.into()))?;
        // `to` is the state reached; a transfer's destination (its own `to`) is kept apart.
        if let Step::Transfer { to } = step {
            data["transfer_to"] = serde_json::json!(to);
        }
        data["from"] = serde_json::json!(state);
        data["to"] = serde_json::json!(step.to_state());
        data["reason"] = serde_json::json!(reason);
        let kind = format!("case.{}", step.code());
        let seq: i64 = sqlx::query("INSERT INTO events (at, actor, kind, case_id, report_id, data) VALUES ($1, $2, $3, $4, NULL, $5) RETURNING seq")
            .bind(now.clone())
            .bind(actor.to_string())
            .bind(kind.clone())
            .bind(case_id)
            .bind(data.to_string())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        crate::outbox::platform::enqueue(&mut tx, case_id, seq, &kind, &data, &now).await?;
        tx.commit()
            .await
            .map_err(|e| StepApplyError::Store(e.into()))?;
        Ok(version + 1)
    }
}

/// Filters of the officer's queue.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct QueueFilter {
    /// One state.
    pub state: Option<String>,
    /// Only cases past their current deadline.
    #[serde(default)]
    pub overdue: bool,
    /// Only cases escalated to the jurisdiction above for their current deadline.
    #[serde(default)]
    pub escalated: bool,
    /// Only cases due within this many days.
    pub due_within_days: Option<i64>,
    /// Category code.
    pub category: Option<String>,
    /// Subject kind code.
    pub kind: Option<String>,
    /// Channel of any of the case's reports.
    pub channel: Option<String>,
    /// Locus prefix (division code).
    pub locus: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

impl Store {
    /// The open cases in a subtree (division-code prefix; `home_too` adds the home intake desk),
    /// due first, with counts per state.
    pub async fn queue(
        &self,
        scope: &crate::scope::Scope,
        f: &QueueFilter,
        now_utc: &str,
    ) -> anyhow::Result<(Vec<super::CaseRow>, i64, Vec<(String, i64)>)> {
        // The subtree is read as up to three disjoint arms — handled in it; placed in it but
        // handled elsewhere; the home intake desk — each a range over its own partial index of the
        // open cases (migration 0014), which also holds the columns the counts and the order need:
        // counting 100,000 open cases reads index entries only. An `OR` of the two ranges would
        // make the planner scan every open case and read each row.
        let range = crate::scope::code_range(&scope.prefix);
        let in_handling = crate::scope::code_range_sql("handling", 1, 2, &range);
        let in_locus = crate::scope::code_range_sql("locus", 1, 2, &range);
        let open = "state NOT IN ('closed', 'merged', 'transferred')";
        let mut arms = vec![
            format!("{open} AND {in_handling}"),
            format!("{open} AND {in_locus} AND NOT {in_handling}"),
        ];
        // With an empty prefix the first arm holds every case, the home desk's too.
        if scope.covers_home && !scope.prefix.is_empty() {
            arms.push(format!(
                "{open} AND handling = 'home' AND (locus IS NULL OR NOT {in_locus})"
            ));
        }
        let mut params: Vec<String> = vec![range.0.clone(), range.1.clone().unwrap_or_default()];
        // The user's exclusions (conflict of interest) are few: left out by id.
        let excluded = self.excluded_cases(scope.user_id).await?;
        let mut filters = String::new();
        if !excluded.is_empty() {
            let ids: Vec<String> = excluded.iter().map(i64::to_string).collect();
            filters.push_str(&format!(" AND id NOT IN ({})", ids.join(", ")));
        }
        fn add(filters: &mut String, params: &mut Vec<String>, sql: &str, value: String) {
            params.push(value);
            filters.push_str(&sql.replace("$?", &format!("${}", params.len())));
        }
        if let Some(v) = f.kind.as_deref().filter(|v| !v.is_empty()) {
            add(
                &mut filters,
                &mut params,
                " AND subject_kind = $?",
                v.to_string(),
            );
        }
        if let Some(v) = f.category.as_deref().filter(|v| !v.is_empty()) {
            add(
                &mut filters,
                &mut params,
                " AND categories LIKE $?",
                format!("%\"{v}\"%"),
            );
        }
        if let Some(v) = f.locus.as_deref().filter(|v| !v.is_empty()) {
            add(
                &mut filters,
                &mut params,
                " AND locus LIKE $?",
                format!("{v}%"),
            );
        }
        if let Some(v) = f.channel.as_deref().filter(|v| !v.is_empty()) {
            add(&mut filters, &mut params, " AND EXISTS (SELECT 1 FROM reports r WHERE r.case_id = cases.id AND r.channel = $?)", v.to_string());
        }
        if f.overdue {
            add(
                &mut filters,
                &mut params,
                " AND due_at < $?",
                now_utc.to_string(),
            );
        }
        if f.escalated {
            // One set of (case, deadline) pairs read once, not a lookup per open case.
            filters.push_str(
                " AND (id, due_at) IN (SELECT n.case_id, n.due_at FROM deadline_notices n \
                 WHERE n.kind = 'escalated')",
            );
        }
        if let Some(days) = f.due_within_days {
            let until = chrono::DateTime::parse_from_rfc3339(now_utc)
                .map(|t| t + chrono::Duration::days(days.clamp(0, 3650)))
                .map(|t| {
                    t.with_timezone(&chrono::Utc)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                })
                .unwrap_or_else(|_| now_utc.to_string());
            add(&mut filters, &mut params, " AND due_at <= $?", until);
        }
        let union = |columns: &str, extra: &str| -> String {
            arms.iter()
                .map(|arm| format!("SELECT {columns} FROM cases WHERE {arm}{filters}{extra}"))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        };
        fn bind_all<'q>(
            sql: &'q str,
            params: &[String],
        ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
            let mut q = sqlx::query(sql);
            for p in params {
                q = q.bind(p.clone());
            }
            q
        }
        let state_sql = format!(
            "SELECT state, COUNT(*) FROM ({}) AS scoped GROUP BY state ORDER BY state",
            union("state", "")
        );
        let per_state = bind_all(&state_sql, &params)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        // The counts per state are taken before the state filter; the total follows from them.
        let state = f.state.as_deref().filter(|v| !v.is_empty());
        let total = per_state
            .iter()
            .filter(|(s, _)| state.is_none_or(|want| s == want))
            .map(|(_, n)| n)
            .sum();
        let mut list_params = params.clone();
        let mut state_filter = String::new();
        if let Some(v) = state {
            list_params.push(v.to_string());
            state_filter = format!(" AND state = ${}", list_params.len());
        }
        let limit = f.limit.unwrap_or(50).clamp(1, 500);
        let offset = f.offset.unwrap_or(0).clamp(0, 1_000_000);
        // The page's ids are chosen on the indexes (a top-N sort of two columns), then read.
        let order = "ORDER BY due_at IS NULL, due_at, id";
        let list_sql = format!(
            "SELECT {} FROM cases WHERE id IN (SELECT id FROM ({}) AS scoped {order} LIMIT {limit} OFFSET {offset}) {order}",
            super::read::CASE_COLUMNS,
            union("id, due_at", &state_filter),
        );
        let rows = bind_all(&list_sql, &list_params)
            .fetch_all(self.pool())
            .await?;
        let cases = rows
            .iter()
            .map(super::read::case_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok((cases, total, per_state))
    }
}

/// A step on a case that came from a 12345 order, as the platform's reply is made from it.
#[derive(Debug, Clone)]
pub struct PlatformEvent {
    /// The event's sequence.
    pub seq: i64,
    /// The event's kind (`case.sign_for` …).
    pub kind: String,
    /// The event's data.
    pub data: serde_json::Value,
    /// When.
    pub at: String,
    /// The case.
    pub case_id: i64,
    /// The case's handling jurisdiction.
    pub handling: String,
    /// The order's report.
    pub report_id: i64,
    /// 工单编号.
    pub order_no: String,
}

impl Store {
    /// Answers owed to the 12345 platform: the events of `kinds` on cases that came from a 12345
    /// order, after event `since`, oldest first, at most `limit` (one per order of a case).
    pub async fn platform_replies(
        &self,
        since: i64,
        limit: i64,
        kinds: &[&str],
    ) -> anyhow::Result<Vec<PlatformEvent>> {
        let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT e.seq, r.external_id, e.kind, e.data, e.at, c.handling, e.case_id, r.id FROM events e \
             JOIN cases c ON c.id = e.case_id \
             JOIN reports r ON r.case_id = e.case_id AND r.channel = 'hotline_12345' \
             WHERE e.seq > $1 AND e.kind IN ({}) ORDER BY e.seq, r.id LIMIT $2",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(since).bind(limit);
        for k in kinds {
            query = query.bind(k.to_string());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(PlatformEvent {
                    seq: r.try_get(0)?,
                    order_no: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    data: serde_json::from_str(&r.try_get::<String, _>(3)?).unwrap_or_default(),
                    at: r.try_get(4)?,
                    handling: r.try_get(5)?,
                    case_id: r.try_get(6)?,
                    report_id: r.try_get(7)?,
                })
            })
            .collect()
    }
}

impl Store {
    /// The case behind an anonymous reporter's receipt (by the code's SHA-256): its number,
    /// state, and what was said to the reporter (replies) — never any internal note.
    pub async fn receipt_view(
        &self,
        code_hash: &str,
    ) -> anyhow::Result<Option<(i64, serde_json::Value)>> {
        let Some(row) = sqlx::query(
            "SELECT c.id, c.case_no, c.state FROM receipts t JOIN reports r ON r.id = t.report_id \
             JOIN cases c ON c.id = r.case_id WHERE t.code_hash = $1",
        )
        .bind(code_hash.to_string())
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let case_id: i64 = row.try_get(0)?;
        let state: String = row.try_get(2)?;
        let replies: Vec<serde_json::Value> = sqlx::query(
            "SELECT at, data FROM events WHERE case_id = $1 AND kind = 'case.reply' ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let data: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>(1)?).unwrap_or_default();
            Ok(serde_json::json!({"at": r.try_get::<String, _>(0)?, "text": data["text"]}))
        })
        .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some((
            case_id,
            serde_json::json!({
                "case_no": row.try_get::<String, _>(1)?,
                "state": state,
                "state_label": crate::casework::state_label(&state),
                "replies": replies,
            }),
        )))
    }
}
