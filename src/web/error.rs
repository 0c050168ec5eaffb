//! HTTP errors: a stable code, a Chinese and an English message, as JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// An error answered to an HTTP client.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Seconds the client should wait (`Retry-After`), for 429.
    #[serde(skip)]
    retry_after: Option<i64>,
    /// Stable machine-readable code.
    pub code: String,
    /// Message in Chinese.
    pub message: String,
    /// Message in English.
    pub message_en: String,
}

impl ApiError {
    /// An error with its status, code and both messages.
    pub fn new(
        status: StatusCode,
        code: &str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            retry_after: None,
            code: code.into(),
            message: zh.into(),
            message_en: en.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Seconds the client should wait before trying again (429), when known.
    pub fn retry_after(&self) -> Option<i64> {
        self.retry_after
    }

    /// 401.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "未登录或令牌无效：请在 Authorization 头中提供有效的 Bearer 令牌",
            "missing or invalid credentials: send a valid bearer token in the Authorization header",
        )
    }

    /// 404.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("未找到{what}"),
            format!("{what} not found"),
        )
    }

    /// 403: the user is who they say, but their role or place does not allow the act.
    pub fn forbidden(zh: &str, en: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "not_entitled", zh, en)
    }

    /// 429 with the seconds to wait in `Retry-After`.
    pub fn too_many(zh: impl Into<String>, en: impl Into<String>, retry_after: i64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after.max(1)),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", zh, en)
        }
    }

    /// 413.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("请求内容过大：最多 {limit} 字节"),
            format!("request body too large: at most {limit} bytes"),
        )
    }

    /// 400 for an envelope that does not parse.
    pub fn bad_envelope(e: &intake::EnvelopeError) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            e.code(),
            e.message_zh(),
            e.to_string(),
        )
    }

    /// 500; the cause is logged, not shown.
    pub fn internal(e: &anyhow::Error) -> ApiError {
        tracing::error!(error = %format!("{e:#}"), "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "服务器内部错误，请稍后重试",
            "internal server error, please retry later",
        )
    }

    /// A reporter identity that cannot be opened: a key not at hand (503, the operator restores the
    /// key file) or a damaged value (500). The cause is logged; the identity never is.
    pub fn identity(e: &crate::identity::IdentityError) -> ApiError {
        tracing::error!(error = %e, "reporter identity cannot be opened");
        let status = match e {
            crate::identity::IdentityError::Damaged(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.code(), e.message_zh(), e.to_string())
    }

    /// 503 when the report could not be stored.
    pub fn not_stored(e: &anyhow::Error) -> ApiError {
        tracing::error!(error = %format!("{e:#}"), "report not stored");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_stored",
            "举报未能保存，请重新提交（未保存的举报不会被受理）",
            "the report was not stored; please submit it again",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message_en)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(self)
    }
}
