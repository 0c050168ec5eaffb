//! Phone number → home region (landline area codes, mobile 7-digit prefixes), from the embedded
//! table derived from python-phonenumbers' geocoding data (see `data/README.md`).

use once_cell::sync::Lazy;
use std::collections::HashMap;

const DATA: &str = include_str!("../data/phone_regions.txt");
const B36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Prefix table: national number prefix (no trunk 0) → division code (2, 4 or 6 digits).
#[derive(Debug, Default)]
pub struct PhoneRegions {
    prefixes: Vec<(u32, u8, u16)>,
    codes: Vec<String>,
}

static REGIONS: Lazy<PhoneRegions> = Lazy::new(PhoneRegions::parse);

fn b36(c: u8) -> Option<u16> {
    B36.iter().position(|&x| x == c).map(|p| p as u16)
}

impl PhoneRegions {
    /// The embedded table, parsed on first use.
    pub fn get() -> &'static PhoneRegions {
        &REGIONS
    }

    fn parse() -> PhoneRegions {
        let mut codes: Vec<String> = Vec::new();
        let mut code_ix: HashMap<&str, u16> = HashMap::new();
        let mut prefixes: Vec<(u32, u8, u16)> = Vec::with_capacity(130_000);
        for line in DATA.lines() {
            if let Some(rest) = line.strip_prefix('@') {
                codes = rest.split(' ').map(str::to_string).collect();
            } else if let Some(rest) = line.strip_prefix('=') {
                let Some((p, c)) = rest.split_once(' ') else {
                    continue;
                };
                let Ok(pn) = p.parse::<u32>() else { continue };
                let ix = match code_ix.get(c) {
                    Some(&i) => i,
                    None => match codes.iter().position(|x| x == c) {
                        Some(i) => i as u16,
                        None => {
                            codes.push(c.to_string());
                            (codes.len() - 1) as u16
                        }
                    },
                };
                prefixes.push((pn, p.len() as u8, ix));
            } else if let Some((block, entries)) = line.split_once(':') {
                if block.len() != 4 || !block.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let base: u32 = block.parse().unwrap_or(0) * 1000;
                for e in entries.as_bytes().chunks_exact(5) {
                    let digits = std::str::from_utf8(&e[..3])
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok());
                    let ix = b36(e[3]).zip(b36(e[4])).map(|(a, b)| a * 36 + b);
                    if let (Some(d), Some(ix)) = (digits, ix) {
                        prefixes.push((base + d, 7, ix));
                    }
                }
            }
        }
        let _ = &mut code_ix;
        prefixes.sort_unstable_by_key(|p| (p.0, p.1));
        PhoneRegions { prefixes, codes }
    }

    /// Division code (province `21`, prefecture `2103`, or province-direct county `429004`) of a
    /// canonical phone (`13904125566`, `0412-5892213`); `None` for masked or unknown numbers.
    pub fn region(&self, phone: &str) -> Option<&str> {
        let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
        if phone.contains('*') || digits.len() < 7 {
            return None;
        }
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        // Landlines: the longest area code wins (3 then 2 digits); mobiles: 7 down to 3 digits.
        let max = if digits.starts_with('0') { 3 } else { 7 };
        for len in (2..=max.min(national.len())).rev() {
            let Ok(p) = national[..len].parse::<u32>() else {
                continue;
            };
            if let Ok(i) = self
                .prefixes
                .binary_search_by_key(&(p, len as u8), |e| (e.0, e.1))
            {
                return self
                    .codes
                    .get(self.prefixes[i].2 as usize)
                    .map(String::as_str);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        let r = PhoneRegions::get();
        assert_eq!(r.region("0412-5892213"), Some("2103"));
        assert_eq!(r.region("010-65432100"), Some("11"));
        assert_eq!(r.region("023-68154327"), Some("50"));
        assert_eq!(r.region("0431-85556677"), Some("2201"));
        assert_eq!(r.region("13904125566"), Some("2103"));
        assert_eq!(r.region("186****9031"), None);
    }
}
