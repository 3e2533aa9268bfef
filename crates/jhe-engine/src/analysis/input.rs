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

/// The plausible observations of type `view`, and the number left out.
fn plausible<'a>(view: &DataType, obs: &'a [Obs]) -> (Vec<&'a Obs>, u64) {
    let kept: Vec<&Obs> = obs
        .iter()
        .filter(|o| view.spec().is_none_or(|s| s.plausible(o.v, o.v2)))
        .collect();
    let left_out = (obs.len() - kept.len()) as u64;
    (kept, left_out)
}

/// Glucose readings (mg/dL) of blood-glucose observations.
pub fn glucose(obs: &[Obs]) -> Readings<GlucoseReading> {
    let (kept, implausible) = plausible(&DataType::BloodGlucose, obs);
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
pub fn blood_pressure(obs: &[Obs]) -> Readings<BpReading> {
    let (kept, implausible) = plausible(&DataType::BloodPressure, obs);
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
pub fn timed(view: &DataType, obs: &[Obs]) -> Readings<TimedValue> {
    let (kept, implausible) = plausible(view, obs);
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
