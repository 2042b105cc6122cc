//! `akta`: the one deployable binary. `serve` runs the service; the other commands administer
//! the same configuration, including an embedded default that a running server uses.

mod audit_keys;
mod config;
mod import;
mod master_key;
mod runtime;
mod seed;

use akta_api::ApiSettings;
use akta_app::{App, AppConfig, JobSettings, Role};
use akta_core::{Core, CoreSettings};
use akta_domain::TenantId;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use config::Config;
use runtime::Backend;

#[derive(Parser)]
#[command(
    name = "akta",
    version,
    about = "Akta: e-Akte für Kommunen (hosted, multi-tenant records service)"
)]
struct Cli {
    /// Configuration file (default: ./akta.toml if it exists). AKTA_* variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (embedded PostgreSQL and filesystem blobs unless configured).
    Serve {
        /// all: requests and jobs; api: requests only (and this node's search index);
        /// worker: jobs only, HTTP just for /healthz and /readyz.
        #[arg(long, env = "AKTA_ROLE", default_value = "all", value_parser = parse_role)]
        role: Role,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants (Mandanten).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Issue API tokens; the token is printed once, alone on stdout.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Operators of the console at /betrieb (issue 13).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Manage the people of a tenant.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sign and verify the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Delete blobs of uploads that never became a document version (older than the grace period).
    Sweep,
    /// Rotate the keys of encryption at rest (no document is re-uploaded).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage this node's search indexes.
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Import records from other systems: `xdomea` messages (0503, 0401).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Check the configuration (file and AKTA_* variables) without starting anything.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The isolated text extraction process the server starts per job (JSON on stdin/stdout).
    #[command(name = "extract-worker", hide = true)]
    ExtractWorker,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration: settings, master key, TLS files; exit code 1 names what
    /// is wrong. Opens no database and starts nothing.
    Check,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Akten from xdomea messages (Aussonderung 0503, Abgabe 0401; 3.0.0 or 3.1.0): each a zip,
    /// an XML file beside its primary documents, or a directory holding both. Exit code 0:
    /// everything went in; 1: something was refused; 2: usage or environment error.
    Xdomea {
        /// The tenant (slug) the Akten go to.
        #[arg(long)]
        tenant: String,
        /// Report what would be created and refused; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// CSV of `message plan code,tenant plan code` for codes that differ.
        #[arg(long)]
        plan_map: Option<PathBuf>,
        /// Add plan units the tenant lacks from the message's own data (else such Akten are
        /// refused with the reason).
        #[arg(long)]
        create_plan_units: bool,
        /// The messages.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Files from a file share, as a CSV manifest names them: header
    /// `path,plan_code,file_subject,case_subject,title,date,kind` (path relative to the
    /// manifest; rows with the same plan_code and file_subject form one Akte; case_subject may
    /// be empty; date YYYY-MM-DD). Same exit codes as `xdomea`.
    Folder {
        /// The tenant (slug) the Akten go to.
        #[arg(long)]
        tenant: String,
        /// The CSV manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// Report what would be created and refused; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Recreate the search index of one tenant (or of all) from PostgreSQL and the stored
    /// text. Stop the server that uses this data directory first.
    Rebuild {
        /// Only this tenant (slug); all tenants without it.
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// New tenant key version; re-wraps every data key of the tenant, retires older versions.
    /// If interrupted, run it again: it finishes whatever still uses an older version.
    Rotate {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
    },
    /// Re-wrap every tenant key with a new master key (then switch AKTA_MASTER_KEY_FILE to it).
    RotateMaster {
        /// File with the new key (64 hex digits, e.g. from `openssl rand -hex 32`).
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and print its first admin token.
    Create {
        /// Short name in URLs and host names: lowercase letters, digits, hyphens.
        slug: String,
        /// Display name, e.g. "Stadt Herdecke".
        #[arg(long)]
        name: String,
        /// Aktenzeichen template, e.g. "{kennzeichen}-{nr:04}/{year}" (the default).
        #[arg(long)]
        reference_format: Option<String>,
        /// The Aktenplan: a template's name (e.g. kgst-kommunal), or a file: CSV
        /// (code;title;retention_years;disposition) or an xdomea Aktenplan 0301 (XML or zip).
        #[arg(long)]
        plan: Option<String>,
        /// Invite the first admin: prints a one-time link (valid 7 days) on stderr.
        #[arg(long)]
        admin_email: Option<String>,
        /// The town's own host name, e.g. akta.herdecke.de.
        #[arg(long)]
        host_name: Option<String>,
    },
    /// List tenants.
    List,
    /// Suspend a tenant: its tokens, sessions and logins stop working; data stays.
    Suspend {
        /// The tenant's slug.
        slug: String,
    },
    /// Resume a suspended tenant.
    Resume {
        /// The tenant's slug.
        slug: String,
    },
    /// Delete a tenant by destroying its keys (crypto-shredding): its tokens stop working and
    /// its stored content can never be decrypted again. Cannot be undone.
    Delete {
        /// The tenant's slug.
        slug: String,
        /// The slug again, to confirm.
        #[arg(long)]
        confirm: String,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Create an operator for the console (/betrieb). The password is read from
    /// AKTA_OPERATOR_PASSWORD or the first line of stdin; without either (stdin a terminal or
    /// empty) one is generated and printed once on stdout. With --oidc-subject the operator
    /// logs in through the operator's OpenID provider and needs no password.
    Create {
        /// Login name: letters, digits, '.', '_', '@', '-'.
        #[arg(long)]
        username: String,
        /// The operator's subject (`sub`) at the configured operator OpenID provider
        /// (`[operator_oidc]`, AKTA_OPERATOR_OIDC_*).
        #[arg(long)]
        oidc_subject: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from AKTA_USER_PASSWORD or the first line of stdin.
    Create {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// Login name: letters, digits, '.', '_', '@', '-'.
        #[arg(long)]
        username: String,
        /// Display name, e.g. "Anna Muster".
        #[arg(long)]
        name: String,
        /// admin, clerk, reader or archivist.
        #[arg(long, default_value = "clerk")]
        role: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every tenant's hash chain and head signatures; exit code 1 names the first break.
    Verify {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Public keys (PEM) whose signatures are accepted, besides the configured signing key's.
        #[arg(long = "public-key")]
        public_keys: Vec<PathBuf>,
    },
    /// Sign the current chain heads with the configured signing key.
    Sign {
        /// Only this tenant (slug); all tenants without it.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Create an Ed25519 key pair for signing: private key to --out (mode 0600), public key to stdout.
    Keygen {
        /// Where the private key goes.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a tenant token (or with --operator an operator token); printed once on stdout.
    Create {
        /// Tenant slug (for tenant tokens).
        #[arg(
            long,
            required_unless_present = "operator",
            conflicts_with = "operator"
        )]
        tenant: Option<String>,
        /// admin, clerk or reader.
        #[arg(long, default_value = "clerk")]
        role: String,
        /// Create an operator token (manages tenants, no tenant content).
        #[arg(long)]
        operator: bool,
        /// What the token is for, e.g. "Bauamt Fachverfahren" (shown in lists and the audit log).
        #[arg(long)]
        name: String,
    },
}

/// Uploads pass through multi-megabyte part buffers allocated on whichever worker thread is
/// running. glibc's adaptive mmap threshold would move such buffers into per-thread arenas
/// that keep the memory after it is freed, so the server's footprint creeps up with every
/// large upload. A fixed threshold keeps big buffers mmapped: freed means returned.
#[allow(unsafe_code)]
fn keep_large_buffers_out_of_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called first thing, before other threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

/// Logs go to stderr: coloured only on a terminal (log collectors get no escape codes), one
/// JSON object per line with `AKTA_LOG_FORMAT=json`, filtered by `AKTA_LOG`. With an OTLP
/// endpoint `(url, role)`, the same spans also go to that collector as OpenTelemetry traces;
/// the returned provider must be shut down at the end so the last batch is sent.
fn init_logging(
    otlp: Option<(&str, &'static str)>,
) -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::Layer as _;
    const DEFAULT_FILTER: &str = "info,sqlx=warn,aws=warn";
    let filter = tracing_subscriber::EnvFilter::try_from_env("AKTA_LOG")
        .unwrap_or_else(|_| DEFAULT_FILTER.into());
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if std::env::var("AKTA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        fmt.json().with_ansi(false).with_filter(filter).boxed()
    } else {
        fmt.with_ansi(std::io::stderr().is_terminal())
            .with_filter(filter)
            .boxed()
    };
    let (provider, otel_error) = match otlp.map(|(url, role)| otlp_tracer(url, role)) {
        None => (None, None),
        Some(Ok(p)) => (Some(p), None),
        Some(Err(e)) => (None, Some(e)),
    };
    let otel = provider.as_ref().map(|p| {
        use opentelemetry::trace::TracerProvider as _;
        // Its own filter: quieter logs (`AKTA_LOG=warn`) must not silence the request spans.
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("akta"))
            .with_filter(tracing_subscriber::EnvFilter::new(DEFAULT_FILTER))
    });
    tracing_subscriber::registry().with(fmt).with(otel).init();
    if let Some(e) = otel_error {
        // Traces are an aid, not a reason to refuse serving.
        tracing::error!(error = %e, "cannot set up the OTLP trace exporter; no traces are sent");
    }
    provider
}

/// The tracer provider exporting to `<endpoint>/v1/traces` (OTLP/HTTP, protobuf). Spans are
/// batched and sent from the processor's own thread, so a slow or unreachable collector never
/// holds up a request: a full queue drops spans, a failed export is only logged.
fn otlp_tracer(
    endpoint: &str,
    role: &'static str,
) -> anyhow::Result<opentelemetry_sdk::trace::SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_timeout(std::time::Duration::from_secs(10))
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("akta")
        .with_attribute(opentelemetry::KeyValue::new("akta.role", role))
        .build();
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Files Akta writes from here on (search index segments hold text in the clear, keys) are
/// the service's alone: 0600 files, 0700 directories. Called once the embedded PostgreSQL
/// runs: its data directory's parents must stay reachable for the `postgres` user.
#[allow(unsafe_code)]
fn private_files() {
    // SAFETY: umask only sets the process's file creation mask; it takes no pointers.
    unsafe {
        libc::umask(0o077);
    }
}

fn main() -> std::process::ExitCode {
    keep_large_buffers_out_of_arenas();
    let cli = Cli::parse();
    if let Command::ExtractWorker = cli.command {
        // Before logging and the runtime: stdout carries the result, nothing else may go there.
        let code = akta_extract::worker_main();
        return std::process::ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let importing = matches!(cli.command, Command::Import { .. });
    let config = Config::load(cli.config.as_deref());
    // Only the server exports traces: a command's spans are of no interest to a collector.
    let tracer = init_logging(match (&config, &cli.command) {
        (Ok(c), Command::Serve { role }) => c.otlp_endpoint.as_deref().map(|u| (u, role.as_str())),
        _ => None,
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("akta: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = config.and_then(|config| runtime.block_on(run(cli, config)));
    drop(runtime);
    if let Some(provider) = tracer {
        // Sends the spans still queued, e.g. those of the last requests before SIGTERM.
        if let Err(e) = provider.shutdown() {
            eprintln!("akta: flushing traces: {e}");
        }
    }
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("akta: {e:#}");
            // An import tells refusals (1) from usage and environment errors (2).
            match (importing, e.downcast_ref::<import::Refused>()) {
                (true, Some(_)) => std::process::ExitCode::from(1),
                (true, None) => std::process::ExitCode::from(2),
                (false, _) => std::process::ExitCode::FAILURE,
            }
        }
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
}

const CLI_ACTOR: &str = "cli";

/// How often the search index applier looks at the index log without being notified.
const INDEX_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    if let Command::Serve { role } = cli.command {
        return serve(config, role).await;
    }
    if let Command::Config {
        command: ConfigCommand::Check,
    } = cli.command
    {
        return check_config(&config);
    }
    if let Command::Audit {
        command: AuditCommand::Keygen { out },
    } = &cli.command
    {
        let public = audit_keys::generate(out)?;
        print!("{public}");
        return Ok(());
    }
    // Beside a running server, commands use its PostgreSQL and never stop it; without one,
    // they hold the directory while they start and stop the embedded cluster themselves.
    let lock = runtime::lock_data_dir(&config.data_dir)?;
    if lock.is_none() && matches!(cli.command, Command::Index { .. }) {
        // Rebuilding writes the index files the running server has open.
        return Err(runtime::busy(&config.data_dir));
    }
    let backend = Backend::open(&config).await?;
    private_files();
    let result = admin(&backend, &config, cli.command).await;
    backend.shutdown().await;
    result
}

/// `akta config check`: what `serve` would need, checked without starting anything.
fn check_config(config: &Config) -> anyhow::Result<()> {
    let embedded = matches!(config.database, config::Database::Embedded);
    let key = master_key::check(config, embedded)?;
    if let Some((cert, key_file)) = &config.tls {
        akta_api::tls::acceptor(cert, key_file)
            .with_context(|| format!("TLS files {} and {}", cert.display(), key_file.display()))?;
    }
    if let config::Blobs::S3(s3) = &config.blobs {
        akta_blob::S3Store::new(s3.clone()).context("S3 settings")?;
    }
    println!(
        "configuration ok: listen {}, database {}, blobs {}, master key {key}",
        config.listen,
        if embedded { "embedded" } else { "external" },
        match &config.blobs {
            config::Blobs::Filesystem(dir) => format!("filesystem {}", dir.display()),
            config::Blobs::S3(s3) => format!("S3 bucket {}", s3.bucket),
        },
    );
    Ok(())
}

/// The application core over this configuration's database, blob store and master key, for
/// the commands that create keys or content (`tenant create`).
async fn core_of(backend: &Backend, config: &Config) -> anyhow::Result<Core> {
    let keyring = master_key::load(config, &backend.db, backend.is_embedded()).await?;
    let blobs = runtime::blob_store(config)?;
    let core = Core::new(backend.db.clone(), blobs, keyring, CoreSettings::default());
    // With the signing key at hand, a new tenant's audit log is signed from the start.
    Ok(
        match config.audit_signing_key.as_deref().filter(|p| p.exists()) {
            Some(path) => {
                core.with_audit_seal(akta_audit::load_signing_key(path)?, anchors(config)?)
            }
            None => core,
        },
    )
}

/// The core for operator commands that need no master key (an operator can suspend or shred a
/// tenant without it at hand, and listing creates no key file).
fn operator_core(backend: &Backend) -> Core {
    Core::without_content(backend.db.clone(), CoreSettings::default())
}

async fn admin(backend: &Backend, config: &Config, command: Command) -> anyhow::Result<()> {
    let db = &backend.db;
    match command {
        Command::Serve { .. } | Command::Config { .. } => unreachable!("handled by run"),
        Command::ExtractWorker => unreachable!("handled by main"),
        Command::Migrate => eprintln!("migrations applied"),
        Command::Tenant {
            command:
                TenantCommand::Create {
                    slug,
                    name,
                    reference_format,
                    plan,
                    admin_email,
                    host_name,
                },
        } => {
            let core = core_of(backend, config).await?;
            // A plan names a file if one is there, else a template.
            let plan = match plan {
                None => akta_core::PlanSource::None,
                Some(p) if std::path::Path::new(&p).is_file() => akta_core::PlanSource::from_file(
                    std::fs::read(&p).with_context(|| format!("reading {p}"))?,
                ),
                Some(p) => akta_core::PlanSource::Template(p),
            };
            let done = core
                .onboard_tenant(
                    akta_core::Onboarding {
                        slug,
                        name,
                        reference_format,
                        plan,
                        header_name: None,
                        accent_color: None,
                        logo: None,
                        host_name,
                        admin_email,
                    },
                    CLI_ACTOR,
                )
                .await?;
            eprintln!(
                "created tenant {} ({}); its admin token:",
                done.tenant.slug, done.tenant.id
            );
            println!("{}", done.admin_token);
            if let Some(plan) = &done.plan {
                eprintln!(
                    "Aktenplan: {} units created, {} updated",
                    plan.created.len(),
                    plan.updated.len()
                );
            }
            if let Some(token) = &done.invitation {
                let base = config
                    .public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", config.listen));
                eprintln!("invitation link for the first admin (valid 7 days, once):");
                eprintln!("{base}/einladung/{token}");
            }
        }
        Command::Operator {
            command:
                OperatorCommand::Create {
                    username,
                    oidc_subject: Some(subject),
                },
        } => {
            let provider = config.operator_oidc.as_ref().context(
                "--oidc-subject needs the operator OpenID provider configured \
                 ([operator_oidc] or AKTA_OPERATOR_OIDC_ISSUER)",
            )?;
            // A password only if one is given: the provider is the way in.
            let password = std::env::var("AKTA_OPERATOR_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty());
            let core = operator_core(backend);
            core.create_operator_with(
                &username,
                password.as_deref(),
                Some((&provider.issuer, &subject)),
            )
            .await?;
            eprintln!(
                "created operator {username}, linked to subject {subject} at {}; \
                 log in at /betrieb/anmelden with \"Mit dem Anmeldedienst anmelden\"",
                provider.issuer
            );
        }
        Command::Operator {
            command:
                OperatorCommand::Create {
                    username,
                    oidc_subject: None,
                },
        } => {
            use std::io::IsTerminal;
            let given = match std::env::var("AKTA_OPERATOR_PASSWORD") {
                Ok(p) => p,
                Err(_) if std::io::stdin().is_terminal() => String::new(),
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let generated = given.is_empty();
            let password = if generated {
                akta_core::secrets::random_text(18)
            } else {
                given
            };
            let core = operator_core(backend);
            core.create_operator(&username, &password).await?;
            eprintln!("created operator {username}; log in at /betrieb/anmelden");
            if generated {
                eprintln!("its password (shown only now):");
                println!("{password}");
            }
        }
        Command::Tenant {
            command: TenantCommand::Delete { slug, confirm },
        } => {
            if confirm != slug {
                anyhow::bail!(
                    "deleting destroys the tenant's keys for good: pass --confirm {slug}"
                );
            }
            let core = operator_core(backend);
            let (tenant, destroyed) = core
                .delete_tenant(&slug, CLI_ACTOR)
                .await
                .with_context(|| format!("deleting tenant '{slug}'"))?;
            eprintln!(
                "tenant {} ({}) is deleted: {destroyed} key version(s) destroyed; its stored \
                 content can no longer be decrypted. Database backups still hold the wrapped \
                 keys until they expire.",
                tenant.slug, tenant.id
            );
        }
        Command::Keys { command } => keys_command(backend, config, command).await?,
        Command::Tenant {
            command: TenantCommand::Suspend { slug },
        } => {
            let core = operator_core(backend);
            let t = core.set_tenant_active(&slug, false, CLI_ACTOR).await?;
            eprintln!("tenant {} is {}", t.slug, t.status);
        }
        Command::Tenant {
            command: TenantCommand::Resume { slug },
        } => {
            let core = operator_core(backend);
            let t = core.set_tenant_active(&slug, true, CLI_ACTOR).await?;
            eprintln!("tenant {} is {}", t.slug, t.status);
        }
        Command::Tenant {
            command: TenantCommand::List,
        } => {
            let core = operator_core(backend);
            for t in core.list_tenants().await? {
                println!("{}\t{}\t{}\t{}", t.slug, t.status, t.id, t.display_name);
            }
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    tenant,
                    role,
                    operator,
                    name,
                },
        } => {
            let core = operator_core(backend);
            let token = if operator {
                core.create_operator_token(&name).await?.1
            } else {
                let slug = tenant.context("--tenant or --operator is required")?;
                let tenant = core
                    .tenant_by_slug(&slug)
                    .await
                    .with_context(|| format!("no tenant '{slug}'"))?;
                let role = akta_domain::Role::parse(&role)?;
                core.create_token(TenantId(tenant.id), role, &name, CLI_ACTOR)
                    .await?
                    .1
            };
            println!("{token}");
        }
        Command::Audit { command } => audit_command(db, config, command).await?,
        Command::User {
            command:
                UserCommand::Create {
                    tenant,
                    username,
                    name,
                    role,
                },
        } => {
            let password = match std::env::var("AKTA_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let core = operator_core(backend);
            let tenant = core
                .tenant_by_slug(&tenant)
                .await
                .with_context(|| format!("no tenant '{tenant}'"))?;
            let user = core
                .create_user_with_password(
                    TenantId(tenant.id),
                    &username,
                    &name,
                    akta_domain::Role::parse(&role)?,
                    &password,
                    CLI_ACTOR,
                )
                .await?;
            eprintln!(
                "created user {} ({}) in {}",
                user.username, user.role, tenant.slug
            );
        }
        Command::Import {
            command:
                ImportCommand::Xdomea {
                    tenant,
                    dry_run,
                    plan_map,
                    create_plan_units,
                    paths,
                },
        } => {
            let core = core_of(backend, config).await?;
            import::xdomea(
                &core,
                import::Options {
                    tenant: &tenant,
                    dry_run,
                    plan_map: plan_map.as_deref(),
                    create_plan_units,
                    paths: &paths,
                },
            )
            .await?;
        }
        Command::Import {
            command:
                ImportCommand::Folder {
                    tenant,
                    manifest,
                    dry_run,
                },
        } => {
            let core = core_of(backend, config).await?;
            import::folder(&core, &tenant, &manifest, dry_run).await?;
        }
        Command::Index {
            command: IndexCommand::Rebuild { tenant },
        } => {
            let tenants = match tenant {
                Some(slug) => vec![db.tenant_by_slug(&slug).await?],
                None => db.list_tenants().await?,
            };
            let root = config.data_dir.join("index");
            // Extracted text is sealed under the content keys.
            let keyring = master_key::load(config, db, backend.is_embedded()).await?;
            for t in tenants {
                let n = akta_jobs::indexer::rebuild(db, &keyring, &root, TenantId(t.id))
                    .await
                    .with_context(|| format!("rebuilding the index of '{}'", t.slug))?;
                eprintln!("tenant {}: {n} documents indexed", t.slug);
            }
        }
        Command::Sweep => {
            let blobs = runtime::blob_store(config)?;
            let report =
                akta_jobs::sweeper::sweep_once(db, blobs.as_ref(), config.orphan_grace).await?;
            eprintln!(
                "deleted {} orphaned blobs, released {} intents",
                report.deleted, report.kept
            );
        }
    }
    Ok(())
}

async fn keys_command(
    backend: &Backend,
    config: &Config,
    command: KeysCommand,
) -> anyhow::Result<()> {
    let db = &backend.db;
    let keyring = master_key::load(config, db, backend.is_embedded()).await?;
    match command {
        KeysCommand::Rotate { tenant } => {
            let row = db
                .tenant_by_slug(&tenant)
                .await
                .with_context(|| format!("no tenant '{tenant}'"))?;
            let rotation = keyring
                .rotate_tenant_key(db, TenantId(row.id), CLI_ACTOR)
                .await
                .map_err(master_key::explain)?;
            let retired: Vec<String> = rotation.retired.iter().map(|v| format!("v{v}")).collect();
            eprintln!(
                "{tenant}: tenant key v{} is current; {} data key(s) re-wrapped; retired: {}",
                rotation.version,
                rotation.rewrapped,
                if retired.is_empty() {
                    "none".into()
                } else {
                    retired.join(", ")
                }
            );
        }
        KeysCommand::RotateMaster { new_key_file } => {
            let new = master_key::read_new(&new_key_file)?;
            if new.master_key_id() == keyring.master_key_id() {
                anyhow::bail!("the new key is the current master key");
            }
            let report = keyring
                .rotate_master(db, &new, CLI_ACTOR)
                .await
                .map_err(master_key::explain)?;
            for tenant in &report {
                eprintln!(
                    "{}: {} tenant key(s) re-wrapped",
                    tenant.tenant,
                    tenant.rewrapped.len()
                );
            }
            eprintln!(
                "All tenant keys are wrapped by master key {} now. Next: set \
                 AKTA_MASTER_KEY_FILE={} (or master_key_file) for every Akta process and restart \
                 them; keep the old key (as a second line of the new file) until all run with the \
                 new one, then run this command once more and remove it.",
                new.master_key_id(),
                new_key_file.display()
            );
        }
    }
    Ok(())
}

/// Where signed audit heads are anchored: the blob store, and the anchor file if configured.
fn anchors(config: &Config) -> anyhow::Result<akta_audit::Anchors> {
    Ok(akta_audit::Anchors::new(
        runtime::blob_store(config)?,
        config.audit_anchor_file.clone(),
    ))
}

async fn audit_command(
    db: &akta_db::Db,
    config: &Config,
    command: AuditCommand,
) -> anyhow::Result<()> {
    match command {
        AuditCommand::Keygen { .. } => unreachable!("handled before the database opens"),
        AuditCommand::Sign { tenant } => {
            let path = config
                .audit_signing_key
                .as_deref()
                .context("no signing key configured (AKTA_AUDIT_SIGNING_KEY_FILE)")?;
            let key = akta_audit::load_signing_key(path)?;
            for (slug, seq) in
                akta_audit::sign_heads(db, &key, &anchors(config)?, tenant.as_deref()).await?
            {
                match seq {
                    Some(seq) => eprintln!("{slug}: head {seq} signed"),
                    None => eprintln!("{slug}: no entries yet"),
                }
            }
        }
        AuditCommand::Verify {
            tenant,
            public_keys,
        } => {
            let mut keys = Vec::new();
            if let Some(path) = config.audit_signing_key.as_deref().filter(|p| p.exists()) {
                keys.push(akta_audit::load_public_key(path)?);
            }
            for path in &public_keys {
                keys.push(akta_audit::load_public_key(path)?);
            }
            let mut broken = 0;
            for v in akta_audit::verify(db, &keys, &anchors(config)?, tenant.as_deref()).await? {
                let signed = v
                    .signed_up_to
                    .map(|s| format!("signed up to entry {s}"))
                    .unwrap_or_else(|| "not signed yet".into());
                match v.result {
                    Ok(()) => println!(
                        "{}: ok, {} entries, {signed}, {} anchored heads checked",
                        v.tenant, v.entries, v.anchors
                    ),
                    Err(e) => {
                        broken += 1;
                        println!("{}: BROKEN: {e}", v.tenant);
                    }
                }
            }
            if broken > 0 {
                anyhow::bail!("the audit log of {broken} tenant(s) failed verification");
            }
        }
    }
    Ok(())
}

async fn serve(config: Config, role: Role) -> anyhow::Result<()> {
    master_key::source(&config)?;
    // Held until the process ends.
    let _lock =
        runtime::lock_data_dir(&config.data_dir)?.ok_or_else(|| runtime::busy(&config.data_dir))?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let blobs = runtime::blob_store(&config)?;
    let backend = Backend::open(&config).await?;
    private_files();
    let outcome = async {
        let keyring = master_key::load(&config, &backend.db, backend.is_embedded()).await?;
        keyring
            .check_database(&backend.db)
            .await
            .map_err(master_key::explain)?;
        tracing::info!(
            master_key = keyring.master_key_id(),
            "encryption at rest is ready"
        );
        if !config.encrypt_uploads {
            tracing::warn!(
                "AKTA_ENCRYPTION=off: new uploads are stored unencrypted (benchmark only)"
            );
        }
        let audit_signing = match &config.audit_signing_key {
            Some(path) => {
                if backend.is_embedded() && !path.exists() {
                    audit_keys::generate(path)?;
                }
                let key = akta_audit::load_signing_key(path)?;
                Some((key, config.audit_sign_interval))
            }
            None => None,
        };
        let app = App::build(AppConfig {
            role,
            db: backend.db.clone(),
            blobs: blobs.clone(),
            keyring,
            core: CoreSettings {
                encrypt_uploads: config.encrypt_uploads,
                max_upload_bytes: config.max_upload_bytes,
                session_idle: config.session_idle,
                ready_max_index_lag: i64::try_from(config.ready_max_index_lag).unwrap_or(i64::MAX),
                requests_per_minute: config.requests_per_minute,
                import_dir: config.import_dir.clone(),
                webhooks_allow_private: config.webhooks_allow_private,
                ..CoreSettings::default()
            },
            api: ApiSettings {
                hsts: config.hsts,
                secure_cookies: config.secure_cookies,
                trusted_proxies: config.trusted_proxies.clone(),
                public_url: config.public_url.clone(),
                index_dir: Some(config.data_dir.join("index")),
                operator_oidc: config.operator_oidc.clone(),
                ..ApiSettings::default()
            },
            jobs: JobSettings {
                // Extraction runs this same binary as its isolated child (`akta extract-worker`).
                extract_exe: Some(std::env::current_exe().context("locating the akta binary")?),
                extraction: akta_jobs::worker::PoolSettings {
                    workers: config.extract_workers,
                    ..akta_jobs::worker::PoolSettings::default()
                },
                index_interval: INDEX_INTERVAL,
                sweep_interval: config.sweep_interval,
                orphan_grace: config.orphan_grace,
                audit_signing,
                audit_anchor_file: config.audit_anchor_file.clone(),
                webhooks: akta_jobs::webhooks::WebhookSettings {
                    allow_private: config.webhooks_allow_private,
                    retry_base: config.webhooks_retry_base,
                    ..akta_jobs::webhooks::WebhookSettings::default()
                },
            },
        })?;
        if backend.is_embedded() {
            seed::demo_on_first_start(&app.state().core, &config).await?;
        }
        // OpenID client secrets stored in the clear by an older Akta: sealed now.
        let sealed = app.state().core.seal_stored_secrets().await?;
        if sealed > 0 {
            tracing::info!(tenants = sealed, "sealed stored OpenID client secrets");
        }
        tracing::info!(
            listen = %config.listen,
            blobs = blobs.backend_name(),
            role = role.as_str(),
            "Akta is serving on {}://{}",
            if config.tls.is_some() { "https" } else { "http" },
            config.listen
        );
        let tls = match &config.tls {
            Some((cert, key)) => Some(akta_api::tls::acceptor(cert, key)?),
            None => None,
        };
        app.serve(listener, tls, shutdown_signal())
            .await
            .context("serving HTTP")
    }
    .await;
    backend.shutdown().await;
    tracing::info!("Akta stopped");
    outcome
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every subcommand and every option or argument says what it is for in `--help`.
    #[test]
    fn every_command_and_option_has_help_text() {
        fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.is_hide_set() || sub.get_name() == "help" {
                    continue;
                }
                let sub_path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(sub_path.clone());
                }
                check(sub, &sub_path, missing);
            }
        }
        let mut missing = Vec::new();
        check(&Cli::command(), "akta", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }
}
