//! `tipline serve`: the HTTP API, the writer, and the background workers.

use crate::app::App;
use crate::config::Config;
use crate::web::Server;
use std::sync::Arc;

/// Runs until stopped.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let bind = config.bind.clone();
    let app = App::open(config).await?;
    let server = Server::build(app.clone(), &bind)?;
    tracing::info!(port = server.port(), data = %app.config.data_dir.display(), "tipline serving");
    // Searchable within ~150 ms of the answer when quiet; under a stream of reports the index
    // commits at most every 400 ms (searchable within ~600 ms) instead of after every burst.
    tokio::spawn(app.indexer.clone().follow(
        app.ingest.committed.clone(),
        crate::indexer::FollowPace {
            debounce: std::time::Duration::from_millis(150),
            commit_after: std::time::Duration::from_millis(400),
        },
        Arc::new(tokio::sync::Notify::new()),
    ));
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
