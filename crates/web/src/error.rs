//! One error format at the edge: RFC 9457 problem documents for the API, readable pages in
//! Chinese (or English) for people.
//!
//! A user's mistake becomes a 4xx that says what to fix, naming each bad field in Chinese and
//! English; an internal fault becomes an opaque 500 and is logged in full.

use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yiwang_services::{FieldError, ServiceError};

use crate::i18n::Lang;
use crate::pages::Chrome;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary, Chinese and English.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened, in Chinese.
    pub detail: String,
    /// Every bad field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One bad field of a problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// Field name.
    pub field: String,
    /// What is wrong, in Chinese.
    pub message_zh: String,
    /// What is wrong, in English.
    pub message_en: String,
}

impl From<&FieldError> for ProblemField {
    fn from(e: &FieldError) -> Self {
        ProblemField {
            field: e.field.clone(),
            message_zh: e.message_zh.clone(),
            message_en: e.message_en.clone(),
        }
    }
}

impl Problem {
    /// The problem document of a service error.
    pub fn of(e: &ServiceError) -> Problem {
        let (status, kind, title) = classify(e);
        let mut errors: Vec<ProblemField> = Vec::new();
        let detail = match e {
            ServiceError::NotFound { what, key } => format!("{what}“{key}”不存在"),
            ServiceError::Unauthenticated => "请先登录".into(),
            ServiceError::Forbidden(m) | ServiceError::Conflict(m) => m.clone(),
            ServiceError::Invalid(fields) => {
                errors = fields.iter().map(ProblemField::from).collect();
                fields
                    .iter()
                    .map(|f| f.message_zh.as_str())
                    .collect::<Vec<_>>()
                    .join("；")
            }
            ServiceError::Transition(t) => t.message_zh(),
            ServiceError::Quality(report) => {
                errors = report
                    .failures()
                    .map(|c| ProblemField {
                        field: c.id.to_string(),
                        message_zh: c.problems.join("；"),
                        message_en: c.label_en.to_string(),
                    })
                    .collect();
                "办事指南未通过质量检查，不能提交审核".into()
            }
            ServiceError::Import(cells) => {
                errors = cells
                    .iter()
                    .map(|c| ProblemField {
                        field: format!("{}!{}{}", c.sheet, c.column, c.row),
                        message_zh: c.message.clone(),
                        message_en: format!("sheet {} row {} column {}", c.sheet, c.row, c.column),
                    })
                    .collect();
                format!("导入文件有 {} 处错误，未导入任何数据", cells.len())
            }
            ServiceError::TooManyAttempts => "尝试次数过多，请稍后再试".into(),
            ServiceError::Unavailable(m) => m.clone(),
            ServiceError::Internal(_) => "服务器内部错误，请稍后再试".into(),
        };
        Problem {
            kind: format!("/problems/{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

/// Status, problem type and title of each kind of error.
fn classify(e: &ServiceError) -> (StatusCode, &'static str, &'static str) {
    match e {
        ServiceError::NotFound { .. } => (StatusCode::NOT_FOUND, "not-found", "未找到 / Not found"),
        ServiceError::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "需要登录 / Authentication required",
        ),
        ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "无权操作 / Forbidden"),
        ServiceError::Invalid(_) => (
            StatusCode::BAD_REQUEST,
            "invalid-input",
            "输入有误 / Invalid input",
        ),
        ServiceError::Transition(_) => (
            StatusCode::CONFLICT,
            "invalid-state",
            "当前状态不允许该操作 / Not allowed in the current state",
        ),
        ServiceError::Quality(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "guide-quality",
            "办事指南质量检查未通过 / Guide quality checks failed",
        ),
        ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "操作冲突 / Conflict"),
        ServiceError::Import(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "import-rejected",
            "导入被拒绝 / Import rejected",
        ),
        ServiceError::TooManyAttempts => (
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-attempts",
            "请求过于频繁 / Too many attempts",
        ),
        ServiceError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "外部系统暂不可用 / An outside system is unavailable",
        ),
        ServiceError::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误 / Internal error",
        ),
    }
}

fn log_if_internal(e: &ServiceError) {
    if let ServiceError::Internal(msg) = e {
        tracing::error!(error = %msg, "internal error");
    }
}

/// An API error: rendered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        log_if_internal(&self.0);
        let problem = Problem::of(&self.0);
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            Json(problem),
        )
            .into_response();
        // The API authenticates with Bearer access tokens (RFC 6750 §3).
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// A page error: rendered as a readable page in the user's language.
#[derive(Debug)]
pub struct PageError {
    /// What went wrong.
    pub error: ServiceError,
    /// The page language.
    pub lang: Lang,
}

impl PageError {
    /// Wraps a service error for a page in `lang`.
    pub fn new(error: ServiceError, lang: Lang) -> Self {
        PageError { error, lang }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    problem: &'a Problem,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        log_if_internal(&self.error);
        if matches!(self.error, ServiceError::Unauthenticated) {
            return axum::response::Redirect::to("/admin/login").into_response();
        }
        let problem = Problem::of(&self.error);
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let title = problem.title.split(" / ").collect::<Vec<_>>();
        let title = match self.lang {
            Lang::Zh => title.first().copied().unwrap_or("错误"),
            Lang::En => title.get(1).copied().unwrap_or("Error"),
        };
        let page = ErrorPage {
            chrome: Chrome::new(self.lang, title),
            problem: &problem,
        };
        crate::pages::html(status, &page)
    }
}

/// The fallback for unknown paths: a page for people, a problem document under /api.
pub async fn not_found(uri: Uri, lang: Lang) -> Response {
    let err = ServiceError::NotFound {
        what: "页面",
        key: uri.path().to_string(),
    };
    if uri.path().starts_with("/api/") {
        ApiError(err).into_response()
    } else {
        PageError::new(err, lang).into_response()
    }
}
