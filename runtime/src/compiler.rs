//! Bytecode compiler: a resolved AST to [`Proto`]s.
//!
//! Every name already carries its slot (see `walia_lang::resolve`), so compiling is a
//! straight walk. Stack discipline: a statement leaves the stack as it found it; an
//! expression pushes exactly one value.

use crate::bytecode::{BinKind, ClassDesc, Op, Proto, ProtoKind, SourceFile};
use crate::value::Value;
use std::rc::Rc;
use walia_lang::ast::*;

/// The result of compiling one program.
pub struct Compiled {
    /// Top-level code; returns the value of its final statement.
    pub script: Rc<Proto>,
}

pub fn compile(program: &Program, source: Rc<SourceFile>) -> Compiled {
    let mut c = FnCompiler::new(
        ProtoKind::Script,
        &program.info,
        source.clone(),
        None,
        0,
        Span::new(0, source.text.len()),
        None,
    );
    c.block_value(&program.stmts, Span::new(0, 0));
    c.emit(Op::Return, Span::new(source.text.len(), source.text.len()));
    Compiled {
        script: Rc::new(c.finish()),
    }
}

struct Loop {
    /// Where `continue` jumps (the condition or the iterator step).
    continue_to: u32,
    /// `break` jumps to patch with the loop's exit.
    breaks: Vec<usize>,
}

struct FnCompiler {
    kind: ProtoKind,
    name: Option<Rc<str>>,
    arity: u16,
    num_slots: u32,
    cell_slots: Vec<bool>,
    captures: Vec<Capture>,
    code: Vec<Op>,
    spans: Vec<Span>,
    consts: Vec<Value>,
    protos: Vec<Rc<Proto>>,
    classes: Vec<ClassDesc>,
    source: Rc<SourceFile>,
    span: Span,
    doc: Option<String>,
    loops: Vec<Loop>,
    /// The latest jump target: instructions before it must not be merged with later ones.
    last_target: u32,
    /// Index of each string constant in `consts`.
    string_consts: std::collections::HashMap<String, u32>,
}

impl FnCompiler {
    fn new(
        kind: ProtoKind,
        info: &FunInfo,
        source: Rc<SourceFile>,
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
            code: Vec::new(),
            spans: Vec::new(),
            consts: Vec::new(),
            protos: Vec::new(),
            classes: Vec::new(),
            source,
            span,
            doc,
            loops: Vec::new(),
            last_target: 0,
            string_consts: std::collections::HashMap::new(),
        }
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
            code: self.code,
            spans: self.spans,
            consts: self.consts,
            protos: self.protos,
            classes: self.classes,
            source: self.source,
            span: self.span,
            doc: self.doc,
        }
    }

    fn emit(&mut self, op: Op, span: Span) -> usize {
        // `x = v;` as a statement: store and pop in one instruction.
        if op == Op::Pop && self.last_target < self.here() {
            let merged = match self.code.last() {
                Some(Op::SetLocal(s)) => Some(Op::DefineLocal(*s)),
                Some(Op::SetGlobal(g)) => Some(Op::DefineGlobal(*g)),
                _ => None,
            };
            if let Some(m) = merged {
                let at = self.code.len() - 1;
                self.code[at] = m;
                return at;
            }
        }
        self.code.push(op);
        self.spans.push(span);
        self.code.len() - 1
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    /// A loop start: a jump target like any patched one.
    fn label(&mut self) -> u32 {
        self.last_target = self.here();
        self.here()
    }

    /// Compile a condition and a jump taken when it is false; returns the jump to patch.
    fn jump_unless(&mut self, cond: &Expr) -> usize {
        if let ExprKind::Binary(op, a, b) = &cond.kind
            && is_comparison(*op)
            && let Some(x) = self.plain_local(a)
        {
            if let Some(y) = self.plain_local(b) {
                return self.emit(Op::JumpUnlessLL(bin_kind(*op), x, y, 0), cond.span);
            }
            if let Some(k) = small_int(b) {
                return self.emit(Op::JumpUnlessLK(bin_kind(*op), x, k, 0), cond.span);
            }
        }
        self.expr(cond);
        self.emit(Op::JumpIfFalse(0), cond.span)
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
            (None, ExprKind::Binary(op, a, b)) => (bin_kind(*op), self.plain_local(a), &**b),
            (Some(op), _) => (bin_kind(*op), Some(dst), &**value),
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
        false
    }

    /// The slot of a name that is a plain (non-cell) local.
    fn plain_local(&self, e: &Expr) -> Option<u16> {
        match &e.kind {
            ExprKind::Name(Name {
                res: Res::Local(s), ..
            }) if !self.is_cell(*s) => Some(*s),
            _ => None,
        }
    }

    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.last_target = target;
        match &mut self.code[at] {
            Op::Jump(t)
            | Op::JumpIfFalse(t)
            | Op::JumpIfFalseKeep(t)
            | Op::JumpIfTrueKeep(t)
            | Op::IterNext(_, t)
            | Op::JumpUnlessLL(_, _, _, t)
            | Op::JumpUnlessLK(_, _, _, t) => *t = target,
            _ => {}
        }
    }

    fn constant(&mut self, v: Value) -> u32 {
        self.consts.push(v);
        (self.consts.len() - 1) as u32
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

    /// Compile statements so that exactly one value (the final statement's) is pushed.
    fn block_value(&mut self, stmts: &[Stmt], end: Span) {
        let Some((last, rest)) = stmts.split_last() else {
            self.emit(Op::Nil, end);
            return;
        };
        for s in rest {
            self.stmt(s);
        }
        self.stmt_value(last);
    }

    /// A statement in value position (the last of a block).
    fn stmt_value(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr { expr, .. } => self.expr(expr),
            StmtKind::Block(b) => self.block_value(&b.stmts, b.span),
            StmtKind::If { cond, then, else_ } => {
                let to_else = self.jump_unless(cond);
                self.stmt_value(then);
                let to_end = self.emit(Op::Jump(0), s.span);
                self.patch(to_else);
                match else_ {
                    Some(e) => self.stmt_value(e),
                    None => {
                        self.emit(Op::Nil, s.span);
                    }
                }
                self.patch(to_end);
            }
            StmtKind::Return(_) | StmtKind::Break | StmtKind::Continue => {
                self.stmt(s);
                // Unreachable, but keeps the stack height consistent for the compiler.
                self.emit(Op::Nil, s.span);
            }
            _ => {
                self.stmt(s);
                self.emit(Op::Nil, s.span);
            }
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        let span = s.span;
        match &s.kind {
            StmtKind::Var { name, init, .. } => {
                if let Res::Global(g) = name.res {
                    self.emit(Op::DeclareGlobal(g), name.span);
                    if let Some(e) = init {
                        self.expr(e);
                        self.emit(Op::DefineGlobal(g), span);
                    }
                } else {
                    match init {
                        Some(e) => self.expr(e),
                        None => {
                            self.emit(Op::Nil, span);
                        }
                    }
                    self.define_var(name.res, name.span);
                }
            }
            StmtKind::Fun(f) => {
                let res = f.name.as_ref().map_or(Res::Unresolved, |n| n.res);
                self.declare_before_body(res, span);
                self.function(f, ProtoKind::Function);
                self.assign_declared(res, span);
            }
            StmtKind::Class(c) => {
                self.declare_before_body(c.name.res, span);
                self.class(c);
                self.assign_declared(c.name.res, span);
            }
            StmtKind::Expr { expr, .. } => {
                if !self.fused_assign(expr) {
                    self.expr(expr);
                    self.emit(Op::Pop, span);
                }
            }
            StmtKind::Print(e) => {
                self.expr(e);
                self.emit(Op::Print, span);
            }
            StmtKind::If { cond, then, else_ } => {
                let to_else = self.jump_unless(cond);
                self.stmt(then);
                if let Some(e) = else_ {
                    let to_end = self.emit(Op::Jump(0), span);
                    self.patch(to_else);
                    self.stmt(e);
                    self.patch(to_end);
                } else {
                    self.patch(to_else);
                }
            }
            StmtKind::While { cond, body } => {
                let start = self.label();
                let exit = self.jump_unless(cond);
                self.loops.push(Loop {
                    continue_to: start,
                    breaks: Vec::new(),
                });
                self.stmt(body);
                self.emit(Op::Loop(start), span);
                self.patch(exit);
                self.end_loop();
            }
            StmtKind::For { var, iter, body } => {
                let Res::Local(var_slot) = var.res else {
                    return;
                };
                let iter_slot = var_slot.saturating_sub(1);
                self.expr(iter);
                self.emit(Op::IterInit(iter_slot), iter.span);
                let top = self.label();
                let exit = self.emit(Op::IterNext(iter_slot, 0), iter.span);
                self.define_var(var.res, var.span);
                self.loops.push(Loop {
                    continue_to: top,
                    breaks: Vec::new(),
                });
                self.stmt(body);
                self.emit(Op::Loop(top), span);
                self.patch(exit);
                self.end_loop();
            }
            StmtKind::Block(b) => {
                for s in &b.stmts {
                    self.stmt(s);
                }
            }
            StmtKind::Return(value) => {
                if self.kind == ProtoKind::Init {
                    self.emit(Op::Nil, span);
                    self.emit(Op::Return, span);
                    return;
                }
                match value {
                    Some(e) => self.return_expr(e),
                    None => {
                        self.emit(Op::Nil, span);
                        self.emit(Op::Return, span);
                    }
                }
            }
            StmtKind::Break => {
                let j = self.emit(Op::Jump(0), span);
                if let Some(l) = self.loops.last_mut() {
                    l.breaks.push(j);
                }
            }
            StmtKind::Continue => {
                let target = self.loops.last().map_or(0, |l| l.continue_to);
                self.emit(Op::Loop(target), span);
            }
            StmtKind::Test { name, body, info } => {
                let mut c = FnCompiler::new(
                    ProtoKind::Test,
                    info,
                    self.source.clone(),
                    Some(name.as_str().into()),
                    0,
                    span,
                    None,
                );
                c.block_value(&body.stmts, body.span);
                c.emit(Op::Return, body.span);
                self.protos.push(Rc::new(c.finish()));
                let idx = (self.protos.len() - 1) as u32;
                self.emit(Op::Closure(idx), span);
                let n = self.name_const(name);
                self.emit(Op::Test(n), span);
            }
            StmtKind::Empty => {}
        }
    }

    fn end_loop(&mut self) {
        if let Some(l) = self.loops.pop() {
            for b in l.breaks {
                self.patch(b);
            }
        }
    }

    /// A local `fun`/`class` may refer to itself: give its cell a value before the body.
    fn declare_before_body(&mut self, res: Res, span: Span) {
        if let Res::Local(s) = res
            && self.is_cell(s)
        {
            self.emit(Op::Nil, span);
            self.emit(Op::DefineCell(s), span);
        }
    }

    fn assign_declared(&mut self, res: Res, span: Span) {
        match res {
            Res::Local(s) if self.is_cell(s) => {
                self.emit(Op::SetCell(s), span);
                self.emit(Op::Pop, span);
            }
            _ => self.define_var(res, span),
        }
    }

    fn function(&mut self, f: &FunDecl, kind: ProtoKind) {
        let name = if f.anonymous {
            None
        } else {
            f.name.as_ref().map(|n| Rc::from(n.name.as_str()))
        };
        let mut c = FnCompiler::new(
            kind,
            &f.info,
            self.source.clone(),
            name,
            f.params.len().min(u16::MAX as usize) as u16,
            f.span,
            f.doc.clone(),
        );
        match &f.body.kind {
            ExprKind::Block(b) => c.return_stmts(&b.stmts, b.span),
            _ => c.return_expr(&f.body),
        }
        self.protos.push(Rc::new(c.finish()));
        let idx = (self.protos.len() - 1) as u32;
        self.emit(Op::Closure(idx), f.span);
    }

    /// Compile `e` as the value the function returns, ending with `Return`. Each branch of
    /// an `if`, `match` or block returns on its own, so a call at the end of any branch is
    /// a tail call (it replaces the frame instead of growing the stack).
    fn return_expr(&mut self, e: &Expr) {
        if self.kind == ProtoKind::Init {
            // `init` always returns the instance; its calls are never tail calls.
            self.expr(e);
            self.emit(Op::Return, e.span);
            return;
        }
        match &e.kind {
            ExprKind::If { cond, then, else_ } => {
                let to_else = self.jump_unless(cond);
                self.return_expr(then);
                self.patch(to_else);
                match else_ {
                    Some(x) => self.return_expr(x),
                    None => {
                        self.emit(Op::Nil, e.span);
                        self.emit(Op::Return, e.span);
                    }
                }
            }
            ExprKind::Block(b) => self.return_stmts(&b.stmts, b.span),
            ExprKind::Match { subject, arms } => self.match_expr(subject, arms, e.span, true),
            _ => {
                // A call directly followed by `Return` is run as a tail call by the VM.
                self.expr(e);
                self.emit(Op::Return, e.span);
            }
        }
    }

    /// Statements whose final one gives the returned value (a function body).
    fn return_stmts(&mut self, stmts: &[Stmt], end: Span) {
        let Some((last, rest)) = stmts.split_last() else {
            self.emit(Op::Nil, end);
            self.emit(Op::Return, end);
            return;
        };
        for s in rest {
            self.stmt(s);
        }
        self.return_stmt(last);
    }

    fn return_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr { expr, .. } => self.return_expr(expr),
            StmtKind::Block(b) => self.return_stmts(&b.stmts, b.span),
            StmtKind::If { cond, then, else_ } => {
                let to_else = self.jump_unless(cond);
                self.return_stmt(then);
                self.patch(to_else);
                match else_ {
                    Some(x) => self.return_stmt(x),
                    None => {
                        self.emit(Op::Nil, s.span);
                        self.emit(Op::Return, s.span);
                    }
                }
            }
            _ => {
                self.stmt_value(s);
                self.emit(Op::Return, s.span);
            }
        }
    }

    fn class(&mut self, c: &ClassDecl) {
        if let Some(sup) = &c.superclass {
            self.get_var(sup.res, sup.span);
        }
        let defaults = if c.fields.iter().any(|f| f.default.is_some()) {
            let mut d = FnCompiler::new(
                ProtoKind::Defaults,
                &c.defaults_info,
                self.source.clone(),
                Some(c.name.name.as_str().into()),
                0,
                c.span,
                None,
            );
            for field in &c.fields {
                if let Some(def) = &field.default {
                    d.emit(Op::GetLocal(0), field.span);
                    if d.is_cell(0) {
                        let at = d.code.len() - 1;
                        d.code[at] = Op::GetCell(0);
                    }
                    d.expr(def);
                    let n = d.name_const(&field.name.name);
                    d.emit(Op::SetField(n), field.span);
                    d.emit(Op::Pop, field.span);
                }
            }
            d.emit(Op::Nil, c.span);
            d.emit(Op::Return, c.span);
            self.protos.push(Rc::new(d.finish()));
            Some((self.protos.len() - 1) as u32)
        } else {
            None
        };
        let mut methods = Vec::new();
        for m in &c.methods {
            let is_init = m.name.as_ref().is_some_and(|n| n.name == "init");
            let kind = if is_init {
                ProtoKind::Init
            } else {
                ProtoKind::Method
            };
            self.function(m, kind);
            // `function` emitted a Closure op for a free function; methods are built by the
            // Class instruction instead.
            self.code.pop();
            self.spans.pop();
            let name: Rc<str> = m.name.as_ref().map_or("?", |n| n.name.as_str()).into();
            methods.push((name, (self.protos.len() - 1) as u32));
        }
        self.classes.push(ClassDesc {
            name: c.name.name.as_str().into(),
            has_super: c.superclass.is_some(),
            fields: c
                .fields
                .iter()
                .map(|f| Rc::from(f.name.name.as_str()))
                .collect(),
            defaults,
            methods,
            sql: c.sql,
            doc: c.doc.clone(),
        });
        let idx = (self.classes.len() - 1) as u32;
        self.emit(Op::Class(idx), c.span);
    }

    // ---- expressions ----

    fn expr(&mut self, e: &Expr) {
        let span = e.span;
        match &e.kind {
            ExprKind::Nil => {
                self.emit(Op::Nil, span);
            }
            ExprKind::Bool(true) => {
                self.emit(Op::True, span);
            }
            ExprKind::Bool(false) => {
                self.emit(Op::False, span);
            }
            ExprKind::Int(i) => {
                if let Ok(small) = i32::try_from(*i) {
                    self.emit(Op::SmallInt(small), span);
                } else {
                    let k = self.constant(Value::Int(*i));
                    self.emit(Op::Const(k), span);
                }
            }
            ExprKind::Float(f) => {
                let k = self.constant(Value::Float(*f));
                self.emit(Op::Const(k), span);
            }
            ExprKind::Str(s) => {
                let k = self.name_const(s);
                self.emit(Op::Const(k), span);
            }
            ExprKind::Name(n) => self.get_var(n.res, span),
            ExprKind::This(res) => self.get_var(*res, span),
            ExprKind::Super { method, this_res } => {
                self.get_var(*this_res, span);
                let n = self.name_const(&method.name);
                self.emit(Op::GetSuper(n), span);
            }
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i);
                }
                self.emit(Op::MakeList(items.len() as u32), span);
            }
            ExprKind::Map(entries) => {
                for (k, v) in entries {
                    self.expr(k);
                    self.expr(v);
                }
                self.emit(Op::MakeMap(entries.len() as u32), span);
            }
            ExprKind::Unary(op, x) => {
                self.expr(x);
                let op = match op {
                    UnOp::Neg => Op::Neg,
                    UnOp::Not => Op::Not,
                };
                self.emit(op, span);
            }
            ExprKind::Binary(op, a, b) => {
                if let Some(x) = self.plain_local(a) {
                    if let Some(y) = self.plain_local(b) {
                        self.emit(Op::BinLL(bin_kind(*op), x, y), span);
                        return;
                    }
                    if let Some(k) = small_int(b) {
                        self.emit(Op::BinLK(bin_kind(*op), x, k), span);
                        return;
                    }
                }
                self.expr(a);
                self.expr(b);
                self.emit(bin_op(*op), span);
            }
            ExprKind::And(a, b) => {
                self.expr(a);
                let j = self.emit(Op::JumpIfFalseKeep(0), span);
                self.expr(b);
                self.patch(j);
            }
            ExprKind::Or(a, b) => {
                self.expr(a);
                let j = self.emit(Op::JumpIfTrueKeep(0), span);
                self.expr(b);
                self.patch(j);
            }
            ExprKind::Range(a, b) => {
                self.expr(a);
                self.expr(b);
                self.emit(Op::MakeRange, span);
            }
            ExprKind::Assign { target, op, value } => self.assign(target, *op, value, span),
            ExprKind::Pipe(lhs, rhs) => self.pipe(lhs, rhs, span),
            ExprKind::Call { callee, args } => self.call(callee, None, args, span),
            ExprKind::Field { object, name } => {
                self.expr(object);
                let n = self.name_const(&name.name);
                self.emit(Op::GetField(n), name.span);
            }
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
                self.emit(Op::GetIndex, span);
            }
            ExprKind::Function(f) => self.function(f, ProtoKind::Function),
            ExprKind::If { cond, then, else_ } => {
                let to_else = self.jump_unless(cond);
                self.expr(then);
                let to_end = self.emit(Op::Jump(0), span);
                self.patch(to_else);
                match else_ {
                    Some(x) => self.expr(x),
                    None => {
                        self.emit(Op::Nil, span);
                    }
                }
                self.patch(to_end);
            }
            ExprKind::Match { subject, arms } => self.match_expr(subject, arms, span, false),
            ExprKind::Block(b) => self.block_value(&b.stmts, b.span),
            ExprKind::Fused(x) => self.expr(x),
            ExprKind::Print(x) => {
                self.expr(x);
                self.emit(Op::Print, span);
                self.emit(Op::Nil, span);
            }
        }
    }

    /// `callee(pre, args...)` where `pre` is a piped-in first argument.
    fn call(&mut self, callee: &Expr, pre: Option<&Expr>, args: &[Expr], span: Span) {
        let argc = (args.len() + usize::from(pre.is_some())).min(u16::MAX as usize) as u16;
        match &callee.kind {
            ExprKind::Field { object, name } => {
                self.expr(object);
                if let Some(p) = pre {
                    self.expr(p);
                }
                for a in args {
                    self.expr(a);
                }
                let n = self.name_const(&name.name);
                self.emit(Op::Invoke(n, argc), span);
            }
            ExprKind::Super { method, this_res } => {
                self.get_var(*this_res, callee.span);
                if let Some(p) = pre {
                    self.expr(p);
                }
                for a in args {
                    self.expr(a);
                }
                let n = self.name_const(&method.name);
                self.emit(Op::InvokeSuper(n, argc), span);
            }
            ExprKind::Name(Name {
                res: Res::Global(g),
                ..
            }) => {
                self.emit(Op::Nil, callee.span);
                if let Some(p) = pre {
                    self.expr(p);
                }
                for a in args {
                    self.expr(a);
                }
                self.emit(Op::CallGlobal(*g, argc), span);
            }
            _ => {
                self.expr(callee);
                if let Some(p) = pre {
                    self.expr(p);
                }
                for a in args {
                    self.expr(a);
                }
                self.emit(Op::Call(argc), span);
            }
        }
    }

    /// `a |> f(x)` is `f(a, x)`; `a |> f` is `f(a)`; `a |> obj.m(x)` is `obj.m(a, x)`.
    fn pipe(&mut self, lhs: &Expr, rhs: &Expr, span: Span) {
        match &rhs.kind {
            ExprKind::Call { callee, args } => self.call(callee, Some(lhs), args, span),
            _ => self.call(rhs, Some(lhs), &[], span),
        }
    }

    fn assign(&mut self, target: &Expr, op: AssignOp, value: &Expr, span: Span) {
        match &target.kind {
            ExprKind::Name(n) => match (op, n.res) {
                // `x += v` evaluates v before reading x, so that a string nothing else holds
                // can grow in place. That order is only unobservable when v cannot assign
                // x: for an uncaptured local, when v has no assignment or statement in it;
                // for a global, when v also calls nothing.
                (Some(BinOp::Add), Res::Local(s))
                    if !self.is_cell(s) && no_effects(value, true) =>
                {
                    self.expr(value);
                    self.emit(Op::AddAssignLocal(s), span);
                }
                (Some(BinOp::Add), Res::Global(g)) if no_effects(value, false) => {
                    self.expr(value);
                    self.emit(Op::AddAssignGlobal(g), span);
                }
                (Some(op), res) => {
                    self.get_var(res, n.span);
                    self.expr(value);
                    self.emit(bin_op(op), span);
                    self.set_var(res, span);
                }
                (None, res) => {
                    self.expr(value);
                    self.set_var(res, span);
                }
            },
            ExprKind::Field { object, name } => {
                self.expr(object);
                let k = self.name_const(&name.name);
                if let Some(op) = op {
                    self.emit(Op::Dup, span);
                    self.emit(Op::GetField(k), name.span);
                    self.expr(value);
                    self.emit(bin_op(op), span);
                } else {
                    self.expr(value);
                }
                self.emit(Op::SetField(k), span);
            }
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
                if let Some(op) = op {
                    self.emit(Op::Dup2, span);
                    self.emit(Op::GetIndex, target.span);
                    self.expr(value);
                    self.emit(bin_op(op), span);
                } else {
                    self.expr(value);
                }
                self.emit(Op::SetIndex, span);
            }
            // The parser rejects other targets; evaluate the value so the stack stays even.
            _ => self.expr(value),
        }
    }

    /// `tail`: the match is the function's returned value; each arm returns on its own.
    fn match_expr(&mut self, subject: &Expr, arms: &[MatchArm], span: Span, tail: bool) {
        self.expr(subject);
        let mut to_end = Vec::new();
        for arm in arms {
            let mut to_next = Vec::new();
            match &arm.pattern {
                Pattern::Literal(l) => {
                    self.emit(Op::Dup, arm.span);
                    self.expr(l);
                    self.emit(Op::Eq, l.span);
                    to_next.push(self.emit(Op::JumpIfFalse(0), l.span));
                }
                Pattern::Range(lo, hi) => {
                    self.emit(Op::Dup, arm.span);
                    self.expr(lo);
                    self.expr(hi);
                    self.emit(Op::InRange, arm.span);
                    to_next.push(self.emit(Op::JumpIfFalse(0), arm.span));
                }
                Pattern::Wildcard(_) => {}
                Pattern::Bind(n) => {
                    self.emit(Op::Dup, n.span);
                    self.define_var(n.res, n.span);
                }
            }
            if let Some(g) = &arm.guard {
                self.expr(g);
                to_next.push(self.emit(Op::JumpIfFalse(0), g.span));
            }
            self.emit(Op::Pop, arm.span);
            if tail {
                self.return_expr(&arm.body);
            } else {
                self.expr(&arm.body);
                to_end.push(self.emit(Op::Jump(0), arm.span));
            }
            for j in to_next {
                self.patch(j);
            }
        }
        self.emit(Op::NoMatch, span);
        for j in to_end {
            self.patch(j);
        }
    }
}

/// True when evaluating `e` cannot assign a variable: no assignment, block, `if`,
/// `match`, `print` or (unless `calls_ok`) call inside it. Lambdas are fine: they only
/// create a function.
fn no_effects(e: &Expr, calls_ok: bool) -> bool {
    match &e.kind {
        ExprKind::Nil
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Name(_)
        | ExprKind::This(_)
        | ExprKind::Super { .. }
        | ExprKind::Function(_) => true,
        ExprKind::List(items) => items.iter().all(|i| no_effects(i, calls_ok)),
        ExprKind::Map(entries) => entries
            .iter()
            .all(|(k, v)| no_effects(k, calls_ok) && no_effects(v, calls_ok)),
        ExprKind::Unary(_, x) | ExprKind::Fused(x) => no_effects(x, calls_ok),
        ExprKind::Field { object, .. } => no_effects(object, calls_ok),
        ExprKind::Binary(_, a, b)
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Range(a, b)
        | ExprKind::Index {
            object: a,
            index: b,
        } => no_effects(a, calls_ok) && no_effects(b, calls_ok),
        ExprKind::Call { callee, args } => {
            calls_ok && no_effects(callee, calls_ok) && args.iter().all(|a| no_effects(a, calls_ok))
        }
        ExprKind::Pipe(a, b) => calls_ok && no_effects(a, calls_ok) && no_effects(b, calls_ok),
        ExprKind::Assign { .. }
        | ExprKind::If { .. }
        | ExprKind::Match { .. }
        | ExprKind::Block(_)
        | ExprKind::Print(_) => false,
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

fn small_int(e: &Expr) -> Option<i32> {
    match e.kind {
        ExprKind::Int(k) => i32::try_from(k).ok(),
        _ => None,
    }
}

fn bin_kind(op: BinOp) -> BinKind {
    match op {
        BinOp::Add => BinKind::Add,
        BinOp::Sub => BinKind::Sub,
        BinOp::Mul => BinKind::Mul,
        BinOp::Div => BinKind::Div,
        BinOp::Mod => BinKind::Mod,
        BinOp::Eq => BinKind::Eq,
        BinOp::Ne => BinKind::Ne,
        BinOp::Lt => BinKind::Lt,
        BinOp::Le => BinKind::Le,
        BinOp::Gt => BinKind::Gt,
        BinOp::Ge => BinKind::Ge,
    }
}

fn bin_op(op: BinOp) -> Op {
    match op {
        BinOp::Add => Op::Add,
        BinOp::Sub => Op::Sub,
        BinOp::Mul => Op::Mul,
        BinOp::Div => Op::Div,
        BinOp::Mod => Op::Mod,
        BinOp::Eq => Op::Eq,
        BinOp::Ne => Op::Ne,
        BinOp::Lt => Op::Lt,
        BinOp::Le => Op::Le,
        BinOp::Gt => Op::Gt,
        BinOp::Ge => Op::Ge,
    }
}
