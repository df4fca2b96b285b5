//! What batches produced and the terminal has not taken yet: numbers in columns (the
//! front one from `numbers_at` on) and other values, handed out one at a time by `next`
//! or all at once to a terminal that takes them whole.

use super::PipeRun;
use crate::error::RtResult;
use crate::kernel::KVal;
use crate::kernel::eval::Col;
use crate::value::Value;
use std::collections::VecDeque;

/// Numbers taken from a run at once: chunks, the first one from `skip` on.
pub struct TakenNumbers {
    skip: usize,
    chunks: VecDeque<Col>,
}

impl TakenNumbers {
    /// Each chunk in order, with the index its untaken values start at.
    pub fn chunks(&self) -> impl Iterator<Item = (&Col, usize)> {
        self.chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (c, if i == 0 { self.skip } else { 0 }))
    }

    /// Call `f` on each number in order, stopping at its first error.
    #[inline]
    pub fn each<E>(self, mut f: impl FnMut(KVal) -> Result<(), E>) -> Result<(), E> {
        for (chunk, from) in self.chunks() {
            for j in from..chunk.len() {
                if let Some(k) = chunk.get(j) {
                    f(k)?;
                }
            }
        }
        Ok(())
    }
}

impl PipeRun {
    #[inline]
    pub(super) fn next_number(&mut self) -> Option<KVal> {
        loop {
            let front = self.numbers.front()?;
            if let Some(k) = front.get(self.numbers_at) {
                self.numbers_at += 1;
                return Some(k);
            }
            self.numbers.pop_front();
            self.numbers_at = 0;
        }
    }

    /// How many elements batches produced that are not yet taken, dropping them (`count`
    /// needs no values).
    pub fn take_pending_count(&mut self) -> u64 {
        let numbers: usize = self.numbers.iter().map(Col::len).sum();
        let n = numbers.saturating_sub(self.numbers_at) + self.out.len();
        self.numbers.clear();
        self.numbers_at = 0;
        self.out.clear();
        n as u64
    }

    /// Append every element batches produced and the terminal has not taken yet to
    /// `items`, in the order `next` would hand them out: a collecting terminal takes a
    /// batch's outputs at once instead of one call of `next` per element.
    pub fn drain_pending(&mut self, items: &mut Vec<Value>) -> RtResult<()> {
        if self.numbers.is_empty() && self.out.is_empty() {
            return Ok(());
        }
        let skip = std::mem::take(&mut self.numbers_at);
        for (i, chunk) in self.numbers.drain(..).enumerate() {
            let from = if i == 0 { skip } else { 0 };
            crate::limits::reserve(items, chunk.len().saturating_sub(from))?;
            match &chunk {
                Col::Int(v) => extend_from(items, v, from, Value::Int),
                Col::Float(v) => extend_from(items, v, from, Value::Float),
                Col::Bool(v) => extend_from(items, v, from, Value::Bool),
                Col::Any(v) => extend_from(items, v, from, KVal::to_value),
            }
        }
        crate::limits::reserve(items, self.out.len())?;
        items.extend(self.out.drain(..));
        Ok(())
    }

    /// The values batches produced that are not yet taken, all at once (a numeric
    /// terminal folds them directly); empty when the next elements are not such values.
    pub fn take_numbers(&mut self) -> TakenNumbers {
        TakenNumbers {
            skip: std::mem::take(&mut self.numbers_at),
            chunks: std::mem::take(&mut self.numbers),
        }
    }
}

/// Append `column[from..]` to `items`, each made a value by `make`. Extended from a slice,
/// whose length is known: no capacity check per value.
fn extend_from<T: Copy>(items: &mut Vec<Value>, column: &[T], from: usize, make: fn(T) -> Value) {
    items.extend(
        column
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|&x| make(x)),
    );
}
