//! Duplicates as one case, the officer's merge and split, a subject's history, and search over
//! HTTP and the command line.

use crate::helpers::{backends, Deployment};
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn post(client: &Client, url: &str, token: &str, body: Value) -> (u16, Value) {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .expect("request");
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

fn get(client: &Client, url: &str, token: &str) -> (u16, Value) {
    let resp = client.get(url).bearer_auth(token).send().expect("request");
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

#[test]
fn duplicates_merge_split_subject_history_and_search() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let token = dep.token("officer1", "officer", "210300");
        let server = dep.serve();
        let c = Client::new();
        let reports = [
            ("wf-1", "2024-03-01T09:00:00+08:00", "13904120001", "鞍山市铁东区恒安职业技能培训学校办包过班，交8000元保证拿电工证，说考场有人打招呼。"),
            ("wf-2", "2024-03-04T09:00:00+08:00", "13904120002", "我举报鞍山铁东的恒安职业技能培训学校，焊工证包过，考试那天考场有自己人，收费7800元。"),
            ("wf-3", "2024-03-05T09:00:00+08:00", "13904120003", "海城市腾鳌镇瑞鳌金属冶炼有限公司电焊工都没有特种作业操作证就上岗。"),
        ];
        let mut acks = Vec::new();
        for (id, at, phone, text) in reports {
            let (status, ack) = post(
                &c,
                &server.url("/api/v1/reports"),
                &token,
                json!({"channel": "web_form",
                "external_id": id, "received_at": at, "reporter": {"phone": phone}, "text": text}),
            );
            assert_eq!(status, 201, "{backend:?}: {ack}");
            acks.push(ack);
        }
        assert_eq!(
            acks[0]["case_id"], acks[1]["case_id"],
            "{backend:?}: the same matter from two reporters is one case"
        );
        assert_ne!(
            acks[0]["case_id"], acks[2]["case_id"],
            "{backend:?}: another subject is another case"
        );
        let case_id = acks[0]["case_id"].as_i64().unwrap();
        let (status, case) = get(&c, &server.url(&format!("/api/v1/cases/{case_id}")), &token);
        assert_eq!(status, 200);
        assert_eq!(case["reports"].as_array().unwrap().len(), 2);
        let linked = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "case.report_linked")
            .expect("link event");
        assert_eq!(linked["data"]["decision"], "same_matter", "{linked}");
        assert!(
            linked["data"]["summary"].as_str().unwrap().contains("并案"),
            "the reasons are explained: {linked}"
        );

        // The same reporter about the same matter again: a repeat report (重复件) in the same case.
        let (status, repeat) = post(
            &c,
            &server.url("/api/v1/channels/12350/calls"),
            &token,
            json!({"call_id": "C-9",
            "caller_number": "139 0412 0001", "started_at": "2024-03-08T10:00:00+08:00",
            "notes": "来电人再次反映铁东区恒安职业技能培训学校包过班的事，交了8000元，说考场有人，至今没人查。"}),
        );
        assert_eq!(status, 201, "{repeat}");
        assert_eq!(
            repeat["case_id"], case_id,
            "{backend:?}: a repeat report joins the open case"
        );
        let (_, case) = get(&c, &server.url(&format!("/api/v1/cases/{case_id}")), &token);
        assert_eq!(case["case"]["repeat_count"], 1, "{}", case["case"]);
        assert_eq!(case["case"]["report_count"], 3);
        // The same message under another id (a double-clicked form): one report, not two.
        let (status, same) = post(
            &c,
            &server.url("/api/v1/reports"),
            &token,
            json!({"channel": "web_form",
            "external_id": "wf-1-again", "received_at": "2024-03-01T09:01:00+08:00", "reporter": {"phone": "13904120001"},
            "text": reports[0].3}),
        );
        assert_eq!(status, 200, "{same}");
        assert_eq!(
            (same["outcome"].as_str(), &same["report_id"]),
            (Some("same_message"), &acks[0]["report_id"])
        );

        // The operator's preview sees the place, the categories and the open case, storing nothing.
        let (status, preview) = post(
            &c,
            &server.url("/api/v1/triage/preview"),
            &token,
            json!({"text": "又有人说鞍山铁东恒安职业技能培训学校包过，考场有人", "phone": "0412-5892213",
                "received_at": "2024-03-06T10:00:00+08:00"}),
        );
        assert_eq!(status, 200, "{preview}");
        assert_eq!(preview["locus"]["code"], "210302", "{preview}");
        assert!(
            preview["categories"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "T4"),
            "{preview}"
        );
        assert_eq!(preview["duplicate"]["case_id"], case_id, "{preview}");

        // The officer splits the second report off, then merges it back.
        let second = acks[1]["report_id"].as_i64().unwrap();
        let (status, split) = post(
            &c,
            &server.url(&format!("/api/v1/cases/{case_id}/split")),
            &token,
            json!({"report_ids": [second], "reason": "核实为不同事项"}),
        );
        assert_eq!(status, 201, "{split}");
        let new_case = split["case_id"].as_i64().unwrap();
        let (_, report) = get(
            &c,
            &server.url(&format!("/api/v1/reports/{second}")),
            &token,
        );
        assert_eq!(report["report"]["case_id"], new_case);
        let (status, err) = post(
            &c,
            &server.url(&format!("/api/v1/cases/{case_id}/split")),
            &token,
            json!({"report_ids": [acks[0]["report_id"], repeat["report_id"]], "reason": "x"}),
        );
        assert_eq!(status, 409, "a split may not empty a case: {err}");
        let (status, merged) = post(
            &c,
            &server.url(&format!("/api/v1/cases/{new_case}/merge")),
            &token,
            json!({"into": case_id, "reason": "确为同一事项"}),
        );
        assert_eq!(status, 200, "{merged}");
        let (_, case) = get(&c, &server.url(&format!("/api/v1/cases/{case_id}")), &token);
        assert_eq!(case["reports"].as_array().unwrap().len(), 3);
        assert!(case["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "case.merged_from" && e["actor"] == "officer1"));
        let (_, old) = get(
            &c,
            &server.url(&format!("/api/v1/cases/{new_case}")),
            &token,
        );
        assert_eq!(
            old["case"]["state"], "merged",
            "nothing is deleted: the merged case stays, marked merged"
        );
        let (status, _) = post(
            &c,
            &server.url(&format!("/api/v1/cases/{new_case}/merge")),
            &token,
            json!({"into": case_id, "reason": ""}),
        );
        assert_eq!(status, 400, "a reason is required");

        // The subject's history reaches both reports.
        let (status, subject) = get(
            &c,
            &server.url("/api/v1/subjects/恒安职业技能培训学校"),
            &token,
        );
        assert_eq!(status, 200, "{subject}");
        assert_eq!(subject["reports"].as_array().unwrap().len(), 3, "{subject}");

        // Search over HTTP: a phrase inside a word, a place filter, facets; a bad query is a 400.
        let mut found = Value::Null;
        for _ in 0..50 {
            let (status, body) = get(
                &c,
                &server.url("/api/v1/search?q=电工证&place=2103"),
                &token,
            );
            assert_eq!(status, 200, "{body}");
            if body["total"].as_u64() == Some(1) {
                found = body;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(
            found["hits"][0]["external_id"], "wf-1",
            "searchable within seconds of the ack: {found}"
        );
        assert!(found["facets"]["category"].is_array(), "{found}");
        let (status, body) = get(&c, &server.url("/api/v1/search?q=%22unclosed"), &token);
        assert_eq!((status, body["code"].as_str()), (400, Some("bad_query")));
        let (status, _) = get(&c, &server.url("/api/v1/search?q=x&from=yesterday"), &token);
        assert_eq!(status, 400);
        let body = c.get(server.url("/api/v1/search?q=电工证")).send().unwrap();
        assert_eq!(body.status().as_u16(), 401);
        let text = c
            .get(server.url("/api/v1/search?q=恒安"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            !text.contains("13904120001"),
            "reporter identity is never in search results"
        );
        server.kill();

        // The command line finds the same, after the server stopped (it catches up by itself).
        let (code, out, err) = dep.run(
            &["search", "焊工", "--format", "jsonl", "--limit", "100"],
            "",
        );
        assert_eq!(code, 0, "{err}");
        let ids: Vec<String> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["external_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(ids.len(), 2, "{out}");
        assert!(ids.contains(&"wf-2".to_string()) && ids.contains(&"wf-3".to_string()));
        let (code, out, _) = dep.run(&["reindex"], "");
        assert_eq!(code, 0);
        assert!(out.contains("reindexed 4 reports"), "{out}");
    }
}
