//! Helpers shared by the benches that drive the real `tipline` binary.

use std::path::Path;
use std::process::Command;

/// The release binary under measurement.
pub const BIN: &str = env!("CARGO_BIN_EXE_tipline");

/// A count from the environment (`1_000_000` allowed), or the default.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The machine's load averages, recorded beside every figure.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// `tipline --data DIR` on SQLite, quiet logs.
pub fn tipline(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data").arg(data);
    cmd.env_remove("TIPLINE_DATABASE_URL");
    cmd.env("TIPLINE_LOG", "warn");
    cmd
}
