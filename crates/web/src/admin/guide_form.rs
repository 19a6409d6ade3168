//! The guide editor's form, as text: what a browser posts, parsed into a [`Guide`], and a guide
//! written back as the same name/value pairs.
//!
//! The editor works without JavaScript, so every list (legal basis, materials, process, fees,
//! places) is a run of numbered rows named `section[i][field]`, e.g. `materials[3][name]`. A
//! row whose first field is empty is dropped on save; that is how a manager deletes one, and
//! why blank spare rows cost nothing. Plain fields keep their name (`name`, `item_type`…);
//! checkbox groups repeat theirs (`service_objects=1&service_objects=2`).
//!
//! [`GuideForm`] keeps the posted text as it was, so a form with mistakes is shown again with
//! every value the user typed; [`GuideForm::parse`] turns it into a guide and names every field
//! it cannot read (a non-number, an unknown code) in a [`FieldError`], under the field's form
//! name so the page can mark it.

use std::collections::{BTreeMap, HashMap};
use yiwang_domain::identity::RealNameLevel;

use yiwang_domain::dict::{
    CaseType, CrossRegionScope, HandlingForm, ItemType, MaterialForm, OnlineDepth, ServiceObject,
};
use yiwang_domain::item::{Fee, Guide, ItemResult, LegalBasis, Material, Place, ProcessStep};
use yiwang_services::FieldError;

/// One list of numbered rows in the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSection {
    /// Form name prefix, e.g. `materials`.
    pub key: &'static str,
    /// Field names of one row; the first one decides whether the row is kept.
    pub fields: &'static [&'static str],
}

/// 设定依据 rows.
pub const LEGAL: RowSection = RowSection {
    key: "legal_basis",
    fields: &["law", "article", "text"],
};
/// 申请材料 rows.
pub const MATERIALS: RowSection = RowSection {
    key: "materials",
    fields: &[
        "name",
        "original",
        "copies",
        "form",
        "required",
        "condition",
        "source",
        "note",
        "blank_form",
        "sample",
    ],
};
/// 办理流程 rows.
pub const PROCESS: RowSection = RowSection {
    key: "process",
    fields: &["name", "description"],
};
/// 收费项目 rows.
pub const FEES: RowSection = RowSection {
    key: "fees",
    fields: &["name", "amount", "basis"],
};
/// 办理地点 rows.
pub const PLACES: RowSection = RowSection {
    key: "places",
    fields: &["name", "address", "hours"],
};

/// Every row list, in the editor's order.
pub const ROW_SECTIONS: [RowSection; 5] = [LEGAL, MATERIALS, PROCESS, FEES, PLACES];

/// The result kinds (结果类型) the editor offers.
pub const RESULT_KINDS: [&str; 3] = ["证照", "批文", "其他"];

/// Value of a ticked checkbox inside a row (`materials[0][required]=1`).
pub const CHECKED: &str = "1";

/// `charged` radio values: 收费 / 不收费 (absent: the guide does not say).
pub const CHARGED_YES: &str = "yes";
/// See [`CHARGED_YES`].
pub const CHARGED_NO: &str = "no";

/// The form name of one field of one row.
pub fn row_name(section: &str, index: usize, field: &str) -> String {
    format!("{section}[{index}][{field}]")
}

/// A national code table, seen uniformly by the parser and the editor.
pub trait CodeTable: Copy + PartialEq + 'static {
    /// Every value, in code order.
    fn all() -> &'static [Self];
    /// National code.
    fn code(self) -> &'static str;
    /// Chinese label.
    fn label_zh(self) -> &'static str;
    /// English label.
    fn label_en(self) -> &'static str;
    /// Parses a code.
    fn from_code(code: &str) -> Option<Self>;
    /// What the table is, for messages: Chinese and English.
    const WHAT: (&'static str, &'static str);
}

macro_rules! code_table {
    ($($t:ty => $zh:literal, $en:literal;)+) => {$(
        impl CodeTable for $t {
            fn all() -> &'static [Self] { <$t>::ALL }
            fn code(self) -> &'static str { <$t>::code(self) }
            fn label_zh(self) -> &'static str { <$t>::label_zh(self) }
            fn label_en(self) -> &'static str { <$t>::label_en(self) }
            fn from_code(code: &str) -> Option<Self> { <$t>::from_code(code) }
            const WHAT: (&'static str, &'static str) = ($zh, $en);
        }
    )+};
}

code_table! {
    ItemType => "事项类型", "item type";
    ServiceObject => "服务对象", "service object";
    HandlingForm => "办理形式", "handling form";
    CaseType => "办件类型", "case type";
    OnlineDepth => "网办深度", "online depth";
    CrossRegionScope => "通办范围", "scope";
    MaterialForm => "材料形式", "material form";
}

/// One row of a list: field name → posted text.
pub type Row = HashMap<&'static str, String>;

/// The editor's posted values, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuideForm {
    /// Plain fields, each with every value posted under its name, in order.
    values: HashMap<String, Vec<String>>,
    /// Row lists by section key, rows in index order.
    rows: HashMap<&'static str, Vec<Row>>,
}

/// What [`GuideForm::parse`] made of a form.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The guide; where a field could not be read it holds a default, and `errors` says so.
    pub guide: Guide,
    /// Every field that could not be read, under its form name.
    pub errors: Vec<FieldError>,
    /// For each row list, the form row of each kept entry (guide index → form index), so that
    /// errors about `materials[i]` of the guide can be shown on the right form row.
    pub kept: HashMap<&'static str, Vec<usize>>,
}

fn section_of(key: &str) -> Option<RowSection> {
    ROW_SECTIONS.iter().copied().find(|s| s.key == key)
}

/// Splits `materials[3][name]` into its section, index and field.
fn split_row_name(name: &str) -> Option<(RowSection, usize, &'static str)> {
    let section = section_of(name.split_once('[')?.0)?;
    let (index, field) = row_index(section, name)?;
    Some((section, index, field))
}

/// The index and field of a row field of `section`: `materials[3][name]` → `(3, "name")`.
pub fn row_index(section: RowSection, name: &str) -> Option<(usize, &'static str)> {
    let rest = name.strip_prefix(section.key)?.strip_prefix('[')?;
    let (index, field) = rest.strip_suffix(']')?.split_once("][")?;
    let index: usize = index.parse().ok()?;
    let field = section.fields.iter().copied().find(|f| *f == field)?;
    Some((index, field))
}

/// Removes wholly empty rows at the end of a list, then adds `n` spare ones. Rows before the
/// last filled one keep their place, so errors still point at them.
pub fn spare_rows(rows: &mut Vec<Row>, n: usize) {
    while rows
        .last()
        .is_some_and(|r| r.values().all(|v| v.trim().is_empty()))
    {
        rows.pop();
    }
    rows.extend((0..n).map(|_| Row::new()));
}

impl GuideForm {
    /// Reads posted pairs. Row fields are grouped by their index (gaps and order do not
    /// matter); any other name is kept as a plain field.
    pub fn from_pairs<I, K, V>(pairs: I) -> GuideForm
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        let mut rows: HashMap<&'static str, BTreeMap<usize, Row>> = HashMap::new();
        for (k, v) in pairs {
            let k = k.as_ref();
            match split_row_name(k) {
                Some((section, index, field)) => {
                    rows.entry(section.key)
                        .or_default()
                        .entry(index)
                        .or_default()
                        .insert(field, v.into());
                }
                None => values.entry(k.to_string()).or_default().push(v.into()),
            }
        }
        GuideForm {
            values,
            rows: rows
                .into_iter()
                .map(|(k, m)| (k, m.into_values().collect()))
                .collect(),
        }
    }

    /// The form of a stored guide.
    pub fn from_guide(g: &Guide) -> GuideForm {
        GuideForm::from_pairs(to_pairs(g))
    }

    /// The first value posted under a plain name, or "".
    pub fn get(&self, name: &str) -> &str {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Every value posted under a plain name (checkbox groups).
    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The rows of a list.
    pub fn rows(&self, section: RowSection) -> &[Row] {
        self.rows.get(section.key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Appends `n` empty rows to every list (the editor's spare rows).
    pub fn add_empty_rows(&mut self, n: usize) {
        for s in ROW_SECTIONS {
            let rows = self.rows.entry(s.key).or_default();
            rows.extend((0..n).map(|_| Row::new()));
        }
    }

    /// [`spare_rows`] of every list.
    pub fn with_spare_rows(mut self, n: usize) -> GuideForm {
        for s in ROW_SECTIONS {
            spare_rows(self.rows.entry(s.key).or_default(), n);
        }
        self
    }

    /// Parses the form into a guide, naming every field that cannot be read.
    pub fn parse(&self) -> Parsed {
        let mut p = Parser {
            form: self,
            errors: Vec::new(),
        };
        let mut kept: HashMap<&'static str, Vec<usize>> = HashMap::new();

        let name = p.text("name");
        let aliases = p.lines("aliases");
        let item_type = p.code::<ItemType>("item_type");
        let service_objects = p.codes::<ServiceObject>("service_objects");
        let mut themes: Vec<String> = Vec::new();
        for t in self.all("themes") {
            let t = t.trim();
            if !t.is_empty() && !themes.iter().any(|x| x == t) {
                themes.push(t.to_string());
            }
        }

        let legal_basis = p
            .kept_rows(LEGAL, &mut kept)
            .into_iter()
            .map(|(_, r)| LegalBasis {
                law: cell(r, "law"),
                article: cell(r, "article"),
                text: cell(r, "text"),
            })
            .collect();
        let conditions = p.lines("conditions");

        let mut materials = Vec::new();
        for (i, r) in p.kept_rows(MATERIALS, &mut kept) {
            let field = |f: &str| row_name(MATERIALS.key, i, f);
            let original = p.number_or_zero::<u8>(&field("original"), r.get("original"));
            let copies = p.number_or_zero::<u8>(&field("copies"), r.get("copies"));
            let form = p.code_value::<MaterialForm>(&field("form"), r.get("form"));
            materials.push(Material {
                name: cell(r, "name"),
                original,
                copies,
                form,
                required: flag(r, "required"),
                condition: optional(r, "condition"),
                source: cell(r, "source"),
                note: optional(r, "note"),
                blank_form: flag(r, "blank_form"),
                sample: flag(r, "sample"),
            });
        }

        let process = p
            .kept_rows(PROCESS, &mut kept)
            .into_iter()
            .map(|(_, r)| ProcessStep {
                name: cell(r, "name"),
                description: cell(r, "description"),
            })
            .collect();

        let statutory_limit_days = p.number::<u16>("statutory_limit_days");
        let promised_limit_days = p.number::<u16>("promised_limit_days");

        let fee_rows: Vec<Fee> = p
            .kept_rows(FEES, &mut kept)
            .into_iter()
            .map(|(_, r)| Fee {
                name: cell(r, "name"),
                amount: cell(r, "amount"),
                basis: cell(r, "basis"),
            })
            .collect();
        let fees = match self.get("charged").trim() {
            "" if fee_rows.is_empty() => None,
            "" => {
                p.error(
                    "charged",
                    "填写了收费项目，请选择“收费”".into(),
                    "fees are listed: choose “charged”".into(),
                );
                None
            }
            CHARGED_NO if fee_rows.is_empty() => Some(Vec::new()),
            CHARGED_NO => {
                p.error(
                    "charged",
                    "选择了“不收费”，但填写了收费项目；请清空收费项目或选择“收费”".into(),
                    "“free” is chosen but fees are listed".into(),
                );
                Some(Vec::new())
            }
            CHARGED_YES if fee_rows.is_empty() => {
                p.error(
                    "charged",
                    "选择了“收费”，请至少填写一个收费项目（名称、标准、依据）".into(),
                    "“charged” is chosen: list at least one fee".into(),
                );
                None
            }
            CHARGED_YES => Some(fee_rows),
            other => {
                p.error(
                    "charged",
                    format!("“{other}”无效，应为“收费”或“不收费”"),
                    format!("{other} is not yes or no"),
                );
                None
            }
        };

        let handling_forms = p.codes::<HandlingForm>("handling_forms");
        let case_type = p.code::<CaseType>("case_type");
        let online_depth = p.code::<OnlineDepth>("online_depth");
        let visits = p.number::<u8>("visits");
        let min_level_number = p.number::<u8>("min_level");
        let min_level = RealNameLevel::parse(i64::from(min_level_number)).unwrap_or_else(|| {
            p.error(
                "min_level",
                "实名等级要求须为 1、2 或 3".into(),
                "the real-name level must be 1, 2 or 3".into(),
            );
            RealNameLevel::L2
        });
        let scope = p.code::<CrossRegionScope>("scope");
        let result_kind = self.get("result_kind").trim().to_string();
        if !RESULT_KINDS.contains(&result_kind.as_str()) {
            if result_kind.is_empty() {
                p.error(
                    "result_kind",
                    "请选择结果类型（证照、批文或其他）".into(),
                    "choose the result kind".into(),
                );
            } else {
                p.error(
                    "result_kind",
                    format!("结果类型“{result_kind}”无效，应为证照、批文或其他"),
                    format!("unknown result kind {result_kind}"),
                );
            }
        }
        let result = ItemResult {
            name: p.text("result_name"),
            kind: result_kind,
        };
        let places = p
            .kept_rows(PLACES, &mut kept)
            .into_iter()
            .map(|(_, r)| Place {
                name: cell(r, "name"),
                address: cell(r, "address"),
                hours: cell(r, "hours"),
            })
            .collect();
        let consult_phone = p.text("consult_phone");
        let complaint_phone = p.text("complaint_phone");

        let guide = Guide {
            name,
            aliases,
            item_type,
            service_objects,
            themes,
            legal_basis,
            conditions,
            materials,
            process,
            statutory_limit_days,
            promised_limit_days,
            fees,
            handling_forms,
            case_type,
            online_depth,
            visits,
            min_level,
            scope,
            result,
            places,
            consult_phone,
            complaint_phone,
        };
        Parsed {
            guide,
            errors: p.errors,
            kept,
        }
    }
}

/// A row's field, trimmed.
fn cell(r: &Row, f: &str) -> String {
    r.get(f).map(|v| v.trim().to_string()).unwrap_or_default()
}

/// A row's optional text: empty is `None`.
fn optional(r: &Row, f: &str) -> Option<String> {
    Some(cell(r, f)).filter(|v| !v.is_empty())
}

/// A row's checkbox: present (with any non-empty value) is ticked.
fn flag(r: &Row, f: &str) -> bool {
    r.get(f).is_some_and(|v| !v.trim().is_empty())
}

struct Parser<'a> {
    form: &'a GuideForm,
    errors: Vec<FieldError>,
}

impl<'a> Parser<'a> {
    fn error(&mut self, field: &str, zh: String, en: String) {
        self.errors.push(FieldError::new(field, zh, en));
    }

    fn text(&self, name: &str) -> String {
        self.form.get(name).trim().to_string()
    }

    /// A textarea of one entry a line; blank lines are dropped.
    fn lines(&self, name: &str) -> Vec<String> {
        self.form
            .get(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The rows of a list whose first field is filled, with their form index.
    fn kept_rows(
        &self,
        section: RowSection,
        kept: &mut HashMap<&'static str, Vec<usize>>,
    ) -> Vec<(usize, &'a Row)> {
        let first = section.fields[0];
        let rows: Vec<(usize, &'a Row)> = self
            .form
            .rows(section)
            .iter()
            .enumerate()
            .filter(|(_, r)| r.get(first).is_some_and(|v| !v.trim().is_empty()))
            .collect();
        kept.insert(section.key, rows.iter().map(|(i, _)| *i).collect());
        rows
    }

    fn parse_number<N>(&mut self, field: &str, raw: &str) -> Option<N>
    where
        N: std::str::FromStr + Bounded,
    {
        let v = raw.trim();
        match v.parse::<N>() {
            Ok(n) => Some(n),
            Err(_) if v.is_empty() => {
                self.error(
                    field,
                    format!("请填写 0 到 {} 之间的整数", N::MAX_TEXT),
                    format!("enter a whole number from 0 to {}", N::MAX_TEXT),
                );
                None
            }
            Err(_) => {
                self.error(
                    field,
                    format!("“{v}”不是有效的数字，应为 0 到 {} 之间的整数", N::MAX_TEXT),
                    format!("{v} is not a whole number from 0 to {}", N::MAX_TEXT),
                );
                None
            }
        }
    }

    /// A required number.
    fn number<N>(&mut self, name: &str) -> N
    where
        N: std::str::FromStr + Bounded + Default,
    {
        let raw = self.form.get(name).to_string();
        self.parse_number(name, &raw).unwrap_or_default()
    }

    /// A row's count: empty is 0.
    fn number_or_zero<N>(&mut self, field: &str, raw: Option<&String>) -> N
    where
        N: std::str::FromStr + Bounded + Default,
    {
        match raw.map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => N::default(),
            Some(v) => self.parse_number(field, v).unwrap_or_default(),
        }
    }

    fn code_value<T: CodeTable>(&mut self, field: &str, raw: Option<&String>) -> T {
        let v = raw.map(|v| v.trim()).unwrap_or("");
        match T::from_code(v) {
            Some(t) => t,
            None => {
                let (zh, en) = T::WHAT;
                if v.is_empty() {
                    self.error(field, format!("请选择{zh}"), format!("choose the {en}"));
                } else {
                    self.error(
                        field,
                        format!("“{v}”不是有效的{zh}代码"),
                        format!("{v} is not a valid {en} code"),
                    );
                }
                T::all()[0]
            }
        }
    }

    /// A required select.
    fn code<T: CodeTable>(&mut self, name: &str) -> T {
        let raw = self.form.values.get(name).and_then(|v| v.first()).cloned();
        self.code_value(name, raw.as_ref())
    }

    /// A checkbox group: every ticked code, in posted order, without repeats.
    fn codes<T: CodeTable>(&mut self, name: &str) -> Vec<T> {
        let mut out: Vec<T> = Vec::new();
        for v in self.form.all(name) {
            match T::from_code(v) {
                Some(t) if !out.contains(&t) => out.push(t),
                Some(_) => {}
                None => {
                    let (zh, en) = T::WHAT;
                    let v = v.trim();
                    self.errors.push(FieldError::new(
                        name,
                        format!("“{v}”不是有效的{zh}代码"),
                        format!("{v} is not a valid {en} code"),
                    ));
                }
            }
        }
        out
    }
}

/// The largest value of a number field, for messages.
pub trait Bounded {
    /// The largest value, as text.
    const MAX_TEXT: &'static str;
}

impl Bounded for u8 {
    const MAX_TEXT: &'static str = "255";
}

impl Bounded for u16 {
    const MAX_TEXT: &'static str = "65535";
}

/// A guide as the name/value pairs its editor form posts (rows numbered from 0; unticked
/// checkboxes and an unstated fee choice absent, as browsers send them).
pub fn to_pairs(g: &Guide) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |k: String, v: String| out.push((k, v));
    put("name".into(), g.name.clone());
    put("aliases".into(), g.aliases.join("\n"));
    put("item_type".into(), g.item_type.code().into());
    for o in &g.service_objects {
        put("service_objects".into(), o.code().into());
    }
    for t in &g.themes {
        put("themes".into(), t.clone());
    }
    for (i, l) in g.legal_basis.iter().enumerate() {
        let k = |f| row_name(LEGAL.key, i, f);
        put(k("law"), l.law.clone());
        put(k("article"), l.article.clone());
        put(k("text"), l.text.clone());
    }
    put("conditions".into(), g.conditions.join("\n"));
    for (i, m) in g.materials.iter().enumerate() {
        let k = |f| row_name(MATERIALS.key, i, f);
        put(k("name"), m.name.clone());
        put(k("original"), m.original.to_string());
        put(k("copies"), m.copies.to_string());
        put(k("form"), m.form.code().into());
        if m.required {
            put(k("required"), CHECKED.into());
        }
        put(k("condition"), m.condition.clone().unwrap_or_default());
        put(k("source"), m.source.clone());
        put(k("note"), m.note.clone().unwrap_or_default());
        if m.blank_form {
            put(k("blank_form"), CHECKED.into());
        }
        if m.sample {
            put(k("sample"), CHECKED.into());
        }
    }
    for (i, s) in g.process.iter().enumerate() {
        let k = |f| row_name(PROCESS.key, i, f);
        put(k("name"), s.name.clone());
        put(k("description"), s.description.clone());
    }
    put(
        "statutory_limit_days".into(),
        g.statutory_limit_days.to_string(),
    );
    put(
        "promised_limit_days".into(),
        g.promised_limit_days.to_string(),
    );
    match &g.fees {
        None => {}
        Some(f) if f.is_empty() => put("charged".into(), CHARGED_NO.into()),
        Some(fees) => {
            put("charged".into(), CHARGED_YES.into());
            for (i, f) in fees.iter().enumerate() {
                let k = |x| row_name(FEES.key, i, x);
                put(k("name"), f.name.clone());
                put(k("amount"), f.amount.clone());
                put(k("basis"), f.basis.clone());
            }
        }
    }
    for f in &g.handling_forms {
        put("handling_forms".into(), f.code().into());
    }
    put("case_type".into(), g.case_type.code().into());
    put("online_depth".into(), g.online_depth.code().into());
    put("visits".into(), g.visits.to_string());
    put("min_level".into(), g.min_level.number().to_string());
    put("scope".into(), g.scope.code().into());
    put("result_name".into(), g.result.name.clone());
    put("result_kind".into(), g.result.kind.clone());
    for (i, p) in g.places.iter().enumerate() {
        let k = |f| row_name(PLACES.key, i, f);
        put(k("name"), p.name.clone());
        put(k("address"), p.address.clone());
        put(k("hours"), p.hours.clone());
    }
    put("consult_phone".into(), g.consult_phone.clone());
    put("complaint_phone".into(), g.complaint_phone.clone());
    out
}

/// The form fields a service-side field error is about: `materials[2].name` of the guide is
/// `materials[k][name]` of the form (k the form row of the guide's third material), `limits`
/// is both limit fields, `phones` both phones. Unknown names map to themselves.
pub fn form_fields(field: &str, kept: &HashMap<&'static str, Vec<usize>>) -> Vec<String> {
    match field {
        "limits" => vec!["statutory_limit_days".into(), "promised_limit_days".into()],
        "phones" => vec!["consult_phone".into(), "complaint_phone".into()],
        _ => {
            // `section[i].field` as the service writes row fields.
            let row = field.split_once('[').and_then(|(section, rest)| {
                let (index, f) = rest.split_once("].")?;
                let section = section_of(section)?;
                let index: usize = index.parse().ok()?;
                let form_index = kept
                    .get(section.key)
                    .and_then(|k| k.get(index))
                    .copied()
                    .unwrap_or(index);
                Some(row_name(section.key, form_index, f))
            });
            vec![row.unwrap_or_else(|| field.to_string())]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guide that uses every field, with two rows in every list.
    fn full_guide() -> Guide {
        Guide {
            name: "食品经营许可".into(),
            aliases: vec!["餐饮许可".into(), "食品许可证".into()],
            item_type: ItemType::Licensing,
            service_objects: vec![ServiceObject::Enterprise, ServiceObject::NaturalPerson],
            themes: vec!["food_drug".into(), "open_business".into()],
            legal_basis: vec![
                LegalBasis {
                    law: "《中华人民共和国食品安全法》".into(),
                    article: "第三十五条".into(),
                    text: "国家对食品生产经营实行许可制度。\n从事食品销售的，应当依法取得许可。"
                        .into(),
                },
                LegalBasis {
                    law: "《食品经营许可和备案管理办法》".into(),
                    article: "第二条".into(),
                    text: "本办法适用于食品经营许可。".into(),
                },
            ],
            conditions: vec!["具有经营场所".into(), "具有食品安全管理人员".into()],
            materials: vec![
                Material {
                    name: "食品经营许可申请书".into(),
                    original: 1,
                    copies: 0,
                    form: MaterialForm::Both,
                    required: true,
                    condition: None,
                    source: "申请人自备".into(),
                    note: Some("须法定代表人签字".into()),
                    blank_form: true,
                    sample: true,
                },
                Material {
                    name: "授权委托书".into(),
                    original: 1,
                    copies: 2,
                    form: MaterialForm::Paper,
                    required: false,
                    condition: Some("委托他人办理的".into()),
                    source: "申请人自备".into(),
                    note: None,
                    blank_form: false,
                    sample: false,
                },
            ],
            process: vec![
                ProcessStep {
                    name: "受理".into(),
                    description: "窗口受理申请。".into(),
                },
                ProcessStep {
                    name: "决定".into(),
                    description: "作出许可决定。".into(),
                },
            ],
            statutory_limit_days: 20,
            promised_limit_days: 10,
            fees: Some(vec![
                Fee {
                    name: "工本费".into(),
                    amount: "10元/证".into(),
                    basis: "湘价费〔2020〕1号".into(),
                },
                Fee {
                    name: "检测费".into(),
                    amount: "100元".into(),
                    basis: "湘价费〔2020〕2号".into(),
                },
            ]),
            handling_forms: vec![
                HandlingForm::Window,
                HandlingForm::Online,
                HandlingForm::Mobile,
            ],
            case_type: CaseType::Promised,
            online_depth: OnlineDepth::FullyOnline,
            visits: 1,
            min_level: RealNameLevel::L2,
            scope: CrossRegionScope::Province,
            result: ItemResult {
                name: "食品经营许可证".into(),
                kind: "证照".into(),
            },
            places: vec![
                Place {
                    name: "长沙市政务服务中心".into(),
                    address: "长沙市岳麓区岳麓大道218号".into(),
                    hours: "周一至周五 9:00-17:00".into(),
                },
                Place {
                    name: "岳麓区政务服务中心".into(),
                    address: "长沙市岳麓区金星中路".into(),
                    hours: "工作日".into(),
                },
            ],
            consult_phone: "0731-88665000".into(),
            complaint_phone: "12345".into(),
        }
    }

    fn round_trip(g: &Guide) -> Guide {
        let parsed = GuideForm::from_pairs(to_pairs(g)).parse();
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed.guide
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    /// Replaces (or adds) one posted value.
    fn with(g: &Guide, name: &str, value: &str) -> GuideForm {
        let mut pairs = to_pairs(g);
        match pairs.iter_mut().find(|(k, _)| k == name) {
            Some(p) => p.1 = value.to_string(),
            None => pairs.push((name.to_string(), value.to_string())),
        }
        GuideForm::from_pairs(pairs)
    }

    #[test]
    fn a_guide_round_trips_through_its_form() {
        let g = full_guide();
        assert_eq!(round_trip(&g), g);

        // Unstated fees, free of charge, and empty lists survive too.
        let mut g = full_guide();
        g.fees = None;
        g.aliases.clear();
        g.themes.clear();
        g.places.clear();
        assert_eq!(round_trip(&g), g);
        g.fees = Some(Vec::new());
        assert_eq!(round_trip(&g), g);
        assert_eq!(GuideForm::from_guide(&g).parse().guide, g);
    }

    #[test]
    fn rows_follow_their_index_and_empty_ones_are_dropped() {
        let g = full_guide();
        let mut pairs = to_pairs(&g);
        // Spare rows the editor adds: empty first field, so dropped, whatever else they hold.
        pairs.push(("materials[7][name]".into(), "  ".into()));
        pairs.push(("materials[7][original]".into(), "x".into()));
        pairs.push(("materials[8][form]".into(), "".into()));
        pairs.push(("places[5][address]".into(), "".into()));
        // Rows are ordered by index, not by posting order.
        pairs.push(("process[10][name]".into(), "送达".into()));
        pairs.push(("process[10][description]".into(), "送达证书。".into()));
        pairs.reverse();
        let parsed = GuideForm::from_pairs(pairs).parse();
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let mut want = g.clone();
        want.process.push(ProcessStep {
            name: "送达".into(),
            description: "送达证书。".into(),
        });
        assert_eq!(parsed.guide.materials, want.materials);
        assert_eq!(parsed.guide.process, want.process);
        assert_eq!(parsed.guide.places, want.places);
        assert_eq!(parsed.kept["materials"], [0, 1]);
    }

    #[test]
    fn bad_numbers_and_codes_are_named() {
        let g = full_guide();
        for (name, value) in [
            ("statutory_limit_days", "二十"),
            ("promised_limit_days", ""),
            ("promised_limit_days", "-1"),
            ("promised_limit_days", "70000"),
            ("visits", "1.5"),
            ("visits", "300"),
            ("materials[1][copies]", "two"),
            ("materials[0][original]", "256"),
            ("materials[0][form]", "7"),
            ("materials[1][form]", ""),
            ("item_type", "99"),
            ("item_type", ""),
            ("case_type", "x"),
            ("online_depth", "5"),
            ("scope", "9"),
            ("result_kind", "证明"),
            ("result_kind", ""),
            ("charged", "maybe"),
        ] {
            let parsed = with(&g, name, value).parse();
            assert_eq!(fields(&parsed.errors), [name], "{name}={value}");
            assert!(!parsed.errors[0].message_zh.is_empty());
            assert!(!parsed.errors[0].message_en.is_empty());
        }
        let mut pairs = to_pairs(&g);
        pairs.push(("service_objects".into(), "8".into()));
        pairs.push(("handling_forms".into(), "online".into()));
        let parsed = GuideForm::from_pairs(pairs).parse();
        assert_eq!(
            fields(&parsed.errors),
            ["service_objects", "handling_forms"]
        );
        // Every bad field at once, not only the first.
        let mut pairs = to_pairs(&g);
        for (k, v) in pairs.iter_mut() {
            if k == "visits" || k == "statutory_limit_days" {
                *v = "abc".into();
            }
        }
        let parsed = GuideForm::from_pairs(pairs).parse();
        assert_eq!(fields(&parsed.errors), ["statutory_limit_days", "visits"]);
    }

    #[test]
    fn fee_choice_and_rows_must_agree() {
        let mut g = full_guide();
        g.fees = Some(Vec::new());
        let mut pairs = to_pairs(&g);
        pairs.push(("fees[0][name]".into(), "工本费".into()));
        assert_eq!(
            fields(&GuideForm::from_pairs(pairs).parse().errors),
            ["charged"]
        );
        let form = with(&full_guide(), "charged", CHARGED_YES);
        assert!(form.parse().errors.is_empty());
        let mut g = full_guide();
        g.fees = Some(Vec::new());
        assert_eq!(
            fields(&with(&g, "charged", CHARGED_YES).parse().errors),
            ["charged"]
        );
    }

    #[test]
    fn row_counts_may_be_left_empty() {
        let g = full_guide();
        let parsed = with(&g, "materials[1][copies]", " ").parse();
        assert!(parsed.errors.is_empty());
        assert_eq!(parsed.guide.materials[1].copies, 0);
    }

    #[test]
    fn spare_rows_are_added_and_trailing_empty_ones_trimmed() {
        let mut f = GuideForm::from_guide(&full_guide());
        f.add_empty_rows(3);
        assert_eq!(f.rows(MATERIALS).len(), 5);
        let f = f.with_spare_rows(2);
        assert_eq!(f.rows(MATERIALS).len(), 4);
        assert_eq!(f.rows(PLACES).len(), 4);
        assert_eq!(f.parse().guide, full_guide());
    }

    #[test]
    fn service_errors_point_at_form_rows() {
        let mut kept = HashMap::new();
        kept.insert("materials", vec![0, 3]);
        assert_eq!(
            form_fields("materials[1].name", &kept),
            ["materials[3][name]"]
        );
        assert_eq!(form_fields("name", &kept), ["name"]);
        assert_eq!(
            form_fields("limits", &kept),
            ["statutory_limit_days", "promised_limit_days"]
        );
        assert_eq!(form_fields("text", &kept), ["text"]);
    }

    #[test]
    fn row_names_are_split_strictly() {
        assert!(split_row_name("materials[3][name]").is_some());
        assert!(split_row_name("materials[x][name]").is_none());
        assert!(split_row_name("materials[3][nope]").is_none());
        assert!(split_row_name("nope[3][name]").is_none());
        assert!(split_row_name("materials[3]").is_none());
        let f = GuideForm::from_pairs([("materials[3]", "x"), ("csrf", "t")]);
        assert_eq!(f.get("materials[3]"), "x");
        assert!(f.rows(MATERIALS).is_empty());
    }
}
