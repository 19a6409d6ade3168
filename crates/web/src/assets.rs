//! Static assets, compiled into the binary and served with long cache lifetimes: the style
//! sheet (responsive, print-friendly), the board's small script (`board.js`: no page needs it;
//! the Content-Security-Policy allows scripts from this origin only), the chart script and the
//! platform's own copy of ECharts 5.6.0 (the "common" build, Apache-2.0, licence in
//! `assets/vendor/ECHARTS-LICENSE`), gzipped for browsers that accept it — nothing from a CDN.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::Shared;

const APP_CSS: &str = include_str!("../assets/app.css");
const BOARD_JS: &str = include_str!("../assets/board.js");
const CHARTS_JS: &str = include_str!("../assets/charts.js");
const ECHARTS_JS: &str = include_str!("../assets/vendor/echarts-5.6.0.common.min.js");

/// Routes of the static assets.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/static/app.css", get(css))
        .route(
            "/static/board.js",
            get(|| async { script(BOARD_JS, "public, max-age=3600") }),
        )
        .route(
            "/static/charts.js",
            get(|| async { script(CHARTS_JS, "public, max-age=3600") }),
        )
        .route(
            "/static/echarts-5.6.0.min.js",
            get(|| async { script(ECHARTS_JS, "public, max-age=31536000, immutable") }),
        )
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
}

fn script(body: &'static str, cache: &'static str) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
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
