//! Server-rendered pages (HTML, zh-CN). Templates live in `templates/` and are compiled by askama,
//! which escapes every value for HTML: report text is hostile input and nothing here builds markup
//! with `format!`. Each page calls the same code as the API (`super::api` helpers, the store, the
//! pipeline through `App`), never a copy of a rule.
//!
//! Public pages (the report window) need no login. Staff pages take [`staff::Staff`] (GET) or
//! [`staff::StaffPost`] (form posts, CSRF-checked) as a handler argument, render a template that
//! extends `staff_base.html` with a [`staff::StaffLayout`], and answer errors with
//! [`staff::StaffError`] (no session: to the login page).

mod admin;
mod assets;
mod cases;
mod desk;
mod form;
mod leadership;
mod report;
pub mod staff;

use super::ApiError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;
use std::fmt;

/// Registers the pages and their assets.
pub fn routes(cfg: &mut web::ServiceConfig) {
    admin::routes(cfg);
    assets::routes(cfg);
    cases::routes(cfg);
    desk::routes(cfg);
    report::routes(cfg);
    staff::routes(cfg);
    leadership::routes(cfg);
}

/// What every page's layout needs.
pub struct Layout {
    /// The page's title (before the site name).
    pub title: &'static str,
    /// The navigation entry to mark as current.
    pub current: &'static str,
    /// The stylesheet's URL.
    pub css: &'static str,
    /// The script's URL.
    pub js: &'static str,
}

impl Layout {
    /// The layout of a page titled `title`, with `current` marked in the navigation.
    pub fn new(title: &'static str, current: &'static str) -> Layout {
        Layout {
            title,
            current,
            css: &assets::CSS.url,
            js: &assets::JS.url,
        }
    }
}

/// Renders a template into a response with the pages' headers: nothing cached (pages carry form
/// tokens and receipt codes), no referrer to other sites (`same-origin`: `no-referrer` would make
/// the browser send `Origin: null` on our own posts, which the form check refuses), and a
/// content policy that runs only our own script, so that even an escaping mistake cannot run one
/// (and lets it call only our own API: the desk's live preview).
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "same-origin"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ))
            .body(html),
        Err(e) => ApiError::internal(&anyhow::anyhow!("template: {e}")).error_response(),
    }
}

/// An error page: the same stable code and zh/en messages as the API's JSON errors.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    error: &'a ApiError,
    /// A staff page's error leads back to the staff pages, not to the public form.
    staff: bool,
}

impl PageError {
    /// The error as a page, for the public (`staff` false) or for staff.
    pub fn page(&self, staff: bool) -> HttpResponse {
        render(
            self.0.status(),
            &ErrorPage {
                layout: Layout::new("出错了", ""),
                status: self.0.status().as_u16(),
                error: &self.0,
                staff,
            },
        )
    }
}

/// An [`ApiError`] answered as a page.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError(e)
    }
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.page(false)
    }
}

/// Beijing time. China has kept UTC+8 without daylight saving since 1991, so a fixed offset is
/// exact for every date the system holds and needs no time-zone database.
fn beijing() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// An RFC 3339 time as Chinese readers write it in Beijing time: `2024年5月6日 09:12`.
pub fn shanghai_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&beijing())
            .format("%Y年%-m月%-d日 %H:%M")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// A size as Chinese software shows it: `512 字节`, `38.2 KB`, `4.6 MB`.
pub fn size_text(bytes: usize) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} 字节")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_beijing_time() {
        assert_eq!(shanghai_time("2024-05-05T16:12:00Z"), "2024年5月6日 00:12");
        assert_eq!(
            shanghai_time("2024-12-31T09:05:00+08:00"),
            "2024年12月31日 09:05"
        );
        assert_eq!(shanghai_time("not a time"), "not a time");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_text(512), "512 字节");
        assert_eq!(size_text(39_117), "38.2 KB");
        assert_eq!(size_text(10 * 1024 * 1024), "10.0 MB");
    }
}
