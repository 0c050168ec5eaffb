//! Configuration: defaults, then an optional TOML file (`<data>/tipline.toml` or `--config`), then
//! `TIPLINE_*` environment variables and command-line flags. `tipline serve` runs with none.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Everything a node needs to know about its deployment.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Data directory: the SQLite database, the search index.
    #[serde(skip)]
    pub data_dir: PathBuf,
    /// Database URL; none means SQLite in the data directory.
    pub database_url: Option<String>,
    /// Address `serve` binds.
    pub bind: String,
    /// Prefix of case numbers, unique per deployment (e.g. `AS` for 鞍山).
    pub case_prefix: String,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Most reports written in one transaction by the group-commit writer.
    pub max_batch: usize,
    /// Triage settings: home jurisdiction, zones, referral contacts.
    pub triage: triage::TriageConfig,
    /// Outgoing mail (`[smtp]`): receipts, referral letters, case notices; none sends no mail.
    pub smtp: Option<crate::outbox::SmtpConfig>,
    /// Mailboxes to take reports from (`[[mailboxes]]`, IMAP); none polls no mail.
    pub mailboxes: Vec<crate::mail::MailboxConfig>,
    /// Session login of people (`[session]`): cookie, lifetimes, failed-login limits.
    pub session: SessionConfig,
    /// The reporter-identity key file (`TIPLINE_IDENTITY_KEY_FILE`); default `<data>/identity.key`,
    /// created on first start. `TIPLINE_IDENTITY_KEY` (the key text itself) wins over any file.
    pub identity_key_file: Option<PathBuf>,
    /// Where replies to the 12345 platform are pushed (`[platform_12345]`); none pushes nothing
    /// (the platform can still read them at `GET /api/v1/channels/12345/replies`).
    pub platform_12345: Option<crate::outbox::platform::PlatformConfig>,
    /// The monthly progress tables mailed to leaders (`[monthly_reports]`).
    pub monthly_reports: crate::stats::auto::AutoConfig,
    /// Deadline reminders and escalations (`[deadlines]`).
    pub deadlines: crate::deadlines::SweepConfig,
}

/// Session login settings (`[session]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Marks the cookie `Secure` (served over HTTPS, as in production behind TLS). Off by default
    /// so that `tipline serve` on 127.0.0.1 works in a browser; `TIPLINE_SESSION_SECURE=1` sets it.
    pub secure_cookie: bool,
    /// A session ends this many hours after login, whatever happens (a working day and a bit).
    pub absolute_hours: i64,
    /// A session ends after this many minutes without a request.
    pub idle_minutes: i64,
    /// Failed logins allowed per account name, and per client address, within the window.
    pub max_failures: i64,
    /// The window of the failed-login limit, minutes.
    pub failure_window_minutes: i64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            secure_cookie: false,
            absolute_hours: 12,
            idle_minutes: 30,
            max_failures: 5,
            failure_window_minutes: 15,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("tipline-data"),
            database_url: None,
            bind: "127.0.0.1:8080".into(),
            case_prefix: "TL".into(),
            max_body_bytes: 2 * 1024 * 1024,
            max_batch: 512,
            triage: triage::TriageConfig::default(),
            smtp: None,
            mailboxes: Vec::new(),
            session: SessionConfig::default(),
            identity_key_file: None,
            platform_12345: None,
            monthly_reports: crate::stats::auto::AutoConfig::default(),
            deadlines: crate::deadlines::SweepConfig::default(),
        }
    }
}

impl Config {
    /// Loads the configuration for a data directory: `config_file` if given, else
    /// `<data>/tipline.toml` if it exists, else the defaults.
    pub fn load(data_dir: &Path, config_file: Option<&Path>) -> anyhow::Result<Config> {
        let default_file = data_dir.join("tipline.toml");
        let file = match config_file {
            Some(f) => Some(f.to_path_buf()),
            None => default_file.exists().then_some(default_file),
        };
        let mut config = match file {
            Some(f) => {
                let text = std::fs::read_to_string(&f).map_err(|e| {
                    anyhow::anyhow!("cannot read configuration {}: {e}", f.display())
                })?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("configuration {}: {e}", f.display()))?
            }
            None => Config::default(),
        };
        config.data_dir = data_dir.to_path_buf();
        if let Ok(home) = std::env::var("TIPLINE_HOME_JURISDICTION") {
            config.triage.home = Some(home).filter(|h| !h.is_empty());
        }
        if let Ok(file) = std::env::var("TIPLINE_IDENTITY_KEY_FILE") {
            config.identity_key_file =
                Some(PathBuf::from(file)).filter(|f| !f.as_os_str().is_empty());
        }
        if let Ok(prefix) = std::env::var("TIPLINE_CASE_PREFIX") {
            config.case_prefix = prefix;
        }
        if let Ok(secure) = std::env::var("TIPLINE_SESSION_SECURE") {
            config.session.secure_cookie = matches!(secure.as_str(), "1" | "true" | "yes");
        }
        Ok(config)
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tipline.db").display()
            ),
        }
    }

    /// The reporter-identity key file in force (outside the database, beside it by default).
    pub fn identity_key_file(&self) -> PathBuf {
        self.identity_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("identity.key"))
    }

    /// Where the search index lives.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}
