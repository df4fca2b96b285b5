//! serde conversions (feature `serde`): any `Serialize` type into a [`Value`], and a
//! [`Value`] into any `Deserialize` type. They go through serde's JSON data model, so
//! they follow the rules of `json_parse` and `json_str`: objects are maps (in field
//! order), integers that fit 64 bits are Ints, other numbers Floats; maps and records
//! (instances, table rows) become objects, and a value with no JSON form (a function,
//! `nan`) is an error.

use crate::{Error, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use walia_runtime::RtError;

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
    value_of(serde_json::to_value(value).map_err(conversion_error)?)
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
    serde_json::from_value(json_of(value)?).map_err(conversion_error)
}

fn conversion_error(e: impl std::fmt::Display) -> Error {
    Error::Runtime(RtError::new(format!("cannot convert: {e}")))
}

/// serde_json's own recursion limit bounds the depth of what it builds.
fn value_of(j: Json) -> Result<Value, Error> {
    Ok(match j {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None if n.is_u64() => {
                return Err(conversion_error(format!("{n} does not fit in 64 bits")));
            }
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s),
        Json::Array(items) => {
            Value::List(items.into_iter().map(value_of).collect::<Result<_, _>>()?)
        }
        Json::Object(object) => Value::Map(
            object
                .into_iter()
                .map(|(k, v)| Ok((Value::Str(k), value_of(v)?)))
                .collect::<Result<_, Error>>()?,
        ),
    })
}

fn json_of(v: &Value) -> Result<Json, Error> {
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| conversion_error(format!("{v} has no serde form")))?,
        Value::Str(s) => Json::String(s.clone()),
        Value::List(items) => Json::Array(items.iter().map(json_of).collect::<Result<_, _>>()?),
        Value::Map(entries) => {
            let mut object = serde_json::Map::new();
            for (k, item) in entries {
                let key = match k {
                    Value::Str(s) => s.clone(),
                    other => other.to_string(),
                };
                object.insert(key, json_of(item)?);
            }
            Json::Object(object)
        }
        Value::Instance { fields, .. } | Value::Row { fields, .. } => {
            let mut object = serde_json::Map::new();
            for (k, item) in fields {
                object.insert(k.clone(), json_of(item)?);
            }
            Json::Object(object)
        }
        Value::Other { type_name, .. } => {
            return Err(conversion_error(format!("a {type_name} has no serde form")));
        }
    })
}
