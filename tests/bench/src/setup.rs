//! What every benchmark starts from: a throwaway PostgreSQL with Akta's schema and a tenant
//! made through the core (its key under a master key the bench hands to the servers it
//! starts), as `akta tenant create` and `akta token create --operator` would.

/// The database's URLs, the master key (hex, for `AKTA_MASTER_KEY`) and the bench tenant.
pub struct BenchTenant {
    pub urls: akta_pgcluster::ClusterUrls,
    pub master_key_hex: String,
    pub tenant: akta_core::model::TenantRow,
    /// The tenant's first admin token.
    pub token: String,
    /// An operator token (quotas).
    pub operator_token: String,
}

pub async fn bench_tenant(name: &str) -> anyhow::Result<BenchTenant> {
    let urls = akta_testkit::postgres::fresh_database().await;
    akta_db::Db::migrate(&urls.owner_url).await?;
    let db = akta_db::Db::connect(&urls.app_url, 2).await?;
    let master = akta_crypto::Key256::generate()?;
    let master_key_hex = master.to_hex();
    let keyring = akta_keys::keyring::Keyring::new(master);
    // No blob is written here; the servers the bench starts keep their own store.
    let scratch = tempfile::tempdir()?;
    let blobs = std::sync::Arc::new(akta_blob::FsStore::new(scratch.path().join("blobs"))?);
    let core = akta_core::Core::new(db, blobs, keyring, akta_core::CoreSettings::default());
    let (tenant, token) = core.create_tenant("bench", name, None, "bench").await?;
    let (_, operator_token) = core.create_operator_token("bench").await?;
    Ok(BenchTenant {
        urls,
        master_key_hex,
        tenant,
        token,
        operator_token,
    })
}
