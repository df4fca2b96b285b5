//! Overflow proofs for a range chunk: which Int operations of a plan can run without their
//! overflow checks, and whether a chunk's numbers let them.
//!
//! Over a range, the element of a chunk lies in `[lo, hi]`, so every Int expression built
//! from the element, literals, captured numbers and `+ - * % neg abs min max if` has a
//! bound computable before the chunk runs. The code generator emits a second copy of the
//! loop in which such ("proved") operations, and an Int `sum` of a proved element, skip
//! their checks; the driver picks that copy for a chunk only when [`range_chunk_proved`]
//! shows that no proved operation can leave the Int range on any of its numbers, and the
//! sum cannot either. Both sides decide what is proved with the same function, [`walk`]:
//! the static question ([`proved`]) is the same walk over placeholder bounds (element and
//! captured numbers 0). Whether a node has a bound depends only on the tree's shape, and a
//! failed bound fails every node above it, so the two can differ only one way: where
//! literals alone overflow (`9223372036854775807 + (1 - x)`), the placeholder walk fails
//! and the code keeps that check, which the driver's walk may have found unneeded. Every
//! operation the code leaves unchecked is one the driver bounded with the chunk's numbers.

use super::ir::{IntOp, NExpr, NPlan, NStage, Sink, Ty};

/// An inclusive bound on an Int's values, in i128 so the arithmetic cannot overflow.
type Bound = (i128, i128);

/// A proved operation would leave the Int range on some number of the chunk.
struct Overflow;

const MIN: i128 = i64::MIN as i128;
const MAX: i128 = i64::MAX as i128;

/// The bound of `e` when it is proved (`Ok(None)`: not proved, though its proved parts
/// were checked); `elem` is the element's bound when the element is proved.
fn walk(
    e: &NExpr,
    elem: Option<Bound>,
    consts: &dyn Fn(u16) -> i64,
) -> Result<Option<Bound>, Overflow> {
    let fits = |(lo, hi): Bound| {
        if lo < MIN || hi > MAX {
            Err(Overflow)
        } else {
            Ok(Some((lo, hi)))
        }
    };
    match e {
        NExpr::Elem(Ty::Int) => Ok(elem),
        NExpr::Lit(bits, Ty::Int) => Ok(Some((*bits as i64 as i128, *bits as i64 as i128))),
        NExpr::Const(slot, Ty::Int) => {
            let v = consts(*slot) as i128;
            Ok(Some((v, v)))
        }
        NExpr::Int(op, x, y) => {
            let (bx, by) = (walk(x, elem, consts)?, walk(y, elem, consts)?);
            match (op, bx, by) {
                // Floored modulo: the result has the divisor's sign and is smaller in size
                // (a zero divisor is checked separately and bails).
                (IntOp::Mod, _, Some((lo, hi))) => {
                    let m = lo.abs().max(hi.abs());
                    Ok(Some((-(m - 1).max(0), (m - 1).max(0))))
                }
                (IntOp::Mod, _, None) | (_, None, _) | (_, _, None) => Ok(None),
                (IntOp::Add, Some((a, b)), Some((c, d))) => fits((a + c, b + d)),
                (IntOp::Sub, Some((a, b)), Some((c, d))) => fits((a - d, b - c)),
                (IntOp::Mul, Some((a, b)), Some((c, d))) => {
                    let p = [a * c, a * d, b * c, b * d];
                    let lo = p.iter().copied().min().unwrap_or(0);
                    let hi = p.iter().copied().max().unwrap_or(0);
                    fits((lo, hi))
                }
            }
        }
        NExpr::INeg(x) => match walk(x, elem, consts)? {
            Some((lo, hi)) => fits((-hi, -lo)),
            None => Ok(None),
        },
        NExpr::IAbs(x) => match walk(x, elem, consts)? {
            Some((lo, hi)) => {
                let top = lo.abs().max(hi.abs());
                let bottom = if lo <= 0 && hi >= 0 {
                    0
                } else {
                    lo.abs().min(hi.abs())
                };
                fits((bottom, top))
            }
            None => Ok(None),
        },
        // The value is one of the operands (an `if`'s condition is checked, not joined).
        NExpr::If(c, x, y) | NExpr::And(c @ x, y) | NExpr::Or(c @ x, y) if e.ty() == Ty::Int => {
            if matches!(e, NExpr::If(..)) {
                walk(c, elem, consts)?;
            }
            let (bx, by) = (walk(x, elem, consts)?, walk(y, elem, consts)?);
            Ok(bx.zip(by).map(|((a, b), (c, d))| (a.min(c), b.max(d))))
        }
        NExpr::Extreme(min, args) if e.ty() == Ty::Int => {
            let mut bounds = Vec::new();
            for a in args {
                bounds.push(walk(a, elem, consts)?);
            }
            let bounds: Option<Vec<Bound>> = bounds.into_iter().collect();
            Ok(bounds.and_then(|bs| {
                let pick = |f: fn(i128, i128) -> i128| {
                    let lo = bs.iter().map(|b| b.0).reduce(f)?;
                    let hi = bs.iter().map(|b| b.1).reduce(f)?;
                    Some((lo, hi))
                };
                if *min {
                    pick(i128::min)
                } else {
                    pick(i128::max)
                }
            }))
        }
        _ => {
            // Not an Int this analysis bounds: its proved parts are checked all the same.
            let mut res = Ok(());
            e.children(&mut |c| {
                if res.is_ok() && walk(c, elem, consts).is_err() {
                    res = Err(Overflow);
                }
            });
            res.map(|()| None)
        }
    }
}

/// Is `e` proved (its Int operations run unchecked in the proved copy) when the element
/// is (`elem_proved`)? The same walk as the driver's, over placeholder bounds (see the
/// module's note on the one way they can differ, which is safe).
pub fn proved(e: &NExpr, elem_proved: bool) -> bool {
    matches!(walk(e, elem_proved.then_some((0, 0)), &|_| 0), Ok(Some(_)))
}

/// Does a stage's element stay proved after it (a `map` to a proved expression keeps it;
/// other stages pass the element on)?
pub fn elem_after(stage: &NStage, elem_proved: bool) -> bool {
    match stage {
        NStage::Map(e) => proved(e, elem_proved),
        NStage::Set { value, .. } => proved(value, elem_proved),
        _ => elem_proved,
    }
}

/// Does the sink's Int sum run unchecked in the proved copy?
pub fn sum_proved(plan: &NPlan) -> bool {
    plan.sink == Sink::SumInt && plan.stages.iter().fold(true, |p, s| elem_after(s, p))
}

/// May the chunk of a range whose numbers lie in `lo..=hi` (`n` of them) run the proved
/// copy: no proved operation leaves the Int range on any of them, and (for a proved Int
/// sum) no sum of up to `n` elements added to `acc` does?
pub fn range_chunk_proved(
    plan: &NPlan,
    consts: &[u64],
    (lo, hi): (i64, i64),
    n: u64,
    acc: i64,
) -> bool {
    let consts = |slot: u16| consts.get(slot as usize).map_or(0, |b| *b as i64);
    let mut elem = Some((lo as i128, hi as i128));
    for s in &plan.stages {
        let bound = match s {
            NStage::Filter(e) | NStage::Map(e) | NStage::TakeWhile(e) => walk(e, elem, &consts),
            NStage::Set { value, .. } => walk(value, elem, &consts),
            NStage::Take { .. } | NStage::Skip { .. } => Ok(elem),
        };
        let Ok(bound) = bound else {
            return false;
        };
        if matches!(s, NStage::Map(_) | NStage::Set { .. }) {
            elem = bound;
        }
    }
    if plan.sink != Sink::SumInt {
        return true;
    }
    // The sum's prefixes lie between acc + n·min(lo, 0) and acc + n·max(hi, 0).
    match elem {
        Some((a, b)) => {
            let n = n as i128;
            let acc = acc as i128;
            acc + n * a.min(0) >= MIN && acc + n * b.max(0) <= MAX
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::ir::NSource;

    fn lit(v: i64) -> Box<NExpr> {
        Box::new(NExpr::Lit(v as u64, Ty::Int))
    }

    fn elem() -> Box<NExpr> {
        Box::new(NExpr::Elem(Ty::Int))
    }

    fn plan(stages: Vec<NStage>, sink: Sink) -> NPlan {
        NPlan {
            source: NSource::Range,
            stages,
            sink,
        }
    }

    #[test]
    fn a_chunk_is_proved_only_when_no_number_overflows() {
        let double = plan(
            vec![NStage::Map(NExpr::Int(IntOp::Mul, elem(), lit(2)))],
            Sink::SumInt,
        );
        assert!(sum_proved(&double));
        assert!(range_chunk_proved(&double, &[], (0, 1023), 1024, 0));
        let half = i64::MAX / 2;
        assert!(range_chunk_proved(&double, &[], (half - 10, half), 1, 0));
        assert!(!range_chunk_proved(
            &double,
            &[],
            (half - 10, half + 1),
            1,
            0
        ));
        // The sum: up to n elements of at most 2·hi on top of the running total.
        assert!(!range_chunk_proved(
            &double,
            &[],
            (0, 1023),
            1024,
            i64::MAX - 1000
        ));
        assert!(!range_chunk_proved(
            &double,
            &[],
            (-1023, 0),
            1024,
            i64::MIN + 1000
        ));
    }

    #[test]
    fn what_is_proved_follows_the_element() {
        let square = NExpr::Int(IntOp::Mul, elem(), elem());
        assert!(proved(&square, true));
        assert!(!proved(&square, false));
        // A Float in the middle ends the proof; a modulo bounds by its divisor alone.
        let float = NExpr::ToInt(
            crate::native::ir::Rounding::Floor,
            Box::new(NExpr::IntToFloat(elem())),
        );
        assert!(!proved(&float, true));
        let m = NExpr::Int(IntOp::Mod, Box::new(float), lit(7));
        assert!(proved(&m, true));
        let p = plan(vec![NStage::Map(m)], Sink::SumInt);
        assert!(range_chunk_proved(&p, &[], (i64::MIN, i64::MAX), 1024, 0));
        // A comparison inside a filter is checked too.
        let f = plan(
            vec![NStage::Filter(NExpr::ICmp(
                crate::native::ir::Cmp::Gt,
                Box::new(NExpr::Int(IntOp::Add, elem(), lit(1))),
                lit(0),
            ))],
            Sink::Count,
        );
        assert!(range_chunk_proved(&f, &[], (0, 10), 11, 0));
        assert!(!range_chunk_proved(&f, &[], (i64::MAX - 1, i64::MAX), 2, 0));
    }

    #[test]
    fn bounds_of_neg_abs_and_extremes() {
        let neg = plan(vec![NStage::Map(NExpr::INeg(elem()))], Sink::Count);
        assert!(!range_chunk_proved(
            &neg,
            &[],
            (i64::MIN, i64::MIN + 5),
            6,
            0
        ));
        assert!(range_chunk_proved(
            &neg,
            &[],
            (i64::MIN + 1, i64::MIN + 5),
            5,
            0
        ));
        let capped = NExpr::Extreme(
            true,
            vec![NExpr::Int(IntOp::Mul, elem(), elem()), *lit(100)],
        );
        let p = plan(vec![NStage::Map(capped)], Sink::SumInt);
        assert!(range_chunk_proved(&p, &[], (0, 1_000_000), 1000, 0));
        assert!(!range_chunk_proved(&p, &[], (0, i64::MAX), 1000, 0));
    }
}
