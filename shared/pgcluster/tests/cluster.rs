//! These tests run real PostgreSQL servers; they need the server binaries on the machine.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use akta_pgcluster::{Cluster, ClusterUrls};
use sqlx::{Connection, PgConnection};

/// A temp dir the `postgres` system user can enter (tempfile makes them 0700) when we are root.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

async fn scalar(url: &str, sql: &str) -> String {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let value: String = sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .expect("query");
    conn.close().await.expect("close");
    value
}

async fn assert_roles_work(urls: &ClusterUrls, db: &str) {
    assert_eq!(
        scalar(&urls.app_url, "SELECT current_user::text").await,
        "akta_app"
    );
    assert_eq!(
        scalar(&urls.owner_url, "SELECT current_user::text").await,
        "akta_owner"
    );
    assert_eq!(
        scalar(
            &urls.app_url,
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()"
        )
        .await,
        "akta_owner"
    );
    assert_eq!(
        scalar(&urls.app_url, "SELECT current_database()::text").await,
        db
    );
    assert_eq!(
        scalar(
            &urls.app_url,
            "SELECT (rolsuper OR rolbypassrls OR rolcreaterole)::text FROM pg_roles WHERE rolname = current_user"
        )
        .await,
        "false"
    );
}

#[tokio::test]
async fn throwaway_child_cluster_serves_owner_and_app_roles() {
    let tmp = scratch();
    let cluster = Cluster::open_or_init(&tmp.path().join("postgres")).expect("init");
    cluster.spawn_child().expect("spawn child");
    assert!(cluster.is_running());

    let urls = cluster.ensure_database("akta_test").await.expect("ensure");
    assert_roles_work(&urls, "akta_test").await;
    // A second call, and a second database, reuse the roles and passwords.
    assert_eq!(
        cluster.ensure_database("akta_test").await.expect("again"),
        urls
    );
    let other = cluster.ensure_database("akta_other").await.expect("other");
    assert_roles_work(&other, "akta_other").await;

    cluster.stop().expect("stop");
    assert!(!cluster.is_running());
}

#[tokio::test]
async fn persistent_cluster_is_reused_across_starts() {
    let tmp = scratch();
    let dir = tmp.path().join("postgres");
    let cluster = Cluster::open_or_init(&dir).expect("init");
    assert!(!cluster.is_running());
    assert!(cluster.start().expect("start"), "first start starts it");
    assert!(cluster.is_running());
    assert!(!cluster.start().expect("start again"), "already running");
    let urls = cluster.ensure_database("akta").await.expect("ensure");
    cluster.stop().expect("stop");
    assert!(!cluster.is_running());
    cluster.stop().expect("stopping a stopped cluster is fine");

    // Reopening finds the same cluster: same port, same passwords, same data.
    let reopened = Cluster::open_or_init(&dir).expect("reopen");
    assert_eq!(reopened.port(), cluster.port());
    assert!(reopened.start().expect("restart"));
    assert_eq!(
        reopened
            .ensure_database("akta")
            .await
            .expect("ensure again"),
        urls
    );
    assert_roles_work(&urls, "akta").await;
    assert!(Path::new(&tmp.path().join("postgres.log")).exists());
    reopened.stop().expect("stop again");
    assert!(!reopened.is_running());
}
