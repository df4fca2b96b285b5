//! Terminal folds (`sum`, `avg`, `count`) that a `parallel(n)` block runs on its own
//! threads, in source order, as its pieces complete: the numbers a block produces never
//! travel to the script thread, and the fold overlaps the rest of the block instead of
//! running after it.
//!
//! A fold only ever takes a whole batch's outputs that it can add without an error; the
//! first batch it cannot (an Int overflow, a value that is not a number) and everything
//! after it go to the terminal as before, which reports the error where the serial run
//! would.

use super::KVal;
use super::col::Col;
use super::eval::Outputs;

/// A running sum: exact while every element is an Int, Float from the first Float on
/// (`sum` and `avg`, SPEC §8).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sum {
    Int(i64),
    Float(f64),
}

impl Sum {
    /// Add one number; `None` when it cannot be added here (an Int overflow, or not a
    /// number): the terminal decides the error.
    #[inline]
    pub fn plus(self, k: KVal) -> Option<Sum> {
        Some(match (self, k) {
            (Sum::Int(s), KVal::Int(i)) => Sum::Int(s.checked_add(i)?),
            (Sum::Int(s), KVal::Float(f)) => Sum::Float(s as f64 + f),
            (Sum::Float(s), KVal::Int(i)) => Sum::Float(s + i as f64),
            (Sum::Float(s), KVal::Float(f)) => Sum::Float(s + f),
            _ => return None,
        })
    }

    /// Add `col[from..]` in order (plain loops over typed chunks). `Err(j)`: element `j`
    /// cannot be added here; every element before it was.
    pub fn add_col(&mut self, col: &Col, from: usize) -> Result<(), usize> {
        match (*self, col) {
            (Sum::Float(mut s), Col::Float(v)) => {
                for x in v.get(from..).unwrap_or(&[]) {
                    s += x;
                }
                *self = Sum::Float(s);
            }
            (Sum::Int(mut s), Col::Int(v)) => {
                for (j, x) in v.iter().enumerate().skip(from) {
                    match s.checked_add(*x) {
                        Some(t) => s = t,
                        None => {
                            *self = Sum::Int(s);
                            return Err(j);
                        }
                    }
                }
                *self = Sum::Int(s);
            }
            _ => {
                for j in from..col.len() {
                    let next = col.get(j).and_then(|k| self.plus(k));
                    *self = next.ok_or(j)?;
                }
            }
        }
        Ok(())
    }
}

/// What a fold computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FoldKind {
    /// How many elements came out (`count`).
    Count,
    /// Their sum, and how many (`sum`, `avg`).
    Sum,
}

/// A terminal's running fold over what batches produce.
#[derive(Clone, Copy, Debug)]
pub struct Fold {
    pub kind: FoldKind,
    pub sum: Sum,
    pub count: u64,
}

impl Fold {
    pub fn new(kind: FoldKind) -> Fold {
        Fold {
            kind,
            sum: Sum::Int(0),
            count: 0,
        }
    }

    /// Fold one batch's outputs, all or nothing: `false` leaves the fold unchanged and
    /// the outputs to the terminal.
    pub fn absorb(&mut self, outputs: &Outputs) -> bool {
        let n = match outputs {
            Outputs::Positions(p) => p.len(),
            Outputs::Values(c) => c.len(),
            Outputs::Folded { count, sum } => return self.absorb_folded(*count, *sum),
        };
        if self.kind == FoldKind::Sum {
            // Positions of table rows (no map ran) are rows, not numbers: the terminal
            // reports them (a range's are numbers: `absorb_range`).
            let Outputs::Values(col) = outputs else {
                return n == 0;
            };
            let mut sum = self.sum;
            if sum.add_col(col, 0).is_err() {
                return false;
            }
            self.sum = sum;
        }
        self.count += n as u64;
        true
    }

    /// A piece folded by compiled code ([`Outputs::Folded`]).
    fn absorb_folded(&mut self, count: u64, sum: i64) -> bool {
        const BOUND: u64 = 1 << 62;
        if self.kind == FoldKind::Sum {
            match self.sum {
                // Both below 2^62: no prefix of the serial sum passes 2^63.
                Sum::Int(s) if s.unsigned_abs() < BOUND && sum.unsigned_abs() < BOUND => {
                    self.sum = Sum::Int(s + sum);
                }
                _ => return false,
            }
        }
        self.count += count;
        true
    }

    /// [`Fold::absorb`] for a batch of a range's numbers starting at `first`: positions
    /// (no map ran) stand for the numbers `first + position`.
    pub fn absorb_range(&mut self, outputs: &Outputs, first: i64) -> bool {
        let Outputs::Positions(positions) = outputs else {
            return self.absorb(outputs);
        };
        if self.kind == FoldKind::Sum {
            let mut sum = self.sum;
            for &i in positions {
                match first
                    .checked_add(i as i64)
                    .and_then(|x| sum.plus(KVal::Int(x)))
                {
                    Some(s) => sum = s,
                    None => return false,
                }
            }
            self.sum = sum;
        }
        self.count += positions.len() as u64;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_promote_to_float_and_stop_at_an_overflow() {
        let mut s = Sum::Int(1);
        assert_eq!(s.add_col(&Col::Int(vec![2, 3]), 0), Ok(()));
        assert_eq!(s, Sum::Int(6));
        assert_eq!(
            s.add_col(&Col::Any(vec![KVal::Int(1), KVal::Float(0.5)]), 0),
            Ok(())
        );
        assert_eq!(s, Sum::Float(7.5));
        let mut big = Sum::Int(i64::MAX - 1);
        assert_eq!(big.add_col(&Col::Int(vec![1, 1, 1]), 0), Err(1));
        assert_eq!(big, Sum::Int(i64::MAX));
        let mut f = Sum::Float(0.0);
        assert_eq!(f.add_col(&Col::Bool(vec![true]), 0), Err(0));
    }

    #[test]
    fn a_piece_folded_on_a_thread_is_taken_only_below_two_to_the_62() {
        let folded = |count, sum| Outputs::Folded { count, sum };
        let mut f = Fold::new(FoldKind::Sum);
        assert!(f.absorb(&folded(3, 10)));
        assert!(f.absorb(&folded(2, (1 << 62) - 1)));
        assert_eq!((f.sum, f.count), (Sum::Int((1 << 62) + 9), 5));
        // The running sum is past 2^62: a prefix of the next piece could pass 2^63.
        assert!(!f.absorb(&folded(1, 1)));
        assert_eq!((f.sum, f.count), (Sum::Int((1 << 62) + 9), 5));
        let mut float = Fold::new(FoldKind::Sum);
        float.sum = Sum::Float(0.5);
        assert!(!float.absorb(&folded(1, 1)));
        let mut c = Fold::new(FoldKind::Count);
        assert!(c.absorb(&folded(7, 0)));
        assert_eq!(c.count, 7);
    }

    #[test]
    fn a_fold_takes_a_batch_whole_or_not_at_all() {
        let mut f = Fold::new(FoldKind::Sum);
        assert!(f.absorb(&Outputs::Values(Col::Int(vec![1, 2]))));
        assert!(!f.absorb(&Outputs::Values(Col::Int(vec![i64::MAX, 1]))));
        assert!(!f.absorb(&Outputs::Positions(vec![0, 1])));
        assert!(f.absorb(&Outputs::Positions(vec![])));
        assert_eq!((f.sum, f.count), (Sum::Int(3), 2));
        let mut r = Fold::new(FoldKind::Sum);
        assert!(r.absorb_range(&Outputs::Positions(vec![0, 2]), 10));
        assert_eq!((r.sum, r.count), (Sum::Int(22), 2));
        assert!(!r.absorb_range(&Outputs::Positions(vec![0]), i64::MAX));
        assert_eq!((r.sum, r.count), (Sum::Int(22), 2));
        let mut c = Fold::new(FoldKind::Count);
        assert!(c.absorb(&Outputs::Positions(vec![0, 4, 9])));
        assert!(c.absorb(&Outputs::Values(Col::Bool(vec![false]))));
        assert_eq!(c.count, 4);
    }
}
