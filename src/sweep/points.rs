//! Which points a sweep has: the odometer over the axes every point has (first axis
//! slowest), and within each of those points the odometer over the per-algorithm axes
//! (`[sweep.raft]`) of the tables its algorithm reads. An algorithm never runs under
//! another algorithm's axis: a plain `[sweep]` axis on an algorithm's table, crossed with
//! algorithms that do not read it, is refused with both ways to write it.

use super::{SweepError, csv};
use crate::scenario::{Assignment, Axis, FieldError, Origin, ScenarioError, ScenarioFile};

/// One sweep point before it is instantiated.
pub(crate) struct Combo {
    /// The axis assignments, in axis order (per-algorithm axes that do not apply are absent).
    pub assignments: Vec<Assignment>,
    /// The `param_*` cells, one per axis (empty where a per-algorithm axis does not apply).
    pub params: Vec<String>,
}

/// Column order: the axes of every point in file order, then the per-algorithm axes in file
/// order (they vary fastest, inside each point of the others).
pub(crate) fn column_order(axes: &mut Vec<Axis>, origins: &mut Vec<Option<Origin>>) {
    let mut both: Vec<(Axis, Option<Origin>)> = axes.drain(..).zip(origins.drain(..)).collect();
    both.sort_by_key(|(a, _)| a.table.is_some());
    for (a, o) in both {
        axes.push(a);
        origins.push(o);
    }
}

fn assignment(a: &Axis, d: usize, origin: &Option<Origin>) -> Assignment {
    Assignment {
        key: a.key.clone(),
        value: a.values[d].clone(),
        origin: origin.clone().unwrap_or_else(|| Origin::SweepAxis {
            axis: a.key.clone(),
            value: a.values[d].to_string(),
        }),
    }
}

/// The digits of point `index` of an odometer over `lens` (last digit fastest).
fn digits(mut index: usize, lens: &[usize]) -> Vec<usize> {
    let mut out = vec![0; lens.len()];
    for (d, &n) in out.iter_mut().zip(lens).rev() {
        *d = index % n;
        index /= n;
    }
    out
}

/// Every point of `axes` (in [`column_order`]) in output order.
pub(crate) fn combos(
    file: &ScenarioFile,
    axes: &[Axis],
    origins: &[Option<Origin>],
    plain: &[Assignment],
) -> Result<Vec<Combo>, SweepError> {
    let general: Vec<usize> = (0..axes.len())
        .filter(|&i| axes[i].table.is_none())
        .collect();
    let lens: Vec<usize> = general.iter().map(|&i| axes[i].values.len()).collect();
    let n_base: usize = lens.iter().product();
    // Per plain axis on an algorithm's table: the algorithms of the sweep that do not read it.
    let mut misfits: Vec<Vec<String>> = vec![Vec::new(); axes.len()];
    let mut used = vec![false; axes.len()];
    let mut out = Vec::new();
    for base in 0..n_base {
        let ds = digits(base, &lens);
        let mut assignments: Vec<Assignment> = general
            .iter()
            .zip(&ds)
            .map(|(&i, &d)| assignment(&axes[i], d, &origins[i]))
            .collect();
        let all: Vec<Assignment> = assignments.iter().chain(plain).cloned().collect();
        let alg = file.algorithm_of(&all);
        check_variant(file, &assignments, &alg)?;
        for &i in &general {
            let a = &axes[i];
            if let Some((_, readers)) = file.algorithm_table(&a.key)
                && a.values.len() > 1
                && !readers.contains(&alg.as_str())
                && !misfits[i].contains(&alg)
            {
                misfits[i].push(alg.clone());
            }
        }
        let mine: Vec<usize> = (0..axes.len())
            .filter(|&i| {
                axes[i].table.as_deref().is_some_and(|t| {
                    file.algorithm_table(t)
                        .is_some_and(|(_, r)| r.contains(&alg.as_str()))
                })
            })
            .collect();
        let sub_lens: Vec<usize> = mine.iter().map(|&i| axes[i].values.len()).collect();
        let base_len = assignments.len();
        for sub in 0..sub_lens.iter().product::<usize>() {
            assignments.truncate(base_len);
            for (&i, d) in mine.iter().zip(digits(sub, &sub_lens)) {
                used[i] = true;
                assignments.push(assignment(&axes[i], d, &origins[i]));
            }
            // Cells in column order: general axes first, then the per-algorithm ones.
            let params = axes
                .iter()
                .map(|a| {
                    assignments
                        .iter()
                        .find(|x| x.key == a.key)
                        .map_or_else(String::new, |x| csv::param_value(&x.value))
                })
                .collect();
            out.push(Combo {
                assignments: assignments.clone(),
                params,
            });
        }
    }
    if let Some(i) = (0..axes.len()).find(|&i| !misfits[i].is_empty()) {
        return Err(cross_product(file, &axes[i], &misfits[i]));
    }
    if let Some(a) = (0..axes.len()).find(|&i| axes[i].table.is_some() && !used[i]) {
        let a = &axes[a];
        let table = a.table.as_deref().unwrap_or_default();
        return Err(field(
            file,
            &a.key,
            render(&a.values),
            &format!(
                "a per-algorithm axis of an algorithm the sweep runs, but no point runs one that reads [{table}] (read by {})",
                file.algorithm_table(table)
                    .map(|(_, r)| r.join(", "))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(out)
}

/// A variant may set only the tables its algorithm reads.
fn check_variant(file: &ScenarioFile, base: &[Assignment], alg: &str) -> Result<(), SweepError> {
    let Some(v) = base.iter().find(|a| a.key == "variant") else {
        return Ok(());
    };
    let variant = file.variant(&v.value, &v.origin)?;
    for a in &variant.assignments {
        if let Some((table, readers)) = file.algorithm_table(&a.key)
            && !readers.contains(&alg)
        {
            return Err(SweepError::Scenario(Box::new(ScenarioError::Field {
                path: file.path.clone(),
                origin: a.origin.clone(),
                error: FieldError::new(
                    a.key.clone(),
                    a.value.to_string(),
                    format!(
                        "a key the variant's algorithm reads, but variant `{}` runs {alg}, and [{table}] is read by {} only; set `algorithm` in the variant or drop the key",
                        variant.name,
                        readers.join(", ")
                    ),
                ),
            })));
        }
    }
    Ok(())
}

fn render(values: &[toml::Value]) -> String {
    toml::Value::Array(values.to_vec()).to_string()
}

fn field(file: &ScenarioFile, key: &str, value: String, expected: &str) -> SweepError {
    SweepError::Scenario(Box::new(ScenarioError::Field {
        path: file.path.clone(),
        origin: file.axis_origin(key),
        error: FieldError::new(format!("sweep.{key}"), value, expected),
    }))
}

/// The refusal of a blind cross-product, naming both ways to write the axis.
fn cross_product(file: &ScenarioFile, a: &Axis, misfits: &[String]) -> SweepError {
    let (table, readers) = file.algorithm_table(&a.key).unwrap_or_default();
    let rest = a.key[table.len()..].trim_start_matches('.');
    let sub = if rest.is_empty() {
        format!("`[sweep.{table}]` with its keys as axes")
    } else {
        format!("`[sweep.{table}]` `{rest} = {}`", render(&a.values))
    };
    let example = if rest.is_empty() {
        String::new()
    } else {
        format!(", `{} = ...`", a.key)
    };
    field(
        file,
        &a.key,
        render(&a.values),
        &format!(
            "an axis every algorithm of the sweep reads, but [{table}] is read by {} only, and the sweep also runs {} (each would run {} times under the same settings). Write it as a per-algorithm axis, {sub}, crossed with the points of {} only; or as [[variant]] tables, each with a `name`, `algorithm = \"{}\"`{example}",
            readers.join(", "),
            misfits.join(", "),
            a.values.len(),
            readers.join(", "),
            readers.first().copied().unwrap_or_default()
        ),
    )
}
