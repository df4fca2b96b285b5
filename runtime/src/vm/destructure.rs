//! Destructuring (`var [a, b] = v;`, `[a, b] = v;`, `for (k, v in m)`) and the source text
//! of a failing `assert(cond)`: the helpers of their instructions.

use crate::bytecode::Op;
use crate::error::{RtError, RtResult};
use crate::pipe::PipeRun;
use crate::value::{Map, Value};
use crate::vm::Vm;

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

/// What `for (k, v in m)` walks: the map's keys and values read when the loop starts, as
/// one flat list `[k0, v0, k1, v1, ...]` stepped two at a time (no list per entry).
pub(crate) fn flat_entries(m: &Map) -> Value {
    let entries = m.entries.borrow();
    let mut flat = Vec::with_capacity(entries.len() * 2);
    for (k, v) in entries.iter() {
        flat.push(k.to_value());
        flat.push(v.clone());
    }
    Value::list(flat)
}

/// The two elements of `v`, a List of exactly two (else `unpack`'s error).
pub(crate) fn pair_of(v: &Value) -> RtResult<(Value, Value)> {
    if let Value::List(l) = v
        && let [x, y] = &l.items.borrow()[..]
    {
        return Ok((x.clone(), y.clone()));
    }
    unpack(v, 2).map(|_| (Value::Nil, Value::Nil))
}

/// One step of `for (a, b in x)`.
pub(crate) enum PairStep {
    /// A map's next key and value.
    Both(Value, Value),
    /// The next element of anything else (it must be a List of two).
    Element(Value),
    Done,
}

impl Vm {
    /// `IterNextPair(s, exit)` at `code[ip - 1]`, in the frame at `base`: the next
    /// instruction's index. A map's key and value skip the `SplitPair` after it, and go
    /// straight into two plain locals when the two instructions after that define them.
    #[inline(never)]
    pub(crate) fn step_pair(
        &mut self,
        code: &[Op],
        base: usize,
        s: u16,
        ip: usize,
        exit: u32,
    ) -> RtResult<usize> {
        Ok(match self.next_pair(base + s as usize)? {
            PairStep::Both(k, v) => {
                if let Some(&[Op::DefineLocal(b), Op::DefineLocal(a)]) = code.get(ip + 1..ip + 3) {
                    self.stack[base + a as usize] = k;
                    self.stack[base + b as usize] = v;
                    return Ok(ip + 3);
                }
                self.stack.push(k);
                self.stack.push(v);
                ip + 1
            }
            PairStep::Element(pair) => {
                self.stack.push(pair);
                ip
            }
            PairStep::Done => exit as usize,
        })
    }

    /// The next step of `for (a, b in x)` whose state is at `stack[at..at + 2]` (see
    /// `IterInitPairs`); the state is cleared when the loop is done.
    fn next_pair(&mut self, at: usize) -> RtResult<PairStep> {
        if let [Value::List(flat), Value::Int(i)] = &mut self.stack[at..at + 2] {
            let from = usize::try_from(*i).unwrap_or(usize::MAX);
            let both = match flat.items.borrow().get(from..from.saturating_add(2)) {
                Some([k, v]) => Some((k.clone(), v.clone())),
                _ => None,
            };
            if let Some((k, v)) = both {
                *i += 2;
                return Ok(PairStep::Both(k, v));
            }
            self.stack[at] = Value::Nil;
            return Ok(PairStep::Done);
        }
        let Value::Iter(it) = self.stack[at].clone() else {
            return Err(RtError::new("internal error: no iterator"));
        };
        let next = match it.try_borrow_mut() {
            Ok(mut run) => PipeRun::next(&mut run, self),
            Err(_) => Err(RtError::new("iterator is already running")),
        };
        Ok(match next? {
            Some(v) => PairStep::Element(v),
            None => {
                self.stack[at] = Value::Nil;
                PairStep::Done
            }
        })
    }
}

/// Is `v` the builtin `assert` (not a function a script named `assert`)?
pub(crate) fn is_builtin_assert(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Native(n)) if &*n.name == "assert")
}
