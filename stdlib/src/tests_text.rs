//! Unit tests of the text and number builtins (format, round with digits, padding, parsing,
//! the Int functions), called through a VM: types of results and edge cases the
//! conformance cases do not reach.

use crate::tests::{err, meth, ok, vm};
use walia_runtime::Value;

fn s(text: &str) -> Value {
    Value::str(text)
}

#[test]
fn format_keeps_result_types_and_counts_characters() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "format", &[s("{:^5}"), s("é")]),
        "String \"  é  \""
    );
    assert_eq!(
        ok(&mut vm, "format", &[s("{:*>4}"), Value::Int(7)]),
        "String \"***7\""
    );
    assert_eq!(
        ok(&mut vm, "format", &[s("{:,}"), Value::Int(i64::MIN)]),
        "String \"-9,223,372,036,854,775,808\""
    );
    assert_eq!(
        ok(&mut vm, "format", &[s("{:b}"), Value::Int(i64::MIN)]),
        format!("String \"-1{}\"", "0".repeat(63))
    );
    assert_eq!(
        ok(&mut vm, "format", &[s("{:.2f}"), Value::Float(-0.001)]),
        "String \"-0.00\""
    );
    assert_eq!(ok(&mut vm, "format", &[s("{}"), s("{}")]), "String \"{}\"");
    let m = meth(&mut vm, &s("{0}{0}"), "format", &[Value::Int(1)]);
    assert_eq!(
        m.map(|v| walia_runtime::api::repr(&v)).ok(),
        Some("\"11\"".into())
    );
}

#[test]
fn format_errors_name_the_placeholder() {
    let mut vm = vm();
    assert!(err(&mut vm, "format", &[s("{:d}"), Value::Float(1.0)]).contains("'{:d}'"));
    assert!(
        err(&mut vm, "format", &[s("{:5.}"), Value::Int(1)]).contains("'.' without a precision")
    );
    assert!(
        err(&mut vm, "format", &[s("{a-b}"), Value::Int(1)]).contains("not a placeholder name")
    );
    assert!(err(&mut vm, "format", &[s("{99999999999999999999}")]).contains("no value for"));
}

#[test]
fn round_with_digits_is_a_float_rounded_as_printed() {
    let mut vm = vm();
    let r = |vm: &mut walia_runtime::Vm, x: f64, d: i64| {
        ok(vm, "round", &[Value::Float(x), Value::Int(d)])
    };
    assert_eq!(r(&mut vm, 0.5, 0), "Float 1.0");
    assert_eq!(r(&mut vm, 99.95, 1), "Float 100.0");
    assert_eq!(r(&mut vm, 0.045, 2), "Float 0.05");
    assert_eq!(r(&mut vm, 5.5, -1), "Float 10.0");
    assert_eq!(r(&mut vm, 4.5, -1), "Float 0.0");
    assert_eq!(r(&mut vm, 1.5e-10, 10), "Float 2e-10");
    assert_eq!(r(&mut vm, 123456.0, -3), "Float 123000.0");
    assert_eq!(r(&mut vm, f64::NAN, 2), "Float nan");
    assert_eq!(
        ok(&mut vm, "round", &[Value::Int(15), Value::Int(-1)]),
        "Float 20.0"
    );
    assert_eq!(ok(&mut vm, "round", &[Value::Float(2.5)]), "Int 3");
    assert!(err(&mut vm, "round", &[Value::Float(1.0), s("2")]).contains("argument 2"));
}

#[test]
fn parse_int_edges() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "parse_int", &[s("-0x8000000000000000")]),
        format!("Int {}", i64::MIN)
    );
    assert!(err(&mut vm, "parse_int", &[s("0x")]).contains("cannot parse \"0x\""));
    assert!(err(&mut vm, "parse_int", &[s("--1")]).contains("cannot parse"));
    assert!(err(&mut vm, "parse_int", &[s("1 2")]).contains("cannot parse"));
    assert!(err(&mut vm, "parse_int", &[s("0b2")]).contains("cannot parse"));
    assert_eq!(
        ok(&mut vm, "parse_int", &[s("0b1"), Value::Int(16)]),
        "Int 177"
    );
    assert!(err(&mut vm, "parse_int", &[s("1"), Value::Float(10.0)]).contains("argument 2"));
}

#[test]
fn int_functions_match_the_operators() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "div", &[Value::Int(i64::MIN), Value::Int(1)]),
        format!("Int {}", i64::MIN)
    );
    assert!(err(&mut vm, "div", &[Value::Int(i64::MIN), Value::Int(-1)]).contains("overflow"));
    assert!(
        err(&mut vm, "div", &[Value::Float(1.0), Value::Float(0.0)]).contains("division by zero")
    );
    assert_eq!(
        ok(&mut vm, "shl", &[Value::Int(-1), Value::Int(63)]),
        format!("Int {}", i64::MIN)
    );
    assert!(
        err(&mut vm, "shl", &[Value::Int(1), Value::Int(63)]).contains("integer overflow in 'shl'")
    );
    assert_eq!(
        ok(&mut vm, "shr", &[Value::Int(i64::MIN), Value::Int(63)]),
        "Int -1"
    );
    assert_eq!(
        ok(&mut vm, "bit_not", &[Value::Int(i64::MAX)]),
        format!("Int {}", i64::MIN)
    );
}

#[test]
fn padding_and_characters() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "pad_left", &[Value::Bool(true), Value::Int(6)]),
        "String \"  true\""
    );
    assert_eq!(
        ok(&mut vm, "center", &[s(""), Value::Int(3), s("x")]),
        "String \"xxx\""
    );
    assert_eq!(
        ok(&mut vm, "chars", &[s("a\u{301}")]),
        "List [\"a\", \"\u{301}\"]"
    );
    assert_eq!(
        ok(&mut vm, "chr", &[Value::Int(0x10FFFF)]),
        "String \"\u{10FFFF}\""
    );
    assert_eq!(ok(&mut vm, "split_lines", &[s("a\rb")]), "List [\"a\\rb\"]");
    assert_eq!(
        ok(&mut vm, "repeat", &[s(""), Value::Int(i64::MAX)]),
        "String \"\""
    );
}

#[test]
fn format_writes_ints_and_strings_in_place_with_every_padding() {
    // The decimal digits of an Int and a string argument go straight into the result:
    // extremes, signs, zero padding and truncation still come out as Python's.
    let mut vm = vm();
    let cases: [(&str, Value, &str); 9] = [
        ("{}", Value::Int(i64::MIN), "-9223372036854775808"),
        ("{}", Value::Int(0), "0"),
        ("{:>6}", Value::Int(-42), "   -42"),
        ("{:06d}", Value::Int(-42), "-00042"),
        ("{:+d}", Value::Int(7), "+7"),
        ("{:02d}", Value::Int(5), "05"),
        ("{:<4}|", s("ab"), "ab  |"),
        ("{:.2}", s("abc"), "ab"),
        ("{:>3}", s("abcd"), "abcd"),
    ];
    for (template, v, want) in cases {
        assert_eq!(
            ok(&mut vm, "format", &[s(template), v]),
            format!("String \"{want}\""),
            "{template}"
        );
    }
}

#[test]
fn split_on_one_character_and_join_of_a_list_agree_with_the_general_paths() {
    let mut vm = vm();
    // A one-byte separator, empty pieces at both ends, and a non-ASCII text around it.
    assert_eq!(
        ok(&mut vm, "split", &[s(",é,,b,"), s(",")]),
        "List [\"\", \"é\", \"\", \"b\", \"\"]"
    );
    assert_eq!(
        ok(&mut vm, "split", &[s("aXYbXY"), s("XY")]),
        "List [\"a\", \"b\", \"\"]"
    );
    let items = Value::list(vec![
        s("a"),
        Value::Int(1),
        Value::Nil,
        Value::list(vec![s("x")]),
    ]);
    assert_eq!(
        ok(&mut vm, "join", &[items, s(", ")]),
        "String \"a, 1, nil, [\\\"x\\\"]\""
    );
    assert_eq!(
        ok(&mut vm, "join", &[Value::list(vec![]), s("-")]),
        "String \"\""
    );
}
