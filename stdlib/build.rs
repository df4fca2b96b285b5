//! Generates the builtins' reference data from the `@builtin` doc comments of `src/`
//! (format: src/doc_comments.rs). A malformed block fails the build with its file and line.

#[path = "src/doc_comments.rs"]
#[allow(dead_code)]
mod doc_comments;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut files = Vec::new();
    collect_sources(Path::new("src"), &mut files);
    files.sort();
    // The format's own unit tests hold sample blocks in strings.
    files.retain(|f| !f.ends_with("doc_comments.rs"));
    let mut out = String::from("pub static BUILTIN_DOCS: &[BuiltinDoc] = &[\n");
    let mut problems = Vec::new();
    for file in &files {
        let source = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        let name = file
            .strip_prefix("src")
            .unwrap_or(file)
            .display()
            .to_string();
        let name = name.trim_start_matches('/');
        match doc_comments::extract(name, &source) {
            Ok(blocks) => {
                for b in blocks {
                    let _ = writeln!(
                        out,
                        "    BuiltinDoc {{ group: {:?}, signatures: &{:?}, names: &{:?}, text: {:?}, example: {:?}, origin: {:?} }},",
                        b.group, b.signatures, b.names, b.text, b.example, b.origin
                    );
                }
            }
            Err(e) => problems.push(e),
        }
    }
    out.push_str("];\n");
    if !problems.is_empty() {
        // A build script reports by failing: each problem names the file and line.
        panic!("malformed @builtin doc comments:\n{}", problems.join("\n"));
    }
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("builtin_docs.rs");
    if let Err(e) = std::fs::write(&target, out) {
        panic!("cannot write {}: {e}", target.display());
    }
}

fn collect_sources(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_sources(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}
