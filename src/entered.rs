//! How the engine reaches its VM: only through [`Entered`], which installs the engine's
//! share of the runtime's thread-local registries ([`RuntimeState`]) for as long as it
//! lives and takes it back when dropped, even on unwind. Because the VM is reachable no
//! other way, everything the engine does runs with its own registries installed, and
//! between two calls the thread holds nothing of the engine.

use std::ops::{Deref, DerefMut};
use walia_runtime::{RuntimeState, Vm};

/// An engine's registries, and whether they are installed in the thread right now.
pub(crate) struct StateSlot {
    state: RuntimeState,
    installed: bool,
}

impl StateSlot {
    pub(crate) fn new() -> StateSlot {
        StateSlot {
            state: RuntimeState::default(),
            installed: false,
        }
    }

    /// Install the registries; [`StateSlot::uninstall`] (or dropping the slot) takes them
    /// back.
    pub(crate) fn install(&mut self) {
        if !self.installed {
            self.state.swap_with_thread();
            self.installed = true;
        }
    }

    pub(crate) fn uninstall(&mut self) {
        if self.installed {
            self.state.swap_with_thread();
            self.installed = false;
        }
    }
}

impl Drop for StateSlot {
    fn drop(&mut self) {
        self.uninstall();
    }
}

/// The VM, with the engine's registries installed in this thread.
pub(crate) struct Entered<'a> {
    vm: &'a mut Vm,
    slot: &'a mut StateSlot,
}

impl<'a> Entered<'a> {
    pub(crate) fn new(vm: &'a mut Vm, slot: &'a mut StateSlot) -> Entered<'a> {
        slot.install();
        Entered { vm, slot }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.slot.uninstall();
    }
}

impl Deref for Entered<'_> {
    type Target = Vm;
    fn deref(&self) -> &Vm {
        self.vm
    }
}

impl DerefMut for Entered<'_> {
    fn deref_mut(&mut self) -> &mut Vm {
        self.vm
    }
}

// SAFETY: an `Engine` is its VM (reference-counted `Rc` objects, `RefCell`s, boxed
// closures, the heap), its compiled scripts and its registries' slot. Moving it to
// another thread is sound because nothing it holds is reachable from outside it, and
// nothing of it stays behind in the thread it leaves:
// - Every value that crosses the API is copied: [`crate::Value`] out, `attach`ed copies
//   in. No `Rc` of the engine is ever handed out, so no other owner can touch a
//   reference count from the old thread. Errors carry `Arc`ed source text only.
// - What the program gives the engine to keep is `Send`: output writers, progress sinks
//   and registered functions (their bounds say so), and heap storage (`Storage: Send +
//   Sync`).
// - The runtime's thread-local registries hold the engine's objects only while
//   [`Entered`] is alive, that is during a call with `&mut Engine`; between calls they are
//   in the engine's own `StateSlot`, which moves with it.
// - The limits' thread-locals hold plain numbers and an error without references into
//   the engine; the interrupt flag is process-wide and atomic.
// The engine is not `Sync`: every use goes through `&mut self`.
unsafe impl Send for crate::Engine {}
