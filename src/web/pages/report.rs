//! The government website's report window (政府网站举报窗口, 274号 四(三)): the public form at
//! `/report` and the anonymous reporter's follow-up at `/report/follow`. No login, no JavaScript
//! needed (multipart posts), rate limited with the receipts' limiter, a per-form token against
//! cross-site posts. A refused post shows the form again with everything typed kept: a report
//! is never lost to a check.

use super::form::{self, Posted, PUBLIC_FORM};
use super::{render, shanghai_time, size_text, Layout, PageError};
use crate::app::App;
use crate::ingest::Outcome;
use crate::web::api::{add_with_receipt, receipt_lookup, store_with_receipt, RECEIPT_NOTICE};
use crate::web::{receipts, ApiError};
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use intake::{EnvelopeWire, ReporterWire, SubjectKind, SubjectWire};
use sha2::{Digest, Sha256};

const REPORT_FORM: &str = "report";
const FOLLOW_FORM: &str = "follow";
const ADD_FORM: &str = "follow-add";

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/report", web::get().to(report_form))
        .route("/report", web::post().to(report_post))
        .route("/report/follow", web::get().to(follow_form))
        .route("/report/follow", web::post().to(follow_post))
        .route("/report/follow/add", web::post().to(follow_add));
}

async fn home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/report"))
        .finish()
}

/// What the reporter typed, kept across a refused post.
#[derive(Debug, Default)]
struct ReportValues {
    text: String,
    address: String,
    subject_name: String,
    subject_kind: String,
    anonymous: bool,
    name: String,
    phone: String,
    email: String,
}

impl ReportValues {
    fn from_posted(p: &Posted) -> ReportValues {
        let anonymous = p.field("identity") != "named";
        // An anonymous reporter's contact fields are dropped here, before anything stores them.
        let contact = |f: &str| {
            if anonymous {
                String::new()
            } else {
                p.field(f).trim().to_string()
            }
        };
        ReportValues {
            text: p.field("text").to_string(),
            address: p.field("address").trim().to_string(),
            subject_name: p.field("subject_name").trim().to_string(),
            subject_kind: p.field("subject_kind").trim().to_string(),
            anonymous,
            name: contact("name"),
            phone: contact("phone"),
            email: contact("email"),
        }
    }

    fn wire(&self, external_id: String) -> EnvelopeWire {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        EnvelopeWire {
            channel: Some(intake::Channel::WebForm.code().into()),
            external_id: Some(serde_json::Value::String(external_id)),
            received_at: Some(
                chrono::Utc::now()
                    .with_timezone(&super::beijing())
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            ),
            reporter: Some(ReporterWire {
                name: some(&self.name),
                phone: some(&self.phone),
                email: some(&self.email),
                id_number: None,
                anonymous: Some(self.anonymous),
            }),
            subject: (some(&self.subject_name).is_some() || some(&self.subject_kind).is_some())
                .then(|| SubjectWire {
                    name: some(&self.subject_name),
                    kind: some(&self.subject_kind),
                    address: None,
                }),
            address: some(&self.address),
            title: None,
            text: Some(self.text.clone()),
            deadline: None,
        }
    }

    /// The form as received, kept as the report's raw payload (evidence); files by hash only,
    /// their bytes are stored as attachments.
    fn raw(&self, files: &[crate::store::Attachment]) -> serde_json::Value {
        serde_json::json!({
            "form": REPORT_FORM,
            "fields": {
                "text": self.text, "address": self.address, "subject_name": self.subject_name,
                "subject_kind": self.subject_kind,
                "identity": if self.anonymous { "anonymous" } else { "named" },
                "name": self.name, "phone": self.phone, "email": self.email,
            },
            "files": files.iter().map(|f| serde_json::json!({
                "name": f.file_name, "content_type": f.content_type, "size": f.size, "sha256": f.sha256,
            })).collect::<Vec<_>>(),
        })
    }
}

struct KindOption {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    token: String,
    v: ReportValues,
    kinds: Vec<KindOption>,
    errors: Vec<String>,
    max_file: String,
    max_files: usize,
}

async fn report_form(app: web::Data<App>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    report_page(
        &app,
        &req,
        StatusCode::OK,
        ReportValues {
            anonymous: true,
            ..ReportValues::default()
        },
        Vec::new(),
    )
    .await
}

/// The form, fresh or again with what was typed and why it was not taken.
async fn report_page(
    app: &App,
    req: &HttpRequest,
    status: StatusCode,
    v: ReportValues,
    errors: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let issued = form::issue(app, req, REPORT_FORM).await?;
    let kinds = SubjectKind::ALL
        .iter()
        .map(|k| KindOption {
            code: k.code(),
            label: k.label(),
            selected: v.subject_kind == k.code(),
        })
        .collect();
    let page = ReportPage {
        layout: Layout::new("我要举报", "report"),
        token: issued.token,
        v,
        kinds,
        errors,
        max_file: size_text(PUBLIC_FORM.file),
        max_files: PUBLIC_FORM.files,
    };
    Ok(with_cookie(render(status, &page), issued.cookie))
}

fn with_cookie(
    mut response: HttpResponse,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    if let Some(c) = cookie {
        // A cookie that does not encode is a bug of ours, not the reporter's: the page still works
        // (the post is then refused and shown again with a fresh cookie).
        let _ = response.add_cookie(&c);
    }
    response
}

fn message(e: &ApiError) -> String {
    format!("{}（{}）", e.message, e.code)
}

#[derive(Template)]
#[template(path = "report_done.html")]
struct DonePage {
    layout: Layout,
    case_no: String,
    /// Grouped for reading and copying: `7KQ2-MX9D-R4TB-H6WE`.
    receipt: Option<String>,
    notice: &'static str,
    resent: bool,
    files: Vec<String>,
}

async fn report_post(
    app: web::Data<App>,
    req: HttpRequest,
    body: Multipart,
) -> Result<HttpResponse, PageError> {
    let (posted, nonce) = form::take(&app, &req, body, REPORT_FORM).await?;
    let v = ReportValues::from_posted(&posted);
    let nonce = match receipts::check_rate(&req).and(nonce) {
        Ok(nonce) => nonce,
        Err(e) => return report_page(&app, &req, e.status(), v, vec![message(&e)]).await,
    };
    let files = match form::check_files(&posted, PUBLIC_FORM) {
        Ok(files) => files,
        Err(mut why) => {
            why.push("您填写的文字已保留；浏览器不能保留已选的附件，请重新选择后再提交。".into());
            return report_page(&app, &req, StatusCode::BAD_REQUEST, v, why).await;
        }
    };
    let raw = v.raw(&files);
    // The same form sent twice (a double click, a retry) is one report; the same page sent again
    // with other content (back, edit, send) is another.
    let external_id = format!(
        "form:{nonce}:{}",
        &hex::encode(Sha256::digest(raw.to_string()))[..16]
    );
    let mut submission = match app.prepare(
        v.wire(external_id),
        &[],
        "application/json",
        raw.to_string(),
    ) {
        Ok(s) => s,
        Err(e) => {
            let e = ApiError::bad_envelope(&e);
            return report_page(&app, &req, e.status(), v, vec![message(&e)]).await;
        }
    };
    let file_names = files.iter().map(|f| f.file_name.clone()).collect();
    submission.attachments = files;
    let (ack, receipt) = match store_with_receipt(&app, submission).await {
        Ok(stored) => stored,
        Err(e) => return report_page(&app, &req, e.status(), v, vec![message(&e)]).await,
    };
    tracing::info!(case.no = %ack.case_no, "web form report stored");
    let page = DonePage {
        layout: Layout::new("举报已受理", "report"),
        case_no: ack.case_no.clone(),
        receipt: receipt.map(|c| group_code(&c)),
        notice: RECEIPT_NOTICE,
        resent: ack.outcome != Outcome::New,
        files: file_names,
    };
    Ok(render(StatusCode::CREATED, &page))
}

fn group_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Template)]
#[template(path = "follow.html")]
struct FollowPage {
    layout: Layout,
    token: String,
    errors: Vec<String>,
}

async fn follow_form(app: web::Data<App>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    follow_page(&app, &req, StatusCode::OK, Vec::new()).await
}

async fn follow_page(
    app: &App,
    req: &HttpRequest,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let issued = form::issue(app, req, FOLLOW_FORM).await?;
    let page = FollowPage {
        layout: Layout::new("查询办理进度", "follow"),
        token: issued.token,
        errors,
    };
    Ok(with_cookie(render(status, &page), issued.cookie))
}

struct FileView {
    name: String,
    size: String,
    refused: Option<String>,
}

struct AdditionView {
    at: String,
    text: String,
    files: Vec<FileView>,
}

struct ReplyView {
    at: String,
    text: String,
}

#[derive(Template)]
#[template(path = "follow_case.html")]
struct CasePage {
    layout: Layout,
    token: String,
    code: String,
    case_no: String,
    state_label: String,
    received: String,
    text: String,
    address: Option<String>,
    subject_name: Option<String>,
    files: Vec<FileView>,
    additions: Vec<AdditionView>,
    replies: Vec<ReplyView>,
    notice: Option<&'static str>,
    errors: Vec<String>,
    add_text: String,
    max_file: String,
}

fn file_views(files: &[crate::store::FileRow]) -> Vec<FileView> {
    files
        .iter()
        .map(|f| FileView {
            name: f.name.clone(),
            size: size_text(usize::try_from(f.size).unwrap_or(0)),
            refused: f.rejected.clone(),
        })
        .collect()
}

/// The case as its receipt code shows it, with the form to add information.
async fn case_page(
    app: &App,
    req: &HttpRequest,
    code: &str,
    status: StatusCode,
    notice: Option<&'static str>,
    errors: Vec<String>,
    add_text: String,
) -> Result<HttpResponse, PageError> {
    let (_, view) = receipt_lookup(app, req, code).await?;
    let report = app
        .store
        .receipt_report(&receipts::code_hash(code.trim()))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("查询码"))?;
    let issued = form::issue(app, req, ADD_FORM).await?;
    let text_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let page = CasePage {
        layout: Layout::new("办理进度", "follow"),
        token: issued.token,
        code: code.trim().to_string(),
        case_no: text_of(&view["case_no"]),
        state_label: text_of(&view["state_label"]),
        received: shanghai_time(&report.received_at),
        text: report.text,
        address: report.address,
        subject_name: report.subject_name,
        files: file_views(&report.files),
        additions: report
            .additions
            .iter()
            .map(|a| AdditionView {
                at: shanghai_time(&a.at),
                text: a.text.clone(),
                files: file_views(&a.files),
            })
            .collect(),
        replies: view["replies"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|r| ReplyView {
                        at: shanghai_time(r["at"].as_str().unwrap_or_default()),
                        text: text_of(&r["text"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        notice,
        errors,
        add_text,
        max_file: size_text(PUBLIC_FORM.file),
    };
    Ok(with_cookie(render(status, &page), issued.cookie))
}

/// The code is posted, never put in an address: addresses end up in logs and browser history.
async fn follow_post(
    app: web::Data<App>,
    req: HttpRequest,
    body: Multipart,
) -> Result<HttpResponse, PageError> {
    let (posted, nonce) = form::take(&app, &req, body, FOLLOW_FORM).await?;
    if let Err(e) = nonce {
        return follow_page(&app, &req, e.status(), vec![message(&e)]).await;
    }
    let code = posted.field("code").to_string();
    match case_page(
        &app,
        &req,
        &code,
        StatusCode::OK,
        None,
        Vec::new(),
        String::new(),
    )
    .await
    {
        Err(PageError(e)) if e.status() == StatusCode::NOT_FOUND => {
            let why = "查询码不正确：请核对后重新输入（不区分大小写，可省略短横线）".to_string();
            follow_page(&app, &req, StatusCode::NOT_FOUND, vec![why]).await
        }
        Err(PageError(e)) if e.status() == StatusCode::TOO_MANY_REQUESTS => {
            follow_page(&app, &req, e.status(), vec![message(&e)]).await
        }
        other => other,
    }
}

async fn follow_add(
    app: web::Data<App>,
    req: HttpRequest,
    body: Multipart,
) -> Result<HttpResponse, PageError> {
    let (posted, nonce) = form::take(&app, &req, body, ADD_FORM).await?;
    let code = posted.field("code").to_string();
    let text = posted.field("text").to_string();
    let again = |status: StatusCode, why: Vec<String>| {
        let (app, req, code, text) = (&app, &req, &code, &text);
        async move { case_page(app, req, code, status, None, why, text.clone()).await }
    };
    if let Err(e) = receipts::check_rate(&req) {
        return follow_page(&app, &req, e.status(), vec![message(&e)]).await;
    }
    let nonce = match nonce {
        Ok(nonce) => nonce,
        Err(e) => return again(e.status(), vec![message(&e)]).await,
    };
    let files = match form::check_files(&posted, PUBLIC_FORM) {
        Ok(files) => files,
        Err(mut why) => {
            why.push("您填写的文字已保留；请重新选择附件后再提交。".into());
            return again(StatusCode::BAD_REQUEST, why).await;
        }
    };
    let mut key = Sha256::new();
    key.update(text.trim().as_bytes());
    for f in &files {
        key.update(f.sha256.as_bytes());
    }
    let form_key = format!("{nonce}:{}", &hex::encode(key.finalize())[..16]);
    match add_with_receipt(&app, &code, &text, &files, Some(&form_key)).await {
        Ok(true) => {
            case_page(
                &app,
                &req,
                &code,
                StatusCode::CREATED,
                Some("补充材料已收到，办案人员会一并核查。"),
                Vec::new(),
                String::new(),
            )
            .await
        }
        Ok(false) => {
            case_page(
                &app,
                &req,
                &code,
                StatusCode::OK,
                Some("这份补充材料此前已经收到，无需重复提交。"),
                Vec::new(),
                String::new(),
            )
            .await
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            let why = "查询码不正确：请核对后重新输入".to_string();
            follow_page(&app, &req, StatusCode::NOT_FOUND, vec![why]).await
        }
        Err(e) if e.status() == StatusCode::BAD_REQUEST => {
            let why = "请填写补充内容或选择附件".to_string();
            again(StatusCode::BAD_REQUEST, vec![why]).await
        }
        Err(e) => again(e.status(), vec![message(&e)]).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_codes_are_grouped_by_four() {
        assert_eq!(group_code("7KQ2MX9DR4TBH6WE"), "7KQ2-MX9D-R4TB-H6WE");
    }
}
