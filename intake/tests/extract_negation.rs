//! The negation guard (`[negation]` in the rules file): conduct that the report denies or says
//! was put right does not count, while the same conduct said plainly still does.

use intake::extract::{Extraction, Extractor};
use intake::{normalize_text, Envelope};

fn ex_with(x: &Extractor, text: &str) -> Extraction {
    let json = serde_json::json!({
        "channel": "web_form",
        "external_id": "neg-1",
        "received_at": "2024-05-06T09:12:00+08:00",
        "text": text,
    });
    let e = Envelope::from_json(&json.to_string()).expect("test envelope");
    x.extract(&e, &normalize_text(text))
}

fn cats(text: &str) -> Vec<&'static str> {
    ex_with(Extractor::embedded(), text)
        .categories
        .iter()
        .map(|c| c.code())
        .collect()
}

#[track_caller]
fn has(text: &str, code: &str) {
    let got = cats(text);
    assert!(got.contains(&code), "expected {code} in {got:?} for {text}");
}

#[track_caller]
fn lacks(text: &str, code: &str) {
    let got = cats(text);
    assert!(
        !got.contains(&code),
        "did not expect {code} in {got:?} for {text}"
    );
}

#[test]
fn denied_conduct_does_not_count() {
    lacks("考点考场纪律很好，没有发现作弊现象。", "E5");
    lacks("考场秩序正常，没发现有人作弊。", "E5");
    lacks("经了解，考场内未发现考生有作弊行为。", "E5");
    lacks("我公司经自查，不存在特种作业人员无证上岗问题。", "P2");
    lacks("该校不存在包过班的问题。", "T4");
}

#[test]
fn conduct_put_right_does_not_count() {
    lacks("之前反映的电工无证上岗问题，现该厂已经整改了。", "P2");
    lacks("考场监控盲区问题已整改。", "E6");
    lacks("厂里电焊工无证作业的问题已处理，均已取得操作证。", "P2");
}

#[test]
fn plain_conduct_still_counts() {
    has("监考老师在外面抽烟，好多人作弊。", "E5");
    has("公司特种作业人员无证上岗。", "P2");
    has("考场监控有盲区。", "E6");
    // A denial in another sentence does not reach the conduct.
    has("没有发现别的问题。但是考场里好多人作弊。", "E5");
    // Put right once, then the conduct again: the later mention counts.
    has("去年的无证上岗问题已整改。现在车间电工又是无证上岗。", "P2");
    // Only the denied conduct is dropped; the rest of the report stands.
    let got = cats("考场没有发现作弊，但实操考试考评员只问了两个问题就算通过。");
    assert!(got.contains(&"E4") && !got.contains(&"E5"), "{got:?}");
}

#[test]
fn negation_is_configurable() {
    let with = intake::extract::EMBEDDED_RULES;
    // Without the [negation] table, denials are not understood.
    let start = with
        .find("\n[negation]\n")
        .expect("embedded rules have [negation]");
    let end = start
        + with[start..]
            .find("\n[names]\n")
            .expect("names after negation");
    let without = format!("{}{}", &with[..start], &with[end..]);
    let x = Extractor::from_toml(&without).expect("rules without negation compile");
    let got = ex_with(&x, "考场纪律很好，没有发现作弊现象。");
    assert!(
        got.categories.iter().any(|c| c.code() == "E5"),
        "{:?}",
        got.categories
    );

    // A rule can opt out with `negatable = false`.
    let src = r#"
[[rule]]
id = "E5-cheat"
clause = "test"
category = "E5"
all = ["作弊"]
negatable = false

[negation]
before = ["没有发现"]

[names]
suffixes = ["考点"]
stop_words = ["的"]
generic = ["考试"]
official = ["应急管理"]
quote_intro = ["叫"]

[[names.kind_markers]]
kind = "exam_institution"
words = ["考点"]
"#;
    let x = Extractor::from_toml(src).expect("custom rules");
    let got = ex_with(&x, "没有发现作弊");
    assert!(
        got.categories.iter().any(|c| c.code() == "E5"),
        "{:?}",
        got.categories
    );
    let src2 = src.replace("negatable = false\n", "");
    let x = Extractor::from_toml(&src2).expect("custom rules");
    let got = ex_with(&x, "没有发现作弊");
    assert!(
        !got.categories.iter().any(|c| c.code() == "E5"),
        "{:?}",
        got.categories
    );
}
