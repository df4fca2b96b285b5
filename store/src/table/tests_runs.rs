//! Tests of the runs of pages segments reserve (pager/runs.rs): a column's data pages lie
//! in runs of consecutive pages, copies made by an update pass too, and no reserved page
//! leaks through a commit, a rollback or a clear.

use super::ROWS_PER_PAGE;
use super::segment::RUN_PAGES;
use super::store::Cell;
use crate::Heap;
use crate::page::PageKind;
use crate::pager::Pager;
use crate::storage::MemStorage;

use super::tests::{ok, tok};

const COLUMNS: usize = 3;
/// Data pages per column in these tests: several runs, the last one partial.
const PAGES: usize = 3 * RUN_PAGES as usize + 10;

/// A table "users" (id, age, score) created and committed empty.
fn new_heap() -> Heap {
    let mut heap = ok(Heap::in_memory());
    let h = ok(heap.create_table("users", true));
    let (t, _) = ok(heap.table(h)).expect("users");
    for name in ["id", "age", "score"] {
        t.add_column(name);
    }
    commit(&mut heap);
    heap
}

fn commit(heap: &mut Heap) {
    ok(heap.flush_tables());
    ok(heap.pager.commit());
}

/// Append rows with ids `from..to` (age = id % 90, score = id % 1000).
fn append(heap: &mut Heap, from: i64, to: i64) {
    let h = heap.tables.handle("users");
    let (t, pager) = ok(heap.table(h)).expect("users");
    for id in from..to {
        let row = tok(t.prepare(vec![
            Cell::Int(id),
            Cell::Int(id % 90),
            Cell::Int(id % 1000),
        ]));
        tok(t.append(pager, &row));
    }
}

/// Each column's data pages, by page index.
fn column_pages(heap: &mut Heap) -> Vec<Vec<u64>> {
    let h = heap.tables.handle("users");
    let (t, pager) = ok(heap.table(h)).expect("users");
    let pages = t.slots.div_ceil(ROWS_PER_PAGE as u64) as usize;
    ok(t.page_lists(pager, 0..COLUMNS, (0, pages))).0
}

/// The lengths of the runs of consecutive ascending page numbers in `pages`.
fn runs(pages: &[u64]) -> Vec<usize> {
    let mut out = vec![];
    let mut len = 0;
    for (i, &p) in pages.iter().enumerate() {
        if i > 0 && pages[i - 1] + 1 == p {
            len += 1;
        } else {
            if len > 0 {
                out.push(len);
            }
            len = 1;
        }
    }
    if len > 0 {
        out.push(len);
    }
    out
}

/// Every run but the last is at least `RUN_PAGES` long.
fn assert_in_runs(pages: &[u64], what: &str) {
    let lens = runs(pages);
    let (_, whole) = lens.split_last().expect("pages");
    assert!(
        whole.iter().all(|&n| n >= RUN_PAGES as usize),
        "{what}: runs {lens:?}"
    );
}

/// Every run but the last is at least half of `RUN_PAGES` long, but for at most
/// `short` runs: those made of pages a commit gave back.
fn assert_mostly_in_runs(pages: &[u64], short: usize, what: &str) {
    let lens = runs(pages);
    let (_, whole) = lens.split_last().expect("pages");
    let n = whole
        .iter()
        .filter(|&&n| n < RUN_PAGES as usize / 2)
        .count();
    assert!(n <= short, "{what}: runs {lens:?}");
}

/// The committed image reopened: `verify` passes (no page both used and free, none
/// leaked), and the free list holds at most `max_free` pages.
fn verify_image(heap: &Heap, max_free: u64) {
    let image = match heap.pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => panic!("not in memory"),
    };
    let mut reopened = ok(Heap::with_storage(
        Box::new(MemStorage::from_bytes(image)),
        "copy",
    ));
    ok(crate::inspect::verify(&mut reopened));
    let free = reopened.pager.committed_meta().freelist_len;
    assert!(
        free <= max_free,
        "{free} pages free, expected at most {max_free}"
    );
}

/// Pages a commit may leave free: what is left of each segment's run, and a little more.
const LEFT_OVER: u64 = (COLUMNS as u64 + 2) * RUN_PAGES;

/// An import: one transaction appends every row.
#[test]
fn appended_column_pages_lie_in_runs() {
    let mut heap = new_heap();
    append(&mut heap, 1, (PAGES * ROWS_PER_PAGE) as i64 + 1);
    commit(&mut heap);
    for (c, pages) in column_pages(&mut heap).iter().enumerate() {
        assert!(pages.iter().all(|&p| p != 0));
        assert_in_runs(pages, &format!("column {c}"));
    }
    verify_image(&heap, LEFT_OVER);
}

/// Appends in several transactions: each commit gives back what is left of each column's
/// run, and the next transaction's runs start with those (the free list before the end of
/// the file), so a few runs are short.
#[test]
fn columns_appended_by_several_commits_lie_mostly_in_runs() {
    let mut heap = new_heap();
    let rows = (PAGES * ROWS_PER_PAGE) as i64;
    let step = rows / 4;
    for from in (1..=rows).step_by(step as usize) {
        append(&mut heap, from, (from + step).min(rows + 1));
        commit(&mut heap);
        verify_image(&heap, LEFT_OVER);
    }
    for (c, pages) in column_pages(&mut heap).iter().enumerate() {
        assert_mostly_in_runs(pages, 4, &format!("column {c}"));
    }
}

#[test]
fn copies_made_by_update_passes_lie_in_runs() {
    let mut heap = new_heap();
    append(&mut heap, 1, (PAGES * ROWS_PER_PAGE) as i64 + 1);
    commit(&mut heap);
    let before = column_pages(&mut heap)[2].clone();
    let file = heap.pager.meta().page_count;
    // Pass 0 copies every score page: into what the append left of its runs, then from
    // the end of the file. Later passes reuse the pages the pass before freed, lowest
    // first, so in the runs those were in.
    for pass in 0..4 {
        let h = heap.tables.handle("users");
        let (t, pager) = ok(heap.table(h)).expect("users");
        for row in t.base..t.slots {
            let Cell::Int(score) = ok(t.get(pager, row, 2)) else {
                panic!("score");
            };
            tok(t.set(pager, row, 2, Cell::Int(score + 1)));
        }
        commit(&mut heap);
        let after = column_pages(&mut heap)[2].clone();
        if pass == 0 {
            assert!(after.iter().zip(&before).all(|(a, b)| a != b));
        }
        assert_mostly_in_runs(&after, 2, &format!("score after pass {pass}"));
        verify_image(&heap, PAGES as u64 + LEFT_OVER);
    }
    // Pass 0 grew the file by one column's pages; later passes reused freed ones.
    let grown = heap.pager.meta().page_count - file;
    assert!(
        grown <= (PAGES as u64 + 2 * RUN_PAGES) * 2,
        "the file grew by {grown} pages"
    );
}

#[test]
fn a_rollback_after_a_partial_append_leaks_nothing() {
    let mut heap = new_heap();
    append(&mut heap, 1, 1000);
    commit(&mut heap);
    let pages = heap.pager.meta().page_count;
    // Back to a savepoint: runs reserved after it are forgotten with the pages.
    ok(heap.flush_tables());
    ok(heap.pager.savepoint());
    append(&mut heap, 1000, 1000 + 3 * ROWS_PER_PAGE as i64);
    assert!(heap.pager.rollback_to_savepoint());
    heap.forget_tables();
    heap.pager.release_savepoint();
    assert_eq!(heap.pager.meta().page_count, pages);
    append(&mut heap, 1000, 1200);
    commit(&mut heap);
    verify_image(&heap, LEFT_OVER);
    // Back to the last commit.
    append(&mut heap, 1200, 1200 + 3 * ROWS_PER_PAGE as i64);
    ok(heap.flush_tables());
    heap.pager.rollback();
    heap.forget_tables();
    append(&mut heap, 1200, 1300);
    commit(&mut heap);
    verify_image(&heap, LEFT_OVER);
    let h = heap.tables.handle("users");
    let (t, _) = ok(heap.table(h)).expect("users");
    assert_eq!(t.live, 1299);
}

#[test]
fn clearing_a_table_with_a_run_leaks_nothing() {
    let mut heap = new_heap();
    append(&mut heap, 1, 2000);
    commit(&mut heap);
    append(&mut heap, 2000, 3000);
    let h = heap.tables.handle("users");
    let (t, pager) = ok(heap.table(h)).expect("users");
    ok(t.clear(pager));
    commit(&mut heap);
    verify_image(&heap, u64::MAX);
    append(&mut heap, 1, 700);
    commit(&mut heap);
    verify_image(&heap, u64::MAX);
}

/// A run's id outlives neither a savepoint nor a rollback: the pages go back to the
/// transaction, and the id hands out nothing more (so never a page someone else holds).
#[test]
fn a_run_is_taken_back_at_a_savepoint_and_a_rollback() {
    let (mut pager, _) = ok(Pager::open(Box::new(MemStorage::new()), true));
    ok(pager.commit());
    let (first, run) = ok(pager.allocate_run(PageKind::Column, 8));
    assert_eq!(
        ok(pager.allocate_from(run, PageKind::Column)),
        Some(first + 1)
    );
    ok(pager.savepoint());
    assert_eq!(ok(pager.allocate_from(run, PageKind::Column)), None);
    // The six pages given back are handed out again, in ascending order and as a run.
    assert_eq!(ok(pager.allocate(PageKind::Column)), first + 2);
    let (next, run) = ok(pager.allocate_run(PageKind::Column, 64));
    assert_eq!(next, first + 3);
    assert!(pager.rollback_to_savepoint());
    assert_eq!(ok(pager.allocate_from(run, PageKind::Column)), None);
    pager.rollback();
    assert_eq!(ok(pager.allocate_from(run, PageKind::Column)), None);
    // A run reserved and given back unused leaves a commit that accounts for its pages.
    let (_, run) = ok(pager.allocate_run(PageKind::Column, 64));
    pager.release_run(run);
    ok(pager.commit());
    // (Less what the commit's own pages took.)
    let free = pager.committed_meta().freelist_len;
    assert!((60..=64).contains(&free), "{free} pages free");
    // The next run comes from the free list, not from the end of the file.
    let count = pager.meta().page_count;
    let (p, run) = ok(pager.allocate_run(PageKind::Column, 64));
    let mut got = vec![p];
    while let Some(p) = ok(pager.allocate_from(run, PageKind::Column)) {
        got.push(p);
    }
    assert_eq!(pager.meta().page_count, count);
    assert!(got.windows(2).all(|w| w[0] + 1 == w[1]), "{got:?}");
    assert!(got.len() >= 60, "{} pages", got.len());
}
