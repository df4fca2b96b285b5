//! How errors read (issue 19): each message said once, a missing `;` shown where it goes,
//! no colour escapes unless asked, hints for other languages' habits, and "did you mean"
//! for methods and tables.

use std::io::Write;
use std::process::Command;

/// Runs `walia run --memory` on a script with `text` in a fresh directory: stderr and the
/// exit code. The script's file name in diagnostics is `t.wal`.
fn run(text: &str) -> (String, Option<i32>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut f = std::fs::File::create(dir.path().join("t.wal")).expect("create script");
    f.write_all(text.as_bytes()).expect("write script");
    let out = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(["run", "--memory", "t.wal"])
        .current_dir(dir.path())
        .env_remove("WALIA_HEAP")
        .output()
        .expect("run walia");
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// A compile error: exactly one diagnostic, exit 65; its stderr.
#[track_caller]
fn one_compile_error(text: &str) -> String {
    let (err, code) = run(text);
    assert_eq!(code, Some(65), "{text}\n{err}");
    assert_eq!(err.matches(": error: ").count(), 1, "{text}\n{err}");
    err
}

#[test]
fn a_compile_error_says_its_message_once() {
    let err = one_compile_error("var x = 1;\nvar y = zz;\n");
    assert!(
        err.starts_with("t.wal:2:9: error: undefined variable 'zz'\n"),
        "{err}"
    );
    assert_eq!(err.matches("undefined variable").count(), 1, "{err}");
    assert!(!err.contains("Error"), "{err}");
    assert!(err.contains(" 2 │ var y = zz;"), "{err}");
    assert!(err.contains("not declared"), "{err}");
}

#[test]
fn a_runtime_error_says_its_message_once_then_the_stack() {
    let (err, code) = run("fun f(x) {\n  return x / 0;\n}\nvar r = f(1);\n");
    assert_eq!(code, Some(70), "{err}");
    assert!(
        err.starts_with("t.wal:2:10: error: division by zero\n"),
        "{err}"
    );
    assert_eq!(err.matches("division by zero").count(), 1, "{err}");
    assert!(!err.contains("Note"), "{err}");
    let stack: Vec<&str> = err.lines().filter(|l| l.starts_with("  at ")).collect();
    assert_eq!(
        stack,
        ["  at f (t.wal:2:10)", "  at script (t.wal:4:9)"],
        "{err}"
    );
}

#[test]
fn a_missing_semicolon_is_shown_after_the_previous_token() {
    let err = one_compile_error("var x = 1\n\nprint x;\n");
    // Line 1, just after `1` — not line 3 where `print` is.
    assert!(
        err.starts_with("t.wal:1:10: error: expected ';', found 'print'\n"),
        "{err}"
    );
    assert!(err.contains(" 1 │ var x = 1"), "{err}");
    assert!(!err.contains("print x"), "{err}");
    let label = err.lines().find(|l| l.contains("add `;` here"));
    let col = label.and_then(|l| l.chars().position(|c| c == '╰'));
    assert_eq!(col, Some(" 1 │ var x = 1".chars().count()), "{err}");
}

#[test]
fn no_colour_escapes_when_stderr_is_not_a_terminal() {
    for text in [
        "var y = zz;",
        "var a = 1 && 2;",
        "[1].lenght();",
        "fun f() { return 1 / 0; } f();",
    ] {
        let (err, _) = run(text);
        assert!(err.contains("error"), "{err}");
        assert!(!err.contains('\x1b'), "{text}: {err:?}");
    }
}

#[test]
fn the_embedding_error_renders_colour_only_when_asked() {
    let mut engine = walia::Engine::new();
    for text in ["var y = zz;", "fun f() { return [1].lenght(); } f();"] {
        let err = engine.run(text).expect_err("an error");
        let plain = err.render(false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        let coloured = err.render(true);
        assert!(coloured.contains("\x1b[1;31merror\x1b[0m"), "{coloured:?}");
        // Colour changes nothing but escapes.
        assert_eq!(strip_ansi(&coloured), plain);
    }
}

/// `s` without its ANSI colour sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn habits_from_other_languages_get_a_hint() {
    let cases = [
        ("var a = true && false;", "hint: Walia writes `and`"),
        ("var a = true || false;", "hint: Walia writes `or`"),
        (
            "var i = 0;\ni++;",
            "hint: Walia has no `++`: write `i += 1`",
        ),
        (
            "var i = 0;\ni--;",
            "hint: Walia has no `--`: write `i -= 1`",
        ),
        (
            "var a = 2 ** 10;",
            "hint: Walia has no `**` operator: write `pow(a, b)`",
        ),
        (
            "var a = null;",
            "hint: Walia's value for \"nothing\" is `nil`",
        ),
        ("var a = None;", "`nil`"),
        ("var a = 1 === 1;", "hint: Walia has no `===`"),
        (
            "for (var i = 0; i < 3; i++) {\n  print i;\n}",
            "hint: `for` walks over a range",
        ),
        ("var a = 1;\nprint(a, 2);", "hint: `print` takes one value"),
        (
            "function f(a) { return a; }",
            "hint: functions are declared with `fun`",
        ),
        (
            "def f(a) { return a; }",
            "hint: functions are declared with `fun`",
        ),
        ("let x = 1;", "hint: variables are declared with `var`"),
        (
            "var h = 7 // 2;\nprint h;",
            "hint: `//` starts a comment; for integer division write `7 ~/ 2`",
        ),
        ("print (9 // 2);\n", "hint: `//` starts a comment"),
        (
            "var x = 2;\nif (x == 1) { print 1; } elif (x == 2) { print 2; }",
            "hint: write `else if",
        ),
    ];
    for (text, hint) in cases {
        let err = one_compile_error(text);
        assert!(err.contains(hint), "{text}\n{err}");
    }
    // The C-style loop's label says what to write, over the header.
    let err = one_compile_error("for (var i = 0; i < 3; i++) print i;");
    assert!(err.contains("C-style for loops are not supported"), "{err}");
    assert!(err.contains("write `for (i in 0..n)`"), "{err}");
}

#[test]
fn the_suggested_spellings_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "var i = 0;\ni += 1;\nprint pow(2, 10);\nprint true and nil == nil;\n\
                for (k in 0..2) print k;\nprint \"a\" + \" \" + 2;\n";
    std::fs::write(dir.path().join("ok.wal"), text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(["run", "--memory", "ok.wal"])
        .current_dir(dir.path())
        .output()
        .expect("run walia");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1024\ntrue\n0\n1\na 2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn methods_fields_and_tables_suggest_close_names() {
    let cases = [
        (
            "[1, 2].lenght();",
            "List has no field or method 'lenght'; did you mean 'length'?",
        ),
        ("[1, 2].len();", "did you mean 'length'?"),
        (
            "\"abc\".uper();",
            "String has no field or method 'uper'; did you mean 'upper'?",
        ),
        ("\"abc\".toUpperCase();", "did you mean 'upper'?"),
        ("var m = {name: 1};\nm.kyes();", "did you mean 'keys'?"),
        (
            "var m = {name: 1};\nprint m.nmae;",
            "map has no key 'nmae'; did you mean 'name'?",
        ),
        (
            "class A { var size; fun hello() { return 1; } }\nA().helo();",
            "undefined field or method 'helo' on A; did you mean 'hello'?",
        ),
        (
            "class A { var size; }\nclass B < A { }\nprint B().sise;",
            "did you mean 'size'?",
        ),
        (
            "@sql class User { var id; var name; }\nprint db.Userz;",
            "no table 'Userz'; did you mean 'User'?",
        ),
        (
            "@sql class User { var id; var name; }\ndb.User.coutn();",
            "Table has no field or method 'coutn'; did you mean 'count'?",
        ),
    ];
    for (text, expected) in cases {
        let (err, code) = run(text);
        assert_eq!(code, Some(70), "{text}\n{err}");
        assert!(err.contains(expected), "{text}\n{err}");
    }
    // Nothing close: no suggestion.
    let (err, _) = run("[1].zzzzzz();");
    assert!(!err.contains("did you mean"), "{err}");
}
