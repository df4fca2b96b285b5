//! The entries of a map value: insertion-ordered, keyed by [`MapKey`].
//!
//! Most maps in scripts are small records (`{id: 1, age: 34, score: 7}`). Up to
//! [`SMALL_MAP`] entries are kept in a plain vector searched linearly: one allocation, no
//! hashing, and about a third less memory than a hash map. A larger map switches to an
//! [`OrderedMap`].

use crate::ordered::OrderedMap;
use crate::value::{KeyRef, MapKey, Value};
use std::rc::Rc;

/// Entries kept in a vector before the map grows a hash index.
pub const SMALL_MAP: usize = 8;

#[derive(Clone, Debug)]
pub enum Entries {
    Small(Vec<(MapKey, Value)>),
    /// A map literal with constant keys (`{id: i, age: a}`): the distinct keys are shared
    /// with every map the literal builds, only the values are per map. Adding a key or
    /// removing one turns it into `Small`.
    Shaped(Rc<[MapKey]>, Vec<Value>),
    /// Boxed: most maps are small, and the index would double every map's size.
    Large(Box<OrderedMap>),
}

impl Default for Entries {
    fn default() -> Entries {
        Entries::Small(Vec::new())
    }
}

impl Entries {
    pub fn with_capacity(n: usize) -> Entries {
        if n <= SMALL_MAP {
            Entries::Small(Vec::with_capacity(n))
        } else {
            Entries::Large(Box::new(OrderedMap::with_capacity(n)))
        }
    }

    /// A map of the distinct keys `keys` (at most [`SMALL_MAP`]) with `values` in order.
    pub fn shaped(keys: Rc<[MapKey]>, values: Vec<Value>) -> Entries {
        debug_assert_eq!(keys.len(), values.len());
        Entries::Shaped(keys, values)
    }

    pub fn len(&self) -> usize {
        match self {
            Entries::Small(v) => v.len(),
            Entries::Shaped(_, v) => v.len(),
            Entries::Large(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn position<'a>(mut keys: impl Iterator<Item = &'a MapKey>, key: &KeyRef) -> Option<usize> {
        keys.position(|k| KeyRef::from(k) == *key)
    }

    #[inline]
    pub fn get(&self, key: &KeyRef) -> Option<&Value> {
        match self {
            Entries::Small(v) => Self::position(v.iter().map(|(k, _)| k), key).map(|i| &v[i].1),
            Entries::Shaped(keys, v) => Self::position(keys.iter(), key).map(|i| &v[i]),
            Entries::Large(m) => m.get(key),
        }
    }

    pub fn contains_key(&self, key: &KeyRef) -> bool {
        self.get(key).is_some()
    }

    /// A shaped map as a plain small one (before a key is added or removed).
    fn unshape(&mut self) {
        if let Entries::Shaped(keys, values) = self {
            let pairs = keys.iter().cloned().zip(std::mem::take(values)).collect();
            *self = Entries::Small(pairs);
        }
    }

    /// Insert or replace (a replaced entry keeps its place); returns the old value.
    pub fn insert(&mut self, key: MapKey, value: Value) -> Option<Value> {
        match self {
            Entries::Shaped(keys, v) => {
                if let Some(i) = Self::position(keys.iter(), &KeyRef::from(&key)) {
                    return Some(std::mem::replace(&mut v[i], value));
                }
                self.unshape();
                self.insert(key, value)
            }
            Entries::Small(v) => {
                if let Some(i) = Self::position(v.iter().map(|(k, _)| k), &KeyRef::from(&key)) {
                    return Some(std::mem::replace(&mut v[i].1, value));
                }
                if v.len() < SMALL_MAP {
                    v.push((key, value));
                    return None;
                }
                let mut m = OrderedMap::with_capacity(v.len() * 2);
                m.extend(v.drain(..));
                m.insert(key, value);
                *self = Entries::Large(Box::new(m));
                None
            }
            Entries::Large(m) => m.insert(key, value),
        }
    }

    /// Remove an entry, keeping the order of the others.
    pub fn shift_remove(&mut self, key: &KeyRef) -> Option<Value> {
        match self {
            Entries::Small(v) => {
                Self::position(v.iter().map(|(k, _)| k), key).map(|i| v.remove(i).1)
            }
            Entries::Shaped(..) => {
                self.unshape();
                self.shift_remove(key)
            }
            Entries::Large(m) => m.remove(key),
        }
    }

    /// The `i`-th entry in insertion order.
    pub fn get_index(&self, i: usize) -> Option<(&MapKey, &Value)> {
        match self {
            Entries::Small(v) => v.get(i).map(|(k, v)| (k, v)),
            Entries::Shaped(keys, v) => Some((keys.get(i)?, v.get(i)?)),
            Entries::Large(m) => m.get_index(i),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&MapKey, &Value)> {
        (0..self.len()).filter_map(|i| self.get_index(i))
    }

    pub fn keys(&self) -> impl Iterator<Item = &MapKey> {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.iter().map(|(_, v)| v)
    }

    pub fn into_values(self) -> Vec<Value> {
        match self {
            Entries::Small(v) => v.into_iter().map(|(_, v)| v).collect(),
            Entries::Shaped(_, v) => v,
            Entries::Large(m) => m.into_values().collect(),
        }
    }
}

impl FromIterator<(MapKey, Value)> for Entries {
    fn from_iter<I: IntoIterator<Item = (MapKey, Value)>>(iter: I) -> Entries {
        let mut e = Entries::default();
        for (k, v) in iter {
            e.insert(k, v);
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> MapKey {
        MapKey::Str(Rc::new(crate::value::Str::new(s.to_string())))
    }

    #[test]
    fn shaped_maps_become_small_when_keys_change() {
        let keys: Rc<[MapKey]> = vec![key("a"), key("b")].into();
        let mut e = Entries::shaped(keys.clone(), vec![Value::Int(1), Value::Int(2)]);
        assert!(matches!(
            e.insert(key("b"), Value::Int(3)),
            Some(Value::Int(2))
        ));
        assert!(matches!(e, Entries::Shaped(..)));
        assert!(e.insert(key("c"), Value::Int(4)).is_none());
        assert!(matches!(e, Entries::Small(_)));
        assert_eq!(e.len(), 3);
        assert!(matches!(e.get_index(1), Some((_, Value::Int(3)))));
        let mut f = Entries::shaped(keys, vec![Value::Int(1), Value::Int(2)]);
        assert!(matches!(
            f.shift_remove(&KeyRef::Str("a")),
            Some(Value::Int(1))
        ));
        assert!(
            matches!(f.get_index(0), Some((MapKey::Str(s), Value::Int(2))) if s.as_str() == "b")
        );
    }

    #[test]
    fn small_maps_grow_into_indexed_maps_keeping_order() {
        let mut e = Entries::default();
        for i in 0..20 {
            e.insert(key(&format!("k{i}")), Value::Int(i));
            assert_eq!(e.len(), i as usize + 1);
        }
        assert!(matches!(e, Entries::Large(_)));
        e.insert(key("k3"), Value::Int(33));
        let order: Vec<String> = e
            .keys()
            .map(|k| match k {
                MapKey::Str(s) => s.as_str().to_string(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(order[3], "k3");
        assert_eq!(order.len(), 20);
        assert!(matches!(e.get(&KeyRef::Str("k3")), Some(Value::Int(33))));
        assert!(e.shift_remove(&KeyRef::Str("k0")).is_some());
        assert!(matches!(e.get_index(0), Some((MapKey::Str(s), _)) if s.as_str() == "k1"));
    }

    #[test]
    fn small_map_replace_keeps_place_and_remove_keeps_order() {
        let mut e = Entries::default();
        e.insert(MapKey::Int(1), Value::Int(1));
        e.insert(MapKey::Bool(true), Value::Int(2));
        e.insert(key("a"), Value::Int(3));
        assert_eq!(
            e.insert(MapKey::Int(1), Value::Int(9)).map(|_| ()),
            Some(())
        );
        assert!(matches!(
            e.get_index(0),
            Some((MapKey::Int(1), Value::Int(9)))
        ));
        e.shift_remove(&KeyRef::Bool(true));
        assert!(matches!(
            e.get_index(1),
            Some((MapKey::Str(_), Value::Int(3)))
        ));
        assert!(!e.contains_key(&KeyRef::Bool(true)));
    }

    #[test]
    fn removing_in_insertion_order_is_linear_overall() {
        // 100,000 removals from the front took ~27 s (release) with shift_remove; a
        // linear pass takes well under a second even in a debug build.
        let n = 100_000;
        let mut m = Entries::default();
        for i in 0..n {
            m.insert(MapKey::Int(i), Value::Int(i));
        }
        let start = std::time::Instant::now();
        for i in 0..n {
            assert!(matches!(m.shift_remove(&KeyRef::Int(i)), Some(Value::Int(v)) if v == i));
        }
        assert!(m.is_empty());
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }
}
