//! Small numeric helpers shared by the metrics: R-compatible mean, sample SD, median,
//! quantile (type 7), round-half-even and least-squares slope.

/// Mean as R computes it (sum / n, then one correction pass); `None` when empty.
pub(crate) fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let corr = xs.iter().map(|x| x - m).sum::<f64>() / n;
    Some(m + corr)
}

/// Sample standard deviation (n − 1), two-pass; `None` for fewer than 2 values.
pub(crate) fn sd(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Some((ss / (xs.len() as f64 - 1.0)).sqrt())
}

/// Median (mean of the two middle values for an even count); sorts `xs`.
pub(crate) fn median(xs: &mut [f64]) -> Option<f64> {
    quantile7(xs, 0.5)
}

/// Quantile, R's default type 7 (linear between order statistics); sorts `xs`.
pub(crate) fn quantile7(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let h = (xs.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(xs.len() - 1);
    Some(xs[lo] + (h - lo as f64) * (xs[hi] - xs[lo]))
}

/// Least-squares slope of y on x; `None` for fewer than 2 points or constant x.
pub(crate) fn ls_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_match_r() {
        assert_eq!(mean(&[1.0, 2.0, 4.0]), Some(7.0 / 3.0));
        // R: sd(c(2,4,4,4,5,5,7,9)) = 2.13808993529939
        let s = sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap_or_default();
        assert!((s - 2.138_089_935_299_39).abs() < 1e-12);
        assert_eq!(sd(&[1.0]), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), Some(2.5));
        // R: quantile(c(1,2,3,4,10), 0.05) = 1.2
        let q = quantile7(&mut [10.0, 1.0, 2.0, 3.0, 4.0], 0.05).unwrap_or_default();
        assert!((q - 1.2).abs() < 1e-12);
        assert_eq!(ls_slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), Some(2.0));
        assert_eq!(ls_slope(&[(1.0, 1.0), (1.0, 3.0)]), None);
    }
}
