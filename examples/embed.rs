//! Embedding Walia in a Rust program: `cargo run --release --example embed`.

use std::time::Duration;
use walia::{Engine, Limits};

fn main() -> Result<(), walia::Error> {
    let mut engine = Engine::new();

    // Rust functions become Walia builtins; arguments convert automatically.
    engine.register_fn("double", |x: i64| x * 2);
    engine.register_fn("shout", |s: String| s.to_uppercase());

    engine.run(
        "fun greet(name) { \"hello, \" + name }
         var total = double(21);",
    )?;
    println!("total = {}", engine.get::<i64>("total")?);

    let greeting: String = engine.call("greet", ("Ann",))?;
    println!("{greeting}");

    let n: i64 = engine.eval("[1, 2, 3] |> map(x => double(x)) |> sum()")?;
    println!("sum of doubles = {n}");

    // A wrong argument type is a runtime error in the script, not a panic.
    if let Err(e) = engine.run("shout(42);") {
        println!("script error: {e}");
    }

    // Untrusted code: a deadline stops an endless loop cleanly.
    engine.set_limits(Limits::default().with_timeout(Duration::from_millis(50)));
    match engine.run("while (true) {}") {
        Err(e) if e.is_limit() => println!("stopped: {e}"),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
