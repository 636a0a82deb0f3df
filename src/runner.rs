//! One run of a scenario: build the kernel config, run the scenario's algorithm, report.

pub use crate::plugin::DynSim;
use crate::scenario::{Assignment, Scenario};
use crate::sim::faults::expand_plan;
use crate::sim::rng::{SimRng, Stream};
use crate::sim::{Observer, Outcome, SimConfig, SimError, SimTime};
use std::path::Path;

/// Why a run did not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The kernel stopped the run (event or in-flight limit).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The fault plan could not be expanded (e.g. it exceeds its size bound).
    #[error("fault plan: {0}")]
    Plan(String),
}

/// Kernel settings for `scenario` with run seed `seed` (the fault plan is expanded here,
/// from the seed's fault stream).
pub fn sim_config(sc: &Scenario, seed: u64) -> Result<SimConfig, RunError> {
    let end = SimTime::ZERO + sc.duration;
    let mut rng = SimRng::new(seed, Stream::Faults);
    let plan = expand_plan(&sc.faults, &sc.random_faults, sc.nodes, end, &mut rng)
        .map_err(RunError::Plan)?;
    Ok(SimConfig {
        nodes: sc.nodes,
        seed,
        end,
        max_events: sc.max_events,
        max_in_flight: sc.max_in_flight,
        network: sc.network.clone(),
        resources: sc.resources.clone(),
        clocks: sc.clocks.clone(),
        plan,
    })
}

/// Run `scenario` once with `seed`, with extra observers (trace exporters) attached.
pub fn run(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
) -> Result<Outcome, RunError> {
    let cfg = sim_config(sc, seed)?;
    Ok(sc.algorithm.run(cfg, observers)?)
}

/// Build (and boot) a simulation of `scenario` without running it.
pub fn build(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
) -> Result<Box<dyn DynSim>, RunError> {
    let cfg = sim_config(sc, seed)?;
    Ok(sc.algorithm.build(cfg, observers, false))
}

/// Build (and boot) a simulation in held mode (see [`crate::sim::Sim::with_observers_held`]):
/// messages and timers wait until a script releases them.
pub fn build_held(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
) -> Result<Box<dyn DynSim>, RunError> {
    let cfg = sim_config(sc, seed)?;
    Ok(sc.algorithm.build(cfg, observers, true))
}

/// Quote a shell word if needed (for replay commands).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `electsim run` command that reproduces a run of `path` with these assignments and seed.
pub fn replay_command(path: &Path, sets: &[Assignment], seed: u64) -> String {
    let mut cmd = format!("electsim run {}", shell_quote(&path.display().to_string()));
    for a in sets {
        // A string is written bare when it reads back as the same string (`10s`, `raft`);
        // otherwise (`"1"`, `"true"`) it keeps its TOML quotes so the replay is exact.
        let v = match &a.value {
            toml::Value::String(s) if crate::scenario::parse_value(s) == a.value => s.clone(),
            other => other.to_string(),
        };
        cmd.push_str(&format!(
            " --set {}",
            shell_quote(&format!("{}={v}", a.key))
        ));
    }
    cmd.push_str(&format!(" --seed {seed}"));
    cmd
}

/// Progress of one long run on stderr: virtual time reached out of the scenario's duration,
/// with the wall-clock rate and an estimate of what is left. Drawn only when stderr is a
/// terminal (indicatif hides it otherwise), and never read by the simulation, so it cannot
/// change a result.
pub struct RunProgress {
    bar: indicatif::ProgressBar,
    events: u64,
}

impl RunProgress {
    /// A bar for `sc`'s duration, shown after the run has taken a second.
    pub fn new(sc: &Scenario) -> RunProgress {
        let bar = indicatif::ProgressBar::new(sc.duration.0 / 1_000_000);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} virtual ms  ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        RunProgress { bar, events: 0 }
    }

    /// The observer to hand to [`run`].
    pub fn observer(self) -> Box<dyn Observer> {
        Box::new(self)
    }
}

impl Observer for RunProgress {
    fn observe(&mut self, event: &crate::sim::TraceEvent<'_>) {
        self.events += 1;
        // One position update per 64 Ki events keeps the bar off the profile.
        if self.events & 0xffff == 0 {
            self.bar.set_position(event.at().0 / 1_000_000);
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
