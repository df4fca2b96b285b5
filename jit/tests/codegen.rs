//! The compiled code on synthetic pages: each operator's edge cases give the interpreter's
//! value, or BAIL where the interpreter reports an error — and never a trap, which would
//! kill this test process.

use walia_runtime::api::native::ir::{
    Cmp, FloatOp, IntOp, NExpr, NPlan, NSource, NStage, Rounding, Sink, Ty,
};
use walia_runtime::api::native::{BAIL, CLOSED, NativeArgs, NativeCompiler, OK};

fn b(e: NExpr) -> Box<NExpr> {
    Box::new(e)
}

fn int(f: u16) -> NExpr {
    NExpr::Field(f, Ty::Int)
}

fn float(f: u16) -> NExpr {
    NExpr::Field(f, Ty::Float)
}

/// Runs `map(expr)` over rows whose fields are `columns` (bits per row), returning the
/// status and, when OK, every row's value bits.
fn run(columns: &[Vec<u64>], tys: &[Ty], expr: NExpr) -> (u32, Vec<u64>) {
    let ty = expr.ty();
    let plan = NPlan {
        source: NSource::Table(tys.to_vec()),
        stages: vec![NStage::Map(expr)],
        sink: Sink::Values(ty),
    };
    let code = walia_jit_compiler()
        .compile(&plan)
        .unwrap_or_else(|e| panic!("compile: {e}"));
    let n = columns[0].len();
    let cols: Vec<*const u64> = columns.iter().map(|c| c.as_ptr()).collect();
    let mut out = vec![0u64; n];
    let mut counts = [0i64; 4];
    let mut args = NativeArgs {
        cols: cols.as_ptr(),
        end: n as u64,
        counts: counts.as_mut_ptr(),
        out: out.as_mut_ptr(),
        ..NativeArgs::empty()
    };
    // SAFETY: the columns hold `n` values each, `out` has room for `n`, and the plan has
    // no take/skip (counts unused) and no constants.
    let status = unsafe { code.entry()(&mut args) };
    out.truncate(args.emitted as usize);
    (status, out)
}

fn walia_jit_compiler() -> &'static dyn NativeCompiler {
    walia_jit::install();
    walia_runtime::api::native::compiler().expect("a compiler on this platform")
}

fn ints(v: &[i64]) -> Vec<u64> {
    v.iter().map(|x| *x as u64).collect()
}

fn floats(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Each pair `(x, y)` through `x op y`: the value, or `None` where the code must bail.
fn int_op(op: IntOp, x: i64, y: i64) -> (u32, Option<i64>) {
    let (status, out) = run(
        &[ints(&[x]), ints(&[y])],
        &[Ty::Int, Ty::Int],
        NExpr::Int(op, b(int(0)), b(int(1))),
    );
    (status, out.first().map(|v| *v as i64))
}

#[test]
fn int_arithmetic_is_exact_or_bails() {
    let edge = [
        0,
        1,
        -1,
        2,
        -2,
        7,
        -7,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
        1 << 62,
        3037000500,
    ];
    for &x in &edge {
        for &y in &edge {
            for (op, want) in [
                (IntOp::Add, x.checked_add(y)),
                (IntOp::Sub, x.checked_sub(y)),
                (IntOp::Mul, x.checked_mul(y)),
                (IntOp::Mod, walia_runtime::api::int_mod(x, y)),
            ] {
                let (status, got) = int_op(op, x, y);
                match want {
                    Some(v) => assert_eq!((status, got), (OK, Some(v)), "{x} {op:?} {y}"),
                    None => assert_eq!(status, BAIL, "{x} {op:?} {y}"),
                }
            }
        }
    }
}

#[test]
fn literal_operands_check_ranges_exactly() {
    for c in [2i64, -2, 3, 1000, i64::MAX, -1, 0] {
        for x in [
            0,
            1,
            -1,
            i64::MAX / 2,
            i64::MAX / 2 + 1,
            i64::MIN / 2,
            i64::MIN / 2 - 1,
            i64::MAX,
            i64::MIN,
        ] {
            for (op, want) in [
                (IntOp::Add, x.checked_add(c)),
                (IntOp::Sub, x.checked_sub(c)),
                (IntOp::Mul, x.checked_mul(c)),
            ] {
                let expr = NExpr::Int(op, b(int(0)), b(NExpr::Lit(c as u64, Ty::Int)));
                let (status, out) = run(&[ints(&[x])], &[Ty::Int], expr);
                match want {
                    Some(v) => assert_eq!((status, out), (OK, vec![v as u64]), "{x} {op:?} {c}"),
                    None => assert_eq!(status, BAIL, "{x} {op:?} {c}"),
                }
            }
        }
    }
}

#[test]
fn division_and_float_edges() {
    // Int / Int is a Float division; by zero bails.
    let (s, out) = run(
        &[ints(&[7, -7]), ints(&[2, 2])],
        &[Ty::Int, Ty::Int],
        NExpr::IntDiv(b(int(0)), b(int(1))),
    );
    assert_eq!((s, out), (OK, floats(&[3.5, -3.5])));
    let (s, _) = run(
        &[ints(&[1]), ints(&[0])],
        &[Ty::Int, Ty::Int],
        NExpr::IntDiv(b(int(0)), b(int(1))),
    );
    assert_eq!(s, BAIL);
    for (x, y) in [(5.5, 0.0), (1.0, -0.0)] {
        for op in [FloatOp::Div, FloatOp::Mod] {
            let (s, _) = run(
                &[floats(&[x]), floats(&[y])],
                &[Ty::Float, Ty::Float],
                NExpr::Float(op, b(float(0)), b(float(1))),
            );
            assert_eq!(s, BAIL, "{x} {op:?} {y}");
        }
    }
    // Floored Float modulo takes the divisor's sign.
    let (s, out) = run(
        &[floats(&[-7.5, 7.5, 6.0]), floats(&[2.0, -2.0, -3.0])],
        &[Ty::Float, Ty::Float],
        NExpr::Float(FloatOp::Mod, b(float(0)), b(float(1))),
    );
    assert_eq!(s, OK);
    let got: Vec<f64> = out.iter().map(|b| f64::from_bits(*b)).collect();
    assert_eq!(got, [0.5, -0.5, -0.0]);
    assert!(got[2].is_sign_negative());
    // Float to Int: NaN, infinities and anything outside [-2^63, 2^63) bail.
    for (x, want) in [
        (2.5, Some(2)),
        (-2.5, Some(-3)),
        (1e300, None),
        (f64::NAN, None),
        (f64::INFINITY, None),
        (-(2f64.powi(63)), Some(i64::MIN)),
        (2f64.powi(63), None),
    ] {
        let (s, out) = run(
            &[floats(&[x])],
            &[Ty::Float],
            NExpr::ToInt(Rounding::Floor, b(float(0))),
        );
        match want {
            Some(v) => assert_eq!((s, out), (OK, ints(&[v])), "floor {x}"),
            None => assert_eq!(s, BAIL, "floor {x}"),
        }
    }
}

#[test]
fn int_float_comparisons_are_exact_or_bail() {
    let cmp = |i: i64, f: f64| {
        run(
            &[ints(&[i]), floats(&[f])],
            &[Ty::Int, Ty::Float],
            NExpr::IFCmp(Cmp::Gt, b(int(0)), b(float(1))),
        )
    };
    assert_eq!(cmp(3, 2.5), (OK, vec![1]));
    assert_eq!(cmp(2, 2.5), (OK, vec![0]));
    assert_eq!(cmp(1, f64::NAN), (OK, vec![0]));
    // Beyond 2^53 the conversion could round: the kernels decide.
    assert_eq!(cmp(9007199254740993, 9007199254740992.0).0, BAIL);
}

#[test]
fn take_closes_after_its_count_and_skip_drops_the_first() {
    let plan = NPlan {
        source: NSource::Range,
        stages: vec![
            NStage::Skip { slot: 0, n: 2 },
            NStage::Take { slot: 1, n: 3 },
        ],
        sink: Sink::SumInt,
    };
    let code = walia_jit_compiler().compile(&plan).expect("compiles");
    let mut counts = [0i64; 2];
    let mut args = NativeArgs {
        end: 100,
        start: 10,
        counts: counts.as_mut_ptr(),
        ..NativeArgs::empty()
    };
    // SAFETY: a range plan reads no column and writes no output; counts has a slot per
    // stage.
    let status = unsafe { code.entry()(&mut args) };
    assert_eq!(status, CLOSED);
    // 12 + 13 + 14, closing after index 4 (the number 14).
    assert_eq!((args.acc_int, args.count, args.end_at), (39, 3, 5));
    assert_eq!(counts, [2, 3]);
}

/// A page-like buffer: eight bitmap words (`present` slots set), then `values`; the
/// column pointer is the first value, as the driver passes it.
fn page(values: &[i64], present: &[usize]) -> Vec<u64> {
    let mut buf = vec![0u64; 8 + values.len()];
    for s in present {
        buf[s / 64] |= 1 << (s % 64);
    }
    buf[8..].copy_from_slice(&ints(values));
    buf
}

/// Sum of field 0 over slots `first..end`, the code checking the presence bits.
fn checked_sum(buf: &[u64], (first, end): (usize, usize)) -> (u32, i64) {
    let plan = NPlan {
        source: NSource::Table(vec![Ty::Int]),
        stages: vec![NStage::Map(int(0))],
        sink: Sink::SumInt,
    };
    let code = walia_jit_compiler()
        .compile(&plan)
        .unwrap_or_else(|e| panic!("compile: {e}"));
    let cols = [buf[8..].as_ptr()];
    let masks = walia_runtime::api::native::presence_masks(first, end);
    let mut counts = [0i64; 4];
    let mut args = NativeArgs {
        cols: cols.as_ptr(),
        present: masks.as_ptr(),
        first: first as u64,
        end: end as u64,
        counts: counts.as_mut_ptr(),
        ..NativeArgs::empty()
    };
    // SAFETY: the column holds the slots `first..end` and the eight bitmap words before
    // them; `present` points to eight masks; the plan has no outputs or counters.
    let status = unsafe { code.entry()(&mut args) };
    (status, args.acc_int)
}

#[test]
fn a_nil_among_the_rows_given_bails_and_one_outside_does_not() {
    let values: Vec<i64> = (0..500).collect();
    let all: Vec<usize> = (0..500).collect();
    let full = page(&values, &all);
    assert_eq!(checked_sum(&full, (0, 500)), (OK, 124750));
    // Slot 300 is nil: any range holding it bails; ranges around it do not.
    let holed: Vec<usize> = all.iter().copied().filter(|s| *s != 300).collect();
    let buf = page(&values, &holed);
    assert_eq!(checked_sum(&buf, (0, 500)).0, BAIL);
    assert_eq!(checked_sum(&buf, (300, 301)).0, BAIL);
    assert_eq!(checked_sum(&buf, (256, 320)).0, BAIL);
    assert_eq!(checked_sum(&buf, (0, 300)), (OK, (0..300).sum()));
    assert_eq!(checked_sum(&buf, (301, 500)), (OK, (301..500).sum()));
    // The last slot of a word and the first of the next.
    let edge: Vec<usize> = all
        .iter()
        .copied()
        .filter(|s| *s != 63 && *s != 64)
        .collect();
    let buf = page(&values, &edge);
    assert_eq!(checked_sum(&buf, (0, 63)), (OK, (0..63).sum()));
    assert_eq!(checked_sum(&buf, (0, 64)).0, BAIL);
    assert_eq!(checked_sum(&buf, (64, 70)).0, BAIL);
    assert_eq!(checked_sum(&buf, (65, 500)), (OK, (65..500).sum()));
}
