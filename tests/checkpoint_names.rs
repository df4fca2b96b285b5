//! The name and definition text the compiler passes to `checkpoint_at` (SPEC §9): a call
//! of the builtin always receives `(SRC, n, NAME, TEXT)`. A stand-in builtin that returns
//! `[NAME, TEXT]` shows what arrives; the real stage does not matter here.

use walia::{Engine, Error, Value};

fn engine() -> Engine {
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    e.register_variadic("checkpoint_at", 4, 4, |args| {
        Ok::<_, String>(Value::List(args.get(2..).unwrap_or(&[]).to_vec()))
    });
    e
}

/// What the stand-in received as NAME and TEXT for the pipe stored in `var`.
fn received(e: &mut Engine, src: &str, var: &str) -> Vec<String> {
    e.run(src)
        .unwrap_or_else(|err| panic!("{src}: {}", err.render(false)));
    e.get::<Vec<String>>(var).unwrap_or_default()
}

fn compile_error(src: &str) -> (i32, String, String) {
    match engine().check("t.wal", src) {
        Err(err @ Error::Compile { .. }) => {
            let Error::Compile { diagnostics, .. } = &err else {
                unreachable!()
            };
            let d = &diagnostics[0];
            (
                err.exit_code(),
                d.message.clone(),
                src[d.span.range()].to_string(),
            )
        }
        other => panic!("{src}: {other:?}"),
    }
}

#[test]
fn each_binding_form_names_the_pipe() {
    let mut e = engine();
    assert_eq!(
        received(
            &mut e,
            "var up = [1, 2] |> map(x=>x*2) |> checkpoint_at(2);",
            "up"
        ),
        [
            "up",
            "[ 1 , 2 ] |> map ( x => x * 2 ) |> checkpoint_at ( 2 )"
        ]
    );
    assert_eq!(
        received(&mut e, "var d = checkpoint_at([1], 5);", "d"),
        ["d", "checkpoint_at ( [ 1 ] , 5 )"]
    );
    // Assigned by a top-level statement, in a later input (as at the REPL prompt).
    assert_eq!(
        received(&mut e, "up = [3] |> checkpoint_at(7);", "up"),
        ["up", "[ 3 ] |> checkpoint_at ( 7 )"]
    );
    // With a terminal after the stage (the stand-in's list: `first` is the name).
    e.run("var total = [1] |> checkpoint_at(5) |> first();")
        .unwrap_or_else(|err| panic!("{}", err.render(false)));
    assert_eq!(e.get::<String>("total").ok().as_deref(), Some("total"));
    // An explicit name is any expression, passed as it is.
    let src = "fun go(tag) { return [1] |> checkpoint_at(5, tag + \"s\"); } var g = go(\"ten\");";
    assert_eq!(
        received(&mut e, src, "g"),
        ["tens", "[ 1 ] |> checkpoint_at ( 5 , tag + \"s\" )"]
    );
}

#[test]
fn the_text_ignores_layout_but_not_the_lambda() {
    let mut e = engine();
    let a = received(
        &mut e,
        "var p = [1] |> map(x=>x*2) |> checkpoint_at(3);",
        "p",
    );
    let b = received(
        &mut e,
        "var p =\n  [ 1 ]   // the source\n  |> map( x => x * 2 ) /* doubled */\n  |> checkpoint_at(3);",
        "p",
    );
    let c = received(
        &mut e,
        "var p = [1] |> map(x => x * 3) |> checkpoint_at(3);",
        "p",
    );
    assert_eq!(a, b);
    assert_ne!(a[1], c[1]);
    assert_eq!(
        walia_lang::fingerprint::fingerprint(&a[1]),
        walia_lang::fingerprint::fingerprint(&b[1])
    );
}

#[test]
fn an_unnamed_checkpointed_pipe_is_a_compile_error() {
    let msg = "a checkpointed pipe needs a name: bind it to a top-level variable, \
               or name it: checkpoint_at(n, \"name\")";
    for (src, span) in [
        ("[1] |> checkpoint_at(2) |> run();", "checkpoint_at(2)"),
        (
            "fun f() { var p = [1] |> checkpoint_at(2); return p; }",
            "checkpoint_at(2)",
        ),
        (
            "{ var local = checkpoint_at([1], 2); }",
            "checkpoint_at([1], 2)",
        ),
    ] {
        assert_eq!(compile_error(src), (65, msg.to_string(), span.to_string()));
    }
    let (code, msg, _) = compile_error("var p = [1] |> checkpoint_at(2, \"a\", \"b\");");
    assert_eq!(code, 65);
    assert_eq!(msg, "'checkpoint_at' expects 2 to 3 arguments but got 4");
}

#[test]
fn a_script_function_of_that_name_is_called_as_written() {
    let mut e = engine();
    let v = e
        .eval::<i64>("fun checkpoint_at(xs, n) { return n; } [1] |> checkpoint_at(9)")
        .unwrap_or_else(|err| panic!("{}", err.render(false)));
    assert_eq!(v, 9);
}
