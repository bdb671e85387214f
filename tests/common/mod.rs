//! Helpers shared by the integration tests.
#![allow(dead_code)]

use fsim::sim::*;
use std::cell::RefCell;
use std::rc::Rc;

/// A log that processes append to and the test reads after the run.
#[derive(Clone, Default)]
pub struct Log(pub Rc<RefCell<Vec<String>>>);

impl Log {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&self, s: impl Into<String>) {
        self.0.borrow_mut().push(s.into());
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
    pub fn contains(&self, s: &str) -> bool {
        self.0.borrow().iter().any(|l| l == s)
    }
}

/// Runs a world built by `setup` with seed `seed`; returns the report and the log.
pub fn run_with(seed: u64, setup: impl FnOnce(&mut Sim, Log)) -> (RunReport, Log) {
    let log = Log::new();
    let mut sim = Sim::new(Config::default());
    setup(&mut sim, log.clone());
    let r = sim.run(&mut RandomChooser::new(seed));
    assert!(
        !r.outcome.is_failure(),
        "seed {seed}: run failed: {:?}\n{:#?}",
        r.outcome,
        r.recent
    );
    (r, log)
}

/// Runs `setup` over `seeds`, returning each run's log.
pub fn logs_over(seeds: std::ops::Range<u64>, setup: impl Fn(&mut Sim, Log)) -> Vec<Vec<String>> {
    seeds
        .map(|s| run_with(s, |sim, log| setup(sim, log)).1.lines())
        .collect()
}
