//! Mail out: a transactional outbox and its SMTP sender (issue "E-mail in and out", the "Out" half).
//!
//! Mail to send is written as `outbox` rows in the same transaction as the decision that causes it
//! ([`enqueue_batch`], called from `Store::commit_batch`): a receipt to a reporter who gave an
//! e-mail address, a referral letter (移送函) per referral whose receiving body has a configured
//! address, and a notice to each officer (with an address) of the handling jurisdiction. The
//! `dedup_key` column makes enqueueing idempotent.
//!
//! The sender ([`smtp`]) claims due rows under a lease, renders them ([`templates`]), delivers them
//! with lettre and marks them done; a failure only reschedules the row with exponential backoff, so
//! an SMTP server that is down delays mail and never loses it. Every mail carries a Message-ID
//! derived from its row, so that a receiver can drop the copy of a retry whose first delivery was
//! not recorded (the one window in which SMTP can deliver twice).
//!
//! Reporter identity: only a receipt's payload carries an identity datum (the reporter's own
//! address, as its recipient); it is stored sealed (`src/identity.rs`) and opened only to send it. Referral letters and notices carry the facts with the reporter's
//! name, phone, e-mail and identity number removed, and with every e-mail address, mobile number and
//! resident identity number in the text masked. Nothing here logs a recipient of a receipt.
//!
//! The SQL of the outbox lives in [`queue`] (one text for SQLite and PostgreSQL, `$N` placeholders).

pub mod platform;
pub mod queue;
pub mod smtp;
pub mod templates;

use crate::store::{BatchItem, CaseLink};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::RwLock;

pub use smtp::Sender;

/// The kinds of mail, as stored in `outbox.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// 受理回执 to a reporter who gave an e-mail address.
    Receipt,
    /// 移送函 to a market-regulation or public-security body.
    ReferralLetter,
    /// 新案件通知 to an officer of the handling jurisdiction.
    CaseNotice,
    /// The monthly progress tables (渝考发 附件2–4, XLSX attached) to a jurisdiction's leader.
    MonthlyReport,
    /// 办理期限提醒 to an officer of the handling jurisdiction, before a step's deadline.
    DeadlineReminder,
    /// 超期督办 to the leaders and officers of the jurisdiction above, once a deadline has passed.
    Escalation,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [MailKind; 6] = [
        MailKind::Receipt,
        MailKind::ReferralLetter,
        MailKind::CaseNotice,
        MailKind::MonthlyReport,
        MailKind::DeadlineReminder,
        MailKind::Escalation,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            MailKind::Receipt => "receipt",
            MailKind::ReferralLetter => "referral_letter",
            MailKind::CaseNotice => "case_notice",
            MailKind::MonthlyReport => "monthly_report",
            MailKind::DeadlineReminder => "deadline_reminder",
            MailKind::Escalation => "deadline_escalation",
        }
    }

    /// The kind of a stored code.
    pub fn from_code(code: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// How the sender connects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (a relay on the local network or a test receiver).
    None,
    /// Plain connection upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

/// `[smtp]` in the configuration: where and how mail is delivered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// SMTP server host name.
    pub host: String,
    /// Port; default 25 (none), 587 (starttls) or 465 (tls).
    #[serde(default)]
    pub port: Option<u16>,
    /// `none`, `starttls` (default) or `tls`.
    #[serde(default)]
    pub tls: TlsMode,
    /// Extra trusted root certificate (PEM) for a server with a private CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// User name for SMTP AUTH, if the server asks for one.
    #[serde(default)]
    pub user: Option<String>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password (first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Sender address, e.g. `jubao@yjj.example.gov.cn`.
    pub from: String,
    /// Sender name, also the signature of every mail.
    #[serde(default = "default_from_name")]
    pub from_name: String,
    /// Seconds before a connection or command times out.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// First retry delay; doubled per failed attempt.
    #[serde(default = "default_backoff_base_secs")]
    pub backoff_base_secs: u64,
    /// Longest retry delay.
    #[serde(default = "default_backoff_max_secs")]
    pub backoff_max_secs: u64,
    /// Attempts after which a row is given up (`failed_at`); it stays in the table.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: i64,
    /// Seconds between looks for due mail when idle.
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
    /// Mails delivered at once (each on its own connection: lettre waits ~40 ms per mail on a
    /// delayed ACK, so throughput comes from concurrency).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_from_name() -> String {
    "应急管理局举报受理中心".to_string()
}
fn default_timeout_secs() -> u64 {
    30
}
fn default_backoff_base_secs() -> u64 {
    30
}
fn default_backoff_max_secs() -> u64 {
    3600
}
fn default_max_attempts() -> i64 {
    50
}
fn default_poll_secs() -> u64 {
    2
}
fn default_concurrency() -> usize {
    8
}

impl SmtpConfig {
    /// The port in force.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        })
    }

    /// The retry delay after `attempts` failed attempts (1, 2, …): base·2^(n−1), capped.
    pub fn backoff(&self, attempts: i64) -> std::time::Duration {
        backoff(self.backoff_base_secs, self.backoff_max_secs, attempts)
    }
}

/// The retry delay after `attempts` failed attempts (1, 2, …): `base_secs`·2^(n−1), capped at
/// `max_secs` (both at least a second).
pub fn backoff(base_secs: u64, max_secs: u64, attempts: i64) -> std::time::Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let secs = base_secs
        .max(1)
        .saturating_mul(1u64 << exp)
        .min(max_secs.max(1));
    std::time::Duration::from_secs(secs)
}

/// A secret from an environment variable or the first line of a file; none when neither is
/// configured. `key` names the setting in messages.
pub(crate) fn read_secret(
    env: Option<&str>,
    file: Option<&std::path::Path>,
    key: &str,
) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    if let Some(var) = env {
        return std::env::var(var)
            .map(Some)
            .with_context(|| format!("{key}_env: environment variable {var} is not set"));
    }
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {key}_file {}", file.display()))?;
        return Ok(Some(text.lines().next().unwrap_or("").trim().to_string()));
    }
    Ok(None)
}

/// One outbox row's payload (JSON). One recipient per row, so that each delivery is retried and
/// recorded on its own.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payload {
    /// The recipient's address. For a receipt this is the reporter's address (identity).
    pub to: String,
    /// The recipient's name (an officer's login name), for the salutation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_name: Option<String>,
    /// The case number.
    pub case_no: String,
    /// The case id.
    pub case_id: i64,
    /// The report id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<i64>,
    /// When the report was received (Beijing time, for reading).
    #[serde(default)]
    pub received_at: String,
    /// The channel's Chinese label.
    #[serde(default)]
    pub channel: String,
    /// Referral: the receiving body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Referral: the rule's code (`market_regulation`, `public_security`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<String>,
    /// Referral: the clauses it rests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// The subject's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_name: Option<String>,
    /// The subject kind's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_kind: Option<String>,
    /// The locus's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locus_name: Option<String>,
    /// Categories, `code 标签`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// The handling jurisdiction's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<String>,
    /// The deadline, when the channel gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// Referrals of the case, as labels with the receiving body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrals: Vec<String>,
    /// The facts, with reporter identity removed (never in a receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<String>,
    /// Reminder, escalation: the deadline step's label (`签收`, `核查` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Escalation: the jurisdiction notified (the one above the handling one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Monthly report: the month (`2024年5月`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// Monthly report: the jurisdiction's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction_name: Option<String>,
    /// A file sent with the mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<MailAttachment>,
}

/// A file attached to a mail, kept in the outbox row until delivered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailAttachment {
    /// File name shown to the recipient.
    pub file_name: String,
    /// MIME type.
    pub content_type: String,
    /// The content, base64 (standard alphabet).
    pub data_base64: String,
}

impl MailAttachment {
    /// An attachment of these bytes.
    pub fn new(file_name: &str, content_type: &str, data: &[u8]) -> MailAttachment {
        use base64::Engine;
        MailAttachment {
            file_name: file_name.to_string(),
            content_type: content_type.to_string(),
            data_base64: base64::engine::general_purpose::STANDARD.encode(data),
        }
    }

    /// The content.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(self.data_base64.as_bytes())
            .map_err(|e| format!("attachment {} is not base64: {e}", self.file_name))
    }
}

/// One monthly report mail to each leader `(user id, name, e-mail)` of a jurisdiction, inside
/// the caller's transaction; the key (month, jurisdiction, user) makes it idempotent.
pub async fn enqueue_monthly_report(
    tx: &mut sqlx::Transaction<'_, Any>,
    leaders: &[(i64, String, String)],
    month: &str,
    jurisdiction: (&str, &str),
    attachment: MailAttachment,
    now: &str,
) -> anyhow::Result<()> {
    let (code, name) = jurisdiction;
    let label = crate::stats::Month::parse(month)
        .map(crate::stats::Month::label)
        .unwrap_or_else(|_| month.to_string());
    let rows = leaders
        .iter()
        .map(|(user_id, user, email)| NewRow {
            kind: MailKind::MonthlyReport,
            dedup_key: format!("monthly_report:{month}:{code}:{user_id}"),
            payload: Payload {
                to: email.clone(),
                to_name: Some(user.clone()),
                handling: Some(code.to_string()),
                month: Some(label.clone()),
                jurisdiction_name: Some(name.to_string()),
                attachment: Some(attachment.clone()),
                ..Payload::default()
            },
        })
        .collect();
    queue::insert(tx, rows, now, None).await
}

/// What enqueueing needs from the configuration (set once per process by `App::open`).
#[derive(Debug, Clone, Default)]
struct Plan {
    /// Mail is enqueued only when `[smtp]` is configured.
    enabled: bool,
    /// The home jurisdiction: officers notified of cases handled by the home desk.
    home: Option<String>,
}

static PLAN: RwLock<Option<Plan>> = RwLock::new(None);

/// Records whether mail is enqueued in this process and for which home jurisdiction. Without this
/// call (or with no `[smtp]`), `commit_batch` writes no mail.
pub fn configure(config: &crate::config::Config) {
    platform::set_enabled(config.platform_12345.is_some());
    let plan = Plan {
        enabled: config.smtp.is_some(),
        home: config.triage.home.clone().filter(|h| !h.is_empty()),
    };
    if let Ok(mut p) = PLAN.write() {
        *p = Some(plan);
    }
}

fn plan() -> Option<Plan> {
    PLAN.read()
        .ok()
        .and_then(|p| p.clone())
        .filter(|p| p.enabled)
}

/// A row to insert.
struct NewRow {
    kind: MailKind,
    dedup_key: String,
    payload: Payload,
}

/// Beijing time as people read it: `2024年5月6日 09:12`.
pub fn beijing_text(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.with_timezone(&beijing)
        .format("%Y年%-m月%-d日 %H:%M")
        .to_string()
}

/// Writes the mail a batch causes, inside the batch's transaction. `case_nos[i]` is the case
/// number of `items[i]`. Does nothing unless mail is configured.
pub async fn enqueue_batch(
    tx: &mut sqlx::Transaction<'_, Any>,
    items: &[BatchItem],
    case_nos: &[&str],
    now: &str,
    sealer: &crate::identity::Sealer,
) -> anyhow::Result<()> {
    let Some(plan) = plan() else { return Ok(()) };
    let mut rows: Vec<NewRow> = Vec::new();
    // Officers with an address, per handling jurisdiction, looked up once per batch.
    let mut officers: BTreeMap<String, Vec<(i64, String, String)>> = BTreeMap::new();
    // Cases with a referral whose receiving body has no configured address (one warning a batch).
    let mut unaddressed: Vec<i64> = Vec::new();
    for (item, case_no) in items.iter().zip(case_nos) {
        let env = &item.envelope;
        let received_at = beijing_text(&env.received_at);
        let channel = env.channel.label().to_string();
        let case_id = match &item.case {
            CaseLink::Open(c) => c.case_id,
            CaseLink::Join { case_id, .. } => *case_id,
        };
        if let Some(to) = env
            .reporter
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        {
            rows.push(NewRow {
                kind: MailKind::Receipt,
                dedup_key: format!("receipt:{}", item.report_id),
                payload: Payload {
                    to: to.trim().to_string(),
                    case_no: case_no.to_string(),
                    case_id,
                    report_id: Some(item.report_id),
                    received_at: received_at.clone(),
                    channel: channel.clone(),
                    ..Payload::default()
                },
            });
        }
        let CaseLink::Open(case) = &item.case else {
            continue;
        };
        let decisions: serde_json::Value =
            serde_json::from_str(&item.decisions).unwrap_or_default();
        let referrals: Vec<triage::Referral> = decisions
            .pointer("/routing/referrals")
            .and_then(|r| serde_json::from_value(r.clone()).ok())
            .unwrap_or_default();
        let categories = category_labels(
            &serde_json::from_str::<Vec<String>>(&case.categories).unwrap_or_default(),
        );
        let common = Payload {
            case_no: case_no.to_string(),
            case_id,
            report_id: Some(item.report_id),
            received_at,
            channel,
            subject_name: case.subject_name.clone(),
            subject_kind: case
                .subject_kind
                .parse::<intake::SubjectKind>()
                .ok()
                .map(|k| k.label().to_string()),
            locus_name: decisions
                .pointer("/locus/name")
                .and_then(|n| n.as_str())
                .map(str::to_string),
            categories,
            handling: Some(case.handling.clone()),
            deadline: env.deadline.as_ref().map(beijing_text),
            referrals: referrals
                .iter()
                .map(|r| format!("{}（{}）", r.code.label(), r.body))
                .collect(),
            facts: Some(redact_facts(env)),
            ..Payload::default()
        };
        for r in &referrals {
            if !matches!(
                r.code,
                intake::ReferralKind::MarketRegulation | intake::ReferralKind::PublicSecurity
            ) {
                continue;
            }
            match r.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                Some(to) => rows.push(NewRow {
                    kind: MailKind::ReferralLetter,
                    dedup_key: referral_key(case_id, r.code.code()),
                    payload: Payload {
                        to: to.to_string(),
                        body: Some(r.body.clone()),
                        referral: Some(r.code.code().to_string()),
                        basis: Some(r.basis.clone()),
                        ..common.clone()
                    },
                }),
                None => unaddressed.push(case_id),
            }
        }
        let jurisdiction = if case.handling == "home" {
            plan.home.clone()
        } else {
            Some(case.handling.clone())
        };
        let Some(jurisdiction) = jurisdiction else {
            continue;
        };
        if !officers.contains_key(&jurisdiction) {
            let found = recipients(tx, &["officer"], &jurisdiction).await?;
            officers.insert(jurisdiction.clone(), found);
        }
        for (user_id, name, email) in officers.get(&jurisdiction).into_iter().flatten() {
            rows.push(NewRow {
                kind: MailKind::CaseNotice,
                dedup_key: format!("notice:{case_id}:{user_id}"),
                payload: Payload {
                    to: email.clone(),
                    to_name: Some(name.clone()),
                    ..common.clone()
                },
            });
        }
    }
    if !unaddressed.is_empty() {
        unaddressed.dedup();
        tracing::warn!(
            count = unaddressed.len(),
            case_ids = ?&unaddressed[..unaddressed.len().min(20)],
            "referrals without a configured e-mail address for the receiving body \
             (contacts.<code>.market_regulation_email / public_security_email): no letter queued"
        );
    }
    queue::insert(tx, rows, now, Some(sealer)).await
}

/// The referral letter (移送函) of a case to one receiving body, as it is queued and previewed:
/// the facts of the case's first report with the reporter's identity removed and contact
/// details masked, exactly as [`enqueue_batch`] writes them at intake. `reporter` serves only to
/// find the reporter's own words in the text (it is never in the letter).
pub fn referral_payload(
    case: &crate::store::CaseRow,
    report: &crate::store::ReportRow,
    referral: &triage::Referral,
    reporter: &intake::Reporter,
) -> Payload {
    let decisions = &report.decisions;
    let mut facts = match report.title.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => format!("【{}】{}", t.trim(), report.text),
        None => report.text.clone(),
    };
    if let Some(address) = report.address.as_deref().filter(|a| !a.trim().is_empty()) {
        facts.push_str(&format!("\n（举报所涉地址：{}）", address.trim()));
    }
    let referrals: Vec<triage::Referral> = decisions
        .pointer("/routing/referrals")
        .and_then(|r| serde_json::from_value(r.clone()).ok())
        .unwrap_or_default();
    Payload {
        to: referral.email.clone().unwrap_or_default(),
        case_no: case.case_no.clone(),
        case_id: case.id,
        report_id: Some(report.id),
        received_at: chrono::DateTime::parse_from_rfc3339(&report.received_at)
            .map(|t| beijing_text(&t))
            .unwrap_or_else(|_| report.received_at.clone()),
        channel: report
            .channel
            .parse::<intake::Channel>()
            .map(|c| c.label().to_string())
            .unwrap_or_else(|_| report.channel.clone()),
        body: Some(referral.body.clone()),
        referral: Some(referral.code.code().to_string()),
        basis: Some(referral.basis.clone()),
        subject_name: case.subject_name.clone(),
        subject_kind: case
            .subject_kind
            .parse::<intake::SubjectKind>()
            .ok()
            .map(|k| k.label().to_string()),
        locus_name: decisions
            .pointer("/locus/name")
            .and_then(|n| n.as_str())
            .map(str::to_string),
        categories: category_labels(&case.categories),
        handling: Some(case.handling.clone()),
        deadline: report
            .deadline
            .as_deref()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|t| beijing_text(&t)),
        referrals: referrals
            .iter()
            .map(|r| format!("{}（{}）", r.code.label(), r.body))
            .collect(),
        facts: Some(redact_text(&facts, reporter)),
        ..Payload::default()
    }
}

/// The outbox key of a case's referral letter to one kind of body (one letter per case ×
/// referral, whether queued at intake or from the case page).
pub fn referral_key(case_id: i64, referral: &str) -> String {
    format!("referral:{case_id}:{referral}")
}

/// Queues a referral letter (idempotent on [`referral_key`]); true when this call queued it,
/// false when it was queued already.
pub async fn enqueue_referral(
    store: &crate::store::Store,
    payload: Payload,
) -> anyhow::Result<bool> {
    let key = referral_key(payload.case_id, payload.referral.as_deref().unwrap_or(""));
    let mut tx = store.begin_write().await?;
    let before = sqlx::query("SELECT 1 FROM outbox WHERE dedup_key = $1")
        .bind(key.clone())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    queue::insert(
        &mut tx,
        vec![NewRow {
            kind: MailKind::ReferralLetter,
            dedup_key: key,
            payload,
        }],
        &crate::store::now_text(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(!before)
}

/// Category codes as mail shows them: `code 标签`.
pub fn category_labels(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|c| match c.parse::<intake::Category>() {
            Ok(cat) => format!("{} {}", cat.code(), cat.label()),
            Err(_) => c.clone(),
        })
        .collect()
}

/// Users with an address of the given roles in a jurisdiction (`210300` and `2103` name the same
/// one): (id, login name, e-mail), by id.
pub async fn recipients(
    tx: &mut sqlx::Transaction<'_, Any>,
    roles: &[&str],
    jurisdiction: &str,
) -> anyhow::Result<Vec<(i64, String, String)>> {
    let roles_sql = roles
        .iter()
        .map(|r| format!("'{}'", r.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT id, name, email FROM users WHERE role IN ({roles_sql}) AND disabled = 0 \
         AND email IS NOT NULL AND email <> '' AND jurisdiction IN ($1, $2) ORDER BY id"
    );
    let rows = sqlx::query(&sql)
        .bind(jurisdiction.to_string())
        .bind(crate::scope::subtree_prefix(jurisdiction))
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some((
                row.try_get::<i64, _>("id").ok()?,
                row.try_get::<String, _>("name").ok()?,
                row.try_get::<String, _>("email").ok()?,
            ))
        })
        .collect())
}

/// Writes one deadline mail (reminder or escalation) per recipient, inside the caller's
/// transaction; `key` names the case, step and deadline (idempotent per recipient). Does nothing
/// unless mail is configured. `payload` carries no recipient and no facts: a deadline mail names
/// the case, never the report's text or its reporter.
pub async fn enqueue_deadline(
    tx: &mut sqlx::Transaction<'_, Any>,
    kind: MailKind,
    key: &str,
    payload: &Payload,
    to: &[(i64, String, String)],
    now: &str,
) -> anyhow::Result<()> {
    if plan().is_none() {
        return Ok(());
    }
    let rows = to
        .iter()
        .map(|(user_id, name, email)| NewRow {
            kind,
            dedup_key: format!("{}:{key}:{user_id}", kind.code()),
            payload: Payload {
                to: email.clone(),
                to_name: Some(name.clone()),
                facts: None,
                ..payload.clone()
            },
        })
        .collect();
    queue::insert(tx, rows, now, None).await
}

/// True when mail is enqueued in this process (`[smtp]` configured).
pub fn enabled() -> bool {
    plan().is_some()
}

/// The report's facts for a referral letter or a notice: title and text with the reporter's own
/// name, phone, e-mail and identity number removed, and every e-mail address, mobile number and
/// resident identity number masked (a reporter often writes their contact details into the text).
pub fn redact_facts(env: &intake::Envelope) -> String {
    let mut text = match env.title.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => format!("【{}】{}", t.trim(), env.text),
        None => env.text.clone(),
    };
    if let Some(address) = env.address.as_deref().filter(|a| !a.trim().is_empty()) {
        text.push_str(&format!("\n（举报所涉地址：{}）", address.trim()));
    }
    redact_text(&text, &env.reporter)
}

/// Removes a reporter's identity and masks contact details in a text.
pub fn redact_text(text: &str, reporter: &intake::Reporter) -> String {
    use regex::Regex;
    use std::sync::LazyLock as Lazy;
    static EMAIL: Lazy<Regex> = Lazy::new(|| {
        Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+").expect("valid regex")
    });
    // A mobile number, with optional spaces or dashes between groups, and an optional +86.
    static MOBILE: Lazy<Regex> = Lazy::new(|| {
        Regex::new(r"(\+?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}").expect("valid regex")
    });
    static RESIDENT_ID: Lazy<Regex> =
        Lazy::new(|| Regex::new(r"\d{17}[\dXx]").expect("valid regex"));
    static DIGITS_RUN: Lazy<Regex> =
        Lazy::new(|| Regex::new(r"\d[\d\s\-]{5,}\d").expect("valid regex"));
    const MASK: &str = "［已隐去］";
    // Full-width digits and letters folded first, so that they are caught too; Chinese
    // punctuation stays as written.
    let mut out = fold_alphanumerics(text);
    let mut literal: Vec<String> = Vec::new();
    for v in [&reporter.name, &reporter.email, &reporter.id_number]
        .into_iter()
        .flatten()
    {
        let v = fold_alphanumerics(v.trim());
        if v.chars().count() >= 2 {
            literal.push(v);
        }
    }
    literal.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in &literal {
        out = replace_ignore_ascii_case(&out, v, MASK);
    }
    out = EMAIL.replace_all(&out, MASK).into_owned();
    out = RESIDENT_ID.replace_all(&out, MASK).into_owned();
    out = MOBILE.replace_all(&out, MASK).into_owned();
    // The reporter's phone in any other spelling (a landline with separators).
    if let Some(phone) = reporter.phone.as_deref() {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7 && !phone.contains('*') {
            out = DIGITS_RUN
                .replace_all(&out, |m: &regex::Captures| {
                    let found: String = m[0].chars().filter(char::is_ascii_digit).collect();
                    if found.contains(&digits) || (found.len() >= 7 && digits.ends_with(&found)) {
                        MASK.to_string()
                    } else {
                        m[0].to_string()
                    }
                })
                .into_owned();
        }
    }
    out
}

/// Full-width ASCII letters, digits and the characters of addresses (＠．－＋＿) as ASCII; the
/// ideographic space as a space. Everything else unchanged.
fn fold_alphanumerics(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '＠' | '．' | '－' | '＋' | '＿' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

fn replace_ignore_ascii_case(haystack: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return haystack.to_string();
    }
    let lower_h = haystack.to_ascii_lowercase();
    let lower_n = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(haystack.len());
    let mut last = 0;
    // ASCII lowercasing keeps byte offsets, so positions in `lower_h` are positions in `haystack`.
    for (pos, _) in lower_h.match_indices(&lower_n) {
        if pos < last {
            continue;
        }
        out.push_str(&haystack[last..pos]);
        out.push_str(with);
        last = pos + needle.len();
    }
    out.push_str(&haystack[last..]);
    out
}

/// The Message-ID of an outbox row: the same for every attempt, unique per row and deployment.
pub fn message_id(row_id: i64, dedup_key: &str, from: &str) -> String {
    use sha2::{Digest, Sha256};
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('>'))
        .filter(|d| {
            !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
        .unwrap_or("tipline.invalid");
    let digest = Sha256::digest(format!("{row_id}\n{dedup_key}").as_bytes());
    format!("<outbox.{row_id}.{}@{domain}>", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_removed_from_facts() {
        let reporter = intake::Reporter {
            name: Some("欧阳测试".into()),
            phone: Some("13912345678".into()),
            email: Some("Whistle.X9@example.org".into()),
            id_number: Some("210302199001011234".into()),
            anonymous: false,
        };
        let text = "我叫欧阳测试，电话１３９ １２３４ ５６７８，邮箱whistle.x9@example.org，身份证210302199001011234。\
                    恒安培训学校卖证，联系人手机13800001111，座机0412-5551234。";
        let out = redact_text(text, &reporter);
        for bad in [
            "欧阳测试",
            "13912345678",
            "1234 5678",
            "whistle",
            "210302199001011234",
            "13800001111",
        ] {
            assert!(
                !out.to_lowercase().contains(&bad.to_lowercase()),
                "{bad} in {out}"
            );
        }
        assert!(
            out.contains("恒安培训学校卖证，联系人"),
            "Chinese punctuation stays: {out}"
        );
        assert!(
            out.contains("0412-5551234"),
            "a landline of the subject stays: {out}"
        );
    }

    #[test]
    fn the_reporters_landline_is_removed() {
        let reporter = intake::Reporter {
            phone: Some("04125556677".into()),
            ..Default::default()
        };
        let out = redact_text("有事打0412-555 6677找我", &reporter);
        assert!(!out.contains("6677"), "{out}");
    }

    #[test]
    fn message_ids_are_stable_and_distinct() {
        let a = message_id(7, "receipt:7", "jubao@yjj.example.gov.cn");
        assert_eq!(a, message_id(7, "receipt:7", "jubao@yjj.example.gov.cn"));
        assert_ne!(a, message_id(8, "receipt:8", "jubao@yjj.example.gov.cn"));
        assert!(a.starts_with("<outbox.7.") && a.ends_with("@yjj.example.gov.cn>"));
        assert!(message_id(1, "k", "bad").ends_with("@tipline.invalid>"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c: SmtpConfig = toml::from_str("host = \"h\"\nfrom = \"a@b.c\"").unwrap();
        assert_eq!(c.backoff(1).as_secs(), 30);
        assert_eq!(c.backoff(2).as_secs(), 60);
        assert_eq!(c.backoff(100).as_secs(), 3600);
        assert_eq!(c.port(), 587);
    }
}
