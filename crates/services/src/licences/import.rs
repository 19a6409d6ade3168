//! Bulk import of existing licences (存量证照导入) from the systems that issued them before: JSON
//! rows (with each licence's document file, base64) or an Excel workbook (the document is then
//! rendered), with a report row by row.
//!
//! Each row is checked on its own, every problem of the row at once; a good row becomes a
//! licence of this platform: a new identifier (`…{serial}.001.{check}`), its data signed by the
//! issuer's active seal (the old system's signatures cannot be checked here, so the issuer's seal
//! vouches for the data now), its old number kept as 证照编号 and as `source_number`, once per
//! type: importing the same rows again reports them as duplicates and adds nothing. A good row
//! is imported even when others are not (one batch per row); the report says which.
//!
//! Who may import: system administrators for any issuer, a department administrator for the
//! organisation their session acts in.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use base64ct::{Base64, Encoding};
use calamine::{Data, Reader, open_workbook_auto_from_rs};
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};
use yiwang_domain::codes::{CreditCode, IdCardNumber, LicenceId};
use yiwang_store::{Batch, BatchError, fmt_time};

use super::issue::{Content, serial, sign_into};
use super::{LicenceType, licence_type, local_today, seals};
use crate::identity::authz::may_administer_org;
use crate::identity::staff::{Role, Staff};
use crate::{FieldError, Platform, ServiceError};

/// Most rows one import takes.
pub const MAX_ROWS: usize = 5_000;

/// One licence to import (a field left out is empty, and reported on its row).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ImportRow {
    /// 证照类型代码 of the catalogue.
    pub type_code: String,
    /// Its number in the old system (证照编号), unique per type.
    pub source_number: String,
    /// 持证主体.
    pub holder_name: String,
    /// 持证主体代码: an ID number (person) or a credit code (legal person), as the type says.
    pub holder_code: String,
    /// The issuing organisation's credit code.
    pub issuer_code: String,
    /// 颁证日期, `YYYY-MM-DD`.
    pub issued_on: String,
    /// 有效期起; the issue date when absent.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// 有效期止; absent: by the type's validity from `valid_from` (长期 when it has none).
    #[serde(default)]
    pub valid_to: Option<String>,
    /// The type's fields, by key (or label).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Its document, a PDF, base64; absent: rendered with the issuer's seal.
    #[serde(default)]
    pub document: Option<String>,
}

/// What became of one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowReport {
    /// Row number: 1-based in the JSON list, or the worksheet's row.
    pub row: usize,
    /// `imported`, `duplicate` (imported before: nothing added) or `rejected`.
    pub outcome: String,
    /// The licence's identifier (imported, or the one imported before).
    pub id: Option<String>,
    /// Why it was rejected: every problem of the row.
    pub errors: Vec<FieldError>,
}

/// The report of an import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Rows imported.
    pub imported: usize,
    /// Rows imported before.
    pub duplicates: usize,
    /// Rows rejected.
    pub rejected: usize,
    /// Row by row, in order.
    pub rows: Vec<RowReport>,
}

/// Imports rows (see the module docs). Refused as a whole only when the caller may not import
/// at all or sends no rows or too many.
pub async fn import(
    p: &Platform,
    actor: &Staff,
    rows: Vec<(usize, ImportRow)>,
) -> Result<ImportReport, ServiceError> {
    may_import(actor)?;
    if rows.is_empty() || rows.len() > MAX_ROWS {
        return Err(ServiceError::invalid(
            "rows",
            &format!("每次导入1至{MAX_ROWS}行"),
            &format!("import 1 to {MAX_ROWS} rows at a time"),
        ));
    }
    let mut ctx = Context::default();
    let mut report = ImportReport {
        imported: 0,
        duplicates: 0,
        rejected: 0,
        rows: Vec::with_capacity(rows.len()),
    };
    for (row, r) in rows {
        let outcome = match one(p, actor, &mut ctx, r).await? {
            Ok(Done::Imported(id)) => {
                report.imported += 1;
                ("imported", Some(id), Vec::new())
            }
            Ok(Done::Duplicate(id)) => {
                report.duplicates += 1;
                ("duplicate", Some(id), Vec::new())
            }
            Err(errors) => {
                report.rejected += 1;
                ("rejected", None, errors)
            }
        };
        report.rows.push(RowReport {
            row,
            outcome: outcome.0.into(),
            id: outcome.1,
            errors: outcome.2,
        });
    }
    Ok(report)
}

/// Types and seals looked up once per import.
#[derive(Default)]
struct Context {
    types: HashMap<String, Option<LicenceType>>,
    seals: HashMap<String, Option<(seals::Seal, yiwang_crypto::seal::SealKey)>>,
}

enum Done {
    Imported(String),
    Duplicate(String),
}

fn date(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<chrono::NaiveDate> {
    let v = value.trim();
    let parsed = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(v, "%Y/%m/%d"))
        .or_else(|_| chrono::NaiveDate::parse_from_str(v, "%Y%m%d"));
    match parsed {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "日期须为 YYYY-MM-DD",
                "a date is YYYY-MM-DD",
            ));
            None
        }
    }
}

/// Checks and imports one row: `Ok(Err(problems))` for a row rejected.
async fn one(
    p: &Platform,
    actor: &Staff,
    ctx: &mut Context,
    r: ImportRow,
) -> Result<Result<Done, Vec<FieldError>>, ServiceError> {
    let mut errors = Vec::new();
    let type_code = r.type_code.trim().to_owned();
    if !ctx.types.contains_key(&type_code) {
        let t = match licence_type(p, &type_code).await {
            Ok(t) => Some(t),
            Err(ServiceError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        ctx.types.insert(type_code.clone(), t);
    }
    let t = ctx.types.get(&type_code).cloned().flatten();
    if t.is_none() {
        errors.push(FieldError::new(
            "type_code",
            "证照目录中没有这一证照类型",
            "no such licence type in the catalogue",
        ));
    }
    let source = r.source_number.trim().to_owned();
    if source.is_empty() || source.chars().count() > 60 {
        errors.push(FieldError::new(
            "source_number",
            "原证照编号须为1至60个字符",
            "the old number has 1 to 60 characters",
        ));
    }
    let holder_name = r.holder_name.trim().to_owned();
    if holder_name.is_empty() || holder_name.chars().count() > 100 {
        errors.push(FieldError::new(
            "holder_name",
            "持证主体须为1至100个字",
            "the holder's name has 1 to 100 characters",
        ));
    }
    let person = t.as_ref().is_some_and(|t| t.holder_kind == "person");
    let holder_code = if person {
        IdCardNumber::parse(&r.holder_code).map(|c| c.as_str().to_owned())
    } else {
        CreditCode::parse(&r.holder_code).map(|c| c.as_str().to_owned())
    };
    let holder_code = match holder_code {
        Ok(c) => c,
        Err(e) => {
            errors.push(FieldError::new(
                "holder_code",
                format!("持证主体代码有误：{e}"),
                format!("bad holder code: {e}"),
            ));
            String::new()
        }
    };
    let issuer = r.issuer_code.trim().to_owned();
    let master = p.master.get();
    let org = master.organisation(&issuer).cloned();
    if org.is_none() {
        errors.push(FieldError::new(
            "issuer_code",
            "颁证单位不是本平台的机构",
            "the issuer is not an organisation of the platform",
        ));
    } else if !may_administer_org(actor, &issuer) {
        errors.push(FieldError::new(
            "issuer_code",
            "只能导入本机构颁发的证照",
            "you may import only your organisation's licences",
        ));
    } else {
        if !ctx.seals.contains_key(&issuer) {
            let seal = seals::signing_for(p, &issuer).await?;
            ctx.seals.insert(issuer.clone(), seal);
        }
        if ctx.seals.get(&issuer).is_none_or(Option::is_none) {
            errors.push(FieldError::new(
                "issuer_code",
                "颁证单位没有有效的电子印章",
                "the issuer has no valid seal",
            ));
        }
    }
    let today = local_today(p);
    let issued_on = date("issued_on", &r.issued_on, &mut errors);
    if issued_on.is_some_and(|d| d > today) {
        errors.push(FieldError::new(
            "issued_on",
            "颁证日期不能晚于今天",
            "the issue date is not in the future",
        ));
    }
    let valid_from = match r.valid_from.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => date("valid_from", v, &mut errors),
        None => issued_on,
    };
    let valid_to = match r.valid_to.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => date("valid_to", v, &mut errors),
        None => t.as_ref().and_then(|t| t.validity_years).and_then(|y| {
            valid_from.map(|f| f + chrono::Months::new(12 * y) - chrono::Days::new(1))
        }),
    };
    if let (Some(f), Some(to)) = (valid_from, valid_to)
        && to < f
    {
        errors.push(FieldError::new(
            "valid_to",
            "有效期止不能早于有效期起",
            "the validity ends before it starts",
        ));
    }
    // The type's fields, by key or label; every field given must be the type's.
    let mut fields = Map::new();
    if let Some(t) = &t {
        let mut given: HashMap<&str, &str> =
            r.fields.iter().map(|(k, v)| (k.trim(), v.trim())).collect();
        for (order, f) in t.fields.iter().enumerate() {
            let value = given
                .remove(f.key.as_str())
                .or_else(|| given.remove(f.label.as_str()))
                .unwrap_or_default();
            if value.chars().count() > 500 {
                errors.push(FieldError::new(
                    format!("fields.{}", f.key),
                    "字段值不能超过500个字",
                    "a field has at most 500 characters",
                ));
            }
            fields.insert(
                f.key.clone(),
                json!({ "label": f.label, "value": value, "order": order }),
            );
        }
        for k in given.keys() {
            errors.push(FieldError::new(
                format!("fields.{k}"),
                "该证照类型没有这个字段",
                "the licence type has no such field",
            ));
        }
    }
    let document = match r.document.as_deref().filter(|d| !d.trim().is_empty()) {
        None => None,
        Some(b64) => match Base64::decode_vec(b64.trim()) {
            Ok(bytes) => match crate::cases::apply::check_upload("licence.pdf", &bytes) {
                Ok(kind) if kind == "pdf" => Some(bytes),
                _ => {
                    errors.push(FieldError::new(
                        "document",
                        "证照文件须为 PDF",
                        "the document must be a PDF",
                    ));
                    None
                }
            },
            Err(_) => {
                errors.push(FieldError::new(
                    "document",
                    "证照文件须为 base64 编码",
                    "the document must be base64",
                ));
                None
            }
        },
    };
    let (Some(t), Some(org), Some(issued_on), Some(valid_from)) = (t, org, issued_on, valid_from)
    else {
        return Ok(Err(errors));
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    if let Some(id) = imported_before(p, &t.code, &source).await? {
        return Ok(Ok(Done::Duplicate(id)));
    }
    let Some(Some((seal, key))) = ctx.seals.get(&issuer) else {
        return Ok(Err(errors));
    };
    let issuer_code = CreditCode::parse(&issuer)
        .map_err(|e| ServiceError::internal(format!("issuer code {issuer}: {e}")))?;
    let serial = serial();
    let id = LicenceId::new(&t.code, &issuer_code, &serial, 1)
        .map_err(|e| ServiceError::internal(format!("licence id: {e}")))?;
    let holder_user: Option<String> = if person {
        sqlx::query_scalar("SELECT id FROM users WHERE id_number_bidx = $1")
            .bind(p.keys.pii.blind_index("id_number", &holder_code))
            .fetch_optional(p.db.pool())
            .await?
    } else {
        None
    };
    let content = Content {
        id,
        type_code: t.code.clone(),
        name: t.name.clone(),
        number: source.clone(),
        serial,
        version: 1,
        holder_name,
        holder_code,
        code_type: if person { "111" } else { "001" }.into(),
        holder_user,
        issuer_name: org.name.clone(),
        issuer_code: issuer.clone(),
        region: org.region.clone(),
        issued_on,
        valid_from,
        valid_to,
        fields,
        case_id: None,
        case_no: None,
        source_number: Some(source.clone()),
    };
    let at = fmt_time(p.now());
    let mut b = Batch::default();
    sign_into(
        p,
        &mut b,
        &content,
        (seal, key),
        "licence.import",
        &actor.username,
        &at,
        document,
    )
    .await?;
    match b.commit_alone(&p.db).await {
        Ok(()) => Ok(Ok(Done::Imported(content.id.as_str().to_owned()))),
        // The same number imported meanwhile (or twice in one file).
        Err(BatchError::Conflict) => match imported_before(p, &t.code, &source).await? {
            Some(id) => Ok(Ok(Done::Duplicate(id))),
            None => Err(super::changed()),
        },
        Err(BatchError::Store(e)) => {
            // A unique violation on (type, source number) is a duplicate too.
            match imported_before(p, &t.code, &source).await? {
                Some(id) => Ok(Ok(Done::Duplicate(id))),
                None => Err(e.into()),
            }
        }
    }
}

async fn imported_before(
    p: &Platform,
    type_code: &str,
    source: &str,
) -> Result<Option<String>, ServiceError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM licences WHERE type_code = $1 AND source_number = $2 LIMIT 1",
    )
    .bind(type_code)
    .bind(source)
    .fetch_optional(p.db.pool())
    .await?)
}

/// The columns of the workbook (first sheet, first row): these headers, then one column per
/// field of the type, headed by the field's key or label.
pub const COLUMNS: [&str; 8] = [
    "证照类型代码",
    "原证照编号",
    "持证主体",
    "持证主体代码",
    "颁证单位代码",
    "颁证日期",
    "有效期起",
    "有效期止",
];

/// The import workbook: [`COLUMNS`], then one column per field label of the catalogue's types
/// (each label once), and no rows. Administrators who may import.
pub async fn template(p: &Platform, actor: &Staff) -> Result<Vec<u8>, ServiceError> {
    may_import(actor)?;
    let mut labels: Vec<String> = Vec::new();
    for t in super::licence_types(p).await? {
        for f in t.fields {
            if !labels.contains(&f.label) {
                labels.push(f.label);
            }
        }
    }
    let mut columns: Vec<(&str, f64)> = COLUMNS.iter().map(|c| (*c, 22.0)).collect();
    columns.extend(labels.iter().map(|l| (l.as_str(), 18.0)));
    crate::identity::staff_admin::write_named_sheet("证照", &columns, &[])
}

/// Whether the staff member may import licences (system and department administrators).
pub fn may_import(actor: &Staff) -> Result<(), ServiceError> {
    if actor.has(Role::SystemAdmin) || actor.has(Role::DeptAdmin) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "只有系统管理员和部门管理员可以导入证照 / only administrators import licences".into(),
        ))
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        other => other.to_string().trim().to_owned(),
    }
}

/// Reads the rows of a workbook ([`COLUMNS`], then fields), numbered as the sheet shows them.
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<(usize, ImportRow)>, ServiceError> {
    let bad = |zh: &str, en: &str| ServiceError::invalid("file", zh, en);
    let mut wb = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        bad(
            "上传的文件不是有效的 Excel 工作簿（.xlsx）",
            "the file is not an Excel workbook (.xlsx)",
        )
    })?;
    let Some(range) = wb.worksheet_range_at(0).and_then(Result::ok) else {
        return Err(bad("工作簿没有工作表", "the workbook has no sheet"));
    };
    let (top, _) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(cell_text).collect())
        .unwrap_or_default();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .take(6)
        .filter(|c| !header.iter().any(|h| h.trim_start_matches('*') == **c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(bad(
            &format!("第一行须有这些列：{}", missing.join("、")),
            &format!("the first row lacks the columns {}", missing.join(", ")),
        ));
    }
    let mut out = Vec::new();
    for (i, r) in (2usize..).zip(rows) {
        let mut row = ImportRow::default();
        let mut any = false;
        for (h, cell) in header.iter().zip(r.iter()) {
            let v = cell_text(cell);
            if v.is_empty() {
                continue;
            }
            any = true;
            match h.trim_start_matches('*') {
                "证照类型代码" => row.type_code = v,
                "原证照编号" => row.source_number = v,
                "持证主体" => row.holder_name = v,
                "持证主体代码" => row.holder_code = v,
                "颁证单位代码" => row.issuer_code = v,
                "颁证日期" => row.issued_on = v,
                "有效期起" => row.valid_from = Some(v),
                "有效期止" => row.valid_to = Some(v),
                "" => {}
                field => {
                    row.fields.insert(field.to_owned(), v);
                }
            }
        }
        if any {
            out.push((i + usize::try_from(top).unwrap_or(0), row));
        }
    }
    Ok(out)
}
