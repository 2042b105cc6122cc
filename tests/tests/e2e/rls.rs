//! The second wall: PostgreSQL row-level security, checked below the API.

use std::str::FromStr;

use akta_domain::TenantId;
use akta_testkit::TestApp;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::common::seed;

/// Tables known to hold tenant content; each must have RLS enabled and forced (as must any
/// other table with a `tenant_id`).
/// Tables with a tenant_id that only their owner's functions read, for the tenant of the
/// transaction (the record lookup's trigram indexes would be unusable under forced RLS); the
/// app role has no privilege on them.
const OWNER_ONLY: &[&str] = &["record_lookup"];

const TENANT_TABLES: &[&str] = &[
    "org_units",
    "api_tokens",
    "plan_units",
    "reference_counters",
    "files",
    "cases",
    "documents",
    "document_versions",
    "upload_intents",
    "audit_events",
    "extraction_jobs",
    "extracted_texts",
    "index_log",
    "file_shares",
    "usage_monthly",
    "usage_active_users",
    "webhook_endpoints",
    "webhook_deliveries",
    "idempotency_keys",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_transaction_sees_only_its_tenants_rows_without_any_filter() {
    let app = TestApp::spawn().await;
    let a = seed(&app, "stadt-a").await;
    let b = seed(&app, "stadt-b").await;
    b.tenant
        .admin
        .create_file(&b.plan_unit, "Zweite Akte von B")
        .await;

    for (tenant, files) in [(a.tenant.id, 1), (b.tenant.id, 2)] {
        let mut tx = app
            .db
            .tenant_tx(TenantId(tenant), "test")
            .await
            .expect("tx");
        let visible = tx.visible_file_tenants_unfiltered().await.expect("query");
        assert_eq!(
            visible,
            vec![tenant; files],
            "tenant {tenant} sees foreign rows"
        );
    }
    // A tenant without data sees nothing at all.
    let mut tx = app
        .db
        .tenant_tx(TenantId(Uuid::new_v4()), "test")
        .await
        .expect("tx");
    assert!(tx
        .visible_file_tenants_unfiltered()
        .await
        .expect("query")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_role_cannot_bypass_row_level_security() {
    let app = TestApp::spawn().await;
    let mut owner = PgConnection::connect(&app.owner_url)
        .await
        .expect("owner connection");

    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'akta_app'")
            .fetch_one(&mut owner)
            .await
            .expect("akta_app exists");
    assert!(!superuser, "akta_app must not be a superuser");
    assert!(!bypass, "akta_app must not bypass RLS");
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
          WHERE r.rolname = 'akta_app'",
    )
    .fetch_one(&mut owner)
    .await
    .expect("query");
    assert_eq!(
        owned, 0,
        "akta_app owns relations, so RLS would not bind it"
    );

    // Every table with a tenant_id (the tenant registry itself has only `id`) is tenant
    // content: the known ones, and any a later migration adds.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns
          WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1",
    )
    .fetch_all(&mut owner)
    .await
    .expect("query");
    for known in TENANT_TABLES {
        assert!(
            tables.iter().any(|t| t == known),
            "{known} has no tenant_id"
        );
    }
    for table in &tables {
        if OWNER_ONLY.contains(&table.as_str()) {
            // Not the app's to read at all: no privilege, and RLS on for anyone but the owner.
            let (enabled, readable): (bool, bool) = sqlx::query_as(
                "SELECT relrowsecurity,
                        has_table_privilege('akta_app', oid, 'SELECT,INSERT,UPDATE,DELETE')
                   FROM pg_class WHERE oid = to_regclass('public.' || $1)",
            )
            .bind(table)
            .fetch_one(&mut owner)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
            assert!(enabled, "{table}: row-level security is not enabled");
            assert!(
                !readable,
                "{table}: the app role may touch an owner-only table"
            );
            continue;
        }
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class
              WHERE oid = to_regclass('public.' || $1)",
        )
        .bind(table)
        .fetch_one(&mut owner)
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
        assert!(enabled, "{table}: row-level security is not enabled");
        assert!(forced, "{table}: row-level security is not forced");
        let policies: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_policies
              WHERE schemaname = 'public' AND tablename = $1 AND 'akta_app' = ANY (roles)
                 OR schemaname = 'public' AND tablename = $1 AND 'public' = ANY (roles)",
        )
        .bind(table)
        .fetch_one(&mut owner)
        .await
        .expect("query");
        assert!(policies > 0, "{table}: no policy applies to the app role");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_as_the_app_role_reaches_only_the_set_tenant() {
    let app = TestApp::spawn().await;
    let a = seed(&app, "stadt-a").await;
    let b = seed(&app, "stadt-b").await;
    let mut conn = app_role_connection(&app).await;

    // Without a tenant, the app role sees no tenant rows in any table.
    for table in TENANT_TABLES {
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        assert_eq!(count, 0, "{table}: rows visible without a tenant");
    }

    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.tenant.id.to_string())
        .execute(&mut *tx)
        .await
        .expect("set tenant");
    let tenants: Vec<Uuid> = sqlx::query_scalar(
        "SELECT tenant_id FROM files UNION ALL SELECT tenant_id FROM documents
         UNION ALL SELECT tenant_id FROM document_versions UNION ALL SELECT tenant_id FROM audit_events",
    )
    .fetch_all(&mut *tx)
    .await
    .expect("query");
    assert!(!tenants.is_empty());
    assert!(
        tenants.iter().all(|t| *t == a.tenant.id),
        "A's transaction sees B's rows"
    );
    // Writing a row for B from A's transaction is refused by the policy's WITH CHECK.
    let smuggled = sqlx::query(
        "INSERT INTO plan_units (id, tenant_id, code, title) VALUES ($1, $2, '99', 'Schmuggel')",
    )
    .bind(Uuid::new_v4())
    .bind(b.tenant.id)
    .execute(&mut *tx)
    .await;
    assert_sqlstate(smuggled.map(|_| ()), "42501", "insert for another tenant");
    tx.rollback().await.expect("rollback");

    // The record lookup behind search gives candidates of the set tenant only, for a Betreff
    // both towns share; the app role cannot read the lookup itself.
    let mut tx = conn.begin().await.expect("begin");
    let lookup = "SELECT id FROM akta_record_candidates('%', ARRAY['%bauantrag%'], 100)";
    let none: Vec<Uuid> = sqlx::query_scalar(lookup)
        .fetch_all(&mut *tx)
        .await
        .expect("lookup");
    assert!(none.is_empty(), "candidates without a tenant");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.tenant.id.to_string())
        .execute(&mut *tx)
        .await
        .expect("set tenant");
    let candidates: Vec<Uuid> = sqlx::query_scalar(lookup)
        .fetch_all(&mut *tx)
        .await
        .expect("lookup");
    assert!(candidates.contains(&Uuid::parse_str(&a.file).expect("uuid")));
    assert!(!candidates.contains(&Uuid::parse_str(&b.file).expect("uuid")));
    let direct = sqlx::query("SELECT count(*) FROM record_lookup")
        .execute(&mut *tx)
        .await;
    assert_sqlstate(direct.map(|_| ()), "42501", "reading the record lookup");
    tx.rollback().await.expect("rollback");

    // B's rows cannot be changed from A's transaction either: they are invisible.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.tenant.id.to_string())
        .execute(&mut *tx)
        .await
        .expect("set tenant");
    let hit = sqlx::query("UPDATE files SET subject = 'gekapert' WHERE id = $1")
        .bind(Uuid::parse_str(&b.file).expect("uuid"))
        .execute(&mut *tx)
        .await
        .expect("update");
    assert_eq!(hit.rows_affected(), 0);
    tx.commit().await.expect("commit");
    let b_file = b
        .tenant
        .admin
        .get(&format!("/api/v1/files/{}", b.file))
        .await;
    assert_eq!(b_file.body["subject"], "Bauantrag Musterstraße 1");

    // Versions are immutable and RLS cannot be switched off by the app role.
    let changed = sqlx::query("UPDATE document_versions SET size_bytes = 0")
        .execute(&mut conn)
        .await;
    assert_sqlstate(changed.map(|_| ()), "42501", "update of document_versions");
    let disabled = sqlx::query("ALTER TABLE files DISABLE ROW LEVEL SECURITY")
        .execute(&mut conn)
        .await;
    assert_sqlstate(disabled.map(|_| ()), "42501", "disabling RLS");
    sqlx::query("SET row_security = off")
        .execute(&mut conn)
        .await
        .expect("set row_security");
    let bypass = sqlx::query("SELECT count(*) FROM files")
        .execute(&mut conn)
        .await;
    assert_sqlstate(bypass.map(|_| ()), "42501", "reading with row_security off");
}

/// A connection as `akta_app` to this app's database. The testkit does not expose the app
/// role's URL, but the role and its password are cluster-wide: take them from a fresh
/// database's URLs and point them at the app's database.
async fn app_role_connection(app: &TestApp) -> PgConnection {
    let db_name = PgConnectOptions::from_str(&app.owner_url)
        .expect("owner url")
        .get_database()
        .expect("database name")
        .to_owned();
    let urls = akta_testkit::postgres::fresh_database().await;
    let options = PgConnectOptions::from_str(&urls.app_url)
        .expect("app url")
        .database(&db_name);
    assert_eq!(options.get_username(), "akta_app");
    PgConnection::connect_with(&options)
        .await
        .expect("app role connection")
}

#[track_caller]
fn assert_sqlstate(result: Result<(), sqlx::Error>, code: &str, what: &str) {
    match result {
        Err(sqlx::Error::Database(e)) => {
            assert_eq!(e.code().as_deref(), Some(code), "{what}: {e}");
        }
        Err(e) => panic!("{what}: expected SQLSTATE {code}, got {e}"),
        Ok(()) => panic!("{what}: expected SQLSTATE {code}, but it succeeded"),
    }
}
