//! The OpenID Connect provider's HTTP endpoints (the logic is in
//! `yiwang_services::identity::oidc`):
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/.well-known/openid-configuration` | discovery document (issuer = `WebConfig::public_url`) |
//! | GET | `/oidc/jwks` | the public signing keys |
//! | GET | `/oidc/authorize` | authorization code flow with PKCE `S256`; sessions from the `yw_user` (citizen) then `yw_session` (staff) cookie; without one, 303 to `/account/login?next=<this URL>` (staff use `/admin/login?next=<this URL>`) |
//! | POST | `/oidc/token` | `authorization_code` and `refresh_token` grants, `client_secret_basic` or `client_secret_post`; errors as RFC 6749 JSON, 400 (401 for `invalid_client`) |
//! | GET, POST | `/oidc/userinfo` | `Authorization: Bearer`; 401 with `WWW-Authenticate: Bearer error="invalid_token"` |
//! | GET | `/oidc/logout` | RP-initiated logout: `id_token_hint`, `post_logout_redirect_uri`, `state` |
//!
//! Registered clients are first-party government systems: there is no consent screen. Errors
//! that cannot be trusted to the client (unknown client, unregistered redirect URI) are shown as
//! a page and never redirected. Token and userinfo answers carry `Cache-Control: no-store`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64ct::{Base64, Encoding};
use serde_json::{Value, json};
use yiwang_services::identity::oidc::{
    self, AuthorizeError, AuthorizeRequest, ClientAuth, ErrorCode, OidcError,
};
use yiwang_services::{FieldError, ServiceError};

use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::session::{SESSION_COOKIE, cookie, set_cookie, urlencode};

/// Name of the citizens' session cookie (set by the portal's sign-in pages).
pub const USER_COOKIE: &str = "yw_user";

/// The provider's routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/authorize", get(authorize))
        .route("/oidc/token", axum::routing::post(token))
        .route("/oidc/userinfo", get(userinfo).post(userinfo))
        .route("/oidc/logout", get(logout))
}

/// The discovery document (OpenID Connect Discovery 1.0 §3).
pub fn discovery_document(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oidc/authorize"),
        "token_endpoint": format!("{issuer}/oidc/token"),
        "userinfo_endpoint": format!("{issuer}/oidc/userinfo"),
        "jwks_uri": format!("{issuer}/oidc/jwks"),
        "end_session_endpoint": format!("{issuer}/oidc/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": oidc::SCOPES,
        "claims_supported": oidc::CLAIMS,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })
}

async fn discovery(State(s): State<Shared>) -> Response {
    let doc = discovery_document(&s.platform.oidc.issuer());
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc)).into_response()
}

async fn jwks(State(s): State<Shared>) -> Response {
    match oidc::jwks(&s.platform).await {
        Ok(keys) => (
            [(header::CACHE_CONTROL, "public, max-age=300")],
            Json(json!({ "keys": keys })),
        )
            .into_response(),
        Err(e) => json_error(e.into(), false),
    }
}

/// An OAuth error as a page (for errors that must not go back to the client).
fn error_page(e: OidcError, lang: Lang) -> Response {
    let err = match e.code {
        ErrorCode::ServerError => {
            ServiceError::Internal(e.internal.unwrap_or_else(|| e.description.clone()))
        }
        _ => ServiceError::Invalid(vec![FieldError::new(
            e.code.as_str(),
            e.description_zh,
            e.description,
        )]),
    };
    PageError::new(err, lang).into_response()
}

async fn authorize(
    State(s): State<Shared>,
    lang: Lang,
    uri: Uri,
    headers: HeaderMap,
    q: Result<Query<AuthorizeRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(req)) = q else {
        return error_page(
            OidcError::new(
                ErrorCode::InvalidRequest,
                "授权请求参数有误（参数重复或格式错误）",
                "malformed authorization request",
            ),
            lang,
        );
    };
    let user = cookie(&headers, USER_COOKIE);
    let staff = cookie(&headers, SESSION_COOKIE);
    let subject =
        match oidc::subject_from_sessions(&s.platform, user.as_deref(), staff.as_deref()).await {
            Ok(sub) => sub,
            Err(e) => return PageError::new(e, lang).into_response(),
        };
    let mut res = match oidc::authorize(&s.platform, &req, subject.as_ref()).await {
        Ok(a) => Redirect::to(&a.redirect_to).into_response(),
        Err(AuthorizeError::Redirect(to)) => Redirect::to(&to).into_response(),
        Err(AuthorizeError::Page(e)) => error_page(e, lang),
        Err(AuthorizeError::LoginRequired) => {
            let here = uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/oidc/authorize".into());
            Redirect::to(&format!("/account/login?next={}", urlencode(&here))).into_response()
        }
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An RFC 6749 §5.2 error: `{"error","error_description"}`, 400 (401 for `invalid_client`,
/// with `WWW-Authenticate: Basic` when the client used it; 500 for `server_error`), no-store.
fn json_error(e: OidcError, basic: bool) -> Response {
    let status = match e.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => {
            tracing::error!(error = ?e.internal, "OIDC internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let mut res = (
        status,
        Json(json!({ "error": e.code.as_str(), "error_description": e.description })),
    )
        .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if status == StatusCode::UNAUTHORIZED && basic {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"yiwang\""),
        );
    }
    res
}

fn invalid_request(en: &str) -> OidcError {
    OidcError::new(ErrorCode::InvalidRequest, en, en)
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space), as RFC 6749 §2.3.1
/// requires for the parts of `client_secret_basic`.
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let h = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&h).ok()?, 16).ok()?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// The client's credentials from `Authorization: Basic` or the form; `Ok(None)` for none.
fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(ClientAuth, bool), OidcError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let in_form = form.contains_key("client_secret");
    match basic {
        Some(_) if in_form => Err(invalid_request(
            "use one client authentication method, not both",
        )),
        Some(b64) => {
            let bad = || {
                OidcError::new(
                    ErrorCode::InvalidClient,
                    "客户端认证失败",
                    "malformed Basic credentials",
                )
            };
            let raw = Base64::decode_vec(b64.trim()).map_err(|_| bad())?;
            let text = String::from_utf8(raw).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            let id = form_decode(id).ok_or_else(bad)?;
            if form.get("client_id").is_some_and(|f| *f != id) {
                return Err(invalid_request(
                    "client_id differs from the Basic credentials",
                ));
            }
            Ok((
                ClientAuth {
                    client_id: id,
                    client_secret: form_decode(secret).ok_or_else(bad)?,
                },
                true,
            ))
        }
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => Ok((
                ClientAuth {
                    client_id: id.clone(),
                    client_secret: secret.clone(),
                },
                false,
            )),
            _ => Err(OidcError::new(
                ErrorCode::InvalidClient,
                "缺少客户端认证",
                "client authentication is required (client_secret_basic or client_secret_post)",
            )),
        },
    }
}

async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return json_error(
            invalid_request("the body must be application/x-www-form-urlencoded"),
            false,
        );
    };
    let (auth, basic) = match client_auth(&headers, &form) {
        Ok(a) => a,
        Err(e) => return json_error(e, true),
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let p = &s.platform;
    let result = match field("grant_type") {
        "authorization_code" => {
            oidc::exchange_code(
                p,
                &auth,
                field("code"),
                field("redirect_uri"),
                field("code_verifier"),
            )
            .await
        }
        "refresh_token" => {
            oidc::refresh(
                p,
                &auth,
                field("refresh_token"),
                form.get("scope").map(String::as_str),
            )
            .await
        }
        "" => Err(invalid_request("grant_type is required")),
        _ => Err(OidcError::new(
            ErrorCode::UnsupportedGrantType,
            "unsupported grant_type",
            "only authorization_code and refresh_token are supported",
        )),
    };
    match result {
        Ok(t) => {
            let mut res = Json(t).into_response();
            let h = res.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            res
        }
        Err(e) => json_error(e, basic),
    }
}

/// A 401 for userinfo with the RFC 6750 challenge.
fn bearer_error(description: Option<&str>) -> Response {
    let challenge = match description {
        Some(d) => format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\"",
            d.replace(['"', '\\'], "")
        ),
        None => "Bearer".to_owned(),
    };
    let mut res = (
        StatusCode::UNAUTHORIZED,
        Json(json!({
            "error": "invalid_token",
            "error_description": description.unwrap_or("a Bearer access token is required"),
        })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return bearer_error(None);
    };
    match oidc::userinfo(&s.platform, token).await {
        Ok(claims) => {
            let mut res = Json(claims).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) if e.code == ErrorCode::ServerError => json_error(e, false),
        Err(e) => bearer_error(Some(&e.description)),
    }
}

/// The query of `/oidc/logout`.
#[derive(Debug, Default, serde::Deserialize)]
struct LogoutQuery {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

async fn logout(
    State(s): State<Shared>,
    lang: Lang,
    q: Result<Query<LogoutQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error_page(invalid_request("malformed logout request"), lang);
    };
    if q.id_token_hint.as_deref().is_none_or(str::is_empty) {
        return error_page(
            OidcError::new(
                ErrorCode::InvalidRequest,
                "退出请求须携带 id_token_hint",
                "id_token_hint is required",
            ),
            lang,
        );
    }
    match oidc::end_session(
        &s.platform,
        q.id_token_hint.as_deref(),
        q.post_logout_redirect_uri.as_deref(),
        q.state.as_deref(),
    )
    .await
    {
        Ok(to) => {
            let secure = s.config.secure_cookies;
            let mut res = Redirect::to(to.as_deref().unwrap_or("/")).into_response();
            for name in [USER_COOKIE, SESSION_COOKIE] {
                if let Ok(v) = HeaderValue::from_str(&set_cookie(name, "", secure, Some(0))) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => error_page(e, lang),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_decoding() {
        assert_eq!(super::form_decode("a%2Bb+c").as_deref(), Some("a+b c"));
        assert_eq!(super::form_decode("%zz"), None);
        assert_eq!(super::form_decode("%4"), None);
    }
}
