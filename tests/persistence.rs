//! Multi-run persistence cases: each directory in `tests/heap_cases/` holds scripts
//! `1.wal`, `2.wal`, ... run in order against one heap file, each with its expected
//! `N.out` (stdout) and optional `N.err` (first line the exit code, then substrings that
//! stderr must contain — the same format as the conformance cases). Each step runs as
//! `walia --heap H run N.wal` in a fresh temporary directory.
//! Like the conformance cases, every case runs twice, each time on its own heap in its own
//! directory: once as is (`WALIA_JIT` removed: pipelines use stage kernels where they can)
//! and once with `WALIA_JIT=0` (every pipeline in the interpreter), since SPEC §11 requires
//! the same output, diagnostics, heap and checkpoint behaviour. A failure names the execution.
//! Set `WALIA_CASES=substring` to run only matching cases.

mod common;

use common::Exec;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("heap_cases");
    let mut out: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn steps(case: &Path) -> Vec<(usize, PathBuf)> {
    let mut steps: Vec<(usize, PathBuf)> = fs::read_dir(case)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter_map(|p| {
                    let stem = p.file_stem()?.to_str()?.parse::<usize>().ok()?;
                    (p.extension()? == "wal").then_some((stem, p))
                })
                .collect()
        })
        .unwrap_or_default();
    steps.sort();
    steps
}

fn run_case(case: &Path, exec: Exec) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let heap = tmp.path().join("h.wld");
    for (n, script) in steps(case) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
        cmd.arg("--heap")
            .arg(&heap)
            .arg("run")
            .arg(&script)
            .current_dir(tmp.path())
            .env_remove("WALIA_HEAP")
            .stdin(Stdio::null());
        exec.apply(&mut cmd);
        let out = cmd.output().map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code().unwrap_or(-1);
        let expected_out = fs::read_to_string(script.with_extension("out")).unwrap_or_default();
        let (expected_code, substrings) = match fs::read_to_string(script.with_extension("err")) {
            Ok(text) => {
                let mut lines = text.lines();
                let code = lines
                    .next()
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap_or(-1);
                (
                    code,
                    lines
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_string)
                        .collect(),
                )
            }
            Err(_) => (0, Vec::<String>::new()),
        };
        if stdout != expected_out {
            return Err(format!(
                "run {n}: stdout differs\n--- expected\n{expected_out}--- actual\n{stdout}--- stderr\n{stderr}"
            ));
        }
        if code != expected_code {
            return Err(format!(
                "run {n}: exit code {code}, expected {expected_code}\n{stderr}"
            ));
        }
        for s in substrings {
            if !stderr.contains(&s) {
                return Err(format!("run {n}: stderr lacks {s:?}\n{stderr}"));
            }
        }
    }
    Ok(())
}

#[test]
fn heap_cases() {
    let filter = std::env::var("WALIA_CASES").unwrap_or_default();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases() {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if !name.contains(&filter) {
            continue;
        }
        for exec in [Exec::Default, Exec::Interpreter] {
            ran += 1;
            if let Err(e) = run_case(&case, exec) {
                failures.push(format!("{name} [{}]: {e}", exec.label()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} heap case runs failed (each case runs twice: default and WALIA_JIT=0):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Run `examples/NAME` from the repository root on heap `heap`; its stdout.
fn run_example(heap: &Path, name: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_walia"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--heap")
        .arg(heap)
        .args(["run", &format!("examples/{name}")])
        .output()
        .expect("run example");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The README's persistence example keeps its state across runs.
#[test]
fn persist_example_counts_runs() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = || run_example(&tmp.path().join("demo.wld"), "persist.wal");
    assert_eq!(run(), "warm boot: false\nrun 1, tick 1\n");
    assert_eq!(run(), "warm boot: true\nrun 1, tick 1\nrun 2, tick 2\n");
}

/// The README's table example imports its CSV and queries it, on a heap file run twice
/// (the second run clears and re-imports, so the output is the same).
#[test]
fn orders_example_imports_and_queries() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = || run_example(&tmp.path().join("orders.wld"), "orders.wal");
    let first = run();
    assert!(
        first.starts_with(
            "imported 6 orders: [\"id\", \"customer\", \"city\", \"amount\", \"paid\"]\n"
        ),
        "{first}"
    );
    assert!(first.contains("\n2 Bob (Porto, Norte): 35.0\n"), "{first}");
    assert!(first.contains("\n5 Bob (Porto, Norte): nil\n"), "{first}");
    assert!(first.contains("marked paid: 2\nAnn: 200.5\n"), "{first}");
    assert!(first.ends_with("orders {id: 4, customer: \"Chloé \\\"CJ\\\" Martin\", city: \"Faro\", amount: 210.25, paid: true}\n"), "{first}");
    assert_eq!(run(), first);
}

/// A stored file stream keeps the absolute path of its file: run from another directory
/// (as a warm boot may be), it reads the same file, not one of the same relative name there.
#[test]
fn a_stored_file_stream_reads_its_file_from_any_directory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (dir, text) in [(&a, "1\n2\n3\n"), (&b, "other\n")] {
        fs::create_dir(dir).expect("mkdir");
        fs::write(dir.join("log.txt"), text).expect("write");
    }
    let heap = a.join("h.wld");
    let run = |dir: &Path, script: &str| {
        fs::write(dir.join("s.wal"), script).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_walia"))
            .arg("--heap")
            .arg(&heap)
            .args(["run", "s.wal"])
            .current_dir(dir)
            .env_remove("WALIA_HEAP")
            .stdin(Stdio::null())
            .output()
            .expect("run walia");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        run(&a, "var s = lines(\"log.txt\"); print s |> count();"),
        "3\n"
    );
    assert_eq!(run(&b, "print s |> count();"), "3\n");
}
