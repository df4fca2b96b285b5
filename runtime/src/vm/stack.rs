//! Popping and cutting the VM's value stack without the out-of-line drop for scalars:
//! the dispatch loop and the hot tier both do it on every instruction that consumes
//! operands.

use crate::value::Value;

/// Pop a value and drop it by its tag alone: inline for a scalar (`Vec::truncate` would
/// call the out-of-line drop), and never moved as a whole (a 16-byte load of a value just
/// written in parts stalls).
#[inline(always)]
pub(crate) fn pop_scalar(stack: &mut Vec<Value>) {
    if let Some(v) = stack.pop() {
        discard(v);
    }
}

/// Cut the stack back to `height`, dropping scalars inline (a frame's slots are mostly
/// Ints; `Vec::truncate` calls the out-of-line drop for every one). A scalar is told by one
/// compare of its tag: matching every variant was a jump through a table per slot.
#[inline(always)]
pub(crate) fn truncate_stack(stack: &mut Vec<Value>, height: usize) {
    while let Some(v) = stack.get(height..).and_then(<[Value]>::last) {
        if matches!(
            v,
            Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Float(_)
        ) {
            pop_forget(stack);
        } else if let Some(v) = stack.pop() {
            discard(v);
        }
    }
}

/// Pop a value known to need no drop.
#[inline(always)]
fn pop_forget(stack: &mut Vec<Value>) {
    if let Some(v) = stack.pop() {
        std::mem::forget(v);
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
        // Dropped by variant: an inline count decrement, with the out-of-line free only
        // when it was the last reference.
        Value::Instance(x) => drop(x),
        Value::Str(x) => drop(x),
        Value::List(x) => drop(x),
        Value::Function(x) => drop(x),
        other => drop(other),
    }
}

/// A copy of a value rebuilt variant by variant, inline: the generic clone is an
/// out-of-line call whose result, written in parts, stalls when it is moved as a whole.
#[inline(always)]
pub(crate) fn copy_of(v: &Value) -> Value {
    match v {
        Value::Nil => Value::Nil,
        Value::Bool(b) => Value::Bool(*b),
        Value::Int(i) => Value::Int(*i),
        Value::Float(f) => Value::Float(*f),
        Value::Str(x) => Value::Str(x.clone()),
        Value::List(x) => Value::List(x.clone()),
        Value::Map(x) => Value::Map(x.clone()),
        Value::Instance(x) => Value::Instance(x.clone()),
        Value::Function(x) => Value::Function(x.clone()),
        Value::Row(r) => Value::Row(*r),
        other => other.clone(),
    }
}

/// Pop the top value. A scalar is rebuilt from its fields instead of moved as a whole: it
/// was usually written moments ago in parts (an Int result's payload only), and a 16-byte
/// load of it would stall.
#[inline(always)]
pub(crate) fn take_top(stack: &mut Vec<Value>) -> Value {
    let v = match stack.last() {
        Some(Value::Int(i)) => Value::Int(*i),
        Some(Value::Float(f)) => Value::Float(*f),
        Some(Value::Bool(b)) => Value::Bool(*b),
        Some(Value::Nil) => Value::Nil,
        Some(Value::Row(r)) => Value::Row(*r),
        // Moved out by variant, so the pointer travels alone (`unwrap_or_default` on the
        // popped `Option` copies the whole value bytewise through memory).
        _ => {
            return match stack.pop() {
                Some(Value::Instance(x)) => Value::Instance(x),
                Some(Value::Str(x)) => Value::Str(x),
                Some(Value::List(x)) => Value::List(x),
                Some(Value::Map(x)) => Value::Map(x),
                Some(Value::Function(x)) => Value::Function(x),
                Some(other) => other,
                None => Value::Nil,
            };
        }
    };
    pop_scalar(stack);
    v
}

/// Store a value into a slot, rebuilt from its parts: the value usually arrives through
/// memory written in parts, and a whole 16-byte copy of it would stall.
#[inline(always)]
pub(crate) fn store_value(slot: &mut Value, v: Value) {
    match v {
        Value::Int(i) => store_int(slot, i),
        Value::Float(f) => store_float(slot, f),
        Value::Function(c) => discard(std::mem::replace(slot, Value::Function(c))),
        Value::Str(s) => discard(std::mem::replace(slot, Value::Str(s))),
        Value::List(l) => discard(std::mem::replace(slot, Value::List(l))),
        Value::Map(m) => discard(std::mem::replace(slot, Value::Map(m))),
        Value::Instance(i) => discard(std::mem::replace(slot, Value::Instance(i))),
        other => discard(std::mem::replace(slot, other)),
    }
}

/// Store a Float into a slot, writing only the payload when it already holds a Float.
#[inline(always)]
pub(crate) fn store_float(slot: &mut Value, r: f64) {
    if let Value::Float(x) = slot {
        *x = r;
    } else {
        discard(std::mem::replace(slot, Value::Float(r)));
    }
}

/// Store an Int into a slot; when the slot already holds an Int only the payload is
/// written (building a whole `Value` and copying it costs a store-forwarding stall).
#[inline(always)]
pub(crate) fn store_int(slot: &mut Value, r: i64) {
    if let Value::Int(x) = slot {
        *x = r;
    } else {
        discard(std::mem::replace(slot, Value::Int(r)));
    }
}

/// Push a copy of `v`, one variant at a time (a merged temporary `Value` copied as a
/// whole costs a store-forwarding stall).
#[inline(always)]
pub(crate) fn push_copy(stack: &mut Vec<Value>, v: &Value) {
    // Scalars through `extend(once_with(..))`, the rest through `push`: the mix the
    // instruction counts chose (`push` for the scalars here and in `push_moved` cost 2-6%
    // more over the benchmark programs, by how the dispatch loop around them compiled).
    match v {
        Value::Int(i) => {
            let i = *i;
            stack.extend(std::iter::once_with(|| Value::Int(i)))
        }
        Value::Float(f) => {
            let f = *f;
            stack.extend(std::iter::once_with(|| Value::Float(f)))
        }
        Value::Bool(b) => stack.push(Value::Bool(*b)),
        Value::Nil => stack.push(Value::Nil),
        Value::Function(c) => stack.push(Value::Function(c.clone())),
        Value::Instance(x) => stack.push(Value::Instance(x.clone())),
        Value::List(x) => stack.push(Value::List(x.clone())),
        Value::Str(x) => stack.push(Value::Str(x.clone())),
        other => stack.push(other.clone()),
    }
}

/// Push a value moved in, one variant at a time (a closure capturing the whole value is
/// not inlined, and a whole 16-byte copy of a value written in parts stalls).
#[inline(always)]
pub(crate) fn push_moved(stack: &mut Vec<Value>, v: Value) {
    match v {
        Value::Int(i) => stack.extend(std::iter::once_with(|| Value::Int(i))),
        Value::Float(f) => stack.extend(std::iter::once_with(|| Value::Float(f))),
        Value::Bool(b) => stack.extend(std::iter::once_with(|| Value::Bool(b))),
        Value::Nil => stack.extend(std::iter::once_with(|| Value::Nil)),
        Value::Instance(x) => stack.push(Value::Instance(x)),
        Value::Str(x) => stack.push(Value::Str(x)),
        Value::List(x) => stack.push(Value::List(x)),
        other => stack.push(other),
    }
}
