//! Counted `for` loops and the fast paths of list indexing.
//!
//! A `for` loop keeps its state in two hidden slots of the frame. Over a range they hold
//! the next Int and the end; over a list, the list and the next index (the list is read
//! live, as its iterator reads it: elements added during the loop are visited). Anything
//! else gets an iterator (`Value::Iter`) in the first slot. So the common loops allocate
//! nothing and step without leaving the dispatch loop.

use crate::error::{RtError, RtResult};
use crate::index::norm_index;
use crate::pipe::PipeRun;
use crate::value::Value;
use crate::vm::numeric::Num;
use crate::vm::stack::{copy_of, discard, store_float, store_int, truncate_stack};
use std::cell::RefCell;
use std::rc::Rc;

/// Start a loop over `v` in `state` (the two hidden slots).
pub(crate) fn start(v: Value, state: &mut [Value]) -> RtResult<()> {
    let [first, second] = state else {
        return Err(RtError::new("internal error: no loop slots"));
    };
    match v {
        Value::Range(r) => {
            *first = Value::Int(r.start);
            *second = Value::Int(r.end);
        }
        Value::List(l) => {
            *first = Value::List(l);
            *second = Value::Int(0);
        }
        other => {
            let run = PipeRun::new(&other, true)?;
            *first = Value::Iter(Rc::new(RefCell::new(run)));
            *second = Value::Nil;
        }
    }
    Ok(())
}

/// Start a loop over `lo..hi` (both must be Ints, as for a range value).
pub(crate) fn start_range(lo: &Value, hi: &Value, state: &mut [Value]) -> RtResult<()> {
    let (Value::Int(lo), Value::Int(hi), [first, second]) = (lo, hi, state) else {
        return Err(RtError::new(format!(
            "a range needs two Ints, not {} and {}",
            lo.type_name(),
            hi.type_name()
        )));
    };
    *first = Value::Int(*lo);
    *second = Value::Int(*hi);
    Ok(())
}

/// What the next step of a loop gives.
pub(crate) enum Next {
    /// The next number of a range (kept apart from `Element` so that it is stored as an
    /// Int payload, never copied as a whole value).
    Int(i64),
    Element(Value),
    Done,
    /// Not a counted loop: the iterator in the first slot steps it.
    Iterator,
}

/// The next element of a counted loop. When it is done, the state is cleared (the list
/// is released).
#[inline(always)]
pub(crate) fn next(state: &mut [Value]) -> Next {
    let [first, second] = state else {
        return Next::Iterator;
    };
    match (&mut *first, &mut *second) {
        (Value::Int(at), Value::Int(end)) => {
            if *at < *end {
                let v = *at;
                *at += 1;
                return Next::Int(v);
            }
        }
        (Value::List(l), Value::Int(at)) => {
            let element = l.items.try_borrow().ok().and_then(|items| {
                let i = usize::try_from(*at).ok()?;
                items.get(i).cloned()
            });
            if let Some(v) = element {
                *at += 1;
                return Next::Element(v);
            }
        }
        _ => return Next::Iterator,
    }
    *first = Value::Nil;
    Next::Done
}

impl crate::vm::Vm {
    /// `GetIndexTL`: the value on top of the stack replaced by its element at the index
    /// in `stack[index_at]`.
    #[inline(never)]
    pub(crate) fn index_top(&mut self, index_at: usize) -> RtResult<()> {
        let top = self.stack.len() - 1;
        let element = match list_get(&self.stack[top], &self.stack[index_at]) {
            Some(Got::Num(n)) => n.value(),
            Some(Got::Value(v)) => v,
            None => crate::index::get_index(&self.stack[top], &self.stack[index_at])?,
        };
        self.stack[top] = element;
        Ok(())
    }

    /// `GetIndex`: the value and the index on top of the stack replaced by the element.
    #[inline(never)]
    pub(crate) fn index_pair(&mut self) -> RtResult<()> {
        let n = self.stack.len();
        if n < 2 {
            return Err(RtError::new("internal error: nothing to index"));
        }
        let element = match list_get(&self.stack[n - 2], &self.stack[n - 1]) {
            Some(Got::Num(n)) => n.value(),
            Some(Got::Value(v)) => v,
            None => crate::index::get_index(&self.stack[n - 2], &self.stack[n - 1])?,
        };
        if let Some(idx) = self.stack.pop() {
            discard(idx);
        }
        self.stack[n - 2] = element;
        Ok(())
    }

    /// `SetIndex`: the object, the index and the value on top of the stack; the value
    /// stays in their place when `keep` (an assignment expression's result).
    #[inline(never)]
    pub(crate) fn store_index_top(&mut self, keep: bool) -> RtResult<()> {
        let n = self.stack.len();
        if n < 3 {
            return Err(RtError::new("internal error: nothing to store into"));
        }
        let (obj, idx, v) = (&self.stack[n - 3], &self.stack[n - 2], &self.stack[n - 1]);
        if !list_store(obj, idx, v) {
            crate::index::set_index(obj, idx, copy_of(v))?;
        }
        if keep {
            self.stack.swap(n - 3, n - 1);
        }
        truncate_stack(&mut self.stack, n - 3 + usize::from(keep));
        Ok(())
    }
}

/// An element read by [`list_get`].
pub(crate) enum Got {
    /// A number or Bool, rebuilt in place where it goes (see `Num`).
    Num(Num),
    Value(Value),
}

/// `list[i]` of a list and an Int index in range: the element. `None` for anything
/// else (the general `get_index` gives the value or the error).
#[inline(always)]
pub(crate) fn list_get(obj: &Value, idx: &Value) -> Option<Got> {
    let (Value::List(l), Value::Int(i)) = (obj, idx) else {
        return None;
    };
    let items = l.items.try_borrow().ok()?;
    let j = norm_index(*i, items.len())?;
    Some(match &items[j] {
        Value::Int(n) => Got::Num(Num::Int(*n)),
        Value::Float(f) => Got::Num(Num::Float(*f)),
        Value::Bool(b) => Got::Num(Num::Bool(*b)),
        other => Got::Value(other.clone()),
    })
}

/// `list[i] = v` of a list and an Int index in range, with `v` left where it is (on top
/// of the stack: the caller pops it, or keeps it as an assignment's value). A number is
/// written by payload: `v` was usually just written in parts, and a whole 16-byte copy of
/// it would stall. False when it does not apply (the general `set_index` stores it or
/// reports the error).
#[inline(always)]
pub(crate) fn list_store(obj: &Value, idx: &Value, v: &Value) -> bool {
    let (Value::List(l), Value::Int(i)) = (obj, idx) else {
        return false;
    };
    let Ok(mut items) = l.items.try_borrow_mut() else {
        return false;
    };
    let Some(j) = norm_index(*i, items.len()) else {
        return false;
    };
    let slot = &mut items[j];
    match *v {
        Value::Int(n) => store_int(slot, n),
        Value::Float(f) => store_float(slot, f),
        _ => {
            let v = copy_of(v);
            discard(std::mem::replace(slot, v));
        }
    }
    true
}

/// `list[i] = v` of a list and an Int index in range. Gives `v` back when it does not
/// apply (the general `set_index` stores it or reports the error).
#[inline(always)]
pub(crate) fn list_set(obj: &Value, idx: &Value, v: Value) -> Result<(), Value> {
    let (Value::List(l), Value::Int(i)) = (obj, idx) else {
        return Err(v);
    };
    let Ok(mut items) = l.items.try_borrow_mut() else {
        return Err(v);
    };
    let Some(j) = norm_index(*i, items.len()) else {
        return Err(v);
    };
    let old = std::mem::replace(&mut items[j], v);
    drop(items);
    crate::vm::stack::discard(old);
    Ok(())
}
