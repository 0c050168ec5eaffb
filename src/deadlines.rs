//! The deadline sweep (issue 8, "Deadlines"): a reminder to the officers of the handling
//! jurisdiction a configurable number of working days before the current step's deadline, and an
//! escalation (超期督办) to the leaders and officers of the jurisdiction above once it has passed.
//!
//! Each notice is a row of `deadline_notices` keyed by case × step × deadline × kind, written in
//! the same transaction as the case event (`case.reminded`, `case.escalated`) and the outbox
//! mail, so that it is sent once across restarts and across several nodes sweeping one
//! PostgreSQL database. The deadline is the case's current one (`cases.due_at`, see
//! `casework::due_for`); a step taken moves it, and the new deadline gets its own notices.
//!
//! It runs inside `tipline serve` on a timer (`[deadlines] sweep_interval_secs`) and as
//! `tipline deadlines sweep [--now …]` for cron and tests. Mail carries the case number, subject,
//! place and categories — never the report text or anything of the reporter.

use crate::config::Config;
use crate::outbox::{MailKind, Payload};
use crate::store::{DueCase, NoticeKind, Store};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use triage::WorkCalendar;

/// `[deadlines]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepConfig {
    /// Working days before a deadline at which the handling officers are reminded (the same
    /// clock time on that working day); 0 sends no reminders.
    pub remind_working_days: u32,
    /// Escalate to the jurisdiction above once a deadline has passed.
    pub escalate: bool,
    /// Seconds between sweeps inside `tipline serve`; 0 leaves sweeping to
    /// `tipline deadlines sweep` (cron).
    pub sweep_interval_secs: u64,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            remind_working_days: 1,
            escalate: true,
            // Deadlines fall at 18:00 and reminders a working day before: five minutes is timely
            // and costs one indexed query when nothing is due.
            sweep_interval_secs: 300,
        }
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Reminders recorded (each with its mail, when mail is configured).
    pub reminded: u64,
    /// Escalations recorded.
    pub escalated: u64,
    /// Mails enqueued.
    pub mails: u64,
}

/// The jurisdiction above a division code: county → prefecture → province; a township → its
/// county; a zone's own code (`210371`) → its prefecture. None above a province.
pub fn parent_jurisdiction(code: &str) -> Option<String> {
    let code = code.trim();
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match code.len() {
        9 | 12 => Some(code[..6].to_string()),
        6 if code.ends_with("0000") => None,
        6 if code.ends_with("00") => Some(format!("{}0000", &code[..2])),
        6 => Some(format!("{}00", &code[..4])),
        4 => Some(format!("{}0000", &code[..2])),
        _ => None,
    }
}

/// A jurisdiction as people read it: `鞍山市铁东区（210302）`.
fn jurisdiction_label(code: &str, config: &Config) -> String {
    let gazetteer = triage::Gazetteer::get();
    let name = match gazetteer.index_of(code) {
        Some(i) => gazetteer.short_path(i),
        None => config
            .triage
            .zones
            .iter()
            .find(|z| z.code == code)
            .map(|z| z.name.clone())
            .unwrap_or_default(),
    };
    if name.is_empty() {
        code.to_string()
    } else {
        format!("{name}（{code}）")
    }
}

fn place_name(code: &str) -> Option<String> {
    let gazetteer = triage::Gazetteer::get();
    gazetteer.index_of(code).map(|i| gazetteer.short_path(i))
}

fn utc_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The latest deadline whose reminder may be due at `now`: `n` working days after today (Beijing
/// time), at the end of the day after it — a bound for the index scan; each candidate is then
/// checked exactly.
fn reminder_horizon(calendar: &WorkCalendar, now: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let today = now.with_timezone(&beijing).date_naive();
    let last = calendar.nth_working_day_after(today, n);
    last.succ_opt()
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(beijing).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now)
}

/// When the reminder of a deadline is due.
pub fn remind_at(calendar: &WorkCalendar, due: DateTime<FixedOffset>, n: u32) -> DateTime<Utc> {
    calendar.sub_working_days(due, n).with_timezone(&Utc)
}

/// One notice to record: the case, its step, who is told.
struct Plan<'a> {
    case: &'a DueCase,
    step: &'static str,
    target: String,
    payload: Payload,
}

fn plan_for<'a>(case: &'a DueCase, kind: NoticeKind, config: &Config) -> Option<Plan<'a>> {
    let step = crate::casework::deadline_step(&case.state)?;
    let handling = if case.handling == "home" {
        config.triage.home.clone().filter(|h| !h.is_empty())?
    } else {
        case.handling.clone()
    };
    let target = match kind {
        NoticeKind::Reminded => handling.clone(),
        // A province has no jurisdiction above: its own leaders are told.
        NoticeKind::Escalated => parent_jurisdiction(&handling).unwrap_or_else(|| handling.clone()),
    };
    let due = DateTime::parse_from_rfc3339(&case.due_at).ok()?;
    let categories = crate::outbox::category_labels(&case.categories);
    let payload = Payload {
        case_no: case.case_no.clone(),
        case_id: case.id,
        subject_name: case.subject_name.clone(),
        locus_name: case.locus.as_deref().and_then(place_name),
        categories,
        handling: Some(jurisdiction_label(&handling, config)),
        deadline: Some(crate::outbox::beijing_text(&due)),
        step: Some(crate::casework::deadline_step_label(step).to_string()),
        target: Some(jurisdiction_label(&target, config)),
        ..Payload::default()
    };
    Some(Plan {
        case,
        step,
        target,
        payload,
    })
}

/// Cases read per query and notices written per transaction.
const PAGE: i64 = 500;

/// Records the reminders and escalations due at `now` (each once), with their events and mail.
pub async fn sweep(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<SweepReport> {
    let calendar = WorkCalendar::embedded();
    let settings = &config.deadlines;
    let now_text = utc_text(now);
    let mut report = SweepReport::default();
    if settings.escalate {
        // Deadlines before now (a deadline at 18:00 has passed at 18:00:01).
        let due = |c: &DueCase| c.due_at < now_text;
        let (n, mails) = sweep_kind(
            store,
            config,
            NoticeKind::Escalated,
            None,
            &now_text,
            &now_text,
            due,
        )
        .await?;
        report.escalated += n;
        report.mails += mails;
    }
    let n = settings.remind_working_days;
    if n > 0 {
        let horizon = utc_text(reminder_horizon(calendar, now, n));
        let due = |c: &DueCase| {
            DateTime::parse_from_rfc3339(&c.due_at)
                .is_ok_and(|due| remind_at(calendar, due, n) <= now && due > now)
        };
        let (n, mails) = sweep_kind(
            store,
            config,
            NoticeKind::Reminded,
            Some(&now_text),
            &horizon,
            &now_text,
            due,
        )
        .await?;
        report.reminded += n;
        report.mails += mails;
    }
    if report.reminded > 0 || report.escalated > 0 {
        tracing::info!(
            reminded = report.reminded,
            escalated = report.escalated,
            mails = report.mails,
            "deadline sweep"
        );
    }
    Ok(report)
}

/// Pages through the open cases with a deadline in (`from`, `until`] and no `kind` notice for it,
/// and records a notice for each that `due` accepts; returns (notices, mails).
async fn sweep_kind(
    store: &Store,
    config: &Config,
    kind: NoticeKind,
    from: Option<&str>,
    until: &str,
    now: &str,
    due: impl Fn(&DueCase) -> bool,
) -> anyhow::Result<(u64, u64)> {
    let mut total = (0, 0);
    let mut after: Option<(String, i64)> = None;
    loop {
        let page = store
            .cases_due(from, until, kind, after.as_ref(), PAGE)
            .await?;
        let plans: Vec<Plan> = page
            .iter()
            .filter(|c| due(c))
            .filter_map(|c| plan_for(c, kind, config))
            .collect();
        let done = record(store, kind, &plans, now).await?;
        total.0 += done.0;
        total.1 += done.1;
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = Some((last.due_at.clone(), last.id)),
            _ => return Ok(total),
        }
    }
}

/// Writes the notices of one page in one transaction; returns (notices, mails).
async fn record(
    store: &Store,
    kind: NoticeKind,
    plans: &[Plan<'_>],
    now: &str,
) -> anyhow::Result<(u64, u64)> {
    if plans.is_empty() {
        return Ok((0, 0));
    }
    let mail_kind = match kind {
        NoticeKind::Reminded => MailKind::DeadlineReminder,
        NoticeKind::Escalated => MailKind::Escalation,
    };
    let roles: &[&str] = match kind {
        NoticeKind::Reminded => &["officer"],
        NoticeKind::Escalated => &["leader", "officer"],
    };
    let mut tx = store.begin_write().await?;
    let (mut notices, mut mails) = (0u64, 0u64);
    for plan in plans {
        let case = plan.case;
        // The key row first: it takes the write lock (SQLite) or waits for another node's
        // insert of the same key (PostgreSQL), so a notice is claimed by exactly one sweep.
        if !crate::store::claim_notice(&mut tx, case, plan.step, kind, &plan.target, now).await? {
            continue;
        }
        let to = crate::outbox::recipients(&mut tx, roles, &plan.target).await?;
        if to.is_empty() {
            tracing::warn!(case.id = case.id, kind = kind.code(), jurisdiction = %plan.target,
                "no user with an e-mail address to notify of a deadline");
        }
        let names: Vec<&str> = to.iter().map(|(_, name, _)| name.as_str()).collect();
        let data = serde_json::json!({
            "step": plan.step,
            "step_label": crate::casework::deadline_step_label(plan.step),
            "due_at": case.due_at,
            "jurisdiction": plan.target,
            "recipients": names,
            "mail": crate::outbox::enabled() && !to.is_empty(),
        });
        crate::store::notice_event(&mut tx, case.id, kind, &data, now, to.len()).await?;
        let key = format!("{}:{}:{}", case.id, plan.step, case.due_at);
        crate::outbox::enqueue_deadline(&mut tx, mail_kind, &key, &plan.payload, &to, now).await?;
        notices += 1;
        if crate::outbox::enabled() {
            mails += to.len() as u64;
        }
    }
    tx.commit().await?;
    Ok((notices, mails))
}

/// Sweeps every `sweep_interval_secs` until the process ends (inside `tipline serve`).
pub fn spawn(store: std::sync::Arc<Store>, config: Config) {
    let every = config.deadlines.sweep_interval_secs;
    if every == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&store, &config, Utc::now()).await {
                tracing::error!(error = %format!("{e:#}"), "deadline sweep failed; retrying at the next tick");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn the_jurisdiction_above() {
        assert_eq!(parent_jurisdiction("210302").as_deref(), Some("210300"));
        assert_eq!(parent_jurisdiction("210300").as_deref(), Some("210000"));
        assert_eq!(parent_jurisdiction("2103").as_deref(), Some("210000"));
        assert_eq!(parent_jurisdiction("210000"), None);
        assert_eq!(parent_jurisdiction("210302001").as_deref(), Some("210302"));
        assert_eq!(parent_jurisdiction("210371").as_deref(), Some("210300"));
        assert_eq!(parent_jurisdiction("home"), None);
    }

    #[test]
    fn a_reminder_comes_one_working_day_before_across_holidays() {
        let cal = WorkCalendar::embedded();
        // Due Monday 2026-02-09 18:00 → reminded Friday 2026-02-06 18:00.
        assert_eq!(
            remind_at(cal, t("2026-02-09T18:00:00+08:00"), 1),
            t("2026-02-06T10:00:00Z")
        );
        // Due Tuesday 2026-02-24, after 春节 (Feb 15–23 off; Sat Feb 14 worked) → Feb 14 18:00.
        assert_eq!(
            remind_at(cal, t("2026-02-24T18:00:00+08:00"), 1),
            t("2026-02-14T10:00:00Z")
        );
        // Due Thursday 2026-10-08 after 国庆 (Oct 1–7 off; Sun Sep 20 and Sat Oct 10 worked):
        // one working day before is Wednesday Sep 30.
        assert_eq!(
            remind_at(cal, t("2026-10-08T18:00:00+08:00"), 1),
            t("2026-09-30T10:00:00Z")
        );
        // Two working days before Monday 2026-10-12: Sat Oct 10 (worked), Fri Oct 9.
        assert_eq!(
            remind_at(cal, t("2026-10-12T18:00:00+08:00"), 2),
            t("2026-10-09T10:00:00Z")
        );
        // The scan's horizon reaches every deadline whose reminder is due: on the worked
        // Saturday before 春节, deadlines up to the first day after it.
        let now = t("2026-02-14T19:00:00+08:00").with_timezone(&Utc);
        let h = reminder_horizon(cal, now, 1);
        assert!(
            h >= t("2026-02-24T18:00:00+08:00").with_timezone(&Utc),
            "{h}"
        );
        assert!(
            h < t("2026-02-27T00:00:00+08:00").with_timezone(&Utc),
            "{h}"
        );
    }
}
