//! Checkpointed pipes (SPEC §9): the name and the definition text of each call of the
//! builtin `checkpoint_at`, settled at compile time.
//!
//! A pipe's cursor lives in the heap under its name, so the name must be known before the
//! pipe runs, and a pipe with no name is a compile error. The resolver passes both as two
//! hidden arguments by appending them to the call, so the compiler and the builtin see
//! `checkpoint_at(SRC, n, NAME, TEXT)` whichever way the call was written:
//! - NAME: the explicit name argument, else a string constant: the top-level variable (or
//!   global assigned by a top-level statement) whose value holds the call;
//! - TEXT: a string constant, the normalized source of the whole value when bound, else of
//!   the pipe ending with the call (see [`crate::fingerprint`]).

use super::Resolver;
use crate::ast::{Expr, ExprKind, Res, Span};
use crate::fingerprint::normalize;

const CHECKPOINT_AT: &str = "checkpoint_at";

/// Arguments a user writes, counting the piped-in value: the source, `n`, and an optional name.
const MIN_ARGS: usize = 2;
const MAX_ARGS: usize = 3;

/// The top-level variable whose value is being resolved.
pub(super) struct Binding {
    name: String,
    /// The value: the fingerprinted text.
    span: Span,
    /// An unnamed pipe in the value took the name already: a second one needs its own.
    taken: bool,
}

impl Binding {
    pub(super) fn new(name: &str, span: Span) -> Binding {
        Binding {
            name: name.to_string(),
            span,
            taken: false,
        }
    }
}

impl Resolver<'_> {
    /// A top-level expression statement. `name = value` names a checkpointed pipe in
    /// `value` after the global, as `var name = value` does.
    pub(super) fn top_level_expr(&mut self, e: &mut Expr) {
        let ExprKind::Assign {
            target,
            op: None,
            value,
        } = &mut e.kind
        else {
            return self.expr(e);
        };
        if !matches!(target.kind, ExprKind::Name(_)) {
            return self.expr(e);
        }
        // What `expr` does for an assignment, with the binding set around the value.
        self.expr(target);
        let ExprKind::Name(n) = &target.kind else {
            return;
        };
        self.mark_assigned(n.res);
        if matches!(n.res, Res::Global(_)) {
            self.binding = Some(Binding::new(&n.name, value.span));
        }
        self.expr(value);
        self.binding = None;
    }

    /// Is `callee` (resolved) the builtin `checkpoint_at`, not a local or a function of the
    /// program's own with that name?
    pub(super) fn is_checkpoint_builtin(&self, callee: &Expr) -> bool {
        matches!(&callee.kind, ExprKind::Name(n)
            if n.name == CHECKPOINT_AT
                && matches!(n.res, Res::Global(_))
                && !self.top_level.contains(CHECKPOINT_AT)
                && self.known.is_known(CHECKPOINT_AT))
    }

    /// The right side `b` of the pipe `... |> b` (spanning `pipe_span`), when it calls
    /// `checkpoint_at`: resolved here (and its arguments completed). False when `b` is any
    /// other expression, which the caller resolves.
    pub(super) fn checkpoint_pipe(&mut self, b: &mut Expr, pipe_span: Span) -> bool {
        let call_span = b.span;
        if matches!(&b.kind, ExprKind::Name(n) if n.name == CHECKPOINT_AT) {
            // `xs |> checkpoint_at` is `checkpoint_at(xs)`: no `n`.
            self.expr(b);
            if self.is_checkpoint_builtin(b) {
                self.checkpoint_arity_error(1, call_span);
            }
            return true;
        }
        let ExprKind::Call { callee, args } = &mut b.kind else {
            return false;
        };
        if !matches!(&callee.kind, ExprKind::Name(n) if n.name == CHECKPOINT_AT) {
            return false;
        }
        self.expr(callee);
        for a in args.iter_mut() {
            self.expr(a);
        }
        if self.is_checkpoint_builtin(callee) {
            self.checkpoint_args(args, true, call_span, pipe_span);
        }
        true
    }

    /// Complete the (resolved) arguments of a `checkpoint_at` call to `[.., n, NAME, TEXT]`,
    /// or report why they cannot be. `piped`: the source comes from `|>`, not `args`.
    /// `call_span` is the call's own, `pipe_span` the pipe ending with it.
    pub(super) fn checkpoint_args(
        &mut self,
        args: &mut Vec<Expr>,
        piped: bool,
        call_span: Span,
        pipe_span: Span,
    ) {
        let given = args.len() + usize::from(piped);
        if !(MIN_ARGS..=MAX_ARGS).contains(&given) {
            // As the builtin's own arity check words it, but before the hidden arguments
            // are added (with them a fourth user argument would pass for the text).
            self.checkpoint_arity_error(given, call_span);
            return;
        }
        let text_span = self.binding.as_ref().map_or(pipe_span, |b| b.span);
        if given == MIN_ARGS {
            let name = match &mut self.binding {
                Some(b) if !b.taken => {
                    b.taken = true;
                    b.name.clone()
                }
                Some(b) => {
                    let msg = format!(
                        "a checkpointed pipe needs a name: '{}' names another one already; \
                         name it: checkpoint_at(n, \"name\")",
                        b.name
                    );
                    self.error(msg, call_span);
                    return;
                }
                None => {
                    self.error(
                        "a checkpointed pipe needs a name: bind it to a top-level variable, \
                         or name it: checkpoint_at(n, \"name\")",
                        call_span,
                    );
                    return;
                }
            };
            args.push(Expr::new(ExprKind::Str(name), call_span));
        }
        let text = normalize(self.src.get(text_span.range()).unwrap_or(""));
        args.push(Expr::new(ExprKind::Str(text), text_span));
    }

    fn checkpoint_arity_error(&mut self, given: usize, span: Span) {
        self.error(
            format!("'{CHECKPOINT_AT}' expects {MIN_ARGS} to {MAX_ARGS} arguments but got {given}"),
            span,
        );
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
