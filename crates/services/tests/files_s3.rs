//! A citizen's material kept in an S3-compatible bucket: the platform opened with
//! `Outside::with_files(ObjectStore::S3(..))`, as `yiwang serve` does with
//! `YIWANG_OBJECT_STORE=s3`, against the `s3s-fs` server the test script starts
//! (`YIWANG_TEST_S3_URL`; skipped with a message without it, unless `YIWANG_TEST_REQUIRE_S3=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use sqlx::Row;
use yiwang_connectors::ObjectStore;
use yiwang_connectors::s3::{S3Config, S3Store};
use yiwang_services::cases::apply;
use yiwang_services::identity::{Keys, Outside, users};
use yiwang_services::{FixedClock, Platform, ServiceError, demo};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// `http://ACCESS:SECRET@HOST:PORT/BUCKET` from the test script, as a configuration.
fn s3_from_env() -> Option<S3Config> {
    let url = match std::env::var("YIWANG_TEST_S3_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("YIWANG_TEST_REQUIRE_S3").as_deref() != Ok("1"),
                "YIWANG_TEST_REQUIRE_S3=1 but YIWANG_TEST_S3_URL is not set"
            );
            eprintln!("YIWANG_TEST_S3_URL not set: skipping the S3 material test");
            return None;
        }
    };
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (creds, rest) = rest.rsplit_once('@').expect("credentials");
    let (access, secret) = creds.split_once(':').expect("access:secret");
    let (host, bucket) = rest.split_once('/').expect("bucket");
    Some(S3Config {
        endpoint: format!("{scheme}://{host}"),
        bucket: bucket.trim_end_matches('/').to_owned(),
        region: "us-east-1".into(),
        access_key: access.to_owned(),
        secret_key: secret.to_owned(),
        path_style: true,
        timeout: Duration::from_secs(10),
    })
}

#[tokio::test]
async fn a_material_goes_to_the_bucket_and_comes_back_checked() {
    let Some(config) = s3_from_env() else { return };
    let (db, _dir) = common::fresh_db(common::Backend::Sqlite).await;
    db.migrate().await.unwrap();
    let clock = Arc::new(FixedClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 27, 1, 0, 0).unwrap(),
    ));
    let files = ObjectStore::s3(S3Store::new(config).unwrap());
    files.check().await.unwrap();
    let p = Platform::open_with(
        db,
        clock,
        Keys::ephemeral().unwrap(),
        Outside::for_tests().unwrap().with_files(files),
    )
    .await
    .unwrap();
    demo::load(&p).await.unwrap().expect("first load");

    // Any item the demo citizen can apply for online that asks for a material.
    let codes: Vec<String> = sqlx::query(
        "SELECT i.code FROM items i JOIN item_forms f ON f.item_code = i.code ORDER BY i.code",
    )
    .fetch_all(p.db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("code"))
    .collect();
    let wang = users::sign_in_password(&p, "13800000002", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .unwrap()
        .1
        .user;
    let mut draft = None;
    for code in codes {
        let item = yiwang_services::catalogue::published(&p, &code)
            .await
            .unwrap();
        if item.guide.materials.is_empty() {
            continue;
        }
        if let Ok(d) = apply::start_draft(&p, &wang, &code).await {
            draft = Some(d);
            break;
        }
    }
    let draft = draft.expect("a demo item with materials open to 王小明");

    let m = apply::attach(&p, &wang, &draft.id, 0, "证明.pdf", PDF)
        .await
        .unwrap();
    let (_, kind, bytes) = apply::file(&p, &draft.id, &m.file_id).await.unwrap();
    assert_eq!((kind.as_str(), bytes.as_slice()), ("pdf", PDF));

    // The object is overwritten in the bucket behind the platform's back: refused, not served.
    p.outside
        .files
        .put(&m.file_id, b"%PDF-1.7 forged")
        .await
        .unwrap();
    assert!(matches!(
        apply::file(&p, &draft.id, &m.file_id).await,
        Err(ServiceError::Internal(_))
    ));
}
