//! Which pages the last commit uses, and the check a writer makes of the free list before
//! it hands any of them out.
//!
//! The free list is read from the file, and the allocator trusts it: a page listed free
//! that the commit still uses would be overwritten by the next transaction, destroying the
//! commit it belongs to (invariant 1, pager/commit.rs). So opening for writing marks every
//! page the commit reaches (catalog nodes, overflow chains, table directories, data pages,
//! key indexes: only pages that name other pages are read) and refuses a free list that
//! names one of them, names a page twice or outside the commit, or shares a page with its
//! own chain; and refuses a commit with pages neither used nor free (leaked), which is how
//! a structure cut off by damage looks. `walia verify` reports the same.

use crate::btree;
use crate::error::{HeapError, HeapResult};
use crate::page::PageKind;
use crate::page_view::PageBits;
use crate::pager::Pager;
use crate::superblock::Meta;

/// The kind of every page the last commit uses (`None`: not used), by page number.
pub struct PageUse {
    kinds: Vec<Option<PageKind>>,
}

impl PageUse {
    /// Walk the last commit (what the pager opened; a transaction in progress may have
    /// replaced some of its pages, never changed them).
    pub fn of_commit(pager: &mut Pager) -> HeapResult<PageUse> {
        let meta = *pager.committed_meta();
        let mut used = PageUse {
            kinds: vec![None; meta.page_count as usize],
        };
        let mut twice = None;
        let mut mark = |page: u64, kind: PageKind| {
            if let Some(slot) = used.kinds.get_mut(page as usize) {
                if slot.is_some() && twice.is_none() {
                    twice = Some((page, kind));
                }
                *slot = Some(kind);
            }
        };
        btree::walk_pages(pager, meta.root, &mut mark)?;
        crate::table::walk_linked_pages(pager, meta.root, &mut mark)?;
        if let Some((page, kind)) = twice {
            return Err(HeapError::corrupt(
                page,
                format!("page is linked twice (last as a {} page)", kind.name()),
            ));
        }
        Ok(used)
    }

    /// The kind of page the commit uses `page` as.
    pub fn kind(&self, page: u64) -> Option<PageKind> {
        self.kinds.get(page as usize).copied().flatten()
    }
}

/// Refuse a heap a writer could not safely take free pages from, or whose commit does not
/// account for its pages. Every free-list entry must be a page of the commit
/// (2..page_count), listed once, not one of the list's own chain pages, and used by
/// nothing the commit reaches; no chain page may be used elsewhere (nor may the list be
/// unreadable). And every page must be used, free or a chain page: one that is none was
/// cut off by damage no checksum shows (a catalog root reset to 0 or to an old tree, a
/// lowered directory count), and the next commits would make that loss permanent.
pub fn check_for_writer(pager: &mut Pager) -> HeapResult<()> {
    if let Some(e) = pager.freelist_damage() {
        return Err(e.clone());
    }
    let meta = *pager.committed_meta();
    let (free, chain) = {
        let (f, c) = pager.freelist_pages();
        (f.to_vec(), c)
    };
    let head = meta.freelist_head;
    let mut in_chain = PageBits::default();
    for &p in &chain {
        in_chain.insert(p);
    }
    let mut listed = PageBits::default();
    for &p in &free {
        if !(2..meta.page_count).contains(&p) {
            return Err(HeapError::corrupt(
                head,
                format!(
                    "free list names page {p}, outside pages 2..{} of commit {}",
                    meta.page_count, meta.sequence
                ),
            ));
        }
        if in_chain.contains(p) {
            return Err(HeapError::corrupt(
                p,
                "free list names one of its own pages as free",
            ));
        }
        if !listed.insert(p) {
            return Err(HeapError::corrupt(
                p,
                "free list names this page twice: it would be handed out twice",
            ));
        }
    }
    let used = PageUse::of_commit(pager)?;
    for &p in &chain {
        if let Some(kind) = used.kind(p) {
            return Err(HeapError::corrupt(
                p,
                format!(
                    "free list page is also a {} page of commit {}",
                    kind.name(),
                    meta.sequence
                ),
            ));
        }
    }
    for &p in &free {
        if let Some(kind) = used.kind(p) {
            return Err(HeapError::corrupt(
                p,
                format!(
                    "free list names this page, but commit {} uses it as a {} page: \
                     reusing it would overwrite that commit",
                    meta.sequence,
                    kind.name()
                ),
            ));
        }
    }
    match leaked_pages(&meta, |p| {
        used.kind(p).is_some() || listed.contains(p) || in_chain.contains(p)
    }) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The pages of the commit that are neither in use nor free (`accounted` says which are),
/// as an error naming them; `None` when there are none.
pub fn leaked_pages(meta: &Meta, accounted: impl Fn(u64) -> bool) -> Option<HeapError> {
    let leaked: Vec<u64> = (2..meta.page_count).filter(|&p| !accounted(p)).collect();
    let first = *leaked.first()?;
    let shown: Vec<String> = leaked.iter().take(8).map(u64::to_string).collect();
    let more = if leaked.len() > shown.len() {
        ", ..."
    } else {
        ""
    };
    let why = if meta.root == 0 {
        " (the catalog root is 0: the commit names no globals, objects or tables)"
    } else {
        ""
    };
    Some(HeapError::corrupt(
        first,
        format!(
            "{} of the {} pages of commit {} are neither in use nor free (leaked: {}{more}){why}",
            leaked.len(),
            meta.page_count,
            meta.sequence,
            shown.join(", ")
        ),
    ))
}
