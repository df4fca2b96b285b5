//! An `Engine` moves between threads (`Send`): it can be built in one thread and used in
//! a worker, or shared behind a `Mutex` by a server's threads. Its state, its heap, its
//! collector and its change log go with it.

use std::sync::{Arc, Mutex};
use std::thread;
use walia::{Durability, Engine, Error, Script, Value};

fn assert_send<T: Send>() {}
fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn the_api_types_cross_threads() {
    assert_send::<Engine>();
    assert_send::<Script>();
    assert_send_sync::<Value>();
    assert_send_sync::<Error>();
}

fn quiet() -> Engine {
    Engine::with_output(Box::new(std::io::sink()))
}

/// `f` runs on a fresh thread, which hands the engine back.
fn elsewhere<R: Send + 'static>(
    engine: Engine,
    f: impl FnOnce(&mut Engine) -> R + Send + 'static,
) -> (Engine, R) {
    thread::spawn(move || {
        let mut engine = engine;
        let r = f(&mut engine);
        (engine, r)
    })
    .join()
    .expect("the worker thread")
}

#[test]
fn globals_functions_and_registered_functions_move_with_the_engine() {
    let mut e = quiet();
    e.register_fn("twice", |x: i64| x * 2);
    e.run("var xs = [1, 2]; fun add(a, b) { a + b }")
        .expect("setup");
    let script = e
        .compile("xs.push(twice(len(xs))); len(xs)")
        .expect("compile");
    let (e, n) = elsewhere(e, move |e| e.run_compiled(&script).expect("run"));
    assert_eq!(n, Value::Int(3));
    let (mut e, sum) = elsewhere(e, |e| e.call::<i64>("add", (40, 2)).expect("call"));
    assert_eq!(sum, 42);
    assert_eq!(e.get::<Vec<i64>>("xs").expect("xs"), [1, 2, 4]);
    let (_, listed) = elsewhere(e, |e| e.eval::<String>("str(xs)").expect("eval"));
    assert_eq!(listed, "[1, 2, 4]");
}

#[test]
fn cycles_are_collected_on_the_thread_the_engine_moved_to() {
    let mut e = quiet();
    // Enough cyclic garbage to run the collector several times in each thread.
    let churn = "for (i in 0..60000) { var a = []; var b = [a]; a.push(b); }";
    e.run(churn).expect("churn here");
    for _ in 0..3 {
        let (moved, r) = elsewhere(e, move |e| e.run(churn).map(|_| ()));
        r.expect("churn there");
        e = moved;
    }
    assert_eq!(e.eval::<i64>("1 + 1").expect("still works"), 2);
}

#[test]
fn a_heap_commits_what_was_changed_in_another_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("moved.wld");
    let mut e = quiet();
    e.open_heap(&path, Durability::Immediate).expect("open");
    e.run("var xs = [1]; var m = {n: 0}; db_insert(\"t\", {id: 1, v: 10});")
        .expect("setup");
    // A stored object mutated in another thread must be noted by the change log there.
    let (e, r) = elsewhere(e, |e| e.run("xs.push(2); m.n = 5; db.t.get(1).v = 11;"));
    r.expect("mutate elsewhere");
    let (mut e, r) = elsewhere(e, |e| e.run("xs.push(3);"));
    r.expect("mutate in a third thread");
    e.close_heap().expect("close");
    drop(e);

    let mut again = quiet();
    again
        .open_heap(&path, Durability::Immediate)
        .expect("reopen");
    assert_eq!(again.get::<Vec<i64>>("xs").expect("xs"), [1, 2, 3]);
    again
        .run("var maps = []; for (i in 0..1000) maps.push({v: i});")
        .expect("many objects");
    // The change log moved with the engine: a commit in the new thread encodes the one
    // changed map, not all thousand (which a log left behind would force).
    let (mut again, r) = elsewhere(again, |e| {
        e.run("maps[3].v = 9;")?;
        Ok::<_, Error>(e.last_commit_stats().map(|s| s.records))
    });
    assert_eq!(r.expect("mutate"), Some(1));
    assert_eq!(again.eval::<i64>("m.n").expect("m.n"), 5);
    assert_eq!(again.eval::<i64>("db.t.get(1).v").expect("row"), 11);
}

#[test]
fn shared_characters_stay_with_their_engine() {
    // `s[i]` hands out one shared string per ASCII character. The table of them moves
    // with the engine: here two engines index the same characters at once, one of them
    // on the thread the other came from, and each keeps its own.
    let mut a = quiet();
    a.run("var held = []; for (c in \"abcabc\") held.push(c);")
        .expect("a setup");
    let worker = thread::spawn(move || {
        let mut a = a;
        for _ in 0..200 {
            a.run("var t = \"cab\"; for (i in 0..300) held.push(t[i % 3]); held = held[..6];")
                .expect("a churn");
        }
        a
    });
    let mut b = quiet();
    for _ in 0..200 {
        b.run("var t = \"abc\"; var n = 0; for (i in 0..300) { var c = t[i % 3]; c += \"!\"; n += len(c); }")
            .expect("b churn");
    }
    let mut a = worker.join().expect("the worker thread");
    assert_eq!(a.eval::<String>("held.join(\"\")").expect("a"), "abcabc");
    assert_eq!(b.eval::<i64>("n").expect("b"), 600);
}

#[test]
fn two_engines_in_one_thread_keep_their_own_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pa, pb) = (dir.path().join("a.wld"), dir.path().join("b.wld"));
    let mut a = quiet();
    let mut b = quiet();
    a.open_heap(&pa, Durability::Immediate).expect("a");
    b.open_heap(&pb, Durability::Immediate).expect("b");
    a.run("var xs = [];").expect("a setup");
    b.run("var xs = [];").expect("b setup");
    for i in 0..5 {
        a.run(&format!("xs.push({i});")).expect("a push");
        b.run(&format!("xs.push({});", i * 10)).expect("b push");
    }
    drop((a, b));
    let mut a = quiet();
    a.open_heap(&pa, Durability::Immediate).expect("a again");
    assert_eq!(a.get::<Vec<i64>>("xs").expect("a xs"), [0, 1, 2, 3, 4]);
    let mut b = quiet();
    b.open_heap(&pb, Durability::Immediate).expect("b again");
    assert_eq!(b.get::<Vec<i64>>("xs").expect("b xs"), [0, 10, 20, 30, 40]);
}

#[test]
fn threads_share_an_engine_behind_a_mutex() {
    let mut e = quiet();
    e.run("var hits = 0; fun bump() { hits += 1; hits }")
        .expect("setup");
    let shared = Arc::new(Mutex::new(e));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for _ in 0..500 {
                    let mut e = shared.lock().expect("lock");
                    e.call::<i64>("bump", ()).expect("bump");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let mut e = shared.lock().expect("lock");
    assert_eq!(e.get::<i64>("hits").expect("hits"), 2000);
}

#[test]
fn a_script_compiled_by_another_engine_is_refused() {
    let mut a = quiet();
    let mut b = quiet();
    let script = a.compile("1 + 1").expect("compile");
    let err = b.run_compiled(&script).unwrap_err();
    assert!(
        err.to_string().contains("compiled by another engine"),
        "{err}"
    );
    assert_eq!(a.run_compiled(&script).expect("own"), Value::Int(2));
}

#[test]
fn field_and_method_caches_stay_right_when_the_engine_moves_thread() {
    // Each fresh thread would number shapes from the start again: the site in `b_of`,
    // cached in one thread, must not take another thread's new layout for the old one.
    let e = quiet();
    let (e, first) = elsewhere(e, |e| {
        e.eval::<String>(
            "class P { var a; var b; fun who() { return \"P\"; } }
             var p = P(); p.a = \"pa\"; p.b = \"pb\";
             fun b_of(o) { return o.b; }
             fun who(o) { return o.who(); }
             b_of(p) + b_of(p) + who(p) + who(p)",
        )
        .expect("first thread")
    });
    assert_eq!(first, "pbpbPP");
    let (_, second) = elsewhere(e, |e| {
        e.eval::<String>(
            "class Q { var b; var a; fun who() { return \"Q\"; } }
             var q = Q(); q.b = \"qb\"; q.a = \"qa\";
             b_of(q) + who(q) + b_of(p) + who(p)",
        )
        .expect("second thread")
    });
    assert_eq!(second, "qbQpbP");
}
