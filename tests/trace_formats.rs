//! Each trace format parses back (JSON via serde_json; ShiViz via a hand-written matcher of
//! its regex, so no regex dependency) and its event counts agree with the run's metrics.

use electsim::report::timeline::{Timeline, render_png, render_svg};
use electsim::report::trace::{Event, Recorder, Recording, TraceMeta, jsonl, perfetto, shiviz};
use electsim::runner;
use electsim::scenario::{Assignment, ScenarioFile};
use electsim::sim::{DropReason, Outcome};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Partition scenario plus a crash, a pause, loss and an isolated leader (split brain), 12 s.
fn recorded() -> (Outcome, Recording, TraceMeta) {
    let file = ScenarioFile::read(Path::new("scenarios/raft-partition.toml")).unwrap();
    let mut text = file.text.clone();
    text.push_str(
        "\n[[fault]]\nat = \"1s\"\ncrash = \"leader\"\nrestart_after = \"300ms\"\n\
         \n[[fault]]\nat = \"9s\"\npause = 2\nduration = \"700ms\"\n\
         \n[[fault]]\nat = \"10s\"\nset_loss = 0.2\n\
         \n[[fault]]\nat = \"10.5s\"\nisolate = \"leader\"\nheal_after = \"1s\"\n",
    );
    let file = ScenarioFile::from_text(Path::new("inline.toml"), text).unwrap();
    let sc = file
        .instantiate(&[Assignment::parse_set("duration=12s").unwrap()])
        .unwrap();
    let rec = Recorder::with_limit(1_000_000);
    let outcome = runner::run(&sc, 5, vec![rec.observer()]).unwrap();
    let meta = TraceMeta {
        scenario: sc.name.clone(),
        algorithm: "raft".into(),
        nodes: sc.nodes,
        seed: 5,
    };
    (outcome, rec.take(), meta)
}

fn count(rec: &Recording, f: impl Fn(&Event) -> bool) -> u64 {
    rec.records.iter().filter(|r| f(&r.event)).count() as u64
}

#[test]
fn recording_counts_match_metrics() {
    let (o, rec, _) = recorded();
    assert!(!rec.truncated());
    assert_eq!(
        count(&rec, |e| matches!(e, Event::Send { .. })),
        o.metrics.messages_sent
    );
    assert_eq!(
        count(&rec, |e| matches!(e, Event::Deliver { .. })),
        o.metrics.messages_delivered
    );
    assert_eq!(
        count(&rec, |e| matches!(e, Event::Drop { .. })),
        o.metrics.messages_dropped
    );
    assert!(
        o.metrics.messages_dropped > 0 && o.metrics.split_brain_incidents > 0,
        "the run exercises drops and split brain"
    );
}

#[test]
fn jsonl_parses_with_documented_fields() {
    let (o, rec, _) = recorded();
    let text = jsonl::render(&rec);
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_time = 0;
    for (i, line) in text.lines().enumerate() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {i}: {e}: {line}"));
        assert_eq!(v["seq"], i as u64, "line {i}");
        let t = v["time_ns"].as_u64().unwrap();
        assert!(t >= last_time, "line {i}: time goes backwards");
        last_time = t;
        let kind = v["kind"].as_str().unwrap().to_string();
        match kind.as_str() {
            "send" | "deliver" | "drop" => {
                for f in [
                    "node",
                    "msg_id",
                    "msg_type",
                    "msg_class",
                    "from",
                    "to",
                    "term",
                ] {
                    assert!(!v[f].is_null(), "line {i}: {kind} without {f}: {line}");
                }
                if kind == "drop" {
                    assert!(
                        ["loss", "link_down", "receiver_down"]
                            .contains(&v["reason"].as_str().unwrap())
                    );
                }
            }
            "status" => {
                for f in ["role", "term", "leader", "voted_for"] {
                    assert!(
                        v["new"].get(f).is_some() && v["old"].get(f).is_some(),
                        "line {i}: status without {f}"
                    );
                }
            }
            "timer" => assert!(v["timer"].is_string()),
            "fault" => assert!(
                v["fault"].is_string() && (v["action"].is_object() || v["action"].is_string())
            ),
            "resume" => assert!(v["node"].is_u64()),
            "end" => assert_eq!(i + 1, rec.records.len(), "end is the last event"),
            other => panic!("line {i}: unknown kind {other}"),
        }
        *kinds.entry(kind).or_default() += 1;
    }
    assert_eq!(kinds["send"], o.metrics.messages_sent);
    assert_eq!(kinds["deliver"], o.metrics.messages_delivered);
    assert_eq!(kinds["drop"], o.metrics.messages_dropped);
    assert_eq!(kinds["end"], 1);
    assert_eq!(kinds["resume"], 1);
}

#[test]
fn jsonl_marks_truncation() {
    let (_, rec, _) = recorded();
    let mut short = rec.clone();
    short.records.truncate(10);
    short.limit = 10;
    let text = jsonl::render(&short);
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(text.lines().count(), 11);
    assert_eq!(last["kind"], "truncated");
    assert_eq!(last["seen"], rec.seen);
}

/// Nanoseconds from a µs JSON number.
fn ns(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 1000.0).round() as i64
}

#[test]
fn perfetto_parses_nests_and_counts() {
    let (o, rec, meta) = recorded();
    let doc: Value = serde_json::from_str(&perfetto::render(&rec, &meta)).unwrap();
    assert_eq!(doc["displayTimeUnit"], "ns");
    let evs = doc["traceEvents"].as_array().unwrap();
    let names: BTreeMap<u64, String> = evs
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Five node tracks and the split-brain track after them.
    assert_eq!(names.len(), 6);
    for n in 0..5u64 {
        assert_eq!(names[&n], format!("node {n}"));
    }
    assert_eq!(names[&5], "split brain");
    // X slices must nest per tid (Perfetto moves overlapping ones to an overflow track).
    let mut slices: BTreeMap<u64, Vec<(i64, i64, String)>> = BTreeMap::new();
    for e in evs.iter().filter(|e| e["ph"] == "X") {
        let s = ns(&e["ts"]);
        slices.entry(e["tid"].as_u64().unwrap()).or_default().push((
            s,
            s + ns(&e["dur"]),
            e["name"].to_string(),
        ));
    }
    for (tid, mut v) in slices {
        v.sort_by_key(|&(s, e, _)| (s, -e));
        let mut stack: Vec<(i64, i64, String)> = Vec::new();
        for x in v {
            while stack.last().is_some_and(|top| top.1 <= x.0) {
                stack.pop();
            }
            if let Some(top) = stack.last() {
                assert!(
                    x.1 <= top.1,
                    "tid {tid}: slice {x:?} overlaps {top:?} without nesting"
                );
            }
            stack.push(x);
        }
    }
    let roles: Vec<&Value> = evs
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "role")
        .collect();
    assert!(
        roles.iter().any(|e| e["name"] == "leader") && roles.iter().any(|e| e["name"] == "down")
    );
    let sends: u64 = evs
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "handler")
        .flat_map(|e| e["args"]["events"].as_array().unwrap())
        .filter(|s| s.as_str().unwrap().starts_with("send "))
        .count() as u64;
    assert_eq!(sends, o.metrics.messages_sent);
    let flow = |ph: &str| evs.iter().filter(|e| e["ph"] == ph).count() as u64;
    assert_eq!(flow("s"), o.metrics.messages_delivered);
    assert_eq!(flow("f"), o.metrics.messages_delivered);
    let faults = count(&rec, |e| {
        matches!(e, Event::Fault { .. } | Event::Resume { .. })
    });
    let late_drops = rec
        .records
        .iter()
        .filter(|r| {
            matches!(
                r.event,
                Event::Drop {
                    reason: DropReason::ReceiverDown,
                    ..
                }
            )
        })
        .count() as u64;
    let instants = evs.iter().filter(|e| e["ph"] == "i").count() as u64;
    assert!(
        instants >= faults + late_drops,
        "{instants} instants for {faults} faults"
    );
    assert_eq!(
        evs.iter()
            .filter(|e| e["ph"] == "i" && e["cat"] == "fault")
            .count() as u64,
        faults
    );
}

/// `(?<host>\S+) (?<clock>\{.*\}) t=(?<timestamp>\d+)ns (?<event>.*)` by hand: the greedy
/// `\{.*\}` takes the last `}` after which the rest still matches.
fn shiviz_match(line: &str) -> Option<(&str, &str, u64, &str)> {
    let (host, rest) = line.split_once(' ')?;
    if host.is_empty() || host.chars().any(char::is_whitespace) || !rest.starts_with('{') {
        return None;
    }
    for (i, _) in rest
        .match_indices('}')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let Some(t) = rest[i + 1..].strip_prefix(" t=") else {
            continue;
        };
        let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        if digits > 0
            && let Some(event) = t[digits..].strip_prefix("ns ")
        {
            return Some((host, &rest[..=i], t[..digits].parse().ok()?, event));
        }
    }
    None
}

#[test]
fn shiviz_matcher_rejects_what_the_regex_rejects() {
    assert!(shiviz_match(r#"node1 {"node1":1} t=5ns recv x"#).is_some());
    assert!(shiviz_match(r#"node1 {"node1":1} t=5s recv x"#).is_none());
    assert!(shiviz_match(r#"node1 "node1":1 t=5ns recv x"#).is_none());
    assert!(shiviz_match(r#" {"node1":1} t=5ns recv x"#).is_none());
}

#[test]
fn shiviz_log_obeys_the_regex_and_vector_clock_rules() {
    let (o, rec, meta) = recorded();
    let text = shiviz::render(&rec, &meta);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(shiviz::REGEX));
    assert_eq!(
        lines.next(),
        Some(""),
        "line 2: empty multi-execution delimiter"
    );
    let mut per_host: BTreeMap<String, Vec<BTreeMap<String, u64>>> = BTreeMap::new();
    let mut all: Vec<(String, BTreeMap<String, u64>)> = Vec::new();
    let (mut sends, mut recvs) = (0u64, 0u64);
    for (i, line) in lines.enumerate() {
        let (host, clock, _t, event) =
            shiviz_match(line).unwrap_or_else(|| panic!("log line {i} does not match: {line}"));
        let clock: BTreeMap<String, u64> =
            serde_json::from_str(clock).unwrap_or_else(|e| panic!("line {i}: clock: {e}"));
        let mine = per_host.entry(host.to_string()).or_default();
        assert_eq!(
            clock.get(host).copied(),
            Some(mine.len() as u64 + 1),
            "line {i}: own clock must step by exactly 1"
        );
        if let Some(prev) = mine.last() {
            for (h, v) in prev {
                assert!(
                    clock.get(h).copied().unwrap_or(0) >= *v,
                    "line {i}: clock went backwards for {h}"
                );
            }
        }
        assert!(
            clock.values().all(|&v| v >= 1),
            "line {i}: zero entries are left out"
        );
        mine.push(clock.clone());
        sends += u64::from(event.starts_with("send "));
        recvs += u64::from(event.starts_with("recv "));
        all.push((host.to_string(), clock));
    }
    // Other entries name hosts with log lines, within their event count, and are causally
    // consistent: knowing host j's v-th event means knowing all j knew then.
    for (i, (host, clock)) in all.iter().enumerate() {
        for (j, &v) in clock.iter().filter(|(j, _)| *j != host) {
            let theirs = per_host
                .get(j)
                .unwrap_or_else(|| panic!("line {i}: {j} has no log lines"));
            assert!(
                v as usize <= theirs.len(),
                "line {i}: {j}={v} beyond its {} events",
                theirs.len()
            );
            for (k, &w) in &theirs[v as usize - 1] {
                assert!(
                    clock.get(k).copied().unwrap_or(0) >= w,
                    "line {i}: impermissible clock ({j}@{v} knew {k}={w})"
                );
            }
        }
    }
    assert_eq!(sends, o.metrics.messages_sent);
    assert_eq!(recvs, o.metrics.messages_delivered);
    assert!(
        per_host.contains_key("net"),
        "network faults are logged on host `net`"
    );
}

#[test]
fn timeline_shows_split_brain_pauses_and_crashes() {
    let (o, rec, meta) = recorded();
    let tl = Timeline::from_recording(&rec, meta.nodes);
    let split_ms: f64 = tl
        .split_brain
        .iter()
        .map(|(s, e)| (e - s) as f64 / 1e6)
        .sum();
    assert!(
        (split_ms - o.metrics.split_brain_ms).abs() < 1e-6,
        "{split_ms} vs {}",
        o.metrics.split_brain_ms
    );
    assert_eq!(tl.split_brain.len() as u64, o.metrics.split_brain_incidents);
    assert_eq!(tl.pauses.len(), 1);
    assert_eq!(tl.crashes.len(), 1);
    assert_eq!(
        tl.link_faults.len(),
        2,
        "the partition, then the isolated leader"
    );
    assert!(tl.elections.len() >= 2);
    // Role bars tile every node's row from 0 to the end.
    for n in 0..meta.nodes {
        let mut bars: Vec<(u64, u64)> = tl
            .roles
            .iter()
            .filter(|r| r.0 == n)
            .map(|r| (r.1, r.2))
            .collect();
        bars.sort();
        assert_eq!(bars.first().unwrap().0, 0);
        assert_eq!(bars.last().unwrap().1, tl.end_ns);
        assert!(
            bars.windows(2).all(|w| w[0].1 == w[1].0),
            "node {n}: gaps in the role bars"
        );
    }
    let svg = render_svg(&tl, &meta).unwrap();
    for label in [
        "node 0",
        "node 4",
        "virtual time (s)",
        "leader",
        "split brain",
        "paused",
    ] {
        assert!(svg.contains(label), "SVG lacks `{label}`");
    }
    let png = render_png(&tl, &meta).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
