//! `parallel(n)` (SPEC §10): a block of a table's pages (or of a range's numbers) split
//! into contiguous shards, run through the plan's stages on `n` threads; the
//! outputs are joined in source order. Only plans whose stages are filters and maps
//! (pure, order-free) are sharded. Threads read the validated pages of the mapped file in
//! place; nothing they touch is a script value. If any shard bails, the whole block is
//! run again on one thread by the interpreter, so results and errors are the serial ones.

use super::batch::{
    BatchDone, MEMORY_BATCH, Numbers, Outputs, Produced, TablePage, live_positions, no_coerce,
    page_numbers, row_outputs, run_stages, values, with_rows,
};
use super::eval::{Bail, Elements, KResult};
use super::plan::{Plan, PlanStage};
use crate::error::RtResult;
use crate::heap::pager::{PageKind, Pager, check_kind};
use crate::table::handle::TableId;
use crate::table::store::ROWS_PER_PAGE;
use crate::value::Value;

/// Pages (or range batches) each thread runs per block.
pub const PER_THREAD: u64 = 256;

/// Each thread's share of a block is cut into this many pieces, which the pool's threads
/// take as they are free: a thread the host preempts for a while leaves its pieces to the
/// others instead of holding up the whole block.
const SPLITS_PER_THREAD: usize = 8;

/// Where a block that starts at row (or number) `from` ends.
pub fn block_end(from: u64, end: u64, threads: usize, table: bool) -> u64 {
    let unit = if table {
        ROWS_PER_PAGE as u64
    } else {
        MEMORY_BATCH
    };
    let units = PER_THREAD * threads as u64;
    if table {
        ((from / unit + units) * unit).min(end)
    } else {
        from.saturating_add(units * unit).min(end)
    }
}

/// The worker threads of `parallel(n)`, one pool per thread count, kept for the process:
/// warm threads (and their allocator caches) for every block.
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

/// Run `work` over `items` cut into contiguous pieces ([`SPLITS_PER_THREAD`] per thread)
/// on `threads` threads; results in order.
fn sharded<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> KResult<R> + Sync,
) -> KResult<Vec<R>> {
    use rayon::prelude::*;
    let per = items
        .len()
        .div_ceil(threads.max(1) * SPLITS_PER_THREAD)
        .max(1);
    let run = |part: &[T]| {
        // A shard that panicked is a bail: the interpreter runs the block.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            part.iter().map(&work).collect::<KResult<Vec<R>>>()
        }))
        .unwrap_or(Err(Bail))
    };
    let parts: Vec<KResult<Vec<R>>> = match pool(threads) {
        Some(pool) => pool.install(|| items.par_chunks(per).map(run).collect()),
        None => items.chunks(per).map(run).collect(),
    };
    let mut out = Vec::with_capacity(items.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
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
    let live = live_positions(span.deletion, span.page.first, span.len);
    let read = live.len() as u64;
    let mut counts = vec![0; stages.len()];
    let done = run_stages(stages, &mut counts, &span.page, live, &no_coerce)?;
    Ok((read, done.outputs))
}

/// A page's bytes, noting it in `list` when its check is still due.
fn due_page<'a>(pager: &'a Pager, page: u64, list: &mut Vec<(u64, &'a [u8])>) -> Option<&'a [u8]> {
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
    from: u64,
    end: u64,
    threads: usize,
) -> RtResult<Option<KResult<BatchDone>>> {
    with_rows(plan, table, from, end, |t, pager, columns, from, end| {
        let stop = block_end(from, end, threads, true);
        let per_page = ROWS_PER_PAGE as u64;
        // Each page: (first row, end row, deletion page, column pages).
        let mut located = Vec::new();
        let mut row = from;
        while row < stop {
            let page_end = ((row / per_page + 1) * per_page).min(stop);
            let (deletion, pages) = page_numbers(t, columns, row);
            for p in pages.iter().chain(std::iter::once(&deletion)) {
                if *p != 0 && pager.unchecked(*p).is_none() {
                    // Out of range: the pager's own read reports it.
                    pager.page(*p, PageKind::Column)?;
                }
            }
            located.push((row, page_end, deletion, pages));
            row = page_end;
        }
        let mut due_pages = Vec::new();
        let reader: &Pager = pager;
        let spans: Vec<PageSpan> = {
            located
                .iter()
                .map(|(row, page_end, deletion, pages)| {
                    let mut list = Vec::new();
                    let deletion = (*deletion != 0)
                        .then(|| due_page(reader, *deletion, &mut list))
                        .flatten();
                    let columns = pages
                        .iter()
                        .zip(columns)
                        .map(|(p, (_, ty))| {
                            let bytes = (*p != 0).then(|| due_page(reader, *p, &mut list));
                            (bytes.flatten(), *ty)
                        })
                        .collect();
                    PageSpan {
                        from: *row,
                        len: (page_end - row) as usize,
                        deletion,
                        page: TablePage {
                            first: (row % per_page) as usize,
                            columns,
                        },
                        due: list,
                    }
                })
                .collect()
        };
        due_pages.extend(spans.iter().flat_map(|s| s.due.iter().map(|(p, _)| *p)));
        let stages = plan.stages.as_slice();
        let ran = sharded(&spans, threads, |span| {
            run_page(stages, span).map(|(read, out)| (span.from, read, out))
        });
        drop(spans);
        let pages = match ran {
            Ok(p) => p,
            Err(b) => return Ok(Some(Err(b))),
        };
        for p in due_pages {
            pager.mark_checked(p);
        }
        let mut read = 0;
        let mut out = Produced::Numbers(Vec::new());
        for (first, n, outputs) in pages {
            read += n;
            out.append(row_outputs(outputs, table, first));
        }
        Ok(Some(Ok(BatchDone {
            read,
            next: stop,
            out,
            closed: false,
        })))
    })
}

/// The block of a range's numbers from `from`, on `threads` threads.
pub fn range_block(plan: &Plan, from: i64, end: i64, threads: usize) -> Option<KResult<BatchDone>> {
    if from >= end {
        return None;
    }
    let units = (PER_THREAD * threads as u64) as i128;
    let total = (end as i128 - from as i128).min(units * MEMORY_BATCH as i128) as i64;
    let starts: Vec<i64> = (0..total)
        .step_by(MEMORY_BATCH as usize)
        .map(|o| from + o)
        .collect();
    let stop = from + total;
    let stages = plan.stages.as_slice();
    let ran = sharded(&starts, threads, |&first| {
        let len = (stop - first).min(MEMORY_BATCH as i64) as usize;
        let numbers = Numbers { first };
        let elements: &dyn Elements = &numbers;
        let mut counts = vec![0; stages.len()];
        let live = (0..len as u32).collect();
        run_stages(stages, &mut counts, elements, live, &no_coerce).map(|d| (first, d.outputs))
    });
    Some(ran.map(|batches| {
        let mut out = Produced::Numbers(Vec::new());
        for (first, outputs) in batches {
            out.append(values(outputs, |i| Value::Int(first + i as i64)));
        }
        BatchDone {
            read: total as u64,
            next: stop as u64,
            out,
            closed: false,
        }
    }))
}
