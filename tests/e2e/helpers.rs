//! The test harness: a scratch data directory, a fresh database per test, the binary as a child
//! process on a free port.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tipline");

/// Where the shared labelled cases are (`../shared` beside the project).
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// A database backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends to run a suite on. PostgreSQL is skipped with a message when not configured,
/// unless `TIPLINE_TEST_REQUIRE_ALL` is set, in which case its absence fails the test.
pub fn backends() -> Vec<Backend> {
    let mut list = vec![Backend::Sqlite];
    if std::env::var("TIPLINE_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        list.push(Backend::Postgres);
    } else if require_all() {
        panic!("TIPLINE_TEST_REQUIRE_ALL is set but TIPLINE_TEST_POSTGRES_URL is not: PostgreSQL tests cannot run");
    } else {
        eprintln!("SKIPPED on PostgreSQL: set TIPLINE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run");
    }
    list
}

pub fn require_all() -> bool {
    std::env::var("TIPLINE_TEST_REQUIRE_ALL").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A scratch deployment: a data directory and, on PostgreSQL, a database of its own (dropped at the end).
pub struct Deployment {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    pg_admin: Option<(String, String)>,
}

impl Deployment {
    pub fn new(backend: Backend) -> Deployment {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg_admin) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let admin =
                    std::env::var("TIPLINE_TEST_POSTGRES_URL").expect("checked by backends()");
                let name = format!("tipline_test_{}_{}", std::process::id(), rand_suffix());
                psql(&admin, &format!("CREATE DATABASE {name}"));
                let base = admin
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_string())
                    .unwrap_or(admin.clone());
                (Some(format!("{base}/{name}")), Some((admin, name)))
            }
        };
        Deployment {
            dir,
            database_url,
            pg_admin,
        }
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    /// A command of the binary against this deployment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data").arg(self.data());
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.env_remove("TIPLINE_DATABASE_URL");
        cmd
    }

    /// Runs a command to completion, feeding `stdin`; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let mut child = self
            .command()
            .args(args)
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
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Adds a user and returns a bearer token for it.
    pub fn token(&self, user: &str, role: &str, jurisdiction: &str) -> String {
        let (code, _, err) = self.run(
            &[
                "user",
                "add",
                user,
                "--role",
                role,
                "--jurisdiction",
                jurisdiction,
            ],
            "pw-Secret-123\n",
        );
        assert_eq!(code, 0, "user add failed: {err}");
        let (code, out, err) = self.run(&["token", "add", "--user", user], "");
        assert_eq!(code, 0, "token add failed: {err}");
        out.trim().to_string()
    }

    /// Starts `tipline serve` on a free port and waits for /healthz.
    pub fn serve(&self) -> Server {
        self.serve_logging(None)
    }

    /// Starts `tipline serve` like [`Deployment::serve`]; with `log`, at debug level into that file.
    pub fn serve_logging(&self, log: Option<&Path>) -> Server {
        let port = free_port();
        let mut command = self.command();
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null());
        match log {
            Some(file) => command
                .env("TIPLINE_LOG", "debug")
                .env("RUST_LOG", "debug")
                .stderr(std::fs::File::create(file).expect("create the log file")),
            None => command.env("TIPLINE_LOG", "warn").stderr(Stdio::inherit()),
        };
        let child = command.spawn().expect("spawn tipline serve");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if client
                .get(format!("{}/healthz", server.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("tipline serve did not answer /healthz");
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_admin {
            psql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server abruptly (SIGKILL).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn rand_suffix() -> String {
    use std::time::SystemTime;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("{nanos:x}")
}

/// Runs one SQL statement through psql (the PostgreSQL client is on every machine of this kind).
fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .arg(url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-c")
        .arg(sql)
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run psql: {e}"),
    }
}

/// Parses the JSONL export.
pub fn export(dep: &Deployment) -> Vec<serde_json::Value> {
    let (code, out, err) = dep.run(&["export", "--format", "jsonl"], "");
    assert_eq!(code, 0, "export failed: {err}");
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("export line is JSON"))
        .collect()
}

/// `tipline outbox list --json` (with `--all`: delivered rows too).
pub fn outbox_rows(dep: &Deployment, all: bool) -> Vec<serde_json::Value> {
    let mut args = vec!["outbox", "list", "--json"];
    if all {
        args.push("--all");
    }
    let (code, out, err) = dep.run(&args, "");
    assert_eq!(code, 0, "outbox list: {err}");
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// The kinds of a case's events (`GET /api/v1/cases/{id}`), in order.
pub fn event_kinds(case: &serde_json::Value) -> Vec<&str> {
    case["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default()
}

/// A case's first event of a kind.
pub fn event_of<'a>(case: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    case["events"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["kind"] == kind))
        .unwrap_or_else(|| panic!("no {kind} event: {case}"))
}

/// Waits up to `secs` for `probe` to give a value; panics saying `what` otherwise.
pub fn wait_for<T>(secs: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}
