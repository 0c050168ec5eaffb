//! The operator's desk (`/desk`) and the admin pages (`/admin`), issue 9: a whole call typed with
//! the keyboard only in a real browser (the live preview while typing, Ctrl+Enter, the case number,
//! the repeat caller's earlier calls), the desk without script (preview button, refused post kept,
//! hostile text escaped, the earlier-calls list scoped), and the admin's users, tokens and audit
//! log, with 403 for everyone else.

use crate::browser_helpers::{available, run, Browser, DESKTOP};
use crate::helpers::{backends, Backend, Deployment, Server};
use fantoccini::key::Key;
use reqwest::blocking::Client;
use std::time::Duration;

const PASSWORD: &str = "pw-Secret-123";
const CALL: &str =
    "鞍山市铁东区安达职业培训学校组织特种作业考试作弊，交三千元包过，考试时有人替考，还卖假证。";

/// Adds a user (with the harness's password).
fn user(dep: &Deployment, name: &str, role: &str, jurisdiction: &str) {
    let _ = dep.token(name, role, jurisdiction);
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Logs in with the login form; returns the session cookie and its CSRF token.
fn login(c: &Client, server: &Server, name: &str) -> (String, String) {
    let r = c
        .post(server.url("/login"))
        .form(&[("name", name), ("password", PASSWORD)])
        .send()
        .expect("login");
    assert_eq!(r.status(), 303, "login of {name}");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("tipline_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string();
    let who: serde_json::Value = c
        .get(server.url("/api/v1/session"))
        .header("Cookie", format!("tipline_session={cookie}"))
        .send()
        .expect("session")
        .json()
        .expect("json");
    let csrf = who["csrf_token"].as_str().expect("csrf").to_string();
    (cookie, csrf)
}

/// A page read with the session; (status, body).
fn get(c: &Client, server: &Server, cookie: &str, path: &str) -> (u16, String) {
    let r = c
        .get(server.url(path))
        .header("Cookie", format!("tipline_session={cookie}"))
        .send()
        .expect("get");
    (r.status().as_u16(), r.text().expect("body"))
}

/// A form posted with the session and its token; (status, body).
fn post(
    c: &Client,
    server: &Server,
    (cookie, csrf): &(String, String),
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    let r = c
        .post(server.url(path))
        .header("Cookie", format!("tipline_session={cookie}"))
        .form(&all)
        .send()
        .expect("post");
    (r.status().as_u16(), r.text().expect("body"))
}

/// The text between `start` and the next `end` after it.
fn between<'a>(body: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = body.find(start)? + start.len();
    let len = body[from..].find(end)?;
    Some(&body[from..from + len])
}

/// Types keys into whatever has the focus, as a person at the keyboard does.
async fn keys(b: &Browser, text: &str) {
    b.client
        .active_element()
        .await
        .expect("focused element")
        .send_keys(text)
        .await
        .expect("send keys");
}

/// Keys whose last one leaves the page (Enter on a form): the driver may complain that the
/// element went away meanwhile; what follows checks the next page.
async fn leaving_keys(b: &Browser, text: &str) {
    let field = b.client.active_element().await.expect("focused element");
    let _ = field.send_keys(text).await;
}

async fn focused(b: &Browser) -> String {
    b.js("return document.activeElement ? document.activeElement.id : ''")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits until the element's text contains `want`; returns the text.
async fn wait_text(b: &Browser, css: &str, want: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = b
            .js(&format!(
                "var e = document.querySelector({css:?}); return e ? e.textContent : ''"
            ))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        if text.contains(want) {
            return text;
        }
        if std::time::Instant::now() > deadline {
            let status = b
                .js("var e = document.getElementById('preview-status'); return e ? e.textContent : ''")
                .await;
            panic!("{css} never showed {want:?}; it shows {text:?} (preview: {status})");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Ctrl+Enter in the focused field, then waits for the next page (the old one is marked, so
/// that its own notice of the previous call does not count); returns the notice's text.
async fn submit_with_ctrl_enter(b: &Browser) -> String {
    b.js("window.deskOld = true; return 1").await;
    let field = b.client.active_element().await.expect("focused element");
    // The page goes away while the driver finishes the keys: its complaint is no failure; the
    // next page is what counts.
    let _ = field
        .send_keys(&format!("{}{}{}", Key::Control, Key::Enter, Key::Null))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = b
            .client
            .execute(
                "return window.deskOld ? null : (document.getElementById('logged') || {}).textContent || null",
                Vec::new(),
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        if let Some(text) = text {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no page with the logged call after Ctrl+Enter"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[test]
fn operator_logs_calls_with_the_keyboard_only() {
    if !available() {
        return;
    }
    for backend in backends() {
        let dep = Deployment::new(backend);
        user(&dep, "op_li", "operator", "210300");
        user(&dep, "admin_wang", "admin", "210300");
        let server = dep.serve();
        let shots = backend == Backend::Sqlite;
        run(async {
            let b = Browser::start().await;
            b.client.goto(&server.url("/login")).await.expect("goto");
            // The login form with the keyboard too: name, Tab, password, Enter.
            b.wait("#name").await;
            keys(&b, "op_li").await;
            keys(&b, &Key::Tab.to_string()).await;
            leaving_keys(&b, &format!("{PASSWORD}{}", Key::Enter)).await;
            wait_text(&b, "h1", "12350 接听登记").await;
            assert_eq!(
                focused(&b).await,
                "caller_number",
                "the call starts at the phone"
            );
            let shortcuts = b.text("#desk-keys").await;
            assert!(
                shortcuts.contains("Ctrl") && shortcuts.contains("Enter"),
                "{shortcuts}"
            );

            // First call: phone, name, (anonymous left), place, subject, (kind left), the account.
            keys(&b, "139 0412 5566").await;
            keys(&b, &format!("{}张先生", Key::Tab)).await;
            keys(&b, &format!("{}{}", Key::Tab, Key::Tab)).await;
            assert_eq!(focused(&b).await, "address");
            keys(&b, "鞍山市铁东区胜利南路12号").await;
            keys(&b, &format!("{}安达职业培训学校", Key::Tab)).await;
            keys(&b, &format!("{}{}", Key::Tab, Key::Tab)).await;
            assert_eq!(
                focused(&b).await,
                "notes",
                "tab order reaches the account of the call"
            );
            keys(&b, CALL).await;
            // The preview follows the typing.
            let locus = wait_text(&b, "#pv-locus", "铁东区").await;
            assert!(locus.contains("鞍山"), "{locus}");
            let categories = wait_text(&b, "#pv-categories", "T4").await;
            assert!(categories.contains("作弊"), "{categories}");
            let handling = b.text("#pv-handling").await;
            assert!(!handling.trim().is_empty() && handling != "—", "{handling}");
            if shots {
                b.screenshot("desk-preview", DESKTOP).await;
            }
            let logged = submit_with_ctrl_enter(&b).await;
            assert!(logged.contains("已登记"), "{logged}");
            let first = b.text("#logged .case-no").await;
            assert!(logged.contains(&first) && !first.is_empty(), "{logged}");
            assert_eq!(
                focused(&b).await,
                "caller_number",
                "ready for the next call"
            );
            assert_eq!(
                b.js("return document.getElementById('notes').value").await,
                "",
                "the form is cleared"
            );
            let today = b.text("#today").await;
            assert!(today.contains(&first), "the day's calls list it: {today}");
            if shots {
                b.screenshot("desk-logged", DESKTOP).await;
            }

            // Second call from the same number (written another way): the first call is listed.
            keys(&b, "+86 13904125566").await;
            let earlier = wait_text(&b, "#callers", &first).await;
            assert!(earlier.contains("安达"), "{earlier}");
            keys(&b, &format!("{}{}{}", Key::Tab, Key::Tab, Key::Tab)).await;
            keys(&b, &format!("{}{}{}", Key::Tab, Key::Tab, Key::Tab)).await;
            assert_eq!(focused(&b).await, "notes");
            keys(&b, "还是上次说的鞍山市铁东区那家安达培训学校，今天又组织了一场替考，考生没到场也发了证。").await;
            wait_text(&b, "#pv-locus", "铁东区").await;
            if shots {
                b.screenshot("desk-repeat-caller", DESKTOP).await;
            }
            let logged = submit_with_ctrl_enter(&b).await;
            assert!(logged.contains("案件编号"), "{logged}");
            // A third look at the number lists both calls.
            keys(&b, "13904125566").await;
            let both = wait_text(&b, "#callers", &first).await;
            assert!(
                b.js("return document.querySelectorAll('#callers-table tbody tr').length")
                    .await
                    .as_u64()
                    >= Some(2),
                "{both}"
            );
            // A place the caller left open: the candidates are listed, one picked with a key.
            keys(&b, &format!("{}{}{}", Key::Tab, Key::Tab, Key::Tab)).await;
            keys(&b, &format!("{}{}{}", Key::Tab, Key::Tab, Key::Tab)).await;
            assert_eq!(focused(&b).await, "notes");
            keys(&b, "铁东区有家培训学校考试作弊").await;
            let open = wait_text(&b, "#pv-candidates", "四平").await;
            // (Decided by what is stored already or not, 四平 stays a candidate to ask about.)
            let nth = b
                .js(
                    "var p = document.querySelectorAll('#pv-candidates [data-pick]'); \
                     for (var i = 0; i < p.length; i++) \
                       if (p[i].textContent.indexOf('四平') >= 0) return i + 1; return 0",
                )
                .await
                .as_u64()
                .unwrap_or(0);
            assert!(nth >= 1, "{open}");
            if shots {
                b.screenshot("desk-candidates", DESKTOP).await;
            }
            // The pick moves the focus while the driver still holds the old element: its
            // complaint about that is no failure; what the key did is checked below.
            let field = b.client.active_element().await.expect("focused");
            let _ = field
                .send_keys(&format!("{}{}{nth}{}", Key::Control, Key::Alt, Key::Null))
                .await;
            assert_eq!(focused(&b).await, "address");
            let address = b
                .js("return document.getElementById('address').value")
                .await;
            assert!(
                address.as_str().is_some_and(|a| a.contains("四平市铁东区")),
                "{address}"
            );
            wait_text(&b, "#pv-locus", "四平").await;

            // The admin's pages, for the screenshots.
            b.js("document.getElementById('logout').click(); return 1")
                .await;
            b.wait("#name").await;
            b.type_into("#name", "admin_wang").await;
            b.wait("#password").await.click().await.expect("focus");
            leaving_keys(&b, &format!("{PASSWORD}{}", Key::Enter)).await;
            wait_text(&b, "h1", "系统管理").await;
            if shots {
                b.screenshot("admin-users", DESKTOP).await;
            }
            b.client
                .goto(&server.url("/admin?tab=audit"))
                .await
                .expect("goto");
            wait_text(&b, "#audit", "logout").await;
            if shots {
                b.screenshot("admin-audit", DESKTOP).await;
            }
            // A token issued from the page: shown once above the list.
            b.client
                .goto(&server.url("/admin?tab=tokens"))
                .await
                .expect("goto");
            b.wait("#issue-token button")
                .await
                .click()
                .await
                .expect("issue");
            let token = b.text("#token-value").await;
            assert!(token.starts_with("tl_"), "{token}");
            if shots {
                b.screenshot("admin-tokens", DESKTOP).await;
            }
            b.client
                .goto(&server.url("/admin?tab=zones"))
                .await
                .expect("goto");
            wait_text(&b, "h2", "功能区").await;
            if shots {
                b.screenshot("admin-zones", DESKTOP).await;
            }
            b.close().await;
        });
    }
}

#[test]
fn desk_without_script_previews_keeps_refused_posts_and_escapes() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        user(&dep, "op_li", "operator", "210300");
        user(&dep, "op_zhao", "operator", "210300");
        user(&dep, "officer_an", "officer", "210300");
        user(&dep, "officer_bj", "officer", "110000");
        user(&dep, "leader_an", "leader", "210300");
        let server = dep.serve();
        let c = client();
        let op = login(&c, &server, "op_li");
        let hostile = "<script>alert(1)</script>\u{202e}\"onmouseover=\"x";

        // The 预览 button without script: the server renders the preview of what was typed.
        let (status, body) = post(
            &c,
            &server,
            &op,
            "/desk",
            &[
                ("action", "preview"),
                ("caller_number", "13904125566"),
                ("subject_name", hostile),
                ("notes", &format!("{CALL}{hostile}")),
                ("started_at", "2024-05-06T09:12"),
            ],
        );
        assert_eq!(status, 200, "{body}");
        let locus = between(&body, "id=\"pv-locus\">", "</dd>").expect("locus shown");
        assert!(locus.contains("铁东区"), "{locus}");
        let cats = between(&body, "id=\"pv-categories\">", "</dd>").expect("categories");
        assert!(cats.contains("T4"), "{cats}");
        assert!(!body.contains("<script>alert"), "hostile text escaped");
        assert!(
            !body.contains("\"onmouseover=\"x"),
            "attribute breakout escaped"
        );
        assert!(
            body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "escaped, not dropped"
        );

        // A refused post (no account of the call) keeps everything typed.
        let (status, body) = post(
            &c,
            &server,
            &op,
            "/desk",
            &[
                ("caller_number", "13904125566"),
                ("caller_name", "张先生"),
                ("address", "鞍山市铁东区胜利南路12号"),
                ("notes", "  "),
            ],
        );
        assert_eq!(status, 400);
        assert!(body.contains("value=\"鞍山市铁东区胜利南路12号\""));
        assert!(body.contains("value=\"张先生\""));
        assert!(body.contains("请记录来电内容"));

        // Stored through the API's path: the same call posted twice is one case.
        let fields = [
            ("caller_number", "13904125566"),
            ("subject_name", "安达职业培训学校"),
            ("notes", CALL),
            ("call_id_auto", "desk-test-0001"),
        ];
        let (status, body) = post(&c, &server, &op, "/desk", &fields);
        assert_eq!(status, 201, "{body}");
        assert!(body.contains("已登记"));
        let case_no = between(&body, "class=\"case-no\" href=\"/cases/", "</a>")
            .and_then(|s| s.split('>').nth(1))
            .expect("case number")
            .to_string();
        let (status, again) = post(&c, &server, &op, "/desk", &fields);
        assert_eq!(status, 201);
        assert!(again.contains("此来电已登记过") && again.contains(&case_no));
        // The form is fresh after a call: nothing of it left.
        assert!(!body.contains(CALL));

        // The repeat caller: the operator sees the calls it logged; another operator does not;
        // an officer in scope does, one of another province does not.
        let calls = |who: &(String, String)| -> serde_json::Value {
            let (status, body) = get(
                &c,
                &server,
                &who.0,
                "/api/v1/callers/%2B86%20139%200412%205566/calls",
            );
            assert_eq!(status, 200, "{body}");
            serde_json::from_str(&body).expect("json")
        };
        let mine = calls(&op);
        assert_eq!(mine["total"], 1, "{mine}");
        assert_eq!(mine["calls"][0]["case_no"], case_no.as_str());
        assert!(
            mine.to_string().find("13904125566").is_none(),
            "no identity returned"
        );
        assert_eq!(calls(&login(&c, &server, "op_zhao"))["total"], 0);
        assert_eq!(calls(&login(&c, &server, "officer_an"))["total"], 1);
        assert_eq!(calls(&login(&c, &server, "officer_bj"))["total"], 0);
        // A leader may not look a phone up (an officer's lookup is audited, without the number).
        let leader = login(&c, &server, "leader_an");
        let (status, _) = get(&c, &server, &leader.0, "/api/v1/callers/13904125566/calls");
        assert_eq!(status, 403);
        // The page's preview lists them too.
        let (_, body) = post(
            &c,
            &server,
            &op,
            "/desk",
            &[
                ("action", "preview"),
                ("caller_number", "13904125566"),
                ("notes", "又来电"),
            ],
        );
        let listed = between(&body, "id=\"callers\">", "</div>").expect("callers");
        assert!(listed.contains(&case_no), "{listed}");

        // No session: to the login page; a post without the token: refused.
        let r = c.get(server.url("/desk")).send().expect("get");
        assert_eq!(r.status(), 303);
        let r = c
            .post(server.url("/desk"))
            .header("Cookie", format!("tipline_session={}", op.0))
            .form(&[("notes", CALL)])
            .send()
            .expect("post");
        assert_eq!(r.status(), 403);
    }
}

#[test]
fn admin_adds_users_issues_and_revokes_tokens_and_reads_the_audit_log() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        user(&dep, "admin_wang", "admin", "210300");
        user(&dep, "op_li", "operator", "210300");
        user(&dep, "officer_bj", "officer", "110000");
        let server = dep.serve();
        let c = client();
        let admin = login(&c, &server, "admin_wang");

        // Everyone else: 403 page.
        for name in ["op_li", "officer_bj"] {
            let who = login(&c, &server, name);
            let (status, body) = get(&c, &server, &who.0, "/admin");
            assert_eq!(status, 403, "{name}");
            assert!(body.contains("只有系统管理员"), "{body}");
            let (status, _) = post(
                &c,
                &server,
                &who,
                "/admin/users",
                &[
                    ("name", "x_y"),
                    ("role", "admin"),
                    ("jurisdiction", "210300"),
                    ("password", "12345678x"),
                ],
            );
            assert_eq!(status, 403);
        }

        // The users of the subtree: the other province's officer is not listed.
        let (status, body) = get(&c, &server, &admin.0, "/admin");
        assert_eq!(status, 200);
        assert!(
            body.contains("op_li") && !body.contains("officer_bj"),
            "{body}"
        );

        // Add a user (hostile name escaped), one outside the subtree refused.
        let hostile = "<img src=x onerror=alert(1)>";
        let (status, body) = post(
            &c,
            &server,
            &admin,
            "/admin/users",
            &[
                ("name", "op_new"),
                ("role", "operator"),
                ("jurisdiction", "210302"),
                ("password", PASSWORD),
                ("aliases", "李新手、小李子"),
            ],
        );
        assert_eq!(status, 201, "{body}");
        assert!(body.contains("已添加用户") && body.contains("李新手"));
        let (status, body) = post(
            &c,
            &server,
            &admin,
            "/admin/users",
            &[
                ("name", hostile),
                ("role", "leader"),
                ("jurisdiction", "210300"),
                ("password", "long-enough-1"),
            ],
        );
        assert_eq!(status, 201);
        assert!(!body.contains("<img src=x"), "hostile name escaped");
        assert!(
            body.contains("&#60;img src=x onerror=alert(1)&#62;"),
            "escaped, not dropped"
        );
        let (status, body) = post(
            &c,
            &server,
            &admin,
            "/admin/users",
            &[
                ("name", "far_away"),
                ("role", "officer"),
                ("jurisdiction", "110000"),
                ("password", "long-enough-1"),
            ],
        );
        assert_eq!(status, 400);
        assert!(body.contains("只能设置本辖区"));
        // The new user logs in.
        let _ = login(&c, &server, "op_new");
        // Change role and jurisdiction.
        let (status, body) = post(
            &c,
            &server,
            &admin,
            "/admin/users/role",
            &[
                ("name", "op_new"),
                ("role", "officer"),
                ("jurisdiction", "210303"),
            ],
        );
        assert_eq!(status, 200, "{body}");
        let who: serde_json::Value = {
            let s = login(&c, &server, "op_new");
            let (_, b) = get(&c, &server, &s.0, "/api/v1/session");
            serde_json::from_str(&b).expect("json")
        };
        assert!(who.to_string().contains("\"officer\""), "{who}");

        // Issue a token: shown once, works; revoke: it stops working.
        let (status, body) = post(&c, &server, &admin, "/admin/tokens", &[("user", "op_li")]);
        assert_eq!(status, 201, "{body}");
        let token = between(&body, "id=\"token-value\">", "</p>")
            .expect("token shown")
            .to_string();
        assert!(token.starts_with("tl_"), "{token}");
        let api = |t: &str| {
            c.get(server.url("/api/v1/callers/13904125566/calls"))
                .bearer_auth(t)
                .send()
                .expect("get")
                .status()
                .as_u16()
        };
        assert_eq!(api(&token), 200);
        let (_, list) = get(&c, &server, &admin.0, "/admin?tab=tokens");
        assert!(!list.contains(&token), "a token is shown only once");
        // The newest token is listed first.
        let id = between(&list, "<tr id=\"token-", "\"")
            .expect("token row")
            .to_string();
        let (status, body) = post(&c, &server, &admin, "/admin/tokens/revoke", &[("id", &id)]);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("已吊销"));
        assert_eq!(api(&token), 401);

        // The audit log shows each change; the filter narrows it.
        let (status, audit) = get(&c, &server, &admin.0, "/admin?tab=audit");
        assert_eq!(status, 200);
        for action in ["user_add", "user_change", "token_add", "token_revoke"] {
            assert!(
                audit.contains(&format!("<code>{action}</code>")),
                "{action} in the log"
            );
        }
        let (_, only) = get(
            &c,
            &server,
            &admin.0,
            "/admin?tab=audit&action=token_revoke&actor=admin_wang",
        );
        assert!(
            only.contains("<code>token_revoke</code>") && !only.contains("<code>user_add</code>")
        );

        // Read-only tabs answer.
        for tab in ["zones", "exclusions"] {
            let (status, _) = get(&c, &server, &admin.0, &format!("/admin?tab={tab}"));
            assert_eq!(status, 200, "{tab}");
        }
    }
}
