//! 一窗受理: the window's case pages — the queue of cases waiting for a decision (searchable by
//! the applicant's ID number), registering a case for an applicant at the window, and one case
//! with its materials, form, process records and the actions its state allows: 收件提交,
//! 受理, 不予受理, 补正 (every problem at once), 即办件 decided on the spot, 特别程序, 送达.
//! Approvers reach the same case page from their tasks. Authorization is decided by the
//! services; every POST carries the session's CSRF token and the case's `rev` as shown.
//!
//! | method | path | form fields | result |
//! |---|---|---|---|
//! | GET | `/admin/cases` | `applicant`, `done` | the queue and the registration form (window clerks) |
//! | POST | `/admin/cases` | `csrf`, `item`, `kind` (`person`/`enterprise`), `name`, `id`, `phone` | 303 to the new case; 400 with the problems |
//! | GET | `/admin/cases/{id}` | `done` | the case and its actions |
//! | POST | `/admin/cases/{id}/upload` | multipart `csrf`, `slot`, `file` (PDF/JPG/PNG/OFD ≤ 20 MB) | 303 back `?done=uploaded`; 400/413 with the reason |
//! | GET | `/admin/cases/{id}/files/{file}` | | the file (SM3 checked) as an attachment |
//! | POST | `/admin/cases/{id}/{action}` | `csrf`, `rev` and per action: `submit` (`key`), `accept` (`opinion`), `refuse` (`reasons`), `correct` (`slot` repeated, `problem_<slot>`, `other_subject`, `other_problem`), `decide` (`approved` = `1`/`0`, `opinion`), `special_start` (`kind`, `reason`), `special_end` (`result`), `extension_request` (`days`, `reason`), `extension_decide` (`approve` = `1`/`0`, `opinion`), `deliver` (`method`, `carrier`, `tracking_no`) | 303 back `?done=<action>`; 400 with the problems; 409 out of order or changed meanwhile |

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use yiwang_domain::case::CaseState;
use yiwang_services::cases::{self, Access, Case, Correction, apply, extensions, records, window};
use yiwang_services::{FieldError, Platform, ServiceError};

use super::{AdminForm, DoneQuery, chrome, field_messages, local_time, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// Largest material file accepted (bytes).
pub(crate) const MAX_MATERIAL: usize = 20 * 1024 * 1024;

/// One material of the item's guide with the files handed in for it.
pub(crate) struct MaterialRow {
    pub slot: usize,
    pub name: String,
    pub required: bool,
    pub condition: String,
    pub files: Vec<apply::MaterialFile>,
}

/// One process record as shown.
pub(crate) struct RecordRow {
    pub seq: i64,
    pub step: String,
    pub handler: String,
    pub action: &'static str,
    pub opinion: String,
    pub ended_at: String,
}

/// One field of an item's application form, ready for a page.
pub(crate) struct FieldView {
    pub key: String,
    pub label: String,
    pub help: String,
    pub input_type: &'static str,
    pub required: bool,
    pub value: String,
    pub chosen: Vec<String>,
    pub options: Vec<(String, String)>,
    pub attrs: Vec<(&'static str, String)>,
    pub condition: String,
    pub error: String,
    /// A table field (家庭成员, 股东信息): its columns and rows.
    pub table: Option<TableView>,
}

/// A table field as a page shows it: the rows saved so far, then blank rows to fill in (blank
/// rows are ignored when the form is read, so a page without script grows the table by saving).
pub(crate) struct TableView {
    pub columns: Vec<(String, bool)>,
    pub rows: Vec<Vec<CellView>>,
    /// The most rows the table takes.
    pub max_rows: u32,
}

/// One cell of a table row.
pub(crate) struct CellView {
    /// The posted name, `key[row].column`.
    pub name: String,
    /// The element id.
    pub id: String,
    /// "姓名（第2行）", for the cell's accessible name.
    pub label: String,
    pub input_type: &'static str,
    pub value: String,
    pub chosen: Vec<String>,
    pub options: Vec<(String, String)>,
    pub attrs: Vec<(&'static str, String)>,
    pub error: String,
}

/// How a scalar field shows a value: (input type, text value, chosen options, options, HTML
/// attributes).
type Scalar = (
    &'static str,
    String,
    Vec<String>,
    Vec<(String, String)>,
    Vec<(&'static str, String)>,
);

fn scalar(
    f: &yiwang_domain::form::FieldSpec,
    v: &serde_json::Value,
    today: chrono::NaiveDate,
) -> Scalar {
    use yiwang_domain::form::FieldKind;
    let value = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let chosen = match v {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    let (options, multiple) = match &f.kind {
        FieldKind::Choice { options, multiple } => (
            options
                .iter()
                .map(|o| (o.value.clone(), o.label.clone()))
                .collect(),
            *multiple,
        ),
        _ => (Vec::new(), false),
    };
    let input_type = if multiple { "checkbox" } else { f.input_type() };
    (
        input_type,
        value,
        chosen,
        options,
        f.html_attrs(today).attributes(),
    )
}

fn error_of(errors: &[(String, String)], name: &str) -> String {
    errors
        .iter()
        .find(|(k, _)| *k == format!("form.{name}"))
        .map(|(_, m)| m.clone())
        .unwrap_or_default()
}

/// A table's saved rows as one line each for a read-only page ("姓名：张三，关系：配偶，…"):
/// choices by their label, ID numbers masked.
fn table_summary(columns: &[yiwang_domain::form::FieldSpec], v: &serde_json::Value) -> String {
    use yiwang_domain::form::FieldKind;
    let Some(rows) = v.as_array() else {
        return String::new();
    };
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .filter_map(|c| {
                    let cell = &row[&c.key];
                    let text = match (&c.kind, cell) {
                        (_, serde_json::Value::Null) => return None,
                        (FieldKind::Choice { options, .. }, serde_json::Value::String(s)) => {
                            options
                                .iter()
                                .find(|o| &o.value == s)
                                .map_or_else(|| s.clone(), |o| o.label.clone())
                        }
                        (FieldKind::IdNumber, serde_json::Value::String(s)) => {
                            yiwang_crypto::mask::mask_id_number(s)
                        }
                        (_, serde_json::Value::String(s)) => s.clone(),
                        (_, other) => other.to_string(),
                    };
                    Some(format!("{}：{text}", c.label))
                })
                .collect::<Vec<_>>()
                .join("，")
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// The fields of an item's form with a case's values and the errors of the last attempt.
pub(crate) fn form_fields(
    spec: &yiwang_domain::form::FormSpec,
    values: &serde_json::Value,
    today: chrono::NaiveDate,
    errors: &[(String, String)],
) -> Vec<FieldView> {
    use yiwang_domain::form::FieldKind;
    spec.fields()
        .iter()
        .map(|f| {
            let v = &values[&f.key];
            let table = match &f.kind {
                FieldKind::Table {
                    columns,
                    min_rows,
                    max_rows,
                } => {
                    let saved: Vec<&serde_json::Value> =
                        v.as_array().map(|a| a.iter().collect()).unwrap_or_default();
                    let n = u32::try_from(saved.len()).unwrap_or(u32::MAX);
                    let shown = (n + 2).max(*min_rows).min(*max_rows).max(n);
                    let rows = (0..shown as usize)
                        .map(|i| {
                            let row = saved.get(i).copied().unwrap_or(&serde_json::Value::Null);
                            columns
                                .iter()
                                .map(|col| {
                                    let name = format!("{}[{i}].{}", f.key, col.key);
                                    let (input_type, value, chosen, options, mut attrs) =
                                        scalar(col, &row[&col.key], today);
                                    // A blank row is optional however required its cells.
                                    attrs.retain(|(a, _)| *a != "required");
                                    CellView {
                                        id: format!("f-{}-{i}-{}", f.key, col.key),
                                        label: format!("{}（第{}行）", col.label, i + 1),
                                        error: error_of(errors, &name),
                                        name,
                                        input_type,
                                        value,
                                        chosen,
                                        options,
                                        attrs,
                                    }
                                })
                                .collect()
                        })
                        .collect();
                    Some(TableView {
                        columns: columns
                            .iter()
                            .map(|c| (c.label.clone(), c.required))
                            .collect(),
                        rows,
                        max_rows: *max_rows,
                    })
                }
                _ => None,
            };
            let (input_type, value, chosen, options, attrs) = match &f.kind {
                FieldKind::Table { columns, .. } => (
                    "table",
                    table_summary(columns, v),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                ),
                _ => scalar(f, v, today),
            };
            FieldView {
                key: f.key.clone(),
                label: f.label.clone(),
                help: f.help.clone().unwrap_or_default(),
                input_type,
                required: f.required,
                value,
                chosen,
                options,
                attrs,
                condition: f
                    .when
                    .as_ref()
                    .map(|w| {
                        let label = spec
                            .field(&w.field)
                            .map_or(w.field.as_str(), |x| x.label.as_str());
                        format!("{label} = {}", w.equals.join(" / "))
                    })
                    .unwrap_or_default(),
                error: error_of(errors, &f.key),
                table,
            }
        })
        .collect()
}

/// A case ready for a page (account or admin).
pub(crate) struct CaseView {
    pub id: String,
    pub case_no: String,
    pub item_code: String,
    pub item_name: String,
    pub org_name: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub case_type: &'static str,
    pub channel: &'static str,
    pub applicant_name: String,
    pub applicant_id: String,
    pub rev: i64,
    pub submitted_at: String,
    pub accepted_at: String,
    pub due_at: String,
    pub paused_at: String,
    pub decided_at: String,
    pub delivered_at: String,
    pub decision_opinion: String,
    pub delivery: String,
    pub delivery_method: String,
    pub delivery_address: String,
    pub corrections: Vec<(String, String)>,
    pub materials: Vec<MaterialRow>,
    pub records: Vec<RecordRow>,
    pub fields: Vec<FieldView>,
    pub documents: Vec<(String, String, String)>,
    pub files_base: String,
    pub wf_instance: String,
    pub immediate: bool,
}

fn t(dt: Option<chrono::DateTime<chrono::Utc>>) -> String {
    dt.map(|d| local_time(&yiwang_store::fmt_time(d)))
        .unwrap_or_default()
}

/// The state's label in the page language.
pub(crate) fn state_label(lang: Lang, s: CaseState) -> &'static str {
    match lang {
        Lang::Zh => s.label_zh(),
        Lang::En => s.label_en(),
    }
}

/// Builds the view of a case: its guide's materials with the files, its records, its form.
pub(crate) async fn view(
    p: &Platform,
    lang: Lang,
    c: &Case,
    errors: &[(String, String)],
    files_base: &str,
) -> Result<CaseView, ServiceError> {
    let documents = cases::notices::of_case(p, &c.id)
        .await?
        .into_iter()
        .map(|d| (d.title, d.doc_no, d.file_id))
        .collect();
    let item = yiwang_services::catalogue::published(p, &c.item_code).await?;
    let files = apply::materials(p, &c.id).await?;
    let materials = item
        .guide
        .materials
        .iter()
        .enumerate()
        .map(|(slot, m)| MaterialRow {
            slot,
            name: m.name.clone(),
            required: m.required && m.condition.is_none(),
            condition: m.condition.clone().unwrap_or_default(),
            files: files.iter().filter(|f| f.slot == slot).cloned().collect(),
        })
        .collect();
    let records = records::of_case(p, &c.id)
        .await?
        .into_iter()
        .map(|r| RecordRow {
            seq: r.seq,
            step: r.step,
            handler: r.handler,
            action: match lang {
                Lang::Zh => r.action.label_zh(),
                Lang::En => match r.action {
                    yiwang_domain::case::RecordAction::Pass => "passed",
                    yiwang_domain::case::RecordAction::Return => "returned",
                    yiwang_domain::case::RecordAction::Other => "other",
                },
            },
            opinion: r.opinion,
            ended_at: local_time(&r.ended_at),
        })
        .collect();
    let form = cases::form_values(p, &c.id).await?;
    let spec = apply::form_spec(p, &c.item_code).await?;
    let today = p.now().with_timezone(&p.calendar().offset()).date_naive();
    let fields = form_fields(&spec, &form, today, errors);
    let d = &c.delivery;
    let delivery = match d.method.as_str() {
        "window" => lang.t("窗口领取", "collected at the window").to_owned(),
        "post" => format!(
            "{} {} {}",
            lang.t("邮寄", "posted"),
            d.carrier.clone().unwrap_or_default(),
            d.tracking_no.clone().unwrap_or_default()
        ),
        _ => String::new(),
    };
    Ok(CaseView {
        id: c.id.clone(),
        case_no: c.case_no.clone().unwrap_or_default(),
        item_code: c.item_code.clone(),
        item_name: c.item_name.clone(),
        org_name: item.summary.org_name.clone(),
        state: c.state.as_str(),
        state_label: state_label(lang, c.state),
        case_type: if c.case_type == "1" {
            lang.t("即办件", "immediate")
        } else {
            lang.t("承诺件", "promised")
        },
        channel: if c.channel == "1" {
            lang.t("窗口", "window")
        } else {
            lang.t("网上", "online")
        },
        applicant_name: c.applicant_name.clone(),
        applicant_id: c.applicant_id_masked.clone(),
        rev: c.rev,
        submitted_at: t(c.submitted_at),
        accepted_at: t(c.accepted_at),
        due_at: t(c.due_at),
        paused_at: t(c.paused_at),
        decided_at: t(c.decided_at),
        delivered_at: t(c.delivered_at),
        decision_opinion: c.decision_opinion.clone(),
        delivery,
        delivery_method: d.method.clone(),
        delivery_address: d.address.clone().unwrap_or_default(),
        corrections: c
            .corrections
            .iter()
            .map(|x| (x.subject.clone(), x.problem.clone()))
            .collect(),
        materials,
        records,
        fields,
        documents,
        files_base: files_base.to_owned(),
        wf_instance: c.wf_instance.clone().unwrap_or_default(),
        immediate: c.case_type == "1",
    })
}

fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "registered" => lang.t(
            "已登记，请上传材料后提交。",
            "Registered: add the materials, then submit.",
        ),
        "uploaded" => lang.t("材料已上传。", "Material added."),
        "saved" => lang.t("已保存。", "Saved."),
        "submit" => lang.t(
            "已收件并生成办件编号。",
            "Submitted: the case has its number.",
        ),
        "accept" => lang.t("已受理。", "Accepted."),
        "refuse" => lang.t("已不予受理。", "Refused."),
        "correct" => lang.t(
            "已一次性告知申请人补正。",
            "The applicant was told every correction at once.",
        ),
        "decide" => lang.t("已办结。", "Decided."),
        "special_start" => lang.t(
            "特别程序已开始，暂停计时。",
            "Special procedure started; the clock stopped.",
        ),
        "special_end" => lang.t(
            "特别程序已结束，恢复计时。",
            "Special procedure ended; the clock runs again.",
        ),
        "deliver" => lang.t("已送达。", "Delivered."),
        "extension_request" => lang.t(
            "延长申请已提交，等待本部门其他审批人员审批。",
            "Extension requested: another approver of the organisation decides.",
        ),
        "extension_decide" => lang.t("延长申请已审批。", "The extension request is decided."),
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "admin/cases.html")]
struct QueuePage {
    chrome: Chrome,
    notice: Option<&'static str>,
    applicant: String,
    rows: Vec<(String, String, String, String, &'static str, String)>,
    errors: Vec<(String, String)>,
    form: RegisterForm,
}

/// `GET /admin/cases` query.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    applicant: String,
    #[serde(default)]
    done: Option<String>,
}

/// The registration form.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    phone: String,
}

async fn queue_page(
    s: &Shared,
    session: &StaffSession,
    applicant: &str,
    done: Option<&str>,
    form: RegisterForm,
    errors: Vec<(String, String)>,
) -> Result<QueuePage, PageError> {
    let lang = session.lang;
    let list = window::queue(
        &s.platform,
        &session.staff,
        (!applicant.trim().is_empty()).then_some(applicant),
    )
    .await
    .map_err(|e| session.err(e))?;
    Ok(QueuePage {
        chrome: chrome(session, lang.t("一窗受理", "One window")),
        notice: notice(lang, done),
        applicant: applicant.to_owned(),
        rows: list
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.case_no.clone().unwrap_or_default(),
                    c.item_name.clone(),
                    c.applicant_name.clone(),
                    state_label(lang, c.state),
                    t(c.submitted_at),
                )
            })
            .collect(),
        errors,
        form,
    })
}

/// `GET /admin/cases`.
pub(crate) async fn queue(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = queue_page(
        &s,
        &session,
        &q.applicant,
        q.done.as_deref(),
        RegisterForm::default(),
        Vec::new(),
    )
    .await?;
    Ok(html(StatusCode::OK, &page))
}

/// `POST /admin/cases`: register a case for an applicant.
pub(crate) async fn register(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<RegisterForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let applicant = apply::NewApplicant {
        kind: if f.kind == "enterprise" {
            cases::ApplicantKind::Enterprise
        } else {
            cases::ApplicantKind::Person
        },
        name: f.name.clone(),
        id: f.id.trim().to_owned(),
        phone: f.phone.trim().to_owned(),
        user_id: None,
    };
    match window::register(&s.platform, &session.staff, f.item.trim(), applicant).await {
        Ok(c) => Ok(see_other(&format!("/admin/cases/{}?done=registered", c.id))),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::NotFound { .. })) => {
            let errs = match e {
                ServiceError::Invalid(v) => v,
                _ => vec![FieldError::new(
                    "item",
                    "没有这个事项（请输入实施编码）",
                    "no such item (give its implementation code)",
                )],
            };
            let page = queue_page(
                &s,
                &session,
                "",
                None,
                f,
                field_messages(session.lang, &errs),
            )
            .await?;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

#[derive(Template)]
#[template(path = "admin/case.html")]
struct CasePage {
    chrome: Chrome,
    notice: Option<&'static str>,
    c: CaseView,
    handler: bool,
    /// Window clerks act as the window (受理, 补正, 送达…); approvers only start and end
    /// special procedures here.
    clerk: bool,
    errors: Vec<(String, String)>,
    submit_key: String,
    /// 延长审批 requests, oldest first.
    extensions: Vec<extensions::Extension>,
    /// Whether a request is pending.
    extension_pending: bool,
    /// Whether this staff member may decide the pending request.
    may_decide_extension: bool,
    /// 监察信号 of the case within the staff member's reach.
    signals: Vec<super::supervision_signals::CaseSignal>,
}

async fn case_page(
    s: &Shared,
    session: &StaffSession,
    id: &str,
    done: Option<&str>,
    errors: Vec<(String, String)>,
) -> Result<CasePage, PageError> {
    let lang = session.lang;
    let (c, access) = cases::for_staff(&s.platform, &session.staff, id)
        .await
        .map_err(|e| session.err(e))?;
    let v = view(
        &s.platform,
        lang,
        &c,
        &errors,
        &format!("/admin/cases/{id}/files"),
    )
    .await
    .map_err(|e| session.err(e))?;
    let exts = extensions::of_case(&s.platform, &c.id)
        .await
        .map_err(|e| session.err(e))?;
    let pending = exts.iter().find(|e| e.state == "pending");
    let may_decide_extension = access == Access::Handler
        && pending.is_some_and(|e| extensions::may_decide(&session.staff, &c, e));
    let extension_pending = pending.is_some();
    let signals = super::supervision_signals::of_case(s, session, &c.id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(CasePage {
        signals,
        chrome: chrome(session, format!("{} {}", lang.t("办件", "Case"), v.case_no)),
        extensions: exts,
        extension_pending,
        may_decide_extension,
        notice: notice(lang, done),
        handler: access == Access::Handler,
        clerk: session
            .staff
            .has(yiwang_services::identity::staff::Role::WindowClerk),
        c: v,
        errors,
        submit_key: yiwang_services::identity::staff::random_token(),
    })
}

/// `GET /admin/cases/{id}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = case_page(&s, &session, &id, q.done.as_deref(), Vec::new()).await?;
    Ok(html(StatusCode::OK, &page))
}

/// The pairs of a posted form that belong to the application form (the page's own removed).
pub(crate) fn form_pairs(f: &[(String, String)]) -> Vec<(String, String)> {
    f.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "rev" | "key"))
        .cloned()
        .collect()
}

pub(crate) fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /admin/cases/{id}/{action}`.
pub(crate) async fn act(
    State(s): State<Shared>,
    session: StaffSession,
    Path((id, action)): Path<(String, String)>,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.check_csrf(field(&f, "csrf"))?;
    let p = &s.platform;
    let who = &session.staff;
    let rev = field(&f, "rev").parse::<i64>().ok();
    let r = match action.as_str() {
        "save" => {
            let (c, _) = cases::for_staff(p, who, &id)
                .await
                .map_err(|e| session.err(e))?;
            let pairs = form_pairs(&f);
            match apply::values_from_pairs(p, &c.item_code, &pairs).await {
                Ok(values) => window::save_form(p, who, &id, &values).await.map(|_| ()),
                Err(e) => Err(e),
            }
        }
        "submit" => window::submit(p, who, &id, field(&f, "key"), rev)
            .await
            .map(|_| ()),
        "accept" => window::accept(p, who, &id, rev, field(&f, "opinion"))
            .await
            .map(|_| ()),
        "refuse" => window::refuse(p, who, &id, rev, field(&f, "reasons"))
            .await
            .map(|_| ()),
        "correct" => {
            let mut items: Vec<Correction> = f
                .iter()
                .filter(|(k, _)| k == "slot")
                .filter_map(|(_, v)| v.parse::<usize>().ok())
                .map(|slot| Correction {
                    slot: Some(slot),
                    field: None,
                    subject: String::new(),
                    problem: field(&f, &format!("problem_{slot}")).to_owned(),
                })
                .collect();
            let (subject, problem) = (field(&f, "other_subject"), field(&f, "other_problem"));
            if !subject.trim().is_empty() || !problem.trim().is_empty() {
                items.push(Correction {
                    slot: None,
                    field: None,
                    subject: subject.trim().to_owned(),
                    problem: problem.to_owned(),
                });
            }
            window::request_correction(p, who, &id, rev, items)
                .await
                .map(|_| ())
        }
        "decide" => window::decide_on_spot(
            p,
            who,
            &id,
            rev,
            field(&f, "approved") == "1",
            field(&f, "opinion"),
        )
        .await
        .map(|_| ()),
        "special_start" => {
            window::start_special(p, who, &id, rev, field(&f, "kind"), field(&f, "reason"))
                .await
                .map(|_| ())
        }
        "special_end" => window::end_special(p, who, &id, rev, field(&f, "result"))
            .await
            .map(|_| ()),
        "extension_request" => {
            extensions::request(p, who, &id, rev, field(&f, "days"), field(&f, "reason"))
                .await
                .map(|_| ())
        }
        "extension_decide" => extensions::decide(
            p,
            who,
            &id,
            rev,
            field(&f, "approve") == "1",
            field(&f, "opinion"),
        )
        .await
        .map(|_| ()),
        "deliver" => window::deliver(
            p,
            who,
            &id,
            rev,
            field(&f, "method"),
            field(&f, "carrier"),
            field(&f, "tracking_no"),
        )
        .await
        .map(|_| ()),
        _ => {
            return Err(session.err(ServiceError::NotFound {
                what: "操作",
                key: action,
            }));
        }
    };
    match r {
        Ok(()) => Ok(see_other(&format!("/admin/cases/{id}?done={action}"))),
        Err(ServiceError::Invalid(errs)) => {
            let page =
                case_page(&s, &session, &id, None, field_messages(session.lang, &errs)).await?;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// The body limit of a route that takes a material: the upload policy's maximum plus room for
/// the multipart envelope (the router's default limit is lower).
pub(crate) fn material_body_limit() -> axum::extract::DefaultBodyLimit {
    let max = usize::try_from(yiwang_domain::upload::DEFAULT_MAX_BYTES).unwrap_or(usize::MAX);
    axum::extract::DefaultBodyLimit::max(max.saturating_add(64 * 1024))
}

/// What a material upload form brought: CSRF token, slot, file name and bytes.
pub(crate) struct MaterialUpload {
    pub csrf: String,
    pub slot: Option<usize>,
    pub name: String,
    pub bytes: Vec<u8>,
    pub too_large: bool,
}

/// Reads a material upload (multipart `csrf`, `slot`, `file`), the file in chunks up to
/// [`MAX_MATERIAL`].
pub(crate) async fn read_material(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<MaterialUpload, ServiceError> {
    let bad = |d: String| {
        ServiceError::invalid(
            "file",
            &format!("上传的表单无法读取：{d}"),
            "the upload could not be read",
        )
    };
    let mut m = multipart.map_err(|e| bad(e.to_string()))?;
    let mut out = MaterialUpload {
        csrf: String::new(),
        slot: None,
        name: String::new(),
        bytes: Vec::new(),
        too_large: false,
    };
    'fields: loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                out.too_large = true;
                break;
            }
            Err(e) => return Err(bad(e.body_text())),
        };
        match field.name() {
            Some("csrf") => out.csrf = field.text().await.map_err(|e| bad(e.body_text()))?,
            Some("slot") => {
                out.slot = field
                    .text()
                    .await
                    .map_err(|e| bad(e.body_text()))?
                    .trim()
                    .parse()
                    .ok()
            }
            Some("file") => {
                out.name = field.file_name().unwrap_or_default().to_owned();
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) if out.bytes.len() + c.len() > MAX_MATERIAL => {
                            out.too_large = true;
                            break 'fields;
                        }
                        Ok(Some(c)) => out.bytes.extend_from_slice(&c),
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            out.too_large = true;
                            break 'fields;
                        }
                        Err(e) => return Err(bad(e.body_text())),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The problem with an upload before it reaches the services (size, missing parts).
pub(crate) fn upload_problem(u: &MaterialUpload) -> Option<(StatusCode, FieldError)> {
    if u.too_large {
        return Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            FieldError::new(
                "file",
                "文件超过20 MB，请压缩后重新上传",
                "the file is larger than 20 MB",
            ),
        ));
    }
    if u.slot.is_none() || u.bytes.is_empty() {
        return Some((
            StatusCode::BAD_REQUEST,
            FieldError::new(
                "file",
                "请选择材料并选择要上传的文件",
                "choose the material and a file",
            ),
        ));
    }
    None
}

/// `POST /admin/cases/{id}/upload`.
pub(crate) async fn upload(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let u = read_material(multipart).await.map_err(|e| session.err(e))?;
    session.check_csrf(&u.csrf)?;
    let err = match upload_problem(&u) {
        Some((status, e)) => Some((status, vec![e])),
        None => match window::attach(
            &s.platform,
            &session.staff,
            &id,
            u.slot.unwrap_or(0),
            &u.name,
            &u.bytes,
        )
        .await
        {
            Ok(_) => None,
            Err(ServiceError::Invalid(e)) => Some((StatusCode::BAD_REQUEST, e)),
            Err(e) => return Err(session.err(e)),
        },
    };
    match err {
        None => Ok(see_other(&format!("/admin/cases/{id}?done=uploaded"))),
        Some((status, errs)) => {
            let page =
                case_page(&s, &session, &id, None, field_messages(session.lang, &errs)).await?;
            Ok(html(status, &page))
        }
    }
}

/// A file as an attachment, its name RFC 5987-encoded.
pub(crate) fn file_response(name: &str, kind: &str, bytes: Vec<u8>) -> Response {
    let mime = yiwang_domain::upload::FileKind::from_extension(kind).map_or(
        "application/octet-stream",
        yiwang_domain::upload::FileKind::mime,
    );
    let ascii = format!("file.{kind}");
    let mut res = (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&super::excel::disposition(&ascii, name)) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `GET /admin/cases/{id}/files/{file}`.
pub(crate) async fn file(
    State(s): State<Shared>,
    session: StaffSession,
    Path((id, file_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    cases::for_staff(&s.platform, &session.staff, &id)
        .await
        .map_err(|e| session.err(e))?;
    // Staff get A and B materials as watermarked copies.
    let (name, kind, bytes) = apply::staff_file(&s.platform, &id, &file_id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(file_response(&name, &kind, bytes))
}
