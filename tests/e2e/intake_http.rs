//! HTTP intake on all three endpoints, idempotency, errors, and data surviving a restart.

use crate::helpers::{backends, Deployment};
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn post(client: &Client, url: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().expect("request");
    let status = resp.status().as_u16();
    let value = resp.json::<Value>().unwrap_or(Value::Null);
    (status, value)
}

#[test]
fn http_intake_is_durable_and_idempotent() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let token = dep.token("op1", "operator", "210300");
        let server = dep.serve();
        let client = Client::new();
        let body = json!({"channel": "web_form", "external_id": "bars-1", "received_at": "2024-05-06T09:12:00+08:00",
            "reporter": {"name": "王小明", "phone": "139 0412 5566"},
            "text": "鞍山市铁东区恒安培训学校办包过班，交３８００元不用上课就能拿电工证。"})
        .to_string();
        let (status, first) = post(&client, &server.url("/api/v1/reports"), Some(&token), &body);
        assert_eq!(status, 201, "{backend:?}: {first}");
        assert!(
            first["case_no"]
                .as_str()
                .is_some_and(|c| c.starts_with("TL2024")),
            "{first}"
        );
        let (status, again) = post(&client, &server.url("/api/v1/reports"), Some(&token), &body);
        assert_eq!(status, 200, "{backend:?}: a re-send answers 200");
        assert_eq!(
            again["report_id"], first["report_id"],
            "a re-send returns the first report"
        );

        let (status, err) = post(&client, &server.url("/api/v1/reports"), None, &body);
        assert_eq!(status, 401);
        assert_eq!(err["code"], "unauthorized");
        let (status, err) = post(
            &client,
            &server.url("/api/v1/reports"),
            Some("tl_wrong"),
            &body,
        );
        assert_eq!(status, 401, "{err}");
        let (status, err) = post(
            &client,
            &server.url("/api/v1/reports"),
            Some(&token),
            r#"{"channel":"web_form"}"#,
        );
        assert_eq!(status, 400);
        assert_eq!(err["code"], "missing_field");
        assert!(
            err["message"].as_str().unwrap().contains("external_id")
                && err["message_en"].is_string()
        );
        let (status, err) = post(
            &client,
            &server.url("/api/v1/reports"),
            Some(&token),
            "{not json",
        );
        assert_eq!(status, 400, "{err}");
        let bad_channel = json!({"channel": "fax", "external_id": "x", "received_at": "2024-05-06T09:12:00+08:00", "text": "t"});
        let (status, err) = post(
            &client,
            &server.url("/api/v1/reports"),
            Some(&token),
            &bad_channel.to_string(),
        );
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("unknown_channel"))
        );
        let huge = json!({"channel": "web_form", "external_id": "big", "received_at": "2024-05-06T09:12:00+08:00",
            "text": "大".repeat(1_000_000)});
        let (status, err) = post(
            &client,
            &server.url("/api/v1/reports"),
            Some(&token),
            &huge.to_string(),
        );
        assert_eq!(status, 413, "{err}");

        let order = json!({"order_no": "GD20240506000123", "created_at": "2024-05-06T10:00:00+08:00",
            "caller": {"name": "张先生", "phone": "13904125566"},
            "content": "市民来电反映：泰安市岱岳区某考试点实操考试只问几个问题就算通过。诉求：请核查。",
            "location": "泰安市岱岳区", "category": "安全生产", "deadline": "2024-05-16T18:00:00+08:00",
            "dispatch_unit": "泰安市应急管理局"});
        let (status, order_ack) = post(
            &client,
            &server.url("/api/v1/channels/12345/orders"),
            Some(&token),
            &order.to_string(),
        );
        assert_eq!(status, 201, "{order_ack}");
        let (status, _) = post(
            &client,
            &server.url("/api/v1/channels/12345/orders"),
            Some(&token),
            &order.to_string(),
        );
        assert_eq!(status, 200, "order_no is the idempotency key");
        let call = json!({"call_id": "C-1", "caller_number": "0412-5892213", "caller_name": null, "anonymous": true,
            "started_at": "2024-05-06T11:00:00+08:00", "notes": "来电人反映海城市某化工厂电焊工无证上岗。",
            "categories": ["P2"]});
        let (status, call_ack) = post(
            &client,
            &server.url("/api/v1/channels/12350/calls"),
            Some(&token),
            &call.to_string(),
        );
        assert_eq!(status, 201, "{call_ack}");
        let bad_call = json!({"call_id": "C-2", "started_at": "2024-05-06T11:00:00+08:00", "notes": "x", "categories": ["Z9"]});
        let (status, err) = post(
            &client,
            &server.url("/api/v1/channels/12350/calls"),
            Some(&token),
            &bad_call.to_string(),
        );
        assert_eq!(status, 400, "{err}");

        for (name, path) in [
            ("healthz", "/healthz"),
            ("readyz", "/readyz"),
            ("openapi", "/api/v1/openapi.json"),
        ] {
            let resp = client.get(server.url(path)).send().expect(name);
            assert_eq!(resp.status().as_u16(), 200, "{name}");
        }
        let metrics = client
            .get(server.url("/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            metrics.contains("tipline_reports_total{outcome=\"new\"} 3"),
            "{metrics}"
        );

        server.kill();
        let server = dep.serve();
        let id = first["report_id"].as_i64().unwrap();
        let resp = client
            .get(server.url(&format!("/api/v1/reports/{id}")))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let text = resp.text().unwrap();
        assert!(text.contains("恒安"), "the report read back has its text");
        assert!(
            !text.contains("王小明") && !text.contains("13904125566"),
            "no reporter identity in a report read"
        );
        let case_id = call_ack["case_id"].as_i64().unwrap();
        let case: Value = client
            .get(server.url(&format!("/api/v1/cases/{case_id}")))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(case["case"]["id"], case_id);
        assert_eq!(case["reports"].as_array().unwrap().len(), 1);
        // The event shows the report's decisions, which are stored once, on the report's row.
        let received = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "report.received")
            .expect("a report.received event");
        assert!(received["data"]["locus"].is_object(), "{received}");
        assert!(
            received["data"]["routing"]["reasons"].is_array(),
            "{received}"
        );
        assert!(received["data"]["extraction"].is_object(), "{received}");
        let resp = client
            .get(server.url("/api/v1/reports/999999"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404);
        let resp = client
            .get(server.url("/api/v1/reports/abc"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404);
    }
}

/// The writer decides a batch while the one before commits: a re-send or the same message whose
/// first copy is still in the batch being committed must get that report's answer (its case
/// number included), and nothing is stored twice. Small batches and many concurrent clients make
/// the copies land in the batch after their first.
#[test]
fn copies_across_batches_in_flight_get_the_first_reports_answer() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        std::fs::write(dep.data().join("tipline.toml"), "max_batch = 3\n").unwrap();
        let token = dep.token("op1", "operator", "210300");
        let server = dep.serve();
        let url = server.url("/api/v1/reports");
        let originals: Vec<String> = (0..48)
            .map(|i| {
                json!({"channel": "web_form", "external_id": format!("flight-{i}"),
                    "received_at": "2024-05-06T09:12:00+08:00",
                    "reporter": {"phone": format!("1390412{i:04}")},
                    "text": format!("鞍山市铁东区第{i}号培训点办包过班，交钱不用上课就能拿证，编号{i}。")})
                .to_string()
            })
            .collect();
        // Each original is followed at once by its re-send and by the same message under
        // another id, from other threads.
        let answers: Vec<(usize, &'static str, u16, Value)> = std::thread::scope(|scope| {
            let mut handles = Vec::new();
            for (i, body) in originals.iter().enumerate() {
                let same_message =
                    body.replace(&format!("flight-{i}\""), &format!("flight-copy-{i}\""));
                for (what, body) in [
                    ("first", body.clone()),
                    ("resend", body.clone()),
                    ("copy", same_message),
                ] {
                    let (url, token) = (url.clone(), token.clone());
                    handles.push(scope.spawn(move || {
                        let (status, value) = post(&Client::new(), &url, Some(&token), &body);
                        (i, what, status, value)
                    }));
                }
            }
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for i in 0..originals.len() {
            let of = |what: &str| {
                answers
                    .iter()
                    .find(|a| a.0 == i && a.1 == what)
                    .map(|a| (a.2, a.3.clone()))
                    .unwrap()
            };
            let ((s1, a1), (s2, a2), (s3, a3)) = (of("first"), of("resend"), of("copy"));
            // Whichever arrived first is the one stored; the others answer 200 with it.
            let mut statuses = [s1, s2, s3];
            statuses.sort();
            assert_eq!(
                statuses,
                [200, 200, 201],
                "{backend:?} #{i}: {a1} {a2} {a3}"
            );
            for a in [&a2, &a3] {
                assert_eq!(
                    a["report_id"], a1["report_id"],
                    "{backend:?} #{i}: {a1} {a}"
                );
                assert_eq!(a["case_no"], a1["case_no"], "{backend:?} #{i}: {a1} {a}");
                assert!(a["case_no"].as_str().is_some_and(|n| !n.is_empty()), "{a}");
            }
        }
        drop(server);
        let exported = crate::helpers::export(&dep);
        assert_eq!(
            exported.len(),
            originals.len(),
            "{backend:?}: one report per original, nothing twice"
        );
    }
}
