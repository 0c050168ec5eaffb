//! A real browser for the page tests: Debian's headless Chromium driven through the system
//! chromedriver (WebDriver, fantoccini). Absent browser → the test says SKIPPED, unless
//! `TIPLINE_TEST_REQUIRE_ALL` is set, then it fails. Screenshots go to `target/screenshots/`.

use crate::helpers::{free_port, require_all};
use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A desk in an office: the screen the pages are made for first.
pub const DESKTOP: (u32, u32) = (1366, 768);
/// A phone held upright.
pub const PHONE: (u32, u32) = (390, 844);

/// chromedriver and a browser session; both ended when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: tempfile::TempDir,
}

/// Whether a browser can run here; prints why not (or panics when everything is required).
pub fn available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{} not installed (apt-get install chromium chromium-driver fonts-noto-cjk)",
        missing.join(" and ")
    );
    if require_all() {
        panic!("TIPLINE_TEST_REQUIRE_ALL is set but the browser tests cannot run: {why}");
    }
    eprintln!("SKIPPED browser test: {why}");
    false
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium with a fresh profile.
    pub async fn start() -> Browser {
        let port = free_port();
        // A process group of its own, so that a test that panics (and never closes its session)
        // takes the browser chromedriver started down with it.
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    // The machine's network is closed: nothing may try to reach out.
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("WebDriver session with headless Chromium");
        Browser {
            client,
            driver,
            profile,
        }
    }

    /// Text of the first element matching `css`, waiting for it to appear.
    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.expect("element text")
    }

    /// The first element matching `css`, waiting up to 20 s for it.
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Types into the field matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Runs a script and returns its value.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Saves the whole page at a window width (height grown to the page's) as
    /// `target/screenshots/<name>.png`, then restores the desktop size.
    pub async fn screenshot(&self, name: &str, (width, height): (u32, u32)) -> PathBuf {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window size");
        // Grow the window to the page; the page may reflow taller once, so measure twice.
        for _ in 0..2 {
            let full = self
                .js("return document.documentElement.scrollHeight")
                .await
                .as_u64()
                .unwrap_or(u64::from(height));
            let full = u32::try_from(full).unwrap_or(height).clamp(height, 6000);
            // The window's outer size includes what little frame headless Chromium keeps.
            let frame = self
                .js("return Math.max(0, window.outerHeight - window.innerHeight)")
                .await
                .as_u64()
                .unwrap_or(0)
                .min(200);
            let frame = u32::try_from(frame).unwrap_or(0);
            self.client
                .set_window_size(width, full + frame)
                .await
                .expect("window size");
        }
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        self.client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .expect("window size");
        path
    }

    /// Ends the session and the driver.
    /// The browser's profile directory (its processes name it on their command line).
    pub fn profile_dir(&self) -> PathBuf {
        self.profile.path().to_path_buf()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser it started.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `target/screenshots` (beside the test binaries' scratch directory).
pub fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("screenshots")
}

/// Runs an async browser test to completion on its own runtime.
pub fn run<T, F: std::future::Future<Output = T>>(test: F) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test)
}

/// A small valid PNG (an 8×8 red square), like a phone photo as far as any check can tell.
pub fn png_bytes() -> Vec<u8> {
    hex_bytes(
        "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000001149444154\
         789c633821278715310c2d090090bf4101b29f3e220000000049454e44ae426082",
    )
}

/// A minimal PDF.
pub fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The processes whose command line names `needle` (e.g. a browser's profile directory).
pub fn processes_naming(needle: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}
