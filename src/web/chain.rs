//! The 12345 chain's case endpoints: extension requests (延期) and their decisions.

use super::api::{parse_id, parse_json, require_reason, scope_of, visible_case};
use super::{read_body, ApiError, AuthUser};
use crate::app::App;
use crate::store::{ExtensionError, Role};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/cases/{id}/extensions",
        web::post().to(request_extension),
    )
    .route(
        "/api/v1/cases/{id}/extensions",
        web::get().to(list_extensions),
    )
    .route(
        "/api/v1/cases/{id}/extensions/{n}/decision",
        web::post().to(decide_extension),
    );
}

/// Longest extension one request may ask for, in working days (a 12345 order's deadline is
/// weeks, not months; a longer delay is a new request with its own reason).
const MAX_DAYS: i64 = 60;

#[derive(Debug, serde::Deserialize)]
struct RequestBody {
    days: i64,
    reason: String,
}

#[derive(Debug, serde::Deserialize)]
struct DecisionBody {
    approve: bool,
    #[serde(default)]
    reason: Option<String>,
}

/// True when the user's jurisdiction is the case's handling one or lies above it (a case seen
/// only through its locus is read, not worked).
fn handles(scope: &crate::scope::Scope, case: &crate::store::CaseRow) -> bool {
    case.handling == "home" && scope.covers_home || scope.covers(&case.handling)
}

fn not_entitled(zh: &str, en: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "not_entitled", zh, en)
}

fn extension_error(e: ExtensionError) -> ApiError {
    match e {
        ExtensionError::NotFound => ApiError::not_found("延期申请"),
        ExtensionError::Conflict(zh, en) => {
            ApiError::new(StatusCode::CONFLICT, "extension_conflict", zh, en)
        }
        ExtensionError::Store(e) => ApiError::internal(&e),
    }
}

/// 延期申请: an officer of a case in scope asks for `days` more working days, with a reason.
async fn request_extension(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "案件")?;
    let body: RequestBody = parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    let n = request(&app, &user, id, body.days, &body.reason).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "case_id": id, "n": n, "state": "pending", "days": body.days,
    })))
}

/// Files an extension request (the API's and the case page's): checks who may ask, the reason
/// and the days. Returns the request's number.
pub(super) async fn request(
    app: &App,
    user: &AuthUser,
    id: i64,
    days: i64,
    reason: &str,
) -> Result<i64, ApiError> {
    let scope = scope_of(app, user);
    let case = visible_case(app, &scope, id).await?;
    if !matches!(user.0.role, Role::Officer | Role::Admin) || !handles(&scope, &case) {
        return Err(not_entitled(
            "只有承办单位（或其上级）的办案人员可以申请延期",
            "only officers of the handling jurisdiction (or one above it) may request an extension",
        ));
    }
    require_reason(reason)?;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_days",
            format!("延期天数应为 1 至 {MAX_DAYS} 个工作日"),
            format!("days must be 1 to {MAX_DAYS} working days"),
        ));
    }
    let n = app
        .store
        .request_extension(id, days, reason.trim(), &user.0.name)
        .await
        .map_err(extension_error)?;
    app.ingest.committed.notify_one();
    Ok(n)
}

/// The extension requests of a case in scope.
async fn list_extensions(
    app: web::Data<App>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "案件")?;
    visible_case(&app, &scope_of(&app, &user), id).await?;
    let list = app
        .store
        .extensions(id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"extensions": list})))
}

/// A leader of the handling jurisdiction (or one above it) approves or denies a pending request;
/// an approval moves the current and later deadlines by the working days asked.
async fn decide_extension(
    app: web::Data<App>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path.0, "案件")?;
    let n = parse_id(&path.1, "延期申请")?;
    let scope = scope_of(&app, &user);
    let case = visible_case(&app, &scope, id).await?;
    let body: DecisionBody = parse_json(&read_body(payload, app.config.max_body_bytes).await?)?;
    if !matches!(user.0.role, Role::Leader | Role::Admin) || !handles(&scope, &case) {
        return Err(not_entitled(
            "只有承办单位或其上级的领导可以审批延期",
            "only a leader of the handling jurisdiction or one above it may decide an extension",
        ));
    }
    if !body.approve {
        require_reason(body.reason.as_deref().unwrap_or(""))?;
    }
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let decided = app
        .store
        .decide_extension(id, n, body.approve, reason, &user.0.name)
        .await
        .map_err(extension_error)?;
    app.ingest.committed.notify_one();
    let case = app
        .store
        .case(id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("案件"))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"extension": decided, "case": case})))
}
