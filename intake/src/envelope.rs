//! The envelope: the one normalized shape of a report, whatever channel brought it.
//!
//! Wire shapes ([`EnvelopeWire`]) are loose and come straight from JSON; [`Envelope::parse`] turns
//! one into a typed [`Envelope`] or says which field is wrong.

use crate::domain::{Channel, SubjectKind};
use crate::normalize::{normalize_email, parse_phone, Phone};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

/// Longest accepted report text, in characters (a long e-mail with its quoted thread fits).
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Longest accepted external id, title, name or address, in characters.
pub const MAX_SHORT_CHARS: usize = 1_000;

/// The envelope as it arrives: every field optional and untyped, so that parsing can name
/// exactly what is wrong. Unknown fields (such as `expect` in labelled files) are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnvelopeWire {
    /// `hotline_12350`, `hotline_12345`, `web_form` or `email`.
    pub channel: Option<String>,
    /// The channel's own id: call id, 工单编号, form token, Message-ID.
    pub external_id: Option<serde_json::Value>,
    /// RFC 3339 time of arrival.
    pub received_at: Option<String>,
    /// Who reported (confidential).
    pub reporter: Option<ReporterWire>,
    /// Who is reported, when the channel says.
    pub subject: Option<SubjectWire>,
    /// Where it happened, free text.
    pub address: Option<String>,
    /// A short title, if the channel has one.
    pub title: Option<String>,
    /// The report itself.
    pub text: Option<String>,
    /// The channel's own deadline (12345 orders).
    pub deadline: Option<String>,
}

/// Reporter fields as they arrive.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReporterWire {
    /// Name as given.
    pub name: Option<String>,
    /// Phone as given.
    pub phone: Option<String>,
    /// E-mail as given.
    pub email: Option<String>,
    /// Resident ID number, if given.
    pub id_number: Option<String>,
    /// The reporter asked to stay anonymous.
    pub anonymous: Option<bool>,
}

/// Subject fields as they arrive.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SubjectWire {
    /// Name of the institution or unit.
    pub name: Option<String>,
    /// A subject-kind code.
    pub kind: Option<String>,
    /// Its address.
    pub address: Option<String>,
}

/// A report, parsed: every field typed, every string trimmed and within its limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The channel.
    pub channel: Channel,
    /// The channel's own id; with `channel`, the idempotency key.
    pub external_id: String,
    /// Time of arrival, with the offset it was given in.
    pub received_at: DateTime<FixedOffset>,
    /// Who reported; identity data, kept apart from the report.
    pub reporter: Reporter,
    /// The subject, when the channel names it.
    pub subject: Option<SubjectHint>,
    /// Where it happened, free text.
    pub address: Option<String>,
    /// A short title.
    pub title: Option<String>,
    /// The report text as received (for display); match on [`crate::normalize_text`] of it.
    pub text: String,
    /// The channel's own deadline.
    pub deadline: Option<DateTime<FixedOffset>>,
}

/// The reporter's identity (confidential: DOMAIN.md §1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    /// Name as given.
    pub name: Option<String>,
    /// Phone in canonical form (`13904125566`, `0412-5892213`) or masked as given.
    pub phone: Option<String>,
    /// E-mail, lower-cased.
    pub email: Option<String>,
    /// A checksum-valid resident ID number.
    pub id_number: Option<String>,
    /// The reporter asked to stay anonymous.
    pub anonymous: bool,
}

impl Reporter {
    /// True when nothing identifies the reporter.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.id_number.is_none()
    }
}

/// The subject as a channel named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectHint {
    /// Name, if given.
    pub name: Option<String>,
    /// Kind, if given.
    pub kind: Option<SubjectKind>,
    /// Address, if given.
    pub address: Option<String>,
}

/// Why an envelope was refused. Every variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The body is not the expected JSON.
    #[error("the body is not a valid envelope: {0}")]
    Malformed(String),
    /// A required field is absent or empty.
    #[error("field `{0}` is required")]
    Missing(&'static str),
    /// The channel is none of the known ones.
    #[error("field `channel`: unknown channel {0:?}")]
    UnknownChannel(String),
    /// A timestamp that is not RFC 3339.
    #[error(
        "field `{field}`: {value:?} is not a timestamp (RFC 3339, e.g. 2024-05-06T09:12:00+08:00)"
    )]
    BadTimestamp {
        /// The field.
        field: &'static str,
        /// What was given (shortened).
        value: String,
    },
    /// A field longer than its limit.
    #[error("field `{field}` is too long: {chars} characters, at most {max}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A field whose value is not acceptable.
    #[error("field `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl EnvelopeError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::Malformed(_) => "malformed_envelope",
            EnvelopeError::Missing(_) => "missing_field",
            EnvelopeError::UnknownChannel(_) => "unknown_channel",
            EnvelopeError::BadTimestamp { .. } => "bad_timestamp",
            EnvelopeError::TooLong { .. } => "field_too_long",
            EnvelopeError::Invalid { .. } => "invalid_field",
        }
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            EnvelopeError::Malformed(e) => format!("举报内容格式不正确：{e}"),
            EnvelopeError::Missing(f) => format!("缺少必填字段“{f}”"),
            EnvelopeError::UnknownChannel(c) => format!("字段“channel”：未知的渠道“{c}”"),
            EnvelopeError::BadTimestamp { field, value } => {
                format!("字段“{field}”：“{value}”不是有效时间（应为 RFC 3339 格式，如 2024-05-06T09:12:00+08:00）")
            }
            EnvelopeError::TooLong { field, chars, max } => {
                format!("字段“{field}”过长：{chars} 个字符，最多 {max} 个")
            }
            EnvelopeError::Invalid { field, reason } => format!("字段“{field}”无效：{reason}"),
        }
    }
}

/// Parses a timestamp: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` read as Beijing time (as 12345
/// platforms and spreadsheets write it).
pub fn parse_timestamp(
    field: &'static str,
    raw: &str,
) -> Result<DateTime<FixedOffset>, EnvelopeError> {
    let s = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    let beijing = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, format) {
            if let Some(t) = beijing.from_local_datetime(&naive).single() {
                return Ok(t);
            }
        }
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let naive = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(beijing
            .from_local_datetime(&naive)
            .single()
            .expect("fixed offset"));
    }
    Err(EnvelopeError::BadTimestamp {
        field,
        value: s.chars().take(60).collect(),
    })
}

fn limited(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, EnvelopeError> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let chars = v.chars().count();
    if chars > max {
        return Err(EnvelopeError::TooLong { field, chars, max });
    }
    Ok(Some(v.to_string()))
}

impl Envelope {
    /// Parses an envelope from JSON text.
    pub fn from_json(json: &str) -> Result<Envelope, EnvelopeError> {
        let wire: EnvelopeWire =
            serde_json::from_str(json).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        Envelope::parse(wire)
    }

    /// Parses the loose wire shape into a typed envelope.
    pub fn parse(wire: EnvelopeWire) -> Result<Envelope, EnvelopeError> {
        let channel_raw =
            limited("channel", wire.channel, 64)?.ok_or(EnvelopeError::Missing("channel"))?;
        let channel = channel_raw
            .parse()
            .map_err(|_| EnvelopeError::UnknownChannel(channel_raw.clone()))?;
        let external_id = match wire.external_id {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                return Err(EnvelopeError::Invalid {
                    field: "external_id",
                    reason: "must be a string".into(),
                })
            }
        };
        let external_id = limited("external_id", external_id, MAX_SHORT_CHARS)?
            .ok_or(EnvelopeError::Missing("external_id"))?;
        let received_raw = limited("received_at", wire.received_at, 64)?
            .ok_or(EnvelopeError::Missing("received_at"))?;
        let received_at = parse_timestamp("received_at", &received_raw)?;
        let text =
            limited("text", wire.text, MAX_TEXT_CHARS)?.ok_or(EnvelopeError::Missing("text"))?;
        let deadline = match limited("deadline", wire.deadline, 64)? {
            Some(d) => Some(parse_timestamp("deadline", &d)?),
            None => None,
        };
        let reporter = match wire.reporter {
            None => Reporter::default(),
            Some(r) => parse_reporter(r)?,
        };
        let subject = match wire.subject {
            None => None,
            Some(s) => {
                let kind = match limited("subject.kind", s.kind, 64)? {
                    None => None,
                    Some(k) => Some(k.parse().map_err(|_| EnvelopeError::Invalid {
                        field: "subject.kind",
                        reason: format!("unknown subject kind {k:?}"),
                    })?),
                };
                let hint = SubjectHint {
                    name: limited("subject.name", s.name, MAX_SHORT_CHARS)?,
                    kind,
                    address: limited("subject.address", s.address, MAX_SHORT_CHARS)?,
                };
                (hint.name.is_some() || hint.kind.is_some() || hint.address.is_some())
                    .then_some(hint)
            }
        };
        Ok(Envelope {
            channel,
            external_id,
            received_at,
            reporter,
            subject,
            address: limited("address", wire.address, MAX_SHORT_CHARS)?,
            title: limited("title", wire.title, MAX_SHORT_CHARS)?,
            text,
            deadline,
        })
    }

    /// Title and text together, as one string for matching.
    pub fn full_text(&self) -> std::borrow::Cow<'_, str> {
        match &self.title {
            Some(t) => format!("{t}\n{}", self.text).into(),
            // No title: the text itself, not a copy.
            None => self.text.as_str().into(),
        }
    }
}

fn parse_reporter(r: ReporterWire) -> Result<Reporter, EnvelopeError> {
    let phone = match limited("reporter.phone", r.phone, 64)? {
        None => None,
        // A phone that cannot be read is kept as given: an operator's note is still evidence.
        Some(p) => Some(parse_phone(&p).map(|p| p.canonical()).unwrap_or(p)),
    };
    let email = match limited("reporter.email", r.email, 320)? {
        None => None,
        Some(e) => Some(normalize_email(&e).ok_or_else(|| EnvelopeError::Invalid {
            field: "reporter.email",
            reason: "not an e-mail address".into(),
        })?),
    };
    let id_number = match limited("reporter.id_number", r.id_number, 64)? {
        None => None,
        Some(id) => {
            let id = id.to_ascii_uppercase();
            if !crate::normalize::is_resident_id(&id) {
                return Err(EnvelopeError::Invalid {
                    field: "reporter.id_number",
                    reason: "not a valid resident ID number (check digit)".into(),
                });
            }
            Some(id)
        }
    };
    Ok(Reporter {
        name: limited("reporter.name", r.name, 200)?,
        phone,
        email,
        id_number,
        anonymous: r.anonymous.unwrap_or(false),
    })
}

/// The phone of a reporter, parsed, when it is a real number (not masked).
pub fn reporter_phone(reporter: &Reporter) -> Option<Phone> {
    reporter
        .phone
        .as_deref()
        .and_then(parse_phone)
        .filter(|p| !matches!(p, Phone::Masked(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"channel":"web_form","external_id":"wf-1","received_at":"2024-05-06T09:12:00+08:00",
        "reporter":{"name":"张三","phone":"+86 139 0412 5566","email":"Zhang@Example.com"},
        "subject":{"name":"恒安培训学校","kind":"training_institution"},"text":" 包过班 ","expect":{"x":1}}"#;

    #[test]
    fn a_good_envelope_parses_and_normalizes_identity() {
        let e = Envelope::from_json(GOOD).unwrap();
        assert_eq!(e.channel, Channel::WebForm);
        assert_eq!(e.text, "包过班");
        assert_eq!(e.reporter.phone.as_deref(), Some("13904125566"));
        assert_eq!(e.reporter.email.as_deref(), Some("zhang@example.com"));
        assert_eq!(
            e.subject.unwrap().kind,
            Some(SubjectKind::TrainingInstitution)
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = |json: &str| Envelope::from_json(json).unwrap_err();
        assert_eq!(
            bad(r#"{"channel":"web_form"}"#),
            EnvelopeError::Missing("external_id")
        );
        assert_eq!(
            bad(
                r#"{"channel":"fax","external_id":"1","received_at":"2024-05-06T09:12:00+08:00","text":"x"}"#
            ),
            EnvelopeError::UnknownChannel("fax".into())
        );
        assert!(matches!(
            bad(r#"{"channel":"email","external_id":"1","received_at":"yesterday","text":"x"}"#),
            EnvelopeError::BadTimestamp {
                field: "received_at",
                ..
            }
        ));
        assert_eq!(
            bad(
                r#"{"channel":"email","external_id":"1","received_at":"2024-05-06T09:12:00+08:00","text":"  "}"#
            ),
            EnvelopeError::Missing("text")
        );
        let long = "长".repeat(MAX_TEXT_CHARS + 1);
        let json = format!(
            r#"{{"channel":"email","external_id":"1","received_at":"2024-05-06T09:12:00+08:00","text":"{long}"}}"#
        );
        assert!(matches!(
            bad(&json),
            EnvelopeError::TooLong { field: "text", .. }
        ));
        assert!(matches!(bad("[1,2]"), EnvelopeError::Malformed(_)));
    }

    #[test]
    fn beijing_local_times_are_accepted() {
        let t = parse_timestamp("received_at", "2024-05-06 10:00:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-06T10:00:00+08:00");
    }
}
