//! One table's rows in heap pages: typed columns, deletion marks, string bytes and the
//! primary-key index, read and written in place through the pager.
//!
//! Row `r` of every column lives on data page `r / ROWS_PER_PAGE` of that column's segment;
//! `column_page.rs` is the layout of those pages.

use super::column_page::{self, ROWS_PER_PAGE, bit, set_bit};
use super::keys;
use super::record::{ColType, ColumnRecord, KeyKind, TableRecord};
use super::segment::{Segment, SegmentRoot};
use crate::btree;
use crate::error::{HeapError, HeapResult};
use crate::page::{HEADER_LEN, PageKind};
use crate::pager::Pager;
use crate::storage::PAGE_SIZE;
use std::cell::Cell as Checked;
use std::rc::Rc;

pub(super) const STRING_PAGE_DATA: usize = PAGE_SIZE - HEADER_LEN;
/// Longest string a column holds (its length has 24 bits).
pub const MAX_STRING: usize = (1 << 24) - 1;
const MAX_STRING_BYTES: u64 = 1 << 40;

/// A value as stored in a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Nil,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl Cell {
    /// As `type_of` spells it.
    pub fn type_name(&self) -> &'static str {
        self.col_type().name()
    }

    fn col_type(&self) -> ColType {
        match self {
            Cell::Nil => ColType::Unset,
            Cell::Int(_) => ColType::Int,
            Cell::Float(_) => ColType::Float,
            Cell::Bool(_) => ColType::Bool,
            Cell::Str(_) => ColType::Str,
        }
    }
}

/// Why a table operation failed: the heap, or the script's data (a message for it).
#[derive(Debug)]
pub enum TableError {
    Heap(HeapError),
    Data(String),
}

impl From<HeapError> for TableError {
    fn from(e: HeapError) -> TableError {
        TableError::Heap(e)
    }
}

pub type TableResult<T> = Result<T, TableError>;

pub struct Column {
    pub name: Rc<str>,
    pub ty: ColType,
    seg: Segment,
    /// The last data page whose checksum was checked (reads of it skip the check).
    checked: Checked<u64>,
}

pub struct Table {
    pub name: Rc<str>,
    pub sql: bool,
    pub order: u64,
    pub slots: u64,
    pub base: u64,
    pub live: u64,
    pub max_id: Option<i64>,
    pub columns: Vec<Column>,
    key_kind: KeyKind,
    key_root: u64,
    deleted: Segment,
    deleted_checked: Checked<u64>,
    strings: Segment,
    string_len: u64,
    /// Changed since the record was last written.
    pub dirty: bool,
}

/// The bytes of a segment's data page, its checksum checked once per page in a row.
fn data_page<'p>(
    pager: &'p mut Pager,
    page: u64,
    kind: PageKind,
    checked: &Checked<u64>,
) -> HeapResult<&'p [u8]> {
    if checked.get() != page {
        pager.page(page, kind)?;
        checked.set(page);
    }
    Ok(pager.storage().read(page))
}

fn string_key(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Counts changes to any table's rows or columns (and rollbacks) in this process: a reader
/// that copied column pages knows its copies are current while this has not moved.
static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The current count of table changes (see [`WRITES`]).
#[inline]
pub fn write_epoch() -> u64 {
    WRITES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Note a change that page copies must not survive.
#[inline]
pub fn note_write() {
    WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

impl Table {
    fn touch(&mut self) {
        self.dirty = true;
        note_write();
    }

    pub fn new(name: &str, sql: bool, order: u64) -> Table {
        Table {
            name: name.into(),
            sql,
            order,
            slots: 0,
            base: 0,
            live: 0,
            max_id: None,
            columns: Vec::new(),
            key_kind: KeyKind::None,
            key_root: 0,
            deleted: Segment::new(PageKind::Column),
            deleted_checked: Checked::new(0),
            strings: Segment::new(PageKind::Strings),
            string_len: 0,
            dirty: true,
        }
    }

    pub fn load(pager: &mut Pager, name: &str, rec: TableRecord) -> HeapResult<Table> {
        let mut columns = Vec::with_capacity(rec.columns.len());
        for c in rec.columns {
            columns.push(Column {
                name: c.name.as_str().into(),
                ty: c.ty,
                seg: Segment::load(pager, c.root, PageKind::Column)?,
                checked: Checked::new(0),
            });
        }
        Ok(Table {
            name: name.into(),
            sql: rec.sql,
            order: rec.order,
            slots: rec.slots,
            base: rec.base,
            live: rec.live,
            max_id: rec.max_id,
            columns,
            key_kind: rec.key_kind,
            key_root: rec.key_root,
            deleted: Segment::load(pager, rec.deleted, PageKind::Column)?,
            deleted_checked: Checked::new(0),
            strings: Segment::load(pager, rec.strings, PageKind::Strings)?,
            string_len: rec.string_len,
            dirty: false,
        })
    }

    /// Write changed directories and return the record to store.
    pub fn flush(&mut self, pager: &mut Pager) -> HeapResult<TableRecord> {
        let mut columns = Vec::with_capacity(self.columns.len());
        for c in &mut self.columns {
            columns.push(ColumnRecord {
                name: c.name.to_string(),
                ty: c.ty,
                root: c.seg.flush(pager)?,
            });
        }
        Ok(TableRecord {
            sql: self.sql,
            order: self.order,
            slots: self.slots,
            base: self.base,
            live: self.live,
            max_id: self.max_id,
            key_kind: self.key_kind,
            key_root: self.key_root,
            deleted: self.deleted.flush(pager)?,
            strings: self.strings.flush(pager)?,
            string_len: self.string_len,
            columns,
        })
    }

    #[inline]
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| &*c.name == name)
    }

    #[inline]
    pub fn id_column(&self) -> Option<usize> {
        self.column_index("id")
    }

    /// Remove the columns from `count` on that were added and never written (what a
    /// skipped import line added).
    pub fn drop_unwritten_columns(&mut self, count: usize) {
        while self.columns.len() > count
            && self
                .columns
                .last()
                .is_some_and(|c| c.seg.is_empty() && c.ty == ColType::Unset)
        {
            self.columns.pop();
        }
    }

    /// Add a column that reads nil on every existing row.
    pub fn add_column(&mut self, name: &str) -> usize {
        self.columns.push(Column {
            name: name.into(),
            ty: ColType::Unset,
            seg: Segment::new(PageKind::Column),
            checked: Checked::new(0),
        });
        self.touch();
        self.columns.len() - 1
    }

    /// The column a record's field `name` goes into: added when missing from a table
    /// created by inserting, an error for an `@sql` table.
    pub fn column_for_field(&mut self, name: &str) -> TableResult<usize> {
        match self.column_index(name) {
            Some(c) => Ok(c),
            None if self.sql => Err(TableError::Data(format!(
                "table {} has no column '{name}'",
                self.name
            ))),
            None => Ok(self.add_column(name)),
        }
    }

    /// Named values placed in column order (nil where a column is not named); see
    /// [`Table::column_for_field`] for names that are not columns.
    pub fn cells_by_name(&mut self, named: Vec<(Rc<str>, Cell)>) -> TableResult<Vec<Cell>> {
        let mut cells = vec![Cell::Nil; self.columns.len()];
        for (k, c) in named {
            let col = self.column_for_field(&k)?;
            cells.resize(self.columns.len(), Cell::Nil);
            cells[col] = c;
        }
        Ok(cells)
    }

    /// Is `row` a slot that holds a row (not deleted, not cleared, not past the end)?
    #[inline]
    pub fn is_live(&self, pager: &mut Pager, row: u64) -> HeapResult<bool> {
        if row < self.base || row >= self.slots {
            return Ok(false);
        }
        let idx = row as usize / ROWS_PER_PAGE;
        let page = self.deleted.page(pager, idx)?;
        if page == 0 {
            return Ok(true);
        }
        let bytes = data_page(pager, page, PageKind::Column, &self.deleted_checked)?;
        Ok(!bit(bytes, row as usize % ROWS_PER_PAGE))
    }

    /// The stored bits of a value, `None` for nil.
    #[inline]
    pub fn raw(&self, pager: &mut Pager, row: u64, col: usize) -> HeapResult<Option<u64>> {
        let c = &self.columns[col];
        let idx = row as usize / ROWS_PER_PAGE;
        let page = c.seg.page(pager, idx)?;
        if page == 0 {
            return Ok(None);
        }
        let bytes = data_page(pager, page, PageKind::Column, &c.checked)?;
        Ok(column_page::value(bytes, row as usize % ROWS_PER_PAGE))
    }

    /// Read one value.
    #[inline]
    pub fn get(&self, pager: &mut Pager, row: u64, col: usize) -> HeapResult<Cell> {
        let Some(raw) = self.raw(pager, row, col)? else {
            return Ok(Cell::Nil);
        };
        Ok(match self.columns[col].ty {
            ColType::Int => Cell::Int(raw as i64),
            ColType::Float => Cell::Float(f64::from_bits(raw)),
            ColType::Bool => Cell::Bool(raw != 0),
            ColType::Str => Cell::Str(self.read_string(pager, raw)?),
            ColType::Unset => Cell::Nil,
        })
    }

    fn read_string(&self, pager: &mut Pager, raw: u64) -> HeapResult<String> {
        let offset = raw & (MAX_STRING_BYTES - 1);
        let len = (raw >> 40) as usize;
        if offset + len as u64 > self.string_len {
            return Err(HeapError::Record(format!(
                "table '{}': string beyond the end of its string pages",
                self.name
            )));
        }
        let mut out = Vec::with_capacity(len);
        let mut at = offset;
        while out.len() < len {
            let idx = (at / STRING_PAGE_DATA as u64) as usize;
            let within = (at % STRING_PAGE_DATA as u64) as usize;
            let n = (len - out.len()).min(STRING_PAGE_DATA - within);
            let page = self.strings.page(pager, idx)?;
            if page == 0 {
                return Err(HeapError::Record(format!(
                    "table '{}': a string page is missing",
                    self.name
                )));
            }
            let bytes = pager.page(page, PageKind::Strings)?;
            out.extend_from_slice(&bytes[HEADER_LEN + within..HEADER_LEN + within + n]);
            at += n as u64;
        }
        String::from_utf8(out)
            .map_err(|_| HeapError::Record(format!("table '{}': a string is not UTF-8", self.name)))
    }

    fn write_string(&mut self, pager: &mut Pager, s: &str) -> TableResult<u64> {
        let bytes = s.as_bytes();
        if bytes.len() > MAX_STRING || self.string_len + bytes.len() as u64 >= MAX_STRING_BYTES {
            return Err(TableError::Data(format!(
                "cannot store a string of {} bytes in table {} (the limit is {MAX_STRING})",
                bytes.len(),
                self.name
            )));
        }
        let offset = self.string_len;
        let mut done = 0;
        while done < bytes.len() {
            let at = offset + done as u64;
            let idx = (at / STRING_PAGE_DATA as u64) as usize;
            let within = (at % STRING_PAGE_DATA as u64) as usize;
            let n = (bytes.len() - done).min(STRING_PAGE_DATA - within);
            let page = self.strings.page_for_write(pager, idx)?;
            let buf = pager.page_mut(page)?;
            buf[HEADER_LEN + within..HEADER_LEN + within + n]
                .copy_from_slice(&bytes[done..done + n]);
            done += n;
        }
        self.string_len += bytes.len() as u64;
        Ok(offset | ((bytes.len() as u64) << 40))
    }

    /// The value as it would be stored in column `col` (Int into Float converts), or the
    /// mismatch error naming table, column and both types.
    pub fn coerce(&self, col: usize, cell: Cell) -> TableResult<Cell> {
        let c = &self.columns[col];
        let cell = match (c.ty, cell) {
            (_, Cell::Nil) => Cell::Nil,
            (ColType::Float, Cell::Int(i)) => Cell::Float(i as f64),
            (ColType::Unset, cell) => cell,
            (ty, cell) if ty == cell.col_type() => cell,
            (ty, cell) => {
                return Err(TableError::Data(format!(
                    "type mismatch: column {}.{} holds {} values, got {}",
                    self.name,
                    c.name,
                    ty.name(),
                    cell.type_name()
                )));
            }
        };
        if let Cell::Str(s) = &cell
            && s.len() > MAX_STRING
        {
            return Err(TableError::Data(format!(
                "cannot store a string of {} bytes in {}.{} (the limit is {MAX_STRING})",
                s.len(),
                self.name,
                c.name
            )));
        }
        if &*c.name == "id" && matches!(cell, Cell::Float(_) | Cell::Bool(_)) {
            return Err(TableError::Data(format!(
                "type mismatch: {}.id is the primary key and must be an Int or a String, got {}",
                self.name,
                cell.type_name()
            )));
        }
        Ok(cell)
    }

    /// Store one (coerced) value, fixing the column's type on its first non-nil value.
    fn put(&mut self, pager: &mut Pager, row: u64, col: usize, cell: &Cell) -> TableResult<()> {
        let raw = match cell {
            Cell::Nil => None,
            Cell::Int(i) => Some(*i as u64),
            Cell::Float(f) => Some(f.to_bits()),
            Cell::Bool(b) => Some(*b as u64),
            Cell::Str(s) => Some(self.write_string(pager, s)?),
        };
        let idx = row as usize / ROWS_PER_PAGE;
        let slot = row as usize % ROWS_PER_PAGE;
        let c = &mut self.columns[col];
        if c.ty == ColType::Unset && raw.is_some() {
            c.ty = cell.col_type();
        }
        if raw.is_none() && c.seg.page(pager, idx)? == 0 {
            return Ok(());
        }
        let page = c.seg.page_for_write(pager, idx)?;
        let buf = pager.page_mut(page)?;
        column_page::write(buf, slot, raw);
        self.touch();
        Ok(())
    }

    /// The row holding primary key `id`.
    pub fn find_id(&self, pager: &mut Pager, id: &Cell) -> HeapResult<Option<u64>> {
        match (self.key_kind, id) {
            (KeyKind::Int, Cell::Int(i)) => keys::get(pager, self.key_root, *i),
            (KeyKind::Int, Cell::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                keys::get(pager, self.key_root, *f as i64)
            }
            (KeyKind::Str, Cell::Str(s)) => Ok(btree::get(pager, self.key_root, &string_key(s))?
                .and_then(|b| b.get(..8).and_then(|b| b.try_into().ok()))
                .map(u64::from_le_bytes)),
            _ => Ok(None),
        }
    }

    fn duplicate(&self, id: &Cell) -> TableError {
        let shown = match id {
            Cell::Str(s) => format!("\"{s}\""),
            Cell::Int(i) => i.to_string(),
            other => format!("{other:?}"),
        };
        TableError::Data(format!(
            "constraint violation: {}.id = {shown} already exists",
            self.name
        ))
    }

    /// Index `id -> row`; a duplicate is an error and changes nothing.
    /// Nothing changes unless the id is indexed: a failure leaves the index as it was.
    fn index_id(&mut self, pager: &mut Pager, id: &Cell, row: u64) -> TableResult<()> {
        let kind = match id {
            Cell::Int(_) => KeyKind::Int,
            Cell::Str(_) => KeyKind::Str,
            _ => KeyKind::None,
        };
        if kind != KeyKind::None && self.key_kind != KeyKind::None && kind != self.key_kind {
            return Err(TableError::Data(format!(
                "type mismatch: {}.id holds {} ids, got {}",
                self.name,
                if self.key_kind == KeyKind::Int {
                    "Int"
                } else {
                    "String"
                },
                id.type_name()
            )));
        }
        match id {
            Cell::Nil => Ok(()),
            Cell::Int(i) => match keys::insert(pager, self.key_root, *i, row)? {
                keys::Inserted::Root(r) => {
                    self.key_root = r;
                    self.key_kind = KeyKind::Int;
                    self.max_id = Some(self.max_id.map_or(*i, |m| m.max(*i)));
                    Ok(())
                }
                keys::Inserted::Exists(_) => Err(self.duplicate(id)),
            },
            Cell::Str(s) => {
                let key = string_key(s);
                if key.len() > btree::MAX_KEY {
                    return Err(TableError::Data(format!(
                        "{}.id is longer than {} bytes",
                        self.name,
                        btree::MAX_KEY
                    )));
                }
                if btree::get(pager, self.key_root, &key)?.is_some() {
                    return Err(self.duplicate(id));
                }
                self.key_root = btree::put(pager, self.key_root, &key, &row.to_le_bytes())?;
                self.key_kind = KeyKind::Str;
                Ok(())
            }
            other => Err(TableError::Data(format!(
                "{}.id must be an Int or a String, got {}",
                self.name,
                other.type_name()
            ))),
        }
    }

    fn unindex_id(&mut self, pager: &mut Pager, id: &Cell) -> HeapResult<()> {
        match id {
            Cell::Int(i) if self.key_kind == KeyKind::Int => {
                self.key_root = keys::delete(pager, self.key_root, *i)?.0;
            }
            Cell::Str(s) if self.key_kind == KeyKind::Str => {
                self.key_root = btree::delete(pager, self.key_root, &string_key(s))?.0;
            }
            _ => {}
        }
        Ok(())
    }

    /// Check and convert a full row (one cell per column); fills a nil Int id with the
    /// next id (max + 1), as SQLite does for an INTEGER PRIMARY KEY.
    pub fn prepare(&self, cells: Vec<Cell>) -> TableResult<Vec<Cell>> {
        let mut out = Vec::with_capacity(cells.len());
        for (col, cell) in cells.into_iter().enumerate() {
            out.push(self.coerce(col, cell)?);
        }
        if let Some(id) = self.id_column()
            && out[id] == Cell::Nil
            && matches!(self.columns[id].ty, ColType::Int | ColType::Unset)
        {
            let next = match self.max_id {
                Some(m) => m.checked_add(1).ok_or_else(|| {
                    TableError::Data(format!("{}.id: no id left after {m}", self.name))
                })?,
                None => 1,
            };
            out[id] = Cell::Int(next);
        }
        Ok(out)
    }

    /// Append a prepared row; returns its row number.
    pub fn append(&mut self, pager: &mut Pager, cells: &[Cell]) -> TableResult<u64> {
        if self.slots >= u32::MAX as u64 {
            return Err(TableError::Data(format!(
                "table {} is full ({} rows)",
                self.name,
                u32::MAX
            )));
        }
        let row = self.slots;
        if let Some(id) = self.id_column() {
            self.index_id(pager, &cells[id], row)?;
        }
        for (col, cell) in cells.iter().enumerate() {
            self.put(pager, row, col, cell)?;
        }
        self.slots += 1;
        self.live += 1;
        self.touch();
        Ok(row)
    }

    /// Set one value of a live row (keeping the key index in step when it is the id).
    pub fn set(&mut self, pager: &mut Pager, row: u64, col: usize, cell: Cell) -> TableResult<()> {
        let cell = self.coerce(col, cell)?;
        if Some(col) == self.id_column() {
            let old = self.get(pager, row, col)?;
            if old == cell {
                return Ok(());
            }
            self.index_id(pager, &cell, row)?;
            self.unindex_id(pager, &old)?;
        }
        self.put(pager, row, col, &cell)
    }

    /// Replace every value of a live row with a prepared row.
    pub fn replace(&mut self, pager: &mut Pager, row: u64, cells: Vec<Cell>) -> TableResult<()> {
        for (col, cell) in cells.into_iter().enumerate() {
            self.set(pager, row, col, cell)?;
        }
        Ok(())
    }

    /// Mark a live row deleted.
    pub fn delete(&mut self, pager: &mut Pager, row: u64) -> TableResult<()> {
        if let Some(id) = self.id_column() {
            let old = self.get(pager, row, id)?;
            self.unindex_id(pager, &old)?;
        }
        let idx = row as usize / ROWS_PER_PAGE;
        let page = self.deleted.page_for_write(pager, idx)?;
        set_bit(pager.page_mut(page)?, row as usize % ROWS_PER_PAGE, true);
        self.live = self.live.saturating_sub(1);
        self.touch();
        Ok(())
    }

    /// Mark the slots up to `end` used and deleted: rows rolled back in this process may
    /// still be held as values, and must read as deleted rather than as new rows.
    pub fn burn_slots(&mut self, pager: &mut Pager, end: u64) -> HeapResult<()> {
        let mut row = self.slots;
        while row < end {
            let idx = row as usize / ROWS_PER_PAGE;
            let page = self.deleted.page_for_write(pager, idx)?;
            let buf = pager.page_mut(page)?;
            let stop = end.min((idx as u64 + 1) * ROWS_PER_PAGE as u64);
            for r in row..stop {
                set_bit(buf, r as usize % ROWS_PER_PAGE, true);
            }
            row = stop;
        }
        self.slots = end;
        self.touch();
        Ok(())
    }

    /// Remove every row, keeping the schema. Row numbers are not reused, so a row value
    /// taken before the clear reads as deleted rather than as some new row.
    pub fn clear(&mut self, pager: &mut Pager) -> HeapResult<()> {
        // Freeing pages writes nothing at once: a reader would "clear" its own view.
        if !pager.writable {
            return Err(HeapError::ReadOnly);
        }
        for c in &mut self.columns {
            c.seg.free_all(pager)?;
            c.checked.set(0);
        }
        self.deleted.free_all(pager)?;
        self.deleted_checked.set(0);
        self.strings.free_all(pager)?;
        match self.key_kind {
            KeyKind::Int => keys::free_all(pager, self.key_root)?,
            KeyKind::Str => btree::walk_pages(pager, self.key_root, &mut |_, _| {})
                .and_then(|_| free_btree(pager, self.key_root))?,
            KeyKind::None => {}
        }
        self.key_root = 0;
        self.key_kind = KeyKind::None;
        self.base = self.slots;
        self.live = 0;
        self.max_id = None;
        self.string_len = 0;
        self.touch();
        Ok(())
    }

    /// The data page holding `row` in column `col` (0: never written, all nil).
    #[inline]
    pub fn column_page(&self, pager: &mut Pager, col: usize, row: u64) -> HeapResult<u64> {
        self.columns[col]
            .seg
            .page(pager, row as usize / ROWS_PER_PAGE)
    }

    /// Columns' data pages of page indices `from..to` (`row / ROWS_PER_PAGE`; 0: never
    /// written), and the deletion-mark pages likewise: what `parallel(n)` threads look
    /// pages up in (the table itself stays on the script's thread, which reads the
    /// directories these come from first).
    pub fn page_lists(
        &self,
        pager: &mut Pager,
        cols: impl Iterator<Item = usize>,
        (from, to): (usize, usize),
    ) -> HeapResult<(Vec<Vec<u64>>, Vec<u64>)> {
        let mut columns = Vec::new();
        for c in cols {
            columns.push(match self.columns.get(c) {
                Some(col) => col.seg.range(pager, from, to)?,
                None => vec![0; to.saturating_sub(from)],
            });
        }
        Ok((columns, self.deleted.range(pager, from, to)?))
    }

    /// The data page of column `col` holding `row`, made writable in this transaction
    /// (copied or allocated, as a write of one value would), for a caller that writes the
    /// page's values itself (the native loop's updates). The column must be typed and not
    /// the key: no index or type upkeep happens here.
    pub fn column_page_for_write(
        &mut self,
        pager: &mut Pager,
        col: usize,
        row: u64,
    ) -> HeapResult<u64> {
        let page = self.columns[col]
            .seg
            .page_for_write(pager, row as usize / ROWS_PER_PAGE)?;
        self.touch();
        Ok(page)
    }

    /// The deletion-mark page covering `row` (0: nothing deleted there).
    #[inline]
    pub fn deletion_page(&self, pager: &mut Pager, row: u64) -> HeapResult<u64> {
        self.deleted.page(pager, row as usize / ROWS_PER_PAGE)
    }

    /// Pages the table uses (for `inspect` sizes).
    pub fn page_count(&self, pager: &mut Pager) -> HeapResult<u64> {
        let mut n = 0u64;
        let mut count = |_, _| n += 1;
        for c in &self.columns {
            c.seg.pages(pager, &mut count)?;
        }
        self.deleted.pages(pager, &mut count)?;
        self.strings.pages(pager, &mut count)?;
        Ok(n)
    }

    pub fn key_root(&self) -> (KeyKind, u64) {
        (self.key_kind, self.key_root)
    }

    pub fn column_root(&self, col: usize) -> SegmentRoot {
        self.columns[col].seg.root()
    }
}

fn free_btree(pager: &mut Pager, root: u64) -> HeapResult<()> {
    let mut pages = Vec::new();
    btree::walk_pages(pager, root, &mut |p, _| pages.push(p))?;
    for p in pages {
        pager.free(p);
    }
    Ok(())
}
