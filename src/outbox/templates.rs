//! The Chinese mail templates (plain text, UTF-8) and their rendering.
//!
//! Mail is plain text only, so nothing needs escaping: a value is inserted as it is, in one pass,
//! so that a value containing `{{…}}` is never expanded again. lettre chooses the transfer encoding
//! (base64 or quoted-printable) and declares `charset=utf-8`; the Subject is RFC 2047-encoded.

use super::{MailKind, Payload};

const RECEIPT: &str = include_str!("templates/receipt.txt");
const REFERRAL_LETTER: &str = include_str!("templates/referral_letter.txt");
const CASE_NOTICE: &str = include_str!("templates/case_notice.txt");
const MONTHLY_REPORT: &str = include_str!("templates/monthly_report.txt");
const DEADLINE_REMINDER: &str = include_str!("templates/deadline_reminder.txt");
const DEADLINE_ESCALATION: &str = include_str!("templates/deadline_escalation.txt");

/// A rendered mail: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The Subject header (unencoded).
    pub subject: String,
    /// The body (plain text).
    pub body: String,
}

/// Replaces every `{{name}}` of `template` by its value (unknown names by nothing), in one pass.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                if let Some((_, v)) = values.iter().find(|(k, _)| *k == name) {
                    out.push_str(v);
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn or_unknown(v: &Option<String>) -> &str {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("不详")
}

fn joined(list: &[String]) -> String {
    if list.is_empty() {
        "无".to_string()
    } else {
        list.join("；")
    }
}

/// The receiving side named in a referral letter.
fn referral_target(code: Option<&str>) -> &'static str {
    match code {
        Some("market_regulation") => "市场监督管理部门",
        Some("public_security") => "公安机关",
        _ => "相关部门",
    }
}

/// Renders one mail. `from_name` signs it; `sent_date` is the date line (e.g. `2024年5月6日`).
pub fn render(kind: MailKind, p: &Payload, from_name: &str, sent_date: &str) -> Rendered {
    let categories = joined(&p.categories);
    let referrals = joined(&p.referrals);
    let facts = p.facts.clone().unwrap_or_default();
    match kind {
        MailKind::MonthlyReport => Rendered {
            subject: format!(
                "安全生产培训“走过场”专项整治进展情况汇总表（{}，{}）",
                or_unknown(&p.jurisdiction_name),
                or_unknown(&p.month)
            ),
            body: fill(
                MONTHLY_REPORT,
                &[
                    ("leader", or_unknown(&p.to_name)),
                    ("jurisdiction_name", or_unknown(&p.jurisdiction_name)),
                    ("month", or_unknown(&p.month)),
                    ("from_name", from_name),
                    ("sent_date", sent_date),
                ],
            ),
        },
        MailKind::Receipt => Rendered {
            subject: format!("举报受理回执：案件编号 {}", p.case_no),
            body: fill(
                RECEIPT,
                &[
                    ("received_at", &p.received_at),
                    ("channel", &p.channel),
                    ("case_no", &p.case_no),
                    ("from_name", from_name),
                    ("sent_date", sent_date),
                ],
            ),
        },
        MailKind::ReferralLetter => {
            let target = referral_target(p.referral.as_deref());
            Rendered {
                subject: format!("移送函（{target}）：案件编号 {}", p.case_no),
                body: fill(
                    REFERRAL_LETTER,
                    &[
                        ("body", or_unknown(&p.body)),
                        ("case_no", &p.case_no),
                        ("target", target),
                        ("basis", or_unknown(&p.basis)),
                        ("subject_name", or_unknown(&p.subject_name)),
                        ("locus_name", or_unknown(&p.locus_name)),
                        ("categories", &categories),
                        ("received_at", &p.received_at),
                        ("facts", &facts),
                        ("from_name", from_name),
                        ("sent_date", sent_date),
                    ],
                ),
            }
        }
        MailKind::CaseNotice => Rendered {
            subject: format!(
                "新案件待签收：{} {}",
                p.case_no,
                p.subject_name.as_deref().unwrap_or("")
            )
            .trim_end()
            .to_string(),
            body: fill(
                CASE_NOTICE,
                &[
                    ("officer", or_unknown(&p.to_name)),
                    ("handling", or_unknown(&p.handling)),
                    ("case_no", &p.case_no),
                    ("subject_name", or_unknown(&p.subject_name)),
                    ("subject_kind", or_unknown(&p.subject_kind)),
                    ("locus_name", or_unknown(&p.locus_name)),
                    ("categories", &categories),
                    ("channel", &p.channel),
                    ("received_at", &p.received_at),
                    ("deadline", p.deadline.as_deref().unwrap_or("按规定期限")),
                    ("referrals", &referrals),
                    ("facts", &facts),
                    ("from_name", from_name),
                    ("sent_date", sent_date),
                ],
            ),
        },
        MailKind::DeadlineReminder | MailKind::Escalation => {
            let (subject, template) = if kind == MailKind::Escalation {
                ("超期督办", DEADLINE_ESCALATION)
            } else {
                ("办理期限提醒", DEADLINE_REMINDER)
            };
            let step = or_unknown(&p.step);
            Rendered {
                subject: format!("{subject}（{step}）：{}", p.case_no),
                body: fill(
                    template,
                    &[
                        ("officer", or_unknown(&p.to_name)),
                        ("handling", or_unknown(&p.handling)),
                        ("case_no", &p.case_no),
                        ("subject_name", or_unknown(&p.subject_name)),
                        ("locus_name", or_unknown(&p.locus_name)),
                        ("categories", &categories),
                        ("step", step),
                        ("deadline", or_unknown(&p.deadline)),
                        ("target", or_unknown(&p.target)),
                        ("from_name", from_name),
                        ("sent_date", sent_date),
                    ],
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_is_one_pass_and_tolerates_broken_markers() {
        assert_eq!(
            fill("a {{x}} b {{y}}", &[("x", "{{y}}"), ("y", "Y")]),
            "a {{y}} b Y"
        );
        assert_eq!(fill("a {{x", &[("x", "1")]), "a {{x");
        assert_eq!(fill("{{unknown}}!", &[]), "!");
    }

    #[test]
    fn every_kind_renders_its_case_number() {
        let p = Payload {
            to: "a@example.org".into(),
            case_no: "TL2024000001".into(),
            case_id: 1,
            referral: Some("public_security".into()),
            facts: Some("某培训学校组织替考。".into()),
            ..Payload::default()
        };
        // The monthly tables are about a month, not a case.
        for kind in MailKind::ALL
            .into_iter()
            .filter(|k| *k != MailKind::MonthlyReport)
        {
            let r = render(kind, &p, "某市应急管理局举报受理中心", "2024年5月6日");
            assert!(r.subject.contains("TL2024000001"), "{kind:?}");
            assert!(r.body.contains("TL2024000001"), "{kind:?}");
            assert!(!r.body.contains("{{"), "{kind:?}: {}", r.body);
        }
        let letter = render(MailKind::ReferralLetter, &p, "中心", "今日");
        assert!(letter.subject.contains("公安机关"));
        assert!(letter.body.contains("某培训学校组织替考"));
    }
}
