//! Catalog index nodes: their decoded form, the page encoding, splitting an overfull node
//! into pieces, and the cache of decoded nodes that lets a transaction change nodes in
//! memory and encode each changed page once, when the pager seals it. Nothing here reads
//! or allocates pages: the btree module does that through the pager.

use crate::error::{HeapError, HeapResult, IdMap, IdSet};
use crate::page::{HEADER_LEN, PageKind, read_u64};
use crate::storage::PAGE_SIZE;
use std::rc::Rc;

/// Bytes of a page after its header.
const BODY: usize = PAGE_SIZE - HEADER_LEN;

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

    pub fn get(&self, page: u64) -> Option<&Rc<Node>> {
        self.nodes.get(&page)
    }

    /// Cache a node just decoded from its page (clean nodes beyond the limit are dropped).
    pub fn insert_clean(&mut self, page: u64, node: Rc<Node>) {
        if self.nodes.len() >= CACHE_LIMIT {
            let dirty = &self.dirty;
            self.nodes.retain(|p, _| dirty.contains(p));
        }
        self.nodes.insert(page, node);
    }

    /// Cache a changed node of a fresh page: its page is written when the pager seals.
    pub fn insert_dirty(&mut self, page: u64, node: Rc<Node>) {
        self.nodes.insert(page, node);
        self.dirty.insert(page);
    }

    /// The changed nodes, each to be written into its page; they are clean afterwards.
    pub fn take_dirty(&mut self) -> Vec<(u64, Rc<Node>)> {
        let dirty: Vec<u64> = self.dirty.drain().collect();
        dirty
            .into_iter()
            .filter_map(|p| self.nodes.get(&p).map(|n| (p, n.clone())))
            .collect()
    }
}

/// Write `node` into the body of its page and set the page's kind (the pager calls this
/// for every dirty node when it seals pages).
pub fn write_page(buf: &mut [u8], node: &Node) {
    buf[HEADER_LEN..].fill(0);
    buf[0] = node.kind() as u8;
    encode_into(buf, node);
}

impl Node {
    pub fn kind(&self) -> PageKind {
        match self {
            Node::Leaf(_) => PageKind::Leaf,
            Node::Branch { .. } => PageKind::Branch,
        }
    }
}

pub(super) fn corrupt(page: u64, what: &str) -> HeapError {
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

/// Decode the node on `page`, whose bytes passed the pager's checks as `kind_byte`.
pub fn decode(page: u64, kind_byte: PageKind, bytes: &[u8]) -> HeapResult<Node> {
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
pub(super) fn encode_into(buf: &mut [u8], node: &Node) {
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
pub(super) type Piece = (Option<Vec<u8>>, u64);

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
pub(super) fn split(node: Node) -> Vec<(Option<Vec<u8>>, Node)> {
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
