//! `format(template, args...)`: Python's `str.format` placeholders and format specs.
//! @group Text
//!
//! The spec grammar is Python's `[[fill]align][sign][0][width][,][.precision][type]` with
//! the types `d f e % x X o b s`; `=` alignment, `#`, `_`, `g` and nested `{}` inside a spec
//! are not supported (a clear error says so).

use crate::check::*;
use std::borrow::Cow;
use walia_runtime::api::{display, reserve_str};
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    leaf_both(vm, &["String"], "format", 1, MANY, format);
}

/// Widths and precisions above this are refused (a typo like `{:99999999}` would otherwise
/// build a huge string).
const MAX_WIDTH: usize = 100_000;

fn fail(msg: impl Into<String>) -> RtError {
    RtError::new(format!("'format': {}", msg.into()))
}

/// @builtin format(template, args...) -> String
/// @builtin template.format(args...) -> String
///
/// Fills the `{}` placeholders of `template` with the arguments, like Python's
/// `str.format`. `{}` takes the next argument, `{0}` the argument at that position (the two
/// styles cannot be mixed in one template), `{name}` the key `name` of a single Map
/// argument; `{{` and `}}` are literal braces. A placeholder without a spec shows the
/// value's printed form (as `str` does).
///
/// After a `:` comes a spec `[[fill]align][sign][0][width][,][.precision][type]`: align `<`
/// (left, the default for text), `>` (right, the default for numbers) or `^` (center), any
/// one character as fill; sign `+` (always), `-` (negatives only, the default) or a space;
/// `0` pads numbers with zeros after the sign; width counts characters; `,` groups
/// thousands; types `d` (Int), `f` and `e` (fixed and exponent notation, precision 6 by
/// default), `%` (times 100, fixed, then `%`), `x` `X` `o` `b` (hex, octal, binary of an
/// Int), `s` (printed form; a precision truncates). Without a type an Int is `d`, a Float
/// with a precision is `f` (Walia has no `g`) and without one its printed form. Fixed
/// notation rounds the exact binary value half to even, as Python does (`{:.2f}` of 2.675
/// is `2.67`).
///
/// String interpolation (`f"..."`) is not part of the language: `format` does the job
/// without a second string syntax.
///
/// Errors: an argument is missing for a placeholder; a name without a single Map argument
/// or a missing key; a malformed or unsupported spec; a type that does not fit the value
/// (`{:d}` of a String, `{:x}` of a Float); an unmatched `{` or `}`.
///
/// ```walia
/// print format("{} is {:.2f}", "pi", 3.14159);     // -> pi is 3.14
/// print format("[{:>10,.2f}|{:<5}|{:^7}]", 1234.5, "ab", "mid");
/// // -> [  1,234.50|ab   |  mid  ]
/// print format("{name} has {n:03d} points", {name: "Ann", n: 7});
/// // -> Ann has 007 points
/// print "{:x} {:b} {:+d} {:.1%}".format(255, 5, 3, 0.256);
/// // -> ff 101 +3 25.6%
/// ```
fn format(a: &[Value]) -> RtResult<Value> {
    let template = expect_str(a, 0, "format")?.as_str();
    let args = a.get(1..).unwrap_or(&[]);
    let mut out = String::new();
    reserve_str(&mut out, template.len())?;
    let mut auto_next = 0usize;
    let mut numbering: Option<bool> = None; // Some(true): automatic `{}`, Some(false): `{0}`
    let mut rest = template;
    // Byte scans: the braces are ASCII, and `find` with a char pattern decodes and compares
    // each match through memcmp.
    while let Some(i) = rest.bytes().position(|b| b == b'{' || b == b'}') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
            continue;
        }
        if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
            continue;
        }
        if tail.starts_with('}') {
            return Err(fail(
                "a single '}' in the template (write '}}' for a brace)",
            ));
        }
        let Some(close) = tail.bytes().position(|b| b == b'}') else {
            return Err(fail(
                "a '{' without its '}' in the template (write '{{' for a brace)",
            ));
        };
        let field = &tail[1..close];
        let (name, spec) = match field.bytes().position(|b| b == b':') {
            Some(colon) => (&field[..colon], &field[colon + 1..]),
            None => (field, ""),
        };
        let value = pick(args, name, &mut auto_next, &mut numbering)?;
        // Each value is written straight onto the end of `out`: no string of its own.
        format_value(&mut out, &value, &parse_spec(spec, field)?, field)?;
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Ok(Value::str(out))
}

/// The argument a placeholder's field name selects.
fn pick<'a>(
    args: &'a [Value],
    name: &str,
    auto_next: &mut usize,
    numbering: &mut Option<bool>,
) -> RtResult<Cow<'a, Value>> {
    let mut style = |automatic: bool| {
        if *numbering == Some(!automatic) {
            return Err(fail(
                "cannot mix automatic '{}' and numbered '{0}' placeholders",
            ));
        }
        *numbering = Some(automatic);
        Ok(())
    };
    if name.is_empty() {
        style(true)?;
        let i = *auto_next;
        *auto_next += 1;
        return args
            .get(i)
            .map(Cow::Borrowed)
            .ok_or_else(|| missing(&format!("the {} '{{}}'", ordinal(i + 1)), args.len()));
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        style(false)?;
        let i: usize = name.parse().unwrap_or(usize::MAX);
        return args
            .get(i)
            .map(Cow::Borrowed)
            .ok_or_else(|| missing(&format!("'{{{name}}}'"), args.len()));
    }
    let valid_name = name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid_name {
        return Err(fail(format!("'{{{name}}}' is not a placeholder name")));
    }
    let [Value::Map(m)] = args else {
        return Err(fail(format!(
            "'{{{name}}}' names a key, which needs one Map argument"
        )));
    };
    let key = walia_runtime::api::KeyRef::Str(name);
    m.entries
        .borrow()
        .get(&key)
        .map(|v| Cow::Owned(v.clone()))
        .ok_or_else(|| fail(format!("the Map has no key \"{name}\" for '{{{name}}}'")))
}

fn missing(placeholder: &str, count: usize) -> RtError {
    let s = if count == 1 { "" } else { "s" };
    fail(format!(
        "no value for {placeholder} ({count} value{s} given after the template)"
    ))
}

/// "1st", "2nd", "3rd", "4th"...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A parsed format spec.
#[derive(Debug, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    zero: bool,
    width: usize,
    comma: bool,
    precision: Option<usize>,
    ty: Option<char>,
}

/// A run of digits at the start of `s` as a number (capped), and the rest.
fn number<'a>(s: &'a str, field: &str) -> RtResult<(Option<usize>, &'a str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return Ok((None, s));
    }
    match s[..end].parse::<usize>() {
        Ok(n) if n <= MAX_WIDTH => Ok((Some(n), &s[end..])),
        _ => Err(fail(format!(
            "a width or precision above {MAX_WIDTH} in '{{{field}}}'"
        ))),
    }
}

fn parse_spec(spec: &str, field: &str) -> RtResult<Spec> {
    let mut sp = Spec::default();
    let mut rest = spec;
    let is_align = |c: char| matches!(c, '<' | '>' | '^');
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (Some(f), Some(al)) if is_align(al) => {
            sp.fill = Some(f);
            sp.align = Some(al);
            rest = &rest[f.len_utf8() + 1..];
        }
        (Some(al), _) if is_align(al) => {
            sp.align = Some(al);
            rest = &rest[1..];
        }
        _ => {}
    }
    if let Some(c @ ('+' | '-' | ' ')) = rest.chars().next() {
        sp.sign = Some(c);
        rest = &rest[1..];
    }
    if let Some(r) = rest.strip_prefix('0') {
        sp.zero = true;
        rest = r;
    }
    let (width, r) = number(rest, field)?;
    sp.width = width.unwrap_or(0);
    rest = r;
    if let Some(r) = rest.strip_prefix(',') {
        sp.comma = true;
        rest = r;
    }
    if let Some(r) = rest.strip_prefix('.') {
        let (precision, r) = number(r, field)?;
        if precision.is_none() {
            return Err(fail(format!("a '.' without a precision in '{{{field}}}'")));
        }
        sp.precision = precision;
        rest = r;
    }
    let mut chars = rest.chars();
    if let Some(t) = chars.next() {
        if !"dfe%xXobs".contains(t) || chars.next().is_some() {
            return Err(fail(format!(
                "'{spec}' in '{{{field}}}' is not a format spec ([[fill]align][sign][0][width][,][.precision][type], types d f e % x X o b s)"
            )));
        }
        sp.ty = Some(t);
    }
    Ok(sp)
}

/// The type to format `v` as, or a type-mismatch error.
fn effective_type(v: &Value, sp: &Spec, field: &str) -> RtResult<char> {
    let mismatch = |t: char| {
        fail(format!(
            "cannot format {} {} with '{t}' (in '{{{field}}}')",
            article(v.type_name()),
            v.type_name()
        ))
    };
    let t = match (sp.ty, v) {
        (Some('s'), _) | (None, Value::Str(_)) => 's',
        (Some(t @ ('d' | 'x' | 'X' | 'o' | 'b')), Value::Int(_)) => t,
        (Some(t @ ('f' | 'e' | '%')), Value::Int(_) | Value::Float(_)) => t,
        (Some(t), _) => return Err(mismatch(t)),
        (None, Value::Int(_)) => 'd',
        (None, Value::Float(_)) if sp.precision.is_some() => 'f',
        (None, _) => 's',
    };
    let numeric = t != 's' || plain_float(v, sp);
    if !numeric && (sp.sign.is_some() || sp.zero || sp.comma) {
        return Err(fail(format!(
            "a sign, '0' or ',' needs a number, not {} {} (in '{{{field}}}')",
            article(v.type_name()),
            v.type_name()
        )));
    }
    if sp.comma && matches!(t, 'x' | 'X' | 'o' | 'b' | 'e') {
        return Err(fail(format!("',' cannot go with '{t}' (in '{{{field}}}')")));
    }
    if sp.precision.is_some() && matches!(t, 'd' | 'x' | 'X' | 'o' | 'b') {
        return Err(fail(format!(
            "a precision cannot go with an Int's '{t}' (in '{{{field}}}')"
        )));
    }
    Ok(t)
}

/// A Float with neither type nor precision: its printed form, but aligned and signed as a
/// number.
fn plain_float(v: &Value, sp: &Spec) -> bool {
    sp.ty.is_none() && matches!(v, Value::Float(_))
}

fn article(t: &str) -> &'static str {
    if t.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

fn format_value(out: &mut String, v: &Value, sp: &Spec, field: &str) -> RtResult<()> {
    let t = effective_type(v, sp, field)?;
    if t == 's' && !plain_float(v, sp) {
        let text = match v {
            Value::Str(s) => Cow::Borrowed(s.as_str()),
            _ => Cow::Owned(display(v)),
        };
        let text = match sp.precision.and_then(|p| text.char_indices().nth(p)) {
            Some((cut, _)) => &text[..cut],
            None => &text[..],
        };
        return pad(out, "", text, sp, '<');
    }
    // A number: its sign apart, the digits, then the padding.
    let mut buf = [0u8; 20];
    let (negative, digits) = match (t, v) {
        ('s', Value::Float(f)) => {
            let text = display(&Value::Float(f.abs()));
            let text = if sp.comma { group_fixed(&text) } else { text };
            (f.is_sign_negative() && !f.is_nan(), Cow::Owned(text))
        }
        ('d', Value::Int(i)) if !sp.comma => {
            (*i < 0, Cow::Borrowed(decimal(i.unsigned_abs(), &mut buf)))
        }
        (_, Value::Int(i)) => (*i < 0, Cow::Owned(int_digits(i.unsigned_abs(), t, sp))),
        (_, Value::Float(f)) => (
            f.is_sign_negative() && !f.is_nan(),
            Cow::Owned(float_digits(f.abs(), t, sp)),
        ),
        _ => (false, Cow::Owned(display(v))),
    };
    let sign = match (negative, sp.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    };
    pad(out, sign, &digits, sp, '>')
}

/// The digits of an Int's magnitude in type `t`'s base (grouped with `,` when asked; a
/// `%` or `f`/`e` type formats it as a Float).
fn int_digits(n: u64, t: char, sp: &Spec) -> String {
    match t {
        'x' => format!("{n:x}"),
        'X' => format!("{n:X}"),
        'o' => format!("{n:o}"),
        'b' => format!("{n:b}"),
        'f' | 'e' | '%' => float_digits(n as f64, t, sp),
        _ if sp.comma => group(&n.to_string()),
        _ => n.to_string(),
    }
}

/// The decimal digits of `n`, written into the end of `buf` (the everyday `{}` and `{:5d}`
/// of an Int need no string of their own).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    // u64::MAX has 20 digits: the buffer always has room.
    let mut at = buf.len();
    while at > 0 {
        at -= 1;
        if let Some(b) = buf.get_mut(at) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(buf.get(at..).unwrap_or_default()).unwrap_or_default()
}

/// A non-negative Float in fixed (`f`, `%`) or exponent (`e`) notation.
fn float_digits(f: f64, t: char, sp: &Spec) -> String {
    let p = sp.precision.unwrap_or(6);
    if !f.is_finite() {
        let word = if f.is_nan() { "nan" } else { "inf" };
        return if t == '%' {
            format!("{word}%")
        } else {
            word.to_string()
        };
    }
    match t {
        'e' => {
            // Rust writes `1.5e3`; Python (and C) `1.5e+03`.
            let s = format!("{f:.p$e}");
            let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let sign = if exp < 0 { '-' } else { '+' };
            format!("{mant}e{sign}{:02}", exp.unsigned_abs())
        }
        '%' => {
            let s = format!("{:.p$}", f * 100.0);
            format!("{}%", if sp.comma { group_fixed(&s) } else { s })
        }
        _ => {
            let s = format!("{f:.p$}");
            if sp.comma { group_fixed(&s) } else { s }
        }
    }
}

/// `1234567` as `1,234,567`.
fn group(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// [`group`] of a fixed-notation number's integer part (a number in exponent notation is
/// left as it is).
fn group_fixed(s: &str) -> String {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if !int.bytes().all(|b| b.is_ascii_digit()) || frac.contains('e') {
        return s.to_string();
    }
    if frac.is_empty() && !s.contains('.') {
        group(int)
    } else {
        format!("{}.{frac}", group(int))
    }
}

/// `sign` and `body` padded to the spec's width: with zeros after the sign (`0`), else with
/// the fill character on the side the alignment (or `default`) says.
fn pad(out: &mut String, sign: &str, body: &str, sp: &Spec, default: char) -> RtResult<()> {
    // Without a width there is nothing to count or fill.
    let missing = if sp.width == 0 {
        0
    } else {
        let len = sign.chars().count() + body.chars().count();
        sp.width.saturating_sub(len)
    };
    reserve_str(out, sign.len() + body.len() + missing * 4)?;
    if sp.zero && sp.align.is_none() {
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', missing));
        out.push_str(body);
        return Ok(());
    }
    let fill = sp.fill.unwrap_or(if sp.zero { '0' } else { ' ' });
    let (left, right) = match sp.align.unwrap_or(default) {
        '<' => (0, missing),
        '^' => (missing / 2, missing - missing / 2),
        _ => (missing, 0),
    };
    push_fill(out, fill, left);
    out.push_str(sign);
    out.push_str(body);
    push_fill(out, fill, right);
    Ok(())
}

/// `n` times `fill`; spaces (the usual fill of a column) a run at a time.
fn push_fill(out: &mut String, fill: char, n: usize) {
    const SPACES: &str = "                                ";
    if fill != ' ' {
        out.extend(std::iter::repeat_n(fill, n));
        return;
    }
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.push_str(SPACES.get(..k).unwrap_or_default());
        left -= k;
    }
}
