//! Reporter-identity keys (issue 8, Confidentiality): the key file made on first start (0600),
//! `tipline keys status`, `tipline keys rotate` twice with `serve` running and reports arriving, the
//! reveal and `export --with-identity` still working, the retired keys' file removable; a wrong or
//! missing key is a clear error naming the key, never a panic and never a lost report.

use crate::helpers::{backends, Deployment};
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn status(dep: &Deployment) -> Value {
    let (code, out, err) = dep.run(&["keys", "status", "--json"], "");
    assert_eq!(code, 0, "keys status: {err}");
    serde_json::from_str(out.trim()).expect("status JSON")
}

fn report(c: &Client, base: &str, token: &str, n: usize) -> i64 {
    let r = c
        .post(format!("{base}/api/v1/reports"))
        .bearer_auth(token)
        .json(&json!({"channel": "web_form", "external_id": format!("keys-{n}"),
            "received_at": "2024-05-06T09:12:00+08:00",
            "reporter": {"name": format!("轮换测试{n}号"), "phone": format!("1390000{n:04}"), "email": format!("rot{n}@example.org")},
            "text": format!("鞍山市铁东区第{n}安全培训学校培训档案造假，学时不足。")}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json::<Value>().unwrap()["report_id"].as_i64().unwrap()
}

fn reveal(c: &Client, base: &str, token: &str, id: i64) -> (u16, Value) {
    let r = c
        .post(format!("{base}/api/v1/reports/{id}/reveal"))
        .bearer_auth(token)
        .json(&json!({"reason": "核实"}))
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

#[test]
fn keys_rotate_twice_online_and_the_old_key_file_can_go() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let operator = dep.token("op1", "operator", "210300");
        let officer = dep.token("off1", "officer", "210300");
        let key_file = dep.data().join("identity.key");
        assert!(key_file.exists(), "the key file is made on first start");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the key file is private");
        }
        let server = dep.serve();
        let c = Client::new();
        let mut ids: Vec<i64> = (0..30)
            .map(|n| report(&c, &server.base, &operator, n))
            .collect();
        let s = status(&dep);
        assert_eq!(s["current"], 1);
        assert_eq!(s["clear"], 0);
        assert!(s["values_by_key"]["1"].as_i64().unwrap() >= 60, "{s}");

        // First rotation, while the server takes reports.
        let writer = {
            let base = server.base.clone();
            let operator = operator.clone();
            std::thread::spawn(move || {
                let c = Client::new();
                (100..120)
                    .map(|n| report(&c, &base, &operator, n))
                    .collect::<Vec<_>>()
            })
        };
        let (code, out, err) = dep.run(&["keys", "rotate"], "");
        assert_eq!(code, 0, "rotate: {out} {err}");
        assert!(out.contains("key 2 is now current"), "{out}");
        ids.extend(writer.join().unwrap());
        // Second rotation. A report committed under key 1 after the first run's last pass is
        // taken by a resumed run first (the run says so), then key 3 comes.
        let (mut code, mut out, mut err) = dep.run(&["keys", "rotate"], "");
        if out.contains("resuming") {
            (code, out, err) = dep.run(&["keys", "rotate"], "");
        }
        assert_eq!(code, 0, "{out} {err}");
        assert!(out.contains("key 3 is now current"), "{out}");
        let s = status(&dep);
        assert_eq!(s["current"], 3, "{s}");
        assert_eq!(s["held"], json!([3]), "keys 1 and 2 are retired: {s}");
        assert!(s["values_by_key"]["3"].as_i64().unwrap() >= 100, "{s}");
        assert_eq!(s["values_by_key"].as_object().unwrap().len(), 1, "{s}");

        // The server reads values sealed by the rotation, with the key file changed under it.
        ids.push(report(&c, &server.base, &operator, 200));
        for (i, id) in ids.iter().enumerate() {
            let (code, body) = reveal(&c, &server.base, &officer, *id);
            assert_eq!(code, 200, "reveal {id}: {body}");
            assert!(
                body["reporter"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("轮换测试"),
                "{i}: {body}"
            );
        }
        drop(server);

        // The retired keys' copy can go: everything still opens after a restart.
        let retired = dep.data().join("identity.key.retired");
        assert!(retired.exists(), "retired keys are kept apart");
        std::fs::remove_file(&retired).unwrap();
        let server = dep.serve();
        let (code, body) = reveal(&c, &server.base, &officer, ids[0]);
        assert_eq!(code, 200, "{body}");
        assert_eq!(body["reporter"]["phone"], "13900000000");
        let (code, out, err) = dep.run(&["export", "--format", "jsonl", "--with-identity"], "");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("rot119@example.org") && out.contains("轮换测试200号"));
        drop(server);

        // A wrong key file: a clear error naming the missing key, and nothing is overwritten.
        let kept = std::fs::read(&key_file).unwrap();
        let (code, fresh, _) = dep.run(&["keys", "generate"], "");
        assert_eq!(code, 0);
        std::fs::write(&key_file, fresh.replace("key 1 =", "key 7 =")).unwrap();
        let (code, _, err) = dep.run(&["export", "--with-identity"], "");
        assert_ne!(code, 0);
        assert!(
            err.contains("identity_key_missing") && err.contains("[3]"),
            "{err}"
        );
        // A missing key file is not silently replaced when the database needs it.
        std::fs::remove_file(&key_file).unwrap();
        let (code, _, err) = dep.run(&["export"], "");
        assert_ne!(code, 0);
        assert!(err.contains("identity_key_missing"), "{err}");
        assert!(
            !key_file.exists(),
            "no new key file over a database that needs the old one"
        );
        // The key in the environment instead of a file.
        let text = String::from_utf8(kept.clone()).unwrap().replace('\n', ";");
        let (code, out, err) = {
            let mut cmd = dep.command();
            cmd.env("TIPLINE_IDENTITY_KEY", &text)
                .args(["export", "--with-identity"]);
            let o = cmd.output().unwrap();
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("rot5@example.org"));
        std::fs::write(&key_file, &kept).unwrap();
        let (code, _, err) = dep.run(&["keys", "status"], "");
        assert_eq!(code, 0, "{err}");
    }
}
