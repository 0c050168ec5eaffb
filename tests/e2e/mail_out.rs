//! Mail out: receipts, referral letters (移送函) and case notices delivered by the outbox sender to a
//! real SMTP server (Python's standard `smtpd`, run as a child process that writes every message it
//! receives to a directory); SMTP down delays mail and loses none; nothing is sent twice, across a
//! restart of the receiver and of tipline.

use crate::helpers::{backends, free_port, outbox_rows, Deployment};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An SMTP server that writes each message as `<n>.eml` with its envelope in `<n>.json`.
pub(crate) const RECEIVER: &str = r#"
import asyncore, json, os, sys, time, warnings
warnings.simplefilter("ignore")
import smtpd

out = sys.argv[2]
class Receiver(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        name = "%d-%d" % (time.time_ns(), os.getpid())
        with open(os.path.join(out, name + ".tmp"), "wb") as f:
            f.write(data)
        with open(os.path.join(out, name + ".json.tmp"), "w") as f:
            json.dump({"mail_from": mailfrom, "rcpt_to": rcpttos}, f)
        os.rename(os.path.join(out, name + ".json.tmp"), os.path.join(out, name + ".json"))
        os.rename(os.path.join(out, name + ".tmp"), os.path.join(out, name + ".eml"))

Receiver(("127.0.0.1", int(sys.argv[1])), None, decode_data=False)
print("ready", flush=True)
asyncore.loop()
"#;

/// A scratch directory for the receiver's script and the mail it writes, and a free port.
pub struct MailSink {
    _dir: tempfile::TempDir,
    pub script: PathBuf,
    pub inbox: PathBuf,
    pub port: u16,
}

impl MailSink {
    pub fn new() -> MailSink {
        let dir = tempfile::tempdir().expect("mail dir");
        let script = dir.path().join("receiver.py");
        std::fs::write(&script, RECEIVER).expect("write receiver");
        let inbox = dir.path().join("inbox");
        std::fs::create_dir_all(&inbox).expect("inbox");
        MailSink {
            _dir: dir,
            script,
            inbox,
            port: free_port(),
        }
    }

    /// The `[smtp]` section for tipline to send here, quickly retried.
    pub fn smtp_toml(&self, from_name: &str) -> String {
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"jubao@yjj.example.gov.cn\"\n\
             from_name = \"{from_name}\"\ntimeout_secs = 5\nbackoff_base_secs = 1\nbackoff_max_secs = 2\npoll_secs = 1\n",
            self.port
        )
    }

    /// Starts the receiver.
    pub fn start(&self) -> Receiver {
        Receiver::start(&self.script, self.port, &self.inbox)
    }
}

pub struct Receiver {
    child: Child,
}

impl Receiver {
    pub fn start(script: &Path, port: u16, out: &Path) -> Receiver {
        let mut child = Command::new("python3")
            .arg("-W")
            .arg("ignore")
            .arg(script)
            .arg(port.to_string())
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the SMTP receiver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Receiver { child };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the SMTP receiver did not listen on {port}");
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received mail.
#[derive(Debug, Clone)]
pub struct Mail {
    pub rcpt_to: Vec<String>,
    pub raw: String,
    pub subject: String,
    message_id: String,
    pub(crate) body: String,
    to_header: String,
}

pub fn received(dir: &Path) -> Vec<Mail> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read mail dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read mail");
            let envelope: Value = serde_json::from_str(
                &std::fs::read_to_string(p.with_extension("json")).expect("read envelope"),
            )
            .expect("envelope JSON");
            let message = mail_parser::MessageParser::default()
                .parse(&bytes)
                .expect("a parsable message");
            Mail {
                rcpt_to: envelope["rcpt_to"]
                    .as_array()
                    .expect("rcpt_to")
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_lowercase())
                    .collect(),
                raw: String::from_utf8_lossy(&bytes).into_owned(),
                subject: message.subject().unwrap_or_default().to_string(),
                message_id: message.message_id().unwrap_or_default().to_string(),
                body: message
                    .body_text(0)
                    .map(|b| b.into_owned())
                    .unwrap_or_default(),
                to_header: message
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap_or_default()
                    .to_lowercase(),
            }
        })
        .collect()
}

pub fn wait_for_mail(dir: &Path, count: usize, what: &str) -> Vec<Mail> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mails = received(dir);
        if mails.len() >= count {
            return mails;
        }
        if Instant::now() > deadline {
            panic!(
                "{what}: expected {count} mails, got {}: {:#?}",
                mails.len(),
                mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A header's value, unfolded (the receiver stores lines ending in LF).
fn header_line(raw: &str, name: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let head = raw.split("\n\n").next().unwrap_or("").to_string();
    let prefix = format!("{}:", name.to_lowercase());
    let mut value: Option<String> = None;
    for line in head.split('\n') {
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line),
            Some(_) => break,
            None if line.to_lowercase().starts_with(&prefix) => value = Some(line.to_string()),
            None => {}
        }
    }
    value.unwrap_or_default()
}

fn post(client: &Client, url: &str, token: &str, body: &Value) -> Value {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .expect("request");
    assert_eq!(resp.status().as_u16(), 201, "report accepted");
    resp.json().expect("JSON answer")
}

pub(crate) fn outbox_list(dep: &Deployment) -> Vec<Value> {
    let (code, out, err) = dep.run(&["outbox", "list", "--json"], "");
    assert_eq!(code, 0, "outbox list: {err}");
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

const REPORTER_NAME: &str = "欧阳测试名";
const REPORTER_PHONE: &str = "13987654321";
const REPORTER_EMAIL: &str = "whistle.ouyang@example.org";
const OFFICER_EMAIL: &str = "officer.tiedong@yjj.example.cn";
const POLICE_EMAIL: &str = "jingzhen@ps.example.cn";
const MARKET_EMAIL: &str = "jiancha@amr.example.cn";

#[test]
fn mail_out_is_transactional_retried_and_never_doubled() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let sink = MailSink::new();
        let (script, inbox, smtp_port) = (sink.script.clone(), sink.inbox.clone(), sink.port);
        std::fs::write(
            dep.data().join("tipline.toml"),
            format!(
                r#"
[triage]
home = "210300"

[triage.contacts."210302"]
public_security = "鞍山市公安局铁东分局"
public_security_email = "{POLICE_EMAIL}"
market_regulation_email = "{MARKET_EMAIL}"

{smtp}"#,
                smtp = sink.smtp_toml("鞍山市应急管理局举报受理中心")
            ),
        )
        .expect("write configuration");
        let token = dep.token("op1", "operator", "210300");
        let (code, _, err) = dep.run(
            &[
                "user",
                "add",
                "wang.officer",
                "--role",
                "officer",
                "--jurisdiction",
                "210302",
                "--email",
                OFFICER_EMAIL,
            ],
            "pw-Secret-123\n",
        );
        assert_eq!(code, 0, "user add --email: {err}");

        let receiver = Receiver::start(&script, smtp_port, &inbox);
        let mut server = dep.serve();
        let client = Client::new();
        let first = post(
            &client,
            &server.url("/api/v1/reports"),
            &token,
            &json!({"channel": "web_form", "external_id": "mail-out-1", "received_at": "2024-05-06T09:12:00+08:00",
                "reporter": {"name": REPORTER_NAME, "phone": REPORTER_PHONE, "email": REPORTER_EMAIL},
                "text": format!("我叫{REPORTER_NAME}，电话{REPORTER_PHONE}。鞍山市铁东区恒安特种作业培训中心，高处作业证包过，收费５５００元，承诺考试的时候“有人照应”，去了以后考场里果然有人帮着答。学费是正常价的三四倍。")}),
        );
        let case_no = first["case_no"].as_str().expect("case_no").to_string();
        let case: Value = client
            .get(server.url(&format!("/api/v1/cases/{}", first["case_id"])))
            .bearer_auth(&token)
            .send()
            .expect("case")
            .json()
            .expect("case JSON");
        let case_text = case.to_string();
        assert!(
            case_text.contains("market_regulation") && case_text.contains("public_security"),
            "{backend:?}: the report must be referred to both bodies: {case_text}"
        );

        // A receipt, two referral letters and a notice.
        let mails = wait_for_mail(&inbox, 4, "first report");
        std::thread::sleep(Duration::from_millis(1500));
        let mails_now = received(&inbox);
        assert_eq!(mails_now.len(), 4, "{backend:?}: exactly four mails");
        let by_rcpt: BTreeMap<String, Mail> = mails
            .iter()
            .map(|m| (m.rcpt_to.join(","), m.clone()))
            .collect();
        for m in &mails {
            assert_eq!(m.rcpt_to.len(), 1, "one recipient per mail");
            assert_eq!(m.to_header, m.rcpt_to[0], "To matches the envelope");
            assert!(!m.message_id.is_empty(), "a Message-ID");
            assert!(
                m.subject.contains(&case_no),
                "subject names the case: {}",
                m.subject
            );
            assert!(m.body.contains(&case_no), "body names the case");
            let subject_header = header_line(&m.raw, "Subject");
            assert!(
                subject_header.to_lowercase().contains("=?utf-8?"),
                "the Subject is RFC 2047-encoded: {subject_header}"
            );
            let content_type = header_line(&m.raw, "Content-Type").to_lowercase();
            assert!(
                content_type.contains("text/plain") && content_type.contains("charset=utf-8"),
                "{content_type}"
            );
            assert!(
                m.raw.is_ascii(),
                "transfer-encoded: the raw message is 7-bit"
            );
            assert!(
                header_line(&m.raw, "From").contains("jubao@yjj.example.gov.cn"),
                "From"
            );
            assert!(
                header_line(&m.raw, "Auto-Submitted").contains("auto-generated"),
                "Auto-Submitted"
            );
        }
        let receipt = by_rcpt
            .get(REPORTER_EMAIL)
            .expect("a receipt to the reporter");
        assert!(receipt.subject.contains("受理回执"), "{}", receipt.subject);
        assert!(receipt.body.contains("接下来"), "what happens next");
        for (addr, body_name) in [(POLICE_EMAIL, "鞍山市公安局铁东分局"), (MARKET_EMAIL, "")]
        {
            let letter = by_rcpt
                .get(addr)
                .unwrap_or_else(|| panic!("{backend:?}: a referral letter to {addr}"));
            assert!(letter.subject.contains("移送函"), "{}", letter.subject);
            assert!(letter.body.contains(body_name), "addressed to the body");
            assert!(
                letter.body.contains("恒安特种作业培训中心") && letter.body.contains("有人照应"),
                "the facts: {}",
                letter.body
            );
            for identity in [REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, "欧阳"] {
                assert!(
                    !letter.raw.contains(identity) && !letter.body.contains(identity),
                    "{backend:?}: reporter identity {identity:?} in a referral letter: {}",
                    letter.body
                );
            }
        }
        let notice = by_rcpt.get(OFFICER_EMAIL).expect("a notice to the officer");
        assert!(notice.subject.contains("新案件"), "{}", notice.subject);
        assert!(notice.body.contains("wang.officer"), "salutation");
        for identity in [REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL] {
            assert!(!notice.body.contains(identity), "identity in the notice");
        }
        let listed = outbox_rows(&dep, false);
        assert!(
            listed.is_empty(),
            "{backend:?}: nothing pending: {listed:?}"
        );

        // SMTP down: mail waits, attempts grow.
        receiver.stop();
        post(
            &client,
            &server.url("/api/v1/reports"),
            &token,
            &json!({"channel": "web_form", "external_id": "mail-out-2", "received_at": "2024-05-07T10:00:00+08:00",
                "reporter": {"name": "第二举报人", "email": "second.reporter@example.org"},
                "text": "鞍山市铁东区金盾职业培训学校收费远高于其他学校，焊工证培训要价８０００元，还说交钱包过。"}),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        let pending = loop {
            let rows = outbox_rows(&dep, false);
            if !rows.is_empty()
                && rows.iter().all(|r| {
                    r["attempts"].as_i64().unwrap_or(0) > 0
                        && r["state"] == "pending"
                        && r["last_error"].is_string()
                })
            {
                break rows;
            }
            assert!(
                Instant::now() < deadline,
                "{backend:?}: rows never failed: {rows:?}"
            );
            std::thread::sleep(Duration::from_millis(300));
        };
        assert!(
            pending.iter().any(|r| r["kind"] == "receipt"),
            "{pending:?}"
        );
        let listing = serde_json::to_string(&pending).expect("json");
        assert!(
            !listing.contains("second.reporter"),
            "the list shows no recipient: {listing}"
        );
        let expected_second = pending.len();

        // SMTP back: everything delivered, each once.
        let receiver = Receiver::start(&script, smtp_port, &inbox);
        let all = wait_for_mail(&inbox, 4 + expected_second, "after the receiver came back");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !outbox_rows(&dep, false).is_empty() {
            assert!(Instant::now() < deadline, "{backend:?}: mail still pending");
            std::thread::sleep(Duration::from_millis(300));
        }
        assert!(all
            .iter()
            .any(|m| m.rcpt_to == ["second.reporter@example.org"]));

        // A restart of tipline sends nothing again.
        server.child.kill().ok();
        server.child.wait().ok();
        let server2 = dep.serve();
        std::thread::sleep(Duration::from_secs(3));
        let finally = received(&inbox);
        let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
        for m in &finally {
            *per_id.entry(m.message_id.as_str()).or_default() += 1;
        }
        assert_eq!(
            finally.len(),
            4 + expected_second,
            "{backend:?}: no mail re-sent after the restart"
        );
        assert!(
            per_id.values().all(|&n| n == 1),
            "{backend:?}: every Message-ID once: {per_id:?}"
        );
        let (code, out, _) = dep.run(&["outbox", "list", "--all", "--json"], "");
        assert_eq!(code, 0);
        assert_eq!(
            out.lines().filter(|l| l.contains("\"done\"")).count(),
            4 + expected_second
        );
        drop(server2);
        drop(receiver);
    }
}
