//! Bytecode compiler: a resolved AST to [`Proto`]s. Statements are in `stmt.rs`,
//! expressions in `expr.rs`; this file holds the per-function state and variable access.
//!
//! Every name already carries its slot (see `walia_lang::resolve`), so compiling is a
//! straight walk. Stack discipline: a statement leaves the stack as it found it; an
//! expression pushes exactly one value.

mod cond;
mod expr;
mod stmt;

use crate::bytecode::{ClassDesc, Op, Proto, ProtoKind, SourceFile};
use crate::value::Value;
use std::rc::Rc;
use std::sync::Arc;
use walia_lang::ast::*;

/// The result of compiling one program.
pub struct Compiled {
    /// Top-level code; returns the value of its final statement.
    pub script: Rc<Proto>,
}

pub fn compile(program: &Program, source: Arc<SourceFile>) -> Compiled {
    compile_with_imports(program, source, Vec::new())
}

/// [`compile`] a program whose top-level `import` statements the engine resolved: one
/// entry per `import`, in order, the imported file's compiled script, or `None` where the
/// file was imported already (the statement then does nothing).
pub fn compile_with_imports(
    program: &Program,
    source: Arc<SourceFile>,
    imports: Vec<Option<Rc<Proto>>>,
) -> Compiled {
    let mut c = FnCompiler::new(
        ProtoKind::Script,
        &program.info,
        source.clone(),
        None,
        0,
        Span::new(0, source.text.len()),
        None,
    );
    c.imports = imports.into();
    c.block_value(&program.stmts, Span::new(0, 0));
    c.emit(Op::Return, Span::new(source.text.len(), source.text.len()));
    let script = Rc::new(c.finish());
    if std::env::var_os("WALIA_DUMP_BYTECODE").is_some() {
        dump(&script);
    }
    Compiled { script }
}

/// Print a function's instructions and those of the functions inside it to stderr: a tool
/// for working on the compiler (`WALIA_DUMP_BYTECODE=1`).
fn dump(proto: &Proto) {
    eprintln!("== {} ({} slots)", proto.display_name(), proto.num_slots);
    for (at, op) in proto.code.iter().enumerate() {
        eprintln!("{at:5} {op:?}");
    }
    for p in &proto.protos {
        dump(p);
    }
}

fn next_site(count: &mut u16) -> u16 {
    if *count == crate::shape::NO_SITE {
        return crate::shape::NO_SITE;
    }
    *count += 1;
    *count - 1
}

struct Loop {
    /// Where `continue` jumps (the condition or the iterator step).
    continue_to: u32,
    /// `break` jumps to patch with the loop's exit.
    breaks: Vec<usize>,
    /// The hidden slot holding the stack height at loop entry.
    mark: Option<u16>,
}

struct FnCompiler {
    kind: ProtoKind,
    name: Option<Rc<str>>,
    arity: u16,
    num_slots: u32,
    cell_slots: Vec<bool>,
    captures: Vec<Capture>,
    capture_names: Vec<Rc<str>>,
    code: Vec<Op>,
    spans: Vec<Span>,
    consts: Vec<Value>,
    shapes: Vec<Rc<[crate::value::MapKey]>>,
    protos: Vec<Rc<Proto>>,
    classes: Vec<ClassDesc>,
    source: Arc<SourceFile>,
    span: Span,
    doc: Option<String>,
    loops: Vec<Loop>,
    /// The latest jump target: instructions before it must not be merged with later ones.
    last_target: u32,
    /// Index of each string constant in `consts`.
    string_consts: std::collections::HashMap<String, u32>,
    /// Numeric constants by (is a Float, bits), for [`FnCompiler::numeric_const`].
    number_consts: std::collections::HashMap<(bool, u64), u32>,
    /// The scripts of the top-level `import` statements still to compile, in order.
    imports: std::collections::VecDeque<Option<Rc<Proto>>>,
    /// Field and method sites numbered so far (each has an inline cache).
    field_sites: u16,
    invoke_sites: u16,
}

impl FnCompiler {
    fn new(
        kind: ProtoKind,
        info: &FunInfo,
        source: Arc<SourceFile>,
        name: Option<Rc<str>>,
        arity: u16,
        span: Span,
        doc: Option<String>,
    ) -> FnCompiler {
        let mut cell_slots = vec![false; info.num_slots.max(1) as usize];
        for s in &info.cell_slots {
            if let Some(c) = cell_slots.get_mut(*s as usize) {
                *c = true;
            }
        }
        FnCompiler {
            kind,
            name,
            arity,
            num_slots: info.num_slots.max(1),
            cell_slots,
            captures: info.captures.clone(),
            capture_names: info
                .capture_names
                .iter()
                .map(|n| Rc::from(n.as_str()))
                .collect(),
            code: Vec::new(),
            spans: Vec::new(),
            consts: Vec::new(),
            shapes: Vec::new(),
            protos: Vec::new(),
            classes: Vec::new(),
            source,
            span,
            doc,
            loops: Vec::new(),
            last_target: 0,
            string_consts: std::collections::HashMap::new(),
            number_consts: std::collections::HashMap::new(),
            imports: Default::default(),
            field_sites: 0,
            invoke_sites: 0,
        }
    }

    /// A new field site's cache index (past the operand's range: no cache).
    fn field_site(&mut self) -> u16 {
        next_site(&mut self.field_sites)
    }

    /// A new method site's cache index.
    fn invoke_site(&mut self) -> u16 {
        next_site(&mut self.invoke_sites)
    }

    /// The source text of `span`, on one line (what a failing `assert` shows).
    fn source_text(&self, span: Span) -> String {
        let text = self.source.text.get(span.range()).unwrap_or("");
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        lines.join(" ")
    }

    fn finish(self) -> Proto {
        let has_cell_params = self
            .cell_slots
            .iter()
            .take(self.arity as usize + 1)
            .any(|c| *c);
        Proto {
            has_cell_params,
            name: self.name,
            kind: self.kind,
            arity: self.arity,
            num_slots: self.num_slots,
            cell_slots: self.cell_slots,
            captures: self.captures,
            capture_names: self.capture_names,
            code: self.code,
            spans: self.spans,
            consts: self.consts,
            shapes: self.shapes,
            protos: self.protos,
            classes: self.classes,
            source: self.source,
            span: self.span,
            doc: self.doc,
            kernel: Err("is not a lambda".into()),
            sites: crate::shape::SiteCaches::new(self.field_sites, self.invoke_sites),
        }
    }

    fn emit(&mut self, op: Op, span: Span) -> usize {
        // `x = v;` as a statement: store and pop in one instruction.
        if op == Op::Pop && self.last_target < self.here() {
            let merged = match self.code.last() {
                Some(Op::SetLocal(s)) => Some(Op::DefineLocal(*s)),
                Some(Op::AddAssignLocal(s)) => Some(Op::AddToLocal(*s)),
                Some(Op::SetGlobal(g)) => Some(Op::DefineGlobal(*g)),
                Some(Op::SetIndexL(s)) => Some(Op::StoreIndexL(*s)),
                Some(Op::SetIndexLL(o, i)) => Some(Op::StoreIndexLL(*o, *i)),
                Some(Op::SetIndex(true)) => Some(Op::SetIndex(false)),
                Some(Op::AddSetLocal(s, true)) => Some(Op::AddSetLocal(*s, false)),
                Some(Op::AddSetGlobal(g, true)) => Some(Op::AddSetGlobal(*g, false)),
                Some(Op::SetLocalField(o, k, site, true)) => {
                    Some(Op::SetLocalField(*o, *k, *site, false))
                }
                _ => None,
            };
            if let Some(m) = merged {
                let at = self.code.len() - 1;
                self.code[at] = m;
                self.fuse_define();
                self.fuse_store_of_local();
                return self.code.len() - 1;
            }
        }
        // A call whose argument (or callee) the previous instruction computes: that
        // instruction becomes the fused form, which makes the call on its fast path. The
        // call stays in place, for the slow path and for its span in diagnostics.
        let fused = match (op, self.code.last()) {
            (Op::Call(0), Some(Op::GetLocal(s))) => Some(Op::CallLocal0(*s)),
            _ => None,
        };
        if let Some(f) = fused
            && let Some(last) = self.code.last_mut()
        {
            *last = f;
        }
        self.code.push(op);
        self.spans.push(span);
        let at = self.code.len() - 1;
        if let Op::DefineLocal(_) = op {
            self.fuse_define();
        }
        at
    }

    /// `o[i] = v;` with `v` a plain local read just before the store (`perm[j] = t;`): one
    /// instruction, which keeps the store's span for its errors. Not when a jump lands on
    /// the store (the value would then come from elsewhere).
    fn fuse_store_of_local(&mut self) {
        let n = self.code.len();
        if n < 2 || self.last_target as usize >= n - 1 {
            return;
        }
        if let (Op::GetLocal(v), Op::StoreIndexLL(o, i)) = (self.code[n - 2], self.code[n - 1]) {
            self.code[n - 2] = Op::StoreIndexLLL(o, i, v);
            self.spans[n - 2] = self.spans[n - 1];
            self.code.pop();
            self.spans.pop();
        }
    }

    /// An instruction that pushes a value, then `DefineLocal(d)` (`var x = a * b + c`,
    /// `x = y;`): one instruction that stores the value in slot `d` instead, with no push
    /// and pop and one dispatch less. Not when a jump lands on the `DefineLocal`.
    fn fuse_define(&mut self) {
        let n = self.code.len();
        let Some(&Op::DefineLocal(d)) = self.code.last() else {
            return;
        };
        if n < 2 || self.last_target as usize >= n - 1 {
            return;
        }
        let fused = match self.code[n - 2] {
            Op::BinLL(k, a, b) => Op::SetBinLL(k, d, a, b),
            Op::BinLK(k, a, i) => Op::SetBinLK(k, d, a, i),
            Op::BinLN(k, a, c) => Op::SetBinLN(k, d, a, c),
            Op::BinNL(k, c, a) => Op::SetBinNL(k, d, c, a),
            Op::BinTL(k, a) => Op::SetBinTL(k, d, a),
            Op::BinTN(k, c) => Op::SetBinTN(k, d, c),
            Op::BinTK(k, i) => Op::SetBinTN(k, d, self.number_const(Value::Int(i as i64))),
            Op::Add => Op::SetBinTT(BinOp::Add, d),
            Op::Sub => Op::SetBinTT(BinOp::Sub, d),
            Op::Mul => Op::SetBinTT(BinOp::Mul, d),
            Op::Div => Op::SetBinTT(BinOp::Div, d),
            Op::Mod => Op::SetBinTT(BinOp::Mod, d),
            Op::Bin(k) => Op::SetBinTT(k, d),
            Op::GetLocal(s) => Op::CopyLocal(d, s),
            Op::Const(k) => Op::LoadConst(d, k),
            Op::SmallInt(i) => Op::LoadConst(d, self.number_const(Value::Int(i as i64))),
            Op::True => Op::LoadConst(d, self.constant(Value::Bool(true))),
            Op::False => Op::LoadConst(d, self.constant(Value::Bool(false))),
            Op::Nil => Op::LoadConst(d, self.constant(Value::Nil)),
            Op::GetIndexLL(o, i) => Op::LoadIndexLL(d, o, i),
            _ => return,
        };
        self.code[n - 2] = fused;
        self.code.pop();
        self.spans.pop();
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    /// A loop start: a jump target like any patched one.
    fn label(&mut self) -> u32 {
        self.last_target = self.here();
        self.here()
    }

    /// `x = a op b;` / `x op= k;` on plain locals as one instruction. False when the
    /// statement has another shape.
    fn fused_assign(&mut self, e: &Expr) -> bool {
        let ExprKind::Assign { target, op, value } = &e.kind else {
            return false;
        };
        let Some(dst) = self.plain_local(target) else {
            return false;
        };
        let (kind, a, b) = match (op, &value.kind) {
            (None, ExprKind::Binary(op, a, b)) => (*op, self.plain_local(a), &**b),
            (Some(op), _) => (*op, Some(dst), &**value),
            _ => return false,
        };
        let Some(a) = a else {
            return false;
        };
        if let Some(b) = self.plain_local(b) {
            self.emit(Op::SetBinLL(kind, dst, a, b), e.span);
            return true;
        }
        if let Some(k) = small_int(b) {
            self.emit(Op::SetBinLK(kind, dst, a, k), e.span);
            return true;
        }
        if let Some(k) = self.numeric_const(b) {
            self.emit(Op::SetBinLN(kind, dst, a, k), e.span);
            return true;
        }
        false
    }

    /// The slot of a name that is a plain (non-cell) local.
    pub(super) fn plain_local(&self, e: &Expr) -> Option<u16> {
        match &e.kind {
            ExprKind::Name(Name {
                res: Res::Local(s), ..
            })
            | ExprKind::This(Res::Local(s))
                if !self.is_cell(*s) =>
            {
                Some(*s)
            }
            _ => None,
        }
    }

    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.last_target = target;
        match &mut self.code[at] {
            Op::Jump(t)
            | Op::JumpIfFalse(t)
            | Op::JumpIfTrue(t)
            | Op::JumpIfFalseKeep(t)
            | Op::JumpIfTrueKeep(t)
            | Op::IterNext(_, t)
            | Op::IterNextPair(_, t)
            | Op::JumpUnlessLL(_, _, _, t)
            | Op::JumpUnlessLK(_, _, _, t)
            | Op::JumpUnlessTK(_, _, t)
            | Op::JumpUnlessLN(_, _, _, t)
            | Op::JumpUnlessTN(_, _, t)
            | Op::JumpUnlessTT(_, t)
            | Op::JumpUnlessTL(_, _, t)
            | Op::JumpUnlessNil(_, t)
            | Op::JumpUnlessNilL(_, _, t) => *t = target,
            _ => {}
        }
    }

    fn constant(&mut self, v: Value) -> u32 {
        self.consts.push(v);
        (self.consts.len() - 1) as u32
    }

    /// A numeric literal (`1.5`, `-2`, `1e100`) as a constant index, shared by every use
    /// of the same number in the function.
    fn numeric_const(&mut self, e: &Expr) -> Option<u32> {
        let v = match &e.kind {
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Unary(UnOp::Neg, x) => match x.kind {
                ExprKind::Int(i) => Value::Int(i.checked_neg()?),
                ExprKind::Float(f) => Value::Float(-f),
                _ => return None,
            },
            _ => return None,
        };
        Some(self.number_const(v))
    }

    /// The constant index of a number, shared by every use of it in the function (any
    /// other value gets an index of its own).
    fn number_const(&mut self, v: Value) -> u32 {
        let key = match v {
            Value::Float(f) => (true, f.to_bits()),
            Value::Int(i) => (false, i as u64),
            _ => return self.constant(v),
        };
        if let Some(i) = self.number_consts.get(&key) {
            return *i;
        }
        let i = self.constant(v);
        self.number_consts.insert(key, i);
        i
    }

    /// A string constant, shared by every use in the function (names of fields and
    /// methods repeat a lot).
    fn name_const(&mut self, name: &str) -> u32 {
        if let Some(i) = self.string_consts.get(name) {
            return *i;
        }
        let i = self.constant(Value::str(name));
        self.string_consts.insert(name.to_string(), i);
        i
    }

    fn is_cell(&self, slot: u16) -> bool {
        self.cell_slots.get(slot as usize).copied().unwrap_or(false)
    }

    // ---- variables ----

    fn get_var(&mut self, res: Res, span: Span) {
        let op = match res {
            Res::Local(s) if self.is_cell(s) => Op::GetCell(s),
            Res::Local(s) => Op::GetLocal(s),
            Res::Upvalue(i) => Op::GetUpval(i),
            Res::Global(g) => Op::GetGlobal(g),
            Res::Unresolved => Op::Nil,
        };
        self.emit(op, span);
    }

    /// Store the top of the stack into the variable, leaving it on the stack.
    fn set_var(&mut self, res: Res, span: Span) {
        let op = match res {
            Res::Local(s) if self.is_cell(s) => Op::SetCell(s),
            Res::Local(s) => Op::SetLocal(s),
            Res::Upvalue(i) => Op::SetUpval(i),
            Res::Global(g) => Op::SetGlobal(g),
            Res::Unresolved => Op::Dup,
        };
        self.emit(op, span);
    }

    /// Pop the top of the stack into a variable being declared.
    fn define_var(&mut self, res: Res, span: Span) {
        let op = match res {
            Res::Local(s) if self.is_cell(s) => Op::DefineCell(s),
            Res::Local(s) => Op::DefineLocal(s),
            Res::Global(g) => Op::DefineGlobal(g),
            Res::Upvalue(_) | Res::Unresolved => Op::Pop,
        };
        self.emit(op, span);
    }

    // ---- statements ----
}

/// `==`, `!=`, `<`, `<=`, `>` or `>=`: the operators of the fused compare-and-jump forms.
fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// An Int literal small enough to be a fused instruction's operand.
fn small_int(e: &Expr) -> Option<i32> {
    match e.kind {
        ExprKind::Int(k) => i32::try_from(k).ok(),
        _ => None,
    }
}
