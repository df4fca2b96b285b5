//! Integer division and bit operations as functions (the operators `~/`, `&`, `|`, `^`,
//! `~`, `<<`, `>>` are in the language; these are their pipe-stage and method forms).
//! @group Numbers
//!
//! The operators' rules live in the runtime (`ops::floor_div`, `int_shl`...), so a function
//! and its operator cannot disagree.

use crate::check::*;
use walia_runtime::api::{int_shl, int_shr, ops};
use walia_runtime::{RtError, RtResult, Value, Vm};

const NUM: &[&str] = &["Int", "Float"];
const INT: &[&str] = &["Int"];

pub fn install(vm: &mut Vm) {
    leaf_both(vm, NUM, "div", 2, 2, div);
    leaf_both(vm, INT, "bit_and", 2, 2, bit_and);
    leaf_both(vm, INT, "bit_or", 2, 2, bit_or);
    leaf_both(vm, INT, "bit_xor", 2, 2, bit_xor);
    leaf_both(vm, INT, "bit_not", 1, 1, bit_not);
    leaf_both(vm, INT, "shl", 2, 2, shl);
    leaf_both(vm, INT, "shr", 2, 2, shr);
}

/// @builtin div(a, b) -> Int | Float
/// @builtin a.div(b) -> Int | Float
///
/// Floored division, the function form of the operator `a ~/ b` (Python's `a // b`; Walia
/// cannot spell it `//`, which starts a comment). Two Ints give an Int rounded toward
/// negative infinity (`div(-7, 2)` is `-4`); a Float operand gives the floor of the quotient
/// as a Float. The remainder that pairs with it is `%`, which takes the divisor's sign, so
/// `div(a, b) * b + a % b == a` always holds; there is no separate `rem`.
///
/// Errors: an argument is not a number; `b` is zero ("division by zero"); the quotient
/// overflows (`div(-9223372036854775807 - 1, -1)`).
///
/// ```walia
/// print div(7, 2);      // -> 3
/// print div(-7, 2);     // -> -4
/// print 7.5.div(2);     // -> 3.0
/// print 17 ~/ 5;        // -> 3
/// ```
fn div(a: &[Value]) -> RtResult<Value> {
    expect_num(a, 0, "div")?;
    expect_num(a, 1, "div")?;
    ops::floor_div(arg(a, 0), arg(a, 1))
}

fn two_ints(a: &[Value], fname: &str) -> RtResult<(i64, i64)> {
    Ok((expect_int(a, 0, fname)?, expect_int(a, 1, fname)?))
}

/// @builtin bit_and(a, b) -> Int
/// @builtin a.bit_and(b) -> Int
///
/// The bitwise and of two Ints (the operator `a & b`).
///
/// Errors: an argument is not an Int.
///
/// ```walia
/// print bit_and(12, 10);   // -> 8
/// print 12 & 10;           // -> 8
/// ```
fn bit_and(a: &[Value]) -> RtResult<Value> {
    let (x, y) = two_ints(a, "bit_and")?;
    Ok(Value::Int(x & y))
}

/// @builtin bit_or(a, b) -> Int
/// @builtin a.bit_or(b) -> Int
///
/// The bitwise or of two Ints (the operator `a | b`).
///
/// Errors: an argument is not an Int.
///
/// ```walia
/// print bit_or(12, 10);   // -> 14
/// print 12 | 10;          // -> 14
/// ```
fn bit_or(a: &[Value]) -> RtResult<Value> {
    let (x, y) = two_ints(a, "bit_or")?;
    Ok(Value::Int(x | y))
}

/// @builtin bit_xor(a, b) -> Int
/// @builtin a.bit_xor(b) -> Int
///
/// The bitwise exclusive or of two Ints (the operator `a ^ b`; Walia has no power
/// operator, `pow(a, b)` raises to a power).
///
/// Errors: an argument is not an Int.
///
/// ```walia
/// print bit_xor(12, 10);   // -> 6
/// print 12 ^ 10;           // -> 6
/// ```
fn bit_xor(a: &[Value]) -> RtResult<Value> {
    let (x, y) = two_ints(a, "bit_xor")?;
    Ok(Value::Int(x ^ y))
}

/// @builtin bit_not(a) -> Int
/// @builtin a.bit_not() -> Int
///
/// The bitwise not of an Int in two's complement (the operator `~a`): `-a - 1`.
///
/// Errors: the argument is not an Int.
///
/// ```walia
/// print bit_not(5);   // -> -6
/// print ~0;           // -> -1
/// ```
fn bit_not(a: &[Value]) -> RtResult<Value> {
    Ok(Value::Int(!expect_int(a, 0, "bit_not")?))
}

fn shift_error(fname: &str, n: i64) -> RtError {
    RtError::new(format!(
        "shift count {n} is out of range: '{fname}' takes 0 to 63"
    ))
}

/// @builtin shl(a, n) -> Int
/// @builtin a.shl(n) -> Int
///
/// `a` shifted left by `n` bits (the operator `a << n`), that is `a * 2^n`. Like every Int
/// operation it never wraps: a shift that would lose bits (the sign included) is an
/// overflow error, so `1 << 63` fails while `-1 << 63` is the smallest Int.
///
/// Errors: an argument is not an Int; `n` is outside 0..63; the result overflows.
///
/// ```walia
/// print shl(1, 10);   // -> 1024
/// print 3 << 2;       // -> 12
/// ```
fn shl(a: &[Value]) -> RtResult<Value> {
    let (x, n) = two_ints(a, "shl")?;
    if !(0..64).contains(&n) {
        return Err(shift_error("shl", n));
    }
    int_shl(x, n)
        .map(Value::Int)
        .ok_or_else(|| RtError::new("integer overflow in 'shl'"))
}

/// @builtin shr(a, n) -> Int
/// @builtin a.shr(n) -> Int
///
/// `a` shifted right by `n` bits (the operator `a >> n`). The shift is arithmetic: the sign
/// is kept, so it is floored division by `2^n` (`-16 >> 2` is `-4`, `-1 >> 5` is `-1`).
///
/// Errors: an argument is not an Int; `n` is outside 0..63.
///
/// ```walia
/// print shr(1024, 3);   // -> 128
/// print -16 >> 2;       // -> -4
/// ```
fn shr(a: &[Value]) -> RtResult<Value> {
    let (x, n) = two_ints(a, "shr")?;
    int_shr(x, n)
        .map(Value::Int)
        .ok_or_else(|| shift_error("shr", n))
}
