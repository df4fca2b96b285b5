//! Checkpointed runs (SPEC §9, DESIGN decisions 2–4): a pipe with a `checkpoint_at(n)`
//! stage commits the heap every `n` source elements, and the commit holds the cursor
//! position, the terminal's accumulator and every heap change the pipe made since the
//! last one: one superblock swap, which is the whole of exactly-once.
//!
//! The executor pauses at a boundary only where nothing is half done: in the interpreter
//! just before it reads the next source element (no `flat_map` is draining), and between
//! batches or `parallel(n)` blocks, which are cut at the boundary. The terminal then hands
//! its accumulator to [`PipeRun::at_boundary`], which commits and lets the run go on. An
//! error rolls the heap back to the last checkpoint before it is reported, whoever called
//! the pipe (the CLI, the REPL, an embedder's `Engine::call`).

use super::accumulate::Acc;
use super::cursor::{Cursor, PassState, SourcePos, bad_cursor, fingerprint};
use super::explain::TerminalArgs;
use super::{PipeRun, SourceIter, Stage, StageState};
use crate::error::{RtError, RtResult};
use crate::value::Value;
use crate::vm::Vm;
use std::rc::Rc;
use std::time::Instant;

/// The argument of a `checkpoint_at(n, name)` stage.
pub struct CheckpointSpec {
    pub every: i64,
    pub name: Rc<str>,
    /// The normalized definition the fingerprint hashes.
    pub text: Rc<str>,
    pub fingerprint: u64,
}

impl CheckpointSpec {
    pub fn new(every: i64, name: &str, text: &str) -> CheckpointSpec {
        CheckpointSpec {
            every,
            name: name.into(),
            text: text.into(),
            fingerprint: fingerprint(text),
        }
    }

    /// The stage as a stream record stores it: `every`, name and text, NUL-separated
    /// (names and source text hold no NUL).
    pub fn encode(&self) -> String {
        format!("{}\0{}\0{}", self.every, self.name, self.text)
    }

    pub fn decode(s: &str) -> Option<CheckpointSpec> {
        let mut parts = s.splitn(3, '\0');
        let every = parts.next()?.parse().ok()?;
        let name = parts.next()?;
        let text = parts.next()?;
        Some(CheckpointSpec::new(every, name, text))
    }
}

/// A checkpointed run in progress.
pub(crate) struct Checkpointing {
    name: Rc<str>,
    every: u64,
    /// The value of `PipeRun::read` at which the next checkpoint is due.
    limit: u64,
    /// The run stopped at `limit` for the terminal to commit.
    paused: bool,
    /// Elements of this pass consumed before this run (a resumed pass).
    base: u64,
    /// The position the pass started at.
    pass_start: u64,
    /// A table's scan end, a list's or map's length, when the pass began.
    pass_end: u64,
    /// What the stored accumulator was, to restore into the terminal's.
    restore: Option<(Value, Vec<Value>)>,
    /// When the cursor was opened (for `last_resume_ms`), until the first element.
    opened: Option<Instant>,
    resumed: bool,
    /// The pass had ended and committed before this run; only its result was lost.
    ended_before: bool,
    /// The position the pass will end at, when known (for a progress line).
    total: Option<u64>,
}

/// A definition's text when the compiler gave none (the method form
/// `xs.checkpoint_at(n, name)`): the stages as `--explain` prints them.
pub fn definition_text(src: &Value) -> String {
    let mut text = match src {
        Value::Stream(p) => p.source.type_name().to_string(),
        other => other.type_name().to_string(),
    };
    if let Value::Stream(p) = src {
        for s in &p.stages {
            text.push_str(" |> ");
            text.push_str(&super::explain::stage_text(s));
        }
    }
    text
}

/// A cursor whose pass is over and seen: only its position stays.
fn idle(mut c: Cursor) -> Cursor {
    c.pass = PassState::Idle;
    c.acc = Value::Nil;
    c.clear_chunks();
    c.terminal = "".into();
    c.args = Vec::new();
    c.stream = Value::Nil;
    c
}

/// The `checkpoint_at` stage of a stream, if it has one.
pub(crate) fn spec_of(v: &Value) -> RtResult<Option<Rc<CheckpointSpec>>> {
    let Value::Stream(p) = v else {
        return Ok(None);
    };
    let mut found = None;
    for s in &p.stages {
        if let Stage::CheckpointAt(c) = s {
            if found.is_some() {
                return Err(RtError::new(
                    "a pipe may have only one 'checkpoint_at' stage".to_string(),
                ));
            }
            found = Some(c.clone());
        }
    }
    Ok(found)
}

impl PipeRun {
    /// A terminal is about to run a checkpointed stream: find or make its cursor, check the
    /// definition, and put the source, the stage counts and (through [`PipeRun::begin`])
    /// the accumulator where the cursor says.
    pub(super) fn open_cursor(&mut self, vm: &mut Vm, terminal: &TerminalArgs) -> RtResult<()> {
        let Some(spec) = spec_of(&self.what)? else {
            return Ok(());
        };
        let opened = vm.resume_clock.take().unwrap_or_else(Instant::now);
        if vm.checkpointed_running() {
            return Err(RtError::new(format!(
                "checkpointed pipe '{}' cannot run inside a stage of another checkpointed pipe",
                spec.name
            )));
        }
        if vm.heap().is_some_and(|h| !h.pager.writable) {
            return Err(RtError::new(format!(
                "checkpointed pipe '{}' cannot run on a heap opened read-only: its \
                 checkpoints commit",
                spec.name
            )));
        }
        if vm.heap().is_some_and(|h| h.pager.has_savepoint()) {
            return Err(RtError::new(format!(
                "checkpointed pipe '{}' cannot run inside a transaction: its checkpoints would \
                 commit it (call db_transaction_commit() first)",
                spec.name
            )));
        }
        let mut cursor = match vm.cursor(&spec.name)? {
            Some(c) => c,
            None => Cursor::new(
                spec.name.clone(),
                spec.fingerprint,
                spec.text.clone(),
                spec.every,
            ),
        };
        if cursor.fingerprint != spec.fingerprint {
            return Err(RtError::new(format!(
                "checkpointed pipe '{}' has a different definition than the one stored at \
                 position {}; call {}.reset() to start it over with the new definition",
                spec.name, cursor.position, spec.name
            )));
        }
        let args = terminal.args.to_vec();
        // `run()` was recorded as `count` before it had its own name: the same pass.
        let same_terminal = |stored: &str| {
            stored == terminal.name
                || (matches!(stored, "count" | "run") && matches!(terminal.name, "count" | "run"))
        };
        if cursor.pass == PassState::Ended && !same_terminal(&cursor.terminal) {
            // The ended pass's result is for another terminal: this call starts a new pass.
            cursor = idle(cursor);
        }
        let resumed = cursor.pass != PassState::Idle;
        if resumed && !same_terminal(&cursor.terminal) {
            return Err(RtError::new(format!(
                "checkpointed pipe '{}' was interrupted during a '{}' pass; finish it with \
                 {}() or call {}.reset()",
                spec.name, cursor.terminal, cursor.terminal, spec.name
            )));
        }
        let every = u64::try_from(spec.every).unwrap_or(1).max(1);
        let base = if resumed {
            cursor.resumes += 1;
            cursor.position - cursor.pass_start.min(cursor.position)
        } else {
            cursor.pass_start = cursor.position;
            cursor.counts = Vec::new();
            cursor.acc = Value::Nil;
            cursor.clear_chunks();
            0
        };
        let pass_end = self.seek_cursor(&cursor, resumed)?;
        if resumed {
            let counts = cursor.counts.clone();
            self.restore_counts(&counts);
        }
        let ended_before = cursor.pass == PassState::Ended;
        if ended_before {
            // The pass ended and committed; only its result was lost.
            self.done = true;
        }
        cursor.every = spec.every;
        cursor.text = spec.text.clone();
        cursor.stream = self.what.clone();
        cursor.terminal = terminal.name.into();
        cursor.args = args;
        cursor.total = self.known_total(&cursor, base);
        let restore = resumed.then(|| (cursor.acc.clone(), cursor.chunks.clone()));
        cursor.pass = PassState::Open;
        let pass_start = cursor.pass_start;
        let total = cursor.total;
        vm.put_cursor(cursor, false, true);
        self.ckpt = Some(Box::new(Checkpointing {
            name: spec.name.clone(),
            every,
            limit: every - base % every,
            paused: false,
            base,
            pass_start,
            pass_end,
            restore,
            opened: Some(opened),
            resumed,
            ended_before,
            total,
        }));
        self.needs_cursor = false;
        Ok(())
    }

    /// Put the source where the cursor says; returns the pass's end (a table's scan end,
    /// a list's length).
    fn seek_cursor(&mut self, c: &Cursor, resumed: bool) -> RtResult<u64> {
        let mismatch = || {
            bad_cursor(
                &c.name,
                "its position does not fit this source (call reset())",
            )
        };
        Ok(match (&mut self.source, &c.source) {
            (SourceIter::Table { next, end, .. }, SourcePos::Start) => {
                *next = 0;
                *end
            }
            (SourceIter::Table { next, end, .. }, SourcePos::Slot { next: n, end: e }) => {
                *next = *n;
                if resumed {
                    *end = (*e).min(*end);
                }
                *end
            }
            (SourceIter::List { list, next, end }, pos) => {
                let len = list.items.borrow().len() as u64;
                let (from, stop) = match pos {
                    SourcePos::Start => (0, len),
                    SourcePos::Index { next: n, end: e } if resumed => (*n, (*e).min(len)),
                    SourcePos::Index { next: n, .. } => (*n, len),
                    _ => return Err(mismatch()),
                };
                *next = from as usize;
                *end = stop as usize;
                stop
            }
            (SourceIter::Map { map, next, .. }, pos) => {
                let len = map.entries.borrow().len() as u64;
                let from = match pos {
                    SourcePos::Start => 0,
                    SourcePos::Index { next: n, .. } => *n,
                    _ => return Err(mismatch()),
                };
                *next = from as usize;
                len
            }
            (SourceIter::Range { next, .. }, pos) => {
                match pos {
                    SourcePos::Start => {}
                    SourcePos::Value { next: n } => *next = (*next).max(*n),
                    _ => return Err(mismatch()),
                }
                0
            }
            (SourceIter::Str { s, byte }, pos) => {
                match pos {
                    SourcePos::Start => {}
                    SourcePos::Byte { next: n } if s.as_str().is_char_boundary(*n as usize) => {
                        *byte = *n as usize
                    }
                    SourcePos::Byte { .. } => *byte = s.as_str().len(),
                    _ => return Err(mismatch()),
                }
                0
            }
            (SourceIter::File(f), pos) => {
                f.needle = None;
                match pos {
                    SourcePos::Start => {}
                    SourcePos::File(p) => f.seek(p)?,
                    _ => return Err(mismatch()),
                }
                0
            }
            _ => return Err(mismatch()),
        })
    }

    /// The position this pass will end at, when the source's length is known.
    fn known_total(&self, c: &Cursor, base: u64) -> Option<u64> {
        let start = c.pass_start + base;
        let left = match &self.source {
            SourceIter::List { next, end, .. } => (*end).saturating_sub(*next) as u64,
            SourceIter::Map { map, next, .. } => {
                (map.entries.borrow().len()).saturating_sub(*next) as u64
            }
            SourceIter::Range { next, end } => (*end as i128 - *next as i128).max(0) as u64,
            SourceIter::Str { s, byte } => s.as_str().get(*byte..)?.chars().count() as u64,
            SourceIter::Table {
                table, next, end, ..
            } => crate::db::handle::count_live(*table, *next, *end).ok()?,
            SourceIter::File(_) => return None,
        };
        Some(start + left)
    }

    fn restore_counts(&mut self, counts: &[i64]) {
        for (s, c) in self.state.iter_mut().zip(counts) {
            if let StageState::Count(n) = s {
                *n = *c;
            }
        }
    }

    /// A terminal's first step: its fresh accumulator, or the one the cursor stored.
    pub fn begin(&mut self, mut acc: Acc) -> RtResult<Acc> {
        if let Some(c) = &mut self.ckpt
            && let Some((state, chunks)) = c.restore.take()
            && !acc.restore(&state, &chunks)
        {
            return Err(bad_cursor(
                &c.name,
                "its accumulator does not fit the terminal",
            ));
        }
        Ok(acc)
    }

    /// Elements of this pass read before this run (a resumed pass): error messages
    /// number elements from the pass's start.
    pub(super) fn pass_base(&self) -> u64 {
        self.ckpt.as_ref().map_or(0, |c| c.base)
    }

    /// Is a checkpoint due before the next source element? (Then the run pauses.)
    #[inline]
    pub(super) fn pause_due(&mut self) -> bool {
        match &mut self.ckpt {
            Some(c) if self.read >= c.limit => {
                c.paused = true;
                true
            }
            _ => false,
        }
    }

    /// How many more source elements the run may read before the next checkpoint.
    #[inline]
    pub(super) fn budget(&self) -> u64 {
        self.ckpt
            .as_ref()
            .map_or(u64::MAX, |c| c.limit.saturating_sub(self.read))
    }

    /// Tell the progress sink, if any, where a checkpointed run stands. The executor
    /// calls this at each boundary and every few thousand elements in between; only
    /// when a sink is installed (so it costs nothing otherwise).
    #[cold]
    pub(super) fn report_progress(&self, vm: &mut Vm) {
        if let (Some(c), Some(sink)) = (&self.ckpt, vm.progress.as_mut()) {
            sink.update(&c.name, c.pass_start + c.base + self.read, c.total);
        }
    }

    /// The first element of a checkpointed run was read: the resume is complete.
    #[inline]
    pub(super) fn note_first_element(&mut self) {
        if let Some(c) = &mut self.ckpt
            && let Some(t) = c.opened.take()
            && c.resumed
        {
            let us = t.elapsed().as_micros() as u64;
            c.resumed = false;
            self.resume_us = Some(us);
        }
    }

    /// The terminal's loop found no next element: at a checkpoint boundary, commit and
    /// return `true` (go on); at the end of the pass, commit the pass's end and return
    /// `false`. A run without a cursor just ends.
    pub fn at_boundary(&mut self, vm: &mut Vm, acc: &mut Acc) -> RtResult<bool> {
        let Some(c) = &mut self.ckpt else {
            return Ok(false);
        };
        let paused = std::mem::take(&mut c.paused);
        if paused {
            c.limit = c.limit.saturating_add(c.every);
        }
        if c.ended_before {
            // Its end is committed already: the result is now seen, and the cursor idle
            // from the next commit on.
            let name = c.name.clone();
            if let Some(cursor) = vm.cursor(&name)? {
                vm.put_cursor(idle(cursor), true, false);
            }
            return Ok(false);
        }
        self.commit_cursor(vm, acc, !paused)?;
        Ok(paused)
    }

    /// Commit the cursor as of now, with everything the pipe did: one superblock swap.
    fn commit_cursor(&mut self, vm: &mut Vm, acc: &mut Acc, ended: bool) -> RtResult<()> {
        let source = self.source_pos()?;
        let counts: Vec<i64> = self
            .state
            .iter()
            .map(|s| match s {
                StageState::Count(c) => *c,
                _ => 0,
            })
            .collect();
        let Some(c) = &self.ckpt else {
            return Ok(());
        };
        let name = c.name.clone();
        let position = c.pass_start + c.base + self.read;
        let snap = acc.snapshot();
        let resume_us = self.resume_us.take();
        let Some(mut cursor) = vm.cursor(&name)? else {
            return Err(bad_cursor(&name, "it disappeared during its pass"));
        };
        cursor.source = source;
        cursor.position = position;
        cursor.counts = counts;
        cursor.acc = snap.state;
        if let Some(chunk) = snap.chunk {
            cursor.push_chunk(chunk);
        }
        cursor.checkpoints += 1;
        if let Some(us) = resume_us {
            cursor.last_resume_us = us;
        }
        if ended {
            cursor.pass = PassState::Ended;
            cursor.passes += 1;
        }
        vm.put_cursor(cursor, true, true);
        vm.flush_output();
        let t = Instant::now();
        vm.commit_checkpoint()?;
        let took = t.elapsed().as_micros() as u64;
        self.report_progress(vm);
        if let Some(mut cursor) = vm.cursor(&name)? {
            cursor.last_commit_us = took;
            if ended {
                // Acknowledged by the next commit of any kind: a crash before it returns
                // this pass's result again instead of losing it.
                cursor = idle(cursor);
            }
            vm.put_cursor(cursor, true, !ended);
        }
        Ok(())
    }

    /// Where the source stands: the next element to read.
    fn source_pos(&mut self) -> RtResult<SourcePos> {
        let pass_end = self.ckpt.as_ref().map_or(0, |c| c.pass_end);
        Ok(match &mut self.source {
            SourceIter::Table {
                next,
                end,
                chunk,
                at,
                ..
            } => SourcePos::Slot {
                next: chunk.get(*at).map_or(*next, |r| *r as u64),
                end: self.interpreting.unwrap_or(*end),
            },
            SourceIter::List { next, .. } | SourceIter::Map { next, .. } => SourcePos::Index {
                next: *next as u64,
                end: pass_end,
            },
            SourceIter::Range { next, .. } => SourcePos::Value { next: *next },
            SourceIter::Str { byte, .. } => SourcePos::Byte { next: *byte as u64 },
            SourceIter::File(f) => match f.position()? {
                Some(p) => SourcePos::File(p),
                None => {
                    return Err(RtError::new(
                        "this file source cannot be checkpointed".to_string(),
                    ));
                }
            },
        })
    }

    /// The end of a terminal's run: on an error inside a checkpointed pass, roll the heap
    /// back to the last checkpoint first and say so.
    pub fn finish<T>(&mut self, vm: &mut Vm, r: RtResult<T>) -> RtResult<T> {
        let Some(c) = self.ckpt.take() else {
            return r;
        };
        vm.end_checkpointed_run(&c.name);
        if let Some(sink) = vm.progress.as_mut() {
            sink.done(&c.name);
        }
        let mut e = match r {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let at = vm.rollback_cursors(&c.name);
        // The commit rolled back to may be another pipe's or the script's: say where this
        // pipe stands after it, which is where it resumes.
        e.notes.push(match at {
            (Some(0), p) => format!(
                "rolled back: nothing was committed before (checkpointed pipe '{}' resumes at \
                 position {p})",
                c.name
            ),
            (Some(seq), p) => format!(
                "rolled back to commit {seq} (checkpointed pipe '{}' resumes at position {p})",
                c.name
            ),
            (None, p) => format!(
                "rolled back (checkpointed pipe '{}' resumes at position {p})",
                c.name
            ),
        });
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_survives_its_stored_form() {
        let s = CheckpointSpec::new(250, "tens", "db.users |> map(u => u.rank)");
        let back = CheckpointSpec::decode(&s.encode()).expect("decodes");
        assert_eq!(back.every, 250);
        assert_eq!(&*back.name, "tens");
        assert_eq!(back.fingerprint, s.fingerprint);
        assert!(CheckpointSpec::decode("x\0y").is_none());
    }
}
