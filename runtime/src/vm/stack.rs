//! Popping and cutting the VM's value stack without the out-of-line drop for scalars:
//! the dispatch loop and the hot tier both do it on every instruction that consumes
//! operands.

use crate::value::Value;

/// Pop a value known to be a scalar (`Vec::truncate` would call the out-of-line drop).
#[inline(always)]
pub(crate) fn pop_scalar(stack: &mut Vec<Value>) {
    if let Some(v) = stack.pop() {
        discard(v);
    }
}

/// Cut the stack back to `height`, dropping scalars inline (a frame's slots are mostly
/// Ints; `Vec::truncate` calls the out-of-line drop for every one).
#[inline(always)]
pub(crate) fn truncate_stack(stack: &mut Vec<Value>, height: usize) {
    while stack.len() > height {
        if let Some(v) = stack.pop() {
            discard(v);
        }
    }
}

/// Drop a value, skipping the out-of-line drop call for scalars (the common case in
/// arithmetic loops).
#[inline(always)]
pub(crate) fn discard(v: Value) {
    match v {
        Value::Nil
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Row(_)
        | Value::Table(_)
        | Value::Db => std::mem::forget(v),
        other => drop(other),
    }
}
