//! Time parsing and formatting the way JHE (Django/Python) does it.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub fn now_us() -> i64 {
    Utc::now().timestamp_micros()
}

/// Python `isoformat()` with `+00:00` replaced by `Z`: microseconds only when non-zero.
pub fn iso_z(us: i64) -> String {
    let Some(dt) = DateTime::<Utc>::from_timestamp_micros(us) else {
        return String::new();
    };
    if us.rem_euclid(1_000_000) == 0 {
        dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// Like [`iso_z`] but with `+00:00`, as JHE's hand-built responses have it.
pub fn iso_offset(us: i64) -> String {
    let s = iso_z(us);
    match s.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => s,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

/// The instant range a FHIR date value stands for: `[lo, hi)` in UTC microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub lo: i64,
    pub hi: i64,
}

impl Bound {
    pub fn test(&self, cmp: Cmp, t: i64) -> bool {
        match cmp {
            Cmp::Eq => self.lo <= t && t < self.hi,
            Cmp::Ge => t >= self.lo,
            Cmp::Gt => t >= self.hi,
            Cmp::Le => t < self.hi,
            Cmp::Lt => t < self.lo,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum DateError {
    /// Not a date at all: JHE answers 400.
    Syntax,
    /// A date that cannot exist (month 13): JHE answers 422 with Python's message.
    Impossible(String),
}

/// Parses `ge2026-11-23`, `lt2026-11-24T07:00:00Z`, `2026-11` … (FHIR date search syntax).
pub fn parse_prefixed(raw: &str) -> Result<(Cmp, Bound), DateError> {
    let (cmp, rest) = match raw.get(..2) {
        Some("ge") => (Cmp::Ge, &raw[2..]),
        Some("gt") => (Cmp::Gt, &raw[2..]),
        Some("le") => (Cmp::Le, &raw[2..]),
        Some("lt") => (Cmp::Lt, &raw[2..]),
        Some("eq") => (Cmp::Eq, &raw[2..]),
        _ => (Cmp::Eq, raw),
    };
    Ok((cmp, parse_value(rest)?))
}

fn digits(s: &str, n: usize) -> Result<u32, DateError> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DateError::Syntax);
    }
    s.parse().map_err(|_| DateError::Syntax)
}

pub fn parse_value(s: &str) -> Result<Bound, DateError> {
    let (date_part, time_part) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut it = date_part.split('-');
    let year = digits(it.next().unwrap_or(""), 4)? as i32;
    let month = it.next().map(|m| digits(m, 2)).transpose()?;
    let day = it.next().map(|d| digits(d, 2)).transpose()?;
    if it.next().is_some() {
        return Err(DateError::Syntax);
    }
    if let Some(m) = month {
        if !(1..=12).contains(&m) {
            return Err(DateError::Impossible("month must be in 1..12".into()));
        }
    }
    let m = month.unwrap_or(1);
    let d = day.unwrap_or(1);
    let date = NaiveDate::from_ymd_opt(year, m, d)
        .ok_or_else(|| DateError::Impossible("day is out of range for month".into()))?;
    let Some(t) = time_part else {
        if time_part.is_none() && (month.is_none() || day.is_none()) {
            let start = Utc
                .from_utc_datetime(&date.and_hms_opt(0, 0, 0).ok_or(DateError::Syntax)?)
                .timestamp_micros();
            let end_date = match (month, day) {
                (None, _) => NaiveDate::from_ymd_opt(year + 1, 1, 1),
                (Some(12), None) => NaiveDate::from_ymd_opt(year + 1, 1, 1),
                (Some(mm), None) => NaiveDate::from_ymd_opt(year, mm + 1, 1),
                _ => None,
            }
            .ok_or(DateError::Syntax)?;
            let end = Utc
                .from_utc_datetime(&end_date.and_hms_opt(0, 0, 0).ok_or(DateError::Syntax)?)
                .timestamp_micros();
            return Ok(Bound { lo: start, hi: end });
        }
        let start = Utc
            .from_utc_datetime(&date.and_hms_opt(0, 0, 0).ok_or(DateError::Syntax)?)
            .timestamp_micros();
        return Ok(Bound {
            lo: start,
            hi: start + 86_400_000_000,
        });
    };
    if day.is_none() {
        return Err(DateError::Syntax);
    }
    let full = format!("{date_part}T{t}");
    let t_us = parse_datetime_us(&full).ok_or(DateError::Syntax)?;
    Ok(Bound {
        lo: t_us,
        hi: t_us + 1,
    })
}

/// RFC 3339 / ISO 8601 date-time; a value without an offset is read as UTC (JHE's server time
/// zone). Returns UTC microseconds.
pub fn parse_datetime_us(s: &str) -> Option<i64> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc).timestamp_micros());
    }
    // Minutes-only with offset or Z, e.g. 2026-11-23T07:00Z
    for fmt in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc).timestamp_micros());
        }
    }
    let s2 = s.strip_suffix('Z').unwrap_or(s);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s2, fmt) {
            return Some(Utc.from_utc_datetime(&naive).timestamp_micros());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        parse_datetime_us(s).unwrap()
    }

    #[test]
    fn day_precision_ranges() {
        let (c, b) = parse_prefixed("ge2026-11-23").unwrap();
        assert_eq!(c, Cmp::Ge);
        assert!(b.test(c, us("2026-11-23T00:00:00Z")));
        assert!(!b.test(c, us("2026-11-22T23:59:59Z")));
        let (c, b) = parse_prefixed("le2026-11-23").unwrap();
        assert!(b.test(c, us("2026-11-23T23:59:59Z")));
        assert!(!b.test(c, us("2026-11-24T00:00:00Z")));
        let (c, b) = parse_prefixed("gt2026-11-23").unwrap();
        assert!(!b.test(c, us("2026-11-23T12:00:00Z")));
        assert!(b.test(c, us("2026-11-24T00:00:00Z")));
    }

    #[test]
    fn instants_offsets_and_errors() {
        let (c, b) = parse_prefixed("lt2026-11-23T08:00:00-08:00").unwrap();
        assert!(b.test(c, us("2026-11-23T15:59:59Z")));
        assert!(!b.test(c, us("2026-11-23T16:00:00Z")));
        assert_eq!(parse_prefixed("geyesterday"), Err(DateError::Syntax));
        assert_eq!(
            parse_prefixed("ge2026-13-45"),
            Err(DateError::Impossible("month must be in 1..12".into()))
        );
        assert_eq!(us("2026-11-20T08:05:00"), us("2026-11-20T08:05:00Z"));
    }

    #[test]
    fn python_isoformat() {
        assert_eq!(iso_z(us("2026-11-25T21:00:00Z")), "2026-11-25T21:00:00Z");
        assert_eq!(
            iso_z(us("2026-11-26T01:59:33.98129Z")),
            "2026-11-26T01:59:33.981290Z"
        );
        assert_eq!(iso_offset(0), "1970-01-01T00:00:00+00:00");
    }
}
