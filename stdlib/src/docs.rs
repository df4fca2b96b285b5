//! The builtins' documentation, read from their `@builtin` doc comments at build time
//! (stdlib/build.rs, format in doc_comments.rs). `walia doc` renders it as the reference and
//! the REPL's `:help NAME` shows one entry.

/// One builtin's documentation.
#[derive(Debug)]
pub struct BuiltinDoc {
    /// The reference section: `Text`, `Lists`...
    pub group: &'static str,
    /// Each form with its result: `round(x [, digits]) -> Int | Float`.
    pub signatures: &'static [&'static str],
    /// The names the forms define.
    pub names: &'static [&'static str],
    /// Markdown: what it does, its decisions, its errors.
    pub text: &'static str,
    /// A Walia program; `// -> TEXT` comments give its output.
    pub example: &'static str,
    /// The source file and line of the doc comment.
    pub origin: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/builtin_docs.rs"));

/// The reference's sections, in the order it shows them.
pub const GROUPS: &[&str] = &[
    "Core",
    "Numbers",
    "Text",
    "Lists",
    "Maps",
    "Pipes",
    "Tables",
    "Persistence",
    "Files",
    "JSON",
    "System",
    "Time",
    "Random",
    "Regex",
    "Paths",
    "Testing",
];

/// Every documented builtin, in source order.
pub fn builtin_docs() -> &'static [BuiltinDoc] {
    BUILTIN_DOCS
}

/// The entries that document `name` (a name may be a function and several types' methods,
/// like `get`).
pub fn docs_for(name: &str) -> Vec<&'static BuiltinDoc> {
    BUILTIN_DOCS
        .iter()
        .filter(|d| d.names.contains(&name))
        .collect()
}

impl BuiltinDoc {
    /// The entry as plain text for a terminal: the forms, the text, the example.
    pub fn to_text(&self) -> String {
        let mut out = self.signatures.join("\n");
        out.push_str("\n\n");
        out.push_str(self.text);
        out.push_str("\n\nExample:\n");
        for line in self.example.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        out.truncate(out.trim_end().len());
        out
    }
}
