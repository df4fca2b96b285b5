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

fn open_writer(image: Vec<u8>) -> HeapResult<Heap> {
    Heap::with_storage(Box::new(MemStorage::from_bytes(image)), "crafted")
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

/// The superblock fields: name, byte offset, width.
const FIELDS: [(&str, usize, usize); 11] = [
    ("sequence", 16, 8),
    ("page_count", 24, 8),
    ("root", 32, 8),
    ("freelist_head", 40, 8),
    ("freelist_len", 48, 8),
    ("next_id", 56, 8),
    ("commit_millis", 64, 8),
    ("durability", 72, 4),
    ("written_count", 80, 8),
    ("written_hash", 88, 8),
    ("base_seq", 96, 8),
];

fn field_values(original: u64, meta: &Meta, file_pages: u64, rng: &mut Rng) -> Vec<u64> {
    let pc = meta.page_count;
    let mut v = vec![
        0,
        1,
        2,
        3,
        original.wrapping_sub(1),
        original.wrapping_add(1),
        original.wrapping_add(2),
        original / 2,
        pc - 1,
        pc,
        pc + 1,
        file_pages - 1,
        file_pages,
        file_pages + 1,
        meta.sequence,
        meta.next_id,
        COUNTER_CEILING - 2,
        COUNTER_CEILING - 1,
        COUNTER_CEILING,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    for _ in 0..6 {
        v.push(rng.below(pc * 2));
    }
    v.push(rng.next());
    v.sort_unstable();
    v.dedup();
    v.retain(|&x| x != original);
    v
}

/// Every superblock field of the newest commit, set to many values no commit writes (and
/// a few it might): each heap is refused, or opens the other slot's sound commit, or the
/// newest (when the value is harmless), and keeps all it holds through a further commit.
#[test]
fn every_superblock_field_is_range_checked() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let meta = meta_of(&base.image, base.newest_slot);
    let file_pages = (base.image.len() / PAGE_SIZE) as u64;
    let mut rng = Rng(0x5EED_F1E1D);
    let (mut tried, mut failed) = (0u32, Vec::new());
    let mut outcomes: HashMap<&str, [u32; 3]> = HashMap::new();
    let mut harmless = Vec::new();
    for (name, offset, width) in FIELDS {
        let at = base.newest_slot as usize * PAGE_SIZE + offset;
        let mut raw = [0u8; 8];
        raw[..width].copy_from_slice(&base.image[at..at + width]);
        let original = u64::from_le_bytes(raw);
        for value in field_values(original, &meta, file_pages, &mut rng) {
            let value = if width == 4 {
                value & 0xFFFF_FFFF
            } else {
                value
            };
            if value == original {
                continue;
            }
            let mut image = base.image.clone();
            set_field(&mut image, base.newest_slot, offset, value, width);
            tried += 1;
            let case = format!("{name} = {value}");
            match check_safe(image, &base, &case) {
                Ok(outcome) => {
                    if outcome == (Outcome::Used { fell_back: false }) {
                        harmless.push(case);
                    }
                    let slot = match outcome {
                        Outcome::Refused => 0,
                        Outcome::Used { .. } => 1,
                        Outcome::CommitRefused => 2,
                    };
                    outcomes.entry(name).or_default()[slot] += 1;
                }
                Err(e) => failed.push(e),
            }
        }
    }
    eprintln!(
        "superblock fields: {tried} crafted heaps, {} failed; per field [refused, used, \
         commit refused]: {outcomes:?}; newest commit used: {harmless:?}",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {tried} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(tried > 200, "only {tried} heaps tried");
}

/// The same field damage in both slots: with no sound commit left the writer refuses,
/// naming the field, for every value that no commit writes.
#[test]
fn a_bad_field_in_both_slots_is_refused_naming_it() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let file_pages = (base.image.len() / PAGE_SIZE) as u64;
    let cases: [(&str, usize, u64); 9] = [
        ("sequence", 16, u64::MAX),
        ("sequence", 16, COUNTER_CEILING),
        ("page_count", 24, file_pages + 1),
        ("page_count", 24, 1),
        ("root", 32, file_pages + 5),
        ("root", 32, 1),
        ("freelist_head", 40, u64::MAX),
        ("next_id", 56, u64::MAX),
        ("next_id", 56, 0),
    ];
    for (name, offset, value) in cases {
        let mut image = base.image.clone();
        for slot in [0, 1] {
            set_field(&mut image, slot, offset, value, 8);
        }
        match open_writer(image.clone()) {
            Ok(_) => panic!("{name} = {value} in both slots: opened"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(&format!("superblock field {name}")) && msg.contains("page "),
                    "{name} = {value}: {msg}"
                );
            }
        }
        assert!(
            open_reader(image).is_err(),
            "{name} = {value}: a reader opened it"
        );
    }
}

/// A next object id at or below a stored object's (checksum valid) would make the next new
/// object overwrite a stored one: the slot is not used, and the older commit is.
#[test]
fn a_low_next_id_falls_back_and_keeps_every_object() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let newest_object = base
        .newest
        .catalog
        .iter()
        .filter(|(k, _)| k.first() == Some(&OBJECT_PREFIX))
        .count() as u64;
    assert!(newest_object > 40);
    let next_id = meta_of(&base.image, base.newest_slot).next_id;
    for low in [1, 2, newest_object / 2, next_id - 1] {
        let mut image = base.image.clone();
        set_field(&mut image, base.newest_slot, 56, low, 8);
        let heap = open_writer(image.clone()).unwrap_or_else(|e| panic!("next_id {low}: {e}"));
        assert!(
            heap.report.fell_back,
            "next_id {low}: the damaged slot was used"
        );
        assert_eq!(
            check_safe(image, &base, &format!("next_id = {low}")),
            Ok(Outcome::Used { fell_back: true })
        );
    }
    // Both slots low: nothing to fall back to.
    let mut image = base.image.clone();
    for slot in [0, 1] {
        set_field(&mut image, slot, 56, 3, 8);
    }
    match open_writer(image) {
        Ok(_) => panic!("a low next_id in both slots was accepted"),
        Err(e) => assert!(e.to_string().contains("next_id 3 is not above"), "{e}"),
    }
}

/// A commit sequence at the ceiling is refused; one just below it opens, but the commit
/// that would reach the ceiling is refused rather than written and discarded at the next
/// open (a wrapped sequence used to make every later run exit 0 and lose its commit).
#[test]
fn a_maximal_sequence_never_discards_a_commit() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let mut image = base.image.clone();
    set_field(&mut image, base.newest_slot, 16, u64::MAX, 8);
    let heap = open_writer(image.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert!(heap.report.fell_back);
    assert_eq!(
        check_safe(image, &base, "sequence = MAX"),
        Ok(Outcome::Used { fell_back: true })
    );
    let mut image = base.image.clone();
    set_field(&mut image, base.newest_slot, 16, COUNTER_CEILING - 1, 8);
    assert_eq!(
        check_safe(image, &base, "sequence = ceiling - 1"),
        Ok(Outcome::CommitRefused)
    );
}

/// Where the entries of the newest commit's free list are: (chain page, byte offset).
fn free_entries(image: &[u8], meta: &Meta) -> Vec<(u64, usize)> {
    let mut out = Vec::new();
    let mut page = meta.freelist_head;
    while page != 0 {
        let at = page as usize * PAGE_SIZE;
        let bytes = &image[at..at + PAGE_SIZE];
        let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
        out.extend((0..count).map(|i| (page, FREE_AT + i * 8)));
        page = read_u64(bytes, HEADER_LEN);
    }
    out
}

/// Free lists naming a page the commit uses (one of every kind), a page twice, one of the
/// list's own pages, or a page outside the commit: the writer refuses every one with a
/// page-level report, and a reader still reads the whole newest commit.
#[test]
fn a_free_list_naming_a_page_in_use_is_refused() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let meta = meta_of(&base.image, base.newest_slot);
    let mut reader = open_reader(base.image.clone()).unwrap_or_else(|e| panic!("{e}"));
    let used = PageUse::of_commit(&mut reader.pager).unwrap_or_else(|e| panic!("{e}"));
    let mut by_kind: HashMap<u8, Vec<u64>> = HashMap::new();
    for p in 2..meta.page_count {
        if let Some(k) = used.kind(p) {
            by_kind.entry(k as u8).or_default().push(p);
        }
    }
    for k in [
        PageKind::Branch,
        PageKind::Leaf,
        PageKind::Overflow,
        PageKind::Column,
        PageKind::Directory,
        PageKind::Strings,
        PageKind::KeyLeaf,
    ] {
        assert!(
            by_kind.contains_key(&(k as u8)),
            "no {} page in use",
            k.name()
        );
    }
    let entries = free_entries(&base.image, &meta);
    let listed: Vec<u64> = entries
        .iter()
        .map(|&(p, off)| read_u64(&base.image[p as usize * PAGE_SIZE..], off))
        .collect();
    let chain: Vec<u64> = {
        let mut c: Vec<u64> = entries.iter().map(|e| e.0).collect();
        c.dedup();
        c
    };
    let mut values: Vec<(String, u64)> = Vec::new();
    for pages in by_kind.values() {
        for &p in pages.iter().take(3).chain(pages.last()) {
            let kind = used.kind(p).map_or("?", |k| k.name());
            values.push((format!("{kind} page {p}"), p));
        }
    }
    values.push(("the list's own page".into(), chain[0]));
    for v in [0, 1, meta.page_count, meta.page_count + 9, u64::MAX] {
        values.push((format!("out of range {v}"), v));
    }
    let positions = [0, 1, entries.len() / 2, entries.len() - 1];
    let (mut tried, mut failed) = (0u32, Vec::new());
    for &i in &positions {
        let (page, off) = entries[i];
        let twice = listed[(i + 1) % listed.len()];
        for (what, v) in values
            .iter()
            .chain([&("a second listing".to_string(), twice)])
        {
            let mut image = base.image.clone();
            write_u64(&mut image, page as usize * PAGE_SIZE + off, *v);
            reseal_page(&mut image, page);
            tried += 1;
            let case = format!("free entry {i} = {what}");
            match open_writer(image.clone()) {
                Ok(_) => failed.push(format!("{case}: a writer opened it")),
                Err(HeapError::Corrupt { page, what }) => {
                    assert!(page > 0 && what.contains("free list"), "{case}: {what}");
                }
                Err(e) => failed.push(format!("{case}: {e}")),
            }
            match open_reader(image).and_then(|mut r| snapshot(&mut r)) {
                Ok(s) if s == base.newest => {}
                Ok(_) => failed.push(format!("{case}: a reader saw other data")),
                Err(e) => failed.push(format!("{case}: a reader failed: {e}")),
            }
        }
    }
    // A free list that no longer adds up to the superblock's count is refused too (and is
    // no reason to use the older commit, whose slot the next commit would overwrite).
    let mut image = base.image.clone();
    let at = chain[0] as usize * PAGE_SIZE;
    let count = u16::from_le_bytes([image[at + 2], image[at + 3]]) - 1;
    image[at + 2..at + 4].copy_from_slice(&count.to_le_bytes());
    reseal_page(&mut image, chain[0]);
    tried += 1;
    if open_writer(image).is_ok() {
        failed.push("a short free list was accepted".into());
    }
    eprintln!("free lists: {tried} crafted heaps, {} failed", failed.len());
    assert!(
        failed.is_empty(),
        "{} of {tried} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// The cost of the writer's check on a large heap (one table of a million rows, and a
/// catalog of 20,000 objects): `WALIA_WALK_ROWS=1000000 cargo test -p walia-store
/// --release -- --ignored --nocapture walk_cost`.
#[test]
#[ignore]
fn walk_cost_on_a_large_heap() {
    let rows: i64 = std::env::var("WALIA_WALK_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let build = || -> HeapResult<Vec<u8>> {
        let mut heap = Heap::in_memory()?;
        let h = heap.create_table("T", true)?;
        if let Some((t, _)) = heap.table(h)? {
            t.add_column("id");
            t.add_column("name");
        }
        for chunk in 0..(rows + 99_999) / 100_000 {
            insert_rows(
                &mut heap,
                chunk * 100_000..((chunk + 1) * 100_000).min(rows),
            )?;
            commit(&mut heap)?;
        }
        for g in 0..20_000 {
            let id = new_object(&mut heap, g)?;
            set_global(&mut heap, &format!("g{}", g % 500), id)?;
        }
        commit(&mut heap)?;
        Ok(image_of(&heap))
    };
    let image = build().unwrap_or_else(|e| panic!("{e}"));
    let mb = image.len() as f64 / 1048576.0;
    let mut heap = open_reader(image.clone()).unwrap_or_else(|e| panic!("{e}"));
    let start = std::time::Instant::now();
    let used = PageUse::of_commit(&mut heap.pager).unwrap_or_else(|e| panic!("{e}"));
    let walk = start.elapsed();
    let in_use = (2..heap.pager.committed_meta().page_count)
        .filter(|&p| used.kind(p).is_some())
        .count();
    let start = std::time::Instant::now();
    let writer = open_writer(image).unwrap_or_else(|e| panic!("{e}"));
    let open = start.elapsed();
    eprintln!(
        "{rows} rows, {mb:.1} MB, {in_use} pages in use, {} free: walk {walk:?} \
         ({:.3} ms/MB), whole writer open {open:?}",
        writer.pager.free_pages(),
        walk.as_secs_f64() * 1000.0 / mb
    );
}
