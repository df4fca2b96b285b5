//! Cycle collector.
//!
//! Values are reference counted, which frees everything that is not part of a cycle the
//! moment it becomes unreachable. Objects that can form cycles (lists, maps, instances,
//! closures with captures, cells, classes, bound methods, streams) are registered here when
//! created; when enough of them have been created, a trial-deletion pass (CPython's
//! algorithm) finds groups that are referenced only from inside the group and clears them,
//! which breaks the cycles and lets the counts drop to zero.
//!
//! There are no roots to enumerate: a reference held anywhere outside the tracked objects
//! (the VM stack, a Rust local) shows up as a count the group cannot explain.

use crate::pipe::Pipeline;
use crate::value::{BoundMethod, Class, Closure, Instance, List, Map, UpCell, Value};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// Scratch state for one collection, in every tracked object.
#[derive(Default)]
pub struct GcHeader {
    refs: Cell<i64>,
    /// Position in the registry's object list (during a collection: in the live set). A
    /// freed object removes its entry by it, so the registry never keeps a freed object's
    /// memory (a weak handle would hold the allocation until the next collection).
    index: Cell<u32>,
    in_set: Cell<bool>,
    reachable: Cell<bool>,
    /// Registered with the collector (maps register lazily).
    tracked: Cell<bool>,
}

impl GcHeader {
    pub fn is_tracked(&self) -> bool {
        self.tracked.get()
    }

    pub fn set_tracked(&self) {
        self.tracked.set(true);
    }
}

/// A weak handle to a tracked object, kept in the registry.
pub enum Tracked {
    List(Weak<List>),
    Map(Weak<Map>),
    Instance(Weak<Instance>),
    Closure(Weak<Closure>),
    Cell(Weak<UpCell>),
    Class(Weak<Class>),
    Bound(Weak<BoundMethod>),
    Stream(Weak<Pipeline>),
}

/// A strong handle to a tracked object, used during a collection.
#[derive(Clone)]
pub enum GcRef {
    List(Rc<List>),
    Map(Rc<Map>),
    Instance(Rc<Instance>),
    Closure(Rc<Closure>),
    Cell(Rc<UpCell>),
    Class(Rc<Class>),
    Bound(Rc<BoundMethod>),
    Stream(Rc<Pipeline>),
}

const MIN_THRESHOLD: usize = 50_000;

/// The objects the collector watches. Each engine owns one and installs it in the thread
/// that runs it ([`crate::RuntimeState`]).
pub(crate) struct Registry {
    objects: Vec<Tracked>,
    threshold: usize,
    collecting: bool,
}

impl Registry {
    pub(crate) const fn new() -> Registry {
        Registry {
            objects: Vec::new(),
            threshold: MIN_THRESHOLD,
            collecting: false,
        }
    }
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry::new()) };
}

/// Exchange this thread's registry with `other`.
pub(crate) fn swap_registry(other: &mut Registry) {
    REGISTRY.with(|r| std::mem::swap(&mut *r.borrow_mut(), other));
}

/// An object type the collector can track.
pub trait Collectable: Sized {
    fn header(&self) -> &GcHeader;
    fn handle(this: Weak<Self>) -> Tracked;
}

macro_rules! collectable {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl Collectable for $ty {
            #[inline]
            fn header(&self) -> &GcHeader {
                &self.gc
            }
            #[inline]
            fn handle(this: Weak<Self>) -> Tracked {
                Tracked::$variant(this)
            }
        }
    )*};
}

collectable!(List => List, Map => Map, Instance => Instance, Closure => Closure,
    UpCell => Cell, Class => Class, BoundMethod => Bound, Pipeline => Stream);

/// Register a new object (once: a registered object is left as it is); may run a
/// collection first.
pub fn track<T: Collectable>(rc: &Rc<T>) {
    let gc = rc.header();
    if gc.is_tracked() {
        return;
    }
    gc.set_tracked();
    let obj = T::handle(Rc::downgrade(rc));
    let due = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        gc.index.set(r.objects.len() as u32);
        r.objects.push(obj);
        r.objects.len() >= r.threshold && !r.collecting
    });
    if due {
        collect();
    }
}

/// Remove a freed object's entry (called from its `Drop`): the registry then no longer
/// keeps its memory allocated, and holds about as many entries as there are live objects,
/// so collections come as often as tracked objects accumulate, not as they are made.
/// An entry that is not where the header says (the object was registered under another
/// engine's registry, or a collection is renumbering) is left for a collection to sweep.
pub(crate) fn untrack<T: Collectable>(this: &T) {
    let gc = this.header();
    if !gc.is_tracked() {
        return;
    }
    // Dying: a second call (from the copy moved out of the `Rc`) is a no-op.
    gc.tracked.set(false);
    let at = gc.index.get() as usize;
    let me = this as *const T as *const ();
    // `try_with`: an object freed while the thread shuts down finds no registry.
    let _ = REGISTRY.try_with(|r| {
        let Ok(mut r) = r.try_borrow_mut() else {
            return;
        };
        if r.objects.get(at).is_none_or(|t| t.address() != me) {
            return;
        }
        // Dropping the weak handle cannot free anything: the object's own drop holds it.
        r.objects.swap_remove(at);
        if let Some(moved) = r.objects.get(at) {
            moved.set_index(at);
        }
    });
}

/// Number of registered objects (live or not yet swept).
pub fn tracked_count() -> usize {
    REGISTRY.with(|r| r.borrow().objects.len())
}

impl Tracked {
    /// Where the object is (its memory stays allocated while this handle exists).
    fn address(&self) -> *const () {
        match self {
            Tracked::List(w) => w.as_ptr() as *const (),
            Tracked::Map(w) => w.as_ptr() as *const (),
            Tracked::Instance(w) => w.as_ptr() as *const (),
            Tracked::Closure(w) => w.as_ptr() as *const (),
            Tracked::Cell(w) => w.as_ptr() as *const (),
            Tracked::Class(w) => w.as_ptr() as *const (),
            Tracked::Bound(w) => w.as_ptr() as *const (),
            Tracked::Stream(w) => w.as_ptr() as *const (),
        }
    }

    /// Note the object's new position (nothing to do for a freed one: its entry is only
    /// swept, never looked up by index).
    fn set_index(&self, at: usize) {
        if let Some(obj) = self.upgrade() {
            obj.header().index.set(at as u32);
        }
    }

    fn upgrade(&self) -> Option<GcRef> {
        Some(match self {
            Tracked::List(w) => GcRef::List(w.upgrade()?),
            Tracked::Map(w) => GcRef::Map(w.upgrade()?),
            Tracked::Instance(w) => GcRef::Instance(w.upgrade()?),
            Tracked::Closure(w) => GcRef::Closure(w.upgrade()?),
            Tracked::Cell(w) => GcRef::Cell(w.upgrade()?),
            Tracked::Class(w) => GcRef::Class(w.upgrade()?),
            Tracked::Bound(w) => GcRef::Bound(w.upgrade()?),
            Tracked::Stream(w) => GcRef::Stream(w.upgrade()?),
        })
    }
}

impl GcRef {
    fn downgrade(&self) -> Tracked {
        match self {
            GcRef::List(r) => Tracked::List(Rc::downgrade(r)),
            GcRef::Map(r) => Tracked::Map(Rc::downgrade(r)),
            GcRef::Instance(r) => Tracked::Instance(Rc::downgrade(r)),
            GcRef::Closure(r) => Tracked::Closure(Rc::downgrade(r)),
            GcRef::Cell(r) => Tracked::Cell(Rc::downgrade(r)),
            GcRef::Class(r) => Tracked::Class(Rc::downgrade(r)),
            GcRef::Bound(r) => Tracked::Bound(Rc::downgrade(r)),
            GcRef::Stream(r) => Tracked::Stream(Rc::downgrade(r)),
        }
    }

    fn header(&self) -> &GcHeader {
        match self {
            GcRef::List(r) => &r.gc,
            GcRef::Map(r) => &r.gc,
            GcRef::Instance(r) => &r.gc,
            GcRef::Closure(r) => &r.gc,
            GcRef::Cell(r) => &r.gc,
            GcRef::Class(r) => &r.gc,
            GcRef::Bound(r) => &r.gc,
            GcRef::Stream(r) => &r.gc,
        }
    }

    fn strong_count(&self) -> usize {
        match self {
            GcRef::List(r) => Rc::strong_count(r),
            GcRef::Map(r) => Rc::strong_count(r),
            GcRef::Instance(r) => Rc::strong_count(r),
            GcRef::Closure(r) => Rc::strong_count(r),
            GcRef::Cell(r) => Rc::strong_count(r),
            GcRef::Class(r) => Rc::strong_count(r),
            GcRef::Bound(r) => Rc::strong_count(r),
            GcRef::Stream(r) => Rc::strong_count(r),
        }
    }

    /// Call `f` with the header of every tracked object this one refers to. Returns
    /// false when the object is borrowed right now (its contents cannot be read).
    fn visit(&self, f: &mut dyn FnMut(&GcHeader)) -> bool {
        match self {
            GcRef::List(r) => match r.items.try_borrow() {
                Ok(items) => items.iter().for_each(|v| visit_value(v, f)),
                Err(_) => return false,
            },
            GcRef::Map(r) => match r.entries.try_borrow() {
                Ok(e) => e.values().for_each(|v| visit_value(v, f)),
                Err(_) => return false,
            },
            GcRef::Instance(r) => {
                f(&r.class.gc);
                match r.fields.try_borrow() {
                    Ok(fields) => fields.values().for_each(|v| visit_value(v, f)),
                    Err(_) => return false,
                }
            }
            GcRef::Closure(r) => {
                r.upvalues.iter().for_each(|v| visit_value(v, f));
                if let Some(h) = &r.home {
                    f(&h.gc);
                }
            }
            GcRef::Cell(r) => match r.value.try_borrow() {
                Ok(v) => visit_value(&v, f),
                Err(_) => return false,
            },
            GcRef::Class(r) => {
                if let Some(s) = &r.superclass {
                    f(&s.gc);
                }
                match (r.defaults.try_borrow(), r.methods.try_borrow()) {
                    (Ok(d), Ok(m)) => {
                        d.iter().for_each(|v| visit_value(v, f));
                        m.values().for_each(|v| visit_value(v, f));
                    }
                    _ => return false,
                }
            }
            GcRef::Bound(r) => {
                visit_value(&r.receiver, f);
                visit_value(&r.method, f);
            }
            GcRef::Stream(r) => r.values(&mut |v| visit_value(v, f)),
        }
        true
    }

    /// Drop the contents of a garbage object, breaking the cycles it is part of. The
    /// dropped values are moved into `grave` and freed after the sweep.
    fn clear(&self, grave: &mut Vec<Value>) {
        match self {
            GcRef::List(r) => {
                if let Ok(mut items) = r.items.try_borrow_mut() {
                    grave.append(&mut items);
                }
            }
            GcRef::Map(r) => {
                if let Ok(mut e) = r.entries.try_borrow_mut() {
                    grave.extend(std::mem::take(&mut *e).into_values());
                }
            }
            GcRef::Instance(r) => {
                if let Ok(mut f) = r.fields.try_borrow_mut() {
                    grave.append(&mut f.take_values());
                }
            }
            GcRef::Cell(r) => {
                if let Ok(mut v) = r.value.try_borrow_mut() {
                    grave.push(std::mem::take(&mut *v));
                }
            }
            GcRef::Class(r) => {
                if let Ok(mut m) = r.methods.try_borrow_mut() {
                    grave.extend(m.drain(..).map(|(_, v)| v));
                    crate::shape::methods_changed();
                }
                // The defaults method's home is this class: a cycle too.
                if let Ok(mut d) = r.defaults.try_borrow_mut() {
                    grave.extend(d.take());
                }
            }
            // Closures, bound methods and streams hold only immutable references; clearing
            // the cells, classes and containers they point to breaks any cycle through them.
            GcRef::Closure(_) | GcRef::Bound(_) | GcRef::Stream(_) => {}
        }
    }
}

fn visit_value(v: &Value, f: &mut dyn FnMut(&GcHeader)) {
    match v {
        Value::List(r) => f(&r.gc),
        Value::Map(r) => f(&r.gc),
        Value::Instance(r) => f(&r.gc),
        Value::Function(r) => f(&r.gc),
        Value::Class(r) => f(&r.gc),
        Value::Bound(r) => f(&r.gc),
        Value::Stream(r) => f(&r.gc),
        Value::Cell(r) => f(&r.gc),
        _ => {}
    }
}

/// Run a full collection now.
pub fn collect() {
    let mut objects = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.collecting = true;
        std::mem::take(&mut r.objects)
    });
    let live: Vec<GcRef> = objects.iter().filter_map(Tracked::upgrade).collect();
    // The weak handles go (freeing what only they kept allocated); the buffer is reused
    // for the survivors, so a collection allocates one list, not three.
    objects.clear();
    // References from outside the set: total count minus our own handle minus the
    // references found inside the set.
    for (i, obj) in live.iter().enumerate() {
        let h = obj.header();
        h.refs.set(obj.strong_count() as i64 - 1);
        h.index.set(i as u32);
        h.in_set.set(true);
        h.reachable.set(false);
    }
    let mut readable = true;
    for obj in &live {
        readable &= obj.visit(&mut |h| {
            if h.in_set.get() {
                h.refs.set(h.refs.get() - 1);
            }
        });
    }
    if readable {
        let mut work: Vec<u32> = (0..live.len() as u32)
            .filter(|i| live[*i as usize].header().refs.get() > 0)
            .collect();
        while let Some(i) = work.pop() {
            let obj = &live[i as usize];
            let h = obj.header();
            if h.reachable.get() {
                continue;
            }
            h.reachable.set(true);
            obj.visit(&mut |kh| {
                if kh.in_set.get() && !kh.reachable.get() {
                    work.push(kh.index.get());
                }
            });
        }
    }
    // An object borrowed right now hides its references: collect nothing this time.
    let mut garbage = Vec::new();
    for obj in live {
        let h = obj.header();
        let keep = !readable || h.reachable.get();
        h.in_set.set(false);
        h.reachable.set(false);
        if keep {
            h.index.set(objects.len() as u32);
            objects.push(obj.downgrade());
        } else {
            garbage.push(obj);
        }
    }
    let mut grave = Vec::new();
    for obj in &garbage {
        obj.clear(&mut grave);
    }
    drop(garbage);
    drop(grave);
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let newer = std::mem::take(&mut r.objects);
        r.objects = objects;
        let from = r.objects.len();
        r.objects.extend(newer);
        for (at, obj) in r.objects.iter().enumerate().skip(from) {
            obj.set_index(at);
        }
        // Growth factor 3: amortised collection work stays linear with fewer passes.
        r.threshold = (r.objects.len() * 3).max(MIN_THRESHOLD);
        r.collecting = false;
    });
}

#[cfg(test)]
mod tests;
