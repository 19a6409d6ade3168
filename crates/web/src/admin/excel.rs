//! Excel exchange of the implementation list: export the organisation's items as an .xlsx
//! workbook, edit it in Excel or WPS, and import it back.
//!
//! An import is whole or nothing: when any cell is wrong, the page lists every problem by
//! sheet, row and column and says that nothing was imported (422).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use yiwang_services::ServiceError;
use yiwang_services::catalogue::{self, ImportSummary};
use yiwang_services::error::CellError;
use yiwang_services::identity::staff::Role;

use super::{chrome, done_notice, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// Largest workbook accepted (bytes).
pub(crate) const MAX_UPLOAD: usize = 10 * 1024 * 1024;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Percent-encodes a value for an RFC 5987 `filename*` parameter (UTF-8, attr-char kept).
fn rfc5987(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `Content-Disposition` of an export: an ASCII fallback name and the Chinese one.
fn disposition(org: &str) -> String {
    format!(
        "attachment; filename=\"items.xlsx\"; filename*=UTF-8''{}",
        rfc5987(&format!("实施清单-{org}.xlsx"))
    )
}

/// `GET /admin/items/export.xlsx`: the organisation's items, latest version of each.
pub(crate) async fn export(
    State(s): State<Shared>,
    session: StaffSession,
) -> Result<Response, PageError> {
    let bytes = catalogue::export(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let org = if session.staff.org_name.is_empty() {
        session.staff.org.clone()
    } else {
        session.staff.org_name.clone()
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition(&org)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    summary: Option<ImportSummary>,
    /// Every problem of a rejected workbook.
    errors: Vec<CellError>,
    /// A problem with the upload itself (no file, too large).
    upload_error: Option<String>,
}

/// The result of an import, carried in the redirect's query.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ImportQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    created: Option<usize>,
    #[serde(default)]
    changed: Option<usize>,
    #[serde(default)]
    unchanged: Option<usize>,
}

/// `GET /admin/items/import`: the upload form, and after an import its counts.
pub(crate) async fn form(
    session: StaffSession,
    q: Result<Query<ImportQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    // The upload form is for those who may import (as `catalogue::import` decides).
    session
        .staff
        .require(Role::ItemManager)
        .map_err(|e| session.err(e))?;
    let q = super::query(q, lang)?;
    let summary = (q.done.as_deref() == Some("imported")).then(|| ImportSummary {
        created: q.created.unwrap_or(0),
        changed: q.changed.unwrap_or(0),
        unchanged: q.unchanged.unwrap_or(0),
    });
    let page = ImportPage {
        chrome: chrome(&session, lang.t("导入Excel", "Import Excel")),
        notice: done_notice(lang, q.done.as_deref()),
        summary,
        errors: Vec::new(),
        upload_error: None,
    };
    Ok(html(StatusCode::OK, &page))
}

fn upload_error(session: &StaffSession, status: StatusCode, msg: String) -> Response {
    let page = ImportPage {
        chrome: chrome(session, session.lang.t("导入Excel", "Import Excel")),
        notice: None,
        summary: None,
        errors: Vec::new(),
        upload_error: Some(msg),
    };
    html(status, &page)
}

/// `POST /admin/items/import`: multipart with `csrf` and `file`.
pub(crate) async fn import(
    State(s): State<Shared>,
    session: StaffSession,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let bad_form = |detail: String| {
        session.err(ServiceError::invalid(
            "file",
            &format!("上传的表单无法读取：{detail}"),
            "the upload could not be read",
        ))
    };
    let mut multipart = multipart.map_err(|e| bad_form(e.to_string()))?;
    let mut csrf = String::new();
    let mut file: Option<Vec<u8>> = None;
    let mut too_large = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                // A body over the route's limit ends here too.
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large = true;
                    break;
                }
                return Err(bad_form(e.body_text()));
            }
        };
        match field.name() {
            Some("csrf") => {
                csrf = field.text().await.map_err(|e| bad_form(e.body_text()))?;
            }
            Some("file") => {
                let mut field = field;
                let mut buf = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            if buf.len() + c.len() > MAX_UPLOAD {
                                too_large = true;
                                break;
                            }
                            buf.extend_from_slice(&c);
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            too_large = true;
                            break;
                        }
                        Err(e) => return Err(bad_form(e.body_text())),
                    }
                }
                if too_large {
                    break;
                }
                file = Some(buf);
            }
            _ => {}
        }
    }
    session.check_csrf(&csrf)?;
    if too_large {
        return Ok(upload_error(
            &session,
            StatusCode::PAYLOAD_TOO_LARGE,
            lang.t(
                "文件超过10 MB，未导入任何数据。",
                "The file is larger than 10 MB. Nothing was imported.",
            )
            .into(),
        ));
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return Ok(upload_error(
            &session,
            StatusCode::BAD_REQUEST,
            lang.t(
                "请选择要导入的 Excel 文件（.xlsx）。",
                "Choose an Excel file (.xlsx) to import.",
            )
            .into(),
        ));
    };
    match catalogue::import(&s.platform, &session.staff, &bytes).await {
        Ok(sum) => Ok(see_other(&format!(
            "/admin/items/import?done=imported&created={}&changed={}&unchanged={}",
            sum.created, sum.changed, sum.unchanged
        ))),
        Err(ServiceError::Import(errors)) => {
            let page = ImportPage {
                chrome: chrome(&session, lang.t("导入Excel", "Import Excel")),
                notice: None,
                summary: None,
                errors,
                upload_error: None,
            };
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_are_rfc5987_encoded() {
        let d = disposition("长沙市市场监督管理局");
        assert!(d.starts_with("attachment; filename=\"items.xlsx\"; filename*=UTF-8''"));
        assert!(d.contains("%E5%AE%9E%E6%96%BD%E6%B8%85%E5%8D%95-"));
        assert!(d.ends_with(".xlsx"));
        assert!(d.is_ascii());
        assert_eq!(rfc5987("a b/c"), "a%20b%2Fc");
    }
}
