//! A generic log–log line chart from (series, x, y) points, for measurements that are not a
//! sweep's CSV (e.g. `electsim scale`: peak RSS and CPU time against cluster size). One line
//! per series in the algorithm's colour, a marker at every point, and points that did not
//! finish (a run stopped by a limit) drawn as crosses off the line.

use super::line::{Line, plot_beside_legend, side_legend, size_with_legend};
use super::{
    Axis, ChartError, Figure, algorithm_color, de, draw_polyline, font, render, titled, xy_chart,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One series of a log–log chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct XySeries {
    /// Legend label.
    pub label: String,
    /// Algorithm name, for its fixed colour (see [`super::algorithm_color`]).
    pub algorithm: String,
    /// Points joined by the line, in x order as given.
    pub points: Vec<(f64, f64)>,
    /// Points that did not finish, drawn as a cross at the value measured when they stopped.
    pub unfinished: Vec<(f64, f64)>,
}

/// Titles of a log–log chart.
#[derive(Clone, Debug, Default)]
pub struct LogLogSpec {
    /// Title.
    pub title: String,
    /// Subtitle (notes: what is left out, what the crosses are).
    pub subtitle: String,
    /// X axis description.
    pub x_desc: String,
    /// Y axis description.
    pub y_desc: String,
    /// Lines listed under the legend's "did not finish" entry (which point, and why).
    pub notes: Vec<String>,
}

struct LogLogFigure {
    spec: LogLogSpec,
    x: Axis,
    y: Axis,
    lines: Vec<Line>,
    crosses: Vec<Vec<(f64, f64)>>,
}

/// A log axis over the positive values (a decade when there are none).
fn log_axis(values: &[f64]) -> Axis {
    let pos = values.iter().copied().filter(|v| *v > 0.0 && v.is_finite());
    let (lo, hi) = pos.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo.is_finite() {
        Axis::log(lo / 1.5, hi * 1.5)
    } else {
        Axis::log(1.0, 10.0)
    }
}

impl Figure for LogLogFigure {
    fn size(&self) -> (u32, u32) {
        let (w, h) = size_with_legend(&self.lines);
        let widest = self
            .spec
            .notes
            .iter()
            .map(|n| n.chars().count() as u32 * 7 + 40)
            .max()
            .unwrap_or(0);
        let rows = 1 + self.spec.notes.len() as u32;
        let h_notes = (self.lines.len() as u32 + rows) * 22 + 140;
        (w.max(900 + widest), h.max(h_notes))
    }

    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let body = titled(root, &self.spec.title, &self.spec.subtitle)?;
        let (body, side) = plot_beside_legend(&body);
        let mut chart = xy_chart(
            &body,
            &self.x,
            &self.y,
            &self.spec.x_desc,
            &self.spec.y_desc,
        )?;
        let (x, y) = (&self.x, &self.y);
        let at = |(a, b): (f64, f64)| (x.t(a.max(x.lo)), y.t(b.max(y.lo)));
        for (l, crosses) in self.lines.iter().zip(&self.crosses) {
            let pts: Vec<(f64, f64)> = l.points.iter().map(|p| at((p.0, p.1))).collect();
            draw_polyline(&mut chart, &pts, l.color, l.dashed, Some(l.marker))?;
            let style = l.color.stroke_width(2);
            chart
                .draw_series(crosses.iter().map(|p| {
                    EmptyElement::at(at(*p))
                        + PathElement::new(vec![(-6, -6), (6, 6)], style)
                        + PathElement::new(vec![(-6, 6), (6, -6)], style)
                }))
                .map_err(de)?;
        }
        side_legend(&side, &self.lines)?;
        if self.crosses.iter().any(|c| !c.is_empty()) {
            let row = 16 + 22 * self.lines.len() as i32;
            let style = BLACK.stroke_width(2);
            side.draw(&PathElement::new(
                vec![(12, row + 2), (24, row + 14)],
                style,
            ))
            .map_err(de)?;
            side.draw(&PathElement::new(
                vec![(12, row + 14), (24, row + 2)],
                style,
            ))
            .map_err(de)?;
            let text = TextStyle::from((font::FAMILY, 15).into_font()).color(&BLACK);
            side.draw_text("did not finish", &text, (40, row))
                .map_err(de)?;
            let small = TextStyle::from((font::FAMILY, 13).into_font()).color(&BLACK);
            for (i, n) in self.spec.notes.iter().enumerate() {
                side.draw_text(n, &small, (12, row + 22 * (i as i32 + 1)))
                    .map_err(de)?;
            }
        }
        Ok(())
    }
}

/// Draw a log–log chart of `series` into `out_dir` as `<stem>.png` and `<stem>.svg`
/// (atomically); returns the written files. Values at or below zero sit on the axis floor.
pub fn loglog_chart(
    out_dir: &Path,
    stem: &str,
    spec: &LogLogSpec,
    series: &[XySeries],
) -> Result<Vec<PathBuf>, ChartError> {
    let all = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().chain(&s.unfinished))
    };
    let x = log_axis(&all().map(|p| p.0).collect::<Vec<_>>());
    let y = log_axis(&all().map(|p| p.1).collect::<Vec<_>>());
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| Line {
            label: s.label.clone(),
            alg: s.algorithm.clone(),
            color: algorithm_color(&s.algorithm, i),
            marker: i,
            dashed: false,
            points: s.points.iter().map(|p| (p.0, p.1, None, None)).collect(),
            envelope: None,
        })
        .collect();
    let fig = LogLogFigure {
        spec: spec.clone(),
        x,
        y,
        lines,
        crosses: series.iter().map(|s| s.unfinished.clone()).collect(),
    };
    std::fs::create_dir_all(out_dir).map_err(|source| ChartError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    render(out_dir, stem, &fig)
}
