//! What the workload and the services report to the checks: a test's view of the run, the
//! way an ExUnit test would observe it through telemetry handlers and assertions.
//!
//! Writing here is not a simulated effect (it takes no step and no process can read it),
//! so it cannot change a schedule; invariants read it together with the [`World`].
//!
//! [`World`]: fsim::sim::World

use fsim::sim::{ExitReason, Pid};
use std::cell::{Cell, Ref, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Where the suite is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// The application is starting.
    #[default]
    Booting,
    /// The application is up; tests and clients run.
    Running,
    /// Every test and client has finished; the application is being stopped.
    Stopping,
    /// The application has stopped.
    Stopped,
}

/// One test's record.
#[derive(Clone, Debug)]
pub struct TestRecord {
    /// Its name.
    pub name: String,
    /// The test process.
    pub pid: Pid,
    /// Why it failed (what its body raised or exited with, or what killed it); `None`
    /// for a pass.
    pub failure: Option<ExitReason>,
    /// Live processes descended from the test process after its on_exit ran.
    pub orphans: Vec<Pid>,
}

/// What a subscriber process believes.
#[derive(Clone, Debug, Default)]
pub struct SubscriberView {
    /// The ConfigServer it believes it is subscribed to; `None` when not subscribed.
    pub server: Option<Pid>,
    /// It knows its ConfigServer died and is subscribing again.
    pub resubscribing: bool,
    /// The configuration as it has learnt it (snapshot at subscription plus updates).
    pub view: BTreeMap<String, i64>,
}

/// The log itself.
#[derive(Debug, Default)]
pub struct Log {
    /// Where the suite is.
    pub phase: Phase,
    /// Tests, in the order they started.
    pub tests: Vec<TestRecord>,
    /// Workload processes (clients and tests) by pid, with their names.
    pub workers: BTreeMap<Pid, String>,
    /// Per test: the mismatches its freshness check found (empty: it saw a fresh tree).
    pub freshness: Vec<(String, Vec<String>)>,
    /// Subscriber processes and what they believe.
    pub subscribers: BTreeMap<Pid, SubscriberView>,
    /// Deferred config updates applied, by `(id, ConfigServer incarnation)`: how often.
    /// A restart loses the configuration, so applying an update again to a new
    /// incarnation is a retry, not a duplicate.
    pub pending_applied: BTreeMap<(u64, Pid), u32>,
    /// Pending updates deferred so far, by id: `(path, value)`.
    pub pending: BTreeMap<u64, (String, i64)>,
    /// Starts and stops of service processes, in order: `(label, pid, started?)`.
    pub lifecycle: Vec<(String, Pid, bool)>,
    /// The application's Foundation supervisor, once it is up.
    pub app_supervisor: Option<Pid>,
    /// Namespaces of the Foundation instances tests started for themselves.
    pub namespaces: Vec<String>,
    /// Orphans found after the application stopped (rule 47 kills the app's own).
    pub orphans_at_stop: Vec<Pid>,
    next_id: u64,
}

/// A shared handle on the [`Log`].
#[derive(Clone, Debug, Default)]
pub struct Observer(Rc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    log: RefCell<Log>,
    /// Counts the changes made through [`Observer::record`] (outside the log's cell:
    /// checks read it after every step).
    version: Cell<u64>,
    /// The checks' shared reading of the counters, once a step.
    stamps: crate::checks::Stamps,
}

impl Observer {
    /// A fresh log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the log.
    pub fn log(&self) -> Ref<'_, Log> {
        self.0.log.borrow()
    }

    /// Changes the log.
    pub fn record(&self, f: impl FnOnce(&mut Log)) {
        self.0.version.set(self.0.version.get() + 1);
        f(&mut self.0.log.borrow_mut())
    }

    /// Changes whenever the log may have ([`Observer::record`]): a check that reads only
    /// the log reads the same while this is unchanged.
    pub fn version(&self) -> u64 {
        self.0.version.get()
    }

    /// What the checks of this log's world share (`checks`).
    pub(crate) fn stamps(&self) -> &crate::checks::Stamps {
        &self.0.stamps
    }

    /// A fresh id (for deferred updates); deterministic: ids count up per run.
    pub fn next_id(&self) -> u64 {
        let mut l = self.0.log.borrow_mut();
        l.next_id += 1;
        l.next_id
    }
}
