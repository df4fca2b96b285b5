//! Copying a table into another heap, for compaction. Each segment's written pages are
//! copied in order and its directories written after them, so a column's pages lie
//! together; the key index is rebuilt in key order, which fills its pages. Row slots,
//! counters, string offsets and deletion marks stay as they were: row values and the
//! cursors of checkpointed pipes that name a slot read the same row in the copy.

use super::keys::{self, Inserted};
use super::record::{KeyKind, TableRecord};
use super::segment::copy_stored;
use crate::btree;
use crate::error::{HeapError, HeapResult};
use crate::page::PageKind;
use crate::pager::Pager;

/// Copy the table `rec` describes from `from` into `to`; returns the copy's record.
/// `copied` is called once per data page copied.
pub fn copy_table(
    from: &mut Pager,
    rec: &TableRecord,
    to: &mut Pager,
    copied: &mut dyn FnMut(),
) -> HeapResult<TableRecord> {
    let mut copy = rec.clone();
    for c in &mut copy.columns {
        c.root = copy_stored(from, c.root, PageKind::Column, to, copied)?;
    }
    copy.deleted = copy_stored(from, rec.deleted, PageKind::Column, to, copied)?;
    copy.strings = copy_stored(from, rec.strings, PageKind::Strings, to, copied)?;
    copy.key_root = match rec.key_kind {
        KeyKind::None => 0,
        KeyKind::Int => {
            let mut root = 0;
            keys::for_each_entry(from, rec.key_root, &mut |key, row| {
                match keys::insert(to, root, key, row)? {
                    Inserted::Root(r) => root = r,
                    Inserted::Exists(_) => {
                        return Err(HeapError::corrupt(
                            rec.key_root,
                            format!("key index holds id {key} twice"),
                        ));
                    }
                }
                Ok(())
            })?;
            root
        }
        KeyKind::Str => {
            let mut root = 0;
            for (key, row) in btree::scan(from, rec.key_root, b"")? {
                root = btree::put(to, root, &key, &row)?;
            }
            root
        }
    };
    Ok(copy)
}
