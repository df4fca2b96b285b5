//! Expressions: each typed node to Cranelift instructions, and the constants a plan
//! needs (the literal range checks, the wide constants loaded once).

use super::loops::Gen;
use super::{clif, mem};
use crate::shims;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{BlockArg, InstBuilder, MemFlagsData, Value, types};
use walia_runtime::api::native::interval::proved;
use walia_runtime::api::native::ir::{
    Cmp, FloatOp, IntOp, NExpr, NPlan, NStage, Rounding, Shim, Ty,
};

impl Gen<'_, '_> {
    /// A value's 64 stored bits (as in a column page).
    pub(super) fn bits(&mut self, v: Value, ty: Ty) -> Value {
        match ty {
            Ty::Int => v,
            Ty::Float => self.b.ins().bitcast(types::I64, MemFlagsData::new(), v),
            Ty::Bool => self.b.ins().uextend(types::I64, v),
        }
    }

    pub(super) fn float(&mut self, v: Value, ty: Ty) -> Value {
        match ty {
            Ty::Int => self.b.ins().fcvt_from_sint(types::F64, v),
            _ => v,
        }
    }

    pub(super) fn truthy(&mut self, v: Value, ty: Ty) -> Value {
        match ty {
            Ty::Bool => v,
            _ => self.b.ins().iconst(types::I8, 1),
        }
    }

    pub(super) fn call(&mut self, name: &str, args: &[Value]) -> Value {
        let f = self.funcs[name];
        let c = self.b.ins().call(f, args);
        self.b.inst_results(c)[0]
    }

    pub(super) fn expr(&mut self, e: &NExpr) -> Value {
        match e {
            NExpr::Field(f, ty) => {
                let base = self.cols[f];
                let i = self.b.use_var(self.row);
                let off = self.b.ins().ishl_imm_u(i, 3);
                let at = self.b.ins().iadd(base, off);
                match ty {
                    Ty::Bool => {
                        let raw = self.b.ins().load(types::I64, mem(), at, 0);
                        self.b.ins().icmp_imm_s(IntCC::NotEqual, raw, 0)
                    }
                    t => self.b.ins().load(clif(*t), mem(), at, 0),
                }
            }
            NExpr::Elem(ty) => match self.elem {
                Some((v, _)) => v,
                None => self.zero(*ty),
            },
            NExpr::Const(slot, _) => self.consts[slot],
            NExpr::Lit(bits, ty) => match ty {
                Ty::Float => {
                    let raw = self.int_const(*bits as i64);
                    self.b.ins().bitcast(types::F64, MemFlagsData::new(), raw)
                }
                Ty::Int => self.int_const(*bits as i64),
                Ty::Bool => self.b.ins().iconst(types::I8, (*bits != 0) as i64),
            },
            NExpr::Fail(ty) => {
                self.b.ins().jump(self.bail, &[]);
                self.fresh();
                self.zero(*ty)
            }
            NExpr::IntToFloat(x) => {
                let v = self.expr(x);
                self.b.ins().fcvt_from_sint(types::F64, v)
            }
            NExpr::INeg(x) => {
                let v = self.operand_not_min(e, x);
                self.b.ins().ineg(v)
            }
            NExpr::FNeg(x) => {
                let v = self.expr(x);
                self.b.ins().fneg(v)
            }
            NExpr::Int(op @ (IntOp::Add | IntOp::Sub | IntOp::Mul), x, y) if self.proved(e) => {
                let (a, c) = (self.expr(x), self.expr(y));
                match op {
                    IntOp::Add => self.b.ins().iadd(a, c),
                    IntOp::Sub => self.b.ins().isub(a, c),
                    _ => self.b.ins().imul(a, c),
                }
            }
            NExpr::Int(op, x, y) => {
                // Arithmetic with a literal checks the operand's range instead of the
                // overflow flag: one compare, and the plain (2-operand) instruction.
                let lit = |e: &NExpr| match e {
                    NExpr::Lit(bits, Ty::Int) => Some(*bits as i64),
                    _ => None,
                };
                let known = match (op, lit(x), lit(y)) {
                    (_, _, Some(c)) => Some((&**x, c)),
                    (IntOp::Add | IntOp::Mul, Some(c), None) => Some((&**y, c)),
                    _ => None,
                };
                if let Some((other, c)) = known
                    && let Some((lo, hi)) = safe_range(*op, c)
                {
                    let v = self.expr(other);
                    let lo = self.int_const(lo.wrapping_neg());
                    let shifted = self.b.ins().iadd(v, lo);
                    let width = self.int_const(hi.wrapping_sub(lo_of(*op, c)));
                    let out = self
                        .b
                        .ins()
                        .icmp(IntCC::UnsignedGreaterThan, shifted, width);
                    self.bail_if(out);
                    return match op {
                        IntOp::Add => self.b.ins().iadd_imm_s(v, c),
                        IntOp::Sub => self.b.ins().iadd_imm_s(v, c.wrapping_neg()),
                        _ => self.b.ins().imul_imm_s(v, c),
                    };
                }
                let (a, c) = (self.expr(x), self.expr(y));
                self.int_op(*op, a, c)
            }
            NExpr::Float(op, x, y) => {
                let (a, c) = (self.expr(x), self.expr(y));
                match op {
                    FloatOp::Add => self.b.ins().fadd(a, c),
                    FloatOp::Sub => self.b.ins().fsub(a, c),
                    FloatOp::Mul => self.b.ins().fmul(a, c),
                    FloatOp::Quot => self.b.ins().fdiv(a, c),
                    FloatOp::Div | FloatOp::Mod => {
                        let z = self.b.ins().f64const(0.0);
                        let is_zero = self.b.ins().fcmp(FloatCC::Equal, c, z);
                        self.bail_if(is_zero);
                        if *op == FloatOp::Div {
                            self.b.ins().fdiv(a, c)
                        } else {
                            self.call(shims::FLOORED_MOD, &[a, c])
                        }
                    }
                }
            }
            NExpr::IntDiv(x, y) => {
                let (a, c) = (self.expr(x), self.expr(y));
                let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                self.bail_if(is_zero);
                let fa = self.b.ins().fcvt_from_sint(types::F64, a);
                let fc = self.b.ins().fcvt_from_sint(types::F64, c);
                self.b.ins().fdiv(fa, fc)
            }
            NExpr::ICmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                self.b.ins().icmp(int_cc(*c), a, d)
            }
            NExpr::FCmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                self.b.ins().fcmp(float_cc(*c), a, d)
            }
            NExpr::IFCmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                // Exact only while the Int converts exactly: |a| <= 2^53.
                let shifted = self.b.ins().iadd_imm_s(a, 1i64 << 53);
                let far = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThan, shifted, 1i64 << 54);
                self.bail_if(far);
                let fa = self.b.ins().fcvt_from_sint(types::F64, a);
                self.b.ins().fcmp(float_cc(*c), fa, d)
            }
            NExpr::BCmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                self.b.ins().icmp(int_cc(*c), a, d)
            }
            NExpr::Truthy(x) => {
                let v = self.expr(x);
                self.truthy(v, x.ty())
            }
            NExpr::Not(x) => {
                let v = self.expr(x);
                let t = self.truthy(v, x.ty());
                self.b.ins().icmp_imm_s(IntCC::Equal, t, 0)
            }
            NExpr::And(x, y) | NExpr::Or(x, y) => {
                let ty = x.ty();
                let a = self.expr(x);
                let t = self.truthy(a, ty);
                let rhs = self.b.create_block();
                let join = self.b.create_block();
                self.b.append_block_param(join, clif(ty));
                if matches!(e, NExpr::And(..)) {
                    self.b.ins().brif(t, rhs, &[], join, &[BlockArg::Value(a)]);
                } else {
                    self.b.ins().brif(t, join, &[BlockArg::Value(a)], rhs, &[]);
                }
                self.b.switch_to_block(rhs);
                let c = self.expr(y);
                self.b.ins().jump(join, &[BlockArg::Value(c)]);
                self.b.switch_to_block(join);
                self.b.block_params(join)[0]
            }
            NExpr::If(c, x, y) => {
                let ty = x.ty();
                let cond = self.expr(c);
                let cond = self.truthy(cond, c.ty());
                let (yes, no, join) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                self.b.append_block_param(join, clif(ty));
                self.b.ins().brif(cond, yes, &[], no, &[]);
                for (blk, arm) in [(yes, x), (no, y)] {
                    self.b.switch_to_block(blk);
                    let v = self.expr(arm);
                    self.b.ins().jump(join, &[BlockArg::Value(v)]);
                }
                self.b.switch_to_block(join);
                self.b.block_params(join)[0]
            }
            NExpr::IAbs(x) => {
                let v = self.operand_not_min(e, x);
                self.b.ins().iabs(v)
            }
            NExpr::FAbs(x) => {
                let v = self.expr(x);
                self.b.ins().fabs(v)
            }
            NExpr::Sqrt(x) => {
                let v = self.expr(x);
                self.b.ins().sqrt(v)
            }
            NExpr::ToInt(r, x) => {
                let v = self.expr(x);
                let y = match r {
                    Rounding::Floor => self.b.ins().floor(v),
                    Rounding::Ceil => self.b.ins().ceil(v),
                    Rounding::Trunc => self.b.ins().trunc(v),
                    Rounding::Round => self.call(shims::shim(Shim::Round).0, &[v]),
                };
                // NaN, the infinities and anything outside [-2^63, 2^63) fail.
                let lo = self.b.ins().f64const(-9_223_372_036_854_775_808.0);
                let hi = self.b.ins().f64const(9_223_372_036_854_775_808.0);
                let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, y, lo);
                let below = self.b.ins().fcmp(FloatCC::LessThan, y, hi);
                let inside = self.b.ins().band(above, below);
                let outside = self.b.ins().icmp_imm_s(IntCC::Equal, inside, 0);
                self.bail_if(outside);
                self.b.ins().fcvt_to_sint_sat(types::I64, y)
            }
            NExpr::Call(s, args) => {
                let vals: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
                self.call(shims::shim(*s).0, &vals)
            }
            NExpr::Extreme(min, args) => {
                let ty = e.ty();
                let vals: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
                let mut best = vals[0];
                for v in &vals[1..] {
                    let v = *v;
                    let take = match ty {
                        Ty::Int => {
                            let cc = if *min {
                                IntCC::SignedLessThan
                            } else {
                                IntCC::SignedGreaterThan
                            };
                            self.b.ins().icmp(cc, v, best)
                        }
                        _ => {
                            // A NaN wins from the first one on; ties keep the first.
                            let cc = if *min {
                                FloatCC::LessThan
                            } else {
                                FloatCC::GreaterThan
                            };
                            let better = self.b.ins().fcmp(cc, v, best);
                            let v_nan = self.b.ins().fcmp(FloatCC::Unordered, v, v);
                            let best_num = self.b.ins().fcmp(FloatCC::Ordered, best, best);
                            let either = self.b.ins().bor(better, v_nan);
                            self.b.ins().band(either, best_num)
                        }
                    };
                    best = self.b.ins().select(take, v, best);
                }
                best
            }
        }
    }

    /// In a range's proved copy, is `e` proved (it cannot overflow on this chunk)?
    fn proved(&self, e: &NExpr) -> bool {
        self.unchecked && proved(e, self.elem_proved)
    }

    /// The operand `x` of negation or absolute value `e`: checked against `i64::MIN`
    /// unless `e` is proved (a range's proved copy).
    fn operand_not_min(&mut self, e: &NExpr, x: &NExpr) -> Value {
        if self.proved(e) {
            self.expr(x)
        } else {
            self.not_min(x)
        }
    }

    /// An Int expression's value, bailing on `i64::MIN` (whose negation and absolute
    /// value overflow).
    fn not_min(&mut self, x: &NExpr) -> Value {
        let v = self.expr(x);
        let min = self.b.ins().icmp_imm_s(IntCC::Equal, v, i64::MIN);
        self.bail_if(min);
        v
    }

    pub(super) fn int_op(&mut self, op: IntOp, a: Value, c: Value) -> Value {
        match op {
            IntOp::Add | IntOp::Sub | IntOp::Mul => {
                let (r, over) = match op {
                    IntOp::Add => self.b.ins().sadd_overflow(a, c),
                    IntOp::Sub => self.b.ins().ssub_overflow(a, c),
                    _ => self.b.ins().smul_overflow(a, c),
                };
                self.bail_if(over);
                r
            }
            IntOp::Mod => {
                let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                self.bail_if(is_zero);
                // x % -1 is 0; srem would trap on i64::MIN % -1, so divide by 1 instead.
                let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, c, -1);
                let one = self.b.ins().iconst(types::I64, 1);
                let d = self.b.ins().select(minus_one, one, c);
                let r = self.b.ins().srem(a, d);
                // The divisor's sign: r + c when r is not 0 and the signs differ.
                let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                let x = self.b.ins().bxor(r, c);
                let differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                let fix = self.b.ins().band(nonzero, differ);
                let fixed = self.b.ins().iadd(r, c);
                self.b.ins().select(fix, fixed, r)
            }
        }
    }

    /// An Int constant: an immediate when it fits in 32 bits, else the register it was
    /// loaded into at entry.
    pub(super) fn int_const(&mut self, v: i64) -> Value {
        match self.hoisted.get(&(v as u64)) {
            Some(r) if i32::try_from(v).is_err() => *r,
            _ => self.b.ins().iconst(types::I64, v),
        }
    }

    pub(super) fn zero(&mut self, ty: Ty) -> Value {
        match ty {
            Ty::Float => self.b.ins().f64const(0.0),
            t => self.b.ins().iconst(clif(t), 0),
        }
    }
}

/// The operands `x` for which `x op c` (with the literal `c` on the right, or either side
/// for `+` and `*`) does not overflow: `[lo, hi]`, or `None` when the operation is not
/// handled this way.
fn safe_range(op: IntOp, c: i64) -> Option<(i64, i64)> {
    let (min, max, c128) = (i64::MIN as i128, i64::MAX as i128, c as i128);
    let (lo, hi) = match op {
        IntOp::Add => (min - c128, max - c128),
        IntOp::Sub => (min + c128, max + c128),
        IntOp::Mul if c > 0 => (ceil_div(min, c128), floor_div(max, c128)),
        IntOp::Mul if c < -1 => (ceil_div(max, c128), floor_div(min, c128)),
        _ => return None,
    };
    Some((lo.max(min) as i64, hi.min(max) as i64))
}

/// The low end of [`safe_range`] (which exists when this is called).
fn lo_of(op: IntOp, c: i64) -> i64 {
    safe_range(op, c).map_or(0, |(lo, _)| lo)
}

/// The constants of `plan` that do not fit an instruction's 32-bit immediate: Float
/// literals' bits, wide Int literals, and the bounds of literal range checks.
pub(super) fn wide_constants(plan: &NPlan) -> Vec<u64> {
    fn walk(e: &NExpr, out: &mut Vec<u64>) {
        let mut add = |v: i64| {
            if i32::try_from(v).is_err() && !out.contains(&(v as u64)) {
                out.push(v as u64);
            }
        };
        match e {
            NExpr::Lit(bits, Ty::Float | Ty::Int) => add(*bits as i64),
            NExpr::Int(op, x, y) => {
                let lit = |e: &NExpr| match e {
                    NExpr::Lit(bits, Ty::Int) => Some(*bits as i64),
                    _ => None,
                };
                let c = match (op, lit(x), lit(y)) {
                    (_, _, Some(c)) => Some(c),
                    (IntOp::Add | IntOp::Mul, Some(c), None) => Some(c),
                    _ => None,
                };
                if let Some((lo, hi)) = c.and_then(|c| safe_range(*op, c)) {
                    add(lo.wrapping_neg());
                    add(hi.wrapping_sub(lo));
                }
            }
            _ => {}
        }
        e.children(&mut |c| walk(c, out));
    }
    let mut out = Vec::new();
    for s in &plan.stages {
        match s {
            NStage::Filter(e) | NStage::Map(e) | NStage::TakeWhile(e) => walk(e, &mut out),
            NStage::Set { value, .. } => walk(value, &mut out),
            NStage::Take { .. } | NStage::Skip { .. } => {}
        }
    }
    out
}

/// `a / b` rounded down.
fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// `a / b` rounded up.
fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a < 0) == (b < 0)) {
        q + 1
    } else {
        q
    }
}

fn int_cc(c: Cmp) -> IntCC {
    match c {
        Cmp::Lt => IntCC::SignedLessThan,
        Cmp::Le => IntCC::SignedLessThanOrEqual,
        Cmp::Gt => IntCC::SignedGreaterThan,
        Cmp::Ge => IntCC::SignedGreaterThanOrEqual,
        Cmp::Eq => IntCC::Equal,
        Cmp::Ne => IntCC::NotEqual,
    }
}

fn float_cc(c: Cmp) -> FloatCC {
    match c {
        Cmp::Lt => FloatCC::LessThan,
        Cmp::Le => FloatCC::LessThanOrEqual,
        Cmp::Gt => FloatCC::GreaterThan,
        Cmp::Ge => FloatCC::GreaterThanOrEqual,
        Cmp::Eq => FloatCC::Equal,
        // NaN != NaN, as in Rust.
        Cmp::Ne => FloatCC::NotEqual,
    }
}

/// The constant slots an expression reads, with their types.
pub(super) fn consts_of(e: &NExpr, out: &mut Vec<(u16, Ty)>) {
    if let NExpr::Const(slot, t) = e
        && !out.iter().any(|(x, _)| x == slot)
    {
        out.push((*slot, *t));
    }
    e.children(&mut |c| consts_of(c, out));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `safe_range` must contain exactly the operands that do not overflow.
    #[test]
    fn literal_ranges_are_exact() {
        let cs = [
            1,
            2,
            3,
            7,
            1000,
            -2,
            -3,
            -7,
            -1000,
            i64::MAX,
            i64::MIN,
            1 << 31,
            -(1 << 31),
        ];
        let mut xs = vec![0, 1, -1, i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1];
        for c in cs {
            for d in [-2i64, -1, 0, 1, 2] {
                for base in [
                    i64::MAX / c.max(1),
                    i64::MIN / c.max(1),
                    i64::MAX / c,
                    i64::MIN / c,
                ] {
                    xs.push(base.saturating_add(d));
                }
                xs.push(i64::MIN.wrapping_sub(c).wrapping_add(d));
                xs.push(i64::MAX.wrapping_sub(c).wrapping_add(d));
                xs.push(i64::MIN.wrapping_add(c).wrapping_add(d));
                xs.push(i64::MAX.wrapping_add(c).wrapping_add(d));
            }
        }
        for c in cs.iter().chain(&[0, -1]) {
            for (op, f) in [
                (IntOp::Add, i64::checked_add as fn(i64, i64) -> Option<i64>),
                (IntOp::Sub, i64::checked_sub),
                (IntOp::Mul, i64::checked_mul),
            ] {
                let Some((lo, hi)) = safe_range(op, *c) else {
                    assert!(matches!(op, IntOp::Mul) && (*c == 0 || *c == -1));
                    continue;
                };
                for x in &xs {
                    let inside = (lo..=hi).contains(x);
                    assert_eq!(inside, f(*x, *c).is_some(), "{op:?} {x} {c}: [{lo}, {hi}]");
                }
            }
        }
    }
}
