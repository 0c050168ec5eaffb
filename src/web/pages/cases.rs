//! The officer's desk: the work list `/cases` and the case page `/cases/{id}` (issue 9, "Case
//! officers").
//!
//! Every read and write goes through the API's own functions (`api::queue_view`,
//! `api::visible_case`, `api::apply_transition`, `api::merge_into`, `api::split_off`,
//! `api::reveal`, `chain::request`), so a page shows and does exactly what the API would for the
//! same user. Report text is hostile: the evidence that decided place and categories is marked by
//! splitting the text into segments here ([`segments`]) and looping over them in the template,
//! which escapes each one; no markup is built in Rust.
//!
//! Forms post back to the case (`POST /cases/{id}/…`). A refused post shows the case page again
//! with the API's message and everything typed kept; a stale version (someone else acted first)
//! says so and keeps the text, with the page showing the case as it now is.

use super::staff::{see_other, Staff, StaffError, StaffLayout, StaffPost};
use super::{render, shanghai_time, size_text};
use crate::app::App;
use crate::casework::{self, Step};
use crate::store::{ReportRow, Role};
use crate::web::api::{self, scope_of, visible_case};
use crate::web::{session, ApiError, AuthUser};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

/// Registers the work list, the case page and its forms.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases", web::get().to(queue_page))
        .route("/cases/{id}", web::get().to(case_page))
        .route("/cases/{id}/steps", web::post().to(step_post))
        .route("/cases/{id}/merge", web::post().to(merge_post))
        .route("/cases/{id}/split", web::post().to(split_post))
        .route("/cases/{id}/letters/{code}", web::post().to(letter_post))
        .route("/cases/{id}/reveal", web::post().to(reveal_post))
        .route("/cases/{id}/extension", web::post().to(extension_post));
}

const PAGE_SIZE: i64 = 20;

// ---------------------------------------------------------------------------------------------
// Labels and times

fn category_label(code: &str) -> String {
    match code.parse::<intake::Category>() {
        Ok(c) => format!("{} {}", c.code(), c.label()),
        Err(_) => code.to_string(),
    }
}

fn kind_label(code: &str) -> String {
    code.parse::<intake::SubjectKind>()
        .map(|k| k.label().to_string())
        .unwrap_or_else(|_| code.to_string())
}

fn channel_label(code: &str) -> String {
    code.parse::<intake::Channel>()
        .map(|k| k.label().to_string())
        .unwrap_or_else(|_| code.to_string())
}

fn referral_label(code: &str) -> String {
    code.parse::<intake::ReferralKind>()
        .map(|k| k.label().to_string())
        .unwrap_or_else(|_| code.to_string())
}

/// A division (or `home`) as people name it.
fn place_name(app: &App, code: &str) -> String {
    if code == "home" {
        return app
            .config
            .triage
            .home
            .as_deref()
            .and_then(|h| session::jurisdiction_name(app, h))
            .map(|n| format!("{n}（受理中心）"))
            .unwrap_or_else(|| "受理中心".into());
    }
    session::jurisdiction_name(app, code).unwrap_or_else(|| code.to_string())
}

/// Time left until a deadline, in words: `剩 2 天 3 小时`, `已超期 4 天`.
pub fn time_left(seconds: i64) -> String {
    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;
    if seconds < 0 {
        let over = -seconds;
        if over >= DAY {
            format!("已超期 {} 天", over / DAY)
        } else {
            format!("已超期 {} 小时", (over / HOUR).max(1))
        }
    } else if seconds >= DAY {
        format!("剩 {} 天 {} 小时", seconds / DAY, (seconds % DAY) / HOUR)
    } else if seconds >= HOUR {
        format!("剩 {} 小时", seconds / HOUR)
    } else {
        format!("剩 {} 分钟", (seconds / 60).max(1))
    }
}

fn seconds_until(rfc3339: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|d| (d.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds())
}

// ---------------------------------------------------------------------------------------------
// The work list

/// The queue's GET form as typed (every field a string: an empty select is "").
#[derive(Debug, Default, Clone, serde::Deserialize)]
struct QueueQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    escalated: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    locus: String,
    #[serde(default)]
    page: String,
}

impl QueueQuery {
    fn page(&self) -> i64 {
        self.page
            .trim()
            .parse::<i64>()
            .unwrap_or(1)
            .clamp(1, 100_000)
    }

    fn filter(&self) -> crate::store::QueueFilter {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        crate::store::QueueFilter {
            state: opt(&self.state),
            overdue: !self.overdue.is_empty(),
            escalated: !self.escalated.is_empty(),
            due_within_days: self.due.trim().parse::<i64>().ok().filter(|d| *d >= 0),
            category: opt(&self.category),
            kind: opt(&self.kind),
            channel: opt(&self.channel),
            locus: opt(&self.locus),
            limit: Some(PAGE_SIZE),
            offset: Some((self.page() - 1) * PAGE_SIZE),
        }
    }

    /// The address of the list with these filters, `state` and `page` replaced.
    fn href(&self, state: &str, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("state", state),
            ("overdue", self.overdue.as_str()),
            ("escalated", self.escalated.as_str()),
            ("due", self.due.as_str()),
            ("category", self.category.as_str()),
            ("kind", self.kind.as_str()),
            ("channel", self.channel.as_str()),
            ("locus", self.locus.as_str()),
        ] {
            if !v.trim().is_empty() {
                pairs.push((k, v.trim().to_string()));
            }
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        if pairs.is_empty() {
            "/cases".into()
        } else {
            format!(
                "/cases?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        }
    }

    fn any_filter(&self) -> bool {
        [
            &self.state,
            &self.overdue,
            &self.escalated,
            &self.due,
            &self.category,
            &self.kind,
            &self.channel,
            &self.locus,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

/// One option of a select: value, label, chosen.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices<'a>(items: impl Iterator<Item = (&'a str, &'a str)>, current: &str) -> Vec<Choice> {
    items
        .map(|(v, l)| Choice {
            value: v.to_string(),
            label: l.to_string(),
            selected: v == current.trim(),
        })
        .collect()
}

/// A state tab with its count.
struct Tab {
    label: String,
    count: i64,
    href: String,
    current: bool,
}

/// A case linked from another (a suggested duplicate).
struct CaseLinkView {
    id: i64,
    case_no: String,
    subject: String,
    state_label: String,
}

/// One row of the work list.
struct QueueRow {
    id: i64,
    case_no: String,
    state_label: String,
    subject: String,
    kind: String,
    categories: Vec<String>,
    locus: String,
    due: String,
    left: String,
    overdue: bool,
    soon: bool,
    escalated: bool,
    reminded: bool,
    repeat_count: i64,
    report_count: i64,
    extension: String,
    duplicates: Vec<CaseLinkView>,
}

#[derive(Template)]
#[template(path = "cases_queue.html")]
struct QueuePage {
    layout: StaffLayout,
    q: QueueQuery,
    tabs: Vec<Tab>,
    rows: Vec<QueueRow>,
    total: i64,
    first: i64,
    last: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    categories: Vec<Choice>,
    kinds: Vec<Choice>,
    channels: Vec<Choice>,
    dues: Vec<Choice>,
    loci: Vec<Choice>,
    filtered: bool,
}

async fn queue_page(
    app: web::Data<App>,
    user: Staff,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, StaffError> {
    let q: QueueQuery = web::Query::<QueueQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let auth = user.auth();
    let view = api::queue_view(&app, &auth, &q.filter()).await?;
    let total = view["total"].as_i64().unwrap_or(0);
    let counts = view["counts"].as_object().cloned().unwrap_or_default();
    let mut tabs = vec![Tab {
        label: "全部".into(),
        count: counts.values().filter_map(|v| v.as_i64()).sum(),
        href: q.href("", 1),
        current: q.state.trim().is_empty(),
    }];
    for (code, label) in casework::STATES {
        let n = counts.get(*code).and_then(|v| v.as_i64()).unwrap_or(0);
        if n > 0 || q.state.trim() == *code {
            tabs.push(Tab {
                label: (*label).to_string(),
                count: n,
                href: q.href(code, 1),
                current: q.state.trim() == *code,
            });
        }
    }
    let cases = view["cases"].as_array().cloned().unwrap_or_default();
    // Suggested duplicates: open cases about the same subject the user may see (the rows carry
    // their subject keys; nothing is read again).
    let keys: Vec<(i64, Option<&str>)> = cases
        .iter()
        .filter_map(|c| Some((c["case_id"].as_i64()?, c["subject_key"].as_str())))
        .collect();
    let suggestions = suggested(&app, &auth, &keys).await?;
    let mut rows = Vec::with_capacity(cases.len());
    let mut loci: Vec<(String, String)> = Vec::new();
    for c in &cases {
        let id = c["case_id"].as_i64().unwrap_or(0);
        let left = c["seconds_left"].as_i64();
        let locus_code = c["locus"].as_str().unwrap_or("");
        if !locus_code.is_empty() && !loci.iter().any(|(v, _)| v == locus_code) {
            loci.push((locus_code.to_string(), place_name(&app, locus_code)));
        }
        let extension = match &c["extension"] {
            serde_json::Value::Null => String::new(),
            e => format!(
                "延期{}（{} 个工作日）",
                e["state_label"].as_str().unwrap_or(""),
                e["days"]
            ),
        };
        rows.push(QueueRow {
            id,
            case_no: c["case_no"].as_str().unwrap_or("").to_string(),
            state_label: c["state_label"].as_str().unwrap_or("").to_string(),
            subject: c["subject_name"]
                .as_str()
                .unwrap_or("（未识别举报对象）")
                .to_string(),
            kind: kind_label(c["subject_kind"].as_str().unwrap_or("")),
            categories: c["categories"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(category_label)
                        .collect()
                })
                .unwrap_or_default(),
            locus: if locus_code.is_empty() {
                "未定位".into()
            } else {
                place_name(&app, locus_code)
            },
            due: c["due_at"].as_str().map(shanghai_time).unwrap_or_default(),
            left: left.map(time_left).unwrap_or_default(),
            overdue: c["overdue"].as_bool().unwrap_or(false),
            soon: left.is_some_and(|s| (0..2 * 24 * 3600).contains(&s)),
            escalated: c["escalated"].as_bool().unwrap_or(false),
            reminded: c["reminded"].as_bool().unwrap_or(false),
            repeat_count: c["repeat_count"].as_i64().unwrap_or(0),
            report_count: c["report_count"].as_i64().unwrap_or(0),
            extension,
            duplicates: suggestions
                .iter()
                .filter(|(for_case, _)| *for_case == id)
                .map(|(_, v)| CaseLinkView {
                    id: v.id,
                    case_no: v.case_no.clone(),
                    subject: v.subject.clone(),
                    state_label: v.state_label.clone(),
                })
                .collect(),
        });
    }
    if !q.locus.trim().is_empty() && !loci.iter().any(|(v, _)| v == q.locus.trim()) {
        loci.push((q.locus.trim().to_string(), place_name(&app, q.locus.trim())));
    }
    let page = q.page();
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let first = if rows.is_empty() {
        0
    } else {
        (page - 1) * PAGE_SIZE + 1
    };
    let last = (page - 1) * PAGE_SIZE + rows.len() as i64;
    let page_view = QueuePage {
        layout: user.layout(&app, "案件办理", "cases"),
        tabs,
        rows,
        total,
        first,
        last,
        page,
        pages,
        prev: (page > 1).then(|| q.href(&q.state, page - 1)),
        next: (last < total).then(|| q.href(&q.state, page + 1)),
        categories: choices(
            intake::Category::ALL.iter().map(|c| (c.code(), c.label())),
            &q.category,
        ),
        kinds: choices(
            intake::SubjectKind::ALL
                .iter()
                .map(|c| (c.code(), c.label())),
            &q.kind,
        ),
        channels: choices(
            intake::Channel::ALL.iter().map(|c| (c.code(), c.label())),
            &q.channel,
        ),
        dues: choices(
            [
                ("1", "1 天内"),
                ("3", "3 天内"),
                ("7", "7 天内"),
                ("15", "15 天内"),
            ]
            .into_iter(),
            &q.due,
        ),
        loci: choices(loci.iter().map(|(v, l)| (v.as_str(), l.as_str())), &q.locus),
        filtered: q.any_filter(),
        q,
    };
    Ok(render(StatusCode::OK, &page_view))
}

/// (case it is for, the suggested case) for each case, only cases the user may see.
async fn suggested(
    app: &App,
    user: &AuthUser,
    keys: &[(i64, Option<&str>)],
) -> Result<Vec<(i64, CaseLinkView)>, ApiError> {
    let found = app
        .store
        .duplicate_suggestions(keys, 3)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let scope = scope_of(app, user);
    let mut out = Vec::new();
    for s in found {
        // The row is at hand: the scope is checked on it, the exclusions by id (as `visible_case`).
        let excluded = app
            .store
            .is_excluded(s.case.id, scope.user_id)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        if scope.sees_case(&s.case) && !excluded {
            out.push((
                s.for_case,
                CaseLinkView {
                    id: s.case.id,
                    case_no: s.case.case_no.clone(),
                    subject: s.case.subject_name.clone().unwrap_or_default(),
                    state_label: casework::state_label(&s.case.state).to_string(),
                },
            ));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Evidence in the text

/// A run of report text, marked when it is evidence (the label names the rule or place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The text (escaped by the template).
    pub text: String,
    /// Why it is marked, if it is.
    pub label: Option<String>,
}

/// Splits `text` into segments at the character spans `marks` (start, end exclusive, label);
/// overlapping marks join their labels; spans outside the text are clipped.
pub fn segments(text: &str, marks: &[(usize, usize, String)]) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let mut labels: Vec<Vec<&str>> = vec![Vec::new(); chars.len()];
    for (start, end, label) in marks {
        let end = (*end).min(chars.len());
        for slot in labels.iter_mut().take(end).skip(*start) {
            if !slot.contains(&label.as_str()) {
                slot.push(label);
            }
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    for (c, l) in chars.iter().zip(&labels) {
        let label = (!l.is_empty()).then(|| l.join("；"));
        match out.last_mut() {
            Some(last) if last.label == label => last.text.push(*c),
            _ => out.push(Segment {
                text: c.to_string(),
                label,
            }),
        }
    }
    out
}

/// The evidence marks of a report in its normalized text (title and body, as extraction and the
/// locus read them): the rules' matched spans and the place names found in the text.
fn evidence_marks(decisions: &serde_json::Value) -> Vec<(usize, usize, String)> {
    let mut marks = Vec::new();
    for hit in decisions["extraction"]["reasons"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(start), Some(end)) = (hit["start"].as_u64(), hit["end"].as_u64()) else {
            continue;
        };
        let what = match (hit["category"].as_str(), hit["kind"].as_str()) {
            (Some(c), _) => category_label(c),
            (None, Some(k)) => format!("对象类型：{}", kind_label(k)),
            _ => String::new(),
        };
        marks.push((
            start as usize,
            end as usize,
            format!(
                "规则 {} · {} · {}",
                hit["rule"].as_str().unwrap_or(""),
                what,
                hit["clause"].as_str().unwrap_or("")
            ),
        ));
    }
    for place in decisions["locus"]["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["source"] == "text")
    {
        let (Some(start), Some(end)) = (place["start"].as_u64(), place["end"].as_u64()) else {
            continue;
        };
        let code = place["code"].as_str().unwrap_or("");
        marks.push((
            start as usize,
            end as usize,
            format!("地点：{}（{}）", place["text"].as_str().unwrap_or(""), code),
        ));
    }
    marks
}

// ---------------------------------------------------------------------------------------------
// The case page

/// One rule that fired.
struct RuleView {
    rule: String,
    matched: String,
    clause: String,
}

/// A category with the rules behind it.
struct CategoryView {
    label: String,
    rules: Vec<RuleView>,
}

/// A referral decided for a report.
struct ReferralView {
    label: String,
    body: String,
    basis: String,
}

/// A file sent with a report.
struct FileView {
    name: String,
    size: String,
    rejected: Option<String>,
}

/// One report of the case with its decisions.
struct ReportView {
    id: i64,
    channel: String,
    external_id: String,
    received: String,
    segments: Vec<Segment>,
    original: String,
    normalized_differs: bool,
    address: Option<String>,
    files: Vec<FileView>,
    locus_name: String,
    locus_reasons: Vec<String>,
    locus_others: Vec<String>,
    subject: String,
    kind: String,
    kind_rules: Vec<RuleView>,
    categories: Vec<CategoryView>,
    handling: String,
    routing_reasons: Vec<String>,
    transfer: Option<String>,
    referrals: Vec<ReferralView>,
    dedup: String,
}

/// One event of the timeline.
struct EventView {
    at: String,
    actor: String,
    what: String,
    why: String,
}

/// A referral letter of the case: what it is, whether queued, the preview when asked.
struct LetterView {
    code: String,
    label: String,
    body: String,
    basis: String,
    email: Option<String>,
    status: Option<String>,
    preview: Option<String>,
    subject_line: String,
}

/// The reporter's identity, shown once in the answer to the reveal post.
struct RevealedView {
    report_id: i64,
    name: String,
    phone: String,
    email: String,
    id_number: String,
    anonymous: bool,
}

/// What an officer typed into a form, kept when the post is refused.
#[derive(Debug, Default, Clone, serde::Deserialize)]
struct Typed {
    /// Which form: a step code, `merge`, `split`, `reveal`, `extension`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    finding: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    amount_wan: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    into: String,
    #[serde(default)]
    report_id: String,
    /// Actions ticked (repeated `act` fields).
    #[serde(skip)]
    acts: Vec<String>,
}

impl Typed {
    /// From an urlencoded body (repeated `act` fields kept).
    fn parse(body: &[u8]) -> Typed {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut t = Typed::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "action" => &mut t.action,
                "version" => &mut t.version,
                "reason" => &mut t.reason,
                "text" => &mut t.text,
                "finding" => &mut t.finding,
                "status" => &mut t.status,
                "to" => &mut t.to,
                "amount_wan" => &mut t.amount_wan,
                "days" => &mut t.days,
                "into" => &mut t.into,
                "report_id" => &mut t.report_id,
                "act" => {
                    t.acts.push(v);
                    continue;
                }
                _ => continue,
            };
            *slot = v;
        }
        t
    }

    /// The value of a field typed in the form of `action` (empty for the other forms).
    fn of(&self, action: &str, field: &str) -> &str {
        if self.action != action {
            return "";
        }
        match field {
            "reason" => &self.reason,
            "text" => &self.text,
            "finding" => &self.finding,
            "status" => &self.status,
            "to" => &self.to,
            "amount_wan" => &self.amount_wan,
            "days" => &self.days,
            "into" => &self.into,
            "report_id" => &self.report_id,
            _ => "",
        }
    }

    /// True when `value` was chosen in the field of the form of `action`.
    fn picked(&self, action: &str, field: &str, value: &str) -> bool {
        self.of(action, field) == value
    }

    fn ticked(&self, act: &str) -> bool {
        self.action == "record_actions" && self.acts.iter().any(|a| a == act)
    }

    /// The step the form asks for (its content is checked by the state machine).
    fn step(&self) -> Result<Step, ApiError> {
        let bad = |zh: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_step", zh, zh);
        Ok(match self.action.as_str() {
            "sign_for" => Step::SignFor,
            "send_back" => Step::SendBack,
            "transfer" => Step::Transfer {
                to: self.to.trim().to_string(),
            },
            "start_verification" => Step::StartVerification,
            "record_finding" => Step::RecordFinding {
                finding: serde_json::from_value(serde_json::json!(self.finding))
                    .map_err(|_| bad("请选择核查结论：属实、部分属实或不属实"))?,
                text: self.text.trim().to_string(),
            },
            "record_actions" => {
                let mut actions = Vec::new();
                for kind in &self.acts {
                    let amount_wan = if kind == "罚款" {
                        Some(
                            self.amount_wan
                                .trim()
                                .parse::<f64>()
                                .map_err(|_| bad("罚款须填写金额（万元）"))?,
                        )
                    } else {
                        None
                    };
                    actions.push(casework::Action {
                        kind: kind.clone(),
                        amount_wan,
                    });
                }
                Step::RecordActions { actions }
            }
            "record_rectification" => Step::RecordRectification {
                status: self.status.trim().to_string(),
            },
            "reply" => Step::Reply {
                text: self.text.trim().to_string(),
            },
            "close" => Step::Close,
            _ => return Err(bad("办理步骤无法识别")),
        })
    }
}

/// A message above the case: done, or refused with the API's words.
struct Notice {
    ok: bool,
    title: String,
    detail: String,
    /// What the officer typed, shown again in the notice (the form it came from may be gone
    /// with the case's new state): (field, text).
    kept: Vec<(&'static str, String)>,
}

/// The enforcement actions offered, in the order of the 渝考发 tables.
const ACTIONS: &[&str] = &[
    "限期改正",
    "罚款",
    "停业整顿",
    "移送市场监管或淘汰退出",
    "公开曝光",
    "暂停考试资格",
    "取消考试资格",
];

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    layout: StaffLayout,
    id: i64,
    case_no: String,
    state: String,
    state_label: String,
    handling: String,
    locus: String,
    subject: String,
    kind: String,
    categories: Vec<String>,
    due: String,
    left: String,
    overdue: bool,
    version: i64,
    opened: String,
    repeat_count: i64,
    reports: Vec<ReportView>,
    events: Vec<EventView>,
    steps: Vec<&'static str>,
    worker: bool,
    may_reveal: bool,
    duplicates: Vec<CaseLinkView>,
    letters: Vec<LetterView>,
    revealed: Option<RevealedView>,
    notice: Option<Notice>,
    typed: Typed,
    actions: &'static [&'static str],
    extensions: Vec<String>,
}

impl CasePage {
    fn can(&self, step: &str) -> bool {
        self.steps.contains(&step)
    }
}

/// The steps an officer may take from a state, in the order of the work.
fn steps_from(state: &str) -> Vec<&'static str> {
    let all = [
        Step::SignFor,
        Step::SendBack,
        Step::Transfer { to: String::new() },
        Step::StartVerification,
        Step::RecordFinding {
            finding: casework::Finding::True,
            text: String::new(),
        },
        Step::RecordActions {
            actions: Vec::new(),
        },
        Step::RecordRectification {
            status: String::new(),
        },
        Step::Reply {
            text: String::new(),
        },
        Step::Close,
    ];
    all.iter()
        .filter(|s| s.from_states().contains(&state))
        .map(Step::code)
        .collect()
}

/// What an event did, in Chinese, and why.
fn event_view(
    app: &App,
    e: &crate::store::EventRow,
    case_nos: &std::collections::HashMap<i64, String>,
) -> EventView {
    let d = &e.data;
    let text = |k: &str| d[k].as_str().unwrap_or("").to_string();
    let case_no = |k: &str| {
        d[k].as_i64()
            .and_then(|id| case_nos.get(&id).cloned())
            .unwrap_or_else(|| d[k].to_string())
    };
    let (what, why) = match e.kind.as_str() {
        "report.received" => (
            format!(
                "收到举报（{}）",
                e.report_id.map(|r| r.to_string()).unwrap_or_default()
            ),
            d["locus"]["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(d["routing"]["reasons"].as_array().into_iter().flatten())
                .filter_map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join("；"),
        ),
        "case.opened" => ("立案".into(), String::new()),
        "case.report_linked" => (
            "举报并入本案（重复举报）".into(),
            d["summary"]
                .as_str()
                .map_or_else(|| text("decision"), str::to_string),
        ),
        "case.merged_into" => (format!("本案并入案件 {}", case_no("into")), text("reason")),
        "case.merged_from" => (format!("案件 {} 并入本案", case_no("from")), text("reason")),
        "case.split_out" => (
            format!("举报拆分为新案件 {}", text("case_no")),
            text("reason"),
        ),
        "case.split_from" => (
            format!("自案件 {} 拆分立案", case_no("from")),
            text("reason"),
        ),
        "case.reporter_added" => ("举报人补充材料".into(), String::new()),
        "case.reminded" => ("办理期限提醒".into(), text("step")),
        "case.escalated" => ("超期督办（报上级）".into(), text("step")),
        "case.extension_requested" => (format!("申请延期 {} 个工作日", d["days"]), text("reason")),
        "case.extension_approved" => ("延期申请已批准".into(), text("reason")),
        "case.extension_denied" => ("延期申请未批准".into(), text("reason")),
        kind if kind.starts_with("case.") => {
            let code = &kind[5..];
            let mut why = Vec::new();
            if let Some(f) = d["finding"].as_str() {
                why.push(f.to_string());
            }
            if let Some(t) = d["text"].as_str() {
                why.push(t.to_string());
            }
            if let Some(acts) = d["actions"].as_array() {
                for a in acts {
                    match a["amount_wan"].as_f64() {
                        Some(x) => {
                            why.push(format!("{} {} 万元", a["kind"].as_str().unwrap_or(""), x))
                        }
                        None => why.push(a["kind"].as_str().unwrap_or("").to_string()),
                    }
                }
            }
            if let Some(s) = d["status"].as_str() {
                why.push(s.to_string());
            }
            if let Some(h) = d["handling"].as_str() {
                why.push(format!("分派至 {}", place_name(app, h)));
            }
            if let Some(t) = d["transfer_to"].as_str() {
                why.push(format!("转办至 {}", place_name(app, t)));
            }
            if let Some(r) = d["reason"].as_str().filter(|r| !r.is_empty()) {
                why.push(format!("理由：{r}"));
            }
            let label = casework::step_label(code);
            let what = match d["to"].as_str().filter(|_| code != "transfer") {
                Some(to) => format!("{label}（→ {}）", casework::state_label(to)),
                None => label.to_string(),
            };
            (what, why.join("；"))
        }
        other => (other.to_string(), String::new()),
    };
    EventView {
        at: shanghai_time(&e.at),
        actor: if e.actor == "system" {
            "系统".into()
        } else {
            e.actor.clone()
        },
        what,
        why,
    }
}

fn report_view(app: &App, r: &ReportRow, files: &[crate::store::CaseFile]) -> ReportView {
    let d = &r.decisions;
    let full = match &r.title {
        Some(t) => format!("{t}\n{}", r.text),
        None => r.text.clone(),
    };
    let normalized = intake::normalize_text(&full);
    let rule = |h: &serde_json::Value| RuleView {
        rule: h["rule"].as_str().unwrap_or("").to_string(),
        matched: h["matched"].as_str().unwrap_or("").to_string(),
        clause: h["clause"].as_str().unwrap_or("").to_string(),
    };
    let hits: Vec<&serde_json::Value> = d["extraction"]["reasons"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let categories = d["extraction"]["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .map(|c| CategoryView {
            label: category_label(c),
            rules: hits
                .iter()
                .filter(|h| h["category"] == c)
                .map(|h| rule(h))
                .collect(),
        })
        .collect();
    let str_list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let handling = match &d["routing"]["handling"] {
        serde_json::Value::String(h) => place_name(app, h),
        _ => String::new(),
    };
    ReportView {
        id: r.id,
        channel: channel_label(&r.channel),
        external_id: r.external_id.clone(),
        received: shanghai_time(&r.received_at),
        segments: segments(&normalized, &evidence_marks(d)),
        normalized_differs: normalized != full,
        original: full,
        address: r.address.clone(),
        files: files
            .iter()
            .filter(|f| f.report_id == r.id)
            .map(|f| FileView {
                name: f.name.clone(),
                size: size_text(usize::try_from(f.size).unwrap_or(0)),
                rejected: f.rejected.clone(),
            })
            .collect(),
        locus_name: d["locus"]["name"].as_str().unwrap_or("未定位").to_string(),
        locus_reasons: str_list(&d["locus"]["reasons"]),
        locus_others: str_list(&d["locus"]["candidates"])
            .into_iter()
            .skip(1)
            .collect(),
        subject: d["extraction"]["subject_name"]
            .as_str()
            .unwrap_or("（未识别）")
            .to_string(),
        kind: kind_label(d["extraction"]["subject_kind"].as_str().unwrap_or("other")),
        kind_rules: hits
            .iter()
            .filter(|h| h["kind"].is_string())
            .map(|h| rule(h))
            .collect(),
        categories,
        handling,
        routing_reasons: str_list(&d["routing"]["reasons"]),
        transfer: d["routing"]["transfer"]
            .as_str()
            .map(|t| place_name(app, t)),
        referrals: d["routing"]["referrals"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| ReferralView {
                label: referral_label(f["code"].as_str().unwrap_or("")),
                body: f["body"].as_str().unwrap_or("").to_string(),
                basis: f["basis"].as_str().unwrap_or("").to_string(),
            })
            .collect(),
        dedup: match d["dedup"]["decision"].as_str() {
            Some("new") => "新案件".into(),
            Some("repeat") => "重复举报（同一举报人就同一事项再次举报）".into(),
            Some("same_matter") => "同一事项（不同举报人）".into(),
            Some("same_message") => "同一消息重复发送".into(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
    }
}

/// What a case page shows besides the case itself.
#[derive(Default)]
struct Extras {
    notice: Option<Notice>,
    typed: Typed,
    revealed: Option<RevealedView>,
    preview: Option<String>,
}

/// The referrals of a case that a letter goes to (market regulation, public security), each
/// from the first report that decided it.
fn letter_referrals(reports: &[ReportRow]) -> Vec<(triage::Referral, &ReportRow)> {
    let mut out: Vec<(triage::Referral, &ReportRow)> = Vec::new();
    for r in reports {
        let list: Vec<triage::Referral> = r
            .decisions
            .pointer("/routing/referrals")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        for f in list {
            if matches!(
                f.code,
                intake::ReferralKind::MarketRegulation | intake::ReferralKind::PublicSecurity
            ) && !out.iter().any(|(g, _)| g.code == f.code)
            {
                out.push((f, r));
            }
        }
    }
    out
}

/// The reporter of a report, to mask their words in a letter (never shown).
async fn reporter_of(app: &App, report_id: i64) -> intake::Reporter {
    let v = app
        .store
        .reporter_identity(report_id)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let s = |k: &str| v[k].as_str().map(str::to_string);
    intake::Reporter {
        name: s("name"),
        phone: s("phone"),
        email: s("email"),
        id_number: s("id_number"),
        anonymous: v["anonymous"].as_bool().unwrap_or(false),
    }
}

fn sender_name(app: &App) -> String {
    app.config
        .smtp
        .as_ref()
        .map(|s| s.from_name.clone())
        .unwrap_or_else(|| "应急管理局举报受理中心".into())
}

async fn build_case_page(
    app: &App,
    user: &crate::store::User,
    layout: StaffLayout,
    id: i64,
    extras: Extras,
) -> Result<CasePage, ApiError> {
    let auth = AuthUser(user.clone());
    let scope = scope_of(app, &auth);
    let case = visible_case(app, &scope, id).await?;
    let internal = |e: anyhow::Error| ApiError::internal(&e);
    let reports = app.store.case_reports(id).await.map_err(internal)?;
    let events = app.store.case_events(id).await.map_err(internal)?;
    // Merges and splits name the other case by id in their events; the timeline shows its number.
    let mut case_nos = std::collections::HashMap::new();
    for e in &events {
        for key in ["into", "from"] {
            if let Some(other) = e.data[key].as_i64().filter(|o| *o != id) {
                if let std::collections::hash_map::Entry::Vacant(slot) = case_nos.entry(other) {
                    if let Some(c) = app.store.case(other).await.map_err(internal)? {
                        slot.insert(c.case_no);
                    }
                }
            }
        }
    }
    let files = app.store.case_files(id).await.map_err(internal)?;
    let letters_queued = app.store.referral_letters(id).await.map_err(internal)?;
    let extensions = app.store.extensions(id).await.map_err(internal)?;
    let worker = matches!(user.role, Role::Officer | Role::Admin);
    let duplicates = suggested(app, &auth, &[(case.id, case.subject_key.as_deref())])
        .await?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .format("%Y年%-m月%-d日")
        .to_string();
    let mut letters = Vec::new();
    for (referral, report) in letter_referrals(&reports) {
        let code = referral.code.code().to_string();
        let key = crate::outbox::referral_key(id, &code);
        let status = letters_queued
            .iter()
            .find(|l| l.dedup_key == key)
            .map(|l| match l.state {
                "done" => format!(
                    "已发送（{}）",
                    l.done_at.as_deref().map(shanghai_time).unwrap_or_default()
                ),
                "failed" => "发送失败，已停止重试".to_string(),
                _ => format!("已排队待发送（{}）", shanghai_time(&l.created_at)),
            });
        let (preview, subject_line) = if extras.preview.as_deref() == Some(code.as_str()) {
            let payload = crate::outbox::referral_payload(
                &case,
                report,
                &referral,
                &reporter_of(app, report.id).await,
            );
            let r = crate::outbox::templates::render(
                crate::outbox::MailKind::ReferralLetter,
                &payload,
                &sender_name(app),
                &today,
            );
            (Some(r.body), r.subject)
        } else {
            (None, String::new())
        };
        letters.push(LetterView {
            label: referral_label(&code),
            code,
            body: referral.body.clone(),
            basis: referral.basis.clone(),
            email: referral.email.clone(),
            status,
            preview,
            subject_line,
        });
    }
    let left = case.due_at.as_deref().and_then(seconds_until);
    Ok(CasePage {
        layout,
        id,
        case_no: case.case_no.clone(),
        state: case.state.clone(),
        state_label: casework::state_label(&case.state).to_string(),
        handling: place_name(app, &case.handling),
        locus: case
            .locus
            .as_deref()
            .map(|l| place_name(app, l))
            .unwrap_or_else(|| "未定位".into()),
        subject: case
            .subject_name
            .clone()
            .unwrap_or_else(|| "（未识别举报对象）".into()),
        kind: kind_label(&case.subject_kind),
        categories: case.categories.iter().map(|c| category_label(c)).collect(),
        due: case
            .due_at
            .as_deref()
            .map(shanghai_time)
            .unwrap_or_default(),
        left: left.map(time_left).unwrap_or_default(),
        overdue: left.is_some_and(|s| s < 0),
        version: case.version,
        opened: shanghai_time(&case.opened_at),
        repeat_count: case.repeat_count,
        reports: reports
            .iter()
            .map(|r| report_view(app, r, &files))
            .collect(),
        events: events
            .iter()
            .map(|e| event_view(app, e, &case_nos))
            .collect(),
        steps: if worker {
            steps_from(&case.state)
        } else {
            Vec::new()
        },
        worker,
        may_reveal: api::may_reveal(&auth, &scope, &case),
        duplicates,
        letters,
        revealed: extras.revealed,
        notice: extras.notice,
        typed: extras.typed,
        actions: ACTIONS,
        extensions: extensions
            .iter()
            .map(|e| {
                format!(
                    "第 {} 次延期申请：{} 个工作日，{}（{}）",
                    e["n"],
                    e["days"],
                    crate::store::decision_label(e["state"].as_str().unwrap_or("")),
                    e["reason"].as_str().unwrap_or("")
                )
            })
            .collect(),
    })
}

#[derive(Debug, Default, serde::Deserialize)]
struct CaseQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    preview: String,
}

/// What a redirect after a post says on the case page.
fn done_notice(done: &str) -> Option<Notice> {
    let title = match done {
        "step" => "已办理，案件状态已更新",
        "merged" => "已并案",
        "split" => "已拆分为新案件",
        "queued" => "移送函已排队发送",
        "already" => "移送函此前已排队，未重复发送",
        "extension" => "延期申请已提交，待领导审批",
        _ => return None,
    };
    Some(Notice {
        ok: true,
        title: title.into(),
        detail: String::new(),
        kept: Vec::new(),
    })
}

async fn case_page(
    app: web::Data<App>,
    user: Staff,
    id: web::Path<String>,
    query: web::Query<CaseQuery>,
) -> Result<HttpResponse, StaffError> {
    let id = api::parse_id(&id, "案件")?;
    let extras = Extras {
        notice: done_notice(&query.done),
        preview: Some(query.preview.clone()).filter(|p| !p.is_empty()),
        ..Extras::default()
    };
    let layout = user.layout(&app, "案件", "cases");
    let mut page = build_case_page(&app, &user.user, layout, id, extras).await?;
    page.layout.title = format!("案件 {}", page.case_no);
    Ok(render(StatusCode::OK, &page))
}

/// The case page again after a refused post: the API's status and message, what was typed kept.
async fn again(
    app: &App,
    user: &StaffPost,
    id: i64,
    typed: Typed,
    e: ApiError,
) -> Result<HttpResponse, StaffError> {
    // Out of scope stays a 404 page, never a case page.
    if e.status() == StatusCode::NOT_FOUND {
        return Err(e.into());
    }
    let kept: Vec<(&'static str, String)> = [
        ("理由", &typed.reason),
        ("内容", &typed.text),
        ("转至", &typed.to),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| (k, v.clone()))
    .collect();
    let notice = if e.code == "version_conflict" {
        Notice {
            ok: false,
            title: "案件已被他人更新".into(),
            detail: format!(
                "{} 下面是案件的最新情况，您填写的内容已保留，请核对后再提交。",
                e.message
            ),
            kept,
        }
    } else {
        Notice {
            ok: false,
            title: e.message.clone(),
            detail: String::new(),
            kept,
        }
    };
    let layout = user.layout(app, "案件", "cases");
    let extras = Extras {
        notice: Some(notice),
        typed,
        ..Extras::default()
    };
    let mut page = build_case_page(app, &user.user, layout, id, extras).await?;
    page.layout.title = format!("案件 {}", page.case_no);
    Ok(render(e.status(), &page))
}

async fn read_form(app: &App, payload: web::Payload) -> Result<Typed, StaffError> {
    let body = crate::web::read_body(payload, app.config.max_body_bytes).await?;
    Ok(Typed::parse(&body))
}

async fn step_post(
    app: web::Data<App>,
    user: StaffPost,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, StaffError> {
    let id = api::parse_id(&id, "案件")?;
    let typed = read_form(&app, payload).await?;
    let auth = user.auth();
    let version = typed.version.trim().parse::<i64>().ok();
    let result = match typed.step() {
        Ok(step) => {
            let reason = Some(typed.reason.trim()).filter(|r| !r.is_empty());
            api::apply_transition(&app, &auth, id, version, &step, reason)
                .await
                .map(|_| ())
        }
        Err(e) => {
            // The case must be visible before its form's content is judged.
            visible_case(&app, &scope_of(&app, &auth), id).await?;
            Err(e)
        }
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/cases/{id}?done=step#timeline"))),
        Err(e) => again(&app, &user, id, typed, e).await,
    }
}

/// A case named by its number (`TL2024000001`) or id.
async fn case_id_of(app: &App, given: &str) -> Result<i64, ApiError> {
    let given = given.trim();
    if let Ok(id) = given.parse::<i64>() {
        return Ok(id);
    }
    app.store
        .case_id_by_no(given)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_case",
                format!("找不到案件编号“{given}”"),
                "no such case number",
            )
        })
}

async fn merge_post(
    app: web::Data<App>,
    user: StaffPost,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, StaffError> {
    let id = api::parse_id(&id, "案件")?;
    let mut typed = read_form(&app, payload).await?;
    typed.action = "merge".into();
    let auth = user.auth();
    visible_case(&app, &scope_of(&app, &auth), id).await?;
    let result = match case_id_of(&app, &typed.into).await {
        Ok(into) => api::merge_into(&app, &auth, id, into, typed.reason.trim())
            .await
            .map(|_| into),
        Err(e) => Err(e),
    };
    match result {
        Ok(into) => Ok(see_other(&format!("/cases/{into}?done=merged#timeline"))),
        // The other case out of scope reads as not found: said on this case's page.
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            let e = ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_case",
                "找不到要并入的案件，或您无权办理该案件",
                "the other case was not found",
            );
            again(&app, &user, id, typed, e).await
        }
        Err(e) => again(&app, &user, id, typed, e).await,
    }
}

async fn split_post(
    app: web::Data<App>,
    user: StaffPost,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, StaffError> {
    let id = api::parse_id(&id, "案件")?;
    let mut typed = read_form(&app, payload).await?;
    typed.action = "split".into();
    let auth = user.auth();
    let report = typed.report_id.trim().parse::<i64>().unwrap_or(-1);
    match api::split_off(&app, &auth, id, &[report], typed.reason.trim()).await {
        Ok((new_case, _)) => Ok(see_other(&format!("/cases/{new_case}?done=split#timeline"))),
        Err(e) => again(&app, &user, id, typed, e).await,
    }
}

async fn letter_post(
    app: web::Data<App>,
    user: StaffPost,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, StaffError> {
    let id = api::parse_id(&path.0, "案件")?;
    let code = path.1.clone();
    let auth = user.auth();
    let case = visible_case(&app, &scope_of(&app, &auth), id).await?;
    let refuse = |zh: &str| ApiError::new(StatusCode::FORBIDDEN, "not_entitled", zh, zh);
    if !matches!(user.user.role, Role::Officer | Role::Admin) {
        let e = refuse("只有办案人员可以发送移送函");
        return again(&app, &user, id, Typed::default(), e).await;
    }
    let reports = app
        .store
        .case_reports(id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some((referral, report)) = letter_referrals(&reports)
        .into_iter()
        .find(|(r, _)| r.code.code() == code)
    else {
        return Err(ApiError::not_found("移送事项").into());
    };
    if referral
        .email
        .as_deref()
        .is_none_or(|e| e.trim().is_empty())
    {
        let e = ApiError::new(
            StatusCode::CONFLICT,
            "no_address",
            format!(
                "未配置“{}”的电子邮箱，无法发送移送函；请联系管理员配置",
                referral.body
            ),
            "no e-mail address configured for the receiving body",
        );
        return again(&app, &user, id, Typed::default(), e).await;
    }
    let payload = crate::outbox::referral_payload(
        &case,
        report,
        &referral,
        &reporter_of(&app, report.id).await,
    );
    let queued = crate::outbox::enqueue_referral(&app.store, payload)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if queued {
        app.store
            .audit(
                &user.user.name,
                "referral_letter",
                Some(&format!("case:{id}")),
                None,
                serde_json::json!({"referral": code}),
            )
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    let done = if queued { "queued" } else { "already" };
    Ok(see_other(&format!("/cases/{id}?done={done}#letters")))
}

async fn reveal_post(
    app: web::Data<App>,
    user: StaffPost,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, StaffError> {
    let id = api::parse_id(&id, "案件")?;
    let mut typed = read_form(&app, payload).await?;
    typed.action = "reveal".into();
    let auth = user.auth();
    visible_case(&app, &scope_of(&app, &auth), id).await?;
    let report_id = typed.report_id.trim().parse::<i64>().unwrap_or(-1);
    // The report must belong to this case (the reveal act checks scope through its own case).
    let belongs = app
        .store
        .report(report_id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .is_some_and(|r| r.case_id == id);
    if !belongs {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_report",
            "请选择本案件的一件举报",
            "not a report of this case",
        );
        return again(&app, &user, id, typed, e).await;
    }
    match api::reveal(&app, &auth, report_id, typed.reason.trim()).await {
        Ok(identity) => {
            let v = identity.unwrap_or_default();
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            let layout = user.layout(&app, "案件", "cases");
            let extras = Extras {
                notice: Some(Notice {
                    ok: true,
                    title: "已查看举报人身份（已记录查看人、时间和理由）".into(),
                    detail: "身份信息只在本页显示这一次，请勿转载、转发。".into(),
                    kept: Vec::new(),
                }),
                revealed: Some(RevealedView {
                    report_id,
                    name: s("name"),
                    phone: s("phone"),
                    email: s("email"),
                    id_number: s("id_number"),
                    anonymous: v["anonymous"].as_bool().unwrap_or(false),
                }),
                ..Extras::default()
            };
            let mut page = build_case_page(&app, &user.user, layout, id, extras).await?;
            page.layout.title = format!("案件 {}", page.case_no);
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => again(&app, &user, id, typed, e).await,
    }
}

async fn extension_post(
    app: web::Data<App>,
    user: StaffPost,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, StaffError> {
    let id = api::parse_id(&id, "案件")?;
    let mut typed = read_form(&app, payload).await?;
    typed.action = "extension".into();
    let auth = user.auth();
    let days = typed.days.trim().parse::<i64>().unwrap_or(0);
    match crate::web::chain::request(&app, &auth, id, days, typed.reason.trim()).await {
        Ok(_) => Ok(see_other(&format!("/cases/{id}?done=extension#timeline"))),
        Err(e) => again(&app, &user, id, typed, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_splits_the_text_and_joins_overlapping_labels() {
        let marks = vec![
            (0, 3, "地点：鞍山市".to_string()),
            (5, 8, "规则 A".to_string()),
            (7, 9, "规则 B".to_string()),
            (40, 50, "越界".to_string()),
        ];
        let segs = segments("鞍山市有人<b>只上了一天", &marks);
        let got: Vec<(&str, Option<&str>)> = segs
            .iter()
            .map(|s| (s.text.as_str(), s.label.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("鞍山市", Some("地点：鞍山市")),
                ("有人", None),
                ("<b", Some("规则 A")),
                (">", Some("规则 A；规则 B")),
                ("只", Some("规则 B")),
                ("上了一天", None),
            ]
        );
        assert!(segments("", &marks).is_empty());
    }

    #[test]
    fn time_left_reads_naturally() {
        assert_eq!(time_left(-3 * 86_400 - 10), "已超期 3 天");
        assert_eq!(time_left(-7200), "已超期 2 小时");
        assert_eq!(time_left(86_400 + 7200), "剩 1 天 2 小时");
        assert_eq!(time_left(30), "剩 1 分钟");
    }

    #[test]
    fn only_the_steps_of_the_state_are_offered() {
        assert_eq!(
            steps_from("routed"),
            vec!["sign_for", "send_back", "transfer"]
        );
        assert_eq!(steps_from("verifying"), vec!["record_finding"]);
        assert_eq!(
            steps_from("actions"),
            vec!["record_actions", "record_rectification", "reply"]
        );
        assert!(steps_from("closed").is_empty());
    }

    #[test]
    fn a_form_keeps_repeated_actions_and_builds_the_step() {
        let t = Typed::parse(
            "action=record_actions&act=%E7%BD%9A%E6%AC%BE&act=%E5%85%AC%E5%BC%80%E6%9B%9D%E5%85%89&amount_wan=2.5"
                .as_bytes(),
        );
        assert!(t.ticked("罚款") && t.ticked("公开曝光") && !t.ticked("停业整顿"));
        let Step::RecordActions { actions } = t.step().unwrap() else {
            panic!("not actions")
        };
        assert_eq!(actions[0].amount_wan, Some(2.5));
        assert_eq!(actions[1].amount_wan, None);
        assert_eq!(t.of("record_actions", "amount_wan"), "2.5");
        assert_eq!(t.of("reply", "amount_wan"), "");
    }
}
