//! Running a compiled pipeline (`crate::native`): the per-page driver.
//!
//! The driver walks a table's pages (or a range's chunks), checks what the compiled code
//! assumes — every column it reads is present in the rows given (no nil), the page is
//! validated, a checkpoint boundary is not crossed — and calls the function once per page.
//! A page the function bails on, or that the driver does not give it, is run by the
//! batch kernels instead (`fill`), so the chain is compiled → kernels → interpreter.

use super::batch::{BatchDone, MEMORY_BATCH, Produced, page_numbers, with_rows};
use super::plan::Plan;
use crate::db::handle::{RowRef, TableId};
use crate::error::RtResult;
use crate::kernel::eval::Col;
use crate::kernel::fold::{Fold, FoldKind, Sum};
use crate::native::ir::{NPlan, Sink, Ty, Want};
use crate::native::{BAIL, CLOSED, NativeArgs, NativeCode, OK, interval, presence_masks};
use crate::value::Value;
use crate::vm::Vm;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use walia_store::column_page::{self, BITMAP_AT, VALUES_AT};
use walia_store::{PageKind, ROWS_PER_PAGE, TableError};

mod shard;

pub(crate) use shard::{MAX_SHARD_FIELDS, ShardCode};

/// Pages one call of [`table_run`] may cover when folding (about a million rows: limits
/// and progress are polled between calls).
const FOLD_PAGES: u64 = 2048;
/// Pages per call when the elements go to the terminal.
const EMIT_PAGES: u64 = 64;
/// Range chunks one call of [`NativeRun::range_run`] may cover when folding (about a
/// million numbers, a millisecond or two: limits are polled between calls).
const RANGE_CHUNKS: u64 = 1024;
/// A range's elements per call of the compiled function (the kernels' batch, so a chunk
/// that bails is exactly one kernel batch).
const RANGE_CHUNK: u64 = MEMORY_BATCH;

/// One compiled plan.
pub(crate) struct Compiled {
    code: Box<dyn NativeCode>,
    /// How long compiling took, in microseconds.
    pub micros: u64,
}

/// Compiled plans of one VM, by plan (the least recently compiled go first).
#[derive(Default)]
pub(crate) struct NativeCache {
    map: HashMap<NPlan, Result<Rc<Compiled>, String>>,
    order: VecDeque<NPlan>,
}

const CACHE_SIZE: usize = 64;

impl NativeCache {
    /// The compiled code of `plan` (compiling it now if needed), and whether it was
    /// compiled by this call.
    pub fn get(&mut self, plan: &NPlan) -> Result<(Rc<Compiled>, bool), String> {
        if let Some(done) = self.map.get(plan) {
            return done.clone().map(|c| (c, false));
        }
        let compiler = crate::native::compiler().ok_or("no native compiler in this build")?;
        let started = std::time::Instant::now();
        let compiled = compiler.compile(plan).map(|code| {
            Rc::new(Compiled {
                code,
                micros: started.elapsed().as_micros() as u64,
            })
        });
        if self.order.len() >= CACHE_SIZE
            && let Some(old) = self.order.pop_front()
        {
            // A run still holding it keeps it alive (`Rc`).
            self.map.remove(&old);
        }
        self.order.push_back(plan.clone());
        self.map.insert(plan.clone(), compiled.clone());
        compiled.map(|c| (c, true))
    }
}

/// A pipeline run's compiled function and its state.
pub(crate) struct NativeRun {
    pub plan: NPlan,
    consts: Vec<u64>,
    pub code: Rc<Compiled>,
    /// Compiled code is not used before this source position (the page or chunk it bailed
    /// on runs in kernels; a range's position is its number's bits).
    pub resume_at: Option<u64>,
    read_fields: Vec<u16>,
    written: Option<u16>,
    out: Vec<u64>,
    stored: Vec<u64>,
    flags: Vec<u8>,
}

/// What a call of the driver did.
pub(crate) enum Ran {
    /// Pages or chunks done (at least one, or the pipeline closed).
    Done(BatchDone),
    /// The first page or chunk must run in kernels; compiled code resumes at `.0`.
    Kernels(u64),
    /// Nothing left to read.
    End,
}

/// Every N-th page bails (`WALIA_JIT_BAIL=N`): exercises the fallback chain in tests.
fn forced_bail(page: u64) -> bool {
    static EVERY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let every = *EVERY.get_or_init(|| {
        std::env::var("WALIA_JIT_BAIL")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    });
    every > 0 && page % every == every - 1
}

impl NativeRun {
    pub fn new(plan: NPlan, consts: Vec<u64>, code: Rc<Compiled>) -> NativeRun {
        let read_fields = plan.read_fields();
        let written = plan.written_field();
        NativeRun {
            plan,
            consts,
            code,
            resume_at: None,
            read_fields,
            written,
            out: Vec::new(),
            stored: Vec::new(),
            flags: Vec::new(),
        }
    }

    fn args(&mut self, counts: &mut [i64]) -> NativeArgs {
        NativeArgs {
            consts: self.consts.as_ptr(),
            counts: counts.as_mut_ptr(),
            ..NativeArgs::empty()
        }
    }

    /// Does the code fold the elements itself (rather than hand them out)?
    fn folds(&self) -> bool {
        matches!(self.plan.sink, Sink::Count | Sink::SumInt | Sink::SumFloat)
    }

    /// Load the terminal's fold into the arguments; `false` when this sink cannot
    /// continue it (a Float sum given Int elements, or no fold where one is needed).
    fn load_fold(&self, args: &mut NativeArgs, fold: &Option<&mut Fold>) -> bool {
        let sink = self.plan.sink;
        if !self.folds() {
            return true;
        }
        let Some(f) = fold else {
            return false;
        };
        args.count = f.count;
        match (sink, f.kind, f.sum) {
            (Sink::Count, _, _) => true,
            (Sink::SumInt, FoldKind::Sum, Sum::Int(s)) => {
                args.acc_int = s;
                true
            }
            (Sink::SumFloat, FoldKind::Sum, Sum::Int(s)) => {
                args.acc_float = s as f64;
                true
            }
            (Sink::SumFloat, FoldKind::Sum, Sum::Float(s)) => {
                args.acc_float = s;
                true
            }
            _ => false,
        }
    }

    /// Store what the function accumulated into the terminal's fold.
    fn store_fold(&self, args: &NativeArgs, fold: &mut Option<&mut Fold>) {
        let Some(f) = fold.as_deref_mut().filter(|_| self.folds()) else {
            return;
        };
        let added = args.count > f.count;
        f.count = args.count;
        match self.plan.sink {
            Sink::SumInt => f.sum = Sum::Int(args.acc_int),
            // The first Float added makes the sum a Float (`s as f64 + x`).
            Sink::SumFloat if added || matches!(f.sum, Sum::Float(_)) => {
                f.sum = Sum::Float(args.acc_float)
            }
            _ => {}
        }
    }

    /// What the emitted outputs of one call hand to the terminal.
    fn produced(&self, emitted: usize, table: Option<(TableId, u64)>) -> Produced {
        let out = &self.out[..emitted];
        match (self.plan.sink, table) {
            (Sink::Values(Ty::Int), _) => {
                Produced::Numbers(vec![Col::Int(out.iter().map(|b| *b as i64).collect())])
            }
            (Sink::Values(Ty::Float), _) => Produced::Numbers(vec![Col::Float(
                out.iter().map(|b| f64::from_bits(*b)).collect(),
            )]),
            (Sink::Values(Ty::Bool), _) => {
                Produced::Numbers(vec![Col::Bool(out.iter().map(|b| *b != 0).collect())])
            }
            (Sink::Rows, Some((table, base))) => Produced::Values(
                out.iter()
                    .map(|slot| {
                        Value::Row(RowRef {
                            table,
                            row: (base + slot) as u32,
                        })
                    })
                    .collect(),
            ),
            _ => Produced::Numbers(Vec::new()),
        }
    }

    fn call(&self, args: &mut NativeArgs) -> u32 {
        call(self.code.code.entry(), args)
    }

    /// What `parallel(n)` threads call: the function (its sink gives the elements) and
    /// the run's constants. The code stays alive while `self` does.
    pub fn shard_code(&self) -> Option<ShardCode<'_>> {
        let sink = self.plan.sink;
        matches!(
            sink,
            Sink::Values(_) | Sink::Rows | Sink::Count | Sink::SumIntBounded
        )
        .then(|| ShardCode {
            entry: self.code.code.entry(),
            consts: &self.consts,
            sink,
            read_fields: &self.read_fields,
            counts_itself: self.plan.drops(),
        })
    }

    /// Run the table rows from `from` (before `end`), up to `budget` live rows, a page at
    /// a time, folding into `fold` or producing the elements.
    pub fn table_run(
        &mut self,
        plan: &Plan,
        counts: &mut [i64],
        table: TableId,
        (from, end): (u64, u64),
        budget: u64,
        mut fold: Option<&mut Fold>,
    ) -> RtResult<Ran> {
        let folding = self.folds();
        let max_pages = if folding { FOLD_PAGES } else { EMIT_PAGES };
        let per_page = ROWS_PER_PAGE as u64;
        let this = &mut *self;
        let ran = with_rows(plan, table, from, end, |t, pager, columns, from, end| {
            let mut args = this.args(counts);
            if !this.load_fold(&mut args, &fold) {
                // The terminal's fold is not one this code continues: kernels from here.
                return Ok(Some(Ran::Kernels(end)));
            }
            if this.written.is_some() && !pager.writable {
                // The kernels write only rows the stages reach, so a read-only heap is an
                // error only if one is: not decided here.
                return Ok(Some(Ran::Kernels(end)));
            }
            let mut produced: Option<Produced> = None;
            let (mut row, mut read, mut pages) = (from, 0u64, 0u64);
            let mut closed = false;
            let mut col_ptrs: Vec<*const u64> = vec![std::ptr::null(); columns.len()];
            while row < end && pages < max_pages {
                let page_end = ((row / per_page + 1) * per_page).min(end);
                let (first, last) = ((row % per_page) as usize, (page_end - 1) % per_page);
                let stop = last as usize + 1;
                let kernels = Ok(Some(Ran::Kernels(page_end)));
                if forced_bail(row / per_page) {
                    if pages == 0 {
                        return kernels;
                    }
                    break;
                }
                let (deletion, numbers) = page_numbers(t, pager, columns, row)?;
                for p in numbers.iter().chain(std::iter::once(&deletion)) {
                    if *p != 0 {
                        pager.page(*p, PageKind::Column)?;
                    }
                }
                let dead = (deletion != 0).then(|| pager.validated(deletion));
                let live =
                    stop - first - dead.map_or(0, |d| column_page::count_bits(d, first, stop));
                // A read column never written (all nil), or a checkpoint boundary inside
                // the page: the kernels run it. (A nil in a written page makes the code
                // bail: it checks the presence bits itself.)
                let unwritten = this.read_fields.iter().any(|f| numbers[*f as usize] == 0);
                if unwritten || read + live as u64 > budget {
                    if pages == 0 {
                        return kernels;
                    }
                    break;
                }
                // Null: nothing deleted in range (the function then tests no bitmap).
                let dead_bits = match dead {
                    Some(d) if live < stop - first => d[BITMAP_AT..].as_ptr(),
                    _ => std::ptr::null(),
                };
                for (ptr, p) in col_ptrs.iter_mut().zip(&numbers) {
                    *ptr = if *p == 0 {
                        std::ptr::null()
                    } else {
                        pager.validated(*p)[VALUES_AT..].as_ptr().cast()
                    };
                }
                if this.out.len() < ROWS_PER_PAGE {
                    this.out.resize(ROWS_PER_PAGE, 0);
                    this.stored.resize(ROWS_PER_PAGE, 0);
                    this.flags.resize(ROWS_PER_PAGE, 0);
                }
                if this.written.is_some() {
                    this.flags.fill(0);
                }
                let masks = presence_masks(first, stop);
                args.cols = col_ptrs.as_ptr();
                args.present = masks.as_ptr();
                args.dead = dead_bits;
                args.first = first as u64;
                args.end = stop as u64;
                args.out = this.out.as_mut_ptr();
                args.stored = this.stored.as_mut_ptr();
                args.written = this.flags.as_mut_ptr();
                let status = this.call(&mut args);
                if status == BAIL {
                    if pages == 0 {
                        return kernels;
                    }
                    // The pages before are done; this one runs in kernels next.
                    break;
                }
                if status != OK && status != CLOSED {
                    return Err(TableError::Data(format!(
                        "internal error: the native loop returned {status}"
                    )));
                }
                if let Some(w) = this.written
                    && this.flags[first..stop].iter().any(|f| *f != 0)
                {
                    // Only now, with nothing left that can fail, is the page made writable
                    // (copied, or allocated: the mapping may move, and no pointer into it
                    // is held any more) and are the rows' new values stored: a page with
                    // no row written is not copied, as in the other tiers.
                    let page = t.column_page_for_write(pager, columns[w as usize].0, row)?;
                    let buf = pager.page_mut(page)?;
                    column_page::write_flagged(buf, &this.stored, &this.flags, first, stop);
                }
                let dead = (deletion != 0).then(|| pager.validated(deletion));
                // Rows before the one after a close were read (less deleted ones).
                let to = if status == CLOSED {
                    (args.end_at as usize).clamp(first, stop)
                } else {
                    stop
                };
                let read_here =
                    (to - first - dead.map_or(0, |d| column_page::count_bits(d, first, to))) as u64;
                read += read_here;
                if !this.plan.drops() {
                    // Every row read came out (the code leaves this count to us).
                    args.count += read_here;
                }
                if !folding {
                    let out =
                        this.produced(args.emitted as usize, Some((table, row - row % per_page)));
                    match &mut produced {
                        Some(p) => p.append(out),
                        None => produced = Some(out),
                    }
                }
                this.store_fold(&args, &mut fold);
                pages += 1;
                if status == CLOSED {
                    row = row - row % per_page + to as u64;
                    closed = true;
                    break;
                }
                row = page_end;
            }
            let out = produced.unwrap_or(Produced::Numbers(Vec::new()));
            Ok(Some(Ran::Done(BatchDone {
                read,
                next: row,
                out,
                closed,
            })))
        })?;
        Ok(ran.unwrap_or(Ran::End))
    }

    /// Run a range's numbers from `from` (before `end`), a chunk at a time.
    pub fn range_run(
        &mut self,
        counts: &mut [i64],
        (from, end): (i64, i64),
        mut fold: Option<&mut Fold>,
    ) -> Ran {
        if from >= end {
            return Ran::End;
        }
        let folding = self.folds();
        let chunks = if folding { RANGE_CHUNKS } else { EMIT_PAGES };
        let mut args = self.args(counts);
        if !self.load_fold(&mut args, &fold) {
            return Ran::Kernels(end as u64);
        }
        if self.out.len() < RANGE_CHUNK as usize {
            self.out.resize(RANGE_CHUNK as usize, 0);
        }
        let (mut at, mut read, mut done) = (from, 0u64, 0u64);
        let mut produced: Option<Produced> = None;
        let mut closed = false;
        while at < end && done < chunks {
            let n = (end as i128 - at as i128).min(RANGE_CHUNK as i128) as u64;
            if forced_bail(at.unsigned_abs() / RANGE_CHUNK) {
                if done == 0 {
                    return Ran::Kernels(next_chunk(at, end));
                }
                break;
            }
            args.start = at;
            args.first = 0;
            args.end = n;
            let last = at + (n as i64 - 1);
            let proved =
                interval::range_chunk_proved(&self.plan, &self.consts, (at, last), n, args.acc_int);
            args.proved = proved as u64;
            args.out = self.out.as_mut_ptr();
            let status = self.call(&mut args);
            if status != OK && status != CLOSED {
                if done == 0 {
                    return Ran::Kernels(next_chunk(at, end));
                }
                break;
            }
            if !folding {
                let out = self.produced(args.emitted as usize, None);
                match &mut produced {
                    Some(p) => p.append(out),
                    None => produced = Some(out),
                }
            }
            let to = if status == CLOSED {
                args.end_at.min(n)
            } else {
                n
            };
            read += to;
            if !self.plan.drops() {
                // Every number read came out (the code leaves this count to us).
                args.count += to;
            }
            self.store_fold(&args, &mut fold);
            done += 1;
            at += to as i64;
            if status == CLOSED {
                closed = true;
                break;
            }
        }
        Ran::Done(BatchDone {
            read,
            next: at as u64,
            out: produced.unwrap_or(Produced::Numbers(Vec::new())),
            closed,
        })
    }
}

/// Call a compiled function.
fn call(f: crate::native::PipeFn, args: &mut NativeArgs) -> u32 {
    // SAFETY: every caller (`table_run`, `range_run`, `ShardCode::run`) fills `args` as
    // `NativeArgs` documents: column pointers point `VALUES_AT` bytes into pages the pager
    // validated (kind and checksum), so the 64 bytes before each are that page's presence
    // bitmap, and stay mapped for the call (nothing allocates or remaps during it);
    // `present` is null or points to eight words;
    // `first..end` lies within one page (at most ROWS_PER_PAGE slots) or is a range
    // chunk, and `out`, `stored`, `written` and `counts` point to buffers of at least
    // `end` entries and one per plan stage. The function was compiled from the plan
    // these arguments were made for, and its code lives as long as the `Compiled`
    // the caller holds.
    unsafe { f(args) }
}

/// The end of the kernel batch starting at `at`.
fn next_chunk(at: i64, end: i64) -> u64 {
    at.saturating_add(RANGE_CHUNK as i64).min(end) as u64
}

/// What a terminal asks of the native loop.
pub(crate) fn want(terminal: &str) -> Want {
    match terminal {
        "count" | "run" | "length" => Want::Count,
        "sum" | "avg" => Want::Sum,
        _ => Want::Elements,
    }
}

/// [`prepare`] for `parallel(n)` threads: a count or an Int sum is folded per page on the
/// threads (a bounded sum, see [`Sink::SumIntBounded`]); anything else hands the elements
/// to the block, which folds or joins them in source order.
pub(crate) fn prepare_shards(
    vm: &mut Vm,
    plan: &Plan,
    terminal: &str,
) -> Result<NativeRun, String> {
    if crate::native::compiler().is_none() {
        return Err("no native compiler in this build".into());
    }
    let lowered = crate::native::ir::lower(plan, want(terminal));
    let (mut nplan, consts) = match lowered {
        Ok((p, c)) if matches!(p.sink, Sink::Count | Sink::SumInt) => (p, c),
        _ => crate::native::ir::lower(plan, Want::Elements)?,
    };
    if nplan.sink == Sink::SumInt {
        nplan.sink = Sink::SumIntBounded;
    }
    let (code, _) = vm.native_cache.get(&nplan)?;
    Ok(NativeRun::new(nplan, consts, code))
}

/// Lower and compile (or find in the cache) the plan of a pipeline ending in `terminal`.
pub(crate) fn prepare(vm: &mut Vm, plan: &Plan, terminal: &str) -> Result<NativeRun, String> {
    if crate::native::compiler().is_none() {
        return Err("no native compiler in this build".into());
    }
    let (nplan, consts) = crate::native::ir::lower(plan, want(terminal))?;
    let (code, _) = vm.native_cache.get(&nplan)?;
    Ok(NativeRun::new(nplan, consts, code))
}

/// What `--explain` adds to the terminal's line of a pipeline in the native subset: which
/// tier runs it (`None`: outside it, the interpreter runs it).
pub(crate) fn tier_line(native: &Option<Result<NativeRun, String>>) -> Option<String> {
    Some(match native.as_ref()? {
        Ok(run) => {
            let name = crate::native::compiler().map_or("native", |c| c.name());
            format!(
                "[native loop: {name}, compiled in {:.2} ms]",
                run.code.micros as f64 / 1000.0
            )
        }
        Err(why) => format!("[batch kernels: {why}]"),
    })
}

/// The tier line of `:explain` (which compiles without running).
pub fn explain_tier(vm: &mut Vm, plan: &Result<Plan, String>, terminal: &str) -> Option<String> {
    let plan = plan.as_ref().ok()?;
    if !vm.jit {
        return None;
    }
    let native = if !vm.native {
        Err("native compilation is off (WALIA_JIT=kernels)".into())
    } else if plan.threads() > 1 {
        prepare_shards(vm, plan, terminal)
    } else {
        prepare(vm, plan, terminal)
    };
    tier_line(&Some(native))
}
