//! The item-search parameters shared by the portal's `/items` page and `GET /api/v1/items`.

use serde::Deserialize;
use yiwang_services::FieldError;
use yiwang_services::catalogue::ItemQuery;

/// Search parameters as they arrive in the query string (all optional text).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Free text (事项名称、别名、材料、设定依据…); empty lists everything.
    pub q: Option<String>,
    /// Region code of the implementing body (GB/T 2260, e.g. 430100), exactly that region.
    pub region: Option<String>,
    /// Implementing organisation's 统一社会信用代码.
    pub department: Option<String>,
    /// 事项类型 code (01-10, 20).
    #[serde(rename = "type")]
    pub item_type: Option<String>,
    /// 服务对象: `person` (个人) or `legal` (法人).
    pub object: Option<String>,
    /// Life-event theme key.
    pub theme: Option<String>,
    /// `true` for items that can be applied for online, `false` for the others.
    pub online: Option<String>,
    /// 通办范围 code (0 不通办, 1 跨县, 2 跨市, 3 全省, 4 跨省).
    pub scope: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
    /// Page size, 1-100 (default 20).
    pub per_page: Option<String>,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn number(field: &str, s: &Option<String>, default: usize, errs: &mut Vec<FieldError>) -> usize {
    match opt(s) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            errs.push(FieldError::new(
                field,
                format!("“{v}”不是有效的数字"),
                format!("{v} is not a number"),
            ));
            default
        }),
    }
}

impl SearchParams {
    /// Parses the parameters into a query; every malformed one is reported.
    pub fn to_query(&self) -> Result<ItemQuery, Vec<FieldError>> {
        let mut errs = Vec::new();
        let online = match opt(&self.online).as_deref() {
            None => None,
            Some("true" | "1" | "yes") => Some(true),
            Some("false" | "0" | "no") => Some(false),
            Some(v) => {
                errs.push(FieldError::new(
                    "online",
                    format!("“{v}”无效，应为 true 或 false"),
                    format!("{v} is not true or false"),
                ));
                None
            }
        };
        let q = ItemQuery {
            q: opt(&self.q).unwrap_or_default(),
            region: opt(&self.region),
            department: opt(&self.department),
            item_type: opt(&self.item_type),
            object: opt(&self.object),
            theme: opt(&self.theme),
            online,
            scope: opt(&self.scope),
            page: number("page", &self.page, 1, &mut errs),
            per_page: number("per_page", &self.per_page, 20, &mut errs),
        };
        if errs.is_empty() { Ok(q) } else { Err(errs) }
    }
}

/// The query string of a search, with one parameter replaced (or removed when `value` is
/// `None`) and the page reset; used by facet links.
pub fn with_param(q: &ItemQuery, key: &str, value: Option<&str>) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let mut push = |k: &'static str, v: Option<String>| {
        if k == key {
            if let Some(v) = value {
                pairs.push((k, v.to_string()));
            }
        } else if let Some(v) = v {
            pairs.push((k, v));
        }
    };
    push("q", (!q.q.is_empty()).then(|| q.q.clone()));
    push("region", q.region.clone());
    push("department", q.department.clone());
    push("type", q.item_type.clone());
    push("object", q.object.clone());
    push("theme", q.theme.clone());
    push("online", q.online.map(|b| b.to_string()));
    push("scope", q.scope.clone());
    if key == "page"
        && let Some(v) = value
    {
        pairs.push(("page", v.to_string()));
    }
    let qs = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::session::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("/items?{qs}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_every_bad_parameter() {
        let p = SearchParams {
            q: Some(" 营业执照 ".into()),
            online: Some("maybe".into()),
            page: Some("x".into()),
            ..Default::default()
        };
        let errs = p.to_query().unwrap_err();
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["online", "page"]
        );
        let q = SearchParams {
            q: Some(" 营业执照 ".into()),
            region: Some("".into()),
            ..Default::default()
        }
        .to_query()
        .unwrap();
        assert_eq!(q.q, "营业执照");
        assert_eq!(q.region, None);
        assert_eq!(q.page, 1);
        assert_eq!(q.per_page, 20);
    }

    #[test]
    fn facet_links_replace_one_parameter() {
        let q = ItemQuery {
            q: "养老".into(),
            region: Some("430100".into()),
            page: 3,
            per_page: 20,
            ..Default::default()
        };
        assert_eq!(
            with_param(&q, "theme", Some("pension")),
            "/items?q=%E5%85%BB%E8%80%81&region=430100&theme=pension"
        );
        assert_eq!(
            with_param(&q, "region", None),
            "/items?q=%E5%85%BB%E8%80%81"
        );
    }
}
