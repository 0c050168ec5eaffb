//! `tipline export`: one line per report with its case and every decision.

use crate::config::Config;
use crate::store::{ExportRow, Store};
use serde_json::{json, Value};
use std::io::Write;

/// Output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One JSON object a line.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
}

/// The export record of one report: the fields of the labelled files' `expect`, plus reasons.
pub fn export_record(row: &ExportRow) -> Value {
    let r = &row.report;
    let d = &r.decisions;
    let extraction = &d["extraction"];
    let routing = &d["routing"];
    let referrals: Vec<Value> = routing["referrals"]
        .as_array()
        .map(|list| list.iter().filter_map(|x| x.get("code").cloned()).collect())
        .unwrap_or_default();
    let mut record = json!({
        "external_id": r.external_id,
        "channel": r.channel,
        "received_at": r.received_at,
        "title": r.title,
        "text": r.text,
        "report_id": r.id,
        "case_id": r.case_id,
        "case_no": row.case_no,
        "case_state": row.case_state,
        "locus": d["locus"]["code"],
        "locus_name": d["locus"]["name"],
        "subject_name": extraction["subject_name"],
        "subject_kind": extraction["subject_kind"],
        "categories": extraction["categories"],
        "handling": routing["handling"],
        "referrals": referrals,
        "transfer": routing["transfer"],
        "duplicate": d["dedup"],
        "deadlines": d["deadlines"],
        "reasons": {
            "locus": d["locus"]["reasons"],
            "routing": routing["reasons"],
            "rules": extraction["reasons"],
            "referrals": routing["referrals"],
        },
    });
    if let Some(reporter) = &row.reporter {
        record["reporter"] = reporter.clone();
    }
    record
}

/// Writes the export to standard output.
pub async fn run(config: Config, format: Format, with_identity: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::open(&config).await?;
    let actor = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    store
        .audit(
            &format!("cli:{actor}"),
            "export",
            None,
            None,
            serde_json::json!({"with_identity": with_identity}),
        )
        .await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut csv_writer = None;
    if matches!(format, Format::Csv) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CSV_COLUMNS)?;
        out.write_all(&w.into_inner()?)?;
        csv_writer = Some(());
    }
    let mut after = 0;
    loop {
        let page = store.export_page(after, 2_000, with_identity).await?;
        let Some(last) = page.last() else { break };
        after = last.report.id;
        for row in &page {
            let record = export_record(row);
            if csv_writer.is_some() {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(CSV_COLUMNS.iter().map(|c| csv_cell(&record[*c])))?;
                out.write_all(&w.into_inner()?)?;
            } else {
                serde_json::to_writer(&mut out, &record)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

const CSV_COLUMNS: &[&str] = &[
    "external_id",
    "channel",
    "received_at",
    "title",
    "text",
    "report_id",
    "case_id",
    "case_no",
    "case_state",
    "locus",
    "subject_name",
    "subject_kind",
    "categories",
    "handling",
    "referrals",
    "transfer",
];

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(csv_cell).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}
