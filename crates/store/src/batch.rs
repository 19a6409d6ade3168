//! Batches: the statements of one state change, sent to the database in one round trip.
//!
//! On SQLite a batch committed alone goes to the store's group commit (the `group` module):
//! its statements run in order from the writer's statement cache. Inside a caller's
//! transaction it is one multi-statement query. On PostgreSQL it is one statement of
//! data-modifying `WITH` parts (one snapshot: the parts must never touch the same row),
//! committed alone in autocommit: one round trip.
//! Guard parts end in `RETURNING CAST('…' AS TEXT) AS k` and must return a row (an optimistic
//! lock: `UPDATE … WHERE id = … AND rev = …`); when one does not, or when a unique key already
//! exists, the batch is a conflict and nothing of it stands.

use sqlx::{Any, Transaction};

use crate::group::Part;
use crate::{Backend, Bind, Db, StoreError};

/// SQLSTATE `division_by_zero`: on PostgreSQL, how an autocommit batch reports a guard that
/// returned no row.
const DIVISION_BY_ZERO: &str = "22012";

/// The statements of one state change; see the module documentation.
#[derive(Debug, Default)]
pub struct Batch {
    parts: Vec<Part>,
}

/// What running a batch came to.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A guard changed no row, or a unique key existed: the change started from a stale copy.
    #[error("conflict: the rows changed since they were read")]
    Conflict,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BatchError {
    fn from(e: sqlx::Error) -> Self {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            BatchError::Conflict
        } else {
            BatchError::Store(e)
        }
    }
}

/// Placeholders `($1, $2, …), (…)` for `rows` rows of `cols` columns.
pub fn values(rows: usize, cols: usize) -> String {
    let mut s = String::new();
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// `sql` with its `$n` placeholders moved up by `base`.
fn renumber(sql: &str, base: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = 0usize;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            out.push('$');
            out.push_str(&(base + n).to_string());
        } else {
            out.push(c);
        }
    }
    out
}

impl Batch {
    /// Adds a statement written with its own `$1…$n`.
    pub fn push(&mut self, sql: &str, args: Vec<Bind>) {
        self.parts.push(Part {
            sql: sql.to_owned(),
            args,
            guard: false,
        });
    }

    /// Adds a guard: a statement ending in `RETURNING CAST('…' AS TEXT) AS k` that must return
    /// a row.
    pub fn guard(&mut self, sql: &str, args: Vec<Bind>) {
        self.parts.push(Part {
            sql: sql.to_owned(),
            args,
            guard: true,
        });
    }

    /// Adds the statements of `other` after these, so that two changes commit as one.
    pub fn append(&mut self, other: Batch) {
        self.parts.extend(other.parts);
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Runs the batch as a transaction of its own: on SQLite through the store's group commit
    /// (committed before this returns, the writer owning it so that a cancelled request
    /// never leaves a transaction open); on PostgreSQL as one statement in autocommit, which
    /// is a transaction of its own (one round trip instead of begin, the batch, commit); on an
    /// in-memory SQLite database begin, the batch, commit.
    pub async fn commit_alone(self, db: &Db) -> Result<(), BatchError> {
        if let Some(g) = db.group() {
            return g.commit(self.parts).await.map(|_| ());
        }
        if db.backend() == Backend::Postgres {
            return self.run_autocommit(db).await;
        }
        let mut tx = db.begin().await?;
        self.run(db.backend(), &mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Runs a batch of one guard that returns an integer as `k` (`INSERT … ON CONFLICT …
    /// DO UPDATE SET last = last + 1 RETURNING last AS k`: a sequence's next number) and
    /// returns it. On SQLite it goes through the group commit like any change, instead of
    /// taking the transaction connection from it; elsewhere it is one autocommit statement.
    pub async fn next_value(self, db: &Db) -> Result<i64, BatchError> {
        let missing = || {
            BatchError::Store(StoreError::Db(sqlx::Error::Protocol(
                "the statement returned no number".into(),
            )))
        };
        if self.parts.len() != 1 || !self.parts[0].guard {
            return Err(missing());
        }
        if let Some(g) = db.group() {
            return g.commit(self.parts).await?.ok_or_else(missing);
        }
        let Some(part) = self.parts.into_iter().next() else {
            return Err(missing());
        };
        let q = crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(part.sql)), part.args);
        let row = q
            .fetch_optional(db.writer())
            .await?
            .ok_or(BatchError::Conflict)?;
        Ok(sqlx::Row::try_get::<i64, _>(&row, 0)?)
    }

    /// The statements as one text, placeholders numbered through, and all the arguments. On
    /// PostgreSQL the final query returns the guards' rows, or with `checked` one row when
    /// every guard returned one and a division by zero when not.
    fn joined(self, backend: Backend, checked: bool) -> (String, Vec<Bind>, usize) {
        let mut args = Vec::new();
        let mut sqls = Vec::with_capacity(self.parts.len());
        let mut guards = Vec::new();
        for (i, part) in self.parts.into_iter().enumerate() {
            sqls.push(renumber(&part.sql, args.len()));
            args.extend(part.args);
            if part.guard {
                guards.push(i);
            }
        }
        let sql = match backend {
            Backend::Sqlite => sqls.join(";\n"),
            Backend::Postgres => {
                let mut s = String::from("WITH ");
                for (i, part) in sqls.iter().enumerate() {
                    if i > 0 {
                        s.push_str(",\n");
                    }
                    s.push_str(&format!("p{i} AS ({part})"));
                }
                let selects: Vec<String> = guards
                    .iter()
                    .map(|g| format!("SELECT k FROM p{g}"))
                    .collect();
                s.push('\n');
                match (selects.is_empty(), checked) {
                    (true, false) => s.push_str("SELECT CAST('-' AS TEXT) AS k WHERE 1 = 0"),
                    (false, false) => s.push_str(&selects.join(" UNION ALL ")),
                    (true, true) => s.push_str("SELECT 1 AS ok"),
                    (false, true) => s.push_str(&format!(
                        "SELECT 1 / CAST(COUNT(*) = {} AS INT) AS ok FROM ({}) g",
                        selects.len(),
                        selects.join(" UNION ALL ")
                    )),
                }
                s
            }
        };
        (sql, args, guards.len())
    }

    /// PostgreSQL, autocommit: the parts as one statement whose final query divides by zero
    /// when a guard returned no row, so that the statement fails and none of it stands (the
    /// parts are data-modifying `WITH` queries, which always run to completion).
    async fn run_autocommit(self, db: &Db) -> Result<(), BatchError> {
        let (sql, args, _) = self.joined(Backend::Postgres, true);
        let q = crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        match q.execute(db.writer()).await {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(DIVISION_BY_ZERO) => {
                Err(BatchError::Conflict)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Runs the batch inside the caller's transaction; a guard that returned no row (or a
    /// unique key that existed) is a [`BatchError::Conflict`], after which the caller must
    /// roll back (drop the transaction).
    pub async fn run(
        self,
        backend: Backend,
        tx: &mut Transaction<'static, Any>,
    ) -> Result<(), BatchError> {
        let (sql, args, guards) = self.joined(backend, false);
        let q = crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        let rows = q.fetch_all(&mut **tx).await?;
        if rows.len() == guards {
            Ok(())
        } else {
            Err(BatchError::Conflict)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_after_earlier_statements() {
        let mut b = Batch::default();
        b.push(
            "INSERT INTO t (a, b) VALUES ($1, $2)",
            vec![1i64.into(), 2i64.into()],
        );
        b.guard(
            "UPDATE u SET x = $1 WHERE id = $2 RETURNING CAST('u' AS TEXT) AS k",
            vec![3i64.into(), "i".into()],
        );
        let (sql, args, guards) = b.joined(Backend::Sqlite, false);
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES ($1, $2);\n\
             UPDATE u SET x = $3 WHERE id = $4 RETURNING CAST('u' AS TEXT) AS k"
        );
        assert_eq!((args.len(), guards), (4, 1));
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
