//! Onboarding a town from the command line (issue 13) on the embedded default: `akta operator
//! create` with a given or a generated password, `akta tenant create … --plan … --admin-email
//! …` printing the admin token alone on stdout as before and the invitation link on stderr, a
//! bad plan file creating nothing, and the link and the operator's password working on the
//! running server.

use std::process::Stdio;

mod support;

use support::{akta, ok, run, serve, stop};

#[test]
fn the_cli_creates_operators_and_onboards_a_town_with_its_plan_and_invitation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let listen = format!("127.0.0.1:{}", akta_pgcluster::free_port().expect("port"));

    // Without a password given, one is generated and printed once on stdout.
    let out = akta(dir, &listen)
        .args(["operator", "create", "--username", "betrieb"])
        .stdin(Stdio::null())
        .output()
        .expect("run akta");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(generated.len() >= 12, "password {generated:?}");
    // Given on the environment, it is not printed.
    let out = akta(dir, &listen)
        .args(["operator", "create", "--username", "zweite"])
        .env("AKTA_OPERATOR_PASSWORD", "Frühling in Ennepetal 2026")
        .stdin(Stdio::null())
        .output()
        .expect("run akta");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    // A plan file with a unit whose parent is missing creates no tenant at all.
    let bad = dir.join("plan.csv");
    std::fs::write(&bad, "code;title\n6;Bauwesen\n63.01;Baugenehmigungen\n").expect("write");
    let refused = run(
        dir,
        &listen,
        &[
            "tenant",
            "create",
            "schwelm",
            "--name",
            "Stadt Schwelm",
            "--plan",
            bad.to_str().expect("utf-8 path"),
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Zeile 3"));
    let (list, _) = ok(dir, &listen, &["tenant", "list"]);
    assert!(!list.contains("schwelm"), "{list}");

    // The town from the template with the first admin's invitation.
    let (stdout, stderr) = ok(
        dir,
        &listen,
        &[
            "tenant",
            "create",
            "gevelsberg",
            "--name",
            "Stadt Gevelsberg",
            "--plan",
            "kgst-kommunal",
            "--admin-email",
            "it@gevelsberg.example",
        ],
    );
    let token = stdout.trim();
    assert!(
        token.starts_with("akta_") && !token.contains('\n'),
        "stdout: {stdout}"
    );
    assert!(stderr.contains("created tenant gevelsberg"), "{stderr}");
    assert!(stderr.contains("Aktenplan: 124 units created"), "{stderr}");
    let link = stderr
        .lines()
        .find(|l| l.contains("/einladung/"))
        .unwrap_or_else(|| panic!("no invitation link: {stderr}"))
        .trim()
        .to_owned();
    assert!(
        link.starts_with(&format!("http://{listen}/einladung/")),
        "{link}"
    );

    let (server, _) = serve(dir, &listen);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = http.get(&link).send().await.expect("invitation");
        assert_eq!(page.status(), 200);
        assert!(page
            .text()
            .await
            .expect("body")
            .contains("Stadt Gevelsberg"));
        // The generated password opens the console.
        let form = http
            .get(format!("http://{listen}/betrieb/anmelden"))
            .send()
            .await
            .expect("login page");
        let cookie = form
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .expect("login cookie")
            .to_owned();
        let csrf = cookie.split_once('=').expect("pair").1.to_owned();
        let login = http
            .post(format!("http://{listen}/betrieb/anmelden"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("username", "betrieb"),
                ("password", &generated),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(login.status(), 303);
        assert_eq!(
            login
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some("/betrieb/mandanten")
        );
    });
    stop(server);
}
