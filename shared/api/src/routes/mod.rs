//! The REST router: every `/api/v1` route, the upload routes without a body limit, and the
//! layers every response passes (request ids, tracing, security headers, rate limits).

mod access;
mod admin;
mod desk;
pub(crate) mod documents;
mod files;
mod health;
mod inbox;
mod oidc;
pub mod openapi;
mod plan_units;
// Aktenplan templates and invitations (issue 13).
mod plan_templates;
mod resubmissions;
mod routings;
mod search;
pub mod session;
mod shares;
mod tenants;
mod transfers;
pub(crate) mod users;
mod versioned;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::{ApiError, AppState};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    router_with(state, Router::new().fallback(api_not_found))
}

/// Only `/healthz`, `/readyz` and `/metrics`, for a node that serves no requests (`--role
/// worker`), so orchestrators can still probe it and Prometheus scrape its jobs' metrics;
/// everything else is the 404 problem document.
pub fn health_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .fallback(api_not_found)
        .with_state(state)
}

/// Only a server fault is an ERROR (its cause is logged where it happened); a refused quota
/// (507) or a node not ready yet (503) is the service working as it should.
fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass as Class;
    let ms = latency.as_millis();
    match class {
        Class::StatusCode(status) if status == axum::http::StatusCode::INTERNAL_SERVER_ERROR => {
            tracing::error!(%status, latency_ms = ms, "response failed")
        }
        Class::StatusCode(status) => tracing::info!(%status, latency_ms = ms, "response refused"),
        Class::Error(error) => tracing::error!(%error, latency_ms = ms, "response failed"),
    }
}

/// Unknown paths of the REST API: the 404 problem document.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound
}

/// The REST API plus `extra` routes (the web UI lives in a crate that depends on this one),
/// all behind the same security headers, request ids and tracing. `extra` answers unknown
/// paths with its fallback (the web UI: its error page, or problem+json under `/api/`).
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    // `extra` brings the fallback for unknown paths (see `router`).
    let api = routes().merge(extra);

    // Idempotency-Key on every POST (see crate::idempotency); innermost, so replayed answers
    // get the same headers, metrics and tracing as first ones.
    let api = api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::idempotency::replay,
    ));
    api.route_layer(axum::middleware::from_fn(crate::metrics::note_route))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::headers::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::peer::client_info,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let request_id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(),
                request_id, tenant = tracing::field::Empty, client = tracing::field::Empty)
                })
                .on_failure(log_failure),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Every route of the REST API, without state and layers: the table `router_with` serves and
/// the OpenAPI document is checked against (see `openapi`).
fn routes() -> Router<AppState> {
    // Uploads stream into the blob store, which enforces its own size limit with a 413.
    let uploads = Router::new()
        .route(
            "/api/v1/files/{id}/documents",
            post(documents::create_in_file).get(documents::list_in_file),
        )
        .route(
            "/api/v1/cases/{id}/documents",
            post(documents::create_in_case).get(documents::list_in_case),
        )
        .route(
            "/api/v1/documents/{id}/versions",
            post(documents::add_version),
        )
        .route(
            "/api/v1/transfers/incoming",
            post(transfers::import).get(transfers::incoming),
        )
        .route(
            "/api/v1/imports",
            post(transfers::start_import).get(transfers::imports),
        )
        .route("/api/v1/inbox", post(inbox::deliver).get(inbox::list))
        .layer(DefaultBodyLimit::disable());
    // xdomea messages are read whole (bounded); larger bodies answer 413.
    let messages = Router::new()
        .route("/api/v1/transfers/{id}/messages", post(transfers::receive))
        .route("/api/v1/plan-units/import", post(plan_units::import))
        .layer(DefaultBodyLimit::max(transfers::MAX_MESSAGE_BYTES));

    // --- Aktenplan templates and invitations (issue 13) ---
    let onboarding = Router::new()
        .route(
            "/api/v1/plan-templates",
            get(plan_templates::list)
                .post(plan_templates::publish)
                .layer(DefaultBodyLimit::max(1024 * 1024)),
        )
        .route(
            "/api/v1/plan-units/import-template",
            post(plan_templates::import),
        )
        .route(
            "/api/v1/tenants/{slug}/invitations",
            post(plan_templates::invite),
        );

    Router::new()
        .merge(onboarding)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/api/v1/openapi.json", get(openapi::api_document))
        .route("/api/v1/docs", get(openapi::api_page))
        .route("/api/v1/tenants", post(tenants::create).get(tenants::list))
        .route("/api/v1/usage", get(tenants::usage))
        .route(
            "/api/v1/tenants/{slug}",
            axum::routing::delete(tenants::delete).patch(tenants::set_status),
        )
        .route(
            "/api/v1/tenants/{slug}/quota",
            axum::routing::put(tenants::set_quota),
        )
        .route(
            "/api/v1/tokens",
            post(admin::create_token).get(admin::list_tokens),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(admin::revoke_token),
        )
        .route("/api/v1/tokens/{id}/rotate", post(admin::rotate_token))
        .route(
            "/api/v1/support-access",
            post(admin::grant_support).get(admin::list_support),
        )
        .route(
            "/api/v1/support-access/{id}",
            axum::routing::delete(admin::revoke_support),
        )
        .route("/api/v1/records", get(search::records))
        .route(
            "/api/v1/files/{id}/favourite",
            axum::routing::put(desk::add_favourite).delete(desk::remove_favourite),
        )
        .route("/api/v1/desk", get(desk::desk))
        .route(
            "/api/v1/files/{id}/identical",
            get(documents::identical_in_file),
        )
        .route(
            "/api/v1/documents/{id}/routings",
            post(routings::start).get(routings::of_document),
        )
        .route("/api/v1/routings/pending", get(routings::pending))
        .route("/api/v1/routings/{id}", get(routings::get))
        .route("/api/v1/routings/{id}/decision", post(routings::decide))
        .route("/api/v1/deputies", post(desk::name_deputy))
        .route(
            "/api/v1/deputies/{id}",
            axum::routing::delete(desk::end_deputy),
        )
        .route(
            "/api/v1/files/{id}/resubmissions",
            post(resubmissions::add_to_file).get(resubmissions::list_in_file),
        )
        .route(
            "/api/v1/cases/{id}/resubmissions",
            post(resubmissions::add_to_case),
        )
        .route("/api/v1/resubmissions/{id}/done", post(resubmissions::done))
        .route("/api/v1/files/{id}/summary.pdf", get(files::summary_pdf))
        // Amtshilfe: shares of an Akte with another tenant.
        .route(
            "/api/v1/files/{id}/shares",
            post(shares::create).get(shares::list),
        )
        .route(
            "/api/v1/files/{id}/shares/{share}",
            axum::routing::delete(shares::revoke),
        )
        .route("/api/v1/shared-with-us", get(shares::shared_with_us))
        .route("/api/v1/inbox/{id}", get(inbox::get))
        .route("/api/v1/inbox/{id}/content", get(inbox::content))
        .route("/api/v1/inbox/{id}/file", post(inbox::file))
        .route("/api/v1/inbox/{id}/forward", post(inbox::forward))
        .route(
            "/api/v1/files/{id}/access",
            post(access::grant).get(access::list),
        )
        .route(
            "/api/v1/files/{id}/access/{entry}",
            axum::routing::delete(access::revoke),
        )
        .route(
            "/api/v1/session",
            post(session::login)
                .get(session::current)
                .delete(session::logout),
        )
        .route(
            "/api/v1/session/logout-all",
            post(session::logout_everywhere),
        )
        .route("/api/v1/users", post(users::create).get(users::list))
        .route("/api/v1/users/{id}", get(users::get).patch(users::patch))
        .route(
            "/api/v1/org-units",
            post(admin::create_org_unit).get(admin::list_org_units),
        )
        .route(
            "/api/v1/plan-units",
            post(plan_units::create).get(plan_units::list),
        )
        .route("/api/v1/plan-units/export", get(plan_units::export))
        .route("/api/v1/plan-units/{id}", get(plan_units::get))
        .route("/api/v1/files", post(files::create).get(files::list))
        .route("/api/v1/files/{id}", get(files::get).patch(files::patch))
        .route(
            "/api/v1/files/{id}/cases",
            post(files::create_case).get(files::list_cases),
        )
        .route("/api/v1/files/{id}/history", get(files::history))
        .route(
            "/api/v1/files/{id}/hold",
            axum::routing::put(files::put_hold).delete(files::delete_hold),
        )
        .route(
            "/api/v1/files/{id}/retention",
            axum::routing::put(files::put_retention),
        )
        .route("/api/v1/disposal/due", get(files::due))
        .route("/api/v1/disposal/protocol", get(transfers::protocol))
        .route("/api/v1/transfers", post(transfers::create))
        .route("/api/v1/transfers/{id}", get(transfers::get))
        .route("/api/v1/imports/{id}", get(transfers::import_job))
        .route(
            "/api/v1/imports/{id}/report.csv",
            get(transfers::import_report_csv),
        )
        .route(
            "/api/v1/transfers/incoming/{id}/accept",
            post(transfers::accept),
        )
        .route(
            "/api/v1/transfers/{id}/messages/{code}",
            get(transfers::message),
        )
        .route(
            "/api/v1/cases/{id}",
            get(files::get_case).patch(files::patch_case),
        )
        .route(
            "/api/v1/files/{id}/resubmission",
            axum::routing::put(resubmissions::put_file).delete(resubmissions::delete_file),
        )
        .route(
            "/api/v1/cases/{id}/resubmission",
            axum::routing::put(resubmissions::put_case).delete(resubmissions::delete_case),
        )
        .route(
            "/api/v1/documents/{id}",
            get(documents::get).patch(documents::patch),
        )
        .route("/api/v1/search", get(search::search))
        .route(
            "/api/v1/documents/{id}/content",
            get(documents::latest_content),
        )
        .route(
            "/api/v1/documents/{id}/versions/{n}/content",
            get(documents::version_content),
        )
        .route(
            "/api/v1/documents/{id}/versions/{n}/text",
            get(documents::version_text),
        )
        // OpenID Connect: browser login per tenant, and its configuration by the tenant admin.
        .route("/auth/oidc/{tenant}/login", get(oidc::login))
        .route("/auth/oidc/{tenant}/callback", get(oidc::callback))
        .route("/api/v1/oidc", get(oidc::get_config).put(oidc::put_config))
        // Webhooks for Fachverfahren (issue 13): endpoints, delivery log, test-send.
        .route(
            "/api/v1/webhooks",
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::get).delete(webhooks::delete),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route("/api/v1/webhooks/{id}/test", post(webhooks::test))
        .merge(uploads)
        .merge(messages)
}
