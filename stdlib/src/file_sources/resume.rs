//! Positions of the file readers, for checkpointed pipes (SPEC §9): where a reader stands
//! after a record, and continuing a fresh reader there in a later run.
//!
//! A position is the byte offset after the last record returned, the physical lines before
//! it, and a guard against a file that changed in between: its length must still reach the
//! offset, and two 4 KiB windows before the offset (the one ending there and the file's
//! first) must have the same crc32. That is two small reads whatever the file's size; an
//! edit elsewhere before the offset goes unseen, which is the price of O(1). Bytes after
//! the offset are free to change: a log that grows is read on from where it stopped.

use super::{CsvMaps, LineFile};
use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::rc::Rc;
use walia_runtime::api::{ColType, FilePos, Str};
use walia_runtime::{RtError, RtResult, Value};

/// Bytes of each guard window.
const WINDOW: u64 = 4096;

/// crc32 of the window ending at `offset`, and of the file's first window (both within
/// the first `offset` bytes).
pub(super) fn guard(file: &File, offset: u64) -> io::Result<(u32, u32)> {
    let mut buf = vec![0; WINDOW.min(offset) as usize];
    let tail_start = offset - buf.len() as u64;
    read_exact_at(file, &mut buf, tail_start)?;
    let tail = crc32fast::hash(&buf);
    if tail_start == 0 {
        return Ok((tail, tail));
    }
    read_exact_at(file, &mut buf, 0)?;
    Ok((tail, crc32fast::hash(&buf)))
}

/// Read at `at` without moving the file's own position (the buffered reader over it
/// reads on from there).
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_exact_at(mut file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    use std::io::Read;
    let back = file.stream_position()?;
    file.seek(SeekFrom::Start(at))?;
    let read = file.read_exact(buf);
    file.seek(SeekFrom::Start(back))?;
    read
}

fn io_error(path: &str, e: io::Error) -> RtError {
    RtError::new(format!("cannot read '{path}': {e}"))
}

/// The position `offset`/`line` of the file under `input`, with its guard.
fn position_of(
    input: &BufReader<File>,
    path: &str,
    offset: u64,
    line: u64,
    state: Value,
) -> RtResult<FilePos> {
    let (crc_tail, crc_head) = guard(input.get_ref(), offset).map_err(|e| io_error(path, e))?;
    Ok(FilePos {
        offset,
        line,
        state,
        crc_tail,
        crc_head,
    })
}

/// Check `pos`'s guard against the file under `input`, then move `input` to its offset.
fn seek_checked(input: &mut BufReader<File>, path: &str, pos: &FilePos) -> RtResult<()> {
    let at = format!("(byte {}, line {})", pos.offset, pos.line);
    let file = input.get_ref();
    let len = file.metadata().map_err(|e| io_error(path, e))?.len();
    if len < pos.offset {
        return Err(RtError::new(format!(
            "file '{path}' shrank below the checkpointed position {at}"
        )));
    }
    let crcs = guard(file, pos.offset).map_err(|e| io_error(path, e))?;
    if crcs != (pos.crc_tail, pos.crc_head) {
        return Err(RtError::new(format!(
            "file '{path}' changed before the checkpointed position {at}"
        )));
    }
    // The last record read ran to the end of the file without a line end: the file has
    // grown since, so that record was cut short (a writer was mid-line) and what follows
    // is its rest, not a record. Reading on would split one line into two records.
    if len > pos.offset && pos.offset > 0 {
        let mut last = [0u8];
        read_exact_at(file, &mut last, pos.offset - 1).map_err(|e| io_error(path, e))?;
        if last[0] != b'\n' {
            return Err(RtError::new(format!(
                "file '{path}' grew after its last line was read without a line end {at}: \
                 that line was cut short; reset() the pipe to read the file again"
            )));
        }
    }
    // Seeking a BufReader drops its buffer: the next read starts at the offset.
    input
        .seek(SeekFrom::Start(pos.offset))
        .map_err(|e| io_error(path, e))?;
    Ok(())
}

impl LineFile {
    pub(super) fn position(&self, state: Value) -> RtResult<FilePos> {
        position_of(&self.input, &self.path, self.offset, self.line, state)
    }

    pub(super) fn seek(&mut self, pos: &FilePos) -> RtResult<()> {
        seek_checked(&mut self.input, &self.path, pos)?;
        self.offset = pos.offset;
        self.line = pos.line;
        Ok(())
    }
}

impl CsvMaps {
    /// The state: `nil` before the header is read, else `[[names...], [type codes...]]`,
    /// so a resumed read types its columns as the first run did rather than from later rows.
    pub(super) fn csv_position(&self) -> RtResult<FilePos> {
        let state = match &self.header {
            None => Value::Nil,
            Some(names) => Value::list(vec![
                Value::list(names.iter().map(|n| Value::Str(n.clone())).collect()),
                Value::list(
                    self.types
                        .iter()
                        .map(|t| Value::Int(i64::from(t.code())))
                        .collect(),
                ),
            ]),
        };
        position_of(
            self.csv.input(),
            &self.path,
            self.csv.bytes,
            self.csv.line,
            state,
        )
    }

    pub(super) fn csv_seek(&mut self, pos: &FilePos) -> RtResult<()> {
        // The stored state comes from the heap: a malformed one is an error, not a panic.
        let damaged = || {
            RtError::new(format!(
                "the checkpointed position of '{}' has a damaged CSV header",
                self.path
            ))
        };
        let header = match &pos.state {
            Value::Nil => None,
            Value::List(parts) => {
                let parts = parts.items.borrow();
                let (Some(Value::List(names)), Some(Value::List(codes))) =
                    (parts.first(), parts.get(1))
                else {
                    return Err(damaged());
                };
                let names: Option<Vec<Rc<Str>>> = names
                    .items
                    .borrow()
                    .iter()
                    .map(|v| match v {
                        Value::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                let types: Option<Vec<ColType>> = codes
                    .items
                    .borrow()
                    .iter()
                    .map(|v| match v {
                        Value::Int(c) => u8::try_from(*c).ok().and_then(ColType::from_code),
                        _ => None,
                    })
                    .collect();
                match (names, types) {
                    (Some(n), Some(t)) if n.len() == t.len() => Some((n, t)),
                    _ => return Err(damaged()),
                }
            }
            _ => return Err(damaged()),
        };
        let input = self.csv.resume_at(pos.line, pos.offset);
        seek_checked(input, &self.path, pos)?;
        if let Some((names, types)) = header {
            // As reading the header sets it (`next_record`).
            self.csv.blank_is_record = names.len() == 1;
            self.types = types;
            self.header = Some(names);
        }
        Ok(())
    }
}
