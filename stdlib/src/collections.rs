//! @group Lists
//!
//! Functions over any iterable that build a new list: `reversed`, `zip`, `unique`,
//! `flatten`, and `index_of`. Each is a free function, a method of the iterable types and
//! a pipe terminal (`xs |> unique()`).

use crate::check::*;
use crate::pipes;
use std::collections::HashSet;
use walia_runtime::api::{KeyRef, MapKey, PipeRun, ops, reserve, tick};
use walia_runtime::{RtError, RtResult, Value, Vm};

/// Types that get these functions as methods.
const ITERABLE: &[&str] = &["List", "Range", "Stream", "Table", "String", "Map"];

pub fn install(vm: &mut Vm) {
    both(vm, ITERABLE, "reversed", 1, 1, reversed);
    both(vm, ITERABLE, "zip", 1, MANY, zip);
    both(vm, ITERABLE, "unique", 1, 1, unique);
    both(vm, ITERABLE, "flatten", 1, 1, flatten);
    leaf_both(vm, &["List", "String", "Range"], "index_of", 2, 2, index_of);
}

/// @builtin reversed(src) -> List
/// @builtin xs.reversed() -> List
///
/// A new list of the elements of any iterable in reverse order; the source is not
/// changed. Unlike `reverse`, which gives a String for a String (`reverse("abc")` is
/// `"cba"`), `reversed` always gives a List (`reversed("abc")` is `["c", "b", "a"]`); for
/// a list the two are the same (neither reverses in place).
///
/// Errors: `src` is not iterable; any error a stage raises.
///
/// ```walia
/// var l = [1, 2, 3];
/// print reversed(l);              // -> [3, 2, 1]
/// print l;                        // -> [1, 2, 3]
/// print "abc" |> reversed();      // -> ["c", "b", "a"]
/// ```
fn reversed(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let mut items = pipes::collect_values(vm, arg(a, 0), "reversed")?;
    items.reverse();
    Ok(Value::list(items))
}

/// @builtin zip(a, b, ...) -> List
/// @builtin xs.zip(b, ...) -> List
///
/// A list of lists: the first elements of every argument, then the second ones...; it
/// stops at the end of the shortest (Python's `zip`), reading no further, so a huge range
/// or a long file can be zipped with a short list. Every argument is any iterable.
///
/// Errors: an argument is not iterable; any error a stage raises.
///
/// ```walia
/// print zip(["a", "b", "c"], [1, 2]);            // -> [["a", 1], ["b", 2]]
/// print ["x", "y"] |> zip(0..1000000000);        // -> [["x", 0], ["y", 1]]
/// print zip("ab", [true, false], 1..3);          // -> [["a", true, 1], ["b", false, 2]]
/// ```
fn zip(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let mut runs = Vec::new();
    for i in 0..a.len() {
        runs.push(PipeRun::new(expect_iterable(a, i, "zip")?, false)?);
    }
    let mut out = Vec::new();
    'rows: loop {
        let mut row = Vec::new();
        reserve(&mut row, runs.len())?;
        for run in &mut runs {
            tick()?;
            match run.next(vm)? {
                Some(v) => row.push(v),
                None => break 'rows,
            }
        }
        reserve(&mut out, 1)?;
        out.push(Value::list(row));
    }
    Ok(Value::list(out))
}

/// @builtin unique(src) -> List
/// @builtin xs.unique() -> List
///
/// A new list of the elements of any iterable without repeats, keeping the first
/// occurrence of each, in order. Elements are the same when `==` says so: `1` and `1.0`
/// are one element (the first is kept), lists and maps compare by content, and `nan`
/// (never equal to itself) is always kept. Strings, Ints and Bools are found by hashing;
/// other values are compared with each kept one.
///
/// Errors: `src` is not iterable; any error a stage raises. (Values nested more than
/// 1000 levels deep count as different.)
///
/// ```walia
/// print unique([3, 1, 3, 2, 1]);          // -> [3, 1, 2]
/// print "banana" |> unique() |> join();   // -> ban
/// print unique([[1], [1], 1, 1.0]);       // -> [[1], 1]
/// ```
fn unique(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let items = pipes::collect_values(vm, arg(a, 0), "unique")?;
    let mut hashed: HashSet<MapKey> = HashSet::new();
    let mut compared: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for v in items {
        tick()?;
        let new = match hash_key(&v) {
            Some(k) => hashed.insert(k),
            None => {
                let mut seen = false;
                for kept in &compared {
                    if ops::equal(kept, &v) {
                        seen = true;
                        break;
                    }
                }
                if !seen {
                    reserve(&mut compared, 1)?;
                    compared.push(v.clone());
                }
                !seen
            }
        };
        if new {
            reserve(&mut out, 1)?;
            out.push(v);
        }
    }
    Ok(Value::list(out))
}

/// Ints below this size compare equal only to Ints and integral Floats that a map key
/// of the same value also finds, so they may be hashed; larger ones (which a Float may
/// equal without being the same map key) are compared.
const HASHED_INT_LIMIT: i64 = 9_000_000_000_000_000;

/// The hash key of a value whose `==` is the map key's equality, else `None`.
fn hash_key(v: &Value) -> Option<MapKey> {
    match v {
        Value::Int(i) if i.unsigned_abs() >= HASHED_INT_LIMIT.unsigned_abs() => None,
        Value::Int(_) | Value::Str(_) | Value::Bool(_) | Value::Float(_) => {
            KeyRef::from_value(v).and_then(|_| MapKey::from_value(v).ok())
        }
        _ => None,
    }
}

/// @builtin flatten(src) -> List
/// @builtin xs.flatten() -> List
///
/// A new list with the elements of the lists inside `src` spliced in, one level deep
/// (JavaScript's `flat()`): elements that are lists are replaced by their elements, other
/// elements (strings, ranges, maps, deeper lists) are kept as they are. Call it again to
/// flatten a further level.
///
/// Errors: `src` is not iterable; any error a stage raises.
///
/// ```walia
/// print flatten([[1, 2], 3, [], [[4]]]);   // -> [1, 2, 3, [4]]
/// print [["a"], ["b", "c"]].flatten();     // -> ["a", "b", "c"]
/// ```
fn flatten(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let items = pipes::collect_values(vm, arg(a, 0), "flatten")?;
    let mut out = Vec::new();
    reserve(&mut out, items.len())?;
    for v in items {
        tick()?;
        match &v {
            Value::List(inner) => {
                let inner = inner.items.borrow();
                reserve(&mut out, inner.len())?;
                out.extend(inner.iter().cloned());
            }
            _ => out.push(v),
        }
    }
    Ok(Value::list(out))
}

/// @builtin index_of(src, x) -> Int | nil
/// @builtin l.index_of(x) -> Int | nil
///
/// The index of the first element `== x` in a list or range, or `nil` when there is none.
/// For a string, the character index of the first occurrence of the substring `x` (the
/// same as `find`).
///
/// Errors: `src` is not a List, String or Range; `x` is not a String when `src` is one.
///
/// ```walia
/// print [10, 20, 30].index_of(20);    // -> 1
/// print index_of([1, 2], 5);          // -> nil
/// print index_of("héllo", "llo");     // -> 2
/// print (5..10).index_of(7);          // -> 2
/// ```
fn index_of(a: &[Value]) -> RtResult<Value> {
    let x = arg(a, 1);
    match arg(a, 0) {
        Value::List(l) => {
            let items = l.items.borrow();
            for (i, v) in items.iter().enumerate() {
                tick()?;
                if ops::equal(v, x) {
                    return Ok(Value::Int(i as i64));
                }
            }
            Ok(Value::Nil)
        }
        Value::Range(r) => {
            let n = match x {
                Value::Int(n) => Some(*n),
                Value::Float(f) if f.fract() == 0.0 => KeyRef::from_value(x).and_then(|k| {
                    if let KeyRef::Int(n) = k {
                        Some(n)
                    } else {
                        None
                    }
                }),
                _ => None,
            };
            Ok(match n {
                Some(n) if (r.start..r.end).contains(&n) => Value::Int(
                    n.checked_sub(r.start)
                        .ok_or_else(|| RtError::new("integer overflow in 'index_of'"))?,
                ),
                _ => Value::Nil,
            })
        }
        Value::Str(s) => {
            let sub = expect_str(a, 1, "index_of")?;
            Ok(match s.as_str().find(sub.as_str()) {
                None => Value::Nil,
                Some(b) => {
                    let before = s.as_str().get(..b).unwrap_or("");
                    Value::Int(before.chars().count() as i64)
                }
            })
        }
        other => Err(type_error("index_of", 0, "List, String or Range", other)),
    }
}
