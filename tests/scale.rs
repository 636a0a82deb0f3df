//! Issue 15: start-up memory is bounded. These check counts that memory follows, never
//! wall time (speed is measured by `electsim bench` and `cargo bench`).

mod common;
use common::scenario_from_text;

use electsim::sim::{Observer, TraceEvent};
use std::cell::Cell;
use std::rc::Rc;

struct CountSends(Rc<Cell<u64>>);

impl Observer for CountSends {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        if matches!(ev, TraceEvent::Send { .. }) {
            self.0.set(self.0.get() + 1);
        }
    }
}

/// Bully's simultaneous start-up sends ~n^2/2 Elections. With `max_in_flight` the run must
/// fail with the limit error as soon as the limit is passed, not boot every node first
/// (10 000 nodes with a limit of 10^6 used 3 GB and 6.6 s before failing).
#[test]
fn in_flight_limit_bounds_start_up() {
    let nodes = 3000u64;
    let limit = 20_000u64;
    let text = format!(
        "algorithm = \"bully\"\nnodes = {nodes}\nduration = \"1s\"\nmax_in_flight = {limit}\n"
    );
    let sc = scenario_from_text(&text);
    let sends = Rc::new(Cell::new(0));
    let err = electsim::runner::run(&sc, 1, vec![Box::new(CountSends(sends.clone()))])
        .expect_err("the limit is far below Bully's start-up traffic");
    assert!(err.to_string().contains("max_in_flight"), "{err}");
    assert!(
        sends.get() <= limit + nodes,
        "{} messages sent before failing: booting went on past the limit",
        sends.get()
    );
}

/// Ring's per-node election state is sparse: 20 000 nodes boot and start passing tokens
/// (809 MB of per-node n-sized vectors before). One lap of 20 000 hops takes far longer than
/// the 1 s run, so there is no election yet.
#[test]
fn ring_starts_at_twenty_thousand_nodes() {
    let text = "algorithm = \"ring\"\nnodes = 20000\nduration = \"1s\"\n".to_string();
    let sc = scenario_from_text(&text);
    let o = electsim::runner::run(&sc, 1, Vec::new()).unwrap();
    assert_eq!(o.metrics.elections_started, 20_000, "every node initiates");
    assert!(o.metrics.messages_sent >= 20_000);
}
