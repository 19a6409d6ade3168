//! Notifications: SMS and e-mail from built-in templates through pluggable providers.
//!
//! A [`Notifier`] is built from a [`NotifierConfig`] that names one provider per channel, so
//! SMS can go to an HTTP gateway while e-mail goes to SMTP:
//!
//! | provider | channels | what it does |
//! |---|---|---|
//! | `dev-file` | SMS, e-mail | appends one JSON line per message to a file (developers read their codes there) |
//! | `smtp` | e-mail | sends plain-text UTF-8 mail with lettre (no TLS, STARTTLS or implicit TLS) |
//! | `http-sms` | SMS | `POST` JSON `{"phone","text","sign"}` with a bearer token to an SMS gateway |
//!
//! [`Notifier::send`] renders the template first (see [`templates`]), then checks the
//! recipient (a mainland mobile number for SMS, an e-mail address for e-mail) and only then
//! talks to the provider: a message is either complete or not sent. Logs name the template and
//! a masked recipient, never the text (it holds one-time codes).

mod providers;
pub mod templates;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ConnectorError;
use providers::Provider;
pub use templates::{Rendered, TEMPLATES, Template, render};

/// Default request timeout of the network providers, in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// How a message reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// 短信 to a mobile number.
    Sms,
    /// 电子邮件.
    Email,
}

impl Channel {
    /// `sms` or `email`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

/// Where a person can be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Mobile phone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

impl Recipient {
    /// The address for `channel`, if the person has one.
    pub fn address(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Sms => self.phone.as_deref(),
            Channel::Email => self.email.as_deref(),
        }
    }
}

/// A secret setting (password, token): never printed by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which provider each channel uses. A channel left out cannot send
/// ([`ConnectorError::NotConfigured`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifierConfig {
    /// The SMS provider: `dev-file` or `http-sms`.
    #[serde(default)]
    pub sms: Option<ProviderConfig>,
    /// The e-mail provider: `dev-file` or `smtp`.
    #[serde(default)]
    pub email: Option<ProviderConfig>,
}

impl NotifierConfig {
    /// Both channels to one developer's file.
    pub fn dev_file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        NotifierConfig {
            sms: Some(ProviderConfig::DevFile { path: path.clone() }),
            email: Some(ProviderConfig::DevFile { path }),
        }
    }
}

/// One provider and its settings, tagged by `provider`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "provider", rename_all = "kebab-case")]
pub enum ProviderConfig {
    /// Append each message as a JSON line to `path` (created with its folder if missing).
    DevFile {
        /// The file.
        path: PathBuf,
    },
    /// An SMTP server (e-mail only).
    Smtp(SmtpConfig),
    /// An HTTP SMS gateway (SMS only).
    HttpSms(HttpSmsConfig),
}

/// SMTP settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Port; by default 25 without TLS, 587 with STARTTLS, 465 with TLS.
    #[serde(default)]
    pub port: Option<u16>,
    /// User name for AUTH (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// Password for AUTH.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Sender, e.g. `一网通办 <noreply@example.gov.cn>`.
    pub from: String,
    /// Transport security.
    #[serde(default)]
    pub tls: TlsMode,
    /// Give up after this many seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text (a local relay or a test sink only).
    None,
    /// Plain connection upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// HTTP SMS gateway settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSmsConfig {
    /// The URL that takes `POST` `{"phone","text","sign"}`.
    pub url: String,
    /// Bearer token.
    #[serde(default)]
    pub token: Option<Secret>,
    /// The registered SMS signature (短信签名), without brackets.
    #[serde(default = "default_sign")]
    pub sign_name: String,
    /// Give up after this many seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

fn default_sign() -> String {
    DEFAULT_SIGN.to_string()
}

/// The SMS signature used by the dev file and by default.
pub const DEFAULT_SIGN: &str = "一网通办";

/// Sends templated messages on the configured channels. Cheap to share (`Arc` it).
#[derive(Debug)]
pub struct Notifier {
    sms: Option<Provider>,
    email: Option<Provider>,
}

impl Notifier {
    /// Builds the providers. A provider on a channel it cannot serve (SMTP for SMS, an SMS
    /// gateway for e-mail) or an invalid setting is [`ConnectorError::NotConfigured`].
    pub fn new(config: &NotifierConfig) -> Result<Notifier, ConnectorError> {
        Ok(Notifier {
            sms: config
                .sms
                .as_ref()
                .map(|c| Provider::new(Channel::Sms, c))
                .transpose()?,
            email: config
                .email
                .as_ref()
                .map(|c| Provider::new(Channel::Email, c))
                .transpose()?,
        })
    }

    /// Whether `channel` has a provider.
    pub fn is_configured(&self, channel: Channel) -> bool {
        match channel {
            Channel::Sms => self.sms.is_some(),
            Channel::Email => self.email.is_some(),
        }
    }

    /// Renders `template` with `params` and sends it to `to` (a mobile number for SMS, an
    /// e-mail address for e-mail).
    pub async fn send(
        &self,
        channel: Channel,
        to: &str,
        template: &str,
        params: &[(&str, &str)],
    ) -> Result<(), ConnectorError> {
        let message = render(template, params)?;
        let to = match channel {
            Channel::Sms => normalise_phone(to)?,
            Channel::Email => normalise_email(to)?,
        };
        let provider = match channel {
            Channel::Sms => self.sms.as_ref(),
            Channel::Email => self.email.as_ref(),
        }
        .ok_or_else(|| {
            ConnectorError::NotConfigured(format!("no {} provider is configured", channel.as_str()))
        })?;
        let result = provider.send(channel, &to, &message).await;
        match &result {
            Ok(()) => tracing::info!(
                channel = channel.as_str(),
                template = message.template,
                to = %mask(&to),
                "notification sent"
            ),
            Err(e) => tracing::warn!(
                channel = channel.as_str(),
                template = message.template,
                to = %mask(&to),
                error = %e,
                "notification failed"
            ),
        }
        result
    }

    /// [`Notifier::send`] to the person's address for `channel`; a person without one is
    /// [`ConnectorError::InvalidInput`].
    pub async fn send_to(
        &self,
        recipient: &Recipient,
        channel: Channel,
        template: &str,
        params: &[(&str, &str)],
    ) -> Result<(), ConnectorError> {
        let to = recipient.address(channel).ok_or_else(|| {
            ConnectorError::InvalidInput(format!(
                "the recipient has no {} address",
                channel.as_str()
            ))
        })?;
        self.send(channel, to, template, params).await
    }
}

/// A mainland mobile number (`1[3-9]` and nine digits), with an optional `+86`/`86` prefix
/// and spaces or hyphens removed.
pub fn normalise_phone(input: &str) -> Result<String, ConnectorError> {
    let digits: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .or_else(|| digits.strip_prefix("86").filter(|rest| rest.len() == 11))
        .unwrap_or(&digits);
    let bytes = digits.as_bytes();
    let valid = bytes.len() == 11
        && bytes.iter().all(u8::is_ascii_digit)
        && bytes.first() == Some(&b'1')
        && bytes.get(1).is_some_and(|b| (b'3'..=b'9').contains(b));
    if valid {
        Ok(digits.to_string())
    } else {
        Err(ConnectorError::InvalidInput(format!(
            "'{}' is not a mobile phone number",
            mask(input)
        )))
    }
}

/// A syntactically valid e-mail address (RFC 5321 as lettre reads it), trimmed.
pub fn normalise_email(input: &str) -> Result<String, ConnectorError> {
    let trimmed = input.trim();
    trimmed
        .parse::<lettre::Address>()
        .map(|a| a.to_string())
        .map_err(|_| {
            ConnectorError::InvalidInput(format!("'{}' is not an e-mail address", mask(trimmed)))
        })
}

/// The address with its middle hidden, for logs: `138****5678`, `z***@example.cn`.
pub fn mask(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    if let Some(at) = chars.iter().position(|&c| c == '@') {
        let first: String = chars.iter().take(1.min(at)).collect();
        let domain: String = chars.iter().skip(at).collect();
        return format!("{first}***{domain}");
    }
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(3).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(normalise_phone("13812345678").unwrap(), "13812345678");
        assert_eq!(normalise_phone("+86 138-1234-5678").unwrap(), "13812345678");
        assert_eq!(normalise_phone("8613812345678").unwrap(), "13812345678");
        for bad in [
            "",
            "12812345678",
            "1381234567",
            "138123456789",
            "１３８１２３４５６７８",
            "abc",
        ] {
            assert!(
                matches!(normalise_phone(bad), Err(ConnectorError::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn emails_and_masks() {
        assert_eq!(
            normalise_email(" wang@example.cn ").unwrap(),
            "wang@example.cn"
        );
        assert!(normalise_email("not an address").is_err());
        assert!(normalise_email("").is_err());
        assert_eq!(mask("13812345678"), "138****5678");
        assert_eq!(mask("wang@example.cn"), "w***@example.cn");
        assert_eq!(mask("@x"), "***@x");
        assert_eq!(mask("123"), "***");
    }

    #[test]
    fn config_reads_each_provider() {
        let config: NotifierConfig = serde_json::from_str(
            r#"{
                "sms": {"provider": "http-sms", "url": "https://sms.example/send", "token": "t0k", "sign_name": "湖南政务"},
                "email": {"provider": "smtp", "host": "smtp.example", "port": 2525, "username": "u",
                          "password": "p4ss", "from": "一网通办 <noreply@example.cn>", "tls": "tls"}
            }"#,
        )
        .unwrap();
        let Some(ProviderConfig::HttpSms(sms)) = &config.sms else {
            panic!()
        };
        assert_eq!(sms.sign_name, "湖南政务");
        assert_eq!(sms.timeout_secs, DEFAULT_TIMEOUT_SECS);
        let Some(ProviderConfig::Smtp(smtp)) = &config.email else {
            panic!()
        };
        assert_eq!(smtp.tls, TlsMode::Tls);
        assert!(!format!("{config:?}").contains("p4ss"));
        assert!(!format!("{config:?}").contains("t0k"));
        assert!(Notifier::new(&config).is_ok());

        let dev: NotifierConfig =
            serde_json::from_str(r#"{"sms": {"provider": "dev-file", "path": "/tmp/x.jsonl"}}"#)
                .unwrap();
        let notifier = Notifier::new(&dev).unwrap();
        assert!(notifier.is_configured(Channel::Sms));
        assert!(!notifier.is_configured(Channel::Email));

        assert!(
            serde_json::from_str::<NotifierConfig>(
                r#"{"sms": {"provider": "http-sms", "url": "https://x", "tokn": "typo"}}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<NotifierConfig>(r#"{"sms": {"provider": "pigeon"}}"#).is_err()
        );
    }

    #[test]
    fn a_provider_on_the_wrong_channel_is_not_configured() {
        let smtp_for_sms: NotifierConfig =
            serde_json::from_str(r#"{"sms": {"provider": "smtp", "host": "h", "from": "a@b.cn"}}"#)
                .unwrap();
        assert!(matches!(
            Notifier::new(&smtp_for_sms),
            Err(ConnectorError::NotConfigured(_))
        ));
        let sms_for_email: NotifierConfig =
            serde_json::from_str(r#"{"email": {"provider": "http-sms", "url": "https://x"}}"#)
                .unwrap();
        assert!(matches!(
            Notifier::new(&sms_for_email),
            Err(ConnectorError::NotConfigured(_))
        ));
        let bad_from: NotifierConfig = serde_json::from_str(
            r#"{"email": {"provider": "smtp", "host": "h", "from": "nobody"}}"#,
        )
        .unwrap();
        assert!(matches!(
            Notifier::new(&bad_from),
            Err(ConnectorError::NotConfigured(_))
        ));
    }

    #[tokio::test]
    async fn unconfigured_channel_and_bad_input_fail_before_sending() {
        let notifier = Notifier::new(&NotifierConfig::default()).unwrap();
        let params = [("code", "123456"), ("minutes", "5")];
        assert!(matches!(
            notifier
                .send(Channel::Sms, "13812345678", "otp_sign_in", &params)
                .await,
            Err(ConnectorError::NotConfigured(_))
        ));
        assert!(matches!(
            notifier
                .send(Channel::Sms, "13812345678", "otp_sign_in", &params[..1])
                .await,
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(matches!(
            notifier
                .send(Channel::Sms, "12345", "otp_sign_in", &params)
                .await,
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(matches!(
            notifier
                .send_to(
                    &Recipient::default(),
                    Channel::Email,
                    "otp_sign_in",
                    &params
                )
                .await,
            Err(ConnectorError::InvalidInput(_))
        ));
    }
}
