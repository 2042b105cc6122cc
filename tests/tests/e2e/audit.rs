//! The audit log is tamper-evident: edits, deletions, reordering and insertions made directly
//! in PostgreSQL (as the database owner, past the application) are all detected by
//! `akta audit verify`'s check, which names the first broken entry.

use akta_db::audit_chain::ChainBreak;
use akta_testkit::TestApp;
use openssl::pkey::PKey;
use sqlx::{Connection, Executor, PgConnection};

use crate::common::seed;

/// An app whose tenant has a signed audit chain of several entries, and an owner connection
/// scoped to that tenant (the owner is subject to RLS too: FORCE).
async fn signed_log() -> (TestApp, PgConnection, Vec<PKey<openssl::pkey::Public>>) {
    let (app, owner, keys, _) = signed_log_with_admin().await;
    (app, owner, keys)
}

async fn signed_log_with_admin() -> (
    TestApp,
    PgConnection,
    Vec<PKey<openssl::pkey::Public>>,
    akta_testkit::Client,
) {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let key = PKey::generate_ed25519().expect("key");
    let signed = akta_audit::sign_heads(&app.db, &key, &anchors(&app), Some("witten"))
        .await
        .expect("sign");
    assert!(
        matches!(signed.as_slice(), [(_, Some(n))] if *n >= 5),
        "{signed:?}"
    );
    let keys = vec![akta_audit::public_of(&key).expect("public")];
    let report = verify(&app, &keys).await;
    assert_eq!(report, Ok(()), "untampered log must verify");

    let mut owner = PgConnection::connect(&app.owner_url).await.expect("owner");
    owner
        .execute(
            format!(
                "SELECT set_config('app.tenant_id', '{}', false)",
                seeded.tenant.id
            )
            .as_str(),
        )
        .await
        .expect("scope");
    (app, owner, keys, seeded.tenant.admin)
}

/// Signed heads are anchored in the app's blob store.
fn anchors(app: &TestApp) -> akta_audit::Anchors {
    akta_audit::Anchors::new(app.blobs.clone(), None)
}

async fn verify(app: &TestApp, keys: &[PKey<openssl::pkey::Public>]) -> Result<(), ChainBreak> {
    verify_with(app, keys, &anchors(app)).await
}

async fn verify_with(
    app: &TestApp,
    keys: &[PKey<openssl::pkey::Public>],
    anchors: &akta_audit::Anchors,
) -> Result<(), ChainBreak> {
    let mut all = akta_audit::verify(&app.db, keys, anchors, Some("witten"))
        .await
        .expect("verify runs");
    assert_eq!(all.len(), 1);
    all.remove(0).result
}

async fn sql(conn: &mut PgConnection, statement: &str) {
    conn.execute(statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_an_audit_entry_is_detected() {
    let (app, mut owner, keys) = signed_log().await;
    sql(
        &mut owner,
        "UPDATE audit_events SET actor = 'token:mallory' WHERE seq = 3",
    )
    .await;
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::Changed { seq: 3, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_an_entry_and_recomputing_its_hash_breaks_the_link_or_the_signature() {
    let (app, mut owner, keys) = signed_log().await;
    // A careful forger recomputes the edited entry's hash with the database's own formula.
    sql(
        &mut owner,
        "UPDATE audit_events SET after = '{\"forged\": true}',
                hash = sha256(prev_hash || akta_audit_payload(tenant_id, seq, at, actor, action,
                       object_type, object_id, file_id, before, '{\"forged\": true}'))
          WHERE seq = 2",
    )
    .await;
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::Relinked { seq: 3, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_audit_entry_is_detected() {
    let (app, mut owner, keys) = signed_log().await;
    sql(&mut owner, "DELETE FROM audit_events WHERE seq = 2").await;
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::Missing {
            expected_seq: 2,
            found_seq: 3,
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_newest_entries_is_detected() {
    let (app, mut owner, keys) = signed_log().await;
    // Even with the head moved back, the signature names an entry that is gone.
    sql(&mut owner, "DELETE FROM audit_events WHERE seq >= 4").await;
    sql(
        &mut owner,
        "UPDATE audit_heads SET seq = 3, hash = (SELECT hash FROM audit_events WHERE seq = 3)",
    )
    .await;
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::SignedEntryChanged { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_audit_entries_is_detected() {
    let (app, mut owner, keys) = signed_log().await;
    sql(&mut owner, "UPDATE audit_events SET seq = -2 WHERE seq = 2").await;
    sql(&mut owner, "UPDATE audit_events SET seq = 2 WHERE seq = 3").await;
    sql(&mut owner, "UPDATE audit_events SET seq = 3 WHERE seq = -2").await;
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::Relinked { seq: 2, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserting_an_audit_entry_is_detected() {
    let (app, mut owner, keys) = signed_log().await;
    // Past the trigger: make room at 3 and slip in a well-formed entry that links to 2.
    sql(
        &mut owner,
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain",
    )
    .await;
    sql(
        &mut owner,
        "UPDATE audit_events SET seq = -seq WHERE seq >= 3",
    )
    .await;
    sql(
        &mut owner,
        "UPDATE audit_events SET seq = -seq + 1 WHERE seq < 0",
    )
    .await;
    sql(
        &mut owner,
        "INSERT INTO audit_events (tenant_id, actor, action, object_type, object_id, seq, prev_hash, hash)
         SELECT tenant_id, 'token:mallory', 'file.created', 'file', gen_random_uuid(), 3, hash,
                sha256(hash || 'forged') FROM audit_events WHERE seq = 2",
    )
    .await;
    sql(
        &mut owner,
        "ALTER TABLE audit_events ENABLE TRIGGER audit_events_chain",
    )
    .await;
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::Changed { seq: 3, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_from_an_unknown_key_are_rejected() {
    let (app, _owner, _keys) = signed_log().await;
    let stranger = PKey::generate_ed25519().expect("key");
    let stranger = akta_audit::public_of(&stranger).expect("public");
    assert!(matches!(
        verify(&app, &[stranger]).await,
        Err(ChainBreak::BadSignature { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_every_signature_is_detected() {
    let (app, mut owner, keys) = signed_log().await;
    sql(&mut owner, "DELETE FROM audit_signatures").await;
    // Against the anchors: the signed head is missing. Without them: a log with entries and
    // no signature at all is still refused.
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::AnchoredHeadMissing { .. })
    ));
    assert!(matches!(
        verify_with(&app, &keys, &akta_audit::Anchors::none()).await,
        Err(ChainBreak::BadSignature { .. })
    ));
}

/// The database owner's full rewrite: delete the newer signatures, edit an entry after the
/// oldest signature kept, recompute every hash after it and the head. The database alone
/// then looks consistent; the anchors outside it do not agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_history_after_the_oldest_kept_signature_is_caught_by_the_anchors() {
    let (app, mut owner, keys, admin) = signed_log_with_admin().await;
    let (first,): (i64,) = sqlx::query_as("SELECT max(seq) FROM audit_signatures")
        .fetch_one(&mut owner)
        .await
        .expect("first signed head");
    // More happens, and the signer signs (and anchors) the new head.
    let unit = admin.create_plan_unit("20", None).await;
    admin.create_file(&unit, "Haushalt").await;
    let key = signing_key();
    akta_audit::sign_heads(&app.db, &key, &anchors(&app), Some("witten"))
        .await
        .expect("second signature");
    let keys = [keys, vec![akta_audit::public_of(&key).expect("public")]].concat();
    assert_eq!(verify(&app, &keys).await, Ok(()));

    sql(
        &mut owner,
        &format!("DELETE FROM audit_signatures WHERE seq > {first}"),
    )
    .await;
    sql(
        &mut owner,
        &format!("UPDATE audit_events SET actor = 'token:mallory' WHERE seq = {first} + 1"),
    )
    .await;
    sql(
        &mut owner,
        &format!(
            "DO $$ DECLARE r record; prev bytea; BEGIN
               SELECT hash INTO prev FROM audit_events WHERE seq = {first};
               FOR r IN SELECT id FROM audit_events WHERE seq > {first} ORDER BY seq LOOP
                 UPDATE audit_events SET prev_hash = prev,
                        hash = sha256(prev || akta_audit_payload(tenant_id, seq, at, actor, action,
                               object_type, object_id, file_id, before, after))
                  WHERE id = r.id RETURNING hash INTO prev;
               END LOOP;
               UPDATE audit_heads SET hash = prev;
             END $$"
        ),
    )
    .await;
    // What `verify` said before anchors existed: all fine.
    assert_eq!(
        verify_with(&app, &keys, &akta_audit::Anchors::none()).await,
        Ok(())
    );
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::AnchoredHeadMissing { seq }) if seq > first
    ));
}

/// A node with the signing key signs a new tenant's log at creation: `verify` never meets a
/// tenant the periodic signer has not reached yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_tenant_is_signed_at_creation() {
    let app = TestApp::spawn().await;
    let key = signing_key();
    let node = app
        .spawn_node_with(
            akta_testkit::Role::Api,
            akta_testkit::JobSettings {
                audit_signing: Some((key.clone(), std::time::Duration::from_secs(3600))),
                ..akta_testkit::JobSettings::default()
            },
            akta_testkit::CoreSettings::default(),
        )
        .await;
    let operator = akta_testkit::Client::new(&node.base_url, app.operator.token.as_deref());
    let created = operator
        .post(
            "/api/v1/tenants",
            serde_json::json!({"slug": "witten", "name": "Stadt Witten"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let keys = [akta_audit::public_of(&key).expect("public")];
    let mut all = akta_audit::verify(&app.db, &keys, &anchors(&app), Some("witten"))
        .await
        .expect("verify");
    let report = all.remove(0);
    assert_eq!(report.result, Ok(()));
    assert_eq!(report.signed_up_to, Some(report.entries), "{report:?}");
    assert_eq!(report.anchors, 1, "{report:?}");
}

fn signing_key() -> PKey<openssl::pkey::Private> {
    PKey::generate_ed25519().expect("key")
}
