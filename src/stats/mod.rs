//! Statistics and the monthly progress tables for leadership (DOMAIN.md §8; issue 9).
//!
//! - [`compute`] → [`StatsTable`]: reports and cases of a user's subtree over a [`Period`], by
//!   month, child jurisdiction, channel, category or subject kind ([`Dimension`]), with 受理量,
//!   按期签收率, 按期办结率, 属实率, 重复举报率 and the previous period for the trend.
//!   [`stats_xlsx`] writes it as a workbook, [`svg_chart`] draws it (bars and a trend line).
//! - [`monthly::build`] → [`monthly::MonthlyTables`]: the 渝考发〔2022〕5号 附件2–4 progress tables
//!   of a jurisdiction for a month; [`monthly::MonthlyTables::to_xlsx`] writes them in the notice's
//!   column layout. [`auto`] generates them on the 1st for the previous month and mails them to the
//!   jurisdiction's leaders through the outbox.
//!
//! Facts come from `crate::store` (reports, cases, the officers' steps); nothing here reads or
//! shows reporter identity. Months are Beijing-time calendar months.

pub mod auto;
mod chart;
pub mod monthly;
mod table;
mod xlsx;

pub use chart::svg_chart;
// `Counts` and `Dimension` are read by the pages (issue 9) through `StatsTable`.
#[allow(unused_imports)]
pub use table::{compute, Counts, Dimension, StatsQuery, StatsRow, StatsTable};
pub use xlsx::stats_xlsx;

use chrono::{Datelike, NaiveDate, TimeZone};

/// Why a statistics or table request was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A parameter is missing or malformed.
    #[error("{field}: {why}")]
    BadQuery {
        /// The parameter.
        field: &'static str,
        /// What is wrong, in English.
        why: String,
        /// What is wrong, in Chinese.
        zh: String,
    },
    /// The jurisdiction asked for lies outside the user's subtree (answered as not found).
    #[error("jurisdiction {0} not found")]
    OutOfScope(String),
    /// A database or file error.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl StatsError {
    fn bad(field: &'static str, why: impl Into<String>, zh: impl Into<String>) -> StatsError {
        StatsError::BadQuery {
            field,
            why: why.into(),
            zh: zh.into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            StatsError::BadQuery { .. } => "bad_stats_query",
            StatsError::OutOfScope(_) => "not_found",
            StatsError::Internal(_) => "internal_error",
        }
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            StatsError::BadQuery { field, zh, .. } => format!("统计参数 {field} 有误：{zh}"),
            StatsError::OutOfScope(code) => format!("未找到辖区 {code}"),
            StatsError::Internal(_) => "服务器内部错误，请稍后重试".to_string(),
        }
    }
}

fn beijing() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A calendar month (Beijing time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// Parses `2024-05`.
    pub fn parse(text: &str) -> Result<Month, StatsError> {
        let bad = || {
            StatsError::bad(
                "month",
                format!("{text:?} is not a month like 2024-05"),
                format!("“{text}”不是形如 2024-05 的月份"),
            )
        };
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        let (year, month): (i32, u32) =
            (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if y.len() != 4 || !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    /// The month of a date.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The month of an instant, in Beijing time.
    pub fn of_instant(t: chrono::DateTime<chrono::Utc>) -> Month {
        Month::of(t.with_timezone(&beijing()).date_naive())
    }

    /// The first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    /// The month before.
    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The month after.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("valid date")
    }

    /// `2024年5月`.
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    /// January of the same year.
    pub fn january(self) -> Month {
        Month {
            year: self.year,
            month: 1,
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Days `from..=to` (Beijing time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
}

/// Longest period statistics cover at once (ten years of months is 120 rows).
const MAX_DAYS: i64 = 3660;

impl Period {
    /// From `from`/`to` parameters: `2024-05` (a whole month) or `2024-05-06`; by default the
    /// twelve months up to and including `today`'s.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<Period, StatsError> {
        fn day(field: &'static str, text: &str, end: bool) -> Result<NaiveDate, StatsError> {
            let text = text.trim();
            if text.len() == 7 {
                let m = Month::parse(text).map_err(|_| {
                    StatsError::bad(
                        field,
                        format!("{text:?} is not a date (2024-05-06) or month (2024-05)"),
                        format!("“{text}”不是日期（2024-05-06）或月份（2024-05）"),
                    )
                })?;
                return Ok(if end { m.last_day() } else { m.first_day() });
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                StatsError::bad(
                    field,
                    format!("{text:?} is not a date (2024-05-06) or month (2024-05)"),
                    format!("“{text}”不是日期（2024-05-06）或月份（2024-05）"),
                )
            })
        }
        let to = match to.filter(|t| !t.trim().is_empty()) {
            Some(t) => day("to", t, true)?,
            None => Month::of(today).last_day(),
        };
        let from = match from.filter(|t| !t.trim().is_empty()) {
            Some(t) => day("from", t, false)?,
            None => {
                let mut m = Month::of(to);
                for _ in 0..11 {
                    m = m.prev();
                }
                m.first_day()
            }
        };
        if from > to {
            return Err(StatsError::bad(
                "from",
                "from is after to",
                "起始日期晚于截止日期",
            ));
        }
        if (to - from).num_days() > MAX_DAYS {
            return Err(StatsError::bad(
                "to",
                "a period covers at most ten years",
                "统计期间最长十年",
            ));
        }
        Ok(Period { from, to })
    }

    /// The period of equal length just before: whole months when this one is whole months.
    pub fn previous(self) -> Period {
        let whole_months = self.from.day() == 1 && self.to == Month::of(self.to).last_day();
        if whole_months {
            let months = (Month::of(self.to).year - Month::of(self.from).year) * 12
                + Month::of(self.to).month as i32
                - Month::of(self.from).month as i32
                + 1;
            let mut m = Month::of(self.from);
            for _ in 0..months {
                m = m.prev();
            }
            return Period {
                from: m.first_day(),
                to: self.from.pred_opt().expect("valid date"),
            };
        }
        let len = self.to - self.from + chrono::Duration::days(1);
        Period {
            from: self.from - len,
            to: self.from.pred_opt().expect("valid date"),
        }
    }

    /// The bounds as unix milliseconds, `[start, end)`.
    pub fn millis(self) -> (i64, i64) {
        (
            day_start(self.from).timestamp_millis(),
            day_start(self.to.succ_opt().expect("valid date")).timestamp_millis(),
        )
    }
}

/// Midnight of a day in Beijing, as UTC.
fn day_start(day: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    beijing()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offset")
        .with_timezone(&chrono::Utc)
}

/// A UTC instant as events store it (RFC 3339, milliseconds, `Z`), so texts compare in order.
fn event_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The name of a division code (`重庆市`), or the code itself when unknown.
pub fn division_name(code: &str) -> String {
    triage::Gazetteer::get()
        .lookup(code)
        .map_or_else(|| code.to_string(), |d| d.name.to_string())
}

/// The scope of one jurisdiction, as the store reads it: the subtree, and the home desk when
/// the jurisdiction covers the deployment's home.
fn subtree_of(jurisdiction: &str, home: Option<&str>) -> crate::store::Subtree {
    let prefix = crate::scope::subtree_prefix(jurisdiction);
    let home_prefix = home.map(crate::scope::subtree_prefix);
    crate::store::Subtree {
        home_too: home_prefix.is_some_and(|h| h.starts_with(&prefix)),
        prefix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_periods() {
        let m = Month::parse("2024-01").unwrap();
        assert_eq!(m.prev().to_string(), "2023-12");
        assert_eq!(m.last_day().to_string(), "2024-01-31");
        assert_eq!(
            Month::parse("2024-02").unwrap().last_day().to_string(),
            "2024-02-29"
        );
        assert!(Month::parse("2024-13").is_err());
        assert!(Month::parse("24-1").is_err());
        let today = NaiveDate::from_ymd_opt(2024, 5, 20).unwrap();
        let p = Period::parse(None, None, today).unwrap();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2023-06-01".into(), "2024-05-31".into())
        );
        let p = Period::parse(Some("2024-04"), Some("2024-05"), today).unwrap();
        let q = p.previous();
        assert_eq!(
            (q.from.to_string(), q.to.to_string()),
            ("2024-02-01".into(), "2024-03-31".into())
        );
        let p = Period::parse(Some("2024-05-10"), Some("2024-05-19"), today).unwrap();
        assert_eq!(p.previous().from.to_string(), "2024-04-30");
        let err = Period::parse(Some("2024-06"), Some("2024-05"), today).unwrap_err();
        assert_eq!(err.code(), "bad_stats_query");
        assert!(Period::parse(Some("五月"), None, today)
            .unwrap_err()
            .message_zh()
            .contains("from"));
        // Beijing midnight is 16:00 UTC the day before.
        let (start, _) = Period::parse(Some("2024-05-01"), Some("2024-05-01"), today)
            .unwrap()
            .millis();
        assert_eq!(
            start,
            chrono::DateTime::parse_from_rfc3339("2024-04-30T16:00:00Z")
                .unwrap()
                .timestamp_millis()
        );
    }
}
