//! The hard cases of locus and routing (DOMAIN §4–§5).

use intake::{Category, ReferralKind, SubjectKind};
use triage::{LocateInput, Locus, Triage, TriageConfig};

fn nationwide() -> Triage {
    Triage::new(TriageConfig::default())
}

fn locate(t: &Triage, text: &str, phone: Option<&str>) -> Locus {
    t.locate(&LocateInput {
        text,
        phone,
        ..Default::default()
    })
}

#[test]
fn shared_county_name_alone_is_not_placed() {
    let l = locate(&nationwide(), "朝阳区有一家培训学校没有实操场地。", None);
    assert_eq!(l.code, None, "{l:?}");
    assert!(
        l.candidates.iter().any(|c| c.starts_with("110105")),
        "{:?}",
        l.candidates
    );
    assert!(
        l.candidates.iter().any(|c| c.starts_with("220104")),
        "{:?}",
        l.candidates
    );
    assert!(
        l.reasons.iter().any(|r| r.contains("无法确定")),
        "{:?}",
        l.reasons
    );
}

#[test]
fn shared_county_name_with_phone_area_code() {
    let l = locate(
        &nationwide(),
        "朝阳区有一家培训学校没有实操场地。",
        Some("0431-85556677"),
    );
    assert_eq!(l.code.as_deref(), Some("220104"), "{l:?}");
    let l = locate(
        &nationwide(),
        "铁西区鑫盛安全技术培训中心培训档案造假。",
        Some("0412-8823561"),
    );
    assert_eq!(l.code.as_deref(), Some("210303"), "{l:?}");
}

#[test]
fn shared_county_name_with_prefecture_nearby() {
    let t = nationwide();
    assert_eq!(
        locate(&t, "长春市朝阳区某考点监考员离场。", None)
            .code
            .as_deref(),
        Some("220104")
    );
    assert_eq!(
        locate(&t, "四平铁东一家培训学校没有实操场地。", None)
            .code
            .as_deref(),
        Some("220303")
    );
    assert_eq!(
        locate(&t, "北京朝阳区望京有个培训中心包过。", None)
            .code
            .as_deref(),
        Some("110105")
    );
}

#[test]
fn short_names_inside_ordinary_words() {
    let t = nationwide();
    for text in [
        "我同事刘东方说这家公司没有培训计划。",
        "在长安汽车4S店旁边的工地上，电工无证作业。",
        "早上在永和豆浆吃饭时听人说的。",
        "绿水青山就是金山银山，企业要重视安全培训。",
        "某交通化工企业没有培训计划。",
        "东方市场里有人卖假证。",
    ] {
        let l = locate(&t, text, None);
        assert_eq!(l.code, None, "{text}: {l:?}");
    }
}

#[test]
fn old_names_resolve_to_successors() {
    let t = nationwide();
    assert_eq!(
        locate(&t, "茂名市电白县一家化工厂没有培训计划。", None)
            .code
            .as_deref(),
        Some("440904")
    );
    assert_eq!(
        locate(&t, "电白县一家化工厂没有培训计划。", None)
            .code
            .as_deref(),
        Some("440904")
    );
    assert_eq!(
        locate(&t, "杭州市下城区某培训学校没有专职教师。", None)
            .code
            .as_deref(),
        Some("330105")
    );
    assert_eq!(
        locate(&t, "下城区某培训学校没有专职教师。", None)
            .code
            .as_deref(),
        Some("330105")
    );
    assert_eq!(
        locate(&t, "莱芜市一家钢厂电工无证上岗。", None)
            .code
            .as_deref(),
        Some("370116")
    );
}

#[test]
fn township_resolves_to_county() {
    let t = nationwide();
    let l = locate(
        &t,
        "来电人反映汤岗子那边的烟花爆竹批发公司没有培训计划。",
        None,
    );
    assert_eq!(l.code.as_deref(), Some("210311"), "{l:?}");
    assert_eq!(l.township.as_deref(), Some("210311006"));
    let l = locate(&t, "千山区汤岗子街道某公司主要负责人未经考核。", None);
    assert_eq!(l.code.as_deref(), Some("210311"));
}

#[test]
fn combined_prefecture_and_county_short_forms() {
    let l = locate(&nationwide(), "泰安岱岳区安达特种作业考试点考试放水", None);
    assert_eq!(l.code.as_deref(), Some("370911"), "{l:?}");
    let l = locate(
        &nationwide(),
        "泰安岱岳安达考点电工考试放水，监考不在。",
        None,
    );
    assert_eq!(l.code.as_deref(), Some("370911"), "{l:?}");
    assert!(
        l.reasons[0].contains("“泰安”") && l.reasons[0].contains("定位"),
        "{:?}",
        l.reasons
    );
}

#[test]
fn subject_place_beats_reporter_place() {
    let t = nationwide();
    let l = locate(
        &t,
        "我是海城人，在鞍山市铁东区恒安职业技能培训学校报名，学校没有实操场地。",
        None,
    );
    assert_eq!(l.code.as_deref(), Some("210302"), "{l:?}");
    let l = t.locate(&LocateInput {
        text: "我家住沈阳市铁西区，反映一家培训学校包过。",
        subject_address: Some("辽宁省鞍山市立山区"),
        ..Default::default()
    });
    assert_eq!(l.code.as_deref(), Some("210304"), "{l:?}");
}

#[test]
fn province_direct_county_exam_point() {
    let t = nationwide();
    let l = locate(&t, "仙桃 安顺考点 8月5号那场考试监控拍不到", None);
    assert_eq!(l.code.as_deref(), Some("429004"), "{l:?}");
    let r = t.route(SubjectKind::ExamInstitution, &l, &[Category::E6], false);
    assert_eq!(r.handling.code(), "429004");
    let r = t.route(SubjectKind::TrainingInstitution, &l, &[Category::T1], false);
    assert_eq!(r.handling.code(), "429004");
}

#[test]
fn prefecture_without_counties() {
    let t = nationwide();
    let l = locate(&t, "东莞市一家培训学校没有实操设备。", None);
    assert_eq!(l.code.as_deref(), Some("441900"), "{l:?}");
    assert_eq!(
        t.route(SubjectKind::TrainingInstitution, &l, &[Category::T1], false)
            .handling
            .code(),
        "441900"
    );
    assert_eq!(
        t.route(SubjectKind::ExamInstitution, &l, &[Category::E1], false)
            .handling
            .code(),
        "441900"
    );
    let l = locate(&t, "嘉峪关市某考点实操考试走过场。", None);
    assert_eq!(l.code.as_deref(), Some("620201"), "{l:?}");
    assert_eq!(
        t.route(SubjectKind::ExamInstitution, &l, &[Category::E4], false)
            .handling
            .code(),
        "620200"
    );
}

#[test]
fn municipality_prefecture_level() {
    let t = nationwide();
    let l = locate(&t, "重庆渝北区一家网络培训平台提供代学服务。", None);
    assert_eq!(l.code.as_deref(), Some("500112"));
    assert_eq!(
        t.route(SubjectKind::OnlinePlatform, &l, &[Category::T6], false)
            .handling
            .code(),
        "500000"
    );
}

#[test]
fn handling_home_without_place_or_for_other() {
    let t = nationwide();
    let none = Locus::default();
    assert_eq!(
        t.route(SubjectKind::Counterfeiter, &none, &[Category::F1], false)
            .handling
            .code(),
        "home"
    );
    let l = locate(&t, "渝中区解放碑一家火锅店把液化气罐堆在消防通道。", None);
    assert_eq!(l.code.as_deref(), Some("500103"));
    assert_eq!(
        t.route(SubjectKind::Other, &l, &[Category::X], false)
            .handling
            .code(),
        "home"
    );
}

#[test]
fn zone_wins() {
    let cfg = TriageConfig::from_toml(include_str!("../examples/zones.toml"))
        .expect("example config parses");
    let t = Triage::new(cfg);
    let l = locate(&t, "鞍山市铁东区旧堡街道一家化工厂电工无证上岗。", None);
    assert_eq!(l.code.as_deref(), Some("210302"), "{l:?}");
    assert_eq!(l.zone.as_deref(), Some("210371"), "{l:?}");
    let r = t.route(SubjectKind::ProductionUnit, &l, &[Category::P2], true);
    assert_eq!(r.handling.code(), "210371");
    assert_eq!(r.transfer, None);
    // Outside the zone: the county.
    let l = locate(&t, "鞍山市铁东区站前街道一家化工厂电工无证上岗。", None);
    assert_eq!(
        t.route(SubjectKind::ProductionUnit, &l, &[Category::P2], false)
            .handling
            .code(),
        "210302"
    );
    // Named by alias.
    let l = locate(&t, "鞍山高新区一家培训学校没有专职教师。", None);
    assert_eq!(l.zone.as_deref(), Some("210371"), "{l:?}");
}

#[test]
fn home_transfer() {
    let t = Triage::new(TriageConfig {
        home: Some("210300".into()),
        ..Default::default()
    });
    let l = locate(&t, "泰安市泰山区岱宗安全技术培训学校包过班。", None);
    let r = t.route(SubjectKind::TrainingInstitution, &l, &[Category::T4], false);
    assert_eq!(r.handling.code(), "370902");
    assert_eq!(r.transfer.as_deref(), Some("370902"));
    assert!(
        r.reasons.iter().any(|x| x.contains("跨地区转办")),
        "{:?}",
        r.reasons
    );
    let l = locate(&t, "鞍山市铁东区恒安职业技能培训学校包过班。", None);
    assert_eq!(
        t.route(SubjectKind::TrainingInstitution, &l, &[Category::T4], false)
            .transfer,
        None
    );
    // Home decides a shared name.
    let l = locate(&t, "铁东区有一家培训学校没有实操场地。", None);
    assert_eq!(l.code.as_deref(), Some("210302"), "{l:?}");
}

#[test]
fn referrals_named_for_the_locus() {
    let t = nationwide();
    let l = locate(
        &t,
        "鞍山市铁东区恒安职业技能培训学校包过班，收费8000元。",
        None,
    );
    let r = t.route(
        SubjectKind::TrainingInstitution,
        &l,
        &[Category::T4, Category::T5, Category::T4],
        false,
    );
    let codes: Vec<&str> = r.referrals.iter().map(|x| x.code.code()).collect();
    assert_eq!(codes, ["market_regulation", "public_security"]);
    assert_eq!(r.referrals[0].body, "鞍山市铁东区市场监督管理局");
    assert_eq!(r.referrals[1].body, "鞍山市公安局铁东分局");
    assert!(r.referrals[0]
        .basis
        .contains("应急厅函〔2021〕274号 四(二)"));
    let l = locate(&t, "泰安岱岳区安达特种作业考试点考试放水", None);
    let r = t.route(SubjectKind::ExamInstitution, &l, &[Category::E5], false);
    assert_eq!(r.referrals.len(), 1);
    assert_eq!(r.referrals[0].code, ReferralKind::ExamQualification);
    assert_eq!(r.referrals[0].body, "泰安市应急管理局");
    // P2 only with a fake certificate.
    let l = locate(&t, "海城市腾鳌镇某公司电工无证上岗。", None);
    assert!(t
        .route(SubjectKind::ProductionUnit, &l, &[Category::P2], false)
        .referrals
        .is_empty());
    let r = t.route(SubjectKind::ProductionUnit, &l, &[Category::P2], true);
    assert_eq!(r.referrals[0].body, "海城市公安局");
}

#[test]
fn reasons_carry_words_and_spans() {
    let l = locate(&nationwide(), "来电人反映鞍山市铁东区恒安学校包过。", None);
    assert_eq!(l.code.as_deref(), Some("210302"));
    assert!(
        l.reasons[0].contains("“铁东区”(8–11)") && l.reasons[0].contains("“鞍山市”"),
        "{:?}",
        l.reasons
    );
    assert!(l
        .evidence
        .iter()
        .any(|e| e.text == "铁东区" && e.code == "210302"));
}

#[test]
fn no_panic_on_odd_input() {
    let t = nationwide();
    for text in [
        "",
        "市",
        "🙏🙏鞍山",
        "鞍山\u{0}铁东",
        "（（（",
        "a鞍山市b铁东区c",
        "县市区镇乡旗",
    ] {
        let l = t.locate(&LocateInput {
            text,
            address: Some("🙏"),
            subject_address: Some(""),
            subject_name: Some("鞍"),
            phone: Some("0"),
        });
        let _ = t.route(SubjectKind::Counterfeiter, &l, &[Category::F2], true);
    }
}

fn locate_with_subject(t: &Triage, text: &str, subject: &str, phone: Option<&str>) -> Locus {
    t.locate(&LocateInput {
        text,
        subject_name: Some(subject),
        phone,
        ..Default::default()
    })
}

#[test]
fn township_word_in_a_brand_name_is_no_place() {
    let t = nationwide();
    // 华夏, 长城, 金桥 are township names somewhere; in a brand they place nothing by themselves.
    let l = locate_with_subject(
        &t,
        "雨花区那边的 长城安全技术培训学校 电工培训不上实操课。",
        "长城安全技术培训学校",
        Some("0731-85551234"),
    );
    assert_eq!(l.code.as_deref(), Some("430111"), "{l:?}");
    let l = locate_with_subject(
        &t,
        "金桥安全培训中心 焊工证包过，交钱不用上课。",
        "金桥安全培训中心",
        None,
    );
    assert_eq!(l.code, None, "{l:?}");
    // Not mirrored in the text (a structured subject): same rule.
    let l = locate_with_subject(
        &t,
        "望城区的一家培训中心焊工证包过。",
        "华夏安全培训中心",
        None,
    );
    assert_eq!(l.code.as_deref(), Some("430112"), "{l:?}");
    // A county's name at the head of an organisation's name still places it (企业名称 begin with
    // the registering division), and a township written with its suffix is a place.
    let l = locate_with_subject(
        &t,
        "反映台安鑫达安全培训学校档案造假。",
        "台安鑫达安全培训学校",
        None,
    );
    assert_eq!(l.code.as_deref(), Some("210321"), "{l:?}");
}

#[test]
fn prefecture_and_its_same_named_county() {
    let t = nationwide();
    // 邵阳 = 邵阳市 (or 邵阳县): read as the prefecture, so no county by itself.
    let l = locate(&t, "邵阳有一家培训机构交钱就发证。", None);
    assert_eq!(l.code, None, "{l:?}");
    let l = locate(&t, "邵阳县有一家培训机构交钱就发证。", None);
    assert_eq!(l.code.as_deref(), Some("430523"), "{l:?}");
    // The prefecture, then a county of it.
    let l = locate(&t, "邵阳 隆回一家培训机构交钱就发证。", None);
    assert_eq!(l.code.as_deref(), Some("430524"), "{l:?}");
    // A prefecture in an organisation's name, the county-level zone in the text.
    let l = locate_with_subject(
        &t,
        "岳阳屈原管理区一家化工厂（岳阳华升化工有限公司）从不组织培训。",
        "岳阳华升化工有限公司",
        None,
    );
    assert_eq!(l.code.as_deref(), Some("430671"), "{l:?}");
}

#[test]
fn development_zones_by_their_usual_forms() {
    let t = nationwide();
    for (text, code) in [
        ("宿迁经开区一家电子厂员工未经培训上岗。", "321371"),
        ("宿迁市经开区一家电子厂员工未经培训上岗。", "321371"),
        ("淮安开发区一家电子厂员工未经培训上岗。", "320871"),
        ("济宁高新区一家电子厂员工未经培训上岗。", "370871"),
        ("益阳高新区一家电子厂员工未经培训上岗。", "430972"),
        ("张家口察北管理区一家电子厂员工未经培训上岗。", "130772"),
        ("昭山示范区一家电子厂员工未经培训上岗。", "430372"),
        ("郑州航空港区一家电子厂员工未经培训上岗。", "410173"),
        ("长春汽车经开区一家电子厂员工未经培训上岗。", "220174"),
    ] {
        let l = locate(&t, text, None);
        assert_eq!(l.code.as_deref(), Some(code), "{text} {l:?}");
    }
}
