//! The layout of a column page, read and written here and nowhere else.
//!
//! A column page holds the values of one column for [`ROWS_PER_PAGE`] consecutive rows:
//! after the page header, a 64-byte bitmap (bit set: the value is present, clear: nil),
//! then one 8-byte little-endian value per row: Int and Float as their bits, Bool as 0/1,
//! a String as the offset (low 40 bits) and length (high 24 bits) of its bytes in the
//! table's string segment. A table's deletion marks use the same page with only the bitmap
//! (bit set: the row is deleted). A page that was never written reads as all nil (page
//! number 0 in the segment), so a column added later costs nothing for old rows.

use crate::page::{HEADER_LEN, read_u64};

/// Rows per column page.
pub const ROWS_PER_PAGE: usize = 500;
/// Where the bitmap starts in the page.
pub const BITMAP_AT: usize = HEADER_LEN;
/// Where the value of slot 0 starts in the page (slot `s` at `VALUES_AT + 8 * s`).
pub const VALUES_AT: usize = HEADER_LEN + 64;

/// The bitmap bit of `slot`: the value is present (column pages) or the row is deleted
/// (deletion-mark pages).
#[inline]
pub fn bit(bytes: &[u8], slot: usize) -> bool {
    bytes[BITMAP_AT + slot / 8] & (1 << (slot % 8)) != 0
}

/// The stored 8 bytes of `slot` (meaningful only where [`bit`] is set).
#[inline]
pub fn raw(bytes: &[u8], slot: usize) -> u64 {
    read_u64(bytes, VALUES_AT + 8 * slot)
}

/// The value of `slot`, `None` for nil.
#[inline]
pub fn value(bytes: &[u8], slot: usize) -> Option<u64> {
    bit(bytes, slot).then(|| raw(bytes, slot))
}

pub fn set_bit(buf: &mut [u8], slot: usize, on: bool) {
    let b = &mut buf[BITMAP_AT + slot / 8];
    if on {
        *b |= 1 << (slot % 8);
    } else {
        *b &= !(1 << (slot % 8));
    }
}

/// Store the value of `slot` (`None`: nil).
pub fn write(buf: &mut [u8], slot: usize, value: Option<u64>) {
    set_bit(buf, slot, value.is_some());
    let at = VALUES_AT + 8 * slot;
    buf[at..at + 8].copy_from_slice(&value.unwrap_or(0).to_le_bytes());
}

/// Store `values[s]` at each slot `s` of `from..to` whose `flags[s]` is 1 (flags are 0
/// or 1), marking it present (a compiled update's rows, written once nothing can fail any
/// more).
pub fn write_flagged(buf: &mut [u8], values: &[u64], flags: &[u8], from: usize, to: usize) {
    let (Some(values), Some(flags)) = (values.get(from..to), flags.get(from..to)) else {
        return;
    };
    let slots = &mut buf[VALUES_AT + 8 * from..VALUES_AT + 8 * to];
    // A mask rather than a branch: the loop vectorises, and a filter's pattern of written
    // rows costs no mispredictions. Unflagged slots get their own bytes back.
    for ((dst, v), f) in slots.chunks_exact_mut(8).zip(values).zip(flags) {
        let keep = u64::from(*f).wrapping_sub(1);
        let old = u64::from_le_bytes([
            dst[0], dst[1], dst[2], dst[3], dst[4], dst[5], dst[6], dst[7],
        ]);
        dst.copy_from_slice(&((v & !keep) | (old & keep)).to_le_bytes());
    }
    // Eight flags make one bitmap byte: loaded as a word, the multiplication moves byte
    // i's low bit to bit 56 + i (the partial products land on distinct bits, so nothing
    // carries into the top byte).
    let mut slot = from;
    while slot < to {
        let byte = slot / 8;
        let (lo, hi) = (slot % 8, (to - byte * 8).min(8));
        let bits = if lo == 0 && hi == 8 {
            let f = &flags[slot - from..slot - from + 8];
            let word = u64::from_le_bytes([f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]]);
            (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
        } else {
            (lo..hi).fold(0u8, |bits, s| bits | (flags[byte * 8 + s - from] & 1) << s)
        };
        buf[BITMAP_AT + byte] |= bits;
        slot = byte * 8 + hi;
    }
}

/// How many bitmap bits of slots `from..to` are set (a word at a time).
pub fn count_bits(bytes: &[u8], from: usize, to: usize) -> usize {
    let mut n = 0;
    let mut slot = from;
    while slot < to {
        let word = slot / 64;
        let lo = slot % 64;
        let hi = (to - word * 64).min(64);
        let mut bits = read_u64(bytes, BITMAP_AT + word * 8) >> lo;
        if hi - lo < 64 {
            bits &= (1u64 << (hi - lo)) - 1;
        }
        n += bits.count_ones() as usize;
        slot = word * 64 + hi;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flagged_writes_store_and_mark_only_flagged_slots() {
        let mut page = vec![0u8; crate::PAGE_SIZE];
        let values: Vec<u64> = (0..ROWS_PER_PAGE as u64).map(|v| v * 3).collect();
        let mut flags = vec![0u8; ROWS_PER_PAGE];
        for s in [0, 9, 10, 499] {
            flags[s] = 1;
        }
        write_flagged(&mut page, &values, &flags, 5, 500);
        for s in 0..ROWS_PER_PAGE {
            let want = [9, 10, 499].contains(&s);
            assert_eq!(value(&page, s), want.then_some(s as u64 * 3), "slot {s}");
        }
    }

    #[test]
    fn flagged_writes_match_slot_by_slot_writes() {
        // Every alignment of from/to against the bitmap bytes, flags in a mixed pattern,
        // and slots already present that are not written keep their value.
        let values: Vec<u64> = (0..ROWS_PER_PAGE as u64).map(|v| v * 7 + 1).collect();
        let flags: Vec<u8> = (0..ROWS_PER_PAGE)
            .map(|s| ((s * 37 % 11) < 6) as u8)
            .collect();
        for (from, to) in [(0, 500), (1, 9), (7, 8), (8, 16), (3, 499), (9, 10), (0, 0)] {
            let mut page = vec![0u8; crate::PAGE_SIZE];
            for s in (0..ROWS_PER_PAGE).step_by(3) {
                write(&mut page, s, Some(1000 + s as u64));
            }
            let mut want = page.clone();
            for s in from..to {
                if flags[s] == 1 {
                    write(&mut want, s, Some(values[s]));
                }
            }
            write_flagged(&mut page, &values, &flags, from, to);
            assert!(page == want, "slots {from}..{to}");
        }
    }

    #[test]
    fn counting_bits_matches_bit_by_bit() {
        let mut page = vec![0u8; crate::PAGE_SIZE];
        for s in [0, 3, 63, 64, 65, 127, 128, 300, 499] {
            set_bit(&mut page, s, true);
        }
        for (from, to) in [
            (0, 500),
            (1, 64),
            (64, 128),
            (3, 4),
            (65, 499),
            (0, 0),
            (128, 500),
        ] {
            let slow = (from..to).filter(|s| bit(&page, *s)).count();
            assert_eq!(count_bits(&page, from, to), slow, "{from}..{to}");
        }
    }
}
