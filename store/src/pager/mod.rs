//! Pages and copy-on-write bookkeeping: reading and checking pages, allocating and freeing
//! them, savepoints and rollback. Opening and committing are in [`commit`](self::commit),
//! with the invariants the whole store rests on.
//!
//! Pages freed by a transaction are reused only after that transaction has committed (and
//! that commit is durable): until then the previous commit may still need them.

mod commit;
mod freelist;
mod pins;
mod runs;

pub use runs::RunId;

use crate::error::{HeapError, HeapResult, IdMap, IdSet};
use crate::node::NodeCache;
use crate::page::{HEADER_LEN, PageKind, check_page, page_seq, written_mix};
use crate::page_view::{PageBits, PageView};
use crate::storage::{PAGE_SIZE, Storage};
use crate::superblock::Meta;
use freelist::{Block, FreeStack};

/// The allocation state that a savepoint captures and a rollback restores. Small: the
/// free list itself is the pager's [`FreeStack`], which only a commit changes.
#[derive(Clone, Default)]
struct TxnState {
    meta: Meta,
    /// The stack's entries below this index are listed unchanged; this transaction took
    /// (allocated, or carried when blocked) those above it.
    low: usize,
    /// Reusable pages not on the stack below `low`: freed by this transaction after it
    /// allocated them.
    free: Vec<u64>,
    /// Pages freed by this transaction: the last commit still uses them.
    pending: Vec<u64>,
    /// Blocked pages taken off the stack: listed again by the next commit.
    carried: Vec<u64>,
    /// Listed pages that are not reusable yet, and why (on the stack below `low` or in
    /// `carried`). Pages freed by commits not yet synced (`batched`), and pages a reader of
    /// an older commit may still read (invariant 5: reusable once no live reader pins a
    /// commit older than the one that freed them, readers.rs).
    blocked: IdMap<Block>,
    /// Pages allocated by this transaction before the last savepoint: part of the
    /// savepoint's state, so they are copied on write like committed pages.
    sealed: IdSet,
    /// Pages reserved for writers that want them consecutive and not handed out yet
    /// (runs.rs): none at a savepoint or commit.
    runs: Vec<runs::Run>,
}

/// What `open` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenReport {
    /// A newer superblock was damaged and an older commit was used.
    pub fell_back: bool,
    pub was_new: bool,
    /// A reader pinned the commit it opened: no writer reuses its pages meanwhile.
    pub pinned: bool,
}

pub struct Pager {
    store: Box<dyn Storage>,
    /// The last durable commit, and which slot (page 0 or 1) holds it.
    committed: TxnState,
    slot: u64,
    /// The slot holding the last commit known to be on disk. Commits are written to the
    /// other slot, so an unsynced (`batched`) commit never overwrites the superblock that a
    /// power cut would fall back to.
    durable_slot: u64,
    /// The sequence of the newest commit whose pages are on disk.
    durable_seq: u64,
    /// The last commit's free list (freelist.rs).
    stack: FreeStack,
    /// The last writer did not sync its last commit, and nothing has synced since this
    /// pager opened: sync before the first page that commit lists as free is reused (and
    /// before a commit that would count on it being durable).
    open_sync_due: bool,
    /// A writer has not yet checked the opened commit's free list and page accounting
    /// (`reachable::check_for_writer`). It does before it takes its first page or makes
    /// its first commit, not at open: reading, as a resumed pipe's first element does,
    /// needs no check, and at 10M rows it reads ~250 scattered pages (~1.2 ms).
    open_check_due: bool,
    /// Why the last commit's free list could not be read (then it is taken as empty): a
    /// reader needs none, a writer refuses to open (`reachable::check_for_writer`).
    freelist_damage: Option<HeapError>,
    txn: TxnState,
    /// Pages allocated since the last savepoint: written in place until the next seal.
    fresh: IdSet,
    /// Nested savepoints, innermost last.
    savepoints: Vec<(TxnState, IdSet)>,
    /// Committed pages whose checksum this process has already checked.
    verified: PageBits,
    /// Sync data and superblock at each commit (`immediate`); otherwise every Nth commit.
    pub sync_every: u32,
    /// ... or when this much time has passed since the last sync.
    pub sync_interval: std::time::Duration,
    last_sync: std::time::Instant,
    commits_since_sync: u32,
    pub durability_code: u32,
    pub writable: bool,
    pub stats: Stats,
    /// A commit failed part-way: refuse further commits.
    failed: bool,
    /// Decoded catalog index nodes (the btree module reads and fills it; the pager
    /// encodes the changed ones into their pages when it seals them).
    pub(crate) nodes: NodeCache,
    /// Pages first read or allocated since resident memory was last released.
    touched: u64,
    /// Pages allocated since resident memory was last released (see `sign_recent`).
    recent: Vec<u64>,
    /// The id of the next run reserved (runs.rs): never reused, not even by a rollback.
    next_run: u64,
}

/// After this many newly touched pages (8 MiB; the kernel maps neighbouring pages along
/// with each one touched, so residency runs a few times higher) the storage may drop its
/// resident copies, so that scanning or importing a table far larger than memory keeps a
/// bounded RSS.
pub const RELEASE_EVERY: u64 = 2048;

/// Counters for the benchmarks (`WALIA_HEAP_STATS=1` prints them at exit).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub commits: u64,
    /// Pages written (each once per commit or savepoint, however often it changed).
    pub pages_written: u64,
}

impl Pager {
    #[inline]
    pub fn meta(&self) -> &Meta {
        &self.txn.meta
    }

    #[inline]
    pub fn meta_mut(&mut self) -> &mut Meta {
        &mut self.txn.meta
    }

    #[inline]
    pub fn committed_meta(&self) -> &Meta {
        &self.committed.meta
    }

    pub fn syncs(&self) -> u64 {
        self.store.syncs()
    }

    pub fn file_pages(&self) -> u64 {
        self.store.page_count()
    }

    pub fn free_pages(&self) -> usize {
        self.txn.listed()
    }

    /// Is anything uncommitted?
    pub fn is_dirty(&self) -> bool {
        self.txn.meta != self.committed.meta
            || !self.fresh.is_empty()
            || !self.txn.sealed.is_empty()
            || !self.txn.pending.is_empty()
    }

    /// A page of the expected kind, its number, length and checksum validated.
    #[inline]
    pub fn page(&mut self, page: u64, kind: PageKind) -> HeapResult<&[u8]> {
        Ok(self.page_of(page, &[kind])?.1)
    }

    /// A page of one of the accepted kinds, validated; with the kind it has.
    #[inline]
    pub fn page_of(&mut self, page: u64, accept: &[PageKind]) -> HeapResult<(PageKind, &[u8])> {
        let kind = accept[0];
        if page < 2 || page >= self.txn.meta.page_count.max(self.committed.meta.page_count) {
            return Err(HeapError::corrupt(
                page,
                format!("{} page number out of range", kind.name()),
            ));
        }
        if page >= self.store.page_count() {
            return Err(HeapError::corrupt(page, "page beyond the end of the file"));
        }
        let trusted = self.fresh.contains(&page) || self.txn.sealed.contains(&page);
        if !trusted && !self.verified.contains(page) {
            self.note_touched();
            let bytes = self.store.read(page);
            check_page(bytes, page)?;
            self.verified.insert(page);
        }
        let bytes = self.store.read(page);
        match accept.iter().find(|k| **k as u8 == bytes[0]) {
            Some(k) => Ok((*k, bytes)),
            None => Err(HeapError::corrupt(
                page,
                format!("expected a {} page, found kind {}", kind.name(), bytes[0]),
            )),
        }
    }

    /// The bytes of a page already returned by [`Pager::page`] in this transaction (so
    /// validated): many can be held at once, for reading a row range of several columns.
    #[inline]
    pub fn validated(&self, page: u64) -> &[u8] {
        self.store.read(page)
    }

    /// A page's bytes for a reader that checks them itself ([`check_kind`](crate::page::check_kind)) before it
    /// uses what it read, then calls [`Pager::mark_checked`]: `None` when the page
    /// number is out of range. The second value says whether the check is still due.
    #[inline]
    pub fn unchecked(&self, page: u64) -> Option<(&[u8], bool)> {
        self.view().unchecked(page)
    }

    /// What threads other than the pager's own may read ([`PageView`]).
    #[inline]
    pub fn view(&self) -> PageView<'_> {
        PageView {
            store: &*self.store,
            pages: self
                .txn
                .meta
                .page_count
                .max(self.committed.meta.page_count)
                .min(self.store.page_count()),
            fresh: &self.fresh,
            sealed: &self.txn.sealed,
            verified: &self.verified,
        }
    }

    /// Record that a page handed out by [`Pager::unchecked`] passed [`check_kind`](crate::page::check_kind).
    #[inline]
    pub fn mark_checked(&mut self, page: u64) {
        if self.verified.insert(page) {
            self.note_touched();
        }
    }

    /// [`Pager::mark_checked`] for a caller that counts the pages it touches itself
    /// ([`Pager::touched`]) and releases resident memory when that count says so.
    #[inline]
    pub fn mark_checked_uncounted(&mut self, page: u64) {
        self.verified.insert(page);
    }

    /// Pages first read or allocated since resident memory was last released (read and
    /// set by a caller that releases it itself, see [`RELEASE_EVERY`]).
    #[inline]
    pub fn touched(&mut self) -> &mut u64 {
        &mut self.touched
    }

    /// Let the OS drop this process's resident copies of the file's pages (see
    /// [`RELEASE_EVERY`]). Pages being read meanwhile, on any thread, are mapped again.
    pub fn release_resident(&self) {
        self.store.release_resident();
    }

    /// May this page be changed in place (it belongs to no commit or savepoint)?
    #[inline]
    pub fn is_fresh(&self, page: u64) -> bool {
        self.fresh.contains(&page)
    }

    fn note_touched(&mut self) {
        self.touched += 1;
        if self.touched >= RELEASE_EVERY {
            self.touched = 0;
            self.sign_recent();
            self.store.release_resident();
        }
    }

    /// Before resident memory is released, store the checksum of each page allocated since
    /// the last release while it is still mapped for writing. Sealing checks every fresh
    /// page's checksum anyway and writes it only when it changed since: a page written
    /// again after this gets its new checksum then, but one left as it was (most pages of
    /// a large transaction: a scan updating rows moves on) is only read. Writing a page the
    /// release unmapped costs a write-protect fault into the file system
    /// (`ext4_page_mkwrite`, about 4 µs), reading it a cheap read fault: this took a
    /// 20,000-page commit from about 5 µs a page to about 1.
    fn sign_recent(&mut self) {
        let mut recent = std::mem::take(&mut self.recent);
        for &page in &recent {
            if self.fresh.contains(&page)
                && let Ok(buf) = self.store.write(page)
            {
                let crc = crc32fast::hash(&buf[8..]);
                buf[4..8].copy_from_slice(&crc.to_le_bytes());
            }
        }
        recent.clear();
        self.recent = recent;
    }

    /// A page to write, taken from the free list or by growing the file.
    /// The writer's check of what it opened (see `open_check_due`), once. A heap that
    /// fails it is refused at every attempt: no page is taken from its free list, none is
    /// written and nothing is committed.
    pub fn check_opened(&mut self) -> HeapResult<()> {
        if !self.open_check_due {
            return Ok(());
        }
        crate::reachable::check_for_writer(self)?;
        self.open_check_due = false;
        Ok(())
    }

    pub fn allocate(&mut self, kind: PageKind) -> HeapResult<u64> {
        if !self.writable {
            return Err(HeapError::ReadOnly);
        }
        self.check_opened()?;
        let page = match self.take_free()? {
            Some(p) => p,
            None => self.grow_by(1)?,
        };
        self.init_page(page, kind)
    }

    /// Add `n` pages at the end of the file: returns the first.
    fn grow_by(&mut self, n: u64) -> HeapResult<u64> {
        let p = self.txn.meta.page_count;
        self.txn.meta.page_count += n;
        if p + n > self.store.page_count() {
            let room = (p + n)
                .max(self.store.page_count() + self.store.page_count() / 8)
                .max(16);
            self.store.grow(room).map_err(HeapError::Io)?;
        }
        Ok(p)
    }

    /// Make a page taken from the free list or the end of the file this transaction's:
    /// zeroed, with the header of a page of `kind`.
    fn init_page(&mut self, page: u64, kind: PageKind) -> HeapResult<u64> {
        self.note_touched();
        // Invariant 1 (pager/commit.rs): a page handed out is not already this
        // transaction's, and never one a savepoint sealed.
        debug_assert!(page >= 2, "allocated superblock page {page}");
        debug_assert!(
            !self.fresh.contains(&page) && !self.txn.sealed.contains(&page),
            "page {page} allocated twice"
        );
        self.fresh.insert(page);
        self.recent.push(page);
        self.nodes.forget(page);
        let buf = self.store.write(page).map_err(HeapError::Io)?;
        buf.fill(0);
        buf[0] = kind as u8;
        buf[8..16].copy_from_slice(&page.to_le_bytes());
        let seq = self.committed.meta.sequence + 1;
        buf[16..24].copy_from_slice(&seq.to_le_bytes());
        Ok(page)
    }

    /// Writable bytes of a page allocated in this transaction.
    #[inline]
    pub fn page_mut(&mut self, page: u64) -> HeapResult<&mut [u8]> {
        if !self.fresh.contains(&page) {
            return Err(HeapError::corrupt(
                page,
                "internal: write to a committed page",
            ));
        }
        self.store.write(page).map_err(HeapError::Io)
    }

    /// A writable copy of a page: the page itself when this transaction allocated it since
    /// the last savepoint, otherwise a new page holding the same content (the old one is
    /// freed once the last commit no longer needs it). Returns the page to write.
    pub fn copy_on_write(&mut self, page: u64, kind: PageKind) -> HeapResult<u64> {
        self.copy_on_write_with(page, kind, &mut |pager| pager.allocate(kind))
    }

    /// [`Pager::copy_on_write`] with the copy allocated by `allocate` (a table segment
    /// takes it from its run of pages).
    pub fn copy_on_write_with(
        &mut self,
        page: u64,
        kind: PageKind,
        allocate: &mut dyn FnMut(&mut Pager) -> HeapResult<u64>,
    ) -> HeapResult<u64> {
        if self.fresh.contains(&page) {
            return Ok(page);
        }
        let mut content = vec![0u8; PAGE_SIZE];
        content.copy_from_slice(self.page(page, kind)?);
        let copy = allocate(self)?;
        let buf = self.page_mut(copy)?;
        buf[1..4].copy_from_slice(&content[1..4]);
        buf[HEADER_LEN..].copy_from_slice(&content[HEADER_LEN..]);
        self.free(page);
        Ok(copy)
    }

    /// Release a page: at once if this transaction allocated it since the last savepoint,
    /// otherwise after the next commit.
    pub fn free(&mut self, page: u64) {
        self.nodes.forget(page);
        if self.fresh.remove(&page) {
            self.txn.free.push(page);
        } else {
            self.txn.sealed.remove(&page);
            // A page written since the last durable commit no longer counts among the
            // pages the next commit leaves behind.
            if page < self.store.page_count() {
                let b = self.store.read(page);
                if page_seq(b) > self.durable_seq {
                    let crc = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                    let meta = &mut self.txn.meta;
                    meta.written_count = meta.written_count.wrapping_sub(1);
                    meta.written_hash = meta.written_hash.wrapping_sub(written_mix(page, crc));
                }
            }
            self.txn.pending.push(page);
        }
    }

    /// Mark the current state: [`Pager::rollback_to_savepoint`] returns to it.
    pub fn savepoint(&mut self) -> HeapResult<()> {
        // The savepoint's state accounts for every page: none is left reserved.
        self.release_runs();
        self.seal()?;
        self.savepoints.push((self.txn.clone(), IdSet::default()));
        Ok(())
    }

    pub fn has_savepoint(&self) -> bool {
        !self.savepoints.is_empty()
    }

    /// Forget the innermost savepoint, keeping every change made since.
    pub fn release_savepoint(&mut self) {
        self.savepoints.pop();
    }

    /// Return to the innermost savepoint (which stays in place).
    pub fn rollback_to_savepoint(&mut self) -> bool {
        match self.savepoints.last().cloned() {
            Some((state, fresh)) => {
                self.txn = state;
                self.fresh = fresh;
                self.nodes.clear();
                true
            }
            None => false,
        }
    }

    /// Drop everything since the last commit.
    pub fn rollback(&mut self) {
        self.txn = self.next_txn();
        self.fresh.clear();
        self.nodes.clear();
        self.savepoints.clear();
    }
}

impl Pager {
    /// Number this new heap's commits on from `sequence`: a compacted copy continues the
    /// numbering of the heap it replaces. Only before anything is written to a heap that
    /// has no commit yet.
    pub fn continue_from(&mut self, sequence: u64) -> HeapResult<()> {
        let untouched = self.committed.meta.sequence == 0
            && self.fresh.is_empty()
            && self.txn.meta.page_count == self.committed.meta.page_count;
        if !untouched || sequence >= crate::superblock::COUNTER_CEILING {
            return Err(HeapError::Record(
                "internal: only a new, empty heap can continue another's commits".into(),
            ));
        }
        self.committed.meta.sequence = sequence;
        self.txn.meta.sequence = sequence;
        self.durable_seq = sequence;
        Ok(())
    }

    /// The storage underneath (tests inspect their fakes through this).
    #[inline]
    pub fn storage(&self) -> &dyn Storage {
        self.store.as_ref()
    }
}
