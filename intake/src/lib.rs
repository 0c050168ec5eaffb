//! Intake: everything that turns a channel's message into a normalized, understood report.
//!
//! - [`Envelope`]: the one shape of a report ([`EnvelopeWire`] → [`Envelope::parse`]).
//! - [`normalize_text`], [`parse_phone`], [`normalize_email`], [`is_resident_id`], [`is_credit_code`]:
//!   the folded forms that matching uses, while the original text is kept for display.
//! - [`extract`]: the subject, its kind and the categories alleged (rules as data).
//! - [`dedup`]: duplicate detection over the history of reports.
//!
//! The crate does no I/O and knows nothing of HTTP or SQL: values in, values out.
#![deny(missing_docs)]

pub mod dedup;
mod domain;
mod envelope;
pub mod extract;
mod normalize;

pub use domain::{Category, Channel, ReferralKind, SubjectKind, UnknownCode};
pub use envelope::{
    parse_timestamp, reporter_phone, Envelope, EnvelopeError, EnvelopeWire, Reporter, ReporterWire,
    SubjectHint, SubjectWire, MAX_SHORT_CHARS, MAX_TEXT_CHARS,
};
pub use normalize::{
    find_identity_numbers, fold_width_and_space, is_credit_code, is_resident_id, normalize_email,
    normalize_text, parse_phone, to_simplified, IdentityNumbers, Phone,
};
