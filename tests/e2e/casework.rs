//! The case's state machine over HTTP: legal steps, illegal ones (409 naming the state), two
//! officers at once (If-Match), and a closed matter reported again opening a new case.

use crate::helpers::{backends, event_kinds, event_of, Deployment};
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn step(c: &Client, url: &str, token: &str, version: Option<i64>, body: Value) -> (u16, Value) {
    let mut req = c.post(url).bearer_auth(token).json(&body);
    if let Some(v) = version {
        req = req.header("If-Match", format!("\"{v}\""));
    }
    let r = req.send().expect("request");
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

#[test]
fn a_case_goes_from_routed_to_closed_and_refuses_illegal_steps() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let token = dep.token("officer", "officer", "210302");
        let server = dep.serve();
        let c = Client::new();
        let report = json!({"channel": "web_form", "external_id": "cw-1", "received_at": "2024-05-06T09:00:00+08:00",
            "reporter": {"phone": "13904125566"},
            "text": "鞍山市铁东区宏远安全技术培训学校低压电工培训只上了一天课，学时记录全是补的。"});
        let ack: Value = c
            .post(server.url("/api/v1/reports"))
            .bearer_auth(&token)
            .json(&report)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let case_id = ack["case_id"].as_i64().unwrap();
        let url = server.url(&format!("/api/v1/cases/{case_id}/transitions"));

        // The officer's queue: the case is there, due for sign-for, in scope only.
        let queue: Value = c
            .get(server.url("/api/v1/queue"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(queue["total"], 1, "{queue}");
        assert_eq!(queue["counts"]["routed"], 1, "{queue}");
        let row = &queue["cases"][0];
        assert_eq!(
            (row["case_id"].as_i64(), row["state_label"].as_str()),
            (Some(case_id), Some("已分派"))
        );
        assert!(
            row["due_at"]
                .as_str()
                .is_some_and(|d| d.starts_with("2024-05-07")),
            "sign-for: 1 working day: {row}"
        );
        assert_eq!(row["overdue"], true, "{row}");
        let none: Value = c
            .get(server.url("/api/v1/queue?category=F2"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(none["total"], 0);
        let other = dep.token("tiexi", "officer", "210303");
        let theirs: Value = c
            .get(server.url("/api/v1/queue"))
            .bearer_auth(&other)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            theirs["total"], 0,
            "another county's queue does not hold it"
        );

        let (status, err) = step(&c, &url, &token, None, json!({"action": "close"}));
        assert_eq!(status, 409, "{backend:?}: {err}");
        assert_eq!(err["code"], "illegal_transition");
        assert!(
            err["message"].as_str().unwrap().contains("已分派"),
            "the message names the state: {err}"
        );
        let (status, _) = step(&c, &url, &token, None, json!({"action": "send_back"}));
        assert_eq!(status, 400, "a send-back needs a reason");
        let (status, _) = step(&c, &url, &token, None, json!({"action": "fly"}));
        assert_eq!(status, 400);

        // Two officers saw version 1; the first signs for it, the second loses with a 409.
        let (status, case) = step(&c, &url, &token, Some(1), json!({"action": "sign_for"}));
        assert_eq!(status, 200, "{case}");
        assert_eq!(
            (case["state"].as_str(), case["version"].as_i64()),
            (Some("signed_for"), Some(2))
        );
        let (status, err) = step(
            &c,
            &url,
            &token,
            Some(1),
            json!({"action": "send_back", "reason": "不属本辖区"}),
        );
        assert_eq!(
            (status, err["code"].as_str()),
            (409, Some("version_conflict")),
            "{err}"
        );

        let queue: Value = c
            .get(server.url("/api/v1/queue?state=signed_for"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(
            queue["cases"][0]["due_at"]
                .as_str()
                .is_some_and(|d| d.starts_with("2024-05-09")),
            "first contact: 3 working days: {queue}"
        );
        let mut version = 2;
        for body in [
            json!({"action": "start_verification"}),
            json!({"action": "record_finding", "finding": "属实", "text": "经查，该校压缩学时、补记学时记录属实。"}),
            json!({"action": "record_actions", "actions": [{"kind": "限期改正"}, {"kind": "罚款", "amount_wan": 3.5}]}),
            json!({"action": "record_rectification", "status": "已完成整改"}),
            json!({"action": "reply", "text": "您反映的问题经查属实，已责令整改并处罚款。"}),
            json!({"action": "close"}),
        ] {
            let (status, case) = step(&c, &url, &token, Some(version), body.clone());
            assert_eq!(status, 200, "{backend:?} {body}: {case}");
            version = case["version"].as_i64().unwrap();
        }
        let case: Value = c
            .get(server.url(&format!("/api/v1/cases/{case_id}")))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(case["case"]["state"], "closed");
        let kinds = event_kinds(&case);
        for k in [
            "case.sign_for",
            "case.record_finding",
            "case.record_actions",
            "case.close",
        ] {
            assert!(kinds.contains(&k), "{k} in {kinds:?}");
        }
        let fine = event_of(&case, "case.record_actions");
        assert_eq!(fine["data"]["actions"][1]["amount_wan"], 3.5);
        assert_eq!(fine["actor"], "officer");

        // A 12345 order: the platform reads the answers back (签收 … 办结回复).
        let order = json!({"order_no": "GD20240506000777", "created_at": "2024-05-06T10:00:00+08:00",
            "caller": {"name": "张先生", "phone": "13904125500"},
            "content": "市民来电反映：鞍山市铁东区某安全生产考试点监考人员离开考场，考生用手机查答案。诉求：请核查。",
            "location": "鞍山市铁东区", "deadline": "2024-05-16T18:00:00+08:00"});
        let ack_order: Value = c
            .post(server.url("/api/v1/channels/12345/orders"))
            .bearer_auth(&token)
            .json(&order)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let order_case = ack_order["case_id"].as_i64().unwrap();
        let manager = dep.token("anshan", "officer", "210300");
        let order_url = server.url(&format!("/api/v1/cases/{order_case}/transitions"));
        let (status, _) = step(
            &c,
            &order_url,
            &manager,
            None,
            json!({"action": "sign_for"}),
        );
        assert_eq!(status, 200);
        let (status, _) = step(
            &c,
            &order_url,
            &manager,
            None,
            json!({"action": "start_verification"}),
        );
        assert_eq!(status, 200);
        let (status, _) = step(
            &c,
            &order_url,
            &manager,
            None,
            json!({"action": "record_finding", "finding": "不属实", "text": "经查不属实"}),
        );
        assert_eq!(status, 200);
        let (status, _) = step(
            &c,
            &order_url,
            &manager,
            None,
            json!({"action": "reply", "text": "经核查，反映问题不属实。"}),
        );
        assert_eq!(status, 200);
        let replies: Value = c
            .get(server.url("/api/v1/channels/12345/replies?since=0"))
            .bearer_auth(&manager)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let steps: Vec<&str> = replies["replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["signed_for", "replied"], "{replies}");
        assert_eq!(replies["replies"][1]["order_no"], "GD20240506000777");
        assert!(
            replies["replies"][1]["handler_unit"]
                .as_str()
                .unwrap()
                .ends_with("鞍山市应急管理局"),
            "{replies}"
        );
        let next = replies["next_since"].as_i64().unwrap();
        let later: Value = c
            .get(server.url(&format!("/api/v1/channels/12345/replies?since={next}")))
            .bearer_auth(&manager)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(later["replies"].as_array().unwrap().len(), 0);

        // The same matter reported again half a year later: a new case (the old one is closed).
        let again = json!({"channel": "web_form", "external_id": "cw-2", "received_at": "2024-11-06T09:00:00+08:00",
            "reporter": {"phone": "13904125566"},
            "text": "鞍山市铁东区宏远安全技术培训学校又在压缩学时，低压电工培训只上一天课，学时记录都是补的。"});
        let ack2: Value = c
            .post(server.url("/api/v1/reports"))
            .bearer_auth(&token)
            .json(&again)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_ne!(
            ack2["case_id"], ack["case_id"],
            "{backend:?}: a closed case is not reopened by a new report"
        );
        // And after a restart (the duplicate index is rebuilt, closed cases included).
        server.kill();
        let server = dep.serve();
        let third = json!({"channel": "email", "external_id": "<cw-3@x>", "received_at": "2024-11-07T09:00:00+08:00",
            "text": "铁东区宏远安全技术培训学校压缩学时，学时记录造假。"});
        let ack3: Value = c
            .post(server.url("/api/v1/reports"))
            .bearer_auth(&token)
            .json(&third)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_ne!(ack3["case_id"], ack["case_id"], "{backend:?}: {ack3}");
    }
}

#[test]
fn an_anonymous_web_reporter_follows_the_case_with_a_receipt_code() {
    let dep = Deployment::new(crate::helpers::Backend::Sqlite);
    let token = dep.token("web", "officer", "210302");
    let server = dep.serve();
    let c = Client::new();
    let report = json!({"channel": "web_form", "external_id": "rc-1", "received_at": "2024-05-06T09:00:00+08:00",
        "reporter": {"anonymous": true}, "text": "鞍山市铁东区某安全技术培训学校培训档案造假，签到表代签。"});
    let r = c
        .post(server.url("/api/v1/reports"))
        .bearer_auth(&token)
        .json(&report)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let ack: Value = r.json().unwrap();
    let code = ack["receipt_code"]
        .as_str()
        .expect("a receipt code for an anonymous web reporter")
        .to_string();
    assert_eq!(code.len(), 16);
    // Shown once: a re-send does not show it again.
    let again: Value = c
        .post(server.url("/api/v1/reports"))
        .bearer_auth(&token)
        .json(&report)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(again.get("receipt_code").is_none());

    let case_id = ack["case_id"].as_i64().unwrap();
    let url = server.url(&format!("/api/v1/cases/{case_id}/transitions"));
    for body in [
        json!({"action": "sign_for"}),
        json!({"action": "start_verification"}),
        json!({"action": "record_finding", "finding": "属实", "text": "内部核查记录"}),
        json!({"action": "reply", "text": "经查属实，已责令整改。"}),
    ] {
        assert_eq!(step(&c, &url, &token, None, body).0, 200);
    }
    // No token needed: the code is the key; the state and the reply, not internal notes.
    let view: Value = c
        .get(server.url(&format!("/api/v1/receipts/{}", code.to_lowercase())))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(view["state_label"], "已反馈", "{view}");
    assert_eq!(view["replies"][0]["text"], "经查属实，已责令整改。");
    assert!(!view.to_string().contains("内部核查记录"));
    let r = c
        .post(server.url(&format!("/api/v1/receipts/{code}")))
        .json(&json!({"text": "补充：他们下周还要开班。"}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let case: Value = c
        .get(server.url(&format!("/api/v1/cases/{case_id}")))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(case["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "case.reporter_added"));
    // Guessing is refused, then rate limited.
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(
            c.get(server.url("/api/v1/receipts/AAAAAAAAAAAAAAAA"))
                .send()
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses[0], 404);
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
}
