//! A table's catalog record (key `t` + name): its schema, counters and the roots of its
//! segments and key index. Layout in docs/heap-format.md.

use super::segment::SegmentRoot;
use crate::error::{HeapError, HeapResult};

pub const TABLE_PREFIX: u8 = b't';
/// What a dropped table leaves (key `d` + name): the row slots it had used, so a table
/// created later under its name starts after them.
pub const DROPPED_PREFIX: u8 = b'd';
const RECORD_VERSION: u8 = 1;

/// The catalog key of table `name`.
pub fn table_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(TABLE_PREFIX);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The catalog key of what dropped table `name` left behind.
pub fn dropped_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(DROPPED_PREFIX);
    k.extend_from_slice(name.as_bytes());
    k
}

/// A column's type: fixed by its first non-nil value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    /// Only nils so far.
    Unset = 0,
    Int = 1,
    Float = 2,
    Bool = 3,
    Str = 4,
}

impl ColType {
    /// As `type_of` spells it.
    pub fn name(self) -> &'static str {
        match self {
            ColType::Unset => "Nil",
            ColType::Int => "Int",
            ColType::Float => "Float",
            ColType::Bool => "Bool",
            ColType::Str => "String",
        }
    }

    /// The type's number in table records (and in a checkpointed `read_csv`'s stored
    /// state): part of the file format, the same in every build.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The type with this number; `None` for a number no type has.
    pub fn from_code(c: u8) -> Option<ColType> {
        Some(match c {
            0 => ColType::Unset,
            1 => ColType::Int,
            2 => ColType::Float,
            3 => ColType::Bool,
            4 => ColType::Str,
            _ => return None,
        })
    }
}

/// Which index the primary key uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// No `id` column, or no id stored yet.
    None = 0,
    /// Int ids: `table::keys`.
    Int = 1,
    /// String ids: a byte-keyed index (the catalog `btree`).
    Str = 2,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ColumnRecord {
    pub name: String,
    pub ty: ColType,
    pub root: SegmentRoot,
}

/// Everything stored about a table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRecord {
    pub sql: bool,
    /// Creation order among the heap's tables.
    pub order: u64,
    /// Row slots used: rows ever inserted, deleted ones included.
    pub slots: u64,
    /// Slots below this were removed by `clear()`.
    pub base: u64,
    pub live: u64,
    pub max_id: Option<i64>,
    pub key_kind: KeyKind,
    pub key_root: u64,
    pub deleted: SegmentRoot,
    pub strings: SegmentRoot,
    pub string_len: u64,
    pub columns: Vec<ColumnRecord>,
}

fn put_root(out: &mut Vec<u8>, r: SegmentRoot) {
    out.extend_from_slice(&r.page.to_le_bytes());
    out.push(r.depth);
}

impl TableRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![RECORD_VERSION, self.sql as u8];
        for n in [self.order, self.slots, self.base, self.live] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.push(self.max_id.is_some() as u8);
        out.extend_from_slice(&self.max_id.unwrap_or(0).to_le_bytes());
        out.push(self.key_kind as u8);
        out.extend_from_slice(&self.key_root.to_le_bytes());
        put_root(&mut out, self.deleted);
        put_root(&mut out, self.strings);
        out.extend_from_slice(&self.string_len.to_le_bytes());
        out.extend_from_slice(&(self.columns.len() as u32).to_le_bytes());
        for c in &self.columns {
            out.extend_from_slice(&(c.name.len() as u32).to_le_bytes());
            out.extend_from_slice(c.name.as_bytes());
            out.push(c.ty as u8);
            put_root(&mut out, c.root);
        }
        out
    }

    pub fn decode(bytes: &[u8], name: &str) -> HeapResult<TableRecord> {
        let bad = |what: &str| HeapError::Record(format!("table '{name}': {what}"));
        let mut r = Cursor { bytes, at: 0 };
        let version = r.u8().ok_or_else(|| bad("truncated record"))?;
        if version != RECORD_VERSION {
            return Err(bad(&format!("unknown record version {version}")));
        }
        let rec = (|| {
            let sql = r.u8()? != 0;
            let order = r.u64()?;
            let slots = r.u64()?;
            let base = r.u64()?;
            let live = r.u64()?;
            let has_max = r.u8()? != 0;
            let max = r.u64()? as i64;
            let key_kind = match r.u8()? {
                0 => KeyKind::None,
                1 => KeyKind::Int,
                2 => KeyKind::Str,
                _ => return None,
            };
            let key_root = r.u64()?;
            let deleted = r.root()?;
            let strings = r.root()?;
            let string_len = r.u64()?;
            let n = r.u32()? as usize;
            let mut columns = Vec::with_capacity(n.min(4096));
            for _ in 0..n {
                let len = r.u32()? as usize;
                let name = std::str::from_utf8(r.take(len)?).ok()?.to_string();
                let ty = ColType::from_code(r.u8()?)?;
                columns.push(ColumnRecord {
                    name,
                    ty,
                    root: r.root()?,
                });
            }
            Some(TableRecord {
                sql,
                order,
                slots,
                base,
                live,
                max_id: has_max.then_some(max),
                key_kind,
                key_root,
                deleted,
                strings,
                string_len,
                columns,
            })
        })()
        .ok_or_else(|| bad("truncated or malformed record"))?;
        if r.at != bytes.len() {
            return Err(bad("trailing bytes in record"));
        }
        if rec.live > rec.slots || rec.base > rec.slots || rec.slots > u32::MAX as u64 {
            return Err(bad("row counts out of range"));
        }
        let mut names = std::collections::HashSet::new();
        if rec
            .columns
            .iter()
            .any(|c| c.name.is_empty() || !names.insert(&c.name))
        {
            return Err(bad("empty or repeated column name"));
        }
        Ok(rec)
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn root(&mut self) -> Option<SegmentRoot> {
        let page = self.u64()?;
        let depth = self.u8()?;
        Some(SegmentRoot { page, depth })
    }
}
