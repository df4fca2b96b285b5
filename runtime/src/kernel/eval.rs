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

/// A vector of values, typed when every value has the same type (the common case: a
/// column without nils, arithmetic on it), so the operators run as plain loops.
#[derive(Clone, Debug)]
pub enum Col {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Any(Vec<KVal>),
}

impl Col {
    pub fn len(&self) -> usize {
        match self {
            Col::Int(v) => v.len(),
            Col::Float(v) => v.len(),
            Col::Bool(v) => v.len(),
            Col::Any(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, j: usize) -> Option<KVal> {
        Some(match self {
            Col::Int(v) => KVal::Int(*v.get(j)?),
            Col::Float(v) => KVal::Float(*v.get(j)?),
            Col::Bool(v) => KVal::Bool(*v.get(j)?),
            Col::Any(v) => *v.get(j)?,
        })
    }

    #[inline]
    pub fn truthy(&self, j: usize) -> bool {
        match self {
            Col::Bool(v) => v.get(j).copied().unwrap_or(false),
            Col::Int(_) | Col::Float(_) => j < self.len(),
            Col::Any(v) => v.get(j).is_some_and(|k| k.is_truthy()),
        }
    }

    pub fn into_any(self) -> Vec<KVal> {
        match self {
            Col::Int(v) => v.into_iter().map(KVal::Int).collect(),
            Col::Float(v) => v.into_iter().map(KVal::Float).collect(),
            Col::Bool(v) => v.into_iter().map(KVal::Bool).collect(),
            Col::Any(v) => v,
        }
    }

    /// Typed when every value has one type.
    pub fn from_any(v: Vec<KVal>) -> Col {
        match v.first() {
            Some(KVal::Int(_)) if v.iter().all(|k| matches!(k, KVal::Int(_))) => Col::Int(
                v.into_iter()
                    .map(|k| if let KVal::Int(i) = k { i } else { 0 })
                    .collect(),
            ),
            Some(KVal::Float(_)) if v.iter().all(|k| matches!(k, KVal::Float(_))) => Col::Float(
                v.into_iter()
                    .map(|k| if let KVal::Float(f) = k { f } else { 0.0 })
                    .collect(),
            ),
            Some(KVal::Bool(_)) if v.iter().all(|k| matches!(k, KVal::Bool(_))) => Col::Bool(
                v.into_iter()
                    .map(|k| matches!(k, KVal::Bool(true)))
                    .collect(),
            ),
            _ => Col::Any(v),
        }
    }

    /// The values at indices `at` (ascending), of the same type.
    pub fn pick(&self, at: impl Iterator<Item = usize>) -> Col {
        match self {
            Col::Int(v) => Col::Int(at.map(|j| v[j]).collect()),
            Col::Float(v) => Col::Float(at.map(|j| v[j]).collect()),
            Col::Bool(v) => Col::Bool(at.map(|j| v[j]).collect()),
            Col::Any(v) => Col::Any(at.map(|j| v[j]).collect()),
        }
    }

    fn repeat(k: KVal, n: usize) -> Col {
        match k {
            KVal::Int(i) => Col::Int(vec![i; n]),
            KVal::Float(f) => Col::Float(vec![f; n]),
            KVal::Bool(b) => Col::Bool(vec![b; n]),
            KVal::Nil => Col::Any(vec![KVal::Nil; n]),
        }
    }
}

/// Where a batch's element values and fields come from.
pub trait Elements {
    /// Field `field` of each selected element.
    fn gather(&self, field: usize, sel: &[u32]) -> KResult<Col>;
    /// Each selected element itself.
    fn elems(&self, sel: &[u32]) -> KResult<Col>;
}

/// Values a `map` produced: `values[j]` belongs to position `positions[j]`.
pub struct Mapped<'a> {
    pub positions: &'a [u32],
    pub values: &'a Col,
}

impl Mapped<'_> {
    /// The values of the positions `sel` (a subsequence of `positions`: later stages only
    /// drop elements).
    pub fn of(&self, sel: &[u32]) -> KResult<Col> {
        if sel.len() == self.positions.len() {
            // Nothing was dropped since the map.
            return Ok(self.values.clone());
        }
        let mut j = 0;
        let mut at = Vec::with_capacity(sel.len());
        for &i in sel {
            while self.positions.get(j).is_some_and(|p| *p < i) {
                j += 1;
            }
            if self.positions.get(j) != Some(&i) {
                return Err(Bail);
            }
            at.push(j);
        }
        Ok(self.values.pick(at.into_iter()))
    }
}

/// The element values of one batch: the source's, or those a `map` produced.
pub struct Batch<'a> {
    pub source: &'a dyn Elements,
    pub mapped: Option<Mapped<'a>>,
    /// `reduce`'s accumulator, for [`BExpr::Acc`].
    pub acc: KVal,
}

impl Batch<'_> {
    /// Evaluate `e` for the positions `sel`; the result is aligned with `sel`.
    pub fn eval(&self, e: &BExpr, sel: &[u32]) -> KResult<Col> {
        Ok(match e {
            BExpr::Elem => match &self.mapped {
                Some(m) => m.of(sel)?,
                None => self.source.elems(sel)?,
            },
            BExpr::Field(f) => {
                if self.mapped.is_some() {
                    return Err(Bail);
                }
                self.source.gather(*f, sel)?
            }
            BExpr::Const(k) => Col::repeat(*k, sel.len()),
            BExpr::Neg(x) => match self.eval(x, sel)? {
                Col::Float(v) => Col::Float(v.into_iter().map(|f| -f).collect()),
                Col::Int(v) => Col::Int(
                    v.into_iter()
                        .map(|i| i.checked_neg().ok_or(Bail))
                        .collect::<KResult<_>>()?,
                ),
                other => Col::from_any(neg_any(other.into_any())?),
            },
            BExpr::Bin(op, x, y) => {
                let a = self.eval(x, sel)?;
                let b = self.eval(y, sel)?;
                match typed_binary(*op, &a, &b)? {
                    Some(c) => c,
                    None => {
                        let mut out = Vec::with_capacity(sel.len());
                        binary_vec(*op, &a.into_any(), b.into_any().into_iter(), &mut out)?;
                        Col::from_any(out)
                    }
                }
            }
            _ => Col::from_any(self.eval_any(e, sel)?),
        })
    }

    /// The nodes evaluated value by value: `!`, `and`, `or`, `if`, math calls, `reduce`'s
    /// accumulator.
    fn eval_any(&self, e: &BExpr, sel: &[u32]) -> KResult<Vec<KVal>> {
        let mut out = Vec::with_capacity(sel.len());
        match e {
            BExpr::Acc => out.resize(sel.len(), self.acc),
            BExpr::Not(x) => {
                let v = self.eval(x, sel)?;
                out.extend((0..sel.len()).map(|j| KVal::Bool(!v.truthy(j))));
            }
            BExpr::And(x, y) | BExpr::Or(x, y) => {
                let is_and = matches!(e, BExpr::And(..));
                let left = self.eval(x, sel)?.into_any();
                // Positions whose value is the right side's.
                let sub: Vec<u32> = sel
                    .iter()
                    .zip(&left)
                    .filter(|(_, v)| v.is_truthy() == is_and)
                    .map(|(i, _)| *i)
                    .collect();
                let mut right = self.eval(y, &sub)?.into_any().into_iter();
                for v in left {
                    out.push(if v.is_truthy() == is_and {
                        right.next().ok_or(Bail)?
                    } else {
                        v
                    });
                }
            }
            BExpr::If(c, t, f) => {
                let cond = self.eval(c, sel)?;
                let (mut yes, mut no) = (Vec::new(), Vec::new());
                for (j, i) in sel.iter().enumerate() {
                    if cond.truthy(j) {
                        yes.push(*i);
                    } else {
                        no.push(*i);
                    }
                }
                let mut tv = self.eval(t, &yes)?.into_any().into_iter();
                let mut fv = self.eval(f, &no)?.into_any().into_iter();
                for j in 0..sel.len() {
                    out.push(if cond.truthy(j) { tv.next() } else { fv.next() }.ok_or(Bail)?);
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
                    for c in &cols {
                        row.push(c.get(j).ok_or(Bail)?);
                    }
                    out.push(math(*f, &row)?);
                }
            }
            other => return Ok(self.eval(other, sel)?.into_any()),
        }
        Ok(out)
    }
}

/// `%` of two Ints, `y` not 0: the result takes the divisor's sign (`ops::arith`).
#[inline]
fn int_mod(x: i64, y: i64) -> i64 {
    // i64::MIN % -1 is 0 (checked_rem reports it as an overflow).
    let r = x.checked_rem(y).unwrap_or(0);
    if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    }
}

/// `%` of two Floats, `y` not 0 (`ops::arith`): the divisor's sign, a zero result included.
#[inline]
fn float_mod(x: f64, y: f64) -> f64 {
    let r = x % y;
    if r == 0.0 {
        0.0f64.copysign(y)
    } else if (r < 0.0) != (y < 0.0) {
        r + y
    } else {
        r
    }
}

fn neg_any(v: Vec<KVal>) -> KResult<Vec<KVal>> {
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
fn typed_binary(op: BinKind, a: &Col, b: &Col) -> KResult<Option<Col>> {
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
            K::Lt => cmp!(x, y, <),
            K::Le => cmp!(x, y, <=),
            K::Gt => cmp!(x, y, >),
            K::Ge => cmp!(x, y, >=),
            K::Eq => cmp!(x, y, ==),
            K::Ne => cmp!(x, y, !=),
            K::Mod => {
                if y.contains(&0) {
                    return Err(Bail);
                }
                Col::Int(x.iter().zip(y).map(|(p, q)| int_mod(*p, *q)).collect())
            }
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
            K::Lt => cmp!(x, y, <),
            K::Le => cmp!(x, y, <=),
            K::Gt => cmp!(x, y, >),
            K::Ge => cmp!(x, y, >=),
            K::Eq => cmp!(x, y, ==),
            K::Ne => cmp!(x, y, !=),
            K::Mod => {
                if y.contains(&0.0) {
                    return Err(Bail);
                }
                floats!(x, y, |p, q| float_mod(p, q))
            }
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
