//! Runs of consecutive pages for one writer (a table segment's data pages).
//!
//! A scan of one column reads its data pages in page-index order. Allocated one at a time,
//! the pages of a table's columns and key index interleave in the file (an import of three
//! columns put each column's pages about five apart), and a fused scan over one column ran
//! about three times slower than over consecutive pages. So a segment reserves a run of
//! consecutive pages ([`Pager::allocate_run`]) and takes its next new page from it
//! ([`Pager::allocate_from`]).
//!
//! A reserved page is not allocated: it is neither fresh nor written until it is handed
//! out, so an unused one costs nothing but its place on the free list. Reservations are
//! part of the transaction state (`TxnState::runs`): a rollback to a savepoint or to the
//! last commit restores the page count and free list they came from, and drops them with
//! it. Whatever is still reserved at a savepoint or commit goes back to this transaction's
//! free pages first ([`Pager::release_runs`]): a savepoint's sealed state and a commit's
//! free list must account for every page. Runs are named by an id that is never reused,
//! so a writer holding the id of a run that a rollback or savepoint took back gets `None`
//! from [`Pager::allocate_from`] and reserves a new one, never a page another holds.

use super::Pager;
use crate::error::{HeapError, HeapResult};
use crate::page::PageKind;

/// A reservation made by [`Pager::allocate_run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunId(u64);

/// The pages `next..end` of a reservation, not handed out yet.
#[derive(Clone, Debug)]
pub(super) struct Run {
    id: u64,
    next: u64,
    end: u64,
}

impl Pager {
    /// Allocate a page of `kind` and reserve up to `n - 1` pages right after it for
    /// [`Pager::allocate_from`]. The run is the longest consecutive one (at most `n`) on
    /// top of the pages free to this transaction, as [`Pager::allocate`] would take them;
    /// only when none is free does the file grow, by `n` pages at once. So a run never
    /// grows the file while a free page is left, and a free list of short runs gives
    /// short runs.
    pub fn allocate_run(&mut self, kind: PageKind, n: u64) -> HeapResult<(u64, RunId)> {
        if !self.writable {
            return Err(HeapError::ReadOnly);
        }
        self.check_opened()?;
        let n = n.max(1);
        let (start, len) = match self.take_free_run(n)? {
            Some(run) => run,
            None => (self.grow_by(n)?, n),
        };
        let id = self.next_run;
        self.next_run += 1;
        if len > 1 {
            self.txn.runs.push(Run {
                id,
                next: start + 1,
                end: start + len,
            });
        }
        Ok((self.init_page(start, kind)?, RunId(id)))
    }

    /// The next page of a run, allocated as `kind`; `None` when the run is used up or was
    /// taken back (by a savepoint, commit or rollback since it was reserved).
    pub fn allocate_from(&mut self, run: RunId, kind: PageKind) -> HeapResult<Option<u64>> {
        let Some(i) = self.txn.runs.iter().position(|r| r.id == run.0) else {
            return Ok(None);
        };
        let r = &mut self.txn.runs[i];
        let page = r.next;
        r.next += 1;
        if r.next >= r.end {
            self.txn.runs.swap_remove(i);
        }
        self.init_page(page, kind).map(Some)
    }

    /// Return the pages of a run not handed out (nothing when it is gone already).
    pub fn release_run(&mut self, run: RunId) {
        if let Some(i) = self.txn.runs.iter().position(|r| r.id == run.0) {
            let r = self.txn.runs.swap_remove(i);
            self.give_back(r);
        }
    }

    /// Return every reservation (before a savepoint or commit: see the module comment).
    pub(super) fn release_runs(&mut self) {
        for r in std::mem::take(&mut self.txn.runs) {
            self.give_back(r);
        }
    }

    fn give_back(&mut self, r: Run) {
        // Never written, so reusable at once, like a fresh page freed. Pushed highest
        // first so that `take_free` hands them out in ascending order.
        self.txn.free.extend((r.next..r.end).rev());
    }

    /// The longest run of consecutive page numbers (at most `n`, in either order) on top
    /// of this transaction's freed pages, else on top of the stack (`take_free` finds the
    /// first reusable page; the run stops at a blocked one): `(first page, length)`.
    fn take_free_run(&mut self, n: u64) -> HeapResult<Option<(u64, u64)>> {
        if let Some(&top) = self.txn.free.last() {
            let mut run = Consecutive::new(top);
            let free = &self.txn.free;
            let mut taken = 1;
            while run.len() < n && taken < free.len() && run.extend(free[free.len() - 1 - taken]) {
                taken += 1;
            }
            self.txn.free.truncate(self.txn.free.len() - taken);
            return Ok(Some((run.lo, run.len())));
        }
        let Some(first) = self.take_free()? else {
            return Ok(None);
        };
        let mut run = Consecutive::new(first);
        while run.len() < n && self.txn.low > 0 {
            let Some(&p) = self.stack.entries.get(self.txn.low - 1) else {
                break;
            };
            if self.txn.blocked.contains_key(&p) || !run.extend(p) {
                break;
            }
            self.txn.low -= 1;
        }
        Ok(Some((run.lo, run.len())))
    }
}

/// Page numbers `lo..=hi` met one at a time, each adjacent to the last (rising or falling).
struct Consecutive {
    lo: u64,
    hi: u64,
    /// 1 rising, -1 falling, 0 not known yet (one page).
    dir: i8,
}

impl Consecutive {
    fn new(page: u64) -> Consecutive {
        Consecutive {
            lo: page,
            hi: page,
            dir: 0,
        }
    }

    fn len(&self) -> u64 {
        self.hi - self.lo + 1
    }

    /// Take `page` if it continues the run.
    fn extend(&mut self, page: u64) -> bool {
        if self.dir >= 0 && Some(page) == self.hi.checked_add(1) {
            self.hi = page;
            self.dir = 1;
        } else if self.dir <= 0 && page.checked_add(1) == Some(self.lo) {
            self.lo = page;
            self.dir = -1;
        } else {
            return false;
        }
        true
    }
}
