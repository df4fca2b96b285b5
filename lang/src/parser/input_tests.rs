//! [`ParseMode::Input`]: one expression when the text is one, a script otherwise.

use super::tests::stmt;
use super::{ParseMode, parse_with};

/// The statements of `src` read as an input, printed; panics on errors.
#[track_caller]
fn input(src: &str) -> String {
    let (prog, diags) = parse_with(src, ParseMode::Input);
    assert!(diags.is_empty(), "{src:?} gave errors: {diags:#?}");
    prog.stmts.iter().map(stmt).collect::<Vec<_>>().join("\n")
}

/// The first diagnostic of `src` read as an input: (message, span text).
#[track_caller]
fn input_error(src: &str) -> (String, String) {
    let (prog, diags) = parse_with(src, ParseMode::Input);
    let d = diags.first().unwrap_or_else(|| panic!("{src:?} parsed"));
    assert!(prog.stmts.is_empty() || !diags.is_empty());
    (
        d.message.clone(),
        src.get(d.span.range()).unwrap_or("<bad span>").to_string(),
    )
}

#[test]
fn a_brace_that_starts_an_input_is_a_map_when_the_input_is_one_expression() {
    assert_eq!(input("{a: 1, b: [1, 2]}"), "{\"a\": 1 \"b\": [1 2]}");
    assert_eq!(input("{a: 1};"), "{\"a\": 1};");
    assert_eq!(input("{}"), "{}");
    assert_eq!(input("{\"k\": 1}.keys()"), "(call (. {\"k\": 1} keys))");
    // As a script the same text is a block.
    assert!(!super::parse("{a: 1, b: [1, 2]}").1.is_empty());
    assert_eq!(stmt(&super::parse("{}").0.stmts[0]), "{ }");
}

#[test]
fn inputs_that_are_not_one_expression_are_scripts() {
    assert_eq!(input("var x = 1; x + 1"), "(var x 1)\n(+ x 1)");
    assert_eq!(input("x = 1; y"), "(= x 1);\ny");
    assert_eq!(input("{ var x = 1; x }"), "{ (var x 1) x }");
    assert_eq!(
        input("fun f(a) { return a; }"),
        "(fun f (a) { (return a) })"
    );
    assert_eq!(input("1 + 2"), "(+ 1 2)");
    assert_eq!(input(""), "");
}

#[test]
fn the_reading_that_got_further_reports_the_error() {
    // A broken map: the expression reading's error, not "expected ';', found ':'".
    assert_eq!(
        input_error("{a: 1, b: }"),
        (
            "expected expression, found '}'".to_string(),
            "}".to_string()
        )
    );
    // A broken script: the script reading's error.
    assert_eq!(input_error("var = 3;").1, "=");
    let (message, _) = input_error("1 + 2 3");
    assert!(message.contains("';'"), "{message}");
    // A map left open ends at the end of the input.
    assert_eq!(input_error("{a: 1} |>").1, "");
}
