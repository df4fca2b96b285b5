//! Tables as scripts see them (SPEC §7): `db` and `db.T` values, rows as values, and the
//! fast field reads of a table scan. The rows themselves live in walia-store's tables.

pub(crate) mod handle;
pub(crate) mod ids;
pub(crate) mod reader;
