//! Destructuring (`var [a, b] = v;`, `[a, b] = v;`, `for (k, v in m)`) and the source text
//! of a failing `assert(cond)`: the helpers of their instructions.

use crate::error::{RtError, RtResult};
use crate::value::Value;

/// `Unpack(n)`: `v` must be a List of exactly `n` elements; the result is a copy of it, so
/// assigning the targets one by one cannot change what the later ones receive.
pub(crate) fn unpack(v: &Value, n: u32) -> RtResult<Value> {
    let names = if n == 1 { "name" } else { "names" };
    match v {
        Value::List(l) => {
            let items = l.items.borrow();
            if items.len() != n as usize {
                let elements = if items.len() == 1 {
                    "element"
                } else {
                    "elements"
                };
                return Err(RtError::new(format!(
                    "cannot destructure a List of {} {elements} into {n} {names}",
                    items.len()
                )));
            }
            Ok(Value::list(items.clone()))
        }
        other => Err(RtError::new(format!(
            "cannot destructure a value of type {} into {n} {names} (a List of {n} is needed)",
            other.type_name()
        ))),
    }
}

/// `Pick(depth, i)`: element `i` of the copy `Unpack` left `depth` values below the top.
pub(crate) fn pick(stack: &[Value], depth: u16, i: u32) -> Value {
    let at = stack.len().checked_sub(1 + depth as usize);
    match at.and_then(|at| stack.get(at)) {
        Some(Value::List(l)) => l
            .items
            .borrow()
            .get(i as usize)
            .cloned()
            .unwrap_or_default(),
        _ => Value::Nil,
    }
}

/// What `for (a, b in v)` iterates: a Map's entries as `[key, value]` lists (a snapshot
/// taken when the loop starts), anything else as it is.
pub(crate) fn pairs(v: Value) -> Value {
    let Value::Map(m) = &v else {
        return v;
    };
    let entries: Vec<Value> = m
        .entries
        .borrow()
        .iter()
        .map(|(k, v)| Value::list(vec![k.to_value(), v.clone()]))
        .collect();
    Value::list(entries)
}

/// Is `v` the builtin `assert` (not a function a script named `assert`)?
pub(crate) fn is_builtin_assert(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Native(n)) if &*n.name == "assert")
}
