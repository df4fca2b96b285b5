//! The command lines README.md shows (`cargo run --release -- ARGS` and `walia ARGS`) name
//! files that exist from the repository root, and those that run an example run there.
//! (tests/docs_examples.rs runs the README's ```walia and ```console blocks; these are the
//! commands in ```sh blocks and in the prose.)

use std::path::Path;
use std::process::Command;

const CARGO_RUN: &str = "cargo run --release -- ";

/// The argument words of every `cargo run --release -- ...` in the README, up to the end of
/// the code span or a `#` comment.
fn cargo_run_commands(readme: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    for line in readme.lines() {
        let mut rest = line;
        while let Some(at) = rest.find(CARGO_RUN) {
            let after = &rest[at + CARGO_RUN.len()..];
            let end = after.find(['`', '#']).unwrap_or(after.len());
            let words: Vec<String> = after[..end].split_whitespace().map(String::from).collect();
            commands.push(words);
            rest = &after[end..];
        }
    }
    commands
}

/// Words of the README's ```sh lines that start with `walia `.
fn walia_lines(readme: &str) -> Vec<Vec<String>> {
    let mut in_sh = false;
    let mut commands = Vec::new();
    for line in readme.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_sh = trimmed == "```sh";
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("walia ").filter(|_| in_sh) {
            let end = rest.find('#').unwrap_or(rest.len());
            commands.push(rest[..end].split_whitespace().map(String::from).collect());
        }
    }
    commands
}

/// A word that names a file of the repository: a relative path with a directory.
fn repository_path(word: &str) -> Option<&str> {
    let relative = !word.starts_with(['/', '~', '$', '<', '>', '-', '\'', '"']);
    (relative && word.contains('/') && !word.contains("://")).then_some(word)
}

#[test]
fn readme_commands_name_files_that_exist_from_the_repository_root() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("read README.md");
    let commands: Vec<Vec<String>> = cargo_run_commands(&readme)
        .into_iter()
        .chain(walia_lines(&readme))
        .collect();
    assert!(commands.len() > 10, "found only {commands:?}");
    let mut missing = Vec::new();
    for words in &commands {
        for path in words.iter().filter_map(|w| repository_path(w)) {
            if !root.join(path).exists() {
                missing.push(format!("{path} (in `{}`)", words.join(" ")));
            }
        }
    }
    assert!(missing.is_empty(), "README paths missing: {missing:#?}");
}

/// Examples whose run takes seconds: compiled (`walia check`) but not run here.
const SLOW_EXAMPLES: &[&str] = &["examples/bulk_updater.wal"];

#[test]
fn readme_example_runs_work_from_the_repository_root() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("read README.md");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut ran = 0;
    for words in cargo_run_commands(&readme) {
        let Some(script) = words
            .iter()
            .find(|w| w.starts_with("examples/") && w.ends_with(".wal"))
        else {
            continue;
        };
        // The heap goes to a temporary file, never the repository.
        let heap = tmp.path().join(format!("h{ran}.wld"));
        let mut args: Vec<String> = Vec::new();
        let mut words_left = words.iter();
        while let Some(word) = words_left.next() {
            if word == "--heap" {
                words_left.next();
                continue;
            }
            args.push(word.clone());
        }
        let args = if SLOW_EXAMPLES.contains(&script.as_str()) {
            vec!["check".to_string(), script.clone()]
        } else {
            let mut with_heap = vec!["--heap".to_string(), heap.display().to_string()];
            with_heap.extend(args);
            with_heap
        };
        let out = Command::new(env!("CARGO_BIN_EXE_walia"))
            .args(&args)
            .current_dir(root)
            .env_remove("WALIA_HEAP")
            .output()
            .expect("run walia");
        assert!(
            out.status.success(),
            "walia {} from the repository root failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} README commands ran an example");
}
