//! The anchor of bench/jit.py (issue 18): what hand-written native loops over a heap's
//! mapped column pages cost, measured in-process, so that Walia's pipelines over the same
//! table can be given as a ratio to it.
//!
//! `anchor HEAP.wld [--passes N] [--range N] [--table NAME]`
//!
//! Opens the heap read-only with walia-store (`Heap::open_reader`: the last commit, no lock),
//! finds the table (default `users`) in the catalog, gets the page lists of its Int columns
//! `age` and `score` (`Table::page_lists`), validates every one of those pages through the
//! pager (`Pager::page(p, PageKind::Column)`: number, kind, checksum) and checks what the
//! loops then take for granted: no deletion-mark pages, every value present, and the value
//! offset below equal to `column_page::raw`. Then it times `--passes` passes (default 7) of:
//!
//! - `scan`: the sum of `score * 2` over the rows with `age > 18` (wrapping i64), reading the
//!   store's own read-only mapping of the file;
//! - `update_first` / `update`: `score += 1` on the rows with `age > 18`, page by page, in a
//!   private copy-on-write mapping of the heap file (`MAP_PRIVATE`: the file never changes).
//!   `update_first` is the first pass over a fresh mapping (it takes the copy-on-write fault
//!   of every score page, as Walia's first updating pass copies every page it changes), one
//!   fresh mapping per pass; `update` is the passes after the first over one mapping;
//! - `range`: `s += i * 2` for `i in 0..N` (default 50,000,000), a scalar loop (see `range`).
//!
//! It prints one line per measurement: `NAME MEDIAN min=MIN passes=N ...` in ns per row
//! (per element for `range`), followed by what the pass computed (`sum=`, `updated=`), which
//! bench/jit.py compares with Walia's results.

use memmap2::MmapOptions;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use walia_store::{ColType, Heap, PAGE_SIZE, PageKind, ROWS_PER_PAGE, column_page};

/// Where a column page's values start: after the page header (24 bytes) and the 64-byte
/// presence bitmap (store/src/table/column_page.rs `VALUES_AT`, private there). Checked
/// against `column_page::raw` for every value before anything is timed.
const VALUES_AT: usize = 24 + 64;

struct Args {
    heap: PathBuf,
    table: String,
    passes: usize,
    range: u64,
}

fn usage() -> String {
    "usage: anchor HEAP.wld [--passes N] [--range N] [--table NAME]".into()
}

fn parse_args() -> Result<Args, String> {
    let mut heap = None;
    let mut passes = 7;
    let mut range = 50_000_000;
    let mut table = "users".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--passes" => {
                passes = value("--passes")?
                    .parse()
                    .map_err(|e| format!("--passes: {e}"))?
            }
            "--range" => {
                range = value("--range")?
                    .parse()
                    .map_err(|e| format!("--range: {e}"))?
            }
            "--table" => table = value("--table")?,
            "-h" | "--help" => return Err(usage()),
            _ if a.starts_with('-') => return Err(format!("unknown option {a}\n{}", usage())),
            _ if heap.is_none() => heap = Some(PathBuf::from(a)),
            _ => return Err(usage()),
        }
    }
    let heap = heap.ok_or_else(usage)?;
    if passes == 0 {
        return Err("--passes must be at least 1".into());
    }
    Ok(Args {
        heap,
        table,
        passes,
        range,
    })
}

/// The validated layout of the table: for each page index, the heap page of `age` and of
/// `score`, and how many rows it holds.
struct Layout {
    rows: u64,
    pages: Vec<(u64, u64, usize)>,
}

fn load(heap: &mut Heap, name: &str) -> Result<Layout, String> {
    let err = |e: walia_store::HeapError| e.to_string();
    let handle = heap.tables.handle(name);
    let (table, pager) = heap
        .table(handle)
        .map_err(err)?
        .ok_or(format!("the heap has no table {name}"))?;
    let col = |c: &str| -> Result<usize, String> {
        let i = table
            .column_index(c)
            .ok_or(format!("table {name} has no column {c}"))?;
        match table.columns[i].ty {
            ColType::Int => Ok(i),
            t => Err(format!("column {c} is {}, not Int", t.name())),
        }
    };
    let (age, score) = (col("age")?, col("score")?);
    if table.base != 0 || table.live != table.slots {
        return Err(format!(
            "table {name} has deleted or cleared rows (base {}, {} live of {} slots): \
             the anchor needs a freshly imported table",
            table.base, table.live, table.slots
        ));
    }
    let rows = table.slots;
    let count = (rows as usize).div_ceil(ROWS_PER_PAGE);
    let (cols, deleted) = table
        .page_lists(pager, [age, score].into_iter(), (0, count))
        .map_err(err)?;
    if let Some(i) = deleted.iter().position(|&p| p != 0) {
        return Err(format!("rows of page index {i} have deletion marks"));
    }
    let mut pages = Vec::with_capacity(count);
    let mut seen = std::collections::HashSet::new();
    for i in 0..count {
        let n = (rows as usize - i * ROWS_PER_PAGE).min(ROWS_PER_PAGE);
        for (c, list) in ["age", "score"].iter().zip(&cols) {
            let p = list[i];
            if p == 0 || !seen.insert(p) {
                return Err(format!(
                    "column {c}, page index {i}: page {p} missing or shared"
                ));
            }
            let bytes = pager.page(p, PageKind::Column).map_err(err)?;
            for slot in 0..n {
                let at = VALUES_AT + 8 * slot;
                let mine = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
                if column_page::value(bytes, slot) != Some(mine) {
                    return Err(format!(
                        "column {c}, page {p}, slot {slot}: nil, or the value is not at \
                         offset {VALUES_AT} (column_page.rs changed?)"
                    ));
                }
            }
        }
        pages.push((cols[0][i], cols[1][i], n));
    }
    Ok(Layout { rows, pages })
}

fn values(page: &[u8], n: usize) -> &[u8] {
    &page[VALUES_AT..VALUES_AT + 8 * n]
}

#[inline(always)]
fn int(b: &[u8]) -> i64 {
    i64::from_le_bytes(b.try_into().unwrap())
}

/// Sum of `score * 2` where `age > 18`. Each element: the (age values, score values) of one
/// page.
#[inline(never)]
fn scan(pages: &[(&[u8], &[u8])]) -> i64 {
    let mut s = 0i64;
    for (ages, scores) in pages {
        for (a, b) in ages.chunks_exact(8).zip(scores.chunks_exact(8)) {
            if int(a) > 18 {
                s = s.wrapping_add(int(b).wrapping_mul(2));
            }
        }
    }
    s
}

/// `score += 1` where `age > 18`; returns the rows changed.
#[inline(never)]
fn update(pages: &mut [(&[u8], &mut [u8])]) -> u64 {
    let mut n = 0;
    for (ages, scores) in pages.iter_mut() {
        for (a, b) in ages.chunks_exact(8).zip(scores.chunks_exact_mut(8)) {
            if int(a) > 18 {
                b.copy_from_slice(&int(b).wrapping_add(1).to_le_bytes());
                n += 1;
            }
        }
    }
    n
}

/// `s += i * 2` for `i in 0..n`, one add per element. Written as a plain loop LLVM replaces
/// it with the closed form `n * (n - 1)` (no loop at all); the empty `asm!` makes the sum
/// opaque after each step, which keeps the loop and stops vectorization, without touching
/// memory: the scalar loop a native compiler without those two optimizations emits.
#[inline(never)]
fn range(n: u64) -> i64 {
    let mut s = 0i64;
    for i in 0..n as i64 {
        s = s.wrapping_add(i.wrapping_mul(2));
        // SAFETY: an empty instruction string; `s` stays in a register.
        unsafe {
            std::arch::asm!("/* {0} */", inout(reg) s, options(nomem, nostack, preserves_flags))
        };
    }
    s
}

fn ns(t: Instant, rows: u64) -> f64 {
    t.elapsed().as_nanos() as f64 / rows.max(1) as f64
}

fn report(name: &str, mut xs: Vec<f64>, extra: &str) {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    };
    println!("{name} {median:.4} min={:.4} passes={n} {extra}", xs[0]);
}

fn run(a: &Args) -> Result<(), String> {
    let mut heap = Heap::open_reader(&a.heap).map_err(|e| format!("{}: {e}", a.heap.display()))?;
    let layout = load(&mut heap, &a.table)?;
    let rows = layout.rows;
    println!(
        "rows {rows} pages {} validated {}",
        layout.pages.len(),
        2 * layout.pages.len()
    );
    let store = heap.pager.storage();
    let read: Vec<(&[u8], &[u8])> = layout
        .pages
        .iter()
        .map(|&(pa, ps, n)| (values(store.read(pa), n), values(store.read(ps), n)))
        .collect();

    // scan
    let mut times = Vec::new();
    let mut sum = 0;
    for _ in 0..a.passes {
        let t = Instant::now();
        sum = scan(black_box(&read));
        times.push(ns(t, rows));
    }
    report("scan_ns_per_row", times, &format!("sum={sum}"));

    // the scan on two threads, each taking half the pages (what parallel(2) can reach)
    let mut times = Vec::new();
    for _ in 0..a.passes {
        let t = Instant::now();
        let (left, right) = read.split_at(read.len() / 2);
        let both = std::thread::scope(|s| {
            let other = s.spawn(|| scan(black_box(left)));
            let mine = scan(black_box(right));
            other.join().map(|o| o.wrapping_add(mine))
        });
        times.push(ns(t, rows));
        if both.ok() != Some(sum) {
            return Err("scan on two threads: wrong result".into());
        }
    }
    report("scan2_ns_per_row", times, &format!("sum={sum}"));

    // update, on private copy-on-write mappings of the file
    let file = std::fs::File::open(&a.heap).map_err(|e| e.to_string())?;
    let fresh = || -> Result<memmap2::MmapMut, String> {
        // SAFETY: a private mapping; nothing else in this process writes the file.
        unsafe { MmapOptions::new().map_copy(&file) }.map_err(|e| format!("mmap: {e}"))
    };
    let writable = |map: &mut memmap2::MmapMut| -> Vec<(&[u8], &mut [u8])> {
        let base = map.as_mut_ptr();
        let len = map.len();
        layout
            .pages
            .iter()
            .zip(&read)
            .map(|(&(_, ps, n), &(ages, _))| {
                let at = ps as usize * PAGE_SIZE + VALUES_AT;
                assert!(at + 8 * n <= len);
                // SAFETY: in bounds (checked), and the score pages are distinct pages
                // (checked in `load`), so the slices do not overlap.
                let scores = unsafe { std::slice::from_raw_parts_mut(base.add(at), 8 * n) };
                (ages, scores)
            })
            .collect()
    };
    let (mut first, mut later) = (Vec::new(), Vec::new());
    let mut updated = 0;
    for pass in 0..a.passes {
        let mut map = fresh()?;
        let mut pages = writable(&mut map);
        let t = Instant::now();
        updated = update(black_box(&mut pages));
        first.push(ns(t, rows));
        if pass == 0 {
            // Check the first pass once: every score is its stored value plus (age > 18).
            for (&(ages, old), (_, new)) in read.iter().zip(&pages) {
                for ((a, o), n) in ages
                    .chunks_exact(8)
                    .zip(old.chunks_exact(8))
                    .zip(new.chunks_exact(8))
                {
                    if int(n) != int(o) + (int(a) > 18) as i64 {
                        return Err("update: wrong result".into());
                    }
                }
            }
            for _ in 0..a.passes {
                let t = Instant::now();
                black_box(update(black_box(&mut pages)));
                later.push(ns(t, rows));
            }
        }
    }
    report(
        "update_first_ns_per_row",
        first,
        &format!("updated={updated}"),
    );
    report("update_ns_per_row", later, &format!("updated={updated}"));

    // range
    let mut times = Vec::new();
    let mut sum = 0;
    for _ in 0..a.passes {
        let t = Instant::now();
        sum = range(black_box(a.range));
        times.push(ns(t, a.range));
    }
    report(
        "range_ns_per_iter",
        times,
        &format!("n={} sum={sum}", a.range),
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("anchor: {e}");
            ExitCode::FAILURE
        }
    }
}
