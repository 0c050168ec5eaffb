//! What every staff page shares: login and logout, the signed-in layout with the navigation of
//! the user's role, and the extractors that put a page behind the login.
//!
//! - [`Staff`] is the argument of a page read with GET: the session's user and its CSRF token
//!   for the page's forms. Without a live session the browser is sent to `/login?next=…`.
//! - [`StaffPost`] is the argument of a form's POST handler: the same, after the CSRF check of
//!   [`crate::web::AuthUser`] (hidden field `csrf_token`, see [`StaffLayout::csrf`]).
//! - [`StaffLayout`] is what `templates/staff_base.html` needs; every staff template extends it.
//!
//! Scope is never decided here: handlers call the same functions as the API, with
//! [`crate::scope::Scope`] of the user, so a page shows exactly what the API would.

use super::{render, PageError};
use crate::app::App;
use crate::store::{Role, User};
use crate::web::session::{self, SessionUser};
use crate::web::{ApiError, AuthUser};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// Registers login, logout and `/staff` (the way back to the user's first page).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/staff", web::get().to(staff_home))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login_post))
        .route("/logout", web::post().to(logout_post));
}

/// One entry of the staff navigation.
pub struct NavItem {
    /// Matched against [`StaffLayout::current`].
    pub key: &'static str,
    /// Where it leads.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
}

/// The pages a role works in, its first page first.
pub fn nav_for(role: Role) -> &'static [NavItem] {
    const DESK: NavItem = NavItem {
        key: "desk",
        href: "/desk",
        label: "接听登记",
    };
    const CASES: NavItem = NavItem {
        key: "cases",
        href: "/cases",
        label: "案件办理",
    };
    const SEARCH: NavItem = NavItem {
        key: "search",
        href: "/search",
        label: "案件检索",
    };
    const STATS: NavItem = NavItem {
        key: "stats",
        href: "/stats",
        label: "统计报表",
    };
    const ADMIN: NavItem = NavItem {
        key: "admin",
        href: "/admin",
        label: "系统管理",
    };
    match role {
        Role::Operator => &[DESK],
        Role::Officer => &[CASES, SEARCH],
        Role::Leader => &[SEARCH, STATS],
        Role::Admin => &[ADMIN, CASES, SEARCH, STATS],
    }
}

/// The page a role lands on after login.
pub fn home_of(role: Role) -> &'static str {
    nav_for(role)[0].href
}

/// The role as the pages name it.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Operator => "话务员",
        Role::Officer => "承办人",
        Role::Leader => "领导",
        Role::Admin => "管理员",
    }
}

/// What `templates/staff_base.html` needs.
pub struct StaffLayout {
    /// The page's title (before the site name).
    pub title: String,
    /// The navigation entry to mark as current (a [`NavItem::key`]).
    pub current: &'static str,
    /// The stylesheet's URL.
    pub css: &'static str,
    /// The script's URL.
    pub js: &'static str,
    /// The signed-in user's name.
    pub user_name: String,
    /// The user's role, as shown.
    pub role: &'static str,
    /// The user's jurisdiction, as shown (辽宁省鞍山市).
    pub jurisdiction: String,
    /// The session's CSRF token: every form of the page posts it as `csrf_token`.
    pub csrf: String,
    /// The navigation of the user's role.
    pub nav: &'static [NavItem],
}

impl StaffLayout {
    /// The layout of a page titled `title` for `user`, with `current` marked in the navigation.
    pub fn new(
        app: &App,
        user: &User,
        csrf: &str,
        title: impl Into<String>,
        current: &'static str,
    ) -> StaffLayout {
        StaffLayout {
            title: title.into(),
            current,
            css: &super::assets::CSS.url,
            js: &super::assets::JS.url,
            user_name: user.name.clone(),
            role: role_label(user.role),
            jurisdiction: session::jurisdiction_name(app, &user.jurisdiction)
                .unwrap_or_else(|| user.jurisdiction.clone()),
            csrf: csrf.to_string(),
            nav: nav_for(user.role),
        }
    }
}

/// The signed-in user of a staff page read with GET.
pub struct Staff {
    /// Who.
    pub user: User,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
}

impl Staff {
    /// The layout of a page of this user.
    pub fn layout(
        &self,
        app: &App,
        title: impl Into<String>,
        current: &'static str,
    ) -> StaffLayout {
        StaffLayout::new(app, &self.user, &self.csrf, title, current)
    }

    /// The user as the API's handlers take it.
    pub fn auth(&self) -> AuthUser {
        AuthUser(self.user.clone())
    }
}

/// The signed-in user of a staff form's POST, after the CSRF check: a [`Staff`] (same user,
/// token, layout) that only a checked post yields.
pub struct StaffPost(Staff);

impl std::ops::Deref for StaffPost {
    type Target = Staff;

    fn deref(&self) -> &Staff {
        &self.0
    }
}

/// Why a staff page is not shown: no session (to the login page), or an error shown as a page.
#[derive(Debug)]
pub enum StaffError {
    /// Not signed in: to `/login`, coming back to this address after.
    Login(String),
    /// Anything else.
    Page(ApiError),
}

impl From<ApiError> for StaffError {
    fn from(e: ApiError) -> StaffError {
        StaffError::Page(e)
    }
}

impl fmt::Display for StaffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaffError::Login(_) => f.write_str("login required"),
            StaffError::Page(e) => e.fmt(f),
        }
    }
}

impl ResponseError for StaffError {
    fn status_code(&self) -> StatusCode {
        match self {
            StaffError::Login(_) => StatusCode::SEE_OTHER,
            StaffError::Page(e) => e.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            StaffError::Login(next) => see_other(&format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
            )),
            StaffError::Page(e) => PageError(e.clone()).page(true),
        }
    }
}

/// Where the request was going (path and query), to come back to after login.
fn destination(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_string(),
        None => req.path().to_string(),
    }
}

/// A 401 sends the browser to the login page; other errors are pages.
fn staff_error(req: &HttpRequest, e: ApiError) -> StaffError {
    if e.status() == StatusCode::UNAUTHORIZED {
        let next = if req.method() == actix_web::http::Method::GET {
            destination(req)
        } else {
            req.headers()
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
                .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
                .unwrap_or_else(|| "/".into())
        };
        StaffError::Login(next)
    } else {
        StaffError::Page(e)
    }
}

impl FromRequest for Staff {
    type Error = StaffError;
    type Future = Pin<Box<dyn Future<Output = Result<Staff, StaffError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let user = SessionUser::from_request(&req, payload);
        Box::pin(async move {
            let SessionUser(user) = user.await.map_err(|e| staff_error(&req, e))?;
            let csrf = session::csrf_token_of(&req).unwrap_or_default();
            Ok(Staff { user, csrf })
        })
    }
}

impl FromRequest for StaffPost {
    type Error = StaffError;
    type Future = Pin<Box<dyn Future<Output = Result<StaffPost, StaffError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        // Pages are for people: a bearer token does not open them.
        if req.cookie(session::COOKIE).is_none() {
            return Box::pin(async move { Err(staff_error(&req, ApiError::unauthorized())) });
        }
        let user = AuthUser::from_request(&req, payload);
        Box::pin(async move {
            let AuthUser(user) = user.await.map_err(|e| staff_error(&req, e))?;
            let csrf = session::csrf_token_of(&req).unwrap_or_default();
            Ok(StaffPost(Staff { user, csrf }))
        })
    }
}

/// A 303 to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A local address to go to after login: a path on this site, never another site's
/// (`//evil.example`, `/\evil`, `https://…`).
fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control())
        && !next.starts_with("/login")
        && !next.starts_with("/logout");
    ok.then_some(next)
}

/// The signed-in user's first page (the way back from an error page).
async fn staff_home(user: Staff) -> HttpResponse {
    see_other(home_of(user.user.role))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    layout: super::Layout,
    name: &'a str,
    next: &'a str,
    error: Option<ApiError>,
    logged_out: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    out: Option<String>,
}

async fn login_form(query: web::Query<LoginQuery>) -> HttpResponse {
    render(
        StatusCode::OK,
        &LoginPage {
            layout: super::Layout::new("工作人员登录", "login"),
            name: "",
            next: safe_next(&query.next).unwrap_or(""),
            error: None,
            logged_out: query.out.is_some(),
        },
    )
}

#[derive(Debug, Default, serde::Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// True when the request's `Origin` (sent by browsers on every POST) is another site: a login
/// posted from elsewhere (login CSRF) is refused.
fn foreign_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let info = req.connection_info();
    origin != format!("{}://{}", info.scheme(), info.host())
}

async fn login_post(
    app: web::Data<App>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let next = safe_next(&form.next).unwrap_or("");
    let again = |status: StatusCode, error: ApiError| {
        let mut page = render(
            status,
            &LoginPage {
                layout: super::Layout::new("工作人员登录", "login"),
                name: &form.name,
                next,
                error: Some(error.clone()),
                logged_out: false,
            },
        );
        if let Some(wait) = error.retry_after() {
            if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        page
    };
    if foreign_origin(&req) {
        return again(
            StatusCode::FORBIDDEN,
            ApiError::forbidden(
                "登录请求来自其他网站，已拒绝",
                "login posted from another site",
            ),
        );
    }
    if form.name.trim().is_empty() || form.password.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_field",
                "请填写用户名和密码",
                "fields `name` and `password` are required",
            ),
        );
    }
    match session::login(&app, &req, &form.name, &form.password).await {
        Ok(done) => {
            let to = if next.is_empty() {
                home_of(done.user.role)
            } else {
                next
            };
            let mut response = see_other(to);
            let _ = response.add_cookie(&done.cookie);
            response
        }
        Err(e) => again(e.status(), e),
    }
}

async fn logout_post(
    app: web::Data<App>,
    req: HttpRequest,
    user: StaffPost,
) -> Result<HttpResponse, StaffError> {
    let removal = session::logout(&app, &req).await?;
    app.store
        .audit(&user.user.name, "logout", None, None, serde_json::json!({}))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut response = see_other("/login?out=1");
    let _ = response.add_cookie(&removal);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_addresses_are_followed_after_login() {
        assert_eq!(
            safe_next("/cases?state=routed"),
            Some("/cases?state=routed")
        );
        assert_eq!(safe_next("//evil.example/x"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("https://evil.example/"), None);
        assert_eq!(safe_next("/login"), None);
        assert_eq!(safe_next("/cases\n"), None);
    }

    #[test]
    fn every_role_has_a_first_page() {
        for role in [Role::Operator, Role::Officer, Role::Leader, Role::Admin] {
            assert!(home_of(role).starts_with('/'));
        }
        assert_eq!(home_of(Role::Operator), "/desk");
        assert_eq!(home_of(Role::Officer), "/cases");
    }
}
