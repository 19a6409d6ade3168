//! Group commit for SQLite: whole-transaction scripts from many callers run on the one writer
//! connection, several to a database transaction, each inside a savepoint of its own.
//!
//! SQLite admits one writer, and on this kind of machine the cost of a small transaction is
//! mostly fixed: the hand-off to the connection's thread and back, and the commit writing every
//! page it dirtied to the WAL. When callers queue, the writer task takes every script waiting
//! (up to [`MAX_GROUP`]) and runs them in one transaction: `BEGIN IMMEDIATE`, then per script
//! `SAVEPOINT g; …; RELEASE g` (a script that fails is rolled back to its savepoint and only
//! its caller gets the error), then one `COMMIT`. A caller hears success only after that commit,
//! so each script is atomic and durable exactly as if it had committed alone; pages the group
//! shares (the instance table, an index) are written once. A lone script runs as
//! `BEGIN IMMEDIATE; …; COMMIT` in one hand-off, as before.
//!
//! The writer task owns the scripts it accepted: a caller that goes away (a cancelled request)
//! cannot leave the connection inside a transaction.

use sqlx::{AnyPool, Executor};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;

/// The most scripts one database transaction takes.
pub const MAX_GROUP: usize = 32;

/// One bound value of a script: text or integer, either possibly NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// A `TEXT` value.
    Text(Option<String>),
    /// A `BIGINT` value.
    Int(Option<i64>),
}

impl From<&str> for Bind {
    fn from(s: &str) -> Bind {
        Bind::Text(Some(s.to_owned()))
    }
}
impl From<String> for Bind {
    fn from(s: String) -> Bind {
        Bind::Text(Some(s))
    }
}
impl From<&String> for Bind {
    fn from(s: &String) -> Bind {
        Bind::Text(Some(s.clone()))
    }
}
impl From<Option<String>> for Bind {
    fn from(s: Option<String>) -> Bind {
        Bind::Text(s)
    }
}
impl From<i64> for Bind {
    fn from(n: i64) -> Bind {
        Bind::Int(Some(n))
    }
}
impl From<Option<i64>> for Bind {
    fn from(n: Option<i64>) -> Bind {
        Bind::Int(n)
    }
}

/// Binds `args` to a runtime query, in order.
pub fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    args: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for a in args {
        q = match a {
            Bind::Text(v) => q.bind(v),
            Bind::Int(v) => q.bind(v),
        };
    }
    q
}

struct Job {
    script: String,
    binds: Vec<Bind>,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle callers send scripts through; the task behind it ends when every handle is gone.
#[derive(Debug, Clone)]
pub(crate) struct GroupWriter {
    tx: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub(crate) fn start(writer: AnyPool) -> GroupWriter {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(run(writer, rx));
        GroupWriter { tx }
    }

    pub(crate) async fn commit(&self, script: String, binds: Vec<Bind>) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            script,
            binds,
            reply,
        };
        self.tx
            .send(job)
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?
    }
}

/// The largest group run so far (tests check that grouping happens).
#[cfg(test)]
static LARGEST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn run(writer: AnyPool, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut jobs, MAX_GROUP).await > 0 {
        #[cfg(test)]
        LARGEST.fetch_max(jobs.len(), std::sync::atomic::Ordering::Relaxed);
        let results = match writer.acquire().await {
            Ok(mut conn) => {
                if jobs.len() == 1 {
                    vec![alone(&mut conn, &mut jobs[0]).await]
                } else {
                    group(&mut conn, &mut jobs).await
                }
            }
            Err(e) => jobs.iter().map(|_| Err(shared(&e))).collect(),
        };
        for (job, r) in jobs.drain(..).zip(results) {
            let _ = job.reply.send(r);
        }
    }
}

type Conn = sqlx::pool::PoolConnection<sqlx::Any>;

async fn alone(conn: &mut Conn, job: &mut Job) -> Result<(), StoreError> {
    let sql = format!("BEGIN IMMEDIATE;\n{};\nCOMMIT", job.script);
    let q = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(sql)),
        std::mem::take(&mut job.binds),
    );
    let r = q.execute(&mut **conn).await.map(|_| ());
    if r.is_err() {
        let _ = conn.execute("ROLLBACK").await;
    }
    Ok(r?)
}

async fn group(conn: &mut Conn, jobs: &mut [Job]) -> Vec<Result<(), StoreError>> {
    if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
        return jobs.iter().map(|_| Err(shared(&e))).collect();
    }
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        let sql = format!("SAVEPOINT g;\n{};\nRELEASE g", job.script);
        let q = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            std::mem::take(&mut job.binds),
        );
        match q.execute(&mut **conn).await {
            Ok(_) => results.push(Ok(())),
            Err(e) => {
                if let Err(undo) = conn.execute("ROLLBACK TO g; RELEASE g").await {
                    // The connection is in no known state: nothing of the group stands.
                    let _ = conn.execute("ROLLBACK").await;
                    return jobs.iter().map(|_| Err(shared(&undo))).collect();
                }
                results.push(Err(e.into()));
            }
        }
    }
    if let Err(e) = conn.execute("COMMIT").await {
        let _ = conn.execute("ROLLBACK").await;
        return jobs.iter().map(|_| Err(shared(&e))).collect();
    }
    results
}

/// One error told to several callers (sqlx errors are not `Clone`).
fn shared(e: &sqlx::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!("group commit: {e}")))
}

#[cfg(test)]
mod tests {
    use crate::{Bind, Db, StoreError};

    async fn temp_db(name: &str) -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("yiwang-group-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open_data_dir(&dir).await.unwrap();
        db.migrate().await.unwrap();
        (db, dir)
    }

    /// Two rows per script; the script for `bad` inserts its first row and then fails.
    fn script(k: usize, bad: Option<usize>) -> (String, Vec<Bind>) {
        let second = if bad == Some(k) { "dup" } else { "ok" };
        (
            "INSERT INTO meta (key, value) VALUES ($1, 'a'); \
             INSERT INTO meta (key, value) VALUES ($2, 'b')"
                .into(),
            vec![
                format!("g{k}").into(),
                if second == "dup" {
                    Bind::from("taken")
                } else {
                    format!("h{k}").into()
                },
            ],
        )
    }

    async fn keys(db: &Db) -> Vec<String> {
        sqlx::query_scalar("SELECT key FROM meta WHERE key <> 'schema' ORDER BY key")
            .fetch_all(db.pool())
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scripts_queued_together_commit_together_and_a_failing_one_alone_is_undone() {
        let (db, dir) = temp_db("many").await;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('taken', 'x')")
            .execute(db.writer())
            .await
            .unwrap();
        // Hold the writer connection so that every script queues, then let them run as a group.
        let held = db.begin().await.unwrap();
        let mut calls = Vec::new();
        for k in 0..20 {
            let db = db.clone();
            let (sql, binds) = script(k, Some(7));
            calls.push(tokio::spawn(
                async move { db.commit_script(sql, binds).await },
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        held.rollback().await.unwrap();
        let mut failed = Vec::new();
        for (k, c) in calls.into_iter().enumerate() {
            match c.await.unwrap() {
                Ok(()) => {}
                Err(e) => {
                    assert!(e.is_unique_violation(), "{e}");
                    failed.push(k);
                }
            }
        }
        assert_eq!(failed, vec![7]);
        assert!(super::LARGEST.load(std::sync::atomic::Ordering::Relaxed) >= 10);
        let got = keys(&db).await;
        assert_eq!(got.len(), 19 * 2 + 1, "{got:?}");
        assert!(
            !got.contains(&"g7".to_string()),
            "the failed script's first row is undone"
        );
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_lone_failing_script_changes_nothing_and_the_connection_is_usable_after() {
        let (db, dir) = temp_db("alone").await;
        let (sql, binds) = script(1, None);
        db.commit_script(sql.clone(), binds).await.unwrap();
        let e = db
            .commit_script(sql, vec!["g2".into(), "h1".into()])
            .await
            .unwrap_err();
        assert!(e.is_unique_violation());
        assert_eq!(keys(&db).await, ["g1", "h1"]);
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO meta (key, value) VALUES ('after', 'x')")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(keys(&db).await, ["after", "g1", "h1"]);
        db.close().await;
        assert!(matches!(
            db.commit_script("SELECT 1".into(), Vec::new()).await,
            Err(StoreError::Db(_))
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
