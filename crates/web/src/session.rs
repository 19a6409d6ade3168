//! Sessions: staff on the management pages ([`StaffSession`], cookie `yw_session`) and citizens
//! on the portal ([`UserSession`], cookie `yw_user`); the extractors that require one, CSRF
//! checks for forms, same-site `next` paths, and a per-address rate limit for sign-in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use yiwang_services::ServiceError;
use yiwang_services::identity::staff::{self as accounts, Staff};
use yiwang_services::identity::users::{self, User};

use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "yw_session";

/// Reads a cookie from request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with the platform's cookie policy.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// A signed-in staff member, required by every management page.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// Who.
    pub staff: Staff,
    /// The session's CSRF token.
    pub csrf: String,
    /// Page language.
    pub lang: Lang,
    /// Whether the session may act (past TOTP when the account needs it); only the TOTP pages
    /// see incomplete sessions.
    pub complete: bool,
}

impl StaffSession {
    /// Fails unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if !token.is_empty() && constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::new(
                ServiceError::Forbidden(
                    "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试".into(),
                ),
                self.lang,
            ))
        }
    }

    /// Wraps a service error for a page.
    pub fn err(&self, e: ServiceError) -> PageError {
        PageError::new(e, self.lang)
    }
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The rejection when no live session exists: back to the sign-in page.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/admin/login?next={}", urlencode(&self.0))).into_response()
    }
}

/// Percent-encodes a string for a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FromRequestParts<Shared> for StaffSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::of(parts);
        // After signing in, go back to the page asked for; a form post cannot be replayed,
        // so its sign-in leads to the dashboard.
        let next = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/admin".into())
        } else {
            "/admin".into()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(SignInFirst(next).into_response());
        };
        match accounts::session(&state.platform, &token).await {
            // A session still waiting for its second factor may only reach the TOTP pages.
            Ok(Some(s)) if !s.complete() && !parts.uri.path().starts_with("/admin/totp") => {
                Err(Redirect::to(&format!("/admin/totp?next={}", urlencode(&next))).into_response())
            }
            Ok(Some(s)) => Ok(StaffSession {
                complete: s.complete(),
                staff: s.staff,
                csrf: s.csrf,
                lang,
            }),
            Ok(None) => Err(SignInFirst(next).into_response()),
            Err(e) => Err(PageError::new(e, lang).into_response()),
        }
    }
}

/// Name of the citizens' session cookie (HttpOnly, SameSite=Lax; it holds the token that
/// `identity::users::user_session` resolves).
pub const USER_COOKIE: &str = "yw_user";

/// A signed-in citizen, required by the account pages.
#[derive(Debug, Clone)]
pub struct UserSession {
    /// Who (personal data masked).
    pub user: User,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session token (from the `yw_user` cookie).
    pub token: String,
    /// Page language.
    pub lang: Lang,
}

impl UserSession {
    /// The live citizen session of a request's `yw_user` cookie, if any (found once per request
    /// by the portal's header middleware and kept in the request's extensions).
    pub async fn of(state: &Shared, parts: &Parts) -> Result<Option<UserSession>, ServiceError> {
        if let Some(s) = parts.extensions.get::<UserSession>() {
            return Ok(Some(s.clone()));
        }
        let Some(token) = cookie(&parts.headers, USER_COOKIE) else {
            return Ok(None);
        };
        let lang = Lang::of(parts);
        Ok(users::user_session(&state.platform, &token)
            .await?
            .map(|s| UserSession {
                user: s.user,
                csrf: s.csrf,
                token,
                lang,
            }))
    }

    /// Fails unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if !token.is_empty() && constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::new(
                ServiceError::Forbidden(
                    "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试".into(),
                ),
                self.lang,
            ))
        }
    }

    /// Wraps a service error for a page.
    pub fn err(&self, e: ServiceError) -> PageError {
        PageError::new(e, self.lang)
    }
}

impl FromRequestParts<Shared> for UserSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::of(parts);
        match UserSession::of(state, parts).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => {
                let next = if parts.method == axum::http::Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_else(|| "/account".into())
                } else {
                    "/account".into()
                };
                Err(
                    Redirect::to(&format!("/account/login?next={}", urlencode(&next)))
                        .into_response(),
                )
            }
            Err(e) => Err(PageError::new(e, lang).into_response()),
        }
    }
}

/// A same-site path to go to after a form (`next`), else `fallback`: it must be a path on this
/// site (one leading `/`, no scheme or host, no backslash or line break) and fit in a header.
pub fn safe_path(next: &str, fallback: &str) -> String {
    let local = next.starts_with('/') && !next.starts_with("//");
    let clean = !next.contains(['\\', '\r', '\n']);
    if local && clean && axum::http::HeaderValue::from_str(next).is_ok() {
        next.to_string()
    } else {
        fallback.to_string()
    }
}

/// A fixed-window rate limit per client address.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    hits: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// At most `max` attempts per `window` per address.
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt; false when the address is over its limit.
    pub fn allow(&self, addr: IpAddr) -> bool {
        let now = Instant::now();
        let Ok(mut hits) = self.hits.lock() else {
            return true;
        };
        if hits.len() > 100_000 {
            hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = hits.entry(addr).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_counts_per_address() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        assert!(l.allow(a));
        assert!(l.allow(a));
        assert!(!l.allow(a));
        assert!(l.allow(b));
    }

    #[test]
    fn cookies_and_csrf() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; yw_session=xyz; lang=en".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "nope"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(urlencode("/admin/items?x=1"), "/admin/items%3Fx%3D1");
    }

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_path("/items?q=1", "/account"), "/items?q=1");
        assert_eq!(safe_path("//evil.example/", "/account"), "/account");
        assert_eq!(safe_path("https://evil.example/", "/account"), "/account");
        assert_eq!(safe_path("/\\evil.example", "/account"), "/account");
        assert_eq!(safe_path("/a\r\nSet-Cookie: x", "/account"), "/account");
        assert_eq!(safe_path("", "/account"), "/account");
    }
}
