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

/// No real heap reaches this many commits or objects (one per nanosecond would take 146
/// years); a larger sequence or next object id can only be damage, and keeps the `+ 1` of
/// the next commit or object far from overflowing.
pub const COUNTER_CEILING: u64 = 1 << 62;

/// The highest durability code a writer records (0 immediate, 1 batched, 2 async).
const MAX_DURABILITY: u32 = 2;

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

    /// Check every field against the others and the file (`file_pages` pages long): a
    /// superblock with a valid checksum can still hold numbers no commit writes, and the
    /// writer would build on them (a wrapped sequence, a reused object id, a page past the
    /// end). The error names the field, so the slot is given up for the other one.
    pub(super) fn check_fields(&self, slot: u64, file_pages: u64) -> HeapResult<()> {
        let bad = |field: &str, why: String| {
            Err(HeapError::corrupt(
                slot,
                format!("superblock field {field} {why}"),
            ))
        };
        if self.page_count < 2 || self.page_count > file_pages {
            return bad(
                "page_count",
                format!(
                    "says {} pages but the file holds {file_pages} (truncated?)",
                    self.page_count
                ),
            );
        }
        if self.sequence == 0 || self.sequence >= COUNTER_CEILING {
            return bad("sequence", format!("{} is out of range", self.sequence));
        }
        if self.base_seq > self.sequence {
            return bad(
                "base_seq",
                format!("{} is above the sequence {}", self.base_seq, self.sequence),
            );
        }
        for (field, page) in [("root", self.root), ("freelist_head", self.freelist_head)] {
            if page != 0 && !(2..self.page_count).contains(&page) {
                return bad(
                    field,
                    format!(
                        "names page {page}, outside pages 2..{} of the commit",
                        self.page_count
                    ),
                );
            }
        }
        // A chain with no entries is legitimate: a commit whose only free page became
        // its free-list page writes one (the chain is counted before it is allocated).
        if self.freelist_len > self.page_count - 2
            || (self.freelist_head == 0 && self.freelist_len != 0)
        {
            return bad(
                "freelist_len",
                format!(
                    "{} does not fit a commit of {} pages with free list at page {}",
                    self.freelist_len, self.page_count, self.freelist_head
                ),
            );
        }
        if self.next_id == 0 || self.next_id >= COUNTER_CEILING {
            return bad("next_id", format!("{} is out of range", self.next_id));
        }
        if self.written_count > self.page_count {
            return bad(
                "written_count",
                format!(
                    "{} exceeds the commit's {} pages",
                    self.written_count, self.page_count
                ),
            );
        }
        if self.durability > MAX_DURABILITY {
            return bad("durability", format!("{} is unknown", self.durability));
        }
        Ok(())
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
