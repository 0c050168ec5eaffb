//! The synthetic corpus and queries shared by the benchmarks (seeded: every run and every
//! engine sees the same reports and the same queries).
#![allow(dead_code)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use search::{Query, SearchDoc, Sort};

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*: small, seeded, good enough for picking fragments.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// (province, prefecture, county, county code)
const PLACES: &[(&str, &str, &str, &str)] = &[
    ("辽宁省", "鞍山市", "铁东区", "210302"),
    ("辽宁省", "鞍山市", "铁西区", "210303"),
    ("辽宁省", "鞍山市", "海城市", "210381"),
    ("辽宁省", "沈阳市", "和平区", "210102"),
    ("辽宁省", "大连市", "甘井子区", "210211"),
    ("河南省", "平顶山市", "新华区", "410402"),
    ("河南省", "郑州市", "金水区", "410105"),
    ("山东省", "泰安市", "泰山区", "370902"),
    ("山东省", "济南市", "莱芜区", "370116"),
    ("广东省", "茂名市", "电白区", "440904"),
    ("广东省", "广州市", "天河区", "440106"),
    ("湖南省", "长沙市", "岳麓区", "430104"),
    ("重庆市", "重庆市", "万州区", "500101"),
    ("湖北省", "仙桃市", "仙桃市", "429004"),
    ("江苏省", "南京市", "鼓楼区", "320106"),
    ("浙江省", "杭州市", "西湖区", "330106"),
];
const CORES: &[&str] = &[
    "恒安", "鹰城", "瑞鳌", "安泰", "华信", "众诚", "宏达", "金盾", "新航", "平安", "鑫源", "立德",
    "博远", "正通", "安达", "中安", "汇通", "佳禾", "益民", "天成", "顺捷", "永安", "诚信", "明德",
];
const SUFFIXES: &[&str] = &[
    "职业技能培训学校",
    "安全技术培训中心",
    "培训有限公司",
    "考试点",
    "化工有限公司",
    "建筑工程有限公司",
    "金属冶炼有限公司",
    "咨询服务部",
];
const CERTS: &[&str] = &[
    "电工证",
    "焊工证",
    "高处作业证",
    "制冷证",
    "登高证",
    "危化品作业证",
    "叉车证",
    "司炉证",
    "安全员证",
    "低压电工作业证",
];
const ALLEGATIONS: &[&str] = &[
    "承诺{cert}包过，交{amount}元不用上课，考试时有人帮忙",
    "培训档案中的学时记录、考勤表均按规定学时填写，实际只上两天课",
    "学员未参加实操训练，考试时由工作人员代考",
    "考试点监考人员放水，允许考生携带手机，现场作弊严重",
    "网站出售假证，声称{cert}可以在网上查询，收费{amount}元",
    "公司安排无证人员上岗从事{cert}相关作业，存在重大安全隐患",
    "线上挂课刷学时，学员不用学习也能完成培训",
    "收费标准不公开，另外收取{amount}元资料费和考试费",
    "教师没有特种作业操作证，教学场地不符合要求",
    "录像监控设备长期关闭，考场秩序混乱",
    "化工企业员工未经培训直接上岗，未持证作业",
    "冒用其他机构名义招生，培训合格证明系伪造",
];
const OPENERS: &[&str] = &[
    "来电人反映：",
    "网民反映：",
    "举报人称，",
    "市民来电反映，",
    "本人反映，",
    "",
    "工单内容：",
    "群众举报：",
];
const CLOSERS: &[&str] = &[
    "请相关部门调查处理。",
    "希望尽快核实。",
    "来电人要求回复。",
    "请予查处！",
    "",
    "已告知来电人处理流程。",
];
const KINDS: &[&str] = &[
    "training_institution",
    "exam_point",
    "employer",
    "website",
    "other",
];
const CHANNELS: &[&str] = &["hotline_12350", "hotline_12345", "web_form", "email"];
const STATES: &[&str] = &["received", "routed", "signed", "in_progress", "closed"];
const CATEGORIES: &[&str] = &["T1", "T2", "T3", "T4", "E1", "E2", "E5", "W1", "X"];

pub fn corpus(n: usize, seed: u64) -> Vec<SearchDoc> {
    let mut r = Rng(seed | 1);
    let start = Utc
        .with_ymd_and_hms(2019, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let span = 6 * 365 * 86_400;
    (0..n)
        .map(|i| {
            let (prov, pref, county, code) = PLACES[r.below(PLACES.len())];
            let name = format!(
                "{}{}{}",
                county.trim_end_matches(['区', '市']),
                r.pick(CORES),
                r.pick(SUFFIXES)
            );
            let mut text = String::new();
            text.push_str(r.pick(OPENERS));
            text.push_str(&format!("{pref}{county}{name}"));
            for _ in 0..1 + r.below(3) {
                let a = r
                    .pick(ALLEGATIONS)
                    .replace("{cert}", r.pick(CERTS))
                    .replace("{amount}", &(500 + r.below(60) * 100).to_string());
                text.push('，');
                text.push_str(&a);
            }
            text.push('。');
            text.push_str(r.pick(CLOSERS));
            if r.below(20) == 0 {
                // Web-form texts: traditional characters and full-width digits now and then.
                text = text
                    .replace("证", "證")
                    .replace("考试", "考試")
                    .replace('3', "３");
            }
            let located = r.below(10) < 8;
            SearchDoc {
                report_id: i as i64,
                case_id: i as i64,
                case_no: format!("AJ{:08}", i),
                external_id: format!("GD{}{:06}", 2019 + r.below(6), i),
                channel: r.pick(CHANNELS).into(),
                title: (r.below(3) == 0).then(|| format!("举报{name}")),
                text,
                subject_name: (r.below(2) == 0).then(|| name.clone()),
                subject_key: None,
                subject_kind: r.pick(KINDS).into(),
                categories: {
                    let mut c: Vec<String> = (0..1 + r.below(2))
                        .map(|_| r.pick(CATEGORIES).to_string())
                        .collect();
                    c.sort();
                    c.dedup();
                    c
                },
                locus: located.then(|| code.to_string()),
                place_names: if located {
                    vec![prov.into(), pref.into(), county.into()]
                } else {
                    vec![]
                },
                handling: if located {
                    code.to_string()
                } else {
                    "home".into()
                },
                referrals: if r.below(5) == 0 {
                    vec!["market_regulation".into()]
                } else {
                    vec![]
                },
                case_state: r.pick(STATES).into(),
                received_at: Utc.timestamp_opt(start + r.below(span) as i64, 0).unwrap(),
            }
        })
        .collect()
}

pub const QUERIES: &[&str] = &[
    "电工证",
    "包过",
    "焊工",
    "考试点",
    "假证",
    "培训学校",
    "监考",
    "实操",
    "学时",
    "挂课",
    "高处作业",
    "无证上岗",
    "收费",
    "网站",
    "作弊",
    "档案",
    "录像",
    "化工",
    "鞍山",
    "恒安",
    "代考",
    "资料费",
    "特种作业",
    "不用上课",
    "鹰城安全",
    "考勤表",
    "上岗",
    "3800",
    "假证 网站",
    "电工证 包过",
    "考試",
    "叉车证",
    "安全隐患",
    "伪造",
];

pub fn queries(n: usize, seed: u64) -> Vec<Query> {
    let mut r = Rng(seed | 1);
    (0..n)
        .map(|_| {
            let mut q = Query {
                limit: 20,
                ..Query::text(r.pick(QUERIES))
            };
            match r.below(10) {
                0..=2 => q.place = Some(["21", "2103", "210302", "41", "4104"][r.below(5)].into()),
                3..=4 => {
                    let y = 2019 + r.below(5) as i32;
                    q.from = Some(Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap());
                    q.to = Some(Utc.with_ymd_and_hms(y + 1, 1, 1, 0, 0, 0).unwrap());
                }
                _ => {}
            }
            if r.below(4) == 0 {
                q.sort = Sort::Newest;
            }
            q
        })
        .collect()
}

pub fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The load average of the machine (1, 5, 15 minutes), as `/proc/loadavg` gives it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time consumed so far by the calling thread (`CLOCK_THREAD_CPUTIME_ID`). On a loaded
/// machine it shows the work a query costs, while wall time also counts the time spent waiting
/// for a core.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// The searchable text of a report as the index builds it: title, text, subject name, place
/// names, external id and case number, each folded, one per line. `fold` = false keeps them as
/// written.
pub fn searchable_text(d: &SearchDoc, fold: bool) -> String {
    let mut out = String::new();
    for part in d
        .title
        .iter()
        .chain(std::iter::once(&d.text))
        .chain(d.subject_name.iter())
        .chain(&d.place_names)
        .chain([&d.external_id, &d.case_no])
    {
        if fold {
            out.push_str(&search::fold(part));
        } else {
            out.push_str(part);
        }
        out.push('\n');
    }
    out
}
