//! The S3 object store against a real S3-compatible server: `s3s-fs`, started on loopback by
//! `scripts/test.sh` (see `scripts/lib/s3.sh`), which verifies every request's Signature
//! Version 4 — so a wrong signer fails here, not only in production.
//!
//! The server comes from `YIWANG_TEST_S3_URL=http://ACCESS:SECRET@127.0.0.1:PORT/BUCKET`.
//! Without it the tests are skipped with a message, unless `YIWANG_TEST_REQUIRE_S3=1`, when
//! that is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use yiwang_connectors::s3::{S3Config, S3Store};
use yiwang_connectors::{ConnectorError, ObjectStore};

/// The test server's configuration, if the test script started one.
fn server() -> Option<S3Config> {
    let url = match std::env::var("YIWANG_TEST_S3_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("YIWANG_TEST_REQUIRE_S3").as_deref() != Ok("1"),
                "YIWANG_TEST_REQUIRE_S3=1 but YIWANG_TEST_S3_URL is not set"
            );
            eprintln!(
                "YIWANG_TEST_S3_URL not set: skipping the S3 object-store test (scripts/test.sh \
                 starts s3s-fs and sets it)"
            );
            return None;
        }
    };
    let u = reqwest::Url::parse(&url).expect("YIWANG_TEST_S3_URL is a URL");
    Some(S3Config {
        endpoint: format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap(),
            u.port_or_known_default().unwrap()
        ),
        bucket: u.path().trim_matches('/').to_owned(),
        region: "us-east-1".into(),
        access_key: u.username().to_owned(),
        secret_key: u.password().unwrap_or_default().to_owned(),
        path_style: true,
        timeout: Duration::from_secs(10),
    })
}

fn key(what: &str) -> String {
    format!(
        "t-{what}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

#[tokio::test]
async fn round_trip_tampering_and_missing_objects() {
    let Some(config) = server() else { return };
    let store = ObjectStore::s3(S3Store::new(config).unwrap());
    store.check().await.unwrap();

    // Round trip, SM3 recorded and checked; a binary body with every byte value.
    let k = key("round-trip");
    let body: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let stored = store.put(&k, &body).await.unwrap();
    assert_eq!(stored.size, 300_000);
    assert_eq!(stored.sm3, yiwang_connectors::objects::sm3_hex(&body));
    assert_eq!(store.get(&k, &stored.sm3).await.unwrap(), body);
    // An empty object is an object too.
    let empty = key("empty");
    let s = store.put(&empty, b"").await.unwrap();
    assert_eq!(store.get(&empty, &s.sm3).await.unwrap(), b"");

    // Someone overwrites the object in the bucket: the recorded SM3 refuses it.
    store.put(&k, b"%PDF-1.7 forged").await.unwrap();
    let e = store.get(&k, &stored.sm3).await.unwrap_err();
    assert!(matches!(e, ConnectorError::BadAnswer { .. }), "{e}");
    assert!(e.to_string().contains("was changed"), "{e}");

    // A key never stored.
    let e = store.get(&key("missing"), &stored.sm3).await.unwrap_err();
    assert!(matches!(e, ConnectorError::NotFound { .. }), "{e}");
    // Keys are checked before they reach a URL.
    assert!(matches!(
        store.put("../other-bucket/x", b"x").await,
        Err(ConnectorError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn wrong_credentials_and_bucket_are_configuration_errors() {
    let Some(config) = server() else { return };
    let good = ObjectStore::s3(S3Store::new(config.clone()).unwrap());
    let k = key("auth");
    let stored = good.put(&k, b"%PDF-1.7 x").await.unwrap();

    // The server verifies the signature: a wrong secret is refused on every operation.
    let mut wrong = config.clone();
    wrong.secret_key = "not-the-secret".into();
    let wrong = ObjectStore::s3(S3Store::new(wrong).unwrap());
    for e in [
        wrong.check().await.unwrap_err(),
        wrong.put(&key("auth"), b"x").await.unwrap_err(),
        wrong.get(&k, &stored.sm3).await.unwrap_err(),
    ] {
        assert!(matches!(e, ConnectorError::NotConfigured(_)), "{e}");
        assert!(e.to_string().contains("HTTP 403"), "{e}");
        assert!(!e.to_string().contains("not-the-secret"), "{e}");
    }
    let mut unknown = config.clone();
    unknown.access_key = "nobody".into();
    let e = ObjectStore::s3(S3Store::new(unknown).unwrap())
        .get(&k, &stored.sm3)
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectorError::NotConfigured(_)), "{e}");

    // A bucket that does not exist is the operator's mistake, found at start-up. (s3s-fs
    // answers a GET in a missing bucket with NoSuchKey; AWS and MinIO say NoSuchBucket, which
    // `no_such_bucket_is_a_configuration_error` covers.)
    let mut no_bucket = config.clone();
    no_bucket.bucket = "no-such-bucket".into();
    let no_bucket = ObjectStore::s3(S3Store::new(no_bucket).unwrap());
    let e = no_bucket.check().await.unwrap_err();
    assert!(matches!(e, ConnectorError::NotConfigured(_)), "{e}");
}

/// A stand-in server answering every request with `status` and `body`.
async fn fixed_answer(
    status: u16,
    body: &'static str,
) -> (ObjectStore, tokio::task::JoinHandle<std::io::Result<()>>) {
    let status = axum::http::StatusCode::from_u16(status).unwrap();
    let app = axum::Router::new().fallback(move || async move { (status, body) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let store = ObjectStore::s3(
        S3Store::new(S3Config {
            endpoint: format!("http://{addr}"),
            bucket: "yiwang-files".into(),
            region: "us-east-1".into(),
            access_key: "a".into(),
            secret_key: "s".into(),
            path_style: true,
            timeout: Duration::from_secs(2),
        })
        .unwrap(),
    );
    (store, server)
}

#[tokio::test]
async fn no_such_bucket_is_a_configuration_error() {
    let (store, server) = fixed_answer(
        404,
        "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>",
    )
    .await;
    let e = store.get("abc", "00").await.unwrap_err();
    assert!(matches!(e, ConnectorError::NotConfigured(_)), "{e}");
    assert!(e.to_string().contains("yiwang-files"), "{e}");
    let e = store.put("abc", b"x").await.unwrap_err();
    assert!(matches!(e, ConnectorError::NotConfigured(_)), "{e}");
    server.abort();
}

#[tokio::test]
async fn a_refused_upload_is_rejected() {
    let (store, server) = fixed_answer(
        400,
        "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>",
    )
    .await;
    let e = store.put("abc", b"x").await.unwrap_err();
    assert!(matches!(e, ConnectorError::Rejected { .. }), "{e}");
    assert!(e.to_string().contains("EntityTooLarge"), "{e}");
    server.abort();
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    // A port nobody listens on (bound, then closed): refused at once, retryable.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = ObjectStore::s3(
        S3Store::new(S3Config {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "yiwang-files".into(),
            region: "us-east-1".into(),
            access_key: "a".into(),
            secret_key: "s".into(),
            path_style: true,
            timeout: Duration::from_secs(2),
        })
        .unwrap(),
    );
    let e = store.put("abc", b"x").await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let e = store.get("abc", "00").await.unwrap_err();
    assert!(matches!(e, ConnectorError::Unavailable { .. }), "{e}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts the connection, never answers: the request gives up after the timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let store = ObjectStore::s3(
        S3Store::new(S3Config {
            endpoint: format!("http://{addr}"),
            bucket: "yiwang-files".into(),
            region: "us-east-1".into(),
            access_key: "a".into(),
            secret_key: "s".into(),
            path_style: true,
            timeout: Duration::from_millis(300),
        })
        .unwrap(),
    );
    let started = std::time::Instant::now();
    let e = store.get("abc", "00").await.unwrap_err();
    assert!(matches!(e, ConnectorError::Unavailable { .. }), "{e}");
    assert!(e.to_string().contains("timed out"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    hold.abort();
}

#[tokio::test]
async fn server_errors_are_unavailable() {
    // A gateway in front of the store failing with 503 and an S3 error document.
    let (store, server) = fixed_answer(
        503,
        "<Error><Code>SlowDown</Code><Message>Reduce your request rate</Message></Error>",
    )
    .await;
    for e in [
        store.put("abc", b"x").await.unwrap_err(),
        store.get("abc", "00").await.unwrap_err(),
    ] {
        assert!(e.is_retryable(), "{e}");
        assert!(e.to_string().contains("SlowDown"), "{e}");
    }
    server.abort();
}
