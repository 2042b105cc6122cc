//! The blob store contract against both real backends: S3 on the shared Garage, and the
//! filesystem in a temporary directory.

use akta_blob::{contract, BlobStore, FsStore, S3Config, S3Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_on_garage_fulfils_the_blob_contract() {
    let garage = akta_testkit::garage::shared();
    let mut config = S3Config::new(
        Some(garage.endpoint.clone()),
        garage.region.clone(),
        garage.bucket.clone(),
        garage.access_key_id.clone(),
        garage.secret_access_key.clone(),
    );
    // A prefix of its own keeps this store apart from the apps of parallel tests.
    config.key_prefix = format!("contract-{}/", uuid::Uuid::new_v4());
    let store = S3Store::new(config).expect("s3 store");
    assert_eq!(store.backend_name(), "s3");

    contract::run_all(&store, "").await;
    assert!(
        store.list("").await.expect("list").is_empty(),
        "the contract left objects behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filesystem_store_fulfils_the_blob_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsStore::new(dir.path().join("blobs")).expect("fs store");
    assert_eq!(store.backend_name(), "filesystem");

    contract::run_all(&store, "contract/").await;
    assert!(
        store.list("").await.expect("list").is_empty(),
        "the contract left objects behind"
    );
}
