//! Who may do what (issues 8, 9): every role × jurisdiction level × endpoint of the API and staff
//! page, against cases inside and outside scope, as tables; conflicts of interest; session cookies, CSRF and the
//! failed-login limit.

use crate::helpers::{backends, Backend, Deployment, Server};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A deployment in 鞍山 with the 高新区 development zone declared (its own bureau, code 210371).
const CONFIG: &str = r#"
[triage]
home = "210300"

[[triage.zones]]
name = "鞍山高新技术产业开发区"
code = "210371"
aliases = ["鞍山高新区", "高新区"]
townships = ["210302014", "210302015", "210311102"]
"#;

const PASSWORD: &str = "pw-Secret-123";

/// The jurisdiction levels under test.
const LEVELS: [(&str, &str); 4] = [
    ("province", "210000"),
    ("prefecture", "210300"),
    ("county", "210302"),
    ("zone", "210371"),
];
const ROLES: [&str; 4] = ["operator", "officer", "leader", "admin"];

/// The cases: a 铁东区 training school (county case), one in the 高新区 zone's township (the zone
/// handles it; its locus is 铁东区), one in 铁西区, and one in 泰安 (outside the home: transferred).
const CASES: [(&str, &str, &str); 4] = [
    (
        "A",
        "鞍山市铁东区宏达安全技术培训学校",
        "鞍山市铁东区宏达安全技术培训学校培训档案造假，签到表都是代签的。",
    ),
    (
        "B",
        "鞍山市铁东区旧堡街道鑫源安全培训中心",
        "鞍山市铁东区旧堡街道鑫源安全培训中心搞包过班，交钱不用上课就能拿证。",
    ),
    (
        "C",
        "鞍山铁西恒通安全技术培训学校",
        "鞍山铁西恒通安全技术培训学校的学员花钱买考试答案，实操训练也不组织。",
    ),
    (
        "D",
        "泰岳安全培训学校",
        "山东省泰安市泰山区泰岳安全培训学校收费包过，考试时有人代考。",
    ),
];

/// What a level sees of each case: `H` the handling office (sees it, may reveal identity), `L`
/// sees it by its locus only (not the handling office), `N` out of scope (404).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sees {
    H,
    L,
    N,
}
use Sees::{H, L, N};

/// case:                 A   B   C   D
const SEES: [(&str, [Sees; 4]); 4] = [
    ("province", [H, H, H, N]),
    ("prefecture", [H, H, H, N]),
    ("county", [H, L, N, N]),
    ("zone", [N, H, N, N]),
];

/// A cell answered with `status` by the handling office (or one above it) and with 403 by an
/// office that sees the case by its locus only: `handling(200)` is the reveal.
const fn handling(status: u16) -> u16 {
    1000 + status
}
const REVEAL: u16 = handling(200);

/// What a level may not ask statistics of: another province, a sibling prefecture, a sibling
/// county, and the county the zone lies in (the zone's territory is part of it, not all of it).
const OUTSIDE: [(&str, &str); 4] = [
    ("province", "370000"),
    ("prefecture", "210200"),
    ("county", "210303"),
    ("zone", "210302"),
];

/// Endpoints on one case: the status out of scope, then in scope per role
/// (operator, officer, leader, admin). The writes are refused by the store after the access
/// checks (merge into itself, split off every report, close a routed case), so they change
/// nothing and every cell can be asked in any order: an extension request of 0 days (400 after
/// the checks), a decision on request 1, which no case has (404 after the checks).
const CASE_ENDPOINTS: [(&str, &str, u16, [u16; 4]); 10] = [
    ("GET", "/api/v1/cases/{case}", 404, [200, 200, 200, 200]),
    ("GET", "/api/v1/reports/{report}", 404, [200, 200, 200, 200]),
    (
        "GET",
        "/api/v1/subjects/{subject}",
        404,
        [200, 200, 200, 200],
    ),
    (
        "POST",
        "/api/v1/cases/{case}/merge",
        404,
        [403, 409, 403, 409],
    ),
    (
        "POST",
        "/api/v1/cases/{case}/split",
        404,
        [403, 409, 403, 409],
    ),
    (
        "POST",
        "/api/v1/cases/{case}/transitions",
        404,
        [403, 409, 403, 409],
    ),
    (
        "POST",
        "/api/v1/reports/{report}/reveal",
        404,
        [403, REVEAL, 403, REVEAL],
    ),
    (
        "GET",
        "/api/v1/cases/{case}/extensions",
        404,
        [200, 200, 200, 200],
    ),
    (
        "POST",
        "/api/v1/cases/{case}/extensions",
        404,
        [403, handling(400), 403, handling(400)],
    ),
    (
        "POST",
        "/api/v1/cases/{case}/extensions/1/decision",
        404,
        [403, 403, handling(404), handling(404)],
    ),
];

/// Endpoints asked of a jurisdiction: `{j}` is the level's own code, then one of `OUTSIDE`;
/// the status per role (operator, officer, leader, admin) inside, outside, and without
/// credentials.
const JURISDICTION_ENDPOINTS: [(&str, [u16; 4], [u16; 4], u16); 3] = [
    (
        "/api/v1/stats?from=2024-01-01&to=2024-12-31&jurisdiction={j}",
        [200, 200, 200, 200],
        [404, 404, 404, 404],
        401,
    ),
    (
        "/api/v1/stats?from=2024-01-01&to=2024-12-31&by=channel&format=xlsx&jurisdiction={j}",
        [200, 200, 200, 200],
        [404, 404, 404, 404],
        401,
    ),
    (
        "/api/v1/reports/monthly.xlsx?month=2024-04&jurisdiction={j}",
        [403, 403, 200, 200],
        [403, 403, 404, 404],
        401,
    ),
];

/// Endpoints on no case, per role (operator, officer, leader, admin); the last column is the
/// answer without credentials. The public pages answer alike with or without credentials.
const GENERAL_ENDPOINTS: [(&str, &str, [u16; 4], u16); 30] = [
    ("GET", "/healthz", [200, 200, 200, 200], 200),
    ("GET", "/readyz", [200, 200, 200, 200], 200),
    ("GET", "/metrics", [200, 200, 200, 200], 200),
    ("GET", "/api/v1/openapi.json", [200, 200, 200, 200], 200),
    ("GET", "/api/v1/queue", [200, 200, 200, 200], 401),
    ("GET", "/api/v1/search?limit=100", [200, 200, 200, 200], 401),
    ("GET", "/api/v1/stats/monthly", [200, 200, 200, 200], 401),
    ("GET", "/api/v1/stats", [200, 200, 200, 200], 401),
    ("GET", "/api/v1/stats?by=nothing", [400, 400, 400, 400], 401),
    (
        "GET",
        "/api/v1/reports/monthly.xlsx?month=2024-04",
        [403, 403, 200, 200],
        401,
    ),
    (
        "GET",
        "/api/v1/channels/12345/replies",
        [200, 200, 200, 200],
        401,
    ),
    (
        "GET",
        "/api/v1/channels/12345/replies?since=0",
        [200, 200, 200, 200],
        401,
    ),
    ("POST", "/api/v1/triage/preview", [200, 200, 200, 200], 401),
    // A re-sent envelope answers with the first report.
    ("POST", "/api/v1/reports", [200, 200, 200, 200], 401),
    // Without the order's and the call's numbers: refused after authentication.
    (
        "POST",
        "/api/v1/channels/12345/orders",
        [400, 400, 400, 400],
        401,
    ),
    (
        "POST",
        "/api/v1/channels/12350/calls",
        [400, 400, 400, 400],
        401,
    ),
    (
        "GET",
        "/api/v1/receipts/23456789ABCDEFGH",
        [404, 404, 404, 404],
        404,
    ),
    (
        "POST",
        "/api/v1/receipts/23456789ABCDEFGH",
        [404, 404, 404, 404],
        404,
    ),
    ("GET", "/api/v1/session", [200, 200, 200, 200], 401),
    // A login without a password: refused before any name is looked up or counted.
    ("POST", "/api/v1/session", [400, 400, 400, 400], 400),
    ("GET", "/api/v1/admin/exclusions", [403, 403, 403, 200], 401),
    ("GET", "/api/v1/no/such/route", [404, 404, 404, 404], 404),
    ("GET", "/", [303, 303, 303, 303], 303),
    ("GET", "/report", [200, 200, 200, 200], 200),
    ("GET", "/report/follow", [200, 200, 200, 200], 200),
    ("POST", "/report", [400, 400, 400, 400], 400),
    ("POST", "/report/follow", [400, 400, 400, 400], 400),
    ("POST", "/report/follow/add", [400, 400, 400, 400], 400),
    ("GET", "/assets/no-such.css", [404, 404, 404, 404], 404),
    ("DELETE", "/api/v1/session", [200, 200, 200, 200], 401),
];

/// Staff pages on one case, read with the session cookie: the status out of scope, then in
/// scope per role (operator, officer, leader, admin). The same scope as the API's.
const CASE_PAGES: [(&str, u16, [u16; 4]); 2] = [
    ("/cases/{case}", 404, [200, 200, 200, 200]),
    ("/subjects/{subject}", 404, [200, 200, 200, 200]),
];

/// Staff pages on no case, per role (operator, officer, leader, admin), with the session cookie.
/// Without a session (or with a bearer token only: pages are for people) each sends the browser
/// to the login page (303).
const GENERAL_PAGES: [(&str, [u16; 4]); 8] = [
    ("/staff", [303, 303, 303, 303]),
    ("/desk", [200, 200, 200, 200]),
    ("/cases", [200, 200, 200, 200]),
    ("/cases?state=routed&overdue=true", [200, 200, 200, 200]),
    ("/search?q=培训", [200, 200, 200, 200]),
    ("/stats", [200, 200, 200, 200]),
    ("/admin", [403, 403, 403, 200]),
    ("/login", [200, 200, 200, 200]),
];

/// Staff pages asked of a jurisdiction (`{j}`: the level's own code, then one of `OUTSIDE`): per
/// role inside, then outside.
const JURISDICTION_PAGES: [(&str, [u16; 4], [u16; 4]); 1] = [(
    "/stats?jurisdiction={j}",
    [200, 200, 200, 200],
    [404, 404, 404, 404],
)];

/// Logs in with name and password for the session cookie's value.
fn login_cookie(c: &Client, server: &Server, name: &str) -> String {
    let r = c
        .post(server.url("/api/v1/session"))
        .json(&json!({"name": name, "password": PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "login {name}");
    session_cookie(&r).0
}

/// Rate-limited per client address (receipt codes, the follow page): asked from an address of
/// their own per user so that the table stays under the limit.
fn limited(path: &str) -> bool {
    path.starts_with("/api/v1/receipts/") || path.starts_with("/report/follow")
}

/// How a request authenticates.
#[derive(Clone)]
enum Auth {
    None,
    Bearer(String),
    /// Session cookie with an optional CSRF header.
    Cookie(String, Option<String>),
}

fn send(c: &Client, method: &str, url: &str, auth: &Auth, body: Option<&Value>) -> (u16, Value) {
    let mut r: RequestBuilder = match method {
        "GET" => c.get(url),
        "POST" => c.post(url),
        "DELETE" => c.delete(url),
        other => panic!("method {other}"),
    };
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => r = r.bearer_auth(t),
        Auth::Cookie(cookie, csrf) => {
            r = r.header("Cookie", format!("tipline_session={cookie}"));
            if let Some(csrf) = csrf {
                r = r.header("X-CSRF-Token", csrf);
            }
        }
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let response = r.send().expect("request");
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn envelope(id: &str, text: &str) -> Value {
    json!({"channel": "hotline_12350", "external_id": id, "received_at": "2024-04-01T09:00:00+08:00",
           "reporter": {"name": "周保密", "phone": "13912345678"}, "text": text})
}

/// Adds a user (with aliases) through the command line.
fn add_user(dep: &Deployment, name: &str, role: &str, code: &str, aliases: &[&str]) {
    let mut args = vec!["user", "add", name, "--role", role, "--jurisdiction", code];
    for a in aliases {
        args.extend(["--alias", a]);
    }
    let (status, _, err) = dep.run(&args, &format!("{PASSWORD}\n"));
    assert_eq!(status, 0, "user add {name}: {err}");
}

fn token_for(dep: &Deployment, name: &str) -> String {
    let (status, out, err) = dep.run(&["token", "add", "--user", name], "");
    assert_eq!(status, 0, "token add: {err}");
    out.trim().to_string()
}

struct Stored {
    case: i64,
    report: i64,
}

fn post_report(c: &Client, server: &Server, token: &str, id: &str, text: &str) -> Stored {
    let (status, ack) = send(
        c,
        "POST",
        &server.url("/api/v1/reports"),
        &Auth::Bearer(token.into()),
        Some(&envelope(id, text)),
    );
    assert_eq!(status, 201, "{ack}");
    Stored {
        case: ack["case_id"].as_i64().unwrap(),
        report: ack["report_id"].as_i64().unwrap(),
    }
}

/// The case ids a search or queue answer lists.
fn listed(body: &Value, list: &str) -> Vec<i64> {
    body[list]
        .as_array()
        .map(|a| a.iter().filter_map(|h| h["case_id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Waits until the search index holds the reports (it follows the event log).
fn wait_indexed(c: &Client, server: &Server, token: &str, want: usize) {
    for _ in 0..100 {
        let (_, body) = send(
            c,
            "GET",
            &server.url("/api/v1/search?limit=100"),
            &Auth::Bearer(token.into()),
            None,
        );
        if body["total"].as_u64().unwrap_or(0) as usize >= want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the search index did not catch up");
}

/// The body a general endpoint is asked with.
fn general_body(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("GET", _) => None,
        (_, "/api/v1/triage/preview") => Some(json!({"text": CASES[0].2})),
        (_, "/api/v1/reports") => Some(envelope("ACCESS-A", CASES[0].2)),
        (_, "/api/v1/session") => Some(json!({"name": "province_admin"})),
        (_, p) if p.starts_with("/api/v1/receipts/") => Some(json!({"text": "补充：表格测试"})),
        (_, p) if p.starts_with("/api/v1/channels/") => Some(json!({})),
        _ => None,
    }
}

#[test]
fn every_role_level_and_endpoint_answers_as_the_table_says() {
    for backend in backends() {
        access_table(backend);
    }
}

fn access_table(backend: Backend) {
    let dep = Deployment::new(backend);
    std::fs::write(dep.data().join("tipline.toml"), CONFIG).unwrap();
    let intake = {
        add_user(&dep, "intake", "operator", "370000", &[]);
        token_for(&dep, "intake")
    };
    let mut tokens: BTreeMap<(&str, &str), String> = BTreeMap::new();
    for (level, code) in LEVELS {
        for role in ROLES {
            let name = format!("{level}_{role}");
            add_user(&dep, &name, role, code, &[]);
            tokens.insert((level, role), token_for(&dep, &name));
        }
    }
    let server = dep.serve();
    let c = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stored: Vec<Stored> = CASES
        .iter()
        .map(|(id, _, text)| post_report(&c, &server, &intake, &format!("ACCESS-{id}"), text))
        .collect();
    // The placements the table rests on.
    let admin = Auth::Bearer(tokens[&("province", "admin")].clone());
    let mut handling = Vec::new();
    // Subjects as extracted (the history is looked up by them; C's opens with short place names,
    // which the stored key leaves out); D is seen by none of the users.
    let mut subjects: Vec<String> = CASES.iter().map(|c| c.1.to_string()).collect();
    for (i, s) in stored.iter().take(3).enumerate() {
        let (_, body) = send(
            &c,
            "GET",
            &server.url(&format!("/api/v1/cases/{}", s.case)),
            &admin,
            None,
        );
        handling.push(body["case"]["handling"].as_str().unwrap_or("").to_string());
        subjects[i] = body["case"]["subject_name"]
            .as_str()
            .unwrap_or("")
            .to_string();
    }
    assert_eq!(
        handling,
        ["210302", "210371", "210303"],
        "{backend:?}: case placements"
    );
    assert_eq!(
        &subjects[..3],
        CASES[..3].iter().map(|c| c.1).collect::<Vec<_>>(),
        "{backend:?}: subjects"
    );
    wait_indexed(&c, &server, &tokens[&("province", "admin")], 3);

    let mut user = 0;
    for (level, sees) in SEES {
        for (r, role) in ROLES.iter().enumerate() {
            let auth = Auth::Bearer(tokens[&(level, *role)].clone());
            for (i, subject) in subjects.iter().enumerate() {
                let s = &stored[i];
                for (method, template, outside, inside) in CASE_ENDPOINTS {
                    let path = template
                        .replace("{case}", &s.case.to_string())
                        .replace("{report}", &s.report.to_string())
                        .replace("{subject}", subject);
                    let body = match (method, template) {
                        ("GET", _) => None,
                        (_, t) if t.ends_with("/merge") => {
                            Some(json!({"into": s.case, "reason": "表格测试"}))
                        }
                        (_, t) if t.ends_with("/split") => {
                            Some(json!({"report_ids": [s.report], "reason": "表格测试"}))
                        }
                        (_, t) if t.ends_with("/transitions") => Some(json!({"action": "close"})),
                        (_, t) if t.ends_with("/reveal") => {
                            Some(json!({"reason": "表格测试：核实"}))
                        }
                        (_, t) if t.ends_with("/extensions") => {
                            Some(json!({"days": 0, "reason": "表格测试"}))
                        }
                        (_, t) if t.ends_with("/decision") => Some(json!({"approve": true})),
                        _ => None,
                    };
                    let want = match sees[i] {
                        N => outside,
                        cell => match inside[r] {
                            status if status >= 1000 && cell == H => status - 1000,
                            status if status >= 1000 => 403,
                            status => status,
                        },
                    };
                    let (status, answer) =
                        send(&c, method, &server.url(&path), &auth, body.as_ref());
                    assert_eq!(
                        status, want,
                        "{backend:?} {level} {role} {method} {template} on case {}: {answer}",
                        CASES[i].0
                    );
                }
            }
            let own = client_from(40 + user as u8);
            user += 1;
            for (method, path, per_role, _) in GENERAL_ENDPOINTS {
                if method == "DELETE" {
                    continue; // bearer "logout" is tested last, it ends nothing
                }
                let client = if limited(path) { &own } else { &c };
                let body = general_body(method, path);
                let (status, answer) =
                    send(client, method, &server.url(path), &auth, body.as_ref());
                assert_eq!(
                    status, per_role[r],
                    "{backend:?} {level} {role} {method} {path}: {answer}"
                );
            }
            let outside_code = OUTSIDE.iter().find(|o| o.0 == level).unwrap().1;
            let own_code = LEVELS.iter().find(|l| l.0 == level).unwrap().1;
            for (template, inside, outside, _) in JURISDICTION_ENDPOINTS {
                for (code, want) in [(own_code, inside[r]), (outside_code, outside[r])] {
                    let path = template.replace("{j}", code);
                    let (status, answer) = send(&c, "GET", &server.url(&path), &auth, None);
                    assert_eq!(
                        status, want,
                        "{backend:?} {level} {role} GET {path}: {answer}"
                    );
                }
            }
            // The pages, with a session as people use them: the same scope as the API.
            let session = Auth::Cookie(login_cookie(&c, &server, &format!("{level}_{role}")), None);
            for (i, subject) in subjects.iter().enumerate() {
                for (template, outside, inside) in CASE_PAGES {
                    let path = template
                        .replace("{case}", &stored[i].case.to_string())
                        .replace("{subject}", subject);
                    let want = if sees[i] == N { outside } else { inside[r] };
                    let (status, _) = send(&c, "GET", &server.url(&path), &session, None);
                    assert_eq!(
                        status, want,
                        "{backend:?} {level} {role} page {template} on case {}",
                        CASES[i].0
                    );
                }
            }
            for (path, per_role) in GENERAL_PAGES {
                let (status, _) = send(&c, "GET", &server.url(path), &session, None);
                assert_eq!(
                    status, per_role[r],
                    "{backend:?} {level} {role} page {path}"
                );
                if path != "/login" {
                    let (status, _) = send(&c, "GET", &server.url(path), &auth, None);
                    assert_eq!(
                        status, 303,
                        "{backend:?} {level} {role} page {path} by bearer"
                    );
                }
            }
            for (template, inside, outside) in JURISDICTION_PAGES {
                for (code, want) in [(own_code, inside[r]), (outside_code, outside[r])] {
                    let path = template.replace("{j}", code);
                    let (status, _) = send(&c, "GET", &server.url(&path), &session, None);
                    assert_eq!(status, want, "{backend:?} {level} {role} page {path}");
                }
            }
            // The lists hold exactly the cases in scope; the transferred case is in no queue.
            let (_, queue) = send(&c, "GET", &server.url("/api/v1/queue"), &auth, None);
            let (_, search) = send(
                &c,
                "GET",
                &server.url("/api/v1/search?limit=100"),
                &auth,
                None,
            );
            for (i, s) in stored.iter().enumerate() {
                let visible = sees[i] != N;
                assert_eq!(
                    listed(&search, "hits").contains(&s.case),
                    visible,
                    "{backend:?} {level} {role} search {}",
                    CASES[i].0
                );
                assert_eq!(
                    listed(&queue, "cases").contains(&s.case),
                    visible && i < 3,
                    "{backend:?} {level} {role} queue {}",
                    CASES[i].0
                );
            }
        }
    }
    let own = client_from(60);
    for (method, path, _, anonymous) in GENERAL_ENDPOINTS {
        let client = if limited(path) { &own } else { &c };
        let body = general_body(method, path);
        let (status, _) = send(
            client,
            method,
            &server.url(path),
            &Auth::None,
            body.as_ref(),
        );
        assert_eq!(
            status, anonymous,
            "{backend:?} no credentials: {method} {path}"
        );
    }
    for (template, _, _, anonymous) in JURISDICTION_ENDPOINTS {
        let path = template.replace("{j}", "210300");
        let (status, _) = send(&c, "GET", &server.url(&path), &Auth::None, None);
        assert_eq!(status, anonymous, "{backend:?} no credentials: GET {path}");
    }
    for (method, template, _, _) in CASE_ENDPOINTS {
        let path = template
            .replace("{case}", &stored[0].case.to_string())
            .replace("{report}", &stored[0].report.to_string())
            .replace("{subject}", CASES[0].1);
        let (status, _) = send(
            &c,
            method,
            &server.url(&path),
            &Auth::None,
            Some(&json!({})),
        );
        assert_eq!(
            status, 401,
            "{backend:?} no credentials: {method} {template}"
        );
    }
    for (path, _) in GENERAL_PAGES {
        let (status, _) = send(&c, "GET", &server.url(path), &Auth::None, None);
        let want = if path == "/login" { 200 } else { 303 };
        assert_eq!(status, want, "{backend:?} no session: page {path}");
    }
    for (template, _, _) in CASE_PAGES {
        let path = template
            .replace("{case}", &stored[0].case.to_string())
            .replace("{subject}", CASES[0].1);
        let (status, _) = send(&c, "GET", &server.url(&path), &Auth::None, None);
        assert_eq!(status, 303, "{backend:?} no session: page {template}");
    }
    let (status, _) = send(&c, "DELETE", &server.url("/api/v1/session"), &admin, None);
    assert_eq!(status, 200, "a bearer request is exempt from CSRF");
}

#[test]
fn an_officer_named_in_a_report_is_excluded_from_its_case() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        std::fs::write(dep.data().join("tipline.toml"), CONFIG).unwrap();
        add_user(&dep, "intake", "operator", "370000", &[]);
        let intake = token_for(&dep, "intake");
        add_user(&dep, "colleague", "officer", "210302", &[]);
        let colleague = token_for(&dep, "colleague");
        add_user(&dep, "admin", "admin", "210300", &[]);
        let admin = token_for(&dep, "admin");
        let server = dep.serve();
        let c = Client::new();
        // Added while the server runs: the writer notices the new name.
        add_user(&dep, "zhao", "officer", "210302", &["赵铁柱"]);
        let zhao = token_for(&dep, "zhao");
        // Named in another county's case: out of scope anyway, not recorded.
        add_user(&dep, "qian", "officer", "210303", &["钱多多"]);
        let named = post_report(
            &c,
            &server,
            &intake,
            "COI-1",
            "鞍山市铁东区安达安全培训学校与应急局的赵铁柱关系密切，钱多多也常去，考试包过。",
        );
        let other = post_report(
            &c,
            &server,
            &intake,
            "COI-2",
            "鞍山市铁东区宏达安全技术培训学校培训档案造假，签到表都是代签的。",
        );
        wait_indexed(&c, &server, &colleague, 2);
        let get = |token: &str, path: &str| {
            send(
                &c,
                "GET",
                &server.url(path),
                &Auth::Bearer(token.into()),
                None,
            )
        };
        let case_path = format!("/api/v1/cases/{}", named.case);
        let report_path = format!("/api/v1/reports/{}", named.report);
        assert_eq!(get(&colleague, &case_path).0, 200);
        assert_eq!(
            get(&zhao, &case_path).0,
            404,
            "{backend:?}: excluded from the case"
        );
        assert_eq!(get(&zhao, &report_path).0, 404, "and from its reports");
        assert_eq!(get(&zhao, "/api/v1/subjects/安达安全培训学校").0, 404);
        assert_eq!(get(&zhao, &format!("/api/v1/cases/{}", other.case)).0, 200);
        for (path, body) in [
            (
                format!("{case_path}/transitions"),
                json!({"action": "sign_for"}),
            ),
            (
                format!("{case_path}/merge"),
                json!({"into": other.case, "reason": "x"}),
            ),
            (
                format!("/api/v1/cases/{}/merge", other.case),
                json!({"into": named.case, "reason": "x"}),
            ),
            (format!("{report_path}/reveal"), json!({"reason": "x"})),
        ] {
            let (status, _) = send(
                &c,
                "POST",
                &server.url(&path),
                &Auth::Bearer(zhao.clone()),
                Some(&body),
            );
            assert_eq!(status, 404, "{backend:?}: no write either: {path}");
        }
        let (_, queue) = get(&zhao, "/api/v1/queue");
        assert_eq!(
            listed(&queue, "cases"),
            vec![other.case],
            "not in the queue"
        );
        assert_eq!(queue["total"], 1, "not counted");
        assert_eq!(queue["counts"]["routed"], 1, "not counted per state");
        let (_, search) = get(&zhao, "/api/v1/search?q=培训学校");
        assert_eq!(listed(&search, "hits"), vec![other.case], "not in search");
        assert_eq!(search["total"], 1);
        let (_, mine) = get(&colleague, "/api/v1/search?q=培训学校");
        assert_eq!(mine["total"], 2);

        // The admin lists exclusions; the case's events record it.
        let (status, list) = get(&admin, "/api/v1/admin/exclusions");
        assert_eq!(status, 200);
        let rows = list["exclusions"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{list}");
        assert_eq!(rows[0]["user"], "zhao");
        assert_eq!(rows[0]["matched"], "赵铁柱");
        assert_eq!(rows[0]["case_id"], named.case);
        let (_, case) = get(&colleague, &case_path);
        assert!(case["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "case.exclusion"));

        // A later report naming the colleague joins the case: the case's exclusions grow.
        let joined = post_report(
            &c,
            &server,
            &intake,
            "COI-3",
            "鞍山市铁东区安达安全培训学校与应急局的赵铁柱关系密切，钱多多也常去，考试包过，同事周文斌也收了钱。",
        );
        assert_eq!(joined.case, named.case, "{backend:?}: the same matter");
        assert_eq!(get(&colleague, &case_path).0, 200, "not named yet");
        // An alias given after the reports were stored: the stored reports are checked again.
        let (status, out, err) = dep.run(&["user", "alias", "colleague", "周文斌"], "");
        assert_eq!(status, 0, "{err}");
        assert!(out.contains("excluded from 1 case"), "{out}");
        assert_eq!(
            get(&colleague, &case_path).0,
            404,
            "{backend:?}: backfilled"
        );
        let (status, out, _) = dep.run(&["exclusions", "list"], "");
        assert_eq!(status, 0);
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(
            out.contains("colleague") && out.contains("zhao") && !out.contains("qian"),
            "{out}"
        );
    }
}

/// The cookie value and attributes of a response's `Set-Cookie` for the session.
fn session_cookie(response: &reqwest::blocking::Response) -> (String, String) {
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tipline_session="))
        .expect("a session cookie")
        .to_string();
    let value = header["tipline_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (value, header)
}

/// A client whose connections come from this loopback address (the limit counts per address).
fn client_from(last_octet: u8) -> Client {
    Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last_octet]))
        .build()
        .unwrap()
}

#[test]
fn people_log_in_for_a_cookie_and_unsafe_requests_need_its_csrf_token() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        add_user(&dep, "intake", "operator", "370000", &[]);
        let intake = token_for(&dep, "intake");
        add_user(&dep, "tiedong", "officer", "210302", &[]);
        add_user(&dep, "anshan", "leader", "210300", &[]);
        let server = dep.serve();
        let c = client_from(2);
        let case = post_report(&c, &server, &intake, "S-1", CASES[0].2).case;
        let url = server.url("/api/v1/session");

        // A form login, as the login page sends it.
        let r = c
            .post(&url)
            .form(&[("name", "tiedong"), ("password", PASSWORD)])
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{backend:?}");
        let (cookie, header) = session_cookie(&r);
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(header.contains(attribute), "{header}");
        }
        assert!(!header.contains("Secure"), "not configured: {header}");
        let me: Value = r.json().unwrap();
        assert_eq!(me["role"], "officer");
        assert_eq!(me["jurisdiction"], "210302");
        assert!(
            me["jurisdiction_name"].as_str().unwrap().contains("铁东区"),
            "{me}"
        );
        let csrf = me["csrf_token"].as_str().unwrap().to_string();
        let (status, who) = send(&c, "GET", &url, &Auth::Cookie(cookie.clone(), None), None);
        assert_eq!(
            (status, &who["name"], &who["csrf_token"]),
            (200, &json!("tiedong"), &json!(csrf))
        );

        // Reads need no token; unsafe requests carry it (header or form field) or get 403.
        let case_url = server.url(&format!("/api/v1/cases/{case}"));
        let merge = server.url(&format!("/api/v1/cases/{case}/merge"));
        let body = json!({"into": case, "reason": "x"});
        assert_eq!(
            send(
                &c,
                "GET",
                &case_url,
                &Auth::Cookie(cookie.clone(), None),
                None
            )
            .0,
            200
        );
        let (status, refused) = send(
            &c,
            "POST",
            &merge,
            &Auth::Cookie(cookie.clone(), None),
            Some(&body),
        );
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("csrf_failed")),
            "{backend:?}"
        );
        assert!(
            !refused["message"].as_str().unwrap().is_empty()
                && !refused["message_en"].as_str().unwrap().is_empty()
        );
        let wrong = Auth::Cookie(cookie.clone(), Some("0".repeat(csrf.len())));
        assert_eq!(send(&c, "POST", &merge, &wrong, Some(&body)).0, 403);
        let right = Auth::Cookie(cookie.clone(), Some(csrf.clone()));
        assert_eq!(
            send(&c, "POST", &merge, &right, Some(&body)).0,
            409,
            "past CSRF: the merge itself is refused"
        );
        let form = |token: &str| {
            c.post(&merge)
                .header("Cookie", format!("tipline_session={cookie}"))
                .form(&[("csrf_token", token), ("into", "1")])
                .send()
                .unwrap()
                .status()
                .as_u16()
        };
        assert_eq!(form("nope"), 403);
        assert_eq!(
            form(&csrf),
            400,
            "the form field passes CSRF; the API then wants JSON"
        );

        // Logout is unsafe too; afterwards the cookie is worth nothing.
        assert_eq!(
            send(
                &c,
                "DELETE",
                &url,
                &Auth::Cookie(cookie.clone(), None),
                None
            )
            .0,
            403
        );
        let r = c
            .delete(&url)
            .header("Cookie", format!("tipline_session={cookie}"))
            .header("X-CSRF-Token", &csrf)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(
            session_cookie(&r).1.contains("Max-Age=0"),
            "the browser drops the cookie"
        );
        assert_eq!(
            send(
                &c,
                "GET",
                &case_url,
                &Auth::Cookie(cookie.clone(), None),
                None
            )
            .0,
            401
        );

        // Failed logins: an unknown name and a wrong password answer alike.
        let login = |c: &Client, name: &str, password: &str| {
            let r = c
                .post(&url)
                .json(&json!({"name": name, "password": password}))
                .send()
                .unwrap();
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            (status, retry, r.json::<Value>().unwrap_or(Value::Null))
        };
        let (s1, _, unknown) = login(&client_from(10), "nobody", "whatever-1");
        let (s2, _, wrong) = login(&client_from(11), "anshan", "whatever-1");
        assert_eq!((s1, s2), (401, 401));
        assert_eq!(unknown, wrong, "no answer tells which names exist");
        assert_eq!(
            send(
                &c,
                "POST",
                &url,
                &Auth::None,
                Some(&json!({"name": "anshan"}))
            )
            .0,
            400
        );
        // Per account name: five failures from five addresses, then even the right password waits.
        for octet in 12..16 {
            assert_eq!(login(&client_from(octet), "anshan", "whatever-2").0, 401);
        }
        let (status, retry, limited) = login(&client_from(20), "anshan", PASSWORD);
        assert_eq!(status, 429, "{backend:?}: {limited}");
        assert!(retry.unwrap().parse::<u64>().unwrap() > 0);
        assert_eq!(limited["code"], "rate_limited");
        assert!(limited["message"].as_str().unwrap().contains("分钟"));
        // Per client address: five failures on any names, then that address waits.
        for name in ["a1", "a2", "a3", "a4", "a5"] {
            assert_eq!(login(&client_from(30), name, "whatever-3").0, 401);
        }
        assert_eq!(login(&client_from(30), "tiedong", PASSWORD).0, 429);
        assert_eq!(
            login(&client_from(31), "tiedong", PASSWORD).0,
            200,
            "other addresses may"
        );

        server.kill();
        let (_, audit, _) = dep.run(&["audit", "--limit", "1000"], "");
        for action in [
            "\"login\"",
            "\"login_failed\"",
            "\"login_blocked\"",
            "\"logout\"",
        ] {
            assert!(audit.contains(action), "{action} audited: {audit}");
        }
        assert!(
            !audit.contains(PASSWORD) && !audit.contains("whatever-"),
            "no password in the audit log"
        );
    }
}
