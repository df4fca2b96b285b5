//! Damage that keeps every checksum valid, through the `walia` command: a free list naming
//! a page in use, superblock fields no commit writes, a catalog cut off at its root, a
//! lowered table-directory count. A writer refuses with exit 74 and the page (or uses the
//! other, sound commit), `walia verify` reports it, and no commit is ever lost. Also: a
//! FIFO in place of a heap is refused at once by every command.

use crate::common;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PAGE: usize = 4096;

fn walia(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    common::walia_in(dir, args)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(raw)
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The slot (0 or 1) of the newest commit: the written superblock with the higher sequence.
fn newest_slot(b: &[u8]) -> usize {
    let seq = |s: usize| {
        if &b[s * PAGE..s * PAGE + 5] == b"WALIA" {
            u64_at(b, s * PAGE + 16)
        } else {
            0
        }
    };
    if seq(1) > seq(0) { 1 } else { 0 }
}

/// Set a superblock field and seal the slot again.
fn set_field(b: &mut [u8], slot: usize, offset: usize, v: u64) {
    let at = slot * PAGE;
    put_u64(b, at + offset, v);
    let crc = common::crc32(&b[at..at + 124]);
    b[at + 124..at + 128].copy_from_slice(&crc.to_le_bytes());
}

/// Seal a changed page again (crc32 of bytes 8.. at offset 4).
fn reseal(b: &mut [u8], page: usize) {
    let at = page * PAGE;
    let crc = common::crc32(&b[at + 8..at + PAGE]);
    b[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
}

const ROOT: usize = 32;
const FREELIST_HEAD: usize = 40;
const SEQUENCE: usize = 16;
const NEXT_ID: usize = 56;

/// Byte offsets of the newest commit's free-list entries, and its chain pages.
fn free_entries(b: &[u8]) -> (Vec<usize>, Vec<usize>) {
    let slot = newest_slot(b);
    let mut page = u64_at(b, slot * PAGE + FREELIST_HEAD) as usize;
    let (mut entries, mut chain) = (Vec::new(), Vec::new());
    while page != 0 && chain.len() < 1000 {
        let at = page * PAGE;
        let count = u16::from_le_bytes([b[at + 2], b[at + 3]]) as usize;
        entries.extend((0..count).map(|i| at + 32 + i * 8));
        chain.push(page);
        page = u64_at(b, at + 24) as usize;
    }
    (entries, chain)
}

const READ: &str = "print n; print a; print db.T.count();";

/// A heap of a few commits, with a table and a free list. Returns what READ prints.
fn setup(d: &Path, name: &str) -> String {
    let runs = [
        "var n = 0; var a = [1, 2, 3]; for (i in 0..1200) db_insert(\"T\", {id: i, s: \"row \" + str(i)});",
        "n = n + 1; a.push(n); db.T.insert({id: 5000, s: \"x\"});",
        "n = n + 1; a.push(n); var big = \"\"; for (i in 0..900) { big = big + \"yyyyyyyyyy\"; }",
        "n = n + 1; a.push(n); big = big + \"z\";",
    ];
    for code in runs {
        let (_, err, status) = walia(d, &["--heap", name, "-e", code]);
        assert_eq!(status, Some(0), "{err}");
    }
    let (out, err, status) = walia(d, &["--heap", name, "-e", READ]);
    assert_eq!(status, Some(0), "{err}");
    out
}

/// The bytes a refused writer may have changed: its pid, recorded when it takes the lock.
fn without_pid(mut b: Vec<u8>) -> Vec<u8> {
    b[4088..4092].fill(0);
    b
}

/// A free list naming a page the commit uses, a page twice, or a page outside the heap:
/// every writer refuses with exit 74 and the page, the file is left as it was, `verify`
/// reports it, a reader still reads the commit, and undoing the damage gives it all back.
#[test]
fn a_bad_free_list_is_refused_and_nothing_is_lost() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let good = setup(d, "h.wld");
    let bytes = std::fs::read(d.join("h.wld")).expect("read heap");
    let slot = newest_slot(&bytes);
    let root = u64_at(&bytes, slot * PAGE + ROOT);
    let pages = u64_at(&bytes, slot * PAGE + 24);
    let (entries, chain) = free_entries(&bytes);
    assert!(entries.len() >= 2, "no free list to damage");
    let other = u64_at(&bytes, entries[1]);
    let cases = [
        ("the catalog root, in use", root),
        ("a page listed twice", other),
        ("a page past the end", pages + 3),
        ("the list's own page", chain[0] as u64),
    ];
    for (what, value) in cases {
        let mut damaged = bytes.clone();
        put_u64(&mut damaged, entries[0], value);
        reseal(&mut damaged, entries[0] / PAGE);
        std::fs::write(d.join("bad.wld"), &damaged).expect("write");
        let (_, err, code) = walia(d, &["--heap", "bad.wld", "-e", "n = n + 100;"]);
        assert_eq!(code, Some(74), "{what}: {err}");
        assert!(
            err.contains("corrupt: page") && err.contains("free list"),
            "{what}: {err}"
        );
        let after = std::fs::read(d.join("bad.wld")).expect("read");
        assert!(
            without_pid(after) == without_pid(damaged.clone()),
            "{what}: the refused writer changed the file"
        );
        let (_, verr, vcode) = walia(d, &["verify", "bad.wld"]);
        assert_eq!(vcode, Some(74), "{what}: verify: {verr}");
        let (out, err, code) = walia(d, &["inspect", "bad.wld"]);
        assert_eq!(code, Some(0), "{what}: inspect: {err}");
        assert!(out.contains("T  1201 rows"), "{what}: {out}");
        // Undo the damage: the last commit is all there.
        let mut repaired = std::fs::read(d.join("bad.wld")).expect("read");
        put_u64(&mut repaired, entries[0], u64_at(&bytes, entries[0]));
        reseal(&mut repaired, entries[0] / PAGE);
        std::fs::write(d.join("bad.wld"), &repaired).expect("write");
        let (out, err, code) = walia(d, &["--heap", "bad.wld", "-e", READ]);
        assert_eq!(
            (out.as_str(), code),
            (good.as_str(), Some(0)),
            "{what}: {err}"
        );
    }
}

/// A maximal sequence number used to wrap at the next commit, so every later run exited 0
/// while its commit was discarded; a low next object id made new objects overwrite stored
/// ones. Now the slot is not used: the run falls back to the sound commit, says so, and
/// what it commits is there in the next run.
#[test]
fn bad_superblock_fields_fall_back_and_commits_stay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    setup(d, "h.wld");
    let bytes = std::fs::read(d.join("h.wld")).expect("read heap");
    let slot = newest_slot(&bytes);
    for (field, offset, value) in [
        ("sequence", SEQUENCE, u64::MAX),
        ("next_id", NEXT_ID, 1),
        ("root", ROOT, u64::MAX),
        ("freelist_head", FREELIST_HEAD, 1),
    ] {
        let mut damaged = bytes.clone();
        set_field(&mut damaged, slot, offset, value);
        std::fs::write(d.join("f.wld"), &damaged).expect("write");
        // The older commit (written by setup's last, reading run) holds the same data.
        let (out, err, code) = walia(
            d,
            &[
                "--heap",
                "f.wld",
                "-e",
                "n = n + 10; var b = [7, 8]; print n;",
            ],
        );
        assert_eq!((out.as_str(), code), ("13\n", Some(0)), "{field}: {err}");
        assert!(err.contains("newest commit is damaged"), "{field}: {err}");
        let (out, err, code) = walia(d, &["--heap", "f.wld", "-e", "print n; print a; print b;"]);
        assert_eq!(
            (out.as_str(), code),
            ("13\n[1, 2, 3, 1, 2, 3]\n[7, 8]\n", Some(0)),
            "{field}: {err}"
        );
        let (_, verr, vcode) = walia(d, &["verify", "f.wld"]);
        assert_eq!(vcode, Some(0), "{field}: verify: {verr}");
        // The same damage in both slots leaves no sound commit: refused, naming the field.
        let mut both = bytes.clone();
        set_field(&mut both, 0, offset, value);
        set_field(&mut both, 1, offset, value);
        std::fs::write(d.join("both.wld"), &both).expect("write");
        let (_, err, code) = walia(d, &["--heap", "both.wld", "-e", "print n;"]);
        assert_eq!(code, Some(74), "{field}: {err}");
        assert!(
            err.contains(&format!("superblock field {field}")),
            "{field}: {err}"
        );
    }
}

/// A catalog root reset to 0 and a lowered table-directory count cut pages off the commit
/// with every checksum valid: `verify` finds them leaked, and a writer refuses.
#[test]
fn verify_finds_pages_cut_off_the_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    setup(d, "h.wld");
    let bytes = std::fs::read(d.join("h.wld")).expect("read heap");
    let (_, err, code) = walia(d, &["verify", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    let slot = newest_slot(&bytes);
    let mut damaged = bytes.clone();
    set_field(&mut damaged, slot, ROOT, 0);
    std::fs::write(d.join("r.wld"), &damaged).expect("write");
    let (_, err, code) = walia(d, &["verify", "r.wld"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(
        err.contains("leaked") && err.contains("catalog root is 0"),
        "{err}"
    );
    let (_, err, code) = walia(d, &["--heap", "r.wld", "-e", "var x = 1;"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(err.contains("leaked"), "{err}");
    // Every table directory in use with more than one entry, lowered by one.
    let (entries, chain) = free_entries(&bytes);
    let free: Vec<u64> = entries.iter().map(|&at| u64_at(&bytes, at)).collect();
    let pages = u64_at(&bytes, slot * PAGE + 24) as usize;
    let mut tried = 0;
    for page in 2..pages {
        let at = page * PAGE;
        let count = u16::from_le_bytes([bytes[at + 2], bytes[at + 3]]);
        if bytes[at] != 6 || count < 2 || free.contains(&(page as u64)) || chain.contains(&page) {
            continue;
        }
        let mut damaged = bytes.clone();
        damaged[at + 2..at + 4].copy_from_slice(&(count - 1).to_le_bytes());
        reseal(&mut damaged, page);
        std::fs::write(d.join("dir.wld"), &damaged).expect("write");
        let (_, err, code) = walia(d, &["verify", "dir.wld"]);
        assert_eq!(code, Some(74), "directory page {page}: {err}");
        assert!(err.contains("leaked"), "directory page {page}: {err}");
        let (_, err, code) = walia(d, &["--heap", "dir.wld", "-e", "var x = 1;"]);
        assert_eq!(code, Some(74), "directory page {page}: {err}");
        tried += 1;
    }
    assert!(tried > 0, "no table directory to damage");
}

/// Run walia with a deadline: a command blocked on a FIFO is killed and reported.
fn walia_with_deadline(dir: &Path, args: &[&str]) -> (String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(args)
        .current_dir(dir)
        .env_remove("WALIA_HEAP")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run walia");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            return (err, status.code());
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("walia {args:?} blocked on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `inspect`, `verify`, `check` and `run` on a FIFO (or any file that is not a regular
/// file) refuse at once with exit 74, rather than block until something writes to it.
#[test]
fn a_fifo_is_refused_at_once_by_every_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let made = Command::new("mkfifo").arg(d.join("p.wld")).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    std::fs::write(d.join("x.wal"), "print 1;\n").expect("write");
    for args in [
        &["inspect", "p.wld"][..],
        &["verify", "p.wld"],
        &["--heap", "p.wld", "check", "x.wal"],
        &["--heap", "p.wld", "-e", "print 1;"],
        &["run", "p.wld"],
    ] {
        let (err, code) = walia_with_deadline(d, args);
        assert_eq!(code, Some(74), "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
}

/// Clearing a table can leave one free page, which the commit then takes for its free-list
/// chain: a chain with no entries. Such a commit is sound (and heaps written so exist).
#[test]
fn a_commit_whose_free_list_chain_holds_no_entries_is_sound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("t.wal"),
        "@sql class T { var a; }\ndb.T.insert({a: 1});\ndb.T.clear();\nprint \"ok\";\n",
    )
    .expect("write");
    for args in [
        &["--memory", "t.wal"][..],
        &["--heap", "h.wld", "t.wal"],
        &["--heap", "h.wld", "t.wal"],
        &["verify", "h.wld"],
    ] {
        let (out, err, code) = walia(d, args);
        assert_eq!(code, Some(0), "{args:?}: {out}{err}");
    }
}
