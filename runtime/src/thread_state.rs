//! The runtime keeps four registries in thread-local storage, because the code that
//! needs them (a value's constructor, a write barrier, a table value's lookup) has no VM
//! at hand: the cycle collector's objects, the heaps and tables that table values name,
//! the change log of mutated objects, and the shared one-character strings. An engine
//! owns its own [`RuntimeState`] and installs it in the thread for as long as it runs
//! ([`RuntimeState::swap_with_thread`]), so no registry outlives the engine's time on a
//! thread: between two calls the thread holds nothing of the engine, and the engine can
//! run on another thread next.

use crate::db::handle;
use crate::gc;
use crate::persist::dirty;
use crate::value::chars;

/// One engine's share of the runtime's thread-local registries.
pub struct RuntimeState {
    collector: gc::Registry,
    tables: handle::Registry,
    changes: dirty::ChangeLog,
    chars: chars::CharTable,
}

impl Default for RuntimeState {
    fn default() -> RuntimeState {
        RuntimeState {
            collector: gc::Registry::new(),
            tables: handle::Registry::default(),
            changes: dirty::ChangeLog::default(),
            chars: chars::CharTable::default(),
        }
    }
}

impl RuntimeState {
    /// Exchange these registries with the current thread's: called once to install an
    /// engine's state before it runs and once more to take it back (which restores what
    /// the thread held before).
    pub fn swap_with_thread(&mut self) {
        gc::swap_registry(&mut self.collector);
        handle::swap_registry(&mut self.tables);
        dirty::swap_log(&mut self.changes);
        chars::swap_table(&mut self.chars);
    }
}
