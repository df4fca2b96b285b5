//! Tables (SPEC §7): typed columnar storage in the heap, never loaded whole into memory.
//!
//! [`segment`] maps a table's page indices to heap pages, [`store`] reads and writes rows
//! in those pages, [`keys`] is the primary-key index, and [`record`] the catalog entry that
//! ties them together. This module keeps the tables a heap has open; `vm_table` gives
//! scripts their view of them (`db.T`, rows as values).

pub mod handle;
pub mod keys;
pub mod reader;
pub mod record;
pub mod segment;
pub mod store;

use crate::heap::HeapResult;
use crate::heap::btree;
use crate::heap::pager::{PageKind, Pager};
use crate::heap::persist::Persist;
use record::{KeyKind, TABLE_PREFIX, TableRecord, table_key};
use std::rc::Rc;
pub use store::{Cell, Table, TableError, TableResult};

/// The tables a heap has open in this process, by a handle that stays valid across
/// rollbacks (the table is re-read from the catalog on its next use).
#[derive(Default)]
pub struct TableSet {
    entries: Vec<Entry>,
    /// Counts [`TableSet::forget`]s: what was known about a table's columns before may
    /// no longer hold.
    pub generation: u64,
    /// The most row slots each table has had in this process. A rollback brings back a
    /// record with fewer, but a row value taken in between may still be held, so those
    /// slots are never handed out again (see [`Table::burn_slots`]).
    high_water: std::collections::HashMap<Rc<str>, u64, crate::value::FxBuild>,
    by_name: std::collections::HashMap<Rc<str>, u32, crate::value::FxBuild>,
}

struct Entry {
    name: Rc<str>,
    table: Option<Table>,
}

impl TableSet {
    /// The handle for a table name (whether or not the table exists).
    pub fn handle(&mut self, name: &str) -> u32 {
        if let Some(&h) = self.by_name.get(name) {
            return h;
        }
        let name: Rc<str> = name.into();
        let h = self.entries.len() as u32;
        self.entries.push(Entry {
            name: name.clone(),
            table: None,
        });
        self.by_name.insert(name, h);
        h
    }

    pub fn name(&self, handle: u32) -> Option<&Rc<str>> {
        self.entries.get(handle as usize).map(|e| &e.name)
    }

    /// Forget every open table after a rollback that no script saw the rows of (a failed
    /// import): their slots may be given out again.
    pub fn forget_unseen(&mut self) {
        self.generation += 1;
        store::note_write();
        for e in &mut self.entries {
            e.table = None;
        }
    }

    /// Forget every open table (after a rollback the catalog says what they hold).
    pub fn forget(&mut self) {
        self.generation += 1;
        store::note_write();
        for e in &mut self.entries {
            if let Some(t) = e.table.take() {
                let hw = self.high_water.entry(e.name.clone()).or_default();
                *hw = (*hw).max(t.slots);
            }
        }
    }
}

impl Persist {
    /// A table by handle, read from the catalog on first use; `None` if it does not exist.
    #[inline]
    pub fn table(&mut self, handle: u32) -> HeapResult<Option<(&mut Table, &mut Pager)>> {
        let Some(entry) = self.tables.entries.get(handle as usize) else {
            return Ok(None);
        };
        if entry.table.is_none() {
            let name = entry.name.clone();
            let root = self.pager.meta().root;
            let Some(bytes) = btree::get(&mut self.pager, root, &table_key(&name))? else {
                return Ok(None);
            };
            let rec = TableRecord::decode(&bytes, &name)?;
            let mut table = Table::load(&mut self.pager, &name, rec)?;
            if let Some(&hw) = self.tables.high_water.get(&name)
                && hw > table.slots
                && self.pager.writable
            {
                table.burn_slots(&mut self.pager, hw)?;
            }
            self.tables.entries[handle as usize].table = Some(table);
        }
        let table = self.tables.entries[handle as usize].table.as_mut();
        Ok(table.map(|t| (t, &mut self.pager)))
    }

    /// Does table `name` exist (committed, or created in this transaction)?
    pub fn table_exists(&mut self, name: &str) -> HeapResult<bool> {
        let h = self.tables.handle(name);
        Ok(self.table(h)?.is_some())
    }

    /// Create an empty table; its record goes into the catalog at once.
    pub fn create_table(&mut self, name: &str, sql: bool) -> HeapResult<u32> {
        let order = self
            .table_records()?
            .iter()
            .map(|(_, r)| r.order + 1)
            .max()
            .unwrap_or(0);
        let h = self.tables.handle(name);
        let mut table = Table::new(name, sql, order);
        // A table of this name whose creation was rolled back may have left row values
        // behind: the new table starts after their slots.
        if let Some(&hw) = self.tables.high_water.get(name) {
            table.slots = hw;
            table.base = hw;
        }
        let rec = table.flush(&mut self.pager)?;
        self.put(&table_key(name), &rec.encode())?;
        table.dirty = false;
        self.tables.entries[h as usize].table = Some(table);
        Ok(h)
    }

    /// Every stored table record (as of the last flush), by name.
    pub fn table_records(&mut self) -> HeapResult<Vec<(String, TableRecord)>> {
        let root = self.pager.meta().root;
        let mut out = Vec::new();
        for (k, v) in btree::scan(&mut self.pager, root, &[TABLE_PREFIX])? {
            let name = String::from_utf8_lossy(&k[1..]).into_owned();
            let rec = TableRecord::decode(&v, &name)?;
            out.push((name, rec));
        }
        Ok(out)
    }

    /// Table names in creation order.
    pub fn table_names(&mut self) -> HeapResult<Vec<String>> {
        let mut recs = self.table_records()?;
        recs.sort_by_key(|(_, r)| r.order);
        Ok(recs.into_iter().map(|(n, _)| n).collect())
    }

    /// Write every changed table's pages and record (before a commit or savepoint).
    pub fn flush_tables(&mut self) -> HeapResult<()> {
        let mut records = Vec::new();
        for e in &mut self.tables.entries {
            if let Some(t) = &mut e.table
                && t.dirty
            {
                records.push((e.name.clone(), t.flush(&mut self.pager)?));
                t.dirty = false;
            }
        }
        for (name, rec) in records {
            self.put(&table_key(&name), &rec.encode())?;
        }
        Ok(())
    }

    pub(crate) fn forget_tables(&mut self) {
        self.tables.forget();
    }
}

/// Visit the pages of every stored table (all of them, or those written after commit
/// `since`), for `verify` and the commit check at open.
pub fn walk_table_pages(
    pager: &mut Pager,
    since: Option<u64>,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    let root = pager.committed_meta().root;
    for (k, v) in btree::scan(pager, root, &[TABLE_PREFIX])? {
        let name = String::from_utf8_lossy(&k[1..]).into_owned();
        let rec = TableRecord::decode(&v, &name)?;
        walk_record_pages(pager, &rec, since, f)?;
    }
    Ok(())
}

/// One table as `walia inspect` shows it.
#[derive(Clone, Debug)]
pub struct TableInfo {
    pub name: String,
    pub rows: u64,
    /// Column names and types (`Nil` for a column holding only nils so far).
    pub columns: Vec<(String, &'static str)>,
    /// Pages the table's columns, strings, deletion marks and key index use.
    pub pages: u64,
}

/// Every table in creation order, from the last commit.
pub fn table_infos(heap: &mut Persist) -> HeapResult<Vec<TableInfo>> {
    let mut recs = heap.table_records()?;
    recs.sort_by_key(|(_, r)| r.order);
    let mut out = Vec::with_capacity(recs.len());
    for (name, rec) in recs {
        let mut pages = 0u64;
        walk_record_pages(&mut heap.pager, &rec, None, &mut |_, _| pages += 1)?;
        out.push(TableInfo {
            rows: rec.live,
            columns: rec
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.ty.name()))
                .collect(),
            name,
            pages,
        });
    }
    Ok(out)
}

/// Check every table of the last commit: each page (checksum, kind, number) is passed to
/// `owner`; the live-row count must match the deletion marks, and the key index must hold
/// one entry per live row with an id. Returns the number of tables checked.
pub fn verify_tables(heap: &mut Persist, owner: &mut dyn FnMut(u64, PageKind)) -> HeapResult<u64> {
    let recs = heap.table_records()?;
    for (name, rec) in &recs {
        walk_record_pages(&mut heap.pager, rec, None, owner)?;
        let table = Table::load(&mut heap.pager, name, rec.clone())?;
        let bad = |what: String| crate::heap::HeapError::Record(format!("table '{name}': {what}"));
        let mut live = 0u64;
        let mut with_id = 0u64;
        let id_col = table.id_column();
        for row in table.base..table.slots {
            if table.is_live(&mut heap.pager, row)? {
                live += 1;
                if let Some(c) = id_col
                    && table.raw(&mut heap.pager, row, c)?.is_some()
                {
                    with_id += 1;
                }
            }
        }
        if live != rec.live {
            return Err(bad(format!(
                "{} live rows recorded, {live} found",
                rec.live
            )));
        }
        let mut keys = 0u64;
        match rec.key_kind {
            KeyKind::Int => keys::count_entries(&mut heap.pager, rec.key_root, &mut keys)?,
            KeyKind::Str => {
                keys = btree::scan_keys(&mut heap.pager, rec.key_root, b"")?.len() as u64
            }
            KeyKind::None => {}
        }
        if rec.key_kind != KeyKind::None && keys != with_id {
            return Err(bad(format!(
                "the key index holds {keys} ids for {with_id} rows with an id"
            )));
        }
    }
    Ok(recs.len() as u64)
}

fn walk_record_pages(
    pager: &mut Pager,
    rec: &TableRecord,
    since: Option<u64>,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    for c in &rec.columns {
        segment::walk_stored(pager, c.root, PageKind::Column, since, f)?;
    }
    segment::walk_stored(pager, rec.deleted, PageKind::Column, since, f)?;
    segment::walk_stored(pager, rec.strings, PageKind::Strings, since, f)?;
    match rec.key_kind {
        KeyKind::Int => keys::walk(pager, rec.key_root, since, f)?,
        KeyKind::Str => match since {
            None => btree::walk_pages(pager, rec.key_root, f)?,
            Some(s) => btree::walk_written(pager, rec.key_root, s, f)?,
        },
        KeyKind::None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
