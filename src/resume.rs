//! Checkpointed pipes seen from outside a script: the embedder's calls (list the cursors,
//! read a status, reset one) and warm boot, which resumes every interrupted pass from the
//! code stored in the heap, with no script (SPEC §9, `walia resume HEAP.wld`).

use crate::value::detach;
use crate::{Engine, Error, Value};
use std::io::Write;
use walia_runtime::Value as Live;
use walia_runtime::api::Stage;
use walia_runtime::{RtError, RtResult};

/// A checkpointed pipe's status as Rust values: the fields of its `status()` map.
#[derive(Clone, Debug, PartialEq)]
pub struct CursorInfo {
    /// The pipe's name (its cursor's).
    pub name: String,
    /// `new` (never run), `interrupted` (a pass stopped by a crash or an error: warm boot
    /// resumes it) or `finished` (at the end of its source as of its last pass).
    pub state: String,
    /// Source elements consumed over every pass (`position()`).
    pub position: u64,
    /// The position the current (or last) pass ends at, when the source's length is known.
    pub total: Option<u64>,
    /// Source elements between checkpoints (`checkpoint_at(n)`).
    pub every: i64,
    /// Checkpoints committed.
    pub checkpoints: u64,
    /// Passes continued after an interruption.
    pub resumes: u64,
    /// Passes completed.
    pub passes: u64,
    /// How long the last checkpoint's commit took.
    pub last_commit_ms: f64,
    /// The definition's fingerprint (16 hex digits).
    pub fingerprint: String,
    /// The definition (the pipeline's source text, whitespace-normalized).
    pub definition: String,
}

impl CursorInfo {
    /// Read a `status()` map; `None` when it lacks a field or has a wrong type.
    pub fn from_status(v: &Value) -> Option<CursorInfo> {
        let Value::Map(entries) = v else {
            return None;
        };
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| matches!(key, Value::Str(s) if s == k))
                .map(|(_, v)| v)
        };
        let text = |k: &str| match get(k)? {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        };
        let int = |k: &str| match get(k)? {
            Value::Int(i) => Some(*i),
            _ => None,
        };
        let count = |k: &str| int(k).and_then(|i| u64::try_from(i).ok());
        Some(CursorInfo {
            name: text("name")?,
            state: text("state")?,
            position: count("position")?,
            total: count("total"),
            every: int("every")?,
            checkpoints: count("checkpoints")?,
            resumes: count("resumes")?,
            passes: count("passes")?,
            last_commit_ms: match get("last_commit_ms")? {
                Value::Float(f) => *f,
                Value::Int(i) => *i as f64,
                _ => return None,
            },
            fingerprint: text("fingerprint")?,
            definition: text("definition")?,
        })
    }
}

impl Engine {
    /// The names of every checkpointed pipe in the attached heap (and any this engine
    /// has run), sorted.
    pub fn cursors(&mut self) -> Result<Vec<String>, Error> {
        self.enter().cursor_names().map_err(Error::Runtime)
    }

    /// A checkpointed pipe's `status()` map (`None` when there is no such pipe).
    pub fn cursor_status(&mut self, name: &str) -> Result<Option<Value>, Error> {
        let mut vm = self.enter();
        let status = vm.cursor_status(name).map_err(Error::Runtime)?;
        Ok(status.as_ref().map(detach))
    }

    /// A checkpointed pipe's status as a [`CursorInfo`] (`None` when there is no such
    /// pipe). A stored cursor that cannot be read is an error naming the pipe.
    pub fn cursor_info(&mut self, name: &str) -> Result<Option<CursorInfo>, Error> {
        let Some(status) = self.cursor_status(name)? else {
            return Ok(None);
        };
        CursorInfo::from_status(&status).map(Some).ok_or_else(|| {
            Error::Runtime(RtError::new(format!(
                "the status of checkpointed pipe '{name}' lacks a field"
            )))
        })
    }

    /// Move a checkpointed pipe's cursor back to the start of its source (durable at the
    /// next commit); `false` when there is no such pipe.
    pub fn reset_cursor(&mut self, name: &str) -> Result<bool, Error> {
        self.enter()
            .reset_cursor_named(name)
            .map_err(Error::Runtime)
    }

    /// What would stop warm boot from resuming each interrupted pass: its stored stream
    /// must be a checkpointed pipe of that name, and its terminal must exist. One line per
    /// problem, `checkpointed pipe 'NAME': the stored cursor is damaged: WHY`.
    pub fn resume_problems(&mut self) -> Result<Vec<String>, Error> {
        let mut vm = self.enter();
        let mut problems = Vec::new();
        for (name, stream, terminal, _) in vm.interrupted_cursors().map_err(Error::Runtime)? {
            let known = vm.builtin_by_name(&terminal).is_some();
            if let Err(why) = resumable(&name, &stream, &terminal, known) {
                problems.push(format!(
                    "checkpointed pipe '{name}': the stored cursor is damaged: {why}"
                ));
            }
        }
        Ok(problems)
    }

    /// Warm boot: resume every checkpointed pipe whose pass was interrupted, each with the
    /// terminal it was running, and commit after each. Returns each pipe's name and the
    /// whole pass's result. The first failure stops it, rolled back to that pipe's last
    /// checkpoint (the pipes resumed before it stay committed).
    pub fn resume_all(&mut self) -> Result<Vec<(String, Value)>, Error> {
        let mut done = Vec::new();
        self.resume_with(|name, v| done.push((name.to_string(), v.clone())))?;
        Ok(done)
    }

    /// [`Engine::resume_all`], calling `on_done` as each pipe finishes (before the next
    /// starts); returns how many were resumed.
    pub fn resume_with(&mut self, mut on_done: impl FnMut(&str, &Value)) -> Result<usize, Error> {
        let mut n = 0;
        let result = self.resume_each(&mut |name, v| {
            n += 1;
            on_done(name, v)
        });
        self.finish_run(result.map(|_| Live::Nil))?;
        Ok(n)
    }

    fn resume_each(&mut self, on_done: &mut dyn FnMut(&str, &Value)) -> RtResult<()> {
        let mut vm = self.enter();
        vm.limits.start();
        // The first pipe's resume time counts from the heap's opening.
        vm.resume_clock = vm.heap_opened.take();
        for (name, stream, terminal, args) in vm.interrupted_cursors()? {
            let Some(f) = vm.builtin_by_name(&terminal) else {
                return Err(RtError::new(format!(
                    "checkpointed pipe '{name}' was interrupted in a '{terminal}' pass, which \
                     this version of walia does not have"
                )));
            };
            let mut call = vec![stream];
            call.extend(args);
            let v = vm.call_value(&f, &call)?;
            // A result is durable before it is shown, and before the next pipe runs.
            vm.commit().map_err(walia_runtime::api::heap_rt_error)?;
            // What the pipe printed comes before its result.
            let _ = vm.out.flush();
            on_done(&name, &detach(&v));
        }
        Ok(())
    }
}

/// `walia resume HEAP.wld`: resume, writing `NAME: RESULT` for each pipe as it finishes.
pub fn warm_boot(engine: &mut Engine) -> Result<usize, Error> {
    engine.resume_with(|name, v| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{name}: {v}");
        let _ = out.flush();
    })
}

/// Can warm boot resume this interrupted pass? (`known`: its terminal exists.)
fn resumable(name: &str, stream: &Live, terminal: &str, known: bool) -> Result<(), String> {
    let Live::Stream(p) = stream else {
        return Err(format!(
            "its pass was interrupted but its stream is a {}",
            stream.type_name()
        ));
    };
    let named = p.stages.iter().any(|s| match s {
        Stage::CheckpointAt(spec) => *spec.name == *name,
        _ => false,
    });
    if !named {
        return Err("its stream has no checkpoint_at stage of that name".to_string());
    }
    if !known {
        return Err(format!("its pass runs an unknown terminal '{terminal}'"));
    }
    Ok(())
}
