//! The cursor of a checkpointed pipe (SPEC §9): heap state, like a global (DESIGN
//! decision 2). It is stored under the catalog key `c` + name as one map object whose
//! fields are below, so it commits in the same superblock swap as everything else a
//! checkpoint makes durable, its references (the stream, the terminal's arguments, the
//! accumulator) are roots of the collector, and it loads through the same code as a
//! global.
//!
//! The VM keeps the cursors a run has used in a [`Cursors`] cache; a commit writes the
//! dirty ones, a rollback drops them all (they load again from the heap's state).

use crate::error::RtError;
use crate::pipe::files::FilePos;
use crate::value::{Entries, MapKey, Str, Value};
use std::collections::HashMap;
use std::rc::Rc;

/// Where a cursor's pass stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassState {
    /// No pass open: the next call starts a pass from the cursor.
    Idle,
    /// A pass was interrupted (a crash or an error): the next call resumes it.
    Open,
    /// A pass reached its end and committed, but the run that did it may have died before
    /// its result was seen: the next call returns that result (then the cursor is idle).
    Ended,
}

impl PassState {
    fn code(self) -> i64 {
        match self {
            PassState::Idle => 0,
            PassState::Open => 1,
            PassState::Ended => 2,
        }
    }

    fn from_code(c: i64) -> Option<PassState> {
        Some(match c {
            0 => PassState::Idle,
            1 => PassState::Open,
            2 => PassState::Ended,
            _ => return None,
        })
    }
}

/// The source position: what to read next.
#[derive(Clone, Debug)]
pub enum SourcePos {
    /// The start of the source (a new cursor, or after `reset()`).
    Start,
    /// A table: the next row slot (slots are stable for life, so this is exact even after
    /// deletions), and the scan end taken when the pass began (a resumed pass ends where an
    /// uninterrupted one would, even if the pipe inserts into its own source).
    Slot { next: u64, end: u64 },
    /// A list or map: the next index, and the length when the pass began.
    Index { next: u64, end: u64 },
    /// A range: the next value.
    Value { next: i64 },
    /// A string: the next byte.
    Byte { next: u64 },
    /// A file: the offset after the last record taken, with its guard.
    File(FilePos),
}

/// One checkpointed pipe's durable state.
#[derive(Clone)]
pub struct Cursor {
    pub name: Rc<str>,
    pub fingerprint: u64,
    /// The normalized definition (for messages and `status()`).
    pub text: Rc<str>,
    pub every: i64,
    /// The stream of the pass in progress (what warm boot runs).
    pub stream: Value,
    /// The terminal of the pass in progress and its arguments after the stream.
    pub terminal: Rc<str>,
    pub args: Vec<Value>,
    pub pass: PassState,
    pub source: SourcePos,
    /// Source elements consumed over every pass (`position()`).
    pub position: u64,
    /// `position` when the current pass began.
    pub pass_start: u64,
    /// The position the current pass will end at, when known.
    pub total: Option<u64>,
    /// Each stage's take/skip/enumerate count, as of the position.
    pub counts: Vec<i64>,
    /// The terminal's accumulator as of the position (see `pipe::accumulate`).
    pub acc: Value,
    /// Growing accumulators: one list per checkpoint, holding what it added, in order.
    pub chunks: Vec<Value>,
    /// The same chunks as they are stored: a chain from the newest, each link a list
    /// `[previous link or nil, chunk]`, so a checkpoint writes its own chunk and one link,
    /// never the chunks before it again.
    chain: Value,
    pub checkpoints: u64,
    pub resumes: u64,
    pub passes: u64,
    pub last_commit_us: u64,
    pub last_resume_us: u64,
}

impl Cursor {
    pub fn new(name: Rc<str>, fingerprint: u64, text: Rc<str>, every: i64) -> Cursor {
        Cursor {
            name,
            fingerprint,
            text,
            every,
            stream: Value::Nil,
            terminal: "".into(),
            args: Vec::new(),
            pass: PassState::Idle,
            source: SourcePos::Start,
            position: 0,
            pass_start: 0,
            total: None,
            counts: Vec::new(),
            acc: Value::Nil,
            chunks: Vec::new(),
            chain: Value::Nil,
            checkpoints: 0,
            resumes: 0,
            passes: 0,
            last_commit_us: 0,
            last_resume_us: 0,
        }
    }

    /// Add what a checkpoint's accumulator added.
    pub fn push_chunk(&mut self, chunk: Value) {
        self.chain = Value::list(vec![std::mem::take(&mut self.chain), chunk.clone()]);
        self.chunks.push(chunk);
    }

    /// A new pass: no chunks.
    pub fn clear_chunks(&mut self) {
        self.chunks.clear();
        self.chain = Value::Nil;
    }

    /// `status()`: every field a user may want, by name.
    pub fn status(&self) -> Value {
        let state = match self.pass {
            PassState::Idle if self.passes == 0 && self.position == 0 => "new",
            // An ended pass's result may not have been seen (the run that ended it failed
            // later): the next call, or warm boot, returns it again. Its work is done.
            PassState::Idle | PassState::Ended => "finished",
            PassState::Open => "interrupted",
        };
        let ms = |us: u64| Value::Float(us as f64 / 1000.0);
        let mut e = Entries::default();
        put(
            &mut e,
            "name",
            Value::Str(Rc::new(Str::new(self.name.to_string()))),
        );
        put(&mut e, "state", Value::str(state));
        put(&mut e, "position", int(self.position));
        put(&mut e, "total", self.total.map_or(Value::Nil, int));
        put(&mut e, "every", Value::Int(self.every));
        put(&mut e, "checkpoints", int(self.checkpoints));
        put(&mut e, "resumes", int(self.resumes));
        put(&mut e, "passes", int(self.passes));
        put(&mut e, "last_commit_ms", ms(self.last_commit_us));
        put(&mut e, "last_resume_ms", ms(self.last_resume_us));
        put(
            &mut e,
            "fingerprint",
            Value::str(format!("{:016x}", self.fingerprint)),
        );
        put(
            &mut e,
            "definition",
            Value::str(walia_lang::fingerprint::display(&self.text)),
        );
        Value::map(e)
    }

    /// The map object this cursor is stored as.
    pub fn to_entries(&self) -> Entries {
        let mut e = Entries::default();
        put(&mut e, "version", Value::Int(1));
        put(&mut e, "name", Value::str(self.name.to_string()));
        put(&mut e, "fingerprint", Value::Int(self.fingerprint as i64));
        put(&mut e, "text", Value::str(self.text.to_string()));
        put(&mut e, "every", Value::Int(self.every));
        put(&mut e, "stream", self.stream.clone());
        put(&mut e, "terminal", Value::str(self.terminal.to_string()));
        put(&mut e, "args", Value::list(self.args.clone()));
        put(&mut e, "state", Value::Int(self.pass.code()));
        put(&mut e, "source", source_value(&self.source));
        put(&mut e, "position", int(self.position));
        put(&mut e, "pass_start", int(self.pass_start));
        put(&mut e, "total", self.total.map_or(Value::Nil, int));
        let counts = self.counts.iter().map(|c| Value::Int(*c)).collect();
        put(&mut e, "counts", Value::list(counts));
        put(&mut e, "acc", self.acc.clone());
        put(&mut e, "chunks", self.chain.clone());
        put(&mut e, "checkpoints", int(self.checkpoints));
        put(&mut e, "resumes", int(self.resumes));
        put(&mut e, "passes", int(self.passes));
        put(&mut e, "last_commit_us", int(self.last_commit_us));
        put(&mut e, "last_resume_us", int(self.last_resume_us));
        e
    }

    /// Read a stored cursor back; `None` names what is malformed.
    pub fn from_value(v: &Value) -> Result<Cursor, String> {
        let Value::Map(m) = v else {
            return Err("not a map".into());
        };
        let e = m.entries.borrow();
        let field = |k: &str| {
            e.get(&crate::value::KeyRef::Str(k))
                .cloned()
                .ok_or_else(|| format!("no field '{k}'"))
        };
        let text_of = |k: &str| -> Result<Rc<str>, String> {
            match field(k)? {
                Value::Str(s) => Ok(s.as_str().into()),
                _ => Err(format!("field '{k}' is not a string")),
            }
        };
        let int_of = |k: &str| -> Result<i64, String> {
            match field(k)? {
                Value::Int(i) => Ok(i),
                _ => Err(format!("field '{k}' is not an Int")),
            }
        };
        let u = |k: &str| {
            int_of(k).and_then(|i| u64::try_from(i).map_err(|_| format!("field '{k}' is negative")))
        };
        let list_of = |k: &str| -> Result<Vec<Value>, String> {
            match field(k)? {
                Value::List(l) => Ok(l.items.borrow().clone()),
                _ => Err(format!("field '{k}' is not a list")),
            }
        };
        let mut counts = Vec::new();
        for c in list_of("counts")? {
            match c {
                Value::Int(i) => counts.push(i),
                _ => return Err("a stage count is not an Int".into()),
            }
        }
        Ok(Cursor {
            name: text_of("name")?,
            fingerprint: int_of("fingerprint")? as u64,
            text: text_of("text")?,
            every: int_of("every")?,
            stream: field("stream")?,
            terminal: text_of("terminal")?,
            args: list_of("args")?,
            pass: PassState::from_code(int_of("state")?).ok_or("a bad pass state")?,
            source: source_from(&field("source")?)?,
            position: u("position")?,
            pass_start: u("pass_start")?,
            total: match field("total")? {
                Value::Int(i) if i >= 0 => Some(i as u64),
                _ => None,
            },
            counts,
            acc: field("acc")?,
            chunks: chunks_of(&field("chunks")?)?,
            chain: field("chunks")?,
            checkpoints: u("checkpoints")?,
            resumes: u("resumes")?,
            passes: u("passes")?,
            last_commit_us: u("last_commit_us")?,
            last_resume_us: u("last_resume_us")?,
        })
    }
}

/// The chunks of a stored chain, oldest first.
fn chunks_of(chain: &Value) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut link = chain.clone();
    loop {
        let next = match &link {
            Value::Nil => break,
            Value::List(l) => match l.items.borrow().as_slice() {
                [prev, chunk] => {
                    out.push(chunk.clone());
                    prev.clone()
                }
                _ => return Err("a bad accumulator chunk link".into()),
            },
            _ => return Err("a bad accumulator chunk link".into()),
        };
        link = next;
    }
    out.reverse();
    Ok(out)
}

fn put(e: &mut Entries, k: &str, v: Value) {
    e.insert(MapKey::Str(Rc::new(Str::new(k.to_string()))), v);
}

fn int(u: u64) -> Value {
    Value::Int(u.min(i64::MAX as u64) as i64)
}

fn source_value(s: &SourcePos) -> Value {
    let u = |x: u64| int(x);
    let items = match s {
        SourcePos::Start => vec![Value::str("start")],
        SourcePos::Slot { next, end } => vec![Value::str("slot"), u(*next), u(*end)],
        SourcePos::Index { next, end } => vec![Value::str("index"), u(*next), u(*end)],
        SourcePos::Value { next } => vec![Value::str("value"), Value::Int(*next)],
        SourcePos::Byte { next } => vec![Value::str("byte"), u(*next)],
        SourcePos::File(f) => vec![
            Value::str("file"),
            u(f.offset),
            u(f.line),
            f.state.clone(),
            Value::Int(f.crc_tail as i64),
            Value::Int(f.crc_head as i64),
        ],
    };
    Value::list(items)
}

fn source_from(v: &Value) -> Result<SourcePos, String> {
    let Value::List(l) = v else {
        return Err("the source position is not a list".into());
    };
    let items = l.items.borrow();
    let int_at = |i: usize| match items.get(i) {
        Some(Value::Int(x)) => Ok(*x),
        _ => Err("a bad source position".to_string()),
    };
    let u_at = |i: usize| {
        int_at(i)
            .and_then(|x| u64::try_from(x).map_err(|_| "a negative source position".to_string()))
    };
    let kind = match items.first() {
        Some(Value::Str(s)) => s.as_str().to_string(),
        _ => return Err("a bad source position".into()),
    };
    Ok(match kind.as_str() {
        "start" => SourcePos::Start,
        "slot" => SourcePos::Slot {
            next: u_at(1)?,
            end: u_at(2)?,
        },
        "index" => SourcePos::Index {
            next: u_at(1)?,
            end: u_at(2)?,
        },
        "value" => SourcePos::Value { next: int_at(1)? },
        "byte" => SourcePos::Byte { next: u_at(1)? },
        "file" => SourcePos::File(FilePos {
            offset: u_at(1)?,
            line: u_at(2)?,
            state: items.get(3).cloned().unwrap_or_default(),
            crc_tail: int_at(4)? as u32,
            crc_head: int_at(5)? as u32,
        }),
        other => return Err(format!("an unknown source position '{other}'")),
    })
}

/// The cursors a run has used, by name.
#[derive(Default)]
pub struct Cursors {
    pub(crate) live: HashMap<Rc<str>, CursorSlot>,
}

/// A cursor in the cache.
pub struct CursorSlot {
    pub cursor: Cursor,
    /// Changed since the last commit.
    pub dirty: bool,
    /// The map object it is stored as (kept so it keeps its stored id).
    pub stored: Option<Value>,
    /// Without a heap: the state as of the last commit, restored by a rollback.
    pub committed: Option<Cursor>,
    /// A checkpointed pass of this cursor is running now.
    pub running: bool,
}

/// A stored cursor that cannot be read.
pub fn bad_cursor(name: &str, why: &str) -> RtError {
    RtError::new(format!(
        "the stored cursor of checkpointed pipe '{name}' is damaged: {why}"
    ))
}

/// The fingerprint of a definition's normalized text (FNV-1a 64: stable across builds).
pub use walia_lang::fingerprint::fingerprint;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_map() {
        let mut c = Cursor::new("up".into(), fingerprint("a |> b"), "a |> b".into(), 10);
        c.pass = PassState::Open;
        c.position = 42;
        c.pass_start = 40;
        c.total = Some(100);
        c.counts = vec![0, 3];
        c.source = SourcePos::Slot { next: 57, end: 99 };
        c.acc = Value::list(vec![Value::Int(0), Value::Float(1.5), Value::Int(2)]);
        c.push_chunk(Value::list(vec![Value::Int(9)]));
        c.push_chunk(Value::list(vec![Value::Int(10)]));
        c.resumes = 2;
        let back = Cursor::from_value(&Value::map(c.to_entries())).expect("decodes");
        assert_eq!(back.position, 42);
        assert_eq!(back.pass, PassState::Open);
        assert_eq!(back.counts, vec![0, 3]);
        assert_eq!(back.total, Some(100));
        assert_eq!(back.resumes, 2);
        assert_eq!(back.fingerprint, c.fingerprint);
        assert!(matches!(back.source, SourcePos::Slot { next: 57, end: 99 }));
        assert_eq!(back.chunks.len(), 2);
        assert!(
            matches!(&back.chunks[1], Value::List(l) if matches!(l.items.borrow()[0], Value::Int(10)))
        );
    }

    #[test]
    fn a_damaged_cursor_is_an_error_not_a_panic() {
        let mut e = Cursor::new("x".into(), 1, "t".into(), 1).to_entries();
        put(&mut e, "position", Value::str("many"));
        assert!(Cursor::from_value(&Value::map(e)).is_err());
        assert!(Cursor::from_value(&Value::Int(3)).is_err());
        let mut e = Cursor::new("x".into(), 1, "t".into(), 1).to_entries();
        put(
            &mut e,
            "source",
            Value::list(vec![Value::str("slot"), Value::Int(-1)]),
        );
        assert!(Cursor::from_value(&Value::map(e)).is_err());
    }

    /// FNV-1a 64 of known inputs: the fingerprint must never change between builds.
    #[test]
    fn the_fingerprint_is_fnv1a() {
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fingerprint("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
