//! Unit tests: every builtin called through a VM, as scripts call them.

#![allow(clippy::cloned_ref_to_slice_refs)]

use crate::install;
use walia_runtime::api::{MapKey, repr};
use walia_runtime::{RtResult, Value, Vm};

pub fn vm() -> Vm {
    let mut vm = Vm::new(Box::new(Vec::new()));
    install(&mut vm);
    vm
}

pub fn call(vm: &mut Vm, name: &str, args: &[Value]) -> RtResult<Value> {
    let f = vm
        .global(name)
        .unwrap_or_else(|| panic!("no global {name}"));
    vm.call_value(&f, args)
}

/// Call method `name` of the receiver's type, as `recv.name(args)` does.
pub fn meth(vm: &mut Vm, recv: &Value, name: &str, args: &[Value]) -> RtResult<Value> {
    let f = vm
        .builtin_method(recv.type_name(), name)
        .unwrap_or_else(|| panic!("no method {}.{name}", recv.type_name()));
    let mut all = vec![recv.clone()];
    all.extend(args.iter().cloned());
    vm.call_value(&f, &all)
}

/// The result in its printed (container) form, with its type: `Int 3`, `String "a"`.
pub fn ok(vm: &mut Vm, name: &str, args: &[Value]) -> String {
    match call(vm, name, args) {
        Ok(v) => format!("{} {}", v.type_name(), repr(&v)),
        Err(e) => panic!("{name} failed: {}", e.message),
    }
}

pub fn err(vm: &mut Vm, name: &str, args: &[Value]) -> String {
    match call(vm, name, args) {
        Ok(v) => panic!("{name} returned {} instead of failing", repr(&v)),
        Err(e) => e.message.clone(),
    }
}

pub fn s(x: &str) -> Value {
    Value::str(x)
}

pub fn i(x: i64) -> Value {
    Value::Int(x)
}

pub fn f(x: f64) -> Value {
    Value::Float(x)
}

pub fn list(items: Vec<Value>) -> Value {
    Value::list(items)
}

pub fn ints(xs: &[i64]) -> Value {
    Value::list(xs.iter().map(|x| Value::Int(*x)).collect())
}

pub fn map(pairs: &[(&str, Value)]) -> Value {
    let mut m = walia_runtime::api::new_entries(0);
    for (k, v) in pairs {
        m.insert(
            MapKey::Str(std::rc::Rc::new(walia_runtime::api::Str::new(
                k.to_string(),
            ))),
            v.clone(),
        );
    }
    Value::map(m)
}

/// A builtin standing in for a script lambda.
pub fn lambda(f: fn(&[Value]) -> Value) -> Value {
    Value::native("lambda", 0, usize::MAX, move |_, a| Ok(f(a)))
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

#[test]
fn str_and_type_of() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "str", &[i(42)]), "String \"42\"");
    assert_eq!(ok(&mut vm, "str", &[f(3.0)]), "String \"3.0\"");
    assert_eq!(ok(&mut vm, "str", &[s("x")]), "String \"x\"");
    assert_eq!(ok(&mut vm, "str", &[Value::Nil]), "String \"nil\"");
    assert_eq!(
        ok(&mut vm, "str", &[list(vec![i(1), s("a")])]),
        "String \"[1, \\\"a\\\"]\""
    );
    assert_eq!(ok(&mut vm, "type_of", &[f(1.0)]), "String \"Float\"");
    assert_eq!(
        ok(&mut vm, "type_of", &[Value::range(0, 2)]),
        "String \"Range\""
    );
    let g = vm.global("len").unwrap();
    assert_eq!(ok(&mut vm, "type_of", &[g]), "String \"Function\"");
}

#[test]
fn int_conversions() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "int", &[f(-3.9)]), "Int -3");
    assert_eq!(ok(&mut vm, "int", &[f(3.9)]), "Int 3");
    assert_eq!(ok(&mut vm, "int", &[s("42")]), "Int 42");
    assert_eq!(ok(&mut vm, "int", &[s(" -7 \n")]), "Int -7");
    assert_eq!(ok(&mut vm, "int", &[s("+5")]), "Int 5");
    assert_eq!(ok(&mut vm, "int", &[i(9)]), "Int 9");
    assert_eq!(ok(&mut vm, "int", &[Value::Bool(true)]), "Int 1");
    assert!(err(&mut vm, "int", &[s("abc")]).contains("cannot parse \"abc\""));
    assert!(err(&mut vm, "int", &[s("3.5")]).contains("cannot parse"));
    assert!(err(&mut vm, "int", &[s("")]).contains("cannot parse"));
    assert!(err(&mut vm, "int", &[s("-")]).contains("cannot parse"));
    assert!(err(&mut vm, "int", &[s("99999999999999999999")]).contains("out of the Int range"));
    assert!(err(&mut vm, "int", &[f(f64::NAN)]).contains("cannot convert nan"));
    assert!(err(&mut vm, "int", &[f(f64::INFINITY)]).contains("inf"));
    assert!(err(&mut vm, "int", &[f(1e19)]).contains("cannot convert"));
    assert_eq!(
        ok(&mut vm, "int", &[f(i64::MIN as f64)]),
        format!("Int {}", i64::MIN)
    );
    assert_eq!(
        err(&mut vm, "int", &[Value::Nil]),
        "'int' expects a number or String for argument 1, got Nil"
    );
}

#[test]
fn float_conversions() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "float", &[s("1e3")]), "Float 1000.0");
    assert_eq!(ok(&mut vm, "float", &[s(" 2.5 ")]), "Float 2.5");
    assert_eq!(ok(&mut vm, "float", &[i(3)]), "Float 3.0");
    assert_eq!(ok(&mut vm, "float", &[f(0.1)]), "Float 0.1");
    assert!(err(&mut vm, "float", &[s("x1")]).contains("cannot parse \"x1\""));
    assert!(err(&mut vm, "float", &[list(vec![])]).contains("got List"));
}

#[test]
fn len_of_each_type() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "len", &[s("héllo")]), "Int 5");
    assert_eq!(ok(&mut vm, "len", &[ints(&[1, 2])]), "Int 2");
    assert_eq!(ok(&mut vm, "len", &[map(&[("a", i(1))])]), "Int 1");
    assert_eq!(ok(&mut vm, "len", &[Value::range(2, 10)]), "Int 8");
    assert_eq!(ok(&mut vm, "len", &[Value::range(5, 2)]), "Int 0");
    assert!(err(&mut vm, "len", &[i(3)]).contains("got Int"));
    let stream = call(&mut vm, "enumerate", &[ints(&[1])]).unwrap();
    assert!(err(&mut vm, "len", &[stream]).contains("got Stream"));
}

#[test]
fn assert_error_clock_range_args() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "assert", &[Value::Bool(true)]), "Nil nil");
    assert_eq!(
        ok(&mut vm, "assert", &[i(0), s("zero is truthy")]),
        "Nil nil"
    );
    assert_eq!(
        err(&mut vm, "assert", &[Value::Bool(false)]),
        "assertion failed"
    );
    assert_eq!(
        err(&mut vm, "assert", &[Value::Nil, s("x was nil")]),
        "assertion failed: x was nil"
    );
    assert_eq!(err(&mut vm, "error", &[s("boom")]), "boom");
    assert_eq!(err(&mut vm, "error", &[i(7)]), "7");
    let t1 = call(&mut vm, "clock", &[]).unwrap();
    let t2 = call(&mut vm, "clock", &[]).unwrap();
    match (t1, t2) {
        (Value::Float(a), Value::Float(b)) => assert!(b >= a && a >= 0.0),
        _ => panic!("clock is not a Float"),
    }
    assert_eq!(ok(&mut vm, "range", &[i(0), i(3)]), "Range 0..3");
    assert!(
        err(&mut vm, "range", &[i(0), f(3.0)]).contains("expects an Int for argument 2, got Float")
    );
    vm.args = vec!["a".into(), "b c".into()];
    assert_eq!(ok(&mut vm, "args", &[]), "List [\"a\", \"b c\"]");
    assert_eq!(ok(&mut vm, "checkpoint", &[]), "Nil nil");
    assert_eq!(ok(&mut vm, "walia_is_warm_boot", &[]), "Bool false");
}

#[test]
fn arity_errors_count_method_arguments_without_receiver() {
    let mut vm = vm();
    let e = meth(&mut vm, &s("a"), "upper", &[i(1)]).unwrap_err();
    assert_eq!(e.message, "'upper' expects 0 arguments but got 1");
    let e = meth(&mut vm, &s("a"), "replace", &[s("a")]).unwrap_err();
    assert_eq!(e.message, "'replace' expects 2 arguments but got 1");
    let e = meth(&mut vm, &s("a"), "substr", &[]).unwrap_err();
    assert_eq!(e.message, "'substr' expects 1 to 2 arguments but got 0");
}

#[test]
fn math_rounding_returns_int() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "floor", &[f(-2.5)]), "Int -3");
    assert_eq!(ok(&mut vm, "ceil", &[f(-2.5)]), "Int -2");
    assert_eq!(ok(&mut vm, "round", &[f(2.5)]), "Int 3");
    assert_eq!(ok(&mut vm, "round", &[f(-2.5)]), "Int -3");
    assert_eq!(ok(&mut vm, "round", &[f(2.4)]), "Int 2");
    assert_eq!(ok(&mut vm, "floor", &[i(7)]), "Int 7");
    for name in ["floor", "ceil", "round"] {
        assert!(err(&mut vm, name, &[f(f64::NAN)]).contains("nan"));
        assert!(err(&mut vm, name, &[f(f64::NEG_INFINITY)]).contains("-inf"));
        assert!(err(&mut vm, name, &[f(1e300)]).contains("cannot convert"));
        assert!(
            err(&mut vm, name, &[s("1")]).contains("expects a number for argument 1, got String")
        );
    }
}

#[test]
fn math_float_functions() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "sqrt", &[i(16)]), "Float 4.0");
    assert_eq!(ok(&mut vm, "math_sqrt", &[f(2.25)]), "Float 1.5");
    assert_eq!(ok(&mut vm, "sqrt", &[i(-1)]), "Float nan");
    assert_eq!(ok(&mut vm, "exp", &[i(0)]), "Float 1.0");
    assert_eq!(ok(&mut vm, "log", &[i(1)]), "Float 0.0");
    assert_eq!(ok(&mut vm, "log", &[i(0)]), "Float -inf");
    assert_eq!(ok(&mut vm, "log", &[i(8), i(2)]), "Float 3.0");
    assert_eq!(ok(&mut vm, "sin", &[i(0)]), "Float 0.0");
    assert_eq!(ok(&mut vm, "cos", &[i(0)]), "Float 1.0");
    assert!(err(&mut vm, "cos", &[Value::Nil]).contains("got Nil"));
}

#[test]
fn math_abs_pow_keep_types() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "abs", &[i(-3)]), "Int 3");
    assert_eq!(ok(&mut vm, "math_abs", &[f(-3.5)]), "Float 3.5");
    assert!(err(&mut vm, "abs", &[i(i64::MIN)]).contains("overflow"));
    assert_eq!(ok(&mut vm, "pow", &[i(2), i(10)]), "Int 1024");
    assert_eq!(ok(&mut vm, "math_pow", &[i(2), i(0)]), "Int 1");
    assert_eq!(ok(&mut vm, "pow", &[i(2), i(-1)]), "Float 0.5");
    assert_eq!(ok(&mut vm, "pow", &[f(2.0), i(3)]), "Float 8.0");
    assert_eq!(ok(&mut vm, "pow", &[i(4), f(0.5)]), "Float 2.0");
    assert_eq!(ok(&mut vm, "pow", &[i(-1), i(1 << 40)]), "Int 1");
    assert_eq!(ok(&mut vm, "pow", &[i(-1), i((1 << 40) + 1)]), "Int -1");
    assert!(err(&mut vm, "pow", &[i(2), i(63)]).contains("integer overflow in 'pow'"));
    assert!(err(&mut vm, "pow", &[i(3), i(1 << 40)]).contains("overflow"));
    assert!(err(&mut vm, "pow", &[s("2"), i(2)]).contains("got String"));
}

#[test]
fn math_min_max() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "min", &[i(3), f(1.5)]), "Float 1.5");
    assert_eq!(ok(&mut vm, "min", &[i(1), f(1.5)]), "Int 1");
    assert_eq!(ok(&mut vm, "max", &[i(1), i(7), i(3)]), "Int 7");
    assert_eq!(ok(&mut vm, "max", &[i(1), f(f64::NAN)]), "Float nan");
    assert_eq!(ok(&mut vm, "min", &[f(f64::NAN), i(1)]), "Float nan");
    assert_eq!(ok(&mut vm, "min", &[s("b"), s("a")]), "String \"a\"");
    // Two Ints (their own fast path): either order, negatives, a tie.
    assert_eq!(ok(&mut vm, "min", &[i(5), i(-2)]), "Int -2");
    assert_eq!(ok(&mut vm, "min", &[i(-2), i(5)]), "Int -2");
    assert_eq!(ok(&mut vm, "max", &[i(5), i(-2)]), "Int 5");
    assert_eq!(ok(&mut vm, "max", &[i(-2), i(5)]), "Int 5");
    assert_eq!(
        ok(&mut vm, "max", &[i(i64::MIN), i(i64::MIN)]),
        format!("Int {}", i64::MIN)
    );
    assert!(err(&mut vm, "min", &[i(1), Value::Nil]).contains("argument 2, got Nil"));
    assert!(err(&mut vm, "max", &[i(1), s("a")]).contains("cannot apply"));
    // One iterable argument: the pipeline terminal.
    assert_eq!(ok(&mut vm, "min", &[ints(&[4, 2, 9])]), "Int 2");
    assert_eq!(ok(&mut vm, "max", &[Value::range(0, 5)]), "Int 4");
    assert_eq!(ok(&mut vm, "max", &[list(vec![])]), "Nil nil");
    assert_eq!(
        ok(&mut vm, "max", &[list(vec![i(1), f(f64::NAN), i(3)])]),
        "Float nan"
    );
    assert_eq!(
        ok(&mut vm, "min", &[list(vec![s("b"), s("a")])]),
        "String \"a\""
    );
    assert!(
        err(&mut vm, "min", &[list(vec![i(1), s("a")])])
            .contains("cannot apply 'min' to String and Int")
    );
    assert!(err(&mut vm, "min", &[list(vec![Value::Nil])]).contains("expects numbers, got a Nil"));
    assert_eq!(ok(&mut vm, "min", &[i(5)]), "Int 5");
}

#[test]
fn math_methods_on_numbers() {
    let mut vm = vm();
    let r = meth(&mut vm, &i(-3), "abs", &[]).unwrap();
    assert_eq!(repr(&r), "3");
    let r = meth(&mut vm, &i(2), "pow", &[i(10)]).unwrap();
    assert_eq!(repr(&r), "1024");
    let r = meth(&mut vm, &f(2.7), "floor", &[]).unwrap();
    assert_eq!(repr(&r), "2");
    let r = meth(&mut vm, &f(9.0), "sqrt", &[]).unwrap();
    assert_eq!(repr(&r), "3.0");
    let r = meth(&mut vm, &i(4), "max", &[i(9)]).unwrap();
    assert_eq!(repr(&r), "9");
    let r = meth(&mut vm, &ints(&[3, 1]), "min", &[]).unwrap();
    assert_eq!(repr(&r), "1");
}

#[test]
fn string_case_trim_split() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "upper", &[s("straße é")]),
        "String \"STRASSE É\""
    );
    assert_eq!(ok(&mut vm, "string_to_upper", &[s("ab")]), "String \"AB\"");
    assert_eq!(ok(&mut vm, "lower", &[s("ÀB")]), "String \"àb\"");
    assert_eq!(ok(&mut vm, "trim", &[s("  a b \n")]), "String \"a b\"");
    assert_eq!(
        ok(&mut vm, "split", &[s("a,b,,c"), s(",")]),
        "List [\"a\", \"b\", \"\", \"c\"]"
    );
    assert_eq!(
        ok(&mut vm, "split", &[s("héj"), s("")]),
        "List [\"h\", \"é\", \"j\"]"
    );
    assert_eq!(ok(&mut vm, "split", &[s(" a  b ")]), "List [\"a\", \"b\"]");
    assert_eq!(ok(&mut vm, "split", &[s(""), s(",")]), "List [\"\"]");
    assert!(
        err(&mut vm, "upper", &[i(1)]).contains("'upper' expects a String for argument 1, got Int")
    );
    assert!(err(&mut vm, "split", &[s("a"), i(1)]).contains("argument 2, got Int"));
    let r = meth(&mut vm, &s("a-b"), "split", &[s("-")]).unwrap();
    assert_eq!(repr(&r), "[\"a\", \"b\"]");
    let r = meth(&mut vm, &s("héllo"), "length", &[]).unwrap();
    assert_eq!(repr(&r), "5");
}

#[test]
fn string_search_and_replace() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "contains", &[s("hello"), s("ell")]),
        "Bool true"
    );
    assert_eq!(
        ok(&mut vm, "contains", &[s("hello"), s("xyz")]),
        "Bool false"
    );
    assert!(err(&mut vm, "contains", &[s("hello"), i(1)]).contains("got Int"));
    assert_eq!(
        ok(&mut vm, "starts_with", &[s("hello"), s("he")]),
        "Bool true"
    );
    assert_eq!(
        ok(&mut vm, "ends_with", &[s("hello"), s("he")]),
        "Bool false"
    );
    assert_eq!(
        ok(&mut vm, "replace", &[s("a.b.c"), s("."), s("::")]),
        "String \"a::b::c\""
    );
    assert_eq!(ok(&mut vm, "find", &[s("héllo"), s("llo")]), "Int 2");
    assert_eq!(ok(&mut vm, "find", &[s("hello"), s("z")]), "Nil nil");
    assert_eq!(ok(&mut vm, "find", &[s("hello"), s("")]), "Int 0");
    let r = meth(&mut vm, &s("aXa"), "replace", &[s("a"), s("b")]).unwrap();
    assert_eq!(repr(&r), "\"bXb\"");
}

#[test]
fn substr_is_character_based() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "substr", &[s("héllo"), i(1), i(3)]),
        "String \"éll\""
    );
    assert_eq!(
        ok(&mut vm, "substr", &[s("hello"), i(1), i(3)]),
        "String \"ell\""
    );
    assert_eq!(ok(&mut vm, "substr", &[s("hello"), i(3)]), "String \"lo\"");
    assert_eq!(
        ok(&mut vm, "substr", &[s("hello"), i(-3), i(2)]),
        "String \"ll\""
    );
    assert_eq!(
        ok(&mut vm, "substr", &[s("hello"), i(3), i(100)]),
        "String \"lo\""
    );
    assert_eq!(
        ok(&mut vm, "substr", &[s("hello"), i(10), i(2)]),
        "String \"\""
    );
    assert_eq!(
        ok(&mut vm, "substr", &[s("hé"), i(-10), i(1)]),
        "String \"h\""
    );
    assert!(err(&mut vm, "substr", &[s("hello"), i(1), i(-1)]).contains("non-negative length"));
    assert_eq!(
        err(&mut vm, "substr", &[s("hello"), s("1"), i(1)]),
        "'substr' expects an Int for argument 2, got String"
    );
}

#[test]
fn reverse_strings_lists_ranges() {
    let mut vm = vm();
    assert_eq!(ok(&mut vm, "reverse", &[s("héllo")]), "String \"olléh\"");
    assert_eq!(ok(&mut vm, "string_reverse", &[s("ab")]), "String \"ba\"");
    let l = ints(&[1, 2, 3]);
    assert_eq!(
        ok(&mut vm, "reverse", std::slice::from_ref(&l)),
        "List [3, 2, 1]"
    );
    assert_eq!(repr(&l), "[1, 2, 3]", "reverse returns a new list");
    assert_eq!(
        ok(&mut vm, "reverse", &[Value::range(0, 3)]),
        "List [2, 1, 0]"
    );
    assert!(err(&mut vm, "reverse", &[i(1)]).contains("got Int"));
}

#[test]
fn list_methods() {
    let mut vm = vm();
    let l = call(&mut vm, "List", &[]).unwrap();
    assert_eq!(repr(&l), "[]");
    meth(&mut vm, &l, "add", &[i(1)]).unwrap();
    meth(&mut vm, &l, "push", &[i(2)]).unwrap();
    call(&mut vm, "list_add", &[l.clone(), i(3)]).unwrap();
    assert_eq!(repr(&l), "[1, 2, 3]");
    assert_eq!(repr(&meth(&mut vm, &l, "get", &[i(-1)]).unwrap()), "3");
    assert_eq!(repr(&meth(&mut vm, &l, "get", &[i(3)]).unwrap()), "nil");
    assert_eq!(repr(&meth(&mut vm, &l, "get", &[i(-4)]).unwrap()), "nil");
    assert_eq!(ok(&mut vm, "list_get", &[l.clone(), i(0)]), "Int 1");
    meth(&mut vm, &l, "set", &[i(0), s("a")]).unwrap();
    assert!(
        meth(&mut vm, &l, "set", &[i(3), i(0)])
            .unwrap_err()
            .message
            .contains("out of range")
    );
    assert_eq!(repr(&meth(&mut vm, &l, "length", &[]).unwrap()), "3");
    assert_eq!(ok(&mut vm, "list_len", std::slice::from_ref(&l)), "Int 3");
    meth(&mut vm, &l, "insert", &[i(3), i(9)]).unwrap();
    meth(&mut vm, &l, "insert", &[i(0), i(0)]).unwrap();
    assert_eq!(repr(&l), "[0, \"a\", 2, 3, 9]");
    assert!(
        meth(&mut vm, &l, "insert", &[i(6), i(0)])
            .unwrap_err()
            .message
            .contains("index 6 out of range")
    );
    assert_eq!(
        repr(&meth(&mut vm, &l, "remove", &[i(1)]).unwrap()),
        "\"a\""
    );
    assert!(meth(&mut vm, &l, "remove", &[i(10)]).is_err());
    assert_eq!(
        repr(&meth(&mut vm, &l, "contains", &[f(2.0)]).unwrap()),
        "true"
    );
    assert_eq!(
        repr(&meth(&mut vm, &l, "contains", &[s("2")]).unwrap()),
        "false"
    );
    assert_eq!(repr(&meth(&mut vm, &l, "pop", &[]).unwrap()), "9");
    assert_eq!(ok(&mut vm, "list_pop", std::slice::from_ref(&l)), "Int 3");
    assert_eq!(repr(&l), "[0, 2]");
    let empty = list(vec![]);
    assert_eq!(repr(&meth(&mut vm, &empty, "pop", &[]).unwrap()), "nil");
    assert!(
        err(&mut vm, "list_add", &[i(1), i(2)]).contains("expects a List for argument 1, got Int")
    );
    assert_eq!(ok(&mut vm, "List", &[i(1), s("a")]), "List [1, \"a\"]");
}

#[test]
fn list_sort() {
    let mut vm = vm();
    let l = list(vec![i(3), f(1.5), i(2), f(-0.5)]);
    assert_eq!(repr(&meth(&mut vm, &l, "sort", &[]).unwrap()), "nil");
    assert_eq!(repr(&l), "[-0.5, 1.5, 2, 3]");
    let l = list(vec![s("b"), s("C"), s("a")]);
    meth(&mut vm, &l, "sort", &[]).unwrap();
    assert_eq!(repr(&l), "[\"C\", \"a\", \"b\"]");
    let l = list(vec![i(1), s("a")]);
    assert!(
        meth(&mut vm, &l, "sort", &[])
            .unwrap_err()
            .message
            .contains("cannot compare")
    );
    assert_eq!(
        repr(&l),
        "[1, \"a\"]",
        "a failed sort leaves the list alone"
    );
    let l = list(vec![Value::Nil]);
    assert!(
        meth(&mut vm, &l, "sort", &[])
            .unwrap_err()
            .message
            .contains("got Nil")
    );
    let l = list(vec![f(f64::NAN), i(2), i(1)]);
    meth(&mut vm, &l, "sort", &[]).unwrap();
    assert_eq!(repr(&l), "[1, 2, nan]");
    let l = ints(&[1, -3, 2]);
    let neg = lambda(|a| Value::Int(-int_of(&a[0])));
    meth(&mut vm, &l, "sort", &[neg]).unwrap();
    assert_eq!(repr(&l), "[2, 1, -3]");
}

#[test]
fn map_methods() {
    let mut vm = vm();
    let m = call(&mut vm, "Map", &[]).unwrap();
    meth(&mut vm, &m, "set", &[s("b"), i(1)]).unwrap();
    meth(&mut vm, &m, "set", &[i(7), s("seven")]).unwrap();
    call(&mut vm, "map_set", &[m.clone(), Value::Bool(true), i(3)]).unwrap();
    assert_eq!(repr(&m), "{\"b\": 1, 7: \"seven\", true: 3}");
    assert!(
        meth(&mut vm, &m, "set", &[list(vec![]), i(1)])
            .unwrap_err()
            .message
            .contains("map keys")
    );
    assert_eq!(repr(&meth(&mut vm, &m, "get", &[s("b")]).unwrap()), "1");
    assert_eq!(repr(&meth(&mut vm, &m, "get", &[s("zz")]).unwrap()), "nil");
    assert_eq!(
        repr(&meth(&mut vm, &m, "get", &[s("zz"), i(0)]).unwrap()),
        "0"
    );
    assert_eq!(
        repr(&meth(&mut vm, &m, "get", &[list(vec![])]).unwrap()),
        "nil"
    );
    assert_eq!(
        ok(&mut vm, "map_get", &[m.clone(), i(7)]),
        "String \"seven\""
    );
    assert_eq!(repr(&meth(&mut vm, &m, "has", &[s("b")]).unwrap()), "true");
    assert_eq!(repr(&meth(&mut vm, &m, "has", &[s("x")]).unwrap()), "false");
    assert_eq!(
        repr(&meth(&mut vm, &m, "keys", &[]).unwrap()),
        "[\"b\", 7, true]"
    );
    assert_eq!(
        repr(&meth(&mut vm, &m, "values", &[]).unwrap()),
        "[1, \"seven\", 3]"
    );
    assert_eq!(repr(&meth(&mut vm, &m, "length", &[]).unwrap()), "3");
    assert_eq!(repr(&meth(&mut vm, &m, "remove", &[s("b")]).unwrap()), "1");
    assert_eq!(
        repr(&meth(&mut vm, &m, "remove", &[s("b")]).unwrap()),
        "nil"
    );
    assert_eq!(
        ok(&mut vm, "map_del", &[m.clone(), i(7)]),
        "String \"seven\""
    );
    assert_eq!(repr(&m), "{true: 3}");
    assert_eq!(
        ok(&mut vm, "contains", &[m.clone(), Value::Bool(true)]),
        "Bool true"
    );
    assert!(err(&mut vm, "map_get", &[ints(&[1]), i(0)]).contains("expects a Map"));
}
