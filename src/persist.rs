//! The embedding API's side of the persistent heap: opening one, and the commit and
//! rollback that end every run.

use crate::{Engine, Error};
use std::path::Path;
use walia_runtime::api::{Durability, Heap, HeapError, SaveStats};
use walia_runtime::{RtResult, Value};

/// A heap failure as an embedding error (exit code 74).
pub(crate) fn heap_error(context: &str, e: HeapError) -> Error {
    Error::Io {
        message: format!("{context}: {e}"),
    }
}

impl Engine {
    /// Open (creating when missing) a heap file: its globals become this engine's, every
    /// successful [`Engine::run`] commits to it, and a failed one rolls back. The file is
    /// locked for writing until the engine is dropped; a second writer gets an error naming
    /// this process (or, in this same process, saying another `Engine` has it open).
    pub fn open_heap(
        &mut self,
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<(), Error> {
        let path = path.as_ref();
        // Release (and sync) a heap this engine already has before taking another.
        self.close_heap()?;
        let started = std::time::Instant::now();
        let heap = Heap::open_file(path, durability).map_err(|e| match e {
            // The lock records its holder's pid: our own means another Engine of this
            // process, which "locked by another writer (pid <ours>)" would not make clear.
            HeapError::Locked(Some(pid)) if pid == std::process::id() => Error::Io {
                message: format!(
                    "cannot open heap '{}': it is already open for writing in this process \
                     (locked by another Engine until that one is dropped or calls close_heap())",
                    path.display()
                ),
            },
            e => heap_error(&format!("cannot open heap '{}'", path.display()), e),
        })?;
        let mut vm = self.enter();
        vm.attach_heap(heap);
        vm.heap_opened = Some(started);
        Ok(())
    }

    /// When the open heap's newest commit was damaged, the commit used instead.
    pub fn heap_fell_back(&mut self) -> Option<u64> {
        let vm = self.enter();
        let heap = vm.heap()?;
        heap.report.fell_back.then(|| heap.commit_sequence())
    }

    /// Attach a heap opened by Rust code (a reader, or one over custom storage): the
    /// engine owns it from now on, as one opened by [`Engine::open_heap`].
    pub fn attach_heap(&mut self, heap: Heap) {
        self.enter().attach_heap(heap);
    }

    /// Take the heap back from the engine (`None` without one). Uncommitted changes stay
    /// behind: commit first to keep them.
    pub fn detach_heap(&mut self) -> Option<Heap> {
        self.enter()
            .detach_heap()
            .map(|persist| persist.into_heap())
    }

    /// Use an empty in-memory heap: commits and rollbacks work, nothing touches a file.
    pub fn open_memory_heap(&mut self) -> Result<(), Error> {
        let heap = Heap::in_memory().map_err(|e| heap_error("cannot create heap", e))?;
        self.enter().attach_heap(heap);
        Ok(())
    }

    /// Whether a run that ends well (or by `exit(code)`) commits its changes: on by default.
    /// `walia run --memory` turns it off, since its in-memory heap goes away with the
    /// process and nothing could ever read that commit; on a run with large globals the
    /// commit was a tenth of the time and a third of the peak memory. `checkpoint()` and
    /// `checkpoint_at` still commit, and a failed run still rolls back to the last commit.
    pub fn set_commit_at_end(&mut self, on: bool) {
        self.commit_at_end = on;
    }

    /// Drop a global: it leaves this engine and the heap (at the next commit), with the
    /// cursor of the checkpointed pipe of that name, and what only it reached becomes free
    /// space in the heap. `false` when there was nothing of that name.
    pub fn drop_global(&mut self, name: &str) -> Result<bool, Error> {
        self.enter().drop_global(name).map_err(Error::Runtime)
    }

    /// The names of the globals stored in the heap (none without one).
    pub fn stored_globals(&mut self) -> Vec<String> {
        self.enter()
            .heap()
            .map(|h| h.stored_names())
            .unwrap_or_default()
    }

    /// The heap file's free pages (0 without a heap): space later writes reuse.
    pub fn free_pages(&mut self) -> u64 {
        self.enter()
            .heap()
            .map_or(0, |h| h.pager.free_pages() as u64)
    }

    /// Does the heap hold a global of this name?
    pub fn is_stored(&mut self, name: &str) -> bool {
        self.enter().heap().is_some_and(|h| h.has_stored(name))
    }

    /// True when the open heap held committed state (a warm boot).
    pub fn is_warm_boot(&mut self) -> bool {
        self.enter().heap().is_some_and(|h| h.warm)
    }

    /// Make the current globals the heap's durable state.
    pub fn commit(&mut self) -> Result<(), Error> {
        self.enter()
            .commit()
            .map_err(|e| heap_error("commit failed", e))
    }

    /// What the last commit saved: global entries and object records encoded, and how
    /// many differed from the stored bytes (a commit costs what it encodes). `None`
    /// without a heap.
    #[doc(hidden)]
    pub fn last_commit_stats(&mut self) -> Option<SaveStats> {
        self.enter().heap().map(|h| h.stats)
    }

    /// Drop every change since the last commit; returns that commit's number.
    pub fn rollback(&mut self) -> Result<Option<u64>, Error> {
        self.enter()
            .rollback()
            .map_err(|e| heap_error("rollback failed", e))
    }

    /// Close the heap, syncing any commit not yet on disk (`batched` and `async` modes).
    pub fn close_heap(&mut self) -> Result<(), Error> {
        if let Some(mut heap) = self.enter().detach_heap() {
            heap.pager
                .sync()
                .map_err(|e| heap_error("sync failed", e))?;
            if std::env::var_os("WALIA_HEAP_STATS").is_some() {
                let s = heap.pager.stats;
                let t = heap.total;
                eprintln!(
                    "heap stats: {} commits, {} syncs, {} pages written, {} global entries \
                     and {} object records encoded, {} rewritten",
                    s.commits,
                    heap.pager.syncs(),
                    s.pages_written,
                    t.globals,
                    t.records,
                    t.rewrites
                );
            }
        }
        Ok(())
    }

    /// Roll back to the last commit; what to tell the user (nothing without a heap, or when
    /// the rollback itself failed).
    fn rolled_back(&mut self) -> Option<String> {
        match self.enter().rollback() {
            Ok(Some(0)) => Some("rolled back: nothing was committed before".to_string()),
            Ok(Some(seq)) => Some(format!("rolled back to commit {seq}")),
            _ => None,
        }
    }

    /// End of a run: commit on success; on failure roll back and say so in the error.
    pub(crate) fn finish_run(&mut self, result: RtResult<Value>) -> Result<Value, Error> {
        match result {
            Ok(v) if !self.commit_at_end => Ok(v),
            Ok(v) => match self.commit() {
                Ok(()) => Ok(v),
                // The run's changes cannot be kept: the heap goes back to its last commit,
                // and the error says which one that is.
                Err(Error::Io { message }) => Err(Error::Io {
                    message: match self.rolled_back() {
                        Some(note) => format!("{message}; {note}"),
                        None => message,
                    },
                }),
                Err(e) => Err(e),
            },
            // `exit(code)` ends the run normally: its changes commit.
            Err(e) if e.exit_code().is_some() && !self.commit_at_end => Err(Error::Runtime(e)),
            Err(e) if e.exit_code().is_some() => match self.commit() {
                Ok(()) => Err(Error::Runtime(e)),
                Err(commit_failed) => Err(commit_failed),
            },
            Err(mut e) => {
                // The files this run imported were rolled back with it: import them again.
                self.imported = std::mem::take(&mut self.imported_before);
                // A checkpointed pipe has rolled back already and said to which commit.
                let told = e.notes.iter().any(|n| n.starts_with("rolled back"));
                if let Some(note) = self.rolled_back()
                    && !told
                {
                    e.notes.push(note);
                }
                Err(Error::Runtime(e))
            }
        }
    }
}

impl Engine {
    /// Attach a heap file as a reader: without the write lock, pinning its last commit so
    /// that a writer committing meanwhile never changes what this engine sees (`walia
    /// check`, `export`, `run --read-only`). Runs see the stored globals and tables and
    /// commit nothing: their changes to globals last until the engine drops the heap, and
    /// table writes are runtime errors.
    pub fn open_heap_read_only(&mut self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let heap = Heap::open_reader(path)
            .map_err(|e| heap_error(&format!("cannot open heap '{}'", path.display()), e))?;
        self.enter().attach_heap(heap);
        Ok(())
    }
}
