//! Unit tests of the pipeline stages and terminals.

#![allow(clippy::cloned_ref_to_slice_refs)]

use crate::tests::*;
use std::cell::Cell;
use std::rc::Rc;
use walia_runtime::api::repr;
use walia_runtime::{RtError, Value};

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => -1,
    }
}

/// A predicate/function that counts its calls.
fn counting(calls: &Rc<Cell<usize>>, f: fn(&Value) -> Value) -> Value {
    let calls = calls.clone();
    Value::native("counting", 1, 1, move |_, a| {
        calls.set(calls.get() + 1);
        Ok(f(&a[0]))
    })
}

fn is_even() -> Value {
    lambda(|a| Value::Bool(int_of(&a[0]) % 2 == 0))
}

fn double() -> Value {
    lambda(|a| Value::Int(int_of(&a[0]) * 2))
}

#[test]
fn stages_are_lazy_and_fused() {
    let mut vm = vm();
    let calls = Rc::new(Cell::new(0));
    let big = Value::range(0, 1_000_000_000);
    let st = call(&mut vm, "map", &[big, counting(&calls, |v| v.clone())]).unwrap();
    assert_eq!(st.type_name(), "Stream");
    assert_eq!(repr(&st), "<stream>");
    assert_eq!(calls.get(), 0, "a stage does not run anything");
    let st = call(&mut vm, "take", &[st, i(3)]).unwrap();
    assert_eq!(ok(&mut vm, "collect", &[st.clone()]), "List [0, 1, 2]");
    assert_eq!(calls.get(), 3, "take stops reading the source");
    // A stream is reusable: running it again re-reads the source.
    assert_eq!(ok(&mut vm, "to_list", &[st]), "List [0, 1, 2]");
    assert_eq!(calls.get(), 6);
}

#[test]
fn each_stage() {
    let mut vm = vm();
    let calls = Rc::new(Cell::new(0));
    let st = call(
        &mut vm,
        "each",
        &[ints(&[5, 6, 7]), counting(&calls, |_| Value::Nil)],
    )
    .unwrap();
    assert_eq!(ok(&mut vm, "collect", &[st.clone()]), "List [5, 6, 7]");
    assert_eq!(calls.get(), 3);
    assert_eq!(ok(&mut vm, "run", &[st]), "Int 3");
    assert_eq!(calls.get(), 6);
}

#[test]
fn filter_map_take_skip_take_while_enumerate_flat_map() {
    let mut vm = vm();
    let src = Value::range(0, 10);
    let st = call(&mut vm, "filter", &[src.clone(), is_even()]).unwrap();
    let st = call(&mut vm, "map", &[st, double()]).unwrap();
    assert_eq!(
        ok(&mut vm, "collect", &[st.clone()]),
        "List [0, 4, 8, 12, 16]"
    );
    let sk = call(&mut vm, "skip", &[st.clone(), i(3)]).unwrap();
    assert_eq!(ok(&mut vm, "collect", &[sk]), "List [12, 16]");
    let small = lambda(|a| Value::Bool(int_of(&a[0]) < 3));
    let tw = call(&mut vm, "take_while", &[src.clone(), small]).unwrap();
    assert_eq!(ok(&mut vm, "collect", &[tw]), "List [0, 1, 2]");
    let en = call(&mut vm, "enumerate", &[s("ab")]).unwrap();
    assert_eq!(
        ok(&mut vm, "collect", &[en]),
        "List [[0, \"a\"], [1, \"b\"]]"
    );
    let twice = lambda(|a| Value::list(vec![a[0].clone(), a[0].clone()]));
    let fm = call(&mut vm, "flat_map", &[ints(&[1, 2]), twice]).unwrap();
    assert_eq!(ok(&mut vm, "collect", &[fm]), "List [1, 1, 2, 2]");
    let t0 = call(&mut vm, "take", &[src.clone(), i(0)]).unwrap();
    assert_eq!(ok(&mut vm, "collect", &[t0]), "List []");
    let pairs = call(&mut vm, "collect", &[map(&[("a", i(1))])]).unwrap();
    assert_eq!(repr(&pairs), "[[\"a\", 1]]");
}

#[test]
fn stage_argument_errors() {
    let mut vm = vm();
    assert_eq!(
        err(&mut vm, "filter", &[i(1), is_even()]),
        "'filter' expects an iterable (List, Range, String, Map, Stream or Table) for argument 1, got Int"
    );
    assert_eq!(
        err(&mut vm, "map", &[ints(&[1]), i(2)]),
        "'map' expects a Function for argument 2, got Int"
    );
    assert_eq!(
        err(&mut vm, "take", &[ints(&[1]), i(-1)]),
        "'take' expects a non-negative count, got -1"
    );
    assert!(err(&mut vm, "skip", &[ints(&[1]), f(1.0)]).contains("expects an Int for argument 2"));
    // An error inside a stage function propagates from the terminal.
    let boom = Value::native("boom", 1, 1, |_, _| Err(RtError::new("boom")));
    let st = call(&mut vm, "map", &[ints(&[1]), boom]).unwrap();
    assert_eq!(err(&mut vm, "collect", &[st]), "boom");
}

#[test]
fn count_sum_avg() {
    let mut vm = vm();
    assert_eq!(
        ok(&mut vm, "count", &[Value::range(0, 1_000_000_000_000)]),
        "Int 1000000000000"
    );
    let st = call(&mut vm, "filter", &[Value::range(0, 10), is_even()]).unwrap();
    assert_eq!(ok(&mut vm, "count", &[st.clone()]), "Int 5");
    assert_eq!(ok(&mut vm, "length", &[st.clone()]), "Int 5");
    assert_eq!(ok(&mut vm, "count", &[s("héllo")]), "Int 5");
    assert_eq!(ok(&mut vm, "sum", &[st.clone()]), "Int 20");
    assert_eq!(ok(&mut vm, "sum", &[ints(&[])]), "Int 0");
    assert_eq!(ok(&mut vm, "sum", &[list(vec![i(1), f(0.5)])]), "Float 1.5");
    assert!(err(&mut vm, "sum", &[ints(&[i64::MAX, 1])]).contains("integer overflow in 'sum'"));
    assert!(
        err(&mut vm, "sum", &[list(vec![i(1), s("a")])])
            .contains("'sum' expects numbers, got a String")
    );
    assert_eq!(ok(&mut vm, "avg", &[ints(&[1, 2])]), "Float 1.5");
    assert_eq!(ok(&mut vm, "avg", &[ints(&[2, 2])]), "Float 2.0");
    assert_eq!(ok(&mut vm, "avg", &[list(vec![f(1.0), i(2)])]), "Float 1.5");
    assert_eq!(ok(&mut vm, "avg", &[ints(&[])]), "Nil nil");
    assert!(err(&mut vm, "avg", &[ints(&[i64::MAX, 1])]).contains("integer overflow in 'avg'"));
    assert!(err(&mut vm, "count", &[i(3)]).contains("got Int"));
}

#[test]
fn first_last_reduce() {
    let mut vm = vm();
    let calls = Rc::new(Cell::new(0));
    let st = call(
        &mut vm,
        "map",
        &[
            Value::range(5, 1_000_000_000),
            counting(&calls, |v| v.clone()),
        ],
    )
    .unwrap();
    assert_eq!(ok(&mut vm, "first", &[st]), "Int 5");
    assert_eq!(calls.get(), 1, "first reads one element");
    assert_eq!(ok(&mut vm, "first", &[ints(&[])]), "Nil nil");
    assert_eq!(ok(&mut vm, "last", &[ints(&[1, 2, 3])]), "Int 3");
    assert_eq!(
        ok(&mut vm, "last", &[Value::range(0, 1_000_000_000)]),
        "Int 999999999"
    );
    assert_eq!(ok(&mut vm, "last", &[Value::range(3, 3)]), "Nil nil");
    assert_eq!(ok(&mut vm, "last", &[s("abc")]), "String \"c\"");
    let st = call(&mut vm, "filter", &[ints(&[1, 3]), is_even()]).unwrap();
    assert_eq!(ok(&mut vm, "last", &[st]), "Nil nil");
    let add = lambda(|a| Value::Int(int_of(&a[0]) + int_of(&a[1])));
    assert_eq!(
        ok(
            &mut vm,
            "reduce",
            &[Value::range(1, 5), i(100), add.clone()]
        ),
        "Int 110"
    );
    assert_eq!(
        ok(&mut vm, "reduce", &[ints(&[]), s("init"), add.clone()]),
        "String \"init\""
    );
    assert!(err(&mut vm, "reduce", &[ints(&[]), i(0), i(0)]).contains("Function for argument 3"));
}

#[test]
fn any_all_stop_early() {
    let mut vm = vm();
    let calls = Rc::new(Cell::new(0));
    let big = Value::range(0, 1_000_000_000);
    let p = counting(&calls, |v| Value::Bool(int_of(v) > 2));
    assert_eq!(ok(&mut vm, "any", &[big.clone(), p]), "Bool true");
    assert_eq!(calls.get(), 4);
    calls.set(0);
    let p = counting(&calls, |v| Value::Bool(int_of(v) < 2));
    assert_eq!(ok(&mut vm, "all", &[big, p]), "Bool false");
    assert_eq!(calls.get(), 3);
    assert_eq!(ok(&mut vm, "any", &[ints(&[]), is_even()]), "Bool false");
    assert_eq!(ok(&mut vm, "all", &[ints(&[]), is_even()]), "Bool true");
    assert_eq!(ok(&mut vm, "all", &[ints(&[2, 4]), is_even()]), "Bool true");
    assert_eq!(
        ok(&mut vm, "any", &[list(vec![Value::Nil, i(0)])]),
        "Bool true"
    );
    assert_eq!(
        ok(&mut vm, "all", &[list(vec![Value::Nil, i(0)])]),
        "Bool false"
    );
}

#[test]
fn group_by_sort_by_join() {
    let mut vm = vm();
    let parity = lambda(|a| Value::Int(int_of(&a[0]) % 2));
    assert_eq!(
        ok(&mut vm, "group_by", &[ints(&[1, 2, 3, 4, 5]), parity]),
        "Map {1: [1, 3, 5], 0: [2, 4]}"
    );
    let bad = lambda(|_| Value::list(vec![]));
    assert!(err(&mut vm, "group_by", &[ints(&[1]), bad.clone()]).contains("map keys must be"));
    let len = lambda(|a| match &a[0] {
        Value::Str(s) => Value::Int(s.char_len() as i64),
        _ => Value::Nil,
    });
    let words = list(vec![s("ccc"), s("a"), s("bb"), s("d")]);
    assert_eq!(
        ok(&mut vm, "sort_by", &[words.clone(), len]),
        "List [\"a\", \"d\", \"bb\", \"ccc\"]"
    );
    assert_eq!(
        repr(&words),
        "[\"ccc\", \"a\", \"bb\", \"d\"]",
        "sort_by returns a new list"
    );
    let id = lambda(|a| a[0].clone());
    assert!(
        err(&mut vm, "sort_by", &[list(vec![i(1), s("a")]), id.clone()]).contains("cannot compare")
    );
    // Lists are keys now (compared element by element); nil is not.
    let to_nil = lambda(|_| Value::Nil);
    assert!(err(&mut vm, "sort_by", &[ints(&[1]), to_nil]).contains("got Nil"));
    assert_eq!(
        ok(&mut vm, "sort_by", &[ints(&[2, 1]), bad]),
        "List [2, 1]",
        "equal keys keep the order"
    );
    assert_eq!(
        ok(&mut vm, "sort_by", &[list(vec![f(2.5), i(1), i(3)]), id]),
        "List [1, 2.5, 3]"
    );
    assert_eq!(
        ok(
            &mut vm,
            "join",
            &[list(vec![i(1), s("a"), Value::Nil, f(2.0)]), s(", ")]
        ),
        "String \"1, a, nil, 2.0\""
    );
    assert_eq!(ok(&mut vm, "join", &[Value::range(0, 3)]), "String \"012\"");
    assert_eq!(ok(&mut vm, "join", &[ints(&[]), s("-")]), "String \"\"");
    assert_eq!(
        ok(&mut vm, "join", &[list(vec![list(vec![s("x")])]), s("-")]),
        "String \"[\\\"x\\\"]\""
    );
    assert!(err(&mut vm, "join", &[ints(&[1]), i(1)]).contains("String for argument 2"));
}

#[test]
fn methods_on_streams_lists_ranges() {
    let mut vm = vm();
    let l = ints(&[1, 2, 3, 4]);
    let st = meth(&mut vm, &l, "filter", &[is_even()]).unwrap();
    assert_eq!(repr(&meth(&mut vm, &st, "collect", &[]).unwrap()), "[2, 4]");
    assert_eq!(repr(&meth(&mut vm, &st, "count", &[]).unwrap()), "2");
    assert_eq!(repr(&meth(&mut vm, &st, "length", &[]).unwrap()), "2");
    assert_eq!(repr(&meth(&mut vm, &st, "run", &[]).unwrap()), "2");
    assert_eq!(repr(&meth(&mut vm, &st, "sum", &[]).unwrap()), "6");
    assert_eq!(repr(&meth(&mut vm, &st, "max", &[]).unwrap()), "4");
    assert_eq!(repr(&meth(&mut vm, &st, "reverse", &[]).unwrap()), "[4, 2]");
    let st2 = meth(&mut vm, &st, "map", &[double()]).unwrap();
    assert_eq!(
        repr(&meth(&mut vm, &st2, "to_list", &[]).unwrap()),
        "[4, 8]"
    );
    assert_eq!(
        repr(&meth(&mut vm, &st, "collect", &[]).unwrap()),
        "[2, 4]",
        "stages copy"
    );
    assert_eq!(repr(&meth(&mut vm, &l, "sum", &[]).unwrap()), "10");
    assert_eq!(
        repr(&meth(&mut vm, &l, "join", &[s("+")]).unwrap()),
        "\"1+2+3+4\""
    );
    assert_eq!(repr(&meth(&mut vm, &l, "length", &[]).unwrap()), "4");
    let r = Value::range(0, 4);
    assert_eq!(repr(&meth(&mut vm, &r, "avg", &[]).unwrap()), "1.5");
    assert_eq!(repr(&meth(&mut vm, &r, "length", &[]).unwrap()), "4");
    assert_eq!(
        repr(&meth(&mut vm, &r, "contains", &[i(3)]).unwrap()),
        "true"
    );
    assert_eq!(
        repr(&meth(&mut vm, &r, "contains", &[i(4)]).unwrap()),
        "false"
    );
    let e = meth(&mut vm, &st, "collect", &[i(1)]).unwrap_err();
    assert_eq!(e.message, "'collect' expects 0 arguments but got 1");
}

#[test]
fn count_of_extreme_ranges() {
    let mut vm = vm();
    let r = Value::range(i64::MIN, i64::MAX);
    assert_eq!(
        ok(&mut vm, "count", &[r.clone()]),
        format!("Int {}", i64::MAX)
    );
    assert_eq!(ok(&mut vm, "count", &[Value::range(3, -3)]), "Int 0");
    assert_eq!(
        ok(&mut vm, "count", &[map(&[("a", i(1)), ("b", i(2))])]),
        "Int 2"
    );
    assert_eq!(ok(&mut vm, "first", &[r]), format!("Int {}", i64::MIN));
}
