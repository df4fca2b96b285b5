//! The byte encoding of values in the catalog.
//!
//! A global's entry is one encoded item; an object's record is a kind byte followed by a
//! flat sequence of items. Every item carries its own tag, so the references inside any
//! record can be listed without knowing its layout (the heap's collector relies on that).

use crate::error::{HeapError, HeapResult};

const NIL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const REF: u8 = 6;
const RANGE: u8 = 7;
const NATIVE: u8 = 8;
/// A table by name; a row by table name and row number; `db`.
const TABLE: u8 = 9;
const ROW: u8 = 10;
const DB: u8 = 11;
/// A file source of a stream: its kind and path.
const FILE: u8 = 12;

/// Kinds of object records.
pub mod kind {
    pub const LIST: u8 = 1;
    pub const MAP: u8 = 2;
    pub const INSTANCE: u8 = 3;
    pub const CLASS: u8 = 4;
    pub const FUNCTION: u8 = 5;
    pub const CELL: u8 = 6;
    pub const BOUND: u8 = 7;
    pub const STREAM: u8 = 8;
    pub const METHOD: u8 = 9;
    /// A range: an object (not an inline item) because ranges compare by identity.
    pub const RANGE: u8 = 10;
}

/// One decoded item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Ref(u64),
    Range(i64, i64),
    Native(&'a str),
    Table(&'a str),
    Row(&'a str, u64),
    Db,
    File(&'a str, &'a str),
}

#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn kind(k: u8) -> Writer {
        Writer { buf: vec![k] }
    }
    pub fn nil(&mut self) {
        self.buf.push(NIL);
    }
    pub fn bool(&mut self, b: bool) {
        self.buf.push(if b { TRUE } else { FALSE });
    }
    pub fn int(&mut self, i: i64) {
        self.buf.push(INT);
        self.buf.extend_from_slice(&i.to_le_bytes());
    }
    pub fn float(&mut self, f: f64) {
        self.buf.push(FLOAT);
        self.buf.extend_from_slice(&f.to_bits().to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.text(STR, s);
    }
    pub fn native(&mut self, name: &str) {
        self.text(NATIVE, name);
    }
    fn text(&mut self, tag: u8, s: &str) {
        self.buf.push(tag);
        self.buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
        self.buf.extend_from_slice(s.as_bytes());
    }
    pub fn table(&mut self, name: &str) {
        self.text(TABLE, name);
    }
    pub fn row(&mut self, table: &str, row: u64) {
        self.text(ROW, table);
        self.buf.extend_from_slice(&row.to_le_bytes());
    }
    pub fn db(&mut self) {
        self.buf.push(DB);
    }
    pub fn file(&mut self, kind: &str, path: &str) {
        self.text(FILE, kind);
        self.buf
            .extend_from_slice(&(path.len() as u64).to_le_bytes());
        self.buf.extend_from_slice(path.as_bytes());
    }
    pub fn reference(&mut self, id: u64) {
        self.buf.push(REF);
        self.buf.extend_from_slice(&id.to_le_bytes());
    }
    pub fn range(&mut self, a: i64, b: i64) {
        self.buf.push(RANGE);
        self.buf.extend_from_slice(&a.to_le_bytes());
        self.buf.extend_from_slice(&b.to_le_bytes());
    }
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.nil(),
        }
    }
}

/// Reads items from a record, reporting damage as corruption of `what`.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'a str,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], what: &'a str) -> Reader<'a> {
        Reader { bytes, at: 0, what }
    }

    pub fn error(&self, msg: &str) -> HeapError {
        HeapError::Record(format!("{}: {msg}", self.what))
    }

    pub fn at_end(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> HeapResult<&'a [u8]> {
        if n > self.bytes.len() - self.at.min(self.bytes.len()) {
            return Err(self.error("record ends early"));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn word(&mut self) -> HeapResult<[u8; 8]> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(w)
    }

    pub fn byte(&mut self) -> HeapResult<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn item(&mut self) -> HeapResult<Item<'a>> {
        Ok(match self.byte()? {
            NIL => Item::Nil,
            FALSE => Item::Bool(false),
            TRUE => Item::Bool(true),
            INT => Item::Int(i64::from_le_bytes(self.word()?)),
            FLOAT => Item::Float(f64::from_bits(u64::from_le_bytes(self.word()?))),
            REF => Item::Ref(u64::from_le_bytes(self.word()?)),
            RANGE => {
                let a = i64::from_le_bytes(self.word()?);
                Item::Range(a, i64::from_le_bytes(self.word()?))
            }
            DB => Item::Db,
            FILE => {
                let kind = self.text_after_tag()?;
                Item::File(kind, self.text_after_tag()?)
            }
            tag @ (STR | NATIVE | TABLE | ROW) => {
                let len = u64::from_le_bytes(self.word()?);
                let len = usize::try_from(len).map_err(|_| self.error("bad string length"))?;
                let bytes = self.take(len)?;
                let s =
                    std::str::from_utf8(bytes).map_err(|_| self.error("string is not UTF-8"))?;
                match tag {
                    STR => Item::Str(s),
                    NATIVE => Item::Native(s),
                    TABLE => Item::Table(s),
                    _ => Item::Row(s, u64::from_le_bytes(self.word()?)),
                }
            }
            t => return Err(self.error(&format!("unknown item tag {t}"))),
        })
    }

    /// A length-prefixed UTF-8 string (the tag already read).
    fn text_after_tag(&mut self) -> HeapResult<&'a str> {
        let len = u64::from_le_bytes(self.word()?);
        let len = usize::try_from(len).map_err(|_| self.error("bad string length"))?;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| self.error("string is not UTF-8"))
    }

    pub fn int(&mut self) -> HeapResult<i64> {
        match self.item()? {
            Item::Int(i) => Ok(i),
            _ => Err(self.error("expected an integer")),
        }
    }

    /// A count of following items, bounded by what the record could hold.
    pub fn count(&mut self) -> HeapResult<usize> {
        let n = self.int()?;
        if n < 0 || n as usize > self.bytes.len() {
            return Err(self.error("bad element count"));
        }
        Ok(n as usize)
    }

    pub fn str(&mut self) -> HeapResult<&'a str> {
        match self.item()? {
            Item::Str(s) => Ok(s),
            _ => Err(self.error("expected a string")),
        }
    }

    pub fn opt_str(&mut self) -> HeapResult<Option<&'a str>> {
        match self.item()? {
            Item::Str(s) => Ok(Some(s)),
            Item::Nil => Ok(None),
            _ => Err(self.error("expected a string or nil")),
        }
    }

    pub fn reference(&mut self) -> HeapResult<u64> {
        match self.item()? {
            Item::Ref(id) => Ok(id),
            _ => Err(self.error("expected an object reference")),
        }
    }

    pub fn opt_ref(&mut self) -> HeapResult<Option<u64>> {
        match self.item()? {
            Item::Ref(id) => Ok(Some(id)),
            Item::Nil => Ok(None),
            _ => Err(self.error("expected an object reference or nil")),
        }
    }
}

/// Every object an encoded record (kind byte first) or a global entry (`kinded == false`)
/// refers to.
pub fn references(bytes: &[u8], kinded: bool, what: &str) -> HeapResult<Vec<u64>> {
    let mut r = Reader::new(bytes, what);
    if kinded {
        r.byte()?;
    }
    let mut out = Vec::new();
    while !r.at_end() {
        if let Item::Ref(id) = r.item()? {
            out.push(id);
        }
    }
    Ok(out)
}
