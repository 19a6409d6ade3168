//! Static assets, compiled into the binary and served with long cache lifetimes: the style
//! sheet (responsive, print-friendly) and nothing from a CDN.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::Shared;

const APP_CSS: &str = include_str!("../assets/app.css");

/// Routes of the static assets.
pub fn routes() -> Router<Shared> {
    Router::new().route("/static/app.css", get(css))
}

async fn css() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        APP_CSS,
    )
}
