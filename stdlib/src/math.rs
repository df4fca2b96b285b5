//! Math builtins (SPEC §12, §11 numeric edges). Also methods of Int and Float
//! (`(-3).abs()`, `2.pow(10)`).
//! @group Numbers

use crate::check::*;
use crate::core::float_to_int;
use walia_runtime::{RtError, RtResult, Value, Vm};

const NUM: &[&str] = &["Int", "Float"];

pub fn install(vm: &mut Vm) {
    for (name, f) in [("abs", abs as Leaf), ("math_abs", abs)] {
        leaf_both(vm, NUM, name, 1, 1, f);
    }
    leaf_both(vm, NUM, "floor", 1, 1, floor);
    leaf_both(vm, NUM, "ceil", 1, 1, ceil);
    leaf_both(vm, NUM, "round", 1, 2, round);
    for (name, f) in [("sqrt", sqrt as Leaf), ("math_sqrt", sqrt)] {
        leaf_both(vm, NUM, name, 1, 1, f);
    }
    for (name, f) in [("pow", pow as Leaf), ("math_pow", pow)] {
        leaf_both(vm, NUM, name, 2, 2, f);
    }
    leaf_both(vm, NUM, "exp", 1, 1, exp);
    leaf_both(vm, NUM, "log", 1, 2, log);
    leaf_both(vm, NUM, "sin", 1, 1, sin);
    leaf_both(vm, NUM, "cos", 1, 1, cos);
    // min/max (of numbers and of iterables) are in extremes.rs.
}

/// @builtin abs(x) -> Int | Float
/// @builtin math_abs(x) -> Int | Float
/// @builtin x.abs() -> Int | Float
///
/// The absolute value of `x`, of the same type.
///
/// Errors: `x` is not a number; the absolute value of the smallest Int does not fit (an
/// overflow).
///
/// ```walia
/// print abs(-3);        // -> 3
/// print (-2.5).abs();   // -> 2.5
/// ```
fn abs(a: &[Value]) -> RtResult<Value> {
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

/// @builtin floor(x) -> Int
/// @builtin x.floor() -> Int
///
/// The largest Int not above `x`. An Int is returned as it is.
///
/// Errors: `x` is not a number; `x` is nan, infinite or outside the Int range.
///
/// ```walia
/// print floor(2.7);     // -> 2
/// print (-2.5).floor(); // -> -3
/// ```
fn floor(a: &[Value]) -> RtResult<Value> {
    to_int_with(a, "floor", f64::floor)
}

/// @builtin ceil(x) -> Int
/// @builtin x.ceil() -> Int
///
/// The smallest Int not below `x`. An Int is returned as it is.
///
/// Errors: `x` is not a number; `x` is nan, infinite or outside the Int range.
///
/// ```walia
/// print ceil(2.1);     // -> 3
/// print ceil(-2.5);    // -> -2
/// ```
fn ceil(a: &[Value]) -> RtResult<Value> {
    to_int_with(a, "ceil", f64::ceil)
}

/// @builtin round(x [, digits]) -> Int | Float
/// @builtin x.round([digits]) -> Int | Float
///
/// Rounds `x` half away from zero. Without `digits` the result is an Int (SPEC §12); with
/// `digits`, a Float rounded to that many decimal places, always a Float even for an Int
/// `x` (`round(1234, -2)` is `1200.0`). A negative `digits` rounds to tens, hundreds...
/// The rounding works on the number as it prints (its shortest decimal form), not on its
/// binary approximation, so `round(2.675, 2)` is `2.68` and `round(1.005, 2)` is `1.01`.
/// To show a fixed number of decimals, `format("{:.2f}", x)` pads with zeros.
///
/// Errors: `x` is not a number; `digits` is not an Int; without `digits`, `x` is nan,
/// infinite or outside the Int range; with `digits`, the result overflows to infinity.
///
/// ```walia
/// print round(2.5);          // -> 3
/// print round(-2.5);         // -> -3
/// print round(3.14159, 2);   // -> 3.14
/// print 7.25.round(1);       // -> 7.3
/// print round(1234.5, -2);   // -> 1200.0
/// ```
fn round(a: &[Value]) -> RtResult<Value> {
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

/// @builtin sqrt(x) -> Float
/// @builtin math_sqrt(x) -> Float
/// @builtin x.sqrt() -> Float
///
/// The square root of `x` as a Float; `nan` for a negative `x` (no error).
///
/// Errors: `x` is not a number.
///
/// ```walia
/// print sqrt(16);        // -> 4.0
/// print 2.sqrt();        // -> 1.4142135623730951
/// ```
fn sqrt(a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "sqrt")?.sqrt()))
}

/// @builtin exp(x) -> Float
/// @builtin x.exp() -> Float
///
/// e raised to the power `x`.
///
/// Errors: `x` is not a number.
///
/// ```walia
/// print exp(0);   // -> 1.0
/// print exp(1);   // -> 2.718281828459045
/// ```
fn exp(a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "exp")?.exp()))
}

/// @builtin log(x [, base]) -> Float
/// @builtin x.log([base]) -> Float
///
/// The natural logarithm of `x`, or its logarithm in `base`. `log(0)` is `-inf`, a
/// negative `x` gives `nan` (no error).
///
/// Errors: `x` or `base` is not a number.
///
/// ```walia
/// print log(1);         // -> 0.0
/// print log(8, 2);      // -> 3.0
/// print 100.log(10);    // -> 2.0
/// ```
fn log(a: &[Value]) -> RtResult<Value> {
    let x = expect_num(a, 0, "log")?;
    if a.len() > 1 {
        let base = expect_num(a, 1, "log")?;
        return Ok(Value::Float(x.ln() / base.ln()));
    }
    Ok(Value::Float(x.ln()))
}

/// @builtin sin(x) -> Float
/// @builtin x.sin() -> Float
///
/// The sine of `x` radians.
///
/// Errors: `x` is not a number.
///
/// ```walia
/// print sin(0);   // -> 0.0
/// ```
fn sin(a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "sin")?.sin()))
}

/// @builtin cos(x) -> Float
/// @builtin x.cos() -> Float
///
/// The cosine of `x` radians.
///
/// Errors: `x` is not a number.
///
/// ```walia
/// print cos(0);   // -> 1.0
/// ```
fn cos(a: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(expect_num(a, 0, "cos")?.cos()))
}

/// @builtin pow(base, exp) -> Int | Float
/// @builtin math_pow(base, exp) -> Int | Float
/// @builtin base.pow(exp) -> Int | Float
///
/// `base` raised to the power `exp`: an Int for an Int base and a non-negative Int
/// exponent, else a Float. Walia has no `**` operator (and `^` is exclusive or).
///
/// Errors: an argument is not a number; the Int result overflows.
///
/// ```walia
/// print pow(2, 10);      // -> 1024
/// print 2.pow(-1);       // -> 0.5
/// print math_pow(9, 0.5);  // -> 3.0
/// ```
fn pow(a: &[Value]) -> RtResult<Value> {
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
