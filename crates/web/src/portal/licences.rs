//! 电子证照验证 (`/licences/verify`): anyone enters or scans a licence identifier and sees
//! whether the licence is authentic and in force, with its issuer and fields (personal data
//! masked). Plain HTML, no JavaScript; the licence's QR code points here.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::licences::{self, Outcome, Verification};

use crate::Shared;
use crate::admin::query;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};

/// `?id=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct VerifyQuery {
    #[serde(default)]
    id: String,
}

#[derive(Template)]
#[template(path = "portal/licence_verify.html")]
struct VerifyPage {
    chrome: Chrome,
    id: String,
    result: Option<Shown>,
}

struct Shown {
    good: bool,
    label: String,
    problem: String,
    v: Verification,
}

/// `GET /licences/verify`.
pub(crate) async fn verify(
    State(s): State<Shared>,
    parts: axum::http::request::Parts,
    q: Result<Query<VerifyQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = Lang::of(&parts);
    let q = query(q, lang)?;
    let id = q.id.trim().to_owned();
    let mut page = VerifyPage {
        chrome: Chrome::new(lang, lang.t("电子证照验证", "Verify an e-licence")),
        id: id.clone(),
        result: None,
    };
    if id.is_empty() {
        return Ok(html(StatusCode::OK, &page));
    }
    let v = licences::verify(&s.platform, &id)
        .await
        .map_err(|e| PageError::new(e, lang))?;
    let status = match v.outcome {
        Outcome::Malformed => StatusCode::BAD_REQUEST,
        Outcome::Unknown => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    page.result = Some(Shown {
        good: v.outcome == Outcome::Valid,
        label: lang
            .t(v.outcome.label_zh(), v.outcome.label_en())
            .to_owned(),
        problem: v.problem.clone().unwrap_or_default(),
        v,
    });
    Ok(html(status, &page))
}
