//! Reads outside transactions: [`Reader`], what [`crate::Db::pool`] hands to queries.
//!
//! On PostgreSQL it is the sqlx pool. On SQLite it runs each query on the calling thread, on a
//! connection of its own (rusqlite over the same `libsqlite3-sys` as sqlx), instead of handing
//! the statement to a sqlx connection's thread and every row back over a channel: a
//! typical read is a few microseconds of SQLite work, and the two
//! thread hand-offs around it (each a futex wake and a context switch) cost ten times that.
//! Those connections are `query_only`: a write sent to the reader fails instead of waiting for
//! the file lock on a runtime thread (writes go to [`crate::Db::writer`] or a transaction).
//!
//! The rows are sqlx's own [`AnyRow`]s, built the way sqlx's SQLite driver builds them (each
//! value typed by its storage class: INTEGER as `BIGINT`, REAL as `DOUBLE`, TEXT, BLOB, NULL),
//! so every repository decodes them with the same code on both databases. Parameters are bound
//! by their `$n` names, as sqlx binds them.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use sqlx::any::{
    AnyArguments, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo, AnyTypeInfoKind, AnyValue,
};
use sqlx::{Any, AnyPool, Either, Error, Execute, Executor, SqlStr};
use sqlx_core::any::{AnyColumn, AnyValueKind};
use sqlx_core::ext::ustr::UStr;

/// Idle SQLite connections kept for reuse (more are opened while more threads read at once).
const MAX_IDLE: usize = 16;
/// Prepared statements cached per connection.
const STATEMENT_CACHE: usize = 256;

/// The executor for reads outside transactions; see the module docs.
#[derive(Debug, Clone)]
pub struct Reader {
    pool: AnyPool,
    local: Option<Arc<Local>>,
}

impl Reader {
    /// Reads through the sqlx pool only.
    pub(crate) fn pooled(pool: AnyPool) -> Reader {
        Reader { pool, local: None }
    }

    /// Reads from the SQLite file at `path` on the calling thread; `pool` serves what needs a
    /// sqlx pool (migrations, statement preparation).
    pub(crate) fn in_thread(pool: AnyPool, path: PathBuf) -> Reader {
        Reader {
            pool,
            local: Some(Arc::new(Local {
                path,
                idle: Mutex::new(Vec::new()),
            })),
        }
    }

    /// The sqlx pool behind this reader.
    pub fn any_pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// In-thread SQLite connections to one file.
struct Local {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl fmt::Debug for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local").field("path", &self.path).finish()
    }
}

fn driver_error(e: rusqlite::Error) -> Error {
    Error::AnyDriverError(Box::new(e))
}

impl Local {
    fn open(&self) -> Result<rusqlite::Connection, Error> {
        let c = rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(driver_error)?;
        c.busy_timeout(Duration::from_secs(10))
            .map_err(driver_error)?;
        c.execute_batch("PRAGMA query_only = ON; PRAGMA temp_store = MEMORY;")
            .map_err(driver_error)?;
        c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(c)
    }

    fn take(&self) -> Result<rusqlite::Connection, Error> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(c) => Ok(c),
            None => self.open(),
        }
    }

    fn give_back(&self, c: rusqlite::Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(c);
        }
    }

    /// Runs one statement; at most `limit` rows are read.
    fn run(
        &self,
        sql: &str,
        args: Option<AnyArguments>,
        limit: usize,
    ) -> Result<(Vec<AnyRow>, u64), Error> {
        let conn = self.take()?;
        let out = query(&conn, sql, args, limit);
        self.give_back(conn);
        out
    }
}

fn to_sql(v: AnyValueKind) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        AnyValueKind::Bool(b) => Value::Integer(i64::from(b)),
        AnyValueKind::SmallInt(i) => Value::Integer(i64::from(i)),
        AnyValueKind::Integer(i) => Value::Integer(i64::from(i)),
        AnyValueKind::BigInt(i) => Value::Integer(i),
        AnyValueKind::Real(r) => Value::Real(f64::from(r)),
        AnyValueKind::Double(d) => Value::Real(d),
        AnyValueKind::Text(t) => Value::Text(t.to_string()),
        AnyValueKind::TextSlice(t) => Value::Text(t.to_string()),
        AnyValueKind::Blob(b) => Value::Blob(b.to_vec()),
        _ => Value::Null,
    }
}

fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    args: Option<AnyArguments>,
    limit: usize,
) -> Result<(Vec<AnyRow>, u64), Error> {
    tracing::trace!(target: "yiwang_store::reader", statement = sql, "read");
    let mut stmt = conn.prepare_cached(sql).map_err(driver_error)?;
    let args: Vec<AnyValueKind> = args.map(|a| a.values.0).unwrap_or_default();
    for i in 1..=stmt.parameter_count() {
        let n = argument_of(&stmt, i);
        let v = args
            .get(n.wrapping_sub(1))
            .cloned()
            .ok_or_else(|| Error::Protocol(format!("{sql}: no argument for parameter {n}")))?;
        stmt.raw_bind_parameter(i, to_sql(v))
            .map_err(driver_error)?;
    }
    let columns = stmt.column_count();
    if columns == 0 {
        let changed = stmt.raw_execute().map_err(driver_error)?;
        return Ok((Vec::new(), u64::try_from(changed).unwrap_or(0)));
    }
    let names: Vec<UStr> = stmt.column_names().into_iter().map(UStr::new).collect();
    let index: Arc<sqlx_core::HashMap<UStr, usize>> = Arc::new(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect(),
    );
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(r) = rows.next().map_err(driver_error)? else {
            break;
        };
        let mut cols = Vec::with_capacity(columns);
        let mut values = Vec::with_capacity(columns);
        for (i, name) in names.iter().enumerate() {
            use rusqlite::types::ValueRef;
            let kind = match r.get_ref(i).map_err(driver_error)? {
                ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
                ValueRef::Integer(v) => AnyValueKind::BigInt(v),
                ValueRef::Real(v) => AnyValueKind::Double(v),
                ValueRef::Text(t) => AnyValueKind::Text(Arc::new(
                    String::from_utf8(t.to_vec()).map_err(|e| Error::Decode(Box::new(e)))?,
                )),
                ValueRef::Blob(b) => AnyValueKind::Blob(Arc::new(b.to_vec())),
            };
            cols.push(AnyColumn {
                ordinal: i,
                name: name.clone(),
                type_info: AnyTypeInfo {
                    kind: type_kind(&kind),
                },
            });
            values.push(AnyValue { kind });
        }
        out.push(AnyRow {
            column_names: index.clone(),
            columns: cols,
            values,
        });
    }
    Ok((out, 0))
}

/// Which argument (counted from 1) the statement's `i`-th parameter takes, as sqlx binds: a
/// parameter named `$n` or `?n` the n-th, an anonymous one the next in order.
pub(crate) fn argument_of(stmt: &rusqlite::Statement<'_>, i: usize) -> usize {
    stmt.parameter_name(i)
        .and_then(|name| name.get(1..))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(i)
}

fn type_kind(v: &AnyValueKind) -> AnyTypeInfoKind {
    match v {
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}

/// The statement and arguments of a query, taken out of it.
fn parts<'q, E: Execute<'q, Any>>(mut query: E) -> Result<(SqlStr, Option<AnyArguments>), Error> {
    let args = query.take_arguments().map_err(Error::Encode)?;
    Ok((query.sql(), args))
}

impl<'c> Executor<'c> for &'c Reader {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let Some(local) = &self.local else {
            return self.pool.fetch_many(query);
        };
        let items: Vec<Result<Either<AnyQueryResult, AnyRow>, Error>> =
            match parts(query).and_then(|(sql, args)| local.run(sql.as_str(), args, usize::MAX)) {
                Ok((rows, changed)) => {
                    let mut v: Vec<_> = rows.into_iter().map(|r| Ok(Either::Right(r))).collect();
                    v.push(Ok(Either::Left(AnyQueryResult {
                        rows_affected: changed,
                        last_insert_id: None,
                    })));
                    v
                }
                Err(e) => vec![Err(e)],
            };
        Box::pin(futures_util::stream::iter(items))
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let Some(local) = &self.local else {
            return self.pool.fetch_optional(query);
        };
        let r = parts(query)
            .and_then(|(sql, args)| local.run(sql.as_str(), args, 1))
            .map(|(rows, _)| rows.into_iter().next());
        Box::pin(std::future::ready(r))
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, Error>>
    where
        'c: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, Error>>
    where
        'c: 'e,
    {
        self.pool.describe(sql)
    }
}
