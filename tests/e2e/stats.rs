//! Statistics and the monthly tables (issue 9): cases driven through the state machine over HTTP,
//! then `GET /api/v1/stats` checked by exact numbers (out-of-scope data not counted), the
//! 渝考发 附件2–4 workbook opened with calamine and checked cell by cell, and the monthly run with
//! an injected clock mailing one XLSX to the leader, once.

use crate::helpers::{backends, Deployment};
use crate::mail_out::{wait_for_mail, MailSink};
use calamine::{Data, Reader, Xlsx};
use mail_parser::MimeHeaders;
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::io::Cursor;

const LEADER_EMAIL: &str = "leader.cq@yjj.example.cn";

fn post(c: &Client, url: &str, token: &str, body: &Value) -> Value {
    let r = c
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .expect("request");
    let status = r.status().as_u16();
    let v: Value = r.json().unwrap_or(Value::Null);
    assert!(status == 200 || status == 201, "{url}: {status} {v}");
    v
}

fn get(c: &Client, url: &str, token: &str) -> (u16, Value) {
    let r = c.get(url).bearer_auth(token).send().expect("request");
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

/// Takes a case through the given steps, each with the version it saw.
fn drive(c: &Client, base: &str, token: &str, case_id: i64, steps: &[Value]) {
    let (_, case) = get(c, &format!("{base}/api/v1/cases/{case_id}"), token);
    let mut version = case["case"]["version"].as_i64().expect("version");
    for step in steps {
        let r = c
            .post(format!("{base}/api/v1/cases/{case_id}/transitions"))
            .bearer_auth(token)
            .header("If-Match", format!("\"{version}\""))
            .json(step)
            .send()
            .expect("request");
        let status = r.status().as_u16();
        let body: Value = r.json().unwrap_or(Value::Null);
        assert_eq!(status, 200, "case {case_id} {step}: {body}");
        version = body["version"].as_i64().expect("version");
    }
}

fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) => format!("{f}"),
        Some(Data::Int(i)) => format!("{i}"),
        Some(other) => format!("{other:?}"),
    }
}

fn row(range: &calamine::Range<Data>, r: u32, width: u32) -> Vec<String> {
    (0..width).map(|c| cell(range, r, c)).collect()
}

fn beijing_now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
}

#[test]
fn statistics_and_monthly_tables_follow_the_cases() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let sink = MailSink::new();
        // The monthly run sees "now" as 09:00 on the 1st of next month (Beijing).
        let now = beijing_now();
        let this_month = now.format("%Y-%m").to_string();
        let next_first = {
            use chrono::Datelike;
            let (y, m) = if now.month() == 12 {
                (now.year() + 1, 1)
            } else {
                (now.year(), now.month() + 1)
            };
            format!("{y:04}-{m:02}-01T09:00:00+08:00")
        };
        // The monthly run is off while the cases are worked, then on with an injected clock.
        let write_config = |monthly: &str| {
            std::fs::write(
                dep.data().join("tipline.toml"),
                format!(
                    r#"
[triage]
home = "500000"

{smtp}
[monthly_reports]
{monthly}
"#,
                    smtp = sink.smtp_toml("重庆市应急管理局举报受理中心")
                ),
            )
            .expect("write configuration");
        };
        write_config("enabled = false");
        let officer = dep.token("cq.officer", "officer", "500000");
        let (code, _, err) = dep.run(
            &[
                "user",
                "add",
                "cq.leader",
                "--role",
                "leader",
                "--jurisdiction",
                "500000",
                "--email",
                LEADER_EMAIL,
            ],
            "pw-Secret-123\n",
        );
        assert_eq!(code, 0, "user add --email: {err}");
        let (code, leader, err) = dep.run(&["token", "add", "--user", "cq.leader"], "");
        assert_eq!(code, 0, "token add: {err}");
        let leader = leader.trim().to_string();
        let county = dep.token("yz.officer", "officer", "500103");
        let anshan = dep.token("as.officer", "officer", "210302");
        let _receiver = sink.start();
        let server = dep.serve();
        let base = server.base.clone();
        let c = Client::new();
        let recent = now.to_rfc3339();
        let report =
            |id: &str, at: &str, phone: &str, name: &str, kind: &str, addr: &str, text: &str| {
                json!({"channel": "web_form", "external_id": id, "received_at": at,
                "reporter": {"phone": phone},
                "subject": {"name": name, "kind": kind, "address": addr},
                "text": text})
            };
        let send =
            |body: Value, token: &str| post(&c, &format!("{base}/api/v1/reports"), token, &body);
        let a = send(report("st-a", "2024-05-06T09:00:00+08:00", "13900000001", "渝中区安达安全技术培训学校", "training_institution", "重庆市渝中区",
            "重庆市渝中区安达安全技术培训学校举办“包过班”，收钱保证考试通过，考试时还帮考生作弊。"), &officer);
        let b = send(report("st-b", "2024-05-20T10:00:00+08:00", "13900000001", "渝中区安达安全技术培训学校", "training_institution", "重庆市渝中区",
            "再次反映：重庆市渝中区安达安全技术培训学校还在办“包过班”，保证通过，考试帮着作弊，至今没人管。"), &officer);
        let cc = send(
            report(
                "st-c",
                &recent,
                "13900000003",
                "万州区安全生产考试点",
                "exam_institution",
                "重庆市万州区",
                "重庆市万州区安全生产考试点理论考试没有安排监考人员，考生随便抄，考务人员放水。",
            ),
            &officer,
        );
        let d = send(
            report(
                "st-d",
                &recent,
                "13900000004",
                "渝北区顺达化工有限公司",
                "production_unit",
                "重庆市渝北区",
                "重庆市渝北区顺达化工有限公司让没有特种作业操作证的电焊工无证上岗动火作业。",
            ),
            &officer,
        );
        let e = send(
            report(
                "st-e",
                &recent,
                "13900000005",
                "江北区恒信职业培训学校",
                "training_institution",
                "重庆市江北区",
                "重庆市江北区恒信职业培训学校不按大纲教学，压缩课时，实操实训走过场。",
            ),
            &officer,
        );
        let f = send(
            report(
                "st-f",
                &recent,
                "13904125566",
                "宏远安全技术培训学校",
                "training_institution",
                "鞍山市铁东区",
                "鞍山市铁东区宏远安全技术培训学校举办包过班，帮考生作弊。",
            ),
            &anshan,
        );
        let id = |ack: &Value| ack["case_id"].as_i64().expect("case_id");
        assert_eq!(
            id(&a),
            id(&b),
            "the second report joins the first case: {b}"
        );
        let case_of =
            |ack: &Value| get(&c, &format!("{base}/api/v1/cases/{}", id(ack)), &officer).1;
        let case_a = case_of(&a);
        let categories = |v: &Value| -> Vec<String> {
            v["case"]["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(categories(&case_a), ["T4"], "{case_a}");
        assert_eq!(case_a["case"]["handling"], "500103", "{case_a}");
        let case_c = case_of(&cc);
        assert_eq!(
            (categories(&case_c), case_c["case"]["handling"].as_str()),
            (vec!["E5".to_string()], Some("500000")),
            "{case_c}"
        );
        let case_d = case_of(&d);
        assert_eq!(
            (categories(&case_d), case_d["case"]["handling"].as_str()),
            (vec!["P2".to_string()], Some("500112")),
            "{case_d}"
        );
        let case_e = case_of(&e);
        assert_eq!(case_e["case"]["handling"], "500105", "{case_e}");

        let sign = json!({"action": "sign_for"});
        let verify = json!({"action": "start_verification"});
        drive(
            &c,
            &base,
            &officer,
            id(&a),
            &[
                sign.clone(),
                verify.clone(),
                json!({"action": "record_finding", "finding": "属实", "text": "经查，该校举办包过班属实。"}),
                json!({"action": "record_actions", "actions": [{"kind": "限期改正"}, {"kind": "罚款", "amount_wan": 2.5}, {"kind": "公开曝光"}]}),
                json!({"action": "record_rectification", "status": "正在整改"}),
            ],
        );
        drive(
            &c,
            &base,
            &officer,
            id(&cc),
            &[
                sign.clone(),
                verify.clone(),
                json!({"action": "record_finding", "finding": "部分属实", "text": "经查，理论考试考场未安排监考人员属实，放水问题不属实。"}),
                json!({"action": "record_actions", "actions": [{"kind": "暂停考试资格"}, {"kind": "限期改正"}]}),
                json!({"action": "record_rectification", "status": "已完成整改"}),
                json!({"action": "reply", "text": "经查部分属实，已暂停该考点考试资格并责令整改。"}),
                json!({"action": "close"}),
            ],
        );
        drive(
            &c,
            &base,
            &officer,
            id(&d),
            &[
                sign.clone(),
                verify.clone(),
                json!({"action": "record_finding", "finding": "属实", "text": "经查，2名电焊工无证上岗属实。"}),
                json!({"action": "record_actions", "actions": [{"kind": "罚款", "amount_wan": 1.0}, {"kind": "停业整顿"}]}),
                json!({"action": "record_rectification", "status": "已完成整改"}),
            ],
        );
        drive(
            &c,
            &base,
            &officer,
            id(&e),
            &[
                sign.clone(),
                verify.clone(),
                json!({"action": "record_finding", "finding": "不属实", "text": "经查，该校按大纲教学，反映问题不属实。"}),
            ],
        );
        // 鞍山 lies outside this deployment's home: transferred there (跨地区转办), never counted here.
        assert_eq!(
            get(&c, &format!("{base}/api/v1/cases/{}", id(&f)), &anshan).1["case"]["state"],
            "transferred"
        );

        // Statistics: exact numbers, the 鞍山 case not counted.
        let stats = |q: &str, token: &str| get(&c, &format!("{base}/api/v1/stats?{q}"), token);
        let (status, by_kind) = stats(
            &format!("from=2024-05&to={this_month}&by=subject_kind"),
            &leader,
        );
        assert_eq!(status, 200, "{by_kind}");
        let t = &by_kind["total"];
        // The second report from the same phone about the same matter is a repeat (重复件).
        assert_eq!(
            (
                t["reports"].as_u64(),
                t["repeat_reports"].as_u64(),
                t["cases"].as_u64()
            ),
            (Some(5), Some(1), Some(4)),
            "{backend:?}: {by_kind}"
        );
        assert_eq!(
            (t["sign_for_due"].as_u64(), t["signed_on_time"].as_u64()),
            (Some(4), Some(3)),
            "{t}"
        );
        assert_eq!(
            (t["close_due"].as_u64(), t["closed_on_time"].as_u64()),
            (Some(2), Some(1)),
            "{t}"
        );
        assert_eq!(
            (t["findings"].as_u64(), t["findings_true"].as_u64()),
            (Some(4), Some(3)),
            "{t}"
        );
        assert_eq!(
            (
                t["true_rate"].as_f64(),
                t["repeat_rate"].as_f64(),
                t["sign_on_time_rate"].as_f64()
            ),
            (Some(0.75), Some(0.2), Some(0.75)),
            "{t}"
        );
        let rows: Vec<(String, u64, u64)> = by_kind["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().to_string(),
                    r["reports"].as_u64().unwrap(),
                    r["cases"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("考试机构、考试点".to_string(), 1, 1),
                ("生产经营单位".to_string(), 1, 1),
                ("安全培训机构".to_string(), 3, 2)
            ]
        );

        let (_, by_place) = stats(
            &format!("from=2024-05&to={this_month}&by=jurisdiction"),
            &leader,
        );
        let places: Vec<(String, u64)> = by_place["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().to_string(),
                    r["reports"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            places,
            [
                ("重庆市（本级）".to_string(), 1),
                ("渝中区".to_string(), 2),
                ("江北区".to_string(), 1),
                ("渝北区".to_string(), 1)
            ],
            "{by_place}"
        );

        let (_, by_month) = stats(&format!("from=2024-05&to={this_month}&by=month"), &leader);
        let months = by_month["rows"].as_array().unwrap();
        assert_eq!(months[0]["key"], "2024-05");
        assert_eq!(months[0]["label"], "2024年5月");
        assert_eq!(
            (months[0]["reports"].as_u64(), months[0]["cases"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(
            (
                months[1]["reports"].as_u64(),
                months[1]["previous_reports"].as_u64(),
                months[1]["trend"].as_f64()
            ),
            (Some(0), Some(2), Some(-1.0))
        );
        let last = months.last().unwrap();
        assert_eq!(
            (last["key"].as_str(), last["reports"].as_u64()),
            (Some(this_month.as_str()), Some(3))
        );

        // A county sees its own cases only; another county's jurisdiction reads as not found.
        let (_, mine) = stats(&format!("from=2024-05&to={this_month}"), &county);
        assert_eq!(
            (
                mine["total"]["reports"].as_u64(),
                mine["total"]["cases"].as_u64()
            ),
            (Some(2), Some(1)),
            "{mine}"
        );
        let (status, err) = stats("jurisdiction=500112", &county);
        assert_eq!(
            (status, err["code"].as_str()),
            (404, Some("not_found")),
            "{err}"
        );
        let (status, err) = stats("by=weather", &leader);
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("bad_stats_query")),
            "{err}"
        );
        assert!(
            err["message"].as_str().unwrap().contains("weather") && err["message_en"].is_string(),
            "{err}"
        );

        // The same table as XLSX (format= or Accept) and as SVG.
        let xlsx = c
            .get(format!(
                "{base}/api/v1/stats?from=2024-05&to={this_month}&by=subject_kind"
            ))
            .bearer_auth(&leader)
            .header(
                "Accept",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .send()
            .unwrap();
        assert_eq!(xlsx.status().as_u16(), 200);
        let bytes = xlsx.bytes().unwrap().to_vec();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX");
        let sheet = book.worksheet_range("统计").expect("sheet 统计");
        assert_eq!(cell(&sheet, 1, 0), "举报对象类型");
        assert_eq!(cell(&sheet, 1, 1), "受理量（件）");
        assert_eq!(
            row(&sheet, 4, 4),
            ["安全培训机构", "3", "1", "0.3333333333333333"]
        );
        assert_eq!(row(&sheet, 5, 2), ["合计", "5"]);
        let svg = c
            .get(format!("{base}/api/v1/stats?by=channel&format=svg"))
            .bearer_auth(&leader)
            .send()
            .unwrap();
        assert!(svg.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml"));
        assert!(svg.text().unwrap().starts_with("<svg"));

        // The monthly tables: leaders only, in scope only.
        let monthly = |token: &str, q: &str| {
            c.get(format!("{base}/api/v1/reports/monthly.xlsx?{q}"))
                .bearer_auth(token)
                .send()
                .unwrap()
        };
        assert_eq!(
            monthly(&officer, &format!("month={this_month}&jurisdiction=500000"))
                .status()
                .as_u16(),
            403
        );
        let outside = monthly(&leader, &format!("month={this_month}&jurisdiction=210300"));
        assert_eq!(outside.status().as_u16(), 404);
        let bad = monthly(&leader, "month=2024-13&jurisdiction=500000");
        assert_eq!(bad.status().as_u16(), 400);
        let r = monthly(&leader, &format!("month={this_month}&jurisdiction=500000"));
        assert_eq!(r.status().as_u16(), 200);
        check_monthly_workbook(r.bytes().unwrap().to_vec(), &format!("{backend:?} HTTP"));

        // The command line writes the same tables.
        let out = dep.data().join("monthly.xlsx");
        let (code, _, err) = dep.run(
            &[
                "report",
                "monthly",
                "--month",
                &this_month,
                "--jurisdiction",
                "500000",
                "--out",
                out.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(code, 0, "{err}");
        check_monthly_workbook(std::fs::read(&out).unwrap(), &format!("{backend:?} CLI"));
        // A past month holds none of this month's findings.
        let (code, _, err) = dep.run(
            &[
                "report",
                "monthly",
                "--month",
                "2024-05",
                "--jurisdiction",
                "500000",
                "--out",
                out.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(code, 0, "{err}");
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(std::fs::read(&out).unwrap())).unwrap();
        let training = book.worksheet_range("附件2 培训机构").unwrap();
        assert_eq!(cell(&training, 5, 0), "合计");

        // The monthly run in `serve` (clock injected: the 1st of next month) mails one workbook.
        drop(server);
        write_config(&format!("now = \"{next_first}\"\ncheck_secs = 1"));
        let server = dep.serve();
        let mails = wait_for_mail(&sink.inbox, 1, "monthly tables");
        assert_eq!(
            mails.len(),
            1,
            "{:?}",
            mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        let mail = &mails[0];
        assert_eq!(mail.rcpt_to, [LEADER_EMAIL]);
        assert!(
            mail.subject.contains("专项整治进展情况汇总表") && mail.subject.contains("重庆市"),
            "{}",
            mail.subject
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(mail.raw.as_bytes())
            .expect("a message");
        let attachment = parsed.attachments().next().expect("an attachment");
        assert!(attachment
            .attachment_name()
            .unwrap_or_default()
            .ends_with(".xlsx"));
        check_monthly_workbook(attachment.contents().to_vec(), &format!("{backend:?} mail"));
        assert!(
            !mail.raw.contains("13900000001"),
            "no reporter identity in the mail"
        );
        // Once per month and jurisdiction: running again (as another node would) makes nothing.
        let (code, out, err) = dep.run(&["report", "auto", "--now", &next_first], "");
        assert_eq!((code, out.trim()), (0, "nothing to do"), "{err}");
        std::thread::sleep(std::time::Duration::from_secs(2));
        let (code, listed, _) = dep.run(&["outbox", "list", "--all", "--json"], "");
        assert_eq!(code, 0);
        let monthly_rows = listed
            .lines()
            .filter(|l| l.contains("\"monthly_report\""))
            .count();
        assert_eq!(monthly_rows, 1, "{listed}");
        drop(server);
    }
}

/// The 附件2–4 workbook of 重庆市 for this month, cell by cell.
fn check_monthly_workbook(bytes: Vec<u8>, what: &str) {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX");
    assert_eq!(
        book.sheet_names(),
        ["附件2 培训机构", "附件3 考试机构", "附件4 生产经营单位"],
        "{what}"
    );

    let t = book.worksheet_range("附件2 培训机构").unwrap();
    assert_eq!(cell(&t, 0, 0), "附件2");
    assert_eq!(
        cell(&t, 1, 0),
        "安全生产培训“走过场”专项整治进展情况汇总表（培训机构）"
    );
    assert_eq!(cell(&t, 2, 0), "填表单位：重庆市应急管理局");
    assert!(cell(&t, 2, 12).starts_with("填表时间："), "{what}");
    assert_eq!(
        row(&t, 3, 17),
        [
            "序号",
            "安全培训机构名称",
            "培训情况",
            "",
            "",
            "自查/执法检查发现问题情况",
            "",
            "",
            "",
            "",
            "执法层级",
            "处罚情况",
            "",
            "",
            "",
            "",
            "整改落实情况"
        ],
        "{what}"
    );
    assert_eq!(
        cell(&t, 4, 2),
        "高危行业企业主要负责人和安全管理人员培训人次\n（人次/年）"
    );
    assert_eq!(
        cell(&t, 4, 8),
        "举办“包过班”、参与考生作弊，倒卖安全生产资格（合格）证书（项）"
    );
    assert_eq!(cell(&t, 4, 10), "实施执法检查的应急管理部门");
    assert_eq!(
        row(&t, 4, 17)[11..16],
        [
            "限期改正",
            "罚款\n（万元）",
            "停业整顿",
            "移送市场监管部门查处或淘汰退出",
            "公开曝光"
        ]
    );
    assert_eq!(
        row(&t, 5, 17),
        [
            "1",
            "渝中区安达安全技术培训学校",
            "",
            "",
            "",
            "0",
            "0",
            "0",
            "1",
            "0",
            "区县级",
            "√",
            "2.5",
            "",
            "",
            "√",
            "正在整改"
        ],
        "{what}"
    );
    assert_eq!(
        row(&t, 6, 17),
        [
            "2",
            "江北区恒信职业培训学校",
            "",
            "",
            "",
            "0",
            "0",
            "0",
            "0",
            "0",
            "区县级",
            "",
            "",
            "",
            "",
            "",
            ""
        ],
        "{what}: 不属实 lists the institution with no problem"
    );
    assert_eq!(
        row(&t, 7, 17),
        [
            "合计",
            "",
            "",
            "",
            "",
            "0",
            "0",
            "0",
            "1",
            "0",
            "",
            "1",
            "2.5",
            "",
            "",
            "1",
            "正在整改1"
        ],
        "{what}"
    );
    assert_eq!(cell(&t, 9, 0), "填写说明：");

    let x = book.worksheet_range("附件3 考试机构").unwrap();
    assert_eq!(cell(&x, 3, 1), "考试机构（考试点）名称");
    assert_eq!(cell(&x, 3, 4), "自查/执法检查发现问题情况");
    assert_eq!(
        cell(&x, 4, 8),
        "未安排监考、考评人员进行理论考试监考和实操考评\n（项）"
    );
    assert_eq!(
        row(&x, 4, 17)[13..16],
        ["限期改正", "停业整顿", "取消考试资格"]
    );
    assert_eq!(
        row(&x, 5, 17),
        [
            "1",
            "万州区安全生产考试点",
            "",
            "",
            "0",
            "0",
            "0",
            "0",
            "1",
            "0",
            "0",
            "0",
            "市级",
            "√",
            "",
            "暂停",
            "已完成整改"
        ],
        "{what}"
    );
    assert_eq!(cell(&x, 6, 0), "合计");

    let p = book.worksheet_range("附件4 生产经营单位").unwrap();
    assert_eq!(
        row(&p, 3, 13),
        [
            "序号",
            "企业情况",
            "",
            "检查发现问题情况",
            "",
            "",
            "",
            "",
            "处罚情况",
            "",
            "",
            "",
            "整改落实情况"
        ],
        "{what}"
    );
    assert_eq!(cell(&p, 4, 4), "特种作业人员无证上岗/持假证上岗\n（人）");
    // One county (渝北区) with one enterprise: its row and the 合计 row hold the same figures.
    let figures = [
        "",
        "1",
        "0",
        "1",
        "0",
        "0",
        "0",
        "",
        "1",
        "1",
        "",
        "已完成整改1",
    ];
    assert_eq!(row(&p, 5, 13)[1..], figures, "{what}");
    assert_eq!(row(&p, 6, 13)[1..], figures, "{what}");
    assert_eq!(
        (cell(&p, 5, 0), cell(&p, 6, 0)),
        ("1".into(), "合计".into())
    );
    let notes: Vec<String> = (8..16).map(|r| cell(&p, r, 0)).collect();
    assert!(
        notes.iter().any(|n| n == "各行对应辖区：序号1：渝北区。"),
        "{what}: {notes:?}"
    );
}
