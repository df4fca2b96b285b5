//! Compaction (`walia compact`): the last commit of a heap copied into a new file that
//! holds only what is live, which then takes the old file's place in one rename.
//!
//! The copy goes through the store's own writer, in one transaction: pages come from the
//! end of a new file one after another, so none is free when it commits. Copied: every
//! catalog entry except the object records no global or cursor reaches (those the
//! collector would sweep), and every table page for page, segment by segment (each
//! column's pages lie together; the key index is rebuilt full). Object ids, row slots and
//! the commit numbering carry over, so stored values, row values and the cursors of
//! checkpointed pipes mean what they meant.
//!
//! Atomic: the old file is held as a writer for the whole run (no commit lands in
//! between) and is never written (a heap a writer would refuse is refused); the copy is written beside it, synced, checked as
//! `walia verify` checks a heap, then renamed over it, and the directory synced. A crash
//! before the rename leaves the old heap (and a temporary file that the next compaction
//! removes), after it the new one.

use crate::btree;
use crate::codec::references;
use crate::error::{HeapError, HeapResult, IdSet};
use crate::heap::{CURSOR_PREFIX, Durability, GC_KEY, GLOBAL_PREFIX, Heap, OBJECT_PREFIX};
use crate::storage::PAGE_SIZE;
use crate::table::{TableRecord, copy_table, table_of_key};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// What a compaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compacted {
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Pages of the old commit that were free (listed on its free list).
    pub free_pages_before: u64,
    /// Object records no global or cursor reached, left behind.
    pub records_dropped: u64,
}

/// Where the copy is written before it replaces `path`: beside it (a rename does not
/// cross file systems), under a name only compaction uses.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".compacting");
    path.with_file_name(name)
}

fn io(e: std::io::Error) -> HeapError {
    HeapError::Io(e)
}

/// Compact the heap file at `path` (see the module comment). `progress` is called with
/// the pages written so far and the pages the old commit uses (an estimate of the end:
/// what is left behind is not written).
pub fn compact_file(path: &Path, progress: &mut dyn FnMut(u64, u64)) -> HeapResult<Compacted> {
    // Through a symbolic link to the file it names: the copy must replace that file (in its
    // directory), not the link.
    let path = &std::fs::canonicalize(path).map_err(io)?;
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    if meta.len() == 0 {
        // Opened as a writer, an empty file would become a new heap.
        return Err(HeapError::NotAHeap);
    }
    let mut old = Heap::open_file(path, Durability::Immediate)?;
    if old.report.fell_back {
        return Err(HeapError::Record(format!(
            "the newest commit is damaged and commit {} would be used: `walia verify` tells more; \
             compacting would make that loss final",
            old.commit_sequence()
        )));
    }
    // Damage no checksum shows (pages in use and free at once, pages cut off the commit)
    // makes a writer refuse the heap; a copy would make the loss final just the same.
    old.pager.check_opened()?;
    let tmp = temp_path(path);
    // Left by a compaction that did not finish: nobody else writes it (the lock is ours).
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    let free_pages_before = old.pager.free_pages() as u64;
    let copied = write_copy(&mut old, &tmp, &meta, progress);
    let (records_dropped, bytes_after) = match copied {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    sync_directory(path)?;
    // Held until now: no writer could commit to the old file while it was copied.
    drop(old);
    Ok(Compacted {
        bytes_before: meta.len(),
        bytes_after,
        free_pages_before,
        records_dropped,
    })
}

/// Make a rename in `path`'s directory durable.
fn sync_directory(path: &Path) -> HeapResult<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)
}

/// Write the copy of `old` to `tmp`, synced and checked; returns the records left behind
/// and the copy's size in bytes.
fn write_copy(
    old: &mut Heap,
    tmp: &Path,
    old_meta: &std::fs::Metadata,
    progress: &mut dyn FnMut(u64, u64),
) -> HeapResult<(u64, u64)> {
    let mut new = Heap::open_file(tmp, Durability::Immediate)?;
    new.pager.continue_from(old.commit_sequence())?;
    // The superblock records the mode of the heap's writers, not this copy's.
    new.pager.durability_code = old.pager.committed_meta().durability;
    let dropped = copy_live(old, &mut new, progress)?;
    new.pager.commit()?;
    let pages = new.pager.committed_meta().page_count;
    drop(new);
    // The file grew in steps ahead of its pages: cut it to what the commit spans.
    let bytes = pages * PAGE_SIZE as u64;
    let file = OpenOptions::new().write(true).open(tmp).map_err(io)?;
    file.set_len(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::set_permissions(tmp, old_meta.permissions()).map_err(io)?;
    // The copy replaces the heap only if it passes the checks any heap gets.
    let mut check = Heap::open_reader(tmp)?;
    let report = crate::inspect::verify(&mut check)?;
    if report.fell_back {
        return Err(HeapError::Record(
            "the compacted copy did not read back".into(),
        ));
    }
    Ok((dropped, bytes))
}

/// The object id a catalog key names, if it is an object record's key.
fn object_id(key: &[u8]) -> Option<u64> {
    match key {
        [OBJECT_PREFIX, id @ ..] => <[u8; 8]>::try_from(id).ok().map(u64::from_be_bytes),
        _ => None,
    }
}

/// Copy the last commit of `from` into the transaction of the new heap `to`: every catalog
/// entry but the object records nothing reaches, and every table. Returns how many records
/// were left behind.
pub fn copy_live(
    from: &mut Heap,
    to: &mut Heap,
    progress: &mut dyn FnMut(u64, u64),
) -> HeapResult<u64> {
    let meta = *from.pager.committed_meta();
    let total = meta
        .page_count
        .saturating_sub(from.pager.free_pages() as u64);
    let live = live_objects(from)?;
    let mut dropped = 0;
    let mut root = 0;
    for key in btree::scan_keys(&mut from.pager, meta.root, b"")? {
        let value = if key == GC_KEY {
            // The collector's count: the records stored now, none rewritten since.
            let mut counts = (live.len() as u64).to_le_bytes().to_vec();
            counts.extend_from_slice(&0u64.to_le_bytes());
            counts
        } else if let Some(id) = object_id(&key)
            && !live.contains(&id)
        {
            dropped += 1;
            continue;
        } else {
            let Some(bytes) = btree::get(&mut from.pager, meta.root, &key)? else {
                return Err(HeapError::Record(format!(
                    "catalog entry {:?} vanished while it was copied",
                    String::from_utf8_lossy(&key)
                )));
            };
            match table_of_key(&key) {
                Some(name) => {
                    let rec = TableRecord::decode(&bytes, &name)?;
                    let base = to.pager.meta().page_count;
                    let mut pages = 0;
                    let mut copied = || {
                        pages += 1;
                        progress(base + pages, total);
                    };
                    copy_table(&mut from.pager, &rec, &mut to.pager, &mut copied)?.encode()
                }
                None => bytes,
            }
        };
        root = btree::put(&mut to.pager, root, &key, &value)?;
        progress(to.pager.meta().page_count, total);
    }
    let new_meta = to.pager.meta_mut();
    new_meta.root = root;
    new_meta.next_id = meta.next_id;
    Ok(dropped)
}

/// The object records a global or a cursor reaches (what the collector keeps).
fn live_objects(heap: &mut Heap) -> HeapResult<IdSet> {
    let mut roots = heap.scan(&[GLOBAL_PREFIX])?;
    roots.extend(heap.scan(&[CURSOR_PREFIX])?);
    let mut live = IdSet::default();
    let mut stack = Vec::new();
    for (key, value) in &roots {
        let what = format!("entry '{}'", String::from_utf8_lossy(key));
        stack.extend(references(value, false, &what)?);
    }
    while let Some(id) = stack.pop() {
        if !live.insert(id) {
            continue;
        }
        if let Some(rec) = heap.object_record(id)? {
            stack.extend(references(&rec, true, &format!("object {id}"))?);
        }
    }
    Ok(live)
}
