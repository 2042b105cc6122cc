//! The clerk web UI over the real stack: pages render in German, login leads to the start
//! page, forms without the session's CSRF token are refused, hostile values are escaped,
//! other tenants' objects are a 404 page, validation messages sit next to their field, and a
//! Wiedervorlage shows up on the start page.

use crate::browser::{Browser, Page};

use akta_testkit::{TestApp, TestTenant};
use serde_json::json;

const PASSWORD: &str = "Herbst in Hattingen 2026!";

impl Browser {
    /// Logs in through the login form; returns the page the login redirected to.
    async fn login(&mut self, tenant: &str, username: &str) -> Page {
        let form = self.get("/anmelden").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        let done = self
            .post(
                "/anmelden",
                &[
                    ("csrf_token", &csrf),
                    ("tenant", tenant),
                    ("username", username),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        done
    }
}

/// An Akte "Bauantrag" with a Vorgang `case_subject` holding one document "Antrag":
/// (Akte, Vorgang, Dokument).
async fn akte_with_case_document(
    tenant: &TestTenant,
    case_subject: &str,
) -> (String, String, String) {
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant.admin.create_file(&unit, "Bauantrag").await.id();
    let case = tenant.admin.create_case(&file, case_subject).await;
    let doc = tenant
        .admin
        .upload_document(
            &format!("/api/v1/cases/{case}"),
            "Antrag",
            b"%PDF-1.4".to_vec(),
        )
        .await
        .id();
    (file, case, doc)
}

async fn create_user(tenant: &TestTenant, username: &str, role: &str) {
    let reply = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": username, "display_name": "Anna Muster", "role": role, "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// The id of the tenant's user `username`.
async fn user_id(tenant: &TestTenant, username: &str) -> String {
    let users = tenant.admin.get("/api/v1/users").await;
    users.body["items"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_str())
        .expect("the user")
        .to_owned()
}

/// A tenant with a clerk `anna` logged in through the login form.
async fn clerk(app: &TestApp, slug: &str) -> (TestTenant, Browser) {
    let tenant = app.create_tenant(slug).await;
    create_user(&tenant, "anna", "clerk").await;
    let mut browser = Browser::new(app);
    browser.login(slug, "anna").await;
    (tenant, browser)
}

fn assert_strict_csp(page: &Page) {
    let csp = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!page.body.contains("<script>"), "inline script in page");
    assert!(!page.body.contains(" style=\""), "inline style in page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_login_page_renders_in_german_behind_a_strict_csp() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);

    let root = browser.get("/").await;
    assert_eq!(root.status, 303);
    assert_eq!(root.location(), "/anmelden");

    let login = browser.get("/anmelden").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("<html lang=\"de\">"), "{}", login.body);
    assert!(login.body.contains("<h1>Anmelden</h1>"), "{}", login.body);
    for field in ["tenant", "username", "password"] {
        assert!(
            login.body.contains(&format!("<label for=\"{field}\">")),
            "no label for {field}"
        );
    }
    assert!(login.body.contains("href=\"#inhalt\""), "skip link");
    assert!(login.body.contains("<main id=\"inhalt\""), "main landmark");
    assert_strict_csp(&login);
    let request_id = login.headers.get("x-request-id");
    assert!(request_id.is_some(), "request ids on UI routes");

    // A host name naming a tenant decides it; one that names none leaves the form field.
    let tenant = app.create_tenant("witten").await;
    create_user(&tenant, "anna", "clerk").await;
    let by_host = browser
        .send(
            browser
                .http
                .get(format!("{}/anmelden", browser.base))
                .header("host", "witten.akta.example.de"),
        )
        .await;
    assert!(
        by_host
            .body
            .contains("type=\"hidden\" name=\"tenant\" value=\"witten\""),
        "{}",
        by_host.body
    );
    let csrf = by_host.csrf();
    let logged_in = browser
        .send(
            browser
                .http
                .post(format!("{}/anmelden", browser.base))
                .header("host", "witten.akta.example.de")
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", "anna"),
                    ("password", PASSWORD),
                ]),
        )
        .await;
    assert_eq!(logged_in.status, 303, "{}", logged_in.body);
    browser.cookies.remove("akta_session");
    let other_host = browser
        .send(
            browser
                .http
                .get(format!("{}/anmelden", browser.base))
                .header("host", "akta.stadt-beispiel.de"),
        )
        .await;
    assert!(other_host.body.contains("<label for=\"tenant\">"));

    // A tenant in the path fixes it: no tenant field.
    let fixed = browser.get("/t/witten/anmelden").await;
    assert_eq!(fixed.status, 200);
    assert!(fixed
        .body
        .contains("type=\"hidden\" name=\"tenant\" value=\"witten\""));
    // Where the host decides, no other tenant's login page is shown under it.
    app.create_tenant("hagen").await;
    let mismatch = browser
        .send(
            browser
                .http
                .get(format!("{}/t/hagen/anmelden", browser.base))
                .header("host", "witten.akta.example.de"),
        )
        .await;
    assert_eq!(mismatch.status, 404, "{}", mismatch.body);

    // Static files come from Akta itself.
    let js = browser.get("/static/akta.js").await;
    assert_eq!(js.status, 200);
    assert!(js.body.contains("XMLHttpRequest"));
    let css = browser.get("/static/akta.css").await;
    assert_eq!(css.status, 200);
    assert!(css.body.contains(":focus-visible"));

    let english = browser.get("/sprache/en").await;
    assert_eq!(english.status, 303);
    let login = browser.get("/anmelden").await;
    assert!(login.body.contains("<h1>Log in</h1>"), "{}", login.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_login_leads_to_the_start_page_and_logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    create_user(&tenant, "anna", "clerk").await;
    let mut browser = Browser::new(&app);

    // Wrong password: the form again, with the message, no session.
    let form = browser.get("/anmelden").await;
    let csrf = form.csrf();
    let wrong = browser
        .post(
            "/anmelden",
            &[
                ("csrf_token", &csrf),
                ("tenant", "witten"),
                ("username", "anna"),
                ("password", "falsch"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("data-testid=\"login-error\""),
        "{}",
        wrong.body
    );
    assert!(!browser.cookies.contains_key("akta_session"));

    let done = browser.login("witten", "Anna").await;
    assert_eq!(done.location(), "/arbeitsplatz");
    let set_cookie: Vec<_> = done
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("akta_session="))
        .collect();
    assert!(set_cookie[0].contains("HttpOnly") && set_cookie[0].contains("SameSite=Strict"));

    let start = browser.get("/arbeitsplatz").await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(start.body.contains("<h1>Mein Arbeitsplatz</h1>"));
    assert!(start.body.contains("Anna Muster"));
    assert!(start.body.contains("Stadt witten"));
    assert!(
        start.body.contains("role=\"search\""),
        "search box in the header"
    );
    assert_strict_csp(&start);
    assert_eq!(browser.get("/").await.location(), "/arbeitsplatz");

    let csrf = start.csrf();
    let out = browser.post("/abmelden", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(browser.get("/arbeitsplatz").await.location(), "/anmelden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_forms_without_the_sessions_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let form = [("plan_unit_id", unit.as_str()), ("subject", "Bauantrag")];

    let missing = browser.post("/akten", &form).await;
    assert_eq!(missing.status, 403, "{}", missing.body);
    assert!(
        missing.body.contains("data-testid=\"request-id\""),
        "{}",
        missing.body
    );
    let wrong = browser
        .post(
            "/akten",
            &[
                ("csrf_token", "gefaelscht"),
                ("plan_unit_id", &unit),
                ("subject", "Bauantrag"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403);
    let files = tenant.admin.get("/api/v1/files").await;
    assert_eq!(files.body["items"].as_array().map(Vec::len), Some(0));
    let file = tenant.admin.create_file(&unit, "Bauantrag").await.id();
    let not_multipart = browser
        .post(&format!("/akten/{file}/dokumente"), &[("title", "x")])
        .await;
    assert_eq!(not_multipart.status, 400);
    assert!(not_multipart.body.contains("data-testid=\"request-id\""));
    let no_token = browser
        .send(
            browser
                .http
                .post(format!("{}/akten/{file}/dokumente", browser.base))
                .multipart(reqwest::multipart::Form::new().text("title", "x")),
        )
        .await;
    assert_eq!(no_token.status, 403, "{}", no_token.body);

    // The login form has no session yet: a double-submit cookie protects it.
    let mut stranger = Browser::new(&app);
    let forged = stranger
        .post(
            "/anmelden",
            &[
                ("csrf_token", "x"),
                ("tenant", "witten"),
                ("username", "anna"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(!stranger.cookies.contains_key("akta_session"));

    // The REST API's header rule keeps working for the upload script's cookie requests.
    let start = browser.get("/arbeitsplatz").await;
    let token = start.csrf();
    let rest = browser
        .send(
            browser
                .http
                .post(format!("{}/api/v1/files", browser.base))
                .header("x-csrf-token", token)
                .json(&json!({"plan_unit_id": unit, "subject": "Per Skript"})),
        )
        .await;
    assert_eq!(rest.status, 201, "{}", rest.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_pages_escape_hostile_titles() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let start = browser.get("/arbeitsplatz").await;
    let csrf = start.csrf();
    let hostile = "<script>alert(1)</script> & \"Co\"";
    let created = browser
        .post(
            "/akten",
            &[
                ("csrf_token", &csrf),
                ("plan_unit_id", &unit),
                ("subject", hostile),
                ("confidentiality", "normal"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let file_path = created.location().to_owned();
    let file_id = file_path.trim_start_matches("/akten/").to_owned();
    tenant
        .admin
        .upload_document(
            &format!("/api/v1/files/{file_id}"),
            hostile,
            b"%PDF-1.4".to_vec(),
        )
        .await;

    for path in [
        file_path.as_str(),
        "/arbeitsplatz",
        &format!("/aktenplan?einheit={unit}"),
        &format!("{file_path}?register=verlauf"),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(
            !page.body.contains("<script>alert"),
            "{path} is not escaped"
        );
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path} lost the title: {}",
            page.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_shows_another_tenants_akte_as_a_404_page() {
    let app = TestApp::spawn().await;
    let (_, mut browser) = clerk(&app, "witten").await;
    let other = app.create_tenant("herdecke").await;
    let unit = other.admin.create_plan_unit("10.01", None).await;
    let theirs = other.admin.create_file(&unit, "Geheim").await.id();
    let case = other.admin.create_case(&theirs, "Vorgang").await;

    for path in [
        format!("/akten/{theirs}"),
        format!("/akten/{theirs}/bearbeiten"),
        format!("/akten/{theirs}?register={case}"),
        format!("/aktenplan?einheit={unit}"),
        "/akten/kein-uuid".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(
            page.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("text/html")),
            "{path}: not HTML"
        );
        let request_id = page
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("request id")
            .to_owned();
        assert!(page.body.contains(&request_id), "{path}: no request id");
        assert!(page.body.contains("gibt es nicht"), "{}", page.body);
        assert!(!page.body.contains("Geheim"));
    }
    let csrf = browser.get("/arbeitsplatz").await.csrf();
    let write = browser
        .post(
            &format!("/akten/{theirs}/wiedervorlage"),
            &[
                ("csrf_token", &csrf),
                ("date", "2026-12-01"),
                ("action", "set"),
            ],
        )
        .await;
    assert_eq!(write.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_akte_form_shows_validation_errors_next_to_the_field() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;

    let form = browser.get(&format!("/akten/neu?einheit={unit}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("<label for=\"subject\">Betreff</label>"));
    let csrf = form.csrf();

    let empty = browser
        .post(
            "/akten",
            &[
                ("csrf_token", &csrf),
                ("plan_unit_id", &unit),
                ("subject", "   "),
                ("confidentiality", "normal"),
            ],
        )
        .await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty
        .body
        .contains("aria-invalid=\"true\" aria-describedby=\"subject-error\""));
    assert!(empty
        .body
        .contains("<p class=\"field-error\" id=\"subject-error\" data-testid=\"subject-error\">Bitte ausfüllen.</p>"));
    assert!(
        empty.body.contains("role=\"alert\""),
        "errors are announced"
    );

    let ok = browser
        .post(
            "/akten",
            &[
                ("csrf_token", &csrf),
                ("plan_unit_id", &unit),
                ("subject", "Neubau Musterweg 3"),
                ("confidentiality", "normal"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let akte = browser.get(ok.location()).await;
    assert_eq!(akte.status, 200);
    assert!(akte.body.contains("63.01-0001/"), "{}", akte.body);
    assert!(akte.body.contains("Neubau Musterweg 3"));
    assert!(akte.body.contains("Dokumente der Akte"));

    // What the clerk worked on is on the start page: the Akte and a new Vorgang in it.
    let file_id = ok.location().trim_start_matches("/akten/").to_owned();
    let case = browser
        .post(
            &format!("/akten/{file_id}/vorgaenge"),
            &[("csrf_token", &csrf), ("subject", "Bauantrag")],
        )
        .await;
    assert_eq!(case.status, 303, "{}", case.body);
    let start = browser.get("/arbeitsplatz").await;
    let section = |id: &str| {
        start
            .body
            .split(&format!("data-testid=\"{id}\""))
            .nth(1)
            .and_then(|s| s.split("</section>").next())
            .unwrap_or("")
            .to_owned()
    };
    assert!(
        section("my-files").contains("Neubau Musterweg 3"),
        "{}",
        start.body
    );
    assert!(section("my-cases").contains("Bauantrag"), "{}", start.body);
    assert!(
        section("recent-changes").contains("Vorgang angelegt"),
        "{}",
        start.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_wiedervorlage_appears_on_the_start_page() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant
        .admin
        .create_file(&unit, "Bauvoranfrage Lindenallee")
        .await
        .id();
    let case = tenant
        .admin
        .create_case(&file, "Nachforderung Statik")
        .await;

    let start = browser.get("/arbeitsplatz").await;
    assert!(start.body.contains("Keine fälligen Wiedervorlagen."));
    let csrf = start.csrf();
    let today = time::OffsetDateTime::now_utc().date();
    let yesterday = today.previous_day().expect("yesterday");
    let set = browser
        .post(
            &format!("/akten/{file}/wiedervorlage"),
            &[
                ("csrf_token", &csrf),
                ("date", &today.to_string()),
                ("action", "set"),
            ],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let set = browser
        .post(
            &format!("/vorgaenge/{case}/wiedervorlage"),
            &[
                ("csrf_token", &csrf),
                ("date", &yesterday.to_string()),
                ("action", "set"),
            ],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);

    let start = browser.get("/arbeitsplatz").await;
    let due = start
        .body
        .split("data-testid=\"due-resubmissions\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("due section");
    assert!(due.contains("Bauvoranfrage Lindenallee"), "{due}");
    assert!(due.contains("Nachforderung Statik"), "{due}");
    assert!(due.contains("überfällig"), "{due}");

    // A date in the future is not due yet; clearing removes it; the REST API sets it too.
    let later = (today + time::Duration::days(30)).to_string();
    browser
        .post(
            &format!("/akten/{file}/wiedervorlage"),
            &[("csrf_token", &csrf), ("date", &later), ("action", "set")],
        )
        .await;
    browser
        .post(
            &format!("/vorgaenge/{case}/wiedervorlage"),
            &[("csrf_token", &csrf), ("action", "clear")],
        )
        .await;
    let start = browser.get("/arbeitsplatz").await;
    assert!(
        start.body.contains("Keine fälligen Wiedervorlagen."),
        "{}",
        start.body
    );
    let rest = tenant
        .admin
        .send(
            tenant
                .admin
                .request(
                    reqwest::Method::PUT,
                    &format!("/api/v1/files/{file}/resubmission"),
                )
                .json(&json!({"date": today.to_string()})),
        )
        .await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    let start = browser.get("/arbeitsplatz").await;
    assert!(start.body.contains("Bauvoranfrage Lindenallee"));
    let history = tenant
        .admin
        .get(&format!("/api/v1/files/{file}/history"))
        .await;
    assert!(history.body.to_string().contains("file.resubmission_set"));

    // Closing the Akte (zdA) ends its Wiedervorlage; the history says it was closed.
    let path = format!("/api/v1/files/{file}");
    let etag = tenant
        .admin
        .get(&path)
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    let closed = tenant
        .admin
        .patch(&path, Some(&etag), json!({"status": "zdA"}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let start = browser.get("/arbeitsplatz").await;
    assert!(
        start.body.contains("Keine fälligen Wiedervorlagen."),
        "{}",
        start.body
    );
    let akte = browser
        .get(&format!("/akten/{file}?register=verlauf"))
        .await;
    assert!(
        akte.body
            .contains("hat die Akte zu den Akten verfügt (zdA)."),
        "{}",
        akte.body
    );
    // Like every change, no new Wiedervorlage on a closed Akte.
    let refused = tenant
        .admin
        .send(
            tenant
                .admin
                .request(
                    reqwest::Method::PUT,
                    &format!("/api/v1/files/{file}/resubmission"),
                )
                .json(&json!({"date": today.to_string()})),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
}

/// A multipart form as a browser sends it: the fields in order, the file part last.
fn multipart(
    fields: &[(&str, &str)],
    file: Option<(&str, &str, Vec<u8>)>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    if let Some((name, mime, bytes)) = file {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .expect("mime");
        form = form.part("file", part);
    }
    form
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_files_documents_without_script_and_closes_and_reopens_the_akte() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant
        .admin
        .create_file(&unit, "Bauantrag Hauptstraße 7")
        .await
        .id();
    let case = tenant.admin.create_case(&file, "Baugenehmigung").await;

    let form = browser
        .get(&format!("/akten/{file}/dokumente/neu?vorgang={case}"))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let csrf = form.csrf();

    // Metadata is checked before the file is stored: a missing title is shown at its field.
    let missing = browser
        .send(
            browser
                .http
                .post(format!("{}/akten/{file}/dokumente", browser.base))
                .multipart(multipart(
                    &[
                        ("csrf_token", &csrf),
                        ("vorgang", &case),
                        ("title", ""),
                        ("kind", "Eingang"),
                    ],
                    Some((
                        "antrag.txt",
                        "text/plain",
                        b"Antrag auf Baugenehmigung".to_vec(),
                    )),
                )),
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(
        missing.body.contains("data-testid=\"title-error\""),
        "{}",
        missing.body
    );
    assert!(
        app.blob_keys().await.is_empty(),
        "nothing stored for a refused upload"
    );

    let filed = browser
        .send(
            browser
                .http
                .post(format!("{}/akten/{file}/dokumente", browser.base))
                .multipart(multipart(
                    &[
                        ("csrf_token", &csrf),
                        ("vorgang", &case),
                        ("title", "Antrag <b>fett</b>"),
                        ("kind", "Eingang"),
                        ("sender", "Erika Mustermann"),
                        ("document_date", "2026-11-20"),
                    ],
                    Some(("antrag.pdf", "application/pdf", b"%PDF-1.4 Antrag".to_vec())),
                )),
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let register = browser.get(filed.location()).await;
    assert!(
        register.body.contains("Antrag &#60;b&#62;fett&#60;/b&#62;")
            || register.body.contains("Antrag &lt;b&gt;fett&lt;/b&gt;")
    );
    assert!(register.body.contains("Erika Mustermann"));
    assert!(register.body.contains("20.11.2026"));
    let docs = tenant
        .admin
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await;
    let doc = docs.body["items"][0]["id"]
        .as_str()
        .expect("document")
        .to_owned();

    // The document view frames the PDF inline from the content route.
    let view = browser.get(&format!("/dokumente/{doc}")).await;
    assert_eq!(view.status, 200, "{}", view.body);
    let inline = format!("/api/v1/documents/{doc}/versions/1/content?disposition=inline");
    assert!(
        view.body.contains(&format!(
            "<iframe class=\"pdf\" src=\"{}\"",
            inline.replace('&', "&#38;")
        )) || view.body.contains(&inline),
        "{}",
        view.body
    );
    let content = browser.get(&inline).await;
    assert_eq!(content.status, 200);
    let disposition = content
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert_eq!(
        content
            .headers
            .get("x-frame-options")
            .and_then(|v| v.to_str().ok()),
        Some("SAMEORIGIN")
    );
    let download = browser
        .get(&format!("/api/v1/documents/{doc}/versions/1/content"))
        .await;
    let disposition = download
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(disposition.starts_with("attachment;"), "{disposition}");

    // A new version through the form on the document view.
    let csrf = view.csrf();
    let version = browser
        .send(
            browser
                .http
                .post(format!("{}/dokumente/{doc}/versionen", browser.base))
                .multipart(multipart(
                    &[("csrf_token", &csrf)],
                    Some(("antrag-v2.pdf", "application/pdf", b"%PDF-1.4 v2".to_vec())),
                )),
        )
        .await;
    assert_eq!(version.status, 303, "{}", version.body);
    let view = browser.get(&format!("/dokumente/{doc}")).await;
    assert_eq!(view.body.matches("data-testid=\"version-row\"").count(), 2);

    // A Vermerk written in the browser is a text document: its text is extracted while it is
    // filed (this app runs no extraction worker), so the preview shows it at once, escaped.
    let note = browser
        .post(
            &format!("/akten/{file}/vermerk"),
            &[
                ("csrf_token", &csrf),
                ("vorgang", ""),
                ("title", "Ortstermin"),
                ("text", "Begehung am 3.12.\n<i>keine</i> Mängel"),
            ],
        )
        .await;
    assert_eq!(note.status, 303, "{}", note.body);
    let note_page = browser.get(note.location()).await;
    assert!(note_page.body.contains("Ortstermin"));
    assert!(note_page.body.contains("Vermerk"));
    assert!(
        note_page
            .body
            .contains("&#60;i&#62;keine&#60;/i&#62; Mängel")
            || note_page.body.contains("&lt;i&gt;keine&lt;/i&gt; Mängel"),
        "{}",
        note_page.body
    );
    assert!(!note_page.body.contains("<i>keine</i>"));

    // zdA needs a confirmation page; reopening needs a reason, which lands in the history.
    let confirm = browser.get(&format!("/akten/{file}/zda")).await;
    assert_eq!(confirm.status, 200);
    let version_field = confirm
        .body
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("version")
        .to_owned();
    let closed = browser
        .post(
            &format!("/akten/{file}/zda"),
            &[("csrf_token", &csrf), ("version", &version_field)],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    let akte = browser.get(&format!("/akten/{file}")).await;
    assert!(akte.body.contains("zdA (zu den Akten)"), "{}", akte.body);
    assert!(akte.body.contains("data-testid=\"reopen-file\""));
    let refused = browser
        .send(
            browser
                .http
                .post(format!("{}/akten/{file}/dokumente", browser.base))
                .multipart(multipart(
                    &[
                        ("csrf_token", &csrf),
                        ("vorgang", ""),
                        ("title", "Nachtrag"),
                        ("kind", "Eingang"),
                    ],
                    Some(("n.pdf", "application/pdf", b"%PDF".to_vec())),
                )),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    let reopen = browser.get(&format!("/akten/{file}/wiedereroeffnen")).await;
    let version_field = reopen
        .body
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("version")
        .to_owned();
    let no_reason = browser
        .post(
            &format!("/akten/{file}/wiedereroeffnen"),
            &[
                ("csrf_token", &csrf),
                ("version", &version_field),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.body.contains("data-testid=\"reason-error\""));
    let reopened = browser
        .post(
            &format!("/akten/{file}/wiedereroeffnen"),
            &[
                ("csrf_token", &csrf),
                ("version", &version_field),
                ("reason", "Widerspruch eingegangen"),
            ],
        )
        .await;
    assert_eq!(reopened.status, 303, "{}", reopened.body);
    let history = browser
        .get(&format!("/akten/{file}?register=verlauf"))
        .await;
    // The Verlauf reads in sentences: names, titles (escaped), version numbers, reasons.
    for expected in [
        "hat die Akte wieder eröffnet. Grund: Widerspruch eingegangen",
        "hat das Dokument „Ortstermin“ abgelegt.",
        "hat Version 2 von „Antrag &#60;b&#62;fett&#60;/b&#62;“ abgelegt.",
        "hat die Akte zu den Akten verfügt (zdA).",
        "Anna Muster",
    ] {
        assert!(
            history.body.contains(expected),
            "no {expected:?} in {}",
            history.body
        );
    }
    assert!(
        !history.body.contains(">anna<"),
        "a login name in the Verlauf"
    );
    let events = tenant
        .admin
        .get(&format!("/api/v1/files/{file}/history"))
        .await;
    assert!(events.body.to_string().contains("Widerspruch eingegangen"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_search_finds_a_document_and_links_into_the_akte() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant
        .admin
        .create_file(&unit, "Bauantrag Lindenstraße")
        .await
        .id();
    tenant
        .admin
        .upload_document(
            &format!("/api/v1/files/{file}"),
            "Lärmschutzgutachten",
            b"%PDF-1.4".to_vec(),
        )
        .await;

    let mut found = None;
    for _ in 0..40 {
        let page = browser.get("/suche?q=L%C3%A4rmschutzgutachten").await;
        assert_eq!(page.status, 200, "{}", page.body);
        if page.body.contains("data-testid=\"search-hit\"") {
            found = Some(page);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let page = found.expect("the document is found");
    assert!(
        page.body.contains(&format!("href=\"/akten/{file}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-testid=\"facets\""));
    assert!(page.body.contains("Eingang"));
    assert!(
        page.body.contains("value=\"Lärmschutzgutachten\""),
        "the query stays in the box"
    );

    let filtered = browser
        .get("/suche?q=L%C3%A4rmschutzgutachten&kind=Bescheid")
        .await;
    assert!(
        filtered.body.contains("Keine Treffer."),
        "{}",
        filtered.body
    );
    let bad = browser.get("/suche?q=%22offen").await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("data-testid=\"search-error\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_branding_is_set_by_the_tenant_admin_and_shown_in_the_header() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    create_user(&tenant, "chef", "admin").await;
    create_user(&tenant, "anna", "clerk").await;
    let mut admin = Browser::new(&app);
    admin.login("witten", "chef").await;
    let mut clerk = Browser::new(&app);
    clerk.login("witten", "anna").await;
    assert_eq!(clerk.get("/verwaltung/erscheinungsbild").await.status, 403);

    let form = admin.get("/verwaltung/erscheinungsbild").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let (http, base) = (admin.http.clone(), admin.base.clone());
    let post = |fields: Vec<(&'static str, String)>, logo: Option<Vec<u8>>| {
        let mut f = reqwest::multipart::Form::new().text("csrf_token", csrf.clone());
        for (k, v) in fields {
            f = f.text(k, v);
        }
        if let Some(bytes) = logo {
            f = f.part(
                "logo",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("wappen.png")
                    .mime_str("image/png")
                    .expect("mime"),
            );
        }
        http.post(format!("{base}/verwaltung/erscheinungsbild"))
            .multipart(f)
    };
    let too_light = admin
        .send(post(
            vec![
                ("header_name", "Stadt Witten".into()),
                ("accent_color", "#ffff00".into()),
            ],
            None,
        ))
        .await;
    assert_eq!(too_light.status, 422, "{}", too_light.body);
    assert!(too_light
        .body
        .contains("data-testid=\"accent_color-error\""));
    let svg = admin
        .send(post(
            vec![("header_name", "Stadt Witten".into())],
            Some(b"<svg onload=alert(1)>".to_vec()),
        ))
        .await;
    assert_eq!(svg.status, 422);

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let saved = admin
        .send(post(
            vec![
                ("header_name", "Stadt Witten – Bauamt".into()),
                ("accent_color", "#005A9C".into()),
            ],
            Some(png.clone()),
        ))
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    let start = clerk.get("/arbeitsplatz").await;
    assert!(
        start.body.contains("Stadt Witten – Bauamt"),
        "{}",
        start.body
    );
    assert!(start.body.contains("src=\"/branding/logo\""));
    assert!(start.body.contains("href=\"/branding/theme.css\""));
    let theme = clerk.get("/branding/theme.css").await;
    assert_eq!(theme.body.trim(), ":root { --accent: #005a9c; }");
    let logo = clerk
        .send(clerk.http.get(format!("{}/branding/logo", clerk.base)))
        .await;
    assert_eq!(logo.status, 200);
    assert_eq!(
        logo.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    let login = Browser::new(&app).get("/t/witten/anmelden").await;
    assert!(login.body.contains("Stadt Witten – Bauamt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_edits_vorgang_and_document_metadata() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let (file, case, doc) = akte_with_case_document(&tenant, "Alter Betreff").await;

    let form = browser.get(&format!("/vorgaenge/{case}/bearbeiten")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let version = form.hidden("version");
    let saved = browser
        .post(
            &format!("/vorgaenge/{case}/bearbeiten"),
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("subject", "Neuer Betreff"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let case_json = tenant.admin.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(case_json.body["subject"], "Neuer Betreff");

    let doc_version = browser
        .get(&format!("/dokumente/{doc}/bearbeiten"))
        .await
        .hidden("version");
    let bad = browser
        .post(
            &format!("/dokumente/{doc}/bearbeiten"),
            &[
                ("csrf_token", &csrf),
                ("version", &doc_version),
                ("title", "Bescheid"),
                ("kind", "Brief"),
                ("document_date", "gestern"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("data-testid=\"kind-error\""));
    assert!(bad.body.contains("data-testid=\"document_date-error\""));
    let ok = browser
        .post(
            &format!("/dokumente/{doc}/bearbeiten"),
            &[
                ("csrf_token", &csrf),
                ("version", &doc_version),
                ("title", "Baugenehmigung"),
                ("kind", "Bescheid"),
                ("recipient", "Erika Mustermann"),
                ("document_date", "2026-11-24"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let doc_json = tenant.admin.get(&format!("/api/v1/documents/{doc}")).await;
    assert_eq!(doc_json.body["title"], "Baugenehmigung");
    assert_eq!(doc_json.body["kind"], "Bescheid");
    assert_eq!(doc_json.body["document_date"], "2026-11-24");
    let history = browser
        .get(&format!("/akten/{file}?register=verlauf"))
        .await;
    assert!(
        history
            .body
            .contains("hat die Angaben zu „Baugenehmigung“ geändert: Titel, Art"),
        "{}",
        history.body
    );
    assert!(history.body.contains("geändert."), "{}", history.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_closes_a_vorgang_which_then_takes_no_documents_and_reopens_it_with_a_reason() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant.admin.create_file(&unit, "Bauantrag").await.id();
    let case = tenant.admin.create_case(&file, "Baugenehmigung").await;

    let confirm = browser.get(&format!("/vorgaenge/{case}/zda")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let csrf = confirm.csrf();
    let closed = browser
        .post(
            &format!("/vorgaenge/{case}/zda"),
            &[
                ("csrf_token", &csrf),
                ("version", &confirm.hidden("version")),
            ],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    let register = browser.get(&format!("/akten/{file}?register={case}")).await;
    assert!(register.body.contains("data-testid=\"reopen-case\""));
    assert!(!register.body.contains("data-testid=\"dropzone\""));

    // The REST upload into the closed Vorgang is refused too.
    let refused = tenant
        .admin
        .upload(
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"title": "Nachtrag", "kind": "Eingang"})),
            Some(("n.pdf", "application/pdf", b"%PDF".to_vec())),
        )
        .await;
    refused.assert_problem(409, "conflict");

    let version = browser
        .get(&format!("/vorgaenge/{case}/wiedereroeffnen"))
        .await
        .hidden("version");
    let no_reason = browser
        .post(
            &format!("/vorgaenge/{case}/wiedereroeffnen"),
            &[("csrf_token", &csrf), ("version", &version), ("reason", "")],
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let reopened = browser
        .post(
            &format!("/vorgaenge/{case}/wiedereroeffnen"),
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("reason", "Nachforderung eingegangen"),
            ],
        )
        .await;
    assert_eq!(reopened.status, 303, "{}", reopened.body);
    tenant
        .admin
        .upload_document(
            &format!("/api/v1/cases/{case}"),
            "Nachtrag",
            b"%PDF".to_vec(),
        )
        .await;
    let history = browser
        .get(&format!("/akten/{file}?register=verlauf"))
        .await;
    assert!(
        history.body.contains("zu den Akten verfügt (zdA)."),
        "{}",
        history.body
    );
    assert!(
        history.body.contains("wieder eröffnet. Grund:"),
        "{}",
        history.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_language_is_a_setting_of_the_user_that_follows_them_to_another_browser() {
    let app = TestApp::spawn().await;
    let (_tenant, mut browser) = clerk(&app, "hattingen").await;
    let start = browser.get("/arbeitsplatz").await;
    assert!(start.body.contains("<html lang=\"de\""), "{}", start.body);
    let csrf = start.csrf();

    // Without the session's token the setting is refused.
    let forged = browser.post("/sprache", &[("lang", "en")]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let saved = browser
        .post("/sprache", &[("csrf_token", &csrf), ("lang", "en")])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let start = browser.get("/arbeitsplatz").await;
    assert!(start.body.contains("<html lang=\"en\""), "{}", start.body);

    // A fresh browser, no cookies: the login applies the user's setting.
    let mut other = Browser::new(&app);
    other.login("hattingen", "anna").await;
    let start = other.get("/arbeitsplatz").await;
    assert!(start.body.contains("<html lang=\"en\""), "{}", start.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_unknown_pages_get_the_german_error_page_and_unknown_api_paths_a_problem() {
    let app = TestApp::spawn().await;
    let (_tenant, mut browser) = clerk(&app, "wetter").await;
    let page = browser.get("/gibt-es-nicht").await;
    assert_eq!(page.status, 404);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html"),
        "{:?}",
        page.headers
    );
    assert!(
        page.body
            .contains("Diese Seite oder dieses Objekt gibt es nicht"),
        "{}",
        page.body
    );
    assert_strict_csp(&page);

    let api = app.anonymous().get("/api/v1/gibt-es-nicht").await;
    api.assert_problem(404, "not_found");
}

/// The web UI's side of the core's zdA rule (REST's side is in `rules.rs`): what the REST API
/// refuses with 409, the web forms refuse with the 409 page, and a closed Vorgang's documents
/// cannot be edited here either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_obeys_the_same_zda_rule_as_rest() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "witten").await;
    let admin = &tenant.admin;
    let (file, case, doc) = akte_with_case_document(&tenant, "Baugenehmigung").await;

    // A closed Vorgang: its document and its Betreff are frozen on both surfaces.
    let doc_form = browser.get(&format!("/dokumente/{doc}/bearbeiten")).await;
    let csrf = doc_form.csrf();
    let doc_version = doc_form.hidden("version");
    let case_form = browser.get(&format!("/vorgaenge/{case}/bearbeiten")).await;
    let case_version = case_form.hidden("version");
    let closed = admin
        .patch(
            &format!("/api/v1/cases/{case}"),
            Some(&format!("\"v{case_version}\"")),
            json!({"status": "zdA"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let edited = browser
        .post(
            &format!("/dokumente/{doc}/bearbeiten"),
            &[
                ("csrf_token", &csrf),
                ("version", &doc_version),
                ("title", "Geändert"),
                ("kind", "Eingang"),
            ],
        )
        .await;
    assert_eq!(edited.status, 409, "{}", edited.body);
    let renamed = browser
        .post(
            &format!("/vorgaenge/{case}/bearbeiten"),
            &[
                ("csrf_token", &csrf),
                (
                    "version",
                    &(case_version.parse::<i32>().expect("version") + 1).to_string(),
                ),
                ("subject", "Geändert"),
            ],
        )
        .await;
    assert_eq!(renamed.status, 409, "{}", renamed.body);
    let doc_json = admin.get(&format!("/api/v1/documents/{doc}")).await;
    assert_eq!(doc_json.body["title"], "Antrag", "nothing was saved");

    // A closed Akte: the web edit form is refused like REST's PATCH.
    let edit = browser.get(&format!("/akten/{file}/bearbeiten")).await;
    let file_version = edit.hidden("version");
    let close = browser.get(&format!("/akten/{file}/zda")).await;
    let zda = browser
        .post(
            &format!("/akten/{file}/zda"),
            &[("csrf_token", &csrf), ("version", &close.hidden("version"))],
        )
        .await;
    assert_eq!(zda.status, 303, "{}", zda.body);
    let closed_version = (file_version.parse::<i32>().expect("version") + 1).to_string();
    let refused = browser
        .post(
            &format!("/akten/{file}/bearbeiten"),
            &[
                ("csrf_token", &csrf),
                ("version", &closed_version),
                ("subject", "Geändert"),
                ("lead_org_unit_id", ""),
                ("confidentiality", "normal"),
            ],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let rest = admin
        .patch(
            &format!("/api/v1/files/{file}"),
            Some(&format!("\"v{closed_version}\"")),
            json!({"subject": "Geändert"}),
        )
        .await;
    rest.assert_problem(409, "conflict");

    // Reopening needs a reason on both surfaces; the web's reopening is the same event.
    let reopened = browser
        .post(
            &format!("/akten/{file}/wiedereroeffnen"),
            &[
                ("csrf_token", &csrf),
                ("version", &closed_version),
                ("reason", "Nachtrag"),
            ],
        )
        .await;
    assert_eq!(reopened.status, 303, "{}", reopened.body);
    let history = admin.get(&format!("/api/v1/files/{file}/history")).await;
    let reopen_events: Vec<_> = history.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "file.reopened")
        .collect();
    assert_eq!(reopen_events.len(), 1, "{}", history.body);
    assert_eq!(reopen_events[0]["after"]["reason"], "Nachtrag");
}

/// `/importe`: a tenant admin starts an import from a container in the web UI (a dry run,
/// then the real one), sees it run and finish with its result and report; a clerk cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_imports_a_container_with_a_dry_run_first() {
    let app = TestApp::spawn().await;
    let source = app.create_tenant("witten").await;
    let (_, _, _, container) = crate::abgabe::outside(&source.admin).await;
    assert_eq!(container.status, 200, "{}", container.body);
    let tenant = app.create_tenant("herdecke").await;
    create_user(&tenant, "ida", "admin").await;
    create_user(&tenant, "anna", "clerk").await;
    let mut clerk = Browser::new(&app);
    clerk.login("herdecke", "anna").await;
    assert_eq!(clerk.get("/importe").await.status, 403);

    let mut admin = Browser::new(&app);
    admin.login("herdecke", "ida").await;
    for (dry, result) in [(true, "1 würden angelegt"), (false, "1 angelegt")] {
        let page = admin.get("/importe").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("data-testid=\"nav-imports\""));
        let mut form = reqwest::multipart::Form::new().text("csrf_token", page.csrf());
        if dry {
            form = form.text("probelauf", "1");
        }
        let form = form.text("plan_anlegen", "1").part(
            "container",
            reqwest::multipart::Part::bytes(container.bytes.clone())
                .file_name("abgabe.zip")
                .mime_str("application/zip")
                .expect("mime"),
        );
        let started = admin
            .send(
                admin
                    .http
                    .post(format!("{}/importe", admin.base))
                    .multipart(form),
            )
            .await;
        assert_eq!(started.status, 303, "{}", started.body);
        assert_eq!(started.location(), "/importe");
        let mut page = admin.get("/importe").await;
        for _ in 0..200 {
            if !page.body.contains(">läuft<") {
                break;
            }
            assert!(page.body.contains("http-equiv=\"refresh\""));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            page = admin.get("/importe").await;
        }
        assert!(page.body.contains(result), "{}", page.body);
        assert!(page.body.contains("data-testid=\"import-report\""));
    }
    let files = tenant.admin.get("/api/v1/files").await;
    assert_eq!(files.body["items"][0]["subject"], "Marktrecht Kirmes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_wiedervorlagen_assigned_to_a_person_show_on_her_start_page_and_are_marked_done() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "wetter").await;
    let anna = user_id(&tenant, "anna").await;
    let berta = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": "berta", "display_name": "Berta Brandt", "role": "clerk", "password": PASSWORD}),
        )
        .await
        .id();
    let unit = tenant.admin.create_plan_unit("63", None).await;
    let file = tenant
        .admin
        .create_file(&unit, "Gartenhaus Am Bach")
        .await
        .id();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for (who, note) in [
        (&anna, "Für Anna: Unterlagen prüfen"),
        (&berta, "Für Berta: Ortstermin"),
    ] {
        let r = tenant
            .admin
            .post(
                &format!("/api/v1/files/{file}/resubmissions"),
                json!({"due_on": today, "user_id": who, "note": note}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let start = browser.get("/arbeitsplatz").await;
    let due = start
        .body
        .split("data-testid=\"due-resubmissions\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("due section");
    assert!(due.contains("Für Anna: Unterlagen prüfen"), "{due}");
    assert!(!due.contains("Für Berta"), "another's Wiedervorlage: {due}");

    // The Akte lists both with their people; Anna marks hers done.
    let akte = browser.get(&format!("/akten/{file}")).await;
    assert!(akte.body.contains("Berta Brandt"), "the Akte lacks Berta's");
    let annas = tenant
        .admin
        .get(&format!("/api/v1/files/{file}/resubmissions"))
        .await
        .body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["user_id"] == anna.as_str())
        .and_then(|r| r["id"].as_str())
        .expect("anna's")
        .to_owned();
    let csrf = akte.csrf();
    let done = browser
        .post(
            &format!("/wiedervorlagen/{annas}/erledigt"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let start = browser.get("/arbeitsplatz").await;
    assert!(
        start.body.contains("Keine fälligen Wiedervorlagen."),
        "{}",
        start.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_error_pages_keep_header_and_navigation_and_forms_post_to_their_own_page() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "herdecke").await;
    let unit = tenant.admin.create_plan_unit("63", None).await;
    let created = tenant.admin.create_file(&unit, "Umbau Rathaus").await;
    let file = created.id();
    let reference = created.body["reference"]
        .as_str()
        .expect("reference")
        .to_owned();

    // A missing page: the person's header and navigation, the request's Fehlerkennung.
    let missing = browser
        .get(&format!("/akten/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, 404);
    for expected in [
        "class=\"main-nav\"",
        "Anna Muster",
        "Fehlerkennung",
        "data-testid=\"request-id\"",
    ] {
        assert!(
            missing.body.contains(expected),
            "no {expected:?} in {}",
            missing.body
        );
    }
    assert!(!missing.body.contains("Vorgangsnummer"), "{}", missing.body);

    // A form's address opened from the address bar: the German page, not the browser's 405.
    for path in [
        format!("/akten/{file}/wiedervorlage"),
        "/abmelden".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 405, "{path}");
        assert!(
            page.body
                .contains("nimmt nur ausgefüllte Formulare entgegen"),
            "{path}: {}",
            page.body
        );
        assert!(
            page.body.contains("class=\"main-nav\""),
            "{path}: {}",
            page.body
        );
    }

    // The new-Vorgang form names its Akte and posts to its own address, so after an error
    // the address bar holds the form, which a reload shows again.
    let form = browser.get(&format!("/akten/{file}/vorgaenge/neu")).await;
    assert!(
        form.body.contains(&format!("Neuer Vorgang in {reference}")),
        "{}",
        form.body
    );
    let action = format!("action=\"/akten/{file}/vorgaenge/neu\"");
    assert!(form.body.contains(&action), "{}", form.body);
    let csrf = form.csrf();
    let refused = browser
        .post(
            &format!("/akten/{file}/vorgaenge/neu"),
            &[("csrf_token", &csrf), ("subject", " ")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let again = browser.get(&format!("/akten/{file}/vorgaenge/neu")).await;
    assert_eq!(again.status, 200);
    let created = browser
        .post(
            &format!("/akten/{file}/vorgaenge/neu"),
            &[("csrf_token", &csrf), ("subject", "Brandschutz")],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let upload_form = browser.get(&format!("/akten/{file}/dokumente/neu")).await;
    assert!(
        upload_form
            .body
            .contains(&format!("action=\"/akten/{file}/dokumente/neu\"")),
        "{}",
        upload_form.body
    );
    let new_file = browser.get(&format!("/akten/neu?einheit={unit}")).await;
    assert!(
        new_file
            .body
            .contains(&format!("action=\"/akten/neu?einheit={unit}\"")),
        "{}",
        new_file.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_start_page_has_recent_akten_favourites_and_a_deputy_sees_the_absent_persons_work() {
    let app = TestApp::spawn().await;
    let (tenant, mut anna_browser) = clerk(&app, "ennepetal").await;
    let berta = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": "berta", "display_name": "Berta Brandt", "role": "clerk", "password": PASSWORD}),
        )
        .await;
    assert_eq!(berta.status, 201, "{}", berta.body);
    let berta = berta.id();
    let anna = user_id(&tenant, "anna").await;
    let unit = tenant.admin.create_plan_unit("32", None).await;
    let file = tenant
        .admin
        .create_file(&unit, "Sondernutzung Marktplatz")
        .await
        .id();

    // Opened once: on the start page; kept as a favourite: there too.
    let akte = anna_browser.get(&format!("/akten/{file}")).await;
    let csrf = akte.csrf();
    let start = anna_browser.get("/arbeitsplatz").await;
    let opened = start
        .body
        .split("data-testid=\"recently-opened\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("recently opened");
    assert!(opened.contains("Sondernutzung Marktplatz"), "{opened}");
    let fav = anna_browser
        .post(
            &format!("/akten/{file}/favorit"),
            &[("csrf_token", &csrf), ("action", "add")],
        )
        .await;
    assert_eq!(fav.status, 303, "{}", fav.body);
    let start = anna_browser.get("/arbeitsplatz").await;
    assert!(
        start.body.contains("data-testid=\"favourite\""),
        "{}",
        start.body
    );
    let akte = anna_browser.get(&format!("/akten/{file}")).await;
    assert!(akte.body.contains("Aus den Favoriten nehmen"));

    // Anna is away: Berta stands in and sees Anna's Posteingang and Wiedervorlagen.
    let today = time::OffsetDateTime::now_utc().date();
    let until = (today + time::Duration::days(7)).to_string();
    let letter = tenant
        .admin
        .upload(
            "/api/v1/inbox",
            Some(json!({"user_id": anna, "title": "Antrag Wochenmarkt"})),
            Some(("antrag.pdf", "application/pdf", b"%PDF-1.4 Antrag".to_vec())),
        )
        .await;
    assert_eq!(letter.status, 201, "{}", letter.body);
    let wv = tenant
        .admin
        .post(
            &format!("/api/v1/files/{file}/resubmissions"),
            json!({"due_on": today.to_string(), "user_id": anna, "note": "Gebühr festsetzen"}),
        )
        .await;
    assert_eq!(wv.status, 201, "{}", wv.body);
    let mut berta_browser = Browser::new(&app);
    berta_browser.login("ennepetal", "berta").await;
    let before = berta_browser.get("/arbeitsplatz").await;
    assert!(
        !before.body.contains("Antrag Wochenmarkt"),
        "{}",
        before.body
    );
    assert!(
        !before.body.contains("Gebühr festsetzen"),
        "{}",
        before.body
    );
    assert_eq!(
        berta_browser
            .get(&format!("/posteingang/{}", letter.id()))
            .await
            .status,
        404
    );

    let named = anna_browser
        .post(
            "/vertretung",
            &[
                ("csrf_token", &csrf),
                ("deputy", &berta),
                ("from", &today.to_string()),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(named.status, 303, "{}", named.body);
    let during = berta_browser.get("/arbeitsplatz").await;
    assert!(
        during.body.contains("Antrag Wochenmarkt"),
        "{}",
        during.body
    );
    assert!(during.body.contains("Gebühr festsetzen"), "{}", during.body);
    assert!(
        during.body.contains("Ich vertrete Anna Muster"),
        "{}",
        during.body
    );
    assert_eq!(
        berta_browser
            .get(&format!("/posteingang/{}", letter.id()))
            .await
            .status,
        200
    );

    // Ended: Berta sees nothing of Anna's again.
    let desk: serde_json::Value =
        serde_json::from_str(&anna_browser.get("/api/v1/desk").await.body).expect("desk json");
    let id = desk["deputies"][0]["id"]
        .as_str()
        .expect("deputy id")
        .to_owned();
    let ended = anna_browser
        .post(
            &format!("/vertretung/{id}/beenden"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(ended.status, 303, "{}", ended.body);
    let after = berta_browser.get("/arbeitsplatz").await;
    assert!(!after.body.contains("Antrag Wochenmarkt"), "{}", after.body);
    // Nobody stands in for themselves, and a token has no desk.
    let own = anna_browser
        .post(
            "/vertretung",
            &[
                ("csrf_token", &csrf),
                ("deputy", &anna),
                ("from", &today.to_string()),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(own.status, 400, "{}", own.body);
    assert_eq!(tenant.admin.get("/api/v1/desk").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_login_page_names_the_town_and_offers_towns_by_name() {
    let app = TestApp::spawn().await;
    let _a = app.create_tenant("breckerfeld").await;
    let _b = app.create_tenant("gevelsberg").await;
    let mut browser = Browser::new(&app);
    let generic = browser.get("/anmelden").await;
    assert!(
        generic.body.contains("<select id=\"tenant\""),
        "{}",
        generic.body
    );
    assert!(!generic.body.contains("Kennung"), "{}", generic.body);
    let names: Vec<String> = app.operator.get("/api/v1/tenants").await.body["items"]
        .as_array()
        .expect("tenants")
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        assert!(
            generic.body.contains(&format!(">{name}</option>")),
            "{name}: {}",
            generic.body
        );
    }
    let town = browser.get("/t/gevelsberg/anmelden").await;
    let gevelsberg = app.operator.get("/api/v1/tenants").await.body["items"]
        .as_array()
        .expect("tenants")
        .iter()
        .find(|t| t["slug"] == "gevelsberg")
        .and_then(|t| t["name"].as_str())
        .expect("name")
        .to_owned();
    assert!(
        town.body.contains(&format!("Anmelden – {gevelsberg}")),
        "{}",
        town.body
    );
    // No coat of arms set: none is shown, and its address answers 404.
    assert!(!town.body.contains("/t/gevelsberg/wappen"));
    assert_eq!(browser.get("/t/gevelsberg/wappen").await.status, 404);
    assert_eq!(browser.get("/t/unbekannt/wappen").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_a_second_akte_with_the_same_betreff_is_pointed_out_before_it_is_created() {
    let app = TestApp::spawn().await;
    let (tenant, mut browser) = clerk(&app, "wetter").await;
    let unit = tenant.admin.create_plan_unit("63", None).await;
    let existing = tenant.admin.create_file(&unit, "Bahnhofstraße 5").await;
    let reference = existing.body["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let form = browser.get(&format!("/akten/neu?einheit={unit}")).await;
    let csrf = form.csrf();
    let fields = |extra: Option<(&'static str, &'static str)>| {
        let mut f = vec![
            ("csrf_token", csrf.clone()),
            ("plan_unit_id", unit.clone()),
            ("subject", " bahnhofstraße 5 ".to_owned()),
            ("confidentiality", "normal".to_owned()),
            ("lead_org_unit_id", String::new()),
        ];
        if let Some((k, v)) = extra {
            f.push((k, v.to_owned()));
        }
        f
    };
    let first: Vec<(&str, String)> = fields(None);
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let warned = browser
        .post(&format!("/akten/neu?einheit={unit}"), &first)
        .await;
    assert_eq!(warned.status, 409, "{}", warned.body);
    assert!(
        warned.body.contains("data-testid=\"duplicate-subject\""),
        "{}",
        warned.body
    );
    assert!(warned.body.contains(&reference), "{}", warned.body);
    assert!(warned.body.contains("name=\"trotzdem\" value=\"1\""));
    let files = tenant.admin.get("/api/v1/files").await;
    assert_eq!(files.body["items"].as_array().map(Vec::len), Some(1));

    let second = fields(Some(("trotzdem", "1")));
    let second: Vec<(&str, &str)> = second.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = browser
        .post(&format!("/akten/neu?einheit={unit}"), &second)
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let files = tenant.admin.get("/api/v1/files").await;
    assert_eq!(files.body["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_posteingang_shows_a_person_hers_her_units_and_the_general_items_only() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("gevelsberg").await;
    let unit_of = |code: &'static str, name: &'static str| {
        let admin = tenant.admin.clone();
        async move {
            let r = admin
                .post("/api/v1/org-units", json!({"code": code, "name": name}))
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.id()
        }
    };
    let bauamt = unit_of("63", "Bauordnungsamt").await;
    let kaemmerei = unit_of("20", "Kämmerei").await;
    for (username, unit) in [("anna", &bauamt), ("kurt", &kaemmerei)] {
        let r = tenant
            .admin
            .post(
                "/api/v1/users",
                json!({"username": username, "display_name": username, "role": "clerk",
                       "password": PASSWORD, "org_unit_id": unit}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let kurt_id = user_id(&tenant, "kurt").await;
    let deliver = |title: &'static str, to: serde_json::Value| {
        let admin = tenant.admin.clone();
        async move {
            let mut meta = to;
            meta["title"] = json!(title);
            let r = admin
                .upload(
                    "/api/v1/inbox",
                    Some(meta),
                    Some(("scan.pdf", "application/pdf", b"%PDF-1.4 scan".to_vec())),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    deliver("Bauantrag Lindenweg", json!({"org_unit_id": bauamt})).await;
    deliver("Grundsteuerbescheid", json!({"org_unit_id": kaemmerei})).await;
    deliver("Persönlich für Kurt", json!({"user_id": kurt_id})).await;
    deliver("Allgemeine Post", json!({})).await;

    let mut anna = Browser::new(&app);
    anna.login("gevelsberg", "anna").await;
    let hers = anna.get("/posteingang").await;
    assert!(hers.body.contains("Bauantrag Lindenweg"), "{}", hers.body);
    assert!(hers.body.contains("Allgemeine Post"), "{}", hers.body);
    assert!(!hers.body.contains("Grundsteuerbescheid"), "{}", hers.body);
    assert!(!hers.body.contains("Persönlich für Kurt"), "{}", hers.body);
    let mut kurt = Browser::new(&app);
    kurt.login("gevelsberg", "kurt").await;
    let his = kurt.get("/posteingang").await;
    for expected in [
        "Grundsteuerbescheid",
        "Persönlich für Kurt",
        "Allgemeine Post",
    ] {
        assert!(his.body.contains(expected), "{expected}: {}", his.body);
    }
    assert!(!his.body.contains("Bauantrag Lindenweg"), "{}", his.body);
}

/// Amtshilfe in the web UI: the owner shares an Akte with the form (a wrong town is shown at
/// the field), the other town finds it under "Geteilt mit uns", opens its documents and finds
/// them in its search; ending the share takes it away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_amtshilfe_shares_an_akte_with_another_town_until_it_is_ended() {
    let app = TestApp::spawn().await;
    let (witten, mut owner) = clerk(&app, "witten").await;
    let (_herdecke, mut reader) = clerk(&app, "herdecke").await;
    let unit = witten.admin.create_plan_unit("63.01", None).await;
    let file = witten
        .admin
        .create_file(&unit, "Bauantrag Amtshilfeweg 7")
        .await
        .id();
    let doc = witten
        .admin
        .upload_document(
            &format!("/api/v1/files/{file}"),
            "Stellungnahme Brandschutz",
            b"Inhalt".to_vec(),
        )
        .await
        .id();

    let form = owner.get(&format!("/akten/{file}/teilen")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Akte teilen (Amtshilfe)"));
    let csrf = form.csrf();
    let until = {
        let d = akta_domain::german::today() + time::Duration::days(14);
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    let wrong = owner
        .post(
            &format!("/akten/{file}/teilen"),
            &[
                ("csrf_token", &csrf),
                ("tenant", "nirgendwo"),
                ("until", &until),
                ("reason", "Brandschutzprüfung"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("data-testid=\"tenant-error\""));
    let done = owner
        .post(
            &format!("/akten/{file}/teilen"),
            &[
                ("csrf_token", &csrf),
                ("tenant", "herdecke"),
                ("until", &until),
                ("reason", "Brandschutzprüfung"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);

    let list = reader.get("/geteilt").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("Bauantrag Amtshilfeweg 7"),
        "{}",
        list.body
    );
    assert!(list.body.contains("Brandschutzprüfung"));
    let share = witten
        .admin
        .get(&format!("/api/v1/files/{file}/shares"))
        .await
        .body["items"][0]["id"]
        .as_str()
        .expect("share id")
        .to_owned();
    let shared = reader.get(&format!("/geteilt/{share}")).await;
    assert_eq!(shared.status, 200, "{}", shared.body);
    assert!(shared.body.contains("Stellungnahme Brandschutz"));
    let content = reader
        .get(&format!("/api/v1/documents/{doc}/content"))
        .await;
    assert_eq!(content.status, 200);
    assert_eq!(content.body, "Inhalt");

    let started = std::time::Instant::now();
    loop {
        let found = reader.get("/suche?q=Brandschutz").await;
        assert_eq!(found.status, 200, "{}", found.body);
        if found.body.contains("data-testid=\"shared-hit\"") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the shared document is not found: {}",
            found.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let page = owner.get(&format!("/akten/{file}/teilen")).await;
    let end = owner
        .post(
            &format!("/akten/{file}/teilen/{share}/beenden"),
            &[("csrf_token", &page.csrf())],
        )
        .await;
    assert_eq!(end.status, 303, "{}", end.body);
    let after = reader.get("/geteilt").await;
    assert!(after.body.contains("data-testid=\"shares-none\""));
    assert_eq!(reader.get(&format!("/geteilt/{share}")).await.status, 404);
}
