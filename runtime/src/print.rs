//! Printed forms of values (SPEC §2 and §15): what `print`, `str()` and string `+` show.

use crate::value::{MapKey, Value};
use std::fmt::Write;

/// Nesting beyond this prints as `...` (keeps deeply nested data from exhausting the stack).
const MAX_PRINT_DEPTH: usize = 500;

/// The printed form at the top level: strings raw.
pub fn display(v: &Value) -> String {
    match v {
        Value::Str(s) => s.as_str().to_string(),
        _ => repr(v),
    }
}

/// The printed form inside a container: strings quoted.
pub fn repr(v: &Value) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    write_value(&mut out, v, &mut seen);
    out
}

/// The REPL's form of a value: [`repr`], except that a stream says what it is and how to
/// run it (`print` keeps `<stream>`, SPEC §2):
/// `<stream: list |> filter |> map; lazy — end it with |> collect()>`.
pub fn describe(v: &Value) -> String {
    let summary = match v {
        Value::Stream(p) => crate::pipe::explain::stream_summary(&p.source, &p.stages),
        Value::File(_) => crate::pipe::explain::stream_summary(v, &[]),
        _ => return repr(v),
    };
    format!("<stream: {summary}; lazy — end it with |> collect()>")
}

pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Shortest round-trip digits, then laid out the way Python's repr does. When two
    // shortest candidates are equally close (a decimal tie), Python takes the even one:
    // re-round at the same precision with exact round-half-even and keep that if it
    // still round-trips.
    let mut sci = format!("{:e}", f);
    let shortest_digits = sci
        .split('e')
        .next()
        .map_or(0, |m| m.chars().filter(|c| c.is_ascii_digit()).count());
    if shortest_digits > 1 {
        let exact = format!("{:.*e}", shortest_digits - 1, f);
        if exact != sci && exact.parse::<f64>() == Ok(f) {
            sci = exact;
        }
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let mant = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

pub fn quote_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_key(out: &mut String, k: &MapKey) {
    match k {
        MapKey::Str(s) => quote_str(out, s.as_str()),
        MapKey::Int(i) => {
            let _ = write!(out, "{i}");
        }
        MapKey::Bool(b) => {
            let _ = write!(out, "{b}");
        }
    }
}

/// `Name {field: value, ...}`: an instance or a row.
fn write_record<'a>(
    out: &mut String,
    name: &str,
    fields: impl Iterator<Item = (&'a std::rc::Rc<str>, &'a Value)>,
    seen: &mut Vec<usize>,
) {
    let _ = write!(out, "{name} {{");
    for (i, (k, v)) in fields.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{k}: ");
        write_value(out, v, seen);
    }
    out.push('}');
}

fn write_value(out: &mut String, v: &Value, seen: &mut Vec<usize>) {
    if seen.len() > MAX_PRINT_DEPTH {
        out.push_str("...");
        return;
    }
    // Shared sub-lists make a printed form exponential in the data's depth: stop at the
    // time or memory limit (the VM raises the error when the operation returns).
    if crate::limits::has_pending() {
        return;
    }
    if let Err(e) = crate::limits::tick().and_then(|_| {
        if out.len() > 1 << 20 {
            crate::limits::note_alloc(out.len())
        } else {
            Ok(())
        }
    }) {
        crate::limits::set_pending(e);
        out.push_str("...");
        return;
    }
    match v {
        Value::Nil | Value::Undefined => out.push_str("nil"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::Str(s) => quote_str(out, s.as_str()),
        Value::Range(r) => {
            let _ = write!(out, "{}..{}", r.start, r.end);
        }
        Value::Function(c) => match (&c.proto.name, c.proto.kind) {
            (Some(n), k) if k != crate::bytecode::ProtoKind::Script => {
                let _ = write!(out, "<fun {n}>");
            }
            _ => out.push_str("<fun>"),
        },
        Value::Native(n) => {
            let _ = write!(out, "<builtin {}>", n.name);
        }
        Value::Bound(b) => match &b.method {
            Value::Native(n) => {
                let _ = write!(out, "<builtin {}>", n.name);
            }
            m => write_value(out, m, seen),
        },
        Value::Class(c) => {
            let _ = write!(out, "<class {}>", c.name);
        }
        Value::Stream(_) => out.push_str("<stream>"),
        Value::Table(t) => out.push_str(&crate::db::handle::table_text(*t)),
        Value::Db => out.push_str("<db>"),
        Value::File(_) => out.push_str("<stream>"),
        Value::Row(r) => match crate::db::handle::row_for_print(*r) {
            (name, Some(fields)) => {
                write_record(out, &name, fields.iter().map(|(k, v)| (k, v)), seen)
            }
            (name, None) => {
                let _ = write!(out, "<deleted {name} row>");
            }
        },
        Value::Iter(_) => out.push_str("<iterator>"),
        Value::Cell(c) => match c.value.try_borrow() {
            Ok(v) => write_value(out, &v, seen),
            Err(_) => out.push_str("nil"),
        },
        Value::List(l) => {
            let id = std::rc::Rc::as_ptr(l) as usize;
            if seen.contains(&id) {
                out.push_str("[...]");
                return;
            }
            seen.push(id);
            out.push('[');
            if let Ok(items) = l.items.try_borrow() {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, item, seen);
                }
            }
            out.push(']');
            seen.pop();
        }
        Value::Map(m) => {
            let id = std::rc::Rc::as_ptr(m) as usize;
            if seen.contains(&id) {
                out.push_str("{...}");
                return;
            }
            seen.push(id);
            out.push('{');
            if let Ok(entries) = m.entries.try_borrow() {
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_key(out, k);
                    out.push_str(": ");
                    write_value(out, v, seen);
                }
            }
            out.push('}');
            seen.pop();
        }
        Value::Instance(inst) => {
            let id = std::rc::Rc::as_ptr(inst) as usize;
            if seen.contains(&id) {
                let _ = write!(out, "{} {{...}}", inst.class.name);
                return;
            }
            seen.push(id);
            match inst.fields.try_borrow() {
                Ok(fields) => write_record(out, &inst.class.name, fields.iter(), seen),
                Err(_) => {
                    let _ = write!(out, "{} {{}}", inst.class.name);
                }
            }
            seen.pop();
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&repr(self))
    }
}

/// `{}` shows a value as `print` does (strings raw). For the form
/// inside a container (strings quoted), use [`repr`].
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&display(self))
    }
}

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn floats_print_like_python_repr() {
        for (f, s) in [
            (3.5, "3.5"),
            (3.0, "3.0"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (575.0, "575.0"),
            (1e300, "1e+300"),
            (123456789012345.6, "123456789012345.6"),
            (5.97e24, "5.97e+24"),
            (-2.5e-3, "-0.0025"),
            (234403437590749.62, "234403437590749.62"),
            (-934406162568849.2, "-934406162568849.2"),
            (25_921_666_568_814.812, "25921666568814.812"),
        ] {
            assert_eq!(format_float(f), s);
        }
    }
}
