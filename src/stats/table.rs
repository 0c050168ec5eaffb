//! The statistics table: facts of a subtree counted per value of one dimension.

use super::{Month, Period, StatsError};
use crate::scope::Scope;
use crate::store::{CaseFact, StepFact, Store, Subtree};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// What rows stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Calendar months (Beijing time) of the report, or of a case's first report.
    Month,
    /// The child jurisdictions of the jurisdiction asked for.
    Jurisdiction,
    /// The report's channel (a case: its first report's).
    Channel,
    /// Alleged categories (a case with two categories counts in both rows).
    Category,
    /// The subject kind.
    SubjectKind,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 5] = [
        Dimension::Month,
        Dimension::Jurisdiction,
        Dimension::Channel,
        Dimension::Category,
        Dimension::SubjectKind,
    ];

    /// The code in the API (`by=`).
    pub fn code(self) -> &'static str {
        match self {
            Dimension::Month => "month",
            Dimension::Jurisdiction => "jurisdiction",
            Dimension::Channel => "channel",
            Dimension::Category => "category",
            Dimension::SubjectKind => "subject_kind",
        }
    }

    /// The Chinese heading of the row column.
    pub fn label(self) -> &'static str {
        match self {
            Dimension::Month => "月份",
            Dimension::Jurisdiction => "辖区",
            Dimension::Channel => "举报渠道",
            Dimension::Category => "问题类别",
            Dimension::SubjectKind => "举报对象类型",
        }
    }
}

/// What a statistics request asks.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    /// Rows.
    pub by: Dimension,
    /// The period.
    pub period: Period,
    /// A jurisdiction inside the user's subtree (default: the user's own).
    pub jurisdiction: Option<String>,
}

impl StatsQuery {
    /// From the request's parameters; `today` (Beijing) sets the default period.
    pub fn parse(
        by: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        jurisdiction: Option<&str>,
        today: chrono::NaiveDate,
    ) -> Result<StatsQuery, StatsError> {
        let by = match by.map(str::trim).filter(|b| !b.is_empty()) {
            None => Dimension::Month,
            Some(b) => Dimension::ALL
                .into_iter()
                .find(|d| d.code() == b)
                .ok_or_else(|| {
                    StatsError::bad(
                        "by",
                        format!("{b:?} is not one of month, jurisdiction, channel, category, subject_kind"),
                        format!("“{b}”不是 month、jurisdiction、channel、category、subject_kind 之一"),
                    )
                })?,
        };
        let jurisdiction = match jurisdiction.map(str::trim).filter(|j| !j.is_empty()) {
            None => None,
            Some(j) if j.len() == 6 && j.bytes().all(|b| b.is_ascii_digit()) => Some(j.to_string()),
            Some(j) => {
                return Err(StatsError::bad(
                    "jurisdiction",
                    format!("{j:?} is not a 6-digit division code"),
                    format!("“{j}”不是6位行政区划代码"),
                ))
            }
        };
        Ok(StatsQuery {
            by,
            period: super::Period::parse(from, to, today)?,
            jurisdiction,
        })
    }
}

/// The counts of one row. Rates are derived; a rate with a zero denominator is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// 受理量: reports received.
    pub reports: u64,
    /// Of which repeat reports (重复件).
    pub repeat_reports: u64,
    /// Cases opened (their first report received in the period).
    pub cases: u64,
    /// Cases whose sign-for was due (signed, or the deadline has passed).
    pub sign_for_due: u64,
    /// Of which signed for by the deadline.
    pub signed_on_time: u64,
    /// Cases whose closing was due (closed, or the reply deadline has passed).
    pub close_due: u64,
    /// Of which closed by the deadline.
    pub closed_on_time: u64,
    /// Cases with a finding.
    pub findings: u64,
    /// Of which 属实 or 部分属实.
    pub findings_true: u64,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Counts {
    /// 按期签收率.
    pub fn sign_on_time_rate(&self) -> Option<f64> {
        ratio(self.signed_on_time, self.sign_for_due)
    }
    /// 按期办结率.
    pub fn close_on_time_rate(&self) -> Option<f64> {
        ratio(self.closed_on_time, self.close_due)
    }
    /// 属实率.
    pub fn true_rate(&self) -> Option<f64> {
        ratio(self.findings_true, self.findings)
    }
    /// 重复举报率.
    pub fn repeat_rate(&self) -> Option<f64> {
        ratio(self.repeat_reports, self.reports)
    }
}

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRow {
    /// The value's code (`2024-05`, `500101`, `hotline_12345`, `T4`, `exam_institution`).
    pub key: String,
    /// Its Chinese label.
    pub label: String,
    /// The counts in the period.
    pub counts: Counts,
    /// 受理量 of the same value in the period before (for months: the month before).
    pub previous_reports: u64,
}

impl StatsRow {
    /// The change of 受理量 against the previous period (0.25 = +25 %); none when it was zero.
    pub fn trend(&self) -> Option<f64> {
        (self.previous_reports > 0).then(|| {
            (self.counts.reports as f64 - self.previous_reports as f64)
                / self.previous_reports as f64
        })
    }
}

/// A computed statistics table.
#[derive(Debug, Clone)]
pub struct StatsTable {
    /// Rows by.
    pub by: Dimension,
    /// The period.
    pub period: Period,
    /// The period compared with.
    pub previous: Period,
    /// The jurisdiction (division code) the table covers.
    pub jurisdiction: String,
    /// Its name.
    pub jurisdiction_name: String,
    /// Rows in order.
    pub rows: Vec<StatsRow>,
    /// All facts once (for categories not the sum of the rows).
    pub total: StatsRow,
}

/// What a case contributes, from its steps.
#[derive(Debug, Default)]
struct CaseOutcome {
    sign_for_due: bool,
    signed_on_time: bool,
    close_due: bool,
    closed_on_time: bool,
    finding: Option<bool>,
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn outcome(case: &CaseFact, steps: &[&StepFact], now: DateTime<Utc>) -> CaseOutcome {
    let first = |step: &str| {
        steps
            .iter()
            .find(|s| s.step == step)
            .and_then(|s| parse_time(&s.at))
    };
    // A case sent to another region or department is not this office's to sign or close.
    let gone = case.row.state == "transferred";
    let judge = |done: Option<DateTime<Utc>>, deadline: &str| -> (bool, bool) {
        match parse_time(case.deadlines[deadline].as_str().unwrap_or("")) {
            None => (false, false),
            Some(due) => match done {
                Some(at) => (true, at <= due),
                None => (!gone && now > due, false),
            },
        }
    };
    let (sign_for_due, signed_on_time) = judge(first("sign_for"), "sign_for");
    let (close_due, closed_on_time) = judge(first("close"), "reply");
    let finding = steps
        .iter()
        .rev()
        .find(|s| s.step == "record_finding")
        .and_then(|s| s.data["finding"].as_str())
        .map(|f| f == "属实" || f == "部分属实");
    CaseOutcome {
        sign_for_due,
        signed_on_time,
        close_due,
        closed_on_time,
        finding,
    }
}

/// The node a case counts under within `prefix`: its handling jurisdiction when inside, else its
/// locus, else the transfer target; `home` for the intake desk.
fn place_of(case: &CaseFact, prefix: &str) -> String {
    let case = &case.row;
    let inside = |c: &Option<String>| c.clone().filter(|c| c.starts_with(prefix) && c.len() == 6);
    if case.handling != "home" && case.handling.starts_with(prefix) {
        return case.handling.clone();
    }
    inside(&case.locus)
        .or_else(|| inside(&case.transfer))
        .unwrap_or_else(|| "home".to_string())
}

/// The four municipalities: their counties sit directly under them (DOMAIN.md §4).
fn municipality(prefix: &str) -> bool {
    matches!(prefix, "11" | "12" | "31" | "50")
}

/// The child of the node `prefix` that holds `code` (or the node itself).
fn child_of(code: &str, prefix: &str) -> String {
    if code == "home" || code.len() != 6 {
        return code.to_string();
    }
    match prefix.len() {
        0 => format!("{}0000", &code[..2]),
        2 if !municipality(prefix) => format!("{}00", &code[..4]),
        _ => code.to_string(),
    }
}

fn jurisdiction_label(code: &str, node: &str) -> String {
    if code == "home" {
        return "受理台（未分派）".to_string();
    }
    let name = super::division_name(code);
    if crate::scope::subtree_prefix(code) == crate::scope::subtree_prefix(node) {
        format!("{name}（本级）")
    } else {
        name
    }
}

fn code_label<T: std::str::FromStr>(code: &str, label: fn(T) -> &'static str) -> String {
    code.parse::<T>()
        .map_or_else(|_| code.to_string(), |v| label(v).to_string())
}

/// The keys a fact counts under.
fn keys(by: Dimension, month: Month, channel: &str, case: &CaseFact, prefix: &str) -> Vec<String> {
    match by {
        Dimension::Month => vec![month.to_string()],
        Dimension::Jurisdiction => vec![child_of(&place_of(case, prefix), prefix)],
        Dimension::Channel => vec![channel.to_string()],
        Dimension::Category if case.row.categories.is_empty() => vec!["none".to_string()],
        Dimension::Category => case.row.categories.clone(),
        Dimension::SubjectKind => vec![case.row.subject_kind.clone()],
    }
}

fn label(by: Dimension, key: &str, node: &str) -> String {
    match by {
        Dimension::Month => Month::parse(key).map_or_else(|_| key.to_string(), Month::label),
        Dimension::Jurisdiction => jurisdiction_label(key, node),
        Dimension::Channel => code_label::<intake::Channel>(key, intake::Channel::label),
        Dimension::Category if key == "none" => "未分类".to_string(),
        Dimension::Category => code_label::<intake::Category>(key, intake::Category::label),
        Dimension::SubjectKind => {
            code_label::<intake::SubjectKind>(key, intake::SubjectKind::label)
        }
    }
}

fn month_of_ms(ms: i64) -> Month {
    Month::of_instant(DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default())
}

/// Computes a statistics table for a user's scope at `now`.
pub async fn compute(
    store: &Store,
    scope: &Scope,
    home: Option<&str>,
    query: &StatsQuery,
    now: DateTime<Utc>,
) -> Result<StatsTable, StatsError> {
    // The node: the user's own jurisdiction, or a narrower one inside it.
    let node = match &query.jurisdiction {
        Some(j) if scope.covers(j) => j.clone(),
        Some(j) => return Err(StatsError::OutOfScope(j.clone())),
        None => format!("{:0<6}", scope.prefix),
    };
    let within: Subtree = if query.jurisdiction.is_some() {
        super::subtree_of(&node, home)
    } else {
        Subtree {
            prefix: scope.prefix.clone(),
            home_too: scope.covers_home,
        }
    };
    let previous = query.period.previous();
    let (start, end) = query.period.millis();
    let (prev_start, _) = previous.millis();
    let reports = store.stats_reports(&within, prev_start, end).await?;
    let cases = store.stats_cases(&within, prev_start, end).await?;
    let ids: Vec<i64> = cases.iter().map(|c| c.case.row.id).collect();
    let steps = store.case_steps(&ids, None).await?;
    let mut by_case: HashMap<i64, Vec<&StepFact>> = HashMap::new();
    for s in &steps {
        by_case.entry(s.case_id).or_default().push(s);
    }

    let by = query.by;
    let prefix = within.prefix.as_str();
    // Current and previous counts per key; months keep one series so that the first month's
    // predecessor (in the previous period) is found like any other.
    let mut current: BTreeMap<String, Counts> = BTreeMap::new();
    let mut before: BTreeMap<String, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    let mut total_before = Counts::default();
    for r in &reports {
        let in_period = r.received_ts >= start;
        for key in keys(by, month_of_ms(r.received_ts), &r.channel, &r.case, prefix) {
            let c = if in_period || by == Dimension::Month {
                current.entry(key).or_default()
            } else {
                before.entry(key).or_default()
            };
            c.reports += 1;
            c.repeat_reports += u64::from(r.repeat);
        }
        let t = if in_period {
            &mut total
        } else {
            &mut total_before
        };
        t.reports += 1;
        t.repeat_reports += u64::from(r.repeat);
    }
    for opened in &cases {
        let in_period = opened.first_ts >= start;
        let o = outcome(
            &opened.case,
            by_case
                .get(&opened.case.row.id)
                .map_or(&[][..], Vec::as_slice),
            now,
        );
        let add = |c: &mut Counts| {
            c.cases += 1;
            c.sign_for_due += u64::from(o.sign_for_due);
            c.signed_on_time += u64::from(o.signed_on_time);
            c.close_due += u64::from(o.close_due);
            c.closed_on_time += u64::from(o.closed_on_time);
            c.findings += u64::from(o.finding.is_some());
            c.findings_true += u64::from(o.finding == Some(true));
        };
        for key in keys(
            by,
            month_of_ms(opened.first_ts),
            &opened.channel,
            &opened.case,
            prefix,
        ) {
            if in_period || by == Dimension::Month {
                add(current.entry(key).or_default());
            } else {
                add(before.entry(key).or_default());
            }
        }
        add(if in_period {
            &mut total
        } else {
            &mut total_before
        });
    }

    let row = |key: &str, counts: Counts, previous_reports: u64| StatsRow {
        key: key.to_string(),
        label: label(by, key, &node),
        counts,
        previous_reports,
    };
    let rows: Vec<StatsRow> = if by == Dimension::Month {
        // Every month of the period, empty ones included (a chart needs the gaps).
        let mut out = Vec::new();
        let mut m = Month::of(query.period.from);
        while m <= Month::of(query.period.to) {
            let key = m.to_string();
            let counts = current.get(&key).cloned().unwrap_or_default();
            let prev = current.get(&m.prev().to_string()).map_or(0, |c| c.reports);
            out.push(row(&key, counts, prev));
            m = m.next();
        }
        out
    } else {
        current
            .iter()
            .map(|(k, c)| row(k, c.clone(), before.get(k).map_or(0, |b| b.reports)))
            .collect()
    };
    let total = StatsRow {
        key: "total".to_string(),
        label: "合计".to_string(),
        counts: total,
        previous_reports: total_before.reports,
    };
    Ok(StatsTable {
        by,
        period: query.period,
        previous,
        jurisdiction_name: if node.starts_with("000000") || node.is_empty() {
            "全国".to_string()
        } else {
            super::division_name(&node)
        },
        jurisdiction: node,
        rows,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(handling: &str, locus: Option<&str>) -> CaseFact {
        CaseFact {
            row: crate::scope::tests::case(handling, locus),
            deadlines: serde_json::json!({"sign_for": "2024-05-07T18:00:00+08:00", "reply": "2024-06-01T18:00:00+08:00"}),
        }
    }

    #[test]
    fn children_of_each_level() {
        assert_eq!(child_of("210302", "21"), "210300");
        assert_eq!(
            child_of("500101", "50"),
            "500101",
            "municipality: counties directly"
        );
        assert_eq!(child_of("500000", "50"), "500000");
        assert_eq!(child_of("210302", "2103"), "210302");
        assert_eq!(child_of("210302", ""), "210000");
        assert_eq!(
            place_of(&case("210300", Some("210381")), "210381"),
            "210381"
        );
        assert_eq!(place_of(&case("210300", Some("210381")), "21"), "210300");
        assert_eq!(place_of(&case("home", None), "21"), "home");
        assert_eq!(jurisdiction_label("500000", "500000"), "重庆市（本级）");
        assert_eq!(jurisdiction_label("500101", "500000"), "万州区");
    }

    #[test]
    fn deadlines_decide_on_time() {
        let at = |t: &str| parse_time(t).unwrap();
        let step = |step: &str, t: &str| StepFact {
            case_id: 1,
            step: step.into(),
            at: t.into(),
            data: serde_json::json!({"finding": "部分属实"}),
        };
        let c = case("210302", Some("210302"));
        let signed = step("sign_for", "2024-05-07T09:00:00.000Z");
        let found = step("record_finding", "2024-05-20T09:00:00.000Z");
        let o = outcome(&c, &[&signed, &found], at("2024-05-30T00:00:00Z"));
        assert!(o.sign_for_due && o.signed_on_time);
        assert!(!o.close_due, "reply not due yet and not closed");
        assert_eq!(o.finding, Some(true));
        let late = step("sign_for", "2024-05-08T09:00:00.000Z");
        let o = outcome(&c, &[&late], at("2024-07-01T00:00:00Z"));
        assert!(o.sign_for_due && !o.signed_on_time);
        assert!(o.close_due && !o.closed_on_time, "overdue and never closed");
        assert_eq!(o.finding, None);
        let mut moved = c.clone();
        moved.row.state = "transferred".into();
        assert!(!outcome(&moved, &[], at("2024-07-01T00:00:00Z")).sign_for_due);
    }

    #[test]
    fn rates_and_trend() {
        let row = StatsRow {
            key: "2024-05".into(),
            label: "2024年5月".into(),
            counts: Counts {
                reports: 5,
                repeat_reports: 1,
                findings: 4,
                findings_true: 3,
                ..Counts::default()
            },
            previous_reports: 4,
        };
        assert_eq!(row.counts.repeat_rate(), Some(0.2));
        assert_eq!(row.counts.true_rate(), Some(0.75));
        assert_eq!(row.counts.sign_on_time_rate(), None);
        assert_eq!(row.trend(), Some(0.25));
    }
}
