//! Case-work figures (issue 8), on the release binary and SQLite (the default deployment):
//!
//! 1. `POST /api/v1/triage/preview`, one request at a time, with `TIPLINE_BENCH_REPORTS` reports
//!    (default 1,000,000) of history in the database and in the duplicate index (rebuilt from the
//!    database when `serve` starts): p50, p99, and the server's CPU time per request.
//! 2. `GET /api/v1/queue` as an officer of a prefecture (鞍山 210300) with
//!    `TIPLINE_BENCH_QUEUE_CASES` (default 100,000) open cases in its subtree, among all the other
//!    cases: a mix of filters (none, state, overdue, due within 3 days, category, kind, locus,
//!    channel, escalated, page 20), every answer with its counts per state.
//! 3. The desks' pages (issue 9) as their users load them with a session cookie — the operator's
//!    `/desk`, the officer's `/cases` and a case page, the leader's `/search` and `/stats`: p50,
//!    p99, server CPU, and bytes over the wire as a browser asks for them (compressed): the next
//!    load (the page) and the first (with the stylesheet and script, cached after) —
//!    `TIPLINE_BENCH_PAGES` loads each, default 200; 0 skips.
//!
//! History: `tipline generate --seed 7` → `tipline import` of `TIPLINE_BENCH_SEED_REPORTS`
//! (default 100,000) reports through the real pipeline; then the bench's bulk writer copies those
//! rows (reports, reporters, cases, case links) until the total is reached, each copy with new
//! ids and keys and its times moved one span later, so the history covers years as real history
//! does; the copies' cases are closed (worked off), the imported span stays open. The
//! prefecture's open cases are copies of stored cases moved into 鞍山's counties, in the open
//! states, with deadlines from 30 days ago to 30 days ahead, a tenth of them escalated. The
//! deadline sweep is off during the measurements (`[deadlines] sweep_interval_secs = 0`).
//!
//! `cargo bench --bench casework`. `TIPLINE_BENCH_DIR` keeps the data between runs (built once),
//! `TIPLINE_BENCH_PREVIEWS` (default 2,000) and `TIPLINE_BENCH_QUEUES` (default 1,000) requests.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{env_num, loadavg, tipline, BIN};

fn must(mut cmd: Command, stdin: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn tipline");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("stdin");
    drop(input);
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success() || out.status.code() == Some(3),
        "tipline failed"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// CPU seconds (user + system) of a process so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, s)| s)
        .unwrap_or("")
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 (utime, stime) at offsets 11 and 12 after the state field; USER_HZ = 100.
    fields
        .get(11)
        .zip(fields.get(12))
        .map_or(0.0, |(u, s)| (u + s) / 100.0)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

async fn open(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open the bench database")
}

async fn scalar(pool: &SqlitePool, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(pool).await.expect(sql).get(0)
}

async fn columns(pool: &SqlitePool, table: &str) -> Vec<String> {
    sqlx::query(&format!("PRAGMA table_info({table})"))
        .fetch_all(pool)
        .await
        .expect("table_info")
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .collect()
}

/// `INSERT INTO t (cols) SELECT <cols with overrides> FROM t WHERE <filter>`.
async fn copy(pool: &SqlitePool, table: &str, overrides: &[(&str, String)], filter: &str) {
    let cols = columns(pool, table).await;
    let select: Vec<String> = cols
        .iter()
        .map(|c| {
            overrides
                .iter()
                .find(|(name, _)| name == c)
                .map_or_else(|| c.clone(), |(_, expr)| expr.clone())
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {table} WHERE {filter}",
        cols.join(", "),
        select.join(", ")
    );
    sqlx::query(&sql).execute(pool).await.expect(&sql);
}

/// The bulk writer: copies of the imported history until `total` reports, then the prefecture's
/// open cases.
async fn grow(db: &Path, total: usize, queue_cases: usize) {
    let pool = open(db).await;
    let seed_max_report = scalar(&pool, "SELECT MAX(id) FROM reports").await;
    let seed_max_case = scalar(&pool, "SELECT MAX(id) FROM cases").await;
    let seed_count = scalar(&pool, "SELECT COUNT(*) FROM reports").await.max(1) as usize;
    let span = scalar(
        &pool,
        "SELECT MAX(received_ts) - MIN(received_ts) + 86400000 FROM reports",
    )
    .await;
    let copies = total.div_ceil(seed_count).saturating_sub(1);
    for k in 1..=copies as i64 {
        let started = Instant::now();
        let (rid, cid, ts) = (k * seed_max_report, k * seed_max_case, k * span);
        let left = total as i64 - k * seed_count as i64;
        let limit =
            format!("id <= {seed_max_report} AND id <= (SELECT MIN(id) FROM reports) + {left} - 1");
        sqlx::query("BEGIN").execute(&pool).await.expect("begin");
        let at =
            format!("strftime('%Y-%m-%dT%H:%M:%SZ', (received_ts + {ts}) / 1000, 'unixepoch')");
        copy(
            &pool,
            "reports",
            &[
                ("id", format!("id + {rid}")),
                ("external_id", format!("external_id || '~{k}'")),
                ("received_ts", format!("received_ts + {ts}")),
                ("received_at", at),
                ("case_id", format!("case_id + {cid}")),
            ],
            &limit,
        )
        .await;
        copy(&pool, "reporters", &[("report_id", format!("report_id + {rid}"))],
            &format!("report_id <= {seed_max_report} AND report_id IN (SELECT id - {rid} FROM reports WHERE id > {rid})")).await;
        copy(&pool, "case_reports", &[
            ("report_id", format!("report_id + {rid}")),
            ("case_id", format!("case_id + {cid}")),
        ], &format!("report_id <= {seed_max_report} AND report_id + {rid} IN (SELECT id FROM reports WHERE id > {rid})")).await;
        // Earlier spans of history are worked off: their cases are closed, as most of a real
        // history is (the open work is the imported span and the prefecture's queue below).
        copy(&pool, "cases", &[
            ("id", format!("id + {cid}")),
            ("case_no", format!("case_no || '~{k}'")),
            ("state", "'closed'".to_string()),
        ], &format!("id <= {seed_max_case} AND id + {cid} IN (SELECT case_id FROM reports WHERE id > {rid})")).await;
        sqlx::query("COMMIT").execute(&pool).await.expect("commit");
        eprintln!(
            "  copy {k}/{copies}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    // The prefecture's open cases: seven of 鞍山's counties, open states, deadlines around now.
    let base = scalar(&pool, "SELECT MAX(id) FROM cases").await;
    let now = chrono::Utc::now().timestamp();
    let county = "CASE id % 7 WHEN 0 THEN '210302' WHEN 1 THEN '210303' WHEN 2 THEN '210304' \
                  WHEN 3 THEN '210311' WHEN 4 THEN '210321' WHEN 5 THEN '210323' ELSE '210381' END";
    let state =
        "CASE id % 10 WHEN 0 THEN 'received' WHEN 1 THEN 'signed_for' WHEN 2 THEN 'signed_for' \
                 WHEN 3 THEN 'verifying' WHEN 4 THEN 'verifying' WHEN 5 THEN 'finding' \
                 WHEN 6 THEN 'rectification' ELSE 'routed' END";
    let due = format!(
        "strftime('%Y-%m-%dT%H:%M:%SZ', {now} + ((id * 7919) % 5184000) - 2592000, 'unixepoch')"
    );
    sqlx::query("BEGIN").execute(&pool).await.expect("begin");
    copy(
        &pool,
        "cases",
        &[
            ("id", format!("id + {base}")),
            ("case_no", "case_no || '~q'".to_string()),
            ("handling", county.to_string()),
            ("locus", county.to_string()),
            ("state", state.to_string()),
            ("due_at", due),
        ],
        &format!("id IN (SELECT id FROM cases ORDER BY id LIMIT {queue_cases})"),
    )
    .await;
    sqlx::query(&format!(
        "INSERT INTO deadline_notices (case_id, step, due_at, kind, at, target) \
         SELECT id, 'sign_for', due_at, 'escalated', due_at, '210300' FROM cases \
         WHERE id > {base} AND id % 10 = 7 AND due_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
    ))
    .execute(&pool)
    .await
    .expect("escalations");
    sqlx::query("COMMIT").execute(&pool).await.expect("commit");
    sqlx::query("ANALYZE")
        .execute(&pool)
        .await
        .expect("analyze");
    pool.close().await;
}

/// Every bench user works in 鞍山 (210300) with this password.
const PASSWORD: &str = "pw-Secret-123";

/// Adds a user; when the data is reused it exists already and `user add` fails, harmlessly.
fn add_user(data: &Path, name: &str, role: &str) {
    let mut add = tipline(data);
    add.args([
        "user",
        "add",
        name,
        "--role",
        role,
        "--jurisdiction",
        "210300",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Ok(mut child) = add.spawn() {
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(format!("{PASSWORD}\n").as_bytes());
        }
        let _ = child.wait();
    }
}

/// Logs in as a person does and returns the `Cookie` header of the session.
fn session_cookie(client: &reqwest::blocking::Client, base: &str, name: &str) -> String {
    let resp = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"name": name, "password": PASSWORD}))
        .send()
        .expect("login");
    assert!(
        resp.status().is_success(),
        "login {name}: {}",
        resp.status()
    );
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tipline_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string()
}

/// What a browser says it accepts; the bench's client decodes nothing, so a body's length is
/// the bytes over the wire.
const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Times `n` page loads one at a time: sorted latencies, server CPU per page (ms), the page's
/// bytes over the wire (compressed as a browser asks) and its HTML.
fn measure_page(
    pid: u32,
    n: usize,
    client: &reqwest::blocking::Client,
    url: &str,
    cookie: &str,
) -> (Vec<Duration>, f64, usize, String) {
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    let cpu0 = cpu_seconds(pid);
    for _ in 0..n {
        let t = Instant::now();
        let resp = client
            .get(url)
            .header(reqwest::header::COOKIE, cookie)
            .header(reqwest::header::ACCEPT_ENCODING, ACCEPT_ENCODING)
            .send()
            .expect("page");
        assert!(
            resp.status().is_success(),
            "{url}: status {}",
            resp.status()
        );
        bytes = resp.bytes().expect("page body").len();
        times.push(t.elapsed());
    }
    let cpu = (cpu_seconds(pid) - cpu0) / n.max(1) as f64 * 1000.0;
    times.sort();
    let html = client
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    (times, cpu, bytes, html)
}

/// The bytes over the wire of the page's stylesheet and script (a first visit loads them; they
/// are cached for a year after, under content-hashed names).
fn asset_bytes(client: &reqwest::blocking::Client, base: &str, html: &str) -> usize {
    html.split('"')
        .filter(|piece| piece.starts_with("/assets/"))
        .map(|path| {
            client
                .get(format!("{base}{path}"))
                .header(reqwest::header::ACCEPT_ENCODING, ACCEPT_ENCODING)
                .send()
                .and_then(|r| r.bytes())
                .map_or(0, |b| b.len())
        })
        .sum()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Times `n` requests one at a time; returns the sorted latencies and the server's CPU per request.
fn measure<F: FnMut(usize) -> reqwest::blocking::RequestBuilder>(
    pid: u32,
    n: usize,
    mut request: F,
) -> (Vec<Duration>, f64) {
    let mut times = Vec::with_capacity(n);
    let cpu0 = cpu_seconds(pid);
    for i in 0..n {
        let t = Instant::now();
        let resp = request(i).send().expect("request");
        assert!(resp.status().is_success(), "status {}", resp.status());
        let body: serde_json::Value = resp.json().expect("JSON");
        times.push(t.elapsed());
        assert!(body.is_object());
    }
    let cpu = (cpu_seconds(pid) - cpu0) / n.max(1) as f64 * 1000.0;
    times.sort();
    (times, cpu)
}

fn main() {
    let total = env_num("TIPLINE_BENCH_REPORTS", 1_000_000);
    let seed_reports = env_num("TIPLINE_BENCH_SEED_REPORTS", 100_000).min(total);
    let queue_cases = env_num("TIPLINE_BENCH_QUEUE_CASES", 100_000);
    let previews = env_num("TIPLINE_BENCH_PREVIEWS", 2_000);
    let queues = env_num("TIPLINE_BENCH_QUEUES", 1_000);
    let dir = std::env::var("TIPLINE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join(format!("tl-casework-{total}")));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let data = dir.join("data");
    let marker = dir.join("built");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "casework bench: {total} reports, {queue_cases} open cases in 210300; load {}",
        loadavg()
    );
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&data);
        let seed_file = dir.join("seed.jsonl");
        let mut gen = Command::new(BIN);
        gen.args([
            "generate",
            "--count",
            &seed_reports.to_string(),
            "--seed",
            "7",
        ]);
        std::fs::write(&seed_file, must(gen, "")).expect("write seed");
        let t = Instant::now();
        let mut import = tipline(&data);
        import.arg("import").arg(&seed_file);
        must(import, "");
        println!(
            "  import of {seed_reports} generated reports: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        runtime.block_on(grow(&data.join("tipline.db"), total, queue_cases));
        println!(
            "  bulk copies to {total} reports + {queue_cases} open cases: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        std::fs::write(&marker, "").expect("marker");
    }
    let (reports, open_in_2103) = runtime.block_on(async {
        let pool = open(&data.join("tipline.db")).await;
        (
            scalar(&pool, "SELECT COUNT(*) FROM reports").await,
            scalar(
                &pool,
                "SELECT COUNT(*) FROM cases WHERE (handling LIKE '2103%' OR locus LIKE '2103%') \
                AND state NOT IN ('closed', 'merged', 'transferred')",
            )
            .await,
        )
    });
    println!("  history: {reports} reports; open cases in 鞍山 210300's subtree: {open_in_2103}");

    for (name, role) in [
        ("bench-officer", "officer"),
        ("bench-leader", "leader"),
        ("bench-operator", "operator"),
    ] {
        add_user(&data, name, role);
    }
    let token = {
        let mut c = tipline(&data);
        c.args(["token", "add", "--user", "bench-officer"]);
        must(c, "").trim().to_string()
    };
    // The deadline sweep is measured on its own (`tipline deadlines sweep`): here it would notify
    // and escalate the whole copied queue once, in the middle of the measurements.
    std::fs::write(
        data.join("tipline.toml"),
        "[deadlines]\nsweep_interval_secs = 0\n",
    )
    .expect("bench config");
    let p = port();
    let started = Instant::now();
    let child = tipline(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{p}")])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve");
    let pid = child.id();
    let _server = Server(child);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let base = format!("http://127.0.0.1:{p}");
    while client.get(format!("{base}/healthz")).send().is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "  serve ready (duplicate index rebuilt from {reports} reports): {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Preview texts: generated reports of another seed, as an operator would type them.
    let mut gen = Command::new(BIN);
    gen.args(["generate", "--count", "1000", "--seed", "99"]);
    let texts: Vec<String> = must(gen, "")
        .as_bytes()
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let url = format!("{base}/api/v1/triage/preview");
    let post = |i: usize| {
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&serde_json::json!({"text": texts[i % texts.len()], "channel": "hotline_12350"}))
    };
    measure(pid, 100, post); // warm-up
    let (t, cpu) = measure(pid, previews, post);
    println!(
        "  POST /api/v1/triage/preview ×{previews}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; server CPU {cpu:.2} ms/request; load {}",
        pct(&t, 50.0), pct(&t, 99.0), pct(&t, 100.0), loadavg()
    );

    let filters = [
        "",
        "state=routed",
        "overdue=true",
        "due_within_days=3",
        "category=F1",
        "kind=training_institution",
        "locus=210302",
        "channel=hotline_12345",
        "escalated=true",
        "offset=100&limit=20",
    ];
    let get = |i: usize| {
        client
            .get(format!(
                "{base}/api/v1/queue?{}",
                filters[i % filters.len()]
            ))
            .bearer_auth(&token)
    };
    measure(pid, 20, get); // warm-up
    let (t, cpu) = measure(pid, queues, get);
    println!(
        "  GET /api/v1/queue (mix of {} filters) ×{queues}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; server CPU {cpu:.2} ms/request; load {}",
        filters.len(), pct(&t, 50.0), pct(&t, 99.0), pct(&t, 100.0), loadavg()
    );
    for f in filters {
        let (t, cpu) = measure(pid, (queues / filters.len()).max(5), |_| {
            client
                .get(format!("{base}/api/v1/queue?{f}"))
                .bearer_auth(&token)
        });
        let total = client
            .get(format!("{base}/api/v1/queue?{f}"))
            .bearer_auth(&token)
            .send()
            .ok()
            .and_then(|r| r.json::<serde_json::Value>().ok())
            .map(|v| v["total"].clone())
            .unwrap_or_default();
        println!(
            "    queue ?{f:<28} total {total:>7}: p50 {:>7.2} ms, p99 {:>7.2} ms, CPU {cpu:.2} ms",
            pct(&t, 50.0),
            pct(&t, 99.0)
        );
    }

    // The desks' pages (issue 9), as their users load them, on the same history.
    let pages = env_num("TIPLINE_BENCH_PAGES", 200);
    if pages == 0 {
        return;
    }
    let first = client
        .get(format!("{base}/api/v1/queue?limit=1"))
        .bearer_auth(&token)
        .send()
        .and_then(|r| r.json::<serde_json::Value>())
        .expect("a queue row");
    let case_id = first["cases"][0]["case_id"].as_i64().expect("an open case");
    let officer = session_cookie(&client, &base, "bench-officer");
    let leader = session_cookie(&client, &base, "bench-leader");
    let operator = session_cookie(&client, &base, "bench-operator");
    let views: [(&str, String, &String); 8] = [
        ("operator", "/desk".into(), &operator),
        ("officer", "/cases".into(), &officer),
        (
            "officer",
            "/cases?state=verifying&overdue=true".into(),
            &officer,
        ),
        ("officer", format!("/cases/{case_id}"), &officer),
        ("leader", "/search?q=包过".into(), &leader),
        (
            "leader",
            "/search?q=培训&subject_kind=training_institution".into(),
            &leader,
        ),
        ("leader", "/stats".into(), &leader),
        ("leader", "/stats?by=category".into(), &leader),
    ];
    for (role, path, cookie) in &views {
        let url = format!("{base}{path}");
        measure_page(pid, 5, &client, &url, cookie); // warm-up
        let (t, cpu, bytes, html) = measure_page(pid, pages, &client, &url, cookie);
        let first = bytes + asset_bytes(&client, &base, &html);
        println!(
            "    page {role:<8} {path:<44} p50 {:>7.2} ms, p99 {:>7.2} ms, CPU {cpu:.2} ms; wire bytes: next {bytes:>6}, first {first:>6} (HTML {} uncompressed)",
            pct(&t, 50.0),
            pct(&t, 99.0),
            html.len()
        );
    }
}
