//! The scenario file as written: serde types with `deny_unknown_fields`, every field
//! optional so that defaults and semantic checks live in one place (`validate`).

use crate::sim::SimDuration;
use serde::Deserialize;

/// The root of a scenario file, without the algorithms' tables: each registered algorithm
/// reads its own tables (see [`crate::plugin::Algorithm::TABLES`]), and they are taken out
/// of the document before this type sees it, so `deny_unknown_fields` still catches typos.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `name`: the scenario name used in output paths and reports.
    pub name: Option<String>,
    /// `description`: free text.
    pub description: Option<String>,
    /// A registered algorithm's name, resolved against the registry when validated.
    pub algorithm: Option<String>,
    /// `nodes`: cluster size (default 5); signed so that an out-of-range value is reported
    /// as a field error rather than a parse error.
    pub nodes: Option<i64>,
    /// `duration`: virtual run length, required.
    pub duration: Option<SimDuration>,
    /// A u64: an integer, or a string of digits for values above TOML's integer limit.
    #[serde(default, deserialize_with = "de_seed")]
    pub seed: Option<u64>,
    /// `runs`: replications per sweep point, positive.
    pub runs: Option<i64>,
    /// `max_events`: see [`super::Scenario::max_events`].
    pub max_events: Option<i64>,
    /// `max_in_flight`: see [`super::Scenario::max_in_flight`].
    pub max_in_flight: Option<i64>,
    /// Sweep axes: every leaf is a dotted key with a list of values.
    pub sweep: Option<toml::Table>,
    /// `[[variant]]`: named variants, the values of the `variant` sweep axis (read by
    /// [`super::ScenarioFile::variants`]; any scenario keys besides `name`).
    #[serde(rename = "variant")]
    pub variants: Option<Vec<toml::Table>>,
    /// `[network]`: default link model and per-link overrides.
    pub network: Option<RawNetwork>,
    /// `[storage]`: durable-write latency and mode.
    pub storage: Option<RawStorage>,
    /// `[cpu]`: handler processing cost.
    pub cpu: Option<RawCpu>,
    /// `[[clock]]`: initial clocks of particular nodes.
    #[serde(rename = "clock")]
    pub clocks: Option<Vec<RawClock>>,
    /// `[[fault]]`: scripted faults.
    #[serde(rename = "fault")]
    pub faults: Option<Vec<RawFault>>,
    /// `[[random_fault]]`: Poisson fault processes.
    #[serde(rename = "random_fault")]
    pub random_faults: Option<Vec<RawRandomFault>>,
}

/// The root keys [`RawScenario`] knows, read from its serde derive (so a field added to it
/// is known here without a second list to keep in step).
pub fn root_keys() -> &'static [&'static str] {
    /// A deserializer that records the field names serde asks `deserialize_struct` for.
    struct Fields(std::cell::Cell<&'static [&'static str]>);
    impl<'de> serde::Deserializer<'de> for &Fields {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("fields recorded"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.set(fields);
            Err(serde::de::Error::custom("fields recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    static KEYS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let f = Fields(std::cell::Cell::new(&[]));
        let _ = RawScenario::deserialize(&f);
        f.0.get()
    })
}

/// `delay = { uniform = ["1ms", "10ms"] }` and friends.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawDelay {
    /// `{ constant = "5ms" }`.
    Constant(SimDuration),
    /// `{ uniform = [min, max] }`.
    Uniform([SimDuration; 2]),
    /// `{ normal = { mean, sd } }`, truncated at zero.
    Normal {
        /// Mean of the normal law.
        mean: SimDuration,
        /// Standard deviation of the normal law.
        sd: SimDuration,
    },
    /// `{ exponential = { floor, mean } }`: `floor + Exp(mean)`.
    Exponential {
        /// Minimum delay.
        floor: SimDuration,
        /// Mean of the exponential part above the floor.
        mean: SimDuration,
    },
    /// `{ lognormal = { median, sigma } }`.
    Lognormal {
        /// Median delay.
        median: SimDuration,
        /// Shape (standard deviation of the underlying normal).
        sigma: f64,
    },
}

/// `[network]`: the default link model and per-link overrides.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// One-way delay law of every link.
    pub delay: Option<RawDelay>,
    /// Loss probability in `[0, 1]`.
    pub loss: Option<f64>,
    /// Duplication probability in `[0, 1]`.
    pub duplicate: Option<f64>,
    /// `[[network.link]]` overrides.
    #[serde(rename = "link")]
    pub links: Option<Vec<RawLink>>,
}

/// A per-link override (`[[network.link]]`), directed `from -> to`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    /// Sending node id.
    pub from: Option<i64>,
    /// Receiving node id.
    pub to: Option<i64>,
    /// Also override `to -> from`. Default true.
    pub both_ways: Option<bool>,
    /// Delay law of the link (default: the network's).
    pub delay: Option<RawDelay>,
    /// Loss probability of the link (default: the network's).
    pub loss: Option<f64>,
    /// Duplication probability of the link (default: the network's).
    pub duplicate: Option<f64>,
}

/// `[storage]`: durable-write latency of every node.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    /// Shorthand for `write = { constant = ... }`.
    pub fsync: Option<SimDuration>,
    /// Write latency law (exclusive with `fsync`).
    pub write: Option<RawDelay>,
    /// `"overlapped"` or `"blocking"`.
    pub mode: Option<String>,
    /// `[[storage.node]]`: per-node write latency overrides.
    #[serde(rename = "node")]
    pub nodes: Option<Vec<RawStorageNode>>,
}

/// `[[storage.node]]`: one node's write latency.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorageNode {
    /// The node id.
    pub node: Option<i64>,
    /// Its write latency law.
    pub write: Option<RawDelay>,
}

/// `[cpu]`: processing cost per handler invocation.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCpu {
    /// CPU time of one handler invocation.
    pub handler: Option<RawDelay>,
}

/// `[[clock]]`: one node's initial clock.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClock {
    /// The participant id.
    pub node: Option<i64>,
    /// Clock drift in parts per million (positive: fast).
    pub drift_ppm: Option<f64>,
    /// Initial offset of the local clock from virtual time.
    pub offset: Option<SimDuration>,
}

/// `partition = ...`: explicit node groups, or a share of the participants that scales with
/// the cluster size.
#[derive(Clone, Debug, PartialEq)]
pub enum RawPartition {
    /// `[[0, 1], [2, 3, 4]]`: the groups by node id.
    Groups(Vec<Vec<i64>>),
    /// `{ minority = 0.4, ids = "highest" }`: that share of the participants (rounded down,
    /// at least one, always fewer than half) cut off from the rest.
    Share(RawShare),
}

/// The table form of `partition`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShare {
    /// Fraction of the participants in the minority, in (0, 0.5).
    pub minority: f64,
    /// Which ids form the minority: "lowest" (default), "highest" or "leader".
    pub ids: Option<String>,
    /// Where the coordination-service replicas go: "majority" (default), "minority" or
    /// "isolated".
    pub service: Option<String>,
}

impl<'de> Deserialize<'de> for RawPartition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawPartition;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "node groups such as [[0, 1]] or a share such as { minority = 0.4, ids = \"highest\" }",
                )
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<RawPartition, A::Error> {
                Vec::<Vec<i64>>::deserialize(serde::de::value::SeqAccessDeserializer::new(a))
                    .map(RawPartition::Groups)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<RawPartition, A::Error> {
                RawShare::deserialize(serde::de::value::MapAccessDeserializer::new(a))
                    .map(RawPartition::Share)
            }
        }
        d.deserialize_any(V)
    }
}

/// A fault target: a node id, `"leader"` or `"random"`.
#[derive(Clone, Debug, PartialEq)]
pub enum RawTarget {
    /// A node id, range-checked by validation.
    Node(i64),
    /// `"leader"` or `"random"` (anything else is rejected by validation).
    Name(String),
}

impl<'de> Deserialize<'de> for RawTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawTarget;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a node id, \"leader\" or \"random\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawTarget, E> {
                Ok(RawTarget::Node(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawTarget, E> {
                Ok(RawTarget::Node(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawTarget, E> {
                Ok(RawTarget::Name(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[[fault]]`: exactly one action key plus its companions and the timing keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// Virtual time of the first occurrence.
    pub at: Option<SimDuration>,
    /// Random extra delay in `[0, jitter]` per occurrence.
    pub jitter: Option<SimDuration>,
    /// Repetition period.
    pub every: Option<SimDuration>,
    /// Repetitions stop before this time.
    pub until: Option<SimDuration>,
    /// Action: crash this target.
    pub crash: Option<RawTarget>,
    /// With `crash`: restart after this downtime.
    pub restart_after: Option<SimDuration>,
    /// Action: restart this target.
    pub restart: Option<RawTarget>,
    /// Action: pause this target (needs `duration`).
    pub pause: Option<RawTarget>,
    /// With `pause`: how long the node stops.
    pub duration: Option<SimDuration>,
    /// Action: split the network.
    pub partition: Option<RawPartition>,
    /// With `partition`, `cut` or `isolate`: heal this fault alone after this time.
    pub heal_after: Option<SimDuration>,
    /// Action: cut the directed link `[from, to]`.
    pub cut: Option<Vec<RawTarget>>,
    /// Action: cut every link of this target.
    pub isolate: Option<RawTarget>,
    /// Action: heal every network fault (must be `true`).
    pub heal: Option<bool>,
    /// Action: set the loss probability of every link.
    pub set_loss: Option<f64>,
    /// Action: set the delay law of every link.
    pub set_delay: Option<RawDelay>,
    /// Action: change this target's clock (with `drift_ppm` and/or `offset`).
    pub clock_drift: Option<RawTarget>,
    /// With `clock_drift`: new drift in ppm.
    pub drift_ppm: Option<f64>,
    /// With `clock_drift`: step added to the clock offset.
    pub offset: Option<SimDuration>,
}

/// `[[random_fault]]`: a Poisson fault process.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRandomFault {
    /// `"crash"`, `"partition"` or `"pause"`.
    pub kind: Option<String>,
    /// Mean occurrences per second of virtual time.
    pub rate_per_s: Option<f64>,
    /// Mean downtime / partition length / pause length (exponential; default 1s).
    pub mean_duration: Option<SimDuration>,
}

/// The largest integer a TOML file can hold; larger seeds are written as strings.
pub const TOML_INT_MAX: u64 = i64::MAX as u64;

/// Deserialize a seed: any u64, as a TOML integer (up to [`TOML_INT_MAX`]) or as a decimal
/// string (`seed = "18446744073709551615"`), so every u64 seed can live in a file.
fn de_seed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    const WANT: &str = "a seed: an integer from 0 to 18446744073709551615 (as a string above 9223372036854775807, e.g. \"18446744073709551615\")";
    impl serde::de::Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(WANT)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("invalid seed {v}, expected {WANT}")))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("invalid seed \"{v}\", expected {WANT}")))
        }
    }
    d.deserialize_any(V).map(Some)
}
