//! Import of the shared labelled sample, then export: every report there once.

use crate::helpers::{backends, export, shared_dir, Deployment};
use std::collections::{HashMap, HashSet};

#[test]
fn dev_sample_round_trips_through_import_and_export() {
    let cases = shared_dir().join("cases/dev.jsonl");
    let text = std::fs::read_to_string(&cases).expect("../shared/cases/dev.jsonl");
    let ids: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["external_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    for backend in backends() {
        let dep = Deployment::new(backend);
        let (code, out, err) = dep.run(&["import", cases.to_str().unwrap()], "");
        assert_eq!(code, 0, "{backend:?} import: {out} {err}");
        let resent = ids.len() - unique.len();
        assert!(out.contains(&format!("{resent} re-sent")), "{out}");
        let rows = export(&dep);
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in &rows {
            *seen
                .entry(r["external_id"].as_str().unwrap().to_string())
                .or_default() += 1;
            assert!(r["text"].as_str().is_some_and(|t| !t.is_empty()));
            assert!(r["case_no"].as_str().is_some() && r["report_id"].as_i64().is_some());
            assert!(
                r.get("reporter").is_none(),
                "no identity without --with-identity"
            );
        }
        assert_eq!(
            seen.len(),
            unique.len(),
            "{backend:?}: every report exported"
        );
        assert!(
            seen.values().all(|n| *n == 1),
            "{backend:?}: no report exported twice"
        );
        // Importing again changes nothing.
        let (code, out, _) = dep.run(&["import", cases.to_str().unwrap()], "");
        assert_eq!(code, 0);
        assert!(out.contains("0 new"), "{out}");
        assert_eq!(export(&dep).len(), rows.len());
    }
}

#[test]
fn a_bad_line_is_reported_and_the_rest_imported() {
    let dep = Deployment::new(crate::helpers::Backend::Sqlite);
    let file = dep.data().join("mixed.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"channel":"email","external_id":"<a@x>","received_at":"2024-01-01T08:00:00+08:00","text":"某化工厂电工无证上岗"}"#, "\n",
            "not json\n",
            r#"{"channel":"fax","external_id":"1","received_at":"2024-01-01T08:00:00+08:00","text":"x"}"#, "\n",
            "\n",
            r#"{"channel":"web_form","external_id":"wf-2","received_at":"2024-01-02T08:00:00+08:00","text":"某培训学校包过"}"#, "\n",
        ),
    )
    .unwrap();
    let (code, out, _) = dep.run(&["import", file.to_str().unwrap()], "");
    assert_eq!(code, 3, "some lines rejected: exit 3 ({out})");
    assert!(out.contains("2 new") && out.contains("2 rejected"), "{out}");
    assert!(
        out.contains("mixed.jsonl:2")
            && out.contains("mixed.jsonl:3")
            && out.contains("unknown channel"),
        "{out}"
    );
    assert_eq!(export(&dep).len(), 2);
    let (code, out, _) = dep.run(&["export", "--with-identity"], "");
    assert_eq!(code, 0, "{out}");
}
