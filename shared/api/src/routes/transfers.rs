//! Transfers out of Akta in xdomea: `POST /transfers`, `GET /transfers/{id}`, the messages Akta
//! produces (`GET /transfers/{id}/messages/{code}`) and those it takes
//! (`POST /transfers/{id}/messages`, XML or a zip holding it). Thin: the core decides.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Reader;
use crate::input::{parse_id, ApiJson, ApiQuery};
use crate::routes::openapi::{Binary, Page};
use crate::{ApiError, AppState};

/// Largest message body taken (a zip of an XML message; primary documents go elsewhere).
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewTransfer)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    kind: String,
    file_ids: Vec<Uuid>,
    /// For an Abgabe inside Akta: the receiving tenant.
    to_tenant: Option<String>,
    /// For an Abgabe: keep a closed copy (`true`) instead of deleting once it is taken.
    keep_copy: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/api/v1/transfers",
    tag = "Aussonderung",
    summary = "Aussonderung oder Abgabe beginnen (xdomea 0501/0503)",
    request_body = CreateBody,
    responses((status = 201, description = "Die Aussonderung", body = Object, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn create(
    State(state): State<AppState>,
    reader: Reader,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    if (body.to_tenant.is_some() || body.keep_copy.is_some()) && body.kind != "abgabe" {
        return Err(ApiError::validation(
            "to_tenant",
            "to_tenant and keep_copy are given only for an Abgabe",
        ));
    }
    let view = if body.kind == "abgabe" {
        state
            .core
            .create_abgabe(
                &reader.principal,
                &body.file_ids,
                body.to_tenant.as_deref(),
                body.keep_copy.unwrap_or(false),
            )
            .await?
    } else {
        state
            .core
            .create_transfer(&reader.principal, &body.kind, &body.file_ids)
            .await?
    };
    let location = format!("/api/v1/transfers/{}", view.transfer.id);
    let mut response = (StatusCode::CREATED, Json(json!(view))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/transfers/{id}",
    tag = "Aussonderung",
    summary = "Eine Aussonderung",
    params(("id" = uuid::Uuid, Path, description = "Aussonderung")),
    responses((status = 200, description = "Die Aussonderung", body = Object))
)]
pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let view = state.core.transfer(&reader.principal, id).await?;
    Ok(Json(json!(view)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    /// 0503: `all` versions of every Dokument (default) or only the `latest`.
    versions: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/transfers/{id}/messages/{code}",
    tag = "Aussonderung",
    summary = "Eine xdomea-Nachricht der Aussonderung (ZIP)",
    params(("id" = uuid::Uuid, Path, description = "Aussonderung"), ("code" = String, Path, description = "Nachrichtentyp, z. B. 0503"), MessageQuery),
    responses((status = 200, description = "Die Nachricht", content_type = "application/zip", body = Binary))
)]
pub async fn message(
    State(state): State<AppState>,
    reader: Reader,
    Path((id, code)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<MessageQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation(
            "code",
            "must be a message code like 0501",
        ));
    }
    if code == "0401" {
        let (file_name, stream) = state.core.abgabe_0401(&reader.principal, id).await?;
        return Ok(zip_download(&file_name, stream));
    }
    if code == "0503" {
        let all = match q.versions.as_deref() {
            None | Some("all") => true,
            Some("latest") => false,
            Some(_) => return Err(ApiError::validation("versions", "must be all or latest")),
        };
        let (file_name, stream) = state
            .core
            .aussonderung_0503(&reader.principal, id, all)
            .await?;
        return Ok(zip_download(&file_name, stream));
    }
    let produced = state
        .core
        .transfer_message(&reader.principal, id, &code)
        .await?;
    let mut response = produced.bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(produced.media_type),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", produced.file_name))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[utoipa::path(
    post,
    path = "/api/v1/transfers/{id}/messages",
    tag = "Aussonderung",
    summary = "Antwort des Archivs empfangen (xdomea 0502/0504/0506, ZIP)",
    params(("id" = uuid::Uuid, Path, description = "Aussonderung")),
    request_body(content((Binary = "application/zip"), (Binary = "application/octet-stream")), description = "xdomea-Nachricht"),
    responses((status = 200, description = "Was die Nachricht bewirkt hat", body = Object))
)]
pub async fn receive(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let received = state
        .core
        .receive_transfer_message(&reader.principal, id, &body)
        .await?;
    Ok(Json(json!(received)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProtocolQuery {
    format: Option<String>,
}

/// `GET /disposal/protocol[?format=csv]`: the Löschprotokoll.
#[utoipa::path(
    get,
    path = "/api/v1/disposal/protocol",
    tag = "Aussonderung",
    summary = "Aussonderungsprotokoll (JSON oder CSV)",
    params(ProtocolQuery),
    responses((status = 200, description = "Das Protokoll (JSON, mit `?format=csv` als CSV)", content((Page = "application/json"), (String = "text/csv"))))
)]
pub async fn protocol(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<ProtocolQuery>,
) -> Result<Response, ApiError> {
    let entries = state.core.disposal_protocol(&reader.principal).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(json!({ "items": entries })).into_response()),
        Some("csv") => {
            let mut csv = String::from(
                "Aktenzeichen;Betreff;Laufzeit von;zdA am;Bewertung;Ergebnis;Archivkennung;\
                 Aussonderung;Nachrichten;Vorgänge;Dokumente;Versionen;Bytes;durch;am\r\n",
            );
            for e in &entries {
                let fields = [
                    e.reference.clone(),
                    e.subject.clone(),
                    e.period_from.map(|d| d.to_string()).unwrap_or_default(),
                    e.closed_on.map(|d| d.to_string()).unwrap_or_default(),
                    e.rating.clone().unwrap_or_default(),
                    e.outcome.clone(),
                    e.archive_reference.clone().unwrap_or_default(),
                    e.transfer_id.to_string(),
                    e.messages.join(" "),
                    e.cases.to_string(),
                    e.documents.to_string(),
                    e.versions.to_string(),
                    e.bytes.to_string(),
                    e.disposed_by.clone(),
                    e.disposed_at.to_string(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                csv.push_str(&line.join(";"));
                csv.push_str("\r\n");
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"Loeschprotokoll.csv\"",
                    ),
                ],
                csv,
            )
                .into_response())
        }
        Some(_) => Err(ApiError::validation("format", "must be json or csv")),
    }
}

/// A value a spreadsheet will not take for a formula (a leading `=`, `+`, `-` or `@`).
fn defused(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// One CSV field: quoted when needed, defused.
fn csv_field(value: &str) -> String {
    let value = defused(value);
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    plan_unit_id: Uuid,
}

/// `POST /transfers/incoming?plan_unit_id=…`: an xdomea container from outside (a 0401 Abgabe
/// or a 0503 Aussonderung, as a zip) taken into the tenant under that plan unit.
#[utoipa::path(
    post,
    path = "/api/v1/transfers/incoming",
    tag = "Aussonderung",
    summary = "Abgegebene Akten eines anderen Mandanten empfangen (xdomea 0503, ZIP)",
    params(ImportQuery),
    request_body(content((Binary = "application/zip"), (Binary = "application/octet-stream")), description = "xdomea-0503-Nachricht"),
    responses((status = 200, description = "Bericht", body = Object))
)]
pub async fn import(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let report = state
        .core
        .import_transfer_from(&reader.principal, q.plan_unit_id, body.into_data_stream())
        .await?;
    Ok(Json(json!(report)))
}

/// `GET /transfers/incoming`: Abgaben other tenants offered this one.
#[utoipa::path(
    get,
    path = "/api/v1/transfers/incoming",
    tag = "Aussonderung",
    summary = "Empfangene Abgaben",
    responses((status = 200, description = "Die Abgaben", body = Page))
)]
pub async fn incoming(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let items = state.core.incoming_transfers(&reader.principal).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = TransferAcceptance)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    plan_unit_id: Uuid,
}

/// `POST /transfers/incoming/{id}/accept`: takes an Abgabe in under a plan unit.
#[utoipa::path(
    post,
    path = "/api/v1/transfers/incoming/{id}/accept",
    tag = "Aussonderung",
    summary = "Empfangene Abgabe übernehmen",
    params(("id" = uuid::Uuid, Path, description = "Abgabe")),
    request_body = AcceptBody,
    responses((status = 200, description = "Die übernommene Abgabe", body = Object))
)]
pub async fn accept(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let accepted = state
        .core
        .accept_incoming(&reader.principal, id, body.plan_unit_id)
        .await?;
    Ok(Json(json!(accepted)))
}

/// A container as an attachment, streamed while it is written.
fn zip_download(file_name: &str, stream: akta_core::disposal::ZipStream) -> Response {
    let mut response = axum::body::Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StartImportQuery {
    dry_run: Option<bool>,
    create_plan_units: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ImportManifest)]
#[serde(deny_unknown_fields)]
struct ManifestImport {
    manifest: String,
}

/// `POST /imports[?dry_run=true&create_plan_units=true]`: an xdomea container (zip body), or
/// `{"manifest": "…"}` naming a manifest under the town's import directory, imported in the
/// background; answers 202 with the import's id.
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "Import",
    summary = "Import aus einem Altverfahren starten (ZIP oder JSON mit `manifest`)",
    params(StartImportQuery),
    request_body(content((Binary = "application/zip"), (Binary = "application/octet-stream"), (ManifestImport = "application/json")), description = "ZIP-Paket oder Manifest"),
    responses((status = 202, description = "Angenommen; `id` des Imports", body = Object, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn start_import(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<StartImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let plan = akta_core::import::ImportPlan {
        dry_run: q.dry_run.unwrap_or(false),
        create_plan_units: q.create_plan_units.unwrap_or(false),
        ..Default::default()
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let id = if json {
        // `{"manifest": "<path under the town's import directory>"}`.
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| ApiError::validation("manifest", "the request body is too large"))?;
        let request: ManifestImport = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::validation("manifest", format!("invalid JSON: {e}")))?;
        state
            .core
            .start_manifest_import(&reader.principal, &request.manifest, plan)
            .await?
    } else {
        state
            .core
            .start_import(&reader.principal, body.into_data_stream(), plan)
            .await?
    };
    let mut response = (StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/imports/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `GET /imports/{id}`: state (`laufend`, `fertig`, `fehlgeschlagen`) and the report.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "Import",
    summary = "Stand eines Imports",
    params(("id" = uuid::Uuid, Path, description = "Import")),
    responses((status = 200, description = "Der Import", body = Object))
)]
pub async fn import_job(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let job = state.core.import_job(&reader.principal, id).await?;
    Ok(Json(json!(job)))
}

/// `GET /imports`: the tenant's imports (REST and CLI), newest first, with their progress.
#[utoipa::path(
    get,
    path = "/api/v1/imports",
    tag = "Import",
    summary = "Importe auflisten",
    responses((status = 200, description = "Die Importe", body = Page))
)]
pub async fn imports(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let items = state.core.imports(&reader.principal).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /imports/{id}/report.csv`: the finished import's report as a table, one line per
/// Akte created, skipped or refused and per missing primary document.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}/report.csv",
    tag = "Import",
    summary = "Bericht eines Imports als CSV",
    params(("id" = uuid::Uuid, Path, description = "Import")),
    responses((status = 200, description = "Der Bericht", content_type = "text/csv", body = String))
)]
pub async fn import_report_csv(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let job = state.core.import_job(&reader.principal, id).await?;
    let csv = report_csv(&job);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{id}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// An import's report as CSV (`ergebnis,aktenzeichen,vorher,betreff_oder_grund`): what a
/// town keeps of its migration.
fn report_csv(job: &akta_core::import::ImportJob) -> String {
    // Quoted always (the report's reasons hold commas).
    fn field(v: &Value) -> String {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            v => v.to_string(),
        };
        format!("\"{}\"", defused(&s).replace('"', "\"\""))
    }
    let mut out = String::from("ergebnis,aktenzeichen,vorher,betreff_oder_grund\n");
    let mut line = |cells: [&Value; 4]| {
        let cells: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    };
    let Some(report) = &job.report else {
        let state = json!(job.state);
        let error = json!(job.error.clone().unwrap_or_default());
        line([&state, &Value::Null, &Value::Null, &error]);
        return out;
    };
    let list = |k: &str| report[k].as_array().cloned().unwrap_or_default();
    let (created, skipped, refused, missing) = (
        json!("angelegt"),
        json!("übersprungen"),
        json!("abgelehnt"),
        json!("fehlt"),
    );
    for f in list("files") {
        line([
            &created,
            &f["reference"],
            &f["previous_reference"],
            &f["subject"],
        ]);
    }
    for r in list("skipped") {
        line([&skipped, &Value::Null, &r, &Value::Null]);
    }
    for r in list("refused") {
        line([&refused, &Value::Null, &r["reference"], &r["reason"]]);
    }
    for m in list("missing") {
        line([&missing, &Value::Null, &m, &Value::Null]);
    }
    out
}
