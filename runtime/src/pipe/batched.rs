//! Running a pipeline batch by batch through stage kernels (see `crate::kernel`).
//!
//! A terminal that drains its pipeline (or one that stops early, when no stage writes)
//! asks for batches with [`PipeRun::for_terminal`]. When the stages have a plan, the run
//! reads a batch of source elements, runs every stage over it in kernels, and queues what
//! comes out. A batch a kernel cannot decide is run again by the interpreter, element by
//! element, with the same stage state: the results and diagnostics are the interpreter's.

use super::{PipeRun, SourceIter, Stage, StageState};
use crate::error::{RtError, RtResult};
use crate::kernel::eval::KResult;
use crate::pipe::batch::{BatchDone, MEMORY_BATCH, Produced, list_batch, range_batch, table_batch};
use crate::pipe::explain::TerminalArgs;
use crate::pipe::native::{NativeRun, Ran};
use crate::pipe::plan::{Plan, PlanSource};
use crate::pipe::shards::{block_end, block_units, range_block, table_block};
use crate::value::Value;
use crate::vm::Vm;
use walia_store::ROWS_PER_PAGE;

impl PipeRun {
    /// Called by a terminal before it pulls: run in batches when the stages allow it.
    /// `drains`: the terminal reads every element (so a stage that writes rows may run a
    /// batch ahead of what the terminal has taken).
    /// Inside `fused { ... }`, a pipeline outside the native subset is an error.
    pub fn for_terminal(
        &mut self,
        vm: &mut Vm,
        terminal: &TerminalArgs,
        drains: bool,
    ) -> RtResult<()> {
        // Borrowed through a second reference to the stream: no copy of its stages.
        let what = self.what.clone();
        let (source, stages): (&Value, &[Stage]) = match &what {
            Value::Stream(p) => (&p.source, &p.stages),
            other => (other, &[]),
        };
        let plan = crate::pipe::plan::bind(vm, source, stages);
        // A terminal's own function must be pure too: it runs between batches.
        let pure_terminal = terminal.function.is_none_or(|f| {
            plan.as_ref().is_ok_and(|p| {
                crate::pipe::explain::bind_terminal_function(
                    vm,
                    &mut p.clone(),
                    f,
                    &self.what,
                    terminal.name,
                )
                .is_ok()
            })
        });
        // A checkpointed run's position must be exact: no batch may read past what a
        // terminal or a `take` that stops early consumed. (`needs_cursor`: the run is
        // checkpointed and its cursor is not open yet.)
        let exact = !self.needs_cursor
            || (drains
                && !stages
                    .iter()
                    .any(|s| matches!(s, Stage::Take(_) | Stage::TakeWhile(_))));
        let batchable = plan
            .as_ref()
            .ok()
            .filter(|p| vm.jit && pure_terminal && exact && (drains || !p.writes()));
        // Compile before explaining, so the plan can say which tier runs it.
        let native = match batchable {
            // `parallel(n)` threads hand their pages' elements to the block, which folds
            // or joins them in source order.
            Some(p) if vm.native && p.threads() > 1 => {
                Some(crate::pipe::native::prepare_shards(vm, p, terminal.name))
            }
            // Compiled code reads ranges and tables only: a list's pipeline skips the
            // attempt unless `--explain` reports why.
            Some(p) if vm.native && (vm.explain || !matches!(p.source, PlanSource::List)) => {
                Some(crate::pipe::native::prepare(vm, p, terminal.name))
            }
            Some(_) => Some(Err("native compilation is off (WALIA_JIT=kernels)".into())),
            None => None,
        };
        if vm.explain {
            let tier = crate::pipe::native::tier_line(&native);
            crate::pipe::explain::report(vm, source, stages, terminal, &plan, tier);
        }
        if vm.fused > 0
            && let Some(why) = crate::pipe::explain::outside_subset(vm, &self.what, terminal, &plan)
        {
            return Err(RtError::new(format!(
                "fused: the pipeline cannot be compiled to a native loop: {why}"
            )));
        }
        // After every check that can fail: from here a checkpointed run is running, and
        // only `PipeRun::finish` ends it.
        self.open_cursor(vm, terminal)?;
        if !vm.jit || self.done {
            return Ok(());
        }
        if let (SourceIter::File(f), Some(Stage::Filter(pred))) = (&mut self.source, stages.first())
            && self.ckpt.is_none()
        {
            f.needle = crate::pipe::plan::contains_needle(vm, pred);
        }
        if batchable.is_some()
            && let Ok(plan) = plan
        {
            self.batches = Some(Box::new(plan));
            self.native = native.and_then(Result::ok).map(Box::new);
        }
        Ok(())
    }

    /// The next element when running in batches.
    pub(super) fn next_batched(&mut self, vm: &mut Vm) -> RtResult<Option<Value>> {
        loop {
            if let Some(v) = self.out.pop_front() {
                return Ok(Some(v));
            }
            if let Some(k) = self.next_number() {
                return Ok(Some(k.to_value()));
            }
            if let Some(old) = self.interpreting {
                if let Some(v) = self.next_in_interpreted_batch(vm, old)? {
                    return Ok(Some(v));
                }
                continue;
            }
            if self.done || self.pause_due() {
                return Ok(None);
            }
            vm.check_limits()?;
            if vm.progress.is_some() {
                self.report_progress(vm);
            }
            if self.ckpt.is_some() {
                // The source is positioned and its first batch is read now: a resume's
                // time ends here, not after the batch's stages and writes.
                self.note_first_element();
            }
            self.fill(vm)?;
        }
    }

    /// Each stage's take/skip count. Empty (no allocation) when no stage counts and no
    /// compiled code runs (which is handed one count per stage).
    fn counts(&self) -> Vec<i64> {
        if self.native.is_none() && !self.state.iter().any(|s| matches!(s, StageState::Count(_))) {
            return Vec::new();
        }
        self.state
            .iter()
            .map(|s| match s {
                StageState::Count(c) => *c,
                _ => 0,
            })
            .collect()
    }

    fn set_counts(&mut self, counts: &[i64]) {
        for (s, c) in self.state.iter_mut().zip(counts) {
            if let StageState::Count(n) = s {
                *n = *c;
            }
        }
    }

    /// Run the next batch (in kernels, or in the interpreter when they bail).
    fn fill(&mut self, vm: &mut Vm) -> RtResult<()> {
        let Some(plan) = self.batches.take() else {
            return Ok(());
        };
        let mut counts = self.counts();
        let threads = plan.threads();
        // A checkpointed run's batches and blocks end at the next boundary.
        let budget = self.budget();
        if threads == 1
            && let Some(mut native) = self.native.take()
        {
            let ran = self.run_native(&mut native, &plan, &mut counts, budget);
            self.native = Some(native);
            match ran {
                Ok(Some(done)) => {
                    self.take_batch(&counts, done);
                    self.batches = Some(plan);
                    return Ok(());
                }
                Ok(None) => {}
                Err(e) => {
                    self.batches = Some(plan);
                    return Err(e);
                }
            }
        }
        let native = self.native.take();
        let shard = native.as_ref().and_then(|n| n.shard_code());
        let (ran, stop): (Option<KResult<BatchDone>>, u64) = match &mut self.source {
            SourceIter::Table {
                table,
                next,
                end,
                chunk,
                at,
                ..
            } => {
                let from = continue_after_chunk(chunk, at, next);
                if threads > 1 {
                    // Slots are at least as many as live rows: a block of `budget` slots
                    // never passes the boundary (with deletions it may fall short).
                    let end = (*end).min(from.saturating_add(budget));
                    let units = block_units(threads, self.fold.is_some());
                    let stop = block_end(from, end, units, true);
                    (
                        table_block(
                            &plan,
                            *table,
                            (from, end),
                            threads,
                            (self.fold.as_mut(), shard),
                        )?,
                        stop,
                    )
                } else {
                    let per_page = ROWS_PER_PAGE as u64;
                    let stop = ((from / per_page + 1) * per_page).min(*end);
                    let ran = table_batch(&plan, &mut counts, *table, (from, *end), budget)?;
                    (ran, stop)
                }
            }
            SourceIter::Range { next, end } if threads > 1 => {
                let end = bounded(*next, *end, budget);
                let units = block_units(threads, self.fold.is_some()) * MEMORY_BATCH;
                let stop = next.saturating_add(units as i64).min(end);
                (
                    range_block(&plan, (*next, end), threads, (self.fold.as_mut(), shard)),
                    stop as u64,
                )
            }
            SourceIter::Range { next, end } => {
                let end = bounded(*next, *end, budget);
                let stop = next.saturating_add(MEMORY_BATCH as i64).min(end);
                (range_batch(&plan, &mut counts, *next, end), stop as u64)
            }
            SourceIter::List { list, next, end } => {
                let end = (*end as u64).min((*next as u64).saturating_add(budget));
                let stop = (*next as u64 + MEMORY_BATCH).min(end);
                (
                    list_batch(&plan, &mut counts, list, *next as u64, end),
                    stop,
                )
            }
            _ => {
                // Not a batch source after all: the interpreter runs the rest.
                self.done = false;
                return Ok(());
            }
        };
        self.native = native;
        let result = match ran {
            None => {
                self.done = true;
                Ok(())
            }
            Some(Ok(b)) => {
                self.take_batch(&counts, b);
                Ok(())
            }
            Some(Err(_)) => self.interpret_batch(vm, stop),
        };
        self.batches = Some(plan);
        result
    }

    /// Take a completed batch's counts, position and outputs.
    fn take_batch(&mut self, counts: &[i64], b: BatchDone) {
        self.set_counts(counts);
        self.read += b.read;
        self.seek(b.next);
        match b.out {
            Produced::Values(v) => self.out.extend(v),
            Produced::Numbers(n) => {
                self.numbers = n.into();
                self.numbers_at = 0;
            }
        }
        if b.closed {
            self.done = true;
        }
    }

    /// Run compiled code from the source's position: `None` when the kernels run the
    /// next batch instead (the compiled code bailed there, or is not used there).
    fn run_native(
        &mut self,
        native: &mut NativeRun,
        plan: &Plan,
        counts: &mut [i64],
        budget: u64,
    ) -> RtResult<Option<BatchDone>> {
        let fold = self.fold.as_mut();
        let ran = match &mut self.source {
            SourceIter::Table {
                table,
                next,
                end,
                chunk,
                at,
                ..
            } => {
                let from = chunk.get(*at).map_or(*next, |r| *r as u64);
                if native.resume_at.is_some_and(|r| from < r) {
                    return Ok(None);
                }
                continue_after_chunk(chunk, at, next);
                native.table_run(plan, counts, *table, (from, *end), budget, fold)?
            }
            SourceIter::Range { next, end } => {
                if native.resume_at.is_some_and(|r| *next < r as i64) {
                    return Ok(None);
                }
                native.range_run(counts, (*next, bounded(*next, *end, budget)), fold)
            }
            _ => return Ok(None),
        };
        Ok(match ran {
            Ran::Done(b) => Some(b),
            Ran::Kernels(resume) => {
                native.resume_at = Some(resume);
                None
            }
            Ran::End => None,
        })
    }

    fn seek(&mut self, to: u64) {
        match &mut self.source {
            SourceIter::Table { next, .. } => *next = to,
            SourceIter::Range { next, .. } => *next = to as i64,
            SourceIter::List { next, .. } => *next = to as usize,
            _ => {}
        }
    }

    /// Set the source's end (returning the old one).
    fn bound(&mut self, stop: u64) -> u64 {
        match &mut self.source {
            SourceIter::Table { end, .. } => std::mem::replace(end, stop.min(*end)),
            SourceIter::Range { end, .. } => std::mem::replace(end, (stop as i64).min(*end)) as u64,
            SourceIter::List { end, .. } => {
                std::mem::replace(end, (stop as usize).min(*end)) as u64
            }
            _ => stop,
        }
    }

    /// Hand the source elements before `stop` to the interpreter: they are pulled one at
    /// a time (a terminal that stops early reads no further than the interpreter would).
    fn interpret_batch(&mut self, _vm: &mut Vm, stop: u64) -> RtResult<()> {
        let old = self.bound(stop);
        self.interpreting = Some(old);
        Ok(())
    }

    /// The next element of a batch the interpreter runs; at the batch's end the source's
    /// real end is restored and `None` returned (then batches continue).
    fn next_in_interpreted_batch(&mut self, vm: &mut Vm, old: u64) -> RtResult<Option<Value>> {
        let next = self.next_interpreted(vm);
        if matches!(next, Ok(Some(_))) {
            return next;
        }
        self.interpreting = None;
        match &mut self.source {
            SourceIter::Table { end, .. } => *end = old,
            SourceIter::Range { end, .. } => *end = old as i64,
            SourceIter::List { end, .. } => *end = old as usize,
            _ => {}
        }
        if next.is_ok() && self.closed.is_none() {
            // The batch's end, not the source's.
            self.done = false;
        }
        next
    }
}

/// Where a table source continues: after the rows already taken from a chunk read ahead
/// (the chunk is dropped and the source positioned there).
fn continue_after_chunk(chunk: &mut Vec<u32>, at: &mut usize, next: &mut u64) -> u64 {
    let from = chunk.get(*at).map_or(*next, |r| *r as u64);
    chunk.clear();
    *at = 0;
    *next = from;
    from
}

/// A range's end, no more than `budget` elements after `next`.
fn bounded(next: i64, end: i64, budget: u64) -> i64 {
    let budget = i64::try_from(budget).unwrap_or(i64::MAX);
    end.min(next.saturating_add(budget))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `0..n |> sum()` ran in the interpreter, 65x slower than with a `map` stage: a
    /// pipeline without stages must batch too, and hand a numeric source's elements to
    /// the terminal as a column.
    #[test]
    fn a_bare_numeric_source_runs_in_batches_of_numbers() {
        let mut vm = Vm::new(Box::new(std::io::sink()));
        vm.jit = true;
        let list = Value::list((0..5000).map(Value::Int).collect());
        for source in [Value::range(0, 5000), list] {
            let mut run = PipeRun::new(&source, false).expect("a source");
            let sum = TerminalArgs {
                name: "sum",
                init: None,
                function: None,
                args: &[],
            };
            run.for_terminal(&mut vm, &sum, true).expect("planned");
            assert!(run.batches.is_some(), "no batches");
            assert!(matches!(run.next(&mut vm), Ok(Some(Value::Int(0)))));
            assert!(!run.numbers.is_empty(), "elements came as values");
        }
        // Elements that are not numbers still come as values.
        let words = Value::list(vec![Value::str("a"), Value::str("b")]);
        let mut run = PipeRun::new(&words, false).expect("a source");
        let collect = TerminalArgs {
            name: "collect",
            init: None,
            function: None,
            args: &[],
        };
        run.for_terminal(&mut vm, &collect, true).expect("planned");
        assert!(matches!(run.next(&mut vm), Ok(Some(Value::Str(s))) if s.as_str() == "a"));
        assert!(matches!(run.next(&mut vm), Ok(Some(Value::Str(s))) if s.as_str() == "b"));
        assert!(matches!(run.next(&mut vm), Ok(None)));
    }
}
