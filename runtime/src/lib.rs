//! walia-runtime: values, the bytecode compiler, the VM and the pipeline executor.
//!
//! The modules stand in floors, lowest first: values and their rules (`value`, `ops`,
//! `print`, `gc`, `entries`, `index`, `limits`, `error`); the compiler and bytecode;
//! `kernel/` (stage kernels and the bound plan); `pipe/` (the executor, which owns every
//! terminal loop); `db/` (table and row values); `persist/` (values into the heap's catalog
//! records and back); the VM. Pages, commits and table storage are in walia-store.
//! Everything above the runtime comes in through [`api`].

pub mod api;
mod arith;
mod bytecode;
mod compiler;
mod db;
mod entries;
mod error;
mod gc;
mod index;
mod kernel;
mod limits;
mod ops;
mod persist;
mod pipe;
mod print;
mod value;
mod vm;

pub use error::{RtError, RtResult};
pub use value::Value;
pub use vm::Vm;
