//! @group Maps
//!
//! Map builtins (SPEC §12, §15): `Map()`, the map methods and `map_set map_get map_del`.
//! Keys are strings, ints and bools; maps keep insertion order.

use crate::check::*;
use crate::pipes;
use walia_runtime::api::{KeyRef, MapKey, reserve, tick};
use walia_runtime::{RtError, RtResult, Value, Vm};

const M: &[&str] = &["Map"];

pub fn install(vm: &mut Vm) {
    global(vm, "Map", 0, 1, new_map);
    leaf_method(vm, M, "get", 2, 3, get);
    leaf_method(vm, M, "set", 3, 3, set);
    leaf_method(vm, M, "has", 2, 2, has);
    leaf_method(vm, M, "remove", 2, 2, remove);
    leaf_method(vm, M, "keys", 1, 1, keys);
    leaf_method(vm, M, "values", 1, 1, values);
    leaf_method(vm, M, "length", 1, 1, length);
    leaf_global(vm, "map_set", 3, 3, set);
    leaf_global(vm, "map_get", 2, 3, get);
    leaf_global(vm, "map_del", 2, 2, remove);
    leaf_both(vm, M, "entries", 1, 1, entries);
    leaf_both(vm, M, "items", 1, 1, entries);
    leaf_both(vm, M, "merge", 1, MANY, merge);
    leaf_both(vm, M, "update", 2, MANY, update);
    leaf_both(vm, M, "get_or_set", 3, 3, get_or_set);
    both(vm, pipes::SRC, "to_map", 1, 1, to_map);
}

/// @builtin Map([pairs]) -> Map
///
/// A new map: `Map()` is empty (as `{}`); `Map(pairs)` is `to_map(pairs)`, a map of the
/// `[key, value]` pairs of any iterable (so `Map(m)` copies the map `m`).
///
/// Errors: as `to_map`.
///
/// ```walia
/// print Map();                       // -> {}
/// print Map([["a", 1], ["b", 2]]);   // -> {"a": 1, "b": 2}
/// ```
fn new_map(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match a.first() {
        Some(src) => pairs_to_map(vm, src, "Map"),
        None => Ok(Value::map(walia_runtime::api::new_entries(0))),
    }
}

/// @builtin m.get(k [, default]) -> any
/// @builtin map_get(m, k [, default]) -> any
///
/// The value for key `k`, or `default` (`nil` when not given) when the map has no such
/// key (a key holding `nil` gives `nil`). The map is not changed: see `get_or_set` to
/// store the default.
///
/// Errors: `m` is not a Map.
///
/// ```walia
/// var m = {a: 1};
/// print m.get("a");          // -> 1
/// print m.get("b");          // -> nil
/// print map_get(m, "b", 0);  // -> 0
/// ```
fn get(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "get")?;
    let found = KeyRef::from_value(arg(a, 1)).and_then(|k| m.entries.borrow().get(&k).cloned());
    Ok(found.unwrap_or_else(|| arg(a, 2).clone()))
}

/// @builtin m.set(k, v) -> nil
/// @builtin map_set(m, k, v) -> nil
///
/// Sets key `k` to `v` (like `m[k] = v`): a new key goes at the end of the order, an
/// existing one keeps its place.
///
/// Errors: `m` is not a Map; `k` is not a String, Int or Bool.
///
/// ```walia
/// var m = {b: 1};
/// m.set("a", 2);
/// map_set(m, "b", 3);
/// print m;   // -> {"b": 3, "a": 2}
/// ```
fn set(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "set")?;
    let k = MapKey::from_value(arg(a, 1))?;
    m.insert(k, arg(a, 2).clone());
    Ok(Value::Nil)
}

/// @builtin m.has(k) -> Bool
///
/// Whether the map has the key `k` (even when its value is `nil`); `contains(m, k)` is
/// the same.
///
/// Errors: `m` is not a Map.
///
/// ```walia
/// var m = {a: nil};
/// print m.has("a");   // -> true
/// print m.has("b");   // -> false
/// ```
fn has(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "has")?;
    let found = KeyRef::from_value(arg(a, 1)).is_some_and(|k| m.entries.borrow().contains_key(&k));
    Ok(Value::Bool(found))
}

/// @builtin m.remove(k) -> any
/// @builtin map_del(m, k) -> any
///
/// Removes key `k`, keeping the order of the others, and returns its value (`nil` when
/// the key was missing).
///
/// Errors: `m` is not a Map.
///
/// ```walia
/// var m = {a: 1, b: 2, c: 3};
/// print m.remove("b");   // -> 2
/// print map_del(m, "z"); // -> nil
/// print m;               // -> {"a": 1, "c": 3}
/// ```
fn remove(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "remove")?;
    let removed =
        KeyRef::from_value(arg(a, 1)).and_then(|k| m.entries.borrow_mut().shift_remove(&k));
    Ok(removed.unwrap_or_default())
}

/// @builtin m.keys() -> List
///
/// A new list of the keys, in insertion order.
///
/// Errors: `m` is not a Map.
///
/// ```walia
/// print {b: 1, a: 2, 3: 0}.keys();   // -> ["b", "a", 3]
/// ```
fn keys(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "keys")?;
    let mut ks = Vec::new();
    reserve(&mut ks, m.entries.borrow().len())?;
    ks.extend(m.entries.borrow().keys().map(MapKey::to_value));
    Ok(Value::list(ks))
}

/// @builtin m.values() -> List
///
/// A new list of the values, in the order of their keys.
///
/// Errors: `m` is not a Map.
///
/// ```walia
/// print {b: 1, a: 2}.values();   // -> [1, 2]
/// ```
fn values(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "values")?;
    let mut vs = Vec::new();
    reserve(&mut vs, m.entries.borrow().len())?;
    vs.extend(m.entries.borrow().values().cloned());
    Ok(Value::list(vs))
}

/// @builtin m.length() -> Int
///
/// The number of keys (as `len(m)`).
///
/// Errors: `m` is not a Map.
///
/// ```walia
/// print {a: 1, b: 2}.length();   // -> 2
/// ```
fn length(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "length")?;
    Ok(Value::Int(m.entries.borrow().len() as i64))
}

/// @builtin entries(m) -> List
/// @builtin items(m) -> List
/// @builtin m.entries() -> List
/// @builtin m.items() -> List
///
/// A new list of the map's `[key, value]` pairs, in insertion order (`items` is the same,
/// for Python users). The pairs are what a pipe over a map reads, and `to_map` turns
/// them back into a map.
///
/// Errors: `m` is not a Map.
///
/// ```walia
/// var m = {a: 1, b: 2};
/// print m.entries();   // -> [["a", 1], ["b", 2]]
/// for (p in items(m)) print p[0] + "=" + p[1];
/// // -> a=1
/// // -> b=2
/// ```
fn entries(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "entries")?;
    let entries = m.entries.borrow();
    let mut out = Vec::new();
    reserve(&mut out, entries.len())?;
    for (k, v) in entries.iter() {
        tick()?;
        out.push(Value::list(vec![k.to_value(), v.clone()]));
    }
    Ok(Value::list(out))
}

/// @builtin merge(a, b, ...) -> Map
/// @builtin m.merge(b, ...) -> Map
///
/// A new map with the entries of every argument; where several have a key, the later
/// value wins (Python's `a | b`), and the key keeps the place where it first appeared.
/// The arguments are not changed; `update` merges into the first one in place.
///
/// Errors: an argument is not a Map.
///
/// ```walia
/// var defaults = {color: "red", size: 1};
/// print merge(defaults, {size: 3}, {extra: true});
/// // -> {"color": "red", "size": 3, "extra": true}
/// print defaults;   // -> {"color": "red", "size": 1}
/// ```
fn merge(a: &[Value]) -> RtResult<Value> {
    for i in 0..a.len() {
        expect_map(a, i, "merge")?;
    }
    let out = walia_runtime::api::new_entries(0);
    let Value::Map(target) = Value::map(out) else {
        return Err(RtError::new("'merge': cannot make a map"));
    };
    merge_into(&target, a, 0, "merge")?;
    Ok(Value::Map(target))
}

/// Sets every entry of the maps `a[from..]` in `target`, in order.
fn merge_into(
    target: &std::rc::Rc<walia_runtime::api::Map>,
    a: &[Value],
    from: usize,
    fname: &str,
) -> RtResult<()> {
    for i in from..a.len() {
        let m = expect_map(a, i, fname)?;
        // A copy first: `m` may be `target` itself (`m.update(m)`).
        let pairs: Vec<(MapKey, Value)> = {
            let entries = m.entries.borrow();
            let mut pairs = Vec::new();
            reserve(&mut pairs, entries.len())?;
            pairs.extend(entries.iter().map(|(k, v)| (k.clone(), v.clone())));
            pairs
        };
        for (k, v) in pairs {
            tick()?;
            target.insert(k, v);
        }
    }
    Ok(())
}

/// @builtin update(m, b, ...) -> nil
/// @builtin m.update(b, ...) -> nil
///
/// Sets every entry of the maps `b, ...` in `m`, in place (Python's `dict.update`): later
/// values win, new keys go at the end. Returns `nil`, like the other in-place methods;
/// `merge` makes a new map instead.
///
/// Errors: an argument is not a Map.
///
/// ```walia
/// var config = {debug: false, level: 1};
/// config.update({level: 3, name: "x"});
/// print config;   // -> {"debug": false, "level": 3, "name": "x"}
/// ```
fn update(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "update")?.clone();
    for i in 1..a.len() {
        expect_map(a, i, "update")?;
    }
    merge_into(&m, a, 1, "update")?;
    Ok(Value::Nil)
}

/// @builtin get_or_set(m, k, default) -> any
/// @builtin m.get_or_set(k, default) -> any
///
/// The value for key `k`; when the map has no such key, first sets it to `default`
/// (Python's `dict.setdefault`). Handy to build groups: `m.get_or_set(k, []).push(x)`.
/// `default` is evaluated before the call, even when the key exists.
///
/// Errors: `m` is not a Map; `k` is not a String, Int or Bool.
///
/// ```walia
/// var groups = {};
/// for (w in ["ant", "bee", "asp"]) groups.get_or_set(w.substr(0, 1), []).push(w);
/// print groups;                        // -> {"a": ["ant", "asp"], "b": ["bee"]}
/// print groups.get_or_set("b", []);    // -> ["bee"]
/// ```
fn get_or_set(a: &[Value]) -> RtResult<Value> {
    let m = expect_map(a, 0, "get_or_set")?;
    let k = MapKey::from_value(arg(a, 1))
        .map_err(|e| RtError::new(format!("'get_or_set': {}", e.message)))?;
    if let Some(v) = m.entries.borrow().get(&KeyRef::from(&k)) {
        return Ok(v.clone());
    }
    let default = arg(a, 2).clone();
    m.insert(k, default.clone());
    Ok(default)
}

/// @builtin to_map(src) -> Map
/// @builtin xs.to_map() -> Map
///
/// A pipe terminal: a new map of the `[key, value]` pairs of any iterable (a list of
/// pairs, a stream, a map's entries); a repeated key keeps its first place and its last
/// value. The inverse of `entries`.
///
/// Errors: `src` is not iterable; an element that is not a list of two elements; a key
/// that is not a String, Int or Bool.
///
/// ```walia
/// print to_map([["a", 1], ["b", 2], ["a", 3]]);         // -> {"a": 3, "b": 2}
/// print ["x", "yy"] |> map(s => [s, s.length()]) |> to_map(); // -> {"x": 1, "yy": 2}
/// ```
fn to_map(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    pairs_to_map(vm, arg(a, 0), "to_map")
}

fn pairs_to_map(vm: &mut Vm, src: &Value, fname: &str) -> RtResult<Value> {
    let items = pipes::collect_values(vm, src, fname)?;
    let Value::Map(m) = Value::map(walia_runtime::api::new_entries(0)) else {
        return Err(RtError::new(format!("'{fname}': cannot make a map")));
    };
    for (i, pair) in items.iter().enumerate() {
        tick()?;
        let (k, v) = match pair {
            Value::List(l) if l.items.borrow().len() == 2 => {
                let items = l.items.borrow();
                (items[0].clone(), items[1].clone())
            }
            other => {
                return Err(RtError::new(format!(
                    "'{fname}' expects [key, value] pairs, got {} at element {i}",
                    describe_pair(other)
                )));
            }
        };
        let k = MapKey::from_value(&k)
            .map_err(|e| RtError::new(format!("'{fname}': {}", e.message)))?;
        m.insert(k, v);
    }
    Ok(Value::Map(m))
}

/// "a List of 3 elements", "Int".
fn describe_pair(v: &Value) -> String {
    match v {
        Value::List(l) => format!("a List of {} elements", l.items.borrow().len()),
        other => other.type_name().to_string(),
    }
}
