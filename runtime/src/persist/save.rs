//! Live values into catalog records at a commit, costing what changed: the globals
//! assigned since the last commit, the watched objects mutated since then (the change log
//! names them, see `dirty`), and the new objects those reach. An object that is clean (its
//! stored record equals it) is written as a reference to its id, without being encoded or
//! walked. A changed record is rewritten only when its bytes differ from the stored ones.

use super::Persist;
use super::load::address;
use super::recompile::{class_body, span_text};
use crate::bytecode::ProtoKind;
use crate::pipe::Stage;
use crate::value::watched::Kind;
use crate::value::{Class, Closure, Instance, List, Map, MapKey, UpCell, Value};
use std::collections::VecDeque;
use std::mem::offset_of;
use std::rc::Rc;
use walia_store::codec::{Writer, kind};
use walia_store::{HeapError, HeapResult, IdSet, MAX_KEY, global_key, object_key};

pub struct Saver<'a> {
    heap: &'a mut Persist,
    /// First in, first out: records are written in id order, appending to the index. Each
    /// entry says whether a stored record may exist (a new id has none to compare with).
    queue: VecDeque<(u64, Value, bool)>,
    visited: IdSet,
    /// What this save did.
    pub stats: super::SaveStats,
}

impl<'a> Saver<'a> {
    pub fn new(heap: &'a mut Persist) -> Saver<'a> {
        Saver {
            heap,
            queue: VecDeque::new(),
            visited: IdSet::default(),
            stats: Default::default(),
        }
    }

    /// Store a global's entry (what it reaches is written by [`Saver::finish`]).
    pub fn global(&mut self, name: &str, value: &Value) -> HeapResult<()> {
        let mut w = Writer::default();
        self.item(&mut w, value)?;
        let key = global_key(name);
        if key.len() > MAX_KEY {
            return Err(HeapError::TooLarge(format!(
                "global '{name}': its name is too long"
            )));
        }
        self.stats.globals += 1;
        self.write_if_changed(&key, w.buf)?;
        self.heap.note_stored(name);
        Ok(())
    }

    /// Store an entry under `key` holding `value`: a checkpointed pipe's cursor. Its map
    /// is written at every checkpoint, logged or not (it changes at each one).
    pub fn entry(&mut self, key: &[u8], value: &Value) -> HeapResult<()> {
        if key.len() > MAX_KEY {
            return Err(HeapError::TooLarge("a cursor name is too long".into()));
        }
        let mut w = Writer::default();
        self.item(&mut w, value)?;
        self.write_if_changed(key, w.buf)?;
        if let Some(addr) = address(value)
            && let Some(&id) = self.heap.ids.get(&addr)
        {
            self.enqueue(id, value.clone(), true);
        }
        Ok(())
    }

    /// A change-log entry: the watched field at `field` of a `kind` object was mutated. It
    /// is queued if this heap holds that object; otherwise the entry is about an object
    /// this heap never stored (or has let go of), and there is nothing to rewrite.
    pub fn changed(&mut self, kind: Kind, field: usize) {
        let offset = match kind {
            Kind::List => offset_of!(List, items),
            Kind::Map => offset_of!(Map, entries),
            Kind::Instance => offset_of!(Instance, fields),
            Kind::Cell => offset_of!(UpCell, value),
        };
        let Some(&id) = self.heap.ids.get(&field.wrapping_sub(offset)) else {
            return;
        };
        let Some(v) = self.heap.objects.get(&id) else {
            return;
        };
        // The address is only compared, never followed: the object found must really be
        // the one whose field this is.
        let found = match v {
            Value::List(l) => l.items.address(),
            Value::Map(m) => m.entries.address(),
            Value::Instance(i) => i.fields.address(),
            Value::Cell(c) => c.value.address(),
            _ => return,
        };
        if found == field {
            let v = v.clone();
            self.enqueue(id, v, true);
        }
    }

    /// Queue the object with this id, if this heap holds it (a pending id, or every object
    /// when the change log may be incomplete).
    pub fn object(&mut self, id: u64) {
        if let Some(v) = self.heap.objects.get(&id) {
            let v = v.clone();
            self.enqueue(id, v, true);
        }
    }

    fn enqueue(&mut self, id: u64, v: Value, stored: bool) {
        if self.visited.insert(id) {
            self.queue.push_back((id, v, stored));
        }
    }

    /// Write every queued record, and the new objects they reach. On an error the ids
    /// still queued become pending, so a later commit writes them: a record already
    /// written may refer to them.
    pub fn finish(&mut self) -> HeapResult<()> {
        while let Some((id, v, stored)) = self.queue.pop_front() {
            if let Err(e) = self.write_object(id, &v, stored) {
                self.heap.pending.push(id);
                self.spill();
                return Err(e);
            }
        }
        Ok(())
    }

    /// Give up: the queued ids become pending.
    pub fn spill(&mut self) {
        let rest = self.queue.drain(..).map(|(id, ..)| id);
        self.heap.pending.extend(rest);
    }

    fn write_object(&mut self, id: u64, v: &Value, stored: bool) -> HeapResult<()> {
        let record = self.record(v)?;
        self.stats.records += 1;
        if stored {
            self.write_if_changed(&object_key(id), record)?;
        } else {
            // A new id: no stored record to fetch and compare.
            self.heap.put(&object_key(id), &record)?;
        }
        set_clean(v);
        Ok(())
    }

    fn write_if_changed(&mut self, key: &[u8], bytes: Vec<u8>) -> HeapResult<()> {
        match self.heap.get(key)? {
            Some(old) if old == bytes => {}
            old => {
                self.heap.put(key, &bytes)?;
                // Only an overwrite can leave a record unreachable.
                if old.is_some() {
                    self.stats.rewrites += 1;
                }
            }
        }
        Ok(())
    }

    /// The stored id of an object, assigning one (and queueing it) on first sight. An
    /// object this heap holds is queued only when it is not clean.
    fn id_of(&mut self, v: &Value) -> HeapResult<u64> {
        let Some(addr) = address(v) else {
            return Err(HeapError::TooLarge("an inline value as an object".into()));
        };
        if let Some(&id) = self.heap.ids.get(&addr) {
            if !is_clean(v) {
                self.enqueue(id, v.clone(), true);
            }
            return Ok(id);
        }
        let meta = self.heap.pager.meta_mut();
        let id = meta.next_id.max(1);
        meta.next_id = id + 1;
        self.heap.ids.insert(addr, id);
        self.heap.objects.insert(id, v.clone());
        self.enqueue(id, v.clone(), false);
        Ok(id)
    }

    fn item(&mut self, w: &mut Writer, v: &Value) -> HeapResult<()> {
        match v {
            Value::Nil | Value::Undefined => w.nil(),
            Value::Bool(b) => w.bool(*b),
            Value::Int(i) => w.int(*i),
            Value::Float(f) => w.float(*f),
            Value::Str(s) => w.str(s.as_str()),
            Value::Native(n) => w.native(&n.name),
            Value::Table(t) => w.table(&crate::db::handle::table_name(*t)),
            Value::Row(r) => w.row(&crate::db::handle::table_name(r.table), r.row as u64),
            Value::Db => w.db(),
            Value::File(f) => w.file(&f.stored_kind(), &f.path),
            Value::Iter(_) => {
                return Err(HeapError::TooLarge("a for-loop iterator".into()));
            }
            // A class replaced by a newer declaration of its name is stored as that one.
            Value::Class(c) if c.replaced_by.borrow().is_some() => {
                let id = self.id_of(&Value::Class(c.current()))?;
                w.reference(id);
            }
            _ => {
                let id = self.id_of(v)?;
                w.reference(id);
            }
        }
        Ok(())
    }

    fn record(&mut self, v: &Value) -> HeapResult<Vec<u8>> {
        Ok(match v {
            Value::List(l) => {
                let mut w = Writer::kind(kind::LIST);
                let items = l.items.borrow().clone();
                w.int(items.len() as i64);
                for it in &items {
                    self.item(&mut w, it)?;
                }
                w.buf
            }
            Value::Map(m) => {
                let mut w = Writer::kind(kind::MAP);
                let entries: Vec<(MapKey, Value)> = m
                    .entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                w.int(entries.len() as i64);
                for (k, v) in &entries {
                    match k {
                        MapKey::Int(i) => w.int(*i),
                        MapKey::Bool(b) => w.bool(*b),
                        MapKey::Str(s) => w.str(s.as_str()),
                    }
                    self.item(&mut w, v)?;
                }
                w.buf
            }
            Value::Range(r) => {
                let mut w = Writer::kind(kind::RANGE);
                w.int(r.start);
                w.int(r.end);
                w.buf
            }
            Value::Cell(c) => {
                let mut w = Writer::kind(kind::CELL);
                let inner = c.value.borrow().clone();
                self.item(&mut w, &inner)?;
                w.buf
            }
            Value::Instance(inst) => {
                let mut w = Writer::kind(kind::INSTANCE);
                self.item(&mut w, &Value::Class(inst.class.clone()))?;
                let fields: Vec<(Rc<str>, Value)> = inst
                    .fields
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                w.int(fields.len() as i64);
                for (name, v) in &fields {
                    w.str(name);
                    self.item(&mut w, v)?;
                }
                w.buf
            }
            Value::Class(c) => self.class(c)?,
            Value::Function(f) => self.function(f)?,
            Value::Bound(b) => {
                let mut w = Writer::kind(kind::BOUND);
                self.item(&mut w, &b.receiver)?;
                match &b.method {
                    // A method of a built-in type is named with its type: `List.push`.
                    Value::Native(n) => {
                        w.native(&format!("{}.{}", b.receiver.type_name(), n.name));
                    }
                    m => self.item(&mut w, m)?,
                }
                w.buf
            }
            Value::Stream(p) => {
                let mut w = Writer::kind(kind::STREAM);
                self.item(&mut w, &p.source)?;
                w.int(p.stages.len() as i64);
                for st in &p.stages {
                    let (tag, arg) = match st {
                        Stage::Filter(f) => (0, f.clone()),
                        Stage::Map(f) => (1, f.clone()),
                        Stage::Take(n) => (2, Value::Int(*n)),
                        Stage::Skip(n) => (3, Value::Int(*n)),
                        Stage::TakeWhile(f) => (4, f.clone()),
                        Stage::Each(f) => (5, f.clone()),
                        Stage::Enumerate => (6, Value::Nil),
                        Stage::FlatMap(f) => (7, f.clone()),
                        Stage::DbInsert(t) => (8, t.clone()),
                        Stage::Parallel(n) => (9, Value::Int(*n)),
                        Stage::CheckpointAt(c) => (10, Value::str(c.encode())),
                    };
                    w.int(tag);
                    self.item(&mut w, &arg)?;
                }
                w.buf
            }
            other => {
                return Err(HeapError::TooLarge(format!(
                    "a value of type {}",
                    other.type_name()
                )));
            }
        })
    }

    /// The captured cells of some closures, by name (each name once).
    fn captures(&mut self, w: &mut Writer, closures: &[Rc<Closure>]) -> HeapResult<()> {
        let mut seen: Vec<(Rc<str>, Value)> = Vec::new();
        for c in closures {
            // A cell is stored as an object (shared by the closures that capture it); a
            // copied value is stored as itself.
            for (name, up) in c.proto.capture_names.iter().zip(c.upvalues.iter()) {
                if !seen.iter().any(|(n, _)| n == name) {
                    seen.push((name.clone(), up.clone()));
                }
            }
        }
        w.int(seen.len() as i64);
        for (name, cell) in &seen {
            w.str(name);
            self.item(w, cell)?;
        }
        Ok(())
    }

    fn class(&mut self, c: &Rc<Class>) -> HeapResult<Vec<u8>> {
        let Some((file, span)) = &c.source else {
            return Err(HeapError::TooLarge(format!(
                "class {} (its source is unknown)",
                c.name
            )));
        };
        let mut w = Writer::kind(kind::CLASS);
        w.str(&c.name);
        match &c.superclass {
            Some(s) => self.item(&mut w, &Value::Class(s.clone()))?,
            None => w.nil(),
        }
        w.bool(c.sql);
        w.bool(c.global);
        w.opt_str(c.doc.as_deref());
        w.str(class_body(span_text(file, *span)));
        let mut closures: Vec<Rc<Closure>> = Vec::new();
        for m in c.methods.borrow().values() {
            if let Value::Function(f) = m {
                closures.push(f.clone());
            }
        }
        if let Some(Value::Function(f)) = &*c.defaults.borrow() {
            closures.push(f.clone());
        }
        self.captures(&mut w, &closures)?;
        Ok(w.buf)
    }

    fn function(&mut self, f: &Rc<Closure>) -> HeapResult<Vec<u8>> {
        let p = &f.proto;
        if matches!(
            p.kind,
            ProtoKind::Method | ProtoKind::Init | ProtoKind::Defaults
        ) && let Some(home) = &f.home
        {
            let mut w = Writer::kind(kind::METHOD);
            self.item(&mut w, &Value::Class(home.clone()))?;
            let name = if p.kind == ProtoKind::Defaults {
                "__defaults".to_string()
            } else {
                p.name.as_deref().unwrap_or("").to_string()
            };
            w.str(&name);
            return Ok(w.buf);
        }
        if !matches!(p.kind, ProtoKind::Function) {
            return Err(HeapError::TooLarge("a test block or script body".into()));
        }
        let mut w = Writer::kind(kind::FUNCTION);
        w.opt_str(p.name.as_deref());
        w.opt_str(p.doc.as_deref());
        w.str(span_text(&p.source, p.span));
        self.captures(&mut w, std::slice::from_ref(f))?;
        match &f.home {
            Some(h) => self.item(&mut w, &Value::Class(h.clone()))?,
            None => w.nil(),
        }
        Ok(w.buf)
    }
}

/// Does the heap's record of this object (which has an id) still equal it? Lists, maps,
/// instances and cells say so themselves (the write barrier); the other objects cannot
/// change once made, and the one way one gets an id without being written (a class taking
/// over a stored class's id) puts it on the pending list.
fn is_clean(v: &Value) -> bool {
    match v {
        Value::List(l) => l.items.is_clean(),
        Value::Map(m) => m.entries.is_clean(),
        Value::Instance(i) => i.fields.is_clean(),
        Value::Cell(c) => c.value.is_clean(),
        _ => true,
    }
}

/// Its record was just written or loaded.
pub(crate) fn set_clean(v: &Value) {
    match v {
        Value::List(l) => l.items.set_clean(),
        Value::Map(m) => m.entries.set_clean(),
        Value::Instance(i) => i.fields.set_clean(),
        Value::Cell(c) => c.value.set_clean(),
        _ => {}
    }
}
