//! Search benchmark over a seeded synthetic corpus of Chinese reports.
//!
//! Measures (setup outside the timers):
//! - indexing throughput (reports/s, upsert + final commit, on disk) and index size per report;
//! - [`SearchIndex::optimize`] after the bulk load (waits for the background merges, then merges
//!   into one segment), with the segment counts before and after;
//! - query latency p50/p90/p99 over realistic 2–6 character queries with facets (some with place
//!   and time filters, some sorted by time), one thread, and the slowest query texts;
//! - throughput with 8 concurrent query threads.
//!
//! `cargo bench -p tipline-search --bench search` runs 100,000 reports;
//! `TIPLINE_BENCH_DOCS=1000000` runs a million. `TIPLINE_BENCH_QUERIES` sets the number of timed
//! queries (default 2,000). `TIPLINE_BENCH_DIR=/some/dir` keeps the index there and reuses it
//! on the next run if it holds the same number of reports (to iterate on query code without
//! reindexing); `TIPLINE_BENCH_NO_OPTIMIZE=1` skips the merge into one segment.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{corpus, dir_size, load_average, ms, percentile, queries, thread_cpu};
use search::{Query, SearchIndex, Sort, WriterOptions};

fn main() {
    let n: usize = std::env::var("TIPLINE_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let nq: usize = std::env::var("TIPLINE_BENCH_QUERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let optimize = std::env::var_os("TIPLINE_BENCH_NO_OPTIMIZE").is_none();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("TIPLINE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let options = WriterOptions::default();
    println!(
        "corpus: {n} synthetic reports; writer: {} threads, {} MB; load average {}",
        options.threads,
        options.memory_bytes >> 20,
        load_average()
    );

    let index = SearchIndex::open_with(&dir, options).expect("open");
    if index.num_docs() == n as u64 {
        println!(
            "reusing the index in {} ({} segments)",
            dir.display(),
            index.num_segments()
        );
    } else {
        index.clear().expect("clear");
        let docs = corpus(n, 42);
        let chars: usize = docs.iter().map(|d| d.text.chars().count()).sum();
        println!("average text length: {} characters", chars / n.max(1));
        let t = Instant::now();
        for chunk in docs.chunks(10_000) {
            index.upsert(chunk.iter().cloned()).expect("upsert");
        }
        index.commit(n as i64).expect("commit");
        let took = t.elapsed();
        drop(docs);
        let size = dir_size(&dir);
        println!(
            "indexing: {:.1} s, {:.0} reports/s; index {:.1} MB, {:.0} bytes/report, {} segments (merges may still run)",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            size as f64 / 1e6,
            size as f64 / n as f64,
            index.num_segments()
        );
    }
    if optimize {
        let t = Instant::now();
        let before = index.optimize().expect("optimize");
        let size = dir_size(&dir);
        println!(
            "optimize: {:.1} s, {before} segments → {}; index {:.1} MB, {:.0} bytes/report; load average {}",
            t.elapsed().as_secs_f64(),
            index.num_segments(),
            size as f64 / 1e6,
            size as f64 / n as f64,
            load_average()
        );
    }
    assert_eq!(index.num_docs(), n as u64);
    assert_eq!(index.applied_seq().unwrap(), Some(n as i64));

    let index = Arc::new(index);
    let qs = queries(nq, 7);
    // Warm-up (page cache, lazy tables) outside the timers.
    for q in qs.iter().take(200) {
        index.search(q).expect("search");
    }
    let mut lat = Vec::with_capacity(qs.len());
    let mut cpu = Vec::with_capacity(qs.len());
    let mut total_hits = 0usize;
    let mut by_text: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for q in &qs {
        let (c, t) = (thread_cpu(), Instant::now());
        let r = index.search(q).expect("search");
        let took = t.elapsed();
        cpu.push(thread_cpu().saturating_sub(c));
        lat.push(took);
        by_text.entry(q.text.as_str()).or_default().push(took);
        total_hits += r.total;
    }
    assert!(total_hits > 0, "the queries match something");
    lat.sort();
    cpu.sort();
    println!(
        "query (1 thread, facets, limit 20): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; mean matches {}; load average {}",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.9)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap()),
        total_hits / qs.len(),
        load_average()
    );
    println!(
        "  CPU time per query (the thread's own, without waiting for a core): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&cpu, 0.5)),
        ms(percentile(&cpu, 0.9)),
        ms(percentile(&cpu, 0.99)),
    );
    let mut slow: Vec<(&str, Duration, Duration)> = by_text
        .into_iter()
        .map(|(t, mut v)| {
            v.sort();
            (t, percentile(&v, 0.5), *v.last().unwrap())
        })
        .collect();
    slow.sort_by(|a, b| b.1.cmp(&a.1));
    let line: Vec<String> = slow
        .iter()
        .take(8)
        .map(|(t, p50, max)| format!("{t:?} {:.1}/{:.1}", ms(*p50), ms(*max)))
        .collect();
    println!("  slowest texts (p50/max ms): {}", line.join(", "));
    for text in [
        "电工证",
        "假证 网站",
        "考",
        "高处作业",
        "包过。交",
        "电工证，焊工证",
    ] {
        for sort in [Sort::Relevance, Sort::Newest] {
            let q = Query {
                sort,
                ..Query::text(text)
            };
            let t = Instant::now();
            let r = index.search(&q).expect("search");
            println!(
                "  {text:?} {sort:?}: {} matches in {:.2} ms",
                r.total,
                ms(t.elapsed())
            );
        }
    }

    let threads = 8;
    let qs = Arc::new(qs);
    let t = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|k| {
            let (index, qs) = (index.clone(), qs.clone());
            std::thread::spawn(move || {
                for q in qs.iter().skip(k).step_by(threads) {
                    index.search(q).expect("search");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("query thread");
    }
    let took = t.elapsed();
    println!(
        "query throughput with {threads} threads: {:.0} queries/s; load average {}",
        qs.len() as f64 / took.as_secs_f64(),
        load_average()
    );
}
