//! The notification providers: a developer's JSON-lines file, SMTP and an HTTP SMS gateway.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Serialize;
use std::io::Write;
use std::sync::Mutex;

use super::{Channel, DEFAULT_SIGN, HttpSmsConfig, ProviderConfig, Rendered, SmtpConfig, TlsMode};
use crate::ConnectorError;

const SMTP: &str = "SMTP server";
const SMS_GATEWAY: &str = "SMS gateway";

/// A configured provider.
#[derive(Debug)]
pub(super) enum Provider {
    DevFile(DevFile),
    Smtp(Smtp),
    HttpSms(HttpSms),
}

impl Provider {
    pub(super) fn new(
        channel: Channel,
        config: &ProviderConfig,
    ) -> Result<Provider, ConnectorError> {
        match (channel, config) {
            (_, ProviderConfig::DevFile { path }) => Ok(Provider::DevFile(DevFile {
                path: path.clone(),
                file: Mutex::new(None),
            })),
            (Channel::Email, ProviderConfig::Smtp(c)) => Smtp::new(c).map(Provider::Smtp),
            (Channel::Sms, ProviderConfig::HttpSms(c)) => HttpSms::new(c).map(Provider::HttpSms),
            (Channel::Sms, ProviderConfig::Smtp(_)) => Err(ConnectorError::NotConfigured(
                "the smtp provider sends e-mail, not SMS".into(),
            )),
            (Channel::Email, ProviderConfig::HttpSms(_)) => Err(ConnectorError::NotConfigured(
                "the http-sms provider sends SMS, not e-mail".into(),
            )),
        }
    }

    pub(super) async fn send(
        &self,
        channel: Channel,
        to: &str,
        message: &Rendered,
    ) -> Result<(), ConnectorError> {
        match self {
            Provider::DevFile(p) => p.send(channel, to, message).await,
            Provider::Smtp(p) => p.send(to, message).await,
            Provider::HttpSms(p) => p.send(to, message).await,
        }
    }
}

/// Appends one JSON line per message to a file opened once, in append mode. Each line is one
/// `write` under the lock, on the calling thread: a small append to the page cache, cheaper than
/// the trips to blocking threads an async file would make (this runs on every case's steps).
#[derive(Debug)]
pub(super) struct DevFile {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

#[derive(Serialize)]
struct DevLine<'a> {
    at: String,
    channel: Channel,
    to: &'a str,
    template: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    text: String,
}

impl DevFile {
    async fn send(
        &self,
        channel: Channel,
        to: &str,
        message: &Rendered,
    ) -> Result<(), ConnectorError> {
        let (subject, text) = match channel {
            Channel::Sms => (None, format!("【{DEFAULT_SIGN}】{}", message.body)),
            Channel::Email => (Some(message.subject), message.body.clone()),
        };
        let line = DevLine {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            channel,
            to,
            template: message.template,
            subject,
            text,
        };
        let mut json = serde_json::to_string(&line).map_err(|e| file_error(&self.path, &e))?;
        json.push('\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if file.is_none() {
            if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| file_error(&self.path, &e))?;
            }
            let opened = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| file_error(&self.path, &e))?;
            *file = Some(opened);
        }
        let written = file
            .as_mut()
            .map_or(Ok(()), |f| f.write_all(json.as_bytes()));
        if let Err(e) = written {
            // Open the file again next time (it may have been moved away).
            *file = None;
            return Err(file_error(&self.path, &e));
        }
        Ok(())
    }
}

fn file_error(path: &std::path::Path, e: &dyn std::fmt::Display) -> ConnectorError {
    ConnectorError::Unavailable {
        system: "notification dev file",
        message: format!("{}: {e}", path.display()),
    }
}

/// E-mail over SMTP with lettre.
pub(super) struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Smtp {
    fn new(config: &SmtpConfig) -> Result<Smtp, ConnectorError> {
        let host = config.host.trim();
        if host.is_empty() {
            return Err(ConnectorError::NotConfigured("smtp host is empty".into()));
        }
        let from: Mailbox = config.from.trim().parse().map_err(|e| {
            ConnectorError::NotConfigured(format!(
                "smtp from '{}' is not a mailbox: {e}",
                config.from
            ))
        })?;
        let tls_error = |e: lettre::transport::smtp::Error| {
            ConnectorError::NotConfigured(format!("smtp TLS for '{host}': {e}"))
        };
        let mut builder = match config.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(25),
            TlsMode::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
            }
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?,
        };
        if let Some(port) = config.port {
            builder = builder.port(port);
        }
        builder = builder.timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.expose().to_string(),
                ));
            }
            (None, None) => {}
            _ => {
                return Err(ConnectorError::NotConfigured(
                    "smtp username and password go together".into(),
                ));
            }
        }
        Ok(Smtp {
            transport: builder.build(),
            from,
            host: host.to_string(),
        })
    }

    async fn send(&self, to: &str, message: &Rendered) -> Result<(), ConnectorError> {
        let to: Mailbox = to.parse().map_err(|_| {
            ConnectorError::InvalidInput(format!("'{to}' is not an e-mail address"))
        })?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(format!(
                "{}\r\n\r\n（本邮件由系统自动发送，请勿直接回复。）\r\n",
                message.body
            ))
            .map_err(|e| ConnectorError::InvalidInput(format!("cannot build the e-mail: {e}")))?;
        self.transport.send(email).await.map(|_| ()).map_err(|e| {
            let message = e.to_string();
            if e.is_permanent() {
                ConnectorError::Rejected {
                    system: SMTP,
                    message,
                }
            } else if e.is_response() {
                ConnectorError::BadAnswer {
                    system: SMTP,
                    message,
                }
            } else {
                ConnectorError::Unavailable {
                    system: SMTP,
                    message,
                }
            }
        })
    }
}

/// SMS through an HTTP gateway.
pub(super) struct HttpSms {
    client: reqwest::Client,
    url: reqwest::Url,
    token: Option<super::Secret>,
    sign: String,
}

impl fmt::Debug for HttpSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSms")
            .field("url", &self.url.as_str())
            .field("sign", &self.sign)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct SmsRequest<'a> {
    phone: &'a str,
    text: &'a str,
    sign: &'a str,
}

impl HttpSms {
    fn new(config: &HttpSmsConfig) -> Result<HttpSms, ConnectorError> {
        let url = reqwest::Url::parse(config.url.trim()).map_err(|e| {
            ConnectorError::NotConfigured(format!("http-sms url '{}' is invalid: {e}", config.url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConnectorError::NotConfigured(format!(
                "http-sms url '{}' must be http:// or https://",
                config.url
            )));
        }
        let sign = config
            .sign_name
            .trim()
            .trim_start_matches('【')
            .trim_end_matches('】');
        if sign.is_empty() {
            return Err(ConnectorError::NotConfigured(
                "http-sms sign_name is empty".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .build()
            .map_err(|e| {
                ConnectorError::NotConfigured(format!("cannot build the HTTP client: {e}"))
            })?;
        Ok(HttpSms {
            client,
            url,
            token: config.token.clone(),
            sign: sign.to_string(),
        })
    }

    async fn send(&self, phone: &str, message: &Rendered) -> Result<(), ConnectorError> {
        // The gateway adds the signature (【sign】) itself, as SMS gateways do.
        let body = SmsRequest {
            phone,
            text: &message.body,
            sign: &self.sign,
        };
        let mut request = self.client.post(self.url.clone()).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        let response = request
            .send()
            .await
            .map_err(|e| ConnectorError::Unavailable {
                system: SMS_GATEWAY,
                message: if e.is_timeout() {
                    "timed out".into()
                } else {
                    e.to_string()
                },
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let detail: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let message = format!("HTTP {status}: {detail}");
        Err(match status.as_u16() {
            401 | 403 => ConnectorError::NotConfigured(format!(
                "{SMS_GATEWAY} refused our credentials ({message})"
            )),
            400..=499 => ConnectorError::Rejected {
                system: SMS_GATEWAY,
                message,
            },
            500..=599 => ConnectorError::Unavailable {
                system: SMS_GATEWAY,
                message,
            },
            _ => ConnectorError::BadAnswer {
                system: SMS_GATEWAY,
                message,
            },
        })
    }
}
