//! The loops of the terminals (`count`, `sum`, `min`, `reduce`, `collect`, `group_by`...).
//! The executor owns them (DESIGN decision 5): a builtin checks its arguments, starts the
//! run and shapes the result; the loop and its accumulator are here, where checkpoints and
//! progress will find them. Counting and summing take whole batches at once: batches fold
//! their outputs on the way (and `parallel(n)` threads fold theirs), and what the kernels
//! hand over is added here in source order.

use super::{PipeRun, TakenNumbers};
use crate::error::{RtError, RtResult};
use crate::kernel::KVal;
use crate::kernel::fold::{Fold, FoldKind, Sum};
use crate::ops::compare;
use crate::print::display;
use crate::value::{MapKey, Value};
use crate::vm::Vm;
use indexmap::IndexMap;
use std::cmp::Ordering;

/// "'sum' expects numbers, got a String": the error of a numeric terminal given
/// something else.
fn not_a_number(fname: &str, v: &Value) -> RtError {
    RtError::new(format!(
        "'{fname}' expects numbers, got {} {}",
        if v.type_name().starts_with(['A', 'E', 'I', 'O', 'U']) {
            "an"
        } else {
            "a"
        },
        v.type_name()
    ))
}

/// Add a number the terminal took (`sum`, `avg`); the errors name the terminal.
fn add_value(sum: Sum, v: &Value, fname: &str) -> RtResult<Sum> {
    match v {
        Value::Int(_) | Value::Float(_) => KVal::from_value(v)
            .and_then(|k| sum.plus(k))
            .ok_or_else(|| RtError::new(format!("integer overflow in '{fname}'"))),
        other => Err(not_a_number(fname, other)),
    }
}

/// Add every number of the batches' outputs in order; also returns how many there were.
fn add_numbers(mut sum: Sum, taken: TakenNumbers, fname: &str) -> RtResult<(Sum, u64)> {
    let mut n = 0u64;
    for (chunk, from) in taken.chunks() {
        n += chunk.len().saturating_sub(from) as u64;
        let mut at = from;
        while let Err(j) = sum.add_col(chunk, at) {
            // An overflow or a non-number: `add_value` reports it.
            if let Some(k) = chunk.get(j) {
                sum = add_value(sum, &k.to_value(), fname)?;
            }
            at = j + 1;
        }
    }
    Ok((sum, n))
}

impl PipeRun {
    /// Run to the end, counting the elements (`count`, `run`).
    pub fn count_all(&mut self, vm: &mut Vm) -> RtResult<u64> {
        let mut fold = Fold::new(FoldKind::Count);
        while self.next_folding(vm, &mut fold)?.is_some() {
            fold.count += 1 + self.take_pending_count();
        }
        Ok(fold.count)
    }

    /// Run to the end, adding the elements (`sum`, `avg`; `fname` names the terminal in
    /// errors): the sum (an Int while every element is one, else a Float) and how many
    /// numbers were added.
    pub fn sum_all(&mut self, vm: &mut Vm, fname: &str) -> RtResult<(Value, u64)> {
        let mut fold = Fold::new(FoldKind::Sum);
        loop {
            // A batch's numbers in one go, then the next element (which runs the next batch).
            let (sum, n) = add_numbers(fold.sum, self.take_numbers(), fname)?;
            fold.sum = sum;
            fold.count += n;
            match self.next_folding(vm, &mut fold)? {
                Some(v) => {
                    fold.sum = add_value(fold.sum, &v, fname)?;
                    fold.count += 1;
                }
                None => break,
            }
        }
        let sum = match fold.sum {
            Sum::Int(i) => Value::Int(i),
            Sum::Float(f) => Value::Float(f),
        };
        Ok((sum, fold.count))
    }
}

impl PipeRun {
    /// `min` (`want` Less) or `max` (Greater): `nil` when empty, `nan` if any element is
    /// nan; ties keep the first. Elements must be numbers or strings that can be ordered.
    pub fn extreme(&mut self, vm: &mut Vm, fname: &str, want: Ordering) -> RtResult<Value> {
        let Some(mut best) = self.next(vm)? else {
            return Ok(Value::Nil);
        };
        if !matches!(best, Value::Int(_) | Value::Float(_) | Value::Str(_)) {
            return Err(not_a_number(fname, &best));
        }
        while let Some(v) = self.next(vm)? {
            if matches!(best, Value::Float(f) if f.is_nan()) {
                continue;
            }
            match compare(fname, &v, &best)? {
                Some(o) if o == want => best = v,
                Some(_) => {}
                None => best = Value::Float(f64::NAN),
            }
        }
        Ok(best)
    }

    /// `reduce`: `f(acc, element)` over every element, from `init`.
    pub fn reduce(&mut self, vm: &mut Vm, f: &Value, init: Value) -> RtResult<Value> {
        let mut acc = init;
        while let Some(v) = self.next(vm)? {
            acc = vm.call_value(f, &[acc, v])?;
        }
        Ok(acc)
    }

    /// The last element (`nil` when empty).
    pub fn last(&mut self, vm: &mut Vm) -> RtResult<Value> {
        let mut last = Value::Nil;
        while let Some(v) = self.next(vm)? {
            last = v;
        }
        Ok(last)
    }

    /// Every element, in order (`capacity`: how many are expected, when known).
    pub fn collect(&mut self, vm: &mut Vm, capacity: usize) -> RtResult<Vec<Value>> {
        let mut items = Vec::new();
        crate::limits::reserve(&mut items, capacity)?;
        while let Some(v) = self.next(vm)? {
            crate::limits::reserve(&mut items, 1)?;
            items.push(v);
        }
        Ok(items)
    }

    /// `group_by`: a map from `f(element)` to the list of elements with that key, keys in
    /// the order they first appear.
    pub fn group_by(&mut self, vm: &mut Vm, f: &Value) -> RtResult<Value> {
        // Keys are data (often from a file): a seeded hash, as for map values.
        let mut groups: IndexMap<MapKey, Vec<Value>, foldhash::fast::RandomState> =
            IndexMap::default();
        while let Some(v) = self.next(vm)? {
            let k = vm.call_value(f, std::slice::from_ref(&v))?;
            let key = MapKey::from_value(&k)
                .map_err(|e| RtError::new(format!("'group_by': {}", e.message)))?;
            let group = groups.entry(key).or_default();
            crate::limits::reserve(group, 1)?;
            group.push(v);
        }
        Ok(Value::map(
            groups
                .into_iter()
                .map(|(k, vs)| (k, Value::list(vs)))
                .collect(),
        ))
    }

    /// `(f(element), element)` for every element (`sort_by` sorts them by key).
    pub fn keyed(&mut self, vm: &mut Vm, f: &Value) -> RtResult<Vec<(Value, Value)>> {
        let mut pairs = Vec::new();
        while let Some(v) = self.next(vm)? {
            let k = vm.call_value(f, std::slice::from_ref(&v))?;
            crate::limits::reserve(&mut pairs, 1)?;
            pairs.push((k, v));
        }
        Ok(pairs)
    }

    /// `join`: the elements in their printed form (strings raw), separated by `sep`.
    pub fn join(&mut self, vm: &mut Vm, sep: &str) -> RtResult<String> {
        let mut out = String::new();
        let mut first = true;
        while let Some(v) = self.next(vm)? {
            let text = match &v {
                Value::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
                other => std::borrow::Cow::Owned(display(other)),
            };
            let gap = if first { "" } else { sep };
            first = false;
            crate::limits::reserve_str(&mut out, gap.len() + text.len())?;
            out.push_str(gap);
            out.push_str(&text);
        }
        Ok(out)
    }

    /// `any` (`want` true) or `all` (false): stops at the first element whose truthiness
    /// (or `pred`'s result on it) is `want`.
    pub fn quantify(&mut self, vm: &mut Vm, pred: Option<&Value>, want: bool) -> RtResult<bool> {
        while let Some(v) = self.next(vm)? {
            let t = match pred {
                Some(p) => vm.call_value(p, std::slice::from_ref(&v))?.is_truthy(),
                None => v.is_truthy(),
            };
            if t == want {
                return Ok(want);
            }
        }
        Ok(!want)
    }
}
