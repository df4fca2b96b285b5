//! Assertions for `test` blocks and scripts (SPEC §4): `assert` and `assert_eq`.
//! @group Testing

use crate::check::*;
use walia_runtime::api::{display, repr};
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    global(vm, "assert", 1, 2, assert);
    leaf_global(vm, "assert_eq", 2, 3, assert_eq);
}

/// @builtin assert(cond [, message]) -> nil
///
/// Does nothing when `cond` is truthy (anything but `false` and `nil`). Otherwise raises a
/// runtime error: inside a `test` block that fails the test (`walia test` reports it and
/// goes on with the next test), elsewhere it stops the script (exit 70).
///
/// The error reads `assertion failed: MESSAGE` when a message is given, else
/// `assertion failed: COND` with the source text of the condition as written in the call
/// (`assertion failed: x > 3`), on one line. The text is only known where the call names
/// the builtin directly: called through another name (`var check = assert;`), the error is
/// plain `assertion failed`. A script may declare its own `assert`; calls then go to it.
///
/// Errors: `cond` is falsy.
///
/// ```walia
/// var xs = [1, 2, 3];
/// assert(len(xs) == 3);
/// assert(xs[0] == 1, "the list starts at 1");
/// print "checked";  // -> checked
/// ```
fn assert(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    // Set by the call site just before this call; taken either way so it never goes stale.
    let source = vm.assert_source.take();
    if arg(a, 0).is_truthy() {
        return Ok(Value::Nil);
    }
    match (a.get(1), source) {
        (Some(msg), _) => Err(RtError::new(format!("assertion failed: {}", display(msg)))),
        (None, Some(text)) if !text.is_empty() => {
            Err(RtError::new(format!("assertion failed: {text}")))
        }
        (None, _) => Err(RtError::new("assertion failed")),
    }
}

/// @builtin assert_eq(left, right [, message]) -> nil
///
/// Does nothing when `left == right` (the language's `==`: numbers by value, `1 == 1.0`,
/// lists and maps element by element). Otherwise raises a runtime error that shows both
/// values in their quoted form (`repr`), each on a line of its own: `assert_eq(xs, [1, 3])`
/// with `xs` holding `[1, 2]` fails with the three lines `assertion failed: left == right`,
/// `  left: [1, 2]` and ` right: [1, 3]`. With a `message`, the first line is
/// `assertion failed: MESSAGE`. Inside a `test` block a failure fails that test; elsewhere
/// it stops the script (exit 70).
///
/// Errors: the two values differ.
///
/// ```walia
/// assert_eq([1, 2] |> map(x => x * 10) |> to_list(), [10, 20]);
/// assert_eq(1 + 1, 2.0, "Int and Float compare by value");
/// print "equal";  // -> equal
/// ```
fn assert_eq(a: &[Value]) -> RtResult<Value> {
    let (left, right) = (arg(a, 0), arg(a, 1));
    if walia_runtime::api::ops::equal(left, right) {
        return Ok(Value::Nil);
    }
    let head = match a.get(2) {
        Some(msg) => display(msg),
        None => "left == right".to_string(),
    };
    Err(RtError::new(format!(
        "assertion failed: {head}\n  left: {}\n right: {}",
        repr(left),
        repr(right)
    )))
}
