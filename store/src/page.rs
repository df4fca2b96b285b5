//! The header every page but the two superblocks starts with ([`HEADER_LEN`] bytes), the
//! kinds of pages, and the checks a page read from the file must pass.

use crate::error::{HeapError, HeapResult};

/// Page header: kind, reserved, entry count, crc32 of bytes 8.., the page's own number,
/// the sequence number of the commit that wrote it.
pub const HEADER_LEN: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PageKind {
    Branch = 1,
    Leaf = 2,
    Overflow = 3,
    FreeList = 4,
    /// Values of one table column for a run of rows, or deletion marks (see `table/column_page.rs`).
    Column = 5,
    /// Page numbers of a table segment's pages (see `table::segment`).
    Directory = 6,
    /// A table's string bytes.
    Strings = 7,
    /// Primary-key index nodes (see `table::keys`).
    KeyLeaf = 8,
    KeyBranch = 9,
}

impl PageKind {
    pub fn name(self) -> &'static str {
        match self {
            PageKind::Branch => "index branch",
            PageKind::Leaf => "index leaf",
            PageKind::Overflow => "overflow",
            PageKind::FreeList => "free list",
            PageKind::Column => "table column",
            PageKind::Directory => "table directory",
            PageKind::Strings => "table strings",
            PageKind::KeyLeaf => "key index leaf",
            PageKind::KeyBranch => "key index branch",
        }
    }
}

#[inline]
pub fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// [`check_page`], and that the page is of `kind` (what `Pager::page` checks).
#[inline]
pub fn check_kind(bytes: &[u8], page: u64, kind: PageKind) -> bool {
    check_page(bytes, page).is_ok() && bytes.first() == Some(&(kind as u8))
}

/// Check a committed page's checksum and self-number.
pub fn check_page(bytes: &[u8], page: u64) -> HeapResult<()> {
    let stored = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if crc32fast::hash(&bytes[8..]) != stored {
        return Err(HeapError::corrupt(page, "page checksum mismatch"));
    }
    if read_u64(bytes, 8) != page {
        return Err(HeapError::corrupt(
            page,
            "page holds another page's number (misplaced write)",
        ));
    }
    Ok(())
}

/// One written page's share of a commit's `written_hash`.
#[inline]
pub fn written_mix(page: u64, crc: u32) -> u64 {
    (page.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ crc as u64).rotate_left(17)
}

/// The sequence number in a page's header (the commit that wrote it).
#[inline]
pub fn page_seq(bytes: &[u8]) -> u64 {
    read_u64(bytes, 16)
}
