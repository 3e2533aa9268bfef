//! The metrics' inputs from decoded observations ([`Obs`]): each reading's value in its type's
//! unit and its own UTC offset (wall clock − instant), with physiologically implausible readings
//! (the type spec's ranges, [`crate::omh::TypeSpec::plausible`]) left out and counted. The app's
//! participant cards and `jhe metrics` both start here.

use super::{BpReading, GlucoseReading, GlucoseUnit, TimedValue};
use crate::chart::Obs;
use crate::omh::DataType;

/// Readings for a metric, and how many implausible ones were left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Readings<T> {
    pub readings: Vec<T>,
    pub implausible: u64,
}

/// The reading's UTC offset in seconds (0 when its wall clock is unknown).
pub fn offset_s(o: &Obs) -> i32 {
    o.local_us.map_or(0, |l| {
        ((l - o.t_us) / 1_000_000).clamp(-86_400, 86_400) as i32
    })
}

/// Which readings a metric counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Counting {
    /// Implausible readings (the type spec's ranges) left out and counted in `implausible`: the
    /// default everywhere.
    #[default]
    PlausibleOnly,
    /// Every reading, implausible ones too (`implausible` still says how many there are): when
    /// the user asks for the numbers with them.
    All,
}

impl Counting {
    /// The observations of type `view` to count, and how many of them are implausible.
    fn select<'a>(self, view: &DataType, obs: &'a [Obs]) -> (Vec<&'a Obs>, u64) {
        let ok = |o: &&Obs| view.spec().is_none_or(|s| s.plausible(o.v, o.v2));
        let kept: Vec<&Obs> = match self {
            Counting::PlausibleOnly => obs.iter().filter(ok).collect(),
            Counting::All => obs.iter().collect(),
        };
        let implausible = match self {
            Counting::PlausibleOnly => (obs.len() - kept.len()) as u64,
            Counting::All => obs.iter().filter(|o| !ok(o)).count() as u64,
        };
        (kept, implausible)
    }

    /// Glucose readings (mg/dL) of blood-glucose observations.
    pub fn glucose(self, obs: &[Obs]) -> Readings<GlucoseReading> {
        let (kept, implausible) = self.select(&DataType::BloodGlucose, obs);
        Readings {
            readings: kept
                .iter()
                .filter_map(|o| {
                    Some(GlucoseReading {
                        utc_us: o.t_us,
                        offset_s: offset_s(o),
                        value: o.v?,
                        unit: GlucoseUnit::MgDl,
                    })
                })
                .collect(),
            implausible,
        }
    }

    /// Systolic/diastolic pairs of blood-pressure observations.
    pub fn blood_pressure(self, obs: &[Obs]) -> Readings<BpReading> {
        let (kept, implausible) = self.select(&DataType::BloodPressure, obs);
        Readings {
            readings: kept
                .iter()
                .filter_map(|o| {
                    Some(BpReading {
                        utc_us: o.t_us,
                        offset_s: offset_s(o),
                        systolic: o.v?,
                        diastolic: o.v2?,
                    })
                })
                .collect(),
            implausible,
        }
    }

    /// The main value of observations of any type (steps, SpO2, heart rate, weight, …).
    pub fn timed(self, view: &DataType, obs: &[Obs]) -> Readings<TimedValue> {
        let (kept, implausible) = self.select(view, obs);
        Readings {
            readings: kept
                .iter()
                .filter_map(|o| {
                    Some(TimedValue {
                        utc_us: o.t_us,
                        offset_s: offset_s(o),
                        value: o.v?,
                    })
                })
                .collect(),
            implausible,
        }
    }
}

/// Glucose readings (mg/dL) of blood-glucose observations, implausible ones left out.
pub fn glucose(obs: &[Obs]) -> Readings<GlucoseReading> {
    Counting::PlausibleOnly.glucose(obs)
}

/// Systolic/diastolic pairs of blood-pressure observations, implausible ones left out.
pub fn blood_pressure(obs: &[Obs]) -> Readings<BpReading> {
    Counting::PlausibleOnly.blood_pressure(obs)
}

/// The main value of observations of any type, implausible ones left out.
pub fn timed(view: &DataType, obs: &[Obs]) -> Readings<TimedValue> {
    Counting::PlausibleOnly.timed(view, obs)
}
