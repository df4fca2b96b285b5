//! The names that may follow `receiver.`, for the REPL's tab completion.

use crate::value::{Class, MapKey, Value};
use crate::vm::Vm;
use std::rc::Rc;

/// Most classes walked up a superclass chain (chains can be thousands long).
const MAX_CLASS_CHAIN: usize = 10_000;

impl Vm {
    /// The names that may follow `path.`, where `path` is a global and then field names
    /// (`["xs"]`, `["db", "users"]`): an instance's fields and methods, a map's string keys
    /// and methods, a row's columns and its class's methods, the tables after `db`, a
    /// table's methods and its columns, the methods of any other built-in type. Reads
    /// fields only (nothing runs); a path that does not resolve has no names. Sorted.
    pub fn member_names(&mut self, path: &[&str]) -> Vec<String> {
        let Some((first, rest)) = path.split_first() else {
            return Vec::new();
        };
        let Ok(Some(mut value)) = self.global_or_stored(first) else {
            return Vec::new();
        };
        for name in rest {
            match self.get_field(&value, name) {
                Ok(v) => value = v,
                Err(_) => return Vec::new(),
            }
        }
        let mut names = self.members_of(&value);
        names.retain(|n| !n.starts_with("__"));
        names.sort();
        names.dedup();
        names
    }

    fn members_of(&mut self, value: &Value) -> Vec<String> {
        let mut names = Vec::new();
        match value {
            Value::Instance(inst) => {
                if let Ok(fields) = inst.fields.try_borrow() {
                    names.extend(fields.keys().map(|k| k.to_string()));
                }
                names.extend(class_methods(&inst.class));
            }
            Value::Map(m) => {
                if let Ok(entries) = m.entries.try_borrow() {
                    names.extend(entries.iter().filter_map(|(k, _)| match k {
                        MapKey::Str(s) => Some(s.as_str().to_string()),
                        _ => None,
                    }));
                }
                names.extend(self.builtin_methods("Map"));
            }
            Value::Row(r) => {
                if let Ok(columns) = self.table_columns(r.table) {
                    names.extend(columns.iter().map(|c| c.to_string()));
                }
                let table = crate::db::handle::table_name(r.table);
                if let Ok(Some(Value::Class(c))) = self.global_or_stored(&table) {
                    names.extend(class_methods(&c));
                }
            }
            Value::Db => names.extend(self.table_names().unwrap_or_default()),
            Value::Table(t) => {
                // The columns too, as a reminder of the schema (`db.users.` then shows what
                // a row has).
                if let Ok(columns) = self.table_columns(*t) {
                    names.extend(columns.iter().map(|c| c.to_string()));
                }
                names.extend(self.builtin_methods("Table"));
            }
            other => names.extend(self.builtin_methods(other.type_name())),
        }
        names
    }

    /// The names of the methods of a built-in type (`type_of` spelling).
    pub fn builtin_methods(&self, type_name: &str) -> Vec<String> {
        self.methods
            .get(type_name)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The methods of a class and its superclasses, as their newest declarations have them.
fn class_methods(class: &Rc<Class>) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = Some(class.current());
    for _ in 0..MAX_CLASS_CHAIN {
        let Some(c) = at else { break };
        names.extend(c.methods.borrow().keys().map(|k| k.to_string()));
        at = c.superclass.as_ref().map(|s| s.current());
    }
    names
}
