//! Damaged heap files: flipped bytes and truncations. `walia verify` and opening the heap
//! must report damage with exit 74 (or fall back to an intact earlier commit) and never
//! crash, and a run that succeeds must see exactly the data of a real commit.

mod common;
use common::Rng;
use std::path::Path;

fn walia(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    common::walia_in(dir, args)
}

const READ: &str = "print total; print names; print table[\"b\"]; print f(2);";

#[test]
fn flipped_bytes_and_truncation_are_reported_not_crashing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let setup = [
        "var total = 0; var names = []; var table = {}; fun f(x) { return x * 10; }",
        "for (i in 0..200) { total = total + i; names.push(\"name\" + str(i)); } table[\"a\"] = names;",
        "var s = \"\"; for (i in 0..600) { s = s + \"xxxxx\"; } table[\"b\"] = [total, s]; total = total + 1;",
    ];
    for code in setup {
        let (_, err, status) = walia(d, &["--heap", "good.wld", "-e", code]);
        assert_eq!(status, Some(0), "{err}");
    }
    let (good_out, _, _) = walia(d, &["--heap", "good.wld", "-e", READ]);
    // The commit before the last, for runs that legitimately fall back to it.
    let bytes = std::fs::read(d.join("good.wld")).expect("read heap");
    let mut rng = Rng(0xC0FFEE);
    let rounds = common::env_count("WALIA_CORRUPT_ROUNDS", 40);
    let mut reported = 0;
    for round in 0..rounds {
        let mut damaged = bytes.clone();
        match round % 4 {
            0 => {
                let at = rng.below(damaged.len() as u64) as usize;
                damaged[at] ^= 1 << rng.below(8);
            }
            1 => {
                for _ in 0..16 {
                    let at = rng.below(damaged.len() as u64) as usize;
                    damaged[at] = rng.below(256) as u8;
                }
            }
            2 => damaged.truncate(rng.below(damaged.len() as u64) as usize),
            _ => {
                // Damage a whole in-use page of the index.
                let page = 2 + rng.below(6) as usize;
                let at = page * 4096 + 16 + rng.below(4000) as usize;
                if at < damaged.len() {
                    damaged[at] ^= 0xFF;
                }
            }
        }
        let name = format!("bad{round}.wld");
        std::fs::write(d.join(&name), &damaged).expect("write damaged heap");
        let (_, verr, vcode) = walia(d, &["verify", &name]);
        assert!(
            vcode == Some(0) || vcode == Some(74),
            "round {round}: verify exited {vcode:?}: {verr}"
        );
        let (out, err, code) = walia(d, &["--heap", &name, "-e", READ]);
        match code {
            Some(0) => assert!(
                out == good_out || out.starts_with("19900\n"),
                "round {round}: wrong data without an error:\n{out}"
            ),
            Some(74) => {
                reported += 1;
                assert!(
                    err.contains("corrupt")
                        || err.contains("not a Walia heap")
                        || err.contains("truncated"),
                    "round {round}: unclear report: {err}"
                );
            }
            other => panic!("round {round}: exit {other:?}: {err}"),
        }
        if code == Some(74) {
            assert!(
                vcode == Some(74),
                "round {round}: run reported damage but verify passed"
            );
        }
    }
    assert!(reported > 0, "no damage was ever reported");
}

#[test]
fn wrong_files_are_io_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("text.wld"),
        "this is not a heap, just some text\n".repeat(300),
    )
    .expect("write");
    let before = std::fs::read(d.join("text.wld")).expect("read");
    let (_, err, code) = walia(d, &["--heap", "text.wld", "-e", "print 1;"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(err.contains("not a Walia heap"), "{err}");
    // Refusing the file must not have written a byte into it.
    assert_eq!(std::fs::read(d.join("text.wld")).expect("read"), before);
    std::fs::create_dir(d.join("dir.wld")).expect("mkdir");
    let (_, err, code) = walia(d, &["--heap", "dir.wld", "-e", "print 1;"]);
    assert_eq!(code, Some(74), "{err}");
    // A 0-byte file is a new heap.
    std::fs::write(d.join("empty.wld"), "").expect("write");
    let (out, err, code) = walia(
        d,
        &[
            "--heap",
            "empty.wld",
            "-e",
            "var w = walia_is_warm_boot(); print w;",
        ],
    );
    assert_eq!((out.as_str(), code), ("false\n", Some(0)), "{err}");
    // An unknown format version is a clear error.
    let mut bytes = std::fs::read(d.join("empty.wld")).expect("read");
    for slot in [0usize, 4096] {
        if &bytes[slot..slot + 5] != b"WALIA" {
            continue;
        }
        bytes[slot + 8] = 99;
        let crc = common::crc32(&bytes[slot..slot + 124]);
        bytes[slot + 124..slot + 128].copy_from_slice(&crc.to_le_bytes());
    }
    std::fs::write(d.join("future.wld"), &bytes).expect("write");
    let (_, err, code) = walia(d, &["--heap", "future.wld", "-e", "print 1;"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(err.contains("version 99"), "{err}");
}

#[test]
fn run_of_a_heap_file_is_a_warm_boot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (_, err, code) = walia(d, &["--heap", "h.wld", "-e", "var x = 1;"]);
    assert_eq!(code, Some(0), "{err}");
    let (out, err, code) = walia(d, &["run", "h.wld"]);
    assert_eq!((out.as_str(), code), ("", Some(0)), "{err}");
    let (_, err, code) = walia(d, &["run", "missing.wld"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(!d.join("missing.wld").exists());
}

const TABLE_READ: &str = "print db.items |> parallel(2) |> map(r => r.score) |> sum(); \
    print db.items |> parallel(2) |> filter(r => r.ok) |> count(); \
    var n = 0; var s = 0.0; var names = 0; \
    for (r in db.items) { n = n + 1; s = s + r.score; names = names + len(r.name); } \
    print n; print s; print names; print db.items.get(1234).name;";

/// Damaged table pages (columns, strings, directories, the key index) are reported as
/// corruption by `verify` and by a run that reads them (first through `parallel(2)`
/// pipelines, whose threads check the pages), never a crash or wrong rows.
#[test]
fn damaged_table_pages_are_reported_not_crashing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let setup = "for (i in 1..4001) db_insert(\"items\", {id: i, name: \"item number \" + str(i), score: i * 0.25, ok: i % 3 == 0});";
    let (_, err, status) = walia(d, &["--heap", "t.wld", "-e", setup]);
    assert_eq!(status, Some(0), "{err}");
    let (good, err, status) = walia(d, &["--heap", "t.wld", "-e", TABLE_READ]);
    assert_eq!(status, Some(0), "{err}");
    let bytes = std::fs::read(d.join("t.wld")).expect("read heap");
    let pages = bytes.len() / 4096;
    let mut rng = Rng(0x7AB1E);
    let mut reported = 0;
    for round in 0..common::env_count("WALIA_CORRUPT_ROUNDS", 40) {
        let mut damaged = bytes.clone();
        let page = 2 + rng.below(pages as u64 - 2) as usize;
        let at = page * 4096 + rng.below(4096) as usize;
        damaged[at] ^= 1 << rng.below(8);
        let name = format!("t{round}.wld");
        std::fs::write(d.join(&name), &damaged).expect("write damaged heap");
        let (_, verr, vcode) = walia(d, &["verify", &name]);
        let (out, err, code) = walia(d, &["--heap", &name, "-e", TABLE_READ]);
        match code {
            Some(0) => assert_eq!(out, good, "round {round}: wrong rows without an error"),
            Some(74) => {
                reported += 1;
                assert!(
                    err.contains("corrupt"),
                    "round {round}: unclear report: {err}"
                );
                assert_eq!(vcode, Some(74), "round {round}: verify passed: {verr}");
            }
            other => panic!("round {round}: exit {other:?}: {err}"),
        }
        assert!(
            vcode == Some(0) || vcode == Some(74),
            "round {round}: verify exited {vcode:?}: {verr}"
        );
    }
    assert!(reported > 0, "no damage was ever reported");
}
