//! `[[variant]]` tables: named configurations that form one sweep axis, `variant`, whose
//! values are their names. A variant sets `algorithm` and any scenario keys; a point (or
//! `--set variant=NAME`) applies them in file order, as if each were a `--set`.

use super::{Assignment, FieldError, Origin, ScenarioError, ScenarioFile, locate, nearest};

/// One `[[variant]]`: its name and the keys it sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// `name`: the value of the `variant` axis, used in labels, `compare` and MATRIX.md.
    pub name: String,
    /// Its `algorithm`, when it sets one.
    pub algorithm: Option<String>,
    /// Every other key (nested tables flattened to dotted keys), in key order, located in
    /// the file.
    pub assignments: Vec<Assignment>,
}

/// Keys a variant may not set: they are not per-point settings.
const NOT_IN_VARIANT: [&str; 3] = ["runs", "sweep", "variant"];

impl ScenarioFile {
    /// The `[[variant]]` tables in file order (empty when there are none).
    pub fn variants(&self) -> Result<Vec<Variant>, ScenarioError> {
        let Some(toml::Value::Array(list)) = self.table.get("variant") else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Variant> = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let toml::Value::Table(t) = v else { continue };
            let here = format!("variant.{i}");
            let err = |key: &str, value: String, expected: &str| ScenarioError::Field {
                path: self.path.clone(),
                origin: locate(&self.text, &format!("{here}.{key}"))
                    .or_else(|| locate(&self.text, &here))
                    .unwrap_or(Origin::Unlocated),
                error: FieldError::new(format!("{here}.{key}"), value, expected),
            };
            let name = match t.get("name") {
                Some(toml::Value::String(s)) if !s.trim().is_empty() => s.clone(),
                Some(other) => {
                    return Err(err("name", other.to_string(), "a non-empty string"));
                }
                None => {
                    return Err(err(
                        "name",
                        "(missing)".into(),
                        "a name for the variant, e.g. name = \"raft+pv\"",
                    ));
                }
            };
            if out.iter().any(|o| o.name == name) {
                return Err(err(
                    "name",
                    format!("\"{name}\""),
                    "a name no other variant has",
                ));
            }
            let algorithm = match t.get("algorithm") {
                None => None,
                Some(toml::Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    return Err(err(
                        "algorithm",
                        other.to_string(),
                        "a registered algorithm's name",
                    ));
                }
            };
            let mut assignments = Vec::new();
            for (k, value) in t.iter().filter(|(k, _)| *k != "name") {
                if NOT_IN_VARIANT.contains(&k.as_str()) {
                    return Err(err(
                        k,
                        value.to_string(),
                        "a per-point scenario key (`runs`, `sweep` and `variant` apply to the whole sweep)",
                    ));
                }
                flatten(k.clone(), value, &mut |key, value| {
                    let origin = locate(&self.text, &format!("{here}.{key}"))
                        .or_else(|| locate(&self.text, &here))
                        .unwrap_or(Origin::Unlocated);
                    assignments.push(Assignment { key, value, origin });
                });
            }
            // `algorithm` first, so that the algorithm's own keys follow it.
            assignments.sort_by_key(|a| a.key != "algorithm");
            out.push(Variant {
                name,
                algorithm,
                assignments,
            });
        }
        Ok(out)
    }

    /// The variant `value` names, or an error listing the names.
    pub(crate) fn variant(
        &self,
        value: &toml::Value,
        origin: &Origin,
    ) -> Result<Variant, ScenarioError> {
        let variants = self.variants()?;
        let name = match value {
            toml::Value::String(s) => s.as_str(),
            _ => "",
        };
        if let Some(v) = variants.iter().find(|v| v.name == name) {
            return Ok(v.clone());
        }
        let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
        let expected = if names.is_empty() {
            "a variant name, but the file has no [[variant]] tables".to_string()
        } else {
            let hint = nearest(name, names.iter().copied())
                .map_or_else(String::new, |n| format!("; did you mean `{n}`?"));
            format!("one of the [[variant]] names: {}{hint}", names.join(", "))
        };
        Err(ScenarioError::Field {
            path: self.path.clone(),
            origin: origin.clone(),
            error: FieldError::new("variant", value.to_string(), expected),
        })
    }

    /// The algorithm a point with `assignments` runs: the last `algorithm` (or a variant's
    /// algorithm) among them, else the file's `algorithm`, else the default.
    pub fn algorithm_of(&self, assignments: &[Assignment]) -> String {
        let mut name = match self.table.get("algorithm") {
            Some(toml::Value::String(s)) => s.clone(),
            _ => super::DEFAULT_ALGORITHM.to_string(),
        };
        for a in assignments {
            match (a.key.as_str(), &a.value) {
                ("algorithm", toml::Value::String(s)) => name = s.clone(),
                ("variant", v) => {
                    if let Some(alg) = self.variant(v, &a.origin).ok().and_then(|v| v.algorithm) {
                        name = alg;
                    }
                }
                _ => {}
            }
        }
        name
    }

    /// Where the sweep axis `key` (or the first `[[variant]]`, for `variant`) is written.
    pub fn axis_origin(&self, key: &str) -> Origin {
        axis_offsets(&self.text)
            .into_iter()
            .find(|(k, _)| k == key)
            .map_or(Origin::Unlocated, |(_, at)| {
                let (line, column, source_line) = super::line_col(&self.text, at);
                Origin::File {
                    line,
                    column,
                    source_line,
                }
            })
    }

    /// The root table of `key` (`raft` for `raft.pre_vote`) when a registered algorithm
    /// reads it, with the algorithms that do.
    pub fn algorithm_table(&self, key: &str) -> Option<(String, Vec<&'static str>)> {
        let first = key.split('.').next()?;
        let readers = self.registry.readers(first);
        (!readers.is_empty()).then(|| (first.to_string(), readers))
    }
}

/// Nested tables to dotted keys; every other value (lists included) is a leaf.
fn flatten(key: String, v: &toml::Value, out: &mut impl FnMut(String, toml::Value)) {
    match v {
        toml::Value::Table(t) => {
            for (k, sub) in t {
                flatten(format!("{key}.{k}"), sub, out);
            }
        }
        other => out(key, other.clone()),
    }
}

/// The byte offset of every sweep axis key in the text (dotted as [`ScenarioFile::axes`]
/// names them), and of the first `[[variant]]`: the parsed tables are sorted maps, so file
/// order has to come from the text.
pub(crate) fn axis_offsets(text: &str) -> Vec<(String, usize)> {
    fn walk(prefix: &str, t: &toml::de::DeTable<'_>, out: &mut Vec<(String, usize)>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            match v.get_ref().as_table() {
                Some(sub) => walk(&key, sub, out),
                None => out.push((key, k.span().start)),
            }
        }
    }
    let mut out = Vec::new();
    let Ok(doc) = toml::de::DeTable::parse(text) else {
        return out;
    };
    for (k, v) in doc.get_ref() {
        match (k.get_ref().as_ref(), v.get_ref().as_table()) {
            ("sweep", Some(t)) => walk("", t, &mut out),
            ("variant", _) => out.push(("variant".into(), k.span().start)),
            _ => {}
        }
    }
    out
}
