//! What every page shares: the chrome (language, title, signed-in staff), rendering, and the
//! cache of rendered guide pages.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::body::Bytes;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::i18n::Lang;

/// The parts of the layout every page template carries.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Page language.
    pub lang: Lang,
    /// Page title (without the site name).
    pub title: String,
    /// Signed-in staff member's display name, on management pages.
    pub staff_name: Option<String>,
    /// CSRF token of the session, for forms in the layout (sign-out).
    pub csrf: String,
    /// Which top-level section is current: `portal` or `admin`.
    pub section: &'static str,
    /// The admin header's organisation switcher and role links (empty on public pages).
    pub admin: AdminNav,
}

/// What the admin header shows besides the staff member's name.
#[derive(Debug, Clone, Default)]
pub struct AdminNav {
    /// The organisations (credit code, name) the staff member holds roles in, when more than
    /// one: the header then offers a switcher.
    pub orgs: Vec<(String, String)>,
    /// The organisation the session acts in.
    pub org: String,
    /// Show the 窗口实名核验 link (window clerks).
    pub clerk: bool,
    /// Show the 审计日志, 审批流程, 接入系统 and 证照目录 links (system administrators).
    pub auditor: bool,
    /// Show the 人员管理 and 电子印章 links (system and department administrators).
    pub staff_admin: bool,
    /// Show the 待办 link (approvers).
    pub approver: bool,
    /// Show the 我要问 link (item managers and approvers, who answer citizens' questions).
    pub questions: bool,
    /// Show the 电子监察 link (supervisors and system administrators).
    pub supervisor: bool,
    /// Show the 绩效评估 link (supervisors, system and department administrators).
    pub evaluator: bool,
    /// Show the 好差评 link (the organisations' staff who answer ratings, window clerks,
    /// supervisors and system administrators).
    pub ratings: bool,
}

impl Chrome {
    /// Chrome of a public page.
    pub fn new(lang: Lang, title: impl Into<String>) -> Chrome {
        Chrome {
            lang,
            title: title.into(),
            staff_name: None,
            csrf: String::new(),
            section: "portal",
            admin: AdminNav::default(),
        }
    }

    /// The site name in the page language.
    pub fn site(&self) -> &'static str {
        self.lang.t("湖南政务服务网", "Hunan Government Services")
    }

    /// Shorthand for the language's text.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.t(zh, en)
    }
}

/// Renders a template into an HTML response with the given status.
pub fn html<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误 / Internal error",
            )
                .into_response()
        }
    }
}

/// Rendered pages by key, bounded in entries. Keys include everything a page depends on (for
/// a guide: code, published version, state and language), so entries never go stale: a new
/// version simply has a new key. When full, the cache is emptied and refilled by use.
#[derive(Debug)]
pub struct PageCache {
    max: usize,
    map: RwLock<HashMap<String, Bytes>>,
}

impl PageCache {
    /// A cache of at most `max` pages.
    pub fn new(max: usize) -> PageCache {
        PageCache {
            max,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// A cached page.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.map.read().ok().and_then(|m| m.get(key).cloned())
    }

    /// Stores a page.
    pub fn put(&self, key: String, page: Bytes) {
        if let Ok(mut m) = self.map.write() {
            if m.len() >= self.max {
                m.clear();
            }
            m.insert(key, page);
        }
    }
}

/// An HTML response from an already rendered page (no copy: `Bytes` is shared).
pub fn cached_html(page: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page,
    )
        .into_response()
}
