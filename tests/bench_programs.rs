//! The programs of bench/general (issue 21's benchmark set) stay valid Walia: each one
//! compiles, each has its Lua and Python twins and its expected output, and the two
//! string-processing ones print that output. bench/general.py times them against Lua and
//! Python; these tests only keep them from rotting as the language changes (the other six
//! take seconds each and are run by the runner, which checks their output every run).

use std::path::{Path, PathBuf};
use std::process::Command;

const PROGRAMS: [&str; 8] = [
    "binary_trees",
    "nbody",
    "spectral_norm",
    "fannkuch",
    "mandelbrot",
    "word_freq",
    "richards",
    "csv_lines",
];

/// The extra shapes (`bench/general.py --extra`), held to the same twins and output.
const EXTRAS: [&str; 9] = [
    "queens",
    "matmul",
    "sieve",
    "collatz",
    "lcs",
    "bfs",
    "intloop",
    "strmethods",
    "recur",
];

fn general_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench")
        .join("general")
}

/// Runs `walia ARGS` in a fresh temp directory: (stdout, stderr, success).
fn walia(args: &[&str]) -> (String, String, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run walia");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn every_program_compiles_and_has_its_twins_and_expected_output() {
    for name in PROGRAMS.into_iter().chain(EXTRAS) {
        let dir = general_dir();
        for ext in ["wal", "lua", "py", "out"] {
            let file = dir.join(format!("{name}.{ext}"));
            assert!(file.is_file(), "missing {}", file.display());
        }
        let wal = dir.join(format!("{name}.wal"));
        let path = wal.to_str().expect("utf-8 path");
        let (stdout, stderr, ok) = walia(&["check", "--memory", path]);
        assert!(ok, "{name}.wal does not compile:\n{stderr}");
        assert_eq!(stdout, "", "walia check printed something for {name}.wal");
    }
}

#[test]
fn the_string_programs_print_their_expected_output() {
    for name in ["csv_lines", "word_freq"] {
        let dir = general_dir();
        let wal = dir.join(format!("{name}.wal"));
        let expected =
            std::fs::read_to_string(dir.join(format!("{name}.out"))).expect("read expected output");
        let (stdout, stderr, ok) = walia(&["run", "--memory", wal.to_str().expect("utf-8 path")]);
        assert!(ok, "{name}.wal failed:\n{stderr}");
        assert_eq!(stdout, expected, "{name}.wal printed something else");
    }
}
