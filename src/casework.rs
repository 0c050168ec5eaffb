//! The case's state machine (DOMAIN.md §6): the steps an officer takes, which state each step
//! leaves from and arrives at, and what each step must carry. Pure: the store applies a step with
//! optimistic concurrency, the API maps refusals to 409.

use serde::{Deserialize, Serialize};

/// Case states, with their Chinese names.
pub const STATES: &[(&str, &str)] = &[
    ("received", "已受理"),
    ("routed", "已分派"),
    ("signed_for", "已签收"),
    ("sent_back", "已退回"),
    ("verifying", "核查中"),
    ("finding", "已认定"),
    ("actions", "已处理"),
    ("rectification", "整改中"),
    ("replied", "已反馈"),
    ("closed", "已办结"),
    ("merged", "已并案"),
    ("transferred", "已转办"),
];

/// The Chinese name of a state code.
pub fn state_label(code: &str) -> &str {
    STATES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| l)
}

/// A finding (核查结论).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Finding {
    /// 属实.
    #[serde(rename = "属实")]
    True,
    /// 部分属实.
    #[serde(rename = "部分属实")]
    PartlyTrue,
    /// 不属实.
    #[serde(rename = "不属实")]
    NotTrue,
}

/// An enforcement action (渝考发 附件2–4 columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// 限期改正, 罚款, 停业整顿, 移送市场监管或淘汰退出, 公开曝光, 暂停考试资格, 取消考试资格.
    pub kind: String,
    /// For 罚款: the amount in 万元.
    #[serde(default)]
    pub amount_wan: Option<f64>,
}

const ACTION_KINDS: &[&str] = &[
    "限期改正",
    "罚款",
    "停业整顿",
    "移送市场监管或淘汰退出",
    "公开曝光",
    "暂停考试资格",
    "取消考试资格",
];

/// A step an officer takes, with what it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Step {
    /// 签收.
    SignFor,
    /// 退回, with the reason.
    SendBack,
    /// Re-route to a jurisdiction (after a send-back, or from the intake desk).
    Route {
        /// Division code of the new handling jurisdiction.
        handling: String,
    },
    /// 转办 to another jurisdiction or department.
    Transfer {
        /// Where to: a division code or a department's name.
        to: String,
    },
    /// 开始核查.
    StartVerification,
    /// 核查结论.
    RecordFinding {
        /// The finding.
        finding: Finding,
        /// What was found.
        text: String,
    },
    /// 处理措施.
    RecordActions {
        /// The actions.
        actions: Vec<Action>,
    },
    /// 整改情况.
    RecordRectification {
        /// 未整改, 正在整改 or 已完成整改.
        status: String,
    },
    /// 反馈举报人.
    Reply {
        /// The reply text.
        text: String,
    },
    /// 办结.
    Close,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The step cannot be taken from the case's state.
    #[error("cannot {step} a case in state {state}")]
    IllegalTransition {
        /// The step.
        step: &'static str,
        /// The current state.
        state: String,
    },
    /// A field of the step is missing or wrong.
    #[error("{0}")]
    Invalid(String),
}

impl StepError {
    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            StepError::IllegalTransition { step, state } => {
                format!(
                    "案件当前状态为“{}”，不能执行“{}”",
                    state_label(state),
                    step_label(step)
                )
            }
            StepError::Invalid(why) => format!("办理步骤的内容不完整或有误：{why}"),
        }
    }
}

/// The Chinese name of a step code (`sign_for` → 签收).
pub fn step_label(step: &str) -> &str {
    match step {
        "sign_for" => "签收",
        "send_back" => "退回",
        "route" => "分派",
        "transfer" => "转办",
        "start_verification" => "开始核查",
        "record_finding" => "核查结论",
        "record_actions" => "处理措施",
        "record_rectification" => "整改情况",
        "reply" => "反馈举报人",
        "close" => "办结",
        other => other,
    }
}

impl Step {
    /// The step's code.
    pub fn code(&self) -> &'static str {
        match self {
            Step::SignFor => "sign_for",
            Step::SendBack => "send_back",
            Step::Route { .. } => "route",
            Step::Transfer { .. } => "transfer",
            Step::StartVerification => "start_verification",
            Step::RecordFinding { .. } => "record_finding",
            Step::RecordActions { .. } => "record_actions",
            Step::RecordRectification { .. } => "record_rectification",
            Step::Reply { .. } => "reply",
            Step::Close => "close",
        }
    }

    /// The states this step may leave from.
    pub fn from_states(&self) -> &'static [&'static str] {
        match self {
            Step::SignFor | Step::SendBack => &["routed"],
            Step::Route { .. } => &["received", "sent_back"],
            Step::Transfer { .. } => &["received", "routed", "sent_back", "signed_for"],
            Step::StartVerification => &["signed_for"],
            Step::RecordFinding { .. } => &["verifying"],
            Step::RecordActions { .. } => &["finding", "actions"],
            Step::RecordRectification { .. } => &["actions", "rectification"],
            Step::Reply { .. } => &["finding", "actions", "rectification"],
            Step::Close => &["replied"],
        }
    }

    /// The state the step arrives at.
    pub fn to_state(&self) -> &'static str {
        match self {
            Step::SignFor => "signed_for",
            Step::SendBack => "sent_back",
            Step::Route { .. } => "routed",
            Step::Transfer { .. } => "transferred",
            Step::StartVerification => "verifying",
            Step::RecordFinding { .. } => "finding",
            Step::RecordActions { .. } => "actions",
            Step::RecordRectification { .. } => "rectification",
            Step::Reply { .. } => "replied",
            Step::Close => "closed",
        }
    }

    /// Checks the step's content and that it may leave `state`; `reason` is the officer's why.
    pub fn check(&self, state: &str, reason: Option<&str>) -> Result<(), StepError> {
        if !self.from_states().contains(&state) {
            return Err(StepError::IllegalTransition {
                step: self.code(),
                state: state.to_string(),
            });
        }
        let blank = |s: &str| s.trim().is_empty();
        match self {
            Step::SendBack | Step::Transfer { .. } if reason.is_none_or(blank) => {
                Err(StepError::Invalid("a reason is required (reason)".into()))
            }
            Step::Route { handling } | Step::Transfer { to: handling } if blank(handling) => Err(
                StepError::Invalid("the target jurisdiction is required".into()),
            ),
            Step::RecordFinding { text, .. } | Step::Reply { text } if blank(text) => {
                Err(StepError::Invalid("the text is required (text)".into()))
            }
            Step::RecordActions { actions } => {
                if actions.is_empty() {
                    return Err(StepError::Invalid("at least one action is required".into()));
                }
                for a in actions {
                    if !ACTION_KINDS.contains(&a.kind.as_str()) {
                        return Err(StepError::Invalid(format!("unknown action {:?}", a.kind)));
                    }
                    match (a.kind.as_str(), a.amount_wan) {
                        ("罚款", Some(x)) if x > 0.0 && x.is_finite() => {}
                        ("罚款", _) => {
                            return Err(StepError::Invalid(
                                "罚款 needs a positive amount_wan".into(),
                            ))
                        }
                        (_, Some(_)) => {
                            return Err(StepError::Invalid("only 罚款 carries an amount".into()))
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            Step::RecordRectification { status }
                if !["未整改", "正在整改", "已完成整改"].contains(&status.as_str()) =>
            {
                Err(StepError::Invalid(format!(
                    "unknown rectification status {status:?}"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// The deadline steps of a case, in the order they fall due.
pub const DEADLINE_STEPS: [&str; 4] = ["sign_for", "first_contact", "verification", "reply"];

/// The step whose deadline applies in a state; none for states that wait on nobody.
pub fn deadline_step(state: &str) -> Option<&'static str> {
    Some(match state {
        "received" | "routed" | "sent_back" => "sign_for",
        "signed_for" => "first_contact",
        "verifying" => "verification",
        "finding" | "actions" | "rectification" => "reply",
        _ => return None,
    })
}

/// The deadlines after an approved extension (延期) of `days` working days: the current step's
/// deadline and every later one move by that many working days on the calendar; earlier ones stay.
/// None when the state has no deadline.
pub fn extended(
    state: &str,
    deadlines: &serde_json::Value,
    days: u32,
    calendar: &triage::WorkCalendar,
) -> Option<serde_json::Value> {
    let current = deadline_step(state)?;
    let from = DEADLINE_STEPS.iter().position(|s| *s == current)?;
    let mut out = deadlines.clone();
    for step in &DEADLINE_STEPS[from..] {
        let Some(at) = deadlines[*step]
            .as_str()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        else {
            continue;
        };
        out[*step] = serde_json::json!(calendar.add_working_days(at, days).to_rfc3339());
    }
    Some(out)
}

/// The Chinese name of a deadline step.
pub fn deadline_step_label(step: &str) -> &str {
    match step {
        "sign_for" => "签收",
        "first_contact" => "首次联系举报人",
        "verification" => "核查",
        "reply" => "办结回复",
        other => other,
    }
}

/// The deadline that applies in a state, from a case's step deadlines (JSON of
/// `triage::Deadlines`), in UTC RFC 3339; none for states that wait on nobody.
pub fn due_for(state: &str, deadlines: &serde_json::Value) -> Option<String> {
    let step = deadline_step(state)?;
    let at = chrono::DateTime::parse_from_rfc3339(deadlines[step].as_str()?).ok()?;
    Some(
        at.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_steps() -> Vec<Step> {
        vec![
            Step::SignFor,
            Step::SendBack,
            Step::Route {
                handling: "210302".into(),
            },
            Step::Transfer {
                to: "210303".into(),
            },
            Step::StartVerification,
            Step::RecordFinding {
                finding: Finding::True,
                text: "属实".into(),
            },
            Step::RecordActions {
                actions: vec![Action {
                    kind: "罚款".into(),
                    amount_wan: Some(2.0),
                }],
            },
            Step::RecordRectification {
                status: "正在整改".into(),
            },
            Step::Reply {
                text: "已处理".into(),
            },
            Step::Close,
        ]
    }

    #[test]
    fn every_legal_transition_and_every_illegal_one() {
        let states: Vec<&str> = STATES.iter().map(|(c, _)| *c).collect();
        for step in all_steps() {
            for state in &states {
                let result = step.check(state, Some("理由"));
                assert_eq!(
                    result.is_ok(),
                    step.from_states().contains(state),
                    "{} from {state}",
                    step.code()
                );
                if let Err(e) = result {
                    assert!(
                        e.message_zh().contains(state_label(state)),
                        "{}",
                        e.message_zh()
                    );
                }
            }
        }
    }

    #[test]
    fn the_happy_path_runs_from_routed_to_closed() {
        let mut state = "routed";
        for step in [
            Step::SignFor,
            Step::StartVerification,
            Step::RecordFinding {
                finding: Finding::PartlyTrue,
                text: "部分属实".into(),
            },
            Step::RecordActions {
                actions: vec![Action {
                    kind: "限期改正".into(),
                    amount_wan: None,
                }],
            },
            Step::RecordRectification {
                status: "已完成整改".into(),
            },
            Step::Reply {
                text: "已反馈".into(),
            },
            Step::Close,
        ] {
            step.check(state, None).unwrap();
            state = step.to_state();
        }
        assert_eq!(state, "closed");
    }

    #[test]
    fn an_extension_moves_the_current_and_later_deadlines_in_working_days() {
        let deadlines = serde_json::json!({
            "sign_for": "2024-09-27T18:00:00+08:00",
            "first_contact": "2024-09-29T18:00:00+08:00",
            "verification": "2024-09-30T18:00:00+08:00",
            "reply": "2024-09-30T18:00:00+08:00",
        });
        let cal = triage::WorkCalendar::embedded();
        let out = extended("signed_for", &deadlines, 2, cal).unwrap();
        assert_eq!(
            out["sign_for"], deadlines["sign_for"],
            "an earlier step stays"
        );
        // 国庆 2024: 10-01..10-07 off, 09-29 (Sunday) and 10-12 (Saturday) worked.
        assert_eq!(out["first_contact"], "2024-10-08T18:00:00+08:00");
        assert_eq!(out["reply"], "2024-10-09T18:00:00+08:00");
        assert!(extended("closed", &deadlines, 2, cal).is_none());
    }

    #[test]
    fn steps_check_their_content() {
        assert!(Step::SendBack.check("routed", None).is_err());
        assert!(Step::SendBack.check("routed", Some("不属于本辖区")).is_ok());
        let fine = |amount| Step::RecordActions {
            actions: vec![Action {
                kind: "罚款".into(),
                amount_wan: amount,
            }],
        };
        assert!(fine(None).check("finding", None).is_err());
        assert!(fine(Some(-1.0)).check("finding", None).is_err());
        assert!(Step::RecordRectification {
            status: "差不多".into()
        }
        .check("actions", None)
        .is_err());
        let json = r#"{"action":"record_finding","finding":"不属实","text":"经查不属实"}"#;
        let step: Step = serde_json::from_str(json).unwrap();
        assert_eq!(step.to_state(), "finding");
    }
}
