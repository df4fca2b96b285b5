//! Rust's number types and `char`. Every integer type converts from an Int in its range
//! (out of range is a conversion error, never a wrap); Ints convert into Floats, as in
//! Walia arithmetic. Into Walia, integers wider than i64 (`u64`, `usize` above
//! `i64::MAX`) become Floats, the nearest Walia number.

use super::{FromValue, IntoValue};
use crate::Value;

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            const TYPE: &'static str = concat!("Int (", stringify!($t), ")");
            fn from_value(v: &Value) -> Option<Self> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
integers!(i8, i16, i32, u8, u16, u32, u64, usize, isize);

impl FromValue for i64 {
    const TYPE: &'static str = "Int";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromValue for f64 {
    const TYPE: &'static str = "Float";
    fn from_value(v: &Value) -> Option<Self> {
        as_f64(v)
    }
}

impl FromValue for f32 {
    const TYPE: &'static str = "Float";
    fn from_value(v: &Value) -> Option<Self> {
        as_f64(v).map(|f| f as f32)
    }
}

impl FromValue for char {
    const TYPE: &'static str = "String of one character";
    fn from_value(v: &Value) -> Option<Self> {
        let Value::Str(s) = v else { return None };
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }
}

macro_rules! lossless_integers {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Int(i64::from(self))
            }
        }
    )*};
}
lossless_integers!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_integers {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                i64::try_from(self).map_or(Value::Float(self as f64), Value::Int)
            }
        }
    )*};
}
wide_integers!(u64, usize, isize);

impl IntoValue for f64 {
    fn into_value(self) -> Value {
        Value::Float(self)
    }
}

impl IntoValue for f32 {
    fn into_value(self) -> Value {
        Value::Float(f64::from(self))
    }
}

impl IntoValue for char {
    fn into_value(self) -> Value {
        Value::Str(self.to_string())
    }
}

/// A Float, or an Int as a Float (as Walia arithmetic mixes them).
fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}
