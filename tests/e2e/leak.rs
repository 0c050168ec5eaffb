//! The leak test (issue 8, Confidentiality): reporters with distinctive names, phones, e-mail
//! addresses and ID numbers report through every channel (web form named and anonymous, a 12345
//! order, a 12350 call, an e-mail); then every output is collected — the API as each role, the
//! command line, the mail the outbox sends, the serve log at debug level, and the raw bytes of the
//! database (SQLite file and WAL, a PostgreSQL dump) and of the search index — and searched for
//! those strings. Only the reveal by an entitled officer, `export --with-identity` and the receipt
//! mailed to the reporter's own address may show them (and they must).

use crate::helpers::{backends, Backend, Deployment};
use crate::mail_out::{received, MailSink};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const WEB_NAME: &str = "司马泄漏甲";
const WEB_PHONE: &str = "13700135791";
const WEB_EMAIL: &str = "leak.web.q7@example.org";
const WEB_ID: &str = "210302198504172637";
const ANON_PHONE: &str = "13822468024";
const ANON_ID: &str = "210303199208234814";
const ORDER_NAME: &str = "诸葛工单丙";
const ORDER_PHONE: &str = "13512349876";
const CALL_NAME: &str = "上官来电丁";
const CALL_PHONE: &str = "13698765432";
const MAIL_NAME: &str = "皇甫邮件戊";
const MAIL_EMAIL: &str = "leak.mail.z9@example.net";

/// Every identity datum given, by any channel.
const SECRETS: &[&str] = &[
    WEB_NAME,
    WEB_PHONE,
    WEB_EMAIL,
    WEB_ID,
    ANON_PHONE,
    ANON_ID,
    ORDER_NAME,
    ORDER_PHONE,
    CALL_NAME,
    CALL_PHONE,
    MAIL_NAME,
    MAIL_EMAIL,
];

/// The secrets found in `haystack`, also spelled as hex (PostgreSQL prints bytea as hex).
fn leaks(haystack: &[u8]) -> Vec<&'static str> {
    let lower = String::from_utf8_lossy(haystack).to_lowercase();
    SECRETS
        .iter()
        .copied()
        .filter(|s| {
            let s = s.to_lowercase();
            lower.contains(&s) || lower.contains(&hex(s.as_bytes()))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn assert_clean(what: &str, haystack: &[u8]) {
    let found = leaks(haystack);
    assert!(found.is_empty(), "{what} shows reporter identity {found:?}");
}

fn encoded_word(s: &str) -> String {
    use base64::Engine;
    format!(
        "=?UTF-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(s)
    )
}

#[test]
fn reporter_identity_shows_only_where_entitled() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let mail = MailSink::new();
        std::fs::write(
            dep.data().join("tipline.toml"),
            format!(
                "[triage]\nhome = \"210300\"\n\n[triage.contacts.\"210302\"]\n\
                 public_security = \"鞍山市公安局铁东分局\"\npublic_security_email = \"jingzhen@ps.example.cn\"\n\
                 market_regulation_email = \"jiancha@amr.example.cn\"\n\n{}",
                mail.smtp_toml("鞍山市应急管理局举报受理中心")
            ),
        )
        .expect("write configuration");
        let operator = dep.token("op1", "operator", "210300");
        let leader = dep.token("lead1", "leader", "210300");
        let admin = dep.token("admin1", "admin", "210300");
        let county = dep.token("tiexi", "officer", "210303");
        // An officer of the prefecture handles every case of these reports (its subtree, the home desk).
        let prefecture = dep.token("anshan.officer", "officer", "210300");
        let (code, _, err) = dep.run(
            &[
                "user",
                "add",
                "tiedong",
                "--role",
                "officer",
                "--jurisdiction",
                "210302",
                "--email",
                "officer.tiedong@yjj.example.cn",
            ],
            "pw-Secret-123\n",
        );
        assert_eq!(code, 0, "{err}");
        let (code, officer, err) = dep.run(&["token", "add", "--user", "tiedong"], "");
        assert_eq!(code, 0, "{err}");
        let officer = officer.trim().to_string();

        // E-mail: imported before the server starts (the same pipeline as the IMAP poller).
        let eml = dep.data().join("leak.eml");
        std::fs::write(
            &eml,
            format!(
                "From: {} <{MAIL_EMAIL}>\r\nTo: jubao@yjj.example.gov.cn\r\nSubject: {}\r\n\
                 Message-ID: <leak-mail-1@mx.example.net>\r\nDate: Mon, 6 May 2024 09:30:00 +0800\r\n\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
                 鞍山市铁东区鼎盛职业培训学校开设焊工证包过班，考试时有人帮忙答题，收费八千元。\r\n",
                encoded_word(MAIL_NAME),
                encoded_word("举报培训学校包过"),
            ),
        )
        .expect("write eml");
        let (code, out, err) = dep.run(&["import", eml.to_str().unwrap()], "");
        assert_eq!(code, 0, "import eml: {out} {err}");

        let receiver = mail.start();
        let log = dep.data().join("serve.log");
        let server = dep.serve_logging(Some(&log));
        let c = Client::new();
        let post = |path: &str, token: &str, body: Value| -> Value {
            let r = c
                .post(server.url(path))
                .bearer_auth(token)
                .json(&body)
                .send()
                .unwrap();
            assert_eq!(r.status().as_u16(), 201, "{path}");
            r.json().unwrap()
        };
        let named = post(
            "/api/v1/reports",
            &operator,
            json!({"channel": "web_form", "external_id": "leak-web-1", "received_at": "2024-05-06T09:12:00+08:00",
                "reporter": {"name": WEB_NAME, "phone": WEB_PHONE, "email": WEB_EMAIL, "id_number": WEB_ID},
                "text": "鞍山市铁东区恒信安全技术培训学校电工证包过，收费是正常价的三四倍，考场里有人帮着答题。"}),
        );
        let anonymous = post(
            "/api/v1/reports",
            &operator,
            json!({"channel": "web_form", "external_id": "leak-web-2", "received_at": "2024-05-06T10:12:00+08:00",
                "reporter": {"anonymous": true, "phone": ANON_PHONE, "id_number": ANON_ID},
                "text": "鞍山市铁东区宏达安全生产考试点实操考试只问几个问题，监考人员离开考场。"}),
        );
        let receipt = anonymous["receipt_code"]
            .as_str()
            .expect("a receipt code")
            .to_string();
        let order = post(
            "/api/v1/channels/12345/orders",
            &operator,
            json!({"order_no": "GD20240506009001", "created_at": "2024-05-06T11:00:00+08:00",
                "caller": {"name": ORDER_NAME, "phone": ORDER_PHONE},
                "content": "市民来电反映：鞍山市铁东区某化工厂电焊工无证上岗。诉求：请核查。",
                "location": "鞍山市铁东区", "deadline": "2024-05-16T18:00:00+08:00"}),
        );
        let call = post(
            "/api/v1/channels/12350/calls",
            &operator,
            json!({"call_id": "LEAK-C-1", "caller_number": CALL_PHONE, "caller_name": CALL_NAME, "anonymous": false,
                "started_at": "2024-05-06T12:00:00+08:00", "notes": "来电人反映鞍山市铁东区某培训中心培训档案造假。",
                "categories": ["T3"]}),
        );
        // The 12345 platform hears back (签收), so that its replies are read below.
        let order_case = order["case_id"].as_i64().unwrap();
        let signed = c
            .post(server.url(&format!("/api/v1/cases/{order_case}/transitions")))
            .bearer_auth(&officer)
            .json(&json!({"action": "sign_for"}))
            .send()
            .unwrap();
        assert_eq!(signed.status().as_u16(), 200, "sign for the 12345 order");

        // Every output a user or the platform can read.
        let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
        let acks = [&named, &anonymous, &order, &call];
        let mut report_ids: Vec<i64> = acks
            .iter()
            .map(|a| a["report_id"].as_i64().unwrap())
            .collect();
        let mut case_ids: Vec<i64> = acks
            .iter()
            .map(|a| a["case_id"].as_i64().unwrap())
            .collect();
        // The mail's report, by its Message-ID.
        let exported = crate::helpers::export(&dep);
        for line in &exported {
            if line.to_string().contains("leak-mail-1") {
                report_ids.push(
                    line["report_id"]
                        .as_i64()
                        .or(line["id"].as_i64())
                        .expect("report id"),
                );
                case_ids.push(line["case_id"].as_i64().expect("case id"));
            }
        }
        assert_eq!(report_ids.len(), 5, "five reports, one per channel");
        let mut paths: Vec<String> = Vec::new();
        for id in &report_ids {
            paths.push(format!("/api/v1/reports/{id}"));
        }
        for id in &case_ids {
            paths.push(format!("/api/v1/cases/{id}"));
        }
        paths.extend(
            [
                "/api/v1/queue",
                "/api/v1/search?q=培训",
                "/api/v1/search?q=",
                "/api/v1/subjects/恒信安全技术培训学校",
                "/api/v1/stats/monthly",
                "/api/v1/channels/12345/replies?since=0",
            ]
            .map(String::from),
        );
        for (role, token) in [
            ("operator", &operator),
            ("leader", &leader),
            ("admin", &admin),
            ("officer", &officer),
            ("prefecture officer", &prefecture),
            ("other county", &county),
        ] {
            for path in &paths {
                let body = c
                    .get(server.url(path))
                    .bearer_auth(token)
                    .send()
                    .unwrap()
                    .bytes()
                    .unwrap();
                outputs.push((format!("GET {path} as {role}"), body.to_vec()));
            }
            let preview = c
                .post(server.url("/api/v1/triage/preview"))
                .bearer_auth(token)
                .json(&json!({"text": "鞍山市铁东区恒信安全技术培训学校电工证包过", "phone": WEB_PHONE}))
                .send()
                .unwrap()
                .bytes()
                .unwrap();
            outputs.push((format!("triage preview as {role}"), preview.to_vec()));
        }
        let shown = c
            .get(server.url(&format!("/api/v1/receipts/{receipt}")))
            .send()
            .unwrap();
        assert_eq!(shown.status().as_u16(), 200);
        outputs.push(("GET receipt".into(), shown.bytes().unwrap().to_vec()));

        // Entitled: the officer's reveal shows the identity, every datum of it.
        let mut revealed = String::new();
        for id in &report_ids {
            let r = c
                .post(server.url(&format!("/api/v1/reports/{id}/reveal")))
                .bearer_auth(&prefecture)
                .json(&json!({"reason": "需联系举报人核实"}))
                .send()
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "reveal of report {id}");
            revealed.push_str(&r.text().unwrap());
        }
        let mut shown = leaks(revealed.as_bytes());
        shown.sort_unstable();
        let mut all = SECRETS.to_vec();
        all.sort_unstable();
        assert_eq!(shown, all, "the reveal shows every datum given");
        // Not entitled: a leader, and an officer of another county, are refused without identity.
        for token in [&leader, &county] {
            let r = c
                .post(server.url(&format!("/api/v1/reports/{}/reveal", report_ids[0])))
                .bearer_auth(token)
                .json(&json!({"reason": "看看"}))
                .send()
                .unwrap();
            assert!(matches!(r.status().as_u16(), 403 | 404));
            outputs.push(("refused reveal".into(), r.bytes().unwrap().to_vec()));
        }

        // The mail the outbox sends: every row delivered; receipts only to the reporter.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, pending, _) = dep.run(&["outbox", "list", "--json"], "");
            if pending.trim().is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "mail still pending: {pending}");
            std::thread::sleep(Duration::from_millis(300));
        }
        let mails = received(&mail.inbox);
        assert!(
            mails.len() >= 4,
            "receipts, letters and notices were sent: {}",
            mails.len()
        );
        let mut receipts_to = Vec::new();
        for sent in &mails {
            let to_reporter = sent
                .rcpt_to
                .iter()
                .any(|r| r == WEB_EMAIL || r == MAIL_EMAIL);
            if to_reporter {
                receipts_to.extend(sent.rcpt_to.clone());
                let mut found = leaks(sent.raw.as_bytes());
                found.retain(|s| !sent.rcpt_to.contains(&s.to_string()));
                assert!(found.is_empty(), "a receipt shows other identity {found:?}");
            } else {
                assert_clean(&format!("mail to {:?}", sent.rcpt_to), sent.raw.as_bytes());
            }
        }
        receipts_to.sort();
        assert_eq!(
            receipts_to,
            vec![MAIL_EMAIL.to_string(), WEB_EMAIL.to_string()],
            "each reporter with an address got a receipt"
        );

        // The command line.
        for args in [
            vec!["export", "--format", "jsonl"],
            vec!["export", "--format", "csv"],
            vec!["search", "培训", "--format", "jsonl", "--limit", "100"],
            vec!["search", "", "--place", "2103", "--format", "jsonl"],
            vec!["outbox", "list", "--json", "--all"],
            vec!["mail", "status"],
            vec!["audit"],
            vec!["keys", "status"],
        ] {
            let (code, out, err) = dep.run(&args, "");
            assert_eq!(code, 0, "tipline {args:?}: {err}");
            outputs.push((
                format!("tipline {args:?}"),
                format!("{out}{err}").into_bytes(),
            ));
        }
        let (code, with_identity, err) =
            dep.run(&["export", "--format", "jsonl", "--with-identity"], "");
        assert_eq!(code, 0, "{err}");
        let mut shown = leaks(with_identity.as_bytes());
        shown.sort_unstable();
        assert_eq!(shown, all, "export --with-identity shows every datum given");

        for (what, body) in &outputs {
            assert_clean(what, body);
        }
        drop(server);
        receiver.stop();
        assert_clean(
            "the serve log at debug level",
            &std::fs::read(&log).expect("serve log"),
        );
        assert!(
            std::fs::metadata(&log).unwrap().len() > 0,
            "the log was written"
        );

        // At rest: the database's own bytes, and the search index.
        match backend {
            Backend::Sqlite => {
                for name in ["tipline.db", "tipline.db-wal"] {
                    let path = dep.data().join(name);
                    if let Ok(bytes) = std::fs::read(&path) {
                        assert_clean(&format!("the SQLite file {name}"), &bytes);
                    }
                }
            }
            Backend::Postgres => {
                let out = std::process::Command::new("pg_dump")
                    .arg("--data-only")
                    .arg(dep.database_url.as_deref().unwrap())
                    .output()
                    .expect("pg_dump runs");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_clean("the PostgreSQL dump", &out.stdout);
            }
        }
        scan_dir(&dep.data().join("index"));
    }
}

fn scan_dir(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            scan_dir(&path);
        } else if let Ok(bytes) = std::fs::read(&path) {
            assert_clean(&format!("the search index file {}", path.display()), &bytes);
        }
    }
}
