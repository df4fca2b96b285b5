//! The definition text of a checkpointed pipe (SPEC §9) and its fingerprint.
//!
//! A stored cursor is matched to the pipe that runs by name, and the fingerprint tells
//! whether it is still the same pipe. It must not change with layout (reindenting a script
//! must not orphan its cursors), so it is taken over the tokens, not the bytes; and it must
//! be the same in every build of Walia, so it is FNV-1a, not `DefaultHasher` (whose output
//! may change between Rust releases).

use crate::lexer::{Token, lex};

/// `text`'s tokens, each as written in the source, joined with single spaces: whitespace
/// and comments are dropped, so `x=>x*2` and `x => x * 2 // doubled` normalize the same.
/// Literals keep their spelling (`0x10` and `16` differ): this is about layout, not meaning.
pub fn normalize(text: &str) -> String {
    let lexed = lex(text);
    let mut out = String::with_capacity(text.len());
    for (tok, span) in &lexed.tokens {
        if matches!(tok, Token::Eof) {
            continue;
        }
        let Some(piece) = text.get(span.range()) else {
            continue;
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out
}

/// A normalized definition laid out for people (`inspect`, `status()`): the same tokens,
/// without the spaces inside calls, indexing and brackets that [`normalize`] puts between
/// every two of them. Deterministic, so equal definitions show equally.
pub fn display(normalized: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "if", "while", "for", "match", "return", "and", "or", "not", "in", "else", "fun",
    ];
    let lexed = lex(normalized);
    let mut out = String::with_capacity(normalized.len());
    let mut prev: Option<&str> = None;
    for (tok, span) in &lexed.tokens {
        if matches!(tok, Token::Eof) {
            continue;
        }
        let Some(piece) = normalized.get(span.range()) else {
            continue;
        };
        let glued = match prev {
            None => true,
            Some(p) => {
                let word = |s: &str| {
                    s.ends_with([')', ']'])
                        || s.chars()
                            .next()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_')
                };
                matches!(p, "(" | "[" | ".")
                    || matches!(piece, ")" | "]" | "," | ";" | ".")
                    || (matches!(piece, "(" | "[") && word(p) && !KEYWORDS.contains(&p))
            }
        };
        if !glued {
            out.push(' ');
        }
        out.push_str(piece);
        prev = Some(piece);
    }
    out
}

/// FNV-1a, 64 bits, over the UTF-8 bytes of `text` (normally [`normalize`]'s output).
pub fn fingerprint(text: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    text.bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lays_out_calls_and_brackets() {
        let n = normalize(
            "( 1..101 ) |> map(x => { if (x == 57) error(\"boom at \" + str(x)); x * 2 })",
        );
        assert_eq!(
            display(&n),
            "(1 .. 101) |> map(x => { if (x == 57) error(\"boom at \" + str(x)); x * 2 })"
        );
        assert_eq!(
            display(&normalize("db.users|>map(u=>u.rank=u.rank+1)")),
            "db.users |> map(u => u.rank = u.rank + 1)"
        );
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference (Fowler, Noll, Vo): these values are fixed forever.
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fingerprint("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn layout_and_comments_do_not_count() {
        let a = normalize("db.users |> map(x=>x*2) |> checkpoint_at(10)");
        let b = normalize(
            "db.users\n  |> map( x => x * 2 ) // doubled\n  /* every 10 */ |> checkpoint_at(10)",
        );
        assert_eq!(
            a,
            "db . users |> map ( x => x * 2 ) |> checkpoint_at ( 10 )"
        );
        assert_eq!(a, b);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let c = normalize("db.users |> map(x => x * 3) |> checkpoint_at(10)");
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn strings_keep_their_spaces_and_bad_input_does_not_panic() {
        assert_eq!(normalize(r#"f( "a  b" ,1)"#), r#"f ( "a  b" , 1 )"#);
        for s in ["\"open", "/* open", "€ $ #", "0x", ".5", "\u{feff}x"] {
            let _ = fingerprint(&normalize(s));
        }
    }
}
