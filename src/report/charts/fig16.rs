//! The Raft paper's Figure 16 (Ongaro & Ousterhout 2014, §9.3): CDFs of the time without a
//! leader after the leader crashes, one curve per election-timeout range, in two panels —
//! top: 150 ms plus increasing randomness; bottom: ranges scaled down, each [T, 2T].
//!
//! Drawn for a scenario whose name contains `figure16` and whose sweep points carry an
//! election-timeout range in a `param_*` column: either `param_raft_election_timeout`
//! (`["150ms", "155ms"]`) or a whole-table axis `param_raft`
//! (`{ election_timeout = ["150ms", "155ms"], heartbeat = "75ms", ... }`).
//! One sample per run: its `failover_ms_mean` (one crash per run). Runs still leaderless at
//! the end with no failover sample are censored: they count in the denominator, so their
//! curve stays below 100%, and the legend says how many.

use super::cdf::{CdfFigure, CdfPanel, Curve, Mark};
use super::{Axis, ChartError, Figures, PALETTE, SweepData};
use plotters::prelude::*;

/// The election-timeout range (min, max) in milliseconds in a parameter value, if any.
pub fn timeout_range(v: &str) -> Option<(f64, f64)> {
    let rest = match v.find("election_timeout") {
        Some(i) => &v[i + "election_timeout".len()..],
        None if v.trim_start().starts_with('[') => v,
        None => return None,
    };
    let open = rest.find('[')?;
    let close = open + rest[open..].find(']')?;
    let parts: Vec<&str> = rest[open + 1..close].split(',').collect();
    if parts.len() != 2 {
        return None;
    }
    let ms = |s: &str| -> Option<f64> {
        let d = humantime::parse_duration(s.trim().trim_matches('"').trim_matches('\'')).ok()?;
        Some(d.as_secs_f64() * 1e3)
    };
    Some((ms(parts[0])?, ms(parts[1])?))
}

/// One timeout range's samples.
pub struct RangeSamples {
    /// Lower end of the election timeout range, in ms.
    pub lo: f64,
    /// Upper end of the election timeout range, in ms.
    pub hi: f64,
    /// Finite samples (ms), sorted.
    pub samples: Vec<f64>,
    /// Runs that never got a leader back before the end.
    pub censored: usize,
}

/// Collect the Figure 16 samples of a sweep (empty when it is not a Figure 16 sweep).
pub fn samples(data: &SweepData) -> Result<Vec<RangeSamples>, ChartError> {
    if !data.scenario.contains("figure16") {
        return Ok(Vec::new());
    }
    let mut out: Vec<RangeSamples> = Vec::new();
    for p in &data.points {
        let Some((lo, hi)) = p.params.iter().find_map(|(_, v)| timeout_range(v)) else {
            continue;
        };
        let mut samples = Vec::new();
        let mut censored = 0;
        let c_fail = data.runs.col("failover_ms_mean");
        let c_end = data.runs.col("leaderless_at_end");
        for &i in &p.run_rows {
            let row = &data.runs.rows[i];
            let fail = match c_fail {
                Some(c) => data.runs.num(row, c)?,
                None => None,
            };
            let end = match c_end {
                Some(c) => data.runs.num(row, c)?,
                None => None,
            };
            match (fail, end) {
                (Some(v), _) => samples.push(v),
                (None, Some(e)) if e > 0.0 => censored += 1,
                _ => {}
            }
        }
        samples.sort_by(f64::total_cmp);
        match out.iter_mut().find(|r| r.lo == lo && r.hi == hi) {
            Some(r) => {
                r.samples.extend(samples);
                r.samples.sort_by(f64::total_cmp);
                r.censored += censored;
            }
            None => out.push(RangeSamples {
                lo,
                hi,
                samples,
                censored,
            }),
        }
    }
    Ok(out)
}

/// A number the paper quotes for one range.
#[derive(Clone, Copy)]
pub enum Quote {
    /// The `q` quantile (0.5: median, 1.0: worst of the trials), in ms.
    Quantile { q: f64, ms: f64 },
    /// The mean, in ms.
    Mean(f64),
    /// Still no leader after this long, in ms.
    Beyond(f64),
}

/// The values Ongaro & Ousterhout (2014) §9.3 quote in the text about Figure 16, per
/// election-timeout range (lo, hi) in ms.
pub const PAPER_QUOTES: &[((f64, f64), Quote)] = &[
    ((150.0, 150.0), Quote::Beyond(10_000.0)),
    ((150.0, 155.0), Quote::Quantile { q: 0.5, ms: 287.0 }),
    ((150.0, 200.0), Quote::Quantile { q: 1.0, ms: 513.0 }),
    ((12.0, 24.0), Quote::Mean(35.0)),
    ((12.0, 24.0), Quote::Quantile { q: 1.0, ms: 152.0 }),
];

/// The paper's quoted values for the ranges on a panel, in their curves' colours.
fn marks(rs: &[&RangeSamples], curves: &[Curve]) -> Vec<Mark> {
    let mut out = Vec::new();
    for (r, c) in rs.iter().zip(curves) {
        for &((lo, hi), q) in PAPER_QUOTES {
            if (r.lo, r.hi) != (lo, hi) {
                continue;
            }
            let (x, y, what) = match q {
                Quote::Quantile { q, ms } if q >= 1.0 => (ms, Some(q), format!("worst {ms}")),
                Quote::Quantile { q, ms } if q == 0.5 => (ms, Some(q), format!("median {ms}")),
                Quote::Quantile { q, ms } => (ms, Some(q), format!("p{} {ms}", q * 100.0)),
                Quote::Mean(ms) => (ms, None, format!("mean {ms}")),
                Quote::Beyond(ms) => (ms, Some(0.0), format!("over {} s", ms / 1e3)),
            };
            out.push(Mark {
                x,
                y,
                label: format!("paper {}: {what}", label(r)),
                color: c.color,
            });
        }
    }
    out
}

fn label(r: &RangeSamples) -> String {
    format!("{}-{}ms", super::fmt_num(r.lo), super::fmt_num(r.hi))
}

pub(super) fn figures(data: &SweepData, out: &mut Figures) -> Result<(), ChartError> {
    let ranges = samples(data)?;
    if ranges.is_empty() {
        return Ok(());
    }
    let mut top: Vec<&RangeSamples> = ranges.iter().filter(|r| r.lo == 150.0).collect();
    top.sort_by(|a, b| a.hi.total_cmp(&b.hi));
    let mut bottom: Vec<&RangeSamples> = ranges
        .iter()
        .filter(|r| (r.hi - 2.0 * r.lo).abs() < 1e-9)
        .collect();
    bottom.sort_by(|a, b| a.lo.total_cmp(&b.lo));
    let curves = |rs: &[&RangeSamples]| -> Vec<Curve> {
        rs.iter()
            .enumerate()
            .map(|(i, r)| {
                let color = if r.lo == r.hi {
                    RGBColor(0, 0, 0)
                } else {
                    PALETTE[i % 6]
                };
                let mut c = Curve::new(label(r), color, r.samples.clone(), r.censored);
                c.dashed = r.lo == r.hi;
                c
            })
            .collect()
    };
    let (top_c, bottom_c) = (curves(&top), curves(&bottom));
    let (top_m, bottom_m) = (marks(&top, &top_c), marks(&bottom, &bottom_c));
    // One x axis for both panels, like the paper: decades around all samples.
    let all: Vec<f64> = ranges
        .iter()
        .flat_map(|r| r.samples.iter().copied())
        .filter(|v| *v > 0.0)
        .collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let x = if all.is_empty() {
        Axis::log(10.0, 10_000.0)
    } else {
        Axis::log(
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()).max(lo * 10.0),
        )
    };
    let mut panels = Vec::new();
    let runs: usize = ranges
        .iter()
        .map(|r| r.samples.len() + r.censored)
        .max()
        .unwrap_or(0);
    for (title, cs, ms) in [
        ("150 ms plus randomness", top_c, top_m),
        ("scaled ranges [T, 2T]", bottom_c, bottom_m),
    ] {
        if cs.is_empty() {
            continue;
        }
        panels.push(CdfPanel {
            title: format!("Raft Figure 16: {title}"),
            subtitle: format!("5 servers, 2 of 4 survivors not electable; leader crashed once per run (up to {runs} runs per range)"),
            x: x.clone(),
            x_desc: "time without leader (ms)".into(),
            y_desc: "runs",
            curves: cs,
            marks: ms,
            aggregate: None,
        });
    }
    out.push((
        "figure16".into(),
        Box::new(CdfFigure {
            panels,
            drawn: Vec::new(),
            omitted: None,
            width: 1000,
            panel_height: 520,
        }),
    ));
    Ok(())
}
