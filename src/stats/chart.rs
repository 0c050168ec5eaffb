//! A server-side SVG chart of a statistics table: bars for 受理量, a line for the previous period
//! (the trend). Plain SVG, no script; every label is escaped (labels come from data).

use super::StatsTable;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 64.0;

/// Escapes text for SVG content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Bidirectional controls could reorder the chart's text; drop them.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A round scale maximum at or above `max` (1, 2, 5 × 10ⁿ).
fn nice_max(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max.max(1) {
                return m * step;
            }
        }
        step *= 10;
    }
}

/// The table's rows as an SVG bar chart of 受理量 with the previous period as a line.
pub fn svg_chart(table: &StatsTable) -> String {
    let title = format!(
        "{} 受理量（{} 至 {}）",
        table.jurisdiction_name, table.period.from, table.period.to
    );
    let rows = &table.rows;
    let max = nice_max(
        rows.iter()
            .map(|r| r.counts.reports.max(r.previous_reports))
            .max()
            .unwrap_or(0),
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / rows.len().max(1) as f64;
    let y = |v: u64| TOP + plot_h - plot_h * v as f64 / max as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}" font-family="sans-serif" font-size="12"><title>{t}</title>"#,
        t = escape(&title)
    );
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"##,
        escape(&title)
    );
    // Axis and grid: zero, half, top.
    for v in [0, max / 2, max] {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="#ccc"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{v}</text>"##,
            y = y(v),
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6.0,
            ty = y(v) + 4.0,
        );
    }
    // At most 18 axis labels, so that long periods of months stay legible (every bar keeps
    // its value in its tooltip).
    let every = rows.len().div_ceil(18).max(1);
    let mut line = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let bar_w = (slot * 0.6).max(1.0);
        let top = y(row.counts.reports);
        let _ = write!(
            svg,
            r##"<rect class="bar" x="{bx:.1}" y="{top:.1}" width="{bar_w:.1}" height="{h:.1}" fill="#2f6fb0"><title>{label}：{n}</title></rect>"##,
            bx = x + slot * 0.2,
            h = TOP + plot_h - top,
            label = escape(&row.label),
            n = row.counts.reports,
        );
        if i % every == 0 {
            let _ = write!(
                svg,
                r##"<text x="{cx:.1}" y="{ly:.1}" text-anchor="end" transform="rotate(-35 {cx:.1} {ly:.1})">{}</text>"##,
                escape(&row.label),
                cx = x + slot / 2.0,
                ly = TOP + plot_h + 14.0,
            );
        }
        line.push(format!(
            "{:.1},{:.1}",
            x + slot / 2.0,
            y(row.previous_reports)
        ));
    }
    if !line.is_empty() {
        let _ = write!(
            svg,
            r##"<polyline class="trend" points="{}" fill="none" stroke="#d9822b" stroke-width="2"/>"##,
            line.join(" ")
        );
    }
    let _ = write!(
        svg,
        r##"<rect x="{lx}" y="{ky}" width="10" height="10" fill="#2f6fb0"/><text x="{tx}" y="{ty}">本期受理量</text><line x1="{l2}" y1="{my}" x2="{l3}" y2="{my}" stroke="#d9822b" stroke-width="2"/><text x="{t2}" y="{ty}">上期受理量</text></svg>"##,
        lx = WIDTH - 220.0,
        ky = 11,
        tx = WIDTH - 206.0,
        ty = 20,
        l2 = WIDTH - 120.0,
        l3 = WIDTH - 104.0,
        my = 16,
        t2 = WIDTH - 100.0,
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Counts, Dimension, Period, StatsRow};

    fn row(label: &str, reports: u64, previous: u64) -> StatsRow {
        StatsRow {
            key: label.into(),
            label: label.into(),
            counts: Counts {
                reports,
                ..Counts::default()
            },
            previous_reports: previous,
        }
    }

    #[test]
    fn bars_a_trend_line_and_escaped_labels() {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let table = StatsTable {
            by: Dimension::Category,
            period: Period { from: day, to: day },
            previous: Period { from: day, to: day },
            jurisdiction: "500000".into(),
            jurisdiction_name: "重庆市".into(),
            rows: vec![
                row("<script>alert(1)</script>", 7, 3),
                row("\"x\" onload='y' \u{202e}", 2, 0),
                row("教学走过场", 0, 9),
            ],
            total: row("合计", 9, 12),
        };
        let svg = svg_chart(&table);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="bar""#).count(), 3);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("&quot;x&quot; onload=&#39;y&#39;"));
        assert!(!svg.contains('\u{202e}'));
        assert!(svg.contains("教学走过场：0"));
        // The scale's top is 10 (9 rounded up): the tallest value reaches near the top.
        assert!(svg.contains(">10</text>"));
    }

    #[test]
    fn long_periods_thin_out_the_axis_labels() {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let rows: Vec<StatsRow> = (0..36).map(|i| row(&format!("第{i}月"), i, 0)).collect();
        let table = StatsTable {
            by: Dimension::Month,
            period: Period { from: day, to: day },
            previous: Period { from: day, to: day },
            jurisdiction: "500000".into(),
            jurisdiction_name: "重庆市".into(),
            rows,
            total: row("合计", 0, 0),
        };
        let svg = svg_chart(&table);
        assert_eq!(svg.matches(r#"class="bar""#).count(), 36);
        assert_eq!(svg.matches("rotate(-35").count(), 18);
        assert!(svg.contains(">第0月</text>") && !svg.contains(">第1月</text>"));
        assert!(svg.contains("第1月：1"), "every bar keeps its tooltip");
    }
}
