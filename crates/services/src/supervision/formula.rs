//! The scoring formula of the performance evaluation (绩效评估), as administrators write it:
//! arithmetic over the evaluation's indicators, for example
//!
//! ```text
//! clamp(0.4*on_time_rate + 0.2*online_rate + 0.3*satisfaction_rate + 0.1*followup_rate
//!       - 100*(red + 0.5*yellow + irregular)/finished, 0, 100)
//! ```
//!
//! - Numbers, the indicator names of [`VARIABLES`], `+ - * /`, unary minus, parentheses and
//!   the functions `min(a, b, …)`, `max(a, b, …)`, `clamp(x, lo, hi)`, `round(x)`.
//! - Division by zero gives 0 (a unit without finished cases is not punished by a formula
//!   that divides by them).
//! - [`Formula::parse`] names every unknown name and the position of a syntax mistake; a
//!   parsed formula always evaluates to a finite number.
//!
//! [`Scoring`] adds the grade thresholds: 优秀, 良好, 合格, else 不合格.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The indicators a formula may use, with what each means (rates are percentages, 0–100).
pub const VARIABLES: &[(&str, &str)] = &[
    ("finished", "办结件数"),
    ("on_time_rate", "按时办结率（%）"),
    ("early_rate", "提前办结率（%）"),
    ("overdue", "超期办结件数"),
    ("overdue_rate", "超期率（%）"),
    ("online_rate", "全程网办率（%）"),
    ("avg_days", "平均办理时间（工作日）"),
    ("avg_visits", "平均跑动次数"),
    ("ratings", "评价数"),
    ("satisfaction_rate", "满意率（%）"),
    ("bad_ratings", "差评数"),
    ("followup_rate", "实名差评整改率（%）"),
    ("warnings", "预警数"),
    ("yellow", "黄牌数"),
    ("red", "红牌数"),
    ("irregular", "违规信号数"),
    ("signals", "监察信号总数"),
];

/// The formula the platform starts with.
pub const STANDARD: &str = "clamp(0.35*on_time_rate + 0.10*early_rate + 0.20*online_rate \
     + 0.25*satisfaction_rate + 0.10*followup_rate \
     - 100*(red + 0.5*yellow + irregular)/finished, 0, 100)";

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Num(f64),
    Var(usize),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Min,
    Max,
    Clamp,
    Round,
}

/// What is wrong with a formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormulaError {
    /// A syntax mistake at a character position (0-based, in characters).
    Syntax {
        /// Where.
        at: usize,
        /// What was expected.
        expected: String,
    },
    /// Names that are neither indicators nor functions.
    Unknown(Vec<String>),
    /// A function called with the wrong number of arguments.
    Arity {
        /// The function.
        name: String,
        /// How many it takes.
        takes: String,
    },
    /// Empty or too long.
    Length,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormulaError::Syntax { at, expected } => {
                write!(f, "公式第 {} 个字符处应为{expected}", at + 1)
            }
            FormulaError::Unknown(names) => {
                write!(f, "未知的指标或函数：{}", names.join("、"))
            }
            FormulaError::Arity { name, takes } => write!(f, "函数 {name} 需要{takes}"),
            FormulaError::Length => write!(f, "公式不能为空，且不超过 2000 个字符"),
        }
    }
}

impl std::error::Error for FormulaError {}

/// The indicator values of one unit, by name (see [`VARIABLES`]).
#[derive(Debug, Clone, Default)]
pub struct Values(HashMap<&'static str, f64>);

impl Values {
    /// Sets an indicator (names not in [`VARIABLES`] are ignored).
    pub fn set(&mut self, name: &str, v: f64) {
        if let Some((n, _)) = VARIABLES.iter().find(|(n, _)| *n == name) {
            self.0.insert(n, if v.is_finite() { v } else { 0.0 });
        }
    }

    fn get(&self, i: usize) -> f64 {
        VARIABLES
            .get(i)
            .and_then(|(n, _)| self.0.get(n))
            .copied()
            .unwrap_or(0.0)
    }
}

impl Formula {
    /// Parses a formula.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.iter().all(|c| c.is_whitespace()) || chars.len() > 2000 {
            return Err(FormulaError::Length);
        }
        let mut p = Parser {
            s: chars,
            i: 0,
            unknown: Vec::new(),
            depth: 0,
        };
        let expr = p.expr()?;
        p.skip();
        if p.i < p.s.len() {
            return Err(p.expected("运算符或结尾"));
        }
        if !p.unknown.is_empty() {
            return Err(FormulaError::Unknown(p.unknown));
        }
        Ok(Formula {
            text: text.trim().to_owned(),
            expr,
        })
    }

    /// The formula as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its value for one unit: always finite.
    pub fn eval(&self, v: &Values) -> f64 {
        let x = eval(&self.expr, v);
        if x.is_finite() { x } else { 0.0 }
    }
}

fn eval(e: &Expr, v: &Values) -> f64 {
    let r = match e {
        Expr::Num(n) => *n,
        Expr::Var(i) => v.get(*i),
        Expr::Neg(a) => -eval(a, v),
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(a, v), eval(b, v));
            match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div if b == 0.0 => 0.0,
                Op::Div => a / b,
            }
        }
        Expr::Call(f, args) => {
            let xs: Vec<f64> = args.iter().map(|a| eval(a, v)).collect();
            match f {
                Func::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
                Func::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Func::Clamp => match xs.as_slice() {
                    [x, lo, hi] => x.max(*lo).min(*hi),
                    _ => 0.0,
                },
                Func::Round => xs.first().map_or(0.0, |x| x.round()),
            }
        }
    };
    // Overflow to infinity (1e308 * 10) or NaN stays out of every result.
    if r.is_finite() { r } else { 0.0 }
}

struct Parser {
    s: Vec<char>,
    i: usize,
    unknown: Vec<String>,
    depth: usize,
}

impl Parser {
    fn skip(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip();
        self.s.get(self.i).copied()
    }

    fn expected(&self, what: &str) -> FormulaError {
        FormulaError::Syntax {
            at: self.i,
            expected: what.to_owned(),
        }
    }

    fn expr(&mut self) -> Result<Expr, FormulaError> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(self.expected("更少的嵌套"));
        }
        let mut left = self.term()?;
        while let Some(c @ ('+' | '-')) = self.peek() {
            self.i += 1;
            let right = self.term()?;
            let op = if c == '+' { Op::Add } else { Op::Sub };
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.unary()?;
        while let Some(c @ ('*' | '/')) = self.peek() {
            self.i += 1;
            let right = self.unary()?;
            let op = if c == '*' { Op::Mul } else { Op::Div };
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        if self.peek() == Some('-') {
            self.i += 1;
            self.depth += 1;
            if self.depth > 64 {
                return Err(self.expected("更少的嵌套"));
            }
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        match self.peek() {
            Some('(') => {
                self.i += 1;
                let e = self.expr()?;
                if self.peek() != Some(')') {
                    return Err(self.expected("“)”"));
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.')
                {
                    self.i += 1;
                }
                let text: String = self.s[start..self.i].iter().collect();
                text.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .map(Expr::Num)
                    .ok_or(FormulaError::Syntax {
                        at: start,
                        expected: "数字".into(),
                    })
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    self.i += 1;
                }
                let name: String = self.s[start..self.i].iter().collect();
                if self.peek() == Some('(') {
                    self.i += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(')') {
                        loop {
                            args.push(self.expr()?);
                            match self.peek() {
                                Some(',') => self.i += 1,
                                Some(')') => break,
                                _ => return Err(self.expected("“,”或“)”")),
                            }
                        }
                    }
                    self.i += 1;
                    let (func, ok, takes) = match name.as_str() {
                        "min" => (Func::Min, !args.is_empty(), "至少 1 个参数"),
                        "max" => (Func::Max, !args.is_empty(), "至少 1 个参数"),
                        "clamp" => (Func::Clamp, args.len() == 3, "3 个参数（值, 下限, 上限）"),
                        "round" => (Func::Round, args.len() == 1, "1 个参数"),
                        _ => {
                            self.unknown.push(format!("{name}()"));
                            return Ok(Expr::Num(0.0));
                        }
                    };
                    if !ok {
                        return Err(FormulaError::Arity {
                            name,
                            takes: takes.into(),
                        });
                    }
                    return Ok(Expr::Call(func, args));
                }
                match VARIABLES.iter().position(|(n, _)| *n == name) {
                    Some(i) => Ok(Expr::Var(i)),
                    None => {
                        if !self.unknown.contains(&name) {
                            self.unknown.push(name);
                        }
                        Ok(Expr::Num(0.0))
                    }
                }
            }
            _ => Err(self.expected("数字、指标名、函数或“(”")),
        }
    }
}

/// A quarterly grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 优秀.
    Excellent,
    /// 良好.
    Good,
    /// 合格.
    Pass,
    /// 不合格.
    Fail,
}

impl Grade {
    /// Its Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Good => "良好",
            Grade::Pass => "合格",
            Grade::Fail => "不合格",
        }
    }

    /// Its English name.
    pub fn label_en(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Good => "good",
            Grade::Pass => "pass",
            Grade::Fail => "fail",
        }
    }
}

/// The formula and the lowest score of each grade, as administrators configure them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scoring {
    /// The formula's text.
    pub formula: String,
    /// Lowest score of 优秀.
    pub excellent: f64,
    /// Lowest score of 良好.
    pub good: f64,
    /// Lowest score of 合格.
    pub pass: f64,
}

impl Scoring {
    /// The platform's starting configuration: 90, 80 and 60.
    pub fn standard() -> Scoring {
        Scoring {
            formula: STANDARD.to_owned(),
            excellent: 90.0,
            good: 80.0,
            pass: 60.0,
        }
    }

    /// Every problem at once, by field (`formula`, `excellent`, `good`, `pass`), with the parsed
    /// formula when it is right.
    pub fn check(&self) -> Result<Formula, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let formula = Formula::parse(&self.formula)
            .map_err(|e| problems.push(("formula", e.to_string())))
            .ok();
        for (field, v) in [
            ("excellent", self.excellent),
            ("good", self.good),
            ("pass", self.pass),
        ] {
            if !v.is_finite() || !(-1e9..=1e9).contains(&v) {
                problems.push((field, "分数线须为有限数值".to_owned()));
            }
        }
        if self.excellent <= self.good {
            problems.push(("excellent", "“优秀”分数线须高于“良好”".to_owned()));
        }
        if self.good <= self.pass {
            problems.push(("good", "“良好”分数线须高于“合格”".to_owned()));
        }
        match formula {
            Some(f) if problems.is_empty() => Ok(f),
            _ => Err(problems),
        }
    }

    /// The grade of a score.
    pub fn grade(&self, score: f64) -> Grade {
        if score >= self.excellent {
            Grade::Excellent
        } else if score >= self.good {
            Grade::Good
        } else if score >= self.pass {
            Grade::Pass
        } else {
            Grade::Fail
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use proptest::prelude::*;

    fn values(pairs: &[(&str, f64)]) -> Values {
        let mut v = Values::default();
        for (n, x) in pairs {
            v.set(n, *x);
        }
        v
    }

    #[test]
    fn arithmetic_follows_precedence() {
        let f = Formula::parse("1 + 2 * 3 - (4 - 2) / 2").unwrap();
        assert_eq!(f.eval(&Values::default()), 6.0);
        let f = Formula::parse("-2 * -3 + --1").unwrap();
        assert_eq!(f.eval(&Values::default()), 7.0);
    }

    #[test]
    fn variables_and_functions() {
        let v = values(&[("on_time_rate", 95.0), ("red", 2.0), ("finished", 100.0)]);
        let f = Formula::parse("clamp(on_time_rate - 100*red/finished, 0, 90)").unwrap();
        assert_eq!(f.eval(&v), 90.0);
        let f = Formula::parse("min(on_time_rate, 50, 70) + max(red) + round(2.6)").unwrap();
        assert_eq!(f.eval(&v), 55.0);
    }

    #[test]
    fn division_by_zero_is_zero() {
        let f = Formula::parse("100 * red / finished").unwrap();
        assert_eq!(f.eval(&values(&[("red", 3.0)])), 0.0);
    }

    #[test]
    fn the_standard_formula_grades_a_good_unit_excellent() {
        let s = Scoring::standard();
        let f = s.check().unwrap();
        let v = values(&[
            ("finished", 1000.0),
            ("on_time_rate", 100.0),
            ("early_rate", 60.0),
            ("online_rate", 90.0),
            ("satisfaction_rate", 99.0),
            ("followup_rate", 100.0),
            ("yellow", 2.0),
        ]);
        let score = f.eval(&v);
        assert!((score - 93.65).abs() < 1e-9, "{score}");
        assert_eq!(s.grade(score), Grade::Excellent);
        assert_eq!(s.grade(85.0), Grade::Good);
        assert_eq!(s.grade(60.0), Grade::Pass);
        assert_eq!(s.grade(59.9), Grade::Fail);
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(
            Formula::parse("on_time + foo * 2 + foo").unwrap_err(),
            FormulaError::Unknown(vec!["on_time".into(), "foo".into()])
        );
        assert_eq!(
            Formula::parse("1 + * 2").unwrap_err(),
            FormulaError::Syntax {
                at: 4,
                expected: "数字、指标名、函数或“(”".into()
            }
        );
        assert!(matches!(
            Formula::parse("clamp(1, 2)"),
            Err(FormulaError::Arity { .. })
        ));
        assert!(matches!(
            Formula::parse("(1 + 2"),
            Err(FormulaError::Syntax { .. })
        ));
        assert!(matches!(
            Formula::parse("1 2"),
            Err(FormulaError::Syntax { .. })
        ));
        assert_eq!(Formula::parse("  ").unwrap_err(), FormulaError::Length);
        assert!(matches!(
            Formula::parse("1.2.3"),
            Err(FormulaError::Syntax { .. })
        ));
        assert!(Formula::parse(&"(".repeat(500)).is_err());
        assert!(Formula::parse(&"-".repeat(500)).is_err());
    }

    #[test]
    fn thresholds_must_descend() {
        let s = Scoring {
            formula: "on_time_rate".into(),
            excellent: 80.0,
            good: 80.0,
            pass: 90.0,
        };
        let problems = s.check().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, vec!["excellent", "good"]);
        let s = Scoring {
            formula: "bogus".into(),
            excellent: f64::NAN,
            ..Scoring::standard()
        };
        let fields: Vec<_> = s.check().unwrap_err().iter().map(|(f, _)| *f).collect();
        assert!(fields.contains(&"formula") && fields.contains(&"excellent"));
    }

    proptest! {
        /// Whatever is typed, parsing never panics; whatever parses evaluates to a finite
        /// number for any indicator values.
        #[test]
        fn parsing_never_panics_and_results_are_finite(
            text in "[a-z_()0-9.,+*/ -]{0,60}",
            xs in proptest::collection::vec(-1e300f64..1e300, VARIABLES.len()),
        ) {
            if let Ok(f) = Formula::parse(&text) {
                let mut v = Values::default();
                for ((n, _), x) in VARIABLES.iter().zip(&xs) {
                    v.set(n, *x);
                }
                prop_assert!(f.eval(&v).is_finite());
            }
        }

        /// A weighted sum of indicators evaluates to the sum computed directly.
        #[test]
        fn weighted_sums_are_exact(
            w in proptest::collection::vec(0u32..100, 4),
            x in proptest::collection::vec(0u32..=100, 4),
        ) {
            let names = ["on_time_rate", "online_rate", "satisfaction_rate", "early_rate"];
            let text = names
                .iter()
                .zip(&w)
                .map(|(n, w)| format!("{w}*{n}"))
                .collect::<Vec<_>>()
                .join(" + ");
            let f = Formula::parse(&text).unwrap();
            let mut v = Values::default();
            for (n, x) in names.iter().zip(&x) {
                v.set(n, f64::from(*x));
            }
            let direct: f64 = w.iter().zip(&x).map(|(w, x)| f64::from(*w) * f64::from(*x)).sum();
            prop_assert_eq!(f.eval(&v), direct);
        }
    }
}
