//! Virtual time: integer nanoseconds, never floats, so the event order is exact.

use std::fmt;
use std::ops::{Add, Sub};

/// A point in virtual (global) time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any event (an "never" deadline).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Milliseconds since the start of the run (fractional).
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// `self - earlier`, or zero when `earlier` is later (never underflows).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time.
    pub const ZERO: SimDuration = SimDuration(0);

    /// `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// `us` microseconds (saturating).
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us.saturating_mul(1_000))
    }
    /// `ms` milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(1_000_000))
    }
    /// `s` seconds (saturating).
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(1_000_000_000))
    }
    /// Length in nanoseconds.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Length in milliseconds (fractional).
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Length in seconds (fractional).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Parse a human duration such as `150ms`, `2s` or `1m 30s`; a bare number is an error
    /// because a unit-less duration is ambiguous.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(format!("`{text}` is negative; durations must be >= 0"));
        }
        match humantime::parse_duration(trimmed) {
            Ok(d) => u64::try_from(d.as_nanos())
                .map(SimDuration)
                .map_err(|_| format!("`{text}` is too long (limit ~584 years)")),
            Err(e) => Err(format!(
                "`{text}` is not a duration ({e}); write a number with a unit, e.g. \"150ms\", \"2s\", \"1m 30s\""
            )),
        }
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturating: a time past the end of the u64 range is "never".
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_ns(self.0, f)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_ns(self.0, f)
    }
}

/// Shortest exact rendering: one unit when three decimals of the largest unit are exact
/// (`1.5s`, `150ms`, `3us`, `7ns`), else a compound that people can read and
/// [`SimDuration::parse`] reads back (`1s 1ms 597us 432ns`, not `1001597.432us`).
fn format_ns(ns: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return write!(f, "0s");
    }
    let (scale, unit) = UNITS
        .into_iter()
        .find(|(scale, _)| ns >= *scale)
        .expect("ns >= 1");
    if ns.is_multiple_of(scale) {
        return write!(f, "{}{unit}", ns / scale);
    }
    if (u128::from(ns) * 1000).is_multiple_of(u128::from(scale)) {
        let digits = scale.ilog10() as usize;
        let frac_str = format!("{:0digits$}", ns % scale);
        return write!(f, "{}.{}{unit}", ns / scale, frac_str.trim_end_matches('0'));
    }
    let mut rest = ns;
    let mut first = true;
    for (scale, unit) in UNITS {
        let part = rest / scale;
        rest %= scale;
        if part > 0 {
            write!(f, "{}{part}{unit}", if first { "" } else { " " })?;
            first = false;
        }
    }
    Ok(())
}

/// A node's local clock, piecewise linear in global time:
/// `local(t) = t + offset + (t - anchor) * drift` for `t >= anchor`, where `anchor` is the
/// global time of the last rate change (0 for a clock configured from the start).
///
/// Timers a protocol sets are measured on its local clock, so a fast clock fires early in
/// global time. This is what makes lease-based leadership unsafe under drift. A rate change
/// ([`LocalClock::set_drift_at`]) is continuous: the reading at the instant of the change is
/// kept, so changing the rate never makes the clock jump; only an explicit offset steps it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LocalClock {
    /// Offset of the local clock from global time at `anchor_ns`, in nanoseconds.
    pub offset_ns: i64,
    /// Rate error in parts per million (positive: the local clock runs fast).
    pub drift_ppm: f64,
    /// Global time (ns) from which `drift_ppm` applies.
    anchor_ns: u64,
}

impl LocalClock {
    /// A clock that has had `offset_ns` and `drift_ppm` since t = 0.
    pub fn new(offset_ns: i64, drift_ppm: f64) -> Self {
        LocalClock {
            offset_ns,
            drift_ppm,
            anchor_ns: 0,
        }
    }

    /// Unsaturated reading at global time `t`, in nanoseconds.
    fn reading_ns(&self, t: SimTime) -> f64 {
        let since_anchor = t.0 as f64 - self.anchor_ns as f64;
        t.0 as f64 + self.offset_ns as f64 + since_anchor * self.drift_ppm * 1e-6
    }

    /// The node's reading of its own clock at global time `t` (saturating at 0).
    #[inline]
    pub fn local_at(&self, t: SimTime) -> SimTime {
        // A perfect clock reads global time; below 2^53 ns (104 days) the float path below
        // is exact and gives the same value, so this shortcut changes nothing.
        if self.offset_ns == 0 && self.drift_ppm == 0.0 && t.0 < 1 << 53 {
            return t;
        }
        let v = self.reading_ns(t);
        if v <= 0.0 {
            SimTime(0)
        } else if v >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(v as u64)
        }
    }

    /// Change the rate to `drift_ppm` at global time `at`, keeping the reading continuous,
    /// then step it forward by `step_ns` (may be negative).
    pub fn set_drift_at(&mut self, at: SimTime, drift_ppm: f64, step_ns: i64) {
        let reading = self.reading_ns(at);
        let offset = (reading - at.0 as f64).round();
        let offset = offset.clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        self.offset_ns = offset.saturating_add(step_ns);
        self.drift_ppm = drift_ppm;
        self.anchor_ns = at.0;
    }

    /// Global time that passes while this clock advances by `local`.
    pub fn global_span(&self, local: SimDuration) -> SimDuration {
        if self.drift_ppm == 0.0 {
            return local;
        }
        let rate = 1.0 + self.drift_ppm * 1e-6;
        let v = local.0 as f64 / rate;
        if v >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration(v.max(0.0).round() as u64)
        }
    }
}

/// Serialized as the human form (`"150ms"`), the same form scenario files use.
impl serde::Serialize for SimDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for SimTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parsed from a human duration string (`"150ms"`); a bare number is rejected because its
/// unit would be a guess.
impl<'de> serde::Deserialize<'de> for SimDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, e.g. \"150ms\" or \"2s\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<SimDuration, E> {
                SimDuration::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_bare_numbers() {
        assert_eq!(
            SimDuration::parse("150ms").unwrap(),
            SimDuration::from_millis(150)
        );
        assert_eq!(
            SimDuration::parse("1m 30s").unwrap(),
            SimDuration::from_secs(90)
        );
        assert!(SimDuration::parse("150").unwrap_err().contains("unit"));
        assert!(SimDuration::parse("-5ms").unwrap_err().contains("negative"));
    }

    #[test]
    fn displays_round_trip() {
        for text in [
            "150ms",
            "2s",
            "1.5s",
            "3us",
            "7ns",
            "0s",
            "12.345ms",
            "1s 1ms 597us 432ns",
            "90s 5ns",
        ] {
            let d = SimDuration::parse(text).unwrap();
            assert_eq!(d.to_string(), text);
        }
    }

    #[test]
    fn long_odd_durations_read_as_compounds() {
        // Issue 16 item 15: these used to print as 1001597.432us and 90000000.005us.
        assert_eq!(SimDuration(1_001_597_432).to_string(), "1s 1ms 597us 432ns");
        assert_eq!(SimDuration(90_000_000_005).to_string(), "90s 5ns");
        assert_eq!(SimDuration(1_500_001).to_string(), "1ms 500us 1ns");
    }

    #[test]
    fn drifting_clock_shortens_global_span() {
        let fast = LocalClock::new(0, 100_000.0); // 10% fast
        let g = fast.global_span(SimDuration::from_millis(110));
        assert_eq!(g, SimDuration::from_millis(100));
        assert_eq!(
            fast.local_at(SimTime(1_000_000_000)),
            SimTime(1_100_000_000)
        );
    }

    /// Issue 12 defect 1: a rate change at 20 s must not step the reading by 20 s x drift.
    #[test]
    fn rate_change_keeps_the_reading_continuous() {
        let mut c = LocalClock::default();
        let t0 = SimTime(20_000_000_000);
        c.set_drift_at(t0, 150_000.0, 0);
        assert_eq!(c.local_at(t0), t0, "no jump at the change");
        // 1 s later the clock has run 15 % fast: 1.15 s of local time, not 1.15 + 3 s.
        assert_eq!(c.local_at(SimTime(21_000_000_000)), SimTime(21_150_000_000));
        // A second change keeps the drifted reading and then steps it by the offset.
        c.set_drift_at(SimTime(21_000_000_000), 0.0, 5_000_000);
        assert_eq!(
            c.local_at(SimTime(22_000_000_000)),
            SimTime(22_155_000_000),
            "21.15 s + 5 ms step + 1 s at the true rate"
        );
    }

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(SimTime::MAX + SimDuration(5), SimTime::MAX);
        assert_eq!(SimTime(3) - SimTime(10), SimDuration::ZERO);
    }
}
