//! The Walia parser: a hand-written recursive-descent parser (precedence climbing for binary
//! operators) over the tokens of [`crate::lexer`].
//!
//! [`parse`] always returns a [`Program`] (partial when there were errors) and every error it
//! found. Recovery is statement-level: after an error the parser skips to the end of the
//! broken statement (bracket-aware) and carries on, so one mistake gives one diagnostic.
//!
//! Depth safety: a pre-scan rejects more than [`MAX_NESTING`] open brackets; while parsing, a
//! counter bounds how deeply expressions and statements nest (operator chains, lambdas,
//! `else if` chains, ...) to [`MAX_DEPTH`], so the AST handed to later passes has a bounded
//! depth. Large inputs are parsed on a thread with a big stack.

mod expr;
mod habits;
mod input;
#[cfg(test)]
mod input_tests;
mod stmt;
#[cfg(test)]
mod tests;

use crate::ast::{Program, Span};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Lexed, Token, lex};
use input::{NotOne, better_failure};
use std::collections::HashMap;

pub use input::ParseMode;

/// Most brackets (`(`, `[`, `{` together) that may be open at once.
pub const MAX_NESTING: usize = 256;
/// Most levels the parser descends into nested expressions and statements (counting
/// operator chains, prefix operators, lambdas and `else if` chains as well as brackets).
/// The AST's depth is bounded by a small multiple of this.
pub const MAX_DEPTH: u32 = 5000;
/// Most arguments of a call or parameters of a function.
pub const MAX_ARGS: usize = 65_535;

/// Inputs with fewer tokens are parsed on the calling thread; longer ones on a thread with a
/// large stack (deep nesting recurses).
const INLINE_TOKENS: usize = 64;
const PARSER_STACK: usize = 64 << 20;

/// Parses a whole source text. Never panics; an empty diagnostic list means success.
pub fn parse(src: &str) -> (Program, Vec<Diagnostic>) {
    parse_with(src, ParseMode::Script)
}

/// Parses a text read as `mode` (see [`ParseMode`]). Never panics; an empty diagnostic list
/// means success.
pub fn parse_with(src: &str, mode: ParseMode) -> (Program, Vec<Diagnostic>) {
    let empty = Program {
        stmts: Vec::new(),
        info: Default::default(),
    };
    if src.len() >= u32::MAX as usize {
        return (
            empty,
            vec![Diagnostic::new(
                "source text too large (4 GiB or more)",
                Span::new(0, 0),
            )],
        );
    }
    let lexed = lex(src);
    if let Some(d) = check_nesting(&lexed.tokens) {
        let mut diags = lexed.diags;
        diags.push(d);
        diags.sort_by_key(|d| d.span.start);
        return (empty, diags);
    }
    if lexed.tokens.len() < INLINE_TOKENS {
        return parse_lexed(lexed, src, mode);
    }
    let outcome = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("walia-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, move || parse_lexed(lexed, src, mode));
        match handle {
            Ok(h) => Some(h.join()),
            Err(_) => None,
        }
    });
    match outcome {
        Some(Ok(result)) => result,
        Some(Err(_)) => (
            empty,
            vec![Diagnostic::new(
                "internal error: the parser crashed",
                Span::new(0, 0),
            )],
        ),
        // No thread available: parse here.
        None => parse_lexed(lex(src), src, mode),
    }
}

/// Parse the tokens of `src` as `mode`.
fn parse_lexed(lexed: Lexed<'_>, src: &str, mode: ParseMode) -> (Program, Vec<Diagnostic>) {
    match mode {
        ParseMode::Script => Parser::new(lexed).run(),
        ParseMode::Input => match Parser::new(lexed).run_input() {
            Ok(parsed) => parsed,
            Err(NotOne::Script) => Parser::new(lex(src)).run(),
            Err(NotOne::Failed(diags)) => better_failure(Parser::new(lex(src)).run(), diags),
        },
    }
}

/// The first opening bracket that makes more than [`MAX_NESTING`] brackets open at once.
fn check_nesting(tokens: &[(Token<'_>, Span)]) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (tok, span) in tokens {
        match tok {
            Token::LParen | Token::LBracket | Token::LBrace => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::new(
                            format!("nesting too deep: more than {MAX_NESTING} levels"),
                            *span,
                        )
                        .with_label("this bracket is too deeply nested"),
                    );
                }
            }
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// A parse failure whose diagnostic has already been recorded.
#[derive(Debug)]
pub(crate) struct Fail;
pub(crate) type PResult<T> = Result<T, Fail>;

pub(crate) struct Parser<'s> {
    toks: Vec<(Token<'s>, Span)>,
    eof: (Token<'s>, Span),
    docs: HashMap<usize, String>,
    pos: usize,
    lex_diags: Vec<Diagnostic>,
    diags: Vec<Diagnostic>,
    /// Current nesting depth (see [`MAX_DEPTH`]).
    depth: u32,
    /// The depth limit was hit: stop parsing.
    fatal: bool,
    /// Inside a match guard: `x =>` and `(x) =>` are not lambdas at this level.
    no_lambda: bool,
    /// Directly inside `[...]` after an expression: `a..]` is an open-ended slice.
    open_range_ok: bool,
    /// Span of the most recently parsed parenthesized expression (to reject `(x) = 1`).
    last_group: Option<Span>,
    /// The lexer reported an unterminated string or comment: errors at the end of the input
    /// are consequences of it.
    suppress_eof: bool,
    /// See [`Lexed::code_comments`].
    code_comments: Vec<u32>,
}

impl<'s> Parser<'s> {
    fn new(lexed: Lexed<'s>) -> Parser<'s> {
        let eof_span = lexed.tokens.last().map(|t| t.1).unwrap_or_default();
        Parser {
            toks: lexed.tokens,
            eof: (Token::Eof, eof_span),
            docs: lexed.docs,
            pos: 0,
            lex_diags: lexed.diags,
            diags: Vec::new(),
            depth: 0,
            fatal: false,
            no_lambda: false,
            open_range_ok: false,
            last_group: None,
            suppress_eof: lexed.unterminated,
            code_comments: lexed.code_comments,
        }
    }

    fn run(mut self) -> (Program, Vec<Diagnostic>) {
        let stmts = self.stmt_list(false);
        let mut diags = self.lex_diags;
        diags.append(&mut self.diags);
        diags.sort_by_key(|d| d.span.start);
        (
            Program {
                stmts,
                info: Default::default(),
            },
            diags,
        )
    }

    // ---- token access ----------------------------------------------------------------

    fn tok_at(&self, i: usize) -> &(Token<'s>, Span) {
        self.toks.get(i).unwrap_or(&self.eof)
    }

    fn peek(&self) -> &Token<'s> {
        &self.tok_at(self.pos).0
    }

    fn peek_at(&self, n: usize) -> &Token<'s> {
        &self.tok_at(self.pos.saturating_add(n)).0
    }

    fn span(&self) -> Span {
        self.tok_at(self.pos).1
    }

    /// Span of the token before the current one.
    fn prev_span(&self) -> Span {
        match self.pos.checked_sub(1) {
            Some(i) => self.tok_at(i).1,
            None => Span::new(0, 0),
        }
    }

    fn prev_tok(&self) -> Option<&Token<'s>> {
        self.pos.checked_sub(1).map(|i| &self.tok_at(i).0)
    }

    fn at(&self, t: &Token<'_>) -> bool {
        self.peek() == t
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), Token::Eof)
    }

    /// Advances and returns the span of the consumed token.
    fn bump(&mut self) -> Span {
        let span = self.span();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        span
    }

    fn eat(&mut self, t: &Token<'_>) -> bool {
        if self.at(t) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Consumes `t` or reports "expected `what`, found ...".
    fn expect(&mut self, t: &Token<'_>, what: &str) -> PResult<Span> {
        if self.at(t) {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    /// Takes the decoded text of the current string token (which must be a `Str`).
    fn take_str(&mut self) -> String {
        let text = match self.toks.get_mut(self.pos) {
            Some((Token::Str(s), _)) => std::mem::take(s),
            _ => String::new(),
        };
        self.bump();
        text
    }

    // ---- diagnostics ---------------------------------------------------------------

    fn push_diag(&mut self, d: Diagnostic) {
        if self.fatal {
            return;
        }
        if self
            .diags
            .last()
            .is_some_and(|l| l.span.start == d.span.start)
        {
            return;
        }
        self.diags.push(d);
    }

    fn error(&mut self, msg: impl Into<String>, span: Span) {
        self.push_diag(Diagnostic::new(msg, span));
    }

    /// Does the current token stand for an error reported already (a lexer error, or the
    /// end of an input whose end was reported)?
    fn current_already_reported(&self) -> bool {
        match self.tok_at(self.pos).0 {
            Token::Error => true,
            Token::Eof => self.suppress_eof,
            _ => false,
        }
    }

    /// Reports "expected `what`, found <current token>" (unless the current token stands
    /// for an error already reported) and returns the failure marker.
    fn expected(&mut self, what: &str) -> Fail {
        let skip = self.current_already_reported();
        let (tok, span) = self.tok_at(self.pos);
        let span = *span;
        if let Some(d) = self.foreign_keyword() {
            self.push_diag(d);
        } else if !skip {
            let msg = format!("expected {what}, found {tok}");
            let mut d = Diagnostic::new(msg, span).with_label(format!("expected {what}"));
            if let Some(hint) = self.habit_hint() {
                d = d.with_hint(hint);
            }
            self.push_diag(d);
        }
        Fail
    }

    /// Reports a missing `;` just after the previous token, where it belongs (the token
    /// found may be on the next line).
    fn missing_semicolon(&mut self) -> Fail {
        let skip = self.current_already_reported();
        let (tok, _) = self.tok_at(self.pos);
        if let Some(d) = self.foreign_keyword() {
            self.push_diag(d);
        } else if !skip {
            let end = self.prev_span().end as usize;
            let msg = format!("expected ';', found {tok}");
            let mut d = Diagnostic::new(msg, Span::new(end, end)).with_label("add `;` here");
            if let Some(hint) = self.habit_hint() {
                d = d.with_hint(hint);
            }
            self.push_diag(d);
        }
        Fail
    }

    fn too_deep(&mut self) -> Fail {
        if !self.fatal {
            let span = self.span();
            self.diags.push(
                Diagnostic::new(
                    format!(
                        "nesting too deep: more than {MAX_DEPTH} levels of nested expressions or statements"
                    ),
                    span,
                )
                .with_label("too deeply nested here"),
            );
            self.fatal = true;
        }
        Fail
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.fatal {
            return Err(Fail);
        }
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Adds `n` levels for an operator chain being built; returns the previous depth.
    fn deepen(&mut self, n: u32) -> PResult<u32> {
        let old = self.depth;
        if self.fatal {
            return Err(Fail);
        }
        if old.saturating_add(n) > MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.depth = old + n;
        Ok(old)
    }

    // ---- recovery ------------------------------------------------------------------

    /// After a failed statement that started at token `start`, skips to a point where
    /// parsing can resume: past the `;` that ends the statement, before the `}` that closes
    /// the enclosing block, or before a keyword that can only start a statement. Brackets
    /// opened since `start` are tracked so that their contents are skipped whole.
    fn sync(&mut self, start: usize) {
        self.no_lambda = false;
        let mut stack: Vec<u8> = Vec::new();
        for i in start..self.pos.min(self.toks.len()) {
            match self.tok_at(i).0 {
                Token::LParen => stack.push(b'('),
                Token::LBracket => stack.push(b'['),
                Token::LBrace => stack.push(b'{'),
                Token::RParen => pop_to(&mut stack, b'('),
                Token::RBracket => pop_to(&mut stack, b'['),
                Token::RBrace => pop_to(&mut stack, b'{'),
                _ => {}
            }
        }
        loop {
            let in_braces = stack.contains(&b'{');
            match self.peek() {
                Token::Eof => return,
                Token::Semi => {
                    // A `;` inside `(` or `[`: either the brackets were never closed (the
                    // statement ends here) or the `;` is a stray inside them (`f([1, ;], 2);`):
                    // look ahead to see whether they close before the next statement.
                    let inside = !in_braces && !stack.is_empty() && self.closes_ahead(&stack);
                    self.bump();
                    if !in_braces && !inside {
                        return;
                    }
                }
                Token::LParen => {
                    stack.push(b'(');
                    self.bump();
                }
                Token::LBracket => {
                    stack.push(b'[');
                    self.bump();
                }
                Token::LBrace => {
                    stack.push(b'{');
                    self.bump();
                }
                Token::RBrace => {
                    if !in_braces {
                        return;
                    }
                    pop_to(&mut stack, b'{');
                    self.bump();
                }
                Token::RParen => {
                    pop_to(&mut stack, b'(');
                    self.bump();
                }
                Token::RBracket => {
                    pop_to(&mut stack, b'[');
                    self.bump();
                }
                _ => {
                    if !in_braces && self.pos > start && self.at_statement_keyword() {
                        return;
                    }
                    self.bump();
                }
            }
        }
    }

    /// From the `;` at the current position, do the open brackets in `stack` (no `{` among
    /// them) all close before the next `;` or statement keyword?
    fn closes_ahead(&self, stack: &[u8]) -> bool {
        let mut stack = stack.to_vec();
        for i in self.pos + 1..self.toks.len().min(self.pos + 2000) {
            match self.tok_at(i).0 {
                Token::LParen => stack.push(b'('),
                Token::LBracket => stack.push(b'['),
                Token::LBrace => stack.push(b'{'),
                Token::RParen | Token::RBracket | Token::RBrace => {
                    stack.pop();
                    if stack.is_empty() {
                        return true;
                    }
                }
                Token::Semi if !stack.contains(&b'{') => return false,
                Token::Var
                | Token::Class
                | Token::While
                | Token::For
                | Token::Return
                | Token::Test
                | Token::At => return false,
                _ => {}
            }
        }
        false
    }

    /// A token that can only begin a statement (never continue an expression).
    fn at_statement_keyword(&self) -> bool {
        match self.peek() {
            Token::Var
            | Token::Class
            | Token::While
            | Token::For
            | Token::Return
            | Token::Break
            | Token::Continue
            | Token::Test
            | Token::At => true,
            Token::Fun => matches!(self.peek_at(1), Token::Ident(_)),
            _ => false,
        }
    }
}

/// Pops `stack` down to and including the innermost `open`, if there is one.
fn pop_to(stack: &mut Vec<u8>, open: u8) {
    if let Some(i) = stack.iter().rposition(|&c| c == open) {
        stack.truncate(i);
    }
}
