//! Conditions as modelers write them: `${amount > 1000}` (Camunda/Flowable) or plain
//! `amount > 1000 && region == "430100"`. Parsed at deployment ([`Expr::parse`], errors with a
//! character position) and evaluated at run time against the process variables
//! ([`Expr::eval`]); a missing variable is an evaluation error, never a silent `false`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// Longest expression accepted, in characters.
pub const MAX_LEN: usize = 4096;
/// Deepest expression tree accepted.
pub const MAX_DEPTH: usize = 128;

/// A condition that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("表达式第 {pos} 个字符处有误 / expression error at character {pos}: {message}")]
pub struct ExprError {
    /// Character position (0-based) in the text as written.
    pub pos: usize,
    /// What is wrong.
    pub message: String,
}

/// A condition that cannot be evaluated against the variables at hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The variable is not set.
    #[error("变量 {0} 不存在 / variable {0} is not set")]
    MissingVariable(String),
    /// An operator got operands of the wrong type.
    #[error("运算 {op} 的操作数类型不对 / operator {op} cannot take {left} and {right}")]
    Type {
        op: String,
        left: String,
        right: String,
    },
    /// Division by zero or a result that is not a finite number.
    #[error("算术错误 / arithmetic error: {0}")]
    Arithmetic(String),
    /// A condition that is not `true` or `false`.
    #[error("条件的结果不是布尔值 / condition gave {0}, not a boolean")]
    NotBoolean(String),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Or => "||",
            Op::And => "&&",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A literal number, string, boolean or null.
    Lit(Value),
    /// A variable, possibly with a dotted path (`case.amount`).
    Var(Vec<String>),
    /// `!e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// A binary operation.
    Bin(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Sym(&'static str),
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |pos: usize, m: &str| ExprError {
        pos,
        message: m.to_owned(),
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let n: f64 = s
                .parse()
                .map_err(|_| err(start, "数字格式不对 / malformed number"))?;
            out.push((start, Tok::Num(n)));
        } else if c == '"' || c == '\'' {
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(err(start, "字符串没有结束引号 / unterminated string")),
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some(e) => s.push(*e),
                            None => return Err(err(i, "字符串没有结束引号 / unterminated string")),
                        }
                        i += 2;
                    }
                    Some(q) if *q == c => {
                        i += 1;
                        break;
                    }
                    Some(x) => {
                        s.push(*x);
                        i += 1;
                    }
                }
            }
            out.push((start, Tok::Str(s)));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '$'
                    || chars[i] == '.')
            {
                i += 1;
            }
            out.push((start, Tok::Ident(chars[start..i].iter().collect())));
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|s| *s == two);
            let sym = match sym {
                Some(s) => s,
                None => match c {
                    '<' => "<",
                    '>' => ">",
                    '!' => "!",
                    '+' => "+",
                    '-' => "-",
                    '*' => "*",
                    '/' => "/",
                    '(' => "(",
                    ')' => ")",
                    _ => {
                        return Err(err(
                            start,
                            &format!("无法识别的字符 {c:?} / unexpected character {c:?}"),
                        ));
                    }
                },
            };
            i += sym.len();
            out.push((start, Tok::Sym(sym)));
        }
    }
    Ok(out)
}

struct P {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
    offset: usize,
}

impl P {
    fn pos(&self) -> usize {
        self.offset + self.toks.get(self.i).map_or(self.end, |t| t.0)
    }
    fn err(&self, m: &str) -> ExprError {
        ExprError {
            pos: self.pos(),
            message: m.to_owned(),
        }
    }
    fn peek_op(&self, table: &[(&str, Op)]) -> Option<Op> {
        let t = self.toks.get(self.i)?;
        table.iter().find_map(|(s, op)| match &t.1 {
            Tok::Sym(x) if x == s => Some(*op),
            Tok::Ident(x) if x == s => Some(*op),
            _ => None,
        })
    }
    fn level(&mut self, lvl: usize, depth: usize) -> Result<(Expr, usize), ExprError> {
        const LEVELS: [&[(&str, Op)]; 5] = [
            &[("||", Op::Or), ("or", Op::Or)],
            &[("&&", Op::And), ("and", Op::And)],
            &[
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("eq", Op::Eq),
                ("ne", Op::Ne),
            ],
            &[
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("<", Op::Lt),
                (">", Op::Gt),
                ("le", Op::Le),
                ("ge", Op::Ge),
                ("lt", Op::Lt),
                ("gt", Op::Gt),
            ],
            &[("+", Op::Add), ("-", Op::Sub)],
        ];
        let table: &[(&str, Op)] = match LEVELS.get(lvl) {
            Some(t) => t,
            None if lvl == 5 => &[("*", Op::Mul), ("/", Op::Div), ("div", Op::Div)],
            None => return self.unary(depth),
        };
        let (mut left, mut d) = self.level(lvl + 1, depth)?;
        while let Some(op) = self.peek_op(table) {
            self.i += 1;
            let (right, rd) = self.level(lvl + 1, depth)?;
            d = d.max(rd) + 1;
            if d > MAX_DEPTH {
                return Err(self.err("表达式太复杂 / expression too deep"));
            }
            left = Expr::Bin(Box::new(left), op, Box::new(right));
        }
        Ok((left, d))
    }
    fn unary(&mut self, depth: usize) -> Result<(Expr, usize), ExprError> {
        if depth > MAX_DEPTH {
            return Err(self.err("表达式太复杂 / expression too deep"));
        }
        let Some((_, t)) = self.toks.get(self.i).cloned() else {
            return Err(self.err("表达式不完整 / unexpected end of expression"));
        };
        self.i += 1;
        match t {
            Tok::Sym("!") => self
                .unary(depth + 1)
                .map(|(e, d)| (Expr::Not(Box::new(e)), d + 1)),
            Tok::Ident(w) if w == "not" => self
                .unary(depth + 1)
                .map(|(e, d)| (Expr::Not(Box::new(e)), d + 1)),
            Tok::Sym("-") => self
                .unary(depth + 1)
                .map(|(e, d)| (Expr::Neg(Box::new(e)), d + 1)),
            Tok::Sym("(") => {
                let (e, d) = self.level(0, depth + 1)?;
                if !matches!(self.toks.get(self.i), Some((_, Tok::Sym(")")))) {
                    return Err(self.err("缺少右括号 / expected )"));
                }
                self.i += 1;
                Ok((e, d + 1))
            }
            Tok::Num(n) => Number::from_f64(n)
                .map(|n| (Expr::Lit(Value::Number(n)), 1))
                .ok_or_else(|| self.err("数字太大 / number out of range")),
            Tok::Str(s) => Ok((Expr::Lit(Value::String(s)), 1)),
            Tok::Ident(w) => match w.as_str() {
                "true" => Ok((Expr::Lit(Value::Bool(true)), 1)),
                "false" => Ok((Expr::Lit(Value::Bool(false)), 1)),
                "null" => Ok((Expr::Lit(Value::Null), 1)),
                _ => {
                    let path: Vec<String> = w.split('.').map(str::to_owned).collect();
                    if path.iter().any(String::is_empty) {
                        self.i -= 1;
                        return Err(self.err("变量名不对 / malformed variable name"));
                    }
                    Ok((Expr::Var(path), 1))
                }
            },
            Tok::Sym(_) => {
                self.i -= 1;
                Err(self.err("此处需要一个值 / expected a value"))
            }
        }
    }
}

impl Expr {
    /// Parse a condition; `${…}` and `#{…}` wrappers are accepted.
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        if src.chars().count() > MAX_LEN {
            return Err(ExprError {
                pos: MAX_LEN,
                message: "表达式太长 / expression too long".into(),
            });
        }
        let lead = src.len() - src.trim_start().len();
        let t = src.trim();
        let (inner, offset) = match t.strip_prefix("${").or_else(|| t.strip_prefix("#{")) {
            Some(rest) => match rest.strip_suffix('}') {
                Some(inner) => (inner, src[..lead].chars().count() + 2),
                None => {
                    return Err(ExprError {
                        pos: src.chars().count(),
                        message: "缺少 } / expected }".into(),
                    });
                }
            },
            None => (t, src[..lead].chars().count()),
        };
        let toks = lex(inner).map_err(|e| ExprError {
            pos: e.pos + offset,
            ..e
        })?;
        let mut p = P {
            end: inner.chars().count(),
            toks,
            i: 0,
            offset,
        };
        let (e, _) = p.level(0, 0)?;
        if p.i < p.toks.len() {
            return Err(p.err("多余的内容 / unexpected token"));
        }
        Ok(e)
    }

    /// Evaluate against the variables.
    pub fn eval(&self, vars: &Map<String, Value>) -> Result<Value, EvalError> {
        match self {
            Expr::Lit(v) => Ok(v.clone()),
            Expr::Var(path) => {
                let mut it = path.iter();
                let first = it.next().map(String::as_str).unwrap_or_default();
                let mut v = vars
                    .get(first)
                    .ok_or_else(|| EvalError::MissingVariable(path.join(".")))?;
                for k in it {
                    v = v
                        .get(k.as_str())
                        .ok_or_else(|| EvalError::MissingVariable(path.join(".")))?;
                }
                Ok(v.clone())
            }
            Expr::Not(e) => match e.eval(vars)? {
                Value::Bool(b) => Ok(Value::Bool(!b)),
                other => Err(type_err("!", &other, &Value::Null)),
            },
            Expr::Neg(e) => match e.eval(vars)? {
                Value::Number(n) => num(-n.as_f64().unwrap_or_default()),
                other => Err(type_err("-", &other, &Value::Null)),
            },
            Expr::Bin(l, op, r) => {
                let op = *op;
                let lv = l.eval(vars)?;
                match (op, &lv) {
                    (Op::And, Value::Bool(false)) => return Ok(Value::Bool(false)),
                    (Op::Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
                    _ => {}
                }
                let rv = r.eval(vars)?;
                binary(op, &lv, &rv)
            }
        }
    }

    /// Evaluate as a condition: the result must be a boolean.
    pub fn test(&self, vars: &Map<String, Value>) -> Result<bool, EvalError> {
        match self.eval(vars)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError::NotBoolean(other.to_string())),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_err(op: &str, l: &Value, r: &Value) -> EvalError {
    EvalError::Type {
        op: op.to_owned(),
        left: kind(l).to_owned(),
        right: kind(r).to_owned(),
    }
}

fn num(x: f64) -> Result<Value, EvalError> {
    Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| EvalError::Arithmetic(format!("{x}")))
}

fn binary(op: Op, l: &Value, r: &Value) -> Result<Value, EvalError> {
    use Value::{Bool, Number as N, String as S};
    let te = || type_err(op.symbol(), l, r);
    match op {
        Op::And | Op::Or => match (l, r) {
            (Bool(_), Bool(b)) => Ok(Bool(*b)),
            _ => Err(te()),
        },
        Op::Eq | Op::Ne => {
            let eq = match (l, r) {
                (N(a), N(b)) => a.as_f64() == b.as_f64(),
                _ => l == r,
            };
            Ok(Bool(eq == (op == Op::Eq)))
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let ord = match (l, r) {
                (N(a), N(b)) => a
                    .as_f64()
                    .unwrap_or_default()
                    .partial_cmp(&b.as_f64().unwrap_or_default()),
                (S(a), S(b)) => Some(a.cmp(b)),
                _ => None,
            }
            .ok_or_else(te)?;
            use std::cmp::Ordering::{Equal, Greater, Less};
            Ok(Bool(match op {
                Op::Lt => ord == Less,
                Op::Le => ord != Greater,
                Op::Gt => ord == Greater,
                _ => ord != Less || ord == Equal,
            }))
        }
        Op::Add => match (l, r) {
            (N(a), N(b)) => num(a.as_f64().unwrap_or_default() + b.as_f64().unwrap_or_default()),
            (S(a), S(b)) => Ok(S(format!("{a}{b}"))),
            _ => Err(te()),
        },
        Op::Sub | Op::Mul | Op::Div => match (l, r) {
            (N(a), N(b)) => {
                let (a, b) = (
                    a.as_f64().unwrap_or_default(),
                    b.as_f64().unwrap_or_default(),
                );
                match op {
                    Op::Sub => num(a - b),
                    Op::Mul => num(a * b),
                    _ if b == 0.0 => Err(EvalError::Arithmetic("除以零 / division by zero".into())),
                    _ => num(a / b),
                }
            }
            _ => Err(te()),
        },
    }
}
