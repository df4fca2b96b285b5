//! Reading row fields fast: the inner loop of a table scan.
//!
//! The VM keeps one [`RowReader`]. It holds the last table it read resolved (heap and
//! handle, so no registry lookup per field), the columns recently asked for by name (names
//! are the running code's string constants; the reader holds them, so a name's address
//! identifies it while cached), and copies of the data pages it read last: one per column
//! in use and the deletion marks. A scan reads 500 rows from one copy, so most field reads
//! touch neither the heap's `RefCell` nor the pager. Any change to any table (and any
//! rollback) moves the process-wide write epoch, and copies made before it are not used.

use super::handle::{RowRef, TableId, cell_value, table_name};
use crate::error::heap_rt_error;
use crate::error::{RtError, RtResult};
use crate::persist::HeapRef;
use crate::value::{Str, Value};
use std::rc::Rc;
use walia_store::column_page::{bit, raw};
use walia_store::{ColType, PAGE_SIZE, PageKind, Pager, ROWS_PER_PAGE, write_epoch};
const COPIES: usize = 4;

/// A copy of one data page (`None`: a page never written, all nil or nothing deleted).
struct PageCopy {
    index: usize,
    bytes: Option<Box<[u8]>>,
}

#[derive(Default)]
pub struct RowReader {
    table: Option<(TableId, HeapRef, u32)>,
    /// The table set's generation when the column names were cached (a rollback can
    /// remove columns).
    generation: u64,
    columns: [(Option<Rc<Str>>, u32, u8); COPIES],
    next: usize,
    /// The write epoch when the copies below were made.
    epoch: u64,
    /// Live slots as of `epoch`.
    base: u64,
    slots: u64,
    deleted: Option<PageCopy>,
    /// One page copy per cached column, at the same position as in `columns`.
    pages: [Option<PageCopy>; COPIES],
    /// Boxes of dropped copies, reused.
    spare: Vec<Box<[u8]>>,
}

fn scalar(ty: u8, raw: u64) -> Value {
    match ty {
        t if t == ColType::Int as u8 => Value::Int(raw as i64),
        t if t == ColType::Float as u8 => Value::Float(f64::from_bits(raw)),
        _ => Value::Bool(raw != 0),
    }
}

impl RowReader {
    /// Read field `name` of a row: `Ok(None)` when the table has no such column.
    pub fn read(&mut self, r: RowRef, name: &str) -> RtResult<Option<Value>> {
        let mut v = Value::Nil;
        let key = Rc::new(Str::new(name.to_string()));
        Ok(self.read_const_into(r, &key, &mut v)?.then_some(v))
    }

    /// Read field `name` (a constant of the running code) of a row into `out`:
    /// `Ok(false)` when the table has no such column.
    #[inline]
    pub fn read_const_into(
        &mut self,
        r: RowRef,
        name: &Rc<Str>,
        out: &mut Value,
    ) -> RtResult<bool> {
        if let Some(v) = self.read_copied(r, name) {
            *out = v;
            return Ok(true);
        }
        self.read_slow(r, name, out)
    }

    /// The field from the page copies, when they hold it.
    #[inline]
    fn read_copied(&self, r: RowRef, name: &Rc<Str>) -> Option<Value> {
        if !matches!(&self.table, Some((t, _, _)) if *t == r.table) || self.epoch != write_epoch() {
            return None;
        }
        let row = r.row as u64;
        if row < self.base || row >= self.slots {
            return None;
        }
        let k = self
            .columns
            .iter()
            .position(|(n, _, _)| n.as_ref().is_some_and(|n| Rc::ptr_eq(n, name)))?;
        let ty = self.columns[k].2;
        if ty == ColType::Str as u8 || ty == ColType::Unset as u8 {
            return None;
        }
        let index = row as usize / ROWS_PER_PAGE;
        let slot = row as usize % ROWS_PER_PAGE;
        let deleted = self.deleted.as_ref()?;
        if deleted.index != index || deleted.bytes.as_ref().is_some_and(|b| bit(b, slot)) {
            return None;
        }
        let page = self.pages[k].as_ref()?;
        if page.index != index {
            return None;
        }
        Some(match &page.bytes {
            Some(b) if bit(b, slot) => scalar(ty, raw(b, slot)),
            _ => Value::Nil,
        })
    }

    fn copy(&mut self, pager: &mut Pager, page: u64, index: usize) -> RtResult<PageCopy> {
        if page == 0 {
            return Ok(PageCopy { index, bytes: None });
        }
        let src = pager.page(page, PageKind::Column).map_err(heap_rt_error)?;
        let mut b = self
            .spare
            .pop()
            .unwrap_or_else(|| vec![0u8; PAGE_SIZE].into_boxed_slice());
        b.copy_from_slice(src);
        Ok(PageCopy {
            index,
            bytes: Some(b),
        })
    }

    fn recycle(&mut self, copy: Option<PageCopy>) {
        if let Some(PageCopy { bytes: Some(b), .. }) = copy
            && self.spare.len() < 2 * COPIES
        {
            self.spare.push(b);
        }
    }

    /// Never inlined: inlined into `read_const_into`, its stack frame and saved registers
    /// were paid on every field read of a scan, fast path included (+12% instructions).
    #[inline(never)]
    fn read_slow(&mut self, r: RowRef, name: &Rc<Str>, out: &mut Value) -> RtResult<bool> {
        if !matches!(&self.table, Some((t, _, _)) if *t == r.table) {
            let Some((heap, local)) = super::handle::resolve(r.table) else {
                return Err(RtError::new(format!(
                    "table {} belongs to a heap that was closed",
                    table_name(r.table)
                )));
            };
            self.table = Some((r.table, heap, local));
            self.columns = Default::default();
            self.epoch = u64::MAX;
        }
        let Some((_, heap, local)) = &self.table else {
            return Err(RtError::new("internal error: row reader"));
        };
        let heap = heap.clone();
        let local = *local;
        let Ok(mut persist) = heap.try_borrow_mut() else {
            return Err(RtError::new(format!(
                "table {} cannot be used while the heap is busy",
                table_name(r.table)
            )));
        };
        let generation = persist.tables.generation;
        let Some((table, pager)) = persist.table(local).map_err(heap_rt_error)? else {
            return Err(RtError::new(format!("no table '{}'", table_name(r.table))));
        };
        let row = r.row as u64;
        if !table.is_live(pager, row).map_err(heap_rt_error)? {
            return Err(RtError::new(format!("this {} row was deleted", table.name)));
        }
        if generation != self.generation {
            self.generation = generation;
            self.columns = Default::default();
        }
        let epoch = write_epoch();
        if epoch != self.epoch {
            self.epoch = epoch;
            let old = std::mem::take(&mut self.deleted);
            self.recycle(old);
            for k in 0..COPIES {
                let old = self.pages[k].take();
                self.recycle(old);
            }
        }
        self.base = table.base;
        self.slots = table.slots;
        let k = match self.columns.iter().position(|(n, c, _)| {
            n.as_ref().is_some_and(|n| Rc::ptr_eq(n, name)) && (*c as usize) < table.columns.len()
        }) {
            Some(k) => k,
            None => match table.column_index(name.as_str()) {
                Some(c) => {
                    let k = self.next;
                    self.next = (self.next + 1) % COPIES;
                    self.columns[k] = (Some(name.clone()), c as u32, table.columns[c].ty as u8);
                    let old = self.pages[k].take();
                    self.recycle(old);
                    k
                }
                None => return Ok(false),
            },
        };
        let col = self.columns[k].1 as usize;
        // The type may have been fixed since the name was cached.
        self.columns[k].2 = table.columns[col].ty as u8;
        let index = row as usize / ROWS_PER_PAGE;
        if self.deleted.as_ref().is_none_or(|d| d.index != index) {
            let page = table.deletion_page(pager, row).map_err(heap_rt_error)?;
            let copy = self.copy(pager, page, index)?;
            let old = self.deleted.replace(copy);
            self.recycle(old);
        }
        if self.pages[k].as_ref().is_none_or(|p| p.index != index) {
            let page = table.column_page(pager, col, row).map_err(heap_rt_error)?;
            let copy = self.copy(pager, page, index)?;
            let old = self.pages[k].replace(copy);
            self.recycle(old);
        }
        *out = match table.columns[col].ty {
            ColType::Int | ColType::Float | ColType::Bool => {
                match table.raw(pager, row, col).map_err(heap_rt_error)? {
                    Some(raw) => scalar(table.columns[col].ty as u8, raw),
                    None => Value::Nil,
                }
            }
            _ => cell_value(table.get(pager, row, col).map_err(heap_rt_error)?),
        };
        Ok(true)
    }
}
