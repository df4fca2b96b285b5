//! The numeric rules of the language that need no script value (SPEC §2, §15): the
//! signs of `%` and `~/`, the range of shifts, and comparing an Int with a Float exactly. The interpreter's operators
//! (`ops.rs`) and the stage kernels (`kernel/ops.rs`) both use them, so the two cannot
//! drift apart.

use std::cmp::Ordering;

/// `x % y` of two Ints, `None` when `y` is 0: the result takes the divisor's sign
/// (Python's floored modulo).
#[inline]
pub fn int_mod(x: i64, y: i64) -> Option<i64> {
    (y != 0).then(|| int_mod_nonzero(x, y))
}

/// [`int_mod`] where the caller has checked that `y` is not 0 (a kernel's inner loop).
#[inline]
pub fn int_mod_nonzero(x: i64, y: i64) -> i64 {
    // i64::MIN % -1 is 0 (checked_rem reports it as an overflow).
    let r = x.checked_rem(y).unwrap_or(0);
    if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    }
}

/// `x ~/ y` of two Ints: the quotient rounded toward negative infinity (Python's `//`),
/// `None` when `y` is 0 or the quotient overflows (`i64::MIN ~/ -1`).
#[inline]
pub fn int_floor_div(x: i64, y: i64) -> Option<i64> {
    let q = x.checked_div(y)?;
    // Truncation rounded toward zero; step down when the signs differ and it was inexact.
    if (x % y != 0) && ((x < 0) != (y < 0)) {
        Some(q - 1)
    } else {
        Some(q)
    }
}

/// `x << n`, `None` when `n` is outside 0..=63 or bits (the sign included) would be lost:
/// a left shift is a multiplication by 2^n, and Int overflow is an error (SPEC §2).
#[inline]
pub fn int_shl(x: i64, n: i64) -> Option<i64> {
    let n = u32::try_from(n).ok().filter(|n| *n < 64)?;
    let r = x << n;
    (r >> n == x).then_some(r)
}

/// `x >> n` (arithmetic: the sign is kept), `None` when `n` is outside 0..=63.
#[inline]
pub fn int_shr(x: i64, n: i64) -> Option<i64> {
    let n = u32::try_from(n).ok().filter(|n| *n < 64)?;
    Some(x >> n)
}

/// `x % y` of two Floats, `None` when `y` is 0: the divisor's sign, a zero result
/// included (Python).
#[inline]
pub fn float_mod(x: f64, y: f64) -> Option<f64> {
    (y != 0.0).then(|| float_mod_nonzero(x, y))
}

/// [`float_mod`] where the caller has checked that `y` is not 0.
#[inline]
pub fn float_mod_nonzero(x: f64, y: f64) -> f64 {
    let r = x % y;
    if r == 0.0 {
        0.0f64.copysign(y)
    } else if (r < 0.0) != (y < 0.0) {
        r + y
    } else {
        r
    }
}

/// Exact comparison of an Int with a Float (no rounding of large ints).
pub fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= 9.223_372_036_854_776e18 {
        return Some(Ordering::Less);
    }
    if f < -9.223_372_036_854_776e18 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => {
            if f > t {
                Some(Ordering::Less)
            } else if f < t {
                Some(Ordering::Greater)
            } else {
                Some(Ordering::Equal)
            }
        }
        o => Some(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_rounds_down() {
        assert_eq!(int_floor_div(7, 2), Some(3));
        assert_eq!(int_floor_div(-7, 2), Some(-4));
        assert_eq!(int_floor_div(7, -2), Some(-4));
        assert_eq!(int_floor_div(-7, -2), Some(3));
        assert_eq!(int_floor_div(6, -3), Some(-2));
        assert_eq!(int_floor_div(1, 0), None);
        assert_eq!(int_floor_div(i64::MIN, -1), None);
        assert_eq!(int_floor_div(i64::MIN, 1), Some(i64::MIN));
    }

    #[test]
    fn shifts_refuse_lost_bits_and_bad_counts() {
        assert_eq!(int_shl(1, 62), Some(1 << 62));
        assert_eq!(int_shl(1, 63), None);
        assert_eq!(int_shl(-1, 63), Some(i64::MIN));
        assert_eq!(int_shl(3, 64), None);
        assert_eq!(int_shl(3, -1), None);
        assert_eq!(int_shr(-8, 1), Some(-4));
        assert_eq!(int_shr(-1, 63), Some(-1));
        assert_eq!(int_shr(5, 64), None);
    }
}
