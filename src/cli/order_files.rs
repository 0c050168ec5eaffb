//! The 12345 platform's exports of work orders (`.xlsx`/`.xls` read with calamine, `.csv` in UTF-8
//! or GBK decoded with encoding_rs), read into the [`WorkOrder`]s that the platform would have
//! pushed to `POST /api/v1/channels/12345/orders`.
//!
//! Platforms name their columns differently (工单编号 or 工单号, 来电时间 or 受理时间 …): each heading
//! is normalised (spaces, `*`, a bracketed note and a trailing colon dropped) and looked up among
//! the synonyms below. The heading row is the first of the first rows that names the order number
//! (exports often start with a title row). Unknown columns are ignored and listed once. A row that
//! cannot be an order is rejected with its row number (as the spreadsheet shows it) and reason.

use crate::channels::{Caller, WorkOrder};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::Path;

/// True for the file types read here.
pub fn is_order_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["xlsx", "xlsm", "xls", "csv"].contains(&e.to_ascii_lowercase().as_str()))
}

/// The columns a work order is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    OrderNo,
    CreatedAt,
    CallerName,
    CallerPhone,
    Content,
    Location,
    Deadline,
    DispatchUnit,
    Title,
    Category,
}

/// Headings per field, as 12345 platforms write them (after normalisation).
const HEADINGS: &[(Field, &[&str])] = &[
    (
        Field::OrderNo,
        &[
            "工单编号",
            "工单号",
            "工单编码",
            "受理编号",
            "编号",
            "orderno",
            "order_no",
        ],
    ),
    (
        Field::CreatedAt,
        &[
            "来电时间",
            "受理时间",
            "登记时间",
            "创建时间",
            "派单时间",
            "交办时间",
            "工单创建时间",
            "诉求时间",
        ],
    ),
    (
        Field::CallerName,
        &[
            "来电人",
            "联系人",
            "来电人姓名",
            "来电人员",
            "市民姓名",
            "诉求人",
            "反映人",
            "姓名",
        ],
    ),
    (
        Field::CallerPhone,
        &[
            "联系电话",
            "来电号码",
            "来电电话",
            "联系方式",
            "联系号码",
            "手机号码",
            "电话",
        ],
    ),
    (
        Field::Content,
        &[
            "诉求内容",
            "工单内容",
            "来电内容",
            "问题描述",
            "诉求描述",
            "反映内容",
            "内容",
            "详细内容",
        ],
    ),
    (
        Field::Location,
        &[
            "问题地址",
            "事发地址",
            "发生地址",
            "事发地点",
            "诉求地址",
            "地址",
            "所在地址",
        ],
    ),
    (
        Field::Deadline,
        &[
            "办理时限",
            "办结时限",
            "处理时限",
            "截止时间",
            "办理期限",
            "办结期限",
            "到期时间",
            "回复时限",
        ],
    ),
    (
        Field::DispatchUnit,
        &["承办单位", "办理单位", "责任单位", "主办单位", "派往单位"],
    ),
    (Field::Title, &["工单标题", "标题", "诉求标题", "主题"]),
    (
        Field::Category,
        &[
            "诉求类型",
            "工单类型",
            "问题分类",
            "诉求分类",
            "业务类型",
            "事项分类",
            "类别",
        ],
    ),
];

/// How many leading rows may come before the heading row (title rows, export notes).
const HEADING_SEARCH_ROWS: usize = 20;

/// A file read into orders.
#[derive(Debug)]
pub struct Table {
    /// Headings that name no known column, in file order.
    pub ignored: Vec<String>,
    /// The data rows.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug)]
pub struct Row {
    /// Row number as the spreadsheet shows it (1-based, heading rows counted).
    pub number: usize,
    /// The order, or why the row is none.
    pub order: Result<WorkOrder, String>,
    /// The row as received (heading → cell), JSON: the raw payload kept with the report.
    pub raw: String,
}

/// Reads an export.
pub fn read(path: &Path) -> anyhow::Result<Table> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let cells = if ext == "csv" {
        read_csv(path)?
    } else {
        read_workbook(path)?
    };
    table(cells)
}

fn read_workbook(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    use calamine::{open_workbook_auto, Reader};
    let mut workbook = open_workbook_auto(path).with_context(|| {
        format!(
            "不是可读的 Excel 文件 (not a readable Excel workbook): {}",
            path.display()
        )
    })?;
    let range = workbook
        .worksheet_range_at(0)
        .context("工作簿中没有工作表 (the workbook has no sheet)")?
        .context("第一个工作表无法读取 (cannot read the first sheet)")?;
    // Rows are numbered as the spreadsheet shows them, blank leading rows included.
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut out: Vec<Vec<String>> = vec![Vec::new(); first_row];
    out.extend(range.rows().map(|row| row.iter().map(cell_text).collect()));
    Ok(out)
}

fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        // Order numbers and phone numbers often arrive as numbers: no ".0", no exponent.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| d.to_string()),
    }
}

fn read_csv(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // UTF-8 (with or without a BOM) when it decodes as such; otherwise GBK, as Chinese Excel and
    // older platforms write CSV (GB18030 is its superset and decodes both).
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)) {
        Ok(t) => t.to_string(),
        Err(_) => {
            let (text, _, had_errors) = encoding_rs::GB18030.decode(&bytes);
            anyhow::ensure!(
                !had_errors,
                "CSV 文件既不是 UTF-8 也不是 GBK 编码 (the CSV is neither UTF-8 nor GBK)"
            );
            text.into_owned()
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| {
            format!("CSV 第 {} 行无法解析 (CSV row {} malformed)", i + 1, i + 1)
        })?;
        out.push(record.iter().map(|c| c.trim().to_string()).collect());
    }
    Ok(out)
}

/// A heading without spaces, `*`, a bracketed note or a trailing colon; ASCII lower-cased.
fn normalize_heading(h: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in h.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_whitespace() || c == '*' || c == '\u{feff}' => {}
            _ => out.push(c.to_ascii_lowercase()),
        }
    }
    out.trim_end_matches([':', '：']).to_string()
}

fn field_of(heading: &str) -> Option<Field> {
    let h = normalize_heading(heading);
    HEADINGS
        .iter()
        .find(|(_, names)| names.contains(&h.as_str()))
        .map(|(f, _)| *f)
}

fn table(cells: Vec<Vec<String>>) -> anyhow::Result<Table> {
    let heading_row = cells
        .iter()
        .take(HEADING_SEARCH_ROWS)
        .position(|row| row.iter().any(|h| field_of(h) == Some(Field::OrderNo)))
        .context("表头中没有“工单编号”列 (no 工单编号 column among the first rows)")?;
    let headings = &cells[heading_row];
    let mut columns: BTreeMap<Field, Vec<usize>> = BTreeMap::new();
    let mut ignored = Vec::new();
    for (i, h) in headings.iter().enumerate() {
        match field_of(h) {
            Some(f) => columns.entry(f).or_default().push(i),
            None if !h.trim().is_empty() => ignored.push(h.trim().to_string()),
            None => {}
        }
    }
    let mut rows = Vec::new();
    for (i, row) in cells.iter().enumerate().skip(heading_row + 1) {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let raw: serde_json::Map<String, serde_json::Value> = headings
            .iter()
            .zip(row)
            .filter(|(h, v)| !h.trim().is_empty() && !v.is_empty())
            .map(|(h, v)| (h.trim().to_string(), serde_json::json!(v)))
            .collect();
        // The first non-empty cell among a field's columns (来电时间 and 受理时间 may both exist).
        let get = |f: Field| -> Option<String> {
            columns.get(&f)?.iter().find_map(|&c| {
                row.get(c)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        };
        rows.push(Row {
            number: i + 1,
            order: order_of(&get),
            raw: serde_json::Value::Object(raw).to_string(),
        });
    }
    Ok(Table { ignored, rows })
}

fn order_of(get: &dyn Fn(Field) -> Option<String>) -> Result<WorkOrder, String> {
    let order_no = get(Field::OrderNo).ok_or("缺少工单编号 (missing 工单编号)")?;
    let created =
        get(Field::CreatedAt).ok_or("缺少来电时间/受理时间 (missing 来电时间/受理时间)")?;
    let created_at = timestamp(&created)
        .ok_or_else(|| format!("来电时间无法识别 (unreadable 来电时间): {created}"))?;
    let deadline = match get(Field::Deadline) {
        None => None,
        Some(d) => Some(
            deadline(&d, &created_at)
                .ok_or_else(|| format!("办理时限无法识别 (unreadable 办理时限): {d}"))?,
        ),
    };
    let (name, phone) = (get(Field::CallerName), get(Field::CallerPhone));
    Ok(WorkOrder {
        order_no: Some(order_no),
        created_at: Some(created_at.to_rfc3339()),
        caller: (name.is_some() || phone.is_some()).then_some(Caller { name, phone }),
        content: get(Field::Content),
        location: get(Field::Location),
        category: get(Field::Category),
        deadline: deadline.map(|d| d.to_rfc3339()),
        dispatch_unit: get(Field::DispatchUnit),
        title: get(Field::Title),
    })
}

/// A time as platforms write it: RFC 3339, `2024-05-06 10:00[:00]`, `2024/5/6 10:00`,
/// `2024年5月6日 10时00分`, or a date alone (midnight), read as Beijing time.
fn timestamp(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let t: String = text
        .trim()
        .replace(['年', '月', '/'], "-")
        .replace('日', " ")
        .replace(['时', '点'], ":")
        .replace('分', ":")
        .replace('秒', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let t = t.trim_end_matches(':');
    intake::parse_timestamp("received_at", t).ok().or_else(|| {
        // Unpadded months and days (`2024-5-6`) are re-padded.
        let (date, rest) = t.split_once(' ').unwrap_or((t, ""));
        let parts: Vec<&str> = date.split('-').collect();
        if parts.len() != 3 {
            return None;
        }
        let padded = format!("{}-{:0>2}-{:0>2} {rest}", parts[0], parts[1], parts[2]);
        intake::parse_timestamp("received_at", padded.trim()).ok()
    })
}

/// The order's deadline: a time; a date alone (18:00 of that day, the end of the working day the
/// calendar counts to); or a span from the time received — `5`, `5个工作日` (working days on the
/// holiday calendar) or `15天`/`15日`/`15个自然日` (calendar days).
fn deadline(
    text: &str,
    created_at: &chrono::DateTime<chrono::FixedOffset>,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let t = text.trim();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let unit = t[digits.len()..].trim().trim_start_matches('个');
    if !digits.is_empty() && digits.len() <= 3 {
        let n: u32 = digits.parse().ok()?;
        let calendar = triage::WorkCalendar::embedded();
        return match unit {
            "" | "工作日" => Some(calendar.add_working_days(*created_at, n)),
            "天" | "日" | "自然日" => {
                let day = *created_at + chrono::Duration::days(i64::from(n));
                let at = day.date_naive().and_hms_opt(18, 0, 0)?;
                at.and_local_timezone(*created_at.offset()).single()
            }
            _ => None,
        };
    }
    let at = timestamp(t)?;
    let date_only = !t.contains([':', '时', '点']);
    if date_only {
        let end = at.date_naive().and_hms_opt(18, 0, 0)?;
        return end.and_local_timezone(*at.offset()).single();
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn headings_are_found_under_a_title_row_and_synonyms_map() {
        let t = table(vec![
            row(&["12345热线工单导出（2024年5月）"]),
            row(&[
                "工单号",
                "受理时间",
                "联系人",
                "来电号码",
                "工单内容",
                "事发地址",
                "办结时限",
                "备注",
            ]),
            row(&[
                "GD1",
                "2024/5/6 10:00",
                "张三",
                "13900000000",
                "某培训学校包过",
                "鞍山市铁东区",
                "5个工作日",
                "x",
            ]),
            row(&["", "2024-05-06 10:00", "", "", "无编号", "", "", ""]),
            row(&[
                "GD3",
                "2024年5月6日 10时00分",
                "",
                "",
                "内容",
                "",
                "2024-05-20",
                "",
            ]),
        ])
        .unwrap();
        assert_eq!(t.ignored, ["备注"]);
        assert_eq!(t.rows.len(), 3);
        let first = t.rows[0].order.as_ref().unwrap();
        assert_eq!(t.rows[0].number, 3);
        assert_eq!(first.order_no.as_deref(), Some("GD1"));
        assert_eq!(
            first.created_at.as_deref(),
            Some("2024-05-06T10:00:00+08:00")
        );
        // 5 working days after Monday 6 May 2024: Saturday 11 May, a worked Saturday (调休).
        assert_eq!(first.deadline.as_deref(), Some("2024-05-11T18:00:00+08:00"));
        assert!(t.rows[1].order.as_ref().unwrap_err().contains("工单编号"));
        let third = t.rows[2].order.as_ref().unwrap();
        assert_eq!(
            third.created_at.as_deref(),
            Some("2024-05-06T10:00:00+08:00")
        );
        assert_eq!(third.deadline.as_deref(), Some("2024-05-20T18:00:00+08:00"));
    }

    #[test]
    fn a_file_without_an_order_number_column_is_refused() {
        assert!(table(vec![row(&["姓名", "电话"]), row(&["a", "b"])]).is_err());
        assert_eq!(normalize_heading(" *工单编号（必填）："), "工单编号");
    }
}
