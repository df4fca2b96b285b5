//! Persistence of script values: globals and the objects they reach become catalog records
//! of the store's heap ([`save`]), come back as live values on first use ([`load`]), and
//! stored functions are compiled again from their source ([`recompile`]).
//!
//! The store knows pages, records and table cells; this module is where values meet it.
//! [`Persist`] is the heap a VM has attached: the store's [`Heap`] plus the map between
//! stored object ids and the live objects this process has loaded or stored, so shared
//! references stay shared.

pub(crate) mod load;
pub(crate) mod recompile;
pub(crate) mod save;
#[cfg(test)]
mod tests;

use crate::value::{FxBuild, Value};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use walia_store::Heap;

/// The attached heap as the VM holds it.
pub type HeapRef = std::rc::Rc<std::cell::RefCell<Persist>>;

/// A heap with the live objects this process has loaded from it or stored in it. It
/// derefs to the store's [`Heap`]: tables, catalog entries and commits are the heap's.
pub struct Persist {
    heap: Heap,
    /// Objects known to this process by stored id (strong: their addresses stay unique).
    pub(crate) objects: HashMap<u64, Value, FxBuild>,
    /// The reverse: object address to stored id.
    pub(crate) ids: HashMap<usize, u64, FxBuild>,
}

impl Persist {
    pub fn new(heap: Heap) -> Persist {
        Persist {
            heap,
            objects: HashMap::default(),
            ids: HashMap::default(),
        }
    }

    /// Forget the live objects (after a rollback they no longer match the heap).
    pub(crate) fn forget_objects(&mut self) {
        self.objects.clear();
        self.ids.clear();
        self.heap.forget_tables();
    }
}

impl Deref for Persist {
    type Target = Heap;
    fn deref(&self) -> &Heap {
        &self.heap
    }
}

impl DerefMut for Persist {
    fn deref_mut(&mut self) -> &mut Heap {
        &mut self.heap
    }
}
