//! `walia import` / `walia export` and bad import files: line numbers, all-or-nothing,
//! `--skip-bad`, invalid UTF-8, and no progress output when stderr is not a terminal.

mod common;
use std::path::Path;

fn walia(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    common::walia_in(dir, args)
}

#[test]
fn import_and_export_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let csv = "id,name,score,ok\n1,\"Ann, the first\",1.5,true\n2,\"say \"\"hi\"\"\",,false\n3,\"two\nlines\",-2,true\n4,ünï,0.25,\n5,\"\",7,false\n";
    std::fs::write(d.join("in.csv"), csv).expect("write csv");
    let (out, err, code) = walia(d, &["import", "h.wld", "people", "in.csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "imported 5 rows into people\n");
    assert_eq!(err, "", "no progress output without a terminal");
    let (out, err, code) = walia(d, &["export", "h.wld", "people", "out.csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "exported 5 rows of people\n");
    let exported = std::fs::read_to_string(d.join("out.csv")).expect("read export");
    assert_eq!(
        exported,
        "id,name,score,ok\n1,\"Ann, the first\",1.5,true\n2,\"say \"\"hi\"\"\",,false\n3,\"two\nlines\",-2.0,true\n4,ünï,0.25,\n5,\"\",7.0,false\n"
    );
    // JSON Lines, and back in.
    let (_, err, code) = walia(d, &["export", "h.wld", "people", "out.jsonl"]);
    assert_eq!(code, Some(0), "{err}");
    let jsonl = std::fs::read_to_string(d.join("out.jsonl")).expect("read jsonl");
    assert_eq!(
        jsonl.lines().next(),
        Some("{\"id\":1,\"name\":\"Ann, the first\",\"score\":1.5,\"ok\":true}")
    );
    assert!(jsonl.contains("{\"id\":4,\"name\":\"ünï\",\"score\":0.25,\"ok\":null}"));
    let (out, err, code) = walia(d, &["import", "h.wld", "copy", "out.jsonl"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "imported 5 rows into copy\n");
    let (out, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "for (r in db.copy) print r; print db_tables();",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("copy {id: 1, name: \"Ann, the first\", score: 1.5, ok: true}\n"));
    assert!(out.contains("copy {id: 5, name: \"\", score: 7.0, ok: false}\n"));
    assert!(out.ends_with("[\"people\", \"copy\"]\n"));
}

#[test]
fn bad_lines_fail_the_whole_import_with_their_line_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let mut bad_utf8 = b"id,name\n1,ok\n2,\"quoted\nacross\"\n3,".to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    bad_utf8.extend_from_slice(b"\n4,fine\n");
    std::fs::write(d.join("utf8.csv"), &bad_utf8).expect("write");
    std::fs::write(d.join("count.csv"), "id,n\n1,2\n2\n3,4\n").expect("write");
    std::fs::write(d.join("number.csv"), "id,n\n1,2\n2,3\n3,x4\n").expect("write");
    std::fs::write(d.join("quote.csv"), "id,n\n1,\"never closed\n2,3\n").expect("write");
    std::fs::write(d.join("dup.jsonl"), "{\"id\": 1}\n\n{\"id\": 1}\n").expect("write");
    for (file, line, why) in [
        ("utf8.csv", "line 5", "invalid UTF-8"),
        ("count.csv", "line 3", "expected 2 fields, found 1"),
        ("number.csv", "line 4", "x4"),
        ("quote.csv", "line 2", "not closed"),
        ("dup.jsonl", "line 3", "already exists"),
    ] {
        let (out, err, code) = walia(d, &["import", "h.wld", "t", file]);
        assert_eq!(code, Some(70), "{file}: {err}");
        assert_eq!(out, "", "{file}");
        assert!(err.contains(line) && err.contains(why), "{file}: {err}");
    }
    // Nothing of any failed import stayed: not even the table.
    let (out, err, code) = walia(d, &["--heap", "h.wld", "-e", "print db_tables();"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "[]\n");
    // --skip-bad imports the good lines and says how many were skipped.
    let (out, err, code) = walia(d, &["import", "--skip-bad", "h.wld", "t", "utf8.csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "imported 3 rows into t (skipped 1 bad line)\n");
    assert_eq!(
        err,
        "warning: skipped line 5 of 'utf8.csv': column name: invalid UTF-8\n"
    );
    let (out, _, _) = walia(
        d,
        &["--heap", "h.wld", "-e", "for (r in db.t) print r.name;"],
    );
    assert_eq!(out, "ok\nquoted\nacross\nfine\n");
    // An unknown extension is refused before anything is read.
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "data.txt"]);
    assert_eq!(code, Some(70));
    assert!(err.contains(".csv, .tsv or .jsonl"), "{err}");
}

/// A skipped line leaves nothing behind: not a half-made key index (a String id too long
/// to index, then Int ids), not an id without its row (a string too long for a column),
/// not the columns a JSON Lines line added.
#[test]
fn skipped_lines_leave_no_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let long_id = format!("id,name\n{},a\n1,b\n2,c\n", "x".repeat(600));
    std::fs::write(d.join("longid.csv"), long_id).expect("write");
    let (out, err, code) = walia(d, &["import", "--skip-bad", "h.wld", "L", "longid.csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "imported 2 rows into L (skipped 1 bad line)\n");
    let huge = format!("id,name\n1,a\n2,{}\n3,c\n", "y".repeat(1 << 24));
    std::fs::write(d.join("huge.csv"), huge).expect("write");
    let (out, err, code) = walia(d, &["import", "--skip-bad", "h.wld", "S", "huge.csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "imported 2 rows into S (skipped 1 bad line)\n");
    std::fs::write(
        d.join("cols.jsonl"),
        "{\"id\": 1}\n{\"id\": 1, \"extra\": 5}\n{\"id\": 2}\n",
    )
    .expect("write");
    let (_, err, code) = walia(d, &["import", "--skip-bad", "h.wld", "J", "cols.jsonl"]);
    assert_eq!(code, Some(0), "{err}");
    let (out, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "print db.L.get(1).name; print db.S.get(2); print db.S.get(3).name; print db.J.columns();",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "b\nnil\nc\n[\"id\"]\n");
    let (out, err, code) = walia(d, &["verify", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("ok:"), "{out}");
}

/// The note naming a failing stage appears only when a stage failed: an error reading the
/// source after a filter passed an element over carries no such note.
#[test]
fn stage_notes_blame_only_failing_stages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let mut bytes = b"skip\n".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
    bytes.extend_from_slice(b"ok\n");
    std::fs::write(d.join("bad.txt"), bytes).expect("write");
    for pipeline in [
        "lines(\"bad.txt\") |> filter(l => l != \"skip\") |> collect()",
        "lines(\"bad.txt\") |> skip(1) |> collect()",
    ] {
        let (_, err, code) = walia(d, &["--memory", "-e", &format!("print {pipeline};")]);
        assert_eq!(code, Some(70), "{err}");
        assert!(err.contains("line 2: invalid UTF-8"), "{err}");
        assert!(!err.contains("in stage"), "{pipeline}: {err}");
    }
    let (_, err, code) = walia(
        d,
        &[
            "--memory",
            "-e",
            "print lines(\"bad.txt\") |> map(l => l.nope) |> collect();",
        ],
    );
    assert_eq!(code, Some(70));
    assert!(
        err.contains("in stage 1 (map) of the pipeline, at source element 0"),
        "{err}"
    );
}

#[test]
fn a_failed_export_keeps_the_existing_file_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // The second row cannot be written as JSON: the export fails half way through.
    std::fs::write(d.join("in.csv"), "x\n1.5\n1e400\n").expect("write");
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "in.csv"]);
    assert_eq!(code, Some(0), "{err}");
    std::fs::write(d.join("out.jsonl"), "previous export\n").expect("write");
    let (_, err, code) = walia(d, &["export", "h.wld", "t", "out.jsonl"]);
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("cannot encode inf"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("out.jsonl")).expect("read"),
        "previous export\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(d)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["h.wld", "in.csv", "out.jsonl"]);
    // A successful export replaces it.
    let (out, err, code) = walia(d, &["export", "h.wld", "t", "out.csv"]);
    assert_eq!(
        (out.as_str(), code),
        ("exported 2 rows of t\n", Some(0)),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("out.csv")).expect("read"),
        "x\n1.5\ninf\n"
    );
}

#[test]
fn skip_bad_says_which_lines_it_skipped_and_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let mut csv = String::from("id,n\n1,2\n2,x\n3\n4,\"open\n");
    std::fs::write(d.join("bad.csv"), &csv).expect("write");
    let (out, err, code) = walia(d, &["import", "--skip-bad", "h.wld", "t", "bad.csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "imported 1 row into t (skipped 3 bad lines)\n");
    assert_eq!(
        err,
        "warning: skipped line 3 of 'bad.csv': column n holds Int values, got \"x\"\n\
         warning: skipped line 4 of 'bad.csv': expected 2 fields, found 1\n\
         warning: skipped line 5 of 'bad.csv': a quoted field is not closed before the end of the file\n"
    );
    // Past ten lines only the count is given; db_import says the same.
    csv = String::from("id,n\n");
    for i in 0..25 {
        csv.push_str(&format!("{i},n{i}\n"));
    }
    std::fs::write(d.join("many.csv"), &csv).expect("write");
    let (_, err, code) = walia(d, &["import", "--skip-bad", "h.wld", "t", "many.csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err.lines().count(), 11, "{err}");
    assert!(err.contains("skipped line 11 of 'many.csv'"), "{err}");
    assert!(
        err.ends_with("warning: ... and 15 more bad lines of 'many.csv'\n"),
        "{err}"
    );
    let (out, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "print db_import(\"u\", \"bad.csv\", {skip_bad: true});",
        ],
    );
    assert_eq!((out.as_str(), code), ("1\n", Some(0)), "{err}");
    assert!(
        err.contains("warning: skipped line 4 of 'bad.csv': expected 2 fields"),
        "{err}"
    );
}

#[test]
fn one_row_is_one_row_and_a_missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("one.csv"), "id,n\n1,2\n").expect("write");
    let (out, err, code) = walia(d, &["import", "h.wld", "t", "one.csv"]);
    assert_eq!(
        (out.as_str(), code),
        ("imported 1 row into t\n", Some(0)),
        "{err}"
    );
    let (out, err, code) = walia(d, &["export", "h.wld", "t", "out.csv"]);
    assert_eq!(
        (out.as_str(), code),
        ("exported 1 row of t\n", Some(0)),
        "{err}"
    );
    // A missing input is exit 74 (I/O), like a missing script, and names the file.
    let (out, err, code) = walia(d, &["import", "h.wld", "t", "nosuch.csv"]);
    assert_eq!((out.as_str(), code), ("", Some(74)), "{err}");
    assert!(err.contains("cannot read 'nosuch.csv'"), "{err}");
    // ... and creates no heap for it.
    let (_, err, code) = walia(d, &["import", "new.wld", "t", "nosuch.csv"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(
        !d.join("new.wld").exists(),
        "a heap was created for a missing input"
    );
}
