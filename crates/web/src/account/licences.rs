//! 我的证照: the signed-in citizen's electronic licences. The list; one licence with its current
//! status and a large QR code of its verification page to show on the phone (亮证); the PDF
//! and the signed document (`yiwang-licence/1`) to download.
//!
//! | method | path | |
//! |---|---|---|
//! | GET | `/account/licences` | the list |
//! | GET | `/account/licences/{id}` | one licence, 亮证 |
//! | GET | `/account/licences/{id}/pdf` | the PDF |
//! | GET | `/account/licences/{id}/document` | the signed document (JSON) |
//! | POST | `/account/licences/{id}/shares` | `csrf`, `case_no`: 授权用证, share it with that case; 303 to the licence's page `?done=shared`; 400 (the page, the problem shown) for an unknown case number |
//! | POST | `/account/licences/{id}/shares/{case}/withdraw` | `csrf`: withdraw a share; 303 `?done=withdrawn` |

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use yiwang_services::ServiceError;
use yiwang_services::licences::{self, HeldLicence, Verification};

use super::chrome;
use crate::Shared;
use crate::admin::{AdminForm, DoneQuery, local_time, query, see_other};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::UserSession;

#[derive(Template)]
#[template(path = "account/licences.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<(HeldLicence, String)>,
}

fn status_label(lang: Lang, status: &str) -> String {
    match status {
        "valid" => lang.t("有效", "valid"),
        "expired" => lang.t("已到期", "expired"),
        "suspended" => lang.t("已暂扣", "suspended"),
        "revoked" => lang.t("已注销", "revoked"),
        "superseded" => lang.t("已变更", "superseded"),
        other => other,
    }
    .to_owned()
}

/// `GET /account/licences`.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: UserSession,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let held = licences::held_by(&s.platform, &session.user.id)
        .await
        .map_err(|e| session.err(e))?;
    let page = ListPage {
        chrome: chrome(lang, lang.t("我的证照", "My licences")),
        rows: held
            .into_iter()
            .map(|l| {
                let status = status_label(lang, &l.status);
                (l, status)
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "account/licence.html")]
struct LicencePage {
    chrome: Chrome,
    id: String,
    label: String,
    good: bool,
    v: Verification,
    /// The QR code of the verification page as inline SVG.
    qr: String,
    /// Who used it, when, why.
    uses: Vec<licences::LicenceUse>,
    /// The cases it is shared with: (case id, case number, item, shared at, withdrawn at).
    shares: Vec<(String, String, String, String, Option<String>)>,
    /// The session's CSRF token.
    csrf: String,
    /// What was just done.
    notice: Option<&'static str>,
    /// The case number typed and why it was refused.
    share_error: Option<(String, String)>,
}

/// `GET /account/licences/{id}`: the licence as anyone verifying it sees it, with its QR code.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q, session.lang)?;
    let lang = session.lang;
    let notice = match q.done.as_deref() {
        Some("shared") => Some(lang.t("已授权该办件使用本证照。", "Shared with the case.")),
        Some("withdrawn") => Some(lang.t("已撤回授权。", "The share is withdrawn.")),
        _ => None,
    };
    Ok(html(
        StatusCode::OK,
        &licence_page(&s, &session, &id, notice, None).await?,
    ))
}

async fn licence_page(
    s: &Shared,
    session: &UserSession,
    id: &str,
    notice: Option<&'static str>,
    share_error: Option<(String, String)>,
) -> Result<LicencePage, PageError> {
    let id = id.to_owned();
    let lang = session.lang;
    // Only the holder's own licences (the document read checks the holder).
    licences::document_for_holder(&s.platform, &session.user.id, &id)
        .await
        .map_err(|e| session.err(e))?;
    let v = licences::verify(&s.platform, &id)
        .await
        .map_err(|e| session.err(e))?;
    let url = format!("{}/licences/verify?id={}", s.platform.oidc.issuer(), v.id);
    let qr = qr_svg(&url).map_err(|e| session.err(e))?;
    let uses = licences::uses_for_holder(&s.platform, &session.user.id, &id)
        .await
        .map_err(|e| session.err(e))?;
    let shares = licences::shares(&s.platform, &session.user.id, &id)
        .await
        .map_err(|e| session.err(e))?
        .into_iter()
        .map(|x| {
            (
                x.case_id,
                x.case_no.unwrap_or_default(),
                x.item_name,
                local_time(&x.granted_at),
                x.withdrawn_at.as_deref().map(local_time),
            )
        })
        .collect();
    let title = v.licence.as_ref().map_or_else(
        || lang.t("我的证照", "My licence").to_owned(),
        |l| l.name.clone(),
    );
    let page = LicencePage {
        chrome: chrome(lang, &title),
        id: v.id.clone(),
        label: lang
            .t(v.outcome.label_zh(), v.outcome.label_en())
            .to_owned(),
        good: v.outcome == licences::Outcome::Valid,
        v,
        qr,
        uses,
        shares,
        csrf: session.csrf.clone(),
        notice,
        share_error,
    };
    Ok(page)
}

/// The posted share.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ShareForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    case_no: String,
}

/// `POST /account/licences/{id}/shares`: 授权用证.
pub(crate) async fn share(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<ShareForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let who = (session.user.id.as_str(), session.user.name.as_str());
    match licences::share_with_case(&s.platform, who, &id, &f.case_no).await {
        Ok(_) => Ok(see_other(&format!("/account/licences/{id}?done=shared"))),
        Err(ServiceError::Invalid(errs)) => {
            let msg = errs
                .iter()
                .map(|e| session.lang.t(&e.message_zh, &e.message_en).to_owned())
                .collect::<Vec<_>>()
                .join(" ");
            let page = licence_page(&s, &session, &id, None, Some((f.case_no, msg))).await?;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /account/licences/{id}/shares/{case}/withdraw`.
pub(crate) async fn withdraw_share(
    State(s): State<Shared>,
    session: UserSession,
    Path((id, case)): Path<(String, String)>,
    AdminForm(f): AdminForm<crate::admin::CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    licences::withdraw_share(&s.platform, &session.user.id, &id, &case)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/account/licences/{id}?done=withdrawn")))
}

/// `GET /account/licences/{id}/pdf`.
pub(crate) async fn pdf(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (name, bytes) = licences::pdf_for_holder(&s.platform, &session.user.id, &id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(crate::admin::cases::file_response(&name, "pdf", bytes))
}

/// `GET /account/licences/{id}/document`.
pub(crate) async fn document(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let doc = licences::document_for_holder(&s.platform, &session.user.id, &id)
        .await
        .map_err(|e| session.err(e))?;
    let body = serde_json::to_vec_pretty(&doc)
        .map_err(|e| session.err(ServiceError::internal(e.to_string())))?;
    let mut res = (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&crate::admin::excel::disposition(
        "licence.json",
        &format!("电子证照-{}.json", doc.seal_id),
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// A QR code as an SVG of dark squares (a quiet zone of 4 modules), scaled by CSS.
fn qr_svg(data: &str) -> Result<String, ServiceError> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ServiceError::internal(format!("QR code: {e}")))?;
    let width = code.width();
    let side = width + 8;
    let mut path = String::new();
    for (row, cells) in code.to_colors().chunks(width).enumerate() {
        for (col, c) in cells.iter().enumerate() {
            if *c == qrcode::Color::Dark {
                path.push_str(&format!("M{} {}h1v1h-1z", col + 4, row + 4));
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"证照验证二维码\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}
