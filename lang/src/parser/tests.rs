//! Parser tests: tree shapes through an S-expression printer, every error path, recovery,
//! depth limits and robustness.

use super::*;
use crate::ast::*;

// ---- S-expression printer ----------------------------------------------------------------

fn binop(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::IntDiv => "~/",
        BinOp::BitAnd => "&",
        BinOp::BitOr => "|",
        BinOp::BitXor => "^",
        BinOp::Shl => "<<",
        BinOp::Shr => ">>",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
    }
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(" ")
}

fn fun(f: &FunDecl) -> String {
    let params = list(&f.params, |p| p.name.clone());
    match &f.name {
        Some(n) => format!("(fun {} ({params}) {})", n.name, ex(&f.body)),
        None => format!("(fn ({params}) {})", ex(&f.body)),
    }
}

fn pat(p: &Pattern) -> String {
    match p {
        Pattern::Literal(e) => ex(e),
        Pattern::Range(a, b) => format!("{}..{}", ex(a), ex(b)),
        Pattern::Wildcard(_) => "_".into(),
        Pattern::Bind(n) => format!("${}", n.name),
    }
}

fn block(b: &Block) -> String {
    let mut s = String::from("{");
    for st in &b.stmts {
        s.push(' ');
        s.push_str(&stmt(st));
    }
    s.push_str(" }");
    s
}

pub(super) fn ex(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Nil => "nil".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Name(n) => n.name.clone(),
        ExprKind::This(_) => "this".into(),
        ExprKind::Super { method, .. } => format!("(super {})", method.name),
        ExprKind::List(items) => format!("[{}]", list(items, ex)),
        ExprKind::Map(entries) => format!(
            "{{{}}}",
            list(entries, |(k, v)| format!("{}: {}", ex(k), ex(v)))
        ),
        ExprKind::Unary(op, e) => format!(
            "({} {})",
            match op {
                UnOp::Neg => "neg",
                UnOp::Not => "not",
                UnOp::BitNot => "bitnot",
            },
            ex(e)
        ),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", binop(*op), ex(a), ex(b)),
        ExprKind::And(a, b) => format!("(and {} {})", ex(a), ex(b)),
        ExprKind::Or(a, b) => format!("(or {} {})", ex(a), ex(b)),
        ExprKind::Range(a, b) => format!("(.. {} {})", ex(a), ex(b)),
        ExprKind::Assign { target, op, value } => {
            format!("({}= {} {})", op.map_or("", binop), ex(target), ex(value))
        }
        ExprKind::Pipe(a, b) => format!("(|> {} {})", ex(a), ex(b)),
        ExprKind::Call { callee, args } => {
            if args.is_empty() {
                format!("(call {})", ex(callee))
            } else {
                format!("(call {} {})", ex(callee), list(args, ex))
            }
        }
        ExprKind::Field { object, name } => format!("(. {} {})", ex(object), name.name),
        ExprKind::Index { object, index } => format!("(idx {} {})", ex(object), ex(index)),
        ExprKind::Function(f) => fun(f),
        ExprKind::If { cond, then, else_ } => match else_ {
            Some(e) => format!("(if {} {} {})", ex(cond), ex(then), ex(e)),
            None => format!("(if {} {})", ex(cond), ex(then)),
        },
        ExprKind::Match { subject, arms } => format!(
            "(match {} {})",
            ex(subject),
            list(arms, |a| match &a.guard {
                Some(g) => format!("({} if {} => {})", pat(&a.pattern), ex(g), ex(&a.body)),
                None => format!("({} => {})", pat(&a.pattern), ex(&a.body)),
            })
        ),
        ExprKind::Block(b) => block(b),
        ExprKind::Fused(e) => format!("(fused {})", ex(e)),
        ExprKind::Print(e) => format!("(print {})", ex(e)),
    }
}

pub(super) fn stmt(s: &Stmt) -> String {
    match &s.kind {
        StmtKind::Var { name, init, .. } => match init {
            Some(e) => format!("(var {} {})", name.name, ex(e)),
            None => format!("(var {})", name.name),
        },
        StmtKind::Fun(f) => fun(f),
        StmtKind::Class(c) => {
            let mut out = format!("(class {}", c.name.name);
            if c.sql {
                out = format!("(@sql class {}", c.name.name);
            }
            if let Some(s) = &c.superclass {
                out += &format!(" < {}", s.name);
            }
            for f in &c.fields {
                match &f.default {
                    Some(d) => out += &format!(" (field {} {})", f.name.name, ex(d)),
                    None => out += &format!(" (field {})", f.name.name),
                }
            }
            for m in &c.methods {
                out += &format!(" {}", fun(m));
            }
            out + ")"
        }
        StmtKind::Expr { expr, semicolon } => {
            if *semicolon {
                format!("{};", ex(expr))
            } else {
                ex(expr)
            }
        }
        StmtKind::Print(e) => format!("(print! {})", ex(e)),
        StmtKind::If { cond, then, else_ } => match else_ {
            Some(e) => format!("(if! {} {} {})", ex(cond), stmt(then), stmt(e)),
            None => format!("(if! {} {})", ex(cond), stmt(then)),
        },
        StmtKind::While { cond, body, .. } => format!("(while {} {})", ex(cond), stmt(body)),
        StmtKind::For {
            var,
            second: None,
            iter,
            body,
            ..
        } => {
            format!("(for {} {} {})", var.name, ex(iter), stmt(body))
        }
        StmtKind::For {
            var,
            second: Some(second),
            iter,
            body,
            ..
        } => {
            format!(
                "(for {} {} {} {})",
                var.name,
                second.name,
                ex(iter),
                stmt(body)
            )
        }
        StmtKind::Block(b) => block(b),
        StmtKind::Return(e) => match e {
            Some(e) => format!("(return {})", ex(e)),
            None => "(return)".into(),
        },
        StmtKind::Break => "break".into(),
        StmtKind::Continue => "continue".into(),
        StmtKind::Test { name, body, .. } => format!("(test {name:?} {})", block(body)),
        StmtKind::VarList { names, init } => {
            let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            format!("(var [{}] {})", names.join(" "), ex(init))
        }
        StmtKind::Import { path, .. } => format!("(import {path:?})"),
        StmtKind::Empty => "empty".into(),
    }
}

// ---- helpers ------------------------------------------------------------------------------

/// Parses successfully and prints the statements, one per line.
#[track_caller]
fn ok(src: &str) -> String {
    let (prog, diags) = parse(src);
    assert!(diags.is_empty(), "{src:?} gave errors: {diags:#?}");
    prog.stmts.iter().map(stmt).collect::<Vec<_>>().join("\n")
}

/// Parses a single expression statement and prints its expression.
#[track_caller]
fn e(src: &str) -> String {
    let (prog, diags) = parse(src);
    assert!(diags.is_empty(), "{src:?} gave errors: {diags:#?}");
    assert_eq!(prog.stmts.len(), 1, "{src:?}");
    match &prog.stmts[0].kind {
        StmtKind::Expr { expr, .. } => ex(expr),
        other => panic!("not an expression statement: {other:?}"),
    }
}

/// The diagnostics as (message, span text).
#[track_caller]
fn errs(src: &str) -> Vec<(String, String)> {
    let (_, diags) = parse(src);
    diags
        .iter()
        .map(|d| {
            (
                d.message.clone(),
                src.get(d.span.range()).unwrap_or("<bad span>").to_string(),
            )
        })
        .collect()
}

#[track_caller]
fn err1(src: &str) -> (String, String) {
    let mut v = errs(src);
    assert_eq!(v.len(), 1, "{src:?}: {v:?}");
    v.remove(0)
}

/// The only diagnostic as (message, where its span starts, its span's length).
#[track_caller]
fn err1_at(src: &str) -> (String, usize, usize) {
    let (_, diags) = parse(src);
    assert_eq!(diags.len(), 1, "{src:?}: {diags:?}");
    let d = &diags[0];
    (
        d.message.clone(),
        d.span.start as usize,
        d.span.range().len(),
    )
}

fn first_expr(src: &str) -> Expr {
    let (prog, diags) = parse(src);
    assert!(diags.is_empty(), "{diags:?}");
    match prog.stmts.first().map(|s| &s.kind) {
        Some(StmtKind::Expr { expr, .. }) => expr.clone(),
        other => panic!("{other:?}"),
    }
}

fn text(src: &str, span: Span) -> &str {
    &src[span.range()]
}

// ---- expressions --------------------------------------------------------------------------

#[test]
fn literals() {
    assert_eq!(e("42;"), "42");
    assert_eq!(e("1_000;"), "1000");
    assert_eq!(e("0x1F;"), "31");
    assert_eq!(e("2.5e-3;"), "0.0025");
    assert_eq!(e(r#""a\nb";"#), r#""a\nb""#);
    assert_eq!(e("true;"), "true");
    assert_eq!(e("nil;"), "nil");
    assert_eq!(e("this;"), "this");
    assert_eq!(e("-9223372036854775808;"), "-9223372036854775808");
    assert_eq!(e("- -9223372036854775808;"), "(neg -9223372036854775808)");
    assert_eq!(e("123.abs();"), "(call (. 123 abs))");
    assert_eq!(e("1..5;"), "(.. 1 5)");
    assert_eq!(
        e("index + init + item + format;"),
        "(+ (+ (+ index init) item) format)"
    );
}

#[test]
fn precedence() {
    assert_eq!(e("1 + 2 * 3;"), "(+ 1 (* 2 3))");
    assert_eq!(e("(1 + 2) * 3;"), "(* (+ 1 2) 3)");
    assert_eq!(e("1 - 2 - 3;"), "(- (- 1 2) 3)");
    assert_eq!(e("-1 - -2;"), "(- (neg 1) (neg 2))");
    assert_eq!(e("!a == b;"), "(== (not a) b)");
    assert_eq!(e("a or b and c == d < e;"), "(or a (and b (== c (< d e))))");
    assert_eq!(e("0..n + 1;"), "(.. 0 (+ n 1))");
    assert_eq!(e("a < b..c;"), "(< a (.. b c))");
    assert_eq!(e("a % b / c * d;"), "(* (/ (% a b) c) d)");
    assert_eq!(e("x |> f or g;"), "(|> x (or f g))");
    assert_eq!(
        e("xs |> filter(x => x > 1) |> sum;"),
        "(|> (|> xs (call filter (fn (x) (> x 1)))) sum)"
    );
    assert_eq!(e("a = b = c;"), "(= a (= b c))");
    assert_eq!(e("a += b |> f;"), "(+= a (|> b f))");
    assert_eq!(e("a.b -= 1;"), "(-= (. a b) 1)");
    assert_eq!(e("a[i] *= 2;"), "(*= (idx a i) 2)");
    assert_eq!(e("(a).b /= 2;"), "(/= (. a b) 2)");
    assert_eq!(e("-a.b(c)[d];"), "(neg (idx (call (. a b) c) d))");
    assert_eq!(e("f(a)(b);"), "(call (call f a) b)");
    assert_eq!(e("f(a, b,);"), "(call f a b)");
    assert_eq!(e("x.in + x.test;"), "(+ (. x in) (. x test))");
}

#[test]
fn bit_operator_precedence() {
    // Python's order: `x & 1 == 0` is `(x & 1) == 0`.
    assert_eq!(e("x & 1 == 0;"), "(== (& x 1) 0)");
    assert_eq!(e("a | b ^ c & d;"), "(| a (^ b (& c d)))");
    assert_eq!(e("a < b | c;"), "(< a (| b c))");
    assert_eq!(e("1 << 2 + 3;"), "(<< 1 (+ 2 3))");
    assert_eq!(e("a & b << c;"), "(& a (<< b c))");
    assert_eq!(e("a >> 1..n;"), "(>> a (.. 1 n))");
    assert_eq!(e("a ~/ b * c;"), "(* (~/ a b) c)");
    assert_eq!(e("a + b ~/ c;"), "(+ a (~/ b c))");
    assert_eq!(e("~a + -~b;"), "(+ (bitnot a) (neg (bitnot b)))");
    assert_eq!(e("x |> f | g;"), "(|> x (| f g))");
}

#[test]
fn collections() {
    assert_eq!(e("[];"), "[]");
    assert_eq!(e("[1, [2], 3,];"), "[1 [2] 3]");
    assert_eq!(e("x = {};"), "(= x {})");
    assert_eq!(
        e(r#"x = {name: "Ann", "two words": 2, 3: true, -1: 0, 1.5: nil, test: 1, true: 2,};"#),
        r#"(= x {"name": "Ann" "two words": 2 3: true -1: 0 1.5: nil "test": 1 true: 2})"#
    );
    assert_eq!(e("f({a: {b: 1}});"), r#"(call f {"a": {"b": 1}})"#);
    assert_eq!(e("x = { 1 };"), "(= x { 1 })");
    assert_eq!(e("x = { a; b };"), "(= x { a; b })");
}

#[test]
fn lambdas_and_functions() {
    assert_eq!(e("x => x * 2;"), "(fn (x) (* x 2))");
    assert_eq!(e("(a, b) => a + b;"), "(fn (a b) (+ a b))");
    assert_eq!(e("() => 1;"), "(fn () 1)");
    assert_eq!(e("(a,) => a;"), "(fn (a) a)");
    assert_eq!(e("x => y => x + y;"), "(fn (x) (fn (y) (+ x y)))");
    assert_eq!(e("x => { print x; x };"), "(fn (x) { (print! x) x })");
    assert_eq!(
        e("u => u.rank = u.rank + 1;"),
        "(fn (u) (= (. u rank) (+ (. u rank) 1)))"
    );
    assert_eq!(
        e("f(x => x |> g, y => y, [z => z]);"),
        "(call f (fn (x) (|> x g)) (fn (y) y) [(fn (z) z)])"
    );
    assert_eq!(
        e("xs |> each(x => print x) |> run();"),
        "(|> (|> xs (call each (fn (x) (print x)))) (call run))"
    );
    assert_eq!(e("fun (a, b) { a };"), "(fn (a b) { a })");
    assert_eq!(e("fun (a) a * 2;"), "(fn (a) (* a 2))");
    assert_eq!(e("(x);"), "x");
}

#[test]
fn lambda_spans() {
    let src = "f((a, b) => a + b, x => x);";
    let call = first_expr(src);
    let ExprKind::Call { args, .. } = &call.kind else {
        panic!()
    };
    let ExprKind::Function(f) = &args[0].kind else {
        panic!()
    };
    assert!(f.anonymous && f.name.is_none());
    assert_eq!(text(src, f.span), "(a, b) => a + b");
    assert_eq!(text(src, args[0].span), "(a, b) => a + b");
    let ExprKind::Function(g) = &args[1].kind else {
        panic!()
    };
    assert_eq!(text(src, g.span), "x => x");
    let src = "var h = fun (a) { a };";
    let (prog, _) = parse(src);
    let StmtKind::Var {
        init: Some(init), ..
    } = &prog.stmts[0].kind
    else {
        panic!()
    };
    let ExprKind::Function(h) = &init.kind else {
        panic!()
    };
    assert_eq!(text(src, h.span), "fun (a) { a }");
    assert_eq!(h.info, FunInfo::default());
}

#[test]
fn if_match_fused_print_expressions() {
    assert_eq!(e("y = if (c) 1 else 2;"), "(= y (if c 1 2))");
    assert_eq!(e("y = if (c) 1;"), "(= y (if c 1))");
    assert_eq!(
        e("y = if (a) 1 else if (b) 2 else 3;"),
        "(= y (if a 1 (if b 2 3)))"
    );
    assert_eq!(
        e(
            "match x { 0 => \"zero\", -1 => \"neg\", 1..5 => \"small\", \"s\" => 1, true => 2, nil => 3, 2.5 => 4, n if n > 100 => \"big\", _ => \"other\", }"
        ),
        "(match x (0 => \"zero\") (-1 => \"neg\") (1..5 => \"small\") (\"s\" => 1) (true => 2) (nil => 3) (2.5 => 4) ($n if (> n 100) => \"big\") (_ => \"other\"))"
    );
    assert_eq!(
        e("match x { 1 => { print 1; } 2 => print 2, _ => {} }"),
        "(match x (1 => { (print! 1) }) (2 => (print 2)) (_ => {}))"
    );
    assert_eq!(
        e("match x { v if ok => v, w if (ready) => w }"),
        "(match x ($v if ok => v) ($w if ready => w))"
    );
    assert_eq!(
        e("match x { v if f(y => y) => v }"),
        "(match x ($v if (call f (fn (y) y)) => v))"
    );
    assert_eq!(
        e("match x { 1 => y => y, _ => nil }"),
        "(match x (1 => (fn (y) y)) (_ => nil))"
    );
    assert_eq!(e("fused { xs |> sum() }"), "(fused { (|> xs (call sum)) })");
    assert_eq!(e("fused xs |> sum();"), "(fused (|> xs (call sum)))");
    assert_eq!(e("v = fused { 1 };"), "(= v (fused { 1 }))");
    assert_eq!(e("f(print 1);"), "(call f (print 1))");
    assert_eq!(e("super.m(1);"), "(call (super m) 1)");
}

// ---- statements ---------------------------------------------------------------------------

#[test]
fn statements() {
    assert_eq!(ok("var x = 1; var y;"), "(var x 1)\n(var y)");
    assert_eq!(ok("print 1 + 2;"), "(print! (+ 1 2))");
    assert_eq!(ok(";"), "empty");
    assert_eq!(ok("{ 1; 2 }"), "{ 1; 2 }");
    assert_eq!(ok("{}"), "{ }");
    // `{` in statement position always opens a block.
    assert_eq!(
        err1_at("{ a: 1 }"),
        ("expected ';', found ':'".to_string(), 3, 0)
    );
    assert_eq!(ok("1"), "1");
    assert_eq!(ok("f(); g()"), "(call f);\n(call g)");
    assert_eq!(
        ok("return; return 1; return"),
        "(return)\n(return 1)\n(return)"
    );
    assert_eq!(
        ok("while (x) { break; continue; }"),
        "(while x { break continue })"
    );
    assert_eq!(
        ok("for (x in 0..10) print x;"),
        "(for x (.. 0 10) (print! x))"
    );
    assert_eq!(
        ok("if (c) print 1; else print 2;"),
        "(if! c (print! 1) (print! 2))"
    );
    assert_eq!(ok("if (c) 1 else 2"), "(if! c 1 2)");
    assert_eq!(ok("{ if (c) 1 else 2 }"), "{ (if! c 1 2) }");
    assert_eq!(
        ok("if (a) x; else if (b) y; else { z }"),
        "(if! a x; (if! b y; { z }))"
    );
    assert_eq!(ok("if (a) if (b) x; else y;"), "(if! a (if! b x; y;))");
    assert_eq!(ok("while (c) ;"), "(while c empty)");
    assert_eq!(
        ok("test \"adds\" { assert(1 + 1 == 2); }"),
        "(test \"adds\" { (call assert (== (+ 1 1) 2)); })"
    );
    assert_eq!(
        ok("match x { _ => 1 } print 2;"),
        "(match x (_ => 1))\n(print! 2)"
    );
    assert_eq!(ok("match x { _ => 1 };"), "(match x (_ => 1));");
    assert_eq!(ok("fused { 1 } f();"), "(fused { 1 })\n(call f);");
    assert_eq!(ok("fun (x) x;"), "(fn (x) x);");
}

#[test]
fn functions_and_classes() {
    assert_eq!(ok("fun add(a, b) { a + b }"), "(fun add (a b) { (+ a b) })");
    assert_eq!(
        ok("fun twice(a) a * 2; print 1;"),
        "(fun twice (a) (* a 2))\n(print! 1)"
    );
    assert_eq!(ok("fun f() {} ;"), "(fun f () { })\nempty");
    assert_eq!(
        ok(
            "class A < B { var x = 1; var items = []; fun init(a) { this.x = a; } fun get() this.x; }"
        ),
        "(class A < B (field x 1) (field items []) (fun init (a) { (= (. this x) a); }) (fun get () (. this x)))"
    );
    assert_eq!(
        ok("@sql class User { var id; var name; }"),
        "(@sql class User (field id) (field name))"
    );
    assert_eq!(ok("class E {}"), "(class E)");
    let src = "fun f(a) {\n  a\n}\nfun g(x) x + 1;\n";
    let (prog, _) = parse(src);
    let StmtKind::Fun(f) = &prog.stmts[0].kind else {
        panic!()
    };
    assert_eq!(text(src, f.span), "fun f(a) {\n  a\n}");
    assert!(!f.anonymous);
    let StmtKind::Fun(g) = &prog.stmts[1].kind else {
        panic!()
    };
    assert_eq!(text(src, g.span), "fun g(x) x + 1");
    assert_eq!(text(src, prog.stmts[1].span), "fun g(x) x + 1;");
}

#[test]
fn doc_comments() {
    let src = "/// Adds.\n/// Twice.\nfun add(a, b) a + b;\n/// The count\nvar n = 1;\n// plain\nvar m;\n/// A user\n@sql class U {\n  /// field doc (dropped)\n  var id;\n  /// Greets.\n  fun hi() 1;\n}\n/// C\nclass C {}";
    let (prog, diags) = parse(src);
    assert!(diags.is_empty(), "{diags:?}");
    let docs: Vec<Option<String>> = prog
        .stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Fun(f) => f.doc.clone(),
            StmtKind::Var { doc, .. } => doc.clone(),
            StmtKind::Class(c) => c.doc.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(
        docs,
        vec![
            Some("Adds.\nTwice.".to_string()),
            Some("The count".to_string()),
            None,
            Some("A user".to_string()),
            Some("C".to_string())
        ]
    );
    let StmtKind::Class(c) = &prog.stmts[3].kind else {
        panic!()
    };
    assert_eq!(c.methods[0].doc.as_deref(), Some("Greets."));
    assert!(c.sql);
}

#[test]
fn spans() {
    let src = "var total = a.b + f(1, 2)[0];";
    let (prog, _) = parse(src);
    assert_eq!(text(src, prog.stmts[0].span), src);
    let StmtKind::Var {
        name,
        init: Some(init),
        ..
    } = &prog.stmts[0].kind
    else {
        panic!()
    };
    assert_eq!(text(src, name.span), "total");
    assert_eq!(text(src, init.span), "a.b + f(1, 2)[0]");
    let ExprKind::Binary(_, l, r) = &init.kind else {
        panic!()
    };
    assert_eq!(text(src, l.span), "a.b");
    assert_eq!(text(src, r.span), "f(1, 2)[0]");
    let ExprKind::Field { name, .. } = &l.kind else {
        panic!()
    };
    assert_eq!(text(src, name.span), "b");
    let src = "  (x + 1) * -y";
    let ex = first_expr(src);
    assert_eq!(text(src, ex.span), "(x + 1) * -y");
    let src = "match v { 1..3 if ok => { 1 } }";
    let ExprKind::Match { arms, .. } = &first_expr(src).kind else {
        panic!()
    };
    assert_eq!(text(src, arms[0].span), "1..3 if ok => { 1 }");
    let src = "class K < J { var f = 2; fun m() { } }";
    let (prog, _) = parse(src);
    let StmtKind::Class(c) = &prog.stmts[0].kind else {
        panic!()
    };
    assert_eq!(text(src, c.span), src);
    assert_eq!(text(src, c.fields[0].span), "var f = 2;");
    assert_eq!(text(src, c.methods[0].span), "fun m() { }");
    assert_eq!(text(src, c.superclass.as_ref().unwrap().span), "J");
}

#[test]
fn names_are_unresolved() {
    let ex = first_expr("x = super.m;");
    let ExprKind::Assign { target, value, .. } = &ex.kind else {
        panic!()
    };
    let ExprKind::Name(n) = &target.kind else {
        panic!()
    };
    assert_eq!(n.res, Res::Unresolved);
    assert!(matches!(
        value.kind,
        ExprKind::Super {
            this_res: Res::Unresolved,
            ..
        }
    ));
}

#[test]
fn edge_inputs() {
    assert_eq!(ok(""), "");
    assert_eq!(
        ok("  // only a comment\n/* and a block */\n/// and a dangling doc"),
        ""
    );
    assert_eq!(ok("var x = 1;\r\nprint x;\r\n"), "(var x 1)\n(print! x)");
    assert_eq!(ok("var x = 1"), "(var x 1)");
    assert_eq!(ok("{ var x = 1 }"), "{ (var x 1) }");
    assert_eq!(
        e("m = {f: x => x + 1, g: (a, b) => a, h: 2};"),
        "(= m {\"f\": (fn (x) (+ x 1)) \"g\": (fn (a b) a) \"h\": 2})"
    );
    assert_eq!(e("f = x => {a: x};"), "(= f (fn (x) {\"a\": x}))");
    assert_eq!(e("[x => x, y => y];"), "[(fn (x) x) (fn (y) y)]");
    assert_eq!(
        e("match -3 { -5..-1 => 1, _ => 2 }"),
        "(match (neg 3) (-5..-1 => 1) (_ => 2))"
    );
    assert_eq!(e("a.b.c = 1;"), "(= (. (. a b) c) 1)");
    assert_eq!(e("x = \"héllo wörld\" + y;"), "(= x (+ \"héllo wörld\" y))");
    let src = "x = \"é\" + yy;";
    let ExprKind::Assign { value, .. } = &first_expr(src).kind else {
        panic!()
    };
    let ExprKind::Binary(_, _, r) = &value.kind else {
        panic!()
    };
    assert_eq!(text(src, r.span), "yy");
    assert_eq!(err1("x = é;"), pair("unexpected character 'é'", "é"));
}

// ---- errors -------------------------------------------------------------------------------

fn pair(m: &str, t: &str) -> (String, String) {
    (m.to_string(), t.to_string())
}

#[test]
fn error_messages_and_spans() {
    assert_eq!(
        err1("var x = ;"),
        pair("expected expression, found ';'", ";")
    );
    assert_eq!(
        err1("print 1 +"),
        pair("expected expression, found end of input", "")
    );
    assert_eq!(
        err1("var = 1;"),
        pair("expected variable name, found '='", "=")
    );
    // A missing `;` is reported right after the token it should follow.
    assert_eq!(
        err1_at("var x = 1 var y = 2;"),
        ("expected ';', found 'var'".to_string(), 9, 0)
    );
    assert_eq!(
        err1_at("var x = 1\n\nprint x;"),
        ("expected ';', found 'print'".to_string(), 9, 0)
    );
    assert_eq!(
        err1("f(1 2);"),
        pair("expected ',' or ')', found number", "2")
    );
    assert_eq!(
        err1("[1 2];"),
        pair("expected ',' or ']', found number", "2")
    );
    assert_eq!(
        err1("x = {a: 1 b: 2};"),
        pair("expected ',' or '}', found identifier 'b'", "b")
    );
    assert_eq!(
        err1("x = {a: 1, 2 + 3};"),
        pair("expected ':', found '+'", "+")
    );
    assert_eq!(
        err1("if x { }"),
        pair("expected '(' after 'if', found identifier 'x'", "x")
    );
    assert_eq!(err1("while (x { }"), pair("expected ')', found '{'", "{"));
    assert_eq!(
        err1("for (x of xs) {}"),
        pair("expected 'in', found identifier 'of'", "of")
    );
    assert_eq!(
        err1("fun (a b) {}"),
        pair("expected ',' or ')', found identifier 'b'", "b")
    );
    assert_eq!(
        err1("fun f(1) {}"),
        pair("expected parameter name, found number", "1")
    );
    assert_eq!(
        err1("class { }"),
        pair("expected class name, found '{'", "{")
    );
    assert_eq!(
        err1("class A { x = 1; }"),
        pair(
            "expected 'var', 'fun' or '}' in class body, found identifier 'x'",
            "x"
        )
    );
    assert_eq!(
        err1("@foo class A {}"),
        pair(
            "unknown attribute '@foo' (the only attribute is '@sql')",
            "foo"
        )
    );
    assert_eq!(
        err1("test foo {}"),
        pair(
            "expected test description string, found identifier 'foo'",
            "foo"
        )
    );
    assert_eq!(
        err1("x = super;"),
        pair("expected '.' after 'super', found ';'", ";")
    );
    assert_eq!(err1("a.1;"), pair("invalid number '.1'", ".1"));
    assert_eq!(
        err1("a.+;"),
        pair("expected field or method name after '.', found '+'", "+")
    );
    assert_eq!(
        err1("match x { 1 2 }"),
        pair("expected '=>', found number", "2")
    );
    assert_eq!(
        err1("match x { 1 => 2 3 => 4 }"),
        pair("expected ',' or '}' after match arm, found number", "3")
    );
    assert_eq!(
        err1("match x { + => 1 }"),
        pair("expected pattern, found '+'", "+")
    );
    assert_eq!(
        err1("match x { 1.. => 1 }"),
        pair("expected number, found '=>'", "=>")
    );
    assert_eq!(
        err1_at("{ 1 2 }"),
        ("expected ';', found number".to_string(), 3, 0)
    );
    assert_eq!(
        err1("x = 99999999999999999999;"),
        pair("integer literal too large", "99999999999999999999")
    );
    assert_eq!(
        err1("x = 9223372036854775808;"),
        pair("integer literal too large", "9223372036854775808")
    );
    assert_eq!(err1("x = .5;"), pair("invalid number '.5'", ".5"));
    assert_eq!(
        err1("x = \"a\\qb\";"),
        pair("unknown escape sequence '\\q'", "\\q")
    );
    assert_eq!(err1("x = \"abc"), pair("unterminated string", "\""));
    assert_eq!(err1("f(\"abc"), pair("unterminated string", "\""));
    assert_eq!(
        err1("f(1) /* abc"),
        pair("unterminated block comment", "/*")
    );
    assert_eq!(err1("x = 1 $ 2;"), pair("unexpected character '$'", "$"));
    assert_eq!(err1("}"), pair("expected expression, found '}'", "}"));
    assert_eq!(
        err1("else 1;"),
        pair("expected expression, found 'else'", "else")
    );
}

#[test]
fn invalid_assignment_targets() {
    for (src, target) in [
        ("(x) = 1;", "(x)"),
        ("((x)) = 1;", "((x))"),
        ("1 = 2;", "1"),
        ("f() = 1;", "f()"),
        ("a + b = 1;", "a + b"),
        ("x = (y) += 1;", "(y)"),
        ("(a.b) = 1;", "(a.b)"),
        ("this = 1;", "this"),
    ] {
        assert_eq!(
            err1(src),
            pair("invalid assignment target", target),
            "{src}"
        );
    }
}

#[test]
fn declarations_in_branches() {
    let msg = "declaration not allowed here; wrap it in a block";
    assert_eq!(err1("if (c) var x = 1;"), pair(msg, "var"));
    assert_eq!(err1("if (c) {} else fun f() {}"), pair(msg, "fun"));
    assert_eq!(err1("while (c) class A {}"), pair(msg, "class"));
    assert_eq!(err1("for (x in y) @sql class A {}"), pair(msg, "@"));
    assert_eq!(ok("if (c) { var x = 1; }"), "(if! c { (var x 1) })");
    assert_eq!(ok("if (c) fun (x) x;"), "(if! c (fn (x) x);)");
}

#[test]
fn multiple_errors_are_all_reported() {
    let src = "var x = ;\nprint 1 +;\nvar y = 2;\nfoo(;";
    assert_eq!(
        errs(src),
        vec![
            pair("expected expression, found ';'", ";"),
            pair("expected expression, found ';'", ";"),
            pair("expected expression, found ';'", ";"),
        ]
    );
    let (_, diags) = parse(src);
    let starts: Vec<u32> = diags.iter().map(|d| d.span.start).collect();
    assert_eq!(starts, vec![8, 19, 36]);
    let (prog, _) = parse(src);
    assert_eq!(
        prog.stmts.iter().map(stmt).collect::<Vec<_>>(),
        vec!["(var y 2)"]
    );

    // Errors inside blocks, functions, classes and brackets recover locally.
    let src = "fun f() {\n  var a = ;\n  print a;\n}\nclass C { var x = ; fun m() { 1 + } }\nf(1, [2, ;], 3);\nprint ok;\nvar z = 1\nvar w = 2;";
    let v = errs(src);
    assert_eq!(v.len(), 5, "{v:#?}");
    // After `var z = 1`, not at the `var` of the next line.
    assert_eq!(v[4], pair("expected ';', found 'var'", ""));
    let (_, diags) = parse(src);
    let after_one = src.find("var z = 1").unwrap_or(0) + "var z = 1".len();
    assert_eq!(diags[4].span, Span::new(after_one, after_one));
    let (prog, _) = parse(src);
    let printed: Vec<String> = prog.stmts.iter().map(stmt).collect();
    assert!(
        printed.contains(&"(fun f () { (print! a) })".to_string()),
        "{printed:?}"
    );
    assert!(printed.contains(&"(print! ok)".to_string()), "{printed:?}");
    assert!(printed.contains(&"(var w 2)".to_string()), "{printed:?}");

    // Match arms recover one by one.
    let src = "var r = match x {\n  1 => ,\n  2 => f(1 2),\n  3 => \"c\"\n  4 => \"d\",\n  + => 5,\n  _ => 6\n};\nvar after = ;";
    assert_eq!(
        errs(src),
        vec![
            pair("expected expression, found ','", ","),
            pair("expected ',' or ')', found number", "2"),
            pair("expected ',' or '}' after match arm, found number", "4"),
            pair("expected pattern, found '+'", "+"),
            pair("expected expression, found ';'", ";"),
        ]
    );
    let (prog, _) = parse(src);
    assert_eq!(
        stmt(&prog.stmts[0]),
        "(var r (match x (3 => \"c\") (4 => \"d\") (_ => 6)))"
    );
    assert_eq!(errs("match x { 1 => f(]) }").len(), 1);
    assert_eq!(errs("match x { 1 => ; print 1;").len(), 1);
    // A stray closing bracket inside a lambda block is one error.
    assert_eq!(errs("foo(x => { y ) }); bar();").len(), 1);
    // Unclosed call followed by more statements.
    assert_eq!(errs("foo(1, 2;\nprint 3;\nvar q = ;").len(), 2);
}

#[test]
fn argument_and_parameter_limits() {
    let args = vec!["0"; MAX_ARGS].join(",");
    assert!(parse(&format!("f({args});")).1.is_empty());
    let (_, d) = parse(&format!("f({args}, 1);"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "too many arguments (the limit is 65535)");
    let params: Vec<String> = (0..=MAX_ARGS).map(|i| format!("p{i}")).collect();
    let (_, d) = parse(&format!("fun f({}) 1;", params.join(",")));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "too many parameters (the limit is 65535)");
    let (_, d) = parse(&format!("var f = ({}) => 1;", params[..MAX_ARGS].join(",")));
    assert!(d.is_empty());
}

// ---- depth --------------------------------------------------------------------------------

#[test]
fn bracket_nesting_limit() {
    let deep =
        |n: usize, open: &str, close: &str| format!("x = {}1{};", open.repeat(n), close.repeat(n));
    for (o, c) in [("(", ")"), ("[", "]"), ("f(", ")")] {
        assert!(parse(&deep(256, o, c)).1.is_empty(), "{o}");
        let (_, d) = parse(&deep(257, o, c));
        assert_eq!(d.len(), 1, "{o}");
        assert_eq!(d[0].message, "nesting too deep: more than 256 levels");
    }
    assert!(
        parse(&format!("{}{}", "{".repeat(256), "}".repeat(256)))
            .1
            .is_empty()
    );
    let (_, d) = parse(&format!("{}{}", "{".repeat(257), "}".repeat(257)));
    assert_eq!(d[0].message, "nesting too deep: more than 256 levels");
    assert_eq!(d[0].span, Span::new(256, 257));
    // Mixed: lambdas with block bodies inside calls, 128 levels of `f(x => {`.
    let src = format!("{}1{}", "f(x => {".repeat(128), "})".repeat(128));
    assert!(parse(&src).1.is_empty());
    let (_, d) = parse(&format!("{}{}", "(".repeat(100_000), ")".repeat(100_000)));
    assert_eq!(d.len(), 1);
}

#[test]
fn long_chains_do_not_crash() {
    let n = 100_000;
    let cases = [
        format!("x = {}1;", "- ".repeat(n)),
        format!("x = {}1;", "!".repeat(n)),
        format!("x = {}1;", "x => ".repeat(n)),
        format!("x = {}1;", "a = ".repeat(n)),
        format!("x = 1{};", " + 1".repeat(n)),
        format!("x = a{};", ".b".repeat(n)),
        format!("x = f{};", "()".repeat(n)),
        format!("x = 1{};", " |> f".repeat(n)),
        format!("{}1;", "print ".repeat(n)),
        format!("{}1;", "fused ".repeat(n)),
        format!("{}x;", "if (c) ".repeat(n)),
        format!("if (c) x;{} else y;", " else if (c) x;".repeat(n)),
        format!("x = if (c) 1{} else 2;", " else if (c) 1".repeat(n)),
        format!("{}x;", "while (c) ".repeat(n)),
    ];
    for src in &cases {
        let (_, d) = parse(src);
        assert_eq!(d.len(), 1, "{}", &src[..40]);
        assert!(
            d[0].message.starts_with("nesting too deep"),
            "{}",
            d[0].message
        );
    }
    // Moderate chains are fine.
    assert!(parse(&format!("x = 1{};", " + 1".repeat(500))).1.is_empty());
    assert!(parse(&format!("x = {}1;", "-".repeat(500))).1.is_empty());
    assert!(
        parse(&format!(
            "if (c) x;{} else y;",
            " else if (c) x;".repeat(500)
        ))
        .1
        .is_empty()
    );
    // Many errors in a row: each is reported, nothing crashes.
    assert_eq!(parse(&"return ".repeat(n)).1.len(), n - 1);
}

#[test]
fn tiny_program_parses_fast() {
    let t = std::time::Instant::now();
    for _ in 0..100 {
        let (p, d) = parse("print 1;");
        assert!(d.is_empty() && p.stmts.len() == 1);
    }
    let per = t.elapsed() / 100;
    assert!(per < std::time::Duration::from_millis(1), "{per:?}");
}

// ---- robustness ---------------------------------------------------------------------------

const SAMPLE: &str = r#"
/// A user.
@sql class User { var id; var name; var age = 0; }
class Animal { var name; fun init(n) { this.name = n; } fun speak() "..." }
class Dog < Animal { fun speak() super.speak() + "woof"; }
fun fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); }
var m = {a: 1, "b": [1, 2.5, nil], 3: true};
var total = db.User |> filter(u => u.age >= 18 and u.name != "x") |> map(u => u.age) |> sum();
for (i in 0..10) { if (i % 2 == 0) continue; else print i; }
while (true) { break; }
var r = match total { 0 => "none", 1..10 => { "few" } n if n > 100 => print n, _ => "many" };
fused { [1, 2, 3] |> each(x => print x) |> run() }
test "math" { assert(fib(10) == 55, "fib"); }
var f = (a, b) => a * b; var g = fun (x) x + 1; m.a += 1; m["b"][0] = -1;
print if (f(2, 3) > 5) "big" else "small";
"#;

#[test]
fn sample_program_parses() {
    let (prog, diags) = parse(SAMPLE);
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(prog.stmts.len(), 16);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn check(src: &str) {
        let (_, diags) = parse(src);
        for d in diags {
            assert!(d.span.start <= d.span.end && d.span.end as usize <= src.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_text(s in "\\PC{0,200}") {
            check(&s);
        }

        #[test]
        fn random_token_soup(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "(", ")", "[", "]", "{", "}", "x", "1", "2.5", "\"s\"", "=>", "=", "+", "-", "!",
                ",", ";", ":", ".", "..", "|>", "if", "else", "match", "fun", "var", "class",
                "print", "fused", "return", "while", "for", "in", "_", "@", "sql", "test",
                "this", "super", "and", "or", "<", "/*", "*/", "///", "\n",
            ]), 0..80)) {
            check(&parts.join(" "));
        }

        #[test]
        fn mutated_program(cuts in proptest::collection::vec((0usize..2000, 0u8..4, any::<u8>()), 1..6)) {
            let mut bytes = SAMPLE.as_bytes().to_vec();
            for (at, kind, b) in cuts {
                let at = at % (bytes.len() + 1);
                match kind {
                    0 => bytes.truncate(at),
                    1 => { if at < bytes.len() { bytes.remove(at); } }
                    2 => bytes.insert(at, b),
                    _ => { if at < bytes.len() { bytes[at] = b; } }
                }
            }
            let s = String::from_utf8_lossy(&bytes).into_owned();
            check(&s);
        }
    }
}

// Slicing, destructuring, two-name `for` and `import`.
mod new_syntax;
