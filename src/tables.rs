//! The embedding API's table access (SPEC §14): create, insert, get by id, scan with typed
//! column reads, import and export.

use crate::persist::heap_error;
use crate::value::{attach, detach};
use crate::{Engine, Error, Value};
use walia_runtime::RtError;
use walia_runtime::Value as Live;
use walia_runtime::api::{
    Cell, ColType, Entries, MapKey, Pager, Str, Table, TableError, TableId, cell_value, with_table,
};

pub use walia_runtime::api::TableInfo;
pub use walia_stdlib::{ImportOptions, Imported};

/// One row during [`Engine::scan`]: typed reads of its columns, straight from the heap's
/// pages.
pub struct RowView<'a> {
    table: &'a Table,
    pager: &'a mut Pager,
    row: u64,
}

impl RowView<'_> {
    fn column(&self, name: &str, want: &[ColType]) -> Result<usize, TableError> {
        let col = self.table.column_index(name).ok_or_else(|| {
            TableError::Data(format!("table {} has no column '{name}'", self.table.name))
        })?;
        let ty = self.table.columns[col].ty;
        if ty != ColType::Unset && !want.contains(&ty) {
            return Err(TableError::Data(format!(
                "column {}.{name} holds {} values",
                self.table.name,
                ty.name()
            )));
        }
        Ok(col)
    }

    fn raw(&mut self, name: &str, want: &[ColType]) -> Result<Option<u64>, Error> {
        let col = self.column(name, want).map_err(table_error)?;
        self.table
            .raw(self.pager, self.row, col)
            .map_err(|e| heap_error("cannot read a row", e))
    }

    /// The row's number (its place in scan order; stable for the row's life).
    pub fn row_number(&self) -> u64 {
        self.row
    }

    /// An Int column (`None` for nil).
    pub fn int(&mut self, name: &str) -> Result<Option<i64>, Error> {
        Ok(self.raw(name, &[ColType::Int])?.map(|r| r as i64))
    }

    /// A Float column (`None` for nil); an Int column reads as Float too.
    pub fn float(&mut self, name: &str) -> Result<Option<f64>, Error> {
        let ty = self
            .table
            .column_index(name)
            .map(|c| self.table.columns[c].ty);
        let raw = self.raw(name, &[ColType::Float, ColType::Int])?;
        Ok(raw.map(|r| match ty {
            Some(ColType::Int) => r as i64 as f64,
            _ => f64::from_bits(r),
        }))
    }

    /// A Bool column (`None` for nil).
    pub fn bool(&mut self, name: &str) -> Result<Option<bool>, Error> {
        Ok(self.raw(name, &[ColType::Bool])?.map(|r| r != 0))
    }

    /// Any column as a script value.
    pub fn value(&mut self, name: &str) -> Result<Value, Error> {
        let col = self
            .column(
                name,
                &[ColType::Int, ColType::Float, ColType::Bool, ColType::Str],
            )
            .map_err(table_error)?;
        let cell = self
            .table
            .get(self.pager, self.row, col)
            .map_err(|e| heap_error("cannot read a row", e))?;
        Ok(detach(&cell_value(cell)))
    }

    /// A String column (`None` for nil).
    pub fn string(&mut self, name: &str) -> Result<Option<String>, Error> {
        let col = self.column(name, &[ColType::Str]).map_err(table_error)?;
        match self.table.get(self.pager, self.row, col) {
            Ok(Cell::Str(s)) => Ok(Some(s)),
            Ok(_) => Ok(None),
            Err(e) => Err(heap_error("cannot read a row", e)),
        }
    }
}

/// Can `path` be imported? A file of no known format is refused first, before anything is
/// read; one that cannot be opened is an I/O error (exit 74), as for a script.
pub fn check_import_file(path: &str) -> Result<(), Error> {
    walia_stdlib::Format::of(path).map_err(Error::Runtime)?;
    std::fs::File::open(path)
        .map(|_| ())
        .map_err(|e| Error::Io {
            message: format!("cannot read '{path}': {e}"),
        })
}

fn table_error(e: TableError) -> Error {
    match e {
        TableError::Data(m) => Error::Runtime(RtError::new(m)),
        TableError::Heap(e) => heap_error("table", e),
    }
}

impl Engine {
    pub(crate) fn table_id(&mut self, name: &str, create: bool) -> Result<TableId, Error> {
        self.enter()
            .table_arg(&Live::str(name), create)
            .map_err(Error::Runtime)
    }

    /// Create a table with these columns (types come from the first values stored), or
    /// add the missing columns to an existing one.
    pub fn create_table(&mut self, name: &str, columns: &[&str]) -> Result<(), Error> {
        let t = self.table_id(name, true)?;
        let _vm = self.enter();
        with_table(t, |table, _| {
            for c in columns {
                if table.column_index(c).is_none() {
                    table.add_column(c);
                }
            }
            Ok(())
        })
        .map_err(Error::Runtime)
    }

    /// Insert a row given as (column, value) pairs, creating the table when missing.
    /// Returns a copy of the row as stored.
    pub fn insert(&mut self, table: &str, fields: &[(&str, Value)]) -> Result<Value, Error> {
        let t = self.table_id(table, true)?;
        let mut vm = self.enter();
        let mut entries = Entries::with_capacity(fields.len());
        for (k, v) in fields {
            entries.insert(
                MapKey::Str(std::rc::Rc::new(Str::new(k.to_string()))),
                attach(v.clone()),
            );
        }
        let row = vm
            .table_insert(t, &Live::map(entries))
            .map_err(Error::Runtime)?;
        Ok(detach(&row))
    }

    /// The row whose `id` is `id`, as (column, value) pairs in column order.
    pub fn get_row(
        &mut self,
        table: &str,
        id: Value,
    ) -> Result<Option<Vec<(String, Value)>>, Error> {
        let t = self.table_id(table, false)?;
        let mut vm = self.enter();
        match vm.table_get(t, &attach(id)).map_err(Error::Runtime)? {
            Live::Row(r) => {
                let fields = walia_runtime::api::row_fields(r).map_err(Error::Runtime)?;
                Ok(Some(
                    fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), detach(v)))
                        .collect(),
                ))
            }
            _ => Ok(None),
        }
    }

    /// Visit every live row in insertion order until `f` returns `false`; returns how many
    /// rows were visited. Reads come straight from the mapped pages: no row is copied.
    ///
    /// ```
    /// let mut engine = walia::Engine::new();
    /// engine.run("db_insert(\"users\", {id: 1, age: 30, score: 2.5});").unwrap();
    /// let mut total = 0.0;
    /// engine.scan("users", |row| {
    ///     if row.int("age")?.unwrap_or(0) > 18 {
    ///         total += row.float("score")?.unwrap_or(0.0);
    ///     }
    ///     Ok(true)
    /// }).unwrap();
    /// assert_eq!(total, 2.5);
    /// ```
    pub fn scan(
        &mut self,
        table: &str,
        mut f: impl FnMut(&mut RowView) -> Result<bool, Error>,
    ) -> Result<u64, Error> {
        let t = self.table_id(table, false)?;
        let _vm = self.enter();
        let mut visited = 0;
        let mut failure = None;
        with_table(t, |table, pager| {
            for row in table.base..table.slots {
                if !table.is_live(pager, row)? {
                    continue;
                }
                visited += 1;
                let mut view = RowView { table, pager, row };
                match f(&mut view) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            Ok(())
        })
        .map_err(Error::Runtime)?;
        match failure {
            Some(e) => Err(e),
            None => Ok(visited),
        }
    }

    /// Each table's name, row count, columns and size, in creation order (as of the last
    /// commit).
    pub fn table_summaries(&mut self) -> Result<Vec<TableInfo>, Error> {
        let heap = self.enter().tables_heap().map_err(Error::Runtime)?;
        let mut heap = heap
            .try_borrow_mut()
            .map_err(|_| Error::Runtime(RtError::new("the heap is busy")))?;
        heap.table_infos()
            .map_err(|e| heap_error("cannot read tables", e))
    }

    /// Names of the heap's tables in creation order.
    pub fn tables(&mut self) -> Result<Vec<String>, Error> {
        self.enter().table_names().map_err(Error::Runtime)
    }

    /// Import a CSV (header row; `.tsv`: tab-separated) or JSON Lines file into a table
    /// (created when missing);
    /// all-or-nothing unless `options.skip_bad`. Not committed until the next commit.
    pub fn import_table(
        &mut self,
        table: &str,
        path: &str,
        options: ImportOptions,
    ) -> Result<Imported, Error> {
        check_import_file(path)?;
        walia_stdlib::import_table(&mut self.enter(), &Live::str(table), path, options)
            .map_err(Error::Runtime)
    }

    /// Export a table as CSV, TSV or JSON Lines (by the path's extension); returns the
    /// rows written.
    pub fn export_table(&mut self, table: &str, path: &str) -> Result<u64, Error> {
        self.export_table_with(table, path, None)
    }

    /// [`Engine::export_table`] with the byte between CSV fields (`None`: a comma, or a
    /// tab for a `.tsv` file).
    pub fn export_table_with(
        &mut self,
        table: &str,
        path: &str,
        delimiter: Option<u8>,
    ) -> Result<u64, Error> {
        let t = self.table_id(table, false)?;
        let _vm = self.enter();
        walia_stdlib::export_table(t, path, delimiter).map_err(Error::Runtime)
    }

    /// Drop a table: its rows, columns and pages go at the next commit, and the pages
    /// become free space in the heap. `false` when there is no such table.
    pub fn drop_table(&mut self, table: &str) -> Result<bool, Error> {
        let mut vm = self.enter();
        match vm.find_table(table).map_err(Error::Runtime)? {
            Some(Live::Table(t)) => vm.table_drop(t).map_err(Error::Runtime),
            _ => Ok(false),
        }
    }
}
