//! The one error type of the connectors.
//!
//! The variants answer the caller's real question — what to do next: retry later
//! ([`ConnectorError::Unavailable`]), tell an operator ([`ConnectorError::NotConfigured`],
//! [`ConnectorError::BadAnswer`], [`ConnectorError::NotFound`] for a file the database
//! names), or tell the user ([`ConnectorError::InvalidInput`],
//! [`ConnectorError::Rejected`]).

/// A failure talking to an outside system, or a request that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The connector, channel or provider is not configured, or its configuration is invalid
    /// (including credentials the other system refuses).
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// The other system could not be reached, timed out or reported a failure of its own
    /// (HTTP 5xx, an SMTP transient error). Trying again later may succeed.
    #[error("{system} is unavailable: {message}")]
    Unavailable {
        /// Which system, e.g. `population library`, `SMTP server`.
        system: &'static str,
        /// What happened, for the log.
        message: String,
    },
    /// The other system answered, but with something that is not the protocol (an unexpected
    /// status, a body that does not parse, a record for a different key).
    #[error("{system} answered garbage: {message}")]
    BadAnswer {
        /// Which system.
        system: &'static str,
        /// What was wrong with the answer.
        message: String,
    },
    /// The other system understood the request and refused it (an SMS gateway's 4xx, an SMTP
    /// server's permanent rejection of a recipient). Repeating it will not help.
    #[error("{system} refused the request: {message}")]
    Rejected {
        /// Which system.
        system: &'static str,
        /// The refusal.
        message: String,
    },
    /// The other system has nothing under this key (an object missing from the object store).
    #[error("{system} has no {key}")]
    NotFound {
        /// Which system.
        system: &'static str,
        /// What was asked for.
        key: String,
    },
    /// The caller's input cannot be sent: an unknown template, a missing template parameter,
    /// a malformed phone number or e-mail address.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl ConnectorError {
    /// Whether trying the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ConnectorError::Unavailable { .. })
    }
}
