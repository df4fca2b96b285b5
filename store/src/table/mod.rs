//! Tables (SPEC §7): typed columnar storage in the heap, never loaded whole into memory.
//!
//! [`segment`] maps a table's page indices to heap pages, [`store`] reads and writes rows
//! in those pages, [`keys`] is the primary-key index, and [`record`] the catalog entry that
//! ties them together; [`column_page`] is the layout of a column page. This module keeps
//! the tables a heap has open; the runtime's db/ gives scripts their view of them (`db.T`,
//! rows as values).

pub mod column_page;
mod copy;
mod keys;
mod record;
mod segment;
mod store;

use crate::btree;
use crate::error::{HeapError, HeapResult};
use crate::page::PageKind;
use crate::pager::Pager;
use record::{KeyKind, TABLE_PREFIX, dropped_key, table_key};
use std::rc::Rc;

pub use column_page::ROWS_PER_PAGE;
pub use copy::copy_table;
pub use record::{ColType, TableRecord};
pub use store::{Cell, Table, TableError, TableResult, write_epoch};

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
    high_water: std::collections::HashMap<Rc<str>, u64, crate::hash::FxBuild>,
    by_name: std::collections::HashMap<Rc<str>, u32, crate::hash::FxBuild>,
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

impl TableSet {
    /// A table by handle, read from the catalog on first use; `None` if it does not exist.
    #[inline]
    pub fn open(&mut self, pager: &mut Pager, handle: u32) -> HeapResult<Option<&mut Table>> {
        let Some(entry) = self.entries.get(handle as usize) else {
            return Ok(None);
        };
        if entry.table.is_none() {
            let name = entry.name.clone();
            let root = pager.meta().root;
            let Some(bytes) = btree::get(pager, root, &table_key(&name))? else {
                return Ok(None);
            };
            let rec = TableRecord::decode(&bytes, &name)?;
            let mut table = Table::load(pager, &name, rec)?;
            if let Some(&hw) = self.high_water.get(&name)
                && hw > table.slots
                && pager.writable
            {
                table.burn_slots(pager, hw)?;
            }
            self.entries[handle as usize].table = Some(table);
        }
        Ok(self.entries[handle as usize].table.as_mut())
    }

    /// Create an empty table; its record goes into the catalog at once.
    pub fn create(&mut self, pager: &mut Pager, name: &str, sql: bool) -> HeapResult<u32> {
        let order = records(pager)?
            .iter()
            .map(|(_, r)| r.order + 1)
            .max()
            .unwrap_or(0);
        let h = self.handle(name);
        let mut table = Table::new(name, sql, order);
        // A table of this name whose creation was rolled back, or that was dropped, may
        // have left row values behind (in this process, or stored in globals): the new
        // table starts after their slots.
        let mut start = self.high_water.get(name).copied().unwrap_or(0);
        let root = pager.meta().root;
        let key = dropped_key(name);
        if let Some(bytes) = btree::get(pager, root, &key)? {
            let slots = <[u8; 8]>::try_from(bytes.as_slice())
                .map_err(|_| HeapError::Record(format!("dropped table '{name}': bad entry")))?;
            start = start.max(u64::from_le_bytes(slots));
            // The new table's record carries the count from here on.
            let (root, _) = btree::delete(pager, root, &key)?;
            pager.meta_mut().root = root;
        }
        table.slots = start;
        table.base = start;
        let rec = table.flush(pager)?;
        put_record(pager, name, &rec)?;
        table.dirty = false;
        self.entries[h as usize].table = Some(table);
        Ok(h)
    }

    /// Drop table `name`: every page it uses is freed, and its record leaves the catalog
    /// (in this transaction). What it leaves is its count of row slots, so that a table
    /// created later under its name never gives a row value of this one another row.
    /// `false` when there is no such table.
    pub fn drop_table(&mut self, pager: &mut Pager, name: &str) -> HeapResult<bool> {
        let h = self.handle(name);
        let Some(table) = self.open(pager, h)? else {
            return Ok(false);
        };
        table.clear(pager)?;
        let slots = table.slots;
        let entry = &mut self.entries[h as usize];
        entry.table = None;
        let hw = self.high_water.entry(entry.name.clone()).or_default();
        *hw = (*hw).max(slots);
        self.generation += 1;
        store::note_write();
        let root = pager.meta().root;
        let (mut root, _) = btree::delete(pager, root, &table_key(name))?;
        if slots > 0 {
            root = btree::put(pager, root, &dropped_key(name), &slots.to_le_bytes())?;
        }
        pager.meta_mut().root = root;
        Ok(true)
    }

    /// Write every changed table's pages and record (before a commit or savepoint).
    pub fn flush(&mut self, pager: &mut Pager) -> HeapResult<()> {
        let mut records = Vec::new();
        for e in &mut self.entries {
            if let Some(t) = &mut e.table
                && t.dirty
            {
                records.push((e.name.clone(), t.flush(pager)?));
                t.dirty = false;
            }
        }
        for (name, rec) in records {
            put_record(pager, &name, &rec)?;
        }
        Ok(())
    }
}

fn put_record(pager: &mut Pager, name: &str, rec: &TableRecord) -> HeapResult<()> {
    let root = pager.meta().root;
    let root = btree::put(pager, root, &table_key(name), &rec.encode())?;
    pager.meta_mut().root = root;
    Ok(())
}

/// The table a catalog key is the record of, if it is a table record's key.
pub fn table_of_key(key: &[u8]) -> Option<String> {
    match key {
        [TABLE_PREFIX, name @ ..] => Some(String::from_utf8_lossy(name).into_owned()),
        _ => None,
    }
}

/// Every stored table record (as of the last flush), by name.
pub fn records(pager: &mut Pager) -> HeapResult<Vec<(String, TableRecord)>> {
    let root = pager.meta().root;
    records_at(pager, root)
}

/// Every table record of the catalog at `root`.
fn records_at(pager: &mut Pager, root: u64) -> HeapResult<Vec<(String, TableRecord)>> {
    let mut out = Vec::new();
    for (k, v) in btree::scan(pager, root, &[TABLE_PREFIX])? {
        let name = String::from_utf8_lossy(&k[1..]).into_owned();
        let rec = TableRecord::decode(&v, &name)?;
        out.push((name, rec));
    }
    Ok(out)
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

/// Visit every page of every stored table, reading only the pages that name others
/// (directories and key index nodes): the data pages' numbers are in their directories.
/// For the free-list check at open, which must stay cheap on a large table.
/// The pages of the tables of the catalog at `root` (a commit's, whatever the transaction
/// in progress has changed since).
pub fn walk_linked_pages(
    pager: &mut Pager,
    root: u64,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    for (_, rec) in records_at(pager, root)? {
        for c in &rec.columns {
            segment::Segment::load(pager, c.root, PageKind::Column)?.pages(pager, f)?;
        }
        segment::Segment::load(pager, rec.deleted, PageKind::Column)?.pages(pager, f)?;
        segment::Segment::load(pager, rec.strings, PageKind::Strings)?.pages(pager, f)?;
        match rec.key_kind {
            KeyKind::Int => keys::walk_linked(pager, rec.key_root, f)?,
            KeyKind::Str => btree::walk_pages(pager, rec.key_root, f)?,
            KeyKind::None => {}
        }
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
pub fn table_infos(pager: &mut Pager) -> HeapResult<Vec<TableInfo>> {
    let mut recs = records(pager)?;
    recs.sort_by_key(|(_, r)| r.order);
    let mut out = Vec::with_capacity(recs.len());
    for (name, rec) in recs {
        let mut pages = 0u64;
        walk_record_pages(pager, &rec, None, &mut |_, _| pages += 1)?;
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
pub fn verify_tables(pager: &mut Pager, owner: &mut dyn FnMut(u64, PageKind)) -> HeapResult<u64> {
    let recs = records(pager)?;
    for (name, rec) in &recs {
        walk_record_pages(pager, rec, None, owner)?;
        let bad = |what: String| crate::error::HeapError::Record(format!("table '{name}': {what}"));
        check_segment_lengths(pager, name, rec)?;
        let table = Table::load(pager, name, rec.clone())?;
        let mut live = 0u64;
        let mut with_id = 0u64;
        let id_col = table.id_column();
        for row in table.base..table.slots {
            if table.is_live(pager, row)? {
                live += 1;
                if let Some(c) = id_col
                    && table.raw(pager, row, c)?.is_some()
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
            KeyKind::Int => keys::count_entries(pager, rec.key_root, &mut keys)?,
            KeyKind::Str => keys = btree::scan_keys(pager, rec.key_root, b"")?.len() as u64,
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

/// A segment never spans more data pages than the table's row slots (or string bytes)
/// need: more can only be a directory whose entry count was raised. (A lowered count drops
/// data pages, which `verify` then finds neither in use nor free.)
fn check_segment_lengths(pager: &mut Pager, name: &str, rec: &TableRecord) -> HeapResult<()> {
    let rows = rec.slots.div_ceil(ROWS_PER_PAGE as u64);
    let bytes = rec.string_len.div_ceil(store::STRING_PAGE_DATA as u64);
    let segments = rec
        .columns
        .iter()
        .map(|c| {
            (
                format!("column '{}'", c.name),
                c.root,
                PageKind::Column,
                rows,
            )
        })
        .chain([
            (
                "deletion marks".to_string(),
                rec.deleted,
                PageKind::Column,
                rows,
            ),
            (
                "string bytes".to_string(),
                rec.strings,
                PageKind::Strings,
                bytes,
            ),
        ]);
    for (what, root, kind, limit) in segments {
        let spans = segment::Segment::load(pager, root, kind)?.len() as u64;
        if spans > limit {
            return Err(crate::error::HeapError::corrupt(
                root.page,
                format!(
                    "table '{name}': {what} spans {spans} data pages where {limit} hold all its data"
                ),
            ));
        }
    }
    Ok(())
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
#[cfg(test)]
mod tests_runs;
