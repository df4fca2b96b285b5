//! Arguments for [`crate::Engine::call`]: a tuple of Rust values (`(1, "a")`), `()`, an
//! array, or a `Vec` of values.

use super::IntoValue;
use crate::Value;

/// What [`crate::Engine::call`] accepts as a function's arguments.
pub trait IntoArgs {
    /// The arguments as Walia values, in order.
    fn into_args(self) -> Vec<Value>;
}

impl<T: IntoValue> IntoArgs for Vec<T> {
    fn into_args(self) -> Vec<Value> {
        self.into_iter().map(T::into_value).collect()
    }
}

impl<T: IntoValue, const N: usize> IntoArgs for [T; N] {
    fn into_args(self) -> Vec<Value> {
        self.into_iter().map(T::into_value).collect()
    }
}

impl IntoArgs for () {
    fn into_args(self) -> Vec<Value> {
        Vec::new()
    }
}

macro_rules! tuple_args {
    ($($t:ident),+) => {
        impl<$($t: IntoValue),+> IntoArgs for ($($t,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Value> {
                let ($($t,)+) = self;
                vec![$($t.into_value()),+]
            }
        }
    };
}
tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);
tuple_args!(A, B, C, D, E);
tuple_args!(A, B, C, D, E, F);
tuple_args!(A, B, C, D, E, F, G);
tuple_args!(A, B, C, D, E, F, G, H);
