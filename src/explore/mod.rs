//! Exploration: running a scenario over many seeds and judging the runs.

pub mod corpus;
pub mod shrink;
pub mod strategy;

use crate::scenario::{Judgement, Scenario};
use crate::sim::{Outcome, RunReport};
use std::ops::Range;
pub use strategy::Strategy;

/// A run worth keeping: its seed and report.
#[derive(Clone, Debug)]
pub struct Kept {
    /// The seed.
    pub seed: u64,
    /// What it did.
    pub report: RunReport,
}

/// The result of running a seed range.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    /// Runs made.
    pub runs: u64,
    /// Runs that violated the invariant the scenario expects to fail.
    pub found: u64,
    /// The first of them.
    pub first_found: Option<Kept>,
    /// The first run that failed in a way the scenario does not expect.
    pub first_unexpected: Option<Kept>,
    /// Steps over all runs.
    pub steps: u64,
}

/// When to stop a sweep early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopAt {
    /// Run every seed.
    Never,
    /// Stop at the first run that finds the expected violation or fails unexpectedly.
    FirstFailure,
}

/// Runs `seeds` of `scenario` with `strategy`, in order.
pub fn sweep(scenario: &Scenario, strategy: Strategy, seeds: Range<u64>, stop: StopAt) -> Sweep {
    let mut s = Sweep::default();
    for seed in seeds {
        let report = scenario.run_strategy(strategy, seed);
        s.runs += 1;
        s.steps += report.steps as u64;
        match scenario.judge(&report.outcome) {
            Judgement::Found => {
                s.found += 1;
                if s.first_found.is_none() {
                    s.first_found = Some(Kept { seed, report });
                }
                if stop == StopAt::FirstFailure {
                    break;
                }
            }
            Judgement::Unexpected => {
                if s.first_unexpected.is_none() {
                    s.first_unexpected = Some(Kept { seed, report });
                }
                if stop == StopAt::FirstFailure {
                    break;
                }
            }
            Judgement::Passed => {}
        }
    }
    s
}

/// A one-line description of an outcome.
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Quiescent => "passed (quiescent)".into(),
        Outcome::TimeLimit => "passed (time limit)".into(),
        Outcome::Violation(v) => v.to_string(),
        Outcome::BoundHit(b) => format!("bound hit: {b}"),
    }
}

/// The events of a traced run that the last event causally depends on, in order (the
/// steps a user needs to see).
pub fn causal_slice(report: &RunReport) -> Vec<crate::sim::Event> {
    let Some(events) = &report.trace else {
        return Vec::new();
    };
    let Some(last) = events.last() else {
        return Vec::new();
    };
    let mut needed = vec![false; events.len()];
    let mut stack = vec![last.step];
    while let Some(s) = stack.pop() {
        let i = s as usize;
        if i >= needed.len() || needed[i] {
            continue;
        }
        needed[i] = true;
        stack.extend(events[i].deps.iter().flatten().copied());
    }
    events
        .iter()
        .zip(needed)
        .filter(|(_, n)| *n)
        .map(|(e, _)| e.clone())
        .collect()
}
