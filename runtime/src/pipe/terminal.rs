//! The loops of the terminals (`count`, `sum`, `min`, `reduce`, `collect`, `group_by`...).
//! The executor owns them (DESIGN decision 5): a builtin checks its arguments, starts the
//! run and shapes the result; the loop and its accumulator are here, where checkpoints and
//! progress will find them. Counting and summing take whole batches at once: batches fold
//! their outputs on the way (and `parallel(n)` threads fold theirs), and what the kernels
//! hand over is added here in source order.

use super::accumulate::Acc;
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
    /// The next element, committing at each checkpoint boundary on the way (`acc` is the
    /// terminal's accumulator as of the elements taken so far).
    fn step(&mut self, vm: &mut Vm, acc: &mut Acc) -> RtResult<Option<Value>> {
        loop {
            if let Some(v) = self.next(vm)? {
                return Ok(Some(v));
            }
            if !self.at_boundary(vm, acc)? {
                return Ok(None);
            }
        }
    }

    /// A fold's boundary: `false` at the end of the pass.
    fn fold_boundary(&mut self, vm: &mut Vm, fold: &mut Fold) -> RtResult<bool> {
        let mut acc = Acc::Fold(*fold);
        let more = self.at_boundary(vm, &mut acc)?;
        if let Acc::Fold(f) = acc {
            *fold = f;
        }
        Ok(more)
    }

    /// The fold this run starts from (a resumed pass: the stored one).
    fn start_fold(&mut self, kind: FoldKind) -> RtResult<Fold> {
        match self.begin(Acc::Fold(Fold::new(kind)))? {
            Acc::Fold(f) => Ok(f),
            _ => Ok(Fold::new(kind)),
        }
    }

    /// Run to the end, counting the elements (`count`, `run`).
    pub fn count_all(&mut self, vm: &mut Vm) -> RtResult<u64> {
        let r = self.count_loop(vm);
        self.finish(vm, r)
    }

    fn count_loop(&mut self, vm: &mut Vm) -> RtResult<u64> {
        let mut fold = self.start_fold(FoldKind::Count)?;
        loop {
            while self.next_folding(vm, &mut fold)?.is_some() {
                fold.count += 1 + self.take_pending_count();
            }
            if !self.fold_boundary(vm, &mut fold)? {
                return Ok(fold.count);
            }
        }
    }

    /// Run to the end, adding the elements (`sum`, `avg`; `fname` names the terminal in
    /// errors): the sum (an Int while every element is one, else a Float) and how many
    /// numbers were added.
    pub fn sum_all(&mut self, vm: &mut Vm, fname: &str) -> RtResult<(Value, u64)> {
        let r = self.sum_loop(vm, fname);
        self.finish(vm, r)
    }

    fn sum_loop(&mut self, vm: &mut Vm, fname: &str) -> RtResult<(Value, u64)> {
        let mut fold = self.start_fold(FoldKind::Sum)?;
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
                None => {
                    if !self.fold_boundary(vm, &mut fold)? {
                        break;
                    }
                }
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
        let r = self.extreme_loop(vm, fname, want);
        self.finish(vm, r)
    }

    fn extreme_loop(&mut self, vm: &mut Vm, fname: &str, want: Ordering) -> RtResult<Value> {
        let mut acc = self.begin(Acc::One(None))?;
        while let Some(v) = self.step(vm, &mut acc)? {
            let Acc::One(best) = &mut acc else {
                continue;
            };
            let Some(b) = best else {
                if !matches!(v, Value::Int(_) | Value::Float(_) | Value::Str(_)) {
                    return Err(not_a_number(fname, &v));
                }
                *best = Some(v);
                continue;
            };
            if matches!(b, Value::Float(f) if f.is_nan()) {
                continue;
            }
            match compare(fname, &v, b)? {
                Some(o) if o == want => *b = v,
                Some(_) => {}
                None => *b = Value::Float(f64::NAN),
            }
        }
        Ok(one(acc))
    }

    /// `reduce`: `f(acc, element)` over every element, from `init`.
    pub fn reduce(&mut self, vm: &mut Vm, f: &Value, init: Value) -> RtResult<Value> {
        let r = self.reduce_loop(vm, f, init);
        self.finish(vm, r)
    }

    fn reduce_loop(&mut self, vm: &mut Vm, f: &Value, init: Value) -> RtResult<Value> {
        let mut acc = self.begin(Acc::One(Some(init)))?;
        while let Some(v) = self.step(vm, &mut acc)? {
            if let Acc::One(Some(a)) = &mut acc {
                let prev = std::mem::take(a);
                *a = vm.call_value(f, &[prev, v])?;
            }
        }
        Ok(one(acc))
    }

    /// The last element (`nil` when empty).
    pub fn last(&mut self, vm: &mut Vm) -> RtResult<Value> {
        let r = self.last_loop(vm);
        self.finish(vm, r)
    }

    fn last_loop(&mut self, vm: &mut Vm) -> RtResult<Value> {
        let mut acc = self.begin(Acc::One(None))?;
        while let Some(v) = self.step(vm, &mut acc)? {
            acc = Acc::One(Some(v));
        }
        Ok(one(acc))
    }

    /// The first element (`nil` when empty).
    pub fn first(&mut self, vm: &mut Vm) -> RtResult<Value> {
        let r = self.first_loop(vm);
        self.finish(vm, r)
    }

    fn first_loop(&mut self, vm: &mut Vm) -> RtResult<Value> {
        let mut acc = self.begin(Acc::One(None))?;
        if let Acc::One(Some(v)) = &acc {
            // A resumed pass that had found it: its end is seen now.
            let v = v.clone();
            self.close_early(vm, &mut acc)?;
            return Ok(v);
        }
        match self.step(vm, &mut acc)? {
            Some(v) => {
                let mut acc = Acc::One(Some(v.clone()));
                self.close_early(vm, &mut acc)?;
                Ok(v)
            }
            None => Ok(Value::Nil),
        }
    }

    /// A terminal that stops before the source's end: its pass ends here.
    fn close_early(&mut self, vm: &mut Vm, acc: &mut Acc) -> RtResult<()> {
        if self.ckpt.is_some() {
            self.done = true;
            while self.at_boundary(vm, acc)? {}
        }
        Ok(())
    }

    /// Every element, in order (`capacity`: how many are expected, when known).
    pub fn collect(&mut self, vm: &mut Vm, capacity: usize) -> RtResult<Vec<Value>> {
        let r = self.collect_loop(vm, capacity);
        self.finish(vm, r)
    }

    fn collect_loop(&mut self, vm: &mut Vm, capacity: usize) -> RtResult<Vec<Value>> {
        let mut items = Vec::new();
        crate::limits::reserve(&mut items, capacity)?;
        let mut acc = self.begin(Acc::Items { items, saved: 0 })?;
        while let Some(v) = self.step(vm, &mut acc)? {
            if let Acc::Items { items, .. } = &mut acc {
                crate::limits::reserve(items, 1)?;
                items.push(v);
                self.drain_pending(items)?;
            }
        }
        Ok(match acc {
            Acc::Items { items, .. } => items,
            _ => Vec::new(),
        })
    }

    /// `(f(element), element)` for every element, in order.
    /// `keys`: each key must be able to key a map (`group_by`), checked as it comes.
    fn pairs_loop(&mut self, vm: &mut Vm, f: &Value, keys: bool) -> RtResult<Vec<(Value, Value)>> {
        let mut acc = self.begin(Acc::Pairs {
            pairs: Vec::new(),
            saved: 0,
        })?;
        while let Some(v) = self.step(vm, &mut acc)? {
            let k = vm.call_value(f, std::slice::from_ref(&v))?;
            if keys {
                MapKey::from_value(&k)
                    .map_err(|e| RtError::new(format!("'group_by': {}", e.message)))?;
            }
            if let Acc::Pairs { pairs, .. } = &mut acc {
                crate::limits::reserve(pairs, 1)?;
                pairs.push((k, v));
            }
        }
        Ok(match acc {
            Acc::Pairs { pairs, .. } => pairs,
            _ => Vec::new(),
        })
    }

    /// `group_by`: a map from `f(element)` to the list of elements with that key, keys in
    /// the order they first appear.
    pub fn group_by(&mut self, vm: &mut Vm, f: &Value) -> RtResult<Value> {
        let r = self.pairs_loop(vm, f, true).and_then(group);
        self.finish(vm, r)
    }

    /// `(f(element), element)` for every element (`sort_by` sorts them by key).
    pub fn keyed(&mut self, vm: &mut Vm, f: &Value) -> RtResult<Vec<(Value, Value)>> {
        let r = self.pairs_loop(vm, f, false);
        self.finish(vm, r)
    }

    /// `join`: the elements in their printed form (strings raw), separated by `sep`.
    pub fn join(&mut self, vm: &mut Vm, sep: &str) -> RtResult<String> {
        let r = self.join_loop(vm, sep);
        self.finish(vm, r)
    }

    fn join_loop(&mut self, vm: &mut Vm, sep: &str) -> RtResult<String> {
        let mut acc = self.begin(Acc::Text {
            out: String::new(),
            any: false,
            saved: 0,
        })?;
        while let Some(v) = self.step(vm, &mut acc)? {
            let Acc::Text { out, any, .. } = &mut acc else {
                continue;
            };
            let text = match &v {
                Value::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
                other => std::borrow::Cow::Owned(display(other)),
            };
            let gap = if *any { sep } else { "" };
            *any = true;
            crate::limits::reserve_str(out, gap.len() + text.len())?;
            out.push_str(gap);
            out.push_str(&text);
        }
        Ok(match acc {
            Acc::Text { out, .. } => out,
            _ => String::new(),
        })
    }

    /// `any` (`want` true) or `all` (false): stops at the first element whose truthiness
    /// (or `pred`'s result on it) is `want`.
    pub fn quantify(&mut self, vm: &mut Vm, pred: Option<&Value>, want: bool) -> RtResult<bool> {
        let r = self.quantify_loop(vm, pred, want);
        self.finish(vm, r)
    }

    fn quantify_loop(&mut self, vm: &mut Vm, pred: Option<&Value>, want: bool) -> RtResult<bool> {
        let mut acc = self.begin(Acc::One(None))?;
        if let Acc::One(Some(Value::Bool(found))) = &acc {
            // A resumed pass that had decided: its end is seen now.
            let found = *found;
            self.close_early(vm, &mut acc)?;
            return Ok(found);
        }
        while let Some(v) = self.step(vm, &mut acc)? {
            let t = match pred {
                Some(p) => vm.call_value(p, std::slice::from_ref(&v))?.is_truthy(),
                None => v.is_truthy(),
            };
            if t == want {
                let mut acc = Acc::One(Some(Value::Bool(want)));
                self.close_early(vm, &mut acc)?;
                return Ok(want);
            }
        }
        Ok(!want)
    }
}

/// The value of a one-value accumulator (`nil` when it holds none).
fn one(acc: Acc) -> Value {
    match acc {
        Acc::One(v) => v.unwrap_or_default(),
        _ => Value::Nil,
    }
}

/// `group_by`'s map from its `(key, element)` pairs, keys in the order they first appear.
fn group(pairs: Vec<(Value, Value)>) -> RtResult<Value> {
    // Keys are data (often from a file): a seeded hash, as for map values.
    let mut groups: IndexMap<MapKey, Vec<Value>, foldhash::fast::RandomState> = IndexMap::default();
    for (k, v) in pairs {
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
