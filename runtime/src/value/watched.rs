//! The write barrier: the mutable part of a list, map, instance or cell, in a `RefCell`
//! that knows whether the heap's stored record still equals it.
//!
//! A commit must cost what changed, not what the run has loaded. So every object that can
//! change keeps a `clean` flag: set when a heap loads the object from its record or writes
//! its record, cleared by every mutable borrow. The first mutation after a clean point also
//! notes the field's address in the change log (`persist::dirty`), which is how a commit
//! finds the objects to encode without walking everything it could reach.
//!
//! `Watched` has `RefCell`'s borrowing API, so mutation sites read as before and none can
//! skip the barrier: the only way to change the value is `borrow_mut`, `try_borrow_mut`, or
//! `get_mut`/`take` through a unique reference (which no heap's object map can hold).

use std::cell::{BorrowError, BorrowMutError, Cell, Ref, RefCell, RefMut};

/// Which object type a watched field belongs to: with the field's address, this finds the
/// object (see `persist::dirty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    List,
    Map,
    Instance,
    Cell,
}

/// The contents of a watched field, by the object type holding it.
pub trait Owner {
    const KIND: Kind;
}

pub struct Watched<T> {
    clean: Cell<bool>,
    inner: RefCell<T>,
}

impl<T: Owner> Watched<T> {
    pub fn new(v: T) -> Watched<T> {
        Watched {
            clean: Cell::new(false),
            inner: RefCell::new(v),
        }
    }

    #[inline(always)]
    pub fn borrow(&self) -> Ref<'_, T> {
        self.inner.borrow()
    }

    #[inline]
    pub fn try_borrow(&self) -> Result<Ref<'_, T>, BorrowError> {
        self.inner.try_borrow()
    }

    /// A mutable borrow: the stored record may no longer match. Inline (it is on every
    /// field store); telling the heap is the rare, out-of-line part.
    #[inline(always)]
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        self.touch();
        self.inner.borrow_mut()
    }

    #[inline]
    pub fn try_borrow_mut(&self) -> Result<RefMut<'_, T>, BorrowMutError> {
        let r = self.inner.try_borrow_mut()?;
        self.touch();
        Ok(r)
    }

    /// Through a unique reference: no heap holds this object (each holds what it knows
    /// strongly), so there is nobody to tell; the flag is still cleared.
    pub fn get_mut(&mut self) -> &mut T {
        self.clean.set(false);
        self.inner.get_mut()
    }

    pub fn take(&mut self) -> T
    where
        T: Default,
    {
        std::mem::take(self.get_mut())
    }

    #[inline(always)]
    fn touch(&self) {
        if self.clean.get() {
            self.note_dirty();
        }
    }

    #[cold]
    #[inline(never)]
    fn note_dirty(&self) {
        self.clean.set(false);
        crate::persist::dirty::note(T::KIND, self.address());
    }

    /// Does a stored record equal this value (nothing mutated it since it was loaded or
    /// written)?
    #[inline]
    pub(crate) fn is_clean(&self) -> bool {
        self.clean.get()
    }

    /// A heap has just loaded this value from its record, or written its record.
    #[inline]
    pub(crate) fn set_clean(&self) {
        self.clean.set(true);
    }

    /// The field's address, as the change log records it.
    #[inline]
    pub(crate) fn address(&self) -> usize {
        self as *const Watched<T> as usize
    }
}

impl Owner for Vec<crate::value::Value> {
    const KIND: Kind = Kind::List;
}

impl Owner for crate::value::Entries {
    const KIND: Kind = Kind::Map;
}

impl Owner for crate::value::InstanceFields {
    const KIND: Kind = Kind::Instance;
}

impl Owner for crate::value::Value {
    const KIND: Kind = Kind::Cell;
}
