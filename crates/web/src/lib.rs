//! The web edge of Yiwang: the portal (门户), the management pages (管理平台), the REST API
//! under `/api/v1` with its OpenAPI document, the OpenID Connect provider (`/oidc/*`, see
//! [`oidc`]), and the problem-document format for errors.
//!
//! Handlers are thin: they parse input into domain types, call one service function, and render
//! a page (askama, compile-time checked) or JSON. Pages work without JavaScript, default to
//! Simplified Chinese (`?lang=en` switches to English and is remembered in a cookie), and every
//! management page checks the session, the role and, on POST, the CSRF token.

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod error;
pub mod i18n;
pub mod oidc;
pub mod pages;
pub mod portal;
pub mod query;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use yiwang_services::Platform;

pub use error::{ApiError, PageError, Problem};
pub use i18n::Lang;

/// Settings of the web edge.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
    /// Largest request body accepted (bytes), e.g. for Excel uploads.
    pub max_body_bytes: usize,
    /// The public base URL of the platform (no trailing slash): the OpenID Connect issuer and
    /// the base of its endpoints.
    pub public_url: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            max_body_bytes: 16 * 1024 * 1024,
            public_url: yiwang_services::identity::oidc::DEFAULT_ISSUER.to_owned(),
        }
    }
}

/// State shared by every handler.
pub struct AppState {
    /// The platform's use-cases.
    pub platform: Arc<Platform>,
    /// Rendered guide pages.
    pub pages: pages::PageCache,
    /// Settings.
    pub config: WebConfig,
    /// Sign-in attempts per client address.
    pub limiter: session::RateLimiter,
    /// Citizens' sign-in attempts and SMS-code requests per client address (apart from the
    /// staff's, so that neither can use up the other's allowance).
    pub account_limiter: session::RateLimiter,
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

/// Builds the whole application router.
pub fn router(platform: Arc<Platform>, config: WebConfig) -> Router {
    let max_body = config.max_body_bytes;
    platform.oidc.set_issuer(&config.public_url);
    let state = Arc::new(AppState {
        platform,
        pages: pages::PageCache::new(20_000),
        config,
        limiter: session::RateLimiter::new(10, Duration::from_secs(60)),
        account_limiter: session::RateLimiter::new(10, Duration::from_secs(60)),
    });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/lang/{code}", get(i18n::switch))
        .merge(assets::routes())
        .merge(portal::routes())
        .merge(admin::routes())
        .merge(account::routes())
        .merge(oidc::routes())
        .nest("/api/v1", api::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            account::header,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .with_state(state)
}

/// Liveness and readiness: answers once the platform is open.
async fn healthz() -> &'static str {
    "ok"
}
