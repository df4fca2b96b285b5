//! Reading a pipeline's source one element at a time: lists, ranges, strings, maps,
//! files (record by record, or searching for a literal) and tables (a chunk of live row
//! numbers at a time).

use crate::db::handle::{RowRef, TableId};
use crate::error::{RtError, RtResult};
use crate::value::*;
use std::rc::Rc;

/// Reads a source one element at a time.
pub(super) enum SourceIter {
    List {
        list: Rc<List>,
        next: usize,
        /// Read no further than this index (a batch the interpreter runs).
        end: usize,
    },
    Range {
        next: i64,
        end: i64,
    },
    Str {
        s: Rc<Str>,
        byte: usize,
    },
    /// Map entries as `[key, value]` pairs, or just keys (a `for` loop over a map).
    Map {
        map: Rc<Map>,
        next: usize,
        keys_only: bool,
    },
    /// A file, record by record.
    File(FileRead),
    /// A table's live rows in insertion order, read a chunk of row numbers at a time. The
    /// chunk is good while no table changes (the write epoch it was read at); after a
    /// change (the loop deleted a row, say) the rest is read again.
    Table {
        table: TableId,
        next: u64,
        end: u64,
        chunk: Vec<u32>,
        at: usize,
        epoch: u64,
    },
}

/// A file source being read.
pub struct FileRead {
    reader: Box<dyn crate::pipe::files::RecordReader>,
    /// Read only the records containing this (the first stage is that filter).
    pub(super) needle: Option<Rc<str>>,
    /// Records passed over by the search since the last look.
    pub(super) skipped: u64,
}

impl FileRead {
    /// Where the reader stands after the last record it returned.
    pub(super) fn position(&mut self) -> RtResult<Option<crate::pipe::files::FilePos>> {
        self.reader.position()
    }

    /// Continue after a stored position (its guard checked first).
    pub(super) fn seek(&mut self, pos: &crate::pipe::files::FilePos) -> RtResult<()> {
        self.reader.seek(pos)
    }
}

/// Rows a table scan reads per visit to the heap.
const TABLE_CHUNK: usize = 256;

impl SourceIter {
    pub(super) fn new(v: &Value, keys_only: bool) -> RtResult<SourceIter> {
        Ok(match v {
            Value::List(l) => SourceIter::List {
                list: l.clone(),
                next: 0,
                end: usize::MAX,
            },
            Value::Range(r) => SourceIter::Range {
                next: r.start,
                end: r.end,
            },
            Value::Str(s) => SourceIter::Str {
                s: s.clone(),
                byte: 0,
            },
            Value::Map(m) => SourceIter::Map {
                map: m.clone(),
                next: 0,
                keys_only,
            },
            Value::File(f) => SourceIter::File(FileRead {
                reader: f.reader()?,
                needle: None,
                skipped: 0,
            }),
            Value::Table(t) => SourceIter::Table {
                table: *t,
                next: 0,
                end: crate::db::handle::scan_end(*t)?,
                chunk: Vec::new(),
                at: 0,
                epoch: 0,
            },
            other => {
                return Err(RtError::new(format!(
                    "cannot iterate over a value of type {}",
                    other.type_name()
                )));
            }
        })
    }

    pub(super) fn next(&mut self) -> RtResult<Option<Value>> {
        if let SourceIter::File(f) = self {
            if let Some(needle) = &f.needle {
                match f.reader.next_containing(needle) {
                    Some(found) => {
                        return found.map(|r| {
                            r.map(|(skipped, v)| {
                                f.skipped += skipped;
                                v
                            })
                        });
                    }
                    None => f.needle = None,
                }
            }
            return f.reader.next_record();
        }
        if let SourceIter::Table {
            table,
            next,
            end,
            chunk,
            at,
            epoch,
        } = self
        {
            loop {
                if *at >= chunk.len() {
                    *epoch = walia_store::write_epoch();
                    if *next >= *end {
                        return Ok(None);
                    }
                    let (rows, after) =
                        crate::db::handle::live_rows(*table, *next, *end, TABLE_CHUNK)?;
                    *chunk = rows;
                    *next = after;
                    *at = 0;
                    if chunk.is_empty() {
                        return Ok(None);
                    }
                }
                let row = chunk[*at];
                *at += 1;
                // A table changed since the chunk was read (the loop deleted a row,
                // cleared the table, rolled back): check this row again.
                if *epoch == walia_store::write_epoch()
                    || crate::db::handle::is_live_row(*table, row)?
                {
                    return Ok(Some(Value::Row(RowRef { table: *table, row })));
                }
            }
        }
        Ok(self.next_in_memory())
    }

    fn next_in_memory(&mut self) -> Option<Value> {
        match self {
            SourceIter::Table { .. } | SourceIter::File(_) => None,
            SourceIter::List { list, next, end } => {
                if *next >= *end {
                    return None;
                }
                let v = list.items.borrow().get(*next).cloned()?;
                *next += 1;
                Some(v)
            }
            SourceIter::Range { next, end } => {
                if *next >= *end {
                    return None;
                }
                let v = *next;
                *next += 1;
                Some(Value::Int(v))
            }
            SourceIter::Str { s, byte } => {
                let c = s.as_str().get(*byte..)?.chars().next()?;
                let start = *byte;
                *byte += c.len_utf8();
                Some(Value::text(&s.as_str()[start..*byte]))
            }
            SourceIter::Map {
                map,
                next,
                keys_only,
            } => {
                let entries = map.entries.borrow();
                let (k, v) = entries.get_index(*next)?;
                *next += 1;
                if *keys_only {
                    Some(k.to_value())
                } else {
                    Some(Value::list(vec![k.to_value(), v.clone()]))
                }
            }
        }
    }
}
