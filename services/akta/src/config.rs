//! Configuration: defaults, then `akta.toml` (or `--config`), then `AKTA_*` environment
//! variables. Nothing else is read, so what runs is what these three say.

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
    audit_signing_key_file: Option<PathBuf>,
    audit_sign_interval_secs: Option<u64>,
    hsts: Option<bool>,
    secure_cookies: Option<bool>,
    session_idle_minutes: Option<u64>,
    s3: Option<S3File>,
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

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database: Database,
    pub blobs: Blobs,
    pub max_upload_bytes: u64,
    pub orphan_grace: Duration,
    pub sweep_interval: Duration,
    /// Ed25519 key for signing audit chain heads. The embedded default keeps one in the data
    /// dir; production should give it only to a separate signer (see README).
    pub audit_signing_key: Option<PathBuf>,
    pub audit_sign_interval: Duration,
    /// Send Strict-Transport-Security (when clients reach Akta over HTTPS).
    pub hsts: bool,
    /// Session cookies only over HTTPS.
    pub secure_cookies: bool,
    pub session_idle: Duration,
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
                Blobs::S3(cfg)
            }
        };
        let max_upload_bytes = num("AKTA_MAX_UPLOAD_BYTES", file.max_upload_bytes)?
            .unwrap_or(akta_api::ApiSettings::default().max_upload_bytes);
        if max_upload_bytes == 0 {
            bail!("AKTA_MAX_UPLOAD_BYTES must be positive");
        }
        let grace = num("AKTA_ORPHAN_GRACE_SECS", file.orphan_grace_secs)?.unwrap_or(6 * 3600);
        let interval = num("AKTA_SWEEP_INTERVAL_SECS", file.sweep_interval_secs)?.unwrap_or(600);
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
        let hsts = flag("AKTA_HSTS", file.hsts);
        let secure_cookies = flag("AKTA_SECURE_COOKIES", file.secure_cookies) || hsts;
        let idle = num("AKTA_SESSION_IDLE_MINUTES", file.session_idle_minutes)?.unwrap_or(30);
        Ok(Config {
            hsts,
            secure_cookies,
            session_idle: Duration::from_secs(60 * idle.max(1)),
            audit_signing_key,
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
    fn s3_without_credentials_is_refused_and_unknown_keys_too() {
        assert!(resolve("", &[("AKTA_S3_BUCKET", "b")]).is_err());
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
        assert!(resolve("", &[("AKTA_MAX_UPLOAD_BYTES", "many")]).is_err());
    }
}
