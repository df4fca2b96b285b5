//! The Walia lexer: a logos-generated scanner plus a post-pass ([`lex`]) that turns lexer
//! errors into [`Diagnostic`]s, drops comments and attaches `///` doc comments to the
//! declaration token that follows them.

use crate::ast::Span;
use crate::diagnostic::Diagnostic;
use logos::Logos;
use std::collections::HashMap;
use std::fmt;

/// What went wrong inside one token. Converted to diagnostics by [`lex`].
#[derive(Debug, Default, Clone, PartialEq)]
pub enum LexError {
    /// A character that starts no token.
    #[default]
    Invalid,
    /// An integer literal that does not fit in 64 bits.
    IntTooLarge,
    /// `.5`: a number needs a digit before its `.`.
    LeadingDot,
    /// Bad escapes in a string: (start, end, message), absolute byte offsets.
    BadString(Vec<(usize, usize, String)>),
    UnterminatedString,
    UnterminatedComment,
}

#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token<'s> {
    /// `// text` (dropped by [`lex`], which notes the ones that look like swallowed code).
    #[regex(r"//([^/\n][^\n]*)?|////[^\n]*", |lex| lex.slice(), allow_greedy = true)]
    LineComment(&'s str),
    /// `/// text` (dropped by [`lex`], which attaches it to the next declaration).
    #[regex(r"///([^/\n][^\n]*)?", |lex| lex.slice(), allow_greedy = true)]
    DocComment(&'s str),
    /// `/* ... */` (dropped by [`lex`]).
    #[token("/*", block_comment)]
    BlockComment,

    // Literals. Integers are kept as u64 so that `-9223372036854775808` can be written;
    // the parser rejects values above i64::MAX elsewhere.
    #[regex(r"[0-9][0-9_]*", |lex| int_literal(lex.slice(), 10))]
    #[regex(r"0[xX][0-9a-fA-F][0-9a-fA-F_]*", |lex| int_literal(&lex.slice()[2..], 16))]
    #[regex(r"0[bB][01][01_]*", |lex| int_literal(&lex.slice()[2..], 2))]
    Int(u64),
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9][0-9_]*)?", |lex| float_literal(lex.slice()))]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9][0-9_]*", |lex| float_literal(lex.slice()))]
    #[regex(r"\.[0-9][0-9_]*([eE][+-]?[0-9][0-9_]*)?", leading_dot)]
    Float(f64),
    /// A string literal with its escapes decoded.
    #[token("\"", string_literal)]
    Str(String),
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'s str),

    // Keywords.
    #[token("and")]
    And,
    #[token("break")]
    Break,
    #[token("class")]
    Class,
    #[token("continue")]
    Continue,
    #[token("else")]
    Else,
    #[token("false")]
    False,
    #[token("for")]
    For,
    #[token("fun")]
    Fun,
    #[token("fused")]
    Fused,
    #[token("if")]
    If,
    #[token("in")]
    In,
    #[token("match")]
    Match,
    #[token("nil")]
    Nil,
    #[token("or")]
    Or,
    #[token("print")]
    Print,
    #[token("return")]
    Return,
    #[token("super")]
    Super,
    #[token("test")]
    Test,
    #[token("this")]
    This,
    #[token("true")]
    True,
    #[token("var")]
    Var,
    #[token("while")]
    While,

    // Operators and punctuation.
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    /// `~/`: floored integer division (`//` starts a comment).
    #[token("~/")]
    TildeSlash,
    #[token("&")]
    Amp,
    #[token("|")]
    Bar,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    /// `&&`, `||` (and longer runs): other languages' logical operators, reported as
    /// unexpected characters with a hint rather than read as two bit operators.
    #[regex(r"&&+|\|\|+", doubled_logical)]
    DoubledLogical,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("!")]
    Bang,
    #[token("=")]
    Eq,
    #[token("+=")]
    PlusEq,
    #[token("-=")]
    MinusEq,
    #[token("*=")]
    StarEq,
    #[token("/=")]
    SlashEq,
    #[token("|>")]
    Pipe,
    #[token("=>")]
    FatArrow,
    #[token("..")]
    DotDot,
    #[token(".")]
    Dot,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("@")]
    At,

    /// Added by [`lex`] at the end of the token list (span `len..len`).
    Eof,
    /// Stands for text the lexer already reported; the parser never reports it again.
    Error,
}

fn int_literal(digits: &str, radix: u32) -> Result<u64, LexError> {
    let mut value: u64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(radix).ok_or(LexError::Invalid)?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(LexError::IntTooLarge)?;
    }
    Ok(value)
}

fn doubled_logical<'s>(_: &mut logos::Lexer<'s, Token<'s>>) -> Result<(), LexError> {
    Err(LexError::Invalid)
}

fn leading_dot<'s>(_: &mut logos::Lexer<'s, Token<'s>>) -> Result<f64, LexError> {
    Err(LexError::LeadingDot)
}

fn float_literal(text: &str) -> Result<f64, LexError> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    clean.parse::<f64>().map_err(|_| LexError::Invalid)
}

fn block_comment<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> Result<(), LexError> {
    let rest = lex.remainder();
    match rest.find("*/") {
        Some(i) => {
            lex.bump(i + 2);
            Ok(())
        }
        None => {
            lex.bump(rest.len());
            Err(LexError::UnterminatedComment)
        }
    }
}

/// Scans a string literal after its opening quote, decoding escapes.
fn string_literal<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> Result<String, LexError> {
    let rest = lex.remainder();
    let base = lex.span().end; // absolute offset of rest[0]
    let bytes = rest.as_bytes();
    let mut out = String::new();
    let mut errors = Vec::new();
    let mut i = 0;
    loop {
        let Some(c) = rest.get(i..).and_then(|r| r.chars().next()) else {
            lex.bump(rest.len());
            return Err(LexError::UnterminatedString);
        };
        match c {
            '"' => {
                lex.bump(i + 1);
                break;
            }
            '\\' => {
                let esc_start = i;
                let Some(e) = rest.get(i + 1..).and_then(|r| r.chars().next()) else {
                    lex.bump(rest.len());
                    return Err(LexError::UnterminatedString);
                };
                i += 1 + e.len_utf8();
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '0' => out.push('\0'),
                    'u' => {
                        // \u{XXXX}: 1 to 6 hex digits.
                        let mut ok = bytes.get(i) == Some(&b'{');
                        let mut code: u32 = 0;
                        let mut ndigits = 0;
                        if ok {
                            i += 1;
                            while let Some(&b) = bytes.get(i) {
                                let Some(d) = (b as char).to_digit(16) else {
                                    break;
                                };
                                code = code.saturating_mul(16).saturating_add(d);
                                ndigits += 1;
                                i += 1;
                            }
                            if bytes.get(i) == Some(&b'}') {
                                i += 1;
                            } else {
                                ok = false;
                            }
                        }
                        match char::from_u32(code).filter(|_| ok && (1..=6).contains(&ndigits)) {
                            Some(ch) => out.push(ch),
                            None => {
                                let msg = if ok && (1..=6).contains(&ndigits) {
                                    "invalid unicode code point in escape".to_string()
                                } else {
                                    "invalid unicode escape: expected \\u{XXXX} with 1 to 6 hex digits"
                                        .to_string()
                                };
                                errors.push((base + esc_start, base + i, msg));
                            }
                        }
                    }
                    other => {
                        let shown: String = other.escape_debug().collect();
                        errors.push((
                            base + esc_start,
                            base + i,
                            format!("unknown escape sequence '\\{shown}'"),
                        ));
                    }
                }
            }
            c => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(LexError::BadString(errors))
    }
}

impl Token<'_> {
    /// The source text of a keyword or punctuation token.
    pub fn fixed_text(&self) -> Option<&'static str> {
        use Token::*;
        Some(match self {
            And => "and",
            Break => "break",
            Class => "class",
            Continue => "continue",
            Else => "else",
            False => "false",
            For => "for",
            Fun => "fun",
            Fused => "fused",
            If => "if",
            In => "in",
            Match => "match",
            Nil => "nil",
            Or => "or",
            Print => "print",
            Return => "return",
            Super => "super",
            Test => "test",
            This => "this",
            True => "true",
            Var => "var",
            While => "while",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            TildeSlash => "~/",
            Amp => "&",
            Bar => "|",
            Caret => "^",
            Tilde => "~",
            Shl => "<<",
            Shr => ">>",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Bang => "!",
            Eq => "=",
            PlusEq => "+=",
            MinusEq => "-=",
            StarEq => "*=",
            SlashEq => "/=",
            Pipe => "|>",
            FatArrow => "=>",
            DotDot => "..",
            Dot => ".",
            Comma => ",",
            Semi => ";",
            Colon => ":",
            LParen => "(",
            RParen => ")",
            LBracket => "[",
            RBracket => "]",
            LBrace => "{",
            RBrace => "}",
            At => "@",
            _ => return None,
        })
    }

    /// The keyword's text when this token is a keyword (usable as a field name or map key).
    pub fn keyword_text(&self) -> Option<&'static str> {
        self.fixed_text()
            .filter(|t| t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic))
    }
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(s) => write!(f, "identifier '{s}'"),
            Token::Int(_) | Token::Float(_) => f.write_str("number"),
            Token::Str(_) => f.write_str("string"),
            Token::DocComment(_) => f.write_str("doc comment"),
            Token::BlockComment => f.write_str("comment"),
            Token::Eof => f.write_str("end of input"),
            Token::Error => f.write_str("invalid token"),
            other => write!(f, "'{}'", other.fixed_text().unwrap_or("?")),
        }
    }
}

/// The result of lexing a whole source text.
#[derive(Debug)]
pub struct Lexed<'s> {
    /// All tokens, comments removed, ending with [`Token::Eof`].
    pub tokens: Vec<(Token<'s>, Span)>,
    /// Doc comments by index (into `tokens`) of the `var`, `fun`, `class` or `@` they precede.
    pub docs: HashMap<usize, String>,
    pub diags: Vec<Diagnostic>,
    /// An unterminated string or comment ran to the end of the input.
    pub unterminated: bool,
    /// Start offsets of `//` comments whose text reads like the rest of a statement
    /// (`print 7 // 2;`): another language's integer division swallowed as a comment.
    pub code_comments: Vec<u32>,
}

/// A comment text (after `//`) that reads like the end of an expression statement: an
/// operand first and a `;` last (`// 2;`, `// n) + 1;`), unlike prose.
fn looks_like_code(text: &str) -> bool {
    let t = text.trim();
    let first_is_operand = t
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '(');
    first_is_operand && t.ends_with(';')
}

/// Lexes `src`. Never fails: errors become diagnostics plus (where the parser would
/// otherwise report the same spot again) [`Token::Error`] tokens.
pub fn lex(src: &str) -> Lexed<'_> {
    let mut tokens: Vec<(Token<'_>, Span)> = Vec::new();
    let mut docs = HashMap::new();
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut unterminated = false;
    let mut code_comments = Vec::new();
    let mut pending_doc: Option<String> = None;
    // End of the last run of invalid characters (merged into one diagnostic).
    let mut invalid_run: Option<(usize, usize)> = None; // (diag index, end)
    let mut lexer = Token::lexer(src);
    // A leading byte order mark is skipped (spans stay offsets into `src`).
    if src.starts_with('\u{feff}') {
        lexer.bump('\u{feff}'.len_utf8());
    }
    while let Some(res) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(range.start, range.end);
        let tok = match res {
            Ok(Token::DocComment(text)) => {
                let text = text.get(3..).unwrap_or("");
                let text = text.strip_prefix(' ').unwrap_or(text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                match &mut pending_doc {
                    Some(doc) => {
                        doc.push('\n');
                        doc.push_str(text);
                    }
                    None => pending_doc = Some(text.to_string()),
                }
                continue;
            }
            Ok(Token::BlockComment) => continue,
            Ok(Token::LineComment(text)) => {
                if looks_like_code(text.get(2..).unwrap_or("")) {
                    code_comments.push(range.start as u32);
                }
                continue;
            }
            Ok(t) => t,
            Err(LexError::Invalid) => {
                if let Some((idx, end)) = invalid_run
                    && end == range.start
                    && let Some(d) = diags.get_mut(idx)
                {
                    d.span.end = range.end as u32;
                    let text = src.get(d.span.range()).unwrap_or("");
                    d.message = format!("unexpected characters '{text}'");
                    invalid_run = Some((idx, range.end));
                    continue;
                }
                let text = src.get(range.clone()).unwrap_or("");
                invalid_run = Some((diags.len(), range.end));
                let plural = if text.chars().count() > 1 { "s" } else { "" };
                diags.push(Diagnostic::new(
                    format!("unexpected character{plural} '{text}'"),
                    span,
                ));
                Token::Error
            }
            Err(LexError::IntTooLarge) => {
                diags.push(Diagnostic::new("integer literal too large", span));
                Token::Int(0)
            }
            Err(LexError::LeadingDot) => {
                let text = src.get(range.clone()).unwrap_or("");
                diags.push(
                    Diagnostic::new(format!("invalid number '{text}'"), span)
                        .with_label("a number needs a digit before '.'")
                        .with_note(format!("write 0{text}")),
                );
                Token::Error
            }
            Err(LexError::BadString(errors)) => {
                for (start, end, msg) in errors {
                    diags.push(Diagnostic::new(msg, Span::new(start, end)));
                }
                Token::Str(String::new())
            }
            Err(LexError::UnterminatedString) => {
                unterminated = true;
                diags.push(
                    Diagnostic::new(
                        "unterminated string",
                        Span::new(range.start, range.start + 1),
                    )
                    .with_label("this string is never closed"),
                );
                Token::Str(String::new())
            }
            Err(LexError::UnterminatedComment) => {
                unterminated = true;
                diags.push(
                    Diagnostic::new(
                        "unterminated block comment",
                        Span::new(range.start, range.start + 2),
                    )
                    .with_label("this comment is never closed"),
                );
                continue;
            }
        };
        if let Some(doc) = pending_doc.take()
            && matches!(tok, Token::Var | Token::Fun | Token::Class | Token::At)
        {
            docs.insert(tokens.len(), doc);
        }
        tokens.push((tok, span));
    }
    tokens.push((Token::Eof, Span::new(src.len(), src.len())));
    for d in &mut diags {
        let invalid = d.message.starts_with("unexpected character");
        if let Some(hint) = src
            .get(d.span.range())
            .filter(|_| invalid)
            .and_then(crate::habits::operator_hint)
        {
            d.hints.push(hint.to_string());
        }
    }
    Lexed {
        tokens,
        docs,
        diags,
        unterminated,
        code_comments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Token<'_>> {
        let l = lex(src);
        assert!(l.diags.is_empty(), "{src}: {:?}", l.diags);
        l.tokens.into_iter().map(|t| t.0).collect()
    }

    fn errs(src: &str) -> Vec<(String, Span)> {
        lex(src)
            .diags
            .into_iter()
            .map(|d| (d.message, d.span))
            .collect()
    }

    #[test]
    fn numbers() {
        use Token::*;
        assert_eq!(
            toks("42 1_000_000 0x1F 0b1010 3.25 2.5e-3 1e6"),
            vec![
                Int(42),
                Int(1_000_000),
                Int(31),
                Int(10),
                Float(3.25),
                Float(2.5e-3),
                Float(1e6),
                Eof
            ]
        );
        assert_eq!(toks("5.97e24"), vec![Float(5.97e24), Eof]);
        assert_eq!(toks("1..5"), vec![Int(1), DotDot, Int(5), Eof]);
        assert_eq!(
            toks("123.abs()"),
            vec![Int(123), Dot, Ident("abs"), LParen, RParen, Eof]
        );
        assert_eq!(toks("9223372036854775808"), vec![Int(1 << 63), Eof]);
    }

    #[test]
    fn number_errors() {
        assert_eq!(
            errs("x = 99999999999999999999;"),
            vec![("integer literal too large".to_string(), Span::new(4, 24))]
        );
        assert_eq!(
            errs("0x1_0000_0000_0000_0000"),
            vec![("integer literal too large".to_string(), Span::new(0, 23))]
        );
        assert_eq!(
            errs("x = .5;"),
            vec![("invalid number '.5'".to_string(), Span::new(4, 6))]
        );
    }

    #[test]
    fn keywords_are_whole_words() {
        use Token::*;
        assert_eq!(
            toks("index init item format iff fun funny _ test"),
            vec![
                Ident("index"),
                Ident("init"),
                Ident("item"),
                Ident("format"),
                Ident("iff"),
                Fun,
                Ident("funny"),
                Ident("_"),
                Test,
                Eof
            ]
        );
    }

    #[test]
    fn bit_operators() {
        use Token::*;
        assert_eq!(
            toks("a & b | c ^ ~d << 1 >> 2 ~/ 3 |> f"),
            vec![
                Ident("a"),
                Amp,
                Ident("b"),
                Bar,
                Ident("c"),
                Caret,
                Tilde,
                Ident("d"),
                Shl,
                Int(1),
                Shr,
                Int(2),
                TildeSlash,
                Int(3),
                Pipe,
                Ident("f"),
                Eof
            ]
        );
        // `//` still starts a comment; `~/` is one token.
        assert_eq!(toks("7 // 2"), vec![Int(7), Eof]);
        assert_eq!(toks("7~/2"), vec![Int(7), TildeSlash, Int(2), Eof]);
        assert_eq!(
            errs("a && b"),
            vec![("unexpected characters '&&'".to_string(), Span::new(2, 4))]
        );
    }

    #[test]
    fn operators() {
        use Token::*;
        assert_eq!(
            toks("+= -= *= /= |> => .. . == != <= >= ! = @ %"),
            vec![
                PlusEq, MinusEq, StarEq, SlashEq, Pipe, FatArrow, DotDot, Dot, EqEq, NotEq, Le, Ge,
                Bang, Eq, At, Percent, Eof
            ]
        );
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks(r#""a\n\t\r\\\"\0\u{1F600}b""#),
            vec![Token::Str("a\n\t\r\\\"\0\u{1F600}b".into()), Token::Eof]
        );
        assert_eq!(
            toks("\"two\nlines é\""),
            vec![Token::Str("two\nlines é".into()), Token::Eof]
        );
        assert_eq!(
            errs(r#"x = "a\qb\u{D800}c\u{zz}";"#),
            vec![
                ("unknown escape sequence '\\q'".to_string(), Span::new(6, 8)),
                (
                    "invalid unicode code point in escape".to_string(),
                    Span::new(9, 17)
                ),
                (
                    "invalid unicode escape: expected \\u{XXXX} with 1 to 6 hex digits".to_string(),
                    Span::new(18, 21)
                ),
            ]
        );
        assert_eq!(
            errs("x = \"abc"),
            vec![("unterminated string".to_string(), Span::new(4, 5))]
        );
        assert_eq!(
            errs("x = \"abc\\"),
            vec![("unterminated string".to_string(), Span::new(4, 5))]
        );
    }

    #[test]
    fn comments_and_docs() {
        use Token::*;
        assert_eq!(
            toks("a // c\n b /* x * / */ c //// not doc\n"),
            vec![Ident("a"), Ident("b"), Ident("c"), Eof]
        );
        let l = lex("/// First line\n///second\nvar x; /// dangling\n1; /// f\n@sql class C {}");
        assert!(l.diags.is_empty());
        assert_eq!(
            l.docs.get(&0).map(String::as_str),
            Some("First line\nsecond")
        );
        assert_eq!(l.docs.get(&5).map(String::as_str), Some("f"));
        assert_eq!(l.docs.len(), 2);
        assert_eq!(
            errs("a /* never closed"),
            vec![("unterminated block comment".to_string(), Span::new(2, 4))]
        );
    }

    #[test]
    fn invalid_characters_merge() {
        assert_eq!(
            errs("a $$ b # c"),
            vec![
                ("unexpected characters '$$'".to_string(), Span::new(2, 4)),
                ("unexpected character '#'".to_string(), Span::new(7, 8)),
            ]
        );
        assert_eq!(
            errs("a € b"),
            vec![("unexpected character '€'".to_string(), Span::new(2, 5))]
        );
    }

    #[test]
    fn operators_of_other_languages_get_hints() {
        let hints = |src: &str| -> Vec<Vec<String>> {
            lex(src).diags.into_iter().map(|d| d.hints).collect()
        };
        assert_eq!(hints("a && b"), vec![vec![crate::habits::AND.to_string()]]);
        assert_eq!(hints("a || b"), vec![vec![crate::habits::OR.to_string()]]);
        assert_eq!(
            hints("a ? b : c"),
            vec![vec![crate::habits::TERNARY.to_string()]]
        );
        assert_eq!(hints("a $ b"), vec![Vec::<String>::new()]);
        // A longer run is not the operator.
        assert_eq!(hints("a &&& b"), vec![Vec::<String>::new()]);
    }

    #[test]
    fn token_display() {
        assert_eq!(Token::Pipe.to_string(), "'|>'");
        assert_eq!(Token::Ident("x").to_string(), "identifier 'x'");
        assert_eq!(Token::Eof.to_string(), "end of input");
        assert_eq!(Token::Var.to_string(), "'var'");
    }
}
