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

const BIN: &str = env!("CARGO_BIN_EXE_tipline");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

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

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn tipline(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data").arg(data);
    cmd.env_remove("TIPLINE_DATABASE_URL");
    cmd.env("TIPLINE_LOG", "warn");
    cmd
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

async fn count(pool: &SqlitePool, sql: &str) -> i64 {
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
    let count = env_usize("TIPLINE_BENCH_COUNT", 100_000);
    let http_count = env_usize("TIPLINE_BENCH_HTTP_COUNT", 20_000);
    let clients = env_usize("TIPLINE_BENCH_CLIENTS", 64).max(1);
    let warmup = env_usize("TIPLINE_BENCH_WARMUP", 2_000);
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
        let stored = count(&pool, "SELECT COUNT(*) FROM reports").await;
        let linked = count(&pool, "SELECT COUNT(*) FROM case_reports").await;
        let raw = count(&pool, "SELECT COUNT(*) FROM report_raw").await;
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
        let stored = count(&pool, "SELECT COUNT(*) FROM reports").await;
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

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
}

#[derive(Clone, Debug)]
enum Val {
    Int(Option<i64>),
    Text(Option<String>),
}

use Kind::{Int as I, Text as T};

const REPORTS: (&str, &[(&str, Kind)]) = (
    "reports",
    &[
        ("id", I),
        ("channel", T),
        ("external_id", T),
        ("received_at", T),
        ("received_ts", I),
        ("title", T),
        ("text", T),
        ("address", T),
        ("deadline", T),
        ("subject_json", T),
        ("decisions", T),
        ("fingerprint", T),
        ("case_id", I),
        ("stored_at", T),
    ],
);
const RAW: (&str, &[(&str, Kind)]) = (
    "report_raw",
    &[("report_id", I), ("content_type", T), ("payload", T)],
);
const REPORTERS: (&str, &[(&str, Kind)]) = (
    "reporters",
    &[
        ("report_id", I),
        ("name", T),
        ("phone", T),
        ("email", T),
        ("id_number", T),
        ("anonymous", I),
    ],
);
const LINKS: (&str, &[(&str, Kind)]) = (
    "case_reports",
    &[
        ("report_id", I),
        ("case_id", I),
        ("link", T),
        ("linked_at", T),
    ],
);
const EVENTS: (&str, &[(&str, Kind)]) = (
    "events",
    &[
        ("report_id", I),
        ("at", T),
        ("actor", T),
        ("kind", T),
        ("case_id", I),
        ("data", T),
    ],
);
const CASES: (&str, &[(&str, Kind)]) = (
    "cases",
    &[
        ("id", I),
        ("case_no", T),
        ("state", T),
        ("subject_name", T),
        ("subject_key", T),
        ("subject_kind", T),
        ("categories", T),
        ("locus", T),
        ("handling", T),
        ("referrals", T),
        ("transfer", T),
        ("deadline", T),
        ("opened_at", T),
        ("updated_at", T),
    ],
);

/// All rows of a table, keyed by the first column, in order.
async fn load(pool: &SqlitePool, table: (&str, &[(&str, Kind)])) -> Vec<Vec<Val>> {
    let (name, columns) = table;
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let order = if name == "events" { "seq" } else { names[0] };
    let sql = format!("SELECT {} FROM {name} ORDER BY {order}", names.join(", "));
    sqlx::query(&sql)
        .fetch_all(pool)
        .await
        .expect("load rows")
        .iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| match kind {
                    Kind::Int => Val::Int(row.get(i)),
                    Kind::Text => Val::Text(row.get(i)),
                })
                .collect()
        })
        .collect()
}

fn int(v: &Val) -> i64 {
    match v {
        Val::Int(Some(i)) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn insert_sql(table: (&str, &[(&str, Kind)])) -> String {
    let (name, columns) = table;
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {name} ({}) VALUES ({})",
        names.join(", "),
        marks.join(", ")
    )
}

async fn insert(conn: &mut sqlx::SqliteConnection, sql: &str, row: &[Val]) {
    let mut q = sqlx::query(sql);
    for v in row {
        q = match v {
            Val::Int(i) => q.bind(*i),
            Val::Text(t) => q.bind(t.clone()),
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
struct ReportRows {
    report: Vec<Val>,
    raw: Option<Vec<Val>>,
    reporter: Option<Vec<Val>>,
    link: Vec<Val>,
    opened: Option<Vec<Val>>,
    events: Vec<Vec<Val>>,
    stored_at: String,
}

async fn raw_ceiling(source: &Path, target: &PathBuf, measured_after: i64) -> Raw {
    let src = open_db(source).await;
    let reports = load(&src, REPORTS).await;
    let mut raw: HashMap<i64, Vec<Val>> = load(&src, RAW)
        .await
        .into_iter()
        .map(|r| (int(&r[0]), r))
        .collect();
    let mut reporters: HashMap<i64, Vec<Val>> = load(&src, REPORTERS)
        .await
        .into_iter()
        .map(|r| (int(&r[0]), r))
        .collect();
    let mut links: HashMap<i64, Vec<Val>> = load(&src, LINKS)
        .await
        .into_iter()
        .map(|r| (int(&r[0]), r))
        .collect();
    let mut cases: HashMap<i64, Vec<Val>> = load(&src, CASES)
        .await
        .into_iter()
        .map(|r| (int(&r[0]), r))
        .collect();
    let mut events: HashMap<i64, Vec<Vec<Val>>> = HashMap::new();
    for e in load(&src, EVENTS).await {
        events.entry(int(&e[0])).or_default().push(e);
    }
    src.close().await;

    // Group the reports into the transactions the writer committed (one `stored_at` each).
    let mut batches: Vec<Vec<ReportRows>> = Vec::new();
    let mut batch_measured: Vec<bool> = Vec::new();
    let mut last_stored_at = String::new();
    for report in reports {
        let id = int(&report[0]);
        let stored_at = match &report[13] {
            Val::Text(Some(s)) => s.clone(),
            _ => panic!("stored_at"),
        };
        let link = links.remove(&id).expect("every report has a link");
        let opened = match &link[2] {
            Val::Text(Some(l)) if l == "opened" => {
                Some(cases.remove(&int(&link[1])).expect("opened case"))
            }
            _ => None,
        };
        let rows = ReportRows {
            raw: raw.remove(&id),
            reporter: reporters.remove(&id),
            opened,
            events: events.remove(&id).unwrap_or_default(),
            link,
            report,
            stored_at: stored_at.clone(),
        };
        if batches.is_empty() || stored_at != last_stored_at {
            batches.push(Vec::new());
            batch_measured.push(id > measured_after);
            last_stored_at = stored_at;
        }
        batches.last_mut().expect("pushed").push(rows);
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
    let report_sql = insert_sql(REPORTS);
    let raw_sql = insert_sql(RAW);
    let reporter_sql = insert_sql(REPORTERS);
    let link_sql = insert_sql(LINKS);
    let case_sql = insert_sql(CASES);
    let event_sql = "INSERT INTO events (report_id, at, actor, kind, case_id, data) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

    let mut result = Raw {
        reports: 0,
        rows: 0,
        wall: Duration::ZERO,
        cpu: 0.0,
        measured_batches: Vec::new(),
    };
    for (batch, measured) in batches.iter().zip(batch_measured) {
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
        for r in batch.iter().filter(|r| r.opened.is_some()) {
            insert(&mut conn, &case_sql, r.opened.as_ref().expect("filtered")).await;
            rows += 1;
        }
        for r in batch {
            if r.opened.is_none() {
                // Joining an existing case: read it, then update its counts (as the writer does).
                let case_id = int(&r.link[1]);
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
                .bind(&r.stored_at)
                .bind(case_id)
                .execute(&mut *conn)
                .await
                .expect("join");
            }
            insert(&mut conn, &report_sql, &r.report).await;
            rows += 1;
            if let Some(raw) = &r.raw {
                insert(&mut conn, &raw_sql, raw).await;
                rows += 1;
            }
            if let Some(reporter) = &r.reporter {
                insert(&mut conn, &reporter_sql, reporter).await;
                rows += 1;
            }
            insert(&mut conn, &link_sql, &r.link).await;
            rows += 1;
            for e in &r.events {
                insert(&mut conn, event_sql, e).await;
                rows += 1;
            }
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
    let stored = count(&pool, "SELECT COUNT(*) FROM reports").await as usize;
    let total: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(stored, total, "the raw loop stored every report");
    let mut per_table = BTreeMap::new();
    for t in [
        "reports",
        "report_raw",
        "reporters",
        "cases",
        "case_reports",
        "events",
    ] {
        per_table.insert(t, count(&pool, &format!("SELECT COUNT(*) FROM {t}")).await);
    }
    println!("  raw database rows: {per_table:?}");
    pool.close().await;
    result
}
