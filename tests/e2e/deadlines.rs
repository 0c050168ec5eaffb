//! Deadline reminders and escalations (issue 8): `tipline deadlines sweep --now …` reminds the
//! handling officers one working day before the current step's deadline (across 春节 2026) and
//! escalates to the jurisdiction above once it has passed — each once, across runs and across two
//! sweeps at the same moment; recorded as case events, flagged in the queue, delivered by the
//! outbox to a real SMTP receiver, without the reporter's identity.

use crate::helpers::{backends, free_port, Deployment};
use crate::mail_out::{outbox_list, received, Receiver, RECEIVER};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const REPORTER_NAME: &str = "司马催办";
const REPORTER_PHONE: &str = "13911112222";
const OFFICER_EMAIL: &str = "tiedong.officer@yjj.example.cn";
const LEADER_EMAIL: &str = "anshan.leader@yjj.example.cn";
const OTHER_EMAIL: &str = "tiexi.officer@yjj.example.cn";

fn sweep(dep: &Deployment, now: &str) -> Value {
    let (code, out, err) = dep.run(&["deadlines", "sweep", "--now", now], "");
    assert_eq!(code, 0, "deadlines sweep --now {now}: {err}");
    serde_json::from_str(out.trim()).expect("the sweep prints JSON")
}

fn add_user(dep: &Deployment, name: &str, role: &str, jurisdiction: &str, email: Option<&str>) {
    let mut args = vec![
        "user",
        "add",
        name,
        "--role",
        role,
        "--jurisdiction",
        jurisdiction,
    ];
    if let Some(e) = email {
        args.extend(["--email", e]);
    }
    let (code, _, err) = dep.run(&args, "pw-Secret-123\n");
    assert_eq!(code, 0, "user add {name}: {err}");
}

fn get(c: &Client, url: &str, token: &str) -> Value {
    c.get(url)
        .bearer_auth(token)
        .send()
        .expect("request")
        .json()
        .expect("JSON")
}

#[test]
fn reminders_and_escalations_are_sent_once_and_flagged() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let mail_dir = tempfile::tempdir().expect("mail dir");
        let script = mail_dir.path().join("receiver.py");
        std::fs::write(&script, RECEIVER).expect("write receiver");
        let inbox = mail_dir.path().join("inbox");
        std::fs::create_dir_all(&inbox).expect("inbox");
        let smtp_port = free_port();
        std::fs::write(
            dep.data().join("tipline.toml"),
            format!(
                r#"
[triage]
home = "210300"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "jubao@yjj.example.gov.cn"
timeout_secs = 5

[deadlines]
remind_working_days = 1
sweep_interval_secs = 0
"#
            ),
        )
        .expect("write configuration");
        let token = dep.token("op1", "operator", "210300");
        let officer = dep.token("tiedong", "officer", "210302");
        add_user(
            &dep,
            "tiedong.mail",
            "officer",
            "210302",
            Some(OFFICER_EMAIL),
        );
        add_user(
            &dep,
            "anshan.leader",
            "leader",
            "210300",
            Some(LEADER_EMAIL),
        );
        add_user(&dep, "tiexi.mail", "officer", "210303", Some(OTHER_EMAIL));

        let server = dep.serve();
        let c = Client::new();
        let mut cases = Vec::new();
        for (i, school) in ["宏远安全技术培训学校", "恒通特种作业培训中心"]
            .iter()
            .enumerate()
        {
            // Friday before 春节 2026: sign-for is due one working day later, on the worked
            // Saturday Feb 14 at 18:00 Beijing time; the reminder is due Friday 18:00.
            let ack: Value = c
                .post(server.url("/api/v1/reports"))
                .bearer_auth(&token)
                .json(&json!({"channel": "web_form", "external_id": format!("dl-{i}"),
                    "received_at": "2026-02-13T10:00:00+08:00",
                    "reporter": {"name": REPORTER_NAME, "phone": REPORTER_PHONE},
                    "text": format!("我是{REPORTER_NAME}，电话{REPORTER_PHONE}。鞍山市铁东区{school}低压电工培训只上了一天课，学时记录全是补的。")}))
                .send()
                .expect("post report")
                .json()
                .expect("ack");
            cases.push(ack["case_id"].as_i64().expect("case id"));
        }
        let first = cases[0];
        let case = get(&c, &server.url(&format!("/api/v1/cases/{first}")), &officer);
        assert_eq!(case["case"]["handling"], "210302", "{case}");
        assert_eq!(case["case"]["due_at"], "2026-02-14T10:00:00Z", "{case}");
        let before = outbox_list(&dep).len();

        // Before the reminder is due: nothing.
        let r = sweep(&dep, "2026-02-13T17:59:00+08:00");
        assert_eq!(
            (r["reminded"].as_u64(), r["escalated"].as_u64()),
            (Some(0), Some(0)),
            "{r}"
        );
        // Two sweeps at the same moment (two nodes, or cron and serve): each case reminded once.
        let now = "2026-02-13T18:30:00+08:00";
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| sweep(&dep, now));
            let b = s.spawn(|| sweep(&dep, now));
            (a.join().expect("sweep a"), b.join().expect("sweep b"))
        });
        assert_eq!(
            a["reminded"].as_u64().unwrap() + b["reminded"].as_u64().unwrap(),
            2,
            "{backend:?}: {a} {b}"
        );
        assert_eq!(
            sweep(&dep, now)["reminded"],
            0,
            "a rerun reminds nobody again"
        );
        // Officer signs for the second case in time: it is never escalated.
        let signed = c
            .post(server.url(&format!("/api/v1/cases/{}/transitions", cases[1])))
            .bearer_auth(&officer)
            .json(&json!({"action": "sign_for"}))
            .send()
            .expect("sign for");
        assert_eq!(signed.status().as_u16(), 200);
        // The worked Saturday, 18:00 has passed: the first case is escalated to 鞍山市 (210300).
        let later = "2026-02-14T18:00:01+08:00";
        let r = sweep(&dep, later);
        assert_eq!(
            (r["reminded"].as_u64(), r["escalated"].as_u64()),
            (Some(0), Some(1)),
            "{r}"
        );
        assert_eq!(sweep(&dep, later)["escalated"], 0);
        assert_eq!(sweep(&dep, "2026-02-20T09:00:00+08:00")["escalated"], 0);

        // The case's events, once each, with the step and the jurisdiction told.
        let case = get(&c, &server.url(&format!("/api/v1/cases/{first}")), &officer);
        let events: Vec<&Value> = case["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| {
                e["kind"]
                    .as_str()
                    .is_some_and(|k| k == "case.reminded" || k == "case.escalated")
            })
            .collect();
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0]["kind"], "case.reminded");
        assert_eq!(events[0]["data"]["step"], "sign_for");
        assert_eq!(events[0]["data"]["jurisdiction"], "210302");
        assert_eq!(events[1]["kind"], "case.escalated");
        assert_eq!(events[1]["data"]["jurisdiction"], "210300");
        assert_eq!(events[1]["data"]["recipients"], json!(["anshan.leader"]));

        // The queue flags the escalated case; the filter finds it alone.
        let queue = get(&c, &server.url("/api/v1/queue"), &officer);
        let row = queue["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case_id"] == first)
            .expect("in the queue");
        assert_eq!(
            (
                row["reminded"].as_bool(),
                row["escalated"].as_bool(),
                row["overdue"].as_bool()
            ),
            (Some(true), Some(true), Some(true)),
            "{row}"
        );
        let other = queue["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case_id"] == cases[1])
            .unwrap();
        assert_eq!(other["escalated"], false, "{other}");
        let only = get(&c, &server.url("/api/v1/queue?escalated=true"), &officer);
        assert_eq!(only["total"], 1, "{only}");

        // Mail: one reminder per case to the county's officer with an address, one escalation to
        // the prefecture's leader; nothing to the other county; no reporter identity anywhere.
        let rows = outbox_list(&dep);
        let kinds: Vec<&str> = rows[before.min(rows.len())..]
            .iter()
            .filter_map(|r| r["kind"].as_str())
            .collect();
        let receiver = Receiver::start(&script, smtp_port, &inbox);
        let (code, out, err) = dep.run(&["outbox", "send", "--once"], "");
        assert!(code == 0 || code == 4, "outbox send: {out} {err}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mails = loop {
            let m = received(&inbox);
            let ours: Vec<_> = m
                .into_iter()
                .filter(|m| m.subject.contains("办理期限提醒") || m.subject.contains("超期督办"))
                .collect();
            if ours.len() >= 3 || Instant::now() > deadline {
                break ours;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        receiver.stop();
        assert_eq!(
            mails.len(),
            3,
            "{backend:?}: {kinds:?} {:#?}",
            mails
                .iter()
                .map(|m| (&m.subject, &m.rcpt_to))
                .collect::<Vec<_>>()
        );
        let reminders: Vec<_> = mails
            .iter()
            .filter(|m| m.subject.contains("办理期限提醒"))
            .collect();
        assert_eq!(reminders.len(), 2);
        assert!(reminders
            .iter()
            .all(|m| m.rcpt_to == vec![OFFICER_EMAIL.to_string()]));
        assert!(
            reminders[0].body.contains("签收") && reminders[0].body.contains("2026年2月14日 18:00"),
            "{}",
            reminders[0].body
        );
        let escalation = mails
            .iter()
            .find(|m| m.subject.contains("超期督办"))
            .unwrap();
        assert_eq!(escalation.rcpt_to, vec![LEADER_EMAIL.to_string()]);
        assert!(
            escalation.body.contains("铁东区（210302）"),
            "{}",
            escalation.body
        );
        for m in &mails {
            assert!(!m.rcpt_to.contains(&OTHER_EMAIL.to_string()));
            for secret in [REPORTER_NAME, REPORTER_PHONE, "学时记录全是补的"] {
                assert!(
                    !m.body.contains(secret) && !m.raw.contains(secret),
                    "{secret} in {}",
                    m.body
                );
            }
        }
    }
}
