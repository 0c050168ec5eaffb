//! Locus and handling on `shared/cases/dev.jsonl` through the whole pipeline, as `src/pipeline.rs`
//! runs it: the subject name, kind, categories and fake-certificate flag come from the intake
//! extractor, not from the labels (`dev_cases.rs` measures triage alone with labelled inputs).

mod common;

use triage::{Triage, TriageConfig};

#[test]
fn pipeline_dev_cases() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cases/dev.jsonl");
    let Ok(data) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var("TIPLINE_TEST_REQUIRE_ALL").is_err(),
            "TIPLINE_TEST_REQUIRE_ALL is set but {} is missing",
            path.display()
        );
        println!("skipped: {} not found", path.display());
        return;
    };
    let triage = Triage::new(TriageConfig::default());
    let t = common::evaluate(&triage, &data);
    let (l, h) = (t.locus(), t.handling());
    println!(
        "dev.jsonl through the pipeline: {} reports; locus {l:.3} ({}), handling {h:.3} ({}/{})",
        t.n, t.locus_ok, t.handling_ok, t.handling_n
    );
    assert!(l >= 0.97, "locus accuracy {l:.3}");
    assert!(h >= 0.97, "handling accuracy {h:.3}");
}
