//! `walia show HEAP TABLE`: a table's first rows as an aligned text table, read from the
//! heap's last commit without the write lock (so it never blocks a writer, and never
//! creates or changes the file).

use std::path::Path;
use walia::{Engine, Error};

/// Print the first `limit` rows (all with `None`) of `table`, those for which `filter`
/// holds, then how many there are.
pub fn show(
    engine: &mut Engine,
    heap: &Path,
    table: &str,
    limit: Option<usize>,
    filter: Option<&str>,
) -> Result<(), Error> {
    if !heap.is_file() {
        return Err(Error::Io {
            message: format!("cannot open heap '{}': no such file", heap.display()),
        });
    }
    engine.open_heap_read_only(heap)?;
    if let Some(seq) = engine.heap_fell_back() {
        eprintln!(
            "warning: heap '{}': the newest commit is damaged; showing commit {seq} (walia verify tells more)",
            heap.display()
        );
    }
    let view = engine.table_view(table, limit, filter)?;
    print!("{}", view.render());
    Ok(())
}
