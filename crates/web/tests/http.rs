//! The web edge over real HTTP: the app is spawned on port 0 with its own database (SQLite, and
//! PostgreSQL when the test script provides one) and the demo province, then driven with a
//! plain HTTP client as a browser or another system would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::Value;

use common::{Backend, Time, pg_url};

/// The spawned app and one cookie-keeping client.
struct App {
    base: String,
    http: reqwest::Client,
    _app: common::App,
}

async fn spawn(backend: Backend) -> App {
    let app = common::spawn(backend, Time::System).await;
    App {
        base: app.base.clone(),
        http: common::client(),
        _app: app,
    }
}

impl App {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    async fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }
}

async fn api_checks(app: &App) {
    // Search with total, paging and facets.
    let (s, v) = app
        .json("/api/v1/items?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7&per_page=5")
        .await;
    assert_eq!(s, 200);
    assert!(v["total"].as_u64().unwrap() > 0);
    assert!(v["items"].as_array().unwrap().len() <= 5);
    assert!(v["facets"]["region"].as_array().is_some());
    // The everyday phrase finds the licence.
    let (_, v) = app
        .json("/api/v1/items?q=%E5%BC%80%E9%A5%AD%E5%BA%97")
        .await;
    assert_eq!(v["items"][0]["name"], "食品经营许可", "{v}");
    // Filters: exactly the region, and the count agrees with the facet of an unfiltered query.
    let (_, all) = app.json("/api/v1/items?per_page=1").await;
    let yl = all["facets"]["region"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["value"] == "430104")
        .unwrap()["count"]
        .as_u64()
        .unwrap();
    let (_, v) = app.json("/api/v1/items?region=430104&per_page=100").await;
    assert_eq!(v["total"].as_u64().unwrap(), yl);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["region"]["code"] == "430104")
    );
    let (_, v) = app
        .json("/api/v1/items?object=person&online=true&per_page=100")
        .await;
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["online"] == true)
    );
    // One item in full.
    let code = v["items"][0]["code"].as_str().unwrap().to_string();
    let (s, item) = app.json(&format!("/api/v1/items/{code}")).await;
    assert_eq!(s, 200);
    assert_eq!(item["code"], code);
    assert!(!item["materials"].as_array().unwrap().is_empty());
    assert!(!item["legal_basis"].as_array().unwrap().is_empty());
    assert!(item["consult_phone"].as_str().unwrap().len() > 5);

    // Bad input: problem documents naming each field, never a 500.
    let r = app
        .get("/api/v1/items?region=999999&type=77&online=maybe&page=x")
        .await;
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["online", "page"], "{p}");
    let (s, p) = app.json("/api/v1/items?region=999999&type=77").await;
    assert_eq!(s, 400);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["region", "type"], "{p}");
    assert!(
        p["errors"][0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("行政区划")
    );
    let (s, p) = app.json("/api/v1/items/12345").await;
    assert_eq!(s, 400);
    assert_eq!(p["errors"][0]["field"], "code");
    // A valid code that names nothing.
    let mut other = code.clone();
    other.replace_range(28..31, "999");
    let (s, p) = app.json(&format!("/api/v1/items/{other}")).await;
    assert!(s == 404 || s == 400, "{s} {p}");
    let (s, _) = app.json("/api/v1/nothing-here").await;
    assert_eq!(s, 404);

    // Master data.
    let (s, v) = app.json("/api/v1/regions?parent=430000").await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 14);
    let (s, v) = app.json("/api/v1/organisations?region=430104").await;
    assert_eq!(s, 200);
    assert!(v.as_array().unwrap().len() >= 20);
    let (s, _) = app.json("/api/v1/organisations").await;
    assert_eq!(s, 400);
    let (_, v) = app.json("/api/v1/themes").await;
    assert!(v.as_array().unwrap().len() >= 30);

    // The OpenAPI document describes what is served.
    let (s, v) = app.json("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/items", "/api/v1/items/{code}", "/api/v1/regions"] {
        assert!(v["paths"][path].is_object(), "{path} missing");
    }
}

async fn portal_checks(app: &App) {
    let (s, body) = app.text("/").await;
    assert_eq!(s, 200);
    assert!(body.contains("<html lang=\"zh-CN\">"));
    assert!(body.contains("name=\"q\""));
    let (s, body) = app.text("/items?q=%E5%85%BB%E8%80%81").await;
    assert_eq!(s, 200);
    assert!(body.contains("养老"));
    let code = body
        .split("href=\"/items/")
        .nth(1)
        .and_then(|s| s.get(..31))
        .unwrap()
        .to_string();
    let (s, guide) = app.text(&format!("/items/{code}")).await;
    assert_eq!(s, 200);
    for element in [
        "设定依据",
        "受理条件",
        "申请材料",
        "办理流程",
        "法定办结时限",
        "承诺办结时限",
        "收费标准",
        "办理地点",
        "咨询电话",
        "监督投诉电话",
        "到现场次数",
        "通办范围",
    ] {
        assert!(guide.contains(element), "guide lacks {element}");
    }
    // Cached and uncached renderings are the same page.
    let (_, again) = app.text(&format!("/items/{code}")).await;
    assert_eq!(guide, again);
    // English on request.
    let (_, en) = app.text(&format!("/items/{code}?lang=en")).await;
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Materials"));
    // The language link keeps the page and its query, and remembers the choice.
    assert!(en.contains("href=\"/lang/zh\""));
    let back = format!(
        "{}/items?q=%E5%85%BB%E8%80%81&lang=en&region=430100",
        app.base
    );
    let r = app
        .http
        .get(format!("{}/lang/en", app.base))
        .header("referer", &back)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/items?q=%E5%85%BB%E8%80%81&region=430100"
    );
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("lang=en;")
    );
    let r = app
        .http
        .get(format!("{}/lang/zh", app.base))
        .header("referer", "http://elsewhere.example/phish")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    assert_eq!(app.get("/lang/xx").await.status(), 404);
    // Readable errors.
    let (s, body) = app.text("/items/not-a-code").await;
    assert_eq!(s, 400);
    assert!(body.contains("<h1>"));
    let (s, body) = app.text("/no/such/page").await;
    assert_eq!(s, 404);
    assert!(body.contains("不存在"));
    let (s, body) = app.text("/items?region=12").await;
    assert_eq!(s, 400);
    assert!(body.contains("region"));
    // Management pages need a session.
    let r = app.get("/admin/items").await;
    assert!(r.status().is_redirection());
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/admin/login")
    );
    // Security headers.
    let r = app.get("/").await;
    assert!(r.headers().contains_key("content-security-policy"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn api_and_portal_on_sqlite() {
    let app = spawn(Backend::Sqlite).await;
    api_checks(&app).await;
    portal_checks(&app).await;
}

#[tokio::test]
async fn api_and_portal_on_postgres() {
    if pg_url().is_none() {
        eprintln!("YIWANG_TEST_PG_URL not set: skipping");
        return;
    }
    let app = spawn(Backend::Postgres).await;
    api_checks(&app).await;
    portal_checks(&app).await;
}
