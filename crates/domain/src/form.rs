//! 申请表单: the online application form of a service item, as types.
//!
//! Each item defines the form an applicant fills in online as a [`FormSpec`], stored as JSON on
//! the item. A spec is *parsed* ([`FormSpec::parse_spec`], [`FormSpec::new`], serde
//! `Deserialize`): once a `FormSpec` exists its keys are unique, its conditions point to earlier
//! fields, its choices have options and its bounds are in order.
//!
//! What an applicant submits is parsed against the spec into [`FormData`]: normalised, typed
//! values (an ID number with an uppercase `X`, a region code without statistical padding, a
//! phone number without spaces, numbers as `f64`, choices checked against the options, tables
//! as rows). Two inputs share one set of rules:
//!
//! - [`FormSpec::parse_values`]: a JSON object, as the API receives it;
//! - [`FormSpec::parse_pairs`]: name/value pairs, as an HTML form posts them: `key` for a field
//!   (repeated for a multiple choice), `key[3].column` for a table cell.
//!
//! Parsing never stops at the first problem: it returns every [`FieldError`] at once, each
//! naming the field (and for a table the row and column) with a Chinese and an English message.
//! Names the form does not have are errors; a field whose [`Condition`] does not hold is hidden,
//! and its value, whatever it is, is dropped. [`FormSpec::parse_draft`] and
//! [`FormSpec::parse_draft_pairs`] accept an incomplete form (a saved draft): required fields
//! and minimum row counts are not enforced, but every value present must be well formed.
//!
//! The domain has no clock: the date rules ("not before today") and the birth date of an ID
//! number are checked against the `today` the caller passes.
//!
//! [`FieldSpec::html_attrs`] gives the plain HTML5 attributes (`type`, `maxlength`, `min`, `max`,
//! `step`, `pattern`…) that let a browser check a field before it is sent; the server checks
//! again, always.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::codes::{CodeError, CreditCode, IdCardNumber, RegionCode};
use crate::contact::MobileNumber;

/// Longest field key (ASCII characters).
pub const MAX_KEY_LEN: usize = 64;
/// Most characters a text or address field may hold; also the limit when a spec sets none.
pub const MAX_TEXT_CHARS: u32 = 2000;
/// Most decimal places a number field may allow.
pub const MAX_DECIMALS: u8 = 6;
/// Most significant digits of a number (so that `f64` holds it exactly as written).
pub const MAX_SIGNIFICANT_DIGITS: usize = 15;
/// Most rows a table may allow; more submitted rows are refused before they are read.
pub const MAX_TABLE_ROWS: u32 = 500;
/// Earliest year of a date field.
pub const MIN_DATE_YEAR: i32 = 1800;
/// Latest year of a date field.
pub const MAX_DATE_YEAR: i32 = 2200;

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

/// The application form of an item: its fields, in the order they are shown.
///
/// Build one with [`FormSpec::parse_spec`] (JSON), [`FormSpec::new`] or serde; each checks the
/// whole definition and refuses a faulty one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormSpec {
    fields: Vec<FieldSpec>,
}

/// One field of a form (or one column of a table field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Stable key: ASCII snake_case (`[a-z][a-z0-9_]*`, at most [`MAX_KEY_LEN`]), unique in the
    /// form (columns: unique in their table). It is the JSON key and the HTML `name`.
    pub key: String,
    /// The label shown to the applicant, in Chinese (申请人姓名).
    pub label: String,
    /// What the field holds.
    pub kind: FieldKind,
    /// Whether the field must be filled in (when it is shown). For a table: at least one row.
    #[serde(default)]
    pub required: bool,
    /// A hint shown under the field (填写说明).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Show the field only when another field has one of some values. Not allowed on columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// What a field holds. In JSON, an object tagged by `type`: `{"type": "text", "max_chars": 20}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldKind {
    /// Free text (trimmed; line breaks kept, other control characters refused).
    Text {
        /// Fewest characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_chars: Option<u32>,
        /// Most characters ([`MAX_TEXT_CHARS`] when not set).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_chars: Option<u32>,
    },
    /// A decimal number, written plainly (`-12.5`; no exponent, no thousands separators).
    Number {
        /// Smallest value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Largest value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// Decimal places allowed (0: whole numbers), at most [`MAX_DECIMALS`].
        #[serde(default)]
        decimals: u8,
    },
    /// A calendar date, `YYYY-MM-DD`.
    Date {
        /// The date may not be earlier than today (拟开业日期).
        #[serde(default)]
        not_before_today: bool,
        /// The date may not be later than today (出生日期, 发证日期).
        #[serde(default)]
        not_after_today: bool,
    },
    /// One (or, with `multiple`, several) of fixed options.
    Choice {
        /// The options, in the order shown.
        options: Vec<ChoiceOption>,
        /// Several options may be chosen.
        #[serde(default)]
        multiple: bool,
    },
    /// 行政区划代码 (GB/T 2260, 6, 9 or 12 digits): see [`RegionCode`].
    Region,
    /// 居民身份证号码 (GB 11643): see [`IdCardNumber`]; the birth date may not be after today.
    IdNumber,
    /// 统一社会信用代码 (GB 32100): see [`CreditCode`].
    CreditCode,
    /// A postal address, as free text.
    Address {
        /// Most characters ([`MAX_TEXT_CHARS`] when not set).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_chars: Option<u32>,
    },
    /// A mainland mobile number (`1[3-9]` and 9 digits) or a landline with its area code
    /// (`0731-84567890`, optionally with an extension `-123`).
    Phone,
    /// Rows of scalar columns (家庭成员, 股东信息). Columns cannot be tables or have conditions.
    Table {
        /// The columns.
        columns: Vec<FieldSpec>,
        /// Fewest rows (in a complete form).
        #[serde(default)]
        min_rows: u32,
        /// Most rows, 1 to [`MAX_TABLE_ROWS`] (50 when not set).
        #[serde(default = "default_max_rows")]
        max_rows: u32,
    },
}

fn default_max_rows() -> u32 {
    50
}

/// One option of a choice field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// The value submitted and stored (non-empty, no surrounding whitespace, unique).
    pub value: String,
    /// The text shown.
    pub label: String,
}

/// When a field is shown: another, earlier field (not a table) has one of `equals`.
///
/// Values are compared as normalised text: a choice's option value (any selected one for a
/// multiple choice), a number as written without trailing zeros (`12`, `0.5`), a date as
/// `YYYY-MM-DD`, a code in its canonical form. A hidden or empty field matches nothing, so a
/// field that depends on a hidden field is hidden too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The key of the field the condition reads.
    pub field: String,
    /// The values for which the field is shown.
    pub equals: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormSpecDef {
    fields: Vec<FieldSpec>,
}

impl<'de> Deserialize<'de> for FormSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let def = FormSpecDef::deserialize(deserializer)?;
        FormSpec::new(def.fields).map_err(|problems| {
            let messages: Vec<String> = problems.iter().map(SpecProblem::message_en).collect();
            serde::de::Error::custom(messages.join("; "))
        })
    }
}

/// Something wrong in a form definition.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecProblem {
    /// The field concerned: its key, or `table.column` for a column; `None` for the whole form.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: SpecProblemKind,
}

/// What is wrong in a form definition.
#[derive(Debug, Clone, PartialEq)]
pub enum SpecProblemKind {
    /// The JSON does not parse, or does not have the shape of a form (the parser's message).
    Json(String),
    /// The key is not ASCII snake_case or is too long.
    BadKey,
    /// Another field (or column of the same table) has the same key.
    DuplicateKey,
    /// The label is empty.
    EmptyLabel,
    /// A lower bound is above the upper bound.
    MinAboveMax {
        /// The lower bound.
        min: String,
        /// The upper bound.
        max: String,
    },
    /// An upper limit (characters, rows) is 0 or above what the platform allows.
    LimitOutOfRange {
        /// The highest limit allowed.
        max: u32,
    },
    /// A number bound is not a finite number.
    BoundNotFinite,
    /// More decimal places than [`MAX_DECIMALS`].
    TooManyDecimals,
    /// A choice without options.
    NoOptions,
    /// An option with an empty value or label, or a value with surrounding whitespace.
    BadOption {
        /// The option's value.
        value: String,
    },
    /// Two options with the same value.
    DuplicateOption {
        /// The repeated value.
        value: String,
    },
    /// A table without columns.
    NoColumns,
    /// A table column that is itself a table.
    NestedTable,
    /// A table column with a condition.
    ConditionInTable,
    /// A condition on a field that does not exist or does not come earlier.
    ConditionUnknownField {
        /// The key the condition names.
        target: String,
    },
    /// A condition on a table field.
    ConditionOnTable {
        /// The table's key.
        target: String,
    },
    /// A condition with no values.
    ConditionEmpty,
    /// A condition value that is not an option of the choice it reads.
    ConditionNotAnOption {
        /// The choice field's key.
        target: String,
        /// The value that is not an option.
        value: String,
    },
}

impl SpecProblem {
    fn at(field: impl Into<String>, problem: SpecProblemKind) -> Self {
        SpecProblem {
            field: Some(field.into()),
            problem,
        }
    }

    /// The problem in Chinese, naming the field.
    pub fn message_zh(&self) -> String {
        use SpecProblemKind as K;
        let text = match &self.problem {
            K::Json(e) => format!("表单定义不是有效的JSON或结构不正确：{e}"),
            K::BadKey => {
                format!("键名须以小写字母开头，只含小写字母、数字和下划线，最长{MAX_KEY_LEN}个字符")
            }
            K::DuplicateKey => "键名与其他字段重复".to_owned(),
            K::EmptyLabel => "字段名称不能为空".to_owned(),
            K::MinAboveMax { min, max } => format!("下限{min}大于上限{max}"),
            K::LimitOutOfRange { max } => format!("上限应在1到{max}之间"),
            K::BoundNotFinite => "数值范围须为有限的数".to_owned(),
            K::TooManyDecimals => format!("小数位数最多为{MAX_DECIMALS}"),
            K::NoOptions => "选择项至少要有一个选项".to_owned(),
            K::BadOption { value } => {
                format!("选项“{value}”的值和名称不能为空，值的首尾不能有空格")
            }
            K::DuplicateOption { value } => format!("选项值“{value}”重复"),
            K::NoColumns => "表格至少要有一列".to_owned(),
            K::NestedTable => "表格的列不能是表格".to_owned(),
            K::ConditionInTable => "表格的列不能设置显示条件".to_owned(),
            K::ConditionUnknownField { target } => {
                format!("显示条件引用的“{target}”不是排在本字段之前的字段")
            }
            K::ConditionOnTable { target } => format!("显示条件不能依据表格“{target}”"),
            K::ConditionEmpty => "显示条件至少要列出一个取值".to_owned(),
            K::ConditionNotAnOption { target, value } => {
                format!("显示条件中的“{value}”不是“{target}”的选项")
            }
        };
        match &self.field {
            Some(field) => format!("字段“{field}”：{text}"),
            None => text,
        }
    }

    /// The problem in English, naming the field.
    pub fn message_en(&self) -> String {
        use SpecProblemKind as K;
        let text = match &self.problem {
            K::Json(e) => {
                format!("the form definition is not valid JSON or has the wrong shape: {e}")
            }
            K::BadKey => format!(
                "the key must start with a lowercase letter and contain only lowercase letters, digits and underscores, at most {MAX_KEY_LEN} characters"
            ),
            K::DuplicateKey => "the key is used by another field".to_owned(),
            K::EmptyLabel => "the label is empty".to_owned(),
            K::MinAboveMax { min, max } => {
                format!("the lower bound {min} is above the upper bound {max}")
            }
            K::LimitOutOfRange { max } => format!("the upper limit must be between 1 and {max}"),
            K::BoundNotFinite => "number bounds must be finite".to_owned(),
            K::TooManyDecimals => format!("at most {MAX_DECIMALS} decimal places are allowed"),
            K::NoOptions => "a choice needs at least one option".to_owned(),
            K::BadOption { value } => format!(
                "the option '{value}' needs a value and a label, and the value no surrounding spaces"
            ),
            K::DuplicateOption { value } => format!("the option value '{value}' appears twice"),
            K::NoColumns => "a table needs at least one column".to_owned(),
            K::NestedTable => "a table column cannot be a table".to_owned(),
            K::ConditionInTable => "a table column cannot have a condition".to_owned(),
            K::ConditionUnknownField { target } => {
                format!("the condition refers to '{target}', which is not an earlier field")
            }
            K::ConditionOnTable { target } => {
                format!("a condition cannot depend on the table '{target}'")
            }
            K::ConditionEmpty => "the condition lists no values".to_owned(),
            K::ConditionNotAnOption { target, value } => {
                format!("'{value}' in the condition is not an option of '{target}'")
            }
        };
        match &self.field {
            Some(field) => format!("field '{field}': {text}"),
            None => text,
        }
    }
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for SpecProblem {}

impl Serialize for SpecProblem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "field": self.field,
            "message_zh": self.message_zh(),
            "message_en": self.message_en(),
        })
        .serialize(serializer)
    }
}

fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_KEY_LEN
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Checks what a field (or column) says about itself: key, label, and the kind's own rules.
fn check_field(field: &FieldSpec, path: &str, problems: &mut Vec<SpecProblem>) {
    if !valid_key(&field.key) {
        problems.push(SpecProblem::at(path, SpecProblemKind::BadKey));
    }
    if field.label.trim().is_empty() {
        problems.push(SpecProblem::at(path, SpecProblemKind::EmptyLabel));
    }
    let mut push = |problem| problems.push(SpecProblem::at(path, problem));
    match &field.kind {
        FieldKind::Text {
            min_chars,
            max_chars,
        } => {
            check_char_limit(*max_chars, &mut push);
            if let Some(min) = min_chars {
                let max = max_chars.unwrap_or(MAX_TEXT_CHARS);
                if *min > max {
                    push(SpecProblemKind::MinAboveMax {
                        min: min.to_string(),
                        max: max.to_string(),
                    });
                }
            }
        }
        FieldKind::Address { max_chars } => check_char_limit(*max_chars, &mut push),
        FieldKind::Number { min, max, decimals } => {
            if min.is_some_and(|v| !v.is_finite()) || max.is_some_and(|v| !v.is_finite()) {
                push(SpecProblemKind::BoundNotFinite);
            } else if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                push(SpecProblemKind::MinAboveMax {
                    min: min.to_string(),
                    max: max.to_string(),
                });
            }
            if *decimals > MAX_DECIMALS {
                push(SpecProblemKind::TooManyDecimals);
            }
        }
        FieldKind::Choice { options, .. } => {
            if options.is_empty() {
                push(SpecProblemKind::NoOptions);
            }
            let mut values = HashSet::new();
            for option in options {
                if option.value.is_empty()
                    || option.value.trim() != option.value
                    || option.label.trim().is_empty()
                {
                    push(SpecProblemKind::BadOption {
                        value: option.value.clone(),
                    });
                }
                if !values.insert(option.value.as_str()) {
                    push(SpecProblemKind::DuplicateOption {
                        value: option.value.clone(),
                    });
                }
            }
        }
        FieldKind::Table {
            columns,
            min_rows,
            max_rows,
        } => {
            if columns.is_empty() {
                push(SpecProblemKind::NoColumns);
            }
            if *max_rows == 0 || *max_rows > MAX_TABLE_ROWS {
                push(SpecProblemKind::LimitOutOfRange {
                    max: MAX_TABLE_ROWS,
                });
            } else if min_rows > max_rows {
                push(SpecProblemKind::MinAboveMax {
                    min: min_rows.to_string(),
                    max: max_rows.to_string(),
                });
            }
        }
        FieldKind::Date { .. }
        | FieldKind::Region
        | FieldKind::IdNumber
        | FieldKind::CreditCode
        | FieldKind::Phone => {}
    }
}

fn check_char_limit(max_chars: Option<u32>, push: &mut impl FnMut(SpecProblemKind)) {
    if let Some(max) = max_chars
        && (max == 0 || max > MAX_TEXT_CHARS)
    {
        push(SpecProblemKind::LimitOutOfRange {
            max: MAX_TEXT_CHARS,
        });
    }
}

fn check_condition(
    field: &FieldSpec,
    condition: &Condition,
    earlier: &HashMap<&str, &FieldSpec>,
    problems: &mut Vec<SpecProblem>,
) {
    let target = condition.field.as_str();
    if condition.equals.is_empty() {
        problems.push(SpecProblem::at(&field.key, SpecProblemKind::ConditionEmpty));
    }
    match earlier.get(target).map(|t| &t.kind) {
        None => problems.push(SpecProblem::at(
            &field.key,
            SpecProblemKind::ConditionUnknownField {
                target: target.to_owned(),
            },
        )),
        Some(FieldKind::Table { .. }) => problems.push(SpecProblem::at(
            &field.key,
            SpecProblemKind::ConditionOnTable {
                target: target.to_owned(),
            },
        )),
        Some(FieldKind::Choice { options, .. }) => {
            for value in &condition.equals {
                if !options.iter().any(|o| &o.value == value) {
                    problems.push(SpecProblem::at(
                        &field.key,
                        SpecProblemKind::ConditionNotAnOption {
                            target: target.to_owned(),
                            value: value.clone(),
                        },
                    ));
                }
            }
        }
        Some(_) => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// One row of a table field: column key to value (empty cells are absent).
pub type Row = BTreeMap<String, FieldValue>;

/// A parsed, normalised field value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Text or address: trimmed, line breaks as `\n`.
    Text(String),
    /// A finite number (never `-0`), with no more significant digits or decimals than allowed.
    Number(f64),
    /// A date.
    Date(NaiveDate),
    /// The value of the chosen option.
    Choice(String),
    /// The values of the chosen options, in the spec's option order, without repeats.
    Choices(Vec<String>),
    /// A region code.
    Region(RegionCode),
    /// An ID number (18 characters, uppercase `X`).
    IdNumber(IdCardNumber),
    /// A credit code.
    CreditCode(CreditCode),
    /// A phone number: 11 mobile digits, or `area-local` / `area-local-extension`.
    Phone(String),
    /// The non-empty rows of a table, in submitted order.
    Table(Vec<Row>),
}

impl FieldValue {
    /// The value as JSON, as stored: strings, numbers (whole numbers as integers), arrays of
    /// strings for a multiple choice, arrays of objects for a table. Parsing it again with the
    /// same spec gives the same value.
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Phone(s) => {
                Value::String(s.clone())
            }
            FieldValue::Number(v) => number_json(*v),
            FieldValue::Date(d) => Value::String(date_text(*d)),
            FieldValue::Choices(values) => {
                Value::Array(values.iter().cloned().map(Value::String).collect())
            }
            FieldValue::Region(c) => Value::String(c.as_str().to_owned()),
            FieldValue::IdNumber(c) => Value::String(c.as_str().to_owned()),
            FieldValue::CreditCode(c) => Value::String(c.as_str().to_owned()),
            FieldValue::Table(rows) => Value::Array(
                rows.iter()
                    .map(|row| {
                        Value::Object(row.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
                    })
                    .collect(),
            ),
        }
    }

    /// The value as the text(s) an HTML form field holds (several for a multiple choice, none
    /// for a table, whose cells are separate fields: see [`FormData::to_pairs`]).
    pub fn texts(&self) -> Vec<String> {
        match self {
            FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Phone(s) => vec![s.clone()],
            FieldValue::Number(v) => vec![number_text(*v)],
            FieldValue::Date(d) => vec![date_text(*d)],
            FieldValue::Choices(values) => values.clone(),
            FieldValue::Region(c) => vec![c.as_str().to_owned()],
            FieldValue::IdNumber(c) => vec![c.as_str().to_owned()],
            FieldValue::CreditCode(c) => vec![c.as_str().to_owned()],
            FieldValue::Table(_) => Vec::new(),
        }
    }

    /// The text of a text, address, choice or phone value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Phone(s) => Some(s),
            _ => None,
        }
    }

    /// The number of a number value.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Number(v) => Some(*v),
            _ => None,
        }
    }

    /// The date of a date value.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            FieldValue::Date(d) => Some(*d),
            _ => None,
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// A whole number below 2^53 as a JSON integer, anything else as a JSON float.
fn number_json(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        // Exact: a whole number of at most 16 digits.
        #[allow(clippy::cast_possible_truncation)]
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// The shortest decimal text of a number, never with an exponent (`12`, `0.000001`).
fn number_text(v: f64) -> String {
    format!("{v}")
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The parsed values of a form: only fields that are shown and filled in.
///
/// Serialises to a JSON object (see [`FieldValue::to_json`]) for storage; reading it back is
/// parsing it again with the same spec.
///
/// The values are personal information: `Debug` lists the keys only, so a form never reaches a
/// log by accident.
#[derive(Clone, PartialEq, Default)]
pub struct FormData {
    values: BTreeMap<String, FieldValue>,
}

impl FormData {
    /// The value of a field, if it is shown and filled in.
    pub fn get(&self, key: &str) -> Option<&FieldValue> {
        self.values.get(key)
    }

    /// Every value, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many fields have a value.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no field has a value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values as a JSON object map, the input [`FormSpec::parse_values`] takes.
    pub fn to_json_map(&self) -> Map<String, Value> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect()
    }

    /// The values as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.to_json_map())
    }

    /// The values as HTML form pairs, the input [`FormSpec::parse_pairs`] takes: one pair per
    /// value (several for a multiple choice), `key[i].column` for table cells with rows
    /// numbered from 0. Used to fill a form in again (a draft, a returned application).
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, value) in &self.values {
            match value {
                FieldValue::Table(rows) => {
                    for (i, row) in rows.iter().enumerate() {
                        for (column, cell) in row {
                            for text in cell.texts() {
                                out.push((format!("{key}[{i}].{column}"), text));
                            }
                        }
                    }
                }
                other => {
                    for text in other.texts() {
                        out.push((key.clone(), text));
                    }
                }
            }
        }
        out
    }
}

impl fmt::Debug for FormData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormData")
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Serialize for FormData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors in submitted values
// ---------------------------------------------------------------------------------------------

/// A problem with one submitted value.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field's key; for a name the form does not have, the name as submitted.
    pub field: String,
    /// For a table: the row, 0-based as submitted (position in the JSON array, `n` of an HTML
    /// `key[n].column`), so a page can mark the row the applicant sees.
    pub row: Option<usize>,
    /// For a table cell: the column's key.
    pub column: Option<String>,
    /// The field's label (for an unknown name, the name).
    pub label: String,
    /// For a table cell: the column's label.
    pub column_label: Option<String>,
    /// What is wrong.
    pub problem: FieldProblem,
}

/// What is wrong with a submitted value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldProblem {
    /// A required field (or table cell) is empty.
    Required,
    /// The form has no such field (or the table no such column).
    Unknown,
    /// The value has the wrong shape (an object for a text, text for a table…).
    WrongType,
    /// Several values for a field that takes one.
    TooManyValues,
    /// Fewer characters than the minimum.
    TooShort {
        /// The minimum.
        min: u32,
        /// Characters found.
        found: usize,
    },
    /// More characters than the maximum.
    TooLong {
        /// The maximum.
        max: u32,
        /// Characters found.
        found: usize,
    },
    /// The text contains control characters (other than line breaks and tabs).
    ControlChars,
    /// Not a plain decimal number.
    NotANumber,
    /// More decimal places than allowed (0: not a whole number).
    TooManyDecimals {
        /// Decimal places allowed.
        decimals: u8,
    },
    /// More than [`MAX_SIGNIFICANT_DIGITS`] significant digits.
    TooManyDigits,
    /// Below the minimum.
    BelowMin {
        /// The minimum.
        min: f64,
    },
    /// Above the maximum.
    AboveMax {
        /// The maximum.
        max: f64,
    },
    /// Not a real date written `YYYY-MM-DD` (years [`MIN_DATE_YEAR`]..=[`MAX_DATE_YEAR`]).
    NotADate,
    /// A date earlier than today where that is not allowed.
    BeforeToday {
        /// Today, as the caller gave it.
        today: NaiveDate,
    },
    /// A date later than today where that is not allowed.
    AfterToday {
        /// Today, as the caller gave it.
        today: NaiveDate,
    },
    /// Not one of the options (shortened to 50 characters).
    NotAnOption {
        /// The value submitted.
        value: String,
    },
    /// A code that does not parse.
    Code(CodeError),
    /// An ID number whose birth date is after today.
    BornAfterToday,
    /// Not a mobile number or a landline with area code.
    NotAPhone,
    /// Fewer table rows than the minimum.
    TooFewRows {
        /// The minimum.
        min: u32,
    },
    /// More table rows than the maximum.
    TooManyRows {
        /// The maximum.
        max: u32,
    },
}

impl FieldError {
    fn new(field: &FieldSpec, problem: FieldProblem) -> Self {
        FieldError {
            field: field.key.clone(),
            row: None,
            column: None,
            label: field.label.clone(),
            column_label: None,
            problem,
        }
    }

    fn cell(table: &FieldSpec, row: usize, column: &FieldSpec, problem: FieldProblem) -> Self {
        FieldError {
            row: Some(row),
            column: Some(column.key.clone()),
            column_label: Some(column.label.clone()),
            ..FieldError::new(table, problem)
        }
    }

    fn unknown(name: &str) -> Self {
        FieldError {
            field: name.to_owned(),
            row: None,
            column: None,
            label: clip(name),
            column_label: None,
            problem: FieldProblem::Unknown,
        }
    }

    /// The HTML `name` of the input concerned: `key`, `key[row].column`, or `key[row]` for a
    /// whole row.
    pub fn name(&self) -> String {
        match (self.row, &self.column) {
            (Some(row), Some(column)) => format!("{}[{row}].{column}", self.field),
            (Some(row), None) => format!("{}[{row}]", self.field),
            _ => self.field.clone(),
        }
    }

    fn subject_zh(&self) -> String {
        match (self.row, &self.column_label) {
            (Some(row), Some(column)) => {
                format!("{}第{}行的{}", self.label, row.saturating_add(1), column)
            }
            (Some(row), None) => format!("{}第{}行", self.label, row.saturating_add(1)),
            _ => self.label.clone(),
        }
    }

    fn subject_en(&self) -> String {
        match (self.row, &self.column_label) {
            (Some(row), Some(column)) => {
                format!(
                    "{column} in row {} of {}",
                    row.saturating_add(1),
                    self.label
                )
            }
            (Some(row), None) => format!("row {} of {}", row.saturating_add(1), self.label),
            _ => self.label.clone(),
        }
    }

    /// The message in Chinese, naming the field: `请填写申请人姓名`.
    pub fn message_zh(&self) -> String {
        use FieldProblem as P;
        let s = self.subject_zh();
        match &self.problem {
            P::Required => format!("请填写{s}"),
            P::Unknown => match (&self.row, &self.column) {
                (Some(row), Some(column)) => format!(
                    "{}第{}行没有“{}”这一栏",
                    self.label,
                    row.saturating_add(1),
                    clip(column)
                ),
                _ => format!("表单中没有“{}”这一项", self.label),
            },
            P::WrongType => format!("{s}的格式不正确"),
            P::TooManyValues => format!("{s}只能填写一个值"),
            P::TooShort { min, found } => format!("{s}至少应有{min}个字，现有{found}个字"),
            P::TooLong { max, found } => format!("{s}最多{max}个字，现有{found}个字"),
            P::ControlChars => format!("{s}含有不可见的控制字符，请删除后重新填写"),
            P::NotANumber => format!("{s}应为数字"),
            P::TooManyDecimals { decimals: 0 } => format!("{s}应为整数"),
            P::TooManyDecimals { decimals } => format!("{s}最多保留{decimals}位小数"),
            P::TooManyDigits => {
                format!("{s}的位数过多（最多{MAX_SIGNIFICANT_DIGITS}位有效数字）")
            }
            P::BelowMin { min } => format!("{s}不能小于{}", number_text(*min)),
            P::AboveMax { max } => format!("{s}不能大于{}", number_text(*max)),
            P::NotADate => format!("{s}应为有效日期，格式为“年-月-日”（如2024-05-01）"),
            P::BeforeToday { today } => format!("{s}不能早于今天（{}）", date_text(*today)),
            P::AfterToday { today } => format!("{s}不能晚于今天（{}）", date_text(*today)),
            P::NotAnOption { value } => format!("“{value}”不是{s}的可选项"),
            P::Code(e) => format!("{s}有误：{}", e.message_zh()),
            P::BornAfterToday => format!("{s}中的出生日期晚于今天"),
            P::NotAPhone => {
                format!("{s}应为11位手机号码，或带区号的固定电话号码（如0731-84567890）")
            }
            P::TooFewRows { min } => format!("{s}至少应填写{min}行"),
            P::TooManyRows { max } => format!("{s}最多填写{max}行"),
        }
    }

    /// The message in English, naming the field (by its Chinese label):
    /// `申请人姓名 is required`.
    pub fn message_en(&self) -> String {
        use FieldProblem as P;
        let s = self.subject_en();
        match &self.problem {
            P::Required => format!("{s} is required"),
            P::Unknown => match (&self.row, &self.column) {
                (Some(row), Some(column)) => format!(
                    "row {} of {} has no column '{}'",
                    row.saturating_add(1),
                    self.label,
                    clip(column)
                ),
                _ => format!("the form has no field '{}'", self.label),
            },
            P::WrongType => format!("{s} has a value of the wrong type"),
            P::TooManyValues => format!("{s} takes a single value"),
            P::TooShort { min, found } => {
                format!("{s} needs at least {min} characters, found {found}")
            }
            P::TooLong { max, found } => {
                format!("{s} takes at most {max} characters, found {found}")
            }
            P::ControlChars => format!("{s} contains control characters"),
            P::NotANumber => format!("{s} must be a number"),
            P::TooManyDecimals { decimals: 0 } => format!("{s} must be a whole number"),
            P::TooManyDecimals { decimals } => {
                format!("{s} takes at most {decimals} decimal places")
            }
            P::TooManyDigits => {
                format!(
                    "{s} has too many digits (at most {MAX_SIGNIFICANT_DIGITS} significant digits)"
                )
            }
            P::BelowMin { min } => format!("{s} must be at least {}", number_text(*min)),
            P::AboveMax { max } => format!("{s} must be at most {}", number_text(*max)),
            P::NotADate => format!("{s} must be a real date written YYYY-MM-DD"),
            P::BeforeToday { today } => {
                format!("{s} cannot be before today ({})", date_text(*today))
            }
            P::AfterToday { today } => {
                format!("{s} cannot be after today ({})", date_text(*today))
            }
            P::NotAnOption { value } => format!("'{value}' is not an option of {s}"),
            P::Code(e) => format!("{s}: {}", e.message_en()),
            P::BornAfterToday => format!("the birth date in {s} is after today"),
            P::NotAPhone => format!(
                "{s} must be an 11-digit mobile number or a landline number with its area code (e.g. 0731-84567890)"
            ),
            P::TooFewRows { min } => format!("{s} needs at least {min} rows"),
            P::TooManyRows { max } => format!("{s} takes at most {max} rows"),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for FieldError {}

impl Serialize for FieldError {
    /// `{"field", "row", "column", "name", "message_zh", "message_en"}`, for problem documents.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "field": self.field,
            "row": self.row,
            "column": self.column,
            "name": self.name(),
            "message_zh": self.message_zh(),
            "message_en": self.message_en(),
        })
        .serialize(serializer)
    }
}

/// At most 50 characters of `s`, for messages that quote what was submitted.
fn clip(s: &str) -> String {
    const MAX: usize = 50;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", s.get(..at).unwrap_or("")),
        None => s.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing submitted values
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Complete,
    Draft,
}

/// What was submitted under one top-level name.
enum Entry<'a> {
    Json(&'a Value),
    Html(HtmlEntry<'a>),
}

/// HTML pairs under one key: bare values and table cells (row index → column → values).
#[derive(Default)]
struct HtmlEntry<'a> {
    values: Vec<&'a str>,
    rows: BTreeMap<usize, BTreeMap<&'a str, Vec<&'a str>>>,
}

/// A submitted scalar value, before parsing.
enum Raw<'a> {
    Null,
    Text(Cow<'a, str>),
    List(Vec<Raw<'a>>),
    Bad,
}

/// A submitted table row: its index and cells, `None` when the row is not an object.
struct RawRow<'a> {
    index: usize,
    cells: Option<Vec<(&'a str, Raw<'a>)>>,
}

enum Parsed {
    Missing,
    Value(FieldValue),
    /// The problem, and the submitted texts (for conditions that read the field).
    Invalid(FieldProblem, Vec<String>),
}

fn json_scalar(value: &Value) -> Raw<'_> {
    match value {
        Value::Null => Raw::Null,
        Value::String(s) => Raw::Text(Cow::Borrowed(s)),
        Value::Number(n) => Raw::Text(Cow::Owned(json_number_text(n))),
        Value::Bool(b) => Raw::Text(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Array(items) => Raw::List(
            items
                .iter()
                .map(|item| match item {
                    Value::Array(_) | Value::Object(_) => Raw::Bad,
                    other => json_scalar(other),
                })
                .collect(),
        ),
        Value::Object(_) => Raw::Bad,
    }
}

/// A JSON number as plain decimal text (`Display` of `f64` never uses an exponent).
fn json_number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        n.as_f64().map_or_else(String::new, number_text)
    }
}

fn html_raw<'a>(values: &[&'a str]) -> Raw<'a> {
    match values {
        [] => Raw::Null,
        [one] => Raw::Text(Cow::Borrowed(one)),
        many => Raw::List(many.iter().map(|v| Raw::Text(Cow::Borrowed(*v))).collect()),
    }
}

fn scalar_raw<'a>(entry: &Entry<'a>) -> Raw<'a> {
    match entry {
        Entry::Json(value) => json_scalar(value),
        Entry::Html(html) if !html.rows.is_empty() => Raw::Bad,
        Entry::Html(html) => html_raw(&html.values),
    }
}

/// The rows of a table entry, or `None` when it is not shaped as rows.
fn rows_raw<'a>(entry: &Entry<'a>) -> Option<Vec<RawRow<'a>>> {
    match entry {
        Entry::Json(Value::Null) => Some(Vec::new()),
        Entry::Json(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| RawRow {
                    index,
                    cells: match item {
                        Value::Object(map) => Some(
                            map.iter()
                                .map(|(k, v)| (k.as_str(), json_scalar(v)))
                                .collect(),
                        ),
                        _ => None,
                    },
                })
                .collect(),
        ),
        Entry::Json(_) => None,
        Entry::Html(html) => {
            if html.values.iter().any(|v| !v.trim().is_empty()) {
                return None;
            }
            Some(
                html.rows
                    .iter()
                    .map(|(index, cells)| RawRow {
                        index: *index,
                        cells: Some(
                            cells
                                .iter()
                                .map(|(column, values)| (*column, html_raw(values)))
                                .collect(),
                        ),
                    })
                    .collect(),
            )
        }
    }
}

/// Splits an HTML name into the key and, for a table cell `key[n].column`, the row and column.
/// `None` for a name of neither form.
fn split_name(name: &str) -> Option<(&str, Option<(usize, &str)>)> {
    let Some((key, rest)) = name.split_once('[') else {
        return Some((name, None));
    };
    let (index, after) = rest.split_once(']')?;
    let column = after.strip_prefix('.')?;
    if index.is_empty()
        || index.len() > 6
        || !index.bytes().all(|b| b.is_ascii_digit())
        || column.is_empty()
        || key.is_empty()
    {
        return None;
    }
    Some((key, Some((index.parse().ok()?, column))))
}

/// Full-width ASCII forms (as Chinese input methods type them) and the ideographic space, as
/// their ASCII equivalents: `１２３` is `123`, `（０７３１）` is `(0731)`.
fn half_width(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\u{3000}' => ' ',
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect(),
    )
}

/// The non-empty trimmed texts of a raw value; `None` when it has the wrong shape.
fn collect_texts(raw: Raw<'_>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut push = |s: &str| {
        let t = s.trim();
        if !t.is_empty() {
            out.push(t.to_owned());
        }
    };
    match raw {
        Raw::Null => {}
        Raw::Text(s) => push(&s),
        Raw::List(items) => {
            for item in items {
                match item {
                    Raw::Null => {}
                    Raw::Text(s) => push(&s),
                    Raw::List(_) | Raw::Bad => return None,
                }
            }
        }
        Raw::Bad => return None,
    }
    Some(out)
}

fn parse_scalar(kind: &FieldKind, raw: Raw<'_>, today: NaiveDate) -> Parsed {
    let Some(texts) = collect_texts(raw) else {
        return Parsed::Invalid(FieldProblem::WrongType, Vec::new());
    };
    if texts.is_empty() {
        return Parsed::Missing;
    }
    let result = match kind {
        FieldKind::Choice {
            options,
            multiple: true,
        } => parse_choices(options, &texts),
        _ => match texts.as_slice() {
            [one] => parse_one(kind, one, today),
            _ => Err(FieldProblem::TooManyValues),
        },
    };
    match result {
        Ok(value) => Parsed::Value(value),
        Err(problem) => Parsed::Invalid(problem, texts),
    }
}

fn parse_one(kind: &FieldKind, s: &str, today: NaiveDate) -> Result<FieldValue, FieldProblem> {
    match kind {
        FieldKind::Text {
            min_chars,
            max_chars,
        } => parse_text(s, *min_chars, *max_chars).map(FieldValue::Text),
        FieldKind::Address { max_chars } => parse_text(s, None, *max_chars).map(FieldValue::Text),
        FieldKind::Number { min, max, decimals } => {
            parse_number(s, *min, *max, *decimals).map(FieldValue::Number)
        }
        FieldKind::Date {
            not_before_today,
            not_after_today,
        } => {
            let date = parse_date(&half_width(s)).ok_or(FieldProblem::NotADate)?;
            if *not_before_today && date < today {
                Err(FieldProblem::BeforeToday { today })
            } else if *not_after_today && date > today {
                Err(FieldProblem::AfterToday { today })
            } else {
                Ok(FieldValue::Date(date))
            }
        }
        FieldKind::Choice { options, .. } => options
            .iter()
            .find(|o| o.value == s)
            .map(|o| FieldValue::Choice(o.value.clone()))
            .ok_or_else(|| FieldProblem::NotAnOption { value: clip(s) }),
        FieldKind::Region => RegionCode::parse(&half_width(s))
            .map(FieldValue::Region)
            .map_err(FieldProblem::Code),
        FieldKind::IdNumber => {
            let id = IdCardNumber::parse(&half_width(s)).map_err(FieldProblem::Code)?;
            if id.birth_date() > today {
                Err(FieldProblem::BornAfterToday)
            } else {
                Ok(FieldValue::IdNumber(id))
            }
        }
        FieldKind::CreditCode => CreditCode::parse(&half_width(s))
            .map(FieldValue::CreditCode)
            .map_err(FieldProblem::Code),
        FieldKind::Phone => parse_phone(s)
            .map(FieldValue::Phone)
            .ok_or(FieldProblem::NotAPhone),
        FieldKind::Table { .. } => Err(FieldProblem::WrongType),
    }
}

fn parse_choices(options: &[ChoiceOption], texts: &[String]) -> Result<FieldValue, FieldProblem> {
    let mut chosen = BTreeSet::new();
    for text in texts {
        let position = options
            .iter()
            .position(|o| &o.value == text)
            .ok_or_else(|| FieldProblem::NotAnOption { value: clip(text) })?;
        chosen.insert(position);
    }
    Ok(FieldValue::Choices(
        chosen
            .into_iter()
            .filter_map(|i| options.get(i).map(|o| o.value.clone()))
            .collect(),
    ))
}

fn parse_text(s: &str, min: Option<u32>, max: Option<u32>) -> Result<String, FieldProblem> {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim();
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldProblem::ControlChars);
    }
    let found = s.chars().count();
    let max = max.unwrap_or(MAX_TEXT_CHARS);
    if found > usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(FieldProblem::TooLong { max, found });
    }
    if let Some(min) = min
        && found < usize::try_from(min).unwrap_or(usize::MAX)
    {
        return Err(FieldProblem::TooShort { min, found });
    }
    Ok(s.to_owned())
}

fn parse_number(
    s: &str,
    min: Option<f64>,
    max: Option<f64>,
    decimals: u8,
) -> Result<f64, FieldProblem> {
    let s = half_width(s);
    let s = s.trim();
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(FieldProblem::NotANumber);
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(decimals) {
        return Err(FieldProblem::TooManyDecimals { decimals });
    }
    if int.len() + frac.len() > MAX_SIGNIFICANT_DIGITS {
        return Err(FieldProblem::TooManyDigits);
    }
    let canonical = format!(
        "{}{}.{}",
        if negative { "-" } else { "" },
        if int.is_empty() { "0" } else { int },
        if frac.is_empty() { "0" } else { frac }
    );
    let value: f64 = canonical.parse().map_err(|_| FieldProblem::NotANumber)?;
    // No negative zero: "-0" is 0.
    let value = if value == 0.0 { 0.0 } else { value };
    if let Some(min) = min
        && value < min
    {
        return Err(FieldProblem::BelowMin { min });
    }
    if let Some(max) = max
        && value > max
    {
        return Err(FieldProblem::AboveMax { max });
    }
    Ok(value)
}

/// `YYYY-MM-DD`, exactly, with a year in [`MIN_DATE_YEAR`]..=[`MAX_DATE_YEAR`].
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !digits_ok {
        return None;
    }
    let year: i32 = s.get(0..4)?.parse().ok()?;
    let month: u32 = s.get(5..7)?.parse().ok()?;
    let day: u32 = s.get(8..10)?.parse().ok()?;
    if !(MIN_DATE_YEAR..=MAX_DATE_YEAR).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A mobile number (see [`MobileNumber`]) or a landline with its area code, normalised to
/// `13812345678`, `0731-84567890` or `0731-84567890-123`.
///
/// Landline area codes are `010`, `02x` (3 digits) or `0` + 3 digits starting 3-9; the local
/// number has 7 or 8 digits and does not start with 0 or 1; an extension has 1-6 digits and
/// follows a `-` or `转`. Spaces are ignored; `(0731)` is the area code; `+86` / `0086` may
/// replace the area code's leading 0.
fn parse_phone(input: &str) -> Option<String> {
    let s = half_width(input);
    if let Some(mobile) = MobileNumber::parse(&s) {
        return Some(mobile.as_str().to_owned());
    }
    let mut t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut international = false;
    for prefix in ["+86", "0086"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.trim_start_matches('-').to_owned();
            international = true;
            break;
        }
    }
    let t = t.replace('(', "").replace([')', '转'], "-");
    let groups: Vec<&str> = t.split('-').filter(|g| !g.is_empty()).collect();
    if groups.is_empty()
        || groups.len() > 4
        || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let with_zero = |g: &str| {
        if international && !g.starts_with('0') {
            format!("0{g}")
        } else {
            g.to_owned()
        }
    };
    let (area, local, extension) = match groups.as_slice() {
        [all] => {
            let all = with_zero(all);
            let split = if matches!(all.as_bytes().get(1), Some(b'1' | b'2')) {
                3
            } else {
                4
            };
            let (area, local) = all.split_at_checked(split)?;
            (area.to_owned(), local.to_owned(), None)
        }
        [area, local] => (with_zero(area), (*local).to_owned(), None),
        // 0731-8456-7890: a local number written in two parts.
        [area, a, b] if a.len() + b.len() <= 8 && a.len() < 7 => {
            (with_zero(area), format!("{a}{b}"), None)
        }
        [area, local, extension] => (with_zero(area), (*local).to_owned(), Some(*extension)),
        [area, a, b, extension] if a.len() + b.len() <= 8 && a.len() < 7 => {
            (with_zero(area), format!("{a}{b}"), Some(*extension))
        }
        _ => return None,
    };
    let area_ok = matches!(
        area.as_bytes(),
        [b'0', b'1', b'0'] | [b'0', b'2', _] | [b'0', b'3'..=b'9', _, _]
    );
    let local_ok = (7..=8).contains(&local.len())
        && local
            .as_bytes()
            .first()
            .is_some_and(|b| (b'2'..=b'9').contains(b));
    let extension_ok = extension.is_none_or(|e| (1..=6).contains(&e.len()));
    if !(area_ok && local_ok && extension_ok) {
        return None;
    }
    Some(match extension {
        Some(e) => format!("{area}-{local}-{e}"),
        None => format!("{area}-{local}"),
    })
}

/// The texts a condition compares with a parsed value.
fn condition_texts(value: &FieldValue) -> Vec<String> {
    value.texts()
}

impl FormSpec {
    /// Checks a list of fields and makes it a form; every problem is reported at once.
    pub fn new(fields: Vec<FieldSpec>) -> Result<FormSpec, Vec<SpecProblem>> {
        let mut problems = Vec::new();
        let mut earlier: HashMap<&str, &FieldSpec> = HashMap::new();
        for field in &fields {
            check_field(field, &field.key, &mut problems);
            if earlier.contains_key(field.key.as_str()) {
                problems.push(SpecProblem::at(&field.key, SpecProblemKind::DuplicateKey));
            }
            if let Some(condition) = &field.when {
                check_condition(field, condition, &earlier, &mut problems);
            }
            earlier.entry(field.key.as_str()).or_insert(field);
            if let FieldKind::Table { columns, .. } = &field.kind {
                let mut keys = HashSet::new();
                for column in columns {
                    let path = format!("{}.{}", field.key, column.key);
                    check_field(column, &path, &mut problems);
                    if !keys.insert(column.key.as_str()) {
                        problems.push(SpecProblem::at(&path, SpecProblemKind::DuplicateKey));
                    }
                    if matches!(column.kind, FieldKind::Table { .. }) {
                        problems.push(SpecProblem::at(&path, SpecProblemKind::NestedTable));
                    }
                    if column.when.is_some() {
                        problems.push(SpecProblem::at(&path, SpecProblemKind::ConditionInTable));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(FormSpec { fields })
        } else {
            Err(problems)
        }
    }

    /// Parses a form definition from JSON: `{"fields": [{"key": …, "label": …, "kind": {"type":
    /// …}, "required": …, "help": …, "when": {"field": …, "equals": […]}}, …]}`. Unknown
    /// properties are refused (a misspelt `requried` would otherwise pass silently).
    pub fn parse_spec(json: &str) -> Result<FormSpec, Vec<SpecProblem>> {
        match serde_json::from_str::<FormSpecDef>(json) {
            Ok(def) => FormSpec::new(def.fields),
            Err(e) => Err(vec![SpecProblem {
                field: None,
                problem: SpecProblemKind::Json(e.to_string()),
            }]),
        }
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Parses a complete submission given as a JSON object (the API). Every error is returned.
    pub fn parse_values(
        &self,
        input: &Map<String, Value>,
        today: NaiveDate,
    ) -> Result<FormData, Vec<FieldError>> {
        self.parse_json(input, today, Mode::Complete)
    }

    /// Parses a draft given as a JSON object: as [`FormSpec::parse_values`], except that empty
    /// required fields and missing table rows are accepted.
    pub fn parse_draft(
        &self,
        input: &Map<String, Value>,
        today: NaiveDate,
    ) -> Result<FormData, Vec<FieldError>> {
        self.parse_json(input, today, Mode::Draft)
    }

    /// Parses a complete submission given as HTML form pairs (`key`, repeated for a multiple
    /// choice; `key[n].column` for a table cell). The caller removes its own fields (the CSRF
    /// token, the submit button) first: any other name is an error.
    pub fn parse_pairs<K: AsRef<str>, V: AsRef<str>>(
        &self,
        pairs: &[(K, V)],
        today: NaiveDate,
    ) -> Result<FormData, Vec<FieldError>> {
        self.parse_html(pairs, today, Mode::Complete)
    }

    /// Parses a draft given as HTML form pairs: as [`FormSpec::parse_pairs`], except that empty
    /// required fields and missing table rows are accepted.
    pub fn parse_draft_pairs<K: AsRef<str>, V: AsRef<str>>(
        &self,
        pairs: &[(K, V)],
        today: NaiveDate,
    ) -> Result<FormData, Vec<FieldError>> {
        self.parse_html(pairs, today, Mode::Draft)
    }

    fn parse_json(
        &self,
        input: &Map<String, Value>,
        today: NaiveDate,
        mode: Mode,
    ) -> Result<FormData, Vec<FieldError>> {
        let entries = input
            .iter()
            .map(|(k, v)| (k.as_str(), Entry::Json(v)))
            .collect();
        self.parse_entries(entries, Vec::new(), today, mode)
    }

    fn parse_html<K: AsRef<str>, V: AsRef<str>>(
        &self,
        pairs: &[(K, V)],
        today: NaiveDate,
        mode: Mode,
    ) -> Result<FormData, Vec<FieldError>> {
        let mut entries: BTreeMap<&str, HtmlEntry<'_>> = BTreeMap::new();
        let mut malformed = BTreeSet::new();
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            match split_name(name) {
                Some((key, None)) => entries.entry(key).or_default().values.push(value),
                Some((key, Some((row, column)))) => entries
                    .entry(key)
                    .or_default()
                    .rows
                    .entry(row)
                    .or_default()
                    .entry(column)
                    .or_default()
                    .push(value),
                None => {
                    malformed.insert(name);
                }
            }
        }
        let entries = entries
            .into_iter()
            .map(|(k, v)| (k, Entry::Html(v)))
            .collect();
        self.parse_entries(entries, malformed.into_iter().collect(), today, mode)
    }

    /// The rules, shared by both inputs.
    fn parse_entries(
        &self,
        mut entries: BTreeMap<&str, Entry<'_>>,
        malformed: Vec<&str>,
        today: NaiveDate,
        mode: Mode,
    ) -> Result<FormData, Vec<FieldError>> {
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        // What each shown field holds, as conditions compare it.
        let mut shown: HashMap<&str, Vec<String>> = HashMap::new();
        for field in &self.fields {
            let entry = entries.remove(field.key.as_str());
            if let Some(condition) = &field.when {
                let holds = shown
                    .get(condition.field.as_str())
                    .is_some_and(|texts| texts.iter().any(|t| condition.equals.contains(t)));
                if !holds {
                    continue;
                }
            }
            if let FieldKind::Table {
                columns,
                min_rows,
                max_rows,
            } = &field.kind
            {
                let table = TableSpec {
                    field,
                    columns,
                    min_rows: *min_rows,
                    max_rows: *max_rows,
                };
                let rows = table.parse(entry.as_ref(), today, mode, &mut errors);
                if !rows.is_empty() {
                    values.insert(field.key.clone(), FieldValue::Table(rows));
                }
                shown.insert(&field.key, Vec::new());
                continue;
            }
            let raw = entry.as_ref().map_or(Raw::Null, scalar_raw);
            match parse_scalar(&field.kind, raw, today) {
                Parsed::Missing => {
                    if field.required && mode == Mode::Complete {
                        errors.push(FieldError::new(field, FieldProblem::Required));
                    }
                    shown.insert(&field.key, Vec::new());
                }
                Parsed::Value(value) => {
                    shown.insert(&field.key, condition_texts(&value));
                    values.insert(field.key.clone(), value);
                }
                Parsed::Invalid(problem, texts) => {
                    errors.push(FieldError::new(field, problem));
                    shown.insert(&field.key, texts);
                }
            }
        }
        errors.extend(entries.keys().map(|name| FieldError::unknown(name)));
        errors.extend(malformed.into_iter().map(FieldError::unknown));
        if errors.is_empty() {
            Ok(FormData { values })
        } else {
            Err(errors)
        }
    }
}

struct TableSpec<'s> {
    field: &'s FieldSpec,
    columns: &'s [FieldSpec],
    min_rows: u32,
    max_rows: u32,
}

impl TableSpec<'_> {
    fn parse(
        &self,
        entry: Option<&Entry<'_>>,
        today: NaiveDate,
        mode: Mode,
        errors: &mut Vec<FieldError>,
    ) -> Vec<Row> {
        let raw_rows = match entry.map(rows_raw) {
            None => Vec::new(),
            Some(Some(rows)) => rows,
            Some(None) => {
                errors.push(FieldError::new(self.field, FieldProblem::WrongType));
                return Vec::new();
            }
        };
        if raw_rows.len() > usize::try_from(MAX_TABLE_ROWS).unwrap_or(usize::MAX) {
            // Too many to be worth reading, even if some are empty.
            errors.push(FieldError::new(
                self.field,
                FieldProblem::TooManyRows { max: self.max_rows },
            ));
            return Vec::new();
        }
        let mut rows = Vec::new();
        for RawRow { index, cells } in raw_rows {
            let Some(cells) = cells else {
                errors.push(FieldError {
                    row: Some(index),
                    ..FieldError::new(self.field, FieldProblem::WrongType)
                });
                continue;
            };
            let mut cells: BTreeMap<&str, Raw<'_>> = cells.into_iter().collect();
            let mut row = Row::new();
            let mut row_errors = Vec::new();
            let mut filled = false;
            for column in self.columns {
                let raw = cells.remove(column.key.as_str()).unwrap_or(Raw::Null);
                let cell_error = |p| FieldError::cell(self.field, index, column, p);
                match parse_scalar(&column.kind, raw, today) {
                    Parsed::Missing => {
                        if column.required && mode == Mode::Complete {
                            row_errors.push(cell_error(FieldProblem::Required));
                        }
                    }
                    Parsed::Value(value) => {
                        filled = true;
                        row.insert(column.key.clone(), value);
                    }
                    Parsed::Invalid(problem, _) => {
                        filled = true;
                        row_errors.push(cell_error(problem));
                    }
                }
            }
            for name in cells.keys() {
                filled = true;
                row_errors.push(FieldError {
                    row: Some(index),
                    column: Some((*name).to_owned()),
                    ..FieldError::new(self.field, FieldProblem::Unknown)
                });
            }
            if !filled {
                // A row left blank (pages often show one more than needed) is not a row.
                continue;
            }
            errors.append(&mut row_errors);
            rows.push(row);
        }
        let count = rows.len();
        let min = if mode == Mode::Complete {
            self.min_rows.max(u32::from(self.field.required))
        } else {
            0
        };
        if count > usize::try_from(self.max_rows).unwrap_or(usize::MAX) {
            errors.push(FieldError::new(
                self.field,
                FieldProblem::TooManyRows { max: self.max_rows },
            ));
        } else if count < usize::try_from(min).unwrap_or(usize::MAX) {
            let problem = if count == 0 && self.field.required {
                FieldProblem::Required
            } else {
                FieldProblem::TooFewRows { min }
            };
            errors.push(FieldError::new(self.field, problem));
        }
        rows
    }
}

// ---------------------------------------------------------------------------------------------
// HTML attributes
// ---------------------------------------------------------------------------------------------

/// The HTML5 attributes of a field's control, so the browser checks what it can before sending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HtmlAttrs {
    /// See [`FieldSpec::input_type`].
    pub input_type: &'static str,
    /// `required`: only for a required field without a condition (a hidden `required` input
    /// would block the form), never for checkboxes or tables.
    pub required: bool,
    /// `minlength`.
    pub min_length: Option<u32>,
    /// `maxlength` (the browser counts UTF-16 units, so a rare character outside the BMP counts
    /// twice there; the server counts characters).
    pub max_length: Option<u32>,
    /// `min` (a number, or a date `YYYY-MM-DD`).
    pub min: Option<String>,
    /// `max`.
    pub max: Option<String>,
    /// `step` for numbers: `1`, `0.1`, `0.01`…
    pub step: Option<String>,
    /// `pattern` (anchored by the browser; valid with the `v` flag browsers now use).
    pub pattern: Option<&'static str>,
    /// `inputmode`, for the on-screen keyboard.
    pub inputmode: Option<&'static str>,
    /// `multiple` (a multiple choice).
    pub multiple: bool,
}

impl HtmlAttrs {
    /// The attributes to write on the element, as `(name, value)`; boolean attributes have an
    /// empty value. `type` is not included: it depends on the element (see
    /// [`FieldSpec::input_type`]).
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.required {
            out.push(("required", String::new()));
        }
        if let Some(n) = self.min_length {
            out.push(("minlength", n.to_string()));
        }
        if let Some(n) = self.max_length {
            out.push(("maxlength", n.to_string()));
        }
        if let Some(v) = &self.min {
            out.push(("min", v.clone()));
        }
        if let Some(v) = &self.max {
            out.push(("max", v.clone()));
        }
        if let Some(v) = &self.step {
            out.push(("step", v.clone()));
        }
        if let Some(v) = self.pattern {
            out.push(("pattern", v.to_owned()));
        }
        if let Some(v) = self.inputmode {
            out.push(("inputmode", v.to_owned()));
        }
        if self.multiple {
            out.push(("multiple", String::new()));
        }
        out
    }
}

impl FieldSpec {
    /// The control to render: an `<input type>` value (`text`, `number`, `date`, `tel`), or
    /// `select` (a single choice: `<select>` or radio buttons), `checkbox` (a multiple choice:
    /// one checkbox per option, all with the field's name) or `table` (rows of inputs named
    /// `key[n].column`).
    pub fn input_type(&self) -> &'static str {
        match &self.kind {
            FieldKind::Text { .. }
            | FieldKind::Address { .. }
            | FieldKind::Region
            | FieldKind::IdNumber
            | FieldKind::CreditCode => "text",
            FieldKind::Number { .. } => "number",
            FieldKind::Date { .. } => "date",
            FieldKind::Choice {
                multiple: false, ..
            } => "select",
            FieldKind::Choice { multiple: true, .. } => "checkbox",
            FieldKind::Phone => "tel",
            FieldKind::Table { .. } => "table",
        }
    }

    /// The `maxlength` of the input, if it has one.
    pub fn max_length(&self) -> Option<u32> {
        match &self.kind {
            FieldKind::Text { max_chars, .. } | FieldKind::Address { max_chars } => {
                Some(max_chars.unwrap_or(MAX_TEXT_CHARS))
            }
            FieldKind::Region => Some(12),
            FieldKind::IdNumber | FieldKind::CreditCode => Some(18),
            FieldKind::Phone => Some(24),
            _ => None,
        }
    }

    /// The `minlength` of the input, if it has one.
    pub fn min_length(&self) -> Option<u32> {
        match &self.kind {
            FieldKind::Text { min_chars, .. } => *min_chars,
            FieldKind::Region => Some(6),
            FieldKind::IdNumber => Some(15),
            FieldKind::CreditCode => Some(18),
            _ => None,
        }
    }

    /// Every HTML5 attribute of the field's control; date bounds are relative to `today`.
    pub fn html_attrs(&self, today: NaiveDate) -> HtmlAttrs {
        let required = self.required
            && self.when.is_none()
            && !matches!(
                self.kind,
                FieldKind::Table { .. } | FieldKind::Choice { multiple: true, .. }
            );
        let mut attrs = HtmlAttrs {
            input_type: self.input_type(),
            required,
            min_length: self.min_length(),
            max_length: self.max_length(),
            ..HtmlAttrs::default()
        };
        match &self.kind {
            FieldKind::Number { min, max, decimals } => {
                attrs.min = min.map(number_text);
                attrs.max = max.map(number_text);
                attrs.step = Some(match decimals {
                    0 => "1".to_owned(),
                    d => format!("0.{}1", "0".repeat(usize::from(*d) - 1)),
                });
                attrs.inputmode = Some(if *decimals == 0 { "numeric" } else { "decimal" });
            }
            FieldKind::Date {
                not_before_today,
                not_after_today,
            } => {
                attrs.min = Some(if *not_before_today {
                    date_text(today)
                } else {
                    format!("{MIN_DATE_YEAR}-01-01")
                });
                attrs.max = Some(if *not_after_today {
                    date_text(today)
                } else {
                    format!("{MAX_DATE_YEAR}-12-31")
                });
            }
            FieldKind::Choice { multiple, .. } => attrs.multiple = *multiple,
            FieldKind::Region => {
                attrs.pattern = Some("[0-9]{6}|[0-9]{9}|[0-9]{12}");
                attrs.inputmode = Some("numeric");
            }
            FieldKind::IdNumber => attrs.pattern = Some("[0-9]{17}[0-9Xx]|[0-9]{15}"),
            FieldKind::CreditCode => {
                attrs.pattern = Some("[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{18}");
            }
            FieldKind::Phone => attrs.inputmode = Some("tel"),
            FieldKind::Text { .. } | FieldKind::Address { .. } | FieldKind::Table { .. } => {}
        }
        attrs
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// A 食品经营许可 application, with every kind of field.
    const SPEC: &str = r#"{"fields": [
        {"key": "applicant_name", "label": "申请人姓名", "kind": {"type": "text", "min_chars": 2, "max_chars": 20}, "required": true},
        {"key": "id_number", "label": "身份证号码", "kind": {"type": "id_number"}, "required": true},
        {"key": "phone", "label": "联系电话", "kind": {"type": "phone"}, "required": true},
        {"key": "applicant_type", "label": "申请人类型", "kind": {"type": "choice", "options": [
            {"value": "person", "label": "个人"}, {"value": "company", "label": "企业"}]}, "required": true},
        {"key": "credit_code", "label": "统一社会信用代码", "kind": {"type": "credit_code"}, "required": true,
            "when": {"field": "applicant_type", "equals": ["company"]}},
        {"key": "region", "label": "所在地区", "kind": {"type": "region"}},
        {"key": "address", "label": "详细地址", "kind": {"type": "address", "max_chars": 60}},
        {"key": "area", "label": "经营面积", "kind": {"type": "number", "min": 0, "max": 100000, "decimals": 2},
            "help": "单位：平方米"},
        {"key": "staff", "label": "从业人数", "kind": {"type": "number", "min": 1}},
        {"key": "start_date", "label": "拟开业日期", "kind": {"type": "date", "not_before_today": true}},
        {"key": "scopes", "label": "经营项目", "kind": {"type": "choice", "multiple": true, "options": [
            {"value": "hot", "label": "热食类"}, {"value": "cold", "label": "冷食类"}, {"value": "drinks", "label": "饮品"}]}},
        {"key": "members", "label": "从业人员", "kind": {"type": "table", "min_rows": 1, "max_rows": 3, "columns": [
            {"key": "name", "label": "姓名", "kind": {"type": "text", "max_chars": 20}, "required": true},
            {"key": "id_number", "label": "身份证号码", "kind": {"type": "id_number"}, "required": true},
            {"key": "health_until", "label": "健康证有效期至", "kind": {"type": "date"}}]}},
        {"key": "note", "label": "备注", "kind": {"type": "text"}}
    ]}"#;

    const CONDITIONS: &str = r#"{"fields": [
        {"key": "has_agent", "label": "是否委托代理", "kind": {"type": "choice", "options": [
            {"value": "yes", "label": "是"}, {"value": "no", "label": "否"}]}, "required": true},
        {"key": "agent_name", "label": "代理人姓名", "kind": {"type": "text"}, "required": true,
            "when": {"field": "has_agent", "equals": ["yes"]}},
        {"key": "agent_phone", "label": "代理人电话", "kind": {"type": "phone"},
            "when": {"field": "agent_name", "equals": ["李四"]}},
        {"key": "copies", "label": "份数", "kind": {"type": "number", "min": 0, "max": 2}},
        {"key": "extra", "label": "附加说明", "kind": {"type": "text"}, "required": true,
            "when": {"field": "copies", "equals": ["2", "3"]}}
    ]}"#;

    fn spec() -> FormSpec {
        FormSpec::parse_spec(SPEC).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, 20).unwrap()
    }

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn errors_of(
        spec: &FormSpec,
        input: Value,
    ) -> Vec<(String, Option<usize>, Option<String>, FieldProblem)> {
        spec.parse_values(&map(input), today())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.row, e.column, e.problem))
            .collect()
    }

    fn problem(
        field: &str,
        problem: FieldProblem,
    ) -> (String, Option<usize>, Option<String>, FieldProblem) {
        (field.to_owned(), None, None, problem)
    }

    fn cell(
        field: &str,
        row: usize,
        column: &str,
        problem: FieldProblem,
    ) -> (String, Option<usize>, Option<String>, FieldProblem) {
        (
            field.to_owned(),
            Some(row),
            Some(column.to_owned()),
            problem,
        )
    }

    /// Parses one value of a one-field form of `kind`.
    fn one(kind: Value, value: Value) -> Result<FieldValue, FieldProblem> {
        let spec = FormSpec::parse_spec(
            &json!({"fields": [{"key": "f", "label": "字段", "kind": kind}]}).to_string(),
        )
        .unwrap();
        match spec.parse_values(&map(json!({ "f": value })), today()) {
            Ok(data) => Ok(data.get("f").cloned().unwrap()),
            Err(mut errors) => {
                assert_eq!(errors.len(), 1, "{errors:?}");
                Err(errors.remove(0).problem)
            }
        }
    }

    // --- the spec ---------------------------------------------------------------------------

    #[test]
    fn spec_parses_and_round_trips() {
        let spec = spec();
        assert_eq!(spec.fields().len(), 13);
        assert_eq!(
            spec.field("area").unwrap().help.as_deref(),
            Some("单位：平方米")
        );
        assert!(spec.field("nope").is_none());
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(FormSpec::parse_spec(&json).unwrap(), spec);
        assert_eq!(serde_json::from_str::<FormSpec>(&json).unwrap(), spec);
        // Defaults are not written out.
        assert!(!json.contains("\"help\":null"));
        assert!(
            FormSpec::parse_spec(r#"{"fields": []}"#)
                .unwrap()
                .fields()
                .is_empty()
        );
        assert_eq!(
            FormSpec::new(spec.fields().to_vec()).unwrap().fields(),
            spec.fields()
        );
    }

    #[test]
    fn spec_problems_are_all_reported() {
        let json = r#"{"fields": [
            {"key": "Name", "label": " ", "kind": {"type": "text", "min_chars": 5, "max_chars": 3}},
            {"key": "a", "label": "甲", "kind": {"type": "text", "max_chars": 0}},
            {"key": "a", "label": "乙", "kind": {"type": "number", "min": 5, "max": 1, "decimals": 9}},
            {"key": "c", "label": "丙", "kind": {"type": "choice", "options": []}},
            {"key": "d", "label": "丁", "kind": {"type": "choice", "options": [
                {"value": "x", "label": "X"}, {"value": "x", "label": "X2"},
                {"value": " y", "label": "Y"}, {"value": "z", "label": ""}]}},
            {"key": "e", "label": "戊", "kind": {"type": "table", "columns": [], "max_rows": 0}},
            {"key": "f", "label": "己", "kind": {"type": "table", "min_rows": 3, "max_rows": 2, "columns": [
                {"key": "t", "label": "表", "kind": {"type": "table", "columns": [
                    {"key": "u", "label": "U", "kind": {"type": "text"}}]}},
                {"key": "t", "label": "表二", "kind": {"type": "text"}, "when": {"field": "a", "equals": ["1"]}}]}},
            {"key": "g", "label": "庚", "kind": {"type": "text"}, "when": {"field": "h", "equals": []}},
            {"key": "h", "label": "辛", "kind": {"type": "text"}, "when": {"field": "h", "equals": ["1"]}},
            {"key": "i", "label": "壬", "kind": {"type": "text"}, "when": {"field": "f", "equals": ["1"]}},
            {"key": "j", "label": "癸", "kind": {"type": "text"}, "when": {"field": "d", "equals": ["x", "w"]}},
            {"key": "k", "label": "子", "kind": {"type": "address", "max_chars": 2001}}
        ]}"#;
        use SpecProblemKind as K;
        let problems: Vec<(Option<String>, SpecProblemKind)> = FormSpec::parse_spec(json)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.problem))
            .collect();
        let at = |f: &str, k: SpecProblemKind| (Some(f.to_owned()), k);
        let min_max = |min: &str, max: &str| K::MinAboveMax {
            min: min.into(),
            max: max.into(),
        };
        assert_eq!(
            problems,
            vec![
                at("Name", K::BadKey),
                at("Name", K::EmptyLabel),
                at("Name", min_max("5", "3")),
                at("a", K::LimitOutOfRange { max: 2000 }),
                at("a", min_max("5", "1")),
                at("a", K::TooManyDecimals),
                at("a", K::DuplicateKey),
                at("c", K::NoOptions),
                at("d", K::DuplicateOption { value: "x".into() }),
                at("d", K::BadOption { value: " y".into() }),
                at("d", K::BadOption { value: "z".into() }),
                at("e", K::NoColumns),
                at("e", K::LimitOutOfRange { max: 500 }),
                at("f", min_max("3", "2")),
                at("f.t", K::NestedTable),
                at("f.t", K::DuplicateKey),
                at("f.t", K::ConditionInTable),
                at("g", K::ConditionEmpty),
                at("g", K::ConditionUnknownField { target: "h".into() }),
                at("h", K::ConditionUnknownField { target: "h".into() }),
                at("i", K::ConditionOnTable { target: "f".into() }),
                at(
                    "j",
                    K::ConditionNotAnOption {
                        target: "d".into(),
                        value: "w".into()
                    }
                ),
                at("k", K::LimitOutOfRange { max: 2000 }),
            ]
        );
        // The same problems through serde, in one message.
        let e = serde_json::from_str::<FormSpec>(json)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("field 'a': the key is used by another field"),
            "{e}"
        );
    }

    #[test]
    fn spec_problem_messages() {
        let p = SpecProblem::at("a", SpecProblemKind::DuplicateKey);
        assert_eq!(p.message_zh(), "字段“a”：键名与其他字段重复");
        assert_eq!(
            p.message_en(),
            "field 'a': the key is used by another field"
        );
        assert_eq!(p.to_string(), p.message_en());
        let p = SpecProblem::at(
            "j",
            SpecProblemKind::ConditionNotAnOption {
                target: "d".into(),
                value: "w".into(),
            },
        );
        assert_eq!(p.message_zh(), "字段“j”：显示条件中的“w”不是“d”的选项");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"field": "j", "message_zh": p.message_zh(), "message_en": p.message_en()})
        );
        // Every kind has both messages.
        use SpecProblemKind as K;
        for kind in [
            K::Json("x".into()),
            K::BadKey,
            K::EmptyLabel,
            K::MinAboveMax {
                min: "1".into(),
                max: "0".into(),
            },
            K::LimitOutOfRange { max: 5 },
            K::BoundNotFinite,
            K::TooManyDecimals,
            K::NoOptions,
            K::BadOption { value: "v".into() },
            K::DuplicateOption { value: "v".into() },
            K::NoColumns,
            K::NestedTable,
            K::ConditionInTable,
            K::ConditionUnknownField { target: "t".into() },
            K::ConditionOnTable { target: "t".into() },
            K::ConditionEmpty,
        ] {
            let p = SpecProblem {
                field: None,
                problem: kind,
            };
            assert!(!p.message_zh().is_empty() && !p.message_zh().starts_with("字段“"));
            assert!(p.message_en().is_ascii() || matches!(p.problem, K::Json(_)));
        }
    }

    #[test]
    fn bad_json_and_unknown_properties() {
        let problems = FormSpec::parse_spec("{").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, None);
        assert!(matches!(problems[0].problem, SpecProblemKind::Json(_)));
        assert!(
            problems[0]
                .message_zh()
                .starts_with("表单定义不是有效的JSON")
        );
        // A misspelt property is refused, not ignored.
        let typo = r#"{"fields": [{"key": "a", "label": "甲", "kind": {"type": "text"}, "requried": true}]}"#;
        assert!(matches!(
            &FormSpec::parse_spec(typo).unwrap_err()[0].problem,
            SpecProblemKind::Json(e) if e.contains("requried")
        ));
        let typo =
            r#"{"fields": [{"key": "a", "label": "甲", "kind": {"type": "text", "maxchars": 3}}]}"#;
        assert!(FormSpec::parse_spec(typo).is_err());
        let unknown_type = r#"{"fields": [{"key": "a", "label": "甲", "kind": {"type": "file"}}]}"#;
        assert!(FormSpec::parse_spec(unknown_type).is_err());
        assert!(FormSpec::parse_spec(r#"{"fields": [], "x": 1}"#).is_err());
        assert!(FormSpec::parse_spec("[]").is_err());
    }

    #[test]
    fn non_finite_bounds_are_refused() {
        let field = FieldSpec {
            key: "n".into(),
            label: "数".into(),
            kind: FieldKind::Number {
                min: Some(f64::NAN),
                max: None,
                decimals: 0,
            },
            required: false,
            help: None,
            when: None,
        };
        assert_eq!(
            FormSpec::new(vec![field]).unwrap_err()[0].problem,
            SpecProblemKind::BoundNotFinite
        );
    }

    // --- complete submissions -----------------------------------------------------------------

    fn good_input() -> Value {
        json!({
            "applicant_name": " 张三 ",
            "id_number": "11010519491231002x",
            "phone": "138 1234 5678",
            "applicant_type": "company",
            "credit_code": "91350100m000100y43",
            "region": "430100000000",
            "address": "长沙市芙蓉区五一大道1号",
            "area": "120.50",
            "staff": 3,
            "start_date": "2024-06-01",
            "scopes": ["drinks", "hot", "hot"],
            "members": [
                {"name": "李四", "id_number": "340524800101001"},
                {"name": "", "id_number": " "},
                {"name": "王五", "id_number": "440524188001010014", "health_until": "2025-01-01"}
            ],
            "note": ""
        })
    }

    #[test]
    fn a_complete_submission_is_normalised() {
        let data = spec().parse_values(&map(good_input()), today()).unwrap();
        assert_eq!(data.get("applicant_name").unwrap().as_str(), Some("张三"));
        assert_eq!(
            data.get("id_number").unwrap().texts(),
            vec!["11010519491231002X".to_owned()]
        );
        assert_eq!(data.get("phone").unwrap().as_str(), Some("13812345678"));
        assert_eq!(data.get("area").unwrap().as_f64(), Some(120.5));
        assert_eq!(
            data.get("start_date").unwrap().as_date(),
            NaiveDate::from_ymd_opt(2024, 6, 1)
        );
        // Empty fields are absent; the blank table row is dropped.
        assert!(data.get("note").is_none());
        assert_eq!(data.len(), 12);
        assert!(!data.is_empty());
        assert_eq!(
            data.to_json(),
            json!({
                "applicant_name": "张三",
                "id_number": "11010519491231002X",
                "phone": "13812345678",
                "applicant_type": "company",
                "credit_code": "91350100M000100Y43",
                "region": "430100",
                "address": "长沙市芙蓉区五一大道1号",
                "area": 120.5,
                "staff": 3,
                "start_date": "2024-06-01",
                "scopes": ["hot", "drinks"],
                "members": [
                    {"name": "李四", "id_number": "34052419800101001X"},
                    {"name": "王五", "id_number": "440524188001010014", "health_until": "2025-01-01"}
                ]
            })
        );
        assert_eq!(serde_json::to_value(&data).unwrap(), data.to_json());
        // Debug prints no value.
        let debug = format!("{data:?}");
        assert!(debug.contains("applicant_name"), "{debug}");
        assert!(
            !debug.contains("张三") && !debug.contains("13812345678"),
            "{debug}"
        );
        // Stored JSON and HTML pairs parse back to the same data.
        assert_eq!(
            spec().parse_values(&data.to_json_map(), today()).unwrap(),
            data
        );
        assert_eq!(spec().parse_pairs(&data.to_pairs(), today()).unwrap(), data);
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let input = json!({
            "applicant_name": "张",
            "id_number": "110105194912310021",
            "phone": "12345",
            "applicant_type": "robot",
            "credit_code": "not even checked: the condition reads 'robot'",
            "region": "990000",
            "area": "12.345",
            "staff": "0",
            "start_date": "2024-05-19",
            "scopes": ["hot", "fish"],
            "members": [
                {"name": "李四"},
                {"name": "x", "id_number": "11010519491231002X", "age": 3}
            ],
            "bogus": 1
        });
        use FieldProblem as P;
        assert_eq!(
            errors_of(&spec(), input),
            vec![
                problem("applicant_name", P::TooShort { min: 2, found: 1 }),
                problem(
                    "id_number",
                    P::Code(CodeError::CheckMismatch {
                        kind: crate::codes::CodeKind::IdCardNumber,
                        expected: 'X',
                        found: '1'
                    })
                ),
                problem("phone", P::NotAPhone),
                problem(
                    "applicant_type",
                    P::NotAnOption {
                        value: "robot".into()
                    }
                ),
                problem(
                    "region",
                    P::Code(CodeError::UnknownProvince {
                        kind: crate::codes::CodeKind::RegionCode,
                        code: "99".into()
                    })
                ),
                problem("area", P::TooManyDecimals { decimals: 2 }),
                problem("staff", P::BelowMin { min: 1.0 }),
                problem("start_date", P::BeforeToday { today: today() }),
                problem(
                    "scopes",
                    P::NotAnOption {
                        value: "fish".into()
                    }
                ),
                cell("members", 0, "id_number", P::Required),
                cell("members", 1, "age", P::Unknown),
                problem("bogus", P::Unknown),
            ]
        );
    }

    #[test]
    fn required_fields_and_rows() {
        use FieldProblem as P;
        assert_eq!(
            errors_of(&spec(), json!({"applicant_type": "company", "note": "  "})),
            vec![
                problem("applicant_name", P::Required),
                problem("id_number", P::Required),
                problem("phone", P::Required),
                problem("credit_code", P::Required),
                problem("members", P::TooFewRows { min: 1 }),
            ]
        );
    }

    #[test]
    fn error_messages_name_the_field() {
        let errors = spec()
            .parse_values(
                &map(json!({
                    "id_number": "110105194912310021",
                    "members": [{"name": "李四"}, {"age": 1}],
                    "bogus": 1
                })),
                today(),
            )
            .unwrap_err();
        let messages: Vec<(String, String, String)> = errors
            .iter()
            .map(|e| (e.name(), e.message_zh(), e.message_en()))
            .collect();
        let expect =
            |name: &str, zh: &str, en: &str| (name.to_owned(), zh.to_owned(), en.to_owned());
        assert_eq!(
            messages,
            vec![
                expect(
                    "applicant_name",
                    "请填写申请人姓名",
                    "申请人姓名 is required"
                ),
                expect(
                    "id_number",
                    "身份证号码有误：公民身份号码校验码应为“X”，实为“1”，请检查是否输错",
                    "身份证号码: the check character of the citizen ID number should be 'X', found '1'"
                ),
                expect("phone", "请填写联系电话", "联系电话 is required"),
                expect(
                    "applicant_type",
                    "请填写申请人类型",
                    "申请人类型 is required"
                ),
                expect(
                    "members[0].id_number",
                    "请填写从业人员第1行的身份证号码",
                    "身份证号码 in row 1 of 从业人员 is required"
                ),
                expect(
                    "members[1].name",
                    "请填写从业人员第2行的姓名",
                    "姓名 in row 2 of 从业人员 is required"
                ),
                expect(
                    "members[1].id_number",
                    "请填写从业人员第2行的身份证号码",
                    "身份证号码 in row 2 of 从业人员 is required"
                ),
                expect(
                    "members[1].age",
                    "从业人员第2行没有“age”这一栏",
                    "row 2 of 从业人员 has no column 'age'"
                ),
                expect(
                    "bogus",
                    "表单中没有“bogus”这一项",
                    "the form has no field 'bogus'"
                ),
            ]
        );
        assert_eq!(errors[0].to_string(), "申请人姓名 is required");
        assert_eq!(
            serde_json::to_value(&errors[4]).unwrap(),
            json!({
                "field": "members",
                "row": 0,
                "column": "id_number",
                "name": "members[0].id_number",
                "message_zh": "请填写从业人员第1行的身份证号码",
                "message_en": "身份证号码 in row 1 of 从业人员 is required"
            })
        );
    }

    #[test]
    fn every_problem_has_both_messages() {
        use FieldProblem as P;
        let cases = [
            (
                P::WrongType,
                "字段的格式不正确",
                "字段 has a value of the wrong type",
            ),
            (
                P::TooManyValues,
                "字段只能填写一个值",
                "字段 takes a single value",
            ),
            (
                P::TooLong { max: 2, found: 3 },
                "字段最多2个字，现有3个字",
                "字段 takes at most 2 characters, found 3",
            ),
            (
                P::ControlChars,
                "字段含有不可见的控制字符，请删除后重新填写",
                "字段 contains control characters",
            ),
            (P::NotANumber, "字段应为数字", "字段 must be a number"),
            (
                P::TooManyDecimals { decimals: 0 },
                "字段应为整数",
                "字段 must be a whole number",
            ),
            (
                P::TooManyDecimals { decimals: 2 },
                "字段最多保留2位小数",
                "字段 takes at most 2 decimal places",
            ),
            (
                P::TooManyDigits,
                "字段的位数过多（最多15位有效数字）",
                "字段 has too many digits (at most 15 significant digits)",
            ),
            (
                P::BelowMin { min: 0.5 },
                "字段不能小于0.5",
                "字段 must be at least 0.5",
            ),
            (
                P::AboveMax { max: 100.0 },
                "字段不能大于100",
                "字段 must be at most 100",
            ),
            (
                P::NotADate,
                "字段应为有效日期，格式为“年-月-日”（如2024-05-01）",
                "字段 must be a real date written YYYY-MM-DD",
            ),
            (
                P::AfterToday { today: today() },
                "字段不能晚于今天（2024-05-20）",
                "字段 cannot be after today (2024-05-20)",
            ),
            (
                P::BornAfterToday,
                "字段中的出生日期晚于今天",
                "the birth date in 字段 is after today",
            ),
            (
                P::NotAPhone,
                "字段应为11位手机号码，或带区号的固定电话号码（如0731-84567890）",
                "字段 must be an 11-digit mobile number or a landline number with its area code (e.g. 0731-84567890)",
            ),
            (
                P::TooFewRows { min: 2 },
                "字段至少应填写2行",
                "字段 needs at least 2 rows",
            ),
            (
                P::TooManyRows { max: 3 },
                "字段最多填写3行",
                "字段 takes at most 3 rows",
            ),
        ];
        for (problem, zh, en) in cases {
            let e = FieldError {
                field: "f".into(),
                row: None,
                column: None,
                label: "字段".into(),
                column_label: None,
                problem,
            };
            assert_eq!((e.message_zh().as_str(), e.message_en().as_str()), (zh, en));
        }
        let row = FieldError {
            field: "t".into(),
            row: Some(2),
            column: None,
            label: "表".into(),
            column_label: None,
            problem: P::WrongType,
        };
        assert_eq!(row.name(), "t[2]");
        assert_eq!(row.message_zh(), "表第3行的格式不正确");
        assert_eq!(
            row.message_en(),
            "row 3 of 表 has a value of the wrong type"
        );
    }

    // --- the kinds ----------------------------------------------------------------------------

    #[test]
    fn text_rules() {
        let kind = json!({"type": "text", "min_chars": 2, "max_chars": 6});
        assert_eq!(
            one(kind.clone(), json!(" 第一行\r\n第二 ")),
            Ok(FieldValue::Text("第一行\n第二".into()))
        );
        assert_eq!(
            one(kind.clone(), json!("a\tb")),
            Ok(FieldValue::Text("a\tb".into()))
        );
        assert_eq!(
            one(kind.clone(), json!("一二三四五六七")),
            Err(FieldProblem::TooLong { max: 6, found: 7 })
        );
        assert_eq!(
            one(kind.clone(), json!("一")),
            Err(FieldProblem::TooShort { min: 2, found: 1 })
        );
        assert_eq!(
            one(kind.clone(), json!("a\u{0}b")),
            Err(FieldProblem::ControlChars)
        );
        assert_eq!(
            one(kind.clone(), json!("a\u{7f}b")),
            Err(FieldProblem::ControlChars)
        );
        // A number or a boolean is read as its text; an object or nested array is refused.
        assert_eq!(
            one(kind.clone(), json!(123)),
            Ok(FieldValue::Text("123".into()))
        );
        assert_eq!(
            one(kind.clone(), json!(true)),
            Ok(FieldValue::Text("true".into()))
        );
        assert_eq!(
            one(kind.clone(), json!({"a": 1})),
            Err(FieldProblem::WrongType)
        );
        assert_eq!(
            one(kind.clone(), json!([["ab"]])),
            Err(FieldProblem::WrongType)
        );
        assert_eq!(
            one(kind.clone(), json!(["ab", "cd"])),
            Err(FieldProblem::TooManyValues)
        );
        assert_eq!(
            one(kind.clone(), json!(["ab"])),
            Ok(FieldValue::Text("ab".into()))
        );
        // Without a limit, the platform's limit applies.
        let long = "字".repeat(2001);
        assert_eq!(
            one(json!({"type": "text"}), json!(long)),
            Err(FieldProblem::TooLong {
                max: 2000,
                found: 2001
            })
        );
        assert_eq!(
            one(
                json!({"type": "address", "max_chars": 3}),
                json!("一二三四")
            ),
            Err(FieldProblem::TooLong { max: 3, found: 4 })
        );
    }

    #[test]
    fn number_rules() {
        let n = |decimals: u8, s: &str| parse_number(s, None, None, decimals);
        assert_eq!(n(0, "42"), Ok(42.0));
        assert_eq!(n(0, "+42"), Ok(42.0));
        assert_eq!(n(0, "007"), Ok(7.0));
        assert_eq!(n(0, "100.00"), Ok(100.0));
        assert_eq!(n(1, ".5"), Ok(0.5));
        assert_eq!(n(0, "5."), Ok(5.0));
        assert_eq!(n(2, "-12.50"), Ok(-12.5));
        assert_eq!(n(0, "１２３"), Ok(123.0));
        let zero = n(0, "-0").unwrap();
        assert!(zero == 0.0 && zero.is_sign_positive());
        for bad in [
            "", "-", ".", "+-1", "1e3", "1,000", "0x10", "NaN", "inf", "1 000", "一",
        ] {
            assert_eq!(n(2, bad), Err(FieldProblem::NotANumber), "{bad}");
        }
        assert_eq!(
            n(0, "1.5"),
            Err(FieldProblem::TooManyDecimals { decimals: 0 })
        );
        assert_eq!(
            n(6, "0.1234567"),
            Err(FieldProblem::TooManyDecimals { decimals: 6 })
        );
        assert_eq!(n(0, "999999999999999"), Ok(999_999_999_999_999.0));
        assert_eq!(n(0, "1000000000000000"), Err(FieldProblem::TooManyDigits));
        assert_eq!(n(6, "123456789.123456"), Ok(123_456_789.123_456));
        assert_eq!(n(6, "1234567890.123456"), Err(FieldProblem::TooManyDigits));
        assert_eq!(
            parse_number("-1", Some(0.0), Some(10.0), 0),
            Err(FieldProblem::BelowMin { min: 0.0 })
        );
        assert_eq!(
            parse_number("10.5", Some(0.0), Some(10.0), 1),
            Err(FieldProblem::AboveMax { max: 10.0 })
        );
        // JSON numbers, including those JSON writes with an exponent.
        let kind = json!({"type": "number", "decimals": 6});
        assert_eq!(
            one(kind.clone(), json!(1e-6)),
            Ok(FieldValue::Number(0.000001))
        );
        assert_eq!(one(kind.clone(), json!(2.5)), Ok(FieldValue::Number(2.5)));
        assert_eq!(one(kind.clone(), json!(-7)), Ok(FieldValue::Number(-7.0)));
        assert_eq!(
            one(kind.clone(), json!(u64::MAX)),
            Err(FieldProblem::TooManyDigits)
        );
        assert_eq!(
            one(kind, json!(0.1 + 0.2)),
            Err(FieldProblem::TooManyDecimals { decimals: 6 })
        );
        assert_eq!(number_json(3.0), json!(3));
        assert_eq!(number_json(0.25), json!(0.25));
    }

    #[test]
    fn date_rules() {
        let date = |y, m, d| FieldValue::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let plain = json!({"type": "date"});
        assert_eq!(
            one(plain.clone(), json!("2024-02-29")),
            Ok(date(2024, 2, 29))
        );
        assert_eq!(
            one(plain.clone(), json!("２０２４－０５－０１")),
            Ok(date(2024, 5, 1))
        );
        for bad in [
            "2023-02-29",
            "2024-5-1",
            "2024/05/01",
            "20240501",
            "1799-12-31",
            "2201-01-01",
            "2024-05-01T00:00",
        ] {
            assert_eq!(
                one(plain.clone(), json!(bad)),
                Err(FieldProblem::NotADate),
                "{bad}"
            );
        }
        let future = json!({"type": "date", "not_before_today": true});
        assert_eq!(
            one(future.clone(), json!("2024-05-20")),
            Ok(date(2024, 5, 20))
        );
        assert_eq!(
            one(future, json!("2024-05-19")),
            Err(FieldProblem::BeforeToday { today: today() })
        );
        let past = json!({"type": "date", "not_after_today": true});
        assert_eq!(
            one(past.clone(), json!("2024-05-20")),
            Ok(date(2024, 5, 20))
        );
        assert_eq!(
            one(past, json!("2024-05-21")),
            Err(FieldProblem::AfterToday { today: today() })
        );
    }

    #[test]
    fn choice_rules() {
        let options = json!([{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"}, {"value": "c", "label": "丙"}]);
        let single = json!({"type": "choice", "options": options});
        let multiple = json!({"type": "choice", "options": options, "multiple": true});
        assert_eq!(
            one(single.clone(), json!(" b ")),
            Ok(FieldValue::Choice("b".into()))
        );
        assert_eq!(
            one(single.clone(), json!("乙")),
            Err(FieldProblem::NotAnOption {
                value: "乙".into()
            })
        );
        assert_eq!(
            one(single.clone(), json!(["a", "b"])),
            Err(FieldProblem::TooManyValues)
        );
        assert_eq!(
            one(multiple.clone(), json!(["c", "a", "c", ""])),
            Ok(FieldValue::Choices(vec!["a".into(), "c".into()]))
        );
        assert_eq!(
            one(multiple.clone(), json!("b")),
            Ok(FieldValue::Choices(vec!["b".into()]))
        );
        assert_eq!(
            one(multiple, json!(["a", "z"])),
            Err(FieldProblem::NotAnOption { value: "z".into() })
        );
        // A long bad value is shortened in the message.
        let long = "x".repeat(80);
        match one(single, json!(long)) {
            Err(FieldProblem::NotAnOption { value }) => {
                assert_eq!(value.chars().count(), 51);
                assert!(value.ends_with('…'));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn code_fields() {
        let region = json!({"type": "region"});
        assert_eq!(
            one(region.clone(), json!("430102001000")).unwrap().texts(),
            vec!["430102001".to_owned()]
        );
        assert!(matches!(
            one(region, json!("4301")),
            Err(FieldProblem::Code(_))
        ));
        let id = json!({"type": "id_number"});
        assert_eq!(
            one(id.clone(), json!("１１０１０５１９４９１２３１００２ｘ"))
                .unwrap()
                .texts(),
            vec!["11010519491231002X".to_owned()]
        );
        assert_eq!(
            one(id.clone(), json!("340524800101001")).unwrap().texts(),
            vec!["34052419800101001X".to_owned()]
        );
        // Born tomorrow.
        let tomorrow = today().succ_opt().unwrap();
        let unborn = IdCardNumber::generate("430104", tomorrow, 1).unwrap();
        assert_eq!(
            one(id.clone(), json!(unborn.as_str())),
            Err(FieldProblem::BornAfterToday)
        );
        let born_today = IdCardNumber::generate("430104", today(), 1).unwrap();
        assert!(one(id, json!(born_today.as_str())).is_ok());
        let credit = json!({"type": "credit_code"});
        assert_eq!(
            one(credit.clone(), json!(" 91350100m000100y43 "))
                .unwrap()
                .texts(),
            vec!["91350100M000100Y43".to_owned()]
        );
        assert!(matches!(
            one(credit, json!("91350100M000100Y44")),
            Err(FieldProblem::Code(CodeError::CheckMismatch { .. }))
        ));
    }

    #[test]
    fn phone_numbers() {
        for (input, canonical) in [
            ("13812345678", "13812345678"),
            ("+86 138-1234-5678", "13812345678"),
            ("19912345678", "19912345678"),
            ("0731-84567890", "0731-84567890"),
            ("(0731)84567890", "0731-84567890"),
            ("（０７３１）８４５６７８９０", "0731-84567890"),
            ("073184567890", "0731-84567890"),
            ("0731 8456 7890", "0731-84567890"),
            ("0731-8456-7890", "0731-84567890"),
            ("010-62345678", "010-62345678"),
            ("01062345678", "010-62345678"),
            ("021 6234 5678", "021-62345678"),
            ("0571-8765432", "0571-8765432"),
            ("0731-84567890-123", "0731-84567890-123"),
            ("0731-84567890-", "0731-84567890"),
            ("0731-84567890转123", "0731-84567890-123"),
            ("0731-8456-7890-8001", "0731-84567890-8001"),
            ("+86 731 84567890", "0731-84567890"),
            ("0086-10-62345678", "010-62345678"),
        ] {
            assert_eq!(parse_phone(input).as_deref(), Some(canonical), "{input}");
            assert_eq!(
                parse_phone(canonical).as_deref(),
                Some(canonical),
                "{canonical}"
            );
        }
        for bad in [
            "",
            "84567890",
            "12345",
            "12812345678",
            "0731-0456789",
            "0731-1456789",
            "011-62345678",
            "0031-84567890",
            "0731-845678901",
            "0731-845678",
            "0731-84567890-1234567",
            "0731-84567890-12-3",
            "tel:13812345678",
            "0731—84567890abc",
        ] {
            assert_eq!(parse_phone(bad), None, "{bad}");
        }
    }

    // --- conditions ---------------------------------------------------------------------------

    #[test]
    fn hidden_fields_are_dropped_whatever_they_hold() {
        let spec = FormSpec::parse_spec(CONDITIONS).unwrap();
        let data = spec
            .parse_values(
                &map(
                    json!({"has_agent": "no", "agent_name": {"bad": 1}, "agent_phone": "garbage"}),
                ),
                today(),
            )
            .unwrap();
        assert_eq!(data.to_json(), json!({"has_agent": "no"}));
        // Shown: required again; the next condition reads the value.
        use FieldProblem as P;
        assert_eq!(
            errors_of(&spec, json!({"has_agent": "yes", "agent_phone": "garbage"})),
            vec![problem("agent_name", P::Required)]
        );
        assert_eq!(
            errors_of(
                &spec,
                json!({"has_agent": " yes", "agent_name": "李四", "agent_phone": "x"})
            ),
            vec![problem("agent_phone", P::NotAPhone)]
        );
        let data = spec
            .parse_values(
                &map(json!({"has_agent": "yes", "agent_name": "王五", "agent_phone": "x"})),
                today(),
            )
            .unwrap();
        assert_eq!(data.len(), 2);
        // A number compares as written without trailing zeros.
        assert_eq!(
            errors_of(&spec, json!({"has_agent": "no", "copies": "2.0"})),
            vec![problem("extra", P::Required)]
        );
        assert!(
            spec.parse_values(
                &map(json!({"has_agent": "no", "copies": 1, "extra": "x"})),
                today()
            )
            .unwrap()
            .get("extra")
            .is_none()
        );
        // An invalid value is compared as submitted, so both problems show at once.
        assert_eq!(
            errors_of(&spec, json!({"has_agent": "no", "copies": "3"})),
            vec![
                problem("copies", P::AboveMax { max: 2.0 }),
                problem("extra", P::Required)
            ]
        );
        assert_eq!(
            errors_of(&spec, json!({"has_agent": "maybe", "agent_name": ""})),
            vec![problem(
                "has_agent",
                P::NotAnOption {
                    value: "maybe".into()
                }
            )]
        );
    }

    #[test]
    fn a_hidden_table_is_dropped() {
        let spec = FormSpec::parse_spec(
            r#"{"fields": [
                {"key": "kind", "label": "类型", "kind": {"type": "choice", "options": [{"value": "a", "label": "甲"}]}},
                {"key": "rows", "label": "明细", "required": true, "when": {"field": "kind", "equals": ["a"]},
                 "kind": {"type": "table", "columns": [{"key": "x", "label": "X", "kind": {"type": "text"}}]}}
            ]}"#,
        )
        .unwrap();
        let data = spec
            .parse_values(&map(json!({"rows": "garbage"})), today())
            .unwrap();
        assert!(data.is_empty());
        assert_eq!(
            errors_of(&spec, json!({"kind": "a"})),
            vec![problem("rows", FieldProblem::Required)]
        );
    }

    // --- tables -------------------------------------------------------------------------------

    #[test]
    fn table_rows() {
        use FieldProblem as P;
        let base = || {
            let mut m = map(good_input());
            m.remove("members");
            m
        };
        let with = |members: Value| {
            let mut m = base();
            m.insert("members".into(), members);
            spec().parse_values(&m, today()).map_err(|e| {
                e.into_iter()
                    .map(|e| (e.field, e.row, e.column, e.problem))
                    .collect::<Vec<_>>()
            })
        };
        let row = json!({"name": "李四", "id_number": "340524800101001"});
        assert!(with(json!([row.clone(), row.clone(), row.clone()])).is_ok());
        assert_eq!(
            with(json!([row.clone(), row.clone(), row.clone(), row.clone()])).unwrap_err(),
            vec![problem("members", P::TooManyRows { max: 3 })]
        );
        // Blank rows neither count nor err.
        assert!(with(json!([{}, row.clone(), {"name": " "}, null])).is_err());
        assert!(with(json!([{}, row.clone(), {"name": " "}])).is_ok());
        assert_eq!(
            with(json!([{}, {"name": ""}])).unwrap_err(),
            vec![problem("members", P::TooFewRows { min: 1 })]
        );
        assert_eq!(
            with(json!(null)).unwrap_err(),
            vec![problem("members", P::TooFewRows { min: 1 })]
        );
        // A row that is not an object; a table that is not rows.
        assert_eq!(
            with(json!([row.clone(), "row"])).unwrap_err(),
            vec![("members".to_owned(), Some(1), None, P::WrongType)]
        );
        assert_eq!(
            with(json!({"0": row.clone()})).unwrap_err(),
            vec![problem("members", P::WrongType)]
        );
        assert_eq!(
            with(json!("李四")).unwrap_err(),
            vec![problem("members", P::WrongType)]
        );
        // Cell errors carry the row as submitted.
        assert_eq!(
            with(json!([{}, {"name": "李四", "id_number": "1", "health_until": "soon"}]))
                .unwrap_err(),
            vec![
                cell(
                    "members",
                    1,
                    "id_number",
                    P::Code(CodeError::Length {
                        kind: crate::codes::CodeKind::IdCardNumber,
                        expected: &[15, 18],
                        found: 1
                    })
                ),
                cell("members", 1, "health_until", P::NotADate),
            ]
        );
        // Hostile row counts are refused before they are read.
        let many: Vec<Value> = (0..501).map(|_| json!({})).collect();
        assert_eq!(
            with(Value::Array(many)).unwrap_err(),
            vec![problem("members", P::TooManyRows { max: 3 })]
        );
    }

    // --- HTML pairs ---------------------------------------------------------------------------

    #[test]
    fn html_pairs_parse_like_json() {
        let input = pairs(&[
            ("applicant_name", "张三"),
            ("id_number", "11010519491231002x"),
            ("phone", "（0731）84567890"),
            ("applicant_type", "person"),
            ("credit_code", "hidden, so never read"),
            ("scopes", "cold"),
            ("scopes", "hot"),
            ("start_date", "2024-05-20"),
            ("members[7].name", "李四"),
            ("members[7].id_number", "340524800101001"),
            ("members[2].name", ""),
            ("members[2].id_number", ""),
            ("members[3].name", "王五"),
            ("members[3].id_number", "440524188001010014"),
            ("note", ""),
        ]);
        let data = spec().parse_pairs(&input, today()).unwrap();
        assert_eq!(data.get("phone").unwrap().as_str(), Some("0731-84567890"));
        assert_eq!(
            data.get("scopes"),
            Some(&FieldValue::Choices(vec!["hot".into(), "cold".into()]))
        );
        assert!(data.get("credit_code").is_none());
        // Rows in index order, the blank one dropped.
        assert_eq!(
            data.to_json()["members"],
            json!([
                {"name": "王五", "id_number": "440524188001010014"},
                {"name": "李四", "id_number": "34052419800101001X"}
            ])
        );
        let again = data.to_pairs();
        assert!(again.contains(&("members[0].name".to_owned(), "王五".to_owned())));
        assert!(again.contains(&("scopes".to_owned(), "cold".to_owned())));
        assert_eq!(spec().parse_pairs(&again, today()).unwrap(), data);
        assert_eq!(
            spec().parse_values(&data.to_json_map(), today()).unwrap(),
            data
        );
    }

    #[test]
    fn html_pair_errors() {
        use FieldProblem as P;
        let input = pairs(&[
            ("applicant_name", "张三"),
            ("applicant_name", "李四"),
            ("phone[0].x", "1"),
            ("members", "oops"),
            ("members[x].name", "a"),
            ("members[0]", "a"),
            ("[0].name", "a"),
            ("members[1].name", "李四"),
            ("members[1].nickname", "小李"),
            ("csrf_token", "abc"),
        ]);
        let errors: Vec<_> = spec()
            .parse_pairs(&input, today())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.name(), e.problem))
            .collect();
        let e = |name: &str, p| (name.to_owned(), p);
        assert_eq!(
            errors,
            vec![
                e("applicant_name", P::TooManyValues),
                e("id_number", P::Required),
                e("phone", P::WrongType),
                e("applicant_type", P::Required),
                e("members", P::WrongType),
                e("csrf_token", P::Unknown),
                e("[0].name", P::Unknown),
                e("members[0]", P::Unknown),
                e("members[x].name", P::Unknown),
            ]
        );
        let errors: Vec<_> = spec()
            .parse_pairs(
                &pairs(&[("members[1].name", "李四"), ("members[1].nickname", "小李")]),
                today(),
            )
            .unwrap_err()
            .into_iter()
            .filter(|e| e.field == "members")
            .map(|e| (e.name(), e.problem))
            .collect();
        assert_eq!(
            errors,
            vec![
                e("members[1].id_number", P::Required),
                e("members[1].nickname", P::Unknown),
            ]
        );
    }

    #[test]
    fn html_names() {
        assert_eq!(split_name("a"), Some(("a", None)));
        assert_eq!(split_name("t[12].col"), Some(("t", Some((12, "col")))));
        for bad in [
            "t[].c",
            "t[1]",
            "t[1].",
            "t[-1].c",
            "t[1234567].c",
            "[1].c",
            "t[1]c",
            "t[1",
        ] {
            assert_eq!(split_name(bad), None, "{bad}");
        }
    }

    // --- drafts -------------------------------------------------------------------------------

    #[test]
    fn drafts_accept_incomplete_but_not_malformed() {
        let spec = spec();
        assert!(spec.parse_draft(&Map::new(), today()).unwrap().is_empty());
        let draft = spec
            .parse_draft(
                &map(json!({"applicant_type": "company", "members": [{"name": "李四"}]})),
                today(),
            )
            .unwrap();
        assert_eq!(draft.to_json()["members"], json!([{"name": "李四"}]));
        assert_eq!(
            spec.parse_draft(&draft.to_json_map(), today()).unwrap(),
            draft
        );
        assert_eq!(
            spec.parse_draft_pairs(&draft.to_pairs(), today()).unwrap(),
            draft
        );
        // The same draft is not a complete application.
        assert!(spec.parse_values(&draft.to_json_map(), today()).is_err());
        use FieldProblem as P;
        let errors: Vec<_> = spec
            .parse_draft(
                &map(json!({"applicant_name": "张", "bogus": 1, "members": [{"name": "李四", "id_number": "x"}]})),
                today(),
            )
            .unwrap_err()
            .into_iter()
            .map(|e| (e.name(), e.problem))
            .collect();
        assert_eq!(errors.len(), 3);
        assert_eq!(
            errors[0],
            (
                "applicant_name".to_owned(),
                P::TooShort { min: 2, found: 1 }
            )
        );
        assert_eq!(errors[1].0, "members[0].id_number");
        assert_eq!(errors[2], ("bogus".to_owned(), P::Unknown));
        // Too many rows is malformed in a draft too.
        let row = json!({"name": "李四"});
        assert!(
            spec.parse_draft(&map(json!({"members": [row, row, row, row]})), today())
                .is_err()
        );
        assert!(
            spec.parse_draft_pairs(&pairs(&[("applicant_name", "张")]), today())
                .is_err()
        );
    }

    // --- HTML attributes ----------------------------------------------------------------------

    #[test]
    fn html_attributes() {
        let spec = spec();
        let attrs = |key: &str| spec.field(key).unwrap().html_attrs(today());
        let name = attrs("applicant_name");
        assert_eq!(name.input_type, "text");
        assert_eq!(
            name.attributes(),
            vec![
                ("required", String::new()),
                ("minlength", "2".to_owned()),
                ("maxlength", "20".to_owned())
            ]
        );
        // A conditional field is never `required` in HTML: hidden, it would block the form.
        assert!(!attrs("credit_code").required);
        assert_eq!(attrs("credit_code").max_length, Some(18));
        assert_eq!(
            attrs("credit_code").pattern,
            Some("[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{18}")
        );
        let area = attrs("area");
        assert_eq!(area.input_type, "number");
        assert_eq!(
            area.attributes(),
            vec![
                ("min", "0".to_owned()),
                ("max", "100000".to_owned()),
                ("step", "0.01".to_owned()),
                ("inputmode", "decimal".to_owned())
            ]
        );
        assert_eq!(attrs("staff").step.as_deref(), Some("1"));
        assert_eq!(attrs("staff").max, None);
        let date = attrs("start_date");
        assert_eq!(date.input_type, "date");
        assert_eq!(date.min.as_deref(), Some("2024-05-20"));
        assert_eq!(date.max.as_deref(), Some("2200-12-31"));
        let scopes = attrs("scopes");
        assert_eq!(
            (scopes.input_type, scopes.multiple, scopes.required),
            ("checkbox", true, false)
        );
        assert_eq!(attrs("applicant_type").input_type, "select");
        assert!(attrs("applicant_type").required);
        assert_eq!(attrs("members").input_type, "table");
        assert!(attrs("members").attributes().is_empty());
        let phone = attrs("phone");
        assert_eq!((phone.input_type, phone.inputmode), ("tel", Some("tel")));
        assert_eq!(
            attrs("id_number").pattern,
            Some("[0-9]{17}[0-9Xx]|[0-9]{15}")
        );
        assert_eq!(attrs("id_number").min_length, Some(15));
        assert_eq!(attrs("region").max_length, Some(12));
        assert_eq!(attrs("address").max_length, Some(60));
        assert_eq!(attrs("note").max_length, Some(MAX_TEXT_CHARS));
        let six = FieldSpec {
            key: "x".into(),
            label: "X".into(),
            kind: FieldKind::Number {
                min: None,
                max: None,
                decimals: 6,
            },
            required: false,
            help: None,
            when: None,
        };
        assert_eq!(six.html_attrs(today()).step.as_deref(), Some("0.000001"));
        let past = FieldSpec {
            kind: FieldKind::Date {
                not_before_today: false,
                not_after_today: true,
            },
            ..six
        };
        assert_eq!(past.html_attrs(today()).max.as_deref(), Some("2024-05-20"));
        assert_eq!(past.html_attrs(today()).min.as_deref(), Some("1800-01-01"));
    }

    // --- properties ---------------------------------------------------------------------------

    const KEYS: &[&str] = &[
        "applicant_name",
        "id_number",
        "phone",
        "applicant_type",
        "credit_code",
        "region",
        "address",
        "area",
        "staff",
        "start_date",
        "scopes",
        "members",
        "note",
        "unknown",
        "members[0].name",
    ];

    /// Plausible values for each key of [`SPEC`], valid and not.
    fn pool(key: &str) -> Vec<Value> {
        match key {
            "applicant_name" => vec![
                json!("张三"),
                json!(" 李四 "),
                json!("王"),
                json!(""),
                json!("a\u{0}b"),
            ],
            "id_number" => vec![
                json!("11010519491231002x"),
                json!("340524800101001"),
                json!("110105194912310021"),
                json!(null),
            ],
            "phone" => vec![
                json!("138 1234 5678"),
                json!("(0731)84567890"),
                json!("0731-8456-7890转12"),
                json!(13812345678u64),
                json!("12345"),
            ],
            "applicant_type" => vec![json!("person"), json!("company"), json!("x")],
            "credit_code" => vec![json!("91350100m000100y43"), json!("91350100M000100Y44")],
            "region" => vec![json!("430100000000"), json!("430102"), json!("990000")],
            "address" => vec![json!("长沙市芙蓉区"), json!("")],
            "area" => vec![
                json!(12.5),
                json!("0.10"),
                json!("1e3"),
                json!(-1),
                json!("100000"),
                json!(0.000001),
            ],
            "staff" => vec![json!(3), json!("3.0"), json!("abc"), json!(0), json!(1e300)],
            "start_date" => vec![
                json!("2024-05-20"),
                json!("2024-05-19"),
                json!("2030-02-28"),
                json!("2024-02-30"),
            ],
            "scopes" => vec![
                json!(["hot", "cold"]),
                json!("drinks"),
                json!([]),
                json!(["x"]),
                json!([["hot"]]),
            ],
            "members" => vec![
                json!([{"name": "李四", "id_number": "340524800101001"}]),
                json!([
                    {"name": "李四", "id_number": "340524800101001", "health_until": "2025-01-01"},
                    {"name": "", "id_number": ""},
                    {"name": "王五", "id_number": "440524188001010014"}
                ]),
                json!([{"name": "x"}]),
                json!([]),
                json!("bad"),
                json!([1]),
            ],
            "note" => vec![json!("备注\r\n第二行"), json!("  "), json!({"a": 1})],
            _ => vec![json!("x"), json!(null)],
        }
    }

    /// Either a few keys with plausible values, or a valid application with a few keys removed
    /// or changed (so that complete forms also parse often).
    fn plausible_input() -> impl Strategy<Value = Map<String, Value>> {
        let edit = (
            0..KEYS.len(),
            proptest::option::weighted(0.7, any::<prop::sample::Index>()),
        );
        let value = |k: usize, i: prop::sample::Index| {
            let values = pool(KEYS[k]);
            values[i.index(values.len())].clone()
        };
        prop_oneof![
            prop::collection::vec((0..KEYS.len(), any::<prop::sample::Index>()), 0..16).prop_map(
                move |choices| {
                    choices
                        .into_iter()
                        .map(|(k, i)| (KEYS[k].to_owned(), value(k, i)))
                        .collect()
                }
            ),
            prop::collection::vec(edit, 0..4).prop_map(move |edits| {
                let mut input = map(good_input());
                for (k, change) in edits {
                    match change {
                        Some(i) => input.insert(KEYS[k].to_owned(), value(k, i)),
                        None => input.remove(KEYS[k]),
                    };
                }
                input
            }),
        ]
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,24}".prop_map(Value::String),
            "[0-9 .+-]{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((arbitrary_key(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    fn arbitrary_key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(KEYS).prop_map(str::to_owned),
            prop::sample::select(&["name", "id_number", "health_until"][..])
                .prop_map(str::to_owned),
            "\\PC{0,12}",
        ]
    }

    fn arbitrary_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
        let name = prop_oneof![
            prop::sample::select(KEYS).prop_map(str::to_owned),
            (
                0usize..4,
                prop::sample::select(&["name", "id_number", "health_until", "x"][..])
            )
                .prop_map(|(i, c)| format!("members[{i}].{c}")),
            "[a-z_\\[\\]0-9.]{0,16}",
            "\\PC{0,12}",
        ];
        let value = prop_oneof![
            "\\PC{0,24}",
            prop::sample::select(
                &[
                    "hot",
                    "cold",
                    "person",
                    "company",
                    "2024-06-01",
                    "李四",
                    "340524800101001"
                ][..]
            )
            .prop_map(str::to_owned),
        ];
        prop::collection::vec((name, value), 0..20)
    }

    proptest! {
        #[test]
        fn parse_values_never_panics(
            entries in prop::collection::vec((arbitrary_key(), arbitrary_json()), 0..16),
        ) {
            let input: Map<String, Value> = entries.into_iter().collect();
            let spec = spec();
            let _ = spec.parse_values(&input, today());
            let _ = spec.parse_draft(&input, today());
            let conditions = FormSpec::parse_spec(CONDITIONS).unwrap();
            let _ = conditions.parse_values(&input, today());
        }

        #[test]
        fn parse_pairs_never_panics(input in arbitrary_pairs()) {
            let spec = spec();
            let _ = spec.parse_pairs(&input, today());
            if let Ok(data) = spec.parse_draft_pairs(&input, today()) {
                prop_assert_eq!(spec.parse_draft_pairs(&data.to_pairs(), today()), Ok(data.clone()));
                prop_assert_eq!(spec.parse_draft(&data.to_json_map(), today()), Ok(data));
            }
        }

        #[test]
        fn parsed_values_reparse_to_the_same_data(input in plausible_input()) {
            let spec = spec();
            for draft in [false, true] {
                let parsed = if draft {
                    spec.parse_draft(&input, today())
                } else {
                    spec.parse_values(&input, today())
                };
                if let Ok(data) = parsed {
                    let (json, html) = if draft {
                        (
                            spec.parse_draft(&data.to_json_map(), today()),
                            spec.parse_draft_pairs(&data.to_pairs(), today()),
                        )
                    } else {
                        (
                            spec.parse_values(&data.to_json_map(), today()),
                            spec.parse_pairs(&data.to_pairs(), today()),
                        )
                    };
                    prop_assert_eq!(json, Ok(data.clone()));
                    prop_assert_eq!(html, Ok(data.clone()));
                    // Stored JSON text, read back.
                    let text = serde_json::to_string(&data).unwrap();
                    let stored: Map<String, Value> = serde_json::from_str(&text).unwrap();
                    prop_assert_eq!(spec.parse_draft(&stored, today()), Ok(data));
                }
            }
        }

        #[test]
        fn numbers_round_trip_through_text(
            int in 0u64..1_000_000_000,
            frac in 0u32..1_000_000,
            negative in any::<bool>(),
        ) {
            let text = format!("{}{int}.{frac:06}", if negative { "-" } else { "" });
            let v = parse_number(&text, None, None, 6).unwrap();
            prop_assert_eq!(parse_number(&number_text(v), None, None, 6), Ok(v));
            prop_assert_eq!(one(json!({"type": "number", "decimals": 6}), number_json(v)), Ok(FieldValue::Number(v)));
        }

        #[test]
        fn phones_never_panic_and_canonical_forms_are_stable(
            s in "\\PC{0,30}",
            t in "[0-9()+ 转-]{0,24}",
            mobile in "1[3-9][0-9]{9}",
            area in prop_oneof![Just("010".to_owned()), "02[0-9]", "0[3-9][0-9]{2}"],
            local in "[2-9][0-9]{6,7}",
            ext in proptest::option::of("[0-9]{1,6}"),
        ) {
            for input in [&s, &t] {
                if let Some(p) = parse_phone(input) {
                    prop_assert_eq!(parse_phone(&p), Some(p.clone()));
                }
            }
            prop_assert_eq!(parse_phone(&mobile), Some(mobile.clone()));
            let landline = match &ext {
                Some(e) => format!("{area}-{local}-{e}"),
                None => format!("{area}-{local}"),
            };
            prop_assert_eq!(parse_phone(&landline), Some(landline.clone()));
        }
    }
}
