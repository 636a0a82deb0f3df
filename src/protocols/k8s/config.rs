//! The `[k8s]` scenario table: client-go's `LeaderElectionConfig` timings, their defaults and
//! the checks `NewLeaderElector` makes.

use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::protocols::coordinator::{RecipeConfig, SERVICE_PARAMS, ServiceConfig};
use crate::sim::{Delay, SimDuration};

/// client-go's `JitterFactor` (1.2), in thousandths.
pub const CLIENT_GO_JITTER_PERMILLE: u32 = 1200;
/// Largest accepted `jitter_factor`, in thousandths.
pub const MAX_JITTER_PERMILLE: u32 = 10_000;

/// Lease-lock election options (scenario table `[k8s]`).
#[derive(Clone, Debug, PartialEq)]
pub struct K8sConfig {
    /// `LeaseDuration`: how long, on their own clocks, non-leaders wait after observing the
    /// last change of the Lease before they take it over. Default 15s (client-go's).
    pub lease_duration: SimDuration,
    /// `RenewDeadline`: how long, on its own clock, the leader keeps retrying a renewal
    /// round before it stops leading. Default 10s.
    pub renew_deadline: SimDuration,
    /// `RetryPeriod`: the leader's renewal interval and the others' polling interval.
    /// Default 2s.
    pub retry_period: SimDuration,
    /// The non-leaders' poll jitter in thousandths of `retry_period`: each wait is uniform
    /// in `[retry_period, retry_period * (1 + jitter))` (client-go's `wait.Jitter`).
    /// Default 1200 (client-go's `JitterFactor` 1.2); 0 turns jitter off.
    pub jitter_permille: u32,
    /// The coordination service (the `[service]` table) standing in for the API server.
    pub service: ServiceConfig,
}

impl Default for K8sConfig {
    fn default() -> Self {
        K8sConfig {
            lease_duration: SimDuration::from_secs(15),
            renew_deadline: SimDuration::from_secs(10),
            retry_period: SimDuration::from_secs(2),
            jitter_permille: CLIENT_GO_JITTER_PERMILLE,
            service: ServiceConfig::default(),
        }
    }
}

impl K8sConfig {
    /// What the shared service replicas read (no sessions, watches or fencing are used).
    pub fn recipe(&self) -> RecipeConfig {
        RecipeConfig {
            ttl: self.lease_duration,
            ping_interval: self.retry_period,
            herd: false,
            client_deadline: false,
            fencing: false,
            action_interval: self.retry_period,
        }
    }

    /// `retry_period * jitter_factor`, rounded down to a nanosecond.
    pub fn jitter_span(&self) -> SimDuration {
        let ns = u128::from(self.retry_period.0) * u128::from(self.jitter_permille) / 1000;
        SimDuration(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// A non-leader's wait before its next attempt (client-go's `JitterUntil`, sliding).
    pub fn poll_delay(&self) -> Delay {
        if self.jitter_permille == 0 {
            return Delay::Fixed(self.retry_period);
        }
        Delay::Uniform {
            min: self.retry_period,
            max: self.retry_period + self.jitter_span(),
        }
    }
}

/// Parameters of the `[k8s]` table (and the shared `[service]` table).
pub const PARAMS: &[Param] = &[
    Param {
        key: "k8s.lease_duration",
        default: "\"15s\"",
        doc: "non-leaders take over this long (own clock) after the Lease last changed",
    },
    Param {
        key: "k8s.renew_deadline",
        default: "\"10s\"",
        doc: "the leader stops leading when a renewal round has not succeeded in this long",
    },
    Param {
        key: "k8s.retry_period",
        default: "\"2s\"",
        doc: "renewal interval of the leader and poll interval of the others",
    },
    Param {
        key: "k8s.jitter_factor",
        default: "1.2",
        doc: "polls wait uniform [retry, retry * (1 + factor)); client-go's JitterFactor",
    },
    SERVICE_PARAMS[0],
    SERVICE_PARAMS[1],
    SERVICE_PARAMS[2],
];

/// The `[k8s]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawK8s {
    /// `k8s.lease_duration`: see [`K8sConfig::lease_duration`].
    pub lease_duration: Option<SimDuration>,
    /// `k8s.renew_deadline`: see [`K8sConfig::renew_deadline`].
    pub renew_deadline: Option<SimDuration>,
    /// `k8s.retry_period`: see [`K8sConfig::retry_period`].
    pub retry_period: Option<SimDuration>,
    /// `k8s.jitter_factor`: client-go's `JitterFactor`, a fraction of `retry_period`
    /// (default 1.2; 0 turns jitter off), stored in thousandths as
    /// [`K8sConfig::jitter_permille`].
    pub jitter_factor: Option<f64>,
}

impl RawK8s {
    /// Apply defaults and check values as client-go's `NewLeaderElector` does
    /// (`lease_duration > renew_deadline > retry_period * jitter_factor`, all positive);
    /// field paths are relative to `[k8s]`.
    pub fn validate(&self, service: &ServiceConfig) -> Result<K8sConfig, FieldError> {
        let d = K8sConfig::default();
        let positive = |field: &str, v: Option<SimDuration>, default: SimDuration| {
            let v = v.unwrap_or(default);
            if v.0 == 0 {
                return Err(FieldError::new(
                    field,
                    format!("\"{v}\""),
                    "a positive duration",
                ));
            }
            Ok(v)
        };
        let lease_duration = positive("lease_duration", self.lease_duration, d.lease_duration)?;
        let renew_deadline = positive("renew_deadline", self.renew_deadline, d.renew_deadline)?;
        let retry_period = positive("retry_period", self.retry_period, d.retry_period)?;
        let factor = self.jitter_factor.unwrap_or(1.2);
        let max = f64::from(MAX_JITTER_PERMILLE) / 1000.0;
        if !factor.is_finite() || !(0.0..=max).contains(&factor) {
            return Err(FieldError::new(
                "jitter_factor",
                factor,
                format!("a number from 0 to {max} (client-go uses 1.2)"),
            ));
        }
        let cfg = K8sConfig {
            lease_duration,
            renew_deadline,
            retry_period,
            jitter_permille: (factor * 1000.0).round() as u32,
            service: service.clone(),
        };
        if lease_duration <= renew_deadline {
            return Err(FieldError::new(
                "lease_duration",
                format!("\"{lease_duration}\""),
                format!(
                    "a duration greater than renew_deadline (\"{renew_deadline}\"); \
                     the gap is the only tolerance for clock-rate error"
                ),
            ));
        }
        if renew_deadline <= cfg.jitter_span() {
            return Err(FieldError::new(
                "renew_deadline",
                format!("\"{renew_deadline}\""),
                format!(
                    "a duration greater than retry_period * jitter_factor (\"{}\")",
                    cfg.jitter_span()
                ),
            ));
        }
        Ok(cfg)
    }
}
