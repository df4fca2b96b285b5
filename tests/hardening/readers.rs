//! Readers beside a running writer: `inspect`, `verify`, `check --heap`, `export` and
//! `run --read-only` see one whole commit, never block the writer, and never report damage
//! on a healthy heap. WALIA_READER_SOAK_SECS runs the soak longer (default 3 s).

use crate::common;

use common::walia_in as walia;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SETUP: &str = r#"
@sql class Row { var id; var v; var s; }
var total = 0;
for (i in 0..500) db.Row.insert(Row(i, i, "row " + str(i)));
"#;

/// Rewrites rows, a list and a map and commits after each step: every commit frees pages
/// of the last one and reuses older ones.
const WRITER: &str = r#"
var n = 0;
while (true) {
  n = n + 1;
  var k = n % 500;
  db.Row.delete(k);
  db.Row.insert(Row(k, n, "row " + str(n)));
  total = (0..200) |> map(i => i + n) |> collect();
  checkpoint();
}
"#;

fn start_writer(dir: &Path) -> Child {
    std::fs::write(dir.join("writer.wal"), WRITER).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(["--heap", "h.wld", "--durability", "async", "writer.wal"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it holds the lock and commits.
    let start = Instant::now();
    let first = commit_of(dir);
    while commit_of(dir) <= first + 3 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn commit_of(dir: &Path) -> u64 {
    let (out, _, _) = walia(dir, &["inspect", "h.wld", "--json"]);
    serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|v| v["commit"].as_u64())
        .unwrap_or(0)
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("setup.wal"), SETUP).unwrap();
    let (_, err, code) = walia(dir.path(), &["--heap", "h.wld", "setup.wal"]);
    assert_eq!(code, Some(0), "{err}");
    dir
}

#[test]
fn export_and_read_only_runs_read_beside_a_writer() {
    let dir = setup();
    let d = dir.path();
    let mut writer = start_writer(d);
    // Both needed the write lock before: exit 74 "locked by another process".
    let (out, err, code) = walia(d, &["export", "h.wld", "Row", "rows.csv"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let csv = std::fs::read_to_string(d.join("rows.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        501,
        "a header and every row of one commit"
    );
    std::fs::write(
        d.join("report.wal"),
        "print db.Row.count(); total = -1; print \"ok\";",
    )
    .unwrap();
    let (out, err, code) = walia(d, &["--heap", "h.wld", "--read-only", "report.wal"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "500\nok\n");
    // A table write is an error; nothing is committed.
    std::fs::write(d.join("write.wal"), "db.Row.insert(Row(9999, 1, \"x\"));").unwrap();
    let (_, err, code) = walia(d, &["--heap", "h.wld", "--read-only", "write.wal"]);
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("read-only"), "{err}");
    // A transaction point cannot be kept: an error, not a silent rollback to the commit.
    std::fs::write(d.join("tx.wal"), "var t = 1; db_transaction_begin();").unwrap();
    let (_, err, code) = walia(d, &["--heap", "h.wld", "--read-only", "tx.wal"]);
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("read-only"), "{err}");
    writer.kill().unwrap();
    writer.wait().unwrap();
    std::fs::write(d.join("total.wal"), "print type_of(total);").unwrap();
    let (out, _, _) = walia(d, &["--heap", "h.wld", "total.wal"]);
    assert_eq!(
        out, "List\n",
        "the read-only run's assignment was not committed"
    );
}

#[test]
fn readers_never_report_damage_while_a_writer_commits() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(d.join("report.wal"), "print db.Row.count();").unwrap();
    let mut writer = start_writer(d);
    let secs = common::env_count("WALIA_READER_SOAK_SECS", 3) as u64;
    let end = Instant::now() + Duration::from_secs(secs);
    let commands: [&[&str]; 5] = [
        &["inspect", "h.wld"],
        &["verify", "h.wld"],
        &["check", "--heap", "h.wld", "report.wal"],
        &["export", "h.wld", "Row", "rows.jsonl"],
        &["--heap", "h.wld", "--read-only", "report.wal"],
    ];
    let (mut tries, mut failures) = (0, Vec::new());
    let first = commit_of(d);
    while Instant::now() < end {
        for args in commands {
            tries += 1;
            let (out, err, code) = walia(d, args);
            if code != Some(0) || err.contains("corrupt") || err.contains("damaged") {
                failures.push(format!("{args:?}: {code:?} {out}{err}"));
            }
        }
    }
    let commits = commit_of(d) - first;
    writer.kill().unwrap();
    writer.wait().unwrap();
    eprintln!(
        "reader soak: {tries} reader runs against {commits} commits, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(commits > 10, "the writer kept committing ({commits})");
}
