//! The OpenAPI 3.1 document of the REST API, generated from the handlers' `#[utoipa::path]`
//! annotations (`GET /api/v1/openapi.json`), and a German page rendered from the same document
//! (`GET /api/v1/docs`). The test at the end compares the document with the router's own route
//! table, so a route without its annotation (or an annotation without its route) fails the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::encoding::Encoding;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::*;

/// Every operation of the REST API. A new route needs its handler here and a
/// `#[utoipa::path]` on the handler; `every_route_is_documented` checks both.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Akta REST API",
        description = "Die REST-Schnittstelle von Akta, der E-Akte für Kommunen. Fehler antworten \
            als `application/problem+json` mit einem stabilen `code`. Anmeldung mit einem \
            Bearer-Token (`Authorization: Bearer …`) oder dem Sitzungs-Cookie `akta_session` \
            (Änderungen dann mit dem Header `X-CSRF-Token`).",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    paths(
        health::healthz,
        health::readyz,
        crate::metrics::metrics,
        api_document,
        api_page,
        tenants::create,
        tenants::list,
        tenants::delete,
        tenants::set_status,
        tenants::set_quota,
        tenants::usage,
        plan_templates::list,
        plan_templates::publish,
        plan_templates::import,
        plan_templates::invite,
        shares::create,
        shares::list,
        shares::revoke,
        shares::shared_with_us,
        webhooks::create,
        webhooks::list,
        webhooks::get,
        webhooks::delete,
        webhooks::deliveries,
        webhooks::test,
        admin::create_token,
        admin::list_tokens,
        admin::revoke_token,
        admin::rotate_token,
        admin::grant_support,
        admin::list_support,
        admin::revoke_support,
        admin::create_org_unit,
        admin::list_org_units,
        session::login,
        session::current,
        session::logout,
        session::logout_everywhere,
        users::create,
        users::list,
        users::get,
        users::patch,
        oidc::login,
        oidc::callback,
        oidc::get_config,
        oidc::put_config,
        plan_units::create,
        plan_units::list,
        plan_units::export,
        plan_units::import,
        plan_units::get,
        files::create,
        files::list,
        files::get,
        files::patch,
        files::create_case,
        files::list_cases,
        files::history,
        files::put_hold,
        files::delete_hold,
        files::put_retention,
        files::due,
        files::summary_pdf,
        files::get_case,
        files::patch_case,
        access::grant,
        access::list,
        access::revoke,
        desk::add_favourite,
        desk::remove_favourite,
        desk::desk,
        desk::name_deputy,
        desk::end_deputy,
        documents::create_in_file,
        documents::list_in_file,
        documents::create_in_case,
        documents::list_in_case,
        documents::identical_in_file,
        documents::add_version,
        documents::get,
        documents::patch,
        documents::latest_content,
        documents::version_content,
        documents::version_text,
        routings::start,
        routings::of_document,
        routings::pending,
        routings::get,
        routings::decide,
        resubmissions::add_to_file,
        resubmissions::list_in_file,
        resubmissions::add_to_case,
        resubmissions::done,
        resubmissions::put_file,
        resubmissions::delete_file,
        resubmissions::put_case,
        resubmissions::delete_case,
        inbox::deliver,
        inbox::list,
        inbox::get,
        inbox::content,
        inbox::file,
        inbox::forward,
        search::search,
        search::records,
        transfers::protocol,
        transfers::create,
        transfers::get,
        transfers::receive,
        transfers::message,
        transfers::import,
        transfers::incoming,
        transfers::accept,
        transfers::start_import,
        transfers::imports,
        transfers::import_job,
        transfers::import_report_csv,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&Conventions),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "Betrieb", description = "Proben, Metriken und diese Beschreibung"),
        (name = "Mandanten", description = "Mandanten anlegen und verwalten (Betreiber)"),
        (name = "Verwaltung", description = "Tokens, Organisationseinheiten, Support-Zugang"),
        (name = "Sitzung", description = "Anmeldung im Browser"),
        (name = "Benutzer", description = "Benutzer des Mandanten"),
        (name = "OpenID Connect", description = "Anmeldung über einen Identitätsanbieter"),
        (name = "Aktenplan", description = "Aktenplaneinheiten, Austausch als xdomea 0301"),
        (name = "Akten", description = "Akten und Vorgänge"),
        (name = "Zugriff", description = "Zugriffslisten vertraulicher Akten"),
        (name = "Schreibtisch", description = "Favoriten, zuletzt geöffnete Akten, Vertretungen"),
        (name = "Dokumente", description = "Dokumente, Versionen, Inhalte und Texte"),
        (name = "Geschäftsgang", description = "Umläufe zur Mitzeichnung und Kenntnisnahme"),
        (name = "Wiedervorlagen", description = "Wiedervorlagen von Akten und Vorgängen"),
        (name = "Posteingang", description = "Eingänge, die noch keiner Akte zugeordnet sind"),
        (name = "Suche", description = "Volltextsuche und Verzeichnis der Akten"),
        (name = "Aussonderung", description = "Aufbewahrung, Aussonderung und Abgabe (xdomea)"),
        (name = "Import", description = "Übernahme von Akten aus Altverfahren"),
        (name = "Amtshilfe", description = "Akten befristet und nur lesend mit anderen Mandanten teilen"),
        (name = "Webhooks", description = "Benachrichtigungen an Fachverfahren (Standard Webhooks)"),
    )
)]
pub struct ApiDoc;

/// The document, built once.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// The document as the JSON that `GET /api/v1/openapi.json` serves.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    &DOCUMENT
}

/// Raw bytes: a file, a ZIP package, an xdomea message.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("Rohe Bytes"))
            .into()
    }
}

impl ToSchema for Binary {
    fn name() -> std::borrow::Cow<'static, str> {
        "Binary".into()
    }
}

/// One page of a list; `next_cursor` fetches the next one (`null`: the last page).
#[derive(ToSchema)]
#[allow(dead_code)] // only described, never built
pub struct Page {
    #[schema(value_type = Vec<Object>)]
    items: Vec<()>,
    next_cursor: Option<String>,
}

use akta_core::model::{
    AccessEntry, Case, Document, FileRecord, InboxItem, OrgUnit, PlanUnit, Routing, SupportGrant,
    User,
};

/// One page of Akten.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct FilePage {
    items: Vec<FileRecord>,
    next_cursor: Option<String>,
}

/// One page of Vorgänge.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct CasePage {
    items: Vec<Case>,
    next_cursor: Option<String>,
}

/// The Dokumente of an Akte or Vorgang (one page: `next_cursor` is always `null`).
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct DocumentList {
    items: Vec<Document>,
    next_cursor: Option<String>,
}

/// One page of Aktenplaneinheiten.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct PlanUnitPage {
    items: Vec<PlanUnit>,
    next_cursor: Option<String>,
}

/// The users of the tenant.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct UserList {
    items: Vec<User>,
    next_cursor: Option<String>,
}

/// The org units of the tenant.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct OrgUnitList {
    items: Vec<OrgUnit>,
    next_cursor: Option<String>,
}

/// The support grants.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct SupportGrantList {
    items: Vec<SupportGrant>,
    next_cursor: Option<String>,
}

/// The access list of an Akte.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct AccessList {
    items: Vec<AccessEntry>,
    next_cursor: Option<String>,
}

/// The Umläufe of a Dokument.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct RoutingList {
    items: Vec<Routing>,
    next_cursor: Option<String>,
}

/// The open items of the Posteingang.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct InboxList {
    items: Vec<InboxItem>,
    next_cursor: Option<String>,
}

/// The problem answers every operation can give, added here once instead of on each handler:
/// which apply follows from the operation (secured, path parameters, request body, method).
struct Conventions;

const PROBLEMS: &[(&str, &str)] = &[
    (
        "400",
        "Fehlerhafte Anfrage: keine UUID, ungültiges JSON oder Multipart, unbekannter Parameter",
    ),
    (
        "401",
        "Nicht angemeldet: Token oder Sitzung fehlt oder ist ungültig",
    ),
    ("403", "Keine Berechtigung für diese Operation"),
    (
        "404",
        "Nicht gefunden (auch: gehört einem anderen Mandanten)",
    ),
    ("409", "Konflikt mit dem Zustand der Ressource"),
    ("413", "Die Anfrage ist größer als erlaubt"),
    ("415", "Nicht unterstützter Medientyp"),
    (
        "422",
        "Wohlgeformt, aber gegen eine Regel; `field` nennt das Feld",
    ),
    (
        "429",
        "Zu viele Anfragen des Mandanten; `Retry-After` nennt die Sekunden",
    ),
];

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API-Token eines Mandanten oder des Betreibers"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::SESSION_COOKIE,
                "Sitzung nach POST /api/v1/session; Änderungen brauchen X-CSRF-Token",
            ))),
        );
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for (status, description) in PROBLEMS {
            components.responses.insert(
                format!("Problem{status}"),
                ResponseBuilder::new()
                    .description(*description)
                    .content("application/problem+json", problem())
                    .into(),
            );
        }
        components.responses.insert(
            "Problem".to_owned(),
            ResponseBuilder::new()
                .description("Jeder andere Fehler, ebenfalls als Problem")
                .content("application/problem+json", problem())
                .into(),
        );

        for (path, item) in doc.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            for (method, op) in operations_mut(item) {
                // utoipa names an operation after its handler (`get`, `patch`, …), which
                // repeats across modules; the document needs them unique.
                let words: Vec<&str> = path
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect();
                let verb = match method {
                    HttpMethod::Get => "get",
                    HttpMethod::Put => "put",
                    HttpMethod::Post => "post",
                    HttpMethod::Delete => "delete",
                    HttpMethod::Patch => "patch",
                    _ => "head",
                };
                op.operation_id = Some(format!("{verb}_{}", words.join("_")));
                let secured = op.security.is_none();
                let changes = !matches!(method, HttpMethod::Get | HttpMethod::Head);
                let body = op.request_body.as_ref();
                let multipart = body.is_some_and(|b| b.content.contains_key("multipart/form-data"));
                let has_query = op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter().any(|p| {
                        matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)
                    })
                });
                let applies = |status: &str| match status {
                    "400" => true,
                    "401" | "403" | "429" => secured,
                    "404" => has_path_params,
                    "409" => changes && secured,
                    "413" => multipart || path.ends_with("/messages") || path.ends_with("/import"),
                    "415" => body.is_some(),
                    "422" => body.is_some() || has_query,
                    _ => false,
                };
                for (status, _) in PROBLEMS {
                    if applies(status) && !op.responses.responses.contains_key(*status) {
                        op.responses.responses.insert(
                            (*status).to_owned(),
                            RefOr::Ref(Ref::from_response_name(format!("Problem{status}"))),
                        );
                    }
                }
                op.responses
                    .responses
                    .entry("default".to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Problem")));
                // Multipart uploads: the `metadata` part is JSON, the `file` part raw bytes.
                if let Some(content) = op
                    .request_body
                    .as_mut()
                    .and_then(|b| b.content.get_mut("multipart/form-data"))
                {
                    let mut json = Encoding::default();
                    json.content_type = Some("application/json".to_owned());
                    content.encoding.insert("metadata".to_owned(), json);
                    let mut binary = Encoding::default();
                    binary.content_type = Some("application/octet-stream".to_owned());
                    content.encoding.insert("file".to_owned(), binary);
                }
            }
        }
    }
}

fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
        (HttpMethod::Head, item.head.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "Betrieb", security(()),
    responses((status = 200, description = "Das OpenAPI-3.1-Dokument", content_type = "application/json", body = Object)))]
pub async fn api_document() -> Response {
    static JSON: LazyLock<Vec<u8>> =
        LazyLock::new(|| serde_json::to_vec(document()).unwrap_or_default());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        JSON.as_slice(),
    )
        .into_response()
}

/// A readable page of this API: its operations grouped by topic, rendered from the document.
#[utoipa::path(get, path = "/api/v1/docs", tag = "Betrieb", security(()),
    responses((status = 200, description = "Die Beschreibung als HTML-Seite", content_type = "text/html")))]
pub async fn api_page() -> Response {
    static PAGE: LazyLock<(String, HeaderValue)> = LazyLock::new(|| {
        let page = render_page(&serde_json::to_value(document()).unwrap_or_default());
        // The page's one inline stylesheet is allowed by its hash, nothing else.
        let digest = openssl::sha::sha256(STYLE.as_bytes());
        let csp = format!(
            "default-src 'none'; style-src 'sha256-{}'; frame-ancestors 'none'",
            openssl::base64::encode_block(&digest)
        );
        let csp = HeaderValue::from_str(&csp)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
        (page, csp)
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, PAGE.1.clone()),
        ],
        PAGE.0.clone(),
    )
        .into_response()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;line-height:1.45;color:#1a1a1a}code{background:#f2f2f2;padding:0 .2em}\
section.op{border-top:1px solid #ccc;padding:.5rem 0}h3{font-size:1.05rem;margin:.3rem 0}\
.m{display:inline-block;min-width:4.5em;font-weight:bold;color:#0b4f8a}\
table{border-collapse:collapse;margin:.3rem 0}td,th{border:1px solid #ccc;padding:.15rem .5rem;\
text-align:left;vertical-align:top}nav li{margin:.1rem 0}";

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn anchor(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// A schema in a few words: a link to a named schema, or its type.
fn type_of(schema: &Value) -> String {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
    {
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = list.iter().map(type_of).collect();
            return parts.join(" | ");
        }
    }
    let mut kinds: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => vec!["beliebig".to_owned()],
    };
    if let Some(items) = schema.get("items") {
        for k in kinds.iter_mut().filter(|k| *k == "array") {
            *k = format!("array von {}", type_of(items));
        }
    }
    let mut out = esc(&kinds.join(" | "));
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(out, " ({})", esc(format));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| esc(&v.to_string())).collect();
        let _ = write!(out, ": {}", values.join(", "));
    }
    out
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .map(esc)
        .unwrap_or_default()
}

/// The page: a table of contents by tag, each operation with its parameters, body and
/// answers, then the named schemas with their fields.
fn render_page(doc: &Value) -> String {
    const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];
    let mut by_tag: BTreeMap<String, Vec<(String, String, &Value)>> = BTreeMap::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let tag = op
                        .pointer("/tags/0")
                        .and_then(Value::as_str)
                        .unwrap_or("Sonstiges")
                        .to_owned();
                    by_tag.entry(tag).or_default().push((
                        method.to_ascii_uppercase(),
                        path.clone(),
                        op,
                    ));
                }
            }
        }
    }
    let tags: Vec<(String, String)> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .map(|t| (text(t, "name"), text(t, "description")))
                .collect()
        })
        .unwrap_or_default();
    let mut order: Vec<(String, String)> = tags
        .into_iter()
        .filter(|(name, _)| by_tag.contains_key(name))
        .collect();
    for name in by_tag.keys() {
        if !order.iter().any(|(n, _)| n == name) {
            order.push((name.clone(), String::new()));
        }
    }

    let info = doc.get("info").cloned().unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – Beschreibung</title><style>{STYLE}</style></head><body><main>\
         <h1>{title} <small>{version}</small></h1><p>{description}</p>\
         <p>Maschinenlesbar: <a href=\"/api/v1/openapi.json\">OpenAPI-3.1-Dokument</a>.</p>\
         <nav aria-label=\"Themen\"><h2>Themen</h2><ul>",
        title = text(&info, "title"),
        version = text(&info, "version"),
        description = text(&info, "description"),
    );
    for (name, description) in &order {
        let _ = write!(
            out,
            "<li><a href=\"#tag-{}\">{name}</a> – {description}</li>",
            anchor(name)
        );
    }
    out.push_str("</ul></nav>");

    for (name, description) in &order {
        let _ = write!(
            out,
            "<h2 id=\"tag-{}\">{name}</h2><p>{description}</p>",
            anchor(name)
        );
        for (method, path, op) in by_tag.get(name).into_iter().flatten() {
            render_operation(&mut out, method, path, op);
        }
    }

    out.push_str("<h2 id=\"schemas\">Schemata</h2>");
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let _ = write!(
                out,
                "<section class=\"op\"><h3 id=\"schema-{}\">{}</h3><p>{}</p>",
                anchor(name),
                esc(name),
                text(schema, "description")
            );
            render_fields(&mut out, schema);
            out.push_str("</section>");
        }
    }
    out.push_str("</main></body></html>\n");
    out
}

fn render_operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        out,
        "<section class=\"op\"><h3><span class=\"m\">{method}</span> <code>{}</code></h3>",
        esc(path)
    );
    let summary = text(op, "summary");
    let description = text(op, "description");
    if !summary.is_empty() {
        let _ = write!(out, "<p>{summary}</p>");
    }
    if !description.is_empty() && description != summary {
        let _ = write!(out, "<p>{description}</p>");
    }
    let public = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
    if public {
        out.push_str("<p>Ohne Anmeldung.</p>");
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_array) {
        out.push_str(
            "<table><caption>Parameter</caption><tr><th>Name</th><th>Ort</th><th>Typ</th>\
             <th>Pflicht</th><th>Beschreibung</th></tr>",
        );
        for p in params {
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(p, "name"),
                text(p, "in"),
                p.get("schema").map(type_of).unwrap_or_default(),
                if required { "ja" } else { "nein" },
                text(p, "description"),
            );
        }
        out.push_str("</table>");
    }
    if let Some(content) = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
    {
        out.push_str("<p>Anfrage:</p><ul>");
        for (media, c) in content {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(media),
                c.get("schema").map(type_of).unwrap_or_default()
            );
        }
        out.push_str("</ul>");
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        out.push_str(
            "<table><caption>Antworten</caption><tr><th>Status</th><th>Bedeutung</th>\
             <th>Inhalt</th></tr>",
        );
        for (status, r) in responses {
            let (description, content) = match r.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let name = reference.rsplit('/').next().unwrap_or("");
                    let description = PROBLEMS
                        .iter()
                        .find(|(s, _)| name == format!("Problem{s}"))
                        .map(|(_, d)| *d)
                        .unwrap_or("Jeder andere Fehler");
                    (
                        esc(description),
                        "<code>application/problem+json</code>: <a href=\"#schema-Problem\">\
                         Problem</a>"
                            .to_owned(),
                    )
                }
                None => {
                    let content = r
                        .get("content")
                        .and_then(Value::as_object)
                        .map(|c| {
                            c.iter()
                                .map(|(media, c)| {
                                    let schema = c.get("schema").map(type_of);
                                    match schema {
                                        Some(s) => format!("<code>{}</code>: {s}", esc(media)),
                                        None => format!("<code>{}</code>", esc(media)),
                                    }
                                })
                                .collect::<Vec<_>>()
                                .join("<br>")
                        })
                        .unwrap_or_else(|| "–".to_owned());
                    (text(r, "description"), content)
                }
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{description}</td><td>{content}</td></tr>",
                esc(status)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

fn render_fields(out: &mut String, schema: &Value) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        let _ = write!(out, "<p>Typ: {}</p>", type_of(schema));
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("<table><tr><th>Feld</th><th>Typ</th><th>Pflicht</th><th>Beschreibung</th></tr>");
    for (name, p) in properties {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            type_of(p),
            if required.contains(&name.as_str()) {
                "ja"
            } else {
                "nein"
            },
            text(p, "description"),
        );
    }
    out.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// `(path, METHOD)` of every route the REST router serves, read from its own route table.
    fn routed() -> BTreeSet<(String, String)> {
        // axum has no public route listing; its Debug output names each route's path and the
        // `Allow` header its method router answers, which is exactly the pair we need.
        let table = format!("{:?}", super::super::routes());
        // Only the main path router: the fallback router numbers its routes on its own.
        let table = table
            .split_once("fallback_router:")
            .map_or(table.as_str(), |(main, _)| main);
        let mut paths = BTreeMap::new();
        let mut allowed = BTreeMap::new();
        for chunk in table.split("RouteId(").skip(1) {
            let Some((id, rest)) = chunk.split_once(')') else {
                continue;
            };
            if let Some(path) = rest.strip_prefix(": \"").and_then(|r| r.split('"').next()) {
                paths.insert(id.to_owned(), path.to_owned());
            } else if let Some(allow) = rest
                .strip_prefix(": MethodRouter(")
                .and_then(|r| r.split_once("allow_header: Bytes(b\""))
                .and_then(|(_, a)| a.split_once('"'))
            {
                allowed.insert(id.to_owned(), allow.0.to_owned());
            }
        }
        let mut out = BTreeSet::new();
        for (id, allow) in allowed {
            let path = paths.get(&id).expect("path of route id");
            for method in allow.split(',').filter(|m| *m != "HEAD") {
                out.insert((path.clone(), method.to_owned()));
            }
        }
        out
    }

    fn documented() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(document()).expect("json");
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                out.insert((path.clone(), method.to_ascii_uppercase()));
            }
        }
        out
    }

    #[test]
    fn every_route_is_documented_and_every_documented_operation_is_routed() {
        let routed = routed();
        let documented = documented();
        assert!(routed.len() > 90, "route table not read: {routed:?}");
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(
            undocumented.is_empty() && unrouted.is_empty(),
            "routes without #[utoipa::path] (add it and list the handler in ApiDoc): \
             {undocumented:?}\ndocumented but not routed: {unrouted:?}"
        );
    }

    #[test]
    fn document_is_openapi_3_1_with_problem_answers_and_security() {
        let doc = serde_json::to_value(document()).expect("json");
        assert!(doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")));
        assert_eq!(
            doc["components"]["schemas"]["Problem"]["required"],
            serde_json::json!(["type", "title", "status", "code", "detail"])
        );
        let get_file = &doc["paths"]["/api/v1/files/{id}"]["get"];
        for status in ["400", "401", "403", "404", "429", "default"] {
            assert!(get_file["responses"][status].is_object(), "{status}");
        }
        assert_eq!(
            doc["paths"]["/healthz"]["get"]["security"],
            serde_json::json!([{}])
        );
        let upload = &doc["paths"]["/api/v1/files/{id}/documents"]["post"]["requestBody"]
            ["content"]["multipart/form-data"];
        assert_eq!(
            upload["encoding"]["metadata"]["contentType"],
            "application/json"
        );
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        let mut ids = BTreeSet::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            }
        }
        assert!(doc["components"]["securitySchemes"]["session"].is_object());
    }

    #[test]
    fn page_lists_every_operation_and_escapes_text() {
        let doc = serde_json::to_value(document()).expect("json");
        let page = render_page(&doc);
        for (path, method) in documented() {
            assert!(
                page.contains(&format!(
                    "<span class=\"m\">{method}</span> <code>{}</code>",
                    esc(&path)
                )),
                "{method} {path}"
            );
        }
        assert!(page.contains("<html lang=\"de\">"));
        assert_eq!(esc("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
