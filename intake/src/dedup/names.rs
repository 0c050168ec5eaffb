//! Subject keys: the distinctive core of an institution's name, and the names found in a text.
//!
//! A name as written — "鞍山市铁东区恒安职业技能培训学校", "恒安职业技能陪训学校", "鞍山恒安" — is
//! reduced in steps: fold (width, script, case, punctuation, a few common typos), drop leading
//! determiners (一家, 有个…) and leading place names (the caller's known places first, then any
//! 2–7-character token ending in 省/市/区/县/旗/镇/乡/街道), drop trailing company forms and
//! institution types (有限公司, 厂, 培训学校, 考试点…), and finally remove generic words anywhere
//! (职业技能, 安全技术, 化工, 金属冶炼…). What is left ("恒安") is the key. Two keys name the same
//! subject when equal, when the shorter (two characters at least) is contained in the longer, or when
//! they are close by edit distance. Nothing here knows any particular institution: only the shape of
//! Chinese institution names.

use crate::normalize::normalize_text;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use once_cell::sync::Lazy;

/// Typos and variant writings seen in hand-typed reports, folded before anything else.
const TYPOS: &[(&str, &str)] = &[
    ("陪训", "培训"),
    ("倍训", "培训"),
    ("培圳", "培训"),
    ("考式", "考试"),
    ("考试站", "考试点"),
    ("技木", "技术"),
    ("公思", "公司"),
    ("有限公可", "有限公司"),
    ("有线公司", "有限公司"),
    ("职业技术培训", "职业技能培训"),
];

/// Words that open a noun phrase without naming anything.
const DETERMINERS: &[&str] = &[
    "一家", "一个", "一所", "有家", "有个", "这家", "那家", "这个", "那个", "该", "本", "其他",
    "别的", "有的", "一些", "正规", "这种", "那种", "同类", "小", "大型", "个别", "某些",
];

/// Trailing company forms and institution types, removed repeatedly from the end of a name.
const TRAILING: &[&str] = &[
    "有限责任公司",
    "股份有限公司",
    "有限公司",
    "分公司",
    "总公司",
    "集团",
    "公司",
    "厂",
    "经营部",
    "网站",
    "app",
    "小程序",
    "公众号",
    "平台",
    "考试点",
    "考点",
    "考场",
    "考试中心",
    "考务中心",
    "考试站",
    "培训学校",
    "职业学校",
    "学校",
    "培训中心",
    "培训基地",
    "培训机构",
    "培训班",
    "机构",
    "学堂",
    "中心",
    "分校",
    "工作室",
];

/// Generic words: kinds of institution and of business, removed anywhere to leave the distinctive
/// part of a name.
const GENERIC: &[&str] = &[
    "职业技能",
    "职业培训",
    "职业资格",
    "安全技术",
    "安全生产",
    "安全培训",
    "特种作业",
    "职业",
    "技能",
    "培训",
    "安全",
    "技术",
    "考试",
    "生产",
    "教育",
    "科技",
    "网络",
    "信息",
    "服务",
    "咨询",
    "管理",
    "金属冶炼",
    "冶炼",
    "金属",
    "精细化工",
    "化工",
    "化学",
    "烟花爆竹",
    "烟花",
    "爆竹",
    "花炮",
    "批发",
    "零售",
    "制造",
    "加工",
    "机械",
    "建材",
    "建筑",
    "安装",
    "工程",
    "石料",
    "矿业",
    "选矿",
    "开采",
    "铸造",
    "制品",
    "实业",
    "贸易",
    "商贸",
    "发展",
    "钢结构",
    "钢铁",
    "物流",
    "运输",
    "服装",
    "电子",
    "线上",
    "在线",
    "学习",
    "学习",
    "全国",
    "国家",
    "中国",
    "检修",
    "石化",
    "能源",
    "新材料",
    "材料",
    "精密",
    // Words of the field that are no part of a name ("查询平台", "应急管理部官网").
    "应急管理部",
    "应急管理局",
    "应急管理",
    "应急部",
    "应急局",
    "应急",
    "有关部门",
    "相关部门",
    "部门",
    "政府",
    "官方",
    "官网",
    "查询",
    "证书",
    "操作证",
    "原料",
    "合格",
    "考核",
    "能力",
    "知识",
    "办证",
    "假证",
    "假冒",
    "仿冒",
];

/// Suffixes that end an institution name in running text.
const NAME_SUFFIXES: &[&str] = &[
    "有限责任公司",
    "股份有限公司",
    "有限公司",
    "公司",
    "培训学校",
    "职业学校",
    "学校",
    "培训中心",
    "中心",
    "考试点",
    "考点",
    "平台",
    "网站",
    "app",
    "小程序",
    "学堂",
    "厂",
    "工作室",
    "经营部",
    "培训机构",
];

/// Words after which a name starts (the name is what follows the last of them).
const STOPS: &[&str] = &[
    "的", "在", "是", "叫", "名为", "名叫", "称", "那边", "这边", "附近", "旁边", "一带", "位于",
    "举报", "反映", "来电", "我们", "我", "他们", "了", "和", "与", "及", "向", "到", "给", "对",
    "被", "把", "让", "说", "为", "去", "从", "由", "内", "一家", "这家", "那家", "有家", "一个",
    "有个", "这个", "那个", "一所", "某", "该", "此",
];

/// Words that begin with a stop word but belong inside names.
const BOUND_WORDS: &[&str] = &["在线", "和平", "和谐", "为民", "对外", "内蒙"];

/// Characters of running clauses that institution names practically never contain: a candidate name
/// holding one is a piece of a sentence ("请依法查处并倒查平台", "来电人不清楚网站").
const CLAUSE_CHARS: &[char] = &[
    '请', '不', '没', '了', '都', '并', '也', '就', '还', '吗', '呢', '吧', '啊', '很', '太', '又',
    '再', '已', '曾', '要', '想', '其', '这', '那', '哪', '谁', '么', '怎', '样', '些', '啥', '满',
    '着', '跟', '往', '另', '面', '让', '被', '把', '几', '只', '您', '你', '他', '她', '它', '们',
    '说', '听', '看', '问',
];

fn is_clause(s: &str) -> bool {
    s.chars().any(|c| CLAUSE_CHARS.contains(&c)) || s.contains("指定")
}

/// Characters after 厂/中心/… that show the suffix is a word of its own (厂里, 中心区…).
const SUFFIX_BLOCKERS: &[char] = &['里', '子', '长', '房', '区', '内', '外', '务', '方'];

/// Place tokens whose last character looks like a division suffix but are no place.
const NOT_PLACES: &[&str] = &[
    "小区",
    "社区",
    "园区",
    "景区",
    "厂区",
    "矿区",
    "校区",
    "营业区",
    "作业区",
    "库区",
];

const PLACE_SUFFIXES: &[&str] = &["街道", "省", "市", "区", "县", "旗", "镇", "乡"];

fn ac(words: &[&str]) -> AhoCorasick {
    // The patterns are fixed and small: building cannot fail; fall back to an empty automaton.
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(words)
        .unwrap_or_else(|_| AhoCorasick::new(Vec::<&str>::new()).expect("empty automaton"))
}

static TYPOS_AC: Lazy<AhoCorasick> =
    Lazy::new(|| ac(&TYPOS.iter().map(|t| t.0).collect::<Vec<_>>()));
static GENERIC_AC: Lazy<AhoCorasick> = Lazy::new(|| ac(GENERIC));
static SUFFIX_AC: Lazy<AhoCorasick> = Lazy::new(|| ac(NAME_SUFFIXES));
static STOP_AC: Lazy<AhoCorasick> = Lazy::new(|| ac(STOPS));

/// Is this character part of a name (Han, Latin letter or digit)?
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric()
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// Folds text the way keys are compared: normalized, lower-case, typos mended. Punctuation is kept
/// (it separates names in running text).
pub(crate) fn fold(text: &str) -> String {
    let t = normalize_text(text).to_lowercase();
    let replacements: Vec<&str> = TYPOS.iter().map(|t| t.1).collect();
    TYPOS_AC.replace_all(&t, &replacements)
}

/// [`fold`] for text that is already [`normalize_text`]-ed (the probe's text): case and typos only.
pub(crate) fn fold_normalized(text: &str) -> String {
    let t = text.to_lowercase();
    let replacements: Vec<&str> = TYPOS.iter().map(|t| t.1).collect();
    TYPOS_AC.replace_all(&t, &replacements)
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn strip_prefix_any<'a>(s: &'a str, words: &[&str]) -> Option<&'a str> {
    words
        .iter()
        .filter_map(|w| s.strip_prefix(w))
        .find(|rest| !rest.is_empty())
}

/// Removes leading place names: the caller's known ones (longest first), then generic division tokens.
fn strip_places<'a>(mut s: &'a str, places: &[String]) -> &'a str {
    'outer: loop {
        for p in places {
            if p.is_empty() {
                continue;
            }
            if let Some(rest) = s.strip_prefix(p.as_str()) {
                if char_len(rest) >= 2 {
                    s = rest;
                    continue 'outer;
                }
            }
        }
        // A token of 2–7 Han characters ending in a division suffix.
        let chars: Vec<(usize, char)> = s.char_indices().take(10).collect();
        for n in 2..=7usize {
            if n >= chars.len() {
                break;
            }
            if !chars[..n].iter().all(|(_, c)| is_han(*c)) {
                break;
            }
            let at = chars[n].0;
            let rest = &s[at..];
            for suf in PLACE_SUFFIXES {
                if let Some(after) = rest.strip_prefix(suf) {
                    let token = &s[..at + suf.len()];
                    let next = after.chars().next();
                    let blocked = NOT_PLACES.iter().any(|np| token.ends_with(np))
                        || (*suf == "市" && matches!(next, Some('场')))
                        || (*suf == "区" && matches!(next, Some('域')));
                    if !blocked && char_len(after) >= 2 {
                        s = after;
                        continue 'outer;
                    }
                }
            }
        }
        return s;
    }
}

/// The key of a name, with the caller's known place names; `None` when nothing distinctive is left
/// (a generic phrase such as "一家化工厂", or an anonymised "某培训学校").
pub(crate) fn key_with_places(name: &str, places: &[String]) -> Option<String> {
    let folded = fold(name);
    // A quoted part is the proper name ("“全国特种作业操作证查询中心”网站").
    if let Some(q) = quoted_inside(&folded) {
        return quoted_key(q, places);
    }
    let folded: String = folded.chars().filter(|c| is_name_char(*c)).collect();
    // A structured name made only of generic words ("全国特种作业操作证查询中心") is still a name.
    key_of_folded(&folded, places).or_else(|| {
        if DETERMINERS.iter().any(|d| folded.starts_with(d)) {
            None
        } else {
            quoted_key(&folded, places)
        }
    })
}

/// The first quoted part of a name, if any.
fn quoted_inside(s: &str) -> Option<&str> {
    let open = s.find(['“', '「', '《', '"'])?;
    let ol = s[open..].chars().next().map_or(1, |c| c.len_utf8());
    let rest = &s[open + ol..];
    let close = rest.find(['”', '」', '》', '"'])?;
    let inner = &rest[..close];
    ((2..=16).contains(&char_len(inner)) && inner.chars().all(is_name_char)).then_some(inner)
}

/// The key of a quoted name: the writer marked it as a proper name, so generic words stay; only
/// places and trailing institution types go.
fn quoted_key(inner: &str, places: &[String]) -> Option<String> {
    let s = strip_places(inner, places);
    let mut core = s.to_string();
    while let Some(t) = TRAILING
        .iter()
        .find(|t| core.len() > t.len() && core.ends_with(*t))
    {
        core.truncate(core.len() - t.len());
    }
    let distinctive = GENERIC_AC.replace_all(&core, &vec![""; GENERIC.len()]);
    let n = char_len(&core);
    let ok =
        n >= 2 && (n >= 3 || !distinctive.is_empty()) && !core.contains('某') && !is_clause(&core);
    ok.then_some(core)
}

fn key_of_folded(folded: &str, places: &[String]) -> Option<String> {
    if folded.contains('某') || folded.is_empty() {
        return None;
    }
    let mut s: &str = folded;
    loop {
        let before = s;
        if let Some(rest) = strip_prefix_any(s, DETERMINERS) {
            s = rest;
        }
        s = strip_places(s, places);
        if s == before {
            break;
        }
    }
    if TRAILING.contains(&s) || is_clause(s) {
        return None;
    }
    let mut core = s.to_string();
    loop {
        let mut changed = false;
        for t in TRAILING {
            if core.len() > t.len() && core.ends_with(t) {
                core.truncate(core.len() - t.len());
                changed = true;
                break;
            }
        }
        if !changed {
            break;
        }
    }
    let distinctive = GENERIC_AC.replace_all(&core, &vec![""; GENERIC.len()]);
    let distinctive = TRAILING
        .iter()
        .fold(distinctive, |d, t| if d == *t { String::new() } else { d });
    let n = char_len(&distinctive);
    if n >= 2 {
        Some(distinctive)
    } else if n == 1 && char_len(&core) >= 2 && !TRAILING.contains(&core.as_str()) {
        Some(core)
    } else {
        None
    }
}

/// Public form: the key of a name without any known places.
pub(crate) fn subject_key(name: &str) -> String {
    key_with_places(name, &[]).unwrap_or_default()
}

/// Institution names found in running text, as keys (deduplicated, in order of appearance).
pub(crate) fn mentions(folded: &str, places: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |k: Option<String>| {
        if let Some(k) = k {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    };
    // 1. Runs of name characters ending in an institution suffix.
    for m in SUFFIX_AC.find_iter(folded) {
        let after = folded[m.end()..].chars().next();
        let suffix = &folded[m.start()..m.end()];
        if (suffix == "厂" || suffix == "中心" || suffix == "学校")
            && after.is_some_and(|c| SUFFIX_BLOCKERS.contains(&c))
        {
            continue;
        }
        let head = &folded[..m.start()];
        // Walk back over name characters, at most 16.
        let mut start = head.len();
        for (n, (i, c)) in head.char_indices().rev().enumerate() {
            if !is_name_char(c) || n >= 16 {
                break;
            }
            start = i;
        }
        let mut run = &head[start..];
        // The name starts after the last stop word inside the run.
        // The last stop word starts the name, unless it is the first half of a word that belongs
        // to names (在线, 为民, 和平 …: a stop word followed by a name character it is bound to).
        if let Some(last) = STOP_AC
            .find_iter(run)
            .filter(|m| !BOUND_WORDS.iter().any(|w| run[m.start()..].starts_with(w)))
            .last()
        {
            run = &run[last.end()..];
        }
        // Digits opening the run are dates or counts, not names.
        run = run.trim_start_matches(|c: char| c.is_ascii_digit());
        if run.is_empty() {
            // "“安学通”app": the name is the quoted text just before the suffix.
            if let Some(q) = quoted_before(head) {
                push(quoted_key(q, places));
            }
            continue;
        }
        let mut name = String::with_capacity(run.len() + suffix.len());
        name.push_str(run);
        name.push_str(suffix);
        let k = key_of_folded(&name, places);
        if k.is_none() {
            if let Some(q) = quoted_before(&head[..start]) {
                push(quoted_key(q, places));
                continue;
            }
        }
        push(k);
    }
    // 2. Quoted names introduced by 叫/名为/称 or followed by a suffix ("叫“湘瑞烟花”", "平台“沪安学堂”").
    let mut rest = folded;
    let mut offset = 0;
    while let Some(open) = rest.find(['“', '「', '《', '"']) {
        let after_open = &rest[open..];
        let ol = after_open.chars().next().map_or(1, |c| c.len_utf8());
        let inner_start = offset + open + ol;
        let tail = &folded[inner_start..];
        let close = tail.find(['”', '」', '》', '"']);
        let Some(close) = close else { break };
        let inner = &tail[..close];
        let before = &folded[..offset + open];
        let cue_before = [
            "叫",
            "名为",
            "名叫",
            "称",
            "平台",
            "网站",
            "app",
            "小程序",
            "机构",
            "举报",
        ]
        .iter()
        .any(|c| before.ends_with(c));
        let inner_ok = (2..=16).contains(&char_len(inner)) && inner.chars().all(is_name_char);
        if inner_ok && cue_before {
            push(quoted_key(inner, places));
        }
        let consumed = inner_start + close;
        offset = consumed;
        rest = &folded[consumed..];
        // Skip the closing quote.
        if let Some(c) = rest.chars().next() {
            offset += c.len_utf8();
            rest = &folded[offset..];
        }
    }
    out
}

/// The quoted text that ends exactly at the end of `head`, if any.
fn quoted_before(head: &str) -> Option<&str> {
    let close = head.chars().next_back()?;
    if !matches!(close, '”' | '」' | '》' | '"') {
        return None;
    }
    let inner_end = head.len() - close.len_utf8();
    let inner_all = &head[..inner_end];
    let open = inner_all.rfind(['“', '「', '《', '"'])?;
    let ol = inner_all[open..].chars().next().map_or(1, |c| c.len_utf8());
    let inner = &inner_all[open + ol..];
    ((2..=16).contains(&char_len(inner)) && inner.chars().all(is_name_char)).then_some(inner)
}

/// How two keys relate: `Some(strength)` when they name the same subject.
pub(crate) fn keys_match(a: &str, b: &str) -> Option<(f32, &'static str)> {
    if a == b {
        return Some((1.0, "相同"));
    }
    let (short, long) = if char_len(a) <= char_len(b) {
        (a, b)
    } else {
        (b, a)
    };
    let ns = char_len(short);
    if ns >= 2 && long.contains(short) {
        return Some((0.85, "包含"));
    }
    let nl = char_len(long);
    // A brand is told apart by its first characters (金川 / 顺川 …证书查询网): a small edit
    // elsewhere is a typo or a variant form, an edit there is another subject.
    let same_start = short.chars().take(2).eq(long.chars().take(2));
    if ns >= 3 && ns * 4 >= nl * 3 && same_start {
        let d = levenshtein(short, long);
        let sim = 1.0 - d as f32 / nl as f32;
        if sim >= 0.75 {
            return Some((0.7, "相近"));
        }
    }
    None
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keys_of_names() {
        assert_eq!(subject_key("鞍山市铁东区恒安职业技能培训学校"), "恒安");
        assert_eq!(subject_key("恒安职业技能陪训学校"), "恒安");
        assert_eq!(subject_key("海城市瑞鳌金属冶炼有限公司"), "瑞鳌");
        assert_eq!(
            subject_key("“全国特种作业操作证查询中心”网站"),
            subject_key("全国特种作业操作证查询中心")
        );
        assert_eq!(subject_key("宁乡市花明楼镇某建材厂"), "");
        assert_eq!(subject_key("一家化工厂"), "");
        assert_eq!(subject_key("仙桃市安顺安全生产考试点"), "安顺");
        let p = places(&["山东省", "山东", "泰安市", "泰安", "岱岳区", "岱岳"]);
        assert_eq!(
            key_with_places("泰安岱岳安达考点", &p).as_deref(),
            Some("安达")
        );
    }

    #[test]
    fn names_in_text() {
        let t = fold("来电人反映：汤岗子那边的瑞祥烟花爆竹批发公司，安全员是老板亲戚");
        assert_eq!(mentions(&t, &[]), vec!["瑞祥".to_string()]);
        let t = fold("举报“安学通”APP（重庆安学通网络科技有限公司，在渝北区）");
        let m = mentions(&t, &places(&["重庆市", "重庆", "渝北区", "渝北"]));
        assert!(m.contains(&"安学通".to_string()), "{m:?}");
        let t = fold("我们厂的人都没有培训，该厂工人说别的学校不让去");
        assert!(mentions(&t, &[]).is_empty(), "{:?}", mentions(&t, &[]));
    }

    #[test]
    fn matching() {
        assert!(keys_match("安达", "泰安岱岳安达").is_some());
        assert!(keys_match("鑫川", "渝寿").is_none());
        assert!(keys_match("全国特种作业操作证查询", "全国特种作业操作证查询").is_some());
    }
}
