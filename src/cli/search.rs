//! `tipline search QUERY` and `tipline reindex`.

use crate::app::App;
use crate::config::Config;
use indicatif::{ProgressBar, ProgressStyle};
use search::{Query, Sort};

/// Output formats of `tipline search`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A readable table.
    Table,
    /// One JSON hit a line.
    Jsonl,
}

/// The filters of a search, as given on the command line or in a URL.
#[derive(Debug, Default, Clone, clap::Args, serde::Deserialize)]
pub struct Filters {
    /// Division code prefix (province, prefecture, county): covers its subtree.
    #[arg(long)]
    pub place: Option<String>,
    /// Category code (T1…F2, X).
    #[arg(long)]
    pub category: Option<String>,
    /// Subject kind code.
    #[arg(long)]
    pub kind: Option<String>,
    /// Channel code.
    #[arg(long)]
    pub channel: Option<String>,
    /// Case state.
    #[arg(long)]
    pub state: Option<String>,
    /// Referral code.
    #[arg(long)]
    pub referral: Option<String>,
    /// Received on or after this date (YYYY-MM-DD, Beijing time) or instant (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Received before the end of this date, or before this instant.
    #[arg(long)]
    pub to: Option<String>,
    /// relevance, newest or oldest.
    #[arg(long)]
    pub sort: Option<String>,
}

/// Builds a search query; errors name the bad parameter.
pub fn build_query(text: &str, f: &Filters, offset: usize, limit: usize) -> Result<Query, String> {
    let time = |field: &'static str,
                raw: &Option<String>,
                end_of_day: bool|
     -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        let Some(raw) = raw.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let t = intake::parse_timestamp(field, raw).map_err(|e| e.to_string())?;
        let date_only = raw.len() == 10;
        let t = if end_of_day && date_only {
            t + chrono::Duration::days(1)
        } else {
            t
        };
        Ok(Some(t.with_timezone(&chrono::Utc)))
    };
    let sort = match f.sort.as_deref() {
        None | Some("") | Some("relevance") => Sort::Relevance,
        Some("newest") => Sort::Newest,
        Some("oldest") => Sort::Oldest,
        Some(other) => {
            return Err(format!(
                "sort: unknown order {other:?} (relevance, newest, oldest)"
            ))
        }
    };
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Ok(Query {
        text: text.to_string(),
        place: nonempty(&f.place),
        subject_kind: nonempty(&f.kind),
        category: nonempty(&f.category),
        channel: nonempty(&f.channel),
        case_state: nonempty(&f.state),
        referral: nonempty(&f.referral),
        from: time("from", &f.from, false)?,
        to: time("to", &f.to, true)?,
        sort,
        offset,
        limit,
        exclude_cases: Vec::new(),
    })
}

/// Runs a search and prints the hits.
pub async fn run(
    config: Config,
    text: &str,
    filters: &Filters,
    limit: usize,
    format: Format,
) -> anyhow::Result<u8> {
    let app = App::open(config).await?;
    app.indexer.catch_up().await?;
    let query = match build_query(text, filters, 0, limit) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    let index = app.indexer.index().clone();
    let results = match tokio::task::spawn_blocking(move || index.search(&query)).await? {
        Ok(r) => r,
        Err(search::SearchError::BadQuery { message }) => {
            eprintln!("error: bad query: {message}");
            return Ok(2);
        }
        Err(e) => return Err(e.into()),
    };
    match format {
        Format::Jsonl => {
            for hit in &results.hits {
                println!("{}", serde_json::to_string(&hit_json(hit))?);
            }
        }
        Format::Table => {
            println!("{} 条结果", results.total);
            for hit in &results.hits {
                println!(
                    "{}  {}  {:.2}  {}  {}",
                    hit.case_no,
                    hit.received_at
                        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
                        .format("%Y-%m-%d"),
                    hit.score,
                    hit.subject_name.as_deref().unwrap_or("-"),
                    hit.snippet.replace("<b>", "【").replace("</b>", "】")
                );
            }
        }
    }
    Ok(0)
}

/// A hit as JSON (API and CLI share it).
pub fn hit_json(hit: &search::Hit) -> serde_json::Value {
    serde_json::json!({
        "external_id": hit.external_id,
        "report_id": hit.report_id,
        "case_id": hit.case_id,
        "case_no": hit.case_no,
        "score": hit.score,
        "channel": hit.channel,
        "received_at": hit.received_at,
        "title": hit.title,
        "snippet": hit.snippet,
        "subject_name": hit.subject_name,
        "subject_kind": hit.subject_kind,
        "categories": hit.categories,
        "locus": hit.locus,
        "handling": hit.handling,
        "case_state": hit.case_state,
    })
}

/// Rebuilds the search index from the database.
pub async fn reindex(config: Config) -> anyhow::Result<()> {
    let app = App::open(config).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("reindex [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let done = app
        .indexer
        .rebuild(|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    println!("reindexed {done} reports");
    Ok(())
}
