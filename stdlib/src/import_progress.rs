//! The import's progress bar. It is drawn with indicatif when the `progress-bar` feature is
//! on (the `walia` command turns it on); an embedding program without it gets no bar and
//! does not link indicatif.

use std::io::IsTerminal;

#[cfg(feature = "progress-bar")]
pub(crate) use indicatif::ProgressBar;

/// Without the feature: a bar that draws nothing.
#[cfg(not(feature = "progress-bar"))]
pub(crate) struct ProgressBar;

#[cfg(not(feature = "progress-bar"))]
impl ProgressBar {
    pub(crate) fn set_position(&self, _bytes: u64) {}
    pub(crate) fn finish_and_clear(&self) {}
}

/// A bar for importing `size` bytes, when one is wanted and stderr is a terminal (small
/// files get none: they finish before a bar helps).
pub(crate) fn progress_bar(wanted: bool, size: u64) -> Option<ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() || size < (4 << 20) {
        return None;
    }
    drawn_bar(size)
}

#[cfg(feature = "progress-bar")]
fn drawn_bar(size: u64) -> Option<ProgressBar> {
    let bar = ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("importing");
    Some(bar)
}

#[cfg(not(feature = "progress-bar"))]
fn drawn_bar(_size: u64) -> Option<ProgressBar> {
    None
}
