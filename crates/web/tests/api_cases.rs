//! The case API over real HTTP with access tokens from the platform's own OpenID Connect
//! provider (SQLite, and PostgreSQL when the test script provides one): a citizen applies
//! (a bad form and a PNG called .pdf refused first), submits twice with one Idempotency-Key
//! (one case), the window asks for a correction, the citizen resubmits, a stale accept gets
//! 409, the window accepts, the approver claims and completes every step, the window delivers
//! and the citizen reads the records and downloads the decision. Tokens: none (401 with a
//! Bearer challenge), without the `cases` scope (403), the wrong kind of caller (403), someone
//! else's case (404). The OpenAPI document lists the operations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Time};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;
use yiwang_services::identity::oidc;

const CB: &str = "http://127.0.0.1:9/cb";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
/// A one-page PDF a reader can open (its cross-reference table is rebuilt by readers).
const PAGE_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n\
trailer<</Root 1 0 R>>\n%%EOF\n";

/// The text `pdftotext` (poppler-utils) reads from a PDF, spaces and line breaks removed.
fn pdf_text(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("yiwang-copy-{}.pdf", uuid::Uuid::now_v7()));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian package poppler-utils; scripts/install-deps.sh installs it)");
    std::fs::remove_file(&path).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

/// A caller of the API with one access token.
#[derive(Clone)]
struct Api {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    /// Completes task `tid` as approved.
    async fn approve(&self, tid: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/tasks/{tid}/complete"),
            json!({ "outcome": "approve", "opinion": "同意" }),
        )
        .await
    }
    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
    async fn upload(
        &self,
        case: &str,
        slot: usize,
        name: &str,
        bytes: &'static [u8],
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .put(format!(
                "{}/api/v1/cases/{case}/materials/{slot}?name={}",
                self.base,
                oidc::urlencode(name)
            ))
            .bearer_auth(&self.token)
            .body(bytes)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }
}

impl Api {
    /// `POST /applications`: the `application` JSON part and `(part name, file name, bytes)`
    /// file parts, with an Idempotency-Key.
    async fn apply(
        &self,
        application: Option<Value>,
        files: &[(String, &str, &[u8])],
        key: &str,
    ) -> (StatusCode, Value) {
        let boundary = "test-boundary-0a9f";
        let mut body = Vec::new();
        if let Some(a) = application {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"application\"\r\n\r\n{a}\r\n"
                )
                .as_bytes(),
            );
        }
        for (part, name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{name}\"\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let r = self
            .http
            .post(format!("{}/api/v1/applications", self.base))
            .bearer_auth(&self.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("idempotency-key", key)
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }
}

async fn api(app: &App, client: (&str, &str), scope: &str, sign_in: Who<'_>) -> Api {
    let b = app.browser();
    match sign_in {
        Who::Citizen(phone) => {
            b.citizen_sign_in(phone, "/account").await;
        }
        Who::Staff(name) => {
            b.staff_sign_in(name).await;
        }
    }
    let token = b.access_token(client, CB, scope).await;
    Api {
        base: app.base.clone(),
        http: reqwest::Client::new(),
        token,
    }
}

enum Who<'a> {
    Citizen(&'a str),
    Staff(&'a str),
}

fn problem_fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The first item with a form of its own and an approval process (the demo's 失业保险金申领),
/// and the slots of its required materials.
async fn item_with_process(p: &yiwang_services::Platform) -> (String, Vec<usize>) {
    let item: String = sqlx::query(
        "SELECT i.code FROM items i JOIN item_forms f ON f.item_code = i.code \
         JOIN wf_bindings b ON b.item_code = i.code ORDER BY i.code LIMIT 1",
    )
    .fetch_one(p.db.pool())
    .await
    .unwrap()
    .get("code");
    let required: Vec<usize> = yiwang_services::catalogue::published(p, &item)
        .await
        .unwrap()
        .guide
        .materials
        .iter()
        .enumerate()
        .filter(|(_, m)| m.required && m.condition.is_none())
        .map(|(i, _)| i)
        .collect();
    (item, required)
}

/// A client registered as `name` (id, secret) with the `cases` scope, and its callers: the
/// demo citizen 13800000002, the window `yl.window` and the approver `yl.rsj.approver`.
async fn callers(app: &App, name: &str) -> ((String, String), Api, Api, Api) {
    let (id, secret) =
        oidc::add_client(&app.platform, None, name, &[CB.into()], &[], "openid cases")
            .await
            .unwrap();
    let client = (id.as_str(), secret.as_str());
    let citizen = api(app, client, "openid cases", Who::Citizen("13800000002")).await;
    let window = api(app, client, "openid cases", Who::Staff("yl.window")).await;
    let approver = api(app, client, "openid cases", Who::Staff("yl.rsj.approver")).await;
    ((id, secret), citizen, window, approver)
}

async fn journey(app: &App) {
    let p = &app.platform;
    let (item, required) = item_with_process(p).await;
    let (pid, psecret) = oidc::add_client(p, None, "只读系统", &[CB.into()], &[], "openid profile")
        .await
        .unwrap();
    let (client, citizen, window, approver) = callers(app, "办件 App").await;
    let client = (client.0.as_str(), client.1.as_str());

    // No token: 401 with a Bearer challenge, as a problem document.
    let r = reqwest::get(format!("{}/api/v1/cases", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // A forged token: 401 too.
    let forged = Api {
        token: "x.y".into(),
        ..citizen.clone()
    };
    assert_eq!(forged.get("/cases").await.0, 401);
    // A token without the `cases` scope: 403.
    let profile_only = api(
        app,
        (pid.as_str(), psecret.as_str()),
        "openid profile",
        Who::Citizen("13800000002"),
    )
    .await;
    assert_eq!(profile_only.get("/cases").await.0, 403);

    // Start a draft; a bad body is a problem document naming it.
    let (s, v) = citizen.post("/cases", json!({ "item": item })).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(problem_fields(&v), ["body"]);
    let (s, v) = citizen.post("/cases", json!({ "item_code": "nope" })).await;
    assert_eq!(s, 404, "{v}");
    // For an enterprise the citizen may not act for (and this item serves persons only): 409
    // for the item first, then 403 / 400 on an item for legal persons.
    let credit = yiwang_connectors::demo::XIANGJIANG_TECH_CREDIT_CODE;
    let (s, v) = citizen
        .post(
            "/cases",
            json!({ "item_code": item, "credit_code": credit }),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let legal: Vec<String> = sqlx::query_scalar("SELECT code FROM items ORDER BY code")
        .fetch_all(p.db.pool())
        .await
        .unwrap();
    let mut legal_item = None;
    for code in legal {
        let it = yiwang_services::catalogue::published(p, &code)
            .await
            .unwrap();
        if it
            .guide
            .handling_forms
            .contains(&yiwang_domain::dict::HandlingForm::Online)
            && it.summary.state == yiwang_domain::item::ItemState::Active
            && it.guide.service_objects.iter().all(|o| !o.is_person())
        {
            legal_item = Some(code);
            break;
        }
    }
    let legal_item = legal_item.expect("an online item for legal persons");
    let (s, v) = citizen
        .post(
            "/cases",
            json!({ "item_code": legal_item, "credit_code": credit }),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = citizen
        .post(
            "/cases",
            json!({ "item_code": legal_item, "credit_code": "123" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(problem_fields(&v), ["credit_code"]);
    let rep = api(app, client, "openid cases", Who::Citizen("13800000004")).await;
    let (s, v) = rep
        .post(
            "/cases",
            json!({ "item_code": legal_item, "credit_code": credit }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["applicant_kind"], "enterprise", "{v}");

    let (s, v) = citizen.post("/cases", json!({ "item_code": item })).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["state"], "draft");
    let case = v["id"].as_str().unwrap().to_owned();
    // Staff do not apply as citizens.
    assert_eq!(
        window.post("/cases", json!({ "item_code": item })).await.0,
        403
    );

    // The form: every bad field named, nothing saved; then the right values.
    let (s, v) = citizen
        .put(
            &format!("/cases/{case}/form"),
            json!({ "values": { "employer": "长沙某公司", "ended_on": "2099-01-01", "bogus": "x" } }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let fields = problem_fields(&v);
    assert!(
        fields.contains(&"form.ended_on".to_owned()) && fields.contains(&"form.bogus".to_owned()),
        "{v}"
    );
    let (s, v) = citizen
        .put(
            &format!("/cases/{case}/form"),
            json!({ "values": { "employer": "长沙某科技有限公司", "ended_on": "2026-10-31",
                                "reason": "contract_end", "amount": 4500 } }),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Submitting with materials missing lists them all.
    let (s, v) = citizen
        .post(&format!("/cases/{case}/submit"), json!({}))
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(problem_fields(&v).len() >= required.len(), "{v}");

    // A PNG called .pdf is refused by content; PDFs are taken.
    let (s, v) = citizen.upload(&case, required[0], "证明.pdf", PNG).await;
    assert_eq!(s, 400, "{v}");
    for slot in &required {
        let (s, v) = citizen.upload(&case, *slot, "证明.pdf", PDF).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["kind"], "pdf");
        assert_eq!(v["sm3"].as_str().unwrap().len(), 64);
    }

    // Submit twice with one Idempotency-Key: one case, one number.
    let submit = |key: &'static str| {
        citizen
            .http
            .post(format!("{}/api/v1/cases/{case}/submit", citizen.base))
            .bearer_auth(&citizen.token)
            .header("idempotency-key", key)
            .json(&json!({}))
            .send()
    };
    let first: Value = submit("k-1").await.unwrap().json().await.unwrap();
    assert_eq!(first["state"], "submitted", "{first}");
    let case_no = first["case_no"].as_str().unwrap().to_owned();
    assert_eq!(case_no.len(), 43);
    let again = submit("k-1").await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<Value>().await.unwrap()["case_no"],
        case_no.as_str()
    );
    assert_eq!(submit("k-2").await.unwrap().status(), 409);

    // The window: the queue has it; someone else's account cannot see it.
    let (s, q) = window.get("/window/cases").await;
    assert_eq!(s, 200);
    assert!(
        q.as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == case.as_str())
    );
    assert_eq!(citizen.get("/window/cases").await.0, 403);
    let other = api(app, client, "openid cases", Who::Citizen("13800000003")).await;
    assert_eq!(other.get(&format!("/cases/{case}")).await.0, 404);

    // 补正: the citizen uploads again and resubmits.
    let rev = first["rev"].as_i64().unwrap();
    let (s, v) = window
        .post(
            &format!("/cases/{case}/corrections"),
            json!({ "rev": rev, "items": [{ "slot": required[0], "problem": "扫描件不清晰" }] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "correction");
    let (s, v) = citizen.upload(&case, required[0], "清晰件.pdf", PDF).await;
    assert_eq!(s, 201, "{v}");
    let (_, c) = citizen.get(&format!("/cases/{case}")).await;
    let (s, v) = citizen
        .post(
            &format!("/cases/{case}/resubmit"),
            json!({ "rev": c["rev"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "submitted");

    // A stale rev: 409, nothing changed; then accept.
    let (s, v) = window
        .post(&format!("/cases/{case}/accept"), json!({ "rev": rev }))
        .await;
    assert_eq!(s, 409, "{v}");
    let (s, v) = window
        .post(
            &format!("/cases/{case}/accept"),
            json!({ "rev": v_rev(&window, &case).await }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "handling");
    assert!(v["due_at"].is_string());
    let due = v["due_at"].clone();

    // 延长审批: the window asks, the approver of the organisation decides.
    let (s, v) = window
        .post(
            &format!("/cases/{case}/extension"),
            json!({ "rev": v_rev(&window, &case).await, "days": -2, "reason": "x" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = window
        .post(
            &format!("/cases/{case}/extension"),
            json!({ "rev": v_rev(&window, &case).await, "days": 40, "reason": "需要现场核查" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(problem_fields(&v), ["days"]);
    let (s, v) = window
        .post(
            &format!("/cases/{case}/extension"),
            json!({ "rev": v_rev(&window, &case).await, "days": 2, "reason": "需要现场核查" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["due_at"], due, "nothing moves before the decision");
    let decision = json!({ "rev": v_rev(&window, &case).await, "approve": true });
    assert_eq!(
        window
            .post(
                &format!("/cases/{case}/extension/decision"),
                decision.clone()
            )
            .await
            .0,
        403
    );
    assert_eq!(
        citizen
            .post(
                &format!("/cases/{case}/extension/decision"),
                decision.clone()
            )
            .await
            .0,
        403
    );
    let (s, v) = approver
        .post(&format!("/cases/{case}/extension/decision"), decision)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_ne!(v["due_at"], due, "the deadline moved");

    // The approver works every step of the case's process.
    assert_eq!(citizen.get("/tasks").await.0, 403);
    let mut steps = 0;
    loop {
        let (s, tasks) = approver.get("/tasks").await;
        assert_eq!(s, 200);
        let Some(t) = tasks
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["case_id"] == case.as_str())
        else {
            break;
        };
        assert_eq!(t["case_no"], case_no.as_str());
        let tid = t["id"].as_str().unwrap().to_owned();
        let (s, v) = approver
            .post(&format!("/tasks/{tid}/claim"), json!({}))
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = approver
            .post(
                &format!("/tasks/{tid}/complete"),
                json!({ "outcome": "maybe" }),
            )
            .await;
        assert_eq!(s, 400, "{v}");
        let (s, v) = approver.approve(&tid).await;
        assert_eq!(s, 200, "{v}");
        steps += 1;
        assert!(steps < 10, "the process ends");
    }
    assert!(steps >= 1);
    let (_, c) = citizen.get(&format!("/cases/{case}")).await;
    assert_eq!(c["state"], "approved", "{c}");

    // 送达 at the window; the citizen sees every record and the documents.
    let (s, v) = window
        .post(
            &format!("/cases/{case}/deliver"),
            json!({ "rev": c["rev"], "method": "post", "carrier": "", "tracking_no": "" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = window
        .post(
            &format!("/cases/{case}/deliver"),
            json!({ "rev": c["rev"], "method": "window" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "delivered");
    let (s, c) = citizen.get(&format!("/cases/{case}")).await;
    assert_eq!(s, 200);
    let records = c["records"].as_array().unwrap();
    assert!(records.len() >= 5 + steps, "{c}");
    assert!(
        records
            .windows(2)
            .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64())
    );
    assert_eq!(c["form"]["employer"], "长沙某科技有限公司");
    assert_eq!(c["files"].as_array().unwrap().len(), required.len() + 1);
    let file = c["files"][0]["file_id"].as_str().unwrap();
    let r = citizen
        .http
        .get(format!("{}/api/v1/cases/{case}/files/{file}", citizen.base))
        .bearer_auth(&citizen.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    // Notices are PDFs when a CJK font is installed (the test script installs one).
    if let Some(d) = c["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "decision")
    {
        let r = citizen
            .http
            .get(format!(
                "{}/api/v1/cases/{case}/files/{}",
                citizen.base,
                d["file_id"].as_str().unwrap()
            ))
            .bearer_auth(&citizen.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    }

    // 我的材料: a second application hands in the earlier files again instead of uploading.
    let (s, mine) = citizen.get("/me/files").await;
    assert_eq!(s, 200, "{mine}");
    let first_file = mine[0]["file_id"].as_str().unwrap().to_owned();
    assert!(mine.as_array().unwrap().len() >= required.len());
    let (_, second) = citizen.post("/cases", json!({ "item_code": item })).await;
    let second = second["id"].as_str().unwrap().to_owned();
    let (s, v) = citizen
        .post(
            &format!("/cases/{second}/materials/{}/reuse", required[0]),
            json!({ "file_id": first_file }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["file_id"], first_file.as_str());
    // Somebody else's file is not theirs to hand in; a submitted case takes no more files.
    let (_, theirs) = other.post("/cases", json!({ "item_code": item })).await;
    let theirs = theirs["id"].as_str().unwrap().to_owned();
    let (s, v) = other
        .post(
            &format!("/cases/{theirs}/materials/{}/reuse", required[0]),
            json!({ "file_id": first_file }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(problem_fields(&v), ["file"]);
    let (s, v) = citizen
        .post(
            &format!("/cases/{case}/materials/{}/reuse", required[0]),
            json!({ "file_id": first_file }),
        )
        .await;
    assert_eq!(s, 409, "{v}");

    // The OpenAPI document describes the case API and its security scheme.
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/cases",
        "/api/v1/cases/{id}/submit",
        "/api/v1/tasks/{id}/complete",
        "/api/v1/window/cases",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

async fn v_rev(a: &Api, case: &str) -> i64 {
    let (s, c) = a.get(&format!("/cases/{case}")).await;
    assert_eq!(s, 200, "{c}");
    c["rev"].as_i64().unwrap()
}

/// 一次提交 through `POST /applications`, then the approver works the case's tasks through
/// `GET /tasks?case_id=` and completions that name the next task (no separate claims).
async fn at_once(app: &App) {
    let p = &app.platform;
    let (item, required) = item_with_process(p).await;
    let (_, citizen, window, approver) = callers(app, "部门系统").await;
    let count = || async { citizen.get("/cases").await.1.as_array().unwrap().len() };
    let before = count().await;

    // Everything wrong at once is reported at once, and nothing is kept: a bad date and an
    // unknown field in the form, a PNG called .pdf, a material the guide does not have, and
    // the other required materials missing.
    let bad = json!({ "item_code": item, "values": { "employer": "长沙某公司",
        "ended_on": "2099-01-01", "bogus": "x" } });
    let files = vec![
        (format!("material.{}", required[0]), "证明.pdf", PNG),
        ("material.99".to_owned(), "其他.pdf", PDF),
    ];
    let (s, v) = citizen.apply(Some(bad), &files, "once-bad").await;
    assert_eq!(s, 400, "{v}");
    let fields = problem_fields(&v);
    for f in ["form.ended_on", "form.bogus", "files[0]", "files[1]"] {
        assert!(fields.contains(&f.to_owned()), "{f} in {v}");
    }
    for slot in &required[1..] {
        assert!(fields.contains(&format!("material[{slot}]")), "{v}");
    }
    // No application part; a material part without a slot number.
    let (s, v) = citizen.apply(None, &[], "once-none").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(problem_fields(&v), ["application"]);
    let (s, v) = citizen
        .apply(
            Some(json!({ "item_code": item })),
            &[("material.x".to_owned(), "a.pdf", PDF)],
            "once-x",
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(problem_fields(&v), ["material.x"]);
    // Staff do not apply as citizens.
    assert_eq!(
        window
            .apply(Some(json!({ "item_code": item })), &[], "once-staff")
            .await
            .0,
        403
    );
    assert_eq!(count().await, before, "nothing was kept");

    // The right application: submitted, numbered, its files there; the same key again is the
    // same case.
    let good = json!({ "item_code": item, "values": { "employer": "长沙某科技有限公司",
        "ended_on": "2026-10-31", "reason": "contract_end", "amount": 800 } });
    let files: Vec<(String, &str, &[u8])> = required
        .iter()
        .map(|slot| (format!("material.{slot}"), "证明.pdf", PDF))
        .collect();
    let (s, c) = citizen.apply(Some(good.clone()), &files, "once-good").await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["state"], "submitted", "{c}");
    assert!(c["case_no"].as_str().unwrap().starts_with(item.as_str()));
    let case = c["id"].as_str().unwrap().to_owned();
    let (s, again) = citizen.apply(Some(good), &files, "once-good").await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(again["id"], case.as_str(), "one case for one key");
    assert_eq!(count().await, before + 1);
    let (_, detail) = citizen.get(&format!("/cases/{case}")).await;
    assert_eq!(
        detail["files"].as_array().unwrap().len(),
        required.len(),
        "{detail}"
    );
    assert_eq!(detail["form"]["employer"], "长沙某科技有限公司");

    // Accepted; the approver finds the case's task and completes each step without claiming,
    // each answer naming the next.
    let (s, v) = window
        .post(&format!("/cases/{case}/accept"), json!({ "rev": c["rev"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, mut next) = approver.get(&format!("/tasks?case_id={case}")).await;
    assert_eq!(s, 200, "{next}");
    assert_eq!(next.as_array().unwrap().len(), 1, "{next}");
    assert!(next[0]["assignee"].is_null(), "offered, not held");
    let (_, other) = approver.get("/tasks?case_id=no-such-case").await;
    assert_eq!(other, json!([]));
    let mut steps = 0;
    while let Some(t) = next.as_array().and_then(|a| a.first()).cloned() {
        assert_eq!(t["case_id"], case.as_str());
        let tid = t["id"].as_str().unwrap();
        let (s, done) = approver.approve(tid).await;
        assert_eq!(s, 200, "{done}");
        assert_eq!(done["state"], "done");
        assert_eq!(done["assignee"], "yl.rsj.approver", "claimed on the way");
        // Done is done: completing it again is a conflict.
        let (s, v) = approver.approve(tid).await;
        assert_eq!(s, 409, "{v}");
        next = done["next"].clone();
        steps += 1;
        assert!(steps < 10, "the process ends");
    }
    assert!(steps >= 1);
    let (_, c) = citizen.get(&format!("/cases/{case}")).await;
    assert_eq!(c["state"], "approved", "{c}");
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/applications"]["post"].is_object());
}

/// An approved case's licence: issued once with the item's licence type, listed for the
/// holder, verified by anyone (masked), its signed document checked by `verify_document` and by
/// OpenSSL from the published PEM alone; altered data, a wrong check character, an unknown
/// identifier, a replaced signature and a revoked licence each get their own answer; the window
/// may not revoke it.
async fn licence(app: &App) {
    let p = &app.platform;
    let (item, required) = item_with_process(p).await;
    let org: String = sqlx::query_scalar("SELECT org FROM items WHERE code = $1")
        .bind(&item)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    let field = yiwang_services::licences::TypeField::new;
    // The licence is named as one of the item's materials, so that the next application of
    // the item is filled from the library (免证办).
    let guide = yiwang_services::catalogue::published(p, &item)
        .await
        .unwrap()
        .guide;
    let (reused_slot, lic_name) = guide
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                i,
                m.name.split(['（', '(']).next().unwrap().trim().to_owned(),
            )
        })
        .find(|(_, n)| n.chars().count() >= 4)
        .expect("a material with a name of 4 characters or more");
    yiwang_services::licences::define_type_as(
        p,
        yiwang_services::licences::LicenceType {
            code: format!("{org}777"),
            name: lic_name.clone(),
            holder_kind: "person".into(),
            fields: vec![
                field("name", "姓名", "case:applicant_name"),
                field("employer", "原单位", "form:employer"),
            ],
            validity_years: Some(1),
            layout: json!({}),
            items: vec![item.clone()],
        },
    )
    .await
    .unwrap();
    let ((client_id, client_secret), citizen, window, approver) = callers(app, "证照测试").await;
    let values = json!({ "item_code": item, "values": { "employer": "长沙某科技有限公司",
        "ended_on": "2026-10-31", "reason": "contract_end", "amount": 800 } });
    let files: Vec<(String, &str, &[u8])> = required
        .iter()
        .map(|slot| (format!("material.{slot}"), "证明.pdf", PAGE_PDF))
        .collect();
    let (s, c) = citizen.apply(Some(values), &files, "licence-1").await;
    assert_eq!(s, 201, "{c}");
    let case = c["id"].as_str().unwrap().to_owned();
    // 核验原件: the window raises an uploaded copy from C to B (once; again changes nothing);
    // the applicant may not, and an unknown file is not found.
    let (_, detail) = citizen.get(&format!("/cases/{case}")).await;
    let f = &detail["files"][0];
    assert_eq!(f["trust"], "C", "{detail}");
    let checked = format!(
        "/cases/{case}/materials/{}/{}/original-checked",
        f["slot"],
        f["file_id"].as_str().unwrap()
    );
    let (s, v) = citizen.post(&checked, json!({})).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = window.post(&checked, json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["trust"], "B", "{v}");
    let (s, v) = window.post(&checked, json!({})).await;
    assert_eq!((s.as_u16(), v["trust"].as_str()), (200, Some("B")), "{v}");
    let (s, v) = window
        .post(
            &format!("/cases/{case}/materials/0/nope/original-checked"),
            json!({}),
        )
        .await;
    assert_eq!(s, 404, "{v}");
    // Staff get the checked copy as a watermarked copy (水印副本) naming the handling
    // organisation; the applicant gets their own file as uploaded.
    let download = |token: String| {
        let url = format!(
            "{}/api/v1/cases/{case}/files/{}",
            app.base,
            f["file_id"].as_str().unwrap()
        );
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap().to_vec()
        }
    };
    let copy = download(window.token.clone()).await;
    let text = pdf_text(&copy);
    let org_name = p.master.get().organisation(&org).unwrap().name.clone();
    assert!(
        text.contains(&format!(
            "此件由{org_name}提供，仅供办理政务服务事项时使用，有效期至"
        )),
        "{text}"
    );
    assert_eq!(download(citizen.token.clone()).await, PAGE_PDF);
    let c = citizen.get(&format!("/cases/{case}")).await.1;
    let (s, v) = window
        .post(&format!("/cases/{case}/accept"), json!({ "rev": c["rev"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, mut next) = approver.get(&format!("/tasks?case_id={case}")).await;
    while let Some(t) = next.as_array().and_then(|a| a.first()).cloned() {
        let (s, done) = approver.approve(t["id"].as_str().unwrap()).await;
        assert_eq!(s, 200, "{done}");
        next = done["next"].clone();
    }
    let (s, mine) = citizen.get("/licences").await;
    assert_eq!(s, 200, "{mine}");
    let mine: Vec<Value> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["name"] == lic_name.as_str())
        .cloned()
        .collect();
    assert_eq!(mine.len(), 1, "one licence for the case: {mine:?}");
    assert_eq!(mine[0]["status"], "valid");
    let id = mine[0]["id"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with(&format!("1.2.156.3005.2.{org}777.{org}.")),
        "{id}"
    );
    // Draining the events again issues nothing more.
    yiwang_services::cases::events::drain(p).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM licences WHERE case_id = $1")
        .bind(&case)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);

    // Anyone verifies it; personal data is masked.
    let verify = |id: String| async move {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/licences/verify", app.base)).unwrap();
        url.query_pairs_mut().append_pair("id", &id);
        let r = reqwest::get(url).await.unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    };
    let v = verify(id.clone()).await;
    assert_eq!(v["outcome"], "valid", "{v}");
    assert_eq!(v["licence"]["issuer_code"], org.as_str());
    let shown = v.to_string();
    assert!(
        v["licence"]["holder_code"]
            .as_str()
            .unwrap()
            .contains("**********"),
        "{shown}"
    );
    assert!(
        !shown.contains("王小明"),
        "the holder's name is masked, in the fields too: {shown}"
    );
    assert!(
        shown.contains("长沙某科技有限公司"),
        "fields shown: {shown}"
    );

    // The holder's document verifies offline, and with OpenSSL from the published PEM.
    let (s, doc) = citizen.get(&format!("/licences/{id}/document")).await;
    assert_eq!(s, 200, "{doc}");
    let data = yiwang_services::licences::verify_document(&doc.to_string(), None).unwrap();
    assert_eq!(data["id"], id.as_str());
    let seal = doc["seal_id"].as_str().unwrap();
    let pem = reqwest::get(format!("{}/api/v1/seals/{seal}/public-key.pem", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(yiwang_services::licences::verify_document(&doc.to_string(), Some(&pem)).is_ok());
    let dir = std::env::temp_dir().join(format!("yiwang-licence-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    std::fs::write(path("data"), doc["data"].as_str().unwrap()).unwrap();
    use base64ct::Encoding;
    let sig = base64ct::Base64::decode_vec(doc["signature"].as_str().unwrap()).unwrap();
    std::fs::write(path("sig"), &sig).unwrap();
    std::fs::write(path("seal.pem"), &pem).unwrap();
    let distid = format!("distid:{}", doc["distid"].as_str().unwrap());
    let out = std::process::Command::new("openssl")
        .args([
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            &path("seal.pem"),
            "-rawin",
            "-in",
            &path("data"),
            "-sigfile",
            &path("sig"),
            "-digest",
            "sm3",
            "-pkeyopt",
            &distid,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
    // The public page says the same, in Chinese, without JavaScript.
    let page = |q: String| async move {
        let mut url = reqwest::Url::parse(&format!("{}/licences/verify", app.base)).unwrap();
        if !q.is_empty() {
            url.query_pairs_mut().append_pair("id", &q);
        }
        let r = reqwest::get(url).await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let (s, html) = page(id.clone()).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("有效") && html.contains("电子证照专用章"),
        "{html}"
    );
    assert!(
        html.contains("长沙某科技有限公司") && !html.contains("王小明"),
        "{html}"
    );
    let (s, html) = page(String::new()).await;
    assert_eq!(s, 200);
    assert!(html.contains("<label for=\"id\">"), "{html}");
    let (s, html) = page("1.2.156.3005.2.x".into()).await;
    assert_eq!(s, 400);
    assert!(html.contains("证照标识格式或校验位错误"), "{html}");
    // The printable PDF: the licence's name and fields as text, for the holder only.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/licences/{id}/pdf", app.base))
        .bearer_auth(&citizen.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/licences/{id}/pdf", app.base))
        .bearer_auth(&window.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "staff do not download a holder's licence here"
    );
    // 我的证照 in the browser: the list, 亮证 with its QR code, both downloads; another
    // citizen sees none of it.
    let b = app.browser();
    b.citizen_sign_in("13800000002", "/account").await;
    let list = b.get("/account/licences").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains(lic_name.as_str()) && list.body.contains(&id),
        "{}",
        list.body
    );
    let one = b.get(&format!("/account/licences/{id}")).await;
    assert_eq!(one.status, 200);
    assert!(
        one.body.contains("<svg") && one.body.contains("有效") && one.body.contains("授权办件使用"),
        "{}",
        one.body
    );
    let pdf = b.get(&format!("/account/licences/{id}/pdf")).await;
    assert_eq!(pdf.status, 200);
    assert!(pdf.body.starts_with("%PDF-"));
    let signed = b.get(&format!("/account/licences/{id}/document")).await;
    assert_eq!(signed.status, 200);
    assert!(yiwang_services::licences::verify_document(&signed.body, None).is_ok());
    let other = app.browser();
    other.citizen_sign_in("13800000001", "/account").await;
    assert!(!other.get("/account/licences").await.body.contains(&id));
    assert_eq!(
        other.get(&format!("/account/licences/{id}")).await.status,
        404
    );
    assert_eq!(
        other
            .get(&format!("/account/licences/{id}/pdf"))
            .await
            .status,
        404
    );
    // 免证办: the next application of the item has the material filled from the library at
    // trust level A, and the holder sees that use.
    let (s, next_case) = citizen.post("/cases", json!({ "item_code": item })).await;
    assert_eq!(s, 201, "{next_case}");
    let next_id = next_case["id"].as_str().unwrap().to_owned();
    let (_, detail) = citizen.get(&format!("/cases/{next_id}")).await;
    let filled: Vec<&Value> = detail["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["slot"] == reused_slot)
        .collect();
    assert_eq!(filled.len(), 1, "{detail}");
    assert_eq!(filled[0]["trust"], "A", "{detail}");
    // Staff would get it as a copy watermarked with the issuer and the licence's validity.
    let (name, kind, copy) = yiwang_services::cases::apply::staff_file(
        p,
        &next_id,
        filled[0]["file_id"].as_str().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(kind, "pdf");
    assert!(name.ends_with("（副本）.pdf"), "{name}");
    let text = pdf_text(&copy);
    assert!(
        text.contains(&format!("此件由{org_name}提供")) && text.contains(&lic_name),
        "{text}"
    );
    let (s, uses) = citizen.get(&format!("/licences/{id}/uses")).await;
    assert_eq!(s, 200, "{uses}");
    assert_eq!(uses.as_array().unwrap().len(), 1, "{uses}");
    assert_eq!(uses[0]["basis"], "holder");
    // In one request too: the licence's material need not be sent.
    let values = json!({ "item_code": item, "values": { "employer": "长沙某科技有限公司",
        "ended_on": "2026-10-31", "reason": "contract_end", "amount": 800 } });
    let files: Vec<(String, &str, &[u8])> = required
        .iter()
        .filter(|slot| **slot != reused_slot)
        .map(|slot| (format!("material.{slot}"), "证明.pdf", PAGE_PDF))
        .collect();
    let (s, at_once) = citizen.apply(Some(values), &files, "licence-2").await;
    assert_eq!(s, 201, "{at_once}");
    let (_, detail) = citizen
        .get(&format!("/cases/{}", at_once["id"].as_str().unwrap()))
        .await;
    let from_library: Vec<&Value> = detail["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["slot"] == reused_slot)
        .collect();
    assert_eq!(from_library.len(), 1, "{detail}");
    assert_eq!(from_library[0]["trust"], "A", "{detail}");
    let (_, uses) = citizen.get(&format!("/licences/{id}/uses")).await;
    assert_eq!(uses.as_array().unwrap().len(), 2, "{uses}");
    // A department fetches the data only for the holder's case it handles, and it is logged;
    // without a case or a legal basis, or on a legal basis without the role: refused.
    let (s, v) = window
        .get(&format!("/licences/{id}/data?case_id={case}"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id"], id.as_str());
    let (s, v) = window.get(&format!("/licences/{id}/data")).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = window.get(&format!("/licences/{id}/data?basis=检查")).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = citizen
        .get(&format!("/licences/{id}/data?case_id={case}"))
        .await;
    assert_eq!(s, 403, "{v}");
    let (_, uses) = citizen.get(&format!("/licences/{id}/uses")).await;
    assert_eq!(uses.as_array().unwrap().len(), 3, "{uses}");
    assert_eq!(uses[0]["basis"], "case", "{uses}");
    // 授权用证: another person's case may use the licence only once the holder shares it with
    // that case, and no longer once the share is withdrawn; nobody else shares it.
    let other = api(
        app,
        (client_id.as_str(), client_secret.as_str()),
        "openid cases",
        Who::Citizen("13800000003"),
    )
    .await;
    let values = json!({ "item_code": item, "values": { "employer": "长沙某科技有限公司",
        "ended_on": "2026-10-31", "reason": "contract_end", "amount": 800 } });
    let files: Vec<(String, &str, &[u8])> = required
        .iter()
        .map(|slot| (format!("material.{slot}"), "证明.pdf", PAGE_PDF))
        .collect();
    let (s, theirs) = other.apply(Some(values), &files, "share-1").await;
    assert_eq!(s, 201, "{theirs}");
    let their_case = theirs["id"].as_str().unwrap().to_owned();
    let their_no = theirs["case_no"].as_str().unwrap().to_owned();
    let fetch = format!("/licences/{id}/data?case_id={their_case}");
    assert_eq!(window.get(&fetch).await.0, 403);
    let (s, v) = other
        .post(
            &format!("/licences/{id}/shares"),
            json!({ "case_no": their_no }),
        )
        .await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = citizen
        .post(
            &format!("/licences/{id}/shares"),
            json!({ "case_no": "NOSUCHCASE" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = citizen
        .post(
            &format!("/licences/{id}/shares"),
            json!({ "case_no": their_no }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["case_id"], their_case.as_str());
    let (s, v) = window.get(&fetch).await;
    assert_eq!(s, 200, "{v}");
    let (_, uses) = citizen.get(&format!("/licences/{id}/uses")).await;
    let bases: Vec<&str> = uses
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["basis"].as_str().unwrap())
        .collect();
    assert_eq!(bases[..2], ["case", "consent"], "{uses}");
    let r = reqwest::Client::new()
        .delete(format!(
            "{}/api/v1/licences/{id}/shares/{their_case}",
            app.base
        ))
        .bearer_auth(&citizen.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(window.get(&fetch).await.0, 403);
    let (_, shares) = citizen.get(&format!("/licences/{id}/shares")).await;
    assert!(shares[0]["withdrawn_at"].is_string(), "{shares}");
    // Altered data is refused.
    let mut altered = doc.clone();
    altered["data"] = json!(
        doc["data"]
            .as_str()
            .unwrap()
            .replace("长沙某科技有限公司", "长沙某贸易有限公司")
    );
    assert!(yiwang_services::licences::verify_document(&altered.to_string(), None).is_err());

    // A wrong check character, an unknown identifier.
    let check = id.chars().last().unwrap();
    let wrong = format!(
        "{}{}",
        &id[..id.len() - 1],
        if check == '0' { '1' } else { '0' }
    );
    assert_eq!(verify(wrong).await["outcome"], "malformed");
    let other = yiwang_domain::codes::LicenceId::new(
        &format!("{org}777"),
        &yiwang_domain::codes::CreditCode::parse(&org).unwrap(),
        "NOSUCHSERIAL",
        1,
    )
    .unwrap();
    assert_eq!(
        verify(other.as_str().to_owned()).await["outcome"],
        "unknown"
    );
    assert_eq!(verify("not an id".into()).await["outcome"], "malformed");

    // Only administrators import licences in bulk.
    let (s, v) = window
        .post("/licences/import", json!({ "rows": [{}] }))
        .await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = citizen
        .post("/licences/import", json!({ "rows": [] }))
        .await;
    assert_eq!(s, 403, "{v}");
    // The window may not revoke it.
    let (s, v) = window
        .post(
            &format!("/licences/{id}/status"),
            json!({ "status": "revoked", "reason": "x" }),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(verify(id.clone()).await["outcome"], "valid");

    // A signature replaced by another valid-looking one is forged, never valid.
    let original: String = sqlx::query_scalar("SELECT signature FROM licences WHERE id = $1")
        .bind(&id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    let key = yiwang_crypto::seal::SealKey::generate("1234567812345678").unwrap();
    let forged =
        base64ct::Base64::encode_string(&key.sign(doc["data"].as_str().unwrap().as_bytes()));
    let set_sig = |sig: String| {
        let id = id.clone();
        async move {
            sqlx::query("UPDATE licences SET signature = $1 WHERE id = $2")
                .bind(sig)
                .bind(id)
                .execute(p.db.writer())
                .await
                .unwrap();
        }
    };
    set_sig(forged).await;
    assert_eq!(verify(id.clone()).await["outcome"], "forged");
    set_sig(original).await;
    assert_eq!(verify(id.clone()).await["outcome"], "valid");
    // 变更 and 延续: a new version (same serial, version + 1) signed again; the old one says
    // superseded at once. The window may not; a field the licence lacks is refused.
    let (s, v) = window
        .post(
            &format!("/licences/{id}/versions"),
            json!({ "kind": "renew", "reason": "x" }),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let admin = yiwang_services::identity::staff::sign_in(p, "admin", "Yiwang@2026", "127.0.0.1")
        .await
        .unwrap()
        .1
        .staff;
    let bad = yiwang_services::licences::NewVersion {
        kind: "amend".into(),
        fields: [("nope".to_owned(), "x".to_owned())].into(),
        reason: "更正".into(),
    };
    assert!(matches!(
        yiwang_services::licences::new_version(p, &admin, &id, bad).await,
        Err(yiwang_services::ServiceError::Invalid(_))
    ));
    let amend = yiwang_services::licences::NewVersion {
        kind: "amend".into(),
        fields: [("employer".to_owned(), "长沙某新材料有限公司".to_owned())].into(),
        reason: "单位名称变更".into(),
    };
    let v2 = yiwang_services::licences::new_version(p, &admin, &id, amend)
        .await
        .unwrap();
    assert!(v2.contains(".002."), "{v2}");
    let old = verify(id.clone()).await;
    assert_eq!(old["outcome"], "superseded", "{old}");
    let new = verify(v2.clone()).await;
    assert_eq!(new["outcome"], "valid", "{new}");
    assert!(new.to_string().contains("长沙某新材料有限公司"), "{new}");
    let renew = yiwang_services::licences::NewVersion {
        kind: "renew".into(),
        fields: Default::default(),
        reason: "延续".into(),
    };
    // The superseded version cannot be changed again; the new one can.
    assert!(matches!(
        yiwang_services::licences::new_version(p, &admin, &id, renew.clone()).await,
        Err(yiwang_services::ServiceError::Conflict(_))
    ));
    let v3 = yiwang_services::licences::new_version(p, &admin, &v2, renew)
        .await
        .unwrap();
    assert!(v3.contains(".003."), "{v3}");
    assert_eq!(verify(v2.clone()).await["outcome"], "superseded");
    assert_eq!(verify(v3.clone()).await["outcome"], "valid");
    let (s, doc3) = citizen.get(&format!("/licences/{v3}/document")).await;
    assert_eq!(s, 200, "{doc3}");
    assert!(yiwang_services::licences::verify_document(&doc3.to_string(), None).is_ok());
    // The library: the issuing organisation's approver finds every version by the holder's
    // code; the window (another organisation) finds none; citizens may not search.
    let (s, rows) = approver
        .get("/licences/library?holder_code=430104199005120135")
        .await;
    assert_eq!(s, 200, "{rows}");
    let found: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for v in [&id, &v2, &v3] {
        assert!(found.contains(&v.as_str()), "{v} in {found:?}");
    }
    let (s, rows) = approver
        .get("/licences/library?holder_code=430104199005120135&status=valid")
        .await;
    assert_eq!(s, 200, "{rows}");
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let (_, rows) = window
        .get("/licences/library?holder_code=430104199005120135")
        .await;
    assert_eq!(rows, json!([]));
    let (s, v) = approver.get("/licences/library?status=lost").await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = citizen.get("/licences/library").await;
    assert_eq!(s, 403);
    // Expiry on schedule: within 30 days of its last day the holder is told once; after it the
    // sweep marks it expired and tells the holder; an expired licence is renewed, not amended.
    let today = p.now().with_timezone(&p.calendar().offset()).date_naive();
    let set_valid_to = |d: chrono::NaiveDate| {
        let v3 = v3.clone();
        async move {
            sqlx::query("UPDATE licences SET valid_to = $1 WHERE id = $2")
                .bind(d.to_string())
                .bind(v3)
                .execute(p.db.writer())
                .await
                .unwrap();
        }
    };
    let holder: String = sqlx::query_scalar("SELECT holder_user FROM licences WHERE id = $1")
        .bind(&v3)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    let told = |title: &'static str| {
        let holder = holder.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM user_messages WHERE user_id = $1 AND title = $2",
            )
            .bind(holder)
            .bind(title)
            .fetch_one(p.db.pool())
            .await
            .unwrap()
        }
    };
    set_valid_to(today + chrono::Days::new(10)).await;
    let run = yiwang_services::licences::expiry::sweep(p).await.unwrap();
    assert_eq!(run.reminded, 1, "{run:?}");
    yiwang_services::licences::expiry::sweep(p).await.unwrap();
    assert_eq!(told("电子证照即将到期").await, 1);
    set_valid_to(today - chrono::Days::new(1)).await;
    let run = yiwang_services::licences::expiry::sweep(p).await.unwrap();
    assert_eq!(run.expired, 1, "{run:?}");
    assert_eq!(told("电子证照已到期").await, 1);
    assert_eq!(verify(v3.clone()).await["outcome"], "expired");
    let (_, rows) = approver
        .get("/licences/library?holder_code=430104199005120135&status=expired")
        .await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let amend_expired = yiwang_services::licences::NewVersion {
        kind: "amend".into(),
        fields: [("employer".to_owned(), "长沙某公司".to_owned())].into(),
        reason: "更正".into(),
    };
    assert!(matches!(
        yiwang_services::licences::new_version(p, &admin, &v3, amend_expired).await,
        Err(yiwang_services::ServiceError::Conflict(_))
    ));
    let renew = yiwang_services::licences::NewVersion {
        kind: "renew".into(),
        fields: Default::default(),
        reason: "到期延续".into(),
    };
    let v4 = yiwang_services::licences::new_version(p, &admin, &v3, renew)
        .await
        .unwrap();
    assert_eq!(verify(v4.clone()).await["outcome"], "valid");
    assert_eq!(verify(v3.clone()).await["outcome"], "superseded");
    sqlx::query("UPDATE licences SET status = 'revoked', status_reason = '测试' WHERE id = $1")
        .bind(&v4)
        .execute(p.db.writer())
        .await
        .unwrap();
    let v = verify(v4.clone()).await;
    assert_eq!(v["outcome"], "revoked", "{v}");
}

#[tokio::test]
async fn licences_are_issued_verified_and_refused_when_not_authentic_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    licence(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::System).await;
        licence(&app).await;
    }
}

#[tokio::test]
async fn applications_at_once_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    at_once(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::System).await;
        at_once(&app).await;
    }
}

#[tokio::test]
async fn case_api_end_to_end_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    journey(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::System).await;
        journey(&app).await;
    }
}
