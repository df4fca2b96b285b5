//! Dropping what a heap holds (`drop_global`, `db_drop`, `db.T.drop()`, `walia drop`): the
//! catalog entry goes in the current transaction, like any change, and the space it held
//! becomes free pages of the heap at the commit (for a global, through the sweep of the
//! records only it reached, which a drop makes due).

use crate::db::handle::{TableId, resolve, table_name};
use crate::error::{RtError, RtResult, heap_rt_error};
use crate::value::Value;
use crate::vm::Vm;
use walia_store::{HeapError, cursor_key};

impl Vm {
    /// Remove global `name` from this run and from the heap, with the cursor of the
    /// checkpointed pipe of that name (the pipe a global of that name is bound to).
    /// Returns whether either existed. Afterwards reading `name` is "not defined yet"
    /// until something assigns it again.
    pub fn drop_global(&mut self, name: &str) -> RtResult<bool> {
        if self.cursors.live.get(name).is_some_and(|s| s.running) {
            return Err(RtError::new(format!(
                "checkpointed pipe '{name}' cannot be dropped while it runs"
            )));
        }
        let stored = self
            .with_heap(|_, heap| {
                let cursor = heap.get(&cursor_key(name))?.is_some();
                if !heap.has_stored(name) && !cursor {
                    return Ok(false);
                }
                if !heap.pager.writable {
                    return Err(HeapError::ReadOnly);
                }
                heap.drop_global(name)?;
                heap.drop_cursor(name)?;
                heap.sweep_due = true;
                Ok(true)
            })
            .map_err(heap_rt_error)?
            .unwrap_or(false);
        let mut assigned = false;
        if let Some(slot) = self.names.get(name)
            && let Some(v) = self.globals.get_mut(slot as usize)
            && Vm::is_script_global(name, v)
        {
            // An Undefined slot is not saved: the commit writes no entry for it.
            *v = Value::Undefined;
            assigned = true;
        }
        let cached = self.cursors.live.remove(name).is_some();
        Ok(stored || assigned || cached)
    }

    /// Drop table `t` and free its pages (at the commit); `false` when it does not exist.
    /// Row values taken from it read as deleted, also once a table of the same name is
    /// created again.
    pub fn table_drop(&mut self, t: TableId) -> RtResult<bool> {
        let name = table_name(t);
        let Some((heap, _)) = resolve(t) else {
            return Err(RtError::new(format!(
                "table {name} belongs to a heap that was closed"
            )));
        };
        let Ok(mut heap) = heap.try_borrow_mut() else {
            return Err(RtError::new(format!(
                "table {name} cannot be dropped while the heap is busy"
            )));
        };
        // Rows read ahead from its pages must not outlive it.
        self.row_reader = Default::default();
        heap.drop_table(&name).map_err(heap_rt_error)
    }
}
