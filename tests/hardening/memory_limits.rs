//! Limits that hold everywhere: every builtin that can allocate in proportion to its input
//! stops at the memory ceiling with a runtime error (and the engine runs again afterwards);
//! elements made inside `flat_map` and a long `sort` obey the deadline and the operation
//! count; a line or record without end stops at the record cap.
//!
//! The memory ceiling measures the whole process, so the tests that allocate run one at a
//! time (a lock) in this binary of their own.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use walia::{Engine, Limits};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const CEILING: u64 = 100 << 20;

fn engine(limits: Limits) -> Engine {
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    // On a heap a failed run is rolled back, so nothing it assigned stays alive.
    e.open_memory_heap().expect("memory heap");
    e.set_limits(limits);
    e
}

/// A string of 2^n `x`s, built by doubling (no builtin makes one at once).
fn doubled(name: &str, n: u32) -> String {
    format!("var {name} = \"x\"; for (i in 0..{n}) {name} = {name} + {name};")
}

#[test]
fn every_allocating_builtin_stops_at_the_memory_ceiling_and_the_engine_runs_again() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    // A sparse file: its size is known at once, nothing is written.
    let sparse = dir.path().join("big.txt");
    std::fs::File::create(&sparse)
        .and_then(|f| f.set_len(400 << 20))
        .expect("sparse file");
    let long_to = "y".repeat(200);
    let cases: Vec<(&str, String)> = vec![
        (
            "+ on strings",
            "var s = \"x\"; while (true) { s = s + s; }".into(),
        ),
        (
            "+= on strings",
            "var s = \"x\"; while (true) { s += s; }".into(),
        ),
        (
            "+ on lists",
            "var l = [1]; while (true) { l = l + l; }".into(),
        ),
        (
            "replace",
            format!(
                "{} print len(s.replace(\"x\", \"{long_to}\"));",
                doubled("s", 20)
            ),
        ),
        (
            "split into characters",
            format!("{} print len(s.split(\"\"));", doubled("s", 22)),
        ),
        (
            "join",
            format!(
                "{} print len(0..1000 |> map(i => s) |> join(\",\"));",
                doubled("s", 20)
            ),
        ),
        (
            "collect of a range",
            "print len(0..100000000 |> collect());".into(),
        ),
        (
            "flat_map |> collect",
            "print len(0..1000000 |> flat_map(x => 0..1000) |> collect());".into(),
        ),
        (
            "sort",
            "var l = 0..3000000 |> collect(); l.sort(); print l[0];".into(),
        ),
        (
            "sort_by",
            "print (0..4000000 |> sort_by(x => -x))[0];".into(),
        ),
        (
            "reverse",
            "var l = 0..3000000 |> collect(); var r = reverse(l); print reverse(r)[0];".into(),
        ),
        (
            "read_file of a device",
            "print len(read_file(\"/dev/zero\"));".into(),
        ),
        (
            "read_file of a large file",
            format!("print len(read_file(\"{}\"));", sparse.display()),
        ),
        (
            "json_parse",
            "var s = \"0,\"; for (i in 0..22) s = s + s; print len(json_parse(\"[\" + s + \"0]\"));"
                .into(),
        ),
        (
            "upper",
            format!(
                "{} print len(upper(s) + upper(s) + upper(s));",
                doubled("s", 25)
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (name, src) in &cases {
        let mut e = engine(
            Limits::default()
                .with_max_memory(CEILING)
                .with_timeout(Duration::from_secs(60)),
        );
        let started = Instant::now();
        match e.run(src) {
            Ok(_) => failures.push(format!("{name}: ran to the end under the ceiling")),
            Err(err) => {
                let text = err.to_string();
                eprintln!("{name}: {text}");
                if !(err.is_limit()
                    && (text.contains("memory limit exceeded") || text.contains("out of memory")))
                {
                    failures.push(format!("{name}: wrong error: {text}"));
                }
            }
        }
        let took = started.elapsed();
        // The next run on the same engine has its whole ceiling again: it builds 8 MB.
        if let Err(err) = e.run(&format!("{} print len(t);", doubled("t", 23))) {
            failures.push(format!("{name}: the next run fails: {err}"));
        }
        eprintln!("{name}: stopped in {took:?}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn elements_made_inside_flat_map_obey_the_deadline_and_the_operation_count() {
    let src = "print 0..10 |> flat_map(x => 0..1000000000) |> count();";
    let mut e = engine(Limits::default().with_timeout(Duration::from_millis(300)));
    let started = Instant::now();
    let err = e.run(src).expect_err("stopped");
    assert!(err.to_string().contains("time limit exceeded"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let mut e = engine(Limits::default().with_max_operations(1_000_000));
    let started = Instant::now();
    let err = e.run(src).expect_err("stopped");
    assert!(
        err.to_string().contains("operation limit exceeded"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_long_sort_obeys_the_deadline_and_leaves_the_list_whole() {
    for sort in ["l.sort();", "l.sort(x => -x);"] {
        let mut e = engine(Limits::default());
        e.run("var l = 0..1000000 |> map(x => (x * 7919) % 1000000) |> collect();")
            .expect("list built");
        e.set_limits(Limits::default().with_timeout(Duration::from_millis(20)));
        let started = Instant::now();
        let err = e.run(sort).expect_err("stopped");
        let took = started.elapsed();
        assert!(
            err.to_string().contains("time limit exceeded"),
            "{sort}: {err}"
        );
        eprintln!("{sort} stopped after {took:?}");
        assert!(took < Duration::from_millis(800), "{sort}: {took:?}");
        e.set_limits(Limits::default());
        let (len, total) = e
            .eval::<Vec<i64>>("[l.length(), l |> sum()]")
            .map(|v| (v[0], v[1]))
            .expect("list readable");
        assert_eq!((len, total), (1_000_000, 499_999_500_000), "{sort}");
    }
}

/// A limit may stop a sort at any comparison, in the middle of a merge: the standard sort
/// panics on answers that contradict earlier ones, so stopping must not answer at all.
#[test]
fn a_sort_stopped_at_any_comparison_is_an_error_never_a_panic() {
    let mut e = engine(Limits::default());
    e.run("var l = 0..50000 |> map(x => (x * 7919) % 50000) |> collect();")
        .expect("list built");
    for micros in (100..12000).step_by(400) {
        e.set_limits(Limits::default().with_timeout(Duration::from_micros(micros)));
        match e.run("l.sort();") {
            Ok(_) => {}
            Err(err) => assert!(err.to_string().contains("time limit"), "{err}"),
        }
        e.set_limits(Limits::default());
        let len = e.eval::<i64>("l.length()").expect("list readable");
        assert_eq!(len, 50_000);
        e.run("l = l |> map(x => (x * 7919 + 1) % 50000) |> collect();")
            .expect("shuffled again");
    }
}

/// A file of three lines whose third is `long` bytes (no line end), with a valid first two.
fn file_with_long_line(dir: &std::path::Path, name: &str, head: &str, long: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{head}{long}")).expect("write");
    path.display().to_string()
}

#[test]
fn a_line_longer_than_the_record_cap_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let long = "z".repeat(5000);
    let txt = file_with_long_line(dir.path(), "a.txt", "one\ntwo\n", &long);
    let csv = file_with_long_line(dir.path(), "a.csv", "name\nann\n", &long);
    let jsonl = file_with_long_line(
        dir.path(),
        "a.jsonl",
        "{\"n\": \"a\"}\n{\"n\": \"b\"}\n",
        &format!("{{\"n\": \"{long}\"}}"),
    );
    let cases = [
        (format!("print lines(\"{txt}\") |> count();"), &txt),
        (
            format!("print lines(\"{txt}\") |> filter(l => contains(l, \"q\")) |> count();"),
            &txt,
        ),
        (format!("print read_csv(\"{csv}\") |> count();"), &csv),
        (format!("print read_jsonl(\"{jsonl}\") |> count();"), &jsonl),
        (format!("print db_import(\"T1\", \"{csv}\");"), &csv),
        (format!("print db_import(\"T2\", \"{jsonl}\");"), &jsonl),
        (
            format!("print db_import(\"T3\", \"{csv}\", {{skip_bad: true}});"),
            &csv,
        ),
    ];
    for (src, path) in &cases {
        let mut e = engine(Limits::default().with_max_record(4096));
        let Err(err) = e.run(src) else {
            panic!("{src}: no error");
        };
        let text = err.to_string();
        assert!(
            text.contains(path.as_str()) && text.contains("line 3") && text.contains("4 KiB"),
            "{src}: {text}"
        );
        // Raised, the same file reads to its end.
        let mut e = engine(Limits::default().with_max_record(8192));
        e.run(src).unwrap_or_else(|err| panic!("{src}: {err}"));
    }
    // db_import's own option raises the cap for one import.
    let mut e = engine(Limits::default().with_max_record(4096));
    let rows: i64 = e
        .eval(&format!(
            "db_import(\"T\", \"{jsonl}\", {{max_record: 8192}})"
        ))
        .expect("raised by the option");
    assert_eq!(rows, 3);
}

#[test]
fn the_default_record_cap_stops_a_file_without_line_ends() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("one.txt");
    // Sparse: 100 MiB of zero bytes and no line end, written in no time.
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(100 << 20))
        .expect("sparse file");
    let mut e = engine(Limits::default());
    let err = e
        .run(&format!("print lines(\"{}\") |> count();", path.display()))
        .expect_err("too long");
    assert!(
        err.to_string().contains("line 1") && err.to_string().contains("64 MiB"),
        "{err}"
    );
}
