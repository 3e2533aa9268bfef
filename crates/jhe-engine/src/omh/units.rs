//! Unit normalisation for the clear views. Each function takes the value and the unit as
//! written in the payload and returns the value in the view's unit, or `None` when the unit is
//! not recognised (the original value and unit are always kept beside it). A value already in
//! the view's unit is returned as sent; a converted one is rounded ([`round_to`]), so that no
//! binary float noise (`388.26666666666665`) reaches the files: mg/dL and mmHg to 0.1;
//! beats or breaths/min to 0.001; kg to 0.0001 (0.1 g); °C to 0.01; minutes to 0.001 (60 ms);
//! metres to 0.001; kcal to 0.01. The data dictionary says the same per column.

/// mmol/L → mg/dL factor for glucose (molar mass 180.16 g/mol).
pub const GLUCOSE_MMOL_TO_MGDL: f64 = 18.016;
/// Pounds → kilograms (exact).
pub const LB_TO_KG: f64 = 0.453_592_37;
/// Ounces → kilograms (exact).
pub const OZ_TO_KG: f64 = 0.028_349_523_125;
/// kPa → mmHg.
pub const KPA_TO_MMHG: f64 = 7.500_616_827;

/// `v` rounded to `decimals` decimal places (half away from zero).
pub fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let r = (v * f).round() / f;
    if r.is_finite() {
        r
    } else {
        v
    }
}

/// Lowercase, without spaces, `°`, `[` and `]`: `"mg/dL"` → `"mg/dl"`, `"°F"` → `"f"`.
fn key(unit: &str) -> String {
    unit.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '°' | '[' | ']' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Blood glucose in mg/dL: `mg/dL` (also `mg/dl`, `MGDL`), `mmol/L` (× 18.016).
pub fn glucose_mg_dl(value: f64, unit: &str) -> Option<f64> {
    match unit {
        "mg/dL" => return Some(value),
        "mmol/L" => return Some(round_to(value * GLUCOSE_MMOL_TO_MGDL, 1)),
        _ => {}
    }
    match key(unit).as_str() {
        "mg/dl" | "mgdl" | "mg/100ml" | "mgperdl" | "milligramsperdeciliter" => Some(value),
        "mmol/l" | "mmoll" | "mmolperl" | "millimolesperliter" => {
            Some(round_to(value * GLUCOSE_MMOL_TO_MGDL, 1))
        }
        _ => None,
    }
}

/// Blood pressure in mmHg: `mmHg` (also `mm[Hg]`), `kPa`.
pub fn pressure_mmhg(value: f64, unit: &str) -> Option<f64> {
    if unit == "mmHg" {
        return Some(value);
    }
    match key(unit).as_str() {
        "mmhg" | "millimetersofmercury" => Some(value),
        "kpa" => Some(round_to(value * KPA_TO_MMHG, 1)),
        _ => None,
    }
}

/// Rates per minute (heart rate in beats/min, respiratory rate in breaths/min): `beats/min`,
/// `breaths/min`, `bpm`, `/min`, `1/min`, `{beats}/min`, and per second (× 60).
pub fn per_minute(value: f64, unit: &str) -> Option<f64> {
    match unit {
        "beats/min" | "breaths/min" => return Some(value),
        _ => {}
    }
    let k = key(unit);
    let k = k.replace(['{', '}'], "");
    match k.as_str() {
        "beats/min" | "breaths/min" | "bpm" | "/min" | "1/min" | "perminute" | "beatsperminute"
        | "breathsperminute" | "brpm" | "rpm" | "count/min" => Some(value),
        "beats/s" | "breaths/s" | "/s" | "1/s" | "hz" | "beats/sec" | "breaths/sec" => {
            Some(round_to(value * 60.0, 3))
        }
        _ => None,
    }
}

/// Step counts: unit `steps` (or `count`, or no unit at all).
pub fn steps(value: f64, unit: Option<&str>) -> Option<f64> {
    match unit.map(key).as_deref() {
        None | Some("steps") | Some("step") | Some("count") | Some("") => Some(value),
        _ => None,
    }
}

/// Mass in kg: `kg`, `g`, `mg`, `lb` (× 0.45359237), `oz`, `st`.
pub fn mass_kg(value: f64, unit: &str) -> Option<f64> {
    if unit == "kg" {
        return Some(value);
    }
    let kg = match key(unit).as_str() {
        "kg" | "kilogram" | "kilograms" => return Some(value),
        "g" | "gram" | "grams" => value / 1000.0,
        "mg" => value / 1e6,
        "ug" => value / 1e9,
        "lb" | "lbs" | "[lb_av]" | "lbav" | "pound" | "pounds" => value * LB_TO_KG,
        "oz" | "ounce" | "ounces" => value * OZ_TO_KG,
        "st" | "stone" => value * 14.0 * LB_TO_KG,
        _ => return None,
    };
    Some(round_to(kg, 4))
}

/// Percentages: `%` (also `percent`).
pub fn percent(value: f64, unit: &str) -> Option<f64> {
    if unit == "%" {
        return Some(value);
    }
    match key(unit).as_str() {
        "%" | "percent" | "pct" => Some(value),
        _ => None,
    }
}

/// Temperature in °C: `C`, `F` ((F − 32) × 5/9), `K` (− 273.15).
pub fn temperature_c(value: f64, unit: &str) -> Option<f64> {
    match key(unit).as_str() {
        "c" | "cel" | "celsius" | "degc" => Some(value),
        "f" | "fahrenheit" | "degf" | "[degf]" => Some(round_to((value - 32.0) * 5.0 / 9.0, 2)),
        "k" | "kelvin" => Some(round_to(value - 273.15, 2)),
        _ => None,
    }
}

/// Durations in minutes: `sec`, `s`, `min`, `h`, `d`, `ms`, `wk`.
pub fn duration_min(value: f64, unit: &str) -> Option<f64> {
    let min = match unit {
        "min" | "minutes" | "minute" => return Some(value),
        "h" | "hr" | "hour" | "hours" => value * 60.0,
        "sec" | "s" | "second" | "seconds" => value / 60.0,
        "ms" => value / 60_000.0,
        "d" | "day" | "days" => value * 1440.0,
        "wk" => value * 10_080.0,
        _ => return None,
    };
    Some(round_to(min, 3))
}

/// Lengths in metres: `m`, `km`, `cm`, `mm`, `mi`, `yd`, `ft`, `in`.
pub fn length_m(value: f64, unit: &str) -> Option<f64> {
    let f = match unit {
        "m" => 1.0,
        "km" => 1000.0,
        "cm" => 0.01,
        "mm" => 0.001,
        "um" => 1e-6,
        "nm" => 1e-9,
        "mi" => 1609.344,
        "yd" => 0.9144,
        "ft" => 0.3048,
        "in" => 0.0254,
        _ => match key(unit).as_str() {
            "m" | "meter" | "meters" | "metre" | "metres" => 1.0,
            "km" | "kilometer" | "kilometers" => 1000.0,
            "mi" | "mile" | "miles" => 1609.344,
            _ => return None,
        },
    };
    if f == 1.0 {
        Some(value)
    } else {
        Some(round_to(value * f, 3))
    }
}

/// Energy in kcal: `kcal` (also `Cal`), `kJ` (÷ 4.184).
pub fn energy_kcal(value: f64, unit: &str) -> Option<f64> {
    if unit == "kcal" {
        return Some(value);
    }
    match key(unit).as_str() {
        "kcal" | "cal" | "calories" | "kilocalories" => Some(value),
        "kj" => Some(round_to(value / 4.184, 2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("converted");
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    /// What a CSV writer prints for a value: the shortest text that reads back as it.
    fn printed(v: Option<f64>) -> String {
        format!("{}", v.expect("converted"))
    }

    #[test]
    fn converted_values_carry_no_float_noise() {
        // Unrounded, each of these prints 15-17 digits (e.g. 388.26666666666665).
        assert_eq!(printed(duration_min(23_296.0, "sec")), "388.267");
        assert_eq!(printed(duration_min(7.3, "h")), "438");
        assert_eq!(printed(mass_kg(165.2, "lb")), "74.9335");
        assert_eq!(printed(temperature_c(310.15, "K")), "37");
        assert_eq!(printed(temperature_c(100.4, "F")), "38");
        assert_eq!(printed(glucose_mg_dl(7.2, "mmol/L")), "129.7");
        assert_eq!(printed(per_minute(1.1, "Hz")), "66");
        // values in the view's unit stay exactly as sent
        assert_eq!(printed(glucose_mg_dl(146.0, "mg/dL")), "146");
        assert_eq!(printed(mass_kg(72.123_456, "kg")), "72.123456");
    }

    #[test]
    fn glucose() {
        close(glucose_mg_dl(120.0, "mg/dL"), 120.0);
        close(glucose_mg_dl(97.0, "MGDL"), 97.0);
        close(glucose_mg_dl(141.5, "mg/dl"), 141.5);
        close(glucose_mg_dl(5.5, "mmol/L"), 99.1);
        close(glucose_mg_dl(5.5, "mmol/l"), 99.1);
        assert_eq!(glucose_mg_dl(5.5, "furlongs"), None);
    }

    #[test]
    fn weight() {
        close(mass_kg(72.0, "kg"), 72.0);
        close(mass_kg(165.2, "lb"), 74.9335);
        close(mass_kg(72_000.0, "g"), 72.0);
        assert_eq!(mass_kg(1.0, "stone-age"), None);
    }

    #[test]
    fn temperature() {
        close(temperature_c(36.8, "C"), 36.8);
        close(temperature_c(98.6, "F"), 37.0);
        close(temperature_c(99.5, "°F"), 37.5);
        close(temperature_c(310.15, "K"), 37.0);
        assert_eq!(temperature_c(1.0, "X"), None);
    }

    #[test]
    fn rates_and_others() {
        close(per_minute(66.0, "beats/min"), 66.0);
        close(per_minute(14.0, "breaths/min"), 14.0);
        close(per_minute(66.0, "bpm"), 66.0);
        close(per_minute(1.0, "Hz"), 60.0);
        close(pressure_mmhg(120.0, "mmHg"), 120.0);
        close(pressure_mmhg(16.0, "kPa"), 120.0);
        close(percent(97.0, "%"), 97.0);
        close(steps(8421.0, Some("steps")), 8421.0);
        close(steps(8421.0, None), 8421.0);
        close(duration_min(7.25, "h"), 435.0);
        close(duration_min(90.0, "sec"), 1.5);
        close(length_m(2.1, "mi"), 3379.622);
        close(length_m(12.5, "km"), 12_500.0);
        close(energy_kcal(180.0, "kcal"), 180.0);
    }
}
