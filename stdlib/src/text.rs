//! Text helpers beyond SPEC §12's string builtins: padding, characters and code points,
//! repetition, the lines of a string, and parsing numbers with clear errors.
//! @group Text
//!
//! Every one is also a String method (`s.pad_left(8)`); lengths count characters.

use crate::check::*;
use walia_runtime::api::{display, note_alloc, repr, reserve, reserve_str};
use walia_runtime::{RtError, RtResult, Value, Vm};

const S: &[&str] = &["String"];
/// The padding functions also take a number and pad its printed form.
const PADDABLE: &[&str] = &["String", "Int", "Float"];

pub fn install(vm: &mut Vm) {
    leaf_both(vm, PADDABLE, "pad_left", 2, 3, pad_left);
    leaf_both(vm, PADDABLE, "pad_right", 2, 3, pad_right);
    leaf_both(vm, PADDABLE, "center", 2, 3, center);
    leaf_both(vm, S, "chars", 1, 1, chars);
    leaf_both(vm, S, "ord", 1, 1, ord);
    leaf_global(vm, "chr", 1, 1, chr);
    leaf_method(vm, &["Int"], "chr", 1, 1, chr);
    leaf_both(vm, &["String", "List"], "repeat", 2, 2, repeat);
    leaf_both(vm, S, "split_lines", 1, 1, split_lines);
    leaf_both(vm, S, "parse_int", 1, 2, parse_int);
    leaf_both(vm, S, "parse_float", 1, 1, parse_float);
}

/// What a one-character string costs beyond its text (as `split` counts it).
const PIECE_OVERHEAD: usize = 48;

/// `s` (a string, or any value's printed form), its width in characters, and `fill`.
fn pad_args(a: &[Value], fname: &str) -> RtResult<(String, usize, char)> {
    let text = match arg(a, 0) {
        Value::Str(s) => s.as_str().to_string(),
        v => display(v),
    };
    let width = expect_int(a, 1, fname)?.max(0);
    let width = usize::try_from(width).unwrap_or(usize::MAX);
    let fill = match a.get(2) {
        None => ' ',
        Some(_) => {
            let f = expect_str(a, 2, fname)?.as_str();
            let mut cs = f.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(RtError::new(format!(
                        "'{fname}' expects a one-character fill, got {}",
                        repr(arg(a, 2))
                    )));
                }
            }
        }
    };
    Ok((text, width, fill))
}

/// `text` with `left` and `right` fill characters around it.
fn padded(text: &str, fill: char, left: usize, right: usize) -> RtResult<Value> {
    let mut out = String::new();
    let extra = left.saturating_add(right).saturating_mul(fill.len_utf8());
    reserve_str(&mut out, text.len().saturating_add(extra))?;
    out.extend(std::iter::repeat_n(fill, left));
    out.push_str(text);
    out.extend(std::iter::repeat_n(fill, right));
    Ok(Value::str(out))
}

/// How many fill characters `text` lacks to be `width` characters wide.
fn shortfall(text: &str, width: usize) -> usize {
    width.saturating_sub(text.chars().count())
}

/// @builtin pad_left(s, width [, fill]) -> String
/// @builtin s.pad_left(width [, fill]) -> String
///
/// `s` right-aligned in `width` characters: `fill` (one character, a space by default) is
/// added on the left. A number or any other value is padded in its printed form
/// (`pad_left(42, 5)`). A string already `width` characters or longer is returned unchanged,
/// never cut.
///
/// Errors: `width` is not an Int; `fill` is not a one-character String.
///
/// ```walia
/// print pad_left("7", 3, "0");        // -> 007
/// print "[" + pad_left(42, 5) + "]";  // -> [   42]
/// print "abc".pad_left(2);            // -> abc
/// ```
fn pad_left(a: &[Value]) -> RtResult<Value> {
    let (text, width, fill) = pad_args(a, "pad_left")?;
    padded(&text, fill, shortfall(&text, width), 0)
}

/// @builtin pad_right(s, width [, fill]) -> String
/// @builtin s.pad_right(width [, fill]) -> String
///
/// `s` left-aligned in `width` characters: `fill` (one character, a space by default) is
/// added on the right. A non-String is padded in its printed form; a string already wide
/// enough is returned unchanged.
///
/// Errors: `width` is not an Int; `fill` is not a one-character String.
///
/// ```walia
/// print pad_right("ab", 5, ".") + "|";   // -> ab...|
/// print 3.5.pad_right(5) + "|";          // -> 3.5  |
/// ```
fn pad_right(a: &[Value]) -> RtResult<Value> {
    let (text, width, fill) = pad_args(a, "pad_right")?;
    padded(&text, fill, 0, shortfall(&text, width))
}

/// @builtin center(s, width [, fill]) -> String
/// @builtin s.center(width [, fill]) -> String
///
/// `s` centered in `width` characters; when the padding is odd the extra `fill` character
/// goes on the right (as Python's `format` with `^` does). A non-String is centered in its
/// printed form; a string already wide enough is returned unchanged.
///
/// Errors: `width` is not an Int; `fill` is not a one-character String.
///
/// ```walia
/// print center("ab", 6, "*");   // -> **ab**
/// print center("ab", 5, "*");   // -> *ab**
/// ```
fn center(a: &[Value]) -> RtResult<Value> {
    let (text, width, fill) = pad_args(a, "center")?;
    let missing = shortfall(&text, width);
    padded(&text, fill, missing / 2, missing - missing / 2)
}

/// @builtin chars(s) -> List
/// @builtin s.chars() -> List
///
/// The characters of `s` (Unicode scalar values) as a list of one-character strings. A
/// pipeline reads a string character by character already (`s |> filter(...)`); `chars`
/// makes the list.
///
/// Errors: `s` is not a String.
///
/// ```walia
/// print chars("héj");          // -> ["h", "é", "j"]
/// print "ab".chars().length(); // -> 2
/// ```
fn chars(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "chars")?.as_str();
    let mut out = Vec::new();
    for (i, c) in s.char_indices() {
        reserve(&mut out, 1)?;
        if out.len().is_multiple_of(1 << 16) {
            note_alloc((1 << 16) * PIECE_OVERHEAD)?;
        }
        out.push(Value::text(&s[i..i + c.len_utf8()]));
    }
    Ok(Value::list(out))
}

/// @builtin ord(c) -> Int
/// @builtin c.ord() -> Int
///
/// The Unicode code point of the one character in `c`.
///
/// Errors: `c` is not a String of exactly one character.
///
/// ```walia
/// print ord("A");    // -> 65
/// print "€".ord();   // -> 8364
/// ```
fn ord(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "ord")?.as_str();
    let mut cs = s.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) => Ok(Value::Int(u32::from(c) as i64)),
        _ => Err(RtError::new(format!(
            "'ord' expects a one-character String, got {}",
            repr(arg(a, 0))
        ))),
    }
}

/// @builtin chr(n) -> String
/// @builtin n.chr() -> String
///
/// The one-character string of Unicode code point `n`.
///
/// Errors: `n` is not an Int; `n` is not a Unicode scalar value (negative, above
/// 0x10FFFF, or a surrogate 0xD800..0xDFFF).
///
/// ```walia
/// print chr(97);          // -> a
/// print chr(0x1F600) == "\u{1F600}";  // -> true
/// ```
fn chr(a: &[Value]) -> RtResult<Value> {
    let n = expect_int(a, 0, "chr")?;
    u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .map(|c| Value::text(c.encode_utf8(&mut [0; 4])))
        .ok_or_else(|| {
            RtError::new(format!(
                "'chr' cannot make a character of {n}: not a Unicode code point"
            ))
        })
}

/// @builtin repeat(s, n) -> String | List
/// @builtin s.repeat(n) -> String | List
///
/// `s` repeated `n` times: a String for a String, a new List for a List (its elements are
/// shared, not copied: `repeat([[]], 2)` holds the same inner list twice). `n` = 0 gives
/// an empty string or list.
///
/// Errors: `s` is not a String or List; `n` is not an Int or is negative; the result
/// exceeds the memory limit.
///
/// ```walia
/// print repeat("ab", 3);    // -> ababab
/// print repeat([0], 3);     // -> [0, 0, 0]
/// print "-".repeat(5);      // -> -----
/// ```
fn repeat(a: &[Value]) -> RtResult<Value> {
    let n = expect_int(a, 1, "repeat")?;
    let n = usize::try_from(n)
        .map_err(|_| RtError::new(format!("'repeat' expects a non-negative count, got {n}")))?;
    match arg(a, 0) {
        // An empty string or list repeated any number of times is empty: no loop over `n`.
        Value::Str(s) if s.as_str().is_empty() => Ok(Value::str("")),
        Value::List(l) if l.items.borrow().is_empty() => Ok(Value::list(Vec::new())),
        Value::Str(s) => {
            let s = s.as_str();
            let mut out = String::new();
            reserve_str(&mut out, s.len().saturating_mul(n))?;
            for _ in 0..n {
                out.push_str(s);
            }
            Ok(Value::str(out))
        }
        Value::List(l) => {
            let items = l.items.borrow();
            let mut out = Vec::new();
            reserve(&mut out, items.len().saturating_mul(n))?;
            for _ in 0..n {
                out.extend(items.iter().cloned());
            }
            Ok(Value::list(out))
        }
        other => Err(type_error("repeat", 0, "String or List", other)),
    }
}

/// @builtin split_lines(s) -> List
/// @builtin s.split_lines() -> List
///
/// The lines of the string `s`, split at `\n` and `\r\n` (the line ends are dropped). A
/// final line end does not make an empty last line: `"a\nb\n"` has two lines, `""` none.
/// It is not called `lines`, which reads the lines of a file as a pipeline source
/// (`lines(path)`).
///
/// Errors: `s` is not a String.
///
/// ```walia
/// print split_lines("one\r\ntwo\nthree\n");   // -> ["one", "two", "three"]
/// print "a\n\nb".split_lines().length();      // -> 3
/// ```
fn split_lines(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "split_lines")?.as_str();
    let mut out = Vec::new();
    for line in s.lines() {
        reserve(&mut out, 1)?;
        if out.len().is_multiple_of(1 << 16) {
            note_alloc((1 << 16) * PIECE_OVERHEAD)?;
        }
        out.push(Value::str(line));
    }
    Ok(Value::list(out))
}

/// @builtin parse_int(s [, base]) -> Int
/// @builtin s.parse_int([base]) -> Int
///
/// The Int written in `s`, in `base` (2 to 36, letters for digits above 9 in either case;
/// 10 by default). Whitespace around the number and one leading `+` or `-` are allowed.
/// Without `base`, a prefix `0x`, `0o` or `0b` selects base 16, 8 or 2; with a base, the
/// prefix of that base is allowed (`parse_int("0xff", 16)`). Underscores are not accepted
/// (unlike in number literals): this parses data, not code. Use `int(x)` to convert a
/// number.
///
/// Errors: `s` is not a String; `base` is not an Int from 2 to 36; the text is not an Int
/// in that base; the value is outside the Int range.
///
/// ```walia
/// print parse_int(" 42 ");        // -> 42
/// print parse_int("ff", 16);      // -> 255
/// print "-0b101".parse_int();     // -> -5
/// ```
fn parse_int(a: &[Value]) -> RtResult<Value> {
    let text = expect_str(a, 0, "parse_int")?.as_str();
    let base = match a.get(1) {
        None => None,
        Some(_) => {
            let b = expect_int(a, 1, "parse_int")?;
            if !(2..=36).contains(&b) {
                return Err(RtError::new(format!(
                    "'parse_int' expects a base from 2 to 36, got {b}"
                )));
            }
            Some(b as u32)
        }
    };
    let fail = |why: &str| {
        let base = base.map(|b| format!(" in base {b}")).unwrap_or_default();
        RtError::new(format!(
            "'parse_int' cannot parse {} as an Int{base}{why}",
            repr(arg(a, 0))
        ))
    };
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let prefixed = |p: &str| {
        t.get(..2)
            .filter(|h| h.eq_ignore_ascii_case(p))
            .map(|_| &t[2..])
    };
    let (radix, digits) = match (base, prefixed("0x"), prefixed("0o"), prefixed("0b")) {
        (None | Some(16), Some(d), _, _) => (16, d),
        (None | Some(8), _, Some(d), _) => (8, d),
        (None | Some(2), _, _, Some(d)) => (2, d),
        (b, _, _, _) => (b.unwrap_or(10), t),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(fail(""));
    }
    let magnitude =
        u64::from_str_radix(digits, radix).map_err(|_| fail(": out of the Int range"))?;
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value
        .map(Value::Int)
        .ok_or_else(|| fail(": out of the Int range"))
}

/// @builtin parse_float(s) -> Float
/// @builtin s.parse_float() -> Float
///
/// The number written in `s` as a Float: decimal (`"2.5"`, `"-.5"`, `"7"`), exponent
/// (`"1e-3"`), or `inf`, `-inf`, `nan`; whitespace around it is allowed. Unlike `float(x)`
/// it takes only a String, so a wrong type is an error rather than a conversion.
///
/// Errors: `s` is not a String; the text is not a number.
///
/// ```walia
/// print parse_float("2.50");     // -> 2.5
/// print " 1e3 ".parse_float();   // -> 1000.0
/// ```
fn parse_float(a: &[Value]) -> RtResult<Value> {
    let s = expect_str(a, 0, "parse_float")?.as_str();
    s.trim().parse::<f64>().map(Value::Float).map_err(|_| {
        RtError::new(format!(
            "'parse_float' cannot parse {} as a Float",
            repr(arg(a, 0))
        ))
    })
}
