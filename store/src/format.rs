//! What identifies a Walia heap file: the bytes it starts with and the format versions
//! this build reads (docs/heap-format.md).

pub const MAGIC: &[u8; 8] = b"WALIAHP\0";
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format this build still opens (version 1 had no table pages; its files are
/// valid version 2 files, and the next commit rewrites the superblock as version 2).
pub const OLDEST_FORMAT_VERSION: u32 = 1;
