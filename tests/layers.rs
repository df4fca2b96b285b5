//! The layering rules of docs/design.md ("Layers") that the compiler does not enforce by
//! itself: the heap-file crate depends on no other Walia crate and on nothing but its two
//! chosen libraries, and the stage kernels never see a script value, the VM or the heap.
//! (That stdlib/, src/ and fuzz/ use only `walia_runtime::api` is enforced by the
//! runtime's private modules.)

use std::fs;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The names in the `[dependencies]` table of a manifest.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[dependencies]";
        } else if inside && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().to_string());
        }
    }
    names
}

#[test]
fn the_store_depends_on_crc32fast_and_memmap2_only() {
    let manifest = fs::read_to_string(root().join("store/Cargo.toml")).expect("store/Cargo.toml");
    let mut deps = dependencies(&manifest);
    deps.sort();
    assert_eq!(deps, ["crc32fast", "memmap2"], "walia-store's dependencies");
}

/// Every `.rs` file below `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).expect("read source");
                out.push((path.display().to_string(), text));
            }
        }
    }
    out
}

#[test]
fn the_store_never_names_the_runtime() {
    for (path, text) in sources(&root().join("store/src")) {
        assert!(
            !text.contains("walia_runtime"),
            "{path} names walia_runtime"
        );
    }
}

#[test]
fn kernels_use_only_kernel_and_arith_code() {
    for (path, text) in sources(&root().join("runtime/src/kernel")) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + "crate::".len()..];
                assert!(
                    after.starts_with("kernel") || after.starts_with("arith"),
                    "{path}:{}: a kernel reaches outside kernel/ and arith.rs: {}",
                    n + 1,
                    line.trim()
                );
                rest = after;
            }
        }
    }
}
