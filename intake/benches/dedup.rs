//! Cost of duplicate detection as history grows: a seeded synthetic history of 10k / 100k / 1M
//! reports (Chinese text made of a few hundred fragments, random institution names, ~300 counties,
//! 300 reports a day), then the next reports timed in the three steps of the split API: `prepare`
//! (the probe's own features, computed by callers in parallel), then on the writer `decide_prepared`
//! and `insert_prepared`.
//!
//! Run: `cargo bench -p intake --bench dedup` (`DEDUP_BENCH_SIZES=10000,100000` to choose sizes;
//! `DEDUP_BENCH_DECISIONS=FILE` writes every timed decision there as a JSON line, to compare two
//! versions' decisions with `diff`). The timed calls go through `#[inline(never)]` functions so
//! that `valgrind --tool=callgrind --toggle-collect=dedup::timed_*` counts their instructions only.

use chrono::{DateTime, Duration, TimeZone, Utc};
use intake::dedup::{DedupDecision, DedupIndex, DedupProbe, Featurizer, PreparedProbe};
use intake::{normalize_text, Category};
use std::io::Write;
use std::time::Instant;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, v: &'a [&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

const NAME_CHARS: &str = "恒安鑫川瑞祥华信众诚湘农津港鲁泰冀渝航岱宗汶河金盾宏达兴业聚成天门永盛德顺通利源丰泽康宁海博远广昌隆富瑞新辉明晟嘉禾卓越东升";
const KINDS: &[&str] = &[
    "职业技能培训学校",
    "安全技术培训中心",
    "职业培训学校",
    "安全生产考试点",
    "特种作业考试点",
    "化工有限公司",
    "金属冶炼有限公司",
    "烟花爆竹批发公司",
    "石料厂",
    "网络科技有限公司",
];
const PLACES: &[&str] = &[
    "铁东区",
    "岱岳区",
    "长寿区",
    "蒸湘区",
    "江北区",
    "雨花区",
    "海城市",
    "新泰市",
    "东平县",
    "仙桃市",
];
const OPENERS: &[&str] = &[
    "来电人反映：",
    "市民来电反映：",
    "我要举报",
    "举报",
    "尊敬的领导：本人反映",
    "您好：",
    "来电人再次来电，称",
    "领导好：",
    "网友反映",
    "有群众反映",
];
const ALLEGATIONS: &[(&str, Category)] = &[
    (
        "宣传包过班，每人交{n}元保证拿证，称考场里有人帮忙",
        Category::T4,
    ),
    (
        "收费{n}元，远高于市场价格，比别的学校贵一倍还多",
        Category::T5,
    ),
    (
        "培训压缩学时，一周的课一天半就结束，以刷题代替授课",
        Category::T2,
    ),
    (
        "培训档案造假，签到表是一个人代签的，学时记录都是事后补录",
        Category::T3,
    ),
    (
        "没有固定培训场所，没有实操设施，专职教师仅{n}人",
        Category::T1,
    ),
    (
        "网课都是他们帮挂的，交{n}元就有人替你刷完学时",
        Category::T6,
    ),
    ("实操考试没有设备，考评员问几个问题就算考完", Category::E4),
    ("监考人员长时间离开考场，放任考生用手机查答案", Category::E5),
    ("考场摄像头有死角，录像中途停了{n}分钟", Category::E6),
    ("考点工作人员同时给培训班上课，考培一体", Category::E2),
    ("主要负责人和安全管理人员至今未经考核", Category::P3),
    ("没有年度培训计划，新工人直接上岗", Category::P1),
    (
        "电工焊工无特种作业操作证上岗，证是网上花{n}元买的假证",
        Category::P2,
    ),
    (
        "安全培训记录都是安全员统一编的，签名也是别人代签",
        Category::P4,
    ),
];
const DETAILS: &[&str] = &[
    "来电人要求保密。",
    "诉求：请相关部门核实查处。",
    "希望有关部门尽快处理。",
    "来电人同事已交钱。",
    "我交了定金{n}元。",
    "听说已经有人举报过，到现在也没个说法。",
    "请为我个人信息保密。",
    "附件为聊天截图。",
    "春节前进货量大，担心出事。",
    "这样培训出来的焊工能安全吗？",
    "麻烦查查，谢谢。",
    "来电人为该厂职工。",
    "上个月还有人被电打了一下。",
    "老师私下说题不会也没关系。",
    "考完还让每人交{n}元辛苦费。",
];

struct World {
    names: Vec<(String, usize, String)>,
    loci: Vec<String>,
}

fn world(rng: &mut Rng) -> World {
    let chars: Vec<char> = NAME_CHARS.chars().collect();
    let loci: Vec<String> = (0..300).map(|i| format!("{}", 110000 + i * 317)).collect();
    let names = (0..50_000)
        .map(|_| {
            let core: String = (0..2).map(|_| chars[rng.below(chars.len())]).collect();
            let kind = KINDS[rng.below(KINDS.len())];
            let place = PLACES[rng.below(PLACES.len())];
            (format!("{place}{core}{kind}"), rng.below(loci.len()), core)
        })
        .collect();
    World { names, loci }
}

fn fill(s: &str, rng: &mut Rng) -> String {
    s.replace("{n}", &(100 + rng.below(9000)).to_string())
}

fn report(rng: &mut Rng, w: &World, at: DateTime<Utc>) -> DedupProbe {
    let (name, locus, core) = &w.names[rng.below(w.names.len())];
    let mut text = String::new();
    text.push_str(rng.pick(OPENERS));
    let written = if rng.below(3) == 0 {
        core.clone() + "那个培训学校"
    } else {
        name.clone()
    };
    text.push_str(&written);
    let mut cats = Vec::new();
    for _ in 0..1 + rng.below(2) {
        let (a, c) = ALLEGATIONS[rng.below(ALLEGATIONS.len())];
        text.push('，');
        text.push_str(&fill(a, rng));
        cats.push(c);
    }
    text.push('。');
    for _ in 0..1 + rng.below(3) {
        text.push_str(&fill(rng.pick(DETAILS), rng));
    }
    cats.sort();
    cats.dedup();
    DedupProbe {
        text: normalize_text(&text),
        subject_name: (rng.below(3) == 0).then(|| name.clone()),
        locus: Some(w.loci[*locus].clone()),
        categories: cats,
        reporter_key: (rng.below(2) == 0).then(|| format!("13{:09}", rng.below(400_000))),
        received_at: at,
        subject_kind: None,
        place_names: Vec::new(),
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`): the machine is
/// shared, so wall time alone overstates the cost.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

#[inline(never)]
fn timed_prepare(featurizer: &Featurizer, probe: DedupProbe) -> PreparedProbe {
    featurizer.prepare(probe)
}

#[inline(never)]
fn timed_decide(ix: &DedupIndex, prepared: &PreparedProbe) -> DedupDecision {
    ix.decide_prepared(prepared)
}

#[inline(never)]
fn timed_insert(ix: &mut DedupIndex, report_id: i64, case_id: i64, prepared: &PreparedProbe) {
    ix.insert_prepared(report_id, case_id, prepared);
}

fn micros(d: std::time::Duration, count: usize) -> f64 {
    d.as_secs_f64() * 1e6 / count as f64
}

fn cpu_micros(from: Option<u64>, to: Option<u64>, count: usize) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!("{:.1}", (b - a) as f64 / 1e3 / count as f64),
        _ => "?".to_string(),
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("DEDUP_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    let start = Utc
        .with_ymd_and_hms(2015, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let per_day = 300i64;
    let timed = 5_000usize;
    let mut decisions_out = std::env::var_os("DEDUP_BENCH_DECISIONS")
        .map(|path| std::io::BufWriter::new(std::fs::File::create(path).expect("decisions file")));
    for n in sizes {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let w = world(&mut rng);
        let mut ix = DedupIndex::new();
        let mut case = 0i64;
        let mut build = std::time::Duration::ZERO;
        for i in 0..n {
            let at = start + Duration::seconds(i as i64 * 86_400 / per_day);
            let p = report(&mut rng, &w, at);
            case += 1;
            let t = Instant::now();
            ix.insert(i as i64 + 1, case, &p);
            build += t.elapsed();
        }
        let mut kinds = [0usize; 4];
        let probes: Vec<DedupProbe> = (0..timed)
            .map(|j| {
                report(
                    &mut rng,
                    &w,
                    start + Duration::seconds((n + j) as i64 * 86_400 / per_day),
                )
            })
            .collect();

        // Prepare: what the callers do in parallel, before the writer.
        let featurizer = ix.featurizer();
        let cpu0 = cpu_ns();
        let t = Instant::now();
        let prepared: Vec<PreparedProbe> = probes
            .into_iter()
            .map(|p| timed_prepare(&featurizer, p))
            .collect();
        let prepare_wall = t.elapsed();
        let prepare_cpu = cpu_micros(cpu0, cpu_ns(), timed);

        // Decide and insert: what remains on the writer.
        let mut made: Vec<DedupDecision> = Vec::new();
        let (mut decide_wall, mut insert_wall) = Default::default();
        let mut worst = std::time::Duration::ZERO;
        let cpu0 = cpu_ns();
        for (j, p) in prepared.iter().enumerate() {
            let i = n + j;
            let t = Instant::now();
            let d = timed_decide(&ix, p);
            let decided = t.elapsed();
            decide_wall += decided;
            if decisions_out.is_some() {
                made.push(d.clone());
            }
            let case_id = match &d {
                DedupDecision::New { .. } => {
                    kinds[0] += 1;
                    case += 1;
                    case
                }
                DedupDecision::SameMessage { .. } => {
                    kinds[1] += 1;
                    continue;
                }
                DedupDecision::Repeat { case_id, .. } => {
                    kinds[2] += 1;
                    *case_id
                }
                DedupDecision::SameMatter { case_id, .. } => {
                    kinds[3] += 1;
                    *case_id
                }
            };
            let t = Instant::now();
            timed_insert(&mut ix, i as i64 + 1, case_id, p);
            let inserted = t.elapsed();
            insert_wall += inserted;
            worst = worst.max(decided + inserted);
        }
        let writer_cpu = cpu_micros(cpu0, cpu_ns(), timed);
        if let Some(out) = decisions_out.as_mut() {
            for (j, d) in made.iter().enumerate() {
                let line = serde_json::json!({ "history": n, "probe": j, "decision": d });
                writeln!(out, "{line}").expect("decisions file");
            }
            out.flush().expect("decisions file");
        }
        println!(
            "history {n:>9}: rebuild (insert only) {:.1} µs/report ({:.1} s); \
             prepare {:.1} µs wall, {prepare_cpu} µs CPU; \
             writer: decide {:.1} µs + insert {:.1} µs wall, decide+insert {writer_cpu} µs CPU \
             (worst {:.0} µs wall); index {:.1} MiB; \
             decisions new/same_message/repeat/same_matter = {kinds:?}",
            micros(build, n),
            build.as_secs_f64(),
            micros(prepare_wall, timed),
            micros(decide_wall, timed),
            micros(insert_wall, timed),
            worst.as_secs_f64() * 1e6,
            ix.memory_bytes() as f64 / (1024.0 * 1024.0),
        );
    }
}
