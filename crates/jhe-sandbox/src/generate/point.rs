//! [`GenPoint`]: one generated observation packed into 16 bytes, plus the date-time and UUID
//! formatting used to render it.
//!
//! Bit layout (two little words, `a` and `b`):
//!
//! | word | bits   | field |
//! |------|--------|-------|
//! | a    | 0..32  | effective start, UTC Unix seconds (u32: 1970..2106) |
//! | a    | 32..56 | patient salt (`patient_id ^ hash(seed)`, 24 bits) |
//! | a    | 56..58 | seq (separates two streams of one kind, e.g. spot vs nightly heart rate) |
//! | a    | 58..62 | dirty kind + 1 (0 = clean) |
//! | a    | 62     | render times with the patient's UTC offset (else `Z`) |
//! | a    | 63     | duration bit 16 |
//! | b    | 0..16  | duration bits 0..16 (seconds; 0 = `date_time` frame, else `time_interval`) |
//! | b    | 16..36 | v1: main value in tenths, signed 20 bits |
//! | b    | 36..44 | v2: secondary value (diastolic mmHg, distance in 100 m) |
//! | b    | 44..48 | kind index |
//! | b    | 48..52 | UTC offset index ([`TZ_OFFSETS`]) |
//! | b    | 52..56 | kind-specific variant (unit, activity name, …) |
//! | b    | 56..63 | source creation time after the effective end, minutes |
//! | b    | 63     | modality self-reported (else sensed) |
//!
//! The UUID is a bijective hash of (salt, kind, seq, start), so it is unique per patient,
//! kind, stream and second, needs no storage, and a re-sent copy of a point has the same UUID.

use super::{DirtyKind, Kind};

/// UTC offsets (seconds) a patient can live in; a point stores the index.
pub const TZ_OFFSETS: [i32; 16] = [
    -8 * 3600,
    -7 * 3600,
    -6 * 3600,
    -5 * 3600,
    -4 * 3600,
    -3 * 3600,
    0,
    3600,
    2 * 3600,
    3 * 3600,
    5 * 3600 + 1800,
    8 * 3600,
    9 * 3600,
    10 * 3600,
    -10 * 3600,
    5 * 3600 + 2700,
];

pub(crate) const V1_MIN: i32 = -(1 << 19);
pub(crate) const V1_MAX: i32 = (1 << 19) - 1;
pub(crate) const DUR_MAX: u32 = (1 << 17) - 1;

/// One generated observation, compact: everything needed to render its OMH JSON
/// (with the [`Kind`] the store keeps beside it).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GenPoint {
    a: u64,
    b: u64,
}

impl std::fmt::Debug for GenPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenPoint")
            .field("kind", &self.kind())
            .field("start_s", &self.start_s())
            .field("duration_s", &self.duration_s())
            .field("v1_tenths", &self.v1_tenths())
            .field("v2", &self.v2())
            .field("variant", &self.variant())
            .field("dirty", &self.dirty())
            .field("local", &self.renders_local())
            .field("utc_offset_s", &self.utc_offset_s())
            .finish()
    }
}

/// The unpacked fields, for building a point.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PointFields {
    pub start_s: u32,
    pub salt: u32,
    pub seq: u8,
    pub dirty: Option<DirtyKind>,
    pub local: bool,
    pub duration_s: u32,
    pub v1_tenths: i32,
    pub v2: u8,
    pub kind_index: u8,
    pub tz_index: u8,
    pub variant: u8,
    pub created_min: u8,
    pub self_reported: bool,
}

#[inline]
fn bits(word: u64, lo: u32, n: u32) -> u64 {
    (word >> lo) & ((1u64 << n) - 1)
}

impl GenPoint {
    pub(crate) fn pack(f: &PointFields) -> GenPoint {
        let dur = f.duration_s.min(DUR_MAX) as u64;
        let dirty = f.dirty.map_or(0, |d| d.index() as u64 + 1);
        let a = f.start_s as u64
            | ((f.salt as u64 & 0xff_ffff) << 32)
            | ((f.seq as u64 & 3) << 56)
            | ((dirty & 0xf) << 58)
            | ((f.local as u64) << 62)
            | ((dur >> 16) << 63);
        let v1 = f.v1_tenths.clamp(V1_MIN, V1_MAX) as i64 as u64 & 0xf_ffff;
        let b = (dur & 0xffff)
            | (v1 << 16)
            | ((f.v2 as u64) << 36)
            | ((f.kind_index as u64 & 0xf) << 44)
            | ((f.tz_index as u64 & 0xf) << 48)
            | ((f.variant as u64 & 0xf) << 52)
            | ((f.created_min.min(127) as u64) << 56)
            | ((f.self_reported as u64) << 63);
        GenPoint { a, b }
    }

    pub(crate) fn fields(&self) -> PointFields {
        PointFields {
            start_s: self.start_s(),
            salt: self.salt(),
            seq: self.seq(),
            dirty: self.dirty(),
            local: self.renders_local(),
            duration_s: self.duration_s(),
            v1_tenths: self.v1_tenths(),
            v2: self.v2(),
            kind_index: bits(self.b, 44, 4) as u8,
            tz_index: bits(self.b, 48, 4) as u8,
            variant: self.variant(),
            created_min: self.created_min(),
            self_reported: self.self_reported(),
        }
    }

    pub(crate) fn with_dirty(&self, dirty: Option<DirtyKind>) -> GenPoint {
        let mut f = self.fields();
        f.dirty = dirty;
        GenPoint::pack(&f)
    }

    /// The observation type (also kept by the store beside the point).
    pub fn kind(&self) -> Kind {
        let i = bits(self.b, 44, 4) as usize;
        Kind::ALL.get(i).copied().unwrap_or(Kind::BloodGlucose)
    }
    /// Effective start (or instant), UTC Unix seconds.
    pub fn start_s(&self) -> u32 {
        bits(self.a, 0, 32) as u32
    }
    pub(crate) fn salt(&self) -> u32 {
        bits(self.a, 32, 24) as u32
    }
    pub(crate) fn seq(&self) -> u8 {
        bits(self.a, 56, 2) as u8
    }
    /// Interval length in seconds; 0 for a `date_time` frame.
    pub fn duration_s(&self) -> u32 {
        (bits(self.b, 0, 16) | (bits(self.a, 63, 1) << 16)) as u32
    }
    /// The main value in tenths of the rendered unit (kind-specific, see `render`).
    pub fn v1_tenths(&self) -> i32 {
        (((self.b >> 16) << 44) as i64 >> 44) as i32
    }
    pub(crate) fn v2(&self) -> u8 {
        bits(self.b, 36, 8) as u8
    }
    pub(crate) fn variant(&self) -> u8 {
        bits(self.b, 52, 4) as u8
    }
    pub(crate) fn created_min(&self) -> u8 {
        bits(self.b, 56, 7) as u8
    }
    /// `header.modality` is "self-reported" (else "sensed").
    pub fn self_reported(&self) -> bool {
        bits(self.b, 63, 1) == 1
    }
    /// The deliberate defect of this point, if any (never `UploadGap`).
    pub fn dirty(&self) -> Option<DirtyKind> {
        match bits(self.a, 58, 4) as usize {
            0 => None,
            n => DirtyKind::ALL.get(n - 1).copied(),
        }
    }
    /// Times render with the patient's UTC offset (e.g. `-08:00`) instead of `Z`.
    pub fn renders_local(&self) -> bool {
        bits(self.a, 62, 1) == 1
    }
    /// The patient's UTC offset in seconds (used for local renderings and naive times).
    pub fn utc_offset_s(&self) -> i32 {
        TZ_OFFSETS[bits(self.b, 48, 4) as usize]
    }
    /// The effective time frame renders without an offset (dirty `NoOffset`): a server reading
    /// it as UTC gets a different instant than [`GenPoint::effective_start_us`], so re-parse
    /// the rendered JSON where that matters.
    pub fn needs_reparse(&self) -> bool {
        self.dirty() == Some(DirtyKind::NoOffset)
    }
    /// True effective start (or instant), UTC microseconds.
    pub fn effective_start_us(&self) -> i64 {
        self.start_s() as i64 * 1_000_000
    }
    /// True effective end, UTC microseconds, for `time_interval` frames.
    pub fn effective_end_us(&self) -> Option<i64> {
        match self.duration_s() {
            0 => None,
            d => Some((self.start_s() as i64 + d as i64) * 1_000_000),
        }
    }
    /// `header.source_creation_date_time`, UTC Unix seconds.
    pub fn created_s(&self) -> i64 {
        let end = self.start_s() as i64 + self.duration_s() as i64;
        match self.created_min() {
            0 => end,
            m => end + m as i64 * 60 + (self.uuid_word() >> 7) as i64 % 60,
        }
    }
    /// `header.source_creation_date_time`, UTC microseconds.
    pub fn created_us(&self) -> i64 {
        self.created_s() * 1_000_000
    }

    /// 64 bits that are unique per (salt, kind, seq, start).
    fn uuid_word(&self) -> u64 {
        let x = ((self.salt() as u64) << 40)
            | (bits(self.b, 44, 4) << 36)
            | ((self.seq() as u64) << 32)
            | self.start_s() as u64;
        mix64(x ^ 0x6a09_e667_f3bc_c908)
    }

    /// `header.uuid`: a v4-style UUID derived from the point's identity (not its values), so a
    /// re-sent copy has the same one. Unique per patient (ids below 2^24), kind and time.
    pub fn uuid(&self) -> String {
        let h = self.uuid_word();
        let l = mix64(h ^ 0xbb67_ae85_84ca_a73b);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            h >> 32,
            (h >> 16) & 0xffff,
            0x4000 | ((h >> 4) & 0x0fff),
            0x8000 | ((h & 0xf) << 10) | ((l >> 54) & 0x3ff),
            l & 0xffff_ffff_ffff
        )
    }

    /// A uniform number in [0, 1) fixed by the point's identity (used for render choices).
    pub(crate) fn unit_hash(&self, salt: u64) -> f64 {
        (mix64(self.uuid_word() ^ salt) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// SplitMix64's finalizer: a bijection on u64 with good avalanche.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a date-time is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeStyle {
    /// `2026-11-20T16:05:00Z`
    Utc,
    /// `2026-11-20T08:05:00-08:00` (`+00:00` for offset 0)
    Offset(i32),
    /// `2026-11-20T08:05:00`: local wall time, no offset (dirty)
    Naive(i32),
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
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

/// RFC 3339 with second precision.
pub(crate) fn format_time(unix_s: i64, style: TimeStyle) -> String {
    let shift = match style {
        TimeStyle::Utc => 0,
        TimeStyle::Offset(o) | TimeStyle::Naive(o) => o as i64,
    };
    let t = unix_s + shift;
    let (y, mo, d) = civil_from_days(t.div_euclid(86_400));
    let sod = t.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    match style {
        TimeStyle::Utc => out.push('Z'),
        TimeStyle::Offset(o) => {
            let sign = if o < 0 { '-' } else { '+' };
            let a = o.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60));
        }
        TimeStyle::Naive(_) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_round_trips() {
        let f = PointFields {
            start_s: 1_795_000_123,
            salt: 0xab_cdef,
            seq: 2,
            dirty: Some(DirtyKind::ImplausibleValue),
            local: true,
            duration_s: 86_400,
            v1_tenths: -30,
            v2: 201,
            kind_index: 9,
            tz_index: 10,
            variant: 13,
            created_min: 127,
            self_reported: true,
        };
        let p = GenPoint::pack(&f);
        let g = p.fields();
        assert_eq!(g.start_s, f.start_s);
        assert_eq!(g.salt, f.salt);
        assert_eq!(g.seq, f.seq);
        assert_eq!(g.dirty, f.dirty);
        assert_eq!(g.local, f.local);
        assert_eq!(g.duration_s, f.duration_s);
        assert_eq!(g.v1_tenths, f.v1_tenths);
        assert_eq!(g.v2, f.v2);
        assert_eq!(g.kind_index, f.kind_index);
        assert_eq!(g.tz_index, f.tz_index);
        assert_eq!(g.variant, f.variant);
        assert_eq!(g.created_min, f.created_min);
        assert_eq!(g.self_reported, f.self_reported);
        assert_eq!(p.kind(), Kind::PhysicalActivity);
        assert_eq!(p.utc_offset_s(), 5 * 3600 + 1800);
        for v in [V1_MIN, -1, 0, 1, 12_000, V1_MAX] {
            let q = GenPoint::pack(&PointFields { v1_tenths: v, ..f });
            assert_eq!(q.v1_tenths(), v);
        }
        let q = GenPoint::pack(&PointFields {
            v1_tenths: 9_999_999,
            duration_s: u32::MAX,
            ..f
        });
        assert_eq!(q.v1_tenths(), V1_MAX);
        assert_eq!(q.duration_s(), DUR_MAX);
    }

    #[test]
    fn uuid_shape_and_identity() {
        let f = PointFields {
            start_s: 1_795_000_000,
            salt: 40006,
            ..Default::default()
        };
        let p = GenPoint::pack(&f);
        let u = p.uuid();
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|s| s.len()).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        // Values and dirt do not change the identity; time, seq and salt do.
        let same = GenPoint::pack(&PointFields {
            v1_tenths: 5,
            dirty: Some(DirtyKind::DuplicateUuid),
            ..f
        });
        assert_eq!(same.uuid(), u);
        assert_eq!(same.created_s(), p.created_s());
        assert_ne!(GenPoint::pack(&PointFields { seq: 1, ..f }).uuid(), u);
        assert_ne!(GenPoint::pack(&PointFields { salt: 40007, ..f }).uuid(), u);
        assert_ne!(
            GenPoint::pack(&PointFields {
                start_s: f.start_s + 1,
                ..f
            })
            .uuid(),
            u
        );
    }

    #[test]
    fn time_formatting_matches_chrono() {
        use chrono::{FixedOffset, TimeZone, Utc};
        for t in [
            0i64,
            951_782_400, // 2000-02-29
            1_795_000_123,
            1_798_761_599, // 2026-12-31T23:59:59Z
            4_102_444_800,
        ] {
            let utc = Utc.timestamp_opt(t, 0).unwrap();
            assert_eq!(
                format_time(t, TimeStyle::Utc),
                utc.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
            for off in [-8 * 3600, 0, 19_800, 20_700] {
                let tz = FixedOffset::east_opt(off).unwrap();
                let local = utc.with_timezone(&tz);
                assert_eq!(
                    format_time(t, TimeStyle::Offset(off)),
                    local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
                );
                assert_eq!(
                    format_time(t, TimeStyle::Naive(off)),
                    local.format("%Y-%m-%dT%H:%M:%S").to_string()
                );
            }
        }
    }
}
