//! Map builtins (SPEC §12, §15): `Map()`, the map methods and `map_set map_get map_del`.
//! Keys are strings, ints and bools; maps keep insertion order.

use crate::check::*;
use walia_runtime::api::{KeyRef, MapKey, reserve};
use walia_runtime::{RtResult, Value, Vm};

const M: &[&str] = &["Map"];

pub fn install(vm: &mut Vm) {
    global(vm, "Map", 0, 0, new_map);
    method(vm, M, "get", 2, 3, get);
    method(vm, M, "set", 3, 3, set);
    method(vm, M, "has", 2, 2, has);
    method(vm, M, "remove", 2, 2, remove);
    method(vm, M, "keys", 1, 1, keys);
    method(vm, M, "values", 1, 1, values);
    method(vm, M, "length", 1, 1, length);
    global(vm, "map_set", 3, 3, set);
    global(vm, "map_get", 2, 3, get);
    global(vm, "map_del", 2, 2, remove);
}

fn new_map(_: &mut Vm, _: &[Value]) -> RtResult<Value> {
    Ok(Value::map(walia_runtime::api::new_entries(0)))
}

/// The value for `k`, else `nil` (or the optional default).
fn get(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "get")?;
    let found = KeyRef::from_value(arg(a, 1)).and_then(|k| m.entries.borrow().get(&k).cloned());
    Ok(found.unwrap_or_else(|| arg(a, 2).clone()))
}

fn set(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "set")?;
    let k = MapKey::from_value(arg(a, 1))?;
    m.insert(k, arg(a, 2).clone());
    Ok(Value::Nil)
}

fn has(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "has")?;
    let found = KeyRef::from_value(arg(a, 1)).is_some_and(|k| m.entries.borrow().contains_key(&k));
    Ok(Value::Bool(found))
}

/// Removes `k` (keeping the order of the others) and returns its value, or `nil`.
fn remove(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "remove")?;
    let removed =
        KeyRef::from_value(arg(a, 1)).and_then(|k| m.entries.borrow_mut().shift_remove(&k));
    Ok(removed.unwrap_or_default())
}

fn keys(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "keys")?;
    let mut ks = Vec::new();
    reserve(&mut ks, m.entries.borrow().len())?;
    ks.extend(m.entries.borrow().keys().map(MapKey::to_value));
    Ok(Value::list(ks))
}

fn values(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "values")?;
    let mut vs = Vec::new();
    reserve(&mut vs, m.entries.borrow().len())?;
    vs.extend(m.entries.borrow().values().cloned());
    Ok(Value::list(vs))
}

fn length(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "length")?;
    Ok(Value::Int(m.entries.borrow().len() as i64))
}
