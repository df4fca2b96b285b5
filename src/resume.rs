//! Checkpointed pipes seen from outside a script: the embedder's calls (list the cursors,
//! read a status, reset one) and warm boot, which resumes every interrupted pass from the
//! code stored in the heap, with no script (SPEC §9, `walia resume HEAP.wld`).

use crate::{Engine, Error};
use std::io::Write;
use walia_runtime::api::Value;
use walia_runtime::{RtError, RtResult};

impl Engine {
    /// The names of every checkpointed pipe in the attached heap (and any this engine
    /// has run), sorted.
    pub fn cursors(&mut self) -> Result<Vec<String>, Error> {
        self.vm.cursor_names().map_err(Error::Runtime)
    }

    /// A checkpointed pipe's `status()` map (`None` when there is no such pipe).
    pub fn cursor_status(&mut self, name: &str) -> Result<Option<Value>, Error> {
        self.vm.cursor_status(name).map_err(Error::Runtime)
    }

    /// Move a checkpointed pipe's cursor back to the start of its source (durable at the
    /// next commit); `false` when there is no such pipe.
    pub fn reset_cursor(&mut self, name: &str) -> Result<bool, Error> {
        self.vm.reset_cursor_named(name).map_err(Error::Runtime)
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
        self.finish_run(result.map(|_| Value::Nil))?;
        Ok(n)
    }

    fn resume_each(&mut self, on_done: &mut dyn FnMut(&str, &Value)) -> RtResult<()> {
        self.vm.limits.start();
        // The first pipe's resume time counts from the heap's opening.
        self.vm.resume_clock = self.vm.heap_opened.take();
        for (name, stream, terminal, args) in self.vm.interrupted_cursors()? {
            let Some(f) = self.vm.builtin_by_name(&terminal) else {
                return Err(RtError::new(format!(
                    "checkpointed pipe '{name}' was interrupted in a '{terminal}' pass, which \
                     this version of walia does not have"
                )));
            };
            let mut call = vec![stream];
            call.extend(args);
            let v = self.vm.call_value(&f, &call)?;
            // A result is durable before it is shown, and before the next pipe runs.
            self.vm
                .commit()
                .map_err(walia_runtime::api::heap_rt_error)?;
            // What the pipe printed comes before its result.
            let _ = self.vm.out.flush();
            on_done(&name, &v);
        }
        Ok(())
    }
}

/// `walia resume HEAP.wld`: resume, writing `NAME: RESULT` for each pipe as it finishes.
pub fn warm_boot(engine: &mut Engine) -> Result<usize, Error> {
    engine.resume_with(|name, v| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{name}: {}", walia_runtime::api::display(v));
        let _ = out.flush();
    })
}
