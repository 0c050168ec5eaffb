//! The admin pages at `/admin` (admin role only; others get the 403 page): users of the admin's
//! subtree (add with a password, change role and jurisdiction, aliases for conflict of interest),
//! API tokens (issued and shown once, listed, revoked), the zones and referral contacts as
//! configured, the audit log (paged, filtered by actor and action) and the exclusions for conflict
//! of interest. Every change goes through the store functions the CLI uses and is audited.

use super::staff::{Staff, StaffError, StaffLayout, StaffPost};
use super::{render, shanghai_time};
use crate::app::App;
use crate::scope::Scope;
use crate::store::{Role, User};
use crate::web::api::scope_of;
use crate::web::ApiError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

/// Registers the admin pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(admin_page))
        .route("/admin/users", web::post().to(add_user))
        .route("/admin/users/role", web::post().to(change_role))
        .route("/admin/users/aliases", web::post().to(add_aliases))
        .route("/admin/tokens", web::post().to(issue_token))
        .route("/admin/tokens/revoke", web::post().to(revoke_token));
}

const PAGE: i64 = 50;

fn require_admin(user: &User) -> Result<(), ApiError> {
    if user.role == Role::Admin {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "只有系统管理员可以进入系统管理",
        "only administrators may use the admin pages",
    ))
}

fn internal(e: anyhow::Error) -> ApiError {
    ApiError::internal(&e)
}

struct Tab {
    key: &'static str,
    label: &'static str,
}

const TABS: &[Tab] = &[
    Tab {
        key: "users",
        label: "用户",
    },
    Tab {
        key: "tokens",
        label: "接口令牌",
    },
    Tab {
        key: "zones",
        label: "功能区与移送联系",
    },
    Tab {
        key: "audit",
        label: "审计日志",
    },
    Tab {
        key: "exclusions",
        label: "回避记录",
    },
];

struct UserView {
    name: String,
    role_code: &'static str,
    role: &'static str,
    jurisdiction: String,
    jurisdiction_name: String,
    created: String,
    disabled: bool,
    aliases: String,
}

struct TokenView {
    id: i64,
    user: String,
    created: String,
    revoked: String,
}

struct ZoneView {
    code: String,
    name: String,
    aliases: String,
    area: String,
}

struct ContactView {
    code: String,
    place: String,
    emergency_management: String,
    market_regulation: String,
    public_security: String,
    contact: String,
    emails: String,
}

struct AuditView {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    reason: String,
    detail: String,
}

struct ExclusionView {
    case_id: i64,
    case_no: String,
    user: String,
    matched: String,
    at: String,
}

struct RoleOption {
    code: &'static str,
    label: &'static str,
}

const ROLES: &[RoleOption] = &[
    RoleOption {
        code: "operator",
        label: "话务员",
    },
    RoleOption {
        code: "officer",
        label: "承办人",
    },
    RoleOption {
        code: "leader",
        label: "领导",
    },
    RoleOption {
        code: "admin",
        label: "管理员",
    },
];

#[derive(Debug, Default, serde::Deserialize)]
struct AdminQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    page: i64,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: StaffLayout,
    tab: &'static str,
    tabs: &'static [Tab],
    roles: &'static [RoleOption],
    notice: String,
    token: String,
    errors: Vec<String>,
    users: Vec<UserView>,
    tokens: Vec<TokenView>,
    zones: Vec<ZoneView>,
    contacts: Vec<ContactView>,
    home: String,
    audit: Vec<AuditView>,
    actions: Vec<String>,
    actor: String,
    action: String,
    page: i64,
    more: bool,
    exclusions: Vec<ExclusionView>,
}

impl AdminPage {
    /// The query string of another audit page with the same filters.
    fn audit_link(&self, page: i64) -> String {
        serde_urlencoded::to_string([
            ("tab", "audit".to_string()),
            ("actor", self.actor.clone()),
            ("action", self.action.clone()),
            ("page", page.to_string()),
        ])
        .unwrap_or_default()
    }
}

fn place_name(app: &App, code: &str) -> String {
    crate::web::session::jurisdiction_name(app, code).unwrap_or_default()
}

/// What a page after a change says.
#[derive(Default)]
struct Outcome {
    notice: String,
    token: String,
    errors: Vec<String>,
}

async fn build(
    app: &App,
    user: &User,
    layout: StaffLayout,
    q: &AdminQuery,
    outcome: Outcome,
) -> Result<AdminPage, ApiError> {
    let scope = Scope::of(user, app.config.triage.home.as_deref());
    let tab = TABS
        .iter()
        .find(|t| t.key == q.tab)
        .map_or("users", |t| t.key);
    let mut page = AdminPage {
        layout,
        tab,
        tabs: TABS,
        roles: ROLES,
        notice: outcome.notice,
        token: outcome.token,
        errors: outcome.errors,
        users: Vec::new(),
        tokens: Vec::new(),
        zones: Vec::new(),
        contacts: Vec::new(),
        home: app
            .config
            .triage
            .home
            .as_deref()
            .map(|h| format!("{h} {}", place_name(app, h)))
            .unwrap_or_else(|| "全国".into()),
        audit: Vec::new(),
        actions: Vec::new(),
        actor: q.actor.trim().to_string(),
        action: q.action.trim().to_string(),
        page: q.page.max(0),
        more: false,
        exclusions: Vec::new(),
    };
    match tab {
        "users" => {
            page.users = app
                .store
                .users_under(&scope.prefix)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|u| UserView {
                    role_code: u.user.role.code(),
                    role: super::staff::role_label(u.user.role),
                    jurisdiction_name: place_name(app, &u.user.jurisdiction),
                    jurisdiction: u.user.jurisdiction,
                    name: u.user.name,
                    created: shanghai_time(&u.created_at),
                    disabled: u.disabled,
                    aliases: u.aliases.join("、"),
                })
                .collect();
        }
        "tokens" => {
            page.tokens = app
                .store
                .tokens_under(&scope.prefix)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|t| TokenView {
                    id: t.id,
                    user: t.user.name,
                    created: shanghai_time(&t.created_at),
                    revoked: t
                        .revoked_at
                        .as_deref()
                        .map(shanghai_time)
                        .unwrap_or_default(),
                })
                .collect();
            page.users = app
                .store
                .users_under(&scope.prefix)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|u| UserView {
                    role_code: u.user.role.code(),
                    role: super::staff::role_label(u.user.role),
                    jurisdiction_name: String::new(),
                    jurisdiction: u.user.jurisdiction,
                    name: u.user.name,
                    created: String::new(),
                    disabled: u.disabled,
                    aliases: String::new(),
                })
                .collect();
        }
        "zones" => {
            let triage = &app.config.triage;
            page.zones = triage
                .zones
                .iter()
                .map(|z| ZoneView {
                    code: z.code.clone(),
                    name: z.name.clone(),
                    aliases: z.aliases.join("、"),
                    area: match &z.county {
                        Some(c) => format!("{c} {}", place_name(app, c)),
                        None => format!("{} 个街道（乡镇）", z.townships.len()),
                    },
                })
                .collect();
            page.contacts = triage
                .contacts
                .iter()
                .map(|(code, c)| {
                    let o = |v: &Option<String>| v.clone().unwrap_or_default();
                    ContactView {
                        place: place_name(app, code),
                        code: code.clone(),
                        emergency_management: o(&c.emergency_management),
                        market_regulation: o(&c.market_regulation),
                        public_security: o(&c.public_security),
                        contact: o(&c.contact),
                        emails: [&c.market_regulation_email, &c.public_security_email]
                            .into_iter()
                            .flatten()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("、"),
                    }
                })
                .collect();
        }
        "audit" => {
            let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
            let mut rows = app
                .store
                .audit_page(
                    some(&page.actor).as_deref(),
                    some(&page.action).as_deref(),
                    page.page * PAGE,
                    PAGE,
                )
                .await
                .map_err(internal)?;
            page.more = rows.len() as i64 > PAGE;
            rows.truncate(PAGE as usize);
            page.audit = rows
                .into_iter()
                .map(|a| AuditView {
                    seq: a.seq,
                    at: shanghai_time(&a.at),
                    actor: a.actor,
                    action: a.action,
                    target: a.target.unwrap_or_default(),
                    reason: a.reason.unwrap_or_default(),
                    detail: if a.detail == "{}" {
                        String::new()
                    } else {
                        a.detail
                    },
                })
                .collect();
            page.actions = app.store.audit_actions().await.map_err(internal)?;
        }
        _ => {
            page.exclusions = app
                .store
                .exclusions_list()
                .await
                .map_err(internal)?
                .into_iter()
                .filter(|(_, case)| scope.sees_case(case))
                .map(|(row, _)| ExclusionView {
                    case_id: row["case_id"].as_i64().unwrap_or_default(),
                    case_no: row["case_no"].as_str().unwrap_or_default().to_string(),
                    user: row["user"].as_str().unwrap_or_default().to_string(),
                    matched: row["matched"].as_str().unwrap_or_default().to_string(),
                    at: shanghai_time(row["at"].as_str().unwrap_or_default()),
                })
                .collect();
        }
    }
    Ok(page)
}

async fn admin_page(
    app: web::Data<App>,
    user: Staff,
    q: web::Query<AdminQuery>,
) -> Result<HttpResponse, StaffError> {
    require_admin(&user.user)?;
    let layout = user.layout(&app, "系统管理", "admin");
    let page = build(&app, &user.user, layout, &q, Outcome::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// The page of a tab after a change (or a refused one).
async fn after(
    app: &App,
    user: &StaffPost,
    tab: &str,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, StaffError> {
    let layout = user.layout(app, "系统管理", "admin");
    let q = AdminQuery {
        tab: tab.to_string(),
        ..AdminQuery::default()
    };
    let page = build(app, &user.user, layout, &q, outcome).await?;
    Ok(render(status, &page))
}

fn refused(message: impl Into<String>) -> Outcome {
    Outcome {
        errors: vec![message.into()],
        ..Outcome::default()
    }
}

fn done(message: impl Into<String>) -> Outcome {
    Outcome {
        notice: message.into(),
        ..Outcome::default()
    }
}

/// A jurisdiction the admin may give: a division code in the admin's subtree.
fn check_jurisdiction(scope: &Scope, code: &str) -> Result<(), String> {
    if code.len() < 2 || code.len() > 12 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err("辖区须是行政区划代码，例如 210300".into());
    }
    if !scope.covers(code) {
        return Err("只能设置本辖区及下级辖区的用户".into());
    }
    Ok(())
}

/// A user of the admin's subtree, by name.
async fn user_in_scope(app: &App, scope: &Scope, name: &str) -> Result<Option<User>, ApiError> {
    Ok(app
        .store
        .user_by_name(name.trim())
        .await
        .map_err(internal)?
        .filter(|u| scope.covers(&u.jurisdiction)))
}

#[derive(Debug, Default, serde::Deserialize)]
struct NewUser {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    aliases: String,
}

fn split_aliases(raw: &str) -> Vec<String> {
    raw.split([',', '，', '、', ';', '；', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

async fn add_user(
    app: web::Data<App>,
    user: StaffPost,
    form: web::Form<NewUser>,
) -> Result<HttpResponse, StaffError> {
    require_admin(&user.user)?;
    let scope = scope_of(&app, &user.auth());
    let f = form.into_inner();
    let name = f.name.trim();
    let jurisdiction = f.jurisdiction.trim();
    let bad = |m: String| after(&app, &user, "users", StatusCode::BAD_REQUEST, refused(m));
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return bad("请填写用户名（不超过 64 个字符）".into()).await;
    }
    let Ok(role) = f.role.parse::<Role>() else {
        return bad("请选择角色".into()).await;
    };
    if let Err(m) = check_jurisdiction(&scope, jurisdiction) {
        return bad(m).await;
    }
    if f.password.chars().count() < 8 {
        return bad("密码至少 8 个字符".into()).await;
    }
    let aliases = match crate::cli::users::clean_aliases(&split_aliases(&f.aliases)) {
        Ok(a) => a,
        Err(_) => return bad("别名太短：至少 2 个汉字或 3 个字母".into()).await,
    };
    let id = match app
        .store
        .add_user(name, role, jurisdiction, &f.password)
        .await
    {
        Ok(id) => id,
        Err(_) => return bad(format!("无法添加用户“{name}”（是否已存在？）")).await,
    };
    if !aliases.is_empty() {
        app.store
            .add_aliases(name, &aliases)
            .await
            .map_err(internal)?;
    }
    let excluded = app
        .store
        .backfill_exclusions(id, app.config.triage.home.as_deref())
        .await
        .map_err(internal)?;
    app.store
        .audit(
            &user.user.name,
            "user_add",
            Some(name),
            None,
            serde_json::json!({"id": id, "role": role.code(), "jurisdiction": jurisdiction,
                "aliases": aliases, "excluded_cases": excluded}),
        )
        .await
        .map_err(internal)?;
    after(
        &app,
        &user,
        "users",
        StatusCode::CREATED,
        done(format!("已添加用户“{name}”")),
    )
    .await
}

#[derive(Debug, Default, serde::Deserialize)]
struct RoleChange {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    jurisdiction: String,
}

async fn change_role(
    app: web::Data<App>,
    user: StaffPost,
    form: web::Form<RoleChange>,
) -> Result<HttpResponse, StaffError> {
    require_admin(&user.user)?;
    let scope = scope_of(&app, &user.auth());
    let f = form.into_inner();
    let bad = |m: String| after(&app, &user, "users", StatusCode::BAD_REQUEST, refused(m));
    let Some(target) = user_in_scope(&app, &scope, &f.name).await? else {
        return bad("本辖区没有这个用户".into()).await;
    };
    let Ok(role) = f.role.parse::<Role>() else {
        return bad("请选择角色".into()).await;
    };
    let jurisdiction = f.jurisdiction.trim();
    if let Err(m) = check_jurisdiction(&scope, jurisdiction) {
        return bad(m).await;
    }
    if target.id == user.user.id && role != Role::Admin {
        return bad("不能取消自己的管理员角色".into()).await;
    }
    app.store
        .set_user_role(target.id, role, jurisdiction)
        .await
        .map_err(internal)?;
    app.store
        .audit(
            &user.user.name,
            "user_change",
            Some(&target.name),
            None,
            serde_json::json!({"from": {"role": target.role.code(), "jurisdiction": target.jurisdiction},
                "to": {"role": role.code(), "jurisdiction": jurisdiction}}),
        )
        .await
        .map_err(internal)?;
    after(
        &app,
        &user,
        "users",
        StatusCode::OK,
        done(format!("已修改用户“{}”的角色和辖区", target.name)),
    )
    .await
}

#[derive(Debug, Default, serde::Deserialize)]
struct AliasForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    aliases: String,
}

async fn add_aliases(
    app: web::Data<App>,
    user: StaffPost,
    form: web::Form<AliasForm>,
) -> Result<HttpResponse, StaffError> {
    require_admin(&user.user)?;
    let scope = scope_of(&app, &user.auth());
    let f = form.into_inner();
    let bad = |m: String| after(&app, &user, "users", StatusCode::BAD_REQUEST, refused(m));
    let Some(target) = user_in_scope(&app, &scope, &f.name).await? else {
        return bad("本辖区没有这个用户".into()).await;
    };
    let aliases = match crate::cli::users::clean_aliases(&split_aliases(&f.aliases)) {
        Ok(a) if !a.is_empty() => a,
        _ => return bad("请填写别名：每个至少 2 个汉字或 3 个字母".into()).await,
    };
    app.store
        .add_aliases(&target.name, &aliases)
        .await
        .map_err(internal)?;
    let excluded = app
        .store
        .backfill_exclusions(target.id, app.config.triage.home.as_deref())
        .await
        .map_err(internal)?;
    app.store
        .audit(
            &user.user.name,
            "user_aliases",
            Some(&target.name),
            None,
            serde_json::json!({"aliases": aliases, "excluded_cases": excluded}),
        )
        .await
        .map_err(internal)?;
    after(
        &app,
        &user,
        "users",
        StatusCode::OK,
        done(format!(
            "已为“{}”添加别名；新回避 {excluded} 件案件",
            target.name
        )),
    )
    .await
}

#[derive(Debug, Default, serde::Deserialize)]
struct TokenForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    id: String,
}

async fn issue_token(
    app: web::Data<App>,
    user: StaffPost,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, StaffError> {
    require_admin(&user.user)?;
    let scope = scope_of(&app, &user.auth());
    let Some(target) = user_in_scope(&app, &scope, &form.user).await? else {
        return after(
            &app,
            &user,
            "tokens",
            StatusCode::BAD_REQUEST,
            refused("本辖区没有这个用户"),
        )
        .await;
    };
    let token = app.store.add_token(&target.name).await.map_err(internal)?;
    app.store
        .audit(
            &user.user.name,
            "token_add",
            Some(&target.name),
            None,
            serde_json::json!({}),
        )
        .await
        .map_err(internal)?;
    let outcome = Outcome {
        notice: format!("已为“{}”签发接口令牌", target.name),
        token,
        errors: Vec::new(),
    };
    after(&app, &user, "tokens", StatusCode::CREATED, outcome).await
}

async fn revoke_token(
    app: web::Data<App>,
    user: StaffPost,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, StaffError> {
    require_admin(&user.user)?;
    let scope = scope_of(&app, &user.auth());
    let id: i64 = form.id.trim().parse().unwrap_or(-1);
    let token = app
        .store
        .tokens_under(&scope.prefix)
        .await
        .map_err(internal)?
        .into_iter()
        .find(|t| t.id == id);
    let Some(token) = token else {
        return after(
            &app,
            &user,
            "tokens",
            StatusCode::BAD_REQUEST,
            refused("没有这个令牌"),
        )
        .await;
    };
    let revoked = app.store.revoke_token(id).await.map_err(internal)?;
    if revoked {
        app.store
            .audit(
                &user.user.name,
                "token_revoke",
                Some(&token.user.name),
                None,
                serde_json::json!({"token_id": id}),
            )
            .await
            .map_err(internal)?;
    }
    let message = if revoked {
        format!("已吊销“{}”的令牌 #{id}", token.user.name)
    } else {
        format!("令牌 #{id} 此前已吊销")
    };
    after(&app, &user, "tokens", StatusCode::OK, done(message)).await
}
