//! S3-compatible object storage (MinIO, Ceph RGW, the provinces' cloud object services, AWS S3)
//! over plain HTTP with our own Signature Version 4 signer ([`sigv4`]) — no AWS SDK.
//!
//! Three requests are used: `PUT` an object (the body's real SHA-256 in
//! `x-amz-content-sha256`, so the server checks the bytes it received), `GET` an object, and
//! `HEAD` the bucket ([`S3Store::check`], at start-up: are endpoint, bucket and credentials
//! right?). Addressing is path-style (`{endpoint}/{bucket}/{key}`, what self-hosted servers
//! expect) or virtual-hosted (`{bucket}.{host}/{key}`, what AWS prefers).
//!
//! Failures are [`ConnectorError`]s: cannot connect, timed out or HTTP 5xx → `Unavailable`;
//! 401/403 (wrong key, wrong signature, clock skew) and a missing bucket → `NotConfigured`
//! with the server's S3 error code; a missing object → `NotFound`; any other status →
//! `BadAnswer` (or `Rejected` for a refused upload). The secret key never appears in `Debug`
//! output or error messages.

pub mod sigv4;

use std::fmt;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode, Url};

use crate::ConnectorError;

const SYSTEM: &str = "S3 object store";

/// The largest object [`S3Store::get`] reads into memory (uploads are far smaller).
pub const MAX_OBJECT: usize = 256 << 20;

/// Where and as whom to reach an S3-compatible bucket. Secrets come only from configuration.
#[derive(Clone)]
pub struct S3Config {
    /// Base URL of the service, `http://127.0.0.1:9000` or `https://s3.example.gov.cn` (a path
    /// prefix is kept).
    pub endpoint: String,
    /// The bucket (created beforehand by the operator).
    pub bucket: String,
    /// Signing region (`us-east-1` for most self-hosted servers).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// `{endpoint}/{bucket}/{key}` when true, else `{bucket}.{endpoint host}/{key}`.
    pub path_style: bool,
    /// Per-request time limit (connect and whole answer).
    pub timeout: Duration,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field("path_style", &self.path_style)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A configured bucket with its HTTP client (connections are pooled; clone it freely).
#[derive(Clone)]
pub struct S3Store {
    config: S3Config,
    /// Scheme + authority the requests go to (bucket included when virtual-hosted).
    origin: Url,
    /// The path before the key, encoded, ending in `/` (`/prefix/bucket/` path-style).
    base_path: String,
    client: Client,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn not_configured(message: String) -> ConnectorError {
    ConnectorError::NotConfigured(message)
}

/// S3 bucket naming rules (3-63 of `a-z 0-9 . -`, starting and ending alphanumeric).
fn valid_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        && b.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.bytes().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

impl S3Store {
    /// Checks the configuration (URL, bucket name, region, keys, timeout) and builds the client;
    /// contacts nothing.
    pub fn new(config: S3Config) -> Result<S3Store, ConnectorError> {
        let endpoint = config.endpoint.trim().trim_end_matches('/');
        let mut origin = Url::parse(endpoint)
            .map_err(|e| not_configured(format!("S3 endpoint '{endpoint}' is invalid: {e}")))?;
        if !matches!(origin.scheme(), "http" | "https")
            || origin.host_str().is_none()
            || origin.query().is_some()
        {
            return Err(not_configured(format!(
                "S3 endpoint '{endpoint}' must be http:// or https:// with a host and no query"
            )));
        }
        if !valid_bucket(&config.bucket) {
            return Err(not_configured(format!(
                "S3 bucket '{}' is not a valid bucket name (3-63 of a-z 0-9 . -)",
                config.bucket
            )));
        }
        if config.region.trim().is_empty()
            || config.access_key.trim().is_empty()
            || config.secret_key.is_empty()
        {
            return Err(not_configured(
                "S3 needs a region, an access key and a secret key".into(),
            ));
        }
        if config.timeout.is_zero() {
            return Err(not_configured("S3 timeout must be more than zero".into()));
        }
        let prefix = origin.path().trim_end_matches('/').to_owned();
        let base_path = if config.path_style {
            format!("{prefix}/{}/", config.bucket)
        } else {
            let host = format!(
                "{}.{}",
                config.bucket,
                origin.host_str().unwrap_or_default()
            );
            origin
                .set_host(Some(&host))
                .map_err(|e| not_configured(format!("S3 virtual host '{host}': {e}")))?;
            format!("{prefix}/")
        };
        origin.set_path("");
        let client = Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| not_configured(format!("cannot build the HTTP client: {e}")))?;
        Ok(S3Store {
            config,
            origin,
            base_path,
            client,
        })
    }

    /// The configuration (the secret stays inside; `Debug` masks it).
    pub fn config(&self) -> &S3Config {
        &self.config
    }

    /// Stores `bytes` under `key` (a key already checked by the object store).
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ConnectorError> {
        let (status, body) = self.send(Method::PUT, key, Some(bytes)).await?;
        match status {
            s if s.is_success() => Ok(()),
            s if s.is_client_error() && !is_auth(s) && s != StatusCode::NOT_FOUND => {
                Err(ConnectorError::Rejected {
                    system: SYSTEM,
                    message: format!("PUT {key}: {}", describe(s, &body)),
                })
            }
            s => Err(self.failure("PUT", key, s, &body)),
        }
    }

    /// The bytes under `key`; `NotFound` when there is no such object.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ConnectorError> {
        let (status, body) = self.send(Method::GET, key, None).await?;
        if status == StatusCode::OK {
            return Ok(body);
        }
        if status == StatusCode::NOT_FOUND && s3_code(&body).as_deref() != Some("NoSuchBucket") {
            return Err(ConnectorError::NotFound {
                system: SYSTEM,
                key: key.to_owned(),
            });
        }
        Err(self.failure("GET", key, status, &body))
    }

    /// Whether the bucket exists and the credentials are accepted (`HEAD` on the bucket).
    pub async fn check(&self) -> Result<(), ConnectorError> {
        let (status, body) = self.send(Method::HEAD, "", None).await?;
        if status.is_success() {
            return Ok(());
        }
        if status == StatusCode::NOT_FOUND {
            return Err(not_configured(format!(
                "S3 bucket '{}' does not exist at {}",
                self.config.bucket, self.config.endpoint
            )));
        }
        Err(self.failure("HEAD", "", status, &body))
    }

    /// Signs and sends one request; the answer's status and body (at most [`MAX_OBJECT`]).
    async fn send(
        &self,
        method: Method,
        key: &str,
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, Vec<u8>), ConnectorError> {
        let path = format!("{}{}", self.base_path, sigv4::uri_encode(key, false));
        let mut url = self.origin.clone();
        // The path is encoded already (unreserved characters and %XX only): Url keeps it as is.
        url.set_path(&path);
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(not_configured("S3 endpoint has no host".into())),
        };
        let payload = body.map_or_else(|| sigv4::EMPTY_SHA256.to_owned(), sigv4::sha256_hex);
        let datetime = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let headers = [
            ("host", host.as_str()),
            ("x-amz-content-sha256", payload.as_str()),
            ("x-amz-date", datetime.as_str()),
        ];
        let scope = sigv4::Scope {
            datetime: &datetime,
            region: &self.config.region,
            service: "s3",
        };
        let request = sigv4::Request {
            method: method.as_str(),
            path: &path,
            query: &[],
            headers: &headers,
            payload_sha256: &payload,
        };
        let authorization = sigv4::authorization(
            &self.config.access_key,
            &self.config.secret_key,
            &scope,
            &request,
        );
        let is_head = method == Method::HEAD;
        let mut builder = self
            .client
            .request(method, url)
            .header("x-amz-content-sha256", &payload)
            .header("x-amz-date", &datetime)
            .header(reqwest::header::AUTHORIZATION, authorization);
        if let Some(b) = body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(b.to_vec());
        }
        let mut response = builder.send().await.map_err(|e| unavailable(key, &e))?;
        let status = response.status();
        if let Some(len) = response.content_length()
            && usize::try_from(len).map_or(true, |l| l > MAX_OBJECT)
            && !is_head
        {
            return Err(ConnectorError::BadAnswer {
                system: SYSTEM,
                message: format!("{key}: answer of {len} bytes is over the limit"),
            });
        }
        let mut bytes = Vec::new();
        if !is_head {
            while let Some(chunk) = response.chunk().await.map_err(|e| unavailable(key, &e))? {
                if bytes.len() + chunk.len() > MAX_OBJECT {
                    return Err(ConnectorError::BadAnswer {
                        system: SYSTEM,
                        message: format!("{key}: answer over {MAX_OBJECT} bytes"),
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
        }
        Ok((status, bytes))
    }

    /// The error for an answer that is not the expected success.
    fn failure(&self, op: &str, key: &str, status: StatusCode, body: &[u8]) -> ConnectorError {
        let key = target(key);
        let what = describe(status, body);
        if is_auth(status) {
            return not_configured(format!(
                "S3 refused {op} {key} (access key {}): {what}: check the access key, secret \
                 key, region and the clock",
                self.config.access_key
            ));
        }
        if s3_code(body).as_deref() == Some("NoSuchBucket") {
            return not_configured(format!(
                "S3 bucket '{}' does not exist: {what}",
                self.config.bucket
            ));
        }
        if status.is_server_error() {
            return ConnectorError::Unavailable {
                system: SYSTEM,
                message: format!("{op} {key}: {what}"),
            };
        }
        ConnectorError::BadAnswer {
            system: SYSTEM,
            message: format!("{op} {key}: unexpected {what}"),
        }
    }
}

fn is_auth(s: StatusCode) -> bool {
    s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN
}

/// What a request was about, for messages: the key, or the bucket itself.
fn target(key: &str) -> &str {
    if key.is_empty() { "the bucket" } else { key }
}

fn unavailable(key: &str, e: &reqwest::Error) -> ConnectorError {
    let key = target(key);
    let message = if e.is_timeout() {
        format!("{key}: timed out")
    } else if e.is_connect() {
        format!("{key}: cannot connect: {e}")
    } else {
        format!("{key}: {e}")
    };
    ConnectorError::Unavailable {
        system: SYSTEM,
        message,
    }
}

/// The text of the first `<tag>…</tag>` of an S3 XML error document.
fn xml_field(body: &[u8], tag: &str) -> Option<String> {
    let text = std::str::from_utf8(body.get(..body.len().min(4096))?).ok()?;
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let end = start + text.get(start..)?.find(&format!("</{tag}>"))?;
    Some(text.get(start..end)?.chars().take(200).collect())
}

fn s3_code(body: &[u8]) -> Option<String> {
    xml_field(body, "Code")
}

/// `HTTP 403 Forbidden (SignatureDoesNotMatch: …)`.
fn describe(status: StatusCode, body: &[u8]) -> String {
    match (s3_code(body), xml_field(body, "Message")) {
        (Some(c), Some(m)) => format!("HTTP {status} ({c}: {m})"),
        (Some(c), None) => format!("HTTP {status} ({c})"),
        _ => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: &str, path_style: bool) -> S3Config {
        S3Config {
            endpoint: endpoint.into(),
            bucket: "yiwang-files".into(),
            region: "us-east-1".into(),
            access_key: "AK".into(),
            secret_key: "very-secret".into(),
            path_style,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn addressing() {
        let s = S3Store::new(config("http://127.0.0.1:9000/", true)).unwrap();
        assert_eq!(s.origin.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(s.base_path, "/yiwang-files/");
        let s = S3Store::new(config("https://s3.example.gov.cn/api", false)).unwrap();
        assert_eq!(s.origin.host_str(), Some("yiwang-files.s3.example.gov.cn"));
        assert_eq!(s.base_path, "/api/");
    }

    #[test]
    fn bad_configuration_is_refused_and_secrets_never_print() {
        for (endpoint, bucket) in [
            ("ftp://x", "yiwang-files"),
            ("not a url", "yiwang-files"),
            ("http://x", "Bad_Bucket"),
            ("http://x", "ab"),
        ] {
            let mut c = config(endpoint, true);
            c.bucket = bucket.into();
            assert!(matches!(
                S3Store::new(c),
                Err(ConnectorError::NotConfigured(_))
            ));
        }
        let s = S3Store::new(config("http://127.0.0.1:9", true)).unwrap();
        assert!(!format!("{s:?}").contains("very-secret"));
    }

    #[test]
    fn s3_error_documents() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>\
                     <Message>The signature does not match</Message></Error>";
        assert_eq!(
            describe(StatusCode::FORBIDDEN, body),
            "HTTP 403 Forbidden (SignatureDoesNotMatch: The signature does not match)"
        );
        assert_eq!(
            describe(StatusCode::BAD_GATEWAY, b"<html>"),
            "HTTP 502 Bad Gateway"
        );
    }
}
