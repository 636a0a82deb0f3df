//! Bar charts: split brain per algorithm (grouped by cluster size) and messages per
//! election by message kind (stacked, one panel per algorithm).

use super::{Axis, ChartError, Figure, Figures, PALETTE, SweepData, de, fmt_num, titled, xy_chart};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One bar (or one stack segment).
struct Bar {
    category: usize,
    /// Offset within the category, 0..slots.
    slot: usize,
    base: f64,
    value: f64,
    whisker: Option<(f64, f64)>,
    color: RGBColor,
}

struct BarPanel {
    title: String,
    subtitle: String,
    x: Axis,
    y: Axis,
    x_desc: String,
    y_desc: String,
    slots: usize,
    bars: Vec<Bar>,
    legend: Vec<(String, RGBColor)>,
    note: Option<String>,
    /// Print each bar's value above it.
    value_labels: bool,
    percent: bool,
}

impl BarPanel {
    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        area: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let body = titled(area, &self.title, &self.subtitle)?;
        // A stacked panel's legend (one entry per message kind, often a dozen) gets a column
        // of its own beside the plot, so it never hides a bar.
        let (w, _) = body.dim_in_pixel();
        let (body, side) = if self.legend.is_empty() {
            body.split_horizontally(w)
        } else {
            body.split_horizontally(w.saturating_sub(SIDE_LEGEND))
        };
        let text = TextStyle::from((super::font::FAMILY, 13).into_font()).color(&BLACK);
        for (i, (label, color)) in self.legend.iter().enumerate() {
            let y = 14 + 19 * i as i32;
            side.draw(&Rectangle::new([(4, y), (16, y + 12)], color.filled()))
                .map_err(de)?;
            side.draw_text(label, &text, (22, y)).map_err(de)?;
        }
        let mut chart = xy_chart(&body, &self.x, &self.y, &self.x_desc, &self.y_desc)?;
        let width = 0.8 / self.slots.max(1) as f64;
        for b in &self.bars {
            let x0 = b.category as f64 + 0.1 + b.slot as f64 * width;
            let x1 = x0 + width * 0.92;
            let (y0, y1) = (self.y.t(b.base), self.y.t(b.base + b.value));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x1, y1)],
                    b.color.filled(),
                )))
                .map_err(de)?;
            if self.value_labels {
                let text = if self.percent {
                    format!("{}%", fmt_num(b.value * 100.0))
                } else {
                    fmt_num(b.value)
                };
                let top = b
                    .whisker
                    .map_or(b.base + b.value, |(_, h)| h.max(b.base + b.value));
                let style = TextStyle::from((super::font::FAMILY, 13).into_font())
                    .color(&RGBColor(40, 40, 40))
                    .pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Bottom,
                    ));
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at(((x0 + x1) / 2.0, self.y.t(top)))
                            + Text::new(text, (0, -3), style),
                    ))
                    .map_err(de)?;
            }
            if let Some((lo, hi)) = b.whisker {
                let xm = (x0 + x1) / 2.0;
                let cap = (x1 - x0) * 0.25;
                let style = RGBColor(40, 40, 40).stroke_width(1);
                let (lo, hi) = (self.y.t(lo.max(0.0)), self.y.t(hi));
                chart
                    .draw_series([
                        PathElement::new(vec![(xm, lo), (xm, hi)], style),
                        PathElement::new(vec![(xm - cap, lo), (xm + cap, lo)], style),
                        PathElement::new(vec![(xm - cap, hi), (xm + cap, hi)], style),
                    ])
                    .map_err(de)?;
            }
        }
        if let Some(note) = &self.note {
            let (w, h) = body.dim_in_pixel();
            let style = TextStyle::from((super::font::FAMILY, 16).into_font())
                .color(&RGBColor(90, 90, 90))
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
            body.draw_text(note, &style, (w as i32 / 2 + 30, h as i32 / 2 - 20))
                .map_err(de)?;
        }
        Ok(())
    }
}

struct BarFigure {
    title: String,
    subtitle: String,
    cols: usize,
    panel: (u32, u32),
    panels: Vec<BarPanel>,
    /// A legend shared by all panels, drawn as one row under the subtitle.
    legend: Vec<(String, RGBColor)>,
    /// Point ids drawn, and what was left out.
    drawn: Vec<String>,
    omitted: Option<String>,
}

/// Most panels of one bar figure; facets beyond it are left out, and said so.
const MAX_FACETS: usize = 12;

/// Most left-out parameter combinations named in an omission note (the rest are counted).
const MAX_NAMED: usize = 24;

/// Most bars in one panel. A panel is at most 4000 px wide (about 3700 px of plot), so 200
/// bars keep ~18 px each: a visible bar, a gap and a category label every few bars. Past it a
/// single-algorithm chart draws one aggregate bar per cluster size (median, min–max over the
/// parameter combinations) instead of a bar per sweep point.
pub const MAX_BARS_PER_PANEL: usize = 200;

/// The facets a bar figure draws (at most [`MAX_FACETS`]) and a note naming those it leaves
/// out.
fn limit_facets(mut facets: Vec<String>) -> (Vec<String>, Option<String>) {
    if facets.len() <= MAX_FACETS {
        return (facets, None);
    }
    let left: Vec<String> = facets.split_off(MAX_FACETS);
    // Named up to a screenful: 10 000 names made a 380 KB line on stderr.
    let named = left.len().min(MAX_NAMED);
    let more = if left.len() > named {
        format!("; and {} more", left.len() - named)
    } else {
        String::new()
    };
    let note = format!(
        "{} of {} parameter combinations not drawn (more than {MAX_FACETS} panels): {}{more}",
        left.len(),
        left.len() + facets.len(),
        left[..named].join("; ")
    );
    (facets, Some(note))
}

/// Width of a panel's own legend column.
const SIDE_LEGEND: u32 = 200;

/// Height of the shared legend row.
const LEGEND_ROW: u32 = 30;

impl Figure for BarFigure {
    fn points(&self) -> Vec<String> {
        self.drawn.clone()
    }

    fn omitted(&self) -> Option<String> {
        self.omitted.clone()
    }

    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.cols.max(1)).max(1);
        (
            self.panel.0 * self.cols as u32,
            self.panel.1 * rows as u32
                + 62
                + if self.legend.is_empty() {
                    0
                } else {
                    LEGEND_ROW
                },
        )
    }

    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let mut body = titled(root, &self.title, &self.subtitle)?;
        if !self.legend.is_empty() {
            let (row, rest) = body.split_vertically(LEGEND_ROW);
            let style = TextStyle::from((super::font::FAMILY, 15).into_font()).color(&BLACK);
            let widths: Vec<i32> = self
                .legend
                .iter()
                .map(|(l, _)| l.chars().count() as i32 * 9 + 44)
                .collect();
            let (w, _) = row.dim_in_pixel();
            let mut x = (w as i32 - widths.iter().sum::<i32>()) / 2;
            for ((label, color), width) in self.legend.iter().zip(widths) {
                row.draw(&Rectangle::new([(x, 6), (x + 14, 20)], color.filled()))
                    .map_err(de)?;
                row.draw_text(label, &style, (x + 20, 5)).map_err(de)?;
                x += width;
            }
            body = rest;
        }
        let rows = self.panels.len().div_ceil(self.cols.max(1)).max(1);
        let areas = body.split_evenly((rows, self.cols.max(1)));
        for (p, a) in self.panels.iter().zip(areas.iter()) {
            p.draw(a)?;
        }
        Ok(())
    }
}

/// The value axis of a bar panel: 0..100 % (with headroom for labels) for fractions,
/// otherwise fitted to the values.
fn value_axis(values: &[f64], percent: bool) -> Axis {
    if percent {
        let mut y = Axis::linear(0.0, 1.0);
        y.hi = 1.08;
        y.percent = true;
        y
    } else {
        y_axis_for(values)
    }
}

/// "none observed" for a panel whose bars are all zero (a drawn nothing says so).
fn zero_note(values: &[f64]) -> Option<String> {
    (!values.is_empty() && values.iter().all(|v| *v == 0.0))
        .then(|| "none observed (all zero)".to_string())
}

fn y_axis_for(values: &[f64]) -> Axis {
    let hi = values.iter().copied().fold(0.0, f64::max);
    if hi <= 0.0 {
        Axis::linear(0.0, 1.0)
    } else {
        Axis::linear(0.0, hi * 1.15)
    }
}

/// Split-brain incidents and time per algorithm, bars grouped by cluster size.
pub(super) fn split_brain(data: &SweepData, out: &mut Figures) -> Result<(), ChartError> {
    grouped(
        data,
        out,
        "split-brain",
        "Split brain per algorithm",
        &[
            (
                "split_brain_incidents",
                "Split-brain incidents",
                "incidents per run (mean)",
                false,
            ),
            (
                "split_brain_ms",
                "Split-brain time",
                "time with 2+ leaders per run (ms)",
                false,
            ),
        ],
    )
}

/// Stability per algorithm: leader changes, unnecessary elections and availability.
pub(super) fn stability(data: &SweepData, out: &mut Figures) -> Result<(), ChartError> {
    grouped(
        data,
        out,
        "stability",
        "Stability per algorithm",
        &[
            (
                "leader_changes",
                "Leader changes",
                "leader changes per run (mean)",
                false,
            ),
            (
                "unnecessary_elections",
                "Unnecessary elections",
                "elections started with a leader in place",
                false,
            ),
            (
                "availability",
                "Availability",
                "time with an elected leader",
                true,
            ),
        ],
    )
}

/// Bars per algorithm (grouped by cluster size when there are several), one panel per
/// metric and parameter combination (facet): (summary metric, panel title, y description,
/// percent axis). Every sweep point is one bar in each metric's row of panels.
fn grouped(
    data: &SweepData,
    out: &mut Figures,
    stem: &str,
    title: &str,
    metrics: &[(&str, &str, &str, bool)],
) -> Result<(), ChartError> {
    let metrics: Vec<_> = metrics
        .iter()
        .filter(|m| data.summary.col(&format!("{}_mean", m.0)).is_some())
        .collect();
    if metrics.is_empty() || data.points.is_empty() {
        return Ok(());
    }
    let algs = data.algorithms();
    let sizes = data.sizes();
    let by_size = sizes.len() > 1;
    if algs.len() == 1 && data.facets().len() > 1 {
        // One algorithm, several parameter combinations: the combinations are the bars.
        return grouped_by_facet(data, out, stem, title, &metrics);
    }
    let (facets, omitted) = limit_facets(data.facets());
    let labels: Vec<String> = data.points.iter().map(|p| p.params_label("")).collect();
    let mut drawn = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut panels = Vec::new();
    // Rows are facets, columns are metrics, so one metric reads down a column.
    for facet in &facets {
        for &&(metric, panel_title, y_desc, percent) in &metrics {
            let mut bars = Vec::new();
            let mut vals = Vec::new();
            for p in data
                .points
                .iter()
                .zip(&labels)
                .filter(|(_, l)| *l == facet)
                .map(|(p, _)| p)
            {
                let Some(cat) = algs.iter().position(|a| *a == p.algorithm) else {
                    continue;
                };
                let slot = p
                    .nodes
                    .and_then(|n| sizes.iter().position(|s| *s == n))
                    .unwrap_or(0);
                let Some(mean) = data.stat(p, metric, "mean")? else {
                    continue;
                };
                let whisker = data
                    .stat(p, metric, "ci95_lo")?
                    .zip(data.stat(p, metric, "ci95_hi")?);
                vals.push(mean);
                if let Some((_, h)) = whisker {
                    vals.push(h);
                }
                let color = if by_size {
                    super::ramp_color(slot, sizes.len())
                } else {
                    super::algorithm_color(&p.algorithm, cat)
                };
                if seen.insert(p.id.as_str()) {
                    drawn.push(p.id.clone());
                }
                bars.push(Bar {
                    category: cat,
                    slot,
                    base: 0.0,
                    value: mean,
                    whisker,
                    color,
                });
            }
            let note = zero_note(&vals);
            let y = value_axis(&vals, percent);
            panels.push(BarPanel {
                title: panel_title.to_string(),
                subtitle: facet.clone(),
                x: Axis::categories(algs.clone()),
                y,
                x_desc: "algorithm".into(),
                y_desc: y_desc.into(),
                slots: if by_size { sizes.len() } else { 1 },
                bars,
                legend: Vec::new(),
                note,
                // One label per bar only while they fit side by side (percent labels are
                // the widest: "99.87%").
                value_labels: !by_size || sizes.len() * algs.len() <= if percent { 6 } else { 9 },
                percent,
            });
        }
    }
    let size_note = match sizes.as_slice() {
        [n] => format!(" (cluster size {} nodes)", fmt_num(*n)),
        _ => ", grouped by cluster size".to_string(),
    };
    let facet_note = if facets.len() > 1 {
        "; one row of panels per parameter combination"
    } else {
        ""
    };
    let left_out = omitted
        .as_ref()
        .map(|o| format!("; {} (listed on stderr)", o.split(':').next().unwrap_or(o)))
        .unwrap_or_default();
    let cols = metrics.len().min(3);
    let wide = facets.len() > 1;
    out.push((
        stem.to_string(),
        Box::new(BarFigure {
            title: format!("{title}{}", data.scenario_suffix()),
            subtitle: format!(
                "bars: mean over runs{size_note}; whiskers: 95% CI of the mean{facet_note}{left_out}"
            ),
            cols,
            panel: if wide { (620, 420) } else { (560, 460) },
            panels,
            legend: if by_size {
                sizes
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        (
                            format!("{} nodes", fmt_num(*s)),
                            super::ramp_color(i, sizes.len()),
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            },
            drawn,
            omitted,
        }),
    ));
    Ok(())
}

/// [`grouped`] for a single algorithm: one panel per metric, one category per parameter
/// combination on the x axis (labels wrapped at spaces), bars grouped by size. Over
/// [`MAX_BARS_PER_PANEL`] bars it draws [`grouped_aggregate`] instead.
fn grouped_by_facet(
    data: &SweepData,
    out: &mut Figures,
    stem: &str,
    title: &str,
    metrics: &[&(&str, &str, &str, bool)],
) -> Result<(), ChartError> {
    let sizes = data.sizes();
    let by_size = sizes.len() > 1;
    let facets = data.facets();
    if facets.len() * sizes.len().max(1) > MAX_BARS_PER_PANEL {
        return grouped_aggregate(data, out, stem, title, metrics, facets.len());
    }
    let facet_index: std::collections::BTreeMap<&str, usize> = facets
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let alg = data.algorithms().remove(0);
    let mut drawn = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut panels = Vec::new();
    for &&(metric, panel_title, y_desc, percent) in metrics {
        let col = |stat: &str| data.summary.col(&format!("{metric}_{stat}"));
        let (c_mean, c_lo, c_hi) = (col("mean"), col("ci95_lo"), col("ci95_hi"));
        let mut bars = Vec::new();
        let mut vals = Vec::new();
        for p in &data.points {
            let Some(&cat) = facet_index.get(p.params_label("").as_str()) else {
                continue;
            };
            let slot = p
                .nodes
                .and_then(|n| sizes.iter().position(|s| *s == n))
                .unwrap_or(0);
            let Some(mean) = data.stat_at(p, c_mean)? else {
                continue;
            };
            let whisker = data.stat_at(p, c_lo)?.zip(data.stat_at(p, c_hi)?);
            vals.push(mean);
            if let Some((_, h)) = whisker {
                vals.push(h);
            }
            if seen.insert(p.id.as_str()) {
                drawn.push(p.id.clone());
            }
            bars.push(Bar {
                category: cat,
                slot,
                base: 0.0,
                value: mean,
                whisker,
                color: if by_size {
                    super::ramp_color(slot, sizes.len())
                } else {
                    super::algorithm_color(&alg, 0)
                },
            });
        }
        let note = zero_note(&vals);
        let y = value_axis(&vals, percent);
        panels.push(BarPanel {
            title: panel_title.to_string(),
            subtitle: alg.clone(),
            x: Axis::categories(facets.clone()),
            y,
            x_desc: "parameters".into(),
            y_desc: y_desc.into(),
            slots: if by_size { sizes.len() } else { 1 },
            bars,
            legend: Vec::new(),
            note,
            value_labels: facets.len() * sizes.len().max(1) <= 8,
            percent,
        });
    }
    let size_note = match sizes.as_slice() {
        [n] => format!(" (cluster size {} nodes)", fmt_num(*n)),
        _ => ", grouped by cluster size".to_string(),
    };
    let chars = facets.iter().map(|f| f.chars().count()).max().unwrap_or(0) as u32;
    let width = (facets.len() as u32 * (chars * 8 + 16).max(110)).clamp(560, 4000);
    out.push((
        stem.to_string(),
        Box::new(BarFigure {
            title: format!("{title}{}", data.scenario_suffix()),
            subtitle: format!(
                "bars: mean over runs{size_note}, one per parameter combination; whiskers: 95% CI of the mean"
            ),
            cols: 1,
            panel: (width, 380),
            panels,
            legend: if by_size {
                sizes
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (format!("{} nodes", fmt_num(*s)), super::ramp_color(i, sizes.len())))
                    .collect()
            } else {
                Vec::new()
            },
            drawn,
            omitted: None,
        }),
    ));
    Ok(())
}

/// Median, minimum and maximum of some values (`None` when empty).
pub(crate) fn median_min_max(values: &mut [f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let k = values.len();
    let median = if k % 2 == 1 {
        values[k / 2]
    } else {
        (values[k / 2 - 1] + values[k / 2]) / 2.0
    };
    Some((median, values[0], values[k - 1]))
}

/// A single-algorithm bar chart with more parameter combinations than bars fit: one bar per
/// cluster size whose height is the median over the combinations of their mean over runs,
/// with whiskers from the smallest to the largest mean, so every sweep point is inside some
/// bar and the spread across combinations stays visible. (The line charts show each point.)
fn grouped_aggregate(
    data: &SweepData,
    out: &mut Figures,
    stem: &str,
    title: &str,
    metrics: &[&(&str, &str, &str, bool)],
    combinations: usize,
) -> Result<(), ChartError> {
    let sizes = data.sizes();
    let alg = data.algorithms().remove(0);
    let slots = sizes.len().max(1);
    let mut drawn = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut panels = Vec::new();
    for &&(metric, panel_title, y_desc, percent) in metrics {
        let c_mean = data.summary.col(&format!("{metric}_mean"));
        let mut per_slot: Vec<Vec<f64>> = vec![Vec::new(); slots];
        for p in &data.points {
            let Some(mean) = data.stat_at(p, c_mean)? else {
                continue;
            };
            let slot = p
                .nodes
                .and_then(|n| sizes.iter().position(|s| *s == n))
                .unwrap_or(0);
            per_slot[slot].push(mean);
            if seen.insert(p.id.as_str()) {
                drawn.push(p.id.clone());
            }
        }
        let mut bars = Vec::new();
        let mut vals = Vec::new();
        for (slot, v) in per_slot.iter_mut().enumerate() {
            let Some((median, lo, hi)) = median_min_max(v) else {
                continue;
            };
            vals.extend([median, lo, hi]);
            bars.push(Bar {
                category: slot,
                slot: 0,
                base: 0.0,
                value: median,
                whisker: Some((lo, hi)),
                color: if sizes.len() > 1 {
                    super::ramp_color(slot, sizes.len())
                } else {
                    super::algorithm_color(&alg, 0)
                },
            });
        }
        let note = zero_note(&vals);
        let y = value_axis(&vals, percent);
        let names = if sizes.is_empty() {
            vec![format!("{combinations} combinations")]
        } else {
            sizes
                .iter()
                .map(|s| format!("{} nodes", fmt_num(*s)))
                .collect()
        };
        panels.push(BarPanel {
            title: panel_title.to_string(),
            subtitle: format!("{alg}, {combinations} parameter combinations"),
            x: Axis::categories(names),
            y,
            x_desc: "cluster size".into(),
            y_desc: y_desc.into(),
            slots: 1,
            bars,
            legend: Vec::new(),
            note,
            value_labels: slots <= 8,
            percent,
        });
    }
    let width = (slots as u32 * 110).clamp(560, 4000);
    out.push((
        stem.to_string(),
        Box::new(BarFigure {
            title: format!("{title}{}", data.scenario_suffix()),
            subtitle: format!(
                "{combinations} parameter combinations, over the budget of {MAX_BARS_PER_PANEL} bars per panel: bar: median of their means over runs; whiskers: min–max"
            ),
            cols: 1,
            panel: (width.max(1100), 380),
            panels,
            legend: Vec::new(),
            drawn,
            omitted: None,
        }),
    ));
    Ok(())
}

/// Colour of the `j`-th message kind of a stack: the palette, then its lighter tints, so up
/// to 24 kinds stay distinct.
fn kind_color(j: usize) -> RGBColor {
    let c = PALETTE[j % PALETTE.len()];
    let tint = (j / PALETTE.len()) as f64 * 0.35;
    let mix = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * tint.min(0.7)).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Messages per election by message kind, stacked; one panel per algorithm and parameter
/// combination, one bar per cluster size.
pub(super) fn messages_by_kind(data: &SweepData, out: &mut Figures) -> Result<(), ChartError> {
    let kinds: Vec<(usize, String)> = data
        .runs
        .columns_with_prefix("msg_")
        .into_iter()
        .filter(|(_, h)| h.ends_with("_sent"))
        .map(|(c, h)| (c, h["msg_".len()..h.len() - "_sent".len()].to_string()))
        .collect();
    if kinds.is_empty() || data.runs.col("elections").is_none() {
        return Ok(());
    }
    let sizes = data.sizes();
    let (facets, omitted) = limit_facets(data.facets());
    let labels: Vec<String> = data.points.iter().map(|p| p.params_label("")).collect();
    let mut drawn = Vec::new();
    let mut panels = Vec::new();
    for facet in &facets {
        for alg in data.algorithms() {
            // Per point: elections and per-kind totals over its runs.
            let mut per_point: Vec<(usize, f64, Vec<f64>)> = Vec::new();
            for p in data
                .points
                .iter()
                .zip(&labels)
                .filter(|(p, l)| p.algorithm == alg && *l == facet)
                .map(|(p, _)| p)
            {
                let slot = p
                    .nodes
                    .and_then(|n| sizes.iter().position(|s| *s == n))
                    .unwrap_or(0);
                let elections: f64 = data.run_values(p, "elections")?.iter().sum();
                let mut totals = vec![0.0; kinds.len()];
                for &i in &p.run_rows {
                    let row = &data.runs.rows[i];
                    for (k, (c, _)) in kinds.iter().enumerate() {
                        totals[k] += data.runs.num(row, *c)?.unwrap_or(0.0);
                    }
                }
                if elections > 0.0 {
                    drawn.push(p.id.clone());
                }
                per_point.push((slot, elections, totals));
            }
            if per_point.is_empty() {
                continue;
            }
            let used: Vec<usize> = (0..kinds.len())
                .filter(|k| per_point.iter().any(|(_, _, t)| t[*k] > 0.0))
                .collect();
            let mut bars = Vec::new();
            let mut tops = Vec::new();
            for (slot, elections, totals) in &per_point {
                if *elections <= 0.0 {
                    continue;
                }
                let mut base = 0.0;
                for (j, &k) in used.iter().enumerate() {
                    let v = totals[k] / elections;
                    bars.push(Bar {
                        category: *slot,
                        slot: 0,
                        base,
                        value: v,
                        whisker: None,
                        color: kind_color(j),
                    });
                    base += v;
                }
                tops.push(base);
            }
            let note = if bars.is_empty() {
                Some("no elections".to_string())
            } else {
                None
            };
            panels.push(BarPanel {
                title: alg.clone(),
                subtitle: facet.clone(),
                x: Axis::categories(sizes.iter().map(|s| fmt_num(*s)).collect()),
                y: y_axis_for(&tops),
                x_desc: "cluster size (nodes)".into(),
                y_desc: "messages sent per election".into(),
                slots: 1,
                bars,
                // Top segment first, as stacked.
                legend: used
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(j, &k)| (kinds[k].1.clone(), kind_color(j)))
                    .collect(),
                note,
                value_labels: false,
                percent: false,
            });
        }
    }
    if panels.is_empty() {
        return Ok(());
    }
    let cols = data.algorithms().len().clamp(1, 3);
    let left_out = omitted
        .as_ref()
        .map(|o| format!("; {} (listed on stderr)", o.split(':').next().unwrap_or(o)))
        .unwrap_or_default();
    out.push((
        "messages-by-kind".into(),
        Box::new(BarFigure {
            title: format!(
                "All traffic per election, by message kind{}",
                data.scenario_suffix()
            ),
            subtitle: format!(
                "every message of each kind sent in the runs / elections in the runs (heartbeats and \
                 keep-alives included; MATRIX.md's election msgs/election counts election-class kinds only){left_out}"
            ),
            cols,
            // At least 1100 px wide so the title and subtitle fit; room for the legend column.
            panel: ((1100 / cols as u32).max(520) + SIDE_LEGEND, 440),
            panels,
            legend: Vec::new(),
            drawn,
            omitted,
        }),
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::median_min_max;

    #[test]
    fn median_min_max_by_hand() {
        assert_eq!(median_min_max(&mut []), None);
        assert_eq!(median_min_max(&mut [3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(
            median_min_max(&mut [4.0, 1.0, 2.0, 10.0]),
            Some((3.0, 1.0, 10.0))
        );
    }
}
