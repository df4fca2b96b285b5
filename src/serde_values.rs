//! serde conversions (feature `serde`): any `Serialize` type into a Walia value, and a
//! Walia value into any `Deserialize` type. They go through serde's JSON data model, so
//! they follow the rules of `json_parse` and `json_str`: objects are maps (in field
//! order), integers that fit 64 bits are Ints, other numbers Floats; maps, instances and
//! table rows become objects, and a value with no JSON form (a function, `nan`) is an
//! error.

use crate::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use walia_runtime::api::MapKey;
use walia_runtime::{RtError, Value};

/// Values nested deeper than this (or containing themselves) are an error.
const MAX_DEPTH: usize = 500;

/// A Rust value as a Walia value.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct User { name: String, age: i64 }
/// let mut engine = walia::Engine::new();
/// let ann = walia::to_value(&User { name: "Ann".into(), age: 34 }).unwrap();
/// engine.set("ann", ann);
/// assert_eq!(engine.eval::<String>("ann.name + \" \" + str(ann.age)").unwrap(), "Ann 34");
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    let json = serde_json::to_value(value).map_err(conversion_error)?;
    walia_stdlib::from_json(json).map_err(conversion_error)
}

/// A Walia value as a Rust value.
///
/// ```
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: f64, y: f64 }
/// let mut engine = walia::Engine::new();
/// let v = engine.eval::<walia::Value>("({x: 1.5, y: 2})").unwrap();
/// assert_eq!(walia::from_value::<Point>(&v).unwrap(), Point { x: 1.5, y: 2.0 });
/// ```
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, Error> {
    serde_json::from_value(json_of(value, 0)?).map_err(conversion_error)
}

fn conversion_error(e: impl std::fmt::Display) -> Error {
    Error::Runtime(RtError::new(format!("cannot convert: {e}")))
}

fn json_of(v: &Value, depth: usize) -> Result<Json, Error> {
    if depth > MAX_DEPTH {
        return Err(conversion_error(
            "the value is nested too deeply (or contains itself)",
        ));
    }
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| conversion_error(format!("{v} has no serde form")))?,
        Value::Str(s) => Json::String(s.as_str().to_string()),
        Value::List(l) => Json::Array(
            l.items
                .borrow()
                .iter()
                .map(|item| json_of(item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => {
            let mut object = serde_json::Map::new();
            for (k, item) in m.entries.borrow().iter() {
                object.insert(key_text(k), json_of(item, depth + 1)?);
            }
            Json::Object(object)
        }
        Value::Instance(inst) => {
            let mut object = serde_json::Map::new();
            for (k, item) in inst.fields.borrow().iter() {
                object.insert(k.to_string(), json_of(item, depth + 1)?);
            }
            Json::Object(object)
        }
        Value::Row(r) => {
            let mut object = serde_json::Map::new();
            for (k, item) in walia_runtime::api::row_fields(*r).map_err(Error::Runtime)? {
                object.insert(k.to_string(), json_of(&item, depth + 1)?);
            }
            Json::Object(object)
        }
        other => {
            return Err(conversion_error(format!(
                "a {} has no serde form",
                other.type_name()
            )));
        }
    })
}

fn key_text(k: &MapKey) -> String {
    match k {
        MapKey::Str(s) => s.as_str().to_string(),
        MapKey::Int(i) => i.to_string(),
        MapKey::Bool(b) => b.to_string(),
    }
}
