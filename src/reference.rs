//! The language reference (`docs/reference.md`, printed by `walia doc`): the operator table
//! and every builtin, generated from the builtins' `@builtin` doc comments
//! (`walia_stdlib::docs`). A test fails when the checked-in file differs from this output.

use std::fmt::Write as _;
use walia_stdlib::docs::{BuiltinDoc, GROUPS, builtin_docs, docs_for};

/// What each group of builtins covers, shown under its heading.
const GROUP_INTROS: &[(&str, &str)] = &[
    (
        "Core",
        "Conversions, types, lengths, errors and the script's arguments.",
    ),
    (
        "Numbers",
        "Arithmetic helpers and math. Each is also a method of Int and Float: `(-3).abs()`, `2.pow(10)`.",
    ),
    (
        "Text",
        "Strings are immutable UTF-8; indexes and lengths count characters. Each function whose first argument is a String is also a String method: `s.upper()`.",
    ),
    (
        "Lists",
        "Lists are mutable and shared by reference. Functions that take a list are also List methods: `xs.sorted()`.",
    ),
    (
        "Maps",
        "Maps are mutable and keep insertion order; keys are strings, ints or bools.",
    ),
    (
        "Pipes",
        "`a |> f(x)` is `f(a, x)`: any function is a stage. Lazy stages return a Stream; terminals run the pipeline in one fused pass and return a value. Each is also a method of the iterable types (`xs.map(f)`).",
    ),
    (
        "Tables",
        "Persistent tables stored natively in the heap: `db.T` is table `T`.",
    ),
    (
        "Persistence",
        "Commits, transactions and the heap's globals.",
    ),
    (
        "Files",
        "Reading and writing files. A failure is a runtime error naming the path and the OS reason.",
    ),
    ("JSON", "JSON text to values and back."),
    ("System", "The process: exit, standard input, environment."),
    ("Time", "Clocks, dates and waiting."),
    (
        "Random",
        "Pseudo-random numbers; `random_seed(n)` makes a run reproducible.",
    ),
    (
        "Regex",
        "Regular expressions (the syntax of Rust's `regex` crate).",
    ),
    ("Paths", "File-system paths and directory listings."),
    (
        "Testing",
        "Assertions, for `test` blocks (`walia test`) and for scripts.",
    ),
];

/// The operator section: precedence from lowest to highest, with what each operator does.
const OPERATORS: &str = r#"## Operators and precedence

From lowest to highest precedence; operators on one line bind equally and associate left to
right unless noted.

| level | operators | meaning |
|---:|---|---|
| 1 | `=` `+=` `-=` `*=` `/=` | assignment (right-associative); its value is the assigned value |
| 2 | `\|>` | pipe: `a \|> f(x)` is `f(a, x)` |
| 3 | `or` | short-circuit; returns the deciding operand (`nil or 5` is `5`) |
| 4 | `and` | short-circuit; returns the deciding operand |
| 5 | `==` `!=` | equality: numbers by value (`1 == 1.0`), lists and maps element-wise, other types by identity; different types are unequal |
| 6 | `<` `<=` `>` `>=` | ordering of two numbers or two strings; anything else is a runtime error |
| 7 | `\|` | bitwise or of two Ints |
| 8 | `^` | bitwise exclusive or of two Ints (powers are `pow(a, b)`) |
| 9 | `&` | bitwise and of two Ints: `x & 1 == 0` is `(x & 1) == 0`, as in Python |
| 10 | `<<` `>>` | shifts of an Int by 0 to 63 bits; `>>` keeps the sign; a `<<` that loses bits is an overflow error |
| 11 | `..` | half-open Int range: `0..3` is 0, 1, 2 |
| 12 | `+` `-` | addition, subtraction; `+` with a String on either side concatenates printed forms; `list + list` concatenates |
| 13 | `*` `/` `%` `~/` | `/` always gives a Float; `%` takes the sign of the divisor; `~/` is floored division (Python's `//`: `-7 ~/ 2` is `-4`; `//` starts a comment) |
| 14 | `!` `-` `~` | unary not, negation, bitwise not of an Int (`~x` is `-x - 1`) |
| 15 | `f(x)` `.name` `.m(x)` `[i]` `[a..b]` | call, field, method call, index (negative counts from the end), slice of a List, String or Range (`xs[1..]`, `s[..-1]`: ends may be left out, negative ends count from the end, out-of-range ends are clamped) |

Int arithmetic that overflows is a runtime error, never a wrap. Division or modulo by zero is
a runtime error. The bit operators take Ints only. Only `nil` and `false` are falsy.

```walia
print 7 / 2;             // -> 3.5
print -7 % 3;            // -> 2
print 1 + 2 * 3;         // -> 7
print "n=" + 3;          // -> n=3
print nil or "default";  // -> default
print [1, 2] + [3];      // -> [1, 2, 3]
print 7 ~/ 2;            // -> 3
print 6 & 3 | 8;         // -> 10
print 1 << 4;            // -> 16
print [1, 2, 3, 4][1..-1];  // -> [2, 3]
print "Walia"[..2];      // -> Wa
```

Statements and other syntax (`var`, `fun`, `class`, `if`, `while`, `for (k, v in m)`,
destructuring `var [a, b] = pair;`, `match`, `import "file.wal";`, `test`) are described in
[language.md](language.md).
"#;

/// The whole reference as markdown.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Walia reference\n\n\
         <!-- Generated by `walia doc` from the builtins' doc comments (stdlib/src). \
         Do not edit: run `cargo run --release -- doc > docs/reference.md`. -->\n\n\
         Every builtin of Walia, grouped by area, after the operator table. The language \
         itself (statements, classes, pipes, persistence) is described in the README's tour \
         and in [language.md](language.md). Every example here runs as a test; `// -> TEXT` \
         shows a line the example prints. In the REPL, `:help NAME` shows an entry.\n\n\
         ## Contents\n\n\
         - [Operators and precedence](#operators-and-precedence)\n",
    );
    let groups = grouped();
    for (group, docs) in &groups {
        let names: Vec<String> = docs
            .iter()
            .map(|d| format!("[`{}`](#{})", heading(d), anchor(&heading(d))))
            .collect();
        let _ = writeln!(
            out,
            "- [{group}](#{}): {}",
            anchor(group),
            names.join(" · ")
        );
    }
    out.push('\n');
    out.push_str(OPERATORS);
    for (group, docs) in &groups {
        let _ = write!(out, "\n## {group}\n\n");
        if let Some((_, intro)) = GROUP_INTROS.iter().find(|(g, _)| g == group) {
            let _ = writeln!(out, "{intro}\n");
        }
        for doc in docs {
            entry(&mut out, doc);
        }
    }
    out
}

/// The documented builtins by group, in [`GROUPS`] order (unknown groups last), each
/// group sorted by heading.
fn grouped() -> Vec<(&'static str, Vec<&'static BuiltinDoc>)> {
    let mut names: Vec<&'static str> = GROUPS.to_vec();
    for doc in builtin_docs() {
        if !names.contains(&doc.group) {
            names.push(doc.group);
        }
    }
    names
        .into_iter()
        .map(|group| {
            let mut docs: Vec<&BuiltinDoc> =
                builtin_docs().iter().filter(|d| d.group == group).collect();
            docs.sort_by_key(|d| heading(d));
            (group, docs)
        })
        .filter(|(_, docs)| !docs.is_empty())
        .collect()
}

/// An entry's heading: its first form up to the `(`, receiver included (`round`,
/// `l.sort`, `db.T.count`), so entries of one name for different types stay apart.
fn heading(doc: &BuiltinDoc) -> String {
    let first = doc.signatures.first().copied().unwrap_or_default();
    first.split('(').next().unwrap_or(first).trim().to_string()
}

/// The anchor GitHub gives a heading: lower case, spaces to `-`, other punctuation dropped.
fn anchor(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn entry(out: &mut String, doc: &BuiltinDoc) {
    let _ = write!(out, "### `{}`\n\n", heading(doc));
    for sig in doc.signatures {
        let _ = writeln!(out, "- `{sig}`");
    }
    let _ = write!(
        out,
        "\n{}\n\n```walia\n{}\n```\n\n",
        doc.text,
        doc.example.trim_end()
    );
}

/// `:help NAME` for a builtin: every entry documenting `name`, as plain text.
pub fn builtin_help(name: &str) -> Option<String> {
    let docs = docs_for(name);
    if docs.is_empty() {
        return None;
    }
    let texts: Vec<String> = docs.iter().map(|d| d.to_text()).collect();
    Some(texts.join("\n\n---\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_github() {
        assert_eq!(
            anchor("Operators and precedence"),
            "operators-and-precedence"
        );
        assert_eq!(anchor("db.T.count"), "dbtcount");
        assert_eq!(anchor("string_to_upper"), "string_to_upper");
    }
}
