//! File builtins (SPEC §12): `read_file`, `write_file`, `append_file`, `file_exists`.
//! A failure is a runtime error naming the path and the OS reason.

use crate::check::*;
use std::io::Write;
use walia_runtime::api::display;
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    global(vm, "read_file", 1, 1, read_file);
    global(vm, "write_file", 2, 2, write_file);
    global(vm, "append_file", 2, 2, append_file);
    global(vm, "file_exists", 1, 1, file_exists);
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

fn read_file(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "read_file")?.as_str();
    std::fs::read_to_string(path)
        .map(Value::str)
        .map_err(|e| io_error("read", path, e))
}

fn write_file(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "write_file")?.as_str();
    std::fs::write(path, contents(a)).map_err(|e| io_error("write", path, e))?;
    Ok(Value::Nil)
}

fn append_file(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
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

fn file_exists(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "file_exists")?.as_str();
    Ok(Value::Bool(std::path::Path::new(path).exists()))
}
