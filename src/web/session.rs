//! Session login for people; bearer tokens stay for machines.
//!
//! `POST /api/v1/session` (name + password, JSON or an urlencoded form) sets the session cookie
//! [`COOKIE`] (HttpOnly, SameSite=Strict, Path=/, `Secure` when `[session] secure_cookie`); only its
//! SHA-256 is stored, with an absolute expiry and an idle timeout. `GET /api/v1/session` says who is
//! logged in and gives the CSRF token; `DELETE /api/v1/session` logs out.
//!
//! **CSRF.** A request authenticated by the cookie with an unsafe method (POST, PUT, PATCH,
//! DELETE) must carry the session's CSRF token, in the header [`CSRF_HEADER`] or, for an
//! urlencoded form, in the field [`CSRF_FIELD`]; otherwise it is a 403. Bearer requests are exempt
//! (a browser never sends them by itself). [`super::AuthUser`] does all of this, for every route.
//!
//! **Failed logins** are limited per account name and per client address
//! (`[session] max_failures` within `failure_window_minutes`, then 429 with `Retry-After`), logged
//! without the password and written to the audit log, like successful logins. An unknown name
//! and a wrong password take the same time and get the same answer.
//!
//! For the HTML pages (`src/web/pages/`):
//! - [`login`] checks the limits and the password and returns a [`LoggedIn`]: set its `cookie` on
//!   the response (e.g. a redirect) and keep nothing else;
//! - [`logout`] ends the request's session and returns the cookie that removes it in the browser;
//! - [`SessionUser`] is the extractor of pages read with GET: the session's user (401 without one),
//!   with no CSRF check; handlers of forms take [`super::AuthUser`], which checks the form field;
//! - [`csrf_token_of`] gives the token to put in a form's hidden `csrf_token` field.

use super::{read_body, ApiError, AuthUser};
use crate::app::App;
use crate::store::User;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use std::future::Future;
use std::pin::Pin;

/// The session cookie's name.
pub const COOKIE: &str = "tipline_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// The CSRF token of the session that authenticated a request (kept in the request's extensions).
#[derive(Debug, Clone)]
struct SessionCsrf(String);

/// The session's CSRF token when the request was authenticated by a session cookie (after
/// [`super::AuthUser`] or [`SessionUser`] ran); `None` for bearer requests.
pub fn csrf_token_of(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<SessionCsrf>().map(|c| c.0.clone())
}

/// A successful login.
pub struct LoggedIn {
    /// Who logged in.
    pub user: User,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// The cookie to set on the response.
    pub cookie: Cookie<'static>,
}

/// The client address, as the rate limit counts it: the peer of the connection (a header could
/// be forged by the client; behind a proxy the proxy is the peer).
fn client_of(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Checks the failed-login limits and the password; on success opens a session and audits the
/// login, on failure records and audits the failure (without the password).
pub async fn login(
    app: &App,
    req: &HttpRequest,
    name: &str,
    password: &str,
) -> Result<LoggedIn, ApiError> {
    let settings = &app.config.session;
    let window = chrono::Duration::minutes(settings.failure_window_minutes.max(1));
    let client = client_of(req);
    // Names are compared as typed; a very long one is cut so that the log and audit stay small.
    let name: String = name.trim().chars().take(64).collect();
    let internal = |e: anyhow::Error| ApiError::internal(&e);
    if let Some(wait) = app
        .store
        .login_blocked_for(&name, &client, settings.max_failures.max(1), window)
        .await
        .map_err(internal)?
    {
        tracing::warn!(user.name = %name, client = %client, "login refused: too many failures");
        app.store
            .audit(
                &name,
                "login_blocked",
                None,
                None,
                serde_json::json!({"client": client}),
            )
            .await
            .map_err(internal)?;
        let minutes = (wait + 59) / 60;
        return Err(ApiError::too_many(
            format!("登录失败次数过多，请 {minutes} 分钟后再试"),
            format!("too many failed logins; try again in {minutes} minute(s)"),
            wait,
        ));
    }
    let Some(user) = app
        .store
        .verify_password(&name, password)
        .await
        .map_err(internal)?
    else {
        tracing::warn!(user.name = %name, client = %client, "login failed");
        app.store
            .record_login_failure(&name, &client, window)
            .await
            .map_err(internal)?;
        app.store
            .audit(
                &name,
                "login_failed",
                None,
                None,
                serde_json::json!({"client": client}),
            )
            .await
            .map_err(internal)?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_failed",
            "用户名或密码错误",
            "wrong name or password",
        ));
    };
    app.store
        .clear_login_failures(&name)
        .await
        .map_err(internal)?;
    let lifetime = chrono::Duration::hours(settings.absolute_hours.max(1));
    let session = app
        .store
        .create_session(user.id, lifetime)
        .await
        .map_err(internal)?;
    app.store
        .audit(
            &user.name,
            "login",
            None,
            None,
            serde_json::json!({"client": client}),
        )
        .await
        .map_err(internal)?;
    tracing::info!(user.name = %user.name, "login");
    let cookie = Cookie::build(COOKIE, session.token)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(settings.secure_cookie)
        .max_age(actix_web::cookie::time::Duration::seconds(
            lifetime.num_seconds(),
        ))
        .finish();
    Ok(LoggedIn {
        user,
        csrf_token: session.csrf_token,
        cookie,
    })
}

/// Ends the request's session (if any) and returns the cookie that removes it in the browser.
pub async fn logout(app: &App, req: &HttpRequest) -> Result<Cookie<'static>, ApiError> {
    if let Some(cookie) = req.cookie(COOKIE) {
        app.store
            .end_session(cookie.value())
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    let mut removal = Cookie::build(COOKIE, "")
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(app.config.session.secure_cookie)
        .finish();
    removal.make_removal();
    Ok(removal)
}

/// The user of the request's session cookie, for pages read with GET (no CSRF check); 401
/// without a live session.
#[allow(dead_code)] // the HTML pages (src/web/pages/) extract it
pub struct SessionUser(pub User);

impl FromRequest for SessionUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<SessionUser, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let app = req
                .app_data::<web::Data<App>>()
                .cloned()
                .ok_or_else(ApiError::unauthorized)?;
            let token = req.cookie(COOKIE).ok_or_else(ApiError::unauthorized)?;
            let (user, csrf) = live_session(&app, token.value()).await?;
            req.extensions_mut().insert(SessionCsrf(csrf));
            Ok(SessionUser(user))
        })
    }
}

async fn live_session(app: &App, token: &str) -> Result<(User, String), ApiError> {
    let idle = chrono::Duration::minutes(app.config.session.idle_minutes.max(1));
    app.store
        .session_user(token, idle)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(ApiError::unauthorized)
}

/// Authenticates a request by its session cookie, for [`super::AuthUser`]: an unsafe method must
/// carry the CSRF token (header, or the form field of an urlencoded body, which is read here and
/// handed on unchanged to the handler).
pub(super) fn from_cookie(
    req: &HttpRequest,
    payload: &mut Payload,
    token: String,
) -> Pin<Box<dyn Future<Output = Result<AuthUser, ApiError>>>> {
    let req = req.clone();
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let header = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_form = req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded");
    let form = (!safe && header.is_none() && is_form).then(|| tee_body(payload));
    Box::pin(async move {
        let app = req
            .app_data::<web::Data<App>>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)?;
        let (user, csrf) = live_session(&app, &token).await?;
        if !safe {
            let submitted = match (header, form) {
                (Some(h), _) => Some(h),
                (None, Some(body)) => {
                    let body = body(app.config.max_body_bytes).await?;
                    form_field(&body, CSRF_FIELD)
                }
                (None, None) => None,
            };
            if !submitted.is_some_and(|s| same_secret(&s, &csrf)) {
                tracing::warn!(user.name = %user.name, method = %req.method(), path = %req.path(), "CSRF token missing or wrong");
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "页面已过期或请求来源不明（缺少或错误的 CSRF 令牌），请刷新页面后重试",
                    "missing or wrong CSRF token: send the session's token in X-CSRF-Token or the csrf_token form field",
                ));
            }
        }
        req.extensions_mut().insert(SessionCsrf(csrf));
        Ok(AuthUser(user))
    })
}

type BodyReader =
    Box<dyn FnOnce(usize) -> Pin<Box<dyn Future<Output = Result<web::Bytes, ApiError>>>>>;

/// Takes the request body to read it here and puts a stream in its place that yields the same
/// bytes to the handler once read.
fn tee_body(payload: &mut Payload) -> BodyReader {
    let taken = payload.take();
    let (tx, rx) = futures::channel::oneshot::channel::<web::Bytes>();
    let replay = futures::stream::once(async move {
        rx.await
            .map_err(|_| actix_web::error::PayloadError::Incomplete(None))
    });
    let boxed: Pin<
        Box<dyn futures::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(replay);
    *payload = Payload::from(boxed);
    Box::new(move |limit| {
        Box::pin(async move {
            let body = read_body(taken, limit).await?.freeze();
            let _ = tx.send(body.clone());
            Ok(body)
        })
    })
}

/// A field of an urlencoded form.
fn form_field(body: &[u8], field: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == field).then_some(v))
}

/// Compares two secrets in constant time.
fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Registers the session routes.
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/session", web::post().to(post_session))
        .route("/api/v1/session", web::get().to(get_session))
        .route("/api/v1/session", web::delete().to(delete_session));
}

#[derive(Debug, serde::Deserialize)]
struct LoginBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn post_session(
    app: web::Data<App>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload, 64 * 1024).await?;
    let parsed: Result<LoginBody, String> = if req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    };
    let login_body = parsed.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_login",
            "登录请求格式有误：需要 name 和 password（JSON 或表单）",
            format!("malformed login: send name and password as JSON or a form ({e})"),
        )
    })?;
    if login_body.name.trim().is_empty() || login_body.password.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_field",
            "请填写用户名和密码",
            "fields `name` and `password` are required",
        ));
    }
    let done = login(&app, &req, &login_body.name, &login_body.password).await?;
    let view = who(&app, &done.user, Some(&done.csrf_token));
    Ok(HttpResponse::Ok().cookie(done.cookie).json(view))
}

async fn get_session(app: web::Data<App>, user: AuthUser, req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(who(&app, &user.0, csrf_token_of(&req).as_deref()))
}

async fn delete_session(
    app: web::Data<App>,
    user: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let removal = logout(&app, &req).await?;
    app.store
        .audit(&user.0.name, "logout", None, None, serde_json::json!({}))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .cookie(removal)
        .json(serde_json::json!({"status": "logged_out"})))
}

/// Who is logged in, as the API shows it.
fn who(app: &App, user: &User, csrf: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "name": user.name,
        "role": user.role,
        "jurisdiction": user.jurisdiction,
        "jurisdiction_name": jurisdiction_name(app, &user.jurisdiction),
        "csrf_token": csrf,
    })
}

/// The name of a jurisdiction: a configured zone's, else the division's (辽宁省鞍山市).
pub fn jurisdiction_name(app: &App, code: &str) -> Option<String> {
    if let Some(zone) = app.config.triage.zones.iter().find(|z| z.code == code) {
        return Some(zone.name.clone());
    }
    if code == "000000" {
        return Some("全国".into());
    }
    let gazetteer = triage::Gazetteer::get();
    gazetteer.index_of(code).map(|i| gazetteer.short_path(i))
}
