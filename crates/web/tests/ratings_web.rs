//! 好差评 over real HTTP: the applicant rates a finished case through the API with our own
//! OpenID Connect token (422 with the field named for a bad level and nothing stored, 409
//! 已评价 the second time, 409 for a case not finished, 404 for someone else's), a window
//! clerk's token rates at the window; a bad rating's order is listed for its organisation and
//! not for another, a citizen cannot answer it, the organisation answers and the rater rates the
//! fix; the organisation appeals and the supervisor upholds, excluding the rating; the follow-up
//! rate. The pages: the citizen's case page rates (a bad form comes back with the problem) and
//! shows the outcome, `/admin/ratings` answers an order, another organisation gets 404, and the
//! SMS invitation's link `/rate/{token}` rates once without an account. The app runs on port 0
//! with its own SQLite database (and PostgreSQL when the test script gives one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Browser, Time};
use serde_json::{Value, json};
use yiwang_services::cases::{self, window};
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

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

/// An API caller: a staff member by user name, or a citizen by phone.
async fn api(app: &App, client: (&str, &str), who: &str) -> Api {
    let b = app.browser();
    if who.starts_with("138") {
        b.citizen_sign_in(who, "/account").await;
    } else {
        b.staff_sign_in(who).await;
    }
    Api {
        base: app.base.clone(),
        http: reqwest::Client::new(),
        token: b.access_token(client, CB, "openid cases").await,
    }
}

/// A case of 陈静 registered at the window and submitted; refused (finished) when `refuse`.
async fn case(app: &App, key: &str, refuse: bool) -> cases::Case {
    let p = &app.platform;
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
        cases::apply::NewApplicant {
            kind: cases::ApplicantKind::Person,
            name: "陈静".into(),
            id: yiwang_connectors::demo::CHEN_JING_ID.into(),
            phone: String::new(),
            user_id: None,
        },
    )
    .await
    .unwrap();
    for (slot, m) in item.guide.materials.iter().enumerate() {
        if m.required && m.condition.is_none() {
            window::attach(p, &clerk, &c.id, slot, "scan.pdf", b"%PDF-1.7\n%%EOF\n")
                .await
                .unwrap();
        }
    }
    let spec = cases::apply::form_spec(p, &code).await.unwrap();
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
    let c = window::submit(p, &clerk, &c.id, key, None).await.unwrap();
    if refuse {
        window::refuse(p, &clerk, &c.id, Some(c.rev), "申请人不符合法定条件")
            .await
            .unwrap()
    } else {
        c
    }
}

/// The user name of an approver of the organisation.
async fn approver_of(app: &App, org: &str) -> String {
    sqlx::query_scalar(
        "SELECT s.username FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.role = 'approver' AND r.org = $1 ORDER BY s.username LIMIT 1",
    )
    .bind(org)
    .fetch_one(app.platform.db.pool())
    .await
    .unwrap()
}

async fn ratings_of(app: &App, case_id: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM ratings WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(app.platform.db.pool())
        .await
        .unwrap()
}

async fn over_the_api(app: &App) {
    let p = &app.platform;
    let (id, secret) = oidc::add_client(p, None, "好差评测试", &[CB.into()], &[], "openid cases")
        .await
        .unwrap();
    let client = (id.as_str(), secret.as_str());
    let chen = api(app, client, "13800000003").await;
    let wang = api(app, client, "13800000002").await;
    let clerk = api(app, client, "yl.window").await;
    let stranger = api(app, client, "cs.gaj.manager").await;
    let supervisor = api(app, client, "supervisor").await;

    let open = case(app, "rw-open", false).await;
    let c = case(app, "rw-1", true).await;
    let dept = api(app, client, &approver_of(app, &c.org).await).await;
    let no = c.case_no.clone().unwrap();
    let path = format!("/cases/{no}/ratings");

    // Bad values: 422 with each field, nothing stored; a body that is not JSON: 400.
    let (s, v) = chen
        .post(
            &path,
            json!({ "level": 6, "scores": { "guide": 9 }, "channel": "web" }),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["status"], 422);
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["level", "scores.guide"], "{v}");
    let (s, v) = chen
        .post(&path, json!({ "level": 5, "channel": "fax" }))
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (422, Some("channel"))
    );
    assert_eq!(chen.post(&path, json!("five")).await.0, 400);
    assert_eq!(ratings_of(app, &c.id).await, 0);
    // Not finished; someone else's.
    let (s, v) = chen
        .post(
            &format!("/cases/{}/ratings", open.case_no.clone().unwrap()),
            json!({ "level": 5 }),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("尚未办结"), "{v}");
    assert_eq!(wang.post(&path, json!({ "level": 5 })).await.0, 404);

    // Rated once per channel.
    let (s, v) = chen
        .post(
            &path,
            json!({ "level": 5, "scores": { "attitude": 5 }, "comment": "很好", "channel": "web" }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        (v["channel"].as_str(), v["level"].as_i64()),
        (Some("web"), Some(5))
    );
    let (s, v) = chen.post(&path, json!({ "level": 4 })).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("已评价"), "{v}");
    // The window's pad with the clerk's token.
    let (s, v) = clerk
        .post(&path, json!({ "level": 4, "identified": true }))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        (v["channel"].as_str(), v["real_name"].as_bool()),
        (Some("window"), Some(true))
    );
    assert_eq!(
        clerk
            .post(&path, json!({ "level": 4, "channel": "web" }))
            .await
            .0,
        422
    );

    // A bad rating: its order for the organisation, not for another.
    let (s, bad) = chen
        .post(
            &path,
            json!({ "level": 1, "comment": "等了很久", "channel": "mobile" }),
        )
        .await;
    assert_eq!(s, 201, "{bad}");
    let order = bad["rectification"]["id"].as_str().unwrap().to_owned();
    let rating = bad["id"].as_str().unwrap().to_owned();
    let (s, list) = dept.get("/rectifications?status=open").await;
    assert_eq!(s, 200, "{list}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["rectification"]["id"] == order.as_str())
    );
    let (s, list) = stranger.get("/rectifications").await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(0)));
    assert_eq!(stranger.get(&format!("/ratings/{rating}")).await.0, 404);
    assert_eq!(chen.get("/rectifications").await.0, 403);
    assert_eq!(chen.get("/ratings").await.0, 403);
    // A citizen does not answer; the organisation does, once.
    let answer = json!({ "action": "return_visit", "outcome": "已电话回访并致歉" });
    assert_eq!(
        chen.post(&format!("/rectifications/{order}/answer"), answer.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        stranger
            .post(&format!("/rectifications/{order}/answer"), answer.clone())
            .await
            .0,
        404
    );
    let (s, v) = dept
        .post(
            &format!("/rectifications/{order}/answer"),
            json!({ "action": "nothing", "outcome": "" }),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = dept
        .post(&format!("/rectifications/{order}/answer"), answer.clone())
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("answered")), "{v}");
    assert_eq!(
        dept.post(&format!("/rectifications/{order}/answer"), answer)
            .await
            .0,
        409
    );
    // The rater rates the fix; another citizen may not.
    let fix = json!({ "fix_level": 4, "comment": "满意" });
    assert_eq!(
        wang.post(&format!("/rectifications/{order}/fix-rating"), fix.clone())
            .await
            .0,
        404
    );
    let (s, v) = chen
        .post(&format!("/rectifications/{order}/fix-rating"), fix)
        .await;
    assert_eq!((s, v["fix_level"].as_i64()), (200, Some(4)), "{v}");

    // Appeal and decision.
    let (s, v) = dept
        .post(
            &format!("/ratings/{rating}/appeal"),
            json!({ "reason": "评价与办件无关" }),
        )
        .await;
    assert_eq!(
        (s, v["appeal_status"].as_str()),
        (200, Some("pending")),
        "{v}"
    );
    assert_eq!(
        dept.post(
            &format!("/ratings/{rating}/appeal-decision"),
            json!({ "decision": "uphold", "reason": "成立" })
        )
        .await
        .0,
        403
    );
    let (s, v) = supervisor
        .post(
            &format!("/ratings/{rating}/appeal-decision"),
            json!({ "decision": "maybe", "reason": "核实" }),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = supervisor
        .post(
            &format!("/ratings/{rating}/appeal-decision"),
            json!({ "decision": "uphold", "reason": "经核实为恶意评价" }),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("closed")), "{v}");
    let (s, v) = supervisor.get(&format!("/ratings/{rating}")).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("excluded")), "{v}");

    // Follow-up: the excluded one is not counted; a bad date is named.
    let (s, v) = supervisor.get("/ratings/follow-up").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["total"]["bad"], 0, "{v}");
    assert_eq!(v["rate"], 100.0);
    let (s, v) = supervisor.get("/ratings/follow-up?from=2026-13-01").await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (422, Some("from")),
        "{v}"
    );
    // Settings: read by staff, written by administrators.
    let (s, v) = supervisor.get("/ratings/settings").await;
    assert_eq!((s, v["rectification_days"].as_i64()), (200, Some(5)), "{v}");
    let r = supervisor
        .http
        .put(format!("{}/api/v1/ratings/settings", supervisor.base))
        .bearer_auth(&supervisor.token)
        .json(&json!({ "rectification_days": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The OpenAPI document describes the endpoints.
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/cases/{case_no}/ratings"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/rectifications/{id}/answer"]["post"].is_object());
}

/// The hidden value of a named field of a form.
fn hidden(body: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = body.find(&key).expect(name) + key.len();
    body[at..].split('"').next().unwrap().to_owned()
}

async fn pages(app: &App) {
    let p = &app.platform;
    let c = case(app, "rw-p1", true).await;
    let chen = app.browser();
    chen.citizen_sign_in("13800000003", "/account").await;
    let page = chen.get(&format!("/account/cases/{}", c.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"rate\""), "the rating form");
    assert!(page.body.contains("非常不满意") && page.body.contains("办理时限"));
    let csrf = hidden(&page.body, "csrf");
    // A bad rating without a comment: the page again with the problem, nothing stored.
    let bad = chen
        .post(
            &format!("/account/cases/{}/rate", c.id),
            &[
                ("csrf", csrf.as_str()),
                ("level", "2"),
                ("score_result", "1"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("请说明原因"), "{}", bad.body);
    assert!(
        bad.body.contains("value=\"1\" selected"),
        "the score is kept"
    );
    assert_eq!(ratings_of(app, &c.id).await, 0);
    let no_csrf = chen
        .post(&format!("/account/cases/{}/rate", c.id), &[("level", "5")])
        .await;
    assert_eq!(no_csrf.status, 403);
    let ok = chen
        .post(
            &format!("/account/cases/{}/rate", c.id),
            &[
                ("csrf", csrf.as_str()),
                ("level", "2"),
                ("score_result", "1"),
                ("comment", "结果不满意"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ratings_of(app, &c.id).await, 1);
    let page = chen
        .get(&format!("/account/cases/{}?done=rated", c.id))
        .await;
    assert!(page.body.contains("结果不满意"));
    assert!(
        !page.body.contains("id=\"rate\""),
        "rated on the web already"
    );
    let number: String = sqlx::query_scalar("SELECT number FROM rectifications WHERE case_id = $1")
        .bind(&c.id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    assert!(page.body.contains(&number));
    let rating: String = sqlx::query_scalar("SELECT id FROM ratings WHERE case_id = $1")
        .bind(&c.id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();

    // The organisation answers on /admin/ratings; another organisation cannot see it.
    let dept = app.browser();
    dept.staff_sign_in(&approver_of(app, &c.org).await).await;
    let list = dept.get("/admin/ratings").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&number));
    assert!(
        list.body.contains("href=\"/admin/ratings\""),
        "the nav links it"
    );
    let one = dept.get(&format!("/admin/ratings/{rating}")).await;
    assert_eq!(one.status, 200);
    assert!(one.body.contains("id=\"answer\""));
    let csrf = one.csrf();
    let r = dept
        .post(
            &format!("/admin/ratings/{rating}/answer"),
            &[
                ("csrf", csrf.as_str()),
                ("action", "rectified"),
                ("outcome", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = dept
        .post(
            &format!("/admin/ratings/{rating}/answer"),
            &[
                ("csrf", csrf.as_str()),
                ("action", "rectified"),
                ("outcome", "已优化出件流程"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let stranger = app.browser();
    stranger.staff_sign_in("cs.gaj.manager").await;
    assert_eq!(
        stranger
            .get(&format!("/admin/ratings/{rating}"))
            .await
            .status,
        404
    );
    assert!(!stranger.get("/admin/ratings").await.body.contains(&number));
    assert_eq!(app.browser().get("/admin/ratings").await.status, 303);
    // The supervisor's board shows the follow-up rate.
    let sup = app.browser();
    sup.staff_sign_in("supervisor").await;
    let board = sup.get("/admin/supervision").await;
    assert!(board.body.contains("id=\"follow-rate\""), "{}", board.body);
    assert!(board.body.contains("100.0%"), "answered: {}", board.body);

    // The citizen sees the outcome and rates the fix.
    let page = chen.get(&format!("/account/cases/{}", c.id)).await;
    assert!(page.body.contains("已优化出件流程"));
    let order = hidden(&page.body, "order");
    let r = chen
        .post(
            &format!("/account/cases/{}/fix", c.id),
            &[
                ("csrf", hidden(&page.body, "csrf").as_str()),
                ("order", order.as_str()),
                ("fix_level", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// The newest invitation link's token sent to `phone`.
fn invitation_token(app: &App, phone: &str) -> String {
    let text = app
        .platform
        .outside
        .last_dev_message(phone)
        .expect("an SMS");
    let at = text.find("/rate/").expect("a link") + "/rate/".len();
    text[at..at + 64].to_owned()
}

async fn invitation_link(app: &App) {
    let c = case(app, "rw-inv", true).await;
    app.clock()
        .advance(chrono::Duration::days(3) + chrono::Duration::minutes(1));
    assert!(
        yiwang_services::supervision::ratings::invite(&app.platform)
            .await
            .unwrap()
            >= 1
    );
    let token = invitation_token(app, "13800000003");
    let b: Browser = app.browser();
    let form = b.get(&format!("/rate/{token}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(c.case_no.as_deref().unwrap()));
    assert!(form.body.contains("陈*"), "the masked name");
    assert!(!form.body.contains("陈静"));
    let csrf = form.csrf();
    let r = b
        .post(
            &format!("/rate/{token}"),
            &[("csrf", "wrong"), ("level", "5")],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = b
        .post(
            &format!("/rate/{token}"),
            &[("csrf", csrf.as_str()), ("level", "9")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = b
        .post(
            &format!("/rate/{token}"),
            &[
                ("csrf", csrf.as_str()),
                ("level", "5"),
                ("score_attitude", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"done\""));
    let again = b
        .post(
            &format!("/rate/{token}"),
            &[("csrf", csrf.as_str()), ("level", "1")],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    let used = b.get(&format!("/rate/{token}")).await;
    assert_eq!(used.status, 409);
    assert!(used.body.contains("已评价"), "{}", used.body);
    let channel: String = sqlx::query_scalar("SELECT channel FROM ratings WHERE case_id = $1")
        .bind(&c.id)
        .fetch_one(app.platform.db.pool())
        .await
        .unwrap();
    assert_eq!(channel, "sms");
    let unknown = b.get(&format!("/rate/{}", "a".repeat(64))).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("评价链接无效"));
}

async fn journey(backend: Backend) {
    let app = common::spawn(backend, Time::Fixed).await;
    over_the_api(&app).await;
    pages(&app).await;
    invitation_link(&app).await;
}

#[tokio::test]
async fn ratings_over_http_on_every_backend() {
    journey(Backend::Sqlite).await;
    if common::pg_url().is_some() {
        journey(Backend::Postgres).await;
    }
}
