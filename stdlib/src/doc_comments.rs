//! Reads the `@builtin` doc comments out of the stdlib's Rust sources. The build script
//! includes this file to generate the reference's data (`builtin_docs.rs` in `OUT_DIR`), and
//! the crate's unit tests include it too, so the format is tested like any other code.
//!
//! A doc block describes one builtin:
//!
//! ```text
//! /// @builtin round(x [, digits]) -> Int | Float
//! /// @builtin n.round([digits]) -> Int | Float
//! ///
//! /// Markdown text, then a line `Errors: ...`.
//! ///
//! /// ```walia
//! /// print round(2.5); // -> 3
//! /// ```
//! ```
//!
//! Its group is the file's (`//! @group Text`) unless the block names one (`/// @group X`).
//! Other `///` comments are ordinary Rust documentation and are skipped.

/// One builtin's documentation as written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocBlock {
    /// The reference section it belongs to.
    pub group: String,
    /// Each form: `round(x [, digits]) -> Int | Float`, `n.round([digits]) -> ...`.
    pub signatures: Vec<String>,
    /// The names the forms define (`round`), in order, without repeats.
    pub names: Vec<String>,
    /// The markdown between the signatures and the example.
    pub text: String,
    /// The code of the ```walia example.
    pub example: String,
    /// Where the block starts, for error messages: `strings.rs:42`.
    pub origin: String,
}

/// The name a signature defines: the identifier just before `(` (after any receiver such as
/// `s.` or `db.T.`), or the whole signature when it has no parentheses.
pub fn signature_name(signature: &str) -> Option<&str> {
    let head = signature.split('(').next()?.trim();
    let name = head.rsplit('.').next()?.trim();
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then_some(name)
}

/// Every `@builtin` block of one source file, in order. `file` names the file in errors.
pub fn extract(file: &str, source: &str) -> Result<Vec<DocBlock>, String> {
    let mut file_group: Option<String> = None;
    let mut blocks = Vec::new();
    let mut pending: Vec<(usize, &str)> = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(group) = trimmed.strip_prefix("//! @group ") {
            file_group = Some(group.trim().to_string());
        }
        if let Some(doc) = trimmed.strip_prefix("///") {
            pending.push((index + 1, doc.strip_prefix(' ').unwrap_or(doc)));
            continue;
        }
        if !pending.is_empty() {
            let lines = std::mem::take(&mut pending);
            if let Some(block) = parse_block(file, file_group.as_deref(), &lines)? {
                blocks.push(block);
            }
        }
    }
    if !pending.is_empty()
        && let Some(block) = parse_block(file, file_group.as_deref(), &pending)?
    {
        blocks.push(block);
    }
    Ok(blocks)
}

/// One `///` block (line number, text after `/// `): `None` when it is not a builtin's.
fn parse_block(
    file: &str,
    file_group: Option<&str>,
    lines: &[(usize, &str)],
) -> Result<Option<DocBlock>, String> {
    let Some(&(first_line, first)) = lines.first() else {
        return Ok(None);
    };
    if !first.starts_with("@builtin ") {
        return Ok(None);
    }
    let origin = format!("{file}:{first_line}");
    let fail = |what: &str| Err(format!("{origin}: {what}"));
    let mut signatures = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut group = file_group.map(str::to_string);
    let mut rest = lines;
    while let Some((&(_, line), tail)) = rest.split_first() {
        if let Some(sig) = line.strip_prefix("@builtin ") {
            let sig = sig.trim();
            let Some(name) = signature_name(sig) else {
                return fail(&format!("no builtin name in the signature `{sig}`"));
            };
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            signatures.push(sig.to_string());
        } else if let Some(g) = line.strip_prefix("@group ") {
            group = Some(g.trim().to_string());
        } else {
            break;
        }
        rest = tail;
    }
    let Some(group) = group else {
        return fail("no group: add `//! @group NAME` to the file or `/// @group NAME`");
    };
    let body: Vec<&str> = rest.iter().map(|&(_, l)| l).collect();
    let Some(open) = body.iter().position(|l| l.trim() == "```walia") else {
        return fail("no ```walia example");
    };
    let Some(len) = body[open + 1..].iter().position(|l| l.trim() == "```") else {
        return fail("the ```walia example is not closed");
    };
    let close = open + 1 + len;
    let after = &body[close + 1..];
    if after.iter().any(|l| !l.trim().is_empty()) {
        return fail("text after the example: the example must come last");
    }
    let text = body[..open].join("\n").trim().to_string();
    if text.is_empty() {
        return fail("no text between the signatures and the example");
    }
    let example = body[open + 1..close].join("\n");
    if example.trim().is_empty() {
        return fail("the example is empty");
    }
    Ok(Some(DocBlock {
        group,
        signatures,
        names,
        text,
        example,
        origin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"//! Strings.
//! @group Text

/// An internal helper: not a builtin.
fn helper() {}

/// @builtin upper(s) -> String
/// @builtin s.upper() -> String
/// @builtin string_to_upper(s) -> String
///
/// Upper case, Unicode-aware.
///
/// Errors: `s` is not a String.
///
/// ```walia
/// print upper("ß"); // -> SS
/// ```
fn upper() {}

    /// @builtin db.T.count() -> Int
    /// @group Tables
    ///
    /// The row count.
    ///
    /// ```walia
    /// print 1;
    /// ```
    fn count() {}
"#;

    #[test]
    fn reads_each_builtin_block_and_skips_other_comments() {
        let blocks = extract("strings.rs", SOURCE).unwrap();
        assert_eq!(blocks.len(), 2);
        let upper = &blocks[0];
        assert_eq!(upper.group, "Text");
        assert_eq!(upper.names, ["upper", "string_to_upper"]);
        assert_eq!(upper.signatures[1], "s.upper() -> String");
        assert_eq!(
            upper.text,
            "Upper case, Unicode-aware.\n\nErrors: `s` is not a String."
        );
        assert_eq!(upper.example, "print upper(\"ß\"); // -> SS");
        assert_eq!(upper.origin, "strings.rs:7");
        assert_eq!(blocks[1].group, "Tables");
        assert_eq!(blocks[1].names, ["count"]);
    }

    #[test]
    fn a_block_without_example_or_group_is_an_error_naming_its_line() {
        let no_example = "//! @group Text\n/// @builtin f(x) -> Int\n///\n/// Text.\nfn f() {}\n";
        let err = extract("a.rs", no_example).unwrap_err();
        assert!(err.starts_with("a.rs:2: no ```walia example"), "{err}");
        let no_group = "/// @builtin f(x) -> Int\n///\n/// T.\n/// ```walia\n/// 1;\n/// ```\n";
        assert!(extract("b.rs", no_group).unwrap_err().contains("no group"));
        let trailing = "//! @group T\n/// @builtin f()\n///\n/// T.\n/// ```walia\n/// 1;\n/// ```\n/// More.\n";
        assert!(
            extract("c.rs", trailing)
                .unwrap_err()
                .contains("must come last")
        );
    }

    #[test]
    fn signature_names() {
        assert_eq!(signature_name("round(x) -> Int"), Some("round"));
        assert_eq!(signature_name("db.T.count() -> Int"), Some("count"));
        assert_eq!(signature_name("l.sort([f]) -> nil"), Some("sort"));
        assert_eq!(signature_name("db"), Some("db"));
        assert_eq!(signature_name("(x) -> Int"), None);
    }
}
