//! Load client for the case API: full case lifecycles per second through HTTP against a
//! running server, with the latency of each call. Run by `scripts/bench/case_api.sh`, which
//! starts the server (release build, demo province, SQLite or PostgreSQL) and registers the
//! OIDC client this program signs in with.
//!
//! One lifecycle of 失业保险金申领 (岳麓区), the issue's: submit with the files → accept →
//! three approval steps → complete. Two ways (`--flow`):
//!
//! - `once` (the default; 7 calls), as an app or a department system does it: the citizen
//!   applies at once (`POST /applications`: the form and one small PDF per required material in
//!   one multipart request, with an Idempotency-Key); the window accepts; the approver finds the
//!   case's task (`GET /tasks?case_id=`) and completes the three steps (承办, 审核, 批准; the
//!   amount keeps the countersign branch out), each answer naming the next; the window records
//!   the delivery.
//! - `stepwise` (20 calls), as the pages do it: start a draft, save the form, upload each file,
//!   submit; accept; for each step the inbox, claim, complete; read the case; deliver.
//!
//! ```text
//! case_api_load --base http://127.0.0.1:8080 --client-id ID --client-secret SECRET \
//!     [--flow once|stepwise] [--seconds 10] [--concurrency 16] [--json]
//! ```
//!
//! Accounts are the demo's (password `Yiwang@2026`): citizen 13800000002, `yl.window`,
//! `yl.rsj.approver`; each signs in once through the pages and gets an access token with the
//! `cases` scope through the authorization code flow with PKCE.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

const PASSWORD: &str = "Yiwang@2026";
const CB: &str = "http://127.0.0.1:9/cb";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

struct Args {
    base: String,
    client_id: String,
    client_secret: String,
    seconds: u64,
    concurrency: usize,
    json: bool,
    stepwise: bool,
}

fn args() -> Args {
    let mut a = Args {
        base: "http://127.0.0.1:8080".into(),
        client_id: String::new(),
        client_secret: String::new(),
        seconds: 10,
        concurrency: 16,
        json: false,
        stepwise: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--base" => a.base = v(),
            "--client-id" => a.client_id = v(),
            "--client-secret" => a.client_secret = v(),
            "--seconds" => a.seconds = v().parse().expect("--seconds N"),
            "--concurrency" => a.concurrency = v().parse().expect("--concurrency N"),
            "--json" => a.json = true,
            "--flow" => {
                a.stepwise = match v().as_str() {
                    "once" => false,
                    "stepwise" => true,
                    f => panic!("--flow once|stepwise, not {f}"),
                }
            }
            _ => panic!("unknown argument {k}"),
        }
    }
    assert!(!a.client_id.is_empty(), "--client-id is required");
    a
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn csrf_of(page: &str) -> String {
    let key = "name=\"csrf\" value=\"";
    let at = page.find(key).expect("a csrf field") + key.len();
    page[at..].split('"').next().unwrap().to_owned()
}

/// Signs in through the pages and returns an access token with the `cases` scope.
async fn token(a: &Args, staff: bool, account: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let (page, field) = if staff {
        ("/admin/login", "username")
    } else {
        ("/account/login", "account")
    };
    let form = http
        .get(format!("{}{page}", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(format!("{}{page}", a.base))
        .form(&[
            ("csrf", csrf_of(&form).as_str()),
            (field, account),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-in of {account}");
    let verifier = "load-client-verifier-load-client-verifier-0123456789";
    let challenge = {
        use base64ct::{Base64UrlUnpadded, Encoding};
        use sha2::{Digest, Sha256};
        Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
    };
    let r = http
        .get(format!(
            "{}/oidc/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20cases&state=s&code_challenge={challenge}&code_challenge_method=S256",
            a.base,
            a.client_id,
            urlencode(CB)
        ))
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let code = loc
        .split_once("code=")
        .unwrap_or_else(|| panic!("no code in {loc}"))
        .1
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let t: Value = http
        .post(format!("{}/oidc/token", a.base))
        .basic_auth(&a.client_id, Some(&a.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {t}"))
        .to_owned()
}

/// Latencies (µs) per call name.
type Latencies = Arc<Mutex<BTreeMap<&'static str, Vec<u32>>>>;

struct Ctx {
    base: String,
    http: reqwest::Client,
    citizen: String,
    window: String,
    approver: String,
    item: String,
    slots: Vec<usize>,
    stepwise: bool,
    lat: Latencies,
}

/// One worker: the shared context and its own latencies.
struct Worker {
    ctx: Arc<Ctx>,
    local: BTreeMap<&'static str, Vec<u32>>,
}

impl std::ops::Deref for Worker {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl Worker {
    async fn call(
        &mut self,
        name: &'static str,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        extra: Option<(&str, &str)>,
    ) -> Value {
        let t0 = Instant::now();
        let mut r = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        if let Some((k, v)) = extra {
            r = r.header(k, v);
        }
        let r = r.send().await.expect("the server answers");
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
        self.local.entry(name).or_default().push(us);
        assert!(status.is_success(), "{name} {path}: {status} {v}");
        v
    }

    async fn lifecycle(&mut self, n: u64) {
        if self.stepwise {
            self.stepwise(n).await;
        } else {
            self.once(n).await;
        }
    }

    /// The window accepts case `id` at `rev`.
    async fn accept(&mut self, id: &str, rev: &Value) {
        let window = self.ctx.window.clone();
        self.call(
            "accept (window)",
            &window,
            reqwest::Method::POST,
            &format!("/cases/{id}/accept"),
            Some(json!({ "rev": rev })),
            None,
        )
        .await;
    }

    /// The approver completes task `tid` as approved; returns the answer.
    async fn approve(&mut self, tid: &str) -> Value {
        let approver = self.ctx.approver.clone();
        self.call(
            "complete",
            &approver,
            reqwest::Method::POST,
            &format!("/tasks/{tid}/complete"),
            Some(json!({ "outcome": "approve", "opinion": "同意" })),
            None,
        )
        .await
    }

    /// The lifecycle in 7 calls (see the module docs).
    async fn once(&mut self, n: u64) {
        use reqwest::Method;
        let ctx = self.ctx.clone();
        let boundary = "yiwang-load-boundary-7d1f";
        let mut body = Vec::new();
        let application = json!({ "item_code": ctx.item, "values": {
            "employer": "长沙某科技有限公司", "ended_on": "2026-10-31",
            "reason": "contract_end", "amount": 800 } });
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"application\"\r\n\
                 Content-Type: application/json\r\n\r\n{application}\r\n"
            )
            .as_bytes(),
        );
        for slot in &ctx.slots {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"material.{slot}\"; \
                     filename=\"m.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(PDF);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let key = format!("load-{}-{n}", std::process::id());
        let t0 = Instant::now();
        let r = self
            .http
            .post(format!("{}/api/v1/applications", ctx.base))
            .bearer_auth(&ctx.citizen)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("idempotency-key", &key)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = r.status();
        let c: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "apply at once: {c}");
        self.local
            .entry("apply at once")
            .or_default()
            .push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
        let id = c["id"].as_str().unwrap().to_owned();
        self.accept(&id, &c["rev"]).await;
        let mut next = self
            .call(
                "case's tasks",
                &ctx.approver,
                Method::GET,
                &format!("/tasks?case_id={id}"),
                None,
                None,
            )
            .await;
        let mut steps = 0;
        while let Some(t) = next.as_array().and_then(|a| a.first()) {
            let tid = t["id"].as_str().unwrap().to_owned();
            let done = self.approve(&tid).await;
            next = done["next"].clone();
            steps += 1;
        }
        assert_eq!(steps, 3, "three approval steps");
        self.call(
            "deliver (window)",
            &ctx.window,
            Method::POST,
            &format!("/cases/{id}/deliver"),
            Some(json!({ "method": "window" })),
            None,
        )
        .await;
    }

    /// The lifecycle in 20 calls, as the pages do it (see the module docs).
    async fn stepwise(&mut self, n: u64) {
        use reqwest::Method;
        let ctx = self.ctx.clone();
        let c = self
            .call(
                "start draft",
                &ctx.citizen,
                Method::POST,
                "/cases",
                Some(json!({ "item_code": ctx.item })),
                None,
            )
            .await;
        let id = c["id"].as_str().unwrap().to_owned();
        self.call(
            "save form",
            &ctx.citizen,
            Method::PUT,
            &format!("/cases/{id}/form"),
            Some(
                json!({ "values": { "employer": "长沙某科技有限公司", "ended_on": "2026-10-31",
                                     "reason": "contract_end", "amount": 800 } }),
            ),
            None,
        )
        .await;
        for slot in &ctx.slots {
            let t0 = Instant::now();
            let r = self
                .http
                .put(format!(
                    "{}/api/v1/cases/{id}/materials/{slot}?name=m.pdf",
                    ctx.base
                ))
                .bearer_auth(&ctx.citizen)
                .body(PDF)
                .send()
                .await
                .expect("the server answers");
            assert_eq!(r.status(), 201, "upload");
            let _ = r.bytes().await;
            self.local
                .entry("upload file")
                .or_default()
                .push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
        }
        // Unique across runs against one database: a key is the applicant's, whatever the case.
        let key = format!("load-{}-{n}", std::process::id());
        let c = self
            .call(
                "submit",
                &ctx.citizen,
                Method::POST,
                &format!("/cases/{id}/submit"),
                Some(json!({})),
                Some(("idempotency-key", &key)),
            )
            .await;
        self.accept(&id, &c["rev"]).await;
        let mut steps = 0;
        loop {
            let tasks = self
                .call("inbox", &ctx.approver, Method::GET, "/tasks", None, None)
                .await;
            let Some(t) = tasks
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["case_id"] == id.as_str() && t["assignee"].is_null())
            else {
                break;
            };
            let tid = t["id"].as_str().unwrap().to_owned();
            self.call(
                "claim",
                &ctx.approver,
                Method::POST,
                &format!("/tasks/{tid}/claim"),
                Some(json!({})),
                None,
            )
            .await;
            self.approve(&tid).await;
            steps += 1;
        }
        assert_eq!(steps, 3, "three approval steps");
        let c = self
            .call(
                "read case",
                &ctx.citizen,
                Method::GET,
                &format!("/cases/{id}"),
                None,
                None,
            )
            .await;
        assert_eq!(c["state"], "approved", "decided when the process ended");
        self.call(
            "deliver (window)",
            &ctx.window,
            Method::POST,
            &format!("/cases/{id}/deliver"),
            Some(json!({ "rev": c["rev"], "method": "window" })),
            None,
        )
        .await;
    }
}

fn pct(v: &[u32], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    f64::from(v[i]) / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = args();
    let citizen = token(&a, false, "13800000002").await;
    let window = token(&a, true, "yl.window").await;
    let approver = token(&a, true, "yl.rsj.approver").await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency * 2)
        .build()
        .unwrap();
    // The item: 失业保险金申领 of 岳麓区, and its required materials.
    let list: Value = http
        .get(format!(
            "{}/api/v1/items?q={}&per_page=50",
            a.base,
            urlencode("失业保险金申领")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["name"] == "失业保险金申领"
                && i["organisation"]["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("岳麓"))
        })
        .expect("the demo's 失业保险金申领 of 岳麓区")["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail: Value = http
        .get(format!("{}/api/v1/items/{item}", a.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slots: Vec<usize> = detail["materials"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, m)| m["required"] == true && m["condition"].is_null())
        .map(|(i, _)| i)
        .collect();
    let ctx = Arc::new(Ctx {
        base: a.base.clone(),
        http,
        citizen,
        window,
        approver,
        item,
        slots,
        stepwise: a.stepwise,
        lat: Arc::default(),
    });

    // One lifecycle to warm up (and to fail early).
    Worker {
        ctx: ctx.clone(),
        local: BTreeMap::new(),
    }
    .lifecycle(0)
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let seq = Arc::new(AtomicU64::new(1));
    let t0 = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..a.concurrency {
        let (ctx, stop, done, seq) = (ctx.clone(), stop.clone(), done.clone(), seq.clone());
        workers.push(tokio::spawn(async move {
            let mut w = Worker {
                ctx: ctx.clone(),
                local: BTreeMap::new(),
            };
            while !stop.load(Ordering::Relaxed) {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                w.lifecycle(n).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
            let mut all = ctx.lat.lock().await;
            for (k, v) in w.local {
                all.entry(k).or_default().extend(v);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(a.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let finished = done.load(Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    for w in workers {
        w.await.expect("a worker");
    }
    let per_second = finished as f64 / elapsed;
    let mut lat = ctx.lat.lock().await;
    let mut calls = serde_json::Map::new();
    let mut total_calls = 0usize;
    for (k, v) in lat.iter_mut() {
        v.sort_unstable();
        total_calls += v.len();
        calls.insert(
            (*k).to_owned(),
            json!({ "n": v.len(), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99) }),
        );
    }
    if a.json {
        println!(
            "{}",
            json!({ "concurrency": a.concurrency, "seconds": elapsed, "lifecycles": finished,
                    "per_second": per_second, "calls_per_second": total_calls as f64 / elapsed,
                    "calls": calls })
        );
    } else {
        println!(
            "{finished} lifecycles in {elapsed:.1} s at {} workers: {per_second:.1} lifecycles/s, {:.0} calls/s",
            a.concurrency,
            total_calls as f64 / elapsed
        );
        for (k, v) in calls {
            println!(
                "  {k:<18} n {:>7}  p50 {:>8.2} ms  p99 {:>8.2} ms",
                v["n"], v["p50_ms"], v["p99_ms"]
            );
        }
    }
}
