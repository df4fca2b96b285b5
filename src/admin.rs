//! `walia inspect` and `walia verify`.

use crate::listing::{self, Listed};
use std::path::Path;
use walia::{Engine, exit_code};
use walia_runtime::api::{
    Heap, HeapError, PAGE_SIZE, Summary, VerifyReport, summary, verify as verify_heap,
};

fn fail(path: &Path, e: &HeapError) -> i32 {
    eprintln!("error: heap '{}': {e}", path.display());
    exit_code::IO
}

pub(crate) fn human(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b if b < 1024 * 1024 * 1024 => format!("{:.1} MiB", b as f64 / 1048576.0),
        b => format!("{:.1} GiB", b as f64 / 1073741824.0),
    }
}

/// A reader pins the commit it reads, so no writer recycles its pages meanwhile. One that
/// cannot pin (no write permission on the file for its reader slot, or all slots taken)
/// may see a recycled page as damage: reading again from the newest commit tells such a
/// race from real damage.
const READ_ATTEMPTS: usize = 5;

fn pause_before_retry() {
    std::thread::sleep(std::time::Duration::from_millis(5));
}

fn read_summary(path: &Path) -> Result<(Heap, Summary), HeapError> {
    let mut last = None;
    for _ in 0..READ_ATTEMPTS {
        let attempt = Heap::open_reader(path).and_then(|mut h| summary(&mut h).map(|s| (h, s)));
        match attempt {
            Ok(r) => return Ok(r),
            Err(e @ (HeapError::Corrupt { .. } | HeapError::Record(_))) => last = Some(e),
            Err(e) => return Err(e),
        }
        pause_before_retry();
    }
    Err(last.unwrap_or(HeapError::NotAHeap))
}

pub fn inspect(path: &Path, json: bool, _color: bool) -> i32 {
    let (heap, s) = match read_summary(path) {
        Ok(r) => r,
        Err(e) => return fail(path, &e),
    };
    if heap.report.fell_back {
        eprintln!(
            "warning: the newest commit is damaged; showing commit {}",
            s.commit
        );
    }
    // The cursors are read from the same pinned commit as the summary, through the
    // runtime (which knows what a cursor holds), without the write lock.
    let mut engine = reader_engine(heap);
    let cursors = match listing::cursors(&mut engine) {
        Ok(list) => list,
        Err(e) => {
            eprintln!(
                "error: heap '{}': the cursors cannot be read: {e}",
                path.display()
            );
            return exit_code::IO;
        }
    };
    if json {
        println!("{}", to_json(path, &s, &cursors));
    } else {
        print!("{}", to_text(path, &s, &cursors));
    }
    exit_code::OK
}

/// An engine reading `heap` (a reader: no lock, nothing committed), printing nowhere.
fn reader_engine(heap: Heap) -> Engine {
    let mut engine = Engine::with_output(Box::new(std::io::sink()));
    engine.attach_heap(heap);
    engine
}

fn to_text(path: &Path, s: &Summary, cursors: &[Listed]) -> String {
    let mut out = format!("heap {}\n", path.display());
    out.push_str(&format!(
        "format {}, commit {}, durability {}\n",
        s.format_version, s.commit, s.durability
    ));
    out.push_str(&format!(
        "file {} pages ({}), {} in use, {} free; {} stored objects\n",
        s.file_pages,
        human(s.file_pages * PAGE_SIZE as u64),
        s.used_pages,
        s.free_pages,
        s.objects
    ));
    out.push_str(&format!("globals ({}):\n", s.globals.len()));
    let width = s.globals.iter().map(|g| g.name.len()).max().unwrap_or(0);
    for g in &s.globals {
        out.push_str(&format!(
            "  {:width$}  {:9} {}\n",
            g.name,
            g.type_name,
            human(g.bytes)
        ));
    }
    out.push_str(&format!("tables ({}):\n", s.tables.len()));
    for t in &s.tables {
        let columns: Vec<String> = t
            .columns
            .iter()
            .map(|(n, ty)| format!("{n} {ty}"))
            .collect();
        out.push_str(&format!(
            "  {}  {} row{}, {}  ({})\n",
            t.name,
            t.rows,
            if t.rows == 1 { "" } else { "s" },
            human(t.pages * PAGE_SIZE as u64),
            columns.join(", ")
        ));
    }
    out.push_str(&format!("cursors ({}):\n", cursors.len()));
    for line in listing::lines(cursors) {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

fn to_json(path: &Path, s: &Summary, cursors: &[Listed]) -> String {
    let globals: Vec<serde_json::Value> = s
        .globals
        .iter()
        .map(|g| serde_json::json!({"name": g.name, "type": g.type_name, "bytes": g.bytes}))
        .collect();
    let tables: Vec<serde_json::Value> = s
        .tables
        .iter()
        .map(|t| {
            let columns: Vec<serde_json::Value> = t
                .columns
                .iter()
                .map(|(n, ty)| serde_json::json!({"name": n, "type": ty}))
                .collect();
            serde_json::json!({
                "name": t.name,
                "rows": t.rows,
                "columns": columns,
                "pages": t.pages,
                "bytes": t.pages * PAGE_SIZE as u64,
            })
        })
        .collect();
    serde_json::json!({
        "heap": path.display().to_string(),
        "format_version": s.format_version,
        "commit": s.commit,
        "commit_time_ms": s.commit_millis,
        "durability": s.durability,
        "page_size": PAGE_SIZE,
        "file_pages": s.file_pages,
        "used_pages": s.used_pages,
        "free_pages": s.free_pages,
        "objects": s.objects,
        "globals": globals,
        "tables": tables,
        "cursors": listing::json(cursors),
    })
    .to_string()
}

/// Verify, reading again when a concurrent writer may have recycled pages under us.
fn read_verify(path: &Path) -> Result<(Heap, VerifyReport), HeapError> {
    let mut last = None;
    for _ in 0..READ_ATTEMPTS {
        match Heap::open_reader(path).and_then(|mut h| verify_heap(&mut h).map(|r| (h, r))) {
            Ok((h, r)) if !r.fell_back => return Ok((h, r)),
            Ok(r) => last = Some(Ok(r)),
            Err(e @ (HeapError::Corrupt { .. } | HeapError::Record(_))) => last = Some(Err(e)),
            Err(e) => return Err(e),
        }
        pause_before_retry();
    }
    last.unwrap_or(Err(HeapError::NotAHeap))
}

pub fn verify(path: &Path, _color: bool) -> i32 {
    match read_verify(path) {
        Ok((heap, r)) => {
            if r.fell_back {
                eprintln!(
                    "error: heap '{}': the newest commit is damaged; commit {} is intact and will be used",
                    path.display(),
                    r.commit
                );
                return exit_code::IO;
            }
            // The store checked every record's bytes and references; what a cursor's
            // record must hold to be resumed only the runtime knows.
            let cursors = match listing::check(&mut reader_engine(heap)) {
                Ok(n) => n,
                Err(problems) => {
                    for p in problems {
                        eprintln!("error: heap '{}': {p}", path.display());
                    }
                    return exit_code::IO;
                }
            };
            println!(
                "ok: commit {}, {} pages, {} records and {} checked",
                r.commit,
                r.pages_checked,
                r.records_checked,
                match cursors {
                    1 => "1 cursor".to_string(),
                    n => format!("{n} cursors"),
                }
            );
            exit_code::OK
        }
        Err(e) => fail(path, &e),
    }
}
