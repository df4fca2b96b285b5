//! @group Numbers
//!
//! `min` and `max`: of their arguments (numbers or strings), of one iterable (the pipe
//! terminal), or of an iterable by a key function or a comparator.

use crate::check::*;
use crate::pipes;
use crate::sorting::{self, Order};
use std::cmp::Ordering;
use walia_runtime::api::{PipeRun, ops, tick};
use walia_runtime::{RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    let types = &["Int", "Float", "List", "Range", "Stream", "Table"];
    both(vm, types, "min", 1, MANY, min);
    both(vm, types, "max", 1, MANY, max);
}

fn is_nan(v: &Value) -> bool {
    matches!(v, Value::Float(f) if f.is_nan())
}

/// The extreme of `a` (arguments, 2 or more) by `want` (Less for min, Greater for max).
/// Keeps the chosen operand's type; any nan operand gives nan.
fn extreme(fname: &str, a: &[Value], want: Ordering) -> RtResult<Value> {
    let mut best = arg(a, 0).clone();
    for (i, v) in a.iter().enumerate() {
        if !matches!(v, Value::Int(_) | Value::Float(_) | Value::Str(_)) {
            return Err(type_error(fname, i, "number", v));
        }
    }
    if let Some(n) = a.iter().find(|v| is_nan(v)) {
        return Ok(n.clone());
    }
    for v in a.iter().skip(1) {
        if ops::compare(fname, v, &best)? == Some(want) {
            best = v.clone();
        }
    }
    Ok(best)
}

/// The element of `src` whose key (`f(x)`) is least (`want` Less) or greatest; with a
/// comparator, the one no other comes before (or after). Ties keep the first.
fn extreme_by(vm: &mut Vm, a: &[Value], fname: &str, want: Ordering) -> RtResult<Value> {
    let order = sorting::order_arg(a, 1, fname)?;
    let mut run = PipeRun::new(expect_iterable(a, 0, fname)?, false)?;
    let mut best: Option<(Value, Value)> = None;
    while let Some(v) = run.next(vm)? {
        tick()?;
        let key = match &order {
            Order::Key(f) => vm.call_value(f, std::slice::from_ref(&v))?,
            _ => Value::Nil,
        };
        let better = match &best {
            None => true,
            Some((best_key, best_v)) => match &order {
                Order::Comparator(f) => {
                    let (x, y) = if want == Ordering::Less {
                        (&v, best_v)
                    } else {
                        (best_v, &v)
                    };
                    match vm.call_value(f, &[x.clone(), y.clone()])? {
                        Value::Bool(b) => b,
                        Value::Int(n) => n < 0,
                        Value::Float(n) => n < 0.0,
                        other => {
                            return Err(walia_runtime::RtError::new(format!(
                                "'{fname}' expects the comparator to return a Bool or a \
                                 number, got {}",
                                other.type_name()
                            )));
                        }
                    }
                }
                _ => sorting::compare_keys(fname, &key, best_key, 0)? == want,
            },
        };
        if better {
            best = Some((key, v));
        }
    }
    Ok(best.map(|(_, v)| v).unwrap_or_default())
}

/// `min`/`max` in all their forms.
fn min_or_max(vm: &mut Vm, a: &[Value], fname: &str, want: Ordering) -> RtResult<Value> {
    match a {
        // `min(x, y)` of two Ints, the usual call in a loop: one comparison, no checks.
        [Value::Int(x), Value::Int(y)] => Ok(Value::Int(if y.cmp(x) == want { *y } else { *x })),
        [n @ (Value::Int(_) | Value::Float(_))] => Ok(n.clone()),
        [src] => pipes::extreme_of(vm, src, fname, want),
        [_, f] if is_callable(f) => extreme_by(vm, a, fname, want),
        _ => extreme(fname, a, want),
    }
}

/// @builtin min(a, b, ...) -> Int | Float | String
/// @builtin min(src [, f]) -> any
/// @builtin xs.min([f]) -> any
///
/// The smallest of its arguments (numbers, or strings), keeping its type; or, with one
/// iterable argument, its smallest element (a pipe terminal: `xs |> min()`), `nil` when
/// it is empty. With a function `f` after the iterable, the element with the smallest key
/// `f(x)` (keys compared as in `sort`: numbers, strings or lists), or, when `f` takes two
/// parameters, the element no other comes before by the comparator `f`. Ties keep the
/// first; `nan` wins over every number.
///
/// Errors: arguments that are not numbers or strings, or mixed; an empty call; keys of
/// mixed kinds; any error `f` raises.
///
/// ```walia
/// print min(3, 1.5, 2);                            // -> 1.5
/// print min([4, 2, 8]);                            // -> 2
/// print [] |> min();                               // -> nil
/// print min(["pear", "fig", "kiwi"], w => w.length()); // -> fig
/// ```
fn min(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    min_or_max(vm, a, "min", Ordering::Less)
}

/// @builtin max(a, b, ...) -> Int | Float | String
/// @builtin max(src [, f]) -> any
/// @builtin xs.max([f]) -> any
///
/// The largest of its arguments (numbers, or strings), keeping its type; or, with one
/// iterable argument, its largest element (a pipe terminal: `xs |> max()`), `nil` when
/// it is empty. With a function `f` after the iterable, the element with the largest key
/// `f(x)`, or, when `f` takes two parameters, the element that comes after every other by
/// the comparator `f`. Ties keep the first; `nan` wins over every number.
///
/// Errors: arguments that are not numbers or strings, or mixed; an empty call; keys of
/// mixed kinds; any error `f` raises.
///
/// ```walia
/// print max(3, 7);                                        // -> 7
/// print (0..10).max();                                    // -> 9
/// print max([[1, "a"], [3, "b"], [2, "c"]], p => p[0]);   // -> [3, "b"]
/// print max(["b", "a"]);                                  // -> b
/// ```
fn max(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    min_or_max(vm, a, "max", Ordering::Greater)
}
