//! The primary-key index of a table with Int ids: a copy-on-write B+tree from `id` to row
//! number, worked on directly in its pages (fixed 16-byte entries, no decoding).
//!
//! Leaf: `count` entries of (key i64, row u64). Branch: a first child, then `count` entries
//! of (key i64, child u64); a key separates the children left of it (smaller keys) from the
//! child right of it (keys >= it). Inserting past the largest key splits a full node by
//! moving only the new entry to the right, so ids inserted in increasing order fill every
//! page (as SQLite does for rowids). Deletion leaves nodes in place (no rebalancing).

use crate::error::{HeapError, HeapResult, IdSet};
use crate::page::{HEADER_LEN, PageKind, page_seq, read_u64};
use crate::pager::Pager;
use crate::storage::PAGE_SIZE;

const LEAF_CAP: usize = (PAGE_SIZE - HEADER_LEN) / 16;
const BRANCH_AT: usize = HEADER_LEN + 8;
const BRANCH_CAP: usize = (PAGE_SIZE - BRANCH_AT) / 16;
/// A damaged tree could loop; no real one is this deep.
const MAX_DEPTH: usize = 32;

fn count(bytes: &[u8]) -> usize {
    u16::from_le_bytes([bytes[2], bytes[3]]) as usize
}

fn set_count(buf: &mut [u8], n: usize) {
    buf[2..4].copy_from_slice(&(n as u16).to_le_bytes());
}

fn key_at(bytes: &[u8], base: usize, i: usize) -> i64 {
    read_u64(bytes, base + 16 * i) as i64
}

fn val_at(bytes: &[u8], base: usize, i: usize) -> u64 {
    read_u64(bytes, base + 16 * i + 8)
}

fn put_entry(buf: &mut [u8], base: usize, i: usize, key: i64, val: u64) {
    let at = base + 16 * i;
    buf[at..at + 8].copy_from_slice(&key.to_le_bytes());
    buf[at + 8..at + 16].copy_from_slice(&val.to_le_bytes());
}

fn too_deep(page: u64) -> HeapError {
    HeapError::corrupt(page, "key index deeper than possible (a loop?)")
}

/// A node's page, validated, with its entry count checked against the capacity.
fn node(pager: &mut Pager, page: u64) -> HeapResult<(PageKind, &[u8], usize)> {
    let (kind, bytes) = pager.page_of(page, &[PageKind::KeyLeaf, PageKind::KeyBranch])?;
    let n = count(bytes);
    let cap = if kind == PageKind::KeyLeaf {
        LEAF_CAP
    } else {
        BRANCH_CAP
    };
    if n > cap {
        return Err(HeapError::corrupt(
            page,
            "key index node has too many entries",
        ));
    }
    Ok((kind, bytes, n))
}

/// Child index of a branch for `key`: the number of separators <= key.
fn child_index(bytes: &[u8], n: usize, key: i64) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if key_at(bytes, BRANCH_AT, mid) <= key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn child_at(bytes: &[u8], i: usize) -> u64 {
    if i == 0 {
        read_u64(bytes, HEADER_LEN)
    } else {
        val_at(bytes, BRANCH_AT, i - 1)
    }
}

fn set_child(buf: &mut [u8], i: usize, page: u64) {
    let at = if i == 0 {
        HEADER_LEN
    } else {
        BRANCH_AT + 16 * (i - 1) + 8
    };
    buf[at..at + 8].copy_from_slice(&page.to_le_bytes());
}

/// Position of `key` in a leaf: `Ok(i)` when present, `Err(i)` where it would go.
fn leaf_search(bytes: &[u8], n: usize, key: i64) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let k = key_at(bytes, HEADER_LEN, mid);
        if k == key {
            return Ok(mid);
        }
        if k < key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Err(lo)
}

/// The row stored for `key`.
pub fn get(pager: &mut Pager, root: u64, key: i64) -> HeapResult<Option<u64>> {
    let mut page = root;
    for _ in 0..MAX_DEPTH {
        if page == 0 {
            return Ok(None);
        }
        let (kind, bytes, n) = node(pager, page)?;
        if kind == PageKind::KeyLeaf {
            return Ok(leaf_search(bytes, n, key)
                .ok()
                .map(|i| val_at(bytes, HEADER_LEN, i)));
        }
        page = child_at(bytes, child_index(bytes, n, key));
    }
    Err(too_deep(page))
}

/// What [`insert`] did.
pub enum Inserted {
    /// Added; the tree's new root.
    Root(u64),
    /// The key was already there, mapped to this row (only the tests read it); nothing
    /// changed.
    Exists(#[cfg_attr(not(test), allow(dead_code))] u64),
}

/// Branches from the root down: (page, child index taken).
type Path = Vec<(u64, usize)>;

/// The branches from the root down to the leaf for `key`: (page, child index taken).
fn descend(pager: &mut Pager, root: u64, key: i64) -> HeapResult<(Path, u64)> {
    let mut path = Vec::new();
    let mut page = root;
    for _ in 0..MAX_DEPTH {
        let (kind, bytes, n) = node(pager, page)?;
        if kind == PageKind::KeyLeaf {
            return Ok((path, page));
        }
        let i = child_index(bytes, n, key);
        let child = child_at(bytes, i);
        if child == 0 {
            return Err(HeapError::corrupt(page, "key index branch links to page 0"));
        }
        path.push((page, i));
        page = child;
    }
    Err(too_deep(page))
}

/// Make the path writable (copying committed pages); returns the new root and the
/// writable path and leaf.
fn writable_path(
    pager: &mut Pager,
    path: &[(u64, usize)],
    leaf: u64,
) -> HeapResult<(u64, Path, u64)> {
    let mut out = Vec::with_capacity(path.len());
    let mut parent: Option<(u64, usize)> = None;
    let mut root = 0;
    let nodes = path
        .iter()
        .map(|&(p, i)| (p, Some(i), PageKind::KeyBranch))
        .chain(std::iter::once((leaf, None, PageKind::KeyLeaf)));
    let mut new_leaf = leaf;
    for (page, index, kind) in nodes {
        let w = pager.copy_on_write(page, kind)?;
        match parent {
            Some((pp, pi)) => {
                if w != page {
                    set_child(pager.page_mut(pp)?, pi, w);
                }
            }
            None => root = w,
        }
        match index {
            Some(i) => {
                out.push((w, i));
                parent = Some((w, i));
            }
            None => new_leaf = w,
        }
    }
    Ok((root, out, new_leaf))
}

/// Add `key -> row` unless the key is present.
pub fn insert(pager: &mut Pager, root: u64, key: i64, row: u64) -> HeapResult<Inserted> {
    if root == 0 {
        let page = pager.allocate(PageKind::KeyLeaf)?;
        let buf = pager.page_mut(page)?;
        put_entry(buf, HEADER_LEN, 0, key, row);
        set_count(buf, 1);
        return Ok(Inserted::Root(page));
    }
    let (path, leaf) = descend(pager, root, key)?;
    let (_, bytes, n) = node(pager, leaf)?;
    let pos = match leaf_search(bytes, n, key) {
        Ok(i) => return Ok(Inserted::Exists(val_at(bytes, HEADER_LEN, i))),
        Err(i) => i,
    };
    let (mut root, path, leaf) = writable_path(pager, &path, leaf)?;
    let buf = pager.page_mut(leaf)?;
    if n < LEAF_CAP {
        let at = HEADER_LEN + 16 * pos;
        buf.copy_within(at..HEADER_LEN + 16 * n, at + 16);
        put_entry(buf, HEADER_LEN, pos, key, row);
        set_count(buf, n + 1);
        return Ok(Inserted::Root(root));
    }
    // Split the leaf.
    let mut entries: Vec<(i64, u64)> = (0..n)
        .map(|i| (key_at(buf, HEADER_LEN, i), val_at(buf, HEADER_LEN, i)))
        .collect();
    entries.insert(pos, (key, row));
    let appending = pos == n;
    let keep = if appending {
        entries.len() - 1
    } else {
        entries.len() / 2
    };
    write_leaf(buf, &entries[..keep]);
    let right = pager.allocate(PageKind::KeyLeaf)?;
    write_leaf(pager.page_mut(right)?, &entries[keep..]);
    let mut up = Some((entries[keep].0, right));
    // Insert the separator into each parent, splitting as needed.
    for &(page, i) in path.iter().rev() {
        let Some((sep, child)) = up.take() else {
            break;
        };
        up = insert_in_branch(pager, page, i, sep, child, appending)?;
    }
    if let Some((sep, child)) = up {
        let page = pager.allocate(PageKind::KeyBranch)?;
        let buf = pager.page_mut(page)?;
        set_child(buf, 0, root);
        put_entry(buf, BRANCH_AT, 0, sep, child);
        set_count(buf, 1);
        root = page;
    }
    Ok(Inserted::Root(root))
}

fn write_leaf(buf: &mut [u8], entries: &[(i64, u64)]) {
    buf[HEADER_LEN..].fill(0);
    for (i, (k, v)) in entries.iter().enumerate() {
        put_entry(buf, HEADER_LEN, i, *k, *v);
    }
    set_count(buf, entries.len());
}

/// Put separator `sep` with its right child after child `i` of a writable branch; returns
/// the separator and new page to push up when the branch had to split.
fn insert_in_branch(
    pager: &mut Pager,
    page: u64,
    i: usize,
    sep: i64,
    child: u64,
    appending: bool,
) -> HeapResult<Option<(i64, u64)>> {
    let buf = pager.page_mut(page)?;
    let n = count(buf);
    if n < BRANCH_CAP {
        let at = BRANCH_AT + 16 * i;
        buf.copy_within(at..BRANCH_AT + 16 * n, at + 16);
        put_entry(buf, BRANCH_AT, i, sep, child);
        set_count(buf, n + 1);
        return Ok(None);
    }
    let first = child_at(buf, 0);
    let mut entries: Vec<(i64, u64)> = (0..n)
        .map(|k| (key_at(buf, BRANCH_AT, k), val_at(buf, BRANCH_AT, k)))
        .collect();
    entries.insert(i, (sep, child));
    // entries[s] moves up: its child becomes the right node's first child.
    let s = if appending && i == n {
        entries.len() - 1
    } else {
        entries.len() / 2
    };
    write_branch(buf, first, &entries[..s]);
    let (up_key, right_first) = entries[s];
    let right = pager.allocate(PageKind::KeyBranch)?;
    write_branch(pager.page_mut(right)?, right_first, &entries[s + 1..]);
    Ok(Some((up_key, right)))
}

fn write_branch(buf: &mut [u8], first: u64, entries: &[(i64, u64)]) {
    buf[HEADER_LEN..].fill(0);
    set_child(buf, 0, first);
    for (i, (k, c)) in entries.iter().enumerate() {
        put_entry(buf, BRANCH_AT, i, *k, *c);
    }
    set_count(buf, entries.len());
}

/// Remove `key`; returns the new root and whether the key was there.
pub fn delete(pager: &mut Pager, root: u64, key: i64) -> HeapResult<(u64, bool)> {
    if root == 0 {
        return Ok((0, false));
    }
    let (path, leaf) = descend(pager, root, key)?;
    let (_, bytes, n) = node(pager, leaf)?;
    let Ok(pos) = leaf_search(bytes, n, key) else {
        return Ok((root, false));
    };
    let (root, _, leaf) = writable_path(pager, &path, leaf)?;
    let buf = pager.page_mut(leaf)?;
    let at = HEADER_LEN + 16 * pos;
    buf.copy_within(at + 16..HEADER_LEN + 16 * n, at);
    buf[HEADER_LEN + 16 * (n - 1)..HEADER_LEN + 16 * n].fill(0);
    set_count(buf, n - 1);
    Ok((root, true))
}

/// A walk's check of a node: not deeper than a sound tree can be, and not reached twice
/// (a damaged file could link a node from several branches and multiply the walk).
fn first_visit(seen: &mut IdSet, page: u64, depth: usize) -> HeapResult<()> {
    if depth > MAX_DEPTH {
        return Err(too_deep(page));
    }
    if !seen.insert(page) {
        return Err(HeapError::corrupt(page, "key index node linked twice"));
    }
    Ok(())
}

/// Call `f` with every entry (key, row) of the tree, in ascending key order.
pub fn for_each_entry(
    pager: &mut Pager,
    root: u64,
    f: &mut dyn FnMut(i64, u64) -> HeapResult<()>,
) -> HeapResult<()> {
    if root == 0 {
        return Ok(());
    }
    let mut stack = vec![(root, 0usize)];
    let mut seen = IdSet::default();
    while let Some((page, depth)) = stack.pop() {
        first_visit(&mut seen, page, depth)?;
        let (kind, bytes, n) = node(pager, page)?;
        if kind == PageKind::KeyBranch {
            // Leftmost child on top: children are visited in key order.
            for i in (0..=n).rev() {
                stack.push((child_at(bytes, i), depth + 1));
            }
            continue;
        }
        let entries: Vec<(i64, u64)> = (0..n)
            .map(|i| (key_at(bytes, HEADER_LEN, i), val_at(bytes, HEADER_LEN, i)))
            .collect();
        for (key, row) in entries {
            f(key, row)?;
        }
    }
    Ok(())
}

/// Visit every page of the tree (all of them, or only those written after commit
/// `since`: a node written earlier is skipped with everything under it).
pub fn walk(
    pager: &mut Pager,
    root: u64,
    since: Option<u64>,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    if root == 0 {
        return Ok(());
    }
    let mut stack = vec![(root, 0usize)];
    // A damaged file could link a node from several branches and multiply the walk.
    let mut seen = IdSet::default();
    while let Some((page, depth)) = stack.pop() {
        first_visit(&mut seen, page, depth)?;
        let (kind, bytes, n) = node(pager, page)?;
        if since.is_some_and(|s| page_seq(bytes) <= s) {
            continue;
        }
        if kind == PageKind::KeyBranch {
            for i in 0..=n {
                stack.push((child_at(bytes, i), depth + 1));
            }
        }
        f(page, kind);
    }
    Ok(())
}

/// Visit every page of the tree reading only its branches: all leaves are at one depth
/// (that of the first leaf), and nothing under a leaf has to be read to name it. For the
/// writer's check at open (reachable.rs), which must stay cheap on a large table: a
/// 10-million-row key index has about 40,000 leaves and 160 branches. A branch that
/// damage put where leaves belong is named as a leaf; its subtree is then not visited, so
/// the check reports those pages as neither used nor free.
pub fn walk_linked(
    pager: &mut Pager,
    root: u64,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    if root == 0 {
        return Ok(());
    }
    let mut leaf_depth = 0;
    let mut page = root;
    loop {
        let (kind, bytes, _) = node(pager, page)?;
        if kind == PageKind::KeyLeaf {
            break;
        }
        leaf_depth += 1;
        if leaf_depth > MAX_DEPTH {
            return Err(too_deep(page));
        }
        page = child_at(bytes, 0);
    }
    let mut stack = vec![(root, 0usize)];
    // A damaged file could link a node from several branches and multiply the walk.
    // (A bit per page: every page named is checked to be in range first.)
    let mut seen = crate::page_view::PageBits::default();
    while let Some((page, depth)) = stack.pop() {
        if !pager.view().in_range(page) {
            return Err(HeapError::corrupt(
                page,
                "key index page number out of range",
            ));
        }
        if !seen.insert(page) {
            return Err(HeapError::corrupt(page, "key index node linked twice"));
        }
        if depth == leaf_depth {
            f(page, PageKind::KeyLeaf);
            continue;
        }
        let (kind, bytes, n) = node(pager, page)?;
        if kind != PageKind::KeyBranch {
            return Err(HeapError::corrupt(
                page,
                "key index leaf above the depth of the others",
            ));
        }
        for i in 0..=n {
            stack.push((child_at(bytes, i), depth + 1));
        }
        f(page, kind);
    }
    Ok(())
}

/// Add the number of keys in the tree to `n`.
pub fn count_entries(pager: &mut Pager, root: u64, n: &mut u64) -> HeapResult<()> {
    let mut leaves = Vec::new();
    walk(pager, root, None, &mut |p, kind| {
        if kind == PageKind::KeyLeaf {
            leaves.push(p);
        }
    })?;
    for leaf in leaves {
        *n += node(pager, leaf)?.2 as u64;
    }
    Ok(())
}

/// Free every page of the tree.
pub fn free_all(pager: &mut Pager, root: u64) -> HeapResult<()> {
    let mut pages = Vec::new();
    walk(pager, root, None, &mut |p, _| pages.push(p))?;
    for p in pages {
        pager.free(p);
    }
    Ok(())
}
