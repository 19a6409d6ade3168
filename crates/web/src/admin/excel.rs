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

/// The `Content-Disposition` of a download: an ASCII fallback name and the Chinese one.
pub(crate) fn disposition(ascii: &str, chinese: &str) -> String {
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        rfc5987(chinese)
    )
}

/// A workbook download (never cached: it holds the organisation's data).
pub(crate) fn xlsx(bytes: Vec<u8>, ascii: &str, chinese: &str) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition(ascii, chinese)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// What an upload form (`csrf` and `file`, multipart) brought.
pub(crate) enum Upload {
    /// The file's bytes.
    File(Vec<u8>),
    /// Over [`MAX_UPLOAD`]; nothing kept.
    TooLarge,
    /// No file, or an empty one.
    Missing,
}

impl Upload {
    /// The file, or the page's status and message for an upload that cannot be imported.
    pub(crate) fn file(self, lang: crate::i18n::Lang) -> Result<Vec<u8>, (StatusCode, String)> {
        match self {
            Upload::File(b) => Ok(b),
            Upload::TooLarge => Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                lang.t(
                    "文件超过10 MB，未导入任何数据。",
                    "The file is larger than 10 MB. Nothing was imported.",
                )
                .into(),
            )),
            Upload::Missing => Err((
                StatusCode::BAD_REQUEST,
                lang.t(
                    "请选择要导入的 Excel 文件（.xlsx）。",
                    "Choose an Excel file (.xlsx) to import.",
                )
                .into(),
            )),
        }
    }
}

/// Reads an upload form and checks its CSRF token (a forged form is refused before anything
/// else is looked at); the file is read in chunks up to [`MAX_UPLOAD`].
pub(crate) async fn read_upload(
    session: &StaffSession,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Upload, PageError> {
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
    'fields: loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // A body over the route's limit ends here too.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                too_large = true;
                break;
            }
            Err(e) => return Err(bad_form(e.body_text())),
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|e| bad_form(e.body_text()))?,
            Some("file") => {
                let mut field = field;
                let mut buf = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) if buf.len() + c.len() > MAX_UPLOAD => {
                            too_large = true;
                            break 'fields;
                        }
                        Ok(Some(c)) => buf.extend_from_slice(&c),
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            too_large = true;
                            break 'fields;
                        }
                        Err(e) => return Err(bad_form(e.body_text())),
                    }
                }
                file = Some(buf);
            }
            _ => {}
        }
    }
    session.check_csrf(&csrf)?;
    Ok(if too_large {
        Upload::TooLarge
    } else {
        match file {
            Some(b) if !b.is_empty() => Upload::File(b),
            _ => Upload::Missing,
        }
    })
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
    Ok(xlsx(bytes, "items.xlsx", &format!("实施清单-{org}.xlsx")))
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
    let bytes = match read_upload(&session, multipart).await?.file(lang) {
        Ok(b) => b,
        Err((status, msg)) => return Ok(upload_error(&session, status, msg)),
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
        let d = disposition("items.xlsx", "实施清单-长沙市市场监督管理局.xlsx");
        assert!(d.starts_with("attachment; filename=\"items.xlsx\"; filename*=UTF-8''"));
        assert!(d.contains("%E5%AE%9E%E6%96%BD%E6%B8%85%E5%8D%95-"));
        assert!(d.ends_with(".xlsx"));
        assert!(d.is_ascii());
        assert_eq!(rfc5987("a b/c"), "a%20b%2Fc");
    }
}
