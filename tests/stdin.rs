//! Standard input for scripts (`read_line`, `read_stdin`, `stdin_lines()`) and the exit
//! status `exit(code)` gives the `walia` command. Input is piped to the binary, in every
//! pipeline tier the conformance cases use.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The tiers of tests/conformance.rs: `WALIA_JIT` unset, kernels, interpreter, bails.
const TIERS: &[Option<(&str, &str)>] = &[
    None,
    Some(("WALIA_JIT", "kernels")),
    Some(("WALIA_JIT", "0")),
    Some(("WALIA_JIT_BAIL", "2")),
];

fn walia_in(tier: Option<(&str, &str)>, code: &str, input: &[u8]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
    cmd.args(["run", "--memory", "-e", code])
        .current_dir(dir.path())
        .env_remove("WALIA_JIT")
        .env_remove("WALIA_JIT_BAIL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some((k, v)) = tier {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn walia");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // A writer thread: a script that reads nothing must not block the test on a full pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for walia");
    writer.join().expect("writer");
    out
}

/// Run in every tier; each must give the same stdout and status. Returns them.
fn run(code: &str, input: &[u8]) -> (String, i32, String) {
    let mut first: Option<(String, i32, String)> = None;
    for tier in TIERS {
        let out = walia_in(*tier, code, input);
        let got = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        match &first {
            None => first = Some(got),
            Some(f) => assert_eq!((&f.0, f.1), (&got.0, got.1), "tier {tier:?} differs"),
        }
    }
    first.unwrap_or_default()
}

#[test]
fn read_line_reads_each_line_then_nil() {
    let code = r#"
        var line = read_line();
        var n = 0;
        while (line != nil) { n = n + 1; print n + ": [" + line + "]"; line = read_line(); }
        print read_line();
    "#;
    let (out, status, err) = run(code, b"alpha\r\n\nlast without newline");
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, "1: [alpha]\n2: []\n3: [last without newline]\nnil\n");
}

#[test]
fn stdin_lines_is_a_pipeline_source() {
    let input = (1..=2000).map(|i| format!("{i}\n")).collect::<String>();
    let code = "print stdin_lines() |> map(l => int(l)) |> filter(n => n % 3 == 0) |> sum();";
    let (out, status, err) = run(code, input.as_bytes());
    assert_eq!(status, 0, "{err}");
    let expected: i64 = (1..=2000).filter(|n| n % 3 == 0).sum();
    assert_eq!(out, format!("{expected}\n"));
}

#[test]
fn the_readers_take_up_where_the_last_stopped() {
    let code = r#"
        print read_line();
        print stdin_lines() |> take(2) |> collect();
        print read_stdin();
        print read_stdin() == "";
        print stdin_lines() |> count();
    "#;
    let (out, status, err) = run(code, b"one\ntwo\nthree\nfour\nfive\n");
    assert_eq!(status, 0, "{err}");
    // `take(2)` may read no further than it needs: "four" is still there.
    assert_eq!(out, "one\n[\"two\", \"three\"]\nfour\nfive\n\ntrue\n0\n");
}

#[test]
fn bad_input_is_an_error_naming_stdin() {
    let (out, status, err) = run(
        "stdin_lines() |> each(l => print l) |> run();",
        b"ok\n\xff\n",
    );
    assert_eq!(out, "ok\n");
    assert_eq!(status, 70);
    assert!(err.contains("'<stdin>' line 2: invalid UTF-8"), "{err}");
    let (_, status, err) = run("read_stdin();", b"\xfe");
    assert_eq!(status, 70);
    assert!(
        err.contains("cannot read <stdin>: not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn exit_sets_the_status_of_the_walia_command() {
    let (out, status, err) = run(
        "print read_line(); exit(42); print \"not reached\";",
        b"hi\n",
    );
    assert_eq!((out.as_str(), status, err.as_str()), ("hi\n", 42, ""));
    let (out, status, err) = run("print 1; exit();", b"");
    assert_eq!((out.as_str(), status, err.as_str()), ("1\n", 0, ""));
    let (_, status, err) = run("exit(300);", b"");
    assert_eq!(status, 70);
    assert!(
        err.contains("'exit' expects a code from 0 to 255, got 300"),
        "{err}"
    );
}
