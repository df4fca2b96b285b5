//! @group System
//! The process around a script: `exit`, standard input (`read_line`, `read_stdin`, the
//! `stdin_lines()` source) and the environment (`env`). `args()` is in core.rs.
//!
//! Standard input is read through the process's one buffered stdin, so `read_line`,
//! `read_stdin` and `stdin_lines()` can be mixed: each takes up where the last stopped.

use crate::check::*;
use crate::records::read_line_capped;
use std::io::BufRead;
use walia_runtime::api::{
    FilePos, FileSource, MapKey, Pipeline, RecordReader, Str, max_record, new_entries, reserve,
};
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    leaf_global(vm, "exit", 0, 1, exit);
    leaf_global(vm, "env", 0, 1, env);
    leaf_global(vm, "read_line", 0, 0, read_line);
    leaf_global(vm, "read_stdin", 0, 0, read_stdin);
    vm.register_source(STDIN_LINES, open_stdin_lines);
    leaf_global(vm, STDIN_LINES, 0, 0, stdin_lines);
}

/// @builtin exit([code]) -> nil
///
/// Ends the script at once: nothing after the call runs. `exit` is a normal end, not a
/// failure: the run's changes commit (as when the script runs to its end), then the
/// process exits with `code` (default 0). To fail and roll back, use `error(msg)`.
/// In the REPL `exit(code)` commits the input and leaves the REPL with that status; in
/// `walia test` an `exit` at the top level ends the run before any test, and an `exit`
/// inside a `test` block fails that test (the other tests still run). Inside a stage of a
/// checkpointed pipe, the pipe goes back to its last checkpoint (where it resumes) before
/// the run commits. An embedding program gets `Err(e)` with `e.exit_status() ==
/// Some(code)`; its process keeps running.
///
/// Errors: `code` is not an Int, or not in 0..=255.
///
/// ```walia
/// print "before";   // -> before
/// exit(0);
/// print "never printed";
/// ```
fn exit(a: &[Value]) -> RtResult<Value> {
    let code = match a.first() {
        None => 0,
        Some(_) => expect_int(a, 0, "exit")?,
    };
    let code = u8::try_from(code)
        .map_err(|_| RtError::new(format!("'exit' expects a code from 0 to 255, got {code}")))?;
    Err(RtError::exit(code))
}

/// @builtin env([name]) -> String | nil | Map
///
/// The environment variable `name`, or `nil` when it is not set (or its value is not
/// valid UTF-8). Without an argument: a Map of every variable whose name and value are
/// valid UTF-8, sorted by name.
///
/// Errors: `name` is not a String.
///
/// ```walia
/// print env("WALIA_SURELY_UNSET_VARIABLE");   // -> nil
/// print type_of(env());                       // -> Map
/// ```
fn env(a: &[Value]) -> RtResult<Value> {
    if a.is_empty() {
        let mut vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        vars.sort();
        let mut entries = new_entries(vars.len());
        for (k, v) in vars {
            entries.insert(MapKey::Str(std::rc::Rc::new(Str::new(k))), Value::str(v));
        }
        return Ok(Value::map(entries));
    }
    let name = expect_str(a, 0, "env")?.as_str();
    // `std::env::var_os` panics on a name with `=` or NUL: no such variable can exist.
    if name.is_empty() || name.contains(['=', '\0']) {
        return Ok(Value::Nil);
    }
    Ok(std::env::var_os(name)
        .and_then(|v| v.into_string().ok())
        .map_or(Value::Nil, Value::str))
}

/// How standard input is named in errors.
const STDIN: &str = "<stdin>";

fn stdin_error(e: impl std::fmt::Display) -> RtError {
    RtError::new(format!("cannot read {STDIN}: {e}"))
}

/// One line of standard input without its `\n` (or `\r\n`); `None` at the end.
/// `line_no`: the line's number for messages, when the reader counts lines.
fn next_stdin_line(line_no: Option<u64>) -> RtResult<Option<String>> {
    let bad = |reason: &dyn std::fmt::Display| match line_no {
        Some(n) => RtError::new(format!("'{STDIN}' line {n}: {reason}")),
        None => stdin_error(reason),
    };
    let mut buf = Vec::new();
    let mut input = std::io::stdin().lock();
    let n = read_line_capped(&mut input, &mut buf, max_record())
        .map_err(stdin_error)?
        .map_err(|e| bad(&e))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| bad(&"invalid UTF-8"))
}

/// @builtin read_line() -> String | nil
///
/// The next line of standard input, without its line end (`\n` or `\r\n`); `nil` at the
/// end of the input. An empty line is `""`, so `while ((line = read_line()) != nil)`
/// reads every line. A line longer than `--max-record` is an error.
///
/// Errors: the input cannot be read, is not valid UTF-8, or a line is too long.
///
/// ```walia
/// // Run with no input (stdin at its end):
/// print read_line();   // -> nil
/// ```
fn read_line(_: &[Value]) -> RtResult<Value> {
    Ok(next_stdin_line(None)?.map_or(Value::Nil, Value::str))
}

/// @builtin read_stdin() -> String
///
/// All of standard input not read yet, as one String (`""` at the end of the input).
/// Reading counts against the memory limit.
///
/// Errors: the input cannot be read or is not valid UTF-8.
///
/// ```walia
/// // Run with no input (stdin at its end):
/// print len(read_stdin());   // -> 0
/// ```
fn read_stdin(_: &[Value]) -> RtResult<Value> {
    const BLOCK: usize = 1 << 16;
    let mut bytes: Vec<u8> = Vec::new();
    let mut input = std::io::stdin().lock();
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(stdin_error(e)),
        };
        if available.is_empty() {
            break;
        }
        let take = available.len().min(BLOCK);
        reserve(&mut bytes, take)?;
        bytes.extend_from_slice(&available[..take]);
        input.consume(take);
    }
    String::from_utf8(bytes)
        .map(Value::str)
        .map_err(|_| stdin_error("not valid UTF-8"))
}

/// The source's registered name, also how a stored stream finds its opener again.
const STDIN_LINES: &str = "stdin_lines";

/// @builtin stdin_lines() -> Stream
///
/// A pipeline source of the lines of standard input (each without its line end), read
/// one at a time as the pipeline runs, so memory does not grow with the input:
/// `stdin_lines() |> filter(l => contains(l, "ERROR")) |> count()`. Running the stream
/// reads the lines not read yet (by it, `read_line` or `read_stdin`). Standard input
/// cannot be read again from a position, so a checkpointed pipe over it is an error.
///
/// Errors: the input is not valid UTF-8 or a line is too long (naming the line);
/// `checkpoint_at` over it.
///
/// ```walia
/// // Run with no input (stdin at its end):
/// print stdin_lines() |> count();   // -> 0
/// ```
fn stdin_lines(_: &[Value]) -> RtResult<Value> {
    Ok(Pipeline::of_source(FileSource::value(
        STDIN_LINES,
        "-",
        open_stdin_lines,
    )))
}

/// The reader behind `stdin_lines()`: counts lines for its messages.
struct StdinLines {
    line: u64,
}

fn open_stdin_lines(_: &FileSource) -> RtResult<Box<dyn RecordReader>> {
    Ok(Box::new(StdinLines { line: 0 }))
}

impl RecordReader for StdinLines {
    fn next_record(&mut self) -> RtResult<Option<Value>> {
        self.line += 1;
        let line = next_stdin_line(Some(self.line))?;
        Ok(line.map(Value::str))
    }

    fn position(&mut self) -> RtResult<Option<FilePos>> {
        Err(RtError::new(
            "stdin_lines() cannot be checkpointed: standard input cannot be read again \
             from a position (save the input to a file and use lines(path))",
        ))
    }
}
