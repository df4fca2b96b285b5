//! Live values into catalog records at a commit. Every object reachable from a global this
//! run touched is encoded; a record is rewritten only when its bytes changed, so a run that
//! changes one global of thousands writes a few pages. Unreachable records are swept once
//! enough rewrites have happened since the last sweep (amortised over those rewrites).

use super::Persist;
use super::load::address;
use super::recompile::{class_body, span_text};
use crate::bytecode::ProtoKind;
use crate::pipe::Stage;
use crate::value::{Class, Closure, MapKey, Value};
use std::rc::Rc;
use walia_store::codec::{Writer, kind, references};
use walia_store::{
    CURSOR_PREFIX, GC_KEY, GLOBAL_PREFIX, HeapError, HeapResult, IdSet, MAX_KEY, OBJECT_PREFIX,
    global_key, object_key,
};

pub struct Saver<'a> {
    heap: &'a mut Persist,
    /// First in, first out: records are written in id order, appending to the index.
    queue: std::collections::VecDeque<(u64, Value)>,
    visited: IdSet,
    /// Records and entries overwritten with different bytes.
    pub rewrites: u64,
}

impl<'a> Saver<'a> {
    pub fn new(heap: &'a mut Persist) -> Saver<'a> {
        Saver {
            heap,
            queue: std::collections::VecDeque::new(),
            visited: IdSet::default(),
            rewrites: 0,
        }
    }

    /// Store a global (and everything it reaches).
    pub fn global(&mut self, name: &str, value: &Value) -> HeapResult<()> {
        let mut w = Writer::default();
        self.item(&mut w, value)?;
        let key = global_key(name);
        if key.len() > MAX_KEY {
            return Err(HeapError::TooLarge(format!(
                "global '{name}': its name is too long"
            )));
        }
        self.write_if_changed(&key, w.buf)?;
        self.heap.note_stored(name);
        self.drain()
    }

    /// Store an entry under `key` holding `value` (and everything it reaches): a
    /// checkpointed pipe's cursor.
    pub fn entry(&mut self, key: &[u8], value: &Value) -> HeapResult<()> {
        let mut w = Writer::default();
        self.item(&mut w, value)?;
        if key.len() > MAX_KEY {
            return Err(HeapError::TooLarge("a cursor name is too long".into()));
        }
        self.write_if_changed(key, w.buf)?;
        self.drain()
    }

    fn write_if_changed(&mut self, key: &[u8], bytes: Vec<u8>) -> HeapResult<()> {
        match self.heap.get(key)? {
            Some(old) if old == bytes => {}
            old => {
                self.heap.put(key, &bytes)?;
                // Only an overwrite can leave a record unreachable.
                if old.is_some() {
                    self.rewrites += 1;
                }
            }
        }
        Ok(())
    }

    /// The stored id of an object, assigning one (and queueing it) on first sight.
    fn id_of(&mut self, v: &Value) -> HeapResult<u64> {
        let Some(addr) = address(v) else {
            return Err(HeapError::TooLarge("an inline value as an object".into()));
        };
        let id = match self.heap.ids.get(&addr) {
            Some(id) => *id,
            None => {
                let meta = self.heap.pager.meta_mut();
                let id = meta.next_id.max(1);
                meta.next_id = id + 1;
                self.heap.ids.insert(addr, id);
                self.heap.objects.insert(id, v.clone());
                id
            }
        };
        if self.visited.insert(id) {
            self.queue.push_back((id, v.clone()));
        }
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
            Value::File(f) => w.file(&f.kind, &f.path),
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

    fn drain(&mut self) -> HeapResult<()> {
        while let Some((id, v)) = self.queue.pop_front() {
            let record = self.record(&v)?;
            self.write_if_changed(&object_key(id), record)?;
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

    /// Objects reached by this save (the rest of `objects` may be garbage in memory).
    pub fn visited(&self) -> &IdSet {
        &self.visited
    }
}

/// Sweep the records no global reaches, when enough rewrites have accumulated since the
/// last sweep to pay for reading them all.
pub fn maybe_sweep(heap: &mut Persist, rewrites: u64) -> HeapResult<()> {
    let (at_last, since) = match heap.get(GC_KEY)? {
        Some(b) if b.len() == 16 => (
            u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
            u64::from_le_bytes(b[8..].try_into().unwrap_or_default()),
        ),
        _ => (0, 0),
    };
    let since = since + rewrites;
    let (at_last, since) = if since > at_last + 256 {
        (sweep(heap)?, 0)
    } else {
        (at_last, since)
    };
    if rewrites > 0 {
        let mut b = at_last.to_le_bytes().to_vec();
        b.extend_from_slice(&since.to_le_bytes());
        heap.put(GC_KEY, &b)?;
    }
    Ok(())
}

/// Delete every object record that no global reaches; returns how many remain.
pub fn sweep(heap: &mut Persist) -> HeapResult<u64> {
    // Globals and the cursors of checkpointed pipes are the roots.
    let mut roots = heap.scan(&[GLOBAL_PREFIX])?;
    roots.extend(heap.scan(&[CURSOR_PREFIX])?);
    let mut live = IdSet::default();
    let mut stack: Vec<u64> = Vec::new();
    for (k, v) in &roots {
        let what = format!("entry '{}'", String::from_utf8_lossy(k));
        stack.extend(references(v, false, &what)?);
    }
    while let Some(id) = stack.pop() {
        if !live.insert(id) {
            continue;
        }
        if let Some(rec) = heap.object_record(id)? {
            stack.extend(references(&rec, true, &format!("object {id}"))?);
        }
    }
    let all = heap.scan_keys(&[OBJECT_PREFIX])?;
    for key in all {
        if key.len() != 9 {
            continue;
        }
        let id = u64::from_be_bytes(key[1..].try_into().unwrap_or_default());
        if !live.contains(&id) {
            heap.delete(&key)?;
            if let Some(v) = heap.objects.remove(&id)
                && let Some(addr) = address(&v)
            {
                heap.ids.remove(&addr);
            }
        }
    }
    Ok(live.len() as u64)
}
