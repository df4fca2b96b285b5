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
    in_set: Cell<bool>,
    reachable: Cell<bool>,
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

const MIN_THRESHOLD: usize = 100_000;

struct Registry {
    objects: Vec<Tracked>,
    threshold: usize,
    collecting: bool,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry {
        objects: Vec::new(),
        threshold: MIN_THRESHOLD,
        collecting: false,
    }) };
}

/// Register a new object; may run a collection first.
pub fn track(obj: Tracked) {
    let due = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.objects.push(obj);
        r.objects.len() >= r.threshold && !r.collecting
    });
    if due {
        collect();
    }
}

/// Number of registered objects (live or not yet swept).
pub fn tracked_count() -> usize {
    REGISTRY.with(|r| r.borrow().objects.len())
}

impl Tracked {
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

    /// The tracked objects this one refers to. Returns false when the object is borrowed
    /// right now (its contents cannot be read), in which case it must be kept.
    fn children(&self, out: &mut Vec<GcRef>) -> bool {
        match self {
            GcRef::List(r) => match r.items.try_borrow() {
                Ok(items) => items.iter().for_each(|v| value_ref(v, out)),
                Err(_) => return false,
            },
            GcRef::Map(r) => match r.entries.try_borrow() {
                Ok(e) => e.values().for_each(|v| value_ref(v, out)),
                Err(_) => return false,
            },
            GcRef::Instance(r) => {
                out.push(GcRef::Class(r.class.clone()));
                match r.fields.try_borrow() {
                    Ok(f) => f.values().for_each(|v| value_ref(v, out)),
                    Err(_) => return false,
                }
            }
            GcRef::Closure(r) => {
                out.extend(r.upvalues.iter().map(|c| GcRef::Cell(c.clone())));
                if let Some(h) = &r.home {
                    out.push(GcRef::Class(h.clone()));
                }
            }
            GcRef::Cell(r) => match r.value.try_borrow() {
                Ok(v) => value_ref(&v, out),
                Err(_) => return false,
            },
            GcRef::Class(r) => {
                if let Some(s) = &r.superclass {
                    out.push(GcRef::Class(s.clone()));
                }
                match r.defaults.try_borrow() {
                    Ok(d) => d.iter().for_each(|v| value_ref(v, out)),
                    Err(_) => return false,
                }
                match r.methods.try_borrow() {
                    Ok(m) => m.values().for_each(|v| value_ref(v, out)),
                    Err(_) => return false,
                }
            }
            GcRef::Bound(r) => {
                value_ref(&r.receiver, out);
                value_ref(&r.method, out);
            }
            GcRef::Stream(r) => r.values(&mut |v| value_ref(v, out)),
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
                    grave.extend(e.drain(..).map(|(_, v)| v));
                }
            }
            GcRef::Instance(r) => {
                if let Ok(mut f) = r.fields.try_borrow_mut() {
                    grave.extend(f.drain(..).map(|(_, v)| v));
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
                }
            }
            GcRef::Stream(r) => r.clear(grave),
            // Closures and bound methods hold only immutable references; clearing the
            // cells, classes and containers they point to breaks any cycle through them.
            GcRef::Closure(_) | GcRef::Bound(_) => {}
        }
    }
}

fn value_ref(v: &Value, out: &mut Vec<GcRef>) {
    match v {
        Value::List(r) => out.push(GcRef::List(r.clone())),
        Value::Map(r) => out.push(GcRef::Map(r.clone())),
        Value::Instance(r) => out.push(GcRef::Instance(r.clone())),
        Value::Function(r) => out.push(GcRef::Closure(r.clone())),
        Value::Class(r) => out.push(GcRef::Class(r.clone())),
        Value::Bound(r) => out.push(GcRef::Bound(r.clone())),
        Value::Stream(r) => out.push(GcRef::Stream(r.clone())),
        Value::Cell(r) => out.push(GcRef::Cell(r.clone())),
        _ => {}
    }
}

/// Run a full collection now.
pub fn collect() {
    let objects = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.collecting = true;
        std::mem::take(&mut r.objects)
    });
    let live: Vec<GcRef> = objects.iter().filter_map(Tracked::upgrade).collect();
    drop(objects);

    // References from outside the set: total count minus our own handle minus the
    // references found inside the set.
    for obj in &live {
        let h = obj.header();
        h.refs.set(obj.strong_count() as i64 - 1);
        h.in_set.set(true);
        h.reachable.set(false);
    }
    let mut kids = Vec::new();
    let mut pinned = Vec::new();
    for obj in &live {
        kids.clear();
        if !obj.children(&mut kids) {
            pinned.push(obj.clone());
            continue;
        }
        for k in &kids {
            let h = k.header();
            if h.in_set.get() {
                // `kids` holds one extra count of its own, which refs already excludes.
                h.refs.set(h.refs.get() - 1);
            }
        }
    }
    kids.clear();
    let mut work: Vec<GcRef> = live
        .iter()
        .filter(|o| o.header().refs.get() > 0)
        .cloned()
        .collect();
    work.extend(pinned);
    while let Some(obj) = work.pop() {
        let h = obj.header();
        if h.reachable.get() {
            continue;
        }
        h.reachable.set(true);
        kids.clear();
        obj.children(&mut kids);
        for k in kids.drain(..) {
            let kh = k.header();
            if kh.in_set.get() && !kh.reachable.get() {
                work.push(k);
            }
        }
    }
    let mut grave = Vec::new();
    let mut survivors = Vec::with_capacity(live.len());
    for obj in &live {
        let h = obj.header();
        if h.reachable.get() {
            survivors.push(obj.downgrade());
        } else {
            obj.clear(&mut grave);
        }
        h.in_set.set(false);
        h.reachable.set(false);
    }
    drop(live);
    drop(grave);
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        // Objects registered while we swept (by drops running code? not possible today,
        // but keep them) go after the survivors.
        let newer = std::mem::take(&mut r.objects);
        r.objects = survivors;
        r.objects.extend(newer);
        r.threshold = (r.objects.len() * 2).max(MIN_THRESHOLD);
        r.collecting = false;
    });
}
