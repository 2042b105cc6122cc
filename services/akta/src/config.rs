//! Configuration: defaults, then `akta.toml` (or `--config`), then `AKTA_*` environment
//! variables. Nothing else is read, so what runs is what these three say (the one exception:
//! the standard `OTEL_EXPORTER_OTLP_ENDPOINT` stands in for `AKTA_OTLP_ENDPOINT`).

use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_owner_url: Option<String>,
    max_upload_bytes: Option<u64>,
    orphan_grace_secs: Option<u64>,
    sweep_interval_secs: Option<u64>,
    database_pool_size: Option<u64>,
    extract_workers: Option<u64>,
    ready_max_index_lag: Option<u64>,
    audit_signing_key_file: Option<PathBuf>,
    audit_anchor_file: Option<PathBuf>,
    audit_sign_interval_secs: Option<u64>,
    hsts: Option<bool>,
    secure_cookies: Option<bool>,
    session_idle_minutes: Option<u64>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    trusted_proxies: Option<Vec<String>>,
    requests_per_minute: Option<u32>,
    import_dir: Option<PathBuf>,
    public_url: Option<String>,
    master_key_file: Option<PathBuf>,
    webhooks_allow_private: Option<bool>,
    webhooks_retry_base_ms: Option<u64>,
    otlp_endpoint: Option<String>,
    s3: Option<S3File>,
    operator_oidc: Option<OperatorOidcFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorOidcFile {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct S3File {
    endpoint: Option<String>,
    region: Option<String>,
    bucket: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    force_path_style: Option<bool>,
    key_prefix: Option<String>,
    part_mib: Option<u64>,
    parts_in_flight: Option<u64>,
}

#[derive(Debug, Clone)]
pub enum Database {
    /// A private cluster under the data dir, started and stopped by Akta.
    Embedded,
    /// An existing server. The owner URL runs migrations; the app URL serves requests.
    External { app_url: String, owner_url: String },
}

#[derive(Debug, Clone)]
pub enum Blobs {
    Filesystem(PathBuf),
    S3(akta_blob::S3Config),
}

/// Where the master key of encryption at rest comes from. Never the database.
#[derive(Clone)]
pub enum MasterKeySource {
    File(PathBuf),
    /// The value of `AKTA_MASTER_KEY`.
    Value(String),
}

/// Key material must not reach logs through `{:?}`.
impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            MasterKeySource::Value(_) => f.write_str("Value(..)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database: Database,
    pub blobs: Blobs,
    pub max_upload_bytes: u64,
    pub orphan_grace: Duration,
    pub sweep_interval: Duration,
    /// Connections this process keeps to PostgreSQL.
    pub database_pool_size: u32,
    /// Extraction jobs this process runs at once (each in its own isolated child).
    pub extract_workers: usize,
    /// Not ready while the search index trails the index log by more entries.
    pub ready_max_index_lag: u64,
    /// Ed25519 key for signing audit chain heads. The embedded default keeps one in the data
    /// dir; production should give it only to a separate signer (see README).
    pub audit_signing_key: Option<PathBuf>,
    /// Every signed audit head is also appended here (an append-only file shipped elsewhere).
    pub audit_anchor_file: Option<PathBuf>,
    /// Tenant admins may import manifests under `<import_dir>/<tenant slug>/` over REST.
    pub import_dir: Option<PathBuf>,
    pub audit_sign_interval: Duration,
    /// Send Strict-Transport-Security (when clients reach Akta over HTTPS).
    pub hsts: bool,
    /// Session cookies only over HTTPS.
    pub secure_cookies: bool,
    pub session_idle: Duration,
    /// Terminate TLS in Akta: (certificate chain PEM, private key PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    pub trusted_proxies: Vec<akta_api::peer::ProxyNet>,
    pub requests_per_minute: u32,
    /// Akta's external base URL, for OpenID Connect redirect URIs.
    pub public_url: Option<String>,
    /// `None` only with an external database and nothing configured: commands that need the
    /// key refuse to run.
    pub master_key: Option<MasterKeySource>,
    /// `AKTA_ENCRYPTION=off`: store uploads unencrypted. For the benchmark only.
    pub encrypt_uploads: bool,
    /// Webhook endpoints may point at private, loopback and link-local addresses.
    pub webhooks_allow_private: bool,
    /// The first wait before a failed webhook delivery is retried (later waits grow from it).
    pub webhooks_retry_base: Duration,
    /// Base URL of an OTLP/HTTP collector; spans go to `<endpoint>/v1/traces`. `None`: no
    /// traces are exported and no exporter exists.
    pub otlp_endpoint: Option<String>,
    /// The operator's own OpenID provider for console logins; `None`: passwords only.
    pub operator_oidc: Option<akta_api::OperatorOidc>,
}

impl Config {
    /// Loads `path`, or `./akta.toml` if it exists, then applies the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let default_path = Path::new("akta.toml");
        let file = match path {
            Some(p) => Some(p),
            None if default_path.exists() => Some(default_path),
            None => None,
        };
        let parsed = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", p.display()))?
            }
            None => FileConfig::default(),
        };
        Self::resolve(parsed, |name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })
    }

    fn resolve(file: FileConfig, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let num = |name: &str, from_file: Option<u64>| -> anyhow::Result<Option<u64>> {
            match env(name) {
                Some(v) => Ok(Some(
                    v.parse()
                        .with_context(|| format!("{name} must be a number"))?,
                )),
                None => Ok(from_file),
            }
        };
        let data_dir = env("AKTA_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database = match env("AKTA_DATABASE_URL").or(file.database_url) {
            Some(app_url) => {
                let owner_url = env("AKTA_DATABASE_OWNER_URL")
                    .or(file.database_owner_url)
                    .unwrap_or_else(|| app_url.clone());
                Database::External { app_url, owner_url }
            }
            None => Database::Embedded,
        };
        let s3 = file.s3.unwrap_or_default();
        let bucket = env("AKTA_S3_BUCKET").or(s3.bucket);
        let blobs = match bucket {
            None => Blobs::Filesystem(data_dir.join("blobs")),
            Some(bucket) => {
                let need = |name: &str, v: Option<String>| {
                    v.with_context(|| format!("{name} is required when AKTA_S3_BUCKET is set"))
                };
                let mut cfg = akta_blob::S3Config::new(
                    env("AKTA_S3_ENDPOINT").or(s3.endpoint),
                    env("AKTA_S3_REGION")
                        .or(s3.region)
                        .unwrap_or_else(|| "garage".into()),
                    bucket,
                    need(
                        "AKTA_S3_ACCESS_KEY",
                        env("AKTA_S3_ACCESS_KEY").or(s3.access_key_id),
                    )?,
                    need(
                        "AKTA_S3_SECRET_KEY",
                        env("AKTA_S3_SECRET_KEY").or(s3.secret_access_key),
                    )?,
                );
                if let Some(v) = env("AKTA_S3_PATH_STYLE") {
                    cfg.force_path_style = matches!(v.as_str(), "1" | "true" | "yes");
                } else if let Some(v) = s3.force_path_style {
                    cfg.force_path_style = v;
                }
                if let Some(prefix) = env("AKTA_S3_PREFIX").or(s3.key_prefix) {
                    cfg.key_prefix = prefix;
                }
                // S3 allows parts of 5 MiB to 5 GiB; each part in flight is held in memory.
                if let Some(mib) = num("AKTA_S3_PART_MIB", s3.part_mib)? {
                    if !(5..=512).contains(&mib) {
                        bail!("AKTA_S3_PART_MIB must be between 5 and 512");
                    }
                    cfg.part_size = mib as usize * 1024 * 1024;
                }
                if let Some(n) = num("AKTA_S3_PARTS_IN_FLIGHT", s3.parts_in_flight)? {
                    if !(1..=16).contains(&n) {
                        bail!("AKTA_S3_PARTS_IN_FLIGHT must be between 1 and 16");
                    }
                    cfg.max_concurrent_parts = n as usize;
                }
                Blobs::S3(cfg)
            }
        };
        let max_upload_bytes = num("AKTA_MAX_UPLOAD_BYTES", file.max_upload_bytes)?
            .unwrap_or(akta_core::CoreSettings::default().max_upload_bytes);
        if max_upload_bytes == 0 {
            bail!("AKTA_MAX_UPLOAD_BYTES must be positive");
        }
        let grace = num("AKTA_ORPHAN_GRACE_SECS", file.orphan_grace_secs)?.unwrap_or(6 * 3600);
        let interval = num("AKTA_SWEEP_INTERVAL_SECS", file.sweep_interval_secs)?.unwrap_or(600);
        let pool_size = num("AKTA_DATABASE_POOL_SIZE", file.database_pool_size)?.unwrap_or(20);
        let ready_lag = num("AKTA_READY_MAX_INDEX_LAG", file.ready_max_index_lag)?.unwrap_or(1000);
        if !(1..=1000).contains(&pool_size) {
            bail!("AKTA_DATABASE_POOL_SIZE must be between 1 and 1000");
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let extract_workers = num("AKTA_EXTRACT_WORKERS", file.extract_workers)?.unwrap_or(cores);
        if !(1..=64).contains(&extract_workers) {
            bail!("AKTA_EXTRACT_WORKERS must be between 1 and 64");
        }
        let audit_signing_key = env("AKTA_AUDIT_SIGNING_KEY_FILE")
            .map(PathBuf::from)
            .or(file.audit_signing_key_file)
            .or_else(|| {
                matches!(database, Database::Embedded)
                    .then(|| data_dir.join("audit-signing-key.pem"))
            });
        let sign_interval = num(
            "AKTA_AUDIT_SIGN_INTERVAL_SECS",
            file.audit_sign_interval_secs,
        )?
        .unwrap_or(300);
        let flag = |name: &str, from_file: Option<bool>| match env(name) {
            Some(v) => matches!(v.as_str(), "1" | "true" | "yes"),
            None => from_file.unwrap_or(false),
        };
        let tls = match (
            env("AKTA_TLS_CERT_FILE")
                .map(PathBuf::from)
                .or(file.tls_cert_file),
            env("AKTA_TLS_KEY_FILE")
                .map(PathBuf::from)
                .or(file.tls_key_file),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => bail!("TLS needs both AKTA_TLS_CERT_FILE and AKTA_TLS_KEY_FILE"),
        };
        let proxies: Vec<String> = match env("AKTA_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies = proxies
            .iter()
            .map(|p| akta_api::peer::ProxyNet::parse(p).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let requests_per_minute = num(
            "AKTA_REQUESTS_PER_MINUTE",
            file.requests_per_minute.map(u64::from),
        )?
        .unwrap_or(1200)
        .clamp(1, u64::from(u32::MAX)) as u32;
        let hsts = flag("AKTA_HSTS", file.hsts) || tls.is_some();
        let secure_cookies = flag("AKTA_SECURE_COOKIES", file.secure_cookies) || hsts;
        let idle = num("AKTA_SESSION_IDLE_MINUTES", file.session_idle_minutes)?.unwrap_or(30);
        let master_key = match (env("AKTA_MASTER_KEY_FILE"), env("AKTA_MASTER_KEY")) {
            (Some(_), Some(_)) => {
                bail!("set either AKTA_MASTER_KEY_FILE or AKTA_MASTER_KEY, not both")
            }
            (Some(path), None) => Some(MasterKeySource::File(path.into())),
            (None, Some(value)) => Some(MasterKeySource::Value(value)),
            (None, None) => file.master_key_file.map(MasterKeySource::File).or_else(|| {
                // The embedded default keeps its key beside its database (see README).
                matches!(database, Database::Embedded)
                    .then(|| MasterKeySource::File(data_dir.join("master.key")))
            }),
        };
        let encrypt_uploads = match env("AKTA_ENCRYPTION").as_deref() {
            None | Some("on" | "true" | "1" | "yes") => true,
            Some("off" | "false" | "0" | "no") => false,
            Some(_) => bail!("AKTA_ENCRYPTION must be on or off"),
        };
        let public_url = env("AKTA_PUBLIC_URL")
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        let webhooks_allow_private =
            flag("AKTA_WEBHOOKS_ALLOW_PRIVATE", file.webhooks_allow_private);
        let retry_base_ms =
            num("AKTA_WEBHOOKS_RETRY_BASE_MS", file.webhooks_retry_base_ms)?.unwrap_or(5000);
        if !(1..=3_600_000).contains(&retry_base_ms) {
            bail!("AKTA_WEBHOOKS_RETRY_BASE_MS must be between 1 and 3600000");
        }
        // The standard variable is honoured so a collector injected by the platform just works.
        let otlp_endpoint = env("AKTA_OTLP_ENDPOINT")
            .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
            .or(file.otlp_endpoint)
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &otlp_endpoint {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                bail!("AKTA_OTLP_ENDPOINT must be an http:// or https:// URL");
            }
        }
        let oidc_file = file.operator_oidc.unwrap_or_default();
        let operator_oidc = match (
            env("AKTA_OPERATOR_OIDC_ISSUER").or(oidc_file.issuer),
            env("AKTA_OPERATOR_OIDC_CLIENT_ID").or(oidc_file.client_id),
            env("AKTA_OPERATOR_OIDC_CLIENT_SECRET").or(oidc_file.client_secret),
        ) {
            (None, None, None) => None,
            (Some(issuer), Some(client_id), Some(client_secret)) => Some(akta_api::OperatorOidc {
                issuer,
                client_id,
                client_secret,
            }),
            _ => bail!(
                "operator OIDC needs AKTA_OPERATOR_OIDC_ISSUER, AKTA_OPERATOR_OIDC_CLIENT_ID and \
                 AKTA_OPERATOR_OIDC_CLIENT_SECRET together"
            ),
        };
        Ok(Config {
            otlp_endpoint,
            operator_oidc,
            webhooks_allow_private,
            webhooks_retry_base: Duration::from_millis(retry_base_ms),
            public_url,
            master_key,
            encrypt_uploads,
            tls,
            trusted_proxies,
            requests_per_minute,
            hsts,
            secure_cookies,
            session_idle: Duration::from_secs(60 * idle.max(1)),
            audit_signing_key,
            import_dir: env("AKTA_IMPORT_DIR")
                .map(PathBuf::from)
                .or(file.import_dir),
            audit_anchor_file: env("AKTA_AUDIT_ANCHOR_FILE")
                .map(PathBuf::from)
                .or(file.audit_anchor_file),
            audit_sign_interval: Duration::from_secs(sign_interval.max(1)),
            listen: env("AKTA_LISTEN")
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir,
            database,
            blobs,
            max_upload_bytes,
            orphan_grace: Duration::from_secs(grace),
            sweep_interval: Duration::from_secs(interval.max(1)),
            database_pool_size: u32::try_from(pool_size)?,
            extract_workers: usize::try_from(extract_workers)?,
            ready_max_index_lag: ready_lag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(toml_text: &str, env: &[(&str, &str)]) -> anyhow::Result<Config> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(toml::from_str(toml_text)?, |k| env.get(k).cloned())
    }

    #[test]
    fn webhook_settings_come_from_the_file_and_the_environment() {
        let c = resolve("", &[]).unwrap();
        assert!(!c.webhooks_allow_private);
        assert_eq!(c.webhooks_retry_base, Duration::from_secs(5));
        let c = resolve(
            "webhooks_allow_private = true\nwebhooks_retry_base_ms = 100",
            &[],
        )
        .unwrap();
        assert!(c.webhooks_allow_private);
        assert_eq!(c.webhooks_retry_base, Duration::from_millis(100));
        let c = resolve(
            "webhooks_allow_private = false",
            &[
                ("AKTA_WEBHOOKS_ALLOW_PRIVATE", "true"),
                ("AKTA_WEBHOOKS_RETRY_BASE_MS", "50"),
            ],
        )
        .unwrap();
        assert!(c.webhooks_allow_private);
        assert_eq!(c.webhooks_retry_base, Duration::from_millis(50));
        assert!(resolve("", &[("AKTA_WEBHOOKS_RETRY_BASE_MS", "0")]).is_err());
    }

    #[test]
    fn the_otlp_endpoint_comes_from_akta_then_otel_environment_then_the_file() {
        assert_eq!(resolve("", &[]).unwrap().otlp_endpoint, None);
        let file = "otlp_endpoint = \"http://file:4318/\"";
        let c = resolve(file, &[]).unwrap();
        assert_eq!(c.otlp_endpoint.as_deref(), Some("http://file:4318"));
        let otel = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318");
        let c = resolve(file, &[otel]).unwrap();
        assert_eq!(c.otlp_endpoint.as_deref(), Some("http://otel:4318"));
        let c = resolve(file, &[otel, ("AKTA_OTLP_ENDPOINT", "https://akta:4318")]).unwrap();
        assert_eq!(c.otlp_endpoint.as_deref(), Some("https://akta:4318"));
        assert!(resolve("", &[("AKTA_OTLP_ENDPOINT", "otel:4318")]).is_err());
    }

    #[test]
    fn operator_oidc_comes_whole_from_the_file_or_the_environment() {
        assert!(resolve("", &[]).unwrap().operator_oidc.is_none());
        let c = resolve(
            "[operator_oidc]\nissuer = \"https://idp.example\"\nclient_id = \"akta\"\nclient_secret = \"s\"\n",
            &[("AKTA_OPERATOR_OIDC_CLIENT_ID", "akta-betrieb")],
        )
        .unwrap();
        let oidc = c.operator_oidc.expect("configured");
        assert_eq!(oidc.issuer, "https://idp.example");
        assert_eq!(oidc.client_id, "akta-betrieb");
        assert!(!format!("{oidc:?}").contains("\"s\""), "secret in Debug");
        assert!(resolve("", &[("AKTA_OPERATOR_OIDC_ISSUER", "https://idp.example")]).is_err());
    }

    #[test]
    fn nothing_configured_means_the_embedded_default() {
        let c = resolve("", &[]).unwrap();
        assert!(matches!(c.database, Database::Embedded));
        assert!(matches!(&c.blobs, Blobs::Filesystem(p) if p == Path::new("./data/blobs")));
        assert_eq!(c.listen, "127.0.0.1:8080");
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = resolve(
            "listen = \"0.0.0.0:9000\"\n[s3]\nbucket = \"file-bucket\"\naccess_key_id = \"a\"\nsecret_access_key = \"b\"\n",
            &[("AKTA_LISTEN", "127.0.0.1:1"), ("AKTA_S3_BUCKET", "env-bucket"),
              ("AKTA_DATABASE_URL", "postgres://app@db/akta")],
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        assert!(
            matches!(&c.blobs, Blobs::S3(s) if s.bucket == "env-bucket" && s.access_key_id == "a")
        );
        assert!(
            matches!(&c.database, Database::External { owner_url, .. } if owner_url == "postgres://app@db/akta")
        );
    }

    #[test]
    fn the_master_key_comes_from_file_or_environment_and_defaults_only_when_embedded() {
        let embedded = resolve("", &[]).unwrap();
        assert!(
            matches!(&embedded.master_key, Some(MasterKeySource::File(p)) if p == Path::new("./data/master.key"))
        );
        let db = ("AKTA_DATABASE_URL", "postgres://app@db/akta");
        assert!(resolve("", &[db]).unwrap().master_key.is_none());
        let from_file = resolve("master_key_file = \"/etc/akta/master.key\"", &[db]).unwrap();
        assert!(
            matches!(&from_file.master_key, Some(MasterKeySource::File(p)) if p == Path::new("/etc/akta/master.key"))
        );
        let from_env = resolve(
            "master_key_file = \"/etc/akta/master.key\"",
            &[db, ("AKTA_MASTER_KEY", "00")],
        )
        .unwrap();
        assert!(matches!(&from_env.master_key, Some(MasterKeySource::Value(v)) if v == "00"));
        assert_eq!(format!("{:?}", from_env.master_key), "Some(Value(..))");
        let both = [("AKTA_MASTER_KEY", "a"), ("AKTA_MASTER_KEY_FILE", "b")];
        assert!(resolve("", &both).is_err());
        assert!(from_env.encrypt_uploads);
        let off = resolve("", &[("AKTA_ENCRYPTION", "off")]).unwrap();
        assert!(!off.encrypt_uploads);
        assert!(resolve("", &[("AKTA_ENCRYPTION", "maybe")]).is_err());
    }

    #[test]
    fn s3_without_credentials_is_refused_and_unknown_keys_too() {
        assert!(resolve("", &[("AKTA_S3_BUCKET", "b")]).is_err());
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
        assert!(resolve("", &[("AKTA_MAX_UPLOAD_BYTES", "many")]).is_err());
    }

    #[test]
    fn s3_part_size_and_parts_in_flight_are_settable_within_bounds() {
        let s3 = "[s3]\nbucket = \"b\"\naccess_key_id = \"a\"\nsecret_access_key = \"s\"\n";
        let default = resolve(s3, &[]).unwrap();
        assert!(
            matches!(&default.blobs, Blobs::S3(c) if c.part_size == 8 << 20 && c.max_concurrent_parts == 2)
        );
        let set = resolve(
            &format!("{s3}part_mib = 16\n"),
            &[("AKTA_S3_PARTS_IN_FLIGHT", "4")],
        )
        .unwrap();
        assert!(
            matches!(&set.blobs, Blobs::S3(c) if c.part_size == 16 << 20 && c.max_concurrent_parts == 4)
        );
        assert!(resolve(s3, &[("AKTA_S3_PART_MIB", "4")]).is_err());
        assert!(resolve(s3, &[("AKTA_S3_PARTS_IN_FLIGHT", "0")]).is_err());
    }
}
