//! Batches: the statements of one state change, sent to the database in one round trip.
//!
//! On SQLite a batch is one multi-statement query (run in order); committed alone, it goes to
//! the store's group commit ([`crate::Db::commit_script`]). On PostgreSQL it is one statement
//! of data-modifying `WITH` parts (one snapshot: the parts must never touch the same row).
//! Guard parts end in `RETURNING CAST('…' AS TEXT) AS k` and must return a row (an optimistic
//! lock: `UPDATE … WHERE id = … AND rev = …`); when one does not, or when a unique key already
//! exists, the batch is a conflict and nothing of it stands.

use sqlx::{Any, Transaction};

use crate::{Backend, Bind, Db, StoreError};

/// The statements of one state change; see the module documentation.
#[derive(Debug, Default)]
pub struct Batch {
    parts: Vec<String>,
    guards: Vec<usize>,
    args: Vec<Bind>,
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

impl Batch {
    /// Adds a statement written with its own `$1…$n`; they are renumbered after the others'.
    pub fn push(&mut self, sql: &str, args: Vec<Bind>) {
        let base = self.args.len();
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
        self.parts.push(out);
        self.args.extend(args);
    }

    /// Adds a guard: a statement ending in `RETURNING CAST('…' AS TEXT) AS k` that must return
    /// a row.
    pub fn guard(&mut self, sql: &str, args: Vec<Bind>) {
        self.guards.push(self.parts.len());
        self.push(sql, args);
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Runs the batch as a transaction of its own. On SQLite the batch is one script for the
    /// store's group commit (atomic in its own savepoint, committed before this returns, the
    /// writer task owning it so that a cancelled request never leaves the connection inside
    /// it), each guard followed by a statement that fails when the guard changed no row. On
    /// PostgreSQL: begin, the batch, commit.
    pub async fn commit_alone(self, db: &Db) -> Result<(), BatchError> {
        if db.backend() == Backend::Postgres {
            let mut tx = db.begin().await?;
            self.run(Backend::Postgres, &mut tx).await?;
            tx.commit().await?;
            return Ok(());
        }
        let mut sql = String::new();
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                sql.push_str(";\n");
            }
            sql.push_str(part);
            if self.guards.contains(&i) {
                // json() of a malformed text raises an error: the script stops here.
                sql.push_str(";\nSELECT CASE WHEN changes() = 0 THEN json('yiwang-conflict') END");
            }
        }
        match db.commit_script(sql, self.args).await {
            Ok(()) => Ok(()),
            Err(e) if e.to_string().contains("malformed JSON") || e.is_unique_violation() => {
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
        let guards = self.guards.len();
        let sql = match backend {
            Backend::Sqlite => self.parts.join(";\n"),
            Backend::Postgres => {
                let mut s = String::from("WITH ");
                for (i, part) in self.parts.iter().enumerate() {
                    if i > 0 {
                        s.push_str(",\n");
                    }
                    s.push_str(&format!("p{i} AS ({part})"));
                }
                let selects: Vec<String> = self
                    .guards
                    .iter()
                    .map(|g| format!("SELECT k FROM p{g}"))
                    .collect();
                s.push('\n');
                if selects.is_empty() {
                    s.push_str("SELECT CAST('-' AS TEXT) AS k WHERE 1 = 0");
                } else {
                    s.push_str(&selects.join(" UNION ALL "));
                }
                s
            }
        };
        let q = crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), self.args);
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
        assert_eq!(
            b.parts[1],
            "UPDATE u SET x = $3 WHERE id = $4 RETURNING CAST('u' AS TEXT) AS k"
        );
        assert_eq!(b.guards, vec![1]);
        assert_eq!(b.args.len(), 4);
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
