//! The platform as an OpenID Connect provider (OP): departments' own systems (relying parties,
//! "clients") sign citizens and staff in through the platform.
//!
//! - **Clients** are registered by system administrators (or the CLI): a name, exact redirect
//!   URIs (`https://…`, or `http://127.0.0.1` / `http://localhost` for development, never a
//!   fragment), post-logout redirect URIs and the scopes they may ask for. The secret is shown
//!   once and stored as an Argon2id hash. Registered clients are first-party government
//!   systems: there is no consent screen.
//! - **Authorization code flow with PKCE** (`S256` only). Codes are 256-bit random, stored as
//!   SM3 hashes, live 60 s and are single use; presenting a used code again fails *and* revokes
//!   the refresh tokens issued from it (RFC 6749 §4.1.2). A failed exchange burns the code.
//! - **Tokens.** Access tokens are self-contained HMAC-SM3 tokens (`yw1.…`, 10 minutes) with
//!   JSON claims `sub`, `client_id`, `scope`, `exp`, `iat`, `jti`; verifying one is a MAC check
//!   and a JSON parse, no database (so they cannot be revoked before they expire). Refresh
//!   tokens (30 days, SM3-hashed) rotate on every use; presenting a used one revokes its whole
//!   family. ID tokens are ES256 JWTs (10 minutes) signed with a key kept in `signing_keys`
//!   (private key encrypted like personal data) and published in the JWKS.
//! - **Subjects** are `user:<uuid>` (citizens) and `staff:<uuid>`: stable, not personal data.
//!   Claims by scope: `profile` gives `name`, `user_type` (`person` or `staff`),
//!   `real_name_level` (citizens, 1–3) and for staff `org`, `org_name`, `roles`; `phone` gives
//!   the *masked* mobile number of citizens (full numbers are not released). A citizen who
//!   represents an enterprise or is its agent also gets `enterprises` (credit code, name, role
//!   `legal_representative`/`agent`, the items covered, the grant's end) and `credit_code` (the
//!   first of them); the relying party decides which one the user acts for.
//! - **Logout** (RP-initiated): the ID token hint (our signature, expired or not) names the
//!   client and the platform session (`sid`), which is ended with its refresh tokens.
//!
//! Every client change and every refused token request is audited ([`super::audit`]).
//! Nothing here knows HTTP: the web edge maps [`OidcError`] to RFC 6749 JSON or a page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use yiwang_crypto::EcSigningKey;
use yiwang_store::{Any, Row, Transaction, fmt_time, parse_time};

use super::audit::{self, Entry, Outcome};
use super::sm3_hex;
use super::staff::Staff;
use super::{passwords, users};
use crate::{Platform, ServiceError};

/// Lifetime of an authorization code (seconds).
pub const CODE_SECONDS: i64 = 60;
/// Lifetime of an access token (seconds).
pub const ACCESS_SECONDS: i64 = 600;
/// Lifetime of an ID token (seconds).
pub const ID_TOKEN_SECONDS: i64 = 600;
/// Lifetime of a refresh token (days).
pub const REFRESH_DAYS: i64 = 30;
/// The issuer when none is configured.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080";
/// The scopes the provider knows.
/// `cases`: the REST API's case and task operations as the signed-in citizen or staff member.
pub const SCOPES: [&str; 4] = ["openid", "profile", "phone", "cases"];
/// The scopes of a client registered without any.
pub const DEFAULT_SCOPE: &str = "openid profile";
/// The claims ID tokens and userinfo may carry.
pub const CLAIMS: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "sid",
    "name",
    "user_type",
    "real_name_level",
    "credit_code",
    "enterprises",
    "phone_number",
    "org",
    "org_name",
    "roles",
];

/// The OAuth 2.0 / OIDC error codes the provider answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Missing or malformed parameter.
    InvalidRequest,
    /// Unknown client, disabled client or wrong secret.
    InvalidClient,
    /// Bad, expired, used or foreign code or refresh token; PKCE or redirect mismatch.
    InvalidGrant,
    /// The client may not do this.
    UnauthorizedClient,
    /// A grant type other than `authorization_code` and `refresh_token`.
    UnsupportedGrantType,
    /// A response type other than `code`.
    UnsupportedResponseType,
    /// A scope the provider or the client does not have, or no `openid`.
    InvalidScope,
    /// The subject may not use this client.
    AccessDenied,
    /// `prompt=none` without a session.
    LoginRequired,
    /// A bad or expired access token (userinfo).
    InvalidToken,
    /// Our fault.
    ServerError,
}

impl ErrorCode {
    /// The code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::ServerError => "server_error",
        }
    }
}

/// An OAuth error: the code, a description in English (RFC 6749 allows ASCII only on the wire)
/// and in Chinese (for pages). A [`ErrorCode::ServerError`] keeps the internal cause for the log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OidcError {
    /// The error code.
    pub code: ErrorCode,
    /// What is wrong, in English (ASCII).
    pub description: String,
    /// What is wrong, in Chinese.
    pub description_zh: String,
    /// For server errors: the internal cause (logged, never sent).
    pub internal: Option<String>,
}

impl OidcError {
    /// An error with descriptions in Chinese and English.
    pub fn new(code: ErrorCode, zh: &str, en: &str) -> OidcError {
        OidcError {
            code,
            description: en.to_owned(),
            description_zh: zh.to_owned(),
            internal: None,
        }
    }

    fn grant(zh: &str, en: &str) -> OidcError {
        OidcError::new(ErrorCode::InvalidGrant, zh, en)
    }

    fn request(zh: &str, en: &str) -> OidcError {
        OidcError::new(ErrorCode::InvalidRequest, zh, en)
    }
}

impl From<ServiceError> for OidcError {
    fn from(e: ServiceError) -> OidcError {
        match e {
            ServiceError::Internal(m) => OidcError {
                code: ErrorCode::ServerError,
                description: "internal error".into(),
                description_zh: "服务器内部错误，请稍后再试".into(),
                internal: Some(m),
            },
            other => OidcError::new(ErrorCode::InvalidRequest, &other.to_string(), "bad request"),
        }
    }
}

impl From<yiwang_store::StoreError> for OidcError {
    fn from(e: yiwang_store::StoreError) -> OidcError {
        ServiceError::from(e).into()
    }
}

impl From<sqlx::Error> for OidcError {
    fn from(e: sqlx::Error) -> OidcError {
        ServiceError::from(e).into()
    }
}

/// What the provider keeps in memory: the issuer, the current signing key, and secrets that
/// already passed Argon2id (keyed by client and stored hash, so a rotation invalidates them).
#[derive(Default)]
pub struct OidcState {
    issuer: RwLock<String>,
    key: tokio::sync::OnceCell<Arc<EcSigningKey>>,
    /// client id → (stored Argon2id hash, SM3 of the secret that matched it).
    verified: Mutex<HashMap<String, (String, String)>>,
}

impl std::fmt::Debug for OidcState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcState")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

impl OidcState {
    /// Sets the issuer: the platform's public base URL, without a trailing slash.
    pub fn set_issuer(&self, url: &str) {
        if let Ok(mut i) = self.issuer.write() {
            *i = url.trim_end_matches('/').to_owned();
        }
    }

    /// The issuer (`iss` of ID tokens, base of the endpoints).
    pub fn issuer(&self) -> String {
        match self.issuer.read() {
            Ok(i) if !i.is_empty() => i.clone(),
            _ => DEFAULT_ISSUER.to_owned(),
        }
    }
}

/// Percent-encodes a query parameter value (everything but RFC 3986 unreserved characters).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `uri` with query parameters added (those whose value is `None` left out).
fn with_params(uri: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        if let Some(v) = v {
            out.push(sep);
            out.push_str(k);
            out.push('=');
            out.push_str(&urlencode(v));
            sep = '&';
        }
    }
    out
}

// --- clients ---------------------------------------------------------------------------------

/// A registered client system (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct Client {
    /// The client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Redirect URIs, compared exactly.
    pub redirect_uris: Vec<String>,
    /// Where logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for.
    pub scopes: Vec<String>,
    /// Disabled clients can do nothing.
    pub disabled: bool,
    /// Who registered it (`staff:<id>` or `cli`).
    pub created_by: String,
    /// When (stored UTC text).
    pub created_at: String,
}

const CLIENT_COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, \
     post_logout_redirect_uris, scopes, disabled, created_by, created_at";

fn client_from_row(r: &yiwang_store::AnyRow) -> Result<(Client, String), ServiceError> {
    let list = |col: &str| -> Result<Vec<String>, ServiceError> {
        Ok(serde_json::from_str(&r.try_get::<String, _>(col)?)?)
    };
    Ok((
        Client {
            client_id: r.try_get("client_id")?,
            name: r.try_get("name")?,
            redirect_uris: list("redirect_uris")?,
            post_logout_redirect_uris: list("post_logout_redirect_uris")?,
            scopes: r
                .try_get::<String, _>("scopes")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            disabled: r.try_get::<i64, _>("disabled")? != 0,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
        },
        r.try_get("secret_hash")?,
    ))
}

/// A client and its stored secret hash.
async fn load_client(p: &Platform, id: &str) -> Result<Option<(Client, String)>, ServiceError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE client_id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .as_ref()
    .map(client_from_row)
    .transpose()
}

/// A client by id, if registered.
pub async fn get_client(p: &Platform, id: &str) -> Result<Option<Client>, ServiceError> {
    Ok(load_client(p, id).await?.map(|(c, _)| c))
}

/// Whether `uri` may be registered as a redirect URI: absolute `https://host…`, or
/// `http://127.0.0.1…` / `http://localhost…` for development; no fragment, no spaces or
/// control characters, at most 2,000 characters.
pub fn valid_redirect_uri(uri: &str) -> bool {
    let host_ok = |rest: &str| {
        let host = rest.split(['/', '?', ':']).next().unwrap_or("");
        !host.is_empty() && !host.contains('@')
    };
    let dev = |rest: &str, host: &str| {
        rest.strip_prefix(host)
            .is_some_and(|r| r.is_empty() || r.starts_with([':', '/', '?']))
    };
    uri.len() <= 2000
        && !uri.contains('#')
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
        && match (uri.strip_prefix("https://"), uri.strip_prefix("http://")) {
            (Some(rest), _) => host_ok(rest),
            (None, Some(rest)) => dev(rest, "127.0.0.1") || dev(rest, "localhost"),
            _ => false,
        }
}

fn authorize_actor(actor: Option<&Staff>) -> Result<String, ServiceError> {
    match actor {
        Some(s) => {
            super::authz::require_system_admin(s)?;
            Ok(format!("staff:{}", s.id))
        }
        None => Ok("cli".to_owned()),
    }
}

/// Checks a space-separated scope list against the known scopes; returns it normalized.
fn parse_client_scope(scope: &str) -> Result<Vec<String>, ServiceError> {
    let scope = if scope.trim().is_empty() {
        DEFAULT_SCOPE
    } else {
        scope
    };
    let mut out: Vec<String> = Vec::new();
    for s in scope.split_whitespace() {
        if !SCOPES.contains(&s) {
            return Err(ServiceError::invalid(
                "scope",
                &format!("未知的授权范围“{s}”（可用：openid profile phone cases）"),
                &format!("unknown scope `{s}` (known: openid profile phone cases)"),
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    if !out.iter().any(|s| s == "openid") {
        return Err(ServiceError::invalid(
            "scope",
            "授权范围必须包含 openid",
            "the scopes must include openid",
        ));
    }
    Ok(out)
}

/// Registers a client system; returns `(client_id, secret)`. The secret is shown this once.
/// `actor` must be a system administrator (`None`: the command line). `scope` is a
/// space-separated list (empty: `openid profile`).
pub async fn add_client(
    p: &Platform,
    actor: Option<&Staff>,
    name: &str,
    redirect_uris: &[String],
    post_logout_redirect_uris: &[String],
    scope: &str,
) -> Result<(String, String), ServiceError> {
    let actor = authorize_actor(actor)?;
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(crate::FieldError::new(
            "name",
            "名称必填，最多100个字符",
            "a name of 1 to 100 characters is required",
        ));
    }
    if redirect_uris.is_empty() {
        errors.push(crate::FieldError::new(
            "redirect_uri",
            "至少需要一个回调地址",
            "at least one redirect URI is required",
        ));
    }
    for (field, list) in [
        ("redirect_uri", redirect_uris),
        ("post_logout_redirect_uri", post_logout_redirect_uris),
    ] {
        for uri in list {
            if !valid_redirect_uri(uri) {
                errors.push(crate::FieldError::new(
                    field,
                    format!(
                        "“{uri}”不是有效的回调地址：须为 https:// 绝对地址（开发可用 http://127.0.0.1 或 http://localhost），不含 #"
                    ),
                    format!(
                        "`{uri}` is not a valid redirect URI: absolute https:// (http://127.0.0.1 or http://localhost for development), no fragment"
                    ),
                ));
            }
        }
    }
    let scopes = match parse_client_scope(scope) {
        Ok(s) => s,
        Err(ServiceError::Invalid(mut e)) => {
            errors.append(&mut e);
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let client_id = format!("ywc_{}", uuid::Uuid::new_v4().simple());
    let secret = yiwang_crypto::random::random_token();
    let secret_hash = passwords::hash(&secret)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query(
        "INSERT INTO oidc_clients (client_id, name, secret_hash, redirect_uris, \
         post_logout_redirect_uris, scopes, disabled, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
    )
    .bind(&client_id)
    .bind(name)
    .bind(&secret_hash)
    .bind(serde_json::to_string(redirect_uris)?)
    .bind(serde_json::to_string(post_logout_redirect_uris)?)
    .bind(scopes.join(" "))
    .bind(&actor)
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &actor,
            action: "oidc.client_add",
            target: &format!("client:{client_id}"),
            outcome: Outcome::Success,
            ip: "",
            detail: json!({
                "name": name,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
                "scope": scopes.join(" "),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((client_id, secret))
}

/// Every registered client, oldest first.
pub async fn list_clients(
    p: &Platform,
    actor: Option<&Staff>,
) -> Result<Vec<Client>, ServiceError> {
    authorize_actor(actor)?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_at, client_id"
    )))
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|r| client_from_row(r).map(|(c, _)| c))
    .collect()
}

/// Disables a client: it can no longer get codes or tokens, nor refresh.
pub async fn disable_client(
    p: &Platform,
    actor: Option<&Staff>,
    client_id: &str,
) -> Result<(), ServiceError> {
    let actor = authorize_actor(actor)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let n = sqlx::query("UPDATE oidc_clients SET disabled = 1 WHERE client_id = $1")
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ServiceError::NotFound {
            what: "客户端",
            key: client_id.to_owned(),
        });
    }
    sqlx::query(
        "UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL",
    )
    .bind(fmt_time(now))
    .bind(client_id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &actor,
            "oidc.client_disable",
            &format!("client:{client_id}"),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a client a new secret (returned, shown once); the old one stops working at once.
pub async fn rotate_secret(
    p: &Platform,
    actor: Option<&Staff>,
    client_id: &str,
) -> Result<String, ServiceError> {
    let actor = authorize_actor(actor)?;
    let secret = yiwang_crypto::random::random_token();
    let hash = passwords::hash(&secret)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let n = sqlx::query("UPDATE oidc_clients SET secret_hash = $1 WHERE client_id = $2")
        .bind(&hash)
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ServiceError::NotFound {
            what: "客户端",
            key: client_id.to_owned(),
        });
    }
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &actor,
            "oidc.client_rotate_secret",
            &format!("client:{client_id}"),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    if let Ok(mut v) = p.oidc.verified.lock() {
        v.remove(client_id);
    }
    Ok(secret)
}

// --- signing keys ------------------------------------------------------------------------------

/// The current ID-token signing key: loaded from `signing_keys` (newest not retired), or
/// created there on first need; kept in memory afterwards.
pub async fn signing_key(p: &Platform) -> Result<Arc<EcSigningKey>, ServiceError> {
    p.oidc
        .key
        .get_or_try_init(|| load_or_create_key(p))
        .await
        .cloned()
}

async fn load_or_create_key(p: &Platform) -> Result<Arc<EcSigningKey>, ServiceError> {
    let fail = |e: yiwang_crypto::CryptoError| ServiceError::internal(format!("signing key: {e}"));
    if let Some(r) = sqlx::query(
        "SELECT private_enc FROM signing_keys WHERE retired_at IS NULL AND alg = 'ES256' \
         ORDER BY created_at DESC, kid LIMIT 1",
    )
    .fetch_optional(p.db.pool())
    .await?
    {
        let pem = p
            .keys
            .pii
            .decrypt("signing_key", &r.try_get::<String, _>("private_enc")?)
            .map_err(fail)?;
        return Ok(Arc::new(EcSigningKey::from_pkcs8_pem(&pem).map_err(fail)?));
    }
    let key = EcSigningKey::generate();
    let sealed = p
        .keys
        .pii
        .encrypt("signing_key", &key.to_pkcs8_pem().map_err(fail)?)
        .map_err(fail)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_enc, public_jwk, created_at, retired_at) \
         VALUES ($1, 'ES256', $2, $3, $4, NULL)",
    )
    .bind(key.kid())
    .bind(&sealed)
    .bind(key.public_jwk().to_string())
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            "system",
            "oidc.signing_key_create",
            &format!("key:{}", key.kid()),
            json!({ "alg": "ES256" }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Arc::new(key))
}

/// The public keys of every signing key not retired (the JWKS `keys` array).
pub async fn jwks(p: &Platform) -> Result<Vec<Value>, ServiceError> {
    signing_key(p).await?;
    sqlx::query("SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at")
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(serde_json::from_str(
                &r.try_get::<String, _>("public_jwk")?,
            )?)
        })
        .collect()
}

// --- subjects and claims -----------------------------------------------------------------------

/// Who signs in to the client: a citizen or staff member with a live platform session.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `user:<uuid>` or `staff:<uuid>`.
    pub sub: String,
    /// The platform session (the SM3 hash its table is keyed by, never the token itself).
    pub sid: String,
    /// When the session signed in.
    pub auth_time: DateTime<Utc>,
}

/// The subject of the browser's platform sessions: the citizen session (`yw_user` cookie)
/// first, then the staff session (`yw_session`; only once past its second factor).
pub async fn subject_from_sessions(
    p: &Platform,
    user_token: Option<&str>,
    staff_token: Option<&str>,
) -> Result<Option<Subject>, ServiceError> {
    if let Some(t) = user_token
        && let Some(s) = users::user_session(p, t).await?
    {
        let sid = sm3_hex(t);
        let created = created_at(p, "user_sessions", &sid).await?;
        return Ok(Some(Subject {
            sub: format!("user:{}", s.user.id),
            sid,
            auth_time: created.unwrap_or_else(|| p.now()),
        }));
    }
    if let Some(t) = staff_token
        && let Some(s) = super::staff::session(p, t).await?
        && s.complete()
    {
        let sid = sm3_hex(t);
        let created = created_at(p, "sessions", &sid).await?;
        return Ok(Some(Subject {
            sub: format!("staff:{}", s.staff.id),
            sid,
            auth_time: created.unwrap_or_else(|| p.now()),
        }));
    }
    Ok(None)
}

async fn created_at(
    p: &Platform,
    table: &'static str,
    id_hash: &str,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT created_at FROM {table} WHERE id_hash = $1"
    )))
    .bind(id_hash)
    .fetch_optional(p.db.pool())
    .await?
    .and_then(|r| r.try_get::<String, _>("created_at").ok())
    .and_then(|t| parse_time(&t)))
}

/// The claims of a subject for a scope (always `sub`); `None` when the account no longer
/// exists or is not active.
pub async fn claims(
    p: &Platform,
    sub: &str,
    scope: &str,
) -> Result<Option<Map<String, Value>>, ServiceError> {
    let has = |s: &str| scope.split_whitespace().any(|x| x == s);
    let mut c = Map::new();
    c.insert("sub".into(), Value::String(sub.to_owned()));
    match sub.split_once(':') {
        Some(("user", id)) => {
            let Some(u) = users::load_user(p, id).await? else {
                return Ok(None);
            };
            if u.status != "active" {
                return Ok(None);
            }
            if has("profile") {
                c.insert("name".into(), json!(u.name));
                c.insert("user_type".into(), json!("person"));
                c.insert("real_name_level".into(), json!(u.level as i64));
                // The enterprises the citizen may act for (法人): as legal representative, or
                // as an agent within a grant's scope and until its end.
                let me = users::UserSession {
                    user: u.clone(),
                    csrf: String::new(),
                };
                let mut list = Vec::new();
                for e in super::enterprises::represented(p, &me).await? {
                    list.push(json!({
                        "credit_code": e.credit_code,
                        "name": e.name,
                        "role": "legal_representative",
                        "items": ["*"],
                    }));
                }
                for g in super::enterprises::my_grants(p, &me).await? {
                    let items = match g.scope {
                        super::enterprises::Scope::All => vec!["*".to_owned()],
                        super::enterprises::Scope::Items(v) => v,
                    };
                    list.push(json!({
                        "credit_code": g.enterprise,
                        "name": g.enterprise_name,
                        "role": "agent",
                        "items": items,
                        "until": g.expires_at,
                    }));
                }
                if let Some(first) = list.first() {
                    c.insert("credit_code".into(), first["credit_code"].clone());
                }
                c.insert("enterprises".into(), Value::Array(list));
            }
            if has("phone") {
                c.insert("phone_number".into(), json!(u.phone_masked));
            }
        }
        Some(("staff", id)) => {
            let Some(s) = super::staff::load_staff(p, id, None).await? else {
                return Ok(None);
            };
            if has("profile") {
                c.insert("name".into(), json!(s.display_name));
                c.insert("user_type".into(), json!("staff"));
                c.insert("org".into(), json!(s.org));
                c.insert("org_name".into(), json!(s.org_name));
                c.insert(
                    "roles".into(),
                    json!(s.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
                );
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(c))
}

// --- authorization -----------------------------------------------------------------------------

/// The parameters of an authorization request, as the browser sent them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// Must equal one registered URI exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated; must contain `openid`.
    pub scope: Option<String>,
    /// Echoed back.
    pub state: Option<String>,
    /// Put into the ID token.
    pub nonce: Option<String>,
    /// PKCE: base64url(SHA-256(verifier)), required.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// `none`: fail with `login_required` instead of asking to sign in.
    pub prompt: Option<String>,
}

/// A successful authorization: where to send the browser (the redirect URI with `code` and
/// `state`), and the code itself.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The redirect URI with `code` and `state`.
    pub redirect_to: String,
    /// The code.
    pub code: String,
}

/// Why an authorization request did not give a code.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show the error, never redirect.
    Page(OidcError),
    /// An error for the client, sent to its (checked) redirect URI: the full URL.
    Redirect(String),
    /// No platform session: sign in, then repeat the request.
    LoginRequired,
}

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks an authorization request and, when a subject is signed in, issues a code.
pub async fn authorize(
    p: &Platform,
    req: &AuthorizeRequest,
    subject: Option<&Subject>,
) -> Result<Authorized, AuthorizeError> {
    let page = |code, zh: &str, en: &str| AuthorizeError::Page(OidcError::new(code, zh, en));
    let Some(client_id) = req.client_id.as_deref().filter(|s| !s.is_empty()) else {
        return Err(page(
            ErrorCode::InvalidRequest,
            "缺少 client_id",
            "client_id is missing",
        ));
    };
    let client = match load_client(p, client_id).await {
        Ok(Some((c, _))) => c,
        Ok(None) => {
            return Err(page(
                ErrorCode::InvalidClient,
                "未注册的客户端",
                "unknown client",
            ));
        }
        Err(e) => return Err(AuthorizeError::Page(e.into())),
    };
    if client.disabled {
        return Err(page(
            ErrorCode::UnauthorizedClient,
            "该客户端已停用",
            "the client is disabled",
        ));
    }
    let Some(redirect_uri) = req
        .redirect_uri
        .as_deref()
        .filter(|u| client.redirect_uris.iter().any(|r| r == u))
    else {
        return Err(page(
            ErrorCode::InvalidRequest,
            "回调地址 redirect_uri 缺失或未登记",
            "redirect_uri is missing or not registered for this client",
        ));
    };
    let state = req.state.as_deref();
    let back = |code: ErrorCode, en: &str| {
        AuthorizeError::Redirect(with_params(
            redirect_uri,
            &[
                ("error", Some(code.as_str())),
                ("error_description", Some(en)),
                ("state", state),
            ],
        ))
    };
    match req.response_type.as_deref() {
        Some("code") => {}
        None => return Err(back(ErrorCode::InvalidRequest, "response_type is missing")),
        Some(_) => {
            return Err(back(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if state.is_some_and(|s| s.len() > 1024) || req.nonce.as_deref().is_some_and(|n| n.len() > 255)
    {
        return Err(back(
            ErrorCode::InvalidRequest,
            "state (1024) or nonce (255) too long",
        ));
    }
    let scope: Vec<&str> = req
        .scope
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    if !scope.contains(&"openid") {
        return Err(back(ErrorCode::InvalidScope, "scope must contain openid"));
    }
    if let Some(s) = scope
        .iter()
        .find(|s| !client.scopes.iter().any(|c| c == *s))
    {
        return Err(back(
            ErrorCode::InvalidScope,
            &format!("scope {s} is not allowed for this client"),
        ));
    }
    let mut scope_norm: Vec<&str> = Vec::new();
    for s in scope {
        if !scope_norm.contains(&s) {
            scope_norm.push(s);
        }
    }
    let scope = scope_norm.join(" ");
    let Some(challenge) = req.code_challenge.as_deref().filter(|c| !c.is_empty()) else {
        return Err(back(
            ErrorCode::InvalidRequest,
            "PKCE is required: code_challenge is missing",
        ));
    };
    if req.code_challenge_method.as_deref() != Some("S256") {
        return Err(back(
            ErrorCode::InvalidRequest,
            "code_challenge_method must be S256",
        ));
    }
    if challenge.len() != 43 || !is_b64url(challenge) {
        return Err(back(
            ErrorCode::InvalidRequest,
            "code_challenge must be base64url of a SHA-256 digest (43 characters)",
        ));
    }
    let Some(subject) = subject else {
        return Err(if req.prompt.as_deref() == Some("none") {
            back(ErrorCode::LoginRequired, "no session")
        } else {
            AuthorizeError::LoginRequired
        });
    };
    let code = yiwang_crypto::random::random_token();
    let now = p.now();
    let stored = async {
        let mut tx = p.db.begin().await?;
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, client_id, subject, redirect_uri, scope, nonce, \
             code_challenge, auth_time, sid, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        )
        .bind(sm3_hex(&code))
        .bind(&client.client_id)
        .bind(&subject.sub)
        .bind(redirect_uri)
        .bind(&scope)
        .bind(req.nonce.as_deref())
        .bind(challenge)
        .bind(fmt_time(subject.auth_time))
        .bind(&subject.sid)
        .bind(fmt_time(now + Duration::seconds(CODE_SECONDS)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok::<(), ServiceError>(())
    };
    if let Err(e) = stored.await {
        return Err(AuthorizeError::Page(e.into()));
    }
    Ok(Authorized {
        redirect_to: with_params(redirect_uri, &[("code", Some(&code)), ("state", state)]),
        code,
    })
}

// --- token endpoint ----------------------------------------------------------------------------

/// How the client authenticated (`client_secret_basic` or `client_secret_post`: the same pair).
#[derive(Debug, Clone)]
pub struct ClientAuth {
    /// The client id.
    pub client_id: String,
    /// The secret.
    pub client_secret: String,
}

/// A successful token response (RFC 6749 §5.1 plus the ID token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// HMAC-SM3 access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: i64,
    /// The next refresh token.
    pub refresh_token: String,
    /// ES256 JWT.
    pub id_token: String,
    /// The granted scope.
    pub scope: String,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Subject.
    pub sub: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Granted scope.
    pub scope: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Token id.
    pub jti: String,
}

/// Records a refused token request in the audit log.
async fn audit_failure(p: &Platform, client_id: &str, action: &str, e: &OidcError) {
    let r = audit::record_event(
        p,
        &Entry {
            actor: &format!("client:{client_id}"),
            action,
            target: &format!("client:{client_id}"),
            outcome: Outcome::Failure,
            ip: "",
            detail: json!({ "error": e.code.as_str(), "description": e.description }),
        },
    )
    .await;
    if let Err(err) = r {
        tracing::error!(error = %err, "audit of a refused token request failed");
    }
}

/// Authenticates a client: registered, enabled, and the secret matches its Argon2id hash. A
/// secret that matched once is remembered (as its SM3 hash, with the stored hash it matched) so
/// that later requests do not pay Argon2id again; a rotation changes the stored hash.
async fn authenticate(p: &Platform, auth: &ClientAuth) -> Result<Client, OidcError> {
    let bad = || {
        OidcError::new(
            ErrorCode::InvalidClient,
            "客户端认证失败",
            "client authentication failed",
        )
    };
    let Some((client, hash)) = load_client(p, &auth.client_id).await? else {
        passwords::verify_dummy(&auth.client_secret);
        return Err(bad());
    };
    if client.disabled {
        return Err(OidcError::new(
            ErrorCode::InvalidClient,
            "该客户端已停用",
            "the client is disabled",
        ));
    }
    let presented = sm3_hex(&auth.client_secret);
    let cached = p
        .oidc
        .verified
        .lock()
        .ok()
        .and_then(|v| v.get(&client.client_id).cloned());
    if let Some((h, s)) = cached
        && h == hash
    {
        return if yiwang_crypto::eq_constant_time(s.as_bytes(), presented.as_bytes()) {
            Ok(client)
        } else {
            Err(bad())
        };
    }
    if !passwords::verify(&auth.client_secret, &hash) {
        return Err(bad());
    }
    if let Ok(mut v) = p.oidc.verified.lock() {
        v.insert(client.client_id.clone(), (hash, presented));
    }
    Ok(client)
}

/// What an issued set of tokens is about.
struct Grant<'a> {
    client_id: &'a str,
    sub: &'a str,
    scope: &'a str,
    auth_time: DateTime<Utc>,
    sid: &'a str,
    nonce: Option<&'a str>,
    family: &'a str,
}

/// Mints the access token.
fn access_token(p: &Platform, g: &Grant<'_>, now: DateTime<Utc>) -> Result<String, ServiceError> {
    let claims = AccessClaims {
        sub: g.sub.to_owned(),
        client_id: g.client_id.to_owned(),
        scope: g.scope.to_owned(),
        exp: now.timestamp() + ACCESS_SECONDS,
        iat: now.timestamp(),
        jti: uuid::Uuid::new_v4().simple().to_string(),
    };
    Ok(p.keys.token.sign(&serde_json::to_vec(&claims)?))
}

/// Signs an ID token for a grant with the subject's claims.
pub async fn id_token(
    p: &Platform,
    client_id: &str,
    subject_claims: Map<String, Value>,
    auth_time: DateTime<Utc>,
    sid: &str,
    nonce: Option<&str>,
) -> Result<String, ServiceError> {
    let key = signing_key(p).await?;
    let now = p.now().timestamp();
    let mut c = subject_claims;
    c.insert("iss".into(), json!(p.oidc.issuer()));
    c.insert("aud".into(), json!(client_id));
    c.insert("exp".into(), json!(now + ID_TOKEN_SECONDS));
    c.insert("iat".into(), json!(now));
    c.insert("auth_time".into(), json!(auth_time.timestamp()));
    c.insert("sid".into(), json!(sid));
    if let Some(n) = nonce {
        c.insert("nonce".into(), json!(n));
    }
    key.sign(&Value::Object(c))
        .map_err(|e| ServiceError::internal(format!("signing an ID token: {e}")))
}

/// Issues access, refresh and ID tokens inside the caller's transaction.
async fn issue(
    p: &Platform,
    tx: &mut Transaction<'static, Any>,
    g: &Grant<'_>,
) -> Result<TokenResponse, OidcError> {
    let now = p.now();
    let Some(subject_claims) = claims(p, g.sub, g.scope).await? else {
        return Err(OidcError::grant(
            "账号已不存在或已停用",
            "the account no longer exists or is disabled",
        ));
    };
    let refresh = yiwang_crypto::random::random_token();
    sqlx::query(
        "INSERT INTO oidc_refresh_tokens (token_hash, family, client_id, subject, scope, \
         auth_time, sid, expires_at, used_at, revoked_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)",
    )
    .bind(sm3_hex(&refresh))
    .bind(g.family)
    .bind(g.client_id)
    .bind(g.sub)
    .bind(g.scope)
    .bind(fmt_time(g.auth_time))
    .bind(g.sid)
    .bind(fmt_time(now + Duration::days(REFRESH_DAYS)))
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?;
    Ok(TokenResponse {
        access_token: access_token(p, g, now)?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_SECONDS,
        refresh_token: refresh,
        id_token: id_token(p, g.client_id, subject_claims, g.auth_time, g.sid, g.nonce).await?,
        scope: g.scope.to_owned(),
    })
}

async fn revoke_family(
    tx: &mut Transaction<'static, Any>,
    family: &str,
    now: DateTime<Utc>,
) -> Result<u64, ServiceError> {
    Ok(sqlx::query(
        "UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
    )
    .bind(fmt_time(now))
    .bind(family)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Whether `verifier` is a valid PKCE verifier whose S256 challenge is `challenge`.
fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    valid && {
        let computed = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
        yiwang_crypto::eq_constant_time(computed.as_bytes(), challenge.as_bytes())
    }
}

/// The `authorization_code` grant: checks the client, the code (unused, unexpired, issued to
/// this client for this redirect URI) and the PKCE verifier, then issues tokens. Any failure
/// with a known code burns it; a code used before also revokes what it gave.
pub async fn exchange_code(
    p: &Platform,
    auth: &ClientAuth,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
) -> Result<TokenResponse, OidcError> {
    let r = exchange_inner(p, auth, code, redirect_uri, code_verifier).await;
    if let Err(e) = &r {
        audit_failure(p, &auth.client_id, "oidc.token.authorization_code", e).await;
    }
    r
}

async fn exchange_inner(
    p: &Platform,
    auth: &ClientAuth,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
) -> Result<TokenResponse, OidcError> {
    let client = authenticate(p, auth).await?;
    if code.is_empty() || redirect_uri.is_empty() || code_verifier.is_empty() {
        return Err(OidcError::request(
            "缺少 code、redirect_uri 或 code_verifier",
            "code, redirect_uri and code_verifier are required",
        ));
    }
    // Loaded (or created, in a transaction of its own) before this one takes the write lock.
    signing_key(p).await?;
    let now = p.now();
    let code_hash = sm3_hex(code);
    let mut tx = p.db.begin().await?;
    let Some(r) = sqlx::query(
        "SELECT client_id, subject, redirect_uri, scope, nonce, code_challenge, auth_time, sid, \
         expires_at, used_at FROM oidc_codes WHERE code_hash = $1",
    )
    .bind(&code_hash)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Err(OidcError::grant("授权码无效", "unknown authorization code"));
    };
    let used =
        sqlx::query("UPDATE oidc_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
            .bind(fmt_time(now))
            .bind(&code_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 0;
    if used {
        let revoked = revoke_family(&mut tx, &code_hash, now).await?;
        audit::append(
            &mut tx,
            now,
            &Entry {
                actor: &format!("client:{}", client.client_id),
                action: "oidc.code_replay",
                target: &r.try_get::<String, _>("subject")?,
                outcome: Outcome::Failure,
                ip: "",
                detail: json!({ "refresh_tokens_revoked": revoked }),
            },
        )
        .await?;
        tx.commit().await?;
        return Err(OidcError::grant(
            "授权码已使用过；由它签发的令牌已吊销",
            "authorization code already used; the tokens issued from it are revoked",
        ));
    }
    let get = |c: &str| r.try_get::<String, _>(c);
    let failure = if get("client_id")? != client.client_id {
        Some(OidcError::grant(
            "授权码不属于该客户端",
            "code was issued to another client",
        ))
    } else if parse_time(&get("expires_at")?).is_none_or(|t| t <= now) {
        Some(OidcError::grant(
            "授权码已过期",
            "authorization code expired",
        ))
    } else if get("redirect_uri")? != redirect_uri {
        Some(OidcError::grant(
            "redirect_uri 与授权请求不一致",
            "redirect_uri does not match the authorization request",
        ))
    } else if !pkce_ok(code_verifier, &get("code_challenge")?) {
        Some(OidcError::grant(
            "PKCE 校验失败",
            "PKCE verification failed",
        ))
    } else {
        None
    };
    if let Some(e) = failure {
        // The code is burnt (marked used above).
        tx.commit().await?;
        return Err(e);
    }
    let sub = get("subject")?;
    let scope = get("scope")?;
    let sid = get("sid")?;
    let nonce: Option<String> = r.try_get("nonce")?;
    let auth_time = parse_time(&get("auth_time")?).unwrap_or(now);
    let tokens = issue(
        p,
        &mut tx,
        &Grant {
            client_id: &client.client_id,
            sub: &sub,
            scope: &scope,
            auth_time,
            sid: &sid,
            nonce: nonce.as_deref(),
            family: &code_hash,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(tokens)
}

/// The `refresh_token` grant: the token must be this client's, unexpired, unused and not
/// revoked; it is marked used and a new one (same family) is issued. Presenting a used token
/// revokes the whole family. `scope`, when given, must be within the original scope.
pub async fn refresh(
    p: &Platform,
    auth: &ClientAuth,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OidcError> {
    let r = refresh_inner(p, auth, refresh_token, scope).await;
    if let Err(e) = &r {
        audit_failure(p, &auth.client_id, "oidc.token.refresh_token", e).await;
    }
    r
}

async fn refresh_inner(
    p: &Platform,
    auth: &ClientAuth,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OidcError> {
    let client = authenticate(p, auth).await?;
    if refresh_token.is_empty() {
        return Err(OidcError::request(
            "缺少 refresh_token",
            "refresh_token is required",
        ));
    }
    // Loaded (or created, in a transaction of its own) before this one takes the write lock.
    signing_key(p).await?;
    let now = p.now();
    let hash = sm3_hex(refresh_token);
    let mut tx = p.db.begin().await?;
    let Some(r) = sqlx::query(
        "SELECT family, client_id, subject, scope, auth_time, sid, expires_at, used_at, \
         revoked_at FROM oidc_refresh_tokens WHERE token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Err(OidcError::grant("刷新令牌无效", "unknown refresh token"));
    };
    let get = |c: &str| r.try_get::<String, _>(c);
    let family = get("family")?;
    if get("client_id")? != client.client_id {
        return Err(OidcError::grant(
            "刷新令牌不属于该客户端",
            "refresh token was issued to another client",
        ));
    }
    if r.try_get::<Option<String>, _>("revoked_at")?.is_some() {
        return Err(OidcError::grant("刷新令牌已吊销", "refresh token revoked"));
    }
    let fresh = sqlx::query(
        "UPDATE oidc_refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
         AND revoked_at IS NULL",
    )
    .bind(fmt_time(now))
    .bind(&hash)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        let revoked = revoke_family(&mut tx, &family, now).await?;
        audit::append(
            &mut tx,
            now,
            &Entry {
                actor: &format!("client:{}", client.client_id),
                action: "oidc.refresh_reuse",
                target: &get("subject")?,
                outcome: Outcome::Failure,
                ip: "",
                detail: json!({ "refresh_tokens_revoked": revoked }),
            },
        )
        .await?;
        tx.commit().await?;
        return Err(OidcError::grant(
            "刷新令牌已使用过；该系列令牌已全部吊销",
            "refresh token already used; its whole family is revoked",
        ));
    }
    if parse_time(&get("expires_at")?).is_none_or(|t| t <= now) {
        return Err(OidcError::grant("刷新令牌已过期", "refresh token expired"));
    }
    let granted = get("scope")?;
    let scope = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => granted,
        Some(asked) => {
            if asked
                .split_whitespace()
                .any(|s| !granted.split_whitespace().any(|g| g == s))
            {
                return Err(OidcError::new(
                    ErrorCode::InvalidScope,
                    "请求的授权范围超出原授权",
                    "requested scope exceeds the original grant",
                ));
            }
            if !asked.split_whitespace().any(|s| s == "openid") {
                return Err(OidcError::new(
                    ErrorCode::InvalidScope,
                    "授权范围必须包含 openid",
                    "scope must contain openid",
                ));
            }
            asked.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    let sub = get("subject")?;
    let sid = get("sid")?;
    let auth_time = parse_time(&get("auth_time")?).unwrap_or(now);
    let tokens = issue(
        p,
        &mut tx,
        &Grant {
            client_id: &client.client_id,
            sub: &sub,
            scope: &scope,
            auth_time,
            sid: &sid,
            nonce: None,
            family: &family,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(tokens)
}

// --- resource side -----------------------------------------------------------------------------

/// Verifies an access token: the HMAC-SM3 tag, the JSON claims and the expiry. No database.
pub fn verify_access_token(p: &Platform, token: &str) -> Result<AccessClaims, OidcError> {
    let bad = |en: &str| OidcError::new(ErrorCode::InvalidToken, "访问令牌无效或已过期", en);
    let payload = p
        .keys
        .token
        .verify(token)
        .map_err(|_| bad("access token is invalid"))?;
    let claims: AccessClaims =
        serde_json::from_slice(&payload).map_err(|_| bad("access token is invalid"))?;
    if claims.exp <= p.now().timestamp() {
        return Err(bad("access token expired"));
    }
    Ok(claims)
}

/// Who a call to the REST API acts as: the access token's subject, loaded.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A citizen's account.
    User(super::users::User),
    /// A staff member, acting in their home organisation (or `org` when they hold a role
    /// there).
    Staff(super::staff::Staff),
}

/// The principal of an API call: a valid access token (see [`verify_access_token`]) that
/// grants `scope`, for an account that still exists and is active. `Unauthenticated` for a
/// bad, expired or orphaned token; `Forbidden` when the token lacks the scope.
pub async fn api_principal(
    p: &Platform,
    token: &str,
    scope: &str,
    org: Option<&str>,
) -> Result<Principal, ServiceError> {
    let t = verify_access_token(p, token).map_err(|_| ServiceError::Unauthenticated)?;
    if !t.scope.split_whitespace().any(|s| s == scope) {
        return Err(ServiceError::Forbidden(format!(
            "访问令牌未授予“{scope}”范围 / the access token does not grant the `{scope}` scope"
        )));
    }
    match t.sub.split_once(':') {
        Some(("user", id)) => match users::load_user(p, id).await? {
            Some(u) if u.status == "active" => Ok(Principal::User(u)),
            _ => Err(ServiceError::Unauthenticated),
        },
        Some(("staff", id)) => super::staff::load_staff(p, id, org)
            .await?
            .map(Principal::Staff)
            .ok_or(ServiceError::Unauthenticated),
        _ => Err(ServiceError::Unauthenticated),
    }
}

/// The userinfo response of an access token: the subject's claims for the token's scope.
pub async fn userinfo(p: &Platform, access_token: &str) -> Result<Value, OidcError> {
    let t = verify_access_token(p, access_token)?;
    match claims(p, &t.sub, &t.scope).await? {
        Some(c) => Ok(Value::Object(c)),
        None => Err(OidcError::new(
            ErrorCode::InvalidToken,
            "账号已不存在或已停用",
            "the account no longer exists or is disabled",
        )),
    }
}

// --- logout ------------------------------------------------------------------------------------

/// RP-initiated logout. The ID token hint must carry our signature and issuer (an expired one
/// is fine); its `sid` session is ended and that session's refresh tokens revoked. Returns the
/// URL to send the browser to: `post_logout_redirect_uri` (with `state`) when it is registered
/// for the hint's client, else `None`. A `post_logout_redirect_uri` without a hint, or one not
/// registered, is an error.
pub async fn end_session(
    p: &Platform,
    id_token_hint: Option<&str>,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Result<Option<String>, OidcError> {
    let post_logout_redirect_uri = post_logout_redirect_uri.filter(|u| !u.is_empty());
    let Some(hint) = id_token_hint.filter(|h| !h.is_empty()) else {
        return match post_logout_redirect_uri {
            Some(_) => Err(OidcError::request(
                "使用 post_logout_redirect_uri 时须提供 id_token_hint",
                "id_token_hint is required with post_logout_redirect_uri",
            )),
            None => Ok(None),
        };
    };
    let keys = jwks(p).await?;
    let bad_hint = || {
        OidcError::request(
            "id_token_hint 无效",
            "id_token_hint is not a valid ID token of this provider",
        )
    };
    let claims = yiwang_crypto::verify_es256(hint, &keys).map_err(|_| bad_hint())?;
    if claims["iss"].as_str() != Some(p.oidc.issuer().as_str()) {
        return Err(bad_hint());
    }
    let (Some(client_id), Some(sub), Some(sid)) = (
        claims["aud"].as_str(),
        claims["sub"].as_str(),
        claims["sid"].as_str(),
    ) else {
        return Err(bad_hint());
    };
    let Some(client) = get_client(p, client_id).await? else {
        return Err(bad_hint());
    };
    let target = match post_logout_redirect_uri {
        None => None,
        Some(u) if client.post_logout_redirect_uris.iter().any(|r| r == u) => {
            Some(with_params(u, &[("state", state)]))
        }
        Some(_) => {
            return Err(OidcError::request(
                "post_logout_redirect_uri 未为该客户端登记",
                "post_logout_redirect_uri is not registered for this client",
            ));
        }
    };
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let table = match sub.split_once(':') {
        Some(("user", _)) => "user_sessions",
        _ => "sessions",
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE id_hash = $1"
    )))
    .bind(sid)
    .execute(&mut *tx)
    .await?;
    let revoked = sqlx::query(
        "UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE sid = $2 AND revoked_at IS NULL",
    )
    .bind(fmt_time(now))
    .bind(sid)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            sub,
            "oidc.logout",
            &format!("client:{client_id}"),
            json!({ "refresh_tokens_revoked": revoked }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        assert!(valid_redirect_uri("https://rp.example.gov.cn/cb"));
        assert!(valid_redirect_uri("http://127.0.0.1:9000/cb"));
        assert!(valid_redirect_uri("http://localhost/cb?x=1"));
        assert!(!valid_redirect_uri("http://rp.example.gov.cn/cb"));
        assert!(!valid_redirect_uri("http://localhost.evil.com/cb"));
        assert!(!valid_redirect_uri("https://rp.example/cb#frag"));
        assert!(!valid_redirect_uri("https:///cb"));
        assert!(!valid_redirect_uri("/cb"));
        assert!(!valid_redirect_uri("https://a b/"));
    }

    #[test]
    fn pkce_s256_vector() {
        // Challenge computed independently with Python's hashlib and base64.
        assert!(pkce_ok(
            "dBjftJeZ4CVP-mB92K9uhyHFZZ7sePEn4VJd5vjAV7s",
            "TX2FVlnHqHgb-fZnvu-stBTQZkzmSclP4r7In-U77o8"
        ));
        assert!(!pkce_ok(
            "dBjftJeZ4CVP-mB92K9uhyHFZZ7sePEn4VJd5vjAV7x",
            "TX2FVlnHqHgb-fZnvu-stBTQZkzmSclP4r7In-U77o8"
        ));
        assert!(!pkce_ok(
            "short",
            "TX2FVlnHqHgb-fZnvu-stBTQZkzmSclP4r7In-U77o8"
        ));
    }

    #[test]
    fn params_are_encoded() {
        assert_eq!(
            with_params(
                "https://a/cb?x=1",
                &[("code", Some("a b&")), ("state", None)]
            ),
            "https://a/cb?x=1&code=a%20b%26"
        );
    }
}
