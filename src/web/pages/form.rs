//! Form posts: the per-form token against cross-site posting, and reading a multipart body within
//! limits.
//!
//! The token is a signed double submit: a random binding id lives in an HttpOnly, SameSite=Strict
//! cookie; each form carries `nonce.issued.mac`, where the mac (HMAC-SHA256 under the deployment's
//! key) covers the form's name, the binding, the nonce and the time. Another site can neither read
//! the cookie nor forge the mac, and a token fetched by a script elsewhere is bound to another
//! browser. The nonce doubles as the submission key, so a form sent twice is taken once.

use crate::app::App;
use crate::web::ApiError;
use actix_multipart::Multipart;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::collections::HashMap;
use tokio::sync::OnceCell;

/// The cookie holding the browser's binding id.
const BINDING_COOKIE: &str = "tl_fb";
/// How long a page's form stays valid: a reporter may write slowly, over a long lunch.
const TOKEN_HOURS: i64 = 12;

/// Why a posted form was not taken as it is (the page shows the form again, nothing lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// No token, a token of another form or browser, or a forged one.
    Invalid,
    /// Older than [`TOKEN_HOURS`].
    Expired,
    /// Posted from another site (the `Origin` header names another host).
    CrossSite,
}

impl TokenError {
    /// As an error with a stable code and both languages.
    pub fn to_error(self) -> ApiError {
        let (code, zh, en) = match self {
            TokenError::Invalid => (
                "form_token_invalid",
                "页面校验未通过（可能浏览器禁用了 Cookie 或页面来自其他网站），请再次点击提交",
                "the form's token is missing or invalid; submit again",
            ),
            TokenError::Expired => (
                "form_token_expired",
                "页面停留时间过长已过期，您填写的内容已保留，请再次点击提交",
                "the form expired; your text is kept, submit again",
            ),
            TokenError::CrossSite => (
                "cross_site_post",
                "拒绝来自其他网站的提交，请在本网站页面上填写",
                "refused a form posted from another site",
            ),
        };
        ApiError::new(StatusCode::FORBIDDEN, code, zh, en)
    }
}

static KEY: OnceCell<Vec<u8>> = OnceCell::const_new();

/// The deployment's signing key, read from (or first made in) the database once per process.
async fn key(app: &App) -> Result<&'static [u8], ApiError> {
    KEY.get_or_try_init(|| async {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let stored = app.store.web_key("form", &hex::encode(fresh)).await?;
        hex::decode(stored).map_err(|e| anyhow::anyhow!("web_keys.form is not hex: {e}"))
    })
    .await
    .map(Vec::as_slice)
    .map_err(|e| ApiError::internal(&e))
}

fn mac(key: &[u8], form: &str, binding: &str, nonce: &str, issued: i64) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(format!("{form}\n{binding}\n{nonce}\n{issued}").as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// A token for one form on one page, and the binding cookie to set when the browser has none.
pub struct Issued {
    /// The hidden field's value.
    pub token: String,
    /// A new binding cookie, when the request carried none.
    pub cookie: Option<Cookie<'static>>,
}

/// Issues a token for `form` to the browser behind `req`.
pub async fn issue(app: &App, req: &HttpRequest, form: &str) -> Result<Issued, ApiError> {
    let key = key(app).await?;
    let (binding, cookie) = match req.cookie(BINDING_COOKIE) {
        Some(c) if c.value().len() == 32 => (c.value().to_string(), None),
        _ => {
            let binding = random_hex(16);
            let cookie = Cookie::build(BINDING_COOKIE, binding.clone())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(req.connection_info().scheme() == "https")
                .finish();
            (binding, Some(cookie))
        }
    };
    let nonce = random_hex(12);
    let issued = chrono::Utc::now().timestamp();
    let mac = mac(key, form, &binding, &nonce, issued);
    Ok(Issued {
        token: format!("{nonce}.{issued}.{mac}"),
        cookie,
    })
}

/// Checks a posted token for `form`; the nonce when it holds.
async fn verify(
    app: &App,
    req: &HttpRequest,
    form: &str,
    token: &str,
) -> Result<Result<String, TokenError>, ApiError> {
    if let Some(origin) = req.headers().get("Origin").and_then(|v| v.to_str().ok()) {
        let info = req.connection_info();
        let ours = format!("{}://{}", info.scheme(), info.host());
        // "null" comes from privacy-sensitive contexts (e.g. a file: page); treat as foreign.
        if origin != ours {
            return Ok(Err(TokenError::CrossSite));
        }
    }
    let key = key(app).await?;
    let Some(binding) = req.cookie(BINDING_COOKIE) else {
        return Ok(Err(TokenError::Invalid));
    };
    let mut parts = token.trim().splitn(3, '.');
    let (Some(nonce), Some(issued), Some(given)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(Err(TokenError::Invalid));
    };
    let Ok(issued) = issued.parse::<i64>() else {
        return Ok(Err(TokenError::Invalid));
    };
    // Constant-time comparison through the MAC's own verifier.
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(format!("{form}\n{}\n{nonce}\n{issued}", binding.value()).as_bytes());
    let Ok(given_bytes) = hex::decode(given) else {
        return Ok(Err(TokenError::Invalid));
    };
    if m.verify_slice(&given_bytes).is_err() {
        return Ok(Err(TokenError::Invalid));
    }
    let age = chrono::Utc::now().timestamp() - issued;
    if !(-300..=TOKEN_HOURS * 3600).contains(&age) {
        return Ok(Err(TokenError::Expired));
    }
    Ok(Ok(nonce.to_string()))
}

/// Reads a posted public form and checks its token: the form (kept whatever the token says, so
/// that the page can show it again) and the nonce or why the token was refused.
pub async fn take(
    app: &App,
    req: &HttpRequest,
    body: Multipart,
    form: &str,
) -> Result<(Posted, Result<String, ApiError>), ApiError> {
    let posted = read(body, PUBLIC_FORM).await?;
    let nonce = verify(app, req, form, posted.field("token"))
        .await?
        .map_err(TokenError::to_error);
    Ok((posted, nonce))
}

/// Limits of a posted form.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Largest text field, bytes (a long report of 100,000 characters fits).
    pub field: usize,
    /// Largest file kept, bytes (a phone photo is 2–8 MB).
    pub file: usize,
    /// Most file bytes kept in one post.
    pub files_total: usize,
    /// Most files in one post.
    pub files: usize,
}

/// The public forms' limits.
pub const PUBLIC_FORM: BodyLimits = BodyLimits {
    field: 400 * 1024,
    file: 10 * 1024 * 1024,
    files_total: 20 * 1024 * 1024,
    files: 10,
};

/// Beyond this the post is cut off with a 413 (a file over the limits is read and dropped up to
/// here, so that the reporter still gets the page back with their text).
const HARD_CAP: usize = 80 * 1024 * 1024;

/// A file as posted.
pub struct PostedFile {
    /// The name the browser gave.
    pub name: String,
    /// The type the browser declared.
    pub declared: String,
    /// The bytes kept (at most one byte over the per-file limit, so that the check sees it).
    pub data: Vec<u8>,
    /// The size as posted.
    pub size: usize,
}

/// A posted form: its text fields and its files.
#[derive(Default)]
pub struct Posted {
    fields: HashMap<String, String>,
    /// The files, in order.
    pub files: Vec<PostedFile>,
    /// Files beyond [`BodyLimits::files`], dropped.
    pub files_dropped: usize,
}

impl Posted {
    /// A text field, empty when absent.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// Reads a multipart form within the limits.
async fn read(mut body: Multipart, limits: BodyLimits) -> Result<Posted, ApiError> {
    let mut posted = Posted::default();
    let mut total = 0usize;
    while let Some(field) = body.next().await {
        let mut field = field.map_err(bad_body)?;
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let declared = field
            .content_type()
            .map(|m| m.essence_str().to_string())
            .unwrap_or_else(|| "application/octet-stream".into());
        let keep = if file_name.is_some() {
            limits.file + 1
        } else {
            limits.field
        };
        let mut data = Vec::new();
        let mut size = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad_body)?;
            size += chunk.len();
            total += chunk.len();
            if total > HARD_CAP {
                return Err(ApiError::too_large(HARD_CAP));
            }
            if data.len() < keep {
                let room = keep - data.len();
                data.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        match file_name {
            // An empty file input still sends a part, with no name and no bytes.
            Some(n) if n.is_empty() && size == 0 => {}
            Some(n) => {
                if posted.files.len() >= limits.files {
                    posted.files_dropped += 1;
                } else {
                    posted.files.push(PostedFile {
                        name: n,
                        declared,
                        data,
                        size,
                    });
                }
            }
            None => {
                if size > limits.field {
                    return Err(ApiError::too_large(limits.field));
                }
                posted
                    .fields
                    .insert(name, String::from_utf8_lossy(&data).into_owned());
            }
        }
    }
    Ok(posted)
}

fn bad_body(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_form",
        "表单内容读取失败，请重新提交",
        format!("cannot read the form: {e}"),
    )
}

/// The posted files checked by content (type from the first bytes, sizes), as the mail's are:
/// the files to store, or the reasons for refusing some (Chinese, one per refused file).
pub fn check_files(
    posted: &Posted,
    limits: BodyLimits,
) -> Result<Vec<crate::store::Attachment>, Vec<String>> {
    use crate::mail::parse::{check_attachment, Limits, Offered, FORM_ACCEPTS};
    let mail_limits = Limits {
        max_attachment: limits.file,
        max_total: limits.files_total,
    };
    let mut kept_total = 0;
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for (n, f) in posted.files.iter().enumerate() {
        let checked = check_attachment(
            &Offered {
                name: Some(&f.name),
                declared: &f.declared,
                data: &f.data,
                n,
            },
            &FORM_ACCEPTS,
            mail_limits,
            &mut kept_total,
        );
        match &checked.rejected {
            // Only the first bytes over the limit were kept: name the size as posted.
            Some(_) if f.size > limits.file => refused.push(format!(
                "{}：附件过大（{}），单个附件最多 {}",
                checked.file_name,
                super::size_text(f.size),
                super::size_text(limits.file)
            )),
            Some(why) => refused.push(format!("{}：{why}", checked.file_name)),
            None => kept.push(crate::store::Attachment::from(checked)),
        }
    }
    if posted.files_dropped > 0 {
        refused.push(format!(
            "一次最多上传 {} 个附件，多出的 {} 个未接收",
            limits.files, posted.files_dropped
        ));
    }
    if refused.is_empty() {
        Ok(kept)
    } else {
        Err(refused)
    }
}
