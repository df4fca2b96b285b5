//! `parallel(n)` (SPEC §10): a block of a table's pages (or of a range's numbers) cut
//! into pieces that `n` threads (the script's and n - 1 of a pool) take as they come free
//! and run through the plan's stages; the outputs are joined, or folded into the
//! terminal's count or sum, in source order. Only plans whose stages are filters and maps
//! (pure, order-free) are sharded. Threads read the pages of the mapped file in place and
//! check those not yet checked; nothing they touch is a script value. If any piece bails,
//! the whole block is run again on one thread by the interpreter, so results and errors
//! are the serial ones.

use super::batch::{
    BatchDone, MEMORY_BATCH, Numbers, Produced, TablePage, live_positions, no_coerce,
    numbers_or_values, row_outputs, run_stages, with_rows,
};
use super::native::{MAX_SHARD_FIELDS, ShardCode};
use super::plan::{Plan, PlanStage};
use crate::db::handle::TableId;
use crate::error::RtResult;
use crate::kernel::eval::{Bail, Elements, KResult, Outputs};
use crate::kernel::fold::Fold;
use crate::value::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use walia_store::PageView;
use walia_store::ROWS_PER_PAGE;
use walia_store::column_page;
use walia_store::{PageKind, RELEASE_EVERY, check_kind};

/// Pages (or range batches) per thread in a block whose outputs a fold takes as pieces
/// complete: large, so that per-block costs (waking a pool thread, listing the pages)
/// are rare.
const PER_THREAD_FOLDED: u64 = 1024;

/// ... and in a block whose outputs are held for the terminal until the block ends.
const PER_THREAD_KEPT: u64 = 256;

/// A block never spans more pages (or batches) than this, whatever the thread count:
/// what a block holds for its terminal stays bounded.
const MAX_BLOCK: u64 = 2048;

/// Pages (or range batches) in a block on `threads` threads; `folding`: the terminal's
/// fold takes the outputs.
pub fn block_units(threads: usize, folding: bool) -> u64 {
    let per = if folding {
        PER_THREAD_FOLDED
    } else {
        PER_THREAD_KEPT
    };
    (per * threads as u64).min(MAX_BLOCK)
}

/// Pages (or range batches) in each piece of a block. Threads take the next piece as
/// they come free, so pieces finish about in source order and a thread the host preempts
/// for a while leaves the rest of the block to the others.
const PIECE: usize = 16;

/// Where a block of `units` pages (or batches) that starts at row (or number) `from` ends.
pub fn block_end(from: u64, end: u64, units: u64, table: bool) -> u64 {
    let unit = if table {
        ROWS_PER_PAGE as u64
    } else {
        MEMORY_BATCH
    };
    if table {
        ((from / unit + units) * unit).min(end)
    } else {
        from.saturating_add(units * unit).min(end)
    }
}

/// The helper threads of `parallel(n)` (n - 1 of them: the script's thread works too),
/// one pool per count, kept for the process: warm threads (and their allocator caches)
/// for every block.
fn pool(threads: usize) -> Option<std::sync::Arc<rayon::ThreadPool>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock().ok()?;
    if let Some(p) = pools.get(&threads) {
        return Some(p.clone());
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("walia-parallel-{i}"))
            .build()
            .ok()?,
    );
    pools.insert(threads, p.clone());
    Some(p)
}

/// The pieces of a block that are done, folded in source order as soon as every earlier
/// piece is.
struct Chain<R> {
    /// The first piece not yet folded.
    next: usize,
    /// Results of finished pieces waiting for an earlier one.
    waiting: Vec<Option<Vec<R>>>,
    /// The block's fold (a copy: it replaces the terminal's only if the block completes).
    fold: Option<Fold>,
    /// Results the fold did not take (from the first it could not), in order.
    kept: Vec<R>,
    bailed: bool,
}

impl<R> Chain<R> {
    fn finish(&mut self, piece: usize, results: Vec<R>, absorb: impl Fn(&mut Fold, &R) -> bool) {
        self.waiting[piece] = Some(results);
        while let Some(ready) = self.waiting.get_mut(self.next).and_then(Option::take) {
            self.next += 1;
            for r in ready {
                let taken =
                    self.kept.is_empty() && self.fold.as_mut().is_some_and(|f| absorb(f, &r));
                if !taken {
                    self.kept.push(r);
                }
            }
        }
    }
}

/// Run `work` over `items` on `threads` threads, in pieces of [`PIECE`] items that each
/// thread takes as it comes free (`work` gets a piece, and gives a result per item). With a fold, each piece's results are folded in source
/// order by whichever thread completes the chain (`absorb` takes a result or declines
/// it). The calling thread takes pieces too, and runs `alongside` before each of them.
/// Returns the results not folded, in order, and the fold.
fn sharded<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    (fold, mut alongside): (Option<Fold>, impl FnMut()),
    work: impl Fn(&[T]) -> KResult<Vec<R>> + Sync,
    absorb: impl Fn(&mut Fold, &R) -> bool + Sync,
) -> KResult<(Vec<R>, Option<Fold>)> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    let pieces = items.len().div_ceil(PIECE);
    let chain = Mutex::new(Chain {
        next: 0,
        waiting: (0..pieces).map(|_| None).collect(),
        fold,
        kept: Vec::new(),
        bailed: false,
    });
    let taken = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let worker = |before_piece: &mut dyn FnMut()| {
        loop {
            before_piece();
            let i = taken.fetch_add(1, Ordering::Relaxed);
            if i >= pieces || stop.load(Ordering::Relaxed) {
                return;
            }
            let part = &items[i * PIECE..((i + 1) * PIECE).min(items.len())];
            // A piece that panicked is a bail: the interpreter runs the block.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(part)))
                .unwrap_or(Err(Bail));
            let mut c = chain.lock().unwrap_or_else(|e| e.into_inner());
            match ran {
                Ok(results) => c.finish(i, results, &absorb),
                Err(_) => {
                    c.bailed = true;
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    };
    // The calling thread is one of the `threads`: it is running already, where a pool
    // thread woken for each block starts late on a virtual machine (half a millisecond
    // and more has been seen).
    let helpers = if threads > 1 { pool(threads - 1) } else { None };
    match helpers {
        Some(pool) => pool.in_place_scope(|scope| {
            scope.spawn_broadcast(|_, _| worker(&mut || {}));
            worker(&mut alongside);
        }),
        None => worker(&mut alongside),
    }
    let c = chain.into_inner().unwrap_or_else(|e| e.into_inner());
    if c.bailed || c.next < pieces {
        return Err(Bail);
    }
    Ok((c.kept, c.fold))
}

/// Did a piece come out folded (which only a fold can take)?
fn any_folded<F>(results: &[(F, Outputs)]) -> bool {
    results
        .iter()
        .any(|(_, o)| matches!(o, Outputs::Folded { .. }))
}

/// One page of a block: its first row, length, and pages.
struct PageSpan<'p> {
    from: u64,
    len: usize,
    deletion: Option<&'p [u8]>,
    page: TablePage<'p>,
    /// Pages not yet checked in this process: the thread checks them before it reads
    /// (so the checksums are computed, and the pages faulted in, in parallel too).
    due: Vec<(u64, &'p [u8])>,
}

fn run_page(stages: &[PlanStage], span: &PageSpan) -> KResult<(u64, Outputs)> {
    if !span
        .due
        .iter()
        .all(|(p, bytes)| check_kind(bytes, *p, PageKind::Column))
    {
        // The interpreter reads the block again and reports the damaged page.
        return Err(Bail);
    }
    let first = span.page.first;
    let live = live_positions(span.deletion, first, span.len);
    let read = live.len() as u64;
    let mut counts = vec![0; stages.len()];
    let done = run_stages(stages, &mut counts, &span.page, live, &no_coerce)?;
    Ok((read, done.outputs))
}

/// The page numbers of a block: per plan field, its column's pages, and the deletion
/// marks' pages (0: none), each indexed from the block's first page.
type BlockPages<'a> = (&'a [Vec<u64>], &'a [u64], usize);

/// One page (the one holding `row`, up to `stop`) through the compiled code, reading the
/// pages straight from the block's lists: the kernels' view of the page is built only
/// when the code cannot run it (`None`: a nil in a column read, or a bail). Pages checked
/// here for the first time go to `due`.
fn native_page(
    code: &ShardCode,
    reader: &PageView,
    (columns, deletions, index): BlockPages,
    (row, stop): (u64, u64),
    due: &mut Vec<u64>,
) -> KResult<Option<(u64, Outputs)>> {
    let per_page = ROWS_PER_PAGE as u64;
    let mut read = |page: u64| -> KResult<Option<&[u8]>> {
        if page == 0 {
            return Ok(None);
        }
        let (bytes, check) = reader.unchecked(page).ok_or(Bail)?;
        if check && !due.contains(&page) {
            if !check_kind(bytes, page, PageKind::Column) {
                // The interpreter reads the block again and reports the damaged page.
                return Err(Bail);
            }
            due.push(page);
        }
        Ok(Some(bytes))
    };
    let mut pages: [Option<&[u8]>; MAX_SHARD_FIELDS] = [None; MAX_SHARD_FIELDS];
    if columns.len() > MAX_SHARD_FIELDS {
        return Ok(None);
    }
    for (slot, list) in pages.iter_mut().zip(columns) {
        *slot = read(list.get(index).copied().unwrap_or(0))?;
    }
    let deletion = read(deletions.get(index).copied().unwrap_or(0))?;
    let first = (row % per_page) as usize;
    let end = (((row / per_page + 1) * per_page).min(stop) - row) as usize + first;
    let deleted = deletion.map_or(0, |d| column_page::count_bits(d, first, end));
    Ok(code
        .run(&pages[..columns.len()], deletion, (first, end), 0)
        .map(|out| ((end - first - deleted) as u64, out)))
}

/// A page's bytes, noting it in `list` when its check is still due.
fn due_page<'a>(
    pager: &PageView<'a>,
    page: u64,
    list: &mut Vec<(u64, &'a [u8])>,
) -> Option<&'a [u8]> {
    let (bytes, check) = pager.unchecked(page)?;
    if check {
        list.push((page, bytes));
    }
    Some(bytes)
}

/// The block of table rows from `from` to [`block_end`], on `threads` threads.
pub fn table_block(
    plan: &Plan,
    table: TableId,
    (from, end): (u64, u64),
    threads: usize,
    (fold, native): (Option<&mut Fold>, Option<ShardCode>),
) -> RtResult<Option<KResult<BatchDone>>> {
    with_rows(plan, table, from, end, |t, pager, columns, from, end| {
        let units = block_units(threads, fold.is_some());
        let stop = block_end(from, end, units, true);
        let per_page = ROWS_PER_PAGE as u64;
        // The first row of each page of the block.
        let starts: Vec<u64> = std::iter::successors(Some(from), |r| {
            Some((r / per_page + 1) * per_page).filter(|next| *next < stop)
        })
        .collect();
        // The page numbers of the block's pages (directories read here: the threads
        // cannot), indexed from the block's first page.
        let (first_page, end_page) = ((from / per_page) as usize, stop.div_ceil(per_page) as usize);
        let (column_pages, deletion_pages) = t.page_lists(
            pager,
            columns.iter().map(|(c, _)| *c),
            (first_page, end_page),
        )?;
        // A page number out of range is reported now, as the serial run would, even when
        // no row of its page would be read.
        let bad = column_pages
            .iter()
            .chain(std::iter::once(&deletion_pages))
            .flatten()
            .find(|p| **p != 0 && !pager.view().in_range(**p));
        if let Some(p) = bad {
            pager.page(*p, PageKind::Column)?;
        }
        let touched_before = *pager.touched();
        let reader = pager.view();
        // Each thread finds, reads and checks (when not yet checked) the pages of its own
        // rows. (A page number out of range, ruled out above, would bail.)
        let page_index = |row: u64| (row / per_page) as usize - first_page;
        let span_of = |&row: &u64| -> KResult<PageSpan> {
            let index = page_index(row);
            let page_at = |pages: &[u64]| pages.get(index).copied().unwrap_or(0);
            let mut list = Vec::new();
            let mut read_page = |page: u64| -> KResult<Option<&[u8]>> {
                if page == 0 {
                    return Ok(None);
                }
                due_page(&reader, page, &mut list).map(Some).ok_or(Bail)
            };
            let deletion = read_page(page_at(&deletion_pages))?;
            let columns = column_pages
                .iter()
                .zip(columns)
                .map(|(pages, (_, ty))| Ok((read_page(page_at(pages))?, *ty)))
                .collect::<KResult<_>>()?;
            Ok(PageSpan {
                from: row,
                len: (((row / per_page + 1) * per_page).min(stop) - row) as usize,
                deletion,
                page: TablePage {
                    first: (row % per_page) as usize,
                    columns,
                },
                due: list,
            })
        };
        let stages = plan.stages.as_slice();
        let read = AtomicU64::new(0);
        let due_pages = std::sync::Mutex::new(Vec::new());
        // Resident pages are released as pages are checked (as the pager does), by this
        // thread between its pieces: the others go on meanwhile.
        let checked = AtomicU64::new(0);
        let mut released_at = 0;
        let release = || {
            let touched = touched_before + checked.load(Ordering::Relaxed);
            if touched - released_at >= RELEASE_EVERY {
                released_at = touched;
                reader.release_resident();
            }
        };
        let ran = sharded(
            &starts,
            threads,
            (fold.as_deref().copied(), release),
            |rows| {
                // Counters shared by the threads are touched once per piece, not per page.
                let mut outputs = Vec::with_capacity(rows.len());
                let (mut n_read, mut due) = (0, Vec::new());
                for row in rows {
                    if let Some(code) = native {
                        let index = page_index(*row);
                        if let Some((n, out)) = native_page(
                            &code,
                            &reader,
                            (&column_pages, &deletion_pages, index),
                            (*row, stop),
                            &mut due,
                        )? {
                            n_read += n;
                            outputs.push((*row, out));
                            continue;
                        }
                    }
                    let span = span_of(row)?;
                    let (n, out) = run_page(stages, &span)?;
                    n_read += n;
                    for (p, _) in &span.due {
                        if !due.contains(p) {
                            due.push(*p);
                        }
                    }
                    outputs.push((span.from, out));
                }
                read.fetch_add(n_read, Ordering::Relaxed);
                if !due.is_empty() {
                    checked.fetch_add(due.len() as u64, Ordering::Relaxed);
                    let mut all = due_pages.lock().unwrap_or_else(|e| e.into_inner());
                    all.extend(due);
                }
                Ok(outputs)
            },
            |f, (_, out)| f.absorb(out),
        );
        let (pages, folded) = match ran {
            Ok(p) if !any_folded(&p.0) => p,
            // A piece folded on a thread that the fold could not take: the interpreter
            // runs the block (as for a bail), which reports what the serial run would.
            Ok(_) => return Ok(Some(Err(Bail))),
            Err(b) => return Ok(Some(Err(b))),
        };
        for p in due_pages.into_inner().unwrap_or_else(|e| e.into_inner()) {
            pager.mark_checked_uncounted(p);
        }
        *pager.touched() = touched_before + checked.into_inner() - released_at;
        if let (Some(f), Some(done)) = (fold, folded) {
            *f = done;
        }
        let mut out = Produced::Numbers(Vec::new());
        for (first, outputs) in pages {
            out.append(row_outputs(outputs, table, first));
        }
        Ok(Some(Ok(BatchDone {
            read: read.into_inner(),
            next: stop,
            out,
            closed: false,
        })))
    })
}

/// The block of a range's numbers from `from`, on `threads` threads.
pub fn range_block(
    plan: &Plan,
    (from, end): (i64, i64),
    threads: usize,
    (fold, native): (Option<&mut Fold>, Option<ShardCode>),
) -> Option<KResult<BatchDone>> {
    if from >= end {
        return None;
    }
    let units = block_units(threads, fold.is_some()) as i128;
    let total = (end as i128 - from as i128).min(units * MEMORY_BATCH as i128) as i64;
    let starts: Vec<i64> = (0..total)
        .step_by(MEMORY_BATCH as usize)
        .map(|o| from + o)
        .collect();
    let stop = from + total;
    let stages = plan.stages.as_slice();
    let ran = sharded(
        &starts,
        threads,
        (fold.as_deref().copied(), || {}),
        |firsts| {
            firsts
                .iter()
                .map(|&first| {
                    let len = (stop - first).min(MEMORY_BATCH as i64) as usize;
                    if let Some(out) = native.and_then(|c| c.run(&[], None, (0, len), first)) {
                        return Ok((first, out));
                    }
                    let numbers = Numbers { first };
                    let elements: &dyn Elements = &numbers;
                    let mut counts = vec![0; stages.len()];
                    let live = (0..len as u32).collect();
                    run_stages(stages, &mut counts, elements, live, &no_coerce)
                        .map(|d| (first, d.outputs))
                })
                .collect()
        },
        |f, (first, out)| f.absorb_range(out, *first),
    );
    let ran = ran.and_then(|r| if any_folded(&r.0) { Err(Bail) } else { Ok(r) });
    Some(ran.map(|(batches, folded)| {
        if let (Some(f), Some(done)) = (fold, folded) {
            *f = done;
        }
        let mut out = Produced::Numbers(Vec::new());
        for (first, outputs) in batches {
            out.append(numbers_or_values(outputs, &Numbers { first }, |i| {
                Value::Int(first + i as i64)
            }));
        }
        BatchDone {
            read: total as u64,
            next: stop as u64,
            out,
            closed: false,
        }
    }))
}
