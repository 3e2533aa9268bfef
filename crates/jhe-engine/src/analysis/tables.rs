//! One participant's metrics of one type from their observations ([`type_metrics`], shared by
//! `jhe metrics` and the export), and the per-study metric tables of an export
//! ([`metric_tables`]: `metrics_cgm`, `metrics_blood_pressure`, `metrics_steps`,
//! `metrics_spo2`, one row per participant, the columns of [`super::dictionary`]).

use std::collections::BTreeMap;

use polars::prelude::*;

use super::other::STEP_GOAL;
use super::{
    bp_metrics, cgm_metrics, input, spo2_metrics, step_metrics, BpCategory, BpGoal, BpMetrics,
    CgmMetrics, Period, Spo2Metrics, StepMetrics,
};
use crate::chart::Obs;
use crate::omh::DataType;

/// The types with standard metrics, in output order.
pub const METRIC_TYPES: [DataType; 4] = [
    DataType::BloodGlucose,
    DataType::BloodPressure,
    DataType::StepCount,
    DataType::OxygenSaturation,
];

/// The metrics of one type.
#[derive(Clone, Debug)]
pub enum TypeMetrics {
    Cgm(CgmMetrics),
    BloodPressure(BpMetrics),
    Steps(StepMetrics),
    Spo2(Spo2Metrics),
}

/// One participant's metrics of `view` over `period`, with the implausible readings left out
/// (and their number); `None` for a type without standard metrics or without observations.
pub fn type_metrics(
    view: &DataType,
    participant_id: &str,
    obs: &[Obs],
    period: Period,
) -> Option<(TypeMetrics, u64)> {
    if obs.is_empty() {
        return None;
    }
    Some(match view {
        DataType::BloodGlucose => {
            let r = input::glucose(obs);
            let m = cgm_metrics(participant_id, &r.readings, period);
            (TypeMetrics::Cgm(m), r.implausible)
        }
        DataType::BloodPressure => {
            let r = input::blood_pressure(obs);
            let m = bp_metrics(participant_id, &r.readings, period, BpGoal::default());
            (TypeMetrics::BloodPressure(m), r.implausible)
        }
        DataType::StepCount => {
            let r = input::timed(view, obs);
            let m = step_metrics(&r.readings, period, STEP_GOAL);
            (TypeMetrics::Steps(m), r.implausible)
        }
        DataType::OxygenSaturation => {
            let r = input::timed(view, obs);
            (
                TypeMetrics::Spo2(spo2_metrics(&r.readings, period)),
                r.implausible,
            )
        }
        _ => return None,
    })
}

/// The name of the metric table of `view` (`metrics_cgm`, …), if it has one.
pub fn table_name(view: &DataType) -> Option<&'static str> {
    Some(match view {
        DataType::BloodGlucose => "metrics_cgm",
        DataType::BloodPressure => "metrics_blood_pressure",
        DataType::StepCount => "metrics_steps",
        DataType::OxygenSaturation => "metrics_spo2",
        _ => return None,
    })
}

/// The metric tables of `obs` (any participants, any types; types without standard metrics
/// are ignored) over `period`: (table name, one row per participant in id order).
pub fn metric_tables(obs: &[Obs], period: Period) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
    metric_tables_by(obs, &|_| period)
}

/// [`metric_tables`] with a period per participant (`period_of` their id): a de-identified
/// export's participants each have the export's days shifted as their data was.
pub fn metric_tables_by(
    obs: &[Obs],
    period_of: &dyn Fn(u64) -> Period,
) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
    // type → participant → observations
    let mut by_type: BTreeMap<usize, BTreeMap<u64, Vec<Obs>>> = BTreeMap::new();
    for o in obs {
        let view = DataType::from_code(&o.code);
        if let Some(i) = METRIC_TYPES.iter().position(|t| *t == view) {
            by_type
                .entry(i)
                .or_default()
                .entry(o.patient_id)
                .or_default()
                .push(o.clone());
        }
    }
    let mut out = Vec::new();
    for (i, people) in by_type {
        let view = &METRIC_TYPES[i];
        let rows: Vec<(u64, TypeMetrics, u64)> = people
            .iter()
            .filter_map(|(pid, o)| {
                type_metrics(view, &pid.to_string(), o, period_of(*pid)).map(|(m, n)| (*pid, m, n))
            })
            .collect();
        let Some(name) = table_name(view) else {
            continue;
        };
        out.push((name, frame(&rows)?));
    }
    Ok(out)
}

fn f64s<T>(rows: &[T], get: impl Fn(&T) -> Option<f64>) -> Vec<Option<f64>> {
    rows.iter().map(get).collect()
}

/// The metrics of one variant out of `rows` (a table's rows are all of one variant).
fn pick<'a, T>(
    rows: &'a [(u64, TypeMetrics, u64)],
    get: impl Fn(&'a TypeMetrics) -> Option<&'a T>,
) -> Vec<&'a T> {
    rows.iter().filter_map(|(_, m, _)| get(m)).collect()
}

/// A table of rows of one type (all rows are of the same variant).
fn frame(rows: &[(u64, TypeMetrics, u64)]) -> PolarsResult<DataFrame> {
    let ids: Vec<i64> = rows.iter().map(|(p, _, _)| *p as i64).collect();
    let left_out: Vec<i64> = rows.iter().map(|(_, _, n)| *n as i64).collect();
    let mut df = match rows.first().map(|(_, m, _)| m) {
        Some(TypeMetrics::Cgm(_)) | None => {
            let m: Vec<CgmMetrics> = pick(rows, |m| match m {
                TypeMetrics::Cgm(c) => Some(c),
                _ => None,
            })
            .into_iter()
            .cloned()
            .collect();
            super::frame::cgm_frame(&m)?
        }
        Some(TypeMetrics::BloodPressure(_)) => bp_frame(&pick(rows, |m| match m {
            TypeMetrics::BloodPressure(b) => Some(b),
            _ => None,
        }))?,
        Some(TypeMetrics::Steps(_)) => {
            let m = pick(rows, |m| match m {
                TypeMetrics::Steps(s) => Some(s),
                _ => None,
            });
            let cols = vec![
                Column::new(
                    "days_with_data".into(),
                    m.iter().map(|s| s.daily.len() as i64).collect::<Vec<_>>(),
                ),
                Column::new("mean_daily_steps".into(), f64s(&m, |s| s.mean_daily_steps)),
                Column::new(
                    "goal_steps".into(),
                    m.iter().map(|s| s.goal).collect::<Vec<_>>(),
                ),
                Column::new(
                    "days_at_goal_percent".into(),
                    f64s(&m, |s| s.days_at_goal_percent),
                ),
            ];
            DataFrame::new(m.len(), cols)?
        }
        Some(TypeMetrics::Spo2(_)) => {
            let m = pick(rows, |m| match m {
                TypeMetrics::Spo2(s) => Some(s),
                _ => None,
            });
            let cols = vec![
                Column::new(
                    "n_readings".into(),
                    m.iter().map(|s| s.n_readings as i64).collect::<Vec<_>>(),
                ),
                Column::new("mean_percent".into(), f64s(&m, |s| s.mean_percent)),
                Column::new("below_90_percent".into(), f64s(&m, |s| s.below_90_percent)),
            ];
            DataFrame::new(m.len(), cols)?
        }
    };
    // CGM's frame has its own participant_id (text); the others get it first.
    if df.column("participant_id").is_err() {
        df.insert_column(0, Column::new("participant_id".into(), ids))?;
    } else {
        df.replace("participant_id", Column::new("participant_id".into(), ids))?;
    }
    df.with_column(Column::new("implausible_left_out".into(), left_out))?;
    Ok(df)
}

fn bp_frame(m: &[&BpMetrics]) -> PolarsResult<DataFrame> {
    let mut cols = vec![
        Column::new(
            "n_readings".into(),
            m.iter().map(|b| b.n_readings as i64).collect::<Vec<_>>(),
        ),
        Column::new("mean_systolic".into(), f64s(m, |b| b.mean_systolic)),
        Column::new("mean_diastolic".into(), f64s(m, |b| b.mean_diastolic)),
        Column::new("sd_systolic".into(), f64s(m, |b| b.sd_systolic)),
        Column::new("sd_diastolic".into(), f64s(m, |b| b.sd_diastolic)),
        Column::new(
            "category_of_mean".into(),
            m.iter()
                .map(|b| b.category_of_mean.map(BpCategory::as_str))
                .collect::<Vec<_>>(),
        ),
    ];
    for (i, c) in BpCategory::ALL.iter().enumerate() {
        cols.push(Column::new(
            format!("{}_percent", c.as_str()).into(),
            f64s(m, |b| b.category_percent.map(|p| p[i])),
        ));
    }
    cols.extend([
        Column::new(
            "goal_systolic_below".into(),
            m.iter().map(|b| b.goal.systolic_below).collect::<Vec<_>>(),
        ),
        Column::new(
            "goal_diastolic_below".into(),
            m.iter().map(|b| b.goal.diastolic_below).collect::<Vec<_>>(),
        ),
        Column::new("at_goal_percent".into(), f64s(m, |b| b.at_goal_percent)),
        Column::new(
            "morning_n".into(),
            m.iter().map(|b| b.morning_n as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            "morning_mean_systolic".into(),
            f64s(m, |b| b.morning_mean_systolic),
        ),
        Column::new(
            "morning_mean_diastolic".into(),
            f64s(m, |b| b.morning_mean_diastolic),
        ),
        Column::new(
            "evening_n".into(),
            m.iter().map(|b| b.evening_n as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            "evening_mean_systolic".into(),
            f64s(m, |b| b.evening_mean_systolic),
        ),
        Column::new(
            "evening_mean_diastolic".into(),
            f64s(m, |b| b.evening_mean_diastolic),
        ),
    ]);
    for (name, get) in [
        (
            "min_systolic",
            (|b: &BpMetrics| b.min_systolic) as fn(&BpMetrics) -> _,
        ),
        ("max_systolic", |b: &BpMetrics| b.max_systolic),
        ("min_diastolic", |b: &BpMetrics| b.min_diastolic),
        ("max_diastolic", |b: &BpMetrics| b.max_diastolic),
    ] {
        cols.push(Column::new(
            name.into(),
            f64s(m, |b| get(b).map(|e| e.value)),
        ));
        cols.push(Column::new(
            format!("{name}_local_date").into(),
            m.iter()
                .map(|b| get(b).map(|e| e.local_date.to_string()))
                .collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(m.len(), cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(pid: u64, code: &str, k: i64, v: f64, v2: Option<f64>) -> Obs {
        Obs {
            observation_id: pid * 1000 + k as u64,
            patient_id: pid,
            code: code.into(),
            t_us: k * 5 * 60_000_000,
            end_us: None,
            local_us: Some(k * 5 * 60_000_000),
            v: Some(v),
            v2,
            device: None,
        }
    }

    #[test]
    fn one_table_per_type_one_row_per_participant_implausible_counted() {
        let mut o = Vec::new();
        for k in 0..20 {
            o.push(obs(2, "omh:blood-glucose:4.0", k, 100.0 + k as f64, None));
            o.push(obs(1, "omh:blood-glucose:4.0", k, 150.0, None));
        }
        o.push(obs(1, "omh:blood-glucose:4.0", 30, 1200.0, None));
        o.push(obs(1, "omh:blood-pressure:4.0", 1, 128.0, Some(82.0)));
        o.push(obs(1, "omh:heart-rate:2.0", 1, 60.0, None));
        let t = metric_tables(&o, Period::ALL).expect("tables");
        let names: Vec<&str> = t.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["metrics_cgm", "metrics_blood_pressure"]);
        let cgm = &t[0].1;
        assert_eq!(
            cgm.get_column_names()[..3]
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
            ["participant_id", "n_readings", "mean_mg_dl"]
        );
        let ids: Vec<Option<i64>> = cgm
            .column("participant_id")
            .expect("id")
            .i64()
            .expect("i64")
            .iter()
            .collect();
        assert_eq!(ids, [Some(1), Some(2)]);
        let n: Vec<Option<u64>> = cgm
            .column("n_readings")
            .expect("n")
            .cast(&polars::prelude::DataType::UInt64)
            .expect("cast")
            .u64()
            .expect("u64")
            .iter()
            .collect();
        assert_eq!(
            n,
            [Some(20), Some(20)],
            "the 1,200 mg/dL reading is left out"
        );
        let left: Vec<Option<i64>> = cgm
            .column("implausible_left_out")
            .expect("left out")
            .i64()
            .expect("i64")
            .iter()
            .collect();
        assert_eq!(left, [Some(1), Some(0)]);
        let bp = &t[1].1;
        let cat = bp.column("category_of_mean").expect("category");
        assert_eq!(cat.str().expect("str").get(0), Some("stage_1"));
    }

    #[test]
    fn every_column_of_every_metric_table_is_in_the_dictionary() {
        let mut o = Vec::new();
        for (k, code) in [
            "omh:blood-glucose:4.0",
            "omh:blood-pressure:4.0",
            "omh:step-count:3.0",
            "omh:oxygen-saturation:2.0",
        ]
        .iter()
        .enumerate()
        {
            o.push(obs(1, code, k as i64, 97.0, Some(60.0)));
        }
        let t = metric_tables(&o, Period::ALL).expect("tables");
        assert_eq!(t.len(), 4);
        for (name, df) in &t {
            for c in df.get_column_names() {
                assert!(
                    crate::analysis::dictionary::metric_def(name, c).is_some(),
                    "{name}.{c} is not documented"
                );
            }
        }
    }
}
