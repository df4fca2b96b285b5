//! Unit tests of the outside-world builtins' internals: the pattern cache's bound, time
//! conversions at the edges, per-VM random state, and `exit`'s error kind.

use crate::tests::{call, err, ok, vm};
use walia_runtime::Value;
use walia_runtime::api::ErrorKind;

fn s(text: &str) -> Value {
    Value::str(text)
}

#[test]
fn the_pattern_cache_stays_bounded_and_keeps_answering() {
    let mut vm = vm();
    for i in 0..500 {
        let pattern = format!("x{{{i}}}");
        let text = "x".repeat(i);
        assert_eq!(
            ok(
                &mut vm,
                "regex_matches",
                &[s(&text), s(&format!("^{pattern}$"))]
            ),
            "Bool true"
        );
        let cached = vm.extension::<crate::regex::PatternCache>().0.len();
        assert!(
            cached <= crate::regex::CACHED_PATTERNS,
            "{cached} patterns kept"
        );
    }
    // The same pattern again, after the cache was emptied several times.
    assert_eq!(
        ok(&mut vm, "regex_find", &[s("ab12"), s("\\d+")]),
        "String \"12\""
    );
    assert_eq!(
        ok(&mut vm, "regex_find", &[s("cd34"), s("\\d+")]),
        "String \"34\""
    );
}

#[test]
fn an_invalid_pattern_is_never_cached() {
    let mut vm = vm();
    for _ in 0..2 {
        let e = err(&mut vm, "regex_split", &[s("a"), s("[")]);
        assert!(e.contains("'regex_split': invalid pattern"), "{e}");
    }
}

#[test]
fn times_convert_at_the_edges_of_the_calendar() {
    let mut vm = vm();
    // jiff's range: a day short of years -9999 and 9999 at either end.
    let (low, high) = (-377705023201_i64, 253402207200_i64);
    for (t, text) in [
        (low, "-009999-01-02T01:59:59Z"),
        (high, "9999-12-30T22:00:00Z"),
    ] {
        let written = ok(&mut vm, "date_format", &[Value::Int(t)]);
        assert_eq!(written, format!("String \"{text}\""));
        assert_eq!(
            ok(&mut vm, "date_parse", &[s(text)]),
            format!("Float {t}.0")
        );
    }
    for t in [low - 1, high + 1] {
        let e = err(&mut vm, "date_format", &[Value::Int(t)]);
        assert!(e.contains("cannot make a date"), "{e}");
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
        let e = err(&mut vm, "date_parts", &[Value::Float(bad)]);
        assert!(e.contains("cannot make a date"), "{e}");
    }
    // Microseconds survive the Float.
    assert_eq!(
        ok(&mut vm, "date_format", &[Value::Float(1714566600.000001)]),
        "String \"2024-05-01T12:30:00.000001Z\""
    );
}

#[test]
fn each_vm_has_its_own_generator() {
    let (mut a, mut b) = (vm(), vm());
    call(&mut a, "random_seed", &[Value::Int(3)]).expect("seed");
    call(&mut b, "random_seed", &[Value::Int(3)]).expect("seed");
    let draw =
        |vm: &mut walia_runtime::Vm| ok(vm, "random_int", &[Value::Int(0), Value::Int(1 << 40)]);
    let from_a: Vec<String> = (0..5).map(|_| draw(&mut a)).collect();
    let from_b: Vec<String> = (0..5).map(|_| draw(&mut b)).collect();
    assert_eq!(from_a, from_b);
    // The whole Int range is allowed.
    let all = [Value::Int(i64::MIN), Value::Int(i64::MAX)];
    assert!(ok(&mut a, "random_int", &all).starts_with("Int "));
}

#[test]
fn exit_is_an_error_of_its_own_kind() {
    let mut vm = vm();
    let e = call(&mut vm, "exit", &[Value::Int(255)]).expect_err("exit unwinds");
    assert_eq!(e.kind, ErrorKind::Exit(255));
    assert_eq!(e.exit_code(), Some(255));
    let e = call(&mut vm, "exit", &[]).expect_err("exit unwinds");
    assert_eq!(e.kind, ErrorKind::Exit(0));
    let e = call(&mut vm, "exit", &[Value::Int(-1)]).expect_err("a bad code");
    assert_eq!(e.kind, ErrorKind::Script);
    assert_eq!(e.exit_code(), None);
}

#[test]
fn env_names_that_cannot_exist_are_nil() {
    let mut vm = vm();
    for name in ["", "A=B", "NUL\0"] {
        assert_eq!(ok(&mut vm, "env", &[s(name)]), "Nil nil", "{name:?}");
    }
}
