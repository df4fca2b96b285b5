//! Parse and resolve together, reporting every error of a file.

use crate::ast::Program;
use crate::diagnostic::Diagnostic;
use crate::parser::ParseMode;
use crate::resolve::{GlobalNames, KnownGlobals, resolve};

/// Parse and resolve a script: every syntax error and every name error, in source order.
pub fn parse_and_resolve(
    src: &str,
    globals: &mut GlobalNames,
    known: &dyn KnownGlobals,
) -> (Program, Vec<Diagnostic>) {
    parse_and_resolve_with(src, ParseMode::Script, globals, known)
}

/// Parse `src` read as `mode` and resolve it: every syntax error and every name error, in
/// source order.
///
/// When the parse failed, the resolver still runs over what was parsed, so a file with a
/// syntax error and an undeclared name reports both. An undeclared name that also appears
/// earlier in the file is not reported then: it may have been declared in the broken part.
pub fn parse_and_resolve_with(
    src: &str,
    mode: ParseMode,
    globals: &mut GlobalNames,
    known: &dyn KnownGlobals,
) -> (Program, Vec<Diagnostic>) {
    let (mut program, mut diags) = crate::parse_with(src, mode);
    let syntax_errors = !diags.is_empty();
    let names = resolve(&mut program, src, globals, known);
    for d in names {
        if syntax_errors && d.label == "not declared" {
            let span = d.span.range();
            let name = src.get(span.clone()).unwrap_or("");
            if appears_before(src, name, span.start) {
                continue;
            }
        }
        diags.push(d);
    }
    diags.sort_by_key(|d| d.span.start);
    (program, diags)
}

/// Does `name` occur as a whole word in `src` before byte `end`?
fn appears_before(src: &str, name: &str, end: usize) -> bool {
    if name.is_empty() {
        return false;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let head = src.get(..end).unwrap_or("");
    head.match_indices(name).any(|(i, _)| {
        let before = head[..i].chars().next_back();
        let after = src[i + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}
