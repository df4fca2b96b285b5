//! [`Value`]: a Walia value as plain Rust data, owned by the embedding program.
//!
//! Inside an engine, values are reference-counted objects shared with each other and with
//! the heap. Whatever crosses the embedding API is copied out of them into this enum (and
//! back in when given to the engine), so the program never holds a reference into the
//! engine's objects. That is what lets an [`crate::Engine`] move to another thread (see
//! `src/entered.rs`), and it makes a value a snapshot: changing it changes nothing in the
//! engine until it is given back (`set`, `call`).

mod bridge;

pub(crate) use bridge::{attach, detach};
use std::fmt::{self, Write};
use walia_runtime::api::{format_float, quote_str};

/// A Walia value, copied out of an engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// `nil`.
    #[default]
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Value>),
    /// A map's entries in insertion order; keys are Str, Int or Bool.
    Map(Vec<(Value, Value)>),
    /// An instance of a class: its class name and fields in order. Given back to an
    /// engine it becomes a map of its fields.
    Instance {
        /// The class name.
        class: String,
        /// Field names and values, in the order they were set.
        fields: Vec<(String, Value)>,
    },
    /// A row of a table, read when it was copied: the table name and its columns in
    /// order. Given back to an engine it becomes a map of its columns.
    Row {
        /// The table name.
        table: String,
        /// Column names and values, in column order.
        fields: Vec<(String, Value)>,
    },
    /// A value with no plain-data form (a function, class, table, range or stream): its
    /// type and how it prints (`<fun add>`, `<table User (3 rows)>`, `0..10`). Given back
    /// to an engine it becomes that text.
    Other {
        /// The Walia type name (`Function`, `Table`, `Range`...).
        type_name: &'static str,
        /// The printed form.
        text: String,
    },
}

impl Value {
    /// The value's Walia type name (`Int`, `List`, `Instance`, ...), as `type_of` gives it.
    pub fn type_name(&self) -> &str {
        match self {
            Value::Nil => "Nil",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Float(_) => "Float",
            Value::Str(_) => "String",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Instance { .. } => "Instance",
            Value::Row { .. } => "Row",
            Value::Other { type_name, .. } => type_name,
        }
    }

    /// The printed form inside a container, as the REPL shows a result: strings quoted.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        write_repr(&mut out, self);
        out
    }
}

/// `{}` shows a value as `print` does: strings raw, everything else as [`Value::repr`].
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            other => f.write_str(&other.repr()),
        }
    }
}

fn write_repr(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::Str(s) => quote_str(out, s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, k);
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
        Value::Instance {
            class: name,
            fields,
        }
        | Value::Row {
            table: name,
            fields,
        } => {
            let _ = write!(out, "{name} {{");
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{k}: ");
                write_repr(out, item);
            }
            out.push('}');
        }
        Value::Other { text, .. } => out.push_str(text),
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

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
