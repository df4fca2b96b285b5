//! Evaluating a bound stage expression over a batch of elements, one node at a time.
//!
//! Positions are batch-relative element numbers; `sel` lists the positions still flowing
//! (ascending), and every result vector is aligned with the `sel` it was computed for.
//! `and`, `or` and `if` evaluate their right side only for the positions that need it, so
//! a guard such as `u.n != 0 and 10 / u.n > 1` never divides by zero in a kernel either.

use super::KVal;
use crate::bytecode::BinKind;
use crate::ops;
use std::cmp::Ordering;

/// A kernel cannot decide this batch: the interpreter runs it instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bail;

pub type KResult<T> = Result<T, Bail>;

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

/// A stage expression bound to its pipeline: fields are column (or key) numbers of the
/// plan, captured variables and globals are constants.
#[derive(Clone, Debug)]
pub enum BExpr {
    /// The element (a range's Int, a list item, or the value a `map` produced).
    Elem,
    /// `reduce`'s accumulator.
    Acc,
    /// Field number `.0` of the plan, of the element.
    Field(usize),
    Const(KVal),
    Neg(Box<BExpr>),
    Not(Box<BExpr>),
    Bin(BinKind, Box<BExpr>, Box<BExpr>),
    And(Box<BExpr>, Box<BExpr>),
    Or(Box<BExpr>, Box<BExpr>),
    If(Box<BExpr>, Box<BExpr>, Box<BExpr>),
    Math(MathFn, Vec<BExpr>),
}

/// Where a batch's element values and fields come from.
pub trait Elements {
    /// Field `field` of each selected element.
    fn gather(&self, field: usize, sel: &[u32], out: &mut Vec<KVal>) -> KResult<()>;
    /// Each selected element itself.
    fn elems(&self, sel: &[u32], out: &mut Vec<KVal>) -> KResult<()>;
}

/// The element values of one batch: the source's, or those a `map` produced (indexed by
/// position).
pub struct Batch<'a> {
    pub source: &'a dyn Elements,
    pub mapped: Option<&'a [KVal]>,
    /// `reduce`'s accumulator, for [`BExpr::Acc`].
    pub acc: KVal,
}

impl Batch<'_> {
    /// Evaluate `e` for the positions `sel`; the result is aligned with `sel`.
    pub fn eval(&self, e: &BExpr, sel: &[u32]) -> KResult<Vec<KVal>> {
        let mut out = Vec::with_capacity(sel.len());
        match e {
            BExpr::Elem => match self.mapped {
                Some(m) => out.extend(sel.iter().map(|&i| m[i as usize])),
                None => self.source.elems(sel, &mut out)?,
            },
            BExpr::Acc => out.resize(sel.len(), self.acc),
            BExpr::Field(f) => {
                if self.mapped.is_some() {
                    return Err(Bail);
                }
                self.source.gather(*f, sel, &mut out)?;
            }
            BExpr::Const(k) => out.resize(sel.len(), *k),
            BExpr::Neg(x) => {
                for v in self.eval(x, sel)? {
                    out.push(match v {
                        KVal::Int(i) => KVal::Int(i.checked_neg().ok_or(Bail)?),
                        KVal::Float(f) => KVal::Float(-f),
                        _ => return Err(Bail),
                    });
                }
            }
            BExpr::Not(x) => {
                out.extend(
                    self.eval(x, sel)?
                        .into_iter()
                        .map(|v| KVal::Bool(!v.is_truthy())),
                );
            }
            BExpr::Bin(op, x, y) => {
                let a = self.eval(x, sel)?;
                match &**y {
                    // `u.score * 2`: no vector of the constant.
                    BExpr::Const(k) => binary_vec(*op, &a, std::iter::repeat(*k), &mut out)?,
                    _ => {
                        let b = self.eval(y, sel)?;
                        binary_vec(*op, &a, b.into_iter(), &mut out)?;
                    }
                }
            }
            BExpr::And(x, y) | BExpr::Or(x, y) => {
                let is_and = matches!(e, BExpr::And(..));
                let left = self.eval(x, sel)?;
                // Positions whose value is the right side's.
                let sub: Vec<u32> = sel
                    .iter()
                    .zip(&left)
                    .filter(|(_, v)| v.is_truthy() == is_and)
                    .map(|(i, _)| *i)
                    .collect();
                let right = self.eval(y, &sub)?;
                let mut r = right.into_iter();
                for v in left {
                    out.push(if v.is_truthy() == is_and {
                        r.next().ok_or(Bail)?
                    } else {
                        v
                    });
                }
            }
            BExpr::If(c, t, f) => {
                let cond = self.eval(c, sel)?;
                let (mut yes, mut no) = (Vec::new(), Vec::new());
                for (i, v) in sel.iter().zip(&cond) {
                    if v.is_truthy() {
                        yes.push(*i);
                    } else {
                        no.push(*i);
                    }
                }
                let mut tv = self.eval(t, &yes)?.into_iter();
                let mut fv = self.eval(f, &no)?.into_iter();
                for v in cond {
                    out.push(if v.is_truthy() { tv.next() } else { fv.next() }.ok_or(Bail)?);
                }
            }
            BExpr::Math(f, args) => {
                let cols = args
                    .iter()
                    .map(|a| self.eval(a, sel))
                    .collect::<KResult<Vec<_>>>()?;
                let mut row = Vec::with_capacity(cols.len());
                for j in 0..sel.len() {
                    row.clear();
                    row.extend(cols.iter().map(|c| c[j]));
                    out.push(math(*f, &row)?);
                }
            }
        }
        Ok(out)
    }
}

/// One operator over two vectors, matched once per batch rather than per element.
fn binary_vec(
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
                        KVal::Bool(ops::cmp_int_float(p, q).is_some_and($test))
                    }
                    (KVal::Float(p), KVal::Int(q)) => KVal::Bool(
                        ops::cmp_int_float(q, p)
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
        K::Eq | K::Ne | K::Div | K::Mod => {
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
            K::Div | K::Mod => return generic(op, a, b),
        });
    }
    generic(op, a, b)
}

/// Through the interpreter's own operator code.
fn generic(op: BinKind, a: KVal, b: KVal) -> KResult<KVal> {
    let v = ops::binary(op, &a.to_value(), &b.to_value()).map_err(|_| Bail)?;
    KVal::from_value(&v).ok_or(Bail)
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
                let o = ops::compare("", &v.to_value(), &best.to_value()).map_err(|_| Bail)?;
                if o == Some(want) {
                    best = *v;
                }
            }
            best
        }
    })
}
