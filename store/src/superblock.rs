//! The superblock: what a commit records in one of the two slots (pages 0 and 1).

use crate::error::{HeapError, HeapResult};
use crate::storage::PAGE_SIZE;

pub use crate::format::{FORMAT_VERSION, MAGIC, OLDEST_FORMAT_VERSION};
/// Bytes of a superblock page that hold the superblock (the rest is unused).
pub(super) const SUPERBLOCK_LEN: usize = 128;
const CRC_AT: usize = SUPERBLOCK_LEN - 4;

/// What a superblock records about one commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    pub sequence: u64,
    /// Pages the commit spans (the file may be longer: preallocated room).
    pub page_count: u64,
    /// Root page of the catalog index (0: empty).
    pub root: u64,
    pub freelist_head: u64,
    pub freelist_len: u64,
    /// The next object id to hand out.
    pub next_id: u64,
    pub durability: u32,
    pub commit_millis: u64,
    /// Pages this commit wrote, and an order-independent hash of their numbers and
    /// checksums: a commit whose superblock reached the disk without all its pages (possible
    /// when it was not synced) is recognised, even if stale pages still pass their checks.
    pub written_count: u64,
    pub written_hash: u64,
    /// The newest commit whose pages were known to be on disk when this one was written
    /// (this commit itself when it synced its pages first). The count and hash cover the
    /// pages written after it that this commit uses.
    pub base_seq: u64,
}

impl Meta {
    pub(super) fn encode(&self) -> [u8; SUPERBLOCK_LEN] {
        let mut b = [0u8; SUPERBLOCK_LEN];
        b[0..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&(PAGE_SIZE as u32).to_le_bytes());
        let fields = [
            self.sequence,
            self.page_count,
            self.root,
            self.freelist_head,
            self.freelist_len,
            self.next_id,
            self.commit_millis,
        ];
        for (i, f) in fields.iter().enumerate() {
            b[16 + i * 8..24 + i * 8].copy_from_slice(&f.to_le_bytes());
        }
        b[72..76].copy_from_slice(&self.durability.to_le_bytes());
        b[80..88].copy_from_slice(&self.written_count.to_le_bytes());
        b[88..96].copy_from_slice(&self.written_hash.to_le_bytes());
        b[96..104].copy_from_slice(&self.base_seq.to_le_bytes());
        let crc = crc32fast::hash(&b[..CRC_AT]);
        b[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decode one slot: `Ok(None)` when it was never written, an error when it is damaged.
    pub(super) fn decode(page: &[u8], slot: u64) -> HeapResult<Option<Meta>> {
        let b = &page[..SUPERBLOCK_LEN];
        if b.iter().all(|&x| x == 0) {
            return Ok(None);
        }
        if &b[0..8] != MAGIC {
            return Err(HeapError::NotAHeap);
        }
        let crc = u32::from_le_bytes(b[CRC_AT..].try_into().unwrap_or_default());
        if crc32fast::hash(&b[..CRC_AT]) != crc {
            return Err(HeapError::corrupt(slot, "superblock checksum mismatch"));
        }
        let version = u32::from_le_bytes(b[8..12].try_into().unwrap_or_default());
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(HeapError::Version(version));
        }
        let page_size = u32::from_le_bytes(b[12..16].try_into().unwrap_or_default());
        if page_size as usize != PAGE_SIZE {
            return Err(HeapError::corrupt(slot, "superblock page size is not 4096"));
        }
        let f =
            |i: usize| u64::from_le_bytes(b[16 + i * 8..24 + i * 8].try_into().unwrap_or_default());
        Ok(Some(Meta {
            sequence: f(0),
            page_count: f(1),
            root: f(2),
            freelist_head: f(3),
            freelist_len: f(4),
            next_id: f(5),
            commit_millis: f(6),
            durability: u32::from_le_bytes(b[72..76].try_into().unwrap_or_default()),
            written_count: u64::from_le_bytes(b[80..88].try_into().unwrap_or_default()),
            written_hash: u64::from_le_bytes(b[88..96].try_into().unwrap_or_default()),
            base_seq: u64::from_le_bytes(b[96..104].try_into().unwrap_or_default()),
        }))
    }
}
