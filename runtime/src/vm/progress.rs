//! Where the executor reports a checkpointed pipe's progress. The runtime only calls the
//! sink (at each checkpoint, and every few thousand elements in between, only when one is
//! installed); drawing belongs to the embedder, so the runtime needs no terminal library.

/// Receives a checkpointed pipe's progress while it runs (SPEC §9: the progress line).
/// The runtime only calls it; drawing (and limiting how often) is the receiver's job.
pub trait ProgressSink {
    /// Cursor `name` has consumed `position` source elements (over every pass), of
    /// `total` when the end of this pass is known. Called at each checkpoint and every
    /// few thousand elements in between.
    fn update(&mut self, name: &str, position: u64, total: Option<u64>);
    /// The pass of cursor `name` stopped (it ended, or failed): clear what was drawn.
    fn done(&mut self, name: &str);
}
