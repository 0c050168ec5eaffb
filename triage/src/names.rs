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

/// Development and function zones that are county-level rows (经开区、高新区 …): the kind of zone
/// (how the official name ends) and the usual ways of writing that kind, official first.
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
    (
        "高新技术产业园区",
        &["高新技术产业园区", "高新技术产业开发区", "高新区"],
    ),
];

/// Function zones whose name ends in a generic kind word (管理区, 示范区 …): the kind and its usual
/// forms. Their short form without suffix is generated as for any county as well.
const FUNCTION_KINDS: &[(&str, &[&str])] = &[
    ("经济综合实验区", &["经济综合实验区", "实验区", "区"]),
    ("城乡一体化示范区", &["城乡一体化示范区", "示范区"]),
    ("现代产业园区", &["现代产业园区", "产业园区", "产业园"]),
    ("工业园区", &["工业园区", "工业园", "园区"]),
    ("风景名胜区", &["风景名胜区", "风景区", "景区"]),
    ("临港开发区", &["临港开发区", "临港经开区"]),
    ("管理区", &["管理区"]),
    ("示范区", &["示范区"]),
    ("新区", &["新区"]),
    ("新城", &["新城"]),
];

/// Kinds whose bare form (without the city) is a common word for any new district: such a form
/// needs support from context.
fn generic_kind(kind: &str) -> bool {
    matches!(kind, "新区" | "新城")
}

/// The cores of a zone name without its kind: as written, without the province, without the
/// prefecture (kept only when at least two characters remain), and with `市` after the prefecture
/// (`合肥市经开区`). Each with whether it still names the city.
fn zone_cores(core: &str, province_short: &str, prefecture_short: &str) -> Vec<(String, bool)> {
    let core = core.strip_suffix('市').unwrap_or(core);
    let no_prov = if !province_short.is_empty() {
        core.strip_prefix(province_short).unwrap_or(core)
    } else {
        core
    };
    let mut cores = vec![(core.to_string(), true), (no_prov.to_string(), true)];
    if !prefecture_short.is_empty() {
        if let Some(bare) = no_prov.strip_prefix(prefecture_short) {
            let bare = bare.strip_prefix('市').unwrap_or(bare);
            if bare.chars().count() >= 2 {
                cores.push((bare.to_string(), false));
            }
            cores.push((format!("{prefecture_short}市{bare}"), true));
        }
    }
    cores
}

/// Name variants of an upper-level division (not townships).
pub fn variants(
    name: &str,
    level: Level,
    province_short: &str,
    prefecture_short: &str,
) -> Vec<Variant> {
    let mut out = Vec::new();
    let push = |out: &mut Vec<Variant>, text: String, strong: bool| {
        if text != name && !out.iter().any(|v: &Variant| v.text == text) {
            out.push(Variant { text, strong });
        }
    };
    for (kind, abbrevs) in ZONE_KINDS {
        if let Some(core) = name.strip_suffix(kind) {
            for (c, _) in zone_cores(core, province_short, prefecture_short) {
                if c.is_empty() {
                    continue;
                }
                for a in abbrevs.iter() {
                    push(&mut out, format!("{c}{a}"), true);
                }
            }
            return out;
        }
    }
    if level == Level::County {
        if let Some((kind, abbrevs)) = FUNCTION_KINDS.iter().find(|(k, _)| name.ends_with(k)) {
            let core = &name[..name.len() - kind.len()];
            for (c, with_city) in zone_cores(core, province_short, prefecture_short) {
                // A zone named after its city alone (兰州新区) has no bare form.
                if c.is_empty() || c.chars().count() < 2 {
                    continue;
                }
                let strong = with_city || !generic_kind(kind);
                for a in abbrevs.iter() {
                    // `航空港区` needs the core's own words: no one-character forms of a short core.
                    if a.chars().count() == 1 && c.chars().count() < 3 {
                        continue;
                    }
                    push(&mut out, format!("{c}{a}"), strong);
                }
            }
        }
    }
    let short = short_name(name, level);
    if short != name && short.chars().count() >= 2 {
        push(&mut out, short, false);
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
        assert!(v.iter().any(|v| v.text == "衡阳市松木经开区"));
        let v = variants("湖南衡阳高新技术产业园区", Level::County, "湖南", "衡阳");
        assert!(v.iter().any(|v| v.text == "衡阳高新区" && v.strong));
        let v = variants("唐山市汉沽管理区", Level::County, "河北", "唐山");
        assert!(v.iter().any(|v| v.text == "汉沽管理区" && v.strong));
        let v = variants("衡水滨湖新区", Level::County, "河北", "衡水");
        assert!(v.iter().any(|v| v.text == "滨湖新区" && !v.strong));
        assert!(v.iter().any(|v| v.text == "衡水市滨湖新区" && v.strong));
        let v = variants("郑州航空港经济综合实验区", Level::County, "河南", "郑州");
        assert!(v.iter().any(|v| v.text == "郑州航空港区" && v.strong));
        let v = variants("浦东新区", Level::County, "", "");
        assert!(v.iter().any(|v| v.text == "浦东" && !v.strong));
        let v = variants("兰州新区", Level::County, "甘肃", "兰州");
        assert!(!v.iter().any(|v| v.text == "新区"));
    }
}
