//! walia-runtime: values, the bytecode compiler, the VM and the pipeline executor.

pub mod bytecode;
pub mod compiler;
mod dispatch;
pub mod entries;
pub mod error;
pub mod gc;
pub mod heap;
mod hot;
pub mod index;
pub mod kernel;
pub mod limits;
mod members;
pub mod ops;
pub mod pipe;
pub mod print;
pub mod source;
pub mod table;
pub mod value;
pub mod vm;
pub mod vm_heap;
pub mod vm_table;

pub use error::{RtError, RtResult};
pub use value::Value;
pub use vm::Vm;
