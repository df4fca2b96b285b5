//! The embedding API's error type: compile errors, runtime errors and I/O errors, each
//! rendering the same diagnostics the CLI prints.

use walia_lang::diagnostic::{Diagnostic, render_all, render_unlocated};
use walia_runtime::RtError;
use walia_runtime::api::ErrorKind;

/// Why running or compiling a script failed.
#[derive(Debug)]
pub enum Error {
    /// Syntax or name errors: every one found in the file.
    Compile {
        /// The script's name in diagnostics.
        file: String,
        /// The script's text.
        source: String,
        /// Every error found, in source order.
        diagnostics: Vec<Diagnostic>,
    },
    /// A runtime error (or a limit that stopped the script), or the script's call of
    /// `exit(code)`: see [`Error::exit_status`].
    Runtime(RtError),
    /// A missing or unreadable script or heap.
    Io {
        /// What failed and why, naming the path.
        message: String,
    },
}

impl Error {
    /// The diagnostics as text (ANSI colours when `color`); empty for `exit(code)`, which
    /// is no failure.
    pub fn render(&self, color: bool) -> String {
        match self {
            Error::Runtime(e) if e.exit_code().is_some() => String::new(),
            Error::Compile {
                file,
                source,
                diagnostics,
            } => render_all(diagnostics, file, source, color),
            Error::Runtime(e) => e.render(color),
            Error::Io { message } => render_unlocated(message, &[], color),
        }
    }

    /// The process exit code for this error (SPEC §5).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Runtime(e) if let Some(code) = e.exit_code() => i32::from(code),
            Error::Compile { .. } => exit_code::COMPILE,
            Error::Runtime(e) if e.kind == ErrorKind::Heap => exit_code::IO,
            Error::Runtime(_) => exit_code::RUNTIME,
            Error::Io { .. } => exit_code::IO,
        }
    }

    /// `Some(code)` when the script called `exit(code)`. That is a normal end, not a
    /// failure: [`crate::Engine::run`] committed the run's changes before returning it
    /// (through `Err`, since the script did not run to its end), and nothing after the
    /// call ran. The `walia` command exits with `code`.
    pub fn exit_status(&self) -> Option<u8> {
        match self {
            Error::Runtime(e) => e.exit_code(),
            _ => None,
        }
    }

    /// True when a limit (operations, memory, time) stopped the script.
    pub fn is_limit(&self) -> bool {
        matches!(self, Error::Runtime(e) if e.kind == ErrorKind::Limit)
    }

    /// True when [`crate::interrupt`] stopped the script.
    pub fn is_interrupt(&self) -> bool {
        matches!(self, Error::Runtime(e)
            if e.kind == ErrorKind::Limit
                && e.message == walia_runtime::api::INTERRUPTED_MESSAGE)
    }
}

/// One line: `file:line:col: message` (the first error of a compile failure, with a count
/// of the others). [`Error::render`] gives the full diagnostics.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Compile {
                file,
                source,
                diagnostics,
            } => {
                let Some(first) = diagnostics.first() else {
                    return write!(f, "{file}: compile error");
                };
                let (line, col) = first.line_col(source);
                write!(f, "{file}:{line}:{col}: {}", first.message)?;
                if diagnostics.len() > 1 {
                    write!(f, " (and {} more errors)", diagnostics.len() - 1)?;
                }
                Ok(())
            }
            Error::Runtime(e) => write!(f, "{e}"),
            Error::Io { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// Exit codes of the `walia` command.
pub mod exit_code {
    /// Success.
    pub const OK: i32 = 0;
    /// Bad command-line usage.
    pub const USAGE: i32 = 64;
    /// A syntax or name error.
    pub const COMPILE: i32 = 65;
    /// A runtime error, or a failed `walia test`.
    pub const RUNTIME: i32 = 70;
    /// A missing or unreadable script, or a heap that cannot be opened, is locked or is
    /// corrupt.
    pub const IO: i32 = 74;
}
