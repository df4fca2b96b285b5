//! String builtins (SPEC §12, §15). Every one is also a String method with the string as
//! receiver (`s.replace("a", "b")`); indexes and lengths count characters.

use crate::check::*;
use crate::pipes;
use walia_runtime::api::{Str, note_alloc, ops, reserve, reserve_str};
use walia_runtime::{RtError, RtResult, Value, Vm};

const S: &[&str] = &["String"];

pub fn install(vm: &mut Vm) {
    for (name, f) in [("upper", upper as Builtin), ("string_to_upper", upper)] {
        both(vm, S, name, 1, 1, f);
    }
    both(vm, S, "lower", 1, 1, lower);
    both(vm, S, "trim", 1, 1, trim);
    both(vm, S, "split", 1, 2, split);
    both(
        vm,
        &["String", "List", "Range", "Map"],
        "contains",
        2,
        2,
        contains,
    );
    both(vm, S, "starts_with", 2, 2, starts_with);
    both(vm, S, "ends_with", 2, 2, ends_with);
    both(vm, S, "replace", 3, 3, replace);
    both(vm, S, "substr", 2, 3, substr);
    for (name, f) in [("reverse", reverse as Builtin), ("string_reverse", reverse)] {
        both(vm, &["String", "List", "Range", "Stream"], name, 1, 1, f);
    }
    both(vm, S, "find", 2, 2, find);
    method(vm, S, "length", 1, 1, length);
}

/// Room for a new string of `bytes`, checked against the memory limit first.
fn room(bytes: usize) -> RtResult<String> {
    let mut out = String::new();
    reserve_str(&mut out, bytes)?;
    Ok(out)
}

/// Case mapping can grow a character (`ß` to `SS`): the result is built a piece at a time.
fn map_case(s: &str, f: fn(&str) -> String) -> RtResult<Value> {
    let mut out = room(s.len())?;
    let mut rest = s;
    while !rest.is_empty() {
        let mut cut = rest.len().min(1 << 16);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (piece, tail) = rest.split_at(cut);
        let mapped = f(piece);
        reserve_str(&mut out, mapped.len())?;
        out.push_str(&mapped);
        rest = tail;
    }
    Ok(Value::str(out))
}

fn upper(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "upper")?;
    map_case(s.as_str(), str::to_uppercase)
}

fn lower(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "lower")?;
    map_case(s.as_str(), str::to_lowercase)
}

fn trim(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "trim")?;
    Ok(Value::str(s.as_str().trim()))
}

fn length(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "length")?;
    Ok(Value::Int(s.char_len() as i64))
}

/// `split(s, sep)`: the pieces between occurrences of `sep`; an empty `sep` gives the
/// characters; without `sep`, the words separated by whitespace.
fn split(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "split")?.as_str();
    let sep = match a.get(1) {
        None => None,
        Some(_) => Some(expect_str(a, 1, "split")?.as_str()),
    };
    let pieces: Box<dyn Iterator<Item = &str>> = match sep {
        None => Box::new(s.split_whitespace()),
        Some("") => Box::new(s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()])),
        Some(sep) => Box::new(s.split(sep)),
    };
    // Each piece is a string of its own: one character each of a long text is many times
    // the text's size, so the list grows under the memory limit.
    let mut parts = Vec::new();
    for piece in pieces {
        reserve(&mut parts, 1)?;
        if parts.len().is_multiple_of(1 << 16) {
            note_alloc((1 << 16) * PIECE_OVERHEAD)?;
        }
        parts.push(Value::str(piece));
    }
    Ok(Value::list(parts))
}

/// What a short string costs beyond its text (its reference count and length).
const PIECE_OVERHEAD: usize = 48;

/// `contains(s, sub)` on strings; also element membership of lists and ranges and key
/// membership of maps.
fn contains(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let x = arg(a, 1);
    let found = match arg(a, 0) {
        Value::Str(s) => s.as_str().contains(expect_str(a, 1, "contains")?.as_str()),
        Value::List(l) => l.items.borrow().iter().any(|v| ops::equal(v, x)),
        Value::Range(r) => match x {
            Value::Int(i) => (r.start..r.end).contains(i),
            Value::Float(f) => f.fract() == 0.0 && (r.start as f64..r.end as f64).contains(f),
            _ => false,
        },
        Value::Map(m) => walia_runtime::api::KeyRef::from_value(x)
            .is_some_and(|k| m.entries.borrow().contains_key(&k)),
        other => {
            return Err(type_error(
                "contains",
                0,
                "String, List, Range or Map",
                other,
            ));
        }
    };
    Ok(Value::Bool(found))
}

fn starts_with(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "starts_with")?;
    let p = expect_str(a, 1, "starts_with")?;
    Ok(Value::Bool(s.as_str().starts_with(p.as_str())))
}

fn ends_with(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "ends_with")?;
    let p = expect_str(a, 1, "ends_with")?;
    Ok(Value::Bool(s.as_str().ends_with(p.as_str())))
}

/// Replaces every occurrence.
fn replace(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "replace")?;
    let from = expect_str(a, 1, "replace")?;
    let to = expect_str(a, 2, "replace")?;
    let (s, from, to) = (s.as_str(), from.as_str(), to.as_str());
    // The result's size is known before it is built: check it against the limit first.
    let hits = if from.is_empty() || to.len() <= from.len() {
        0
    } else {
        s.matches(from).count()
    };
    let grown = s
        .len()
        .saturating_add(hits.saturating_mul(to.len() - from.len().min(to.len())));
    let mut out = room(grown)?;
    let mut last = 0;
    for (at, m) in s.match_indices(from) {
        reserve_str(&mut out, at - last + to.len())?;
        out.push_str(&s[last..at]);
        out.push_str(to);
        last = at + m.len();
    }
    out.push_str(&s[last..]);
    Ok(Value::str(out))
}

/// Byte offset of character `i` (clamped to the end).
fn byte_at(s: &Str, i: usize) -> usize {
    if s.is_ascii() {
        return i.min(s.as_str().len());
    }
    s.as_str()
        .char_indices()
        .nth(i)
        .map_or(s.as_str().len(), |(b, _)| b)
}

/// `substr(s, start[, len])`, in characters. A negative `start` counts from the end; the
/// range is clamped to the string (like a Python slice); a negative `len` is an error.
fn substr(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "substr")?;
    let start = expect_int(a, 1, "substr")?;
    let n = s.char_len() as i64;
    let from = if start < 0 {
        (n + start).max(0)
    } else {
        start.min(n)
    };
    let count = match a.get(2) {
        Some(_) => {
            let len = expect_int(a, 2, "substr")?;
            if len < 0 {
                return Err(RtError::new(format!(
                    "'substr' expects a non-negative length, got {len}"
                )));
            }
            len.min(n - from)
        }
        None => n - from,
    };
    let b0 = byte_at(s, from as usize);
    let b1 = byte_at(s, (from + count) as usize);
    Ok(Value::str(s.as_str().get(b0..b1).unwrap_or("")))
}

/// Reversed characters of a string; a reversed new list of any other iterable.
fn reverse(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    match arg(a, 0) {
        Value::Str(s) => {
            let mut out = room(s.as_str().len())?;
            out.extend(s.as_str().chars().rev());
            Ok(Value::str(out))
        }
        Value::List(l) => {
            let mut items = Vec::new();
            reserve(&mut items, l.items.borrow().len())?;
            items.extend(l.items.borrow().iter().rev().cloned());
            Ok(Value::list(items))
        }
        src @ (Value::Range(_) | Value::Stream(_)) => {
            let mut items = pipes::collect_values(vm, src, "reverse")?;
            items.reverse();
            Ok(Value::list(items))
        }
        other => Err(type_error("reverse", 0, "String or List", other)),
    }
}

/// The character index of the first occurrence of `sub`, or `nil`.
fn find(_: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "find")?;
    let sub = expect_str(a, 1, "find")?;
    Ok(match s.as_str().find(sub.as_str()) {
        None => Value::Nil,
        Some(b) if s.is_ascii() => Value::Int(b as i64),
        Some(b) => Value::Int(s.as_str().get(..b).map_or(0, |p| p.chars().count()) as i64),
    })
}
