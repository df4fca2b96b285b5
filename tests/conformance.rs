//! Conformance suite for the `walia` binary.
//!
//! Every `tests/cases/**/*.wal` is run through the binary and its stdout, exit code and stderr
//! are compared with the sibling `.out` and `.err` files. See `tests/cases/README.md` for the
//! file format. Set `WALIA_CASES=substring` to run only the cases whose path contains it.
//!
//! Every `walia run` case is run four times against the same expectations, once in each
//! pipeline tier (SPEC §11 and DESIGN decision 6 require identical output and diagnostics):
//! as is (native loops where the pipeline allows them, else batch kernels), with
//! `WALIA_JIT=kernels` (batch kernels, no native code), with `WALIA_JIT=0` (every pipeline
//! in the interpreter) and with `WALIA_JIT_BAIL=2` (native loops, every second page or
//! range chunk bailing to the kernels). A failure names the execution. The tiers differ only
//! in how pipelines run, so a case whose text has no `|>` and calls no stage or terminal by
//! name (see [`may_run_a_pipeline`]) runs only as is and in the interpreter.

use std::fmt::Write as _;
mod common;

use common::Exec;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Wall-clock limit for one case; the process is killed when it runs longer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many bytes of each output stream are kept (the rest is drained and dropped).
const MAX_CAPTURE: usize = 4 << 20;
/// At most this many lines of each output are shown in a failure report.
const MAX_SHOWN_LINES: usize = 40;

/// How a case is run, chosen by the first line of the `.wal` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `walia run --memory FILE` (the default).
    Run,
    /// `walia test --memory FILE` (first line `// cmd: test`).
    Test,
    /// `walia check FILE` (first line `// cmd: check`).
    Check,
}

/// One run of one case: the case's index in the sorted list and the execution.
type Job = (usize, Exec);

/// What a case expects.
struct Expected {
    stdout: String,
    code: i32,
    stderr_substrings: Vec<String>,
}

/// A job's index in the job list and its failure report (`None` when it passed).
type CaseResult = (usize, Option<String>);

/// What the binary did.
struct Actual {
    stdout: String,
    stderr: String,
    /// `None` when killed by a signal or by the timeout.
    code: Option<i32>,
    timed_out: bool,
    elapsed: Duration,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cases")
}

fn collect_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_cases(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "wal")
            // `NAME.mod.wal`: a module that cases import, not a case of its own.
            && !path.to_string_lossy().ends_with(".mod.wal")
        {
            out.push(path);
        }
    }
}

/// The case's path relative to `tests/cases`, with `/` separators.
fn display_name(path: &Path) -> String {
    let base = cases_dir();
    let rel = path.strip_prefix(&base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn mode_of(source: &str) -> Mode {
    let first = source.lines().next().unwrap_or("").trim();
    match first {
        "// cmd: test" => Mode::Test,
        "// cmd: check" => Mode::Check,
        _ => Mode::Run,
    }
}

fn load_expected(case: &Path) -> Result<Expected, String> {
    let out_path = case.with_extension("out");
    let stdout = fs::read_to_string(&out_path)
        .map_err(|e| format!("cannot read {}: {e}", out_path.display()))?;
    let err_path = case.with_extension("err");
    if !err_path.exists() {
        return Ok(Expected {
            stdout,
            code: 0,
            stderr_substrings: Vec::new(),
        });
    }
    let text = fs::read_to_string(&err_path)
        .map_err(|e| format!("cannot read {}: {e}", err_path.display()))?;
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim();
    let code = first.parse::<i32>().map_err(|_| {
        format!(
            "{}: first line must be an exit code, got {first:?}",
            err_path.display()
        )
    })?;
    let stderr_substrings = lines
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Expected {
        stdout,
        code,
        stderr_substrings,
    })
}

/// Spawns a thread that reads `reader` to the end, keeping at most `MAX_CAPTURE` bytes.
fn drain<R: Read + Send + 'static>(mut reader: R) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = MAX_CAPTURE.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        kept
    })
}

fn run_binary(case: &Path, mode: Mode, exec: Exec) -> Result<Actual, String> {
    let workdir = tempfile::tempdir().map_err(|e| format!("cannot create temp dir: {e}"))?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
    match mode {
        Mode::Run => cmd.arg("run").arg("--memory"),
        Mode::Test => cmd.arg("test").arg("--memory"),
        Mode::Check => cmd.arg("check"),
    };
    exec.apply(&mut cmd);
    cmd.arg(case)
        .current_dir(workdir.path())
        .env_remove("WALIA_HEAP")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", env!("CARGO_BIN_EXE_walia")))?;
    let out_reader = drain(child.stdout.take().expect("piped stdout"));
    let err_reader = drain(child.stderr.take().expect("piped stderr"));
    let mut timed_out = false;
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > TIMEOUT => {
                timed_out = true;
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for the process failed: {e}")),
        }
    };
    let elapsed = start.elapsed();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Actual {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        code: status.and_then(|s| s.code()),
        timed_out,
        elapsed,
    })
}

fn shown(text: &str) -> String {
    let mut s = String::new();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for line in lines.iter().take(MAX_SHOWN_LINES) {
        let _ = writeln!(s, "    |{}", line.trim_end_matches('\n').escape_debug());
    }
    if lines.len() > MAX_SHOWN_LINES {
        let _ = writeln!(s, "    ... ({} more lines)", lines.len() - MAX_SHOWN_LINES);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        let _ = writeln!(s, "    (no newline at end)");
    }
    if text.is_empty() {
        let _ = writeln!(s, "    (empty)");
    }
    s
}

/// Describes where two outputs first differ.
fn first_difference(expected: &str, actual: &str) -> String {
    let exp: Vec<&str> = expected.split_inclusive('\n').collect();
    let act: Vec<&str> = actual.split_inclusive('\n').collect();
    for i in 0..exp.len().max(act.len()) {
        let (e, a) = (exp.get(i), act.get(i));
        if e != a {
            let show = |l: Option<&&str>| match l {
                Some(l) => format!("{:?}", l),
                None => "(end of output)".to_owned(),
            };
            return format!(
                "  first difference at stdout line {}:\n    expected {}\n    actual   {}\n",
                i + 1,
                show(e),
                show(a)
            );
        }
    }
    String::new()
}

/// Runs one case in one execution; `None` when it passed, else the failure report.
fn check_case(case: &Path, exec: Exec) -> Option<String> {
    let name = display_name(case);
    let source = match fs::read_to_string(case) {
        Ok(s) => s,
        Err(e) => {
            return Some(format!(
                "FAIL {name} [{}]: cannot read the case: {e}\n",
                exec.label()
            ));
        }
    };
    let mode = mode_of(&source);
    let expected = match load_expected(case) {
        Ok(e) => e,
        Err(e) => {
            return Some(format!(
                "FAIL {name} [{}]: bad expectation files: {e}\n",
                exec.label()
            ));
        }
    };
    let actual = match run_binary(case, mode, exec) {
        Ok(a) => a,
        Err(e) => return Some(format!("FAIL {name} [{}]: {e}\n", exec.label())),
    };

    let mut problems = Vec::new();
    if actual.timed_out {
        problems.push(format!("timed out after {:?} (killed)", TIMEOUT));
    }
    if actual.stdout != expected.stdout {
        problems.push("stdout differs".to_owned());
    }
    if actual.code != Some(expected.code) {
        let got = match actual.code {
            Some(c) => c.to_string(),
            None => "none (killed by a signal or the timeout)".to_owned(),
        };
        problems.push(format!("exit code: expected {}, got {got}", expected.code));
    }
    for needle in &expected.stderr_substrings {
        if !actual.stderr.contains(needle.as_str()) {
            problems.push(format!("stderr lacks {needle:?}"));
        }
    }
    if problems.is_empty() {
        return None;
    }

    let mut report = String::new();
    let _ = writeln!(
        report,
        "FAIL {name} [{}] ({mode:?}, {:.2?})",
        exec.label(),
        actual.elapsed
    );
    for p in &problems {
        let _ = writeln!(report, "  - {p}");
    }
    if actual.stdout != expected.stdout {
        report.push_str(&first_difference(&expected.stdout, &actual.stdout));
        let _ = write!(report, "  expected stdout:\n{}", shown(&expected.stdout));
        let _ = write!(report, "  actual stdout:\n{}", shown(&actual.stdout));
    }
    let _ = write!(report, "  stderr:\n{}", shown(&actual.stderr));
    Some(report)
}

/// Can running `source` reach a pipeline (where the tiers differ)? True when it has a `|>`
/// or calls a stage or terminal by name, in any form (`filter(s, f)`, `s.count()`); a case
/// without either never builds a stream.
fn may_run_a_pipeline(source: &str) -> bool {
    const NAMES: &[&str] = &[
        "filter",
        "map",
        "take",
        "skip",
        "take_while",
        "each",
        "enumerate",
        "flat_map",
        "db_insert",
        "checkpoint_at",
        "parallel",
        "count",
        "length",
        "sum",
        "min",
        "max",
        "avg",
        "reduce",
        "first",
        "last",
        "collect",
        "to_list",
        "group_by",
        "sort_by",
        "join",
        "any",
        "all",
        "run",
        "find",
    ];
    if source.contains("|>") {
        return true;
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    NAMES.iter().any(|name| {
        source.match_indices(name).any(|(at, _)| {
            let before = source[..at].chars().next_back();
            let after = source[at + name.len()..].trim_start().chars().next();
            !before.is_some_and(ident) && after == Some('(')
        })
    })
}

#[test]
fn conformance() {
    let mut cases = Vec::new();
    collect_cases(&cases_dir(), &mut cases);
    cases.sort();
    let filter = std::env::var("WALIA_CASES").ok().filter(|f| !f.is_empty());
    if let Some(f) = &filter {
        cases.retain(|c| display_name(c).contains(f.as_str()));
    }
    assert!(
        !cases.is_empty(),
        "no conformance cases found (filter: {filter:?})"
    );

    // Every case runs as is; a `walia run` case runs again in each other tier.
    let mut jobs: Vec<Job> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        jobs.push((i, Exec::Default));
        let is_run = fs::read_to_string(case).is_ok_and(|s| mode_of(&s) == Mode::Run);
        if is_run {
            jobs.push((i, Exec::Interpreter));
            if fs::read_to_string(case).is_ok_and(|s| may_run_a_pipeline(&s)) {
                jobs.push((i, Exec::Kernels));
                jobs.push((i, Exec::Bail));
            }
        }
    }

    let threads = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
        .min(jobs.len());
    let cases = Arc::new(cases);
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let results: Arc<Mutex<Vec<CaseResult>>> = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (cases, jobs, next, results) =
                (cases.clone(), jobs.clone(), next.clone(), results.clone());
            thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(case, exec)) = jobs.get(i) else {
                        break;
                    };
                    let outcome = check_case(&cases[case], exec);
                    results.lock().expect("results lock").push((i, outcome));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker thread panicked");
    }

    let mut results = std::mem::take(&mut *results.lock().expect("results lock"));
    results.sort_by_key(|(i, _)| *i);
    let failures: Vec<&String> = results.iter().filter_map(|(_, r)| r.as_ref()).collect();
    for f in &failures {
        println!("{f}");
    }
    let passed = results.len() - failures.len();
    let interpreted = jobs.iter().filter(|(_, e)| *e == Exec::Interpreter).count();
    let tiered = jobs.iter().filter(|(_, e)| *e == Exec::Kernels).count();
    println!(
        "conformance: {passed} passed, {} failed ({} cases; {interpreted} of them also run with WALIA_JIT=0, {tiered} also with WALIA_JIT=kernels and WALIA_JIT_BAIL=2)",
        failures.len(),
        cases.len()
    );
    if !failures.is_empty() {
        let names: Vec<String> = failures
            .iter()
            .filter_map(|f| f.lines().next())
            .map(|l| l.trim_start_matches("FAIL ").to_owned())
            .collect();
        panic!(
            "conformance: {} of {} runs failed:\n  {}",
            failures.len(),
            results.len(),
            names.join("\n  ")
        );
    }
}

/// Runs the binary with `args` in a fresh directory; returns (stdout, stderr, exit code).
fn walia(args: &[&str], dir: &Path) -> (String, String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(args)
        .current_dir(dir)
        .env_remove("WALIA_HEAP")
        .stdin(Stdio::null())
        .output()
        .expect("start walia");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Command-line behaviours that a `.wal` case cannot express (§5, §13, §15).
#[test]
fn cli_exit_codes_and_args() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();

    // A missing script is an I/O error (74).
    let (_, err, code) = walia(&["run", "--memory", "no_such_script.wal"], dir.path());
    if code != Some(74) {
        failures.push(format!(
            "missing script: expected exit 74, got {code:?}; stderr: {err}"
        ));
    }

    // A usage error exits 64.
    let (_, err, code) = walia(&["--no-such-flag-xyz"], dir.path());
    if code != Some(64) {
        failures.push(format!(
            "unknown flag: expected exit 64, got {code:?}; stderr: {err}"
        ));
    }

    // Script arguments are visible through args().
    let script = dir.path().join("args.wal");
    fs::write(&script, "print args();\nprint len(args());\n").expect("write script");
    let script_arg = script.to_string_lossy().into_owned();
    let (out, err, code) = walia(&["run", "--memory", &script_arg, "a", "b c"], dir.path());
    if out != "[\"a\", \"b c\"]\n2\n" || code != Some(0) {
        failures.push(format!(
            "args(): expected [\"a\", \"b c\"] and 2 with exit 0, got {out:?} exit {code:?}; stderr: {err}"
        ));
    }

    // -e runs a string (the heap file lands in the temp dir).
    let (out, err, code) = walia(&["-e", "print 1 + 2;"], dir.path());
    if out != "3\n" || code != Some(0) {
        failures.push(format!(
            "-e: expected \"3\\n\" with exit 0, got {out:?} exit {code:?}; stderr: {err}"
        ));
    }

    assert!(
        failures.is_empty(),
        "cli failures:\n{}",
        failures.join("\n")
    );
}
