//! The language of a page: Simplified Chinese by default, English on request.
//!
//! `?lang=en` or `?lang=zh` on any page switches and is remembered in the `lang` cookie; the
//! layout's language link goes through `/lang/{en|zh}` ([`switch`]), which sets the cookie and
//! returns to the same page with its query intact (a search stays a search). Texts
//! are written in pairs at the place they are used (`lang.t("搜索", "Search")`), so a page and
//! its translation are never apart.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Picks the text of this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The cookie/query value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Whether this is English.
    pub fn is_en(self) -> bool {
        self == Lang::En
    }

    fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: the `lang` query parameter, else the `lang` cookie.
    pub fn of(parts: &Parts) -> Lang {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::parse(v))
        });
        from_query
            .or_else(|| cookie_lang(&parts.headers))
            .unwrap_or_default()
    }

    /// Whether the request asked to switch language (so the cookie should be set).
    pub fn switched(parts: &Parts) -> bool {
        parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("lang=")))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::of(parts))
    }
}

/// The language the `lang` cookie holds.
fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    crate::session::cookie(headers, "lang").and_then(|v| Lang::parse(&v))
}

/// The `lang` cookie that remembers a choice for a year.
pub fn cookie_value(lang: Lang) -> String {
    format!(
        "lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
        lang.code()
    )
}

/// `GET /lang/{code}`: remembers the language and sends the browser back to the page it came
/// from (the `Referer`, only when it is a page of this site; its `lang` parameter dropped), or
/// to the home page. An unknown code is a 404.
pub async fn switch(Path(code): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        let current = cookie_lang(&headers).unwrap_or_default();
        return crate::error::not_found(uri, current).await;
    };
    let back = back_to(&headers).unwrap_or_else(|| "/".to_owned());
    let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response();
    if let Ok(v) = cookie_value(lang).parse() {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

/// The path and query of a same-site `Referer`, without its `lang` parameter.
fn back_to(headers: &HeaderMap) -> Option<String> {
    let referer: Uri = headers.get(header::REFERER)?.to_str().ok()?.parse().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    if referer.authority()?.as_str() != host {
        return None;
    }
    let path = referer.path();
    if !path.starts_with('/') || path.starts_with("//") || path.starts_with("/lang/") {
        return None;
    }
    let query: Vec<&str> = referer
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    Some(if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(referer: &str, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::REFERER, referer.parse().unwrap());
        h.insert(header::HOST, host.parse().unwrap());
        h
    }

    #[test]
    fn goes_back_to_the_same_page_with_its_query() {
        let h = headers(
            "http://127.0.0.1:8080/items?q=%E8%90%A5&lang=en&region=430100",
            "127.0.0.1:8080",
        );
        assert_eq!(
            back_to(&h).as_deref(),
            Some("/items?q=%E8%90%A5&region=430100")
        );
        let h = headers("http://127.0.0.1:8080/?lang=zh", "127.0.0.1:8080");
        assert_eq!(back_to(&h).as_deref(), Some("/"));
    }

    #[test]
    fn never_goes_to_another_site() {
        assert_eq!(
            back_to(&headers("http://evil.example/items", "127.0.0.1:8080")),
            None
        );
        assert_eq!(back_to(&HeaderMap::new()), None);
        let h = headers("http://127.0.0.1:8080/lang/en", "127.0.0.1:8080");
        assert_eq!(back_to(&h), None);
    }
}
