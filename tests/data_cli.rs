//! Looking at and removing data: `walia show` (a reader: aligned rows, a count, `--where`,
//! never a change to the file) and `walia drop` with its builtins `drop_global`,
//! `db_drop` and `db.T.drop()`.

mod common;
use std::path::Path;

fn walia(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    common::walia_in(dir, args)
}

use common::run_on_heap as run;

fn people(dir: &Path) {
    // A byte order mark (Excel's "CSV UTF-8") is not part of the first column's name.
    let csv = "\u{feff}id,name,age,city\n1,Ann,34,Oslo\n2,Bob,17,\"Rio de Janeiro\"\n3,Chloé,,Paris\n4,\"two\nlines\",61,\n";
    std::fs::write(dir.join("people.csv"), csv).expect("write csv");
    let (_, err, code) = walia(dir, &["import", "h.wld", "people", "people.csv"]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn show_prints_aligned_rows_and_how_many_there_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    people(d);
    let (out, err, code) = walia(d, &["show", "h.wld", "people"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "id  name        age  city\n\
         --  ----------  ---  --------------\n\
         \x201  Ann          34  Oslo\n\
         \x202  Bob          17  Rio de Janeiro\n\
         \x203  Chloé            Paris\n\
         \x204  two\\nlines   61\n\
         (4 rows)\n"
    );
    let (out, _, code) = walia(d, &["show", "h.wld", "people", "--limit", "2"]);
    assert_eq!(code, Some(0));
    assert!(
        out.ends_with(" 2  Bob    17  Rio de Janeiro\n(showing 2 of 4 rows)\n"),
        "{out}"
    );
    // Columns are variables, `row` is the row; nil is nil.
    let (out, err, code) = walia(
        d,
        &[
            "show",
            "h.wld",
            "people",
            "--where",
            "age != nil and age > 30",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Ann") && out.contains("two\\nlines") && !out.contains("Bob"));
    assert!(
        out.ends_with("(2 rows matching; 4 in the table)\n"),
        "{out}"
    );
    let (out, _, _) = walia(
        d,
        &[
            "show",
            "h.wld",
            "people",
            "--where",
            "row.city == \"Oslo\"",
            "--limit",
            "0",
        ],
    );
    assert_eq!(
        out,
        "id  name  age  city\n--  ----  ---  ----\n(showing 0 of 1 row matching; 4 in the table)\n"
    );
    // The default limit is 20 rows; --all shows every one.
    run(
        d,
        "for (i in 0..21) db.people.insert({id: 10 + i, name: \"n\" + str(i)});",
    );
    let (out, _, _) = walia(d, &["show", "h.wld", "people"]);
    assert_eq!(out.lines().count(), 2 + 20 + 1);
    assert!(out.ends_with("(showing 20 of 25 rows)\n"), "{out}");
    let (out, _, _) = walia(d, &["show", "h.wld", "people", "--all"]);
    assert!(out.ends_with("\n30  n20\n(25 rows)\n"), "{out}");
}

#[test]
fn show_is_a_reader_that_never_changes_or_creates_a_heap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    people(d);
    let bytes = std::fs::read(d.join("h.wld")).expect("read heap");
    // Beside a writer that holds the lock.
    let writer = walia_store::Heap::open_file(&d.join("h.wld"), walia_store::Durability::Immediate)
        .expect("open writer");
    let (out, err, code) = walia(d, &["show", "h.wld", "people", "--limit", "1"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.ends_with("(showing 1 of 4 rows)\n"), "{out}");
    // A filter that tries to write fails and changes nothing.
    let (_, err, code) = walia(
        d,
        &["show", "h.wld", "people", "--where", "db.people.clear()"],
    );
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("read-only"), "{err}");
    drop(writer);
    let now = std::fs::read(d.join("h.wld")).expect("read heap");
    // Page 0 holds the last writer's pid outside every checksum; the rest is as it was.
    assert_eq!(now[4096..], bytes[4096..]);
    // A mistyped table is named with the closest one; a missing heap is not created.
    let (out, err, code) = walia(d, &["show", "h.wld", "peple"]);
    assert_eq!((out.as_str(), code), ("", Some(70)), "{err}");
    assert!(
        err.contains("no table 'peple'; did you mean 'people'?"),
        "{err}"
    );
    let (_, err, code) = walia(d, &["show", "nosuch.wld", "people"]);
    assert_eq!(code, Some(74), "{err}");
    assert!(err.contains("no such file"), "{err}");
    assert!(!d.join("nosuch.wld").exists());
    // A filter's mistakes: a name, and a runtime error that names the row it failed on.
    let (_, err, code) = walia(d, &["show", "h.wld", "people", "--where", "agee > 3"]);
    assert_eq!(code, Some(65), "{err}");
    assert!(err.contains("did you mean 'age'?"), "{err}");
    let (_, err, code) = walia(d, &["show", "h.wld", "people", "--where", "age > 30"]);
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("name: \"Chloé\", age: nil"), "{err}");
}

#[test]
fn format_rows_aligns_wide_characters_cuts_long_cells_and_keeps_nil_empty() {
    use walia::Value;
    use walia::table_view::format_rows;
    let columns = vec!["k".to_string(), "v".to_string()];
    let rows = vec![
        vec![Value::from("日本"), Value::Int(7)],
        vec![Value::Str("x".repeat(60)), Value::Float(-1.5)],
        vec![Value::Nil, Value::Bool(true)],
        vec![Value::from("short")],
    ];
    let text = format_rows(&columns, &rows);
    let expected = format!(
        "k{pad}v\n{rule}  ----\n日本{pad}7\n{cut}…  -1.5\n{blank}  true\nshort\n",
        pad = " ".repeat(41),
        rule = "-".repeat(40),
        cut = "x".repeat(39),
        blank = " ".repeat(40),
    );
    assert_eq!(text, expected);
}

#[test]
fn drop_removes_globals_cursors_and_tables_in_one_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    people(d);
    run(
        d,
        "var big = []; for (i in 0..5000) big.push(\"entry \" + str(i)); var keep = [1, 2];\n\
         var squares = (1..101) |> map(x => x * x) |> checkpoint_at(10); squares |> sum();",
    );
    let inspect = |d: &Path| -> serde_json::Value {
        let (out, err, code) = walia(d, &["inspect", "h.wld", "--json"]);
        assert_eq!(code, Some(0), "{err}");
        serde_json::from_str(&out).expect("json")
    };
    let before = inspect(d);
    // One name missing: nothing is dropped.
    let (out, err, code) = walia(d, &["drop", "h.wld", "big", "kep"]);
    assert_eq!((out.as_str(), code), ("", Some(70)), "{err}");
    assert!(
        err.contains("no global or checkpointed pipe 'kep'; did you mean 'keep'?"),
        "{err}"
    );
    let (_, err, code) = walia(d, &["drop", "h.wld", "people"]);
    assert_eq!(code, Some(70));
    assert!(err.contains("walia drop h.wld db.people"), "{err}");
    let (_, err, code) = walia(d, &["drop", "h.wld", "db.peple"]);
    assert_eq!(code, Some(70));
    assert!(
        err.contains("no table 'peple'; did you mean 'db.people'?"),
        "{err}"
    );
    assert_eq!(inspect(d), before);
    let (out, err, code) = walia(d, &["drop", "h.wld", "big", "squares", "db.people"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with(
            "dropped global big\ndropped global squares and its checkpoint cursor\n\
             dropped table people (4 rows)\n"
        ),
        "{out}"
    );
    assert!(out.contains("free space now"), "{out}");
    let after = inspect(d);
    assert_eq!(after["globals"][0]["name"], "keep");
    assert_eq!(after["globals"].as_array().map(Vec::len), Some(1));
    assert_eq!(after["tables"], serde_json::json!([]));
    assert_eq!(after["cursors"], serde_json::json!([]));
    // The records only `big` reached were swept: their pages are free.
    assert!(after["objects"].as_u64() < before["objects"].as_u64());
    assert!(after["free_pages"].as_u64() > before["free_pages"].as_u64());
    let (out, err, code) = walia(d, &["verify", "h.wld"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // A missing heap is not created.
    let (_, _, code) = walia(d, &["drop", "nosuch.wld", "x"]);
    assert_eq!(code, Some(74));
    assert!(!d.join("nosuch.wld").exists());
}

#[test]
fn scripts_drop_globals_and_tables_with_builtins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    people(d);
    run(
        d,
        "var tmp = [1, 2, 3]; var row = db.people.get(1); db_insert(\"Scratch\", {n: 1});",
    );
    let out = run(
        d,
        "print drop_global(\"tmp\"); print drop_global(\"tmp\"); print drop_global(\"nothing\");\n\
         print db_drop(\"Scratch\"); print db_drop(\"Scratch\"); print db_tables();",
    );
    assert_eq!(out, "true\nfalse\nfalse\ntrue\nfalse\n[\"people\"]\n");
    let (_, err, code) = walia(d, &["--heap", "h.wld", "-e", "print tmp;"]);
    assert_eq!(code, Some(65), "{err}");
    // A run that fails takes its drops back.
    let (_, _, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "db.people.drop(); drop_global(\"row\"); error(\"no\");",
        ],
    );
    assert_eq!(code, Some(70));
    assert_eq!(
        run(d, "print db.people.count(); print row.name;"),
        "4\nAnn\n"
    );
    // A row value of a dropped table never reads a row of a table made later by its name.
    assert_eq!(run(d, "print db.people.drop();"), "true\n");
    run(d, "db_insert(\"people\", {id: 1, name: \"New\"});");
    let (_, err, code) = walia(d, &["--heap", "h.wld", "-e", "print row.name;"]);
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("deleted"), "{err}");
    assert_eq!(run(d, "print db.people.get(1).name;"), "New\n");
    // A reader cannot drop what is stored.
    let (_, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "--read-only",
            "-e",
            "drop_global(\"row\");",
        ],
    );
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("read-only"), "{err}");
    // A checkpointed pipe cannot drop itself while it runs.
    let (_, err, code) = walia(
        d,
        &[
            "--heap",
            "h.wld",
            "-e",
            "var p = (1..5) |> each(x => drop_global(\"p\")) |> checkpoint_at(2); p |> run();",
        ],
    );
    assert_eq!(code, Some(70), "{err}");
    assert!(err.contains("cannot be dropped while it runs"), "{err}");
}
