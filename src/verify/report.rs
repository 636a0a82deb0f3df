//! Reporting a `verify` result: a summary, and a counterexample as a golden script with a
//! held schedule, replayed through the ordinary engine to fill in what it shows.

use super::VerifyReport;
use super::search::Strategy;
use crate::report::trace::{DEFAULT_TRACE_LIMIT, TraceFormat};
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

/// File names `write` uses for a counterexample, in DIR.
pub const SCRIPT_FILE: &str = "counterexample.txt";
/// The replay's JSONL trace (the format `electsim run --trace` writes by default).
pub const TRACE_FILE: &str = "counterexample.jsonl";
/// The replay's timeline picture.
pub const TIMELINE_FILE: &str = "counterexample.svg";
/// The replay's run page (`electsim replay --html`).
pub const HTML_FILE: &str = "counterexample.html";

/// Every file `verify --out` writes.
pub const FILES: [&str; 6] = [
    REPORT_FILE,
    SCRIPT_FILE,
    HTML_FILE,
    STEPS_FILE,
    TRACE_FILE,
    TIMELINE_FILE,
];
/// The report (always written).
pub const REPORT_FILE: &str = "report.txt";
/// The statuses after each step of the counterexample.
pub const STEPS_FILE: &str = "trace.txt";
/// How report.txt begins (how electsim knows it wrote the file).
pub const REPORT_FIRST_WORD: &str = "verify ";
/// The first line of trace.txt.
pub const TRACE_TXT_MARK: &str =
    "# verify counterexample: each step, then every node's status after it\n";

/// The lines report.txt and the printed summary add when a counterexample is written to
/// `dir`: the files and the commands that replay it. The script's schedule is held, so its
/// timeline is on the script-step axis and shows every step (no `--from`).
pub fn files_note(dir: &Path) -> String {
    let q = |f: &str| crate::runner::shell_quote(&dir.join(f).display().to_string());
    format!(
        "written: {} (golden script), {} (its replay's trace), {} (timeline), {} (run page), trace.txt, report.txt\nreplay:  electsim replay {} --trace {} --timeline {} --html {}\ncheck:   electsim check {}\n",
        q(SCRIPT_FILE),
        q(TRACE_FILE),
        q(TIMELINE_FILE),
        q(HTML_FILE),
        q(SCRIPT_FILE),
        q(TRACE_FILE),
        q(TIMELINE_FILE),
        q(HTML_FILE),
        q(SCRIPT_FILE)
    )
}

/// Write report.txt, and with a counterexample counterexample.txt (the golden script),
/// trace.txt (the statuses after each step), and the script's replay through the engine
/// ([`crate::replay::replay`], the code path of `electsim replay`): counterexample.jsonl
/// and counterexample.svg. report.txt is `text` plus [`files_note`], which is returned
/// (empty without a counterexample) for the caller to print. The replay runs before
/// anything is written: a script that does not replay as written writes no file.
pub fn write(
    dir: &Path,
    r: &VerifyReport,
    text: &str,
    script: Option<&str>,
) -> Result<String, String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    let replay = match script {
        Some(s) if r.result.is_ok() => {
            let path = dir.join(SCRIPT_FILE);
            let replay = crate::replay::replay(&path, s, DEFAULT_TRACE_LIMIT)
                .map_err(|e| format!("the counterexample does not replay: {e}"))?;
            if let Some(m) = replay.mismatch_message() {
                return Err(format!(
                    "the counterexample does not replay as written (nondeterminism?): {m}"
                ));
            }
            Some(replay)
        }
        _ => None,
    };
    let note = match replay {
        Some(_) => files_note(dir),
        None => String::new(),
    };
    // One set: a clean report removes an earlier run's counterexample files, and a kill
    // leaves the old set or the new one (see `FileSet`).
    let set = crate::outputs::FileSet::begin(dir, "verify").map_err(io)?;
    crate::fsutil::write_atomic(&set.path(REPORT_FILE), format!("{text}{note}").as_bytes())
        .map_err(io)?;
    if let (Ok(cx), Some(script), Some(replay)) = (&r.result, script, replay) {
        crate::fsutil::write_atomic(&set.path(SCRIPT_FILE), script.as_bytes()).map_err(io)?;
        let mut t = String::from(TRACE_TXT_MARK);
        for (step, state) in cx.steps.iter().zip(&cx.trace) {
            let _ = writeln!(t, "{step}\n  {state}");
        }
        crate::fsutil::write_atomic(&set.path(STEPS_FILE), t.as_bytes()).map_err(io)?;
        replay.export(
            Some((&set.path(TRACE_FILE), TraceFormat::Jsonl)),
            Some(&set.path(TIMELINE_FILE)),
            None,
        )?;
        replay.write_html(&set.path(HTML_FILE))?;
    }
    set.commit(&FILES).map_err(io)?;
    Ok(note)
}
