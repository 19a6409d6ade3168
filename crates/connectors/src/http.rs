//! [`HttpLibrary`]: the population and legal-person libraries over HTTP (JSON).
//!
//! The protocol (also in the crate's `README.md`), relative to a base URL:
//!
//! | request | answer |
//! |---|---|
//! | `POST {base}/persons/verify` `{"id_number","name"}` | 200 `{"result":"match"\|"name_mismatch"\|"not_found"}` |
//! | `GET {base}/persons/{id_number}` | 200 a [`PersonRecord`], or 404 |
//! | `GET {base}/enterprises/{credit_code}` | 200 an [`EnterpriseRecord`], or 404 |
//!
//! With a token every request carries `Authorization: Bearer {token}`. Keys in paths are the
//! canonical codes (uppercase, already validated, so they need no escaping).
//!
//! Failures map to [`ConnectorError`]: a connection failure, a timeout or a 5xx is
//! `Unavailable`; 401/403 is `NotConfigured` (the token is missing or wrong); any other status,
//! a body that is not the expected JSON, a body over 1 MiB or a record for another key is
//! `BadAnswer`.

use std::fmt;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use yiwang_domain::codes::{CreditCode, IdCardNumber};

use crate::{ConnectorError, EnterpriseRecord, PersonCheck, PersonRecord};

/// Largest answer body read; a library record is a few hundred bytes.
const MAX_BODY: usize = 1 << 20;

const POPULATION: &str = "population library";
const LEGAL_PERSON: &str = "legal-person library";

/// A population or legal-person library reached over HTTP. Cheap to clone (one shared
/// connection pool).
#[derive(Clone)]
pub struct HttpLibrary {
    client: Client,
    base: String,
    token: Option<String>,
}

impl fmt::Debug for HttpLibrary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpLibrary")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Serialize)]
struct VerifyRequest<'a> {
    id_number: &'a str,
    name: &'a str,
}

#[derive(Deserialize)]
struct VerifyAnswer {
    result: PersonCheck,
}

impl HttpLibrary {
    /// A library at `base_url` (`http` or `https`; a trailing `/` is ignored), sending `token`
    /// as a bearer token, giving up on each request after `timeout`.
    pub fn new(
        base_url: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, ConnectorError> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let url = Url::parse(trimmed).map_err(|e| {
            ConnectorError::NotConfigured(format!("library URL '{base_url}' is invalid: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConnectorError::NotConfigured(format!(
                "library URL '{base_url}' must be http:// or https:// with a host"
            )));
        }
        if timeout.is_zero() {
            return Err(ConnectorError::NotConfigured(
                "library timeout must be more than zero".into(),
            ));
        }
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| {
                ConnectorError::NotConfigured(format!("cannot build the HTTP client: {e}"))
            })?;
        let token = token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        Ok(HttpLibrary {
            client,
            base: trimmed.to_string(),
            token,
        })
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub(crate) async fn verify_person(
        &self,
        id: &IdCardNumber,
        name: &str,
    ) -> Result<PersonCheck, ConnectorError> {
        let body = VerifyRequest {
            id_number: id.as_str(),
            name,
        };
        let answer: Option<VerifyAnswer> = self
            .call(
                POPULATION,
                Method::POST,
                "/persons/verify",
                Some(&body),
                false,
            )
            .await?;
        answer
            .map(|a| a.result)
            .ok_or_else(|| bad(POPULATION, "no answer body"))
    }

    pub(crate) async fn person(
        &self,
        id: &IdCardNumber,
    ) -> Result<Option<PersonRecord>, ConnectorError> {
        let path = format!("/persons/{}", id.as_str());
        let record: Option<PersonRecord> = self
            .call(POPULATION, Method::GET, &path, None::<&()>, true)
            .await?;
        if let Some(record) = &record
            && !record.id_number.eq_ignore_ascii_case(id.as_str())
        {
            return Err(bad(POPULATION, "the record is for another ID number"));
        }
        Ok(record)
    }

    pub(crate) async fn enterprise(
        &self,
        code: &CreditCode,
    ) -> Result<Option<EnterpriseRecord>, ConnectorError> {
        let path = format!("/enterprises/{}", code.as_str());
        let record: Option<EnterpriseRecord> = self
            .call(LEGAL_PERSON, Method::GET, &path, None::<&()>, true)
            .await?;
        if let Some(record) = &record
            && !record.credit_code.eq_ignore_ascii_case(code.as_str())
        {
            return Err(bad(LEGAL_PERSON, "the record is for another credit code"));
        }
        Ok(record)
    }

    /// One request; `Ok(None)` for a 404 when `not_found_is_none`.
    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        system: &'static str,
        method: Method,
        path: &str,
        body: Option<&B>,
        not_found_is_none: bool,
    ) -> Result<Option<T>, ConnectorError> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .client
            .request(method, &url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let mut response = request.send().await.map_err(|e| unavailable(system, &e))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND && not_found_is_none {
            return Ok(None);
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(ConnectorError::NotConfigured(format!(
                "{system} refused our credentials (HTTP {status}): check its token"
            )));
        }
        if status.is_server_error() {
            return Err(ConnectorError::Unavailable {
                system,
                message: format!("HTTP {status}"),
            });
        }
        if status != StatusCode::OK {
            return Err(bad(system, &format!("unexpected HTTP {status}")));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(system, &e))?
        {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(bad(system, "answer larger than 1 MiB"));
            }
            bytes.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| bad(system, &format!("answer is not the expected JSON: {e}")))
    }
}

fn unavailable(system: &'static str, e: &reqwest::Error) -> ConnectorError {
    let message = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    };
    ConnectorError::Unavailable { system, message }
}

fn bad(system: &'static str, message: &str) -> ConnectorError {
    ConnectorError::BadAnswer {
        system,
        message: message.to_string(),
    }
}
