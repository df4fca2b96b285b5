//! Opening a heap and committing to it: the part of the pager the invariants below rest on.
//!
//! A commit writes every page changed since the last one to pages the last commit does not
//! use, syncs, then writes the *other* superblock slot with a higher sequence number and a
//! crc32, and syncs again. Opening takes the valid slot with the higher sequence number, so
//! a crash at any moment leaves the last commit (or, if the newest superblock never became
//! durable, the one before) intact.
//!
//! Invariants (docs/heap-format.md, "Invariants", says how each is kept and checked):
//! 1. No page the last durable commit uses is written before it is replaced
//!    (`Pager::page_mut` refuses any page but this transaction's own).
//! 2. Pages freed by commit N are reused only once N is durable.
//! 3. A superblock names only pages whose sequence number is at most its own.
//! 4. The superblock's written count and hash cover every page above its base sequence
//!    (recomputed by the commit check at open, not asserted here).
//! 5. Pages freed by commit N are not reused while a live reader pins a commit older
//!    than N (pins.rs; readers pin through the reader table in page 0, readers.rs).
//!
//! Debug builds assert parts of 1 to 3 as they go: no page allocated twice, no page
//! sealed with a later sequence, and after each commit a free list with no page twice
//! whose blocked pages (waiting for a sync or held for a reader) are all on it.

use super::{Block, OpenReport, Pager, Stats, TxnState};
use crate::error::{HeapError, HeapResult, IdSet};
use crate::page::{page_seq, written_mix};
use crate::page_view::PageBits;
use crate::storage::{PAGE_SIZE, Storage};
use crate::superblock::{MAGIC, Meta, SUPERBLOCK_LEN};

impl Pager {
    /// Open storage: an empty one becomes a new heap.
    pub fn open(store: Box<dyn Storage>, writable: bool) -> HeapResult<(Pager, OpenReport)> {
        Pager::open_checked(store, writable, &mut |_| Ok(()))
    }

    /// Open, accepting a commit only when `check` passes on it: a commit whose pages are
    /// damaged gives way to the one before it, if that one is sound.
    pub fn open_checked(
        store: Box<dyn Storage>,
        writable: bool,
        check: &mut dyn FnMut(&mut Pager) -> HeapResult<()>,
    ) -> HeapResult<(Pager, OpenReport)> {
        let mut pager = Pager {
            store,
            committed: TxnState::default(),
            slot: 1,
            durable_slot: 1,
            durable_seq: 0,
            stack: Default::default(),
            open_sync_due: false,
            open_check_due: false,
            freelist_damage: None,
            txn: TxnState::default(),
            fresh: IdSet::default(),
            savepoints: Vec::new(),
            verified: PageBits::default(),
            touched: 0,
            recent: Vec::new(),
            next_run: 0,
            sync_every: 1,
            sync_interval: std::time::Duration::ZERO,
            last_sync: std::time::Instant::now(),
            commits_since_sync: 0,
            durability_code: 0,
            writable,
            stats: Stats::default(),
            failed: false,
            nodes: Default::default(),
        };
        let mut report = OpenReport {
            fell_back: false,
            was_new: false,
            pinned: false,
        };
        // A reader pins the commit it opens (pins.rs).
        let pinned = if writable { None } else { pager.pin_newest() };
        report.pinned = pinned.is_some();
        let [a, b] = match pinned {
            Some(slots) => slots,
            None => pager.read_slots(),
        };
        // The writer grows the file before it writes a superblock: a reader's view grown
        // now holds every page of the commits it just read.
        if !writable {
            pager.store.refresh().map_err(HeapError::Io)?;
        }
        if matches!(a, Err(HeapError::NotAHeap)) || matches!(b, Err(HeapError::NotAHeap)) {
            return Err(HeapError::NotAHeap);
        }
        if let Err(HeapError::Version(v)) = a {
            return Err(HeapError::Version(v));
        }
        if let Err(HeapError::Version(v)) = b {
            return Err(HeapError::Version(v));
        }
        let mut candidates: Vec<(u64, Meta)> = Vec::new();
        let mut first_error = None;
        for (s, r) in [(0u64, a), (1, b)] {
            match r {
                Ok(Some(m)) => candidates.push((s, m)),
                Ok(None) => {}
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        candidates.sort_by_key(|(_, m)| std::cmp::Reverse(m.sequence));
        let mut chosen = None;
        let mut last_error = first_error.clone();
        for (i, (s, m)) in candidates.iter().enumerate() {
            match pager.adopt(*s, *m).and_then(|()| check(&mut pager)) {
                Ok(()) => {
                    chosen = Some(*s);
                    // A damaged slot counts as a fall-back only when it was not the older
                    // one (its sequence is unknown: assume newer unless the other slot was
                    // never written).
                    report.fell_back = i > 0 || (first_error.is_some() && candidates.len() == 1);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        match chosen {
            Some(_) => {}
            None if candidates.is_empty() && first_error.is_none() => {
                // A new heap (or a 0-byte file): nothing committed yet.
                let len = pager.store.byte_len();
                if len > 0 && len < 2 * PAGE_SIZE as u64 {
                    // Too short to hold both superblocks: a heap cut short, or not a heap.
                    return Err(
                        if pager.store.page_count() > 0 && &pager.store.read(0)[..8] == MAGIC {
                            HeapError::corrupt(0, "heap file truncated")
                        } else {
                            HeapError::NotAHeap
                        },
                    );
                }
                report.was_new = true;
                pager.committed.meta = Meta {
                    page_count: 2,
                    next_id: 1,
                    ..Meta::default()
                };
                pager.stack = Default::default();
                pager.txn = pager.committed.clone();
            }
            None => {
                return Err(
                    last_error.unwrap_or_else(|| HeapError::corrupt(0, "no valid superblock"))
                );
            }
        }
        // A commit made without a sync may not be on disk yet. Its pages, and the free
        // pages an older commit may still use, must be on disk before any of those is
        // reused (`take_free`) or a commit counts on them (`commit_inner`): the sync is
        // due then, not now, so that opening costs none.
        pager.open_sync_due = writable && !report.was_new && pager.committed.meta.durability != 0;
        pager.open_check_due = writable && !report.was_new;
        // What was opened (and checked) is the base from here on. (When its writer did
        // not sync, the next commit syncs before its superblock, so no commit counts on
        // it being durable before it is.)
        pager.mark_durable();
        if writable {
            let pin = pager.oldest_reader();
            let entries = std::mem::take(&mut pager.stack.entries);
            pager.committed.hold_free_list(&entries, pin);
            pager.stack.entries = entries;
            pager.txn = pager.next_txn();
        }
        Ok((pager, report))
    }

    /// Take a superblock as the current commit: check its numbers and load its free list.
    fn adopt(&mut self, slot: u64, meta: Meta) -> HeapResult<()> {
        meta.check_fields(slot, self.store.page_count())?;
        self.committed.meta = meta;
        self.verified.clear();
        // A free list that does not add up is no reason to use an older commit (whose
        // slot the next commit would then overwrite): the writer refuses instead. A torn
        // commit's chain fails the commit check, which reads every chain page.
        self.stack = match self.read_freelist(meta.freelist_head, meta.freelist_len) {
            Ok(read) => {
                self.freelist_damage = None;
                read
            }
            Err(e) => {
                self.freelist_damage = Some(e);
                Default::default()
            }
        };
        self.committed = TxnState {
            meta,
            low: self.stack.entries.len(),
            ..TxnState::default()
        };
        self.slot = slot;
        self.durable_slot = slot;
        self.txn = self.next_txn();
        Ok(())
    }

    /// A new transaction starting from the last commit (carrying its count of pages not
    /// yet durable).
    pub(super) fn next_txn(&self) -> TxnState {
        self.committed.clone()
    }

    /// Every page so far is on disk: nothing needs counting any more.
    fn mark_durable(&mut self) {
        self.durable_seq = self.committed.meta.sequence;
        for meta in [&mut self.committed.meta, &mut self.txn.meta] {
            meta.written_count = 0;
            meta.written_hash = 0;
        }
    }

    /// Seal the pages written so far: a savepoint (or commit) must see them unchanged.
    pub(super) fn seal(&mut self) -> HeapResult<()> {
        for (page, node) in self.nodes.take_dirty() {
            crate::node::write_page(self.page_mut(page)?, &node);
        }
        let next_seq = self.committed.meta.sequence + 1;
        let mut fresh: Vec<u64> = self.fresh.drain().collect();
        self.recent.clear();
        fresh.sort_unstable();
        for page in fresh {
            self.note_touched();
            let buf = self.store.read(page);
            // Invariant 3: no page the next commit names is from a later commit. (Not `==`:
            // the fault-injecting test storage may have dropped the page's bytes.)
            debug_assert!(
                page_seq(buf) <= next_seq,
                "page {page} carries a sequence newer than commit {next_seq}"
            );
            let crc = crc32fast::hash(&buf[8..]);
            // Written only when it changed: `sign_recent` stored most checksums of a
            // large transaction already (a write here may fault, a read is cheap).
            if buf[4..8] != crc.to_le_bytes() {
                let buf = self.store.write(page).map_err(HeapError::Io)?;
                buf[4..8].copy_from_slice(&crc.to_le_bytes());
            }
            self.txn.sealed.insert(page);
            self.stats.pages_written += 1;
            self.txn.meta.written_count += 1;
            self.txn.meta.written_hash = self
                .txn
                .meta
                .written_hash
                .wrapping_add(written_mix(page, crc));
        }
        Ok(())
    }

    /// Make the current state the new durable commit.
    pub fn commit(&mut self) -> HeapResult<()> {
        if !self.writable {
            return Err(HeapError::ReadOnly);
        }
        if self.failed {
            return Err(HeapError::Io(std::io::Error::other(
                "an earlier write to the heap failed; reopen it before committing again",
            )));
        }
        let result = self.commit_inner();
        // A failed write or sync leaves the disk in an unknown state (the superblock may
        // have landed): no further commit may build on what this process believes.
        self.failed = result.is_err();
        result
    }

    fn commit_inner(&mut self) -> HeapResult<()> {
        self.check_opened()?;
        // The free list written below must name every page not in use (runs.rs).
        self.release_runs();
        self.store.grow(2).map_err(HeapError::Io)?;
        // Every commit point gets a sequence number; one that changed nothing writes only
        // its superblock (no pages, and its data sync has nothing to flush).
        // A transaction that took pages off the stack and gave them all back (a run reserved
        // and not used) still rewrites the list: the stack's top is no longer its own.
        let written = if self.is_dirty()
            || self.txn.listed() != self.stack.entries.len()
            || self.txn.low != self.stack.entries.len()
        {
            let written = self.write_freelist()?;
            self.seal()?;
            Some(written)
        } else {
            None
        };
        self.txn.meta.sequence = self.committed.meta.sequence + 1;
        self.txn.meta.durability = self.durability_code;
        self.txn.meta.commit_millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.commits_since_sync += 1;
        // A heap's first commit always syncs (unless `async`), so a power cut always finds a
        // durable commit to fall back to.
        let first = self.committed.meta.sequence == 0;
        // So does the first after opening a heap whose last writer did not sync: the
        // commit it opened is the base this one's page count starts from.
        let sync_now = match self.sync_every {
            0 => false,
            n => {
                first
                    || self.open_sync_due
                    || self.commits_since_sync >= n
                    || self.last_sync.elapsed() >= self.sync_interval
            }
        };
        if sync_now {
            self.sync_store()?;
        }
        // A commit whose pages are synced before its superblock (or an `async` one, which
        // promises nothing on power loss) needs no page count.
        let counted = !(sync_now || self.sync_every == 0);
        self.txn.meta.base_seq = if counted {
            self.durable_seq
        } else {
            self.txn.meta.written_count = 0;
            self.txn.meta.written_hash = 0;
            self.txn.meta.sequence
        };
        let slot = 1 - self.durable_slot;
        // Never write a superblock that opening would reject (a sequence or next object id
        // at its ceiling): the commit fails here instead of vanishing at the next open.
        self.txn.meta.check_fields(slot, self.store.page_count())?;
        let bytes = self.txn.meta.encode();
        self.store
            .write_at_once(slot, &bytes[..SUPERBLOCK_LEN])
            .map_err(HeapError::Io)?;
        if sync_now {
            self.sync_store()?;
            self.commits_since_sync = 0;
            self.last_sync = std::time::Instant::now();
        }
        self.slot = slot;
        self.stats.commits += 1;
        if sync_now || self.sync_every == 0 {
            self.durable_slot = slot;
            // Durable (or `async`, which promises only to survive a process crash, for
            // which written is enough): what this and earlier commits freed is reusable.
            // Invariant 5: unless a reader still holds an older commit.
            let pin = self.oldest_reader();
            let seq = self.txn.meta.sequence;
            self.txn.release_unsynced(seq, pin);
            let pending = std::mem::take(&mut self.txn.pending);
            self.txn.make_reusable(&pending, seq, pin);
            self.txn.pending = pending;
            self.txn.release_held(pin);
        } else {
            let blocked = &mut self.txn.blocked;
            blocked.extend(self.txn.pending.iter().map(|&p| (p, Block::Unsynced)));
        }
        if let Some(written) = written {
            self.apply_freelist(written);
        }
        self.txn.sealed.clear();
        #[cfg(debug_assertions)]
        self.debug_check_free_lists();
        self.committed = self.txn.clone();
        if !counted {
            self.durable_seq = self.txn.meta.sequence;
        }
        self.savepoints.clear();
        Ok(())
    }

    /// Invariants 1 and 2, checked after every commit in debug builds: the free list
    /// holds no page twice, and every page it lists as reusable is neither waiting for the
    /// commit that freed it (or for that commit to become durable) nor held for a reader.
    #[cfg(debug_assertions)]
    fn debug_check_free_lists(&self) {
        assert_eq!(
            self.txn.low,
            self.stack.entries.len(),
            "a commit left the stack taken"
        );
        let mut listed = IdSet::default();
        for &p in &self.stack.entries {
            assert!(listed.insert(p), "page {p} is listed free twice");
        }
        for p in self.txn.blocked.keys() {
            assert!(listed.contains(p), "blocked page {p} is not listed free");
        }
        let counted: usize = self.stack.pages.iter().map(|&(_, c)| c).sum();
        assert_eq!(
            counted,
            self.stack.entries.len(),
            "free-list chain miscounted"
        );
    }

    /// Force every commit so far to stable storage (`batched` mode's timer, and close).
    pub fn sync(&mut self) -> HeapResult<()> {
        // `async` (sync_every 0) never syncs, not even at close.
        if self.writable && self.sync_every > 0 && self.commits_since_sync > 0 {
            self.sync_store()?;
            self.commits_since_sync = 0;
            self.last_sync = std::time::Instant::now();
            self.durable_slot = self.slot;
            if self.txn.sealed.is_empty() && self.fresh.is_empty() && self.savepoints.is_empty() {
                self.mark_durable();
            }
            let pin = self.oldest_reader();
            let seq = self.committed.meta.sequence;
            for state in [&mut self.txn, &mut self.committed] {
                state.release_unsynced(seq, pin);
            }
        }
        Ok(())
    }

    /// Sync the storage (everything written so far reaches the disk).
    pub(super) fn sync_store(&mut self) -> HeapResult<()> {
        self.store.sync().map_err(HeapError::Io)?;
        self.open_sync_due = false;
        Ok(())
    }

    /// The superblock slot (page 0 or 1) holding the last commit, for messages.
    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// Why the last commit's free list could not be read, if it could not.
    pub fn freelist_damage(&self) -> Option<&HeapError> {
        self.freelist_damage.as_ref()
    }

    /// The last commit's free pages (reusable or held for a reader: both are in the
    /// written list) and the pages of its free-list chain (for `verify` and the writer's
    /// open-time check).
    pub fn freelist_pages(&self) -> (&[u64], Vec<u64>) {
        (&self.stack.entries, self.stack.chain())
    }
}
