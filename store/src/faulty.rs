//! A storage for tests that cut the power: it remembers which writes were synced.

use crate::storage::{PAGE_SIZE, Storage};
use std::io;

/// A storage that remembers which writes were synced, so a test can cut the power: the
/// image after a "power loss" keeps every synced write and, for each page written since
/// the last sync, the old bytes, the new bytes or a tear of the two, chosen by a seed.
#[derive(Default)]
pub struct FaultyStorage {
    pub current: Vec<u8>,
    pub durable: Vec<u8>,
    pub unsynced: std::collections::BTreeSet<u64>,
    /// Writes and syncs left before the power fails; `None`: no limit.
    pub budget: Option<u64>,
    syncs: u64,
    scratch: Vec<u8>,
}

impl FaultyStorage {
    pub fn new(budget: Option<u64>) -> FaultyStorage {
        FaultyStorage {
            budget,
            scratch: vec![0; PAGE_SIZE],
            ..FaultyStorage::default()
        }
    }

    fn spend(&mut self) -> bool {
        match &mut self.budget {
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
            None => true,
        }
    }

    /// The bytes a disk would hold after losing power now, for `seed`.
    pub fn power_loss_image(&self, seed: u64) -> Vec<u8> {
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut image = self.durable.clone();
        // The file's new length may or may not have reached the disk.
        if self.current.len() > image.len() && next() % 2 == 0 {
            image.resize(self.current.len(), 0);
        }
        for &page in &self.unsynced {
            let at = page as usize * PAGE_SIZE;
            if at + PAGE_SIZE > image.len() {
                continue;
            }
            let new = &self.current[at..at + PAGE_SIZE];
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
        if !self.spend() {
            // The power is out: the write goes nowhere.
            return Ok(&mut self.scratch);
        }
        self.unsynced.insert(page);
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
