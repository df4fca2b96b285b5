//! Process crashes: a child commits in a loop and is killed with SIGKILL at random moments.
//! After every kill the heap must open, pass `walia verify`, and hold exactly the last
//! commit the child saw return or the one it had begun (which may have landed just before
//! the kill), with every invariant of the script intact. 50 cycles by default;
//! `WALIA_CRASH_CYCLES=1000` for the long run.

mod common;
use common::Rng;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const LOOP: &str = r#"
var n = n or 0;
var slots = slots or {};
var recent = recent or [];
var holder = holder or {"recent": recent};
fun bump(x) { return x + 1; }
while (true) {
    n = bump(n);
    slots["k" + str(n % 37)] = n;
    recent.push(n);
    if (recent.length() > 25) { recent.remove(0); }
    append_file("log.txt", "b" + str(n) + "\n");
    checkpoint();
    append_file("log.txt", "a" + str(n) + "\n");
}
"#;

const CHECK: &str = r#"
print n;
print recent.length() == 0 or recent.get(-1) == n;
print holder["recent"] == recent;
recent.push(-1);
print holder["recent"].get(-1) == -1;
recent.remove(recent.length() - 1);
print n == 0 or slots["k" + str(n % 37)] == n;
print bump(1);
"#;

/// Commit a script's starting state before the first kill: on a loaded machine the first
/// writer may be killed before its first commit, and the checks read the globals.
fn seed(dir: &Path, code: &str) {
    let out = walia(dir)
        .args(["--heap", "h.wld", "-e", code])
        .output()
        .expect("seed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn walia(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_walia"));
    c.current_dir(dir).env_remove("WALIA_HEAP");
    c
}

/// The last value logged with `prefix`: `a` after a commit returned, `b` before it began.
fn last_logged(dir: &Path, prefix: char) -> i64 {
    let text = std::fs::read_to_string(dir.join("log.txt")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter_map(|l| l.parse::<i64>().ok())
        .next_back()
        .unwrap_or(0)
}

/// After a kill: the heap must pass `walia verify`, and `check` run on it must succeed.
/// Returns the check's output lines and the number it printed first, which must be the
/// last commit that returned or the one in flight; that number is then logged as committed
/// (the next writer starts from it).
fn verify_and_check(dir: &Path, cycle: usize, check: &str) -> (Vec<String>, i64) {
    let verify = walia(dir)
        .args(["verify", "h.wld"])
        .output()
        .expect("verify");
    assert!(
        verify.status.success(),
        "cycle {cycle}: verify failed: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let out = walia(dir)
        .args(["--heap", "h.wld", "-e", check])
        .output()
        .expect("check run");
    assert!(
        out.status.success(),
        "cycle {cycle}: reopening failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let n: i64 = lines.first().and_then(|l| l.parse().ok()).unwrap_or(-1);
    let committed = last_logged(dir, 'a');
    let in_flight = last_logged(dir, 'b');
    assert!(
        n == committed || n == in_flight,
        "cycle {cycle}: the heap holds {n}; last returned commit {committed}, in flight {in_flight}"
    );
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("log.txt"))
        .expect("open log");
    writeln!(log, "a{n}").expect("append to log");
    (lines, n)
}

#[test]
fn sigkill_during_commits_leaves_the_last_or_next_commit() {
    let cycles: usize = common::env_count("WALIA_CRASH_CYCLES", 50);
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("loop.wal");
    std::fs::write(&script, LOOP).expect("write script");
    seed(
        dir.path(),
        "var n = 0; var slots = {}; var recent = []; var holder = {\"recent\": recent}; fun bump(x) { return x + 1; }",
    );
    let mut rng = Rng(0x5eed_1234_abcd);
    let mut previous = 0;
    for cycle in 0..cycles {
        let durability = if cycle % 2 == 0 { "immediate" } else { "async" };
        let mut child = walia(dir.path())
            .args(["--heap", "h.wld", "--durability", durability, "run"])
            .arg(&script)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn writer");
        std::thread::sleep(Duration::from_millis(5 + rng.below(60)));
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("cycle {cycle}: the writer exited by itself ({status}): {err}");
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();

        let (lines, n) = verify_and_check(dir.path(), cycle, CHECK);
        assert!(
            n >= previous,
            "cycle {cycle}: n went back from {previous} to {n}"
        );
        previous = n;
        assert_eq!(
            &lines[1..],
            ["true", "true", "true", "true", "2"],
            "cycle {cycle}: invariants"
        );
    }
    assert!(previous > 0, "no commit ever landed");
}

#[test]
fn a_second_writer_fails_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut holder = walia(dir.path())
        .args([
            "--heap",
            "h.wld",
            "-e",
            "var i = 0; while (true) { i = i + 1; }",
        ])
        .spawn()
        .expect("spawn holder");
    // Wait until the holder has created and locked the heap.
    for _ in 0..200 {
        if dir
            .path()
            .join("h.wld")
            .metadata()
            .map(|m| m.len())
            .unwrap_or(0)
            > 0
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(50));
    let start = std::time::Instant::now();
    let second = walia(dir.path())
        .args(["--heap", "h.wld", "-e", "print 1;"])
        .output()
        .expect("second writer");
    let waited = start.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(second.status.code(), Some(74));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains(&format!("pid {}", holder.id())), "{err}");
    assert!(
        waited < Duration::from_secs(2),
        "the second writer waited {waited:?}"
    );
    // A reader is not blocked by a writer (here: the writer is gone, the heap opens).
    let inspect = walia(dir.path())
        .args(["inspect", "h.wld"])
        .output()
        .expect("inspect");
    assert!(inspect.status.success());
}

const BULK: &str = r#"
var batches = batches or 0;
while (true) {
    var start = 0;
    if (db_tables().length() > 0) start = db.items.count();
    append_file("log.txt", "b" + str(start + 700) + "\n");
    for (i in 0..700) {
        db_insert("items", {id: start + i + 1, name: "item " + str(start + i + 1), score: i * 0.5});
    }
    batches = batches + 1;
    checkpoint();
    append_file("log.txt", "a" + str(start + 700) + "\n");
}
"#;

const BULK_CHECK: &str = r#"
if (db_tables().length() == 0) { print 0; print true; print true; } else {
    var n = db.items.count();
    var ids = 0;
    var names_ok = true;
    for (r in db.items) { ids = ids + r.id; if (r.name != "item " + str(r.id)) names_ok = false; }
    print n;
    print ids == n * (n + 1) / 2;
    print names_ok and batches * 700 == n;
}
"#;

/// SIGKILL during bulk inserts into a table: the table holds exactly the rows of the last
/// commit that returned (or of the one in flight), never a part of a batch.
#[test]
fn sigkill_during_bulk_insert_keeps_whole_commits() {
    let cycles: usize = common::env_count("WALIA_CRASH_CYCLES", 20);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("bulk.wal"), BULK).expect("write script");
    seed(dir.path(), "var batches = 0;");
    let mut rng = Rng(0xB01C);
    let mut rows = 0;
    for cycle in 0..cycles {
        let durability = if cycle % 2 == 0 { "immediate" } else { "async" };
        let mut child = walia(dir.path())
            .args([
                "--heap",
                "h.wld",
                "--durability",
                durability,
                "run",
                "bulk.wal",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        std::thread::sleep(Duration::from_millis(20 + rng.below(120)));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let (lines, n) = verify_and_check(dir.path(), cycle, BULK_CHECK);
        assert_eq!(&lines[1..], ["true", "true"], "cycle {cycle}: invariants");
        rows = n;
    }
    assert!(rows > 0, "no batch was ever committed");
}
