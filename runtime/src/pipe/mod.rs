//! Pipelines (DESIGN decision 5): `|>` into a lazy stage builds a [`Pipeline`] descriptor
//! (source + stages); a terminal runs it through ONE fused loop, [`PipeRun`], which pulls
//! each element from the source through every stage before reading the next.
//!
//! `for` loops iterate through the same [`PipeRun`], so there is one iteration mechanism.
//! The executor owns the loop: this is where chunking over row ranges, checkpoints,
//! progress and interrupts plug in.

pub(crate) mod accumulate;
pub(crate) mod batch;
mod batched;
pub(crate) mod checkpoint;
pub(crate) mod cursor;
pub(crate) mod explain;
pub(crate) mod files;
pub(crate) mod native;
mod pending;
pub(crate) mod plan;
pub(crate) mod shards;
pub use pending::TakenNumbers;
mod source;
mod terminal;

use source::SourceIter;

use crate::db::handle::RowRef;
use crate::error::{RtError, RtResult};
use crate::gc::GcHeader;
use crate::kernel::eval::Col;
use crate::kernel::fold::Fold;
use crate::pipe::plan::Plan;
use crate::value::*;
use crate::vm::Vm;
use std::collections::VecDeque;
use std::rc::Rc;

/// A lazy stage of a pipeline.
#[derive(Clone)]
pub enum Stage {
    Filter(Value),
    Map(Value),
    Take(i64),
    Skip(i64),
    TakeWhile(Value),
    Each(Value),
    Enumerate,
    FlatMap(Value),
    /// `db_insert(table)`: insert each element into the table (a name or a table value,
    /// created when missing), passing the element on.
    DbInsert(Value),
    /// `parallel(n)` (SPEC §10): run the pure stages over shards of the source on `n`
    /// threads. Passes elements on unchanged; the executor decides how to split.
    Parallel(i64),
    /// `checkpoint_at(n, name)` (SPEC §9): the pipe has a persistent cursor and commits
    /// every `n` source elements. Passes elements on unchanged.
    CheckpointAt(Rc<checkpoint::CheckpointSpec>),
}

impl Stage {
    /// The value this stage holds (a function or a table), if any.
    pub(crate) fn into_value(self) -> Option<Value> {
        match self {
            Stage::Filter(v)
            | Stage::Map(v)
            | Stage::TakeWhile(v)
            | Stage::Each(v)
            | Stage::FlatMap(v)
            | Stage::DbInsert(v) => Some(v),
            Stage::Take(_)
            | Stage::Skip(_)
            | Stage::Enumerate
            | Stage::Parallel(_)
            | Stage::CheckpointAt(_) => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Stage::Filter(_) => "filter",
            Stage::Map(_) => "map",
            Stage::Take(_) => "take",
            Stage::Skip(_) => "skip",
            Stage::TakeWhile(_) => "take_while",
            Stage::Each(_) => "each",
            Stage::Enumerate => "enumerate",
            Stage::FlatMap(_) => "flat_map",
            Stage::DbInsert(_) => "db_insert",
            Stage::Parallel(_) => "parallel",
            Stage::CheckpointAt(_) => "checkpoint_at",
        }
    }

    fn function(&self) -> Option<&Value> {
        match self {
            Stage::Filter(f)
            | Stage::Map(f)
            | Stage::TakeWhile(f)
            | Stage::Each(f)
            | Stage::FlatMap(f) => Some(f),
            _ => None,
        }
    }
}

/// A stream: an immutable, reusable description of a pipeline. Running it again re-reads
/// the source.
pub struct Pipeline {
    pub gc: GcHeader,
    /// A list, range, string or map (never another stream: adding a stage copies).
    pub source: Value,
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// `source |> stage`: a new stream. A stream source is extended, not nested.
    pub fn with_stage(source: &Value, stage: Stage) -> RtResult<Value> {
        let (src, mut stages) = match source {
            Value::Stream(p) => (p.source.clone(), p.stages.clone()),
            other => {
                check_iterable(other)?;
                (other.clone(), Vec::new())
            }
        };
        stages.push(stage);
        let rc = Rc::new(Pipeline {
            gc: GcHeader::default(),
            source: src,
            stages,
        });
        crate::gc::track(&rc);
        Ok(Value::Stream(rc))
    }

    /// A stream reading `source` with no stage yet (`lines(path)`).
    pub fn of_source(source: Value) -> Value {
        let rc = Rc::new(Pipeline {
            gc: GcHeader::default(),
            source,
            stages: Vec::new(),
        });
        crate::gc::track(&rc);
        Value::Stream(rc)
    }

    /// Every value this stream refers to (for the cycle collector).
    pub(crate) fn values(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.source);
        for s in &self.stages {
            if let Some(v) = s.function() {
                f(v);
            }
        }
    }
}

fn check_iterable(v: &Value) -> RtResult<()> {
    match v {
        Value::List(_)
        | Value::Range(_)
        | Value::Str(_)
        | Value::Map(_)
        | Value::Stream(_)
        | Value::Table(_)
        | Value::File(_) => Ok(()),
        other => Err(RtError::new(format!(
            "cannot iterate over a value of type {}",
            other.type_name()
        ))),
    }
}

/// What [`PipeRun::next_row`] found.
pub enum RowStep {
    Row(RowRef),
    /// Not a plain table scan, or the chunk of rows read ahead is used up: take the general
    /// path.
    Other,
}

/// Per-run state of a stage.
enum StageState {
    Count(i64),
    /// flat_map: the elements of the current inner collection.
    Inner(Option<Box<SourceIter>>),
    None,
}

/// One execution of a pipeline: the fused pull loop.
pub struct PipeRun {
    source: SourceIter,
    stages: Vec<Stage>,
    state: Vec<StageState>,
    done: bool,
    /// The deepest stage that will pass nothing more (a take that reached its count).
    closed: Option<usize>,
    /// Elements counted for limit polling.
    tick: u32,
    /// Source elements read so far.
    read: u64,
    /// The stage running now (for errors: which stage, at which element).
    stage: Option<usize>,
    /// What is being run (a stream, or a bare source), for planning.
    what: Value,
    /// Running batch by batch through stage kernels (see `crate::kernel`).
    batches: Option<Box<Plan>>,
    /// The plan compiled to machine code (see `crate::native`), run before the kernels.
    native: Option<Box<native::NativeRun>>,
    /// Elements a batch produced, not yet taken.
    out: VecDeque<Value>,
    /// Values batches' last map produced, not yet taken (the front chunk from
    /// `numbers_at` on).
    numbers: VecDeque<Col>,
    numbers_at: usize,
    /// A batch is being run by the interpreter: the source's real end, restored after.
    interpreting: Option<u64>,
    /// The terminal's fold during [`PipeRun::next_folding`].
    fold: Option<Fold>,
    /// A checkpointed run: its cursor's bookkeeping (see `checkpoint`).
    ckpt: Option<Box<checkpoint::Checkpointing>>,
    /// A checkpointed stream not started by a terminal (a `for` loop): an error at the
    /// first element, since nothing would commit its cursor.
    needs_cursor: bool,
    /// Microseconds from opening a resumed cursor to its first element.
    resume_us: Option<u64>,
}

impl PipeRun {
    /// `keys_only`: a bare map yields its keys (a `for` loop) instead of `[key, value]`.
    pub fn new(v: &Value, keys_only: bool) -> RtResult<PipeRun> {
        let (source, stages) = match v {
            Value::Stream(p) => (SourceIter::new(&p.source, false)?, p.stages.clone()),
            other => (SourceIter::new(other, keys_only)?, Vec::new()),
        };
        let state = stages
            .iter()
            .map(|s| match s {
                Stage::Take(_) | Stage::Skip(_) | Stage::Enumerate => StageState::Count(0),
                Stage::FlatMap(_) => StageState::Inner(None),
                _ => StageState::None,
            })
            .collect();
        // `take(0)` reads no element at all.
        let done = stages
            .iter()
            .any(|s| matches!(s, Stage::Take(n) if *n <= 0));
        Ok(PipeRun {
            source,
            stages,
            state,
            done,
            closed: None,
            tick: 0,
            read: 0,
            stage: None,
            what: v.clone(),
            batches: None,
            native: None,
            out: VecDeque::new(),
            numbers: VecDeque::new(),
            numbers_at: 0,
            interpreting: None,
            fold: None,
            ckpt: None,
            needs_cursor: checkpoint::spec_of(v)?.is_some(),
            resume_us: None,
        })
    }

    /// A `for` loop straight over a table: the next row, small enough to come back in
    /// registers (a table scan's loop runs this once per row).
    #[inline]
    pub fn next_row(&mut self) -> RowStep {
        if !self.stages.is_empty() || self.done {
            return RowStep::Other;
        }
        let SourceIter::Table {
            table,
            chunk,
            at,
            epoch,
            ..
        } = &mut self.source
        else {
            return RowStep::Other;
        };
        if *at >= chunk.len() || *epoch != walia_store::write_epoch() {
            return RowStep::Other;
        }
        let row = chunk[*at];
        *at += 1;
        RowStep::Row(RowRef { table: *table, row })
    }

    /// The next element of a pipeline without stages (a `for` loop over a list, range,
    /// string or map), which needs no VM. `None` when there are stages.
    #[inline]
    pub fn next_plain(&mut self) -> Option<RtResult<Option<Value>>> {
        if !self.stages.is_empty() {
            return None;
        }
        if self.done {
            return Some(Ok(None));
        }
        let v = self.source.next();
        if !matches!(v, Ok(Some(_))) {
            self.done = true;
        }
        Some(v)
    }

    fn close(&mut self, stage: usize) {
        self.closed = Some(self.closed.map_or(stage, |c| c.max(stage)));
    }

    /// The next element out of the last stage, or `None` at the end. An error inside a
    /// stage says which stage and at which source element (counting from 0).
    #[inline]
    pub fn next(&mut self, vm: &mut Vm) -> RtResult<Option<Value>> {
        // What a batch produced comes first (the hot path of a batched terminal).
        if let Some(k) = self.next_number() {
            return Ok(Some(k.to_value()));
        }
        if let Some(v) = self.out.pop_front() {
            return Ok(Some(v));
        }
        self.next_slow(vm)
    }

    /// [`PipeRun::next`] for a terminal that folds (`count`, `sum`, `avg`): the batches
    /// run now may fold what they produce into `fold` (a parallel block does, on its
    /// own threads, in order) before the element returned.
    pub fn next_folding(&mut self, vm: &mut Vm, fold: &mut Fold) -> RtResult<Option<Value>> {
        self.fold = Some(*fold);
        let next = self.next(vm);
        if let Some(f) = self.fold.take() {
            *fold = f;
        }
        next
    }

    fn next_slow(&mut self, vm: &mut Vm) -> RtResult<Option<Value>> {
        if self.needs_cursor {
            return Err(RtError::new(
                "a checkpointed pipe runs through a terminal (p.run(), p.sum()...), not a \
                 for loop"
                    .to_string(),
            ));
        }
        self.stage = None;
        self.next_element(vm).map_err(|mut e| {
            if let Some(k) = self.stage.take() {
                let note = format!(
                    "in stage {} ({}) of the pipeline, at source element {}",
                    k + 1,
                    self.stages[k].name(),
                    (self.pass_base() + self.read).saturating_sub(1)
                );
                e.notes.push(note);
            }
            e
        })
    }

    fn next_element(&mut self, vm: &mut Vm) -> RtResult<Option<Value>> {
        if self.batches.is_some() {
            return self.next_batched(vm);
        }
        self.next_interpreted(vm)
    }

    fn next_interpreted(&mut self, vm: &mut Vm) -> RtResult<Option<Value>> {
        'outer: loop {
            // No stage is running while the source (or a flat_map's inner stream) is read.
            self.stage = None;
            if self.done {
                return Ok(None);
            }
            // Every element counts, a flat_map's inner ones too (they may never end).
            self.tick += 1;
            if self.tick >= 4096 {
                self.tick = 0;
                vm.check_limits()?;
                if vm.progress.is_some() {
                    self.report_progress(vm);
                }
            }
            // Resume inside the deepest flat_map that still has elements, else read the source.
            // Nothing may come from at or above a closed stage (a finished take/take_while).
            let mut start = 0;
            let mut value = None;
            for k in (0..self.stages.len()).rev() {
                if self.closed.is_some_and(|c| k <= c) {
                    break;
                }
                if let StageState::Inner(Some(inner)) = &mut self.state[k] {
                    let next = inner.next()?;
                    match next {
                        Some(v) => {
                            value = Some(v);
                            start = k + 1;
                            break;
                        }
                        None => self.state[k] = StageState::Inner(None),
                    }
                }
            }
            let mut v = match value {
                Some(v) => v,
                None if self.closed.is_some() => {
                    self.done = true;
                    return Ok(None);
                }
                None => {
                    if self.pause_due() {
                        // A checkpoint boundary: the terminal commits, then pulls again.
                        return Ok(None);
                    }
                    match self.source.next()? {
                        Some(v) => {
                            self.read += 1;
                            if self.ckpt.is_some() {
                                self.note_first_element();
                            }
                            if let SourceIter::File(f) = &mut self.source
                                && f.needle.is_some()
                            {
                                // The search already applied the first stage's filter.
                                self.read += std::mem::take(&mut f.skipped);
                                start = 1;
                            }
                            v
                        }
                        None => {
                            self.done = true;
                            return Ok(None);
                        }
                    }
                }
            };
            for k in start..self.stages.len() {
                self.stage = Some(k);
                match &self.stages[k] {
                    Stage::Filter(f) => {
                        let keep = vm.call_value(f, std::slice::from_ref(&v))?;
                        if !keep.is_truthy() {
                            continue 'outer;
                        }
                    }
                    Stage::Map(f) => v = vm.call_value(f, std::slice::from_ref(&v))?,
                    Stage::Each(f) => {
                        vm.call_value(f, std::slice::from_ref(&v))?;
                    }
                    Stage::DbInsert(table) => {
                        let t = vm.table_arg(table, true)?;
                        vm.table_insert(t, &v)?;
                    }
                    Stage::TakeWhile(f) => {
                        if !vm.call_value(f, std::slice::from_ref(&v))?.is_truthy() {
                            self.close(k);
                            continue 'outer;
                        }
                    }
                    Stage::Take(n) => {
                        if let StageState::Count(c) = &mut self.state[k] {
                            *c += 1;
                            if *c >= *n {
                                // Deliver this element, then read nothing more from the
                                // source (later flat_maps may still drain).
                                self.close(k);
                            }
                        }
                    }
                    Stage::Skip(n) => {
                        if let StageState::Count(c) = &mut self.state[k]
                            && *c < *n
                        {
                            *c += 1;
                            continue 'outer;
                        }
                    }
                    Stage::Parallel(_) | Stage::CheckpointAt(_) => {}
                    Stage::Enumerate => {
                        if let StageState::Count(c) = &mut self.state[k] {
                            v = Value::list(vec![Value::Int(*c), v]);
                            *c += 1;
                        }
                    }
                    Stage::FlatMap(f) => {
                        let inner = vm.call_value(f, std::slice::from_ref(&v))?;
                        let it = match &inner {
                            Value::Stream(_) => {
                                // A stream result: collect it (its own stages run now).
                                let mut run = PipeRun::new(&inner, false)?;
                                let items = run.collect(vm, 0)?;
                                SourceIter::new(&Value::list(items), false)?
                            }
                            other => SourceIter::new(other, false)?,
                        };
                        self.state[k] = StageState::Inner(Some(Box::new(it)));
                        continue 'outer;
                    }
                }
            }
            return Ok(Some(v));
        }
    }
}
