//! Differential tests of the three pipeline tiers (SPEC §11, DESIGN decision 6).
//!
//! A pipeline over a table or a range whose stages are in the native subset runs as
//! compiled machine code (the default), in the batch kernels (`WALIA_JIT=kernels`) or in
//! the interpreter (`WALIA_JIT=0`). Every tier must print the same stdout, the same
//! diagnostics (message, span, "at source element N" note) and exit code, and leave the
//! same heap. Each program here runs in four ways and all are compared with the
//! interpreter:
//!
//! - `WALIA_JIT=0` (the reference),
//! - `WALIA_JIT=kernels`,
//! - `WALIA_JIT` unset (native code where possible),
//! - `WALIA_JIT_BAIL=N --explain` (native code, every N-th page or chunk bails to the
//!   kernels; N is 3 for the hand-written programs and 1, 2, 3 or 5 for the random ones; the
//!   plans `--explain` writes to stderr are removed before comparing and counted for the
//!   summary).
//!
//! `random_pipelines` generates random programs from a seeded generator: a table (Int,
//! Float and Bool columns, nil values by omitted keys, deleted rows, edge values, sizes
//! around the 500-row page and the 1024-number range chunk) and one to three pipelines over
//! it or over a range, built from the native subset, each printed with its terminal's result
//! (and every row afterwards when the pipeline writes). Some programs keep the table in a
//! heap file: the table is committed by a first run, the pipelines run in a second (a failing
//! update must roll back) and a third prints the rows; `walia inspect --json` then compares the
//! heaps (globals, tables, column types, cursors). A mismatch is shrunk (stages, pipelines,
//! subexpressions, rows removed while the tiers still disagree) and reported with the script
//! and every tier's output.
//!
//! Environment: `WALIA_DIFF_CASES=N` runs N random programs (default 600, 15 to 30 s on two
//! cores in release), `WALIA_DIFF_SEED=S` changes the seed (every case's seed is printed with
//! its failure), `WALIA_DIFF_SHRINK=0` turns shrinking off.
//!
//! `edge_cases` runs a fixed list of hand-written programs the same way, some with expected
//! output. `once_mismatched` keeps programs where the tiers once disagreed.
//!
//! The parts, in `native_diff/`: `runner.rs` runs a program in every tier and compares the
//! outputs, `case.rs` models a random program and writes its scripts, `generator.rs`
//! generates and shrinks random programs, `edges.rs` holds the hand-written programs.

mod common;

#[path = "native_diff/case.rs"]
mod case;
#[path = "native_diff/edges.rs"]
mod edges;
#[path = "native_diff/generator.rs"]
mod generator;
#[path = "native_diff/runner.rs"]
mod runner;

use common::{Rng, env_count};
use edges::{edge_cases, once_mismatched, rollback_program};
use generator::{Gen, shrink};
use runner::{Program, RunOut, Stats, first_difference, run_program, shown_run, shown_text};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Random programs
// ---------------------------------------------------------------------------------------

#[test]
fn random_pipelines() {
    let cases = env_count("WALIA_DIFF_CASES", 600);
    let base = std::env::var("WALIA_DIFF_SEED")
        .ok()
        .and_then(|s| {
            let s = s.trim_start_matches("0x");
            u64::from_str_radix(s, 16).ok()
        })
        .unwrap_or(0x5eed_d1ff);
    let shrinking = std::env::var("WALIA_DIFF_SHRINK").map_or(true, |v| v != "0");
    let started = Instant::now();
    let mut stats = Stats::default();
    let mut failures = Vec::new();
    for k in 0..cases as u64 {
        let seed = base
            .wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .max(1);
        let mut g = Gen {
            rng: Rng(seed),
            fresh: 0,
        };
        // Warm the generator up: xorshift's first outputs from close seeds are close.
        for _ in 0..4 {
            g.below(2);
        }
        let case = g.case(seed);
        let outcome = run_program(&case.program());
        stats.add(&outcome.stats);
        if let Some(out) = &outcome.setup_failed {
            failures.push(format!(
                "case {k} (seed {seed:#x}): the setup script failed (a generator bug)\n{}{}",
                case.program().shown(),
                shown_run(out)
            ));
            continue;
        }
        let tiers = outcome.mismatches();
        if tiers.is_empty() {
            continue;
        }
        let (small, steps) = if shrinking {
            shrink(case.clone(), Duration::from_secs(120))
        } else {
            (case.clone(), 0)
        };
        let report = run_program(&small.program()).report(&small.program());
        let msg = format!(
            "case {k} (seed {seed:#x}): tiers {tiers:?} differ from the interpreter; shrunk in {steps} steps to:\n{report}"
        );
        println!("{msg}");
        failures.push(msg);
        if failures.len() >= 5 {
            break;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "native_diff: {cases} random programs in {elapsed:.1?}; {} ended in an error; {} pipelines: {} native loop, {} batch kernels, {} interpreter",
        stats.failed_runs, stats.pipelines, stats.native, stats.kernels, stats.interpreted
    );
    println!(
        "  heap files whose page counts differ between tiers (contents equal): {}",
        stats.page_counts_differ
    );
    let mut reasons: Vec<_> = stats.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    for (why, n) in reasons.iter().take(40) {
        println!("  {n:5} {why}");
    }
    let no_compiler = stats
        .reasons
        .keys()
        .any(|r| r.contains("no native compiler"));
    assert!(
        cases == 0 || stats.native > 0 || no_compiler,
        "no random pipeline ran as a native loop: the test compares nothing native"
    );
    assert!(
        failures.is_empty(),
        "{} random programs found a difference between tiers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Hand-written edge cases
// ---------------------------------------------------------------------------------------

#[test]
fn edge_cases_agree() {
    let mut failures = Vec::new();
    for e in edge_cases() {
        let outcome = run_program(&e.program);
        let tiers = outcome.mismatches();
        if !tiers.is_empty() {
            failures.push(format!(
                "{}: tiers {tiers:?} differ from the interpreter:\n{}",
                e.name,
                outcome.report(&e.program)
            ));
            continue;
        }
        if let Some((stdout, code)) = e.expect {
            let r = &outcome.runs[0][0];
            if r.stdout != stdout || r.code != Some(code) {
                failures.push(format!(
                    "{}: expected exit {code} and stdout\n{}got\n{}",
                    e.name,
                    shown_text(stdout),
                    shown_run(r)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn failing_update_rolls_back() {
    let (program, expected) = rollback_program();
    let outcome = run_program(&program);
    assert!(
        outcome.setup_failed.is_none(),
        "{}",
        outcome.report(&program)
    );
    let tiers = outcome.mismatches();
    assert!(
        tiers.is_empty(),
        "tiers {tiers:?} differ from the interpreter:\n{}",
        outcome.report(&program)
    );
    let main = &outcome.runs[0][0];
    assert_eq!(main.code, Some(70), "{}", outcome.report(&program));
    assert!(
        main.stderr.contains("division by zero") && main.stderr.contains("at source element 800"),
        "{}",
        outcome.report(&program)
    );
    let after = &outcome.runs[0][1];
    assert_eq!(after.code, Some(0), "{}", outcome.report(&program));
    assert!(
        after.stdout == expected,
        "the rows after the failed update are not the committed ones:\n{}",
        first_difference(
            &RunOut {
                stdout: expected.clone(),
                stderr: String::new(),
                code: Some(0)
            },
            after
        )
    );
}

// ---------------------------------------------------------------------------------------
// Programs where the tiers once disagreed.
// ---------------------------------------------------------------------------------------

/// The heap file too: a native update once made every page of the written column writable
/// (a copy-on-write copy) before it knew whether a row of the page is written, so an update
/// that writes nothing left 27 file pages (22 used, 5 free) where the others leave 22.
#[test]
fn native_update_writing_nothing_copies_no_pages() {
    let program = Program {
        setup: Some("for (i in 0..1200) db_insert(\"T\", {id: i, a: i, b: i * 0.5});\n".into()),
        main: "print db.T |> filter(u => u.id > 100000) |> map(u => u.a = 1) |> count();\n".into(),
        after: Some("print db.T.count();\n".into()),
        bail: 3,
    };
    let outcome = run_program(&program);
    assert!(
        outcome.mismatches().is_empty(),
        "{}",
        outcome.report(&program)
    );
    assert_eq!(
        outcome.stats.page_counts_differ, 0,
        "the heap files' page counts differ between tiers (walia inspect h.wld)"
    );
}

#[test]
fn programs_that_once_mismatched_agree() {
    let mut failures = Vec::new();
    for e in once_mismatched() {
        let outcome = run_program(&e.program);
        let tiers = outcome.mismatches();
        if !tiers.is_empty() {
            failures.push(format!(
                "{}: tiers {tiers:?} differ:\n{}",
                e.name,
                outcome.report(&e.program)
            ));
        } else if let Some((stdout, code)) = e.expect
            && (outcome.runs[0][0].stdout != stdout || outcome.runs[0][0].code != Some(code))
        {
            failures.push(format!("{}: not the expected output", e.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
