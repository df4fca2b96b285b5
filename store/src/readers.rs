//! The reader table: how a reader pins the commit it reads, so that the writer does not
//! reuse that commit's pages under it (docs/heap-format.md, "Readers").
//!
//! It lives in page 0 after the superblock (bytes 2048..4080), so a heap stays one file. A
//! reader claims a slot with a compare-and-swap on a shared mapping of page 0, writes the
//! sequence of the commit it reads, and clears the slot when it closes. The writer takes
//! the oldest pinned sequence among live readers before it makes freed pages reusable:
//! pages freed by commit N stay unused while a reader holds a commit older than N.
//!
//! A slot names its owner by process id and start time, so a reader killed without
//! clearing its slot is recognised as gone (on Linux, through /proc) and its slot reused.
//! Where the owner cannot be checked the slot counts as live: a stale pin only costs file
//! growth, never a page read under a reader.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering, fence};

/// Where the slots start in page 0, and how many there are (16 bytes each, ending before
/// the writer's pid at 4088).
pub const READERS_AT: usize = 2048;
pub const READER_SLOTS: usize = 127;
/// A claimed slot that pins nothing yet.
const UNPINNED: u64 = u64::MAX;

/// A shared, writable mapping of page 0, for the slots only.
pub struct ReaderTable {
    map: memmap2::MmapMut,
}

/// The slot this process claimed (cleared on drop).
pub struct ReaderSlot {
    table: ReaderTable,
    index: usize,
    owner: u64,
}

impl ReaderTable {
    /// Map page 0 of a heap file opened for writing (a reader opens its own descriptor
    /// read-write for this; without write permission it reads unpinned).
    pub fn map(file: &File) -> std::io::Result<ReaderTable> {
        if file.metadata()?.len() < crate::storage::PAGE_SIZE as u64 {
            return Err(std::io::Error::other(
                "no reader table in a file shorter than a page",
            ));
        }
        let mut options = memmap2::MmapOptions::new();
        options.len(crate::storage::PAGE_SIZE);
        // SAFETY: a shared mapping of page 0, which the file holds (checked just above) and
        // which no writer ever truncates. Its bytes 2048..4080 are touched only
        // through the atomics below, by every process alike; the superblock bytes and the
        // writer's pid are never read or written through this mapping.
        let map = unsafe { options.map_mut(file)? };
        Ok(ReaderTable { map })
    }

    fn slot(&self, index: usize) -> (&AtomicU64, &AtomicU64) {
        let at = READERS_AT + index * 16;
        debug_assert!(index < READER_SLOTS);
        let word = |offset: usize| {
            // SAFETY: `offset + 8 <= 4080` is inside the mapping (index < READER_SLOTS); the
            // pointer comes from the mapping itself (not from a `&[u8]` of it), so writing
            // through the atomic is allowed; it is 8-aligned (the mapping is page-aligned
            // and `at` a multiple of 16) and lives as long as `self`. Other processes change
            // these bytes concurrently, which is what atomics are for; nothing here reads
            // them non-atomically.
            unsafe { &*(self.map.as_ptr().add(offset) as *const AtomicU64) }
        };
        (word(at), word(at + 8))
    }

    /// Claim a free slot (or one whose owner is gone) for this process.
    pub fn claim(self) -> Option<ReaderSlot> {
        let owner = this_process();
        for index in 0..READER_SLOTS {
            let (who, seq) = self.slot(index);
            let current = who.load(Ordering::SeqCst);
            if (current == 0 || !alive(current))
                && who
                    .compare_exchange(current, owner, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                seq.store(UNPINNED, Ordering::SeqCst);
                return Some(ReaderSlot {
                    table: self,
                    index,
                    owner,
                });
            }
        }
        None
    }

    /// The oldest commit a live reader pins, clearing the slots of readers that are gone.
    pub fn oldest_pin(&self) -> Option<u64> {
        // Pairs with the fence in `ReaderSlot::pin`: a pin stored before the superblock
        // this writer just wrote is seen here.
        fence(Ordering::SeqCst);
        let mut oldest: Option<u64> = None;
        for index in 0..READER_SLOTS {
            let (who, seq) = self.slot(index);
            let owner = who.load(Ordering::SeqCst);
            if owner == 0 {
                continue;
            }
            let pinned = seq.load(Ordering::SeqCst);
            if pinned == UNPINNED {
                continue;
            }
            if !alive(owner) {
                let _ = who.compare_exchange(owner, 0, Ordering::SeqCst, Ordering::SeqCst);
                continue;
            }
            oldest = Some(oldest.map_or(pinned, |o| o.min(pinned)));
        }
        oldest
    }
}

impl ReaderSlot {
    /// Pin a commit. The caller re-reads the superblocks afterwards: the pin protects the
    /// commit only if it was still the newest then (see `Pager::open_checked`).
    pub fn pin(&self, sequence: u64) {
        let (_, seq) = self.table.slot(self.index);
        seq.store(sequence, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }
}

impl Drop for ReaderSlot {
    fn drop(&mut self) {
        let (who, seq) = self.table.slot(self.index);
        seq.store(UNPINNED, Ordering::SeqCst);
        let _ = who.compare_exchange(self.owner, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// This process as a slot owner: pid in the high half, start time in the low half (a
/// reused pid has another start time).
fn this_process() -> u64 {
    let pid = std::process::id();
    ((pid as u64) << 32) | start_time(pid).unwrap_or(0) as u64
}

/// Is the process that owns a slot still running? `true` when it cannot be told.
fn alive(owner: u64) -> bool {
    let pid = (owner >> 32) as u32;
    if pid == std::process::id() {
        // This process's own slots (another open reader) are live until dropped.
        return this_process() == owner;
    }
    if !std::path::Path::new("/proc/self/stat").exists() {
        return true;
    }
    match start_time(pid) {
        Some(start) => start == owner as u32,
        None => false,
    }
}

/// The low 32 bits of a process's start time in clock ticks (field 22 of
/// /proc/PID/stat), or `None` when no such process exists.
fn start_time(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from the
    // last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let ticks: u64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    Some(ticks as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(file: &File) -> ReaderTable {
        file.set_len(crate::storage::PAGE_SIZE as u64).unwrap();
        ReaderTable::map(file).unwrap()
    }

    #[test]
    fn pins_are_seen_by_the_writer_and_released_on_drop() {
        let f = tempfile::tempfile().unwrap();
        let writer = table(&f);
        assert_eq!(writer.oldest_pin(), None);
        let a = table(&f).claim().unwrap();
        let b = table(&f).claim().unwrap();
        assert_ne!(a.index, b.index);
        assert_eq!(
            writer.oldest_pin(),
            None,
            "claimed but unpinned slots pin nothing"
        );
        a.pin(7);
        b.pin(5);
        assert_eq!(writer.oldest_pin(), Some(5));
        drop(b);
        assert_eq!(writer.oldest_pin(), Some(7));
        drop(a);
        assert_eq!(writer.oldest_pin(), None);
    }

    #[test]
    fn a_dead_readers_slot_is_cleared() {
        let f = tempfile::tempfile().unwrap();
        let writer = table(&f);
        // A slot owned by a process that does not exist (pid 0x7fff_fff0 is beyond any
        // pid_max), pinning commit 3.
        let (who, seq) = writer.slot(0);
        who.store(0x7fff_fff0_u64 << 32 | 1, Ordering::SeqCst);
        seq.store(3, Ordering::SeqCst);
        assert_eq!(writer.oldest_pin(), None);
        assert_eq!(who.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_full_table_refuses_a_claim() {
        let f = tempfile::tempfile().unwrap();
        let slots: Vec<ReaderSlot> = (0..READER_SLOTS)
            .map(|_| table(&f).claim().unwrap())
            .collect();
        assert!(table(&f).claim().is_none());
        drop(slots);
        assert!(table(&f).claim().is_some());
    }
}
