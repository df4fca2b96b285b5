//! A commit costs what changed since the last one, not what the run has loaded: the
//! counters of `Engine::last_commit_stats` say what each commit encoded.

use walia::{Durability, Engine};
use walia_runtime::api::SaveStats;

fn open(path: &std::path::Path) -> Engine {
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    e.open_heap(path, Durability::Async).expect("open heap");
    e
}

fn stats(e: &mut Engine) -> SaveStats {
    e.last_commit_stats().expect("a heap is open")
}

fn encoded(globals: u64, records: u64) -> (u64, u64) {
    (globals, records)
}

fn counts(e: &mut Engine) -> (u64, u64) {
    let s = stats(e);
    (s.globals, s.records)
}

#[test]
fn a_loaded_unchanged_global_is_not_encoded_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("h.wld");
    {
        let mut e = open(&path);
        e.run(
            "var big = []; for (i in 0..200000) big.add(i);
             var maps = []; for (i in 0..1000) maps.add({v: i, s: \"x\"});
             var g1 = {a: [1]};",
        )
        .expect("run");
        assert_eq!(counts(&mut e), encoded(3, 1 + 1 + 1000 + 2));
    }
    let mut e = open(&path);
    // Everything is read (loaded), nothing is assigned or mutated.
    e.run("{ var t = big[199999] + len(maps) + maps[3].v + g1.a[0]; print t; }")
        .expect("run");
    assert_eq!(counts(&mut e), encoded(0, 0));
    e.run("checkpoint(); checkpoint();").expect("run");
    assert_eq!(counts(&mut e), encoded(0, 0));

    // One map in the list of a thousand: one record.
    e.run("maps[3].v = 9;").expect("run");
    assert_eq!(counts(&mut e), encoded(0, 1));
    assert_eq!(stats(&mut e).rewrites, 1);
    // The same value again: encoded (it was written to), not rewritten.
    e.run("maps[3].v = 9;").expect("run");
    assert_eq!(counts(&mut e), encoded(0, 1));
    assert_eq!(stats(&mut e).rewrites, 0);

    // A nested new object: the list that changed, and the new one.
    e.run("g1.a.add([2, 3]);").expect("run");
    assert_eq!(counts(&mut e), encoded(0, 2));

    // A global assigned: its entry, and the new objects it reaches only.
    e.run("var fresh = [[1], maps[0]];").expect("run");
    assert_eq!(counts(&mut e), encoded(1, 2));

    // A global assigned a number (the in-place store of a top-level loop).
    e.run("var n = 0; for (i in 0..10) n = n + 1;")
        .expect("run");
    assert_eq!(counts(&mut e), encoded(1, 0));

    drop(e);
    let mut e = open(&path);
    assert_eq!(
        e.eval::<String>("str([maps[3].v, g1.a, fresh, n, len(big)])")
            .expect("eval"),
        "[9, [1, [2, 3]], [[1], {\"v\": 0, \"s\": \"x\"}], 10, 200000]"
    );
}

#[test]
fn an_engine_set_global_is_saved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("h.wld");
    {
        let mut e = open(&path);
        e.set("x", 5);
        e.set("name", "Ann");
        e.commit().expect("commit");
        assert_eq!(counts(&mut e), encoded(2, 0));
        e.commit().expect("commit");
        assert_eq!(counts(&mut e), encoded(0, 0));
    }
    let mut e = open(&path);
    assert_eq!(e.get::<i64>("x").ok(), Some(5));
    assert_eq!(e.get::<String>("name").ok().as_deref(), Some("Ann"));
}

#[test]
fn a_rolled_back_run_leaves_nothing_to_save() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("h.wld");
    let mut e = open(&path);
    e.run("var a = [1]; var b = {k: [2]};").expect("run");
    assert!(
        e.run("a.add(2); b.k.add(3); var c = 1; error(\"no\");")
            .is_err()
    );
    e.commit().expect("commit");
    assert_eq!(counts(&mut e), encoded(0, 0));
    assert_eq!(
        e.eval::<String>("str([a, b])").expect("eval"),
        "[[1], {\"k\": [2]}]"
    );
}

#[test]
fn a_replaced_global_is_let_go_of_at_the_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("h.wld");
    {
        let mut e = open(&path);
        e.run("var maps = []; for (i in 0..1000) maps.add({v: [i]}); var keep = [1];")
            .expect("run");
    }
    let mut e = open(&path);
    e.run("{ var n = len(maps) + len(keep); }").expect("run");
    // The list, its 1,000 maps and each map's list; and `keep`.
    assert_eq!(stats(&mut e).held, 2002);
    e.run("maps = nil;").expect("run");
    assert_eq!(stats(&mut e).held, 1);
    e.run("keep = nil;").expect("run");
    assert_eq!(stats(&mut e).held, 0);
    // A replaced value another global still holds stays.
    e.run("var m2 = {a: [1]}; checkpoint(); var other = m2; m2 = 5;")
        .expect("run");
    assert_eq!(stats(&mut e).held, 2);
}
