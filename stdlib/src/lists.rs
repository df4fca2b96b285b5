//! List builtins (SPEC §12, §15): `List()`, the list methods and the `list_*` functions.

use crate::check::*;
use crate::pipes;
use walia_runtime::api::{norm_index, reserve, tick};
use walia_runtime::{RtError, RtResult, Value, Vm};

const L: &[&str] = &["List"];

pub fn install(vm: &mut Vm) {
    global(vm, "List", 0, MANY, new_list);
    method(vm, L, "add", 2, 2, add);
    method(vm, L, "push", 2, 2, add);
    method(vm, L, "pop", 1, 1, pop);
    method(vm, L, "get", 2, 2, get);
    method(vm, L, "set", 3, 3, set);
    method(vm, L, "length", 1, 1, length);
    method(vm, L, "insert", 3, 3, insert);
    method(vm, L, "remove", 2, 2, remove);
    method(vm, L, "sort", 1, 2, sort);
    global(vm, "list_add", 2, 2, add);
    global(vm, "list_get", 2, 2, get);
    global(vm, "list_len", 1, 1, length);
    global(vm, "list_pop", 1, 1, pop);
}

/// `List()` is an empty list; `List(a, b)` a list of the arguments.
fn new_list(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(Value::list(a.to_vec()))
}

fn add(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "add")?;
    let mut items = l.items.borrow_mut();
    reserve(&mut items, 1)?;
    items.push(arg(a, 1).clone());
    Ok(Value::Nil)
}

/// Removes and returns the last element (`nil` when empty).
fn pop(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "pop")?;
    Ok(l.items.borrow_mut().pop().unwrap_or_default())
}

/// `nil` when out of range; a negative index counts from the end.
fn get(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "get")?;
    let i = expect_int(a, 1, "get")?;
    let items = l.items.borrow();
    Ok(norm_index(i, items.len())
        .and_then(|j| items.get(j).cloned())
        .unwrap_or_default())
}

fn out_of_range(fname: &str, i: i64, len: usize) -> RtError {
    RtError::new(format!("'{fname}': index {i} out of range (length {len})"))
}

/// Like `l[i] = x`: out of range is an error.
fn set(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "set")?;
    let i = expect_int(a, 1, "set")?;
    let mut items = l.items.borrow_mut();
    let len = items.len();
    let slot = norm_index(i, len)
        .and_then(|j| items.get_mut(j))
        .ok_or_else(|| out_of_range("set", i, len))?;
    *slot = arg(a, 2).clone();
    Ok(Value::Nil)
}

fn length(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "length")?;
    Ok(Value::Int(l.items.borrow().len() as i64))
}

/// `insert(i, x)`: before index `i`; `i == length` appends; negative counts from the end.
fn insert(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "insert")?;
    let i = expect_int(a, 1, "insert")?;
    let mut items = l.items.borrow_mut();
    let len = items.len();
    let j = if i == len as i64 {
        len
    } else {
        norm_index(i, len).ok_or_else(|| out_of_range("insert", i, len))?
    };
    reserve(&mut items, 1)?;
    items.insert(j, arg(a, 2).clone());
    Ok(Value::Nil)
}

/// Removes and returns the element at `i`.
fn remove(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "remove")?;
    let i = expect_int(a, 1, "remove")?;
    let mut items = l.items.borrow_mut();
    let len = items.len();
    let j = norm_index(i, len).ok_or_else(|| out_of_range("remove", i, len))?;
    Ok(items.remove(j))
}

/// Sorts in place (numbers, or strings; mixed is an error) and returns `nil`. An optional
/// key function sorts by its results.
fn sort(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "sort")?;
    let len = l.items.borrow().len();
    // A copy of the list and pairs twice its size: checked before they are made.
    let mut pairs = Vec::new();
    reserve(&mut pairs, len)?;
    let mut items = Vec::new();
    reserve(&mut items, len)?;
    items.extend(l.items.borrow().iter().cloned());
    match a.get(1) {
        Some(_) => {
            let f = expect_fn(a, 1, "sort")?.clone();
            for v in &items {
                tick()?;
                let k = vm.call_value(&f, std::slice::from_ref(v))?;
                pairs.push((k, v.clone()));
            }
            // As in Python: writing the sorted copy back would silently undo the change.
            let now = l.items.borrow();
            if now.len() != items.len() || now.iter().zip(&items).any(|(x, y)| !same(x, y)) {
                return Err(RtError::new(
                    "'sort': the key function modified the list being sorted",
                ));
            }
        }
        None => {
            for v in items {
                tick()?;
                pairs.push((v.clone(), v));
            }
        }
    }
    let sorted = pipes::sort_keyed("sort", pairs)?;
    *l.items.borrow_mut() = sorted;
    Ok(Value::Nil)
}

/// The same element: the same object, or the same number (by its bits, so `nan` is itself
/// and `1` is not `1.0`) or string.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
        _ => walia_runtime::api::ops::identical(a, b),
    }
}
