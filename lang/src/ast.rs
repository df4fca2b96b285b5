//! The Walia syntax tree.
//!
//! The parser builds it with every `res` field set to [`Res::Unresolved`] and every
//! [`FunInfo`] empty; the resolver (`crate::resolve`) fills those in place, so the compiler
//! never has to look a name up by string.

/// A byte range in the source text. `Copy` so that every node can carry one cheaply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The upper end the parser writes for an open-ended slice (`xs[a..]`, `xs[..]`): slicing
/// clamps any end past the length to the length, so this means "to the end".
pub const OPEN_SLICE_END: i64 = i64::MAX;

/// Where a name lives at run time; decided by the resolver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Res {
    #[default]
    Unresolved,
    /// A stack slot of the current function frame. Whether the slot holds a shared cell
    /// (because a closure captures it) is recorded per slot in [`FunInfo::cell_slots`].
    Local(u16),
    /// The n-th captured cell of the running closure.
    Upvalue(u16),
    /// A global slot (top-level `var`, `fun`, `class`, or a builtin).
    Global(u32),
}

/// An identifier occurrence: its text, span and (after resolution) where it lives.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub name: String,
    pub span: Span,
    pub res: Res,
}

impl Name {
    pub fn new(name: impl Into<String>, span: Span) -> Name {
        Name {
            name: name.into(),
            span,
            res: Res::Unresolved,
        }
    }

    /// `_` in a destructuring pattern skips its element: it declares and assigns nothing.
    pub fn is_skip(&self) -> bool {
        self.name == "_"
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub stmts: Vec<Stmt>,
    /// Filled by the resolver: slots used by top-level block-scoped locals (top-level code
    /// runs as a function frame of its own).
    pub info: FunInfo,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `var name [= init];` The `doc` is the `///` comment above it, if any.
    Var {
        name: Name,
        init: Option<Expr>,
        doc: Option<String>,
    },
    /// `var [a, b] = init;`: the value must be a List of exactly `names.len()` elements. A
    /// name `_` skips its element (see [`Name::is_skip`]).
    VarList {
        names: Vec<Name>,
        init: Expr,
    },
    /// `import "path";` at the top level: runs another file once per run (the engine
    /// compiles it; see docs/language.md "Modules").
    Import {
        path: String,
        path_span: Span,
    },
    Fun(Box<FunDecl>),
    Class(Box<ClassDecl>),
    /// An expression statement. `semicolon` is false for a final expression without `;`.
    Expr {
        expr: Expr,
        semicolon: bool,
    },
    Print(Expr),
    If {
        cond: Expr,
        then: Box<Stmt>,
        else_: Option<Box<Stmt>>,
    },
    /// `mark` (set by the resolver) is a hidden slot holding the VM stack height at loop
    /// entry: `break`/`continue` from inside an expression cut the stack back to it.
    While {
        cond: Expr,
        body: Box<Stmt>,
        mark: Res,
    },
    /// `for (var in iter)`, or `for (var, second in iter)`: then each element (a Map's
    /// entries as `[key, value]`) is destructured into the two names.
    For {
        var: Name,
        second: Option<Name>,
        iter: Expr,
        body: Box<Stmt>,
        mark: Res,
    },
    Block(Block),
    Return(Option<Expr>),
    Break,
    Continue,
    /// `test "name" { ... }`: the body runs as a function of its own (`info`, filled by the
    /// resolver).
    Test {
        name: String,
        body: Block,
        info: FunInfo,
    },
    /// A lone `;`.
    Empty,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunDecl {
    /// `None` for anonymous `fun (..)` and lambdas.
    pub name: Option<Name>,
    pub params: Vec<Name>,
    /// A block body is an [`ExprKind::Block`]; `fun f(a) a * 2;` and lambdas have any expression.
    pub body: Expr,
    /// The whole declaration, from `fun` (or the first lambda parameter) to the end of the body.
    pub span: Span,
    pub doc: Option<String>,
    /// True for `x => ...` lambdas and anonymous `fun`; such functions print as `<fun>`.
    pub anonymous: bool,
    /// Filled by the resolver.
    pub info: FunInfo,
}

/// What kind of code a function body is; the resolver and the compiler treat them alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunKind {
    Script,
    Function,
    Method,
    Init,
    Test,
    /// The hidden method that sets a class's field defaults.
    Defaults,
}

impl FunDecl {
    /// The kind of a method declared in a class: `init` is special.
    pub fn method_kind(&self) -> FunKind {
        if self.name.as_ref().is_some_and(|n| n.name == "init") {
            FunKind::Init
        } else {
            FunKind::Method
        }
    }
}

/// What the resolver learns about a function body.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FunInfo {
    /// Total stack slots the frame needs: slot 0 is the callee (or `this` in a method),
    /// then the parameters, then locals. Slots are never reused within one function.
    pub num_slots: u32,
    /// Slots that some closure captures, ascending: they hold cells, not values. Parameters
    /// among them are wrapped in cells on entry.
    pub cell_slots: Vec<u16>,
    /// What the closure captures when it is created, in upvalue order.
    pub captures: Vec<Capture>,
    /// The captured variables' names, in upvalue order (stored closures are matched to
    /// their cells by name when recompiled).
    pub capture_names: Vec<String>,
    /// True when the body (or a nested lambda) refers to `this` / `super`.
    pub uses_this: bool,
}

/// One captured variable of a closure, as seen from the enclosing function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// The enclosing frame's slot (which holds a cell).
    Local(u16),
    /// The enclosing closure's own upvalue.
    Upvalue(u16),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClassDecl {
    pub name: Name,
    pub superclass: Option<Name>,
    pub fields: Vec<FieldDecl>,
    pub methods: Vec<FunDecl>,
    /// Declared with `@sql`.
    pub sql: bool,
    pub doc: Option<String>,
    pub span: Span,
    /// Field defaults run per instance as one hidden method (`this` in slot 0); its frame
    /// layout, filled by the resolver.
    pub defaults_info: FunInfo,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Name,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    /// `~/`: floored division (Python's `//`).
    IntDiv,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    /// `>>`: arithmetic (sign-extending) shift.
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
    /// `~`: bitwise not of an Int.
    BitNot,
}

/// `=` is `None`; `+=` is `Some(BinOp::Add)`, and so on.
pub type AssignOp = Option<BinOp>;

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Name(Name),
    /// `this`; `res` points at the method's receiver slot (or an upvalue holding it).
    This(Res),
    /// `super.name`; `this_res` locates the receiver. The superclass searched is the one of
    /// the class whose method (or a lambda inside it) is running.
    Super {
        method: Name,
        this_res: Res,
    },
    List(Vec<Expr>),
    /// Keys are expressions; a bare identifier key is parsed as a string literal.
    Map(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Range(Box<Expr>, Box<Expr>),
    /// Target is a `Name`, `Field` or `Index` expression, or (with `op` `None`) a `List` of
    /// those, a destructuring assignment (the parser rejects anything else).
    Assign {
        target: Box<Expr>,
        op: AssignOp,
        value: Box<Expr>,
    },
    /// `lhs |> rhs`, kept as written; the compiler applies the first-argument rule.
    Pipe(Box<Expr>, Box<Expr>),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    Field {
        object: Box<Expr>,
        name: Name,
    },
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
    },
    /// Lambdas and anonymous `fun`.
    Function(Box<FunDecl>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Option<Box<Expr>>,
    },
    Match {
        subject: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    Block(Block),
    Fused(Box<Expr>),
    /// `print e` used as an expression (value nil).
    Print(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// A literal: number (possibly negated), string, bool or nil.
    Literal(Expr),
    /// `lo..hi`, half-open.
    Range(Expr, Expr),
    Wildcard(Span),
    /// A name binding the subject (a fresh local visible in the guard and the arm).
    Bind(Name),
}

impl ExprKind {
    /// An expression with no subexpressions: a literal, a name, `this` or `super.m`.
    pub fn is_leaf(&self) -> bool {
        matches!(
            self,
            ExprKind::Nil
                | ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Str(_)
                | ExprKind::Name(_)
                | ExprKind::This(_)
                | ExprKind::Super { .. }
        )
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

/// One arm of an `if` / `else if` chain: its condition, its branch, and the span of the
/// `if` it belongs to.
pub struct IfArm<'a, T> {
    pub cond: &'a Expr,
    pub then: &'a T,
    pub span: Span,
}

/// An `if` and its `else if` arms in order, flattened so that passes over the tree walk a
/// chain of any length with a loop (each link would otherwise be a level of recursion):
/// the arms, the final `else` branch if there is one, and the span of the last `if`.
pub struct IfChain<'a, T> {
    pub arms: Vec<IfArm<'a, T>>,
    pub last: Option<&'a T>,
    pub end: Span,
}

impl Expr {
    /// This expression as an `if` chain (no arms and itself as `last` when it is no `if`).
    pub fn if_chain(&self) -> IfChain<'_, Expr> {
        let mut chain = IfChain {
            arms: Vec::new(),
            last: Some(self),
            end: self.span,
        };
        while let Some(e) = chain.last {
            let ExprKind::If { cond, then, else_ } = &e.kind else {
                break;
            };
            chain.arms.push(IfArm {
                cond,
                then,
                span: e.span,
            });
            chain.end = e.span;
            chain.last = else_.as_deref();
        }
        chain
    }
}

impl Stmt {
    /// This statement as an `if` chain (no arms and itself as `last` when it is no `if`).
    pub fn if_chain(&self) -> IfChain<'_, Stmt> {
        let mut chain = IfChain {
            arms: Vec::new(),
            last: Some(self),
            end: self.span,
        };
        while let Some(s) = chain.last {
            let StmtKind::If { cond, then, else_ } = &s.kind else {
                break;
            };
            chain.arms.push(IfArm {
                cond,
                then,
                span: s.span,
            });
            chain.end = s.span;
            chain.last = else_.as_deref();
        }
        chain
    }
}

// Dropping a tree recurses once per level (the drop glue of each `Box`), and a legal program
// can be thousands of levels deep: each level of expressions and statements is dropped
// through the stack guard, so a deep tree drops on a small host thread too.

impl Drop for Expr {
    fn drop(&mut self) {
        if !self.kind.is_leaf() {
            let kind = std::mem::replace(&mut self.kind, ExprKind::Nil);
            crate::stack::guarded(move || drop(kind));
        }
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        if !matches!(
            self.kind,
            StmtKind::Empty | StmtKind::Break | StmtKind::Continue
        ) {
            let kind = std::mem::replace(&mut self.kind, StmtKind::Empty);
            crate::stack::guarded(move || drop(kind));
        }
    }
}
