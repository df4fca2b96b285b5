//! `walia inspect` and `walia verify`: what a heap holds, and whether every page of it is
//! sound. Both read stored bytes only; no script value is built.

use crate::btree;
use crate::codec::{Item, Reader, kind, references};
use crate::error::{HeapError, HeapResult};
use crate::heap::{CURSOR_PREFIX, GLOBAL_PREFIX, Heap, OBJECT_PREFIX};
use crate::page::PageKind;
use std::collections::{HashMap, HashSet};

/// One stored global.
#[derive(Clone, Debug)]
pub struct GlobalInfo {
    pub name: String,
    /// The type as `type_of` spells it.
    pub type_name: String,
    /// Bytes stored for it and everything it reaches.
    pub bytes: u64,
}

/// What `inspect` reports.
#[derive(Clone, Debug)]
pub struct Summary {
    pub globals: Vec<GlobalInfo>,
    pub commit: u64,
    pub commit_millis: u64,
    pub durability: &'static str,
    pub file_pages: u64,
    pub used_pages: u64,
    pub free_pages: u64,
    pub objects: u64,
    pub format_version: u32,
    pub tables: Vec<crate::table::TableInfo>,
}

fn type_of_record(rec: &[u8]) -> &'static str {
    match rec.first().copied() {
        Some(kind::LIST) => "List",
        Some(kind::MAP) => "Map",
        Some(kind::INSTANCE) => "Instance",
        Some(kind::CLASS) => "Class",
        Some(kind::FUNCTION | kind::METHOD | kind::BOUND) => "Function",
        Some(kind::STREAM) => "Stream",
        Some(kind::CELL) => "Cell",
        Some(kind::RANGE) => "Range",
        _ => "?",
    }
}

pub fn summary(heap: &mut Heap) -> HeapResult<Summary> {
    let root = heap.pager.meta().root;
    let entries = btree::scan(&mut heap.pager, root, &[GLOBAL_PREFIX])?;
    let mut globals = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let name = String::from_utf8_lossy(&k[1..]).to_string();
        let what = format!("global '{name}'");
        let mut r = Reader::new(&v, &what);
        let type_name = match r.item()? {
            Item::Nil => "Nil".to_string(),
            Item::Bool(_) => "Bool".to_string(),
            Item::Int(_) => "Int".to_string(),
            Item::Float(_) => "Float".to_string(),
            Item::Str(_) => "String".to_string(),
            Item::Range(..) => "Range".to_string(),
            Item::Native(_) => "Function".to_string(),
            Item::Table(_) => "Table".to_string(),
            Item::Row(..) => "Row".to_string(),
            Item::Db => "Database".to_string(),
            Item::File(..) => "Stream".to_string(),
            Item::Ref(id) => match heap.object_record(id)? {
                Some(rec) => type_of_record(&rec).to_string(),
                None => return Err(HeapError::Record(format!("{what}: object {id} is missing"))),
            },
        };
        let mut bytes = v.len() as u64;
        let mut seen = HashSet::new();
        let mut stack = references(&v, false, &what)?;
        while let Some(id) = stack.pop() {
            if seen.insert(id)
                && let Some(rec) = heap.object_record(id)?
            {
                bytes += rec.len() as u64;
                stack.extend(references(&rec, true, &format!("object {id}"))?);
            }
        }
        globals.push(GlobalInfo {
            name,
            type_name,
            bytes,
        });
    }
    let objects = btree::scan_keys(&mut heap.pager, root, &[OBJECT_PREFIX])?.len() as u64;
    let meta = *heap.pager.committed_meta();
    let free = heap.pager.free_pages() as u64;
    Ok(Summary {
        globals,
        commit: meta.sequence,
        commit_millis: meta.commit_millis,
        durability: match meta.durability {
            1 => "batched",
            2 => "async",
            _ => "immediate",
        },
        file_pages: heap.pager.file_pages(),
        used_pages: meta.page_count.saturating_sub(free),
        free_pages: free,
        objects,
        format_version: crate::superblock::FORMAT_VERSION,
        tables: crate::table::table_infos(&mut heap.pager)?,
    })
}

/// What `verify` checked.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    pub pages_checked: u64,
    pub records_checked: u64,
    pub commit: u64,
    /// An older superblock or commit was used because the newest was damaged.
    pub fell_back: bool,
}

/// Check every page the last commit uses (checksums, kinds, page numbers), that no page is
/// both in use and free or used twice, that every page is one or the other, and that every
/// record decodes and every reference it holds points at a stored object.
pub fn verify(heap: &mut Heap) -> HeapResult<VerifyReport> {
    let root = heap.pager.meta().root;
    // What a writer would refuse: a free list naming a page in use, twice, or outside the
    // commit, and pages neither in use nor free (leaked: cut off by damage that no
    // checksum shows, such as a catalog root reset to 0 or a lowered directory count).
    crate::reachable::check_for_writer(&mut heap.pager)?;
    let mut owner: HashMap<u64, PageKind> = HashMap::new();
    let mut twice = None;
    btree::walk_pages(&mut heap.pager, root, &mut |page, kind| {
        if owner.insert(page, kind).is_some() && twice.is_none() {
            twice = Some(page);
        }
    })?;
    if let Some(page) = twice {
        return Err(HeapError::corrupt(page, "page is used twice in the index"));
    }
    let tables = crate::table::verify_tables(&mut heap.pager, &mut |page, kind| {
        if owner.insert(page, kind).is_some() && twice.is_none() {
            twice = Some(page);
        }
    })?;
    if let Some(page) = twice {
        return Err(HeapError::corrupt(
            page,
            "page is used twice (a table's pages)",
        ));
    }
    let (free, chain) = {
        let (f, c) = heap.pager.freelist_pages();
        (f.to_vec(), c)
    };
    for p in chain {
        heap.pager.page(p, PageKind::FreeList)?;
        if owner.insert(p, PageKind::FreeList).is_some() {
            return Err(HeapError::corrupt(p, "free list page is also in use"));
        }
    }
    let mut free_seen = HashSet::new();
    for p in &free {
        if owner.contains_key(p) || !free_seen.insert(*p) {
            return Err(HeapError::corrupt(
                *p,
                "page is both free and in use (or free twice)",
            ));
        }
    }
    let all = btree::scan(&mut heap.pager, root, b"")?;
    let ids: HashSet<u64> = all
        .iter()
        .filter(|(k, _)| k.first() == Some(&OBJECT_PREFIX) && k.len() == 9)
        .map(|(k, _)| u64::from_be_bytes(k[1..].try_into().unwrap_or_default()))
        .collect();
    let mut records = 0;
    for (k, v) in &all {
        let (kinded, what) = match k.first() {
            Some(&GLOBAL_PREFIX) => (
                false,
                format!("global '{}'", String::from_utf8_lossy(&k[1..])),
            ),
            Some(&OBJECT_PREFIX) => (true, format!("object {:?}", &k[1..])),
            // A checkpointed pipe's cursor is a root like a global (the collector keeps
            // what it reaches), so its references must resolve too.
            Some(&CURSOR_PREFIX) => (
                false,
                format!(
                    "the cursor of checkpointed pipe '{}'",
                    String::from_utf8_lossy(&k[1..])
                ),
            ),
            _ => continue,
        };
        for id in references(v, kinded, &what)? {
            if !ids.contains(&id) {
                return Err(HeapError::Record(format!(
                    "{what}: refers to missing object {id}"
                )));
            }
        }
        records += 1;
    }
    Ok(VerifyReport {
        pages_checked: owner.len() as u64 + 2,
        records_checked: records + tables,
        commit: heap.pager.committed_meta().sequence,
        fell_back: heap.report.fell_back,
    })
}
