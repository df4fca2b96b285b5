//! Recursion over deep syntax without overflowing the host's stack.
//!
//! The passes over a syntax tree (resolver, compiler, dropping the tree) recurse once per
//! level, and a legal program can be thousands of levels deep (a long `else if` chain, a
//! long operator chain): more than a 2 MiB thread (the `std::thread` and tokio default)
//! holds. Each recursive step goes through [`guarded`], which moves the rest of the
//! recursion to a fresh stack segment on the heap when the current one runs low, so the
//! depth is bounded by memory, not by the stack of whatever thread embeds Walia.

/// Switch to a new segment when less than this is left: more than any single step between
/// two calls of [`guarded`] uses, debug builds included.
const RED_ZONE: usize = 256 * 1024;
/// Size of each new segment.
const SEGMENT: usize = 4 << 20;

/// Run `f`, on a new stack segment if the current one is nearly exhausted.
#[inline]
pub fn guarded<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
