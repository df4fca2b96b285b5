//! The loops of the counting and summing terminals (`count`, `run`, `sum`, `avg`). The
//! executor owns them (DESIGN decision 5): batches fold their outputs on the way (and
//! `parallel(n)` threads fold theirs), and what the kernels hand over is added here in
//! source order, so a builtin only starts the run and shapes the result.

use super::{PipeRun, TakenNumbers};
use crate::error::{RtError, RtResult};
use crate::kernel::KVal;
use crate::kernel::fold::{Fold, FoldKind, Sum};
use crate::value::Value;
use crate::vm::Vm;

/// "'sum' expects numbers, got a String": the error of a numeric terminal given
/// something else.
pub fn not_a_number(fname: &str, v: &Value) -> RtError {
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
