//! The pages' assets — one stylesheet, one script — compiled into the binary (government intranets
//! are closed: nothing is fetched from elsewhere) and served under content-hashed names, so that a
//! browser may keep them for a year and still never runs a stale copy after an upgrade.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file.
pub struct Asset {
    /// The name it is served under, `/assets/tipline.<hash>.css`.
    pub url: String,
    content_type: &'static str,
    etag: String,
    body: &'static str,
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, body: &'static str) -> Asset {
        let hash = hex::encode(&Sha256::digest(body.as_bytes())[..6]);
        Asset {
            url: format!("/assets/{stem}.{hash}.{ext}"),
            content_type,
            etag: format!("\"{hash}\""),
            body,
        }
    }
}

/// The stylesheet.
pub static CSS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "tipline",
        "css",
        "text/css; charset=utf-8",
        include_str!("../../../assets/tipline.css"),
    )
});

/// The script (progressive enhancement only: every page works without it).
pub static JS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "tipline",
        "js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/tipline.js"),
    )
});

/// Registers `/assets/{name}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}", web::get().to(serve));
}

async fn serve(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let path = format!("/assets/{name}");
    let Some(asset) = [&*CSS, &*JS].into_iter().find(|a| a.url == path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("未找到该文件 (asset not found)");
    };
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == asset.etag));
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, asset.etag.clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if cached {
        return response.finish();
    }
    response.content_type(asset.content_type).body(asset.body)
}
