//! walia-lang: the front end of the Walia interpreter. No I/O, no knowledge of the heap.
//!
//! `source → lexer → parser → AST → resolver`, with every error collected as a
//! [`diagnostic::Diagnostic`].

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod fingerprint;
pub mod globals;
pub mod habits;
pub mod lexer;
pub mod parser;
pub mod resolve;
pub mod stack;
pub use parser::{ParseMode, parse, parse_with};
