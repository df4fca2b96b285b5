//! @group Random
//! Pseudo-random numbers: `random`, `random_int`, `shuffle`, `choice`, `random_seed`.
//! Each engine has its own generator (fastrand's wyrand), seeded from the operating
//! system's randomness when the engine starts; `random_seed(n)` makes the numbers that
//! follow the same in every run (of the same Walia version). The generator is not
//! cryptographically secure and its state is not stored in the heap: a warm boot starts
//! a new sequence.

use crate::check::*;
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    global(vm, "random", 0, 0, random);
    global(vm, "random_int", 2, 2, random_int);
    global(vm, "random_seed", 1, 1, random_seed);
    both(vm, &["List"], "shuffle", 1, 1, shuffle);
    both(vm, &["List"], "choice", 1, 1, choice);
}

/// The engine's generator (kept on its VM, so engines in one process do not share it).
struct Generator(fastrand::Rng);

impl Default for Generator {
    fn default() -> Generator {
        Generator(fastrand::Rng::new())
    }
}

fn rng(vm: &mut Vm) -> &mut fastrand::Rng {
    &mut vm.extension::<Generator>().0
}

/// @builtin random() -> Float
///
/// A pseudo-random Float in [0, 1): 0 may come out, 1 never does.
///
/// ```walia
/// random_seed(7);
/// var x = random();
/// print x >= 0 and x < 1;   // -> true
/// ```
fn random(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(rng(vm).f64()))
}

/// @builtin random_int(low, high) -> Int
///
/// A pseudo-random Int from `low` to `high`, both included (as Python's `randint` and
/// Lua's `math.random(m, n)`): `random_int(1, 6)` is a die.
///
/// Errors: `low` or `high` is not an Int; `low` is greater than `high`.
///
/// ```walia
/// random_seed(42);
/// var rolls = 0..1000 |> map(i => random_int(1, 6)) |> collect();
/// print rolls |> filter(r => r < 1 or r > 6) |> count();   // -> 0
/// ```
fn random_int(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let low = expect_int(a, 0, "random_int")?;
    let high = expect_int(a, 1, "random_int")?;
    if low > high {
        return Err(RtError::new(format!(
            "'random_int' expects low <= high, got {low} > {high}"
        )));
    }
    Ok(Value::Int(rng(vm).i64(low..=high)))
}

/// @builtin random_seed(seed) -> nil
///
/// Restarts this engine's generator from `seed`: the numbers `random`, `random_int`,
/// `shuffle` and `choice` give after it are the same in every run with the same seed.
///
/// Errors: `seed` is not an Int.
///
/// ```walia
/// random_seed(1);
/// var first = [random(), random_int(1, 100)];
/// random_seed(1);
/// print first == [random(), random_int(1, 100)];   // -> true
/// ```
fn random_seed(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let seed = expect_int(a, 0, "random_seed")?;
    // The seed's bits: a negative seed is as good as any other.
    rng(vm).seed(seed as u64);
    Ok(Value::Nil)
}

/// @builtin shuffle(list) -> nil
/// @builtin l.shuffle() -> nil
///
/// Puts the elements of `list` in a random order, in place (every order equally likely),
/// and returns `nil`, as `sort` does.
///
/// Errors: `list` is not a List.
///
/// ```walia
/// var cards = [1, 2, 3, 4, 5];
/// cards.shuffle();
/// print [len(cards), cards |> sum()];   // -> [5, 15]
/// ```
fn shuffle(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let list = expect_list(a, 0, "shuffle")?.clone();
    let mut items = list.items.borrow_mut();
    rng(vm).shuffle(&mut items);
    Ok(Value::Nil)
}

/// @builtin choice(list) -> any
/// @builtin l.choice() -> any
///
/// One element of `list`, chosen at random (each equally likely).
///
/// Errors: `list` is not a List, or is empty.
///
/// ```walia
/// print ["heads", "heads"].choice();   // -> heads
/// ```
fn choice(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let list = expect_list(a, 0, "choice")?.clone();
    let items = list.items.borrow();
    if items.is_empty() {
        return Err(RtError::new("'choice' cannot choose from an empty list"));
    }
    let i = rng(vm).usize(..items.len());
    Ok(items[i].clone())
}
