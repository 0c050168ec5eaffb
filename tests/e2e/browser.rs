//! The public report window in a real browser (issue 9): the form with an attachment, the receipt
//! code, the follow-up adding information and a file; hostile report text shown as text.

use crate::browser_helpers::{
    available, pdf_bytes, png_bytes, processes_naming, run, Browser, DESKTOP, PHONE,
};
use crate::helpers::{backends, Backend, Deployment};

/// Files to attach live on disk (a file input takes a path).
fn write_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write file");
    path.display().to_string()
}

#[test]
fn public_form_with_attachment_then_receipt_follow_up() {
    if !available() {
        return;
    }
    for backend in backends() {
        let dep = Deployment::new(backend);
        let server = dep.serve();
        let files = tempfile::tempdir().expect("dir");
        let photo = write_file(files.path(), "现场照片.png", &png_bytes());
        let scan = write_file(files.path(), "收据扫描.pdf", &pdf_bytes());
        let shots = backend == Backend::Sqlite;
        let (case_no, code) = run(async {
            let b = Browser::start().await;
            // Arrange: the form, as a reporter finds it.
            b.client.goto(&server.url("/report")).await.expect("goto");
            assert_eq!(b.text("h1").await, "我要举报");
            let protect = b.text(".protect").await;
            assert!(protect.contains("应急厅函〔2021〕274号"), "{protect}");
            if shots {
                b.screenshot("report-form", DESKTOP).await;
                b.screenshot("report-form-phone", PHONE).await;
            }
            // Anonymous is the default: the contact fields are hidden by the script.
            assert_eq!(
                b.js("return document.getElementById('contact').hidden")
                    .await,
                true
            );

            // Act: write the report, attach a photo, send.
            b.type_into("#text", "鞍山市铁东区某某安全培训学校开办“包过班”，交3000元保证拿到焊工证，考试时有人给答案。").await;
            b.type_into("#address", "鞍山市铁东区胜利南路").await;
            b.type_into("#subject_name", "某某安全培训学校").await;
            b.wait("#subject_kind")
                .await
                .select_by_value("training_institution")
                .await
                .expect("kind");
            b.type_into("#files", &photo).await;
            assert!(b.text(".chosen").await.contains("现场照片.png"));
            b.wait("button[type=submit]")
                .await
                .click()
                .await
                .expect("submit");

            // Assert: the case number and the receipt code, shown once.
            let case_no = b.text("#case-no").await;
            assert!(case_no.starts_with("TL"), "{case_no}");
            let code = b.text("#receipt-code").await;
            assert_eq!(code.len(), 19, "grouped code {code}");
            assert!(b.text(".receipt").await.contains("只显示这一次"));
            assert!(b.text(".done").await.contains("现场照片.png"));
            if shots {
                b.screenshot("report-done", DESKTOP).await;
            }

            // Follow-up: the code typed loosely (lower case, no dashes).
            b.client
                .goto(&server.url("/report/follow"))
                .await
                .expect("goto");
            if shots {
                b.screenshot("follow-form", DESKTOP).await;
            }
            b.type_into("#code", &code.replace('-', "").to_lowercase())
                .await;
            b.wait("form button[type=submit]")
                .await
                .click()
                .await
                .expect("submit");
            assert_eq!(b.text("#case-no").await, case_no);
            assert!(!b.text("#state").await.is_empty());
            assert!(b.text("#report-text").await.contains("包过班"));
            assert!(b.text(".card").await.contains("现场照片.png"));

            // Add information and a scan, submitted with the keyboard (Ctrl+Enter).
            b.type_into("#add-files", &scan).await;
            b.type_into("#add-text", "补充：下周六上午还有一期，地点在二楼教室。")
                .await;
            b.type_into("#add-text", "\u{E009}\u{E007}").await; // Ctrl + Enter
            assert!(b.text(".alert.ok").await.contains("补充材料已收到"));
            let added = b.text(".card.added").await;
            assert!(added.contains("下周六上午还有一期"), "{added}");
            assert!(added.contains("收据扫描.pdf"), "{added}");
            if shots {
                b.screenshot("follow-case", DESKTOP).await;
                b.screenshot("follow-case-phone", PHONE).await;
            }

            // A wrong code is refused with a clear message, no case shown.
            b.client
                .goto(&server.url("/report/follow"))
                .await
                .expect("goto");
            b.type_into("#code", "AAAA-BBBB-CCCC-DDDD").await;
            b.wait("form button[type=submit]")
                .await
                .click()
                .await
                .expect("submit");
            assert!(b.text("#errors").await.contains("查询码不正确"));
            b.close().await;
            (case_no, code)
        });
        // The same code works through the API (one code path), typed with its dashes.
        let api: serde_json::Value =
            reqwest::blocking::get(server.url(&format!("/api/v1/receipts/{code}")))
                .and_then(|r| r.json())
                .expect("receipt API");
        assert_eq!(api["case_no"], case_no.as_str());
        // Both files were stored with the report, by content (mail-in's attachment table).
        let (code, out, err) = dep.run(&["mail", "status"], "");
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("现场照片.png") && out.contains("image/png"),
            "{out}"
        );
        assert!(out.contains("收据扫描.pdf"), "{out}");
    }
}

/// Report text is hostile input: markup, attribute breakers and direction overrides typed into
/// the form come back as text wherever the page shows them (issue 9).
#[test]
fn hostile_report_text_is_shown_as_text() {
    if !available() {
        return;
    }
    let dep = Deployment::new(Backend::Sqlite);
    let server = dep.serve();
    let files = tempfile::tempdir().expect("dir");
    // A program dressed as a photo, its name reversed by an override mark: refused by content.
    let fake = write_file(
        files.path(),
        "发票\u{202E}gpj.exe",
        b"MZ\x90\x00 not a picture",
    );
    let hostile = "<script>window.__pwned=1</script>\" onmouseover=\"window.__pwned=2\" x=\"\
                   <img src=x onerror=window.__pwned=3>\u{202E}举报人是谁 培训学校包过班";
    run(async {
        let b = Browser::start().await;
        b.client.goto(&server.url("/report")).await.expect("goto");
        b.type_into("#text", hostile).await;
        b.type_into("#subject_name", "\" autofocus onfocus=\"window.__pwned=4")
            .await;
        b.type_into("#address", "</textarea><script>window.__pwned=5</script>")
            .await;
        b.type_into("#files", &fake).await;
        b.wait("button[type=submit]")
            .await
            .click()
            .await
            .expect("submit");

        // Refused for the file: the form comes back with the text exactly as typed, inert.
        let errors = b.text("#errors").await;
        assert!(
            errors.contains("附件内容与类型不符") || errors.contains("附件类型不允许"),
            "{errors}"
        );
        assert!(
            !errors.contains('\u{202E}'),
            "override mark kept in a file name: {errors}"
        );
        let kept = b.js("return document.getElementById('text').value").await;
        assert_eq!(kept.as_str(), Some(hostile));
        let kept = b
            .js("return document.getElementById('address').value")
            .await;
        assert_eq!(
            kept.as_str(),
            Some("</textarea><script>window.__pwned=5</script>")
        );
        assert_inert(&b).await;
        b.screenshot("report-refused-hostile", DESKTOP).await;

        // Sent without the file: the done page, then the follow page shows the text.
        b.wait("button[type=submit]")
            .await
            .click()
            .await
            .expect("submit");
        let code = b.text("#receipt-code").await;
        assert_inert(&b).await;
        b.client
            .goto(&server.url("/report/follow"))
            .await
            .expect("goto");
        b.type_into("#code", &code).await;
        b.wait("form button[type=submit]")
            .await
            .click()
            .await
            .expect("submit");
        let shown = b.text("#report-text").await;
        assert!(
            shown.contains("<script>window.__pwned=1</script>"),
            "{shown}"
        );
        assert!(
            shown.contains("<img src=x onerror=window.__pwned=3>"),
            "{shown}"
        );
        let card = b.text(".card").await;
        assert!(card.contains("autofocus onfocus="), "{card}");
        // The override mark is kept (it is what the reporter sent) but isolated: it cannot turn
        // the page's own words around it.
        let isolated = b
            .js("return getComputedStyle(document.getElementById('report-text')).unicodeBidi")
            .await;
        assert_eq!(isolated.as_str(), Some("isolate"));
        assert_eq!(b.text("h1").await, "办理进度");

        // The additions are shown the same way.
        b.type_into(
            "#add-text",
            "<b onclick=\"window.__pwned=6\">粗体</b>\u{202E}",
        )
        .await;
        b.wait("section > form button[type=submit]")
            .await
            .click()
            .await
            .expect("submit");
        assert!(b.text(".card.added").await.contains("<b onclick="));
        assert_inert(&b).await;
        b.screenshot("follow-hostile", DESKTOP).await;
        b.close().await;
    });
}

/// Nothing typed by the reporter ran or became an element or an attribute.
async fn assert_inert(b: &Browser) {
    let found = b
        .js("return [typeof window.__pwned, document.querySelectorAll('[onmouseover],[onerror],[onfocus],[onclick],main img,main b,main script').length]")
        .await;
    assert_eq!(
        found,
        serde_json::json!(["undefined", 0]),
        "hostile text became markup"
    );
}

#[test]
fn a_browser_dropped_without_closing_leaves_no_process_behind() {
    if !available() {
        return;
    }
    // As when a test panics half-way: the session is never closed, the `Browser` is dropped.
    let profile = run(async {
        let b = Browser::start().await;
        b.client.goto("about:blank").await.expect("goto");
        let profile = b.profile_dir().display().to_string();
        assert!(!processes_naming(&profile).is_empty(), "a browser runs");
        drop(b);
        profile
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !processes_naming(&profile).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "browser processes left behind: {:?}",
            processes_naming(&profile)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
