//! 证照目录: licence types (code, name, holder kind, fields taken from the case and its form,
//! validity, layout) and the items that produce them; the demo's catalogue.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use yiwang_domain::codes::CreditCode;
use yiwang_store::{Batch, Row, fmt_time};

use super::{batch_error, seals};
use crate::identity::staff::Staff;
use crate::{Platform, ServiceError};

/// One field of a licence type: its key in the licence data, its label, where its value comes
/// from (`form:<key>` a field of the application form, `case:applicant_name`, `case:item_name`,
/// `case:case_no`, `text:<fixed text>`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TypeField {
    /// Key in the licence data.
    pub key: String,
    /// Label printed and shown.
    pub label: String,
    /// Where its value comes from.
    pub source: String,
}

impl TypeField {
    /// A field `key` labelled `label` taken from `source`.
    pub fn new(key: &str, label: &str, source: &str) -> TypeField {
        TypeField {
            key: key.into(),
            label: label.into(),
            source: source.into(),
        }
    }
}

/// A licence type of the catalogue (证照目录).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenceType {
    /// 证照类型代码: the defining authority's credit code + 3 digits.
    pub code: String,
    /// 证照名称.
    pub name: String,
    /// `person` (持证主体为自然人, code type 111) or `legal_person` (001).
    pub holder_kind: String,
    /// Its fields.
    pub fields: Vec<TypeField>,
    /// Years of validity from issue; `None`: no expiry (长期).
    pub validity_years: Option<u32>,
    /// The document layout (title, field order, seal and QR positions).
    #[serde(default)]
    pub layout: Value,
    /// The items whose approved cases produce it.
    #[serde(default)]
    pub items: Vec<String>,
}

/// Parses and checks a licence type: every problem at once.
fn check_type(t: &LicenceType) -> Result<(), ServiceError> {
    let mut errors = Vec::new();
    let code = t.code.trim();
    let code_ok = code.len() == 21
        && code
            .get(18..)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        && code.get(..18).is_some_and(|c| CreditCode::parse(c).is_ok());
    if !code_ok {
        errors.push(crate::FieldError::new(
            "code",
            "证照类型代码须为定义机构的统一社会信用代码加3位数字（共21位）",
            "the type code is the defining authority's credit code and 3 digits (21 characters)",
        ));
    }
    if t.name.trim().is_empty() || t.name.chars().count() > 60 {
        errors.push(crate::FieldError::new(
            "name",
            "证照名称须为1至60个字",
            "the name must have 1 to 60 characters",
        ));
    }
    if !matches!(t.holder_kind.as_str(), "person" | "legal_person") {
        errors.push(crate::FieldError::new(
            "holder_kind",
            "持证主体类型须为 person 或 legal_person",
            "the holder kind is person or legal_person",
        ));
    }
    if t.validity_years.is_some_and(|y| !(1..=100).contains(&y)) {
        errors.push(crate::FieldError::new(
            "validity_years",
            "有效期须为1至100年，长期有效请留空",
            "validity is 1 to 100 years; leave it empty for no expiry",
        ));
    }
    let mut keys = std::collections::HashSet::new();
    for (i, f) in t.fields.iter().enumerate() {
        let field = format!("fields[{i}]");
        let key_ok = !f.key.is_empty()
            && f.key.len() <= 40
            && f.key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok || !keys.insert(f.key.clone()) {
            errors.push(crate::FieldError::new(
                &field,
                "字段键须为不重复的字母、数字或下划线",
                "a field key is unique letters, digits or underscores",
            ));
        }
        if f.label.trim().is_empty() {
            errors.push(crate::FieldError::new(
                &field,
                "字段须有名称",
                "a field needs a label",
            ));
        }
        let source_ok = match f.source.split_once(':') {
            Some(("form", k)) => !k.is_empty(),
            Some(("case", k)) => {
                matches!(
                    k,
                    "applicant_name" | "item_name" | "case_no" | "applicant_id"
                )
            }
            Some(("text", _)) => true,
            _ => false,
        };
        if !source_ok {
            errors.push(crate::FieldError::new(
                &field,
                "字段来源须为 form:键、case:applicant_name|item_name|case_no|applicant_id 或 text:文字",
                "a field's source is form:<key>, case:applicant_name|item_name|case_no|applicant_id or text:<text>",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// Defines or replaces a licence type and its item bindings (system administrators).
pub async fn define_type(
    p: &Platform,
    actor: &Staff,
    t: LicenceType,
) -> Result<LicenceType, ServiceError> {
    crate::identity::authz::require_system_admin(actor)?;
    define_type_as(p, t).await
}

/// Defines or replaces a licence type (the demo loader; [`define_type`] checks authority).
pub async fn define_type_as(p: &Platform, t: LicenceType) -> Result<LicenceType, ServiceError> {
    check_type(&t)?;
    let mut unknown = Vec::new();
    for (i, item) in t.items.iter().enumerate() {
        let found: Option<String> = sqlx::query_scalar("SELECT code FROM items WHERE code = $1")
            .bind(item.trim())
            .fetch_optional(p.db.pool())
            .await?;
        if found.is_none() {
            unknown.push(crate::FieldError::new(
                format!("items[{i}]"),
                format!("没有实施编码为 {item} 的事项"),
                format!("no item has the code {item}"),
            ));
        }
    }
    if !unknown.is_empty() {
        return Err(ServiceError::Invalid(unknown));
    }
    let code = t.code.trim().to_owned();
    let now = fmt_time(p.now());
    let fields = serde_json::to_string(&t.fields)?;
    let layout = t.layout.to_string();
    let mut b = Batch::default();
    b.push(
        "DELETE FROM licence_type_items WHERE type_code = $1",
        vec![code.as_str().into()],
    );
    b.push(
        "INSERT INTO licence_types (code, name, holder_kind, fields, validity_years, layout, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (code) DO UPDATE SET name = $2, holder_kind = $3, fields = $4, \
         validity_years = $5, layout = $6, updated_at = $7",
        vec![
            code.as_str().into(),
            t.name.trim().into(),
            t.holder_kind.as_str().into(),
            fields.into(),
            t.validity_years.map(i64::from).into(),
            layout.into(),
            now.into(),
        ],
    );
    for item in &t.items {
        b.push(
            "INSERT INTO licence_type_items (type_code, item_code) VALUES ($1, $2)",
            vec![code.as_str().into(), item.trim().into()],
        );
    }
    b.commit_alone(&p.db).await.map_err(batch_error)?;
    licence_type(p, &code).await
}

/// One licence type with its items.
pub async fn licence_type(p: &Platform, code: &str) -> Result<LicenceType, ServiceError> {
    let row = sqlx::query(
        "SELECT code, name, holder_kind, fields, validity_years, layout FROM licence_types \
         WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "证照类型",
        key: code.to_owned(),
    })?;
    let items = sqlx::query_scalar::<_, String>(
        "SELECT item_code FROM licence_type_items WHERE type_code = $1 ORDER BY item_code",
    )
    .bind(code)
    .fetch_all(p.db.pool())
    .await?;
    type_row(&row, items)
}

fn type_row(r: &yiwang_store::AnyRow, items: Vec<String>) -> Result<LicenceType, ServiceError> {
    let fields: String = r.try_get("fields")?;
    let layout: String = r.try_get("layout")?;
    let years: Option<i64> = r.try_get("validity_years")?;
    Ok(LicenceType {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        holder_kind: r.try_get("holder_kind")?,
        fields: serde_json::from_str(&fields)?,
        validity_years: years.and_then(|y| u32::try_from(y).ok()),
        layout: serde_json::from_str(&layout).unwrap_or(Value::Null),
        items,
    })
}

/// Every licence type, by code.
pub async fn licence_types(p: &Platform) -> Result<Vec<LicenceType>, ServiceError> {
    let codes = sqlx::query_scalar::<_, String>("SELECT code FROM licence_types ORDER BY code")
        .fetch_all(p.db.pool())
        .await?;
    let mut out = Vec::with_capacity(codes.len());
    for c in codes {
        out.push(licence_type(p, &c).await?);
    }
    Ok(out)
}

/// The demo's seals and licence catalogue: a 电子证照专用章 for each organisation the demo
/// approvers work in, and a 食品经营许可证 bound to its 食品经营许可 items.
pub async fn load_demo(p: &Platform) -> Result<(), ServiceError> {
    let orgs = sqlx::query_scalar::<_, String>(
        "SELECT DISTINCT r.org FROM staff_roles r JOIN staff s ON s.id = r.staff_id \
         WHERE r.role = 'approver' AND s.username LIKE 'yl.%' ORDER BY r.org",
    )
    .fetch_all(p.db.pool())
    .await?;
    let master = p.master.get();
    for org in &orgs {
        let Some(o) = master.organisation(org) else {
            continue;
        };
        seals::create_as(
            p,
            "demo",
            seals::NewSeal {
                org_code: org.clone(),
                name: format!("{}电子证照专用章", o.name),
                seal_type: "99".into(),
                valid_years: 5,
                distid: None,
            },
        )
        .await?;
        let items = sqlx::query_scalar::<_, String>(
            "SELECT code FROM items WHERE org = $1 AND name = '食品经营许可' ORDER BY code",
        )
        .bind(org)
        .fetch_all(p.db.pool())
        .await?;
        if items.is_empty() {
            continue;
        }
        let field = TypeField::new;
        define_type_as(
            p,
            LicenceType {
                code: format!("{org}001"),
                name: "食品经营许可证".into(),
                holder_kind: "legal_person".into(),
                fields: vec![
                    field("operator", "经营者名称", "case:applicant_name"),
                    field("code", "社会信用代码（身份证号码）", "case:applicant_id"),
                    field("premises", "经营场所", "form:address"),
                    field("business", "主体业态", "text:食品销售经营者"),
                    field("case_no", "办件编号", "case:case_no"),
                ],
                validity_years: Some(5),
                layout: json!({ "title": "食品经营许可证", "seal": "bottom-right", "qr": "bottom-left" }),
                items,
            },
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_type_gets_every_problem_at_once() {
        let t = LicenceType {
            code: "12345".into(),
            name: " ".into(),
            holder_kind: "robot".into(),
            fields: vec![
                TypeField {
                    key: "a b".into(),
                    label: String::new(),
                    source: "db:x".into(),
                },
                TypeField {
                    key: "ok".into(),
                    label: "好".into(),
                    source: "case:password".into(),
                },
            ],
            validity_years: Some(0),
            layout: Value::Null,
            items: Vec::new(),
        };
        let Err(ServiceError::Invalid(errors)) = check_type(&t) else {
            panic!("refused");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "code",
            "name",
            "holder_kind",
            "validity_years",
            "fields[0]",
            "fields[1]",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        // 4 problems of fields[0] (key, label, source) and fields[1] (source).
        assert_eq!(errors.len(), 8, "{fields:?}");
    }

    #[test]
    fn a_good_type_passes() {
        let t = LicenceType {
            code: "11430104000104088J001".into(),
            name: "食品经营许可证".into(),
            holder_kind: "legal_person".into(),
            fields: vec![TypeField {
                key: "operator".into(),
                label: "经营者名称".into(),
                source: "case:applicant_name".into(),
            }],
            validity_years: None,
            layout: json!({}),
            items: Vec::new(),
        };
        assert!(check_type(&t).is_ok());
    }
}
