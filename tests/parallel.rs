//! `parallel(n)` gives the serial run's results (SPEC §10): random pipelines over random
//! tables (with nils and deleted rows), ranges and lists, each run with `parallel(1)`,
//! `parallel(2)` and `parallel(3)` and, with `parallel(2)`, in the interpreter
//! (`WALIA_JIT=0`). Stdout, stderr (errors, with their spans and element numbers) and the
//! exit code must be identical. The thread count is a global, so the script's text, and so
//! every span, is the same in all runs.
//!
//! `WALIA_PARALLEL_CASES=N` runs N random cases (default 40).

mod common;

use common::{Rng, env_count};
use std::io::Write;
use std::process::{Command, Stdio};

/// A table pipeline's stage expressions over a row `u` (fields a: Int or nil, b: Float,
/// c: Bool), or over a number `x` (ranges, lists, and after a map).
fn row_expr(rng: &mut Rng) -> String {
    let k = rng.below(50) as i64 - 10;
    match rng.below(10) {
        0 => format!("u.a > {k}"),
        1 => format!("u.a % 7 == {}", k.rem_euclid(7)),
        2 => format!("u.b * {k}"),
        3 => "u.a + u.b".to_string(),
        4 => format!("10 / (u.a - {k})"),
        5 => "if (u.c) u.a else -u.a".to_string(),
        6 => "sqrt(u.b)".to_string(),
        7 => format!("u.c and u.b > {k}"),
        8 => format!("min(u.a, {k}) * 3"),
        _ => format!("u.a * {}", 1_000_000_000_000_000i64 / (k.abs() + 1)),
    }
}

fn number_expr(rng: &mut Rng) -> String {
    let k = rng.below(40) as i64 - 5;
    match rng.below(10) {
        8 => format!("(x * 1.5) % {}", k as f64 / 2.0),
        9 => format!("x % {k} - x / 3"),
        0 => format!("x > {k}"),
        1 => format!("x % 5 == {}", k.rem_euclid(5)),
        2 => format!("x * {k}"),
        3 => format!("x / {k}"),
        4 => "x * 1.5 + 0.25".to_string(),
        5 => format!("if (x > {k}) x else -x"),
        6 => "abs(x) + 1".to_string(),
        _ => format!("x + {}", i64::MAX - 1000 - k),
    }
}

const TERMINALS: &[&str] = &[
    "sum()", "count()", "min()", "max()", "avg()", "first()", "last()", "run()",
];

/// A random script; `P` (set by the caller) is the `parallel` thread count.
fn script(rng: &mut Rng) -> String {
    let mut s = String::new();
    let rows = rng.below(4000);
    let source = match rng.below(3) {
        0 => {
            s.push_str("@sql class T { var id; var a; var b; var c; }\n");
            s.push_str(&format!(
                "for (i in 0..{rows}) db.T.insert({{a: if (i % 13 == 5) nil else (i * 7919) % 1000 - 300, \
                 b: (i % 97) * 1.25 + 0.5, c: i % 3 == 0}});\n"
            ));
            if rng.below(2) == 0 {
                s.push_str(&format!(
                    "for (i in 0..{rows}) if (i % 10 == 3) db_delete_sql(\"T\", i + 1);\n"
                ));
            }
            "db.T"
        }
        1 => {
            let lo = rng.below(2000) as i64 - 1000;
            s.push_str(&format!("var src = {lo}..{};\n", lo + rows as i64));
            "src"
        }
        _ => {
            s.push_str(&format!(
                "var src = (0..{rows}) |> map(i => (i * 31) % 200 - 50) |> collect();\n"
            ));
            "src"
        }
    };
    let mut pipe = format!("{source} |> parallel(P)");
    let mut over_rows = source == "db.T";
    for _ in 0..rng.below(4) {
        let (param, e) = if over_rows {
            ("u", row_expr(rng))
        } else {
            ("x", number_expr(rng))
        };
        match rng.below(8) {
            0..=3 => pipe.push_str(&format!(" |> filter({param} => {e})")),
            4..=6 => {
                pipe.push_str(&format!(" |> map({param} => {e})"));
                over_rows = false;
            }
            _ => pipe.push_str(&format!(" |> take({})", rng.below(3000))),
        }
    }
    if over_rows {
        // Rows print as whole rows; make numbers of them for the terminal.
        pipe.push_str(" |> map(u => u.b)");
    }
    let terminal = TERMINALS[rng.below(TERMINALS.len() as u64) as usize];
    s.push_str(&format!("print {pipe} |> {terminal};\n"));
    s
}

/// Run `source` with `P = threads`: stdout, stderr and the exit code.
fn run(source: &str, threads: u32, jit: bool) -> (String, String, Option<i32>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.wal");
    let text = format!("var P = {threads};\n{source}");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write script");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
    cmd.args(["run", "--memory", "case.wal"])
        .current_dir(dir.path())
        .env_remove("WALIA_HEAP")
        .stdin(Stdio::null());
    if jit {
        cmd.env_remove("WALIA_JIT");
    } else {
        cmd.env("WALIA_JIT", "0");
    }
    let out = cmd.output().expect("run walia");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn parallel_equals_serial_on_random_pipelines() {
    let cases = env_count("WALIA_PARALLEL_CASES", 40);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0;
    for case in 0..cases {
        let source = script(&mut rng);
        let serial = run(&source, 1, true);
        if serial.2 != Some(0) {
            errors += 1;
        }
        for (threads, jit) in [(2, true), (3, true), (2, false)] {
            let other = run(&source, threads, jit);
            assert_eq!(
                serial,
                other,
                "case {case}: parallel({threads}) {} differs from the serial run:\n{source}",
                if jit {
                    "with kernels"
                } else {
                    "in the interpreter"
                }
            );
        }
    }
    // The generator must exercise error paths, but not only them.
    assert!(errors < cases, "every case failed");
}

#[test]
fn a_large_table_is_sharded_with_the_serial_results() {
    // 600 pages: several blocks for terminals that hold outputs (256 pages per thread),
    // many pieces of one block for folds; deleted rows and nils included.
    let source = "@sql class T { var id; var a; var b; }\n\
        for (i in 0..300000) db.T.insert({a: if (i % 1000 == 7) nil else i % 100, b: i * 0.5});\n\
        for (i in 0..300) db_delete_sql(\"T\", i * 1000 + 11);\n\
        print db.T |> parallel(P) |> filter(u => u.b > 10.0) |> map(u => u.b * 3) |> sum();\n\
        print db.T |> parallel(P) |> map(u => u.b) |> count();\n\
        print db.T |> parallel(P) |> filter(u => u.a != nil and u.a > 50) |> map(u => u.a) |> sum();\n";
    let serial = run(source, 1, true);
    assert_eq!(serial.2, Some(0), "{}", serial.1);
    for threads in [2, 4] {
        assert_eq!(run(source, threads, true), serial, "parallel({threads})");
    }
}

#[test]
fn folds_over_many_blocks_keep_the_serial_order() {
    // Float sums depend on the order of the additions; the Int sum promotes to Float in a
    // late block, and the last sum overflows in a late block (an error with its element).
    let source = "print (0..3000000) |> parallel(P) |> map(x => sqrt(x)) |> sum();\n\
        print (0..3000000) |> parallel(P) |> map(x => x * 1.1 / 7) |> avg();\n\
        print (0..3000000) |> parallel(P) |> filter(x => x % 3 == 0) |> count();\n\
        print (0..3000000) |> parallel(P) |> map(x => if (x == 2500000) 0.5 else x) |> sum();\n\
        print (0..3000000) |> parallel(P) |> map(x => x * 3000000) |> sum();\n";
    let serial = run(source, 1, true);
    assert_eq!(serial.2, Some(70), "{}", serial.1);
    assert!(
        serial.1.contains("integer overflow in 'sum'"),
        "{}",
        serial.1
    );
    for threads in [2, 3] {
        assert_eq!(run(source, threads, true), serial, "parallel({threads})");
    }
}

#[test]
fn table_folds_across_blocks_keep_the_serial_order() {
    // 2,200 pages: two blocks of 2,048 pages for a fold at any thread count; the Float
    // sum depends on the order of the additions.
    let source = "@sql class T { var id; var a; var b; }\n\
        for (i in 0..1100000) db.T.insert({a: i % 100, b: sqrt(i)});\n\
        for (i in 0..200) db_delete_sql(\"T\", i * 5000 + 7);\n\
        print db.T |> parallel(P) |> map(u => u.b) |> sum();\n\
        print db.T |> parallel(P) |> filter(u => u.a > 50) |> map(u => u.b * 1.1 / 7) |> avg();\n\
        print db.T |> parallel(P) |> filter(u => u.a % 3 == 0) |> count();\n";
    let serial = run(source, 1, true);
    assert_eq!(serial.2, Some(0), "{}", serial.1);
    for threads in [2, 4] {
        assert_eq!(run(source, threads, true), serial, "parallel({threads})");
    }
}

#[test]
fn int_sums_near_the_page_bound_keep_the_serial_results() {
    // Threads fold a page's Int sum only while it stays within ±2^62 (wrapping adds and
    // one range test); past that the page goes to the kernels. Sums that cross 2^62 and
    // come back, reach 2^63 (an error, with its element) or stay just inside must all be
    // the serial ones.
    let table = "@sql class T { var id; var a; }\n\
        for (i in 0..6000) db.T.insert({a: if (i % 1500 == 700) 4611686018427387903 else if (i % 1500 == 701) -4611686018427387903 else i});\n";
    let cases = [
        "print db.T |> parallel(P) |> map(u => u.a) |> sum();\n",
        "print db.T |> parallel(P) |> map(u => u.a * 2) |> sum();\n",
        "print db.T |> parallel(P) |> filter(u => u.a > 0) |> map(u => u.a) |> sum();\n",
        "print db.T |> parallel(P) |> filter(u => u.a > 4611686018427380000) |> map(u => u.a - 4611686018427380000 + u.a) |> sum();\n",
        "print db.T |> parallel(P) |> filter(u => u.a < 0) |> map(u => u.a * 2 - 1) |> sum();\n",
    ];
    let mut codes = Vec::new();
    for case in cases {
        let source = format!("{table}{case}");
        let serial = run(&source, 1, true);
        codes.push(serial.2);
        for (threads, jit) in [(2, true), (3, true), (2, false)] {
            assert_eq!(
                run(&source, threads, jit),
                serial,
                "parallel({threads}): {case}"
            );
        }
    }
    // Some cases succeed and some overflow.
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(70)),
        "{codes:?}"
    );
}
