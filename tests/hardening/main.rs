//! Hardening: a heap that cannot lose a commit, readers beside a writer, limits that hold,
//! deep programs and data, hostile input. One test binary for all of them (each binary
//! costs its own link of the whole interpreter under thin LTO).

#[path = "../common/mod.rs"]
mod common;

/// The default stack of `std::thread` and tokio: what an embedding host gives an engine.
const SMALL_STACK: usize = 2 << 20;

/// Run `f` on a thread with a 2 MiB stack (a stack overflow there aborts the test binary).
fn on_small_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the engine panicked")
}

mod compile_errors;
mod data_edges;
mod deep_heap;
mod deep_programs;
mod integrity;
mod memory_limits;
mod readers;
