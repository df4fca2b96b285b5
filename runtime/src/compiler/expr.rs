//! Expressions: operators, calls, pipes, assignment and `match`.

use super::{FnCompiler, small_int};
use crate::bytecode::{Op, ProtoKind};
use crate::value::{MapKey, Str, Value};
use std::rc::Rc;
use walia_lang::ast::*;

impl FnCompiler {
    pub(super) fn expr(&mut self, e: &Expr) {
        walia_lang::stack::guarded(|| self.expr_unguarded(e));
    }

    /// `a op b`, in the fused form its operands allow: locals and numeric constants are
    /// operands of the instruction itself rather than values pushed first.
    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) {
        if let Some(x) = self.plain_local(a) {
            if let Some(y) = self.plain_local(b) {
                self.emit(Op::BinLL(op, x, y), span);
                return;
            }
            if let Some(k) = small_int(b) {
                self.emit(Op::BinLK(op, x, k), span);
                return;
            }
            if let Some(k) = self.numeric_const(b) {
                self.emit(Op::BinLN(op, x, k), span);
                return;
            }
        }
        // A constant on the left is read after the right side is evaluated, which no one
        // can tell apart: a constant has no effects and cannot change.
        if let Some(k) = self.numeric_const(a) {
            if let Some(y) = self.plain_local(b) {
                self.emit(Op::BinNL(op, k, y), span);
            } else {
                self.expr(b);
                self.emit(Op::BinNT(op, k), span);
            }
            return;
        }
        if let Some(x) = self.plain_local(a)
            && no_effects(b, true)
        {
            self.expr(b);
            self.emit(Op::BinLT(op, x), span);
            return;
        }
        self.expr(a);
        self.binary_on_top(op, b, span);
    }

    /// An Int constant: in the instruction when it fits, else in the constant table.
    fn int_literal(&mut self, i: i64, span: Span) {
        if let Ok(small) = i32::try_from(i) {
            self.emit(Op::SmallInt(small), span);
        } else {
            let k = self.constant(Value::Int(i));
            self.emit(Op::Const(k), span);
        }
    }

    /// `top op b`, with the left operand's value on top of the stack (also the compound
    /// assignments: `this.count -= 1`).
    fn binary_on_top(&mut self, op: BinOp, b: &Expr, span: Span) {
        if let Some(k) = small_int(b) {
            self.emit(Op::BinTK(op, k), span);
            return;
        }
        if let Some(k) = self.numeric_const(b) {
            self.emit(Op::BinTN(op, k), span);
            return;
        }
        // The local is read after the left operand, exactly when a `GetLocal` would.
        if let Some(y) = self.plain_local(b) {
            self.emit(Op::BinTL(op, y), span);
            return;
        }
        // A global operand (often a constant by use: `x & FLAG`): a numeric fast path
        // in front of the plain instructions.
        let prefixed = global_name(b).map(|g| self.emit(Op::BinTG(op, g), span));
        self.expr(b);
        self.emit(bin_op(op), span);
        if prefixed.is_some() {
            // The fast path lands here: nothing may fuse the operator with what follows.
            self.last_target = self.here();
        }
    }

    fn expr_unguarded(&mut self, e: &Expr) {
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
            ExprKind::Int(i) => self.int_literal(*i, span),
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
                if let Some(shape) = self.map_shape(entries) {
                    for (_, v) in entries {
                        self.expr(v);
                    }
                    self.emit(Op::MakeShapedMap(shape), span);
                    return;
                }
                for (k, v) in entries {
                    self.expr(k);
                    self.expr(v);
                }
                self.emit(Op::MakeMap(entries.len() as u32), span);
            }
            ExprKind::Unary(op, x) => {
                // A negative number literal (`-1`, `-0.5`) is one constant, not a negation.
                if *op == UnOp::Neg
                    && let Some(v) = negated_literal(x)
                {
                    match v {
                        Value::Int(i) => self.int_literal(i, span),
                        v => {
                            let k = self.constant(v);
                            self.emit(Op::Const(k), span);
                        }
                    }
                    return;
                }
                self.expr(x);
                let op = match op {
                    UnOp::Neg => Op::Neg,
                    UnOp::Not => Op::Not,
                    UnOp::BitNot => Op::BitNot,
                };
                self.emit(op, span);
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span),
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
                let n = self.name_const(&name.name);
                let site = self.field_site();
                if let Some(slot) = self.plain_local(object) {
                    self.emit(Op::GetLocalField(slot, n, site), name.span);
                } else {
                    self.expr(object);
                    self.emit(Op::GetField(n, site), name.span);
                }
            }
            ExprKind::Index { object, index } => {
                // A local indexed by something that cannot assign it: the local is read
                // when the index is ready, with no copy of it on the stack.
                if let Some(o) = self.plain_local(object)
                    && no_effects(index, true)
                {
                    match self.plain_local(index) {
                        Some(i) => self.emit(Op::GetIndexLL(o, i), span),
                        None => {
                            self.expr(index);
                            self.emit(Op::GetIndexL(o), span)
                        }
                    };
                    return;
                }
                self.expr(object);
                // `grid[i][j]`: the row on the stack indexed by a plain local where it lies.
                match self.plain_local(index) {
                    Some(i) => self.emit(Op::GetIndexTL(i), span),
                    None => {
                        self.expr(index);
                        self.emit(Op::GetIndex, span)
                    }
                };
            }
            ExprKind::Function(f) => self.function(f, ProtoKind::Function),
            ExprKind::If { .. } => self.if_chain(e),
            ExprKind::Match { subject, arms } => self.match_expr(subject, arms, span, false),
            ExprKind::Block(b) => self.block_value(&b.stmts, b.span),
            ExprKind::Fused(x) => {
                self.emit(Op::Fused(true), span);
                self.expr(x);
                self.emit(Op::Fused(false), span);
            }
            ExprKind::Print(x) => {
                self.expr(x);
                self.emit(Op::Print, span);
                self.emit(Op::Nil, span);
            }
        }
    }

    /// `callee(pre, args...)` where `pre` is a piped-in first argument.
    /// An `if` expression and its `else if` chain, with a loop: each arm jumps to the end.
    fn if_chain(&mut self, e: &Expr) {
        self.if_value(e.if_chain(), FnCompiler::expr);
    }

    /// An `if` chain whose value is kept (of expressions, or of statements in a block's
    /// value position): each arm leaves its value and jumps to the end; with no `else`,
    /// the value is `nil`.
    pub(super) fn if_value<T>(&mut self, chain: IfChain<'_, T>, branch: fn(&mut Self, &T)) {
        let mut to_end = Vec::new();
        for arm in &chain.arms {
            let to_else = self.jump_unless(arm.cond);
            branch(self, arm.then);
            to_end.push(self.emit(Op::Jump(0), arm.span));
            self.patch_all(to_else);
        }
        match chain.last {
            Some(x) => branch(self, x),
            None => {
                self.emit(Op::Nil, chain.end);
            }
        }
        for at in to_end {
            self.patch(at);
        }
    }

    pub(super) fn call(&mut self, callee: &Expr, pre: Option<&Expr>, args: &[Expr], span: Span) {
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
                let site = self.invoke_site();
                self.emit(Op::Invoke(n, argc, site), span);
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
                name,
                ..
            }) => {
                // The callee's slot 0, under the arguments.
                let slot_at = self.emit(Op::Nil, span);
                if let Some(p) = pre {
                    self.expr(p);
                }
                for a in args {
                    self.expr(a);
                }
                if name == "assert"
                    && pre.is_none()
                    && let Some(cond) = args.first()
                {
                    let text = self.source_text(cond.span);
                    let k = self.name_const(&text);
                    self.emit(Op::AssertSource(*g, k), cond.span);
                }
                self.emit(Op::CallGlobal(*g, argc), span);
                // `g(local op k)`: the slot's `Nil` becomes the fused call.
                if let [Op::Nil, Op::BinLK(kind, x, k), Op::CallGlobal(..)] = self.code[slot_at..] {
                    self.code[slot_at] = Op::BinLKCallGlobal(kind, x, k, *g);
                }
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
    /// For a map literal whose keys are distinct string constants (at most
    /// [`SMALL_MAP`](crate::entries::SMALL_MAP) of them): the index of its key list in
    /// `shapes`, shared with an identical earlier literal.
    fn map_shape(&mut self, entries: &[(Expr, Expr)]) -> Option<u32> {
        if entries.is_empty() || entries.len() > crate::entries::SMALL_MAP {
            return None;
        }
        let mut names: Vec<&str> = Vec::with_capacity(entries.len());
        for (k, _) in entries {
            match &k.kind {
                ExprKind::Str(s) if !names.contains(&s.as_str()) => names.push(s),
                _ => return None,
            }
        }
        let same = |shape: &Rc<[MapKey]>| {
            shape.len() == names.len()
                && shape
                    .iter()
                    .zip(&names)
                    .all(|(k, n)| matches!(k, MapKey::Str(s) if s.as_str() == *n))
        };
        if let Some(i) = self.shapes.iter().position(same) {
            return Some(i as u32);
        }
        let keys: Rc<[MapKey]> = names
            .iter()
            .map(|n| MapKey::Str(Rc::new(Str::new(n.to_string()))))
            .collect();
        self.shapes.push(keys);
        Some((self.shapes.len() - 1) as u32)
    }

    pub(super) fn pipe(&mut self, lhs: &Expr, rhs: &Expr, span: Span) {
        match &rhs.kind {
            ExprKind::Call { callee, args } => self.call(callee, Some(lhs), args, span),
            _ => self.call(rhs, Some(lhs), &[], span),
        }
    }

    pub(super) fn assign(&mut self, target: &Expr, op: AssignOp, value: &Expr, span: Span) {
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
                    self.binary_on_top(op, value, span);
                    self.set_var(res, span);
                }
                (None, res) => {
                    // `x = x + e`: x's value is read first, as written, and the sum may
                    // reuse it in place when nothing else holds it.
                    if let ExprKind::Binary(BinOp::Add, lhs, rhs) = &value.kind
                        && let ExprKind::Name(same) = &lhs.kind
                        && same.res == res
                    {
                        let set = match res {
                            Res::Local(s) if !self.is_cell(s) => Some(Op::AddSetLocal(s, true)),
                            Res::Global(g) => Some(Op::AddSetGlobal(g, true)),
                            _ => None,
                        };
                        if let Some(set) = set {
                            self.get_var(res, lhs.span);
                            self.expr(rhs);
                            self.emit(set, span);
                            return;
                        }
                    }
                    self.expr(value);
                    self.set_var(res, span);
                }
            },
            ExprKind::Field { object, name } => {
                let k = self.name_const(&name.name);
                // `local.f = e` and `local.f op= e` (`this.count += 1`): the object stays in
                // its slot. `e` cannot reassign a plain local, so reading it last is the same.
                if let Some(o) = self.plain_local(object)
                    && no_effects(value, true)
                {
                    if let Some(op) = op {
                        let site = self.field_site();
                        self.emit(Op::GetLocalField(o, k, site), name.span);
                        self.binary_on_top(op, value, span);
                    } else {
                        self.expr(value);
                    }
                    let site = self.field_site();
                    self.emit(Op::SetLocalField(o, k, site, true), span);
                    return;
                }
                self.expr(object);
                if let Some(op) = op {
                    self.emit(Op::Dup, span);
                    let site = self.field_site();
                    self.emit(Op::GetField(k, site), name.span);
                    self.binary_on_top(op, value, span);
                } else {
                    self.expr(value);
                }
                let site = self.field_site();
                self.emit(Op::SetField(k, site), span);
            }
            ExprKind::Index { object, index } => {
                if op.is_none()
                    && let Some(o) = self.plain_local(object)
                    && let Some(i) = self.plain_local(index)
                    && no_effects(value, true)
                {
                    // The index is read after the value, which cannot assign it.
                    self.expr(value);
                    self.emit(Op::SetIndexLL(o, i), span);
                    return;
                }
                if let Some(op) = op
                    && let Some(o) = self.plain_local(object)
                    && let Some(i) = self.plain_local(index)
                    && no_effects(value, true)
                {
                    // `l[i] op= v` (a histogram, a matrix row): the element is read from
                    // the two locals, then the value, the operator and the store, in the
                    // order of the general form below, without copies of `l` and `i` on
                    // the stack. The value cannot assign either local.
                    self.emit(Op::GetIndexLL(o, i), target.span);
                    self.binary_on_top(op, value, span);
                    self.emit(Op::SetIndexLL(o, i), span);
                    return;
                }
                if op.is_none()
                    && let Some(o) = self.plain_local(object)
                    && no_effects(index, true)
                    && no_effects(value, true)
                {
                    self.expr(index);
                    self.expr(value);
                    self.emit(Op::SetIndexL(o), span);
                    return;
                }
                self.expr(object);
                self.expr(index);
                if let Some(op) = op {
                    self.emit(Op::Dup2, span);
                    self.emit(Op::GetIndex, target.span);
                    self.binary_on_top(op, value, span);
                } else {
                    self.expr(value);
                }
                self.emit(Op::SetIndex(true), span);
            }
            ExprKind::List(targets) => self.destructure(targets, value, span),
            // The parser rejects other targets; evaluate the value so the stack stays even.
            _ => self.expr(value),
        }
    }

    /// `[a, o.f, l[i]] = value`: the value is evaluated (and checked) first, then each
    /// target in order, its object and index evaluated just before it is assigned. The
    /// expression's value is (a copy of) the list.
    fn destructure(&mut self, targets: &[Expr], value: &Expr, span: Span) {
        self.expr(value);
        self.emit(Op::Unpack(targets.len() as u32), span);
        for (i, target) in targets.iter().enumerate() {
            let i = i as u32;
            match &target.kind {
                ExprKind::Name(n) if n.is_skip() => continue,
                ExprKind::Name(n) => {
                    self.emit(Op::Pick(0, i), target.span);
                    self.set_var(n.res, target.span);
                }
                ExprKind::Field { object, name } => {
                    self.expr(object);
                    self.emit(Op::Pick(1, i), target.span);
                    let k = self.name_const(&name.name);
                    let site = self.field_site();
                    self.emit(Op::SetField(k, site), target.span);
                }
                ExprKind::Index { object, index } => {
                    self.expr(object);
                    self.expr(index);
                    self.emit(Op::Pick(2, i), target.span);
                    self.emit(Op::SetIndex(true), target.span);
                }
                // The parser rejects other targets.
                _ => continue,
            }
            self.emit(Op::Pop, target.span);
        }
    }

    /// `tail`: the match is the function's returned value; each arm returns on its own.
    pub(super) fn match_expr(&mut self, subject: &Expr, arms: &[MatchArm], span: Span, tail: bool) {
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

/// `-x` of a number literal `x`, as a value (`None` if `x` is not one, or is the one Int
/// whose negation overflows).
fn negated_literal(x: &Expr) -> Option<Value> {
    match x.kind {
        ExprKind::Int(i) => i.checked_neg().map(Value::Int),
        ExprKind::Float(f) => Some(Value::Float(-f)),
        _ => None,
    }
}

/// True when evaluating `e` cannot assign a variable: no assignment, block, `if`,
/// `match`, `print` or (unless `calls_ok`) call inside it. Lambdas are fine: they only
/// create a function.
pub(super) fn no_effects(e: &Expr, calls_ok: bool) -> bool {
    walia_lang::stack::guarded(|| no_effects_unguarded(e, calls_ok))
}

fn no_effects_unguarded(e: &Expr, calls_ok: bool) -> bool {
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
        ExprKind::Unary(_, x) => no_effects(x, calls_ok),
        ExprKind::Fused(_) => false,
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

pub(super) fn bin_op(op: BinOp) -> Op {
    match op {
        BinOp::Add => Op::Add,
        BinOp::Sub => Op::Sub,
        BinOp::Mul => Op::Mul,
        BinOp::Div => Op::Div,
        BinOp::Mod => Op::Mod,
        BinOp::IntDiv | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
            Op::Bin(op)
        }
        BinOp::Eq => Op::Eq,
        BinOp::Ne => Op::Ne,
        BinOp::Lt => Op::Lt,
        BinOp::Le => Op::Le,
        BinOp::Gt => Op::Gt,
        BinOp::Ge => Op::Ge,
    }
}

/// The global a plain name refers to.
pub(super) fn global_name(e: &Expr) -> Option<u32> {
    match &e.kind {
        ExprKind::Name(Name {
            res: Res::Global(g),
            ..
        }) => Some(*g),
        _ => None,
    }
}
