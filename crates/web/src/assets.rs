//! Static assets, compiled into the binary and served with long cache lifetimes: the style
//! sheet (responsive, print-friendly), the board's small script (`board.js`: no page needs
//! it; the Content-Security-Policy allows scripts from this origin only) and nothing from a
//! CDN.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::Shared;

const APP_CSS: &str = include_str!("../assets/app.css");
const BOARD_JS: &str = include_str!("../assets/board.js");

/// Routes of the static assets.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/static/app.css", get(css))
        .route("/static/board.js", get(board_js))
}

async fn board_js() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        BOARD_JS,
    )
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
