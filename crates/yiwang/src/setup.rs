//! Turning command-line settings into an open platform: the database, the personal-data key
//! ring and the outside systems (population and legal-person libraries, notifier, object
//! store).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use yiwang_services::identity::{Keys, Outside};
use yiwang_services::{Platform, SystemClock};
use yiwang_store::Db;

use crate::{Addressing, DbArgs, IdentityArgs, StoreKind};

/// The key ring: from the setting when given, else from DATA_DIR/secrets/pii-keys, which is
/// created with one random key (readable by the owner only) the first time.
pub fn key_spec(args: &IdentityArgs) -> anyhow::Result<String> {
    if let Some(spec) = &args.pii_keys {
        return Ok(spec.clone());
    }
    let dir = args.db.data_dir.join("secrets");
    let file = dir.join("pii-keys");
    if file.exists() {
        return Ok(std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?
            .trim()
            .to_owned());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = format!("k1:{}", yiwang_crypto::pii::KeyRing::generate_secret_hex());
    write_private(&file, &spec)?;
    tracing::warn!(
        file = %file.display(),
        "no YIWANG_PII_KEYS given: generated a personal-data key; back it up, or the data it \
         protects cannot be read"
    );
    Ok(spec)
}

/// Writes a file only its owner may read.
fn write_private(file: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Opens the database (migrated) and the platform with its keys and outside systems.
pub async fn open_platform(args: &IdentityArgs) -> anyhow::Result<Arc<Platform>> {
    open_platform_on(args, Arc::new(SystemClock)).await
}

/// [`open_platform`] on the given clock (`serve --simulated-clock`).
pub async fn open_platform_on(
    args: &IdentityArgs,
    clock: Arc<dyn yiwang_services::Clock>,
) -> anyhow::Result<Arc<Platform>> {
    let db = open_db(&args.db).await?;
    let mut keys = Keys::from_spec(&key_spec(args)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(spec) = &args.seal_keys {
        keys = keys
            .with_seal_spec(spec)
            .map_err(|e| anyhow::anyhow!("YIWANG_SEAL_KEYS: {e}"))?;
    }
    let outside = outside(args)?;
    Platform::open_with(db, clock, keys, outside)
        .await
        .map_err(|e| anyhow::anyhow!("opening the platform: {e}"))
}

/// Opens and migrates the database.
pub async fn open_db(args: &DbArgs) -> anyhow::Result<Db> {
    let db = match &args.database_url {
        Some(url) => Db::connect(url)
            .await
            .with_context(|| format!("connecting to {}", crate::mask(url)))?,
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .with_context(|| format!("creating {}", args.data_dir.display()))?;
            Db::open_data_dir(&args.data_dir)
                .await
                .with_context(|| format!("opening the database in {}", args.data_dir.display()))?
        }
    };
    db.migrate().await.context("migrating the database")?;
    Ok(db)
}

/// The outside systems: library connectors by URL (built-in demo library without), and the
/// notifier (`dev-file`, or a JSON configuration file as described in the connectors README);
/// files as [`object_store`] says.
pub fn outside(args: &IdentityArgs) -> anyhow::Result<Outside> {
    use yiwang_connectors::{HttpLibrary, LegalPersonLibrary, NotifierConfig, PopulationLibrary};
    let (notifier, dev_outbox) = if args.notifier == "dev-file" {
        let path = args.db.data_dir.join("outbox").join("messages.jsonl");
        (NotifierConfig::dev_file(&path), Some(path))
    } else {
        let text = std::fs::read_to_string(&args.notifier)
            .with_context(|| format!("reading the notifier configuration {}", args.notifier))?;
        let config: NotifierConfig = serde_json::from_str(&text)
            .with_context(|| format!("parsing the notifier configuration {}", args.notifier))?;
        (config, None)
    };
    // The built-in library is generated only when a library has no HTTP connector.
    let mut built_in = None;
    let mut library = || -> anyhow::Result<std::sync::Arc<yiwang_connectors::DemoLibrary>> {
        if let Some(l) = &built_in {
            return Ok(std::sync::Arc::clone(l));
        }
        let l = std::sync::Arc::new(
            yiwang_services::demo::demo_library(
                yiwang_services::demo::DEMO_RESIDENTS,
                yiwang_services::demo::DEMO_ENTERPRISES,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        built_in = Some(std::sync::Arc::clone(&l));
        Ok(l)
    };
    let timeout = std::time::Duration::from_secs(5);
    let http = |url: &str, what: &str| {
        HttpLibrary::new(url, args.library_token.clone(), timeout)
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))
    };
    let population = match &args.population_url {
        Some(url) => PopulationLibrary::Http(http(url, "population library")?),
        None => PopulationLibrary::BuiltIn(library()?),
    };
    let legal = match &args.legal_person_url {
        Some(url) => LegalPersonLibrary::Http(http(url, "legal-person library")?),
        None => LegalPersonLibrary::BuiltIn(library()?),
    };
    Ok(Outside {
        population,
        legal,
        notifier: yiwang_connectors::Notifier::new(&notifier)
            .map_err(|e| anyhow::anyhow!("notifier: {e}"))?,
        dev_outbox,
        files: object_store(args)?,
    })
}

/// The object store: the data directory's `files/` by default, an S3-compatible bucket with
/// `YIWANG_OBJECT_STORE=s3` (every YIWANG_S3_* setting it needs must be given).
pub fn object_store(args: &IdentityArgs) -> anyhow::Result<yiwang_connectors::ObjectStore> {
    use yiwang_connectors::ObjectStore;
    use yiwang_connectors::s3::{S3Config, S3Store};
    let f = &args.files;
    if f.object_store == StoreKind::Local {
        return Ok(ObjectStore::local(args.db.data_dir.join("files")));
    }
    let missing: Vec<&str> = [
        ("YIWANG_S3_ENDPOINT", f.s3_endpoint.is_none()),
        ("YIWANG_S3_BUCKET", f.s3_bucket.is_none()),
        ("YIWANG_S3_ACCESS_KEY", f.s3_access_key.is_none()),
        ("YIWANG_S3_SECRET_KEY", f.s3_secret_key.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "YIWANG_OBJECT_STORE=s3 needs {} (or the matching --s3-* options)",
            missing.join(", ")
        );
    }
    let store = S3Store::new(S3Config {
        endpoint: f.s3_endpoint.clone().unwrap_or_default(),
        bucket: f.s3_bucket.clone().unwrap_or_default(),
        region: f.s3_region.clone(),
        access_key: f.s3_access_key.clone().unwrap_or_default(),
        secret_key: f.s3_secret_key.clone().unwrap_or_default(),
        path_style: f.s3_addressing == Addressing::Path,
        timeout: std::time::Duration::from_secs(f.s3_timeout.max(1)),
    })
    .map_err(|e| anyhow::anyhow!("object store: {e}"))?;
    Ok(ObjectStore::s3(store))
}
