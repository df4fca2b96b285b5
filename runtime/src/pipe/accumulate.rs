//! A terminal's accumulator as a value the executor can snapshot at a checkpoint and
//! restore on resume (SPEC §15: a resumed pass returns the whole pass's result).
//!
//! Scalar accumulators (`count`, `sum`, `min`, `reduce`...) are stored whole at each
//! checkpoint: they are small. Growing ones (`collect`, `group_by`, `sort_by`, `join`)
//! store only what was added since the last checkpoint, as one chunk list per
//! checkpoint, so a pass with k checkpoints writes each element once instead of k/2
//! times on average.

use crate::kernel::fold::{Fold, FoldKind, Sum};
use crate::value::Value;

/// A terminal's running state.
pub enum Acc {
    /// `count`/`run`, `sum`, `avg`.
    Fold(Fold),
    /// `min`/`max` (the best so far), `last`, `reduce`, `first`, `any`/`all` (what was found); `None` before any element.
    One(Option<Value>),
    /// `collect`: every element; those before `saved` are in stored chunks.
    Items { items: Vec<Value>, saved: usize },
    /// `group_by`, `sort_by`: `(key, element)` pairs.
    Pairs {
        pairs: Vec<(Value, Value)>,
        saved: usize,
    },
    /// `join`: the text so far, and whether an element was seen (for the separator).
    Text {
        out: String,
        any: bool,
        saved: usize,
    },
}

/// What a checkpoint stores of an accumulator: the whole scalar state, and the chunk
/// added since the last checkpoint (for growing accumulators).
pub struct AccSnapshot {
    pub state: Value,
    pub chunk: Option<Value>,
}

impl Acc {
    /// The state to store now; marks what it returns as stored.
    pub fn snapshot(&mut self) -> AccSnapshot {
        match self {
            Acc::Fold(f) => {
                let kind = match f.kind {
                    FoldKind::Count => 0,
                    FoldKind::Sum => 1,
                };
                let sum = match f.sum {
                    Sum::Int(i) => Value::Int(i),
                    // Floats are stored as their exact bits: a resumed sum is bit-identical.
                    Sum::Float(x) => Value::Float(x),
                };
                AccSnapshot {
                    state: Value::list(vec![
                        Value::Int(kind),
                        sum,
                        Value::Int(f.count.min(i64::MAX as u64) as i64),
                    ]),
                    chunk: None,
                }
            }
            Acc::One(v) => AccSnapshot {
                state: Value::list(vec![
                    Value::Bool(v.is_some()),
                    v.clone().unwrap_or_default(),
                ]),
                chunk: None,
            },
            Acc::Items { items, saved } => {
                let chunk = items.get(*saved..).unwrap_or_default().to_vec();
                *saved = items.len();
                AccSnapshot {
                    state: Value::Nil,
                    chunk: Some(Value::list(chunk)),
                }
            }
            Acc::Pairs { pairs, saved } => {
                let mut flat = Vec::with_capacity((pairs.len() - *saved) * 2);
                for (k, v) in pairs.get(*saved..).unwrap_or_default() {
                    flat.push(k.clone());
                    flat.push(v.clone());
                }
                *saved = pairs.len();
                AccSnapshot {
                    state: Value::Nil,
                    chunk: Some(Value::list(flat)),
                }
            }
            Acc::Text { out, any, saved } => {
                let piece = out.get(*saved..).unwrap_or_default().to_string();
                *saved = out.len();
                AccSnapshot {
                    state: Value::Bool(*any),
                    chunk: Some(Value::list(vec![Value::str(piece)])),
                }
            }
        }
    }

    /// Restore from a stored state and its chunks (in order); `false` when they do not
    /// fit this accumulator (a damaged or foreign cursor).
    pub fn restore(&mut self, state: &Value, chunks: &[Value]) -> bool {
        let items_of = |v: &Value| match v {
            Value::List(l) => Some(l.items.borrow().clone()),
            _ => None,
        };
        match self {
            Acc::Fold(f) => {
                let Some(s) = items_of(state) else {
                    return false;
                };
                match (s.first(), s.get(1), s.get(2)) {
                    (Some(Value::Int(_)), Some(sum), Some(Value::Int(n))) if *n >= 0 => {
                        f.sum = match sum {
                            Value::Int(i) => Sum::Int(*i),
                            Value::Float(x) => Sum::Float(*x),
                            _ => return false,
                        };
                        f.count = *n as u64;
                        true
                    }
                    _ => false,
                }
            }
            Acc::One(v) => {
                let Some(s) = items_of(state) else {
                    return false;
                };
                match (s.first(), s.get(1)) {
                    (Some(Value::Bool(true)), Some(x)) => *v = Some(x.clone()),
                    (Some(Value::Bool(false)), _) => *v = None,
                    _ => return false,
                }
                true
            }
            Acc::Items { items, saved } => {
                items.clear();
                for c in chunks {
                    let Some(part) = items_of(c) else {
                        return false;
                    };
                    items.extend(part);
                }
                *saved = items.len();
                true
            }
            Acc::Pairs { pairs, saved } => {
                pairs.clear();
                for c in chunks {
                    let Some(part) = items_of(c) else {
                        return false;
                    };
                    if part.len() % 2 != 0 {
                        return false;
                    }
                    let mut it = part.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                }
                *saved = pairs.len();
                true
            }
            Acc::Text { out, any, saved } => {
                out.clear();
                for c in chunks {
                    match items_of(c).as_deref() {
                        Some([Value::Str(s)]) => out.push_str(s.as_str()),
                        _ => return false,
                    }
                }
                *saved = out.len();
                *any = matches!(state, Value::Bool(true));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snapshot at two checkpoints, restore from the chunks: the whole accumulator comes
    /// back, each element stored once.
    #[test]
    fn growing_accumulators_store_each_element_once_and_restore_whole() {
        let mut acc = Acc::Items {
            items: vec![Value::Int(1), Value::Int(2)],
            saved: 0,
        };
        let first = acc.snapshot();
        if let Acc::Items { items, .. } = &mut acc {
            items.push(Value::Int(3));
        }
        let second = acc.snapshot();
        let chunks: Vec<Value> = [first, second]
            .into_iter()
            .filter_map(|s| s.chunk)
            .collect();
        let lens: Vec<usize> = chunks
            .iter()
            .map(|c| match c {
                Value::List(l) => l.items.borrow().len(),
                _ => 0,
            })
            .collect();
        assert_eq!(lens, vec![2, 1]);
        let mut back = Acc::Items {
            items: Vec::new(),
            saved: 0,
        };
        assert!(back.restore(&Value::Nil, &chunks));
        let Acc::Items { items, saved } = back else {
            panic!("not items")
        };
        assert_eq!(saved, 3);
        assert!(matches!(
            items.as_slice(),
            [Value::Int(1), Value::Int(2), Value::Int(3)]
        ));
    }

    #[test]
    fn a_float_sum_restores_bit_for_bit() {
        let mut fold = Fold::new(FoldKind::Sum);
        fold.sum = Sum::Float(0.1 + 0.2);
        fold.count = 7;
        let snap = Acc::Fold(fold).snapshot();
        let mut back = Acc::Fold(Fold::new(FoldKind::Sum));
        assert!(back.restore(&snap.state, &[]));
        let Acc::Fold(f) = back else {
            panic!("not a fold")
        };
        assert_eq!(f.sum, Sum::Float(0.1 + 0.2));
        assert_eq!(f.count, 7);
    }

    #[test]
    fn pairs_and_text_round_trip_and_bad_state_is_refused() {
        let mut acc = Acc::Pairs {
            pairs: vec![(Value::str("k"), Value::Int(1))],
            saved: 0,
        };
        let c = acc.snapshot().chunk.into_iter().collect::<Vec<_>>();
        let mut back = Acc::Pairs {
            pairs: Vec::new(),
            saved: 0,
        };
        assert!(back.restore(&Value::Nil, &c));
        assert!(matches!(back, Acc::Pairs { ref pairs, .. } if pairs.len() == 1));
        let mut text = Acc::Text {
            out: "a,b".into(),
            any: true,
            saved: 0,
        };
        let s = text.snapshot();
        let mut back = Acc::Text {
            out: String::new(),
            any: false,
            saved: 0,
        };
        assert!(back.restore(&s.state, &s.chunk.into_iter().collect::<Vec<_>>()));
        assert!(matches!(back, Acc::Text { ref out, any: true, .. } if out == "a,b"));
        // A one-value state given to a fold does not fit.
        let one = Acc::One(Some(Value::Int(3))).snapshot();
        assert!(!Acc::Fold(Fold::new(FoldKind::Count)).restore(&one.state, &[]));
    }
}
