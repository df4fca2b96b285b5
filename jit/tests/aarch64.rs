//! Every kind of plan lowers for 64-bit ARM Linux, checked on an x86_64 machine by
//! Cranelift's aarch64 back end (the code is made, not run). Built only with
//! `cargo test -p walia-jit --release --features aarch64-check`.

#![cfg(all(target_os = "linux", target_arch = "x86_64", feature = "aarch64-check"))]

use walia_runtime::api::native::ir::{
    Cmp, FloatOp, IntOp, NExpr, NPlan, NSource, NStage, Rounding, Shim, Sink, Ty,
};

fn b(e: NExpr) -> Box<NExpr> {
    Box::new(e)
}

fn lit_int(v: i64) -> NExpr {
    NExpr::Lit(v as u64, Ty::Int)
}

fn lit_float(v: f64) -> NExpr {
    NExpr::Lit(v.to_bits(), Ty::Float)
}

/// An Int expression using every Int operator, over `x`.
fn ints(x: NExpr) -> NExpr {
    let sum = NExpr::Int(IntOp::Add, b(x.clone()), b(lit_int(7)));
    let wide = NExpr::Int(IntOp::Mul, b(sum), b(lit_int(1 << 40)));
    let diff = NExpr::Int(IntOp::Sub, b(wide), b(NExpr::Const(0, Ty::Int)));
    let m = NExpr::Int(IntOp::Mod, b(diff), b(x.clone()));
    let neg = NExpr::INeg(b(m));
    let abs = NExpr::IAbs(b(neg));
    let both = NExpr::Int(IntOp::Mul, b(abs), b(x));
    NExpr::Extreme(true, vec![both, lit_int(5), NExpr::Const(1, Ty::Int)])
}

/// A Float expression using every Float operator and host function, over `f`.
fn floats(f: NExpr) -> NExpr {
    let mut e = f.clone();
    for op in [
        FloatOp::Add,
        FloatOp::Sub,
        FloatOp::Mul,
        FloatOp::Div,
        FloatOp::Mod,
        FloatOp::Quot,
    ] {
        e = NExpr::Float(op, b(e), b(lit_float(1.5)));
    }
    for s in [Shim::Exp, Shim::Ln, Shim::Sin, Shim::Cos, Shim::Round] {
        e = NExpr::Call(s, vec![e]);
    }
    e = NExpr::Call(Shim::Pow, vec![e, f.clone()]);
    let e = NExpr::Sqrt(b(NExpr::FAbs(b(NExpr::FNeg(b(e))))));
    NExpr::Extreme(false, vec![e, f, NExpr::Const(2, Ty::Float)])
}

/// A Bool over an Int `x` and a Float `f`, using every comparison and connective.
fn bools(x: NExpr, f: NExpr) -> NExpr {
    let mut parts = Vec::new();
    for c in [Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge, Cmp::Eq, Cmp::Ne] {
        parts.push(NExpr::ICmp(c, b(x.clone()), b(lit_int(3))));
        parts.push(NExpr::FCmp(c, b(f.clone()), b(lit_float(0.5))));
        parts.push(NExpr::IFCmp(c, b(x.clone()), b(f.clone())));
    }
    let mut e = parts.pop().unwrap_or(NExpr::Lit(1, Ty::Bool));
    for (k, p) in parts.into_iter().enumerate() {
        e = if k % 2 == 0 {
            NExpr::And(b(e), b(p))
        } else {
            NExpr::Or(b(e), b(NExpr::Not(b(p))))
        };
    }
    NExpr::BCmp(Cmp::Eq, b(NExpr::Truthy(b(e))), b(NExpr::Lit(1, Ty::Bool)))
}

/// Every Float-to-Int rounding, a division of Ints, a branch and a failure.
fn conversions(x: NExpr, f: NExpr) -> NExpr {
    let mut e = x.clone();
    for r in [
        Rounding::Floor,
        Rounding::Ceil,
        Rounding::Round,
        Rounding::Trunc,
    ] {
        let q = NExpr::IntDiv(b(e), b(x.clone()));
        let r = NExpr::ToInt(r, b(NExpr::Float(FloatOp::Add, b(q), b(f.clone()))));
        e = r;
    }
    let f2 = NExpr::IntToFloat(b(e.clone()));
    let cond = NExpr::FCmp(Cmp::Gt, b(f2), b(f));
    NExpr::If(b(cond), b(e), b(NExpr::Fail(Ty::Int)))
}

fn table(stages: Vec<NStage>, sink: Sink) -> NPlan {
    NPlan {
        source: NSource::Table(vec![Ty::Int, Ty::Float, Ty::Bool]),
        stages,
        sink,
    }
}

fn range(stages: Vec<NStage>, sink: Sink) -> NPlan {
    NPlan {
        source: NSource::Range,
        stages,
        sink,
    }
}

fn plans() -> Vec<(&'static str, NPlan)> {
    let x = || NExpr::Field(0, Ty::Int);
    let f = || NExpr::Field(1, Ty::Float);
    let flag = NExpr::Field(2, Ty::Bool);
    let e = || NExpr::Elem(Ty::Int);
    let mut out = vec![
        (
            "table: every Int operator, Int sum",
            table(
                vec![NStage::Filter(flag.clone()), NStage::Map(ints(x()))],
                Sink::SumInt,
            ),
        ),
        (
            "table: every Float operator and host function, Float sum",
            table(vec![NStage::Map(floats(f()))], Sink::SumFloat),
        ),
        (
            "table: comparisons and connectives, Bool values",
            table(vec![NStage::Map(bools(x(), f()))], Sink::Values(Ty::Bool)),
        ),
        (
            "table: conversions, take and skip, Int values",
            table(
                vec![
                    NStage::Skip { slot: 0, n: 3 },
                    NStage::Map(conversions(x(), f())),
                    NStage::Take { slot: 1, n: 10 },
                ],
                Sink::Values(Ty::Int),
            ),
        ),
        (
            "table: an update, then rows",
            table(
                vec![
                    NStage::Set {
                        field: 1,
                        value: NExpr::Float(FloatOp::Add, b(f()), b(lit_float(1.0))),
                    },
                    NStage::TakeWhile(NExpr::ICmp(Cmp::Lt, b(x()), b(lit_int(100)))),
                ],
                Sink::Rows,
            ),
        ),
        (
            "table: bounded Int sum (parallel threads)",
            table(vec![NStage::Map(ints(x()))], Sink::SumIntBounded),
        ),
        (
            "table: count",
            table(vec![NStage::Filter(bools(x(), f()))], Sink::Count),
        ),
    ];
    out.push((
        "range: proved copy, Int sum",
        range(
            vec![
                NStage::Map(NExpr::Int(IntOp::Mul, b(e()), b(lit_int(2)))),
                NStage::Filter(NExpr::ICmp(
                    Cmp::Ne,
                    b(NExpr::Int(IntOp::Mod, b(e()), b(lit_int(3)))),
                    b(lit_int(1)),
                )),
            ],
            Sink::SumInt,
        ),
    ));
    out.push((
        "range: every Int operator, take, values",
        range(
            vec![NStage::Map(ints(e())), NStage::Take { slot: 0, n: 5 }],
            Sink::Values(Ty::Int),
        ),
    ));
    out.push((
        "range: Floats",
        range(
            vec![NStage::Map(floats(NExpr::IntToFloat(b(e()))))],
            Sink::SumFloat,
        ),
    ));
    out
}

#[test]
fn every_kind_of_plan_lowers_for_aarch64() {
    for (name, plan) in plans() {
        match walia_jit::lower_for_aarch64(&plan) {
            Ok(bytes) => assert!(bytes > 0, "{name}: no code"),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}
