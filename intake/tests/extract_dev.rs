//! Measures extraction on the shared labelled reports (`/work/shared/cases/dev.jsonl`).
//!
//! Run with `cargo test -p intake --test extract_dev -- --nocapture` to see the figures and
//! every disagreement.

mod common;

#[test]
fn dev_set_kind_and_categories() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cases/dev.jsonl");
    let Some(rows) = common::load(&path) else {
        assert!(
            std::env::var("TIPLINE_TEST_REQUIRE_ALL").is_err(),
            "TIPLINE_TEST_REQUIRE_ALL is set but {} is missing",
            path.display()
        );
        println!("skipped: {} not found", path.display());
        return;
    };
    let (kind, f1) = common::measure("dev", &rows);
    assert!(kind >= 0.95, "subject_kind accuracy {kind:.3} < 0.95");
    assert!(f1 >= 0.92, "categories micro-F1 {f1:.3} < 0.92");
}
