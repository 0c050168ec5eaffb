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
    match first_conversion_at(&folded) {
        None => folded,
        Some(at) => convert_from(&folded, at),
    }
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
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        if slow_from.is_none() {
            // A plain character followed by another needs nothing: it stays in the verbatim run.
            i = last_of_plain_run(bytes, i);
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let next_at = i + c.len_utf8();
        let next_stable = text[next_at..]
            .chars()
            .next()
            .is_none_or(|n| nfkc_stable(n).is_some());
        let at = i;
        i = next_at;
        let Some(folded) = nfkc_stable(c).filter(|_| next_stable) else {
            if slow_from.is_none() {
                out.push_verbatim(&text[verbatim_from..at]);
                slow_from = Some(at);
            }
            continue;
        };
        if let Some(from) = slow_from.take() {
            text[from..at].nfkc().for_each(|c| out.push(c));
            verbatim_from = at;
        }
        if folded != c || c.is_ascii_whitespace() || c.is_ascii_control() {
            out.push_verbatim(&text[verbatim_from..at]);
            out.push(folded);
            verbatim_from = next_at;
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

/// Byte length of the character at `at` when it is *plain*: its own NFKC form alone (see
/// [`nfkc_stable`]), neither whitespace nor a control character. Decoded from the bytes: the
/// common characters of a report, ASCII and CJK, take a few instructions each.
#[inline]
fn plain_len(bytes: &[u8], at: usize) -> Option<usize> {
    let lead = *bytes.get(at)?;
    match lead {
        0x21..=0x7e => Some(1),
        // U+00B7 (middle dot).
        0xc2 => (bytes.get(at + 1) == Some(&0xb7)).then_some(2),
        // U+5000..U+9FFF: all CJK ideographs (the text is valid UTF-8: two bytes follow).
        0xe5..=0xe9 => Some(3),
        // U+4000..U+4FFF: CJK ideographs but for U+4DC0..U+4DFF (the hexagram symbols), which
        // are exactly the characters led by E4 B7.
        0xe4 => (bytes.get(at + 1) != Some(&0xb7)).then_some(3),
        // U+2000..U+3FFF.
        0xe2..=0xe3 => {
            let (b1, b2) = (*bytes.get(at + 1)?, *bytes.get(at + 2)?);
            let cp =
                (u32::from(lead & 0x0f) << 12) | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f);
            matches!(
                cp,
                0x2018..=0x201f | 0x3001..=0x3002 | 0x3008..=0x3011 | 0x3400..=0x4dbf | 0x4e00..=0x9fff
            )
            .then_some(3)
        }
        _ => None,
    }
}

/// The start of the last character of the run of plain characters beginning at `at` (`at`
/// itself when that character is not plain).
fn last_of_plain_run(bytes: &[u8], mut at: usize) -> usize {
    let Some(mut len) = plain_len(bytes, at) else {
        return at;
    };
    while let Some(next) = plain_len(bytes, at + len) {
        at += len;
        len = next;
    }
    at
}

/// Traditional to simplified Chinese (script only, no regional vocabulary).
pub fn to_simplified(text: &str) -> String {
    match first_conversion_at(text) {
        None => text.to_string(),
        Some(at) => convert_from(text, at),
    }
}

/// `text[..at]` as it is, then the conversion of the rest.
fn convert_from(text: &str, at: usize) -> String {
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    zhconv::get_builtin_converter(zhconv::Variant::ZhHans).convert_to(&text[at..], &mut out);
    out
}

/// What can start a conversion: the converter replaces occurrences of its source words (leftmost,
/// longest), so a character where no source word begins is left as it is.
struct ConversionStarts {
    /// Per basic-plane character, two bits: [`SINGLE`] when it is a source word by itself, else
    /// [`FIRST_OF_LONGER`] when it begins a longer one (one load per character of a report).
    class: Box<[u32; 0x10000 / 16]>,
    /// A Bloom filter of the longer words' first two characters ([`pair_bit`]): most pairs that
    /// begin no word are ruled out without the search in `pairs`.
    pair_filter: Vec<u64>,
    /// The first two characters of the longer source words, `(first << 32) | second`, sorted.
    pairs: Vec<u64>,
}

/// A source word by itself.
const SINGLE: u32 = 1;
/// The first character of a longer source word.
const FIRST_OF_LONGER: u32 = 2;

fn bit(set: &[u64], c: u32) -> bool {
    set.get(c as usize / 64)
        .is_some_and(|w| w & (1 << (c % 64)) != 0)
}

fn set_bit(set: &mut [u64], c: u32) {
    set[c as usize / 64] |= 1 << (c % 64);
}

/// The bit of a pair of characters in [`ConversionStarts::pair_filter`] (65,536 bits).
fn pair_bit(first: u32, second: u32) -> u32 {
    (first.wrapping_mul(0x9e37_79b1) ^ second.wrapping_mul(0x85eb_ca77)) >> 16
}

impl ConversionStarts {
    /// [`SINGLE`], [`FIRST_OF_LONGER`] or 0 for a basic-plane character; ASCII is always 0.
    #[inline]
    fn class(&self, c: u32) -> u32 {
        (self.class[(c as usize >> 4) & 0xfff] >> ((c & 15) * 2)) & 3
    }

    fn set_class(&mut self, c: u32, class: u32) {
        let word = &mut self.class[(c as usize >> 4) & 0xfff];
        let shift = (c & 15) * 2;
        // A single word wins over the start of a longer one (it is found first).
        let old = (*word >> shift) & 3;
        if c >= 0x80 && old != SINGLE {
            *word = (*word & !(3 << shift)) | (class << shift);
        }
    }

    fn begins_longer(&self, first: u32, second: u32) -> bool {
        bit(&self.pair_filter, pair_bit(first, second))
            && self
                .pairs
                .binary_search(&((u64::from(first) << 32) | u64::from(second)))
                .is_ok()
    }
}

static CONVERSION_STARTS: once_cell::sync::Lazy<ConversionStarts> =
    once_cell::sync::Lazy::new(|| {
        let mut starts = ConversionStarts {
            class: Box::new([0; 0x10000 / 16]),
            pair_filter: vec![0; 0x10000 / 64],
            pairs: Vec::new(),
        };
        for (from, _) in zhconv::tables::expand_table(zhconv::tables::ZH_HANS_TABLE) {
            let mut chars = from.chars().map(u32::from);
            let Some(first) = chars.next() else { continue };
            if first > 0xffff {
                continue; // the search stops at every character beyond the basic plane
            }
            match chars.next() {
                None => starts.set_class(first, SINGLE),
                Some(second) => {
                    starts.set_class(first, FIRST_OF_LONGER);
                    set_bit(&mut starts.pair_filter, pair_bit(first, second));
                    starts
                        .pairs
                        .push((u64::from(first) << 32) | u64::from(second));
                }
            }
        }
        starts.pairs.sort_unstable();
        starts.pairs.dedup();
        starts
    });

/// The first byte offset where the traditional-to-simplified converter could replace something,
/// if any: text before it is the same after conversion, and a conversion of the rest from there
/// is the conversion of the whole (a source word begins only where this finds one).
fn first_conversion_at(text: &str) -> Option<usize> {
    if text.is_ascii() {
        return None;
    }
    let starts = &*CONVERSION_STARTS;
    // The previous character when it begins a longer source word.
    let mut pending: Option<(usize, u32)> = None;
    let mut at = 0;
    let mut rest = text.as_bytes();
    loop {
        // Decoded by hand (the text is valid UTF-8): this loop sees every character of a report.
        let (c, len) = match *rest {
            [] => return None,
            [lead @ 0..=0x7f, ..] => (u32::from(lead), 1),
            [lead @ 0xc0..=0xdf, b1, ..] => {
                ((u32::from(lead & 0x1f) << 6) | u32::from(b1 & 0x3f), 2)
            }
            [lead @ 0xe0..=0xef, b1, b2, ..] => (
                (u32::from(lead & 0x0f) << 12) | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f),
                3,
            ),
            // Beyond the basic plane: left to the converter.
            _ => return Some(pending.map_or(at, |(first_at, _)| first_at)),
        };
        if let Some((first_at, first)) = pending.take() {
            if starts.begins_longer(first, c) {
                return Some(first_at);
            }
        }
        match starts.class(c) {
            SINGLE => return Some(at),
            FIRST_OF_LONGER => pending = Some((at, c)),
            _ => {}
        }
        at += len;
        rest = &rest[len..];
    }
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
        return ok.then_some(Phone::Masked(s));
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

    /// xorshift64 (13, 7, 17): the randomized tests' seeded generator; returns the new state.
    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

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
                t.push(pool[(xorshift(&mut seed) % pool.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(1);
            assert_eq!(fold_width_and_space(&t), fold_reference(&t), "{t:?}");
        }
    }

    /// The first character where a source word (or, beyond the basic plane, anything) could
    /// begin: the definition [`first_conversion_at`] implements.
    fn first_conversion_reference(text: &str) -> Option<usize> {
        let words: Vec<String> = zhconv::tables::expand_table(zhconv::tables::ZH_HANS_TABLE)
            .map(|(from, _)| from)
            .filter(|w| {
                w.chars()
                    .next()
                    .is_some_and(|c| c as u32 >= 0x80 && c as u32 <= 0xffff)
            })
            .collect();
        let first_of_longer = |c: char| {
            words
                .iter()
                .any(|w| w.chars().count() > 1 && w.starts_with(c))
        };
        let mut prev: Option<(usize, char)> = None;
        for (i, c) in text.char_indices() {
            if c as u32 > 0xffff {
                // Left to the converter from the character before when that one may begin a word.
                return Some(
                    prev.filter(|&(_, p)| first_of_longer(p))
                        .map_or(i, |(j, _)| j),
                );
            }
            let rest = &text[i..];
            let begins = words.iter().any(|w| {
                if w.chars().count() == 1 {
                    rest.starts_with(w.as_str())
                } else {
                    rest.starts_with(&w.chars().take(2).collect::<String>())
                }
            });
            if begins {
                return Some(i);
            }
            prev = Some((i, c));
        }
        None
    }

    #[test]
    fn conversion_start_agrees_with_its_definition() {
        let words: Vec<String> = zhconv::tables::expand_table(zhconv::tables::ZH_HANS_TABLE)
            .map(|(from, _)| from)
            .collect();
        let plain = [
            "鞍山市",
            "有一家",
            "培训",
            "学校",
            "，",
            "a1",
            "é",
            "（",
            "的",
            "干",
            "后",
        ];
        let mut seed = 0x1234_5678_9abc_def0_u64;
        let mut next = |n: usize| (xorshift(&mut seed) % n as u64) as usize;
        for _ in 0..300 {
            let mut t = String::new();
            for _ in 0..next(8) {
                match next(4) {
                    0 => t.push_str(&words[next(words.len())]),
                    1 => t.extend(words[next(words.len())].chars().take(1)),
                    _ => t.push_str(plain[next(plain.len())]),
                }
            }
            assert_eq!(
                first_conversion_at(&t),
                first_conversion_reference(&t),
                "{t:?}"
            );
        }
        for t in ["", "abc", "鞍山市铁东区", "報名", "一釐", "a𠀀", "后来"] {
            assert_eq!(
                first_conversion_at(t),
                first_conversion_reference(t),
                "{t:?}"
            );
        }
    }

    #[test]
    fn conversion_skips_only_what_the_converter_leaves() {
        let whole = |t: &str| zhconv::zhconv(t, zhconv::Variant::ZhHans);
        let words =
            zhconv::tables::expand_table(zhconv::tables::ZH_HANS_TABLE).map(|(from, _)| from);
        for (k, w) in words.enumerate() {
            // Every source word alone, after simplified text, and cut short.
            let cut: String = w
                .chars()
                .take(w.chars().count().saturating_sub(1))
                .collect();
            for t in [
                w.clone(),
                format!("来电人反映，{w}"),
                format!("一{w}老{cut}"),
                format!("abc{cut}"),
            ] {
                assert_eq!(to_simplified(&t), whole(&t), "{k} {t:?}");
            }
        }
        for t in [
            "",
            "abc",
            "鞍山市铁东区有一家培训学校，",
            "報名後一直沒有上課𠀀",
            "一釐",
        ] {
            assert_eq!(to_simplified(t), whole(t), "{t:?}");
            assert_eq!(normalize_text(t), whole(&fold_width_and_space(t)), "{t:?}");
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
