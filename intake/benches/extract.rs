//! Extraction throughput on seeded synthetic ~500-character reports, one core.
//!
//! `cargo bench -p intake --bench extract` (std::time only; no external harness).

use intake::extract::Extractor;
use intake::{normalize_text, Envelope};
use std::hint::black_box;
use std::time::Instant;

const FRAGMENTS: &[&str] = &[
    "市民来电反映：",
    "来电人反映",
    "鞍山市铁东区恒安职业技能培训学校",
    "泰安市岱岳区安达特种作业考试点",
    "重庆市长寿区鑫川化工有限公司",
    "“安学通”APP",
    "在招低压电工、焊工学员时宣传“包过班”，每人交8000元保证拿证，",
    "称考试时“有人打招呼”，考场里会有人帮忙。",
    "实际每期只上两到三天课，但培训档案中的学时记录、考勤表均按规定的完整学时填写，",
    "部分学员的签名系工作人员代签。",
    "监考人员长时间离开考场，放任考生用手机查答案，",
    "考场录像系统当天据说“故障”，",
    "实操考试没有任何设备，考评员问了三个问题就算通过了。",
    "公司氯化工艺岗位共有6名操作人员持有的特种作业操作证是通过中介购买的假证，",
    "在查询平台上均查不到；另有2名新员工无证直接顶岗。",
    "公司没有制定年度安全培训计划，炉前工上岗前没有经过三级安全教育。",
    "公司总经理今年年初到任，至今没有参加安全生产知识和管理能力考核。",
    "平台上公开卖“代学服务”，３０元一门课包刷完，人脸识别可以用照片过，",
    "有人在电线杆上张贴小广告，办理电工证、焊工证，声称“不用考试、三天出证”，",
    "来电人不愿透露姓名，要求核查并回复。",
    "诉求：请相关部门核实处理。",
    "6月初厂里出过一次铁水喷溅，所幸没有伤人，",
    "拖欠工资三个月，约2万元，",
    "每天晚上施工到凌晨一两点，打桩的声音吵得根本睡不着觉，",
    "我是该单位的一名员工，由于怕被报复，请不要透露我的信息。",
    "該校講課的老師自己就沒有電工證😂，",
    "ＡＢＣ１２３ 全角字符和 emoji 🙏 混在一起，",
];

fn synth(n: usize, seed: u64) -> Vec<String> {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|_| {
            let mut t = String::new();
            while t.chars().count() < 500 {
                t.push_str(FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize]);
            }
            t.chars().take(500).collect()
        })
        .collect()
}

/// CPU time of this thread in seconds (Linux), to see through a machine shared with others.
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() {
    let ex = Extractor::embedded();
    // `EXTRACT_BENCH_N` (default 4000) sets the number of synthetic reports, e.g. a small count
    // under `valgrind --tool=callgrind`.
    let count: usize = std::env::var("EXTRACT_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let texts = synth(count, 0x2545_f491_4f6c_dd1d);
    let envelopes: Vec<Envelope> = texts
        .iter()
        .map(|t| {
            let json = serde_json::json!({"channel": "web_form", "external_id": "b", "received_at": "2024-01-01T00:00:00+08:00", "text": t});
            Envelope::from_json(&json.to_string()).expect("bench envelope")
        })
        .collect();
    let normalized: Vec<String> = envelopes
        .iter()
        .map(|e| normalize_text(&e.full_text()))
        .collect();

    // Warm-up.
    for (e, n) in envelopes.iter().zip(&normalized).take(500.min(count)) {
        black_box(ex.extract(e, n));
    }

    let rounds = 5;
    let cpu0 = thread_cpu_secs();
    let start = Instant::now();
    let mut cats = 0usize;
    for _ in 0..rounds {
        for (e, n) in envelopes.iter().zip(&normalized) {
            cats += black_box(ex.extract(e, n)).categories.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = thread_cpu_secs().zip(cpu0).map(|(b, a)| b - a);
    let total = (rounds * envelopes.len()) as f64;
    println!(
        "extract: {} reports of 500 chars in {secs:.3}s wall = {:.0} reports/s ({:.1} µs/report; {cats} categories)",
        total as usize,
        total / secs,
        secs * 1e6 / total
    );
    if let Some(cpu) = cpu {
        println!(
            "extract: {cpu:.3}s on-CPU = {:.0} reports/s per core ({:.1} µs/report)",
            total / cpu,
            cpu * 1e6 / total
        );
    }

    // Real wording: the shared labelled reports, joined into 500-character texts.
    let dev = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cases/dev.jsonl");
    if let Ok(src) = std::fs::read_to_string(&dev) {
        let texts: Vec<String> = src
            .lines()
            .filter_map(|l| {
                serde_json::from_str::<serde_json::Value>(l).ok()?["text"]
                    .as_str()
                    .map(String::from)
            })
            .collect();
        let mut joined: Vec<String> = Vec::new();
        let mut cur = String::new();
        for t in texts.iter().cycle().take(texts.len() * 20) {
            cur.push_str(t);
            if cur.chars().count() >= 500 {
                joined.push(normalize_text(&cur.chars().take(500).collect::<String>()));
                cur.clear();
            }
        }
        let e = &envelopes[0];
        let cpu0 = thread_cpu_secs();
        let start = Instant::now();
        for _ in 0..5 {
            for n in &joined {
                black_box(ex.extract(e, n));
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let total = (5 * joined.len()) as f64;
        let cpu = thread_cpu_secs()
            .zip(cpu0)
            .map(|(b, a)| b - a)
            .unwrap_or(secs);
        println!(
            "extract (dev wording, 500 chars): {:.0} reports/s wall, {:.0} reports/s per core on-CPU ({:.1} µs/report)",
            total / secs,
            total / cpu,
            cpu * 1e6 / total
        );
    }

    let start = Instant::now();
    for e in &envelopes {
        let n = normalize_text(&e.full_text());
        black_box(ex.extract(e, &n));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "normalize_text + extract: {:.0} reports/s (normalization is shared with the rest of intake)",
        envelopes.len() as f64 / secs
    );
}
