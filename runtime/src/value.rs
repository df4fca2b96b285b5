//! Script values and the objects they refer to.
//!
//! `Value` is 16 bytes: scalars inline, everything else behind an `Rc`. Objects that can
//! take part in a reference cycle carry a [`GcHeader`] and are registered with the cycle
//! collector (`crate::gc`) when created.

use crate::bytecode::Proto;
use crate::error::RtError;
use crate::gc::{GcHeader, track};
use crate::kernel::KVal;
use crate::pipe::Pipeline;
use crate::vm::Vm;
use indexmap::IndexMap;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

pub(crate) mod chars;
mod drop;
pub mod fields;
pub mod watched;

pub use fields::InstanceFields;
pub use watched::Watched;

pub use crate::entries::Entries;
pub use walia_store::FxBuild;
/// The methods of a class (or an instance's fields, past its shape limits).
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

    /// Room for `extra` more bytes, under the memory limit (`+=` growing a string in place).
    pub fn reserve_checked(&mut self, extra: usize) -> crate::error::RtResult<()> {
        crate::limits::reserve_str(&mut self.text, extra)
    }
}

pub struct List {
    pub gc: GcHeader,
    pub items: Watched<Vec<Value>>,
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
    pub entries: Watched<Entries>,
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
        track(self);
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
    pub value: Watched<Value>,
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
        track(self);
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

/// A builtin that is a plain function (every builtin of the standard library).
pub type NativePlain = fn(&mut Vm, &[Value]) -> Result<Value, RtError>;

/// A builtin that needs only its arguments: it never calls back into the VM, so it reads
/// them where they lie on the value stack (see `Vm::call_native`).
pub type NativeLeaf = fn(&[Value]) -> Result<Value, RtError>;

/// A builtin's code. A plain function is called directly; a closure (a Rust function an
/// embedder registered, which may capture state) through its box, one indirect call more.
pub enum NativeBody {
    Plain(NativePlain),
    Leaf(NativeLeaf),
    Closure(Box<NativeImpl>),
}

pub struct NativeFn {
    pub name: Rc<str>,
    /// Minimum and maximum argument count (`max == usize::MAX`: variadic).
    pub min_args: usize,
    pub max_args: usize,
    /// A built-in type's method: the counts include the receiver (the first argument), and
    /// an arity error reports them without it, as the script wrote the call.
    pub is_method: bool,
    pub func: NativeBody,
}

impl NativeFn {
    /// Run the builtin on `args` (a method's receiver first).
    #[inline(always)]
    pub fn call(&self, vm: &mut Vm, args: &[Value]) -> Result<Value, RtError> {
        match &self.func {
            NativeBody::Plain(f) => f(vm, args),
            NativeBody::Leaf(f) => f(args),
            NativeBody::Closure(f) => f(vm, args),
        }
    }
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
    /// The layout of a new instance (`fields`), and the layout with no field, where an
    /// instance stored in another layout starts when it is loaded.
    pub root_shape: Rc<crate::shape::Shape>,
    pub empty_shape: Rc<crate::shape::Shape>,
    /// The hidden method that sets this class's own field defaults, if it has any.
    pub defaults: RefCell<Option<Value>>,
    pub methods: RefCell<Fields>,
    pub sql: bool,
    pub doc: Option<String>,
    /// The declaration's source text, kept so the class can be stored in the heap.
    pub source: Option<(
        std::sync::Arc<crate::bytecode::SourceFile>,
        walia_lang::ast::Span,
    )>,
    /// A later declaration of the same name: classes are identified by name, so instances
    /// made (or stored) earlier use the newer class's methods (SPEC §15).
    pub replaced_by: RefCell<Option<Rc<Class>>>,
    /// Declared at the top level: a later top-level class of the same name replaces it.
    pub global: bool,
    pub init_memo: crate::shape::InitMemo,
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

    /// The `init` method a constructor call runs (see [`Class::find_method`]).
    pub fn init_method(&self) -> Option<Value> {
        if let Some(known) = self.init_memo.get() {
            return known.map(Value::Function);
        }
        let found = self.find_method("init");
        match &found {
            Some(Value::Function(init)) => self.init_memo.set(Some(init)),
            None => self.init_memo.set(None),
            Some(_) => {}
        }
        found
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
    pub fields: Watched<InstanceFields>,
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(Str::new(s.into())))
    }

    pub fn list(items: Vec<Value>) -> Value {
        let rc = Rc::new(List {
            gc: GcHeader::default(),
            items: Watched::new(items),
        });
        track(&rc);
        Value::List(rc)
    }

    /// A new map. A map holding only scalars and strings cannot be part of a cycle, so it
    /// is registered with the cycle collector only once a container is stored in it
    /// ([`Map::insert`]): a million record-like maps cost the collector nothing.
    pub fn map(entries: Entries) -> Value {
        let holds_container = entries.values().any(Value::is_container);
        let rc = Rc::new(Map {
            gc: GcHeader::default(),
            entries: Watched::new(entries),
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
        let func = NativeBody::Closure(Box::new(func));
        Value::native_of(name, (min_args, max_args), false, func)
    }

    /// A method of a built-in type: `min_args` and `max_args` count the receiver.
    pub fn native_method(
        name: &str,
        min_args: usize,
        max_args: usize,
        func: impl Fn(&mut Vm, &[Value]) -> Result<Value, RtError> + 'static,
    ) -> Value {
        let func = NativeBody::Closure(Box::new(func));
        Value::native_of(name, (min_args, max_args), true, func)
    }

    /// A builtin function that is a plain function (called directly).
    pub fn builtin(name: &str, min_args: usize, max_args: usize, func: NativePlain) -> Value {
        Value::native_of(name, (min_args, max_args), false, NativeBody::Plain(func))
    }

    /// A built-in type's method that is a plain function; the counts include the receiver.
    pub fn builtin_method(name: &str, min_args: usize, max_args: usize, f: NativePlain) -> Value {
        Value::native_of(name, (min_args, max_args), true, NativeBody::Plain(f))
    }

    /// A builtin function that needs only its arguments.
    pub fn leaf(name: &str, min_args: usize, max_args: usize, func: NativeLeaf) -> Value {
        Value::native_of(name, (min_args, max_args), false, NativeBody::Leaf(func))
    }

    /// A built-in type's method that needs only its arguments; the counts include the
    /// receiver.
    pub fn leaf_method(name: &str, min_args: usize, max_args: usize, f: NativeLeaf) -> Value {
        Value::native_of(name, (min_args, max_args), true, NativeBody::Leaf(f))
    }

    fn native_of(name: &str, arity: (usize, usize), is_method: bool, func: NativeBody) -> Value {
        Value::Native(Rc::new(NativeFn {
            name: name.into(),
            min_args: arity.0,
            max_args: arity.1,
            is_method,
            func,
        }))
    }

    pub fn bound(receiver: Value, method: Value) -> Value {
        let rc = Rc::new(BoundMethod {
            gc: GcHeader::default(),
            receiver,
            method,
        });
        track(&rc);
        Value::Bound(rc)
    }

    pub fn instance(class: Rc<Class>, fields: InstanceFields) -> Value {
        let rc = Rc::new(Instance {
            gc: GcHeader::default(),
            class,
            fields: Watched::new(fields),
        });
        track(&rc);
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

#[cfg(test)]
mod layout_tests {
    use super::Value;

    #[test]
    fn a_value_is_two_words_and_an_optional_one_too() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 16);
        assert_eq!(std::mem::size_of::<crate::bytecode::Op>(), 12);
    }

    #[test]
    fn an_instance_is_small() {
        use std::mem::size_of;
        // The map of an instance used as a dictionary is boxed: every instance pays only
        // for the slots variant (shape and vector).
        assert_eq!(size_of::<super::InstanceFields>(), 32);
        // With the two reference counts, 88 bytes: malloc's 96-byte size class.
        assert!(size_of::<super::Instance>() <= 72);
    }
}
