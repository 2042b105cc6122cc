//! Akta's clerk web UI: server-rendered HTML (askama templates checked at compile time),
//! German by default, English by choice. Works without JavaScript except for drag and drop;
//! `static/akta.js` adds drag-and-drop uploads with progress against the REST upload routes.
//!
//! Mount with [`routes`] through `akta_api::router_with` / `akta_api::serve_with`, so the UI
//! shares the API's security headers, request ids, tracing and rate limits.
//!
//! # URL scheme
//!
//! | URL | page |
//! |---|---|
//! | `GET /` | redirects to `/arbeitsplatz` when logged in, else to `/anmelden` |
//! | `GET /anmelden` | login form; the tenant comes from the host name (`witten.akta.example.de` → `witten`, needs ≥ 3 labels, never an IP) or from a form field |
//! | `GET /t/{tenant}/anmelden` | login form with the tenant fixed by the path |
//! | `POST /anmelden` | `csrf_token` (double-submit cookie `akta_login_csrf`), `tenant`, `username`, `password` → session cookie, 303 to `/arbeitsplatz` |
//! | `POST /abmelden` | logout (ends the session) |
//! | `GET /sprache/{de,en}` | sets the UI language cookie `akta_lang` (before login) |
//! | `POST /sprache` | saves the logged-in user's UI language (`lang=de|en`) to the account |
//! | `GET /arbeitsplatz` | "Mein Arbeitsplatz": my Posteingang, due Wiedervorlagen (also of whom I stand in for), recently opened Akten, favourites, my open Akten and Vorgänge, Vertretung, recent changes |
//! | `POST /akten/{id}/favorit` | `action=add` or `action=remove` |
//! | `POST /vertretung`, `POST /vertretung/{id}/beenden` | name a deputy (`deputy`, `from`, `until`), end one |
//! | `GET /posteingang`, `POST /posteingang` | the Posteingang; put a document in (multipart: `csrf_token`, `file`) |
//! | `GET,POST /posteingang/{id}` | an item with preview; file it (`action=ablegen`, `aktenzeichen`, `title`, `kind`, `sender`, `document_date`) or forward it (`action=weiterleiten`, `colleague`, `note`) |
//! | `GET /aktenplan[?einheit={id}]` | Aktenplan tree with counts; the Akten of the chosen unit |
//! | `GET /akten/neu?einheit={id}`, `POST /akten` | create an Akte |
//! | `GET /akten/{id}[?register=akte\|verlauf\|{case id}]` | the Akte with its registers (documents filed directly, one per Vorgang, history) |
//! | `GET,POST /akten/{id}/bearbeiten` | edit Betreff, Federführung, Vertraulichkeit |
//! | `POST /akten/{id}/wiedervorlage`, `POST /vorgaenge/{id}/wiedervorlage` | `date`, `fuer` (a colleague's id, empty: me), `note` + `action=set` adds one; `action=clear` ends my own |
//! | `POST /wiedervorlagen/{id}/erledigt` | marks a Wiedervorlage done |
//! | `GET,POST /akten/{id}/zda` | confirmation, then zdA |
//! | `GET,POST /akten/{id}/wiedereroeffnen` | reopen with a `reason` |
//! | `GET /akten/{id}/vorgaenge/neu`, `POST /akten/{id}/vorgaenge` | new Vorgang |
//! | `GET /akten/{id}/dokumente/neu[?vorgang={id}]`, `POST /akten/{id}/dokumente` | upload form (multipart: `csrf_token` first, the `file` part last) |
//! | `GET /akten/{id}/vermerk[?vorgang={id}]`, `POST /akten/{id}/vermerk` | write a Vermerk (stored as text/plain) |
//! | `GET /vorgaenge/{id}` | redirects to the Vorgang's register in its Akte |
//! | `GET,POST /vorgaenge/{id}/bearbeiten` | edit a Vorgang's Betreff |
//! | `GET,POST /vorgaenge/{id}/zda`, `GET,POST /vorgaenge/{id}/wiedereroeffnen` | close a Vorgang (confirmation) or reopen it with a `reason` |
//! | `GET /dokumente/{id}` | document: metadata, preview, versions with downloads |
//! | `GET,POST /dokumente/{id}/bearbeiten` | edit a document's metadata |
//! | `POST /dokumente/{id}/versionen` | new version (multipart: `csrf_token`, `file`) |
//! | `POST /dokumente/{id}/geschaeftsgang` | start a Mitzeichnung or Verfügung (`kind`, `mode`, `signer` repeated, `steps`, `note`) |
//! | `POST /geschaeftsgang/{id}/entscheidung` | `decision=sign` or `decision=return` with a `comment` |
//! | `GET /suche?q=&kind=&plan_unit=&year=&cursor=` | search with facets |
//! | `GET /aussonderung[?einheit=&jahr=]`, `POST /aussonderung` | archivists, admins: Akten due for Aussonderung; offer the chosen (`akte`, repeated) |
//! | `GET /importe`, `POST /importe` | admins: the tenant's imports with progress and report; start one from an xdomea container (multipart: `csrf_token`, `probelauf`, `plan_anlegen`, `container`) |
//! | `GET /aussonderung/{id}`, `GET /aussonderung/{id}/nachrichten/{0501,0505,0503}` | one Aussonderung; the messages Akta produces as downloads |
//! | `POST /aussonderung/{id}/nachrichten` | a message of the archive (multipart: `csrf_token`, `nachricht`) |
//! | `GET /loeschprotokoll` | the Löschprotokoll |
//! | `GET,POST /verwaltung/erscheinungsbild` | tenant branding (admins) |
//! | `GET /branding/logo`, `GET /branding/theme.css` | the tenant's logo and accent colour |
//! | `GET /static/akta.css`, `GET /static/akta.js`, `GET /static/favicon.svg` | the only style sheet, script and icon |
//!
//! The operator console (German only; operators are no tenant's people and have their own
//! accounts, sessions and cookie `akta_betrieb`, sent only under `/betrieb`):
//!
//! | URL | page |
//! |---|---|
//! | `GET /betrieb` | redirects to the tenants |
//! | `GET,POST /betrieb/anmelden`, `POST /betrieb/abmelden` | operator login (`csrf_token` double-submit, `username`, `password`), logout |
//! | `GET /betrieb/oidc/anmelden`, `GET /betrieb/oidc/rueckkehr` | operator login through the operator's OpenID provider (only when `operator_oidc` is configured; the subject must be linked to an operator) |
//! | `GET /betrieb/mandanten` | tenants with status, people, documents, storage, last activity, host name |
//! | `GET,POST /betrieb/mandanten/neu` | onboarding a town (multipart: `csrf_token` first, `name`, `slug`, `host_name`, `plan` = template name, `datei` or empty, `plan_file`, `header_name`, `accent_color`, `logo`, `admin_email`); answers the invitation link once |
//! | `GET /betrieb/mandanten/{slug}` | one tenant: figures, audit chain status, support grants, quota, suspend/resume, delete |
//! | `POST /betrieb/mandanten/{slug}/status`, `…/kontingent`, `…/loeschen` | `action=sperren\|entsperren`; quota fields; delete with `confirm` = the slug |
//! | `GET,POST /betrieb/aktenplaene` | published Aktenplan templates; publish one (multipart `name`, `title`, `csv`) |
//! | `GET,POST /einladung/{token}` | an invitation: set username and password, then logged in (or the OpenID login) |
//!
//! Every POST form carries `csrf_token`: the session's synchronizer token (the same token
//! the REST API expects in `X-CSRF-Token` for cookie requests; pages publish it in
//! `<meta name="csrf-token">` for the upload script). Other tenants' ids answer the 404 page.

mod assets;
mod error;
mod forms;
mod i18n;
mod pages;
mod render;
mod session;

pub use error::WebError;
pub use i18n::Lang;

use akta_api::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use pages::{
    admin, archive, documents, files, imports, inbox, login, plan, search, shares, workplace,
};
// Operator console and invitations (issue 13).
use pages::{console, invitation};

/// The web UI's routes, to merge into the API router.
pub fn routes(state: AppState) -> Router<AppState> {
    // Uploads stream into the blob store, which enforces the upload limit itself.
    let uploads = Router::new()
        .route("/akten/{id}/dokumente", post(documents::upload))
        // The upload form posts to its own address (PRG: an error leaves a page there).
        .route(
            "/akten/{id}/dokumente/neu",
            get(documents::upload_form).post(documents::upload),
        )
        .route("/dokumente/{id}/versionen", post(documents::add_version))
        .route("/importe", post(imports::start))
        .route("/posteingang", post(inbox::deliver))
        .layer(DefaultBodyLimit::disable());
    // An archive's message, read whole (bounded by the handler as by the REST route).
    let messages = Router::new()
        .route("/aussonderung/{id}/nachrichten", post(archive::upload))
        .layer(DefaultBodyLimit::max(33 * 1024 * 1024));
    // --- operator console and invitations (issue 13) ---
    let console = Router::new()
        .route("/betrieb", get(console::root))
        .route(
            "/betrieb/anmelden",
            get(console::login_page).post(console::login),
        )
        .route("/betrieb/abmelden", post(console::logout))
        .route("/betrieb/oidc/anmelden", get(console::oidc_start))
        .route("/betrieb/oidc/rueckkehr", get(console::oidc_return))
        .route("/betrieb/mandanten", get(console::tenants))
        .route("/betrieb/nutzung", get(console::usage))
        .route("/betrieb/nutzung.csv", get(console::usage_csv))
        .route(
            "/betrieb/mandanten/neu",
            get(console::new_form)
                .post(console::create)
                .layer(DefaultBodyLimit::max(6 * 1024 * 1024)),
        )
        .route("/betrieb/mandanten/{slug}", get(console::tenant))
        .route(
            "/betrieb/mandanten/{slug}/status",
            post(console::set_status),
        )
        .route(
            "/betrieb/mandanten/{slug}/kontingent",
            post(console::set_quota),
        )
        .route("/betrieb/mandanten/{slug}/loeschen", post(console::delete))
        .route(
            "/betrieb/aktenplaene",
            get(console::plans)
                .post(console::publish)
                .layer(DefaultBodyLimit::max(1024 * 1024)),
        )
        .route(
            "/einladung/{token}",
            get(invitation::show).post(invitation::accept),
        );
    Router::new()
        .route("/", get(login::root))
        .route("/anmelden", get(login::login_page).post(login::login))
        .route("/t/{tenant}/anmelden", get(login::tenant_login_page))
        .route("/t/{tenant}/wappen", get(login::tenant_logo))
        .route("/abmelden", post(login::logout))
        .route("/sprache/{lang}", get(login::set_language))
        .route("/sprache", post(login::save_language))
        .route("/arbeitsplatz", get(workplace::show))
        .route("/aktenplan", get(plan::show))
        .route("/posteingang", get(inbox::list))
        .route("/posteingang/{id}", get(inbox::show).post(inbox::act))
        .route("/akten", post(files::create))
        .route("/akten/neu", get(files::new_form).post(files::create))
        .route("/akten/{id}", get(files::show))
        .route(
            "/akten/{id}/bearbeiten",
            get(files::edit_form).post(files::update),
        )
        .route("/akten/{id}/wiedervorlage", post(files::resubmit_file))
        .route("/akten/{id}/favorit", post(files::favourite))
        .route("/vertretung", post(workplace::name_deputy))
        .route("/vertretung/{id}/beenden", post(workplace::end_deputy))
        .route(
            "/wiedervorlagen/{id}/erledigt",
            post(files::complete_resubmission),
        )
        .route("/vorgaenge/{id}", get(files::show_case))
        .route(
            "/vorgaenge/{id}/bearbeiten",
            get(files::edit_case_form).post(files::update_case),
        )
        .route("/vorgaenge/{id}/wiedervorlage", post(files::resubmit_case))
        .route(
            "/vorgaenge/{id}/zda",
            get(files::close_case_form).post(files::close_case),
        )
        .route(
            "/vorgaenge/{id}/wiedereroeffnen",
            get(files::reopen_case_form).post(files::reopen_case),
        )
        .route("/akten/{id}/zda", get(files::close_form).post(files::close))
        .route(
            "/akten/{id}/wiedereroeffnen",
            get(files::reopen_form).post(files::reopen),
        )
        .route(
            "/akten/{id}/vorgaenge/neu",
            get(files::new_case_form).post(files::create_case),
        )
        .route("/akten/{id}/vorgaenge", post(files::create_case))
        .route(
            "/akten/{id}/vermerk",
            get(documents::note_form).post(documents::create_note),
        )
        .route("/dokumente/{id}", get(documents::show))
        .route(
            "/dokumente/{id}/geschaeftsgang",
            post(documents::start_routing),
        )
        .route(
            "/geschaeftsgang/{id}/entscheidung",
            post(documents::decide_routing),
        )
        .route(
            "/dokumente/{id}/bearbeiten",
            get(documents::edit_form).post(documents::update),
        )
        .route("/suche", get(search::show))
        // Amtshilfe: what other towns share with us, and sharing an Akte.
        .route("/geteilt", get(shares::list))
        .route("/geteilt/{id}", get(shares::show))
        .route(
            "/akten/{id}/teilen",
            get(shares::share_form).post(shares::share),
        )
        .route("/akten/{id}/teilen/{share}/beenden", post(shares::end))
        .route("/aussonderung", get(archive::due).post(archive::offer))
        .route("/aussonderung/{id}", get(archive::show))
        .route(
            "/aussonderung/{id}/nachrichten/{code}",
            get(archive::download),
        )
        .route("/loeschprotokoll", get(archive::protocol))
        .route("/importe", get(imports::list))
        .route(
            "/verwaltung/erscheinungsbild",
            get(admin::form).post(admin::save),
        )
        .route("/branding/logo", get(admin::logo))
        .route("/branding/theme.css", get(admin::theme))
        .route("/static/akta.css", get(assets::css))
        .route("/static/akta.js", get(assets::js))
        .route("/static/favicon.svg", get(assets::icon))
        .merge(uploads)
        .merge(messages)
        .merge(console)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state,
            error::render_error_pages,
        ))
}

/// Unknown paths: the German error page, but problem+json where a program asks (the API).
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        akta_api::api_not_found().await.into_response()
    } else {
        WebError::NotFound.into_response()
    }
}
