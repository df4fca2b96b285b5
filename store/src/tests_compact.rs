//! Compaction and dropping tables: the compacted file holds what the heap held (catalog
//! entries, every table's rows at their slots, ids, the commit numbering), has no free
//! page, passes `verify` and is as long as its pages; a locked heap is refused; a dropped
//! table's pages become free and a table made later under its name starts after its slots.

use crate::codec::{Writer, kind};
use crate::compact::{compact_file, temp_path};
use crate::error::{HeapError, HeapResult};
use crate::heap::{Durability, Heap, cursor_key, global_key, object_key};
use crate::inspect::verify;
use crate::storage::PAGE_SIZE;
use crate::table::Cell;
use std::collections::BTreeMap;
use std::path::Path;

fn ok<T>(r: HeapResult<T>) -> T {
    r.unwrap_or_else(|e| panic!("heap: {e}"))
}

fn tok<T>(r: crate::table::TableResult<T>) -> T {
    match r {
        Ok(v) => v,
        Err(crate::table::TableError::Heap(e)) => panic!("heap: {e}"),
        Err(crate::table::TableError::Data(m)) => panic!("data: {m}"),
    }
}

/// Add rows (a cell per column) to table `name`, creating it with `columns`; returns their
/// slots.
fn insert(heap: &mut Heap, name: &str, columns: &[&str], rows: Vec<Vec<Cell>>) -> Vec<u64> {
    let h = match ok(heap.table_exists(name)) {
        true => heap.tables.handle(name),
        false => ok(heap.create_table(name, false)),
    };
    let (t, pager) = ok(heap.table(h)).expect("table");
    for c in columns {
        if t.column_index(c).is_none() {
            t.add_column(c);
        }
    }
    rows.into_iter()
        .map(|cells| {
            let cells = tok(t.prepare(cells));
            tok(t.append(pager, &cells))
        })
        .collect()
}

fn with_table<R>(
    heap: &mut Heap,
    name: &str,
    f: impl FnOnce(&mut crate::Table, &mut crate::Pager) -> R,
) -> R {
    let h = heap.tables.handle(name);
    let (t, pager) = ok(heap.table(h)).expect("table");
    f(t, pager)
}

/// A heap holding what compaction must carry over, and garbage it must not.
fn fill(path: &Path) {
    let mut heap = ok(Heap::open_file(path, Durability::Batched));
    // Global `a` reaches objects 1 and 2; cursor `p` reaches 3; object 4 is garbage.
    let mut list = Writer::kind(kind::LIST);
    list.int(2);
    list.reference(2);
    list.str(&"x".repeat(3000));
    ok(heap.put(&object_key(1), &list.buf));
    let mut cell = Writer::kind(kind::CELL);
    cell.int(7);
    ok(heap.put(&object_key(2), &cell.buf));
    ok(heap.put(&object_key(3), &cell.buf));
    let mut garbage = Writer::kind(kind::LIST);
    garbage.int(1);
    garbage.str(&"g".repeat(20_000));
    ok(heap.put(&object_key(4), &garbage.buf));
    let mut a = Writer::default();
    a.reference(1);
    ok(heap.put(&global_key("a"), &a.buf));
    heap.note_stored("a");
    let mut n = Writer::default();
    n.int(42);
    ok(heap.put(&global_key("n"), &n.buf));
    let mut p = Writer::default();
    p.reference(3);
    ok(heap.put(&cursor_key("p"), &p.buf));
    heap.pager.meta_mut().next_id = 10;
    // Int ids over several pages, some deleted, some names rewritten.
    let rows = (0..3000)
        .map(|i| vec![Cell::Int(i * 3), Cell::Str(format!("name {i}"))])
        .collect();
    let slots = insert(&mut heap, "Ints", &["id", "name"], rows);
    with_table(&mut heap, "Ints", |t, pager| {
        for &s in slots.iter().step_by(7) {
            tok(t.delete(pager, s));
        }
        for &s in slots.iter().skip(1).step_by(11) {
            tok(t.set(pager, s, 1, Cell::Str("renamed".into())));
        }
    });
    let rows = (0..600)
        .map(|i| {
            vec![
                Cell::Str(format!("key-{i:04}")),
                Cell::Float(i as f64 / 4.0),
            ]
        })
        .collect();
    let slots = insert(&mut heap, "Strs", &["id", "score"], rows);
    with_table(&mut heap, "Strs", |t, pager| tok(t.delete(pager, slots[5])));
    // Cleared, then written again: rows start above the base.
    let rows = (0..700).map(|i| vec![Cell::Int(i)]).collect();
    insert(&mut heap, "Cleared", &["n"], rows);
    with_table(&mut heap, "Cleared", |t, pager| ok(t.clear(pager)));
    insert(
        &mut heap,
        "Cleared",
        &["n"],
        vec![vec![Cell::Int(1)], vec![Cell::Nil]],
    );
    ok(heap.create_table("Empty", true));
    insert(
        &mut heap,
        "Gone",
        &["n"],
        (0..10).map(|i| vec![Cell::Int(i)]).collect(),
    );
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    assert!(ok(heap.drop_table("Gone")));
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    ok(heap.pager.sync());
}

/// A table as compaction must keep it: name, slots, base, live rows, largest id, and the
/// (slot, cells) of each live row.
type TableContent = (String, u64, u64, u64, Option<i64>, Vec<(u64, Vec<Cell>)>);

/// What a heap holds, as compaction must keep it: every catalog entry but object records
/// and table records, the object ids, and each table.
#[derive(Debug, PartialEq)]
struct Content {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    objects: Vec<u64>,
    tables: Vec<TableContent>,
    next_id: u64,
}

fn content(heap: &mut Heap) -> Content {
    let mut entries = BTreeMap::new();
    let mut objects = Vec::new();
    for (k, v) in ok(heap.scan(b"")) {
        match k[0] {
            b'o' => objects.push(u64::from_be_bytes(k[1..].try_into().expect("id"))),
            b't' | b'm' => {}
            _ => {
                entries.insert(k, v);
            }
        }
    }
    let mut tables = Vec::new();
    for name in ok(heap.table_names()) {
        let rows = with_table(heap, &name, |t, pager| {
            let mut rows = Vec::new();
            for slot in t.base..t.slots {
                if ok(t.is_live(pager, slot)) {
                    let cells = (0..t.columns.len()).map(|c| ok(t.get(pager, slot, c)));
                    rows.push((slot, cells.collect()));
                }
            }
            (t.slots, t.base, t.live, t.max_id, rows)
        });
        tables.push((name, rows.0, rows.1, rows.2, rows.3, rows.4));
    }
    Content {
        entries,
        objects,
        tables,
        next_id: heap.pager.committed_meta().next_id,
    }
}

#[test]
fn a_compacted_heap_holds_the_same_content_and_no_free_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("h.wld");
    fill(&path);
    let (before, sequence, free_before) = {
        let mut heap = ok(Heap::open_reader(&path));
        let free = heap.pager.free_pages();
        (content(&mut heap), heap.commit_sequence(), free)
    };
    assert!(free_before > 0, "the test heap has free pages to give back");
    assert_eq!(before.objects, [1, 2, 3, 4]);
    // Left by a compaction that was cut short: removed, not in the way.
    std::fs::write(temp_path(&path), b"stale").expect("write stale copy");
    let mut calls = 0;
    let done = ok(compact_file(&path, &mut |_, _| calls += 1));
    assert!(calls > 0, "progress was reported");
    assert!(!temp_path(&path).exists(), "no temporary file is left");
    assert_eq!(done.records_dropped, 1);
    assert!(done.bytes_after < done.bytes_before, "{done:?}");
    let len = std::fs::metadata(&path).expect("metadata").len();
    assert_eq!(len, done.bytes_after);
    let mut heap = ok(Heap::open_reader(&path));
    assert_eq!(
        len,
        heap.pager.committed_meta().page_count * PAGE_SIZE as u64
    );
    assert_eq!(heap.pager.free_pages(), 0, "no free page is copied");
    assert_eq!(
        heap.commit_sequence(),
        sequence + 1,
        "the numbering carries on"
    );
    ok(verify(&mut heap));
    let after = content(&mut heap);
    assert_eq!(
        after.objects,
        [1, 2, 3],
        "the unreachable record is left behind"
    );
    assert_eq!(
        Content {
            objects: vec![1, 2, 3],
            ..before
        },
        after
    );
    // The copy is a heap a writer continues: ids, slots and the dropped table's count hold.
    drop(heap);
    let mut heap = ok(Heap::open_file(&path, Durability::Immediate));
    let slots = insert(
        &mut heap,
        "Ints",
        &["id"],
        vec![vec![Cell::Int(-1), Cell::Nil]],
    );
    assert_eq!(slots, [3000]);
    let slots = insert(&mut heap, "Gone", &["n"], vec![vec![Cell::Int(1)]]);
    assert_eq!(
        slots,
        [10],
        "a table made again starts after the dropped one's slots"
    );
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    ok(verify(&mut heap));
}

#[test]
fn a_locked_heap_is_not_compacted_and_stays_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("h.wld");
    fill(&path);
    let bytes = std::fs::read(&path).expect("read");
    let writer = ok(Heap::open_file(&path, Durability::Immediate));
    match compact_file(&path, &mut |_, _| {}) {
        Err(HeapError::Locked(_)) => {}
        other => panic!("expected the lock error, got {other:?}"),
    }
    drop(writer);
    assert!(!temp_path(&path).exists());
    // Only the writer's pid slot (outside every checksum) may differ.
    let now = std::fs::read(&path).expect("read");
    assert_eq!(now.len(), bytes.len());
    assert_eq!(now[PAGE_SIZE..], bytes[PAGE_SIZE..]);
    // Not a heap at all, or an empty file: refused without creating anything.
    std::fs::write(dir.path().join("empty.wld"), b"").expect("write");
    assert!(matches!(
        compact_file(&dir.path().join("empty.wld"), &mut |_, _| {}),
        Err(HeapError::NotAHeap)
    ));
    assert_eq!(
        std::fs::metadata(dir.path().join("empty.wld"))
            .expect("meta")
            .len(),
        0
    );
}

#[test]
fn dropping_a_table_frees_its_pages_and_keeps_its_slot_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("h.wld");
    let mut heap = ok(Heap::open_file(&path, Durability::Immediate));
    let rows = (0..5000)
        .map(|i| vec![Cell::Int(i), Cell::Str(format!("row {i}"))])
        .collect();
    insert(&mut heap, "T", &["id", "text"], rows);
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    let free = heap.pager.free_pages();
    let pages = ok(heap.table_infos())[0].pages as usize;
    assert!(ok(heap.drop_table("T")));
    assert!(!ok(heap.drop_table("T")), "a second drop finds nothing");
    assert!(!ok(heap.table_exists("T")));
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    assert!(
        heap.pager.free_pages() >= free + pages,
        "its pages are free"
    );
    assert!(ok(heap.table_names()).is_empty());
    ok(verify(&mut heap));
    // Later writes reuse them: the same rows again do not grow the file.
    let file_pages = heap.pager.file_pages();
    let rows = (0..5000)
        .map(|i| vec![Cell::Int(i), Cell::Str(format!("row {i}"))])
        .collect();
    insert(&mut heap, "Other", &["id", "text"], rows);
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    assert_eq!(heap.pager.file_pages(), file_pages);
    assert!(ok(heap.drop_table("Other")));
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    drop(heap);
    // Another process: a table made under the name starts after the old slots.
    let mut heap = ok(Heap::open_file(&path, Durability::Immediate));
    assert_eq!(
        insert(&mut heap, "T", &["id"], vec![vec![Cell::Int(1)]]),
        [5000]
    );
    ok(heap.flush_tables());
    ok(heap.pager.commit());
    assert!(
        ok(heap.get(b"dT")).is_none(),
        "the new table's record carries the count"
    );
    ok(verify(&mut heap));
    // A reader drops nothing.
    drop(heap);
    let mut reader = ok(Heap::open_reader(&path));
    assert!(matches!(reader.drop_table("T"), Err(HeapError::ReadOnly)));
    let h = reader.tables.handle("T");
    let (t, pager) = ok(reader.table(h)).expect("T");
    assert!(matches!(t.clear(pager), Err(HeapError::ReadOnly)));
}

#[test]
fn compacting_through_a_symbolic_link_replaces_the_file_it_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let real = dir.path().join("data");
    std::fs::create_dir(&real).expect("mkdir");
    let target = real.join("h.wld");
    fill(&target);
    let link = dir.path().join("link.wld");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let before = content(&mut ok(Heap::open_reader(&target)));
    ok(compact_file(&link, &mut |_, _| {}));
    let meta = std::fs::symlink_metadata(&link).expect("link");
    assert!(meta.file_type().is_symlink(), "the link stays a link");
    assert!(!temp_path(&target).exists() && !temp_path(&link).exists());
    let mut heap = ok(Heap::open_reader(&link));
    ok(verify(&mut heap));
    let after = content(&mut heap);
    assert_eq!(after.tables, before.tables);
    assert_eq!(after.entries, before.entries);
}
