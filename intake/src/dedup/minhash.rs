//! Character shingles, MinHash signatures and LSH band keys.
//!
//! Written here rather than taken from a crate: what is needed is ~60 lines (a seeded family of
//! multiply–shift hashes over 32-bit shingle hashes, and band keys), the signature must be cheap
//! enough to compute for every report (once, before the writer: `Featurizer::prepare`), and the
//! index must own its buckets so that it can cap them by recency and evict old reports — which the general
//! crates do not offer. The one measured (gaoya) did ~9,300 signatures/s per core, too slow for a
//! 1M-report rebuild at start-up, and its candidates still need exact verification; ours are verified
//! with exact Jaccard on the stored shingle sets anyway.

/// Number of hash functions in a signature.
pub(crate) const K: usize = 32;
/// Rows per band: with 16 bands of 2 rows, a pair at Jaccard 0.3 becomes a candidate with
/// probability 0.78, at 0.5 with 0.99, at 0.1 with 0.15.
pub(crate) const ROWS: usize = 2;
/// Number of bands.
pub(crate) const BANDS: usize = K / ROWS;

/// SplitMix64 finalizer: a good 64-bit mixer.
#[inline]
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The sorted, de-duplicated hashes of the character bigrams of a text's name characters
/// (punctuation and spaces dropped). A text of one character gives its unigram.
pub(crate) fn shingles(folded: &str) -> Vec<u32> {
    let chars: Vec<char> = folded.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut out: Vec<u32> = Vec::with_capacity(chars.len());
    if chars.len() == 1 {
        out.push(shingle_hash(chars[0], '\0'));
    }
    for w in chars.windows(2) {
        out.push(shingle_hash(w[0], w[1]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The hash of one bigram.
#[inline]
pub(crate) fn shingle_hash(a: char, b: char) -> u32 {
    (mix64(((a as u64) << 21) | b as u64) >> 32) as u32
}

/// Exact Jaccard similarity of two sorted sets.
#[cfg(test)]
pub(crate) fn jaccard(a: &[u32], b: &[u32]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let shared = intersection(a, b);
    shared as f32 / (a.len() + b.len() - shared) as f32
}

/// Size of the intersection of two sorted sets.
#[cfg(test)]
pub(crate) fn intersection(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The seeded hash family.
#[derive(Debug)]
pub(crate) struct MinHasher {
    a: [u64; K],
    b: [u64; K],
}

impl MinHasher {
    /// The fixed family (seeded, so that signatures are stable across runs and rebuilds).
    pub(crate) fn new() -> MinHasher {
        let mut a = [0u64; K];
        let mut b = [0u64; K];
        let mut s = 0x5eed_d00d_u64;
        for i in 0..K {
            s = mix64(s);
            a[i] = s | 1;
            s = mix64(s);
            b[i] = s;
        }
        MinHasher { a, b }
    }

    /// The band keys of a shingle set (`None` for an empty set).
    pub(crate) fn band_keys(&self, shingles: &[u32]) -> Option<[u64; BANDS]> {
        if shingles.is_empty() {
            return None;
        }
        let mut sig = [u32::MAX; K];
        for &x in shingles {
            let hx = mix64(x as u64);
            for ((m, a), b) in sig.iter_mut().zip(&self.a).zip(&self.b) {
                let h = (a.wrapping_mul(hx).wrapping_add(*b) >> 32) as u32;
                if h < *m {
                    *m = h;
                }
            }
        }
        let mut keys = [0u64; BANDS];
        for (band, key) in keys.iter_mut().enumerate() {
            let mut h = band as u64;
            for r in 0..ROWS {
                h = mix64(h ^ ((sig[band * ROWS + r] as u64) << 8));
            }
            *key = h;
        }
        Some(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_and_bands() {
        let a = shingles("鞍山市铁东区恒安职业技能培训学校办包过班");
        let b = shingles("鞍山市铁东区恒安职业技能培训学校办包过班!");
        assert_eq!(jaccard(&a, &b), 1.0);
        let h = MinHasher::new();
        assert_eq!(h.band_keys(&a), h.band_keys(&b));
        assert!(h.band_keys(&[]).is_none());
        let c = shingles("完全不同的另一段文字内容");
        assert!(jaccard(&a, &c) < 0.1);
    }
}
