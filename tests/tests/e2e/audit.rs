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
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let key = PKey::generate_ed25519().expect("key");
    let signed = akta_jobs::audit_signer::sign_heads(&app.db, &key, Some("witten"))
        .await
        .expect("sign");
    assert!(
        matches!(signed.as_slice(), [(_, Some(n))] if *n >= 5),
        "{signed:?}"
    );
    let keys = vec![akta_jobs::audit_signer::public_of(&key).expect("public")];
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
    (app, owner, keys)
}

async fn verify(app: &TestApp, keys: &[PKey<openssl::pkey::Public>]) -> Result<(), ChainBreak> {
    let mut all = akta_jobs::audit_signer::verify(&app.db, keys, Some("witten"))
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
    let stranger = akta_jobs::audit_signer::public_of(&stranger).expect("public");
    assert!(matches!(
        verify(&app, &[stranger]).await,
        Err(ChainBreak::BadSignature { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_every_signature_is_detected() {
    let (app, mut owner, keys) = signed_log().await;
    sql(&mut owner, "DELETE FROM audit_signatures").await;
    assert!(matches!(
        verify(&app, &keys).await,
        Err(ChainBreak::BadSignature { .. })
    ));
}
