//! The command line's parts that are not the command list itself (which is in main.rs):
//! option groups, argument rewriting and warnings, completions and the man page.

pub mod argv;
pub mod docs;
pub mod options;
pub mod run;
