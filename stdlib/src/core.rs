//! Core builtins (SPEC §12, §15): conversions, `type_of`, `len`, `error`, `clock`, `range`
//! and `args` (`assert` is in `testing.rs`).
//! @group Core

use crate::check::*;
use std::sync::OnceLock;
use std::time::Instant;
use walia_runtime::api::display;
use walia_runtime::{RtError, RtResult, Value, Vm};

static START: OnceLock<Instant> = OnceLock::new();

pub fn install(vm: &mut Vm) {
    START.get_or_init(Instant::now);
    leaf_global(vm, "str", 1, 1, str_);
    leaf_global(vm, "int", 1, 1, int);
    leaf_global(vm, "float", 1, 1, float);
    leaf_global(vm, "type_of", 1, 1, type_of);
    global(vm, "len", 1, 1, len);
    leaf_global(vm, "error", 1, 1, error);
    leaf_global(vm, "clock", 0, 0, clock);
    leaf_global(vm, "range", 2, 2, range);
    global(vm, "args", 0, 0, args_);
}

/// @builtin str(x) -> String
///
/// The printed form of `x`, as `print` shows it: a String is returned as it is, numbers as
/// `42` and `2.5`, containers with their strings quoted (`[1, "a"]`).
///
/// Errors: none.
///
/// ```walia
/// print str(2.0) + "|" + str([1, "a", nil]);   // -> 2.0|[1, "a", nil]
/// ```
fn str_(a: &[Value]) -> RtResult<Value> {
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

/// @builtin int(x) -> Int
///
/// `x` as an Int: a Float truncated toward zero (`int(-3.9)` is `-3`), a Bool as 0 or 1, a
/// String of decimal digits (an optional sign and surrounding whitespace allowed) parsed.
/// For other bases or prefixes use `parse_int`.
///
/// Errors: `x` is another type; a String that is not a decimal Int; a value outside the
/// Int range, nan or infinite.
///
/// ```walia
/// print int(-3.9);      // -> -3
/// print int(" 42 ");    // -> 42
/// print int(true);      // -> 1
/// ```
fn int(a: &[Value]) -> RtResult<Value> {
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

/// @builtin float(x) -> Float
///
/// `x` as a Float: an Int converted, a Bool as 0.0 or 1.0, a String parsed (`"1e3"`,
/// `"-2.5"`, `"inf"`; surrounding whitespace allowed).
///
/// Errors: `x` is another type; a String that is not a number.
///
/// ```walia
/// print float(3);       // -> 3.0
/// print float("1e3");   // -> 1000.0
/// ```
fn float(a: &[Value]) -> RtResult<Value> {
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

/// @builtin type_of(x) -> String
///
/// The name of `x`'s type: `Nil`, `Bool`, `Int`, `Float`, `String`, `List`, `Map`,
/// `Range`, `Function`, `Class`, `Instance`, `Table`, `Row` or `Stream` (SPEC §2).
///
/// Errors: none.
///
/// ```walia
/// print type_of(1) + " " + type_of(1.0) + " " + type_of(nil);   // -> Int Float Nil
/// print type_of(x => x);                                          // -> Function
/// ```
fn type_of(a: &[Value]) -> RtResult<Value> {
    Ok(Value::str(arg(a, 0).type_name()))
}

/// @builtin len(x) -> Int
///
/// The length of a String (in characters), List, Map (entries), Range or Table (rows).
///
/// Errors: `x` is another type (a Stream has `count()` instead).
///
/// ```walia
/// print len("héllo");        // -> 5
/// print len([1, 2]) + len({a: 1}) + len(0..10);   // -> 13
/// ```
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

/// @builtin error(msg) -> nil
///
/// Raises a runtime error with `msg` (any value, in its printed form) as the message; it
/// never returns. The run stops with exit code 70 unless the error happens inside a test.
///
/// Errors: always, by design.
///
/// ```walia
/// fun check(n) { if (n < 0) error("negative: " + n); return n; }
/// print check(2);   // -> 2
/// ```
fn error(a: &[Value]) -> RtResult<Value> {
    Err(RtError::new(display(arg(a, 0))))
}

/// @builtin clock() -> Float
///
/// Seconds since the run started, from a monotonic clock, as a Float with microsecond
/// resolution or finer. Meant for measuring durations (`clock() - start`).
///
/// Errors: none.
///
/// ```walia
/// var start = clock();
/// print clock() >= start;   // -> true
/// ```
fn clock(_: &[Value]) -> RtResult<Value> {
    let start = START.get_or_init(Instant::now);
    Ok(Value::Float(start.elapsed().as_secs_f64()))
}

/// @builtin range(a, b) -> Range
///
/// The half-open range from `a` up to, not including, `b`: the same as `a..b`. An empty
/// range when `b <= a`.
///
/// Errors: `a` or `b` is not an Int.
///
/// ```walia
/// print range(2, 5) |> collect();   // -> [2, 3, 4]
/// print range(5, 2) |> count();     // -> 0
/// ```
fn range(a: &[Value]) -> RtResult<Value> {
    let start = expect_int(a, 0, "range")?;
    let end = expect_int(a, 1, "range")?;
    Ok(Value::range(start, end))
}

/// @builtin args() -> List
///
/// The script's command-line arguments, the words after the script's name in
/// `walia run FILE ARGS...` or `walia -e CODE ARGS...`, as a List of Strings.
///
/// Errors: none.
///
/// ```walia
/// print type_of(args());   // -> List
/// ```
fn args_(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    Ok(Value::list(
        vm.args.iter().map(|s| Value::str(s.as_str())).collect(),
    ))
}
