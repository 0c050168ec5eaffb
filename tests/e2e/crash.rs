//! Kill -9 in the middle of a burst of concurrent POSTs: every acknowledged report survives, once.

use crate::helpers::{backends, export, Deployment};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[test]
fn acknowledged_reports_survive_a_kill() {
    for backend in backends() {
        let dep = Deployment::new(backend);
        let token = dep.token("op1", "operator", "210300");
        let server = dep.serve();
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let base = server.base.clone();
        let mut threads = Vec::new();
        for t in 0..16 {
            let (acked, base, token) = (acked.clone(), base.clone(), token.clone());
            threads.push(std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()
                    .unwrap();
                for i in 0..400 {
                    let id = format!("crash-{t}-{i}");
                    let body = serde_json::json!({"channel": "web_form", "external_id": id,
                        "received_at": "2024-05-06T09:12:00+08:00",
                        "text": format!("第{t}组第{i}条：某培训学校培训学时不足，教学走过场。")});
                    match client
                        .post(format!("{base}/api/v1/reports"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                    {
                        Ok(r) if r.status().as_u16() == 201 => acked.lock().unwrap().push(id),
                        Ok(_) => {}
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        // Let the burst run, then kill the server in the middle of it.
        let start = std::time::Instant::now();
        while acked.lock().unwrap().len() < 300
            && start.elapsed() < std::time::Duration::from_secs(60)
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server.kill();
        for t in threads {
            t.join().unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() >= 300,
            "{backend:?}: the burst was acknowledged before the kill"
        );
        let rows = export(&dep);
        let mut count: HashMap<String, usize> = HashMap::new();
        for r in &rows {
            *count
                .entry(r["external_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        for id in &acked {
            assert_eq!(
                count.get(id),
                Some(&1),
                "{backend:?}: acknowledged report {id} is stored exactly once"
            );
        }
        assert!(
            count.values().all(|n| *n == 1),
            "{backend:?}: nothing stored twice"
        );
        // The restarted server serves them.
        let server = dep.serve();
        let resp = reqwest::blocking::Client::new()
            .get(server.url("/readyz"))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    }
}
