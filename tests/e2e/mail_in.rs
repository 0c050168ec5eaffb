//! Mail in, against a real IMAP server: Dovecot (Debian's `dovecot-imapd`) started in a temporary
//! directory on a free port, mails appended over IMAP, `tipline mail poll` taking them in.

use crate::helpers::{backends, export, free_port, require_all, Deployment};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "tip";
const PASSWORD: &str = "imap-Secret-1";
const PASSWORD_ENV: &str = "TIPLINE_TEST_IMAP_PASSWORD";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mail")
            .join(name),
    )
    .expect("fixture")
}

fn dovecot_binary() -> Option<PathBuf> {
    ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A Dovecot of its own; stopped when dropped.
pub struct Dovecot {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Dovecot {
    /// Starts Dovecot, or says SKIPPED (fails under `TIPLINE_TEST_REQUIRE_ALL`).
    pub fn start() -> Option<Dovecot> {
        let Some(bin) = dovecot_binary() else {
            if require_all() {
                panic!("TIPLINE_TEST_REQUIRE_ALL is set but dovecot is not installed (apt-get install dovecot-imapd)");
            }
            eprintln!(
                "SKIPPED mail-in tests: dovecot is not installed (apt-get install dovecot-imapd)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let root = root.as_path();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(root.join("run")).unwrap();
        let me = std::fs::metadata(root).unwrap().uid();
        let (internal, login, mail_uid, mail_gid) = if me == 0 {
            // As root: mail belongs to nobody; the directories must let it in.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::os::unix::fs::chown(&home, Some(65534), Some(65534)).unwrap();
            (
                "dovecot".to_string(),
                "dovenull".to_string(),
                "65534".to_string(),
                "65534".to_string(),
            )
        } else {
            let name = std::env::var("USER").unwrap_or_else(|_| {
                String::from_utf8_lossy(&Command::new("id").arg("-un").output().unwrap().stdout)
                    .trim()
                    .to_string()
            });
            let gid = std::fs::metadata(root).unwrap().gid();
            (name.clone(), name, me.to_string(), gid.to_string())
        };
        let port = free_port();
        let r = root.display();
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {r}/run\nstate_dir = {r}/state\n\
             log_path = {r}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\n\
             auth_mechanisms = plain login\ndefault_internal_user = {internal}\n\
             default_login_user = {login}\nfirst_valid_uid = 1\n\
             mail_location = maildir:{r}/home/%u/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {r}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_uid} gid={mail_gid} home={r}/home/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n\
             protocol imap {{\n  mail_max_userip_connections = 100\n}}\n"
        );
        std::fs::write(root.join("dovecot.conf"), conf).unwrap();
        std::fs::write(root.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let child = Command::new(bin)
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn dovecot");
        let dovecot = Dovecot { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "dovecot did not start: {}",
                std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(dovecot)
    }

    /// Stops the server (as a crash or a restart by its admin would) and starts it again on the
    /// same port with the same mail store.
    pub fn restart(&mut self, down_for: Duration) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(down_for);
        let root = self.dir.path();
        self.child = Command::new(dovecot_binary().expect("dovecot was found before"))
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("respawn dovecot");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "dovecot did not come back");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A logged-in IMAP connection.
    pub fn imap(&self) -> Imap {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut imap = Imap {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
            tag: 0,
        };
        let mut greeting = String::new();
        imap.reader.read_line(&mut greeting).unwrap();
        imap.cmd(&format!("LOGIN {USER} {PASSWORD}"));
        imap
    }

    /// The `[[mailboxes]]` configuration for tipline.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[[mailboxes]]\nname = \"jubao\"\nhost = \"127.0.0.1\"\nport = {}\ntls = false\n\
             user = \"{USER}\"\npassword_env = \"{PASSWORD_ENV}\"\npoll_seconds = 1\n{extra}\n",
            self.port
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal synchronous IMAP client for the tests (no literals in responses are read).
pub struct Imap {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    tag: u32,
}

impl Imap {
    fn read_until(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap();
            assert!(n > 0, "IMAP connection closed");
            if line.starts_with(&format!("{tag} ")) {
                assert!(
                    line.starts_with(&format!("{tag} OK")),
                    "IMAP command failed: {line}"
                );
                return lines;
            }
            lines.push(line.trim_end().to_string());
        }
    }

    pub fn cmd(&mut self, command: &str) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.stream
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .unwrap();
        self.read_until(&tag)
    }

    /// Appends mails (pipelined with LITERAL+).
    pub fn append_all(&mut self, folder: &str, mails: &[Vec<u8>]) {
        let mut tags = Vec::new();
        for chunk in mails.chunks(500) {
            let mut buf = Vec::new();
            for raw in chunk {
                self.tag += 1;
                let tag = format!("t{}", self.tag);
                buf.extend_from_slice(
                    format!("{tag} APPEND {folder} {{{}+}}\r\n", raw.len()).as_bytes(),
                );
                buf.extend_from_slice(raw);
                buf.extend_from_slice(b"\r\n");
                tags.push(tag);
            }
            self.stream.write_all(&buf).unwrap();
            for tag in tags.drain(..) {
                self.read_until(&tag);
            }
        }
    }

    /// UIDs matching a search in a folder.
    pub fn search(&mut self, folder: &str, query: &str) -> Vec<u32> {
        self.cmd(&format!("SELECT {folder}"));
        let lines = self.cmd(&format!("UID SEARCH {query}"));
        lines
            .iter()
            .filter_map(|l| l.strip_prefix("* SEARCH"))
            .flat_map(|l| l.split_whitespace().map(|n| n.parse::<u32>().unwrap()))
            .collect()
    }

    /// Messages in a folder (0 when it does not exist).
    pub fn count(&mut self, folder: &str) -> usize {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.stream
            .write_all(format!("{tag} STATUS {folder} (MESSAGES)\r\n").as_bytes())
            .unwrap();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if let Some(rest) = line.strip_prefix("* STATUS ") {
                let n = rest
                    .rsplit("MESSAGES ")
                    .next()
                    .and_then(|s| s.trim().trim_end_matches(')').parse().ok())
                    .unwrap_or(0);
                let mut end = String::new();
                self.reader.read_line(&mut end).unwrap();
                return n;
            }
            if line.starts_with(&format!("{tag} ")) {
                return 0;
            }
        }
    }
}

fn write_config(dep: &Deployment, toml: &str) {
    std::fs::write(dep.data().join("tipline.toml"), toml).unwrap();
}

/// Runs `tipline mail …` with the IMAP password in the environment.
fn mail(dep: &Deployment, args: &[&str]) -> (i32, String, String) {
    let out = dep
        .command()
        .arg("mail")
        .args(args)
        .env(PASSWORD_ENV, PASSWORD)
        .output()
        .expect("run tipline mail");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn status(dep: &Deployment) -> serde_json::Value {
    let (code, out, err) = mail(dep, &["status"]);
    assert_eq!(code, 0, "mail status failed: {err}");
    serde_json::from_str(&out).expect("status is JSON")
}

fn by_id(rows: &[serde_json::Value]) -> HashMap<String, serde_json::Value> {
    let mut map = HashMap::new();
    for r in rows {
        let id = r["external_id"].as_str().unwrap().to_string();
        assert!(
            map.insert(id.clone(), r.clone()).is_none(),
            "{id} exported twice"
        );
    }
    map
}

fn duplicate_pair() -> (Vec<u8>, Vec<u8>) {
    let mail = |received: &str| {
        format!(
            "Received: from relay{received}.example.net\r\nFrom: dup@example.net\r\n\
             Subject: =?UTF-8?B?5Lit5b+D5Li+5oql?=\r\nDate: Thu, 16 May 2024 10:00:00 +0800\r\n\
             Message-ID: <dup-001@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n\
             营口市某安全培训机构收费后不组织实操训练，学员直接参加考试。\r\n"
        )
        .into_bytes()
    };
    (mail("1"), mail("2"))
}

#[test]
fn mail_from_imap_becomes_reports_once() {
    for backend in backends() {
        let Some(dovecot) = Dovecot::start() else {
            return;
        };
        let dep = Deployment::new(backend);
        write_config(&dep, &dovecot.config(""));
        let (dup1, dup2) = duplicate_pair();
        let mails = vec![
            fixture("gbk.eml"),
            fixture("big5.eml"),
            fixture("gb18030.eml"),
            fixture("gb2312-qp.eml"),
            fixture("utf8-qp.eml"),
            fixture("html-only.eml"),
            fixture("forward.eml"),
            fixture("reply.eml"),
            fixture("attachments.eml"),
            fixture("malformed.eml"),
            dup1,
            dup2,
        ];
        let mut imap = dovecot.imap();
        imap.append_all("INBOX", &mails);

        let (code, out, err) = mail(&dep, &["poll", "--once"]);
        assert_eq!(code, 0, "{backend:?}: mail poll failed: {out}\n{err}");
        assert!(
            out.contains("10 new, 1 re-sent, 0 same message, 1 rejected"),
            "{backend:?}: {out}"
        );

        let rows = export(&dep);
        let rows = by_id(&rows);
        assert_eq!(rows.len(), 10, "{backend:?}: every good mail is one report");
        let text = |id: &str| rows[id]["text"].as_str().unwrap().to_string();
        assert!(text("<gbk-001@mail.example.net>").contains("交钱就能拿证"));
        assert_eq!(
            rows["<gbk-001@mail.example.net>"]["title"],
            "举报鞍山市某培训学校包过班"
        );
        assert!(text("<big5-001@example.com.tw>").contains("考試作弊"));
        assert!(text("<gb18030-001@example.cn>").contains("焊工证是买的"));
        assert!(text("<gb2312-001@example.cn>").contains("电工无证上岗"));
        assert!(text("<utf8-qp-001@example.com>").contains("有人代考"));
        let html = text("<tencent_HTML001@qq.example>");
        assert!(
            html.contains("监考形同虚设") && !html.contains('<'),
            "{html}"
        );
        let fwd = text("<fwd-001@example.gov.cn>");
        assert!(fwd.contains("交钱直接发证") && !fwd.contains('@'), "{fwd}");
        let reply = text("<reply-001@example.net>");
        assert!(
            reply.find("补充情况").unwrap() < reply.find("转发/引用内容").unwrap(),
            "{reply}"
        );
        assert!(text("<dup-001@example.net>").contains("不组织实操训练"));
        assert_eq!(rows["<att-001@example.net>"]["channel"], "email");

        let st = status(&dep);
        assert_eq!(st["raw_mails"], 10, "{backend:?}: raw mail kept: {st}");
        let atts = st["attachments"].as_array().unwrap();
        let att = |name: &str| {
            atts.iter()
                .find(|a| a["file_name"] == name)
                .unwrap_or_else(|| panic!("{name} in {st}"))
        };
        assert_eq!(att("现场照片.jpg")["stored"], true);
        assert_eq!(att("现场照片.jpg")["content_type"], "image/jpeg");
        assert_eq!(att("培训档案.pdf")["stored"], true);
        assert_eq!(att("setup.exe")["stored"], false);
        assert!(att("setup.exe")["rejected"].is_string());
        let rejected = st["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 1, "{backend:?}: {st}");
        assert!(rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("邮件无法解析"));

        // The mailbox: all done, the poison moved aside.
        assert!(imap.search("INBOX", "UNSEEN").is_empty());
        assert_eq!(imap.count("INBOX"), 11);
        assert_eq!(imap.count("Rejected"), 1);

        // Nothing new the second time, even when a mail is marked unseen again.
        imap.cmd("SELECT INBOX");
        imap.cmd("UID STORE 1 -FLAGS (\\Seen)");
        let (code, out, err) = mail(&dep, &["poll", "--once"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("0 new, 1 re-sent"), "{backend:?}: {out}");
        assert_eq!(export(&dep).len(), 10);
    }
}

fn generated(i: usize) -> Vec<u8> {
    let body = format!(
        "第{i}封：鞍山市铁东区某安全培训学校第{i}期特种作业培训只上了{}天课，考勤表由工作人员代签。",
        i % 5 + 1
    );
    let mut raw = format!(
        "From: r{i}@example.net\r\nSubject: =?UTF-8?B?5Li+5oql?=\r\n\
         Date: Fri, 17 May 2024 10:{:02}:00 +0800\r\nMessage-ID: <gen-{i}@example.net>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n\
         --B\r\nContent-Type: image/jpeg; name=\"p{i}.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        i % 60
    );
    raw.push_str(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a\r\n",
    );
    raw.push_str("--B--\r\n");
    raw.into_bytes()
}

#[test]
fn killing_the_poller_loses_and_doubles_nothing() {
    for backend in backends() {
        let Some(dovecot) = Dovecot::start() else {
            return;
        };
        let dep = Deployment::new(backend);
        write_config(&dep, &dovecot.config(""));
        let n = 200;
        let mails: Vec<Vec<u8>> = (0..n).map(generated).collect();
        let mut imap = dovecot.imap();
        imap.append_all("INBOX", &mails);
        // Kill at different moments: connecting, fetching, committing, marking.
        for delay_ms in [150u64, 400, 700, 1000, 1500, 2500] {
            let mut child = dep
                .command()
                .args(["mail", "poll"])
                .env(PASSWORD_ENV, PASSWORD)
                .env("TIPLINE_LOG", "error")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            let _ = child.kill();
            let _ = child.wait();
        }
        let (code, out, err) = mail(&dep, &["poll", "--once"]);
        assert_eq!(code, 0, "{backend:?}: {out}\n{err}");
        let rows = export(&dep);
        let rows = by_id(&rows);
        for i in 0..n {
            assert!(
                rows.contains_key(&format!("<gen-{i}@example.net>")),
                "{backend:?}: mail {i} is stored"
            );
        }
        assert_eq!(rows.len(), n, "{backend:?}: nothing doubled");
        assert!(imap.search("INBOX", "UNSEEN").is_empty());
        let st = status(&dep);
        assert_eq!(st["attachments"].as_array().unwrap().len(), n);
    }
}

#[test]
fn killing_the_imap_server_mid_fetch_loses_and_doubles_nothing() {
    let Some(mut dovecot) = Dovecot::start() else {
        return;
    };
    let dep = Deployment::new(crate::helpers::Backend::Sqlite);
    write_config(&dep, &dovecot.config(""));
    let n = 200;
    let mails: Vec<Vec<u8>> = (0..n).map(generated).collect();
    dovecot.imap().append_all("INBOX", &mails);
    let mut poller = dep
        .command()
        .args(["mail", "poll"])
        .env(PASSWORD_ENV, PASSWORD)
        .env("TIPLINE_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The server goes away twice while the poller is fetching, and comes back.
    for at_ms in [300u64, 900] {
        std::thread::sleep(Duration::from_millis(at_ms));
        dovecot.restart(Duration::from_millis(500));
    }
    // The running poller reconnects and finishes by itself.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if dovecot.imap().search("INBOX", "UNSEEN").is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the poller did not recover after the server came back"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = poller.kill();
    let _ = poller.wait();
    let rows = export(&dep);
    let rows = by_id(&rows);
    for i in 0..n {
        assert!(
            rows.contains_key(&format!("<gen-{i}@example.net>")),
            "mail {i} is stored"
        );
    }
    assert_eq!(rows.len(), n, "nothing doubled");
}

#[test]
fn import_takes_eml_files_and_maildir_folders() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let maildir = tempfile::tempdir().unwrap();
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.path().join(sub)).unwrap();
        }
        std::fs::write(
            maildir.path().join("cur/1715000000.M1P1.host:2,S"),
            fixture("big5.eml"),
        )
        .unwrap();
        std::fs::write(
            maildir.path().join("new/1715000001.M2P1.host"),
            fixture("attachments.eml"),
        )
        .unwrap();
        std::fs::write(
            maildir.path().join("new/1715000002.M3P1.host"),
            fixture("malformed.eml"),
        )
        .unwrap();
        let eml = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mail/gbk.eml");
        let (code, out, err) = dep.run(
            &[
                "import",
                eml.to_str().unwrap(),
                maildir.path().to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(code, 3, "{backend:?}: one poison mail: {out}\n{err}");
        assert!(
            out.contains("3 new, 0 re-sent, 0 same message, 1 rejected"),
            "{out}"
        );
        let rows = export(&dep);
        let rows = by_id(&rows);
        assert!(rows["<big5-001@example.com.tw>"]["text"]
            .as_str()
            .unwrap()
            .contains("考試作弊"));
        assert!(rows.contains_key("<gbk-001@mail.example.net>"));
        let st = status(&dep);
        assert_eq!(st["rejected"].as_array().unwrap().len(), 1);
        assert_eq!(st["attachments"].as_array().unwrap().len(), 3);
        // Again: nothing new.
        let (_, out, _) = dep.run(&["import", eml.to_str().unwrap()], "");
        assert!(out.contains("0 new, 1 re-sent"), "{out}");
    }
}
