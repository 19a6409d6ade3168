//! 互联网政务服务门户: the public portal. Home (search and life-event themes), search results
//! with filters and facet counts, and the complete guide of an item (printable on A4).
//!
//! Themes, regions and filters with no items are not shown (the national spot checks count
//! empty columns as a defect).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use yiwang_domain::dict::{CrossRegionScope, ItemType, ServiceObject};
use yiwang_domain::item::ItemState;
use yiwang_search::FacetCount;
use yiwang_services::catalogue::{self, ItemQuery, ItemSummary, SearchPage};
use yiwang_services::masterdata::MasterData;
use yiwang_services::{Platform, ServiceError};

use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, cached_html, html};
use crate::query::{SearchParams, with_param};

mod guide;
mod licences;

/// Routes of the portal.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(home))
        .route("/items", get(search))
        .route("/items/{code}", get(guide::page))
        .route("/licences/verify", get(licences::verify))
}

/// One clickable filter value with its count.
#[derive(Debug, Clone)]
pub struct FacetLink {
    /// Shown text.
    pub label: String,
    /// Matching items.
    pub count: u64,
    /// Where the link goes (filter set, or removed when active).
    pub href: String,
    /// Whether this value is the current filter.
    pub active: bool,
}

/// One group of filter values.
#[derive(Debug, Clone)]
pub struct FacetGroup {
    /// Group title.
    pub title: String,
    /// Values, most items first.
    pub links: Vec<FacetLink>,
}

/// Labels used in lists of items.
pub fn type_label(lang: Lang, t: ItemType) -> &'static str {
    if lang.is_en() {
        t.label_en()
    } else {
        t.label_zh()
    }
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    chrome: Chrome,
    total: usize,
    person_themes: Vec<FacetLink>,
    legal_themes: Vec<FacetLink>,
    regions: Vec<FacetLink>,
    types: Vec<FacetLink>,
    hot: Vec<&'static str>,
}

fn everything(p: &Platform) -> Result<SearchPage, ServiceError> {
    catalogue::search(
        p,
        &ItemQuery {
            page: 1,
            per_page: 1,
            ..ItemQuery::default()
        },
        true,
    )
}

fn count_of(counts: &[FacetCount], value: &str) -> u64 {
    counts
        .iter()
        .find(|c| c.value == value)
        .map(|c| c.count)
        .unwrap_or(0)
}

async fn home(State(s): State<Shared>, lang: Lang) -> Result<Response, PageError> {
    let p = &s.platform;
    let all = everything(p).map_err(|e| PageError::new(e, lang))?;
    let master = p.master.get();
    let facets = all.facets.unwrap_or_default();
    let theme_links = |object: &str| -> Vec<FacetLink> {
        master
            .themes
            .iter()
            .filter(|t| t.object == object)
            .map(|t| FacetLink {
                label: t.name.clone(),
                count: count_of(&facets.theme, &t.key),
                href: format!("/items?theme={}", t.key),
                active: false,
            })
            .filter(|l| l.count > 0)
            .collect()
    };
    let regions = region_links(&master, &facets.region, &ItemQuery::default());
    let types = ItemType::ALL
        .iter()
        .map(|t| FacetLink {
            label: type_label(lang, *t).to_string(),
            count: count_of(&facets.item_type, t.code()),
            href: format!("/items?type={}", t.code()),
            active: false,
        })
        .filter(|l| l.count > 0)
        .collect();
    let page = HomePage {
        chrome: Chrome::new(lang, lang.t("首页", "Home")),
        total: all.total,
        person_themes: theme_links("person"),
        legal_themes: theme_links("legal"),
        regions,
        types,
        hot: vec![
            "营业执照",
            "食品经营许可",
            "养老",
            "社保卡",
            "居住证",
            "不动产登记",
            "公积金提取",
            "开饭店",
        ],
    };
    Ok(with_lang_cookie(lang, html(StatusCode::OK, &page)))
}

/// Sets the language cookie on a response (called on every portal page; cheap).
fn with_lang_cookie(lang: Lang, mut r: Response) -> Response {
    if let Ok(v) = crate::i18n::cookie_value(lang).parse() {
        r.headers_mut().insert(axum::http::header::SET_COOKIE, v);
    }
    r
}

fn region_links(master: &MasterData, counts: &[FacetCount], q: &ItemQuery) -> Vec<FacetLink> {
    let mut links: Vec<FacetLink> = counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| {
            let r = master.region(&c.value);
            let name = match r {
                Some(r) if r.level == "province" => format!("{}（省本级）", r.name),
                Some(r) => {
                    let parent = r
                        .parent
                        .as_deref()
                        .and_then(|p| master.region(p))
                        .filter(|p| p.level == "prefecture")
                        .map(|p| p.short_name.clone())
                        .unwrap_or_default();
                    format!("{parent}{}", r.name)
                }
                None => c.value.clone(),
            };
            let active = q.region.as_deref() == Some(c.value.as_str());
            FacetLink {
                label: name,
                count: c.count,
                href: with_param(q, "region", (!active).then_some(c.value.as_str())),
                active,
            }
        })
        .collect();
    // Province first, then by code: the order people know.
    links.sort_by(|a, b| a.href.cmp(&b.href));
    links
}

#[derive(Template)]
#[template(path = "portal/search.html")]
struct SearchPageView {
    chrome: Chrome,
    q: ItemQuery,
    total: usize,
    items: Vec<Arc<ItemSummary>>,
    groups: Vec<FacetGroup>,
    active: Vec<FacetLink>,
    prev: Option<String>,
    next: Option<String>,
    page: usize,
    pages: usize,
}

impl SearchPageView {
    fn type_label(&self, t: &ItemType) -> &'static str {
        type_label(self.chrome.lang, *t)
    }

    fn persons(&self, objects: &[ServiceObject]) -> bool {
        objects.iter().any(|o| o.is_person())
    }

    fn legal(&self, objects: &[ServiceObject]) -> bool {
        objects.iter().any(|o| !o.is_person())
    }
}

async fn search(
    State(s): State<Shared>,
    lang: Lang,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let bad = |e: ServiceError| PageError::new(e, lang);
    let Query(params) = params.map_err(|e| {
        bad(ServiceError::invalid(
            "query",
            &format!("查询参数无效：{e}"),
            "malformed query string",
        ))
    })?;
    let q = params
        .to_query()
        .map_err(|e| bad(ServiceError::Invalid(e)))?;
    let p = &s.platform;
    let res = catalogue::search(p, &q, true).map_err(bad)?;
    let master = p.master.get();
    let facets = res.facets.clone().unwrap_or_default();
    let mut groups = Vec::new();
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();

    groups.push(FacetGroup {
        title: t("服务对象", "For"),
        links: [
            ("person", "个人", "Individuals"),
            ("legal", "法人", "Businesses"),
        ]
        .iter()
        .map(|(key, zh, en)| {
            let count = if *key == "person" {
                count_of(&facets.service_object, "1")
            } else {
                facets
                    .service_object
                    .iter()
                    .filter(|c| c.value != "1")
                    .map(|c| c.count)
                    .max()
                    .unwrap_or(0)
            };
            let active = q.object.as_deref() == Some(*key);
            FacetLink {
                label: lang.t(zh, en).to_string(),
                count,
                href: with_param(&q, "object", (!active).then_some(*key)),
                active,
            }
        })
        .filter(|l| l.count > 0 || l.active)
        .collect(),
    });
    groups.push(FacetGroup {
        title: t("区划", "Region"),
        links: region_links(&master, &facets.region, &q),
    });
    groups.push(FacetGroup {
        title: t("主题", "Life event"),
        links: facets
            .theme
            .iter()
            .filter_map(|c| {
                let th = master.theme(&c.value)?;
                let active = q.theme.as_deref() == Some(c.value.as_str());
                Some(FacetLink {
                    label: th.name.clone(),
                    count: c.count,
                    href: with_param(&q, "theme", (!active).then_some(c.value.as_str())),
                    active,
                })
            })
            .collect(),
    });
    groups.push(FacetGroup {
        title: t("事项类型", "Item type"),
        links: facets
            .item_type
            .iter()
            .filter_map(|c| {
                let it = ItemType::from_code(&c.value)?;
                let active = q.item_type.as_deref() == Some(c.value.as_str());
                Some(FacetLink {
                    label: type_label(lang, it).to_string(),
                    count: c.count,
                    href: with_param(&q, "type", (!active).then_some(c.value.as_str())),
                    active,
                })
            })
            .collect(),
    });
    groups.push(FacetGroup {
        title: t("网上办理", "Online"),
        links: facets
            .online
            .iter()
            .map(|c| {
                let yes = c.value == "true";
                let active = q.online == Some(yes);
                FacetLink {
                    label: if yes {
                        t("可网上办理", "Online")
                    } else {
                        t("仅线下办理", "Offline only")
                    },
                    count: c.count,
                    href: with_param(&q, "online", (!active).then_some(c.value.as_str())),
                    active,
                }
            })
            .collect(),
    });
    groups.push(FacetGroup {
        title: t("通办范围", "Handled anywhere in"),
        links: facets
            .scope
            .iter()
            .filter_map(|c| {
                let sc = CrossRegionScope::from_code(&c.value)?;
                let active = q.scope.as_deref() == Some(c.value.as_str());
                Some(FacetLink {
                    label: if lang.is_en() {
                        sc.label_en()
                    } else {
                        sc.label_zh()
                    }
                    .to_string(),
                    count: c.count,
                    href: with_param(&q, "scope", (!active).then_some(c.value.as_str())),
                    active,
                })
            })
            .collect(),
    });
    groups.push(FacetGroup {
        title: t("实施主体", "Department"),
        links: facets
            .department
            .iter()
            .take(30)
            .filter_map(|c| {
                let org = master.organisation(&c.value)?;
                let active = q.department.as_deref() == Some(c.value.as_str());
                Some(FacetLink {
                    label: org.name.clone(),
                    count: c.count,
                    href: with_param(&q, "department", (!active).then_some(c.value.as_str())),
                    active,
                })
            })
            .collect(),
    });
    let active: Vec<FacetLink> = groups
        .iter()
        .flat_map(|g| g.links.iter().filter(|l| l.active).cloned())
        .collect();
    groups.retain(|g| !g.links.is_empty());
    let pages = res.total.div_ceil(q.per_page).max(1);
    let page_link = |n: usize| with_param(&q, "page", Some(&n.to_string()));
    let view = SearchPageView {
        chrome: Chrome::new(
            lang,
            if q.q.is_empty() {
                lang.t("办事事项", "Services").to_string()
            } else {
                format!("{}：{}", lang.t("搜索", "Search"), q.q)
            },
        ),
        prev: (q.page > 1).then(|| page_link(q.page - 1)),
        next: (q.page < pages).then(|| page_link(q.page + 1)),
        page: q.page,
        pages,
        total: res.total,
        items: res.items,
        groups,
        active,
        q,
    };
    Ok(with_lang_cookie(lang, html(StatusCode::OK, &view)))
}

/// Renders a cached page or builds it.
pub(crate) fn cached_or(
    s: &Shared,
    key: String,
    build: impl FnOnce() -> Result<String, PageError>,
) -> Result<Response, PageError> {
    if let Some(page) = s.pages.get(&key) {
        return Ok(cached_html(page));
    }
    let page = axum::body::Bytes::from(build()?);
    s.pages.put(key, page.clone());
    Ok(cached_html(page))
}

/// A state notice for suspended or cancelled items.
pub fn state_notice(lang: Lang, state: ItemState) -> Option<&'static str> {
    match state {
        ItemState::Suspended => Some(lang.t("该事项已暂停办理。", "This service is suspended.")),
        ItemState::Cancelled => Some(lang.t(
            "该事项已取消，不再办理。",
            "This service has been cancelled.",
        )),
        _ => None,
    }
}

/// Wrapper so handlers can return the path error uniformly.
pub(crate) fn path_code(code: &str, lang: Lang) -> Result<String, PageError> {
    yiwang_domain::codes::ImplementationCode::parse(code)
        .map(|c| c.as_str().to_string())
        .map_err(|e| {
            PageError::new(
                ServiceError::invalid("code", &e.message_zh(), &e.message_en()),
                lang,
            )
        })
}
