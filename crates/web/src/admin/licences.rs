//! 电子印章 and 证照目录: the management pages of the organisations' electronic seals and of the
//! licence catalogue, over the same use-cases as the REST API (`yiwang_services::licences`).
//!
//! The seals page lists the seals the session administers — every organisation's for system
//! administrators, the seals of the organisation the session acts in for its department
//! administrators (the rule `identity::authz` states for seals), 403 for anyone else — with a
//! form to make a seal, a button to rotate one (the old seal retires, a successor with a new
//! key takes its place) and a form to revoke one with its reason. Making, rotating and
//! revoking are decided by `licences::seals`; a refused form shows the page again with the
//! problem marked (400). A seal's page shows its use log, for those who administer it.
//!
//! The licence catalogue is the system administrators' (403 for anyone else): the list, and
//! one form to define a type or change it. Its fields are numbered rows
//! `fields[i][key|label|source]` as in the guide editor ([`super::guide_form`]): a row whose
//! key is empty is dropped, three spare rows follow the last filled one, and `add_rows` shows
//! the form again with three more, saving nothing. A form with mistakes is shown again with
//! every problem marked at once and nothing saved (400). The layout keeps what the form does
//! not edit; only its title is on the form.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use yiwang_services::identity::authz;
use yiwang_services::licences::seals::{self, NewSeal, SEAL_TYPES, Seal};
use yiwang_services::licences::{self, LicenceType, TypeField};
use yiwang_services::masterdata::MasterData;
use yiwang_services::{FieldError, ServiceError};

use super::editor::{ListBlock, RowBlock, SummaryItem, Widget, number_type, options};
use super::guide_form::{Row, RowSection, row_index, row_name, spare_rows};
use super::{
    AdminForm, CsrfForm, DoneQuery, ReasonForm, chrome, done_notice, local_time, see_other,
};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// The rows of a licence type's fields.
const FIELDS: RowSection = RowSection {
    key: "fields",
    fields: &["key", "label", "source"],
};
/// Spare empty rows under the fields.
const SPARE_ROWS: usize = 3;
/// Rows added by the `add_rows` button.
const ADDED_ROWS: usize = 3;

/// Makes the widgets of a form, each marked with its problems.
struct Marked {
    lang: Lang,
    /// Form field → messages in the page language.
    errors: HashMap<String, Vec<String>>,
}

impl Marked {
    fn new(lang: Lang, errors: &[FieldError]) -> Marked {
        let mut by_field: HashMap<String, Vec<String>> = HashMap::new();
        for e in errors {
            by_field
                .entry(e.field.clone())
                .or_default()
                .push(lang.t(&e.message_zh, &e.message_en).to_string());
        }
        Marked {
            lang,
            errors: by_field,
        }
    }

    fn error(&self, name: &str) -> Option<String> {
        self.errors.get(name).map(|m| m.join("；"))
    }

    fn widget(
        &self,
        kind: &'static str,
        input_type: &'static str,
        name: &str,
        value: &str,
        label: &str,
        hint: &str,
    ) -> Widget {
        let error = self.error(name);
        Widget::new(
            kind,
            input_type,
            name.into(),
            value.into(),
            label.into(),
            error,
            hint,
        )
    }

    fn text(&self, name: &str, value: &str, label: &str, hint: &str) -> Widget {
        self.widget("input", "text", name, value, label, hint)
    }

    /// A number field; a value that is not a number stays visible in a text field.
    fn number(&self, name: &str, value: &str, label: &str, hint: &str) -> Widget {
        self.widget("input", number_type(value), name, value, label, hint)
    }

    fn textarea(&self, name: &str, value: &str, label: &str, hint: &str) -> Widget {
        self.widget("textarea", "", name, value, label, hint)
    }

    /// A select of `choices` (value, label).
    fn select(&self, name: &str, value: &str, label: &str, choices: &[(&str, &str)]) -> Widget {
        let mut w = self.widget("select", "", name, value, label, "");
        w.options = options(self.lang, &w.id, value, choices);
        w
    }
}

// ---------------------------------------------------------------------------------------------
// Seals
// ---------------------------------------------------------------------------------------------

/// A seal type in the page language.
fn seal_type_label(lang: Lang, code: &str) -> &str {
    let zh = SEAL_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label);
    let en = match code {
        "01" => "Official name seal",
        "02" => "Financial seal",
        "03" => "Invoice seal",
        "04" => "Contract seal",
        "05" => "Name seal",
        "99" => "Other seal",
        _ => code,
    };
    lang.t(zh, en)
}

/// A seal's status in the page language, with its tag class.
fn seal_status(lang: Lang, status: &str) -> (&'static str, &'static str) {
    match status {
        "active" => (lang.t("在用", "in use"), "ok"),
        "retired" => (lang.t("已停用", "retired"), ""),
        "revoked" => (lang.t("已吊销", "revoked"), "bad"),
        _ => (lang.t("未知", "unknown"), "warn"),
    }
}

struct SealRow {
    id: String,
    name: String,
    org_name: String,
    type_label: String,
    status: &'static str,
    status_class: &'static str,
    valid_from: String,
    valid_to: String,
    active: bool,
    revoked: bool,
    /// The refused revocation of this seal: message and posted reason.
    revoke_error: Option<String>,
    revoke_reason: String,
}

impl SealRow {
    fn new(master: &MasterData, lang: Lang, seal: Seal) -> SealRow {
        let (status, status_class) = seal_status(lang, &seal.status);
        let org_name = master
            .organisation(&seal.org_code)
            .map_or_else(|| seal.org_code.clone(), |o| o.name.clone());
        SealRow {
            type_label: seal_type_label(lang, &seal.seal_type).to_string(),
            valid_from: local_time(&seal.valid_from),
            valid_to: local_time(&seal.valid_to),
            active: seal.status == "active",
            revoked: seal.status == "revoked",
            revoke_error: None,
            revoke_reason: String::new(),
            status,
            status_class,
            org_name,
            id: seal.id,
            name: seal.name,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/seals.html")]
struct SealsPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    seals: Vec<SealRow>,
    /// The new-seal form.
    form: Vec<Widget>,
    /// Every problem of the new-seal form.
    errors: Vec<String>,
}

/// The posted new seal.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct SealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    org_code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    seal_type: String,
    #[serde(default)]
    valid_years: String,
}

/// Why the seals page is shown.
enum Shown<'a> {
    /// The list, with the notice of `?done=`.
    Listing(Option<&'a str>),
    /// Again, the new seal refused with these problems.
    Create(&'a SealForm, &'a [FieldError]),
    /// Again, the revocation of a seal refused: seal id, problems, posted reason.
    Revoke(&'a str, &'a [FieldError], &'a str),
}

async fn seals_page(
    s: &Shared,
    session: &StaffSession,
    shown: Shown<'_>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    // Seals follow the rule of staff administration (`seals::list_for`): 系统管理员
    // everywhere, 部门管理员 in the organisation the session acts in, others 403.
    let list = seals::list_for(&s.platform, &session.staff, None)
        .await
        .map_err(|e| session.err(e))?;
    let master = s.platform.master.get();
    let mut rows: Vec<SealRow> = list
        .into_iter()
        .map(|seal| SealRow::new(&master, lang, seal))
        .collect();
    let defaults = SealForm {
        org_code: session.staff.org.clone(),
        seal_type: "99".into(),
        valid_years: "5".into(),
        ..SealForm::default()
    };
    let (form, errors, notice, status) = match shown {
        Shown::Listing(done) => (&defaults, &[][..], done_notice(lang, done), StatusCode::OK),
        Shown::Create(form, errors) => (form, errors, None, StatusCode::BAD_REQUEST),
        Shown::Revoke(id, errors, reason) => {
            if let Some(r) = rows.iter_mut().find(|r| r.id == id) {
                r.revoke_error = Some(
                    errors
                        .iter()
                        .map(|e| lang.t(&e.message_zh, &e.message_en))
                        .collect::<Vec<_>>()
                        .join("；"),
                );
                r.revoke_reason = reason.into();
            }
            (&defaults, &[][..], None, StatusCode::BAD_REQUEST)
        }
    };
    let m = Marked::new(lang, errors);
    let t = |zh: &'static str, en: &'static str| lang.t(zh, en);
    let types: Vec<(&str, &str)> = SEAL_TYPES
        .iter()
        .map(|(code, _)| (*code, seal_type_label(lang, code)))
        .collect();
    let page = SealsPage {
        chrome: chrome(session, t("电子印章", "Electronic seals")),
        notice,
        seals: rows,
        form: vec![
            m.text(
                "org_code",
                &form.org_code,
                t("单位统一社会信用代码", "Organisation's credit code"),
                t(
                    "默认为当前单位。",
                    "The organisation you act in by default.",
                ),
            ),
            m.text(
                "name",
                &form.name,
                t("印章名称", "Seal name"),
                t(
                    "如“长沙市市场监督管理局电子证照专用章”，1至60个字。",
                    "1 to 60 characters.",
                ),
            ),
            m.select(
                "seal_type",
                &form.seal_type,
                t("印章类型", "Seal type"),
                &types,
            ),
            m.number(
                "valid_years",
                &form.valid_years,
                t("有效期（年）", "Validity (years)"),
                t("1至10年。", "1 to 10 years."),
            ),
        ],
        errors: errors
            .iter()
            .map(|e| lang.t(&e.message_zh, &e.message_en).to_string())
            .collect(),
    };
    Ok(html(status, &page))
}

/// `GET /admin/seals`: the seals the session administers and the new-seal form.
pub(crate) async fn seal_list(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    seals_page(&s, &session, Shown::Listing(q.done.as_deref())).await
}

/// `POST /admin/seals`: makes a seal with a new key pair.
pub(crate) async fn create_seal(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<SealForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let made = match f.valid_years.trim().parse::<u32>() {
        Ok(valid_years) => {
            let new = NewSeal {
                org_code: f.org_code.clone(),
                name: f.name.clone(),
                seal_type: f.seal_type.clone(),
                valid_years,
                distid: None,
            };
            seals::create(&s.platform, &session.staff, new)
                .await
                .map(|_| ())
        }
        Err(_) => Err(ServiceError::invalid(
            "valid_years",
            "有效期须为1至10的整数年",
            "validity is a whole number of years, 1 to 10",
        )),
    };
    match made {
        Ok(()) => Ok(see_other("/admin/seals?done=seal_created")),
        Err(ServiceError::Invalid(errors)) => {
            seals_page(&s, &session, Shown::Create(&f, &errors)).await
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/seals/{id}/rotate`: the seal retires, a successor with a new key replaces it.
pub(crate) async fn rotate_seal(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    seals::rotate(&s.platform, &session.staff, &id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other("/admin/seals?done=seal_rotated"))
}

/// `POST /admin/seals/{id}/revoke`: revokes the seal, with the reason (required).
pub(crate) async fn revoke_seal(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<ReasonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    match seals::revoke(&s.platform, &session.staff, &id, &f.reason).await {
        Ok(_) => Ok(see_other("/admin/seals?done=seal_revoked")),
        Err(ServiceError::Invalid(errors)) => {
            seals_page(&s, &session, Shown::Revoke(&id, &errors, &f.reason)).await
        }
        Err(e) => Err(session.err(e)),
    }
}

struct UseRow {
    used_at: String,
    purpose: String,
    subject: String,
    actor: String,
}

#[derive(Template)]
#[template(path = "admin/seal.html")]
struct SealPage {
    chrome: Chrome,
    seal: SealRow,
    distid: String,
    public_key: String,
    created_at: String,
    retired_at: Option<String>,
    revoked: Option<(String, String)>,
    uses: Vec<UseRow>,
}

/// `GET /admin/seals/{id}`: the seal and its use log.
pub(crate) async fn seal_page(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    // The use log is the administrators' (it decides who may see the seal's page).
    let uses = seals::uses(p, &session.staff, &id)
        .await
        .map_err(|e| session.err(e))?;
    let seal = seals::get(p, &id).await.map_err(|e| session.err(e))?;
    let page = SealPage {
        chrome: chrome(
            &session,
            format!("{}{}", lang.t("电子印章：", "Seal: "), seal.name),
        ),
        distid: seal.distid.clone(),
        public_key: seal.public_key.clone(),
        created_at: local_time(&seal.created_at),
        retired_at: seal.retired_at.as_deref().map(local_time),
        revoked: seal.revoked_at.as_deref().map(|at| {
            (
                local_time(at),
                seal.revoked_reason.clone().unwrap_or_default(),
            )
        }),
        uses: uses
            .into_iter()
            .map(|u| UseRow {
                used_at: local_time(&u.used_at),
                purpose: match u.purpose.as_str() {
                    "licence.issue" => lang.t("签发证照", "licence issued").into(),
                    "licence.amend" => lang.t("证照变更", "licence amended").into(),
                    "licence.renew" => lang.t("证照延续", "licence renewed").into(),
                    _ => u.purpose,
                },
                subject: u.subject,
                actor: u.actor,
            })
            .collect(),
        seal: SealRow::new(&p.master.get(), lang, seal),
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// Licence catalogue
// ---------------------------------------------------------------------------------------------

/// The catalogue is the system administrators' (the rule of `licences::define_type`).
fn require_catalogue_admin(session: &StaffSession) -> Result<(), PageError> {
    authz::require_system_admin(&session.staff).map_err(|e| session.err(e))
}

/// 自然人 / 法人 in the page language.
fn holder_kinds(lang: Lang) -> [(&'static str, &'static str); 2] {
    [
        ("person", lang.t("自然人", "natural person")),
        (
            "legal_person",
            lang.t("法人和其他组织", "legal person or organisation"),
        ),
    ]
}

struct TypeRow {
    code: String,
    name: String,
    holder: String,
    validity: String,
    items: usize,
}

#[derive(Template)]
#[template(path = "admin/licence_types.html")]
struct TypesPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    types: Vec<TypeRow>,
}

/// `GET /admin/licence-types`: the licence catalogue.
pub(crate) async fn types(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    require_catalogue_admin(&session)?;
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let kinds = holder_kinds(lang);
    let types = licences::licence_types(&s.platform)
        .await
        .map_err(|e| session.err(e))?
        .into_iter()
        .map(|t| TypeRow {
            holder: kinds
                .iter()
                .find(|(k, _)| *k == t.holder_kind)
                .map_or_else(|| t.holder_kind.clone(), |(_, l)| (*l).into()),
            validity: match t.validity_years {
                Some(y) => format!("{y}{}", lang.t("年", " years")),
                None => lang.t("长期", "no expiry").into(),
            },
            items: t.items.len(),
            code: t.code,
            name: t.name,
        })
        .collect();
    let page = TypesPage {
        chrome: chrome(&session, lang.t("证照目录", "Licence catalogue")),
        // `saved` here is a licence type, not an item's draft.
        notice: match q.done.as_deref() {
            Some("saved") => Some(lang.t("证照类型已保存。", "Licence type saved.")),
            done => done_notice(lang, done),
        },
        types,
    };
    Ok(html(StatusCode::OK, &page))
}

/// A licence type's form as posted: text as typed.
#[derive(Debug, Default)]
struct TypeForm {
    csrf: String,
    action: String,
    code: String,
    name: String,
    holder_kind: String,
    validity_years: String,
    rows: Vec<Row>,
    items: String,
    layout_title: String,
}

/// The row index of an error about `fields[i]` (a whole row of the fields).
fn row_of(field: &str) -> Option<usize> {
    field
        .strip_prefix("fields[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

impl TypeForm {
    /// Reads posted pairs; field rows are grouped by their index (gaps and order do not matter).
    fn from_pairs(pairs: Vec<(String, String)>) -> TypeForm {
        let mut f = TypeForm::default();
        let mut rows: BTreeMap<usize, Row> = BTreeMap::new();
        for (k, v) in pairs {
            if let Some((i, field)) = row_index(FIELDS, &k) {
                rows.entry(i).or_default().insert(field, v);
                continue;
            }
            let slot = match k.as_str() {
                "csrf" => &mut f.csrf,
                "action" => &mut f.action,
                "code" => &mut f.code,
                "name" => &mut f.name,
                "holder_kind" => &mut f.holder_kind,
                "validity_years" => &mut f.validity_years,
                "items" => &mut f.items,
                "layout_title" => &mut f.layout_title,
                _ => continue,
            };
            *slot = v;
        }
        f.rows = rows.into_values().collect();
        f
    }

    /// The form of a stored type.
    fn from_type(t: &LicenceType) -> TypeForm {
        TypeForm {
            code: t.code.clone(),
            name: t.name.clone(),
            holder_kind: t.holder_kind.clone(),
            validity_years: t.validity_years.map(|y| y.to_string()).unwrap_or_default(),
            rows: t
                .fields
                .iter()
                .map(|f| {
                    Row::from([
                        ("key", f.key.clone()),
                        ("label", f.label.clone()),
                        ("source", f.source.clone()),
                    ])
                })
                .collect(),
            items: t.items.join("\n"),
            layout_title: t
                .layout
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            ..TypeForm::default()
        }
    }

    /// The type the form describes, its layout `layout` with the form's title; the form row of
    /// each of its fields; what the page itself cannot read.
    fn parse(&self, mut layout: Value) -> (LicenceType, Vec<usize>, Vec<FieldError>) {
        let mut errors = Vec::new();
        let years = self.validity_years.trim();
        let validity_years = if years.is_empty() {
            None
        } else if let Ok(y) = years.parse::<u32>() {
            Some(y)
        } else {
            errors.push(FieldError::new(
                "validity_years",
                "有效期须为整数年，长期有效请留空",
                "validity is a whole number of years; leave it empty for no expiry",
            ));
            None
        };
        let cell = |r: &Row, f: &str| r.get(f).map_or("", |v| v.trim()).to_string();
        let (kept, fields): (Vec<usize>, Vec<TypeField>) = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !cell(r, "key").is_empty())
            .map(|(i, r)| {
                let field = TypeField::new(&cell(r, "key"), &cell(r, "label"), &cell(r, "source"));
                (i, field)
            })
            .unzip();
        if !layout.is_object() {
            layout = Value::Object(serde_json::Map::new());
        }
        if let Some(o) = layout.as_object_mut() {
            match self.layout_title.trim() {
                "" => o.remove("title"),
                title => o.insert("title".into(), title.into()),
            };
        }
        let t = LicenceType {
            code: self.code.trim().into(),
            name: self.name.trim().into(),
            holder_kind: self.holder_kind.trim().into(),
            fields,
            validity_years,
            layout,
            items: self
                .items
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        (t, kept, errors)
    }
}

#[derive(Template)]
#[template(path = "admin/licence_type.html")]
struct TypePage {
    chrome: Chrome,
    /// The code of the type edited; `None` on the new-type form.
    code: Option<String>,
    summary: Vec<SummaryItem>,
    rows_added: bool,
    basics: Vec<Widget>,
    fields: ListBlock,
    more: Vec<Widget>,
}

/// The form page; `code` is the type edited (`None`: a new one), `errors` under form names.
fn render(
    session: &StaffSession,
    code: Option<&str>,
    form: &TypeForm,
    errors: &[FieldError],
    rows_added: bool,
    status: StatusCode,
) -> Response {
    let lang = session.lang;
    let t = |zh: &'static str, en: &'static str| lang.t(zh, en);
    let m = Marked::new(lang, errors);
    let mut basics = Vec::new();
    if code.is_none() {
        basics.push(m.text(
            "code",
            &form.code,
            t("证照类型代码", "Type code"),
            t(
                "定义机构的统一社会信用代码加3位数字，共21位。",
                "The defining authority's credit code and 3 digits (21 characters).",
            ),
        ));
    }
    basics.push(m.text("name", &form.name, t("证照名称", "Name"), ""));
    basics.push(m.select(
        "holder_kind",
        &form.holder_kind,
        t("持证主体类型", "Holder"),
        &holder_kinds(lang),
    ));
    basics.push(m.number(
        "validity_years",
        &form.validity_years,
        t("有效期（年）", "Validity (years)"),
        t("留空表示长期有效。", "Empty: no expiry."),
    ));
    let rows = form
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let error = m.error(&format!("fields[{i}]"));
            let invalid = error.is_some();
            // The row's problem describes each of its fields (the template gives it this id).
            let cell = |f: &str, label: &str| {
                let value = r.get(f).map_or("", String::as_str);
                let mut w = m.text(&row_name(FIELDS.key, i, f), value, label, "");
                if invalid {
                    w.described_by = format!("{} f-fields-{i}-err", w.described_by)
                        .trim_start()
                        .into();
                }
                w
            };
            RowBlock {
                legend: match lang {
                    Lang::Zh => format!("字段第{}项", i + 1),
                    Lang::En => format!("Field {}", i + 1),
                },
                error,
                widgets: vec![
                    cell("key", t("键", "Key")),
                    cell("label", t("名称", "Label")),
                    cell("source", t("来源", "Source")),
                ],
            }
        })
        .collect();
    let fields = ListBlock {
        id: "f-fields".into(),
        title: t("证照字段", "Fields").into(),
        hint: t(
            "键为字母、数字或下划线，不得重复；来源为 form:申请表字段键、case:applicant_name（申请人）、case:applicant_id（证件号码）、case:item_name（事项名称）、case:case_no（办件编号）或 text:固定文字。键为空的行不保存。",
            "Keys are letters, digits or underscores, each once; a source is form:<application form field>, case:applicant_name, case:applicant_id, case:item_name, case:case_no or text:<fixed text>. Rows without a key are not saved.",
        )
        .into(),
        error: m.error(FIELDS.key),
        rows,
    };
    let more = vec![
        m.textarea(
            "items",
            &form.items,
            t("关联事项", "Items"),
            t(
                "每行一个实施编码：这些事项的办件审批通过后签发此证照。",
                "One item code a line: their approved cases issue this licence.",
            ),
        ),
        m.text(
            "layout_title",
            &form.layout_title,
            t("版式标题", "Layout title"),
            t(
                "打印在证照上方的标题。",
                "The title printed on the licence.",
            ),
        ),
    ];
    // Every problem, linked to its field (a row's problem to the row's key).
    let summary = errors
        .iter()
        .map(|e| {
            let found = basics
                .iter()
                .chain(&more)
                .find(|w| w.name == e.field)
                .map(|w| (w.id.clone(), w.label.clone()))
                .or_else(|| {
                    let row = fields.rows.get(row_of(&e.field)?)?;
                    Some((row.widgets.first()?.id.clone(), row.legend.clone()))
                });
            let (href, label) = match found {
                Some((id, label)) => (Some(id), label),
                None => (None, e.field.clone()),
            };
            SummaryItem {
                href,
                label,
                message: lang.t(&e.message_zh, &e.message_en).to_string(),
            }
        })
        .collect();
    let title = match code {
        Some(c) => format!("{}{c}", t("编辑证照类型：", "Edit licence type: ")),
        None => t("新增证照类型", "New licence type").to_string(),
    };
    let page = TypePage {
        chrome: chrome(session, title),
        code: code.map(str::to_owned),
        summary,
        rows_added,
        basics,
        fields,
        more,
    };
    html(status, &page)
}

/// `GET /admin/licence-types/new`: the form of a new type.
pub(crate) async fn new_type(session: StaffSession) -> Result<Response, PageError> {
    require_catalogue_admin(&session)?;
    let mut form = TypeForm::default();
    spare_rows(&mut form.rows, SPARE_ROWS);
    Ok(render(&session, None, &form, &[], false, StatusCode::OK))
}

/// `GET /admin/licence-types/{code}`: the form of a stored type.
pub(crate) async fn edit_type(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    require_catalogue_admin(&session)?;
    let t = licences::licence_type(&s.platform, &code)
        .await
        .map_err(|e| session.err(e))?;
    let mut form = TypeForm::from_type(&t);
    spare_rows(&mut form.rows, SPARE_ROWS);
    Ok(render(
        &session,
        Some(&code),
        &form,
        &[],
        false,
        StatusCode::OK,
    ))
}

/// `POST /admin/licence-types`: the new-type form, its code among the fields.
pub(crate) async fn create_type(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(pairs): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    save(&s, &session, None, TypeForm::from_pairs(pairs)).await
}

/// `POST /admin/licence-types/{code}`: a stored type's form.
pub(crate) async fn save_type(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
    AdminForm(pairs): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    save(&s, &session, Some(code), TypeForm::from_pairs(pairs)).await
}

/// Saves a type (`action` = `save`) or shows the form with more rows (`add_rows`).
async fn save(
    s: &Shared,
    session: &StaffSession,
    path_code: Option<String>,
    mut form: TypeForm,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    require_catalogue_admin(session)?;
    let code = path_code.as_deref();
    if let Some(c) = code {
        form.code = c.to_owned();
    }
    match form.action.trim() {
        "" | "save" => {}
        "add_rows" => {
            form.rows.extend((0..ADDED_ROWS).map(|_| Row::new()));
            return Ok(render(session, code, &form, &[], true, StatusCode::OK));
        }
        other => {
            return Err(session.err(ServiceError::invalid(
                "action",
                &format!("未知的操作“{other}”，应为 save 或 add_rows"),
                &format!("unknown action {other}"),
            )));
        }
    }
    let p = &s.platform;
    let stored = match licences::licence_type(p, form.code.trim()).await {
        Ok(t) => Some(t),
        Err(ServiceError::NotFound { .. }) => None,
        Err(e) => return Err(session.err(e)),
    };
    let mut errors = Vec::new();
    // The new-type form never replaces a type by accident.
    if code.is_none() && stored.is_some() {
        errors.push(FieldError::new(
            "code",
            "已有此代码的证照类型，请在证照目录中编辑它",
            "a licence type has this code: edit it from the catalogue",
        ));
    }
    let (t, kept, unread) = form.parse(stored.map_or(Value::Null, |t| t.layout));
    errors.extend(unread);
    if errors.is_empty() {
        match licences::define_type(p, &session.staff, t).await {
            Ok(_) => return Ok(see_other("/admin/licence-types?done=saved")),
            // Renamed to the form's fields: `fields[i]` of the type is the form row of its
            // i-th kept field, `items[i]` the items box.
            Err(ServiceError::Invalid(errs)) => {
                errors = errs
                    .into_iter()
                    .map(|mut e| {
                        if let Some(i) = row_of(&e.field) {
                            e.field = format!("fields[{}]", kept.get(i).copied().unwrap_or(i));
                        } else if e.field.starts_with("items[") {
                            e.field = "items".into();
                        }
                        e
                    })
                    .collect();
            }
            Err(e) => return Err(session.err(e)),
        }
    }
    spare_rows(&mut form.rows, SPARE_ROWS);
    Ok(render(
        session,
        code,
        &form,
        &errors,
        false,
        StatusCode::BAD_REQUEST,
    ))
}
