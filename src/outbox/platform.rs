//! The 12345 chain: the replies owed to the 12345 platform for cases that came from its work
//! orders (DOMAIN §1, §6).
//!
//! Each step the platform expects — 签收, 退回 with the reason, 转办, 延期申请, 办结回复 with the
//! finding and what was done, 办结 — is a [`Reply`] in the platform's shape (`order_no`, `step`,
//! `text`, `handler_unit`, `time`). The platform reads them at `GET /api/v1/channels/12345/replies`;
//! with `[platform_12345]` configured they are also written as outbox rows in the transaction of
//! the step ([`enqueue`]) and pushed by [`Pusher`] with retries and exponential backoff. The
//! `Idempotency-Key` header (`order_no:step:seq`) lets the platform drop the copy of a retry whose
//! first delivery it did receive. Rows of one order form a stream: they are pushed one after
//! another, oldest first; a row given up (dead letter, `tipline outbox list`) does not hold back
//! the others.
//!
//! Reporter identity: a reply's text is masked with the reporter's own name, phone, e-mail and
//! identity number (and any contact detail in it) every time it is read or pushed.

use super::queue::{self, Attempt, Delivery, RawClaimed, Round};
use crate::store::Store;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The outbox kind of a push.
pub const KIND: &str = "platform_12345";

/// The events that answer the platform.
pub const EVENT_KINDS: &[&str] = &[
    "case.sign_for",
    "case.send_back",
    "case.transfer",
    "case.extension_requested",
    "case.reply",
    "case.close",
];

/// `[platform_12345]` in the configuration: where replies are pushed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// The platform's URL that takes replies (HTTP POST of one JSON reply).
    pub push_url: String,
    /// Environment variable holding the bearer token, if the platform wants one.
    #[serde(default)]
    pub token_env: Option<String>,
    /// File holding the bearer token (first line).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Seconds before a push times out (then it is retried).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// First retry delay; doubled per failed attempt (as for mail).
    #[serde(default = "super::default_backoff_base_secs")]
    pub backoff_base_secs: u64,
    /// Longest retry delay (as for mail).
    #[serde(default = "super::default_backoff_max_secs")]
    pub backoff_max_secs: u64,
    /// Attempts after which a push is given up (a dead letter: `failed` in `tipline outbox list`).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: i64,
    /// Seconds between looks for due pushes when idle (as for mail).
    #[serde(default = "super::default_poll_secs")]
    pub poll_secs: u64,
    /// Pushes in flight at once (each to a different order).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

// A platform answers within seconds or not at all; 30 attempts with the mail backoff (capped at
// an hour) keep a reply trying for about a day, well inside a 12345 order's deadline.
fn default_timeout_secs() -> u64 {
    10
}
fn default_max_attempts() -> i64 {
    30
}
fn default_concurrency() -> usize {
    4
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Records whether replies are pushed in this process (`[platform_12345]` configured).
pub(super) fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// One reply to the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    /// The event it answers (its sequence number; `since` for readers).
    pub seq: i64,
    /// 工单编号.
    pub order_no: String,
    /// `signed_for`, `sent_back`, `transferred`, `extension_requested`, `replied`, `closed`.
    pub step: String,
    /// 签收, 退回, 转办, 延期申请, 办结回复, 办结.
    pub step_label: String,
    /// What the platform shows (identity masked when read through [`replies`] or pushed).
    pub text: String,
    /// 承办单位: the handling bureau's name.
    pub handler_unit: String,
    /// When the step was taken (UTC, RFC 3339).
    pub time: String,
    /// The handling jurisdiction's code (for scoping readers; not pushed).
    #[serde(skip_serializing, default)]
    pub handling: String,
    /// The order's report (whose reporter's identity is masked; not pushed).
    #[serde(skip_serializing, default)]
    pub report_id: i64,
}

/// What a push row stores: the reply and the report whose identity masks it at delivery.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    reply: Reply,
    #[serde(rename = "_report_id")]
    report_id: i64,
    #[serde(rename = "_handling")]
    handling: String,
}

impl Reply {
    /// The idempotency key: order, step and the event's sequence.
    pub fn idempotency_key(&self) -> String {
        format!("{}:{}:{}", self.order_no, self.step, self.seq)
    }
}

/// The latest finding and actions of a case before an event (what 办结回复 reports).
#[derive(Debug, Default)]
struct Outcome {
    finding: Option<(String, String)>,
    actions: Vec<crate::casework::Action>,
}

async fn outcome(
    conn: &mut sqlx::AnyConnection,
    case_id: i64,
    before_seq: i64,
) -> anyhow::Result<Outcome> {
    let rows = sqlx::query(
        "SELECT kind, data FROM events WHERE case_id = $1 AND seq < $2 \
         AND kind IN ('case.record_finding', 'case.record_actions') ORDER BY seq",
    )
    .bind(case_id)
    .bind(before_seq)
    .fetch_all(conn)
    .await?;
    let mut out = Outcome::default();
    for row in rows {
        let kind: String = row.try_get(0)?;
        let data: serde_json::Value =
            serde_json::from_str(&row.try_get::<String, _>(1)?).unwrap_or_default();
        if kind == "case.record_finding" {
            out.finding = Some((
                data["finding"].as_str().unwrap_or_default().to_string(),
                data["text"].as_str().unwrap_or_default().to_string(),
            ));
        } else {
            out.actions = serde_json::from_value(data["actions"].clone()).unwrap_or_default();
        }
    }
    Ok(out)
}

/// The step, its label and the text of an event's reply; none for events the platform does not
/// hear of.
fn step_and_text(
    kind: &str,
    data: &serde_json::Value,
    outcome: &Outcome,
) -> Option<(&'static str, &'static str, String)> {
    let field = |name: &str| data[name].as_str().unwrap_or_default().trim().to_string();
    Some(match kind {
        "case.sign_for" => ("signed_for", "签收", "已签收，正在办理。".to_string()),
        "case.send_back" => ("sent_back", "退回", format!("退回：{}", field("reason"))),
        "case.transfer" => (
            "transferred",
            "转办",
            match field("transfer_to") {
                to if to.is_empty() => format!("已转办：{}", field("reason")),
                to => format!("已转办至{to}：{}", field("reason")),
            },
        ),
        "case.extension_requested" => (
            "extension_requested",
            "延期申请",
            format!(
                "申请延期{}个工作日。理由：{}",
                data["days"].as_i64().unwrap_or_default(),
                field("reason")
            ),
        ),
        "case.reply" => {
            let mut text = field("text");
            if let Some((finding, found)) = &outcome.finding {
                text.push_str(&format!("\n核查结论：{finding}。{found}"));
            }
            if !outcome.actions.is_empty() {
                let actions: Vec<String> = outcome
                    .actions
                    .iter()
                    .map(|a| match a.amount_wan {
                        Some(x) => format!("{}{}万元", a.kind, x),
                        None => a.kind.clone(),
                    })
                    .collect();
                text.push_str(&format!("\n处理措施：{}。", actions.join("；")));
            }
            ("replied", "办结回复", text)
        }
        "case.close" => ("closed", "办结", "已办结。".to_string()),
        _ => return None,
    })
}

/// The name of the bureau of a handling jurisdiction (承办单位).
pub fn handler_unit(code: &str) -> String {
    if code == "home" {
        return "应急管理局举报受理中心".into();
    }
    let gazetteer = triage::Gazetteer::get();
    let name = gazetteer
        .index_of(code)
        .map(|i| gazetteer.short_path(i))
        .unwrap_or_else(|| code.to_string());
    format!("{name}应急管理局")
}

/// Writes the push of an event's reply for every 12345 order of the case, inside the step's
/// transaction. Does nothing unless pushing is configured or the event is no reply.
pub(crate) async fn enqueue(
    tx: &mut sqlx::Transaction<'_, Any>,
    case_id: i64,
    seq: i64,
    kind: &str,
    data: &serde_json::Value,
    at: &str,
) -> anyhow::Result<()> {
    if !ENABLED.load(Ordering::Relaxed) || !EVENT_KINDS.contains(&kind) {
        return Ok(());
    }
    let orders = sqlx::query(
        "SELECT r.id, r.external_id, c.handling FROM reports r JOIN cases c ON c.id = r.case_id \
         WHERE r.case_id = $1 AND r.channel = 'hotline_12345' ORDER BY r.id",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?;
    if orders.is_empty() {
        return Ok(());
    }
    let outcome = if kind == "case.reply" {
        outcome(tx, case_id, seq).await?
    } else {
        Outcome::default()
    };
    let Some((step, label, text)) = step_and_text(kind, data, &outcome) else {
        return Ok(());
    };
    for row in orders {
        let handling: String = row.try_get(2)?;
        let reply = Reply {
            seq,
            order_no: row.try_get(1)?,
            step: step.to_string(),
            step_label: label.to_string(),
            text: text.clone(),
            handler_unit: handler_unit(&handling),
            time: at.to_string(),
            report_id: row.try_get(0)?,
            handling: handling.clone(),
        };
        let stored = Stored {
            report_id: reply.report_id,
            handling,
            reply,
        };
        queue::insert_streamed(
            tx,
            KIND,
            &format!("12345:{}", stored.reply.idempotency_key()),
            &serde_json::to_string(&stored)?,
            &stored.reply.order_no,
            at,
        )
        .await?;
    }
    Ok(())
}

/// The replies after event `since`, oldest first, at most `limit`, identity masked.
pub async fn replies(store: &Store, since: i64, limit: i64) -> anyhow::Result<Vec<Reply>> {
    let rows = store.platform_replies(since, limit, EVENT_KINDS).await?;
    let mut conn = store.pool().acquire().await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let outcome = if row.kind == "case.reply" {
            outcome(&mut conn, row.case_id, row.seq).await?
        } else {
            Outcome::default()
        };
        let Some((step, label, text)) = step_and_text(&row.kind, &row.data, &outcome) else {
            continue;
        };
        out.push(Reply {
            seq: row.seq,
            order_no: row.order_no,
            step: step.to_string(),
            step_label: label.to_string(),
            text: masked(store, row.report_id, &text).await?,
            handler_unit: handler_unit(&row.handling),
            time: row.at,
            handling: row.handling,
            report_id: row.report_id,
        });
    }
    Ok(out)
}

/// A text with the report's reporter identity (and any contact detail) masked.
async fn masked(store: &Store, report_id: i64, text: &str) -> anyhow::Result<String> {
    let identity = store
        .reporter_identity(report_id)
        .await?
        .unwrap_or_default();
    let field = |name: &str| identity[name].as_str().map(str::to_string);
    let reporter = intake::Reporter {
        name: field("name"),
        phone: field("phone"),
        email: field("email"),
        id_number: field("id_number"),
        anonymous: false,
    };
    Ok(super::redact_text(text, &reporter))
}

/// Pushes replies to the platform.
pub struct Pusher {
    store: Arc<Store>,
    config: PlatformConfig,
    client: reqwest::Client,
    token: Option<String>,
}

impl Pusher {
    /// A pusher for a configuration (reads the token).
    pub fn new(store: Arc<Store>, config: PlatformConfig) -> anyhow::Result<Pusher> {
        let url = reqwest::Url::parse(&config.push_url)
            .map_err(|e| anyhow::anyhow!("platform_12345.push_url {:?}: {e}", config.push_url))?;
        anyhow::ensure!(
            matches!(url.scheme(), "http" | "https"),
            "platform_12345.push_url must be an http(s) URL"
        );
        let token = super::read_secret(
            config.token_env.as_deref(),
            config.token_file.as_deref(),
            "platform_12345.token",
        )?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .build()?;
        Ok(Pusher {
            store,
            config,
            client,
            token,
        })
    }

    /// Pushes what is due now, once; returns what happened.
    pub async fn push_due(&self) -> anyhow::Result<Round> {
        let lease = Duration::from_secs(self.config.timeout_secs.max(1) * 2 + 30);
        let mut round = Round::default();
        loop {
            let batch =
                queue::claim_raw(&self.store, &[KIND], self.config.concurrency.max(1), lease)
                    .await?;
            if batch.is_empty() {
                return Ok(round);
            }
            let outcomes: Vec<(Attempt, Delivery)> = futures::stream::iter(batch)
                .map(|row| async move {
                    let delivery = self.deliver(&row).await;
                    let attempt = Attempt {
                        id: row.id,
                        kind: KIND,
                        attempts: row.attempts,
                    };
                    (attempt, delivery)
                })
                .buffer_unordered(self.config.concurrency.max(1))
                .collect()
                .await;
            let done = queue::record(&self.store, outcomes, self.config.max_attempts, |n| {
                super::backoff(
                    self.config.backoff_base_secs,
                    self.config.backoff_max_secs,
                    n,
                )
            })
            .await?;
            round.add(done);
        }
    }

    /// Runs until the process stops: pushes what is due, then waits `poll_secs`.
    pub async fn run(self) {
        let idle = Duration::from_secs(self.config.poll_secs.max(1));
        loop {
            if let Err(e) = self.push_due().await {
                tracing::error!(error = %format!("{e:#}"), "12345 push round failed");
            }
            tokio::time::sleep(idle).await;
        }
    }

    async fn deliver(&self, row: &RawClaimed) -> Delivery {
        let stored: Stored = match serde_json::from_str(&row.payload) {
            Ok(s) => s,
            Err(e) => return Delivery::GiveUp(format!("unreadable payload: {e}")),
        };
        let mut reply = stored.reply;
        reply.text = match masked(&self.store, stored.report_id, &reply.text).await {
            Ok(t) => t,
            Err(e) => return Delivery::Retry(format!("cannot mask the reply: {e:#}")),
        };
        let mut request = self
            .client
            .post(&self.config.push_url)
            .header("Idempotency-Key", reply.idempotency_key())
            .json(&reply);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            // 409: the platform has this key already (a retry of a delivery it did receive).
            Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => Delivery::Sent,
            Ok(r) => {
                let status = r.status();
                let body: String = r
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                let error = format!("HTTP {status}: {body}");
                if status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429) {
                    Delivery::Retry(error)
                } else {
                    Delivery::GiveUp(error)
                }
            }
            Err(e) if e.is_timeout() => Delivery::Retry("timed out".into()),
            Err(e) => Delivery::Retry(format!("{e}")),
        }
    }
}

/// Starts the pusher in the background (`tipline serve` with `[platform_12345]`).
pub fn spawn(store: Arc<Store>, config: PlatformConfig) -> anyhow::Result<()> {
    let pusher = Pusher::new(store, config)?;
    tokio::spawn(pusher.run());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_reply_carries_the_finding_and_the_actions() {
        let outcome = Outcome {
            finding: Some(("属实".into(), "压缩学时属实".into())),
            actions: vec![
                crate::casework::Action {
                    kind: "限期改正".into(),
                    amount_wan: None,
                },
                crate::casework::Action {
                    kind: "罚款".into(),
                    amount_wan: Some(3.5),
                },
            ],
        };
        let (step, label, text) = step_and_text(
            "case.reply",
            &serde_json::json!({"text": "已责令整改。"}),
            &outcome,
        )
        .unwrap();
        assert_eq!((step, label), ("replied", "办结回复"));
        assert!(text.contains("核查结论：属实。压缩学时属实"), "{text}");
        assert!(text.contains("限期改正；罚款3.5万元"), "{text}");
        let (step, _, text) = step_and_text(
            "case.extension_requested",
            &serde_json::json!({"days": 5, "reason": "需现场核查"}),
            &Outcome::default(),
        )
        .unwrap();
        assert_eq!(step, "extension_requested");
        assert!(text.contains("5个工作日") && text.contains("需现场核查"));
        assert!(
            step_and_text("case.start_verification", &serde_json::json!({}), &outcome).is_none()
        );
    }

    #[test]
    fn a_transfer_reply_names_where_the_case_went() {
        let data = serde_json::json!({"to": "transferred", "transfer_to": "鞍山市市场监督管理局",
            "reason": "不属本部门职责"});
        let (step, label, text) =
            step_and_text("case.transfer", &data, &Outcome::default()).unwrap();
        assert_eq!((step, label), ("transferred", "转办"));
        assert_eq!(text, "已转办至鞍山市市场监督管理局：不属本部门职责");
    }
}
