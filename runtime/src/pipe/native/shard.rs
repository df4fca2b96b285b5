//! `parallel(n)` threads and the compiled function: a page (or range chunk) at a time,
//! with no access to the VM.

use super::call;
use crate::kernel::eval::Col;
use crate::native::NativeArgs;
use crate::native::ir::{Sink, Ty};
use crate::native::{OK, presence_masks};
use walia_store::column_page::{self, BITMAP_AT, VALUES_AT};

/// Plan fields a `parallel(n)` thread's call can pass (more: the kernels run the page).
pub(crate) const MAX_SHARD_FIELDS: usize = 32;

/// A compiled function that `parallel(n)` threads call on their pages or chunks: its
/// sink hands out the elements, which the block folds or joins in source order as the
/// kernels' outputs.
#[derive(Clone, Copy)]
pub(crate) struct ShardCode<'a> {
    pub(super) entry: crate::native::PipeFn,
    pub(super) consts: &'a [u64],
    pub(super) sink: Sink,
    pub(super) read_fields: &'a [u16],
    /// The code counts the elements that come out (else every element read does).
    pub(super) counts_itself: bool,
}

impl ShardCode<'_> {
    /// Run rows `first..end` of one page (`columns[f]`: plan field `f`'s page, `dead`:
    /// the deletion marks), or the numbers `start..start + end` of a range (`columns`
    /// empty); `None` when the kernels must run it (a nil in a column read, or a bail).
    pub fn run(
        &self,
        columns: &[Option<&[u8]>],
        dead: Option<&[u8]>,
        (first, end): (usize, usize),
        start: i64,
    ) -> Option<crate::kernel::eval::Outputs> {
        // A read column never written is all nil: the kernels run the page. (The code
        // checks the presence bits of the others.)
        for f in self.read_fields {
            (*columns.get(*f as usize)?)?;
        }
        let mut cols = [std::ptr::null::<u64>(); MAX_SHARD_FIELDS];
        if columns.len() > MAX_SHARD_FIELDS {
            return None;
        }
        for (ptr, c) in cols.iter_mut().zip(columns) {
            *ptr = c.map_or(std::ptr::null(), |p| p[VALUES_AT..].as_ptr().cast());
        }
        thread_local! {
            /// Each thread's output buffer, reused from page to page.
            static OUT: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        OUT.with(|buf| {
            let mut out = buf.borrow_mut();
            if out.len() < end {
                out.resize(end, 0);
            }
            self.call_into(&cols, dead, (first, end), start, &mut out)
        })
    }

    fn call_into(
        &self,
        cols: &[*const u64],
        dead: Option<&[u8]>,
        (first, end): (usize, usize),
        start: i64,
        out: &mut [u64],
    ) -> Option<crate::kernel::eval::Outputs> {
        use crate::kernel::eval::Outputs;
        let mut counts = [0i64; 64];
        let masks = presence_masks(first, end);
        let mut args = NativeArgs {
            cols: cols.as_ptr(),
            present: masks.as_ptr(),
            dead: match dead {
                Some(d) if column_page::count_bits(d, first, end) > 0 => d[BITMAP_AT..].as_ptr(),
                _ => std::ptr::null(),
            },
            first: first as u64,
            end: end as u64,
            start,
            consts: self.consts.as_ptr(),
            counts: counts.as_mut_ptr(),
            out: out.as_mut_ptr(),
            ..NativeArgs::empty()
        };
        if call(self.entry, &mut args) != OK {
            return None;
        }
        if matches!(self.sink, Sink::Count | Sink::SumIntBounded) {
            let deleted = match dead {
                Some(d) if !self.counts_itself => column_page::count_bits(d, first, end),
                _ => 0,
            };
            let count = if self.counts_itself {
                args.count
            } else {
                (end - first - deleted) as u64
            };
            return Some(Outputs::Folded {
                count,
                sum: args.acc_int,
            });
        }
        let out = out.get(..args.emitted as usize)?;
        Some(match self.sink {
            Sink::Rows => {
                Outputs::Positions(out.iter().map(|s| (*s as usize - first) as u32).collect())
            }
            Sink::Values(Ty::Int) => {
                Outputs::Values(Col::Int(out.iter().map(|b| *b as i64).collect()))
            }
            Sink::Values(Ty::Float) => {
                Outputs::Values(Col::Float(out.iter().map(|b| f64::from_bits(*b)).collect()))
            }
            Sink::Values(Ty::Bool) => {
                Outputs::Values(Col::Bool(out.iter().map(|b| *b != 0).collect()))
            }
            _ => return None,
        })
    }
}
