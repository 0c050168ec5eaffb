//! Name forms of divisions: short forms without suffix, development-zone abbreviations.

use crate::gazetteer::Level;

/// Province codes of the four municipalities.
pub const MUNICIPALITIES: [&str; 4] = ["11", "12", "31", "50"];

/// Ethnic group names that appear in autonomous division names (longest first where they nest).
const ETHNIC: &[&str] = &[
    "维吾尔",
    "柯尔克孜",
    "哈萨克",
    "塔吉克",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "鄂伦春",
    "达斡尔",
    "土家",
    "哈尼",
    "傈僳",
    "拉祜",
    "纳西",
    "景颇",
    "仫佬",
    "毛南",
    "仡佬",
    "布依",
    "布朗",
    "撒拉",
    "东乡",
    "保安",
    "裕固",
    "塔塔尔",
    "独龙",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "阿昌",
    "普米",
    "德昂",
    "朝鲜",
    "蒙古",
    "锡伯",
    "满",
    "回",
    "藏",
    "苗",
    "彝",
    "壮",
    "侗",
    "瑶",
    "白",
    "傣",
    "黎",
    "佤",
    "畲",
    "水",
    "羌",
    "怒",
    "京",
    "土",
    "各",
];

/// Grouping rows that are no place name of their own.
pub fn is_placeholder(name: &str) -> bool {
    matches!(
        name,
        "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
    )
}

/// Full names too generic or too short to count without support (`城区`, `和县`, `沙县`).
pub fn is_weak_full(name: &str) -> bool {
    name.chars().count() <= 2
        || matches!(
            name,
            "市中区"
                | "城中区"
                | "开发区"
                | "高新区"
                | "新城区"
                | "城关区"
                | "经济开发区"
                | "经济技术开发区"
                | "工业园区"
                | "工业园"
                | "开发区街道"
                | "高新区街道"
                | "新区"
                | "城区街道"
                | "城关街道"
        )
}

fn strip_ethnic(mut s: &str) -> &str {
    // `岫岩满族` → `岫岩`, `琼中黎族苗族` → `琼中`.
    loop {
        let Some(rest) = s.strip_suffix('族') else {
            return s;
        };
        match ETHNIC
            .iter()
            .find(|e| rest.ends_with(*e) && rest.len() > e.len())
        {
            Some(e) => s = &rest[..rest.len() - e.len()],
            None => return s,
        }
    }
}

/// The name without its administrative suffix; may be one character (callers drop those).
pub fn short_name(name: &str, level: Level) -> String {
    let suffixes: &[&str] = match level {
        Level::Province => &[
            "维吾尔自治区",
            "壮族自治区",
            "回族自治区",
            "特别行政区",
            "自治区",
            "省",
            "市",
        ],
        Level::Prefecture => &["自治州", "地区", "盟", "市"],
        Level::County => &[
            "自治县",
            "自治旗",
            "新区",
            "林区",
            "特区",
            "市",
            "区",
            "县",
            "旗",
        ],
        Level::Township => &["街道办事处", "街道", "办事处", "苏木", "镇", "乡"],
    };
    for s in suffixes {
        if let Some(rest) = name.strip_suffix(s) {
            let rest = if s.starts_with("自治") || *s == "乡" {
                strip_ethnic(rest)
            } else {
                rest
            };
            return rest.to_string();
        }
    }
    name.to_string()
}

/// Drops a trailing parenthetical: `东湖风景区街道（武昌）` → `东湖风景区街道`.
pub fn strip_parenthetical(name: &str) -> &str {
    match name.find(['（', '(']) {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// Short form of a township name when at least two characters remain.
pub fn township_short(name: &str) -> Option<&str> {
    for s in ["街道办事处", "街道", "办事处", "民族乡", "苏木", "镇", "乡"] {
        if let Some(rest) = name.strip_suffix(s) {
            let rest = if s.ends_with('乡') {
                strip_ethnic(rest)
            } else {
                rest
            };
            return (rest.chars().count() >= 2).then_some(rest);
        }
    }
    None
}

/// A generated name variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The text.
    pub text: String,
    /// Whether it carries a suffix (stands alone) or is a bare short form.
    pub strong: bool,
}

const ZONE_KINDS: &[(&str, &[&str])] = &[
    (
        "经济技术开发区",
        &["经济技术开发区", "经济开发区", "经开区", "开发区"],
    ),
    (
        "经济开发区",
        &["经济开发区", "经济技术开发区", "经开区", "开发区"],
    ),
    (
        "高新技术产业开发区",
        &["高新技术产业开发区", "高新技术开发区", "高新区"],
    ),
    ("高技术产业开发区", &["高技术产业开发区", "高新区"]),
    (
        "高新技术开发区",
        &["高新技术开发区", "高新技术产业开发区", "高新区"],
    ),
];

/// Name variants of an upper-level division (not townships).
pub fn variants(
    name: &str,
    level: Level,
    province_short: &str,
    prefecture_short: &str,
) -> Vec<Variant> {
    let mut out = Vec::new();
    for (kind, abbrevs) in ZONE_KINDS {
        if let Some(core) = name.strip_suffix(kind) {
            let core = core.strip_suffix('市').unwrap_or(core);
            let no_prov = if !province_short.is_empty() {
                core.strip_prefix(province_short).unwrap_or(core)
            } else {
                core
            };
            let mut cores = vec![core.to_string(), no_prov.to_string()];
            if !prefecture_short.is_empty() {
                if let Some(bare) = no_prov.strip_prefix(prefecture_short) {
                    if bare.chars().count() >= 2 {
                        cores.push(bare.to_string());
                    }
                }
            }
            for c in cores {
                if c.is_empty() {
                    continue;
                }
                for a in abbrevs.iter() {
                    let text = format!("{c}{a}");
                    if text != name && !out.iter().any(|v: &Variant| v.text == text) {
                        out.push(Variant { text, strong: true });
                    }
                }
            }
            return out;
        }
    }
    let short = short_name(name, level);
    if short != name && short.chars().count() >= 2 {
        out.push(Variant {
            text: short,
            strong: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(short_name("岫岩满族自治县", Level::County), "岫岩");
        assert_eq!(short_name("琼中黎族苗族自治县", Level::County), "琼中");
        assert_eq!(short_name("鞍山市", Level::Prefecture), "鞍山");
        assert_eq!(short_name("延边朝鲜族自治州", Level::Prefecture), "延边");
        assert_eq!(short_name("内蒙古自治区", Level::Province), "内蒙古");
        assert_eq!(short_name("广西壮族自治区", Level::Province), "广西");
        assert_eq!(township_short("汤岗子街道"), Some("汤岗子"));
        assert_eq!(township_short("大屯镇"), Some("大屯"));
        assert_eq!(township_short("新乡"), None);
        let v = variants("湖南衡阳松木经济开发区", Level::County, "湖南", "衡阳");
        assert!(v.iter().any(|v| v.text == "松木经开区" && v.strong));
        assert!(v.iter().any(|v| v.text == "衡阳松木经开区"));
    }
}
