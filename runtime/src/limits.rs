//! Resource limits for untrusted scripts: operations, memory and wall-clock time.

use std::time::{Duration, Instant};

/// Limits checked while a script runs. `None` means unlimited.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Maximum number of limit polls (one per 4096 loop iterations or calls, roughly
    /// "operations / 4096"); see [`Limits::with_max_operations`].
    pub max_polls: Option<u64>,
    /// Maximum resident memory of the process, in bytes.
    pub max_memory: Option<u64>,
    /// Maximum wall-clock time of one run.
    pub timeout: Option<Duration>,
    /// Longest line or record the file readers accept (`lines`, `read_csv`, `read_jsonl`,
    /// imports); `None` is [`DEFAULT_MAX_RECORD`].
    pub max_record: Option<u64>,
    polls: u64,
    deadline: Option<Instant>,
}

/// A file without line ends would otherwise be read as one line until memory runs out.
pub const DEFAULT_MAX_RECORD: u64 = 64 << 20;

/// Operations between two polls (backward jumps, calls and method calls count).
pub const OPS_PER_POLL: u64 = 4096;

impl Limits {
    /// Stop after about `n` operations (loop iterations and calls).
    pub fn with_max_operations(mut self, n: u64) -> Limits {
        self.max_polls = Some(n.div_ceil(OPS_PER_POLL).max(1));
        self
    }

    pub fn with_max_memory(mut self, bytes: u64) -> Limits {
        self.max_memory = Some(bytes);
        self
    }

    pub fn with_timeout(mut self, d: Duration) -> Limits {
        self.timeout = Some(d);
        self
    }

    /// Accept lines and records up to `bytes` long in the file readers (default 64 MiB).
    pub fn with_max_record(mut self, bytes: u64) -> Limits {
        self.max_record = Some(bytes);
        self
    }

    /// Called when a run starts.
    pub fn start(&mut self) {
        MEMORY_LIMIT.with(|m| m.set(self.max_memory));
        DEADLINE.with(|d| d.set(self.timeout.map(|t| Instant::now() + t)));
        PENDING_ERROR.with(|p| p.borrow_mut().take());
        PENDING.with(|p| p.set(0));
        INTERRUPTED.store(false, std::sync::atomic::Ordering::Relaxed);
        MAX_RECORD.with(|m| m.set(self.max_record.unwrap_or(DEFAULT_MAX_RECORD)));
        self.polls = 0;
        self.deadline = self.timeout.map(|t| Instant::now() + t);
    }

    /// Called every [`OPS_PER_POLL`] operations: `Err(reason)` when a limit is exceeded
    /// or the run was interrupted ([`interrupt`]).
    pub fn poll(&mut self) -> Result<(), String> {
        self.polls += 1;
        if INTERRUPTED.swap(false, std::sync::atomic::Ordering::Relaxed) {
            return Err(INTERRUPTED_MESSAGE.to_string());
        }
        if let Some(max) = self.max_polls
            && self.polls > max
        {
            return Err(format!(
                "operation limit exceeded ({} operations)",
                max * OPS_PER_POLL
            ));
        }
        if let Some(deadline) = self.deadline
            && Instant::now() >= deadline
        {
            return Err("time limit exceeded".to_string());
        }
        if let Some(max) = self.max_memory
            && (self.polls.is_multiple_of(16) || max < 64 << 20)
            && let Some(rss) = resident_bytes()
            && rss > max
        {
            return Err(format!(
                "memory limit exceeded ({} MB)",
                max / (1024 * 1024)
            ));
        }
        Ok(())
    }
}

/// Set from another thread (the REPL's Ctrl-C handler): the running script stops at its
/// next poll with [`INTERRUPTED_MESSAGE`], as with any limit (its transaction rolls back).
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The error of an interrupted run.
pub const INTERRUPTED_MESSAGE: &str = "interrupted";

/// Stop the script running now (on any thread of the process) at its next limit poll:
/// every few thousand operations, and between pipeline batches.
pub fn interrupt() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

thread_local! {
    /// The running script's deadline, for checks inside long builtins.
    static DEADLINE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
    /// The running script's memory limit, for checks at large allocations.
    static MEMORY_LIMIT: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
    /// Steps counted by `tick`.
    static TICKS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// A limit hit where the error could not be returned (printing): raised by the VM
    /// when the operation ends.
    static PENDING_ERROR: std::cell::RefCell<Option<crate::error::RtError>> =
        const { std::cell::RefCell::new(None) };
    /// Bytes allocated by large operations since the last check.
    static PENDING: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The running script's longest accepted line or record.
    static MAX_RECORD: std::cell::Cell<u64> = const { std::cell::Cell::new(DEFAULT_MAX_RECORD) };
}

/// The longest line or record the file readers accept in this run.
pub fn max_record() -> u64 {
    MAX_RECORD.with(|m| m.get())
}

/// The error for an allocation the allocator refused (`try_reserve` failed).
pub fn out_of_memory(bytes: usize) -> crate::error::RtError {
    crate::error::RtError::limit(format!(
        "out of memory (cannot allocate {} MB)",
        bytes.div_ceil(1024 * 1024)
    ))
}

/// Make room for `extra` more elements in `v`, checking the memory limit first when the
/// vector has to grow: a growth doubles a large vector in one step, between two polls.
/// The allocator refusing is an "out of memory" runtime error, not an abort.
pub fn reserve<T>(v: &mut Vec<T>, extra: usize) -> Result<(), crate::error::RtError> {
    if v.capacity() - v.len() >= extra {
        return Ok(());
    }
    let want = v
        .len()
        .saturating_add(extra)
        .max(v.capacity().saturating_mul(2));
    let bytes = want.saturating_mul(std::mem::size_of::<T>());
    if bytes > 1 << 16 {
        note_alloc(bytes)?;
    }
    v.try_reserve(want - v.len())
        .map_err(|_| out_of_memory(bytes))
}

/// [`reserve`] for text.
pub fn reserve_str(s: &mut String, extra: usize) -> Result<(), crate::error::RtError> {
    if s.capacity() - s.len() >= extra {
        return Ok(());
    }
    let want = s
        .len()
        .saturating_add(extra)
        .max(s.capacity().saturating_mul(2));
    if want > 1 << 16 {
        note_alloc(want)?;
    }
    s.try_reserve(want - s.len())
        .map_err(|_| out_of_memory(want))
}

/// Note a large allocation (string or list growth). A loop that doubles a string reaches
/// gigabytes within a few iterations, between two polls: this checks the memory limit
/// once every 16 MB allocated this way.
pub fn note_alloc(bytes: usize) -> Result<(), crate::error::RtError> {
    let Some(max) = MEMORY_LIMIT.with(|m| m.get()) else {
        return Ok(());
    };
    let pending = PENDING.with(|p| {
        let v = p.get() + bytes as u64;
        p.set(v);
        v
    });
    if pending < 16 << 20 && bytes < (max / 4) as usize && bytes > 0 {
        return Ok(());
    }
    PENDING.with(|p| p.set(0));
    let projected = (bytes as u64).saturating_add(if bytes as u64 > max {
        0
    } else {
        resident_bytes().unwrap_or(0)
    });
    if projected > max {
        return Err(crate::error::RtError::limit(format!(
            "memory limit exceeded ({} MB)",
            max / (1024 * 1024)
        )));
    }
    Ok(())
}

/// For work inside one operation that can grow without bound (comparing or printing
/// data with shared parts is exponential in its depth): call once per step; every 65,536
/// steps the deadline and the memory limit are checked.
pub fn tick() -> Result<(), crate::error::RtError> {
    let n = TICKS.with(|t| {
        let n = t.get().wrapping_add(1);
        t.set(n);
        n
    });
    if !n.is_multiple_of(65_536) {
        return Ok(());
    }
    if DEADLINE
        .with(|d| d.get())
        .is_some_and(|d| Instant::now() >= d)
    {
        return Err(crate::error::RtError::limit("time limit exceeded"));
    }
    note_alloc(0)
}

/// Sleep for `d` (the `sleep` builtin) in short slices, so that Ctrl-C ([`interrupt`])
/// and the run's deadline stop it as they stop a running loop: an interrupted sleep is
/// the error [`INTERRUPTED_MESSAGE`], one that would pass the deadline sleeps until it and
/// fails with "time limit exceeded".
pub fn sleep(d: Duration) -> Result<(), crate::error::RtError> {
    const SLICE: Duration = Duration::from_millis(10);
    let end = Instant::now().checked_add(d);
    let deadline = DEADLINE.with(|d| d.get());
    loop {
        if INTERRUPTED.swap(false, std::sync::atomic::Ordering::Relaxed) {
            return Err(crate::error::RtError::limit(INTERRUPTED_MESSAGE));
        }
        let now = Instant::now();
        if deadline.is_some_and(|dl| now >= dl) {
            return Err(crate::error::RtError::limit("time limit exceeded"));
        }
        // `end` is None only for a duration past what an Instant holds: sleep on.
        let left = match end {
            Some(end) if now >= end => return Ok(()),
            Some(end) => end - now,
            None => SLICE,
        };
        let left = match deadline {
            Some(dl) => left.min(dl.saturating_duration_since(now)),
            None => left,
        };
        std::thread::sleep(left.min(SLICE));
    }
}

/// Record a limit error hit inside an operation that cannot return it.
pub fn set_pending(e: crate::error::RtError) {
    PENDING_ERROR.with(|p| *p.borrow_mut() = Some(e));
}

/// Is a limit error recorded (the operation should stop)?
pub fn has_pending() -> bool {
    PENDING_ERROR.with(|p| p.borrow().is_some())
}

/// The limit error recorded by [`set_pending`], if any (cleared).
pub fn take_pending() -> Option<crate::error::RtError> {
    // Asked after every builtin call: the usual answer is a look, not a move of the
    // whole (large) `Option` out and back.
    PENDING_ERROR.with(|p| {
        if p.borrow().is_none() {
            return None;
        }
        p.borrow_mut().take()
    })
}

/// Resident memory of this process (Linux: /proc/self/statm), if known.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
