//! Conversions between Walia values and Rust types, for the embedding API.

mod args;
mod collections;
mod numbers;

pub use args::IntoArgs;

use crate::Value;
use crate::value::{attach, detach};
use std::rc::Rc;
use walia_runtime::Value as Live;
use walia_runtime::api::{RtError, Vm};

/// A Rust type a Walia value can be converted into (function arguments, `eval` results).
pub trait FromValue: Sized {
    /// The Walia type name used in error messages.
    const TYPE: &'static str;
    /// The converted value, or `None` when `v` has another type.
    fn from_value(v: &Value) -> Option<Self>;
    /// The value for a global that is not defined ([`crate::Engine::get`]): `None`, so
    /// that reading it is an error, except for `Option<T>`, which reads it as `None`.
    fn from_missing() -> Option<Self> {
        None
    }
}

/// A Rust type that converts into a Walia value (function results, `set`).
pub trait IntoValue {
    /// The Walia value for `self`.
    fn into_value(self) -> Value;
}

impl FromValue for Value {
    const TYPE: &'static str = "any value";
    fn from_value(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
}

impl FromValue for bool {
    const TYPE: &'static str = "Bool";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromValue for String {
    const TYPE: &'static str = "String";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const TYPE: &'static str = T::TYPE;
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Nil => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
    fn from_missing() -> Option<Self> {
        Some(None)
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}
impl IntoValue for () {
    fn into_value(self) -> Value {
        Value::Nil
    }
}
impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}
impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::Str(self)
    }
}
impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::Str(self.to_string())
    }
}
impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Nil, T::into_value)
    }
}
/// Rust closures that can be registered as Walia functions, by argument tuple.
pub trait NativeFunction<Args> {
    /// Number of arguments the function takes.
    fn arity(&self) -> usize;
    /// Wrap the closure as a builtin named `name` that converts its arguments.
    #[doc(hidden)]
    fn into_native(self, name: Rc<str>) -> Live;
}

/// Argument `i` of a call to the registered function `name`, copied out of the engine
/// and converted.
fn arg<T: FromValue>(name: &str, args: &[Live], i: usize) -> Result<T, RtError> {
    let v = args.get(i).map(detach).unwrap_or_default();
    T::from_value(&v).ok_or_else(|| {
        RtError::new(format!(
            "'{name}' expects {} for argument {}, got {}",
            T::TYPE,
            i + 1,
            described(&v)
        ))
    })
}

/// A value's type for a conversion error; an Int or Float also shows its value, since a
/// number of the right type can still be out of the Rust type's range.
pub(crate) fn described(v: &Value) -> String {
    match v {
        Value::Int(i) => format!("Int {i}"),
        Value::Float(f) => format!("Float {}", walia_runtime::api::format_float(*f)),
        other => other.type_name().to_string(),
    }
}

/// A registered function's result, given to the engine.
fn returned(result: Result<Value, RtError>) -> Result<Live, RtError> {
    result.map(attach)
}

macro_rules! native_function {
    ($n:expr; $($t:ident $i:tt),*) => {
        impl<F, R, $($t,)*> NativeFunction<($($t,)*)> for F
        where
            F: Fn($($t),*) -> R + Send + 'static,
            R: NativeResultOrErr,
            $($t: FromValue,)*
        {
            fn arity(&self) -> usize {
                $n
            }
            #[allow(unused_variables)]
            fn into_native(self, name: Rc<str>) -> Live {
                let fname = name.clone();
                Live::native(&name, $n, $n, move |_vm: &mut Vm, args: &[Live]| {
                    $(let $t = arg::<$t>(&fname, args, $i)?;)*
                    returned((self)($($t),*).into_native_result())
                })
            }
        }
    };
}

/// Result conversion for registered functions: plain values, or `Result<T, E>` where an
/// `Err` becomes a runtime error.
pub trait NativeResultOrErr {
    /// The returned value, or the runtime error to raise in the script.
    fn into_native_result(self) -> Result<Value, RtError>;
}

macro_rules! plain_result {
    ($($t:ty),*) => {$(
        impl NativeResultOrErr for $t {
            fn into_native_result(self) -> Result<Value, RtError> {
                Ok(self.into_value())
            }
        }
    )*};
}
plain_result!(
    (),
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    usize,
    f32,
    f64,
    bool,
    char,
    String,
    &'static str,
    Value
);

impl<T: IntoValue> NativeResultOrErr for Option<T> {
    fn into_native_result(self) -> Result<Value, RtError> {
        Ok(self.into_value())
    }
}

impl<T: IntoValue> NativeResultOrErr for Vec<T> {
    fn into_native_result(self) -> Result<Value, RtError> {
        Ok(self.into_value())
    }
}

impl<K: IntoValue, V: IntoValue, S> NativeResultOrErr for std::collections::HashMap<K, V, S> {
    fn into_native_result(self) -> Result<Value, RtError> {
        Ok(self.into_value())
    }
}

impl<K: IntoValue, V: IntoValue> NativeResultOrErr for std::collections::BTreeMap<K, V> {
    fn into_native_result(self) -> Result<Value, RtError> {
        Ok(self.into_value())
    }
}

impl<T: IntoValue, E: std::fmt::Display> NativeResultOrErr for Result<T, E> {
    fn into_native_result(self) -> Result<Value, RtError> {
        self.map(IntoValue::into_value)
            .map_err(|e| RtError::new(e.to_string()))
    }
}

#[allow(non_snake_case)]
mod impls {
    use super::*;
    native_function!(0;);
    native_function!(1; A 0);
    native_function!(2; A 0, B 1);
    native_function!(3; A 0, B 1, C 2);
    native_function!(4; A 0, B 1, C 2, D 3);
    native_function!(5; A 0, B 1, C 2, D 3, E 4);
}
