//! One shared string per ASCII character. Indexing text (`s[i]`), walking it
//! (`for (c in s)`) and splitting it into characters hand out these instead of allocating
//! a new one-character string each time, as CPython does for Latin-1: a character costs
//! a reference-count write instead of two allocations and two frees.
//!
//! The table is one of the runtime's thread-local registries ([`crate::RuntimeState`]):
//! an engine's strings share only its own table, which moves with it between threads.

use super::{Str, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// The shared strings, indexed by byte; empty until the first character is asked for.
#[derive(Default)]
pub(crate) struct CharTable(Vec<Rc<Str>>);

thread_local! {
    static CHARS: RefCell<CharTable> = const { RefCell::new(CharTable(Vec::new())) };
}

/// Exchange this thread's table with `other`.
pub(crate) fn swap_table(other: &mut CharTable) {
    CHARS.with(|t| std::mem::swap(&mut *t.borrow_mut(), other));
}

/// The shared string of one ASCII byte (`None` for any other byte).
#[inline]
fn ascii_char(b: u8) -> Option<Rc<Str>> {
    CHARS.with(|t| {
        if let Ok(table) = t.try_borrow()
            && let Some(c) = table.0.get(usize::from(b))
        {
            return Some(c.clone());
        }
        fill(t).then(|| t.try_borrow().ok()?.0.get(usize::from(b)).cloned())?
    })
}

/// Make the table (false if it is in use, which it never is for long).
#[cold]
#[inline(never)]
fn fill(t: &RefCell<CharTable>) -> bool {
    let Ok(mut t) = t.try_borrow_mut() else {
        return false;
    };
    if t.0.is_empty() {
        t.0 = (0..128u8)
            .map(|c| Rc::new(Str::new(char::from(c).to_string())))
            .collect();
    }
    true
}

impl Value {
    /// A string value holding `s`: the shared one when `s` is one ASCII character.
    #[inline]
    pub fn text(s: &str) -> Value {
        if let [b] = s.as_bytes()
            && let Some(shared) = ascii_char(*b)
        {
            return Value::Str(shared);
        }
        Value::str(s)
    }

    /// The one-character string of ASCII byte `b`.
    #[inline]
    pub fn ascii(b: u8) -> Value {
        match ascii_char(b) {
            Some(shared) => Value::Str(shared),
            None => Value::str(char::from(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ascii_character_is_shared() {
        let (Value::Str(a), Value::Str(b)) = (Value::text("q"), Value::text("q")) else {
            panic!("not strings");
        };
        assert!(Rc::ptr_eq(&a, &b));
        assert_eq!(a.as_str(), "q");
    }

    #[test]
    fn other_text_is_its_own() {
        for s in ["", "ab", "é", "\u{7f}x"] {
            let (Value::Str(a), Value::Str(b)) = (Value::text(s), Value::text(s)) else {
                panic!("not strings");
            };
            assert!(!Rc::ptr_eq(&a, &b), "{s:?}");
            assert_eq!(a.as_str(), s);
        }
    }
}
