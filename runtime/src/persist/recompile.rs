//! Stored code back to bytecode. A function or class reaches the heap as its source text
//! plus the names of the variables it captured (DESIGN decision 4); here that text is
//! compiled again inside a small wrapper that declares those names, so the resolver gives
//! the function the same upvalues it had, which the loader then binds to the stored cells.

use crate::bytecode::{ClassDesc, Proto, SourceFile};
use crate::compiler::compile;
use std::rc::Rc;
use std::sync::Arc;
use walia_lang::ast::Span;
use walia_lang::lexer::{Token, lex};
use walia_lang::resolve::GlobalNames;

/// The slice of a source file a span covers.
pub fn span_text(source: &SourceFile, span: Span) -> &str {
    source
        .text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("")
}

/// A class declaration's body (from its `{`), for storing with the class.
pub fn class_body(decl: &str) -> &str {
    let lexed = lex(decl);
    let at = lexed
        .tokens
        .iter()
        .find(|(t, _)| matches!(t, Token::LBrace))
        .map_or(decl.len(), |(_, s)| s.start as usize);
    decl.get(at..).unwrap_or("")
}

/// A named `fun NAME(...)` made anonymous (the name is restored on the proto), so it can
/// stand as an expression. Lambdas and anonymous functions pass through unchanged.
fn anonymous(source: &str) -> String {
    let lexed = lex(source);
    let mut text = source.to_string();
    if let [
        (Token::Fun, _),
        (Token::Ident(_), name),
        (Token::LParen, _),
        ..,
    ] = lexed.tokens.as_slice()
    {
        let (a, b) = (name.start as usize, name.end as usize);
        text.replace_range(a..b, &" ".repeat(b - a));
    }
    text
}

/// The wrapper's parameter list: the captured names (`this` comes with the method).
fn params(extra: Option<&str>, captures: &[&str]) -> String {
    extra
        .into_iter()
        .chain(captures.iter().copied().filter(|n| *n != "this"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn compile_wrapper(
    names: &mut GlobalNames,
    label: &str,
    text: String,
) -> Result<Rc<Proto>, String> {
    let known = |_: &str| true;
    let (program, diagnostics) = walia_lang::resolve::parse_and_resolve(&text, names, &known);
    if let Some(d) = diagnostics.first() {
        return Err(format!(
            "stored code of {label} no longer compiles: {}",
            d.message
        ));
    }
    let file = Arc::new(SourceFile {
        name: format!("<stored {label}>"),
        text,
    });
    let script = compile(&program, file).script;
    let env = script
        .classes
        .first()
        .and_then(|c| c.methods.first())
        .and_then(|(_, idx)| script.protos.get(*idx as usize))
        .cloned();
    env.ok_or_else(|| format!("stored code of {label} did not compile to a function"))
}

/// Recompile a stored function or lambda.
pub fn function(
    names: &mut GlobalNames,
    label: &str,
    source: &str,
    captures: &[&str],
) -> Result<Proto, String> {
    let text = format!(
        "class __WaliaHome < __walia_base {{ fun __walia_env({}) {{ return {}\n; }} }}",
        params(None, captures),
        anonymous(source)
    );
    let env = compile_wrapper(names, label, text)?;
    match env.protos.first() {
        Some(p) => Ok((**p).clone()),
        None => Err(format!("stored code of {label} is not a function")),
    }
}

/// Recompile a stored class: its description and the protos its indices refer to.
pub fn class(
    names: &mut GlobalNames,
    name: &str,
    has_super: bool,
    body: &str,
    captures: &[&str],
) -> Result<(ClassDesc, Rc<Proto>), String> {
    // The class is compiled under a placeholder name: inside its methods its real name
    // then means what it meant originally, the global (or, for a class declared inside a
    // function, the captured variable, which is among the wrapper's parameters).
    let text = format!(
        "class __WaliaHome < __walia_base {{ fun __walia_env({}) {{ class __WaliaStored{} {body}\n }} }}",
        params(Some("__walia_super"), captures),
        if has_super { " < __walia_super" } else { "" },
    );
    let label = format!("class {name}");
    let env = compile_wrapper(names, &label, text)?;
    match env.classes.first() {
        Some(desc) => {
            let mut desc = desc.clone();
            desc.name = name.into();
            Ok((desc, env))
        }
        None => Err(format!("stored code of {label} is not a class")),
    }
}
