//! walia-runtime: values, the bytecode compiler, the VM and the pipeline executor.
//!
//! The modules stand in floors, lowest first: `arith` and `kernel/` (value-free numeric
//! rules and stage kernels); `error`, `limits`; the object model (`value`, `bytecode`,
//! `objects`, `entries`, `gc`, `ops`, `print`, `index`); `compiler/`; `persist/mod.rs`
//! (the VM's heap: the store's heap and the live-object maps); `db/` (table and row
//! values); `pipe/` (the executor, which owns every terminal loop); `persist/` save, load
//! and recompile; `vm/`. One circle remains on purpose, the interpreter core: a `Value`
//! can hold a native function (which takes the `Vm`) or a `for` loop's `PipeRun`, the VM
//! holds the heap and a row reader, and the executor calls back into the VM
//! (docs/design.md, "Layers"). Pages, commits and table storage are in walia-store.
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
mod native;
mod objects;
mod ops;
mod ordered;
mod persist;
mod pipe;
mod print;
mod shape;
mod slice;
mod thread_state;
mod value;
mod vm;

pub use error::{RtError, RtResult};
pub use thread_state::RuntimeState;
pub use value::Value;
pub use vm::Vm;
