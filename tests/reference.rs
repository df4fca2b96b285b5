//! docs/reference.md is generated from the builtins' `@builtin` doc comments: it must be
//! current, and every builtin the interpreter registers must have an entry. (Its examples
//! run in tests/docs_examples.rs.)

use walia::Engine;
use walia_stdlib::docs::{GROUPS, builtin_docs};

/// The types whose methods the stdlib registers (as `type_of` spells them).
const TYPES_WITH_METHODS: &[&str] = &[
    "String", "List", "Map", "Range", "Stream", "Table", "Int", "Float", "Bool", "Function", "Row",
    "Instance", "Nil", "Class",
];

#[test]
fn the_checked_in_reference_is_current() {
    let generated = walia::reference::reference_markdown();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    if on_disk != generated {
        let line = on_disk
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || on_disk.lines().count().min(generated.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "docs/reference.md is stale (first difference at line {line}): \
             run `cargo run --release -- doc > docs/reference.md`"
        );
    }
}

#[test]
fn every_registered_builtin_is_documented() {
    let documented: Vec<&str> = builtin_docs()
        .iter()
        .flat_map(|d| d.names.iter().copied())
        .collect();
    let mut engine = Engine::new();
    let mut missing = Vec::new();
    for name in engine.globals() {
        let builtin = engine
            .get_value(&name)
            .is_some_and(|v| v.to_string() == format!("<builtin {name}>"));
        if builtin && !documented.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    for ty in TYPES_WITH_METHODS {
        for name in engine.method_names(ty) {
            if !documented.contains(&name.as_str()) {
                missing.push(format!("{ty}.{name}"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "builtins without an `@builtin` doc comment ({}): {}",
        missing.len(),
        missing.join(", ")
    );
}

#[test]
fn every_entry_belongs_to_a_known_group_and_shows_its_errors() {
    for doc in builtin_docs() {
        assert!(
            GROUPS.contains(&doc.group),
            "{}: unknown group '{}' (the groups: {})",
            doc.origin,
            doc.group,
            GROUPS.join(", ")
        );
    }
}

#[test]
fn walia_doc_prints_the_reference_and_one_entry() {
    let walia = env!("CARGO_BIN_EXE_walia");
    let out = std::process::Command::new(walia)
        .arg("doc")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        walia::reference::reference_markdown()
    );
    let out = std::process::Command::new(walia)
        .args(["doc", "no_such_builtin_zz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no builtin 'no_such_builtin_zz'"));
    if let Some(doc) = builtin_docs().first() {
        let name = doc.names[0];
        let out = std::process::Command::new(walia)
            .args(["doc", name])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(doc.signatures[0]), "{text}");
        assert!(text.contains("Example:"), "{text}");
    }
}
