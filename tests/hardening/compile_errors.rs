//! Compile-error output stays bounded (at most 50 errors shown, source excerpts cut to a
//! window), and a UTF-8 byte order mark at the start of a script is not part of it.

use std::io::Write;
use std::process::{Command, Stdio};
use walia::{Engine, Error};

fn walia(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(args)
        .env_remove("WALIA_HEAP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("walia");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).expect("stdin");
    }
    let out = child.wait_with_output().expect("walia");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One 14 KB line naming 2,000 undeclared variables (without the caps: 28 MB of output).
fn many_errors_on_one_line() -> String {
    let terms: Vec<String> = (0..2000).map(|i| format!("y{i}")).collect();
    format!("var x = {};\n", terms.join(" + "))
}

#[test]
fn many_errors_on_a_long_line_give_bounded_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("many.wal");
    std::fs::write(&file, many_errors_on_one_line()).expect("write");
    let path = file.to_str().expect("utf-8 path");
    for cmd in [vec!["check", path], vec!["--memory", "run", path]] {
        let (code, _, err) = walia(&cmd, b"");
        assert_eq!(code, 65, "{err}");
        assert_eq!(err.matches(": error: undefined variable").count(), 50);
        assert!(
            err.contains("... and 1950 more errors not shown"),
            "{}",
            &err[..2000]
        );
        assert!(err.len() < 64 * 1024, "{} bytes of diagnostics", err.len());
        assert!(
            err.lines().all(|l| l.chars().count() < 200),
            "a line too wide"
        );
        // The columns are the real ones, however the line was cut.
        assert!(
            err.contains("many.wal:1:44: error: undefined variable 'y7'"),
            "{}",
            &err[..2000]
        );
    }
}

#[test]
fn the_embedding_api_renders_bounded_compile_errors() {
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    let err = e
        .check("many.wal", &many_errors_on_one_line())
        .expect_err("errors");
    let Error::Compile { diagnostics, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(diagnostics.len(), 2000);
    let text = err.render(false);
    assert!(text.len() < 64 * 1024, "{} bytes", text.len());
    assert!(err.to_string().contains("(and 1999 more errors)"), "{err}");
}

#[test]
fn a_byte_order_mark_starts_no_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bom.wal");
    std::fs::write(&file, "\u{feff}print 1 + 1;\n").expect("write");
    let path = file.to_str().expect("utf-8 path");
    assert_eq!(
        walia(&["--memory", "run", path], b""),
        (0, "2\n".into(), String::new())
    );
    assert_eq!(
        walia(&["check", path], b""),
        (0, String::new(), String::new())
    );
    let (code, out, _) = walia(&["--memory", "-"], "\u{feff}print 3;".as_bytes());
    assert_eq!((code, out.as_str()), (0, "3\n"));
    // Spans after the mark are where they were written.
    std::fs::write(&file, "\u{feff}var ok = 1;\nprint y;\n").expect("write");
    let (code, _, err) = walia(&["--memory", "run", path], b"");
    assert_eq!(code, 65);
    assert!(
        err.starts_with(&format!("{path}:2:7: error: undefined variable 'y'")),
        "{err}"
    );
    assert!(!err.contains('\u{feff}'), "{err}");
    std::fs::write(&file, "\u{feff}print y;\n").expect("write");
    let (_, _, err) = walia(&["--memory", "run", path], b"");
    assert!(err.starts_with(&format!("{path}:1:7: error")), "{err}");
    // Through the embedding API too.
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    assert_eq!(e.eval::<i64>("\u{feff}40 + 2").expect("eval"), 42);
}
