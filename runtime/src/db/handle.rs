//! Table and row values: `Value::Table(TableId)` and `Value::Row(RowRef)` are small inline
//! handles into a per-thread registry that names the heap (weakly) and the table. So a
//! row can be read, written and printed wherever it is — inside a list, from the embedding
//! API, in an error message — without the VM at hand, and costs no allocation per row.

use crate::error::{RtError, RtResult};
use crate::persist::{HeapRef, Persist};
use crate::value::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use walia_store::{Cell, Pager, ROWS_PER_PAGE, Table, TableError};

pub use super::ids::{RowRef, TableId};

struct Registered {
    heap: Weak<RefCell<Persist>>,
    local: u32,
    name: Rc<str>,
}

/// The heaps and tables that table values refer to. Each engine owns one and installs it
/// in the thread that runs it ([`crate::RuntimeState`]).
#[derive(Default)]
pub(crate) struct Registry {
    heaps: HashMap<u64, Weak<RefCell<Persist>>>,
    tables: Vec<Registered>,
    by_key: HashMap<(u64, u32), u32>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// Exchange this thread's registry with `other`.
pub(crate) fn swap_registry(other: &mut Registry) {
    REGISTRY.with(|r| std::mem::swap(&mut *r.borrow_mut(), other));
}

/// Make an attached heap reachable from table values.
pub fn register_heap(heap: &HeapRef) {
    let uid = heap.borrow().uid;
    REGISTRY.with(|r| {
        r.borrow_mut().heaps.insert(uid, Rc::downgrade(heap));
    });
}

/// The value for table `name` of `heap`.
pub fn table_value(heap: &mut Persist, name: &str) -> Value {
    let local = heap.tables.handle(name);
    let key = (heap.uid, local);
    let id = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        if let Some(&id) = r.by_key.get(&key) {
            return id;
        }
        let id = r.tables.len() as u32;
        let heap = r.heaps.get(&key.0).cloned().unwrap_or_default();
        r.tables.push(Registered {
            heap,
            local,
            name: name.into(),
        });
        r.by_key.insert(key, id);
        id
    });
    Value::Table(TableId(id))
}

/// The heap and per-heap handle of a table value (`None` when its heap was closed).
pub fn resolve(t: TableId) -> Option<(HeapRef, u32)> {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let e = r.tables.get(t.0 as usize)?;
        Some((e.heap.upgrade()?, e.local))
    })
}

/// The table's name.
pub fn table_name(t: TableId) -> Rc<str> {
    REGISTRY.with(|r| {
        r.borrow()
            .tables
            .get(t.0 as usize)
            .map_or_else(|| "?".into(), |e| e.name.clone())
    })
}

pub fn table_error(e: TableError) -> RtError {
    match e {
        TableError::Data(m) => RtError::new(m),
        TableError::Heap(e) => crate::error::heap_rt_error(e),
    }
}

/// Run `f` on a table's storage.
pub fn with_table<R>(
    t: TableId,
    f: impl FnOnce(&mut Table, &mut Pager) -> Result<R, TableError>,
) -> RtResult<R> {
    let (heap, local) = REGISTRY
        .with(|r| {
            let r = r.borrow();
            let e = r.tables.get(t.0 as usize)?;
            Some((e.heap.upgrade(), e.local))
        })
        .ok_or_else(|| RtError::new("unknown table"))?;
    let Some(heap) = heap else {
        return Err(RtError::new(format!(
            "table {} belongs to a heap that was closed",
            table_name(t)
        )));
    };
    let Ok(mut heap) = heap.try_borrow_mut() else {
        return Err(RtError::new(format!(
            "table {} cannot be used while the heap is busy",
            table_name(t)
        )));
    };
    match heap.table(local).map_err(crate::error::heap_rt_error)? {
        Some((table, pager)) => f(table, pager).map_err(table_error),
        None => Err(RtError::new(format!("no table '{}'", table_name(t)))),
    }
}

/// A live row's number, or the error for a deleted (or rolled back) one.
fn live_row(table: &Table, pager: &mut Pager, row: u32) -> Result<u64, TableError> {
    if table.is_live(pager, row as u64)? {
        Ok(row as u64)
    } else {
        Err(TableError::Data(format!(
            "this {} row was deleted",
            table.name
        )))
    }
}

pub fn cell_value(c: Cell) -> Value {
    match c {
        Cell::Nil => Value::Nil,
        Cell::Int(i) => Value::Int(i),
        Cell::Float(f) => Value::Float(f),
        Cell::Bool(b) => Value::Bool(b),
        Cell::Str(s) => Value::str(s),
    }
}

/// A row's columns and values.
pub type RowFields = Vec<(Rc<str>, Value)>;

/// Every column of a row, in column order.
pub fn row_fields(r: RowRef) -> RtResult<RowFields> {
    with_table(r.table, |t, pager| {
        let row = live_row(t, pager, r.row)?;
        let mut out = Vec::with_capacity(t.columns.len());
        for col in 0..t.columns.len() {
            out.push((
                t.columns[col].name.clone(),
                cell_value(t.get(pager, row, col)?),
            ));
        }
        Ok(out)
    })
}

/// Write a field of a row through to its table. A field that is not a column is added as
/// one to a table created by inserting, and refused by an `@sql` table.
/// Returns the value stored (an Int stored into a Float column is a Float).
pub fn set_row_field(r: RowRef, name: &str, cell: Cell) -> RtResult<Cell> {
    with_table(r.table, |t, pager| {
        let row = live_row(t, pager, r.row)?;
        let col = t.column_for_field(name)?;
        let cell = t.coerce(col, cell)?;
        t.set(pager, row, col, cell.clone())?;
        Ok(cell)
    })
}

/// The live rows from row number `from` up to `end`, at most `max` of them, and the row
/// number to continue from (a scan reads the table in chunks: no list of every row).
pub fn live_rows(t: TableId, from: u64, end: u64, max: usize) -> RtResult<(Vec<u32>, u64)> {
    if !table_exists(t)? {
        return Ok((Vec::new(), end));
    }
    with_table(t, |table, pager| {
        let mut out = Vec::with_capacity(max.min(1024));
        let mut row = from.max(table.base);
        let end = end.min(table.slots);
        while row < end && out.len() < max {
            // Rows on a page without deletion marks are all live: no per-row check.
            if table.deletion_page(pager, row)? == 0 {
                let page_end = (row / ROWS_PER_PAGE as u64 + 1) * ROWS_PER_PAGE as u64;
                let stop = page_end.min(end).min(row + (max - out.len()) as u64);
                out.extend((row..stop).map(|r| r as u32));
                row = stop;
                continue;
            }
            if table.is_live(pager, row)? {
                out.push(row as u32);
            }
            row += 1;
        }
        Ok((out, row))
    })
}

/// How many live rows lie from row number `from` up to `end` (a checkpointed pass's
/// total): the table's count when that is the whole table, else a page at a time.
pub fn count_live(t: TableId, from: u64, end: u64) -> RtResult<u64> {
    if !table_exists(t)? {
        return Ok(0);
    }
    with_table(t, |table, pager| {
        let mut row = from.max(table.base);
        let end = end.min(table.slots);
        if row == table.base && end == table.slots {
            return Ok(table.live);
        }
        let per_page = ROWS_PER_PAGE as u64;
        let mut n = 0;
        while row < end {
            let page_end = ((row / per_page + 1) * per_page).min(end);
            if table.deletion_page(pager, row)? == 0 {
                n += page_end - row;
            } else {
                for r in row..page_end {
                    n += table.is_live(pager, r)? as u64;
                }
            }
            row = page_end;
        }
        Ok(n)
    })
}

/// Does this row exist (not deleted, cleared or rolled back)?
/// A table that no longer exists (its creation was rolled back) has no live rows.
pub fn is_live_row(t: TableId, row: u32) -> RtResult<bool> {
    if !table_exists(t)? {
        return Ok(false);
    }
    with_table(t, |table, pager| Ok(table.is_live(pager, row as u64)?))
}

/// Does the table of this value exist now?
pub fn table_exists(t: TableId) -> RtResult<bool> {
    let Some((heap, local)) = resolve(t) else {
        return Ok(false);
    };
    let Ok(mut heap) = heap.try_borrow_mut() else {
        return Ok(true);
    };
    Ok(heap
        .table(local)
        .map_err(crate::error::heap_rt_error)?
        .is_some())
}

/// The end of the table's row numbers now: a scan started now stops there, so rows
/// inserted while it runs are not visited.
pub fn scan_end(t: TableId) -> RtResult<u64> {
    with_table(t, |table, _| Ok(table.slots))
}

/// `<table User (2 rows)>`
pub fn table_text(t: TableId) -> String {
    let name = table_name(t);
    match with_table(t, |t, _| Ok(t.live)) {
        Ok(n) => format!("<table {name} ({n} row{})>", if n == 1 { "" } else { "s" }),
        Err(_) => format!("<table {name}>"),
    }
}

/// The row's fields for printing, or `None` when it cannot be read (then it prints as
/// `<row T>`).
pub fn row_for_print(r: RowRef) -> (Rc<str>, Option<RowFields>) {
    (table_name(r.table), row_fields(r).ok())
}
