//! Core builtins (SPEC §12, §15): conversions, `type_of`, `len`, `error`, `clock`, `range`
//! and `args` (`assert` is in `testing.rs`).

use crate::check::*;
use std::sync::OnceLock;
use std::time::Instant;
use walia_runtime::api::display;
use walia_runtime::{RtError, RtResult, Value, Vm};

static START: OnceLock<Instant> = OnceLock::new();

pub fn install(vm: &mut Vm) {
    START.get_or_init(Instant::now);
    global(vm, "str", 1, 1, str_);
    global(vm, "int", 1, 1, int);
    global(vm, "float", 1, 1, float);
    global(vm, "type_of", 1, 1, type_of);
    global(vm, "len", 1, 1, len);
    global(vm, "error", 1, 1, error);
    global(vm, "clock", 0, 0, clock);
    global(vm, "range", 2, 2, range);
    global(vm, "args", 0, 0, args_);
}

fn str_(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match arg(a, 0) {
        s @ Value::Str(_) => Ok(s.clone()),
        v => Ok(Value::str(display(v))),
    }
}

/// A Float to Int conversion that refuses nan, inf and values outside the Int range.
/// `f` must already be integral (truncated, floored...).
pub fn float_to_int(f: f64, fname: &str) -> RtResult<i64> {
    // -2^63 is exactly representable; 2^63 is the first value out of range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        return Err(RtError::new(format!(
            "'{fname}' cannot convert {} to an Int",
            walia_runtime::api::format_float(f)
        )));
    }
    Ok(f as i64)
}

fn int(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match arg(a, 0) {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => float_to_int(f.trunc(), "int").map(Value::Int),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Str(s) => {
            let t = s.as_str().trim();
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RtError::new(format!(
                    "'int' cannot parse {} as an Int",
                    walia_runtime::api::repr(arg(a, 0))
                )));
            }
            t.parse::<i64>().map(Value::Int).map_err(|_| {
                RtError::new(format!(
                    "'int' cannot convert \"{t}\": out of the Int range"
                ))
            })
        }
        other => Err(type_error("int", 0, "number or String", other)),
    }
}

fn float(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match arg(a, 0) {
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        Value::Bool(b) => Ok(Value::Float(if *b { 1.0 } else { 0.0 })),
        Value::Str(s) => {
            let t = s.as_str().trim();
            // Rust's parser accepts "1e3", "inf", "nan", "-2.5", ".5"; refuse "" and "+".
            t.parse::<f64>().map(Value::Float).map_err(|_| {
                RtError::new(format!(
                    "'float' cannot parse {} as a Float",
                    walia_runtime::api::repr(arg(a, 0))
                ))
            })
        }
        other => Err(type_error("float", 0, "number or String", other)),
    }
}

fn type_of(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(Value::str(arg(a, 0).type_name()))
}

fn len(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let n = match arg(a, 0) {
        Value::Str(s) => s.char_len() as i64,
        Value::List(l) => l.items.borrow().len() as i64,
        Value::Map(m) => m.entries.borrow().len() as i64,
        Value::Range(r) => r.len(),
        Value::Table(t) => vm.table_count(*t)? as i64,
        other => {
            return Err(type_error(
                "len",
                0,
                "String, List, Map, Range or Table",
                other,
            ));
        }
    };
    Ok(Value::Int(n))
}

fn error(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Err(RtError::new(display(arg(a, 0))))
}

fn clock(_: &mut Vm, _: &[Value]) -> RtResult<Value> {
    let start = START.get_or_init(Instant::now);
    Ok(Value::Float(start.elapsed().as_secs_f64()))
}

fn range(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let start = expect_int(a, 0, "range")?;
    let end = expect_int(a, 1, "range")?;
    Ok(Value::range(start, end))
}

fn args_(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    Ok(Value::list(
        vm.args.iter().map(|s| Value::str(s.as_str())).collect(),
    ))
}
