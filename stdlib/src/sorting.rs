//! @group Lists
//!
//! Sorting (`l.sort`, `sorted`, the `sort_by` terminal, `min`/`max` by key): one stable
//! merge sort driven by a fallible "is less" test. A key function and a comparator are
//! Walia code, so every comparison may fail (an error in the function, the time limit);
//! the standard library's sort cannot stop on an error, and may panic on an inconsistent
//! order (a comparator that answers at random), so it is not used.

use crate::check::*;
use crate::pipes;
use std::cmp::Ordering;
use walia_runtime::api::{ops, reserve, tick};
use walia_runtime::{RtError, RtResult, Value, Vm};

/// Types that get `sorted` as a method.
pub const SORTABLE: &[&str] = &["List", "Range", "Stream", "Table", "String", "Map"];

pub fn install(vm: &mut Vm) {
    method(vm, &["List"], "sort", 1, 2, sort);
    both(vm, SORTABLE, "sorted", 1, 2, sorted);
}

/// How elements are ordered: by their own value, by a key function's result, or by a
/// comparator of two elements.
pub enum Order {
    Natural,
    Key(Value),
    Comparator(Value),
}

/// How many arguments a function takes, where that is known: a Walia function's (or a
/// bound method's) parameters; for a builtin, 1 when it accepts one argument, else 2 when
/// it accepts two.
fn param_count(f: &Value) -> Option<usize> {
    let accepts = |min: usize, max: usize, n: usize| min <= n && n <= max;
    match f {
        Value::Function(c) => Some(usize::from(c.proto.arity)),
        Value::Bound(b) => match &b.method {
            Value::Function(c) => Some(usize::from(c.proto.arity)),
            _ => None,
        },
        Value::Native(n) if accepts(n.min_args, n.max_args, 1) => Some(1),
        Value::Native(n) if accepts(n.min_args, n.max_args, 2) => Some(2),
        _ => None,
    }
}

/// The optional ordering argument `i` of `fname`: absent (or `nil`) is the natural order;
/// a function of two parameters is a comparator, any other function a key function.
pub fn order_arg(a: &[Value], i: usize, fname: &str) -> RtResult<Order> {
    if matches!(arg(a, i), Value::Nil) {
        return Ok(Order::Natural);
    }
    let f = expect_fn(a, i, fname)?.clone();
    Ok(match param_count(&f) {
        Some(2) => Order::Comparator(f),
        Some(0) | Some(3..) => {
            return Err(RtError::new(format!(
                "'{fname}' expects a key function (1 parameter) or a comparator \
                 (2 parameters), got a function of {} parameters",
                param_count(&f).unwrap_or(0)
            )));
        }
        _ => Order::Key(f),
    })
}

/// Sorts `items` (stably) in the given order.
pub fn sort_values(
    vm: &mut Vm,
    fname: &str,
    items: &[Value],
    order: &Order,
) -> RtResult<Vec<Value>> {
    match order {
        Order::Natural => {
            let idx = sort_by_keys(fname, items)?;
            Ok(permute(items, &idx))
        }
        Order::Key(f) => {
            let mut keys = Vec::new();
            reserve(&mut keys, items.len())?;
            for v in items {
                tick()?;
                keys.push(vm.call_value(f, std::slice::from_ref(v))?);
            }
            let idx = sort_by_keys(fname, &keys)?;
            Ok(permute(items, &idx))
        }
        Order::Comparator(f) => {
            let idx = merge_sort(items, &mut |x, y| comes_before(vm, fname, f, x, y))?;
            Ok(permute(items, &idx))
        }
    }
}

/// Sorts `(key, element)` pairs by key, stably (the `sort_by` terminal's result).
pub fn sort_pairs(fname: &str, pairs: Vec<(Value, Value)>) -> RtResult<Vec<Value>> {
    let (keys, items): (Vec<Value>, Vec<Value>) = pairs.into_iter().unzip();
    let idx = sort_by_keys(fname, &keys)?;
    Ok(permute(&items, &idx))
}

/// A comparator's answer: `true` or a number below zero mean "x comes before y".
fn comes_before(vm: &mut Vm, fname: &str, f: &Value, x: &Value, y: &Value) -> RtResult<bool> {
    match vm.call_value(f, &[x.clone(), y.clone()])? {
        Value::Bool(b) => Ok(b),
        Value::Int(n) => Ok(n < 0),
        Value::Float(n) => Ok(n < 0.0),
        other => Err(RtError::new(format!(
            "'{fname}' expects the comparator to return a Bool or a number, got {}",
            other.type_name()
        ))),
    }
}

fn permute(items: &[Value], idx: &[usize]) -> Vec<Value> {
    idx.iter().filter_map(|&i| items.get(i).cloned()).collect()
}

/// Sorts `(key, index)` pairs of a total order stably and gives the indexes in order. The
/// standard sort does runs of `RUN` pairs and merges of them tick per pair, so the time and
/// operation limits can stop a sort of millions of keys within a few milliseconds.
fn sort_total<K: Ord + Copy>(mut pairs: Vec<(K, usize)>) -> RtResult<Vec<usize>> {
    const RUN: usize = 1 << 14;
    for run in pairs.chunks_mut(RUN) {
        run.sort_by_key(|p| p.0);
        for _ in 0..run.len() {
            tick()?;
        }
    }
    let len = pairs.len();
    let mut merged = Vec::new();
    let mut width = RUN;
    while width < len {
        merged.clear();
        reserve(&mut merged, len)?;
        for start in (0..len).step_by(2 * width) {
            let mid = (start + width).min(len);
            let end = (start + 2 * width).min(len);
            let (mut i, mut j) = (start, mid);
            while i < mid && j < end {
                tick()?;
                // Ties take the left run's pair: that keeps the sort stable.
                if pairs[j].0 < pairs[i].0 {
                    merged.push(pairs[j]);
                    j += 1;
                } else {
                    merged.push(pairs[i]);
                    i += 1;
                }
            }
            merged.extend_from_slice(&pairs[i..mid]);
            merged.extend_from_slice(&pairs[j..end]);
        }
        std::mem::swap(&mut pairs, &mut merged);
        width *= 2;
    }
    Ok(pairs.into_iter().map(|p| p.1).collect())
}

/// The sort order of `keys` (indexes into it). Every key must be a number, a string or a
/// list, all of one kind; lists compare element by element.
fn sort_by_keys(fname: &str, keys: &[Value]) -> RtResult<Vec<usize>> {
    let mut first_kind: Option<&'static str> = None;
    for k in keys {
        tick()?;
        let this = kind(fname, k)?;
        match first_kind {
            None => first_kind = Some(this),
            Some(seen) if seen != this => return Err(mixed(fname, seen, this)),
            _ => {}
        }
    }
    // All Ints or all strings: a total order in Rust's own types (`Ord`), which the
    // standard stable sort handles without any risk of panicking, and faster (in runs, so
    // the limits can stop it).
    if keys.iter().all(|k| matches!(k, Value::Int(_))) {
        let mut pairs = Vec::new();
        reserve(&mut pairs, keys.len())?;
        pairs.extend(keys.iter().enumerate().map(|(i, k)| match k {
            Value::Int(n) => (*n, i),
            _ => (0, i),
        }));
        return sort_total(pairs);
    }
    if keys.iter().all(|k| matches!(k, Value::Str(_))) {
        let mut pairs = Vec::new();
        reserve(&mut pairs, keys.len())?;
        pairs.extend(keys.iter().enumerate().map(|(i, k)| match k {
            Value::Str(s) => (s.as_str(), i),
            _ => ("", i),
        }));
        return sort_total(pairs);
    }
    merge_sort(keys, &mut |x, y| {
        Ok(compare_keys(fname, x, y, 0)? == Ordering::Less)
    })
}

/// What a sort key is, in the plural of error messages.
fn kind(fname: &str, k: &Value) -> RtResult<&'static str> {
    match k {
        Value::Int(_) | Value::Float(_) => Ok("numbers"),
        Value::Str(_) => Ok("strings"),
        Value::List(_) => Ok("lists"),
        other => Err(RtError::new(format!(
            "'{fname}' can only compare numbers, strings or lists, got {}",
            other.type_name()
        ))),
    }
}

fn mixed(fname: &str, a: &str, b: &str) -> RtError {
    RtError::new(format!("'{fname}' cannot compare {a} with {b}"))
}

fn is_nan(v: &Value) -> bool {
    matches!(v, Value::Float(f) if f.is_nan())
}

/// Lists nested deeper than this cannot be compared as keys (as for `==`): an error, not
/// a crash of the Rust stack.
const MAX_KEY_DEPTH: usize = 1000;

/// The order of two sort keys: numbers by value (`nan` after every number), strings by
/// their bytes (code points), lists element by element and then by length. A total order,
/// so the sort is well defined even with `nan`.
pub fn compare_keys(fname: &str, a: &Value, b: &Value, depth: usize) -> RtResult<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x.as_str().cmp(y.as_str())),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            Ok(match (is_nan(a), is_nan(b)) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => ops::compare(fname, a, b)?.unwrap_or(Ordering::Equal),
            })
        }
        (Value::List(x), Value::List(y)) => {
            if std::rc::Rc::ptr_eq(x, y) {
                return Ok(Ordering::Equal);
            }
            if depth >= MAX_KEY_DEPTH {
                return Err(RtError::new(format!(
                    "'{fname}' cannot compare lists nested more than {} levels deep",
                    MAX_KEY_DEPTH
                )));
            }
            // No Walia code runs while comparing keys, so the borrows cannot conflict.
            let (xs, ys) = (x.items.borrow(), y.items.borrow());
            for (p, q) in xs.iter().zip(ys.iter()) {
                tick()?;
                match compare_keys(fname, p, q, depth + 1)? {
                    Ordering::Equal => {}
                    other => return Ok(other),
                }
            }
            Ok(xs.len().cmp(&ys.len()))
        }
        _ => Err(mixed(fname, kind(fname, a)?, kind(fname, b)?)),
    }
}

/// Runs shorter than this are sorted by insertion.
const SHORT_RUN: usize = 16;

/// A stable merge sort of `items` by `is_less`, giving the sorted order as indexes. The
/// first error of `is_less` ends the sort. Whatever `is_less` answers, it ends after
/// O(n log n) calls and never panics: an inconsistent order only gives some permutation.
pub fn merge_sort<T>(
    items: &[T],
    is_less: &mut dyn FnMut(&T, &T) -> RtResult<bool>,
) -> RtResult<Vec<usize>> {
    let n = items.len();
    let mut idx = Vec::new();
    reserve(&mut idx, n)?;
    idx.extend(0..n);
    let mut buf = Vec::new();
    reserve(&mut buf, n)?;
    buf.extend(0..n);
    let mut less = |i: usize, j: usize| -> RtResult<bool> {
        tick()?;
        match (items.get(i), items.get(j)) {
            (Some(x), Some(y)) => is_less(x, y),
            _ => Ok(false),
        }
    };
    sort_run(&mut idx, &mut buf, &mut less)?;
    Ok(idx)
}

fn sort_run(
    idx: &mut [usize],
    buf: &mut [usize],
    less: &mut dyn FnMut(usize, usize) -> RtResult<bool>,
) -> RtResult<()> {
    let n = idx.len();
    if n <= SHORT_RUN {
        for i in 1..n {
            let mut j = i;
            // Only a strictly smaller element moves left: equal ones keep their order.
            while j > 0 && less(idx[j], idx[j - 1])? {
                idx.swap(j, j - 1);
                j -= 1;
            }
        }
        return Ok(());
    }
    let mid = n / 2;
    {
        let (left, right) = idx.split_at_mut(mid);
        let (left_buf, right_buf) = buf.split_at_mut(mid);
        sort_run(left, left_buf, less)?;
        sort_run(right, right_buf, less)?;
    }
    // Already in order (sorted input): nothing to merge.
    if !less(idx[mid], idx[mid - 1])? {
        return Ok(());
    }
    buf.copy_from_slice(idx);
    let (mut i, mut j) = (0, mid);
    for slot in idx.iter_mut() {
        // The right run's element goes first only when strictly smaller: stability.
        let take_right = i >= mid || (j < n && less(buf[j], buf[i])?);
        if take_right {
            *slot = buf[j];
            j += 1;
        } else {
            *slot = buf[i];
            i += 1;
        }
    }
    Ok(())
}

/// @builtin l.sort([f]) -> nil
///
/// Sorts the list in place, stably, and returns `nil`. Without `f` the elements themselves
/// are compared: all numbers, all strings (by code point, so `"B"` comes before `"a"`), or
/// all lists (element by element, then the shorter first, like tuples in Python); `nan`
/// sorts after every number. `f` of one parameter is a key function (Python's `key=`):
/// the elements are ordered by `f(x)`, compared by the same rules, so a key may return
/// `[a, b]` to sort by `a` then `b`. `f` of two parameters is a comparator: it answers
/// whether `x` comes before `y`, either as a Bool (Lua's `table.sort`) or as a number
/// (below zero: before; zero or more: not before). A builtin taking one argument is a key
/// function.
///
/// Errors: elements (or keys) that are not numbers, strings or lists, or of mixed kinds
/// (`cannot compare numbers with strings`); a comparator returning something else than a
/// Bool or a number; `f` taking no or more than 2 parameters; `f` changing the list
/// (Python's "list modified during sort"); any error `f` raises. After an error the list
/// is unchanged.
///
/// ```walia
/// var l = [3, 1, 2];
/// l.sort();
/// print l;                                   // -> [1, 2, 3]
/// var words = ["pear", "fig", "apple"];
/// words.sort(w => w.length());
/// print words;                               // -> ["fig", "pear", "apple"]
/// words.sort((a, b) => a > b);
/// print words;                               // -> ["pear", "fig", "apple"]
/// ```
fn sort(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "sort")?;
    let order = order_arg(a, 1, "sort")?;
    let mut items = Vec::new();
    reserve(&mut items, l.items.borrow().len())?;
    items.extend(l.items.borrow().iter().cloned());
    let sorted = sort_values(vm, "sort", &items, &order)?;
    if !matches!(order, Order::Natural) {
        // As in Python: writing the sorted copy back would silently undo the change.
        let now = l.items.borrow();
        if now.len() != items.len() || now.iter().zip(&items).any(|(x, y)| !same(x, y)) {
            let what = if matches!(order, Order::Key(_)) {
                "key function"
            } else {
                "comparator"
            };
            return Err(RtError::new(format!(
                "'sort': the {what} modified the list being sorted"
            )));
        }
    }
    *l.items.borrow_mut() = sorted;
    Ok(Value::Nil)
}

/// The same element: the same object, or the same number (by its bits, so `nan` is itself
/// and `1` is not `1.0`) or string.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
        _ => ops::identical(a, b),
    }
}

/// @builtin sorted(src [, f]) -> List
/// @builtin l.sorted([f]) -> List
///
/// A new sorted list of the elements of any iterable (a list, range, string's characters,
/// map's `[key, value]` pairs, stream or table); the source is not changed. `f` and the
/// order are as in `l.sort([f])`: one parameter is a key function, two a comparator
/// (a Bool "comes before", or a number below zero for "before"). Stable. Also a pipe
/// terminal: `xs |> sorted()`.
///
/// Errors: `src` is not iterable; elements (or keys) of mixed or unsortable kinds; a bad
/// comparator result; any error `f` raises.
///
/// ```walia
/// print sorted([3, 1, 2]);                        // -> [1, 2, 3]
/// print sorted("banana");                         // -> ["a", "a", "a", "b", "n", "n"]
/// print [[2, "b"], [1, "z"], [2, "a"]] |> sorted(); // -> [[1, "z"], [2, "a"], [2, "b"]]
/// print sorted(1..6, (a, b) => b - a);            // -> [5, 4, 3, 2, 1]
/// ```
fn sorted(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let order = order_arg(a, 1, "sorted")?;
    let items = pipes::collect_values(vm, arg(a, 0), "sorted")?;
    Ok(Value::list(sort_values(vm, "sorted", &items, &order)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sort_ints(v: &[i64]) -> Vec<i64> {
        let idx = merge_sort(v, &mut |a, b| Ok(a < b)).unwrap_or_default();
        idx.iter().map(|&i| v[i]).collect()
    }

    #[test]
    fn merge_sort_sorts_and_is_stable() {
        let mut seed = 12345u64;
        for n in [0usize, 1, 2, 15, 16, 17, 100, 1000] {
            let v: Vec<i64> = (0..n)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 33) as i64 % 50
                })
                .collect();
            let mut expected = v.clone();
            expected.sort();
            assert_eq!(sort_ints(&v), expected);
            // Stability: pairs sorted by their first part keep the order of the second.
            let pairs: Vec<(i64, usize)> = v.iter().copied().zip(0..).collect();
            let idx = merge_sort(&pairs, &mut |a, b| Ok(a.0 < b.0)).unwrap_or_default();
            let out: Vec<(i64, usize)> = idx.iter().map(|&i| pairs[i]).collect();
            let mut std_stable = pairs.clone();
            std_stable.sort_by_key(|p| p.0);
            assert_eq!(out, std_stable);
        }
    }

    #[test]
    fn the_total_order_sort_in_runs_is_stable_across_run_boundaries() {
        let mut seed = 99u64;
        for n in [0usize, 1, 16_384, 16_385, 50_000, 70_001] {
            let pairs: Vec<(i64, usize)> = (0..n)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 33) as i64 % 1000, i)
                })
                .collect();
            let mut expected = pairs.clone();
            expected.sort_by_key(|p| p.0);
            let expected: Vec<usize> = expected.into_iter().map(|p| p.1).collect();
            assert_eq!(sort_total(pairs).unwrap_or_default(), expected, "n = {n}");
        }
    }

    #[test]
    fn an_inconsistent_order_gives_a_permutation_and_an_error_stops_the_sort() {
        let v: Vec<i64> = (0..500).collect();
        let mut flip = false;
        let idx = merge_sort(&v, &mut |_, _| {
            flip = !flip;
            Ok(flip)
        })
        .unwrap_or_default();
        let mut seen = idx.clone();
        seen.sort();
        assert_eq!(seen, (0..500).collect::<Vec<usize>>());
        let mut calls = 0;
        let r = merge_sort(&v, &mut |_, _| {
            calls += 1;
            if calls == 40 {
                Err(RtError::new("stop"))
            } else {
                Ok(false)
            }
        });
        assert!(r.is_err_and(|e| e.message == "stop"));
        assert_eq!(calls, 40);
    }
}
