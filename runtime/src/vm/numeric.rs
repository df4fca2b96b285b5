//! The fast path of the arithmetic and comparison instructions: two numbers (Int, Float
//! or one of each) in, a number or a Bool out, by exactly the rules of `crate::ops`. Any
//! other operands, and any case that would raise an error (overflow, division by zero),
//! return `None`, and the instruction takes the general path, which reports it.

use crate::arith::{cmp_int_float, float_mod, int_mod};
use crate::bytecode::BinKind;
use crate::ops;
use crate::value::Value;
use crate::vm::stack::discard;
use std::cmp::Ordering;

/// The result of a numeric fast path.
#[derive(Clone, Copy)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Num {
    /// Write the result into a slot, only the payload when the slot already holds a value
    /// of the same type (a whole 16-byte store after a part store stalls the next load).
    #[inline(always)]
    pub(crate) fn store(self, slot: &mut Value) {
        match (self, &mut *slot) {
            (Num::Int(r), Value::Int(x)) => *x = r,
            (Num::Float(r), Value::Float(x)) => *x = r,
            (Num::Bool(r), Value::Bool(x)) => *x = r,
            (r, _) => discard(std::mem::replace(slot, r.value())),
        }
    }

    /// A number or Bool value as its payload.
    #[inline(always)]
    pub(crate) fn of(v: &Value) -> Option<Num> {
        match v {
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Float(f) => Some(Num::Float(*f)),
            Value::Bool(b) => Some(Num::Bool(*b)),
            _ => None,
        }
    }

    #[inline(always)]
    pub(crate) fn value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Float(f) => Value::Float(f),
            Num::Bool(b) => Value::Bool(b),
        }
    }

    /// Push the result, built in place (see the `push!` macro of the dispatch loop).
    #[inline(always)]
    pub(crate) fn push(self, stack: &mut Vec<Value>) {
        match self {
            Num::Int(i) => stack.push(Value::Int(i)),
            Num::Float(f) => stack.push(Value::Float(f)),
            Num::Bool(b) => stack.push(Value::Bool(b)),
        }
    }

    /// As a condition: only a comparison's `false` is falsy among numeric results.
    #[inline(always)]
    pub(crate) fn truthy(self) -> bool {
        !matches!(self, Num::Bool(false))
    }
}

/// The numeric constant `consts[k]` of a fused instruction (nil, never a number, if the
/// index is out of range).
#[inline(always)]
pub(crate) fn constant(consts: &[Value], k: u32) -> &Value {
    consts.get(k as usize).unwrap_or(&Value::Nil)
}

/// `$sink` run on the result of `a op b` (as [`binary`] gives it), expanded once for each
/// pair of operand types: with a constant operator each copy knows the variant of its
/// result and writes the payload straight where it goes. A shared copy would merge Int and
/// Float payloads through a temporary in memory, one more store-to-load on every
/// arithmetic instruction's critical path. Evaluates to whether the sink ran (`false`: not
/// two numbers, or the general operator must report an error).
macro_rules! with_binary {
    ($kind:expr, $a:expr, $b:expr, |$r:ident| $sink:expr) => {{
        use $crate::value::Value as V;
        use $crate::vm::numeric::{self as n, sink_some};
        match ($a, $b) {
            (V::Int(x), V::Int(y)) => {
                let (x, y) = (*x, *y);
                sink_some!(n::int_binary($kind, x, y), |$r| $sink)
            }
            (V::Float(x), V::Float(y)) => {
                let (x, y) = (*x, *y);
                sink_some!(n::float_binary($kind, x, y), |$r| $sink)
            }
            (V::Int(x), V::Float(y)) => {
                let (x, y) = (*x, *y);
                sink_some!(n::mixed($kind, x, y, false), |$r| $sink)
            }
            (V::Float(x), V::Int(y)) => {
                let (x, y) = (*x, *y);
                sink_some!(n::mixed($kind, y, x, true), |$r| $sink)
            }
            _ => false,
        }
    }};
}
/// One branch of [`with_binary`]: the sink run on a result, or `false` for none.
macro_rules! sink_some {
    ($result:expr, |$r:ident| $sink:expr) => {
        match $result {
            Some($r) => {
                $sink;
                true
            }
            None => false,
        }
    };
}
pub(crate) use sink_some;
pub(crate) use with_binary;

/// `a op b` when both are numbers and the result is not an error.
#[inline(always)]
pub(crate) fn binary(kind: BinKind, a: &Value, b: &Value) -> Option<Num> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_binary(kind, *x, *y),
        (Value::Float(x), Value::Float(y)) => float_binary(kind, *x, *y),
        (Value::Int(x), Value::Float(y)) => mixed(kind, *x, *y, false),
        (Value::Float(x), Value::Int(y)) => mixed(kind, *y, *x, true),
        _ => None,
    }
}

#[inline(always)]
pub(crate) fn int_binary(kind: BinKind, x: i64, y: i64) -> Option<Num> {
    use BinKind as K;
    if let Some(r) = ops::int_arith(kind, x, y) {
        return Some(Num::Int(r));
    }
    match kind {
        K::Lt | K::Le | K::Gt | K::Ge | K::Eq | K::Ne => {
            Some(Num::Bool(ops::int_compare(kind, x, y)))
        }
        K::Mod => int_mod(x, y).map(Num::Int),
        K::Div if y != 0 => Some(Num::Float(x as f64 / y as f64)),
        _ => None,
    }
}

#[inline(always)]
pub(crate) fn float_binary(kind: BinKind, x: f64, y: f64) -> Option<Num> {
    use BinKind as K;
    Some(match kind {
        K::Add => Num::Float(x + y),
        K::Sub => Num::Float(x - y),
        K::Mul => Num::Float(x * y),
        K::Div if y != 0.0 => Num::Float(x / y),
        K::Mod => return float_mod(x, y).map(Num::Float),
        K::Lt => Num::Bool(x < y),
        K::Le => Num::Bool(x <= y),
        K::Gt => Num::Bool(x > y),
        K::Ge => Num::Bool(x >= y),
        K::Eq => Num::Bool(x == y),
        K::Ne => Num::Bool(x != y),
        _ => return None,
    })
}

/// An Int and a Float: arithmetic in Floats, comparisons exact (`swapped`: the Float is
/// the left operand).
#[inline(always)]
pub(crate) fn mixed(kind: BinKind, i: i64, f: f64, swapped: bool) -> Option<Num> {
    use BinKind as K;
    match kind {
        K::Lt | K::Le | K::Gt | K::Ge | K::Eq | K::Ne => {
            let o = cmp_int_float(i, f).map(|o| if swapped { o.reverse() } else { o });
            Some(Num::Bool(match kind {
                K::Lt => o == Some(Ordering::Less),
                K::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                K::Gt => o == Some(Ordering::Greater),
                K::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
                K::Eq => o == Some(Ordering::Equal),
                _ => o != Some(Ordering::Equal),
            }))
        }
        _ if swapped => float_binary(kind, f, i as f64),
        _ => float_binary(kind, i as f64, f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operator on every pair of numeric operands gives what the general operator
    /// gives (or declines).
    #[test]
    fn the_fast_path_agrees_with_the_general_operators() {
        use BinKind as K;
        let values = [
            Value::Int(0),
            Value::Int(7),
            Value::Int(-3),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Int(1 << 60),
            Value::Float(0.0),
            Value::Float(-0.0),
            Value::Float(2.5),
            Value::Float(-7.0),
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::Float(1152921504606846976.0),
        ];
        let kinds = [
            K::Add,
            K::Sub,
            K::Mul,
            K::Div,
            K::Mod,
            K::IntDiv,
            K::Lt,
            K::Le,
            K::Gt,
            K::Ge,
            K::Eq,
            K::Ne,
            K::BitAnd,
            K::Shl,
        ];
        for kind in kinds {
            for a in &values {
                for b in &values {
                    let Some(fast) = binary(kind, a, b) else {
                        continue;
                    };
                    let general = ops::binary(kind, a, b).expect("the general path agrees");
                    let same = match (fast.value(), &general) {
                        (Value::Float(x), Value::Float(y)) => {
                            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
                        }
                        (Value::Int(x), Value::Int(y)) => x == *y,
                        (Value::Bool(x), Value::Bool(y)) => x == *y,
                        _ => false,
                    };
                    assert!(
                        same,
                        "{kind:?} {} {}",
                        crate::print::repr(a),
                        crate::print::repr(b)
                    );
                }
            }
        }
    }
}
