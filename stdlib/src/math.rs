//! Math builtins (SPEC §12, §11 numeric edges). Also methods of Int and Float
//! (`(-3).abs()`, `2.pow(10)`).

use crate::check::*;
use crate::core::float_to_int;
use walia_runtime::{RtError, RtResult, Value, Vm};

const NUM: &[&str] = &["Int", "Float"];

pub fn install(vm: &mut Vm) {
    for (name, f) in [("abs", abs as Builtin), ("math_abs", abs)] {
        both(vm, NUM, name, 1, 1, f);
    }
    both(vm, NUM, "floor", 1, 1, floor);
    both(vm, NUM, "ceil", 1, 1, ceil);
    both(vm, NUM, "round", 1, 1, round);
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
    // min/max (of numbers and of iterables) are in extremes.rs.
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

/// Half away from zero (`round(2.5)` is 3, `round(-2.5)` is -3).
fn round(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    to_int_with(a, "round", f64::round)
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
