//! `import "file.wal";` across runs of one heap and within one engine (docs/language.md
//! "Modules"): what a multi-file conformance case cannot show.

mod common;

use common::walia_in;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn run(dir: &Path, args: &[&str]) -> String {
    let (out, err, code) = walia_in(dir, args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    assert_eq!(err, "", "{args:?}");
    out
}

#[test]
fn imported_functions_persist_and_a_new_import_rebinds_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::write(
        d.join("util.wal"),
        "fun scale(x) { x * 2 }\nvar loads = (loads or 0) + 1;\n",
    )
    .expect("write");
    let first = run(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "import \"util.wal\"; print scale(5);",
        ],
    );
    assert_eq!(first, "10\n");
    // A run that does not import the file still has its globals, functions included.
    let stored = run(
        d,
        &["--heap", "h.wld", "-e", "print scale(4); print loads;"],
    );
    assert_eq!(stored, "8\n1\n");
    // Importing again runs the file's current text: the function is redeclared.
    fs::write(
        d.join("util.wal"),
        "fun scale(x) { x * 3 }\nvar loads = (loads or 0) + 1;\n",
    )
    .expect("write");
    let again = run(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "import \"util.wal\"; print scale(4); print loads;",
        ],
    );
    assert_eq!(again, "12\n2\n");
    let after = run(d, &["--heap", "h.wld", "-e", "print scale(1);"]);
    assert_eq!(after, "3\n");
}

#[test]
fn a_checkpointed_pipe_in_an_imported_file_resumes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::create_dir(d.join("lib")).expect("mkdir");
    fs::write(
        d.join("lib").join("totals.wal"),
        "var crash = len(args()) > 0;\n\
         var total = 0..10 |> map(x => if (crash and x == 7) error(\"crash at 7\") else x)\n\
             |> checkpoint_at(2) |> sum();\n",
    )
    .expect("write");
    fs::write(
        d.join("main.wal"),
        "import \"lib/totals.wal\";\nprint total;\n",
    )
    .expect("write");
    let (out, err, code) = walia_in(d, &["--heap", "h.wld", "run", "main.wal", "crash"]);
    assert_eq!((out.as_str(), code), ("", Some(70)), "{err}");
    assert!(err.contains("crash at 7"), "{err}");
    assert!(
        err.contains("totals.wal:2:"),
        "the error names the imported file: {err}"
    );
    // The next run resumes the interrupted pass: the sum covers the whole range.
    assert_eq!(run(d, &["--heap", "h.wld", "run", "main.wal"]), "45\n");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_engine_loads_each_file_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::write(
        d.join("greet.wal"),
        "print \"loading greet\";\nfun hi() { \"hi\" }\n",
    )
    .expect("write");
    let out = Captured::default();
    let mut engine = walia::Engine::with_output(Box::new(out.clone()));
    let main = d.join("main.wal").display().to_string();
    engine
        .run_named(&main, "import \"greet.wal\"; print hi();")
        .expect("first run");
    // As in a REPL session: the second input's import finds the file loaded already.
    engine
        .run_named(&main, "import \"greet.wal\"; print hi() + \"!\";")
        .expect("second run");
    let printed = String::from_utf8_lossy(&out.0.lock().expect("lock")).into_owned();
    assert_eq!(printed, "loading greet\nhi\nhi!\n");
}

#[test]
fn a_failed_compile_does_not_mark_its_imports_loaded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::write(d.join("part.wal"), "print \"part runs\";\n").expect("write");
    let out = Captured::default();
    let mut engine = walia::Engine::with_output(Box::new(out.clone()));
    let main = d.join("main.wal").display().to_string();
    let failed = engine.run_named(&main, "import \"part.wal\"; print undeclared;");
    assert!(failed.is_err());
    engine
        .run_named(&main, "import \"part.wal\";")
        .expect("second run");
    let printed = String::from_utf8_lossy(&out.0.lock().expect("lock")).into_owned();
    assert_eq!(printed, "part runs\n");
}

#[test]
fn a_failed_run_does_not_keep_its_imports_loaded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::write(d.join("part.wal"), "fun helper() { 42 }\n").expect("write");
    let out = Captured::default();
    let mut engine = walia::Engine::with_output(Box::new(out.clone()));
    engine
        .open_heap(d.join("h.wld"), walia::Durability::Async)
        .expect("heap");
    let main = d.join("main.wal").display().to_string();
    // The import runs, then the run fails: its globals, helper included, roll back.
    let failed = engine.run_named(&main, "import \"part.wal\"; error(\"boom\");");
    assert!(failed.is_err());
    engine
        .run_named(&main, "import \"part.wal\"; print helper();")
        .expect("the second run imports the file again");
    let printed = String::from_utf8_lossy(&out.0.lock().expect("lock")).into_owned();
    assert_eq!(printed, "42\n");
}
