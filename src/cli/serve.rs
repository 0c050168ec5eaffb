//! `tipline serve`: the HTTP API, the writer, and the background workers.

use crate::app::App;
use crate::config::Config;
use crate::web::Server;

/// Runs until stopped.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let bind = config.bind.clone();
    let app = App::open(config).await?;
    let server = Server::build(app.clone(), &bind)?;
    tracing::info!(port = server.port(), data = %app.config.data_dir.display(), "tipline serving");
    let indexer = app.indexer.clone();
    let committed = app.ingest.committed.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = indexer.catch_up().await {
                tracing::error!(error = %format!("{e:#}"), "search indexing failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            // Wake on a commit, or every few seconds to pick up other nodes' writes. After a
            // commit, wait a moment so that a burst of commits becomes one index commit: the
            // index's commit (fsync, merge) costs far more than one batch of the writer.
            let woken =
                tokio::time::timeout(std::time::Duration::from_secs(5), committed.notified()).await;
            if woken.is_ok() {
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            }
        }
    });
    if let Some(smtp) = app.config.smtp.clone() {
        crate::outbox::smtp::spawn(app.store.clone(), smtp)?;
        tracing::info!("mail sender started");
    }
    if let Some(platform) = app.config.platform_12345.clone() {
        crate::outbox::platform::spawn(app.store.clone(), platform)?;
        tracing::info!("12345 reply pusher started");
    }
    crate::mail::imap::spawn_all(&app);
    crate::stats::auto::spawn(app.clone());
    crate::deadlines::spawn(app.store.clone(), app.config.clone());
    server.run_until_stopped().await?;
    Ok(())
}
