//! The sleep types that JHE's own demo seeds (`omh:sleep-episode:1.1`, `ieee:sleep-stage-summary:1.0`):
//! their specs, read from the JSON tree (few readings a night, so the fast scan is not needed).

use super::*;

// ----- sleep: the types JHE's own demo seeds (read from the JSON tree: few readings a night)

const fn qty(path: &'static [&'static str], norm: fn(f64, &str) -> Option<f64>) -> FieldSpec {
    FieldSpec {
        path,
        kind: FieldKind::Quantity(norm),
    }
}
const fn number(path: &'static [&'static str]) -> FieldSpec {
    FieldSpec {
        path,
        kind: FieldKind::Number,
    }
}
const fn if_sent(name: &'static str, unit: &'static str, field: u8) -> Measure {
    Measure {
        name,
        unit,
        src: M::QuantityIfSent(field),
    }
}
const fn count(name: &'static str, field: u8) -> Measure {
    Measure {
        name,
        unit: "",
        src: M::Number(field),
    }
}

const TOTAL_SLEEP_TIME: ValueColumn = vcol(
    "total_sleep_time_min",
    F64,
    "min",
    "Total time asleep in minutes (total_sleep_time; h and sec converted, to 0.001 min). Not the same as \
     duration_min, the length of the sleep episode.",
    S::Value(0),
);
const ORIGINAL_TOTAL_SLEEP_TIME_VALUE: ValueColumn = vcol(
    "original_total_sleep_time_value",
    F64,
    "(original_total_sleep_time_unit)",
    "Total sleep time as sent.",
    S::OriginalValue(0),
);
const ORIGINAL_TOTAL_SLEEP_TIME_UNIT: ValueColumn = vcol(
    "original_total_sleep_time_unit",
    CAT,
    "",
    "Total sleep time unit as sent.",
    S::OriginalUnit(0),
);

pub const SLEEP_EPISODE: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "sleep-episode",
    name: "sleep_episode",
    title: "Sleep episode",
    interval: true,
    columns: &[
        TOTAL_SLEEP_TIME,
        ORIGINAL_TOTAL_SLEEP_TIME_VALUE,
        ORIGINAL_TOTAL_SLEEP_TIME_UNIT,
        vcol(
            "latency_to_sleep_onset_min",
            F64,
            "min",
            "Minutes from wanting to sleep to falling asleep (latency_to_sleep_onset).",
            S::Value(1),
        ),
        vcol(
            "latency_to_arising_min",
            F64,
            "min",
            "Minutes from the final awakening to getting up (latency_to_arising).",
            S::Value(2),
        ),
        vcol(
            "wake_after_sleep_onset_min",
            F64,
            "min",
            "Minutes awake between falling asleep and the final awakening \
             (wake_after_sleep_onset).",
            S::Value(3),
        ),
        vcol(
            "sleep_efficiency_pct",
            F64,
            "%",
            "Time asleep as a percentage of the episode (sleep_maintenance_efficiency_percentage).",
            S::Value(4),
        ),
        vcol(
            "number_of_awakenings",
            I64,
            "",
            "Number of awakenings during the episode.",
            S::Count(5),
        ),
        vcol(
            "is_main_sleep",
            BOOL,
            "",
            "Whether this is the main sleep of the day (not a nap).",
            S::Flag(6),
        ),
    ],
    measures: &[
        if_sent("total_sleep_time", "min", 0),
        if_sent("latency_to_sleep_onset", "min", 1),
        if_sent("latency_to_arising", "min", 2),
        if_sent("wake_after_sleep_onset", "min", 3),
        if_sent("sleep_efficiency", "%", 4),
        count("number_of_awakenings", 5),
        Measure {
            name: "is_main_sleep",
            unit: "",
            src: M::Flag(6),
        },
    ],
    chart: NIGHTLY,
    reader: Reader::Fields(&[
        qty(&["total_sleep_time"], duration_min),
        qty(&["latency_to_sleep_onset"], duration_min),
        qty(&["latency_to_arising"], duration_min),
        qty(&["wake_after_sleep_onset"], duration_min),
        qty(&["sleep_maintenance_efficiency_percentage"], percent),
        number(&["number_of_awakenings"]),
        FieldSpec {
            path: &["is_main_sleep"],
            kind: FieldKind::Flag,
        },
    ]),
};

const SSS: &str = "sleep_stage_summary";

pub const SLEEP_STAGE_SUMMARY: TypeSpec = TypeSpec {
    namespace: "ieee",
    schema: "sleep-stage-summary",
    name: "sleep_stage_summary",
    title: "Sleep stage summary",
    interval: true,
    columns: &[
        TOTAL_SLEEP_TIME,
        ORIGINAL_TOTAL_SLEEP_TIME_VALUE,
        ORIGINAL_TOTAL_SLEEP_TIME_UNIT,
        vcol(
            "sleep_efficiency_pct",
            F64,
            "%",
            "Time asleep as a percentage of the episode (sleep_efficiency_percentage).",
            S::Value(1),
        ),
        vcol(
            "latency_to_sleep_onset_min",
            F64,
            "min",
            "Minutes from wanting to sleep to falling asleep (latency_to_sleep_onset).",
            S::Value(2),
        ),
        vcol(
            "latency_to_arising_min",
            F64,
            "min",
            "Minutes from the final awakening to getting up (latency_to_arising).",
            S::Value(3),
        ),
        vcol(
            "rem_sleep_min",
            F64,
            "min",
            "Minutes in REM sleep.",
            S::Value(4),
        ),
        vcol(
            "rem_sleep_pct",
            F64,
            "%",
            "REM sleep as a percentage of sleep.",
            S::Value(5),
        ),
        vcol(
            "rem_sleep_episodes",
            I64,
            "",
            "Number of REM sleep episodes.",
            S::Count(6),
        ),
        vcol(
            "light_sleep_min",
            F64,
            "min",
            "Minutes in light sleep.",
            S::Value(7),
        ),
        vcol(
            "light_sleep_pct",
            F64,
            "%",
            "Light sleep as a percentage of sleep.",
            S::Value(8),
        ),
        vcol(
            "light_sleep_episodes",
            I64,
            "",
            "Number of light sleep episodes.",
            S::Count(9),
        ),
        vcol(
            "deep_sleep_min",
            F64,
            "min",
            "Minutes in deep sleep.",
            S::Value(10),
        ),
        vcol(
            "deep_sleep_pct",
            F64,
            "%",
            "Deep sleep as a percentage of sleep.",
            S::Value(11),
        ),
        vcol(
            "deep_sleep_episodes",
            I64,
            "",
            "Number of deep sleep episodes.",
            S::Count(12),
        ),
        vcol(
            "awake_min",
            F64,
            "min",
            "Minutes awake after first falling asleep.",
            S::Value(13),
        ),
        vcol(
            "awake_pct",
            F64,
            "%",
            "Time awake as a percentage of the episode.",
            S::Value(14),
        ),
        vcol(
            "number_of_awakenings",
            I64,
            "",
            "Number of awakenings.",
            S::Count(15),
        ),
    ],
    measures: &[
        if_sent("total_sleep_time", "min", 0),
        if_sent("sleep_efficiency", "%", 1),
        if_sent("latency_to_sleep_onset", "min", 2),
        if_sent("latency_to_arising", "min", 3),
        if_sent("rem_sleep", "min", 4),
        if_sent("rem_sleep_percentage", "%", 5),
        count("rem_sleep_episodes", 6),
        if_sent("light_sleep", "min", 7),
        if_sent("light_sleep_percentage", "%", 8),
        count("light_sleep_episodes", 9),
        if_sent("deep_sleep", "min", 10),
        if_sent("deep_sleep_percentage", "%", 11),
        count("deep_sleep_episodes", 12),
        if_sent("awake", "min", 13),
        if_sent("awake_percentage", "%", 14),
        count("number_of_awakenings", 15),
    ],
    chart: NIGHTLY,
    reader: Reader::Fields(&[
        qty(&[SSS, "total_sleep_time"], duration_min),
        qty(&[SSS, "sleep_efficiency_percentage"], percent),
        qty(&[SSS, "latency_to_sleep_onset"], duration_min),
        qty(&[SSS, "latency_to_arising"], duration_min),
        qty(&[SSS, "rem_sleep_duration"], duration_min),
        qty(&[SSS, "rem_sleep_percentage"], percent),
        number(&[SSS, "rem_sleep_episode_count"]),
        qty(&[SSS, "light_sleep_duration"], duration_min),
        qty(&[SSS, "light_sleep_percentage"], percent),
        number(&[SSS, "light_sleep_episode_count"]),
        qty(&[SSS, "deep_sleep_duration"], duration_min),
        qty(&[SSS, "deep_sleep_percentage"], percent),
        number(&[SSS, "deep_sleep_episode_count"]),
        qty(&[SSS, "awake_duration"], duration_min),
        qty(&[SSS, "awake_percentage"], percent),
        number(&[SSS, "number_of_awakenings"]),
    ]),
};
