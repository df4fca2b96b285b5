//! `x = x + e` on a string or list that only `x` holds: the value grows in place, so a
//! loop building a string or list this way is amortized linear (CPython does the same for
//! strings), where a new copy each time would be quadratic.

use crate::bytecode::BinKind;
use crate::error::RtResult;
use crate::ops;
use crate::value::Value;
use crate::vm::numeric;
use crate::vm::stack::discard;
use std::rc::Rc;

/// Store `lhs + rhs` into `slot`, where `lhs` is what was read from `slot` before `rhs`
/// was evaluated. When the slot still holds that very string (or list), and the slot and
/// `lhs` are its only references, nobody can see the old value again: append in place.
pub(crate) fn add_set(slot: &mut Value, lhs: Value, rhs: &Value) -> RtResult<()> {
    let unique = match (&lhs, &*slot) {
        (Value::Str(a), Value::Str(b)) => Rc::ptr_eq(a, b) && Rc::strong_count(a) == 2,
        (Value::List(a), Value::List(b)) => {
            Rc::ptr_eq(a, b) && Rc::strong_count(a) == 2 && matches!(rhs, Value::List(_))
        }
        _ => false,
    };
    if unique {
        drop(lhs);
        return match (&*slot, rhs) {
            (Value::List(l), Value::List(r)) => append_list(l, r),
            _ => ops::add_assign(slot, rhs),
        };
    }
    match numeric::binary(BinKind::Add, &lhs, rhs) {
        Some(n) => n.store(slot),
        None => {
            let r = ops::add(&lhs, rhs)?;
            discard(std::mem::replace(slot, r));
        }
    }
    Ok(())
}

/// Append the elements of `tail` to `list` (its only holder is the variable being
/// assigned), under the memory limit. `tail` is another list: `l = l + l` has two
/// references to `l` on the stack and never gets here.
fn append_list(list: &crate::value::List, tail: &crate::value::List) -> RtResult<()> {
    let extra: Vec<Value> = tail.items.borrow().iter().cloned().collect();
    let mut items = list.items.borrow_mut();
    crate::limits::reserve(&mut *items, extra.len())?;
    items.extend(extra);
    Ok(())
}
