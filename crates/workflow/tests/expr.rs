#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Conditions: parsing with positions, evaluation, and no panics on any input.

mod common;

use common::vars;
use serde_json::json;
use yiwang_workflow::expr::{EvalError, Expr};

fn test(src: &str, v: &str) -> Result<bool, EvalError> {
    Expr::parse(src).unwrap().test(&vars(v))
}

#[test]
fn modeler_styles() {
    assert_eq!(test("${amount > 1000}", r#"{"amount": 5000}"#), Ok(true));
    assert_eq!(test("#{amount > 1000}", r#"{"amount": 10}"#), Ok(false));
    assert_eq!(
        test(
            r#"amount > 1000 && region == "430100""#,
            r#"{"amount": 1001, "region": "430100"}"#
        ),
        Ok(true)
    );
    assert_eq!(
        test(
            r#"amount > 1000 && region == '430100'"#,
            r#"{"amount": 1001, "region": "430200"}"#
        ),
        Ok(false)
    );
    assert_eq!(
        test(
            "!approved || (a + b) * 2 >= 10 - 1",
            r#"{"approved": true, "a": 2, "b": 3}"#
        ),
        Ok(true)
    );
    assert_eq!(test("a / 4 == 0.5", r#"{"a": 2}"#), Ok(true));
    assert_eq!(test("-a < 0 and not false", r#"{"a": 2}"#), Ok(true));
    assert_eq!(
        test("case.amount ge 3", r#"{"case": {"amount": 3}}"#),
        Ok(true)
    );
    assert_eq!(test("x == null", r#"{"x": null}"#), Ok(true));
    assert_eq!(test("1 + 2 * 3 == 7", "{}"), Ok(true));
}

#[test]
fn missing_variable_is_an_error_not_false() {
    assert_eq!(
        test("amount > 1000", "{}"),
        Err(EvalError::MissingVariable("amount".into()))
    );
    assert_eq!(
        test("case.x > 1", r#"{"case": {}}"#),
        Err(EvalError::MissingVariable("case.x".into()))
    );
    // Short-circuit: the right side is not needed.
    assert_eq!(test("false && amount > 1", "{}"), Ok(false));
}

#[test]
fn type_errors_and_arithmetic() {
    assert!(matches!(
        test(r#"a > "x""#, r#"{"a": 1}"#),
        Err(EvalError::Type { .. })
    ));
    assert!(matches!(
        test("a / 0 == 1", r#"{"a": 1}"#),
        Err(EvalError::Arithmetic(_))
    ));
    assert!(matches!(
        test("a + 1", r#"{"a": 1}"#),
        Err(EvalError::NotBoolean(_))
    ));
    assert_eq!(
        Expr::parse(r#""a" + "b""#).unwrap().eval(&vars("{}")),
        Ok(json!("ab"))
    );
}

#[test]
fn parse_errors_have_positions() {
    let e = Expr::parse("${amount > }").unwrap_err();
    assert_eq!(e.pos, 11);
    let e = Expr::parse("amount >> 1").unwrap_err();
    assert_eq!(e.pos, 8);
    assert_eq!(Expr::parse("a # b").unwrap_err().pos, 2);
    assert!(Expr::parse("(a").is_err());
    assert!(Expr::parse("${a").is_err());
    assert!(Expr::parse("\"abc").is_err());
    assert!(Expr::parse("").is_err());
    assert!(Expr::parse("a b").is_err());
    assert!(Expr::parse(&"(".repeat(10_000)).is_err());
    assert!(Expr::parse(&"!".repeat(3000)).is_err());
    assert!(Expr::parse(&vec!["a"; 1000].join("+")).is_err());
}

proptest::proptest! {
    #[test]
    fn never_panics(src in "[a-z0-9 ()!&|=<>+*/.\"'${}-]{0,80}", a in proptest::num::f64::ANY, s in ".{0,5}") {
        let mut v = vars("{}");
        v.insert("a".into(), serde_json::Number::from_f64(a).map_or(json!(null), serde_json::Value::Number));
        v.insert("b".into(), json!(s));
        v.insert("c".into(), json!(true));
        if let Ok(e) = Expr::parse(&src) {
            let _ = e.eval(&v);
            let _ = e.test(&v);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(src in ".{0,120}") {
        if let Ok(e) = Expr::parse(&src) {
            let _ = e.test(&vars(r#"{"a": 1}"#));
        }
    }
}
