//! Parser tests of slices, destructuring, `for (k, v in ...)` and `import`.

use super::*;

const END: i64 = OPEN_SLICE_END;

#[test]
fn slices_with_open_ends() {
    assert_eq!(e("xs[1..3]"), "(idx xs (.. 1 3))");
    assert_eq!(e("xs[2..]"), format!("(idx xs (.. 2 {END}))"));
    assert_eq!(e("xs[..2]"), "(idx xs (.. 0 2))");
    assert_eq!(e("xs[..]"), format!("(idx xs (.. 0 {END}))"));
    assert_eq!(e("xs[..n - 1]"), "(idx xs (.. 0 (- n 1)))");
    assert_eq!(e("xs[-2..]"), format!("(idx xs (.. (neg 2) {END}))"));
    assert_eq!(e("xs[i + 1..]"), format!("(idx xs (.. (+ i 1) {END}))"));
    // Nested brackets have their own context.
    assert_eq!(e("xs[ys[1..]]"), format!("(idx xs (idx ys (.. 1 {END})))"));
}

#[test]
fn open_ranges_outside_brackets_are_errors() {
    for src in [
        "var r = 1..;",
        "f(1..);",
        "xs[(1..)];",
        "[1..];",
        "xs[f(1..)];",
    ] {
        let (message, _) = err1(src);
        assert_eq!(message, "a range needs an end here", "{src}");
    }
}

#[test]
fn destructuring_declarations() {
    assert_eq!(ok("var [a, b] = p;"), "(var [a b] p)");
    assert_eq!(ok("var [a, _, c] = f();"), "(var [a _ c] (call f))");
    assert_eq!(ok("var [x] = [1];"), "(var [x] [1])");
    assert_eq!(
        err1("var [a, b];").0,
        "expected '=' and a value after `var [...]`, found ';'"
    );
    assert_eq!(
        err1("var [a, a] = p;"),
        (
            "'a' appears twice in one destructuring".to_string(),
            "a".to_string()
        )
    );
    // `_` may repeat.
    assert_eq!(ok("var [_, _] = p;"), "(var [_ _] p)");
}

#[test]
fn destructuring_assignment_targets() {
    assert_eq!(e("[a, b] = [b, a]"), "(= [a b] [b a])");
    assert_eq!(e("[o.x, l[i], _] = v"), "(= [(. o x) (idx l i) _] v)");
    assert_eq!(err1("[a, 1] = v;").0, "invalid assignment target");
    assert_eq!(
        err1("[a, b] += v;").0,
        "a destructuring assignment takes `=`"
    );
    assert_eq!(err1("([a, b]) = v;").0, "invalid assignment target");
}

#[test]
fn for_with_two_names() {
    assert_eq!(ok("for (k, v in m) print k;"), "(for k v m (print! k))");
    assert_eq!(ok("for (k in m) print k;"), "(for k m (print! k))");
    assert!(!errs("for (k, in m) print k;").is_empty());
}

#[test]
fn import_is_contextual() {
    assert_eq!(ok("import \"util.wal\";"), "(import \"util.wal\")");
    // Without a string after it, `import` is a name.
    assert_eq!(
        ok("var import = 1; print import;"),
        "(var import 1)\n(print! import)"
    );
    assert_eq!(e("import(1)"), "(call import 1)");
}

#[test]
fn python_slices_get_a_hint() {
    let (_, diags) = parse("print xs[1:3];");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].message, "expected ']', found ':'");
    assert!(
        diags[0].hints.iter().any(|h| h.contains("xs[1..3]")),
        "{diags:?}"
    );
}
