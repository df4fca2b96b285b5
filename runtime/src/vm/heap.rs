//! The VM's side of persistence: loading stored globals on first use, and commit,
//! rollback and savepoints over the attached heap.

use crate::error::{RtError, RtResult};
use crate::persist::load::{LoadContext, Loader, address};
use crate::persist::save::Saver;
use crate::persist::sweep::maybe_sweep;
use crate::persist::{HeapRef, Persist};
use crate::pipe::files::SourceOpener;
use crate::value::{Class, Value};
use crate::vm::Vm;
use std::cell::{Ref, RefCell, RefMut};
use std::collections::HashSet;
use std::rc::Rc;
use walia_lang::resolve::GlobalNames;
use walia_store::codec::{Item, Reader, kind};
use walia_store::{Heap, HeapError, HeapResult};

use crate::error::heap_rt_error;

impl LoadContext for Vm {
    fn builtin(&self, name: &str) -> Option<Value> {
        self.builtin_by_name(name)
    }
    fn source_opener(&self, kind: &str) -> Option<SourceOpener> {
        Vm::source_opener(self, kind)
    }
    fn global(&self, name: &str) -> Option<Value> {
        Vm::global(self, name)
    }
    fn names(&mut self) -> &mut GlobalNames {
        &mut self.names
    }
}

impl Vm {
    /// Give the VM a heap: stored globals become visible, and commits go to it.
    pub fn attach_heap(&mut self, heap: Heap) {
        self.row_reader = Default::default();
        // Cursors belong to the heap they were read from or are to be written to.
        self.cursors = Default::default();
        let replacing = self.heap.is_some();
        let shared = Rc::new(RefCell::new(Persist::new(heap)));
        crate::db::handle::register_heap(&shared);
        self.heap = Some(shared);
        if replacing {
            // Globals of the heap being replaced must not leak into this one.
            let names: Vec<(u32, String)> =
                self.names.iter().map(|(s, n)| (s, n.to_string())).collect();
            for (slot, name) in names {
                if let Some(v) = self.globals.get_mut(slot as usize)
                    && Vm::is_script_global(&name, v)
                {
                    *v = Value::Undefined;
                }
            }
            // Nothing assigned for the old heap is written into this one.
            self.clean_globals();
        }
        self.unshadow_stored_globals();
    }

    /// A stored global named like a builtin is the script's value, not the builtin: clear
    /// the builtin from its slot so the stored value loads on first use.
    fn unshadow_stored_globals(&mut self) {
        let Some(heap) = &self.heap else {
            return;
        };
        let stored = heap.borrow().stored_names();
        for name in stored {
            if let Some(slot) = self.names.get(&name)
                && let Some(v) = self.globals.get_mut(slot as usize)
                && matches!(v, Value::Native(n) if *n.name == *name)
            {
                *v = Value::Undefined;
            }
        }
    }

    /// Take the heap back (to close it); `None` when none is attached.
    pub fn detach_heap(&mut self) -> Option<Persist> {
        self.row_reader = Default::default();
        self.cursors = Default::default();
        let heap = self.heap.take()?;
        match Rc::try_unwrap(heap) {
            Ok(cell) => Some(cell.into_inner()),
            // Held elsewhere (cannot happen outside a heap operation): keep it attached.
            Err(shared) => {
                self.heap = Some(shared);
                None
            }
        }
    }

    pub fn heap(&self) -> Option<Ref<'_, Persist>> {
        self.heap.as_ref()?.try_borrow().ok()
    }

    pub fn heap_mut(&mut self) -> Option<RefMut<'_, Persist>> {
        self.heap.as_ref()?.try_borrow_mut().ok()
    }

    /// The attached heap, shared (row and table values hold it weakly).
    pub fn heap_ref(&self) -> Option<HeapRef> {
        self.heap.clone()
    }

    /// A global's value, loading it from the heap when this run has not touched it yet.
    pub fn global_or_stored(&mut self, name: &str) -> RtResult<Option<Value>> {
        if let Some(v) = self.global(name) {
            return Ok(Some(v));
        }
        let slot = match self.names.get(name) {
            Some(slot) => slot,
            None if self.heap().is_some_and(|h| h.has_stored(name)) => self.names.intern(name),
            None => return Ok(None),
        };
        Ok(if self.load_stored_global(slot)? {
            self.global(name)
        } else {
            None
        })
    }

    /// A top-level `var x` is about to run: `x` becomes its stored value, or `nil` if
    /// nothing ever set it. A builtin of the same name does not count as set (so
    /// `var count = count or 0;` counts runs, not the `count` builtin).
    pub(crate) fn declare_global(&mut self, g: u32) -> RtResult<()> {
        let unset = match self.globals.get(g as usize) {
            None | Some(Value::Undefined) => true,
            Some(Value::Native(n)) => *n.name == *self.names.name(g),
            Some(_) => false,
        };
        if unset {
            self.put_global(g, Value::Undefined, false);
            if !self.load_stored_global(g)? {
                self.store_global(g, Value::Nil);
            }
        }
        Ok(())
    }

    /// A class is being stored in global `g`: a class of the same name that it replaces
    /// (in the slot, or loaded from the heap) forwards to it, so existing instances see
    /// the new methods.
    pub(crate) fn note_class_declared(&mut self, g: u32, new: &Rc<Class>) {
        if !new.global {
            return;
        }
        let mut older: Vec<Rc<Class>> = Vec::new();
        if let Some(Value::Class(old)) = self.globals.get(g as usize) {
            older.push(old.clone());
        }
        if let Some(heap) = self.heap() {
            for v in heap.objects.values() {
                if let Value::Class(c) = v {
                    older.push(c.clone());
                }
            }
        }
        let mut inherited_id = None;
        for old in older {
            if old.global
                && old.name == new.name
                && !Rc::ptr_eq(&old, new)
                && old.replaced_by.borrow().is_none()
            {
                *old.replaced_by.borrow_mut() = Some(new.clone());
                crate::shape::methods_changed();
                if let Some(mut heap) = self.heap_mut()
                    && let Some(addr) = address(&Value::Class(old.clone()))
                    && let Some(id) = heap.ids.remove(&addr)
                {
                    inherited_id = Some(id);
                }
            }
        }
        // The new declaration takes over the stored class's id, so instances stored earlier
        // refer to it (and are not rewritten just because the script declared it again).
        if let Some(mut heap) = self.heap_mut() {
            let heap = &mut *heap;
            let id = inherited_id.or_else(|| stored_class_id(heap, &new.name));
            if let (Some(id), Some(addr)) = (id, address(&Value::Class(new.clone())))
                && !heap.ids.contains_key(&addr)
            {
                heap.ids.insert(addr, id);
                heap.objects.insert(id, Value::Class(new.clone()));
                // Its record is still the old class's: written at the next commit.
                heap.pending.push(id);
            }
        }
    }

    /// A global read found its slot empty: load it from the heap, or report it undefined.
    pub(crate) fn missing_global(&mut self, g: u32) -> RtResult<Value> {
        if self.load_stored_global(g)?
            && let Some(v) = self.globals.get(g as usize)
            && !matches!(v, Value::Undefined)
        {
            return Ok(v.clone());
        }
        let name = self.names.name(g).to_string();
        Err(RtError::new(format!("'{name}' is not defined yet")))
    }

    /// Load a stored global into its slot; `false` when the heap does not hold it.
    pub(crate) fn load_stored_global(&mut self, g: u32) -> RtResult<bool> {
        let name = self.names.name(g).to_string();
        let result = self.with_heap(|vm, heap| {
            if !heap.has_stored(&name) {
                return Ok(None);
            }
            match heap.global_entry(&name)? {
                Some(bytes) => Loader::new(heap, vm).global(&name, &bytes).map(Some),
                None => Ok(None),
            }
        });
        let result = result.map(Option::flatten);
        match result {
            Ok(Some(v)) => {
                // Loaded: the slot equals its stored entry, nothing to write back.
                self.put_global(g, v, false);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(heap_rt_error(e)),
        }
    }

    /// Is this global slot the script's (not a builtin registered under its own name)?
    pub(super) fn is_script_global(name: &str, v: &Value) -> bool {
        match v {
            Value::Undefined | Value::Db => false,
            Value::Native(n) => *n.name != *name,
            _ => true,
        }
    }

    /// Write what changed since the last commit into the heap (not yet committed): the
    /// globals assigned since then, the objects mutated since then (the change log names
    /// them), and the new objects those reach. Nothing else is encoded or read.
    fn save_globals(&mut self, heap: &mut Persist) -> HeapResult<()> {
        let log = heap.watch.pending();
        let pending = std::mem::take(&mut heap.pending);
        let all: Vec<u64> = if log.lost {
            heap.objects.keys().copied().collect()
        } else {
            Vec::new()
        };
        let mut saver = Saver::new(heap);
        for (kind, field) in &log.entries {
            saver.changed(*kind, *field);
        }
        for id in pending.into_iter().chain(all) {
            saver.object(id);
        }
        let mut result = Ok(());
        for &slot in &self.dirty_globals {
            let name = self.names.name(slot);
            let Some(v) = self.globals.get(slot as usize) else {
                continue;
            };
            if Vm::is_script_global(name, v) {
                result = saver.global(name, v);
                if result.is_err() {
                    break;
                }
            }
        }
        if result.is_ok() {
            result = self.save_cursors(&mut saver);
        }
        // On an error the queued objects stay pending, the global slots stay dirty and the
        // log is not consumed: the next commit tries all of it again.
        match result {
            Ok(()) => saver.finish()?,
            Err(e) => {
                saver.spill();
                return Err(e);
            }
        }
        let mut stats = saver.stats;
        maybe_sweep(heap, stats.rewrites)?;
        heap.watch.advance(log.end, log.lost);
        heap.release(std::mem::take(&mut self.released));
        self.clean_globals();
        heap.prune();
        stats.held = heap.objects.len() as u64;
        heap.stats = stats;
        heap.total.add(stats);
        Ok(())
    }

    /// Global `g` is about to be assigned: the next commit writes its entry. Called before
    /// the store: the object the slot held at the last commit is noted, so the commit can
    /// let go of it (and what only it held) at once if the script no longer holds it.
    #[inline]
    pub(crate) fn global_assigned(&mut self, g: usize) {
        if let Some(d) = self.global_dirty.get_mut(g) {
            if !*d {
                *d = true;
                self.dirty_globals.push(g as u32);
                if let Some(addr) = self.globals.get(g).and_then(address) {
                    self.released.push(addr);
                }
            }
            return;
        }
        self.global_dirty.resize(g + 1, false);
        if let Some(d) = self.global_dirty.get_mut(g) {
            *d = true;
            self.dirty_globals.push(g as u32);
            if let Some(addr) = self.globals.get(g).and_then(address) {
                self.released.push(addr);
            }
        }
    }

    /// Every global slot matches the heap (saved, or reset to load from it).
    fn clean_globals(&mut self) {
        for g in self.dirty_globals.drain(..) {
            if let Some(d) = self.global_dirty.get_mut(g as usize) {
                *d = false;
            }
        }
        self.released.clear();
    }

    pub(super) fn with_heap<T>(
        &mut self,
        f: impl FnOnce(&mut Vm, &mut Persist) -> HeapResult<T>,
    ) -> HeapResult<Option<T>> {
        // The heap is detached while `f` runs: code it calls back into sees no heap rather
        // than a heap already borrowed.
        let Some(shared) = self.heap.take() else {
            return Ok(None);
        };
        self.heap_busy = true;
        let r = match shared.try_borrow_mut() {
            Ok(mut heap) => f(self, &mut heap),
            Err(_) => Err(HeapError::Record("the heap is in use".into())),
        };
        self.heap_busy = false;
        self.heap = Some(shared);
        r.map(Some)
    }

    /// Commit: the globals as they are now become the heap's durable state.
    /// On a heap opened read-only (`--read-only`, `walia check`) nothing is saved: the
    /// run's changes to globals live until the process ends.
    pub fn commit(&mut self) -> HeapResult<()> {
        self.with_heap(|vm, heap| {
            if !heap.pager.writable {
                // Nothing is ever written: what was logged can go.
                heap.watch.skip_all();
                return Ok(());
            }
            vm.save_globals(heap)?;
            heap.flush_tables()?;
            heap.pager.commit()
        })?;
        self.cursors_committed();
        Ok(())
    }

    /// Drop everything since the last commit; returns that commit's sequence number.
    pub fn rollback(&mut self) -> HeapResult<Option<u64>> {
        self.with_heap(|vm, heap| {
            heap.pager.rollback();
            vm.reset_to_heap(heap)?;
            Ok(heap.commit_sequence())
        })
    }

    /// `db_transaction_begin()`: a point that [`Vm::rollback_to_savepoint`] returns to.
    /// A reader has no savepoints: its changes are never written anywhere to return to.
    pub fn savepoint(&mut self) -> HeapResult<()> {
        self.with_heap(|vm, heap| {
            if !heap.pager.writable {
                return Err(HeapError::ReadOnly);
            }
            vm.save_globals(heap)?;
            heap.flush_tables()?;
            // A new `db_transaction_begin()` replaces the previous point.
            heap.pager.release_savepoint();
            heap.pager.savepoint()
        })
        .map(|_| ())
    }

    /// `db_transaction_rollback()`: back to the savepoint, or to the last commit if none.
    pub fn rollback_to_savepoint(&mut self) -> HeapResult<()> {
        self.with_heap(|vm, heap| {
            if !heap.pager.rollback_to_savepoint() {
                heap.pager.rollback();
            }
            vm.reset_to_heap(heap)
        })
        .map(|_| ())
    }

    /// After a rollback: forget live objects and every script global, so each is loaded
    /// again from the heap's state on its next use.
    fn reset_to_heap(&mut self, heap: &mut Persist) -> HeapResult<()> {
        heap.forget_objects();
        // Cursors load again from the heap, as of the commit rolled back to.
        self.cursors.live.clear();
        heap.reload_names()?;
        let stored: HashSet<String> = heap.stored_names().into_iter().collect();
        let names: Vec<(u32, String)> =
            self.names.iter().map(|(s, n)| (s, n.to_string())).collect();
        for (slot, name) in names {
            if let Some(v) = self.globals.get_mut(slot as usize)
                && (Vm::is_script_global(&name, v) || stored.contains(&name))
            {
                *v = Value::Undefined;
            }
        }
        // Each script global reloads from the heap: none has anything to write.
        self.clean_globals();
        Ok(())
    }
}

/// The id of the class stored under global `name`, if that global holds a class of that
/// name.
fn stored_class_id(heap: &mut Persist, name: &str) -> Option<u64> {
    if !heap.has_stored(name) {
        return None;
    }
    let entry = heap.global_entry(name).ok()??;
    let mut r = Reader::new(&entry, "global");
    let Ok(Item::Ref(id)) = r.item() else {
        return None;
    };
    let record = heap.object_record(id).ok()??;
    let mut r = Reader::new(&record, "class");
    if r.byte().ok()? != kind::CLASS || r.str().ok()? != name {
        return None;
    }
    // Superclass, `@sql`, then whether it was a top-level class.
    r.item().ok()?;
    r.item().ok()?;
    if r.item().ok()? != Item::Bool(true) {
        return None;
    }
    Some(id)
}
