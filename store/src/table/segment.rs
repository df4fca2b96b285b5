//! A segment: a growable array of data pages (one column's values, a table's deletion
//! marks, or its string bytes), found by page index through a radix tree of directory
//! pages.
//!
//! A directory page holds up to [`FAN`] page numbers; depth 1 is a single directory of data
//! pages, depth 2 a directory of directories, and so on. A 0 entry is a data page that was
//! never written (all of its values are nil). The tree is mirrored in memory (one `u64` per
//! data page: 160 KB for a column of 10 million rows) so that finding a row's page is an
//! array index. The mirror fills lazily: opening a segment reads the directories above level
//! 1 (one page per FAN² data pages: a single root up to 130 million rows a column) and the
//! last level-1 directory (which fixes the length); every other level-1 directory is read
//! the first time one of its pages is asked for, so opening a table and reading row slot s
//! costs O(depth) page reads, not O(rows / 254,500). Changed data pages are copied on write
//! at once; the directories above them are rewritten (again copy-on-write) at
//! [`Segment::flush`], before a commit or savepoint, so a commit writes each directory page
//! once however many rows changed.
//!
//! New data pages, and the copies changed pages get, come from a run of consecutive pages
//! the segment reserves ([`RUN_PAGES`] at a time, pager/runs.rs), so that a column's pages
//! lie together in the file however many columns are written at once; [`Segment::flush`]
//! gives back what is left of it.
//!
//! The lazily filled parts are `Cell`s, read and filled through `&self`: a table is read
//! through shared references on the script's thread only (it is not `Sync`), and the
//! threads of a `parallel(n)` block get owned copies of the page numbers their rows need
//! ([`Segment::range`]).

use crate::error::{HeapError, HeapResult, IdSet};
use crate::page::{HEADER_LEN, PageKind, page_seq, read_u64};
use crate::pager::{Pager, RunId};
use crate::storage::PAGE_SIZE;
use std::cell::Cell;
use std::collections::BTreeSet;

/// Page numbers per directory page.
pub const FAN: usize = (PAGE_SIZE - HEADER_LEN) / 8;
/// Pages a segment reserves at a time for its new data pages and copies. A first scan of a
/// 2M-row column in runs of 64 took 4.8 ns/row, of one stored alone 4.2, of one whose pages
/// lay 5 apart 5.6; runs of 256 gained at most another 5% and leave more pages at the end
/// of the file (a run's unused pages are listed free at the next flush).
pub const RUN_PAGES: u64 = 64;
/// No real segment is this deep (FAN^6 pages is far beyond any file).
const MAX_DEPTH: u8 = 6;

/// Where a stored segment starts: its top directory page and the tree's depth (0: empty).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentRoot {
    pub page: u64,
    pub depth: u8,
}

pub struct Segment {
    /// The kind of the data pages.
    kind: PageKind,
    /// Data page numbers by index: 0 under a level-1 directory not read yet (`loaded`).
    data: Vec<Cell<u64>>,
    /// Per level-1 directory of the stored segment: are its entries in `data`? (Those past
    /// its end, added since, are.)
    loaded: Vec<Cell<bool>>,
    /// `levels[k]` (k ≥ 1): directory pages of level k. `levels[0]` is unused (`data`).
    levels: Vec<Vec<u64>>,
    /// Per level (k ≥ 1), the directory indices that must be rewritten.
    dirty: Vec<BTreeSet<usize>>,
    root: SegmentRoot,
    /// The run of pages new data pages are taken from (until the next flush).
    run: Option<RunId>,
}

fn corrupt(page: u64, what: &str) -> HeapError {
    HeapError::corrupt(page, what.to_string())
}

impl Segment {
    pub fn new(kind: PageKind) -> Segment {
        Segment {
            kind,
            data: Vec::new(),
            loaded: Vec::new(),
            levels: vec![Vec::new()],
            dirty: Vec::new(),
            root: SegmentRoot::default(),
            run: None,
        }
    }

    /// Open a stored segment: its directories above level 1 and its last level-1
    /// directory are read now, the other level-1 directories when first used.
    pub fn load(pager: &mut Pager, root: SegmentRoot, kind: PageKind) -> HeapResult<Segment> {
        let mut seg = Segment::new(kind);
        seg.root = root;
        if root.depth == 0 {
            return Ok(seg);
        }
        if root.depth > MAX_DEPTH {
            return Err(corrupt(root.page, "table segment deeper than possible"));
        }
        let depth = root.depth as usize;
        seg.levels = vec![Vec::new(); depth + 1];
        seg.levels[depth].push(root.page);
        // A damaged file could link one directory from several places and multiply the
        // tree: every directory must be linked once.
        let mut seen = IdSet::default();
        let pages = pager.meta().page_count;
        for level in (2..=depth).rev() {
            let dirs = std::mem::take(&mut seg.levels[level]);
            let mut below = Vec::new();
            for (i, &dir) in dirs.iter().enumerate() {
                if !seen.insert(dir) {
                    return Err(corrupt(dir, "table directory linked twice"));
                }
                let bytes = pager.page(dir, PageKind::Directory)?;
                let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
                let last = i + 1 == dirs.len();
                if count > FAN || count == 0 || (!last && count != FAN) {
                    return Err(corrupt(dir, "table directory has a bad entry count"));
                }
                for k in 0..count {
                    let p = read_u64(bytes, HEADER_LEN + 8 * k);
                    if p == 0 {
                        return Err(corrupt(dir, "table directory links to page 0"));
                    }
                    if !(2..pages).contains(&p) {
                        return Err(corrupt(dir, &format!("table page number {p} out of range")));
                    }
                    below.push(p);
                }
            }
            seg.levels[level] = dirs;
            seg.levels[level - 1] = below;
        }
        for &dir in &seg.levels[1] {
            if !seen.insert(dir) {
                return Err(corrupt(dir, "table directory linked twice"));
            }
        }
        // The last directory may hold fewer than FAN pages: it fixes the length.
        let dirs = seg.levels[1].len();
        let last = dirs - 1;
        let bytes = pager.page(seg.levels[1][last], PageKind::Directory)?;
        let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
        if count > FAN || count == 0 {
            return Err(corrupt(
                seg.levels[1][last],
                "table directory has a bad entry count",
            ));
        }
        seg.data = vec![Cell::new(0); last * FAN + count];
        seg.loaded = vec![Cell::new(false); dirs];
        seg.read_directory(pager, last)?;
        Ok(seg)
    }

    /// Fill `data` from level-1 directory `j` of the stored segment.
    fn read_directory(&self, pager: &mut Pager, j: usize) -> HeapResult<()> {
        let Some(&dir) = self.levels.get(1).and_then(|l| l.get(j)) else {
            return Ok(());
        };
        let pages = pager.meta().page_count;
        let bytes = pager.page(dir, PageKind::Directory)?;
        let start = j * FAN;
        let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
        // Every directory but the last holds FAN pages, and the last fixed the length.
        if count != self.data.len().saturating_sub(start).min(FAN) {
            return Err(corrupt(dir, "table directory has a bad entry count"));
        }
        for k in 0..count {
            let p = read_u64(bytes, HEADER_LEN + 8 * k);
            // Data pages are read only when used, but `clear()` frees them unread.
            if p != 0 && !(2..pages).contains(&p) {
                return Err(corrupt(dir, &format!("table page number {p} out of range")));
            }
            self.data[start + k].set(p);
        }
        if let Some(done) = self.loaded.get(j) {
            done.set(true);
        }
        Ok(())
    }

    /// Make sure the entries of level-1 directory `j` are in `data`.
    #[inline]
    fn ensure(&self, pager: &mut Pager, j: usize) -> HeapResult<()> {
        match self.loaded.get(j) {
            Some(done) if !done.get() => self.read_directory(pager, j),
            _ => Ok(()),
        }
    }

    /// Read every directory not read yet.
    fn ensure_all(&self, pager: &mut Pager) -> HeapResult<()> {
        for j in 0..self.loaded.len() {
            self.ensure(pager, j)?;
        }
        Ok(())
    }

    /// The stored root as of the last flush.
    pub fn root(&self) -> SegmentRoot {
        self.root
    }

    /// Data pages the segment spans (written or not).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The data pages of indices `from..to` (0: never written; indices past the end too),
    /// their directories read first: what threads that cannot read directories get.
    pub fn range(&self, pager: &mut Pager, from: usize, to: usize) -> HeapResult<Vec<u64>> {
        let end = to.min(self.data.len());
        if from < end {
            for j in from / FAN..=(end - 1) / FAN {
                self.ensure(pager, j)?;
            }
        }
        Ok((from..to)
            .map(|i| self.data.get(i).map_or(0, Cell::get))
            .collect())
    }

    /// The data page at `index` (0: never written, or past the end).
    #[inline]
    pub fn page(&self, pager: &mut Pager, index: usize) -> HeapResult<u64> {
        let Some(cell) = self.data.get(index) else {
            return Ok(0);
        };
        self.ensure(pager, index / FAN)?;
        Ok(cell.get())
    }

    /// The data page at `index`, made writable in this transaction (allocated zeroed when
    /// it was never written, copied when the last commit or savepoint holds it).
    pub fn page_for_write(&mut self, pager: &mut Pager, index: usize) -> HeapResult<u64> {
        // The directory is rewritten whole at the flush: its entries must all be known.
        let current = self.page(pager, index)?;
        if current != 0 && pager.is_fresh(current) {
            return Ok(current);
        }
        let (kind, run) = (self.kind, &mut self.run);
        let page = if current == 0 {
            run_page(pager, run, kind)?
        } else {
            pager.copy_on_write_with(current, kind, &mut |p| run_page(p, run, kind))?
        };
        if self.data.len() <= index {
            self.data.resize(index + 1, Cell::new(0));
        }
        self.data[index].set(page);
        self.mark_dirty(1, index / FAN);
        Ok(page)
    }

    fn mark_dirty(&mut self, level: usize, index: usize) {
        while self.dirty.len() <= level {
            self.dirty.push(BTreeSet::new());
        }
        self.dirty[level].insert(index);
    }

    /// Is anything changed since the last flush?
    pub fn is_dirty(&self) -> bool {
        self.dirty.iter().any(|d| !d.is_empty())
    }

    /// Write the changed directories (copy-on-write) and return the new root. What is
    /// left of the run of reserved pages goes back to the free list.
    pub fn flush(&mut self, pager: &mut Pager) -> HeapResult<SegmentRoot> {
        self.release_run(pager);
        if !self.is_dirty() {
            return Ok(self.root);
        }
        if self.data.is_empty() {
            // Emptied by `free_all`: nothing is stored.
            self.dirty.clear();
            self.root = SegmentRoot::default();
            return Ok(self.root);
        }
        let mut level = 1;
        loop {
            let below = match level {
                1 => self.data.len(),
                _ => self.levels[level - 1].len(),
            };
            let needed = below.div_ceil(FAN).max(1);
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let old_len = self.levels[level].len();
            if old_len < needed {
                // New directories, and the old last one (no longer last, so now full),
                // must be written even when no page under them changed (a write far past
                // the end skips whole directories).
                self.levels[level].resize(needed, 0);
                for j in old_len.saturating_sub(1)..needed {
                    self.mark_dirty(level, j);
                }
            }
            let dirty = self
                .dirty
                .get_mut(level)
                .map(std::mem::take)
                .unwrap_or_default();
            for j in dirty {
                self.write_directory(pager, level, j)?;
                self.mark_dirty(level + 1, j / FAN);
            }
            if needed == 1 {
                self.root = SegmentRoot {
                    page: self.levels[level][0],
                    depth: level as u8,
                };
                // Levels above the top (none unless the tree shrank) are not stored.
                self.levels.truncate(level + 1);
                self.dirty.truncate(level + 1);
                return Ok(self.root);
            }
            level += 1;
        }
    }

    fn write_directory(&mut self, pager: &mut Pager, level: usize, j: usize) -> HeapResult<()> {
        let start = j * FAN;
        let entries: Vec<u64> = match level {
            1 => self.data[start..(start + FAN).min(self.data.len())]
                .iter()
                .map(Cell::get)
                .collect(),
            _ => self.levels[level - 1][start..(start + FAN).min(self.levels[level - 1].len())]
                .to_vec(),
        };
        let current = self.levels[level][j];
        let page = if current != 0 && pager.is_fresh(current) {
            current
        } else {
            if current != 0 {
                pager.free(current);
            }
            pager.allocate(PageKind::Directory)?
        };
        let buf = pager.page_mut(page)?;
        buf[2..4].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        for (k, p) in entries.iter().enumerate() {
            buf[HEADER_LEN + 8 * k..HEADER_LEN + 8 * k + 8].copy_from_slice(&p.to_le_bytes());
        }
        buf[HEADER_LEN + 8 * entries.len()..].fill(0);
        self.levels[level][j] = page;
        Ok(())
    }

    /// Give back the pages of the run not used yet.
    fn release_run(&mut self, pager: &mut Pager) {
        if let Some(run) = self.run.take() {
            pager.release_run(run);
        }
    }

    /// Free every page (the segment becomes empty).
    pub fn free_all(&mut self, pager: &mut Pager) -> HeapResult<()> {
        self.release_run(pager);
        let mut pages = Vec::new();
        self.pages(pager, &mut |p, _| pages.push(p))?;
        for p in pages {
            pager.free(p);
        }
        self.data.clear();
        self.loaded.clear();
        self.levels = vec![Vec::new()];
        self.dirty.clear();
        self.mark_dirty(1, 0);
        self.root = SegmentRoot::default();
        Ok(())
    }

    /// Every page of the segment with its kind (directories and written data pages).
    pub fn pages(&self, pager: &mut Pager, f: &mut dyn FnMut(u64, PageKind)) -> HeapResult<()> {
        self.ensure_all(pager)?;
        for p in self.data.iter().map(Cell::get).filter(|&p| p != 0) {
            f(p, self.kind);
        }
        for &p in self.levels.iter().skip(1).flatten() {
            if p != 0 {
                f(p, PageKind::Directory);
            }
        }
        Ok(())
    }
}

/// Copy the stored segment at `root` of `from` into `to` (compaction): its written data
/// pages, their bytes unchanged, to pages allocated one after another, then new
/// directories above them; `copied` is called once per data page. Returns the copy's root.
pub fn copy_stored(
    from: &mut Pager,
    root: SegmentRoot,
    kind: PageKind,
    to: &mut Pager,
    copied: &mut dyn FnMut(),
) -> HeapResult<SegmentRoot> {
    let source = Segment::load(from, root, kind)?;
    source.ensure_all(from)?;
    let mut copy = Segment::new(kind);
    copy.data.reserve(source.data.len());
    for page in source.data.iter().map(Cell::get) {
        let new = if page == 0 {
            0
        } else {
            let bytes = from.page(page, kind)?;
            let new = to.allocate(kind)?;
            let buf = to.page_mut(new)?;
            buf[1..4].copy_from_slice(&bytes[1..4]);
            buf[HEADER_LEN..].copy_from_slice(&bytes[HEADER_LEN..]);
            copied();
            new
        };
        copy.data.push(Cell::new(new));
    }
    if copy.data.is_empty() {
        return Ok(SegmentRoot::default());
    }
    // `flush` writes every directory of a segment that has none yet.
    copy.mark_dirty(1, 0);
    copy.flush(to)
}

/// A new data page of `kind` from the segment's run, reserving a new run when it is used
/// up (or was taken back by a savepoint, commit or rollback).
fn run_page(pager: &mut Pager, run: &mut Option<RunId>, kind: PageKind) -> HeapResult<u64> {
    if let Some(r) = *run
        && let Some(page) = pager.allocate_from(r, kind)?
    {
        return Ok(page);
    }
    let (page, r) = pager.allocate_run(kind, RUN_PAGES)?;
    *run = Some(r);
    Ok(page)
}

/// Visit the pages of a stored segment written after commit `since` (all of them when
/// `since` is `None`): a directory written at or before `since` is skipped with everything
/// under it, since a changed page always rewrites the directories above it.
pub fn walk_stored(
    pager: &mut Pager,
    root: SegmentRoot,
    kind: PageKind,
    since: Option<u64>,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    if root.depth == 0 {
        return Ok(());
    }
    if root.depth > MAX_DEPTH {
        return Err(corrupt(root.page, "table segment deeper than possible"));
    }
    let mut level = vec![root.page];
    let mut seen = IdSet::default();
    for depth in (1..=root.depth).rev() {
        let mut below = Vec::new();
        for dir in level {
            if !seen.insert(dir) {
                return Err(corrupt(dir, "table directory linked twice"));
            }
            let bytes = pager.page(dir, PageKind::Directory)?;
            if since.is_some_and(|s| page_seq(bytes) <= s) {
                continue;
            }
            let count = (u16::from_le_bytes([bytes[2], bytes[3]]) as usize).min(FAN);
            for k in 0..count {
                let p = read_u64(bytes, HEADER_LEN + 8 * k);
                if p != 0 {
                    below.push(p);
                }
            }
            f(dir, PageKind::Directory);
        }
        if depth == 1 {
            for p in below {
                let bytes = pager.page(p, kind)?;
                if since.is_none_or(|s| page_seq(bytes) > s) {
                    f(p, kind);
                }
            }
            return Ok(());
        }
        level = below;
    }
    Ok(())
}
