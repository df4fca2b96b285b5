//! @group Pipes
//!
//! Pipeline stages (SPEC §8) and the methods of checkpointed streams (SPEC §9).
//!
//! Stages build a lazy [`Pipeline`] (a `Stream`): nothing runs until a terminal (see
//! `terminals.rs`) pulls the elements through every stage, one at a time.

use crate::check::*;
use std::rc::Rc;
use walia_runtime::api::{CheckpointSpec, Pipeline, Stage};
use walia_runtime::{RtError, RtResult, Value, Vm};

pub use crate::terminals::{collect_values, extreme_of};

/// Types that get the stages and terminals as methods.
pub const SRC: &[&str] = &["Stream", "List", "Range", "Table"];

pub fn install(vm: &mut Vm) {
    leaf_both(vm, SRC, "filter", 2, 2, filter);
    leaf_both(vm, SRC, "map", 2, 2, map);
    leaf_both(vm, SRC, "take", 2, 2, take);
    leaf_both(vm, SRC, "skip", 2, 2, skip);
    leaf_both(vm, SRC, "take_while", 2, 2, take_while);
    leaf_both(vm, SRC, "each", 2, 2, each);
    leaf_both(vm, SRC, "enumerate", 1, 1, enumerate);
    leaf_both(vm, SRC, "parallel", 2, 2, parallel);
    leaf_both(vm, SRC, "flat_map", 2, 2, flat_map);
    leaf_both(
        vm,
        &["Stream", "List", "Range", "Table", "String", "Map"],
        "checkpoint_at",
        2,
        4,
        checkpoint_at,
    );
    method(vm, &["Stream"], "position", 1, 1, position);
    method(vm, &["Stream"], "status", 1, 1, status);
    method(vm, &["Stream"], "reset", 1, 1, reset);
}

// ---- stages ----

fn stage_with_fn(a: &[Value], fname: &str, make: fn(Value) -> Stage) -> RtResult<Value> {
    let src = expect_iterable(a, 0, fname)?;
    let f = expect_fn(a, 1, fname)?;
    Pipeline::with_stage(src, make(f.clone()))
}

/// @builtin filter(src, pred) -> Stream
/// @builtin xs.filter(pred) -> Stream
///
/// A lazy stage: the elements of `src` for which `pred(x)` is truthy (anything but `nil`
/// and `false`). `src` is any iterable: a list, range, string (its characters), map
/// (`[key, value]` pairs), stream or table. Nothing runs until a terminal pulls.
///
/// Errors: `src` is not iterable; `pred` is not a function; any error `pred` raises (named
/// with the stage and the element's position).
///
/// ```walia
/// print 1..10 |> filter(x => x % 3 == 0) |> collect();   // -> [3, 6, 9]
/// print ["a", "", "b"].filter(s => s != "").collect();   // -> ["a", "b"]
/// ```
fn filter(a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "filter", Stage::Filter)
}

/// @builtin map(src, f) -> Stream
/// @builtin xs.map(f) -> Stream
///
/// A lazy stage: `f(x)` for every element of `src` (any iterable), in order.
///
/// Errors: `src` is not iterable; `f` is not a function; any error `f` raises.
///
/// ```walia
/// print [1, 2, 3] |> map(x => x * x) |> collect();   // -> [1, 4, 9]
/// print "ab" |> map(c => c.upper()) |> join();        // -> AB
/// ```
fn map(a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "map", Stage::Map)
}

/// @builtin take_while(src, pred) -> Stream
/// @builtin xs.take_while(pred) -> Stream
///
/// A lazy stage: the elements while `pred(x)` is truthy; it stops reading the source at
/// the first element that fails (which is not passed on).
///
/// Errors: `src` is not iterable; `pred` is not a function; any error `pred` raises.
///
/// ```walia
/// print [1, 2, 5, 1] |> take_while(x => x < 3) |> collect();   // -> [1, 2]
/// ```
fn take_while(a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "take_while", Stage::TakeWhile)
}

/// @builtin each(src, f) -> Stream
/// @builtin xs.each(f) -> Stream
///
/// A lazy stage for side effects: calls `f(x)` on every element and passes the element on
/// unchanged (`f`'s result is ignored). Run it with a terminal such as `run()`.
///
/// Errors: `src` is not iterable; `f` is not a function; any error `f` raises.
///
/// ```walia
/// var n = [1, 2] |> each(x => print x) |> run();   // -> 1
///                                                  // -> 2
/// print n;                                         // -> 2
/// ```
fn each(a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "each", Stage::Each)
}

/// @builtin flat_map(src, f) -> Stream
/// @builtin xs.flat_map(f) -> Stream
///
/// A lazy stage: `f(x)` must give an iterable (a list, range, string...); its elements
/// are passed on one by one, in order.
///
/// Errors: `src` is not iterable; `f` is not a function or returns something that is not
/// iterable; any error `f` raises.
///
/// ```walia
/// print ["a b", "c"] |> flat_map(s => s.split(" ")) |> collect();   // -> ["a", "b", "c"]
/// print 1..4 |> flat_map(n => 0..n) |> collect();                 // -> [0, 0, 1, 0, 1, 2]
/// ```
fn flat_map(a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "flat_map", Stage::FlatMap)
}

fn count_arg(a: &[Value], fname: &str) -> RtResult<i64> {
    let n = expect_int(a, 1, fname)?;
    if n < 0 {
        return Err(RtError::new(format!(
            "'{fname}' expects a non-negative count, got {n}"
        )));
    }
    Ok(n)
}

/// @builtin take(src, n) -> Stream
/// @builtin xs.take(n) -> Stream
///
/// A lazy stage: the first `n` elements. It stops reading the source once `n` elements
/// are out, so `take` on a huge range or file is instant.
///
/// Errors: `src` is not iterable; `n` is not an Int or is negative.
///
/// ```walia
/// print 0..1000000000 |> take(3) |> collect();   // -> [0, 1, 2]
/// ```
fn take(a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "take")?;
    let n = count_arg(a, "take")?;
    Pipeline::with_stage(src, Stage::Take(n))
}

/// @builtin skip(src, n) -> Stream
/// @builtin xs.skip(n) -> Stream
///
/// A lazy stage: every element after the first `n`.
///
/// Errors: `src` is not iterable; `n` is not an Int or is negative.
///
/// ```walia
/// print [1, 2, 3, 4] |> skip(2) |> collect();   // -> [3, 4]
/// ```
fn skip(a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "skip")?;
    let n = count_arg(a, "skip")?;
    Pipeline::with_stage(src, Stage::Skip(n))
}

/// @builtin enumerate(src) -> Stream
/// @builtin xs.enumerate() -> Stream
///
/// A lazy stage: `[i, x]` pairs, `i` counting the elements that reach this stage from 0.
///
/// Errors: `src` is not iterable.
///
/// ```walia
/// print ["a", "b"] |> enumerate() |> collect();   // -> [[0, "a"], [1, "b"]]
/// ```
fn enumerate(a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "enumerate")?;
    Pipeline::with_stage(src, Stage::Enumerate)
}

/// @builtin parallel(src, n) -> Stream
/// @builtin xs.parallel(n) -> Stream
///
/// Marks the pipeline to run its pure stages on `n` threads (SPEC §10). The results are
/// the same as without it, in the same order; where the stages or the source do not
/// allow threads (a lambda with side effects, a stream of lines...), it runs on one.
///
/// Errors: `src` is not iterable; `n` is not an Int or is below 1.
///
/// ```walia
/// print 0..8 |> parallel(2) |> map(x => x * 10) |> sum();   // -> 280
/// ```
fn parallel(a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "parallel")?;
    let n = expect_int(a, 1, "parallel")?;
    if n < 1 {
        return Err(RtError::new(format!(
            "'parallel' expects a thread count of at least 1, got {n}"
        )));
    }
    Pipeline::with_stage(src, Stage::Parallel(n))
}

/// @builtin checkpoint_at(src, n [, name]) -> Stream
/// @builtin xs.checkpoint_at(n [, name]) -> Stream
///
/// Makes the pipeline resumable (SPEC §9): every `n` source elements its position (and
/// the terminal's partial result) is committed to the heap under `name`, and a later run
/// of the same pipe continues from there instead of starting over. Without `name` the pipe
/// takes the name of the top-level variable it is assigned to. Methods of a checkpointed
/// stream: `position()`, `status()`, `reset()`.
///
/// Errors: `src` is not iterable; `n` is not an Int or is below 1; no name (an unnamed,
/// unassigned pipe is a compile error); a name that is empty, longer than 200 bytes or
/// holds NUL.
///
/// ```walia
/// var evens = 0..10 |> filter(x => x % 2 == 0) |> checkpoint_at(2);
/// print evens |> take(2) |> collect();   // -> [0, 2]
/// print evens |> collect();              // -> [4, 6, 8]
/// ```
fn checkpoint_at(a: &[Value]) -> RtResult<Value> {
    // The compiler passes the name (the explicit one, else the top-level variable the pipe
    // is bound to) and the definition's normalized text as the third and fourth arguments;
    // the method form gets no text, and the stages stand in for it.
    let src = expect_iterable(a, 0, "checkpoint_at")?;
    let n = expect_int(a, 1, "checkpoint_at")?;
    if n < 1 {
        return Err(RtError::new(format!(
            "'checkpoint_at' expects a positive number of elements between checkpoints, got {n}"
        )));
    }
    let name = match a.get(2) {
        None | Some(Value::Nil) => {
            return Err(RtError::new(
                "a checkpointed pipe needs a name: bind it to a top-level variable, or name it: \
                 checkpoint_at(n, \"name\")"
                    .to_string(),
            ));
        }
        Some(_) => expect_str(a, 2, "checkpoint_at")?.as_str().to_string(),
    };
    if name.is_empty() || name.len() > 200 || name.contains('\0') {
        return Err(RtError::new(format!(
            "'checkpoint_at' expects a name of 1 to 200 bytes without NUL, got {name:?}"
        )));
    }
    let text = match a.get(3) {
        Some(Value::Str(t)) => t.as_str().to_string(),
        _ => walia_runtime::api::definition_text(src),
    };
    let spec = CheckpointSpec::new(n, &name, &text);
    Pipeline::with_stage(src, Stage::CheckpointAt(Rc::new(spec)))
}

/// The checkpoint stage of a stream, or the error for a method that needs one.
fn spec_arg(a: &[Value], fname: &str) -> RtResult<Rc<CheckpointSpec>> {
    if let Value::Stream(p) = arg(a, 0) {
        for s in &p.stages {
            if let Stage::CheckpointAt(c) = s {
                return Ok(c.clone());
            }
        }
    }
    Err(RtError::new(format!(
        "'{fname}' needs a checkpointed pipe (one with a checkpoint_at stage)"
    )))
}

/// @builtin p.position() -> Int
///
/// How many source elements a checkpointed stream's committed cursor has consumed, over
/// every pass (0 for a new or reset pipe).
///
/// Errors: the stream has no `checkpoint_at` stage.
///
/// ```walia
/// var evens = 0..10 |> filter(x => x % 2 == 0) |> checkpoint_at(2);
/// print evens.position();                // -> 0
/// print evens |> take(2) |> collect();   // -> [0, 2]
/// print evens.position();                // -> 3
/// ```
fn position(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let spec = spec_arg(a, "position")?;
    let p = vm.stream_position(&spec)?;
    Ok(Value::Int(p.min(i64::MAX as u64) as i64))
}

/// @builtin p.status() -> Map
///
/// The cursor of a checkpointed stream as a map: `name`, `state` (`"new"`, `"finished"`,
/// or `"interrupted"` when a pass stopped midway), `position`, `total` (when the source's
/// length is known, else `nil`), `every`, `checkpoints`, `resumes`, `passes`, the timings
/// `last_commit_ms` and `last_resume_ms`, `fingerprint` and `definition`.
///
/// Errors: the stream has no `checkpoint_at` stage.
///
/// ```walia
/// var evens = 0..10 |> filter(x => x % 2 == 0) |> checkpoint_at(2);
/// evens |> run();
/// var s = evens.status();
/// print s.state + " " + s.position + "/" + s.total;   // -> finished 10/10
/// ```
fn status(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let spec = spec_arg(a, "status")?;
    vm.stream_status(&spec)
}

/// @builtin p.reset() -> nil
///
/// Moves a checkpointed stream's cursor back to the start of its source (and adopts this
/// definition of the pipe), so the next run reads everything again.
///
/// Errors: the stream has no `checkpoint_at` stage.
///
/// ```walia
/// var evens = 0..10 |> filter(x => x % 2 == 0) |> checkpoint_at(2);
/// print evens |> take(1) |> collect();   // -> [0]
/// evens.reset();
/// print evens |> take(1) |> collect();   // -> [0]
/// ```
fn reset(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let spec = spec_arg(a, "reset")?;
    vm.reset_cursor(&spec)?;
    Ok(Value::Nil)
}
