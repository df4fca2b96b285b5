//! walia-store: the heap file (`.wld`). Pages in a memory-mapped file, copy-on-write
//! commits through a pair of superblocks, the catalog B+tree, and tables stored as typed
//! columns. It never sees a script value: the runtime turns values into the catalog's
//! records (`codec`) and table cells ([`Cell`]) and back. docs/heap-format.md is the
//! format, and its "Invariants" section the rules the pager keeps.
//!
//! The modules, lowest first (each uses only those above it):
//! `hash`, `format`, `error` · `storage` (mapped file, memory, fault injection) · `superblock`,
//! `page` (page header and checks), `page_view` · `node` (catalog node encoding and cache)
//! · `pager` (allocation, copy-on-write, savepoints; `pager/commit.rs`: open and commit)
//! · `btree` (the catalog index) · `codec` (record encoding) · `table` (columnar tables)
//! · `reachable` (the pages a commit uses; the free-list check) · `heap` (an open heap:
//! pager, catalog names, open tables) · `inspect` (reports) · `compact` (a heap's live
//! content copied into a new file that replaces it).

mod btree;
pub mod codec;
mod compact;
#[cfg(test)]
mod crafted_tests;
mod error;
// A test fake, not API: compiled for this crate's tests, and for other crates' tests through
// the `fault-injection` feature (a dev-dependency), so no normal build carries it.
#[cfg(any(test, feature = "fault-injection"))]
#[doc(hidden)]
pub mod faulty;
mod format;
mod hash;
mod heap;
mod inspect;
mod node;
mod page;
mod page_view;
mod pager;
mod reachable;
mod readers;
mod storage;
mod superblock;
mod table;

pub use btree::MAX_KEY;
pub use compact::{Compacted, compact_file, temp_path as compact_temp_path};
pub use error::{HeapError, HeapResult, IdSet};
pub use hash::FxBuild;
pub use heap::{
    CURSOR_PREFIX, Durability, GC_KEY, GLOBAL_PREFIX, Heap, OBJECT_PREFIX, cursor_key, global_key,
    object_key,
};
pub use inspect::{GlobalInfo, Summary, VerifyReport, summary, verify};
pub use page::{PageKind, check_kind};
pub use page_view::PageView;
pub use pager::{Pager, RELEASE_EVERY};
pub use storage::{MemStorage, PAGE_SIZE, Storage};
pub use table::{
    Cell, ColType, ROWS_PER_PAGE, Table, TableError, TableInfo, TableResult, column_page,
    write_epoch,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compact;
#[cfg(test)]
mod tests_freelist;
#[cfg(test)]
mod tests_readers;
