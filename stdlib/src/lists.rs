//! @group Lists
//!
//! List builtins (SPEC §12, §15): `List()`, the list methods and the `list_*` functions.
//! Sorting is in `sorting.rs`, the functions over any iterable in `collections.rs`.

use crate::check::*;
use walia_runtime::api::{norm_index, reserve};
use walia_runtime::{RtError, RtResult, Value, Vm};

const L: &[&str] = &["List"];

pub fn install(vm: &mut Vm) {
    leaf_global(vm, "List", 0, MANY, new_list);
    leaf_method(vm, L, "add", 2, 2, add);
    leaf_method(vm, L, "push", 2, 2, add);
    leaf_method(vm, L, "pop", 1, 1, pop);
    leaf_method(vm, L, "get", 2, 2, get);
    leaf_method(vm, L, "set", 3, 3, set);
    leaf_method(vm, L, "length", 1, 1, length);
    leaf_method(vm, L, "insert", 3, 3, insert);
    leaf_method(vm, L, "remove", 2, 2, remove);
    leaf_global(vm, "list_add", 2, 2, add);
    leaf_global(vm, "list_get", 2, 2, get);
    leaf_global(vm, "list_len", 1, 1, length);
    leaf_global(vm, "list_pop", 1, 1, pop);
}

/// @builtin List(...) -> List
///
/// A new list of the arguments: `List()` is empty, `List(1, 2)` is `[1, 2]`. To make a
/// list of an iterable's elements, use `collect(src)`.
///
/// ```walia
/// print List();           // -> []
/// print List(1, "a");     // -> [1, "a"]
/// ```
fn new_list(a: &[Value]) -> RtResult<Value> {
    Ok(Value::list(a.to_vec()))
}

/// @builtin l.add(x) -> nil
/// @builtin l.push(x) -> nil
/// @builtin list_add(l, x) -> nil
///
/// Appends `x` at the end of the list, in place (`push` and `list_add` are the same).
///
/// Errors: `l` is not a List.
///
/// ```walia
/// var l = [1];
/// l.add(2);
/// l.push(3);
/// list_add(l, 4);
/// print l;   // -> [1, 2, 3, 4]
/// ```
fn add(a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "add")?;
    let mut items = l.items.borrow_mut();
    reserve(&mut items, 1)?;
    items.push(arg(a, 1).clone());
    Ok(Value::Nil)
}

/// @builtin l.pop() -> any
/// @builtin list_pop(l) -> any
///
/// Removes and returns the last element, or `nil` when the list is empty.
///
/// Errors: `l` is not a List.
///
/// ```walia
/// var l = [1, 2];
/// print l.pop();   // -> 2
/// print l;         // -> [1]
/// print [].pop();  // -> nil
/// ```
fn pop(a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "pop")?;
    Ok(l.items.borrow_mut().pop().unwrap_or_default())
}

/// @builtin l.get(i) -> any
/// @builtin list_get(l, i) -> any
///
/// The element at index `i` (from 0; a negative index counts from the end), or `nil` when
/// out of range (where `l[i]` is an error).
///
/// Errors: `l` is not a List; `i` is not an Int.
///
/// ```walia
/// var l = [10, 20, 30];
/// print l.get(0);    // -> 10
/// print l.get(-1);   // -> 30
/// print l.get(5);    // -> nil
/// ```
fn get(a: &[Value]) -> RtResult<Value> {
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

/// @builtin l.set(i, x) -> nil
///
/// Replaces the element at index `i` (negative counts from the end), like `l[i] = x`.
///
/// Errors: `l` is not a List; `i` is not an Int or is out of range.
///
/// ```walia
/// var l = [1, 2, 3];
/// l.set(-1, 9);
/// print l;   // -> [1, 2, 9]
/// ```
fn set(a: &[Value]) -> RtResult<Value> {
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

/// @builtin l.length() -> Int
/// @builtin list_len(l) -> Int
///
/// The number of elements (as `len(l)`).
///
/// Errors: `l` is not a List.
///
/// ```walia
/// print [1, 2, 3].length();   // -> 3
/// print list_len([]);         // -> 0
/// ```
fn length(a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "length")?;
    Ok(Value::Int(l.items.borrow().len() as i64))
}

/// @builtin l.insert(i, x) -> nil
///
/// Inserts `x` before index `i`, in place; `i == l.length()` appends, a negative `i`
/// counts from the end.
///
/// Errors: `l` is not a List; `i` is not an Int or is out of range.
///
/// ```walia
/// var l = [1, 3];
/// l.insert(1, 2);
/// l.insert(l.length(), 4);
/// print l;   // -> [1, 2, 3, 4]
/// ```
fn insert(a: &[Value]) -> RtResult<Value> {
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

/// @builtin l.remove(i) -> any
///
/// Removes the element at index `i` (negative counts from the end) and returns it.
///
/// Errors: `l` is not a List; `i` is not an Int or is out of range.
///
/// ```walia
/// var l = ["a", "b", "c"];
/// print l.remove(0);   // -> a
/// print l;             // -> ["b", "c"]
/// ```
fn remove(a: &[Value]) -> RtResult<Value> {
    let l = expect_list(a, 0, "remove")?;
    let i = expect_int(a, 1, "remove")?;
    let mut items = l.items.borrow_mut();
    let len = items.len();
    let j = norm_index(i, len).ok_or_else(|| out_of_range("remove", i, len))?;
    Ok(items.remove(j))
}
