//! `walia run --explain FILE` (SPEC §11): as each pipeline first runs, its plan goes to stderr
//! as a line `pipe LINE:COL`, one line per source, stage and terminal, and a last line that is
//! exactly `compiled` or `not compiled: REASON`. stdout is the same as without `--explain`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `walia` with `args` then the script's path (so `args` are options of `run`), in a
/// fresh directory, without `WALIA_HEAP` and with `WALIA_JIT` set as given (removed when
/// `None`).
fn walia(args: &[&str], source: &str, jit_env: Option<&str>) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("script.wal");
    std::fs::File::create(&script)
        .and_then(|mut f| f.write_all(source.as_bytes()))
        .expect("write script");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
    cmd.args(args)
        .arg(&script)
        .current_dir(dir.path())
        .env_remove("WALIA_HEAP")
        .stdin(Stdio::null());
    match jit_env {
        Some(v) => cmd.env("WALIA_JIT", v),
        None => cmd.env_remove("WALIA_JIT"),
    };
    cmd.output().expect("run walia")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One explained pipeline: the `pipe LINE:COL` location and the lines after it.
#[derive(Debug)]
struct Plan {
    location: String,
    lines: Vec<String>,
}

impl Plan {
    /// The last line: `compiled` or `not compiled: REASON`.
    fn verdict(&self) -> &str {
        self.lines.last().map(String::as_str).unwrap_or("")
    }
}

/// Splits stderr into plans; every line must belong to one (the scripts here do not fail).
fn plans(err: &str) -> Vec<Plan> {
    let mut out: Vec<Plan> = Vec::new();
    for line in err.lines() {
        if let Some(loc) = line.strip_prefix("pipe ") {
            out.push(Plan {
                location: loc.to_owned(),
                lines: Vec::new(),
            });
        } else {
            let plan = out
                .last_mut()
                .unwrap_or_else(|| panic!("stderr line outside a plan: {line:?}\n{err}"));
            plan.lines.push(line.to_owned());
        }
    }
    for p in &out {
        let v = p.verdict();
        assert!(
            v == "compiled" || v.starts_with("not compiled: "),
            "plan at {} does not end with a verdict: {:?}\n{err}",
            p.location,
            p.lines
        );
    }
    out
}

/// Runs `run --memory --explain` (compilation on) and returns the output and its plans.
fn explain(source: &str) -> (Output, Vec<Plan>) {
    let o = walia(&["run", "--memory", "--explain"], source, None);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let p = plans(&stderr(&o));
    (o, p)
}

#[test]
fn range_pipeline_with_sum_is_compiled() {
    let (o, plans) = explain("var n = 10;\nprint 0..n |> map(x => x * 2) |> sum();\n");
    assert_eq!(stdout(&o), "90\n");
    assert_eq!(plans.len(), 1, "{plans:?}");
    let p = &plans[0];
    assert_eq!(p.location, "2:7");
    assert_eq!(p.lines.len(), 4, "{}", stderr(&o));
    assert_eq!(
        p.lines[..2],
        ["  source: range", "  stage 1: map(x => x * 2)"]
    );
    // The terminal's line says which tier runs the pipeline, and the compile time.
    let terminal = &p.lines[2];
    assert!(
        terminal.starts_with("  terminal: sum()  [native loop: Cranelift, compiled in ")
            && terminal.ends_with(" ms]"),
        "{terminal}"
    );
    assert_eq!(p.lines[3], "compiled");
}

#[test]
fn the_terminal_line_names_the_tier_that_runs_the_pipeline() {
    let src = "print 0..10 |> map(x => x + 1) |> run();\n";
    let o = walia(&["run", "--memory", "--explain"], src, Some("kernels"));
    let p = plans(&stderr(&o));
    assert_eq!(
        p[0].lines[2],
        "  terminal: run()  [batch kernels: native compilation is off (WALIA_JIT=kernels)]"
    );
    let o = walia(&["run", "--memory", "--explain"], src, Some("0"));
    let p = plans(&stderr(&o));
    assert_eq!(p[0].lines[2], "  terminal: run()");
    assert!(p[0].verdict().starts_with("not compiled: "));
    // An `and` of two types as a value has no one native type: the kernels run it.
    let src = "print 0..10 |> map(x => x > 3 and x) |> count();\n";
    let o = walia(&["run", "--memory", "--explain"], src, None);
    assert_eq!(stdout(&o), "10\n");
    let p = plans(&stderr(&o));
    assert_eq!(
        p[0].lines[2],
        "  terminal: count()  [batch kernels: stage 1: its `and`/`or` gives values of two types]"
    );
    assert_eq!(p[0].verdict(), "compiled");
}

#[test]
fn plan_lists_every_stage_in_order() {
    let (o, plans) =
        explain("print 0..100 |> filter(x => x % 2 == 0) |> skip(3) |> take(5) |> count();\n");
    assert_eq!(stdout(&o), "5\n");
    assert_eq!(plans.len(), 1, "{plans:?}");
    let lines = &plans[0].lines;
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert_eq!(lines[0], "  source: range");
    assert!(lines[1].starts_with("  stage 1: filter("), "{lines:?}");
    assert!(lines[2].starts_with("  stage 2: skip(3"), "{lines:?}");
    assert!(lines[3].starts_with("  stage 3: take(5"), "{lines:?}");
    assert!(lines[4].starts_with("  terminal: count("), "{lines:?}");
    assert_eq!(plans[0].verdict(), "compiled");
}

#[test]
fn table_pipeline_is_compiled() {
    let src = "@sql class T { var id; var a; var b; }\n\
               for (i in 1..11) db.T.insert({id: i, a: i, b: i * 0.5});\n\
               print db.T |> filter(r => r.a > 5) |> map(r => r.b) |> sum();\n";
    let (o, plans) = explain(src);
    assert_eq!(stdout(&o), "20.0\n");
    assert_eq!(plans.len(), 1, "{plans:?}");
    assert_eq!(plans[0].location, "3:7");
    assert_eq!(plans[0].verdict(), "compiled", "{plans:?}");
}

#[test]
fn each_stage_is_not_compiled() {
    let (o, plans) = explain("print 0..5 |> each(x => x) |> map(x => x + 1) |> sum();\n");
    assert_eq!(stdout(&o), "15\n");
    assert_eq!(plans.len(), 1, "{plans:?}");
    let v = plans[0].verdict();
    assert!(v.starts_with("not compiled: stage"), "verdict: {v:?}");
    assert!(v.contains("each"), "the reason names the stage: {v:?}");
}

#[test]
fn list_source_is_not_compiled() {
    let (o, plans) = explain("print [1, 2, 3] |> map(x => x * 2) |> sum();\n");
    assert_eq!(stdout(&o), "12\n");
    assert_eq!(plans.len(), 1, "{plans:?}");
    assert_eq!(plans[0].lines[0], "  source: list");
    let v = plans[0].verdict();
    assert!(
        v.starts_with("not compiled: the source is a list"),
        "verdict: {v:?}"
    );
}

#[test]
fn collect_terminal_is_not_compiled() {
    let (o, plans) = explain("print 0..4 |> map(x => x * 2) |> collect();\n");
    assert_eq!(stdout(&o), "[0, 2, 4, 6]\n");
    assert_eq!(plans.len(), 1, "{plans:?}");
    let v = plans[0].verdict();
    assert!(v.starts_with("not compiled: "), "verdict: {v:?}");
    assert!(
        v.contains("collect"),
        "the reason names the terminal: {v:?}"
    );
}

#[test]
fn no_jit_turns_compilation_off() {
    let src = "print 0..10 |> map(x => x * 2) |> sum();\n";
    for (args, env) in [
        (vec!["run", "--memory", "--explain", "--no-jit"], None),
        (vec!["run", "--memory", "--explain"], Some("0")),
    ] {
        let o = walia(&args, src, env);
        assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
        assert_eq!(stdout(&o), "90\n");
        let plans = plans(&stderr(&o));
        assert_eq!(plans.len(), 1, "{args:?} {env:?}: {plans:?}");
        let v = plans[0].verdict();
        assert!(
            v.starts_with("not compiled: compilation is off"),
            "{args:?} WALIA_JIT={env:?}: verdict {v:?}"
        );
    }
}

#[test]
fn each_location_is_explained_once_even_in_a_loop() {
    let src = "var total = 0;\n\
               for (i in 0..5) {\n\
               \x20 var c = 0..i |> filter(x => x > 0) |> count();\n\
               \x20 var s = [i, i] |> map(x => x) |> sum();\n\
               \x20 total = total + c + s;\n\
               }\n\
               fun f(n) { return 0..n |> map(x => x + 1) |> sum(); }\n\
               print total;\n\
               print f(3) + f(4) + f(5);\n\
               print 0..3 |> map(x => x + 1) |> sum();\n";
    let (o, plans) = explain(src);
    assert_eq!(stdout(&o), "26\n31\n6\n");
    let locations: Vec<&str> = plans.iter().map(|p| p.location.as_str()).collect();
    assert_eq!(
        locations,
        ["3:11", "4:11", "7:19", "10:7"],
        "one plan per pipeline location, in first-run order:\n{}",
        stderr(&o)
    );
}

#[test]
fn stdout_is_unaffected_by_explain() {
    let src = "@sql class T { var id; var a; var b; }\n\
               for (i in 1..1201) db.T.insert({id: i, a: i, b: 0.5});\n\
               print db.T |> map(u => u.a = u.a * 2) |> take(501) |> sum();\n\
               print 0..3000 |> filter(x => x % 7 == 0) |> map(x => x / 2) |> avg();\n\
               print [1, 2, 3] |> each(x => print x) |> count();\n\
               print 0..5000 |> skip(1020) |> take(6) |> collect();\n\
               print (0..2000 |> collect()) |> take_while(x => x < 1500) |> last();\n\
               for (i in 0..3) print 0..i |> map(x => x * x) |> sum();\n";
    let plain = walia(&["run", "--memory"], src, None);
    let explained = walia(&["run", "--memory", "--explain"], src, None);
    let interpreted = walia(&["run", "--memory", "--explain", "--no-jit"], src, None);
    assert_eq!(plain.status.code(), Some(0), "stderr: {}", stderr(&plain));
    assert_eq!(
        stderr(&plain),
        "",
        "without --explain nothing goes to stderr"
    );
    for o in [&explained, &interpreted] {
        assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
        assert_eq!(stdout(o), stdout(&plain));
        assert!(!stdout(o).contains("pipe "), "plans go to stderr only");
        assert!(
            !stdout(o).contains("compiled"),
            "plans go to stderr only: {}",
            stdout(o)
        );
    }
    assert_eq!(
        plans(&stderr(&explained)).len(),
        6,
        "{}",
        stderr(&explained)
    );
    assert_eq!(
        plans(&stderr(&interpreted)).len(),
        6,
        "{}",
        stderr(&interpreted)
    );
}

/// `run()` is named `run()` whether it ends a pipe or is called as a stream's method (it
/// was once shown as `count()`, which it shares a loop with).
#[test]
fn run_is_explained_as_run() {
    let src = "var s = (0..10) |> map(x => x + 1);\nprint s.run();\nprint s |> run();\n";
    let (o, plans) = explain(src);
    assert_eq!(stdout(&o), "10\n10\n");
    assert_eq!(plans.len(), 2, "{}", stderr(&o));
    for p in &plans {
        assert!(p.lines[2].starts_with("  terminal: run()"), "{p:?}");
    }
}
