//! The `walia` command: exit codes, subcommands, stdin and arguments.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn walia(args: &[&str], stdin: Option<&str>) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn walia");
    if let Some(mut input) = child.stdin.take()
        && let Some(text) = stdin
    {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for walia")
}

fn script(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".wal")
        .tempfile()
        .expect("temp file");
    f.write_all(text.as_bytes()).expect("write script");
    f
}

fn path(f: &tempfile::NamedTempFile) -> &str {
    f.path().to_str().expect("utf-8 path")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_prints_and_exits_zero() {
    let f = script("print 1 + 1;");
    for args in [
        vec!["run", path(&f)],
        vec![path(&f)],
        vec!["--memory", "run", path(&f)],
    ] {
        let o = walia(&args, None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "2\n");
    }
}

#[test]
fn missing_script_is_an_io_error() {
    let o = walia(&["run", "no/such/file.wal"], None);
    assert_eq!(o.status.code(), Some(74));
    assert!(stderr(&o).contains("no/such/file.wal"), "{}", stderr(&o));
}

#[test]
fn compile_errors_exit_65_and_report_every_error() {
    let f = script("var a = ;\nprint 1 +;\nprint nope;\n");
    let o = walia(&["run", path(&f)], None);
    assert_eq!(o.status.code(), Some(65));
    let err = stderr(&o);
    assert!(err.contains(":1:") && err.contains(":2:"), "{err}");
}

#[test]
fn undefined_name_suggests_a_close_one() {
    let f = script("var count = 1;\nprint coutn;\n");
    let o = walia(&["check", path(&f)], None);
    assert_eq!(o.status.code(), Some(65));
    assert!(
        stderr(&o).contains("did you mean 'count'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn runtime_error_exits_70_with_location_and_stack() {
    let f = script("fun f(x) {\n  return x / 0;\n}\nprint 1;\nf(1);\n");
    let o = walia(&["run", path(&f)], None);
    assert_eq!(o.status.code(), Some(70));
    assert_eq!(stdout(&o), "1\n");
    let err = stderr(&o);
    assert!(err.contains("division by zero"), "{err}");
    assert!(err.contains(":2:"), "{err}");
    assert!(err.contains("at f"), "{err}");
}

#[test]
fn check_is_silent_on_success() {
    let f = script("fun f() { return 1; }\n");
    let o = walia(&["check", path(&f)], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
}

#[test]
fn test_command_runs_tests_and_summarises() {
    let f = script(
        "print \"top\";\ntest \"ok\" { assert(1 == 1); }\ntest \"bad\" { assert(1 == 2, \"nope\"); }\ntest \"ok2\" { print \"in test\"; }\n",
    );
    let o = walia(&["test", path(&f)], None);
    assert_eq!(o.status.code(), Some(70));
    assert_eq!(stdout(&o), "top\nin test\n2 passed, 1 failed\n");
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
    let run = walia(&["run", path(&f)], None);
    assert_eq!(stdout(&run), "top\n", "run skips test blocks");
}

#[test]
fn passing_tests_exit_zero() {
    let f = script("test \"a\" { assert(true); }\n");
    let o = walia(&["test", path(&f)], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "1 passed, 0 failed\n");
}

#[test]
fn scripts_run_from_stdin() {
    let o = walia(&[], Some("print \"piped\";"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "piped\n");
    let o = walia(&["-"], Some("print 2;"));
    assert_eq!(stdout(&o), "2\n");
}

#[test]
fn eval_flag_passes_arguments() {
    let o = walia(&["-e", "print args();", "a", "b"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "[\"a\", \"b\"]\n");
    let f = script("print args();");
    let o = walia(&["run", path(&f), "x", "--y"], None);
    assert_eq!(stdout(&o), "[\"x\", \"--y\"]\n");
}

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    assert_eq!(walia(&["--no-such-flag"], None).status.code(), Some(64));
    assert_eq!(walia(&["run"], None).status.code(), Some(64));
    for cmd in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["test", "--help"],
        vec!["check", "--help"],
    ] {
        let o = walia(&cmd, None);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("Usage"), "{}", stdout(&o));
    }
}

#[test]
fn max_depth_limits_recursion() {
    let f = script("fun f(n) { if (n == 0) return 0; return 1 + f(n - 1); }\nprint f(500);\n");
    let o = walia(&["--max-depth", "100", "run", path(&f)], None);
    assert_eq!(o.status.code(), Some(70));
    assert!(stderr(&o).contains("stack overflow"), "{}", stderr(&o));
    let o = walia(&["--max-depth", "1000", "run", path(&f)], None);
    assert_eq!(stdout(&o), "500\n");
}

#[test]
fn invalid_utf8_script_is_reported() {
    let mut f = tempfile::Builder::new()
        .suffix(".wal")
        .tempfile()
        .expect("temp");
    f.write_all(b"print \"\xff\";").expect("write");
    let o = walia(&["run", path(&f)], None);
    assert_eq!(o.status.code(), Some(74));
    assert!(stderr(&o).contains("UTF-8"), "{}", stderr(&o));
}

#[test]
fn memory_bombs_are_runtime_errors_not_aborts() {
    let bomb = script("var s = \"x\"; while (true) { s = s + s; }");
    for form in [
        vec!["run", "--memory", "--max-memory", "100M", path(&bomb)],
        vec!["--memory", "--max-memory", "104857600", path(&bomb)],
    ] {
        let o = walia(&form, None);
        assert_eq!(o.status.code(), Some(70), "{form:?}");
        assert!(
            stderr(&o).contains("memory limit exceeded (100 MB)"),
            "{}",
            stderr(&o)
        );
    }
    let o = walia(&["--memory", "--max-memory", "lots", path(&bomb)], None);
    assert_eq!(o.status.code(), Some(64));
    // Without a ceiling, an allocation the system refuses is "out of memory" (exit 70),
    // not an abort: address space limited to 1.5 GB.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 1500000 && exec '{}' --memory '{}'",
            env!("CARGO_BIN_EXE_walia"),
            path(&bomb)
        ))
        .output()
        .expect("sh");
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    assert!(stderr(&o).contains("out of memory"), "{}", stderr(&o));
}

#[test]
fn import_stops_at_the_record_cap_unless_raised() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("t.csv");
    std::fs::write(&data, format!("name\nann\n{}", "z".repeat(3000))).expect("write");
    let heap = dir.path().join("h.wld");
    let (heap, data) = (heap.to_str().expect("utf-8"), data.to_str().expect("utf-8"));
    let o = walia(&["import", "--max-record", "2K", heap, "T", data], None);
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("line 3") && stderr(&o).contains("2 KiB"),
        "{}",
        stderr(&o)
    );
    let o = walia(&["import", "--max-record", "4K", heap, "T", data], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("imported 2 rows"), "{}", stdout(&o));
}

#[test]
fn a_missing_script_named_like_a_command_suggests_the_command() {
    let stderr = |args: &[&str]| {
        let out = walia(args, None);
        (
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let (err, code) = stderr(&["tset"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(err.contains("cannot read 'tset'"), "{err}");
    assert!(
        err.contains("did you mean the command `walia test`?"),
        "{err}"
    );
    // A name like no command, or a path, gets no hint.
    let (err, code) = stderr(&["nosuch"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
    let (err, _) = stderr(&["dir/tset"]);
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn a_missing_script_creates_no_heap() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        &["nosuch.wal"][..],
        &["run", "nosuch.wal"],
        &["test", "nosuch.wal"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_walia"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("WALIA_HEAP")
            .stdin(Stdio::null())
            .output()
            .expect("run walia");
        assert_eq!(out.status.code(), Some(74), "{args:?}");
        assert!(
            !dir.path().join("walia.wld").exists(),
            "{args:?} created ./walia.wld"
        );
    }
}
