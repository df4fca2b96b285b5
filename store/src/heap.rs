//! An open heap: the pager, the catalog's global names and the tables open in this
//! process. The runtime adds the live objects it has loaded or stored (runtime/src/persist).

use crate::btree;
use crate::error::{HeapError, HeapResult};
use crate::page::{HEADER_LEN, PageKind, page_seq, read_u64, written_mix};
use crate::pager::{OpenReport, Pager};
use crate::storage::{FileStorage, MemStorage, Storage};
use crate::superblock::MAGIC;
use crate::table::{self, Table, TableRecord, TableSet};
use std::collections::HashSet;
use std::path::Path;

/// Catalog key prefixes.
pub const GLOBAL_PREFIX: u8 = b'g';
pub const OBJECT_PREFIX: u8 = b'o';
/// The cursor of a checkpointed pipe, by name (its value refers to a map object).
pub const CURSOR_PREFIX: u8 = b'c';
/// Bookkeeping of the heap's collector: records at the last sweep, rewrites since.
pub const GC_KEY: &[u8] = b"m:gc";

/// How commits reach the disk (SPEC §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// Sync before a commit returns.
    #[default]
    Immediate,
    /// Sync every 64 commits or 100 ms.
    Batched,
    /// Never sync: survives a process crash, not a power loss.
    Async,
}

impl Durability {
    pub fn parse(s: &str) -> Option<Durability> {
        match s {
            "immediate" => Some(Durability::Immediate),
            "batched" => Some(Durability::Batched),
            "async" => Some(Durability::Async),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Durability::Immediate => "immediate",
            Durability::Batched => "batched",
            Durability::Async => "async",
        }
    }

    fn code(self) -> u32 {
        self as u32
    }
}

/// Heaps up to this many pages have their whole catalog checked when opened, so a damaged
/// newest commit falls back to the previous one; larger ones have only the last commit's
/// own pages checked at open (which still catches a commit that reached the disk in part)
/// and the rest page by page as it is read (and fully by `walia verify`), keeping open fast.
const CHECK_AT_OPEN_PAGES: u64 = 4096;

fn check_catalog(pager: &mut Pager) -> HeapResult<()> {
    let full = pager.committed_meta().page_count <= CHECK_AT_OPEN_PAGES;
    check_commit_pages(pager, full)?;
    check_next_id(pager)
}

/// The superblock's next object id must be above every stored object's: a lower one would
/// give a new object the id of a stored one and overwrite it. One descent of the catalog.
fn check_next_id(pager: &mut Pager) -> HeapResult<()> {
    let meta = *pager.committed_meta();
    let Some(key) = btree::last_key_below(pager, meta.root, &[OBJECT_PREFIX + 1])? else {
        return Ok(());
    };
    if let [OBJECT_PREFIX, id @ ..] = key.as_slice()
        && let Ok(id) = <[u8; 8]>::try_from(id)
        && u64::from_be_bytes(id) >= meta.next_id
    {
        return Err(HeapError::corrupt(
            pager.slot(),
            format!(
                "superblock field next_id {} is not above stored object {}",
                meta.next_id,
                u64::from_be_bytes(id)
            ),
        ));
    }
    Ok(())
}

/// Check the current commit fully: every page it uses (see [`check_commit_pages`]).
#[cfg(test)]
pub fn check_commit(pager: &mut Pager) -> HeapResult<()> {
    check_commit_pages(pager, true)
}

/// Confirm that the pages the current commit wrote are all there: a superblock that reached
/// the disk before its pages (stale pages from an older commit pass their own checks) is
/// caught by the count and hash the superblock carries. `full` also reads (and so checks)
/// every other page the commit uses; otherwise only the commit's own pages are read.
pub fn check_commit_pages(pager: &mut Pager, full: bool) -> HeapResult<()> {
    let meta = *pager.committed_meta();
    let mut pages = Vec::new();
    if full {
        btree::walk_pages(pager, meta.root, &mut |p, k| pages.push((p, k)))?;
    } else {
        btree::walk_written(pager, meta.root, meta.base_seq, &mut |p, k| {
            pages.push((p, k))
        })?;
    }
    let since = (!full).then_some(meta.base_seq);
    crate::table::walk_table_pages(pager, since, &mut |p, k| pages.push((p, k)))?;
    let mut chain = Vec::new();
    let mut p = meta.freelist_head;
    while p != 0 && chain.len() as u64 <= meta.page_count {
        let bytes = pager.page(p, PageKind::FreeList)?;
        let next = read_u64(bytes, HEADER_LEN);
        chain.push((p, PageKind::FreeList));
        p = next;
    }
    let (mut count, mut hash) = (0u64, 0u64);
    for (p, kind) in pages.into_iter().chain(chain) {
        let bytes = pager.page(p, kind)?;
        let seq = page_seq(bytes);
        if seq > meta.sequence {
            return Err(HeapError::corrupt(
                p,
                format!(
                    "page from commit {seq}, newer than commit {}",
                    meta.sequence
                ),
            ));
        }
        if seq > meta.base_seq {
            let crc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            count += 1;
            hash = hash.wrapping_add(written_mix(p, crc));
        }
    }
    if (count, hash) != (meta.written_count, meta.written_hash) {
        return Err(HeapError::corrupt(
            0,
            format!(
                "commit {} is incomplete: {count} of the {} pages written since commit {} are present",
                meta.sequence, meta.written_count, meta.base_seq
            ),
        ));
    }
    Ok(())
}

pub fn global_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(GLOBAL_PREFIX);
    k.extend_from_slice(name.as_bytes());
    k
}

pub fn cursor_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(CURSOR_PREFIX);
    k.extend_from_slice(name.as_bytes());
    k
}

pub fn object_key(id: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = OBJECT_PREFIX;
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

pub struct Heap {
    pub pager: Pager,
    /// Names of the globals the catalog holds.
    stored: HashSet<String>,
    /// The heap held committed state when it was opened.
    pub warm: bool,
    pub report: OpenReport,
    /// Where the heap lives, for messages (`<memory>` for an in-memory heap).
    pub label: String,
    /// Tables open in this process.
    pub tables: TableSet,
    /// Identifies this open heap among others in the process (table values name it).
    pub uid: u64,
}

static NEXT_UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Heap {
    pub(crate) fn new(store: Box<dyn Storage>, writable: bool, label: String) -> HeapResult<Heap> {
        // A writer checks the free list at its first allocation or commit
        // (`Pager::check_opened`), not here.
        let (pager, report) = Pager::open_checked(store, writable, &mut check_catalog)?;
        let mut heap = Heap {
            warm: pager.committed_meta().sequence > 0,
            pager,
            stored: HashSet::new(),
            report,
            label,
            tables: Default::default(),
            uid: NEXT_UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
        heap.reload_names()?;
        Ok(heap)
    }

    /// Open (or create) a heap file for writing, holding its lock while this value lives.
    pub fn open_file(path: &Path, durability: Durability) -> HeapResult<Heap> {
        let store = FileStorage::open_writer(path, MAGIC)?;
        let mut heap = Heap::new(Box::new(store), true, path.display().to_string())?;
        heap.set_durability(durability);
        Ok(heap)
    }

    /// Open a heap file read-only, without taking the lock (`walia inspect`).
    pub fn open_reader(path: &Path) -> HeapResult<Heap> {
        let store = FileStorage::open_reader(path, MAGIC)?;
        Heap::new(Box::new(store), false, path.display().to_string())
    }

    /// An empty heap in memory: commits and rollbacks work, nothing touches a file.
    pub fn in_memory() -> HeapResult<Heap> {
        Heap::new(Box::new(MemStorage::new()), true, "<memory>".into())
    }

    /// Open over any storage (tests use the fault-injecting one).
    pub fn with_storage(store: Box<dyn Storage>, label: &str) -> HeapResult<Heap> {
        Heap::new(store, true, label.to_string())
    }

    pub fn set_durability(&mut self, d: Durability) {
        let (every, interval) = match d {
            Durability::Immediate => (1, std::time::Duration::ZERO),
            Durability::Batched => (64, std::time::Duration::from_millis(100)),
            Durability::Async => (0, std::time::Duration::ZERO),
        };
        self.pager.sync_every = every;
        self.pager.sync_interval = interval;
        self.pager.durability_code = d.code();
    }

    /// Re-read the names of the stored globals (after open or a rollback).
    pub fn reload_names(&mut self) -> HeapResult<()> {
        let root = self.pager.meta().root;
        let keys = btree::scan_keys(&mut self.pager, root, &[GLOBAL_PREFIX])?;
        self.stored = keys
            .into_iter()
            .filter_map(|k| String::from_utf8(k[1..].to_vec()).ok())
            .collect();
        Ok(())
    }

    /// Names of the globals the catalog holds, sorted.
    pub fn stored_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.stored.iter().cloned().collect();
        v.sort();
        v
    }

    pub fn has_stored(&self, name: &str) -> bool {
        self.stored.contains(name)
    }

    /// The stored encoding of a global, if the catalog holds it.
    pub fn global_entry(&mut self, name: &str) -> HeapResult<Option<Vec<u8>>> {
        let root = self.pager.meta().root;
        btree::get(&mut self.pager, root, &global_key(name))
    }

    /// The stored record of an object.
    pub fn object_record(&mut self, id: u64) -> HeapResult<Option<Vec<u8>>> {
        let root = self.pager.meta().root;
        btree::get(&mut self.pager, root, &object_key(id))
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) -> HeapResult<()> {
        let root = self.pager.meta().root;
        let root = btree::put(&mut self.pager, root, key, value)?;
        self.pager.meta_mut().root = root;
        Ok(())
    }

    pub fn get(&mut self, key: &[u8]) -> HeapResult<Option<Vec<u8>>> {
        let root = self.pager.meta().root;
        btree::get(&mut self.pager, root, key)
    }

    /// Every catalog entry whose key starts with `prefix`, in key order.
    pub fn scan(&mut self, prefix: &[u8]) -> HeapResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let root = self.pager.meta().root;
        btree::scan(&mut self.pager, root, prefix)
    }

    /// The keys of [`Heap::scan`].
    pub fn scan_keys(&mut self, prefix: &[u8]) -> HeapResult<Vec<Vec<u8>>> {
        let root = self.pager.meta().root;
        btree::scan_keys(&mut self.pager, root, prefix)
    }

    pub fn delete(&mut self, key: &[u8]) -> HeapResult<bool> {
        let root = self.pager.meta().root;
        let (root, found) = btree::delete(&mut self.pager, root, key)?;
        self.pager.meta_mut().root = root;
        Ok(found)
    }

    /// The sequence number of the last commit (0: none yet).
    pub fn commit_sequence(&self) -> u64 {
        self.pager.committed_meta().sequence
    }

    /// A global was just written to the catalog.
    pub fn note_stored(&mut self, name: &str) {
        self.stored.insert(name.to_string());
    }

    /// Remove a stored global's entry (in this transaction); `false` when there was none.
    /// The records only it reached stay until the collector sweeps them.
    pub fn drop_global(&mut self, name: &str) -> HeapResult<bool> {
        if !self.pager.writable {
            return Err(HeapError::ReadOnly);
        }
        self.stored.remove(name);
        self.delete(&global_key(name))
    }

    /// Remove the stored cursor of checkpointed pipe `name`; `false` when there was none.
    pub fn drop_cursor(&mut self, name: &str) -> HeapResult<bool> {
        if !self.pager.writable {
            return Err(HeapError::ReadOnly);
        }
        self.delete(&cursor_key(name))
    }
}

/// Tables, through the set this heap has open.
impl Heap {
    /// A table by handle, read from the catalog on first use; `None` if it does not exist.
    #[inline]
    pub fn table(&mut self, handle: u32) -> HeapResult<Option<(&mut Table, &mut Pager)>> {
        let table = self.tables.open(&mut self.pager, handle)?;
        Ok(table.map(|t| (t, &mut self.pager)))
    }

    /// Does table `name` exist (committed, or created in this transaction)?
    pub fn table_exists(&mut self, name: &str) -> HeapResult<bool> {
        let h = self.tables.handle(name);
        Ok(self.table(h)?.is_some())
    }

    /// Create an empty table; its record goes into the catalog at once.
    pub fn create_table(&mut self, name: &str, sql: bool) -> HeapResult<u32> {
        self.tables.create(&mut self.pager, name, sql)
    }

    /// Drop a table and free every page it uses (in this transaction); `false` when there
    /// is no such table.
    pub fn drop_table(&mut self, name: &str) -> HeapResult<bool> {
        if !self.pager.writable {
            return Err(HeapError::ReadOnly);
        }
        self.tables.drop_table(&mut self.pager, name)
    }

    /// Every stored table record (as of the last flush), by name.
    pub fn table_records(&mut self) -> HeapResult<Vec<(String, TableRecord)>> {
        table::records(&mut self.pager)
    }

    /// Table names in creation order.
    pub fn table_names(&mut self) -> HeapResult<Vec<String>> {
        let mut recs = self.table_records()?;
        recs.sort_by_key(|(_, r)| r.order);
        Ok(recs.into_iter().map(|(n, _)| n).collect())
    }

    /// Every table in creation order: name, rows, columns and pages (as of the last flush).
    pub fn table_infos(&mut self) -> HeapResult<Vec<table::TableInfo>> {
        table::table_infos(&mut self.pager)
    }

    /// Write every changed table's pages and record (before a commit or savepoint).
    pub fn flush_tables(&mut self) -> HeapResult<()> {
        self.tables.flush(&mut self.pager)
    }

    /// Forget every open table (after a rollback the catalog says what they hold).
    pub fn forget_tables(&mut self) {
        self.tables.forget();
    }
}
