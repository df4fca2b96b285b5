//! Persistence of script values: globals and the objects they reach become catalog records
//! of the store's heap ([`save`]), come back as live values on first use ([`load`]), and
//! stored functions are compiled again from their source ([`recompile`]).
//!
//! The store knows pages, records and table cells; this module is where values meet it.
//! [`Persist`] is the heap a VM has attached: the store's [`Heap`] plus the map between
//! stored object ids and the live objects this process has loaded or stored, so shared
//! references stay shared.

pub(crate) mod dirty;
pub(crate) mod load;
pub(crate) mod recompile;
pub(crate) mod save;
pub(crate) mod sweep;
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
    /// The reverse: object address to stored id. Always the addresses of `objects`'
    /// values: an entry leaves with its object, so an address here cannot be reused.
    pub(crate) ids: HashMap<usize, u64, FxBuild>,
    /// This heap's cursor into the change log (`dirty`): the watched objects mutated since
    /// its last commit.
    pub(crate) watch: dirty::Subscription,
    /// Ids whose records must be written at the next commit although the change log does
    /// not name them: a class that took over a stored class's id, or objects a failed
    /// commit had queued.
    pub(crate) pending: Vec<u64>,
    /// Commits since `objects` was last pruned (see [`Persist::prune`]).
    since_prune: u64,
    /// A global or cursor was dropped: the next commit sweeps, so the records only it
    /// reached leave (and their pages become free) at once.
    pub(crate) sweep_due: bool,
    /// What the last commit (or savepoint) saved, and the sum over this heap's life: for
    /// tests and `WALIA_HEAP_STATS`.
    pub stats: SaveStats,
    pub total: SaveStats,
}

/// Work done by one commit's save of globals and objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SaveStats {
    /// Global entries encoded (the global slots assigned since the last commit).
    pub globals: u64,
    /// Object records encoded (changed or new objects).
    pub records: u64,
    /// Records and entries whose bytes differed from the stored ones.
    pub rewrites: u64,
    /// Live objects the heap holds after the commit (in the last commit's stats only).
    pub held: u64,
}

impl SaveStats {
    pub(crate) fn add(&mut self, o: SaveStats) {
        self.globals += o.globals;
        self.records += o.records;
        self.rewrites += o.rewrites;
    }
}

/// A prune visits every known object, so it runs once per this many commits per object
/// held: about this many visits per commit, whatever the number of objects.
const PRUNE_RATE: u64 = 256;

impl Persist {
    pub fn new(heap: Heap) -> Persist {
        Persist {
            heap,
            objects: HashMap::default(),
            ids: HashMap::default(),
            watch: dirty::Subscription::new(),
            pending: Vec::new(),
            since_prune: 0,
            sweep_due: false,
            stats: SaveStats::default(),
            total: SaveStats::default(),
        }
    }

    /// Forget the live objects (after a rollback they no longer match the heap).
    pub(crate) fn forget_objects(&mut self) {
        self.objects.clear();
        self.ids.clear();
        self.pending.clear();
        // What was logged is about objects this heap no longer holds.
        self.watch.skip_all();
        self.heap.forget_tables();
    }

    /// Drop the objects nothing but this map holds. After a commit each is clean (its
    /// record equals it), so if a stored record still refers to it, loading that record
    /// later builds an equal object; and no live object refers to it, or it would be held.
    /// Amortised: a full pass once per `objects / PRUNE_RATE` commits, so a commit costs
    /// what changed even with many objects loaded. Until then an object the script let go
    /// of stays in memory.
    pub(crate) fn prune(&mut self) {
        self.since_prune += 1;
        if self.since_prune.saturating_mul(PRUNE_RATE) < self.objects.len() as u64 {
            return;
        }
        self.since_prune = 0;
        let ids = &mut self.ids;
        self.objects.retain(|id, v| {
            if strong_count(v) > 1 {
                return true;
            }
            if let Some(addr) = load::address(v)
                && ids.get(&addr) == Some(id)
            {
                ids.remove(&addr);
            }
            false
        });
    }
}

impl Persist {
    /// After a commit: the objects that global slots held before this commit's
    /// assignments, by address. Each one nothing but this map holds is dropped now, and
    /// then, the same way, the objects only it held: replacing a global's big value frees
    /// it at this commit, not at the next full prune. Costs what is freed. An address not
    /// in `ids` is skipped (an object with an id is kept alive by `objects`, so an address
    /// found there is still that object's).
    pub(crate) fn release(&mut self, mut work: Vec<usize>) {
        while let Some(addr) = work.pop() {
            let Some(&id) = self.ids.get(&addr) else {
                continue;
            };
            if self.objects.get(&id).is_none_or(|v| strong_count(v) > 1) {
                continue;
            }
            self.ids.remove(&addr);
            if let Some(v) = self.objects.remove(&id) {
                children(&v, &mut work);
            }
        }
    }
}

/// The addresses of the objects `v` refers to directly.
fn children(v: &Value, out: &mut Vec<usize>) {
    let mut add = |v: &Value| {
        if let Some(a) = load::address(v) {
            out.push(a);
        }
    };
    match v {
        Value::List(l) => {
            if let Ok(items) = l.items.try_borrow() {
                items.iter().for_each(&mut add);
            }
        }
        Value::Map(m) => {
            if let Ok(entries) = m.entries.try_borrow() {
                entries.values().for_each(&mut add);
            }
        }
        Value::Instance(i) => {
            if let Ok(fields) = i.fields.try_borrow() {
                fields.values().for_each(&mut add);
            }
            add(&Value::Class(i.class.clone()));
        }
        Value::Cell(c) => {
            if let Ok(inner) = c.value.try_borrow() {
                add(&inner);
            }
        }
        Value::Function(f) => f.upvalues.iter().for_each(&mut add),
        Value::Bound(b) => {
            add(&b.receiver);
            add(&b.method);
        }
        Value::Stream(p) => add(&p.source),
        // Classes, ranges: left to the full prune (a class is rarely let go of).
        _ => {}
    }
}

/// References to an object (1: only the object map holds it).
fn strong_count(v: &Value) -> usize {
    use std::rc::Rc;
    match v {
        Value::List(r) => Rc::strong_count(r),
        Value::Map(r) => Rc::strong_count(r),
        Value::Function(r) => Rc::strong_count(r),
        Value::Bound(r) => Rc::strong_count(r),
        Value::Class(r) => Rc::strong_count(r),
        Value::Instance(r) => Rc::strong_count(r),
        Value::Stream(r) => Rc::strong_count(r),
        Value::Cell(r) => Rc::strong_count(r),
        Value::Range(r) => Rc::strong_count(r),
        _ => 1,
    }
}

impl Persist {
    /// The store's heap, without this process's objects.
    pub fn into_heap(self) -> Heap {
        self.heap
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
