//! The batch executor: a plan's stages over one batch of source elements at a time.
//!
//! A table batch is the live rows of one column page (up to 500 rows), read straight from
//! the validated pages of the mapped file; a range batch is 1,024 numbers; a list batch is
//! 1,024 items. Each stage runs over the whole batch before the next stage (a filter
//! shrinks the selection, a map replaces the element values), then the surviving elements
//! go out in source order. The result is the interpreter's: a batch that bails is run by
//! the interpreter instead, and a batch's effects (take/skip counts, row writes) are kept
//! only when it completes.

use super::plan::{Plan, PlanSource, PlanStage};
use crate::db::handle::{RowRef, TableId, with_table};
use crate::error::{RtError, RtResult};
use crate::kernel::KVal;
use crate::kernel::eval::{BExpr, Bail, Batch, Col, Elements, KResult, Mapped, Outputs};
use crate::value::{KeyRef, Value};
use walia_store::column_page::{self, bit as present};
use walia_store::{Cell, ColType, PageKind, Pager, ROWS_PER_PAGE, Table, TableError};

/// Elements per batch of a range or list.
pub const MEMORY_BATCH: u64 = 1024;

/// A completed batch.
pub struct BatchDone {
    /// Source elements read (rows that are live, list items, numbers).
    pub read: u64,
    /// Where the source continues (row number or index).
    pub next: u64,
    /// What comes out of the last stage, in order.
    pub out: Produced,
    /// A `take` or `take_while` finished: nothing more is read.
    pub closed: bool,
}

/// What running the stages over one batch produced.
pub(super) struct StagesDone {
    pub outputs: Outputs,
    /// `(position, field, value)` for each row write, in order.
    pub writes: Vec<(u32, usize, Cell)>,
    /// The position at which a take or take_while closed the pipeline.
    pub closed_at: Option<u32>,
}

/// Run the plan's stages over the positions `live` of a batch. `counts` holds each
/// stage's take/skip count and is updated only when the batch completes.
pub(super) fn run_stages(
    stages: &[PlanStage],
    counts: &mut [i64],
    source: &dyn Elements,
    mut sel: Vec<u32>,
    coerce: &dyn Fn(usize, KVal) -> KResult<Cell>,
) -> KResult<StagesDone> {
    let mut new_counts = counts.to_vec();
    // What the last map produced: positions, and their values.
    let mut mapped: Option<(Vec<u32>, Col)> = None;
    let mut writes = Vec::new();
    let mut closed_at: Option<u32> = None;
    for (k, stage) in stages.iter().enumerate() {
        if sel.is_empty() {
            break;
        }
        let batch = Batch {
            source,
            mapped: mapped
                .as_ref()
                .map(|(positions, values)| Mapped { positions, values }),
            acc: KVal::Nil,
        };
        match stage {
            PlanStage::Filter(e) => {
                let keep = batch.eval(e, &sel)?;
                let mut j = 0;
                sel.retain(|_| {
                    j += 1;
                    keep.truthy(j - 1)
                });
            }
            PlanStage::Map(e) => {
                let vals = batch.eval(e, &sel)?;
                mapped = Some((sel.clone(), vals));
            }
            PlanStage::SetField { field, value } => {
                let vals = batch.eval(value, &sel)?;
                let mut stored = Vec::with_capacity(sel.len());
                for (j, i) in sel.iter().enumerate() {
                    let cell = coerce(*field, vals.get(j).ok_or(Bail)?)?;
                    stored.push(match &cell {
                        Cell::Int(x) => KVal::Int(*x),
                        Cell::Float(x) => KVal::Float(*x),
                        Cell::Bool(x) => KVal::Bool(*x),
                        _ => return Err(Bail),
                    });
                    writes.push((*i, *field, cell));
                }
                mapped = Some((sel.clone(), Col::from_any(stored)));
            }
            PlanStage::Skip(n) => {
                let count = new_counts.get_mut(k).ok_or(Bail)?;
                let drop = (n - *count).clamp(0, sel.len() as i64) as usize;
                *count += drop as i64;
                sel.drain(..drop);
            }
            PlanStage::Take(n) => {
                let count = new_counts.get_mut(k).ok_or(Bail)?;
                let room = (n - *count).max(0) as usize;
                if sel.len() >= room {
                    sel.truncate(room);
                    *count = *n;
                    let at = sel.last().copied().unwrap_or(0);
                    closed_at = Some(closed_at.map_or(at, |c| c.min(at)));
                } else {
                    *count += sel.len() as i64;
                }
            }
            PlanStage::Pass => {}
            PlanStage::TakeWhile(e) => {
                let ok = batch.eval(e, &sel)?;
                if let Some(j) = (0..sel.len()).position(|j| !ok.truthy(j)) {
                    let at = sel[j];
                    closed_at = Some(closed_at.map_or(at, |c| c.min(at)));
                    sel.truncate(j);
                }
            }
        }
    }
    if let Some(stop) = closed_at {
        // Elements after the one that closed the pipeline are never read.
        writes.retain(|(i, _, _)| *i <= stop);
        sel.retain(|i| *i <= stop);
    }
    counts.copy_from_slice(&new_counts);
    let outputs = match mapped {
        Some((positions, values)) => Outputs::Values(
            Mapped {
                positions: &positions,
                values: &values,
            }
            .of(&sel)?,
        ),
        None => Outputs::Positions(sel),
    };
    Ok(StagesDone {
        outputs,
        writes,
        closed_at,
    })
}

pub(super) fn no_coerce(_: usize, _: KVal) -> KResult<Cell> {
    Err(Bail)
}

/// One page of table rows, read in place.
pub(super) struct TablePage<'p> {
    /// Slot (within the page) of batch position 0.
    pub first: usize,
    /// Per plan field: the column's page (`None`: never written, all nil) and type.
    pub columns: Vec<(Option<&'p [u8]>, ColType)>,
}

impl Elements for TablePage<'_> {
    fn gather(&self, field: usize, sel: &[u32]) -> KResult<Col> {
        let (page, ty) = *self.columns.get(field).ok_or(Bail)?;
        let nils = || Col::Any(vec![KVal::Nil; sel.len()]);
        let Some(b) = page else {
            return Ok(nils());
        };
        let first = self.first;
        let raw = |i: u32| column_page::raw(b, first + i as usize);
        if !sel.iter().all(|&i| present(b, first + i as usize)) {
            // Some nils: value by value.
            let kval = |i: u32| -> KVal {
                if !present(b, first + i as usize) {
                    return KVal::Nil;
                }
                match ty {
                    ColType::Int => KVal::Int(raw(i) as i64),
                    ColType::Float => KVal::Float(f64::from_bits(raw(i))),
                    _ => KVal::Bool(raw(i) != 0),
                }
            };
            return match ty {
                ColType::Str => Err(Bail),
                ColType::Unset => Ok(nils()),
                _ => Ok(Col::Any(sel.iter().map(|&i| kval(i)).collect())),
            };
        }
        Ok(match ty {
            ColType::Int => Col::Int(sel.iter().map(|&i| raw(i) as i64).collect()),
            ColType::Float => Col::Float(sel.iter().map(|&i| f64::from_bits(raw(i))).collect()),
            ColType::Bool => Col::Bool(sel.iter().map(|&i| raw(i) != 0).collect()),
            ColType::Unset => nils(),
            ColType::Str => return Err(Bail),
        })
    }

    fn elems(&self, _: &[u32]) -> KResult<Col> {
        Err(Bail)
    }
}

/// What a batch hands to the terminal.
pub enum Produced {
    /// Source elements (rows, list items, numbers of a range).
    Values(Vec<Value>),
    /// The values a map produced, in chunks (a numeric terminal folds them without
    /// making values).
    Numbers(Vec<Col>),
}

impl Produced {
    /// Append another batch's outputs (of the same plan, so of the same kind).
    pub fn append(&mut self, other: Produced) {
        if let (Produced::Numbers(a), Produced::Values(_)) = (&mut *self, &other) {
            let all: Vec<Value> = a
                .drain(..)
                .flat_map(Col::into_any)
                .map(KVal::to_value)
                .collect();
            *self = Produced::Values(all);
        }
        match (self, other) {
            (Produced::Values(a), Produced::Values(b)) => a.extend(b),
            (Produced::Numbers(a), Produced::Numbers(b)) => a.extend(b),
            (Produced::Values(a), Produced::Numbers(b)) => {
                a.extend(b.into_iter().flat_map(Col::into_any).map(KVal::to_value))
            }
            (Produced::Numbers(_), Produced::Values(_)) => {}
        }
    }
}

/// Turn a batch's outputs into what the terminal takes.
pub(super) fn values(outputs: Outputs, of_position: impl Fn(u32) -> Value) -> Produced {
    match outputs {
        Outputs::Positions(p) => Produced::Values(p.into_iter().map(of_position).collect()),
        Outputs::Values(v) => Produced::Numbers(vec![v]),
        // A block with a folded piece its fold did not take runs again (`shards.rs`).
        Outputs::Folded { .. } => Produced::Numbers(Vec::new()),
    }
}

/// Like [`values`] for a source whose elements may be numbers (a range, a list): source
/// elements that all are hand the terminal a column too, so a pipeline without a map (or
/// without any stage: `0..n |> sum()`) folds as fast as one with.
pub(super) fn numbers_or_values(
    outputs: Outputs,
    source: &dyn Elements,
    of_position: impl Fn(u32) -> Value,
) -> Produced {
    match outputs {
        Outputs::Positions(p) => match source.elems(&p) {
            Ok(numbers) => Produced::Numbers(vec![numbers]),
            Err(_) => Produced::Values(p.into_iter().map(of_position).collect()),
        },
        Outputs::Values(v) => Produced::Numbers(vec![v]),
        Outputs::Folded { .. } => Produced::Numbers(Vec::new()),
    }
}

/// The columns a table plan reads, with their types.
pub(super) type PlanColumns = [(usize, ColType)];

/// Run `f` on the table of a plan with `from..end` narrowed to the table's row slots
/// (`f` gets the table, its pager, the plan's columns and the narrowed range); `Ok(None)`
/// when no rows are left (or the table is gone).
pub(super) fn with_rows<R>(
    plan: &Plan,
    table: TableId,
    from: u64,
    end: u64,
    f: impl FnOnce(&mut Table, &mut Pager, &PlanColumns, u64, u64) -> Result<Option<R>, TableError>,
) -> RtResult<Option<R>> {
    let PlanSource::Table { columns, .. } = &plan.source else {
        return Err(RtError::new("internal error: not a table plan"));
    };
    if !crate::db::handle::table_exists(table)? {
        return Ok(None);
    }
    with_table(table, |t, pager| {
        let from = from.max(t.base);
        let end = end.min(t.slots);
        if from >= end {
            return Ok(None);
        }
        f(t, pager, columns, from, end)
    })
}

/// The pages the rows of one page starting at `row` are read from: deletion marks, and
/// one per column (0: never written).
pub(super) fn page_numbers(
    t: &Table,
    pager: &mut Pager,
    columns: &PlanColumns,
    row: u64,
) -> Result<(u64, Vec<u64>), TableError> {
    let pages = columns
        .iter()
        .map(|(c, _)| t.column_page(pager, *c, row))
        .collect::<Result<_, _>>()?;
    Ok((t.deletion_page(pager, row)?, pages))
}

/// Positions `0..len` of a page (position 0 at slot `first`) whose rows are not deleted.
pub(super) fn live_positions(dead: Option<&[u8]>, first: usize, len: usize) -> Vec<u32> {
    (0..len as u32)
        .filter(|i| dead.is_none_or(|d| !present(d, first + *i as usize)))
        .collect()
}

/// What a batch of rows starting at row `from` hands to the terminal.
pub(super) fn row_outputs(outputs: Outputs, table: TableId, from: u64) -> Produced {
    values(outputs, |i| {
        Value::Row(RowRef {
            table,
            row: (from + i as u64) as u32,
        })
    })
}

/// Run the batch of table rows starting at row `from` (up to the end of its page and
/// `end`). `Ok(None)`: the table has no rows left.
pub fn table_batch(
    plan: &Plan,
    counts: &mut [i64],
    table: TableId,
    (from, end): (u64, u64),
    budget: u64,
) -> RtResult<Option<KResult<BatchDone>>> {
    with_rows(plan, table, from, end, |t, pager, columns, from, end| {
        let per_page = ROWS_PER_PAGE as u64;
        let mut stop = ((from / per_page + 1) * per_page).min(end);
        let len = (stop - from) as usize;
        let first = (from % per_page) as usize;
        // Validate every page the batch reads, then hold them all.
        let (deletion, pages) = page_numbers(t, pager, columns, from)?;
        for p in pages.iter().chain(std::iter::once(&deletion)) {
            if *p != 0 {
                pager.page(*p, PageKind::Column)?;
            }
        }
        let done = {
            let dead = (deletion != 0).then(|| pager.validated(deletion));
            let mut live = live_positions(dead, first, len);
            // A checkpointed run stops at its boundary, after the last row it may read.
            if live.len() as u64 > budget {
                live.truncate(budget as usize);
                if let Some(last) = live.last() {
                    stop = from + *last as u64 + 1;
                }
            }
            let read = live.len() as u64;
            let page = TablePage {
                first,
                columns: pages
                    .iter()
                    .zip(columns)
                    .map(|(p, (_, ty))| ((*p != 0).then(|| pager.validated(*p)), *ty))
                    .collect(),
            };
            let coerce = |field: usize, v: KVal| -> KResult<Cell> {
                let cell = match v {
                    KVal::Int(i) => Cell::Int(i),
                    KVal::Float(f) => Cell::Float(f),
                    KVal::Bool(b) => Cell::Bool(b),
                    KVal::Nil => return Err(Bail),
                };
                let col = columns.get(field).ok_or(Bail)?.0;
                t.coerce(col, cell).map_err(|_| Bail)
            };
            run_stages(&plan.stages, counts, &page, live, &coerce).map(|s| (s, read))
        };
        let (stages, read) = match done {
            Ok(d) => d,
            Err(b) => return Ok(Some(Err(b))),
        };
        for (i, field, cell) in stages.writes {
            let row = from + i as u64;
            let col = columns[field].0;
            t.set(pager, row, col, cell)?;
        }
        let closed = stages.closed_at.is_some();
        let out = row_outputs(stages.outputs, table, from);
        Ok(Some(Ok(BatchDone {
            read,
            next: stop,
            out,
            closed,
        })))
    })
}

/// A batch of a range's numbers.
pub(super) struct Numbers {
    pub first: i64,
}

impl Elements for Numbers {
    fn gather(&self, _: usize, _: &[u32]) -> KResult<Col> {
        Err(Bail)
    }

    fn elems(&self, sel: &[u32]) -> KResult<Col> {
        Ok(Col::Int(
            sel.iter().map(|&i| self.first + i as i64).collect(),
        ))
    }
}

/// The batch of a range's numbers from `from` to at most `end` (exclusive).
pub fn range_batch(
    plan: &Plan,
    counts: &mut [i64],
    from: i64,
    end: i64,
) -> Option<KResult<BatchDone>> {
    if from >= end {
        return None;
    }
    let len = (end as i128 - from as i128).min(MEMORY_BATCH as i128) as usize;
    let numbers = Numbers { first: from };
    let live = (0..len as u32).collect();
    Some(
        run_stages(&plan.stages, counts, &numbers, live, &no_coerce).map(|s| BatchDone {
            read: len as u64,
            next: (from + len as i64) as u64,
            out: numbers_or_values(s.outputs, &numbers, |i| Value::Int(from + i as i64)),
            closed: s.closed_at.is_some(),
        }),
    )
}

/// A batch of list items: numbers, or maps and instances whose fields are read by name.
struct Items<'a> {
    items: &'a [Value],
    fields: &'a [std::rc::Rc<str>],
}

impl Elements for Items<'_> {
    fn gather(&self, field: usize, sel: &[u32]) -> KResult<Col> {
        let name = self.fields.get(field).ok_or(Bail)?;
        let mut out = Vec::with_capacity(sel.len());
        let mut memo = None;
        for &i in sel {
            let v = match self.items.get(i as usize).ok_or(Bail)? {
                Value::Map(m) => m
                    .entries
                    .borrow()
                    .get(&KeyRef::Str(name))
                    .and_then(KVal::from_value),
                Value::Instance(inst) => inst
                    .fields
                    .borrow()
                    .get_memo(name, &mut memo)
                    .and_then(KVal::from_value),
                _ => None,
            };
            out.push(v.ok_or(Bail)?);
        }
        Ok(Col::from_any(out))
    }

    fn elems(&self, sel: &[u32]) -> KResult<Col> {
        // A list of Ints (the common case) straight into its column, without the pass
        // through kernel values that a list of mixed numbers takes.
        let mut ints = Vec::with_capacity(sel.len());
        for &i in sel {
            match self.items.get(i as usize) {
                Some(Value::Int(n)) => ints.push(*n),
                _ => return self.mixed_elems(sel),
            }
        }
        Ok(Col::Int(ints))
    }
}

impl Items<'_> {
    fn mixed_elems(&self, sel: &[u32]) -> KResult<Col> {
        let mut out = Vec::with_capacity(sel.len());
        for &i in sel {
            let v = self.items.get(i as usize).ok_or(Bail)?;
            out.push(KVal::from_value(v).ok_or(Bail)?);
        }
        Ok(Col::from_any(out))
    }
}

/// The batch of list items from index `from`, reading none at or after `end`.
pub fn list_batch(
    plan: &Plan,
    counts: &mut [i64],
    list: &crate::value::List,
    from: u64,
    end: u64,
) -> Option<KResult<BatchDone>> {
    let items = list.items.borrow();
    let from_i = from as usize;
    let end = usize::try_from(end).unwrap_or(usize::MAX).min(items.len());
    if from_i >= end {
        return None;
    }
    let stop = (from_i + MEMORY_BATCH as usize).min(end);
    let slice = &items[from_i..stop];
    let source = Items {
        items: slice,
        fields: &plan.fields,
    };
    let live: Vec<u32> = (0..slice.len() as u32).collect();
    if let Some((PlanStage::Map(BExpr::Field(f)), before)) = plan.stages.split_last()
        && let Some(name) = plan.fields.get(*f)
        && !slice.first().is_some_and(|v| field_is_number(v, name))
    {
        return Some(
            project_field(before, counts, &source, live, name).map(|(values, closed)| BatchDone {
                read: slice.len() as u64,
                next: stop as u64,
                out: Produced::Values(values),
                closed,
            }),
        );
    }
    Some(
        run_stages(&plan.stages, counts, &source, live, &no_coerce).map(|s| BatchDone {
            read: slice.len() as u64,
            next: stop as u64,
            out: numbers_or_values(s.outputs, &source, |i| slice[i as usize].clone()),
            closed: s.closed_at.is_some(),
        }),
    )
}

/// Whether `v.name` is a number (a kernel value), which the kernels read as a column.
fn field_is_number(v: &Value, name: &str) -> bool {
    let found = match v {
        Value::Instance(inst) => inst.fields.borrow().get(name).and_then(KVal::from_value),
        Value::Map(m) => m
            .entries
            .borrow()
            .get(&KeyRef::Str(name))
            .and_then(KVal::from_value),
        _ => None,
    };
    found.is_some()
}

/// A list pipeline ending in `map(x => x.name)` where the field holds other values than
/// numbers (names, nested records): the stages before it run in kernels, then the field is
/// read from each element that passed them. An element without the field (or a map stage
/// before) bails to the interpreter, which reports it. The values, and whether a `take`
/// closed the pipeline.
fn project_field(
    before: &[PlanStage],
    counts: &mut [i64],
    source: &Items,
    live: Vec<u32>,
    name: &str,
) -> KResult<(Vec<Value>, bool)> {
    let done = run_stages(before, counts, source, live, &no_coerce)?;
    let Outputs::Positions(positions) = done.outputs else {
        return Err(Bail);
    };
    let mut values = Vec::with_capacity(positions.len());
    let mut memo = None;
    for i in positions {
        let v = match source.items.get(i as usize).ok_or(Bail)? {
            Value::Instance(inst) => inst.fields.borrow().get_memo(name, &mut memo).cloned(),
            Value::Map(m) => m.entries.borrow().get(&KeyRef::Str(name)).cloned(),
            _ => None,
        };
        values.push(v.ok_or(Bail)?);
    }
    Ok((values, done.closed_at.is_some()))
}
