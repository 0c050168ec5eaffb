//! The monthly tables, made and mailed by themselves: from the 1st to the 5th of each month (the
//! notice's deadline is the 5th) a timer in `tipline serve` makes the previous month's tables for
//! every jurisdiction that has a leader with an e-mail address and queues one mail per leader in
//! the outbox, with the XLSX attached.
//!
//! Once per month × jurisdiction, even with several nodes: a marker row in `counters`
//! (`monthly_report:<month>:<code>`) is inserted with `ON CONFLICT DO NOTHING` in the same
//! transaction as the mail, so the node whose insert took effect is the one that sends.

use super::{monthly, Month};
use crate::store::{Role, Store};
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;

/// `[monthly_reports]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoConfig {
    /// Make and mail the tables (needs `[smtp]`).
    pub enabled: bool,
    /// Seconds between looks at the clock.
    pub check_secs: u64,
    /// A fixed "now" (RFC 3339) instead of the clock: for tests and to re-run a missed month.
    pub now: Option<String>,
}

impl Default for AutoConfig {
    fn default() -> Self {
        AutoConfig {
            enabled: true,
            check_secs: 600,
            now: None,
        }
    }
}

/// The last day of the month on which the previous month's tables are still made.
const LAST_DAY: u32 = 5;

/// What one look at the clock did: `(month, jurisdiction, mails queued)` per table made here.
pub type Made = Vec<(String, String, usize)>;

/// Makes and queues the previous month's tables if `now` (Beijing) is between the 1st and the
/// 5th and this has not been done yet for a jurisdiction. Needs mail to be configured.
pub async fn run_due(
    store: &Store,
    home: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Made> {
    let today = now.with_timezone(&super::beijing()).date_naive();
    if today.day() > LAST_DAY {
        return Ok(Vec::new());
    }
    let month = Month::of(today).prev();
    let leaders = store.users_with_email(Role::Leader).await?;
    let mut jurisdictions: Vec<&str> = leaders.iter().map(|(_, _, j, _)| j.as_str()).collect();
    jurisdictions.dedup();
    let mut made = Vec::new();
    for jurisdiction in jurisdictions {
        let marker = format!("monthly_report:{month}:{jurisdiction}");
        let done = sqlx::query("SELECT 1 FROM counters WHERE name = $1")
            .bind(marker.clone())
            .fetch_optional(store.pool())
            .await?
            .is_some();
        if done {
            continue;
        }
        let tables = monthly::build(store, jurisdiction, home, month, today)
            .await
            .map_err(|e| anyhow::anyhow!("monthly tables of {jurisdiction}: {e}"))?;
        let bytes = tables.to_xlsx()?;
        let to: Vec<(i64, String, String)> = leaders
            .iter()
            .filter(|(_, _, j, _)| j == jurisdiction)
            .map(|(id, name, _, email)| (*id, name.clone(), email.clone()))
            .collect();
        let mut tx = store.begin_write().await?;
        let claimed = sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(marker)
        .bind(to.len() as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            // Another node made it meanwhile.
            tx.rollback().await?;
            continue;
        }
        crate::outbox::enqueue_monthly_report(
            &mut tx,
            &to,
            &month.to_string(),
            (jurisdiction, &tables.jurisdiction_name),
            crate::outbox::MailAttachment::new(&tables.file_name(), XLSX_TYPE, &bytes),
            &crate::store::now_text(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(month = %month, jurisdiction, mails = to.len(), "monthly tables queued");
        made.push((month.to_string(), jurisdiction.to_string(), to.len()));
    }
    Ok(made)
}

/// The MIME type of a workbook.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The time to act on: the configured fixed `now`, else the clock.
pub fn now(config: &AutoConfig) -> anyhow::Result<DateTime<Utc>> {
    match config.now.as_deref().filter(|n| !n.trim().is_empty()) {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                anyhow::anyhow!("monthly_reports.now {text:?} is not an RFC 3339 time: {e}")
            }),
    }
}

/// Starts the timer (`tipline serve`), when mail is configured and the reports are enabled.
pub fn spawn(app: std::sync::Arc<crate::app::App>) {
    let config = app.config.monthly_reports.clone();
    if !config.enabled || app.config.smtp.is_none() {
        return;
    }
    tokio::spawn(async move {
        loop {
            let home = app.config.triage.home.clone();
            let result = match now(&config) {
                Ok(now) => run_due(&app.store, home.as_deref(), now).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::error!(error = %format!("{e:#}"), "monthly tables not made; retrying later");
            }
            tokio::time::sleep(std::time::Duration::from_secs(config.check_secs.max(1))).await;
        }
    });
}
