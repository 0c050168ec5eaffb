//! Reporter identity at rest: sealed with an AEAD, found again by a keyed blind index.
//!
//! Every stored copy of a reporter's identity — the `reporters` columns, the raw payload as received
//! (`report_raw`), a receipt mail's payload (`outbox`), a refused mail (`rejected_mail`) — is sealed
//! with XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`). A sealed value is
//! `version (1 byte) | key id (4 bytes, big-endian) | nonce (24 bytes, random per value) | ciphertext+tag`;
//! text columns hold it in base64. The associated data names the table, the column and the row
//! (`tipline-identity/v1/reporters.phone/42`), so a value copied to another row or column does not
//! open. Equality lookups (the same reporter across reports, for the duplicate stage) use an
//! HMAC-SHA256 of the canonical value under a separate index key, never the clear value.
//!
//! Keys never live in the database. They come from `TIPLINE_IDENTITY_KEY` (the key text itself),
//! else from the key file (`identity_key_file`, `TIPLINE_IDENTITY_KEY_FILE`, default
//! `<data>/identity.key`), which is created once, mode 0600, when nothing is configured. The key text
//! is lines (or `;`-separated entries) `index = <64 hex>` and `key <id> = <64 hex>`; the highest id
//! seals new values, the others only open old ones until `tipline keys rotate` retires them.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use zeroize::Zeroizing;

/// The format version written in every sealed value.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
/// The environment variable holding the key text itself.
pub const KEY_ENV: &str = "TIPLINE_IDENTITY_KEY";
/// How often a running node looks whether the key file changed (a rotation by another process).
const RECHECK: Duration = Duration::from_secs(1);

type Key = Zeroizing<[u8; 32]>;

/// A column that holds sealed identity. Its name is part of every value's associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `reporters.name`.
    ReporterName,
    /// `reporters.phone`.
    ReporterPhone,
    /// `reporters.email`.
    ReporterEmail,
    /// `reporters.id_number`.
    ReporterIdNumber,
    /// `report_raw.payload`.
    RawPayload,
    /// `report_raw.payload_bytes`.
    RawBytes,
    /// `outbox.payload` of a receipt (its recipient is the reporter).
    OutboxPayload,
    /// `rejected_mail.raw`.
    RejectedRaw,
}

impl Column {
    /// `table.column`.
    pub fn name(self) -> &'static str {
        match self {
            Column::ReporterName => "reporters.name",
            Column::ReporterPhone => "reporters.phone",
            Column::ReporterEmail => "reporters.email",
            Column::ReporterIdNumber => "reporters.id_number",
            Column::RawPayload => "report_raw.payload",
            Column::RawBytes => "report_raw.payload_bytes",
            Column::OutboxPayload => "outbox.payload",
            Column::RejectedRaw => "rejected_mail.raw",
        }
    }
}

/// Why identity could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A value was sealed with a key this node does not have.
    #[error("identity key {0} is not available: restore the key file (or TIPLINE_IDENTITY_KEY) that holds it")]
    MissingKey(u32),
    /// A value does not open: damaged, or moved from another row or column.
    #[error("a sealed identity value in {0} does not open (damaged, or not this row's)")]
    Damaged(&'static str),
    /// The key configuration is unusable.
    #[error("identity keys: {0}")]
    Config(String),
}

impl IdentityError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::MissingKey(_) => "identity_key_missing",
            IdentityError::Damaged(_) => "identity_damaged",
            IdentityError::Config(_) => "identity_key_config",
        }
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            IdentityError::MissingKey(id) => {
                format!("缺少举报人身份密钥 {id}：请恢复保存该密钥的密钥文件（或 TIPLINE_IDENTITY_KEY）")
            }
            IdentityError::Damaged(c) => {
                format!("举报人身份密文（{c}）无法解密：已损坏或不属于该记录")
            }
            IdentityError::Config(m) => format!("举报人身份密钥配置有误：{m}"),
        }
    }
}

/// Where the keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `TIPLINE_IDENTITY_KEY`.
    Env,
    /// A key file.
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "environment {KEY_ENV}"),
            KeySource::File(p) => write!(f, "file {}", p.display()),
        }
    }
}

struct Keys {
    index: Key,
    keys: BTreeMap<u32, Key>,
    modified: Option<SystemTime>,
}

impl Keys {
    fn generate() -> Keys {
        let mut keys = BTreeMap::new();
        keys.insert(1, random_key());
        Keys {
            index: random_key(),
            keys,
            modified: None,
        }
    }

    fn current(&self) -> (u32, &Key) {
        let (id, key) = self.keys.iter().next_back().expect("a keyring has a key");
        (*id, key)
    }

    /// The key text (file content).
    fn text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::from(
            "# tipline: the keys of reporter identity (names, phones, e-mail, ID numbers, raw payloads).\n\
             # Back this file up apart from the database: without it no reporter identity can be read.\n\
             # Readable by tipline only (0600). Rotate with `tipline keys rotate`.\n",
        ));
        out.push_str(&format!("index = {}\n", hex::encode(*self.index)));
        for (id, key) in &self.keys {
            out.push_str(&format!("key {id} = {}\n", hex::encode(**key)));
        }
        out
    }
}

fn random_key() -> Key {
    use rand::RngCore;
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut *key);
    key
}

fn parse_keys(text: &str) -> Result<Keys, IdentityError> {
    let bad = |m: String| IdentityError::Config(m);
    let mut index = None;
    let mut keys = BTreeMap::new();
    for entry in text.split(['\n', ';']) {
        let entry = entry.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let (name, value) = entry
            .split_once('=')
            .ok_or_else(|| bad("each entry is `index = <hex>` or `key <id> = <hex>`".into()))?;
        let (name, value) = (name.trim(), value.trim());
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(value, &mut *key)
            .map_err(|_| bad(format!("`{name}` must be 64 hexadecimal digits (32 bytes)")))?;
        if name == "index" {
            index = Some(key);
        } else if let Some(id) = name.strip_prefix("key") {
            let id: u32 = id
                .trim_start_matches([' ', '-', '_'])
                .parse()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| bad(format!("`{name}`: a key id is a positive number")))?;
            if keys.insert(id, key).is_some() {
                return Err(bad(format!("key {id} is given twice")));
            }
        } else {
            return Err(bad(format!("unknown entry `{name}`")));
        }
    }
    let index =
        index.ok_or_else(|| bad("no `index = <hex>` entry (the blind-index key)".into()))?;
    if keys.is_empty() {
        return Err(bad("no `key <id> = <hex>` entry".into()));
    }
    Ok(Keys {
        index,
        keys,
        modified: None,
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Writes a file readable by its owner only, atomically (a temporary file renamed over it).
fn write_private(path: &Path, text: &str, create_new: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if create_new {
        let mut f = options.create_new(true).open(path)?;
        f.write_all(text.as_bytes())?;
        return f.sync_all();
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = options.create_new(true).open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The identity keys of this process: seals, opens, and computes blind indexes.
pub struct Keyring {
    source: KeySource,
    keys: RwLock<Keys>,
    /// Generated now and not yet written (written by [`Keyring::save_new`] once the database is
    /// known to hold no value sealed with a key we lack).
    fresh: Mutex<bool>,
    checked: Mutex<Instant>,
}

impl Keyring {
    /// The keys in force: `TIPLINE_IDENTITY_KEY`, else the key file (`file`); a missing key file
    /// gives fresh keys, written by [`Keyring::save_new`].
    pub fn load(file: &Path) -> Result<Keyring, IdentityError> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            if !text.trim().is_empty() {
                let text = Zeroizing::new(text);
                return Ok(Keyring::new(KeySource::Env, parse_keys(&text)?, false));
            }
        }
        let source = KeySource::File(file.to_path_buf());
        match std::fs::read_to_string(file) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                let mut keys = parse_keys(&text)
                    .map_err(|e| IdentityError::Config(format!("{}: {e}", file.display())))?;
                keys.modified = modified(file);
                warn_if_readable_by_others(file);
                Ok(Keyring::new(source, keys, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Keyring::new(source, Keys::generate(), true))
            }
            Err(e) => Err(IdentityError::Config(format!(
                "cannot read the key file {}: {e}",
                file.display()
            ))),
        }
    }

    /// Fresh keys held in memory only (unit tests).
    #[cfg(test)]
    pub fn generate_ephemeral() -> Keyring {
        Keyring::new(KeySource::Env, Keys::generate(), false)
    }

    fn new(source: KeySource, keys: Keys, fresh: bool) -> Keyring {
        Keyring {
            source,
            keys: RwLock::new(keys),
            fresh: Mutex::new(fresh),
            checked: Mutex::new(Instant::now()),
        }
    }

    /// Where the keys come from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// True when the keys were generated by this process and are not written yet.
    pub fn is_fresh(&self) -> bool {
        *self.fresh.lock().expect("not poisoned")
    }

    /// Writes freshly generated keys to the key file (0600). If another process wrote it first,
    /// its keys are taken instead.
    pub fn save_new(&self) -> anyhow::Result<()> {
        let mut fresh = self.fresh.lock().expect("not poisoned");
        if !*fresh {
            return Ok(());
        }
        let KeySource::File(path) = &self.source else {
            return Ok(());
        };
        let text = self.keys.read().expect("not poisoned").text();
        match write_private(path, &text, true) {
            Ok(()) => {
                tracing::warn!(file = %path.display(), "created the reporter-identity key file: back it up apart from the database");
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self.reload()?,
            Err(e) => anyhow::bail!("cannot create the key file {}: {e}", path.display()),
        }
        self.keys.write().expect("not poisoned").modified = modified(path);
        *fresh = false;
        Ok(())
    }

    /// Reads the key file again (after a rotation by another process).
    pub fn reload(&self) -> Result<(), IdentityError> {
        let KeySource::File(path) = &self.source else {
            return Ok(());
        };
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            IdentityError::Config(format!("cannot read the key file {}: {e}", path.display()))
        })?);
        let mut keys = parse_keys(&text)
            .map_err(|e| IdentityError::Config(format!("{}: {e}", path.display())))?;
        keys.modified = modified(path);
        *self.keys.write().expect("not poisoned") = keys;
        Ok(())
    }

    /// Reloads the key file when it changed, at most once per [`RECHECK`], so that a running node
    /// seals with the key a rotation made current.
    fn refresh(&self) {
        let KeySource::File(path) = &self.source else {
            return;
        };
        {
            let mut checked = self.checked.lock().expect("not poisoned");
            if checked.elapsed() < RECHECK || self.is_fresh() {
                return;
            }
            *checked = Instant::now();
        }
        let known = self.keys.read().expect("not poisoned").modified;
        if modified(path) != known {
            if let Err(e) = self.reload() {
                tracing::error!(error = %e, "identity key file changed but cannot be read; keeping the keys in memory");
            }
        }
    }

    /// The id of the key that seals new values.
    pub fn current_id(&self) -> u32 {
        self.refresh();
        self.keys.read().expect("not poisoned").current().0
    }

    /// Every key id held.
    pub fn ids(&self) -> Vec<u32> {
        self.keys
            .read()
            .expect("not poisoned")
            .keys
            .keys()
            .copied()
            .collect()
    }

    /// A sealer bound to the current key: every value of one row or batch is sealed under one id.
    pub fn sealer(&self) -> Sealer {
        self.refresh();
        let keys = self.keys.read().expect("not poisoned");
        let (id, key) = keys.current();
        Sealer {
            id,
            cipher: XChaCha20Poly1305::new(key.as_slice().into()),
        }
    }

    /// Opens a sealed value of `column` in row `row`.
    pub fn open(&self, column: Column, row: &str, sealed: &[u8]) -> Result<Vec<u8>, IdentityError> {
        let damaged = || IdentityError::Damaged(column.name());
        if sealed.len() < HEADER_LEN + 16 || sealed[0] != VERSION {
            return Err(damaged());
        }
        let id = key_id(sealed).ok_or_else(damaged)?;
        let cipher = match self.cipher(id) {
            Some(c) => c,
            None => {
                // Perhaps rotated by another process since we loaded the file.
                let _ = self.reload();
                self.cipher(id).ok_or(IdentityError::MissingKey(id))?
            }
        };
        let nonce = XNonce::from_slice(&sealed[5..HEADER_LEN]);
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: associated_data(column, row).as_bytes(),
                },
            )
            .map_err(|_| damaged())
    }

    /// Opens a sealed text value (base64 in a text column).
    pub fn open_text(
        &self,
        column: Column,
        row: &str,
        sealed: &str,
    ) -> Result<String, IdentityError> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| IdentityError::Damaged(column.name()))?;
        String::from_utf8(self.open(column, row, &bytes)?)
            .map_err(|_| IdentityError::Damaged(column.name()))
    }

    fn cipher(&self, id: u32) -> Option<XChaCha20Poly1305> {
        let keys = self.keys.read().expect("not poisoned");
        keys.keys
            .get(&id)
            .map(|k| XChaCha20Poly1305::new(k.as_slice().into()))
    }

    /// The blind index of a reporter's canonical contact (phone or e-mail): HMAC-SHA256 under the
    /// index key, hex. Equal inputs give equal outputs; nothing of the input can be read back.
    pub fn blind(&self, value: &str) -> String {
        let keys = self.keys.read().expect("not poisoned");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(keys.index.as_slice())
            .expect("HMAC takes any key length");
        mac.update(b"tipline-reporter/v1\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Adds a new current key to the key file (rotation). Fails for keys from the environment.
    pub fn add_key(&self) -> anyhow::Result<u32> {
        let KeySource::File(path) = &self.source else {
            anyhow::bail!(
                "keys come from {KEY_ENV}: add a new `key <id> = <hex>` entry there (see `tipline keys generate`) and run `tipline keys rotate` again"
            );
        };
        self.save_new()?;
        let mut keys = self.keys.write().expect("not poisoned");
        let id = keys.current().0 + 1;
        keys.keys.insert(id, random_key());
        write_private(path, &keys.text(), false)
            .map_err(|e| anyhow::anyhow!("cannot write the key file {}: {e}", path.display()))?;
        keys.modified = modified(path);
        Ok(id)
    }

    /// Removes keys no value uses any more from the key file, keeping a copy of them in
    /// `<key file>.retired` (for restoring an old database backup); the copy may be deleted.
    pub fn retire(&self, ids: &[u32]) -> anyhow::Result<Option<PathBuf>> {
        let KeySource::File(path) = &self.source else {
            return Ok(None);
        };
        let mut keys = self.keys.write().expect("not poisoned");
        let current = keys.current().0;
        let mut retired = Keys {
            index: keys.index.clone(),
            keys: BTreeMap::new(),
            modified: None,
        };
        for id in ids.iter().filter(|id| **id != current) {
            if let Some(k) = keys.keys.remove(id) {
                retired.keys.insert(*id, k);
            }
        }
        if retired.keys.is_empty() {
            return Ok(None);
        }
        let mut old_path = path.clone().into_os_string();
        old_path.push(".retired");
        let old_path = PathBuf::from(old_path);
        if let Ok(text) = std::fs::read_to_string(&old_path) {
            if let Ok(earlier) = parse_keys(&Zeroizing::new(text)) {
                retired.keys.extend(earlier.keys);
            }
        }
        write_private(&old_path, &retired.text(), false).map_err(|e| {
            anyhow::anyhow!(
                "cannot write the retired keys to {}: {e}",
                old_path.display()
            )
        })?;
        write_private(path, &keys.text(), false)
            .map_err(|e| anyhow::anyhow!("cannot write the key file {}: {e}", path.display()))?;
        keys.modified = modified(path);
        Ok(Some(old_path))
    }
}

/// New key text for `TIPLINE_IDENTITY_KEY` or a key file (`tipline keys generate`).
pub fn generate_text() -> String {
    Keys::generate().text().to_string()
}

/// The current key, held for one row or batch.
pub struct Sealer {
    id: u32,
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    /// The key id written in every value this sealer makes.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Seals `clear` for `column` of row `row`.
    pub fn seal(&self, column: Column, row: &str, clear: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: clear,
                    aad: associated_data(column, row).as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message below 256 GiB");
        let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Seals a text value as base64, for a text column.
    pub fn seal_text(&self, column: Column, row: &str, clear: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.seal(column, row, clear.as_bytes()))
    }
}

/// The key id written in a sealed value.
pub fn key_id(sealed: &[u8]) -> Option<u32> {
    (sealed.len() >= HEADER_LEN)
        .then(|| u32::from_be_bytes([sealed[1], sealed[2], sealed[3], sealed[4]]))
}

fn associated_data(column: Column, row: &str) -> String {
    format!("tipline-identity/v{VERSION}/{}/{row}", column.name())
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "the identity key file is readable by other users: chmod 600 it");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_in_its_own_row_and_column() {
        let keys = Keyring::generate_ephemeral();
        let sealed = keys
            .sealer()
            .seal_text(Column::ReporterPhone, "7", "13912345678");
        assert!(!sealed.contains("1391234"));
        assert_eq!(
            keys.open_text(Column::ReporterPhone, "7", &sealed).unwrap(),
            "13912345678"
        );
        assert!(matches!(
            keys.open_text(Column::ReporterPhone, "8", &sealed),
            Err(IdentityError::Damaged(_))
        ));
        assert!(keys.open_text(Column::ReporterName, "7", &sealed).is_err());
        assert!(keys
            .open_text(Column::ReporterName, "7", "not base64!")
            .is_err());
        assert!(keys.open(Column::RawBytes, "7", b"short").is_err());
    }

    #[test]
    fn two_seals_of_one_value_differ_but_blind_indexes_agree() {
        let keys = Keyring::generate_ephemeral();
        let s = keys.sealer();
        assert_ne!(
            s.seal(Column::ReporterEmail, "1", b"a@b.cn"),
            s.seal(Column::ReporterEmail, "1", b"a@b.cn")
        );
        assert_eq!(keys.blind("13912345678"), keys.blind("13912345678"));
        assert_ne!(keys.blind("13912345678"), keys.blind("13912345679"));
    }

    #[test]
    fn key_text_round_trips_and_bad_text_is_named() {
        let text = generate_text();
        let keys = parse_keys(&text).unwrap();
        assert_eq!(keys.keys.keys().copied().collect::<Vec<_>>(), vec![1]);
        let one_line = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(";");
        assert!(parse_keys(&one_line).is_ok());
        for bad in ["", "index = 00", "key 1 = zz", "index = 12;key 0 = 12"] {
            assert!(
                matches!(parse_keys(bad), Err(IdentityError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_key_is_reported_with_its_id() {
        let a = Keyring::generate_ephemeral();
        let b = Keyring::generate_ephemeral();
        let sealed = a.sealer().seal(Column::RawBytes, "1", b"x");
        assert!(matches!(
            b.open(Column::RawBytes, "1", &sealed),
            Err(IdentityError::Damaged(_))
        ));
        let mut other = sealed.clone();
        other[1..5].copy_from_slice(&9u32.to_be_bytes());
        assert!(matches!(
            b.open(Column::RawBytes, "1", &other),
            Err(IdentityError::MissingKey(9))
        ));
    }
}
