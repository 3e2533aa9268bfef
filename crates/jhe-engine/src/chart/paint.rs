//! The charts' colours, one home: every [`Paint`] (a CSS custom property with its light and
//! dark values), declared again in `ui/src/styles.css` (a UI test keeps the two equal; the
//! contrast tests are in `draw.rs`'s tests).

use plotters::prelude::*;

/// A chart colour the webview themes: its CSS custom property (declared in `ui/src/styles.css`,
/// in `:root` for the light theme and in its `prefers-color-scheme: dark` block), and its values
/// there. The light value is what plotters draws and the fallback outside the app; each light
/// value is used by one paint only, so the SVG touch-up can tell them apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paint {
    /// The CSS custom property, e.g. `--chart-line`.
    pub var: &'static str,
    /// `0xRRGGBB` in the light theme (and outside the app).
    pub light: u32,
    /// `0xRRGGBB` in the dark theme.
    pub dark: u32,
    /// The opacity it is drawn with (1 but for the band's fill).
    pub alpha: f64,
    /// Its least contrast ratio against the background: 3 (WCAG 1.4.11) for lines and marks.
    pub min_contrast: f64,
}

impl Paint {
    pub(super) const fn rgb(&self) -> RGBColor {
        RGBColor(
            (self.light >> 16) as u8,
            (self.light >> 8) as u8,
            self.light as u8,
        )
    }
    pub(super) fn color(&self) -> RGBAColor {
        self.rgb().mix(self.alpha)
    }
    pub(super) fn light_hex(&self) -> String {
        format!("#{:06X}", self.light)
    }
}

/// Lines, dots and bars of a single series (and the first of two).
pub(super) const LINE: Paint = Paint {
    var: "--chart-line",
    light: 0x2563EB,
    dark: 0x60A5FA,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// Systolic blood pressure.
pub(super) const SYSTOLIC: Paint = Paint {
    var: "--chart-systolic",
    light: 0xC0262D,
    dark: 0xF87171,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// Diastolic blood pressure: drawn dashed (the SVG gets a dash array for this colour), so it is
/// told from systolic by more than colour.
pub(super) const DIASTOLIC: Paint = Paint {
    var: "--chart-diastolic",
    light: 0x2563EC,
    dark: 0x60A5FA,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// The target band's edges (dashed lines): what shows where the band is.
pub(super) const BAND_EDGE: Paint = Paint {
    var: "--chart-band",
    light: 0x166534,
    dark: 0x4ADE80,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// The target band's translucent fill: a tint (its edges carry the 3:1), visibly different from
/// the card in both themes, and light enough for every line drawn over it to keep 3:1.
pub(super) const BAND_FILL: Paint = Paint {
    var: "--chart-band-fill",
    light: 0x15803D,
    dark: 0x4ADE80,
    alpha: 0.16,
    min_contrast: 1.2,
};
/// Marks of implausible readings.
pub(super) const FLAGGED: Paint = Paint {
    var: "--chart-flag",
    light: 0xC2410C,
    dark: 0xFB923C,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// The AGP's median line: near the text colour, so it stands out over both bands.
pub(super) const AGP_MEDIAN: Paint = Paint {
    var: "--chart-agp-median",
    light: 0x1E293B,
    dark: 0xF1F5F9,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// The AGP's 5th and 95th percentile lines (dashed by `finish_svg`): the light band's edges.
pub(super) const AGP_EDGE: Paint = Paint {
    var: "--chart-agp-edge",
    light: 0x1D4ED8,
    dark: 0x93C5FD,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// The AGP's light band, 5th to 95th percentile: a tint (its dashed edges carry the 3:1).
pub(super) const AGP_OUTER: Paint = Paint {
    var: "--chart-agp-outer",
    light: 0x3B82F6,
    dark: 0x60A5FB,
    alpha: 0.16,
    min_contrast: 1.2,
};
/// The AGP's dark band, 25th to 75th percentile, drawn over the light one.
pub(super) const AGP_INNER: Paint = Paint {
    var: "--chart-agp-inner",
    light: 0x2563EA,
    dark: 0x3B82F7,
    alpha: 0.34,
    min_contrast: 1.2,
};
/// Time in ranges (the stacked bars of `tir.rs`), the consensus report's colours: very low dark
/// red, low red, in range green, high amber, very high orange; each keeps 3:1 on the card.
pub(super) const TIR_VERY_LOW: Paint = Paint {
    var: "--chart-tir-very-low",
    light: 0x8B1A1A,
    dark: 0xE5484D,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const TIR_LOW: Paint = Paint {
    var: "--chart-tir-low",
    light: 0xDC2626,
    dark: 0xFF8A80,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const TIR_IN_RANGE: Paint = Paint {
    var: "--chart-tir-in-range",
    light: 0x1B7F3B,
    dark: 0x4ADE80,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const TIR_HIGH: Paint = Paint {
    var: "--chart-tir-high",
    light: 0xBF8700,
    dark: 0xFACC15,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const TIR_VERY_HIGH: Paint = Paint {
    var: "--chart-tir-very-high",
    light: 0xC2540A,
    dark: 0xFB923C,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// The percent written inside a time-in-range segment (never on the card itself, so no contrast
/// with it is asked; the tests check 4.5:1 with the segments it is written on).
pub(super) const TIR_TEXT: Paint = Paint {
    var: "--chart-tir-text",
    light: 0xFFFFFF,
    dark: 0x111827,
    alpha: 1.0,
    min_contrast: 1.0,
};
/// The percent written inside the "high" segment (amber is too light for white text).
pub(super) const TIR_TEXT_HIGH: Paint = Paint {
    var: "--chart-tir-text-high",
    light: 0x111827,
    dark: 0x111828,
    alpha: 1.0,
    min_contrast: 1.0,
};
/// Zones A to E of the Glycemia Risk Index grid: tints (the zone letters and the boundary lines
/// carry the shape), green to red as in Klonoff et al. 2023.
pub(super) const GRI_A: Paint = Paint {
    var: "--chart-gri-a",
    light: 0x22C55E,
    dark: 0x22C55F,
    alpha: 0.3,
    min_contrast: 1.1,
};
pub(super) const GRI_B: Paint = Paint {
    var: "--chart-gri-b",
    light: 0xA3E635,
    dark: 0xA3E636,
    alpha: 0.3,
    min_contrast: 1.1,
};
pub(super) const GRI_C: Paint = Paint {
    var: "--chart-gri-c",
    light: 0xEAB308,
    dark: 0xEAB309,
    alpha: 0.3,
    min_contrast: 1.1,
};
pub(super) const GRI_D: Paint = Paint {
    var: "--chart-gri-d",
    light: 0xF97316,
    dark: 0xF97317,
    alpha: 0.3,
    min_contrast: 1.1,
};
pub(super) const GRI_E: Paint = Paint {
    var: "--chart-gri-e",
    light: 0xEF4444,
    dark: 0xEF4445,
    alpha: 0.3,
    min_contrast: 1.1,
};
/// The GRI grid's dots and their labels: near the text colour, so they keep 3:1 on every zone.
pub(super) const GRI_DOT: Paint = Paint {
    var: "--chart-gri-dot",
    light: 0x0F172A,
    dark: 0xF8FAFC,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// AHA/ACC 2017 blood-pressure categories (dots of `bp_hour.rs`): green, yellow, orange, red,
/// dark red, as the AHA chart.
pub(super) const BP_NORMAL: Paint = Paint {
    var: "--chart-bp-normal",
    light: 0x2E9A4E,
    dark: 0x4ADE81,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const BP_ELEVATED: Paint = Paint {
    var: "--chart-bp-elevated",
    light: 0xA88A00,
    dark: 0xFACC16,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const BP_STAGE_1: Paint = Paint {
    var: "--chart-bp-stage-one",
    light: 0xD9731F,
    dark: 0xFB923D,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const BP_STAGE_2: Paint = Paint {
    var: "--chart-bp-stage-two",
    light: 0xE0483B,
    dark: 0xF87172,
    alpha: 1.0,
    min_contrast: 3.0,
};
pub(super) const BP_CRISIS: Paint = Paint {
    var: "--chart-bp-crisis",
    light: 0x7F1D1D,
    dark: 0xF43F5E,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// Data completeness (`heatmap.rs`): a full day; partial days are drawn lighter (opacity).
pub(super) const HEAT: Paint = Paint {
    var: "--chart-heat",
    light: 0x0F766E,
    dark: 0x2DD4BF,
    alpha: 1.0,
    min_contrast: 3.0,
};
/// Every paint, in the order `ui/src/styles.css` declares them.
pub const PAINTS: [Paint; 29] = [
    LINE,
    SYSTOLIC,
    DIASTOLIC,
    BAND_EDGE,
    BAND_FILL,
    FLAGGED,
    AGP_MEDIAN,
    AGP_EDGE,
    AGP_OUTER,
    AGP_INNER,
    TIR_VERY_LOW,
    TIR_LOW,
    TIR_IN_RANGE,
    TIR_HIGH,
    TIR_VERY_HIGH,
    TIR_TEXT,
    TIR_TEXT_HIGH,
    GRI_A,
    GRI_B,
    GRI_C,
    GRI_D,
    GRI_E,
    GRI_DOT,
    BP_NORMAL,
    BP_ELEVATED,
    BP_STAGE_1,
    BP_STAGE_2,
    BP_CRISIS,
    HEAT,
];
