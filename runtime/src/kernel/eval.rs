//! Evaluating a bound stage expression over a batch of elements, one node at a time.
//!
//! Positions are batch-relative element numbers; `sel` lists the positions still flowing
//! (ascending), and every result vector is aligned with the `sel` it was computed for.
//! `and`, `or` and `if` evaluate their right side only for the positions that need it, so
//! a guard such as `u.n != 0 and 10 / u.n > 1` never divides by zero in a kernel either.

use super::KVal;
pub use super::col::Col;
pub use super::ops::{MathFn, math};
use super::ops::{binary_vec, neg_any, typed_binary};
use walia_lang::ast::BinOp as BinKind;

pub use super::{Bail, KResult};

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
    /// A number read when the run started (a captured variable, a global).
    Const(KVal),
    /// A literal of the lambda's text.
    Lit(KVal),
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
            BExpr::Const(k) | BExpr::Lit(k) => Col::repeat(*k, sel.len()),
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

/// The elements that come out of a batch, in source order.
pub enum Outputs {
    /// Source elements, by position in the batch (a filter kept them, no map ran).
    Positions(Vec<u32>),
    /// Values the last map produced.
    Values(Col),
    /// Already folded by compiled code on a `parallel(n)` thread: how many elements came
    /// out, and (for a sum) their Int total, every prefix of which stayed below 2^62 in
    /// magnitude (so adding it to a running sum below 2^62 cannot pass an overflow the
    /// serial run would stop at). Only a fold can take it.
    Folded { count: u64, sum: i64 },
}
