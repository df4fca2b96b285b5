//! Copying values out of an engine's objects and back in. Both run with the engine's
//! registries installed (a row's fields are read through the table registry, a new list
//! is registered with the engine's collector).

use super::Value;
use std::rc::Rc;
use walia_runtime::Value as Live;
use walia_runtime::api::{MapKey, Str, new_entries, repr, row_fields};

/// Containers nested deeper than this (or containing themselves) copy as `Other("...")`,
/// as printing shows them.
const MAX_DEPTH: usize = 500;

fn other(v: &Live, text: impl Into<String>) -> Value {
    Value::Other {
        type_name: v.type_name(),
        text: text.into(),
    }
}

/// A plain-data copy of an engine value.
pub(crate) fn detach(v: &Live) -> Value {
    let mut open = Vec::new();
    copy_out(v, &mut open)
}

/// `open`: the containers being copied, outermost first (a cycle shows as `[...]`).
fn copy_out(v: &Live, open: &mut Vec<usize>) -> Value {
    if open.len() > MAX_DEPTH {
        return other(v, "...");
    }
    match v {
        Live::Nil | Live::Undefined => Value::Nil,
        Live::Bool(b) => Value::Bool(*b),
        Live::Int(i) => Value::Int(*i),
        Live::Float(f) => Value::Float(*f),
        Live::Str(s) => Value::Str(s.as_str().to_string()),
        Live::Cell(c) => match c.value.try_borrow() {
            Ok(inner) => copy_out(&inner, open),
            Err(_) => Value::Nil,
        },
        Live::List(l) => {
            let id = Rc::as_ptr(l) as usize;
            if open.contains(&id) {
                return other(v, "[...]");
            }
            let Ok(items) = l.items.try_borrow() else {
                return Value::List(Vec::new());
            };
            open.push(id);
            let copied = items.iter().map(|item| copy_out(item, open)).collect();
            open.pop();
            Value::List(copied)
        }
        Live::Map(m) => {
            let id = Rc::as_ptr(m) as usize;
            if open.contains(&id) {
                return other(v, "{...}");
            }
            let Ok(entries) = m.entries.try_borrow() else {
                return Value::Map(Vec::new());
            };
            open.push(id);
            let copied = entries
                .iter()
                .map(|(k, item)| (copy_out(&k.to_value(), open), copy_out(item, open)))
                .collect();
            open.pop();
            Value::Map(copied)
        }
        Live::Instance(inst) => {
            let id = Rc::as_ptr(inst) as usize;
            let name = inst.class.name.to_string();
            if open.contains(&id) {
                return other(v, format!("{name} {{...}}"));
            }
            let Ok(fields) = inst.fields.try_borrow() else {
                return Value::Instance {
                    class: name,
                    fields: Vec::new(),
                };
            };
            open.push(id);
            let fields = fields
                .iter()
                .map(|(k, item)| (k.to_string(), copy_out(item, open)))
                .collect();
            open.pop();
            Value::Instance {
                class: name,
                fields,
            }
        }
        Live::Row(r) => match row_fields(*r) {
            Ok(fields) => Value::Row {
                table: walia_runtime::api::table_name(r.table).to_string(),
                fields: fields
                    .iter()
                    .map(|(k, item)| (k.to_string(), copy_out(item, open)))
                    .collect(),
            },
            Err(_) => other(v, repr(v)),
        },
        _ => other(v, repr(v)),
    }
}

/// An engine value holding a copy of `v`.
pub(crate) fn attach(v: Value) -> Live {
    match v {
        Value::Nil => Live::Nil,
        Value::Bool(b) => Live::Bool(b),
        Value::Int(i) => Live::Int(i),
        Value::Float(f) => Live::Float(f),
        Value::Str(s) | Value::Other { text: s, .. } => Live::str(s),
        Value::List(items) => Live::list(items.into_iter().map(attach).collect()),
        Value::Map(entries) => map_of(entries.into_iter()),
        Value::Instance { fields, .. } | Value::Row { fields, .. } => {
            map_of(fields.into_iter().map(|(k, item)| (Value::Str(k), item)))
        }
    }
}

fn map_of(entries: impl ExactSizeIterator<Item = (Value, Value)>) -> Live {
    let mut out = new_entries(entries.len());
    for (k, item) in entries {
        let key = attach(k);
        let key = MapKey::from_value(&key)
            .unwrap_or_else(|_| MapKey::Str(Rc::new(Str::new(walia_runtime::api::display(&key)))));
        out.insert(key, attach(item));
    }
    Live::map(out)
}
