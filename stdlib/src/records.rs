//! @group Files
//!
//! Reading one line of a file with a cap on its length. A file without line ends would
//! otherwise be read as a single line that grows until memory runs out; every reader of
//! lines and records (`lines`, `read_csv`, `read_jsonl`, imports) stops at the cap
//! instead, with an error naming the file and the line.

use std::io::{self, BufRead};

/// Append the next line (with its `\n`, if any) to `buf`: the bytes read, `0` at the end
/// of the input; `Err(TooLong)` once the line passes `cap` bytes (its line end not counted).
pub fn read_line_capped<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    cap: u64,
) -> io::Result<Result<usize, TooLong>> {
    let mut read = 0usize;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(Ok(read));
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let text = take - usize::from(done);
        if (read + text) as u64 > cap {
            return Ok(Err(TooLong { cap }));
        }
        // The line grows under the memory limit too (a cap above the limit is allowed).
        // Readers report I/O errors, so the limit error travels as a pending one: the
        // builtin that reads ends with it (a limit, never a bad line that `skip_bad` skips).
        walia_runtime::api::reserve(buf, take).map_err(|e| {
            let error = io::Error::other(e.message.clone());
            walia_runtime::api::set_pending(e);
            error
        })?;
        buf.extend_from_slice(&available[..take]);
        input.consume(take);
        read += take;
        if done {
            return Ok(Ok(read));
        }
    }
}

/// A line or record longer than the cap.
#[derive(Clone, Copy, Debug)]
pub struct TooLong {
    pub cap: u64,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a line or record is longer than {} (the limit: --max-record SIZE, or \
             max_record in db_import's options, raises it)",
            human_bytes(self.cap)
        )
    }
}

/// `64 MiB`, `1 KiB`, `100 bytes`.
pub fn human_bytes(n: u64) -> String {
    for (unit, name) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_up_to_the_cap_are_read_and_a_longer_one_is_refused() {
        let mut input = io::BufReader::with_capacity(4, "abc\r\nabcdef\nxy".as_bytes());
        let mut buf = Vec::new();
        assert_eq!(
            read_line_capped(&mut input, &mut buf, 4)
                .ok()
                .map(|r| r.ok()),
            Some(Some(5))
        );
        assert_eq!(buf, b"abc\r\n");
        buf.clear();
        let long = read_line_capped(&mut input, &mut buf, 4).expect("no I/O error");
        assert!(long.is_err());
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(100), "100 bytes");
    }
}
