//! The VM's side of tables (SPEC §7): `db.T`, `@sql class` declarations, and the table
//! operations the builtins and the embedding API share.

use crate::db::handle::{RowRef, TableId, table_name, table_value, with_table};
use crate::error::{RtError, RtResult};
use crate::persist::{HeapRef, Persist};

use crate::error::heap_rt_error;
use crate::value::*;
use crate::vm::Vm;
use std::rc::Rc;
use walia_store::{Cell, Heap, TableError};

/// A record's fields: name and value, in the record's order.
pub type Fields = Vec<(Rc<str>, Value)>;

/// A script value as a column value.
pub fn to_cell(table: &str, column: &str, v: &Value) -> RtResult<Cell> {
    Ok(match v {
        Value::Nil => Cell::Nil,
        Value::Int(i) => Cell::Int(*i),
        Value::Float(f) => Cell::Float(*f),
        Value::Bool(b) => Cell::Bool(*b),
        Value::Str(s) => Cell::Str(s.as_str().to_string()),
        Value::Cell(c) => return to_cell(table, column, &c.value.borrow()),
        other => {
            return Err(RtError::new(format!(
                "type mismatch: column {table}.{column} cannot hold a {} (columns hold Int, Float, Bool, String or nil)",
                other.type_name()
            )));
        }
    })
}

/// The closest of `names` to `name`, for "did you mean".
fn closest<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Option<String> {
    walia_lang::diagnostic::did_you_mean(name, names)
}

impl Vm {
    /// Run `body` (which adds rows nobody has seen yet, such as an import) inside a
    /// savepoint of the tables' heap: when it fails, nothing it wrote remains, and the
    /// row slots it used are handed out again.
    pub fn in_table_savepoint<T>(
        &mut self,
        body: impl FnOnce(&mut Vm) -> RtResult<T>,
    ) -> RtResult<T> {
        let heap = self.tables_heap()?;
        let busy = || RtError::new("the heap is busy");
        {
            let mut h = heap.try_borrow_mut().map_err(|_| busy())?;
            h.flush_tables().map_err(heap_rt_error)?;
            h.pager.savepoint().map_err(heap_rt_error)?;
        }
        let result = body(self);
        let mut h = heap.try_borrow_mut().map_err(|_| busy())?;
        if result.is_err() {
            h.pager.rollback_to_savepoint();
            // The body handed out no rows, so their slots need not be burned.
            h.tables.forget_unseen();
        }
        h.pager.release_savepoint();
        result
    }

    /// The heap tables live in: the attached one, or a new in-memory heap.
    pub fn tables_heap(&mut self) -> RtResult<HeapRef> {
        if self.heap_busy {
            // Code run while loading from the heap (never a new in-memory heap then).
            return Err(RtError::new("tables cannot be used while the heap is busy"));
        }
        if self.heap.is_none() {
            self.attach_heap(Heap::in_memory().map_err(heap_rt_error)?);
        }
        self.heap_ref()
            .ok_or_else(|| RtError::new("no heap is attached"))
    }

    fn with_persist<R>(&mut self, f: impl FnOnce(&mut Persist) -> RtResult<R>) -> RtResult<R> {
        let heap = self.tables_heap()?;
        let Ok(mut heap) = heap.try_borrow_mut() else {
            return Err(RtError::new("the heap is busy"));
        };
        f(&mut heap)
    }

    /// The table called `name`, if it exists.
    pub fn find_table(&mut self, name: &str) -> RtResult<Option<Value>> {
        self.with_persist(|heap| {
            if heap.table_exists(name).map_err(heap_rt_error)? {
                Ok(Some(table_value(heap, name)))
            } else {
                Ok(None)
            }
        })
    }

    /// `db.name`: the table, or an error naming it (with "did you mean").
    pub fn db_table(&mut self, name: &str) -> RtResult<Value> {
        if let Some(t) = self.find_table(name)? {
            return Ok(t);
        }
        let names = self.table_names()?;
        let mut msg = format!("no table '{name}'");
        if let Some(s) = closest(name, names.iter().map(|s| s.as_str())) {
            msg = format!("{msg}; did you mean '{s}'?");
        }
        Err(RtError::new(msg))
    }

    /// A table argument: a table value, or a name (`create`: a missing table is created,
    /// its columns to come from what is inserted).
    pub fn table_arg(&mut self, v: &Value, create: bool) -> RtResult<TableId> {
        let name = match v {
            Value::Table(t) => return Ok(*t),
            Value::Str(s) => s.as_str().to_string(),
            other => {
                return Err(RtError::new(format!(
                    "expected a table or a table name, got {}",
                    other.type_name()
                )));
            }
        };
        let found = match self.find_table(&name)? {
            Some(t) => t,
            None if create => self.with_persist(|heap| {
                check_table_name(&name)?;
                heap.create_table(&name, false).map_err(heap_rt_error)?;
                Ok(table_value(heap, &name))
            })?,
            // The error naming the table (with "did you mean").
            None => self.db_table(&name)?,
        };
        match found {
            Value::Table(t) => Ok(t),
            _ => Err(RtError::new(format!("no table '{name}'"))),
        }
    }

    /// Names of the tables, in creation order.
    pub fn table_names(&mut self) -> RtResult<Vec<String>> {
        self.with_persist(|heap| heap.table_names().map_err(heap_rt_error))
    }

    /// An `@sql class` declaration ran: its table exists from now on, with a column for
    /// every field (a field added since an earlier declaration becomes a new column).
    pub(crate) fn declare_sql_table(&mut self, class: &Rc<Class>) -> RtResult<()> {
        let name = class.name.to_string();
        let fields = class.fields.clone();
        self.with_persist(|heap| {
            if !heap.table_exists(&name).map_err(heap_rt_error)? {
                check_table_name(&name)?;
                heap.create_table(&name, true).map_err(heap_rt_error)?;
            }
            Ok(())
        })?;
        let Value::Table(t) = self.with_persist(|heap| Ok(table_value(heap, &name)))? else {
            return Err(RtError::new("internal error: table value"));
        };
        with_table(t, |table, _| {
            if !table.sql {
                table.sql = true;
                table.dirty = true;
            }
            for f in &fields {
                if table.column_index(f).is_none() {
                    table.add_column(f);
                }
            }
            Ok(())
        })
    }

    /// The fields of a record to insert: an instance, a map with string keys, or a row.
    fn record_fields(&mut self, table: &str, rec: &Value) -> RtResult<Fields> {
        match rec {
            Value::Instance(inst) => Ok(inst
                .fields
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()),
            Value::Map(m) => {
                let mut out = Vec::new();
                for (k, v) in m.entries.borrow().iter() {
                    match k {
                        MapKey::Str(s) => out.push((Rc::from(s.as_str()), v.clone())),
                        other => {
                            return Err(RtError::new(format!(
                                "a record for table {table} needs String keys, got {}",
                                other.to_value().type_name()
                            )));
                        }
                    }
                }
                Ok(out)
            }
            Value::Row(r) => crate::db::handle::row_fields(*r),
            other => {
                let ty = other.type_name();
                let article = if ty.starts_with(['A', 'E', 'I', 'O', 'U']) {
                    "an"
                } else {
                    "a"
                };
                Err(RtError::new(format!(
                    "cannot insert {article} {ty} into table {table} (expected an instance, a map or a row)"
                )))
            }
        }
    }

    /// The defaults of the `@sql` class named like the table, for columns a map leaves out.
    fn class_defaults(&mut self, table: &str) -> RtResult<Option<Fields>> {
        let Some(Value::Class(class)) = self.global_or_stored(table)? else {
            return Ok(None);
        };
        if !class.sql {
            return Ok(None);
        }
        let inst = self.blank_instance(&class.current())?;
        let Value::Instance(inst) = inst else {
            return Ok(None);
        };
        let fields = inst
            .fields
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Some(fields))
    }

    /// A record as one cell per column of `t` (adding columns to a table created by
    /// inserting; refusing unknown fields for an `@sql` table).
    fn record_cells(&mut self, t: TableId, rec: &Value) -> RtResult<Vec<Cell>> {
        let name = table_name(t);
        let mut fields = self.record_fields(&name, rec)?;
        let sql = with_table(t, |table, _| Ok(table.sql))?;
        if sql
            && matches!(rec, Value::Map(_))
            && let Some(defaults) = self.class_defaults(&name)?
        {
            for (k, v) in defaults {
                if !fields.iter().any(|(f, _)| *f == k) {
                    fields.push((k, v));
                }
            }
        }
        let mut named = Vec::with_capacity(fields.len());
        for (k, v) in &fields {
            named.push((k.clone(), to_cell(&name, k, v)?));
        }
        with_table(t, |table, _| table.cells_by_name(named))
    }

    /// Insert a record; returns the new row.
    pub fn table_insert(&mut self, t: TableId, rec: &Value) -> RtResult<Value> {
        let cells = self.record_cells(t, rec)?;
        let row = with_table(t, |table, pager| {
            let prepared = table.prepare(cells)?;
            table.append(pager, &prepared)
        })?;
        Ok(Value::Row(RowRef {
            table: t,
            row: row as u32,
        }))
    }

    /// `db_update(T, rec)`: replace the row with the record's id; returns the row.
    pub fn table_update(&mut self, t: TableId, rec: &Value) -> RtResult<Value> {
        let cells = self.record_cells(t, rec)?;
        let row = with_table(t, |table, pager| {
            let Some(id_col) = table.id_column() else {
                return Err(TableError::Data(format!(
                    "table {} has no id column to update by",
                    table.name
                )));
            };
            let id = cells[id_col].clone();
            let Some(row) = table.find_id(pager, &id)? else {
                return Err(TableError::Data(format!(
                    "no row with id {} in {}",
                    cell_text(&id),
                    table.name
                )));
            };
            let prepared = table.prepare(cells)?;
            table.replace(pager, row, prepared)?;
            Ok(row)
        })?;
        Ok(Value::Row(RowRef {
            table: t,
            row: row as u32,
        }))
    }

    /// The row with this id, or nil.
    pub fn table_get(&mut self, t: TableId, id: &Value) -> RtResult<Value> {
        let name = table_name(t);
        let id = to_cell(&name, "id", id)?;
        let row = with_table(t, |table, pager| Ok(table.find_id(pager, &id)?))?;
        Ok(row.map_or(Value::Nil, |row| {
            Value::Row(RowRef {
                table: t,
                row: row as u32,
            })
        }))
    }

    /// Delete the row with this id; `false` when there is none.
    pub fn table_delete(&mut self, t: TableId, id: &Value) -> RtResult<bool> {
        let name = table_name(t);
        let id = to_cell(&name, "id", id)?;
        with_table(t, |table, pager| match table.find_id(pager, &id)? {
            Some(row) => {
                table.delete(pager, row)?;
                Ok(true)
            }
            None => Ok(false),
        })
    }

    pub fn table_count(&mut self, t: TableId) -> RtResult<u64> {
        with_table(t, |table, _| Ok(table.live))
    }

    pub fn table_columns(&mut self, t: TableId) -> RtResult<Vec<Rc<str>>> {
        with_table(t, |table, _| {
            Ok(table.columns.iter().map(|c| c.name.clone()).collect())
        })
    }

    pub fn table_clear(&mut self, t: TableId) -> RtResult<()> {
        with_table(t, |table, pager| Ok(table.clear(pager)?))
    }

    /// A method of the `@sql` class a row's table is named after (rows of `User` answer
    /// `User`'s methods, with the row as `this`).
    pub(crate) fn row_method(&mut self, r: RowRef, name: &str) -> RtResult<Option<Value>> {
        let table = table_name(r.table);
        match self.global_or_stored(&table)? {
            Some(Value::Class(c)) => Ok(c.find_method(name)),
            _ => Ok(None),
        }
    }

    /// The error for reading a field a row does not have.
    pub(crate) fn no_column(&mut self, r: RowRef, name: &str) -> RtError {
        let table = table_name(r.table);
        let mut msg = format!("table {table} has no column '{name}'");
        if let Ok(cols) = self.table_columns(r.table)
            && let Some(s) = closest(name, cols.iter().map(|c| &**c))
        {
            msg = format!("{msg}; did you mean '{s}'?");
        }
        RtError::new(msg)
    }
}

/// `id` as an error message shows it.
fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Nil => "nil".into(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => crate::print::format_float(*f),
        Cell::Bool(b) => b.to_string(),
        Cell::Str(s) => format!("\"{s}\""),
    }
}

/// A table is stored under one prefix byte and its name, like a global: the same limit.
const MAX_TABLE_NAME: usize = walia_lang::resolve::MAX_GLOBAL_NAME;
const _: () = assert!(MAX_TABLE_NAME + 1 == walia_store::MAX_KEY);

/// Refuse a name the heap cannot store when the table is created, rather than at commit.
fn check_table_name(name: &str) -> RtResult<()> {
    if name.len() > MAX_TABLE_NAME {
        return Err(RtError::new(format!(
            "a table name is at most {MAX_TABLE_NAME} bytes; this one is {}",
            name.len()
        )));
    }
    Ok(())
}
