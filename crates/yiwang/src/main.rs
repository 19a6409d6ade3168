//! `yiwang`: the one binary of the platform.
//!
//! `yiwang serve --demo` starts the platform on an embedded SQLite file with the demo province;
//! `yiwang process check|simulate` checks and simulates BPMN files for process designers;
//! `yiwang migrate` brings a database's schema up to date; `yiwang demo` loads the demo
//! province into a database; `yiwang config show` prints the effective settings; `yiwang oidc
//! add-client` registers a department's system with the OpenID Connect provider.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use yiwang_services::{demo, identity};
use yiwang_store::Db;

mod process;
mod setup;

/// The Yiwang integrated online government service platform (一网).
#[derive(Parser)]
#[command(name = "yiwang", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum LicenceAction {
    /// Check a licence document (`yiwang-licence/1` JSON, as 我的证照 downloads it) with no
    /// server and no database: its SM2 signature under the seal key it names, or under the
    /// seal's published key given with --key. Exit status 0 when it verifies, 1 when not.
    Verify {
        /// The licence document.
        file: std::path::PathBuf,
        /// The seal's published public key (PEM) to trust instead of the one in the file.
        #[arg(long)]
        key: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal, the management pages and the API.
    Serve(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate(DbArgs),
    /// Load the demo province into the database (once) and exit.
    Demo(DemoArgs),
    /// Show the effective configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Keys that protect personal data.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Cases (办件): verify their process records.
    Cases {
        #[command(subcommand)]
        action: CasesAction,
    },
    /// Electronic licences (电子证照): verify a licence document offline.
    Licence {
        #[command(subcommand)]
        action: LicenceAction,
    },
    /// Approval processes (BPMN 2.0): check a file, simulate a run.
    Process {
        #[command(subcommand)]
        action: process::ProcessAction,
    },
    /// The OpenID Connect provider: client systems of departments.
    Oidc {
        #[command(subcommand)]
        action: OidcAction,
    },
}

#[derive(Subcommand)]
enum OidcAction {
    /// Register a client system; prints its client_id and client_secret (shown once).
    AddClient(AddClientArgs),
    /// List the registered client systems.
    ListClients(IdentityArgs),
}

#[derive(Args, Clone)]
struct AddClientArgs {
    #[command(flatten)]
    identity: IdentityArgs,
    /// Display name of the client system.
    #[arg(long)]
    name: String,
    /// A redirect URI (exact match; https://, or http://127.0.0.1 / http://localhost); repeat
    /// for several.
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// Where logout may return to; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Space-separated scopes the client may ask for.
    #[arg(long, default_value = "openid profile")]
    scope: String,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Recompute the SM3 hash chain and report the first tampered entry, if any (exit 1).
    Verify(IdentityArgs),
}

#[derive(Subcommand)]
enum CasesAction {
    /// Recompute every case's SM3 chain of process records (办件过程信息) and list each case
    /// whose records were changed, inserted or removed (exit 1).
    Verify(CasesVerifyArgs),
}

#[derive(Args, Clone)]
struct CasesVerifyArgs {
    #[command(flatten)]
    identity: IdentityArgs,
    /// Only this case (id or 办件编号).
    #[arg(long)]
    case: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum KeysAction {
    /// Print a new random key secret (add it to YIWANG_PII_KEYS as `id:secret`, first).
    Generate,
    /// Re-encrypt every personal-data field under the current (first) key and recompute blind
    /// indexes; run after putting a new key first.
    Rotate(IdentityArgs),
}

#[derive(Args, Clone)]
struct IdentityArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The personal-data key ring, `id:hex,id:hex` (newest first). Without it, the ring in
    /// DATA_DIR/secrets/pii-keys is used, created with one random key on first start.
    #[arg(long, env = "YIWANG_PII_KEYS", hide_env_values = true)]
    pii_keys: Option<String>,
    /// The key ring that seals the private keys of electronic seals (SM4-GCM), `id:hex,…`
    /// newest first. Without it, the personal-data ring seals them too.
    #[arg(long, env = "YIWANG_SEAL_KEYS", hide_env_values = true)]
    seal_keys: Option<String>,
    /// Base URL of the population library (人口库) HTTP connector; the built-in demo library
    /// without it.
    #[arg(long, env = "YIWANG_POPULATION_URL")]
    population_url: Option<String>,
    /// Base URL of the legal-person library (法人库) HTTP connector; built-in without it.
    #[arg(long, env = "YIWANG_LEGAL_PERSON_URL")]
    legal_person_url: Option<String>,
    /// Bearer token for both library connectors.
    #[arg(long, env = "YIWANG_LIBRARY_TOKEN", hide_env_values = true)]
    library_token: Option<String>,
    /// Where SMS and e-mail go: `dev-file` (DATA_DIR/outbox/messages.jsonl, for development),
    /// or a notifier configuration file (TOML: see crates/connectors/README.md).
    #[arg(long, env = "YIWANG_NOTIFIER", default_value = "dev-file")]
    notifier: String,
    #[command(flatten)]
    files: FilesArgs,
}

/// Where files (materials, notices, decisions) are kept.
#[derive(Args, Clone)]
struct FilesArgs {
    /// `local` (DATA_DIR/files) or `s3` (an S3-compatible bucket: the YIWANG_S3_* settings).
    #[arg(long, env = "YIWANG_OBJECT_STORE", value_enum, default_value_t = StoreKind::Local)]
    object_store: StoreKind,
    /// Base URL of the S3-compatible service, e.g. http://127.0.0.1:9000.
    #[arg(long, env = "YIWANG_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// The bucket (must exist).
    #[arg(long, env = "YIWANG_S3_BUCKET")]
    s3_bucket: Option<String>,
    /// The signing region.
    #[arg(long, env = "YIWANG_S3_REGION", default_value = "us-east-1")]
    s3_region: String,
    /// Access key id (prefer the environment variable to the option).
    #[arg(long, env = "YIWANG_S3_ACCESS_KEY", hide_env_values = true)]
    s3_access_key: Option<String>,
    /// Secret access key (prefer the environment variable: options show in `ps`).
    #[arg(long, env = "YIWANG_S3_SECRET_KEY", hide_env_values = true)]
    s3_secret_key: Option<String>,
    /// `path` ({endpoint}/{bucket}/{key}, what self-hosted servers expect) or `virtual-hosted`
    /// ({bucket}.{endpoint host}/{key}).
    #[arg(long, env = "YIWANG_S3_ADDRESSING", value_enum, default_value_t = Addressing::Path)]
    s3_addressing: Addressing,
    /// Seconds after which one S3 request gives up.
    #[arg(long, env = "YIWANG_S3_TIMEOUT", default_value_t = 30)]
    s3_timeout: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    Local,
    S3,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Addressing {
    Path,
    VirtualHosted,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print the effective settings (secrets masked).
    Show(ServeArgs),
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Directory for the embedded database and files.
    #[arg(long, env = "YIWANG_DATA_DIR", default_value = ".yiwang-data")]
    data_dir: PathBuf,
    /// A PostgreSQL URL (postgres://…); without it the embedded SQLite file in the data
    /// directory is used.
    #[arg(long, env = "YIWANG_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args, Clone)]
struct DemoArgs {
    #[command(flatten)]
    identity: IdentityArgs,
    /// Also add synthetic load-test items until the catalogue has this many (benchmarks only).
    #[arg(long)]
    scale: Option<usize>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    identity: IdentityArgs,
    /// Address to listen on.
    #[arg(long, env = "YIWANG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Load the demo province on first start.
    #[arg(long, env = "YIWANG_DEMO")]
    demo: bool,
    /// Mark cookies Secure (set when serving behind TLS).
    #[arg(long, env = "YIWANG_SECURE_COOKIES")]
    secure_cookies: bool,
    /// The public base URL (the OpenID Connect issuer), e.g. https://zwfw.example.gov.cn;
    /// `http://<listen address>` without it.
    #[arg(long, env = "YIWANG_PUBLIC_URL")]
    public_url: Option<String>,
    /// Run on a simulated clock that system administrators move forward (demos and acceptance
    /// tests of deadlines: `POST /api/v1/supervision/clock`); never in production.
    #[arg(long, env = "YIWANG_SIMULATED_CLOCK")]
    simulated_clock: bool,
}

fn mask(url: &str) -> String {
    // postgres://user:password@host → postgres://user:***@host
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// An access key shown by its first four characters only.
fn mask_key(key: &str) -> String {
    format!("{}***", key.chars().take(4).collect::<String>())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let clock: std::sync::Arc<dyn yiwang_services::Clock> = if args.simulated_clock {
        tracing::warn!("running on a simulated clock: administrators may move time forward");
        std::sync::Arc::new(yiwang_services::SimulatedClock::new())
    } else {
        std::sync::Arc::new(yiwang_services::SystemClock)
    };
    let platform = setup::open_platform_on(&args.identity, clock).await?;
    // A wrong object-store setting stops the server here rather than failing the first upload.
    platform
        .outside
        .files
        .check()
        .await
        .with_context(|| format!("object store: {}", platform.outside.files.describe()))?;
    tracing::info!(files = %platform.outside.files.describe(), "object store ready");
    if args.demo
        && let Some(c) = demo::load(&platform)
            .await
            .map_err(|e| anyhow::anyhow!("loading the demo province: {e}"))?
    {
        tracing::info!(
            regions = c.regions,
            organisations = c.organisations,
            catalogue = c.catalogue,
            items = c.items,
            staff = c.staff,
            "demo province loaded"
        );
    }
    // Durable timers and step limits: every node sweeps; each timer fires once (see
    // `workflow::timers`).
    let node = format!(
        "{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "yiwang".into()),
        std::process::id()
    );
    tokio::spawn(yiwang_services::workflow::timers::run(
        platform.clone(),
        node,
        std::time::Duration::from_secs(5),
    ));
    // Outbox consumers that move cases along (a process to start, a decision to record): each
    // event is handled once across nodes (see `cases::events`).
    tokio::spawn(yiwang_services::cases::events::run(
        platform.clone(),
        std::time::Duration::from_secs(5),
    ));
    // 我要问: organisations are reminded once of each question past its answer deadline.
    tokio::spawn(yiwang_services::questions::run(
        platform.clone(),
        std::time::Duration::from_secs(60),
    ));
    // 电子监察: the rules on every case event (within a second) and the deadline sweep.
    tokio::spawn(yiwang_services::supervision::run(
        platform.clone(),
        std::time::Duration::from_secs(60),
    ));
    // 绩效评估: the daily rollup the reports read (see `supervision::performance`).
    tokio::spawn(yiwang_services::supervision::performance::run(
        platform.clone(),
        std::time::Duration::from_secs(600),
    ));
    // Licences: holders told before expiry, expired licences marked (see `licences::expiry`).
    tokio::spawn(yiwang_services::licences::expiry::run(
        platform.clone(),
        std::time::Duration::from_secs(600),
    ));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let app = yiwang_web::router(
        platform.clone(),
        yiwang_web::WebConfig {
            secure_cookies: args.secure_cookies,
            public_url: public_url.trim_end_matches('/').to_owned(),
            ..Default::default()
        },
    );
    tracing::info!(
        %addr,
        items = platform.summaries.active_count(),
        ready_ms = started.elapsed().as_millis() as u64,
        "ready: http://{addr}/"
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    platform.db.close().await;
    Ok(())
}

/// mimalloc instead of glibc's allocator: under load the server spent about a seventh of its
/// request-handling time in `malloc`/`free` (see BENCHMARKS.md, case API).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tantivy=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Command::Licence {
        action: LicenceAction::Verify { file, key },
    } = &cli.command
    {
        std::process::exit(licence_verify(file, key.as_deref()));
    }
    if let Command::Process { action } = cli.command {
        let code = process::run(action)?;
        std::process::exit(code);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Migrate(args) => {
                let db = setup::open_db(&args).await?;
                for (v, d) in Db::known_migrations() {
                    println!("{v:04} {d}");
                }
                db.close().await;
                println!("schema up to date");
                Ok(())
            }
            Command::Demo(args) => {
                let platform = setup::open_platform(&args.identity).await?;
                match demo::load(&platform).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                    Some(c) => println!(
                        "demo province loaded: {} regions, {} organisations, {} catalogue entries, {} items, {} staff",
                        c.regions, c.organisations, c.catalogue, c.items, c.staff
                    ),
                    None => println!("demo province already loaded"),
                }
                if let Some(n) = args.scale {
                    let added = demo::load_scale(&platform, n)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("scale data: {added} synthetic items added ({} active in all)", platform.summaries.active_count());
                }
                Ok(())
            }
            Command::Audit {
                action: AuditAction::Verify(args),
            } => {
                let platform = setup::open_platform(&args).await?;
                let v = identity::audit::verify(&platform)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                platform.db.close().await;
                match v.first_bad {
                    None => {
                        println!("audit log intact: {} entries, hash chain verified (SM3)", v.entries);
                        Ok(())
                    }
                    Some(bad) => {
                        println!(
                            "audit log TAMPERED: first bad entry #{} ({}); {} entries before it verified",
                            bad.seq, bad.reason, v.entries
                        );
                        std::process::exit(1)
                    }
                }
            }
            Command::Keys {
                action: KeysAction::Generate,
            } => {
                println!("{}", yiwang_crypto::pii::KeyRing::generate_secret_hex());
                Ok(())
            }
            Command::Keys {
                action: KeysAction::Rotate(args),
            } => {
                let platform = setup::open_platform(&args).await?;
                let n = identity::rotate_keys(&platform)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                platform.db.close().await;
                println!(
                    "{n} records re-encrypted under key {}",
                    platform.keys.pii.current_id()
                );
                Ok(())
            }
            Command::Cases {
                action: CasesAction::Verify(a),
            } => {
                let platform = setup::open_platform(&a.identity).await?;
                let v = yiwang_services::cases::records::verify(&platform, a.case.as_deref())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                platform.db.close().await;
                if a.json {
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else if v.broken.is_empty() {
                    println!(
                        "process records intact: {} cases, {} records, every SM3 chain verified",
                        v.cases, v.records
                    );
                } else {
                    for b in &v.broken {
                        println!(
                            "TAMPERED: case {} ({}) at record {}: {}",
                            if b.case_no.is_empty() { "-" } else { &b.case_no },
                            b.case_id,
                            b.at_seq,
                            b.problem
                        );
                    }
                    println!(
                        "{} of {} cases have broken chains ({} records checked)",
                        v.broken.len(),
                        v.cases,
                        v.records
                    );
                }
                if v.broken.is_empty() {
                    Ok(())
                } else {
                    std::process::exit(1)
                }
            }
            // Handled before the runtime starts.
            Command::Process { .. } | Command::Licence { .. } => Ok(()),
            Command::Oidc {
                action: OidcAction::AddClient(a),
            } => {
                let platform = setup::open_platform(&a.identity).await?;
                let r = identity::oidc::add_client(
                    &platform,
                    None,
                    &a.name,
                    &a.redirect_uris,
                    &a.post_logout_redirect_uris,
                    &a.scope,
                )
                .await;
                platform.db.close().await;
                match r {
                    Ok((id, secret)) => {
                        println!("client_id: {id}");
                        println!("client_secret: {secret}");
                        eprintln!("(the secret is shown only this once; it is stored as an Argon2id hash)");
                        Ok(())
                    }
                    Err(yiwang_services::ServiceError::Invalid(fields)) => {
                        for f in fields {
                            eprintln!("{}: {} / {}", f.field, f.message_zh, f.message_en);
                        }
                        std::process::exit(2)
                    }
                    Err(e) => Err(anyhow::anyhow!("{e}")),
                }
            }
            Command::Oidc {
                action: OidcAction::ListClients(args),
            } => {
                let platform = setup::open_platform(&args).await?;
                let clients = identity::oidc::list_clients(&platform, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                platform.db.close().await;
                for c in clients {
                    println!(
                        "{}\t{}\t{}\tscope={}\tredirect_uris={}",
                        c.client_id,
                        if c.disabled { "disabled" } else { "enabled" },
                        c.name,
                        c.scopes.join(" "),
                        c.redirect_uris.join(",")
                    );
                }
                Ok(())
            }
            Command::Config {
                action: ConfigAction::Show(args),
            } => {
                println!("listen         = {}", args.listen);
                println!("data_dir       = {}", args.identity.db.data_dir.display());
                println!(
                    "database_url   = {}",
                    args.identity
                        .db
                        .database_url
                        .as_deref()
                        .map(mask)
                        .unwrap_or_else(|| format!(
                            "sqlite:{}",
                            args.identity.db.data_dir.join("yiwang.sqlite3").display()
                        ))
                );
                println!("demo           = {}", args.demo);
                println!(
                    "pii_keys       = {}",
                    if args.identity.pii_keys.is_some() {
                        "*** (from YIWANG_PII_KEYS)".to_owned()
                    } else {
                        format!("{}/secrets/pii-keys", args.identity.db.data_dir.display())
                    }
                );
                println!(
                    "seal_keys      = {}",
                    if args.identity.seal_keys.is_some() {
                        "*** (from YIWANG_SEAL_KEYS)"
                    } else {
                        "the personal-data ring"
                    }
                );
                println!(
                    "population     = {}",
                    args.identity.population_url.as_deref().unwrap_or("built-in demo library")
                );
                println!(
                    "legal_person   = {}",
                    args.identity.legal_person_url.as_deref().unwrap_or("built-in demo library")
                );
                println!("notifier       = {}", args.identity.notifier);
                match setup::object_store(&args.identity) {
                    Ok(files) => println!("object_store   = {}", files.describe()),
                    Err(e) => println!("object_store   = invalid: {e:#}"),
                }
                let f = &args.identity.files;
                if f.object_store == StoreKind::S3 {
                    println!(
                        "s3_access_key  = {}",
                        f.s3_access_key.as_deref().map_or("(not set)".into(), mask_key)
                    );
                    println!(
                        "s3_secret_key  = {}",
                        if f.s3_secret_key.is_some() { "***" } else { "(not set)" }
                    );
                }
                println!("secure_cookies = {}", args.secure_cookies);
                println!(
                    "public_url     = {}",
                    args.public_url
                        .clone()
                        .unwrap_or_else(|| format!("http://{}", args.listen))
                );
                Ok(())
            }
        }
    })
}

/// `yiwang licence verify`: prints what the document says and whether it verifies.
fn licence_verify(file: &std::path::Path, key: Option<&std::path::Path>) -> i32 {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let result = read(file).and_then(|doc| {
        let key = key.map(read).transpose()?;
        yiwang_services::licences::verify_document(&doc, key.as_deref())
    });
    match result {
        Ok(data) => {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
            println!("签名有效 / signature valid");
            println!("证照标识 {}", text(&data["id"]));
            println!("证照名称 {}", text(&data["name"]));
            println!("证照编号 {}", text(&data["number"]));
            println!("持证主体 {}", text(&data["holder"]["name"]));
            println!(
                "颁证单位 {} ({})",
                text(&data["issuer"]["name"]),
                text(&data["issuer"]["code"])
            );
            println!(
                "有效期 {} 至 {}",
                text(&data["valid_from"]),
                data["valid_to"].as_str().unwrap_or("长期")
            );
            println!(
                "（离线验证只证明签名；证照的当前状态请在验证页面查询 / offline: the signature only; ask the verification page for its current status）"
            );
            0
        }
        Err(e) => {
            eprintln!("验证失败 / not valid: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{mask, mask_key};

    #[test]
    fn passwords_never_print() {
        assert_eq!(
            mask("postgres://app:s3cret@db:5432/yiwang"),
            "postgres://app:***@db:5432/yiwang"
        );
        assert_eq!(mask("postgres://db/yiwang"), "postgres://db/yiwang");
        assert_eq!(mask_key("AKIAIOSFODNN7EXAMPLE"), "AKIA***");
    }
}
