//! The embedding API's error type: compile errors, runtime errors and I/O errors, each
//! rendering the same diagnostics the CLI prints.

use walia_lang::diagnostic::{Diagnostic, render_all};
use walia_runtime::RtError;
use walia_runtime::error::ErrorKind;

#[derive(Debug)]
pub enum Error {
    /// Syntax or name errors: every one found in the file.
    Compile {
        file: String,
        source: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// A runtime error (or a limit that stopped the script).
    Runtime(RtError),
    /// A missing or unreadable script or heap.
    Io { message: String },
}

impl Error {
    /// The diagnostics as text (ANSI colours when `color`).
    pub fn render(&self, color: bool) -> String {
        match self {
            Error::Compile {
                file,
                source,
                diagnostics,
            } => render_all(diagnostics, file, source, color),
            Error::Runtime(e) => e.render(color),
            Error::Io { message } => format!("error: {message}\n"),
        }
    }

    /// The process exit code for this error (SPEC §5).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Compile { .. } => exit_code::COMPILE,
            Error::Runtime(_) => exit_code::RUNTIME,
            Error::Io { .. } => exit_code::IO,
        }
    }

    /// True when a limit (operations, memory, time) stopped the script.
    pub fn is_limit(&self) -> bool {
        matches!(self, Error::Runtime(e) if e.kind == ErrorKind::Limit)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

impl std::error::Error for Error {}

/// Exit codes of the `walia` command.
pub mod exit_code {
    pub const OK: i32 = 0;
    pub const USAGE: i32 = 64;
    pub const COMPILE: i32 = 65;
    pub const RUNTIME: i32 = 70;
    pub const IO: i32 = 74;
}
