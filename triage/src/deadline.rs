//! Deadlines in working days: a calendar of public holidays and adjusted working weekends (调休),
//! and the per-step defaults of a deployment.
//!
//! The embedded calendar (`data/holidays.toml`) carries the State Council General Office notices
//! for 2022–2026 (国务院办公厅关于…年部分节假日安排的通知; the file cites each). A 12345 work order's
//! own deadline wins for the reply; every other step counts working days from the day received.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Weekday};
use intake::Channel;
use once_cell::sync::Lazy;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const HOLIDAYS: &str = include_str!("../data/holidays.toml");

/// Beijing time, UTC+8.
fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

/// Longest span counted, in working days (about 100 years): larger requests are clamped.
const MAX_WORKING_DAYS: u32 = 25_000;

/// A calendar file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Not TOML of the expected shape.
    #[error("calendar file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A date that is no `YYYY-MM-DD`.
    #[error("calendar file: bad date {0:?}")]
    Date(String),
    /// A range that ends before it starts, or a day listed both as holiday and as working day.
    #[error("calendar file: {0}")]
    Inconsistent(String),
}

#[derive(Debug, Deserialize)]
struct CalendarFile {
    #[serde(default)]
    years: Vec<YearFile>,
}

#[derive(Debug, Deserialize)]
struct YearFile {
    year: i32,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    holidays: Vec<HolidayFile>,
}

#[derive(Debug, Deserialize)]
struct HolidayFile {
    name: String,
    from: String,
    to: String,
    #[serde(default)]
    work: Vec<String>,
}

/// One holiday of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// Its name (`春节`).
    pub name: String,
    /// First day off.
    pub from: NaiveDate,
    /// Last day off (inclusive).
    pub to: NaiveDate,
    /// Weekend days worked instead (调休上班).
    pub work: Vec<NaiveDate>,
}

/// Working days: Monday to Friday, except public holidays, plus the adjusted working weekends.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    off: BTreeSet<NaiveDate>,
    on: BTreeSet<NaiveDate>,
    years: BTreeMap<i32, String>,
    holidays: Vec<Holiday>,
}

static EMBEDDED: Lazy<WorkCalendar> = Lazy::new(|| {
    // The embedded file is checked by the tests; an error would leave weekends only.
    WorkCalendar::from_toml(HOLIDAYS).unwrap_or_default()
});

fn date(s: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| CalendarError::Date(s.into()))
}

/// The date of an instant in Beijing time (without panicking at the ends of the time range).
fn beijing_date(t: DateTime<FixedOffset>) -> NaiveDate {
    let utc = t.naive_utc();
    utc.checked_add_signed(chrono::TimeDelta::hours(8))
        .unwrap_or(utc)
        .date()
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl WorkCalendar {
    /// The embedded calendar (2022–2026), parsed once.
    pub fn embedded() -> &'static WorkCalendar {
        &EMBEDDED
    }

    /// A calendar from a file in the format of `data/holidays.toml`.
    pub fn from_toml(text: &str) -> Result<WorkCalendar, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        let mut cal = WorkCalendar::default();
        for y in file.years {
            cal.years.insert(y.year, y.notice);
            for h in y.holidays {
                let (from, to) = (date(&h.from)?, date(&h.to)?);
                if to < from || (to - from).num_days() > 60 {
                    return Err(CalendarError::Inconsistent(format!(
                        "{} {}..{}",
                        h.name, h.from, h.to
                    )));
                }
                let mut d = from;
                while d <= to {
                    cal.off.insert(d);
                    d = match d.succ_opt() {
                        Some(n) => n,
                        None => break,
                    };
                }
                let work = h
                    .work
                    .iter()
                    .map(|w| date(w))
                    .collect::<Result<Vec<_>, _>>()?;
                cal.on.extend(work.iter().copied());
                cal.holidays.push(Holiday {
                    name: h.name,
                    from,
                    to,
                    work,
                });
            }
        }
        if let Some(d) = cal.off.intersection(&cal.on).next() {
            return Err(CalendarError::Inconsistent(format!(
                "{d} is both a holiday and a working day"
            )));
        }
        Ok(cal)
    }

    /// True when the calendar carries the holiday notice of `year` (otherwise only weekends are
    /// known for it).
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The years covered with the notice cited for each.
    pub fn sources(&self) -> impl Iterator<Item = (i32, &str)> {
        self.years.iter().map(|(y, n)| (*y, n.as_str()))
    }

    /// The holidays of the calendar.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// True for a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.on.contains(&d) {
            return true;
        }
        !is_weekend(d) && !self.off.contains(&d)
    }

    /// The `n`th working day after `d` (`n = 0`: `d` itself if it is a working day, else the next
    /// one). Saturates at the end of the representable dates.
    pub fn nth_working_day_after(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let n = n.min(MAX_WORKING_DAYS);
        let mut cur = d;
        if n == 0 {
            while !self.is_working_day(cur) {
                match cur.succ_opt() {
                    Some(x) => cur = x,
                    None => return cur,
                }
            }
            return cur;
        }
        let mut left = n;
        while left > 0 {
            match cur.succ_opt() {
                Some(x) => cur = x,
                None => return cur,
            }
            if self.is_working_day(cur) {
                left -= 1;
            }
        }
        cur
    }

    /// The `n`th working day before `d` (`n = 0`: `d` itself). Saturates at the start of the
    /// representable dates.
    pub fn nth_working_day_before(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut left = n.min(MAX_WORKING_DAYS);
        let mut cur = d;
        while left > 0 {
            match cur.pred_opt() {
                Some(x) => cur = x,
                None => return cur,
            }
            if self.is_working_day(cur) {
                left -= 1;
            }
        }
        cur
    }

    /// `n` working days before `t`: the same Beijing clock time on the `n`th working day before
    /// `t`'s date (Beijing time). A reminder one working day before a deadline at 18:00 on a
    /// Monday comes at 18:00 on the Friday before (or on a worked 调休 weekend day).
    pub fn sub_working_days(&self, t: DateTime<FixedOffset>, n: u32) -> DateTime<FixedOffset> {
        let tz = beijing();
        let local = t.with_timezone(&tz);
        let day = self.nth_working_day_before(local.date_naive(), n);
        tz.from_local_datetime(&day.and_time(local.time()))
            .single()
            .unwrap_or(t)
    }

    /// The deadline `n` working days after `start`: 18:00 Beijing time of the `n`th working day
    /// after the start's date (in Beijing time). `n = 0`: 18:00 of the start day if it is a
    /// working day, else of the next working day.
    pub fn add_working_days(&self, start: DateTime<FixedOffset>, n: u32) -> DateTime<FixedOffset> {
        let tz = beijing();
        let day = beijing_date(start);
        let due = self.nth_working_day_after(day, n);
        let at = due.and_time(NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN));
        tz.from_local_datetime(&at).single().unwrap_or(start)
    }

    /// Working days from the date of `a` to the date of `b` (Beijing time): the number of working
    /// days after `a`'s date up to and including `b`'s date; negative when `b` is earlier.
    pub fn working_days_between(&self, a: DateTime<FixedOffset>, b: DateTime<FixedOffset>) -> i64 {
        let (x, y) = (beijing_date(a), beijing_date(b));
        let (mut cur, end, sign) = if x <= y { (x, y, 1) } else { (y, x, -1) };
        let mut n = 0i64;
        let mut guard = 0u32;
        while cur < end && guard < 40_000 {
            match cur.succ_opt() {
                Some(s) => cur = s,
                None => break,
            }
            if self.is_working_day(cur) {
                n += 1;
            }
            guard += 1;
        }
        sign * n
    }
}

/// Working days of each step; absent fields fall back to the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDays {
    /// Sign for the case (签收).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_for: Option<u32>,
    /// First contact with the reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_contact: Option<u32>,
    /// Verification (核查) done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<u32>,
    /// Reply (办结回复).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<u32>,
}

/// Per-step deadlines of a deployment, in working days after the day received.
///
/// ```toml
/// [deadline_policy]
/// reply = 30
/// [deadline_policy.channels.hotline_12345]
/// first_contact = 1
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlinePolicy {
    /// Sign for the case: 1 working day by default.
    pub sign_for: u32,
    /// First contact with the reporter: 3.
    pub first_contact: u32,
    /// Verification: 15.
    pub verification: u32,
    /// Reply: 30 (a 12345 order's own deadline wins).
    pub reply: u32,
    /// Overrides per channel code (`hotline_12350`, `hotline_12345`, `web_form`, `email`).
    pub channels: BTreeMap<String, StepDays>,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            sign_for: 1,
            first_contact: 3,
            verification: 15,
            reply: 30,
            channels: BTreeMap::new(),
        }
    }
}

/// The deadlines of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Sign for the case.
    pub sign_for: DateTime<FixedOffset>,
    /// First contact with the reporter.
    pub first_contact: DateTime<FixedOffset>,
    /// Verification done.
    pub verification: DateTime<FixedOffset>,
    /// Reply (办结回复): the 12345 order's own deadline when given.
    pub reply: DateTime<FixedOffset>,
    /// True when `reply` is the channel's own deadline (a 12345 work order's).
    #[serde(default)]
    pub reply_from_channel: bool,
}

impl DeadlinePolicy {
    /// The working days of each step for a channel: (sign_for, first_contact, verification, reply).
    pub fn days_for(&self, channel: Channel) -> (u32, u32, u32, u32) {
        let o = self.channels.get(channel.code());
        let pick = |f: fn(&StepDays) -> Option<u32>, d: u32| o.and_then(f).unwrap_or(d);
        (
            pick(|s| s.sign_for, self.sign_for),
            pick(|s| s.first_contact, self.first_contact),
            pick(|s| s.verification, self.verification),
            pick(|s| s.reply, self.reply),
        )
    }

    /// The deadlines of a case received at `received_at`, on the embedded calendar. A 12345 work
    /// order's own deadline (`channel_deadline`) wins for the reply; other channels' deadlines
    /// are not binding and are ignored.
    pub fn deadlines_for(
        &self,
        channel: Channel,
        received_at: DateTime<FixedOffset>,
        channel_deadline: Option<DateTime<FixedOffset>>,
    ) -> Deadlines {
        self.deadlines_on(
            WorkCalendar::embedded(),
            channel,
            received_at,
            channel_deadline,
        )
    }

    /// [`DeadlinePolicy::deadlines_for`] on a given calendar.
    pub fn deadlines_on(
        &self,
        calendar: &WorkCalendar,
        channel: Channel,
        received_at: DateTime<FixedOffset>,
        channel_deadline: Option<DateTime<FixedOffset>>,
    ) -> Deadlines {
        let (s, f, v, r) = self.days_for(channel);
        let at = |n| calendar.add_working_days(received_at, n);
        let own = channel_deadline.filter(|_| channel == Channel::Hotline12345);
        Deadlines {
            sign_for: at(s),
            first_contact: at(f),
            verification: at(v),
            reply: own.unwrap_or_else(|| at(r)),
            reply_from_channel: own.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn embedded_calendar_is_consistent() {
        let cal = WorkCalendar::from_toml(HOLIDAYS).expect("embedded calendar parses");
        for y in 2022..=2026 {
            assert!(cal.covers(y), "{y}");
        }
        assert!(!cal.covers(2021));
        for h in cal.holidays() {
            for w in &h.work {
                assert!(is_weekend(*w), "{} {w} is no weekend day", h.name);
                assert!(cal.is_working_day(*w));
            }
            let mut x = h.from;
            while x <= h.to {
                assert!(!cal.is_working_day(x), "{} {x}", h.name);
                x = x.succ_opt().unwrap();
            }
        }
        // Days off per year (weekends inside included) as the notices count them.
        let total = |y: i32, name: &str| -> i64 {
            cal.holidays()
                .iter()
                .filter(|h| h.from.year() == y || h.to.year() == y)
                .filter(|h| h.name == name)
                .map(|h| (h.to - h.from).num_days() + 1)
                .sum()
        };
        assert_eq!(total(2024, "春节"), 8);
        assert_eq!(total(2025, "春节"), 8);
        assert_eq!(total(2026, "春节"), 9);
        assert_eq!(total(2025, "国庆节、中秋节"), 8);
    }

    #[test]
    fn adjusted_weekends_and_holidays() {
        let cal = WorkCalendar::embedded();
        // 2022
        for w in [
            "2022-01-29",
            "2022-01-30",
            "2022-04-02",
            "2022-04-24",
            "2022-05-07",
        ] {
            assert!(cal.is_working_day(d(w)), "{w}");
        }
        for w in ["2022-10-08", "2022-10-09"] {
            assert!(cal.is_working_day(d(w)), "{w}");
        }
        for h in [
            "2022-01-31",
            "2022-02-04",
            "2022-10-07",
            "2022-06-03",
            "2022-09-12",
        ] {
            assert!(!cal.is_working_day(d(h)), "{h}");
        }
        // 2023
        for w in [
            "2023-01-28",
            "2023-01-29",
            "2023-06-25",
            "2023-10-07",
            "2023-10-08",
        ] {
            assert!(cal.is_working_day(d(w)), "{w}");
        }
        for h in [
            "2023-01-02",
            "2023-01-27",
            "2023-04-05",
            "2023-09-29",
            "2023-10-06",
        ] {
            assert!(!cal.is_working_day(d(h)), "{h}");
        }
        // 2024: 春节 Feb 10–17, Sundays Feb 4 and 18 worked; 国庆 Oct 1–7, Sep 29 and Oct 12 worked.
        for w in [
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
        ] {
            assert!(cal.is_working_day(d(w)), "{w}");
        }
        for w in ["2024-09-14", "2024-09-29", "2024-10-12"] {
            assert!(cal.is_working_day(d(w)), "{w}");
        }
        for h in [
            "2024-02-12",
            "2024-02-16",
            "2024-06-10",
            "2024-09-16",
            "2024-10-04",
        ] {
            assert!(!cal.is_working_day(d(h)), "{h}");
        }
        // 2025: 春节 Jan 28 – Feb 4, Jan 26 and Feb 8 worked; 国庆 Oct 1–8.
        for w in [
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11",
        ] {
            assert!(cal.is_working_day(d(w)), "{w}");
        }
        for h in [
            "2025-01-28",
            "2025-02-04",
            "2025-05-05",
            "2025-06-02",
            "2025-10-08",
        ] {
            assert!(!cal.is_working_day(d(h)), "{h}");
        }
        // 2026
        for w in [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
        ] {
            assert!(cal.is_working_day(d(w)), "{w}");
        }
        for h in [
            "2026-01-02",
            "2026-02-23",
            "2026-04-06",
            "2026-10-07",
            "2026-09-25",
        ] {
            assert!(!cal.is_working_day(d(h)), "{h}");
        }
        // Plain weekends and weekdays.
        assert!(!cal.is_working_day(d("2024-03-09")));
        assert!(cal.is_working_day(d("2024-03-11")));
        assert!(cal.is_working_day(d("2030-01-02")));
        assert!(!cal.is_working_day(d("2030-01-05")));
    }

    #[test]
    fn working_day_arithmetic() {
        let cal = WorkCalendar::embedded();
        // Across 春节 2024: Friday Feb 2 + 1 → Sunday Feb 4 (worked); + 6 → Feb 9 (除夕 was a
        // working day in 2024); + 7 → Sunday Feb 18 (worked); + 8 → Feb 19.
        let fri = t("2024-02-02T10:00:00+08:00");
        assert_eq!(cal.add_working_days(fri, 1), t("2024-02-04T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 5), t("2024-02-08T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 6), t("2024-02-09T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 7), t("2024-02-18T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 8), t("2024-02-19T18:00:00+08:00"));
        // Across 国庆 2024: Friday Sep 27 + 1 → Sunday Sep 29 (worked) ; + 3 → Oct 8; + 7 → Oct 12.
        let f = t("2024-09-27T09:00:00+08:00");
        assert_eq!(cal.add_working_days(f, 1), t("2024-09-29T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(f, 2), t("2024-09-30T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(f, 3), t("2024-10-08T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(f, 7), t("2024-10-12T18:00:00+08:00"));
        // 春节 2025: Jan 24 (Fri) + 1 → Sun Jan 26; + 2 → Jan 27; + 3 → Feb 5; then Feb 8 (Sat).
        let j = t("2025-01-24T16:30:00+08:00");
        assert_eq!(cal.add_working_days(j, 1), t("2025-01-26T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(j, 3), t("2025-02-05T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(j, 6), t("2025-02-08T18:00:00+08:00"));
        // Received on a holiday: 1 working day is the first working day after it.
        let h = t("2025-10-03T12:00:00+08:00");
        assert_eq!(cal.add_working_days(h, 1), t("2025-10-09T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(h, 0), t("2025-10-09T18:00:00+08:00"));
        // The date is taken in Beijing time: 2024-02-03T20:00Z is Feb 4 04:00 in Beijing.
        let utc = t("2024-02-03T20:00:00+00:00");
        assert_eq!(cal.add_working_days(utc, 1), t("2024-02-05T18:00:00+08:00"));
        // 30 working days from 2024-09-20 (Fri): Sep 23–27, Sun Sep 29, Sep 30, Oct 8–11, Sat Oct 12,
        // then four full weeks and Nov 4–6.
        let s = t("2024-09-20T09:00:00+08:00");
        let due = cal.add_working_days(s, 30);
        assert_eq!(cal.working_days_between(s, due), 30);
        assert_eq!(due, t("2024-11-06T18:00:00+08:00"));
        // No panic at the edges.
        let far = DateTime::<FixedOffset>::MAX_UTC.fixed_offset();
        let _ = cal.add_working_days(far, u32::MAX);
    }

    /// Every holiday as the notices state it: name, days off ("共N天"), weekend days worked.
    #[test]
    fn every_holiday_matches_its_notice() {
        let cal = WorkCalendar::embedded();
        #[rustfmt::skip]
        let notices: &[(&str, &str, i64, &[&str])] = &[
            ("2022-01-01", "元旦", 3, &[]),
            ("2022-01-31", "春节", 7, &["2022-01-29", "2022-01-30"]),
            ("2022-04-03", "清明节", 3, &["2022-04-02"]),
            ("2022-04-30", "劳动节", 5, &["2022-04-24", "2022-05-07"]),
            ("2022-06-03", "端午节", 3, &[]),
            ("2022-09-10", "中秋节", 3, &[]),
            ("2022-10-01", "国庆节", 7, &["2022-10-08", "2022-10-09"]),
            ("2022-12-31", "元旦", 3, &[]),
            ("2023-01-21", "春节", 7, &["2023-01-28", "2023-01-29"]),
            ("2023-04-05", "清明节", 1, &[]),
            ("2023-04-29", "劳动节", 5, &["2023-04-23", "2023-05-06"]),
            ("2023-06-22", "端午节", 3, &["2023-06-25"]),
            ("2023-09-29", "中秋节、国庆节", 8, &["2023-10-07", "2023-10-08"]),
            ("2024-01-01", "元旦", 1, &[]),
            ("2024-02-10", "春节", 8, &["2024-02-04", "2024-02-18"]),
            ("2024-04-04", "清明节", 3, &["2024-04-07"]),
            ("2024-05-01", "劳动节", 5, &["2024-04-28", "2024-05-11"]),
            ("2024-06-10", "端午节", 1, &[]),
            ("2024-09-15", "中秋节", 3, &["2024-09-14"]),
            ("2024-10-01", "国庆节", 7, &["2024-09-29", "2024-10-12"]),
            ("2025-01-01", "元旦", 1, &[]),
            ("2025-01-28", "春节", 8, &["2025-01-26", "2025-02-08"]),
            ("2025-04-04", "清明节", 3, &[]),
            ("2025-05-01", "劳动节", 5, &["2025-04-27"]),
            ("2025-05-31", "端午节", 3, &[]),
            ("2025-10-01", "国庆节、中秋节", 8, &["2025-09-28", "2025-10-11"]),
            ("2026-01-01", "元旦", 3, &["2026-01-04"]),
            ("2026-02-15", "春节", 9, &["2026-02-14", "2026-02-28"]),
            ("2026-04-04", "清明节", 3, &[]),
            ("2026-05-01", "劳动节", 5, &["2026-05-09"]),
            ("2026-06-19", "端午节", 3, &[]),
            ("2026-09-25", "中秋节", 3, &[]),
            ("2026-10-01", "国庆节", 7, &["2026-09-20", "2026-10-10"]),
        ];
        assert_eq!(cal.holidays().len(), notices.len());
        for (from, name, days, work) in notices {
            let h = cal
                .holidays()
                .iter()
                .find(|h| h.from == d(from))
                .unwrap_or_else(|| panic!("no holiday from {from}"));
            assert_eq!(h.name, *name, "{from}");
            assert_eq!((h.to - h.from).num_days() + 1, *days, "{from} {name}");
            let listed: Vec<NaiveDate> = work.iter().map(|w| d(w)).collect();
            assert_eq!(h.work, listed, "{from} {name}");
        }
    }

    #[test]
    fn working_days_across_2026_and_2023_holidays() {
        let cal = WorkCalendar::embedded();
        // 春节 2026: Feb 15 (Sun) – Feb 23 (Mon) off, Sat Feb 14 and Sat Feb 28 worked.
        let fri = t("2026-02-13T11:00:00+08:00");
        assert_eq!(cal.add_working_days(fri, 1), t("2026-02-14T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 2), t("2026-02-24T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 5), t("2026-02-27T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 6), t("2026-02-28T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(fri, 7), t("2026-03-02T18:00:00+08:00"));
        assert_eq!(
            cal.working_days_between(fri, t("2026-03-02T09:00:00+08:00")),
            7
        );
        // Received on the first day of 春节: the first working day after it counts as day 1.
        let eve = t("2026-02-15T20:00:00+08:00");
        assert_eq!(cal.add_working_days(eve, 0), t("2026-02-24T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(eve, 1), t("2026-02-24T18:00:00+08:00"));
        // 国庆 2026: Oct 1–7 off; Sun Sep 20 and Sat Oct 10 worked.
        let sat = t("2026-09-19T10:00:00+08:00");
        assert_eq!(cal.add_working_days(sat, 1), t("2026-09-20T18:00:00+08:00"));
        let wed = t("2026-09-30T10:00:00+08:00");
        assert_eq!(cal.add_working_days(wed, 1), t("2026-10-08T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(wed, 3), t("2026-10-10T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(wed, 4), t("2026-10-12T18:00:00+08:00"));
        // 中秋节 2026 (Sep 25–27) is a plain long weekend: Thu Sep 24 + 1 → Mon Sep 28.
        let thu = t("2026-09-24T10:00:00+08:00");
        assert_eq!(cal.add_working_days(thu, 1), t("2026-09-28T18:00:00+08:00"));
        // 中秋节、国庆节 2023: Sep 29 – Oct 6 off, Sat Oct 7 and Sun Oct 8 worked.
        let th = t("2023-09-28T10:00:00+08:00");
        assert_eq!(cal.add_working_days(th, 1), t("2023-10-07T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(th, 2), t("2023-10-08T18:00:00+08:00"));
        assert_eq!(cal.add_working_days(th, 3), t("2023-10-09T18:00:00+08:00"));
        // 元旦 2026: Jan 1–3 off, Sun Jan 4 worked.
        let wed = t("2025-12-31T10:00:00+08:00");
        assert_eq!(cal.add_working_days(wed, 1), t("2026-01-04T18:00:00+08:00"));
        // Across the turn of the year 2022/2023 (元旦 Dec 31 – Jan 2).
        let fri = t("2022-12-30T10:00:00+08:00");
        assert_eq!(cal.add_working_days(fri, 1), t("2023-01-03T18:00:00+08:00"));
        // Backwards, for reminders: one working day before the day after a holiday is the
        // last working day before it (a worked weekend day counts).
        assert_eq!(
            cal.sub_working_days(t("2026-02-24T18:00:00+08:00"), 1),
            t("2026-02-14T18:00:00+08:00")
        );
        assert_eq!(
            cal.sub_working_days(t("2026-10-08T18:00:00+08:00"), 1),
            t("2026-09-30T18:00:00+08:00")
        );
        assert_eq!(
            cal.sub_working_days(t("2026-10-12T09:00:00+08:00"), 1),
            t("2026-10-10T09:00:00+08:00")
        );
        assert_eq!(
            cal.nth_working_day_before(d("2026-03-02"), 0),
            d("2026-03-02")
        );
        // add then subtract returns to the working day started from.
        let mut day = d("2022-01-03");
        while day < d("2026-12-31") {
            if cal.is_working_day(day) {
                for n in [1, 3, 15] {
                    let fwd = cal.nth_working_day_after(day, n);
                    assert_eq!(cal.nth_working_day_before(fwd, n), day, "{day} ± {n}");
                }
            }
            day = day.succ_opt().unwrap();
        }
        // No panic at the start of time either.
        let _ = cal.sub_working_days(DateTime::<FixedOffset>::MIN_UTC.fixed_offset(), u32::MAX);
    }

    #[test]
    fn policy_and_12345_order() {
        let p = DeadlinePolicy::default();
        let r = t("2024-02-08T15:00:00+08:00"); // Thursday before 春节
        let dl = p.deadlines_for(Channel::Hotline12350, r, None);
        assert_eq!(dl.sign_for, t("2024-02-09T18:00:00+08:00"));
        assert_eq!(dl.first_contact, t("2024-02-19T18:00:00+08:00"));
        assert!(!dl.reply_from_channel);
        // A 12345 order's own deadline wins for the reply, not for the other steps.
        let own = t("2024-02-23T17:00:00+08:00");
        let dl = p.deadlines_for(Channel::Hotline12345, r, Some(own));
        assert_eq!(dl.reply, own);
        assert!(dl.reply_from_channel);
        assert_eq!(dl.sign_for, t("2024-02-09T18:00:00+08:00"));
        // Ignored for other channels.
        let dl = p.deadlines_for(Channel::Email, r, Some(own));
        assert_ne!(dl.reply, own);
        // Per-channel overrides from TOML.
        let p: DeadlinePolicy = toml::from_str(
            "reply = 20\n[channels.hotline_12345]\nfirst_contact = 1\n[channels.email]\nreply = 10\n",
        )
        .unwrap();
        assert_eq!(p.sign_for, 1);
        assert_eq!(p.days_for(Channel::Hotline12345), (1, 1, 15, 20));
        assert_eq!(p.days_for(Channel::Email), (1, 3, 15, 10));
        assert_eq!(p.days_for(Channel::WebForm), (1, 3, 15, 20));
    }
}
