//! The foundation intake benchmarks (the figures), run on the release binary:
//!
//! 1. `tipline import` of generated reports into a fresh SQLite data directory (reports/s, wall).
//! 2. `POST /api/v1/reports` from 64 concurrent clients against `tipline serve` on SQLite: every
//!    answer comes after the report's commit; throughput, p50 and p99 latency.
//! 3. The raw ceiling, in the same run: the very rows the HTTP run stored (reports, raw payloads,
//!    reporters, cases, links, events, the case-number counter), copied from its database and
//!    re-inserted by a bare sqlx loop (one prepared single-row statement per row) into a fresh,
//!    migrated database with the same durability (WAL, `synchronous = FULL`) and the same
//!    transactions: the batches the writer actually committed, recovered from `stored_at`.
//!
//! `cargo bench --bench intake`. Environment: `TIPLINE_BENCH_COUNT` (reports to generate and
//! import, default 100,000), `TIPLINE_BENCH_HTTP_COUNT` (measured HTTP requests, default 20,000),
//! `TIPLINE_BENCH_CLIENTS` (default 64), `TIPLINE_BENCH_WARMUP` (default 2,000).

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::{env_num, loadavg, tipline, BIN};

/// CPU seconds (user + system) from a `/proc/<pid>/stat` line: own (fields 14, 15) and
/// waited-for children (16, 17).
fn proc_cpu(pid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // `after` starts at field 3 (state), so field N is f[N - 3].
    let tick = 100.0; // USER_HZ on Linux
    if f.len() < 15 {
        return (0.0, 0.0);
    }
    ((f[11] + f[12]) / tick, (f[13] + f[14]) / tick)
}

fn run_ok(mut cmd: Command, stdin: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tipline");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn open_db(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open sqlite")
}

async fn count_rows(pool: &SqlitePool, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .expect(sql)
        .get::<i64, _>(0)
}

/// Batch sizes of the reports with id > `after`, as committed: one `stored_at` per transaction.
async fn batch_sizes(pool: &SqlitePool, after: i64) -> Vec<usize> {
    sqlx::query("SELECT COUNT(*) FROM reports WHERE id > ?1 GROUP BY stored_at ORDER BY MIN(id)")
        .bind(after)
        .fetch_all(pool)
        .await
        .expect("batch sizes")
        .iter()
        .map(|r| r.get::<i64, _>(0) as usize)
        .collect()
}

fn describe_batches(sizes: &[usize]) -> String {
    if sizes.is_empty() {
        return "-".into();
    }
    let mut s = sizes.to_vec();
    s.sort_unstable();
    let total: usize = s.iter().sum();
    format!(
        "{} commits, mean {:.1}, median {}, max {}",
        s.len(),
        total as f64 / s.len() as f64,
        s[s.len() / 2],
        s[s.len() - 1]
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Results {
    rows: Vec<(String, String)>,
}

impl Results {
    fn add(&mut self, what: &str, value: String) {
        println!("  {what}: {value}");
        self.rows.push((what.to_string(), value));
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes its settings from the environment.
    let count = env_num("TIPLINE_BENCH_COUNT", 100_000);
    let http_count = env_num("TIPLINE_BENCH_HTTP_COUNT", 20_000);
    let clients = env_num("TIPLINE_BENCH_CLIENTS", 64).max(1);
    let warmup = env_num("TIPLINE_BENCH_WARMUP", 2_000);
    let work = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut results = Results { rows: Vec::new() };

    let model = Command::new("lscpu")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find(|l| l.starts_with("Model name"))
                .map(|l| {
                    l.split_once(':')
                        .map(|x| x.1.trim())
                        .unwrap_or("")
                        .to_string()
                })
        })
        .unwrap_or_default();
    println!(
        "tipline intake bench: {} CPUs ({model}), load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );

    // 1. Generate.
    let generated = work.path().join("reports.jsonl");
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["generate", "--count", &count.to_string(), "--seed", "7"])
        .stdout(std::fs::File::create(&generated).expect("create"))
        .status()
        .expect("generate");
    assert!(out.success(), "generate failed");
    println!(
        "generated {count} reports in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let text = std::fs::read_to_string(&generated).expect("read generated");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), count);
    drop(text);

    // 2. Import.
    println!("\n== import ==  (load average before: {})", loadavg());
    let import_dir = work.path().join("import");
    let (_, children_before) = proc_cpu("self");
    let started = Instant::now();
    let output = tipline(&import_dir)
        .env("TIPLINE_LOG", "warn,tipline::cli::import=debug")
        .arg("import")
        .arg(&generated)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("import");
    let wall = started.elapsed();
    let (_, children_after) = proc_cpu("self");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "import failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout.lines().next().unwrap_or("").to_string();
    let (stored, import_batches) = runtime.block_on(async {
        let pool = open_db(&import_dir.join("tipline.db")).await;
        let stored = count_rows(&pool, "SELECT COUNT(*) FROM reports").await;
        let linked = count_rows(&pool, "SELECT COUNT(*) FROM case_reports").await;
        let raw = count_rows(&pool, "SELECT COUNT(*) FROM report_raw").await;
        assert_eq!(stored, linked, "every report has its case link");
        assert_eq!(stored, raw, "every report has its raw payload");
        let sizes = batch_sizes(&pool, 0).await;
        pool.close().await;
        (stored, sizes)
    });
    let same_message: i64 = summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" same message"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert_eq!(
        stored + same_message,
        count as i64,
        "every line stored or answered as the same message ({summary})"
    );
    results.add("import summary", summary.clone());
    results.add(
        "import wall",
        format!(
            "{:.2} s → {:.0} reports/s (lines/s {:.0})",
            wall.as_secs_f64(),
            stored as f64 / wall.as_secs_f64(),
            count as f64 / wall.as_secs_f64()
        ),
    );
    results.add(
        "import CPU (user+sys)",
        format!(
            "{:.2} s ({:.2} cores busy on average)",
            children_after - children_before,
            (children_after - children_before) / wall.as_secs_f64()
        ),
    );
    results.add("import transactions", describe_batches(&import_batches));
    // The importer's own phases (debug log): start-up, analysis + writer, search catch-up.
    let stderr = strip_ansi(&String::from_utf8_lossy(&output.stderr));
    if let Some(line) = stderr.lines().find(|l| l.contains("import timing")) {
        let field = |k: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1000.0
        };
        let (open, store, index) = (field("open_ms"), field("store_ms"), field("index_ms"));
        results.add(
            "import phases",
            format!(
                "start-up {open:.2} s, parse+analyse+store {store:.2} s ({:.0} reports/s), search catch-up {index:.2} s",
                stored as f64 / store.max(1e-9)
            ),
        );
    }

    // 3. HTTP.
    println!("\n== HTTP ==  (load average before: {})", loadavg());
    let http_dir = work.path().join("http");
    run_ok(
        {
            let mut c = tipline(&http_dir);
            c.args([
                "user",
                "add",
                "bench",
                "--role",
                "operator",
                "--jurisdiction",
                "210300",
            ]);
            c
        },
        "bench-Secret-123\n",
    );
    let token = run_ok(
        {
            let mut c = tipline(&http_dir);
            c.args(["token", "add", "--user", "bench"]);
            c
        },
        "",
    )
    .trim()
    .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut server = ServerGuard(
        tipline(&http_dir)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("serve"),
    );
    let server_pid = server.0.id().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let warmup = warmup.min(lines.len());
    let http_count = http_count.min(lines.len() - warmup);
    let lines = Arc::new(lines);
    let http = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            assert!(Instant::now() < deadline, "serve did not answer /healthz");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = format!("{base}/api/v1/reports");
        let warm = post_all(&client, &url, &token, &lines, 0..warmup, clients).await;
        let (self_before, _) = proc_cpu("self");
        let (server_before, _) = proc_cpu(&server_pid);
        let started = Instant::now();
        let measured = post_all(
            &client,
            &url,
            &token,
            &lines,
            warmup..warmup + http_count,
            clients,
        )
        .await;
        let wall = started.elapsed();
        let (self_after, _) = proc_cpu("self");
        let (server_after, _) = proc_cpu(&server_pid);
        (
            warm,
            measured,
            wall,
            server_after - server_before,
            self_after - self_before,
        )
    });
    let (warm, mut measured, http_wall, server_cpu, client_cpu) = http;
    server.stop();
    let http_db = http_dir.join("tipline.db");
    let (http_stored, warm_max_id, http_batches) = runtime.block_on(async {
        let pool = open_db(&http_db).await;
        let stored = count_rows(&pool, "SELECT COUNT(*) FROM reports").await;
        let warm_max = warm.max_report_id;
        let sizes = batch_sizes(&pool, warm_max).await;
        pool.close().await;
        (stored, warm_max, sizes)
    });
    assert_eq!(
        warm.failed + measured.failed,
        0,
        "every request answered 200/201"
    );
    assert_eq!(
        http_stored as usize,
        warm.created + measured.created,
        "every 201 is a stored report"
    );
    measured.latencies.sort_unstable();
    let lat = &measured.latencies;
    let http_rate = measured.created as f64 / http_wall.as_secs_f64();
    results.add(
        "HTTP requests",
        format!(
            "{} measured after {} warm-up, {clients} clients: {} created (201), {} re-sent/same message (200)",
            lat.len(),
            warmup,
            measured.created,
            measured.ok
        ),
    );
    results.add(
        "HTTP throughput",
        format!(
            "{:.2} s → {:.0} reports/s ({:.0} requests/s)",
            http_wall.as_secs_f64(),
            http_rate,
            lat.len() as f64 / http_wall.as_secs_f64()
        ),
    );
    results.add(
        "HTTP latency",
        format!(
            "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(percentile(lat, 50.0)),
            ms(percentile(lat, 90.0)),
            ms(percentile(lat, 99.0)),
            ms(percentile(lat, 100.0))
        ),
    );
    results.add(
        "HTTP CPU (user+sys)",
        format!(
            "server {:.2} s ({:.0} µs/report), bench client {:.2} s",
            server_cpu,
            server_cpu * 1e6 / measured.created.max(1) as f64,
            client_cpu
        ),
    );
    results.add("HTTP transactions", describe_batches(&http_batches));

    // 4. The raw ceiling: the same rows, the same transactions, a bare sqlx loop.
    println!(
        "\n== raw sqlx ceiling ==  (load average before: {})",
        loadavg()
    );
    let raw_db = work.path().join("raw.db");
    let raw = runtime.block_on(raw_ceiling(&http_db, &raw_db, warm_max_id));
    results.add(
        "raw transactions",
        format!(
            "{} (replayed from the HTTP run's commits)",
            describe_batches(&raw.measured_batches)
        ),
    );
    results.add(
        "raw ceiling",
        format!(
            "{} reports ({} rows) in {:.2} s → {:.0} reports/s, {:.0} rows/s; CPU {:.2} s",
            raw.reports,
            raw.rows,
            raw.wall.as_secs_f64(),
            raw.reports as f64 / raw.wall.as_secs_f64(),
            raw.rows as f64 / raw.wall.as_secs_f64(),
            raw.cpu
        ),
    );
    results.add(
        "HTTP / raw",
        format!(
            "{:.2}",
            http_rate / (raw.reports as f64 / raw.wall.as_secs_f64())
        ),
    );

    println!("\n| figure | value |\n|---|---|");
    for (what, value) in &results.rows {
        println!("| {what} | {value} |");
    }
    println!("\nload average after: {}", loadavg());
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

struct ServerGuard(Child);

impl ServerGuard {
    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Default)]
struct Posted {
    latencies: Vec<Duration>,
    created: usize,
    ok: usize,
    failed: usize,
    max_report_id: i64,
}

async fn post_all(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    lines: &Arc<Vec<String>>,
    range: std::ops::Range<usize>,
    clients: usize,
) -> Posted {
    let next = Arc::new(AtomicUsize::new(range.start));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = client.clone();
        let url = url.to_string();
        let auth = format!("Bearer {token}");
        let lines = lines.clone();
        let next = next.clone();
        let end = range.end;
        tasks.push(tokio::spawn(async move {
            let mut posted = Posted::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let started = Instant::now();
                let response = client
                    .post(&url)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .body(lines[i].clone())
                    .send()
                    .await;
                let (status, body) = match response {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        (status, r.bytes().await.unwrap_or_default())
                    }
                    Err(e) => {
                        eprintln!("request {i} failed: {e}");
                        (0, Default::default())
                    }
                };
                posted.latencies.push(started.elapsed());
                match status {
                    201 => posted.created += 1,
                    200 => posted.ok += 1,
                    _ => {
                        if posted.failed < 3 {
                            eprintln!(
                                "request {i}: HTTP {status}: {}",
                                String::from_utf8_lossy(&body)
                            );
                        }
                        posted.failed += 1;
                    }
                }
                if let Ok(ack) = serde_json::from_slice::<serde_json::Value>(&body) {
                    if let Some(id) = ack.get("report_id").and_then(|v| v.as_i64()) {
                        posted.max_report_id = posted.max_report_id.max(id);
                    }
                }
            }
            posted
        }));
    }
    let mut all = Posted::default();
    for t in tasks {
        let p = t.await.expect("client task");
        all.latencies.extend(p.latencies);
        all.created += p.created;
        all.ok += p.ok;
        all.failed += p.failed;
        all.max_report_id = all.max_report_id.max(p.max_report_id);
    }
    all
}

/// One stored value, whatever its column.
#[derive(Clone, Debug)]
enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A table's rows as stored (every column but an autoincrement key).
struct Table {
    name: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Val>>,
}

impl Table {
    fn col(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("{}.{name}", self.name))
    }

    fn insert_sql(&self) -> String {
        let marks: Vec<String> = (1..=self.columns.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.name,
            self.columns.join(", "),
            marks.join(", ")
        )
    }
}

/// Reads a whole table; the columns come from the schema, so the copy follows migrations.
async fn load(pool: &SqlitePool, name: &'static str, skip: &[&str]) -> Table {
    use sqlx::{TypeInfo, ValueRef};
    let columns: Vec<String> = sqlx::query(&format!("PRAGMA table_info({name})"))
        .fetch_all(pool)
        .await
        .expect("table_info")
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .filter(|c| !skip.contains(&c.as_str()))
        .collect();
    let order = if name == "events" { "seq" } else { "rowid" };
    let sql = format!("SELECT {} FROM {name} ORDER BY {order}", columns.join(", "));
    let rows = sqlx::query(&sql)
        .fetch_all(pool)
        .await
        .expect("load rows")
        .iter()
        .map(|row| {
            (0..columns.len())
                .map(|i| {
                    let raw = row.try_get_raw(i).expect("column");
                    if raw.is_null() {
                        return Val::Null;
                    }
                    match raw.type_info().name() {
                        "INTEGER" => Val::Int(row.try_get_unchecked(i).expect("int")),
                        "REAL" => Val::Real(row.try_get_unchecked(i).expect("real")),
                        "BLOB" => Val::Blob(row.try_get_unchecked(i).expect("blob")),
                        _ => Val::Text(row.try_get_unchecked(i).expect("text")),
                    }
                })
                .collect()
        })
        .collect();
    Table {
        name,
        columns,
        rows,
    }
}

fn int(v: &Val) -> i64 {
    match v {
        Val::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn txt(v: &Val) -> Option<&str> {
    match v {
        Val::Text(s) => Some(s),
        _ => None,
    }
}

async fn insert(conn: &mut sqlx::SqliteConnection, sql: &str, row: &[Val]) {
    let mut q = sqlx::query(sql);
    for v in row {
        q = match v {
            Val::Null => q.bind(None::<i64>),
            Val::Int(i) => q.bind(*i),
            Val::Real(f) => q.bind(*f),
            Val::Text(t) => q.bind(t.clone()),
            Val::Blob(b) => q.bind(b.clone()),
        };
    }
    q.execute(conn).await.expect(sql);
}

struct Raw {
    reports: usize,
    rows: usize,
    wall: Duration,
    cpu: f64,
    measured_batches: Vec<usize>,
}

/// One report's rows.
#[derive(Default)]
struct ReportRows {
    report: Vec<Val>,
    per_report: Vec<(usize, Vec<Val>)>,
    opened: Option<Vec<Val>>,
    joins: Option<i64>,
    subject: Option<Vec<Val>>,
}

/// Tables with one or more rows per report, keyed by `report_id`, in the writer's order.
const PER_REPORT: &[&str] = &[
    "report_raw",
    "attachments",
    "reporters",
    "receipts",
    "case_reports",
    "events",
];

async fn raw_ceiling(source: &Path, target: &PathBuf, measured_after: i64) -> Raw {
    let src = open_db(source).await;
    let reports = load(&src, "reports", &[]).await;
    let cases = load(&src, "cases", &[]).await;
    let subjects = load(&src, "subjects", &[]).await;
    let outbox = load(&src, "outbox", &["id"]).await;
    let mut per_report = Vec::new();
    for name in PER_REPORT {
        per_report.push(load(&src, name, &["seq", "id"]).await);
    }
    src.close().await;

    let links = &per_report[PER_REPORT
        .iter()
        .position(|t| *t == "case_reports")
        .unwrap()];
    let (link_report, link_case, link_kind) = (
        links.col("report_id"),
        links.col("case_id"),
        links.col("link"),
    );
    let mut opened_case: HashMap<i64, i64> = HashMap::new(); // report → case it opened
    let mut joined_case: HashMap<i64, i64> = HashMap::new();
    for l in &links.rows {
        if txt(&l[link_kind]) == Some("opened") {
            opened_case.insert(int(&l[link_report]), int(&l[link_case]));
        } else {
            joined_case.insert(int(&l[link_report]), int(&l[link_case]));
        }
    }
    let case_id_col = cases.col("id");
    let mut case_rows: HashMap<i64, Vec<Val>> = cases
        .rows
        .iter()
        .map(|r| (int(&r[case_id_col]), r.clone()))
        .collect();
    let subject_col = subjects.col("subject_key");
    let subject_rows: HashMap<String, Vec<Val>> = subjects
        .rows
        .iter()
        .map(|r| (txt(&r[subject_col]).unwrap_or("").to_string(), r.clone()))
        .collect();
    let mut rows_of: HashMap<i64, Vec<(usize, Vec<Val>)>> = HashMap::new();
    for (t, table) in per_report.iter().enumerate() {
        let c = table.col("report_id");
        for r in &table.rows {
            rows_of.entry(int(&r[c])).or_default().push((t, r.clone()));
        }
    }
    let outbox_at = outbox.col("created_at");
    let mut outbox_of: HashMap<String, Vec<Vec<Val>>> = HashMap::new();
    for r in &outbox.rows {
        outbox_of
            .entry(txt(&r[outbox_at]).unwrap_or("").to_string())
            .or_default()
            .push(r.clone());
    }

    // Group the reports into the transactions the writer committed (one `stored_at` each).
    let (id_col, stored_col, report_subject_col) = (
        reports.col("id"),
        reports.col("stored_at"),
        reports.columns.iter().position(|c| c == "subject_key"),
    );
    let mut batches: Vec<(String, Vec<ReportRows>)> = Vec::new();
    let mut batch_measured: Vec<bool> = Vec::new();
    for report in &reports.rows {
        let id = int(&report[id_col]);
        let stored_at = txt(&report[stored_col]).expect("stored_at").to_string();
        let mut per = rows_of.remove(&id).unwrap_or_default();
        per.sort_by_key(|(t, _)| *t);
        let rows = ReportRows {
            report: report.clone(),
            per_report: per,
            opened: opened_case
                .get(&id)
                .map(|c| case_rows.remove(c).expect("opened case")),
            joins: joined_case.get(&id).copied(),
            subject: report_subject_col
                .and_then(|c| txt(&report[c]))
                .and_then(|k| subject_rows.get(k).cloned()),
        };
        if batches.last().is_none_or(|(at, _)| *at != stored_at) {
            batches.push((stored_at, Vec::new()));
            batch_measured.push(id > measured_after);
        }
        batches.last_mut().expect("pushed").1.push(rows);
    }

    let _ = std::fs::remove_file(target);
    let pool = open_db(target).await;
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    sqlx::migrate::Migrator::new(migrations.as_path())
        .await
        .expect("migrations")
        .run(&pool)
        .await
        .expect("migrate");
    let mut conn = pool.acquire().await.expect("connection");
    let report_sql = reports.insert_sql();
    let case_sql = cases.insert_sql();
    let outbox_sql = outbox.insert_sql();
    let per_sql: Vec<String> = per_report.iter().map(Table::insert_sql).collect();
    let subject_sql = format!(
        "{} ON CONFLICT (subject_key) DO UPDATE SET last_seen = excluded.last_seen, \
         report_count = subjects.report_count + excluded.report_count",
        subjects.insert_sql()
    );

    let mut result = Raw {
        reports: 0,
        rows: 0,
        wall: Duration::ZERO,
        cpu: 0.0,
        measured_batches: Vec::new(),
    };
    for ((stored_at, batch), measured) in batches.iter().zip(batch_measured) {
        let (cpu_before, _) = proc_cpu("self");
        let started = Instant::now();
        let mut rows = 0;
        sqlx::query("BEGIN")
            .execute(&mut *conn)
            .await
            .expect("begin");
        let opened = batch.iter().filter(|r| r.opened.is_some()).count() as i64;
        if opened > 0 {
            sqlx::query(
                "INSERT INTO counters (name, value) VALUES (?1, 0) ON CONFLICT (name) DO NOTHING",
            )
            .bind("case_no:bench")
            .execute(&mut *conn)
            .await
            .expect("counter");
            sqlx::query("UPDATE counters SET value = value + ?1 WHERE name = ?2 RETURNING value")
                .bind(opened)
                .bind("case_no:bench")
                .fetch_one(&mut *conn)
                .await
                .expect("counter");
        }
        for r in batch {
            if let Some(case) = &r.opened {
                insert(&mut conn, &case_sql, case).await;
                rows += 1;
            }
        }
        for r in batch {
            if let Some(case_id) = r.joins {
                // Joining an existing case: read it, then update its counts (as the writer does).
                let row = sqlx::query("SELECT case_no, categories FROM cases WHERE id = ?1")
                    .bind(case_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .expect("case");
                let categories: String = row
                    .map(|r| r.get::<String, _>(1))
                    .unwrap_or_else(|| "[]".into());
                sqlx::query(
                    "UPDATE cases SET report_count = report_count + 1, repeat_count = repeat_count + ?1, \
                     categories = ?2, updated_at = ?3, version = version + 1 WHERE id = ?4",
                )
                .bind(1_i64)
                .bind(categories)
                .bind(stored_at)
                .bind(case_id)
                .execute(&mut *conn)
                .await
                .expect("join");
            }
            insert(&mut conn, &report_sql, &r.report).await;
            rows += 1;
            for (t, row) in &r.per_report {
                insert(&mut conn, &per_sql[*t], row).await;
                rows += 1;
            }
            if let Some(subject) = &r.subject {
                let mut subject = subject.clone();
                subject[subjects.col("report_count")] = Val::Int(1);
                insert(&mut conn, &subject_sql, &subject).await;
                rows += 1;
            }
        }
        for row in outbox_of.get(stored_at).into_iter().flatten() {
            insert(&mut conn, &outbox_sql, row).await;
            rows += 1;
        }
        sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .expect("commit");
        if measured {
            result.wall += started.elapsed();
            result.cpu += proc_cpu("self").0 - cpu_before;
            result.reports += batch.len();
            result.rows += rows;
            result.measured_batches.push(batch.len());
        }
    }
    drop(conn);
    let mut per_table = BTreeMap::new();
    for t in ["reports", "cases", "subjects", "outbox"]
        .iter()
        .chain(PER_REPORT)
    {
        per_table.insert(
            *t,
            count_rows(&pool, &format!("SELECT COUNT(*) FROM {t}")).await,
        );
    }
    println!("  raw database rows: {per_table:?}");
    let total: usize = batches.iter().map(|b| b.1.len()).sum();
    assert_eq!(
        per_table["reports"] as usize, total,
        "the raw loop stored every report"
    );
    assert_eq!(
        per_table["reports"] as usize,
        reports.rows.len(),
        "as many reports as the HTTP run"
    );
    pool.close().await;
    result
}
