//! Every read is scoped to the user's jurisdiction subtree; out of scope reads 404.

use crate::helpers::{backends, Deployment};
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn get(c: &Client, url: &str, token: &str) -> (u16, Value) {
    let r = c.get(url).bearer_auth(token).send().expect("request");
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

#[test]
fn users_see_their_subtree_only() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let operator = dep.token("op", "operator", "370000");
        let tiedong = dep.token("tiedong", "officer", "210302");
        let tiexi = dep.token("tiexi", "officer", "210303");
        let anshan = dep.token("anshan", "leader", "210300");
        let server = dep.serve();
        let c = Client::new();
        let r = c
            .post(server.url("/api/v1/reports"))
            .bearer_auth(&operator)
            .json(&json!({"channel": "hotline_12350", "external_id": "S-1",                 "received_at": "2024-04-01T09:00:00+08:00",
                "reporter": {"name": "李秘密", "phone": "13912345678"},
                "text": "来电人反映鞍山市铁东区宏达安全技术培训学校培训档案造假，签到表都是代签的。"}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let ack: Value = r.json().unwrap();
        let (report, case) = (
            ack["report_id"].as_i64().unwrap(),
            ack["case_id"].as_i64().unwrap(),
        );

        for (who, token, sees) in [
            ("tiedong", &tiedong, true),
            ("anshan", &anshan, true),
            ("tiexi", &tiexi, false),
        ] {
            let want = if sees { 200 } else { 404 };
            assert_eq!(
                get(&c, &server.url(&format!("/api/v1/reports/{report}")), token).0,
                want,
                "{backend:?} {who} report"
            );
            assert_eq!(
                get(&c, &server.url(&format!("/api/v1/cases/{case}")), token).0,
                want,
                "{backend:?} {who} case"
            );
            assert_eq!(
                get(
                    &c,
                    &server.url("/api/v1/subjects/宏达安全技术培训学校"),
                    token
                )
                .0,
                want,
                "{who} subject"
            );
            let mut total = 0;
            for _ in 0..50 {
                let (status, body) = get(&c, &server.url("/api/v1/search?q=档案"), token);
                assert_eq!(status, 200);
                total = body["total"].as_u64().unwrap();
                if total > 0 || !sees {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            assert_eq!(total, u64::from(sees), "{backend:?} {who} search");
            let (_, body) = get(&c, &server.url("/api/v1/search?q=档案&place=21"), token);
            assert_eq!(
                body["total"].as_u64().unwrap(),
                u64::from(sees),
                "{who}: a broader place does not widen the scope"
            );
        }
        // The operator who logged it reads its report, but not the case outside its jurisdiction.
        assert_eq!(
            get(
                &c,
                &server.url(&format!("/api/v1/reports/{report}")),
                &operator
            )
            .0,
            200
        );
        assert_eq!(
            get(&c, &server.url(&format!("/api/v1/cases/{case}")), &operator).0,
            404
        );
        let r = c
            .post(server.url(&format!("/api/v1/cases/{case}/split")))
            .bearer_auth(&tiexi)
            .json(&json!({"report_ids": [report], "reason": "x"}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "no write out of scope either");

        // Identity: shown to an officer of the handling jurisdiction who gives a reason, audited.
        let reveal = |token: &str, reason: &str| {
            let r = c
                .post(server.url(&format!("/api/v1/reports/{report}/reveal")))
                .bearer_auth(token)
                .json(&json!({"reason": reason}))
                .send()
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().unwrap_or(Value::Null),
            )
        };
        assert_eq!(reveal(&tiedong, "").0, 400, "a reason is required");
        assert_eq!(reveal(&anshan, "核实").0, 403, "a leader sees no identity");
        assert_eq!(reveal(&tiexi, "核实").0, 404, "out of scope: not found");
        let (status, shown) = reveal(&tiedong, "需电话联系举报人核实细节");
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["reporter"]["name"], "李秘密");
        let (_, report_json) = get(
            &c,
            &server.url(&format!("/api/v1/reports/{report}")),
            &tiedong,
        );
        assert!(
            !report_json.to_string().contains("李秘密"),
            "reads without the act carry no identity"
        );
        server.kill();
        let (code, out, _) = dep.run(&["audit"], "");
        assert_eq!(code, 0);
        assert!(
            out.contains("reveal_identity")
                && out.contains("需电话联系举报人核实细节")
                && out.contains("tiedong"),
            "{out}"
        );
        assert!(out.contains("\"search\""), "searches are audited: {out}");
        assert!(
            !out.contains("李秘密") && !out.contains("13912345678"),
            "the audit log carries no identity"
        );
    }
}
