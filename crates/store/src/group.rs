//! Group commit for SQLite: the batches of many callers run on one writing connection, several
//! to a database transaction.
//!
//! SQLite admits one writer, and on this kind of machine the cost of a small transaction is
//! mostly fixed: hand-offs between threads, and the commit writing every page it dirtied to the
//! WAL. When callers queue, the writer takes every batch waiting (up to [`MAX_GROUP`]) and
//! runs them in one transaction on a rusqlite connection of its own, on a thread of its own, in
//! one hand-off: each statement from the connection's prepared-statement cache, bound in place.
//! A caller hears success only after the commit, so each batch is atomic and durable exactly as
//! if it had committed alone; pages the group shares (a table's right edge, an index) are
//! written once. A batch that fails (a guard found a newer row, a key existed) rolls the
//! transaction back; only its caller gets the error and the rest run again without it — rare,
//! and cheaper on the common path than a savepoint per batch, which copies every page it
//! touches.
//!
//! While groups run the writer holds the store's one transaction connection (for up to 8
//! groups in a row), so a transaction never waits on the file lock in SQLite's busy handler.
//! The writer owns the batches it accepted: a caller that goes away (a cancelled request)
//! cannot leave a transaction open.
//!
//! The writer never checkpoints (`wal_autocheckpoint = 0`): a checkpoint copies the WAL's pages
//! into the database file and syncs both, tens of milliseconds in which every batch would wait.
//! A checkpointer thread with a connection of its own runs passive checkpoints beside it
//! (SQLite lets a checkpoint and a writer run at the same time), as often as the WAL grows.

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::{BatchError, StoreError};

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

/// One statement of a script: its own `$1…$n` bound to `args`; a guard must return a row.
#[derive(Debug)]
pub(crate) struct Part {
    pub(crate) sql: String,
    pub(crate) args: Vec<Bind>,
    pub(crate) guard: bool,
}

/// What a script came to: the integer its last guard returned, if it returned one.
type Outcome = Result<Option<i64>, BatchError>;

struct Job {
    parts: Vec<Part>,
    reply: oneshot::Sender<Outcome>,
}

/// The handle callers send batches through; the thread behind it ends when every handle is gone.
#[derive(Debug, Clone)]
pub(crate) struct GroupWriter {
    tx: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// Opens the writing connection to the SQLite file at `path` and starts the writer on a
    /// thread of its own; `lock` is the store's one-connection transaction pool, held
    /// while a group runs so that no transaction writes at the same time.
    pub(crate) fn start(lock: AnyPool, path: &Path) -> Result<GroupWriter, StoreError> {
        let conn = open(path).map_err(driver_error)?;
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;")
            .map_err(driver_error)?;
        let checkpoints = open(path).map_err(driver_error)?;
        let (tx, rx) = mpsc::channel(1024);
        let (alive, writer_gone) = std::sync::mpsc::channel::<()>();
        let handle = tokio::runtime::Handle::current();
        let thread_error = |e| StoreError::Db(sqlx::Error::Io(e));
        std::thread::Builder::new()
            .name("yiwang-ckpt".into())
            .spawn(move || checkpointer(&checkpoints, &writer_gone))
            .map_err(thread_error)?;
        std::thread::Builder::new()
            .name("yiwang-writer".into())
            .spawn(move || {
                run(handle, lock, conn, rx);
                drop(alive);
            })
            .map_err(thread_error)?;
        Ok(GroupWriter { tx })
    }

    /// Commits `parts` in the next group; returns the integer the last guard returned, if any
    /// (a sequence's next number).
    pub(crate) async fn commit(&self, parts: Vec<Part>) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let closed = || BatchError::Store(StoreError::Db(sqlx::Error::PoolClosed));
        self.tx
            .send(Job { parts, reply })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// Prepared statements cached by the writing connection.
const STATEMENT_CACHE: usize = 256;

fn open(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let c = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(Duration::from_secs(10))?;
    // Memory-mapped: this connection makes nearly every change, so it seldom finds the file
    // changed by another and has to drop the map (see `Db::connect`).
    c.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
         PRAGMA mmap_size = 1073741824;",
    )?;
    c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(c)
}

/// How long the checkpointer sleeps after a checkpoint that found the WAL empty, and after
/// one that had pages to copy.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(500);
const CHECKPOINT_BUSY: Duration = Duration::from_millis(50);

/// Runs passive checkpoints until the writer thread ends (its end of `writer_gone` drops); a
/// failed checkpoint (a reader in the way, an I/O error) is tried again at the next turn.
fn checkpointer(c: &rusqlite::Connection, writer_gone: &std::sync::mpsc::Receiver<()>) {
    let mut pause = CHECKPOINT_IDLE;
    let mut last = (0, 0);
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = writer_gone.recv_timeout(pause) {
        // (busy, frames in the WAL, frames of it now in the database)
        let state = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        pause = match state {
            // Nothing written since the last turn, and all of it copied.
            Ok((wal, done)) if (wal, done) == last && wal == done => CHECKPOINT_IDLE,
            Ok(now) => {
                last = now;
                CHECKPOINT_BUSY
            }
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed; trying again");
                CHECKPOINT_IDLE
            }
        };
    }
}

fn driver_error(e: rusqlite::Error) -> StoreError {
    StoreError::Db(sqlx::Error::AnyDriverError(Box::new(e)))
}

/// The largest group run so far (tests check that grouping happens).
#[cfg(test)]
static LARGEST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Groups run back to back before the writer lets a waiting transaction have its turn.
const STREAK: u32 = 8;

/// The writer thread: takes every batch waiting, holds the transaction connection (acquired
/// through the runtime of `handle`), runs the group and answers each caller. While batches keep
/// coming it keeps the connection for up to [`STREAK`] groups: giving it back goes through a
/// task of the runtime, and acquiring it again would wait for that task to be scheduled.
fn run(
    handle: tokio::runtime::Handle,
    lock: AnyPool,
    conn: rusqlite::Connection,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    let mut held = None;
    let mut streak = 0;
    let release = |held: &mut Option<_>| {
        let _in_runtime = handle.enter();
        *held = None;
    };
    loop {
        let first = match rx.try_recv() {
            Ok(j) => j,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                release(&mut held);
                match rx.blocking_recv() {
                    Some(j) => j,
                    None => break,
                }
            }
        };
        jobs.push(first);
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        #[cfg(test)]
        LARGEST.fetch_max(jobs.len(), std::sync::atomic::Ordering::Relaxed);
        let scripts: Vec<Vec<Part>> = jobs
            .iter_mut()
            .map(|j| std::mem::take(&mut j.parts))
            .collect();
        if held.is_none() {
            streak = 0;
            match handle.block_on(lock.acquire()) {
                Ok(c) => held = Some(c),
                Err(e) => {
                    for job in jobs.drain(..) {
                        let _ = job.reply.send(Err(shared(&e)));
                    }
                    continue;
                }
            }
        }
        let results = group(&conn, &scripts);
        streak += 1;
        if streak >= STREAK {
            release(&mut held);
        }
        for (job, r) in jobs.drain(..).zip(results) {
            let _ = job.reply.send(r);
        }
    }
    release(&mut held);
}

/// Runs the scripts in one transaction. A script that fails rolls the whole transaction back;
/// it alone is told its error, and the others run again without it (the same scripts on the
/// same database come to the same rows): no savepoint has to copy pages on the way.
fn group(c: &rusqlite::Connection, scripts: &[Vec<Part>]) -> Vec<Outcome> {
    let mut failed: Vec<Option<BatchError>> = scripts.iter().map(|_| None).collect();
    let mut values = vec![None; scripts.len()];
    'pass: loop {
        if let Err(e) = c.execute_batch("BEGIN IMMEDIATE") {
            return fill(failed, |_| Err(shared(&e)));
        }
        for (i, script) in scripts.iter().enumerate() {
            if failed[i].is_some() {
                continue;
            }
            match run_script(c, script) {
                Ok(v) => values[i] = v,
                Err(e) => {
                    // Some errors end the transaction themselves; then there is nothing to undo.
                    let _ = c.execute_batch("ROLLBACK");
                    failed[i] = Some(e);
                    continue 'pass;
                }
            }
        }
        return match c.execute_batch("COMMIT") {
            Ok(()) => fill(failed, |i| Ok(values[i])),
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                fill(failed, |_| Err(shared(&e)))
            }
        };
    }
}

/// Each script's result: its own error when it failed, else `rest`.
fn fill(failed: Vec<Option<BatchError>>, rest: impl Fn(usize) -> Outcome) -> Vec<Outcome> {
    failed
        .into_iter()
        .enumerate()
        .map(|(i, f)| match f {
            Some(e) => Err(e),
            None => rest(i),
        })
        .collect()
}

fn run_script(c: &rusqlite::Connection, parts: &[Part]) -> Outcome {
    let mut value = None;
    for part in parts {
        let mut stmt = c.prepare_cached(&part.sql).map_err(batch_error)?;
        for i in 1..=stmt.parameter_count() {
            let n = crate::reader::argument_of(&stmt, i);
            let bound = match part.args.get(n.wrapping_sub(1)) {
                Some(Bind::Text(t)) => stmt.raw_bind_parameter(i, t.as_deref()),
                Some(Bind::Int(v)) => stmt.raw_bind_parameter(i, v),
                None => {
                    return Err(BatchError::Store(StoreError::Db(sqlx::Error::Protocol(
                        format!("{}: no argument for parameter {n}", part.sql),
                    ))));
                }
            };
            bound.map_err(batch_error)?;
        }
        if stmt.column_count() == 0 {
            stmt.raw_execute().map_err(batch_error)?;
        } else {
            let mut rows = stmt.raw_query();
            let mut any = false;
            while let Some(row) = rows.next().map_err(batch_error)? {
                if part.guard && !any {
                    value = row.get::<_, i64>(0).ok().or(value);
                }
                any = true;
            }
            if part.guard && !any {
                return Err(BatchError::Conflict);
            }
        }
    }
    Ok(value)
}

/// A unique key that already existed is a conflict, as in [`BatchError`]'s other paths.
fn batch_error(e: rusqlite::Error) -> BatchError {
    const UNIQUE: i32 = 2067;
    const PRIMARY_KEY: i32 = 1555;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if matches!(f.extended_code, UNIQUE | PRIMARY_KEY) => {
            BatchError::Conflict
        }
        _ => BatchError::Store(driver_error(e)),
    }
}

/// One error told to several callers (the errors are not `Clone`).
fn shared(e: &dyn std::fmt::Display) -> BatchError {
    BatchError::Store(StoreError::Db(sqlx::Error::Protocol(format!(
        "group commit: {e}"
    ))))
}

#[cfg(test)]
mod tests {
    use crate::{Batch, BatchError, Db};

    async fn temp_db(name: &str) -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("yiwang-group-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open_data_dir(&dir).await.unwrap();
        db.migrate().await.unwrap();
        (db, dir)
    }

    /// Two rows per batch; the batch `bad` inserts its first row and then meets a taken key.
    fn batch(k: usize, bad: Option<usize>) -> Batch {
        let mut b = Batch::default();
        b.push(
            "INSERT INTO meta (key, value) VALUES ($1, 'a')",
            vec![format!("g{k}").into()],
        );
        let second = if bad == Some(k) {
            "taken".to_owned()
        } else {
            format!("h{k}")
        };
        b.push(
            "INSERT INTO meta (key, value) VALUES ($1, 'b')",
            vec![second.into()],
        );
        b
    }

    async fn keys(db: &Db) -> Vec<String> {
        sqlx::query_scalar("SELECT key FROM meta WHERE key <> 'schema' ORDER BY key")
            .fetch_all(db.pool())
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_copies_the_wal_into_the_database_while_it_runs() {
        let (db, dir) = temp_db("ckpt").await;
        let file = dir.join("yiwang.sqlite3");
        let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let before = size();
        // About 4 MB of new pages: the writer never checkpoints, so only the checkpointer can
        // put them into the database file while the store is open.
        let blob = "x".repeat(2000);
        for k in 0..2000 {
            let mut b = Batch::default();
            b.push(
                "INSERT INTO meta (key, value) VALUES ($1, $2)",
                vec![format!("c{k}").into(), blob.clone().into()],
            );
            b.commit_alone(&db).await.unwrap();
        }
        let mut grown = false;
        for _ in 0..100 {
            if size() > before + 3_000_000 {
                grown = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(grown, "database file {} bytes, {before} before", size());
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A sequence's numbers drawn through the group commit, in groups with a failing batch
    /// (whose group runs again): each number once, none skipped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn numbers_drawn_in_groups_are_each_given_once() {
        let (db, dir) = temp_db("seq").await;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('taken', 'x')")
            .execute(db.writer())
            .await
            .unwrap();
        let held = db.begin().await.unwrap();
        let mut calls = Vec::new();
        for k in 0..30 {
            let db = db.clone();
            calls.push(tokio::spawn(async move {
                if k % 10 == 3 {
                    // A batch that fails in the same group.
                    return batch(k, Some(k)).commit_alone(&db).await.map(|()| -1);
                }
                let mut b = Batch::default();
                b.guard(
                    "INSERT INTO case_sequences (prefix, last) VALUES ($1, 1) ON CONFLICT (prefix) \
                     DO UPDATE SET last = case_sequences.last + 1 RETURNING last AS k",
                    vec!["P".into()],
                );
                b.next_value(&db).await
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        held.rollback().await.unwrap();
        let mut got = Vec::new();
        for c in calls {
            match c.await.unwrap() {
                Ok(n) if n > 0 => got.push(n),
                Ok(_) => panic!("the taken key was written"),
                Err(BatchError::Conflict) => {}
                Err(e) => panic!("{e}"),
            }
        }
        got.sort_unstable();
        assert_eq!(got, (1..=27).collect::<Vec<i64>>());
        // A batch that is not one guard has no number to give.
        assert!(batch(99, None).next_value(&db).await.is_err());
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_queued_together_commit_together_and_a_failing_one_alone_is_undone() {
        let (db, dir) = temp_db("many").await;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('taken', 'x')")
            .execute(db.writer())
            .await
            .unwrap();
        // Hold the transaction connection so that every batch queues, then let them run as a
        // group.
        let held = db.begin().await.unwrap();
        let mut calls = Vec::new();
        for k in 0..20 {
            let db = db.clone();
            let b = batch(k, Some(7));
            calls.push(tokio::spawn(async move { b.commit_alone(&db).await }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        held.rollback().await.unwrap();
        let mut failed = Vec::new();
        for (k, c) in calls.into_iter().enumerate() {
            match c.await.unwrap() {
                Ok(()) => {}
                Err(BatchError::Conflict) => failed.push(k),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(failed, vec![7]);
        assert!(super::LARGEST.load(std::sync::atomic::Ordering::Relaxed) >= 10);
        let got = keys(&db).await;
        assert_eq!(got.len(), 19 * 2 + 1, "{got:?}");
        assert!(
            !got.contains(&"g7".to_string()),
            "the failed batch's first row is undone"
        );
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_failing_guard_or_statement_changes_nothing_and_the_connection_is_usable_after() {
        let (db, dir) = temp_db("alone").await;
        batch(1, None).commit_alone(&db).await.unwrap();
        // A key that exists: a conflict.
        let mut b = batch(2, None);
        b.push(
            "INSERT INTO meta (key, value) VALUES ($1, 'c')",
            vec!["h1".into()],
        );
        assert!(matches!(
            b.commit_alone(&db).await,
            Err(BatchError::Conflict)
        ));
        // A guard that finds no row: a conflict, and the statement before it is undone.
        let mut b = batch(3, None);
        b.guard(
            "UPDATE meta SET value = 'z' WHERE key = $1 RETURNING CAST('m' AS TEXT) AS k",
            vec!["nobody".into()],
        );
        assert!(matches!(
            b.commit_alone(&db).await,
            Err(BatchError::Conflict)
        ));
        // A statement that fails otherwise: the database's error.
        let mut b = batch(4, None);
        b.push(
            "INSERT INTO no_such_table (x) VALUES ($1)",
            vec![1i64.into()],
        );
        assert!(matches!(
            b.commit_alone(&db).await,
            Err(BatchError::Store(_))
        ));
        assert_eq!(keys(&db).await, ["g1", "h1"]);
        // A guard that finds its row passes.
        let mut b = batch(5, None);
        b.guard(
            "UPDATE meta SET value = 'z' WHERE key = $1 RETURNING CAST('m' AS TEXT) AS k",
            vec!["g1".into()],
        );
        b.commit_alone(&db).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO meta (key, value) VALUES ('after', 'x')")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(keys(&db).await, ["after", "g1", "g5", "h1", "h5"]);
        db.close().await;
        assert!(matches!(
            batch(6, None).commit_alone(&db).await,
            Err(BatchError::Store(_))
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
