//! The numeric rules of the language that need no script value (SPEC §2, §15): the
//! signs of `%`, and comparing an Int with a Float exactly. The interpreter's operators
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
