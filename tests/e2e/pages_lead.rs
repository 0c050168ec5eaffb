//! The leadership pages (issue 9): a leader signs in, searches, narrows by a facet, pages, opens a
//! subject's history, reads the statistics with their charts and downloads the monthly tables
//! (opened with calamine); over plain HTTP: another county's statistics are the 404 page, no
//! reporter identity on any of these pages, hostile report text escaped in the snippets.

use crate::browser_helpers::{available, run, Browser, DESKTOP, PHONE};
use crate::helpers::{backends, Backend, Deployment};
use calamine::{Data, Reader, Xlsx};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::io::Cursor;

/// The reporter's identity, sent with every report: it must never appear on these pages.
const REPORTER_NAME: &str = "欧阳保密";
const REPORTER_PHONE: &str = "13911112222";
const REPORTER_EMAIL: &str = "ouyang.secret@example.cn";
const PASSWORD: &str = "pw-Secret-123";

/// Distinct names, so that no two subjects are the same matter.
const NAMES: [&str; 24] = [
    "安达", "恒信", "宏远", "金桥", "华安", "顺通", "立德", "明远", "启航", "瑞丰", "盛世", "天成",
    "同创", "万达", "新华", "兴业", "永安", "远航", "正泰", "致远", "中信", "卓越", "博学", "诚信",
];

/// Where the "包过班" reports are: 15 in 渝中区, 6 in 江北区, 3 exam points in 渝北区.
fn places() -> Vec<(&'static str, &'static str)> {
    let mut v = vec![("渝中区", "training_institution"); 15];
    v.extend(vec![("江北区", "training_institution"); 6]);
    v.extend(vec![("渝北区", "exam_institution"); 3]);
    v
}

/// The subject the leader opens, with a finding recorded.
const FIRST_SUBJECT: &str = "渝中区安达安全技术培训学校";
const HOSTILE: &str = "重庆市渝北区有人假证贩卖<script>window.__pwned=1</script>\
                       <img src=x onerror=window.__pwned=2>\" onmouseover=\"window.__pwned=3 某某公司在网上卖焊工证。";

struct Fixture {
    dep: Deployment,
    server: crate::helpers::Server,
    this_month: String,
}

fn beijing_now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
}

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

/// A deployment at home in 重庆市 with 27 reports (24 about 包过班), a leader of the city, a
/// leader of 渝中区, and one case taken to a finding.
fn fixture(backend: Backend) -> Fixture {
    let dep = Deployment::new(backend);
    std::fs::write(
        dep.data().join("tipline.toml"),
        "[triage]\nhome = \"500000\"\n\n[monthly_reports]\nenabled = false\n",
    )
    .expect("configuration");
    let officer = dep.token("cq.officer", "officer", "500000");
    dep.token("cq.leader", "leader", "500000");
    dep.token("yz.leader", "leader", "500103");
    let server = dep.serve();
    let c = Client::new();
    let base = server.base.clone();
    let now = beijing_now();
    let reporter = json!({"name": REPORTER_NAME, "phone": REPORTER_PHONE, "email": REPORTER_EMAIL});
    let mut first_case = 0;
    for (i, (district, kind)) in places().into_iter().enumerate() {
        let (name, text) = if kind == "exam_institution" {
            let name = format!("{district}{}安全生产考试点", NAMES[i]);
            let text = format!("重庆市{name}开“包过班”，理论考试没有安排监考人员，考生随便抄。");
            (name, text)
        } else {
            let name = format!("{district}{}安全技术培训学校", NAMES[i]);
            let text = format!("重庆市{name}举办“包过班”，收钱保证考试通过，考试时还帮考生作弊。");
            (name, text)
        };
        // Spread over the last days, so that the order by time is known.
        let at = (now - chrono::Duration::hours(i as i64 + 1)).to_rfc3339();
        let ack = post(
            &c,
            &format!("{base}/api/v1/reports"),
            &officer,
            &json!({"channel": "web_form", "external_id": format!("pl-{i}"), "received_at": at,
                "reporter": reporter, "subject": {"name": name, "kind": kind, "address": format!("重庆市{district}")},
                "text": text}),
        );
        if i == 0 {
            assert_eq!(name, FIRST_SUBJECT);
            first_case = ack["case_id"].as_i64().expect("case id");
        }
    }
    let others = [
        (
            "pl-x1",
            "渝北区顺达化工有限公司",
            "production_unit",
            "重庆市渝北区顺达化工有限公司让没有特种作业操作证的电焊工无证上岗动火作业。",
        ),
        (
            "pl-x2",
            "江北区永固建材有限公司",
            "production_unit",
            "重庆市江北区永固建材有限公司叉车司机无证上岗。",
        ),
        ("pl-x3", "某某公司", "counterfeiter", HOSTILE),
    ];
    for (id, name, kind, text) in others {
        post(
            &c,
            &format!("{base}/api/v1/reports"),
            &officer,
            &json!({"channel": "hotline_12345", "external_id": id, "received_at": now.to_rfc3339(),
                "reporter": reporter, "subject": {"name": name, "kind": kind}, "text": text}),
        );
    }
    // The first case to a finding (属实) and an action: a row of 附件2 this month.
    let case: Value = c
        .get(format!("{base}/api/v1/cases/{first_case}"))
        .bearer_auth(&officer)
        .send()
        .and_then(|r| r.json())
        .expect("case");
    let mut version = case["case"]["version"].as_i64().expect("version");
    for step in [
        json!({"action": "sign_for"}),
        json!({"action": "start_verification"}),
        json!({"action": "record_finding", "finding": "属实", "text": "经查，该校举办包过班属实。"}),
        json!({"action": "record_actions", "actions": [{"kind": "限期改正"}]}),
    ] {
        let r = c
            .post(format!("{base}/api/v1/cases/{first_case}/transitions"))
            .bearer_auth(&officer)
            .header("If-Match", format!("\"{version}\""))
            .json(&step)
            .send()
            .expect("step");
        assert_eq!(r.status().as_u16(), 200, "{step}");
        version = r.json::<Value>().expect("case")["version"]
            .as_i64()
            .expect("version");
    }
    // The index follows the event log: wait until every report is searchable.
    let leader = session_cookie(&c, &base, "cq.leader");
    crate::helpers::wait_for(30, "reports indexed", || {
        let body = c
            .get(format!("{base}/api/v1/search?q="))
            .header("Cookie", &leader)
            .send()
            .ok()?
            .json::<Value>()
            .ok()?;
        (body["total"].as_u64() == Some(27)).then_some(())
    });
    Fixture {
        dep,
        server,
        this_month: now.format("%Y-%m").to_string(),
    }
}

/// Logs in through the API; the `Cookie` header value of the session.
fn session_cookie(c: &Client, base: &str, name: &str) -> String {
    let r = c
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"name": name, "password": PASSWORD}))
        .send()
        .expect("login");
    assert_eq!(r.status().as_u16(), 200, "login {name}");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tipline_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string()
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

async fn click(b: &Browser, css: &str) {
    b.wait(css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn count(b: &Browser, css: &str) -> u64 {
    b.js(&format!(
        "return document.querySelectorAll({}).length",
        serde_json::to_string(css).unwrap()
    ))
    .await
    .as_u64()
    .unwrap_or(0)
}

/// Waits until `#total` reads `want` (the page after a click).
async fn wait_total(b: &Browser, want: &str) {
    for _ in 0..100 {
        if b.js("var t=document.getElementById('total');return t?t.textContent:''")
            .await
            .as_str()
            == Some(want)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("total never read {want}: {}", b.text("#total").await);
}

/// Waits until the browser's address holds `needle` and the new page is there.
async fn wait_url(b: &Browser, needle: &str) {
    for _ in 0..100 {
        let url = b.client.current_url().await.expect("url");
        let ready = b.js("return document.readyState").await;
        if url.as_str().contains(needle) && ready.as_str() == Some("complete") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never reached an address with {needle}");
}

#[test]
fn leader_searches_narrows_pages_opens_history_and_reads_stats() {
    if !available() {
        return;
    }
    for backend in backends() {
        let fx = fixture(backend);
        let server = &fx.server;
        let shots = backend == Backend::Sqlite;
        let (cookie, monthly_url) = run(async {
            let b = Browser::start().await;
            // Sign in: a leader lands on the search page.
            b.client.goto(&server.url("/login")).await.expect("goto");
            b.type_into("#name", "cq.leader").await;
            b.type_into("#password", PASSWORD).await;
            click(&b, "form button[type=submit]").await;
            wait_url(&b, "/search").await;
            assert_eq!(b.text("h1").await, "案件检索");
            assert_eq!(b.text("#total").await, "27", "every report, newest first");

            // Search a phrase: 24 reports, highlighted snippets, the first page of 20.
            b.type_into("#q", "包过班").await;
            click(&b, "#search-go").await;
            wait_total(&b, "24").await;
            assert_eq!(count(&b, ".hit").await, 20);
            let marks = b
                .js("return Array.from(document.querySelectorAll('.snippet mark')).map(m => m.textContent)")
                .await;
            let marks: Vec<&str> = marks
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|m| m.as_str())
                .collect();
            assert!(
                marks.len() >= 20 && marks.iter().all(|m| *m == "包过班"),
                "{marks:?}"
            );
            if shots {
                b.screenshot("lead-search", DESKTOP).await;
            }

            // Page 2 holds the last 4.
            click(&b, "#page-next").await;
            for _ in 0..50 {
                if count(&b, ".hit").await == 4 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(count(&b, ".hit").await, 4);
            assert!(b.text(".results-head").await.contains("第 21–24 条"));

            // A facet value narrows the results: 江北区 holds 6 of them.
            let jiangbei = b
                .js("var a=Array.from(document.querySelectorAll('#facet-county a')).find(a=>a.textContent.includes('江北区'));return a?a.querySelector('.fc').textContent:null")
                .await;
            assert_eq!(jiangbei.as_str(), Some("6"));
            b.js("Array.from(document.querySelectorAll('#facet-county a')).find(a=>a.textContent.includes('江北区')).setAttribute('id','pick')")
                .await;
            click(&b, "#pick").await;
            wait_total(&b, "6").await;
            assert_eq!(count(&b, ".hit").await, 6);
            assert!(b.text(".chips").await.contains("地区：江北区"));
            // Another facet on top: 安全培训机构 within 江北区 is still 6; 考试点 would be none.
            let kinds = b.text("#facet-subject_kind").await;
            assert!(
                kinds.contains("安全培训机构") && !kinds.contains("考试机构"),
                "{kinds}"
            );
            if shots {
                b.screenshot("lead-search-facet", DESKTOP).await;
                b.screenshot("lead-search-facet-phone", PHONE).await;
            }
            // Removing the chip widens again.
            click(&b, ".chip").await;
            wait_total(&b, "24").await;

            // The order: a new choice re-runs the search (script); oldest, then newest first.
            b.wait("#sort")
                .await
                .select_by_value("oldest")
                .await
                .expect("sort");
            wait_url(&b, "sort=oldest").await;
            assert_eq!(b.text(".hit .subject").await, "渝北区诚信安全生产考试点");
            b.wait("#sort")
                .await
                .select_by_value("newest")
                .await
                .expect("sort");
            wait_url(&b, "sort=newest").await;
            // Then open the newest subject's history from its hit.
            let first_subject = b.text(".hit .subject").await;
            assert_eq!(first_subject, FIRST_SUBJECT);
            click(&b, ".hit a.subject").await;
            assert_eq!(b.text("#subject-name").await, FIRST_SUBJECT);
            assert_eq!(b.text("#report-count").await, "1 次");
            let cases = b.text("#subject-cases").await;
            assert!(
                cases.contains("属实") && cases.contains("已处理"),
                "{cases}"
            );
            assert!(cases.contains("经查，该校举办包过班属实。"), "{cases}");
            if shots {
                b.screenshot("lead-subject", DESKTOP).await;
            }

            // Statistics: the table and the charts, which load.
            b.client
                .goto(&server.url(&format!("/stats?from=2024-01&to={}", fx.this_month)))
                .await
                .expect("goto");
            assert_eq!(b.text("#total-reports").await, "27");
            let rows = count(&b, "#stats-table tbody tr").await;
            assert!(rows >= 12, "a row per month: {rows}");
            b.wait("#st-by")
                .await
                .select_by_value("jurisdiction")
                .await
                .expect("by");
            click(&b, "#stats-go").await;
            wait_url(&b, "by=jurisdiction").await;
            let table = b.text("#stats-table").await;
            assert!(
                table.contains("渝中区") && table.contains("江北区"),
                "{table}"
            );
            let mut loaded = serde_json::Value::Null;
            for _ in 0..50 {
                loaded = b
                    .js("return Array.from(document.querySelectorAll('.chart img')).map(i => i.complete && i.naturalWidth)")
                    .await;
                if loaded
                    .as_array()
                    .is_some_and(|a| a.len() == 2 && a.iter().all(|w| w.as_u64().unwrap_or(0) > 0))
                {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(loaded, json!([720, 720]), "both charts load as images");
            if shots {
                b.screenshot("lead-stats", DESKTOP).await;
            }

            // The monthly tables: this month, the city; the form's address as the browser builds it.
            b.wait("#mo-month")
                .await
                .select_by_value(&fx.this_month)
                .await
                .expect("month");
            let url = b
                .js("var f=document.getElementById('monthly-form');return f.action+'?'+new URLSearchParams(new FormData(f)).toString()")
                .await
                .as_str()
                .expect("url")
                .to_string();
            let cookies = b.client.get_all_cookies().await.expect("cookies");
            let session = cookies
                .iter()
                .find(|c| c.name() == "tipline_session")
                .expect("session cookie in the browser");
            let cookie = format!("tipline_session={}", session.value());
            b.close().await;
            (cookie, url)
        });
        assert!(
            monthly_url.contains("jurisdiction=500000")
                && monthly_url.contains(&format!("month={}", fx.this_month)),
            "{monthly_url}"
        );
        let r = Client::new()
            .get(&monthly_url)
            .header("Cookie", &cookie)
            .send()
            .expect("download");
        assert_eq!(r.status().as_u16(), 200, "{monthly_url}");
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(r.bytes().unwrap().to_vec()))
                .expect("an XLSX");
        assert_eq!(
            book.sheet_names(),
            ["附件2 培训机构", "附件3 考试机构", "附件4 生产经营单位"]
        );
        let t = book.worksheet_range("附件2 培训机构").unwrap();
        assert_eq!(cell(&t, 5, 1), FIRST_SUBJECT);
        // One "包过班" problem found (属实) and 限期改正 done.
        assert_eq!((cell(&t, 5, 8), cell(&t, 5, 11)), ("1".into(), "√".into()));
        assert_eq!(cell(&t, 6, 0), "合计");
        // The chart's numbers download too, with the same cookie.
        let r = Client::new()
            .get(fx.server.url(&format!(
                "/api/v1/stats?from=2024-01&to={}&by=jurisdiction&jurisdiction=500000&format=xlsx",
                fx.this_month
            )))
            .header("Cookie", &cookie)
            .send()
            .expect("xlsx");
        assert_eq!(r.status().as_u16(), 200);
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(r.bytes().unwrap().to_vec())).unwrap();
        assert!(book.worksheet_range("统计").is_ok());
        drop(fx);
    }
}

#[test]
fn leadership_pages_keep_scope_identity_and_escaping() {
    for backend in backends() {
        let fx = fixture(backend);
        let c = Client::new();
        let base = fx.server.base.clone();
        let city = session_cookie(&c, &base, "cq.leader");
        let county = session_cookie(&c, &base, "yz.leader");
        let page = |cookie: &str, path: &str| {
            let r = c
                .get(format!("{base}{path}"))
                .header("Cookie", cookie)
                .send()
                .expect("page");
            let status = r.status().as_u16();
            let html = r
                .headers()
                .get("content-type")
                .is_some_and(|t| t.to_str().unwrap_or("").starts_with("text/html"));
            assert!(html, "{path}: an HTML page");
            (status, r.text().unwrap())
        };

        // Without a session: to the login page.
        let r = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{base}/stats"))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next="));

        // A county leader: their own county's statistics, another county's is the 404 page.
        let (status, own) = page(&county, "/stats?jurisdiction=500103&from=2024-01");
        assert_eq!(status, 200, "{own}");
        assert!(
            own.contains("id=\"total-reports\">15<"),
            "渝中区's 15 reports"
        );
        assert!(
            own.contains("<option value=\"500103\"") && !own.contains("value=\"500105\""),
            "a county chooses only itself"
        );
        let (_, city_stats) = page(&city, "/stats?by=jurisdiction&from=2024-01");
        assert!(
            city_stats.contains("<option value=\"500105\"")
                && city_stats.contains("jurisdiction=500103"),
            "the city chooses its counties and drills down into them"
        );
        let (status, other) = page(&county, "/stats?jurisdiction=500112");
        assert_eq!(status, 404);
        assert!(other.contains("not_found") && !other.contains("stats-table"));
        assert!(
            other.contains("href=\"/staff\"") && !other.contains("返回举报页面"),
            "a staff page's error leads back to the staff pages"
        );
        // A malformed period is said on the form, not a failure.
        let (status, bad) = page(&county, "/stats?from=2024-13");
        assert_eq!(status, 400);
        assert!(bad.contains("id=\"errors\"") && bad.contains("stats-form"));
        // The county leader's search holds their county only, facets included.
        let (_, mine) = page(&county, "/search?q=%E5%8C%85%E8%BF%87%E7%8F%AD");
        assert!(mine.contains("id=\"total\">15<"), "county scope");
        assert!(
            !mine.contains("江北区"),
            "no other county in facets or hits"
        );
        // A subject of another county reads as not found.
        let (status, _) = page(&county, "/subjects/江北区兴业安全技术培训学校");
        assert_eq!(status, 404);
        let (status, _) = page(&city, "/subjects/江北区兴业安全技术培训学校");
        assert_eq!(status, 200, "江北区兴业安全技术培训学校 for the city");

        // No reporter identity on any of these pages.
        for path in [
            "/search",
            "/search?q=%E5%8C%85%E8%BF%87%E7%8F%AD",
            "/search?q=%E6%97%A0%E8%AF%81%E4%B8%8A%E5%B2%97&sort=newest",
            "/search?q=%E5%81%87%E8%AF%81%E8%B4%A9%E5%8D%96",
            &format!("/subjects/{FIRST_SUBJECT}"),
            "/stats?from=2024-01&by=channel",
        ] {
            let (status, body) = page(&city, path);
            assert_eq!(status, 200, "{path}");
            for secret in [REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL, "13911112222"] {
                assert!(!body.contains(secret), "{path} shows {secret}");
            }
        }

        // Hostile report text in a snippet: shown as text, the match marked.
        let (_, found) = page(&city, "/search?q=%E5%81%87%E8%AF%81%E8%B4%A9%E5%8D%96");
        // Entities as askama writes them or by name: the same text.
        let found = found
            .replace("&#60;", "&lt;")
            .replace("&#62;", "&gt;")
            .replace("&#34;", "&quot;");
        assert!(found.contains("id=\"total\">1<"), "one hostile report");
        assert!(
            found.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"),
            "{found}"
        );
        assert!(found.contains("&lt;img src=x onerror=window.__pwned=2&gt;"));
        assert!(found.contains("<mark>假证贩卖</mark>"));
        assert!(!found.contains("<script>window"));
        assert!(!found.contains("<img src=x"));
        assert!(!found.contains("\" onmouseover=\""));
        // A hostile query is echoed as text too.
        // (its unbalanced quote is a bad query: said on the page, the box keeps what was typed)
        let (status, echoed) = page(&city, "/search?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        assert!(status == 200 || status == 400, "{status}");
        assert!(echoed.contains("id=\"q\"") && !echoed.contains("<script>alert(1)"));
        assert!(
            echoed.contains("&#34;&#62;&#60;script&#62;alert(1)")
                || echoed.contains("&quot;&gt;&lt;script&gt;alert(1)"),
            "{echoed}"
        );

        // Every search of the pages is audited, as the API's are.
        let (code, out, err) = fx.dep.run(&["audit"], "");
        assert_eq!(code, 0, "{err}");
        let searches = out
            .lines()
            .filter(|l| l.contains("\"search\"") && l.contains("yz.leader"))
            .count();
        assert!(searches >= 1, "{out}");
    }
}
