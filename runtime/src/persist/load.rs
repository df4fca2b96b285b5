//! Stored records back to live values, without recursion however deep the stored graph.
//! Containers (lists, maps, cells, an instance's fields) are created empty first and filled
//! from a work list, so cycles through them load. The other links are immutable (an
//! instance's class, a class's superclass and captures, a closure's captures and home, a
//! bound method's parts, a stream's source and stages): an object needs them built before it
//! can be, so they are walked depth-first with an explicit stack and each object is built
//! after everything it links to. A cycle of immutable links cannot arise from a script and
//! means a damaged heap.

use super::Persist;
use super::recompile;
use crate::bytecode::Proto;
use crate::objects::{assemble_class, cell_rc};
use crate::pipe::files::SourceOpener;
use crate::pipe::{Pipeline, Stage};
use crate::value::{
    BoundMethod, Class, Closure, InstanceFields, MapKey, RangeVal, UpCell, Value, new_entries,
};
use std::rc::Rc;
use walia_lang::resolve::GlobalNames;
use walia_store::codec::{Item, Reader, kind, references};
use walia_store::{HeapError, HeapResult, IdSet};

/// What loading asks of the interpreter (the VM implements it in `vm/heap.rs`): builtins
/// and file sources by their stored names, the current value of a global (a class this run
/// declared replaces the stored one), and the global names functions compile against.
pub(crate) trait LoadContext {
    fn builtin(&self, name: &str) -> Option<Value>;
    fn source_opener(&self, kind: &str) -> Option<SourceOpener>;
    fn global(&self, name: &str) -> Option<Value>;
    fn names(&mut self) -> &mut GlobalNames;
}

pub struct Loader<'a> {
    pub heap: &'a mut Persist,
    vm: &'a mut dyn LoadContext,
    fill: Vec<(u64, Vec<u8>)>,
    in_progress: IdSet,
    /// Objects this load added to the heap's maps, forgotten again if it fails.
    registered: Vec<u64>,
}

fn bad(id: u64, what: &str) -> HeapError {
    HeapError::Record(format!("object {id}: {what}"))
}

impl<'a> Loader<'a> {
    pub fn new(heap: &'a mut Persist, vm: &'a mut dyn LoadContext) -> Loader<'a> {
        Loader {
            heap,
            vm,
            fill: Vec::new(),
            in_progress: IdSet::default(),
            registered: Vec::new(),
        }
    }

    /// Decode a global's entry into a value, loading every object it reaches.
    pub fn global(&mut self, name: &str, bytes: &[u8]) -> HeapResult<Value> {
        let what = format!("global '{name}'");
        let mut r = Reader::new(bytes, &what);
        let loaded = r.item().and_then(|item| self.item(item));
        let loaded = loaded.and_then(|v| self.drain().map(|()| v));
        if loaded.is_err() {
            // Half-loaded objects must not stand for their records: a later load would
            // reuse them, and the write barrier would take them for clean or unlogged.
            for id in std::mem::take(&mut self.registered) {
                if let Some(v) = self.heap.objects.remove(&id)
                    && let Some(addr) = address(&v)
                    && self.heap.ids.get(&addr) == Some(&id)
                {
                    self.heap.ids.remove(&addr);
                }
            }
        }
        loaded
    }

    fn register(&mut self, id: u64, v: &Value) {
        if let Some(addr) = address(v) {
            self.heap.ids.insert(addr, id);
        }
        self.heap.objects.insert(id, v.clone());
        self.registered.push(id);
    }

    fn item(&mut self, item: Item<'_>) -> HeapResult<Value> {
        Ok(match item {
            Item::Nil => Value::Nil,
            Item::Bool(b) => Value::Bool(b),
            Item::Int(i) => Value::Int(i),
            Item::Float(f) => Value::Float(f),
            Item::Str(s) => Value::str(s),
            Item::Range(start, end) => Value::Range(Rc::new(RangeVal { start, end })),
            Item::Native(name) => match self.vm.builtin(name) {
                Some(v) => v,
                None => {
                    return Err(HeapError::Record(format!(
                        "stored builtin '{name}' does not exist in this build"
                    )));
                }
            },
            Item::Ref(id) => self.object(id)?,
            Item::Db => Value::Db,
            Item::File(stored, path) => {
                use crate::pipe::files::FileSource;
                let (kind, options) = FileSource::split_stored_kind(stored);
                match self.vm.source_opener(kind) {
                    Some(open) => FileSource::with_options(kind, path, options, open),
                    None => {
                        return Err(HeapError::Record(format!(
                            "a stored stream reads a '{stored}' source, which this build does not have"
                        )));
                    }
                }
            }
            Item::Table(name) => crate::db::handle::table_value(self.heap, name),
            Item::Row(name, row) => {
                let Value::Table(table) = crate::db::handle::table_value(self.heap, name) else {
                    return Err(HeapError::Record("bad table value".into()));
                };
                let row = u32::try_from(row)
                    .map_err(|_| HeapError::Record(format!("row {row} of {name} out of range")))?;
                Value::Row(crate::db::handle::RowRef { table, row })
            }
        })
    }

    /// The live object for a stored id, loading it if this process has not yet: first the
    /// objects it links to immutably (depth-first, with an explicit stack), then itself.
    pub fn object(&mut self, id: u64) -> HeapResult<Value> {
        if let Some(v) = self.heap.objects.get(&id) {
            return Ok(v.clone());
        }
        // Each entry: an object being loaded, its record, and the links not yet loaded. The
        // ids on the stack are `in_progress`: meeting one again is a cycle.
        let mut stack: Vec<(u64, Vec<u8>, Vec<u64>)> = Vec::new();
        self.enter(id, &mut stack)?;
        while let Some((_, _, links)) = stack.last_mut() {
            if let Some(next) = links.pop() {
                if !self.heap.objects.contains_key(&next) {
                    self.enter(next, &mut stack)?;
                }
                continue;
            }
            let Some((done, bytes, _)) = stack.pop() else {
                break;
            };
            self.build(done, &bytes)?;
            self.in_progress.remove(&done);
        }
        self.heap
            .objects
            .get(&id)
            .cloned()
            .ok_or_else(|| bad(id, "could not be loaded"))
    }

    /// Start loading `id`: read its record and push it with its immutable links.
    fn enter(&mut self, id: u64, stack: &mut Vec<(u64, Vec<u8>, Vec<u64>)>) -> HeapResult<()> {
        if !self.in_progress.insert(id) {
            return Err(bad(id, "links to itself through immutable references"));
        }
        let bytes = self
            .heap
            .object_record(id)?
            .ok_or_else(|| bad(id, "is referenced but missing"))?;
        let links = immutable_links(id, &bytes)?;
        stack.push((id, bytes, links));
        Ok(())
    }

    /// Build the object `bytes` records, whose immutable links are loaded, and register it.
    fn build(&mut self, id: u64, bytes: &[u8]) -> HeapResult<()> {
        let what = format!("object {id}");
        let mut r = Reader::new(bytes, &what);
        let k = r.byte()?;
        let v = match k {
            kind::LIST => {
                let v = Value::list(Vec::new());
                self.fill.push((id, bytes.to_vec()));
                v
            }
            kind::MAP => {
                let v = Value::map(new_entries(0));
                self.fill.push((id, bytes.to_vec()));
                v
            }
            kind::CELL => {
                let v = Value::Cell(cell_rc(Value::Nil));
                self.fill.push((id, bytes.to_vec()));
                v
            }
            kind::INSTANCE => {
                let class = match self.object(r.reference()?)? {
                    Value::Class(c) => c,
                    _ => return Err(bad(id, "instance of something that is not a class")),
                };
                // No field until the fill pass lays them out.
                let fields = InstanceFields::Slots {
                    shape: class.empty_shape.clone(),
                    values: Vec::new(),
                };
                let v = Value::instance(class, fields);
                self.fill.push((id, bytes.to_vec()));
                v
            }
            kind::CLASS => self.class(id, &mut r)?,
            kind::FUNCTION => self.function(id, &mut r)?,
            kind::METHOD => {
                let class = match self.object(r.reference()?)? {
                    Value::Class(c) => c,
                    _ => return Err(bad(id, "method of something that is not a class")),
                };
                let name = r.str()?;
                let m = if name == "__defaults" {
                    class.defaults.borrow().clone()
                } else {
                    class.find_method(name)
                };
                m.ok_or_else(|| bad(id, &format!("class {} has no method {name}", class.name)))?
            }
            kind::BOUND => {
                let receiver = r.item()?;
                let receiver = self.item(receiver)?;
                let method = r.item()?;
                let method = self.item(method)?;
                let rc = Rc::new(BoundMethod {
                    gc: Default::default(),
                    receiver,
                    method,
                });
                crate::gc::track(&rc);
                Value::Bound(rc)
            }
            kind::STREAM => self.stream(&mut r)?,
            kind::RANGE => {
                let start = r.int()?;
                Value::Range(Rc::new(RangeVal {
                    start,
                    end: r.int()?,
                }))
            }
            _ => return Err(bad(id, &format!("unknown record kind {k}"))),
        };
        self.register(id, &v);
        Ok(())
    }

    fn captures(&mut self, r: &mut Reader<'_>) -> HeapResult<Vec<(String, Rc<UpCell>)>> {
        let n = r.count()?;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let name = r.str()?.to_string();
            // A cell (a reference), or a captured copy stored as itself: given a cell of
            // its own here, so any capture can be assigned whatever the stored code.
            let it = r.item()?;
            match self.item(it)? {
                Value::Cell(c) => out.push((name, c)),
                v => out.push((name, cell_rc(v))),
            }
        }
        Ok(out)
    }

    fn class(&mut self, id: u64, r: &mut Reader<'_>) -> HeapResult<Value> {
        let name = r.str()?.to_string();
        let superclass = match r.opt_ref()? {
            Some(sid) => match self.object(sid)? {
                Value::Class(c) => Some(c),
                _ => return Err(bad(id, "superclass is not a class")),
            },
            None => None,
        };
        let sql = matches!(r.item()?, Item::Bool(true));
        let global = matches!(r.item()?, Item::Bool(true));
        let doc = r.opt_str()?.map(str::to_string);
        let body = r.str()?.to_string();
        let cells = self.captures(r)?;
        // Classes are identified by name: a class this run declared replaces the stored
        // one, so instances stored earlier see the new methods (SPEC §15).
        if global
            && let Some(Value::Class(current)) = self.vm.global(&name)
            && current.global
            && *current.name == *name
        {
            // The record is the old declaration's: the next commit rewrites it as this one
            // (the object stands in for it, and a clean object is never re-encoded).
            self.heap.pending.push(id);
            return Ok(Value::Class(current));
        }
        let names: Vec<&str> = cells.iter().map(|(n, _)| n.as_str()).collect();
        let (mut desc, container) =
            recompile::class(self.vm.names(), &name, superclass.is_some(), &body, &names)
                .map_err(HeapError::Record)?;
        desc.sql = sql;
        desc.doc = doc;
        desc.global = global;
        Ok(assemble_class(&desc, &container, superclass, |p, class| {
            closure_with(p, &cells, Some(class))
        }))
    }

    fn function(&mut self, id: u64, r: &mut Reader<'_>) -> HeapResult<Value> {
        let name = r.opt_str()?.map(str::to_string);
        let doc = r.opt_str()?.map(str::to_string);
        let source = r.str()?.to_string();
        let cells = self.captures(r)?;
        let home = match r.opt_ref()? {
            Some(hid) => match self.object(hid)? {
                Value::Class(c) => Some(c),
                _ => return Err(bad(id, "function's home is not a class")),
            },
            None => None,
        };
        let names: Vec<&str> = cells.iter().map(|(n, _)| n.as_str()).collect();
        let label = format!("fun {}", name.as_deref().unwrap_or(""));
        let mut proto = recompile::function(self.vm.names(), label.trim(), &source, &names)
            .map_err(HeapError::Record)?;
        proto.name = name.map(|n| Rc::from(n.as_str()));
        proto.doc = doc;
        Ok(closure_with(Rc::new(proto), &cells, home))
    }

    fn stream(&mut self, r: &mut Reader<'_>) -> HeapResult<Value> {
        let source = r.item()?;
        let source = self.item(source)?;
        let n = r.count()?;
        let mut stages = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let tag = r.int()?;
            let arg = r.item()?;
            let arg = self.item(arg)?;
            let int = |v: &Value| if let Value::Int(i) = v { *i } else { 0 };
            stages.push(match tag {
                0 => Stage::Filter(arg),
                1 => Stage::Map(arg),
                2 => Stage::Take(int(&arg)),
                3 => Stage::Skip(int(&arg)),
                4 => Stage::TakeWhile(arg),
                5 => Stage::Each(arg),
                6 => Stage::Enumerate,
                7 => Stage::FlatMap(arg),
                8 => Stage::DbInsert(arg),
                9 => Stage::Parallel(int(&arg)),
                10 => match &arg {
                    Value::Str(s) => Stage::CheckpointAt(Rc::new(
                        crate::pipe::checkpoint::CheckpointSpec::decode(s.as_str())
                            .ok_or_else(|| r.error("a bad checkpoint_at stage"))?,
                    )),
                    _ => return Err(r.error("a bad checkpoint_at stage")),
                },
                _ => return Err(r.error("unknown stream stage")),
            });
        }
        let rc = Rc::new(Pipeline {
            gc: Default::default(),
            source,
            stages,
        });
        crate::gc::track(&rc);
        Ok(Value::Stream(rc))
    }

    /// Fill the containers created empty, loading what they refer to as they go.
    fn drain(&mut self) -> HeapResult<()> {
        while let Some((id, bytes)) = self.fill.pop() {
            let what = format!("object {id}");
            let mut r = Reader::new(&bytes, &what);
            let k = r.byte()?;
            let Some(target) = self.heap.objects.get(&id).cloned() else {
                continue;
            };
            match (k, &target) {
                (kind::LIST, Value::List(l)) => {
                    let n = r.count()?;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        let it = r.item()?;
                        items.push(self.item(it)?);
                    }
                    *l.items.borrow_mut() = items;
                }
                (kind::MAP, Value::Map(m)) => {
                    let n = r.count()?;
                    for _ in 0..n {
                        let key = match r.item()? {
                            Item::Int(i) => MapKey::Int(i),
                            Item::Bool(b) => MapKey::Bool(b),
                            Item::Str(s) => {
                                MapKey::Str(Rc::new(crate::value::Str::new(s.to_string())))
                            }
                            _ => return Err(bad(id, "map key is not a String, Int or Bool")),
                        };
                        let it = r.item()?;
                        let v = self.item(it)?;
                        m.insert(key, v);
                    }
                }
                (kind::CELL, Value::Cell(c)) => {
                    let it = r.item()?;
                    let v = self.item(it)?;
                    c.set(v);
                }
                (kind::INSTANCE, Value::Instance(inst)) => {
                    r.reference()?;
                    let n = r.count()?;
                    let mut pairs = Vec::with_capacity(n);
                    for _ in 0..n {
                        let name: Rc<str> = r.str()?.into();
                        let it = r.item()?;
                        pairs.push((name, self.item(it)?));
                    }
                    let class = &inst.class;
                    let fields =
                        InstanceFields::from_pairs(&class.empty_shape, &class.root_shape, pairs);
                    *inst.fields.borrow_mut() = fields;
                }
                _ => return Err(bad(id, "record kind changed while loading")),
            }
            // Filled from its record, which it now equals (filling went through the write
            // barrier while the object was not yet clean, so nothing was logged).
            super::save::set_clean(&target);
        }
        Ok(())
    }
}

/// The objects that must be built before the object `bytes` records can be: every link
/// but a container's contents (an instance's class is needed, its fields are not).
fn immutable_links(id: u64, bytes: &[u8]) -> HeapResult<Vec<u64>> {
    let what = format!("object {id}");
    let mut r = Reader::new(bytes, &what);
    match r.byte()? {
        kind::LIST | kind::MAP | kind::CELL | kind::RANGE => Ok(Vec::new()),
        kind::INSTANCE => Ok(vec![r.reference()?]),
        _ => references(bytes, true, &what),
    }
}

/// A closure over `proto` whose upvalues are the stored cells, matched by name.
fn closure_with(
    proto: Rc<Proto>,
    cells: &[(String, Rc<UpCell>)],
    home: Option<Rc<Class>>,
) -> Value {
    let upvalues: Box<[Value]> = proto
        .capture_names
        .iter()
        .map(|n| {
            let cell = cells
                .iter()
                .find(|(c, _)| **c == **n)
                .map_or_else(|| cell_rc(Value::Nil), |(_, cell)| cell.clone());
            Value::Cell(cell)
        })
        .collect();
    let rc = Rc::new(Closure {
        gc: Default::default(),
        proto,
        upvalues,
        home,
    });
    crate::gc::track(&rc);
    Value::Function(rc)
}

/// The address identifying a heap object in memory (`None` for inline values).
pub fn address(v: &Value) -> Option<usize> {
    Some(match v {
        Value::List(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Map(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Function(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Bound(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Class(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Instance(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Stream(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Cell(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Range(r) => Rc::as_ptr(r) as *const u8 as usize,
        _ => return None,
    })
}
