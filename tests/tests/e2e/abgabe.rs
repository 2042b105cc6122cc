//! Abgabe in xdomea (0401–0403): between two tenants of one Akta end to end (the receiver
//! accepts into its own Aktenplan with a new Aktenzeichen and byte-identical documents; the
//! sender deletes or keeps a closed copy, as chosen), and to outside as a 0401 container whose
//! 0402 confirmation ends it. A legal hold blocks it; nothing crosses tenants otherwise.

use akta_testkit::{Client, TestApp};
use akta_xdomea::model::{Head, Party};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::aussonderung::assert_valid;
use crate::common::{seed, sha256_hex, upload_version};

/// An Akte with a Vorgang and a document of two versions; returns its id and the SHA-256 of
/// every version.
async fn akte(admin: &Client, unit: &str, subject: &str) -> (String, Vec<String>) {
    let file = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": subject, "period_from": "2020-03-01"}),
        )
        .await
        .id();
    let case = admin
        .post(
            &format!("/api/v1/files/{file}/cases"),
            json!({"subject": "Antrag"}),
        )
        .await
        .id();
    let first = format!("Antrag zu {subject} – Größe").into_bytes();
    let r = admin
        .upload(
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"title": "Antrag", "kind": "Eingang", "sender": "Familie Özdemir"})),
            Some(("antrag.txt", "text/plain", first.clone())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let second = format!("Antrag zu {subject}, ergänzt").into_bytes();
    let v = upload_version(admin, &r.id(), "antrag-2.pdf", second.clone()).await;
    assert_eq!(v.status, 201, "{}", v.body);
    let mut sums = vec![sha256_hex(&first), sha256_hex(&second)];
    sums.sort();
    (file, sums)
}

/// The SHA-256 of every version in an Akte, sorted.
async fn sums_of(client: &Client, file: &str) -> Vec<String> {
    let mut out = Vec::new();
    let docs = client.get(&format!("/api/v1/files/{file}/documents")).await;
    for d in docs.body["items"].as_array().expect("documents") {
        let id = d["id"].as_str().expect("id");
        let full = client.get(&format!("/api/v1/documents/{id}")).await;
        for v in full.body["versions"].as_array().expect("versions") {
            let content = client
                .get(&format!(
                    "/api/v1/documents/{id}/versions/{}/content",
                    v["number"]
                ))
                .await;
            out.push(sha256_hex(&content.bytes));
        }
    }
    out.sort();
    out
}

/// An Akte offered to an authority outside Akta: its id, its versions' SHA-256s, the
/// transfer and the 0401 container as downloaded.
pub(crate) async fn outside(a: &Client) -> (String, Vec<String>, String, akta_testkit::Reply) {
    let unit = a
        .post(
            "/api/v1/plan-units",
            json!({"code": "32", "title": "Ordnungsamt"}),
        )
        .await
        .id();
    let (file, sums) = akte(a, &unit, "Marktrecht Kirmes").await;
    let sent = offer(a, json!({"kind": "abgabe", "file_ids": [file]})).await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let transfer = sent.id();
    let container = a
        .get(&format!("/api/v1/transfers/{transfer}/messages/0401"))
        .await;
    (file, sums, transfer, container)
}

async fn offer(client: &Client, body: Value) -> akta_testkit::Reply {
    client.post("/api/v1/transfers", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abgabe_between_two_towns_runs_end_to_end() {
    let app = TestApp::spawn().await;
    let witten = seed(&app, "witten").await;
    let herdecke = seed(&app, "herdecke").await;
    let a = &witten.tenant.admin;
    let clerk_a = app.client(&witten.tenant, "clerk").await;
    let unit_a = a
        .post(
            "/api/v1/plan-units",
            json!({"code": "32", "title": "Ordnungsamt"}),
        )
        .await
        .id();
    let (moved, sums) = akte(a, &unit_a, "Gaststättenerlaubnis Marktplatz 1").await;
    let (kept, kept_sums) = akte(a, &unit_a, "Sondernutzung Marktplatz 1").await;
    let (held, _) = akte(a, &unit_a, "Streitsache").await;
    let hold = a
        .send(
            a.request(Method::PUT, &format!("/api/v1/files/{held}/hold"))
                .json(&json!({"reason": "Klage"})),
        )
        .await;
    assert_eq!(hold.status, 200, "{}", hold.body);
    let reference = a.get(&format!("/api/v1/files/{moved}")).await.body["reference"].clone();

    // Refused: a held Akte, an unknown or the own tenant, another tenant's Akte.
    offer(
        &clerk_a,
        json!({"kind": "abgabe", "file_ids": [held], "to_tenant": "herdecke"}),
    )
    .await
    .assert_problem(409, "conflict");
    for to in ["gibt-es-nicht", "witten"] {
        let r = offer(
            &clerk_a,
            json!({"kind": "abgabe", "file_ids": [moved], "to_tenant": to}),
        )
        .await;
        assert_eq!(r.status, 422, "{to}: {}", r.body);
    }
    offer(
        &clerk_a,
        json!({"kind": "abgabe", "file_ids": [herdecke.file], "to_tenant": "herdecke"}),
    )
    .await
    .assert_problem(404, "not_found");

    let sent = offer(
        &clerk_a,
        json!({"kind": "abgabe", "file_ids": [moved], "to_tenant": "herdecke"}),
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let transfer = sent.id();
    let kept_offer = offer(
        &clerk_a,
        json!({"kind": "abgabe", "file_ids": [kept], "to_tenant": "herdecke", "keep_copy": true}),
    )
    .await;
    assert_eq!(kept_offer.status, 201, "{}", kept_offer.body);

    // The receiving town sees what is offered; the sending one has nothing incoming.
    let b = &herdecke.tenant.admin;
    let clerk_b = app.client(&herdecke.tenant, "clerk").await;
    let incoming = clerk_b.get("/api/v1/transfers/incoming").await;
    assert_eq!(incoming.status, 200, "{}", incoming.body);
    let items = incoming.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{}", incoming.body);
    let offered = items
        .iter()
        .find(|i| i["id"] == transfer.as_str())
        .expect("the Abgabe");
    assert_eq!(offered["state"], "offen");
    assert_eq!(offered["files"][0]["reference"], reference);
    assert_eq!(
        a.get("/api/v1/transfers/incoming").await.body["items"],
        json!([])
    );
    // Another tenant cannot accept it.
    a.post(
        &format!("/api/v1/transfers/incoming/{transfer}/accept"),
        json!({"plan_unit_id": unit_a}),
    )
    .await
    .assert_problem(404, "not_found");

    let unit_b = b
        .post(
            "/api/v1/plan-units",
            json!({"code": "32", "title": "Ordnung"}),
        )
        .await
        .id();
    let accepted = clerk_b
        .post(
            &format!("/api/v1/transfers/incoming/{transfer}/accept"),
            json!({"plan_unit_id": unit_b}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["incoming"]["state"], "angenommen");
    let new_file = accepted.body["import"]["files"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let copy = b.get(&format!("/api/v1/files/{new_file}")).await;
    assert_eq!(copy.body["subject"], "Gaststättenerlaubnis Marktplatz 1");
    assert_eq!(copy.body["metadata"]["vorheriges_aktenzeichen"], reference);
    // Herdecke's own Aktenzeichen (its plan, its numbering), the previous one kept above.
    assert!(copy.body["reference"]
        .as_str()
        .is_some_and(|r| r.starts_with("32-")));
    assert_eq!(
        sums_of(b, &new_file).await,
        sums,
        "byte-identical documents"
    );
    clerk_b
        .post(
            &format!("/api/v1/transfers/incoming/{transfer}/accept"),
            json!({"plan_unit_id": unit_b}),
        )
        .await
        .assert_problem(409, "conflict");

    // The sender deleted it (its choice) behind a Löschprotokoll entry.
    a.get(&format!("/api/v1/files/{moved}"))
        .await
        .assert_problem(404, "not_found");
    let state = a.get(&format!("/api/v1/transfers/{transfer}")).await;
    assert_eq!(state.body["state"], "abgeschlossen", "{}", state.body);
    let protocol = a.get("/api/v1/disposal/protocol").await;
    let entry = &protocol.body["items"][0];
    assert_eq!(entry["outcome"], "abgegeben", "{}", protocol.body);
    assert_eq!(entry["reference"], reference);

    // Kept: the sender's copy stays, closed.
    let kept_id = kept_offer.id();
    let r = clerk_b
        .post(
            &format!("/api/v1/transfers/incoming/{kept_id}/accept"),
            json!({"plan_unit_id": unit_b}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let still = a.get(&format!("/api/v1/files/{kept}")).await;
    assert_eq!(still.status, 200, "{}", still.body);
    assert_eq!(still.body["status"], "zdA");
    assert_eq!(sums_of(a, &kept).await, kept_sums);

    // Both sides audited.
    let history = b.get(&format!("/api/v1/files/{new_file}/history")).await;
    assert!(history.body["items"]
        .as_array()
        .is_some_and(|i| !i.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abgabe_to_outside_is_a_0401_container_confirmed_by_a_0402() {
    let app = TestApp::spawn().await;
    let witten = seed(&app, "witten").await;
    let a = &witten.tenant.admin;
    let (file, sums, transfer, container) = outside(a).await;
    assert_eq!(container.status, 200, "{}", container.body);
    assert_eq!(container.header("content-type"), Some("application/zip"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(container.bytes.clone())).expect("zip");
    let mut contents = Vec::new();
    let mut xml = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("entry");
        let name = entry.name().expect("name").into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
        if name.ends_with("_Abgabe.Abgabe.0401.xml") {
            xml = bytes;
        } else if !name.ends_with(".sha256") {
            contents.push(sha256_hex(&bytes));
        }
    }
    assert_valid(&xml, "0401");
    contents.sort();
    assert_eq!(contents, sums, "every version, byte for byte");

    let process = Uuid::parse_str(&transfer).expect("uuid");
    let head = Head {
        process_id: process,
        created: time::OffsetDateTime::now_utc(),
        sender: Party::default(),
        recipient: Party::default(),
        receipt_requested: false,
    };
    let post = |bytes: Vec<u8>| {
        let request = a
            .request(
                Method::POST,
                &format!("/api/v1/transfers/{transfer}/messages"),
            )
            .header("content-type", "application/xml")
            .body(bytes);
        let a = a.clone();
        async move { a.send(request).await }
    };
    let receipt = akta_xdomea::write::receipt(
        akta_xdomea::MessageType::AbgabeEmpfangBestaetigen0403,
        &head,
    )
    .expect("0403");
    assert_eq!(post(receipt).await.status, 200);
    // An Aussonderung's confirmation does not belong to an Abgabe.
    let wrong = akta_xdomea::write::import_bestaetigung_0506(&head, &[]).expect("0506");
    assert_eq!(post(wrong).await.status, 422);
    let confirmation = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xdomea:Abgabe.ImportBestaetigen.0402 xmlns:xdomea="urn:xoev-de:xdomea:schema:3.1.0">
  <xdomea:Kopf>
    <xdomea:ProzessID>{process}</xdomea:ProzessID>
    <xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0"><code>0402</code></xdomea:Nachrichtentyp>
    <xdomea:Erstellungszeitpunkt>2026-12-05T12:00:00+01:00</xdomea:Erstellungszeitpunkt>
    <xdomea:Absender><xdomea:Institution><xdomea:Name>Kreis</xdomea:Name></xdomea:Institution></xdomea:Absender>
    <xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Stadt Witten</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>
  </xdomea:Kopf>
  <xdomea:AbgegebenesObjekt>
    <xdomea:IDSGO>{file}</xdomea:IDSGO>
    <xdomea:Erfolgreich>1</xdomea:Erfolgreich>
  </xdomea:AbgegebenesObjekt>
</xdomea:Abgabe.ImportBestaetigen.0402>"#
    )
    .into_bytes();
    assert_valid(&confirmation, "0402");
    let done = post(confirmation.clone()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(
        done.body["transfer"]["state"], "abgeschlossen",
        "{}",
        done.body
    );
    a.get(&format!("/api/v1/files/{file}"))
        .await
        .assert_problem(404, "not_found");
    let again = post(confirmation).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["changed"], 0);
}

/// `POST /imports`: a container from outside imported in the background by its plan codes;
/// its state and report are read back; only admins start one; a dry run writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_over_rest_runs_in_the_background_and_reports() {
    let app = TestApp::spawn().await;
    let source = seed(&app, "witten").await;
    let target = seed(&app, "herdecke").await;
    let a = &source.tenant.admin;
    let (_, sums, _, container) = outside(a).await;
    assert_eq!(container.status, 200, "{}", container.body);

    let b = &target.tenant.admin;
    let start = |query: &'static str| {
        let request = b
            .request(Method::POST, &format!("/api/v1/imports{query}"))
            .header("content-type", "application/zip")
            .body(container.bytes.clone());
        let b = b.clone();
        async move { b.send(request).await }
    };
    let finished = |id: String| {
        let b = b.clone();
        async move {
            for _ in 0..200 {
                let job = b.get(&format!("/api/v1/imports/{id}")).await;
                assert_eq!(job.status, 200, "{}", job.body);
                if job.body["state"] != "laufend" {
                    return job.body;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the import did not finish");
        }
    };
    let clerk = app.client(&target.tenant, "clerk").await;
    let refused = clerk
        .send(
            clerk
                .request(Method::POST, "/api/v1/imports")
                .body(container.bytes.clone()),
        )
        .await;
    refused.assert_problem(403, "forbidden");

    let dry = start("?dry_run=true&create_plan_units=true").await;
    assert_eq!(dry.status, 202, "{}", dry.body);
    let report = finished(dry.id()).await;
    assert_eq!(report["state"], "fertig", "{report}");
    assert_eq!(report["report"]["planned"]["files"], 1, "{report}");
    assert_eq!(report["report"]["plan_units_created"], json!(["32"]));
    assert!(b.get("/api/v1/plan-units").await.body["items"]
        .as_array()
        .is_some_and(|u| u.iter().all(|u| u["code"] != "32")));

    let real = start("?create_plan_units=true").await;
    assert_eq!(real.status, 202, "{}", real.body);
    let report = finished(real.id()).await;
    assert_eq!(report["state"], "fertig", "{report}");
    let new_file = report["report"]["files"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(sums_of(b, &new_file).await, sums);
    // Another tenant cannot read the import.
    a.get(&format!("/api/v1/imports/{}", real.id()))
        .await
        .assert_problem(404, "not_found");
}

/// `POST /imports` with `{"manifest": …}`: a file share the operator put under the town's
/// import directory comes in as a background job with progress and report; paths out of
/// that directory (`..`, absolute, a symlink to another town's share) answer 422; without an
/// import directory 409; clerks 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_under_the_towns_import_directory_is_imported_over_rest() {
    let root = tempfile::tempdir().expect("import dir");
    let app = TestApp::spawn_with(akta_testkit::TestOptions {
        import_dir: Some(root.path().to_owned()),
        ..Default::default()
    })
    .await;
    let witten = seed(&app, "witten").await;
    let a = &witten.tenant.admin;
    a.post(
        "/api/v1/plan-units",
        json!({"code": "32", "title": "Ordnungsamt"}),
    )
    .await
    .id();
    let share = root.path().join("witten/ablage");
    std::fs::create_dir_all(share.join("Markt")).expect("dirs");
    std::fs::write(share.join("Markt/Antrag.txt"), "Antrag Kirmes 2025").expect("file");
    std::fs::write(share.join("Markt/Bescheid.txt"), "Bescheid Kirmes 2025").expect("file");
    std::fs::write(
        share.join("manifest.csv"),
        "path,plan_code,file_subject,case_subject,title,date,kind\n\
         Markt/Antrag.txt,32,Kirmes 2025,,Antrag,2025-03-01,Eingang\n\
         Markt/Bescheid.txt,32,Kirmes 2025,,Bescheid,2025-04-01,Bescheid\n",
    )
    .expect("manifest");
    let other = root.path().join("herdecke");
    std::fs::create_dir_all(&other).expect("dirs");
    std::fs::write(other.join("manifest.csv"), "path\n").expect("manifest");
    std::os::unix::fs::symlink(other.join("manifest.csv"), share.join("fremd.csv"))
        .expect("symlink");

    let start = |manifest: &str| {
        let request = a
            .request(Method::POST, "/api/v1/imports")
            .json(&json!({ "manifest": manifest }));
        let a = a.clone();
        async move { a.send(request).await }
    };
    for bad in [
        "../herdecke/manifest.csv",
        "/etc/passwd",
        "ablage/fremd.csv",
        "ablage/fehlt.csv",
    ] {
        start(bad).await.assert_problem(422, "validation_failed");
    }
    a.send(
        a.request(Method::POST, "/api/v1/imports")
            .header("content-type", "application/json")
            .body("{\"manifest\": 7, \"x\": \"ü\u{0}\"}"),
    )
    .await
    .assert_problem(422, "validation_failed");
    let clerk = app.client(&witten.tenant, "clerk").await;
    clerk
        .send(
            clerk
                .request(Method::POST, "/api/v1/imports")
                .json(&json!({"manifest": "ablage/manifest.csv"})),
        )
        .await
        .assert_problem(403, "forbidden");

    let started = start("ablage/manifest.csv").await;
    assert_eq!(started.status, 202, "{}", started.body);
    let id = started.id();
    let mut job = a.get(&format!("/api/v1/imports/{id}")).await;
    for _ in 0..200 {
        if job.body["state"] != "laufend" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        job = a.get(&format!("/api/v1/imports/{id}")).await;
    }
    assert_eq!(job.body["state"], "fertig", "{}", job.body);
    assert_eq!(job.body["source"], "ablage/manifest.csv");
    assert_eq!(job.body["progress"]["done"], 2, "{}", job.body);
    assert_eq!(job.body["report"]["files"][0]["subject"], "Kirmes 2025");
    assert_eq!(job.body["report"]["documents"], 2);
    // Small text is extracted while the import files it, like an upload: this app runs no
    // extraction worker, yet both texts are done.
    let file = job.body["report"]["files"][0]["id"].as_str().expect("id");
    let docs = a.get(&format!("/api/v1/files/{file}/documents")).await;
    let items = docs.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{}", docs.body);
    for item in items {
        let doc = a
            .get(&format!(
                "/api/v1/documents/{}",
                item["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(
            doc.body["versions"][0]["extraction"],
            json!({"state": "done", "reason": null, "method": "plain"}),
            "{}",
            doc.body
        );
    }
    // Another town does not see the import or its report.
    let herdecke = seed(&app, "herdecke").await;
    for path in [
        format!("/api/v1/imports/{id}"),
        format!("/api/v1/imports/{id}/report.csv"),
    ] {
        herdecke
            .tenant
            .admin
            .get(&path)
            .await
            .assert_problem(404, "not_found");
    }

    // Another Akta without an import directory.
    let plain = TestApp::spawn().await;
    let tenant = plain.create_tenant("wetter").await;
    tenant
        .admin
        .send(
            tenant
                .admin
                .request(Method::POST, "/api/v1/imports")
                .json(&json!({"manifest": "x.csv"})),
        )
        .await
        .assert_problem(409, "conflict");
}
