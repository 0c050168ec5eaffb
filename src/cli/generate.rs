//! `tipline generate`: a deterministic generator of realistic synthetic reports, for benchmarks
//! and demos. Real division names (the embedded gazetteer data), every channel, kind and category,
//! and a controllable share of duplicates (the same matter again from another reporter or channel).
//! Each line carries `expect` with the generator's own truth (locus, kind, categories, group).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;

const AREAS: &str = include_str!("../../triage/data/divisions/areas.csv");
const CITIES: &str = include_str!("../../triage/data/divisions/cities.csv");
const PROVINCES: &str = include_str!("../../triage/data/divisions/provinces.csv");

struct County {
    code: String,
    province: String,
    city: String,
    name: String,
}

fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|f| f.trim_matches('"').to_string())
                .collect()
        })
}

fn counties() -> Vec<County> {
    let provinces: HashMap<String, String> = csv_rows(PROVINCES)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let cities: HashMap<String, String> = csv_rows(CITIES)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    csv_rows(AREAS)
        .filter(|r| r.len() >= 4 && !r[1].contains("市辖区"))
        .map(|r| {
            let city = cities.get(&r[2]).cloned().unwrap_or_default();
            let city = if city == "市辖区" || city == "县" || city.contains("直辖") {
                String::new()
            } else {
                city
            };
            County {
                code: r[0].clone(),
                province: provinces.get(&r[3]).cloned().unwrap_or_default(),
                city,
                name: r[1].clone(),
            }
        })
        .collect()
}

const FIRST: &[&str] = &[
    "恒", "安", "鑫", "瑞", "华", "宏", "盛", "泰", "达", "顺", "通", "金", "新", "益", "诚", "正",
    "德", "远", "明", "祥",
];
const SECOND: &[&str] = &[
    "安", "达", "源", "通", "泰", "信", "和", "丰", "邦", "程", "捷", "隆", "辉", "立", "凯", "盈",
    "川", "升", "航", "宇",
];

struct Template {
    kind: &'static str,
    suffix: &'static [&'static str],
    categories: &'static [&'static str],
    texts: &'static [&'static str],
}

const TEMPLATES: &[Template] = &[
    Template { kind: "training_institution", suffix: &["安全技术培训学校", "职业技能培训学校", "安全培训中心"], categories: &["T4"],
        texts: &["{place}{name}办“包过班”，交{money}元不用上课就能拿{cert}，说考场有人打招呼。", "{name}（{place}）宣传{cert}包过，不过全退，称和考点有关系。"] },
    Template { kind: "training_institution", suffix: &["安全技术培训学校", "培训中心"], categories: &["T2"],
        texts: &["{place}{name}{cert}培训本来要上一周，实际只上了一天半，老师就带着刷模拟题，实操设备碰都没碰。", "反映{place}{name}压缩学时，以刷题代替授课。"] },
    Template { kind: "training_institution", suffix: &["职业培训学校", "安全培训中心"], categories: &["T3"],
        texts: &["{place}{name}培训档案造假，学员没来上课，签到表是代签的，学时记录事后补录。"] },
    Template { kind: "training_institution", suffix: &["职业技能培训学校"], categories: &["T5"],
        texts: &["{place}{name}{cert}培训收费{money}元，比别家贵一倍多，还到工地拉人强行报名。"] },
    Template { kind: "training_institution", suffix: &["安全技术培训学校"], categories: &["T1"],
        texts: &["{place}{name}没有固定场地，上课老师自己都没有{cert}，实操设备也没有。"] },
    Template { kind: "online_platform", suffix: &["在线学习平台", "安培APP"], categories: &["T6"],
        texts: &["{place}的{name}可以挂课，视频静音倍速播放学时照样算，还有人卖代学服务，{money}元一门课包刷完。"] },
    Template { kind: "exam_institution", suffix: &["安全生产考试点", "特种作业考点"], categories: &["E5"],
        texts: &["{place}{name}考{cert}时监考在外面抽烟，让我们随便抄，还有人用手机查答案。", "{place}{name}考试放水，有培训机构的人进考场替考生答题。"] },
    Template { kind: "exam_institution", suffix: &["安全生产考试点"], categories: &["E4"],
        texts: &["{place}{name}{cert}实操考试没有设备，考评员问几个问题就算考完了。"] },
    Template { kind: "exam_institution", suffix: &["考试中心", "安全生产考试点"], categories: &["E6"],
        texts: &["{place}{name}考场摄像头只有两个，后排都是盲区，录像中途断了，成绩隔天才上传。"] },
    Template { kind: "exam_institution", suffix: &["安全生产考试点"], categories: &["E2"],
        texts: &["{place}{name}自己也办培训班，考前培训和考试在同一个地方、同一批人。"] },
    Template { kind: "production_unit", suffix: &["化工有限公司", "建筑工程有限公司", "金属制品厂", "烟花爆竹批发有限公司"], categories: &["P2"],
        texts: &["{place}{name}电焊工、电工都没有{cert}就上岗作业。", "反映{place}{name}几个操作工的特种作业证是假的，网上查不到，是中介办的。"] },
    Template { kind: "production_unit", suffix: &["化工有限公司", "矿业有限公司"], categories: &["P1", "P3"],
        texts: &["{place}{name}没有年度安全培训计划，新任主要负责人和安全管理人员半年多了都没参加考核。"] },
    Template { kind: "production_unit", suffix: &["钢铁有限公司", "化工厂"], categories: &["P4"],
        texts: &["{place}{name}安全教育培训记录都是事后补签的，和实际不符。"] },
    Template { kind: "counterfeiter", suffix: &["职业资格服务中心", "证书服务中心"], categories: &["F2"],
        texts: &["{place}有个{name}卖假证，{cert}{money}元一本，不用培训考试，三天出证。"] },
    Template { kind: "counterfeiter", suffix: &["证书查询网"], categories: &["F1"],
        texts: &["网上有个叫“{name}”的网站，仿冒应急管理部的证书查询平台，买来的假证在上面能查到。"] },
    Template { kind: "other", suffix: &["餐饮店", "物业公司"], categories: &["X"],
        texts: &["{place}{name}拖欠工资三个月，要求帮忙讨薪。", "{place}{name}晚上施工噪音太大，影响休息。"] },
];

const CERTS: &[&str] = &[
    "电工证",
    "焊工证",
    "高处作业证",
    "低压电工作业证",
    "制冷作业证",
    "危化品操作证",
];
const CHANNELS: &[&str] = &["hotline_12350", "hotline_12345", "web_form", "email"];

/// Writes `count` reports as JSONL to standard output.
pub fn run(count: u64, seed: u64, duplicate_share: f64) -> anyhow::Result<()> {
    let counties = counties();
    let mut rng = StdRng::seed_from_u64(seed);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let start =
        chrono::DateTime::parse_from_rfc3339("2022-01-01T08:00:00+08:00").expect("valid time");
    let mut earlier: Vec<(usize, &County, String, String, u64)> = Vec::new();
    for i in 0..count {
        let minutes = i * 5 + rng.gen_range(0..5);
        let received = start + chrono::Duration::minutes(minutes as i64);
        let repeat = !earlier.is_empty() && rng.gen_bool(duplicate_share.clamp(0.0, 1.0));
        let (template_index, county, name, cert, group) = if repeat {
            // The same matter again, recently: pick from the last few hundred matters.
            let from = earlier.len().saturating_sub(300);
            let (t, c, n, cert, g) = &earlier[rng.gen_range(from..earlier.len())];
            (*t, *c, n.clone(), cert.clone(), *g)
        } else {
            let t = rng.gen_range(0..TEMPLATES.len());
            let c = &counties[rng.gen_range(0..counties.len())];
            let n = format!(
                "{}{}{}",
                FIRST.choose(&mut rng).expect("non-empty"),
                SECOND.choose(&mut rng).expect("non-empty"),
                TEMPLATES[t].suffix.choose(&mut rng).expect("non-empty")
            );
            let cert = CERTS.choose(&mut rng).expect("non-empty").to_string();
            earlier.push((t, c, n.clone(), cert.clone(), i));
            (t, c, n, cert, i)
        };
        let template = &TEMPLATES[template_index];
        let place = if rng.gen_bool(0.5) {
            format!("{}{}", county.city, county.name)
        } else {
            format!("{}{}{}", county.province, county.city, county.name)
        };
        let text = template
            .texts
            .choose(&mut rng)
            .expect("non-empty")
            .replace("{place}", &place)
            .replace("{name}", &name)
            .replace("{cert}", &cert)
            .replace("{money}", &(rng.gen_range(8..90) * 100).to_string());
        let channel = *CHANNELS.choose(&mut rng).expect("non-empty");
        let text = match channel {
            "hotline_12345" => format!("市民来电反映：{text}诉求：请相关部门核实处理。"),
            "hotline_12350" => format!("来电人反映：{text}来电人要求保密。"),
            _ => text,
        };
        let phone = format!(
            "1{}{:09}",
            rng.gen_range(3..10),
            rng.gen_range(0..1_000_000_000u64)
        );
        let reporter = if rng.gen_bool(0.4) {
            json!({"anonymous": true})
        } else {
            json!({"phone": phone, "anonymous": false})
        };
        let external_id = match channel {
            "hotline_12345" => format!("GD{}{:06}", received.format("%Y%m%d"), i % 1_000_000),
            "hotline_12350" => format!("12350-{}-{:06}", received.format("%Y%m%d"), i),
            "email" => format!("<gen-{seed}-{i}@mail.example.cn>"),
            _ => format!("wf-{seed:x}-{i:x}"),
        };
        let record: Value = json!({
            "channel": channel,
            "external_id": external_id,
            "received_at": received.to_rfc3339(),
            "reporter": reporter,
            "text": text,
            "expect": {"locus": county.code, "subject_kind": template.kind, "categories": template.categories,
                       "group": format!("gen-{group}")},
        });
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
