//! Readers' pins, seen from the pager: a reader pins the newest commit before it reads it,
//! and the writer keeps the pages freed after the oldest pinned commit out of reuse
//! (invariant 5 in commit.rs; the table itself is `crate::readers`).

use super::{Block, Pager, TxnState};
use crate::error::{HeapError, HeapResult};
use crate::superblock::Meta;

/// Both superblock slots as decoded together.
pub(super) type Slots = [HeapResult<Option<Meta>>; 2];

/// How often a reader re-reads the superblocks while commits keep landing between its
/// read and its pin, before it reads unpinned (and relies on its caller's retry).
const PIN_ATTEMPTS: usize = 1000;
/// How often a reader re-reads a superblock slot that fails its checksum, in case it was
/// caught mid-write, before it counts the slot as damaged.
const TORN_READS: usize = 20;

impl TxnState {
    /// Pages freed by commit `freed_by`, and listed by it (none of them blocked), become
    /// reusable, unless a reader pins an older commit, which may still read them.
    pub(super) fn make_reusable(&mut self, pages: &[u64], freed_by: u64, pin: Option<u64>) {
        if pin.is_some_and(|oldest| oldest < freed_by) {
            self.blocked
                .extend(pages.iter().map(|&p| (p, Block::Held(freed_by))));
        }
    }

    /// Commit `synced` is on disk: the pages waiting for a sync become reusable (or held,
    /// as freed by that commit, while a reader pins an older one).
    pub(super) fn release_unsynced(&mut self, synced: u64, pin: Option<u64>) {
        let held = pin.is_some_and(|oldest| oldest < synced);
        self.blocked.retain(|_, block| match *block {
            Block::Unsynced if held => {
                *block = Block::Held(synced);
                true
            }
            Block::Unsynced => false,
            Block::Held(_) => true,
        });
    }

    /// Release the held pages no live reader can read any more.
    pub(super) fn release_held(&mut self, pin: Option<u64>) {
        self.blocked.retain(|_, block| match *block {
            Block::Held(freed_by) => pin.is_some_and(|oldest| oldest < freed_by),
            Block::Unsynced => true,
        });
    }

    /// At a writer's open: the free list's pages were freed by commits up to the one
    /// opened, in an order the file does not record, so while a reader holds an older
    /// commit none of them is reused.
    pub(super) fn hold_free_list(&mut self, entries: &[u64], pin: Option<u64>) {
        let opened = self.meta.sequence;
        self.make_reusable(entries, opened, pin);
    }
}

impl Pager {
    /// For a reader: decode both superblocks, re-reading a slot that fails its checksum a
    /// few times (a writer may be writing it at this very moment).
    pub(super) fn read_slots(&mut self) -> Slots {
        let mut slots = [self.decode_slot(0), self.decode_slot(1)];
        if self.writable {
            return slots;
        }
        for _ in 0..TORN_READS {
            if !slots
                .iter()
                .any(|s| matches!(s, Err(HeapError::Corrupt { .. })))
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
            slots = [self.decode_slot(0), self.decode_slot(1)];
        }
        slots
    }

    fn decode_slot(&self, slot: u64) -> HeapResult<Option<Meta>> {
        if slot < self.store.page_count() {
            Meta::decode(self.store.read(slot), slot)
        } else {
            Ok(None)
        }
    }

    /// For a reader: pin the newest commit. Returns once the pinned commit was still the
    /// newest after the pin was published: from then on the writer sees the pin before it
    /// frees any of that commit's pages, so none of them is reused while this reader
    /// lives. Returns the slots as read when the pin was confirmed (the caller opens the
    /// commit from these, not from a later read), or `None` when this storage cannot pin
    /// or commits kept landing.
    pub(super) fn pin_newest(&mut self) -> Option<Slots> {
        let mut newest = newest_sequence(&self.read_slots())?;
        for _ in 0..PIN_ATTEMPTS {
            if !self.store.pin(newest) {
                return None;
            }
            let slots = self.read_slots();
            match newest_sequence(&slots) {
                Some(seq) if seq == newest => return Some(slots),
                Some(seq) => newest = seq,
                None => return None,
            }
        }
        None
    }

    /// For a writer: the oldest commit a live reader holds.
    pub(super) fn oldest_reader(&self) -> Option<u64> {
        self.store.oldest_reader()
    }
}

fn newest_sequence(slots: &Slots) -> Option<u64> {
    slots
        .iter()
        .filter_map(|s| s.as_ref().ok().copied().flatten())
        .map(|m| m.sequence)
        .max()
}
