//! What a table or row value holds: plain numbers, so `Value` can carry them without
//! knowing tables (the registry in `handle.rs` resolves them to a heap and a table).

/// A table value: an index into this thread's table registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableId(pub u32);

/// A row value: a table and a row number in it (rows keep their number for life).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowRef {
    pub table: TableId,
    pub row: u32,
}
