//! Float functions compiled code calls in Rust: the same `f64` methods as the interpreter
//! and the kernels, so the results are bit-identical. None of them can panic (a panic
//! cannot unwind through compiled frames).

use walia_runtime::api::float_mod_nonzero;
use walia_runtime::api::native::ir::Shim;

extern "C" fn exp(x: f64) -> f64 {
    x.exp()
}

extern "C" fn ln(x: f64) -> f64 {
    x.ln()
}

extern "C" fn sin(x: f64) -> f64 {
    x.sin()
}

extern "C" fn cos(x: f64) -> f64 {
    x.cos()
}

extern "C" fn pow(x: f64, e: f64) -> f64 {
    x.powf(e)
}

extern "C" fn round(x: f64) -> f64 {
    x.round()
}

/// `x % y` with the divisor's sign (`y` is not 0: the caller checked).
pub extern "C" fn floored_mod(x: f64, y: f64) -> f64 {
    float_mod_nonzero(x, y)
}

/// The symbol name, arity and address of a shim.
pub fn shim(s: Shim) -> (&'static str, usize, *const u8) {
    match s {
        Shim::Exp => ("walia_exp", 1, exp as *const u8),
        Shim::Ln => ("walia_ln", 1, ln as *const u8),
        Shim::Sin => ("walia_sin", 1, sin as *const u8),
        Shim::Cos => ("walia_cos", 1, cos as *const u8),
        Shim::Pow => ("walia_pow", 2, pow as *const u8),
        Shim::Round => ("walia_round", 1, round as *const u8),
    }
}

/// Every shim, for registering with the JIT's symbol table.
pub const ALL: [Shim; 6] = [
    Shim::Exp,
    Shim::Ln,
    Shim::Sin,
    Shim::Cos,
    Shim::Pow,
    Shim::Round,
];

pub const FLOORED_MOD: &str = "walia_floored_mod";
