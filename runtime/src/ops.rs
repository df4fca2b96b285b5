//! Operator semantics (SPEC §2, §15): arithmetic, comparison and equality.

use crate::arith::{cmp_int_float, float_mod, int_floor_div, int_mod, int_shl, int_shr};
use crate::error::{RtError, RtResult};
use crate::print::display;
use crate::value::{KeyRef, Value};
use std::cmp::Ordering;
use std::rc::Rc;

fn type_error(op: &str, a: &Value, b: &Value) -> RtError {
    RtError::new(format!(
        "cannot apply '{op}' to {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

fn overflow(op: &str) -> RtError {
    RtError::new(format!("integer overflow in '{op}'"))
}

pub fn add(a: &Value, b: &Value) -> RtResult<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x
            .checked_add(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("+")),
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(x + y)),
        (Value::Int(x), Value::Float(y)) => Ok(Value::Float(*x as f64 + y)),
        (Value::Float(x), Value::Int(y)) => Ok(Value::Float(x + *y as f64)),
        (Value::Str(x), _) => {
            let tail = match b {
                Value::Str(y) => std::borrow::Cow::Borrowed(y.as_str()),
                other => std::borrow::Cow::Owned(display(other)),
            };
            let mut s = String::new();
            reserve_exact_str(&mut s, x.as_str().len().saturating_add(tail.len()))?;
            s.push_str(x.as_str());
            s.push_str(&tail);
            Ok(Value::str(s))
        }
        (_, Value::Str(y)) => {
            let mut s = display(a);
            crate::limits::reserve_str(&mut s, y.as_str().len())?;
            s.push_str(y.as_str());
            Ok(Value::str(s))
        }
        (Value::List(x), Value::List(y)) => {
            let total = x.items.borrow().len() + y.items.borrow().len();
            let mut items = Vec::new();
            crate::limits::reserve(&mut items, total)?;
            items.extend(x.items.borrow().iter().cloned());
            items.extend(y.items.borrow().iter().cloned());
            Ok(Value::list(items))
        }
        _ => Err(type_error("+", a, b)),
    }
}

/// `+=` on a string that nothing else references appends in place.
pub fn add_assign(slot: &mut Value, rhs: &Value) -> RtResult<()> {
    if let Value::Str(s) = slot
        && let Some(text) = Rc::get_mut(s)
    {
        let tail = match rhs {
            Value::Str(r) => std::borrow::Cow::Borrowed(r.as_str()),
            other => std::borrow::Cow::Owned(display(other)),
        };
        text.reserve_checked(tail.len())?;
        text.push_str(&tail);
        return Ok(());
    }
    *slot = add(slot, rhs)?;
    Ok(())
}

/// Room for exactly `bytes` (a concatenation's result is not grown later), checked
/// against the memory limit; the allocator refusing is an error, not an abort.
fn reserve_exact_str(s: &mut String, bytes: usize) -> RtResult<()> {
    if bytes > 4096 {
        crate::limits::note_alloc(bytes)?;
    }
    s.try_reserve_exact(bytes)
        .map_err(|_| crate::limits::out_of_memory(bytes))
}

pub fn arith(op: char, a: &Value, b: &Value) -> RtResult<Value> {
    let name = match op {
        '-' => "-",
        '*' => "*",
        '/' => "/",
        _ => "%",
    };
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            match op {
                '-' => x
                    .checked_sub(y)
                    .map(Value::Int)
                    .ok_or_else(|| overflow("-")),
                '*' => x
                    .checked_mul(y)
                    .map(Value::Int)
                    .ok_or_else(|| overflow("*")),
                '/' => {
                    if y == 0 {
                        Err(RtError::new("division by zero"))
                    } else {
                        Ok(Value::Float(x as f64 / y as f64))
                    }
                }
                _ => int_mod(x, y)
                    .map(Value::Int)
                    .ok_or_else(|| RtError::new("modulo by zero")),
            }
        }
        _ => {
            let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
                return Err(type_error(name, a, b));
            };
            match op {
                '-' => Ok(Value::Float(x - y)),
                '*' => Ok(Value::Float(x * y)),
                '/' => {
                    if y == 0.0 {
                        Err(RtError::new("division by zero"))
                    } else {
                        Ok(Value::Float(x / y))
                    }
                }
                _ => float_mod(x, y)
                    .map(Value::Float)
                    .ok_or_else(|| RtError::new("modulo by zero")),
            }
        }
    }
}

pub fn negate(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| overflow("-")),
        Value::Float(f) => Ok(Value::Float(-f)),
        _ => Err(RtError::new(format!(
            "cannot apply '-' to {}",
            a.type_name()
        ))),
    }
}

/// `a ~/ b`: floored division. Two Ints give an Int (`-7 ~/ 2` is `-4`); a Float operand
/// gives the floor of the quotient as a Float (`7.5 ~/ 2` is `3.0`).
pub fn floor_div(a: &Value, b: &Value) -> RtResult<Value> {
    match (a, b) {
        (Value::Int(_), Value::Int(0)) => Err(RtError::new("division by zero")),
        (Value::Int(x), Value::Int(y)) => int_floor_div(*x, *y)
            .map(Value::Int)
            .ok_or_else(|| overflow("~/")),
        _ => {
            let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
                return Err(type_error("~/", a, b));
            };
            if y == 0.0 {
                return Err(RtError::new("division by zero"));
            }
            Ok(Value::Float((x / y).floor()))
        }
    }
}

/// The bit operators `&`, `|`, `^`, `<<`, `>>` of two Ints. A shift count outside 0..=63
/// is an error, and so is a left shift that loses bits (Int overflow, SPEC §2).
fn bitwise(kind: walia_lang::ast::BinOp, a: &Value, b: &Value) -> RtResult<Value> {
    use walia_lang::ast::BinOp as K;
    let name = match kind {
        K::BitAnd => "&",
        K::BitOr => "|",
        K::BitXor => "^",
        K::Shl => "<<",
        _ => ">>",
    };
    let (Value::Int(x), Value::Int(y)) = (a, b) else {
        return Err(type_error(name, a, b));
    };
    let (x, y) = (*x, *y);
    if matches!(kind, K::Shl | K::Shr) && !(0..64).contains(&y) {
        return Err(RtError::new(format!(
            "shift count {y} is out of range: '{name}' takes 0 to 63"
        )));
    }
    let r = match kind {
        K::BitAnd => Some(x & y),
        K::BitOr => Some(x | y),
        K::BitXor => Some(x ^ y),
        K::Shl => int_shl(x, y),
        _ => int_shr(x, y),
    };
    r.map(Value::Int).ok_or_else(|| overflow(name))
}

/// `~a`: the bitwise not of an Int (`~x` is `-x - 1`).
pub fn bit_not(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(i) => Ok(Value::Int(!i)),
        _ => Err(RtError::new(format!(
            "cannot apply '~' to {}",
            a.type_name()
        ))),
    }
}

/// Numeric ordering; `None` for NaN. `Err` when the values are not two numbers or two strings.
pub fn compare(op: &str, a: &Value, b: &Value) -> RtResult<Option<Ordering>> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => cmp_int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => cmp_int_float(*y, *x).map(Ordering::reverse),
        (Value::Str(x), Value::Str(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => return Err(type_error(op, a, b)),
    })
}

/// Lists and maps nested deeper than this cannot be compared (like Python's recursion
/// limit): an error, not a crash of the Rust stack.
pub const MAX_EQ_DEPTH: usize = 1000;

/// `==`; data too deep to compare counts as unequal. The VM uses [`equal_checked`].
pub fn equal(a: &Value, b: &Value) -> bool {
    equal_checked(a, b).unwrap_or(false)
}

/// `==`, with an error for data nested beyond [`MAX_EQ_DEPTH`] and the time and memory
/// limits checked as it goes (shared sub-lists make a comparison exponential).
pub fn equal_checked(a: &Value, b: &Value) -> RtResult<bool> {
    eq_depth(a, b, 0)
}

fn eq_depth(a: &Value, b: &Value, depth: usize) -> RtResult<bool> {
    if depth > MAX_EQ_DEPTH {
        return Err(RtError::new(format!(
            "cannot compare values nested more than {MAX_EQ_DEPTH} levels deep"
        )));
    }
    // Two strings (`c == "a"`): a compare of their bytes, no limit to check.
    if let (Value::Str(x), Value::Str(y)) = (a, b) {
        return Ok(Rc::ptr_eq(x, y) || x.as_str() == y.as_str());
    }
    crate::limits::tick()?;
    Ok(match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
            cmp_int_float(*x, *y) == Some(Ordering::Equal)
        }
        (Value::Str(x), Value::Str(y)) => x.as_str() == y.as_str(),
        // SPEC §2: everything not listed compares by identity, ranges included.
        (Value::Range(x), Value::Range(y)) => Rc::ptr_eq(x, y),
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (Ok(xs), Ok(ys)) = (x.items.try_borrow(), y.items.try_borrow()) else {
                return Ok(false);
            };
            if xs.len() != ys.len() {
                return Ok(false);
            }
            for (p, q) in xs.iter().zip(ys.iter()) {
                if !eq_depth(p, q, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (Ok(xs), Ok(ys)) = (x.entries.try_borrow(), y.entries.try_borrow()) else {
                return Ok(false);
            };
            if xs.len() != ys.len() {
                return Ok(false);
            }
            for (k, v) in xs.iter() {
                match ys.get(&KeyRef::from(k)) {
                    Some(w) if eq_depth(v, w, depth + 1)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        (Value::Function(x), Value::Function(y)) => Rc::ptr_eq(x, y),
        (Value::Native(x), Value::Native(y)) => Rc::ptr_eq(x, y),
        (Value::Bound(x), Value::Bound(y)) => {
            identical(&x.receiver, &y.receiver) && identical(&x.method, &y.method)
        }
        (Value::Class(x), Value::Class(y)) => Rc::ptr_eq(x, y),
        (Value::Instance(x), Value::Instance(y)) => Rc::ptr_eq(x, y),
        (Value::Stream(x), Value::Stream(y)) => Rc::ptr_eq(x, y),
        (Value::Table(x), Value::Table(y)) => x == y,
        (Value::Row(x), Value::Row(y)) => x == y,
        (Value::Db, Value::Db) => true,
        (Value::File(x), Value::File(y)) => Rc::ptr_eq(x, y),
        _ => false,
    })
}

/// Identity for reference values, value equality for scalars.
pub fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => Rc::ptr_eq(x, y),
        (Value::Map(x), Value::Map(y)) => Rc::ptr_eq(x, y),
        _ => equal(a, b),
    }
}

/// Int arithmetic of a fused instruction: `None` for comparisons, division, modulo by a
/// divisor that is not positive, and overflow (the slow path decides).
#[inline(always)]
pub fn int_arith(kind: walia_lang::ast::BinOp, x: i64, y: i64) -> Option<i64> {
    use walia_lang::ast::BinOp as K;
    match kind {
        K::Add => x.checked_add(y),
        K::Sub => x.checked_sub(y),
        K::Mul => x.checked_mul(y),
        // Floored modulo (`arith`); with a positive divisor it is the Euclidean remainder.
        K::Mod if y > 0 => Some(x.rem_euclid(y)),
        K::IntDiv => int_floor_div(x, y),
        K::BitAnd => Some(x & y),
        K::BitOr => Some(x | y),
        K::BitXor => Some(x ^ y),
        K::Shl => int_shl(x, y),
        K::Shr => int_shr(x, y),
        _ => None,
    }
}

/// A comparison of two Ints (the operator is always a comparison here).
#[inline(always)]
pub fn int_compare(kind: walia_lang::ast::BinOp, x: i64, y: i64) -> bool {
    use walia_lang::ast::BinOp as K;
    match kind {
        K::Lt => x < y,
        K::Le => x <= y,
        K::Gt => x > y,
        K::Ge => x >= y,
        K::Eq => x == y,
        _ => x != y,
    }
}

/// The operator of a fused instruction, with Int fast paths.
#[inline]
pub fn binary(kind: walia_lang::ast::BinOp, a: &Value, b: &Value) -> RtResult<Value> {
    use walia_lang::ast::BinOp as K;
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        match kind {
            K::Add => {
                return x
                    .checked_add(y)
                    .map(Value::Int)
                    .ok_or_else(|| overflow("+"));
            }
            K::Sub => {
                return x
                    .checked_sub(y)
                    .map(Value::Int)
                    .ok_or_else(|| overflow("-"));
            }
            K::Mul => {
                return x
                    .checked_mul(y)
                    .map(Value::Int)
                    .ok_or_else(|| overflow("*"));
            }
            K::Lt => return Ok(Value::Bool(x < y)),
            K::Le => return Ok(Value::Bool(x <= y)),
            K::Gt => return Ok(Value::Bool(x > y)),
            K::Ge => return Ok(Value::Bool(x >= y)),
            K::Eq => return Ok(Value::Bool(x == y)),
            K::Ne => return Ok(Value::Bool(x != y)),
            K::Div | K::Mod | K::IntDiv | K::BitAnd | K::BitOr | K::BitXor | K::Shl | K::Shr => {}
        }
    }
    let ordered = |name: &str, test: fn(Ordering) -> bool| -> RtResult<Value> {
        Ok(Value::Bool(compare(name, a, b)?.is_some_and(test)))
    };
    match kind {
        K::Add => add(a, b),
        K::Sub => arith('-', a, b),
        K::Mul => arith('*', a, b),
        K::Div => arith('/', a, b),
        K::Mod => arith('%', a, b),
        K::IntDiv => floor_div(a, b),
        K::BitAnd | K::BitOr | K::BitXor | K::Shl | K::Shr => bitwise(kind, a, b),
        K::Eq => Ok(Value::Bool(equal_checked(a, b)?)),
        K::Ne => Ok(Value::Bool(!equal_checked(a, b)?)),
        K::Lt => ordered("<", |o| o == Ordering::Less),
        K::Le => ordered("<=", |o| o != Ordering::Greater),
        K::Gt => ordered(">", |o| o == Ordering::Greater),
        K::Ge => ordered(">=", |o| o != Ordering::Less),
    }
}
