//! Statements, function bodies and returns.

use super::{FnCompiler, Loop};
use crate::bytecode::{ClassDesc, Op, ProtoKind};
use std::rc::Rc;
use walia_lang::ast::*;

impl FnCompiler {
    /// Compile statements so that exactly one value (the final statement's) is pushed.
    pub(super) fn block_value(&mut self, stmts: &[Stmt], end: Span) {
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
    pub(super) fn stmt_value(&mut self, s: &Stmt) {
        walia_lang::stack::guarded(|| self.stmt_value_unguarded(s));
    }

    fn stmt_value_unguarded(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr { expr, .. } => self.expr(expr),
            StmtKind::Block(b) => self.block_value(&b.stmts, b.span),
            StmtKind::If { .. } => self.if_value(s.if_chain(), FnCompiler::stmt_value),
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

    pub(super) fn stmt(&mut self, s: &Stmt) {
        walia_lang::stack::guarded(|| self.stmt_unguarded(s));
    }

    fn stmt_unguarded(&mut self, s: &Stmt) {
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
            StmtKind::VarList { names, init } => {
                self.expr(init);
                self.emit(Op::Unpack(names.len() as u32), init.span);
                for (i, name) in names.iter().enumerate() {
                    if name.is_skip() {
                        continue;
                    }
                    if let Res::Global(g) = name.res {
                        self.emit(Op::DeclareGlobal(g), name.span);
                    }
                    self.emit(Op::Pick(0, i as u32), name.span);
                    self.define_var(name.res, name.span);
                }
                self.emit(Op::Pop, span);
            }
            StmtKind::Import { .. } => {
                // The engine compiled the file (or found it imported already): run it here.
                if let Some(Some(script)) = self.imports.pop_front() {
                    self.protos.push(script);
                    let idx = (self.protos.len() - 1) as u32;
                    self.emit(Op::Closure(idx), span);
                    self.emit(Op::Call(0), span);
                    self.emit(Op::Pop, span);
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
            StmtKind::If { .. } => {
                // The `else if` chain with a loop: each arm but the last jumps to the end.
                let chain = s.if_chain();
                let mut to_end = Vec::new();
                for (i, arm) in chain.arms.iter().enumerate() {
                    let to_else = self.jump_unless(arm.cond);
                    self.stmt(arm.then);
                    if i + 1 < chain.arms.len() || chain.last.is_some() {
                        to_end.push(self.emit(Op::Jump(0), arm.span));
                    }
                    self.patch_all(to_else);
                }
                if let Some(x) = chain.last {
                    self.stmt(x);
                }
                for at in to_end {
                    self.patch(at);
                }
            }
            StmtKind::While { cond, body, mark } => {
                let mark = self.mark_stack(*mark, span);
                let start = self.label();
                // `while (true)` tests nothing.
                let exit = match cond.kind {
                    ExprKind::Bool(true) => None,
                    _ => Some(self.jump_unless(cond)),
                };
                let body_at = self.label();
                self.loops.push(Loop {
                    continue_to: start,
                    breaks: Vec::new(),
                    mark,
                });
                self.stmt(body);
                // A comparison of plain locals (one instruction, no effects) is tested
                // again at the bottom: one instruction per iteration instead of the back
                // jump and the test.
                let back_edge = match exit.as_deref() {
                    Some(&[at]) if at == start as usize => bottom_test(self.code[at], body_at),
                    _ => None,
                };
                match back_edge {
                    Some(op) => self.emit(op, cond.span),
                    None => self.emit(Op::Loop(start), span),
                };
                if let Some(exit) = exit {
                    self.patch_all(exit);
                }
                self.end_loop();
            }
            StmtKind::For {
                var,
                second,
                iter,
                body,
                mark,
            } => {
                let Res::Local(var_slot) = var.res else {
                    return;
                };
                let iter_slot = var_slot.saturating_sub(2);
                match (&iter.kind, second) {
                    (ExprKind::Range(a, b), None) => {
                        self.expr(a);
                        self.expr(b);
                        self.emit(Op::IterInitRange(iter_slot), iter.span);
                    }
                    (_, None) => {
                        self.expr(iter);
                        self.emit(Op::IterInit(iter_slot), iter.span);
                    }
                    (_, Some(_)) => {
                        self.expr(iter);
                        self.emit(Op::IterInitPairs(iter_slot), iter.span);
                    }
                }
                let mark = self.mark_stack(*mark, span);
                let top = self.label();
                let exit = match second {
                    Some(second) => {
                        let exit = self.emit(Op::IterNextPair(iter_slot, 0), iter.span);
                        self.emit(Op::SplitPair, var.span.to(second.span));
                        self.define_var(second.res, second.span);
                        self.define_var(var.res, var.span);
                        exit
                    }
                    None => {
                        let exit = self.emit(Op::IterNext(iter_slot, 0), iter.span);
                        self.define_var(var.res, var.span);
                        exit
                    }
                };
                let body_at = self.label();
                self.loops.push(Loop {
                    continue_to: top,
                    breaks: Vec::new(),
                    mark,
                });
                self.stmt(body);
                // The back edge steps the loop itself when the element goes into a plain
                // local (the `IterNext` and `DefineLocal` just before the body).
                match self.code.get(top as usize + 1) {
                    Some(Op::DefineLocal(d)) if second.is_none() && body_at == top + 2 => {
                        let d = *d;
                        self.emit(Op::ForNext(iter_slot, d, body_at), span)
                    }
                    _ => self.emit(Op::Loop(top), span),
                };
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
                self.cut_stack(span);
                let j = self.emit(Op::Jump(0), span);
                if let Some(l) = self.loops.last_mut() {
                    l.breaks.push(j);
                }
            }
            StmtKind::Continue => {
                self.cut_stack(span);
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

    /// Record the stack height at loop entry in the loop's hidden slot.
    fn mark_stack(&mut self, mark: Res, span: Span) -> Option<u16> {
        let Res::Local(slot) = mark else {
            return None;
        };
        self.emit(Op::MarkStack(slot), span);
        Some(slot)
    }

    /// Before `break`/`continue`: drop what a partly evaluated expression around it pushed
    /// (`[i, { if (c) continue; 2 }]` has `i` on the stack). A plain statement-level jump
    /// finds the stack at its mark already; cutting it then does nothing.
    fn cut_stack(&mut self, span: Span) {
        if let Some(slot) = self.loops.last().and_then(|l| l.mark) {
            self.emit(Op::CutStack(slot), span);
        }
    }

    pub(super) fn end_loop(&mut self) {
        if let Some(l) = self.loops.pop() {
            for b in l.breaks {
                self.patch(b);
            }
        }
    }

    /// A local `fun`/`class` may refer to itself: give its cell a value before the body.
    pub(super) fn declare_before_body(&mut self, res: Res, span: Span) {
        if let Res::Local(s) = res
            && self.is_cell(s)
        {
            self.emit(Op::Nil, span);
            self.emit(Op::DefineCell(s), span);
        }
    }

    pub(super) fn assign_declared(&mut self, res: Res, span: Span) {
        match res {
            Res::Local(s) if self.is_cell(s) => {
                self.emit(Op::SetCell(s), span);
                self.emit(Op::Pop, span);
            }
            _ => self.define_var(res, span),
        }
    }

    pub(super) fn function(&mut self, f: &FunDecl, kind: ProtoKind) {
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
        let mut proto = c.finish();
        if kind == ProtoKind::Function {
            proto.kernel = crate::kernel::lower(f);
        }
        self.protos.push(Rc::new(proto));
        let idx = (self.protos.len() - 1) as u32;
        self.emit(Op::Closure(idx), f.span);
    }

    /// Compile `e` as the value the function returns, ending with `Return`. Each branch of
    /// an `if`, `match` or block returns on its own, so a call at the end of any branch is
    /// a tail call (it replaces the frame instead of growing the stack).
    pub(super) fn return_expr(&mut self, e: &Expr) {
        walia_lang::stack::guarded(|| self.return_expr_unguarded(e));
    }

    fn return_expr_unguarded(&mut self, e: &Expr) {
        if self.kind == ProtoKind::Init {
            // `init` always returns the instance; its calls are never tail calls.
            self.expr(e);
            self.emit(Op::Return, e.span);
            return;
        }
        // An `else if` chain with a loop: every arm returns.
        let chain = e.if_chain();
        for arm in &chain.arms {
            let to_else = self.jump_unless(arm.cond);
            self.return_expr(arm.then);
            self.patch_all(to_else);
        }
        let Some(e) = chain.last else {
            self.emit(Op::Nil, chain.end);
            self.emit(Op::Return, chain.end);
            return;
        };
        match &e.kind {
            ExprKind::Block(b) => self.return_stmts(&b.stmts, b.span),
            ExprKind::Match { subject, arms } => self.match_expr(subject, arms, e.span, true),
            _ => {
                if let Some(slot) = self.plain_local(e) {
                    self.emit(Op::ReturnLocal(slot), e.span);
                    return;
                }
                // A call directly followed by `Return` is run as a tail call by the VM.
                self.expr(e);
                self.emit(Op::Return, e.span);
            }
        }
    }

    /// Statements whose final one gives the returned value (a function body).
    pub(super) fn return_stmts(&mut self, stmts: &[Stmt], end: Span) {
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

    pub(super) fn return_stmt(&mut self, s: &Stmt) {
        walia_lang::stack::guarded(|| self.return_stmt_unguarded(s));
    }

    fn return_stmt_unguarded(&mut self, s: &Stmt) {
        // An `else if` chain with a loop: every arm returns.
        let chain = s.if_chain();
        for arm in &chain.arms {
            let to_else = self.jump_unless(arm.cond);
            self.return_stmt(arm.then);
            self.patch_all(to_else);
        }
        let Some(s) = chain.last else {
            self.emit(Op::Nil, chain.end);
            self.emit(Op::Return, chain.end);
            return;
        };
        match &s.kind {
            StmtKind::Expr { expr, .. } => self.return_expr(expr),
            StmtKind::Block(b) => self.return_stmts(&b.stmts, b.span),
            _ => {
                self.stmt_value(s);
                self.emit(Op::Return, s.span);
            }
        }
    }

    pub(super) fn class(&mut self, c: &ClassDecl) {
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
                    let site = d.field_site();
                    d.emit(Op::SetField(n, site), field.span);
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
            self.function(m, m.method_kind());
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
            span: c.span,
            global: matches!(c.name.res, Res::Global(_)),
        });
        let idx = (self.classes.len() - 1) as u32;
        self.emit(Op::Class(idx), c.span);
    }

    // ---- expressions ----
}

/// The back edge that tests a loop's one-instruction condition `test` again, jumping to
/// the body at `body_at` when it holds.
fn bottom_test(test: Op, body_at: u32) -> Option<Op> {
    match test {
        Op::JumpUnlessLL(kind, x, y, _) => Some(Op::LoopIfLL(kind, x, y, body_at)),
        Op::JumpUnlessLK(kind, x, k, _) => Some(Op::LoopIfLK(kind, x, k, body_at)),
        Op::JumpUnlessLN(kind, x, k, _) => Some(Op::LoopIfLN(kind, x, k, body_at)),
        _ => None,
    }
}
