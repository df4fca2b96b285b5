//! Compile and run arbitrary text as a script under tight limits: a compile error, a runtime
//! error or a limit is fine; a panic, a crash or a hang is a bug.
//! Run with `cargo +nightly fuzz run script` from the repository root (not run in CI).
//!
//! Every builtin that reads or writes files is replaced by one that fails, so no input
//! touches the disk; the heap is in memory, so commits and loads are exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use walia::{Engine, Limits};

/// Builtins that touch files (SPEC §12 and the table import and export).
const FILE_BUILTINS: &[&str] = &[
    "read_file",
    "write_file",
    "append_file",
    "file_exists",
    "lines",
    "read_csv",
    "read_jsonl",
    "db_import",
    "db_export",
];

fn engine() -> Engine {
    let mut engine = Engine::with_output(Box::new(std::io::sink()));
    engine.set_quiet(true);
    engine.set_limits(
        Limits::default()
            .with_max_operations(200_000)
            .with_max_memory(1 << 30)
            .with_timeout(Duration::from_secs(1)),
    );
    // libFuzzer runs inputs on the main thread (8 MiB, the default the engine assumes).
    engine.set_stack_size(8 << 20);
    for name in FILE_BUILTINS {
        engine.register_variadic(name, 0, 16, |_| {
            Err::<walia::Value, _>("file access is disabled in the fuzzer")
        });
    }
    engine
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let mut engine = engine();
    if engine.open_memory_heap().is_err() {
        return;
    }
    // Rendering is part of what is fuzzed: diagnostics over arbitrary spans and text.
    if let Err(e) = engine.check("<fuzz>", source) {
        let _ = e.render(false);
        let _ = e.to_string();
        return;
    }
    match engine.run_named("<fuzz>", source) {
        Ok(_) => {
            let _ = engine.run_tests();
        }
        Err(e) => {
            let _ = e.render(false);
        }
    }
    // Read the globals back through the API.
    let globals = engine.globals();
    for name in globals.iter().take(16) {
        let _ = engine.try_get_value(name);
    }
});
