//! The guide page of an item (办事指南): every element of the national guide standard, in the
//! order citizens read it, printable on A4, then its 常见问题 (answers the department published)
//! and the 我要问 form. Pages are cached by code, published version, state, language and the
//! stamp of the published 常见问题, so a new version or a newly published answer is a new cache
//! entry and nothing is ever stale. The cached page holds no one's data: the form's CSRF token
//! is a slot the portal's header middleware fills for a signed-in citizen.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use std::sync::Arc;

use yiwang_domain::item::ItemState;
use yiwang_services::catalogue::{self, PublishedItem};
use yiwang_services::questions::{self, ItemFaq};

use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::Chrome;

use super::{cached_or, path_code, state_notice, type_label};

#[derive(Template)]
#[template(path = "portal/guide.html")]
struct GuidePage<'a> {
    chrome: Chrome,
    item: &'a PublishedItem,
    notice: Option<&'static str>,
    themes: String,
    faq: Arc<ItemFaq>,
    /// Whether questions are taken (not for a cancelled item).
    can_ask: bool,
    csrf_slot: &'static str,
    answer_days: u32,
    min_chars: usize,
    max_chars: usize,
}

impl GuidePage<'_> {
    fn type_label(&self) -> &'static str {
        type_label(self.chrome.lang, self.item.guide.item_type)
    }

    fn objects(&self) -> String {
        let en = self.chrome.lang.is_en();
        join_labels(
            self.item
                .guide
                .service_objects
                .iter()
                .map(|o| if en { o.label_en() } else { o.label_zh() }),
        )
    }

    fn forms(&self) -> String {
        let en = self.chrome.lang.is_en();
        join_labels(
            self.item.guide.handling_forms.iter().map(
                |f| {
                    if en { f.label_en() } else { f.label_zh() }
                },
            ),
        )
    }

    fn online(&self) -> bool {
        self.item.guide.online()
    }

    fn fees_free(&self) -> bool {
        self.item.guide.fees.as_ref().is_none_or(|f| f.is_empty())
    }
}

/// Labels joined the Chinese way.
fn join_labels<'a>(labels: impl Iterator<Item = &'a str>) -> String {
    labels.collect::<Vec<_>>().join("、")
}

/// `GET /items/{实施编码}`.
pub async fn page(
    State(s): State<Shared>,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let code = path_code(&code, lang)?;
    let p = &s.platform;
    // The key names everything the page shows; unknown items fall through to the database,
    // which answers 404.
    let faq = questions::faq(p, &code);
    let key = p.summaries.get(&code).map(|sum| {
        format!(
            "guide:{code}:{}:{}:{}:faq{:x}",
            sum.version,
            sum.state.as_str(),
            lang.code(),
            faq.stamp
        )
    });
    let build = || async {
        let item = catalogue::published(p, &code)
            .await
            .map_err(|e| PageError::new(e, lang))?;
        let master = p.master.get();
        let page = GuidePage {
            chrome: Chrome::new(lang, item.guide.name.clone()),
            notice: state_notice(lang, item.summary.state),
            themes: item
                .guide
                .themes
                .iter()
                .filter_map(|t| master.theme(t).map(|t| t.name.clone()))
                .collect::<Vec<_>>()
                .join("、"),
            can_ask: item.summary.state != ItemState::Cancelled,
            item: &item,
            faq: faq.clone(),
            csrf_slot: crate::account::CSRF_SLOT,
            answer_days: questions::ANSWER_DAYS,
            min_chars: questions::MIN_CHARS,
            max_chars: questions::MAX_CHARS,
        };
        page.render().map_err(|e| {
            PageError::new(yiwang_services::ServiceError::internal(e.to_string()), lang)
        })
    };
    match key {
        Some(key) => {
            if let Some(hit) = s.pages.get(&key) {
                return Ok(crate::pages::cached_html(hit));
            }
            let body = build().await?;
            cached_or(&s, key, || Ok(body))
        }
        None => {
            let body = build().await?;
            Ok(crate::pages::cached_html(body.into()))
        }
    }
}
