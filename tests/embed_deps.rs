//! An embedder depends on `walia` with default features off and gets the Engine alone:
//! none of the command-line tool's crates (argument parsing, line editing, progress bars,
//! its allocator's C build, signal handling) nor the code generator.

use std::process::Command;

#[test]
fn the_library_without_default_features_has_no_cli_dependencies() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "walia",
            "--no-default-features",
            "-e",
            "normal",
        ])
        .args(["--offline", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        other => {
            eprintln!("skipping: `cargo tree` did not run: {other:?}");
            return;
        }
    };
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("walia-runtime"), "{tree}");
    for cli_only in [
        "clap",
        "rustyline",
        "indicatif",
        "mimalloc",
        "ctrlc",
        "cranelift",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(cli_only)),
            "{cli_only} is in the library's dependencies:\n{tree}"
        );
    }
}
