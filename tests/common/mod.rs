//! Helpers shared by the integration tests: a log that processes write and the test reads,
//! slots that carry values (pids, results) out of a run, and one checked way to run a world.
#![allow(dead_code)]

use fsim::sim::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
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
    /// How many lines equal `line`.
    pub fn count(&self, line: &str) -> usize {
        self.0.borrow().iter().filter(|l| *l == line).count()
    }
    /// The lines that start with `prefix`, in order.
    pub fn starting_with(&self, prefix: &str) -> Vec<String> {
        self.0
            .borrow()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// Pids that processes record for the test to read after the run (latest wins).
#[derive(Clone, Default)]
pub struct Pids(Rc<RefCell<BTreeMap<String, Pid>>>);

impl Pids {
    pub fn set(&self, k: &str, p: Pid) {
        self.0.borrow_mut().insert(k.to_string(), p);
    }
    pub fn get(&self, k: &str) -> Pid {
        *self
            .0
            .borrow()
            .get(k)
            .unwrap_or_else(|| panic!("no pid recorded for {k}"))
    }
}

/// One value a process hands to the test.
#[derive(Clone)]
pub struct Slot<T>(Rc<RefCell<Option<T>>>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(Rc::new(RefCell::new(None)))
    }
}

impl<T: Clone> Slot<T> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&self, v: T) {
        *self.0.borrow_mut() = Some(v);
    }
    /// Changes the value in place; panics if none was set yet.
    pub fn update(&self, f: impl FnOnce(&mut T)) {
        f(self.0.borrow_mut().as_mut().expect("set before update"))
    }
    /// The value, if a process set it.
    pub fn try_get(&self) -> Option<T> {
        self.0.borrow().clone()
    }
    /// The value; panics if no process set it.
    pub fn get(&self) -> T {
        self.try_get().expect("the process recorded this value")
    }
}

/// Runs the world `setup` builds with `chooser`; the run must not fail (no violation, no
/// bound). Returns the finished sim (for `world()`), the report, the log and what `setup`
/// returned.
pub fn run_checked<T>(
    seed: u64,
    config: Config,
    mut chooser: RandomChooser,
    setup: impl FnOnce(&mut Sim, &Log) -> T,
) -> (Sim, RunReport, Log, T) {
    let log = Log::new();
    let mut sim = Sim::new(config);
    let out = setup(&mut sim, &log);
    let report = sim.run(&mut chooser);
    assert!(
        !report.outcome.is_failure(),
        "seed {seed}: run failed: {:?}\n{:#?}",
        report.outcome,
        report.recent
    );
    (sim, report, log, out)
}

/// Runs a world built by `setup` with seed `seed`; returns the report and the log.
pub fn run_with(seed: u64, setup: impl FnOnce(&mut Sim, Log)) -> (RunReport, Log) {
    let (_, report, log, ()) = run_checked(
        seed,
        Config::default(),
        RandomChooser::new(seed),
        |sim, log| setup(sim, log.clone()),
    );
    (report, log)
}

/// Without random jumps: resumes only once nothing else in the world can run.
pub async fn quiesce(cx: &Cx) {
    cx.sleep(1).await;
}

/// Blocks until a signal ends the process (keeps what it links to and holds alive).
pub async fn forever(cx: &Cx) {
    let _ = cx.recv_match(Matcher::Nothing).await;
}

/// A custom exit reason.
pub fn custom(s: &str) -> ExitReason {
    ExitReason::custom(s)
}
