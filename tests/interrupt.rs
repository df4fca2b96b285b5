//! `walia::interrupt` (what the REPL's Ctrl-C calls) stops a running script from another
//! thread: the run fails with "interrupted", its changes roll back, and the next run on
//! the same Engine is not affected. In a test binary of its own: the flag is process-wide.

use std::time::Duration;
use walia::Engine;

#[test]
fn an_interrupt_stops_the_running_script_and_rolls_it_back() {
    let mut engine = Engine::new();
    // A heap makes each run a transaction (without one nothing rolls back).
    engine.open_memory_heap().expect("in-memory heap");
    engine.run("var spins = 0;").expect("setup");
    let stopper = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(200));
        walia::interrupt();
    });
    let err = engine
        .run("while (true) { spins = spins + 1; }")
        .expect_err("the loop never ends by itself");
    stopper.join().expect("the interrupting thread");
    assert!(err.is_interrupt(), "{}", err.render(false));
    assert!(!err.render(false).is_empty());
    assert_eq!(
        engine.get::<i64>("spins").ok(),
        Some(0),
        "the interrupted run rolled back"
    );
    // The flag is used up: the next run goes to its end.
    engine
        .run("for (i in 0..100000) spins = spins + 1;")
        .expect("a later run");
    assert_eq!(engine.get::<i64>("spins").ok(), Some(100000));
    // An interrupt with nothing running is forgotten when the next run starts.
    walia::interrupt();
    engine
        .run("spins = spins + 1;")
        .expect("a run after a stray interrupt");
    assert_eq!(engine.get::<i64>("spins").ok(), Some(100001));
}
