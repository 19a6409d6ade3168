//! Test support: a platform with the demo province on a fresh database, SQLite or PostgreSQL.
//!
//! PostgreSQL comes from `YIWANG_TEST_PG_URL` (the test script starts a real server); each
//! platform gets its own new database. Without the variable the PostgreSQL half of a test is
//! skipped, unless `YIWANG_TEST_REQUIRE_PG=1`, when that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use std::sync::Arc;

use chrono::TimeZone;
use yiwang_services::identity::staff::{self as accounts, Staff};
use yiwang_services::{FixedClock, Platform, demo};
use yiwang_store::Db;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestPlatform {
    pub p: Arc<Platform>,
    pub clock: Arc<FixedClock>,
    _dir: Option<TempDir>,
}

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL server URL for tests, if any.
pub fn pg_url() -> Option<String> {
    match std::env::var("YIWANG_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("YIWANG_TEST_REQUIRE_PG").as_deref() != Ok("1"),
                "YIWANG_TEST_REQUIRE_PG=1 but YIWANG_TEST_PG_URL is not set"
            );
            eprintln!("YIWANG_TEST_PG_URL not set: skipping the PostgreSQL run");
            None
        }
    }
}

/// The backends to run on: SQLite always, PostgreSQL when available.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if pg_url().is_some() {
        v.push(Backend::Postgres);
    }
    v
}

/// A fresh empty database of the backend.
pub async fn fresh_db(backend: Backend) -> (Db, Option<TempDir>) {
    let name = format!("yiwang_t_{}", uuid::Uuid::new_v4().simple());
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(&name);
            std::fs::create_dir_all(&dir).unwrap();
            let db = Db::open_data_dir(&dir).await.unwrap();
            (db, Some(TempDir(dir)))
        }
        Backend::Postgres => {
            let url = pg_url().expect("PostgreSQL URL");
            let admin = Db::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(admin.pool())
                .await
                .unwrap();
            admin.close().await;
            let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
            (Db::connect(&format!("{base}/{name}")).await.unwrap(), None)
        }
    }
}

/// A migrated platform with the demo province, its clock fixed at 2026-11-27 09:00 (UTC+8).
pub async fn platform(backend: Backend) -> TestPlatform {
    let (db, dir) = fresh_db(backend).await;
    db.migrate().await.unwrap();
    let clock = Arc::new(FixedClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 27, 1, 0, 0).unwrap(),
    ));
    let p = Platform::open(db, clock.clone()).await.unwrap();
    demo::load(&p).await.unwrap().expect("first load");
    TestPlatform {
        p,
        clock,
        _dir: dir,
    }
}

/// Signs a demo account in.
pub async fn staff(p: &Platform, username: &str) -> Staff {
    accounts::sign_in(p, username, demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .unwrap()
        .1
        .staff
}

/// A one-page PDF's worth of bytes that passes the upload checks.
pub const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// An active, online item of 岳麓区市场监督管理局 for natural persons, bound to the demo process.
pub async fn online_item(p: &Platform) -> (String, Vec<usize>) {
    let rows = sqlx::query(
        "SELECT i.code FROM items i JOIN wf_bindings b ON b.item_code = i.code \
         JOIN item_forms f ON f.item_code = i.code ORDER BY i.code",
    )
    .fetch_all(p.db.pool())
    .await
    .unwrap();
    for r in rows {
        let code: String = sqlx::Row::get(&r, "code");
        let item = yiwang_services::catalogue::published(p, &code)
            .await
            .unwrap();
        let g = &item.guide;
        if g.handling_forms
            .contains(&yiwang_domain::dict::HandlingForm::Online)
            && g.service_objects
                .contains(&yiwang_domain::dict::ServiceObject::NaturalPerson)
            && g.case_type == yiwang_domain::dict::CaseType::Promised
            && item.summary.state == yiwang_domain::item::ItemState::Active
        {
            let required = g
                .materials
                .iter()
                .enumerate()
                .filter(|(_, m)| m.required && m.condition.is_none())
                .map(|(i, _)| i)
                .collect();
            return (code, required);
        }
    }
    panic!("the demo province has no online 承诺件 for persons bound to a process");
}

/// Good values for every field of a form (the first choice, so conditional fields stay hidden).
pub fn fill(spec: &yiwang_domain::form::FormSpec) -> serde_json::Map<String, serde_json::Value> {
    use yiwang_domain::form::FieldKind;
    let mut m = serde_json::Map::new();
    for f in spec.fields() {
        if f.when.is_some() {
            continue;
        }
        let v: serde_json::Value = match &f.kind {
            FieldKind::Text { .. } | FieldKind::Address { .. } => "测试内容".into(),
            FieldKind::Date { .. } => "2026-11-02".into(),
            FieldKind::Number { .. } => 1200.into(),
            FieldKind::Choice { options, .. } => options[0].value.clone().into(),
            _ => continue,
        };
        m.insert(f.key.clone(), v);
    }
    m
}

/// A case registered at the window for a person.
pub async fn register_person(
    p: &Platform,
    clerk: &Staff,
    code: &str,
    name: &str,
    id: &str,
) -> yiwang_services::cases::Case {
    yiwang_services::cases::window::register(
        p,
        clerk,
        code,
        yiwang_services::cases::apply::NewApplicant {
            kind: yiwang_services::cases::ApplicantKind::Person,
            name: name.into(),
            id: id.into(),
            phone: String::new(),
            user_id: None,
        },
    )
    .await
    .unwrap()
}
