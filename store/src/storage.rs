//! Where heap pages live. The pager only sees the [`Storage`] trait, so the commit logic
//! runs unchanged over a memory-mapped file, plain memory, or the fault-injecting fake the
//! power-loss tests use.

use crate::error::HeapError;
use crate::readers::{ReaderSlot, ReaderTable};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Every page of a heap is this many bytes.
pub const PAGE_SIZE: usize = 4096;

/// Byte offset in page 0 where a writer records its process id (outside the superblock's
/// checksum), so a second writer can name the holder of the lock.
pub const LOCK_PID_OFFSET: usize = 4088;

/// Page-granular storage with an explicit durability barrier. `Sync`: `parallel(n)` threads
/// read pages through a shared [`crate::page_view::PageView`].
pub trait Storage: Send + Sync {
    /// Pages the storage currently holds.
    fn page_count(&self) -> u64;
    /// The bytes of a page; `page < page_count()`.
    fn read(&self, page: u64) -> &[u8];
    /// The bytes of a page, for writing; `page < page_count()`.
    fn write(&mut self, page: u64) -> io::Result<&mut [u8]>;
    /// Write `bytes` (at most a page) at the start of `page` in one step, so that a
    /// process killed during the call leaves either the old bytes or the new ones: the
    /// superblock is written this way, and a writer killed mid-commit never tears it.
    fn write_at_once(&mut self, page: u64, bytes: &[u8]) -> io::Result<()> {
        self.write(page)?[..bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
    /// Make room for at least `pages` pages (reserving the space, so a full disk is an
    /// error here rather than a fault on a later write).
    fn grow(&mut self, pages: u64) -> io::Result<()>;
    /// Durability barrier: every write so far reaches stable storage before this returns.
    fn sync(&mut self) -> io::Result<()>;
    /// How many barriers were issued (for the benchmarks' fsync counts).
    fn syncs(&self) -> u64;
    /// The length of the underlying file in bytes (a torn tail may not fill a page).
    fn byte_len(&self) -> u64 {
        self.page_count() * PAGE_SIZE as u64
    }
    /// For tests that inspect a fake after the pager is done with it.
    fn as_any(&self) -> &dyn std::any::Any;
    /// Let the OS reclaim this process's resident copies of pages (their contents stay as
    /// they are): keeps the resident size of a long scan or import bounded.
    fn release_resident(&self) {}
    /// The oldest commit a live reader pins (a writer's storage; `None`: no reader).
    fn oldest_reader(&self) -> Option<u64> {
        None
    }
    /// Pin a commit for this reader (see [`crate::readers`]); `false` when this storage
    /// cannot pin (no reader table, or no write permission for it).
    fn pin(&mut self, _sequence: u64) -> bool {
        false
    }
    /// A reader's view of the file grows to its current length (a writer may have
    /// committed a longer file since the reader mapped it).
    fn refresh(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Pages in plain memory: the `--memory` heap, and the base of the test fakes.
#[derive(Clone, Default)]
pub struct MemStorage {
    pub bytes: Vec<u8>,
    raw_len: u64,
    syncs: u64,
}

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    pub fn from_bytes(mut bytes: Vec<u8>) -> MemStorage {
        let raw_len = bytes.len() as u64;
        bytes.truncate(bytes.len() / PAGE_SIZE * PAGE_SIZE);
        MemStorage {
            bytes,
            raw_len,
            syncs: 0,
        }
    }
}

impl Storage for MemStorage {
    fn page_count(&self) -> u64 {
        (self.bytes.len() / PAGE_SIZE) as u64
    }

    fn read(&self, page: u64) -> &[u8] {
        let at = page as usize * PAGE_SIZE;
        &self.bytes[at..at + PAGE_SIZE]
    }

    fn write(&mut self, page: u64) -> io::Result<&mut [u8]> {
        let at = page as usize * PAGE_SIZE;
        Ok(&mut self.bytes[at..at + PAGE_SIZE])
    }

    fn grow(&mut self, pages: u64) -> io::Result<()> {
        let want = pages as usize * PAGE_SIZE;
        if want > self.bytes.len() {
            self.bytes.resize(want, 0);
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.syncs += 1;
        Ok(())
    }

    fn syncs(&self) -> u64 {
        self.syncs
    }

    fn byte_len(&self) -> u64 {
        self.raw_len.max(self.bytes.len() as u64)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

enum Mapping {
    None,
    ReadOnly(memmap2::Mmap),
    ReadWrite(memmap2::MmapMut),
}

/// A heap file mapped into memory. A writer holds an exclusive lock on the file for as
/// long as this value lives; a reader takes no lock.
pub struct FileStorage {
    file: File,
    raw_len: u64,
    map: Mapping,
    pages: u64,
    writable: bool,
    syncs: u64,
    /// The first bytes of a heap file (the superblock's magic): the lock holder's pid is
    /// recorded only in a file that starts with them, or in a new one.
    magic: [u8; 8],
    /// A writer's view of the reader table; a reader's own slot in it.
    readers: Option<ReaderTable>,
    slot: Option<ReaderSlot>,
}

/// Why a heap file could not be opened.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    /// Another process holds the write lock (its pid when it recorded one).
    Locked(Option<u32>),
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> OpenError {
        OpenError::Io(e)
    }
}

impl FileStorage {
    /// Open (creating when missing) for writing, taking the exclusive lock at once. `magic`
    /// is how a heap file starts: the writer never records its pid in any other file.
    pub fn open_writer(path: &Path, magic: &[u8; 8]) -> Result<FileStorage, OpenError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if let Err(e) = file.try_lock() {
            return match e {
                std::fs::TryLockError::WouldBlock => Err(OpenError::Locked(read_pid(&file))),
                std::fs::TryLockError::Error(e) => Err(OpenError::Io(e)),
            };
        }
        let mut storage = FileStorage::map(file, true)?;
        storage.magic = *magic;
        if storage.pages < 2 && storage.raw_len == 0 {
            // A new heap: make room at once so the lock holder's pid can be recorded, and
            // make the new file's directory entry durable (its first commit syncs the file,
            // not the directory that names it).
            storage.grow(16)?;
            if let Some(dir) = path.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                File::open(dir)?.sync_all()?;
            }
        }
        storage.record_pid()?;
        storage.readers = ReaderTable::map(&storage.file).ok();
        Ok(storage)
    }

    /// Open an existing file read-only, without locking (readers never block the writer).
    /// A file that starts with `magic` also gets a slot in its reader table, when this
    /// process may write the file, so that the commit it reads can be pinned.
    pub fn open_reader(path: &Path, magic: &[u8; 8]) -> Result<FileStorage, OpenError> {
        // Opening a FIFO for reading blocks until something writes to it: refuse anything
        // but a regular file before opening (`map` checks again what was opened).
        if !std::fs::metadata(path)?.is_file() {
            return Err(OpenError::Io(io::Error::other("not a regular file")));
        }
        let file = OpenOptions::new().read(true).open(path)?;
        let mut storage = FileStorage::map(file, false)?;
        storage.magic = *magic;
        if storage.pages > 0 && &storage.read(0)[..8] == magic {
            storage.slot = OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .and_then(|rw| ReaderTable::map(&rw))
                .ok()
                .and_then(ReaderTable::claim);
        }
        Ok(storage)
    }

    fn map(file: File, writable: bool) -> io::Result<FileStorage> {
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let pages = meta.len() / PAGE_SIZE as u64;
        let mut storage = FileStorage {
            raw_len: meta.len(),
            file,
            map: Mapping::None,
            pages,
            writable,
            syncs: 0,
            magic: [0; 8],
            readers: None,
            slot: None,
        };
        storage.remap()?;
        Ok(storage)
    }

    fn remap(&mut self) -> io::Result<()> {
        self.map = Mapping::None;
        if self.pages == 0 {
            return Ok(());
        }
        let len = self.pages as usize * PAGE_SIZE;
        let mut options = memmap2::MmapOptions::new();
        options.len(len);
        self.map = if self.writable {
            // SAFETY: the file is ours under an exclusive lock for the life of the map, and
            // `len` never exceeds the length we gave the file. Another process truncating it
            // anyway would fault, which the lock exists to prevent.
            Mapping::ReadWrite(unsafe { options.map_mut(&self.file)? })
        } else {
            // SAFETY: read-only view of at most the file's length at open; every byte read
            // through it is validated by the pager before use. A writer only appends pages
            // and rewrites free ones, never shrinking the file.
            Mapping::ReadOnly(unsafe { options.map(&self.file)? })
        };
        Ok(())
    }

    fn record_pid(&mut self) -> io::Result<()> {
        if self.pages == 0 {
            return Ok(());
        }
        // Never write into a file that is not a heap (or a new, still empty one).
        let start = &self.read(0)[..8];
        if start != self.magic && start != [0u8; 8] {
            return Ok(());
        }
        let pid = std::process::id().to_le_bytes();
        self.write(0)?[LOCK_PID_OFFSET..LOCK_PID_OFFSET + 4].copy_from_slice(&pid);
        Ok(())
    }
}

fn read_pid(file: &File) -> Option<u32> {
    let mut buf = [0u8; 4];
    file.read_exact_at(&mut buf, LOCK_PID_OFFSET as u64).ok()?;
    let pid = u32::from_le_bytes(buf);
    (pid != 0).then_some(pid)
}

impl Storage for FileStorage {
    fn page_count(&self) -> u64 {
        self.pages
    }

    fn read(&self, page: u64) -> &[u8] {
        let at = page as usize * PAGE_SIZE;
        match &self.map {
            Mapping::ReadOnly(m) => &m[at..at + PAGE_SIZE],
            Mapping::ReadWrite(m) => &m[at..at + PAGE_SIZE],
            Mapping::None => &[],
        }
    }

    fn write(&mut self, page: u64) -> io::Result<&mut [u8]> {
        let at = page as usize * PAGE_SIZE;
        match &mut self.map {
            Mapping::ReadWrite(m) => Ok(&mut m[at..at + PAGE_SIZE]),
            _ => Err(io::Error::other("heap opened read-only")),
        }
    }

    fn write_at_once(&mut self, page: u64, bytes: &[u8]) -> io::Result<()> {
        if !matches!(self.map, Mapping::ReadWrite(_)) {
            return Err(io::Error::other("heap opened read-only"));
        }
        // One `pwrite` of less than a page: the kernel copies it whole before a signal
        // can stop the process (a copy into the mapping could be cut off mid-way, for
        // instance at a page fault after the page was released). The shared mapping
        // sees the new bytes at once: both are the same page cache.
        self.file.write_all_at(bytes, page * PAGE_SIZE as u64)
    }

    fn grow(&mut self, pages: u64) -> io::Result<()> {
        if pages <= self.pages {
            return Ok(());
        }
        if !self.writable {
            return Err(io::Error::other("heap opened read-only"));
        }
        // Write real zeros rather than extending sparsely: the file system must allocate
        // the blocks now, so a full disk is an error here and never a SIGBUS when a mapped
        // page is first written.
        let zeros = vec![0u8; 256 * PAGE_SIZE];
        let mut at = self.pages * PAGE_SIZE as u64;
        let end = pages * PAGE_SIZE as u64;
        while at < end {
            let n = (end - at).min(zeros.len() as u64) as usize;
            self.file.write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        let first_map = self.pages == 0;
        self.pages = pages;
        self.remap()?;
        if first_map {
            self.record_pid()?;
        }
        Ok(())
    }

    fn byte_len(&self) -> u64 {
        self.raw_len.max(self.pages * PAGE_SIZE as u64)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.syncs += 1;
        // fdatasync writes back the file's dirty pages, including those dirtied through
        // the shared mapping, and the length when it changed.
        self.file.sync_data()
    }

    fn syncs(&self) -> u64 {
        self.syncs
    }

    fn oldest_reader(&self) -> Option<u64> {
        self.readers.as_ref().and_then(ReaderTable::oldest_pin)
    }

    fn pin(&mut self, sequence: u64) -> bool {
        match &self.slot {
            Some(slot) => {
                slot.pin(sequence);
                true
            }
            None => false,
        }
    }

    fn refresh(&mut self) -> io::Result<()> {
        if self.writable {
            return Ok(());
        }
        let len = self.file.metadata()?.len();
        if len / PAGE_SIZE as u64 > self.pages {
            self.raw_len = len;
            self.pages = len / PAGE_SIZE as u64;
            self.remap()?;
        }
        Ok(())
    }

    fn release_resident(&self) {
        // SAFETY: the mapping is a shared mapping of a file. MADV_DONTNEED only drops this
        // process's page-table entries: a dirty page stays dirty in the page cache, and a
        // later access maps the page cache's (identical) contents again, so no byte a
        // reader can see changes and slices into the map stay valid, including those that
        // `parallel(n)` threads are reading at that moment (they fault the page in again).
        // Failure is harmless.
        let _ = unsafe {
            match &self.map {
                Mapping::ReadOnly(m) => m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed),
                Mapping::ReadWrite(m) => m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed),
                Mapping::None => Ok(()),
            }
        };
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl From<OpenError> for HeapError {
    fn from(e: OpenError) -> HeapError {
        match e {
            OpenError::Io(e) => HeapError::Io(e),
            OpenError::Locked(pid) => HeapError::Locked(pid),
        }
    }
}
