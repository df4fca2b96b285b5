//! `sleep` obeys the run's wall-time limit and `walia::interrupt` (Ctrl-C) as a running
//! loop does. One test, in a binary of its own: the interrupt flag is process-wide.

use std::time::{Duration, Instant};
use walia::{Engine, Limits};

#[test]
fn a_sleep_ends_at_the_deadline_or_at_an_interrupt() {
    let mut engine = Engine::new();
    engine.open_memory_heap().expect("in-memory heap");
    engine.set_limits(Limits::default().with_timeout(Duration::from_millis(200)));
    let started = Instant::now();
    let err = engine
        .run("var before = 1; sleep(60);")
        .expect_err("the sleep passes the deadline");
    assert!(err.is_limit(), "{}", err.render(false));
    assert!(err.to_string().contains("time limit exceeded"), "{err}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(190),
        "stopped early: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "slept on past the deadline: {took:?}"
    );
    assert_eq!(
        engine.get::<Option<i64>>("before").ok(),
        Some(None),
        "rolled back"
    );

    engine.set_limits(Limits::default());
    let stopper = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(150));
        walia::interrupt();
    });
    let started = Instant::now();
    let err = engine.run("sleep(60);").expect_err("interrupted");
    stopper.join().expect("the interrupting thread");
    assert!(err.is_interrupt(), "{}", err.render(false));
    assert!(started.elapsed() < Duration::from_secs(5));

    // A short sleep just sleeps.
    let started = Instant::now();
    engine.run("sleep(0.05); sleep(0);").expect("a short sleep");
    assert!(started.elapsed() >= Duration::from_millis(50));
}
