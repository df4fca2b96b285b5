//! Script values and the objects they refer to.
//!
//! `Value` is 16 bytes: scalars inline, everything else behind an `Rc`. Objects that can
//! take part in a reference cycle carry a [`GcHeader`] and are registered with the cycle
//! collector (`crate::gc`) when created.

use crate::bytecode::Proto;
use crate::error::RtError;
use crate::gc::{GcHeader, track};
use crate::kernel::KVal;
use crate::pipe::{Pipeline, Stage};
use crate::vm::Vm;
use indexmap::IndexMap;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

pub use crate::entries::Entries;
pub use walia_store::FxBuild;
/// The fields of an instance (declared ones first) or the methods of a class.
pub type Fields = IndexMap<Rc<str>, Value, FxBuild>;

pub fn new_entries(capacity: usize) -> Entries {
    Entries::with_capacity(capacity)
}

pub fn new_fields(capacity: usize) -> Fields {
    IndexMap::with_capacity_and_hasher(capacity, FxBuild::default())
}

#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<Str>),
    List(Rc<List>),
    Map(Rc<Map>),
    Range(Rc<RangeVal>),
    Function(Rc<Closure>),
    Native(Rc<NativeFn>),
    Bound(Rc<BoundMethod>),
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    Stream(Rc<Pipeline>),
    /// A table of the attached heap (`db.User`).
    Table(crate::db::ids::TableId),
    /// A live reference to one row of a table.
    Row(crate::db::ids::RowRef),
    /// `db`: the attached heap's tables.
    Db,
    /// A file a pipeline reads (only ever the source of a stream).
    File(Rc<crate::pipe::files::FileSource>),
    /// A global slot whose declaration has not run yet. Never visible to scripts.
    Undefined,
    /// A captured variable's cell, in the frame slot of that variable. Never visible to
    /// scripts: reading the slot reads the cell.
    Cell(Rc<UpCell>),
    /// A `for` loop's iterator, in the loop's hidden slot. Never visible to scripts.
    Iter(Rc<RefCell<crate::pipe::PipeRun>>),
}

/// An immutable UTF-8 string that knows whether it is ASCII, so `len` and indexing of
/// ASCII text are O(1). The VM appends in place when it holds the only reference.
#[derive(Debug, PartialEq, Eq)]
pub struct Str {
    text: String,
    ascii: bool,
}

impl Str {
    pub fn new(text: String) -> Str {
        let ascii = text.is_ascii();
        Str { text, ascii }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// Length in characters.
    pub fn char_len(&self) -> usize {
        if self.ascii {
            self.text.len()
        } else {
            self.text.chars().count()
        }
    }

    /// The character at index `i` (already normalised to be non-negative).
    pub fn char_at(&self, i: usize) -> Option<&str> {
        if self.ascii {
            return self.text.get(i..i + 1);
        }
        let (start, c) = self.text.char_indices().nth(i)?;
        self.text.get(start..start + c.len_utf8())
    }

    pub fn push_str(&mut self, s: &str) {
        self.ascii = self.ascii && s.is_ascii();
        self.text.push_str(s);
    }
}

pub struct List {
    pub gc: GcHeader,
    pub items: RefCell<Vec<Value>>,
}

/// A map key: strings, ints and bools (SPEC §2).
#[derive(Clone, Debug)]
pub enum MapKey {
    Int(i64),
    Bool(bool),
    Str(Rc<Str>),
}

impl PartialEq for MapKey {
    fn eq(&self, other: &MapKey) -> bool {
        match (self, other) {
            (MapKey::Int(a), MapKey::Int(b)) => a == b,
            (MapKey::Bool(a), MapKey::Bool(b)) => a == b,
            (MapKey::Str(a), MapKey::Str(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}
impl Eq for MapKey {}

impl Hash for MapKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        KeyRef::from(self).hash(h)
    }
}

/// A borrowed map key, for lookups without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRef<'a> {
    Int(i64),
    Bool(bool),
    Str(&'a str),
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            KeyRef::Int(i) => {
                0u8.hash(h);
                i.hash(h)
            }
            KeyRef::Bool(b) => {
                1u8.hash(h);
                b.hash(h)
            }
            KeyRef::Str(s) => {
                2u8.hash(h);
                s.hash(h)
            }
        }
    }
}

impl<'a> From<&'a MapKey> for KeyRef<'a> {
    fn from(k: &'a MapKey) -> KeyRef<'a> {
        match k {
            MapKey::Int(i) => KeyRef::Int(*i),
            MapKey::Bool(b) => KeyRef::Bool(*b),
            MapKey::Str(s) => KeyRef::Str(s.as_str()),
        }
    }
}

impl indexmap::Equivalent<MapKey> for KeyRef<'_> {
    fn equivalent(&self, key: &MapKey) -> bool {
        *self == KeyRef::from(key)
    }
}

impl MapKey {
    pub fn to_value(&self) -> Value {
        match self {
            MapKey::Int(i) => Value::Int(*i),
            MapKey::Bool(b) => Value::Bool(*b),
            MapKey::Str(s) => Value::Str(s.clone()),
        }
    }

    pub fn from_value(v: &Value) -> Result<MapKey, RtError> {
        match v {
            Value::Int(i) => Ok(MapKey::Int(*i)),
            Value::Bool(b) => Ok(MapKey::Bool(*b)),
            Value::Str(s) => Ok(MapKey::Str(s.clone())),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(MapKey::Int(*f as i64)),
            other => Err(RtError::new(format!(
                "map keys must be String, Int or Bool, not {}",
                other.type_name()
            ))),
        }
    }
}

impl<'a> KeyRef<'a> {
    pub fn from_value(v: &'a Value) -> Option<KeyRef<'a>> {
        match v {
            Value::Int(i) => Some(KeyRef::Int(*i)),
            Value::Bool(b) => Some(KeyRef::Bool(*b)),
            Value::Str(s) => Some(KeyRef::Str(s.as_str())),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(KeyRef::Int(*f as i64)),
            _ => None,
        }
    }
}

/// A map value. Mutate it through [`Map::insert`] (or call [`Map::track_once`] after
/// storing a container by hand) so the cycle collector sees it.
pub struct Map {
    pub gc: GcHeader,
    pub entries: RefCell<Entries>,
}

impl Map {
    /// Insert or replace an entry, keeping insertion order.
    pub fn insert(self: &Rc<Self>, key: MapKey, value: Value) -> Option<Value> {
        if value.is_container() {
            self.track_once();
        }
        self.entries.borrow_mut().insert(key, value)
    }

    /// Register with the cycle collector, if not yet registered.
    pub fn track_once(self: &Rc<Self>) {
        if !self.gc.is_tracked() {
            self.gc.set_tracked();
            track(crate::gc::Tracked::Map(Rc::downgrade(self)));
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeVal {
    pub start: i64,
    pub end: i64,
}

impl RangeVal {
    pub fn len(&self) -> i64 {
        if self.end > self.start {
            self.end.saturating_sub(self.start)
        } else {
            0
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A captured variable shared between a frame and the closures that capture it.
pub struct UpCell {
    pub gc: GcHeader,
    pub value: RefCell<Value>,
}

impl UpCell {
    /// Store a value (registering the cell with the cycle collector when it is a container).
    pub fn set(self: &Rc<Self>, v: Value) {
        if v.is_container() {
            self.track_once();
        }
        *self.value.borrow_mut() = v;
    }

    /// Register with the cycle collector, if not yet registered.
    pub fn track_once(self: &Rc<Self>) {
        if !self.gc.is_tracked() {
            self.gc.set_tracked();
            track(crate::gc::Tracked::Cell(Rc::downgrade(self)));
        }
    }
}

pub struct Closure {
    pub gc: GcHeader,
    pub proto: Rc<Proto>,
    /// One entry per capture: a `Value::Cell` shared with the defining frame when the
    /// variable is ever assigned, else a copy of its value (taken when the closure is made;
    /// nothing can change it afterwards, and no cell is allocated).
    pub upvalues: Box<[Value]>,
    /// The class whose method this is (or encloses this lambda): where `super` looks.
    pub home: Option<Rc<Class>>,
}

/// The signature every builtin and registered Rust function has.
pub type NativeImpl = dyn Fn(&mut Vm, &[Value]) -> Result<Value, RtError>;

pub struct NativeFn {
    pub name: Rc<str>,
    /// Minimum and maximum argument count (`max == usize::MAX`: variadic).
    pub min_args: usize,
    pub max_args: usize,
    pub func: Box<NativeImpl>,
}

pub struct BoundMethod {
    pub gc: GcHeader,
    pub receiver: Value,
    pub method: Value,
}

pub struct Class {
    pub gc: GcHeader,
    pub name: Rc<str>,
    pub superclass: Option<Rc<Class>>,
    /// Every field, superclass fields first, in declaration order.
    pub fields: Vec<Rc<str>>,
    /// The hidden method that sets this class's own field defaults, if it has any.
    pub defaults: RefCell<Option<Value>>,
    pub methods: RefCell<Fields>,
    pub sql: bool,
    pub doc: Option<String>,
    /// The declaration's source text, kept so the class can be stored in the heap.
    pub source: Option<(Rc<crate::bytecode::SourceFile>, walia_lang::ast::Span)>,
    /// A later declaration of the same name: classes are identified by name, so instances
    /// made (or stored) earlier use the newer class's methods (SPEC §15).
    pub replaced_by: RefCell<Option<Rc<Class>>>,
    /// Declared at the top level: a later top-level class of the same name replaces it.
    pub global: bool,
}

impl Class {
    /// The newest declaration of this class.
    pub fn current(self: &Rc<Class>) -> Rc<Class> {
        let mut c = self.clone();
        loop {
            let next = c.replaced_by.borrow().clone();
            match next {
                Some(n) => c = n,
                None => return c,
            }
        }
    }

    /// Does the newest declaration of this class (or a superclass) declare this field?
    pub fn declares_field(self: &Rc<Class>, name: &str) -> bool {
        self.current().fields.iter().any(|f| &**f == name)
    }

    /// A method of this class or the nearest superclass that has it (a loop: subclass
    /// chains can be thousands long).
    pub fn find_method(&self, name: &str) -> Option<Value> {
        let mut at: Option<Rc<Class>> = None;
        loop {
            let class: &Class = at.as_deref().unwrap_or(self);
            let newer = class.replaced_by.borrow().clone();
            let next = match newer {
                Some(newer) => newer,
                None => {
                    if let Some(m) = class.methods.borrow().get(name) {
                        return Some(m.clone());
                    }
                    class.superclass.clone()?
                }
            };
            at = Some(next);
        }
    }
}

pub struct Instance {
    pub gc: GcHeader,
    pub class: Rc<Class>,
    pub fields: RefCell<Fields>,
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(Str::new(s.into())))
    }

    pub fn list(items: Vec<Value>) -> Value {
        let rc = Rc::new(List {
            gc: GcHeader::default(),
            items: RefCell::new(items),
        });
        track(crate::gc::Tracked::List(Rc::downgrade(&rc)));
        Value::List(rc)
    }

    /// A new map. A map holding only scalars and strings cannot be part of a cycle, so it
    /// is registered with the cycle collector only once a container is stored in it
    /// ([`Map::insert`]): a million record-like maps cost the collector nothing.
    pub fn map(entries: Entries) -> Value {
        let holds_container = entries.values().any(Value::is_container);
        let rc = Rc::new(Map {
            gc: GcHeader::default(),
            entries: RefCell::new(entries),
        });
        if holds_container {
            rc.track_once();
        }
        Value::Map(rc)
    }

    /// Can this value take part in a reference cycle (does it hold other values)?
    pub fn is_container(&self) -> bool {
        matches!(
            self,
            Value::List(_)
                | Value::Map(_)
                | Value::Instance(_)
                | Value::Function(_)
                | Value::Class(_)
                | Value::Bound(_)
                | Value::Stream(_)
                | Value::Cell(_)
        )
    }

    pub fn range(start: i64, end: i64) -> Value {
        Value::Range(Rc::new(RangeVal { start, end }))
    }

    pub fn native(
        name: &str,
        min_args: usize,
        max_args: usize,
        func: impl Fn(&mut Vm, &[Value]) -> Result<Value, RtError> + 'static,
    ) -> Value {
        Value::Native(Rc::new(NativeFn {
            name: name.into(),
            min_args,
            max_args,
            func: Box::new(func),
        }))
    }

    pub fn bound(receiver: Value, method: Value) -> Value {
        let rc = Rc::new(BoundMethod {
            gc: GcHeader::default(),
            receiver,
            method,
        });
        track(crate::gc::Tracked::Bound(Rc::downgrade(&rc)));
        Value::Bound(rc)
    }

    pub fn instance(class: Rc<Class>, fields: Fields) -> Value {
        let rc = Rc::new(Instance {
            gc: GcHeader::default(),
            class,
            fields: RefCell::new(fields),
        });
        track(crate::gc::Tracked::Instance(Rc::downgrade(&rc)));
        Value::Instance(rc)
    }

    /// The type name as `type_of` spells it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil | Value::Undefined => "Nil",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Float(_) => "Float",
            Value::Str(_) => "String",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Range(_) => "Range",
            Value::Function(_) | Value::Native(_) | Value::Bound(_) => "Function",
            Value::Class(_) => "Class",
            Value::Instance(_) => "Instance",
            Value::Stream(_) => "Stream",
            Value::Table(_) => "Table",
            Value::Row(_) => "Row",
            Value::Db => "Database",
            Value::File(_) => "Stream",
            Value::Cell(c) => c.value.try_borrow().map_or("Nil", |v| v.type_name()),
            Value::Iter(_) => "Iterator",
        }
    }

    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false) | Value::Undefined)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::str(s)
    }
}

// Dropping a deeply nested value the default way recurses once per level and can overflow
// the Rust stack (a list nested 300,000 deep). Containers instead hand their contents to
// `drop_iteratively`, which unpacks the uniquely owned containers it finds with a work list.

fn drop_iteratively(work: Vec<Value>) {
    // A value freed outside the work list (by drop glue) can start another work list:
    // those nestings are few, and guarded all the same.
    walia_lang::stack::guarded(|| drain_drops(work));
}

fn drain_drops(mut work: Vec<Value>) {
    while let Some(v) = work.pop() {
        match v {
            Value::List(rc) => {
                if let Ok(list) = Rc::try_unwrap(rc) {
                    work.append(&mut list.items.take());
                }
            }
            Value::Map(rc) => {
                if let Ok(map) = Rc::try_unwrap(rc) {
                    work.extend(map.entries.take().into_values());
                }
            }
            Value::Instance(rc) => {
                if let Ok(inst) = Rc::try_unwrap(rc) {
                    work.extend(inst.fields.take().into_values());
                    // A class this instance alone holds is freed here, not by its drop glue.
                    if Rc::strong_count(&inst.class) == 1 {
                        work.push(Value::Class(inst.class.clone()));
                    }
                }
            }
            Value::Bound(rc) => {
                if let Ok(bound) = Rc::try_unwrap(rc) {
                    work.push(bound.receiver);
                    work.push(bound.method);
                }
            }
            Value::Stream(rc) => {
                if let Ok(pipeline) = Rc::try_unwrap(rc) {
                    work.push(pipeline.source);
                    work.extend(pipeline.stages.into_iter().filter_map(Stage::into_value));
                }
            }
            Value::Cell(rc) => {
                if let Ok(cell) = Rc::try_unwrap(rc) {
                    work.push(cell.value.take());
                }
            }
            Value::Class(rc) => {
                if let Ok(mut class) = Rc::try_unwrap(rc) {
                    work.extend(class.take_links());
                }
            }
            Value::Function(rc) => {
                if let Ok(mut closure) = Rc::try_unwrap(rc) {
                    let upvalues = std::mem::take(&mut closure.upvalues);
                    work.extend(closure.home.take().and_then(last_reference));
                    drop(closure);
                    for up in upvalues {
                        // A cell only this closure used holds a scalar more often than not:
                        // free it here rather than through the work list.
                        match up {
                            Value::Cell(cell) => match Rc::try_unwrap(cell) {
                                Ok(cell) => {
                                    let v = cell.value.take();
                                    if v.is_container() {
                                        work.push(v);
                                    }
                                }
                                Err(shared) => drop(shared),
                            },
                            v if v.is_container() => work.push(v),
                            v => drop(v),
                        }
                    }
                }
            }
            other => drop(other),
        }
    }
}

fn drop_contents(values: Vec<Value>) {
    if values.iter().any(Value::is_container) {
        drop_iteratively(values);
    }
}

impl Drop for List {
    fn drop(&mut self) {
        drop_contents(self.items.take());
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        let entries = self.entries.take();
        if entries.values().any(Value::is_container) {
            drop_iteratively(entries.into_values());
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let fields = self.fields.take();
        if fields.values().any(Value::is_container) {
            drop_iteratively(fields.into_values().collect());
        }
    }
}

impl Drop for Closure {
    fn drop(&mut self) {
        // Captured copies can chain closures arbitrarily deep (`f = () => g` in a loop).
        let last_home = self.home.as_ref().is_some_and(|h| Rc::strong_count(h) == 1);
        if last_home || self.upvalues.iter().any(Value::is_container) {
            let mut work = std::mem::take(&mut self.upvalues).into_vec();
            work.extend(self.home.take().and_then(last_reference));
            drop_iteratively(work);
        }
    }
}

/// A class to free through the work list when this is its last reference (a shared one
/// is only released).
fn last_reference(class: Rc<Class>) -> Option<Value> {
    (Rc::strong_count(&class) == 1).then(|| Value::Class(class))
}

impl Class {
    /// What a class holds that can lead to more classes: superclass, methods, the newer
    /// declaration (subclass chains and classes capturing classes run thousands deep).
    fn take_links(&mut self) -> Vec<Value> {
        let mut links: Vec<Value> = std::mem::take(self.methods.get_mut())
            .into_values()
            .collect();
        links.extend(self.defaults.get_mut().take());
        links.extend(self.superclass.take().map(Value::Class));
        links.extend(self.replaced_by.get_mut().take().map(Value::Class));
        links
    }
}

impl Drop for Class {
    fn drop(&mut self) {
        let links = self.take_links();
        if !links.is_empty() {
            drop_iteratively(links);
        }
    }
}

impl Drop for UpCell {
    fn drop(&mut self) {
        let v = self.value.take();
        if v.is_container() {
            drop_iteratively(vec![v]);
        }
    }
}

/// Scalars between the interpreter and the stage kernels (which never see a `Value`).
impl KVal {
    pub fn to_value(self) -> Value {
        match self {
            KVal::Nil => Value::Nil,
            KVal::Bool(b) => Value::Bool(b),
            KVal::Int(i) => Value::Int(i),
            KVal::Float(f) => Value::Float(f),
        }
    }

    pub fn from_value(v: &Value) -> Option<KVal> {
        Some(match v {
            Value::Nil => KVal::Nil,
            Value::Bool(b) => KVal::Bool(*b),
            Value::Int(i) => KVal::Int(*i),
            Value::Float(f) => KVal::Float(*f),
            _ => return None,
        })
    }
}
