//! Crafted heaps: damage that keeps every checksum valid, so only the structure can show
//! it. A free list naming a page the commit uses (or a page twice, or one outside the
//! heap), and every superblock field set to values no commit writes. A writer must refuse
//! such a heap (a page-level corruption error, exit 74 in the CLI) or use the other, sound
//! commit; and whatever it opens is never lost: the tests commit more on top, reopen, and
//! read everything back.

use crate::codec::{Writer, kind};
use crate::error::{HeapError, HeapResult};
use crate::heap::{Heap, OBJECT_PREFIX, global_key, object_key};
use crate::page::{HEADER_LEN, PageKind, read_u64};
use crate::reachable::PageUse;
use crate::storage::{MemStorage, PAGE_SIZE};
use crate::superblock::{COUNTER_CEILING, Meta};
use crate::table::{Cell, TableError};
use crate::tests::Rng;
use std::collections::HashMap;

const FREE_AT: usize = HEADER_LEN + 8;

/// What a commit holds: every catalog entry, and the live rows of table `T`.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    catalog: Vec<(Vec<u8>, Vec<u8>)>,
    rows: Vec<(i64, String)>,
}

fn table_err(e: TableError) -> HeapError {
    match e {
        TableError::Heap(e) => e,
        TableError::Data(m) => HeapError::Record(m),
    }
}

fn image_of(heap: &Heap) -> Vec<u8> {
    match heap.pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => Vec::new(),
    }
}

/// Open as a writer about to write: the free-list check runs before the first page is
/// taken or the first commit (`Pager::check_opened`), so a refused heap is refused here.
fn open_writer(image: Vec<u8>) -> HeapResult<Heap> {
    let mut heap = Heap::with_storage(Box::new(MemStorage::from_bytes(image)), "crafted")?;
    heap.pager.check_opened()?;
    Ok(heap)
}

fn open_reader(image: Vec<u8>) -> HeapResult<Heap> {
    Heap::new(
        Box::new(MemStorage::from_bytes(image)),
        false,
        "crafted".into(),
    )
}

fn snapshot(heap: &mut Heap) -> HeapResult<Snapshot> {
    let catalog = heap.scan(b"")?;
    let mut rows = Vec::new();
    let h = heap.tables.handle("T");
    if let Some((t, pager)) = heap.table(h)? {
        for row in t.base..t.slots {
            if !t.is_live(pager, row)? {
                continue;
            }
            match (t.get(pager, row, 0)?, t.get(pager, row, 1)?) {
                (Cell::Int(id), Cell::Str(name)) => rows.push((id, name)),
                other => return Err(HeapError::Record(format!("row {row}: {other:?}"))),
            }
        }
    }
    Ok(Snapshot { catalog, rows })
}

/// A new object, given the next id the way the runtime hands them out.
fn new_object(heap: &mut Heap, n: i64) -> HeapResult<u64> {
    let id = heap.pager.meta().next_id.max(1);
    heap.pager.meta_mut().next_id = id + 1;
    let mut w = Writer::kind(kind::LIST);
    w.int(1);
    w.int(n);
    heap.put(&object_key(id), &w.buf)?;
    Ok(id)
}

fn set_global(heap: &mut Heap, name: &str, id: u64) -> HeapResult<()> {
    let mut w = Writer::default();
    w.reference(id);
    heap.put(&global_key(name), &w.buf)
}

fn set_big_global(heap: &mut Heap, name: &str, len: usize) -> HeapResult<()> {
    let mut w = Writer::default();
    w.str(&name.repeat(len / name.len().max(1)));
    heap.put(&global_key(name), &w.buf)
}

fn insert_rows(heap: &mut Heap, ids: std::ops::Range<i64>) -> HeapResult<()> {
    let h = heap.tables.handle("T");
    for i in ids {
        let Some((t, pager)) = heap.table(h)? else {
            return Err(HeapError::Record("table T is missing".into()));
        };
        let cells = t
            .prepare(vec![Cell::Int(i), Cell::Str(format!("row {i}"))])
            .map_err(table_err)?;
        t.append(pager, &cells).map_err(table_err)?;
    }
    Ok(())
}

fn delete_rows(heap: &mut Heap, slots: std::ops::Range<u64>) -> HeapResult<()> {
    let h = heap.tables.handle("T");
    for slot in slots {
        if let Some((t, pager)) = heap.table(h)?
            && t.is_live(pager, slot)?
        {
            t.delete(pager, slot).map_err(table_err)?;
        }
    }
    Ok(())
}

fn commit(heap: &mut Heap) -> HeapResult<()> {
    heap.flush_tables()?;
    heap.pager.commit()
}

/// A heap of several commits (globals, objects, an overflow value, a table with a key
/// index and deleted rows) whose last commit has a free list of every kind of page.
struct Base {
    image: Vec<u8>,
    newest: Snapshot,
    older: Snapshot,
    newest_slot: u64,
}

fn build_base() -> HeapResult<Base> {
    let mut heap = Heap::in_memory()?;
    let h = heap.create_table("T", true)?;
    if let Some((t, _)) = heap.table(h)? {
        t.add_column("id");
        t.add_column("name");
    }
    insert_rows(&mut heap, 0..1500)?;
    for g in 0..40 {
        let id = new_object(&mut heap, g)?;
        set_global(&mut heap, &format!("g{g}"), id)?;
    }
    set_big_global(&mut heap, "big", 6000)?;
    commit(&mut heap)?;
    let mut older = None;
    for round in 1..=4i64 {
        for g in 0..20 {
            let id = new_object(&mut heap, round * 100 + g)?;
            set_global(&mut heap, &format!("g{g}"), id)?;
        }
        set_big_global(
            &mut heap,
            if round % 2 == 0 { "big" } else { "bigger" },
            7000,
        )?;
        insert_rows(&mut heap, 10_000 * round..10_000 * round + 300)?;
        delete_rows(&mut heap, (round as u64 * 40)..(round as u64 * 40 + 7))?;
        commit(&mut heap)?;
        if round == 3 {
            older = Some(snapshot(&mut heap)?);
        }
    }
    let newest = snapshot(&mut heap)?;
    let Some(older) = older else {
        return Err(HeapError::Record("no older commit".into()));
    };
    let (free, chain) = heap.pager.freelist_pages();
    assert!(
        free.len() > 8 && !chain.is_empty(),
        "the base heap has no free list to damage"
    );
    Ok(Base {
        image: image_of(&heap),
        newest,
        older,
        newest_slot: heap.pager.slot(),
    })
}

/// What a crafted heap did to a writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Opening for writing failed with a page-level corruption error.
    Refused,
    /// It opened (the newest commit, or the other slot's) and a further commit kept
    /// everything it held.
    Used { fell_back: bool },
    /// It opened, but the next commit was refused (its superblock would have been invalid)
    /// and the commit opened is still intact.
    CommitRefused,
}

/// Commit a few hundred pages on top: enough to take every page the free list names.
fn write_more(heap: &mut Heap) -> HeapResult<()> {
    for i in 0..60 {
        let id = new_object(heap, i)?;
        set_global(heap, &format!("new{i}"), id)?;
    }
    for i in 0..20 {
        set_big_global(heap, &format!("newbig{i}"), 5000)?;
    }
    insert_rows(heap, 100_000..101_200)?;
    commit(heap)
}

/// Open `image` for writing and check that nothing is lost, whatever happens.
fn check_safe(image: Vec<u8>, base: &Base, case: &str) -> Result<Outcome, String> {
    let heap_err = |what: &str, e: HeapError| format!("{case}: {what}: {e}");
    let mut heap = match open_writer(image.clone()) {
        Ok(heap) => heap,
        // The writer wrote nothing: the image it refused is unchanged.
        Err(HeapError::Corrupt { .. }) => return Ok(Outcome::Refused),
        Err(e) => return Err(heap_err("refused without naming a page", e)),
    };
    let seen = snapshot(&mut heap).map_err(|e| heap_err("reading the commit opened", e))?;
    if seen != base.newest && seen != base.older {
        return Err(format!("{case}: opened data of neither commit"));
    }
    if let Err(e) = write_more(&mut heap) {
        let mut again = open_writer(image_of(&heap))
            .map_err(|e2| format!("{case}: after a refused commit ({e}): reopen: {e2}"))?;
        let after = snapshot(&mut again).map_err(|e| heap_err("reading after reopen", e))?;
        return if after == seen {
            Ok(Outcome::CommitRefused)
        } else {
            Err(format!("{case}: a refused commit ({e}) changed the data"))
        };
    }
    let after = snapshot(&mut heap).map_err(|e| heap_err("reading the new commit", e))?;
    let kept: HashMap<&Vec<u8>, &Vec<u8>> = after.catalog.iter().map(|(k, v)| (k, v)).collect();
    for (k, v) in &seen.catalog {
        if k.first() != Some(&b't') && kept.get(k) != Some(&v) {
            return Err(format!("{case}: the new commit lost catalog entry {k:?}"));
        }
    }
    if !after.rows.starts_with(&seen.rows) || after.rows.len() != seen.rows.len() + 1200 {
        return Err(format!("{case}: the new commit lost rows"));
    }
    let mut reopened =
        open_writer(image_of(&heap)).map_err(|e| heap_err("reopening the new commit", e))?;
    if reopened.report.fell_back {
        return Err(format!("{case}: the new commit was not used at reopen"));
    }
    let again = snapshot(&mut reopened).map_err(|e| heap_err("reading after reopen", e))?;
    if again != after {
        return Err(format!("{case}: the new commit reads back differently"));
    }
    if let Err(e) = crate::inspect::verify(&mut reopened) {
        // A raised page count (still within the file) only leaks pages: verify says so.
        if !(case.starts_with("page_count") && e.to_string().contains("leaked")) {
            return Err(heap_err("verify after the new commit", e));
        }
    }
    Ok(Outcome::Used {
        fell_back: heap.report.fell_back,
    })
}

fn write_u64(image: &mut [u8], at: usize, v: u64) {
    image[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Set a superblock field of `slot` and seal the slot again with a valid checksum.
fn set_field(image: &mut [u8], slot: u64, offset: usize, value: u64, width: usize) {
    let at = slot as usize * PAGE_SIZE;
    image[at + offset..at + offset + width].copy_from_slice(&value.to_le_bytes()[..width]);
    let crc = crc32fast::hash(&image[at..at + 124]);
    image[at + 124..at + 128].copy_from_slice(&crc.to_le_bytes());
}

/// Seal a page again after changing it: its checksum stays valid.
fn reseal_page(image: &mut [u8], page: u64) {
    let at = page as usize * PAGE_SIZE;
    let crc = crc32fast::hash(&image[at + 8..at + PAGE_SIZE]);
    image[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
}

fn meta_of(image: &[u8], slot: u64) -> Meta {
    let at = slot as usize * PAGE_SIZE;
    match Meta::decode(&image[at..at + PAGE_SIZE], slot) {
        Ok(Some(m)) => m,
        other => panic!("slot {slot}: {other:?}"),
    }
}

mod pages;
mod superblock;
