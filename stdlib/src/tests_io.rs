//! Unit tests of the JSON and file builtins.

#![allow(clippy::cloned_ref_to_slice_refs)]

use crate::tests::*;
use walia_runtime::Value;
use walia_runtime::api::repr;

#[test]
fn json_parse_values() {
    let mut vm = vm();
    assert_eq!(
        ok(
            &mut vm,
            "json_parse",
            &[s(
                r#"{"b": [1, 2.5, null, true], "a": "x\u00e9", "c": 1e2, "d": 1.0}"#
            )]
        ),
        "Map {\"b\": [1, 2.5, nil, true], \"a\": \"xé\", \"c\": 100.0, \"d\": 1.0}"
    );
    assert_eq!(ok(&mut vm, "json_parse", &[s("-7")]), "Int -7");
    assert_eq!(ok(&mut vm, "json_parse", &[s("null")]), "Nil nil");
    assert_eq!(
        err(&mut vm, "json_parse", &[s("123456789012345678901")]),
        "'json_parse': integer 123456789012345678901 does not fit in 64 bits"
    );
    assert_eq!(ok(&mut vm, "json_parse", &[s("1e400")]), "Float inf");
    assert_eq!(ok(&mut vm, "json_parse", &[s("-1e400")]), "Float -inf");
    assert_eq!(
        err(&mut vm, "json_parse", &[s("[1, 2")]),
        "invalid JSON at line 1 column 5: EOF while parsing a list"
    );
    assert!(
        err(&mut vm, "json_parse", &[s("{\n  \"a\": x}")])
            .starts_with("invalid JSON at line 2 column 8")
    );
    let deep = "[".repeat(100_000);
    assert!(err(&mut vm, "json_parse", &[s(&deep)]).contains("recursion limit"));
    assert!(err(&mut vm, "json_parse", &[i(1)]).contains("got Int"));
}

#[test]
fn json_str_values() {
    let mut vm = vm();
    let v = map(&[
        ("k", list(vec![i(1), Value::Nil])),
        ("f", f(2.0)),
        ("s", s("a\"\n\u{1}é")),
    ]);
    assert_eq!(
        ok(&mut vm, "json_str", &[v]),
        "String \"{\\\"k\\\":[1,null],\\\"f\\\":2.0,\\\"s\\\":\\\"a\\\\\\\"\\\\n\\\\u0001é\\\"}\""
    );
    let plain = call(
        &mut vm,
        "json_str",
        &[map(&[("k", list(vec![i(1), Value::Nil]))])],
    )
    .unwrap();
    assert_eq!(walia_runtime::api::display(&plain), r#"{"k":[1,null]}"#);
    let m = call(&mut vm, "Map", &[]).unwrap();
    meth(&mut vm, &m, "set", &[i(1), Value::Bool(false)]).unwrap();
    let r = call(&mut vm, "json_str", &[m]).unwrap();
    assert_eq!(walia_runtime::api::display(&r), r#"{"1":false}"#);
    assert!(err(&mut vm, "json_str", &[f(f64::NAN)]).contains("cannot encode nan"));
    assert!(
        err(&mut vm, "json_str", &[list(vec![f(f64::INFINITY)])]).contains("cannot encode inf")
    );
    assert!(err(&mut vm, "json_str", &[Value::range(0, 1)]).contains("Range"));
    let cyc = list(vec![]);
    if let Value::List(l) = &cyc {
        l.items.borrow_mut().push(cyc.clone());
    }
    assert!(err(&mut vm, "json_str", std::slice::from_ref(&cyc)).contains("nested too deeply"));
    if let Value::List(l) = &cyc {
        l.items.borrow_mut().clear();
    }
    // Round trip.
    let text = s(r#"{"a":[1,2.5,"x",null,{"b":true}]}"#);
    let parsed = call(&mut vm, "json_parse", &[text.clone()]).unwrap();
    let back = call(&mut vm, "json_str", &[parsed]).unwrap();
    assert_eq!(repr(&back), repr(&text));
}

#[test]
fn files_round_trip_and_errors() {
    let mut vm = vm();
    let dir = std::env::temp_dir().join(format!("walia-stdlib-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.txt");
    let p = s(path.to_str().unwrap());
    assert_eq!(ok(&mut vm, "file_exists", &[p.clone()]), "Bool false");
    assert_eq!(
        ok(&mut vm, "write_file", &[p.clone(), s("héllo\n")]),
        "Nil nil"
    );
    assert_eq!(ok(&mut vm, "append_file", &[p.clone(), i(42)]), "Nil nil");
    assert_eq!(ok(&mut vm, "file_exists", &[p.clone()]), "Bool true");
    assert_eq!(
        ok(&mut vm, "read_file", &[p.clone()]),
        "String \"héllo\\n42\""
    );
    let missing = dir.join("missing.txt");
    let e = err(&mut vm, "read_file", &[s(missing.to_str().unwrap())]);
    assert!(
        e.starts_with("cannot read '") && e.contains("missing.txt': ") && e.contains("os error"),
        "{e}"
    );
    let bad = dir.join("no/such/dir.txt");
    let e = err(&mut vm, "write_file", &[s(bad.to_str().unwrap()), s("x")]);
    assert!(
        e.starts_with("cannot write '") && e.contains("os error"),
        "{e}"
    );
    let e = err(&mut vm, "append_file", &[s(bad.to_str().unwrap()), s("x")]);
    assert!(e.starts_with("cannot append to '"), "{e}");
    assert!(err(&mut vm, "read_file", &[i(1)]).contains("expects a String"));
    std::fs::remove_dir_all(&dir).unwrap();
}
