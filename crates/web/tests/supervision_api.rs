//! The 电子监察 API over real HTTP with our own OpenID Connect tokens: a refusal without a real
//! reason (made through the use-cases, as a department system's report would arrive) raises its
//! signals through the outbox consumer; the supervisor of the province sees them on the list and
//! the board, the window clerk of another organisation does not, a citizen may not call the API
//! at all; the responsible department appeals, the supervisor withdraws with a reason and a
//! decision without one is refused; a rule set with an impossible threshold is refused with the
//! rule named; the clock of a server not started with `--simulated-clock` cannot be moved. The
//! app runs on port 0 with its own SQLite database (and PostgreSQL when the test script gives
//! one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Time};
use serde_json::{Value, json};
use yiwang_services::cases::window;
use yiwang_services::identity::oidc;

const CB: &str = "http://127.0.0.1:9/cb";

struct Api {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

async fn token(app: &App, client: (&str, &str), staff: Option<&str>) -> Api {
    let b = app.browser();
    match staff {
        Some(name) => {
            b.staff_sign_in(name).await;
        }
        None => {
            b.citizen_sign_in("13800000003", "/account").await;
        }
    }
    Api {
        base: app.base.clone(),
        http: reqwest::Client::new(),
        token: b.access_token(client, CB, "openid cases").await,
    }
}

async fn journey(app: &App) {
    let p = &app.platform;
    // A case refused at the window with a one-character "reason".
    let (code, required) = {
        let code: String = sqlx::query_scalar(
            "SELECT i.code FROM items i JOIN wf_bindings b ON b.item_code = i.code \
             JOIN item_forms f ON f.item_code = i.code ORDER BY i.code LIMIT 1",
        )
        .fetch_one(p.db.pool())
        .await
        .unwrap();
        let item = yiwang_services::catalogue::published(p, &code)
            .await
            .unwrap();
        let required: Vec<usize> = item
            .guide
            .materials
            .iter()
            .enumerate()
            .filter(|(_, m)| m.required && m.condition.is_none())
            .map(|(i, _)| i)
            .collect();
        (code, required)
    };
    let clerk =
        yiwang_services::identity::staff::sign_in(p, "yl.window", "Yiwang@2026", "127.0.0.1")
            .await
            .unwrap()
            .1
            .staff;
    let c = window::register(
        p,
        &clerk,
        &code,
        yiwang_services::cases::apply::NewApplicant {
            kind: yiwang_services::cases::ApplicantKind::Person,
            name: "陈静".into(),
            id: yiwang_connectors::demo::CHEN_JING_ID.into(),
            phone: String::new(),
            user_id: None,
        },
    )
    .await
    .unwrap();
    for slot in &required {
        window::attach(p, &clerk, &c.id, *slot, "scan.pdf", b"%PDF-1.7\n%%EOF\n")
            .await
            .unwrap();
    }
    let spec = yiwang_services::cases::apply::form_spec(p, &code)
        .await
        .unwrap();
    let mut values = serde_json::Map::new();
    for f in spec.fields() {
        if f.when.is_some() {
            continue;
        }
        use yiwang_domain::form::FieldKind;
        let v: Value = match &f.kind {
            FieldKind::Text { .. } | FieldKind::Address { .. } => "测试内容".into(),
            FieldKind::Date { .. } => "2026-11-02".into(),
            FieldKind::Number { .. } => 1200.into(),
            FieldKind::Choice { options, .. } => options[0].value.clone().into(),
            _ => continue,
        };
        values.insert(f.key.clone(), v);
    }
    window::save_form(p, &clerk, &c.id, &values).await.unwrap();
    let c = window::submit(p, &clerk, &c.id, "sv-api", None)
        .await
        .unwrap();
    window::refuse(p, &clerk, &c.id, Some(c.rev), "否")
        .await
        .unwrap();
    yiwang_services::supervision::consume(p).await.unwrap();

    let (id, secret) = oidc::add_client(p, None, "监察测试", &[CB.into()], &[], "openid cases")
        .await
        .unwrap();
    let client = (id.as_str(), secret.as_str());
    let supervisor = token(app, client, Some("supervisor")).await;
    let window_api = token(app, client, Some("yl.window")).await;
    let citizen = token(app, client, None).await;
    let dept_user: String = sqlx::query_scalar(
        "SELECT s.username FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.role = 'approver' AND r.org = $1 ORDER BY s.username LIMIT 1",
    )
    .bind(&c.org)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    let dept = token(app, client, Some(&dept_user)).await;

    let (s, list) = supervisor
        .get(&format!("/supervision/signals?case_id={}", c.id))
        .await;
    assert_eq!(s, 200, "{list}");
    let signal = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "refused_without_reason")
        .expect("the refusal's signal")
        .clone();
    assert_eq!(signal["signal_type"], "irregular");
    let sid = signal["id"].as_str().unwrap();
    let (s, board) = supervisor.get("/supervision/board").await;
    assert_eq!(s, 200, "{board}");
    assert!(
        board
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["org"] == c.org.as_str() && r["irregular"].as_i64() >= Some(1)),
        "{board}"
    );
    assert_eq!(
        window_api
            .get(&format!("/supervision/signals/{sid}"))
            .await
            .0,
        404
    );
    assert_eq!(citizen.get("/supervision/signals").await.0, 403);
    assert_eq!(citizen.get("/supervision/board").await.0, 403);

    let post = reqwest::Method::POST;
    let (s, v) = dept
        .send(
            post.clone(),
            &format!("/supervision/signals/{sid}/appeal"),
            json!({ "reason": "申请人不符合条件，已当面告知" }),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("appealed")), "{v}");
    let (s, v) = supervisor
        .send(
            post.clone(),
            &format!("/supervision/signals/{sid}/decision"),
            json!({ "decision": "withdraw", "reason": "" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = supervisor
        .send(
            post.clone(),
            &format!("/supervision/signals/{sid}/decision"),
            json!({ "decision": "maybe", "reason": "核实" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = supervisor
        .send(
            post.clone(),
            &format!("/supervision/signals/{sid}/decision"),
            json!({ "decision": "withdraw", "reason": "经核实理由已当面告知" }),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("withdrawn")), "{v}");

    // Rules: readable by staff; a warning 0 days ahead is impossible; only administrators save.
    let (s, rules) = supervisor.get("/supervision/rules").await;
    assert_eq!(s, 200, "{rules}");
    assert_eq!(rules["version"], 0);
    let mut set = rules["rules"].clone();
    set["rules"][0]["days"] = json!(0);
    let (s, v) = supervisor
        .send(
            reqwest::Method::PUT,
            "/supervision/rules",
            json!({ "rules": set, "note": "试" }),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    // Moving the clock: administrators only, and never on a real clock.
    let (s, v) = supervisor
        .send(post.clone(), "/supervision/clock", json!({ "days": 1 }))
        .await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = supervisor.get("/supervision/clock").await;
    assert_eq!((s, v["simulated"].as_bool()), (200, Some(false)), "{v}");
    let (s, v) = supervisor.send(post, "/supervision/sweep", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        window_api
            .send(reqwest::Method::POST, "/supervision/sweep", json!({}))
            .await
            .0,
        403
    );

    // The board page: the supervisor's, refreshing itself; the window's staff get 403; an
    // anonymous visitor signs in first.
    let b = app.browser();
    b.staff_sign_in("supervisor").await;
    let page = b.get("/admin/supervision").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("http-equiv=\"refresh\""));
    assert!(
        page.body.contains("href=\"/admin/supervision\""),
        "the nav links it"
    );
    let open = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "qualified_refused")
        .expect("the other signal stays open");
    assert!(
        page.body.contains(open["number"].as_str().unwrap()),
        "{}",
        page.body
    );
    let clerk_page = app.browser();
    clerk_page.staff_sign_in("yl.window").await;
    assert_eq!(clerk_page.get("/admin/supervision").await.status, 403);
    assert_eq!(app.browser().get("/admin/supervision").await.status, 303);
}

#[tokio::test]
async fn supervision_over_the_api_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    journey(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::System).await;
        journey(&app).await;
    }
}
