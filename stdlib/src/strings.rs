//! String builtins (SPEC §12, §15). Every one is also a String method with the string as
//! receiver (`s.replace("a", "b")`); indexes and lengths count characters.
//! @group Text

use crate::check::*;
use crate::pipes;
use walia_runtime::api::{Str, note_alloc, ops, reserve, reserve_str};
use walia_runtime::{RtError, RtResult, Value, Vm};

const S: &[&str] = &["String"];

pub fn install(vm: &mut Vm) {
    for (name, f) in [("upper", upper as Leaf), ("string_to_upper", upper)] {
        leaf_both(vm, S, name, 1, 1, f);
    }
    leaf_both(vm, S, "lower", 1, 1, lower);
    leaf_both(vm, S, "trim", 1, 1, trim);
    leaf_both(vm, S, "split", 1, 2, split);
    leaf_both(
        vm,
        &["String", "List", "Range", "Map"],
        "contains",
        2,
        2,
        contains,
    );
    leaf_both(vm, S, "starts_with", 2, 2, starts_with);
    leaf_both(vm, S, "ends_with", 2, 2, ends_with);
    leaf_both(vm, S, "replace", 3, 3, replace);
    leaf_both(vm, S, "substr", 2, 3, substr);
    for (name, f) in [("reverse", reverse as Builtin), ("string_reverse", reverse)] {
        both(vm, &["String", "List", "Range", "Stream"], name, 1, 1, f);
    }
    leaf_both(vm, S, "find", 2, 2, find);
    leaf_method(vm, S, "length", 1, 1, length);
}

/// Room for a new string of `bytes`, checked against the memory limit first.
fn room(bytes: usize) -> RtResult<String> {
    let mut out = String::new();
    reserve_str(&mut out, bytes)?;
    Ok(out)
}

/// Case mapping can grow a character (`ß` to `SS`): the result is built a piece at a time.
/// Short ASCII text (the common case) maps byte for byte, in one allocation (`ascii`).
fn map_case(s: &str, f: fn(&str) -> String, ascii: fn(&str) -> String) -> RtResult<Value> {
    if s.len() <= 1 << 16 && s.is_ascii() {
        return Ok(Value::str(ascii(s)));
    }
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

/// @builtin upper(s) -> String
/// @builtin string_to_upper(s) -> String
/// @builtin s.upper() -> String
///
/// `s` in upper case, Unicode-aware: a character may grow (`ß` becomes `SS`).
///
/// Errors: `s` is not a String.
///
/// ```walia
/// print upper("straße");           // -> STRASSE
/// print "abc" |> string_to_upper;  // -> ABC
/// ```
fn upper(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "upper")?;
    map_case(s.as_str(), str::to_uppercase, str::to_ascii_uppercase)
}

/// @builtin lower(s) -> String
/// @builtin s.lower() -> String
///
/// `s` in lower case, Unicode-aware.
///
/// Errors: `s` is not a String.
///
/// ```walia
/// print lower("ÉCOLE");   // -> école
/// print "Ab".lower();     // -> ab
/// ```
fn lower(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "lower")?;
    map_case(s.as_str(), str::to_lowercase, str::to_ascii_lowercase)
}

/// @builtin trim(s) -> String
/// @builtin s.trim() -> String
///
/// `s` without the whitespace (Unicode's White_Space, line ends included) at both ends.
///
/// Errors: `s` is not a String.
///
/// ```walia
/// print "[" + trim("  hi \n") + "]";   // -> [hi]
/// ```
fn trim(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "trim")?;
    Ok(Value::str(s.as_str().trim()))
}

/// @builtin s.length() -> Int
///
/// The number of characters of the string `s`, like `len(s)`. (On a List, Map or stream,
/// `length()` is their own method.)
///
/// Errors: none beyond a receiver that is not a String.
///
/// ```walia
/// print "héllo".length();   // -> 5
/// ```
fn length(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "length")?;
    Ok(Value::Int(s.char_len() as i64))
}

/// @builtin split(s [, sep]) -> List
/// @builtin s.split([sep]) -> List
///
/// The pieces of `s` between occurrences of `sep` (empty pieces kept: `"a,,b"` gives three).
/// An empty `sep` gives the characters (like `chars`); without `sep`, the words separated
/// by runs of whitespace (no empty pieces).
///
/// Errors: `s` or `sep` is not a String.
///
/// ```walia
/// print split("a,b,,c", ",");       // -> ["a", "b", "", "c"]
/// print "  two   words ".split();   // -> ["two", "words"]
/// ```
fn split(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "split")?.as_str();
    let sep = match a.get(1) {
        None => None,
        Some(_) => Some(expect_str(a, 1, "split")?.as_str()),
    };
    let parts = match sep {
        None => pieces(s.split_whitespace())?,
        Some("") => pieces(s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]))?,
        // A one-byte separator (`","`, `" "`) is an ASCII character: a byte scan, not the
        // general substring search (the pieces of a line are short).
        Some(sep) => match sep.as_bytes() {
            [b] => pieces(split_byte(s, *b))?,
            _ => pieces(s.split(sep))?,
        },
    };
    Ok(Value::list(parts))
}

/// `s` split at each occurrence of the ASCII byte `sep` (so every cut is a character
/// boundary), like `str::split` with a one-character pattern.
fn split_byte(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|c| c == sep) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Each piece as a string of its own: one character each of a long text is many times
/// the text's size, so the list grows under the memory limit.
fn pieces<'a>(it: impl Iterator<Item = &'a str>) -> RtResult<Vec<Value>> {
    let mut parts = Vec::new();
    for piece in it {
        reserve(&mut parts, 1)?;
        if parts.len().is_multiple_of(1 << 16) {
            note_alloc((1 << 16) * PIECE_OVERHEAD)?;
        }
        parts.push(Value::text(piece));
    }
    Ok(parts)
}

/// What a short string costs beyond its text (its reference count and length).
const PIECE_OVERHEAD: usize = 48;

/// @builtin contains(x, item) -> Bool
/// @builtin s.contains(sub) -> Bool
/// @builtin l.contains(item) -> Bool
///
/// For a String, whether `sub` occurs in it; for a List or Range, whether an element equals
/// `item` (by `==`, so `1.0` is in `[1]`); for a Map, whether `item` is one of its keys.
///
/// Errors: `x` is not a String, List, Range or Map; `sub` is not a String when `x` is one.
///
/// ```walia
/// print contains("walia", "li");    // -> true
/// print [1, 2, 3].contains(2.0);    // -> true
/// print {a: 1}.contains("b");       // -> false
/// ```
fn contains(a: &[Value]) -> RtResult<Value> {
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

/// @builtin starts_with(s, prefix) -> Bool
/// @builtin s.starts_with(prefix) -> Bool
///
/// Whether `s` begins with `prefix` (every string begins with `""`).
///
/// Errors: an argument is not a String.
///
/// ```walia
/// print starts_with("walia", "wa");   // -> true
/// print "walia".starts_with("li");    // -> false
/// ```
fn starts_with(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "starts_with")?;
    let p = expect_str(a, 1, "starts_with")?;
    Ok(Value::Bool(s.as_str().starts_with(p.as_str())))
}

/// @builtin ends_with(s, suffix) -> Bool
/// @builtin s.ends_with(suffix) -> Bool
///
/// Whether `s` ends with `suffix`.
///
/// Errors: an argument is not a String.
///
/// ```walia
/// print ends_with("data.csv", ".csv");   // -> true
/// ```
fn ends_with(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "ends_with")?;
    let p = expect_str(a, 1, "ends_with")?;
    Ok(Value::Bool(s.as_str().ends_with(p.as_str())))
}

/// @builtin replace(s, from, to) -> String
/// @builtin s.replace(from, to) -> String
///
/// `s` with every occurrence of `from` replaced by `to`, left to right without overlaps.
/// An empty `from` inserts `to` between the characters and at both ends (as Python does).
///
/// Errors: an argument is not a String; the result exceeds the memory limit.
///
/// ```walia
/// print replace("a-b-c", "-", "+");   // -> a+b+c
/// print "aaa".replace("aa", "b");     // -> ba
/// ```
fn replace(a: &[Value]) -> RtResult<Value> {
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

/// @builtin substr(s, start [, len]) -> String
/// @builtin s.substr(start [, len]) -> String
///
/// The `len` characters of `s` from character `start` (to the end without `len`). A
/// negative `start` counts from the end; the range is clamped to the string like a Python
/// slice, so it never fails for being out of range.
///
/// Errors: `s` is not a String; `start` or `len` is not an Int; `len` is negative.
///
/// ```walia
/// print substr("walia", 1, 3);   // -> ali
/// print "walia".substr(-2);      // -> ia
/// print "[" + substr("ab", 5) + "]";   // -> []
/// ```
fn substr(a: &[Value]) -> RtResult<Value> {
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

/// @builtin reverse(x) -> String | List
/// @builtin string_reverse(x) -> String | List
/// @builtin s.reverse() -> String | List
///
/// A String's characters in reverse order; for a List, Range or Stream, a new List of its
/// elements in reverse order (the original is not changed).
///
/// Errors: `x` is not a String, List, Range or Stream.
///
/// ```walia
/// print reverse("abc");          // -> cba
/// print [1, 2, 3].reverse();     // -> [3, 2, 1]
/// print 0..3 |> reverse();       // -> [2, 1, 0]
/// ```
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

/// @builtin find(s, sub) -> Int | nil
/// @builtin s.find(sub) -> Int | nil
///
/// The character index of the first occurrence of `sub` in `s`, or `nil` when there is
/// none (`""` is found at 0).
///
/// Errors: an argument is not a String.
///
/// ```walia
/// print find("héllo", "l");   // -> 2
/// print "abc".find("z");      // -> nil
/// ```
fn find(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "find")?;
    let sub = expect_str(a, 1, "find")?;
    Ok(match s.as_str().find(sub.as_str()) {
        None => Value::Nil,
        Some(b) if s.is_ascii() => Value::Int(b as i64),
        Some(b) => Value::Int(s.as_str().get(..b).map_or(0, |p| p.chars().count()) as i64),
    })
}
