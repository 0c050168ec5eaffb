//! One raw mail (RFC 5322 bytes) into an envelope and its attachments.
//!
//! The MIME work — charsets (GB2312, GBK, GB18030, Big5, UTF-8 …), RFC 2047 encoded words, RFC
//! 2231 file names, quoted-printable and base64 — is mail-parser's. This file decides what a
//! report is: which text is the reporter's own, what was forwarded or quoted, which attachments
//! are kept. It depends on no other module of tipline, so that the benchmark can compile it alone.

use intake::{EnvelopeWire, ReporterWire};
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use regex::Regex;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The line that separates the author's own text from what was forwarded or quoted.
pub const QUOTED_MARKER: &str = "—— 转发/引用内容 ——";

/// Largest raw mail accepted at all (bigger ones are poison).
pub const MAX_RAW_BYTES: usize = 100 * 1024 * 1024;

/// Size limits of attachments.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single attachment kept, bytes.
    pub max_attachment: usize,
    /// Most attachment bytes kept per mail.
    pub max_total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attachment: 20 * 1024 * 1024,
            max_total: 50 * 1024 * 1024,
        }
    }
}

/// An attachment as found in the mail.
#[derive(Debug, Clone)]
pub struct MailAttachment {
    /// File name, decoded (RFC 2047/2231); a made-up one when the mail gives none.
    pub file_name: String,
    /// Content type, lower case (`image/jpeg`).
    pub content_type: String,
    /// Size in bytes (decoded).
    pub size: usize,
    /// SHA-256 of the decoded bytes, hex.
    pub sha256: String,
    /// The bytes; `None` when the attachment was refused.
    pub data: Option<Vec<u8>>,
    /// Why it was refused (Chinese, for the case officer).
    pub rejected: Option<String>,
}

/// A mail made ready for intake.
#[derive(Debug, Clone)]
pub struct ParsedMail {
    /// The envelope (channel `email`).
    pub wire: EnvelopeWire,
    /// The Message-ID with angle brackets, or `sha256:…` of the raw bytes when there is none.
    pub external_id: String,
    /// A short hash of the external id: what logs may show.
    pub log_id: String,
    /// Attachments, kept and refused.
    pub attachments: Vec<MailAttachment>,
}

/// Why a mail is poison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// Nothing a mail parser recognises.
    NotAMail(&'static str),
    /// Larger than [`MAX_RAW_BYTES`].
    TooLarge(usize),
    /// A mail, but nothing in it to report: no subject, no text, no attachment.
    Empty,
    /// An automatic message (`Auto-Submitted`, RFC 3834): an out-of-office answer, a bounce, or
    /// our own receipt coming back. Taking it as a report could make mail loop.
    AutoSubmitted(String),
}

impl MailError {
    /// The reason stored with the rejected mail (Chinese, then English).
    pub fn reason(&self) -> String {
        match self {
            MailError::NotAMail(why) => format!("邮件无法解析：{why}（not a mail）"),
            MailError::TooLarge(n) => {
                format!("邮件过大：{n} 字节，最多 {MAX_RAW_BYTES} 字节（too large: {n} bytes)")
            }
            MailError::Empty => "邮件没有主题、正文或附件（empty mail）".to_string(),
            MailError::AutoSubmitted(kind) => {
                format!(
                    "自动发送的邮件（Auto-Submitted: {kind}），不作为举报受理（automatic message）"
                )
            }
        }
    }
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason())
    }
}

impl std::error::Error for MailError {}

/// A short, stable hash for logs (never the address or the Message-ID itself).
pub fn log_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..6])
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Parses one mail with the default limits; `now` is used when the mail has no usable Date.
pub fn parse_mail(raw: &[u8]) -> Result<ParsedMail, MailError> {
    parse_mail_with(raw, Limits::default(), chrono::Utc::now())
}

/// Parses one mail.
pub fn parse_mail_with(
    raw: &[u8],
    limits: Limits,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ParsedMail, MailError> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(MailError::TooLarge(raw.len()));
    }
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(MailError::NotAMail("内容为空"));
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::NotAMail("无法识别的邮件格式"))?;
    let has_header = message.from().is_some()
        || message.date().is_some()
        || message.message_id().is_some()
        || message.subject().is_some()
        || message.header("Sender").is_some()
        || message.header("Received").is_some();
    if !has_header {
        return Err(MailError::NotAMail(
            "没有发件人、日期、主题或邮件编号等邮件头",
        ));
    }
    if let Some(kind) = message.header("Auto-Submitted").and_then(|h| h.as_text()) {
        let kind = kind.trim().to_ascii_lowercase();
        if !kind.is_empty() && kind != "no" {
            return Err(MailError::AutoSubmitted(kind.chars().take(40).collect()));
        }
    }

    let external_id = match message.message_id().map(str::trim) {
        Some(id) if !id.is_empty() && id.chars().count() <= 900 && !id.contains(['<', '>']) => {
            format!("<{id}>")
        }
        _ => format!("sha256:{}", sha256_hex(raw)),
    };
    let log_id = log_hash(&external_id);

    let received_at = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(&d.to_rfc3339()).ok())
        .map(|d| d.to_rfc3339())
        .unwrap_or_else(|| {
            now.with_timezone(&beijing())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        });

    let title = message
        .subject()
        .map(clean_subject)
        .filter(|s| !s.is_empty())
        .map(|s| truncate_chars(&s, 500));

    let mut reporter = message
        .from()
        .and_then(|a| a.first())
        .map(|addr| ReporterWire {
            name: addr
                .name()
                .map(|n| n.trim().trim_matches('"').trim().to_string())
                .filter(|n| !n.is_empty() && !n.contains('@'))
                .map(|n| truncate_chars(&n, 200)),
            email: addr
                .address()
                .and_then(intake::normalize_email)
                .filter(|e| e.chars().count() <= 320),
            ..Default::default()
        });

    // The body: every inline text part, HTML turned to text.
    let mut body = String::new();
    for part in message.text_bodies() {
        let piece = match &part.body {
            PartType::Text(t) => t.to_string(),
            PartType::Html(h) => html_to_text(h),
            _ => continue,
        };
        let piece = piece.trim_matches(['\r', '\n', ' ']);
        if !piece.is_empty() {
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            body.push_str(piece);
        }
    }
    let body = tidy(&body);

    // Attachments; a forwarded mail attached whole is forwarded content too.
    let mut attachments = Vec::new();
    let mut attached_mails = Vec::new();
    let mut kept_total = 0usize;
    for (n, part) in message.attachments().enumerate() {
        if let PartType::Message(inner) = &part.body {
            if let Some(text) = nested_text(inner) {
                attached_mails.push(text);
            }
        }
        attachments.push(attachment(part, n, limits, &mut kept_total));
    }

    let (own, mut quoted, forwarded_from) = split_quoted(&body);
    for text in attached_mails {
        if !quoted.is_empty() {
            quoted.push_str("\n\n");
        }
        quoted.push_str(&text);
    }
    let own_is_trivial = own.chars().filter(|c| c.is_alphanumeric()).count() < 6;
    let text = if quoted.is_empty() {
        own
    } else if own_is_trivial {
        // A forward of someone else's report: the forwarded content is the report, and its
        // author (when the forward names one) is the reporter.
        if let Some(original) = forwarded_from {
            reporter = Some(original);
        }
        quoted
    } else {
        format!("{own}\n\n{QUOTED_MARKER}\n{quoted}")
    };
    let text = if text.trim().is_empty() {
        match (&title, attachments.is_empty()) {
            (Some(t), _) => t.clone(),
            (None, false) => "（邮件无正文，见附件）".to_string(),
            (None, true) => return Err(MailError::Empty),
        }
    } else {
        limit_text(&text)
    };

    Ok(ParsedMail {
        wire: EnvelopeWire {
            channel: Some("email".into()),
            external_id: Some(serde_json::Value::String(external_id.clone())),
            received_at: Some(received_at),
            reporter: reporter.filter(|r| r.name.is_some() || r.email.is_some()),
            subject: None,
            address: None,
            title,
            text: Some(text),
            deadline: None,
        },
        external_id,
        log_id,
        attachments,
    })
}

fn beijing() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The text of a mail forwarded as an attachment (message/rfc822), with its subject.
fn nested_text(inner: &Message<'_>) -> Option<String> {
    let mut text = String::new();
    if let Some(s) = inner.subject() {
        text.push_str(&format!("主题：{}\n", clean_subject(s)));
    }
    for part in inner.text_bodies() {
        match &part.body {
            PartType::Text(t) => text.push_str(t),
            PartType::Html(h) => text.push_str(&html_to_text(h)),
            _ => {}
        }
        text.push('\n');
    }
    let text = tidy(&text);
    (!text.is_empty()).then_some(text)
}

/// Subject without reply/forward prefixes and with folded whitespace.
fn clean_subject(s: &str) -> String {
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^\s*(re|fw|fwd|aw|wg|sv|回复|答复|回覆|转发|轉寄|转寄)\s*(\[\d+\])?\s*[:：]\s*",
        )
        .expect("valid regex")
    });
    let mut s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    while let Some(m) = PREFIX.find(&s) {
        s = s[m.end()..].to_string();
    }
    s.trim().to_string()
}

/// HTML to text: block ends become line breaks, then mail-parser's converter.
pub fn html_to_text(html: &str) -> String {
    static BLOCK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(</(div|li|tr|h[1-6]|blockquote|table|pre|ul|ol|center)\s*>|<(hr|blockquote)\b[^>]*>)")
            .expect("valid regex")
    });
    let html = BLOCK.replace_all(html, "$1<br>");
    let text = mail_parser::decoders::html::html_to_text(&html);
    text.replace('\u{a0}', " ")
}

/// Line ends normalized, trailing spaces and runs of blank lines removed.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(
            [-=_—─]{2,}\s*(原始邮件|原始郵件|转发邮件信息|轉寄郵件資訊|转发的邮件|邮件原文|forwarded\s+message|original\s+message|原邮件)\s*[-=_—─]{2,}
          | begin\s+forwarded\s+message\s*:?
          | _{10,}
          | (在|于).{4,80}(写道|寫道)\s*[:：]?
          | on\s.{4,200}\swrote\s*:
        )\s*$",
    )
    .expect("valid regex")
});

static HEADER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(发件人|寄件者|寄件人|收件人|抄送|密送|发送时间|发送日期|日期|时间|主题|主旨|from|to|cc|bcc|sent|date|subject|reply-to)\s*[:：]")
        .expect("valid regex")
});

static FROM_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(发件人|寄件者|寄件人|from)\s*[:：]\s*(.*)$").expect("valid regex")
});

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}").expect("valid regex")
});

/// Splits a body into the author's own text and the forwarded or quoted part. The quoted part
/// loses its `>` marks and the address lines of forwarded headers (identity stays out of the
/// text); the forwarded author, when named, is returned apart.
fn split_quoted(body: &str) -> (String, String, Option<ReporterWire>) {
    let lines: Vec<&str> = body.lines().collect();
    let mut start = None;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if SEPARATOR.is_match(t) || t.starts_with('>') {
            start = Some(i);
            break;
        }
        // An Outlook-style header block without a separator: 发件人: … then 发送时间/Sent/Date.
        if FROM_LINE.is_match(t)
            && lines[i + 1..]
                .iter()
                .take(4)
                .any(|l| HEADER_LINE.is_match(l) && !FROM_LINE.is_match(l))
        {
            start = Some(i);
            break;
        }
    }
    let Some(start) = start else {
        return (body.trim().to_string(), String::new(), None);
    };
    let own = tidy(&lines[..start].join("\n"));
    let mut quoted = Vec::new();
    let mut author = None;
    let mut in_header = true;
    for line in &lines[start..] {
        let unquoted = strip_quote_marks(line);
        let t = unquoted.trim();
        if SEPARATOR.is_match(t) {
            in_header = true;
            continue;
        }
        if in_header && HEADER_LINE.is_match(t) {
            if let Some(c) = FROM_LINE.captures(t) {
                if author.is_none() {
                    author = forwarded_author(c.get(2).map_or("", |m| m.as_str()));
                }
                continue;
            }
            let lower = t.to_lowercase();
            let is_address_line = ["收件人", "抄送", "密送", "to", "cc", "bcc", "reply-to"]
                .iter()
                .any(|k| lower.starts_with(k));
            if is_address_line {
                continue;
            }
            quoted.push(t.to_string());
            continue;
        }
        if !t.is_empty() {
            in_header = false;
        }
        quoted.push(unquoted.trim_end().to_string());
    }
    (own, tidy(&quoted.join("\n")), author)
}

fn strip_quote_marks(line: &str) -> &str {
    let mut s = line.trim_start();
    while let Some(rest) = s.strip_prefix('>') {
        s = rest.strip_prefix(' ').unwrap_or(rest);
    }
    s
}

/// `"李某" <li@example.net>`, `李某<li@example.net>`, `li@example.net` → reporter.
fn forwarded_author(value: &str) -> Option<ReporterWire> {
    let email = ADDRESS
        .find(value)
        .and_then(|m| intake::normalize_email(m.as_str()));
    let name = value
        .split(['<', '['])
        .next()
        .map(|n| n.trim().trim_matches(['"', '\'', ' ']).trim().to_string())
        .filter(|n| !n.is_empty() && !n.contains('@') && n.chars().count() <= 100);
    (email.is_some() || name.is_some()).then(|| ReporterWire {
        name,
        email,
        ..Default::default()
    })
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Keeps the text within the envelope's limit; the raw mail keeps everything.
fn limit_text(text: &str) -> String {
    const NOTE: &str = "\n……（以下内容过长，已截断；完整内容见原始邮件）";
    let max = intake::MAX_TEXT_CHARS - NOTE.chars().count();
    if text.chars().count() <= intake::MAX_TEXT_CHARS {
        return text.to_string();
    }
    let mut out = truncate_chars(text, max);
    out.push_str(NOTE);
    out
}

/// File extensions kept, with the content type they must be and the magic bytes they may have.
const ALLOWED: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("bmp", "image/bmp"),
    ("webp", "image/webp"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("heic", "image/heic"),
    ("pdf", "application/pdf"),
    ("ofd", "application/ofd"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("wps", "application/vnd.ms-works"),
    ("et", "application/vnd.ms-excel"),
    ("dps", "application/vnd.ms-powerpoint"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("rtf", "application/rtf"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("eml", "message/rfc822"),
    ("zip", "application/zip"),
];

/// What the bytes are, from their first bytes, when that can be told.
fn sniff(data: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| data.starts_with(m);
    Some(if starts(b"\xFF\xD8\xFF") {
        "jpeg"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "gif"
    } else if starts(b"%PDF-") {
        "pdf"
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        "zip"
    } else if starts(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        "ole"
    } else if starts(b"BM") && data.len() > 14 {
        "bmp"
    } else if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        "webp"
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        "tiff"
    } else if starts(b"MZ") || starts(b"\x7fELF") || starts(b"#!") {
        "executable"
    } else {
        return None;
    })
}

/// Whether sniffed bytes agree with an allowed extension.
fn sniff_agrees(ext: &str, sniffed: Option<&str>) -> bool {
    match (ext, sniffed) {
        (_, Some("executable")) => false,
        ("jpg" | "jpeg", s) => s == Some("jpeg"),
        ("png", s) => s == Some("png"),
        ("gif", s) => s == Some("gif"),
        ("pdf", s) => s == Some("pdf"),
        ("bmp", s) => s == Some("bmp"),
        ("webp", s) => s == Some("webp"),
        ("tif" | "tiff", s) => s == Some("tiff"),
        ("docx" | "xlsx" | "pptx" | "odt" | "ods" | "ofd" | "zip", s) => s == Some("zip"),
        ("doc" | "xls" | "ppt" | "wps" | "et" | "dps", s) => s == Some("ole") || s.is_none(),
        // Text-like and rarer formats: nothing to check beyond not being a program.
        _ => true,
    }
}

fn attachment(
    part: &mail_parser::MessagePart<'_>,
    n: usize,
    limits: Limits,
    kept_total: &mut usize,
) -> MailAttachment {
    let declared = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| {
            if part.is_message() {
                "message/rfc822".into()
            } else {
                "application/octet-stream".into()
            }
        });
    let offered = Offered {
        name: part.attachment_name(),
        declared: &declared,
        data: part.contents(),
        n,
    };
    check_attachment(&offered, &MAIL_ACCEPTS, limits, kept_total)
}

/// Unicode bidirectional embedding, override and isolate marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A file as offered by a mail or a web form, before it is checked.
pub struct Offered<'a> {
    /// The name as given (any path is dropped).
    pub name: Option<&'a str>,
    /// The content type as declared by the sender.
    pub declared: &'a str,
    /// The bytes.
    pub data: &'a [u8],
    /// Its position, for a made-up name when none is given.
    pub n: usize,
}

/// What a channel accepts as attachments.
pub struct Accepted {
    /// Extensions taken, of [`ALLOWED`]; `None` for all of them.
    pub only: Option<&'static [&'static str]>,
    /// The list in words, for the reason of a refusal.
    pub described: &'static str,
    /// Record the listed content type instead of the declared one (a browser's guess is not evidence).
    pub listed_type: bool,
}

/// Mail: documents as officials and citizens send them.
pub const MAIL_ACCEPTS: Accepted = Accepted {
    only: None,
    described: "仅接收图片、PDF、Office 文档、文本和压缩包",
    listed_type: false,
};

/// The public web form: photos and scans (images and PDF), each checked against its first bytes.
pub const FORM_ACCEPTS: Accepted = Accepted {
    only: Some(&["jpg", "jpeg", "png", "gif", "bmp", "webp", "pdf"]),
    described: "仅接收图片（JPG、PNG、GIF、BMP、WebP）和 PDF",
    listed_type: true,
};

impl Accepted {
    fn types(&self) -> impl Iterator<Item = &'static (&'static str, &'static str)> + '_ {
        ALLOWED
            .iter()
            .filter(|(e, _)| self.only.is_none_or(|only| only.contains(e)))
    }
}

/// Checks an offered file against an allow-list of (extension, content type), its bytes and the
/// size limits: kept, or refused with the reason (Chinese, shown to the officer or the sender).
pub fn check_attachment(
    offered: &Offered<'_>,
    accepted: &Accepted,
    limits: Limits,
    kept_total: &mut usize,
) -> MailAttachment {
    let data = offered.data;
    let declared = offered.declared.to_ascii_lowercase();
    let name = offered
        .name
        .map(|n| {
            // Keep the base name only; no path, no control characters.
            let base = n.rsplit(['/', '\\']).next().unwrap_or(n);
            // Bidirectional overrides could show `gpj.exe` as `exe.jpg`: dropped with the controls.
            base.chars()
                .filter(|c| !c.is_control() && !is_bidi_control(*c))
                .collect::<String>()
                .trim()
                .to_string()
        })
        .filter(|n| !n.is_empty())
        .map(|n| truncate_chars(&n, 200));
    let ext_from_name = name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let ext = ext_from_name.clone().or_else(|| {
        accepted
            .types()
            .find(|(_, ct)| *ct == declared)
            .map(|(e, _)| e.to_string())
    });
    let file_name = name.unwrap_or_else(|| {
        format!(
            "attachment-{}.{}",
            offered.n + 1,
            ext.clone().unwrap_or_else(|| "bin".into())
        )
    });
    let allowed = ext
        .as_deref()
        .and_then(|e| accepted.types().find(|(a, _)| *a == e));
    let content_type = match allowed {
        // The type we checked the bytes against, not whatever the sender declared.
        Some((_, ct)) if declared == "application/octet-stream" || accepted.listed_type => {
            ct.to_string()
        }
        _ => declared,
    };
    let size = data.len();
    let sha256 = sha256_hex(data);
    let rejected = match allowed {
        None => Some(format!(
            "附件类型不允许（{}）：{}",
            ext.as_deref().unwrap_or(&content_type),
            accepted.described
        )),
        Some((e, _)) if !sniff_agrees(e, sniff(data)) => {
            Some(format!("附件内容与类型不符（扩展名 .{e}）"))
        }
        Some(_) if size > limits.max_attachment => Some(format!(
            "附件过大：{size} 字节，单个附件最多 {} 字节",
            limits.max_attachment
        )),
        Some(_) if *kept_total + size > limits.max_total => {
            Some(format!("附件总量超限：合计最多 {} 字节", limits.max_total))
        }
        Some(_) => None,
    };
    if rejected.is_none() {
        *kept_total += size;
    }
    MailAttachment {
        file_name,
        content_type,
        size,
        sha256,
        data: rejected.is_none().then(|| data.to_vec()),
        rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2024-05-06T09:00:00+08:00")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    fn parse(raw: &[u8]) -> Result<ParsedMail, MailError> {
        parse_mail_with(raw, Limits::default(), now())
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mail")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn text(p: &ParsedMail) -> &str {
        p.wire.text.as_deref().unwrap()
    }

    #[test]
    fn the_web_form_takes_photos_and_pdf_checked_by_content() {
        let check = |name: &str, declared: &str, data: &[u8], accepted: &Accepted| {
            let offered = Offered {
                name: Some(name),
                declared,
                data,
                n: 0,
            };
            check_attachment(&offered, accepted, Limits::default(), &mut 0)
        };
        let png = b"\x89PNG\r\n\x1a\n rest of a picture";
        let kept = check("现场.PNG", "application/octet-stream", png, &FORM_ACCEPTS);
        assert!(kept.rejected.is_none());
        assert_eq!(kept.content_type, "image/png");
        // The browser's declared type is not evidence: the listed type is recorded.
        let kept = check("a.png", "text/html", png, &FORM_ACCEPTS);
        assert_eq!(kept.content_type, "image/png");
        // A program named like a photo, its name turned round by an override mark.
        let fake = check(
            "发票\u{202E}gpj.exe",
            "image/jpeg",
            b"MZ\x90\x00",
            &FORM_ACCEPTS,
        );
        assert_eq!(fake.file_name, "发票gpj.exe");
        assert!(fake.rejected.is_some());
        let fake = check("photo.jpg", "image/jpeg", b"MZ\x90\x00", &FORM_ACCEPTS);
        assert!(fake.rejected.unwrap().contains("不符"));
        // Office documents come by mail, not through the public form.
        let docx = check("a.docx", "application/zip", b"PK\x03\x04", &FORM_ACCEPTS);
        assert!(docx.rejected.unwrap().contains("PDF"));
        assert!(
            check("a.docx", "application/zip", b"PK\x03\x04", &MAIL_ACCEPTS)
                .rejected
                .is_none()
        );
    }

    #[test]
    fn automatic_messages_are_not_reports() {
        let auto = b"From: a@example.cn\r\nMessage-ID: <r@x>\r\nSubject: =?UTF-8?B?5Zue5omn?=\r\nAuto-Submitted: auto-generated\r\n\r\nbody\r\n";
        assert!(matches!(parse(auto), Err(MailError::AutoSubmitted(k)) if k == "auto-generated"));
        let human = b"From: a@example.cn\r\nMessage-ID: <h@x>\r\nSubject: report\r\nAuto-Submitted: no\r\n\r\nbody\r\n";
        assert!(parse(human).is_ok());
    }

    #[test]
    fn gbk_body_and_encoded_word_subject() {
        let p = parse(&fixture("gbk.eml")).unwrap();
        assert_eq!(p.external_id, "<gbk-001@mail.example.net>");
        assert_eq!(p.wire.title.as_deref(), Some("举报鞍山市某培训学校包过班"));
        assert!(text(&p).contains("交钱就能拿证"), "{}", text(&p));
        assert_eq!(
            p.wire.received_at.as_deref(),
            Some("2024-05-06T09:12:00+08:00")
        );
        let r = p.wire.reporter.as_ref().unwrap();
        assert_eq!(r.name.as_deref(), Some("王某"));
        assert_eq!(r.email.as_deref(), Some("wang@example.net"));
    }

    #[test]
    fn big5_and_gb18030_and_gb2312() {
        let p = parse(&fixture("big5.eml")).unwrap();
        assert!(text(&p).contains("考試作弊"), "{}", text(&p));
        let p = parse(&fixture("gb18030.eml")).unwrap();
        assert!(text(&p).contains("焊工证"), "{}", text(&p));
        let p = parse(&fixture("gb2312-qp.eml")).unwrap();
        assert!(text(&p).contains("无证上岗"), "{}", text(&p));
    }

    #[test]
    fn utf8_quoted_printable_and_html_only() {
        let p = parse(&fixture("utf8-qp.eml")).unwrap();
        assert!(text(&p).contains("代考"), "{}", text(&p));
        let p = parse(&fixture("html-only.eml")).unwrap();
        let t = text(&p);
        assert!(t.contains("考点监考形同虚设"), "{t}");
        assert!(!t.contains("<div"), "{t}");
        assert!(!t.contains("color:"), "{t}");
        assert!(t.contains('\n'), "blocks become lines: {t}");
    }

    #[test]
    fn forward_without_own_text_is_the_report() {
        let p = parse(&fixture("forward.eml")).unwrap();
        let t = text(&p);
        assert!(
            t.starts_with("主题") || t.contains("某驾校安全员证培训"),
            "{t}"
        );
        assert!(!t.contains(QUOTED_MARKER), "{t}");
        assert!(!t.contains("@"), "no addresses in the text: {t}");
        let r = p.wire.reporter.as_ref().unwrap();
        assert_eq!(r.email.as_deref(), Some("citizen@example.org"));
    }

    #[test]
    fn reply_keeps_own_text_first() {
        let p = parse(&fixture("reply.eml")).unwrap();
        let t = text(&p);
        let own = t.find("补充情况").unwrap();
        let marker = t.find(QUOTED_MARKER).unwrap();
        let quoted = t.find("上次反映").unwrap();
        assert!(own < marker && marker < quoted, "{t}");
        assert!(!t.contains("> "), "{t}");
        assert_eq!(p.wire.title.as_deref(), Some("关于某安全培训机构的举报"));
    }

    #[test]
    fn attachments_decoded_checked_and_limited() {
        let p = parse(&fixture("attachments.eml")).unwrap();
        let names: Vec<&str> = p.attachments.iter().map(|a| a.file_name.as_str()).collect();
        assert!(names.contains(&"现场照片.jpg"), "{names:?}");
        assert!(names.contains(&"培训档案.pdf"), "{names:?}");
        let exe = p
            .attachments
            .iter()
            .find(|a| a.file_name.ends_with(".exe"))
            .unwrap();
        assert!(exe.rejected.is_some() && exe.data.is_none());
        let jpg = p
            .attachments
            .iter()
            .find(|a| a.file_name == "现场照片.jpg")
            .unwrap();
        assert!(jpg.rejected.is_none());
        assert_eq!(jpg.content_type, "image/jpeg");
        let small = Limits {
            max_attachment: 10,
            max_total: 10,
        };
        let p = parse_mail_with(&fixture("attachments.eml"), small, now()).unwrap();
        assert!(p.attachments.iter().all(|a| a.rejected.is_some()));
    }

    #[test]
    fn missing_message_id_and_date() {
        let raw = b"From: a@example.com\r\nSubject: test\r\n\r\nhello body\r\n";
        let p = parse(raw).unwrap();
        assert!(p.external_id.starts_with("sha256:"));
        assert_eq!(p.external_id, parse(raw).unwrap().external_id);
        assert_eq!(
            p.wire.received_at.as_deref(),
            Some("2024-05-06T09:00:00+08:00")
        );
    }

    #[test]
    fn poison_is_an_error_not_a_panic() {
        assert!(parse(&fixture("malformed.eml")).is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"\x00\x01\x02\xff\xfe").is_err());
        // Whatever the bytes, no panic.
        let mut seed = 7u64;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 56) as u8
                })
                .collect();
            let _ = parse(&bytes);
            let mut with_header = b"Subject: =?gbk?B?".to_vec();
            with_header.extend_from_slice(&bytes);
            let _ = parse(&with_header);
        }
    }
}
