//! Why a heap operation failed, and the page and object sets the store keeps.

use std::fmt;
use std::io;

/// Why a heap operation failed. Every variant renders as a one-line message.
#[derive(Debug)]
pub enum HeapError {
    Io(io::Error),
    /// The file is not a Walia heap.
    NotAHeap,
    /// Written by a format version this build does not know.
    Version(u32),
    /// A page failed validation.
    Corrupt {
        page: u64,
        what: String,
    },
    /// Another process holds the write lock.
    Locked(Option<u32>),
    ReadOnly,
    TooLarge(String),
    /// A stored record failed to decode.
    Record(String),
}

pub type HeapResult<T> = Result<T, HeapError>;

/// Sets of page numbers and object ids: hashed with Fx (they are not attacker-chosen keys
/// of a long-lived table, and SipHash showed up in profiles of large commits).
pub type IdSet = std::collections::HashSet<u64, crate::hash::FxBuild>;
/// Maps keyed by page number or object id.
pub type IdMap<V> = std::collections::HashMap<u64, V, crate::hash::FxBuild>;

impl HeapError {
    pub fn corrupt(page: u64, what: impl Into<String>) -> HeapError {
        HeapError::Corrupt {
            page,
            what: what.into(),
        }
    }
}

impl Clone for HeapError {
    fn clone(&self) -> HeapError {
        match self {
            HeapError::Io(e) => HeapError::Io(io::Error::new(e.kind(), e.to_string())),
            HeapError::NotAHeap => HeapError::NotAHeap,
            HeapError::Version(v) => HeapError::Version(*v),
            HeapError::Corrupt { page, what } => HeapError::corrupt(*page, what.clone()),
            HeapError::Locked(p) => HeapError::Locked(*p),
            HeapError::ReadOnly => HeapError::ReadOnly,
            HeapError::TooLarge(s) => HeapError::TooLarge(s.clone()),
            HeapError::Record(s) => HeapError::Record(s.clone()),
        }
    }
}

impl fmt::Display for HeapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapError::Io(e) => write!(f, "{e}"),
            HeapError::NotAHeap => write!(f, "not a Walia heap file (bad magic number)"),
            HeapError::Version(v) => write!(
                f,
                "heap format version {v} is not supported (this build reads version {})",
                crate::format::FORMAT_VERSION
            ),
            HeapError::Corrupt { page, what } => write!(f, "heap is corrupt: page {page}: {what}"),
            HeapError::Locked(Some(pid)) => {
                write!(f, "heap is locked by another writer (pid {pid})")
            }
            HeapError::Locked(None) => write!(f, "heap is locked by another writer"),
            HeapError::ReadOnly => write!(
                f,
                "heap is open read-only (a reader of its last commit): nothing can be written"
            ),
            HeapError::TooLarge(what) => write!(f, "cannot store {what}"),
            HeapError::Record(what) => write!(f, "heap is corrupt: {what}"),
        }
    }
}

impl std::error::Error for HeapError {}
