//! Field access and method calls: `obj.name`, `obj.name = v`, `obj.name(args)`.

use crate::error::{RtError, RtResult};
use crate::shape::{FieldSite, InvokeSite, SiteCaches};
use crate::value::*;
use crate::vm::{Called, Vm};
use std::rc::Rc;

/// A field store's fast path: `v` stored where the site's cache knows it goes, or given
/// back when the cache does not know.
#[inline(always)]
pub(crate) fn cached_store(
    sites: &SiteCaches,
    site: u16,
    inst: &Instance,
    v: Value,
) -> Result<(), Value> {
    match sites.field(site) {
        Some(site) => inst.fields.borrow_mut().store_cached(site, v),
        None => Err(v),
    }
}

/// A method site's fast path: the method, when the instance has the shape the site saw
/// last and no class changed since.
#[inline(always)]
pub(crate) fn cached_method(sites: &SiteCaches, site: u16, inst: &Instance) -> Option<Rc<Closure>> {
    sites
        .invoke(site)?
        .method_for(inst.fields.borrow().shape()?)
}

/// Remember at the call site the builtin method a value of a built-in type found.
fn learn_builtin(site: Option<&InvokeSite>, receiver: &Value, method: &Value) {
    if let (Some(site), Value::Native(n)) = (site, method) {
        site.builtin.learn(receiver, n);
    }
}

/// Most classes walked up a subclass chain for names to suggest (chains can be long).
const MAX_SUGGESTION_CLASSES: usize = 64;
/// Most keys of a map (or fields of an instance) compared with a misspelt name: an error
/// on a huge map stays quick.
const MAX_SUGGESTION_KEYS: usize = 10_000;

/// The string keys of a map, at most [`MAX_SUGGESTION_KEYS`].
fn string_keys(m: &Map) -> Vec<String> {
    m.entries
        .borrow()
        .keys()
        .filter_map(|k| match k {
            MapKey::Str(s) => Some(s.as_str().to_string()),
            _ => None,
        })
        .take(MAX_SUGGESTION_KEYS)
        .collect()
}

/// `name`'s closest match among `names`: Walia's spelling of another language's method
/// first (`size` → `length`), else the nearest by edit distance.
fn closest_member(name: &str, names: &[String]) -> Option<String> {
    let alias = walia_lang::habits::method_aliases(name)
        .iter()
        .find(|a| names.iter().any(|n| n == *a));
    if let Some(a) = alias {
        return Some(a.to_string());
    }
    walia_lang::diagnostic::did_you_mean(name, names.iter().map(String::as_str))
}

/// The methods and fields of a class and its superclasses (their newest declarations).
fn class_member_names(class: &Rc<Class>) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = Some(class.current());
    for _ in 0..MAX_SUGGESTION_CLASSES {
        let Some(c) = at else { break };
        names.extend(c.methods.borrow().keys().map(|k| k.to_string()));
        names.extend(c.fields.iter().map(|f| f.to_string()));
        at = c.superclass.as_ref().map(Class::current);
    }
    names
}

impl Vm {
    /// The error for a field or method `obj` does not have, with "did you mean" among the
    /// names it has.
    fn no_member(&self, obj: &Value, name: &str) -> RtError {
        let (message, names) = match obj {
            Value::Instance(i) => {
                let mut names = class_member_names(&i.class);
                let fields = i.fields.borrow();
                names.extend(
                    fields
                        .keys()
                        .take(MAX_SUGGESTION_KEYS)
                        .map(|k| k.to_string()),
                );
                (
                    format!("undefined field or method '{name}' on {}", i.class.name),
                    names,
                )
            }
            Value::Class(c) => {
                let mut names: Vec<String> =
                    c.current().fields.iter().map(|f| f.to_string()).collect();
                names.extend(self.builtin_method_names("Class"));
                (format!("class {} has no field '{name}'", c.name), names)
            }
            Value::Map(m) => {
                let mut names = self.builtin_method_names("Map");
                names.extend(string_keys(m));
                (format!("Map has no field or method '{name}'"), names)
            }
            _ => (
                format!("{} has no field or method '{name}'", obj.type_name()),
                self.builtin_method_names(obj.type_name()),
            ),
        };
        match closest_member(name, &names) {
            Some(s) => RtError::new(format!("{message}; did you mean '{s}'?")),
            None => RtError::new(message),
        }
    }

    /// The names of the methods registered for a built-in type.
    fn builtin_method_names(&self, type_name: &str) -> Vec<String> {
        self.methods
            .get(type_name)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl Vm {
    /// `obj.name` at a site whose cache missed: the general read, after which the cache
    /// knows where the field is in this instance's shape.
    #[cold]
    #[inline(never)]
    pub(crate) fn get_field_at(
        &mut self,
        obj: &Value,
        name: &str,
        site: Option<&FieldSite>,
    ) -> RtResult<Value> {
        if let (Value::Instance(inst), Some(site)) = (obj, site)
            && let Some(shape) = inst.fields.borrow().shape()
        {
            site.learn(shape, name);
        }
        self.get_field(obj, name)
    }

    /// `obj.name = v` at a site whose cache missed (adding a field moves the instance to
    /// a new shape, which the cache then knows).
    #[cold]
    #[inline(never)]
    pub(crate) fn set_field_at(
        &mut self,
        obj: &Value,
        name: &str,
        v: Value,
        site: Option<&FieldSite>,
    ) -> RtResult<Value> {
        let Value::Instance(inst) = obj else {
            return self.set_field(obj, name, v);
        };
        let before = inst.fields.borrow().shape().cloned();
        let stored = self.set_field(obj, name, v)?;
        if let Some(site) = site
            && let Some(shape) = inst.fields.borrow().shape()
        {
            match before {
                Some(before) if before.id() != shape.id() => site.learn_growth(&before, shape),
                _ => site.learn(shape, name),
            }
        }
        Ok(stored)
    }

    pub(crate) fn get_field(&mut self, obj: &Value, name: &str) -> RtResult<Value> {
        match obj {
            Value::Instance(inst) => {
                if let Some(v) = inst.fields.borrow().get(name) {
                    return Ok(v.clone());
                }
                match inst.class.find_method(name) {
                    Some(m) => Ok(Value::bound(obj.clone(), m)),
                    // A field the class declares but this (older) instance lacks reads nil.
                    None if inst.class.declares_field(name) => Ok(Value::Nil),
                    None => Err(self.no_member(obj, name)),
                }
            }
            Value::Map(m) => {
                if let Some(v) = m.entries.borrow().get(&KeyRef::Str(name)) {
                    return Ok(v.clone());
                }
                match self.builtin_method("Map", name) {
                    Some(f) => Ok(Value::bound(obj.clone(), f)),
                    None => {
                        let mut msg = format!("map has no key '{name}'");
                        if let Some(s) = closest_member(name, &string_keys(m)) {
                            msg = format!("{msg}; did you mean '{s}'?");
                        }
                        Err(RtError::new(msg))
                    }
                }
            }
            Value::Db => self.db_table(name),
            Value::Row(r) => {
                if let Some(v) = self.row_reader.read(*r, name)? {
                    return Ok(v);
                }
                match self.row_method(*r, name)? {
                    Some(m) => Ok(Value::bound(obj.clone(), m)),
                    None => Err(self.no_column(*r, name)),
                }
            }
            _ => match self.builtin_method(obj.type_name(), name) {
                Some(f) => Ok(Value::bound(obj.clone(), f)),
                None => Err(self.no_member(obj, name)),
            },
        }
    }

    /// Set a field; returns the value stored (a row's column may convert it).
    pub(crate) fn set_field(&mut self, obj: &Value, name: &str, v: Value) -> RtResult<Value> {
        match obj {
            Value::Instance(inst) => {
                let mut fields = inst.fields.borrow_mut();
                match fields.get_mut(name) {
                    Some(slot) => *slot = v,
                    None => {
                        fields.insert(name.into(), v);
                    }
                }
                Ok(Value::Nil)
            }
            Value::Map(m) => {
                m.insert(MapKey::Str(std::rc::Rc::new(Str::new(name.to_string()))), v);
                Ok(Value::Nil)
            }
            Value::Row(r) => {
                let table = crate::db::handle::table_name(r.table);
                let cell = crate::vm::tables::to_cell(&table, name, &v)?;
                crate::db::handle::set_row_field(*r, name, cell).map(crate::db::handle::cell_value)
            }
            other => Err(RtError::new(format!(
                "cannot set field '{name}' on a value of type {}",
                other.type_name()
            ))),
        }
    }

    /// `receiver.name(args)`, with the receiver and `argc` arguments on the stack; a method
    /// found on an instance is remembered by the site's cache.
    pub(crate) fn invoke(
        &mut self,
        name: &str,
        argc: usize,
        site: Option<&InvokeSite>,
    ) -> RtResult<Called> {
        let at = self.stack.len() - argc - 1;
        if let Value::Row(r) = self.stack[at] {
            return match self.row_method(r, name)? {
                Some(m) => self.invoke_method(m, at, argc),
                None => Err(self.no_column(r, name)),
            };
        }
        // A built-in type's method (`list.add(x)`): no copy of the receiver needed.
        if !matches!(self.stack[at], Value::Instance(_) | Value::Map(_)) {
            let type_name = self.stack[at].type_name();
            return match self.builtin_method(type_name, name) {
                Some(method) => {
                    learn_builtin(site, &self.stack[at], &method);
                    self.invoke_method(method, at, argc)
                }
                None => Err(self.no_member(&self.stack[at], name)),
            };
        }
        // A map's own method (`counts.get(word, 0)`) wins over a key of that name (as below):
        // found without a copy of the receiver.
        if let Value::Map(_) = self.stack[at]
            && let type_name = self.stack[at].type_name()
            && let Some(method) = self.builtin_method(type_name, name)
        {
            learn_builtin(site, &self.stack[at], &method);
            return self.invoke_method(method, at, argc);
        }
        let receiver = self.stack[at].clone();
        let method = match &receiver {
            Value::Instance(inst) => {
                let field = inst.fields.borrow().get(name).cloned();
                if let Some(f) = field {
                    // A field holding a function shadows a method: call it as a plain value.
                    self.stack[at] = f;
                    return self.call(argc);
                }
                match inst.class.find_method(name) {
                    Some(m) => {
                        if let (Some(site), Value::Function(method)) = (site, &m)
                            && let Some(shape) = inst.fields.borrow().shape()
                        {
                            site.learn(shape, method);
                        }
                        m
                    }
                    None => return Err(self.no_member(&receiver, name)),
                }
            }
            Value::Map(m) => match self.builtin_method("Map", name) {
                Some(f) => f,
                None => {
                    let v = m.entries.borrow().get(&KeyRef::Str(name)).cloned();
                    match v {
                        Some(f) => {
                            self.stack[at] = f;
                            return self.call(argc);
                        }
                        None => return Err(self.no_member(&receiver, name)),
                    }
                }
            },
            other => match self.builtin_method(other.type_name(), name) {
                Some(f) => f,
                None => return Err(self.no_member(other, name)),
            },
        };
        self.invoke_method(method, at, argc)
    }

    /// Call `method` with the receiver at `stack[at]` as `this` (or, for a builtin, as its
    /// first argument) and the `argc` arguments above it.
    fn invoke_method(&mut self, method: Value, at: usize, argc: usize) -> RtResult<Called> {
        match &method {
            Value::Function(c) => {
                // `this` is already in slot 0.
                self.push_frame(c.clone(), argc, at)?;
                Ok(Called::Frame)
            }
            Value::Native(n) => {
                // The receiver becomes the first argument.
                self.call_native(n, at, at)?;
                Ok(Called::Done)
            }
            _ => {
                self.stack[at] = method;
                self.call(argc)
            }
        }
    }
}
