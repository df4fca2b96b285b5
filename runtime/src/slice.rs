//! Slicing: `x[a..b]` on lists, strings and ranges, with Python's rules (SPEC §15 and
//! docs/language.md "Slicing"): a negative end counts from the end, ends outside the value
//! are clamped, never an error, and the result is a new value of the same type.

use crate::error::{RtError, RtResult};
use crate::value::{RangeVal, Value};

/// One end of a slice as a position in `0..=len`.
fn clamp_end(i: i64, len: usize) -> usize {
    let len = len as i64;
    let j = if i < 0 { i.saturating_add(len) } else { i };
    j.clamp(0, len) as usize
}

/// The positions `lo..hi` (with `lo <= hi`) that the range `r` selects in a value of length `len`.
pub fn bounds(r: &RangeVal, len: usize) -> (usize, usize) {
    let lo = clamp_end(r.start, len);
    let hi = clamp_end(r.end, len).max(lo);
    (lo, hi)
}

/// `obj[r]`: a new List, String or Range holding the selected elements.
pub fn get_slice(obj: &Value, r: &RangeVal) -> RtResult<Value> {
    match obj {
        Value::List(l) => {
            let items = l.items.borrow();
            let (lo, hi) = bounds(r, items.len());
            // Copied variant by variant, inline (`to_vec` calls the generic clone per
            // element).
            let part = items[lo..hi]
                .iter()
                .map(crate::vm::stack::copy_of)
                .collect();
            Ok(Value::list(part))
        }
        Value::Str(s) => {
            let (lo, hi) = bounds(r, s.char_len());
            let text = s.as_str();
            if s.is_ascii() {
                return Ok(Value::text(text.get(lo..hi).unwrap_or("")));
            }
            Ok(Value::str(
                text.chars().skip(lo).take(hi - lo).collect::<String>(),
            ))
        }
        Value::Range(whole) => {
            let (lo, hi) = bounds(r, whole.len() as usize);
            Ok(Value::range(
                whole.start + lo as i64,
                whole.start + hi as i64,
            ))
        }
        other => Err(RtError::new(format!(
            "cannot slice a value of type {} (only a List, a String or a Range)",
            other.type_name()
        ))),
    }
}

/// `obj[r] = v` is not supported: replacing part of a list is `splice`-like work that a
/// plain assignment would hide.
pub fn set_slice_error(obj: &Value) -> RtError {
    RtError::new(format!(
        "cannot assign to a slice of a {} (build a new value, e.g. `xs = xs[..i] + [v] + xs[j..]`)",
        obj.type_name()
    ))
}
