//! The error type of the service layer: a user's mistake (with what to fix) or an internal fault.
//!
//! The web edge maps each variant to one HTTP status and one problem document (RFC 9457); an
//! internal fault is logged in full and shown to the user only as an opaque 500.

use yiwang_domain::item::TransitionError;
use yiwang_domain::quality::QualityReport;

/// One bad input field, named in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's machine name (form field or JSON pointer-like path).
    pub field: String,
    /// What is wrong, in Chinese.
    pub message_zh: String,
    /// What is wrong, in English.
    pub message_en: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }
}

/// One bad cell of an imported workbook.
pub use crate::catalogue::excel::CellError;

/// Errors of the use-cases.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Nothing with that key.
    #[error("not found: {what} {key}")]
    NotFound {
        /// What was looked for, in Chinese.
        what: &'static str,
        /// The key.
        key: String,
    },
    /// Not signed in.
    #[error("authentication required")]
    Unauthenticated,
    /// Signed in, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Bad input, field by field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The action is not allowed in the current state.
    #[error("{0}")]
    Transition(#[from] TransitionError),
    /// The guide fails quality checks and cannot be submitted.
    #[error("guide quality checks failed")]
    Quality(QualityReport),
    /// The action conflicts with the current data (e.g. a change already open).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An imported workbook is bad; nothing was imported.
    #[error("import rejected")]
    Import(Vec<CellError>),
    /// Too many attempts; try later.
    #[error("too many attempts")]
    TooManyAttempts,
    /// An outside system (population library, SMS gateway…) cannot be reached now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Something failed on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// An internal fault with its description (logged, never shown).
    pub fn internal(msg: impl Into<String>) -> Self {
        ServiceError::Internal(msg.into())
    }

    /// A single invalid field.
    pub fn invalid(field: &str, zh: &str, en: &str) -> Self {
        ServiceError::Invalid(vec![FieldError::new(field, zh, en)])
    }
}

impl From<yiwang_store::StoreError> for ServiceError {
    fn from(e: yiwang_store::StoreError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Internal(format!("database: {e}"))
    }
}

impl From<serde_json::Error> for ServiceError {
    fn from(e: serde_json::Error) -> Self {
        ServiceError::Internal(format!("json: {e}"))
    }
}

impl From<yiwang_search::SearchError> for ServiceError {
    fn from(e: yiwang_search::SearchError) -> Self {
        ServiceError::Internal(format!("search: {e}"))
    }
}
