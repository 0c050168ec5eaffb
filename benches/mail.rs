//! Mail-in figures: `cargo bench --bench mail`.
//!
//! 1. Parsing: typical mails (a few KB of GBK text, one 50 KB JPEG attachment), mails/s.
//! 2. Intake from IMAP: 10,000 mails appended to a Dovecot mailbox, then `tipline mail poll
//!    --once` (release binary) timed end to end into committed reports, mails/s.
//!    Skipped when Dovecot is not installed. `MAIL_BENCH_COUNT` changes the 10,000.

#[allow(dead_code)]
#[path = "../src/mail/parse.rs"]
mod parse;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn typical_mail(i: usize) -> Vec<u8> {
    let mut text = String::new();
    while text.len() < 3000 {
        text.push_str(&format!(
            "鞍山市应急管理局：\r\n第{i}号举报，铁东区某安全培训学校开设“包过班”，交钱就能拿证，\
             培训学时严重不足，考勤表由工作人员代签，实操训练从未组织。请予调查。\r\n"
        ));
    }
    let gbk: Vec<u8> = encode_gbk(&text);
    let jpeg: Vec<u8> = std::iter::once([0xFFu8, 0xD8, 0xFF, 0xE0])
        .flatten()
        .chain((0..50 * 1024).map(|n| (n * 7 + i) as u8))
        .collect();
    let mut raw = format!(
        "From: =?GBK?B?zfXEsw==?= <r{i}@example.net>\r\nTo: jubao@example.gov.cn\r\n\
         Subject: =?GBK?B?vtmxqLCwyb3K0MSzxeDRtdGn0KOw/Ln9sOA=?=\r\n\
         Date: Mon, 6 May 2024 09:12:00 +0800\r\nMessage-ID: <bench-{i}@example.net>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XB\"\r\n\r\n\
         --XB\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(base64_lines(&gbk).as_bytes());
    raw.extend_from_slice(
        b"--XB\r\nContent-Type: image/jpeg; name=\"=?UTF-8?B?546w5Zy654Wn54mHLmpwZw==?=\"\r\n\
          Content-Disposition: attachment; filename=\"=?UTF-8?B?546w5Zy654Wn54mHLmpwZw==?=\"\r\n\
          Content-Transfer-Encoding: base64\r\n\r\n",
    );
    raw.extend_from_slice(base64_lines(&jpeg).as_bytes());
    raw.extend_from_slice(b"--XB--\r\n");
    raw
}

/// GBK bytes, from a reverse table of mail-parser's own GBK decoder (no encoder dependency).
fn encode_gbk(s: &str) -> Vec<u8> {
    gbk_encode(s)
}

fn gbk_encode(s: &str) -> Vec<u8> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static TABLE: OnceLock<HashMap<char, [u8; 2]>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        let decoder = mail_parser::decoders::charsets::map::charset_decoder(b"gbk")
            .expect("gbk decoder (full_encoding)");
        for hi in 0x81u8..=0xFE {
            for lo in 0x40u8..=0xFE {
                if lo == 0x7F {
                    continue;
                }
                let d = decoder(&[hi, lo]);
                let mut chars = d.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    if c != '\u{fffd}' {
                        t.entry(c).or_insert([hi, lo]);
                    }
                }
            }
        }
        t
    });
    let mut out = Vec::new();
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c as u8);
        } else if let Some(b) = table.get(&c) {
            out.extend_from_slice(b);
        } else {
            out.push(b'?');
        }
    }
    out
}

fn base64_lines(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in data.chunks(3).enumerate() {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if (n + 1) % 19 == 0 {
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out
}

fn bench_parse() {
    let mails: Vec<Vec<u8>> = (0..500).map(typical_mail).collect();
    let size: usize = mails.iter().map(Vec::len).sum::<usize>() / mails.len();
    // Warm up, and check the mail is what it should be.
    let p = parse::parse_mail(&mails[0]).expect("parses");
    assert!(p.wire.text.as_deref().unwrap().contains("包过班"));
    assert_eq!(p.attachments.len(), 1);
    assert!(p.attachments[0].rejected.is_none());
    let rounds = 8;
    let start = Instant::now();
    for _ in 0..rounds {
        for m in &mails {
            std::hint::black_box(parse::parse_mail(m).expect("parses"));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = (rounds * mails.len()) as f64;
    println!(
        "parse: {:.0} mails/s on one thread ({} mails of {} KB: GBK text + one 50 KB JPEG; {:.1} MB/s)",
        n / secs,
        n,
        size / 1024,
        n * size as f64 / secs / 1e6
    );
}

struct Dovecot {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn start_dovecot() -> Option<Dovecot> {
    use std::os::unix::fs::MetadataExt;
    if !std::path::Path::new("/usr/sbin/dovecot").exists() {
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let r = dir.path().display().to_string();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).ok()?;
    let me = std::fs::metadata(dir.path()).ok()?.uid();
    let (internal, login, uid, gid) = if me == 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).ok()?;
        std::os::unix::fs::chown(&home, Some(65534), Some(65534)).ok()?;
        ("dovecot".into(), "dovenull".into(), 65534, 65534)
    } else {
        let name = std::env::var("USER").unwrap_or_default();
        (
            name.clone(),
            name,
            me,
            std::fs::metadata(dir.path()).ok()?.gid(),
        )
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let conf = format!(
        "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {r}/run\nstate_dir = {r}/state\n\
         log_path = {r}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\n\
         default_internal_user = {internal}\ndefault_login_user = {login}\nfirst_valid_uid = 1\n\
         mail_location = maildir:{r}/home/%u/Maildir\n\
         passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {r}/passwd\n}}\n\
         userdb {{\n driver = static\n args = uid={uid} gid={gid} home={r}/home/%u\n}}\n\
         service imap-login {{\n chroot =\n inet_listener imap {{\n address = 127.0.0.1\n port = {port}\n }}\n inet_listener imaps {{\n port = 0\n }}\n}}\n\
         service anvil {{\n chroot =\n}}\n"
    );
    std::fs::write(dir.path().join("dovecot.conf"), conf).ok()?;
    std::fs::write(dir.path().join("passwd"), "tip:{PLAIN}bench\n").ok()?;
    let child = Command::new("/usr/sbin/dovecot")
        .arg("-F")
        .arg("-c")
        .arg(dir.path().join("dovecot.conf"))
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Dovecot {
        child,
        _dir: dir,
        port,
    })
}

fn append_all(port: u16, mails: impl Iterator<Item = Vec<u8>>) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    w.write_all(b"a LOGIN tip bench\r\n").unwrap();
    let wait = |reader: &mut BufReader<TcpStream>, tag: &str| loop {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
        if l.starts_with(tag) {
            assert!(l.contains("OK"), "{l}");
            break;
        }
    };
    wait(&mut reader, "a ");
    let mut batch = Vec::new();
    let mut tags = Vec::new();
    for (i, raw) in mails.enumerate() {
        let tag = format!("x{i} ");
        batch.extend_from_slice(format!("{tag}APPEND INBOX {{{}+}}\r\n", raw.len()).as_bytes());
        batch.extend_from_slice(&raw);
        batch.extend_from_slice(b"\r\n");
        tags.push(tag);
        if tags.len() == 200 {
            w.write_all(&batch).unwrap();
            batch.clear();
            for t in tags.drain(..) {
                wait(&mut reader, &t);
            }
        }
    }
    w.write_all(&batch).unwrap();
    for t in tags.drain(..) {
        wait(&mut reader, &t);
    }
}

fn bench_imap() {
    let count: usize = std::env::var("MAIL_BENCH_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let Some(dovecot) = start_dovecot() else {
        println!("imap intake: SKIPPED (dovecot is not installed: apt-get install dovecot-imapd)");
        return;
    };
    let start = Instant::now();
    append_all(dovecot.port, (0..count).map(typical_mail));
    println!(
        "imap intake: appended {count} mails in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("tipline.toml"),
        format!(
            "[[mailboxes]]\nname = \"bench\"\nhost = \"127.0.0.1\"\nport = {}\ntls = false\n\
             user = \"tip\"\npassword_env = \"MAIL_BENCH_PASSWORD\"\n",
            dovecot.port
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_tipline");
    let start = Instant::now();
    let out = Command::new(bin)
        .args([
            "--data",
            data.path().to_str().unwrap(),
            "mail",
            "poll",
            "--once",
        ])
        .env("MAIL_BENCH_PASSWORD", "bench")
        .env_remove("TIPLINE_DATABASE_URL")
        .stderr(Stdio::inherit())
        .output()
        .expect("run tipline");
    let secs = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "poll failed: {stdout}");
    println!(
        "imap intake: {:.0} mails/s end to end into committed reports (SQLite; {count} mails in {secs:.1}s, incl. start-up and indexing): {}",
        count as f64 / secs,
        stdout.trim()
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test` runs benches with no flag: keep that quick.
    let benching = std::env::args().any(|a| a == "--bench");
    bench_parse();
    if benching {
        bench_imap();
    }
}
