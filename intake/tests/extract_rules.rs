//! Extraction rules: each category in varied everyday wording, negatives, subject names,
//! subject kinds, offsets, and robustness.

use intake::extract::{Extraction, Extractor};
use intake::{normalize_text, Category, Envelope, SubjectKind};

fn envelope(text: &str) -> Envelope {
    let json = serde_json::json!({
        "channel": "web_form",
        "external_id": "t-1",
        "received_at": "2024-05-06T09:12:00+08:00",
        "text": text,
    });
    Envelope::from_json(&json.to_string()).expect("test envelope")
}

fn ex(text: &str) -> Extraction {
    // The envelope needs a non-empty text; the extractor itself is fed any normalized string.
    let e = envelope(if text.trim().is_empty() { "-" } else { text });
    Extractor::embedded().extract(&e, &normalize_text(text))
}

fn cats(text: &str) -> Vec<&'static str> {
    ex(text).categories.iter().map(|c| c.code()).collect()
}

#[track_caller]
fn has(text: &str, code: &str) {
    let x = ex(text);
    assert!(
        x.categories.iter().any(|c| c.code() == code),
        "expected {code} in {:?} (kind {}) for {text}\nreasons: {:?}",
        x.categories,
        x.subject_kind.code(),
        x.reasons
            .iter()
            .map(|r| (&r.rule, &r.matched))
            .collect::<Vec<_>>()
    );
}

#[track_caller]
fn lacks(text: &str, code: &str) {
    let x = ex(text);
    assert!(
        !x.categories.iter().any(|c| c.code() == code),
        "did not expect {code} in {:?} for {text}",
        x.categories
    );
}

#[track_caller]
fn kind(text: &str, want: SubjectKind) {
    let x = ex(text);
    assert_eq!(
        x.subject_kind, want,
        "kind for {text}; categories {:?}",
        x.categories
    );
}

// ── the examples of the brief ────────────────────────────────────────────────────────────────

#[test]
fn brief_examples() {
    has("交钱就能拿证不用考", "T4");
    has("老师自己都没证", "T1");
    has("监考在外面抽烟让我们随便抄", "E5");
    has("厂里电焊工都没证", "P2");
    for t in [
        "我们厂几个电工的证是假的",
        "车间里好几个焊工用的是网上买的假证",
        "公司叉车司机的证网上查不到，是中介办的",
    ] {
        let x = ex(t);
        assert_eq!(x.categories, vec![Category::P2], "{t}");
        assert!(x.fake_certificate, "{t}");
        assert_eq!(x.subject_kind, SubjectKind::ProductionUnit, "{t}");
    }
}

// ── training institutions ───────────────────────────────────────────────────────────────────

#[test]
fn t1_basic_conditions() {
    has(
        "市民来电反映：某某职业培训学校讲焊工课的老师本人没有焊工操作证。诉求：请核查。",
        "T1",
    );
    has(
        "这家培训中心就一个专职老师，也没有实操场地，上课租的宾馆会议室",
        "T1",
    );
    has(
        "宏达安全培训学校 连个固定场地都没有 老师都是临时找的😅",
        "T1",
    );
    lacks("宏达安全培训学校的老师讲课很认真，场地也宽敞。", "T1");
}

#[test]
fn t2_teaching_for_show() {
    has(
        "来电人反映：华安安全技术培训学校电工培训压缩学时，一周的课两天就上完了。",
        "T2",
    );
    has(
        "报了焊工班，老师上课就是带着刷模拟题，实操设备碰都没碰过，这也叫培训？",
        "T2",
    );
    has(
        "您好：该校未按照培训大纲组织教学，擅自改变教学内容。请调查。安达培训学校",
        "T2",
    );
}

#[test]
fn t3_training_records() {
    has(
        "来电人反映安顺培训中心的培训档案造假，签到表都是工作人员代签的。",
        "T3",
    );
    has(
        "在恒信职业培训学校培训了两天，结束时让我们把七天的签到表都签上",
        "T3",
    );
    has(
        "市民来电反映：某市金安安全培训学校没有建立学员培训档案，复审时无法提供培训记录。",
        "T3",
    );
}

#[test]
fn t4_collusion_and_guaranteed_pass() {
    has("鑫达培训学校办“包过班”，说考场里有人照应，不过全退。", "T4");
    has(
        "那个培训中心的人说交钱就能拿证，不用考试，考点那边已经打好招呼了",
        "T4",
    );
    has(
        "来电人反映：华信职业培训学校与考点串通，考前把原题发给学员。",
        "T4",
    );
}

#[test]
fn t5_market_and_prices() {
    has(
        "安泰培训学校高处作业收费6800元，正规学校才一千多，太坑了",
        "T5",
    );
    has("市民来电反映：诚安职业培训学校给企业安全员返点，强迫员工必须在该校报名培训。诉求：请查处。", "T5");
    has(
        "顺达培训学校自称是应急局指定培训机构，挨个给企业打电话招生",
        "T5",
    );
    lacks(
        "在德安职业培训学校报名后没上课，申请退费1300元被拒绝。",
        "T5",
    );
}

#[test]
fn t6_online_cheating() {
    has("“安学宝”APP可以挂课，花30块就有人帮你刷完学时", "T6");
    has(
        "来电人反映：某培训学校的网课都是学校的人统一代学，学员只管交钱。",
        "T6",
    );
    has(
        "平台人脸识别形同虚设，用照片就能过，一晚上挂机刷满全年课时",
        "T6",
    );
}

// ── exam institutions ────────────────────────────────────────────────────────────────────────

#[test]
fn e1_exam_conditions() {
    has(
        "来电人反映安平安全生产考试点实操考场设备大部分是坏的，考评员自己都没有电工证。",
        "E1",
    );
    has(
        "那个考点的理论考场电脑老死机，考场就是仓库改的，连通风都没有",
        "E1",
    );
}

#[test]
fn e2_teaching_and_exam_not_separated() {
    has(
        "举报：泰和安全生产考试点自己也办培训班，考点工作人员同时给培训班上课。",
        "E2",
    );
    has(
        "这个考点跟培训学校是同一个老板，考培一体，用的同一套设备",
        "E2",
    );
}

#[test]
fn e3_exam_plan() {
    has(
        "市民来电反映：某某安全生产考试点从来不公布考试计划，凑够人数才考。诉求：规范考试安排。",
        "E3",
    );
    has(
        "考点说好的8月考试又取消了，后来临时加考只通知了几个人",
        "E3",
    );
}

#[test]
fn e4_practical_exam_for_show() {
    has(
        "来电人反映华鑫考点的焊工实操考试没有任何设备，考评员问了几个问题就算过。",
        "E4",
    );
    has(
        "考点实操考试就是对着图片口述操作步骤，五分钟不到就结束",
        "E4",
    );
    lacks("考点实操考试用的是真实设备，考评员很严格。", "E4");
}

#[test]
fn e5_exam_discipline() {
    has(
        "安达考试点 考试放水 监考的把答案写在黑板上让大家抄！！",
        "E5",
    );
    has(
        "市民来电反映：某考试点理论考试电脑上装了QQ和远程控制软件，监考人员长时间离开考场。",
        "E5",
    );
    has("考点监考老师玩手机，不管考生拿手机搜答案", "E5");
}

#[test]
fn e6_video_and_archives() {
    has("考点考场的摄像头是坏的，根本没录像，还有监控盲区", "E6");
    has(
        "市民来电反映：某安全生产考试点考试成绩不是当场上传，而是隔天统一补录。",
        "E6",
    );
}

// ── production units ─────────────────────────────────────────────────────────────────────────

#[test]
fn p1_training_plan() {
    has(
        "来电人反映：某化工有限公司没有年度安全培训计划，新工人来了直接上岗。",
        "P1",
    );
    has(
        "我们厂从来没搞过安全培训，老板说培训没用😒 金鑫冶炼厂",
        "P1",
    );
}

#[test]
fn p2_special_operations_certificates() {
    has(
        "市民来电反映：某钢结构有限公司电焊作业人员多数未取得焊接与热切割作业操作证。诉求：查处。",
        "P2",
    );
    has("矿上开提升机的和井下电工都没有证，老板说证在办", "P2");
    has(
        "公司拿离职员工的操作证备案，检查时让别人冒名顶替，人证不一致",
        "P2",
    );
    let x = ex("厂里电工都没证，老板让先干着");
    assert!(!x.fake_certificate);
}

#[test]
fn p3_principal_and_safety_manager_assessment() {
    has(
        "市民来电反映：某冶炼有限公司总经理今年3月任职，至今未经安全生产知识和管理能力考核。",
        "P3",
    );
    has(
        "厂里新来的安全员是老板亲戚，从来没参加过考核，也没有安全管理人员合格证",
        "P3",
    );
}

#[test]
fn p4_training_records() {
    has(
        "来电人反映某化工厂的安全培训记录都是安全员统一编的，培训照片是摆拍的。",
        "P4",
    );
    has(
        "公司培训台账每月都有记录和签名，但员工根本没参加过培训，化工有限公司",
        "P4",
    );
}

// ── counterfeits ─────────────────────────────────────────────────────────────────────────────

#[test]
fn f1_fake_government_website() {
    let x = ex("有个网站叫“全国特种作业证书查询中心”，页面做得跟应急管理部的一模一样，在上面能查到的证去官方平台查不到");
    assert!(x.categories.contains(&Category::F1), "{:?}", x.categories);
    assert_eq!(x.subject_kind, SubjectKind::Counterfeiter);
    has(
        "来电人反映有个假的证书查询网站，仿冒省应急管理厅的查询平台。",
        "F1",
    );
}

#[test]
fn f2_selling_fake_certificates() {
    let x = ex("市民来电反映：火车站附近有人张贴小广告办理电工证、焊工证，声称不用考试三天出证。诉求：查处制售假证。");
    assert_eq!(x.categories, vec![Category::F2]);
    assert_eq!(x.subject_kind, SubjectKind::Counterfeiter);
    has("朋友圈有人卖特种作业操作证，800元一本，说官网可查", "F2");
    // A factory whose workers bought fakes from an agent is the production unit (P2), not F2.
    let x = ex("市民来电反映：某某化工有限公司多名操作人员持假证上岗，证件系从网上办证中介购买。");
    assert_eq!(x.subject_kind, SubjectKind::ProductionUnit);
    assert_eq!(x.categories, vec![Category::P2]);
    assert!(x.fake_certificate);
}

// ── outside the field ────────────────────────────────────────────────────────────────────────

#[test]
fn x_outside_the_field() {
    for t in [
        "来电人反映其打工的单位拖欠工资三个月，要求维权。",
        "楼下烧烤店每天营业到凌晨三点，太吵了，睡不着觉😭",
        "市民来电反映：其在某商场购买的空调质量有问题，商家拒绝退换。诉求：协调处理。",
        "小区楼道里堆满了纸箱，消防通道被堵，存在火灾隐患",
        "",
    ] {
        let x = ex(t);
        assert_eq!(x.categories, vec![Category::X], "{t}");
        assert_eq!(x.subject_kind, SubjectKind::Other, "{t}");
        assert!(!x.fake_certificate);
    }
}

#[test]
fn x_keeps_an_institution_kind() {
    let x = ex(
        "市民来电反映：其在常德市武陵区德安职业培训学校报名，尚未上课即申请退费，该校拒绝退还。",
    );
    assert_eq!(x.categories, vec![Category::X]);
    assert_eq!(x.subject_kind, SubjectKind::TrainingInstitution);
}

// ── subject kinds: the same words, different subjects ─────────────────────────────────────────

#[test]
fn same_words_different_kinds() {
    // teacher vs examiner without a certificate
    assert_eq!(cats("恒安培训学校的老师自己都没有电工证"), vec!["T1"]);
    assert_eq!(
        cats("泰和安全生产考试点的考评员自己都没有电工证"),
        vec!["E1"]
    );
    // records: training institution T3, production unit P4
    assert_eq!(cats("恒安培训学校的培训记录都是代签的"), vec!["T3"]);
    assert_eq!(cats("鑫源化工有限公司的培训记录都是代签的"), vec!["P4"]);
    // video at an exam point
    assert_eq!(cats("泰和考试点考场录像经常中断"), vec!["E6"]);
    kind(
        "“学安云”线上安全培训平台可以挂课",
        SubjectKind::OnlinePlatform,
    );
    kind(
        "宏安职业培训学校组织我们上网课，都是学校的人代学",
        SubjectKind::TrainingInstitution,
    );
    // an agent selling fakes vs a factory using them
    kind(
        "办证中介卖假证，电工证1000元一本",
        SubjectKind::Counterfeiter,
    );
    kind(
        "鑫川化工有限公司的操作工拿的是假证",
        SubjectKind::ProductionUnit,
    );
}

#[test]
fn structured_subject_wins() {
    let json = serde_json::json!({
        "channel": "hotline_12345",
        "external_id": "GD1",
        "received_at": "2024-05-06T09:12:00+08:00",
        "subject": {"name": "淄博齐润化工有限公司", "kind": "production_unit"},
        "text": "员工入职未经培训即上岗，培训记录存在编造情况。",
    });
    let e = Envelope::from_json(&json.to_string()).unwrap();
    let x = Extractor::embedded().extract(&e, &normalize_text(&e.full_text()));
    assert_eq!(x.subject_name.as_deref(), Some("淄博齐润化工有限公司"));
    assert_eq!(x.subject_kind, SubjectKind::ProductionUnit);
    assert_eq!(x.categories, vec![Category::P1, Category::P4]);
}

// ── subject names ────────────────────────────────────────────────────────────────────────────

#[track_caller]
fn name(text: &str, want: Option<&str>) {
    assert_eq!(ex(text).subject_name.as_deref(), want, "{text}");
}

#[test]
fn subject_names() {
    name(
        "来电人反映：鞍山市铁东区恒安职业技能培训学校在招低压电工学员时宣传“包过班”。",
        Some("鞍山市铁东区恒安职业技能培训学校"),
    );
    name(
        "邵东市 一家叫 宏安职业培训学校 的，组织网课代学",
        Some("宏安职业培训学校"),
    );
    name(
        "来电人反映四平铁东一家培训学校（四平市铁东区恒达职业培训学校），没有实操场地",
        Some("四平市铁东区恒达职业培训学校"),
    );
    name(
        "江北区有家培训学校叫渝江安全技术培训学校，实操基本没上",
        Some("渝江安全技术培训学校"),
    );
    name(
        "本人于10月19日在鞍山市立山区众安安全生产考试点参加考试，监考不在",
        Some("鞍山市立山区众安安全生产考试点"),
    );
    name(
        "来电人反映衡阳一家化工厂（衡阳松源化工有限公司）没有培训计划",
        Some("衡阳松源化工有限公司"),
    );
    name(
        "来电人反映齐大山那边的齐丰矿业选矿厂，厂里没有年度培训计划",
        Some("齐丰矿业选矿厂"),
    );
    name(
        "举报“安学通”APP：平台公开卖代学服务，３０元一门课包刷完",
        Some("“安学通”APP"),
    );
    name("有个叫“安培宝”的学习APP，专门帮人挂网课", Some("“安培宝”"));
    name("东平县的特种作业考点实操考试没有设备，考评员口述打分", None);
    name("厂里电焊工都没证", None);
    name("市民来电反映：某建材厂电工无证作业", None);
    // official platforms are never the subject
    name("我们厂工人的证在应急管理部查询平台上查不到，是假证", None);
}

// ── reasons and offsets ──────────────────────────────────────────────────────────────────────

#[test]
fn reasons_carry_clause_words_and_char_offsets() {
    let e = envelope("恒安培训学校：交钱就能拿证不用考😀");
    let norm = normalize_text(&e.full_text());
    let x = Extractor::embedded().extract(&e, &norm);
    let chars: Vec<char> = norm.chars().collect();
    let hit = x
        .reasons
        .iter()
        .find(|h| h.category == Some(Category::T4))
        .expect("a T4 reason");
    assert!(!hit.clause.is_empty());
    assert!(hit.start < hit.end && hit.end <= chars.len());
    let span: String = chars[hit.start..hit.end].iter().collect();
    assert!(
        span.starts_with("交钱") && span.ends_with("不用考"),
        "{span} / {}",
        hit.matched
    );
    assert_eq!(hit.matched, "交钱…拿证…不用考");
    for h in &x.reasons {
        assert!(h.start <= h.end && h.end <= chars.len());
        assert!(Extractor::embedded().rule_label(&h.rule).is_some());
    }
}

// ── rules as data ────────────────────────────────────────────────────────────────────────────

#[test]
fn custom_rules_file() {
    let mut src = intake::extract::EMBEDDED_RULES.to_string();
    src.push_str(
        r#"
[[rule]]
id = "T2-custom"
label = "只发视频不讲课"
clause = "274号 二(一)2"
category = "T2"
all = ["只发|光发", "录播"]
window = 6
"#,
    );
    let ex = Extractor::from_toml(&src).unwrap();
    let e = envelope("恒安培训学校光发录播让我们自己看");
    let x = ex.extract(&e, &normalize_text(&e.full_text()));
    assert_eq!(x.categories, vec![Category::T2]);
    assert!(Extractor::from_toml("not toml [").is_err());
    let bad = intake::extract::EMBEDDED_RULES.replace(
        "all = [\"@teacher\", \"@nocert\"]",
        "all = [\"@nosuchconcept\"]",
    );
    assert!(Extractor::from_toml(&bad).is_err());
}

// ── robustness ───────────────────────────────────────────────────────────────────────────────

#[test]
fn never_panics_on_odd_input() {
    let samples = [
        "“",
        "”",
        "“”",
        "“未闭合的引号",
        "学校",
        "公司",
        "厂",
        "考点",
        "“x”APP",
        "交8000",
        "收费99999999999999999999元",
        "证9800",
        "八千元",
        "十元",
        "𠀀𠀁培训学校𠀂",
        "👍👍👍证是假的👍",
        "a\u{0}b",
        "\u{200b}",
        "（）（（",
        "的的的的学校",
    ];
    for s in samples {
        let _ = ex(s);
    }
    // Pseudo-random strings over a mixed alphabet.
    let alphabet: Vec<char> =
        "学校培训中心考点公司厂矿的在是“”（）()，。！证假买卖没有老师监考录像0123456789元万千aZ 😀"
            .chars()
            .collect();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..2000 {
        let mut s = String::new();
        for _ in 0..(seed % 60) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let x = ex(&s);
        assert!(!x.categories.is_empty());
        let n = normalize_text(&s).chars().count();
        for h in &x.reasons {
            assert!(h.start <= h.end && h.end <= n);
        }
    }
}
