//! Replaying a golden script ([`crate::script`]) through the ordinary engine with trace
//! recorders attached, checked against the expectations written in the script.
//!
//! This is how a counterexample of `electsim verify` becomes a trace, a timeline and a
//! determinism check: `electsim replay SCRIPT --trace ... --timeline ...`, `electsim check
//! SCRIPT` and `verify --out` all call [`replay`].
//!
//! Rules:
//! * A step is a command line, a `----` line, and the expected output up to the next blank
//!   line (the golden format). The whole script is parsed before anything runs, so a
//!   malformed script ([`ReplayError`]) writes nothing.
//! * A step whose output differs from its expectation is a [`StepMismatch`], not an error:
//!   the replay goes on (the protocol code changed since the script was written).
//! * The recording covers the script's last simulation: each `new` starts a fresh one.
//! * The recording ends with an `end` event at the script's final virtual time, so a
//!   timeline ends where the script stopped (not at the scenario's `duration`).
//! * A held-schedule simulation (`new schedule=held ...`, what `verify` writes) spends no
//!   virtual time on its steps, so its timeline is drawn on a script-step axis instead
//!   ([`Replay::step_timeline`]): step k's records at x = k (step 0: the `new` and the
//!   boot). Only the picture is remapped; the trace keeps the true virtual times.

use crate::command::{CliError, print_stdout};
use crate::explore::check::{EventStream, Verdict, check_with};
use crate::report::timeline::{Axis, STEP_NS, Timeline, write_timeline};
use crate::report::trace::{
    Event, Record, Recorder, Recording, Shared, TraceFormat, TraceMeta, fault_node,
};
use crate::script::{COMMANDS, ScriptRunner, StepError};
use crate::sim::observe::Digest;
use crate::sim::{Observer, SimTime, TraceEvent};
use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A script that cannot be replayed: where, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayError {
    /// The script file.
    pub path: PathBuf,
    /// 1-based line (0: the file as a whole).
    pub line: usize,
    /// What was wrong and what is valid.
    pub message: String,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.path.display(), self.message),
            l => write!(f, "{}:{l}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ReplayError {}

/// One step of a script: a command and the output recorded under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based line of the command.
    pub line: usize,
    /// The command, trimmed.
    pub command: String,
    /// The expected output lines (empty: the step prints nothing).
    pub expected: Vec<String>,
}

/// True when `text` is a golden script rather than a scenario: its first line that is
/// neither blank nor a `#` comment is a `new` command (`new` alone, or `new key=value ...`;
/// the TOML line `new = 1` is not).
pub fn is_script(text: &str) -> bool {
    let Some(first) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return false;
    };
    let mut words = first.split_whitespace();
    words.next() == Some("new") && words.next().is_none_or(|w| !w.starts_with('='))
}

/// Split a script into steps, checking its shape (see the module docs).
pub fn parse(path: &Path, text: &str) -> Result<Vec<Step>, ReplayError> {
    let err = |line: usize, message: String| ReplayError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let command = lines[i].trim();
        let line = i + 1;
        i += 1;
        if command.is_empty() || lines[i - 1].starts_with('#') {
            continue;
        }
        if command == "----" {
            return Err(err(
                line,
                "`----` without a command above it; a step is a command, a `----` line, its expected output and a blank line".into(),
            ));
        }
        let verb = command.split_whitespace().next().unwrap_or_default();
        if !COMMANDS.contains(&verb) {
            return Err(err(
                line,
                format!(
                    "unknown command `{verb}`; commands: {} (see `electsim replay --help`)",
                    COMMANDS.join(", ")
                ),
            ));
        }
        if steps.is_empty() && verb != "new" {
            return Err(err(
                line,
                format!("`{command}` before any `new`; a script starts with `new key=value ...`"),
            ));
        }
        if lines.get(i).map(|l| l.trim()) != Some("----") {
            return Err(err(
                line,
                format!(
                    "`{command}` has no `----` line under it; write the step as the command, `----`, the output it prints, then a blank line"
                ),
            ));
        }
        i += 1;
        let mut expected = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() {
            expected.push(lines[i].to_string());
            i += 1;
        }
        steps.push(Step {
            line,
            command: command.to_string(),
            expected,
        });
    }
    if steps.is_empty() {
        return Err(err(
            0,
            "no commands; a script starts with `new key=value ...` (see `electsim replay --help`)"
                .into(),
        ));
    }
    Ok(steps)
}

/// A step whose output is not the one recorded in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepMismatch {
    /// 1-based line of the command.
    pub line: usize,
    /// The command.
    pub command: String,
    /// What the script expects.
    pub expected: Vec<String>,
    /// What the engine printed.
    pub got: Vec<String>,
}

impl fmt::Display for StepMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let block = |l: &[String]| {
            if l.is_empty() {
                "    (nothing)".to_string()
            } else {
                l.iter()
                    .map(|x| format!("    {x}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        write!(
            f,
            "line {}: `{}`\n  expected:\n{}\n  got:\n{}",
            self.line,
            self.command,
            block(&self.expected),
            block(&self.got)
        )
    }
}

/// What a replay produced.
#[derive(Debug)]
pub struct Replay {
    /// The script file.
    pub path: PathBuf,
    /// The script with every expectation replaced by the actual output (golden format).
    pub transcript: String,
    /// Steps whose output differs from the script, in script order.
    pub mismatches: Vec<StepMismatch>,
    /// Steps run.
    pub steps: usize,
    /// Lines of the script's `new` commands (the recording covers the last one).
    pub sims: Vec<usize>,
    /// The recorded events of the last simulation, closed by an `end` event.
    pub recording: Recording,
    /// Scenario name, algorithm, participants and seed of the last simulation.
    pub meta: TraceMeta,
    /// Trace digest of the last simulation's events (the engine's digest function).
    pub digest: String,
    /// The last simulation has a held schedule (its timeline is on the step axis).
    pub held: bool,
    /// The last simulation's steps, from its `new` (step 0): each command and the number
    /// of records the recording held once it had run.
    pub step_marks: Vec<(String, usize)>,
}

/// The recorder and digest attached to the current simulation.
type Probes = Rc<RefCell<Option<(Recorder, Shared<Digest>)>>>;

/// Replay `text` (the contents of `path`), keeping at most `limit` trace records.
pub fn replay(path: &Path, text: &str, limit: u64) -> Result<Replay, ReplayError> {
    let steps = parse(path, text)?;
    let probes: Probes = Rc::default();
    let attach = Rc::clone(&probes);
    let mut runner = ScriptRunner::with_observers(Box::new(move || {
        let rec = Recorder::with_limit(limit);
        let digest = Shared::new(Digest::default());
        let observers = vec![rec.observer(), digest.observer()];
        *attach.borrow_mut() = Some((rec, digest));
        observers
    }));
    let (mut transcript, mut mismatches, mut sims) = (String::new(), Vec::new(), Vec::new());
    let mut step_marks = Vec::new();
    for step in &steps {
        let is_new = step.command.split_whitespace().next() == Some("new");
        let out = match runner.exec(&step.command) {
            Ok(out) => out,
            Err(StepError::Malformed(e)) => {
                return Err(ReplayError {
                    path: path.to_path_buf(),
                    line: step.line,
                    message: format!("`{}`: {e}", step.command),
                });
            }
            Err(StepError::Engine(e)) => format!("error: {e}"),
        };
        if is_new {
            sims.push(step.line);
            step_marks.clear();
        }
        let recorded = probes
            .borrow()
            .as_ref()
            .map_or(0, |(rec, _)| rec.0.borrow().records.len());
        step_marks.push((step.command.clone(), recorded));
        let got: Vec<String> = out.lines().map(str::to_string).collect();
        if !transcript.is_empty() {
            transcript.push('\n'); // the blank line between steps
        }
        transcript.push_str(&step.command);
        transcript.push_str("\n----\n");
        for l in &got {
            transcript.push_str(l);
            transcript.push('\n');
        }
        if got != step.expected {
            mismatches.push(StepMismatch {
                line: step.line,
                command: step.command.clone(),
                expected: step.expected.clone(),
                got,
            });
        }
    }
    // `parse` guarantees a first `new`, and a failing `new` returned above.
    let (rec, digest) = probes
        .borrow_mut()
        .take()
        .expect("a simulation was created");
    let meta = runner.meta().cloned().expect("a simulation was created");
    let held = runner.is_held();
    let end = TraceEvent::End {
        at: runner.now().expect("a simulation was created"),
    };
    rec.0.borrow_mut().observe(&end);
    digest.0.borrow_mut().observe(&end);
    let digest = digest.0.borrow().hex();
    Ok(Replay {
        path: path.to_path_buf(),
        transcript,
        mismatches,
        steps: steps.len(),
        sims,
        recording: rec.take(),
        meta,
        digest,
        held,
        step_marks,
    })
}

/// `rec` with every record's time replaced by its script step: records among the first
/// `marks[k]` (and not an earlier step's) happened in step `k`, at `k * STEP_NS`; the
/// closing `end` at one step after the last. Within a step, a node whose status changes
/// again (or that gets a fault or resume after changing) moves the rest of the step to a
/// later fraction of it, so no status of a node is drawn with zero width and the order of
/// the records is kept.
pub fn step_recording(rec: &Recording, marks: &[usize]) -> Recording {
    let step_of = |i: usize| marks.partition_point(|&m| m <= i);
    // (step, sub-slot within the step) of every record, then the slots per step.
    let mut slots = Vec::with_capacity(rec.records.len());
    let (mut step, mut sub, mut changed) = (usize::MAX, 0u64, Vec::<u32>::new());
    for (i, r) in rec.records.iter().enumerate() {
        let k = step_of(i);
        if k != step {
            (step, sub) = (k, 0);
            changed.clear();
        }
        let about = match &r.event {
            Event::Status { node, .. } | Event::Resume { node } => Some(*node),
            Event::Fault { action } => fault_node(action),
            _ => None,
        };
        if about.is_some_and(|n| changed.contains(&n)) {
            sub += 1;
            changed.clear();
        }
        if let Event::Status { node, .. } = &r.event {
            changed.push(*node);
        }
        slots.push((k, sub));
    }
    let steps = marks.len().max(1) as u64;
    let mut per_step = vec![1u64; steps as usize + 1];
    for &(k, sub) in &slots {
        per_step[k] = per_step[k].max(sub + 1);
    }
    let records = rec
        .records
        .iter()
        .zip(&slots)
        .map(|(r, &(k, sub))| {
            let at = match r.event {
                Event::End => steps * STEP_NS,
                _ => k as u64 * STEP_NS + sub * (STEP_NS / per_step[k]),
            };
            Record {
                at: SimTime(at),
                event: r.event.clone(),
            }
        })
        .collect();
    Recording {
        records,
        seen: rec.seen,
        limit: rec.limit,
    }
}

/// Read and replay the script at `path`.
pub fn replay_file(path: &Path, limit: u64) -> Result<Replay, ReplayError> {
    let text = crate::input::read_text(path, crate::input::Kind::Script).map_err(|e| {
        let (line, message) = match e {
            crate::input::InputError::NotUtf8 {
                line, column, byte, ..
            } => (
                line,
                format!("column {column}: not UTF-8 text (byte 0x{byte:02x}); a golden script is UTF-8 text"),
            ),
            crate::input::InputError::Io { source, .. } => {
                (0, format!("cannot read the script: {source}"))
            }
            crate::input::InputError::TooLarge { kind, .. } => (
                0,
                format!(
                    "larger than {} MiB, the limit for a golden script; is this the right file?",
                    kind.limit_bytes() >> 20
                ),
            ),
        };
        ReplayError {
            path: path.to_path_buf(),
            line,
            message,
        }
    })?;
    replay(path, &text, limit)
}

impl Replay {
    /// The timeline of a held-schedule replay on the script-step axis (see
    /// [`step_recording`]); `None` for a timed schedule, drawn on virtual time.
    pub fn step_timeline(&self) -> Option<(Timeline, Axis)> {
        if !self.held {
            return None;
        }
        let marks: Vec<usize> = self.step_marks.iter().map(|m| m.1).collect();
        let rec = step_recording(&self.recording, &marks);
        let commands = self.step_marks.iter().map(|m| m.0.clone()).collect();
        Some((
            Timeline::from_recording(&rec, self.meta.nodes),
            Axis::Steps(commands),
        ))
    }

    /// The canonical event stream `electsim check` compares.
    pub fn event_stream(&self) -> EventStream {
        EventStream::new(&self.recording, self.digest.clone())
    }

    /// Write the trace and/or timeline of the recording (the exporters of `electsim run`).
    /// Returns notes for stderr: files written, a truncated recording, and which simulation
    /// was recorded when the script has several.
    pub fn export(
        &self,
        trace: Option<(&Path, TraceFormat)>,
        timeline: Option<&Path>,
        window: Option<(u64, u64)>,
    ) -> Result<Vec<String>, String> {
        let mut notes = Vec::new();
        if self.sims.len() > 1 && (trace.is_some() || timeline.is_some()) {
            notes.push(format!(
                "note: {} has {} simulations (`new` on lines {}); the trace records the last one",
                self.path.display(),
                self.sims.len(),
                self.sims
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let Some((tl, axis)) = self.step_timeline() else {
            notes.extend(crate::report::export::export_window(
                &self.recording,
                &self.meta,
                trace,
                timeline,
                window,
            )?);
            return Ok(notes);
        };
        if window.is_some() && timeline.is_some() {
            return Err(STEP_WINDOW.into());
        }
        notes.extend(crate::report::export::export(
            &self.recording,
            &self.meta,
            trace,
            None,
        )?);
        if let Some(path) = timeline {
            write_timeline(path, &tl, &self.meta, &axis)?;
            notes.push(format!(
                "timeline: {} (x: script step, held schedule)",
                path.display()
            ));
        }
        Ok(notes)
    }

    /// Write the run page of the recording (`--html`): a held schedule on the step axis,
    /// as its timeline. Returns the note for stderr.
    pub fn write_html(&self, path: &Path) -> Result<String, String> {
        use crate::report::page::{PageAxis, write};
        if self.held {
            let marks: Vec<usize> = self.step_marks.iter().map(|m| m.1).collect();
            let rec = step_recording(&self.recording, &marks);
            write(path, &rec, &self.meta, &[], PageAxis::Steps)
        } else {
            write(
                path,
                &self.recording,
                &self.meta,
                &[],
                PageAxis::VirtualTime,
            )
        }
    }

    /// The first mismatch as an error message for the user (`None` when all steps match).
    pub fn mismatch_message(&self) -> Option<String> {
        let first = self.mismatches.first()?;
        let more = match self.mismatches.len() {
            1 => String::new(),
            n => format!(
                "\n({} more step(s) differ; the transcript above has them all)",
                n - 1
            ),
        };
        Some(format!(
            "{}:{}: the replay differs from the script (the protocol or engine changed since it was written)\n{first}{more}",
            self.path.display(),
            first.line
        ))
    }
}

/// Why `--from`/`--to` are refused for a held-schedule replay.
const STEP_WINDOW: &str = "--from/--to zoom a virtual-time axis, but this script has a held schedule: its timeline is drawn on the script-step axis and always shows every step; drop --from/--to";

/// `electsim check SCRIPT`: replay the script twice (the second time on another thread)
/// and compare the event streams and digests, as `check` does for a scenario.
pub fn check_command(path: &Path, limit: u64) -> Result<(), CliError> {
    let verdict = check_with(|| replay_file(path, limit).map(|r| r.event_stream()))
        .map_err(|e| CliError::Input(e.to_string()))?;
    match verdict {
        Verdict::Same { digest, events } => print_stdout(&format!(
            "ok: two replays of {} produced the same {events} trace records, digest {digest}\n",
            path.display()
        )),
        Verdict::Differ(m) => Err(CliError::Failed(format!(
            "nondeterminism: two replays of {} differ\n{m}\nreplay with: electsim replay {}",
            path.display(),
            crate::runner::shell_quote(&path.display().to_string())
        ))),
    }
}

/// `electsim replay`: run the script, print its transcript, write the trace and timeline,
/// and fail (exit 1) when a step printed something else than the script expects. A
/// malformed script is an input error (exit 2) and writes nothing.
pub fn execute(
    script: &Path,
    trace: Option<(&Path, TraceFormat)>,
    timeline: Option<&Path>,
    html: Option<&Path>,
    window: Option<(u64, u64)>,
    limit: u64,
) -> Result<(), CliError> {
    let r = replay_file(script, limit).map_err(|e| CliError::Input(e.to_string()))?;
    if r.held && window.is_some() && timeline.is_some() {
        return Err(CliError::Usage(format!(
            "{}: {STEP_WINDOW}",
            script.display()
        )));
    }
    print_stdout(&r.transcript)?;
    if trace.is_some() || timeline.is_some() {
        for n in r.export(trace, timeline, window).map_err(CliError::Io)? {
            eprintln!("{n}");
        }
    }
    if let Some(path) = html {
        eprintln!("{}", r.write_html(path).map_err(CliError::Io)?);
    }
    if let Some(m) = r.mismatch_message() {
        return Err(CliError::Failed(m));
    }
    eprintln!(
        "ok: {} steps of {} replayed as recorded; {} trace records, digest {}",
        r.steps,
        script.display(),
        r.recording.seen,
        r.digest
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "# a comment\nnew algorithm=raft nodes=3 network.delay={constant=\"5ms\"}\n----\nok\n\nleader\n----\nnone\n";

    #[test]
    fn scripts_are_told_from_scenarios_by_their_first_command() {
        assert!(is_script(OK));
        assert!(is_script("\n  new\n"));
        assert!(!is_script("new = 1\nname = \"x\"\n"));
        assert!(!is_script("name = \"new\"\nnew algorithm=raft\n"));
        assert!(!is_script("# only a comment\n"));
    }

    #[test]
    fn every_listed_command_is_one_the_runner_knows() {
        let mut r = ScriptRunner::default();
        r.exec("new algorithm=raft nodes=3").unwrap();
        for c in COMMANDS {
            if let Err(e) = r.exec(c) {
                assert!(!e.to_string().starts_with("unknown command"), "{c}: {e}");
            }
        }
        assert!(
            r.exec("elect")
                .unwrap_err()
                .to_string()
                .starts_with("unknown command")
        );
    }

    #[test]
    fn parse_keeps_lines_and_expectations() {
        let steps = parse(Path::new("s.txt"), OK).unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(
            (steps[0].line, steps[0].expected.clone()),
            (2, vec!["ok".to_string()])
        );
        assert_eq!((steps[1].line, steps[1].command.as_str()), (6, "leader"));
    }

    #[test]
    fn malformed_scripts_name_the_line() {
        let e = |t: &str| parse(Path::new("s.txt"), t).unwrap_err().to_string();
        assert!(
            e("new\n----\nok\n\nexplode 1\n----\n")
                .starts_with("s.txt:5: unknown command `explode`")
        );
        assert!(e("status\n----\n").starts_with("s.txt:1: `status` before any `new`"));
        assert!(e("new\nstatus\n----\n").starts_with("s.txt:1: `new` has no `----`"));
        assert!(e("new\n----\nok\n\n----\n").starts_with("s.txt:5: `----` without a command"));
        assert!(e("# nothing\n").starts_with("s.txt: no commands"));
    }

    #[test]
    fn a_changed_expectation_is_a_mismatch_on_its_line() {
        let r = replay(Path::new("s.txt"), OK, 1000).unwrap();
        assert!(r.mismatches.is_empty(), "{:?}", r.mismatches);
        let edited = OK.replace("none", "n1 (term 1)");
        let r = replay(Path::new("s.txt"), &edited, 1000).unwrap();
        assert_eq!(r.mismatches.len(), 1);
        assert_eq!(r.mismatches[0].line, 6);
        assert_eq!(r.mismatches[0].got, vec!["none".to_string()]);
        assert!(
            r.mismatch_message()
                .unwrap()
                .starts_with("s.txt:6: the replay differs")
        );
    }

    #[test]
    fn a_failing_new_is_an_error_with_its_line() {
        let e = replay(Path::new("s.txt"), "new nodes=oops\n----\nok\n", 10).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("nodes"), "{e}");
    }

    #[test]
    fn the_step_axis_keeps_two_changes_of_one_step_apart() {
        use crate::sim::{NodeStatus, Role};
        let st = |role| NodeStatus {
            role,
            term: 1,
            ..NodeStatus::default()
        };
        let status = |node, old, new| Record {
            at: SimTime(150),
            event: Event::Status {
                node,
                old: st(old),
                new: st(new),
            },
        };
        let rec = Recording {
            records: vec![
                status(0, Role::Down, Role::Follower),      // boot: step 0
                status(0, Role::Follower, Role::Candidate), // step 1, twice
                status(1, Role::Down, Role::Follower),
                status(0, Role::Candidate, Role::Leader),
                Record {
                    at: SimTime(151),
                    event: Event::End,
                },
            ],
            seen: 5,
            limit: 10,
        };
        let at: Vec<u64> = step_recording(&rec, &[1, 4, 4])
            .records
            .iter()
            .map(|r| r.at.0)
            .collect();
        let half = STEP_NS / 2;
        assert_eq!(
            at,
            vec![0, STEP_NS, STEP_NS, STEP_NS + half, 3 * STEP_NS],
            "node 0's second change in step 1 moves to its second half; `end` after step 2"
        );
        let tl = Timeline::from_recording(&step_recording(&rec, &[1, 4, 4]), 2);
        assert!(
            tl.roles
                .contains(&(0, STEP_NS, STEP_NS + half, Role::Candidate, 1)),
            "{:?}",
            tl.roles
        );
        assert_eq!(tl.elections, vec![(0, STEP_NS + half)]);
    }

    #[test]
    fn the_recording_ends_at_the_scripts_clock() {
        let text = format!("{OK}\nrun 2s\n----\n");
        let r = replay(Path::new("s.txt"), &text, 100_000).unwrap();
        let last = r.recording.records.last().unwrap();
        assert_eq!(last.kind(), "end");
        assert_eq!(last.at.0, 2_000_000_000);
        assert_eq!(r.meta.nodes, 3);
        // A timed schedule: its timeline stays on virtual time.
        assert!(!r.held && r.step_timeline().is_none());
        // Deterministic: the same digest again.
        assert_eq!(
            replay(Path::new("s.txt"), &text, 100_000).unwrap().digest,
            r.digest
        );
    }
}
