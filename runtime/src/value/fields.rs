//! The fields of an instance: values in slots laid out by a [`Shape`], or (for an instance
//! used as a dictionary, past the shape limits) an insertion-ordered map. Either way the
//! fields keep their insertion order, which printing and storing show.

use super::{Fields, Value, new_fields};
use crate::shape::{FieldSite, Shape};
use std::rc::Rc;

pub enum InstanceFields {
    Slots {
        shape: Rc<Shape>,
        /// One value per name of `shape`, in its order.
        values: Vec<Value>,
    },
    /// Boxed: rare, and the map is more than twice the size of the slots variant, which
    /// every instance would pay for.
    Dict(Box<Fields>),
}

impl InstanceFields {
    /// Every field of `shape`, nil.
    pub fn blank(shape: &Rc<Shape>) -> InstanceFields {
        InstanceFields::Slots {
            shape: shape.clone(),
            values: vec![Value::Nil; shape.len()],
        }
    }

    /// These fields in this order: `root`'s layout when they match it, else the shapes
    /// reached from `empty` by adding them one by one.
    pub fn from_pairs(
        empty: &Rc<Shape>,
        root: &Rc<Shape>,
        pairs: Vec<(Rc<str>, Value)>,
    ) -> InstanceFields {
        if root.is_layout_of(pairs.iter().map(|(k, _)| k)) {
            return InstanceFields::Slots {
                shape: root.clone(),
                values: pairs.into_iter().map(|(_, v)| v).collect(),
            };
        }
        let mut fields = InstanceFields::Slots {
            shape: empty.clone(),
            values: Vec::new(),
        };
        for (k, v) in pairs {
            fields.insert(k, v);
        }
        fields
    }

    /// The shape, while the fields are in slots.
    #[inline]
    pub fn shape(&self) -> Option<&Rc<Shape>> {
        match self {
            InstanceFields::Slots { shape, .. } => Some(shape),
            InstanceFields::Dict(_) => None,
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            InstanceFields::Slots { shape, values } => values.get(shape.slot(name)?),
            InstanceFields::Dict(map) => map.get(name),
        }
    }

    /// The field `name`, found through `memo` (the shape and slot of the previous lookup)
    /// when these fields have that shape: a run of instances of one class, as a
    /// pipeline's batch reads them, finds the field by one compare instead of a lookup by
    /// name each.
    #[inline]
    pub fn get_memo(&self, name: &str, memo: &mut Option<(u32, usize)>) -> Option<&Value> {
        match self {
            InstanceFields::Slots { shape, values } => {
                if let Some((id, slot)) = *memo
                    && id == shape.id()
                {
                    return values.get(slot);
                }
                let slot = shape.slot(name)?;
                if shape.is_cacheable() {
                    *memo = Some((shape.id(), slot));
                }
                values.get(slot)
            }
            InstanceFields::Dict(map) => map.get(name),
        }
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            InstanceFields::Slots { shape, values } => values.get_mut(shape.slot(name)?),
            InstanceFields::Dict(map) => map.get_mut(name),
        }
    }

    /// The field a site's cache knows, if these fields have the shape it saw last.
    #[inline(always)]
    pub fn cached(&self, site: &FieldSite) -> Option<&Value> {
        match self {
            InstanceFields::Slots { shape, values } => values.get(site.slot_in(shape)?),
            InstanceFields::Dict(_) => None,
        }
    }

    /// The field a site's cache knows, to write in place.
    #[inline(always)]
    pub fn cached_mut(&mut self, site: &FieldSite) -> Option<&mut Value> {
        match self {
            InstanceFields::Slots { shape, values } => values.get_mut(site.slot_in(shape)?),
            InstanceFields::Dict(_) => None,
        }
    }

    /// `o.name = v` by what a site's cache knows: the field's slot in this shape, or the
    /// shape that adding the field leads to. `v` comes back when the cache does not know.
    #[inline(always)]
    pub fn store_cached(&mut self, site: &FieldSite, v: Value) -> Result<(), Value> {
        if let InstanceFields::Slots { shape, values } = self
            && let Some(slot) = site.slot_in(shape).and_then(|i| values.get_mut(i))
        {
            crate::vm::stack::store_value(slot, v);
            return Ok(());
        }
        self.store_grown(site, v)
    }

    /// `store_cached` of a field the instance does not have yet.
    #[inline(never)]
    fn store_grown(&mut self, site: &FieldSite, v: Value) -> Result<(), Value> {
        let InstanceFields::Slots { shape, values } = self else {
            return Err(v);
        };
        match site.grown(shape) {
            Some(next) if next.len() == values.len() + 1 => {
                *shape = next;
                values.push(v);
                Ok(())
            }
            _ => Err(v),
        }
    }

    /// Set a field, adding it last when it is new; returns the value it replaced.
    pub fn insert(&mut self, name: Rc<str>, v: Value) -> Option<Value> {
        let (shape, values) = match self {
            InstanceFields::Dict(map) => return map.insert(name, v),
            InstanceFields::Slots { shape, values } => (shape, values),
        };
        if let Some(slot) = shape.slot(&name).and_then(|i| values.get_mut(i)) {
            return Some(std::mem::replace(slot, v));
        }
        match shape.with_field(&name) {
            Some(next) => {
                *shape = next;
                values.push(v);
            }
            None => {
                let mut map = new_fields(values.len() + 1);
                let names = shape.names().iter().cloned();
                map.extend(names.zip(std::mem::take(values)));
                map.insert(name, v);
                *self = InstanceFields::Dict(Box::new(map));
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        match self {
            InstanceFields::Slots { values, .. } => values.len(),
            InstanceFields::Dict(map) => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fields in order: name and value.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            InstanceFields::Slots { shape, values } => {
                Iter::Slots(shape.names().iter().zip(values.iter()))
            }
            InstanceFields::Dict(map) => Iter::Dict(map.iter()),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &Rc<str>> {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.iter().map(|(_, v)| v)
    }

    pub fn into_values(self) -> Vec<Value> {
        match self {
            InstanceFields::Slots { values, .. } => values,
            InstanceFields::Dict(map) => map.into_values().collect(),
        }
    }

    /// Every value, taken out (for an instance being freed or cleared by the collector,
    /// which no script can reach again): no allocation, unlike replacing the fields.
    /// Afterwards no slot holds a value, so a read finds no field.
    pub fn take_values(&mut self) -> Vec<Value> {
        match self {
            InstanceFields::Slots { values, .. } => std::mem::take(values),
            InstanceFields::Dict(map) => std::mem::take(&mut **map).into_values().collect(),
        }
    }
}

pub enum Iter<'a> {
    Slots(std::iter::Zip<indexmap::set::Iter<'a, Rc<str>>, std::slice::Iter<'a, Value>>),
    Dict(indexmap::map::Iter<'a, Rc<str>, Value>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Rc<str>, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Slots(it) => it.next(),
            Iter::Dict(it) => it.next(),
        }
    }
}
