//! Vectors of kernel values: typed when every value has one type, so operators over them
//! are plain loops.

use super::KVal;

/// A vector of values, typed when every value has the same type (the common case: a
/// column without nils, arithmetic on it), so the operators run as plain loops.
#[derive(Clone, Debug)]
pub enum Col {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Any(Vec<KVal>),
}

impl Col {
    pub fn len(&self) -> usize {
        match self {
            Col::Int(v) => v.len(),
            Col::Float(v) => v.len(),
            Col::Bool(v) => v.len(),
            Col::Any(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, j: usize) -> Option<KVal> {
        Some(match self {
            Col::Int(v) => KVal::Int(*v.get(j)?),
            Col::Float(v) => KVal::Float(*v.get(j)?),
            Col::Bool(v) => KVal::Bool(*v.get(j)?),
            Col::Any(v) => *v.get(j)?,
        })
    }

    #[inline]
    pub fn truthy(&self, j: usize) -> bool {
        match self {
            Col::Bool(v) => v.get(j).copied().unwrap_or(false),
            Col::Int(_) | Col::Float(_) => j < self.len(),
            Col::Any(v) => v.get(j).is_some_and(|k| k.is_truthy()),
        }
    }

    pub fn into_any(self) -> Vec<KVal> {
        match self {
            Col::Int(v) => v.into_iter().map(KVal::Int).collect(),
            Col::Float(v) => v.into_iter().map(KVal::Float).collect(),
            Col::Bool(v) => v.into_iter().map(KVal::Bool).collect(),
            Col::Any(v) => v,
        }
    }

    /// Typed when every value has one type.
    pub fn from_any(v: Vec<KVal>) -> Col {
        match v.first() {
            Some(KVal::Int(_)) if v.iter().all(|k| matches!(k, KVal::Int(_))) => Col::Int(
                v.into_iter()
                    .map(|k| if let KVal::Int(i) = k { i } else { 0 })
                    .collect(),
            ),
            Some(KVal::Float(_)) if v.iter().all(|k| matches!(k, KVal::Float(_))) => Col::Float(
                v.into_iter()
                    .map(|k| if let KVal::Float(f) = k { f } else { 0.0 })
                    .collect(),
            ),
            Some(KVal::Bool(_)) if v.iter().all(|k| matches!(k, KVal::Bool(_))) => Col::Bool(
                v.into_iter()
                    .map(|k| matches!(k, KVal::Bool(true)))
                    .collect(),
            ),
            _ => Col::Any(v),
        }
    }

    /// The values at indices `at` (ascending), of the same type.
    pub fn pick(&self, at: impl Iterator<Item = usize>) -> Col {
        match self {
            Col::Int(v) => Col::Int(at.map(|j| v[j]).collect()),
            Col::Float(v) => Col::Float(at.map(|j| v[j]).collect()),
            Col::Bool(v) => Col::Bool(at.map(|j| v[j]).collect()),
            Col::Any(v) => Col::Any(at.map(|j| v[j]).collect()),
        }
    }

    pub fn repeat(k: KVal, n: usize) -> Col {
        match k {
            KVal::Int(i) => Col::Int(vec![i; n]),
            KVal::Float(f) => Col::Float(vec![f; n]),
            KVal::Bool(b) => Col::Bool(vec![b; n]),
            KVal::Nil => Col::Any(vec![KVal::Nil; n]),
        }
    }
}
