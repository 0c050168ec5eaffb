//! The 12350 operator's desk at `/desk`: a call logged with the keyboard only, a live preview of
//! how intake will read it (place and its candidates, subject, categories, handling office,
//! referrals, the likely duplicate) and the caller's earlier calls, found by the blind index of
//! the phone. The preview and the store are the API's own paths (`api::preview_value`,
//! `api::accept_call`, `api::caller_calls`); the page's script only calls the same API while the
//! operator types, and without it the 预览 button posts the form and the server renders the same
//! panel.

use super::staff::{Staff, StaffError, StaffLayout, StaffPost};
use super::{beijing, render, shanghai_time};
use crate::app::App;
use crate::channels::CallLog;
use crate::ingest::Outcome;
use crate::store::User;
use crate::web::api::{accept_call, caller_calls, preview_value, PreviewBody};
use crate::web::{ApiError, AuthUser};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use intake::SubjectKind;
use serde_json::Value;

/// Registers the desk.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk", web::get().to(desk_form))
        .route("/desk", web::post().to(desk_post));
}

/// What the operator typed, kept across a preview or a refused post.
#[derive(Debug, Default, serde::Deserialize)]
struct DeskForm {
    #[serde(default)]
    caller_number: String,
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    anonymous: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    subject_name: String,
    #[serde(default)]
    subject_kind: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    call_id: String,
    /// The id the page made up when it was shown: a second post of the same call (a reload, an
    /// impatient second Ctrl+Enter) is then the same call, not a second case.
    #[serde(default)]
    call_id_auto: String,
    /// `preview` for the 预览 button (and Enter in a field); anything else stores the call.
    #[serde(default)]
    action: String,
    /// A place candidate picked in the preview: becomes the address.
    #[serde(default)]
    pick: String,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl DeskForm {
    /// A fresh form: the call time now, a new call id.
    fn fresh() -> DeskForm {
        DeskForm {
            started_at: now_local(),
            call_id_auto: new_call_id(),
            ..DeskForm::default()
        }
    }

    fn is_anonymous(&self) -> bool {
        self.anonymous.is_some()
    }

    /// The call time as RFC 3339 (the field is Beijing time); empty = now.
    fn started_rfc3339(&self) -> Result<String, String> {
        let raw = self.started_at.trim();
        if raw.is_empty() {
            return Ok(chrono::Utc::now()
                .with_timezone(&beijing())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false));
        }
        ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(raw, f).ok())
            .and_then(|t| t.and_local_timezone(beijing()).single())
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
            .ok_or_else(|| "来电时间格式不对，请写成 2024-05-06 09:12".to_string())
    }

    fn preview_body(&self, received_at: Option<String>) -> PreviewBody {
        PreviewBody {
            text: self.notes.clone(),
            address: some(&self.address),
            subject_name: some(&self.subject_name),
            subject_kind: some(&self.subject_kind),
            phone: some(&self.caller_number),
            received_at,
            ..PreviewBody::default()
        }
    }

    fn call_log(&self, started_at: String, call_id: String) -> CallLog {
        CallLog {
            call_id: Some(call_id),
            caller_number: some(&self.caller_number),
            caller_name: some(&self.caller_name),
            anonymous: Some(self.is_anonymous()),
            started_at: Some(started_at),
            notes: Some(self.notes.clone()),
            subject_name: some(&self.subject_name),
            subject_kind: some(&self.subject_kind),
            address: some(&self.address),
            categories: None,
        }
    }

    /// The call log as the API would have received it: kept as the report's raw payload.
    fn raw(&self, started_at: &str, call_id: &str) -> Vec<u8> {
        serde_json::json!({
            "call_id": call_id, "caller_number": some(&self.caller_number),
            "caller_name": some(&self.caller_name), "anonymous": self.is_anonymous(),
            "started_at": started_at, "notes": self.notes, "subject_name": some(&self.subject_name),
            "subject_kind": some(&self.subject_kind), "address": some(&self.address),
            "logged_on": "desk",
        })
        .to_string()
        .into_bytes()
    }
}

/// Now in Beijing time, as a `datetime-local` field wants it.
fn now_local() -> String {
    chrono::Utc::now()
        .with_timezone(&beijing())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// A call id for a call the operator's telephone system gave none: the desk's prefix, the time
/// and random digits.
fn new_call_id() -> String {
    use rand::Rng;
    format!(
        "desk-{}-{:06}",
        chrono::Utc::now()
            .with_timezone(&beijing())
            .format("%Y%m%d%H%M%S"),
        rand::thread_rng().gen_range(0..1_000_000)
    )
}

struct KindOption {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

/// A place candidate: its code and its name.
struct Candidate {
    code: String,
    name: String,
}

/// A category, a referral or a reason: code (or short name) and words.
struct Labelled {
    code: String,
    label: String,
}

/// The likely duplicate case.
struct Duplicate {
    case_id: i64,
    case_no: String,
    subject_name: String,
    state: String,
}

/// An earlier call of the same caller.
struct EarlierCall {
    case_id: i64,
    case_no: String,
    when: String,
    state: String,
    subject_name: String,
}

/// The preview panel, read from the API's preview answer (the same JSON the script renders).
#[derive(Default)]
struct PreviewView {
    locus: String,
    /// Whether intake decided the place (else the candidates are the open question).
    decided: bool,
    locus_reasons: Vec<String>,
    candidates: Vec<Candidate>,
    subject_name: String,
    subject_kind: String,
    categories: Vec<Labelled>,
    handling: String,
    transfer: String,
    referrals: Vec<Labelled>,
    duplicate: Option<Duplicate>,
}

fn text_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn texts_of(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl PreviewView {
    fn from_json(p: &Value) -> PreviewView {
        let labels = &p["labels"];
        let candidates: Vec<Candidate> = texts_of(&p["locus"]["candidates"])
            .into_iter()
            .map(|c| match c.split_once(' ') {
                Some((code, name)) => Candidate {
                    code: code.to_string(),
                    name: name.to_string(),
                },
                None => Candidate {
                    code: String::new(),
                    name: c,
                },
            })
            .collect();
        let chosen = text_of(&p["locus"]["code"]);
        // The places still in question: all candidates when none was decided, else the others
        // (one candidate and nothing decided is still a question: the operator confirms it).
        let candidates: Vec<Candidate> = candidates
            .into_iter()
            .filter(|c| chosen.is_empty() || c.code != chosen)
            .collect();
        PreviewView {
            locus: text_of(&p["locus"]["name"]),
            locus_reasons: texts_of(&p["locus"]["reasons"]),
            decided: !chosen.is_empty(),
            candidates,
            subject_name: text_of(&p["subject_name"]),
            subject_kind: text_of(&labels["subject_kind"]),
            categories: texts_of(&p["categories"])
                .into_iter()
                .map(|c| Labelled {
                    label: text_of(&labels["categories"][&c]),
                    code: c,
                })
                .collect(),
            handling: text_of(&labels["handling"]),
            transfer: text_of(&labels["transfer"]),
            referrals: p["referrals"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|r| Labelled {
                            code: text_of(&labels["referrals"][text_of(&r["code"])]),
                            label: text_of(&r["body"]),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            duplicate: p["duplicate"].as_object().map(|d| Duplicate {
                case_id: d.get("case_id").and_then(Value::as_i64).unwrap_or_default(),
                case_no: d.get("case_no").map(text_of).unwrap_or_default(),
                subject_name: d.get("subject_name").map(text_of).unwrap_or_default(),
                state: crate::casework::state_label(
                    d.get("state").and_then(Value::as_str).unwrap_or_default(),
                )
                .to_string(),
            }),
        }
    }
}

/// What was stored, shown above the fresh form.
struct Logged {
    case_no: String,
    case_id: i64,
    again: bool,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    layout: StaffLayout,
    v: DeskForm,
    kinds: Vec<KindOption>,
    errors: Vec<String>,
    logged: Option<Logged>,
    preview: Option<PreviewView>,
    callers: Vec<EarlierCall>,
    phone_asked: bool,
    /// The calls this operator logged today (Beijing time), newest first.
    today: Vec<EarlierCall>,
}

fn page(
    today: Vec<EarlierCall>,
    layout: StaffLayout,
    v: DeskForm,
    errors: Vec<String>,
    logged: Option<Logged>,
    preview: Option<PreviewView>,
    callers: Vec<EarlierCall>,
) -> DeskPage {
    let kinds = SubjectKind::ALL
        .iter()
        .map(|k| KindOption {
            code: k.code(),
            label: k.label(),
            selected: v.subject_kind == k.code(),
        })
        .collect();
    DeskPage {
        layout,
        phone_asked: !v.caller_number.trim().is_empty(),
        v,
        kinds,
        errors,
        logged,
        preview,
        callers,
        today,
    }
}

/// The calls `user` logged today (Beijing time), newest first.
async fn todays_calls(app: &App, user: &User) -> Vec<EarlierCall> {
    // The list helps the operator; a failure to read it must not lose the call being typed.
    let rows = app
        .store
        .reports_logged_by(user.id, 200)
        .await
        .unwrap_or_default();
    let today = chrono::Utc::now().with_timezone(&beijing()).date_naive();
    let mut calls = Vec::new();
    for row in rows {
        let Ok(at) = chrono::DateTime::parse_from_rfc3339(&row.received_at) else {
            continue;
        };
        if at.with_timezone(&beijing()).date_naive() != today {
            continue;
        }
        let Ok(Some(case)) = app.store.case(row.case_id).await else {
            continue;
        };
        calls.push(EarlierCall {
            case_id: case.id,
            case_no: case.case_no,
            when: shanghai_time(&row.received_at),
            state: crate::casework::state_label(&case.state).to_string(),
            subject_name: case.subject_name.unwrap_or_default(),
        });
    }
    calls
}

async fn desk_form(app: web::Data<App>, user: Staff) -> Result<HttpResponse, StaffError> {
    let layout = user.layout(&app, "接听登记", "desk");
    Ok(render(
        StatusCode::OK,
        &page(
            todays_calls(&app, &user.user).await,
            layout,
            DeskForm::fresh(),
            Vec::new(),
            None,
            None,
            Vec::new(),
        ),
    ))
}

fn message(e: &ApiError) -> String {
    format!("{}（{}）", e.message, e.code)
}

/// The caller's earlier calls as the page lists them.
async fn earlier_calls(app: &App, user: &AuthUser, phone: &str) -> Vec<EarlierCall> {
    if phone.trim().is_empty() {
        return Vec::new();
    }
    // The list helps the operator; a failure to read it must not lose the call being typed.
    let calls = caller_calls(app, user, phone).await.unwrap_or_default();
    calls
        .iter()
        .map(|c| EarlierCall {
            case_id: c["case_id"].as_i64().unwrap_or_default(),
            case_no: text_of(&c["case_no"]),
            when: shanghai_time(c["received_at"].as_str().unwrap_or_default()),
            state: text_of(&c["state_label"]),
            subject_name: text_of(&c["subject_name"]),
        })
        .collect()
}

async fn desk_post(
    app: web::Data<App>,
    user: StaffPost,
    form: web::Form<DeskForm>,
) -> Result<HttpResponse, StaffError> {
    let mut v = form.into_inner();
    let auth = user.auth();
    let layout = user.layout(&app, "接听登记", "desk");
    if v.call_id_auto.trim().is_empty() {
        v.call_id_auto = new_call_id();
    }
    if !v.pick.trim().is_empty() {
        v.address = v.pick.trim().to_string();
        v.action = "preview".into();
    }
    let started = v.started_rfc3339();
    if v.action == "preview" {
        let callers = earlier_calls(&app, &auth, &v.caller_number).await;
        let mut errors = Vec::new();
        let preview = if v.notes.trim().is_empty() {
            errors.push("先记录来电内容，才能预览研判结果".to_string());
            None
        } else {
            match preview_value(&app, &auth, v.preview_body(started.clone().ok())).await {
                Ok(p) => Some(PreviewView::from_json(&p)),
                Err(e) => {
                    errors.push(message(&e));
                    None
                }
            }
        };
        if let Err(e) = started {
            errors.push(e);
        }
        return Ok(render(
            StatusCode::OK,
            &page(
                todays_calls(&app, &user.user).await,
                layout,
                v,
                errors,
                None,
                preview,
                callers,
            ),
        ));
    }
    let mut errors = Vec::new();
    if v.notes.trim().is_empty() {
        errors.push("请记录来电内容（举报的事情）".to_string());
    }
    let started = match started {
        Ok(s) => Some(s),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let (true, Some(started)) = (errors.is_empty(), started) {
        let call_id = some(&v.call_id).unwrap_or_else(|| v.call_id_auto.clone());
        let raw = v.raw(&started, &call_id);
        match accept_call(&app, &auth, v.call_log(started, call_id), &raw).await {
            Ok(ack) => {
                let logged = Logged {
                    case_no: ack.case_no,
                    case_id: ack.case_id,
                    again: ack.outcome != Outcome::New,
                };
                return Ok(render(
                    StatusCode::CREATED,
                    &page(
                        todays_calls(&app, &user.user).await,
                        layout,
                        DeskForm::fresh(),
                        Vec::new(),
                        Some(logged),
                        None,
                        Vec::new(),
                    ),
                ));
            }
            // Whatever the reason, the call typed so far stays on the screen.
            Err(e) => errors.push(message(&e)),
        }
    }
    let callers = earlier_calls(&app, &auth, &v.caller_number).await;
    Ok(render(
        StatusCode::BAD_REQUEST,
        &page(
            todays_calls(&app, &user.user).await,
            layout,
            v,
            errors,
            None,
            None,
            callers,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_time_is_read_as_beijing_time() {
        let v = DeskForm {
            started_at: "2024-05-06T09:12".into(),
            ..DeskForm::default()
        };
        assert_eq!(v.started_rfc3339().unwrap(), "2024-05-06T09:12:00+08:00");
        let bad = DeskForm {
            started_at: "yesterday".into(),
            ..DeskForm::default()
        };
        assert!(bad.started_rfc3339().is_err());
    }

    #[test]
    fn the_decided_place_is_no_question() {
        let p = serde_json::json!({"locus": {"name": "辽宁省 鞍山市 铁东区", "code": "210302",
            "candidates": ["210302 辽宁省鞍山市铁东区"]}, "labels": {}});
        let view = PreviewView::from_json(&p);
        assert!(view.decided && view.candidates.is_empty());
        let p = serde_json::json!({"locus": {"candidates": ["210302 辽宁省鞍山市铁东区",
            "220302 吉林省四平市铁东区"]}, "labels": {}});
        let view = PreviewView::from_json(&p);
        assert!(!view.decided);
        assert_eq!(view.candidates.len(), 2);
        assert_eq!(view.candidates[1].code, "220302");
        assert_eq!(view.candidates[1].name, "吉林省四平市铁东区");
    }
}
