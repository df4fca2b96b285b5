//! The write lock's messages: what the CLI says to do about a heap another process is
//! writing, and what a second Engine of the same process is told.

use std::process::Command;
use std::sync::Mutex;
use walia::{Durability, Engine};

/// The two tests of this file run one at a time. The lock is the file's `flock`, held by
/// its open file description, and a child process spawned by one test shares every
/// descriptor of this process from its fork until its exec (which closes them): the other
/// test's heap stays locked that long after its engine let go, and its reopening failed
/// now and then.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn a_second_engine_in_the_same_process_is_told_so() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("h.wld");
    let mut first = Engine::with_output(Box::new(std::io::sink()));
    first
        .open_heap(&path, Durability::Immediate)
        .expect("first open");
    let mut second = Engine::with_output(Box::new(std::io::sink()));
    let err = second
        .open_heap(&path, Durability::Immediate)
        .expect_err("a second writer in one process");
    let message = err.to_string();
    assert_eq!(err.exit_code(), 74);
    assert!(
        message.contains("already open for writing in this process"),
        "{message}"
    );
    assert!(message.contains("h.wld"), "{message}");
    // It does not blame "another writer" with our own pid.
    assert!(
        !message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    // Once the first lets go, the second opens it.
    first.close_heap().expect("close");
    second
        .open_heap(&path, Durability::Immediate)
        .expect("open after the first closed");
}

#[test]
fn a_heap_locked_by_another_process_gets_a_hint() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("h.wld");
    let mut holder = Engine::with_output(Box::new(std::io::sink()));
    holder
        .open_heap(&path, Durability::Immediate)
        .expect("open");
    holder.run("var total = 42;").expect("run");
    let walia = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_walia"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("WALIA_HEAP")
            .output()
            .expect("run walia")
    };
    let o = walia(&["--heap", "h.wld", "-e", "print total;"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(74), "{err}");
    assert!(
        err.contains(&format!(
            "locked by another writer (pid {})",
            std::process::id()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: wait for that process to finish, or run against the heap's last commit with --read-only"),
        "{err}"
    );
    // The hint's way works beside the writer.
    let o = walia(&[
        "run",
        "--read-only",
        "--heap",
        "h.wld",
        "-e",
        "print total;",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "42\n");
    // An import needs the lock: its hint only says to wait.
    std::fs::write(dir.path().join("t.csv"), "id\n1\n").expect("write csv");
    let o = walia(&["import", "h.wld", "T", "t.csv"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(74), "{err}");
    assert!(
        err.contains("hint: wait for that process to finish"),
        "{err}"
    );
    assert!(!err.contains("--read-only"), "{err}");
}
