//! The 12345 chain (issue 8): replies pushed to the platform through the outbox (against a real
//! HTTP receiver that fails for a while, and one order it never accepts), extension requests (延期)
//! and their decisions, and the platform's Excel/CSV exports taken by `tipline import`.

use crate::helpers::{
    backends, event_kinds, event_of, export, outbox_rows, wait_for, Backend, Deployment,
};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "push-secret-7f3a";
const CALLER: &str = "欧阳某测";
const CALLER_PHONE: &str = "13912340001";

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    attempts: HashMap<String, u32>,
    /// Accepted replies, in arrival order: (key, body).
    accepted: Vec<(String, Value)>,
    /// Every body received (accepted or not).
    bodies: Vec<String>,
    duplicates: u32,
    unauthorized: u32,
}

/// A 12345 platform stand-in: per idempotency key, the first attempt gets a 500, the second is
/// taken but answered only after the client's timeout (the answer is lost), later ones get 409
/// (already have it). Replies of `dead_order` are refused with 500 forever.
struct Platform {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl Platform {
    fn start(dead_order: &'static str) -> Platform {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = shared.clone();
                std::thread::spawn(move || answer(stream, &seen, dead_order));
            }
        });
        Platform { port, seen }
    }

    fn accepted(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().accepted.clone()
    }
}

fn answer(mut stream: TcpStream, seen: &Mutex<Seen>, dead_order: &str) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head, mut body) = loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break (
                String::from_utf8_lossy(&buf[..pos]).to_string(),
                buf[pos + 4..].to_vec(),
            );
        }
    };
    let header = |name: &str| -> Option<String> {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        body.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&body).to_string();
    let key = header("idempotency-key").unwrap_or_default();
    let reply: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let (status, delay) = {
        let mut s = seen.lock().unwrap();
        s.bodies.push(text.clone());
        if header("authorization").as_deref() != Some(&format!("Bearer {TOKEN}")) {
            s.unauthorized += 1;
            (401, 0)
        } else if reply["order_no"] == dead_order {
            (500, 0)
        } else {
            let n = {
                let a = s.attempts.entry(key.clone()).or_default();
                *a += 1;
                *a
            };
            match n {
                1 => (500, 0),
                2 => {
                    s.accepted.push((key.clone(), reply.clone()));
                    (200, 2500)
                }
                _ => {
                    s.duplicates += 1;
                    (409, 0)
                }
            }
        }
    };
    std::thread::sleep(Duration::from_millis(delay));
    let answer = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    let _ = stream.write_all(answer.as_bytes());
}

fn post(c: &Client, url: &str, token: &str, body: &Value) -> (u16, Value) {
    let r = c
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .expect("request");
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn get(c: &Client, url: &str, token: &str) -> Value {
    c.get(url)
        .bearer_auth(token)
        .send()
        .expect("request")
        .json()
        .expect("JSON")
}

fn order(no: &str, text: &str) -> Value {
    json!({"order_no": no, "created_at": "2024-05-06T10:00:00+08:00",
        "caller": {"name": CALLER, "phone": CALLER_PHONE},
        "content": text, "location": "鞍山市铁东区", "deadline": "2024-05-16T18:00:00+08:00"})
}

const ORDER_A: &str = "GD2024050600101";
const ORDER_B: &str = "GD2024050600102";
const ORDER_DEAD: &str = "GD2024050600199";

#[test]
fn replies_reach_the_platform_in_order_once_and_a_dead_letter_blocks_nothing() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let platform = Platform::start(ORDER_DEAD);
        std::fs::write(dep.data().join("push.token"), format!("{TOKEN}\n")).unwrap();
        std::fs::write(
            dep.data().join("tipline.toml"),
            format!(
                r#"
[triage]
home = "210300"

[platform_12345]
push_url = "http://127.0.0.1:{port}/api/replies"
token_file = "{token}"
timeout_secs = 1
backoff_base_secs = 1
backoff_max_secs = 1
max_attempts = 4
poll_secs = 1
"#,
                port = platform.port,
                token = dep.data().join("push.token").display()
            ),
        )
        .unwrap();
        let officer = dep.token("anshan", "officer", "210300");
        let leader = dep.token("anshan.leader", "leader", "210300");
        let server = dep.serve();
        let c = Client::new();
        let mut cases = BTreeMap::new();
        for (no, text) in [
            (ORDER_A, format!("市民{CALLER}来电反映：鞍山市铁东区宏远安全技术培训学校低压电工培训只上一天课，学时记录是补的。回电{CALLER_PHONE}。")),
            (ORDER_B, "市民来电反映：鞍山市铁东区某安全生产考试点监考人员离开考场，考生用手机查答案。".to_string()),
            (ORDER_DEAD, "市民来电反映：鞍山市铁东区金盾职业培训学校焊工证交钱包过。".to_string()),
        ] {
            let (status, ack) = post(&c, &server.url("/api/v1/channels/12345/orders"), &officer, &order(no, &text));
            assert_eq!(status, 201, "{backend:?}: {ack}");
            cases.insert(no, ack["case_id"].as_i64().unwrap());
        }
        let steps = |no: &str, bodies: Vec<Value>| {
            let url = server.url(&format!("/api/v1/cases/{}/transitions", cases[no]));
            for body in bodies {
                let (status, answer) = post(&c, &url, &officer, &body);
                assert_eq!(status, 200, "{backend:?} {no} {body}: {answer}");
            }
        };
        steps(ORDER_DEAD, vec![json!({"action": "sign_for"})]);
        steps(ORDER_A, vec![json!({"action": "sign_for"})]);
        let (status, ext) = post(
            &c,
            &server.url(&format!("/api/v1/cases/{}/extensions", cases[ORDER_A])),
            &officer,
            &json!({"days": 5, "reason": "需调取考场录像，现场核查"}),
        );
        assert_eq!(status, 201, "{backend:?}: {ext}");
        let (status, _) = post(
            &c,
            &server.url(&format!(
                "/api/v1/cases/{}/extensions/1/decision",
                cases[ORDER_A]
            )),
            &leader,
            &json!({"approve": true, "reason": "同意"}),
        );
        assert_eq!(status, 200);
        steps(
            ORDER_B,
            vec![json!({"action": "send_back", "reason": "不属于本局职责，请改派"})],
        );
        steps(
            ORDER_A,
            vec![
                json!({"action": "start_verification"}),
                json!({"action": "record_finding", "finding": "属实", "text": "该校压缩学时、补记学时记录属实。"}),
                json!({"action": "record_actions", "actions": [{"kind": "限期改正"}, {"kind": "罚款", "amount_wan": 2.0}]}),
                json!({"action": "reply", "text": format!("{CALLER}您好：您反映的问题经查属实，已责令整改。")}),
                json!({"action": "close"}),
            ],
        );

        // Every reply arrives once, in order per order, through 500s and lost answers.
        let expected_a = ["signed_for", "extension_requested", "replied", "closed"];
        let count = |accepted: &[(String, Value)], no: &str| {
            accepted.iter().filter(|(_, r)| r["order_no"] == no).count()
        };
        wait_for(90, "every reply accepted", || {
            let accepted = platform.accepted();
            (count(&accepted, ORDER_A) == expected_a.len() && count(&accepted, ORDER_B) == 1)
                .then_some(())
        });
        let accepted = platform.accepted();
        let steps_of = |no: &str| -> Vec<String> {
            accepted
                .iter()
                .filter(|(_, r)| r["order_no"] == no)
                .map(|(_, r)| r["step"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(steps_of(ORDER_A), expected_a, "{backend:?}: in order");
        assert_eq!(steps_of(ORDER_B), ["sent_back"]);
        let mut keys: Vec<&String> = accepted.iter().map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), accepted.len(), "each key accepted once");
        for (key, r) in &accepted {
            assert_eq!(
                key,
                &format!(
                    "{}:{}:{}",
                    r["order_no"].as_str().unwrap(),
                    r["step"].as_str().unwrap(),
                    r["seq"]
                ),
                "the idempotency key is order_no:step:seq"
            );
            assert!(
                r["handler_unit"].as_str().unwrap().ends_with("应急管理局"),
                "{r}"
            );
            assert!(
                r["time"].as_str().is_some() && r["text"].as_str().is_some(),
                "{r}"
            );
        }
        let replied = &accepted
            .iter()
            .find(|(_, r)| r["step"] == "replied")
            .unwrap()
            .1;
        let text = replied["text"].as_str().unwrap();
        assert!(
            text.contains("属实") && text.contains("罚款2万元") && text.contains("限期改正"),
            "{text}"
        );
        let extension = &accepted
            .iter()
            .find(|(_, r)| r["step"] == "extension_requested")
            .unwrap()
            .1;
        assert!(
            extension["text"].as_str().unwrap().contains("5个工作日"),
            "{extension}"
        );
        assert_eq!(
            accepted
                .iter()
                .find(|(_, r)| r["step"] == "sent_back")
                .unwrap()
                .1["text"],
            "退回：不属于本局职责，请改派"
        );
        {
            let seen = platform.seen.lock().unwrap();
            assert!(
                seen.duplicates > 0,
                "a lost answer was retried and answered 409"
            );
            assert_eq!(seen.unauthorized, 0, "the bearer token is sent");
            for body in &seen.bodies {
                assert!(
                    !body.contains(CALLER)
                        && !body.contains(CALLER_PHONE)
                        && !body.contains("欧阳"),
                    "{backend:?}: reporter identity in a push: {body}"
                );
            }
        }

        // The order the platform never accepts ends as a dead letter, visible, after max_attempts;
        // the last accepted reply's lost answer is retried meanwhile (and answered 409).
        let dead = wait_for(60, "only a dead letter left", || {
            let rows = outbox_rows(&dep, false);
            (!rows.is_empty() && rows.iter().all(|r| r["state"] == "failed")).then_some(rows)
        });
        assert_eq!(
            dead.len(),
            1,
            "{backend:?}: only the dead letter is left: {dead:?}"
        );
        assert_eq!(dead[0]["kind"], "platform_12345");
        assert_eq!(dead[0]["attempts"], 4);
        assert!(
            dead[0]["dedup_key"].as_str().unwrap().contains(ORDER_DEAD),
            "{dead:?}"
        );
        assert!(
            dead[0]["last_error"].as_str().unwrap().contains("500"),
            "{dead:?}"
        );
        let done = outbox_rows(&dep, true)
            .iter()
            .filter(|r| r["state"] == "done" && r["kind"] == "platform_12345")
            .count();
        assert_eq!(done, expected_a.len() + 1);

        // The platform also reads them, identity masked, scoped.
        let read = get(
            &c,
            &server.url("/api/v1/channels/12345/replies?since=0"),
            &officer,
        );
        let list = read["replies"].as_array().unwrap();
        assert_eq!(list.len(), expected_a.len() + 2, "{read}");
        assert!(!read.to_string().contains(CALLER), "{read}");
        let (code, out, _) = dep.run(&["outbox", "send", "--once"], "");
        assert_eq!(code, 4, "a dead letter is reported by send --once: {out}");
    }
}

fn queue_row(c: &Client, url: &str, token: &str, case_id: i64) -> Value {
    let queue = get(c, url, token);
    queue["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == case_id)
        .cloned()
        .unwrap_or_else(|| panic!("case {case_id} not in the queue: {queue}"))
}

#[test]
fn an_extension_is_requested_decided_by_a_leader_and_moves_the_deadlines() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        std::fs::write(
            dep.data().join("tipline.toml"),
            "[triage]\nhome = \"210300\"\n",
        )
        .unwrap();
        let officer = dep.token("tiedong", "officer", "210302");
        let leader = dep.token("anshan.leader", "leader", "210300");
        let other_leader = dep.token("tiexi.leader", "leader", "210303");
        let server = dep.serve();
        let c = Client::new();
        // Thursday 26 September 2024: first contact due in 3 working days (Sunday 29th is worked).
        let (status, ack) = post(
            &c,
            &server.url("/api/v1/reports"),
            &officer,
            &json!({"channel": "web_form", "external_id": "ext-1", "received_at": "2024-09-26T09:00:00+08:00",
                "text": "鞍山市铁东区宏远安全技术培训学校低压电工培训只上了一天课，学时记录全是补的。"}),
        );
        assert_eq!(status, 201, "{ack}");
        let id = ack["case_id"].as_i64().unwrap();
        let (status, _) = post(
            &c,
            &server.url(&format!("/api/v1/cases/{id}/transitions")),
            &officer,
            &json!({"action": "sign_for"}),
        );
        assert_eq!(status, 200);
        let queue_url = server.url("/api/v1/queue");
        let row = queue_row(&c, &queue_url, &officer, id);
        assert_eq!(row["due_at"], "2024-09-30T10:00:00Z", "{row}");
        assert!(row["extension"].is_null());

        let ext_url = server.url(&format!("/api/v1/cases/{id}/extensions"));
        let (status, err) = post(&c, &ext_url, &officer, &json!({"days": 0, "reason": "x"}));
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("bad_days")),
            "{err}"
        );
        let (status, err) = post(&c, &ext_url, &officer, &json!({"days": 3, "reason": " "}));
        assert_eq!(status, 400, "a reason is required: {err}");
        let (status, err) = post(&c, &ext_url, &leader, &json!({"days": 3, "reason": "x"}));
        assert_eq!(status, 403, "a leader does not ask: {err}");
        let (status, ext) = post(
            &c,
            &ext_url,
            &officer,
            &json!({"days": 3, "reason": "国庆假期，企业停工，无法现场核查"}),
        );
        assert_eq!(
            (status, ext["n"].as_i64()),
            (201, Some(1)),
            "{backend:?}: {ext}"
        );
        let (status, err) = post(
            &c,
            &ext_url,
            &officer,
            &json!({"days": 2, "reason": "再次申请"}),
        );
        assert_eq!(
            (status, err["code"].as_str()),
            (409, Some("extension_conflict")),
            "{err}"
        );
        assert!(err["message"].as_str().unwrap().contains("待审批"), "{err}");
        let row = queue_row(&c, &queue_url, &officer, id);
        assert_eq!(row["extension"]["state"], "pending", "{row}");
        assert_eq!(row["extension"]["state_label"], "待审批");

        let decide = server.url(&format!("/api/v1/cases/{id}/extensions/1/decision"));
        let (status, _) = post(&c, &decide, &officer, &json!({"approve": true}));
        assert_eq!(status, 403, "an officer does not decide");
        let (status, _) = post(&c, &decide, &other_leader, &json!({"approve": true}));
        assert_eq!(status, 404, "another county's leader does not see the case");
        let (status, _) = post(
            &c,
            &server.url(&format!("/api/v1/cases/{id}/extensions/9/decision")),
            &leader,
            &json!({"approve": true}),
        );
        assert_eq!(status, 404);
        let (status, decided) = post(
            &c,
            &decide,
            &leader,
            &json!({"approve": true, "reason": "同意"}),
        );
        assert_eq!(status, 200, "{backend:?}: {decided}");
        assert_eq!(decided["extension"]["state"], "approved");
        // 30 September + 3 working days, over 国庆 (1–7 October): Thursday 10 October.
        assert_eq!(
            decided["case"]["due_at"], "2024-10-10T10:00:00Z",
            "{decided}"
        );
        let (status, err) = post(
            &c,
            &decide,
            &leader,
            &json!({"approve": false, "reason": "x"}),
        );
        assert_eq!(
            (status, err["code"].as_str()),
            (409, Some("extension_conflict"))
        );
        let row = queue_row(&c, &queue_url, &officer, id);
        assert_eq!(
            (row["extension"]["state"].as_str(), row["due_at"].as_str()),
            (Some("approved"), Some("2024-10-10T10:00:00Z"))
        );

        // A second request, denied: the deadline stays.
        let (status, ext) = post(
            &c,
            &ext_url,
            &officer,
            &json!({"days": 5, "reason": "当事人不配合"}),
        );
        assert_eq!((status, ext["n"].as_i64()), (201, Some(2)));
        let decide2 = server.url(&format!("/api/v1/cases/{id}/extensions/2/decision"));
        let (status, _) = post(&c, &decide2, &leader, &json!({"approve": false}));
        assert_eq!(status, 400, "a denial says why");
        let (status, decided) = post(
            &c,
            &decide2,
            &leader,
            &json!({"approve": false, "reason": "时限内可以完成"}),
        );
        assert_eq!(status, 200, "{decided}");
        assert_eq!(decided["case"]["due_at"], "2024-10-10T10:00:00Z");
        let list = get(&c, &ext_url, &officer);
        let states: Vec<&str> = list["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["approved", "denied"]);
        let case = get(&c, &server.url(&format!("/api/v1/cases/{id}")), &officer);
        let kinds = event_kinds(&case);
        for k in [
            "case.extension_requested",
            "case.extension_approved",
            "case.extension_denied",
        ] {
            assert!(kinds.contains(&k), "{k} in {kinds:?}");
        }
        let approved = event_of(&case, "case.extension_approved");
        assert_eq!(approved["actor"], "anshan.leader");
        assert_eq!(approved["data"]["due_after"], "2024-10-10T10:00:00Z");

        let api = get(&c, &server.url("/api/v1/openapi.json"), &officer);
        for path in [
            "/api/v1/cases/{id}/extensions",
            "/api/v1/cases/{id}/extensions/{n}/decision",
            "/api/v1/channels/12345/replies",
        ] {
            assert!(
                api["paths"][path].is_object(),
                "{path} in the OpenAPI document"
            );
        }

        // A closed matter has no deadline to extend.
        let case_url = server.url(&format!("/api/v1/cases/{id}/transitions"));
        let (status, _) = post(
            &c,
            &case_url,
            &officer,
            &json!({"action": "transfer", "to": "市场监管局", "reason": "不属本部门职责"}),
        );
        assert_eq!(status, 200);
        // The event keeps where the case went beside the state it reached.
        let case = get(&c, &server.url(&format!("/api/v1/cases/{id}")), &officer);
        let transfer = &event_of(&case, "case.transfer")["data"];
        assert_eq!(transfer["transfer_to"], "市场监管局", "{transfer}");
        assert_eq!(transfer["to"], "transferred", "{transfer}");
        let (status, err) = post(&c, &ext_url, &officer, &json!({"days": 1, "reason": "x"}));
        assert_eq!(status, 409, "{err}");
        assert!(err["message"].as_str().unwrap().contains("已转办"), "{err}");
    }
}

/// A 12345 export as the platform writes it: a title row, then the headings.
fn write_xlsx(path: &std::path::Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    sheet
        .write_string(0, 0, "鞍山市12345政务服务便民热线工单导出（2024年5月）")
        .unwrap();
    let headings = [
        "工单编号",
        "工单标题",
        "来电时间",
        "来电人",
        "联系电话",
        "诉求内容",
        "问题地址",
        "办理时限",
        "承办单位",
        "诉求类型",
        "满意度",
    ];
    for (i, h) in headings.iter().enumerate() {
        sheet.write_string(1, i as u16, *h).unwrap();
    }
    // Row 3: a date cell, a date-only deadline.
    sheet.write_string(2, 0, "GD-XLS-0001").unwrap();
    sheet.write_string(2, 1, "反映培训学校包过").unwrap();
    sheet
        .write_datetime_with_format(
            2,
            2,
            &ExcelDateTime::parse_from_str("2024-05-06 10:00:00").unwrap(),
            &date,
        )
        .unwrap();
    sheet.write_string(2, 3, CALLER).unwrap();
    sheet.write_number(2, 4, 13912340001.0).unwrap();
    sheet
        .write_string(
            2,
            5,
            "鞍山市铁东区宏远安全技术培训学校办高处作业证包过班，交钱不用上课。",
        )
        .unwrap();
    sheet.write_string(2, 6, "鞍山市铁东区").unwrap();
    sheet.write_string(2, 7, "2024-05-16").unwrap();
    sheet.write_string(2, 8, "鞍山市应急管理局").unwrap();
    sheet.write_string(2, 9, "举报投诉").unwrap();
    sheet.write_string(2, 10, "满意").unwrap();
    // Row 4: a numeric order number, a deadline in working days.
    sheet.write_number(3, 0, 2024050700002.0).unwrap();
    sheet.write_string(3, 2, "2024-05-07 09:30").unwrap();
    sheet
        .write_string(3, 5, "鞍山市铁东区某化工厂让没有焊工证的人上岗焊接。")
        .unwrap();
    sheet.write_string(3, 7, "5个工作日").unwrap();
    // Row 5: no order number; row 6: an unreadable time.
    sheet.write_string(4, 2, "2024-05-07 09:30").unwrap();
    sheet.write_string(4, 5, "没有编号的工单").unwrap();
    sheet.write_string(5, 0, "GD-XLS-0004").unwrap();
    sheet.write_string(5, 2, "昨天下午").unwrap();
    sheet.write_string(5, 5, "时间不对的工单").unwrap();
    book.save(path).unwrap();
}

fn write_gbk_csv(path: &std::path::Path) {
    let text = "工单号,受理时间,联系人,来电号码,工单内容,事发地址,办结时限\r\n\
                GD-CSV-0001,2024/5/8 14:20,李某,13800002222,鞍山市铁东区金盾职业培训学校考场监考离场，考生拿手机查答案。,鞍山市铁东区,2024-05-20 18:00\r\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really GBK");
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_platforms_excel_and_gbk_csv_exports_are_imported_once() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let xlsx = dep.data().join("orders.xlsx");
        let csv = dep.data().join("orders-gbk.csv");
        write_xlsx(&xlsx);
        write_gbk_csv(&csv);
        let (code, out, err) = dep.run(
            &["import", xlsx.to_str().unwrap(), csv.to_str().unwrap()],
            "",
        );
        assert_eq!(code, 3, "{backend:?}: rejected rows: exit 3: {out} {err}");
        assert!(out.contains("3 new") && out.contains("2 rejected"), "{out}");
        assert!(
            out.contains("orders.xlsx:5") && out.contains("工单编号"),
            "{out}"
        );
        assert!(
            out.contains("orders.xlsx:6") && out.contains("昨天下午"),
            "{out}"
        );
        assert_eq!(
            out.matches("满意度").count(),
            1,
            "unknown columns listed once: {out}"
        );

        let rows = export(&dep);
        let by_id: HashMap<&str, &Value> = rows
            .iter()
            .map(|r| (r["external_id"].as_str().unwrap(), r))
            .collect();
        assert_eq!(by_id.len(), 3, "{rows:?}");
        let first = by_id["GD-XLS-0001"];
        assert_eq!(first["channel"], "hotline_12345");
        assert_eq!(first["received_at"], "2024-05-06T10:00:00+08:00");
        assert_eq!(first["title"], "反映培训学校包过");
        assert_eq!(
            first["deadlines"]["reply"], "2024-05-16T18:00:00+08:00",
            "{first}"
        );
        assert_eq!(first["deadlines"]["reply_from_channel"], true);
        assert_eq!(first["locus"], "210302");
        assert!(
            !first.to_string().contains(CALLER),
            "no identity in the export"
        );
        // 5 working days from Tuesday 7 May 2024 (Saturday 11 May worked): Monday 13 May.
        assert_eq!(
            by_id["2024050700002"]["deadlines"]["reply"],
            "2024-05-13T18:00:00+08:00"
        );
        let from_csv = by_id["GD-CSV-0001"];
        assert_eq!(from_csv["received_at"], "2024-05-08T14:20:00+08:00");
        assert!(
            from_csv["text"]
                .as_str()
                .unwrap()
                .contains("金盾职业培训学校"),
            "GBK decoded: {from_csv}"
        );
        assert_eq!(from_csv["deadlines"]["reply"], "2024-05-20T18:00:00+08:00");
        let (code, out, _) = dep.run(&["export", "--format", "jsonl", "--with-identity"], "");
        assert_eq!(code, 0);
        assert!(
            out.contains(CALLER) && out.contains("13912340001"),
            "the caller is kept, apart: {out}"
        );

        // Again: nothing new, every order re-sent.
        let (code, out, _) = dep.run(
            &["import", xlsx.to_str().unwrap(), csv.to_str().unwrap()],
            "",
        );
        assert_eq!(code, 3);
        assert!(
            out.contains("0 new") && out.contains("3 re-sent"),
            "{backend:?}: {out}"
        );
        assert_eq!(export(&dep).len(), 3);
    }
}

#[test]
fn a_spreadsheet_without_an_order_number_column_is_refused_whole() {
    let dep = Deployment::new(Backend::Sqlite);
    let csv = dep.data().join("not-orders.csv");
    std::fs::write(&csv, "姓名,电话\n张三,13900000000\n").unwrap();
    let (code, out, _) = dep.run(&["import", csv.to_str().unwrap()], "");
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("not-orders.csv:1") && out.contains("工单编号"),
        "{out}"
    );
}
