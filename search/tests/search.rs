//! Integration tests of the search crate through its public API.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use search::{FacetField, Query, SearchDoc, SearchError, SearchIndex, Sort};
use unicode_normalization::UnicodeNormalization;

fn doc(id: i64, text: &str) -> SearchDoc {
    SearchDoc {
        report_id: id,
        case_id: id,
        case_no: format!("AJ-{id:04}"),
        external_id: format!("EXT-{id}"),
        channel: "web_form".into(),
        title: None,
        text: text.into(),
        subject_name: None,
        subject_key: None,
        subject_kind: "training_institution".into(),
        categories: vec![],
        locus: None,
        place_names: vec![],
        handling: "home".into(),
        referrals: vec![],
        case_state: "received".into(),
        received_at: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
            + chrono::Duration::days(id),
    }
}

fn ids(index: &SearchIndex, q: &Query) -> Vec<i64> {
    index
        .search(q)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.report_id)
        .collect()
}

fn set(index: &SearchIndex, text: &str) -> BTreeSet<i64> {
    let q = Query {
        limit: 10_000,
        ..Query::text(text)
    };
    index
        .search(&q)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.report_id)
        .collect()
}

fn small_index() -> SearchIndex {
    let index = SearchIndex::open_in_ram().unwrap();
    let mut a = doc(1, "鹰城安全技术培训学校电工证包过，交3800元不用上课。");
    a.title = Some("举报培训学校".into());
    a.subject_name = Some("鹰城安全技术培训学校".into());
    a.subject_key = Some("鹰城".into());
    a.categories = vec!["T2".into(), "T3".into()];
    a.locus = Some("410402".into());
    a.place_names = vec!["河南省".into(), "平顶山市".into(), "新华区".into()];
    a.handling = "410402".into();
    let mut b = doc(2, "考試點監考放水，焊工證考試作弊。");
    b.channel = "hotline_12345".into();
    b.subject_kind = "exam_point".into();
    b.categories = vec!["E5".into()];
    b.locus = Some("210302".into());
    b.handling = "210300".into();
    b.referrals = vec!["exam_qualification".into()];
    let mut c = doc(3, "网站出售假证，ＡＢＣ公司");
    c.subject_kind = "website".into();
    c.categories = vec!["X".into()];
    c.referrals = vec!["public_security".into()];
    let mut d = doc(4, "电 工证培训，鹰城学校又开课了");
    d.locus = Some("210303".into());
    d.handling = "210303".into();
    d.case_state = "closed".into();
    index.upsert([a, b, c, d]).unwrap();
    index.commit(4).unwrap();
    index
}

#[test]
fn substrings_are_found_across_width_and_script() {
    let index = small_index();
    assert_eq!(set(&index, "电工证"), BTreeSet::from([1]));
    assert_eq!(set(&index, "工证"), BTreeSet::from([1, 2, 4]));
    assert_eq!(
        set(&index, "焊工证"),
        BTreeSet::from([2]),
        "simplified query, traditional text"
    );
    assert_eq!(
        set(&index, "考試點"),
        BTreeSet::from([2]),
        "traditional query"
    );
    assert_eq!(
        set(&index, "ＡＢＣ"),
        BTreeSet::from([3]),
        "full-width query"
    );
    assert_eq!(set(&index, "abc"), BTreeSet::from([3]), "case folded");
    assert_eq!(
        set(&index, "bc"),
        BTreeSet::from([3]),
        "ASCII substrings too"
    );
    assert_eq!(set(&index, "３８"), BTreeSet::from([1]), "digit substrings");
    assert_eq!(
        set(&index, "800元"),
        BTreeSet::from([1]),
        "mixed digits and CJK"
    );
    assert!(set(&index, "80元").is_empty());
    assert_eq!(set(&index, "弊"), BTreeSet::from([2]), "one character");
    assert_eq!(
        set(&index, "电工 学校"),
        BTreeSet::from([1]),
        "spaces mean AND"
    );
    assert_eq!(set(&index, "电 学校"), BTreeSet::from([1, 4]));
    assert_eq!(
        set(&index, "\"电工证\" -包过"),
        BTreeSet::new(),
        "exclusion"
    );
    assert_eq!(set(&index, "工证 -包过"), BTreeSet::from([2, 4]));
    assert_eq!(
        set(&index, "-包过").len(),
        3,
        "only exclusions: everything else"
    );
    assert_eq!(
        set(&index, "平顶山"),
        BTreeSet::from([1]),
        "place names are searchable"
    );
    assert_eq!(
        set(&index, "AJ-0003"),
        BTreeSet::from([3]),
        "case numbers are searchable"
    );
    assert!(set(&index, "证考").contains(&2));
    assert!(set(&index, "包过了").is_empty(), "no over-match of phrases");
    assert!(set(&index, "城安全技").contains(&1));
    assert!(
        !set(&index, "城技").contains(&1),
        "non-adjacent characters do not form a phrase"
    );
}

#[test]
fn pieces_with_punctuation_inside_match_as_written() {
    let index = SearchIndex::open_in_ram().unwrap();
    let mut docs = vec![
        doc(1, "电工证包过。交3800元"),
        doc(2, "电工证包过，交3800元"),
        doc(3, "电工证包过,交3800元"),
        doc(4, "包过的学校，交钱就行"),
        doc(5, "交了钱也不一定包过。"),
        doc(6, "同时办电工证，焊工证，价格优惠"),
        doc(7, "焊工证和电工证都能办"),
        doc(8, "電工證，焊工證一起考"),
        doc(9, "包过 。交钱"),
    ];
    docs[1].channel = "hotline_12345".into();
    docs[5].title = Some("举报包过。交钱".into());
    index.upsert(docs).unwrap();
    index.commit(1).unwrap();

    // Before the fix, the runs of the piece were an AND anywhere in the report (1–5, 9).
    assert_eq!(set(&index, "包过。交"), BTreeSet::from([1, 6]), "title too");
    assert_eq!(
        set(&index, "包过，交"),
        BTreeSet::from([2, 3]),
        "full-width and half-width commas fold alike"
    );
    assert_eq!(set(&index, "包过,交"), BTreeSet::from([2, 3]));
    assert_eq!(
        set(&index, "\"包过，交\""),
        BTreeSet::from([2, 3]),
        "quoted"
    );
    assert_eq!(
        set(&index, "，包过，交，"),
        BTreeSet::from([2, 3]),
        "leading and trailing separators do not count"
    );
    assert_eq!(
        set(&index, "电工证，焊工证"),
        BTreeSet::from([6, 8]),
        "simplified query, traditional text"
    );
    assert_eq!(set(&index, "電工證，焊工證"), BTreeSet::from([6, 8]));
    assert!(set(&index, "包过。。交").is_empty());
    assert_eq!(
        set(&index, "\"包过 。交\""),
        BTreeSet::from([9]),
        "a quoted piece with a space is exact too"
    );
    // Excluding such a piece excludes only the reports containing it as written.
    assert_eq!(
        set(&index, "包过 -包过。交"),
        BTreeSet::from([2, 3, 4, 5, 9])
    );
    // Combined with other terms.
    assert_eq!(set(&index, "3800 包过，交"), BTreeSet::from([2, 3]));

    // The total and the facets count the verified set, whatever the page.
    for sort in [Sort::Relevance, Sort::Newest] {
        let r = index
            .search(&Query {
                limit: 1,
                sort,
                ..Query::text("包过，交")
            })
            .unwrap();
        assert_eq!(r.total, 2);
        assert_eq!(r.hits.len(), 1);
        assert!([2, 3].contains(&r.hits[0].report_id));
        assert_eq!(
            r.facets["channel"],
            vec![("hotline_12345".into(), 1), ("web_form".into(), 1)]
        );
        let r = index
            .search(&Query {
                offset: 1,
                sort,
                ..Query::text("包过，交")
            })
            .unwrap();
        assert_eq!(r.total, 2);
        assert_eq!(r.hits.len(), 1);
    }
    let r = index.search(&Query::text("包过。交")).unwrap();
    assert_eq!(r.total, 2);
    let n: u64 = r.facets["channel"].iter().map(|(_, n)| n).sum();
    assert_eq!(n, 2);
}

#[test]
fn empty_text_matches_all_and_filters_apply() {
    let index = small_index();
    assert_eq!(index.search(&Query::default()).unwrap().total, 4);
    let q = |f: fn(&mut Query)| {
        let mut q = Query {
            limit: 100,
            ..Query::default()
        };
        f(&mut q);
        ids(&index, &q).into_iter().collect::<BTreeSet<_>>()
    };
    assert_eq!(q(|q| q.place = Some("21".into())), BTreeSet::from([2, 4]));
    assert_eq!(q(|q| q.place = Some("2103".into())), BTreeSet::from([2, 4]));
    assert_eq!(
        q(|q| q.place = Some("210300".into())),
        BTreeSet::from([2, 4]),
        "prefecture code as 6 digits"
    );
    assert_eq!(q(|q| q.place = Some("210302".into())), BTreeSet::from([2]));
    assert_eq!(q(|q| q.place = Some("home".into())), BTreeSet::from([3]));
    assert_eq!(
        q(|q| q.channel = Some("hotline_12345".into())),
        BTreeSet::from([2])
    );
    assert_eq!(q(|q| q.category = Some("T3".into())), BTreeSet::from([1]));
    assert_eq!(
        q(|q| q.subject_kind = Some("website".into())),
        BTreeSet::from([3])
    );
    assert_eq!(
        q(|q| q.referral = Some("exam_qualification".into())),
        BTreeSet::from([2])
    );
    assert_eq!(
        q(|q| q.case_state = Some("closed".into())),
        BTreeSet::from([4])
    );
    let day = |d| Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(d);
    assert_eq!(
        q(|q| q.from = Some(Utc.with_ymd_and_hms(2024, 1, 3, 0, 0, 0).unwrap())),
        BTreeSet::from([2, 3, 4])
    );
    let mut r = Query {
        from: Some(day(2)),
        to: Some(day(4)),
        limit: 10,
        ..Query::default()
    };
    assert_eq!(
        ids(&index, &r).into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([2, 3]),
        "to is exclusive"
    );
    r.text = "工证".into();
    assert_eq!(ids(&index, &r), vec![2]);
}

#[test]
fn facets_count_the_whole_matching_set() {
    let index = small_index();
    let r = index
        .search(&Query {
            limit: 1,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(r.total, 4);
    assert_eq!(r.hits.len(), 1);
    let f = |k: &str| r.facets[k].clone();
    assert_eq!(
        f("subject_kind")[0],
        ("training_institution".to_string(), 2)
    );
    assert_eq!(f("category").len(), 4);
    assert!(f("referral").contains(&("public_security".into(), 1)));
    assert_eq!(
        f("prefecture"),
        vec![("210300".into(), 2), ("410400".into(), 1)]
    );
    assert_eq!(f("county").len(), 3);
    assert_eq!(
        f("case_state"),
        vec![("received".into(), 3), ("closed".into(), 1)]
    );
    assert_eq!(
        f("channel"),
        vec![("web_form".into(), 3), ("hotline_12345".into(), 1)]
    );
    let r = index.search(&Query::text("工证")).unwrap();
    assert_eq!(
        r.facets["case_state"],
        vec![("received".into(), 2), ("closed".into(), 1)]
    );
}

#[test]
fn sort_and_paging() {
    let index = small_index();
    let page = |sort, offset, limit| {
        ids(
            &index,
            &Query {
                sort,
                offset,
                limit,
                ..Query::default()
            },
        )
    };
    assert_eq!(page(Sort::Newest, 0, 10), vec![4, 3, 2, 1]);
    assert_eq!(page(Sort::Oldest, 0, 10), vec![1, 2, 3, 4]);
    assert_eq!(page(Sort::Newest, 1, 2), vec![3, 2]);
    assert_eq!(page(Sort::Newest, 10, 2), vec![] as Vec<i64>);
    let r = index
        .search(&Query {
            limit: 0,
            ..Query::default()
        })
        .unwrap();
    assert_eq!((r.total, r.hits.len()), (4, 0));
}

#[test]
fn ranking_prefers_title_subject_and_whole_words() {
    let index = small_index();
    // Both 1 and 4 contain 鹰城; 1 has it in the subject name.
    assert_eq!(ids(&index, &Query::text("鹰城"))[0], 1);
    let r = index.search(&Query::text("电工证")).unwrap();
    assert_eq!(
        r.hits[0].snippet,
        "鹰城安全技术培训学校<b>电工证</b>包过，交3800元不用上课。"
    );
    assert!(r.hits[0].score > 0.0);
}

#[test]
fn bad_queries_are_errors_not_panics() {
    let index = small_index();
    for q in [
        Query::text("\"电工证"),
        Query::text("！！！"),
        Query::text("测".repeat(300)),
        Query {
            place: Some("21a".into()),
            ..Query::default()
        },
        Query {
            limit: 1_000_000,
            ..Query::default()
        },
        Query {
            from: Some(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
            to: Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()),
            ..Query::default()
        },
    ] {
        match index.search(&q) {
            Err(SearchError::BadQuery { message }) => assert!(!message.is_empty()),
            other => panic!("{q:?} gave {other:?}"),
        }
    }
    // Query-parser syntax is plain text to us.
    for t in [
        "a:b",
        "(电工",
        "title:[* TO",
        "AND OR NOT",
        "*",
        "\\",
        "电工^2",
        "~",
        "--",
        "-",
        "\"\"",
    ] {
        let r = index.search(&Query::text(t));
        assert!(
            r.is_ok() || matches!(r, Err(SearchError::BadQuery { .. })),
            "{t}: {r:?}"
        );
    }
}

#[test]
fn upsert_replaces_clear_empties_and_seq_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.applied_seq().unwrap(), None);
        index
            .upsert([doc(1, "电工证包过"), doc(2, "焊工证")])
            .unwrap();
        index.commit(10).unwrap();
        index.upsert([doc(1, "高处作业")]).unwrap();
        index.commit(11).unwrap();
        assert_eq!(set(&index, "电工证"), BTreeSet::new());
        assert_eq!(set(&index, "高处"), BTreeSet::from([1]));
        assert_eq!(index.num_docs(), 2);
        // A read-only handle beside the writer (the CLI while the server runs).
        let ro = SearchIndex::open_read_only(dir.path()).unwrap();
        assert_eq!(set(&ro, "焊工"), BTreeSet::from([2]));
        assert!(matches!(ro.commit(1), Err(SearchError::ReadOnly)));
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(index.applied_seq().unwrap(), Some(11));
    assert_eq!(
        set(&index, "高处作业"),
        BTreeSet::from([1]),
        "tokenizers registered again on reopen"
    );
    index.clear().unwrap();
    assert_eq!(index.num_docs(), 2, "clear is visible only at commit");
    index.upsert([doc(3, "录像")]).unwrap();
    index.commit(12).unwrap();
    assert_eq!(index.num_docs(), 1);
    assert_eq!(index.applied_seq().unwrap(), Some(12));
}

#[test]
fn optimize_merges_into_one_segment_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let texts = ["电工证包过", "焊工证考試", "高处作业", "网站出售假证"];
    for (i, t) in texts.iter().enumerate() {
        // One commit per document: one segment each.
        index.upsert([doc(i as i64 + 1, t)]).unwrap();
        index.commit(i as i64 + 1).unwrap();
    }
    let before: Vec<_> = ["证", "考试", "高处作业", "假证"]
        .iter()
        .map(|t| set(&index, t))
        .collect();
    assert!(index.num_segments() > 1);
    index.upsert([doc(9, "录像")]).unwrap();
    assert!(
        index.optimize().is_err(),
        "pending writes must be committed first"
    );
    index.rollback().unwrap();
    assert!(index.optimize().unwrap() > 1);
    assert_eq!(index.num_segments(), 1);
    assert_eq!(index.num_docs(), 4);
    assert_eq!(index.applied_seq().unwrap(), Some(4));
    let after: Vec<_> = ["证", "考试", "高处作业", "假证"]
        .iter()
        .map(|t| set(&index, t))
        .collect();
    assert_eq!(before, after);
    // The writer still works after the swap.
    index.upsert([doc(5, "录像")]).unwrap();
    index.commit(5).unwrap();
    assert_eq!(set(&index, "录像"), BTreeSet::from([5]));
    assert_eq!(index.optimize().unwrap(), 2);
    let ro = SearchIndex::open_read_only(dir.path()).unwrap();
    assert!(ro.optimize().is_err());
}

#[test]
fn subject_history_and_monthly_counts() {
    let index = small_index();
    let h = index.subject_history("鹰城", 10).unwrap();
    assert_eq!(h.iter().map(|h| h.report_id).collect::<Vec<_>>(), vec![1]);
    let h = index.subject_history("鹰城 安全技术培训學校", 10).unwrap();
    assert_eq!(h.len(), 1, "by name, folded");
    let all = index.counts_by_month(&Query::default(), None).unwrap();
    assert_eq!(all, vec![("2024-01".into(), String::new(), 4)]);
    let by = index
        .counts_by_month(&Query::default(), Some(FacetField::Category))
        .unwrap();
    assert!(by.contains(&("2024-01".into(), "T2".into(), 1)));
    assert_eq!(by.len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Phrase recall over the labelled reports.

struct Case {
    external_id: String,
    title: Option<String>,
    text: String,
    received_at: DateTime<Utc>,
}

fn load_cases() -> Option<Vec<Case>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cases/dev.jsonl");
    let Ok(raw) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var("TIPLINE_TEST_REQUIRE_ALL").is_err(),
            "TIPLINE_TEST_REQUIRE_ALL is set but {} is missing",
            path.display()
        );
        eprintln!("skipped: {} is absent", path.display());
        return None;
    };
    let mut out = Vec::new();
    for line in raw.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        out.push(Case {
            external_id: v["external_id"].as_str().unwrap().to_string(),
            title: v["title"].as_str().map(str::to_string),
            text: v["text"].as_str().unwrap().to_string(),
            received_at: DateTime::parse_from_rfc3339(v["received_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc),
        });
    }
    Some(out)
}

/// A small deterministic generator (no extra dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn phrase_recall_over_dev_cases_is_complete() {
    let Some(cases) = load_cases() else { return };
    let index = SearchIndex::open_in_ram().unwrap();
    let docs = cases.iter().enumerate().map(|(i, c)| SearchDoc {
        title: c.title.clone(),
        external_id: c.external_id.clone(),
        received_at: c.received_at,
        ..doc(i as i64, &c.text)
    });
    index.upsert(docs).unwrap();
    index.commit(1).unwrap();
    // Ground truth exactly as the acceptance check computes it.
    let nfkc: Vec<String> = cases
        .iter()
        .map(|c| {
            format!("{}\n{}", c.title.as_deref().unwrap_or(""), c.text)
                .nfkc()
                .collect()
        })
        .collect();
    let mut phrases: BTreeSet<String> = [
        "包过",
        "电工证",
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
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Every 2–4 character substring sampled from the texts (as written: traditional and
    // full-width ones included), 1-character ones too.
    let mut rng = Lcg(20240506);
    let originals: Vec<Vec<char>> = cases
        .iter()
        .map(|c| {
            format!("{}\n{}", c.title.as_deref().unwrap_or(""), c.text)
                .chars()
                .collect()
        })
        .collect();
    while phrases.len() < 2500 {
        let chars = &originals[rng.next() as usize % originals.len()];
        let n = 1 + rng.next() as usize % 6; // 1..=6 characters
        if chars.len() <= n {
            continue;
        }
        let start = rng.next() as usize % (chars.len() - n);
        let p: String = chars[start..start + n].iter().collect();
        // Phrases the user can type: no line breaks or spaces, at least one letter or digit.
        if p.chars().any(char::is_whitespace)
            || !p.chars().any(char::is_alphanumeric)
            || p.contains('"')
        {
            continue;
        }
        phrases.insert(p);
    }
    // The alternatives measured on the same phrases: jieba words alone (the phrase's words
    // contiguous among the document's words), and zhconv phrase-level folding
    // (`intake::normalize_text`) instead of the per-character fold.
    let jieba = jieba_rs::Jieba::new();
    let doc_words: Vec<Vec<String>> = nfkc
        .iter()
        .map(|t| {
            jieba
                .cut(&search::fold(t), false)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    let normalized: Vec<String> = nfkc.iter().map(|t| intake::normalize_text(t)).collect();
    let (mut jieba_found, mut zhconv_found) = (0usize, 0usize);
    for p in &phrases {
        let needle: String = p.nfkc().collect();
        let pw: Vec<String> = jieba
            .cut(&search::fold(&needle), false)
            .into_iter()
            .map(str::to_string)
            .collect();
        let np = intake::normalize_text(&needle);
        for (i, t) in nfkc.iter().enumerate() {
            if t.contains(&needle) {
                jieba_found += usize::from(doc_words[i].windows(pw.len()).any(|w| w == &pw[..]));
                zhconv_found += usize::from(normalized[i].contains(&np));
            }
        }
    }
    let (mut want_n, mut found_n, mut exact, mut extra_n) = (0usize, 0usize, 0usize, 0usize);
    let mut missed = Vec::new();
    for p in &phrases {
        let needle: String = p.nfkc().collect();
        let want: BTreeSet<i64> = nfkc
            .iter()
            .enumerate()
            .filter(|(_, t)| t.contains(&needle))
            .map(|(i, _)| i as i64)
            .collect();
        let got = set(&index, p);
        want_n += want.len();
        found_n += want.intersection(&got).count();
        extra_n += got.difference(&want).count();
        exact += usize::from(got == want);
        if !want.is_subset(&got) {
            missed.push(format!(
                "{p:?}: missed {:?}",
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    eprintln!(
        "phrase recall {found_n}/{want_n} over {} phrases; {exact} phrases with exactly the substring matches, \
         {extra_n} extra (doc, phrase) hits (script folding, punctuation-split phrases, ids and place names)",
        phrases.len()
    );
    eprintln!(
        "same phrases: jieba words alone would find {jieba_found}/{want_n} ({:.1} %); \
         normalize_text folding would keep {zhconv_found}/{want_n} substrings",
        100.0 * jieba_found as f64 / want_n.max(1) as f64
    );
    assert!(
        missed.is_empty(),
        "{} phrases missed documents: {:?}",
        missed.len(),
        &missed[..missed.len().min(10)]
    );
}
