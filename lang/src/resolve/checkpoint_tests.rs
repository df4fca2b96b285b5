use crate::ast::*;
use crate::fingerprint::normalize;
use crate::resolve::{GlobalNames, parse_and_resolve};

/// One `checkpoint_at` call after resolution: its arguments after `n` (the hidden NAME and
/// TEXT, or an explicit name's source and TEXT), string constants as their text.
type Call = Vec<String>;

/// Resolve `src` with every name known (as builtins are); the `checkpoint_at` calls found,
/// or the error messages.
fn calls(src: &str) -> Result<Vec<Call>, Vec<String>> {
    let mut names = GlobalNames::new();
    let (program, diags) = parse_and_resolve(src, &mut names, &|_: &str| true);
    if !diags.is_empty() {
        return Err(diags.into_iter().map(|d| d.message).collect());
    }
    let mut out = Vec::new();
    for s in &program.stmts {
        stmt(src, s, &mut out);
    }
    Ok(out)
}

fn stmt(src: &str, s: &Stmt, out: &mut Vec<Call>) {
    match &s.kind {
        StmtKind::Var { init: Some(e), .. } | StmtKind::Expr { expr: e, .. } => expr(src, e, out),
        StmtKind::Print(e) | StmtKind::Return(Some(e)) => expr(src, e, out),
        StmtKind::Fun(f) => expr(src, &f.body, out),
        StmtKind::Block(b) => b.stmts.iter().for_each(|s| stmt(src, s, out)),
        _ => {}
    }
}

fn expr(src: &str, e: &Expr, out: &mut Vec<Call>) {
    let found = |callee: &Expr, args: &[Expr], piped: bool, out: &mut Vec<Call>| {
        if matches!(&callee.kind, ExprKind::Name(n) if n.name == "checkpoint_at") {
            let skip = if piped { 1 } else { 2 };
            out.push(
                args.iter()
                    .skip(skip)
                    .map(|a| match &a.kind {
                        ExprKind::Str(s) => s.clone(),
                        _ => src[a.span.range()].to_string(),
                    })
                    .collect(),
            );
        }
    };
    match &e.kind {
        ExprKind::Pipe(a, b) => {
            expr(src, a, out);
            match &b.kind {
                ExprKind::Call { callee, args } => {
                    args.iter().for_each(|x| expr(src, x, out));
                    found(callee, args, true, out);
                }
                _ => expr(src, b, out),
            }
        }
        ExprKind::Call { callee, args } => {
            expr(src, callee, out);
            args.iter().for_each(|x| expr(src, x, out));
            found(callee, args, false, out);
        }
        ExprKind::Assign { value, .. } => expr(src, value, out),
        ExprKind::Function(f) => expr(src, &f.body, out),
        ExprKind::Block(b) => b.stmts.iter().for_each(|s| stmt(src, s, out)),
        ExprKind::List(items) => items.iter().for_each(|x| expr(src, x, out)),
        _ => {}
    }
}

fn one(src: &str) -> Call {
    match calls(src) {
        Ok(c) if c.len() == 1 => c.into_iter().next().unwrap_or_default(),
        other => panic!("{src}: {other:?}"),
    }
}

fn error(src: &str) -> String {
    match calls(src) {
        Err(e) => e.join("\n"),
        Ok(c) => panic!("{src}: no error, {c:?}"),
    }
}

const UNNAMED: &str = "a checkpointed pipe needs a name: bind it to a top-level variable, \
                       or name it: checkpoint_at(n, \"name\")";

#[test]
fn a_top_level_var_names_the_pipe_and_its_whole_value_is_the_text() {
    let src = "var up = db.users |> map(u => u.rank + 1) |> checkpoint_at(10000);";
    assert_eq!(
        one(src),
        [
            "up",
            "db . users |> map ( u => u . rank + 1 ) |> checkpoint_at ( 10000 )"
        ]
    );
    // A terminal after the stage: still the variable's, and the text is the whole value.
    assert_eq!(
        one("var total = xs |> checkpoint_at(5) |> sum();"),
        ["total", "xs |> checkpoint_at ( 5 ) |> sum ( )"]
    );
    // The direct form.
    assert_eq!(
        one("var d = checkpoint_at(xs, 5);"),
        ["d", "checkpoint_at ( xs , 5 )"]
    );
}

#[test]
fn a_top_level_assignment_to_a_global_names_the_pipe() {
    let got = calls("var up; up = xs |> checkpoint_at(3);");
    assert_eq!(
        got,
        Ok(vec![vec!["up".into(), "xs |> checkpoint_at ( 3 )".into()]])
    );
}

#[test]
fn an_explicit_name_is_passed_as_written() {
    // Unbound: the text is the pipe ending with the call.
    assert_eq!(
        one("xs |> map(f) |> checkpoint_at(5, \"tens\") |> run();"),
        ["tens", "xs |> map ( f ) |> checkpoint_at ( 5 , \"tens\" )"]
    );
    assert_eq!(
        one("fun go(n) { return checkpoint_at(xs, 5, n + \"x\"); }"),
        ["n + \"x\"", "checkpoint_at ( xs , 5 , n + \"x\" )"]
    );
    // Bound and named: the name is the explicit one, the text the variable's value.
    assert_eq!(
        one("var p = xs |> checkpoint_at(5, \"tens\") |> count();"),
        ["tens", "xs |> checkpoint_at ( 5 , \"tens\" ) |> count ( )"]
    );
}

#[test]
fn an_unnamed_pipe_that_is_not_bound_at_the_top_level_is_an_error() {
    for src in [
        "xs |> checkpoint_at(5) |> run();",
        "print checkpoint_at(xs, 5);",
        "fun f() { var p = xs |> checkpoint_at(5); return p; }",
        "var g = () => xs |> checkpoint_at(5);",
        "{ var local = xs |> checkpoint_at(5); }",
        "if (true) { var local = xs |> checkpoint_at(5); }",
        "var t = { var inner = xs |> checkpoint_at(5); inner };",
        "class C { fun run() { return xs |> checkpoint_at(5); } }",
        "test \"t\" { var p = xs |> checkpoint_at(5); }",
    ] {
        assert_eq!(error(src), UNNAMED, "{src}");
    }
}

#[test]
fn two_unnamed_pipes_cannot_share_a_variable() {
    let e = error("var both = [xs |> checkpoint_at(1), ys |> checkpoint_at(2)];");
    assert!(e.contains("'both' names another one already"), "{e}");
    // With a name of its own, the second is fine.
    let got = calls("var both = [xs |> checkpoint_at(1), ys |> checkpoint_at(2, \"y\")];");
    assert!(got.is_ok(), "{got:?}");
}

#[test]
fn arity_is_checked_before_the_hidden_arguments_are_added() {
    let msg = |n: usize| format!("'checkpoint_at' expects 2 to 3 arguments but got {n}");
    assert_eq!(error("var p = xs |> checkpoint_at(1, \"a\", 3);"), msg(4));
    assert_eq!(error("var p = checkpoint_at(xs, 1, \"a\", \"t\");"), msg(4));
    assert_eq!(error("var p = checkpoint_at(xs);"), msg(1));
    assert_eq!(error("var p = xs |> checkpoint_at();"), msg(1));
    assert_eq!(error("var p = xs |> checkpoint_at;"), msg(1));
}

#[test]
fn a_function_of_that_name_is_an_ordinary_call() {
    let src = "fun checkpoint_at(a, b) { return a; } var p = xs |> checkpoint_at(1);";
    assert_eq!(one(src), Vec::<String>::new());
    let src = "fun f(checkpoint_at) { return xs |> checkpoint_at(1); }";
    assert_eq!(one(src), Vec::<String>::new());
    // The method form is for the runtime to check.
    assert_eq!(calls("xs.checkpoint_at(1);"), Ok(vec![]));
}

#[test]
fn the_text_ignores_layout_and_comments_but_not_the_lambda() {
    let text = |src: &str| one(src).pop().unwrap_or_default();
    let a = text("var up = xs |> map(x=>x*2) |> checkpoint_at(10);");
    let b = text(
        "var up =\n  xs // the source\n  |> map( x => x * 2 ) /* doubled */\n  |> checkpoint_at( 10 )\n;",
    );
    let c = text("var up = xs |> map(x => x * 3) |> checkpoint_at(10);");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a, normalize("xs |> map(x => x * 2) |> checkpoint_at(10)"));
}
