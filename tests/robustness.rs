//! No input may panic, hang or crash the interpreter: random and mutated source text,
//! deep nesting, huge literals, runaway allocation under a limit.

use proptest::prelude::*;
use std::time::Duration;
use walia::{Engine, Limits};

fn engine() -> Engine {
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    e.set_limits(
        Limits::default()
            .with_max_operations(200_000)
            .with_timeout(Duration::from_secs(2)),
    );
    e
}

/// Run source through the whole pipeline; any outcome but a panic is fine.
fn survive(src: &str) {
    let mut e = engine();
    let _ = e.run(src);
    let _ = e.check("x.wal", src);
}

const SEED_PROGRAM: &str = r#"
class A { var x = [1, 2]; fun init(y) { this.y = y; } fun get() { this.x[0] + this.y } }
class B < A { fun get() { super.get() * 2 } }
fun f(n) { if (n < 2) return n; return f(n - 1) + f(n - 2); }
var m = {name: "Ann", "two words": 2, 3: nil};
var s = "héllo" + str(1.5e-5) + json_str(m);
for (i in 0..10) { if (i % 2 == 0) continue; s += str(i); }
print match f(10) { 0..10 => "small", x if x > 50 => "big", _ => "mid" };
print [1, 2, 3] |> map(x => x * 2) |> filter(x => x > 2) |> sum();
print B(3).get(); print m["two words"]; print s[2];
test "t" { assert(f(5) == 5); }
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(src in "\\PC{0,200}") {
        survive(&src);
    }

    #[test]
    fn random_tokens_never_panic(tokens in prop::collection::vec(prop::sample::select(vec![
        "var", "x", "=", "1", ";", "fun", "f", "(", ")", "{", "}", "[", "]", "if", "else",
        "while", "for", "in", "return", "print", "class", "C", "<", "this", "super", ".",
        "|>", "=>", "match", "_", ",", "..", "+", "-", "*", "/", "%", "\"s\"", "nil",
        "true", "and", "or", "!", "==", "test", "break", "continue", "fused", "@sql",
        "0.5", "1e400", "99999999999999999999", "map", "filter", "sum", "len",
    ]), 0..60)) {
        survive(&tokens.join(" "));
    }

    #[test]
    fn mutated_programs_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let mut bytes = SEED_PROGRAM.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        survive(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn seed_program_runs() {
    let mut e = engine();
    e.run(SEED_PROGRAM).expect("seed program runs");
}

#[test]
fn deep_nesting_is_a_compile_error_not_a_crash() {
    let mut e = engine();
    for open in ["(", "[", "{"] {
        let close = match open {
            "(" => ")",
            "[" => "]",
            _ => "}",
        };
        let src = format!(
            "var x = {}1{};",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let err = e.run(&src).unwrap_err();
        assert_eq!(err.exit_code(), 65, "{open}");
        assert!(err.to_string().contains("nesting"), "{err}");
    }
    let src = format!("print {}1;", "-".repeat(100_000));
    assert!(e.run(&src).is_err());
}

#[test]
fn huge_literals_are_errors_not_panics() {
    let mut e = engine();
    let err = e.run("print 123456789012345678901234567890;").unwrap_err();
    assert_eq!(err.exit_code(), 65);
    e.run("print 1e400;").expect("a huge float is inf");
    let long = format!("var s = \"{}\"; print len(s);", "a".repeat(1_000_000));
    e.run(&long).expect("a long string literal");
}

#[test]
fn deeply_nested_values_drop_and_print_safely() {
    // Dropping, printing or comparing a 300,000-deep structure must not overflow the Rust
    // stack, even on an ordinary (2 MB) test thread.
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    for src in [
        "var l = nil; for (i in 0..300000) { l = [l]; } var s = str(l); l = nil;",
        "var m = nil; for (i in 0..300000) { m = {next: m}; } m = nil;",
        "class Node { var next; } var n = nil; for (i in 0..300000) { n = Node(n); } n = nil;",
        "var f = () => 0; for (i in 0..300000) { var g = f; f = () => g; } f = nil;",
        "var a = nil; var b = nil; for (i in 0..300000) { a = [a]; b = [b]; } print a == b;",
    ] {
        let r = e.run(src);
        assert!(
            r.is_ok()
                || r.as_ref()
                    .is_err_and(|e| e.to_string().contains("nested more than")),
            "{src}: {r:?}"
        );
    }
}

#[test]
fn allocation_without_end_stops_at_the_memory_limit() {
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    e.set_limits(Limits::default().with_max_memory(300 << 20));
    let err = e
        .run("var s = \"x\"; while (true) { s = s + s; }")
        .unwrap_err();
    assert!(
        err.is_limit() || err.to_string().contains("memory"),
        "{err}"
    );
}
