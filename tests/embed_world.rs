//! The embedding API and the outside-world builtins: `exit` ends a run without ending the
//! host process, and per-engine state (the random generator) is not shared by engines.

use walia::Engine;

#[test]
fn exit_returns_its_code_and_commits_the_run() {
    let mut engine = Engine::new();
    engine.open_memory_heap().expect("in-memory heap");
    let err = engine
        .run("var kept = 1; exit(3); kept = 2;")
        .expect_err("exit ends the run through Err");
    assert_eq!(err.exit_status(), Some(3));
    assert_eq!(err.exit_code(), 3);
    assert!(!err.is_limit());
    assert_eq!(
        err.render(false),
        "",
        "exit is no failure: nothing to print"
    );
    assert_eq!(err.to_string(), "<script>:1:15: exit(3)");
    // The run committed: a rollback keeps what it did.
    engine.rollback().expect("rollback");
    assert_eq!(engine.get::<i64>("kept").ok(), Some(1));
    // The engine goes on.
    assert_eq!(engine.eval::<i64>("kept + 1").ok(), Some(2));
    let err = engine.run("exit();").expect_err("exit");
    assert_eq!(err.exit_status(), Some(0));
    assert_eq!(err.exit_code(), 0);
}

#[test]
fn a_run_without_the_commit_at_its_end_leaves_only_explicit_commits() {
    let mut engine = Engine::new();
    engine.open_memory_heap().expect("in-memory heap");
    engine.set_commit_at_end(false);
    // `checkpoint()` still commits; the end of the run (or `exit`) does not.
    engine
        .run("var a = 1; checkpoint(); var b = 2;")
        .expect("run");
    let err = engine.run("var c = 3; exit(4);").expect_err("exit");
    assert_eq!(err.exit_status(), Some(4));
    assert_eq!(
        engine.get::<i64>("b").ok(),
        Some(2),
        "the run's changes stay live"
    );
    engine.rollback().expect("rollback");
    assert_eq!(engine.get::<i64>("a").ok(), Some(1));
    assert_eq!(engine.get::<i64>("b").ok(), None);
    assert_eq!(engine.get::<i64>("c").ok(), None);
    // A failed run still rolls back, and says to which commit.
    let err = engine.run("a = 9; error(\"no\");").expect_err("error");
    assert!(
        err.render(false).contains("rolled back to commit"),
        "{}",
        err.render(false)
    );
    assert_eq!(engine.get::<i64>("a").ok(), Some(1));
    // Turned back on, the end of a run commits again.
    engine.set_commit_at_end(true);
    engine.run("var d = 5;").expect("run");
    engine.rollback().expect("rollback");
    assert_eq!(engine.get::<i64>("d").ok(), Some(5));
}

#[test]
fn an_error_is_no_exit_and_bad_codes_are_errors() {
    let mut engine = Engine::new();
    let err = engine.run("error(\"boom\");").expect_err("error");
    assert_eq!(err.exit_status(), None);
    assert_eq!(err.exit_code(), walia::exit_code::RUNTIME);
    for bad in ["exit(256)", "exit(-1)"] {
        let err = engine.run(bad).expect_err(bad);
        assert_eq!(err.exit_status(), None, "{bad}");
        assert!(err.to_string().contains("from 0 to 255"), "{err}");
    }
    let err = engine.run("exit(\"1\")").expect_err("a String code");
    assert!(
        err.to_string()
            .contains("'exit' expects an Int for argument 1, got String")
    );
}

#[test]
fn exit_inside_a_called_function_and_a_pipeline_stage() {
    let mut engine = Engine::new();
    engine
        .run("fun leave(n) { exit(n); return 0; }")
        .expect("definition");
    let err = engine.call::<i64>("leave", (7,)).expect_err("exit");
    assert_eq!(err.exit_status(), Some(7));
    let err = engine
        .run("var seen = []; 0..10 |> each(i => { seen.add(i); if (i == 2) exit(5); }) |> run();")
        .expect_err("exit in a stage");
    assert_eq!(err.exit_status(), Some(5));
    assert_eq!(engine.eval::<i64>("len(seen)").ok(), Some(3));
}

#[test]
fn engines_have_their_own_random_generators() {
    let mut a = Engine::new();
    let mut b = Engine::new();
    a.run("random_seed(99);").expect("seed a");
    b.run("random_seed(99);").expect("seed b");
    // A shared generator would give b the value after a's.
    let x: f64 = a.eval("random()").expect("a");
    let y: f64 = b.eval("random()").expect("b");
    assert_eq!(x, y);
    let xs: Vec<i64> = a
        .eval("0..20 |> map(i => random_int(-5, 5)) |> collect()")
        .expect("a ints");
    let ys: Vec<i64> = b
        .eval("0..20 |> map(i => random_int(-5, 5)) |> collect()")
        .expect("b ints");
    assert_eq!(xs, ys);
    assert!(xs.iter().all(|n| (-5..=5).contains(n)));
    // Unseeded engines start from different states.
    let mut c = Engine::new();
    let mut d = Engine::new();
    let c_draws: Vec<f64> = c.eval("[random(), random(), random()]").expect("c");
    let d_draws: Vec<f64> = d.eval("[random(), random(), random()]").expect("d");
    assert_ne!(c_draws, d_draws);
}
