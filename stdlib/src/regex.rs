//! @group Regex
//! Regular expressions (the `regex` crate's syntax: Perl-like, without look-around or
//! back-references, and matching in linear time, so no pattern can hang a script). Every
//! function takes the text first and the pattern second, is also a method of String
//! (`line.regex_find("\\d+")`) and a pipeline stage (`lines |> map(l => regex_find(l, p))`).
//! A match is searched anywhere in the text (anchor with `^...$` for a whole-text match).
//! Positions are not returned: results are the matched text. Compiled patterns are kept
//! in a small cache per engine, so a pattern used on every element of a pipeline is
//! compiled once.

use crate::check::*;
use ::regex::{Captures, Regex};
use std::collections::HashMap;
use std::rc::Rc;
use walia_runtime::api::{MapKey, Str, display, new_entries, reserve, reserve_str, tick};
use walia_runtime::{RtError, RtResult, Value, Vm};

const S: &[&str] = &["String"];

pub fn install(vm: &mut Vm) {
    both(vm, S, "regex_matches", 2, 2, regex_matches);
    both(vm, S, "regex_find", 2, 2, regex_find);
    both(vm, S, "regex_find_all", 2, 2, regex_find_all);
    both(vm, S, "regex_captures", 2, 2, regex_captures);
    both(vm, S, "regex_named", 2, 2, regex_named);
    both(vm, S, "regex_replace", 3, 3, regex_replace);
    both(vm, S, "regex_split", 2, 2, regex_split);
}

/// Patterns kept compiled: enough for any script's handful, small enough to never matter.
pub(crate) const CACHED_PATTERNS: usize = 64;

/// The engine's compiled patterns, by their text.
#[derive(Default)]
pub(crate) struct PatternCache(pub(crate) HashMap<String, Regex>);

/// The text and the compiled pattern of a call (arguments 0 and 1).
fn text_and_pattern<'a>(vm: &mut Vm, a: &'a [Value], fname: &str) -> RtResult<(&'a str, Regex)> {
    let text = expect_str(a, 0, fname)?.as_str();
    let pattern = expect_str(a, 1, fname)?.as_str();
    Ok((text, compiled(vm, pattern, fname)?))
}

fn compiled(vm: &mut Vm, pattern: &str, fname: &str) -> RtResult<Regex> {
    let cache = &mut vm.extension::<PatternCache>().0;
    if let Some(re) = cache.get(pattern) {
        return Ok(re.clone());
    }
    let re = Regex::new(pattern)
        .map_err(|e| RtError::new(format!("'{fname}': invalid pattern: {e}")))?;
    if cache.len() >= CACHED_PATTERNS {
        // Scripts use few patterns: a full cache means patterns built on the fly, which
        // gain nothing from being kept.
        cache.clear();
    }
    cache.insert(pattern.to_string(), re.clone());
    Ok(re)
}

/// @builtin regex_matches(s, pattern) -> Bool
/// @builtin s.regex_matches(pattern) -> Bool
///
/// Whether `pattern` matches somewhere in `s` (`^` and `$` anchor it to the ends).
///
/// Errors: `s` or `pattern` is not a String; `pattern` is invalid (the message is the
/// regex crate's, pointing at the fault).
///
/// ```walia
/// print regex_matches("order 66", "\\d+");      // -> true
/// print "abc".regex_matches("^b");              // -> false
/// ```
fn regex_matches(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (text, re) = text_and_pattern(vm, a, "regex_matches")?;
    Ok(Value::Bool(re.is_match(text)))
}

/// @builtin regex_find(s, pattern) -> String | nil
/// @builtin s.regex_find(pattern) -> String | nil
///
/// The first (leftmost) match of `pattern` in `s`, or `nil` when there is none.
///
/// Errors: `s` or `pattern` is not a String; `pattern` is invalid.
///
/// ```walia
/// print regex_find("total: 42 EUR", "\\d+");   // -> 42
/// print "no digits".regex_find("\\d+");        // -> nil
/// ```
fn regex_find(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (text, re) = text_and_pattern(vm, a, "regex_find")?;
    Ok(re.find(text).map_or(Value::Nil, |m| Value::str(m.as_str())))
}

/// @builtin regex_find_all(s, pattern) -> List
/// @builtin s.regex_find_all(pattern) -> List
///
/// Every match of `pattern` in `s`, left to right and not overlapping, as a List of
/// Strings (empty when there is none).
///
/// Errors: `s` or `pattern` is not a String; `pattern` is invalid.
///
/// ```walia
/// print regex_find_all("a1 b22 c333", "\\d+");   // -> ["1", "22", "333"]
/// ```
fn regex_find_all(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (text, re) = text_and_pattern(vm, a, "regex_find_all")?;
    let mut found = Vec::new();
    for m in re.find_iter(text) {
        tick()?;
        reserve(&mut found, 1)?;
        found.push(Value::str(m.as_str()));
    }
    Ok(Value::list(found))
}

/// A group's text, `nil` when the group took no part in the match.
fn group(caps: &Captures, i: usize) -> Value {
    caps.get(i).map_or(Value::Nil, |m| Value::str(m.as_str()))
}

/// @builtin regex_captures(s, pattern) -> List | nil
/// @builtin s.regex_captures(pattern) -> List | nil
///
/// The groups of the first match of `pattern` in `s`: a List whose element 0 is the
/// whole match and element `i` the text of group `i` (`nil` for a group that took no
/// part in the match); `nil` when `pattern` does not match. Named groups `(?P<name>...)`
/// count among the numbered ones; `regex_named` gives them by name.
///
/// Errors: `s` or `pattern` is not a String; `pattern` is invalid.
///
/// ```walia
/// print regex_captures("2024-05-01", "(\\d+)-(\\d+)-(\\d+)");   // -> ["2024-05-01", "2024", "05", "01"]
/// print regex_captures("ab", "a(x)?b");                         // -> ["ab", nil]
/// print regex_captures("ab", "z");                              // -> nil
/// ```
fn regex_captures(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (text, re) = text_and_pattern(vm, a, "regex_captures")?;
    Ok(match re.captures(text) {
        Some(caps) => Value::list((0..caps.len()).map(|i| group(&caps, i)).collect()),
        None => Value::Nil,
    })
}

/// @builtin regex_named(s, pattern) -> Map | nil
/// @builtin s.regex_named(pattern) -> Map | nil
///
/// The named groups `(?P<name>...)` (or `(?<name>...)`) of the first match of `pattern`
/// in `s`, as a Map from each name to its text (`nil` for a group that took no part in
/// the match), in the pattern's order; `nil` when `pattern` does not match.
///
/// Errors: `s` or `pattern` is not a String; `pattern` is invalid.
///
/// ```walia
/// var m = "ann=42".regex_named("(?P<key>\\w+)=(?P<value>\\d+)");
/// print m.key + " is " + m.value;   // -> ann is 42
/// ```
fn regex_named(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (text, re) = text_and_pattern(vm, a, "regex_named")?;
    let Some(caps) = re.captures(text) else {
        return Ok(Value::Nil);
    };
    let mut entries = new_entries(0);
    for (i, name) in re.capture_names().enumerate() {
        if let Some(name) = name {
            entries.insert(
                MapKey::Str(Rc::new(Str::new(name.to_string()))),
                group(&caps, i),
            );
        }
    }
    Ok(Value::map(entries))
}

/// @builtin regex_replace(s, pattern, replacement) -> String
/// @builtin s.regex_replace(pattern, replacement) -> String
///
/// `s` with every match of `pattern` replaced. A String `replacement` may name groups:
/// `$1` or `${1}` (group 1), `${name}` (a named group), `$0` (the whole match); `$$` is a
/// `$`; a group that did not take part is empty (write `${1}x`, not `$1x`, when letters
/// follow). A Function `replacement` is called with each match's text and its result
/// (in printed form) replaces it.
///
/// Errors: `s` or `pattern` is not a String; `pattern` is invalid; `replacement` is
/// neither a String nor a Function; the function fails.
///
/// ```walia
/// print regex_replace("2024-05-01", "(\\d+)-(\\d+)-(\\d+)", "$3/$2/$1");   // -> 01/05/2024
/// print "a1b22".regex_replace("\\d+", m => str(len(m)));                   // -> a1b2
/// ```
fn regex_replace(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (text, re) = text_and_pattern(vm, a, "regex_replace")?;
    let with = arg(a, 2);
    let template = match with {
        Value::Str(t) => Some(t.as_str()),
        f if is_callable(f) => None,
        other => {
            return Err(type_error("regex_replace", 2, "String or Function", other));
        }
    };
    // Built piece by piece so that the memory limit sees the result grow (a short text
    // with many matches and a long replacement is large).
    let mut out = String::new();
    let mut piece = String::new();
    let mut last = 0;
    for caps in re.captures_iter(text) {
        tick()?;
        let Some(m) = caps.get(0) else { continue };
        piece.clear();
        match template {
            Some(t) => caps.expand(t, &mut piece),
            None => match vm.call_value(with, &[Value::str(m.as_str())])? {
                Value::Str(s) => piece.push_str(s.as_str()),
                other => piece.push_str(&display(&other)),
            },
        }
        reserve_str(&mut out, m.start() - last + piece.len())?;
        out.push_str(&text[last..m.start()]);
        out.push_str(&piece);
        last = m.end();
    }
    reserve_str(&mut out, text.len() - last)?;
    out.push_str(&text[last..]);
    Ok(Value::str(out))
}

/// @builtin regex_split(s, pattern) -> List
/// @builtin s.regex_split(pattern) -> List
///
/// The pieces of `s` between the matches of `pattern`, as a List of Strings. As with
/// `split`, a match at either end gives an empty first or last piece, and `s` without a
/// match is one piece.
///
/// Errors: `s` or `pattern` is not a String; `pattern` is invalid.
///
/// ```walia
/// print regex_split("a, b;c", "[,;]\\s*");   // -> ["a", "b", "c"]
/// ```
fn regex_split(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let (text, re) = text_and_pattern(vm, a, "regex_split")?;
    let mut pieces = Vec::new();
    for piece in re.split(text) {
        tick()?;
        reserve(&mut pieces, 1)?;
        pieces.push(Value::str(piece));
    }
    Ok(Value::list(pieces))
}
