//! Reporting a `verify` result: a summary, and a counterexample as a golden script with a
//! held schedule, replayed through the ordinary engine to fill in what it shows.

use super::VerifyReport;
use super::search::Strategy;
use crate::scenario::Assignment;
use std::fmt::Write as _;
use std::path::Path;

/// The counterexample (if any) as a golden script, with the engine's output under every
/// step (the script is run once through [`crate::script::run_script`]). After the last
/// step the script holds the state for 1 ms (`run 1ms`: nothing is released) so that the
/// engine's interval metrics see it, then prints `violations`.
pub fn script(scenario: &Path, sets: &[Assignment], r: &VerifyReport) -> Option<String> {
    let cx = r.result.as_ref().ok()?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# electsim verify counterexample: {} — {}",
        cx.property.name(),
        cx.detail
    );
    let _ = writeln!(
        s,
        "# {} steps, found by {} search. Replays with the ordinary engine in held mode.",
        cx.steps.len(),
        match r.options.strategy {
            Strategy::Bfs => "breadth-first (shortest)",
            Strategy::Dfs => "depth-first",
        }
    );
    let mut new = format!("new schedule=held scenario={}", scenario.display());
    for w in super::set_words(sets) {
        new.push(' ');
        new.push_str(&w);
    }
    s.push_str(&new);
    s.push_str("\n\n");
    for step in &cx.steps {
        s.push_str(step);
        s.push_str("\n\n");
    }
    s.push_str("run 1ms\n\nviolations\n");
    let mut out = crate::script::run_script(&s);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

/// The human-readable report.
pub fn summary(r: &VerifyReport, script: Option<&str>) -> String {
    let mut s = String::new();
    let o = &r.options;
    let st = &r.stats;
    let _ = writeln!(
        s,
        "verify {} nodes={}: properties {}; faults {}; {} search, depth <= {}, max states {}{}{}{}",
        r.algorithm,
        r.nodes,
        r.properties
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(","),
        o.budget.describe(),
        match o.strategy {
            Strategy::Bfs => "breadth-first",
            Strategy::Dfs => "depth-first",
        },
        o.bounds.depth,
        o.bounds.max_states,
        if o.fifo { ", fifo links" } else { "" },
        if o.timer_order {
            ", timers in deadline order"
        } else {
            ""
        },
        if o.sync { ", synchronous rounds" } else { "" },
    );
    let _ = writeln!(
        s,
        "states explored {}, distinct {}, depth reached {}, {:.3} s, {:.0} states/s",
        st.explored,
        st.distinct,
        st.depth,
        st.elapsed.as_secs_f64(),
        st.states_per_s()
    );
    let _ = writeln!(s, "{}", symmetry_line(r));
    match &r.result {
        Err(stop) => {
            let why = match stop {
                super::Stop::Exhausted => "the whole reachable state space was explored",
                super::Stop::Depth => "stopped by the depth bound",
                super::Stop::MaxStates => "stopped by --max-states",
                super::Stop::Time => "stopped by --time",
            };
            let _ = writeln!(s, "result: no violation ({}: {why})", stop.as_str());
        }
        Ok(cx) => {
            let _ = writeln!(
                s,
                "result: VIOLATION of {} after {} steps: {}",
                cx.property.name(),
                cx.steps.len(),
                cx.detail
            );
            for (i, (step, state)) in cx.steps.iter().zip(&cx.trace).enumerate() {
                let _ = writeln!(s, "  {:>3}. {step}\n       {state}", i + 1);
            }
            if let Some(script) = script
                && let Some(v) = script.rsplit("violations\n----\n").next()
            {
                let _ = writeln!(s, "replayed through the engine:\n{}", v.trim_end());
            }
        }
    }
    s
}

/// Whether symmetry reduction was used, and how much it saved.
fn symmetry_line(r: &VerifyReport) -> String {
    match &r.symmetry {
        Ok(group) => {
            let st = &r.stats;
            format!(
                "symmetry: on ({group} renamings of interchangeable nodes): {} distinct states stand for {} ({:.2}x fewer)",
                st.distinct,
                st.represented,
                st.represented as f64 / st.distinct.max(1) as f64
            )
        }
        Err(why) => format!("symmetry: off ({why})"),
    }
}

/// Write report.txt, and with a counterexample counterexample.txt (the golden script) and
/// trace.txt (the statuses after each step).
pub fn write(dir: &Path, r: &VerifyReport, text: &str, script: Option<&str>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(io)?;
    crate::fsutil::write_atomic(&dir.join("report.txt"), text.as_bytes()).map_err(io)?;
    if let (Ok(cx), Some(script)) = (&r.result, script) {
        crate::fsutil::write_atomic(&dir.join("counterexample.txt"), script.as_bytes())
            .map_err(io)?;
        let mut t = String::new();
        for (step, state) in cx.steps.iter().zip(&cx.trace) {
            let _ = writeln!(t, "{step}\n  {state}");
        }
        crate::fsutil::write_atomic(&dir.join("trace.txt"), t.as_bytes()).map_err(io)?;
    }
    Ok(())
}
