//! The sender: claims due outbox rows, renders and delivers them over SMTP (lettre), records the
//! outcome. A failure reschedules the row with exponential backoff; nothing is ever deleted.

pub use super::queue::Round;
use super::queue::{self, Attempt, Claimed, Delivery as Outcome};
use super::templates;
use super::{message_id, MailKind, SmtpConfig, TlsMode};
use crate::store::Store;
use anyhow::Context;
use futures::StreamExt;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-reply loops with the reporters' mailers.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

/// Delivers outbox mail.
pub struct Sender {
    store: Arc<Store>,
    config: SmtpConfig,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Sender {
    /// A sender for a configuration (checks the addresses and reads the password).
    pub fn new(store: Arc<Store>, config: SmtpConfig) -> anyhow::Result<Sender> {
        let from_address: Address = config.from.trim().parse().map_err(|e| {
            anyhow::anyhow!("smtp.from {:?} is not an e-mail address: {e}", config.from)
        })?;
        let from = Mailbox::new(Some(config.from_name.clone()), from_address);
        let tls_parameters = || -> anyhow::Result<TlsParameters> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(ca) = &config.ca_file {
                let pem = std::fs::read(ca)
                    .with_context(|| format!("cannot read smtp.ca_file {}", ca.display()))?;
                builder = builder.add_root_certificate(
                    Certificate::from_pem(&pem).context("smtp.ca_file is not a PEM certificate")?,
                );
            }
            builder.build_rustls().context("TLS set-up for SMTP")
        };
        let tls = match config.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls => Tls::Required(tls_parameters()?),
            TlsMode::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
                .port(config.port())
                .tls(tls)
                .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        if let Some(user) = &config.user {
            builder = builder.credentials(Credentials::new(user.clone(), password(&config)?));
        }
        Ok(Sender {
            store,
            transport: builder.build(),
            from,
            config,
        })
    }

    /// The lease on a claimed row: long enough for one delivery with all its timeouts.
    fn lease(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs.max(1) * 6 + 60)
    }

    /// Delivers what is due now, once; returns what happened.
    pub async fn send_due(&self) -> anyhow::Result<Round> {
        let mut round = Round::default();
        loop {
            let batch = queue::claim(
                &self.store,
                self.config.concurrency.max(1) * 4,
                self.lease(),
            )
            .await?;
            if batch.is_empty() {
                return Ok(round);
            }
            let outcomes: Vec<(Attempt, Outcome)> = futures::stream::iter(batch)
                .map(|row| async move {
                    let outcome = self.deliver(&row).await;
                    let attempt = Attempt {
                        id: row.id,
                        kind: row.kind.code(),
                        attempts: row.attempts,
                    };
                    (attempt, outcome)
                })
                .buffer_unordered(self.config.concurrency.max(1))
                .collect()
                .await;
            let done = queue::record(&self.store, outcomes, self.config.max_attempts, |n| {
                self.config.backoff(n)
            })
            .await?;
            round.add(done);
        }
    }

    /// Runs until the process stops: sends what is due, then waits `poll_secs`.
    pub async fn run(self) {
        let idle = Duration::from_secs(self.config.poll_secs.max(1));
        loop {
            match self.send_due().await {
                Ok(_) => {}
                Err(e) => tracing::error!(error = %format!("{e:#}"), "mail sender round failed"),
            }
            tokio::time::sleep(idle).await;
        }
    }

    /// Builds the message of a row.
    fn message(&self, row: &Claimed) -> Result<Message, Outcome> {
        let payload = row
            .payload
            .as_ref()
            .map_err(|e| Outcome::GiveUp(e.clone()))?;
        let to_address: Address = payload
            .to
            .trim()
            .parse()
            .map_err(|_| Outcome::GiveUp("invalid recipient address".to_string()))?;
        let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
        let today = chrono::Utc::now()
            .with_timezone(&beijing)
            .format("%Y年%-m月%-d日")
            .to_string();
        let rendered = templates::render(row.kind, payload, &self.config.from_name, &today);
        let to_name = match row.kind {
            MailKind::CaseNotice
            | MailKind::MonthlyReport
            | MailKind::DeadlineReminder
            | MailKind::Escalation => payload.to_name.clone(),
            MailKind::ReferralLetter => payload.body.clone(),
            MailKind::Receipt => None,
        };
        let builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(to_name, to_address))
            .subject(rendered.subject)
            .message_id(Some(message_id(row.id, &row.dedup_key, &self.config.from)))
            .header(AutoSubmitted);
        let built = match &payload.attachment {
            None => builder.header(ContentType::TEXT_PLAIN).body(rendered.body),
            Some(file) => {
                let bytes = file.bytes().map_err(Outcome::GiveUp)?;
                let content_type = ContentType::parse(&file.content_type).map_err(|_| {
                    Outcome::GiveUp(format!("bad attachment type {:?}", file.content_type))
                })?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(rendered.body))
                        .singlepart(
                            Attachment::new(file.file_name.clone()).body(bytes, content_type),
                        ),
                )
            }
        };
        built.map_err(|e| Outcome::GiveUp(format!("cannot build the message: {e}")))
    }

    async fn deliver(&self, row: &Claimed) -> Outcome {
        let message = match self.message(row) {
            Ok(m) => m,
            Err(o) => return o,
        };
        let recipient = row
            .payload
            .as_ref()
            .map(|p| p.to.clone())
            .unwrap_or_default();
        match self.transport.send(message).await {
            Ok(_) => Outcome::Sent,
            Err(e) => {
                let text = scrub(&format!("{e}"), &recipient);
                if e.is_permanent() {
                    Outcome::GiveUp(text)
                } else {
                    Outcome::Retry(text)
                }
            }
        }
    }
}

/// The SMTP password from `password_env` or `password_file`.
fn password(config: &SmtpConfig) -> anyhow::Result<String> {
    super::read_secret(
        config.password_env.as_deref(),
        config.password_file.as_deref(),
        "smtp.password",
    )?
    .ok_or_else(|| {
        anyhow::anyhow!("smtp.user is set but neither smtp.password_env nor smtp.password_file")
    })
}

/// An error text without the recipient's address (a server may echo it), cut to a sane length.
fn scrub(error: &str, recipient: &str) -> String {
    let mut text = error.to_string();
    let recipient = recipient.trim();
    if !recipient.is_empty() {
        text = super::replace_ignore_ascii_case(&text, recipient, "<收件人>");
    }
    if text.chars().count() > 500 {
        text = text.chars().take(500).collect::<String>() + "…";
    }
    text
}

/// Starts the sender in the background (`tipline serve` with `[smtp]`).
pub fn spawn(store: Arc<Store>, config: SmtpConfig) -> anyhow::Result<()> {
    let sender = Sender::new(store, config)?;
    tokio::spawn(sender.run());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_the_recipient() {
        assert_eq!(
            scrub("550 5.1.1 <A@Example.org>: no such user", "a@example.org"),
            "550 5.1.1 <<收件人>>: no such user"
        );
    }
}
