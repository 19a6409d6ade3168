//! The language of a page: Simplified Chinese by default, English on request.
//!
//! `?lang=en` or `?lang=zh` on any page switches and is remembered in the `lang` cookie. Texts
//! are written in pairs at the place they are used (`lang.t("搜索", "Search")`), so a page and
//! its translation are never apart.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
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
            .or_else(|| {
                crate::session::cookie(&parts.headers, "lang").and_then(|v| Lang::parse(&v))
            })
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
