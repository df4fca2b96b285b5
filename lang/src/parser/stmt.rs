//! Statements and declarations.

use super::{Fail, MAX_ARGS, PResult, Parser};
use crate::ast::*;
use crate::lexer::Token;

impl<'s> Parser<'s> {
    /// Statements up to the end of input (`in_block == false`) or up to a `}` (not consumed).
    pub(super) fn stmt_list(&mut self, in_block: bool) -> Vec<Stmt> {
        let mut stmts = Vec::new();
        loop {
            if self.fatal || self.at_eof() || (in_block && self.at(&Token::RBrace)) {
                break;
            }
            let start = self.pos;
            match self.parse_stmt(false) {
                Ok(s) => stmts.push(s),
                Err(Fail) => {
                    if self.fatal {
                        break;
                    }
                    self.sync(start);
                    if self.pos == start {
                        self.bump();
                    }
                }
            }
        }
        stmts
    }

    /// `{ stmts }`.
    pub(super) fn parse_block(&mut self) -> PResult<Block> {
        let open = self.expect(&Token::LBrace, "'{'")?;
        self.nested(|p| {
            let saved = std::mem::replace(&mut p.no_lambda, false);
            let saved_open = std::mem::replace(&mut p.open_range_ok, false);
            let stmts = p.stmt_list(true);
            p.no_lambda = saved;
            p.open_range_ok = saved_open;
            if p.fatal {
                return Err(Fail);
            }
            let close = p.expect(&Token::RBrace, "'}'")?;
            Ok(Block {
                stmts,
                span: open.to(close),
            })
        })
    }

    /// One statement. `branch`: the body of `if`/`else`/`while`/`for`, where declarations
    /// are not allowed and an expression statement may end right before `else`.
    pub(super) fn parse_stmt(&mut self, branch: bool) -> PResult<Stmt> {
        self.nested(|p| p.stmt_inner(branch))
    }

    fn stmt_inner(&mut self, branch: bool) -> PResult<Stmt> {
        let start = self.span();
        if branch
            && (matches!(self.peek(), Token::Var | Token::Class | Token::At)
                || (self.at(&Token::Fun) && matches!(self.peek_at(1), Token::Ident(_))))
        {
            self.push_diag(
                crate::diagnostic::Diagnostic::new(
                    "declaration not allowed here; wrap it in a block",
                    start,
                )
                .with_label("a declaration cannot be the body of `if`, `else`, `while` or `for`"),
            );
        }
        let kind = match self.peek() {
            Token::Var => self.var_decl(branch)?,
            Token::Fun if matches!(self.peek_at(1), Token::Ident(_)) => {
                let doc = self.docs.remove(&self.pos);
                let decl = self.fun_decl(doc, branch)?;
                StmtKind::Fun(Box::new(decl))
            }
            Token::Class | Token::At => StmtKind::Class(Box::new(self.class_decl()?)),
            Token::If => {
                self.bump();
                let cond = self.paren_cond("if")?;
                let then = Box::new(self.parse_stmt(true)?);
                let else_ = if self.eat(&Token::Else) {
                    Some(Box::new(self.parse_stmt(true)?))
                } else {
                    None
                };
                StmtKind::If { cond, then, else_ }
            }
            Token::While => {
                self.bump();
                let cond = self.paren_cond("while")?;
                let body = Box::new(self.parse_stmt(true)?);
                StmtKind::While {
                    cond,
                    body,
                    mark: Res::Unresolved,
                }
            }
            Token::For => {
                self.bump();
                let open = self.expect(&Token::LParen, "'(' after 'for'")?;
                if let Some(close) = self.c_style_for_header() {
                    return Ok(Stmt {
                        kind: self.c_style_for(open, close)?,
                        span: start.to(self.prev_span()),
                    });
                }
                self.skip_loop_variable_keyword();
                let var = self.expect_ident("loop variable name")?;
                let second = if self.eat(&Token::Comma) {
                    Some(self.expect_ident("second loop variable name")?)
                } else {
                    None
                };
                if !self.eat_for_in() {
                    return Err(self.expected("'in'"));
                }
                let iter = self.parse_expr()?;
                self.expect(&Token::RParen, "')'")?;
                let body = Box::new(self.parse_stmt(true)?);
                StmtKind::For {
                    var,
                    second,
                    iter,
                    body,
                    mark: Res::Unresolved,
                }
            }
            Token::Return => {
                self.bump();
                let value = if self.at_stmt_end(branch) {
                    None
                } else {
                    Some(self.parse_expr()?)
                };
                self.stmt_end(branch)?;
                StmtKind::Return(value)
            }
            Token::Break => {
                self.bump();
                self.stmt_end(branch)?;
                StmtKind::Break
            }
            Token::Continue => {
                self.bump();
                self.stmt_end(branch)?;
                StmtKind::Continue
            }
            Token::Print => {
                self.bump();
                let e = self.parse_expr()?;
                self.stmt_end(branch)?;
                StmtKind::Print(e)
            }
            Token::Test => {
                self.bump();
                if !matches!(self.peek(), Token::Str(_)) {
                    return Err(self.expected("test description string"));
                }
                let name = self.take_str();
                let body = self.parse_block()?;
                StmtKind::Test {
                    name,
                    body,
                    info: FunInfo::default(),
                }
            }
            Token::LBrace => StmtKind::Block(self.parse_block()?),
            // `import` is a word only before a string: a variable may be named `import`.
            Token::Ident("import") if matches!(self.peek_at(1), Token::Str(_)) => {
                self.bump();
                let path_span = self.span();
                let path = self.take_str();
                self.stmt_end(branch)?;
                StmtKind::Import { path, path_span }
            }
            Token::Semi => {
                self.bump();
                StmtKind::Empty
            }
            _ => {
                let expr = self.parse_expr()?;
                // `match x { ... }` and `fused { ... }` may end without `;`, like blocks.
                let block_like = matches!(expr.kind, ExprKind::Match { .. } | ExprKind::Fused(_))
                    && self.prev_tok() == Some(&Token::RBrace);
                let semicolon = if block_like && !self.at(&Token::Semi) {
                    false
                } else {
                    self.stmt_end(branch)?
                };
                StmtKind::Expr { expr, semicolon }
            }
        };
        Ok(Stmt {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    /// `( expr )` after `if` / `while`.
    fn paren_cond(&mut self, kw: &str) -> PResult<Expr> {
        self.expect(&Token::LParen, &format!("'(' after '{kw}'"))?;
        let cond = self.parse_expr()?;
        self.expect(&Token::RParen, "')'")?;
        Ok(cond)
    }

    /// True where a statement may end without `;`: before `}`, at the end of input, and
    /// (in a branch) before `else`.
    fn at_stmt_end(&self, branch: bool) -> bool {
        match self.peek() {
            Token::Semi | Token::RBrace | Token::Eof => true,
            Token::Else => branch,
            _ => false,
        }
    }

    /// Consumes the `;` that ends a statement. Returns whether there was one.
    fn stmt_end(&mut self, branch: bool) -> PResult<bool> {
        if self.eat(&Token::Semi) {
            return Ok(true);
        }
        if self.at_stmt_end(branch) {
            return Ok(false);
        }
        Err(self.missing_semicolon())
    }

    pub(super) fn expect_ident(&mut self, what: &str) -> PResult<Name> {
        match *self.peek() {
            Token::Ident(s) => {
                let span = self.bump();
                Ok(Name::new(s, span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn var_decl(&mut self, branch: bool) -> PResult<StmtKind> {
        let doc = self.docs.remove(&self.pos);
        self.bump();
        if self.at(&Token::LBracket) {
            return self.var_list(branch);
        }
        let name = self.expect_ident("variable name")?;
        let init = if self.eat(&Token::Eq) {
            Some(self.parse_expr()?)
        } else {
            None
        };
        self.stmt_end(branch)?;
        Ok(StmtKind::Var { name, init, doc })
    }

    /// `var [a, b, _] = init;` (after `var`).
    fn var_list(&mut self, branch: bool) -> PResult<StmtKind> {
        self.bump();
        let mut names: Vec<Name> = Vec::new();
        while !self.at(&Token::RBracket) {
            let name = self.expect_ident("variable name")?;
            if !name.is_skip() && names.iter().any(|n| n.name == name.name) {
                self.error(
                    format!("'{}' appears twice in one destructuring", name.name),
                    name.span,
                );
            }
            names.push(name);
            if !self.eat(&Token::Comma) {
                break;
            }
        }
        self.expect(&Token::RBracket, "',' or ']'")?;
        if names.is_empty() {
            let span = self.prev_span();
            self.error("a destructuring `var [...]` needs at least one name", span);
        }
        if !self.eat(&Token::Eq) {
            return Err(self.expected("'=' and a value after `var [...]`"));
        }
        let init = self.parse_expr()?;
        self.stmt_end(branch)?;
        Ok(StmtKind::VarList { names, init })
    }

    /// `fun name(params) { ... }` or `fun name(params) expr;` (the `;` is consumed but is
    /// not part of the declaration's span).
    fn fun_decl(&mut self, doc: Option<String>, branch: bool) -> PResult<FunDecl> {
        let start = self.bump();
        let name = self.expect_ident("function name")?;
        let params = self.params()?;
        let block_body = self.at(&Token::LBrace);
        let body = self.fun_body()?;
        let span = start.to(body.span);
        if !block_body {
            self.stmt_end(branch)?;
        }
        Ok(FunDecl {
            name: Some(name),
            params,
            body,
            span,
            doc,
            anonymous: false,
            info: FunInfo::default(),
        })
    }

    /// `(a, b, ...)`, a trailing comma allowed.
    pub(super) fn params(&mut self) -> PResult<Vec<Name>> {
        self.expect(&Token::LParen, "'('")?;
        let mut params = Vec::new();
        while !self.at(&Token::RParen) {
            let name = self.expect_ident("parameter name")?;
            if params.len() == MAX_ARGS {
                self.error(
                    format!("too many parameters (the limit is {MAX_ARGS})"),
                    name.span,
                );
            }
            params.push(name);
            if !self.eat(&Token::Comma) {
                break;
            }
        }
        self.expect(&Token::RParen, "',' or ')'")?;
        Ok(params)
    }

    /// A function body: a block (always a block, never a map) or an expression.
    pub(super) fn fun_body(&mut self) -> PResult<Expr> {
        if self.at(&Token::LBrace) {
            let block = self.parse_block()?;
            let span = block.span;
            Ok(Expr::new(ExprKind::Block(block), span))
        } else {
            self.parse_expr()
        }
    }

    /// `[@sql] class Name [< Super] { members }`.
    fn class_decl(&mut self) -> PResult<ClassDecl> {
        let start = self.span();
        let mut doc = self.docs.remove(&self.pos);
        let mut sql = false;
        if self.eat(&Token::At) {
            match *self.peek() {
                Token::Ident("sql") => {
                    self.bump();
                    sql = true;
                }
                Token::Ident(other) => {
                    let span = self.span();
                    self.error(
                        format!("unknown attribute '@{other}' (the only attribute is '@sql')"),
                        span,
                    );
                    self.bump();
                }
                _ => return Err(self.expected("'sql' after '@'")),
            }
            if !self.at(&Token::Class) {
                return Err(self.expected("'class' after '@sql'"));
            }
        }
        if doc.is_none() {
            doc = self.docs.remove(&self.pos);
        }
        self.expect(&Token::Class, "'class'")?;
        let name = self.expect_ident("class name")?;
        let superclass = if self.eat(&Token::Lt) {
            Some(self.expect_ident("superclass name")?)
        } else {
            None
        };
        let open = self.expect(&Token::LBrace, "'{'")?;
        let mut fields = Vec::new();
        let mut methods = Vec::new();
        self.nested(|p| {
            loop {
                if p.fatal || p.at_eof() || p.at(&Token::RBrace) {
                    break;
                }
                let member_start = p.pos;
                let result = match p.peek() {
                    Token::Var => p.field_decl().map(|f| fields.push(f)),
                    Token::Fun => {
                        let doc = p.docs.remove(&p.pos);
                        p.fun_decl(doc, false).map(|m| methods.push(m))
                    }
                    Token::Semi => {
                        p.bump();
                        Ok(())
                    }
                    _ => Err(p.expected("'var', 'fun' or '}' in class body")),
                };
                if result.is_err() {
                    if p.fatal {
                        break;
                    }
                    p.sync(member_start);
                    if p.pos == member_start {
                        p.bump();
                    }
                }
            }
            Ok(())
        })?;
        if self.fatal {
            return Err(Fail);
        }
        let close = self.expect(&Token::RBrace, "'}'")?;
        let _ = open;
        Ok(ClassDecl {
            name,
            superclass,
            fields,
            methods,
            sql,
            doc,
            span: start.to(close),
            defaults_info: FunInfo::default(),
        })
    }

    /// `var name [= default];` in a class body. (A `///` comment above a field is accepted
    /// but not stored: `FieldDecl` has no `doc`.)
    fn field_decl(&mut self) -> PResult<FieldDecl> {
        self.docs.remove(&self.pos);
        let start = self.bump();
        let name = self.expect_ident("field name")?;
        let default = if self.eat(&Token::Eq) {
            Some(self.parse_expr()?)
        } else {
            None
        };
        self.stmt_end(false)?;
        Ok(FieldDecl {
            name,
            default,
            span: start.to(self.prev_span()),
        })
    }
}
