//! Instance layouts (shapes) and the inline caches of field and method sites.
//!
//! An instance keeps its field values in a vector laid out by its shape: the ordered list of
//! its field names. Each class has a root shape (its declared fields, superclass fields
//! first); adding a field moves the instance along a transition to the shape with one more
//! name, so instances built the same way share one shape. A shape's order is the instance's
//! insertion order, which printing and storing show.
//!
//! A field site (`o.x`, `o.x = v`) remembers, for a few shape ids, the slot it found there;
//! a method site (`o.m()`) remembers, for a few shape ids, the method, valid for one method
//! epoch. A hit is an id compare and a vector index. Shape ids are never reused, in the
//! whole process (a cache can never take a new shape for a freed one, nor another thread's
//! for its own); the epoch moves whenever a class is replaced, so a method site never
//! serves a method that a newer declaration replaced (SPEC §15).

use crate::value::{Closure, FxBuild, NativeFn, Value};
use indexmap::IndexSet;
use std::cell::{Cell, RefCell};
use std::mem::Discriminant;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Most fields an instance keeps in slots when they are added after construction: past
/// this, an instance used as a dictionary keeps its fields in a map instead.
pub const MAX_SLOT_FIELDS: usize = 64;
/// Most distinct fields added to instances of one shape: past this, the instance that adds
/// yet another switches to a map (no unbounded fan-out of shapes).
const MAX_TRANSITIONS: usize = 32;
/// Most shapes made from one class's layouts by adding fields.
const MAX_FAMILY_SHAPES: u32 = 1024;
/// The id of a shape made after the id space ran out: never cached.
const UNCACHEABLE: u32 = u32::MAX;

// Process-wide, not thread-local: an engine moves between threads (it is `Send`), and
// a thread that numbered shapes from the start again would hand an old shape's id to a
// new one. The counter moves only when a shape is made, and reading the epoch is a plain
// load.
// Starts at 1: a site that has cached nothing holds shape id 0.
static NEXT_SHAPE_ID: AtomicU32 = AtomicU32::new(1);
static METHOD_EPOCH: AtomicU64 = AtomicU64::new(0);

fn next_shape_id() -> u32 {
    NEXT_SHAPE_ID
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| {
            (id < UNCACHEABLE).then_some(id + 1)
        })
        .unwrap_or(UNCACHEABLE)
}

/// The current method epoch (see [`methods_changed`]).
#[inline]
pub fn method_epoch() -> u64 {
    METHOD_EPOCH.load(Ordering::Relaxed)
}

/// A class was replaced by a newer declaration or lost its methods: every method a site
/// cached may be stale.
pub fn methods_changed() {
    METHOD_EPOCH.fetch_add(1, Ordering::Relaxed);
}

/// An ordered list of field names: the layout of an instance's slot vector.
pub struct Shape {
    id: u32,
    names: IndexSet<Rc<str>, FxBuild>,
    /// The shapes with one more field, made so far (the added name is their last).
    transitions: RefCell<Vec<Rc<Shape>>>,
    /// How many more shapes this class's family may make by adding fields.
    budget: Rc<Cell<u32>>,
}

impl Shape {
    /// A class's shapes: one with no field (where an instance stored in another layout
    /// starts when it is loaded) and the root, with the declared fields in order.
    pub fn for_class(fields: &[Rc<str>]) -> (Rc<Shape>, Rc<Shape>) {
        let budget = Rc::new(Cell::new(MAX_FAMILY_SHAPES));
        let make = |names: IndexSet<Rc<str>, FxBuild>| {
            Rc::new(Shape {
                id: next_shape_id(),
                names,
                transitions: RefCell::new(Vec::new()),
                budget: budget.clone(),
            })
        };
        let empty = make(IndexSet::default());
        let root = make(fields.iter().cloned().collect());
        (empty, root)
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// Whether the id stands for this shape alone (ids ran out past `u32::MAX - 1`
    /// shapes: the later ones share one that no cache may remember).
    pub fn is_cacheable(&self) -> bool {
        self.id != UNCACHEABLE
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The slot of a field.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.names.get_index_of(name)
    }

    pub fn names(&self) -> &IndexSet<Rc<str>, FxBuild> {
        &self.names
    }

    /// Do these names, in this order, make exactly this shape?
    pub fn is_layout_of<'a>(&self, names: impl ExactSizeIterator<Item = &'a Rc<str>>) -> bool {
        names.len() == self.names.len() && names.zip(&self.names).all(|(a, b)| a == b)
    }

    /// The shape with `name` added last (shared by every instance that adds it here), or
    /// `None` when the instance should keep its fields in a map instead.
    pub fn with_field(&self, name: &Rc<str>) -> Option<Rc<Shape>> {
        let mut transitions = self.transitions.borrow_mut();
        if let Some(next) = transitions
            .iter()
            .find(|s| s.names.last().is_some_and(|last| last == name))
        {
            return Some(next.clone());
        }
        let left = self.budget.get();
        if self.names.len() >= MAX_SLOT_FIELDS || transitions.len() >= MAX_TRANSITIONS || left == 0
        {
            return None;
        }
        self.budget.set(left - 1);
        let mut names = self.names.clone();
        names.insert(name.clone());
        let next = Rc::new(Shape {
            id: next_shape_id(),
            names,
            transitions: RefCell::new(Vec::new()),
            budget: self.budget.clone(),
        });
        transitions.push(next.clone());
        Some(next)
    }
}

/// Shapes one site remembers at once: a site that sees more replaces them in turn.
const WAYS: usize = 4;

/// The entry of `shapes` holding `id`.
#[inline(always)]
fn way_of(shapes: &[Cell<u32>; WAYS], id: u32) -> Option<usize> {
    shapes.iter().position(|s| s.get() == id)
}

/// The entry a newly learned shape takes: its own if the site knows it, else the next in
/// turn.
fn way_for(shapes: &[Cell<u32>; WAYS], next: &Cell<u8>, id: u32) -> usize {
    way_of(shapes, id).unwrap_or_else(|| {
        let way = next.get() as usize % WAYS;
        next.set(((way + 1) % WAYS) as u8);
        way
    })
}

/// The inline cache of one field site: where the field is in each of the last shapes seen,
/// and (for `o.name = v` adding the field) the shape an instance moves to.
#[derive(Clone, Debug, Default)]
pub struct FieldSite {
    shapes: [Cell<u32>; WAYS],
    slots: [Cell<u32>; WAYS],
    next: Cell<u8>,
    /// From the shape with this id, adding the site's field leads to this shape.
    grow: RefCell<Option<(u32, Rc<Shape>)>>,
}

impl FieldSite {
    /// Where the field is, if the site has seen this shape.
    #[inline(always)]
    pub fn slot_in(&self, shape: &Shape) -> Option<usize> {
        let way = way_of(&self.shapes, shape.id)?;
        Some(self.slots[way].get() as usize)
    }

    /// Remember where `name` is in `shape` (after the slow path found it).
    pub fn learn(&self, shape: &Shape, name: &str) {
        if shape.id == UNCACHEABLE {
            return;
        }
        if let Some(slot) = shape.slot(name) {
            let way = way_for(&self.shapes, &self.next, shape.id);
            self.shapes[way].set(shape.id);
            self.slots[way].set(slot as u32);
        }
    }

    /// The shape an instance of `shape` moves to when this site adds its field.
    #[inline]
    pub fn grown(&self, shape: &Shape) -> Option<Rc<Shape>> {
        match &*self.grow.borrow() {
            Some((from, to)) if *from == shape.id => Some(to.clone()),
            _ => None,
        }
    }

    /// Remember that adding this site's field moved an instance from `from` to `to`.
    pub fn learn_growth(&self, from: &Shape, to: &Rc<Shape>) {
        if from.id == UNCACHEABLE || to.len() != from.len() + 1 {
            return;
        }
        *self.grow.borrow_mut() = Some((from.id, to.clone()));
    }
}

/// The inline cache of one method site (`o.m(...)` on an instance): the method each of the
/// last shapes seen found, valid while the method epoch has not moved.
#[derive(Clone, Debug, Default)]
pub struct InvokeSite {
    epoch: Cell<u64>,
    shapes: [Cell<u32>; WAYS],
    /// Weak: a method's closure holds its proto, which holds this cache.
    methods: [RefCell<Weak<Closure>>; WAYS],
    next: Cell<u8>,
    /// The site's method on a value of a built-in type (`words.add(w)`, `memo.get(n)`).
    pub builtin: BuiltinMemo,
}

impl InvokeSite {
    /// The method for an instance of this shape, if this site found it.
    #[inline(always)]
    pub fn method_for(&self, shape: &Shape) -> Option<Rc<Closure>> {
        let way = way_of(&self.shapes, shape.id)?;
        if self.epoch.get() != method_epoch() {
            return None;
        }
        self.methods[way].borrow().upgrade()
    }

    /// Remember the method that instances of `shape` (which has no field of the method's
    /// name: a field shadows a method) call at this site.
    pub fn learn(&self, shape: &Shape, method: &Rc<Closure>) {
        if shape.id == UNCACHEABLE {
            return;
        }
        let epoch = method_epoch();
        if self.epoch.get() != epoch {
            // Everything this site knew may be stale.
            self.shapes.iter().for_each(|s| s.set(0));
            self.epoch.set(epoch);
        }
        let way = way_for(&self.shapes, &self.next, shape.id);
        self.shapes[way].set(shape.id);
        *self.methods[way].borrow_mut() = Rc::downgrade(method);
    }
}

/// The builtin method one site last called on a value of a built-in type, by the value's
/// variant, valid while the method epoch holds (a registered method moves it). A map's
/// builtin method wins over its keys, so the map's contents do not matter.
#[derive(Clone, Default)]
pub struct BuiltinMemo {
    epoch: Cell<u64>,
    found: RefCell<Option<(Discriminant<Value>, Rc<NativeFn>)>>,
}

impl BuiltinMemo {
    /// Run `call` with the method for a receiver of variant `tag`, if this site found it.
    /// The memo stays borrowed meanwhile: a call through the same site from inside the
    /// builtin finds it, but does not learn.
    #[inline(always)]
    pub fn with_method<R>(
        &self,
        tag: Discriminant<Value>,
        call: impl FnOnce(&NativeFn) -> R,
    ) -> Option<R> {
        match &*self.found.try_borrow().ok()? {
            Some((t, n)) if *t == tag && self.epoch.get() == method_epoch() => Some(call(n)),
            _ => None,
        }
    }

    /// Remember the builtin `receiver` found at this site. A cell's type is that of what it
    /// holds, so a cell is never remembered by its variant.
    pub fn learn(&self, receiver: &Value, method: &Rc<NativeFn>) {
        if matches!(receiver, Value::Cell(_)) {
            return;
        }
        if let Ok(mut found) = self.found.try_borrow_mut() {
            *found = Some((std::mem::discriminant(receiver), method.clone()));
            self.epoch.set(method_epoch());
        }
    }
}

impl std::fmt::Debug for BuiltinMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let found = self.found.try_borrow().ok();
        let name = found
            .as_deref()
            .and_then(|o| o.as_ref().map(|(_, n)| n.name.clone()));
        write!(f, "BuiltinMemo({name:?})")
    }
}

/// A class's `init` as `find_method` finds it, remembered while the method epoch holds
/// (a constructor call then skips the method lookup).
#[derive(Default)]
pub struct InitMemo {
    epoch: Cell<Option<u64>>,
    /// `None`: the class has no `init`. Weak: the method's closure holds the class.
    init: RefCell<Option<Weak<Closure>>>,
}

impl InitMemo {
    /// The remembered `init`: `Some(None)` when the class has none, `None` when not known.
    #[inline]
    pub fn get(&self) -> Option<Option<Rc<Closure>>> {
        if self.epoch.get() != Some(method_epoch()) {
            return None;
        }
        match &*self.init.borrow() {
            None => Some(None),
            Some(weak) => weak.upgrade().map(Some),
        }
    }

    pub fn set(&self, init: Option<&Rc<Closure>>) {
        *self.init.borrow_mut() = init.map(Rc::downgrade);
        self.epoch.set(Some(method_epoch()));
    }
}

/// Site operand meaning "no cache" (a function with more sites than an operand can count).
pub const NO_SITE: u16 = u16::MAX;

/// The site caches of one function: the sites are numbered by the compiler.
#[derive(Clone, Debug, Default)]
pub struct SiteCaches {
    pub fields: Box<[FieldSite]>,
    pub invokes: Box<[InvokeSite]>,
}

impl SiteCaches {
    pub fn new(field_sites: u16, invoke_sites: u16) -> SiteCaches {
        SiteCaches {
            fields: (0..field_sites).map(|_| FieldSite::default()).collect(),
            invokes: (0..invoke_sites).map(|_| InvokeSite::default()).collect(),
        }
    }

    #[inline]
    pub fn field(&self, site: u16) -> Option<&FieldSite> {
        self.fields.get(site as usize)
    }

    #[inline]
    pub fn invoke(&self, site: u16) -> Option<&InvokeSite> {
        self.invokes.get(site as usize)
    }
}

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shape#{}{:?}", self.id, self.names)
    }
}

#[cfg(test)]
mod tests;
