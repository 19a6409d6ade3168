//! The store's batches committed alone, on SQLite (the group commit) and on PostgreSQL (one
//! statement in autocommit): a guard that finds no row, or a key that exists, leaves nothing of
//! the batch; a sequence gives each number once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends, fresh_db};
use yiwang_store::{Batch, BatchError, Db};

async fn keys(db: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT key FROM meta WHERE key LIKE 't-%' ORDER BY key")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

fn insert(b: &mut Batch, key: &str) {
    b.push(
        "INSERT INTO meta (key, value) VALUES ($1, 'v')",
        vec![key.into()],
    );
}

fn guard(b: &mut Batch, key: &str) {
    b.guard(
        "UPDATE meta SET value = 'w' WHERE key = $1 RETURNING CAST('g' AS TEXT) AS k",
        vec![key.into()],
    );
}

#[tokio::test]
async fn a_batch_stands_whole_or_not_at_all() {
    for backend in backends() {
        let (db, _dir) = fresh_db(backend).await;
        db.migrate().await.unwrap();
        let mut b = Batch::default();
        insert(&mut b, "t-a");
        insert(&mut b, "t-b");
        b.commit_alone(&db).await.unwrap();

        // Two guards that find their rows: it stands.
        let mut b = Batch::default();
        insert(&mut b, "t-c");
        guard(&mut b, "t-a");
        guard(&mut b, "t-b");
        b.commit_alone(&db).await.unwrap();
        assert_eq!(keys(&db).await, ["t-a", "t-b", "t-c"], "{backend:?}");

        // One of two guards finds nothing: a conflict, and the insertion before it is undone.
        let mut b = Batch::default();
        insert(&mut b, "t-d");
        guard(&mut b, "t-a");
        guard(&mut b, "t-missing");
        assert!(
            matches!(b.commit_alone(&db).await, Err(BatchError::Conflict)),
            "{backend:?}"
        );
        assert_eq!(keys(&db).await, ["t-a", "t-b", "t-c"], "{backend:?}");

        // A key that exists: a conflict, nothing written.
        let mut b = Batch::default();
        insert(&mut b, "t-e");
        insert(&mut b, "t-a");
        assert!(
            matches!(b.commit_alone(&db).await, Err(BatchError::Conflict)),
            "{backend:?}"
        );
        assert_eq!(keys(&db).await, ["t-a", "t-b", "t-c"], "{backend:?}");

        // A statement the database refuses otherwise is an error, not a conflict.
        let mut b = Batch::default();
        insert(&mut b, "t-f");
        b.push("UPDATE no_such_table SET x = 1", vec![]);
        assert!(
            matches!(b.commit_alone(&db).await, Err(BatchError::Store(_))),
            "{backend:?}"
        );
        assert_eq!(keys(&db).await, ["t-a", "t-b", "t-c"], "{backend:?}");
        if let Backend::Postgres = backend {
            db.close().await;
        }
    }
}

#[tokio::test]
async fn a_sequence_gives_each_number_once() {
    for backend in backends() {
        let (db, _dir) = fresh_db(backend).await;
        db.migrate().await.unwrap();
        let mut calls = Vec::new();
        for _ in 0..20 {
            let db = db.clone();
            calls.push(tokio::spawn(async move {
                let mut b = Batch::default();
                b.guard(
                    "INSERT INTO case_sequences (prefix, last) VALUES ($1, 1) ON CONFLICT \
                     (prefix) DO UPDATE SET last = case_sequences.last + 1 RETURNING last AS k",
                    vec!["P".into()],
                );
                b.next_value(&db).await.unwrap()
            }));
        }
        let mut got = Vec::new();
        for c in calls {
            got.push(c.await.unwrap());
        }
        got.sort_unstable();
        assert_eq!(got, (1..=20).collect::<Vec<i64>>(), "{backend:?}");
    }
}
