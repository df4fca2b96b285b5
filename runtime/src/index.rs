//! Indexing: `x[i]` and `x[i] = v` on lists, strings, maps and ranges.

use crate::error::{RtError, RtResult};
use crate::value::{KeyRef, MapKey, Value};

/// Normalise a possibly negative index against a length.
pub fn norm_index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let j = if i < 0 { i + len } else { i };
    (0..len).contains(&j).then_some(j as usize)
}

fn int_index(idx: &Value) -> RtResult<i64> {
    match idx {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(*f as i64),
        other => Err(RtError::new(format!(
            "index must be an Int, not {}",
            other.type_name()
        ))),
    }
}

fn out_of_range(i: i64, len: usize) -> RtError {
    RtError::new(format!("index {i} out of range (length {len})"))
}

pub fn get_index(obj: &Value, idx: &Value) -> RtResult<Value> {
    if let Value::Range(r) = idx {
        return crate::slice::get_slice(obj, r);
    }
    match obj {
        Value::List(l) => {
            let i = int_index(idx)?;
            let items = l.items.borrow();
            norm_index(i, items.len())
                .map(|j| items[j].clone())
                .ok_or_else(|| out_of_range(i, items.len()))
        }
        Value::Str(s) => {
            if s.is_ascii()
                && let Value::Int(i) = idx
                && let Some(j) = norm_index(*i, s.as_str().len())
                && let Some(b) = s.as_str().as_bytes().get(j)
            {
                return Ok(Value::ascii(*b));
            }
            let i = int_index(idx)?;
            let len = s.char_len();
            let j = norm_index(i, len).ok_or_else(|| out_of_range(i, len))?;
            Ok(Value::text(s.char_at(j).unwrap_or("")))
        }
        Value::Map(m) => {
            let Some(k) = KeyRef::from_value(idx) else {
                return Ok(Value::Nil);
            };
            Ok(m.entries.borrow().get(&k).cloned().unwrap_or_default())
        }
        Value::Range(r) => {
            let i = int_index(idx)?;
            let len = r.len() as usize;
            norm_index(i, len)
                .map(|j| Value::Int(r.start + j as i64))
                .ok_or_else(|| out_of_range(i, len))
        }
        other => Err(RtError::new(format!(
            "cannot index a value of type {}",
            other.type_name()
        ))),
    }
}

pub fn set_index(obj: &Value, idx: &Value, v: Value) -> RtResult<()> {
    if matches!(idx, Value::Range(_)) {
        return Err(crate::slice::set_slice_error(obj));
    }
    match obj {
        Value::List(l) => {
            let i = int_index(idx)?;
            let mut items = l.items.borrow_mut();
            let len = items.len();
            let j = norm_index(i, len).ok_or_else(|| out_of_range(i, len))?;
            items[j] = v;
            Ok(())
        }
        Value::Map(m) => {
            let k = MapKey::from_value(idx)?;
            m.insert(k, v);
            Ok(())
        }
        other => Err(RtError::new(format!(
            "cannot assign to an index of a value of type {}",
            other.type_name()
        ))),
    }
}
