//! @group Files
//! File builtins (SPEC §12): `read_file`, `write_file`, `append_file`, `file_exists`.
//! A failure is a runtime error naming the path and the OS reason.

use crate::check::*;
use std::io::{Read, Write};
use walia_runtime::api::{display, reserve};
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    leaf_global(vm, "read_file", 1, 1, read_file);
    leaf_global(vm, "write_file", 2, 2, write_file);
    leaf_global(vm, "append_file", 2, 2, append_file);
    leaf_global(vm, "file_exists", 1, 1, file_exists);
}

fn io_error(verb: &str, path: &str, e: std::io::Error) -> RtError {
    RtError::new(format!("cannot {verb} '{path}': {e}"))
}

/// The text to write: strings as they are, anything else in its printed form.
fn contents(a: &[Value]) -> String {
    match arg(a, 1) {
        Value::Str(s) => s.as_str().to_string(),
        other => display(other),
    }
}

/// @builtin read_file(path) -> String
///
/// The whole file at `path` as one String. The file must be UTF-8 text; reading counts
/// against the memory limit. To read a large file a line at a time, use the `lines(path)`
/// source instead.
///
/// Errors: `path` is not a String; the file cannot be read (the message names the path and
/// gives the OS reason) or is not valid UTF-8.
///
/// ```walia
/// write_file("note.txt", "hello");
/// print read_file("note.txt");   // -> hello
/// ```
fn read_file(a: &[Value]) -> RtResult<Value> {
    // Read in blocks, each one checked against the memory limit before it is read: a
    // device (`/dev/zero`) or a pipe has no size to check in advance, and a regular file's
    // size is only a hint (it may grow while read).
    const BLOCK: usize = 1 << 20;
    let path = expect_str(a, 0, "read_file")?.as_str();
    let mut file = std::fs::File::open(path).map_err(|e| io_error("read", path, e))?;
    let hint = file.metadata().map_or(0, |m| m.len()) as usize;
    let mut bytes: Vec<u8> = Vec::new();
    reserve(&mut bytes, hint.saturating_add(1).min(isize::MAX as usize))?;
    loop {
        if bytes.capacity() == bytes.len() {
            reserve(&mut bytes, BLOCK)?;
        }
        // Zero only one block's window: zeroing all spare capacity before each short read
        // (a pipe gives 64 KiB at a time) made reading a stream quadratic.
        let start = bytes.len();
        let end = bytes.capacity().min(start + BLOCK);
        bytes.resize(end, 0);
        let n = loop {
            match file.read(&mut bytes[start..end]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        bytes.truncate(start + n.as_ref().map_or(0, |n| *n));
        match n {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(io_error("read", path, e)),
        }
    }
    String::from_utf8(bytes).map(Value::str).map_err(|_| {
        io_error(
            "read",
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ),
        )
    })
}

/// @builtin write_file(path, contents) -> nil
///
/// Writes `contents` to the file at `path`, creating it or replacing what it held. A String is
/// written as it is; any other value in its printed form (`write_file("n.txt", 42)` writes
/// `42`). Nothing is added: no newline at the end. The write is not part of the heap's
/// transaction: a run that fails later does not undo it.
///
/// Errors: `path` is not a String; the file cannot be written (the message names the path and
/// gives the OS reason).
///
/// ```walia
/// write_file("out.txt", "a,b\n1,2\n");
/// print lines("out.txt") |> collect();   // -> ["a,b", "1,2"]
/// ```
fn write_file(a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "write_file")?.as_str();
    std::fs::write(path, contents(a)).map_err(|e| io_error("write", path, e))?;
    Ok(Value::Nil)
}

/// @builtin append_file(path, contents) -> nil
///
/// Adds `contents` at the end of the file at `path`, creating the file when it is missing.
/// Like `write_file`, a non-String value is written in its printed form and no newline is
/// added.
///
/// Errors: `path` is not a String; the file cannot be opened or written (the message names
/// the path and gives the OS reason).
///
/// ```walia
/// write_file("log.txt", "one\n");
/// append_file("log.txt", "two\n");
/// print lines("log.txt") |> collect();   // -> ["one", "two"]
/// ```
fn append_file(a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "append_file")?.as_str();
    let text = contents(a);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| io_error("append to", path, e))?;
    Ok(Value::Nil)
}

/// @builtin file_exists(path) -> Bool
///
/// Whether something exists at `path`: a file or a directory (`is_dir` tells them apart). A
/// path that cannot be checked (no permission to look) is `false`.
///
/// Errors: `path` is not a String.
///
/// ```walia
/// write_file("here.txt", "");
/// print [file_exists("here.txt"), file_exists("gone.txt")];   // -> [true, false]
/// ```
fn file_exists(a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "file_exists")?.as_str();
    Ok(Value::Bool(std::path::Path::new(path).exists()))
}
