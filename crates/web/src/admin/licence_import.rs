//! 导入存量证照: administrators upload an Excel workbook of licences issued before the
//! platform (one a row, see `licences::import`) and get the report row by row on the answer
//! page: imported (with the new identifier, linked to its verification page), imported before
//! (nothing added), or rejected with every problem named by its column. A wrong row never stops
//! the others, and uploading the corrected file again adds only what was missing.
//!
//! System administrators import for any issuer, department administrators for the organisation
//! their session acts in; others get 403 (decided by the service).

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::licences::import::{self, ImportReport};

use super::chrome;
use crate::Shared;
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

#[derive(Template)]
#[template(path = "admin/licence_import.html")]
struct ImportPage {
    chrome: Chrome,
    upload_error: Option<String>,
    report: Option<ImportReport>,
    rows: Vec<ReportRow>,
}

/// A row of the report as shown.
struct ReportRow {
    row: usize,
    outcome: &'static str,
    id: Option<String>,
    problems: Vec<String>,
}

/// The column a problem is about, as the workbook heads it.
fn column(field: &str) -> &str {
    match field {
        "type_code" => "证照类型代码",
        "source_number" => "原证照编号",
        "holder_name" => "持证主体",
        "holder_code" => "持证主体代码",
        "issuer_code" => "颁证单位代码",
        "issued_on" => "颁证日期",
        "valid_from" => "有效期起",
        "valid_to" => "有效期止",
        "document" => "证照文件",
        other => other.strip_prefix("fields.").unwrap_or(other),
    }
}

fn page(session: &StaffSession, report: Option<ImportReport>) -> ImportPage {
    let lang = session.lang;
    let rows = report
        .iter()
        .flat_map(|r| &r.rows)
        .map(|r| ReportRow {
            row: r.row,
            outcome: match r.outcome.as_str() {
                "imported" => lang.t("已导入", "imported"),
                "duplicate" => lang.t("此前已导入", "imported before"),
                _ => lang.t("未导入", "rejected"),
            },
            id: r.id.clone(),
            problems: r
                .errors
                .iter()
                .map(|e| {
                    format!(
                        "{}：{}",
                        column(&e.field),
                        lang.t(&e.message_zh, &e.message_en)
                    )
                })
                .collect(),
        })
        .collect();
    ImportPage {
        chrome: chrome(session, lang.t("导入存量证照", "Import licences")),
        upload_error: None,
        report,
        rows,
    }
}

/// `GET /admin/licences/import`: the upload form (administrators who may import).
pub(crate) async fn form(session: StaffSession) -> Result<Response, PageError> {
    import::may_import(&session.staff).map_err(|e| session.err(e))?;
    Ok(html(StatusCode::OK, &page(&session, None)))
}

/// `GET /admin/licences/import/template.xlsx`.
pub(crate) async fn template(
    State(s): State<Shared>,
    session: StaffSession,
) -> Result<Response, PageError> {
    let bytes = import::template(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    Ok(super::excel::xlsx(
        bytes,
        "licence-import-template.xlsx",
        "存量证照导入模板.xlsx",
    ))
}

/// `POST /admin/licences/import`: multipart with `csrf` and `file`; the report on the answer.
pub(crate) async fn upload(
    State(s): State<Shared>,
    session: StaffSession,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let upload = super::excel::read_upload(&session, multipart).await?;
    // Those who may not import learn nothing about their file.
    import::may_import(&session.staff).map_err(|e| session.err(e))?;
    let bytes = match upload.file(session.lang) {
        Ok(b) => b,
        Err((status, msg)) => return Ok(rejected(&session, status, msg)),
    };
    let rows = match import::read_workbook(&bytes) {
        Ok(rows) if rows.is_empty() => {
            let msg = session
                .lang
                .t("工作簿中没有证照行。", "The workbook has no rows.");
            return Ok(rejected(&session, StatusCode::BAD_REQUEST, msg.into()));
        }
        Ok(rows) => rows,
        Err(yiwang_services::ServiceError::Invalid(errs)) => {
            let msg = errs
                .iter()
                .map(|e| session.lang.t(&e.message_zh, &e.message_en).to_owned())
                .collect::<Vec<_>>()
                .join(" ");
            return Ok(rejected(&session, StatusCode::UNPROCESSABLE_ENTITY, msg));
        }
        Err(e) => return Err(session.err(e)),
    };
    let report = import::import(&s.platform, &session.staff, rows)
        .await
        .map_err(|e| session.err(e))?;
    Ok(html(StatusCode::OK, &page(&session, Some(report))))
}

fn rejected(session: &StaffSession, status: StatusCode, msg: String) -> Response {
    let mut p = page(session, None);
    p.upload_error = Some(msg);
    html(status, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_workbook_columns() {
        assert_eq!(column("holder_code"), "持证主体代码");
        assert_eq!(column("fields.经营项目"), "经营项目");
    }
}
