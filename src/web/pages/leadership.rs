//! Leadership pages (issue 9): `/search` over the case history of the user's subtree (facets as
//! filters, highlighted snippets, sort, date range, paging), `/subjects/{key}` (a subject's
//! history) and `/stats` (the statistics table, its charts as server-drawn SVG with their numbers
//! as XLSX, and the monthly 渝考发 附件2–4 tables to download).
//!
//! Each page runs the API's own code (`api::run_search`, `api::subject_in_scope`,
//! `stats::stats_table`), so it shows exactly what the API shows the user, searches are audited
//! the same way, and out of scope is the 404 page. Nothing here reads reporter identity: the
//! search index has no field for it and the subject history carries none.

use super::render;
use super::shanghai_time;
use super::staff::{Staff, StaffError, StaffLayout};
use crate::app::App;
use crate::cli::search::Filters;
use crate::stats::{Dimension, StatsError, StatsQuery, StatsRow, StatsTable};
use crate::store::Role;
use crate::web::api::{run_search, subject_in_scope};
use crate::web::stats::{beijing_today, stats_table};
use crate::web::ApiError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

/// Hits per page.
const PAGE_SIZE: usize = 20;
/// Facet values shown per field (most frequent first).
const FACET_VALUES: usize = 12;

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/search", web::get().to(search_page))
        .route("/subjects/{key}", web::get().to(subject_page))
        .route("/stats", web::get().to(stats_page));
}

// ---------------------------------------------------------------------------------------------
// Shared bits

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters).
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string from the non-empty pairs, in order.
fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// `/path?query`, or `/path` when the query is empty.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

fn label_of<T: std::str::FromStr>(code: &str, label: fn(T) -> &'static str) -> String {
    code.parse::<T>()
        .map_or_else(|_| code.to_string(), |v| label(v).to_string())
}

fn kind_label(code: &str) -> String {
    label_of::<intake::SubjectKind>(code, intake::SubjectKind::label)
}

fn channel_label(code: &str) -> String {
    label_of::<intake::Channel>(code, intake::Channel::label)
}

fn category_label(code: &str) -> String {
    match code.parse::<intake::Category>() {
        Ok(c) => format!("{} {}", c.code(), c.label()),
        Err(_) => code.to_string(),
    }
}

fn referral_label(code: &str) -> String {
    label_of::<intake::ReferralKind>(code, intake::ReferralKind::label)
}

/// A division's name as a filter reads it: `铁东区`, `鞍山市`; grouping rows (`市辖区`) by their
/// parent's name; a declared zone by its name.
fn place_label(app: &App, code: &str) -> String {
    if code == "home" {
        return "受理台（未分派）".into();
    }
    if let Some(zone) = app.config.triage.zones.iter().find(|z| z.code == code) {
        return zone.name.clone();
    }
    let g = triage::Gazetteer::get();
    match g.index_of(code) {
        Some(i) => {
            let name = g.division(i).name;
            if matches!(
                name,
                "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
            ) {
                g.short_path(i)
            } else {
                name.to_string()
            }
        }
        None => code.to_string(),
    }
}

/// A count as Chinese reports print it: `12,345`.
fn count_text(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// /search

/// The search page's parameters: every value a string, so that a malformed one is shown back
/// rather than failing the page.
#[derive(Debug, Default, Clone, serde::Deserialize)]
struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    referral: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

/// The filter parameters, in the order of the chips.
const FILTER_PARAMS: [&str; 6] = ["kind", "category", "channel", "state", "referral", "place"];

impl SearchForm {
    fn get(&self, param: &str) -> &str {
        match param {
            "q" => &self.q,
            "kind" => &self.kind,
            "category" => &self.category,
            "channel" => &self.channel,
            "state" => &self.state,
            "referral" => &self.referral,
            "place" => &self.place,
            "from" => &self.from,
            "to" => &self.to,
            "sort" => &self.sort,
            "page" => &self.page,
            _ => "",
        }
    }

    fn page(&self) -> usize {
        self.page.trim().parse::<usize>().unwrap_or(1).max(1)
    }

    fn filters(&self) -> Filters {
        let some = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        Filters {
            place: some(&self.place),
            category: some(&self.category),
            kind: some(&self.kind),
            channel: some(&self.channel),
            state: some(&self.state),
            referral: some(&self.referral),
            from: some(&self.from),
            to: some(&self.to),
            sort: some(&self.sort),
        }
    }

    /// This search's address with `changes` applied (an empty value removes the parameter);
    /// back to the first page unless the change names a page.
    fn href(&self, changes: &[(&str, &str)]) -> String {
        let names = [
            "q", "kind", "category", "channel", "state", "referral", "place", "from", "to", "sort",
            "page",
        ];
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .map(|&n| {
                let v = changes
                    .iter()
                    .find(|(c, _)| *c == n)
                    .map(|(_, v)| *v)
                    .unwrap_or(if n == "page" { "" } else { self.get(n) });
                (n, v)
            })
            .collect();
        with_query("/search", &query_string(&pairs))
    }
}

/// A run of snippet text, highlighted or not.
struct Segment {
    text: String,
    mark: bool,
}

/// Splits the index's snippet (HTML-escaped, matches in `<b>…</b>`) into plain-text runs for
/// the template to escape again. The index escapes every `<` of the report's text, so a `<b>`
/// here can only be the index's own mark.
fn segments(snippet: &str) -> Vec<Segment> {
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
    let mut out = Vec::new();
    let mut rest = snippet;
    while let Some(start) = rest.find("<b>") {
        if start > 0 {
            out.push(Segment {
                text: unescape(&rest[..start]),
                mark: false,
            });
        }
        let after = &rest[start + 3..];
        let end = after.find("</b>").unwrap_or(after.len());
        out.push(Segment {
            text: unescape(&after[..end]),
            mark: true,
        });
        rest = after.get(end + 4..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push(Segment {
            text: unescape(rest),
            mark: false,
        });
    }
    out
}

struct FacetValue {
    label: String,
    count: String,
    href: String,
    active: bool,
}

struct FacetGroup {
    id: &'static str,
    title: &'static str,
    values: Vec<FacetValue>,
}

struct Chip {
    label: String,
    href: String,
}

struct HitView {
    case_href: String,
    case_no: String,
    state: String,
    received: String,
    channel: String,
    title: Option<String>,
    snippet: Vec<Segment>,
    subject_name: Option<String>,
    subject_href: Option<String>,
    kind: String,
    categories: Vec<String>,
    place: String,
}

struct PageLink {
    label: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: StaffLayout,
    form: SearchForm,
    /// Hidden inputs keeping the active filters when the box is submitted again.
    hidden: Vec<(&'static str, String)>,
    chips: Vec<Chip>,
    clear_href: String,
    facets: Vec<FacetGroup>,
    hits: Vec<HitView>,
    total: String,
    total_n: usize,
    first: usize,
    last: usize,
    pages: Vec<PageLink>,
    prev: Option<String>,
    next: Option<String>,
    error: Option<ApiError>,
    searched: bool,
}

/// The facet fields as the page shows them, with the parameter each one sets.
const FACETS: [(&str, &str, &str); 7] = [
    ("subject_kind", "kind", "对象类型"),
    ("category", "category", "问题类别"),
    ("channel", "channel", "举报渠道"),
    ("case_state", "state", "办理状态"),
    ("referral", "referral", "移送"),
    ("prefecture", "place", "地市"),
    ("county", "place", "区县"),
];

fn value_label(app: &App, param: &str, code: &str) -> String {
    match param {
        "kind" => kind_label(code),
        "category" => category_label(code),
        "channel" => channel_label(code),
        "state" => crate::casework::state_label(code).to_string(),
        "referral" => referral_label(code),
        "place" => place_label(app, code),
        _ => code.to_string(),
    }
}

fn param_title(param: &str) -> &'static str {
    match param {
        "kind" => "对象类型",
        "category" => "问题类别",
        "channel" => "渠道",
        "state" => "状态",
        "referral" => "移送",
        "place" => "地区",
        _ => "",
    }
}

async fn search_page(
    app: web::Data<App>,
    staff: Staff,
    req: HttpRequest,
) -> Result<HttpResponse, StaffError> {
    let mut form = web::Query::<SearchForm>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let page = form.page();
    let offset = (page - 1) * PAGE_SIZE;
    // The first visit (nothing asked) lists the newest reports; every visit is a search, audited.
    let searched = !req.query_string().is_empty();
    let outcome = if offset > search::MAX_OFFSET {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "页码过大，请缩小检索范围",
            "page beyond the last one that can be read",
        ))
    } else {
        if !searched {
            form.sort = "newest".into();
        }
        run_search(
            &app,
            &staff.auth(),
            &form.q,
            &form.filters(),
            offset,
            PAGE_SIZE,
        )
        .await
    };
    let (results, error) = match outcome {
        Ok(r) => (r, None),
        Err(e) if e.status() == StatusCode::BAD_REQUEST => {
            (search::SearchResults::default(), Some(e))
        }
        Err(e) => return Err(e.into()),
    };

    let hidden = FILTER_PARAMS
        .iter()
        .filter(|p| !form.get(p).trim().is_empty())
        .map(|&p| (p, form.get(p).to_string()))
        .collect();
    let chips = FILTER_PARAMS
        .iter()
        .filter(|p| !form.get(p).trim().is_empty())
        .map(|&p| Chip {
            label: format!(
                "{}：{}",
                param_title(p),
                value_label(&app, p, form.get(p).trim())
            ),
            href: form.href(&[(p, "")]),
        })
        .collect();
    let clear: Vec<(&str, &str)> = FILTER_PARAMS.iter().map(|&p| (p, "")).collect();
    let clear_href = form.href(&clear);

    let facets = FACETS
        .iter()
        .filter_map(|&(field, param, title)| {
            let counts = results.facets.get(field)?;
            let values: Vec<FacetValue> = counts
                .iter()
                .filter(|(v, _)| !v.is_empty())
                .take(FACET_VALUES)
                .map(|(value, count)| {
                    let active = form.get(param).trim() == value;
                    FacetValue {
                        label: value_label(&app, param, value),
                        count: count_text(*count),
                        // A click on the active value removes it again.
                        href: form.href(&[(param, if active { "" } else { value.as_str() })]),
                        active,
                    }
                })
                .collect();
            (!values.is_empty()).then_some(FacetGroup {
                id: field,
                title,
                values,
            })
        })
        .collect();

    let hits = results
        .hits
        .iter()
        .map(|h| HitView {
            case_href: format!("/cases/{}", h.case_id),
            case_no: h.case_no.clone(),
            state: crate::casework::state_label(&h.case_state).to_string(),
            received: shanghai_time(&h.received_at.to_rfc3339()),
            channel: channel_label(&h.channel),
            title: h.title.clone().filter(|t| !t.trim().is_empty()),
            snippet: segments(&h.snippet),
            subject_href: h
                .subject_name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(|n| format!("/subjects/{}", path_segment(n))),
            subject_name: h.subject_name.clone().filter(|n| !n.trim().is_empty()),
            kind: kind_label(&h.subject_kind),
            categories: h.categories.iter().map(|c| category_label(c)).collect(),
            place: h
                .locus
                .as_deref()
                .map(|l| session_place(&app, l))
                .unwrap_or_default(),
        })
        .collect();

    let total = results.total;
    let last_page = total.div_ceil(PAGE_SIZE).max(1);
    let window_start = page.saturating_sub(3).max(1);
    let window_end = (window_start + 6).min(last_page);
    let pages = (window_start..=window_end)
        .map(|n| PageLink {
            label: n.to_string(),
            href: form.href(&[("page", &n.to_string())]),
            current: n == page,
        })
        .collect();
    let prev = (page > 1).then(|| form.href(&[("page", &(page - 1).to_string())]));
    let next = (page < last_page).then(|| form.href(&[("page", &(page + 1).to_string())]));
    let first = if total == 0 { 0 } else { offset + 1 };
    let last = (offset + results.hits.len()).min(total);

    let layout = staff.layout(&app, "案件检索", "search");
    let status = error.as_ref().map_or(StatusCode::OK, ApiError::status);
    Ok(render(
        status,
        &SearchPage {
            layout,
            form,
            hidden,
            chips,
            clear_href,
            facets,
            hits,
            total: count_text(total as u64),
            total_n: total,
            first,
            last,
            pages,
            prev,
            next,
            error,
            searched,
        },
    ))
}

/// A county's place as the results show it: `辽宁省鞍山市铁东区`.
fn session_place(app: &App, code: &str) -> String {
    crate::web::session::jurisdiction_name(app, code).unwrap_or_else(|| code.to_string())
}

// ---------------------------------------------------------------------------------------------
// /subjects/{key}

struct SubjectCase {
    href: String,
    case_no: String,
    state: String,
    finding: Option<String>,
    finding_text: Option<String>,
    finding_at: Option<String>,
    reports: usize,
}

struct SubjectReport {
    received: String,
    channel: String,
    case_href: String,
    case_no: String,
    state: String,
}

#[derive(Template)]
#[template(path = "subject.html")]
struct SubjectPage {
    layout: StaffLayout,
    name: String,
    kind: String,
    place: String,
    first_seen: String,
    last_seen: String,
    report_count: u64,
    cases: Vec<SubjectCase>,
    reports: Vec<SubjectReport>,
    search_href: String,
}

async fn subject_page(
    app: web::Data<App>,
    staff: Staff,
    key: web::Path<String>,
) -> Result<HttpResponse, StaffError> {
    let history = subject_in_scope(&app, &staff.auth(), &key).await?;
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let reports_json = history["reports"].as_array().cloned().unwrap_or_default();
    let reports: Vec<SubjectReport> = reports_json
        .iter()
        .map(|r| SubjectReport {
            received: shanghai_time(r["received_at"].as_str().unwrap_or_default()),
            channel: channel_label(r["channel"].as_str().unwrap_or_default()),
            case_href: format!("/cases/{}", r["case_id"].as_i64().unwrap_or_default()),
            case_no: text(&r["case_no"]),
            state: crate::casework::state_label(r["case_state"].as_str().unwrap_or_default())
                .to_string(),
        })
        .collect();
    let cases = history["cases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let finding = &c["finding"];
            SubjectCase {
                href: format!("/cases/{}", c["case_id"].as_i64().unwrap_or_default()),
                case_no: text(&c["case_no"]),
                state: crate::casework::state_label(c["case_state"].as_str().unwrap_or_default())
                    .to_string(),
                finding: finding["finding"].as_str().map(str::to_string),
                finding_text: finding["text"].as_str().map(str::to_string),
                finding_at: finding["at"].as_str().map(shanghai_time),
                reports: reports_json
                    .iter()
                    .filter(|r| r["case_id"] == c["case_id"])
                    .count(),
            }
        })
        .collect();
    // First and last of the reports the user may see (newest first), not of every office's.
    let seen = |r: Option<&serde_json::Value>| {
        r.and_then(|r| r["received_at"].as_str())
            .map(shanghai_time)
            .unwrap_or_default()
    };
    let (first_seen, last_seen) = (seen(reports_json.last()), seen(reports_json.first()));
    let name = text(&history["name"]);
    let layout = staff.layout(&app, format!("举报对象：{name}"), "search");
    Ok(render(
        StatusCode::OK,
        &SubjectPage {
            layout,
            search_href: with_query("/search", &query_string(&[("q", &name)])),
            kind: kind_label(history["kind"].as_str().unwrap_or_default()),
            place: history["locus"]
                .as_str()
                .map(|l| session_place(&app, l))
                .unwrap_or_else(|| "未定位".into()),
            first_seen,
            last_seen,
            report_count: history["report_count"].as_u64().unwrap_or_default(),
            name,
            cases,
            reports,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// /stats

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct StatsForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    jurisdiction: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct RowView {
    label: String,
    href: Option<String>,
    reports: String,
    repeat_reports: String,
    cases: String,
    sign_rate: String,
    close_rate: String,
    true_rate: String,
    repeat_rate: String,
    previous: String,
    trend: String,
    /// `up`, `down` or `flat`, for the trend's colour.
    trend_class: &'static str,
}

struct Chart {
    id: &'static str,
    title: String,
    svg: String,
    xlsx: String,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    layout: StaffLayout,
    from: String,
    to: String,
    dimensions: Vec<Choice>,
    places: Vec<Choice>,
    months: Vec<Choice>,
    monthly: bool,
    error: Option<ApiError>,
    table: Option<TableView>,
    charts: Vec<Chart>,
}

struct TableView {
    title: String,
    dimension: &'static str,
    period: String,
    previous: String,
    rows: Vec<RowView>,
    total: RowView,
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_string(), |v| format!("{:.1}%", v * 100.0))
}

fn row_view(row: &StatsRow, href: Option<String>) -> RowView {
    let c = &row.counts;
    let (trend, trend_class) = match row.trend() {
        None => ("—".to_string(), "flat"),
        Some(t) if t > 0.0 => (format!("↑ {:.1}%", t * 100.0), "up"),
        Some(t) if t < 0.0 => (format!("↓ {:.1}%", -t * 100.0), "down"),
        Some(_) => ("持平".to_string(), "flat"),
    };
    RowView {
        label: row.label.clone(),
        href,
        reports: count_text(c.reports),
        repeat_reports: count_text(c.repeat_reports),
        cases: count_text(c.cases),
        sign_rate: percent(c.sign_on_time_rate()),
        close_rate: percent(c.close_on_time_rate()),
        true_rate: percent(c.true_rate()),
        repeat_rate: percent(c.repeat_rate()),
        previous: count_text(row.previous_reports),
        trend,
        trend_class,
    }
}

fn date_label(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The jurisdictions a user may choose: their own, its child divisions (counties directly under
/// a municipality) and the development zones declared inside it.
fn jurisdiction_choices(app: &App, own: &str) -> Vec<(String, String)> {
    let prefix = crate::scope::subtree_prefix(own);
    let mut out = vec![(own.to_string(), session_place(app, own))];
    let g = triage::Gazetteer::get();
    let municipality = matches!(prefix.as_str(), "11" | "12" | "31" | "50");
    let wanted = match prefix.len() {
        0 => Some(triage::Level::Province),
        2 if municipality => Some(triage::Level::County),
        2 => Some(triage::Level::Prefecture),
        4 => Some(triage::Level::County),
        _ => None,
    };
    if let Some(level) = wanted {
        for i in 0..g.len() as u32 {
            let d = g.division(i);
            if d.level != level || !d.code.starts_with(&prefix) {
                continue;
            }
            let code = format!("{:0<6}", d.code);
            if code == own || crate::scope::subtree_prefix(&code) == prefix {
                continue;
            }
            if level == triage::Level::Prefecture
                && matches!(d.name, "省直辖县级行政区划" | "自治区直辖县级行政区划")
            {
                continue;
            }
            out.push((code.clone(), place_label(app, &code)));
        }
    }
    for z in &app.config.triage.zones {
        if z.code.starts_with(&prefix) && z.code != own {
            out.push((z.code.clone(), z.name.clone()));
        }
    }
    out
}

async fn stats_page(
    app: web::Data<App>,
    staff: Staff,
    req: HttpRequest,
) -> Result<HttpResponse, StaffError> {
    let form = web::Query::<StatsForm>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let user = staff.auth();
    let today = beijing_today();
    let parsed = StatsQuery::parse(
        Some(&form.by),
        Some(&form.from),
        Some(&form.to),
        Some(&form.jurisdiction),
        today,
    );
    let (table, error) = match parsed {
        Ok(query) => match stats_table(&app, &user, &query).await {
            Ok(t) => (Some(t), None),
            Err(e) if e.status() == StatusCode::BAD_REQUEST => (None, Some(e)),
            Err(e) => return Err(e.into()),
        },
        Err(e @ StatsError::BadQuery { .. }) => (None, Some(ApiError::from(e))),
        Err(e) => return Err(ApiError::from(e).into()),
    };

    let chosen_by = table.as_ref().map_or(Dimension::Month, |t| t.by);
    let dimensions = Dimension::ALL
        .iter()
        .map(|d| Choice {
            value: d.code().to_string(),
            label: d.label().to_string(),
            selected: *d == chosen_by,
        })
        .collect();
    let current = table.as_ref().map_or_else(
        || staff.user.jurisdiction.clone(),
        |t| t.jurisdiction.clone(),
    );
    let places: Vec<Choice> = jurisdiction_choices(&app, &staff.user.jurisdiction)
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect();
    // This month so far, then the last 24; the month before this one is chosen (complete).
    let mut month = crate::stats::Month::of(today);
    let mut months = Vec::new();
    for i in 0..25 {
        months.push(Choice {
            value: month.to_string(),
            label: if i == 0 {
                format!("{}（本月至今）", month.label())
            } else {
                month.label()
            },
            selected: i == 1,
        });
        month = month.prev();
    }

    let (from, to) = match &table {
        Some(t) => (
            t.period.from.format("%Y-%m").to_string(),
            t.period.to.format("%Y-%m").to_string(),
        ),
        None => (form.from.clone(), form.to.clone()),
    };
    let whole_months = table.as_ref().is_some_and(|t| {
        t.period.from == crate::stats::Month::of(t.period.from).first_day()
            && t.period.to == crate::stats::Month::of(t.period.to).last_day()
    });
    let charts = match &table {
        Some(t) => charts_of(&app, t, whole_months),
        None => Vec::new(),
    };
    let table = table.map(|t| table_view(&staff, &t));
    let layout = staff.layout(&app, "统计报表", "stats");
    let status = error.as_ref().map_or(StatusCode::OK, ApiError::status);
    Ok(render(
        status,
        &StatsPage {
            layout,
            from,
            to,
            dimensions,
            places,
            months,
            monthly: matches!(staff.user.role, Role::Leader | Role::Admin),
            error,
            table,
            charts,
        },
    ))
}

/// The period as the API takes it: whole months as `2024-05`, else days.
fn period_params(t: &StatsTable, whole_months: bool) -> (String, String) {
    if whole_months {
        (
            t.period.from.format("%Y-%m").to_string(),
            t.period.to.format("%Y-%m").to_string(),
        )
    } else {
        (t.period.from.to_string(), t.period.to.to_string())
    }
}

/// The charts of a table: its own dimension, and the months of the same period when the table
/// is by something else (the trend over time). The table's own chart is drawn from the table the
/// page already computed, inline (statistics are the page's costly part: a chart fetched from the
/// API would compute them again); the months' chart is drawn by the API (`format=svg`). Numbers
/// as XLSX through the API.
fn charts_of(_app: &App, t: &StatsTable, whole_months: bool) -> Vec<Chart> {
    let (from, to) = period_params(t, whole_months);
    let mut dims = vec![t.by];
    if t.by != Dimension::Month {
        dims.push(Dimension::Month);
    }
    dims.into_iter()
        .map(|d| {
            let q = |format: &str| {
                with_query(
                    "/api/v1/stats",
                    &query_string(&[
                        ("from", &from),
                        ("to", &to),
                        ("by", d.code()),
                        ("jurisdiction", &t.jurisdiction),
                        ("format", format),
                    ]),
                )
            };
            let svg = if d == t.by {
                use base64::Engine;
                format!(
                    "data:image/svg+xml;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(crate::stats::svg_chart(t))
                )
            } else {
                q("svg")
            };
            Chart {
                id: d.code(),
                title: format!("受理量（按{}）", d.label()),
                svg,
                xlsx: q("xlsx"),
            }
        })
        .collect()
}

fn table_view(staff: &Staff, t: &StatsTable) -> TableView {
    let scope_prefix = crate::scope::subtree_prefix(&staff.user.jurisdiction);
    let rows = t
        .rows
        .iter()
        .map(|r| {
            // A child jurisdiction's row opens its own table (drill down).
            let href = (t.by == Dimension::Jurisdiction
                && r.key.len() == 6
                && r.key != t.jurisdiction
                && r.key.starts_with(&scope_prefix)
                && r.key.bytes().all(|b| b.is_ascii_digit()))
            .then(|| {
                with_query(
                    "/stats",
                    &query_string(&[
                        ("from", &t.period.from.to_string()),
                        ("to", &t.period.to.to_string()),
                        ("by", "jurisdiction"),
                        ("jurisdiction", &r.key),
                    ]),
                )
            });
            row_view(r, href)
        })
        .collect();
    TableView {
        title: format!("{} 举报受理统计", t.jurisdiction_name),
        dimension: t.by.label(),
        period: format!(
            "{} 至 {}",
            date_label(t.period.from),
            date_label(t.period.to)
        ),
        previous: format!(
            "{} 至 {}",
            date_label(t.previous.from),
            date_label(t.previous.to)
        ),
        rows,
        total: row_view(&t.total, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_become_plain_runs() {
        let s = segments("&lt;script&gt;某<b>包过</b>班 &amp; <b>焊工证</b>…");
        let runs: Vec<(&str, bool)> = s.iter().map(|s| (s.text.as_str(), s.mark)).collect();
        assert_eq!(
            runs,
            [
                ("<script>某", false),
                ("包过", true),
                ("班 & ", false),
                ("焊工证", true),
                ("…", false)
            ]
        );
        assert!(segments("").is_empty());
        // An unclosed mark (cut snippet) keeps its text.
        let s = segments("甲<b>乙");
        assert_eq!((s[1].text.as_str(), s[1].mark), ("乙", true));
    }

    #[test]
    fn addresses_keep_filters_and_drop_the_page() {
        let form = SearchForm {
            q: "包过 班".into(),
            kind: "training_institution".into(),
            page: "3".into(),
            ..SearchForm::default()
        };
        assert_eq!(
            form.href(&[("category", "T4")]),
            "/search?q=%E5%8C%85%E8%BF%87+%E7%8F%AD&kind=training_institution&category=T4"
        );
        assert_eq!(
            form.href(&[("page", "4")]),
            "/search?q=%E5%8C%85%E8%BF%87+%E7%8F%AD&kind=training_institution&page=4"
        );
        assert_eq!(form.href(&[("kind", ""), ("q", "")]), "/search");
        assert_eq!(path_segment("a/b 甲"), "a%2Fb%20%E7%94%B2");
        assert_eq!(count_text(1234567), "1,234,567");
        assert_eq!(count_text(12), "12");
    }
}
