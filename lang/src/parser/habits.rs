//! Token patterns of habits from other languages (`i++`, `a ** b`, `function f`,
//! `print(a, b)`, C-style `for`), recognised where they make the parse fail, so that the
//! diagnostic gets a `hint:` line (texts in [`crate::habits`]).

use super::{PResult, Parser};
use crate::ast::{Span, StmtKind};
use crate::diagnostic::Diagnostic;
use crate::habits::{self, keyword_hint};
use crate::lexer::Token;

/// How far (in tokens) the patterns look back or ahead: enough for any real header or
/// call, and bounded so that a file with thousands of errors stays linear.
const LOOK: usize = 256;

impl<'s> Parser<'s> {
    /// The hint for an error at the current token, when the tokens around it look like
    /// another language's way of writing something Walia writes differently.
    pub(super) fn habit_hint(&self) -> Option<&'static str> {
        let (cur, cur_span) = self.tok_at(self.pos);
        let back = |n: usize| self.pos.checked_sub(n).map(|i| self.tok_at(i));
        let (next, next_span) = self.tok_at(self.pos.saturating_add(1));
        let touching = |a: &Span, b: &Span| a.end == b.start;
        let prev = back(1);
        let prev2 = back(2);
        if let Some((p, p_span)) = prev {
            let joined = touching(p_span, cur_span);
            match (p, cur) {
                (Token::Star, Token::Star) if joined => return Some(habits::POW),
                (Token::EqEq, Token::Eq) if joined => return Some(habits::STRICT_EQ),
                (Token::NotEq, Token::Eq) if joined => return Some(habits::STRICT_NE),
                (Token::Plus, Token::Plus) if joined => return Some(habits::INCREMENT),
                (Token::If | Token::While | Token::For, _) => return Some(habits::PARENS),
                (Token::Minus, _) => {
                    // `i--;`: `i - -` and nothing after.
                    if let Some((Token::Minus, m_span)) = prev2
                        && touching(m_span, p_span)
                    {
                        return Some(habits::DECREMENT);
                    }
                }
                _ => {}
            }
        }
        if *cur == Token::Plus && *next == Token::Plus && touching(cur_span, next_span) {
            return Some(habits::INCREMENT);
        }
        if *cur == Token::Comma && self.print_call_open() {
            return Some(habits::PRINT_ONE);
        }
        if self.comment_swallowed_code() {
            return Some(habits::FLOOR_DIV);
        }
        None
    }

    /// A `//` comment that reads like code sits right after an operand and before the
    /// current token: `print 7 // 2;` lost its `2;` to the comment.
    fn comment_swallowed_code(&self) -> bool {
        let Some((prev, prev_span)) = self.pos.checked_sub(1).map(|i| self.tok_at(i)) else {
            return false;
        };
        let operand = matches!(
            prev,
            Token::Int(_)
                | Token::Float(_)
                | Token::Ident(_)
                | Token::Str(_)
                | Token::RParen
                | Token::RBracket
        );
        let (lo, hi) = (prev_span.end, self.tok_at(self.pos).1.start);
        operand && self.code_comments.iter().any(|&c| lo <= c && c < hi)
    }

    /// At a name right after another language's keyword (`function f`, `let x`, `elif x`,
    /// `not x`), or after `elif (...)` / `switch (...)`: the diagnostic for that keyword, which is where the mistake is (the parse
    /// failed only at the name after it).
    pub(super) fn foreign_keyword(&self) -> Option<Diagnostic> {
        let before = self.pos.checked_sub(1)?;
        let at = match (self.peek(), &self.tok_at(before).0) {
            (Token::Ident(_), Token::Ident(_)) => before,
            // `elif (c) {`, `switch (x) {`: the word before the group.
            (_, Token::RParen) => self.group_start(before)?.checked_sub(1)?,
            _ => return None,
        };
        let (Token::Ident(word), span) = self.tok_at(at) else {
            return None;
        };
        let hint = keyword_hint(word)?;
        Some(
            Diagnostic::new(format!("'{word}' is not a Walia keyword"), *span)
                .with_label("not a keyword")
                .with_hint(hint),
        )
    }

    /// The index of the `(` that the `)` at `close` closes.
    fn group_start(&self, close: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in (close.saturating_sub(LOOK)..=close).rev() {
            match self.tok_at(i).0 {
                Token::RParen => depth += 1,
                Token::LParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Is the current token inside `print( ... ` (the innermost open bracket)?
    fn print_call_open(&self) -> bool {
        let mut depth = 0usize;
        for i in (self.pos.saturating_sub(LOOK)..self.pos).rev() {
            match self.tok_at(i).0 {
                Token::RParen | Token::RBracket | Token::RBrace => depth += 1,
                Token::LBracket | Token::LBrace if depth == 0 => return false,
                Token::LParen if depth == 0 => {
                    return i
                        .checked_sub(1)
                        .is_some_and(|b| self.tok_at(b).0 == Token::Print);
                }
                Token::LParen | Token::LBracket | Token::LBrace => depth -= 1,
                _ => {}
            }
        }
        false
    }

    /// After `for (`: `var x in xs` or `let x of xs` is reported, and the keyword skipped
    /// so that the loop parses (one diagnostic, not a cascade).
    pub(super) fn skip_loop_variable_keyword(&mut self) {
        let keyword = matches!(self.peek(), Token::Var | Token::Ident("let" | "const"));
        if keyword
            && matches!(self.peek_at(1), Token::Ident(_))
            && matches!(self.peek_at(2), Token::In | Token::Ident("of"))
        {
            let (tok, span) = self.tok_at(self.pos);
            let d = Diagnostic::new(format!("expected loop variable name, found {tok}"), *span)
                .with_label("no declaration here")
                .with_hint(habits::FOR_VAR);
            self.push_diag(d);
            self.bump();
        }
    }

    /// After `for (x`: consumes `in`, or reports JavaScript's `of` and takes it as `in`.
    /// False (nothing consumed) when neither is there.
    pub(super) fn eat_for_in(&mut self) -> bool {
        if matches!(self.peek(), Token::Ident("of")) {
            let span = self.span();
            self.push_diag(
                Diagnostic::new("expected 'in', found identifier 'of'", span)
                    .with_label("expected 'in'")
                    .with_hint(habits::FOR_OF),
            );
            self.bump();
            true
        } else {
            self.eat(&Token::In)
        }
    }

    /// After `for (`: when the header is C-style (`var i = 0; i < n; i++`, a `;` before its
    /// closing `)`), the index of that `)`.
    pub(super) fn c_style_for_header(&self) -> Option<usize> {
        let mut depth = 0usize;
        let mut semicolon = false;
        for i in self.pos..self.pos.saturating_add(LOOK).min(self.toks.len()) {
            match self.tok_at(i).0 {
                Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
                Token::RParen if depth == 0 => return semicolon.then_some(i),
                Token::RParen | Token::RBracket | Token::RBrace => {
                    depth = depth.checked_sub(1)?;
                }
                Token::Semi if depth == 0 => semicolon = true,
                _ => {}
            }
        }
        None
    }

    /// Reports a C-style `for` header (`open` is its `(`, `close` the index of its `)`),
    /// then parses the body so that what follows is parsed as usual. The loop itself is
    /// dropped: the program does not run anyway.
    pub(super) fn c_style_for(&mut self, open: Span, close: usize) -> PResult<StmtKind> {
        let span = open.to(self.tok_at(close).1);
        self.push_diag(
            Diagnostic::new("C-style for loops are not supported", span)
                .with_label("write `for (i in 0..n)`")
                .with_hint(habits::C_FOR),
        );
        self.pos = close + 1;
        self.parse_stmt(true)?;
        Ok(StmtKind::Empty)
    }
}

#[cfg(test)]
mod tests {
    use crate::habits::*;
    use crate::resolve::{GlobalNames, parse_and_resolve};

    /// Every diagnostic of `src` (parse and names, only `pow`, `len` and `print`-free
    /// builtins known) as (message, hints).
    fn diags(src: &str) -> Vec<(String, Vec<String>)> {
        let mut names = GlobalNames::new();
        let known = |n: &str| matches!(n, "pow" | "len" | "all");
        let (_, diags) = parse_and_resolve(src, &mut names, &known);
        diags.into_iter().map(|d| (d.message, d.hints)).collect()
    }

    /// `src` gives exactly one diagnostic, with `hint`.
    #[track_caller]
    fn hinted(src: &str, hint: &str) {
        let d = diags(src);
        assert_eq!(d.len(), 1, "{src}: {d:#?}");
        assert_eq!(d[0].1, vec![hint.to_string()], "{src}: {d:#?}");
    }

    #[test]
    fn operators_from_other_languages() {
        hinted("var a = true && false;", AND);
        hinted("var a = true || false;", OR);
        hinted("var a = 2 ** 3;", POW);
        hinted("var i = 0; i++;", INCREMENT);
        hinted("var i = 0; ++i;", INCREMENT);
        hinted("var i = 0; i--;", DECREMENT);
        hinted("var a = 1 === 1;", STRICT_EQ);
        hinted("var a = 1 !== 2;", STRICT_NE);
        hinted("var a = true ? 1 : 2;", TERNARY);
    }

    #[test]
    fn keywords_from_other_languages() {
        hinted("function f(a) { return a; }", FUNCTION);
        // The diagnostic is at the foreign word, not at the name after it.
        let (_, found) = crate::parse("var a = 1;\nfunction f(a) { return a; }");
        assert_eq!(found[0].message, "'function' is not a Walia keyword");
        assert_eq!(found[0].span, crate::ast::Span::new(11, 19));
        let (_, found) = crate::parse("var x = 1;\nswitch (x) { }");
        assert_eq!(found[0].message, "'switch' is not a Walia keyword");
        hinted("def f(a) { return a; }", FUNCTION);
        hinted("fn f(a) { return a; }", FUNCTION);
        hinted("let x = 1;", VARIABLE);
        hinted("const x = 1;", VARIABLE);
        hinted(
            "var x = 1;\nif (x == 1) { print 1; } elif (x == 2) { print 2; }",
            ELSE_IF,
        );
        hinted("var x = 1;\nif (not x) print 1;", NOT);
        hinted("var x = 1;\nif x == 1 { print 1; }", PARENS);
        hinted("var x = 1;\nswitch (x) { }", SWITCH);
        hinted("var x = [1];\nfor (v of x) print v;", FOR_OF);
        hinted("var x = [1];\nfor (var v in x) print v;", FOR_VAR);
        let d = diags("var x = [1];\nfor (let v of x) print v;");
        let hints: Vec<&[String]> = d.iter().map(|(_, h)| h.as_slice()).collect();
        assert_eq!(
            hints,
            [[FOR_VAR.to_string()], [FOR_OF.to_string()]],
            "{d:#?}"
        );
    }

    #[test]
    fn c_style_for_is_one_error_and_the_rest_still_parses() {
        let d = diags("for (var i = 0; i < 3; i++) { print i; }\nvar y = zz;");
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!(d[0].0, "C-style for loops are not supported");
        assert_eq!(d[0].1, vec![C_FOR.to_string()]);
        assert!(d[1].0.starts_with("undefined variable 'zz'"), "{d:#?}");
        hinted("for (i = 0; i < 3; i += 1) print i;", C_FOR);
    }

    #[test]
    fn print_with_several_values() {
        hinted("var a = 1;\nprint(a, 2);", PRINT_ONE);
        hinted("var a = 1;\nprint(a + [1, 2].len(), 2);", PRINT_ONE);
        // A call inside print's argument is not print's.
        let d = diags("print(f(1 2));");
        assert!(d.iter().all(|(_, h)| h.is_empty()), "{d:#?}");
    }

    #[test]
    fn names_from_other_languages() {
        let d = diags("var a = null;");
        // The hint replaces a far-fetched "did you mean 'all'".
        assert_eq!(d[0].0, "undefined variable 'null'");
        hinted("var a = None;", name_hint("null").unwrap_or_default());
        hinted("var a = True;", name_hint("True").unwrap_or_default());
        hinted(
            "class A { fun m() { return self; } }",
            name_hint("self").unwrap_or_default(),
        );
    }

    #[test]
    fn walia_code_gets_no_hint() {
        for src in ["var x = 1 var y = 2;", "f(1 2);", "var = 1;", "print 1 +"] {
            let d = diags(src);
            assert!(d.iter().all(|(_, h)| h.is_empty()), "{src}: {d:#?}");
        }
    }
}
