//! Measures extraction on reports written for this purpose (`tests/data/extra.jsonl`): other
//! provinces, other wording than the shared dev set, every category.

mod common;

#[test]
fn extra_set_kind_and_categories() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/extra.jsonl");
    let rows = common::load(&path).expect("tests/data/extra.jsonl");
    let (kind, f1) = common::measure("extra", &rows);
    assert!(kind >= 0.9, "subject_kind accuracy {kind:.3} < 0.9");
    assert!(f1 >= 0.85, "categories micro-F1 {f1:.3} < 0.85");
}
