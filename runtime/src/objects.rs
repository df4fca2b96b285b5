//! Objects that both the VM and the heap's loader build: cells and classes (a class from
//! its compiled description and a closure for each method).

use crate::bytecode::{ClassDesc, Proto};
use crate::gc::track;
use crate::value::*;
use std::cell::RefCell;
use std::rc::Rc;

/// A cell value holding `v` (see [`cell_rc`]).
pub(crate) fn new_cell(v: Value) -> Value {
    Value::Cell(cell_rc(v))
}

/// Build a class from its compiled description: `container` is the proto whose `protos`
/// the description's indices refer to; `closure` makes each method's closure.
pub(crate) fn assemble_class(
    desc: &ClassDesc,
    container: &Proto,
    superclass: Option<Rc<Class>>,
    mut closure: impl FnMut(Rc<Proto>, Rc<Class>) -> Value,
) -> Value {
    let mut fields: Vec<Rc<str>> = superclass
        .as_ref()
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    for f in &desc.fields {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    let (empty_shape, root_shape) = crate::shape::Shape::for_class(&fields);
    let class = Rc::new(Class {
        gc: Default::default(),
        name: desc.name.clone(),
        superclass,
        fields,
        root_shape,
        empty_shape,
        defaults: RefCell::new(None),
        methods: RefCell::new(new_fields(0)),
        sql: desc.sql,
        doc: desc.doc.clone(),
        source: Some((container.source.clone(), desc.span)),
        replaced_by: RefCell::new(None),
        global: desc.global,
        init_memo: Default::default(),
    });
    // Methods (and the defaults method) see the class as their home for `super`.
    let defaults = desc
        .defaults
        .and_then(|i| container.protos.get(i as usize))
        .map(|p| closure(p.clone(), class.clone()));
    let mut methods = new_fields(desc.methods.len());
    for (name, i) in &desc.methods {
        if let Some(p) = container.protos.get(*i as usize) {
            methods.insert(name.clone(), closure(p.clone(), class.clone()));
        }
    }
    *class.methods.borrow_mut() = methods;
    *class.defaults.borrow_mut() = defaults;
    track(&class);
    Value::Class(class)
}

/// A new cell. Like a map, a cell holding a scalar or string cannot be part of a cycle:
/// it joins the cycle collector only once a container is stored in it ([`UpCell::set`]).
pub(crate) fn cell_rc(v: Value) -> Rc<UpCell> {
    let container = v.is_container();
    let rc = Rc::new(UpCell {
        gc: Default::default(),
        value: crate::value::Watched::new(v),
    });
    if container {
        rc.track_once();
    }
    rc
}
