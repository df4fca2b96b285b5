//! CSV delimiters: `--delimiter` for `walia import`/`export`, `.tsv` files read and written
//! with tabs, `{delimiter: ";"}` for `db_import`, `db_export` and `read_csv`, and a
//! checkpointed `read_csv` that resumes in a later process with the delimiter it had.

mod common;
use std::path::Path;

fn walia(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    common::walia_in(dir, args)
}

use common::run_on_heap as run;

#[test]
fn import_and_export_take_a_delimiter_and_tsv_means_tabs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // A byte order mark, a quoted delimiter, a comma that is data.
    std::fs::write(
        d.join("semi.csv"),
        "\u{feff}id;name;note\n1;Ann;\"a;b\"\n2;Bob;x,y\n",
    )
    .expect("write");
    let (out, err, code) = walia(
        d,
        &["import", "h.wld", "semi", "semi.csv", "--delimiter", ";"],
    );
    assert_eq!(
        (out.as_str(), code),
        ("imported 2 rows into semi\n", Some(0)),
        "{err}"
    );
    assert_eq!(
        run(d, "for (r in db.semi) print r;"),
        "semi {id: 1, name: \"Ann\", note: \"a;b\"}\nsemi {id: 2, name: \"Bob\", note: \"x,y\"}\n"
    );
    // .tsv: tabs both ways, quoting as in CSV.
    let (_, err, code) = walia(d, &["export", "h.wld", "semi", "out.tsv"]);
    assert_eq!(code, Some(0), "{err}");
    let tsv = std::fs::read_to_string(d.join("out.tsv")).expect("read");
    assert_eq!(tsv, "id\tname\tnote\n1\tAnn\ta;b\n2\tBob\tx,y\n");
    std::fs::write(d.join("in.tsv"), "id\tname\n7\t\"tab\there\"\n8\t\n").expect("write");
    let (_, err, code) = walia(d, &["import", "h.wld", "tabbed", "in.tsv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        run(d, "for (r in db.tabbed) print r;"),
        "tabbed {id: 7, name: \"tab\\there\"}\ntabbed {id: 8, name: nil}\n"
    );
    // Any other delimiter: fields holding it are quoted, and the file reads back.
    let (_, err, code) = walia(
        d,
        &["export", "h.wld", "tabbed", "pipes.csv", "--delimiter", "|"],
    );
    assert_eq!(code, Some(0), "{err}");
    let (_, err, code) = walia(
        d,
        &[
            "export",
            "h.wld",
            "semi",
            "semi-out.csv",
            "--delimiter",
            ";",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("semi-out.csv")).expect("read"),
        "id;name;note\n1;Ann;\"a;b\"\n2;Bob;x,y\n"
    );
    for (i, spelling) in ["tab", "\\t", "\t"].into_iter().enumerate() {
        let table = format!("again{i}");
        let (out, err, code) = walia(
            d,
            &[
                "import",
                "h.wld",
                &table,
                "out.tsv",
                "--delimiter",
                spelling,
            ],
        );
        assert_eq!(code, Some(0), "{spelling:?}: {err}");
        assert_eq!(out, format!("imported 2 rows into {table}\n"));
    }
    // Mistakes: not one character, a quote, and JSON Lines.
    for bad in [";;", "\"", ""] {
        let (_, err, code) = walia(d, &["import", "h.wld", "t", "semi.csv", "--delimiter", bad]);
        assert_eq!(code, Some(64), "{bad:?}: {err}");
        assert!(err.contains("delimiter"), "{err}");
    }
    std::fs::write(d.join("x.jsonl"), "{\"id\": 1}\n").expect("write");
    let (_, err, code) = walia(d, &["import", "h.wld", "t", "x.jsonl", "--delimiter", ";"]);
    assert_eq!(code, Some(70), "{err}");
    assert!(
        err.contains("a delimiter applies to CSV and TSV files"),
        "{err}"
    );
}

#[test]
fn scripts_pass_a_delimiter_in_an_options_map() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("semi.csv"), "n;w\n1;\"a;b\"\n2;c\n").expect("write");
    std::fs::write(d.join("t.tsv"), "n\tw\n3\td\n").expect("write");
    let out = run(
        d,
        "for (r in read_csv(\"semi.csv\", {delimiter: \";\"})) print r;\n\
         for (r in read_csv(\"t.tsv\")) print r;\n\
         print db_import(\"T\", \"semi.csv\", {delimiter: \";\"});\n\
         print db_export(\"T\", \"out.csv\", {delimiter: \"tab\"});\n\
         print read_file(\"out.csv\");",
    );
    assert_eq!(
        out,
        "{\"n\": 1, \"w\": \"a;b\"}\n{\"n\": 2, \"w\": \"c\"}\n{\"n\": 3, \"w\": \"d\"}\n\
         2\n2\nn\tw\n1\ta;b\n2\tc\n\n"
    );
    for (code, why) in [
        ("read_csv(\"semi.csv\", \";\")", "options are a map"),
        (
            "read_csv(\"semi.csv\", {delimiter: 5})",
            "delimiter must be a String",
        ),
        (
            "db_import(\"T\", \"semi.csv\", {delimiter: \"ab\"})",
            "one ASCII character",
        ),
    ] {
        let (_, err, status) = walia(d, &["--heap", "h.wld", "-e", code]);
        assert_eq!(status, Some(70), "{code}: {err}");
        assert!(err.contains(why), "{code}: {err}");
    }
}

#[test]
fn a_resumed_read_csv_keeps_its_delimiter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let rows: String = (1..=9).map(|i| format!("{i};w{i}\n")).collect();
    std::fs::write(d.join("n.csv"), format!("n;w\n{rows}")).expect("write");
    let script = "var fail = fail or true;\n\
                  var p = read_csv(\"n.csv\", {delimiter: \";\"}) \
                  |> map(r => { if (fail and r.n == 6) error(\"boom\"); r.n * 10 }) \
                  |> checkpoint_at(2);\n\
                  print p |> sum();";
    std::fs::write(d.join("p.wal"), script).expect("write");
    let (_, err, code) = walia(d, &["--heap", "h.wld", "p.wal"]);
    assert_eq!(code, Some(70), "{err}");
    run(d, "fail = false;");
    // Another process, from the stream stored in the heap: 10 + 20 + ... + 90.
    let (out, err, code) = walia(d, &["resume", "h.wld"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "p: 450\n");
}
