//! The core's records rules, called directly (no HTTP): the zdA rule of Akten, Vorgänge and
//! Dokumente, reopening with a reason, and optimistic locking. REST and the web UI prove
//! they obey the same rules in tests/tests/e2e (rules.rs, web.rs).

use akta_core::{CaseUpdate, Core, CoreError, DocumentUpdate, FileUpdate};
use akta_domain::{FileStatus, Principal, Role, TenantId};
use akta_testkit::TestApp;
use uuid::Uuid;

fn clerk(tenant: Uuid) -> Principal {
    Principal::Tenant {
        tenant_id: TenantId(tenant),
        role: Role::Clerk,
        token_id: Uuid::now_v7(),
        name: "core-test".into(),
        can_write: true,
        plan_scope: None,
    }
}

fn id(s: &str) -> Uuid {
    s.parse().expect("uuid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_refuses_changes_to_closed_records_and_reopens_only_with_a_reason() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("hattingen").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = id(&tenant.admin.create_file(&unit, "Bauantrag").await.id());
    let case = id(&tenant
        .admin
        .create_case(&file.to_string(), "Baugenehmigung")
        .await);
    let doc = id(&tenant
        .admin
        .upload_document(&format!("/api/v1/cases/{case}"), "Antrag", b"%PDF".to_vec())
        .await
        .id());
    let core: &Core = &app.core;
    let who = clerk(tenant.id);

    // Optimistic locking: no version, no change; a stale one, no change.
    let rename = || FileUpdate {
        subject: Some("Bauantrag Anbau".into()),
        ..FileUpdate::default()
    };
    assert!(matches!(
        core.update_file(&who, file, None, rename()).await,
        Err(CoreError::PreconditionRequired)
    ));
    assert!(matches!(
        core.update_file(&who, file, Some(7), rename()).await,
        Err(CoreError::PreconditionFailed)
    ));

    // A closed Vorgang freezes its documents and itself, except for reopening.
    let closed = core
        .update_case(
            &who,
            case,
            Some(1),
            CaseUpdate {
                status: Some(FileStatus::Closed),
                ..CaseUpdate::default()
            },
        )
        .await
        .expect("close case");
    assert_eq!(closed.status, "zdA");
    let retitle = || DocumentUpdate {
        title: Some("Geändert".into()),
        ..DocumentUpdate::default()
    };
    assert!(matches!(
        core.update_document(&who, doc, Some(1), retitle()).await,
        Err(CoreError::Conflict(_))
    ));
    let reopen_case = |reason: Option<&str>| CaseUpdate {
        status: Some(FileStatus::Open),
        reason: reason.map(str::to_owned),
        ..CaseUpdate::default()
    };
    match core
        .update_case(&who, case, Some(2), reopen_case(None))
        .await
    {
        Err(CoreError::Validation { field, .. }) => assert_eq!(field, "reason"),
        other => panic!("expected a missing reason, got {other:?}"),
    }
    let reopened = core
        .update_case(&who, case, Some(2), reopen_case(Some("Nachforderung")))
        .await
        .expect("reopen case");
    assert_eq!(reopened.status, "offen");
    let doc_after = core
        .update_document(&who, doc, Some(1), retitle())
        .await
        .expect("document of a reopened case");
    assert_eq!(doc_after.title, "Geändert");

    // A closed Akte: nothing in it changes, it reopens only with a reason.
    let akte = core.close_file(&who, file, Some(1)).await.expect("zdA");
    assert_eq!(akte.status, "zdA");
    assert!(matches!(
        core.update_file(&who, file, Some(akte.row_version), rename())
            .await,
        Err(CoreError::Conflict(_))
    ));
    assert!(matches!(
        core.update_document(&who, doc, Some(2), retitle()).await,
        Err(CoreError::Conflict(_))
    ));
    assert!(matches!(
        core.update_case(
            &who,
            case,
            Some(3),
            CaseUpdate {
                subject: Some("x".into()),
                ..CaseUpdate::default()
            }
        )
        .await,
        Err(CoreError::Conflict(_))
    ));
    assert!(matches!(
        core.reopen_file(&who, file, Some(akte.row_version), " ")
            .await,
        Err(CoreError::Validation { .. })
    ));
    let open = core
        .reopen_file(&who, file, Some(akte.row_version), "Widerspruch")
        .await
        .expect("reopen");
    assert_eq!(open.status, "offen");
    let history = core
        .file_history(&who, file, None, 200)
        .await
        .expect("history");
    let reopened: Vec<_> = history
        .items
        .iter()
        .filter(|e| e.action == "file.reopened")
        .collect();
    assert_eq!(reopened.len(), 1);
    assert_eq!(
        reopened[0].after.as_ref().expect("after")["reason"],
        serde_json::json!("Widerspruch")
    );
}
