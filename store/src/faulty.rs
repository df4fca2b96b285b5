//! A storage for tests that cut the power: it remembers which writes were synced.

use crate::storage::{PAGE_SIZE, Storage};
use std::io;

/// A storage that remembers which writes were synced, so a test can cut the power: the
/// image after a "power loss" keeps every synced write and, for each page written since
/// the last sync, the old bytes, the new bytes or a tear of the two, chosen by a seed.
///
/// When the budget runs out the disk freezes: the images are those of that instant. The
/// process's own view stays consistent (a later write lands in `current`, as in an OS
/// cache the process has not yet found dead), so no code reads back a page it wrote and
/// finds other bytes, which no real storage does; every sync from then on fails.
#[derive(Default)]
pub struct FaultyStorage {
    pub current: Vec<u8>,
    pub durable: Vec<u8>,
    pub unsynced: std::collections::BTreeSet<u64>,
    /// Writes and syncs left before the power fails; `None`: no limit.
    pub budget: Option<u64>,
    syncs: u64,
    operations: u64,
    /// `current` and `unsynced` when the power failed.
    cut: Option<(Vec<u8>, std::collections::BTreeSet<u64>)>,
}

impl FaultyStorage {
    pub fn new(budget: Option<u64>) -> FaultyStorage {
        FaultyStorage {
            budget,
            ..FaultyStorage::default()
        }
    }

    /// A disk that already holds `bytes`, all of them synced (a heap committed earlier),
    /// whose power fails after `budget` more writes and syncs.
    pub fn from_bytes(bytes: Vec<u8>, budget: Option<u64>) -> FaultyStorage {
        let mut store = FaultyStorage::new(budget);
        store.durable = bytes.clone();
        store.current = bytes;
        store
    }

    /// Writes and syncs issued so far (with an unlimited budget: how many a workload
    /// needs, to draw cut points from).
    pub fn operations(&self) -> u64 {
        self.operations
    }

    fn spend(&mut self) -> bool {
        self.operations += 1;
        match &mut self.budget {
            Some(0) => {
                if self.cut.is_none() {
                    self.cut = Some((self.current.clone(), self.unsynced.clone()));
                }
                false
            }
            Some(n) => {
                *n -= 1;
                true
            }
            None => true,
        }
    }

    /// Has the power failed?
    pub fn is_cut(&self) -> bool {
        self.cut.is_some()
    }

    /// The bytes the file would hold after the process died at the cut (or now), the
    /// machine staying up: every write issued by then, synced or not.
    pub fn crash_image(&self) -> Vec<u8> {
        self.cut
            .as_ref()
            .map_or_else(|| self.current.clone(), |(current, _)| current.clone())
    }

    /// The bytes a disk would hold after losing power at the cut (or now), for `seed`.
    pub fn power_loss_image(&self, seed: u64) -> Vec<u8> {
        let (current, unsynced) = match &self.cut {
            Some((current, unsynced)) => (current, unsynced),
            None => (&self.current, &self.unsynced),
        };
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut image = self.durable.clone();
        // The file's new length may or may not have reached the disk.
        if current.len() > image.len() && next() % 2 == 0 {
            image.resize(current.len(), 0);
        }
        for &page in unsynced {
            let at = page as usize * PAGE_SIZE;
            if at + PAGE_SIZE > image.len() {
                continue;
            }
            let new = &current[at..at + PAGE_SIZE];
            match next() % 3 {
                0 => {}
                1 => image[at..at + PAGE_SIZE].copy_from_slice(new),
                _ => {
                    for s in 0..PAGE_SIZE / 512 {
                        if next() % 2 == 0 {
                            let a = at + s * 512;
                            image[a..a + 512].copy_from_slice(&new[s * 512..s * 512 + 512]);
                        }
                    }
                }
            }
        }
        image
    }
}

impl Storage for FaultyStorage {
    fn page_count(&self) -> u64 {
        (self.current.len() / PAGE_SIZE) as u64
    }

    fn read(&self, page: u64) -> &[u8] {
        let at = page as usize * PAGE_SIZE;
        &self.current[at..at + PAGE_SIZE]
    }

    fn write(&mut self, page: u64) -> io::Result<&mut [u8]> {
        // After the cut the write reaches only the process's view, not the frozen disk.
        if self.spend() {
            self.unsynced.insert(page);
        }
        let at = page as usize * PAGE_SIZE;
        Ok(&mut self.current[at..at + PAGE_SIZE])
    }

    fn grow(&mut self, pages: u64) -> io::Result<()> {
        let want = pages as usize * PAGE_SIZE;
        if want > self.current.len() {
            self.current.resize(want, 0);
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        if !self.spend() {
            return Err(io::Error::other("power failed"));
        }
        self.syncs += 1;
        if self.durable.len() < self.current.len() {
            self.durable.resize(self.current.len(), 0);
        }
        for p in std::mem::take(&mut self.unsynced) {
            let at = p as usize * PAGE_SIZE;
            self.durable[at..at + PAGE_SIZE].copy_from_slice(&self.current[at..at + PAGE_SIZE]);
        }
        Ok(())
    }

    fn syncs(&self) -> u64 {
        self.syncs
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
