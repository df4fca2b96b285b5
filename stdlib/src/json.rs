//! @group JSON
//! JSON (SPEC §12, §15): `json_parse(s)` and `json_str(v)` (compact).

use crate::check::*;
use std::fmt::Write;
use std::rc::Rc;
use walia_runtime::api::{MapKey, Str, format_float};
use walia_runtime::{RtError, RtResult, Value, Vm};

/// Deeper nesting than this is refused by `json_str` (and cycles are caught by it).
const MAX_DEPTH: usize = 512;

pub fn install(vm: &mut Vm) {
    leaf_global(vm, "json_parse", 1, 1, json_parse);
    leaf_global(vm, "json_str", 1, 1, json_str);
}

/// Bytes one parsed JSON value may take beyond its text: the parser's tree node (32) and
/// the script value made from it (16), alive together while the result is built.
const BYTES_PER_JSON_VALUE: usize = 48;

/// How many `,`, `[` and `{` of JSON text are structure rather than string content.
fn separators_outside_strings(text: &[u8]) -> usize {
    let (mut count, mut in_string, mut escaped) = (0, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b',' | b'[' | b'{' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// @builtin json_parse(text) -> any
///
/// The value of the JSON `text`: objects become Maps (in the text's key order), arrays Lists,
/// `null` is `nil`, numbers written as integers are Ints and other numbers Floats (beyond
/// the Float range: `inf`). A duplicate key keeps its last value.
///
/// Errors: `text` is not a String; it is not valid JSON (the message gives the line, the
/// column and the reason); an integer does not fit in 64 bits; nesting deeper than 128
/// levels.
///
/// ```walia
/// var v = json_parse("{\"name\": \"Ann\", \"tags\": [1, 2.5, null]}");
/// print v.name;   // -> Ann
/// print v.tags;   // -> [1, 2.5, nil]
/// ```
fn json_parse(a: &[Value]) -> RtResult<Value> {
    let text = expect_str(a, 0, "json_parse")?;
    // `[0,0,0,...]` is 24 times its text once parsed: the size is estimated from the
    // number of values (at most one per `,`, `[` and `{` outside strings, plus one)
    // before parsing.
    let values = 1 + separators_outside_strings(text.as_str().as_bytes());
    walia_runtime::api::note_alloc(
        text.as_str()
            .len()
            .saturating_add(values.saturating_mul(BYTES_PER_JSON_VALUE)),
    )?;
    match serde_json::from_str::<serde_json::Value>(text.as_str()) {
        Ok(j) => from_json(j).map_err(|m| RtError::new(format!("'json_parse': {m}"))),
        Err(e) => {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let reason = full.strip_suffix(&suffix).unwrap_or(&full);
            Err(RtError::new(format!(
                "invalid JSON at line {} column {}: {reason}",
                e.line(),
                e.column()
            )))
        }
    }
}

/// A parsed JSON value as a Walia value; the error is why a number has no Walia form.
/// serde_json limits nesting to 128 levels while parsing, so this recursion is bounded.
pub fn from_json(j: serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    Ok(match j {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => number(&n)?,
        J::String(s) => Value::str(s),
        J::Array(items) => Value::list(items.into_iter().map(from_json).collect::<Result<_, _>>()?),
        J::Object(obj) => {
            let mut m = walia_runtime::api::new_entries(obj.len());
            for (k, v) in obj {
                m.insert(MapKey::Str(Rc::new(Str::new(k))), from_json(v)?);
            }
            Value::map(m)
        }
    })
}

/// Integer syntax is an Int, and one beyond 64 bits an error rather than a Float that
/// silently loses digits. Other numbers are Floats rounded the way the literal `1e400` and
/// CSV import round them: beyond the Float range is `inf` / `-inf`.
fn number(n: &serde_json::Number) -> Result<Value, String> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::Int(i));
    }
    // `arbitrary_precision` keeps the number's text as written.
    let text = n.as_str();
    if !text.contains(['.', 'e', 'E']) {
        return Err(format!("integer {text} does not fit in 64 bits"));
    }
    text.parse::<f64>()
        .map(Value::Float)
        .map_err(|_| format!("invalid number {text}"))
}

/// @builtin json_str(value) -> String
///
/// `value` as compact JSON (no spaces): Maps and instances become objects (in insertion or
/// field order; Int keys become strings), Lists arrays, `nil` is `null`, a Float keeps its
/// `.0`. Strings are escaped as JSON requires (other characters are written as they are,
/// not as `\u` escapes).
///
/// Errors: `nan` and `inf` (JSON has no form for them); a value of a type without a JSON
/// form (a Range, a Function, a Table...); a value nested more than 512 levels deep or
/// containing itself.
///
/// ```walia
/// print json_str({a: [1, nil, true], b: "x", c: 2.0});   // -> {"a":[1,null,true],"b":"x","c":2.0}
/// ```
fn json_str(a: &[Value]) -> RtResult<Value> {
    let mut out = String::new();
    write_json(&mut out, arg(a, 0), 0)?;
    Ok(Value::str(out))
}

pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_key(out: &mut String, k: &MapKey) {
    match k {
        MapKey::Str(s) => write_string(out, s.as_str()),
        MapKey::Int(i) => write_string(out, &i.to_string()),
        MapKey::Bool(b) => write_string(out, &b.to_string()),
    }
}

/// Compact JSON: maps and instances become objects (insertion / field order), lists
/// arrays; floats keep a `.0`; nan, inf and values with no JSON form are errors.
pub fn write_json(out: &mut String, v: &Value, depth: usize) -> RtResult<()> {
    walia_runtime::api::tick()?;
    if out.len() > 1 << 20 {
        walia_runtime::api::note_alloc(out.len())?;
    }
    if depth > MAX_DEPTH {
        return Err(RtError::new(
            "'json_str': value is nested too deeply (or contains itself)",
        ));
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(RtError::new(format!(
                    "'json_str' cannot encode {}",
                    format_float(*f)
                )));
            }
            out.push_str(&format_float(*f));
        }
        Value::Str(s) => write_string(out, s.as_str()),
        Value::List(l) => {
            let items = l.items.borrow().clone();
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            let entries: Vec<(MapKey, Value)> = m
                .entries
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_key(out, k);
                out.push(':');
                write_json(out, item, depth + 1)?;
            }
            out.push('}');
        }
        Value::Instance(_) | Value::Row(_) => {
            // A row is written like an instance: an object of its columns.
            let fields: Vec<(Rc<str>, Value)> = match v {
                Value::Row(r) => walia_runtime::api::row_fields(*r)?,
                Value::Instance(inst) => inst
                    .fields
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_json(out, item, depth + 1)?;
            }
            out.push('}');
        }
        other => {
            return Err(RtError::new(format!(
                "'json_str' cannot encode a value of type {}",
                other.type_name()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::separators_outside_strings as count;

    #[test]
    fn only_structure_counts_toward_the_size_estimate() {
        assert_eq!(count(br#"[1,2,{"a":[3]}]"#), 5);
        assert_eq!(count(br#"["a,b,c", "[{", "\",["]"#), 3);
        assert_eq!(count(br#"{"k\\":[1,2]}"#), 3);
    }
}
