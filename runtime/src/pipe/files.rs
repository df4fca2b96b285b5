//! Sources a pipeline reads from outside memory: files read record by record (`lines`,
//! `read_csv`, `read_jsonl`). The runtime knows them only by name and path; how a file is
//! read is registered on the VM by whoever provides the source (the stdlib), through the
//! same API an embedder would use for a source of its own.

use crate::error::RtResult;
use crate::value::Value;
use std::rc::Rc;

/// Reads one record at a time.
pub trait RecordReader {
    /// The next record, `None` at the end.
    fn next_record(&mut self) -> RtResult<Option<Value>>;

    /// The next record whose text contains `needle`, with the number of records passed
    /// over before it; `None` when this reader cannot search (then `next_record` is used).
    /// A pipeline whose first stage is `filter(l => contains(l, "literal"))` reads this
    /// way; records passed over must be checked exactly as `next_record` would (a bad
    /// record is the same error at the same place).
    fn next_containing(&mut self, _needle: &str) -> Option<RtResult<Option<(u64, Value)>>> {
        None
    }

    /// Where this reader stands after the last record it returned (`None`: it cannot
    /// resume). Computing the guard costs two small reads.
    fn position(&mut self) -> RtResult<Option<FilePos>> {
        Ok(None)
    }

    /// Continue after `pos` (checking its guard first, in O(1) reads).
    fn seek(&mut self, _pos: &FilePos) -> RtResult<()> {
        Err(crate::error::RtError::new(
            "this source cannot resume".to_string(),
        ))
    }
}

/// Where a file reader stands after the last record it returned.
#[derive(Clone, Debug)]
pub struct FilePos {
    /// Byte offset just after the last record returned (not the buffered reader's position).
    pub offset: u64,
    /// Physical lines consumed (line numbers in later errors stay the file's).
    pub line: u64,
    /// Reader state needed to continue (read_csv: its header and inferred column types),
    /// made of lists, strings, Ints and nil only; nil when none.
    pub state: Value,
    /// Guard: crc32 of the up-to-4 KiB window ending at `offset`, and of the first up-to-4 KiB.
    pub crc_tail: u32,
    pub crc_head: u32,
}

/// Opens a source at a path.
pub type SourceOpener = fn(&str) -> RtResult<Box<dyn RecordReader>>;

/// A file source: re-opened each time a pipeline over it runs (a stream is a reusable
/// description), stored in the heap by kind and path.
pub struct FileSource {
    /// The source's registered name (`lines`, `read_csv`...).
    pub kind: Rc<str>,
    pub path: Rc<str>,
    pub open: SourceOpener,
}

impl FileSource {
    pub fn value(kind: &str, path: &str, open: SourceOpener) -> Value {
        Value::File(Rc::new(FileSource {
            kind: kind.into(),
            path: path.into(),
            open,
        }))
    }
}
