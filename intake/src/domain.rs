//! The vocabulary of the field (DOMAIN.md §1–§3): channels, subject kinds, categories.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[doc = $label] #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in files, the API and the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label shown to users.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                match s.trim() {
                    $($code => Ok($name::$variant),)+
                    other => Err(UnknownCode { what: stringify!($name), code: other.to_string() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

/// A code that names no known value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} code {code:?}")]
pub struct UnknownCode {
    /// The kind of code (type name).
    pub what: &'static str,
    /// The offending code.
    pub code: String,
}

code_enum! {
    /// The channel a report arrived through (DOMAIN.md §1).
    Channel {
        Hotline12350 = "hotline_12350" / "12350热线",
        Hotline12345 = "hotline_12345" / "12345热线",
        WebForm = "web_form" / "政府网站举报窗口",
        Email = "email" / "电子邮件",
    }
}

code_enum! {
    /// Who is reported (DOMAIN.md §2).
    SubjectKind {
        TrainingInstitution = "training_institution" / "安全培训机构",
        ExamInstitution = "exam_institution" / "考试机构、考试点",
        ProductionUnit = "production_unit" / "生产经营单位",
        OnlinePlatform = "online_platform" / "网络培训平台",
        Counterfeiter = "counterfeiter" / "假冒网站、制售假证者",
        Other = "other" / "其他",
    }
}

code_enum! {
    /// What is alleged (DOMAIN.md §3).
    Category {
        T1 = "T1" / "不具备基本条件",
        T2 = "T2" / "教学走过场",
        T3 = "T3" / "培训档案不规范或造假",
        T4 = "T4" / "勾结考试、作弊、倒卖证书",
        T5 = "T5" / "扰乱培训市场、高价收费",
        T6 = "T6" / "网络培训作弊",
        E1 = "E1" / "不具备考试条件",
        E2 = "E2" / "教考不分离",
        E3 = "E3" / "未按计划组织考试",
        E4 = "E4" / "实操考试走过场",
        E5 = "E5" / "考风考纪问题",
        E6 = "E6" / "考试档案与录像问题",
        P1 = "P1" / "未制定或落实培训计划",
        P2 = "P2" / "特种作业人员无证或假证上岗",
        P3 = "P3" / "三项岗位人员未考核",
        P4 = "P4" / "培训记录不真实",
        F1 = "F1" / "假冒政府网站",
        F2 = "F2" / "制售假证",
        X = "X" / "非本领域事项",
    }
}

code_enum! {
    /// Another body that must act (DOMAIN.md §5).
    ReferralKind {
        MarketRegulation = "market_regulation" / "移送市场监管部门",
        PublicSecurity = "public_security" / "移送公安机关",
        ExamQualification = "exam_qualification" / "考虑暂停或取消考试资格",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.code().parse::<Category>().unwrap(), *c);
        }
        assert_eq!(
            "hotline_12345".parse::<Channel>().unwrap(),
            Channel::Hotline12345
        );
        assert!("fax".parse::<Channel>().is_err());
        assert_eq!(
            serde_json::to_string(&SubjectKind::ExamInstitution).unwrap(),
            "\"exam_institution\""
        );
    }
}
