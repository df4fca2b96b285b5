//! Sources a pipeline reads from outside memory: files read record by record (`lines`,
//! `read_csv`, `read_jsonl`). The runtime knows them only by name and path; how a file is
//! read is registered on the VM by whoever provides the source (the stdlib), through the
//! same API an embedder would use for a source of its own.

use crate::error::{RtError, RtResult};
use crate::value::Value;
use std::rc::Rc;

/// Where a file reader stands after the last record it returned: what a checkpointed pipe
/// (SPEC §9) stores to continue reading the file in a later run.
#[derive(Clone, Debug)]
pub struct FilePos {
    /// Byte offset just after the last record returned (not the buffered reader's position).
    pub offset: u64,
    /// Physical lines consumed (for error messages after a resume: line numbers stay the file's).
    pub line: u64,
    /// Reader state needed to continue (read_csv: its header and the column types it
    /// inferred), as a Value (Nil when none). Made of Lists/Strings/Ints/Nil only so it can
    /// be stored in the heap.
    pub state: Value,
    /// Guard: crc32 of the up-to-4 KiB window ending at `offset`, and of the first up-to-4
    /// KiB of the file (never past `offset`: bytes after it may change, as appends do).
    pub crc_tail: u32,
    pub crc_head: u32,
}

/// `Value` has no `PartialEq` (script equality can fail on deep values); the state is
/// small lists of strings and ints, compared as the `==` of scripts does.
impl PartialEq for FilePos {
    fn eq(&self, other: &FilePos) -> bool {
        self.offset == other.offset
            && self.line == other.line
            && self.crc_tail == other.crc_tail
            && self.crc_head == other.crc_head
            && crate::ops::equal(&self.state, &other.state)
    }
}

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

    /// Where the reader stands after the last record `next_record` returned, with the
    /// guard that [`RecordReader::seek`] checks (two small reads: O(1)). `None`: this
    /// reader cannot resume (also after `next_containing` was used: its reads run ahead).
    fn position(&mut self) -> RtResult<Option<FilePos>> {
        Ok(None)
    }

    /// Continue a freshly opened reader at `pos` (taken by `position` in an earlier run):
    /// the next record is the one after `pos.offset`, and line numbers count on from
    /// `pos.line`. An error when the file shrank below the offset, or the bytes before it
    /// changed (as far as the guard sees).
    fn seek(&mut self, _pos: &FilePos) -> RtResult<()> {
        Err(RtError::new("this source cannot resume"))
    }
}

/// Opens a source: reads `source.path`, names `source.shown` in errors.
pub type SourceOpener = fn(&FileSource) -> RtResult<Box<dyn RecordReader>>;

/// A file source: re-opened each time a pipeline over it runs (a stream is a reusable
/// description), stored in the heap by kind and path.
pub struct FileSource {
    /// The source's registered name (`lines`, `read_csv`...).
    pub kind: Rc<str>,
    /// The path read and stored: absolute, so a heap used from another working directory
    /// (a warm boot, SPEC §9) still reads the same file.
    pub path: Rc<str>,
    /// The path as the script gave it, for messages (after a reload from the heap: `path`).
    pub shown: Rc<str>,
    /// How to read the file, as text the source's opener understands (`read_csv`:
    /// `delimiter=;`); empty for the defaults. Stored with the stream, so a pipe resumed
    /// in a later run reads the file as the first run did.
    pub options: Rc<str>,
    pub open: SourceOpener,
}

/// Separates a source's kind from its options in the heap's file item (`read_csv?delimiter=;`),
/// so the item's layout stays as it was and a build without options names the source it
/// lacks.
const OPTIONS_MARK: char = '?';

impl FileSource {
    /// A source reading `path`, made absolute against the current directory now (left as
    /// given when it cannot be: an empty path, or a directory name that is not UTF-8).
    pub fn value(kind: &str, path: &str, open: SourceOpener) -> Value {
        FileSource::with_options(kind, path, "", open)
    }

    /// [`FileSource::value`] with options for its opener (see [`FileSource::options`]).
    pub fn with_options(kind: &str, path: &str, options: &str, open: SourceOpener) -> Value {
        let absolute = std::path::absolute(path)
            .ok()
            .and_then(|p| p.to_str().map(Rc::from))
            .unwrap_or_else(|| Rc::from(path));
        Value::File(Rc::new(FileSource {
            kind: kind.into(),
            path: absolute,
            shown: path.into(),
            options: options.into(),
            open,
        }))
    }

    /// The kind as the heap stores it: with the options, when there are any.
    pub fn stored_kind(&self) -> String {
        if self.options.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}{OPTIONS_MARK}{}", self.kind, self.options)
        }
    }

    /// A stored kind split into the source's name and its options.
    pub fn split_stored_kind(stored: &str) -> (&str, &str) {
        stored.split_once(OPTIONS_MARK).unwrap_or((stored, ""))
    }

    /// Open a reader at the start of the file.
    pub fn reader(&self) -> RtResult<Box<dyn RecordReader>> {
        (self.open)(self)
    }
}
