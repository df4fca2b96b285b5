//! The catalog index: a copy-on-write B+tree from byte keys to byte values in heap pages.
//!
//! Nodes are rewritten whole: a node this transaction already copied is changed in place,
//! any other is copied to a new page and the old one freed (after the commit), and so on
//! up to the root. Values over [`MAX_INLINE`] bytes live in chains of overflow pages.
//! Deletion removes empty nodes but does not rebalance; the catalog mostly grows.

use super::pager::{HEADER_LEN, PageKind, Pager, page_seq, read_u64};
use super::storage::PAGE_SIZE;
use super::{HeapError, HeapResult, IdMap, IdSet};
use std::rc::Rc;

/// Longest key (a global's name plus a one-byte prefix).
pub const MAX_KEY: usize = 512;
/// Longest value kept inside a leaf; longer ones go to overflow pages.
pub const MAX_INLINE: usize = 512;
const BODY: usize = PAGE_SIZE - HEADER_LEN;
const OVERFLOW_DATA: usize = PAGE_SIZE - HEADER_LEN - 8;
/// A corrupt heap could link branches into a loop; no real tree is this deep.
const MAX_DEPTH: usize = 48;

#[derive(Clone, Debug)]
pub enum Val {
    Inline(Vec<u8>),
    Overflow { page: u64, len: u64 },
}

#[derive(Clone, Debug)]
pub enum Node {
    Leaf(Vec<(Vec<u8>, Val)>),
    Branch {
        first: u64,
        entries: Vec<(Vec<u8>, u64)>,
    },
}

/// Decoded index nodes, so a lookup does not decode a page every time and a transaction
/// changes nodes in memory, encoding each changed page once when the pager seals it.
#[derive(Default)]
pub struct NodeCache {
    nodes: IdMap<Rc<Node>>,
    /// Pages whose cached node is newer than the page's bytes (all of them fresh pages).
    dirty: IdSet,
}

/// Cached clean nodes beyond this are dropped (dirty ones are kept until flushed).
const CACHE_LIMIT: usize = 16_384;

impl NodeCache {
    /// A page is being freed or reused: its cached node no longer describes it.
    pub fn forget(&mut self, page: u64) {
        self.nodes.remove(&page);
        self.dirty.remove(&page);
    }

    /// Drop everything (after a rollback the dirty nodes belong to discarded pages).
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.dirty.clear();
    }
}

/// Encode every changed node into its page (called by the pager before it seals pages).
pub fn flush(pager: &mut Pager) -> HeapResult<()> {
    let dirty: Vec<u64> = pager.nodes.dirty.drain().collect();
    for page in dirty {
        let Some(node) = pager.nodes.nodes.get(&page).cloned() else {
            continue;
        };
        let kind = match *node {
            Node::Leaf(_) => PageKind::Leaf,
            Node::Branch { .. } => PageKind::Branch,
        };
        let buf = pager.page_mut(page)?;
        buf[HEADER_LEN..].fill(0);
        buf[0] = kind as u8;
        encode_into(buf, &node);
    }
    Ok(())
}

/// The node stored at `page` (shared; from the cache when possible).
fn load(pager: &mut Pager, page: u64) -> HeapResult<Rc<Node>> {
    if let Some(n) = pager.nodes.nodes.get(&page) {
        return Ok(n.clone());
    }
    let node = Rc::new(decode(pager, page)?);
    if pager.nodes.nodes.len() >= CACHE_LIMIT {
        let dirty = &pager.nodes.dirty;
        pager.nodes.nodes.retain(|p, _| dirty.contains(p));
    }
    pager.nodes.nodes.insert(page, node.clone());
    Ok(node)
}

/// The node at `page`, owned, for changing (taken out of the cache when only it holds it).
fn take(pager: &mut Pager, page: u64) -> HeapResult<Node> {
    let shared = load(pager, page)?;
    pager.nodes.nodes.remove(&page);
    pager.nodes.dirty.remove(&page);
    Ok(Rc::try_unwrap(shared).unwrap_or_else(|rc| (*rc).clone()))
}

fn corrupt(page: u64, what: &str) -> HeapError {
    HeapError::corrupt(page, what.to_string())
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    page: u64,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> HeapResult<&[u8]> {
        if self.at + n > self.b.len() {
            return Err(corrupt(
                self.page,
                "index entry runs past the end of its page",
            ));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u16(&mut self) -> HeapResult<usize> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]) as usize)
    }
    fn u64(&mut self) -> HeapResult<u64> {
        let s = self.take(8)?;
        Ok(read_u64(s, 0))
    }
}

fn decode(pager: &mut Pager, page: u64) -> HeapResult<Node> {
    let (kind_byte, bytes) = pager.page_of(page, &[PageKind::Leaf, PageKind::Branch])?;
    let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
    let mut r = Reader {
        b: bytes,
        at: HEADER_LEN,
        page,
    };
    match kind_byte {
        PageKind::Leaf => {
            let mut entries = Vec::with_capacity(count);
            for _ in 0..count {
                let klen = r.u16()?;
                let key = r.take(klen)?.to_vec();
                let tag = r.take(1)?[0];
                let val = match tag {
                    0 => {
                        let vlen = r.u16()?;
                        Val::Inline(r.take(vlen)?.to_vec())
                    }
                    1 => Val::Overflow {
                        page: r.u64()?,
                        len: r.u64()?,
                    },
                    _ => return Err(corrupt(page, "unknown value tag in index leaf")),
                };
                entries.push((key, val));
            }
            if entries.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(corrupt(page, "index leaf keys out of order"));
            }
            Ok(Node::Leaf(entries))
        }
        _ => {
            let first = r.u64()?;
            let mut entries = Vec::with_capacity(count);
            for _ in 0..count {
                let klen = r.u16()?;
                let key = r.take(klen)?.to_vec();
                let child = r.u64()?;
                entries.push((key, child));
            }
            if entries.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(corrupt(page, "index branch keys out of order"));
            }
            Ok(Node::Branch { first, entries })
        }
    }
}

fn entry_count(node: &Node) -> usize {
    match node {
        Node::Leaf(es) => es.len(),
        Node::Branch { entries, .. } => entries.len(),
    }
}

/// Encode `node` into `page`'s bytes.
fn encode_into(buf: &mut [u8], node: &Node) {
    let mut at = HEADER_LEN;
    let mut put = |bytes: &[u8]| {
        buf[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    match node {
        Node::Leaf(es) => {
            for (k, v) in es {
                put(&(k.len() as u16).to_le_bytes());
                put(k);
                match v {
                    Val::Inline(b) => {
                        put(&[0]);
                        put(&(b.len() as u16).to_le_bytes());
                        put(b);
                    }
                    Val::Overflow { page, len } => {
                        put(&[1]);
                        put(&page.to_le_bytes());
                        put(&len.to_le_bytes());
                    }
                }
            }
        }
        Node::Branch { first, entries } => {
            put(&first.to_le_bytes());
            for (k, c) in entries {
                put(&(k.len() as u16).to_le_bytes());
                put(k);
                put(&c.to_le_bytes());
            }
        }
    }
    let count = entry_count(node) as u16;
    buf[2..4].copy_from_slice(&count.to_le_bytes());
}

/// One page's worth of a node after a split, with the key that separates it from the
/// piece before it (`None` for the first piece).
type Piece = (Option<Vec<u8>>, u64);

/// Bytes the node takes after the page header.
fn encoded_size(node: &Node) -> usize {
    match node {
        Node::Leaf(es) => es.iter().map(|(k, v)| leaf_entry_size(k, v)).sum(),
        Node::Branch { entries, .. } => {
            8 + entries.iter().map(|(k, _)| 2 + k.len() + 8).sum::<usize>()
        }
    }
}

fn leaf_entry_size(k: &[u8], v: &Val) -> usize {
    2 + k.len()
        + 1
        + match v {
            Val::Inline(b) => 2 + b.len(),
            Val::Overflow { .. } => 16,
        }
}

/// Split a node into runs that each fit one page, of about equal size (so inserting in
/// any order, ascending or descending, leaves pages at least half full).
fn split(node: Node) -> Vec<(Option<Vec<u8>>, Node)> {
    if encoded_size(&node) <= BODY {
        return vec![(None, node)];
    }
    let mut out: Vec<(Option<Vec<u8>>, Node)> = Vec::new();
    match node {
        Node::Leaf(es) => {
            let total: usize = es.iter().map(|(k, v)| leaf_entry_size(k, v)).sum();
            let target = total.div_ceil(total.div_ceil(BODY).max(1));
            let mut chunk = Vec::new();
            let mut used = 0;
            for (k, v) in es {
                let size = leaf_entry_size(&k, &v);
                if used + size > target && !chunk.is_empty() {
                    let sep = if out.is_empty() {
                        None
                    } else {
                        first_key(&chunk)
                    };
                    out.push((sep, Node::Leaf(std::mem::take(&mut chunk))));
                    used = 0;
                }
                used += size;
                chunk.push((k, v));
            }
            let sep = if out.is_empty() {
                None
            } else {
                first_key(&chunk)
            };
            out.push((sep, Node::Leaf(chunk)));
        }
        Node::Branch { first, entries } => {
            let total: usize = 8 + entries.iter().map(|(k, _)| 2 + k.len() + 8).sum::<usize>();
            let target = total.div_ceil(total.div_ceil(BODY).max(1));
            let mut sep = None;
            let mut first_child = first;
            let mut chunk = Vec::new();
            let mut used = 8;
            for (k, c) in entries {
                let size = 2 + k.len() + 8;
                if used + size > target && !chunk.is_empty() {
                    // This entry's key moves up; its child starts the next piece.
                    out.push((
                        sep.take(),
                        Node::Branch {
                            first: first_child,
                            entries: std::mem::take(&mut chunk),
                        },
                    ));
                    sep = Some(k);
                    first_child = c;
                    used = 8;
                    continue;
                }
                used += size;
                chunk.push((k, c));
            }
            out.push((
                sep,
                Node::Branch {
                    first: first_child,
                    entries: chunk,
                },
            ));
        }
    }
    out
}

fn first_key(chunk: &[(Vec<u8>, Val)]) -> Option<Vec<u8>> {
    chunk.first().map(|e| e.0.clone())
}

/// Write a node, splitting it into as many pages as it needs. The first piece reuses
/// `old` when this transaction already owns it; otherwise `old` is freed.
fn store(pager: &mut Pager, old: Option<u64>, node: Node) -> HeapResult<Vec<Piece>> {
    let kind = match node {
        Node::Leaf(_) => PageKind::Leaf,
        Node::Branch { .. } => PageKind::Branch,
    };
    let mut pieces = Vec::new();
    for (i, (sep, n)) in split(node).into_iter().enumerate() {
        let page = match (i, old) {
            (0, Some(p)) if pager.is_fresh(p) => p,
            _ => pager.allocate(kind)?,
        };
        pager.nodes.nodes.insert(page, Rc::new(n));
        pager.nodes.dirty.insert(page);
        pieces.push((sep, page));
    }
    if let Some(p) = old
        && pieces.first().map(|x| x.1) != Some(p)
    {
        pager.free(p);
    }
    Ok(pieces)
}

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
    if depth > MAX_DEPTH {
        return Err(corrupt(page, "index deeper than possible (a loop?)"));
    }
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
    if depth > MAX_DEPTH {
        return Err(corrupt(page, "index deeper than possible (a loop?)"));
    }
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
    Err(corrupt(page, "index deeper than possible (a loop?)"))
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
    if depth > MAX_DEPTH {
        return Err(corrupt(page, "index deeper than possible (a loop?)"));
    }
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
    if depth > MAX_DEPTH {
        return Err(corrupt(page, "index deeper than possible (a loop?)"));
    }
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
    if depth > MAX_DEPTH {
        return Err(corrupt(page, "index deeper than possible (a loop?)"));
    }
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
