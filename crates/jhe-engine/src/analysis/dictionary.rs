//! The data dictionary of the metrics: for every output number, how exactly it is computed
//! (band edges, inclusive or exclusive, local or UTC days, intervals). The export's
//! dictionary includes [`METRICS_DICTIONARY`].

/// One documented metric: the table (`metrics_cgm`, …), the column, its unit and definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    pub table: &'static str,
    pub column: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
}

const fn d(
    table: &'static str,
    column: &'static str,
    unit: &'static str,
    definition: &'static str,
) -> MetricDef {
    MetricDef {
        table,
        column,
        unit,
        definition,
    }
}

/// General rules that apply to every metric.
pub const GENERAL_RULES: &str = "Metrics use the readings whose UTC instant lies in the chosen \
period [from, to) (without a period: all of the participant's data). \"Local\" dates and hours \
are the participant's wall clock from each reading's own UTC offset (UTC instant + offset), \
never UTC and never the computer's time zone. Readings with a missing or non-finite value are \
left out; glucose values ≤ 0 are left out. Glucose in mmol/L is converted to mg/dL with \
× 18.0182 before any band is applied. Empty cells mean \"not defined\" (no readings, SD of a \
single reading, or iglu returning NA).";

/// Every metric column with its definition.
pub const METRICS_DICTIONARY: &[MetricDef] = &[
    d("metrics_cgm", "participant_id", "", "JHE patient id."),
    d("metrics_cgm", "n_readings", "count", "Number of glucose readings in the period (repeated instants each counted)."),
    d("metrics_cgm", "mean_mg_dl", "mg/dL", "Arithmetic mean of the readings."),
    d("metrics_cgm", "sd_mg_dl", "mg/dL", "Sample standard deviation (denominator n − 1); empty for one reading."),
    d("metrics_cgm", "cv_percent", "%", "Coefficient of variation: 100 × SD ÷ mean."),
    d("metrics_cgm", "gmi_percent", "%", "Glucose management indicator (Bergenstal 2018): 3.31 + 0.02392 × mean mg/dL."),
    d("metrics_cgm", "very_low_percent", "% of readings", "Readings < 54 mg/dL (level 2 hypoglycaemia; consensus 2019)."),
    d("metrics_cgm", "low_percent", "% of readings", "Readings ≥ 54 and < 70 mg/dL (level 1 hypoglycaemia)."),
    d("metrics_cgm", "in_range_percent", "% of readings", "Time in range: readings ≥ 70 and ≤ 180 mg/dL (both edges included)."),
    d("metrics_cgm", "high_percent", "% of readings", "Readings > 180 and ≤ 250 mg/dL (level 1 hyperglycaemia)."),
    d("metrics_cgm", "very_high_percent", "% of readings", "Readings > 250 mg/dL (level 2 hyperglycaemia). The five bands add up to 100 %."),
    d("metrics_cgm", "tight_range_percent", "% of readings", "Time in tight range: readings ≥ 70 and ≤ 140 mg/dL."),
    d("metrics_cgm", "gri", "0–100", "Glycemia Risk Index (Klonoff 2023): 3.0 × very_low + 2.4 × low + 1.6 × very_high + 0.8 × high, with the disjoint bands above, capped at 100. (iglu's gri() uses the cumulative < 70 and > 180 shares instead.)"),
    d("metrics_cgm", "gri_zone", "A–E", "GRI zone: A ≤ 20, B > 20 to ≤ 40, C > 40 to ≤ 60, D > 60 to ≤ 80, E > 80."),
    d("metrics_cgm", "active_percent", "%", "Time CGM active: distinct reading instants ÷ expected readings × 100 (capped at 100); expected = round(minutes from first to last reading in the period ÷ interval) + 1; interval = median gap between successive distinct instants in whole minutes (rounded half to even, at least 1), 5 min for a single reading."),
    d("metrics_cgm", "mage_mg_dl", "mg/dL", "Mean amplitude of glycemic excursions exactly as R iglu 4.1.7 mage() (default version \"ma\": short/long moving averages of 5 and 32 points on a 5-minute grid, direction \"avg\", inter_gap 45 min, max_gap 180 min; segments weighted by length). Grid: linear interpolation from local midnight of the first reading's date (that reading's offset) in elapsed time; no interpolation across gaps > 45 min; the last reading of a repeated instant is used. Empty where iglu returns NA (fewer than 32 grid points, SD < 1 mg/dL, no excursion)."),
    d("metrics_cgm", "modd_mg_dl", "mg/dL", "Mean of daily differences exactly as R iglu 4.1.7 modd(lag = 1): mean |g(t + 24 h) − g(t)| over the interpolation grid (step = median reading gap rounded to whole minutes and adjusted to divide a day, as iglu's CGMS2DayByDay), same grid origin and gap rule as MAGE. Across a DST change the pair is 24 h of elapsed time apart. Empty for fewer than 2 readings, a median gap over 45 min, or no pair."),
    d("metrics_cgm", "j_index", "(mg/dL)²/1000", "J-index (Wojcicki 1995): 0.001 × (mean + SD)²."),
    d("metrics_cgm", "lbgi", "", "Low blood glucose index (Kovatchev) as iglu lbgi(): 22.77 × Σ over readings < 112.5 mg/dL of min(0, ln(g)^1.084 − 5.381)² ÷ n."),
    d("metrics_cgm", "hbgi", "", "High blood glucose index as iglu hbgi(): 22.77 × Σ over readings ≥ 112.5 mg/dL of max(0, ln(g)^1.084 − 5.381)² ÷ n."),
    d("metrics_cgm", "implausible_left_out", "count", "Glucose readings outside the plausible range, left out of every number above."),
    d("metrics_blood_pressure", "participant_id", "", "JHE patient id."),
    d("metrics_blood_pressure", "n_readings", "count", "Number of blood-pressure readings in the period."),
    d("metrics_blood_pressure", "mean_systolic", "mmHg", "Arithmetic mean of the systolic values."),
    d("metrics_blood_pressure", "mean_diastolic", "mmHg", "Arithmetic mean of the diastolic values."),
    d("metrics_blood_pressure", "sd_systolic", "mmHg", "Sample standard deviation (n − 1) of the systolic values; empty for one reading."),
    d("metrics_blood_pressure", "sd_diastolic", "mmHg", "Sample standard deviation (n − 1) of the diastolic values; empty for one reading."),
    d("metrics_blood_pressure", "category_of_mean", "", "AHA/ACC 2017 category of (mean systolic, mean diastolic): crisis if systolic > 180 or diastolic > 120; else stage_2 if systolic ≥ 140 or diastolic ≥ 90; else stage_1 if systolic ≥ 130 or diastolic ≥ 80; else elevated if systolic ≥ 120; else normal. Edges are continuous (a mean of 129.6 is below 130)."),
    d("metrics_blood_pressure", "normal_percent", "% of readings", "Readings whose own AHA category (as for category_of_mean) is normal."),
    d("metrics_blood_pressure", "elevated_percent", "% of readings", "Readings in the elevated category."),
    d("metrics_blood_pressure", "stage_1_percent", "% of readings", "Readings in the stage 1 hypertension category."),
    d("metrics_blood_pressure", "stage_2_percent", "% of readings", "Readings in the stage 2 hypertension category."),
    d("metrics_blood_pressure", "crisis_percent", "% of readings", "Readings in the hypertensive crisis category. The five add up to 100 %."),
    d("metrics_blood_pressure", "goal_systolic_below", "mmHg", "The goal: systolic below this (default 130)."),
    d("metrics_blood_pressure", "goal_diastolic_below", "mmHg", "The goal: diastolic below this (default 80)."),
    d("metrics_blood_pressure", "at_goal_percent", "% of readings", "Readings with systolic < goal systolic AND diastolic < goal diastolic (default goal 130/80: at goal means < 130 and < 80)."),
    d("metrics_blood_pressure", "morning_n", "count", "Readings taken 04:00–11:59 local time."),
    d("metrics_blood_pressure", "morning_mean_systolic", "mmHg", "Mean systolic of the morning readings."),
    d("metrics_blood_pressure", "morning_mean_diastolic", "mmHg", "Mean diastolic of the morning readings."),
    d("metrics_blood_pressure", "evening_n", "count", "Readings taken 18:00–23:59 local time."),
    d("metrics_blood_pressure", "evening_mean_systolic", "mmHg", "Mean systolic of the evening readings."),
    d("metrics_blood_pressure", "evening_mean_diastolic", "mmHg", "Mean diastolic of the evening readings."),
    d("metrics_blood_pressure", "min_systolic", "mmHg", "Lowest systolic value."),
    d("metrics_blood_pressure", "min_systolic_local_date", "date", "Local date of the earliest reading with the lowest systolic value."),
    d("metrics_blood_pressure", "max_systolic", "mmHg", "Highest systolic value."),
    d("metrics_blood_pressure", "max_systolic_local_date", "date", "Local date of the earliest reading with the highest systolic value."),
    d("metrics_blood_pressure", "min_diastolic", "mmHg", "Lowest diastolic value."),
    d("metrics_blood_pressure", "min_diastolic_local_date", "date", "Local date of the earliest reading with the lowest diastolic value."),
    d("metrics_blood_pressure", "max_diastolic", "mmHg", "Highest diastolic value."),
    d("metrics_blood_pressure", "max_diastolic_local_date", "date", "Local date of the earliest reading with the highest diastolic value."),
    d("metrics_blood_pressure", "implausible_left_out", "count", "Readings outside the plausible ranges (or diastolic not below systolic), left out of every number above."),
    d("metrics_blood_pressure", "by_hour", "mmHg", "(`jhe metrics --json` only) Mean systolic and diastolic per local hour of day (0–23), over all days."),
    d("metrics_steps", "participant_id", "", "JHE patient id."),
    d("metrics_steps", "days_with_data", "days", "Local dates with at least one step record (daily total = sum of step records per local date of each record's start)."),
    d("metrics_steps", "mean_daily_steps", "steps", "Mean of the daily totals over the days with data."),
    d("metrics_steps", "goal_steps", "steps", "The daily goal (default 7,000)."),
    d("metrics_steps", "days_at_goal_percent", "% of days", "Days with total ≥ goal ÷ days with data."),
    d("metrics_steps", "implausible_left_out", "count", "Step records outside the plausible range, left out."),
    d("metrics_heart_rate", "resting_hr", "bpm", "Per local date: the 5th percentile (R quantile type 7) of that day's heart-rate readings (robust to single artefacts; equals the value on days with one reading)."),
    d("metrics_heart_rate", "resting_hr_slope", "bpm/week", "Least-squares slope of the daily resting values on the date (days) × 7."),
    d("metrics_sleep", "sleep_minutes", "minutes", "Per night: sum of the durations (end − start) of all sleep episodes whose end falls on that local date (offset at the end)."),
    d("metrics_weight", "weight_slope", "kg/week", "Least-squares slope of every weight reading (kg) on its UTC time in days × 7."),
    d("metrics_spo2", "participant_id", "", "JHE patient id."),
    d("metrics_spo2", "n_readings", "count", "Number of SpO2 readings in the period."),
    d("metrics_spo2", "mean_percent", "%", "Arithmetic mean of the readings."),
    d("metrics_spo2", "below_90_percent", "% of readings", "Readings with SpO2 < 90 % (90 itself is not below)."),
    d("metrics_spo2", "implausible_left_out", "count", "Readings outside the plausible range (e.g. over 100 %), left out."),
];

/// The definition of `column` of the metric table `table`.
pub fn metric_def(table: &str, column: &str) -> Option<&'static MetricDef> {
    METRICS_DICTIONARY
        .iter()
        .find(|m| m.table == table && m.column == column)
}

/// The rule for physiologically implausible readings, with each type's range from its spec.
pub fn plausible_rule() -> String {
    let ranges: Vec<String> = crate::omh::DataType::KNOWN
        .iter()
        .filter_map(|t| t.spec())
        .flat_map(|s| s.plausible_ranges())
        .collect();
    format!(
        "Physiologically implausible readings are left out of every metric and statistic (charts \
         mark them on their top edge instead of drawing them; exports keep them as sent). A reading \
         is implausible when a value lies outside its type's range, edges included as plausible, or \
         when a blood pressure's diastolic value is not below its systolic one: {}.",
        ranges.join("; ")
    )
}

/// The dictionary as Markdown (one table), for a README or the export's `dictionary.md`.
pub fn dictionary_markdown() -> String {
    let mut s = format!(
        "{GENERAL_RULES}\n\n{}\n\n| table | column | unit | definition |\n|---|---|---|---|\n",
        plausible_rule()
    );
    for m in METRICS_DICTIONARY {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            m.table, m.column, m.unit, m.definition
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cgm::CGM_COLUMNS;

    #[test]
    fn every_cgm_column_is_documented_in_order() {
        let cols: Vec<&str> = METRICS_DICTIONARY
            .iter()
            .filter(|m| m.table == "metrics_cgm" && m.column != "implausible_left_out")
            .map(|m| m.column)
            .collect();
        assert_eq!(cols, CGM_COLUMNS.to_vec());
        assert!(dictionary_markdown().contains("| metrics_cgm | gri_zone |"));
        let rule = plausible_rule();
        assert!(rule.contains("glucose 20–600 mg/dL"), "{rule}");
        assert!(
            rule.contains("systolic 50–260 mmHg; diastolic 25–180 mmHg"),
            "{rule}"
        );
    }
}
