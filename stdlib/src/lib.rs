//! walia-stdlib: the builtin functions and methods of Walia (SPEC §8, §12, §15), registered
//! on a [`Vm`] through its embedding API. Builtins are ordinary globals, so [`install`] must
//! run before any script is compiled (the resolver treats registered globals as declared).

mod atomic_file;
mod bits;
mod check;
mod collections;
mod core;
mod csv_text;
#[cfg(test)]
mod doc_comments;
pub mod docs;
mod extremes;
mod file_sources;
mod files;
mod format;
mod import_progress;
mod json;
mod lists;
mod maps;
mod math;
mod paths;
mod persist;
mod pipes;
mod random;
mod records;
mod regex;
mod sorting;
mod strings;
mod system;
mod table_io;
mod tables;
mod terminals;
mod testing;
mod text;
mod time;

pub use csv_text::parse_delimiter;
/// A parsed JSON value as a Walia value (as `json_parse` makes it).
pub use json::from_json;
pub use table_io::{
    Format, ImportOptions, Imported, export as export_table, import as import_table,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_io;
#[cfg(test)]
mod tests_pipes;
#[cfg(test)]
mod tests_text;
#[cfg(test)]
mod tests_world;

use walia_runtime::Vm;

/// Register every builtin function and every method of the built-in types.
pub fn install(vm: &mut Vm) {
    core::install(vm);
    testing::install(vm);
    // Pipeline stages and terminals first: the List/String modules then register their own
    // methods (`length`, `contains`...) over any generic one of the same name.
    pipes::install(vm);
    terminals::install(vm);
    math::install(vm);
    extremes::install(vm);
    strings::install(vm);
    text::install(vm);
    format::install(vm);
    bits::install(vm);
    lists::install(vm);
    sorting::install(vm);
    collections::install(vm);
    maps::install(vm);
    json::install(vm);
    files::install(vm);
    persist::install(vm);
    tables::install(vm);
    file_sources::install(vm);
    system::install(vm);
    time::install(vm);
    random::install(vm);
    regex::install(vm);
    paths::install(vm);
}
