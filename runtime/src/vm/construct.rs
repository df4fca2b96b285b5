//! Constructor calls: a new instance of a class, its field defaults, its `init` or the
//! arguments stored in its declared fields.

use super::{Called, Vm, arity_error};
use crate::error::{RtError, RtResult};
use crate::value::{Class, InstanceFields, Value};
use std::rc::Rc;

impl Vm {
    /// A new instance with every field at its default (superclass defaults first), before
    /// any `init`.
    pub(crate) fn blank_instance(&mut self, class: &Rc<Class>) -> RtResult<Value> {
        let fields = InstanceFields::blank(&class.root_shape);
        let inst = Value::instance(class.clone(), fields);
        // Most classes have no defaults anywhere up their chain: no list of it to build.
        if !defaults_up_chain(class) {
            return Ok(inst);
        }
        let mut chain = Vec::new();
        let mut c = Some(class.clone());
        while let Some(k) = c {
            c = k.superclass.clone();
            chain.push(k);
        }
        for k in chain.iter().rev() {
            let defaults = k.defaults.borrow().clone();
            if let Some(d) = defaults {
                self.call_method(&inst, &d, &[])?;
            }
        }
        Ok(inst)
    }

    pub(crate) fn construct(
        &mut self,
        class: Rc<Class>,
        argc: usize,
        callee_at: usize,
    ) -> RtResult<Called> {
        // Without defaults, making the blank instance has no effect a script can see: it
        // is made when needed, and with the arguments already in its fields.
        let inst = match defaults_up_chain(&class) {
            true => Some(self.blank_instance(&class)?),
            false => None,
        };
        if let Some(Value::Function(init)) = class.init_method() {
            if init.proto.arity as usize != argc {
                // Name the class the script called, not its `init`.
                return Err(arity_error(&class.name, init.proto.arity as usize, argc));
            }
            let blank = || InstanceFields::blank(&class.root_shape);
            let inst = inst.unwrap_or_else(|| Value::instance(class.clone(), blank()));
            self.stack[callee_at] = inst;
            self.push_frame(init, argc, callee_at)?;
            return Ok(Called::Frame);
        }
        if argc > class.fields.len() {
            return Err(RtError::new(format!(
                "'{}' expects at most {} argument{} but got {argc}",
                class.name,
                class.fields.len(),
                if class.fields.len() == 1 { "" } else { "s" }
            )));
        }
        // The arguments move from the stack straight into the fields (no list of them).
        let args = self.stack.get_mut(callee_at + 1..).unwrap_or_default();
        let inst = match inst {
            Some(inst) => inst,
            None => {
                let shape = &class.root_shape;
                let mut values = Vec::with_capacity(shape.len());
                values.extend(args.iter_mut().take(shape.len()).map(std::mem::take));
                values.resize(shape.len(), Value::Nil);
                let fields = InstanceFields::Slots {
                    shape: shape.clone(),
                    values,
                };
                self.stack.truncate(callee_at + 1);
                self.stack[callee_at] = Value::instance(class, fields);
                return Ok(Called::Done);
            }
        };
        if let Value::Instance(i) = &inst {
            let mut f = i.fields.borrow_mut();
            match &mut *f {
                // Still the class's layout: the arguments go to the first slots.
                InstanceFields::Slots { shape, values } if Rc::ptr_eq(shape, &class.root_shape) => {
                    for (slot, v) in values.iter_mut().zip(args) {
                        *slot = std::mem::take(v);
                    }
                }
                _ => {
                    for (name, v) in class.fields.iter().zip(args) {
                        f.insert(name.clone(), std::mem::take(v));
                    }
                }
            }
        }
        self.stack.truncate(callee_at + 1);
        self.stack[callee_at] = inst;
        Ok(Called::Done)
    }
}

/// Does this class or a superclass set field defaults (run a method on a new instance)?
fn defaults_up_chain(class: &Rc<Class>) -> bool {
    let mut c = Some(class);
    while let Some(k) = c {
        if k.defaults.borrow().is_some() {
            return true;
        }
        c = k.superclass.as_ref();
    }
    false
}
