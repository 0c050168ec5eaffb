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
    /// Deadline reminders and escalations (`[deadlines]`).
    pub deadlines: crate::deadlines::SweepConfig,
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
        if let Ok(prefix) = std::env::var("TIPLINE_CASE_PREFIX") {
            config.case_prefix = prefix;
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

    /// Where the search index lives.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}
