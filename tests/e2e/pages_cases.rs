//! The officer's desk (issue 9): `/cases` and `/cases/{id}` in a real browser — login, the queue
//! and its filters, a case taken from sign-for to close with the buttons, a split and a merge on
//! the way, a referral letter previewed and sent, the reporter's identity revealed with a reason —
//! and over plain HTTP: a stale version keeps what was typed, hostile text is escaped while the
//! evidence is still marked, another county's case is a 404 page, an operator gets no buttons.

use crate::browser_helpers::{available, run, Browser, DESKTOP};
use crate::helpers::{backends, outbox_rows, Backend, Deployment};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PASSWORD: &str = "pw-Secret-123";
const POLICE_EMAIL: &str = "jingzhen@ps.example.cn";
const MARKET_EMAIL: &str = "jiancha@amr.example.cn";
const REPORTER_NAME: &str = "欧阳明";
const REPORTER_PHONE: &str = "13987654321";

/// A deployment whose receiving bodies (铁东区) have addresses for referral letters.
fn deployment(backend: Backend) -> Deployment {
    let dep = Deployment::new(backend);
    std::fs::write(
        dep.data().join("tipline.toml"),
        format!(
            r#"
[triage.contacts."210302"]
public_security = "鞍山市公安局铁东分局"
public_security_email = "{POLICE_EMAIL}"
market_regulation_email = "{MARKET_EMAIL}"
"#
        ),
    )
    .expect("write configuration");
    dep
}

fn post_report(c: &Client, url: &str, token: &str, body: Value) -> Value {
    let r = c
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .expect("post report");
    assert_eq!(r.status().as_u16(), 201, "report not stored");
    r.json().expect("ack")
}

/// Two reports of one matter (one case, referred to police and market regulation).
fn two_reports(c: &Client, base: &str, token: &str) -> (Value, Value) {
    let url = format!("{base}/api/v1/reports");
    let first = post_report(
        c,
        &url,
        token,
        json!({"channel": "web_form", "external_id": "pc-1", "received_at": "2024-05-06T09:12:00+08:00",
            "reporter": {"name": REPORTER_NAME, "phone": REPORTER_PHONE},
            "text": format!("我叫{REPORTER_NAME}，电话{REPORTER_PHONE}。鞍山市铁东区恒安特种作业培训中心，高处作业证包过，收费５５００元，承诺考试的时候“有人照应”，去了以后考场里果然有人帮着答。学费是正常价的三四倍。")}),
    );
    let second = post_report(
        c,
        &url,
        token,
        json!({"channel": "hotline_12350", "external_id": "pc-2", "received_at": "2024-05-07T10:00:00+08:00",
            "reporter": {"phone": "13904120002"},
            "text": "我举报鞍山铁东的恒安特种作业培训中心，高处作业证包过，考试那天考场有自己人帮忙答题，收费5800元。"}),
    );
    (first, second)
}

// ---------------------------------------------------------------------------------------------
// A browser session

async fn wait_until(b: &Browser, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if b.js(script).await == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn state_of(b: &Browser) -> String {
    b.js("var e = document.getElementById('case-state'); return e ? e.dataset.state : ''")
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Clicks the button of a step form and waits for the case to reach `state`.
async fn step(b: &Browser, form: &str, state: &str) {
    b.wait(&format!("#{form} button[type=submit]"))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {form}: {e}"));
    wait_until(
        b,
        &format!("{form} → {state}"),
        &format!(
            "var e = document.getElementById('case-state'); return !!e && e.dataset.state === '{state}'"
        ),
    )
    .await;
    let notice = b.text("#notice").await;
    assert!(notice.contains("已办理"), "{form}: {notice}");
}

async fn click(b: &Browser, css: &str) {
    b.wait(css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn html(b: &Browser) -> String {
    b.client.source().await.expect("page source")
}

#[test]
fn an_officer_works_a_case_from_sign_for_to_close_in_the_browser() {
    if !available() {
        return;
    }
    for backend in backends() {
        let dep = deployment(backend);
        let token = dep.token("wang", "officer", "210302");
        let server = dep.serve();
        let c = Client::new();
        let (first, second) = two_reports(&c, &server.base, &token);
        assert_eq!(
            first["case_id"], second["case_id"],
            "{backend:?}: one matter, one case"
        );
        let case_id = first["case_id"].as_i64().unwrap();
        let case_no = first["case_no"].as_str().unwrap().to_string();
        let second_report = second["report_id"].as_i64().unwrap();
        // A case of the neighbouring county (铁西区), which this officer must not reach by URL.
        let other_token = dep.token("li", "officer", "210303");
        let other = post_report(
            &c,
            &server.url("/api/v1/reports"),
            &other_token,
            json!({"channel": "hotline_12350", "external_id": "pc-other", "received_at": "2024-05-08T10:00:00+08:00",
                "text": "鞍山市铁西区鑫达安全培训学校焊工证包过，交钱不用考试。"}),
        );
        let other_case = other["case_id"].as_i64().unwrap();
        let other_no = other["case_no"].as_str().unwrap().to_string();
        let shots = backend == Backend::Sqlite;
        run(async {
            let b = Browser::start().await;
            // Log in: the officer lands on the queue.
            b.client.goto(&server.url("/cases")).await.expect("goto");
            b.type_into("#name", "wang").await;
            b.type_into("#password", PASSWORD).await;
            click(&b, "form button[type=submit]").await;
            wait_until(&b, "the queue", "return !!document.getElementById('queue')").await;
            assert_eq!(b.text("h1").await, "案件办理");
            let row = b.text(&format!("tr[data-case='{case_id}']")).await;
            assert!(row.contains(&case_no), "{row}");
            assert!(row.contains("已分派"), "{row}");
            assert!(row.contains("T4"), "categories shown: {row}");
            assert!(row.contains("已超期"), "a 2024 case is long overdue: {row}");
            let tabs = b.text(".tabs").await;
            assert!(tabs.contains("已分派 1"), "{tabs}");
            if shots {
                b.screenshot("cases-queue", DESKTOP).await;
            }

            // Filter: another subject kind leaves nothing (explained), then back to all.
            b.wait("#f-kind")
                .await
                .select_by_value("exam_institution")
                .await
                .expect("kind");
            click(&b, "#apply-filters").await;
            wait_until(
                &b,
                "empty queue",
                "return !!document.getElementById('queue-empty')",
            )
            .await;
            assert!(b.text("#queue-empty").await.contains("没有符合条件的案件"));
            b.wait("#f-kind")
                .await
                .select_by_value("training_institution")
                .await
                .expect("kind");
            b.wait("#f-overdue").await.click().await.expect("overdue");
            click(&b, "#apply-filters").await;
            wait_until(&b, "filtered queue", "return !!document.getElementById('queue') && location.search.indexOf('overdue=1') >= 0").await;
            assert!(b.text("#queue-total").await.contains("共 1 件"));

            // Open the case: the evidence is marked, with the rule in the title.
            click(&b, &format!("tr[data-case='{case_id}'] a.case-no")).await;
            wait_until(
                &b,
                "the case page",
                "return !!document.getElementById('case-no')",
            )
            .await;
            assert_eq!(b.text("#case-no").await, case_no);
            let marks = b
                .js("return Array.from(document.querySelectorAll('mark.ev')).map(m => m.textContent + '|' + m.title)")
                .await;
            let marks = marks.to_string();
            assert!(marks.contains("包过") && marks.contains("规则"), "{marks}");
            assert!(
                marks.contains("铁东区|地点"),
                "the locus words are marked: {marks}"
            );
            let page = html(&b).await;
            assert!(
                page.contains("其他候选") || page.contains("鞍山市铁东区"),
                "locus reasons"
            );
            assert!(page.contains("移送公安机关"), "referrals with their body");

            // Split the second report off, then merge that case back from its page.
            b.wait("#split-report")
                .await
                .select_by_value(&second_report.to_string())
                .await
                .expect("split report");
            b.type_into("#split-reason", "来电反映的是另一期培训班")
                .await;
            click(&b, "#split button").await;
            wait_until(&b, "the new case", &format!("return !!document.getElementById('case-no') && document.getElementById('case-no').textContent !== '{case_no}'")).await;
            assert!(b.text("#notice").await.contains("已拆分"));
            let dups = b.text("#duplicates").await;
            assert!(
                dups.contains(&case_no),
                "the old case is suggested as duplicate: {dups}"
            );
            b.type_into("#merge-into", &case_no).await;
            b.type_into("#merge-reason", "核实为同一期培训班，并案办理")
                .await;
            click(&b, "#merge button").await;
            wait_until(&b, "back on the first case", &format!("return !!document.getElementById('case-no') && document.getElementById('case-no').textContent === '{case_no}'")).await;
            assert!(b.text("#notice").await.contains("已并案"));
            assert_eq!(
                b.js("return document.querySelectorAll('article.report').length")
                    .await,
                json!(2)
            );
            let timeline = b.text("#timeline + .timeline").await;
            assert!(timeline.contains("并入本案"), "{timeline}");
            // The other case is named by its number, as officers know it, not by an id.
            let merged = timeline
                .lines()
                .find(|l| l.contains("并入本案") && !l.contains("重复举报"))
                .unwrap_or_default();
            assert!(
                merged.starts_with("案件 TL") && timeline.contains("举报拆分为新案件 TL"),
                "{timeline}"
            );

            // The steps, each from the buttons the state allows.
            assert_eq!(state_of(&b).await, "routed");
            if shots {
                b.screenshot("case-page-routed", DESKTOP).await;
            }
            assert!(html(&b).await.contains("id=\"step-send_back\""));
            step(&b, "step-sign_for", "signed_for").await;
            assert!(
                !html(&b).await.contains("id=\"step-sign_for\""),
                "signed: no second sign-for"
            );
            step(&b, "step-start_verification", "verifying").await;
            click(&b, "#finding-1").await;
            b.type_into(
                "#finding-text",
                "经现场核查，该中心承诺包过、考场有人协助答题属实。",
            )
            .await;
            step(&b, "step-record_finding", "finding").await;
            click(&b, "#act-1").await; // 限期改正
            click(&b, "#act-2").await; // 罚款
            b.type_into("#amount", "2.5").await;
            step(&b, "step-record_actions", "actions").await;
            b.wait("#rect-status")
                .await
                .select_by_value("已完成整改")
                .await
                .expect("status");
            step(&b, "step-record_rectification", "rectification").await;
            b.type_into(
                "#reply-text",
                "您反映的问题经查属实，已责令限期改正并处罚款2.5万元。",
            )
            .await;
            step(&b, "step-reply", "replied").await;
            let timeline = b.text("#timeline + .timeline").await;
            assert!(timeline.contains("罚款 2.5 万元"), "{timeline}");
            assert!(
                timeline.contains("核查结论") && timeline.contains("属实"),
                "{timeline}"
            );
            assert!(
                !timeline.contains("signed_for"),
                "states named in Chinese: {timeline}"
            );

            // The referral letter to the police: preview (identity masked), then send.
            click(&b, "#letter-public_security a.button").await;
            wait_until(
                &b,
                "letter preview",
                "return !!document.querySelector('#letter-public_security .letter-text')",
            )
            .await;
            let letter = b.text("#letter-public_security .letter-text").await;
            assert!(
                letter.contains(&case_no) && letter.contains("鞍山市公安局铁东分局"),
                "{letter}"
            );
            assert!(
                !letter.contains(REPORTER_NAME) && !letter.contains(REPORTER_PHONE),
                "identity masked: {letter}"
            );
            if shots {
                b.screenshot("case-letter-preview", DESKTOP).await;
            }
            click(&b, "#letter-public_security form button").await;
            wait_until(&b, "letter queued", "var n = document.getElementById('notice'); return !!n && n.textContent.indexOf('移送函已排队') >= 0").await;
            assert!(b
                .text("#letter-public_security")
                .await
                .contains("已排队待发送"));

            // Close.
            step(&b, "step-close", "closed").await;
            assert!(b.text("#steps").await.contains("没有可办理的环节"));

            // Reveal the reporter's identity with a reason.
            b.wait("#reveal-report")
                .await
                .select_by_value(&first["report_id"].to_string())
                .await
                .expect("report");
            b.type_into("#reveal-reason", "需电话联系举报人核实培训班期次")
                .await;
            click(&b, "#reveal-form button").await;
            wait_until(
                &b,
                "identity",
                "return !!document.getElementById('identity')",
            )
            .await;
            let identity = b.text("#identity").await;
            assert!(
                identity.contains(REPORTER_NAME) && identity.contains(REPORTER_PHONE),
                "{identity}"
            );
            if shots {
                b.screenshot("case-page", DESKTOP).await;
            }
            // Shown only in the answer to the post: the case page read again does not hold it
            // (the reporter's own words in the text are the report, as the API shows it).
            b.client
                .goto(&server.url(&format!("/cases/{case_id}")))
                .await
                .expect("goto");
            wait_until(
                &b,
                "case page",
                "return !!document.getElementById('case-no')",
            )
            .await;
            assert_eq!(
                b.js("return !!document.getElementById('identity')").await,
                json!(false)
            );

            // Another county's case by URL: the not-found page, nothing of the case on it.
            b.client
                .goto(&server.url(&format!("/cases/{other_case}")))
                .await
                .expect("goto");
            assert_eq!(b.text("code").await, "not_found");
            let page = html(&b).await;
            assert!(
                !page.contains(&other_no) && !page.contains("鑫达"),
                "nothing of the other county's case"
            );
            if shots {
                b.screenshot("case-other-county", DESKTOP).await;
            }
            b.close().await;
        });

        // The letter is an outbox row, once per case × referral.
        let rows = outbox_rows(&dep, true);
        let key = format!("referral:{case_id}:public_security");
        assert_eq!(
            rows.iter()
                .filter(|r| r["dedup_key"] == key.as_str())
                .count(),
            1,
            "{backend:?}: {rows:?}"
        );
        // The reveal was audited, with its reason.
        let case: Value = c
            .get(server.url(&format!("/api/v1/cases/{case_id}")))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(case["case"]["state"], "closed", "{backend:?}");
        assert!(case["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "case.merged_from" && e["actor"] == "wang"));
    }
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP

/// A signed-in client of a user: its cookie and the session's CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn login(c: &Client, base: &str, name: &str) -> Session {
    let r = c
        .post(format!("{base}/login"))
        .form(&[("name", name), ("password", PASSWORD)])
        .send()
        .expect("login");
    assert_eq!(r.status().as_u16(), 303, "login of {name}");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tipline_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string();
    let page = c
        .get(format!("{base}/cases"))
        .header("Cookie", &cookie)
        .send()
        .expect("page")
        .text()
        .expect("text");
    let csrf = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf meta")
        .to_string();
    Session { cookie, csrf }
}

fn get_page(c: &Client, s: &Session, url: &str) -> (u16, String) {
    let r = c.get(url).header("Cookie", &s.cookie).send().expect("get");
    (r.status().as_u16(), r.text().unwrap_or_default())
}

fn post_form(c: &Client, s: &Session, url: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", s.csrf.as_str())];
    all.extend_from_slice(fields);
    let r = c
        .post(url)
        .header("Cookie", &s.cookie)
        .form(&all)
        .send()
        .expect("post");
    (r.status().as_u16(), r.text().unwrap_or_default())
}

#[test]
fn stale_versions_hostile_text_scope_and_read_only_pages() {
    for backend in backends() {
        let dep = deployment(backend);
        let token = dep.token("li", "officer", "210302");
        dep.token("zhao", "officer", "210303");
        dep.token("op", "operator", "210302");
        dep.token("boss", "leader", "210300");
        let server = dep.serve();
        let api = Client::new();
        let c = no_redirects();
        let ack = post_report(
            &api,
            &server.url("/api/v1/reports"),
            &token,
            json!({"channel": "web_form", "external_id": "pc-h1", "received_at": "2024-05-06T09:00:00+08:00",
                "reporter": {"phone": "13904125566"},
                "text": "鞍山市铁东区宏远安全技术培训学校<script>alert('x')</script>低压电工培训只上了一天课<img src=x onerror=alert(1)>，学时记录全是补的。\u{202E}反转"}),
        );
        let id = ack["case_id"].as_i64().unwrap();
        let case_url = server.url(&format!("/cases/{id}"));
        let li = login(&c, &server.base, "li");

        // Hostile text is text; the evidence is still marked.
        let (status, page) = get_page(&c, &li, &case_url);
        assert_eq!(status, 200, "{backend:?}");
        assert!(
            !page.contains("<script>alert"),
            "{backend:?}: script escaped"
        );
        assert!(!page.contains("<img src=x"), "{backend:?}: img escaped");
        let shown = page
            .split("class=\"u evidence\">")
            .nth(1)
            .and_then(|s| s.split("</p>").next())
            .unwrap_or("");
        assert!(
            shown.contains("&#60;script&#62;")
                && shown.contains("&#60;img src=x onerror=alert(1)&#62;"),
            "{backend:?}: {shown}"
        );
        assert!(
            page.contains("<mark class=\"ev\" title=\"规则 T2-"),
            "{backend:?}: the rule's words are marked"
        );
        assert!(
            page.contains(">铁东区</mark>"),
            "{backend:?}: the place is marked"
        );
        assert!(page.contains("id=\"step-sign_for\""));

        // The queue lists it, with the state tab counted.
        let (status, queue) = get_page(&c, &li, &server.url("/cases?state=routed"));
        assert_eq!(status, 200);
        assert!(
            queue.contains(&format!("href=\"/cases/{id}\"")),
            "{backend:?}"
        );
        assert!(queue.contains("已超期"), "{backend:?}");

        // A stale version: the conflict said, the typed text kept, the case shown as it is now.
        let (status, _) = post_form(
            &c,
            &li,
            &format!("{case_url}/steps"),
            &[("action", "sign_for"), ("version", "1")],
        );
        assert_eq!(status, 303, "{backend:?}: signed for");
        let typed = "我写了很长的退回理由，不能丢";
        let (status, page) = post_form(
            &c,
            &li,
            &format!("{case_url}/steps"),
            &[("action", "send_back"), ("version", "1"), ("reason", typed)],
        );
        assert_eq!(status, 409, "{backend:?}");
        assert!(page.contains("案件已被他人更新"), "{backend:?}");
        assert!(page.contains(typed), "{backend:?}: what was typed is kept");
        assert!(
            page.contains("data-state=\"signed_for\""),
            "{backend:?}: the case as it is now"
        );
        // An illegal step: the state machine's message.
        let (status, page) = post_form(
            &c,
            &li,
            &format!("{case_url}/steps"),
            &[("action", "close"), ("version", "2")],
        );
        assert_eq!(status, 409, "{backend:?}");
        assert!(page.contains("不能执行“办结”"), "{backend:?}");
        // A finding without text: refused, the choice kept.
        let (status, page) = post_form(
            &c,
            &li,
            &format!("{case_url}/steps"),
            &[("action", "start_verification"), ("version", "2")],
        );
        assert_eq!(status, 303, "{backend:?}");
        let (status, page2) = post_form(
            &c,
            &li,
            &format!("{case_url}/steps"),
            &[
                ("action", "record_finding"),
                ("version", "3"),
                ("finding", "部分属实"),
                ("text", ""),
            ],
        );
        let _ = page;
        assert_eq!(status, 400, "{backend:?}");
        assert!(
            page2.contains("value=\"部分属实\" required checked"),
            "{backend:?}"
        );
        // A reveal without a reason is refused; nothing shown.
        let (status, page) = post_form(
            &c,
            &li,
            &format!("{case_url}/reveal"),
            &[
                ("report_id", &ack["report_id"].to_string()),
                ("reason", " "),
            ],
        );
        assert_eq!(status, 400, "{backend:?}");
        assert!(!page.contains("13904125566"), "{backend:?}");

        // Another county: a 404 page, for reading and for posting.
        let zhao = login(&c, &server.base, "zhao");
        let (status, page) = get_page(&c, &zhao, &case_url);
        assert_eq!(status, 404, "{backend:?}");
        assert!(
            page.contains("<html") && !page.contains("宏远"),
            "{backend:?}: nothing leaks"
        );
        let (status, _) = post_form(
            &c,
            &zhao,
            &format!("{case_url}/steps"),
            &[("action", "start_verification"), ("version", "3")],
        );
        assert_eq!(status, 404, "{backend:?}");
        let (_, queue) = get_page(&c, &zhao, &server.url("/cases"));
        assert!(
            queue.contains("暂无待办案件"),
            "{backend:?}: the empty state is explained"
        );

        // An operator reads the case but gets no buttons; a post is refused as the API refuses it.
        let op = login(&c, &server.base, "op");
        let (status, page) = get_page(&c, &op, &case_url);
        assert_eq!(status, 200, "{backend:?}");
        assert!(
            !page.contains("action=\"/cases/"),
            "{backend:?}: no forms for an operator"
        );
        assert!(page.contains("id=\"read-only\""));
        let (status, _) = post_form(
            &c,
            &op,
            &format!("{case_url}/steps"),
            &[
                ("action", "record_finding"),
                ("version", "3"),
                ("finding", "属实"),
                ("text", "x"),
            ],
        );
        assert_eq!(status, 403, "{backend:?}");
        // A leader reads it too, without the reveal form.
        let boss = login(&c, &server.base, "boss");
        let (status, page) = get_page(&c, &boss, &case_url);
        assert_eq!(status, 200, "{backend:?}");
        assert!(
            !page.contains("reveal-form"),
            "{backend:?}: leaders never see identity"
        );
        let (status, page) = post_form(
            &c,
            &boss,
            &format!("{case_url}/reveal"),
            &[
                ("report_id", &ack["report_id"].to_string()),
                ("reason", "看看"),
            ],
        );
        assert_eq!(status, 403, "{backend:?}");
        assert!(!page.contains("13904125566"));
        // No session: to the login page.
        let r = c.get(&case_url).send().unwrap();
        assert_eq!(r.status().as_u16(), 303);
    }
}
