//! Hostile or unusual data files: a byte order mark, CR-only line ends, integers beyond 64
//! bits and floats beyond the Float range, through every reader (`read_csv`, `read_jsonl`,
//! `lines`, `walia import`, `db_import`, `json_parse`).

mod common;
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
