//! Math builtins (SPEC §12, §11 numeric edges). Also methods of Int and Float
//! (`(-3).abs()`, `2.pow(10)`).

use crate::check::*;
use crate::core::float_to_int;
use crate::pipes;
use std::cmp::Ordering;
use walia_runtime::api::ops;
use walia_runtime::{RtError, RtResult, Value, Vm};

const NUM: &[&str] = &["Int", "Float"];

pub fn install(vm: &mut Vm) {
    for (name, f) in [("abs", abs as Builtin), ("math_abs", abs)] {
        both(vm, NUM, name, 1, 1, f);
    }
    both(vm, NUM, "floor", 1, 1, floor);
    both(vm, NUM, "ceil", 1, 1, ceil);
    both(vm, NUM, "round", 1, 2, round);
    for (name, f) in [("sqrt", sqrt as Builtin), ("math_sqrt", sqrt)] {
        both(vm, NUM, name, 1, 1, f);
    }
    for (name, f) in [("pow", pow as Builtin), ("math_pow", pow)] {
        both(vm, NUM, name, 2, 2, f);
    }
    both(vm, NUM, "exp", 1, 1, exp);
    both(vm, NUM, "log", 1, 2, log);
    both(vm, NUM, "sin", 1, 1, sin);
    both(vm, NUM, "cos", 1, 1, cos);
    // min/max: math on numbers, the pipeline terminal on one iterable argument.
    both(
        vm,
        &["Int", "Float", "List", "Range", "Stream"],
        "min",
        1,
        MANY,
        min,
    );
    both(
        vm,
        &["Int", "Float", "List", "Range", "Stream"],
        "max",
        1,
        MANY,
        max,
    );
}

fn abs(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match arg(a, 0) {
        Value::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| RtError::new("integer overflow in 'abs'")),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        other => Err(type_error("abs", 0, "number", other)),
    }
}

fn to_int_with(a: &[Value], fname: &str, op: fn(f64) -> f64) -> RtResult<Value> {
    match arg(a, 0) {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => float_to_int(op(*f), fname).map(Value::Int),
        other => Err(type_error(fname, 0, "number", other)),
    }
}

fn floor(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    to_int_with(a, "floor", f64::floor)
}

fn ceil(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    to_int_with(a, "ceil", f64::ceil)
}

fn round(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    if a.len() < 2 {
        return to_int_with(a, "round", f64::round);
    }
    let x = expect_num(a, 0, "round")?;
    let digits = expect_int(a, 1, "round")?;
    let r = round_decimal(x, digits);
    if r.is_infinite() && x.is_finite() {
        return Err(RtError::new(format!(
            "'round' result out of the Float range ({} to {digits} digits)",
            walia_runtime::api::format_float(x)
        )));
    }
    Ok(Value::Float(r))
}

/// `x` rounded half away from zero at the decimal place `digits`, on its printed
/// (shortest round-trip) decimal form rather than its exact binary value, so that
/// `round(2.675, 2)` is 2.68 as it reads.
fn round_decimal(x: f64, digits: i64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    // `{:e}` is the shortest round-trip form: "2.675e0" is 2.675 * 10^0.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut ds: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    // Digit i stands for 10^(exp - i); keep those down to 10^(-digits).
    let keep = exp.saturating_add(digits).saturating_add(1);
    if keep >= ds.len() as i64 {
        return x;
    }
    let up = keep >= 0 && ds.get(keep as usize).is_some_and(|d| *d >= b'5');
    let keep = keep.max(0) as usize;
    ds.truncate(keep);
    if up {
        // Add one at the last kept place, carrying leftwards.
        let mut i = ds.len();
        loop {
            if i == 0 {
                ds.insert(0, b'1');
                break;
            }
            i -= 1;
            if ds[i] == b'9' {
                ds[i] = b'0';
            } else {
                ds[i] += 1;
                break;
            }
        }
    }
    // A carry out of the first digit (9.99 to 10.0) makes `ds` one digit longer: the same
    // integer times the same power of ten.
    let scale = exp + 1 - keep as i64;
    let digits_text = if ds.is_empty() {
        "0".to_string()
    } else {
        String::from_utf8_lossy(&ds).into_owned()
    };
    let magnitude: f64 = format!("{digits_text}e{scale}").parse().unwrap_or(0.0);
    magnitude.copysign(x)
}

fn sqrt(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "sqrt")?.sqrt()))
}

fn exp(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "exp")?.exp()))
}

/// Natural logarithm; `log(x, base)` with a base.
fn log(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let x = expect_num(a, 0, "log")?;
    if a.len() > 1 {
        let base = expect_num(a, 1, "log")?;
        return Ok(Value::Float(x.ln() / base.ln()));
    }
    Ok(Value::Float(x.ln()))
}

fn sin(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "sin")?.sin()))
}

fn cos(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "cos")?.cos()))
}

/// Int for an Int base and a non-negative Int exponent (overflow is an error), else Float.
fn pow(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match (arg(a, 0), arg(a, 1)) {
        (Value::Int(b), Value::Int(e)) if *e >= 0 => {
            let overflow = || RtError::new("integer overflow in 'pow'");
            match u32::try_from(*e) {
                Ok(e) => b.checked_pow(e).map(Value::Int).ok_or_else(overflow),
                // Huge exponents only fit for bases 0, 1 and -1.
                Err(_) => match b {
                    0 | 1 => Ok(Value::Int(*b)),
                    -1 => Ok(Value::Int(if e % 2 == 0 { 1 } else { -1 })),
                    _ => Err(overflow()),
                },
            }
        }
        _ => {
            let b = expect_num(a, 0, "pow")?;
            let e = expect_num(a, 1, "pow")?;
            Ok(Value::Float(b.powf(e)))
        }
    }
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

fn min(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    if a.len() == 1 {
        return match arg(a, 0) {
            n @ (Value::Int(_) | Value::Float(_)) => Ok(n.clone()),
            _ => pipes::extreme_of(vm, arg(a, 0), "min", Ordering::Less),
        };
    }
    extreme("min", a, Ordering::Less)
}

fn max(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    if a.len() == 1 {
        return match arg(a, 0) {
            n @ (Value::Int(_) | Value::Float(_)) => Ok(n.clone()),
            _ => pipes::extreme_of(vm, arg(a, 0), "max", Ordering::Greater),
        };
    }
    extreme("max", a, Ordering::Greater)
}
