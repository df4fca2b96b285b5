//! Stage kernels: the pipeline stages that run without the VM.
//!
//! When the compiler compiles a lambda it also tries to *lower* its body to a [`KExpr`], a
//! small expression tree over the lambda's parameters (row fields, numbers, arithmetic,
//! comparisons, `and`/`or`/`!`, `if` expressions, math builtins: SPEC §11's native subset).
//! When a pipeline runs, the executor (`pipe/plan.rs`) binds the kernels of its stages to
//! the source (field names to table columns, captured numbers and numeric globals to
//! constants) and (`pipe/batch.rs`) evaluates whole batches of elements (a column page of a
//! table, 500 rows) one stage at a time through [`eval`], instead of calling the lambda
//! once per element. Nothing here sees a script value, the VM or the heap.
//!
//! A kernel never decides an error: any element whose evaluation would fail or is not
//! plainly numeric (a nil operand, an overflow, a division by zero, a non-number in a
//! list) makes the executor hand that whole batch to the interpreter, which then gives
//! exactly the interpreter's result or diagnostic. That is what makes the kernels an
//! optimisation and never a semantics (DESIGN decision 6).

pub(crate) mod col;
pub(crate) mod eval;
pub(crate) mod fold;
pub(crate) mod ops;

use std::rc::Rc;
use walia_lang::ast::BinOp as BinKind;
use walia_lang::ast::{Expr, ExprKind, FunDecl, Res, StmtKind, UnOp};

/// A kernel cannot decide this batch: the interpreter runs it instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bail;

pub type KResult<T> = Result<T, Bail>;

/// A scalar a kernel computes with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KVal {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl KVal {
    pub fn is_truthy(self) -> bool {
        !matches!(self, KVal::Nil | KVal::Bool(false))
    }
}

/// A lambda body in the kernel subset. Parameters are numbered from 0.
#[derive(Clone, Debug)]
pub enum KExpr {
    Param(u8),
    /// `p.name` on parameter `p`.
    Field(u8, Rc<str>),
    Const(KVal),
    /// A string literal: only the file fast path (`contains(line, "ERROR")`) uses it.
    Str(Rc<str>),
    /// A captured variable (the closure's upvalue), read when the pipeline starts.
    Captured(u16, Rc<str>),
    /// A global, read when the pipeline starts.
    Global(u32, Rc<str>),
    Neg(Box<KExpr>),
    Not(Box<KExpr>),
    Bin(BinKind, Box<KExpr>, Box<KExpr>),
    And(Box<KExpr>, Box<KExpr>),
    Or(Box<KExpr>, Box<KExpr>),
    If(Box<KExpr>, Box<KExpr>, Box<KExpr>),
    /// A call of the builtin in global slot `.0` (checked to be the math builtin `.1` when
    /// the pipeline starts).
    Call(u32, Rc<str>, Vec<KExpr>),
    /// `p.name = value` (only as the whole body): writes through to a table row.
    SetField(u8, Rc<str>, Box<KExpr>),
}

/// A lowered lambda, or why it is outside the kernel subset.
pub type Kernel = Result<Rc<KExpr>, Rc<str>>;

/// Lower a lambda (or anonymous function) to a kernel.
pub fn lower(f: &FunDecl) -> Kernel {
    if f.params.is_empty() || f.params.len() > 2 {
        return Err("takes other than one or two parameters".into());
    }
    if f.info.captures.is_empty() && f.info.uses_this {
        return Err("uses `this`".into());
    }
    let cx = Lower {
        arity: f.params.len() as u16,
        cells: &f.info.cell_slots,
    };
    let body = match &f.body.kind {
        ExprKind::Block(b) => match b.stmts.as_slice() {
            [s] => match &s.kind {
                StmtKind::Expr {
                    expr,
                    semicolon: false,
                } => expr,
                _ => return Err("has a block body".into()),
            },
            _ => return Err("has a block body".into()),
        },
        _ => &f.body,
    };
    let k = match &body.kind {
        ExprKind::Assign { target, op, value } => {
            let ExprKind::Field { object, name } = &target.kind else {
                return Err("assigns to a variable".into());
            };
            let p = cx
                .param_of(object)
                .ok_or("assigns to a field of a non-parameter")?;
            let mut v = cx.expr(value)?;
            if let Some(op) = op {
                let old = KExpr::Field(p, name.name.as_str().into());
                v = KExpr::Bin(*op, Box::new(old), Box::new(v));
            }
            KExpr::SetField(p, name.name.as_str().into(), Box::new(v))
        }
        _ => cx.expr(body)?,
    };
    Ok(Rc::new(k))
}

struct Lower<'a> {
    arity: u16,
    cells: &'a [u16],
}

impl Lower<'_> {
    fn param_of(&self, e: &Expr) -> Option<u8> {
        match &e.kind {
            ExprKind::Name(n) => match n.res {
                Res::Local(s) if s >= 1 && s <= self.arity && !self.cells.contains(&s) => {
                    Some((s - 1) as u8)
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn expr(&self, e: &Expr) -> Result<KExpr, Rc<str>> {
        let b = |e: &Expr| self.expr(e).map(Box::new);
        Ok(match &e.kind {
            ExprKind::Nil => KExpr::Const(KVal::Nil),
            ExprKind::Bool(v) => KExpr::Const(KVal::Bool(*v)),
            ExprKind::Int(i) => KExpr::Const(KVal::Int(*i)),
            ExprKind::Float(f) => KExpr::Const(KVal::Float(*f)),
            ExprKind::Str(s) => KExpr::Str(s.as_str().into()),
            ExprKind::Name(n) => match n.res {
                Res::Upvalue(u) => KExpr::Captured(u, n.name.as_str().into()),
                Res::Global(g) => KExpr::Global(g, n.name.as_str().into()),
                _ => match self.param_of(e) {
                    Some(p) => KExpr::Param(p),
                    None => return Err(format!("uses the local variable '{}'", n.name).into()),
                },
            },
            ExprKind::Field { object, name } => match self.param_of(object) {
                Some(p) => KExpr::Field(p, name.name.as_str().into()),
                None => return Err("reads a field of a value other than its parameter".into()),
            },
            ExprKind::Unary(UnOp::Neg, x) => KExpr::Neg(b(x)?),
            ExprKind::Unary(UnOp::Not, x) => KExpr::Not(b(x)?),
            ExprKind::Unary(UnOp::BitNot, _) => return Err("uses `~`".into()),
            ExprKind::Binary(op, x, y) => KExpr::Bin(*op, b(x)?, b(y)?),
            ExprKind::And(x, y) => KExpr::And(b(x)?, b(y)?),
            ExprKind::Or(x, y) => KExpr::Or(b(x)?, b(y)?),
            ExprKind::If {
                cond,
                then,
                else_: Some(else_),
            } => KExpr::If(b(cond)?, b(then)?, b(else_)?),
            ExprKind::If { else_: None, .. } => return Err("has an `if` without `else`".into()),
            ExprKind::Call { callee, args } => match &callee.kind {
                ExprKind::Name(n) if let Res::Global(g) = n.res => {
                    let args = args
                        .iter()
                        .map(|a| self.expr(a))
                        .collect::<Result<Vec<_>, _>>()?;
                    KExpr::Call(g, n.name.as_str().into(), args)
                }
                _ => return Err("calls a method or a computed function".into()),
            },
            ExprKind::Assign { .. } => return Err("assigns inside an expression".into()),
            ExprKind::Block(_) => return Err("has a block".into()),
            ExprKind::Match { .. } => return Err("has a `match`".into()),
            ExprKind::List(_) => return Err("builds a list".into()),
            ExprKind::Map(_) => return Err("builds a map".into()),
            ExprKind::Range(..) => return Err("builds a range".into()),
            ExprKind::Index { .. } => return Err("indexes a value".into()),
            ExprKind::Function(_) => return Err("creates a function".into()),
            ExprKind::Pipe(..) => return Err("has a nested pipeline".into()),
            ExprKind::Print(_) => return Err("prints".into()),
            ExprKind::This(_) | ExprKind::Super { .. } => return Err("uses `this`".into()),
            ExprKind::Fused(_) => return Err("has a nested `fused`".into()),
        })
    }
}
