//! @group Paths
//! Paths and directories: `path_join`, `basename`, `dirname`, `extension` work on the
//! text alone (nothing is read from the disk); `list_dir`, `glob`, `is_dir` and
//! `make_dir` look at the file system. Paths are Strings with `/` between parts (on
//! Windows `\` is read too). A failure is a runtime error naming the path and the OS
//! reason, as with the file builtins.

use crate::check::*;
use std::path::{Path, PathBuf};
use walia_runtime::api::{reserve, tick};
use walia_runtime::{RtError, RtResult, Value, Vm};

const S: &[&str] = &["String"];

pub fn install(vm: &mut Vm) {
    leaf_global(vm, "path_join", 1, MANY, path_join);
    leaf_both(vm, S, "basename", 1, 1, basename);
    leaf_both(vm, S, "dirname", 1, 1, dirname);
    leaf_both(vm, S, "extension", 1, 1, extension);
    leaf_global(vm, "list_dir", 1, 1, list_dir);
    leaf_global(vm, "glob", 1, 1, glob);
    leaf_global(vm, "is_dir", 1, 1, is_dir);
    leaf_global(vm, "make_dir", 1, 1, make_dir);
}

/// A path as text; a name the OS gave that is not UTF-8 is an error naming it.
fn text_of(path: PathBuf, fname: &str) -> RtResult<Value> {
    path.into_os_string()
        .into_string()
        .map(Value::str)
        .map_err(|p| {
            RtError::new(format!(
                "'{fname}': the name '{}' is not valid UTF-8",
                p.to_string_lossy()
            ))
        })
}

/// @builtin path_join(part, ...) -> String
///
/// The parts joined with `/`, as Python's `os.path.join`: a separator is added only
/// where one is missing, and a part that is an absolute path starts over from it.
///
/// Errors: a part is not a String.
///
/// ```walia
/// print path_join("data", "2024", "sales.csv");   // -> data/2024/sales.csv
/// print path_join("data/", "/tmp", "x");          // -> /tmp/x
/// ```
fn path_join(a: &[Value]) -> RtResult<Value> {
    let mut path = PathBuf::new();
    for i in 0..a.len() {
        path.push(expect_str(a, i, "path_join")?.as_str());
    }
    text_of(path, "path_join")
}

/// @builtin basename(path) -> String
/// @builtin p.basename() -> String
///
/// The last part of `path`, as the shell's `basename`: trailing `/` are ignored, and a
/// path with no last part (`/`, `..`, `""`) gives `""`.
///
/// Errors: `path` is not a String.
///
/// ```walia
/// print basename("data/2024/sales.csv");   // -> sales.csv
/// print "logs/".basename();                // -> logs
/// ```
fn basename(a: &[Value]) -> RtResult<Value> {
    let path = Path::new(expect_str(a, 0, "basename")?.as_str());
    Ok(Value::str(path.file_name().map_or(String::new(), |n| {
        n.to_string_lossy().into_owned()
    })))
}

/// @builtin dirname(path) -> String
/// @builtin p.dirname() -> String
///
/// `path` without its last part, as the shell's `dirname`: `"."` for a name alone,
/// `"/"` for the root.
///
/// Errors: `path` is not a String.
///
/// ```walia
/// print dirname("data/2024/sales.csv");   // -> data/2024
/// print "sales.csv".dirname();            // -> .
/// ```
fn dirname(a: &[Value]) -> RtResult<Value> {
    let text = expect_str(a, 0, "dirname")?.as_str();
    let path = Path::new(text);
    Ok(Value::str(match path.parent() {
        Some(p) if p.as_os_str().is_empty() => ".".to_string(),
        Some(p) => p.to_string_lossy().into_owned(),
        // The root, or an empty path.
        None if path.has_root() => text.to_string(),
        None => ".".to_string(),
    }))
}

/// @builtin extension(path) -> String
/// @builtin p.extension() -> String
///
/// The extension of the last part of `path`, without its dot (`"csv"`), or `""` when
/// it has none. A name starting with a dot (`.bashrc`) has none.
///
/// Errors: `path` is not a String.
///
/// ```walia
/// print extension("data/sales.tar.gz");   // -> gz
/// print extension(".bashrc") == "";       // -> true
/// ```
fn extension(a: &[Value]) -> RtResult<Value> {
    let path = Path::new(expect_str(a, 0, "extension")?.as_str());
    Ok(Value::str(path.extension().map_or(String::new(), |e| {
        e.to_string_lossy().into_owned()
    })))
}

fn io_error(fname: &str, path: &str, e: impl std::fmt::Display) -> RtError {
    RtError::new(format!("'{fname}' cannot read '{path}': {e}"))
}

/// @builtin list_dir(path) -> List
///
/// The names (not paths) of the entries of the directory `path`, sorted, without `.`
/// and `..`. `path_join(path, name)` makes a path of a name.
///
/// Errors: `path` is not a String; it is not a directory or cannot be read (the message
/// names it and gives the OS reason); a name is not valid UTF-8.
///
/// ```walia
/// make_dir("box");
/// write_file("box/b.txt", "");
/// write_file("box/a.txt", "");
/// print list_dir("box");   // -> ["a.txt", "b.txt"]
/// ```
fn list_dir(a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "list_dir")?.as_str();
    let entries = std::fs::read_dir(path).map_err(|e| io_error("list_dir", path, e))?;
    let mut names = Vec::new();
    for entry in entries {
        tick()?;
        let entry = entry.map_err(|e| io_error("list_dir", path, e))?;
        let name = entry.file_name().into_string().map_err(|n| {
            RtError::new(format!(
                "'list_dir': the name '{}' in '{path}' is not valid UTF-8",
                n.to_string_lossy()
            ))
        })?;
        reserve(&mut names, 1)?;
        names.push(name);
    }
    names.sort();
    Ok(Value::list(names.into_iter().map(Value::str).collect()))
}

/// @builtin glob(pattern) -> List
///
/// The paths that match `pattern`, sorted: `*` matches any run of characters within a
/// part of the path, `?` one character, `[abc]` / `[!abc]` one of (or none of) those,
/// and `**` any number of directories. A pattern without a directory is looked up in the
/// current directory. Unlike the shell, wildcards also match names that start with `.`
/// (`filter(p => !basename(p).starts_with("."))` leaves them out). The paths are sorted
/// as Strings, as `sort` orders them. Entries that cannot be read are skipped.
///
/// Errors: `pattern` is not a String or is not a valid pattern; a path is not valid
/// UTF-8.
///
/// ```walia
/// make_dir("logs/old");
/// write_file("logs/a.log", "");
/// write_file("logs/old/b.log", "");
/// write_file("logs/c.txt", "");
/// print glob("logs/*.log");      // -> ["logs/a.log"]
/// print glob("logs/**/*.log");   // -> ["logs/a.log", "logs/old/b.log"]
/// ```
fn glob(a: &[Value]) -> RtResult<Value> {
    let pattern = expect_str(a, 0, "glob")?.as_str();
    let options = ::glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        // The crate's hidden-file filter assumes UTF-8 names (it would panic on others)
        // and hides them even from a pattern that starts with `.`: off.
        require_literal_leading_dot: false,
    };
    let paths = ::glob::glob_with(pattern, options)
        .map_err(|e| RtError::new(format!("'glob': invalid pattern \"{pattern}\": {e}")))?;
    let mut found = Vec::new();
    // Unreadable entries (`GlobError`) are skipped, as the shell skips them.
    for path in paths.flatten() {
        tick()?;
        reserve(&mut found, 1)?;
        found.push(text_of(path, "glob")?);
    }
    found.sort_by(|a, b| match (a, b) {
        (Value::Str(a), Value::Str(b)) => a.as_str().cmp(b.as_str()),
        _ => std::cmp::Ordering::Equal,
    });
    Ok(Value::list(found))
}

/// @builtin is_dir(path) -> Bool
///
/// Whether `path` is a directory (following symbolic links). `file_exists` is true for
/// directories too.
///
/// Errors: `path` is not a String.
///
/// ```walia
/// make_dir("out");
/// print [is_dir("out"), is_dir("missing")];   // -> [true, false]
/// ```
fn is_dir(a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "is_dir")?.as_str();
    Ok(Value::Bool(Path::new(path).is_dir()))
}

/// @builtin make_dir(path) -> nil
///
/// Creates the directory `path` and any missing parent, as `mkdir -p`; a directory that
/// exists already is fine.
///
/// Errors: `path` is not a String; it cannot be created (a file is in the way, no
/// permission: the message names it and gives the OS reason).
///
/// ```walia
/// make_dir("out/2024/05");
/// print is_dir("out/2024/05");   // -> true
/// ```
fn make_dir(a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 0, "make_dir")?.as_str();
    std::fs::create_dir_all(path)
        .map_err(|e| RtError::new(format!("cannot create directory '{path}': {e}")))?;
    Ok(Value::Nil)
}
