//! Argument checking and registration helpers shared by every builtin module.

use std::rc::Rc;
use walia_runtime::api::{List, Map, Str};
use walia_runtime::{RtError, RtResult, Value, Vm};

/// The shape of every builtin: the VM and the arguments (a method's receiver first).
pub type Builtin = fn(&mut Vm, &[Value]) -> RtResult<Value>;

/// A builtin that needs only its arguments (it never calls back into the VM): it reads
/// them where they lie on the VM's stack, with no stack lent out and back.
pub type Leaf = fn(&[Value]) -> RtResult<Value>;

/// Variadic marker for `max` argument counts.
pub const MANY: usize = usize::MAX;

/// Register `f` as the global function `name`.
pub fn global(vm: &mut Vm, name: &str, min: usize, max: usize, f: Builtin) {
    vm.set_global(name, Value::builtin(name, min, max, f));
}

/// Register `f` as method `name` of every type in `types`. `min`/`max` count the receiver;
/// arity errors report the counts without it, as the script wrote the call.
pub fn method(vm: &mut Vm, types: &[&'static str], name: &str, min: usize, max: usize, f: Builtin) {
    let native = Value::builtin_method(name, min, max, f);
    for t in types {
        vm.register_method(t, name, native.clone());
    }
}

/// [`global`] for a builtin that needs only its arguments.
pub fn leaf_global(vm: &mut Vm, name: &str, min: usize, max: usize, f: Leaf) {
    vm.set_global(name, Value::leaf(name, min, max, f));
}

/// [`method`] for a builtin that needs only its arguments.
pub fn leaf_method(
    vm: &mut Vm,
    types: &[&'static str],
    name: &str,
    min: usize,
    max: usize,
    f: Leaf,
) {
    let native = Value::leaf_method(name, min, max, f);
    for t in types {
        vm.register_method(t, name, native.clone());
    }
}

/// Register `f` both as a global and as a method of `types`.
pub fn both(vm: &mut Vm, types: &[&'static str], name: &str, min: usize, max: usize, f: Builtin) {
    global(vm, name, min, max, f);
    method(vm, types, name, min, max, f);
}

/// [`both`] for a builtin that needs only its arguments.
pub fn leaf_both(vm: &mut Vm, types: &[&'static str], name: &str, min: usize, max: usize, f: Leaf) {
    leaf_global(vm, name, min, max, f);
    leaf_method(vm, types, name, min, max, f);
}

/// The `i`-th argument (0-based), `nil` when absent.
pub fn arg(args: &[Value], i: usize) -> &Value {
    const NIL: &Value = &Value::Nil;
    args.get(i).unwrap_or(NIL)
}

fn article(what: &str) -> &'static str {
    match what.chars().next().map(|c| c.to_ascii_uppercase()) {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

/// "'substr' expects an Int for argument 2, got String".
pub fn type_error(fname: &str, i: usize, expected: &str, got: &Value) -> RtError {
    RtError::new(format!(
        "'{fname}' expects {} {expected} for argument {}, got {}",
        article(expected),
        i + 1,
        got.type_name()
    ))
}

pub fn expect_int(args: &[Value], i: usize, fname: &str) -> RtResult<i64> {
    match arg(args, i) {
        Value::Int(n) => Ok(*n),
        other => Err(type_error(fname, i, "Int", other)),
    }
}

/// An Int or a Float, as f64.
pub fn expect_num(args: &[Value], i: usize, fname: &str) -> RtResult<f64> {
    match arg(args, i) {
        Value::Int(n) => Ok(*n as f64),
        Value::Float(f) => Ok(*f),
        other => Err(type_error(fname, i, "number", other)),
    }
}

pub fn expect_str<'a>(args: &'a [Value], i: usize, fname: &str) -> RtResult<&'a Rc<Str>> {
    match arg(args, i) {
        Value::Str(s) => Ok(s),
        other => Err(type_error(fname, i, "String", other)),
    }
}

pub fn expect_list<'a>(args: &'a [Value], i: usize, fname: &str) -> RtResult<&'a Rc<List>> {
    match arg(args, i) {
        Value::List(l) => Ok(l),
        other => Err(type_error(fname, i, "List", other)),
    }
}

pub fn expect_map<'a>(args: &'a [Value], i: usize, fname: &str) -> RtResult<&'a Rc<Map>> {
    match arg(args, i) {
        Value::Map(m) => Ok(m),
        other => Err(type_error(fname, i, "Map", other)),
    }
}

pub fn is_callable(v: &Value) -> bool {
    matches!(
        v,
        Value::Function(_) | Value::Native(_) | Value::Bound(_) | Value::Class(_)
    )
}

/// A function argument (a predicate, a mapping function...).
pub fn expect_fn<'a>(args: &'a [Value], i: usize, fname: &str) -> RtResult<&'a Value> {
    let v = arg(args, i);
    if is_callable(v) {
        Ok(v)
    } else {
        Err(type_error(fname, i, "Function", v))
    }
}

/// Something a pipeline can read: a list, range, string, map, stream or table.
pub fn expect_iterable<'a>(args: &'a [Value], i: usize, fname: &str) -> RtResult<&'a Value> {
    let v = arg(args, i);
    match v {
        Value::List(_)
        | Value::Range(_)
        | Value::Str(_)
        | Value::Map(_)
        | Value::Stream(_)
        | Value::Table(_) => Ok(v),
        other => Err(type_error(
            fname,
            i,
            "iterable (List, Range, String, Map, Stream or Table)",
            other,
        )),
    }
}
