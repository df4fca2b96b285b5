//! Name resolution: assigns every name a stack slot, captured cell or global slot, checks
//! that every name is declared and every keyword is in its place, and records each
//! function's frame layout in its [`FunInfo`]. All errors are collected.

use crate::ast::*;
use crate::diagnostic::{Diagnostic, did_you_mean};
use std::collections::HashSet;

mod checkpoint;
mod class;
mod frame;
use checkpoint::Binding;
use frame::FnCtx;

pub use crate::check::{parse_and_resolve, parse_and_resolve_with};
pub use crate::globals::{GlobalNames, KnownGlobals};

/// Slots are addressed by u16: slot 0 (the callee) plus 65,535 parameters and locals.
const SLOT_LIMIT: u32 = u16::MAX as u32 + 1;

/// The longest name of a global (or of a table) in bytes: the heap stores each under a key
/// of one prefix byte and the name, and keys are at most 512 bytes (the runtime checks that
/// the two limits agree).
pub const MAX_GLOBAL_NAME: usize = 511;

/// Functions and blocks nested more deeply than this are a compile error (SPEC §5: the
/// limit counts brackets, blocks and functions together; the parser checks brackets).
const MAX_NESTING: usize = 256;

struct Resolver<'g> {
    /// The program's source text (checkpointed pipes keep the text of their definition).
    src: &'g str,
    globals: &'g mut GlobalNames,
    known: &'g dyn KnownGlobals,
    fns: Vec<FnCtx>,
    /// For each enclosing class: does it have a superclass?
    classes: Vec<bool>,
    /// Top-level vars declared so far (top-level code may not read a var before it).
    declared: HashSet<String>,
    /// Every top-level name the program declares (visible inside function bodies).
    top_level: HashSet<String>,
    /// Top-level `fun` and `class` names (visible everywhere in the file).
    hoisted: HashSet<String>,
    diags: Vec<Diagnostic>,
    /// The nesting limit was reported (once per program).
    too_deep: bool,
    /// The top-level variable whose value is being resolved, which names a checkpointed
    /// pipe in it that has no name of its own.
    binding: Option<Binding>,
}

/// Resolve `program` (parsed from `src`) in place. Returns every error found (empty on
/// success).
pub fn resolve(
    program: &mut Program,
    src: &str,
    globals: &mut GlobalNames,
    known: &dyn KnownGlobals,
) -> Vec<Diagnostic> {
    let mut r = Resolver {
        src,
        globals,
        known,
        fns: vec![FnCtx::new(FunKind::Script)],
        classes: Vec::new(),
        declared: HashSet::new(),
        top_level: HashSet::new(),
        hoisted: HashSet::new(),
        diags: Vec::new(),
        too_deep: false,
        binding: None,
    };
    for stmt in &program.stmts {
        match &stmt.kind {
            StmtKind::Var { name, .. } => {
                r.top_level.insert(name.name.clone());
                r.globals.intern(&name.name);
            }
            StmtKind::VarList { names, .. } => {
                for n in names.iter().filter(|n| !n.is_skip()) {
                    r.top_level.insert(n.name.clone());
                    r.globals.intern(&n.name);
                }
            }
            StmtKind::Fun(f) => {
                if let Some(n) = &f.name {
                    r.top_level.insert(n.name.clone());
                    r.hoisted.insert(n.name.clone());
                    r.globals.intern(&n.name);
                }
            }
            StmtKind::Class(c) => {
                r.top_level.insert(c.name.name.clone());
                r.hoisted.insert(c.name.name.clone());
                r.globals.intern(&c.name.name);
            }
            _ => {}
        }
    }
    for stmt in &mut program.stmts {
        r.stmt(stmt);
    }
    let script = r.fns.pop().map(FnCtx::info).unwrap_or_default();
    if script.num_slots > SLOT_LIMIT {
        r.error("too many local variables in one function", Span::default());
    }
    program.info = script;
    r.diags
}

impl Resolver<'_> {
    fn error(&mut self, msg: impl Into<String>, span: Span) {
        self.diags.push(Diagnostic::new(msg, span));
    }

    fn cur(&mut self) -> &mut FnCtx {
        let last = self.fns.len() - 1;
        &mut self.fns[last]
    }

    fn at_top_level(&self) -> bool {
        self.fns.len() == 1 && self.fns[0].scopes.len() == 1
    }

    fn declare_local(&mut self, name: &str) -> u16 {
        let f = self.cur();
        // Past the limit every name shares the last slot; the function is reported.
        let slot = f.next_slot.min(u16::MAX as u32) as u16;
        f.next_slot = (f.next_slot + 1).min(SLOT_LIMIT + 1);
        if let Some(scope) = f.scopes.last_mut() {
            scope.push((name.to_string(), slot));
        }
        slot
    }

    /// Declare a variable at the current point: a global at the top level, else a local.
    fn declare(&mut self, name: &mut Name) {
        if self.at_top_level() {
            if name.name.len() > MAX_GLOBAL_NAME {
                self.error(
                    format!(
                        "the name of a global is at most {MAX_GLOBAL_NAME} bytes; this one is {}",
                        name.name.len()
                    ),
                    name.span,
                );
            }
            name.res = Res::Global(self.globals.intern(&name.name));
            self.declared.insert(name.name.clone());
        } else {
            name.res = Res::Local(self.declare_local(&name.name));
        }
    }

    fn begin_scope(&mut self) {
        self.cur().scopes.push(Vec::new());
    }

    fn end_scope(&mut self) {
        self.cur().scopes.pop();
    }

    fn find_in(&mut self, depth: usize, name: &str) -> Option<Res> {
        for scope in self.fns[depth].scopes.iter().rev() {
            if let Some((_, slot)) = scope.iter().rev().find(|(n, _)| n == name) {
                return Some(Res::Local(*slot));
            }
        }
        if depth == 0 {
            return None;
        }
        let res = self.find_in(depth - 1, name)?;
        let capture = match res {
            Res::Local(slot) => {
                self.fns[depth - 1].cells.insert(slot);
                Capture::Local(slot)
            }
            Res::Upvalue(i) => Capture::Upvalue(i),
            _ => return None,
        };
        let f = &mut self.fns[depth];
        if let Some(i) = f.captures.iter().position(|c| *c == capture) {
            return Some(Res::Upvalue(i as u16));
        }
        f.captures.push(capture);
        f.capture_names.push(name.to_string());
        Some(Res::Upvalue((f.captures.len() - 1) as u16))
    }

    /// Note that the variable `res` (resolved in the innermost function) is written after
    /// its declaration: in the function that declares it, following captures outwards.
    fn mark_assigned(&mut self, res: Res) {
        let mut depth = self.fns.len() - 1;
        let mut res = res;
        loop {
            match res {
                Res::Local(slot) => {
                    self.fns[depth].assigned.insert(slot);
                    return;
                }
                Res::Upvalue(i) if depth > 0 => {
                    res = match self.fns[depth].captures.get(i as usize) {
                        Some(Capture::Local(slot)) => Res::Local(*slot),
                        Some(Capture::Upvalue(j)) => Res::Upvalue(*j),
                        None => return,
                    };
                    depth -= 1;
                }
                _ => return,
            }
        }
    }

    fn lookup(&mut self, name: &str) -> Option<Res> {
        let depth = self.fns.len() - 1;
        self.find_in(depth, name)
    }

    fn resolve_name(&mut self, name: &mut Name) {
        if let Some(res) = self.lookup(&name.name) {
            name.res = res;
            return;
        }
        let in_function = self.fns.len() > 1;
        let visible = self.known.is_known(&name.name)
            || self.hoisted.contains(&name.name)
            || self.declared.contains(&name.name)
            || (in_function && self.top_level.contains(&name.name));
        if visible {
            name.res = Res::Global(self.globals.intern(&name.name));
            return;
        }
        let mut msg = if self.top_level.contains(&name.name) {
            format!("'{}' is used before its declaration", name.name)
        } else {
            format!("undefined variable '{}'", name.name)
        };
        let hint = crate::habits::name_hint(&name.name);
        if !self.top_level.contains(&name.name) && hint.is_none() {
            // The script's own names first: a typo is likelier to be of those than of a builtin.
            let (own, builtins) = self.visible_names();
            let suggestion = did_you_mean(&name.name, own.iter().map(|s| s.as_str()))
                .or_else(|| did_you_mean(&name.name, builtins.iter().map(|s| s.as_str())));
            if let Some(s) = suggestion {
                msg = format!("{msg}; did you mean '{s}'?");
            }
        }
        let mut d = Diagnostic::new(msg, name.span).with_label("not declared");
        if let Some(hint) = hint {
            d = d.with_hint(hint);
        }
        self.diags.push(d);
    }

    /// Names a typo could have meant: the program's own, then the known globals.
    fn visible_names(&self) -> (Vec<String>, Vec<String>) {
        let mut own: Vec<String> = Vec::new();
        for f in &self.fns {
            for scope in &f.scopes {
                own.extend(scope.iter().map(|(n, _)| n.clone()));
            }
        }
        own.extend(self.declared.iter().cloned());
        own.extend(self.hoisted.iter().cloned());
        let known = self
            .globals
            .iter()
            .filter(|(_, n)| self.known.is_known(n))
            .map(|(_, n)| n.to_string())
            .collect();
        (own, known)
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        // A statement inside a top-level variable's value (in a block) is not that value:
        // a checkpointed pipe there is not named after the variable.
        let outer = self.binding.take();
        crate::stack::guarded(|| self.stmt_unguarded(stmt));
        self.binding = outer;
    }

    fn stmt_unguarded(&mut self, stmt: &mut Stmt) {
        let span = stmt.span;
        match &mut stmt.kind {
            StmtKind::Var { name, init, .. } => {
                if self.at_top_level() {
                    // Inside its own initializer a top-level var denotes its current value.
                    self.declare(name);
                    if let Some(e) = init {
                        self.binding = Some(Binding::new(&name.name, e.span));
                        self.expr(e);
                        self.binding = None;
                    }
                } else {
                    if let Some(e) = init {
                        self.expr(e);
                    }
                    self.declare(name);
                }
            }
            StmtKind::VarList { names, init } => {
                // The value first: `var [a, b] = [b, a];` reads the outer `a` and `b`.
                self.expr(init);
                for name in names.iter_mut().filter(|n| !n.is_skip()) {
                    self.declare(name);
                }
            }
            StmtKind::Import { .. } => {
                if !self.at_top_level() {
                    self.error("'import' is only allowed at the top level of a file", span);
                }
            }
            StmtKind::Fun(f) => {
                if let Some(name) = &mut f.name {
                    self.declare(name);
                    self.mark_assigned(name.res);
                }
                self.function(f, FunKind::Function);
            }
            StmtKind::Class(c) => self.class(c),
            StmtKind::Expr { expr, .. } if self.at_top_level() => self.top_level_expr(expr),
            StmtKind::Expr { expr, .. } | StmtKind::Print(expr) => self.expr(expr),
            StmtKind::If { cond, then, else_ } => {
                self.expr(cond);
                self.scoped_stmt(then);
                // An `else if` chain is a sequence, not nesting: a loop, and no scope per
                // link (an `if` declares nothing where it stands), so a function in its
                // 300th arm is not "nested too deep".
                let mut next = else_.as_deref_mut();
                while let Some(e) = next {
                    if !matches!(e.kind, StmtKind::If { .. }) {
                        self.scoped_stmt(e);
                        break;
                    }
                    let StmtKind::If { cond, then, else_ } = &mut e.kind else {
                        break;
                    };
                    self.expr(cond);
                    self.scoped_stmt(then);
                    next = else_.as_deref_mut();
                }
            }
            StmtKind::While { cond, body, mark } => {
                *mark = Res::Local(self.declare_local(" mark"));
                self.expr(cond);
                self.cur().loop_depth += 1;
                self.scoped_stmt(body);
                self.cur().loop_depth -= 1;
            }
            StmtKind::For {
                var,
                second,
                iter,
                body,
                mark,
            } => {
                self.expr(iter);
                *mark = Res::Local(self.declare_local(" mark"));
                self.begin_scope();
                // Two hidden slots hold the iteration's state (a counted loop's position
                // and end, or an iterator); the loop variable takes the next slot (the
                // compiler relies on that order).
                self.declare_local(" iter");
                self.declare_local(" end");
                var.res = Res::Local(self.declare_local(&var.name));
                if let Some(second) = second {
                    if second.name == var.name && !var.is_skip() {
                        self.error(
                            format!("'{}' appears twice in one destructuring", second.name),
                            second.span,
                        );
                    }
                    second.res = Res::Local(self.declare_local(&second.name));
                }
                self.cur().loop_depth += 1;
                self.scoped_stmt(body);
                self.cur().loop_depth -= 1;
                self.end_scope();
            }
            StmtKind::Block(b) => self.block(b),
            StmtKind::Return(value) => {
                let kind = self.cur().kind;
                match kind {
                    FunKind::Script => self.error("'return' outside a function", span),
                    FunKind::Init if value.is_some() => {
                        self.error("'init' cannot return a value", span)
                    }
                    _ => {}
                }
                if let Some(v) = value {
                    self.expr(v);
                }
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.cur().loop_depth == 0 {
                    let word = if matches!(stmt.kind, StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(format!("'{word}' outside a loop"), span);
                }
            }
            StmtKind::Test { body, info, .. } => {
                self.fns.push(FnCtx::new(FunKind::Test));
                for s in &mut body.stmts {
                    self.stmt(s);
                }
                if let Some(f) = self.fns.pop() {
                    *info = f.info();
                }
            }
            StmtKind::Empty => {}
        }
    }

    /// The body of `if`/`while`/`for` gets a scope of its own.
    fn scoped_stmt(&mut self, stmt: &mut Stmt) {
        self.begin_scope();
        self.stmt(stmt);
        self.end_scope();
    }

    fn block(&mut self, block: &mut Block) {
        self.begin_scope();
        for s in &mut block.stmts {
            self.stmt(s);
        }
        self.end_scope();
    }

    fn function(&mut self, f: &mut FunDecl, kind: FunKind) {
        if f.params.len() > u16::MAX as usize {
            self.error("too many parameters (at most 65535)", f.span);
        }
        let nesting: usize = self.fns.iter().map(|f| f.scopes.len()).sum();
        if nesting >= MAX_NESTING && !self.too_deep {
            self.too_deep = true;
            self.error(
                format!("nesting too deep: more than {MAX_NESTING} levels of blocks and functions"),
                f.span,
            );
        }
        // A pipe in a function body is built on each call: no variable of the top level names it.
        let outer = self.binding.take();
        self.fns.push(FnCtx::new(kind));
        if matches!(kind, FunKind::Method | FunKind::Init)
            && let Some(scope) = self.cur().scopes.last_mut()
        {
            scope.push(("this".to_string(), 0));
        }
        let mut seen = HashSet::new();
        for p in &mut f.params {
            if !seen.insert(p.name.clone()) {
                self.diags.push(Diagnostic::new(
                    format!("duplicate parameter '{}'", p.name),
                    p.span,
                ));
            }
            p.res = Res::Local(self.declare_local(&p.name));
        }
        match &mut f.body.kind {
            // The body block shares the parameters' scope level (a redeclaration shadows).
            ExprKind::Block(b) => {
                for s in &mut b.stmts {
                    self.stmt(s);
                }
            }
            _ => self.expr(&mut f.body),
        }
        if let Some(ctx) = self.fns.pop() {
            if ctx.next_slot > SLOT_LIMIT {
                self.error("too many local variables in one function", f.span);
            }
            f.info = ctx.info();
        }
        self.binding = outer;
    }

    fn expr(&mut self, e: &mut Expr) {
        crate::stack::guarded(|| self.expr_unguarded(e));
    }

    fn expr_unguarded(&mut self, e: &mut Expr) {
        let span = e.span;
        match &mut e.kind {
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_) => {}
            ExprKind::Name(n) => self.resolve_name(n),
            ExprKind::This(res) => *res = self.this_res(span, "this"),
            ExprKind::Super { this_res, .. } => {
                match self.classes.last() {
                    None => self.error("'super' used outside a method", span),
                    Some(false) => self.error("'super' used in a class without a superclass", span),
                    Some(true) => {}
                }
                if !self.classes.is_empty() {
                    *this_res = self.this_res(span, "super");
                }
            }
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i);
                }
            }
            ExprKind::Map(entries) => {
                for (k, v) in entries {
                    self.expr(k);
                    self.expr(v);
                }
            }
            ExprKind::Unary(_, x) | ExprKind::Fused(x) | ExprKind::Print(x) => self.expr(x),
            ExprKind::Pipe(a, b) => {
                // The piped value is one more argument of the call on the right.
                if let ExprKind::Call { args, .. } = &b.kind
                    && args.len() >= u16::MAX as usize
                {
                    self.error("too many arguments (at most 65535)", span);
                }
                self.expr(a);
                if !self.checkpoint_pipe(b, span) {
                    self.expr(b);
                }
            }
            ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Range(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Assign { target, value, .. } if matches!(target.kind, ExprKind::List(_)) => {
                let ExprKind::List(targets) = &mut target.kind else {
                    return;
                };
                for t in targets.iter_mut() {
                    match &mut t.kind {
                        ExprKind::Name(n) if n.is_skip() => {}
                        ExprKind::Name(n) => {
                            self.resolve_name(n);
                            self.mark_assigned(n.res);
                        }
                        _ => self.expr(t),
                    }
                }
                self.expr(value);
            }
            ExprKind::Assign { target, value, .. } => {
                self.expr(target);
                if let ExprKind::Name(n) = &target.kind {
                    self.mark_assigned(n.res);
                }
                self.expr(value);
            }
            ExprKind::Call { callee, args } => {
                if args.len() > u16::MAX as usize {
                    self.error("too many arguments (at most 65535)", span);
                }
                self.expr(callee);
                for a in args.iter_mut() {
                    self.expr(a);
                }
                if self.is_checkpoint_builtin(callee) {
                    self.checkpoint_args(args, false, span, span);
                }
            }
            ExprKind::Field { object, .. } => self.expr(object),
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
            }
            ExprKind::Function(f) => self.function(f, FunKind::Function),
            ExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                self.scoped_expr(then);
                // An `else if` chain: a loop, as for the statement.
                let mut next = else_.as_deref_mut();
                while let Some(e) = next {
                    if !matches!(e.kind, ExprKind::If { .. }) {
                        self.scoped_expr(e);
                        break;
                    }
                    let ExprKind::If { cond, then, else_ } = &mut e.kind else {
                        break;
                    };
                    self.expr(cond);
                    self.scoped_expr(then);
                    next = else_.as_deref_mut();
                }
            }
            ExprKind::Match { subject, arms } => {
                self.expr(subject);
                for arm in arms {
                    self.begin_scope();
                    match &mut arm.pattern {
                        Pattern::Literal(l) => self.expr(l),
                        Pattern::Range(a, b) => {
                            self.expr(a);
                            self.expr(b);
                        }
                        Pattern::Wildcard(_) => {}
                        Pattern::Bind(n) => n.res = Res::Local(self.declare_local(&n.name)),
                    }
                    if let Some(g) = &mut arm.guard {
                        self.expr(g);
                    }
                    self.expr(&mut arm.body);
                    self.end_scope();
                }
            }
            ExprKind::Block(b) => self.block(b),
        }
    }

    fn scoped_expr(&mut self, e: &mut Expr) {
        self.begin_scope();
        self.expr(e);
        self.end_scope();
    }
}
