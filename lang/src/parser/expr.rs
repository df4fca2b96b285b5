//! Expressions: precedence climbing for binary operators, then prefix, postfix and primary.

use super::{MAX_ARGS, MAX_DEPTH, PResult, Parser};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::Token;

/// A binary-level operator.
#[derive(Clone, Copy)]
enum Op {
    Bin(BinOp),
    And,
    Or,
    Pipe,
    Range,
}

/// Precedence (higher binds tighter) of a binary operator token. All are left-associative.
fn binop(t: &Token<'_>) -> Option<(u8, Op)> {
    Some(match t {
        Token::Pipe => (1, Op::Pipe),
        Token::Or => (2, Op::Or),
        Token::And => (3, Op::And),
        Token::EqEq => (4, Op::Bin(BinOp::Eq)),
        Token::NotEq => (4, Op::Bin(BinOp::Ne)),
        Token::Lt => (5, Op::Bin(BinOp::Lt)),
        Token::Le => (5, Op::Bin(BinOp::Le)),
        Token::Gt => (5, Op::Bin(BinOp::Gt)),
        Token::Ge => (5, Op::Bin(BinOp::Ge)),
        Token::Bar => (6, Op::Bin(BinOp::BitOr)),
        Token::Caret => (7, Op::Bin(BinOp::BitXor)),
        Token::Amp => (8, Op::Bin(BinOp::BitAnd)),
        Token::Shl => (9, Op::Bin(BinOp::Shl)),
        Token::Shr => (9, Op::Bin(BinOp::Shr)),
        Token::DotDot => (10, Op::Range),
        Token::Plus => (11, Op::Bin(BinOp::Add)),
        Token::Minus => (11, Op::Bin(BinOp::Sub)),
        Token::Star => (12, Op::Bin(BinOp::Mul)),
        Token::Slash => (12, Op::Bin(BinOp::Div)),
        Token::Percent => (12, Op::Bin(BinOp::Mod)),
        Token::TildeSlash => (12, Op::Bin(BinOp::IntDiv)),
        _ => return None,
    })
}

fn combine(op: Op, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    let (l, r) = (Box::new(lhs), Box::new(rhs));
    let kind = match op {
        Op::Bin(b) => ExprKind::Binary(b, l, r),
        Op::And => ExprKind::And(l, r),
        Op::Or => ExprKind::Or(l, r),
        Op::Pipe => ExprKind::Pipe(l, r),
        Op::Range => ExprKind::Range(l, r),
    };
    Expr::new(kind, span)
}

/// The span a pattern covers.
pub(super) fn pattern_span(p: &Pattern) -> Span {
    match p {
        Pattern::Literal(e) => e.span,
        Pattern::Range(a, b) => a.span.to(b.span),
        Pattern::Wildcard(s) => *s,
        Pattern::Bind(n) => n.span,
    }
}

impl<'s> Parser<'s> {
    /// A whole expression, assignment included.
    pub(super) fn parse_expr(&mut self) -> PResult<Expr> {
        self.nested(|p| p.parse_assign())
    }

    /// Runs `f` with lambdas allowed again (inside brackets of a match guard).
    /// Also closes the open-ended slice context: `xs[(a..)]` is no slice.
    fn with_lambdas<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let saved = std::mem::replace(&mut self.no_lambda, false);
        let saved_open = std::mem::replace(&mut self.open_range_ok, false);
        let r = f(self);
        self.no_lambda = saved;
        self.open_range_ok = saved_open;
        r
    }

    fn parse_assign(&mut self) -> PResult<Expr> {
        let lhs = self.parse_binary(0)?;
        let op = match self.peek() {
            Token::Eq => None,
            Token::PlusEq => Some(BinOp::Add),
            Token::MinusEq => Some(BinOp::Sub),
            Token::StarEq => Some(BinOp::Mul),
            Token::SlashEq => Some(BinOp::Div),
            _ => return Ok(lhs),
        };
        self.bump();
        let single = |e: &Expr| {
            matches!(
                e.kind,
                ExprKind::Name(_) | ExprKind::Field { .. } | ExprKind::Index { .. }
            )
        };
        let grouped = self.last_group == Some(lhs.span);
        if let ExprKind::List(items) = &lhs.kind
            && !grouped
        {
            self.check_destructuring(items, op, lhs.span, single);
        } else if grouped || !single(&lhs) {
            self.push_diag(
                Diagnostic::new("invalid assignment target", lhs.span)
                    .with_label("cannot assign to this")
                    .with_note("only a name, a field `a.b` or an element `a[i]` can be assigned"),
            );
        }
        let value = self.parse_expr()?;
        let span = lhs.span.to(value.span);
        Ok(Expr::new(
            ExprKind::Assign {
                target: Box::new(lhs),
                op,
                value: Box::new(value),
            },
            span,
        ))
    }

    /// The targets of `[a, b] = value`: names (`_` skips), fields and elements, with `=`.
    fn check_destructuring(
        &mut self,
        items: &[Expr],
        op: AssignOp,
        span: Span,
        single: impl Fn(&Expr) -> bool,
    ) {
        if op.is_some() {
            self.push_diag(
                Diagnostic::new("a destructuring assignment takes `=`", span)
                    .with_label("cannot combine with an operator"),
            );
        }
        if items.is_empty() {
            self.push_diag(
                Diagnostic::new("invalid assignment target", span)
                    .with_label("an empty list assigns nothing"),
            );
        }
        for item in items {
            if !single(item) {
                self.push_diag(
                    Diagnostic::new("invalid assignment target", item.span)
                        .with_label("cannot assign to this")
                        .with_note(
                            "each element of `[a, b] = ...` is a name, a field `a.b` or an element `a[i]`",
                        ),
                );
            }
        }
    }

    /// Binary operators of precedence `min` and above.
    fn parse_binary(&mut self, min: u8) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        let base = self.depth;
        let result = loop {
            let Some((prec, op)) = binop(self.peek()) else {
                break Ok(lhs);
            };
            if prec < min {
                break Ok(lhs);
            }
            // Each operator in a chain is one more level of the tree being built.
            if let Err(f) = self.deepen(1) {
                break Err(f);
            }
            let op_span = self.bump();
            if matches!(op, Op::Range) && self.open_range_end(op_span) {
                let end = Expr::new(ExprKind::Int(OPEN_SLICE_END), op_span);
                lhs = combine(op, lhs, end);
                continue;
            }
            match self.parse_binary(prec + 1) {
                Ok(rhs) => lhs = combine(op, lhs, rhs),
                Err(f) => break Err(f),
            }
        };
        self.depth = base;
        result
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        if !matches!(self.peek(), Token::Minus | Token::Bang | Token::Tilde) {
            return self.parse_postfix();
        }
        let mut ops: Vec<(UnOp, Span)> = Vec::new();
        loop {
            let op = match self.peek() {
                Token::Minus => UnOp::Neg,
                Token::Bang => UnOp::Not,
                Token::Tilde => UnOp::BitNot,
                _ => break,
            };
            if self.depth as usize + ops.len() >= MAX_DEPTH as usize {
                return Err(self.too_deep());
            }
            ops.push((op, self.bump()));
        }
        let base = self.deepen(ops.len() as u32)?;
        // `-9223372036854775808` is i64::MIN, the one literal that only fits negated.
        let min_literal = matches!(ops.last(), Some((UnOp::Neg, _)))
            && matches!(self.peek(), Token::Int(u) if *u == 1u64 << 63)
            && !matches!(
                self.peek_at(1),
                Token::LParen | Token::Dot | Token::LBracket
            );
        let operand = if min_literal {
            let neg = ops.pop().map(|o| o.1).unwrap_or_default();
            let lit = self.bump();
            Ok(Expr::new(ExprKind::Int(i64::MIN), neg.to(lit)))
        } else {
            self.parse_postfix()
        };
        self.depth = base;
        let mut e = operand?;
        for (op, span) in ops.into_iter().rev() {
            let span = span.to(e.span);
            e = Expr::new(ExprKind::Unary(op, Box::new(e)), span);
        }
        Ok(e)
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut e = self.parse_primary()?;
        let base = self.depth;
        let result = loop {
            if !matches!(self.peek(), Token::LParen | Token::Dot | Token::LBracket) {
                break Ok(e);
            }
            if let Err(f) = self.deepen(1) {
                break Err(f);
            }
            e = match self.postfix_one(e) {
                Ok(e) => e,
                Err(f) => break Err(f),
            };
        };
        self.depth = base;
        result
    }

    /// One call, field access or index applied to `e`.
    fn postfix_one(&mut self, e: Expr) -> PResult<Expr> {
        match self.peek() {
            Token::LParen => {
                self.bump();
                let args = self.with_lambdas(|p| {
                    let mut args: Vec<Expr> = Vec::new();
                    while !p.at(&Token::RParen) {
                        let arg = p.parse_expr()?;
                        if args.len() == MAX_ARGS {
                            p.error(
                                format!("too many arguments (the limit is {MAX_ARGS})"),
                                arg.span,
                            );
                        }
                        args.push(arg);
                        if !p.eat(&Token::Comma) {
                            break;
                        }
                    }
                    Ok(args)
                })?;
                let close = self.expect(&Token::RParen, "',' or ')'")?;
                let span = e.span.to(close);
                Ok(Expr::new(
                    ExprKind::Call {
                        callee: Box::new(e),
                        args,
                    },
                    span,
                ))
            }
            Token::Dot => {
                self.bump();
                let name = self.member_name()?;
                let span = e.span.to(name.span);
                Ok(Expr::new(
                    ExprKind::Field {
                        object: Box::new(e),
                        name,
                    },
                    span,
                ))
            }
            _ => {
                self.bump();
                let index = self.with_lambdas(|p| p.index_expr())?;
                if self.at(&Token::Colon) {
                    // Python's `xs[1:3]`.
                    let span = self.span();
                    self.push_diag(
                        Diagnostic::new("expected ']', found ':'", span)
                            .with_label("expected ']'")
                            .with_hint(
                                "a slice is written with `..`: `xs[1..3]`, `xs[2..]`, `xs[..-1]`",
                            ),
                    );
                    return Err(super::Fail);
                }
                let close = self.expect(&Token::RBracket, "']'")?;
                let span = e.span.to(close);
                Ok(Expr::new(
                    ExprKind::Index {
                        object: Box::new(e),
                        index: Box::new(index),
                    },
                    span,
                ))
            }
        }
    }

    /// What stands between `[` and `]`: an expression, or a slice with open ends (`a..`,
    /// `..b`, `..`), written as a range whose missing start is 0 and whose missing end is
    /// [`OPEN_SLICE_END`].
    fn index_expr(&mut self) -> PResult<Expr> {
        self.open_range_ok = true;
        if !self.at(&Token::DotDot) {
            return self.parse_expr();
        }
        let dots = self.bump();
        let start = Expr::new(ExprKind::Int(0), dots);
        let end = if self.at(&Token::RBracket) {
            Expr::new(ExprKind::Int(OPEN_SLICE_END), dots)
        } else {
            // `..` binds looser than `+`: `xs[..n - 1]`.
            self.parse_binary(7)?
        };
        let span = dots.to(end.span);
        Ok(Expr::new(
            ExprKind::Range(Box::new(start), Box::new(end)),
            span,
        ))
    }

    /// After `..`: is the range open-ended? Directly inside `[...]` that is a slice to the
    /// end; anywhere else it is reported (and parsing goes on as if it were).
    fn open_range_end(&mut self, dots: Span) -> bool {
        let closing = matches!(
            self.peek(),
            Token::RBracket | Token::RParen | Token::RBrace | Token::Semi | Token::Comma
        );
        if !closing {
            return false;
        }
        if !(self.open_range_ok && self.at(&Token::RBracket)) {
            self.push_diag(
                Diagnostic::new("a range needs an end here", dots)
                    .with_label("open-ended range")
                    .with_note(
                        "`a..`, `..b` and `..` are slices: they are only allowed inside `[...]`",
                    ),
            );
        }
        true
    }

    /// A field or method name after `.`: an identifier or a keyword (`row.in`, `x.test`).
    fn member_name(&mut self) -> PResult<Name> {
        let name = match self.peek() {
            Token::Ident(s) => *s,
            t => match t.keyword_text() {
                Some(k) => k,
                None => return Err(self.expected("field or method name after '.'")),
            },
        };
        let span = self.bump();
        Ok(Name::new(name, span))
    }

    /// The value of an integer literal; reports literals that do not fit.
    fn int_value(&mut self, u: u64, negative: bool, span: Span) -> i64 {
        let v = if negative {
            i64::try_from(-i128::from(u)).ok()
        } else {
            i64::try_from(u).ok()
        };
        match v {
            Some(v) => v,
            None => {
                self.error("integer literal too large", span);
                0
            }
        }
    }

    /// A number literal, optionally preceded by `-` (folded into the value).
    fn number_literal(&mut self) -> PResult<Expr> {
        let neg = if self.at(&Token::Minus) {
            Some(self.bump())
        } else {
            None
        };
        match *self.peek() {
            Token::Int(u) => {
                let lit = self.bump();
                let span = neg.map_or(lit, |n| n.to(lit));
                let v = self.int_value(u, neg.is_some(), span);
                Ok(Expr::new(ExprKind::Int(v), span))
            }
            Token::Float(f) => {
                let lit = self.bump();
                let span = neg.map_or(lit, |n| n.to(lit));
                let v = if neg.is_some() { -f } else { f };
                Ok(Expr::new(ExprKind::Float(v), span))
            }
            _ => Err(self.expected("number")),
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let kind = match *self.peek() {
            Token::Int(u) => {
                self.bump();
                ExprKind::Int(self.int_value(u, false, start))
            }
            Token::Float(f) => {
                self.bump();
                ExprKind::Float(f)
            }
            Token::Str(_) => ExprKind::Str(self.take_str()),
            Token::True => {
                self.bump();
                ExprKind::Bool(true)
            }
            Token::False => {
                self.bump();
                ExprKind::Bool(false)
            }
            Token::Nil => {
                self.bump();
                ExprKind::Nil
            }
            Token::This => {
                self.bump();
                ExprKind::This(Res::Unresolved)
            }
            Token::Super => {
                self.bump();
                self.expect(&Token::Dot, "'.' after 'super'")?;
                let method = self.member_name()?;
                let span = start.to(method.span);
                return Ok(Expr::new(
                    ExprKind::Super {
                        method,
                        this_res: Res::Unresolved,
                    },
                    span,
                ));
            }
            Token::Ident(s) => {
                if !self.no_lambda && self.peek_at(1) == &Token::FatArrow {
                    let span = self.bump();
                    return self.lambda(vec![Name::new(s, span)], start);
                }
                let span = self.bump();
                ExprKind::Name(Name::new(s, span))
            }
            Token::LParen => {
                if !self.no_lambda && self.paren_lambda_ahead() {
                    let params = self.params()?;
                    return self.lambda(params, start);
                }
                self.bump();
                let mut inner = self.with_lambdas(|p| p.parse_expr())?;
                let close = self.expect(&Token::RParen, "')'")?;
                let span = start.to(close);
                self.last_group = Some(span);
                inner.span = span;
                return Ok(inner);
            }
            Token::LBracket => {
                self.bump();
                let items = self.with_lambdas(|p| {
                    let mut items = Vec::new();
                    while !p.at(&Token::RBracket) {
                        items.push(p.parse_expr()?);
                        if !p.eat(&Token::Comma) {
                            break;
                        }
                    }
                    Ok(items)
                })?;
                let close = self.expect(&Token::RBracket, "',' or ']'")?;
                return Ok(Expr::new(ExprKind::List(items), start.to(close)));
            }
            Token::LBrace => {
                if self.map_ahead() {
                    return self.map_literal();
                }
                let block = self.parse_block()?;
                let span = block.span;
                return Ok(Expr::new(ExprKind::Block(block), span));
            }
            Token::Fun => {
                self.bump();
                let params = self.params()?;
                let body = self.fun_body()?;
                return Ok(anonymous_function(params, body, start));
            }
            Token::If => {
                self.bump();
                self.expect(&Token::LParen, "'(' after 'if'")?;
                let cond = self.with_lambdas(|p| p.parse_expr())?;
                self.expect(&Token::RParen, "')'")?;
                let then = self.parse_expr()?;
                let else_ = if self.eat(&Token::Else) {
                    Some(Box::new(self.parse_expr()?))
                } else {
                    None
                };
                let end = else_.as_ref().map_or(then.span, |e| e.span);
                return Ok(Expr::new(
                    ExprKind::If {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        else_,
                    },
                    start.to(end),
                ));
            }
            Token::Match => return self.match_expr(),
            Token::Fused | Token::Print => {
                let fused = self.at(&Token::Fused);
                self.bump();
                let e = Box::new(self.parse_expr()?);
                let span = start.to(e.span);
                let kind = if fused {
                    ExprKind::Fused(e)
                } else {
                    ExprKind::Print(e)
                };
                return Ok(Expr::new(kind, span));
            }
            _ => return Err(self.expected("expression")),
        };
        Ok(Expr::new(kind, start))
    }

    /// At `(`: is this `(a, b) =>` / `() =>`?
    fn paren_lambda_ahead(&self) -> bool {
        let mut i = 1;
        if self.peek_at(i) == &Token::RParen {
            return self.peek_at(i + 1) == &Token::FatArrow;
        }
        loop {
            if !matches!(self.peek_at(i), Token::Ident(_)) {
                return false;
            }
            i += 1;
            match self.peek_at(i) {
                Token::Comma => {
                    i += 1;
                    if self.peek_at(i) == &Token::RParen {
                        return self.peek_at(i + 1) == &Token::FatArrow;
                    }
                }
                Token::RParen => return self.peek_at(i + 1) == &Token::FatArrow,
                _ => return false,
            }
        }
    }

    /// The `=> body` of a lambda whose parameters were parsed; `start` is where it began.
    fn lambda(&mut self, params: Vec<Name>, start: Span) -> PResult<Expr> {
        self.expect(&Token::FatArrow, "'=>'")?;
        let body = self.parse_expr()?;
        Ok(anonymous_function(params, body, start))
    }

    /// At `{` in expression position: `{}` or `{key: ...` is a map.
    fn map_ahead(&self) -> bool {
        match self.peek_at(1) {
            Token::RBrace => true,
            Token::Ident(_) | Token::Str(_) | Token::Int(_) | Token::Float(_) => {
                self.peek_at(2) == &Token::Colon
            }
            Token::Minus => {
                matches!(self.peek_at(2), Token::Int(_) | Token::Float(_))
                    && self.peek_at(3) == &Token::Colon
            }
            t => t.keyword_text().is_some() && self.peek_at(2) == &Token::Colon,
        }
    }

    fn map_literal(&mut self) -> PResult<Expr> {
        let start = self.bump();
        let entries = self.nested(|p| {
            p.with_lambdas(|p| {
                let mut entries = Vec::new();
                while !p.at(&Token::RBrace) {
                    let key = p.map_key()?;
                    p.expect(&Token::Colon, "':'")?;
                    let value = p.parse_expr()?;
                    entries.push((key, value));
                    if !p.eat(&Token::Comma) {
                        break;
                    }
                }
                Ok(entries)
            })
        })?;
        let close = self.expect(&Token::RBrace, "',' or '}'")?;
        Ok(Expr::new(ExprKind::Map(entries), start.to(close)))
    }

    /// A map key: a bare identifier or keyword (a string), a string, a number, a bool.
    fn map_key(&mut self) -> PResult<Expr> {
        let span = self.span();
        let kind = match self.peek() {
            Token::Ident(s) => ExprKind::Str(s.to_string()),
            Token::Str(_) => return Ok(Expr::new(ExprKind::Str(self.take_str()), span)),
            Token::Int(_) | Token::Float(_) | Token::Minus => return self.number_literal(),
            Token::True => ExprKind::Bool(true),
            Token::False => ExprKind::Bool(false),
            Token::Nil => ExprKind::Nil,
            t => match t.keyword_text() {
                Some(k) => ExprKind::Str(k.to_string()),
                None => return Err(self.expected("map key")),
            },
        };
        self.bump();
        Ok(Expr::new(kind, span))
    }

    fn match_expr(&mut self) -> PResult<Expr> {
        let start = self.bump();
        let subject = self.parse_expr()?;
        self.expect(&Token::LBrace, "'{' after the match subject")?;
        let arms = self.nested(|p| {
            p.with_lambdas(|p| {
                let mut arms = Vec::new();
                while !p.at(&Token::RBrace) && !p.at_eof() {
                    let arm_start = p.pos;
                    match p.match_arm() {
                        Ok((arm, true)) => arms.push(arm),
                        Ok((arm, false)) => {
                            arms.push(arm);
                            // Missing comma: report it and read on as if it were there.
                            let _ = p.expected("',' or '}' after match arm");
                        }
                        Err(f) => {
                            if p.fatal || !p.sync_arm(arm_start) {
                                return Err(f);
                            }
                        }
                    }
                }
                Ok(arms)
            })
        })?;
        let close = self.expect(&Token::RBrace, "'}'")?;
        Ok(Expr::new(
            ExprKind::Match {
                subject: Box::new(subject),
                arms,
            },
            start.to(close),
        ))
    }

    /// One `pattern [if guard] => body` and the `,` after it. `Ok((arm, false))`: what
    /// follows the arm is neither `,` nor `}`.
    fn match_arm(&mut self) -> PResult<(MatchArm, bool)> {
        let pattern = self.pattern()?;
        let guard = if self.eat(&Token::If) {
            let saved = std::mem::replace(&mut self.no_lambda, true);
            let g = self.parse_expr();
            self.no_lambda = saved;
            Some(g?)
        } else {
            None
        };
        self.expect(&Token::FatArrow, "'=>'")?;
        let body = self.parse_expr()?;
        let span = pattern_span(&pattern).to(body.span);
        let arm = MatchArm {
            pattern,
            guard,
            body,
            span,
        };
        // A block arm needs no comma before the next arm.
        let ended = self.eat(&Token::Comma)
            || self.at(&Token::RBrace)
            || self.prev_tok() == Some(&Token::RBrace);
        Ok((arm, ended))
    }

    /// After a broken match arm that started at token `start`: skips past the `,` that ends
    /// it, or to the `}` that closes the match. False when neither was found before a `;`
    /// or the end of input (statement-level recovery takes over).
    fn sync_arm(&mut self, start: usize) -> bool {
        self.no_lambda = false;
        let mut depth: usize = 0;
        for i in start..self.pos {
            match self.tok_at(i).0 {
                Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
                Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        loop {
            match self.peek() {
                Token::Eof => return false,
                Token::Comma if depth == 0 => {
                    self.bump();
                    return true;
                }
                Token::RBrace if depth == 0 => return true,
                Token::Semi if depth == 0 => return false,
                Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
                Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    fn pattern(&mut self) -> PResult<Pattern> {
        let span = self.span();
        let lo = match self.peek() {
            Token::Ident("_") => {
                self.bump();
                return Ok(Pattern::Wildcard(span));
            }
            Token::Ident(s) => {
                let name = Name::new(*s, span);
                self.bump();
                return Ok(Pattern::Bind(name));
            }
            Token::Str(_) => {
                return Ok(Pattern::Literal(Expr::new(
                    ExprKind::Str(self.take_str()),
                    span,
                )));
            }
            Token::True | Token::False | Token::Nil => {
                let kind = match self.peek() {
                    Token::True => ExprKind::Bool(true),
                    Token::False => ExprKind::Bool(false),
                    _ => ExprKind::Nil,
                };
                self.bump();
                return Ok(Pattern::Literal(Expr::new(kind, span)));
            }
            Token::Int(_) | Token::Float(_) | Token::Minus => self.number_literal()?,
            _ => return Err(self.expected("pattern")),
        };
        if self.eat(&Token::DotDot) {
            let hi = self.number_literal()?;
            return Ok(Pattern::Range(lo, hi));
        }
        Ok(Pattern::Literal(lo))
    }
}

/// A lambda or anonymous `fun` from `start` to the end of its body.
fn anonymous_function(params: Vec<Name>, body: Expr, start: Span) -> Expr {
    let span = start.to(body.span);
    Expr::new(
        ExprKind::Function(Box::new(FunDecl {
            name: None,
            params,
            body,
            span,
            doc: None,
            anonymous: true,
            info: FunInfo::default(),
        })),
        span,
    )
}
