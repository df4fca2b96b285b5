//! [`ParseMode::Input`]: text typed at the REPL or handed to `Engine::eval` is read as one
//! expression when it is one, as the node REPL does, so `{a: 1}` is a map literal there
//! (a script reads a `{` that starts a statement as a block, SPEC §15).

use super::{Fail, Parser};
use crate::ast::{Program, Stmt, StmtKind};
use crate::diagnostic::Diagnostic;
use crate::lexer::Token;

/// How [`super::parse_with`] reads a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseMode {
    /// A script: a list of statements.
    Script,
    /// An input: one expression, optionally followed by `;`, when the whole text parses as
    /// one; otherwise a script.
    Input,
}

/// Why the text is not read as a single expression.
pub(super) enum NotOne {
    /// It is not one expression (more follows one, it has lexical errors, it is empty):
    /// read it as a script.
    Script,
    /// It fails as an expression with these diagnostics (kept in case the script reading
    /// fails sooner).
    Failed(Vec<Diagnostic>),
}

impl Parser<'_> {
    /// The whole text as one expression statement.
    pub(super) fn run_input(mut self) -> Result<(Program, Vec<Diagnostic>), NotOne> {
        if !self.lex_diags.is_empty() || self.at_eof() {
            return Err(NotOne::Script);
        }
        let start = self.span();
        let expr = match self.parse_expr() {
            Ok(expr) if self.diags.is_empty() => expr,
            Ok(_) | Err(Fail) => {
                self.diags.sort_by_key(|d| d.span.start);
                return Err(NotOne::Failed(self.diags));
            }
        };
        let semicolon = self.eat(&Token::Semi);
        if !self.at_eof() {
            return Err(NotOne::Script);
        }
        let span = start.to(self.prev_span());
        let stmt = Stmt {
            kind: StmtKind::Expr { expr, semicolon },
            span,
        };
        let program = Program {
            stmts: vec![stmt],
            info: Default::default(),
        };
        Ok((program, Vec::new()))
    }
}

/// Of two failed readings of an input, the one to report: the script's, unless the
/// expression reading got further before its first error (`{a: 1, b: }` is a broken map,
/// not a block with a stray `:`).
pub(super) fn better_failure(
    script: (Program, Vec<Diagnostic>),
    expression: Vec<Diagnostic>,
) -> (Program, Vec<Diagnostic>) {
    let first = |d: &[Diagnostic]| d.first().map_or(0, |d| d.span.start);
    if script.1.is_empty() || first(&expression) <= first(&script.1) {
        return script;
    }
    let empty = Program {
        stmts: Vec::new(),
        info: Default::default(),
    };
    // The script reading's partial program would add name errors of a misread text.
    (empty, expression)
}
