//! Pipeline stages and terminals (SPEC §8).
//!
//! Stages build a lazy [`Pipeline`] (a `Stream`); terminals run any iterable through one
//! fused [`PipeRun`] loop, pulling one element at a time and never building an intermediate
//! collection. `first`, `any` and `all` stop pulling as soon as their result is known. The
//! loops themselves are the executor's (`PipeRun::sum_all`, `reduce`, `group_by`...): a
//! builtin here checks its arguments, starts the run and shapes the result.

use crate::check::*;
use std::cmp::Ordering;
use std::rc::Rc;
use walia_runtime::api::{CheckpointSpec, PipeRun, Pipeline, Stage, TerminalArgs, ops};
use walia_runtime::{RtError, RtResult, Value, Vm};

/// Types that get the stages and terminals as methods.
const SRC: &[&str] = &["Stream", "List", "Range", "Table"];

pub fn install(vm: &mut Vm) {
    both(vm, SRC, "filter", 2, 2, filter);
    both(vm, SRC, "map", 2, 2, map);
    both(vm, SRC, "take", 2, 2, take);
    both(vm, SRC, "skip", 2, 2, skip);
    both(vm, SRC, "take_while", 2, 2, take_while);
    both(vm, SRC, "each", 2, 2, each);
    both(vm, SRC, "enumerate", 1, 1, enumerate);
    both(vm, SRC, "parallel", 2, 2, parallel);
    both(vm, SRC, "flat_map", 2, 2, flat_map);
    both(
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

    both(vm, SRC, "count", 1, 1, count);
    // `length` on List and String is registered by their own modules (same meaning).
    both(vm, &["Stream", "Range"], "length", 1, 1, count);
    both(vm, SRC, "sum", 1, 1, sum);
    both(vm, SRC, "avg", 1, 1, avg);
    both(vm, SRC, "reduce", 3, 3, reduce);
    both(vm, SRC, "first", 1, 1, first);
    both(vm, SRC, "last", 1, 1, last);
    both(vm, SRC, "collect", 1, 1, collect);
    both(vm, SRC, "to_list", 1, 1, collect);
    both(vm, SRC, "group_by", 2, 2, group_by);
    both(vm, SRC, "sort_by", 2, 2, sort_by);
    both(
        vm,
        &["Stream", "List", "Range", "String"],
        "join",
        1,
        2,
        join,
    );
    both(vm, SRC, "any", 1, 2, any);
    both(vm, SRC, "all", 1, 2, all);
    both(vm, SRC, "run", 1, 1, run);
}

// ---- stages ----

fn stage_with_fn(a: &[Value], fname: &str, make: fn(Value) -> Stage) -> RtResult<Value> {
    let src = expect_iterable(a, 0, fname)?;
    let f = expect_fn(a, 1, fname)?;
    Pipeline::with_stage(src, make(f.clone()))
}

fn filter(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "filter", Stage::Filter)
}

fn map(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "map", Stage::Map)
}

fn take_while(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "take_while", Stage::TakeWhile)
}

fn each(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    stage_with_fn(a, "each", Stage::Each)
}

fn flat_map(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
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

fn take(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "take")?;
    let n = count_arg(a, "take")?;
    Pipeline::with_stage(src, Stage::Take(n))
}

fn skip(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "skip")?;
    let n = count_arg(a, "skip")?;
    Pipeline::with_stage(src, Stage::Skip(n))
}

fn enumerate(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "enumerate")?;
    Pipeline::with_stage(src, Stage::Enumerate)
}

/// `parallel(n)`: shard the pure stages over `n` threads (SPEC §10). Where the stages or
/// the source do not allow it, the pipeline runs on one thread with the same results.
fn parallel(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let src = expect_iterable(a, 0, "parallel")?;
    let n = expect_int(a, 1, "parallel")?;
    if n < 1 {
        return Err(RtError::new(format!(
            "'parallel' expects a thread count of at least 1, got {n}"
        )));
    }
    Pipeline::with_stage(src, Stage::Parallel(n))
}

/// `checkpoint_at(n [, name])` (SPEC §9). The compiler passes the name (the explicit one,
/// else the top-level variable the pipe is bound to) and the definition's normalized text
/// as the third and fourth arguments; the method form gets no text, and the stages stand
/// in for it.
fn checkpoint_at(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
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

/// `p.position()`: source elements the committed cursor has consumed, over every pass.
fn position(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let spec = spec_arg(a, "position")?;
    let p = vm.stream_position(&spec)?;
    Ok(Value::Int(p.min(i64::MAX as u64) as i64))
}

/// `p.status()`: the cursor's state as a map.
fn status(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let spec = spec_arg(a, "status")?;
    vm.stream_status(&spec)
}

/// `p.reset()`: back to the start of the source, with this definition.
fn reset(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let spec = spec_arg(a, "reset")?;
    vm.reset_cursor(&spec)?;
    Ok(Value::Nil)
}

// ---- terminals ----

/// Start running the iterable argument `i` of the terminal `fname` (a map yields
/// `[key, value]` pairs), in batches where its stages allow.
pub fn start(vm: &mut Vm, a: &[Value], i: usize, fname: &str) -> RtResult<PipeRun> {
    let mut run = PipeRun::new(expect_iterable(a, i, fname)?, false)?;
    let function = match fname {
        "reduce" => a.get(2),
        "any" | "all" | "group_by" | "sort_by" => a.get(1),
        _ => None,
    };
    let terminal = TerminalArgs {
        name: fname,
        init: if fname == "reduce" { a.get(1) } else { None },
        function,
        args: a.get(i + 1..).unwrap_or_default(),
    };
    let drains = !matches!(fname, "first" | "any" | "all");
    run.for_terminal(vm, &terminal, drains)?;
    Ok(run)
}

fn count(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    counted(vm, a, "count")
}

/// `run()`: runs the pipeline for its effects and returns how many elements came out
/// (`count` under its own name, so plans and cursors say `run`).
fn run(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    counted(vm, a, "run")
}

fn counted(vm: &mut Vm, a: &[Value], fname: &str) -> RtResult<Value> {
    // Plain sources have a known length (not `PipeRun::known_len`, which can overflow on
    // a range spanning the whole Int range).
    match arg(a, 0) {
        Value::List(l) => return Ok(Value::Int(l.items.borrow().len() as i64)),
        Value::Range(r) => return Ok(Value::Int(r.len())),
        Value::Map(m) => return Ok(Value::Int(m.entries.borrow().len() as i64)),
        _ => {}
    }
    let count = start(vm, a, 0, fname)?.count_all(vm)?;
    Ok(Value::Int(count as i64))
}

fn sum(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(start(vm, a, 0, "sum")?.sum_all(vm, "sum")?.0)
}

/// Always a Float; Ints are summed exactly (an overflowing sum is an error, as in `sum`).
fn avg(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (sum, count) = start(vm, a, 0, "avg")?.sum_all(vm, "avg")?;
    if count == 0 {
        return Ok(Value::Nil);
    }
    // `sum_all` gives an Int or a Float.
    Ok(sum
        .as_f64()
        .map_or(Value::Nil, |s| Value::Float(s / count as f64)))
}

/// `min`/`max` of an iterable: `nil` when empty, `nan` if any element is nan; ties keep
/// the first. Mixed types that cannot be ordered are an error.
pub fn extreme_of(vm: &mut Vm, src: &Value, fname: &str, want: Ordering) -> RtResult<Value> {
    start(vm, std::slice::from_ref(src), 0, fname)?.extreme(vm, fname, want)
}

fn reduce(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    // Arguments first: once started, a checkpointed run ends only through its terminal.
    let f = expect_fn(a, 2, "reduce")?.clone();
    let mut run = start(vm, a, 0, "reduce")?;
    run.reduce(vm, &f, arg(a, 1).clone())
}

fn first(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    start(vm, a, 0, "first")?.first(vm)
}

fn last(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match arg(a, 0) {
        Value::List(l) => Ok(l.items.borrow().last().cloned().unwrap_or_default()),
        Value::Range(r) => Ok(if r.is_empty() {
            Value::Nil
        } else {
            Value::Int(r.end - 1)
        }),
        _ => start(vm, a, 0, "last")?.last(vm),
    }
}

/// Every element of an iterable, in order.
pub fn collect_values(vm: &mut Vm, src: &Value, fname: &str) -> RtResult<Vec<Value>> {
    let mut run = start(vm, std::slice::from_ref(src), 0, fname)?;
    let cap = match src {
        Value::List(l) => l.items.borrow().len(),
        // A range's length is known: a too-large one fails before any element is made.
        Value::Range(r) => usize::try_from(r.len()).unwrap_or(usize::MAX),
        _ => 0,
    };
    run.collect(vm, cap)
}

fn collect(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let items = collect_values(vm, arg(a, 0), "collect")?;
    Ok(Value::list(items))
}

fn group_by(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let f = expect_fn(a, 1, "group_by")?.clone();
    let mut run = start(vm, a, 0, "group_by")?;
    run.group_by(vm, &f)
}

fn is_nan(v: &Value) -> bool {
    matches!(v, Value::Float(f) if f.is_nan())
}

/// A total order on sort keys already checked to be all numbers or all strings
/// (nan sorts after every number).
fn total_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.as_str().cmp(y.as_str()),
        _ => match (is_nan(a), is_nan(b)) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => ops::compare("<", a, b)
                .ok()
                .flatten()
                .unwrap_or(Ordering::Equal),
        },
    }
}

/// Stable sort of `(key, item)` pairs by key; keys must be all numbers or all strings.
/// The time limit is checked as it goes: once it is exceeded every comparison says
/// "equal", which ends the sort in linear time, and the error is returned instead of the
/// half-sorted pairs.
pub fn sort_keyed(fname: &str, mut pairs: Vec<(Value, Value)>) -> RtResult<Vec<Value>> {
    let mut kind: Option<&'static str> = None;
    for (k, _) in &pairs {
        walia_runtime::api::tick()?;
        let this = match k {
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "String",
            other => {
                return Err(RtError::new(format!(
                    "'{fname}' can only sort numbers or strings, got {}",
                    other.type_name()
                )));
            }
        };
        match kind {
            None => kind = Some(this),
            Some(k) if k != this => {
                return Err(RtError::new(format!(
                    "'{fname}' cannot compare numbers with strings"
                )));
            }
            _ => {}
        }
    }
    // A limit reached mid-sort unwinds out of the sort (without the panic hook, so
    // nothing is printed): answering "equal" from then on instead would contradict
    // earlier answers, which the standard sort may itself detect with a panic. An
    // unwinding comparison leaves `pairs` a permutation, and it is dropped anyway.
    let mut stopped = None;
    let sorted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pairs.sort_by(|x, y| {
            if let Err(e) = walia_runtime::api::tick() {
                stopped = Some(e);
                std::panic::resume_unwind(Box::new(SortStopped));
            }
            total_cmp(&x.0, &y.0)
        })
    }));
    if let Some(e) = stopped {
        return Err(e);
    }
    if let Err(panic) = sorted {
        std::panic::resume_unwind(panic);
    }
    Ok(pairs.into_iter().map(|(_, v)| v).collect())
}

/// The payload that stops a sort at a limit.
struct SortStopped;

fn sort_by(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let f = expect_fn(a, 1, "sort_by")?.clone();
    let mut run = start(vm, a, 0, "sort_by")?;
    let pairs = run.keyed(vm, &f)?;
    Ok(Value::list(sort_keyed("sort_by", pairs)?))
}

/// `join(src, sep)`: elements in their printed form (strings raw), separated by `sep`.
fn join(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let sep = match a.get(1) {
        Some(_) => expect_str(a, 1, "join")?.as_str().to_string(),
        None => String::new(),
    };
    let mut run = start(vm, a, 0, "join")?;
    Ok(Value::str(run.join(vm, &sep)?))
}

/// `any`/`all` with an optional predicate (without one, the elements' truthiness).
fn quantifier(vm: &mut Vm, a: &[Value], fname: &str, want: bool) -> RtResult<Value> {
    let pred = match a.get(1) {
        Some(_) => Some(expect_fn(a, 1, fname)?.clone()),
        None => None,
    };
    let mut run = start(vm, a, 0, fname)?;
    Ok(Value::Bool(run.quantify(vm, pred.as_ref(), want)?))
}

fn any(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    quantifier(vm, a, "any", true)
}

fn all(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    quantifier(vm, a, "all", false)
}
