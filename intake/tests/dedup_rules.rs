//! One test per rule of duplicate detection (DOMAIN.md §7), on invented reports.

use chrono::{DateTime, Duration, TimeZone, Utc};
use intake::dedup::{subject_key, DedupDecision, DedupIndex, DedupProbe, Reason};
use intake::{normalize_text, Category};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn probe(
    text: &str,
    name: Option<&str>,
    cats: &[Category],
    reporter: Option<&str>,
    days: i64,
) -> DedupProbe {
    DedupProbe {
        text: normalize_text(text),
        subject_name: name.map(str::to_string),
        locus: Some("210302".into()),
        categories: cats.to_vec(),
        reporter_key: reporter.map(str::to_string),
        received_at: t0() + Duration::days(days),
        subject_kind: None,
        place_names: ["辽宁省", "辽宁", "鞍山市", "鞍山", "铁东区", "铁东"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

const BAOGUO: &str = "来电人反映：鞍山市铁东区恒安职业技能培训学校招低压电工学员时宣传“包过班”，每人交8000元保证拿证，称考场里会有人帮忙。";

#[test]
fn same_message_under_another_id() {
    let mut ix = DedupIndex::new();
    let p = probe(BAOGUO, None, &[Category::T4], Some("a@example.com"), 0);
    ix.insert(1, 10, &p);
    let mut again = p.clone();
    again.text.push_str(" ");
    again.received_at = p.received_at + Duration::minutes(3);
    match ix.decide(&again) {
        DedupDecision::SameMessage {
            report_id, case_id, ..
        } => assert_eq!((report_id, case_id), (1, 10)),
        d => panic!("{d:?}"),
    }
    // The same text from a different known reporter is no re-send.
    let other = probe(BAOGUO, None, &[Category::T4], Some("b@example.com"), 0);
    assert!(!matches!(
        ix.decide(&other),
        DedupDecision::SameMessage { .. }
    ));
}

#[test]
fn repeat_report_from_the_same_reporter() {
    let mut ix = DedupIndex::new();
    ix.insert(
        1,
        10,
        &probe(
            BAOGUO,
            None,
            &[Category::T4, Category::T5],
            Some("13941286630"),
            0,
        ),
    );
    let again = probe(
        "来电人再次来电：恒安那个培训学校包过班的事没人来查，这几天还在朋友圈招人。",
        None,
        &[Category::T4],
        Some("13941286630"),
        6,
    );
    match ix.decide(&again) {
        DedupDecision::Repeat {
            case_id,
            report_id,
            reasons,
            summary,
            ..
        } => {
            assert_eq!((case_id, report_id), (10, 1));
            assert!(reasons.contains(&Reason::SameReporter));
            assert!(summary.contains("重复件"), "{summary}");
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn same_matter_from_another_reporter_with_name_variants() {
    let mut ix = DedupIndex::new();
    ix.insert(
        1,
        10,
        &probe(
            BAOGUO,
            Some("鞍山市恒安职业技能培训学校"),
            &[Category::T4, Category::T5],
            None,
            0,
        ),
    );
    let web = probe(
        "我要举报我们鞍山铁东这边的恒安职业技能陪训学校！！发广告“包过 不过全退”，收费7800元。",
        None,
        &[Category::T4, Category::T5],
        None,
        3,
    );
    match ix.decide(&web) {
        DedupDecision::SameMatter {
            case_id, reasons, ..
        } => {
            assert_eq!(case_id, 10);
            assert!(
                reasons
                    .iter()
                    .any(|r| matches!(r, Reason::SameSubject { .. })),
                "{reasons:?}"
            );
            assert!(reasons
                .iter()
                .any(|r| matches!(r, Reason::CategoryOverlap { .. })));
        }
        d => panic!("{d:?}"),
    }
    assert_eq!(
        subject_key("鞍山市恒安职业技能培训学校"),
        subject_key("恒安职业技能陪训学校")
    );
}

#[test]
fn same_subject_different_allegation_is_new_and_related() {
    let mut ix = DedupIndex::new();
    ix.insert(
        1,
        10,
        &probe(BAOGUO, None, &[Category::T4, Category::T5], None, 0),
    );
    let other = probe(
        "鞍山恒安职业技能培训学校（铁东区）搬到写字楼里，没有实操场地和设备，全校就两个老师。",
        None,
        &[Category::T1],
        None,
        20,
    );
    match ix.decide(&other) {
        DedupDecision::New {
            subject_key,
            related,
        } => {
            assert_eq!(subject_key.as_deref(), Some("恒安"));
            assert_eq!(related.first().map(|r| r.case_id), Some(10));
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn similar_wording_about_another_subject_is_new() {
    let mut ix = DedupIndex::new();
    ix.insert(
        1,
        10,
        &probe("市民来电反映：铁东区重庆路鑫川化工有限公司部分操作人员持有的特种作业操作证系购买的假证，在查询平台上查不到。", None, &[Category::P2], None, 0),
    );
    let other = probe(
        "市民来电反映：铁东区重庆路渝寿精细化工有限公司部分操作人员持有的特种作业操作证系购买的假证，在查询平台上查不到。",
        None,
        &[Category::P2],
        None,
        2,
    );
    assert!(
        matches!(ix.decide(&other), DedupDecision::New { .. }),
        "{:?}",
        ix.decide(&other)
    );
}

#[test]
fn same_matter_after_close_or_window_is_new_and_related() {
    let mut ix = DedupIndex::new();
    ix.insert(1, 10, &probe(BAOGUO, None, &[Category::T4], None, 0));
    let later = probe(
        "恒安职业技能培训学校又开始办包过班了，高处作业证9800，说考试那天有人照顾。",
        None,
        &[Category::T4],
        None,
        30,
    );
    assert!(matches!(
        ix.decide(&later),
        DedupDecision::SameMatter { case_id: 10, .. }
    ));
    ix.close_case(10, t0() + Duration::days(20));
    match ix.decide(&later) {
        DedupDecision::New { related, .. } => {
            assert!(
                related.first().is_some_and(|r| r.closed && r.case_id == 10),
                "{related:?}"
            );
            assert!(related[0].reasons.contains(&Reason::CaseClosed));
        }
        d => panic!("{d:?}"),
    }
    ix.reopen(10);
    assert!(matches!(
        ix.decide(&later),
        DedupDecision::SameMatter { case_id: 10, .. }
    ));
    let much_later = probe(
        "恒安职业技能培训学校又开始办包过班了，高处作业证9800，说考试那天有人照顾。",
        None,
        &[Category::T4],
        None,
        400,
    );
    match ix.decide(&much_later) {
        DedupDecision::New { related, .. } => {
            assert_eq!(related.first().map(|r| r.case_id), Some(10))
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn texts_without_names_that_say_the_same_thing() {
    let mut ix = DedupIndex::new();
    ix.insert(
        1,
        10,
        &probe("站前街道附近电线杆上贴小广告，办理电工证焊工证高处作业证，声称不用考试三天出证全国联网可查，留有联系电话。", None, &[Category::F2], None, 0),
    );
    let other = probe(
        "站前街道那边电线杆上到处贴小广告，说能办电工证焊工证，不用考试三天出证，全国联网可查，请查处。",
        None,
        &[Category::F2],
        Some("13800000000"),
        4,
    );
    assert!(
        matches!(
            ix.decide(&other),
            DedupDecision::SameMatter { case_id: 10, .. }
        ),
        "{:?}",
        ix.decide(&other)
    );
    // A different county: not the same matter.
    let mut elsewhere = other.clone();
    elsewhere.locus = Some("500105".into());
    assert!(matches!(ix.decide(&elsewhere), DedupDecision::New { .. }));
}

#[test]
fn officer_moves_a_report() {
    let mut ix = DedupIndex::new();
    ix.insert(1, 10, &probe(BAOGUO, None, &[Category::T4], None, 0));
    assert!(ix.move_report(1, 77));
    assert!(!ix.move_report(999, 1));
    let web = probe(
        "恒安职业技能培训学校包过班收费8000元，说考场有自己人。",
        None,
        &[Category::T4],
        None,
        2,
    );
    assert_eq!(ix.decide(&web).case_id(), Some(77));
}

#[test]
fn no_panic_on_odd_input_and_serde_round_trip() {
    let mut ix = DedupIndex::new();
    let odd = [
        "",
        " ",
        "😀",
        "a",
        "“”",
        "有限公司",
        "某某厂",
        "省市区县",
        "\u{200b}\u{feff}",
    ];
    for (i, t) in odd.iter().enumerate() {
        let mut p = probe(t, Some(t), &[], Some(""), i as i64);
        p.locus = Some(String::new());
        p.place_names.push(String::new());
        let d = ix.decide(&p);
        let json = serde_json::to_string(&d).unwrap_or_default();
        let back: DedupDecision =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(back, d);
        ix.insert(i as i64 + 1, i as i64 + 1, &p);
    }
    assert!(ix.memory_bytes() > 0);
}

/// Regression (found with `tipline generate`): brands differing in their first characters are
/// different subjects however alike the rest of the name and the wording, and "在线" stays inside
/// a name instead of cutting it.
#[test]
fn similar_names_of_different_brands_and_online_platforms_stay_apart() {
    let mut ix = DedupIndex::new();
    let text = |n: &str| {
        format!("网上有个叫“{n}”的网站，仿冒应急管理部的证书查询平台，买来的假证在上面能查到。")
    };
    let first = probe(
        &text("金川证书查询网"),
        Some("金川证书查询网"),
        &[Category::F1],
        None,
        0,
    );
    ix.insert(1, 1, &first);
    let other = probe(
        &text("顺川证书查询网"),
        Some("顺川证书查询网"),
        &[Category::F1],
        None,
        1,
    );
    assert!(
        !matches!(
            ix.decide(&other),
            DedupDecision::SameMatter { .. } | DedupDecision::Repeat { .. }
        ),
        "another brand is another subject"
    );
    let keys = intake::dedup::subject_keys_in_text(
        &normalize_text("东城区的泰川在线学习平台可以挂课"),
        &[],
    );
    assert!(keys.iter().any(|k| k.contains("泰川")), "{keys:?}");
    assert_ne!(
        subject_key("泰川在线学习平台"),
        subject_key("安邦在线学习平台")
    );
}

/// The split API (features prepared off the writer, then decide and insert on it) decides as the
/// one-call API does, on a history that yields every kind of decision.
#[test]
fn prepared_probes_decide_as_plain_ones() {
    let reports = [
        probe(BAOGUO, None, &[Category::T4], Some("a@example.com"), 0),
        probe(BAOGUO, None, &[Category::T4], Some("a@example.com"), 0),
        probe(
            BAOGUO,
            Some("恒安职业技能陪训学校"),
            &[Category::T4],
            Some("b@example.com"),
            2,
        ),
        probe(BAOGUO, None, &[Category::T4], Some("a@example.com"), 5),
        probe(
            "恒安培训学校收费8000元，比别家贵一倍。",
            Some("恒安职业技能培训学校"),
            &[Category::T5],
            None,
            200,
        ),
        probe("有个化工厂晚上偷偷排放废气。", None, &[], None, 201),
    ];
    let mut plain = DedupIndex::new();
    let mut split = DedupIndex::new();
    let featurizer = split.featurizer();
    for (i, p) in reports.iter().enumerate() {
        let prepared = featurizer.prepare(p.clone());
        let decision = plain.decide(p);
        assert_eq!(split.decide_prepared(&prepared), decision, "report {i}");
        let case_id = decision.case_id().unwrap_or(i as i64 + 100);
        plain.insert(i as i64 + 1, case_id, p);
        split.insert_prepared(i as i64 + 1, case_id, &prepared);
    }
}
