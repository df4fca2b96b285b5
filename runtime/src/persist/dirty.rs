//! The change log: which watched objects were mutated since each attached heap's last
//! commit (the write barrier's other half, see `value/watched.rs`).
//!
//! An object's first mutation after a clean point appends (kind, field address) here. Each
//! heap attached in this thread reads the log from its own cursor at a commit, so an
//! object shared by two heaps' object maps is re-encoded by both, whichever wrote it last.
//! Entries every cursor has passed are dropped. An address is only a hint: the commit
//! looks it up among the objects that heap holds (which keeps them alive, so an address it
//! finds is that object's), and an entry for an object it does not hold is skipped.
//!
//! Nothing here calls out while the log is borrowed, so a borrow cannot fail; if one ever
//! did, the lost entry is recorded as an epoch bump and every heap falls back to treating
//! all of its objects as changed at its next commit.

use crate::value::watched::Kind;
use std::cell::{Cell, RefCell};

/// The log and its lost-entry epoch. Each engine owns one and installs it in the thread
/// that runs it ([`crate::RuntimeState`]).
#[derive(Default)]
pub(crate) struct ChangeLog {
    log: Log,
    lost: u64,
}

/// Exchange this thread's log with `other`.
pub(crate) fn swap_log(other: &mut ChangeLog) {
    LOG.with(|log| std::mem::swap(&mut *log.borrow_mut(), &mut other.log));
    LOST.with(|lost| other.lost = lost.replace(other.lost));
}

#[derive(Default)]
struct Log {
    /// Absolute position of `entries[0]`.
    base: u64,
    entries: Vec<(Kind, usize)>,
    /// (subscription id, absolute position of its next entry).
    cursors: Vec<(u32, u64)>,
    next_id: u32,
}

thread_local! {
    static LOG: RefCell<Log> = RefCell::new(Log::default());
    /// Bumped when an entry could not be recorded.
    static LOST: Cell<u64> = const { Cell::new(0) };
}

/// A watched object was mutated for the first time since it was clean.
pub(crate) fn note(kind: Kind, address: usize) {
    let recorded = LOG.try_with(|log| match log.try_borrow_mut() {
        Ok(mut log) => {
            // With no heap attached in this thread, nobody holds an id for anything.
            if !log.cursors.is_empty() {
                log.entries.push((kind, address));
            }
            true
        }
        Err(_) => false,
    });
    // After thread-local teardown no heap can be reading either.
    if recorded == Ok(false) {
        let _ = LOST.try_with(|l| l.set(l.get().wrapping_add(1)));
    }
}

/// What a heap has not yet seen of the log.
pub(crate) struct Pending {
    pub entries: Vec<(Kind, usize)>,
    /// Where the cursor goes once these are saved.
    pub end: u64,
    /// An entry may be missing: treat every object as changed.
    pub lost: bool,
}

/// One heap's cursor into the log (dropped with the heap).
pub(crate) struct Subscription {
    id: u32,
    lost_seen: Cell<u64>,
}

impl Subscription {
    pub(crate) fn new() -> Subscription {
        let id = LOG
            .try_with(|log| {
                let Ok(mut log) = log.try_borrow_mut() else {
                    return 0;
                };
                log.next_id = log.next_id.wrapping_add(1);
                let (id, end) = (log.next_id, log.base + log.entries.len() as u64);
                log.cursors.push((id, end));
                id
            })
            .unwrap_or(0);
        // A cursor that could not be registered sees nothing: it starts (and stays) lost.
        let lost_seen = if id == 0 { u64::MAX } else { lost_epoch() };
        Subscription {
            id,
            lost_seen: Cell::new(lost_seen),
        }
    }

    /// The entries after this heap's cursor.
    pub(crate) fn pending(&self) -> Pending {
        let read = LOG.try_with(|log| {
            let log = log.try_borrow().ok()?;
            let at = log.cursors.iter().find(|(id, _)| *id == self.id)?.1;
            let from = usize::try_from(at.saturating_sub(log.base)).ok()?;
            let end = log.base + log.entries.len() as u64;
            Some((log.entries.get(from..)?.to_vec(), end))
        });
        match read {
            Ok(Some((entries, end))) => Pending {
                entries,
                end,
                lost: self.lost_seen.get() != lost_epoch(),
            },
            _ => Pending {
                entries: Vec::new(),
                end: 0,
                lost: true,
            },
        }
    }

    /// Everything up to `end` is saved (or no longer matters): move the cursor there and
    /// drop the entries every cursor has passed.
    pub(crate) fn advance(&self, end: u64, lost: bool) {
        let _ = LOG.try_with(|log| {
            let Ok(mut log) = log.try_borrow_mut() else {
                return;
            };
            if let Some(c) = log.cursors.iter_mut().find(|(id, _)| *id == self.id) {
                c.1 = c.1.max(end);
            }
            trim(&mut log);
        });
        if lost && self.id != 0 {
            self.lost_seen.set(lost_epoch());
        }
    }

    /// Skip everything logged so far (the heap forgot its objects).
    pub(crate) fn skip_all(&self) {
        let p = self.pending();
        self.advance(p.end, false);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = LOG.try_with(|log| {
            if let Ok(mut log) = log.try_borrow_mut() {
                log.cursors.retain(|(id, _)| *id != self.id);
                trim(&mut log);
            }
        });
    }
}

fn lost_epoch() -> u64 {
    LOST.try_with(Cell::get).unwrap_or(u64::MAX)
}

/// Drop the entries before every cursor.
fn trim(log: &mut Log) {
    let end = log.base + log.entries.len() as u64;
    let min = log.cursors.iter().map(|(_, at)| *at).min().unwrap_or(end);
    let n = usize::try_from(min.saturating_sub(log.base))
        .unwrap_or(usize::MAX)
        .min(log.entries.len());
    if n == log.entries.len() {
        log.entries.clear();
    } else if n > 0 {
        log.entries.drain(..n);
    }
    log.base += n as u64;
}

/// Run `f` with the log borrowed, so that a mutation in it cannot be recorded (tests of
/// the fallback).
#[cfg(test)]
pub(crate) fn with_log_borrowed(f: impl FnOnce()) {
    LOG.with_borrow(|_| f());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cursor_sees_entries_after_it() {
        let a = Subscription::new();
        note(Kind::List, 1);
        let b = Subscription::new();
        note(Kind::Map, 2);
        let pa = a.pending();
        assert_eq!(pa.entries, vec![(Kind::List, 1), (Kind::Map, 2)]);
        let pb = b.pending();
        assert_eq!(pb.entries, vec![(Kind::Map, 2)]);
        a.advance(pa.end, false);
        assert!(a.pending().entries.is_empty());
        assert_eq!(b.pending().entries, vec![(Kind::Map, 2)]);
        drop(b);
        // No cursor before them: the entries are gone.
        LOG.with_borrow(|l| assert!(l.entries.is_empty()));
        drop(a);
        note(Kind::Cell, 3);
        LOG.with_borrow(|l| assert!(l.entries.is_empty()));
    }
}
