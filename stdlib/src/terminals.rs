//! @group Pipes
//!
//! Pipeline terminals (SPEC §8): they run any iterable through one fused [`PipeRun`]
//! loop, pulling one element at a time and never building an intermediate collection.
//! `first`, `any` and `all` stop pulling as soon as their result is known. The loops
//! themselves are the executor's (`PipeRun::sum_all`, `reduce`, `group_by`...): a builtin
//! here checks its arguments, starts the run and shapes the result.

use crate::check::*;
use crate::pipes::SRC;
use crate::sorting::{self, Order};
use std::cmp::Ordering;
use walia_runtime::api::{PipeRun, Pipeline, Stage, TerminalArgs, display, ops, reserve_str, tick};
use walia_runtime::{RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    both(vm, SRC, "count", 1, 2, count);
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

/// @builtin count(src [, x]) -> Int
/// @builtin xs.count([x]) -> Int
/// @builtin s.length() -> Int
///
/// A terminal: how many elements come out of `src` (any iterable, or a stream with its
/// stages run). With `x`, only the elements `== x` count (Python's `list.count`), or,
/// when `x` is a function, the elements for which `x(e)` is truthy (Ruby's `count`); for
/// a string and a string `x`, the non-overlapping occurrences of the substring `x`.
/// `length` is the same as `count(src)` for streams and ranges (lists, strings and maps
/// have their own `length`).
///
/// Errors: `src` is not iterable; any error a stage or the predicate raises.
///
/// ```walia
/// print 1..100 |> filter(x => x % 7 == 0) |> count();   // -> 14
/// print (0..5).length();                                 // -> 5
/// print [1, 2, 1, 1.0].count(1);                         // -> 3
/// print count(1..100, x => x % 7 == 0);                  // -> 14
/// print count("banana", "an");                           // -> 2
/// ```
fn count(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let Some(x) = a.get(1) else {
        return counted(vm, a, "count");
    };
    let src = expect_iterable(a, 0, "count")?;
    if is_callable(x) {
        let filtered = Pipeline::with_stage(src, Stage::Filter(x.clone()))?;
        return counted(vm, &[filtered], "count");
    }
    if let (Value::Str(s), Value::Str(sub)) = (src, x) {
        return Ok(Value::Int(s.as_str().matches(sub.as_str()).count() as i64));
    }
    let mut run = PipeRun::new(src, false)?;
    let mut n: i64 = 0;
    while let Some(v) = run.next(vm)? {
        tick()?;
        if ops::equal(&v, x) {
            n += 1;
        }
    }
    Ok(Value::Int(n))
}

/// @builtin run(src) -> Int
/// @builtin xs.run() -> Int
///
/// A terminal that runs the pipeline for its effects (`each`, `db_insert`...) and returns
/// how many elements came out: `count` under its own name, so plans and cursors say `run`.
///
/// Errors: `src` is not iterable; any error a stage raises.
///
/// ```walia
/// print [1, 2] |> each(x => print x * 10) |> run();   // -> 10
///                                                      // -> 20
///                                                      // -> 2
/// ```
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

/// @builtin sum(src) -> Int | Float
/// @builtin xs.sum() -> Int | Float
///
/// A terminal: the sum of the elements, `0` when there are none. Ints add exactly and stay
/// an Int; any Float makes the sum a Float. Works on a list as on any iterable:
/// `sum([1, 2])`.
///
/// Errors: an element that is not a number; an Int sum that overflows.
///
/// ```walia
/// print sum([1, 2, 3]);                  // -> 6
/// print [0.5, 1] |> sum();               // -> 1.5
/// print 1..5 |> map(x => x * x) |> sum(); // -> 30
/// print sum([]);                         // -> 0
/// ```
fn sum(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    Ok(start(vm, a, 0, "sum")?.sum_all(vm, "sum")?.0)
}

/// @builtin avg(src) -> Float | nil
/// @builtin xs.avg() -> Float | nil
///
/// A terminal: the mean of the elements, always a Float; `nil` when there are none.
/// Ints are summed exactly first.
///
/// Errors: an element that is not a number; an Int sum that overflows.
///
/// ```walia
/// print avg([1, 2]);   // -> 1.5
/// print avg([]);       // -> nil
/// ```
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

/// @builtin reduce(src, init, f) -> any
/// @builtin xs.reduce(init, f) -> any
///
/// A terminal: folds the elements from `init` with `acc = f(acc, x)` and returns the
/// last `acc` (`init` when there are no elements).
///
/// Errors: `src` is not iterable; `f` is not a function; any error `f` raises.
///
/// ```walia
/// print 1..5 |> reduce(1, (acc, x) => acc * x);           // -> 24
/// print ["a", "b"] |> reduce("", (acc, s) => s + acc);    // -> ba
/// ```
fn reduce(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    // Arguments first: once started, a checkpointed run ends only through its terminal.
    let f = expect_fn(a, 2, "reduce")?.clone();
    let mut run = start(vm, a, 0, "reduce")?;
    run.reduce(vm, &f, arg(a, 1).clone())
}

/// @builtin first(src) -> any
/// @builtin xs.first() -> any
///
/// A terminal: the first element, or `nil` when there is none. It stops reading the
/// source at once.
///
/// Errors: `src` is not iterable; any error a stage raises.
///
/// ```walia
/// print 0..1000000000 |> filter(x => x > 5) |> first();   // -> 6
/// print [] |> first();                                     // -> nil
/// ```
fn first(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    start(vm, a, 0, "first")?.first(vm)
}

/// @builtin last(src) -> any
/// @builtin xs.last() -> any
///
/// A terminal: the last element, or `nil` when there is none (instant for a list or a
/// range).
///
/// Errors: `src` is not iterable; any error a stage raises.
///
/// ```walia
/// print [1, 2, 3].last();                       // -> 3
/// print 0..10 |> filter(x => x < 4) |> last();  // -> 3
/// ```
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

/// @builtin collect(src) -> List
/// @builtin to_list(src) -> List
/// @builtin xs.collect() -> List
/// @builtin xs.to_list() -> List
///
/// A terminal: every element in a new list (`to_list` is the same). A map gives its
/// `[key, value]` pairs, a string its characters.
///
/// Errors: `src` is not iterable; any error a stage raises.
///
/// ```walia
/// print 0..3 |> collect();         // -> [0, 1, 2]
/// print {a: 1} |> to_list();       // -> [["a", 1]]
/// print "hi" |> map(c => c + c) |> collect();   // -> ["hh", "ii"]
/// ```
fn collect(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let items = collect_values(vm, arg(a, 0), "collect")?;
    Ok(Value::list(items))
}

/// @builtin group_by(src, f) -> Map
/// @builtin xs.group_by(f) -> Map
///
/// A terminal: a map from each key `f(x)` to the list of the elements with that key, in
/// their order; keys in the order they first appear.
///
/// Errors: `src` is not iterable; `f` is not a function, or returns something that
/// cannot be a map key (a String, Int or Bool); any error `f` raises.
///
/// ```walia
/// print ["apple", "avocado", "banana"] |> group_by(w => w.substr(0, 1));
/// // -> {"a": ["apple", "avocado"], "b": ["banana"]}
/// ```
fn group_by(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let f = expect_fn(a, 1, "group_by")?.clone();
    let mut run = start(vm, a, 0, "group_by")?;
    run.group_by(vm, &f)
}

/// @builtin sort_by(src, f) -> List
/// @builtin xs.sort_by(f) -> List
///
/// A terminal: the elements in a new list, sorted stably by `f`. As in `l.sort(f)`: `f`
/// of one parameter is a key function (keys compared as numbers, strings or lists), of two
/// a comparator (a Bool "x comes before y", or a number below zero for "before").
/// `sorted(src, f)` is the same with `f` optional.
///
/// Errors: `src` is not iterable; `f` is not a function; keys of mixed or unsortable kinds;
/// a bad comparator result; any error `f` raises.
///
/// ```walia
/// print ["ccc", "a", "bb"] |> sort_by(s => s.length());           // -> ["a", "bb", "ccc"]
/// print [[1, "b"], [2, "a"]] |> sort_by(p => p[1]);               // -> [[2, "a"], [1, "b"]]
/// print 1..5 |> sort_by((a, b) => a > b);                         // -> [4, 3, 2, 1]
/// ```
fn sort_by(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    expect_fn(a, 1, "sort_by")?;
    match sorting::order_arg(a, 1, "sort_by")? {
        Order::Key(f) => {
            let mut run = start(vm, a, 0, "sort_by")?;
            let pairs = run.keyed(vm, &f)?;
            Ok(Value::list(sorting::sort_pairs("sort_by", pairs)?))
        }
        order => {
            // A comparator runs after the elements are read, not once per element.
            let items = collect_values(vm, arg(a, 0), "sort_by")?;
            Ok(Value::list(sorting::sort_values(
                vm, "sort_by", &items, &order,
            )?))
        }
    }
}

/// @builtin join(src [, sep]) -> String
/// @builtin xs.join([sep]) -> String
///
/// A terminal: the elements in their printed form (strings without quotes), separated
/// by `sep` (default `""`).
///
/// Errors: `src` is not iterable; `sep` is not a String.
///
/// ```walia
/// print [1, "a", nil].join(", ");   // -> 1, a, nil
/// print 1..4 |> join("-");          // -> 1-2-3
/// ```
fn join(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let sep = match a.get(1) {
        Some(_) => expect_str(a, 1, "join")?.as_str().to_string(),
        None => String::new(),
    };
    if let Some(Value::List(l)) = a.first() {
        // A list has no stages, no checkpoint and no callbacks: its elements are written
        // out directly, without setting up a pipeline run (`words.join(" ")` in a loop).
        return join_list(&l.items.borrow(), &sep);
    }
    let mut run = start(vm, a, 0, "join")?;
    Ok(Value::str(run.join(vm, &sep)?))
}

/// [`join`] of a list's elements: as `PipeRun::join` writes them (strings raw, the rest
/// in their printed form), under the memory limit.
fn join_list(items: &[Value], sep: &str) -> RtResult<Value> {
    let mut out = String::new();
    for (i, v) in items.iter().enumerate() {
        let text = match v {
            Value::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
            other => std::borrow::Cow::Owned(display(other)),
        };
        let gap = if i > 0 { sep } else { "" };
        reserve_str(&mut out, gap.len() + text.len())?;
        out.push_str(gap);
        out.push_str(&text);
    }
    Ok(Value::str(out))
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

/// @builtin any(src [, pred]) -> Bool
/// @builtin xs.any([pred]) -> Bool
///
/// A terminal: whether `pred(x)` is truthy for some element (without `pred`: whether
/// some element is truthy). Stops reading at the first such element; `false` when empty.
///
/// Errors: `src` is not iterable; `pred` is not a function; any error `pred` raises.
///
/// ```walia
/// print [1, 5] |> any(x => x > 3);   // -> true
/// print [nil, false].any();          // -> false
/// ```
fn any(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    quantifier(vm, a, "any", true)
}

/// @builtin all(src [, pred]) -> Bool
/// @builtin xs.all([pred]) -> Bool
///
/// A terminal: whether `pred(x)` is truthy for every element (without `pred`: whether
/// every element is truthy). Stops reading at the first failing element; `true` when
/// empty.
///
/// Errors: `src` is not iterable; `pred` is not a function; any error `pred` raises.
///
/// ```walia
/// print [1, 5] |> all(x => x > 3);   // -> false
/// print [] |> all(x => x > 3);       // -> true
/// ```
fn all(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    quantifier(vm, a, "all", false)
}
