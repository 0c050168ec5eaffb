//! The monthly progress tables of 渝考发〔2022〕5号 附件2–4 (安全生产培训“走过场”专项整治进展情况
//! 汇总表: 培训机构, 考试机构, 生产经营单位), filled from the cases' subject kinds, findings, actions
//! and rectification.
//!
//! What a table for month M of jurisdiction J holds (the notice: "每月要在上月度填报基础上填写", so
//! each month builds on the last):
//! - the cases of J's subtree (scoped as the API is) about training institutions (and online
//!   training platforms, 渝考发 任务30), exam institutions or production units whose finding
//!   (核查结论) was recorded from 1 January of M's year to the end of M, Beijing time;
//! - their actions and rectification as they stood at the end of M (steps recorded later do not
//!   change a past month's table, so a table can be produced again later with the same content).
//!
//! Rows of 附件2 and 附件3 are subjects (one row per institution, its cases summed); 附件4 has no
//! name column and counts enterprises (辖区…总数量, 抽查企业数量), so its rows are the county-level
//! jurisdictions, named in a note under the table. A case found 属实 or 部分属实 counts one problem
//! (项/人) in the column of each of its categories; a case found 不属实 lists its subject with zeros.
//! Columns the system cannot know (培训人次, 考试人次, 辖区高危行业企业总数量) are left for the office.

use super::xlsx::{xlsx_error, Formats};
use super::{Month, StatsError};
use crate::store::{CaseFact, StepFact, Store};
use rust_xlsxwriter::Workbook;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Which of the three tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 附件2: 培训机构.
    Training,
    /// 附件3: 考试机构.
    Exam,
    /// 附件4: 生产经营单位.
    Production,
}

/// A heading group: its text and the sub-headings under it (none: the heading spans both rows).
type Group = (&'static str, &'static [&'static str]);

const TRAINING: &[Group] = &[
    ("序号", &[]),
    ("安全培训机构名称", &[]),
    (
        "培训情况",
        &[
            "高危行业企业主要负责人和安全管理人员培训人次\n（人次/年）",
            "特种作业人员培训人次\n（人次/年）",
            "其他人员培训人次\n（人次/年）",
        ],
    ),
    (
        "自查/执法检查发现问题情况",
        &[
            "制度、师资、场地、设施不满足培训基本条件\n（项）",
            "未按大纲教学，实操实训流于形式（项）",
            "未建立培训档案、档案不规范、档案造假\n（项）",
            "举办“包过班”、参与考生作弊，倒卖安全生产资格（合格）证书（项）",
            "其他违法违规行为（项）",
        ],
    ),
    ("执法层级", &["实施执法检查的应急管理部门"]),
    (
        "处罚情况",
        &[
            "限期改正",
            "罚款\n（万元）",
            "停业整顿",
            "移送市场监管部门查处或淘汰退出",
            "公开曝光",
        ],
    ),
    ("整改落实情况", &[]),
];

const EXAM: &[Group] = &[
    ("序号", &[]),
    ("考试机构（考试点）名称", &[]),
    (
        "考试情况",
        &[
            "高危行业企业主要负责人和安全管理人员考试人次\n（人次/年）",
            "特种作业人员考试人次\n（人次/年）",
        ],
    ),
    (
        "自查/执法检查发现问题情况",
        &[
            "制度、场地、设施不满足考试基本条件\n（项）",
            "从事与所承担考试任务有关培训活动\n（项）",
            "未按要求制定考试计划，未严格按照考试计划组织实施考试\n（项）",
            "完全以问答代替实操考试\n（项）",
            "未安排监考、考评人员进行理论考试监考和实操考评\n（项）",
            "考务人员违反考试纪律，纵容、参与、甚至组织考生作弊\n（项）",
            "未建立考试档案、档案不规范、档案造假\n（项）",
            "其他违法违规行为\n（项）",
        ],
    ),
    ("执法层级", &["实施执法检查的应急管理部门"]),
    ("处罚情况", &["限期改正", "停业整顿", "取消考试资格"]),
    ("整改落实情况", &[]),
];

const PRODUCTION: &[Group] = &[
    ("序号", &[]),
    (
        "企业情况",
        &["辖区高危行业企业总数量\n（家）", "抽查企业数量\n（家）"],
    ),
    (
        "检查发现问题情况",
        &[
            "未制定培训计划，未按计划实施培训\n（项）",
            "特种作业人员无证上岗/持假证上岗\n（人）",
            "高危行业企业主要负责人、安全生产管理人员未考核合格\n（人）",
            "未如实记录安全生产教育和培训情况\n（项）",
            "其他违法违规行为\n（项）",
        ],
    ),
    (
        "处罚情况",
        &["限期改正", "罚款\n（万元）", "停业整顿", "公开曝光"],
    ),
    ("整改落实情况", &[]),
];

/// The instructions printed under each table in the notice (填写说明), kept as published.
const NOTES_TRAINING: &[&str] = &[
    "1.请对辖区内所有培训机构专项整治开展情况进行填写，4月15日之前填写各培训机构自查自改情况（不含“执法层级”“处罚情况”），4月15日之后，每月5日前填报一次执法检查情况，每月要在上月度填报基础上填写。",
    "2.请在“自查/执法检查发现问题”栏，按照问题分类填写发现的问题数（项）。",
    "3.请在“执法层级”栏，填写市级、区县级。",
    "4.请在“处罚情况”栏对应的处罚措施项打“√”（罚款栏填写金额），处罚措施可多选，并简要注明整改落实情况（未整改、正在整改、已完成整改）。",
];
const NOTES_EXAM: &[&str] = &[
    "1.请对辖区内所有考试机构（考试点）专项整治开展情况进行填写，4月15日之前填写各考试机构（考试点）自查自改情况（不含“执法层级”“处罚情况”）。4月15日之后，每月5日前填报一次执法检查情况，每月要在上月度填报基础上填写。",
    "2.请在“自查/执法检查发现问题”栏，按照问题分类填写发现的问题数（项）。",
    "3.请在“执法层级”栏，填写市级、区县级。",
    "4.请在“处罚情况”栏对应的处罚措施项打“√”，处罚措施可多选，并简要注明整改落实情况（未整改、正在整改、已完成整改）。",
];
const NOTES_PRODUCTION: &[&str] = &[
    "1.请在“执法检查发现问题”栏，按照问题分类填写发现问题的项数或者人数。",
    "2.请在“处罚情况”栏对应的处罚措施项打“√”（罚款栏填写金额），处罚措施可多选，并简要注明整改落实情况（未整改、正在整改、已完成整改）。",
];

impl Kind {
    /// The three tables in the notice's order.
    pub const ALL: [Kind; 3] = [Kind::Training, Kind::Exam, Kind::Production];

    /// `附件2` …
    pub fn attachment(self) -> &'static str {
        match self {
            Kind::Training => "附件2",
            Kind::Exam => "附件3",
            Kind::Production => "附件4",
        }
    }

    /// The table's title.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Training => "安全生产培训“走过场”专项整治进展情况汇总表（培训机构）",
            Kind::Exam => "安全生产培训“走过场”专项整治进展情况汇总表（考试机构）",
            Kind::Production => "安全生产培训“走过场”专项整治进展情况汇总表（生产经营单位）",
        }
    }

    /// The sheet's name.
    pub fn sheet_name(self) -> &'static str {
        match self {
            Kind::Training => "附件2 培训机构",
            Kind::Exam => "附件3 考试机构",
            Kind::Production => "附件4 生产经营单位",
        }
    }

    /// The heading groups.
    fn groups(self) -> &'static [Group] {
        match self {
            Kind::Training => TRAINING,
            Kind::Exam => EXAM,
            Kind::Production => PRODUCTION,
        }
    }

    fn notes(self) -> &'static [&'static str] {
        match self {
            Kind::Training => NOTES_TRAINING,
            Kind::Exam => NOTES_EXAM,
            Kind::Production => NOTES_PRODUCTION,
        }
    }

    /// The number of columns.
    pub fn width(self) -> usize {
        self.groups().iter().map(|(_, s)| s.len().max(1)).sum()
    }

    /// The subject kinds whose cases fill the table.
    fn subject_kinds(self) -> &'static [&'static str] {
        match self {
            Kind::Training => &["training_institution", "online_platform"],
            Kind::Exam => &["exam_institution"],
            Kind::Production => &["production_unit"],
        }
    }

    /// The problem columns (index among them) a case's category counts in; `None` for `X`.
    fn problem_column(self, category: &str, finding_text: &str) -> Option<usize> {
        if category == "X" {
            return None;
        }
        Some(match (self, category) {
            (Kind::Training, "T1") => 0,
            (Kind::Training, "T2") => 1,
            (Kind::Training, "T3") => 2,
            (Kind::Training, "T4") => 3,
            (Kind::Training, _) => 4,
            (Kind::Exam, "E1") => 0,
            (Kind::Exam, "E2") => 1,
            (Kind::Exam, "E3") => 2,
            (Kind::Exam, "E4") => 3,
            // E5 spans two columns of 附件3: no invigilators at all, or staff breaking discipline.
            (Kind::Exam, "E5") if no_invigilators(finding_text) => 4,
            (Kind::Exam, "E5") => 5,
            (Kind::Exam, "E6") => 6,
            (Kind::Exam, _) => 7,
            (Kind::Production, "P1") => 0,
            (Kind::Production, "P2") => 1,
            (Kind::Production, "P3") => 2,
            (Kind::Production, "P4") => 3,
            (Kind::Production, _) => 4,
        })
    }

    fn problem_columns(self) -> usize {
        match self {
            Kind::Training => 5,
            Kind::Exam => 8,
            Kind::Production => 5,
        }
    }

    /// The action columns: (action kinds that tick it, ticked mark).
    fn action_columns(self) -> &'static [&'static [&'static str]] {
        match self {
            Kind::Training => &[
                &["限期改正"],
                &["罚款"],
                &["停业整顿"],
                &["移送市场监管或淘汰退出"],
                &["公开曝光"],
            ],
            Kind::Exam => &[
                &["限期改正"],
                &["停业整顿"],
                &["取消考试资格", "暂停考试资格"],
            ],
            Kind::Production => &[&["限期改正"], &["罚款"], &["停业整顿"], &["公开曝光"]],
        }
    }
}

/// The finding says no invigilator or examiner was assigned (附件3's own column for E5).
fn no_invigilators(text: &str) -> bool {
    [
        "未安排监考",
        "没有监考",
        "无监考",
        "未安排考评",
        "没有考评",
        "无考评",
        "无人监考",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing (a column for the office to fill, or no value).
    Empty,
    /// Text.
    Text(String),
    /// A number (counts, 万元).
    Number(f64),
}

/// One of the three tables, filled.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// Which table.
    pub kind: Kind,
    /// Rows, each `kind.width()` cells, 序号 first.
    pub rows: Vec<Vec<Cell>>,
    /// The 合计 row.
    pub total: Vec<Cell>,
    /// Notes printed under the table (row names of 附件4, how the figures were counted).
    pub notes: Vec<String>,
}

/// The three tables of a jurisdiction for a month.
#[derive(Debug, Clone)]
pub struct MonthlyTables {
    /// The month.
    pub month: Month,
    /// The jurisdiction's division code.
    pub jurisdiction: String,
    /// Its name.
    pub jurisdiction_name: String,
    /// The date the tables were made (填表时间), Beijing.
    pub made_on: chrono::NaiveDate,
    /// 附件2, 附件3, 附件4.
    pub sheets: Vec<Sheet>,
}

/// What one case contributes as of the end of the month.
#[derive(Debug, Default)]
struct CaseResult {
    problems: Vec<usize>,
    actions: BTreeSet<String>,
    fine_wan: f64,
    rectification: Option<String>,
    level: Option<&'static str>,
}

fn case_result(kind: Kind, case: &CaseFact, steps: &[&StepFact]) -> CaseResult {
    let case = &case.row;
    let mut r = CaseResult {
        level: match case.handling.as_str() {
            "home" => None,
            h if h.ends_with("00") => Some("市级"),
            _ => Some("区县级"),
        },
        ..CaseResult::default()
    };
    if let Some(finding) = steps.iter().rev().find(|s| s.step == "record_finding") {
        let verdict = finding.data["finding"].as_str().unwrap_or("");
        if verdict == "属实" || verdict == "部分属实" {
            let text = finding.data["text"].as_str().unwrap_or("");
            r.problems = case
                .categories
                .iter()
                .filter_map(|c| kind.problem_column(c, text))
                .collect();
        }
    }
    for s in steps.iter().filter(|s| s.step == "record_actions") {
        for a in s.data["actions"].as_array().into_iter().flatten() {
            let Some(k) = a["kind"].as_str() else {
                continue;
            };
            r.actions.insert(k.to_string());
            if k == "罚款" {
                r.fine_wan += a["amount_wan"].as_f64().unwrap_or(0.0);
            }
        }
    }
    r.rectification = steps
        .iter()
        .rev()
        .find(|s| s.step == "record_rectification")
        .and_then(|s| s.data["status"].as_str().map(str::to_string))
        .or_else(|| (!r.actions.is_empty()).then(|| "未整改".to_string()));
    r
}

/// Rectification states from worst to best: a row shows the worst of its cases.
const RECTIFICATION: [&str; 3] = ["未整改", "正在整改", "已完成整改"];

/// The summed results of the cases on one row.
#[derive(Debug, Default)]
struct RowSum {
    name: String,
    problems: Vec<f64>,
    units: BTreeSet<String>,
    /// Per action column: units with the action (one for a subject row).
    ticks: Vec<BTreeSet<String>>,
    /// Exam qualification: suspended only (not cancelled).
    suspended_only: bool,
    fine_wan: f64,
    levels: BTreeSet<&'static str>,
    rectification: BTreeMap<usize, BTreeSet<String>>,
}

impl RowSum {
    fn new(kind: Kind, name: String) -> RowSum {
        RowSum {
            name,
            problems: vec![0.0; kind.problem_columns()],
            ticks: vec![BTreeSet::new(); kind.action_columns().len()],
            ..RowSum::default()
        }
    }

    fn add(&mut self, kind: Kind, unit: &str, r: &CaseResult) {
        self.units.insert(unit.to_string());
        for &p in &r.problems {
            self.problems[p] += 1.0;
        }
        for (i, kinds) in kind.action_columns().iter().enumerate() {
            if kinds.iter().any(|k| r.actions.contains(*k)) {
                self.ticks[i].insert(unit.to_string());
            }
        }
        self.suspended_only = kind == Kind::Exam
            && r.actions.contains("暂停考试资格")
            && !r.actions.contains("取消考试资格");
        self.fine_wan += r.fine_wan;
        self.levels.extend(r.level);
        if let Some(status) = &r.rectification {
            if let Some(i) = RECTIFICATION.iter().position(|s| s == status) {
                self.rectification
                    .entry(i)
                    .or_default()
                    .insert(unit.to_string());
            }
        }
    }
}

fn number_or_empty(v: f64) -> Cell {
    if v == 0.0 {
        Cell::Empty
    } else {
        Cell::Number(v)
    }
}

/// The cells of a row: `per_unit` rows tick (√), aggregated rows count units.
fn cells(kind: Kind, serial: Cell, row: &RowSum, per_unit: bool) -> Vec<Cell> {
    let mut out = vec![serial];
    match kind {
        Kind::Training => {
            out.push(Cell::Text(row.name.clone()));
            out.extend([Cell::Empty, Cell::Empty, Cell::Empty]);
        }
        Kind::Exam => {
            out.push(Cell::Text(row.name.clone()));
            out.extend([Cell::Empty, Cell::Empty]);
        }
        Kind::Production => {
            out.push(Cell::Empty);
            out.push(Cell::Number(row.units.len() as f64));
        }
    }
    out.extend(row.problems.iter().map(|&p| Cell::Number(p)));
    if kind != Kind::Production {
        out.push(if per_unit {
            Cell::Text(row.levels.iter().copied().collect::<Vec<_>>().join("、"))
        } else {
            Cell::Empty
        });
    }
    for (i, kinds) in kind.action_columns().iter().enumerate() {
        let units = row.ticks[i].len() as f64;
        out.push(if kinds.contains(&"罚款") {
            number_or_empty(row.fine_wan)
        } else if !per_unit {
            number_or_empty(units)
        } else if units > 0.0 && kinds.contains(&"暂停考试资格") && row.suspended_only {
            Cell::Text("暂停".to_string())
        } else if units > 0.0 {
            Cell::Text("√".to_string())
        } else {
            Cell::Empty
        });
    }
    out.push(if per_unit && row.units.len() == 1 {
        row.rectification
            .keys()
            .next()
            .map_or(Cell::Empty, |&i| Cell::Text(RECTIFICATION[i].to_string()))
    } else {
        let parts: Vec<String> = row
            .rectification
            .iter()
            .map(|(&i, units)| format!("{}{}", RECTIFICATION[i], units.len()))
            .collect();
        if parts.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(parts.join("，"))
        }
    });
    out
}

/// Builds the three tables of `jurisdiction` for `month`; `home` is the deployment's home (whose
/// intake desk a covering jurisdiction also holds); `made_on` is the 填表时间.
pub async fn build(
    store: &Store,
    jurisdiction: &str,
    home: Option<&str>,
    month: Month,
    made_on: chrono::NaiveDate,
) -> Result<MonthlyTables, StatsError> {
    let within = super::subtree_of(jurisdiction, home);
    let from = super::event_time(super::day_start(month.january().first_day()));
    let until = super::event_time(super::day_start(month.next().first_day()));
    let mut sheets = Vec::new();
    for kind in Kind::ALL {
        let cases = store
            .cases_with_findings(&within, kind.subject_kinds(), &from, &until)
            .await?;
        let ids: Vec<i64> = cases.iter().map(|c| c.row.id).collect();
        let steps = store.case_steps(&ids, Some(&until)).await?;
        let mut by_case: HashMap<i64, Vec<&StepFact>> = HashMap::new();
        for s in &steps {
            by_case.entry(s.case_id).or_default().push(s);
        }
        // Rows in the order their first case was opened.
        let mut rows: Vec<(String, RowSum)> = Vec::new();
        let mut total = RowSum::new(kind, String::new());
        for fact in &cases {
            let result = case_result(
                kind,
                fact,
                by_case.get(&fact.row.id).map_or(&[][..], Vec::as_slice),
            );
            let case = &fact.row;
            let unit = case
                .subject_key
                .clone()
                .or_else(|| case.subject_name.clone())
                .unwrap_or_else(|| case.case_no.clone());
            let (key, name) = match kind {
                Kind::Production => {
                    let county = case
                        .locus
                        .clone()
                        .filter(|l| l.starts_with(&within.prefix))
                        .unwrap_or_else(|| case.handling.clone());
                    let name = super::division_name(&county);
                    (county, name)
                }
                _ => (
                    unit.clone(),
                    case.subject_name
                        .clone()
                        .unwrap_or_else(|| format!("（名称不详，案件{}）", case.case_no)),
                ),
            };
            let i = match rows.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    rows.push((key, RowSum::new(kind, name)));
                    rows.len() - 1
                }
            };
            rows[i].1.add(kind, &unit, &result);
            total.add(kind, &unit, &result);
        }
        let per_unit = kind != Kind::Production;
        let mut notes = vec![format!(
            "统计说明：本表由系统根据{}至{}认定（核查结论）的案件生成，处罚与整改情况截至{}；\
             “属实”“部分属实”的案件按其问题类别各计1{}；培训/考试人次等系统未掌握的栏目由填表单位填写。",
            month.january().first_day().format("%Y年%-m月%-d日"),
            month.last_day().format("%Y年%-m月%-d日"),
            month.last_day().format("%Y年%-m月%-d日"),
            if kind == Kind::Production { "项（人）" } else { "项" },
        )];
        if kind == Kind::Production && !rows.is_empty() {
            let names: Vec<String> = rows
                .iter()
                .enumerate()
                .map(|(i, (_, r))| format!("序号{}：{}", i + 1, r.name))
                .collect();
            notes.push(format!("各行对应辖区：{}。", names.join("；")));
        }
        sheets.push(Sheet {
            kind,
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, (_, r))| cells(kind, Cell::Number(i as f64 + 1.0), r, per_unit))
                .collect(),
            total: cells(kind, Cell::Text("合计".into()), &total, false),
            notes,
        });
    }
    Ok(MonthlyTables {
        month,
        jurisdiction: jurisdiction.to_string(),
        jurisdiction_name: super::division_name(jurisdiction),
        made_on,
        sheets,
    })
}

impl MonthlyTables {
    /// The file name: `专项整治进展情况汇总表_重庆市_500000_2024-05.xlsx`.
    pub fn file_name(&self) -> String {
        format!(
            "专项整治进展情况汇总表_{}_{}_{}.xlsx",
            self.jurisdiction_name, self.jurisdiction, self.month
        )
    }

    /// The workbook: one sheet per table, headings merged as in the notice.
    pub fn to_xlsx(&self) -> anyhow::Result<Vec<u8>> {
        let f = Formats::new();
        let mut book = Workbook::new();
        for sheet in &self.sheets {
            let kind = sheet.kind;
            let ws = book.add_worksheet();
            ws.set_name(kind.sheet_name()).map_err(xlsx_error)?;
            let last = kind.width() as u16 - 1;
            ws.write(0, 0, kind.attachment()).map_err(xlsx_error)?;
            ws.merge_range(1, 0, 1, last, kind.title(), &f.title)
                .map_err(xlsx_error)?;
            ws.set_row_height(1, 30).map_err(xlsx_error)?;
            let quarter = (last + 1) / 4;
            for (i, text) in [
                format!("填表单位：{}应急管理局", self.jurisdiction_name),
                "填表人：".to_string(),
                "联系电话：".to_string(),
                format!("填表时间：{}", self.made_on.format("%Y年%-m月%-d日")),
            ]
            .iter()
            .enumerate()
            {
                ws.write(2, quarter * i as u16, text.as_str())
                    .map_err(xlsx_error)?;
            }
            // Two heading rows: a group over its sub-headings, or one heading spanning both.
            let mut col: u16 = 0;
            for (head, subs) in kind.groups() {
                if subs.is_empty() {
                    ws.merge_range(3, col, 4, col, head, &f.head)
                        .map_err(xlsx_error)?;
                    col += 1;
                    continue;
                }
                let end = col + subs.len() as u16 - 1;
                if end > col {
                    ws.merge_range(3, col, 3, end, head, &f.head)
                        .map_err(xlsx_error)?;
                } else {
                    ws.write_with_format(3, col, *head, &f.head)
                        .map_err(xlsx_error)?;
                }
                for (i, sub) in subs.iter().enumerate() {
                    ws.write_with_format(4, col + i as u16, *sub, &f.head)
                        .map_err(xlsx_error)?;
                }
                col = end + 1;
            }
            ws.set_row_height(4, 96).map_err(xlsx_error)?;
            ws.set_column_width(0, 6).map_err(xlsx_error)?;
            ws.set_column_range_width(1, last, 11).map_err(xlsx_error)?;
            if kind != Kind::Production {
                ws.set_column_width(1, 28).map_err(xlsx_error)?;
            }
            let mut r: u32 = 5;
            for row in sheet.rows.iter().chain([&sheet.total]) {
                for (c, cell) in row.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Empty => ws.write_blank(r, c, &f.cell),
                        Cell::Text(t) => ws.write_string_with_format(r, c, t, &f.cell),
                        Cell::Number(n) => ws.write_number_with_format(r, c, *n, &f.number),
                    }
                    .map_err(xlsx_error)?;
                }
                r += 1;
            }
            r += 1;
            ws.write(r, 0, "填写说明：").map_err(xlsx_error)?;
            for line in kind
                .notes()
                .iter()
                .map(|s| s.to_string())
                .chain(sheet.notes.iter().cloned())
            {
                r += 1;
                ws.merge_range(r, 0, r, last, &line, &f.note)
                    .map_err(xlsx_error)?;
                ws.set_row_height(r, 32).map_err(xlsx_error)?;
            }
        }
        book.save_to_buffer().map_err(xlsx_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_the_notice() {
        // Each data row of the notice has 17, 17 and 13 cells.
        assert_eq!(Kind::Training.width(), 17);
        assert_eq!(Kind::Exam.width(), 17);
        assert_eq!(Kind::Production.width(), 13);
    }

    fn step(step: &str, data: serde_json::Value) -> StepFact {
        StepFact {
            case_id: 1,
            step: step.into(),
            at: "2024-05-10T00:00:00.000Z".into(),
            data,
        }
    }

    #[test]
    fn a_case_counts_its_categories_actions_and_rectification() {
        let mut row = crate::scope::tests::case("500000", Some("500101"));
        row.subject_kind = "exam_institution".into();
        row.categories = vec!["E5".into(), "E2".into(), "X".into()];
        let case = CaseFact {
            row,
            deadlines: serde_json::Value::Null,
        };
        let found = step(
            "record_finding",
            serde_json::json!({"finding": "部分属实", "text": "考场未安排监考人员"}),
        );
        let acted = step(
            "record_actions",
            serde_json::json!({"actions": [{"kind": "暂停考试资格"}, {"kind": "限期改正"}]}),
        );
        let r = case_result(Kind::Exam, &case, &[&found, &acted]);
        assert_eq!(r.problems, vec![4, 1]);
        assert_eq!(r.level, Some("市级"));
        assert_eq!(r.rectification.as_deref(), Some("未整改"));
        let mut row = RowSum::new(Kind::Exam, "某考点".into());
        row.add(Kind::Exam, "某考点", &r);
        let cells = cells(Kind::Exam, Cell::Number(1.0), &row, true);
        assert_eq!(cells.len(), 17);
        assert_eq!(cells[8], Cell::Number(1.0), "未安排监考");
        assert_eq!(cells[5], Cell::Number(1.0), "从事培训活动");
        assert_eq!(cells[12], Cell::Text("市级".into()));
        assert_eq!(cells[13], Cell::Text("√".into()));
        assert_eq!(cells[15], Cell::Text("暂停".into()));
        assert_eq!(cells[16], Cell::Text("未整改".into()));
        let not_true = step(
            "record_finding",
            serde_json::json!({"finding": "不属实", "text": "经查不属实"}),
        );
        assert!(case_result(Kind::Exam, &case, &[&not_true])
            .problems
            .is_empty());
    }
}
