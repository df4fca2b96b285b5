//! The free list as a stack of chain pages, written incrementally.
//!
//! On disk the free list is a chain of pages, each holding up to [`FREE_PER_PAGE`] page
//! numbers and the number of the next page (docs/heap-format.md). In memory the pager keeps
//! the last commit's list as one stack ([`FreeStack`]): the entries bottom first, and the
//! chain pages holding them, bottom first, the head of the chain (the superblock's
//! `freelist_head`) on top. A transaction takes free pages from the top of the stack and a
//! commit pushes the pages it frees onto the top, so a commit rewrites (copy on write) only
//! the chain pages from the lowest entry it took up to the new top: O(pages taken and
//! freed), not O(free list). A transaction never changes the stack itself; it records how
//! far down it took entries (`TxnState::low`), so savepoints and rollbacks cost nothing
//! here, and the commit applies the change once its superblock is written.
//!
//! Not every listed page is reusable: pages waiting for a sync (`batched`) or held for a
//! reader are *blocked* (`TxnState::blocked`). A transaction that meets blocked entries on
//! its way down carries them to the next commit's top, and gives up after
//! [`DIG_LIMIT`] of them (growing the file instead), so that a long-lived reader or a long
//! stretch of unsynced commits costs each commit at most a few pages of the chain.

use super::{Pager, TxnState};
use crate::error::{HeapError, HeapResult};
use crate::page::{HEADER_LEN, PageKind, read_u64};
use crate::storage::PAGE_SIZE;

pub(super) const FREE_AT: usize = HEADER_LEN + 8;
pub(super) const FREE_PER_PAGE: usize = (PAGE_SIZE - FREE_AT) / 8;
/// Blocked entries a transaction carries off the stack before it stops looking for a
/// reusable one below them (a few chain pages: more than a `batched` writer's commits
/// free between two syncs, as a rule).
const DIG_LIMIT: usize = 4 * FREE_PER_PAGE;

/// Why a listed page is not reusable yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Block {
    /// Freed by a commit not yet synced (`batched`): a power cut could bring back the
    /// commit that uses it.
    Unsynced,
    /// Freed by commit `.0`, which a live reader's older commit may still read.
    Held(u64),
}

/// The last commit's free list (see the module comment).
#[derive(Default)]
pub(super) struct FreeStack {
    /// Every page the last commit lists as free, bottom of the stack first.
    pub(super) entries: Vec<u64>,
    /// The chain pages holding them, bottom first, with how many entries each holds: page
    /// `j` holds the entries after those of the pages below it.
    pub(super) pages: Vec<(u64, usize)>,
}

impl FreeStack {
    /// How many chain pages (from the bottom) hold only entries below `low`, and how many
    /// entries those pages hold: they stay as they are when the entries below `low` do.
    fn kept(&self, low: usize) -> (usize, usize) {
        let mut entries = 0;
        for (j, &(_, count)) in self.pages.iter().enumerate() {
            if entries + count > low {
                return (j, entries);
            }
            entries += count;
        }
        (self.pages.len(), entries)
    }

    /// The chain's page numbers, bottom first.
    pub(super) fn chain(&self) -> Vec<u64> {
        self.pages.iter().map(|&(p, _)| p).collect()
    }
}

/// What a commit's free-list write changed, applied to the stack once the commit landed.
pub(super) struct Written {
    /// Chain pages and entries kept from the bottom.
    keep_pages: usize,
    keep_entries: usize,
    /// The entries above them, bottom first, and the new chain pages holding them.
    tail: Vec<u64>,
    pages: Vec<(u64, usize)>,
}

impl TxnState {
    /// Pages listed by the next commit: the stack below `low` and what this transaction
    /// put above it.
    pub(super) fn listed(&self) -> usize {
        self.low + self.carried.len() + self.pending.len() + self.free.len()
    }
}

impl Pager {
    /// A free page to reuse, if there is one: first one this transaction freed itself,
    /// then the top of the stack.
    pub(super) fn take_free(&mut self) -> HeapResult<Option<u64>> {
        if let Some(p) = self.txn.free.pop() {
            return Ok(Some(p));
        }
        while self.txn.low > 0 && self.txn.carried.len() < DIG_LIMIT {
            // The opened commit may not be durable yet (its writer did not sync), and an
            // older one a power cut would fall back to may use the pages it lists as free:
            // sync once before the first is reused (not at open, which then costs no sync).
            if self.open_sync_due {
                self.sync_store()?;
            }
            self.txn.low -= 1;
            let Some(&p) = self.stack.entries.get(self.txn.low) else {
                return Ok(None);
            };
            if self.txn.blocked.contains_key(&p) {
                self.txn.carried.push(p);
                continue;
            }
            return Ok(Some(p));
        }
        Ok(None)
    }

    /// Write the free list of the state being committed: the stack entries kept, then the
    /// pages this transaction carried, freed or did not use (all free once this commit is
    /// durable). Only the chain pages above the lowest entry taken are rewritten.
    pub(super) fn write_freelist(&mut self) -> HeapResult<Written> {
        let mut freed_from = self.stack.pages.len();
        let mut fresh = Vec::new();
        let (keep_pages, keep_entries) = loop {
            let (keep_pages, keep_entries) = self.stack.kept(self.txn.low);
            // The chain pages above those kept belong to the last commit: freed after this
            // one (so they are listed in the pages written here).
            for j in keep_pages..freed_from {
                let page = self.stack.pages[j].0;
                self.free(page);
            }
            freed_from = freed_from.min(keep_pages);
            let tail = self.txn.listed() - keep_entries;
            if fresh.len() >= tail.div_ceil(FREE_PER_PAGE) {
                break (keep_pages, keep_entries);
            }
            // May take an entry off the stack (lowering `low`) or one this transaction
            // freed: the loop measures again.
            fresh.push(self.allocate(PageKind::FreeList)?);
        };
        // The pages this transaction freed are listed with the lowest on top, so that the
        // next transactions hand them out lowest first and adjacent ones come off as one run (runs.rs): the
        // copies an update pass makes fill the pages the pass before freed in the order it
        // freed them, not in reverse. Each group stays where it was: `pending` may be
        // blocked (waiting for a sync or held for a reader), `free` never is, and digging
        // for reusable pages meets the unblocked ones first.
        self.txn.pending.sort_unstable_by(|a, b| b.cmp(a));
        self.txn.free.sort_unstable_by(|a, b| b.cmp(a));
        let mut tail = Vec::with_capacity(self.txn.listed() - keep_entries);
        tail.extend_from_slice(&self.stack.entries[keep_entries..self.txn.low]);
        tail.extend_from_slice(&self.txn.carried);
        tail.extend_from_slice(&self.txn.pending);
        tail.extend_from_slice(&self.txn.free);
        let mut next = match keep_pages {
            0 => 0,
            n => self.stack.pages[n - 1].0,
        };
        let mut pages = Vec::with_capacity(fresh.len());
        let mut parts = tail.chunks(FREE_PER_PAGE);
        for page in fresh {
            // More pages than entries need (an allocation used up a listed page) leaves
            // the top ones empty: they are rewritten with the next change.
            let part = parts.next().unwrap_or(&[]);
            let buf = self.page_mut(page)?;
            buf[2..4].copy_from_slice(&(part.len() as u16).to_le_bytes());
            buf[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&next.to_le_bytes());
            for (j, p) in part.iter().enumerate() {
                buf[FREE_AT + j * 8..FREE_AT + j * 8 + 8].copy_from_slice(&p.to_le_bytes());
            }
            pages.push((page, part.len()));
            next = page;
        }
        self.txn.meta.freelist_head = next;
        self.txn.meta.freelist_len = (keep_entries + tail.len()) as u64;
        Ok(Written {
            keep_pages,
            keep_entries,
            tail,
            pages,
        })
    }

    /// The commit landed: its free list is the stack now.
    pub(super) fn apply_freelist(&mut self, written: Written) {
        let stack = &mut self.stack;
        stack.entries.truncate(written.keep_entries);
        stack.entries.extend_from_slice(&written.tail);
        stack.pages.truncate(written.keep_pages);
        stack.pages.extend_from_slice(&written.pages);
        self.txn.low = stack.entries.len();
        self.txn.carried.clear();
        self.txn.pending.clear();
        self.txn.free.clear();
    }

    /// Read a commit's free-list chain into a stack (head first on disk, bottom first here).
    pub(super) fn read_freelist(&mut self, head: u64, len: u64) -> HeapResult<FreeStack> {
        let mut pages = Vec::new();
        let mut page = head;
        let limit = self.committed.meta.page_count;
        while page != 0 {
            if pages.len() as u64 > limit {
                return Err(HeapError::corrupt(page, "free list chain loops"));
            }
            let bytes = self.page(page, PageKind::FreeList)?;
            let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
            if count > FREE_PER_PAGE {
                return Err(HeapError::corrupt(page, "free list page count too large"));
            }
            pages.push((page, count));
            page = read_u64(bytes, HEADER_LEN);
        }
        pages.reverse();
        let total: usize = pages.iter().map(|&(_, c)| c).sum();
        if total as u64 != len {
            return Err(HeapError::corrupt(
                head,
                format!("free list holds {total} pages, superblock says {len}"),
            ));
        }
        // Whether the entries can be handed out (in range, listed once, used by nothing)
        // is checked when a writer opens (`reachable.rs`): a reader needs no free list, and
        // the writer refuses rather than fall back to an older commit.
        let mut entries = Vec::with_capacity(total);
        for &(page, count) in &pages {
            let bytes = self.store.read(page);
            entries.extend((0..count).map(|i| read_u64(bytes, FREE_AT + i * 8)));
        }
        Ok(FreeStack { entries, pages })
    }
}
