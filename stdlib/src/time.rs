//! @group Time
//! Wall-clock time and dates: `now`, `sleep`, `date_format`, `date_parse`, `date_parts`.
//! A point in time is a Float: seconds since the Unix epoch (1970-01-01T00:00:00Z), so it
//! persists, compares and subtracts like any number. Dates are read and written in UTC
//! (no local time zones: a run gives the same text on every machine); a parsed text with
//! an offset (`+02:00`) is converted to UTC. Times are kept to the microsecond.
//! (`clock()`, in core.rs, measures elapsed time within a run.)

use crate::check::*;
use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use std::rc::Rc;
use walia_runtime::api::{MapKey, Str, format_float, new_entries};
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    leaf_global(vm, "now", 0, 0, now);
    leaf_global(vm, "sleep", 1, 1, sleep);
    leaf_both(vm, &["Int", "Float"], "date_format", 1, 2, date_format);
    leaf_both(vm, &["String"], "date_parse", 1, 2, date_parse);
    leaf_both(vm, &["Int", "Float"], "date_parts", 1, 1, date_parts);
}

/// @builtin now() -> Float
///
/// The current time: seconds since the Unix epoch (UTC), with a fractional part.
/// `date_format(now())` writes it as text. To time a piece of code, `clock()` is steadier
/// (it never goes back when the system clock is set).
///
/// ```walia
/// print now() > 1700000000;   // -> true
/// ```
fn now(_: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(seconds_of(Timestamp::now())))
}

/// @builtin sleep(seconds) -> nil
///
/// Pauses the script for `seconds` (an Int or a Float; `0` returns at once). Ctrl-C
/// stops a sleep as it stops a loop, and a sleep cannot outlast the run's time limit
/// (`--timeout`, or an embedding's wall-time limit): it ends at the deadline with the
/// error "time limit exceeded".
///
/// Errors: `seconds` is not a number, is negative, `inf` or `nan`.
///
/// ```walia
/// var t = clock();
/// sleep(0.01);
/// print clock() - t >= 0.01;   // -> true
/// ```
fn sleep(a: &[Value]) -> RtResult<Value> {
    let seconds = expect_num(a, 0, "sleep")?;
    if seconds.is_nan() || seconds < 0.0 || seconds.is_infinite() {
        return Err(RtError::new(format!(
            "'sleep' expects a finite number of seconds from 0 up, got {}",
            format_float(seconds)
        )));
    }
    // Longer than a Duration holds is forever, which Ctrl-C or a deadline still ends.
    let d = std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX);
    walia_runtime::api::sleep(d)?;
    Ok(Value::Nil)
}

/// Seconds since the epoch as a Float.
fn seconds_of(t: Timestamp) -> f64 {
    t.as_second() as f64 + f64::from(t.subsec_nanosecond()) / 1e9
}

/// The instant `seconds` after the epoch, to the microsecond.
fn timestamp_of(seconds: f64, fname: &str) -> RtResult<Timestamp> {
    let micros = (seconds * 1e6).round();
    let out_of_range = || {
        RtError::new(format!(
            "'{fname}' cannot make a date of {} seconds (dates run from the year -9999 to 9999)",
            format_float(seconds)
        ))
    };
    // `as` saturates (and maps nan to 0): check the range before converting.
    if !micros.is_finite() || micros.abs() > 1e18 {
        return Err(out_of_range());
    }
    Timestamp::from_microsecond(micros as i64).map_err(|_| out_of_range())
}

fn utc(t: Timestamp) -> Zoned {
    t.to_zoned(TimeZone::UTC)
}

/// @builtin date_format(t [, format]) -> String
/// @builtin t.date_format([format]) -> String
///
/// Writes the time `t` (seconds since the epoch, as `now()` gives) as text in UTC.
/// Without `format`: RFC 3339 / ISO 8601, `2024-05-01T12:30:00Z`, with a fraction of a
/// second only when there is one (`...:00.25Z`). `format` is strftime-style: `%Y` year,
/// `%m` month, `%d` day, `%H` `%M` `%S` hour, minute, second, `%F` is `%Y-%m-%d`, `%T` is
/// `%H:%M:%S`, `%a`/`%A` weekday and `%b`/`%B` month names, `%j` day of the year, `%s`
/// seconds since the epoch, `%z` the offset (`+0000`), `%Z` the zone (`UTC`), `%%` a `%`.
///
/// Errors: `t` is not a number or is beyond the years -9999..9999; `format` is not a
/// String or has an unknown directive.
///
/// ```walia
/// print date_format(0);                             // -> 1970-01-01T00:00:00Z
/// print date_format(1714566600.5);                  // -> 2024-05-01T12:30:00.5Z
/// print 1714566600.date_format("%d %b %Y, %H:%M");  // -> 01 May 2024, 12:30
/// ```
fn date_format(a: &[Value]) -> RtResult<Value> {
    let t = timestamp_of(expect_num(a, 0, "date_format")?, "date_format")?;
    if a.len() < 2 {
        return Ok(Value::str(t.to_string()));
    }
    let format = expect_str(a, 1, "date_format")?.as_str();
    strtime::format(format, &utc(t))
        .map(Value::str)
        .map_err(|e| RtError::new(format!("'date_format': bad format \"{format}\": {e}")))
}

/// @builtin date_parse(text [, format]) -> Float
/// @builtin s.date_parse([format]) -> Float
///
/// Reads a date as seconds since the epoch (a Float). Without `format` it takes ISO 8601
/// / RFC 3339: `2024-05-01T12:30:00Z`, with an offset (`+02:00`, converted to UTC) or
/// without one (then UTC), with a space instead of the `T`, or a date alone
/// (`2024-05-01`, midnight UTC). With `format`, the strftime-style directives of
/// `date_format` say how the text is laid out; a time left out is midnight, an offset
/// left out is UTC.
///
/// Errors: the text does not match (the message quotes it and says why); an argument
/// is not a String.
///
/// ```walia
/// print date_parse("1970-01-02");                          // -> 86400.0
/// print date_parse("2024-05-01T14:30:00+02:00") == date_parse("2024-05-01 12:30:00");
/// // -> true
/// print "01/05/2024".date_parse("%d/%m/%Y").date_format();  // -> 2024-05-01T00:00:00Z
/// ```
fn date_parse(a: &[Value]) -> RtResult<Value> {
    let text = expect_str(a, 0, "date_parse")?.as_str();
    let parsed = if a.len() < 2 {
        parse_iso(text.trim())
    } else {
        let format = expect_str(a, 1, "date_parse")?.as_str();
        parse_with(text, format)
    };
    parsed.map(|t| Value::Float(seconds_of(t))).map_err(|why| {
        RtError::new(format!(
            "'date_parse' cannot read \"{text}\" as a date: {why}"
        ))
    })
}

/// ISO 8601: an instant with an offset, else a civil date-time or date taken as UTC.
fn parse_iso(text: &str) -> Result<Timestamp, String> {
    let with_offset = text.parse::<Timestamp>();
    if let Ok(t) = with_offset {
        return Ok(t);
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    // Neither form: the instant's reason says most (it names the offending part).
    with_offset.map_err(|e| e.to_string())
}

fn parse_with(text: &str, format: &str) -> Result<Timestamp, String> {
    let tm = strtime::parse(format, text).map_err(|e| e.to_string())?;
    if tm.offset().is_some() || tm.timestamp().is_some() {
        return tm.to_timestamp().map_err(|e| e.to_string());
    }
    tm.to_datetime()
        .and_then(|dt| dt.to_zoned(TimeZone::UTC))
        .map(|z| z.timestamp())
        .map_err(|e| e.to_string())
}

/// @builtin date_parts(t) -> Map
/// @builtin t.date_parts() -> Map
///
/// The calendar fields of the time `t` (seconds since the epoch) in UTC, as a Map of
/// Ints: `year`, `month` (1–12), `day` (1–31), `hour`, `minute`, `second` (whole
/// seconds, rounded down), `weekday` (1 = Monday ... 7 = Sunday, as ISO 8601 counts)
/// and `yearday` (1–366).
///
/// Errors: `t` is not a number or is beyond the years -9999..9999.
///
/// ```walia
/// var p = date_parts(date_parse("2024-05-01T12:30:15Z"));
/// print p;   // -> {"year": 2024, "month": 5, "day": 1, "hour": 12, "minute": 30, "second": 15, "weekday": 3, "yearday": 122}
/// ```
fn date_parts(a: &[Value]) -> RtResult<Value> {
    let z = utc(timestamp_of(expect_num(a, 0, "date_parts")?, "date_parts")?);
    let fields: [(&str, i64); 8] = [
        ("year", z.year().into()),
        ("month", z.month().into()),
        ("day", z.day().into()),
        ("hour", z.hour().into()),
        ("minute", z.minute().into()),
        ("second", z.second().into()),
        ("weekday", z.weekday().to_monday_one_offset().into()),
        ("yearday", z.day_of_year().into()),
    ];
    let mut entries = new_entries(fields.len());
    for (name, n) in fields {
        entries.insert(
            MapKey::Str(Rc::new(Str::new(name.to_string()))),
            Value::Int(n),
        );
    }
    Ok(Value::map(entries))
}
