//! The progress line of a running checkpointed pipe on a terminal (SPEC §9): the pipe's
//! name, its position of the total, the rate and the time left. The runtime reports
//! through [`ProgressSink`]; drawing is here, so the runtime does not depend on indicatif.

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use walia::ProgressSink;

/// The bar on screen now, shared with [`Stdout`] so the script's output can move it.
type Shown = Arc<Mutex<Option<ProgressBar>>>;

/// Redraws at most 10 times a second.
const INTERVAL: Duration = Duration::from_millis(100);

/// A pass shorter than this shows no line at all (no flicker for quick pipes).
const QUIET_START: Duration = Duration::from_millis(250);

/// Draws one line on stderr for the pass running now.
pub struct ProgressLine {
    /// The pass being shown: its cursor's name and when it was first reported.
    pass: Option<Pass>,
    /// Its bar, once it has run long enough to get one.
    shown: Shown,
    /// When the line was last updated.
    last: Option<Instant>,
}

struct Pass {
    name: String,
    started: Instant,
    /// Whether the bar's style has a length (the source's end is known).
    with_total: bool,
}

/// A progress line, and the standard output to give the engine with it: what a script
/// prints while the line is shown goes above it instead of through it.
pub fn install() -> (ProgressLine, Stdout) {
    let shown = Shown::default();
    let line = ProgressLine {
        pass: None,
        shown: shown.clone(),
        last: None,
    };
    (line, Stdout { shown })
}

/// Standard output that lifts the progress line off the screen while it writes.
pub struct Stdout {
    shown: Shown,
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = shown(&self.shown).clone();
        let mut out = std::io::stdout().lock();
        match bar {
            Some(bar) => bar.suspend(|| out.write_all(buf).and_then(|_| out.flush()))?,
            None => out.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

fn style(with_total: bool) -> Option<ProgressStyle> {
    let template = if with_total {
        "{prefix} [{bar:30}] {human_pos}/{human_len}  {rate}  ETA {eta}"
    } else {
        "{prefix} {human_pos}  {rate}  {elapsed}"
    };
    ProgressStyle::with_template(template).ok().map(|s| {
        s.progress_chars("=> ")
            // Whole elements per second: indicatif's own `per_sec` shows four decimals.
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}/s", HumanCount(state.per_sec().max(0.0) as u64));
                },
            )
    })
}

fn new_bar(name: &str, position: u64, total: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(10));
    if let Some(s) = style(total.is_some()) {
        bar.set_style(s);
    }
    bar.set_prefix(name.to_string());
    bar.set_position(position);
    // The rate counts this run's elements, not those of earlier runs (a resumed pass
    // starts far from 0).
    bar.reset_eta();
    bar
}

impl ProgressSink for ProgressLine {
    fn update(&mut self, name: &str, position: u64, total: Option<u64>) {
        let now = Instant::now();
        // The runtime calls often (every few thousand elements); most calls stop here.
        if self.last.is_some_and(|t| now.duration_since(t) < INTERVAL) {
            return;
        }
        self.last = Some(now);
        if self.pass.as_ref().is_none_or(|p| p.name != name) {
            self.clear();
            self.pass = Some(Pass {
                name: name.to_string(),
                started: now,
                with_total: total.is_some(),
            });
        }
        let Some(pass) = &mut self.pass else {
            return;
        };
        if now.duration_since(pass.started) < QUIET_START {
            return;
        }
        let mut shown = shown(&self.shown);
        match &*shown {
            None => {
                *shown = Some(new_bar(name, position, total));
                pass.with_total = total.is_some();
            }
            Some(bar) => {
                if total.is_some() != pass.with_total {
                    pass.with_total = total.is_some();
                    if let Some(s) = style(pass.with_total) {
                        bar.set_style(s);
                    }
                }
                match total {
                    Some(t) => bar.set_length(t),
                    None => bar.unset_length(),
                }
                bar.set_position(position);
            }
        }
    }

    fn done(&mut self, _name: &str) {
        self.clear();
    }
}

impl ProgressLine {
    /// The pass is over: erase its line, so what follows starts on a clean line.
    fn clear(&mut self) {
        self.pass = None;
        if let Some(bar) = shown(&self.shown).take() {
            bar.finish_and_clear();
        }
        self.last = None;
    }
}

/// The shown bar. Only the script's thread uses it, one call at a time, so the lock is
/// never contended; a panic while holding it leaves a bar that is still fine to draw.
fn shown(shown: &Shown) -> MutexGuard<'_, Option<ProgressBar>> {
    shown
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
