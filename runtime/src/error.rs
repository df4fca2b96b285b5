//! Runtime errors: a message, the span of the failing operation and the Walia call stack.

use std::sync::Arc;
use walia_lang::ast::Span;
use walia_lang::diagnostic::{Diagnostic, line_col, render_unlocated};

/// A script's name and text, kept for error messages and for storing code as data.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// One line of a Walia call stack: the function and where in its source it was.
#[derive(Clone, Debug)]
pub struct StackFrame {
    pub function: String,
    pub source: Arc<SourceFile>,
    pub span: Span,
}

/// Frames shown at each end of a long call stack.
const SHOWN_FRAMES: usize = 10;

/// A runtime error. Builtins create it with just a message; the VM adds the location and
/// the call stack of the operation that failed. Boxed, so that the `Result`s every
/// operation returns stay small (this is on the VM's hot path).
#[derive(Clone, Debug)]
pub struct RtError(Box<ErrorData>);

/// The contents of a [`RtError`] (reachable through `Deref`: `err.message`, `err.stack`).
#[derive(Clone, Debug)]
pub struct ErrorData {
    pub message: String,
    /// Innermost first. Empty until the VM locates the error.
    pub stack: Vec<StackFrame>,
    /// Why a limit stopped the script, for embedders that want to tell limits apart.
    pub kind: ErrorKind,
    /// Extra lines shown after the stack (such as what a rollback restored).
    pub notes: Vec<String>,
}

impl std::ops::Deref for RtError {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for RtError {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An error raised by the script or an operation in it.
    Script,
    /// The operation limit, memory limit or deadline stopped the script.
    Limit,
    /// The heap file failed (I/O or corruption): exit code 74, not 70.
    Heap,
    /// The script called `exit(code)`: not a failure. It unwinds like an error (nothing
    /// after the call runs), then the run ends as a normal one does (it commits) and the
    /// process exits with `code`.
    Exit(u8),
}

impl RtError {
    pub fn new(message: impl Into<String>) -> RtError {
        RtError(Box::new(ErrorData {
            message: message.into(),
            stack: Vec::new(),
            kind: ErrorKind::Script,
            notes: Vec::new(),
        }))
    }

    pub fn limit(message: impl Into<String>) -> RtError {
        let mut e = RtError::new(message);
        e.kind = ErrorKind::Limit;
        e
    }

    /// The unwinding of `exit(code)` (see [`ErrorKind::Exit`]).
    pub fn exit(code: u8) -> RtError {
        let mut e = RtError::new(format!("exit({code})"));
        e.kind = ErrorKind::Exit(code);
        e
    }

    /// The code of an `exit(code)` call, when this is one.
    pub fn exit_code(&self) -> Option<u8> {
        match self.kind {
            ErrorKind::Exit(code) => Some(code),
            _ => None,
        }
    }

    pub fn is_located(&self) -> bool {
        !self.stack.is_empty()
    }

    /// Render as a diagnostic: `file:line:col: error: message`, the source line, the call
    /// stack (innermost first), then the notes.
    pub fn render(&self, color: bool) -> String {
        let Some(top) = self.stack.first() else {
            return render_unlocated(&self.message, &self.notes, color);
        };
        let mut d = Diagnostic::new(self.message.clone(), top.span);
        // A deep recursion has thousands of frames: show both ends of the stack.
        let n = self.stack.len();
        for (i, frame) in self.stack.iter().enumerate() {
            if n > 2 * SHOWN_FRAMES && i == SHOWN_FRAMES {
                d = d.with_trace(format!("... {} more frames ...", n - 2 * SHOWN_FRAMES));
            }
            if n > 2 * SHOWN_FRAMES && (SHOWN_FRAMES..n - SHOWN_FRAMES).contains(&i) {
                continue;
            }
            let (line, col) = line_col(&frame.source.text, frame.span.start as usize);
            d = d.with_trace(format!(
                "at {} ({}:{}:{})",
                frame.function, frame.source.name, line, col
            ));
        }
        for note in &self.notes {
            d = d.with_note(note.clone());
        }
        d.render(&top.source.name, &top.source.text, color)
    }
}

impl std::fmt::Display for RtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.stack.first() {
            Some(top) => {
                let (line, col) = line_col(&top.source.text, top.span.start as usize);
                write!(f, "{}:{}:{}: {}", top.source.name, line, col, self.message)
            }
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RtError {}

pub type RtResult<T> = Result<T, RtError>;

/// A heap failure surfacing inside a running script.
pub fn heap_rt_error(e: walia_store::HeapError) -> RtError {
    let read_only = matches!(e, walia_store::HeapError::ReadOnly);
    let mut err = RtError::new(e.to_string());
    // Writing through a read-only heap is the script's mistake, not damage or an I/O
    // failure: a runtime error (exit 70).
    if !read_only {
        err.kind = ErrorKind::Heap;
    }
    err
}
