//! Checkpointed pipes from the command line (SPEC §9, §13): warm boot with `walia resume`
//! and `walia run HEAP.wld` from another directory, `inspect` (text and JSON) and
//! `verify` listing and checking cursors, damaged cursor records included.

mod common;

use common::walia_in;
use std::path::Path;
use walia_runtime::api::{Durability, Heap};

/// A pipe over 1..100 whose element 57 fails while the file `fail` exists beside the
/// heap: the first run stops after the checkpoint at 50.
const FAILING: &str = r#"
var d = (1..101)
    |> map(x => { if (x == 57 and file_exists("fail")) { error("boom at " + str(x)); } x * 2 })
    |> checkpoint_at(10, "d");
print(d.sum());
"#;

/// Run FAILING once in `dir` (heap `h.wld`): exit 70, the heap at the checkpoint of 50.
fn interrupted_heap(dir: &Path) {
    std::fs::write(dir.join("d.wal"), FAILING).expect("write script");
    std::fs::write(dir.join("fail"), "").expect("write marker");
    let (out, err, code) = walia_in(dir, &["--heap", "h.wld", "d.wal"]);
    assert_eq!(code, Some(70), "{out}{err}");
    assert!(err.contains("boom at 57"), "{err}");
    assert!(err.contains("at position 50"), "{err}");
    std::fs::remove_file(dir.join("fail")).expect("remove marker");
}

#[test]
fn resume_from_another_directory_finishes_the_pass_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    interrupted_heap(dir.path());
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let heap = dir.path().join("h.wld");
    let heap = heap.to_str().expect("utf-8 path");
    let (out, err, code) = walia_in(elsewhere.path(), &["resume", heap]);
    assert_eq!(code, Some(0), "{err}");
    // The whole pass's sum, as if it had never been interrupted.
    assert_eq!(out, "d: 10100\n");
    // Nothing is left to resume.
    let (out, err, code) = walia_in(elsewhere.path(), &["resume", heap]);
    assert_eq!((out.as_str(), code), ("", Some(0)), "{err}");
    // No script was needed, and none was looked for in the other directory.
    assert!(!elsewhere.path().join("walia.wld").exists());
}

#[test]
fn run_heap_file_is_a_warm_boot() {
    let dir = tempfile::tempdir().expect("temp dir");
    interrupted_heap(dir.path());
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let heap = dir.path().join("h.wld");
    let heap = heap.to_str().expect("utf-8 path");
    let (out, err, code) = walia_in(elsewhere.path(), &["run", heap]);
    assert_eq!((out.as_str(), code), ("d: 10100\n", Some(0)), "{err}");
    let (out, err, code) = walia_in(elsewhere.path(), &["run", heap]);
    assert_eq!((out.as_str(), code), ("", Some(0)), "{err}");
    // The script run again starts a new pass from the end: nothing new to add.
    let (out, err, code) = walia_in(dir.path(), &["--heap", "h.wld", "d.wal"]);
    assert_eq!((out.as_str(), code), ("0\n", Some(0)), "{err}");
    // stderr is not a terminal here: no progress line.
    assert_eq!(err, "");
}

#[test]
fn resume_of_a_missing_heap_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, err, code) = walia_in(dir.path(), &["resume", "nothing.wld"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(!dir.path().join("nothing.wld").exists());
}

#[test]
fn inspect_lists_cursors_with_their_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    interrupted_heap(dir.path());
    let (out, err, code) = walia_in(dir.path(), &["inspect", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("cursors (1):\n"), "{out}");
    let line = out
        .lines()
        .skip_while(|l| !l.starts_with("cursors"))
        .find(|l| l.trim_start().starts_with("d "))
        .unwrap_or_else(|| panic!("no line for d in:\n{out}"));
    for part in [
        "interrupted",
        "50/100",
        "every 10",
        "5 checkpoints",
        "map(x =>",
    ] {
        assert!(line.contains(part), "{part} missing from {line}");
    }

    let (out, err, code) = walia_in(dir.path(), &["inspect", "--json", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let cursors = v["cursors"].as_array().expect("cursors array");
    assert_eq!(cursors.len(), 1, "{out}");
    let c = &cursors[0];
    assert_eq!(c["name"], "d");
    assert_eq!(c["state"], "interrupted");
    assert_eq!(c["position"], 50);
    assert_eq!(c["total"], 100);
    assert_eq!(c["every"], 10);
    assert_eq!(c["checkpoints"], 5);
    assert_eq!(c["resumes"], 0);
    assert_eq!(c["passes"], 0);
    assert!(c["definition"].as_str().is_some_and(|d| d.contains("map(")));

    // After the warm boot: finished, at the end.
    let (_, err, code) = walia_in(dir.path(), &["resume", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    let (out, _, _) = walia_in(dir.path(), &["inspect", "--json", "h.wld"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let c = &v["cursors"][0];
    assert_eq!(
        (&c["state"], &c["position"]),
        (&"finished".into(), &100.into())
    );
    assert_eq!((&c["resumes"], &c["passes"]), (&1.into(), &1.into()));
}

#[test]
fn inspect_and_verify_without_cursors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, err, code) = walia_in(dir.path(), &["-e", "var x = 1;"]);
    assert_eq!(code, Some(0), "{err}");
    let (out, _, code) = walia_in(dir.path(), &["inspect"]);
    assert_eq!(code, Some(0));
    assert!(out.ends_with("cursors (0):\n"), "{out}");
    let (out, _, _) = walia_in(dir.path(), &["inspect", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["cursors"], serde_json::json!([]));
    let (out, err, code) = walia_in(dir.path(), &["verify", "walia.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("0 cursors checked"), "{out}");
}

#[test]
fn verify_passes_on_a_heap_with_cursors() {
    let dir = tempfile::tempdir().expect("temp dir");
    interrupted_heap(dir.path());
    let (out, err, code) = walia_in(dir.path(), &["verify", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("1 cursor checked"), "{out}");
    let (_, err, code) = walia_in(dir.path(), &["resume", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    let (out, err, code) = walia_in(dir.path(), &["verify", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("1 cursor checked"), "{out}");
}

/// Store `bytes` under the cursor key of `name`, as a damaged writer might have.
fn put_cursor_entry(heap: &Path, name: &str, bytes: &[u8]) {
    let mut h = Heap::open_file(heap, Durability::Immediate).expect("open heap");
    let mut key = b"c".to_vec();
    key.extend_from_slice(name.as_bytes());
    h.put(&key, bytes).expect("put");
    h.pager.commit().expect("commit");
}

fn global_entry(heap: &Path, name: &str) -> Vec<u8> {
    let mut h = Heap::open_reader(heap).expect("open heap");
    h.global_entry(name).expect("read").expect("stored global")
}

#[test]
fn damaged_cursors_are_named_by_verify_and_listed_by_inspect() {
    let dir = tempfile::tempdir().expect("temp dir");
    interrupted_heap(dir.path());
    let heap = dir.path().join("h.wld");
    let (_, err, code) = walia_in(dir.path(), &["--heap", "h.wld", "-e", "var m = {a: 1};"]);
    assert_eq!(code, Some(0), "{err}");
    // A map that is not a cursor.
    let map = global_entry(&heap, "m");
    put_cursor_entry(&heap, "bad", &map);

    let (out, err, code) = walia_in(dir.path(), &["verify", "h.wld"]);
    assert_eq!(code, Some(74), "{out}{err}");
    assert!(err.contains("checkpointed pipe 'bad'"), "{err}");
    assert!(err.contains("damaged"), "{err}");
    assert!(!err.contains("'d'"), "{err}");

    // inspect lists the sound cursor and reports the damaged one on its line.
    let (out, err, code) = walia_in(dir.path(), &["inspect", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("cursors (2):"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("bad") && l.contains("damaged")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.contains("50/100")), "{out}");
    let (out, _, code) = walia_in(dir.path(), &["inspect", "--json", "h.wld"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["cursors"][0]["name"], "bad");
    assert_eq!(v["cursors"][0]["state"], "damaged");
    assert!(v["cursors"][0]["error"].as_str().is_some());
    assert_eq!(v["cursors"][1]["position"], 50);

    // A cursor entry referring to an object that is not stored: the reference check
    // treats cursor entries like globals.
    let mut dangling = map.clone();
    let n = dangling.len();
    assert!(n >= 8, "a reference entry");
    dangling[n - 8..].copy_from_slice(&(u64::MAX / 3).to_le_bytes());
    put_cursor_entry(&heap, "bad", &dangling);
    let (out, err, code) = walia_in(dir.path(), &["verify", "h.wld"]);
    assert_eq!(code, Some(74), "{out}{err}");
    assert!(err.contains("checkpointed pipe 'bad'"), "{err}");
    assert!(err.contains("missing object"), "{err}");
    let (out, err, code) = walia_in(dir.path(), &["inspect", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("bad") && l.contains("damaged")),
        "{out}"
    );

    // Not a map at all.
    let (_, err, code) = walia_in(dir.path(), &["--heap", "h.wld", "-e", "var k = 5;"]);
    assert_eq!(code, Some(0), "{err}");
    put_cursor_entry(&heap, "bad", &global_entry(&heap, "k"));
    let (_, err, code) = walia_in(dir.path(), &["verify", "h.wld"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(err.contains("'bad'") && err.contains("not a map"), "{err}");
}

#[test]
fn objects_a_cursor_reaches_survive_the_collector() {
    // The cursor's stream is reachable only from the cursor once the global is gone.
    let dir = tempfile::tempdir().expect("temp dir");
    interrupted_heap(dir.path());
    // Many rewrites make the collector sweep; the cursor keeps its stream alive.
    let churn = "var d = nil; var junk = nil; var i = 0; \
                 while (i < 300) { junk = [i]; checkpoint(); i = i + 1; }";
    let (_, err, code) = walia_in(dir.path(), &["--heap", "h.wld", "-e", churn]);
    assert_eq!(code, Some(0), "{err}");
    let (out, err, code) = walia_in(dir.path(), &["verify", "h.wld"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (out, err, code) = walia_in(dir.path(), &["resume", "h.wld"]);
    assert_eq!((out.as_str(), code), ("d: 10100\n", Some(0)), "{err}");
}
