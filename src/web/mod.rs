//! The HTTP server: routes, shared state, authentication. Only this module knows HTTP, the JSON
//! shapes of the API and the HTML of the pages.

mod api;
mod chain;
mod error;
mod openapi;
mod pages;
mod receipts;
pub mod session;
mod stats;

pub use error::ApiError;

use crate::app::App;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures::StreamExt;
use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Arc;

/// A running HTTP server bound to its listener.
pub struct Server {
    port: u16,
    server: actix_web::dev::Server,
}

impl Server {
    /// Binds (port 0 picks a free port) and prepares the server.
    pub fn build(app: Arc<App>, bind: &str) -> anyhow::Result<Server> {
        let listener =
            TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("cannot bind {bind}: {e}"))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::from(app);
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .wrap(actix_web::middleware::Logger::new("%r %s %Dms").exclude("/healthz"))
                // Pages and answers compressed for clients that ask (browsers do): offices on
                // slow county links load a queue page in a fraction of its size.
                .wrap(actix_web::middleware::Compress::default())
                // Before the API's `/api/v1/reports/{id}`, which would take `monthly.xlsx` as an id.
                .configure(stats::routes)
                .configure(api::routes)
                .configure(session::routes)
                .configure(chain::routes)
                .configure(pages::routes)
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::not_found("该地址"))
                }))
        })
        .listen(listener)?
        .run();
        Ok(Server { port, server })
    }

    /// The port bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The user behind a request: its bearer token (machines), else its session cookie (people; an
/// unsafe method must then carry the session's CSRF token, see [`session`]).
pub struct AuthUser(pub crate::store::User);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<AuthUser, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let app = req.app_data::<web::Data<App>>().cloned();
        let token = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string());
        if token.is_none() {
            if let Some(cookie) = req.cookie(session::COOKIE) {
                return session::from_cookie(req, payload, cookie.value().to_string());
            }
        }
        Box::pin(async move {
            let (Some(app), Some(token)) = (app, token) else {
                return Err(ApiError::unauthorized());
            };
            match app.store.user_for_token(&token).await {
                Ok(Some(user)) => Ok(AuthUser(user)),
                Ok(None) => Err(ApiError::unauthorized()),
                Err(e) => Err(ApiError::internal(&e)),
            }
        })
    }
}

/// Reads a request body, refusing more than `limit` bytes with a 413.
pub async fn read_body<S>(mut payload: S, limit: usize) -> Result<web::BytesMut, ApiError>
where
    S: futures::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "bad_body",
                "请求内容读取失败",
                format!("cannot read the request body: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JSON response with a status.
pub fn json_with(
    status: actix_web::http::StatusCode,
    value: &impl serde::Serialize,
) -> HttpResponse {
    HttpResponse::build(status).json(value)
}
