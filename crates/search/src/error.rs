//! The crate's one error type. It separates the caller's mistakes (a query or document that
//! cannot be served: the edge answers 4xx) from internal failures of the index (5xx, logged).

use std::error::Error as StdError;

/// An error of the search engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The query cannot be served as asked (too long, page too deep, limit out of range…).
    /// The message says what to change; it is safe to show to the user.
    #[error("invalid search query: {0}")]
    InvalidQuery(String),
    /// A document handed to the index is not acceptable (e.g. an empty code).
    #[error("invalid search document: {0}")]
    InvalidDocument(String),
    /// The index failed (I/O, corruption, a poisoned lock, the dictionary not loading).
    /// Not the caller's fault; the message is for the log, not for the user.
    #[error("search index failure: {0}")]
    Internal(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl SearchError {
    /// True when the caller (ultimately the user) caused the error, false for internal faults.
    pub fn is_user_error(&self) -> bool {
        matches!(self, Self::InvalidQuery(_) | Self::InvalidDocument(_))
    }

    pub(crate) fn internal_msg(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for SearchError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<std::io::Error> for SearchError {
    fn from(e: std::io::Error) -> Self {
        Self::Internal(Box::new(e))
    }
}
