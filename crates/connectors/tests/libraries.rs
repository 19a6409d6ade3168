#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `HttpLibrary` over real HTTP against a small axum server that speaks the protocol from a
//! `DemoLibrary`, and the same questions asked of the built-in library.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use yiwang_connectors::demo::{
    CHEN_JI_NOODLES_CREDIT_CODE, LI_HUA_ID, WANG_XIAOMING_ID, XIANGJIANG_TECH_CREDIT_CODE,
    ZHANG_WEI_ID,
};
use yiwang_connectors::{
    ConnectorError, DemoLibrary, HttpLibrary, LegalPersonLibrary, PersonCheck, PopulationLibrary,
};

const TOKEN: &str = "library-token";

/// How the test server behaves, chosen by the first path segment.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Slow,
    Error,
    Garbage,
    Wrong,
}

fn mode(name: &str) -> Mode {
    match name {
        "slow" => Mode::Slow,
        "error" => Mode::Error,
        "garbage" => Mode::Garbage,
        "wrong" => Mode::Wrong,
        _ => Mode::Ok,
    }
}

type Demo = Arc<DemoLibrary>;

async fn misbehave(mode: Mode) -> Option<Response> {
    match mode {
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            None
        }
        Mode::Error => Some((StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()),
        Mode::Garbage => Some((StatusCode::OK, "<html>not json</html>").into_response()),
        _ => None,
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

async fn verify(
    State(demo): State<Demo>,
    Path(m): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(r) = misbehave(mode(&m)).await {
        return r;
    }
    let id = body["id_number"].as_str().unwrap_or_default();
    let name = body["name"].as_str().unwrap_or_default();
    let result = match demo.verify_person(id, name) {
        PersonCheck::Match => "match",
        PersonCheck::NameMismatch => "name_mismatch",
        PersonCheck::NotFound => "not_found",
    };
    Json(json!({ "result": result })).into_response()
}

async fn person(
    State(demo): State<Demo>,
    Path((m, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(r) = misbehave(mode(&m)).await {
        return r;
    }
    if mode(&m) == Mode::Wrong {
        return Json(demo.person(LI_HUA_ID).cloned()).into_response();
    }
    match demo.person(&id) {
        Some(p) => Json(p.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn enterprise(
    State(demo): State<Demo>,
    Path((m, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(r) = misbehave(mode(&m)).await {
        return r;
    }
    match demo.enterprise(&code) {
        Some(e) => Json(e.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves the protocol under `/{mode}/…` on 127.0.0.1:0 and returns `http://127.0.0.1:port`.
async fn serve(demo: Demo) -> String {
    let app = Router::new()
        .route("/{mode}/persons/verify", post(verify))
        .route("/{mode}/persons/{id}", get(person))
        .route("/{mode}/enterprises/{code}", get(enterprise))
        .with_state(demo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn demo() -> Demo {
    Arc::new(DemoLibrary::generate(&[], 100, 20, 1))
}

fn libraries(
    base: &str,
    mode: &str,
    token: Option<&str>,
) -> (PopulationLibrary, LegalPersonLibrary) {
    let http = HttpLibrary::new(
        &format!("{base}/{mode}/"),
        token.map(String::from),
        Duration::from_millis(800),
    )
    .unwrap();
    (
        PopulationLibrary::Http(http.clone()),
        LegalPersonLibrary::Http(http),
    )
}

#[tokio::test]
async fn http_and_built_in_libraries_give_the_same_answers() {
    let demo = demo();
    let base = serve(demo.clone()).await;
    let (http_pop, http_legal) = libraries(&base, "ok", Some(TOKEN));
    let built_in_pop = PopulationLibrary::BuiltIn(demo.clone());
    let built_in_legal = LegalPersonLibrary::BuiltIn(demo.clone());
    let someone = demo.residents()[42].clone();
    for (pop, legal) in [(&http_pop, &http_legal), (&built_in_pop, &built_in_legal)] {
        assert_eq!(
            pop.verify_person(WANG_XIAOMING_ID, "王小明").await.unwrap(),
            PersonCheck::Match
        );
        assert_eq!(
            pop.verify_person(WANG_XIAOMING_ID, "王大明").await.unwrap(),
            PersonCheck::NameMismatch
        );
        assert_eq!(
            pop.verify_person("11010519491231002X", "王小明")
                .await
                .unwrap(),
            PersonCheck::NotFound
        );
        // Malformed numbers are never registered (and never sent).
        assert_eq!(
            pop.verify_person("../../etc", "王小明").await.unwrap(),
            PersonCheck::NotFound
        );
        assert_eq!(pop.person("430104199005120136").await.unwrap(), None);
        assert_eq!(
            pop.verify_person(&someone.id_number, &someone.name)
                .await
                .unwrap(),
            PersonCheck::Match
        );
        assert_eq!(
            pop.person(&someone.id_number).await.unwrap(),
            Some(someone.clone())
        );
        let zhang = pop.person(ZHANG_WEI_ID).await.unwrap().unwrap();
        assert_eq!(zhang.name, "张伟");

        let tech = legal
            .enterprise(XIANGJIANG_TECH_CREDIT_CODE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tech.name, "湖南湘江智能科技有限公司");
        assert_eq!(tech.legal_rep_id_number, ZHANG_WEI_ID);
        let shop = legal
            .enterprise(&CHEN_JI_NOODLES_CREDIT_CODE.to_lowercase())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shop.kind, "个体工商户");
        assert_eq!(legal.enterprise("91350100M000100Y43").await.unwrap(), None);
        assert_eq!(legal.enterprise("garbage").await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_slow_library_times_out_as_unavailable() {
    let base = serve(demo()).await;
    let (pop, legal) = libraries(&base, "slow", Some(TOKEN));
    let started = std::time::Instant::now();
    let e = pop
        .verify_person(WANG_XIAOMING_ID, "王小明")
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(e, ConnectorError::Unavailable { .. }), "{e}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("timed out"), "{e}");
    assert!(matches!(
        legal.enterprise(XIANGJIANG_TECH_CREDIT_CODE).await,
        Err(ConnectorError::Unavailable { .. })
    ));
}

#[tokio::test]
async fn server_errors_are_unavailable_and_garbage_is_a_bad_answer() {
    let base = serve(demo()).await;
    let (pop, _) = libraries(&base, "error", Some(TOKEN));
    let e = pop.person(WANG_XIAOMING_ID).await.unwrap_err();
    assert!(matches!(e, ConnectorError::Unavailable { .. }), "{e}");
    assert!(e.to_string().contains("500"), "{e}");

    let (pop, legal) = libraries(&base, "garbage", Some(TOKEN));
    let e = pop
        .verify_person(WANG_XIAOMING_ID, "王小明")
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectorError::BadAnswer { .. }), "{e}");
    assert!(!e.is_retryable());
    assert!(matches!(
        legal.enterprise(XIANGJIANG_TECH_CREDIT_CODE).await,
        Err(ConnectorError::BadAnswer { .. })
    ));

    // A record for someone else is not an answer to the question asked.
    let (pop, _) = libraries(&base, "wrong", Some(TOKEN));
    assert!(matches!(
        pop.person(WANG_XIAOMING_ID).await,
        Err(ConnectorError::BadAnswer { .. })
    ));
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_a_configuration_problem() {
    let base = serve(demo()).await;
    for token in [None, Some("wrong")] {
        let (pop, _) = libraries(&base, "ok", token);
        assert!(matches!(
            pop.verify_person(WANG_XIAOMING_ID, "王小明").await,
            Err(ConnectorError::NotConfigured(_))
        ));
    }
}

#[tokio::test]
async fn nothing_listening_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (pop, _) = libraries(&base, "ok", Some(TOKEN));
    assert!(matches!(
        pop.person(WANG_XIAOMING_ID).await,
        Err(ConnectorError::Unavailable { .. })
    ));
}

#[test]
fn bad_library_settings_are_not_configured() {
    for url in ["", "not a url", "ftp://library.example", "http://"] {
        assert!(
            matches!(
                HttpLibrary::new(url, None, Duration::from_secs(1)),
                Err(ConnectorError::NotConfigured(_))
            ),
            "{url}"
        );
    }
    assert!(matches!(
        HttpLibrary::new("http://library.example", None, Duration::ZERO),
        Err(ConnectorError::NotConfigured(_))
    ));
    let ok = HttpLibrary::new(
        "https://library.example/api/",
        Some("s3cret".into()),
        Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(ok.base_url(), "https://library.example/api");
    assert!(!format!("{ok:?}").contains("s3cret"));
}
