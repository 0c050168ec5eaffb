//! Receipt codes for anonymous reporters: 16 characters from the OS random source, shown once,
//! stored as SHA-256; lookups are rate limited per client address so that codes cannot be guessed
//! (32^16 ≈ 1.2 × 10^24 codes at 20 tries a minute).

use super::ApiError;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Letters and digits without the look-alikes 0/O, 1/I/L (Crockford-like).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A new receipt code, e.g. `7KQ2-MX9D-R4TB-H6WE` without the dashes.
pub fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// What is stored of a code (case and dashes do not matter when it is typed back).
pub fn code_hash(code: &str) -> String {
    let folded: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(folded.as_bytes()))
}

/// Lookups allowed per client address and minute.
const PER_MINUTE: u32 = 20;

/// Refuses a client that asked too often in the last minute (429).
pub fn check_rate(req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    static WINDOWS: Mutex<Option<HashMap<String, (Instant, u32)>>> = Mutex::new(None);
    let client = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let mut guard = WINDOWS.lock().expect("not poisoned");
    let windows = guard.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    if windows.len() > 100_000 {
        windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
    }
    let entry = windows.entry(client).or_insert((now, 0));
    if now.duration_since(entry.0) >= Duration::from_secs(60) {
        *entry = (now, 0);
    }
    entry.1 += 1;
    if entry.1 > PER_MINUTE {
        return Err(ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "查询过于频繁，请一分钟后再试",
            "too many attempts; try again in a minute",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_long_random_and_typed_back_loosely() {
        let a = new_code();
        assert_eq!(a.len(), 16);
        assert_ne!(a, new_code());
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        let typed = format!("{}-{}", &a[..8].to_lowercase(), &a[8..]);
        assert_eq!(code_hash(&typed), code_hash(&a));
    }
}
