//! Tests of table storage: rows against a model across commits, rollbacks and reopening;
//! the key index against a BTreeMap; power loss during bulk inserts.

use super::ROWS_PER_PAGE;
use super::keys;
use super::store::Cell;
use crate::Heap;
use crate::error::HeapResult;
use crate::faulty::FaultyStorage;
use crate::heap::check_commit;
use crate::pager::Pager;
use crate::storage::{MemStorage, Storage};
use crate::tests::Rng;
use std::collections::BTreeMap;

pub(super) fn ok<T>(r: HeapResult<T>) -> T {
    r.unwrap_or_else(|e| panic!("heap: {e}"))
}

pub(super) fn tok<T>(r: super::TableResult<T>) -> T {
    match r {
        Ok(v) => v,
        Err(super::TableError::Heap(e)) => panic!("heap: {e}"),
        Err(super::TableError::Data(m)) => panic!("data: {m}"),
    }
}

fn mem_image(heap: &Heap) -> Vec<u8> {
    match heap.pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => Vec::new(),
    }
}

/// A model row: id, name, score (None = nil).
type Row = (i64, Option<String>, Option<f64>);

fn cells(r: &Row) -> Vec<Cell> {
    vec![
        Cell::Int(r.0),
        r.1.clone().map_or(Cell::Nil, Cell::Str),
        r.2.map_or(Cell::Nil, Cell::Float),
    ]
}

/// Every live row of table "T" in scan order, as the model spells rows.
fn scan(heap: &mut Heap) -> Vec<Row> {
    let h = heap.tables.handle("T");
    let (t, pager) = ok(heap.table(h)).expect("table T");
    let mut out = Vec::new();
    for row in t.base..t.slots {
        if !ok(t.is_live(pager, row)) {
            continue;
        }
        let id = match ok(t.get(pager, row, 0)) {
            Cell::Int(i) => i,
            other => panic!("id {other:?}"),
        };
        let name = match ok(t.get(pager, row, 1)) {
            Cell::Str(s) => Some(s),
            Cell::Nil => None,
            other => panic!("name {other:?}"),
        };
        let score = match ok(t.get(pager, row, 2)) {
            Cell::Float(f) => Some(f),
            Cell::Nil => None,
            other => panic!("score {other:?}"),
        };
        out.push((id, name, score));
    }
    assert_eq!(t.live as usize, out.len(), "live count");
    out
}

fn new_table(heap: &mut Heap) {
    let h = ok(heap.create_table("T", true));
    let (t, _) = ok(heap.table(h)).expect("T");
    t.add_column("id");
    t.add_column("name");
    t.add_column("score");
}

fn random_row(rng: &mut Rng, id: i64) -> Row {
    let name = match rng.below(4) {
        0 => None,
        1 => Some("x".repeat(rng.below(9000) as usize)),
        _ => Some(format!("name {id} ü")),
    };
    let score = (rng.below(3) != 0).then(|| rng.below(1000) as f64 / 4.0);
    (id, name, score)
}

/// Random inserts, updates, deletes, clears, commits and rollbacks agree with a model, and
/// a reopened copy of the heap holds exactly the last commit.
#[test]
fn rows_match_a_model_across_commits_rollbacks_and_reopen() {
    let mut rng = Rng(0x5eed_1234);
    let mut heap = ok(Heap::in_memory());
    new_table(&mut heap);
    let mut model: Vec<Row> = Vec::new();
    let mut committed = model.clone();
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    let mut next_id = 1;
    for step in 0..400 {
        let h = heap.tables.handle("T");
        match rng.below(20) {
            0..=9 => {
                for _ in 0..1 + rng.below(300) {
                    let r = random_row(&mut rng, next_id);
                    next_id += 1 + rng.below(3) as i64;
                    let (t, pager) = ok(heap.table(h)).expect("T");
                    let prepared = tok(t.prepare(cells(&r)));
                    tok(t.append(pager, &prepared));
                    model.push(r);
                }
            }
            10..=12 if !model.is_empty() => {
                let i = rng.below(model.len() as u64) as usize;
                let (t, pager) = ok(heap.table(h)).expect("T");
                let row = ok(t.find_id(pager, &Cell::Int(model[i].0))).expect("row of id");
                let new = random_row(&mut rng, model[i].0);
                let prepared = tok(t.prepare(cells(&new)));
                tok(t.replace(pager, row, prepared));
                model[i] = new;
            }
            13..=14 if !model.is_empty() => {
                let i = rng.below(model.len() as u64) as usize;
                let (t, pager) = ok(heap.table(h)).expect("T");
                let row = ok(t.find_id(pager, &Cell::Int(model[i].0))).expect("row of id");
                tok(t.delete(pager, row));
                assert_eq!(ok(t.find_id(pager, &Cell::Int(model[i].0))), None);
                model.remove(i);
            }
            15 => {
                let (t, pager) = ok(heap.table(h)).expect("T");
                ok(t.clear(pager));
                model.clear();
            }
            16 => {
                heap.pager.rollback();
                heap.forget_tables();
                model = committed.clone();
            }
            _ => {
                ok(heap.flush_tables());
                ok(heap.pager.commit());
                committed = model.clone();
            }
        }
        assert_eq!(scan(&mut heap), model, "step {step}");
        if step % 50 == 49 {
            let image = mem_image(&heap);
            let mut reopened = ok(Heap::with_storage(
                Box::new(MemStorage::from_bytes(image)),
                "copy",
            ));
            assert!(!reopened.report.fell_back);
            ok(check_commit(&mut reopened.pager));
            assert_eq!(scan(&mut reopened), committed, "reopened at step {step}");
        }
    }
}

#[test]
fn duplicate_ids_are_refused_and_change_nothing() {
    let mut heap = ok(Heap::in_memory());
    new_table(&mut heap);
    let h = heap.tables.handle("T");
    let (t, pager) = ok(heap.table(h)).expect("T");
    let row = (2, Some("a".to_string()), Some(1.5));
    let prepared = tok(t.prepare(cells(&row)));
    tok(t.append(pager, &prepared));
    match t.append(pager, &prepared) {
        Err(super::TableError::Data(m)) => {
            assert_eq!(m, "constraint violation: T.id = 2 already exists")
        }
        _ => panic!("duplicate accepted"),
    }
    assert_eq!(t.live, 1);
    // A nil id takes max + 1.
    let prepared = tok(t.prepare(vec![Cell::Nil, Cell::Nil, Cell::Int(3)]));
    assert_eq!(prepared[0], Cell::Int(3));
    assert_eq!(
        prepared[2],
        Cell::Float(3.0),
        "Int into a Float column converts"
    );
}

#[test]
fn key_index_matches_a_btreemap() {
    let mut rng = Rng(99);
    let (mut pager, _) = ok(Pager::open(Box::new(MemStorage::new()), true));
    let mut root = 0;
    let mut model = BTreeMap::new();
    for step in 0..30_000u64 {
        let key = match rng.below(3) {
            0 => step as i64,
            1 => rng.below(5000) as i64 - 2500,
            _ => rng.next() as i64,
        };
        if rng.below(4) == 0 {
            let (r, found) = ok(keys::delete(&mut pager, root, key));
            root = r;
            assert_eq!(found, model.remove(&key).is_some());
        } else {
            match ok(keys::insert(&mut pager, root, key, step)) {
                keys::Inserted::Root(r) => {
                    root = r;
                    assert!(model.insert(key, step).is_none());
                }
                keys::Inserted::Exists(v) => assert_eq!(model.get(&key), Some(&v)),
            }
        }
        if step % 5000 == 0 {
            ok(pager.commit());
        }
    }
    for (k, v) in &model {
        assert_eq!(ok(keys::get(&mut pager, root, *k)), Some(*v));
    }
    assert_eq!(
        ok(keys::get(&mut pager, root, i64::MIN)),
        model.get(&i64::MIN).copied()
    );
}

#[test]
fn sequential_ids_fill_index_pages() {
    let (mut pager, _) = ok(Pager::open(Box::new(MemStorage::new()), true));
    let mut root = 0;
    let n = 200_000u64;
    for i in 0..n {
        match ok(keys::insert(&mut pager, root, i as i64, i)) {
            keys::Inserted::Root(r) => root = r,
            keys::Inserted::Exists(_) => panic!("dup"),
        }
    }
    let mut pages = Vec::new();
    ok(keys::walk(&mut pager, root, None, &mut |p, k| {
        pages.push((p, k))
    }));
    // 254 entries per leaf: full leaves when appending.
    assert!(
        (pages.len() as u64) < n / 250 + 10,
        "{} pages for {n} keys",
        pages.len()
    );
    // The open-time walk names the same pages reading only the branches.
    ok(pager.commit());
    let image = match pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => panic!("not a memory heap"),
    };
    let (mut fresh, _) = ok(Pager::open(Box::new(MemStorage::from_bytes(image)), true));
    std::mem::take(fresh.touched());
    let mut linked = Vec::new();
    ok(keys::walk_linked(&mut fresh, root, &mut |p, k| {
        linked.push((p, k))
    }));
    pages.sort_unstable_by_key(|&(p, _)| p);
    linked.sort_unstable_by_key(|&(p, _)| p);
    assert_eq!(linked, pages);
    let reads = *fresh.touched();
    assert!(
        reads < 10,
        "{reads} pages read to name {} pages",
        pages.len()
    );
}

/// A bulk insert cut by power loss at a random write reopens to a commit whose table holds
/// exactly that commit's rows: the last one or the one before under `immediate`, a commit at
/// or after the last synced one under `batched` (every 2nd or 3rd commit synced), with both
/// the full and the recent-pages commit check at open.
#[test]
fn power_loss_during_bulk_insert_keeps_a_committed_table() {
    let seeds = std::env::var("WALIA_TABLE_POWER_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300u64);
    for seed in 0..seeds {
        let mut rng = Rng(seed * 7919 + 1);
        let budget = rng.below(900) + 20;
        let store = FaultyStorage::new(Some(budget));
        let Ok(mut heap) = Heap::with_storage(Box::new(store), "faulty") else {
            continue;
        };
        heap.pager.sync_every = 1 + (seed % 3) as u32;
        heap.pager.sync_interval = std::time::Duration::from_secs(3600);
        // Rows in the table after each commit that returned, and whether it synced.
        let mut counts: Vec<usize> = Vec::new();
        let mut synced: Vec<bool> = Vec::new();
        let mut total = 0usize;
        let mut in_flight = None;
        let result: super::TableResult<()> = (|| {
            new_table(&mut heap);
            for _ in 0..30 {
                let h = heap.tables.handle("T");
                for _ in 0..1 + rng.below(1200) as usize {
                    let (t, pager) = heap.table(h)?.expect("T");
                    total += 1;
                    let r = random_row(&mut rng, total as i64);
                    let prepared = t.prepare(cells(&r))?;
                    t.append(pager, &prepared)?;
                }
                heap.flush_tables()?;
                in_flight = Some(total);
                let syncs = heap.pager.syncs();
                heap.pager.commit()?;
                in_flight = None;
                synced.push(heap.pager.syncs() > syncs);
                counts.push(total);
            }
            Ok(())
        })();
        let _ = result;
        let fake = heap
            .pager
            .storage()
            .as_any()
            .downcast_ref::<FaultyStorage>()
            .expect("faulty storage");
        let image = fake.power_loss_image(seed);
        let full = seed.is_multiple_of(2);
        let mut check = |p: &mut Pager| crate::heap::check_commit_pages(p, full);
        let reopened =
            Pager::open_checked(Box::new(MemStorage::from_bytes(image)), true, &mut check);
        let (pager, _) = reopened.unwrap_or_else(|e| panic!("seed {seed}: reopen failed: {e}"));
        drop(pager);
        let image = fake.power_loss_image(seed);
        let mut reopened = ok(Heap::with_storage(
            Box::new(MemStorage::from_bytes(image)),
            "after power loss",
        ));
        ok(check_commit(&mut reopened.pager));
        let h = reopened.tables.handle("T");
        let rows = match ok(reopened.table(h)) {
            Some(_) => scan(&mut reopened).len(),
            None => 0,
        };
        // Acceptable: any commit from the last synced one on (or the in-flight one).
        let oldest = synced.iter().rposition(|s| *s).map_or(0, |i| counts[i]);
        let mut possible: Vec<usize> = counts.iter().copied().filter(|c| *c >= oldest).collect();
        possible.extend(in_flight);
        if synced.iter().all(|s| !s) {
            possible.push(0);
        }
        assert!(
            possible.contains(&rows),
            "seed {seed}: {rows} rows after power loss; commits {counts:?}, synced {synced:?}, in flight {in_flight:?}"
        );
    }
}

#[test]
fn rows_per_page_fit_the_page() {
    // Bitmap of 64 bytes (500 bits) plus 500 values of 8 bytes after the header.
    const {
        assert!(ROWS_PER_PAGE.div_ceil(8) <= 64);
        assert!(crate::page::HEADER_LEN + 64 + 8 * ROWS_PER_PAGE <= 4096);
    }
    let store: &dyn Storage = &MemStorage::new();
    assert_eq!(store.page_count(), 0);
}

/// Writing a page far past a segment's end (a first delete near the end of a big table, a
/// sparse column, inserts after `clear()`) leaves every directory in between valid.
#[test]
fn segments_written_far_past_their_end_stay_loadable() {
    use super::segment::{FAN, Segment};
    use crate::page::PageKind;
    for (first, second) in [
        (0, FAN + 3),
        (5, 3 * FAN + 1),
        (FAN * FAN + 2, 0),
        (7, FAN * FAN + 9),
    ] {
        let (mut pager, _) = ok(Pager::open(Box::new(MemStorage::new()), true));
        let mut seg = Segment::new(PageKind::Column);
        for (round, index) in [first, second].into_iter().enumerate() {
            ok(seg.page_for_write(&mut pager, index));
            let root = ok(seg.flush(&mut pager));
            if round == 0 {
                ok(pager.commit());
            }
            let loaded = ok(Segment::load(&mut pager, root, PageKind::Column));
            assert_eq!(loaded.len(), seg.len(), "{first} then {second}");
            assert_ne!(
                ok(loaded.page(&mut pager, index)),
                0,
                "{first} then {second}: page {index}"
            );
        }
    }
}

/// A directory entry naming a page past the end of the heap (checksum valid) is reported
/// when the segment loads: `clear()` frees data pages without reading them.
#[test]
fn a_directory_entry_past_the_heap_is_damage() {
    use super::segment::Segment;
    use crate::page::{HEADER_LEN, PageKind};
    let (mut pager, _) = ok(Pager::open(Box::new(MemStorage::new()), true));
    let mut seg = Segment::new(PageKind::Column);
    ok(seg.page_for_write(&mut pager, 0));
    let root = ok(seg.flush(&mut pager));
    ok(pager.commit());
    let mut image = match pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => panic!("not a memory heap"),
    };
    let at = root.page as usize * crate::storage::PAGE_SIZE;
    let dir = &mut image[at..at + crate::storage::PAGE_SIZE];
    dir[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let crc = crc32fast::hash(&dir[8..]);
    dir[4..8].copy_from_slice(&crc.to_le_bytes());
    let (mut damaged, _) = ok(Pager::open(Box::new(MemStorage::from_bytes(image)), true));
    match Segment::load(&mut damaged, root, PageKind::Column) {
        Ok(_) => panic!("a page number past the heap was accepted"),
        Err(e) => assert!(e.to_string().contains("out of range"), "{e}"),
    }
}

/// Opening a segment reads its root and its last level-1 directory (which fixes its
/// length), and each other directory only when one of its pages is first asked for: opening
/// a table and seeking to a row costs O(depth) page reads, not one per 254,500 rows.
#[test]
fn segment_directories_are_read_when_first_used() {
    use super::segment::{FAN, Segment};
    use crate::page::PageKind;
    let (mut pager, _) = ok(Pager::open(Box::new(MemStorage::new()), true));
    let mut seg = Segment::new(PageKind::Column);
    let written = [0, 1, FAN, 2 * FAN + 5, 3 * FAN];
    for index in written {
        ok(seg.page_for_write(&mut pager, index));
    }
    let root = ok(seg.flush(&mut pager));
    assert_eq!(root.depth, 2);
    ok(pager.commit());
    let image = match pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => panic!("not a memory heap"),
    };
    let (mut fresh, _) = ok(Pager::open(Box::new(MemStorage::from_bytes(image)), true));
    let reads = |p: &mut Pager| std::mem::take(p.touched());
    reads(&mut fresh);
    let loaded = ok(Segment::load(&mut fresh, root, PageKind::Column));
    assert_eq!(
        reads(&mut fresh),
        2,
        "load read more than the root and the last directory"
    );
    assert_eq!(loaded.len(), 3 * FAN + 1);
    // The last directory's pages are known; the first directory's are read once.
    assert_eq!(
        ok(loaded.page(&mut fresh, 3 * FAN)),
        ok(seg.page(&mut pager, 3 * FAN))
    );
    assert_eq!(reads(&mut fresh), 0);
    assert_eq!(ok(loaded.page(&mut fresh, 1)), ok(seg.page(&mut pager, 1)));
    assert_eq!(reads(&mut fresh), 1);
    assert_eq!(ok(loaded.page(&mut fresh, 0)), ok(seg.page(&mut pager, 0)));
    assert_eq!(ok(loaded.page(&mut fresh, 7)), 0);
    assert_eq!(reads(&mut fresh), 0);
    // A range reads the directories it covers; a walk of every page reads the rest.
    let range = ok(loaded.range(&mut fresh, FAN - 1, 2 * FAN + 6));
    assert_eq!(reads(&mut fresh), 2);
    assert_eq!(range[1], ok(seg.page(&mut pager, FAN)));
    assert_eq!(range[FAN + 6], ok(seg.page(&mut pager, 2 * FAN + 5)));
    let mut all = Vec::new();
    ok(loaded.pages(&mut fresh, &mut |p, _| all.push(p)));
    let mut expected = Vec::new();
    ok(seg.pages(&mut pager, &mut |p, _| expected.push(p)));
    assert_eq!(all, expected);
}

/// The open-time walk of a key index names leaves without reading them, so it checks what
/// a branch names itself: a leaf out of range or linked twice is damage.
#[test]
fn the_open_time_key_walk_refuses_bad_leaf_links() {
    let (mut pager, _) = ok(Pager::open(Box::new(MemStorage::new()), true));
    let mut root = 0;
    // Keys far from any page number, so that only a child link matches one below.
    for i in 0..3000i64 {
        let key = (1 << 50) + i;
        if let keys::Inserted::Root(r) = ok(keys::insert(&mut pager, root, key, i as u64)) {
            root = r;
        }
    }
    ok(pager.commit());
    let mut leaves = Vec::new();
    ok(keys::walk(&mut pager, root, None, &mut |p, k| {
        if k == crate::page::PageKind::KeyLeaf {
            leaves.push(p)
        }
    }));
    let image = match pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => panic!("not a memory heap"),
    };
    let size = crate::storage::PAGE_SIZE;
    let at = root as usize * size;
    let page = &image[at..at + size];
    let link = (crate::page::HEADER_LEN..size - 8)
        .find(|&o| page[o..o + 8] == leaves[0].to_le_bytes())
        .unwrap_or_else(|| panic!("no link to leaf {} in the root", leaves[0]));
    for bad in [1u64 << 40, leaves[1]] {
        let mut damaged = image.clone();
        let page = &mut damaged[at..at + size];
        page[link..link + 8].copy_from_slice(&bad.to_le_bytes());
        let crc = crc32fast::hash(&page[8..]);
        page[4..8].copy_from_slice(&crc.to_le_bytes());
        let (mut p, _) = ok(Pager::open(Box::new(MemStorage::from_bytes(damaged)), true));
        match keys::walk_linked(&mut p, root, &mut |_, _| {}) {
            Ok(()) => panic!("a link to {bad} was accepted"),
            Err(e) => assert!(e.to_string().contains("key index"), "{e}"),
        }
    }
}
