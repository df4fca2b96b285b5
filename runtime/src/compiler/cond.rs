//! Conditions of `if`, `while` and returning `if` chains: compiled to jumps (see
//! docs/design.md, "Conditions are jumps").

use super::{FnCompiler, expr, is_comparison, small_int};
use crate::bytecode::Op;
use walia_lang::ast::*;

impl FnCompiler {
    /// Compile a condition and the jumps taken when it is false; returns them, to patch
    /// to where the false branch starts. `and`, `or` and `!` become jumps rather than
    /// values (each comparison in them a fused compare-and-jump); the short-circuit order
    /// of evaluation is the same, and truthiness decides as it would of the value.
    pub(super) fn jump_unless(&mut self, cond: &Expr) -> Vec<usize> {
        // Chains of `and`/`or` nest as deep as the parser allows: grow the stack as
        // `expr` does.
        walia_lang::stack::guarded(|| self.jump_unless_unguarded(cond))
    }

    fn jump_unless_unguarded(&mut self, cond: &Expr) -> Vec<usize> {
        match &cond.kind {
            ExprKind::And(a, b) => {
                let mut jumps = self.jump_unless(a);
                jumps.extend(self.jump_unless(b));
                jumps
            }
            ExprKind::Or(a, b) => {
                let to_body = self.jump_if(a);
                let jumps = self.jump_unless(b);
                self.patch_all(to_body);
                jumps
            }
            ExprKind::Unary(UnOp::Not, x) => self.jump_if(x),
            _ => vec![self.jump_unless_one(cond)],
        }
    }

    /// Compile a condition and the jumps taken when it is true (see `jump_unless`).
    fn jump_if(&mut self, cond: &Expr) -> Vec<usize> {
        walia_lang::stack::guarded(|| self.jump_if_unguarded(cond))
    }

    fn jump_if_unguarded(&mut self, cond: &Expr) -> Vec<usize> {
        match &cond.kind {
            ExprKind::And(a, b) => {
                let to_end = self.jump_unless(a);
                let jumps = self.jump_if(b);
                self.patch_all(to_end);
                jumps
            }
            ExprKind::Or(a, b) => {
                let mut jumps = self.jump_if(a);
                jumps.extend(self.jump_if(b));
                jumps
            }
            ExprKind::Unary(UnOp::Not, x) => self.jump_unless(x),
            // `a == b` is true exactly when `a != b` is false (and the other way round): a
            // fused compare-and-jump (`if (c == "a" or c == "e")`). Not `<` and the like:
            // with a NaN both `a < b` and `a >= b` are false.
            ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) => {
                let negated = if *op == BinOp::Eq {
                    BinOp::Ne
                } else {
                    BinOp::Eq
                };
                let flipped = Expr {
                    kind: ExprKind::Binary(negated, a.clone(), b.clone()),
                    span: cond.span,
                };
                vec![self.jump_unless_one(&flipped)]
            }
            _ => {
                self.expr(cond);
                vec![self.emit(Op::JumpIfTrue(0), cond.span)]
            }
        }
    }

    /// The constant operand of a compare-and-jump: a number, or a string literal.
    fn compared_const(&mut self, e: &Expr) -> Option<u32> {
        if let ExprKind::Str(s) = &e.kind {
            return Some(self.name_const(s));
        }
        self.numeric_const(e)
    }

    pub(super) fn patch_all(&mut self, jumps: Vec<usize>) {
        for at in jumps {
            self.patch(at);
        }
    }

    /// A condition without `and`, `or` or `!` at its top and the jump taken when it is
    /// false.
    fn jump_unless_one(&mut self, cond: &Expr) -> usize {
        if let ExprKind::Binary(op, a, b) = &cond.kind
            && is_comparison(*op)
            && let Some(x) = self.plain_local(a)
        {
            if let Some(y) = self.plain_local(b) {
                return self.emit(Op::JumpUnlessLL(*op, x, y, 0), cond.span);
            }
            if let Some(k) = small_int(b) {
                return self.emit(Op::JumpUnlessLK(*op, x, k, 0), cond.span);
            }
            if let Some(k) = self.compared_const(b) {
                return self.emit(Op::JumpUnlessLN(*op, x, k, 0), cond.span);
            }
        }
        if let ExprKind::Binary(op, a, b) = &cond.kind
            && is_comparison(*op)
        {
            if let Some(k) = small_int(b) {
                self.expr(a);
                return self.emit(Op::JumpUnlessTK(*op, k, 0), cond.span);
            }
            if let Some(k) = self.compared_const(b) {
                self.expr(a);
                return self.emit(Op::JumpUnlessTN(*op, k, 0), cond.span);
            }
            // `a` first, then the local: the order of the general form.
            if let Some(y) = self.plain_local(b) {
                self.expr(a);
                return self.emit(Op::JumpUnlessTL(*op, y, 0), cond.span);
            }
        }
        if let ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) = &cond.kind {
            // `x == nil` / `x != nil`: a tag test, with no nil pushed and no general `==`.
            let other = match (&a.kind, &b.kind) {
                (_, ExprKind::Nil) => Some(a),
                (ExprKind::Nil, _) => Some(b),
                _ => None,
            };
            if let Some(x) = other {
                if let Some(s) = self.plain_local(x) {
                    return self.emit(Op::JumpUnlessNilL(s, *op == BinOp::Eq, 0), cond.span);
                }
                self.expr(x);
                // A field of a local: the test in place goes in front of the field read
                // (where a loop's label already points). Not when a jump lands after the
                // read (`(if (c) o.a else o.b) == nil`): it would land on the moved read.
                if let Some(&Op::GetLocalField(o, k, site)) = self.code.last()
                    && (self.last_target as usize) < self.code.len()
                {
                    let at = self.code.len() - 1;
                    let span = self.spans[at];
                    self.code[at] = Op::JumpUnlessFieldNil(o, site);
                    self.code.push(Op::GetLocalField(o, k, site));
                    self.spans.push(span);
                }
                return self.emit(Op::JumpUnlessNil(*op == BinOp::Eq, 0), cond.span);
            }
        }
        if let ExprKind::Binary(op, a, b) = &cond.kind
            && is_comparison(*op)
        {
            self.expr(a);
            if let Some(g) = expr::global_name(b) {
                self.emit(Op::JumpUnlessTG(*op, g), cond.span);
            }
            self.expr(b);
            return self.emit(Op::JumpUnlessTT(*op, 0), cond.span);
        }
        self.expr(cond);
        self.emit(Op::JumpIfFalse(0), cond.span)
    }
}
