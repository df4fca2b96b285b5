//! Hints for habits from other languages: what Python, JavaScript, C, Rust or Lua users
//! write where Walia has another spelling. Each hint is shown as a `hint:` line under the
//! diagnostic the habit caused; only constructs Walia really lacks get one.
//!
//! The lexer asks [`operator_hint`] about characters that start no token, the resolver asks
//! [`name_hint`] about undeclared names, and the parser matches token patterns
//! (`parser/habits.rs`) with the texts below.

/// `&&`.
pub const AND: &str = "Walia writes `and`: `a and b`";
/// `||`.
pub const OR: &str = "Walia writes `or`: `a or b`";
/// `**`.
pub const POW: &str = "Walia has no `**` operator: write `pow(a, b)`";
/// `7 // 2` (Python's integer division), read as `7` and a comment.
pub const FLOOR_DIV: &str =
    "`//` starts a comment; for integer division write `7 ~/ 2` or `div(7, 2)`";
/// `i++`, `++i`.
pub const INCREMENT: &str = "Walia has no `++`: write `i += 1`";
/// `i--`.
pub const DECREMENT: &str = "Walia has no `--`: write `i -= 1`";
/// `===`.
pub const STRICT_EQ: &str = "Walia has no `===`: `==` already compares without conversion";
/// `!==`.
pub const STRICT_NE: &str = "Walia has no `!==`: `!=` already compares without conversion";
/// `c ? a : b`.
pub const TERNARY: &str = "Walia has no `? :`; `if` is an expression: `if (c) a else b`";
/// `'text'`, `` `text` ``.
pub const QUOTES: &str = "strings are written in double quotes: \"text\"";
/// `# comment`.
pub const HASH_COMMENT: &str = "comments start with `//` (or `/* ... */`)";
/// `function f()`, `def f()`, `fn f()`, `func f()`.
pub const FUNCTION: &str = "functions are declared with `fun`: `fun name(a, b) { ... }`";
/// `let x`, `const x`, `int x`.
pub const VARIABLE: &str = "variables are declared with `var`: `var x = 1;`";
/// `elif`, `elsif`, `elseif`.
pub const ELSE_IF: &str = "write `else if (cond) { ... }`";
/// `not x`.
pub const NOT: &str = "Walia writes `!`: `!x`";
/// `switch (x) { case ... }`.
pub const SWITCH: &str = "Walia has `match`: `match x { 1 => a, 2..5 => b, _ => c }`";
/// `for (var i = 0; i < n; i++)`.
pub const C_FOR: &str = "`for` walks over a range (`0..n` counts from 0 to n - 1), list, \
                         map, string, table or stream; other loops use `while (cond) { ... }`";
/// `for (var x in xs)`, `for (let x of xs)`.
pub const FOR_VAR: &str = "the loop variable is declared by the loop: `for (x in xs)`";
/// `for (x of xs)`.
pub const FOR_OF: &str = "write `in`: `for (x in xs)`";
/// `if x == 1:`, `for x in xs:`, `while x:`.
pub const PARENS: &str = "the condition goes in parentheses: `if (cond) { ... }`, \
                          `while (cond) { ... }`, `for (x in xs) { ... }`";
/// `print(a, b)`.
pub const PRINT_ONE: &str = "`print` takes one value: join values with `+`, as in \
                             `print a + \" \" + b;` (a string on either side converts the other), \
                             or print a list: `print [a, b];`";

/// The hint for characters that start no Walia token (`text` is the whole run of them).
pub fn operator_hint(text: &str) -> Option<&'static str> {
    Some(match text {
        "&&" => AND,
        "||" => OR,
        "?" => TERNARY,
        "'" | "`" => QUOTES,
        "#" => HASH_COMMENT,
        _ => return None,
    })
}

/// The hint for an undeclared name that another language has as a keyword or builtin.
pub fn name_hint(name: &str) -> Option<&'static str> {
    Some(match name {
        "null" | "NULL" | "None" | "undefined" | "nullptr" => {
            "Walia's value for \"nothing\" is `nil`"
        }
        "True" | "TRUE" => "booleans are lowercase: `true`",
        "False" | "FALSE" => "booleans are lowercase: `false`",
        "self" => "inside a method the instance is `this`",
        "console" | "println" | "printf" | "puts" | "echo" => "`print` is a statement: `print x;`",
        "length" | "size" => "the length of a string, list or map is `len(x)` (or `x.length()`)",
        "typeof" => "the type of a value is `type_of(x)`",
        "Math" | "math" => "math functions are globals: `pow(a, b)`, `sqrt(x)`, `floor(x)`...",
        _ => return None,
    })
}

/// The hint for a word used where a statement or declaration was expected, when another
/// language uses it as a keyword (`function f`, `let x`, `elif x`, `not x`).
pub fn keyword_hint(word: &str) -> Option<&'static str> {
    Some(match word {
        "function" | "def" | "fn" | "func" => FUNCTION,
        "let" | "const" | "mut" | "int" | "float" | "double" | "auto" | "string" | "bool" => {
            VARIABLE
        }
        "elif" | "elsif" | "elseif" => ELSE_IF,
        "not" => NOT,
        "switch" => SWITCH,
        _ => return None,
    })
}

/// Walia's names for methods that other languages spell differently (`xs.size()`,
/// `s.toUpperCase()`), most likely first; a caller suggests the first one the value has.
pub fn method_aliases(name: &str) -> &'static [&'static str] {
    match name {
        "len" | "size" | "count" => &["length", "count"],
        "append" | "push_back" => &["push"],
        "toUpperCase" | "upcase" | "to_upper" | "to_uppercase" | "toupper" => &["upper"],
        "toLowerCase" | "downcase" | "to_lower" | "to_lowercase" | "tolower" => &["lower"],
        "strip" => &["trim"],
        "includes" | "has" | "contains_key" | "has_key" | "containsKey" => &["contains", "has"],
        "indexOf" | "index" => &["find"],
        "substring" | "slice" => &["substr"],
        "delete" | "del" | "erase" => &["remove"],
        "sorted" => &["sort"],
        "forEach" | "for_each" => &["each"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_foreign_spellings_get_hints() {
        assert_eq!(operator_hint("&&"), Some(AND));
        assert_eq!(operator_hint("&&&"), None);
        assert_eq!(name_hint("None"), name_hint("null"));
        assert_eq!(name_hint("nil"), None);
        assert_eq!(keyword_hint("def"), Some(FUNCTION));
        assert_eq!(keyword_hint("fun"), None);
    }
}
