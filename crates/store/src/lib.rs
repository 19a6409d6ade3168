//! Storage: one database API over embedded SQLite (the default) or PostgreSQL (production).
//!
//! Both backends go through sqlx's `Any` driver with runtime queries, so every repository has
//! one code path. Queries are written in the common subset of the two SQL dialects: `$1`
//! placeholders (SQLite accepts them), `TEXT` and `BIGINT` columns only, timestamps as
//! fixed-width UTC text (`2026-11-27T08:00:00.000Z`, which sorts), JSON documents as `TEXT`.
//! The migrations in `migrations/` are the same files for both databases.
//!
//! **Invariant:** every state change is one transaction (`Db::begin`); nothing here commits on
//! its own behalf.

pub mod batch;
mod group;
mod reader;

pub use batch::{Batch, BatchError};
pub use group::{Bind, MAX_GROUP, bind_all};
pub use reader::Reader;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use sqlx::any::AnyRow;
pub use sqlx::{Any, Row, Transaction};

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Storage errors: the database failed, or the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A query failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL is not one we support.
    #[error("unsupported database URL (use sqlite:PATH or postgres://…): {0}")]
    Url(String),
}

impl StoreError {
    /// The name of the violated unique or foreign-key constraint, if that is what failed.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.constraint(),
            _ => None,
        }
    }

    /// Whether the failure is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// A pool of connections to the platform's database.
///
/// On SQLite, transactions run on a separate pool of one connection: SQLite admits one writer
/// at a time anyway, and queueing for that connection in-process is fair and immediate, where
/// several connections contending for the file lock would sleep in SQLite's busy handler
/// (milliseconds each). Reads outside transactions run on the calling thread, concurrently
/// (WAL; see [`Reader`]). A transaction must therefore never wait for another transaction of
/// the same task.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Reader,
    writer: AnyPool,
    backend: Backend,
    group: Option<group::GroupWriter>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Db {
    /// Connects to `url`: `sqlite:PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool_opts = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(30))
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        // No memory map on these connections: in WAL mode a connection that finds the
        // database changed by another since its last read drops its page cache *and* unmaps the
        // file (`munmap`, a TLB shoot-down on every core), and under a write-heavy load that is
        // every read. Reads then come through the OS page cache (`pread`), which is cheaper.
        let sqlite = |pool_opts: AnyPoolOptions| {
            pool_opts.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY;",
                    )
                    .await?;
                    Ok(())
                })
            })
        };
        let (pool, writer, group) = match backend {
            Backend::Sqlite => {
                // A local file needs no liveness ping before each use (one round trip to the
                // connection's thread saved per acquire).
                let pool = sqlite(pool_opts.test_before_acquire(false))
                    .connect_with(opts.clone())
                    .await?;
                let file = sqlite_file(&url);
                let pool = match &file {
                    Some(path) => Reader::in_thread(pool, path.clone()),
                    None => Reader::pooled(pool),
                };
                let writer = sqlite(
                    AnyPoolOptions::new()
                        .acquire_timeout(Duration::from_secs(30))
                        .max_connections(1)
                        .test_before_acquire(false),
                )
                .connect_with(opts)
                .await?;
                let group = match &file {
                    Some(path) => Some(group::GroupWriter::start(writer.clone(), path)?),
                    None => None,
                };
                (pool, writer, group)
            }
            Backend::Postgres => {
                let pool = pool_opts.connect_with(opts).await?;
                (Reader::pooled(pool.clone()), pool, None)
            }
        };
        Ok(Db {
            pool,
            writer,
            backend,
            group,
        })
    }

    /// Opens (creating if needed) the SQLite database of a data directory.
    pub async fn open_data_dir(dir: &Path) -> Result<Db, StoreError> {
        let file = dir.join("yiwang.sqlite3");
        Db::connect(&format!("sqlite:{}", file.display())).await
    }

    /// Brings the schema up to date. Safe to run on every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    /// The migrations this build knows, as (version, description).
    pub fn known_migrations() -> Vec<(i64, String)> {
        MIGRATOR
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// The executor for reads outside transactions (see [`Reader`]).
    pub fn pool(&self) -> &Reader {
        &self.pool
    }

    /// The pool for one write statement outside a transaction (an autocommit `INSERT`,
    /// `UPDATE` or `DELETE`). On SQLite this is the one writer connection, so the statement
    /// queues in-process behind the running transaction instead of contending for the file
    /// lock from a reader connection and sleeping in SQLite's busy handler; on PostgreSQL it
    /// is the one pool.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// SQLite on a file: the group commit that [`Batch::commit_alone`] goes through.
    pub(crate) fn group(&self) -> Option<&group::GroupWriter> {
        self.group.as_ref()
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction; every state change runs in exactly one.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(self.writer.begin().await?)
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.any_pool().close().await;
        self.writer.close().await;
    }
}

/// The file of a `sqlite:` URL, unless it is an in-memory database.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Formats a timestamp the way the store keeps it: fixed-width UTC text that sorts.
pub fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses a stored timestamp.
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_in_a_temp_dir_migrates_twice() {
        let dir = std::env::temp_dir().join(format!("yiwang-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open_data_dir(&dir).await.unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
        let row = sqlx::query("SELECT count(*) AS n FROM regions WHERE code = $1")
            .bind("430000")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let n: i64 = row.get("n");
        assert_eq!(n, 0);
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn times_round_trip_and_sort() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-27T08:00:00.5Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let s = fmt_time(t);
        assert_eq!(s, "2026-11-27T08:00:00.500Z");
        assert_eq!(parse_time(&s), Some(t));
        assert!(fmt_time(t) < fmt_time(t + chrono::Duration::seconds(1)));
    }

    #[tokio::test]
    async fn unsupported_url_is_an_error() {
        assert!(matches!(
            Db::connect("mysql://x").await,
            Err(StoreError::Url(_))
        ));
    }
}
