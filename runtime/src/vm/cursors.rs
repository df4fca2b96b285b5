//! The VM's side of checkpointed pipes: the cache of cursors a run has used, loaded from
//! the heap on first use and written back by the next commit, and the calls a script or an
//! embedder makes on them (`position()`, `status()`, `reset()`, warm boot's list).

use crate::error::{RtError, RtResult, heap_rt_error};
use crate::persist::load::Loader;
use crate::persist::save::Saver;
use crate::pipe::checkpoint::CheckpointSpec;
use crate::pipe::cursor::{Cursor, CursorSlot, PassState, bad_cursor};
use crate::value::Value;
use crate::vm::Vm;
use std::io::Write;
use std::rc::Rc;
use walia_store::{CURSOR_PREFIX, HeapResult, cursor_key};

impl Vm {
    /// Is a checkpointed pass running now (so a stage may not commit on its own)?
    pub fn checkpointed_running(&self) -> bool {
        self.cursors.live.values().any(|s| s.running)
    }

    /// A copy of the cursor named `name`: from this run's cache, else from the heap;
    /// `None` when there is no such cursor.
    pub(crate) fn cursor(&mut self, name: &str) -> RtResult<Option<Cursor>> {
        if let Some(slot) = self.cursors.live.get(name) {
            return Ok(Some(slot.cursor.clone()));
        }
        let Some((cursor, stored)) = self.load_cursor(name)? else {
            return Ok(None);
        };
        self.cursors.live.insert(
            name.into(),
            CursorSlot {
                cursor: cursor.clone(),
                dirty: false,
                stored: Some(stored),
                committed: None,
                running: false,
            },
        );
        Ok(Some(cursor))
    }

    fn load_cursor(&mut self, name: &str) -> RtResult<Option<(Cursor, Value)>> {
        let key = cursor_key(name);
        let loaded = self
            .with_heap(|vm, heap| match heap.get(&key)? {
                Some(bytes) => Loader::new(heap, vm).global(name, &bytes).map(Some),
                None => Ok(None),
            })
            .map_err(heap_rt_error)?
            .flatten();
        let Some(v) = loaded else {
            return Ok(None);
        };
        let cursor = Cursor::from_value(&v).map_err(|why| bad_cursor(name, &why))?;
        Ok(Some((cursor, v)))
    }

    /// Put a cursor (changed) into the cache; `dirty`: the next commit writes it;
    /// `running`: a pass of it is running now.
    pub(crate) fn put_cursor(&mut self, cursor: Cursor, dirty: bool, running: bool) {
        let name = cursor.name.clone();
        match self.cursors.live.get_mut(&name) {
            Some(slot) => {
                slot.cursor = cursor;
                slot.dirty |= dirty;
                slot.running = running;
            }
            None => {
                self.cursors.live.insert(
                    name,
                    CursorSlot {
                        cursor,
                        dirty,
                        stored: None,
                        committed: None,
                        running,
                    },
                );
            }
        }
    }

    /// The pass of cursor `name` is over (ended, or failed).
    pub(crate) fn end_checkpointed_run(&mut self, name: &str) {
        if let Some(slot) = self.cursors.live.get_mut(name) {
            slot.running = false;
        }
    }

    /// Output written so far reaches its destination (before a checkpoint commits, so a
    /// crash repeats as little output as possible).
    pub(crate) fn flush_output(&mut self) {
        let _ = self.out.flush();
    }

    /// A checkpoint's commit: the run's changes, the cursor among them, in one
    /// superblock swap.
    pub(crate) fn commit_checkpoint(&mut self) -> RtResult<()> {
        self.commit().map_err(heap_rt_error)
    }

    /// After a commit: the cache matches the heap.
    pub(crate) fn cursors_committed(&mut self) {
        let memory = self.heap.is_none();
        for slot in self.cursors.live.values_mut() {
            slot.dirty = false;
            if memory {
                slot.committed = Some(slot.cursor.clone());
            }
        }
    }

    /// A checkpointed pass failed: roll back to the last commit (the last checkpoint).
    /// Returns that commit's number (`None` without a heap) and the cursor's position.
    pub(crate) fn rollback_cursors(&mut self, name: &str) -> (Option<u64>, u64) {
        let seq = if self.heap.is_some() {
            self.rollback().ok().flatten()
        } else {
            // Without a heap only the cursors have a committed state to return to.
            self.cursors.live.retain(|_, slot| slot.committed.is_some());
            for slot in self.cursors.live.values_mut() {
                if let Some(c) = &slot.committed {
                    slot.cursor = c.clone();
                }
                slot.dirty = false;
            }
            None
        };
        let position = self.cursor(name).ok().flatten().map_or(0, |c| c.position);
        (seq, position)
    }

    /// Write the cursors changed since the last commit (part of saving globals).
    pub(crate) fn save_cursors(&mut self, saver: &mut Saver<'_>) -> HeapResult<()> {
        for (name, slot) in self.cursors.live.iter_mut() {
            if !slot.dirty {
                continue;
            }
            let entries = slot.cursor.to_entries();
            let map = match &slot.stored {
                Some(Value::Map(m)) => {
                    *m.entries.borrow_mut() = entries;
                    Value::Map(m.clone())
                }
                _ => {
                    let v = Value::map(entries);
                    slot.stored = Some(v.clone());
                    v
                }
            };
            saver.entry(&cursor_key(name), &map)?;
        }
        Ok(())
    }

    /// The names of every checkpointed pipe: stored in the heap or used by this run.
    pub fn cursor_names(&mut self) -> RtResult<Vec<String>> {
        let mut names: Vec<String> = self
            .with_heap(|_, heap| heap.scan_keys(&[CURSOR_PREFIX]))
            .map_err(heap_rt_error)?
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| String::from_utf8(k.get(1..)?.to_vec()).ok())
            .collect();
        for name in self.cursors.live.keys() {
            if !names.iter().any(|n| **n == **name) {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// `status()` of the cursor `name` (`None` when there is none).
    pub fn cursor_status(&mut self, name: &str) -> RtResult<Option<Value>> {
        Ok(self.cursor(name)?.map(|c| c.status()))
    }

    /// A checkpointed pipe's status, also before its first run (then `new`, position 0).
    pub fn stream_status(&mut self, spec: &CheckpointSpec) -> RtResult<Value> {
        Ok(match self.cursor(&spec.name)? {
            Some(c) => c.status(),
            None => fresh(spec).status(),
        })
    }

    /// `position()`: the committed position (0 before the first run).
    pub fn stream_position(&mut self, spec: &CheckpointSpec) -> RtResult<u64> {
        Ok(self.cursor(&spec.name)?.map_or(0, |c| c.position))
    }

    /// `reset()`: the cursor goes back to the start of its source, with this definition.
    /// Like any change, it becomes durable at the next commit.
    pub fn reset_cursor(&mut self, spec: &CheckpointSpec) -> RtResult<()> {
        if self
            .cursors
            .live
            .get(&*spec.name)
            .is_some_and(|s| s.running)
        {
            return Err(RtError::new(format!(
                "checkpointed pipe '{}' cannot be reset while it runs",
                spec.name
            )));
        }
        // Load it first, so the stored map keeps its id (no garbage record per reset).
        self.cursor(&spec.name)?;
        self.put_cursor(fresh(spec), true, false);
        Ok(())
    }

    /// Reset a cursor by name (an embedder's or the CLI's call; the definition it keeps
    /// is the stored one).
    pub fn reset_cursor_named(&mut self, name: &str) -> RtResult<bool> {
        let Some(c) = self.cursor(name)? else {
            return Ok(false);
        };
        let spec = CheckpointSpec::new(c.every, &c.name, &c.text);
        self.reset_cursor(&spec)?;
        Ok(true)
    }

    /// The cursors whose pass was interrupted: what warm boot resumes, with the stream
    /// and the terminal call to resume each with.
    pub fn interrupted_cursors(&mut self) -> RtResult<Vec<Interrupted>> {
        let mut out = Vec::new();
        for name in self.cursor_names()? {
            if let Some(c) = self.cursor(&name)?
                && c.pass != PassState::Idle
            {
                out.push((name, c.stream, c.terminal, c.args));
            }
        }
        Ok(out)
    }
}

/// An interrupted pass as warm boot resumes it: the pipe's name, its stream, the
/// terminal's name and the terminal's arguments after the stream.
pub type Interrupted = (String, Value, Rc<str>, Vec<Value>);

/// A cursor that has never run, with this definition.
fn fresh(spec: &CheckpointSpec) -> Cursor {
    Cursor::new(
        spec.name.clone(),
        spec.fingerprint,
        spec.text.clone(),
        spec.every,
    )
}
