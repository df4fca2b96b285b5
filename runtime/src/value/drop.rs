//! Freeing values without recursion (the `Drop` implementations of the object types).

use super::{BoundMethod, Class, Closure, Instance, List, Map, UpCell, Value};
use crate::gc::{Collectable, untrack};
use crate::pipe::{Pipeline, Stage};
use std::rc::Rc;

// Dropping a deeply nested value the default way recurses once per level and can overflow
// the Rust stack (a list nested 300,000 deep). Containers instead hand their contents to
// `drop_iteratively`, which unpacks the uniquely owned containers it finds with a work list.

fn drop_iteratively(work: Vec<Value>) {
    // A value freed outside the work list (by drop glue) can start another work list:
    // those nestings are few, and guarded all the same.
    walia_lang::stack::guarded(|| drain_drops(work));
}

/// The object itself when this is its last reference, out of the collector's registry
/// first: moved out of its `Rc`, it would no longer be at the address its entry names.
fn unwrap_last<T: Collectable>(rc: Rc<T>) -> Option<T> {
    if Rc::strong_count(&rc) != 1 {
        return None;
    }
    untrack(&*rc);
    Rc::try_unwrap(rc).ok()
}

fn drain_drops(mut work: Vec<Value>) {
    while let Some(v) = work.pop() {
        match v {
            Value::List(rc) => {
                if let Some(mut list) = unwrap_last(rc) {
                    work.append(&mut list.items.take());
                }
            }
            Value::Map(rc) => {
                if let Some(mut map) = unwrap_last(rc) {
                    work.extend(map.entries.take().into_values());
                }
            }
            Value::Instance(rc) => {
                if let Some(mut inst) = unwrap_last(rc) {
                    work.append(&mut inst.fields.get_mut().take_values());
                    // A class this instance alone holds is freed here, not by its drop glue.
                    if Rc::strong_count(&inst.class) == 1 {
                        work.push(Value::Class(inst.class.clone()));
                    }
                }
            }
            Value::Bound(rc) => {
                if let Some(mut bound) = unwrap_last(rc) {
                    work.push(std::mem::take(&mut bound.receiver));
                    work.push(std::mem::take(&mut bound.method));
                }
            }
            Value::Stream(rc) => {
                if let Some(mut pipeline) = unwrap_last(rc) {
                    work.push(std::mem::take(&mut pipeline.source));
                    let stages = std::mem::take(&mut pipeline.stages);
                    work.extend(stages.into_iter().filter_map(Stage::into_value));
                }
            }
            Value::Cell(rc) => {
                if let Some(mut cell) = unwrap_last(rc) {
                    work.push(cell.value.take());
                }
            }
            Value::Class(rc) => {
                if let Some(mut class) = unwrap_last(rc) {
                    work.extend(class.take_links());
                }
            }
            Value::Function(rc) => {
                if let Some(mut closure) = unwrap_last(rc) {
                    let upvalues = std::mem::take(&mut closure.upvalues);
                    work.extend(closure.home.take().and_then(last_reference));
                    drop(closure);
                    for up in upvalues {
                        // A cell only this closure used holds a scalar more often than not:
                        // free it here rather than through the work list.
                        match up {
                            Value::Cell(cell) => {
                                if let Some(mut cell) = unwrap_last(cell) {
                                    let v = cell.value.take();
                                    if v.is_container() {
                                        work.push(v);
                                    }
                                }
                            }
                            v if v.is_container() => work.push(v),
                            v => drop(v),
                        }
                    }
                }
            }
            other => drop(other),
        }
    }
}

fn drop_contents(values: Vec<Value>) {
    if values.iter().any(Value::is_container) {
        drop_iteratively(values);
    }
}

impl Drop for List {
    fn drop(&mut self) {
        untrack(self);
        drop_contents(self.items.take());
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        untrack(self);
        let entries = self.entries.take();
        if entries.values().any(Value::is_container) {
            drop_iteratively(entries.into_values());
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        untrack(self);
        drop_contents(self.fields.get_mut().take_values());
    }
}

impl Drop for Closure {
    fn drop(&mut self) {
        untrack(self);
        // Captured copies can chain closures arbitrarily deep (`f = () => g` in a loop).
        let last_home = self.home.as_ref().is_some_and(|h| Rc::strong_count(h) == 1);
        if last_home || self.upvalues.iter().any(Value::is_container) {
            let mut work = std::mem::take(&mut self.upvalues).into_vec();
            work.extend(self.home.take().and_then(last_reference));
            drop_iteratively(work);
        }
    }
}

/// A class to free through the work list when this is its last reference (a shared one
/// is only released).
fn last_reference(class: Rc<Class>) -> Option<Value> {
    (Rc::strong_count(&class) == 1).then(|| Value::Class(class))
}

impl Class {
    /// What a class holds that can lead to more classes: superclass, methods, the newer
    /// declaration (subclass chains and classes capturing classes run thousands deep).
    fn take_links(&mut self) -> Vec<Value> {
        let mut links: Vec<Value> = std::mem::take(self.methods.get_mut())
            .into_values()
            .collect();
        links.extend(self.defaults.get_mut().take());
        links.extend(self.superclass.take().map(Value::Class));
        links.extend(self.replaced_by.get_mut().take().map(Value::Class));
        links
    }
}

impl Drop for Class {
    fn drop(&mut self) {
        untrack(self);
        let links = self.take_links();
        if !links.is_empty() {
            drop_iteratively(links);
        }
    }
}

impl Drop for UpCell {
    fn drop(&mut self) {
        untrack(self);
        let v = self.value.take();
        if v.is_container() {
            drop_iteratively(vec![v]);
        }
    }
}

impl Drop for BoundMethod {
    fn drop(&mut self) {
        untrack(self);
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        untrack(self);
    }
}
