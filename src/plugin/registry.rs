//! The registry (an ordered list of algorithms) and the type erasure that lets the runner,
//! the scenario schema and the sweep treat every algorithm alike: an [`Algorithm`] type
//! becomes an `Entry` object, and a validated configuration a [`ConfiguredAlgorithm`].

use super::{Algorithm, Claims, Param};
use crate::field_error::FieldError;
use crate::sim::{
    FaultAction, Message, NodeId, NodeStatus, Observer, Outcome, Sim, SimConfig, SimError, SimTime,
    metrics::RunMetrics,
};
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// The algorithms a binary can run, in the order `electsim list` shows them.
///
/// Built with [`Registry::builtin`] (the five built-ins) and extended with
/// [`Registry::with`]; immutable afterwards. Install it process-wide with
/// [`super::install`] or run the command line with it via [`crate::cli::main_with`].
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<Arc<dyn Entry>>,
}

impl Registry {
    /// An empty registry (the built-ins are [`Registry::builtin`]).
    pub fn new() -> Registry {
        Registry::default()
    }

    /// This registry plus algorithm `A`, listed last.
    ///
    /// # Panics
    ///
    /// When `A`'s name is already registered or is not a lowercase identifier
    /// (`[a-z][a-z0-9_-]*`): mistakes in the program, not in its input.
    /// [`Registry::try_with`] returns them as errors instead. (A table named like a key of
    /// the scenario schema, such as `network`, is reported when a scenario is read.)
    pub fn with<A: Algorithm>(self) -> Registry {
        self.try_with::<A>().unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Registry::with`], returning a mistake as an error.
    pub fn try_with<A: Algorithm>(mut self) -> Result<Registry, String> {
        let name = A::NAME;
        let ok_name = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c));
        if !ok_name {
            return Err(format!(
                "algorithm name `{name}`: expected a lowercase identifier such as `lease`"
            ));
        }
        if self.get(name).is_some() {
            return Err(format!("algorithm `{name}` is registered twice"));
        }
        self.entries.push(Arc::new(Marker::<A>(PhantomData)));
        Ok(self)
    }

    /// The registered names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.name()).collect()
    }

    /// Every root table some registered algorithm reads, in registry order, each once.
    pub fn tables(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for t in self.entries.iter().flat_map(|e| e.tables()) {
            if !out.contains(t) {
                out.push(t);
            }
        }
        out
    }

    /// The registered algorithms that read the root table `table`, in registry order.
    pub fn readers(&self, table: &str) -> Vec<&'static str> {
        self.entries
            .iter()
            .filter(|e| e.tables().contains(&table))
            .map(|e| e.name())
            .collect()
    }

    /// `(name, summary, parameters)` of every algorithm, for `electsim list`.
    pub fn describe(&self) -> Vec<(&'static str, &'static str, &'static [Param])> {
        self.entries
            .iter()
            .map(|e| (e.name(), e.summary(), e.params()))
            .collect()
    }

    /// The names as a "one of" list for error messages: `` `bully`, `ring`, ... ``.
    pub fn names_list(&self) -> String {
        let names: Vec<String> = self.names().iter().map(|n| format!("`{n}`")).collect();
        names.join(", ")
    }

    fn get(&self, name: &str) -> Option<&Arc<dyn Entry>> {
        self.entries.iter().find(|e| e.name() == name)
    }

    /// Schema-check every algorithm's tables of a parsed document (unknown keys, types),
    /// with spans into the document's text.
    pub(crate) fn check_document(
        &self,
        doc: &toml::Spanned<toml::de::DeTable<'_>>,
    ) -> Result<(), toml::de::Error> {
        for e in &self.entries {
            let mut mine = doc.clone();
            keep_keys(&mut mine, |k| e.tables().contains(&k));
            e.check(toml::de::Deserializer::from(mine))?;
        }
        Ok(())
    }

    /// Validate every algorithm's tables of `root` for `nodes` participants and return the
    /// one named `selected`. Every algorithm is validated, so a bad value in any table is
    /// an error whichever algorithm runs.
    pub(crate) fn configure(
        &self,
        selected: &str,
        root: &toml::Table,
        nodes: u32,
    ) -> Result<ConfiguredAlgorithm, ConfigError> {
        if self.get(selected).is_none() {
            let names = self.names();
            let hint = names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(selected))
                .copied()
                .or_else(|| crate::scenario::nearest(selected, names.iter().copied()))
                .map_or_else(String::new, |n| format!("; did you mean `{n}`?"));
            return Err(ConfigError::Field(FieldError::new(
                "algorithm",
                format!("\"{selected}\""),
                format!(
                    "one of the registered algorithms: {} (see `electsim list`){hint}",
                    self.names_list()
                ),
            )));
        }
        let mut chosen = None;
        for e in &self.entries {
            let tables: toml::Table = root
                .iter()
                .filter(|(k, _)| e.tables().contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let c = e.configure(tables, nodes)?;
            if e.name() == selected {
                chosen = Some(c);
            }
        }
        Ok(chosen.expect("the selected algorithm is registered"))
    }
}

/// Remove the root keys of a parsed document that `keep` rejects (spans stay as they were).
pub(crate) fn keep_keys(
    doc: &mut toml::Spanned<toml::de::DeTable<'_>>,
    keep: impl Fn(&str) -> bool,
) {
    let gone: Vec<String> = doc
        .get_ref()
        .iter()
        .map(|(k, _)| k.get_ref().to_string())
        .filter(|k| !keep(k))
        .collect();
    for k in gone {
        doc.get_mut().remove(k.as_str());
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// Why an algorithm's tables were rejected: a schema error (unknown key, wrong type) from
/// the deserializer, or a semantic one from [`Algorithm::config`].
#[derive(Debug)]
pub(crate) enum ConfigError {
    Schema(toml::de::Error),
    Field(FieldError),
}

/// An [`Algorithm`] type as an object (no value: the trait's items are all static).
trait Entry: Send + Sync {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    fn params(&self) -> &'static [Param];
    fn tables(&self) -> &'static [&'static str];
    fn check(&self, de: toml::de::Deserializer<'_>) -> Result<(), toml::de::Error>;
    fn configure(
        &self,
        tables: toml::Table,
        nodes: u32,
    ) -> Result<ConfiguredAlgorithm, ConfigError>;
}

/// `fn() -> A` keeps the marker `Send + Sync` whatever `A` is.
struct Marker<A>(PhantomData<fn() -> A>);

impl<A: Algorithm> Entry for Marker<A> {
    fn name(&self) -> &'static str {
        A::NAME
    }
    fn summary(&self) -> &'static str {
        A::SUMMARY
    }
    fn params(&self) -> &'static [Param] {
        A::PARAMS
    }
    fn tables(&self) -> &'static [&'static str] {
        A::TABLES
    }
    fn check(&self, de: toml::de::Deserializer<'_>) -> Result<(), toml::de::Error> {
        <A::Tables as serde::Deserialize>::deserialize(de).map(drop)
    }
    fn configure(
        &self,
        tables: toml::Table,
        nodes: u32,
    ) -> Result<ConfiguredAlgorithm, ConfigError> {
        let raw: A::Tables = toml::Value::Table(tables)
            .try_into()
            .map_err(ConfigError::Schema)?;
        let config = A::config(raw, nodes).map_err(ConfigError::Field)?;
        Ok(ConfiguredAlgorithm(Arc::new(WithConfig::<A>(config))))
    }
}

/// The algorithm a scenario selected, with its validated configuration: what a run needs.
#[derive(Clone)]
pub struct ConfiguredAlgorithm(Arc<dyn Configured>);

impl ConfiguredAlgorithm {
    /// The algorithm's name ([`Algorithm::NAME`]).
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The validated configuration, when the algorithm is `A`.
    pub fn config<A: Algorithm>(&self) -> Option<&A::Config> {
        if self.name() != A::NAME {
            return None;
        }
        self.0.config_any().downcast_ref()
    }

    /// The safety properties the algorithm claims.
    pub fn claims(&self) -> Claims {
        self.0.claims()
    }

    /// The names of its message kinds ([`Message::KINDS`]).
    pub fn message_kinds(&self) -> &'static [&'static str] {
        self.0.message_kinds()
    }

    /// Coordination-service replicas it adds beyond the participants.
    pub fn service_nodes(&self) -> u32 {
        self.0.service_nodes()
    }

    /// Run a simulation to its end.
    pub fn run(
        &self,
        cfg: SimConfig,
        observers: Vec<Box<dyn Observer>>,
    ) -> Result<Outcome, SimError> {
        self.0.run(cfg, observers)
    }

    /// Build (and boot) a simulation without running it.
    pub fn build(
        &self,
        cfg: SimConfig,
        observers: Vec<Box<dyn Observer>>,
        held: bool,
    ) -> Box<dyn DynSim> {
        self.0.build(cfg, observers, held)
    }
}

impl fmt::Display for ConfiguredAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for ConfiguredAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f)
    }
}

trait Configured: Send + Sync {
    fn name(&self) -> &'static str;
    fn config_any(&self) -> &dyn Any;
    fn claims(&self) -> Claims;
    fn message_kinds(&self) -> &'static [&'static str];
    fn service_nodes(&self) -> u32;
    fn run(&self, cfg: SimConfig, observers: Vec<Box<dyn Observer>>) -> Result<Outcome, SimError>;
    fn build(
        &self,
        cfg: SimConfig,
        observers: Vec<Box<dyn Observer>>,
        held: bool,
    ) -> Box<dyn DynSim>;
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

struct WithConfig<A: Algorithm>(A::Config);

impl<A: Algorithm> Configured for WithConfig<A> {
    fn name(&self) -> &'static str {
        A::NAME
    }
    fn config_any(&self) -> &dyn Any {
        &self.0
    }
    fn claims(&self) -> Claims {
        A::CLAIMS
    }
    fn message_kinds(&self) -> &'static [&'static str] {
        <A::Msg as Message>::KINDS
    }
    fn service_nodes(&self) -> u32 {
        A::service_nodes(&self.0)
    }
    fn run(&self, cfg: SimConfig, observers: Vec<Box<dyn Observer>>) -> Result<Outcome, SimError> {
        Sim::<A>::with_observers(cfg, self.0.clone(), observers).run()
    }
    fn build(
        &self,
        cfg: SimConfig,
        observers: Vec<Box<dyn Observer>>,
        held: bool,
    ) -> Box<dyn DynSim> {
        if held {
            Box::new(Sim::<A>::with_observers_held(
                cfg,
                self.0.clone(),
                observers,
            ))
        } else {
            Box::new(Sim::<A>::with_observers(cfg, self.0.clone(), observers))
        }
    }
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(A::NAME).field(&self.0).finish()
    }
}

/// A running simulation of any algorithm, for interactive drivers (golden scripts, tests).
pub trait DynSim {
    /// Virtual time now.
    fn now(&self) -> SimTime;
    /// Participants.
    fn nodes(&self) -> u32;
    /// Participants plus service replicas.
    fn total_nodes(&self) -> u32;
    /// What `node` believes about itself ([`NodeStatus::DOWN`] when crashed).
    fn status(&self, node: NodeId) -> NodeStatus;
    /// Whether `node` is paused.
    fn is_paused(&self, node: NodeId) -> bool;
    /// The elected leader, if the cluster is in the elected state.
    fn current_leader(&self) -> Option<NodeId>;
    /// Process every event before `t`, then move the clock to `t`.
    fn run_until(&mut self, t: SimTime) -> Result<(), SimError>;
    /// Apply a fault now.
    fn apply_fault(&mut self, action: FaultAction);
    /// Metrics so far, closing open intervals at `now` (the simulation is left unchanged).
    fn metrics_now(&self) -> RunMetrics;
    /// End the run and return its outcome.
    fn finish(&mut self) -> Outcome;
    /// Invariant violations so far.
    fn violations(&self) -> Vec<crate::sim::invariants::Violation>;
    /// Held mode: the waiting messages as `(from, to, message as {:?})`, oldest first.
    fn held_messages(&self) -> Vec<(NodeId, NodeId, String)>;
    /// Held mode: a live node's pending timers as `(key as {:?}, deadline)`.
    fn held_timers(&self, node: NodeId) -> Vec<(String, SimTime)>;
    /// Held mode: release the oldest message `from -> to` whose `{:?}` text is `msg`
    /// (whitespace-insensitive). False when there is none.
    fn release_held(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: &str,
        how: crate::sim::Release,
    ) -> bool;
    /// Held mode: fire the timer of `node` whose key's `{:?}` text is `timer`.
    fn fire_held(&mut self, node: NodeId, timer: &str) -> bool;
}

impl<P: crate::sim::Protocol> DynSim for Sim<P> {
    fn now(&self) -> SimTime {
        Sim::now(self)
    }
    fn nodes(&self) -> u32 {
        Sim::nodes(self)
    }
    fn total_nodes(&self) -> u32 {
        Sim::total_nodes(self)
    }
    fn status(&self, node: NodeId) -> NodeStatus {
        Sim::status(self, node)
    }
    fn is_paused(&self, node: NodeId) -> bool {
        Sim::is_paused(self, node)
    }
    fn current_leader(&self) -> Option<NodeId> {
        Sim::current_leader(self)
    }
    fn run_until(&mut self, t: SimTime) -> Result<(), SimError> {
        Sim::run_until(self, t)
    }
    fn apply_fault(&mut self, action: FaultAction) {
        Sim::apply_fault(self, action)
    }
    fn metrics_now(&self) -> RunMetrics {
        Sim::metrics_now(self)
    }
    fn finish(&mut self) -> Outcome {
        Sim::finish(self)
    }
    fn violations(&self) -> Vec<crate::sim::invariants::Violation> {
        Sim::violations(self).to_vec()
    }
    fn held_messages(&self) -> Vec<(NodeId, NodeId, String)> {
        Sim::held_messages(self)
            .into_iter()
            .map(|(f, t, m)| (f, t, format!("{m:?}")))
            .collect()
    }
    fn held_timers(&self, node: NodeId) -> Vec<(String, SimTime)> {
        Sim::held_timers(self, node)
            .into_iter()
            .map(|(k, d)| (format!("{k:?}"), d))
            .collect()
    }
    fn release_held(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: &str,
        how: crate::sim::Release,
    ) -> bool {
        let want = squash(msg);
        Sim::release_held(self, from, to, |m| squash(&format!("{m:?}")) == want, how)
    }
    fn fire_held(&mut self, node: NodeId, timer: &str) -> bool {
        let want = squash(timer);
        Sim::fire_held(self, node, |k| squash(&format!("{k:?}")) == want)
    }
}

/// Whitespace-normalised text, for matching `{:?}` renderings written into scripts.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
