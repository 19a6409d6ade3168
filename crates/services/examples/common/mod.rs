//! What the persisted benchmarks share: command-line flags and a fresh database (embedded
//! SQLite in a temporary directory, or a new database on the PostgreSQL server of
//! `YIWANG_TEST_PG_URL`).

use yiwang_store::Db;

/// The value after `name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A fresh database for `backend` (`postgres` or SQLite), with the directory to remove after.
pub async fn database(
    backend: &str,
    prefix: &str,
) -> anyhow::Result<(Db, Option<std::path::PathBuf>)> {
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    match backend {
        "postgres" => {
            let url = std::env::var("YIWANG_TEST_PG_URL")
                .map_err(|_| anyhow::anyhow!("set YIWANG_TEST_PG_URL to a PostgreSQL server"))?;
            let admin = Db::connect(&url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(admin.pool())
                .await?;
            admin.close().await;
            let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
            Ok((Db::connect(&format!("{base}/{name}")).await?, None))
        }
        _ => {
            let dir = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&dir)?;
            Ok((Db::open_data_dir(&dir).await?, Some(dir)))
        }
    }
}
