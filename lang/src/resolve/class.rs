//! Classes: the class name, field defaults (a hidden method) and methods, and `this`.

use super::{FnCtx, Resolver};
use crate::ast::{ClassDecl, FunKind, Res, Span};
use crate::diagnostic::Diagnostic;

impl Resolver<'_> {
    pub(super) fn class(&mut self, c: &mut ClassDecl) {
        if let Some(sup) = &mut c.superclass {
            if sup.name == c.name.name {
                self.diags.push(Diagnostic::new(
                    format!("class '{}' cannot inherit from itself", c.name.name),
                    sup.span,
                ));
            } else {
                self.resolve_name(sup);
            }
        }
        self.declare(&mut c.name);
        self.mark_assigned(c.name.res);
        self.classes.push(c.superclass.is_some());
        // Field defaults run as a hidden method with `this` in slot 0.
        self.fns.push(FnCtx::new(FunKind::Defaults));
        if let Some(scope) = self.cur().scopes.last_mut() {
            scope.push(("this".to_string(), 0));
        }
        for field in &mut c.fields {
            if let Some(d) = &mut field.default {
                self.expr(d);
            }
        }
        if let Some(ctx) = self.fns.pop() {
            c.defaults_info = ctx.info();
        }
        for m in &mut c.methods {
            let kind = m.method_kind();
            self.function(m, kind);
        }
        self.classes.pop();
    }

    pub(super) fn this_res(&mut self, span: Span, word: &str) -> Res {
        match self.lookup("this") {
            Some(res) => {
                self.cur().uses_this = true;
                res
            }
            None => {
                self.error(format!("'{word}' used outside a method"), span);
                Res::Unresolved
            }
        }
    }
}
