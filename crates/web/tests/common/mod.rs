//! The harness the HTTP integration tests share: the app spawned on port 0 with its own
//! database (SQLite in a temporary folder, or a fresh PostgreSQL database when the test script
//! provides `YIWANG_TEST_PG_URL`), migrated, with the demo province loaded; and a browser with
//! its own cookie jar that signs staff and citizens in through the real forms.
//!
//! Each test file takes it with `mod common;` and uses what it needs; what only one file needs
//! (uploads, page probes) stays in that file as its own `impl` on these types.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use yiwang_services::{Clock, FixedClock, Platform, SimulatedClock, SystemClock, demo};
use yiwang_store::Db;
use yiwang_web::WebConfig;

/// A folder removed when the app that uses it is dropped.
pub struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL server the test script provides, if any; with `YIWANG_TEST_REQUIRE_PG=1`
/// its absence is a failure rather than a skip.
pub fn pg_url() -> Option<String> {
    match std::env::var("YIWANG_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("YIWANG_TEST_REQUIRE_PG").as_deref() != Ok("1"),
                "YIWANG_TEST_REQUIRE_PG=1 but YIWANG_TEST_PG_URL is not set"
            );
            None
        }
    }
}

/// Where the spawned app keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A new SQLite data folder under the temporary directory.
    Sqlite,
    /// A new database on the server of [`pg_url`].
    Postgres,
}

/// The clock the platform runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    /// The system clock.
    System,
    /// A [`FixedClock`] set to now, which the test may move ([`App::clock`]).
    Fixed,
    /// A [`SimulatedClock`], as `serve --simulated-clock` runs: system administrators move it
    /// forward through the platform.
    Simulated,
}

/// A running app.
pub struct App {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub platform: Arc<Platform>,
    clock: Option<Arc<FixedClock>>,
    _dir: Option<TempDir>,
}

/// Spawns the app with the default web configuration.
pub async fn spawn(backend: Backend, time: Time) -> App {
    spawn_with(backend, time, |_| WebConfig::default()).await
}

/// Spawns the app with the web configuration `config` makes from the app's base URL.
pub async fn spawn_with(
    backend: Backend,
    time: Time,
    config: impl FnOnce(&str) -> WebConfig,
) -> App {
    let name = format!("yiwang_t_{}", uuid::Uuid::new_v4().simple());
    let (db, dir) = match backend {
        Backend::Postgres => {
            let url = pg_url().expect("PostgreSQL");
            let admin = Db::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(admin.pool())
                .await
                .unwrap();
            admin.close().await;
            let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
            (Db::connect(&format!("{base}/{name}")).await.unwrap(), None)
        }
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(&name);
            std::fs::create_dir_all(&dir).unwrap();
            (Db::open_data_dir(&dir).await.unwrap(), Some(TempDir(dir)))
        }
    };
    db.migrate().await.unwrap();
    let (clock, platform_clock): (_, Arc<dyn Clock>) = match time {
        Time::System => (None, Arc::new(SystemClock)),
        Time::Fixed => {
            let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
            (Some(clock.clone()), clock)
        }
        Time::Simulated => (None, Arc::new(SimulatedClock::new())),
    };
    let platform: Arc<Platform> = Platform::open(db, platform_clock).await.unwrap();
    demo::load(&platform).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let app = yiwang_web::router(platform.clone(), config(&base));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    App {
        base,
        platform,
        clock,
        _dir: dir,
    }
}

/// An HTTP client that keeps cookies and follows no redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

impl App {
    /// The fixed clock the app was spawned with ([`Time::Fixed`]).
    pub fn clock(&self) -> &FixedClock {
        self.clock
            .as_deref()
            .expect("the app runs on a fixed clock")
    }

    /// A new browser: its own cookie jar, no automatic redirects.
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            http: client(),
        }
    }

    /// The current TOTP code for a base32 `secret` at the platform's clock (fixed or
    /// simulated).
    pub fn totp_code(&self, secret: &str) -> String {
        let bytes = yiwang_crypto::totp::from_base32(secret).unwrap();
        let step = yiwang_crypto::totp::step_of(self.platform.now().timestamp());
        format!("{:06}", yiwang_crypto::totp::code_at(&bytes, step))
    }
}

/// Status, `Location` and body of a response.
pub struct Page {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl Page {
    pub async fn of(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = r.bytes().await.unwrap();
        Page {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let key = "name=\"csrf\" value=\"";
        let at = self.body.find(key).expect("a csrf field") + key.len();
        self.body[at..].split('"').next().unwrap().to_string()
    }

    /// The TOTP enrolment secret the page shows.
    pub fn totp_secret(&self) -> String {
        let key = "id=\"totp-secret\">";
        let at = self.body.find(key).expect("an enrolment secret") + key.len();
        self.body[at..].split('<').next().unwrap().to_string()
    }
}

/// A browser: its own cookie jar, no automatic redirects.
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(self.http.post(format!("{}{path}", self.base)).form(form))
            .await
    }

    /// A form post with owned fields.
    pub async fn post_fields(&self, path: &str, form: &[(String, String)]) -> Page {
        self.send(self.http.post(format!("{}{path}", self.base)).form(form))
            .await
    }

    /// A `multipart/form-data` post of a body already split by `boundary`.
    pub async fn post_multipart(
        &self,
        path: &str,
        boundary: &str,
        body: impl Into<reqwest::Body>,
    ) -> Page {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        Page::of(request.send().await.unwrap()).await
    }

    /// An access token for this browser's signed-in subject, through the authorization code
    /// flow with PKCE of a client registered with `redirect_uri` and `scope`.
    pub async fn access_token(
        &self,
        client: (&str, &str),
        redirect_uri: &str,
        scope: &str,
    ) -> String {
        use base64ct::{Base64UrlUnpadded, Encoding};
        use sha2::{Digest, Sha256};
        let verifier = "verifier-verifier-verifier-verifier-verifier-4567";
        let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
        let enc = yiwang_services::identity::oidc::urlencode;
        let r = self
            .get(&format!(
                "/oidc/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}\
                 &state=s&code_challenge={challenge}&code_challenge_method=S256",
                client.0,
                enc(redirect_uri),
                enc(scope)
            ))
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let code = r
            .location
            .split_once("code=")
            .expect("a code")
            .1
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        let t: serde_json::Value = self
            .http
            .post(format!("{}/oidc/token", self.base))
            .basic_auth(client.0, Some(client.1))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri),
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
            .expect("an access token")
            .to_owned()
    }

    /// Signs a demo staff member in through the form; returns where the sign-in leads.
    pub async fn staff_sign_in(&self, username: &str) -> String {
        let form = self.get("/admin/login").await;
        let r = self
            .post(
                "/admin/login",
                &[
                    ("csrf", &form.csrf()),
                    ("username", username),
                    ("password", demo::DEMO_PASSWORD),
                    ("next", "/admin"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{username}: {}", r.body);
        r.location
    }

    /// Passes (enrolling first when needed) the TOTP step of a signed-in administrator.
    pub async fn pass_totp(&self, app: &App) {
        let page = self.get("/admin/totp?next=/admin").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let code = app.totp_code(&page.totp_secret());
        let ok = self
            .post(
                "/admin/totp",
                &[("csrf", &page.csrf()), ("code", &code), ("next", "/admin")],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
    }

    /// Signs a demo citizen in with phone and the demo password; returns where it leads.
    pub async fn citizen_sign_in(&self, phone: &str, next: &str) -> String {
        let form = self.get("/account/login").await;
        let r = self
            .post(
                "/account/login",
                &[
                    ("csrf", &form.csrf()),
                    ("account", phone),
                    ("password", demo::DEMO_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{phone}: {}", r.body);
        r.location
    }
}
