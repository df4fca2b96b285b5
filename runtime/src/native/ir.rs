//! The native loop's input: a bound plan with every expression typed.
//!
//! A table's column types are fixed and the driver hands the compiled code only pages
//! whose read columns have no nil in range, so every expression has one static type.
//! The lowering below decides each operator's meaning from those types (the same rules as
//! `kernel/ops.rs` and the interpreter); the code generator only follows the tree. What
//! would be an error at run time becomes [`NExpr::Fail`], which hands the page back to the
//! batch kernels and so to the interpreter's diagnostic. What cannot be typed statically
//! (`and` of an Int and a Bool used as a value, a `nil` result) is refused, and the
//! pipeline runs in batch kernels with that reason in `--explain`.

use crate::kernel::KVal;
use crate::kernel::eval::{BExpr, MathFn};
use crate::pipe::plan::{Plan, PlanSource, PlanStage};
use walia_lang::ast::BinOp;
use walia_store::ColType;

/// The static type of a native value. Bools are 0 or 1 in an `i8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Int,
    Float,
    Bool,
}

/// An ordering or equality test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// Int arithmetic that can fail: an overflow, or `%` by zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
    /// Floored modulo (the divisor's sign).
    Mod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    /// A zero divisor fails (the interpreter's "division by zero").
    Div,
    /// Floored modulo; a zero divisor fails.
    Mod,
    /// A division that never fails (`log`'s change of base: a zero gives an infinity).
    Quot,
}

/// Float functions the generated code calls in Rust (the same `f64` methods the
/// interpreter uses, so results are bit-identical).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shim {
    Exp,
    Ln,
    Sin,
    Cos,
    Pow,
    /// `f64::round`: half away from zero.
    Round,
}

/// Float to Int as `floor`, `ceil`, `round` and `int` do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    Floor,
    Ceil,
    Round,
    Trunc,
}

/// A typed expression. Every node's type follows from its children's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NExpr {
    /// Plan field `.0` of the row, from its column page.
    Field(u16, Ty),
    /// The element: a range's number, or what the last `map` produced.
    Elem(Ty),
    /// Constant `.0` of the run (bits in [`crate::native::NativeArgs::consts`]): the cache
    /// holds one function for every value of a captured number.
    Const(u16, Ty),
    /// A literal (its bits): compiled in.
    Lit(u64, Ty),
    /// Evaluating this is an error in the interpreter: the page bails.
    Fail(Ty),
    IntToFloat(Box<NExpr>),
    /// `-x` of an Int (fails on `i64::MIN`).
    INeg(Box<NExpr>),
    FNeg(Box<NExpr>),
    Int(IntOp, Box<NExpr>, Box<NExpr>),
    Float(FloatOp, Box<NExpr>, Box<NExpr>),
    /// `a / b` of two Ints: a Float division of their conversions; `b == 0` fails.
    IntDiv(Box<NExpr>, Box<NExpr>),
    ICmp(Cmp, Box<NExpr>, Box<NExpr>),
    FCmp(Cmp, Box<NExpr>, Box<NExpr>),
    /// An Int (left) against a Float (right), exactly: fails when the Int is beyond 2^53,
    /// where its conversion could round.
    IFCmp(Cmp, Box<NExpr>, Box<NExpr>),
    /// `==`/`!=` of two Bools.
    BCmp(Cmp, Box<NExpr>, Box<NExpr>),
    /// Is the value truthy (a number always is; a Bool when true)?
    Truthy(Box<NExpr>),
    Not(Box<NExpr>),
    /// `a and b` / `a or b` of one type: the deciding operand.
    And(Box<NExpr>, Box<NExpr>),
    Or(Box<NExpr>, Box<NExpr>),
    If(Box<NExpr>, Box<NExpr>, Box<NExpr>),
    IAbs(Box<NExpr>),
    FAbs(Box<NExpr>),
    Sqrt(Box<NExpr>),
    /// A Float rounded and converted to an Int; NaN, infinities and values outside the
    /// Int range fail.
    ToInt(Rounding, Box<NExpr>),
    Call(Shim, Vec<NExpr>),
    /// `min`/`max` of numbers of one type (`true`: min): ties keep the first, a NaN wins.
    Extreme(bool, Vec<NExpr>),
}

impl NExpr {
    pub fn ty(&self) -> Ty {
        match self {
            NExpr::Field(_, t)
            | NExpr::Elem(t)
            | NExpr::Const(_, t)
            | NExpr::Lit(_, t)
            | NExpr::Fail(t) => *t,
            NExpr::IntToFloat(_) | NExpr::FNeg(_) | NExpr::Float(..) | NExpr::IntDiv(..) => {
                Ty::Float
            }
            NExpr::FAbs(_) | NExpr::Sqrt(_) | NExpr::Call(..) => Ty::Float,
            NExpr::INeg(_) | NExpr::Int(..) | NExpr::IAbs(_) | NExpr::ToInt(..) => Ty::Int,
            NExpr::ICmp(..)
            | NExpr::FCmp(..)
            | NExpr::IFCmp(..)
            | NExpr::BCmp(..)
            | NExpr::Truthy(_)
            | NExpr::Not(_) => Ty::Bool,
            NExpr::And(a, _) | NExpr::Or(a, _) | NExpr::If(_, a, _) => a.ty(),
            NExpr::Extreme(_, args) => args.first().map_or(Ty::Int, NExpr::ty),
        }
    }

    /// Calls `f` with each plan field this expression reads.
    pub fn fields(&self, f: &mut dyn FnMut(u16)) {
        if let NExpr::Field(i, _) = self {
            f(*i);
        }
        self.children(&mut |c| c.fields(f));
    }

    /// Calls `f` on each direct child of this expression.
    pub fn children(&self, f: &mut dyn FnMut(&NExpr)) {
        match self {
            NExpr::Field(..)
            | NExpr::Elem(_)
            | NExpr::Const(..)
            | NExpr::Lit(..)
            | NExpr::Fail(_) => {}
            NExpr::IntToFloat(x)
            | NExpr::INeg(x)
            | NExpr::FNeg(x)
            | NExpr::Truthy(x)
            | NExpr::Not(x)
            | NExpr::IAbs(x)
            | NExpr::FAbs(x)
            | NExpr::Sqrt(x)
            | NExpr::ToInt(_, x) => f(x),
            NExpr::Int(_, a, b)
            | NExpr::Float(_, a, b)
            | NExpr::IntDiv(a, b)
            | NExpr::ICmp(_, a, b)
            | NExpr::FCmp(_, a, b)
            | NExpr::IFCmp(_, a, b)
            | NExpr::BCmp(_, a, b)
            | NExpr::And(a, b)
            | NExpr::Or(a, b) => {
                f(a);
                f(b);
            }
            NExpr::If(c, a, b) => {
                f(c);
                f(a);
                f(b);
            }
            NExpr::Call(_, args) | NExpr::Extreme(_, args) => args.iter().for_each(f),
        }
    }
}

/// A stage of the native loop. `slot` numbers a take/skip counter
/// ([`crate::native::NativeArgs::counts`], one per plan stage).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NStage {
    Filter(NExpr),
    Map(NExpr),
    /// `map(u => u.f = value)`: the value (already of the column's type) goes to the
    /// write buffer of plan field `field`, and is the element from here on.
    Set {
        field: u16,
        value: NExpr,
    },
    Take {
        slot: u16,
        n: i64,
    },
    Skip {
        slot: u16,
        n: i64,
    },
    TakeWhile(NExpr),
}

/// What becomes of the elements that come out of the last stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sink {
    /// Count them (`count`, `run`, `length`).
    Count,
    /// Add them to the Int accumulator (an overflow fails) and count them.
    SumInt,
    /// Add them (converted to Float) to the Float accumulator, in order, and count them.
    SumFloat,
    /// [`Sink::SumInt`] from 0 over one page of a `parallel(n)` thread: also fails when
    /// the running sum leaves [-2^62, 2^62), so the block can add the page's total to its
    /// running sum without passing an overflow the serial run would stop at. (The block's
    /// fold takes only totals of magnitude below 2^62: a page ending on exactly -2^62 is
    /// declined there, and the block runs in the interpreter.)
    SumIntBounded,
    /// Write each element's bits (Int/Float/Bool as stored in a column) to the output
    /// buffer, for any other terminal.
    Values(Ty),
    /// Write each row's slot in its page to the output buffer (no `map` ran).
    Rows,
}

/// Where the elements come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NSource {
    /// Table rows: the type of each plan field's column.
    Table(Vec<Ty>),
    /// A range's Ints.
    Range,
}

/// One pipeline, ready for the code generator. Equal plans compile to the same code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NPlan {
    pub source: NSource,
    pub stages: Vec<NStage>,
    pub sink: Sink,
}

impl NPlan {
    /// Plan fields the stages read (their pages must be present in range).
    pub fn read_fields(&self) -> Vec<u16> {
        let mut out = Vec::new();
        let mut add = |f: u16| {
            if !out.contains(&f) {
                out.push(f);
            }
        };
        for s in &self.stages {
            match s {
                NStage::Filter(e) | NStage::Map(e) | NStage::TakeWhile(e) => e.fields(&mut add),
                NStage::Set { value, .. } => value.fields(&mut add),
                NStage::Take { .. } | NStage::Skip { .. } => {}
            }
        }
        out
    }

    /// Does a stage drop elements (so fewer come out than are read)? Without one, the
    /// compiled code leaves the element count to the driver.
    pub fn drops(&self) -> bool {
        self.stages.iter().any(|s| {
            matches!(
                s,
                NStage::Filter(_)
                    | NStage::Take { .. }
                    | NStage::Skip { .. }
                    | NStage::TakeWhile(_)
            )
        })
    }

    /// The plan field a `Set` stage writes, if any.
    pub fn written_field(&self) -> Option<u16> {
        self.stages.iter().find_map(|s| match s {
            NStage::Set { field, .. } => Some(*field),
            _ => None,
        })
    }
}

/// What a terminal does with the elements, as far as the native loop is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Count,
    Sum,
    /// The elements themselves.
    Elements,
}

/// Lower a bound plan, with the constants it reads (their bits, by slot).
pub fn lower(plan: &Plan, want: Want) -> Result<(NPlan, Vec<u64>), String> {
    let (source, mut elem) = match &plan.source {
        PlanSource::Table { columns, .. } => {
            let mut tys = Vec::new();
            for (_, ty) in columns {
                tys.push(match ty {
                    ColType::Int => Ty::Int,
                    ColType::Float => Ty::Float,
                    ColType::Bool => Ty::Bool,
                    ColType::Unset => return Err("a column it reads holds only nil".into()),
                    ColType::Str => return Err("a column it reads holds strings".into()),
                });
            }
            (NSource::Table(tys), None)
        }
        PlanSource::Range => (NSource::Range, Some(Ty::Int)),
        PlanSource::List => return Err("the source is a list".into()),
    };
    let columns = match &source {
        NSource::Table(t) => t.clone(),
        NSource::Range => Vec::new(),
    };
    let mut lw = Lowering {
        columns: &columns,
        elem,
        consts: Vec::new(),
    };
    let mut stages = Vec::new();
    for (k, stage) in plan.stages.iter().enumerate() {
        let named = |why: String| format!("stage {}: {why}", k + 1);
        let slot = u16::try_from(k).map_err(|_| "too many stages".to_string())?;
        lw.elem = elem;
        stages.push(match stage {
            PlanStage::Filter(e) => NStage::Filter(lw.cond(e).map_err(named)?),
            PlanStage::TakeWhile(e) => NStage::TakeWhile(lw.cond(e).map_err(named)?),
            PlanStage::Map(e) => {
                let v = lw.value(e).map_err(named)?;
                elem = Some(v.ty());
                NStage::Map(v)
            }
            PlanStage::SetField { field, value } => {
                let field = u16::try_from(*field).map_err(|_| "too many fields".to_string())?;
                let col = *columns
                    .get(field as usize)
                    .ok_or_else(|| named("bad field".into()))?;
                let v = lw.value(value).map_err(named)?;
                let stored = match (col, v.ty()) {
                    (a, b) if a == b => v,
                    (Ty::Float, Ty::Int) => NExpr::IntToFloat(Box::new(v)),
                    // A type mismatch: the interpreter reports it.
                    (col, _) => NExpr::Fail(col),
                };
                elem = Some(col);
                NStage::Set {
                    field,
                    value: stored,
                }
            }
            PlanStage::Take(n) => NStage::Take { slot, n: *n },
            PlanStage::Skip(n) => NStage::Skip { slot, n: *n },
            PlanStage::Pass => continue,
        });
    }
    let sink = match (want, elem) {
        (Want::Count, _) => Sink::Count,
        (Want::Sum, Some(Ty::Int)) => Sink::SumInt,
        (Want::Sum, Some(Ty::Float)) => Sink::SumFloat,
        (Want::Sum, _) => return Err("the terminal adds values that are not numbers".into()),
        (Want::Elements, Some(t)) => Sink::Values(t),
        (Want::Elements, None) => Sink::Rows,
    };
    let plan = NPlan {
        source,
        stages,
        sink,
    };
    Ok((plan, lw.consts))
}

struct Lowering<'a> {
    columns: &'a [Ty],
    /// The element's type (`None`: a table row, which is not a value here).
    elem: Option<Ty>,
    consts: Vec<u64>,
}

fn bx(e: NExpr) -> Box<NExpr> {
    Box::new(e)
}

impl Lowering<'_> {
    fn constant(&mut self, k: KVal) -> Result<NExpr, String> {
        let (bits, ty) = match k {
            KVal::Int(i) => (i as u64, Ty::Int),
            KVal::Float(f) => (f.to_bits(), Ty::Float),
            KVal::Bool(b) => (b as u64, Ty::Bool),
            KVal::Nil => return Err("it uses nil as a value".into()),
        };
        let slot = u16::try_from(self.consts.len()).map_err(|_| "too many constants")?;
        self.consts.push(bits);
        Ok(NExpr::Const(slot, ty))
    }

    /// An expression whose truthiness is all that is used (a filter, `!`, a condition).
    fn cond(&mut self, e: &BExpr) -> Result<NExpr, String> {
        Ok(match e {
            BExpr::And(a, b) => NExpr::And(bx(self.cond(a)?), bx(self.cond(b)?)),
            BExpr::Or(a, b) => NExpr::Or(bx(self.cond(a)?), bx(self.cond(b)?)),
            BExpr::Not(a) => NExpr::Not(bx(self.cond(a)?)),
            BExpr::If(c, a, b) => {
                NExpr::If(bx(self.cond(c)?), bx(self.cond(a)?), bx(self.cond(b)?))
            }
            other => {
                let v = self.value(other)?;
                if v.ty() == Ty::Bool {
                    v
                } else {
                    NExpr::Truthy(bx(v))
                }
            }
        })
    }

    fn value(&mut self, e: &BExpr) -> Result<NExpr, String> {
        Ok(match e {
            BExpr::Elem => NExpr::Elem(self.elem.ok_or("it uses the whole row")?),
            BExpr::Acc => return Err("it reads reduce's accumulator".into()),
            BExpr::Field(f) => {
                let ty = *self.columns.get(*f).ok_or("it reads a field of a number")?;
                NExpr::Field(u16::try_from(*f).map_err(|_| "too many fields")?, ty)
            }
            BExpr::Const(k) => self.constant(*k)?,
            BExpr::Lit(k) => match k {
                KVal::Int(i) => NExpr::Lit(*i as u64, Ty::Int),
                KVal::Float(f) => NExpr::Lit(f.to_bits(), Ty::Float),
                KVal::Bool(b) => NExpr::Lit(*b as u64, Ty::Bool),
                KVal::Nil => return Err("it uses nil as a value".into()),
            },
            BExpr::Neg(x) => {
                let x = self.value(x)?;
                match x.ty() {
                    Ty::Int => NExpr::INeg(bx(x)),
                    Ty::Float => NExpr::FNeg(bx(x)),
                    Ty::Bool => NExpr::Fail(Ty::Int),
                }
            }
            BExpr::Not(_) => self.cond(e)?,
            BExpr::And(a, b) | BExpr::Or(a, b) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                if a.ty() != b.ty() {
                    return Err("its `and`/`or` gives values of two types".into());
                }
                if matches!(e, BExpr::And(..)) {
                    NExpr::And(bx(a), bx(b))
                } else {
                    NExpr::Or(bx(a), bx(b))
                }
            }
            BExpr::If(c, a, b) => {
                let c = self.cond(c)?;
                let (a, b) = (self.value(a)?, self.value(b)?);
                if a.ty() != b.ty() {
                    return Err("its `if` gives values of two types".into());
                }
                NExpr::If(bx(c), bx(a), bx(b))
            }
            BExpr::Bin(op, a, b) => self.binary(*op, a, b)?,
            BExpr::Math(f, args) => self.math(*f, args)?,
        })
    }

    fn binary(&mut self, op: BinOp, a: &BExpr, b: &BExpr) -> Result<NExpr, String> {
        use BinOp as K;
        if matches!(
            op,
            K::IntDiv | K::BitAnd | K::BitOr | K::BitXor | K::Shl | K::Shr
        ) {
            return Err("it uses an Int operator (`~/`, a bit operator or a shift)".into());
        }
        // `x == nil` of a value that is never nil here.
        let nil = |e: &BExpr| matches!(e, BExpr::Const(KVal::Nil) | BExpr::Lit(KVal::Nil));
        if matches!(op, K::Eq | K::Ne) && (nil(a) || nil(b)) {
            return Err("it compares with nil".into());
        }
        let (x, y) = (self.value(a)?, self.value(b)?);
        let cmp = match op {
            K::Lt => Some(Cmp::Lt),
            K::Le => Some(Cmp::Le),
            K::Gt => Some(Cmp::Gt),
            K::Ge => Some(Cmp::Ge),
            K::Eq => Some(Cmp::Eq),
            K::Ne => Some(Cmp::Ne),
            _ => None,
        };
        let float = |e: NExpr| match e.ty() {
            Ty::Int => NExpr::IntToFloat(bx(e)),
            _ => e,
        };
        Ok(match (x.ty(), y.ty(), cmp) {
            (Ty::Int, Ty::Int, Some(c)) => NExpr::ICmp(c, bx(x), bx(y)),
            (Ty::Float, Ty::Float, Some(c)) => NExpr::FCmp(c, bx(x), bx(y)),
            (Ty::Int, Ty::Float, Some(c)) => NExpr::IFCmp(c, bx(x), bx(y)),
            (Ty::Float, Ty::Int, Some(c)) => NExpr::IFCmp(flip(c), bx(y), bx(x)),
            (Ty::Bool, Ty::Bool, Some(c @ (Cmp::Eq | Cmp::Ne))) => NExpr::BCmp(c, bx(x), bx(y)),
            // `==` across types is plainly false, but their operands must still run.
            (_, _, Some(Cmp::Eq | Cmp::Ne)) => {
                return Err("it compares a Bool with a number".into());
            }
            // Ordering a Bool is an error.
            (_, _, Some(_)) => NExpr::Fail(Ty::Bool),
            (Ty::Bool, _, None) | (_, Ty::Bool, None) => NExpr::Fail(Ty::Int),
            (Ty::Int, Ty::Int, None) => match op {
                K::Add => NExpr::Int(IntOp::Add, bx(x), bx(y)),
                K::Sub => NExpr::Int(IntOp::Sub, bx(x), bx(y)),
                K::Mul => NExpr::Int(IntOp::Mul, bx(x), bx(y)),
                K::Mod => NExpr::Int(IntOp::Mod, bx(x), bx(y)),
                _ => NExpr::IntDiv(bx(x), bx(y)),
            },
            (_, _, None) => {
                let fop = match op {
                    K::Add => FloatOp::Add,
                    K::Sub => FloatOp::Sub,
                    K::Mul => FloatOp::Mul,
                    K::Div => FloatOp::Div,
                    _ => FloatOp::Mod,
                };
                NExpr::Float(fop, bx(float(x)), bx(float(y)))
            }
        })
    }

    fn math(&mut self, f: MathFn, args: &[BExpr]) -> Result<NExpr, String> {
        let mut vals = Vec::new();
        for a in args {
            vals.push(self.value(a)?);
        }
        let Some(x) = vals.first().cloned() else {
            return Err("a math call without arguments".into());
        };
        if vals.iter().any(|v| v.ty() == Ty::Bool) {
            // A Bool is not a number: an error in the interpreter.
            return Ok(NExpr::Fail(Ty::Float));
        }
        let float = |e: NExpr| match e.ty() {
            Ty::Int => NExpr::IntToFloat(bx(e)),
            _ => e,
        };
        let rounding = |r: Rounding, x: NExpr| match x.ty() {
            Ty::Int => x,
            _ => NExpr::ToInt(r, bx(x)),
        };
        Ok(match f {
            MathFn::Abs => match x.ty() {
                Ty::Int => NExpr::IAbs(bx(x)),
                _ => NExpr::FAbs(bx(x)),
            },
            MathFn::Floor => rounding(Rounding::Floor, x),
            MathFn::Ceil => rounding(Rounding::Ceil, x),
            MathFn::Round => rounding(Rounding::Round, x),
            MathFn::Int => rounding(Rounding::Trunc, x),
            MathFn::Float => float(x),
            MathFn::Sqrt => NExpr::Sqrt(bx(float(x))),
            MathFn::Exp => NExpr::Call(Shim::Exp, vec![float(x)]),
            MathFn::Sin => NExpr::Call(Shim::Sin, vec![float(x)]),
            MathFn::Cos => NExpr::Call(Shim::Cos, vec![float(x)]),
            MathFn::Log => {
                let ln = NExpr::Call(Shim::Ln, vec![float(x)]);
                match vals.get(1).cloned() {
                    // ln(x) / ln(base), a plain division as in the interpreter.
                    Some(base) => NExpr::Float(
                        FloatOp::Quot,
                        bx(ln),
                        bx(NExpr::Call(Shim::Ln, vec![float(base)])),
                    ),
                    None => ln,
                }
            }
            MathFn::Pow => {
                let e = vals.get(1).cloned().ok_or("pow without an exponent")?;
                if x.ty() == Ty::Int && e.ty() == Ty::Int {
                    // Int ** Int is an Int for a non-negative exponent, a Float otherwise:
                    // not one static type.
                    return Err("it raises an Int to an Int power".into());
                }
                NExpr::Call(Shim::Pow, vec![float(x), float(e)])
            }
            MathFn::Min | MathFn::Max => {
                let ty = x.ty();
                if vals.iter().any(|v| v.ty() != ty) {
                    return Err("its min/max mixes Ints and Floats".into());
                }
                NExpr::Extreme(f == MathFn::Min, vals)
            }
        })
    }
}

fn flip(c: Cmp) -> Cmp {
    match c {
        Cmp::Lt => Cmp::Gt,
        Cmp::Le => Cmp::Ge,
        Cmp::Gt => Cmp::Lt,
        Cmp::Ge => Cmp::Le,
        other => other,
    }
}
