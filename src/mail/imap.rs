//! The IMAP poller: one task per configured mailbox.
//!
//! Each round searches the folder (unseen mail, or all mail when done mail is moved to a done
//! folder), fetches in chunks with `BODY.PEEK[]` (so that fetching marks nothing), hands the
//! chunk to the writer, and only after the commit marks the mails `\Seen` or moves them. A crash
//! anywhere leaves committed-but-unmarked mail, which the next round finds again and the writer
//! answers as re-sent (the Message-ID is the key): nothing is lost, nothing doubles. Poison mail
//! goes to `rejected_mail`, then to the rejected folder. Between rounds the task waits in IDLE
//! when the server offers it, else sleeps `poll_seconds`.

use super::{prepare_raw, store_rejected, MailOutcome, MailboxConfig};
use crate::app::App;
use crate::ingest::Outcome;
use async_imap::Session;
use futures::TryStreamExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Most mails fetched at once.
const CHUNK_MAILS: usize = 200;
/// Most bytes fetched at once (a bigger single mail is fetched alone).
const CHUNK_BYTES: u64 = 64 * 1024 * 1024;
/// Time allowed for one IMAP command (a fetch of a chunk included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// Counts of one poller's work.
#[derive(Debug, Default, Clone, Copy)]
pub struct PollStats {
    /// Reports stored.
    pub new: u64,
    /// Mails stored before (re-fetched after a crash, or the same Message-ID again).
    pub resent: u64,
    /// The same message under another id.
    pub same_message: u64,
    /// Poison mails moved aside.
    pub rejected: u64,
    /// Mails not stored this time (left in place).
    pub failed: u64,
}

impl PollStats {
    fn add(&mut self, o: PollStats) {
        self.new += o.new;
        self.resent += o.resent;
        self.same_message += o.same_message;
        self.rejected += o.rejected;
        self.failed += o.failed;
    }
}

/// The connection: plain TCP or TLS.
#[derive(Debug)]
pub enum Conn {
    /// Plain text (localhost, tests).
    Plain(TcpStream),
    /// Implicit TLS.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

async fn timed<T, E: Into<anyhow::Error>>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Ok(r) => r.map_err(|e| e.into().context(what.to_string())),
        Err(_) => anyhow::bail!("IMAP {what}: timed out"),
    }
}

/// Connects and logs in.
pub async fn connect(cfg: &MailboxConfig) -> anyhow::Result<Session<Conn>> {
    let password = cfg.password()?;
    let addr = (cfg.host.as_str(), cfg.port());
    let tcp = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(addr))
        .await
        .map_err(|_| anyhow::anyhow!("connect to {}:{}: timed out", cfg.host, cfg.port()))?
        .map_err(|e| anyhow::anyhow!("connect to {}:{}: {e}", cfg.host, cfg.port()))?;
    let _ = tcp.set_nodelay(true);
    let conn = if cfg.tls {
        use tokio_rustls::rustls;
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(cfg.host.clone())
            .map_err(|e| anyhow::anyhow!("mailbox {}: bad host name: {e}", cfg.name))?;
        let tls = timed(
            "TLS handshake",
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
        )
        .await?;
        Conn::Tls(Box::new(tls))
    } else {
        Conn::Plain(tcp)
    };
    let mut client = async_imap::Client::new(conn);
    let greeting = timed("greeting", client.read_response()).await?;
    anyhow::ensure!(greeting.is_some(), "the IMAP server closed the connection");
    let session =
        match tokio::time::timeout(COMMAND_TIMEOUT, client.login(&cfg.user, &password)).await {
            Ok(Ok(s)) => s,
            Ok(Err((e, _))) => anyhow::bail!("mailbox {}: login failed: {e}", cfg.name),
            Err(_) => anyhow::bail!("mailbox {}: login timed out", cfg.name),
        };
    Ok(session)
}

/// `1:5,7,9:12` for sorted UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

struct Caps {
    idle: bool,
    mv: bool,
    uidplus: bool,
}

/// Runs one mailbox: until stopped, or one pass over what is waiting when `once`.
pub async fn run_mailbox(
    app: Arc<App>,
    cfg: MailboxConfig,
    once: bool,
) -> anyhow::Result<PollStats> {
    let mut total = PollStats::default();
    let mut backoff = Duration::from_secs(1);
    loop {
        match session_rounds(&app, &cfg, once, &mut total).await {
            Ok(()) if once => return Ok(total),
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) if once => return Err(e.context(format!("mailbox {}", cfg.name))),
            Err(e) => {
                tracing::warn!(mailbox = %cfg.name, error = %format!("{e:#}"), retry_in = ?backoff, "IMAP error; reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

async fn ensure_folder(session: &mut Session<Conn>, name: &str) {
    // CREATE fails when the folder exists; the later MOVE or COPY tells if it is really missing.
    let _ = timed("create", session.create(name)).await;
}

async fn session_rounds(
    app: &Arc<App>,
    cfg: &MailboxConfig,
    once: bool,
    total: &mut PollStats,
) -> anyhow::Result<()> {
    let mut session = connect(cfg).await?;
    let caps = timed("capability", session.capabilities()).await?;
    let caps = Caps {
        idle: caps.has_str("IDLE"),
        mv: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
    };
    ensure_folder(&mut session, &cfg.rejected_folder).await;
    if let Some(done) = &cfg.done_folder {
        ensure_folder(&mut session, done).await;
    }
    timed("select", session.select(&cfg.folder)).await?;
    loop {
        let round = process_waiting(app, cfg, &caps, &mut session).await?;
        if round.new + round.resent + round.same_message + round.rejected > 0 {
            tracing::info!(mailbox = %cfg.name, new = round.new, resent = round.resent,
                same_message = round.same_message, rejected = round.rejected, failed = round.failed,
                "mail taken in");
        }
        total.add(round);
        if once {
            let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
            return Ok(());
        }
        if round.failed > 0 {
            // The writer refused: wait before trying the same mails again.
            tokio::time::sleep(Duration::from_secs(cfg.poll_seconds.clamp(1, 60))).await;
            continue;
        }
        while session.unsolicited_responses.try_recv().is_ok() {}
        let wait = Duration::from_secs(cfg.poll_seconds.clamp(1, 25 * 60));
        if caps.idle {
            let mut idle = session.idle();
            timed("idle", idle.init()).await?;
            {
                let (fut, _stop) = idle.wait_with_timeout(wait);
                fut.await?;
            }
            session = timed("idle done", idle.done()).await?;
        } else {
            tokio::time::sleep(wait).await;
            timed("noop", session.noop()).await?;
        }
    }
}

/// One pass over the waiting mail of the selected folder.
async fn process_waiting(
    app: &Arc<App>,
    cfg: &MailboxConfig,
    caps: &Caps,
    session: &mut Session<Conn>,
) -> anyhow::Result<PollStats> {
    let query = if cfg.done_folder.is_some() {
        "UNDELETED"
    } else {
        "UNSEEN UNDELETED"
    };
    let mut uids: Vec<u32> = timed("search", session.uid_search(query))
        .await?
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut stats = PollStats::default();
    if uids.is_empty() {
        return Ok(stats);
    }
    // Sizes first, so that chunks stay within memory bounds.
    let mut sizes = std::collections::HashMap::new();
    for part in uids.chunks(1000) {
        let fetches: Vec<_> = timed("fetch sizes", async {
            session
                .uid_fetch(uid_set(part), "(UID RFC822.SIZE)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        for f in fetches {
            if let Some(uid) = f.uid {
                sizes.insert(uid, u64::from(f.size.unwrap_or(0)));
            }
        }
    }
    let mut chunk: Vec<u32> = Vec::new();
    let mut chunk_bytes = 0u64;
    for uid in uids {
        let size = sizes.get(&uid).copied().unwrap_or(0);
        if !chunk.is_empty() && (chunk.len() >= CHUNK_MAILS || chunk_bytes + size > CHUNK_BYTES) {
            stats.add(process_chunk(app, cfg, caps, session, &chunk).await?);
            chunk.clear();
            chunk_bytes = 0;
        }
        chunk.push(uid);
        chunk_bytes += size;
    }
    if !chunk.is_empty() {
        stats.add(process_chunk(app, cfg, caps, session, &chunk).await?);
    }
    Ok(stats)
}

async fn process_chunk(
    app: &Arc<App>,
    cfg: &MailboxConfig,
    caps: &Caps,
    session: &mut Session<Conn>,
    uids: &[u32],
) -> anyhow::Result<PollStats> {
    let fetches: Vec<_> = timed("fetch", async {
        session
            .uid_fetch(uid_set(uids), "(UID BODY.PEEK[])")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let mut raws: Vec<(u32, Vec<u8>)> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, f.body().unwrap_or_default().to_vec())))
        .collect();
    drop(fetches);
    raws.sort_by_key(|(uid, _)| *uid);
    raws.dedup_by_key(|(uid, _)| *uid);

    // Parse and analyse in parallel; hand to the writer in mailbox order.
    let prepared = futures::future::join_all(raws.into_iter().map(|(uid, raw)| {
        let app = app.clone();
        tokio::task::spawn_blocking(move || {
            let result = prepare_raw(&app, &raw);
            (uid, result, raw)
        })
    }))
    .await;
    let mut stats = PollStats::default();
    let mut pending = Vec::new();
    let mut rejected = Vec::new();
    for joined in prepared {
        let (uid, result, raw) = joined?;
        match result {
            Ok(submission) => pending.push((uid, app.ingest.enqueue(submission).await?)),
            Err(MailOutcome::Rejected { message_id, reason }) => {
                rejected.push((uid, message_id, reason, raw))
            }
            Err(MailOutcome::Failed(e)) => {
                tracing::error!(mailbox = %cfg.name, uid, error = %format!("{e:#}"), "mail not prepared");
                stats.failed += 1;
            }
        }
    }
    let mut done = Vec::new();
    for (uid, p) in pending {
        match app.count(p.wait().await) {
            Ok(ack) => {
                match ack.outcome {
                    Outcome::New => stats.new += 1,
                    Outcome::Resent => stats.resent += 1,
                    Outcome::SameMessage => stats.same_message += 1,
                }
                tracing::debug!(mailbox = %cfg.name, uid, report_id = ack.report_id, "mail stored");
                done.push(uid);
            }
            Err(e) => {
                tracing::error!(mailbox = %cfg.name, uid, error = ?e, "mail not stored; left in the mailbox");
                stats.failed += 1;
            }
        }
    }
    // Committed: now, and only now, mark them done.
    if !done.is_empty() {
        done.sort_unstable();
        let set = uid_set(&done);
        match &cfg.done_folder {
            Some(folder) => move_to(session, caps, &set, folder).await?,
            None => {
                timed("store", async {
                    session
                        .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                })
                .await?;
            }
        }
    }
    // Poison: kept in the database first, then moved aside.
    let mut aside = Vec::new();
    for (uid, message_id, reason, raw) in rejected {
        match store_rejected(
            &app.store,
            &cfg.name,
            Some(uid),
            message_id.as_deref(),
            &reason,
            &raw,
        )
        .await
        {
            Ok(()) => {
                tracing::warn!(mailbox = %cfg.name, uid, "poison mail moved aside");
                stats.rejected += 1;
                aside.push(uid);
            }
            Err(e) => {
                tracing::error!(mailbox = %cfg.name, uid, error = %format!("{e:#}"), "rejected mail not stored");
                stats.failed += 1;
            }
        }
    }
    if !aside.is_empty() {
        aside.sort_unstable();
        let set = uid_set(&aside);
        if let Err(e) = move_to(session, caps, &set, &cfg.rejected_folder).await {
            // Cannot move: flag it so that it is not fetched again (unseen mode).
            tracing::warn!(mailbox = %cfg.name, error = %format!("{e:#}"), "cannot move poison mail; flagging it");
            timed("store", async {
                session
                    .uid_store(&set, "+FLAGS.SILENT (\\Seen \\Flagged)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        }
    }
    Ok(stats)
}

async fn move_to(
    session: &mut Session<Conn>,
    caps: &Caps,
    set: &str,
    folder: &str,
) -> anyhow::Result<()> {
    if caps.mv {
        return timed("move", session.uid_mv(set, folder)).await;
    }
    timed("copy", session.uid_copy(set, folder)).await?;
    timed("store", async {
        session
            .uid_store(set, "+FLAGS.SILENT (\\Seen \\Deleted)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    if caps.uidplus {
        timed("expunge", async {
            session
                .uid_expunge(set)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
    }
    Ok(())
}

/// Polls the configured mailboxes (all, or the one named): once, or until stopped.
pub async fn poll(app: Arc<App>, only: Option<&str>, once: bool) -> anyhow::Result<PollStats> {
    let mailboxes: Vec<MailboxConfig> = app
        .config
        .mailboxes
        .iter()
        .filter(|m| only.is_none_or(|n| n == m.name))
        .cloned()
        .collect();
    anyhow::ensure!(
        !mailboxes.is_empty(),
        "no mailbox configured{} (add [[mailboxes]] to the configuration)",
        only.map(|n| format!(" named {n}")).unwrap_or_default()
    );
    let tasks: Vec<_> = mailboxes
        .into_iter()
        .map(|m| tokio::spawn(run_mailbox(app.clone(), m, once)))
        .collect();
    let mut total = PollStats::default();
    let mut first_error = None;
    for t in tasks {
        match t.await? {
            Ok(s) => total.add(s),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "mailbox poll failed");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

/// Starts one polling task per configured mailbox (for `tipline serve`).
pub fn spawn_all(app: &Arc<App>) {
    for m in app.config.mailboxes.clone() {
        let app = app.clone();
        tracing::info!(mailbox = %m.name, "mail poller started");
        tokio::spawn(async move {
            let name = m.name.clone();
            if let Err(e) = run_mailbox(app, m, false).await {
                tracing::error!(mailbox = %name, error = %format!("{e:#}"), "mail poller stopped");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets() {
        assert_eq!(super::uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(super::uid_set(&[4]), "4");
        assert_eq!(super::uid_set(&[]), "");
    }
}
