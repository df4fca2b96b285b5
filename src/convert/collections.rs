//! Lists and maps: `Vec<T>` is a List, `HashMap`/`BTreeMap` a Map. Map keys convert like
//! values (String, Int, Bool keys); a Rust key with no Walia key form (a Float) is stored
//! under its printed text. A `HashMap` has no order, so its Walia map's insertion order is
//! the `HashMap`'s iteration order; a `BTreeMap` gives sorted keys.

use super::{FromValue, IntoValue};
use crate::Value;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

impl<T: FromValue> FromValue for Vec<T> {
    const TYPE: &'static str = "List";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::List(items) => items.iter().map(T::from_value).collect(),
            _ => None,
        }
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(T::into_value).collect())
    }
}

/// Every entry of a Walia map, keys and values converted; `None` when `v` is not a map or
/// an entry does not convert.
fn entries<K: FromValue, V: FromValue>(v: &Value) -> Option<Vec<(K, V)>> {
    let Value::Map(entries) = v else { return None };
    entries
        .iter()
        .map(|(k, v)| Some((K::from_value(k)?, V::from_value(v)?)))
        .collect()
}

fn map_of<K: IntoValue, V: IntoValue>(pairs: impl Iterator<Item = (K, V)>) -> Value {
    Value::Map(
        pairs
            .map(|(k, v)| (k.into_value(), v.into_value()))
            .collect(),
    )
}

impl<K, V, S> FromValue for HashMap<K, V, S>
where
    K: FromValue + Eq + Hash,
    V: FromValue,
    S: BuildHasher + Default,
{
    const TYPE: &'static str = "Map";
    fn from_value(v: &Value) -> Option<Self> {
        Some(entries(v)?.into_iter().collect())
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    const TYPE: &'static str = "Map";
    fn from_value(v: &Value) -> Option<Self> {
        Some(entries(v)?.into_iter().collect())
    }
}

impl<K: IntoValue, V: IntoValue, S> IntoValue for HashMap<K, V, S> {
    fn into_value(self) -> Value {
        map_of(self.into_iter())
    }
}

impl<K: IntoValue, V: IntoValue> IntoValue for BTreeMap<K, V> {
    fn into_value(self) -> Value {
        map_of(self.into_iter())
    }
}
