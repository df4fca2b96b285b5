//! `walia drop` and `walia compact`: the writers that maintain a heap. Dropping frees the
//! pages of what it drops inside the heap; compacting gives the heap's free pages back to
//! the file system.

use crate::admin::human;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use walia::{Durability, Engine, Error, RtError};
use walia_runtime::api::{HeapError, PAGE_SIZE, compact_file};

fn no_such_heap(verb: &str, heap: &Path) -> Error {
    Error::Io {
        message: format!("cannot {verb} heap '{}': no such file", heap.display()),
    }
}

/// What a name given to `walia drop` is.
enum Target {
    /// `db.T`: a table.
    Table(String),
    /// A global, the cursor of a checkpointed pipe, or both.
    Global { global: bool, cursor: bool },
}

/// Drop each of `names` (a global, with the cursor of the checkpointed pipe of that name,
/// or `db.T` for a table) from `heap` in one commit: all of them, or none when one is
/// missing.
pub fn drop_names(
    engine: &mut Engine,
    heap: &Path,
    names: &[String],
    durability: Durability,
) -> Result<(), Error> {
    if !heap.is_file() {
        return Err(no_such_heap("open", heap));
    }
    engine.open_heap(heap, durability)?;
    if let Some(seq) = engine.heap_fell_back() {
        eprintln!(
            "warning: heap '{}': the newest commit is damaged; using commit {seq} (walia verify tells more)",
            heap.display()
        );
    }
    let globals = engine.stored_globals();
    let cursors = engine.cursors()?;
    let tables = engine.tables()?;
    let mut targets = Vec::with_capacity(names.len());
    for name in names {
        let target = match name.strip_prefix("db.") {
            Some(t) if tables.iter().any(|n| n == t) => Target::Table(t.to_string()),
            _ => Target::Global {
                global: globals.contains(name),
                cursor: cursors.contains(name),
            },
        };
        if let Target::Global {
            global: false,
            cursor: false,
        } = target
        {
            return Err(missing(heap, name, &globals, &cursors, &tables));
        }
        targets.push((name, target));
    }
    let mut done = Vec::new();
    for (name, target) in targets {
        match target {
            Target::Table(t) => {
                let rows = engine
                    .table_summaries()?
                    .into_iter()
                    .find(|i| i.name == t)
                    .map_or(0, |i| i.rows);
                engine.drop_table(&t)?;
                done.push(format!("dropped table {t} ({})", crate::rows(rows)));
            }
            Target::Global { global, cursor } => {
                engine.drop_global(name)?;
                done.push(match (global, cursor) {
                    (true, true) => format!("dropped global {name} and its checkpoint cursor"),
                    (true, false) => format!("dropped global {name}"),
                    _ => format!("dropped the cursor of checkpointed pipe {name}"),
                });
            }
        }
    }
    engine.commit()?;
    for line in done {
        println!("{line}");
    }
    let free = engine.free_pages();
    println!(
        "{} of '{}' is free space now, reused by later writes (walia compact shrinks the file)",
        human(free * PAGE_SIZE as u64),
        heap.display()
    );
    Ok(())
}

/// The error for a name `walia drop` does not find, with the closest one it would.
fn missing(
    heap: &Path,
    name: &str,
    globals: &[String],
    cursors: &[String],
    tables: &[String],
) -> Error {
    let table_names: Vec<String> = tables.iter().map(|t| format!("db.{t}")).collect();
    let mut message = match name.strip_prefix("db.") {
        Some(t) => format!("heap '{}' has no table '{t}'", heap.display()),
        None => format!(
            "heap '{}' has no global or checkpointed pipe '{name}'",
            heap.display()
        ),
    };
    if tables.iter().any(|t| t == name) {
        message.push_str(&format!(
            "; the table is dropped as db.{name}: walia drop {} db.{name}",
            heap.display()
        ));
    } else {
        let known = globals.iter().chain(cursors).chain(&table_names);
        if let Some(close) = walia_lang::diagnostic::did_you_mean(name, known.map(String::as_str)) {
            message.push_str(&format!("; did you mean '{close}'?"));
        }
    }
    Error::Runtime(RtError::new(message))
}

/// A bar for a compaction on a terminal; none for a small heap (it would only flicker).
fn progress_bar(quiet: bool, bytes: u64) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() || bytes < (4 << 20) {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} pages ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("compacting");
    Some(bar)
}

/// Rewrite `heap` without its free pages (see `walia_store::compact_file`).
pub fn compact(heap: &Path, quiet: bool) -> Result<(), Error> {
    let Ok(meta) = std::fs::metadata(heap) else {
        return Err(no_such_heap("compact", heap));
    };
    let bar = progress_bar(quiet, meta.len());
    let result = compact_file(heap, &mut |done, total| {
        if let Some(b) = &bar {
            b.set_length(total.max(done));
            b.set_position(done);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match result {
        Ok(c) => {
            println!(
                "compacted {}: {} -> {}",
                heap.display(),
                human(c.bytes_before),
                human(c.bytes_after)
            );
            Ok(())
        }
        Err(e) => {
            let hint = match e {
                HeapError::Locked(_) => "; compact it once that process has ended",
                _ => "",
            };
            Err(Error::Io {
                message: format!("cannot compact heap '{}': {e}{hint}", heap.display()),
            })
        }
    }
}
