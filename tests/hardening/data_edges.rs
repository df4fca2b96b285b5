//! Hostile or unusual data files: a byte order mark, CR-only line ends, integers beyond 64
//! bits and floats beyond the Float range, through every reader (`read_csv`, `read_jsonl`,
//! `lines`, `walia import`, `db_import`, `json_parse`).

use crate::common;
use std::path::Path;

fn walia(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    common::walia_in(dir, args)
}

fn script(dir: &Path, code: &str) -> (String, String, Option<i32>) {
    walia(dir, &["-e", code])
}

const BOM: &str = "\u{feff}";

#[test]
fn a_byte_order_mark_is_dropped_by_every_reader() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("b.csv"), format!("{BOM}id,name\n1,Ann\n")).expect("write");
    std::fs::write(d.join("b.jsonl"), format!("{BOM}{{\"id\":1}}\n")).expect("write");
    std::fs::write(d.join("b.txt"), format!("{BOM}first ERROR\nsecond\n")).expect("write");
    let (out, err, code) = script(
        d,
        r#"print read_csv("b.csv") |> collect();
print read_jsonl("b.jsonl") |> collect();
print lines("b.txt") |> collect();
print lines("b.txt") |> filter(l => contains(l, "ERROR")) |> collect();"#,
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "[{\"id\": 1, \"name\": \"Ann\"}]\n[{\"id\": 1}]\n[\"first ERROR\", \"second\"]\n[\"first ERROR\"]\n"
    );
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "b.csv"]);
    assert_eq!(code, Some(0), "{err}");
    let (_, err, code) = walia(d, &["import", "h.wld", "j", "b.jsonl"]);
    assert_eq!(code, Some(0), "{err}");
    let (out, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "print db.t.columns(); print db.j.columns();",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "[\"id\", \"name\"]\n[\"id\"]\n");
}

#[test]
fn cr_only_line_ends_are_refused_with_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("mac.csv"), "id,name\r1,Ann\r2,Bo\r").expect("write");
    let (out, err, code) = walia(d, &["import", "h.wld", "t", "mac.csv"]);
    assert_eq!(code, Some(70), "{out}{err}");
    assert!(
        err.contains("line 1: a carriage return outside quotes (CR-only line ends?)"),
        "{err}"
    );
    let (_, err, code) = script(d, r#"print read_csv("mac.csv") |> count();"#);
    assert_eq!(code, Some(70));
    assert!(err.contains("'mac.csv' line 1: a carriage return"), "{err}");
}

#[test]
fn integers_beyond_64_bits_are_errors_with_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let big = "123456789012345678901234";
    std::fs::write(d.join("big.csv"), format!("id,n\n1,5\n2,{big}\n")).expect("write");
    std::fs::write(d.join("first.csv"), format!("n\n{big}\n")).expect("write");
    std::fs::write(
        d.join("big.jsonl"),
        format!("{{\"n\":1}}\n{{\"n\":{big}}}\n"),
    )
    .expect("write");
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "big.csv"]);
    assert_eq!(code, Some(70));
    assert!(err.contains("line 3: column n holds Int values"), "{err}");
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "first.csv"]);
    assert_eq!(code, Some(70));
    assert!(
        err.contains(&format!(
            "line 2: column n holds the integer {big}, which does not fit in 64 bits"
        )),
        "{err}"
    );
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "big.jsonl"]);
    assert_eq!(code, Some(70));
    assert!(
        err.contains(&format!("line 2: integer {big} does not fit in 64 bits")),
        "{err}"
    );
    let (_, err, code) = script(d, r#"print read_csv("first.csv") |> collect();"#);
    assert_eq!(code, Some(70));
    assert!(
        err.contains("'first.csv' line 2: column n holds the integer"),
        "{err}"
    );
    let (_, err, code) = script(d, r#"print read_jsonl("big.jsonl") |> collect();"#);
    assert_eq!(code, Some(70));
    assert!(err.contains("'big.jsonl' line 2: integer"), "{err}");
    let (_, err, code) = script(d, &format!("print json_parse(\"[{big}]\");"));
    assert_eq!(code, Some(70));
    assert!(err.contains("'json_parse': integer"), "{err}");
    // The largest and smallest Ints still read as Ints.
    let (out, err, code) = script(
        d,
        "print json_parse(\"[9223372036854775807, -9223372036854775808]\");",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "[9223372036854775807, -9223372036854775808]\n");
}

#[test]
fn floats_beyond_the_range_are_inf_on_every_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("f.csv"), "x\n1e400\n-1e400\n").expect("write");
    std::fs::write(d.join("f.jsonl"), "{\"x\":1e400}\n{\"x\":-1e400}\n").expect("write");
    let (out, err, code) = script(
        d,
        r#"print [1e400, -1e400];
print json_parse("[1e400, -1e400]");
print read_csv("f.csv") |> map(r => r.x) |> collect();
print read_jsonl("f.jsonl") |> map(r => r.x) |> collect();"#,
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "[inf, -inf]\n".repeat(4));
    for (table, file) in [("c", "f.csv"), ("j", "f.jsonl")] {
        let (_, err, code) = walia(d, &["import", "h.wld", table, file]);
        assert_eq!(code, Some(0), "{err}");
    }
    let (out, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "print db.c |> map(r => r.x) |> collect(); print db.j |> map(r => r.x) |> collect();",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "[inf, -inf]\n".repeat(2));
}

#[test]
fn names_too_long_for_the_heap_are_refused_where_they_are_made() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let long = "v".repeat(512);
    let (_, err, code) = walia(d, &["--heap", "h.wld", "-e", &format!("var {long} = 1;")]);
    assert_eq!(code, Some(65), "{err}");
    assert!(
        err.contains("<-e>:1:5: error: the name of a global is at most 511 bytes; this one is 512"),
        "{err}"
    );
    let longest = "v".repeat(511);
    let (_, err, code) = walia(
        d,
        &["--heap", "h.wld", "-e", &format!("var {longest} = 1;")],
    );
    assert_eq!(code, Some(0), "{err}");
    let table = "T".repeat(512);
    let (_, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            &format!("print 1;\ndb_insert(\"{table}\", {{a: 1}});"),
        ],
    );
    assert_eq!(code, Some(70), "{err}");
    assert!(
        err.contains("<-e>:2:1: error: a table name is at most 511 bytes; this one is 512"),
        "{err}"
    );
    std::fs::write(d.join("in.csv"), "a\n1\n").expect("write");
    let (_, err, code) = walia(d, &["import", "h.wld", &table, "in.csv"]);
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("a table name is at most 511 bytes"), "{err}");
    let (out, err, code) = walia(d, &["--heap", "h.wld", "-e", "print db_tables();"]);
    assert_eq!((out.as_str(), code), ("[]\n", Some(0)), "{err}");
}

/// Run `walia` with its file size capped at `blocks` (of 512 bytes): writes past it fail
/// with EFBIG, as on a full disk (SIGXFSZ is ignored so the write returns the error).
#[cfg(unix)]
fn walia_with_small_disk(dir: &Path, blocks: u32, args: &str) -> (String, String, Option<i32>) {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" {args}"
        ))
        .arg(env!("CARGO_BIN_EXE_walia"))
        .current_dir(dir)
        .env_remove("WALIA_HEAP")
        .output()
        .expect("run walia");
    common::texts(out)
}

#[cfg(unix)]
#[test]
fn a_commit_that_fails_says_where_the_heap_rolled_back_to() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (_, err, code) = walia(d, &["--heap", "h.wld", "-e", "var a = 1;"]);
    assert_eq!(code, Some(0), "{err}");
    let grow = "'var b = []; for (i in 0..20000) b.push(\"item \" + str(i));'";
    let (_, err, code) = walia_with_small_disk(d, 200, &format!("--heap h.wld -e {grow}"));
    assert_eq!(code, Some(74), "{err}");
    assert!(
        err.contains("commit failed: ") && err.contains("; rolled back to commit 1"),
        "{err}"
    );
    let (out, err, code) = walia(d, &["--heap", "h.wld", "-e", "print a;"]);
    assert_eq!((out.as_str(), code), ("1\n", Some(0)), "{err}");
}

#[cfg(unix)]
#[test]
fn an_export_to_a_full_disk_keeps_the_old_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let rows: String = (0..20000).map(|i| format!("value number {i}\n")).collect();
    std::fs::write(d.join("in.csv"), format!("x\n{rows}")).expect("write");
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "in.csv"]);
    assert_eq!(code, Some(0), "{err}");
    std::fs::write(d.join("out.csv"), "old\n").expect("write");
    let (_, err, code) = walia_with_small_disk(d, 200, "export h.wld t out.csv");
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("cannot write 'out.csv'"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("out.csv")).expect("read"),
        "old\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("walia-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
