//! The catalog index: a copy-on-write B+tree from byte keys to byte values in heap pages.
//!
//! Nodes are rewritten whole: a node this transaction already copied is changed in place,
//! any other is copied to a new page and the old one freed (after the commit), and so on
//! up to the root. Values over [`MAX_INLINE`] bytes live in chains of overflow pages.
//! Deletion removes empty nodes but does not rebalance; the catalog mostly grows. The node
//! encoding and the node cache are in `node.rs`.

use crate::error::{HeapError, HeapResult};
use crate::node::{self, Node, Piece, Val, corrupt, split};
use crate::page::{HEADER_LEN, PageKind, page_seq, read_u64};
use crate::pager::Pager;
use crate::storage::PAGE_SIZE;
use std::rc::Rc;

fn too_deep(page: u64) -> HeapError {
    corrupt(page, "index deeper than possible (a loop?)")
}

/// A descent past [`MAX_DEPTH`] can only be a damaged tree that links back on itself.
fn check_depth(page: u64, depth: usize) -> HeapResult<()> {
    if depth > MAX_DEPTH {
        return Err(too_deep(page));
    }
    Ok(())
}

/// Longest key (a global's name plus a one-byte prefix).
pub const MAX_KEY: usize = 512;
/// Longest value kept inside a leaf; longer ones go to overflow pages.
pub const MAX_INLINE: usize = 512;
const OVERFLOW_DATA: usize = PAGE_SIZE - HEADER_LEN - 8;
/// A corrupt heap could link branches into a loop; no real tree is this deep.
const MAX_DEPTH: usize = 48;

/// Index of the child of a branch that covers `key`: 0 is `first`, i is `entries[i-1]`.
fn child_index(entries: &[(Vec<u8>, u64)], key: &[u8]) -> usize {
    entries.partition_point(|(k, _)| k.as_slice() <= key)
}

fn child_at(first: u64, entries: &[(Vec<u8>, u64)], i: usize) -> u64 {
    if i == 0 { first } else { entries[i - 1].1 }
}

fn set_child(first: &mut u64, entries: &mut [(Vec<u8>, u64)], i: usize, page: u64) {
    if i == 0 {
        *first = page;
    } else {
        entries[i - 1].1 = page;
    }
}

fn write_overflow(pager: &mut Pager, bytes: &[u8]) -> HeapResult<Val> {
    let chunks: Vec<&[u8]> = bytes.chunks(OVERFLOW_DATA).collect();
    let mut pages = Vec::with_capacity(chunks.len());
    for _ in 0..chunks.len() {
        pages.push(pager.allocate(PageKind::Overflow)?);
    }
    for (i, chunk) in chunks.iter().enumerate() {
        let next = pages.get(i + 1).copied().unwrap_or(0);
        let buf = pager.page_mut(pages[i])?;
        buf[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&next.to_le_bytes());
        buf[HEADER_LEN + 8..HEADER_LEN + 8 + chunk.len()].copy_from_slice(chunk);
    }
    Ok(Val::Overflow {
        page: pages.first().copied().unwrap_or(0),
        len: bytes.len() as u64,
    })
}

/// The pages of an overflow chain, validated against the value's length.
fn overflow_pages(pager: &mut Pager, first: u64, len: u64) -> HeapResult<Vec<u64>> {
    let expect = (len as usize).div_ceil(OVERFLOW_DATA);
    if len > pager.file_pages().saturating_mul(OVERFLOW_DATA as u64) {
        return Err(corrupt(first, "overflow value longer than the heap"));
    }
    let mut pages = Vec::with_capacity(expect);
    let mut page = first;
    for _ in 0..expect {
        if page == 0 {
            return Err(corrupt(first, "overflow chain ends early"));
        }
        let bytes = pager.page(page, PageKind::Overflow)?;
        pages.push(page);
        page = read_u64(bytes, HEADER_LEN);
    }
    Ok(pages)
}

fn read_val(pager: &mut Pager, val: &Val) -> HeapResult<Vec<u8>> {
    match val {
        Val::Inline(b) => Ok(b.clone()),
        Val::Overflow { page, len } => {
            let pages = overflow_pages(pager, *page, *len)?;
            let mut out = Vec::with_capacity(*len as usize);
            for p in pages {
                let bytes = pager.page(p, PageKind::Overflow)?;
                let n = (*len as usize - out.len()).min(OVERFLOW_DATA);
                out.extend_from_slice(&bytes[HEADER_LEN + 8..HEADER_LEN + 8 + n]);
            }
            Ok(out)
        }
    }
}

fn free_val(pager: &mut Pager, val: &Val) -> HeapResult<()> {
    if let Val::Overflow { page, len } = val {
        for p in overflow_pages(pager, *page, *len)? {
            pager.free(p);
        }
    }
    Ok(())
}

/// What deleting from a subtree left behind.
enum Removed {
    NotFound,
    /// The subtree now lives at this page.
    Page(u64),
    /// The subtree is empty.
    Gone,
}

/// Visit the pages of a tree (for `verify` and the statistics): each page with its kind.
pub fn walk_pages(
    pager: &mut Pager,
    root: u64,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    if root == 0 {
        return Ok(());
    }
    walk(pager, root, 0, f)
}

fn walk(
    pager: &mut Pager,
    page: u64,
    depth: usize,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    check_depth(page, depth)?;
    let node = load(pager, page)?;
    match &*node {
        Node::Leaf(es) => {
            f(page, PageKind::Leaf);
            for (_, v) in es {
                if let Val::Overflow { page: p, len } = v {
                    for o in overflow_pages(pager, *p, *len)? {
                        f(o, PageKind::Overflow);
                    }
                }
            }
        }
        Node::Branch { first, entries } => {
            f(page, PageKind::Branch);
            walk(pager, *first, depth + 1, f)?;
            for (_, c) in entries {
                walk(pager, *c, depth + 1, f)?;
            }
        }
    }
    Ok(())
}

/// Visit the pages of a tree written after commit `base`: a page written by `base` or
/// earlier (and so, copy-on-write, everything under it) is skipped after reading its
/// header. Cheap at open however large the heap: it reads the recent commits' pages and
/// their direct children.
pub fn walk_written(
    pager: &mut Pager,
    root: u64,
    seq: u64,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    if root == 0 {
        return Ok(());
    }
    walk_written_in(pager, root, seq, 0, f)
}

fn walk_written_in(
    pager: &mut Pager,
    page: u64,
    seq: u64,
    depth: usize,
    f: &mut dyn FnMut(u64, PageKind),
) -> HeapResult<()> {
    check_depth(page, depth)?;
    let (kind, bytes) = pager.page_of(page, &[PageKind::Leaf, PageKind::Branch])?;
    if page_seq(bytes) <= seq {
        return Ok(());
    }
    f(page, kind);
    let node = load(pager, page)?;
    match &*node {
        Node::Leaf(es) => {
            for (_, v) in es {
                if let Val::Overflow { page: first, len } = v
                    && page_seq(pager.page(*first, PageKind::Overflow)?) > seq
                {
                    for o in overflow_pages(pager, *first, *len)? {
                        f(o, PageKind::Overflow);
                    }
                }
            }
        }
        Node::Branch { first, entries } => {
            walk_written_in(pager, *first, seq, depth + 1, f)?;
            for (_, c) in entries {
                walk_written_in(pager, *c, seq, depth + 1, f)?;
            }
        }
    }
    Ok(())
}

/// Look up a key.
pub fn get(pager: &mut Pager, root: u64, key: &[u8]) -> HeapResult<Option<Vec<u8>>> {
    let mut page = root;
    for _ in 0..MAX_DEPTH {
        if page == 0 {
            return Ok(None);
        }
        let node = load(pager, page)?;
        match &*node {
            Node::Leaf(es) => {
                return match es.binary_search_by(|e| e.0.as_slice().cmp(key)) {
                    Ok(i) => Ok(Some(read_val(pager, &es[i].1)?)),
                    Err(_) => Ok(None),
                };
            }
            Node::Branch { first, entries } => {
                page = child_at(*first, entries, child_index(entries, key));
            }
        }
    }
    Err(too_deep(page))
}

/// Insert or replace; returns the new root.
pub fn put(pager: &mut Pager, root: u64, key: &[u8], value: &[u8]) -> HeapResult<u64> {
    if key.len() > MAX_KEY {
        return Err(HeapError::TooLarge(format!(
            "a key of {} bytes (the limit is {MAX_KEY})",
            key.len()
        )));
    }
    let val = if value.len() > MAX_INLINE {
        write_overflow(pager, value)?
    } else {
        Val::Inline(value.to_vec())
    };
    let mut pieces = if root == 0 {
        store(pager, None, Node::Leaf(vec![(key.to_vec(), val)]))?
    } else {
        put_in(pager, root, key, val, 0)?
    };
    while pieces.len() > 1 {
        let first = pieces[0].1;
        let entries = pieces[1..]
            .iter()
            .map(|(k, p)| (k.clone().unwrap_or_default(), *p))
            .collect();
        pieces = store(pager, None, Node::Branch { first, entries })?;
    }
    Ok(pieces[0].1)
}

fn put_in(
    pager: &mut Pager,
    page: u64,
    key: &[u8],
    val: Val,
    depth: usize,
) -> HeapResult<Vec<Piece>> {
    check_depth(page, depth)?;
    let node = match take(pager, page)? {
        Node::Leaf(mut es) => {
            match es.binary_search_by(|e| e.0.as_slice().cmp(key)) {
                Ok(i) => {
                    let old = std::mem::replace(&mut es[i].1, val);
                    free_val(pager, &old)?;
                }
                Err(i) => es.insert(i, (key.to_vec(), val)),
            }
            Node::Leaf(es)
        }
        Node::Branch {
            mut first,
            mut entries,
        } => {
            let i = child_index(&entries, key);
            let child = child_at(first, &entries, i);
            let pieces = put_in(pager, child, key, val, depth + 1)?;
            set_child(&mut first, &mut entries, i, pieces[0].1);
            for (n, (sep, p)) in pieces.into_iter().skip(1).enumerate() {
                entries.insert(i + n, (sep.unwrap_or_default(), p));
            }
            Node::Branch { first, entries }
        }
    };
    store(pager, Some(page), node)
}

/// Remove a key; returns the new root and whether the key was there.
pub fn delete(pager: &mut Pager, root: u64, key: &[u8]) -> HeapResult<(u64, bool)> {
    if root == 0 {
        return Ok((0, false));
    }
    Ok(match delete_in(pager, root, key, 0)? {
        Removed::NotFound => (root, false),
        Removed::Page(p) => (p, true),
        Removed::Gone => (0, true),
    })
}

fn delete_in(pager: &mut Pager, page: u64, key: &[u8], depth: usize) -> HeapResult<Removed> {
    check_depth(page, depth)?;
    // Look first: a key that is not there changes nothing (and takes nothing out of the
    // node cache, which may hold the only copy of a changed node).
    let child = match &*load(pager, page)? {
        Node::Leaf(es) => {
            if es.binary_search_by(|e| e.0.as_slice().cmp(key)).is_err() {
                return Ok(Removed::NotFound);
            }
            None
        }
        Node::Branch { first, entries } => {
            let i = child_index(entries, key);
            Some((i, child_at(*first, entries, i)))
        }
    };
    let outcome = match child {
        Some((_, c)) => match delete_in(pager, c, key, depth + 1)? {
            Removed::NotFound => return Ok(Removed::NotFound),
            other => Some(other),
        },
        None => None,
    };
    match (take(pager, page)?, outcome) {
        (Node::Leaf(mut es), _) => {
            let Ok(i) = es.binary_search_by(|e| e.0.as_slice().cmp(key)) else {
                return Ok(Removed::NotFound);
            };
            let (_, old) = es.remove(i);
            free_val(pager, &old)?;
            if es.is_empty() {
                pager.free(page);
                return Ok(Removed::Gone);
            }
            let pieces = store(pager, Some(page), Node::Leaf(es))?;
            Ok(Removed::Page(pieces[0].1))
        }
        (
            Node::Branch {
                mut first,
                mut entries,
            },
            outcome,
        ) => {
            let i = child.map_or(0, |(i, _)| i);
            match outcome {
                Some(Removed::Page(p)) => set_child(&mut first, &mut entries, i, p),
                Some(Removed::Gone) => {
                    if i == 0 {
                        if entries.is_empty() {
                            pager.free(page);
                            return Ok(Removed::Gone);
                        }
                        first = entries.remove(0).1;
                    } else {
                        entries.remove(i - 1);
                    }
                }
                _ => {}
            }
            if entries.is_empty() {
                // A branch with one child is replaced by that child.
                pager.free(page);
                return Ok(Removed::Page(first));
            }
            let pieces = store(pager, Some(page), Node::Branch { first, entries })?;
            Ok(Removed::Page(pieces[0].1))
        }
    }
}

/// The largest key below `bound`, if any: the newest object id is the last key before `p`.
pub fn last_key_below(pager: &mut Pager, root: u64, bound: &[u8]) -> HeapResult<Option<Vec<u8>>> {
    if root == 0 {
        return Ok(None);
    }
    last_key_below_in(pager, root, bound, 0)
}

fn last_key_below_in(
    pager: &mut Pager,
    page: u64,
    bound: &[u8],
    depth: usize,
) -> HeapResult<Option<Vec<u8>>> {
    check_depth(page, depth)?;
    let node = load(pager, page)?;
    match &*node {
        Node::Leaf(es) => {
            let below = es.partition_point(|(k, _)| k.as_slice() < bound);
            Ok(below.checked_sub(1).map(|i| es[i].0.clone()))
        }
        Node::Branch { first, entries } => {
            // A separator may be smaller than its child's keys after deletions, so the
            // child covering `bound` can hold nothing below it: then look left.
            let covering = entries.partition_point(|(k, _)| k.as_slice() < bound);
            for i in (0..=covering).rev() {
                let child = child_at(*first, entries, i);
                if let Some(k) = last_key_below_in(pager, child, bound, depth + 1)? {
                    return Ok(Some(k));
                }
            }
            Ok(None)
        }
    }
}

/// Every entry whose key starts with `prefix`, in key order.
pub fn scan(pager: &mut Pager, root: u64, prefix: &[u8]) -> HeapResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    if root != 0 {
        scan_in(pager, root, prefix, 0, &mut |k, v| out.push((k, v)), true)?;
    }
    Ok(out)
}

/// Every key that starts with `prefix` (values not read).
pub fn scan_keys(pager: &mut Pager, root: u64, prefix: &[u8]) -> HeapResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if root != 0 {
        scan_in(pager, root, prefix, 0, &mut |k, _| out.push(k), false)?;
    }
    Ok(out)
}

fn scan_in(
    pager: &mut Pager,
    page: u64,
    prefix: &[u8],
    depth: usize,
    f: &mut dyn FnMut(Vec<u8>, Vec<u8>),
    values: bool,
) -> HeapResult<()> {
    check_depth(page, depth)?;
    let node = load(pager, page)?;
    match &*node {
        Node::Leaf(es) => {
            for (k, v) in es {
                if k.starts_with(prefix) {
                    let bytes = if values {
                        read_val(pager, v)?
                    } else {
                        Vec::new()
                    };
                    f(k.clone(), bytes);
                }
            }
        }
        Node::Branch { first, entries } => {
            for i in 0..=entries.len() {
                let lower = if i == 0 {
                    None
                } else {
                    Some(&entries[i - 1].0)
                };
                let upper = entries.get(i).map(|e| &e.0);
                if upper.is_some_and(|u| u.as_slice() <= prefix) {
                    continue;
                }
                if lower.is_some_and(|l| l.as_slice() > prefix && !l.starts_with(prefix)) {
                    break;
                }
                scan_in(
                    pager,
                    child_at(*first, entries, i),
                    prefix,
                    depth + 1,
                    f,
                    values,
                )?;
            }
        }
    }
    Ok(())
}

/// The node stored at `page` (shared; from the cache when possible).
fn load(pager: &mut Pager, page: u64) -> HeapResult<Rc<Node>> {
    if let Some(n) = pager.nodes.get(page) {
        return Ok(n.clone());
    }
    let (kind, bytes) = pager.page_of(page, &[PageKind::Leaf, PageKind::Branch])?;
    let node = Rc::new(node::decode(page, kind, bytes)?);
    pager.nodes.insert_clean(page, node.clone());
    Ok(node)
}

/// The node at `page`, owned, for changing (taken out of the cache when only it holds it).
fn take(pager: &mut Pager, page: u64) -> HeapResult<Node> {
    let shared = load(pager, page)?;
    pager.nodes.forget(page);
    Ok(Rc::try_unwrap(shared).unwrap_or_else(|rc| (*rc).clone()))
}

/// Write a node, splitting it into as many pages as it needs. The first piece reuses
/// `old` when this transaction already owns it; otherwise `old` is freed.
fn store(pager: &mut Pager, old: Option<u64>, node: Node) -> HeapResult<Vec<Piece>> {
    let kind = node.kind();
    let mut pieces = Vec::new();
    for (i, (sep, n)) in split(node).into_iter().enumerate() {
        let page = match (i, old) {
            (0, Some(p)) if pager.is_fresh(p) => p,
            _ => pager.allocate(kind)?,
        };
        pager.nodes.insert_dirty(page, Rc::new(n));
        pieces.push((sep, page));
    }
    if let Some(p) = old
        && pieces.first().map(|x| x.1) != Some(p)
    {
        pager.free(p);
    }
    Ok(pieces)
}
