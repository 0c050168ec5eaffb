//! Normalization for matching: the original text is kept for display, and this module derives the
//! forms that rules, duplicate detection and search compare.

use unicode_normalization::UnicodeNormalization;

/// Text folded for matching: NFKC (full-width to half-width), control and zero-width characters
/// removed, whitespace runs folded to one space, traditional characters mapped to simplified.
///
/// ```
/// assert_eq!(intake::normalize_text("交３８００元\u{200b}  不用上課"), "交3800元 不用上课");
/// ```
pub fn normalize_text(text: &str) -> String {
    let folded = fold_width_and_space(text);
    to_simplified(&folded)
}

/// NFKC, invisible characters dropped, whitespace folded; no script conversion. Character offsets
/// in the result map to the meaning of the original closely enough for display of matches.
pub fn fold_width_and_space(text: &str) -> String {
    let mut out = Folded {
        text: String::with_capacity(text.len()),
        pending_space: false,
    };
    // Most characters of a report are their own NFKC form and never combine with a neighbour:
    // runs of them are copied as they are; only the stretches around the others go through the
    // full NFKC algorithm.
    let mut verbatim_from = 0;
    let mut slow_from: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_stable = chars.peek().is_none_or(|&(_, n)| nfkc_stable(n).is_some());
        let Some(folded) = nfkc_stable(c).filter(|_| next_stable) else {
            if slow_from.is_none() {
                out.push_verbatim(&text[verbatim_from..i]);
                slow_from = Some(i);
            }
            continue;
        };
        if let Some(from) = slow_from.take() {
            text[from..i].nfkc().for_each(|c| out.push(c));
            verbatim_from = i;
        }
        if folded != c || c.is_ascii_whitespace() || c.is_ascii_control() {
            out.push_verbatim(&text[verbatim_from..i]);
            out.push(folded);
            verbatim_from = i + c.len_utf8();
        }
    }
    match slow_from {
        Some(from) => text[from..].nfkc().for_each(|c| out.push(c)),
        None => out.push_verbatim(&text[verbatim_from..]),
    }
    out.text
}

/// The output of [`fold_width_and_space`]: invisible characters dropped, whitespace folded.
struct Folded {
    text: String,
    pending_space: bool,
}

impl Folded {
    fn push(&mut self, c: char) {
        if is_invisible(c) {
            return;
        }
        if c.is_whitespace() {
            self.pending_space = !self.text.is_empty();
            return;
        }
        if self.pending_space {
            self.text.push(' ');
            self.pending_space = false;
        }
        self.text.push(c);
    }

    /// Text known to need no folding (no whitespace, nothing invisible).
    fn push_verbatim(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if self.pending_space {
            self.text.push(' ');
            self.pending_space = false;
        }
        self.text.push_str(s);
    }
}

/// The NFKC form of `c` when it is one character that is a starter, composes with nothing before
/// it, and changes only by composing with what follows (ASCII, the common CJK blocks and
/// punctuation, full-width ASCII, the ideographic space): such a character is folded alone when
/// the next one is of the same sort.
fn nfkc_stable(c: char) -> Option<char> {
    match c as u32 {
        0..=0x7f
        | 0xb7
        | 0x2018..=0x201f
        | 0x3001..=0x3002
        | 0x3008..=0x3011
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff => Some(c),
        // Full-width ASCII variants are compatibility forms of ASCII (U+FF01 → U+0021 …).
        0xff01..=0xff5e => char::from_u32(c as u32 - 0xfee0),
        0x3000 => Some(' '),
        _ => None,
    }
}

/// Traditional to simplified Chinese (script only, no regional vocabulary).
pub fn to_simplified(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}'
        | '\u{feff}' | '\u{00ad}' | '\u{180e}')
        || (c.is_control() && !c.is_whitespace())
}

/// A telephone number in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phone {
    /// A mainland mobile number, 11 digits.
    Mobile(String),
    /// A landline with its area code, written `0412-5892213`.
    Landline {
        /// Area code with its leading zero (`0412`, `010`).
        area_code: String,
        /// The local number.
        number: String,
    },
    /// A number the channel masked (`186****9031`): kept as given, usable only for display.
    Masked(String),
}

impl Phone {
    /// Canonical text: `13904125566`, `0412-5892213`, or the masked form as given.
    pub fn canonical(&self) -> String {
        match self {
            Phone::Mobile(m) => m.clone(),
            Phone::Landline { area_code, number } => format!("{area_code}-{number}"),
            Phone::Masked(m) => m.clone(),
        }
    }
}

/// Parses a phone number in the forms people write: `+86 139 0412 5566`, `0086-13904125566`,
/// `(0412)5892213`, `0412 589 2213`, full-width digits. `None` when it is no phone number.
pub fn parse_phone(raw: &str) -> Option<Phone> {
    let s: String = raw
        .nfkc()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{3000}'))
        .collect();
    if s.is_empty() {
        return None;
    }
    if s.contains('*') {
        let ok = s.chars().all(|c| c.is_ascii_digit() || c == '*') && (7..=15).contains(&s.len());
        return ok.then(|| Phone::Masked(s));
    }
    let digits = s.strip_prefix('+').unwrap_or(&s);
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let national = digits
        .strip_prefix("0086")
        .or_else(|| {
            if s.starts_with('+') {
                digits.strip_prefix("86")
            } else {
                None
            }
        })
        .or_else(|| {
            if digits.len() == 13 && digits.starts_with("861") {
                digits.strip_prefix("86")
            } else {
                None
            }
        })
        .unwrap_or(digits);
    let b = national.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Some(Phone::Mobile(national.to_string()));
    }
    // A national landline number: 0 + area code (2 digits for 010/02x, else 3) + 7–8 digits.
    if b.first() == Some(&b'0') && b.len() >= 10 && b.len() <= 12 {
        let area_len = if b[1] == b'1' || b[1] == b'2' { 3 } else { 4 };
        let (area, number) = national.split_at(area_len);
        if (7..=8).contains(&number.len()) && !number.starts_with('0') {
            return Some(Phone::Landline {
                area_code: area.to_string(),
                number: number.to_string(),
            });
        }
        return None;
    }
    // A landline after the area code was stripped by +86 (e.g. +86 412 5892213).
    if s.starts_with('+') && b.len() >= 9 && b.len() <= 11 && b[0] != b'1' {
        return parse_phone(&format!("0{national}"));
    }
    None
}

/// Lower-cases and trims an e-mail address; `None` when it does not look like one.
pub fn normalize_email(raw: &str) -> Option<String> {
    let s: String = raw.nfkc().collect::<String>().trim().to_lowercase();
    let (local, domain) = s.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == ';' || c == '<' || c == '>');
    ok.then_some(s)
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// True when `s` is an 18-character resident identity number (GB 11643) with a valid check digit.
pub fn is_resident_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    ID_CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// True when `s` is an 18-character unified social credit code (GB 32100) with a valid check character.
pub fn is_credit_code(s: &str) -> bool {
    let chars: Vec<char> = s.chars().map(|c| c.to_ascii_uppercase()).collect();
    if chars.len() != 18 {
        return false;
    }
    let value = |c: char| USCC_CHARS.find(c).map(|i| i as u32);
    let mut sum = 0;
    for (c, w) in chars[..17].iter().zip(USCC_WEIGHTS) {
        match value(*c) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = (31 - sum % 31) % 31;
    value(chars[17]) == Some(check)
}

/// Identity numbers found in free text (they are reporter or subject identity data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityNumbers {
    /// Valid resident identity numbers.
    pub resident_ids: Vec<String>,
    /// Valid unified social credit codes.
    pub credit_codes: Vec<String>,
}

/// Finds checksum-valid resident ID numbers and unified social credit codes in text.
pub fn find_identity_numbers(text: &str) -> IdentityNumbers {
    static TOKEN: once_cell::sync::Lazy<regex::Regex> =
        once_cell::sync::Lazy::new(|| regex::Regex::new(r"[0-9A-Za-z]{18}").expect("valid regex"));
    let folded: String = text.nfkc().collect();
    let mut found = IdentityNumbers::default();
    for m in TOKEN.find_iter(&folded) {
        let t = m.as_str();
        let bounded = |i: Option<char>| i.is_none_or(|c| !c.is_ascii_alphanumeric());
        if !bounded(folded[..m.start()].chars().next_back())
            || !bounded(folded[m.end()..].chars().next())
        {
            continue;
        }
        if is_resident_id(t) {
            found.resident_ids.push(t.to_ascii_uppercase());
        } else if is_credit_code(t) {
            found.credit_codes.push(t.to_ascii_uppercase());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_invisible_characters_fold() {
        assert_eq!(normalize_text("ＡＢＣ１２３\u{200b}\u{feff}x"), "ABC123x");
        assert_eq!(normalize_text("  a \t\n b  "), "a b");
        assert_eq!(normalize_text("鞍山市\r\n铁东区"), "鞍山市 铁东区");
        assert_eq!(normalize_text("abc\u{0007}def"), "abcdef");
    }

    #[test]
    fn traditional_maps_to_simplified() {
        assert_eq!(normalize_text("監考老師在門口抽菸"), "监考老师在门口抽烟");
        assert_eq!(normalize_text("考場的攝像頭是壞的"), "考场的摄像头是坏的");
    }

    #[test]
    fn phones_in_every_written_form() {
        let mobile = Some(Phone::Mobile("13904125566".into()));
        assert_eq!(parse_phone("13904125566"), mobile);
        assert_eq!(parse_phone("+86 139 0412 5566"), mobile);
        assert_eq!(parse_phone("0086-139-0412-5566"), mobile);
        assert_eq!(parse_phone("8613904125566"), mobile);
        assert_eq!(parse_phone("１３９０４１２５５６６"), mobile);
        assert_eq!(
            parse_phone("0412-5892213").unwrap().canonical(),
            "0412-5892213"
        );
        assert_eq!(
            parse_phone("(0412) 589 2213").unwrap().canonical(),
            "0412-5892213"
        );
        assert_eq!(
            parse_phone("04125892213").unwrap().canonical(),
            "0412-5892213"
        );
        assert_eq!(
            parse_phone("010-12345678").unwrap().canonical(),
            "010-12345678"
        );
        assert_eq!(
            parse_phone("+86 412 5892213").unwrap().canonical(),
            "0412-5892213"
        );
        assert_eq!(
            parse_phone("186****9031"),
            Some(Phone::Masked("186****9031".into()))
        );
        assert_eq!(parse_phone("12345"), None);
        assert_eq!(parse_phone("hello"), None);
    }

    /// The reference: NFKC of the whole text, then the same dropping and folding.
    fn fold_reference(text: &str) -> String {
        let mut out = String::new();
        let mut pending_space = false;
        for c in text.nfkc() {
            if is_invisible(c) {
                continue;
            }
            if c.is_whitespace() {
                pending_space = !out.is_empty();
                continue;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn fold_agrees_with_whole_text_nfkc() {
        for t in [
            "交３８００元\u{200b}  不用上課，",
            "Ｅ\u{301}e\u{301}中\u{301}\u{301}，\u{301}a",
            "한국어 가\u{1161}\u{11a8} ﾊﾟｿｺﾝ ㈱ ① ﬁ ℡ ㎏",
            "\u{3000}开头　中间\t\n结尾\u{3000}",
            "",
            "\u{301}",
            "ａ",
            "全角ＡＢＣ１２３，半角abc123,emoji🙏混在一起",
        ] {
            assert_eq!(fold_width_and_space(t), fold_reference(t), "{t:?}");
        }
        // Random mixes of the characters that matter: stable ones, marks, compatibility forms.
        let pool: Vec<char> = "a e,中文，。、　 Ａ１·“”《》【】\u{301}\u{308}\u{3099}\u{200b}\u{1161}가ｶﾞ①ﬁ㈱😂\u{fe0f}\n\t"
            .chars()
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut t = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                t.push(pool[(seed % pool.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(1);
            assert_eq!(fold_width_and_space(&t), fold_reference(&t), "{t:?}");
        }
    }

    #[test]
    fn emails_lower_case() {
        assert_eq!(
            normalize_email(" Li_PDS@Example.NET "),
            Some("li_pds@example.net".into())
        );
        assert_eq!(normalize_email("not an email"), None);
    }

    #[test]
    fn resident_id_checksum() {
        assert!(is_resident_id("11010519491231002X"));
        assert!(is_resident_id("11010519491231002x"));
        assert!(!is_resident_id("110105194912310021"));
        assert!(!is_resident_id("1101051949123100"));
    }

    #[test]
    fn credit_code_checksum() {
        assert!(is_credit_code("91350100M000100Y43"));
        assert!(!is_credit_code("91350100M000100Y44"));
        assert!(!is_credit_code("91350100M000100YI3"));
    }

    #[test]
    fn identity_numbers_found_in_text() {
        let found = find_identity_numbers(
            "身份证号１１０１０５１９４９１２３１００２Ｘ，公司代码91350100M000100Y43。",
        );
        assert_eq!(found.resident_ids, vec!["11010519491231002X"]);
        assert_eq!(found.credit_codes, vec!["91350100M000100Y43"]);
    }
}
