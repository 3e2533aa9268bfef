//! Date-time handling for OMH payloads: parsing RFC 3339 / ISO 8601 date-times (with or without
//! an offset), durations, and formatting.
//!
//! All instants are Unix **microseconds**. A parsed date-time gives the UTC instant, the offset
//! it was written with (if any) and the local wall-clock time of the participant (the instant
//! shifted by that offset, as a naive timestamp also in microseconds since 1970-01-01T00:00).
//! A date-time without an offset is read as UTC, as the JHE server does (and as
//! `pandas.to_datetime(..., utc=True)` does in the Python client), and its wall clock is the
//! written text itself.

use std::fmt::Write as _;

pub const US_PER_SEC: i64 = 1_000_000;
pub const US_PER_MIN: i64 = 60 * US_PER_SEC;
pub const US_PER_DAY: i64 = 86_400 * US_PER_SEC;

/// The effective times an observation may have: from 1900-01-01 to before 2200-01-01 (UTC).
/// Anything else is not a measurement time but a broken or hostile payload, reported as a
/// problem (future dates inside the range are for the data-quality checks to flag).
pub const EARLIEST_US: i64 = -2_208_988_800 * US_PER_SEC;
pub const LATEST_US: i64 = 7_258_118_400 * US_PER_SEC;

/// The longest duration read from a payload: 100 (Gregorian) years.
pub const MAX_DURATION_US: i64 = 100 * 31_556_952 * US_PER_SEC;

/// Whether `utc_us` is inside [`EARLIEST_US`, `LATEST_US`).
pub fn in_range(utc_us: i64) -> bool {
    (EARLIEST_US..LATEST_US).contains(&utc_us)
}

/// A date-time read from an OMH payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedTime {
    /// The instant, UTC microseconds.
    pub utc_us: i64,
    /// The offset written in the text, minutes east of UTC; `None` when the text had none.
    pub offset_min: Option<i32>,
}

impl ParsedTime {
    /// The participant's wall clock: the instant shifted by the written offset (naive,
    /// microseconds since 1970-01-01T00:00). Without an offset this is the text as written.
    pub fn local_us(&self) -> i64 {
        self.utc_us + self.offset_min.unwrap_or(0) as i64 * US_PER_MIN
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0u32;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
        }
        self.i += n;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Parses an ISO 8601 / RFC 3339 date-time as found in OMH payloads:
/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH:MM|±HHMM|±HH]`, or a bare date `YYYY-MM-DD`
/// (midnight). Fractions beyond microseconds are truncated. Returns `None` for anything else.
pub fn parse_date_time(s: &str) -> Option<ParsedTime> {
    let s = s.trim();
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let y = c.digits(4)? as i64;
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let d = c.digits(2)?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if c.done() {
        return Some(ParsedTime {
            utc_us: days * US_PER_DAY,
            offset_min: None,
        });
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let h = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let mi = c.digits(2)?;
    let mut sec = 0u32;
    let mut frac_us = 0i64;
    if c.eat(b':') {
        sec = c.digits(2)?;
        if c.eat(b'.') || c.eat(b',') {
            let mut n = 0;
            let mut scale = 100_000i64;
            while let Some(ch) = c.peek() {
                if !ch.is_ascii_digit() {
                    break;
                }
                frac_us += (ch - b'0') as i64 * scale;
                scale /= 10;
                c.i += 1;
                n += 1;
            }
            if n == 0 {
                return None;
            }
        }
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let offset_min = match c.peek() {
        None => None,
        Some(b'Z') | Some(b'z') => {
            c.i += 1;
            Some(0)
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.digits(2)? as i32;
            let om = if c.eat(b':') {
                c.digits(2)? as i32
            } else if c.done() {
                0
            } else {
                c.digits(2)? as i32
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 60 + om;
            Some(if sign == b'-' { -o } else { o })
        }
        Some(_) => return None,
    };
    if !c.done() {
        return None;
    }
    let local =
        days * US_PER_DAY + (h as i64 * 3600 + mi as i64 * 60 + sec as i64) * US_PER_SEC + frac_us;
    Some(ParsedTime {
        utc_us: local - offset_min.unwrap_or(0) as i64 * US_PER_MIN,
        offset_min,
    })
}

/// Microseconds of an OMH duration `{value, unit}` (units of duration-unit-value: `ps` … `yr`;
/// `Mo` and `yr` are average Gregorian months and years, as the JHE server counts them).
/// `None` for an unknown unit, and for a value that is not finite, negative or longer than
/// [`MAX_DURATION_US`] (see [`is_duration_unit`] to tell the two apart).
pub fn duration_us(value: f64, unit: &str) -> Option<i64> {
    let secs = match unit {
        "ps" => value * 1e-12,
        "ns" => value * 1e-9,
        "us" => value * 1e-6,
        "ms" => value * 1e-3,
        "sec" | "s" => value,
        "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        "wk" => value * 604_800.0,
        "Mo" => value * 2_629_746.0,
        "yr" => value * 31_556_952.0,
        _ => return None,
    };
    let us = secs * 1e6;
    if !us.is_finite() || us < 0.0 || us > MAX_DURATION_US as f64 {
        return None;
    }
    Some(us as i64)
}

/// Whether `unit` is a duration unit [`duration_us`] knows.
pub fn is_duration_unit(unit: &str) -> bool {
    duration_us(0.0, unit).is_some()
}

fn push_naive(out: &mut String, us: i64, always_frac: bool) {
    let days = us.div_euclid(US_PER_DAY);
    let rem = us.rem_euclid(US_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / US_PER_SEC;
    let frac = rem % US_PER_SEC;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if always_frac || frac != 0 {
        let _ = write!(out, ".{frac:06}");
    }
}

/// Python's `datetime.isoformat()` of a UTC instant with `+00:00` written as `Z`:
/// microseconds only when non-zero. This is how JHE renders `effectiveDateTime`,
/// `effectivePeriod` and `meta.lastUpdated`.
pub fn iso_z(us: i64) -> String {
    let mut s = String::with_capacity(27);
    push_naive(&mut s, us, false);
    s.push('Z');
    s
}

/// ISO 8601 of a naive wall-clock time, always with six fraction digits
/// (`2026-11-25T21:00:00.000000`).
pub fn iso_naive_us(us: i64) -> String {
    let mut s = String::with_capacity(26);
    push_naive(&mut s, us, true);
    s
}

/// ISO 8601 of a UTC instant with `Z`, always with six fraction digits.
pub fn iso_utc_us(us: i64) -> String {
    let mut s = iso_naive_us(us);
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ParsedTime {
        parse_date_time(s).unwrap_or_else(|| panic!("could not parse {s}"))
    }

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 20_000, 20_782, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn offsets_and_local_time() {
        let t = p("2026-11-20T07:45:12.25-08:00");
        assert_eq!(t.offset_min, Some(-480));
        assert_eq!(iso_z(t.utc_us), "2026-11-20T15:45:12.250000Z");
        assert_eq!(iso_naive_us(t.local_us()), "2026-11-20T07:45:12.250000");
        let t = p("2026-11-21T06:30:00+05:45");
        assert_eq!(t.offset_min, Some(345));
        assert_eq!(iso_z(t.utc_us), "2026-11-21T00:45:00Z");
        assert_eq!(iso_naive_us(t.local_us()), "2026-11-21T06:30:00.000000");
        let t = p("2026-11-25T21:00:00Z");
        assert_eq!(t.offset_min, Some(0));
        assert_eq!(p("2026-11-25T21:00:00+00:00"), t);
        assert_eq!(p("2026-11-25T21:00:00+0000"), t);
        assert_eq!(p("2026-11-25 21:00:00z"), t);
    }

    #[test]
    fn no_offset_is_utc() {
        let t = p("2026-11-21T09:05:00");
        assert_eq!(t.offset_min, None);
        assert_eq!(iso_z(t.utc_us), "2026-11-21T09:05:00Z");
        assert_eq!(t.local_us(), t.utc_us);
        let d = p("2026-11-23");
        assert_eq!(iso_z(d.utc_us), "2026-11-23T00:00:00Z");
    }

    #[test]
    fn minutes_only_and_fractions() {
        for (text, utc) in [
            ("2026-11-23T07:00-04:00", "2026-11-23T11:00:00Z"),
            ("2026-11-25T14:43:50.332374Z", "2026-11-25T14:43:50.332374Z"),
            // nanoseconds are truncated
            (
                "2026-11-25T14:43:50.332374999Z",
                "2026-11-25T14:43:50.332374Z",
            ),
            ("2026-11-25T14:43:50.3Z", "2026-11-25T14:43:50.300000Z"),
        ] {
            assert_eq!(iso_z(p(text).utc_us), utc, "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "yesterday at noon",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-20T24:00:00Z",
            "2026-11-20T10:00:00+25:00",
            "2026-11-20T10:00:00Q",
            "2026-11-20T10:00:00.Z",
            "2026-11-20T10",
            "20261120T100000Z",
        ] {
            assert!(parse_date_time(s).is_none(), "{s} should not parse");
        }
        assert!(parse_date_time("2024-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn agrees_with_chrono() {
        use chrono::DateTime;
        for s in [
            "2026-11-20T07:45:12.250000-08:00",
            "1999-12-31T23:59:59.999999+14:00",
            "2026-03-08T02:30:00-05:00",
            "1969-07-20T20:17:40Z",
        ] {
            let c = DateTime::parse_from_rfc3339(s).unwrap();
            let t = p(s);
            assert_eq!(t.utc_us, c.timestamp_micros(), "{s}");
            assert_eq!(t.offset_min, Some(c.offset().local_minus_utc() / 60));
            assert_eq!(
                t.local_us(),
                c.naive_local().and_utc().timestamp_micros(),
                "{s}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration_us(24.0, "h"), Some(86_400 * US_PER_SEC));
        assert_eq!(duration_us(1.5, "min"), Some(90 * US_PER_SEC));
        assert_eq!(duration_us(1.0, "fortnight"), None);
        assert_eq!(duration_us(f64::NAN, "h"), None);
    }
}
