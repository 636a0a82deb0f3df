//! Complexity classes by model selection. A cost series y(n) is fitted as `a + b·f(n)` for
//! each f in {1, log n, n, n log n, n²} by least squares weighted by 1/y² (relative
//! errors), and scored by its
//! **leave-one-out** error: each point is predicted by the fit to the other points, and the
//! score is the root mean square of those prediction errors relative to the point's value
//! (at least 1; costs are counts whose noise grows with them). Leave-one-out needs no noise model, and
//! unlike BIC it stays finite for an exact fit (ZooKeeper's boot messages are exactly
//! 97 + 8n: O(n) with error 0, where a power law through them reads n^0.48 and so "log n").
//! The chosen class is the **simplest** whose score is within [`SIMPLER_MARGIN`] of the best
//! (a richer class must predict clearly better to win); the runner-up is the best-scoring
//! other class. A fit with `b < 0` describes a decreasing cost and is not a candidate (the
//! constant always is).

/// A richer class is chosen only if its score is below `1 / (1 + SIMPLER_MARGIN)` of every
/// simpler class's (10 %: within-noise differences between neighbouring classes).
pub const SIMPLER_MARGIN: f64 = 0.10;

/// A growth class, `f` of `a + b·f(n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// O(1).
    Constant,
    /// O(log n).
    Log,
    /// O(n).
    Linear,
    /// O(n log n).
    NLogN,
    /// O(n²).
    Quadratic,
}

/// Every class, simplest first.
pub const CLASSES: [Class; 5] = [
    Class::Constant,
    Class::Log,
    Class::Linear,
    Class::NLogN,
    Class::Quadratic,
];

impl Class {
    /// `f(n)`.
    pub fn f(self, n: f64) -> f64 {
        match self {
            Class::Constant => 1.0,
            Class::Log => n.ln(),
            Class::Linear => n,
            Class::NLogN => n * n.ln(),
            Class::Quadratic => n * n,
        }
    }

    /// `O(n log n)`.
    pub fn big_o(self) -> &'static str {
        match self {
            Class::Constant => "O(1)",
            Class::Log => "O(log n)",
            Class::Linear => "O(n)",
            Class::NLogN => "O(n log n)",
            Class::Quadratic => "O(n²)",
        }
    }

    /// The class a seed claim such as `"O(n²)"` names.
    pub fn from_big_o(s: &str) -> Option<Class> {
        CLASSES.into_iter().find(|c| c.big_o() == s)
    }
}

/// One class fitted to a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassFit {
    /// The class.
    pub class: Class,
    /// Intercept `a`.
    pub a: f64,
    /// Slope `b` (0 for the constant).
    pub b: f64,
    /// Root mean square leave-one-out prediction error relative to the predicted point's
    /// value (0.05: 5 %).
    pub loo_rmse: f64,
}

impl ClassFit {
    /// `97 + 8·n`, `12 + 0.50·n log n`.
    pub fn formula(&self) -> String {
        let f = match self.class {
            Class::Constant => return fmt_coef(self.a),
            Class::Log => "log n",
            Class::Linear => "n",
            Class::NLogN => "n log n",
            Class::Quadratic => "n²",
        };
        format!("{} + {}·{f}", fmt_coef(self.a), fmt_coef(self.b))
    }
}

fn fmt_coef(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || (a - a.round()).abs() < 5e-3 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The chosen class and the runner-up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Selection {
    /// The class with the smallest leave-one-out error.
    pub best: ClassFit,
    /// The next best candidate, if any.
    pub runner_up: Option<ClassFit>,
    /// Points of the series.
    pub points: usize,
}

/// The weight of a point: errors are relative to its value (at least 1).
fn weight(y: f64) -> f64 {
    1.0 / y.abs().max(1.0).powi(2)
}

/// Weighted least squares `y = a + b·x` over `pts` (weights [`weight`], so the fit minimises
/// the same relative error the score measures); `None` when the x do not vary.
fn line(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    let sw: f64 = pts.iter().map(|p| weight(p.1)).sum();
    let mx = pts.iter().map(|p| weight(p.1) * p.0).sum::<f64>() / sw;
    let my = pts.iter().map(|p| weight(p.1) * p.1).sum::<f64>() / sw;
    let sxx: f64 = pts.iter().map(|p| weight(p.1) * (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts
        .iter()
        .map(|p| weight(p.1) * (p.0 - mx) * (p.1 - my))
        .sum();
    if sxx <= 1e-12 * sw * mx.abs().max(1.0).powi(2) {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// Fit `class` to `series` (n, y); `None` when it cannot be fitted or has `b < 0`.
fn fit(class: Class, series: &[(f64, f64)]) -> Option<ClassFit> {
    let xs: Vec<(f64, f64)> = series.iter().map(|&(n, y)| (class.f(n), y)).collect();
    let predict = |pts: &[(f64, f64)], x: f64| -> Option<f64> {
        if class == Class::Constant {
            let sw: f64 = pts.iter().map(|p| weight(p.1)).sum();
            Some(pts.iter().map(|p| weight(p.1) * p.1).sum::<f64>() / sw)
        } else {
            line(pts).map(|(a, b)| a + b * x)
        }
    };
    let (a, b) = if class == Class::Constant {
        (predict(&xs, 0.0)?, 0.0)
    } else {
        line(&xs)?
    };
    if b < 0.0 {
        return None;
    }
    let mut sq = 0.0;
    for i in 0..xs.len() {
        let rest: Vec<(f64, f64)> = (0..xs.len()).filter(|&j| j != i).map(|j| xs[j]).collect();
        let y = xs[i].1;
        let e = (predict(&rest, xs[i].0)? - y) * weight(y).sqrt();
        sq += e * e;
    }
    Some(ClassFit {
        class,
        a,
        b,
        loo_rmse: (sq / xs.len() as f64).sqrt(),
    })
}

/// Choose the class of `series` (n, y) with the smallest leave-one-out error; `None` with
/// fewer than three distinct sizes (leaving one out must leave a line).
pub fn select(series: &[(f64, f64)]) -> Option<Selection> {
    let mut sizes: Vec<f64> = series.iter().map(|p| p.0).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    if sizes.len() < 3 || series.iter().any(|p| !(p.0 >= 1.0 && p.1.is_finite())) {
        return None;
    }
    let fits: Vec<ClassFit> = CLASSES.iter().filter_map(|&c| fit(c, series)).collect();
    let min = fits
        .iter()
        .map(|f| f.loo_rmse)
        .fold(f64::INFINITY, f64::min);
    // `fits` is simplest first: the first within the margin of the best.
    let best = *fits
        .iter()
        .find(|f| f.loo_rmse <= min * (1.0 + SIMPLER_MARGIN) + 1e-9)?;
    let runner_up = fits
        .iter()
        .filter(|f| f.class != best.class)
        .min_by(|x, y| x.loo_rmse.total_cmp(&y.loo_rmse))
        .copied();
    Some(Selection {
        best,
        runner_up,
        points: series.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: [f64; 7] = [3.0, 5.0, 7.0, 9.0, 17.0, 33.0, 65.0];
    const WIDE: [f64; 9] = [3.0, 5.0, 7.0, 9.0, 17.0, 33.0, 65.0, 129.0, 257.0];

    fn series(sizes: &[f64], y: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        sizes.iter().map(|&n| (n, y(n))).collect()
    }

    /// ±`share` deterministic wobble (a fixed pattern, no RNG).
    fn wobble(i: usize, share: f64) -> f64 {
        1.0 + share * [0.9, -0.7, 0.4, -1.0, 0.6, -0.3, 0.8, -0.5, 0.2][i % 9]
    }

    #[test]
    fn exact_series_get_their_class() {
        let cases: [(Class, &dyn Fn(f64) -> f64); 5] = [
            (Class::Constant, &|_| 7.0),
            (Class::Log, &|n: f64| 10.0 + 4.0 * n.ln()),
            (Class::Linear, &|n| 5.0 + 3.0 * n),
            (Class::NLogN, &|n: f64| 2.0 + 0.5 * n * n.ln()),
            (Class::Quadratic, &|n| 1.0 + 0.5 * n * n),
        ];
        for (class, y) in cases {
            let s = select(&series(&SIZES, y)).unwrap();
            assert_eq!(s.best.class, class, "{s:?}");
            assert!(s.best.loo_rmse < 1e-6, "{s:?}");
            // (A constant is fitted exactly by every class with b = 0.)
            if class != Class::Constant {
                assert!(s.runner_up.unwrap().loo_rmse > 1e-3, "{s:?}");
            }
            // The runner-up is the other class that predicts best, never the chosen one.
            assert_ne!(s.runner_up.unwrap().class, class);
        }
    }

    /// ZooKeeper's and etcd's election messages per run in `results/cluster-size`: O(n), never
    /// O(log n), though a power law through them has exponent ~0.5.
    #[test]
    fn affine_series_are_linear_not_log() {
        for (a, b) in [(97.0, 8.0), (50.0, 8.0), (400.0, 1.0)] {
            let s = select(&series(&SIZES, |n| a + b * n)).unwrap();
            assert_eq!(s.best.class, Class::Linear, "{a} + {b}n: {s:?}");
            assert!((s.best.a - a).abs() < 1e-9 && (s.best.b - b).abs() < 1e-9);
            assert_ne!(s.runner_up.unwrap().class, Class::Linear);
        }
        let s = select(&series(&SIZES, |n| 97.0 + 8.0 * n)).unwrap();
        assert_eq!(s.best.formula(), "97 + 8·n");
    }

    #[test]
    fn noisy_series_over_wide_sizes_get_their_class() {
        let cases: [(Class, &dyn Fn(f64) -> f64); 4] = [
            (Class::Constant, &|_| 40.0),
            (Class::Linear, &|n| 20.0 + 2.0 * n),
            (Class::NLogN, &|n: f64| n * n.ln() + n),
            (Class::Quadratic, &|n| 0.5 * n * n + n),
        ];
        for (class, y) in cases {
            let pts: Vec<(f64, f64)> = WIDE
                .iter()
                .enumerate()
                .map(|(i, &n)| (n, y(n) * wobble(i, 0.03)))
                .collect();
            let s = select(&pts).unwrap();
            assert_eq!(s.best.class, class, "{s:?}");
        }
    }

    /// ±10 % noise on a constant or a linear cost must not make it a richer class.
    #[test]
    fn noise_does_not_buy_a_richer_class() {
        let flat: Vec<(f64, f64)> = SIZES
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, 5.0 * wobble(i, 0.1)))
            .collect();
        assert_eq!(select(&flat).unwrap().best.class, Class::Constant);
        let line: Vec<(f64, f64)> = SIZES
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, 2.6 * (n - 1.0) * wobble(i + 3, 0.1)))
            .collect();
        assert_eq!(select(&line).unwrap().best.class, Class::Linear);
    }

    #[test]
    fn decreasing_and_degenerate_series() {
        // A decreasing cost is no growth: the constant (every b < 0 fit is dropped).
        let s = select(&series(&SIZES, |n| 100.0 - n)).unwrap();
        assert_eq!(s.best.class, Class::Constant, "{s:?}");
        assert!(select(&series(&[5.0, 9.0], |n| n)).is_none(), "two sizes");
        assert!(select(&[(5.0, 1.0), (5.0, 2.0), (9.0, 3.0)]).is_none());
        assert!(select(&[(3.0, 1.0), (5.0, f64::NAN), (9.0, 3.0)]).is_none());
    }

    #[test]
    fn claims_parse() {
        assert_eq!(Class::from_big_o("O(n²)"), Some(Class::Quadratic));
        assert_eq!(Class::from_big_o("O(log n)"), Some(Class::Log));
        assert_eq!(Class::from_big_o("O(2^n)"), None);
    }
}
