//! The operator's REST routes: creating, listing, suspending and deleting tenants.

use akta_core::model::Quota;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Operator;
use crate::input::ApiJson;
use crate::routes::openapi::Page;
use crate::{ApiError, AppState};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewTenant)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    slug: String,
    name: String,
    reference_format: Option<String>,
    // Onboarding in one call (issue 13), as the console does it; all optional.
    /// A template's name (`GET /api/v1/plan-templates`) for the tenant's Aktenplan.
    plan_template: Option<String>,
    host_name: Option<String>,
    header_name: Option<String>,
    accent_color: Option<String>,
    /// Invites the first admin: the answer carries the one-time link's token.
    admin_email: Option<String>,
}

/// Operator: creates (onboards) a tenant and returns its first admin token, once, and with
/// `admin_email` the invitation's token (link `/einladung/{token}`), once.
#[utoipa::path(
    post,
    path = "/api/v1/tenants",
    tag = "Mandanten",
    summary = "Mandanten anlegen (Betreiber)",
    request_body = NewTenant,
    responses((status = 201, description = "Der neue Mandant mit dem ersten Admin-Token", body = Object))
)]
pub async fn create(
    State(state): State<AppState>,
    Operator(op): Operator,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let onboarded = state
        .core
        .onboard_tenant(
            akta_core::Onboarding {
                slug: body.slug,
                name: body.name,
                reference_format: body.reference_format,
                plan: match body.plan_template {
                    Some(name) => akta_core::PlanSource::Template(name),
                    None => akta_core::PlanSource::None,
                },
                header_name: body.header_name,
                accent_color: body.accent_color,
                logo: None,
                host_name: body.host_name,
                admin_email: body.admin_email,
            },
            &op.actor(),
        )
        .await?;
    let mut out =
        serde_json::to_value(&onboarded.tenant).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["admin_token"] = json!(onboarded.admin_token);
    if let Some(plan) = onboarded.plan {
        out["plan"] = json!(plan);
    }
    if let Some(token) = onboarded.invitation {
        out["invitation_path"] = json!(format!("/einladung/{token}"));
        out["invitation_token"] = json!(token);
    }
    Ok((StatusCode::CREATED, Json(out)))
}

/// Tenants with their usage and quotas: what the operator may see (counts, no content).
#[utoipa::path(
    get,
    path = "/api/v1/tenants",
    tag = "Mandanten",
    summary = "Mandanten auflisten (Betreiber)",
    responses((status = 200, description = "Alle Mandanten mit Status", body = Page))
)]
pub async fn list(State(state): State<AppState>, _: Operator) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = state
        .core
        .tenant_overview()
        .await?
        .into_iter()
        .map(|o| {
            let u = o.usage.as_ref();
            let mut item = json!(o.tenant);
            item["usage"] = json!({
                "storage_bytes": u.map_or(0, |u| u.storage_bytes),
                "documents": u.map_or(0, |u| u.documents),
            });
            item["quota"] = json!({
                "max_storage_bytes": u.and_then(|u| u.max_storage_bytes),
                "max_documents": u.and_then(|u| u.max_documents),
                "requests_per_minute": u.and_then(|u| u.requests_per_minute),
            });
            item
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Quota)]
#[serde(deny_unknown_fields)]
pub struct QuotaBody {
    max_storage_bytes: Option<i64>,
    max_documents: Option<i64>,
    requests_per_minute: Option<i32>,
}

/// Operator: sets a tenant's quotas (`null` = unlimited / server default).
#[utoipa::path(
    put,
    path = "/api/v1/tenants/{slug}/quota",
    tag = "Mandanten",
    summary = "Kontingente setzen (Betreiber)",
    params(("slug" = String, Path, description = "Kennung des Mandanten")),
    request_body = QuotaBody,
    responses((status = 200, description = "Die Kontingente", body = Object))
)]
pub async fn set_quota(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<QuotaBody>,
) -> Result<Json<Value>, ApiError> {
    let quota = Quota {
        max_storage_bytes: body.max_storage_bytes,
        max_documents: body.max_documents,
        requests_per_minute: body.requests_per_minute,
    };
    state.core.set_quota(&slug, quota, &op.actor()).await?;
    Ok(Json(json!(quota)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Must repeat the slug: deleting destroys the tenant's keys, irreversibly.
    confirm: String,
}

/// Operator: deletes a tenant by destroying its keys (crypto-shredding). Its documents can
/// never be decrypted again, wherever copies of the blobs are.
#[utoipa::path(
    delete,
    path = "/api/v1/tenants/{slug}",
    tag = "Mandanten",
    summary = "Mandanten löschen: seine Schlüssel werden vernichtet (Betreiber)",
    params(("slug" = String, Path, description = "Kennung des Mandanten"), DeleteQuery),
    responses((status = 200, description = "Gelöscht", body = Object))
)]
pub async fn delete(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(slug): Path<String>,
    crate::input::ApiQuery(q): crate::input::ApiQuery<DeleteQuery>,
) -> Result<Json<Value>, ApiError> {
    if q.confirm != slug {
        return Err(ApiError::bad_request(
            "invalid_query",
            Some("confirm"),
            "repeat the tenant's slug in ?confirm= to delete it",
        ));
    }
    let (tenant, destroyed) = state.core.delete_tenant(&slug, &op.actor()).await?;
    Ok(Json(
        json!({"tenant": tenant, "key_versions_destroyed": destroyed}),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = TenantStatus)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `active` or `suspended`.
    status: String,
}

/// Operator: suspends or resumes a tenant.
#[utoipa::path(
    patch,
    path = "/api/v1/tenants/{slug}",
    tag = "Mandanten",
    summary = "Mandanten sperren oder wieder freigeben (Betreiber)",
    params(("slug" = String, Path, description = "Kennung des Mandanten")),
    request_body = StatusBody,
    responses((status = 200, description = "Der Mandant", body = Object))
)]
pub async fn set_status(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<Value>, ApiError> {
    let active = match body.status.as_str() {
        "active" => true,
        "suspended" => false,
        _ => {
            return Err(ApiError::validation(
                "status",
                "must be active or suspended",
            ))
        }
    };
    let tenant = state
        .core
        .set_tenant_active(&slug, active, &op.actor())
        .await?;
    Ok(Json(json!(tenant)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// `YYYY-MM`; default: this month.
    month: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// `GET /api/v1/usage?month=YYYY-MM[&format=csv]` (operator): one row per tenant with its
/// usage in the month (default: this month), for sharing the cost between the towns.
#[utoipa::path(
    get,
    path = "/api/v1/usage",
    tag = "Mandanten",
    summary = "Nutzung je Mandant und Monat für die Kostenteilung (Betreiber; JSON oder CSV)",
    params(UsageQuery),
    responses(
        (status = 200, description = "Eine Zeile je Mandant", body = Object),
        (status = 200, description = "Dieselben Zahlen als CSV", content_type = "text/csv", body = String)
    )
)]
pub async fn usage(
    State(state): State<AppState>,
    _: Operator,
    crate::input::ApiQuery(q): crate::input::ApiQuery<UsageQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let month = match q.month.as_deref() {
        Some(raw) => akta_core::usage::parse_month(raw)?,
        None => akta_core::usage::this_month(),
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::validation("format", "must be json or csv")),
    };
    let rows = state.core.usage_report(month).await?;
    let label = format!("{:04}-{:02}", month.year(), u8::from(month.month()));
    if csv {
        let body = akta_core::usage::usage_csv(month, &rows);
        let disposition = format!("attachment; filename=\"akta-nutzung-{label}.csv\"");
        return Ok((
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/csv; charset=utf-8".to_owned(),
                ),
                (axum::http::header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response());
    }
    Ok(Json(json!({"month": label, "items": rows})).into_response())
}
