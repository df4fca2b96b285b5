//! Pages, copy-on-write bookkeeping and the commit protocol.
//!
//! A commit writes every page changed since the last one to pages the last commit does not
//! use, syncs, then writes the *other* superblock slot with a higher sequence number and a
//! crc32, and syncs again. Opening takes the valid slot with the higher sequence number, so
//! a crash at any moment leaves the last commit (or, if the newest superblock never became
//! durable, the one before) intact. Pages freed by a transaction are reused only after that
//! transaction has committed: until then the previous commit may still need them.

use super::page_view::{PageBits, PageView};
use super::storage::{PAGE_SIZE, Storage};
use super::{HeapError, HeapResult, IdSet};

use super::superblock::SUPERBLOCK_LEN;
pub use super::superblock::{FORMAT_VERSION, MAGIC, Meta};

/// Page header: kind, reserved, entry count, crc32 of bytes 8.., the page's own number,
/// the sequence number of the commit that wrote it.
pub const HEADER_LEN: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PageKind {
    Branch = 1,
    Leaf = 2,
    Overflow = 3,
    FreeList = 4,
    /// Values of one table column for a run of rows, or deletion marks (see `table::store`).
    Column = 5,
    /// Page numbers of a table segment's pages (see `table::segment`).
    Directory = 6,
    /// A table's string bytes.
    Strings = 7,
    /// Primary-key index nodes (see `table::keys`).
    KeyLeaf = 8,
    KeyBranch = 9,
}

impl PageKind {
    pub fn name(self) -> &'static str {
        match self {
            PageKind::Branch => "index branch",
            PageKind::Leaf => "index leaf",
            PageKind::Overflow => "overflow",
            PageKind::FreeList => "free list",
            PageKind::Column => "table column",
            PageKind::Directory => "table directory",
            PageKind::Strings => "table strings",
            PageKind::KeyLeaf => "key index leaf",
            PageKind::KeyBranch => "key index branch",
        }
    }
}

/// The allocation state that a savepoint captures and a rollback restores.
#[derive(Clone, Default)]
struct TxnState {
    meta: Meta,
    /// Pages free to reuse now.
    free: Vec<u64>,
    /// Pages freed by this transaction: the last commit still uses them.
    pending: Vec<u64>,
    /// Pages freed by commits that have not been synced yet (`batched`): until a sync, a
    /// power cut could bring back the commit that uses them, so they are not reused.
    unsynced: Vec<u64>,
    /// Pages allocated by this transaction before the last savepoint: part of the
    /// savepoint's state, so they are copied on write like committed pages.
    sealed: IdSet,
}

/// What `open` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenReport {
    /// A newer superblock was damaged and an older commit was used.
    pub fell_back: bool,
    pub was_new: bool,
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
    /// Freelist chain pages of the last commit (freed when the next commit replaces them).
    committed_chain: Vec<u64>,
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
    /// Decoded index nodes (owned by the index module).
    pub(super) nodes: super::btree::NodeCache,
    /// Pages first read or allocated since resident memory was last released.
    touched: u64,
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
            committed_chain: Vec::new(),
            txn: TxnState::default(),
            fresh: IdSet::default(),
            savepoints: Vec::new(),
            verified: PageBits::default(),
            touched: 0,
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
        };
        let n = pager.store.page_count();
        let slot_meta = |p: &Pager, s: u64| -> HeapResult<Option<Meta>> {
            if s < n {
                Meta::decode(p.store.read(s), s)
            } else {
                Ok(None)
            }
        };
        let a = slot_meta(&pager, 0);
        let b = slot_meta(&pager, 1);
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
                    return Err(if n > 0 && &pager.store.read(0)[..8] == MAGIC {
                        HeapError::corrupt(0, "heap file truncated")
                    } else {
                        HeapError::NotAHeap
                    });
                }
                report.was_new = true;
                pager.committed.meta = Meta {
                    page_count: 2,
                    next_id: 1,
                    ..Meta::default()
                };
                pager.committed_chain.clear();
                pager.txn = pager.committed.clone();
            }
            None => {
                return Err(
                    last_error.unwrap_or_else(|| HeapError::corrupt(0, "no valid superblock"))
                );
            }
        }
        // A commit made without a sync may not be on disk yet; pages it freed are about to
        // be reused, so make it durable first (once, when the last writer did not sync).
        if writable && !report.was_new && pager.committed.meta.durability != 0 {
            pager.store.sync().map_err(HeapError::Io)?;
        }
        // What was opened (and checked) is the base from here on.
        pager.mark_durable();
        Ok((pager, report))
    }

    /// Take a superblock as the current commit: check its numbers and load its free list.
    fn adopt(&mut self, slot: u64, meta: Meta) -> HeapResult<()> {
        let n = self.store.page_count();
        if meta.page_count < 2 || meta.page_count > n {
            return Err(HeapError::corrupt(
                slot,
                format!(
                    "superblock says {} pages but the file holds {n} (truncated?)",
                    meta.page_count
                ),
            ));
        }
        self.committed.meta = meta;
        self.verified.clear();
        for field in [meta.root, meta.freelist_head] {
            if field == 1 || (field != 0 && field >= meta.page_count) {
                return Err(HeapError::corrupt(
                    slot,
                    "superblock points outside the heap",
                ));
            }
        }
        let (free, chain) = self.read_freelist(meta.freelist_head, meta.freelist_len)?;
        self.committed.free = free;
        self.committed.pending.clear();
        self.committed.unsynced.clear();
        self.committed.sealed.clear();
        self.committed_chain = chain;
        self.slot = slot;
        self.durable_slot = slot;
        self.txn = self.next_txn();
        Ok(())
    }

    fn read_freelist(&mut self, head: u64, len: u64) -> HeapResult<(Vec<u64>, Vec<u64>)> {
        let mut free = Vec::new();
        let mut chain = Vec::new();
        let mut page = head;
        let limit = self.committed.meta.page_count;
        while page != 0 {
            if chain.len() as u64 > limit {
                return Err(HeapError::corrupt(page, "free list chain loops"));
            }
            let bytes = self.page(page, PageKind::FreeList)?;
            let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
            if count > FREE_PER_PAGE {
                return Err(HeapError::corrupt(page, "free list page count too large"));
            }
            let next = read_u64(bytes, HEADER_LEN);
            for i in 0..count {
                let p = read_u64(bytes, FREE_AT + i * 8);
                if p < 2 || p >= limit {
                    return Err(HeapError::corrupt(
                        page,
                        format!("free page number {p} out of range"),
                    ));
                }
                free.push(p);
            }
            chain.push(page);
            page = next;
        }
        if free.len() as u64 != len {
            return Err(HeapError::corrupt(
                head,
                format!(
                    "free list holds {} pages, superblock says {len}",
                    free.len()
                ),
            ));
        }
        Ok((free, chain))
    }

    pub fn meta(&self) -> &Meta {
        &self.txn.meta
    }

    pub fn meta_mut(&mut self) -> &mut Meta {
        &mut self.txn.meta
    }

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
        self.txn.free.len() + self.txn.pending.len() + self.txn.unsynced.len()
    }

    /// Is anything uncommitted?
    pub fn is_dirty(&self) -> bool {
        self.txn.meta != self.committed.meta
            || !self.fresh.is_empty()
            || !self.txn.sealed.is_empty()
    }

    /// A new transaction starting from the last commit (carrying its count of pages not
    /// yet durable).
    fn next_txn(&self) -> TxnState {
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

    /// A page of the expected kind, its number, length and checksum validated.
    pub fn page(&mut self, page: u64, kind: PageKind) -> HeapResult<&[u8]> {
        Ok(self.page_of(page, &[kind])?.1)
    }

    /// A page of one of the accepted kinds, validated; with the kind it has.
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
    pub fn validated(&self, page: u64) -> &[u8] {
        self.store.read(page)
    }

    /// A page's bytes for a reader that checks them itself ([`check_kind`]) before it
    /// uses what it read, then calls [`Pager::mark_checked`]: `None` when the page
    /// number is out of range. The second value says whether the check is still due.
    pub fn unchecked(&self, page: u64) -> Option<(&[u8], bool)> {
        self.view().unchecked(page)
    }

    /// What threads other than the pager's own may read ([`PageView`]).
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

    /// Record that a page handed out by [`Pager::unchecked`] passed [`check_kind`].
    pub fn mark_checked(&mut self, page: u64) {
        if self.verified.insert(page) {
            self.note_touched();
        }
    }

    /// [`Pager::mark_checked`] for a caller that counts the pages it touches itself
    /// ([`Pager::touched`]) and releases resident memory when that count says so.
    pub fn mark_checked_uncounted(&mut self, page: u64) {
        self.verified.insert(page);
    }

    /// Pages first read or allocated since resident memory was last released (read and
    /// set by a caller that releases it itself, see [`RELEASE_EVERY`]).
    pub fn touched(&mut self) -> &mut u64 {
        &mut self.touched
    }

    /// Let the OS drop this process's resident copies of the file's pages (see
    /// [`RELEASE_EVERY`]). Pages being read meanwhile, on any thread, are mapped again.
    pub fn release_resident(&self) {
        self.store.release_resident();
    }

    /// May this page be changed in place (it belongs to no commit or savepoint)?
    pub fn is_fresh(&self, page: u64) -> bool {
        self.fresh.contains(&page)
    }

    fn note_touched(&mut self) {
        self.touched += 1;
        if self.touched >= RELEASE_EVERY {
            self.touched = 0;
            self.store.release_resident();
        }
    }

    /// A page to write, taken from the free list or by growing the file.
    pub fn allocate(&mut self, kind: PageKind) -> HeapResult<u64> {
        self.note_touched();
        let page = match self.txn.free.pop() {
            Some(p) => p,
            None => {
                let p = self.txn.meta.page_count;
                self.txn.meta.page_count += 1;
                if p >= self.store.page_count() {
                    let room = (p + 1)
                        .max(self.store.page_count() + self.store.page_count() / 8)
                        .max(16);
                    self.store.grow(room).map_err(HeapError::Io)?;
                }
                p
            }
        };
        self.fresh.insert(page);
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
        if self.fresh.contains(&page) {
            return Ok(page);
        }
        let mut content = vec![0u8; PAGE_SIZE];
        content.copy_from_slice(self.page(page, kind)?);
        let copy = self.allocate(kind)?;
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

    /// Seal the pages written so far: a savepoint (or commit) must see them unchanged.
    fn seal(&mut self) -> HeapResult<()> {
        super::btree::flush(self)?;
        let mut fresh: Vec<u64> = self.fresh.drain().collect();
        fresh.sort_unstable();
        for page in fresh {
            self.note_touched();
            let buf = self.store.write(page).map_err(HeapError::Io)?;
            let crc = crc32fast::hash(&buf[8..]);
            buf[4..8].copy_from_slice(&crc.to_le_bytes());
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

    /// Mark the current state: [`Pager::rollback_to_savepoint`] returns to it.
    pub fn savepoint(&mut self) -> HeapResult<()> {
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
        self.store.grow(2).map_err(HeapError::Io)?;
        // Every commit point gets a sequence number; one that changed nothing writes only
        // its superblock (no pages, and its data sync has nothing to flush).
        let chain = if self.is_dirty() {
            // The old free-list chain belongs to the last commit: free it after this one.
            let old_chain = std::mem::take(&mut self.committed_chain);
            for page in old_chain {
                self.free(page);
            }
            let chain = self.write_freelist()?;
            self.seal()?;
            chain
        } else {
            self.committed_chain.clone()
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
        let sync_now = match self.sync_every {
            0 => false,
            n => {
                first
                    || self.commits_since_sync >= n
                    || self.last_sync.elapsed() >= self.sync_interval
            }
        };
        if sync_now {
            self.store.sync().map_err(HeapError::Io)?;
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
        let bytes = self.txn.meta.encode();
        self.store
            .write_at_once(slot, &bytes[..SUPERBLOCK_LEN])
            .map_err(HeapError::Io)?;
        if sync_now {
            self.store.sync().map_err(HeapError::Io)?;
            self.commits_since_sync = 0;
            self.last_sync = std::time::Instant::now();
        }
        self.slot = slot;
        self.stats.commits += 1;
        if sync_now || self.sync_every == 0 {
            self.durable_slot = slot;
            // Durable (or `async`, which promises only to survive a process crash, for
            // which written is enough): what this and earlier commits freed is reusable.
            let mut unsynced = std::mem::take(&mut self.txn.unsynced);
            self.txn.free.append(&mut unsynced);
            self.txn.free.append(&mut self.txn.pending);
        } else {
            let mut pending = std::mem::take(&mut self.txn.pending);
            self.txn.unsynced.append(&mut pending);
        }
        self.txn.sealed.clear();
        self.committed = self.txn.clone();
        if !counted {
            self.durable_seq = self.txn.meta.sequence;
        }
        self.committed_chain = chain;
        self.savepoints.clear();
        Ok(())
    }

    /// Force every commit so far to stable storage (`batched` mode's timer, and close).
    pub fn sync(&mut self) -> HeapResult<()> {
        // `async` (sync_every 0) never syncs, not even at close.
        if self.writable && self.sync_every > 0 && self.commits_since_sync > 0 {
            self.store.sync().map_err(HeapError::Io)?;
            self.commits_since_sync = 0;
            self.last_sync = std::time::Instant::now();
            self.durable_slot = self.slot;
            if self.txn.sealed.is_empty() && self.fresh.is_empty() && self.savepoints.is_empty() {
                self.mark_durable();
            }
            for state in [&mut self.txn, &mut self.committed] {
                let mut unsynced = std::mem::take(&mut state.unsynced);
                state.free.append(&mut unsynced);
            }
        }
        Ok(())
    }

    /// Write the free list of the state being committed: today's free pages plus those
    /// this transaction released (which become reusable once this commit is durable).
    fn write_freelist(&mut self) -> HeapResult<Vec<u64>> {
        let total = self.txn.free.len() + self.txn.pending.len() + self.txn.unsynced.len();
        let needed = total.div_ceil(FREE_PER_PAGE);
        let mut chain = Vec::with_capacity(needed);
        for _ in 0..needed {
            chain.push(self.allocate(PageKind::FreeList)?);
        }
        let entries: Vec<u64> = self
            .txn
            .free
            .iter()
            .chain(self.txn.pending.iter())
            .chain(self.txn.unsynced.iter())
            .copied()
            .collect();
        for (i, &page) in chain.iter().enumerate() {
            let part = &entries[(i * FREE_PER_PAGE).min(entries.len())
                ..((i + 1) * FREE_PER_PAGE).min(entries.len())];
            let next = chain.get(i + 1).copied().unwrap_or(0);
            let buf = self.page_mut(page)?;
            buf[2..4].copy_from_slice(&(part.len() as u16).to_le_bytes());
            buf[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&next.to_le_bytes());
            for (j, p) in part.iter().enumerate() {
                buf[FREE_AT + j * 8..FREE_AT + j * 8 + 8].copy_from_slice(&p.to_le_bytes());
            }
        }
        self.txn.meta.freelist_head = chain.first().copied().unwrap_or(0);
        self.txn.meta.freelist_len = entries.len() as u64;
        Ok(chain)
    }

    /// Every page number in use by the current state's free list (for `verify`).
    pub fn freelist_pages(&self) -> (&[u64], &[u64]) {
        (&self.committed.free, &self.committed_chain)
    }
}

const FREE_AT: usize = HEADER_LEN + 8;
const FREE_PER_PAGE: usize = (PAGE_SIZE - FREE_AT) / 8;

pub fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Check a committed page's checksum and self-number.
/// [`check_page`], and that the page is of `kind` (what [`Pager::page`] checks).
pub fn check_kind(bytes: &[u8], page: u64, kind: PageKind) -> bool {
    check_page(bytes, page).is_ok() && bytes.first() == Some(&(kind as u8))
}

pub fn check_page(bytes: &[u8], page: u64) -> HeapResult<()> {
    let stored = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if crc32fast::hash(&bytes[8..]) != stored {
        return Err(HeapError::corrupt(page, "page checksum mismatch"));
    }
    if read_u64(bytes, 8) != page {
        return Err(HeapError::corrupt(
            page,
            "page holds another page's number (misplaced write)",
        ));
    }
    Ok(())
}

impl Pager {
    /// The storage underneath (tests inspect their fakes through this).
    pub fn storage(&self) -> &dyn Storage {
        self.store.as_ref()
    }
}

/// One written page's share of a commit's `written_hash`.
pub fn written_mix(page: u64, crc: u32) -> u64 {
    (page.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ crc as u64).rotate_left(17)
}

/// The sequence number in a page's header (the commit that wrote it).
pub fn page_seq(bytes: &[u8]) -> u64 {
    read_u64(bytes, 16)
}
