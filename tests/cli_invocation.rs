//! How `walia` is invoked: when a heap file appears, where options may be written, what
//! each command's help lists, `run -e`, `--color`, completions and the man page.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Run walia in `dir` with no $WALIA_HEAP or $NO_COLOR from the caller, feeding `stdin`.
fn walia_in(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("WALIA_HEAP")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().expect("spawn walia");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for walia")
}

fn walia(dir: &Path, args: &[&str]) -> Output {
    walia_in(dir, args, &[], "")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary directory holding `ok.wal` (compiles, touches no global), `bad.wal` (a syntax
/// error) and `undefined.wal` (a name error).
fn scripts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        ("ok.wal", "print args();\n"),
        ("bad.wal", "var x = ;\n"),
        ("undefined.wal", "print nope;\n"),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write script");
    }
    dir
}

#[test]
fn no_heap_file_appears_unless_a_script_that_compiled_runs() {
    let dir = scripts();
    let d = dir.path();
    let heap = d.join("walia.wld");
    let cases: &[(&[&str], i32)] = &[
        (&["check", "ok.wal"], 0),
        (&["check", "bad.wal"], 65),
        (&["check", "undefined.wal"], 65),
        (&["--help"], 0),
        (&["--version"], 0),
        (&["run", "--help"], 0),
        (&["bad.wal"], 65),
        (&["run", "bad.wal"], 65),
        (&["undefined.wal"], 65),
        (&["-e", "var x = ;"], 65),
        (&["run", "-e", "print nope;"], 65),
        (&["test", "--heap", "walia.wld", "bad.wal"], 65),
        (&["inspect"], 74),
        (&["inspect", "walia.wld"], 74),
        (&["verify", "walia.wld"], 74),
        (&["completions", "bash"], 0),
        (&["man"], 0),
    ];
    for (args, code) in cases {
        let o = walia(d, args);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {}", stderr(&o));
        assert!(!heap.exists(), "walia {args:?} created ./walia.wld");
    }
    // A script read from standard input follows the same rule.
    let o = walia_in(d, &["-"], &[], "var x = ;");
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    assert!(!heap.exists(), "a bad script on stdin created ./walia.wld");
    // A script that compiles creates the heap when it runs, even if it stores nothing: the
    // rule is "a run that starts", not "a run that writes" (README, "The heap").
    let o = walia(d, &["ok.wal"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(heap.exists(), "a run that compiled made no heap");
}

#[test]
fn walia_options_after_the_script_name_reach_the_script_with_a_warning() {
    let dir = scripts();
    let d = dir.path();
    // Right after FILE an option is still walia's; from the script's first argument on,
    // everything is the script's.
    let o = walia(
        d,
        &[
            "ok.wal",
            "--memory",
            "plain",
            "--memory",
            "--heap=h.wld",
            "--own",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "[\"plain\", \"--memory\", \"--heap=h.wld\", \"--own\"]\n"
    );
    let err = stderr(&o);
    assert!(
        err.contains(
            "warning: '--memory' after the script name is passed to the script as an argument; \
             put walia's options before FILE"
        ),
        "{err}"
    );
    assert!(err.contains("'--heap' after the script name"), "{err}");
    assert!(!err.contains("--own"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    // The first --memory was walia's: no heap file.
    assert!(!d.join("walia.wld").exists());
    for args in [
        &["run", "--memory", "ok.wal", "a", "--no-jit"][..],
        &["--memory", "-e", "print args();", "a", "b", "--read-only"],
    ] {
        let o = walia(d, args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).contains("is passed to the script"), "{args:?}");
    }
    // After `--` the arguments are the script's by request: no warning.
    let o = walia(d, &["--memory", "ok.wal", "--", "--memory"]);
    assert_eq!(stdout(&o), "[\"--memory\"]\n");
    assert_eq!(stderr(&o), "");
    let o = walia(d, &["--memory", "ok.wal", "a", "--", "--memory"]);
    assert_eq!(stdout(&o), "[\"a\", \"--\", \"--memory\"]\n");
    assert_eq!(stderr(&o), "");
}

#[test]
fn options_written_before_the_command_still_apply() {
    let dir = scripts();
    let d = dir.path();
    std::fs::write(d.join("count.wal"), "var n = (n or 0) + 1; print n;").expect("write");
    for args in [
        &["--heap", "h.wld", "run", "count.wal"][..],
        &["run", "--heap", "h.wld", "count.wal"],
        &["--heap=h.wld", "count.wal"],
    ] {
        let o = walia(d, args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
    assert!(!d.join("walia.wld").exists());
    let o = walia(d, &["--heap", "h.wld", "inspect"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("n"), "{}", stdout(&o));
    let o = walia(d, &["--heap", "h.wld", "--read-only", "run", "count.wal"]);
    assert_eq!(stdout(&o), "4\n", "{}", stderr(&o));
    let o = walia(d, &["--heap", "h.wld", "run", "-e", "print n;"]);
    assert_eq!(stdout(&o), "3\n", "the read-only run committed nothing");
    // An option the command does not honour is a usage error wherever it is written.
    std::fs::write(d.join("t.csv"), "id\n1\n").expect("write csv");
    for args in [
        &["--memory", "import", "h.wld", "T", "t.csv"][..],
        &["import", "--memory", "h.wld", "T", "t.csv"],
        &["export", "--quiet", "h.wld", "T", "out.csv"],
        &["--no-jit", "check", "ok.wal"],
    ] {
        let o = walia(d, args);
        assert_eq!(o.status.code(), Some(64), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("unexpected argument"), "{}", stderr(&o));
    }
}

/// The long options a help text lists.
fn listed_options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix("--")
                .or_else(|| l.split(", --").nth(1))
        })
        .filter_map(|l| l.split([' ', '<']).next())
        .map(|name| format!("--{name}"))
        .collect()
}

#[test]
fn each_command_lists_only_the_options_it_honours() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = [
        "--heap",
        "--memory",
        "--read-only",
        "--durability",
        "--no-jit",
        "--explain",
        "--max-depth",
        "--max-memory",
        "--quiet",
        "--max-record",
        "--color",
        "--help",
    ];
    let expected: &[(&str, &[&str])] = &[
        ("run", &run),
        ("test", &run),
        (
            "resume",
            &[
                "--durability",
                "--no-jit",
                "--explain",
                "--max-depth",
                "--max-memory",
                "--quiet",
                "--max-record",
                "--color",
                "--help",
            ],
        ),
        ("check", &["--heap", "--memory", "--color", "--help"]),
        ("inspect", &["--heap", "--json", "--color", "--help"]),
        ("verify", &["--color", "--help"]),
        (
            "import",
            &[
                "--skip-bad",
                "--delimiter",
                "--durability",
                "--quiet",
                "--max-record",
                "--color",
                "--help",
            ],
        ),
        ("export", &["--delimiter", "--color", "--help"]),
        (
            "show",
            &[
                "--limit",
                "--all",
                "--where",
                "--no-jit",
                "--explain",
                "--max-depth",
                "--max-memory",
                "--color",
                "--help",
            ],
        ),
        ("drop", &["--durability", "--color", "--help"]),
        ("compact", &["--quiet", "--color", "--help"]),
    ];
    for (command, options) in expected {
        let o = walia(dir.path(), &[command, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        let mut listed = listed_options(&stdout(&o));
        listed.sort();
        let mut options: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        options.sort();
        assert_eq!(listed, options, "walia {command} --help:\n{}", stdout(&o));
    }
    let o = walia(dir.path(), &["run", "--help"]);
    assert!(stdout(&o).contains("-e <CODE>"), "{}", stdout(&o));
}

#[test]
fn run_takes_dash_e() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = walia(
        dir.path(),
        &["run", "--memory", "-e", "print args();", "a", "b"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "[\"a\", \"b\"]\n");
    let o = walia(dir.path(), &["run", "-e", "print 1 +;", "--memory"]);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("<-e>"), "{}", stderr(&o));
    // Neither a file nor -e: a usage error.
    assert_eq!(walia(dir.path(), &["run"]).status.code(), Some(64));
}

#[test]
fn help_shows_how_to_run_a_report_read_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = walia(dir.path(), &["--help"]);
    assert!(
        stdout(&o).contains("walia run --read-only --heap data.wld report.wal"),
        "{}",
        stdout(&o)
    );
    let o = walia(dir.path(), &["run", "--help"]);
    assert!(
        stdout(&o).contains("Run a report against a heap without growing it"),
        "{}",
        stdout(&o)
    );
}

const ESCAPE: char = '\u{1b}';

#[test]
fn color_follows_the_option_then_no_color() {
    let dir = scripts();
    let d = dir.path();
    let colored = |args: &[&str], env: &[(&str, &str)]| {
        let o = walia_in(d, args, env, "");
        assert_eq!(o.status.code(), Some(65), "{args:?}");
        stderr(&o).contains(ESCAPE)
    };
    assert!(colored(&["--color", "always", "bad.wal"], &[]));
    assert!(colored(&["check", "--color=always", "bad.wal"], &[]));
    assert!(colored(&["--color=always", "check", "bad.wal"], &[]));
    // An explicit --color=always wins over NO_COLOR (no-color.org).
    assert!(colored(
        &["--color", "always", "bad.wal"],
        &[("NO_COLOR", "1")]
    ));
    // auto: stderr is a pipe here, so no colour, with or without NO_COLOR.
    assert!(!colored(&["bad.wal"], &[]));
    assert!(!colored(
        &["--color", "auto", "bad.wal"],
        &[("NO_COLOR", "1")]
    ));
    assert!(!colored(&["--color", "never", "bad.wal"], &[]));
    let o = walia(d, &["--color", "sometimes", "bad.wal"]);
    assert_eq!(o.status.code(), Some(64));
}

#[test]
fn completions_and_man_pages_come_from_the_command_definitions() {
    let dir = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = walia(dir.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for word in ["inspect", "import", "read-only"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    assert_eq!(
        walia(dir.path(), &["completions", "nosh"]).status.code(),
        Some(64)
    );
    let o = walia(dir.path(), &["man"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(
        page.starts_with(".ie") || page.contains(".TH walia 1"),
        "{page}"
    );
    for word in [".TH walia 1", "inspect", "\\-\\-read\\-only"] {
        assert!(page.contains(word), "the man page lacks {word}");
    }
    let o = walia(dir.path(), &["man", "import"]);
    let page = stdout(&o);
    assert!(page.contains(".TH walia-import 1"), "{page}");
    assert!(page.contains("\\-\\-skip\\-bad"), "{page}");
    assert!(!page.contains("\\-\\-memory"), "{page}");
    let o = walia(dir.path(), &["man", "nope"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("import"), "{}", stderr(&o));
}
