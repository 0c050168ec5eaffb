//! The JSON API, version 1.

use super::{json_with, read_body, ApiError, AuthUser};
use crate::app::{AcceptError, App};
use crate::channels::{CallLog, WorkOrder};
use crate::ingest::{Ack, Outcome};
use crate::scope::Scope;
use crate::store::CaseRow;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use intake::{Category, EnvelopeError, EnvelopeWire};
use std::sync::atomic::Ordering;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/api/v1/openapi.json", web::get().to(openapi))
        .route("/api/v1/reports", web::post().to(post_report))
        .route("/api/v1/reports/{id}", web::get().to(get_report))
        .route("/api/v1/cases/{id}", web::get().to(get_case))
        .route("/api/v1/queue", web::get().to(queue))
        .route(
            "/api/v1/reports/{id}/reveal",
            web::post().to(reveal_identity),
        )
        .route("/api/v1/receipts/{code}", web::get().to(get_receipt))
        .route("/api/v1/receipts/{code}", web::post().to(post_receipt))
        .route(
            "/api/v1/channels/12345/replies",
            web::get().to(platform_replies),
        )
        .route("/api/v1/cases/{id}/merge", web::post().to(merge_case))
        .route("/api/v1/cases/{id}/transitions", web::post().to(transition))
        .route("/api/v1/cases/{id}/split", web::post().to(split_case))
        .route("/api/v1/subjects/{key}", web::get().to(get_subject))
        .route("/api/v1/triage/preview", web::post().to(preview))
        .route("/api/v1/search", web::get().to(search))
        .route("/api/v1/stats/monthly", web::get().to(monthly_counts))
        .route("/api/v1/channels/12345/orders", web::post().to(post_order))
        .route("/api/v1/channels/12350/calls", web::post().to(post_call))
        .route(
            "/api/v1/callers/{phone}/calls",
            web::get().to(get_caller_calls),
        )
        .route("/api/v1/admin/exclusions", web::get().to(admin_exclusions));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(app: web::Data<App>) -> HttpResponse {
    if app.store.ping().await {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "database unreachable"}))
    }
}

async fn metrics(app: web::Data<App>) -> HttpResponse {
    let m = &app.metrics;
    let body = format!(
        "# HELP tipline_reports_total Submissions by outcome.\n# TYPE tipline_reports_total counter\n\
         tipline_reports_total{{outcome=\"new\"}} {}\ntipline_reports_total{{outcome=\"resent\"}} {}\n\
         tipline_reports_total{{outcome=\"rejected\"}} {}\ntipline_reports_total{{outcome=\"failed\"}} {}\n",
        m.reports_new.load(Ordering::Relaxed),
        m.reports_resent.load(Ordering::Relaxed),
        m.reports_rejected.load(Ordering::Relaxed),
        m.reports_failed.load(Ordering::Relaxed),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(super::openapi::document())
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_envelope(&EnvelopeError::Malformed(e.to_string())))
}

async fn accept(
    app: &App,
    user: &AuthUser,
    wire: EnvelopeWire,
    hints: Vec<Category>,
    raw: &[u8],
) -> Result<HttpResponse, ApiError> {
    let raw = String::from_utf8_lossy(raw).into_owned();
    let mut submission = app
        .prepare(wire, &hints, "application/json", raw)
        .map_err(|e| ApiError::bad_envelope(&e))?;
    submission.logged_by = Some(user.0.id);
    let (ack, receipt) = store_with_receipt(app, submission).await?;
    match receipt {
        Some(code) => {
            let mut body = serde_json::to_value(&ack).map_err(|e| ApiError::internal(&e.into()))?;
            body["receipt_code"] = serde_json::json!(code);
            body["receipt_notice"] = serde_json::json!(RECEIPT_NOTICE);
            Ok(json_with(StatusCode::CREATED, &body))
        }
        None => Ok(ack_response(&ack)),
    }
}

/// What an anonymous reporter is told with their receipt code.
pub(super) const RECEIPT_NOTICE: &str =
    "请妥善保存查询码，它只显示这一次：凭查询码可查看办理进度、补充材料，无需透露身份。";

/// Stores a prepared submission; an anonymous web reporter (or one who left no way to be
/// reached) gets a receipt code, returned once with the acknowledgement of a new report.
pub(super) async fn store_with_receipt(
    app: &App,
    mut submission: crate::ingest::Submission,
) -> Result<(Ack, Option<String>), ApiError> {
    let env = &submission.envelope;
    let receipt = (env.channel == intake::Channel::WebForm
        && (env.reporter.anonymous
            || (env.reporter.phone.is_none() && env.reporter.email.is_none())))
    .then(super::receipts::new_code);
    submission.receipt_hash = receipt.as_deref().map(super::receipts::code_hash);
    match app.store_prepared(submission).await {
        Ok(ack) => {
            let receipt = receipt.filter(|_| ack.outcome == Outcome::New);
            Ok((ack, receipt))
        }
        Err(AcceptError::NotStored(e)) => Err(ApiError::not_stored(&e)),
    }
}

/// The reach of the requesting user.
pub(super) fn scope_of(app: &App, user: &AuthUser) -> Scope {
    Scope::of(&user.0, app.config.triage.home.as_deref())
}

/// A case the user may see, or 404 (never 403: existence must not leak). A user named in one of
/// its reports (conflict of interest) does not see it either.
pub(super) async fn visible_case(app: &App, scope: &Scope, id: i64) -> Result<CaseRow, ApiError> {
    let case = app
        .store
        .case(id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .filter(|c| scope.sees_case(c))
        .ok_or_else(|| ApiError::not_found("案件"))?;
    if excluded(app, scope, id).await? {
        return Err(ApiError::not_found("案件"));
    }
    Ok(case)
}

/// True when the user is excluded from the case (conflict of interest).
async fn excluded(app: &App, scope: &Scope, case_id: i64) -> Result<bool, ApiError> {
    app.store
        .is_excluded(case_id, scope.user_id)
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// Steps and corrections on cases are the officers' work (and the admin's); others get 403 once
/// the case is known to be visible to them.
fn require_case_worker(user: &AuthUser) -> Result<(), ApiError> {
    use crate::store::Role;
    if matches!(user.0.role, Role::Officer | Role::Admin) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "只有办案人员可以办理、并案或拆分案件",
        "only officers may act on, merge or split cases",
    ))
}

fn ack_response(ack: &Ack) -> HttpResponse {
    let status = if ack.outcome == Outcome::New {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    json_with(status, ack)
}

async fn post_report(
    app: web::Data<App>,
    user: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload, app.config.max_body_bytes).await?;
    let wire: EnvelopeWire = parse_json(&body)?;
    accept(&app, &user, wire, Vec::new(), &body).await
}

async fn post_order(
    app: web::Data<App>,
    user: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload, app.config.max_body_bytes).await?;
    let order: WorkOrder = parse_json(&body)?;
    if order
        .order_no
        .as_deref()
        .is_none_or(|o| o.trim().is_empty())
    {
        return Err(ApiError::bad_envelope(&EnvelopeError::Missing("order_no")));
    }
    accept(&app, &user, order.into(), Vec::new(), &body).await
}

async fn post_call(
    app: web::Data<App>,
    user: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload, app.config.max_body_bytes).await?;
    let call: CallLog = parse_json(&body)?;
    Ok(ack_response(&accept_call(&app, &user, call, &body).await?))
}

/// Stores an operator's call log (the API's and the desk page's one path); `raw` is kept as the
/// report's payload. A hotline call never gets a receipt code.
pub(super) async fn accept_call(
    app: &App,
    user: &AuthUser,
    call: CallLog,
    raw: &[u8],
) -> Result<Ack, ApiError> {
    if call.call_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(ApiError::bad_envelope(&EnvelopeError::Missing("call_id")));
    }
    let (wire, hints) = call
        .into_envelope()
        .map_err(|e| ApiError::bad_envelope(&e))?;
    let raw = String::from_utf8_lossy(raw).into_owned();
    let mut submission = app
        .prepare(wire, &hints, "application/json", raw)
        .map_err(|e| ApiError::bad_envelope(&e))?;
    submission.logged_by = Some(user.0.id);
    Ok(store_with_receipt(app, submission).await?.0)
}

/// A caller's earlier reports (the repeat caller on the operator's desk).
async fn get_caller_calls(
    app: web::Data<App>,
    user: AuthUser,
    phone: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let calls = caller_calls(&app, &user, &phone).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"total": calls.len(), "calls": calls})))
}

/// The earlier reports of the caller with this phone, newest first, found by the blind index of
/// the number (the clear number is never compared). An operator sees the calls it logged itself;
/// other users the reports whose case is in their scope (and not excluded). No identity is
/// returned: only case number, date, state and subject.
pub(super) async fn caller_calls(
    app: &App,
    user: &AuthUser,
    phone: &str,
) -> Result<Vec<serde_json::Value>, ApiError> {
    use crate::store::Role;
    // Leaders never see identity, and a phone's reports would tell whose reports they are.
    if user.0.role == Role::Leader {
        return Err(ApiError::forbidden(
            "领导账号不能按来电号码查询举报",
            "leaders may not look reports up by a caller's phone",
        ));
    }
    let phone = phone.trim();
    let canonical = intake::parse_phone(phone)
        .map(|p| p.canonical())
        .unwrap_or_else(|| phone.to_string());
    let Some(key) = crate::ingest::reporter_key(app.store.identity(), Some(&canonical), None)
    else {
        return Ok(Vec::new());
    };
    let scope = scope_of(app, user);
    let rows = app
        .store
        .reports_by_reporter_key(&key, 50)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut calls = Vec::new();
    for row in rows {
        let Some(case) = app
            .store
            .case(row.case_id)
            .await
            .map_err(|e| ApiError::internal(&e))?
        else {
            continue;
        };
        let logged_it = row.logged_by == Some(user.0.id);
        let sees = if user.0.role == Role::Operator {
            logged_it
        } else {
            scope.sees_case(&case)
        };
        if !sees || excluded(app, &scope, case.id).await? {
            continue;
        }
        calls.push(serde_json::json!({
            "report_id": row.report_id, "case_id": case.id, "case_no": case.case_no,
            "state": case.state, "state_label": crate::casework::state_label(&case.state),
            "subject_name": case.subject_name, "received_at": row.received_at,
            "channel": row.channel,
        }));
        if calls.len() == 20 {
            break;
        }
    }
    // An operator reads back the calls it logged itself; anyone else looking a phone up is
    // reading who reported what: audited (never with the number).
    if user.0.role != Role::Operator {
        app.store
            .audit(
                &user.0.name,
                "caller_lookup",
                None,
                None,
                serde_json::json!({"found": calls.len()}),
            )
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    Ok(calls)
}

pub(super) fn parse_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::not_found(what))
}

async fn get_report(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "举报")?;
    let scope = scope_of(&app, &user);
    let report = app
        .store
        .report(id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("举报"))?;
    let case = app
        .store
        .case(report.case_id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let logged_it = report.logged_by == Some(user.0.id);
    if !logged_it && !case.as_ref().is_some_and(|c| scope.sees_case(c))
        || excluded(&app, &scope, report.case_id).await?
    {
        return Err(ApiError::not_found("举报"));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "report": report,
        "case": case.map(|c| serde_json::json!({"id": c.id, "case_no": c.case_no, "state": c.state})),
    })))
}

async fn get_case(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "案件")?;
    let case = visible_case(&app, &scope_of(&app, &user), id).await?;
    let reports = app
        .store
        .case_reports(id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let events = app
        .store
        .case_events(id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"case": case, "reports": reports, "events": events})))
}

#[derive(Debug, serde::Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(flatten)]
    filters: crate::cli::search::Filters,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// Parses a request's query string; a malformed one is a 400.
pub(super) fn query_params<T: serde::de::DeserializeOwned>(
    req: &actix_web::HttpRequest,
) -> Result<T, ApiError> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| bad_query(&e.to_string()))
}

/// Runs a read of the search index off the async threads; a query the index rejects is a 400.
async fn on_index<T: Send + 'static>(
    app: &App,
    read: impl FnOnce(&search::SearchIndex) -> Result<T, search::SearchError> + Send + 'static,
) -> Result<T, ApiError> {
    let index = app.indexer.index().clone();
    match web::block(move || read(&index)).await {
        Err(e) => Err(ApiError::internal(&anyhow::anyhow!("search task: {e}"))),
        Ok(Err(search::SearchError::BadQuery { message })) => Err(bad_query(&message)),
        Ok(Err(e)) => Err(ApiError::internal(&e.into())),
        Ok(Ok(value)) => Ok(value),
    }
}

fn bad_query(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_query",
        format!("查询条件有误：{message}"),
        format!("bad query: {message}"),
    )
}

async fn search(
    app: web::Data<App>,
    user: AuthUser,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params::<SearchParams>(&req)?;
    let results = run_search(
        &app,
        &user,
        &params.q,
        &params.filters,
        params.offset.unwrap_or(0),
        params.limit.unwrap_or(20),
    )
    .await?;
    let facets: serde_json::Map<String, serde_json::Value> = results
        .facets
        .iter()
        .map(|(field, counts)| {
            let list: Vec<serde_json::Value> = counts
                .iter()
                .map(|(value, count)| serde_json::json!({"value": value, "count": count}))
                .collect();
            (field.clone(), serde_json::Value::Array(list))
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "total": results.total,
        "hits": results.hits.iter().map(crate::cli::search::hit_json).collect::<Vec<_>>(),
        "facets": facets,
    })))
}

/// A search of the user's subtree, audited (the API's and the search page's one path); a query
/// asking only outside the subtree finds nothing.
pub(super) async fn run_search(
    app: &App,
    user: &AuthUser,
    text: &str,
    filters: &crate::cli::search::Filters,
    offset: usize,
    limit: usize,
) -> Result<search::SearchResults, ApiError> {
    let query =
        crate::cli::search::build_query(text, filters, offset, limit).map_err(|e| bad_query(&e))?;
    app.store
        .audit(
            &user.0.name,
            "search",
            None,
            None,
            serde_json::json!({"q": text, "filters": format!("{:?}", filters)}),
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some(query) = scoped(app, &scope_of(app, user), query).await? else {
        return Ok(search::SearchResults::default());
    };
    on_index(app, move |index| index.search(&query)).await
}

/// The query narrowed to the user's subtree and without the cases they are excluded from;
/// `None` when it asks only outside the subtree.
async fn scoped(
    app: &App,
    scope: &Scope,
    mut query: search::Query,
) -> Result<Option<search::Query>, ApiError> {
    let Some(place) = scope.place_filter(query.place.as_deref()) else {
        return Ok(None);
    };
    query.place = place;
    query.exclude_cases = app
        .store
        .excluded_cases(scope.user_id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Some(query))
}

#[derive(Debug, serde::Deserialize)]
struct MergeBody {
    into: i64,
    reason: String,
}

#[derive(Debug, serde::Deserialize)]
struct SplitBody {
    report_ids: Vec<i64>,
    reason: String,
}

fn edit_error(e: crate::store::CaseEditError) -> ApiError {
    use crate::store::CaseEditError;
    match e {
        CaseEditError::NotFound(what) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("未找到：{what}"),
            format!("{what} not found"),
        ),
        CaseEditError::Conflict(why) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("操作与案件当前状态冲突：{why}"),
            why,
        ),
        CaseEditError::Store(e) => ApiError::internal(&e),
    }
}

pub(super) fn require_reason(reason: &str) -> Result<(), ApiError> {
    if reason.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_field",
            "请填写理由（reason）",
            "field `reason` is required",
        ));
    }
    Ok(())
}

/// 并案: moves every report of the case into another case (an officer's correction of the
/// duplicate stage, or a merge it missed); recorded on both cases.
async fn merge_case(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "案件")?;
    let body: MergeBody = parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    require_reason(&body.reason)?;
    let moved = merge_into(&app, &user, id, body.into, &body.reason).await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"merged": id, "into": body.into, "reports": moved})))
}

/// Merges case `id` into case `into` (both in scope, an officer's act with a reason); the API's
/// merge and the case page's. Returns the ids of the reports moved.
pub(super) async fn merge_into(
    app: &App,
    user: &AuthUser,
    id: i64,
    into: i64,
    reason: &str,
) -> Result<Vec<i64>, ApiError> {
    require_reason(reason)?;
    let scope = scope_of(app, user);
    visible_case(app, &scope, id).await?;
    visible_case(app, &scope, into).await?;
    require_case_worker(user)?;
    let moved = app
        .store
        .merge_cases(id, into, &user.0.name, reason)
        .await
        .map_err(edit_error)?;
    {
        let mut dedup = app.ingest.dedup().write().expect("not poisoned");
        for report in &moved {
            dedup.move_report(*report, into);
        }
    }
    app.ingest.committed.notify_one();
    Ok(moved)
}

/// Splits reports out of a case into a new case (undoing a merge); recorded on both cases.
async fn split_case(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "案件")?;
    let body: SplitBody = parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    let (new_case, case_no) = split_off(&app, &user, id, &body.report_ids, &body.reason).await?;
    Ok(HttpResponse::Created().json(
        serde_json::json!({"case_id": new_case, "case_no": case_no, "reports": body.report_ids}),
    ))
}

/// Splits reports off case `id` into a new case (an officer's act with a reason); the API's split
/// and the case page's. Returns the new case's id and number.
pub(super) async fn split_off(
    app: &App,
    user: &AuthUser,
    id: i64,
    report_ids: &[i64],
    reason: &str,
) -> Result<(i64, String), ApiError> {
    require_reason(reason)?;
    visible_case(app, &scope_of(app, user), id).await?;
    require_case_worker(user)?;
    let (new_case, case_no) = app
        .store
        .split_reports(id, report_ids, &user.0.name, reason)
        .await
        .map_err(edit_error)?;
    {
        let mut dedup = app.ingest.dedup().write().expect("not poisoned");
        for report in report_ids {
            dedup.move_report(*report, new_case);
        }
    }
    app.ingest.committed.notify_one();
    Ok((new_case, case_no))
}

/// A subject's history: its record, its cases and reports, newest first.
async fn get_subject(
    app: web::Data<App>,
    user: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(subject_in_scope(&app, &user, &key).await?))
}

/// A subject (by key or name) with the cases and reports of it the user may see, each case with
/// its latest finding (核查结论); 404 when none is visible (the API's and the page's one path).
pub(super) async fn subject_in_scope(
    app: &App,
    user: &AuthUser,
    key: &str,
) -> Result<serde_json::Value, ApiError> {
    let given = intake::normalize_text(key);
    let scope = scope_of(app, user);
    // A key as given, else the keys the name may be stored under (places stripped as the writer
    // strips them).
    let mut keys = vec![given.clone()];
    keys.extend(app.pipeline.subject_keys(&given));
    let mut found = None;
    for key in keys.iter().filter(|k| !k.is_empty()) {
        found = app
            .store
            .subject_history(key)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        if found.is_some() {
            break;
        }
    }
    let mut history = found.ok_or_else(|| ApiError::not_found("举报对象"))?;
    // Only the cases (and their reports) the user may see.
    let mut visible = std::collections::BTreeSet::new();
    for case in history["cases"].as_array().cloned().unwrap_or_default() {
        let Some(id) = case["case_id"].as_i64() else {
            continue;
        };
        if visible_case(app, &scope, id).await.is_ok() {
            visible.insert(id);
        }
    }
    if visible.is_empty() {
        return Err(ApiError::not_found("举报对象"));
    }
    for list in ["cases", "reports"] {
        if let Some(items) = history[list].as_array_mut() {
            items.retain(|r| {
                r["case_id"]
                    .as_i64()
                    .is_some_and(|id| visible.contains(&id))
            });
        }
    }
    history["report_count"] = serde_json::json!(history["reports"].as_array().map_or(0, Vec::len));
    if let Some(cases) = history["cases"].as_array_mut() {
        for case in cases {
            let Some(id) = case["case_id"].as_i64() else {
                continue;
            };
            let events = app
                .store
                .case_events(id)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            case["finding"] = events
                .iter()
                .rev()
                .find(|e| e.kind == "case.record_finding")
                .map_or(serde_json::Value::Null, |e| {
                    serde_json::json!({"finding": e.data["finding"], "text": e.data["text"], "at": e.at})
                });
        }
    }
    Ok(history)
}

#[derive(Debug, serde::Deserialize)]
struct MonthlyParams {
    #[serde(default)]
    q: String,
    #[serde(flatten)]
    filters: crate::cli::search::Filters,
    /// subject_kind, category, channel, case_state, referral, prefecture or county.
    group: Option<String>,
}

/// Reports per month (Beijing time), optionally per value of a field, over any search.
async fn monthly_counts(
    app: web::Data<App>,
    user: AuthUser,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params::<MonthlyParams>(&req)?;
    let group = match params.group.as_deref().filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => Some(
            search::FacetField::ALL
                .into_iter()
                .find(|f| f.name() == g)
                .ok_or_else(|| bad_query(&format!("group: unknown field {g:?}")))?,
        ),
    };
    let query = crate::cli::search::build_query(&params.q, &params.filters, 0, 0)
        .map_err(|e| bad_query(&e))?;
    let Some(query) = scoped(&app, &scope_of(&app, &user), query).await? else {
        return Ok(
            HttpResponse::Ok().json(serde_json::json!({"group": params.group, "counts": []}))
        );
    };
    let counts = on_index(&app, move |index| index.counts_by_month(&query, group)).await?;
    let rows: Vec<serde_json::Value> = counts
        .into_iter()
        .map(|(month, value, count)| serde_json::json!({"month": month, "value": value, "count": count}))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"group": params.group, "counts": rows})))
}

/// What the operator has typed so far: the text and any fields already filled.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct PreviewBody {
    pub(super) text: String,
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) address: Option<String>,
    #[serde(default)]
    pub(super) subject_name: Option<String>,
    #[serde(default)]
    pub(super) subject_kind: Option<String>,
    #[serde(default)]
    pub(super) phone: Option<String>,
    #[serde(default)]
    pub(super) channel: Option<String>,
    /// When the call or message came in (default: now).
    #[serde(default)]
    pub(super) received_at: Option<String>,
}

/// The operator's preview: locus with candidates, subject, kind, categories, referrals and the
/// likely duplicate — computed by the same stages as intake, with nothing stored.
async fn preview(
    app: web::Data<App>,
    user: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: PreviewBody = parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    Ok(HttpResponse::Ok().json(preview_value(&app, &user, body).await?))
}

/// The preview's body (the API's and the desk page's one path).
pub(super) async fn preview_value(
    app: &App,
    user: &AuthUser,
    body: PreviewBody,
) -> Result<serde_json::Value, ApiError> {
    let wire = EnvelopeWire {
        channel: Some(body.channel.unwrap_or_else(|| "hotline_12350".into())),
        external_id: Some(serde_json::Value::String("preview".into())),
        received_at: Some(
            body.received_at
                .unwrap_or_else(|| chrono::Utc::now().to_rfc3339()),
        ),
        reporter: Some(intake::ReporterWire {
            phone: body.phone,
            ..Default::default()
        }),
        subject: (body.subject_name.is_some() || body.subject_kind.is_some()).then_some({
            intake::SubjectWire {
                name: body.subject_name,
                kind: body.subject_kind,
                address: None,
            }
        }),
        address: body.address,
        title: body.title,
        text: Some(body.text),
        deadline: None,
    };
    let envelope = intake::Envelope::parse(wire).map_err(|e| ApiError::bad_envelope(&e))?;
    let pipeline = app.pipeline.clone();
    let dedup = app.ingest.dedup().clone();
    let store = app.store.clone();
    let (analysis, decision) = web::block(move || {
        let analysis = pipeline.analyze(&envelope, &[]);
        let probe = crate::ingest::probe_for(&envelope, &analysis, store.identity());
        let decision = dedup.read().expect("not poisoned").decide(&probe);
        (analysis, decision)
    })
    .await
    .map_err(|e| ApiError::internal(&anyhow::anyhow!("preview task: {e}")))?;
    let duplicate = match decision.case_id() {
        Some(case_id) => visible_case(app, &scope_of(app, user), case_id).await.ok().map(|c| {
            serde_json::json!({"case_id": c.id, "case_no": c.case_no, "subject_name": c.subject_name,
                "state": c.state, "decision": decision})
        }),
        None => None,
    };
    // Names for what the codes mean, so that a page shows words, not codes.
    let place = |code: &str| {
        if code == "home" {
            "本级受理窗口".to_string()
        } else {
            super::session::jurisdiction_name(app, code).unwrap_or_else(|| code.to_string())
        }
    };
    let labels = serde_json::json!({
        "handling": place(analysis.routing.handling.code()),
        "transfer": analysis.routing.transfer.as_deref().map(place),
        "subject_kind": analysis.extraction.subject_kind.label(),
        "categories": analysis.extraction.categories.iter()
            .map(|c| (c.code().to_string(), serde_json::json!(c.label())))
            .collect::<serde_json::Map<_, _>>(),
        "referrals": analysis.routing.referrals.iter()
            .map(|r| (r.code.code().to_string(), serde_json::json!(r.code.label())))
            .collect::<serde_json::Map<_, _>>(),
    });
    Ok(serde_json::json!({
        "labels": labels,
        "locus": analysis.locus,
        "subject_name": analysis.extraction.subject_name,
        "subject_kind": analysis.extraction.subject_kind,
        "categories": analysis.extraction.categories,
        "rules": analysis.extraction.reasons,
        "handling": analysis.routing.handling,
        "transfer": analysis.routing.transfer,
        "referrals": analysis.routing.referrals,
        "routing_reasons": analysis.routing.reasons,
        "duplicate": duplicate,
    }))
}

/// An officer's step on a case (签收, 退回, 核查, 认定, 处理, 整改, 反馈, 办结 …). `If-Match` carries
/// the version the officer saw; a stale one is a 409 and nothing is lost.
async fn transition(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "案件")?;
    visible_case(&app, &scope_of(&app, &user), id).await?;
    require_case_worker(&user)?;
    let body: serde_json::Value =
        parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    let reason = body["reason"].as_str().map(str::to_string);
    let step: crate::casework::Step = serde_json::from_value(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_step",
            format!("办理步骤无法识别：{e}"),
            format!("unknown or malformed step: {e}"),
        )
    })?;
    let if_match = match req.headers().get("If-Match").and_then(|v| v.to_str().ok()) {
        None => None,
        Some(v) => Some(
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_if_match",
                        "If-Match 应为案件版本号",
                        "If-Match must be the case version",
                    )
                })?,
        ),
    };
    let (version, case) =
        apply_transition(&app, &user, id, if_match, &step, reason.as_deref()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{version}\"")))
        .json(case))
}

/// Applies an officer's step to a case in scope (the API's transition and the case page's step
/// buttons): the version the officer saw (`if_match`) or 409, the state machine's refusals in
/// Chinese. Returns the new version and the case as it now is.
pub(super) async fn apply_transition(
    app: &App,
    user: &AuthUser,
    id: i64,
    if_match: Option<i64>,
    step: &crate::casework::Step,
    reason: Option<&str>,
) -> Result<(i64, CaseRow), ApiError> {
    use crate::store::StepApplyError;
    visible_case(app, &scope_of(app, user), id).await?;
    require_case_worker(user)?;
    let version = match app.store.apply_step(id, if_match, step, &user.0.name, reason).await {
        Ok(v) => v,
        Err(StepApplyError::NotFound) => return Err(ApiError::not_found("案件")),
        Err(StepApplyError::VersionMismatch { expected, current }) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict",
                format!("案件已被他人修改（版本 {current}，您看到的是 {expected}），请刷新后重试"),
                format!("the case changed meanwhile (version {current}, you saw {expected}); reload and retry"),
            ))
        }
        Err(StepApplyError::Step(e @ crate::casework::StepError::IllegalTransition { .. })) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "illegal_transition", e.message_zh(), e.to_string()))
        }
        Err(StepApplyError::Step(e)) => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_step", e.message_zh(), e.to_string()))
        }
        Err(StepApplyError::Store(e)) => return Err(ApiError::internal(&e)),
    };
    if matches!(step, crate::casework::Step::Close) {
        // A closed matter reported again later opens a new case (linked through the subject).
        app.ingest
            .dedup()
            .write()
            .expect("not poisoned")
            .close_case(id, chrono::Utc::now());
    }
    app.ingest.committed.notify_one();
    let case = app
        .store
        .case(id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("案件"))?;
    Ok((version, case))
}

/// The officer's work list: open cases of the user's subtree, current deadline first, with counts
/// per state and the time left.
async fn queue(
    app: web::Data<App>,
    user: AuthUser,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let filter = query_params::<crate::store::QueueFilter>(&req)?;
    Ok(HttpResponse::Ok().json(queue_view(&app, &user, &filter).await?))
}

/// The queue as the API answers it (`total`, `counts` per state, `cases` with the time left);
/// the queue page renders the same value.
pub(super) async fn queue_view(
    app: &App,
    user: &AuthUser,
    filter: &crate::store::QueueFilter,
) -> Result<serde_json::Value, ApiError> {
    let scope = scope_of(app, user);
    let now = chrono::Utc::now();
    let now_text = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (cases, total, per_state) = app
        .store
        .queue(&scope, filter, &now_text)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let extensions = app
        .store
        .latest_extensions(&ids)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let keys: Vec<(i64, Option<&str>)> =
        cases.iter().map(|c| (c.id, c.due_at.as_deref())).collect();
    let notices = app
        .store
        .current_notices(&keys)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let has = |id: i64, kind: &str| notices.iter().any(|(c, k)| *c == id && k == kind);
    let rows: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            // The latest extension request (延期): pending, approved or denied.
            let extension = extensions.get(&c.id).map(|e| {
                let state = e["state"].as_str().unwrap_or_default();
                serde_json::json!({"n": e["n"], "state": state, "days": e["days"],
                    "state_label": crate::store::decision_label(state)})
            });
            let left = c
                .due_at
                .as_deref()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .map(|d| (d.with_timezone(&chrono::Utc) - now).num_seconds());
            serde_json::json!({
                "case_id": c.id, "case_no": c.case_no, "state": c.state,
                "state_label": crate::casework::state_label(&c.state),
                "subject_name": c.subject_name, "subject_key": c.subject_key, "subject_kind": c.subject_kind, "categories": c.categories,
                "locus": c.locus, "handling": c.handling, "due_at": c.due_at, "seconds_left": left,
                "overdue": left.is_some_and(|s| s < 0), "report_count": c.report_count,
                "reminded": has(c.id, "reminded"), "escalated": has(c.id, "escalated"),
                "repeat_count": c.repeat_count, "version": c.version, "extension": extension,
            })
        })
        .collect();
    let counts: serde_json::Map<String, serde_json::Value> = per_state
        .into_iter()
        .map(|(state, n)| (state, serde_json::json!(n)))
        .collect();
    Ok(serde_json::json!({"total": total, "counts": counts, "cases": rows}))
}

#[derive(Debug, serde::Deserialize)]
struct RepliesParams {
    #[serde(default)]
    since: i64,
    limit: Option<i64>,
}

/// What the 12345 platform reads back: for each step on a case that came from a work order, the
/// reply in the platform's shape (签收, 退回 with the reason, 转办, 延期申请, 办结回复 with the finding
/// and the actions, 办结), identity masked. `since` is the `seq` of the last reply read; replies
/// are idempotent on (`order_no`, `step`, `seq`), the key a push carries too.
async fn platform_replies(
    app: web::Data<App>,
    user: AuthUser,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params::<RepliesParams>(&req)?;
    let scope = scope_of(&app, &user);
    let replies = crate::outbox::platform::replies(
        &app.store,
        params.since,
        params.limit.unwrap_or(100).clamp(1, 1000),
    )
    .await
    .map_err(|e| ApiError::internal(&e))?
    .into_iter()
    .filter(|r| r.handling == "home" && scope.covers_home || scope.covers(&r.handling))
    .collect::<Vec<_>>();
    // Replies on cases the reader is excluded from (conflict of interest) are left out.
    let excluded_cases = app
        .store
        .excluded_cases(scope.user_id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut kept = Vec::with_capacity(replies.len());
    for r in replies {
        if !excluded_cases.is_empty() {
            let case = app
                .store
                .report(r.report_id)
                .await
                .map_err(|e| ApiError::internal(&e))?
                .map(|report| report.case_id);
            if case.is_some_and(|c| excluded_cases.contains(&c)) {
                continue;
            }
        }
        kept.push(serde_json::json!(r));
    }
    let replies = kept;
    let next = replies
        .last()
        .and_then(|r| r["seq"].as_i64())
        .unwrap_or(params.since);
    Ok(HttpResponse::Ok().json(serde_json::json!({"replies": replies, "next_since": next})))
}

/// An anonymous reporter reads the state and the replies with the receipt code (no account).
async fn get_receipt(
    app: web::Data<App>,
    req: actix_web::HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, view) = receipt_lookup(&app, &req, &code).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The case behind a receipt code and its public view (state, replies); rate limited so that
/// codes cannot be guessed; an unknown code is a 404.
pub(super) async fn receipt_lookup(
    app: &App,
    req: &actix_web::HttpRequest,
    code: &str,
) -> Result<(i64, serde_json::Value), ApiError> {
    super::receipts::check_rate(req)?;
    app.store
        .receipt_view(&super::receipts::code_hash(code.trim()))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("查询码"))
}

#[derive(Debug, serde::Deserialize)]
struct ReceiptAddition {
    text: String,
}

/// An anonymous reporter adds information to their report with the receipt code.
async fn post_receipt(
    app: web::Data<App>,
    req: actix_web::HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::receipts::check_rate(&req)?;
    let body: ReceiptAddition = parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    add_with_receipt(&app, &code, &body.text, &[], None).await?;
    Ok(HttpResponse::Created()
        .json(serde_json::json!({"status": "added", "message": "补充材料已收到"})))
}

/// Adds text and files to the report behind a receipt code (the caller checked the rate).
/// Text is required unless files come with it. `Ok(false)` when the form was already taken.
pub(super) async fn add_with_receipt(
    app: &App,
    code: &str,
    text: &str,
    files: &[crate::store::Attachment],
    form_token: Option<&str>,
) -> Result<bool, ApiError> {
    let text = text.trim();
    if (text.is_empty() && files.is_empty()) || text.chars().count() > intake::MAX_TEXT_CHARS {
        return Err(ApiError::bad_envelope(&EnvelopeError::Missing("text")));
    }
    let report = app
        .store
        .receipt_report(&super::receipts::code_hash(code.trim()))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("查询码"))?;
    let added = app
        .store
        .add_reporter_information(
            report.case_id,
            Some(report.report_id),
            text,
            files,
            form_token,
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if added.is_some() {
        // The case's reports are re-indexed from the event.
        app.ingest.committed.notify_one();
    }
    Ok(added.is_some())
}

#[derive(Debug, serde::Deserialize)]
struct RevealBody {
    reason: String,
}

/// Showing a reporter's identity is an act: an officer of the handling jurisdiction asks with a
/// reason; it is shown, and an audit entry records who, when and why.
async fn reveal_identity(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "举报")?;
    let body: RevealBody = parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    let identity = reveal(&app, &user, id, &body.reason).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"report_id": id, "reporter": identity})))
}

/// The reveal act (the API's and the case page's): an officer of the handling jurisdiction,
/// with a reason, audited. Returns the reporter's identity.
pub(super) async fn reveal(
    app: &App,
    user: &AuthUser,
    id: i64,
    reason: &str,
) -> Result<Option<serde_json::Value>, ApiError> {
    require_reason(reason)?;
    let report = app
        .store
        .report(id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("举报"))?;
    let scope = scope_of(app, user);
    let case = visible_case(app, &scope, report.case_id)
        .await
        .map_err(|_| ApiError::not_found("举报"))?;
    if !may_reveal(user, &scope, &case) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_entitled",
            "只有承办单位的办案人员可以查看举报人身份",
            "only officers of the handling jurisdiction may see the reporter's identity",
        ));
    }
    let identity =
        app.store.reporter_identity(id).await.map_err(|e| match e
            .downcast_ref::<crate::identity::IdentityError>()
        {
            Some(ie) => ApiError::identity(ie),
            None => ApiError::internal(&e),
        })?;
    app.store
        .audit(
            &user.0.name,
            "reveal_identity",
            Some(&format!("report:{id}")),
            Some(reason),
            serde_json::json!({"case_id": case.id}),
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(identity)
}

/// True when the user may ask for the reporter's identity of a case: an officer (or admin) of
/// its handling jurisdiction or one above it (never a leader, never through the locus only).
pub(super) fn may_reveal(user: &AuthUser, scope: &Scope, case: &CaseRow) -> bool {
    use crate::store::Role;
    let handles_it = case.handling == "home" && scope.covers_home || scope.covers(&case.handling);
    matches!(user.0.role, Role::Officer | Role::Admin) && handles_it
}

/// The admin's list of exclusions for conflict of interest (cases in the admin's subtree).
async fn admin_exclusions(app: web::Data<App>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    if user.0.role != crate::store::Role::Admin {
        return Err(ApiError::forbidden(
            "只有系统管理员可以查看回避记录",
            "only administrators may list exclusions",
        ));
    }
    let scope = scope_of(&app, &user);
    let rows: Vec<serde_json::Value> = app
        .store
        .exclusions_list()
        .await
        .map_err(|e| ApiError::internal(&e))?
        .into_iter()
        .filter(|(_, case)| scope.sees_case(case))
        .map(|(row, _)| row)
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"total": rows.len(), "exclusions": rows})))
}
