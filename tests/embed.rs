//! The embedding API: run, eval, globals, calls, Rust functions and limits.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use walia::{Durability, Engine, Error, Limits, Value};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn engine() -> (Engine, Captured) {
    let out = Captured::default();
    (Engine::with_output(Box::new(out.clone())), out)
}

#[test]
fn run_eval_and_globals() {
    let (mut e, out) = engine();
    e.run("var x = 20; print x + 1;").expect("run");
    assert_eq!(String::from_utf8_lossy(&out.0.lock().unwrap()), "21\n");
    assert_eq!(e.get::<i64>("x").ok(), Some(20));
    assert_eq!(e.eval::<i64>("x * 2").expect("eval"), 40);
    e.set("y", 2.5);
    assert_eq!(e.eval::<f64>("y * 2").expect("eval"), 5.0);
    e.set("name", "Ann");
    assert_eq!(e.eval::<String>("\"hi \" + name").expect("eval"), "hi Ann");
    assert_eq!(
        e.eval::<Vec<i64>>("[1, 2] + [3]").expect("eval"),
        vec![1, 2, 3]
    );
    assert_eq!(e.eval::<Option<i64>>("nil").expect("eval"), None);
}

#[test]
fn call_script_functions() {
    let (mut e, _) = engine();
    e.run("fun add(a, b) { a + b }").expect("run");
    let r: i64 = e
        .call("add", vec![Value::Int(2), Value::Int(3)])
        .expect("call");
    assert_eq!(r, 5);
    let err = e.call::<i64>("add", vec![Value::Int(1)]).unwrap_err();
    assert!(err.to_string().contains("expects 2 arguments"), "{err}");
    assert!(e.call::<i64>("missing", ()).is_err());
}

#[test]
fn registered_functions_convert_arguments() {
    let (mut e, _) = engine();
    e.register_fn("double", |x: i64| x * 2);
    e.register_fn("join3", |a: String, b: String, c: String| {
        format!("{a}{b}{c}")
    });
    e.register_fn("checked", |x: f64| {
        if x < 0.0 {
            Err("negative")
        } else {
            Ok(x.sqrt())
        }
    });
    assert_eq!(e.eval::<i64>("double(21)").expect("eval"), 42);
    assert_eq!(
        e.eval::<String>("join3(\"a\", \"b\", \"c\")")
            .expect("eval"),
        "abc"
    );
    assert_eq!(e.eval::<f64>("checked(4)").expect("eval"), 2.0);
    let err = e.eval::<i64>("double(\"x\")").unwrap_err();
    assert!(matches!(err, Error::Runtime(_)));
    assert!(
        err.to_string()
            .contains("'double' expects Int for argument 1, got String"),
        "{err}"
    );
    let err = e.eval::<f64>("checked(-1)").unwrap_err();
    assert!(err.to_string().contains("negative"), "{err}");
    let err = e.eval::<i64>("double(1, 2)").unwrap_err();
    assert!(err.to_string().contains("expects 1 argument"), "{err}");
}

#[test]
fn compile_errors_render_diagnostics() {
    let (mut e, _) = engine();
    let err = e.run("var x = ;").unwrap_err();
    assert_eq!(err.exit_code(), 65);
    assert!(
        err.render(false).contains("<script>:1:"),
        "{}",
        err.render(false)
    );
}

#[test]
fn operation_limit_stops_an_endless_loop() {
    let (mut e, _) = engine();
    e.set_limits(Limits::default().with_max_operations(1_000_000));
    let err = e.run("while (true) {}").unwrap_err();
    assert!(err.is_limit(), "{err}");
    assert!(err.to_string().contains("operation limit"), "{err}");
    // The engine stays usable after a limit stops a script.
    e.set_limits(Limits::default());
    assert_eq!(e.eval::<i64>("1 + 1").expect("eval"), 2);
}

#[test]
fn deadline_stops_an_endless_loop() {
    let (mut e, _) = engine();
    e.set_limits(Limits::default().with_timeout(Duration::from_millis(100)));
    let t = Instant::now();
    let err = e.run("var i = 0; while (true) { i = i + 1; }").unwrap_err();
    assert!(err.is_limit(), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5));
    // A loop on locals tests its condition at its back edge, which polls the limits too.
    let err = e
        .run("fun spin() { var i = 0; var n = 1; while (i < n) {} } spin();")
        .unwrap_err();
    assert!(err.is_limit(), "while on locals: {err}");
    let err = e.run("fun f() { return f(); } f();").unwrap_err();
    assert!(err.is_limit(), "tail-recursive spin: {err}");
    // Recursion on Ints runs in the VM's hot tier, which must hand the limits back too.
    let err = e.run("fun g(n) { return g(n + 1); } g(0);").unwrap_err();
    assert!(err.is_limit(), "hot tail recursion: {err}");
    let err = e
        .run("fun fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); } fib(90);")
        .unwrap_err();
    assert!(err.is_limit(), "hot recursion: {err}");
}

#[test]
fn operation_limit_stops_hot_recursion() {
    let (mut e, _) = engine();
    e.set_limits(Limits::default().with_max_operations(1_000_000));
    let err = e
        .run("fun fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); } fib(60);")
        .unwrap_err();
    assert!(err.to_string().contains("operation limit"), "{err}");
}

#[test]
fn memory_limit_stops_unbounded_allocation() {
    let (mut e, _) = engine();
    e.set_limits(Limits::default().with_max_memory(256 << 20));
    let err = e
        .run("var xs = []; while (true) { xs.push([1, 2, 3, 4, 5, 6, 7, 8]); }")
        .unwrap_err();
    assert!(err.is_limit(), "{err}");
    assert!(err.to_string().contains("memory limit"), "{err}");
}

#[test]
fn tests_run_on_request() {
    let (mut e, out) = engine();
    e.run("test \"a\" { print \"a\"; } test \"b\" { assert(false, \"boom\"); }")
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.0.lock().unwrap()), "");
    let s = e.run_tests();
    assert_eq!((s.passed, s.failed), (1, 1));
    assert!(s.failures[0].contains("boom"));
}

#[test]
fn limits_stop_exponential_builtins() {
    // Shared sub-lists make comparing, printing and encoding exponential in the depth.
    let build =
        "var x = [1]; var y = [1]; var i = 0; while (i < 40) { x = [x, x]; y = [y, y]; i += 1; }";
    for op in [
        "print x == y;",
        "print len(str(x));",
        "print len(json_str(x));",
        "print x;",
    ] {
        let (mut e, _) = engine();
        e.set_limits(Limits::default().with_timeout(Duration::from_millis(300)));
        let t = Instant::now();
        let err = e.run(&format!("{build} {op}")).unwrap_err();
        assert!(err.is_limit(), "{op}: {err}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{op} took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn too_deep_comparison_is_an_error() {
    let (mut e, _) = engine();
    let err = e
        .run("var a = nil; var b = nil; for (i in 0..5000) { a = [a]; b = [b]; } print a == b;")
        .unwrap_err();
    assert!(
        err.to_string().contains("nested more than 1000 levels"),
        "{err}"
    );
}

#[test]
fn an_engine_heap_persists_commits_and_rolls_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.wld");
    {
        let mut engine = Engine::with_output(Box::new(std::io::sink()));
        engine
            .open_heap(&path, Durability::Immediate)
            .expect("open");
        assert!(!engine.is_warm_boot());
        engine
            .run("var visits = (visits or 0) + 1; var log = [\"a\"];")
            .expect("run");
        engine.set("note", "hello");
        engine.commit().expect("commit");
        engine.run("log.push(\"b\"); visits = 100;").expect("run");
        // A failed run rolls back; so does an explicit rollback.
        let err = engine.run("visits = 7; error(\"no\");").unwrap_err();
        assert!(
            err.render(false).contains("rolled back to commit"),
            "{}",
            err.render(false)
        );
        engine.set("visits", 55i64);
        assert_eq!(engine.rollback().expect("rollback"), Some(3));
        assert_eq!(engine.get::<i64>("visits").ok(), Some(100));
        // A second writer on the same file is refused while this engine holds it.
        let mut other = Engine::with_output(Box::new(std::io::sink()));
        let e = other.open_heap(&path, Durability::Immediate).unwrap_err();
        assert_eq!(e.exit_code(), 74);
        assert!(e.to_string().contains("locked"), "{e}");
        engine.close_heap().expect("close");
    }
    let mut engine = Engine::with_output(Box::new(std::io::sink()));
    engine
        .open_heap(&path, Durability::Batched)
        .expect("reopen");
    assert!(engine.is_warm_boot());
    assert_eq!(engine.get::<i64>("visits").ok(), Some(100));
    assert_eq!(engine.get::<String>("note").ok().as_deref(), Some("hello"));
    assert_eq!(engine.eval::<i64>("len(log)").expect("eval"), 2);
    assert!(matches!(
        engine.try_get_value("visits"),
        Ok(Some(Value::Int(100)))
    ));
    assert!(matches!(engine.try_get_value("no_such_global"), Ok(None)));
    let mut mem = Engine::with_output(Box::new(std::io::sink()));
    mem.open_memory_heap().expect("memory heap");
    mem.run("var x = 1;").expect("run");
    assert!(mem.run("x = 2; error(\"e\");").is_err());
    assert_eq!(mem.get::<i64>("x").ok(), Some(1));
}

#[test]
fn tables_from_rust_create_insert_get_scan_import_export() {
    let (mut engine, out) = engine();
    engine.open_memory_heap().expect("heap");
    engine
        .create_table("users", &["id", "name", "age", "score"])
        .expect("create");
    for i in 1..=100i64 {
        engine
            .insert(
                "users",
                &[
                    ("id", Value::from(i)),
                    ("name", Value::from(format!("user {i}"))),
                    ("age", Value::from(i % 40)),
                    ("score", Value::from(i as f64 / 2.0)),
                ],
            )
            .expect("insert");
    }
    // A wrong type is a runtime error naming the column, not a panic.
    let err = engine
        .insert(
            "users",
            &[("id", Value::from(101i64)), ("age", Value::from("old"))],
        )
        .expect_err("type mismatch");
    assert!(err.to_string().contains("users.age"), "{err}");
    let dup = engine
        .insert("users", &[("id", Value::from(5i64))])
        .expect_err("duplicate");
    assert!(
        dup.to_string().contains("users.id = 5 already exists"),
        "{dup}"
    );

    let row = engine
        .get_row("users", Value::from(7i64))
        .expect("get")
        .expect("row 7");
    assert_eq!(row[1].0, "name");
    assert!(matches!(&row[1].1, Value::Str(s) if s.as_str() == "user 7"));
    assert!(
        engine
            .get_row("users", Value::from(1000i64))
            .expect("get")
            .is_none()
    );

    let mut total = 0.0;
    let mut names = 0;
    let visited = engine
        .scan("users", |r| {
            if r.int("age")?.unwrap_or(0) > 18 {
                total += r.float("score")?.unwrap_or(0.0);
            }
            names += r.string("name")?.map_or(0, |s| s.len());
            Ok(true)
        })
        .expect("scan");
    assert_eq!(visited, 100);
    let expected: f64 = (1..=100)
        .filter(|i| i % 40 > 18)
        .map(|i| i as f64 / 2.0)
        .sum();
    assert_eq!(total, expected);
    assert!(names > 0);
    // Reading a column with the wrong accessor is an error.
    let wrong = engine.scan("users", |r| r.bool("age").map(|_| true));
    assert!(wrong.is_err());
    // Stop early.
    let mut seen = 0;
    engine
        .scan("users", |_| {
            seen += 1;
            Ok(seen < 3)
        })
        .expect("scan");
    assert_eq!(seen, 3);

    engine
        .run("print db.users.count(); print db.users.get(3).name;")
        .expect("script");
    assert_eq!(
        String::from_utf8_lossy(&out.0.lock().unwrap()),
        "100\nuser 3\n"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("users.csv").to_string_lossy().into_owned();
    assert_eq!(engine.export_table("users", &csv).expect("export"), 100);
    let done = engine
        .import_table("copy", &csv, walia::ImportOptions::default())
        .expect("import");
    assert_eq!(done.rows, 100);
    assert_eq!(engine.tables().expect("tables"), ["users", "copy"]);
}

/// A checkpointed pipe inside a function, failing at element 17 while `armed`: it counts
/// how often each element's effect was applied.
const COUNTED: &str = r#"
var hits = hits or Map();
var armed = true;
fun work() {
    var p = (1..31)
        |> map(x => { if (armed and x == 17) { error("stop"); } hits.set(x, (hits.get(x) or 0) + 1); x })
        |> checkpoint_at(5, "p");
    return p.sum();
}
"#;

#[test]
fn cursors_through_the_engine_apply_each_element_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("c.wld");
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    e.open_heap(&path, Durability::Immediate).expect("open");
    e.run(COUNTED).expect("run");
    assert!(e.cursors().expect("cursors").is_empty());
    assert!(e.cursor_status("p").expect("status").is_none());

    let err = e.call::<i64>("work", ()).unwrap_err();
    let text = err.render(false);
    assert!(text.contains("stop"), "{text}");
    assert!(text.contains("at position 15"), "{text}");
    // The heap is back at the checkpoint: element 16's effect is gone, and a commit
    // made now does not bring it back.
    e.set("armed", false);
    e.commit().expect("commit");
    assert_eq!(e.eval::<i64>("len(hits)").expect("eval"), 15);
    assert_eq!(e.cursors().expect("cursors"), vec!["p".to_string()]);
    let info = e.cursor_info("p").expect("info").expect("cursor p");
    assert_eq!(info.state, "interrupted");
    assert_eq!((info.position, info.total), (15, Some(30)));
    assert_eq!((info.every, info.checkpoints), (5, 3));
    let status = e.cursor_status("p").expect("status").expect("status map");
    assert!(matches!(status, Value::Map(_)));

    // Warm boot: the whole pass's sum, each element applied exactly once.
    let done = e.resume_all().expect("resume");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, "p");
    assert!(matches!(done[0].1, Value::Int(465)), "{:?}", done[0].1);
    assert_eq!(e.eval::<i64>("len(hits)").expect("eval"), 30);
    assert!(
        e.eval::<bool>("hits.values() |> all(n => n == 1)")
            .expect("eval")
    );
    assert!(e.resume_all().expect("resume again").is_empty());
    let info = e.cursor_info("p").expect("info").expect("cursor p");
    assert_eq!((info.state.as_str(), info.position), ("finished", 30));
    assert_eq!((info.resumes, info.passes), (1, 1));

    // A reset starts the cursor over; unknown names are not errors.
    assert!(e.reset_cursor("p").expect("reset"));
    assert!(!e.reset_cursor("nope").expect("reset"));
    assert!(e.cursor_info("nope").expect("info").is_none());
    e.commit().expect("commit");
    e.close_heap().expect("close");

    let mut e = Engine::with_output(Box::new(std::io::sink()));
    e.open_heap(&path, Durability::Immediate).expect("reopen");
    let info = e.cursor_info("p").expect("info").expect("cursor p");
    assert_eq!((info.state.as_str(), info.position), ("new", 0));
    assert_eq!(e.call::<i64>("work", ()).expect("work"), 465);
    assert!(
        e.eval::<bool>("hits.values() |> all(n => n == 2)")
            .expect("eval")
    );
}

/// One progress update: the pipe's name, position and total.
type Update = (String, u64, Option<u64>);

/// What a progress sink was told: the updates, and the names of the passes that ended.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<Update>>>, Arc<Mutex<Vec<String>>>);

impl walia::ProgressSink for Recorded {
    fn update(&mut self, name: &str, position: u64, total: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .push((name.to_string(), position, total));
    }
    fn done(&mut self, name: &str) {
        self.1.lock().unwrap().push(name.to_string());
    }
}

#[test]
fn a_progress_sink_hears_checkpointed_pipes_only() {
    for jit in [true, false] {
        let mut e = Engine::with_output(Box::new(std::io::sink()));
        e.set_jit(jit);
        e.open_memory_heap().expect("memory heap");
        let seen = Recorded::default();
        e.set_progress(Some(Box::new(seen.clone())));
        let sum = e
            .eval::<i64>("(0..100) |> map(x => x * 2) |> sum()")
            .expect("plain pipe");
        assert_eq!(sum, 9900);
        assert!(seen.0.lock().unwrap().is_empty() && seen.1.lock().unwrap().is_empty());

        let sum = e
            .eval::<i64>(
                "var q = (0..20000) |> map(x => x % 7) |> checkpoint_at(5000, \"q\"); q.sum()",
            )
            .expect("checkpointed pipe");
        assert!(sum > 0);
        let updates = seen.0.lock().unwrap().clone();
        assert!(updates.len() >= 4, "jit {jit}: {updates:?}");
        assert!(
            updates
                .iter()
                .all(|(n, _, t)| n == "q" && *t == Some(20000))
        );
        assert!(updates.windows(2).all(|w| w[0].1 <= w[1].1), "{updates:?}");
        // Every boundary is reported.
        for at in [5000, 10000, 15000, 20000] {
            assert!(
                updates.iter().any(|u| u.1 == at),
                "jit {jit}: {at} in {updates:?}"
            );
        }
        assert_eq!(*seen.1.lock().unwrap(), vec!["q".to_string()]);
    }
}

/// Cursors belong to their heap: after switching heaps, the same pipe starts afresh in the
/// new one (a cursor cached from the first heap was once used, and committed, in the second).
#[test]
fn switching_heaps_does_not_carry_cursors_over() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = "var p = (1..11) |> checkpoint_at(4, \"p\"); p.run();";
    let mut engine = walia::Engine::with_output(Box::new(std::io::sink()));
    for heap in ["a.wld", "b.wld"] {
        engine
            .open_heap(dir.path().join(heap), walia::Durability::Async)
            .expect("open");
        let n = engine.run(script).expect("script");
        assert!(matches!(n, walia::Value::Int(10)), "{heap}: {n:?}");
    }
}

/// A terminal's bad argument inside `Engine::call` leaves no checkpointed run behind: the
/// next `checkpoint()` and the next pass work (the run was once left marked as running).
#[test]
fn a_bad_terminal_argument_leaves_no_pass_running() {
    let mut engine = walia::Engine::with_output(Box::new(std::io::sink()));
    engine.open_memory_heap().expect("heap");
    engine
        .run(
            "var p = (1..5) |> checkpoint_at(2, \"p\");\n\
             fun bad() { return p.reduce(0, 5); }\n\
             fun good() { checkpoint(); return p.reduce(0, (a, x) => a + x); }",
        )
        .expect("script");
    assert!(engine.call::<i64>("bad", ()).is_err());
    assert_eq!(engine.call::<i64>("good", ()).expect("good"), 10);
}
