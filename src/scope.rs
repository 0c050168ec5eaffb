//! Who may see what: every read and write is scoped to the user's jurisdiction subtree
//! (a province sees its prefectures and counties, a county only itself). A case is visible to its
//! handling jurisdiction and every ancestor, and to the jurisdiction of its locus; the home intake
//! desk (`home`) is visible to users whose jurisdiction covers the deployment's home. An operator
//! also reads the reports it logged itself. Out of scope reads as "not found", never "forbidden",
//! so that existence does not leak.

use crate::store::{CaseRow, User};

/// A user's reach.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The user (whose exclusions for conflict of interest the caller checks).
    pub user_id: i64,
    /// Division-code prefix of the subtree ("" = the whole country).
    pub prefix: String,
    /// Whether the user's subtree covers the deployment's home (sees the home intake desk).
    pub covers_home: bool,
}

/// The prefix that covers a division's subtree: `210000` → `21`, `210300` → `2103`,
/// `210302` → `210302`, `000000` → `` (nationwide). Township codes (9 digits) keep all digits.
pub fn subtree_prefix(code: &str) -> String {
    let code = code.trim();
    if code.len() == 6 {
        if code == "000000" || code == "100000" {
            return String::new();
        }
        if code.ends_with("0000") {
            return code[..2].to_string();
        }
        if code.ends_with("00") {
            return code[..4].to_string();
        }
    }
    code.to_string()
}

/// The codes of a subtree as a half-open range `[lower, upper)` for SQL, so that an index on the
/// code column can be used (`LIKE 'prefix%'` cannot, in SQLite nor in PostgreSQL outside the C
/// collation). The upper bound increments the last digit with carry (`2103` → `2104`, `2199` →
/// `22`), which orders the same in every collation for digit strings; `None` when unbounded.
pub fn code_range(prefix: &str) -> (String, Option<String>) {
    let mut upper: Vec<char> = prefix.chars().collect();
    while let Some(last) = upper.pop() {
        let next = match last {
            '0'..='8' => char::from(last as u8 + 1),
            '9' => continue,
            c => match char::from_u32(c as u32 + 1) {
                Some(n) => n,
                None => continue,
            },
        };
        upper.push(next);
        return (prefix.to_string(), Some(upper.into_iter().collect()));
    }
    (prefix.to_string(), None)
}

/// The SQL condition "`column` lies in the subtree", on the parameters `$lo` and `$hi` bound to
/// [`code_range`]'s bounds, the upper bound bound as `''` when there is none (PostgreSQL refuses a
/// parameter the statement does not use). An empty prefix matches every non-null code.
pub fn code_range_sql(
    column: &str,
    lo: usize,
    hi: usize,
    range: &(String, Option<String>),
) -> String {
    match range.1 {
        Some(_) => format!("({column} >= ${lo} AND {column} < ${hi})"),
        None => format!("({column} >= ${lo} AND ${hi} = '')"),
    }
}

impl Scope {
    /// The scope of a user in a deployment with this home jurisdiction (none = nationwide).
    pub fn of(user: &User, home: Option<&str>) -> Scope {
        let prefix = subtree_prefix(&user.jurisdiction);
        let home_prefix = home.map(subtree_prefix).unwrap_or_default();
        Scope {
            user_id: user.id,
            covers_home: home_prefix.starts_with(&prefix),
            prefix,
        }
    }

    /// True when a division code lies in the subtree.
    pub fn covers(&self, code: &str) -> bool {
        code.starts_with(&self.prefix)
    }

    /// True when the case is visible (its place only: exclusions are the caller's check).
    pub fn sees_case(&self, case: &CaseRow) -> bool {
        self.sees(
            &case.handling,
            case.locus.as_deref(),
            case.transfer.as_deref(),
        )
    }

    /// True when a case handled at `handling`, placed at `locus`, transferred to `transfer`, is
    /// visible.
    pub fn sees(&self, handling: &str, locus: Option<&str>, transfer: Option<&str>) -> bool {
        if handling == "home" {
            return self.covers_home || locus.is_some_and(|l| self.covers(l));
        }
        self.covers(handling)
            || locus.is_some_and(|l| self.covers(l))
            || transfer.is_some_and(|t| self.covers(t))
    }

    /// The place filter to apply to a search: the user's own, or a narrower one they asked for.
    /// `None` when what they asked for lies outside their subtree (nothing to find).
    pub fn place_filter(&self, asked: Option<&str>) -> Option<Option<String>> {
        match asked.filter(|p| !p.is_empty()) {
            None if self.prefix.is_empty() => Some(None),
            None => Some(Some(self.prefix.clone())),
            Some(p) if self.prefix.is_empty() => Some(Some(p.to_string())),
            Some(p) => {
                let p_prefix = subtree_prefix(p);
                if p_prefix.starts_with(&self.prefix) {
                    Some(Some(p.to_string()))
                } else if self.prefix.starts_with(&p_prefix) {
                    Some(Some(self.prefix.clone()))
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::Role;

    fn user(code: &str) -> User {
        User {
            id: 7,
            name: "u".into(),
            role: Role::Officer,
            jurisdiction: code.into(),
        }
    }

    pub(crate) fn case(handling: &str, locus: Option<&str>) -> CaseRow {
        CaseRow {
            id: 1,
            case_no: "TL2024000001".into(),
            state: "routed".into(),
            subject_name: None,
            subject_key: None,
            subject_kind: "training_institution".into(),
            categories: vec![],
            locus: locus.map(str::to_string),
            handling: handling.into(),
            referrals: vec![],
            transfer: None,
            deadline: None,
            due_at: None,
            report_count: 1,
            repeat_count: 0,
            version: 1,
            opened_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn code_ranges_bound_exactly_the_subtree() {
        assert_eq!(code_range("2103"), ("2103".into(), Some("2104".into())));
        assert_eq!(code_range("2199"), ("2199".into(), Some("22".into())));
        assert_eq!(code_range("21"), ("21".into(), Some("22".into())));
        assert_eq!(code_range("99"), ("99".into(), None));
        assert_eq!(code_range(""), ("".into(), None));
        let (lo, hi) = code_range("210399");
        let hi = hi.expect("bounded");
        for code in ["210399", "2103990", "210399001"] {
            assert!(code >= lo.as_str() && code < hi.as_str(), "{code}");
        }
        for code in ["210398", "2104", "210400", "home"] {
            assert!(!(code >= lo.as_str() && code < hi.as_str()), "{code}");
        }
    }

    #[test]
    fn prefixes_cover_subtrees() {
        assert_eq!(subtree_prefix("210000"), "21");
        assert_eq!(subtree_prefix("210300"), "2103");
        assert_eq!(subtree_prefix("210302"), "210302");
        assert_eq!(subtree_prefix("500000"), "50");
        assert_eq!(subtree_prefix("000000"), "");
    }

    #[test]
    fn each_level_sees_its_subtree_only() {
        let county_case = case("210302", Some("210302"));
        let exam_case = case("210300", Some("210381"));
        for (code, sees_county, sees_exam) in [
            ("210000", true, true),
            ("210300", true, true),
            ("210302", true, false),
            ("210381", false, true),
            ("370900", false, false),
        ] {
            let scope = Scope::of(&user(code), None);
            assert_eq!(scope.sees_case(&county_case), sees_county, "{code}");
            assert_eq!(scope.sees_case(&exam_case), sees_exam, "{code}");
        }
    }

    #[test]
    fn the_home_desk_is_seen_by_users_covering_home() {
        let home_case = case("home", None);
        assert!(Scope::of(&user("210300"), Some("210300")).sees_case(&home_case));
        assert!(Scope::of(&user("210000"), Some("210300")).sees_case(&home_case));
        assert!(!Scope::of(&user("210302"), Some("210300")).sees_case(&home_case));
        assert!(!Scope::of(&user("210300"), None).sees_case(&home_case));
        assert!(Scope::of(&user("000000"), None).sees_case(&home_case));
    }

    #[test]
    fn search_places_are_narrowed_to_the_subtree() {
        let scope = Scope::of(&user("210300"), None);
        assert_eq!(scope.place_filter(None), Some(Some("2103".into())));
        assert_eq!(
            scope.place_filter(Some("210302")),
            Some(Some("210302".into()))
        );
        assert_eq!(scope.place_filter(Some("21")), Some(Some("2103".into())));
        assert_eq!(scope.place_filter(Some("3709")), None);
    }
}
