//! A read-only view of the pager's pages that threads other than the pager's own can
//! share (`parallel(n)` pipelines), and the bitmap of checked pages it consults.

use crate::error::IdSet;
use crate::storage::Storage;

/// The pager's pages as threads other than its owner read them (`parallel(n)`), while
/// nothing changes them: [`Pager::unchecked`](crate::pager::Pager::unchecked) without the
/// rest of the pager.
pub struct PageView<'p> {
    pub(super) store: &'p dyn Storage,
    /// Pages in range.
    pub(super) pages: u64,
    pub(super) fresh: &'p IdSet,
    pub(super) sealed: &'p IdSet,
    pub(super) verified: &'p PageBits,
}

impl<'p> PageView<'p> {
    /// See [`Pager::unchecked`](crate::pager::Pager::unchecked).
    #[inline]
    pub fn unchecked(&self, page: u64) -> Option<(&'p [u8], bool)> {
        if !self.in_range(page) {
            return None;
        }
        let trusted = self.fresh.contains(&page)
            || self.sealed.contains(&page)
            || self.verified.contains(page);
        Some((self.store.read(page), !trusted))
    }

    /// Is `page` a page number the heap can hold (not the superblocks, not past the end)?
    #[inline]
    pub fn in_range(&self, page: u64) -> bool {
        page >= 2 && page < self.pages
    }

    /// See [`Pager::release_resident`](crate::pager::Pager::release_resident).
    pub fn release_resident(&self) {
        self.store.release_resident();
    }
}

/// A set of page numbers as a bitmap (one bit per page of the file): a scan asks about
/// every page it reads, and a hashed set of ~100,000 pages missed the cache each time.
#[derive(Default)]
pub struct PageBits(Vec<u64>);

impl PageBits {
    #[inline]
    pub fn contains(&self, page: u64) -> bool {
        self.0
            .get((page / 64) as usize)
            .is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// Add `page`; `false` when it was there already.
    pub fn insert(&mut self, page: u64) -> bool {
        let at = (page / 64) as usize;
        if at >= self.0.len() {
            self.0.resize(at + 1, 0);
        }
        let bit = 1 << (page % 64);
        let new = self.0[at] & bit == 0;
        self.0[at] |= bit;
        new
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod page_bits_tests {
    use super::PageBits;

    #[test]
    fn page_bits_remember_pages_far_apart() {
        let mut bits = PageBits::default();
        assert!(!bits.contains(5));
        assert!(bits.insert(5));
        assert!(!bits.insert(5));
        assert!(bits.insert(64 * 1000 + 3));
        assert!(bits.contains(5) && bits.contains(64_003) && !bits.contains(64_004));
        assert!(!bits.contains(u64::MAX));
        bits.clear();
        assert!(!bits.contains(5));
    }
}
