//! Hardening: a heap that cannot lose a commit, readers beside a writer, limits that hold,
//! deep programs and data, hostile input. One test binary for all of them (each binary
//! costs its own link of the whole interpreter under thin LTO).

#[path = "../common/mod.rs"]
mod common;

mod compile_errors;
mod data_edges;
mod deep_heap;
mod deep_programs;
mod integrity;
mod memory_limits;
mod readers;
