//! Operators and math builtins of the kernels, with the interpreter's semantics (`ops`,
//! stdlib's math): typed loops for the common cases, value by value otherwise; anything
//! that would be an error bails.

use super::KVal;
use super::col::Col;
use super::{Bail, KResult};
use crate::arith::{
    cmp_int_float, float_mod, float_mod_nonzero, int_floor_div, int_mod, int_mod_nonzero, int_shl,
    int_shr,
};
use std::cmp::Ordering;
use walia_lang::ast::BinOp as BinKind;

/// A math builtin a kernel may call (SPEC §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    Abs,
    Floor,
    Ceil,
    Round,
    Sqrt,
    Pow,
    Exp,
    Log,
    Sin,
    Cos,
    Min,
    Max,
    Int,
    Float,
}

impl MathFn {
    /// The builtin of this name taking `argc` arguments.
    pub fn by_name(name: &str, argc: usize) -> Option<MathFn> {
        let f = match name {
            "abs" | "math_abs" => MathFn::Abs,
            "floor" => MathFn::Floor,
            "ceil" => MathFn::Ceil,
            "round" => MathFn::Round,
            "sqrt" | "math_sqrt" => MathFn::Sqrt,
            "pow" | "math_pow" => MathFn::Pow,
            "exp" => MathFn::Exp,
            "log" => MathFn::Log,
            "sin" => MathFn::Sin,
            "cos" => MathFn::Cos,
            "min" => MathFn::Min,
            "max" => MathFn::Max,
            "int" => MathFn::Int,
            "float" => MathFn::Float,
            _ => return None,
        };
        let ok = match f {
            MathFn::Pow => argc == 2,
            MathFn::Log => argc == 1 || argc == 2,
            MathFn::Min | MathFn::Max => argc >= 2,
            _ => argc == 1,
        };
        ok.then_some(f)
    }
}

pub(super) fn neg_any(v: Vec<KVal>) -> KResult<Vec<KVal>> {
    v.into_iter()
        .map(|k| match k {
            KVal::Int(i) => i.checked_neg().map(KVal::Int).ok_or(Bail),
            KVal::Float(f) => Ok(KVal::Float(-f)),
            _ => Err(Bail),
        })
        .collect()
}

/// An operator over two typed vectors as a plain loop; `None` for the combinations left
/// to [`binary_vec`] (mixed types, `%`, `==` across types...).
pub(super) fn typed_binary(op: BinKind, a: &Col, b: &Col) -> KResult<Option<Col>> {
    use BinKind as K;
    // Macros, not closures taking `fn` pointers: the operation must inline into the loop.
    macro_rules! ints {
        ($f:path, $x:expr, $y:expr) => {{
            let mut overflow = false;
            let out = $x
                .iter()
                .zip($y.iter())
                .map(|(p, q)| {
                    let (r, o) = $f(*p, *q);
                    overflow |= o;
                    r
                })
                .collect();
            if overflow {
                return Err(Bail);
            }
            Col::Int(out)
        }};
    }
    macro_rules! floats {
        ($x:expr, $y:expr, |$p:ident, $q:ident| $e:expr) => {
            Col::Float($x.iter().zip($y.iter()).map(|(&$p, &$q)| $e).collect())
        };
    }
    macro_rules! cmp {
        ($x:expr, $y:expr, $op:tt) => {
            Col::Bool($x.iter().zip($y.iter()).map(|(p, q)| p $op q).collect())
        };
    }
    // The six comparisons of two vectors of one type, or `None` for another operator.
    macro_rules! comparison {
        ($x:expr, $y:expr) => {
            match op {
                K::Lt => Some(cmp!($x, $y, <)),
                K::Le => Some(cmp!($x, $y, <=)),
                K::Gt => Some(cmp!($x, $y, >)),
                K::Ge => Some(cmp!($x, $y, >=)),
                K::Eq => Some(cmp!($x, $y, ==)),
                K::Ne => Some(cmp!($x, $y, !=)),
                _ => None,
            }
        };
    }
    let mixed;
    let (a, b) = match (a, b) {
        // Arithmetic of an Int with a Float is Float arithmetic (`ops::add`); comparisons
        // across them are exact and stay on the value-by-value path.
        (Col::Int(x), Col::Float(_))
            if matches!(op, K::Add | K::Sub | K::Mul | K::Div | K::Mod) =>
        {
            mixed = Col::Float(x.iter().map(|i| *i as f64).collect());
            (&mixed, b)
        }
        (Col::Float(_), Col::Int(y))
            if matches!(op, K::Add | K::Sub | K::Mul | K::Div | K::Mod) =>
        {
            mixed = Col::Float(y.iter().map(|i| *i as f64).collect());
            (a, &mixed)
        }
        _ => (a, b),
    };
    Ok(Some(match (a, b) {
        (Col::Int(x), Col::Int(y)) => match op {
            K::Add => ints!(i64::overflowing_add, x, y),
            K::Sub => ints!(i64::overflowing_sub, x, y),
            K::Mul => ints!(i64::overflowing_mul, x, y),
            K::Div => {
                if y.contains(&0) {
                    return Err(Bail);
                }
                Col::Float(
                    x.iter()
                        .zip(y)
                        .map(|(p, q)| *p as f64 / *q as f64)
                        .collect(),
                )
            }
            _ if let Some(c) = comparison!(x, y) => c,
            K::Mod => {
                if y.contains(&0) {
                    return Err(Bail);
                }
                Col::Int(
                    x.iter()
                        .zip(y)
                        .map(|(p, q)| int_mod_nonzero(*p, *q))
                        .collect(),
                )
            }
            _ => return Ok(None),
        },
        (Col::Float(x), Col::Float(y)) => match op {
            K::Add => floats!(x, y, |p, q| p + q),
            K::Sub => floats!(x, y, |p, q| p - q),
            K::Mul => floats!(x, y, |p, q| p * q),
            K::Div => {
                if y.contains(&0.0) {
                    return Err(Bail);
                }
                floats!(x, y, |p, q| p / q)
            }
            _ if let Some(c) = comparison!(x, y) => c,
            K::Mod => {
                if y.contains(&0.0) {
                    return Err(Bail);
                }
                floats!(x, y, |p, q| float_mod_nonzero(p, q))
            }
            _ => return Ok(None),
        },
        (Col::Bool(x), Col::Bool(y)) => match op {
            K::Eq => cmp!(x, y, ==),
            K::Ne => cmp!(x, y, !=),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    }))
}

/// One operator over two vectors, matched once per batch rather than per element.
pub(super) fn binary_vec(
    op: BinKind,
    a: &[KVal],
    b: impl Iterator<Item = KVal>,
    out: &mut Vec<KVal>,
) -> KResult<()> {
    use BinKind as K;
    macro_rules! each {
        ($int:expr, $float:expr) => {
            for (x, y) in a.iter().copied().zip(b) {
                out.push(match (x, y) {
                    (KVal::Int(p), KVal::Int(q)) => $int(p, q)?,
                    (KVal::Float(p), KVal::Float(q)) => $float(p, q),
                    (KVal::Int(p), KVal::Float(q)) => $float(p as f64, q),
                    (KVal::Float(p), KVal::Int(q)) => $float(p, q as f64),
                    _ => generic(op, x, y)?,
                });
            }
        };
    }
    macro_rules! compare {
        ($test:expr) => {
            for (x, y) in a.iter().copied().zip(b) {
                out.push(match (x, y) {
                    (KVal::Int(p), KVal::Int(q)) => KVal::Bool($test(p.cmp(&q))),
                    (KVal::Float(p), KVal::Float(q)) => {
                        KVal::Bool(p.partial_cmp(&q).is_some_and($test))
                    }
                    (KVal::Int(p), KVal::Float(q)) => {
                        KVal::Bool(cmp_int_float(p, q).is_some_and($test))
                    }
                    (KVal::Float(p), KVal::Int(q)) => KVal::Bool(
                        cmp_int_float(q, p)
                            .map(Ordering::reverse)
                            .is_some_and($test),
                    ),
                    _ => generic(op, x, y)?,
                });
            }
        };
    }
    match op {
        K::Add => each!(
            |p: i64, q| p.checked_add(q).map(KVal::Int).ok_or(Bail),
            |p: f64, q: f64| KVal::Float(p + q)
        ),
        K::Sub => each!(
            |p: i64, q| p.checked_sub(q).map(KVal::Int).ok_or(Bail),
            |p: f64, q: f64| KVal::Float(p - q)
        ),
        K::Mul => each!(
            |p: i64, q| p.checked_mul(q).map(KVal::Int).ok_or(Bail),
            |p: f64, q: f64| KVal::Float(p * q)
        ),
        K::Lt => compare!(|o| o == Ordering::Less),
        K::Le => compare!(|o| o != Ordering::Greater),
        K::Gt => compare!(|o| o == Ordering::Greater),
        K::Ge => compare!(|o| o != Ordering::Less),
        K::Eq
        | K::Ne
        | K::Div
        | K::Mod
        | K::IntDiv
        | K::BitAnd
        | K::BitOr
        | K::BitXor
        | K::Shl
        | K::Shr => {
            for (x, y) in a.iter().copied().zip(b) {
                out.push(binary(op, x, y)?);
            }
        }
    }
    Ok(())
}

/// A binary operator with the interpreter's semantics (`ops::binary`); anything that
/// would be an error, or is not a number, bool or nil, bails.
#[inline]
pub fn binary(op: BinKind, a: KVal, b: KVal) -> KResult<KVal> {
    use BinKind as K;
    if let (KVal::Int(x), KVal::Int(y)) = (a, b) {
        return Ok(match op {
            K::Add => KVal::Int(x.checked_add(y).ok_or(Bail)?),
            K::Sub => KVal::Int(x.checked_sub(y).ok_or(Bail)?),
            K::Mul => KVal::Int(x.checked_mul(y).ok_or(Bail)?),
            K::Lt => KVal::Bool(x < y),
            K::Le => KVal::Bool(x <= y),
            K::Gt => KVal::Bool(x > y),
            K::Ge => KVal::Bool(x >= y),
            K::Eq => KVal::Bool(x == y),
            K::Ne => KVal::Bool(x != y),
            K::Div | K::Mod => {
                if y == 0 {
                    return Err(Bail);
                }
                return generic(op, a, b);
            }
            K::IntDiv | K::BitAnd | K::BitOr | K::BitXor | K::Shl | K::Shr => {
                return generic(op, a, b);
            }
        });
    }
    if let (KVal::Float(x), KVal::Float(y)) = (a, b) {
        return Ok(match op {
            K::Add => KVal::Float(x + y),
            K::Sub => KVal::Float(x - y),
            K::Mul => KVal::Float(x * y),
            K::Lt => KVal::Bool(x < y),
            K::Le => KVal::Bool(x <= y),
            K::Gt => KVal::Bool(x > y),
            K::Ge => KVal::Bool(x >= y),
            K::Eq => KVal::Bool(x == y),
            K::Ne => KVal::Bool(x != y),
            K::Div | K::Mod | K::IntDiv | K::BitAnd | K::BitOr | K::BitXor | K::Shl | K::Shr => {
                return generic(op, a, b);
            }
        });
    }
    generic(op, a, b)
}

/// What `binary`'s fast paths leave: Div, Mod and the Int operators, and operands of mixed or non-numeric
/// types, by the interpreter's rules (`ops::binary`); what would be an error there bails.
fn generic(op: BinKind, a: KVal, b: KVal) -> KResult<KVal> {
    use BinKind as K;
    use std::cmp::Ordering as O;
    let ordered = |test: fn(O) -> bool| Ok(KVal::Bool(num_cmp(a, b)?.is_some_and(test)));
    match op {
        K::Eq => Ok(KVal::Bool(scalar_eq(a, b))),
        K::Ne => Ok(KVal::Bool(!scalar_eq(a, b))),
        K::Lt => ordered(|o| o == O::Less),
        K::Le => ordered(|o| o != O::Greater),
        K::Gt => ordered(|o| o == O::Greater),
        K::Ge => ordered(|o| o != O::Less),
        K::Add | K::Sub | K::Mul => match (a, b) {
            (KVal::Int(x), KVal::Int(y)) => match op {
                K::Add => x.checked_add(y),
                K::Sub => x.checked_sub(y),
                _ => x.checked_mul(y),
            }
            .map(KVal::Int)
            .ok_or(Bail),
            _ => {
                let (x, y) = (num(a)?, num(b)?);
                Ok(KVal::Float(match op {
                    K::Add => x + y,
                    K::Sub => x - y,
                    _ => x * y,
                }))
            }
        },
        K::Div => {
            let (x, y) = (num(a)?, num(b)?);
            if y == 0.0 {
                return Err(Bail);
            }
            Ok(KVal::Float(x / y))
        }
        K::Mod => match (a, b) {
            (KVal::Int(x), KVal::Int(y)) => int_mod(x, y).map(KVal::Int).ok_or(Bail),
            _ => float_mod(num(a)?, num(b)?).map(KVal::Float).ok_or(Bail),
        },
        // The Int operators: the `arith` helpers are `None` exactly where the interpreter
        // raises an error (zero divisor, overflow, a shift count out of range).
        K::IntDiv | K::BitAnd | K::BitOr | K::BitXor | K::Shl | K::Shr => match (a, b) {
            (KVal::Int(x), KVal::Int(y)) => match op {
                K::IntDiv => int_floor_div(x, y),
                K::BitAnd => Some(x & y),
                K::BitOr => Some(x | y),
                K::BitXor => Some(x ^ y),
                K::Shl => int_shl(x, y),
                _ => int_shr(x, y),
            }
            .map(KVal::Int)
            .ok_or(Bail),
            _ if op == K::IntDiv => {
                let (x, y) = (num(a)?, num(b)?);
                if y == 0.0 {
                    return Err(Bail);
                }
                Ok(KVal::Float((x / y).floor()))
            }
            _ => Err(Bail),
        },
    }
}

/// `==` of two scalars: numbers by value (an Int equals a Float exactly), nil and bools
/// by value, any other pair of types unequal.
fn scalar_eq(a: KVal, b: KVal) -> bool {
    match (a, b) {
        (KVal::Nil, KVal::Nil) => true,
        (KVal::Bool(x), KVal::Bool(y)) => x == y,
        (KVal::Int(x), KVal::Int(y)) => x == y,
        (KVal::Float(x), KVal::Float(y)) => x == y,
        (KVal::Int(x), KVal::Float(y)) | (KVal::Float(y), KVal::Int(x)) => {
            cmp_int_float(x, y) == Some(Ordering::Equal)
        }
        _ => false,
    }
}

/// The order of two numbers (`None`: a NaN); anything else bails, as `<` on it is an error.
fn num_cmp(a: KVal, b: KVal) -> KResult<Option<Ordering>> {
    Ok(match (a, b) {
        (KVal::Int(x), KVal::Int(y)) => Some(x.cmp(&y)),
        (KVal::Float(x), KVal::Float(y)) => x.partial_cmp(&y),
        (KVal::Int(x), KVal::Float(y)) => cmp_int_float(x, y),
        (KVal::Float(x), KVal::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
        _ => return Err(Bail),
    })
}

fn num(v: KVal) -> KResult<f64> {
    match v {
        KVal::Int(i) => Ok(i as f64),
        KVal::Float(f) => Ok(f),
        _ => Err(Bail),
    }
}

/// A Float to an Int as `floor`, `ceil`, `round` and `int` do; out of range bails (the
/// interpreter reports it).
fn to_int(f: f64) -> KResult<KVal> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        return Err(Bail);
    }
    Ok(KVal::Int(f as i64))
}

/// The math builtins with the same results as stdlib's (stdlib/src/math.rs, core.rs).
pub fn math(f: MathFn, a: &[KVal]) -> KResult<KVal> {
    let x = *a.first().ok_or(Bail)?;
    Ok(match f {
        MathFn::Abs => match x {
            KVal::Int(i) => KVal::Int(i.checked_abs().ok_or(Bail)?),
            KVal::Float(v) => KVal::Float(v.abs()),
            _ => return Err(Bail),
        },
        MathFn::Floor | MathFn::Ceil | MathFn::Round | MathFn::Int => match x {
            KVal::Int(i) => KVal::Int(i),
            KVal::Float(v) => to_int(match f {
                MathFn::Floor => v.floor(),
                MathFn::Ceil => v.ceil(),
                MathFn::Round => v.round(),
                _ => v.trunc(),
            })?,
            _ => return Err(Bail),
        },
        MathFn::Float => KVal::Float(num(x)?),
        MathFn::Sqrt => KVal::Float(num(x)?.sqrt()),
        MathFn::Exp => KVal::Float(num(x)?.exp()),
        MathFn::Sin => KVal::Float(num(x)?.sin()),
        MathFn::Cos => KVal::Float(num(x)?.cos()),
        MathFn::Log => match a.get(1) {
            Some(base) => KVal::Float(num(x)?.ln() / num(*base)?.ln()),
            None => KVal::Float(num(x)?.ln()),
        },
        MathFn::Pow => {
            let e = *a.get(1).ok_or(Bail)?;
            match (x, e) {
                (KVal::Int(b), KVal::Int(e)) if e >= 0 => KVal::Int(
                    b.checked_pow(u32::try_from(e).map_err(|_| Bail)?)
                        .ok_or(Bail)?,
                ),
                _ => KVal::Float(num(x)?.powf(num(e)?)),
            }
        }
        MathFn::Min | MathFn::Max => {
            let want = if f == MathFn::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            for v in a {
                num(*v)?;
            }
            if let Some(n) = a.iter().find(|v| matches!(v, KVal::Float(f) if f.is_nan())) {
                return Ok(*n);
            }
            let mut best = x;
            for v in &a[1..] {
                let o = num_cmp(*v, best)?;
                if o == Some(want) {
                    best = *v;
                }
            }
            best
        }
    })
}
