//! Statistics and the monthly tables over HTTP: `GET /api/v1/stats` (JSON, XLSX or SVG) and
//! `GET /api/v1/reports/monthly.xlsx`. The shapes of the JSON live here, not in `crate::stats`.

use super::api::{query_params, scope_of};
use super::{ApiError, AuthUser};
use crate::app::App;
use crate::stats::{self, StatsError, StatsQuery, StatsRow, StatsTable};
use crate::store::Role;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/stats", web::get().to(get_stats)).route(
        "/api/v1/reports/monthly.xlsx",
        web::get().to(monthly_tables),
    );
}

impl From<StatsError> for ApiError {
    fn from(e: StatsError) -> ApiError {
        match &e {
            StatsError::BadQuery { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                e.code(),
                e.message_zh(),
                e.to_string(),
            ),
            StatsError::OutOfScope(_) => ApiError::not_found("辖区"),
            StatsError::Internal(inner) => ApiError::internal(inner),
        }
    }
}

#[derive(Debug, serde::Deserialize)]
struct StatsParams {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    jurisdiction: Option<String>,
    /// `json` (default), `xlsx` or `svg`; an `Accept` of the XLSX type also gives XLSX.
    format: Option<String>,
}

pub(super) fn beijing_today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive()
}

fn rate(r: Option<f64>) -> serde_json::Value {
    // Four decimals: a rate is read as a percentage with two.
    r.map_or(serde_json::Value::Null, |v| {
        serde_json::json!((v * 10_000.0).round() / 10_000.0)
    })
}

fn row_json(row: &StatsRow) -> serde_json::Value {
    let c = &row.counts;
    serde_json::json!({
        "key": row.key,
        "label": row.label,
        "reports": c.reports,
        "repeat_reports": c.repeat_reports,
        "cases": c.cases,
        "sign_for_due": c.sign_for_due,
        "signed_on_time": c.signed_on_time,
        "close_due": c.close_due,
        "closed_on_time": c.closed_on_time,
        "findings": c.findings,
        "findings_true": c.findings_true,
        "sign_on_time_rate": rate(c.sign_on_time_rate()),
        "close_on_time_rate": rate(c.close_on_time_rate()),
        "true_rate": rate(c.true_rate()),
        "repeat_rate": rate(c.repeat_rate()),
        "previous_reports": row.previous_reports,
        "trend": rate(row.trend()),
    })
}

fn table_json(t: &StatsTable) -> serde_json::Value {
    serde_json::json!({
        "by": t.by.code(),
        "jurisdiction": t.jurisdiction,
        "jurisdiction_name": t.jurisdiction_name,
        "from": t.period.from.to_string(),
        "to": t.period.to.to_string(),
        "previous": {"from": t.previous.from.to_string(), "to": t.previous.to.to_string()},
        "rows": t.rows.iter().map(row_json).collect::<Vec<_>>(),
        "total": row_json(&t.total),
    })
}

fn xlsx_response(bytes: Vec<u8>, file_name: &str) -> HttpResponse {
    // RFC 6266/5987: an ASCII fallback and the UTF-8 name.
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HttpResponse::Ok()
        .content_type(stats::auto::XLSX_TYPE)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"report.xlsx\"; filename*=UTF-8''{encoded}"),
        ))
        .body(bytes)
}

/// Statistics of the user's subtree.
async fn get_stats(
    app: web::Data<App>,
    user: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = query_params::<StatsParams>(&req)?;
    let query = StatsQuery::parse(
        p.by.as_deref(),
        p.from.as_deref(),
        p.to.as_deref(),
        p.jurisdiction.as_deref(),
        beijing_today(),
    )?;
    let wants_xlsx = req
        .headers()
        .get("Accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(stats::auto::XLSX_TYPE));
    let format = match p.format.as_deref().map(str::trim) {
        None | Some("") if wants_xlsx => "xlsx",
        None | Some("") | Some("json") => "json",
        Some("xlsx") => "xlsx",
        Some("svg") => "svg",
        Some(other) => {
            return Err(StatsError::BadQuery {
                field: "format",
                why: format!("{other:?} is not json, xlsx or svg"),
                zh: format!("“{other}”不是 json、xlsx 或 svg"),
            }
            .into())
        }
    };
    let table = stats_table(&app, &user, &query).await?;
    Ok(match format {
        "xlsx" => {
            let bytes = stats::stats_xlsx(&table).map_err(|e| ApiError::internal(&e))?;
            let name = format!(
                "举报受理统计_{}_{}_{}至{}.xlsx",
                table.jurisdiction_name,
                table.by.code(),
                table.period.from,
                table.period.to
            );
            xlsx_response(bytes, &name)
        }
        "svg" => HttpResponse::Ok()
            .content_type("image/svg+xml; charset=utf-8")
            .body(stats::svg_chart(&table)),
        _ => HttpResponse::Ok().json(table_json(&table)),
    })
}

/// The statistics table of a query in the user's subtree (the API's and the page's one path);
/// a jurisdiction outside it is not found.
pub(super) async fn stats_table(
    app: &App,
    user: &AuthUser,
    query: &StatsQuery,
) -> Result<StatsTable, ApiError> {
    let scope = scope_of(app, user);
    Ok(stats::compute(
        &app.store,
        &scope,
        app.config.triage.home.as_deref(),
        query,
        chrono::Utc::now(),
    )
    .await?)
}

#[derive(Debug, serde::Deserialize)]
struct MonthlyParams {
    month: Option<String>,
    jurisdiction: Option<String>,
}

/// The monthly progress tables of a jurisdiction (leaders and administrators, in their subtree).
async fn monthly_tables(
    app: web::Data<App>,
    user: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !matches!(user.0.role, Role::Leader | Role::Admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_entitled",
            "只有领导和管理员可以下载月度汇总表",
            "only leaders and administrators may download the monthly tables",
        ));
    }
    let p = query_params::<MonthlyParams>(&req)?;
    let month = match p.month.as_deref().filter(|m| !m.trim().is_empty()) {
        Some(m) => stats::Month::parse(m)?,
        None => stats::Month::of(beijing_today()).prev(),
    };
    let scope = scope_of(&app, &user);
    let jurisdiction = p
        .jurisdiction
        .filter(|j| !j.trim().is_empty())
        .unwrap_or_else(|| user.0.jurisdiction.clone());
    let jurisdiction = jurisdiction.trim();
    // A division of the gazetteer, or a development zone the deployment declares (its own bureau).
    let zones = &app.config.triage.zones;
    let known = triage::Gazetteer::get().lookup(jurisdiction).is_some()
        || zones.iter().any(|z| z.code == jurisdiction);
    if jurisdiction.len() != 6 || !known {
        return Err(StatsError::BadQuery {
            field: "jurisdiction",
            why: format!("{jurisdiction:?} is not a known 6-digit division code"),
            zh: format!("“{jurisdiction}”不是有效的6位行政区划代码"),
        }
        .into());
    }
    if !scope.covers(jurisdiction) {
        return Err(ApiError::not_found("辖区"));
    }
    let tables = stats::monthly::build(
        &app.store,
        jurisdiction,
        app.config.triage.home.as_deref(),
        month,
        beijing_today(),
    )
    .await?;
    let bytes = tables.to_xlsx().map_err(|e| ApiError::internal(&e))?;
    Ok(xlsx_response(bytes, &tables.file_name()))
}
