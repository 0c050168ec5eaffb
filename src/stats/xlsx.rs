//! Workbooks: the statistics table, and the cell formats the monthly tables share.

use super::StatsTable;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// The column headings of the statistics table after the row label, in order.
pub const STATS_COLUMNS: [&str; 14] = [
    "受理量（件）",
    "重复举报（件）",
    "重复举报率",
    "案件数（件）",
    "应签收（件）",
    "按期签收（件）",
    "按期签收率",
    "应办结（件）",
    "按期办结（件）",
    "按期办结率",
    "核查认定（件）",
    "属实/部分属实（件）",
    "属实率",
    "上期受理量（件）",
];

/// The formats of a report sheet: headings, body cells, numbers, percentages.
pub(super) struct Formats {
    pub title: Format,
    pub head: Format,
    pub cell: Format,
    pub number: Format,
    pub percent: Format,
    pub note: Format,
}

impl Formats {
    pub fn new() -> Formats {
        let bordered = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap();
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            head: bordered.clone().set_bold(),
            cell: bordered.clone(),
            number: bordered.clone().set_num_format("0.####"),
            percent: bordered.set_num_format("0.0%"),
            note: Format::new().set_text_wrap().set_align(FormatAlign::Top),
        }
    }
}

/// Turns an xlsxwriter error into the application's.
pub(super) fn xlsx_error(e: XlsxError) -> anyhow::Error {
    anyhow::anyhow!("cannot write the workbook: {e}")
}

/// The statistics table as an XLSX workbook (one sheet, a 合计 row, rates as percentages).
pub fn stats_xlsx(table: &StatsTable) -> anyhow::Result<Vec<u8>> {
    let f = Formats::new();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("统计").map_err(xlsx_error)?;
    let columns = STATS_COLUMNS.len() as u16;
    let title = format!(
        "{}举报受理统计（{} 至 {}，按{}）",
        table.jurisdiction_name,
        table.period.from,
        table.period.to,
        table.by.label()
    );
    sheet
        .merge_range(0, 0, 0, columns, &title, &f.title)
        .map_err(xlsx_error)?;
    sheet
        .write_with_format(1, 0, table.by.label(), &f.head)
        .map_err(xlsx_error)?;
    for (i, h) in STATS_COLUMNS.iter().enumerate() {
        sheet
            .write_with_format(1, i as u16 + 1, *h, &f.head)
            .map_err(xlsx_error)?;
    }
    sheet.set_column_width(0, 22).map_err(xlsx_error)?;
    sheet
        .set_column_range_width(1, columns, 11)
        .map_err(xlsx_error)?;
    for (r, row) in table.rows.iter().chain([&table.total]).enumerate() {
        let r = r as u32 + 2;
        sheet
            .write_with_format(r, 0, &row.label, &f.cell)
            .map_err(xlsx_error)?;
        let c = &row.counts;
        let cells: [(Option<f64>, bool); 14] = [
            (Some(c.reports as f64), false),
            (Some(c.repeat_reports as f64), false),
            (c.repeat_rate(), true),
            (Some(c.cases as f64), false),
            (Some(c.sign_for_due as f64), false),
            (Some(c.signed_on_time as f64), false),
            (c.sign_on_time_rate(), true),
            (Some(c.close_due as f64), false),
            (Some(c.closed_on_time as f64), false),
            (c.close_on_time_rate(), true),
            (Some(c.findings as f64), false),
            (Some(c.findings_true as f64), false),
            (c.true_rate(), true),
            (Some(row.previous_reports as f64), false),
        ];
        for (i, (value, rate)) in cells.into_iter().enumerate() {
            let col = i as u16 + 1;
            match value {
                Some(v) => sheet.write_number_with_format(
                    r,
                    col,
                    v,
                    if rate { &f.percent } else { &f.number },
                ),
                None => sheet.write_string_with_format(r, col, "—", &f.cell),
            }
            .map_err(xlsx_error)?;
        }
    }
    book.save_to_buffer().map_err(xlsx_error)
}
