//! Side by side, same corpus and queries, same run: this crate (tantivy, bigram/trigram
//! analysis), SQLite FTS5 with its trigram tokenizer, and PostgreSQL with pg_trgm (GIN).
//!
//! Every engine gets the same searchable text per report, the way the index builds it (title,
//! text, subject, place names and ids, each folded: NFKC width, traditional → simplified, lower
//! case) and the same folded queries; a query's terms (separated by spaces) must all occur as
//! substrings. The ground truth of a query is the number of reports whose folded text contains
//! every term, counted by a plain scan; all three engines must report exactly that. The scan
//! over the text as written (not folded) is shown too: what an engine without folding finds.
//!
//! Timed per query and engine: the number of matches plus the page of the 20 most recent ones
//! (SQL: `count(*)` and `ORDER BY received DESC LIMIT 20`); tantivy's `search` does that and
//! more (facets over all matches, snippets, relevance order where the match count allows).
//! FTS5 cannot use its index for terms under 3 characters (`MATCH` finds nothing for them): they
//! go through `LIKE`, which scans; the naive `MATCH` count is shown in its own column.
//!
//! `cargo bench -p tipline-search --bench compare` runs 100,000 reports;
//! `TIPLINE_BENCH_DOCS=1000000` a million; `TIPLINE_COMPARE_RUNS` the timed runs per query and
//! engine (default 5). PostgreSQL: `TIPLINE_COMPARE_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`); the bench creates the database
//! `tipline_search_compare` there, with the pg_trgm extension, and drops it at the end. If the
//! server is unreachable the PostgreSQL columns are left out.

mod common;

use std::time::{Duration, Instant};

use common::{corpus, load_average, ms, percentile, searchable_text, thread_cpu, QUERIES};
use search::{Query, SearchIndex, WriterOptions};

const PAGE: usize = 20;

/// Edge cases beyond the 2–6 character queries (not in the latency summary): punctuation inside
/// a term, full-width and traditional input, upper-case ids, a single character.
const EDGE: &[&str] = &[
    "包过，交",
    "包过。交",
    "３８００",
    "電工證",
    "AJ0000001",
    "考",
];
const PG_DB: &str = "tipline_search_compare";

/// One query as the SQL engines see it: its folded terms.
struct Terms {
    text: &'static str,
    folded: Vec<String>,
    raw: Vec<String>,
}

fn terms(text: &'static str) -> Terms {
    let raw: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    Terms {
        text,
        folded: raw.iter().map(|t| search::fold(t)).collect(),
        raw,
    }
}

fn like_pattern(t: &str) -> String {
    let mut p = String::from("%");
    for c in t.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// An FTS5 phrase: the term in double quotes (inner quotes doubled).
fn fts_phrase(t: &str) -> String {
    format!("\"{}\"", t.replace('"', "\"\""))
}

struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    fn load(path: &std::path::Path, docs: &[(i64, String)]) -> rusqlite::Result<Sqlite> {
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE VIRTUAL TABLE docs USING fts5(body, received UNINDEXED, tokenize = 'trigram');",
        )?;
        let tx = conn.unchecked_transaction()?;
        {
            let mut ins =
                tx.prepare("INSERT INTO docs (rowid, body, received) VALUES (?1, ?2, ?3)")?;
            for (i, (received, body)) in docs.iter().enumerate() {
                ins.execute(rusqlite::params![i as i64, body, received])?;
            }
        }
        tx.commit()?;
        conn.execute_batch("INSERT INTO docs(docs) VALUES ('optimize');")?;
        Ok(Sqlite { conn })
    }

    /// The WHERE clause and its parameters: terms of 3+ characters through the trigram index
    /// (`MATCH`), shorter ones through `LIKE` (a scan of the candidates or of the table).
    fn condition(t: &Terms) -> (String, Vec<String>) {
        let long: Vec<String> = t
            .folded
            .iter()
            .filter(|s| s.chars().count() >= 3)
            .map(|s| fts_phrase(s))
            .collect();
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        if !long.is_empty() {
            clauses.push("docs MATCH ?".to_string());
            params.push(long.join(" AND "));
        }
        for s in t.folded.iter().filter(|s| s.chars().count() < 3) {
            clauses.push("body LIKE ? ESCAPE '\\'".to_string());
            params.push(like_pattern(s));
        }
        (clauses.join(" AND "), params)
    }

    fn run(&self, t: &Terms) -> rusqlite::Result<(u64, usize)> {
        let (cond, params) = Self::condition(t);
        let count: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM docs WHERE {cond}"),
            rusqlite::params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT rowid FROM docs WHERE {cond} ORDER BY received DESC LIMIT {PAGE}"
        ))?;
        let page = st
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                r.get::<_, i64>(0)
            })?
            .count();
        Ok((count as u64, page))
    }

    /// What `MATCH` alone reports (terms of any length as phrases): zero rows for terms under
    /// 3 characters.
    fn naive_match_count(&self, t: &Terms) -> rusqlite::Result<u64> {
        let expr: Vec<String> = t.folded.iter().map(|s| fts_phrase(s)).collect();
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM docs WHERE docs MATCH ?1",
            [expr.join(" AND ")],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

struct Pg {
    client: postgres::Client,
    url: String,
}

impl Pg {
    fn load(url: &str, docs: &[(i64, String)]) -> Result<Pg, postgres::Error> {
        let mut admin = postgres::Client::connect(url, postgres::NoTls)?;
        // Separate statements: CREATE DATABASE cannot run in the implicit transaction of a
        // multi-statement batch.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {PG_DB}"))?;
        admin.batch_execute(&format!("CREATE DATABASE {PG_DB}"))?;
        let mut config: postgres::Config = url.parse()?;
        config.dbname(PG_DB);
        let mut client = config.connect(postgres::NoTls)?;
        client.batch_execute(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;
             CREATE TABLE docs (id integer PRIMARY KEY, received bigint NOT NULL, body text NOT NULL);",
        )?;
        let mut w = client.copy_in("COPY docs (id, received, body) FROM STDIN")?;
        let mut line = String::new();
        for (i, (received, body)) in docs.iter().enumerate() {
            use std::io::Write;
            line.clear();
            line.push_str(&format!("{i}\t{received}\t"));
            for c in body.chars() {
                match c {
                    '\\' => line.push_str("\\\\"),
                    '\n' => line.push_str("\\n"),
                    '\r' => line.push_str("\\r"),
                    '\t' => line.push_str("\\t"),
                    c => line.push(c),
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes()).expect("COPY write");
        }
        w.finish()?;
        client.batch_execute(
            "CREATE INDEX docs_body_trgm ON docs USING gin (body gin_trgm_ops);
             CREATE INDEX docs_received ON docs (received);
             ANALYZE docs;",
        )?;
        Ok(Pg {
            client,
            url: url.to_string(),
        })
    }

    fn run(&mut self, t: &Terms) -> Result<(u64, usize), postgres::Error> {
        let cond: Vec<String> = (1..=t.folded.len())
            .map(|i| format!("body LIKE ${i}"))
            .collect();
        let cond = cond.join(" AND ");
        let params: Vec<String> = t.folded.iter().map(|s| like_pattern(s)).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let count: i64 = self
            .client
            .query_one(&format!("SELECT count(*) FROM docs WHERE {cond}"), &refs)?
            .get(0);
        let page = self
            .client
            .query(
                &format!("SELECT id FROM docs WHERE {cond} ORDER BY received DESC LIMIT {PAGE}"),
                &refs,
            )?
            .len();
        Ok((count as u64, page))
    }

    fn drop_database(self) {
        drop(self.client);
        match postgres::Client::connect(&self.url, postgres::NoTls)
            .and_then(|mut c| c.batch_execute(&format!("DROP DATABASE IF EXISTS {PG_DB}")))
        {
            Ok(()) => println!("PostgreSQL: dropped database {PG_DB}"),
            Err(e) => println!("PostgreSQL: could not drop database {PG_DB}: {e}"),
        }
    }
}

/// Wall and CPU time of one call.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let (c, t) = (thread_cpu(), Instant::now());
    let r = f();
    (r, t.elapsed(), thread_cpu().saturating_sub(c))
}

#[derive(Default)]
struct Times {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Times {
    fn push(&mut self, wall: Duration, cpu: Duration) {
        self.wall.push(wall);
        self.cpu.push(cpu);
    }
    fn median(&self) -> Duration {
        let mut v = self.wall.clone();
        v.sort();
        percentile(&v, 0.5)
    }
    fn summary(&self) -> String {
        let (mut w, mut c) = (self.wall.clone(), self.cpu.clone());
        w.sort();
        c.sort();
        format!(
            "p50 {:.2} ms, p99 {:.2} ms (CPU p50 {:.2} ms, p99 {:.2} ms)",
            ms(percentile(&w, 0.5)),
            ms(percentile(&w, 0.99)),
            ms(percentile(&c, 0.5)),
            ms(percentile(&c, 0.99))
        )
    }
}

fn main() {
    let n: usize = std::env::var("TIPLINE_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = std::env::var("TIPLINE_COMPARE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let pg_url = std::env::var("TIPLINE_COMPARE_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    println!(
        "corpus: {n} synthetic reports (seed 42, as benches/search.rs); {} queries × {runs} runs per engine; load average {}",
        QUERIES.len(),
        load_average()
    );
    let docs = corpus(n, 42);
    let folded: Vec<(i64, String)> = docs
        .iter()
        .map(|d| (d.received_at.timestamp(), searchable_text(d, true)))
        .collect();
    let raw: Vec<String> = docs.iter().map(|d| searchable_text(d, false)).collect();
    let dir = tempfile::tempdir().expect("temp dir");

    // Loading (not timed against each other: each engine's own bulk path).
    let t = Instant::now();
    let index = SearchIndex::open_with(&dir.path().join("tantivy"), WriterOptions::default())
        .expect("open");
    for chunk in docs.chunks(10_000) {
        index.upsert(chunk.iter().cloned()).expect("upsert");
    }
    index.commit(1).expect("commit");
    index.optimize().expect("optimize");
    println!(
        "tantivy: loaded and merged in {:.1} s ({} segment)",
        t.elapsed().as_secs_f64(),
        index.num_segments()
    );
    drop(docs);
    let t = Instant::now();
    let sqlite = Sqlite::load(&dir.path().join("fts5.db"), &folded).expect("sqlite");
    println!(
        "SQLite {} FTS5 trigram: loaded in {:.1} s",
        rusqlite::version(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut pg = match Pg::load(&pg_url, &folded) {
        Ok(mut pg) => {
            let v: String = pg
                .client
                .query_one("SHOW server_version", &[])
                .map(|r| r.get(0))
                .unwrap_or_default();
            println!(
                "PostgreSQL {v} pg_trgm GIN: loaded and indexed in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            Some(pg)
        }
        Err(e) => {
            let why = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string());
            println!("PostgreSQL unavailable ({why}): its columns are left out");
            None
        }
    };

    let qs: Vec<Terms> = QUERIES.iter().chain(EDGE).map(|q| terms(q)).collect();
    // Ground truth: plain scans.
    let truth: Vec<(u64, u64)> = qs
        .iter()
        .map(|q| {
            let f = folded
                .iter()
                .filter(|(_, b)| q.folded.iter().all(|t| b.contains(t.as_str())))
                .count() as u64;
            let r = raw
                .iter()
                .filter(|b| q.raw.iter().all(|t| b.contains(t.as_str())))
                .count() as u64;
            (f, r)
        })
        .collect();
    drop(raw);

    // Warm-up: one untimed round per engine.
    for q in &qs {
        let _ = index.search(&Query::text(q.text));
        let _ = sqlite.run(q);
        if let Some(pg) = pg.as_mut() {
            let _ = pg.run(q);
        }
    }

    let (mut all_t, mut all_s, mut all_p) = (Times::default(), Times::default(), Times::default());
    let mut rows = Vec::new();
    let mut mismatches = Vec::new();
    for (qi, (q, (truth_f, truth_r))) in qs.iter().zip(&truth).enumerate() {
        let edge = qi >= QUERIES.len();
        let (mut qt, mut qsq, mut qp) = (Times::default(), Times::default(), Times::default());
        let (mut ct, mut cs, mut cp) = (0u64, 0u64, None);
        for _ in 0..runs {
            let query = Query {
                limit: PAGE,
                ..Query::text(q.text)
            };
            let (r, w, c) = timed(|| index.search(&query).expect("tantivy"));
            ct = r.total as u64;
            qt.push(w, c);
            if !edge {
                all_t.push(w, c);
            }
            let (r, w, c) = timed(|| sqlite.run(q).expect("sqlite"));
            cs = r.0;
            qsq.push(w, c);
            if !edge {
                all_s.push(w, c);
            }
            if let Some(pg) = pg.as_mut() {
                let (r, w, _) = timed(|| pg.run(q).expect("postgres"));
                cp = Some(r.0);
                // The server's CPU is not this thread's: wall time only.
                qp.push(w, w);
                if !edge {
                    all_p.push(w, w);
                }
            }
        }
        let naive = sqlite.naive_match_count(q).unwrap_or(0);
        for (engine, got) in [("tantivy", Some(ct)), ("FTS5", Some(cs)), ("pg_trgm", cp)] {
            if let Some(got) = got {
                if got != *truth_f {
                    mismatches.push(format!("{:?}: {engine} {got} ≠ truth {truth_f}", q.text));
                }
            }
        }
        rows.push(format!(
            "| {:<10} | {:>7} | {:>7} | {:>7} | {:>7} | {:>7} | {:>11} | {:>8.2} | {:>8.2} | {:>8} |",
            if edge {
                format!("{} *", q.text)
            } else {
                q.text.to_string()
            },
            truth_f,
            ct,
            cs,
            cp.map_or("–".into(), |c| c.to_string()),
            naive,
            truth_r,
            ms(qt.median()),
            ms(qsq.median()),
            if pg.is_some() {
                format!("{:.2}", ms(qp.median()))
            } else {
                "–".into()
            },
        ));
    }
    println!();
    println!("| query      |   truth | tantivy |    FTS5 | pg_trgm | FTS5 MATCH only | as written | tantivy ms | FTS5 ms | pg ms |");
    println!("|------------|--------:|--------:|--------:|--------:|--------:|-----------:|---------:|---------:|---------:|");
    for r in &rows {
        println!("{r}");
    }
    println!();
    println!("tantivy (facets, snippets, 20 hits): {}", all_t.summary());
    println!(
        "SQLite FTS5 trigram (count + 20 newest): {}",
        all_s.summary()
    );
    if pg.is_some() {
        let mut w = all_p.wall.clone();
        w.sort();
        println!(
            "PostgreSQL pg_trgm (count + 20 newest, wall only): p50 {:.2} ms, p99 {:.2} ms",
            ms(percentile(&w, 0.5)),
            ms(percentile(&w, 0.99))
        );
    }
    println!(
        "* edge case, not in the latency figures; load average {}",
        load_average()
    );
    if mismatches.is_empty() {
        println!(
            "result counts: all three engines equal the substring ground truth on every query"
        );
    } else {
        println!("result count differences:");
        for m in &mismatches {
            println!("  {m}");
        }
    }
    if let Some(pg) = pg {
        pg.drop_database();
    }
}
