//! Invariants and their violations.
//!
//! An invariant is a named predicate over the [`World`], checked *always* (after every
//! step), *at quiescence* (nothing enabled but time) or *at the end* (after the run).
//! Write your own with [`invariant`]:
//!
//! ```
//! use fsim::check::{invariant, When};
//! use fsim::sim::{Config, Sim, DefaultChooser, Outcome};
//!
//! let mut sim = Sim::new(Config::default());
//! sim.spawn("worker", |_cx| async {});
//! sim.invariant(invariant("at_most_one_process", When::Always, |w| {
//!     if w.live_count() <= 1 { Ok(()) } else { Err(format!("{} processes alive", w.live_count())) }
//! }));
//! let report = sim.run(&mut DefaultChooser);
//! assert_eq!(report.outcome, Outcome::Quiescent);
//! ```

use crate::sim::World;
use serde::{Deserialize, Serialize};
use std::fmt;

/// When an invariant is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// After every step.
    Always,
    /// Whenever nothing but time can move.
    Quiescence,
    /// Once, when the run ends normally.
    End,
}

/// A named predicate over the world.
pub trait Invariant {
    /// Its name, as scenarios and reports refer to it.
    fn name(&self) -> &str;
    /// When it is checked.
    fn when(&self) -> When;
    /// `Err(message)` when it does not hold; the message names the process and what was
    /// expected.
    fn check(&self, world: &World) -> Result<(), String>;
}

/// The name under which a panic in a process is reported: a run whose process panics
/// (by default, see [`Panics`](crate::sim::Panics)) ends with a [`Violation`] of `panic`.
pub const PANIC: &str = "panic";

/// An invariant that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Which invariant ([`PANIC`] for a panic in a process).
    pub invariant: String,
    /// The step after which it failed.
    pub step: u32,
    /// What was wrong.
    pub message: String,
    /// Where the code panicked (`file:line:column`), for a panic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Violation {
    /// A violation of `invariant` at `step`.
    pub fn new(invariant: &str, step: u32, message: String) -> Self {
        Violation {
            invariant: invariant.to_string(),
            step,
            message,
            location: None,
        }
    }

    /// A panic in process `pid`: `what` says what happened ("panicked: …").
    pub(crate) fn panic(
        world: &World,
        pid: crate::sim::Pid,
        what: &str,
        location: Option<String>,
    ) -> Self {
        let who = match world.label(pid) {
            Some(l) => format!("process {pid} ({l})"),
            None => format!("process {pid}"),
        };
        let at = location
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        Violation {
            invariant: PANIC.to_string(),
            step: world.step(),
            message: format!("{who} {what}{at}"),
            location,
        }
    }

    /// Is this the same failure as `other`: the same invariant and, for panics, the same
    /// place in the code?
    pub fn same_failure(&self, other: &Violation) -> bool {
        self.invariant == other.invariant && self.location == other.location
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invariant == PANIC {
            return write!(f, "panic at step {}: {}", self.step, self.message);
        }
        write!(
            f,
            "invariant {} violated at step {}: {}",
            self.invariant, self.step, self.message
        )
    }
}

/// An invariant made of a closure.
pub struct FnInvariant<F> {
    name: String,
    when: When,
    f: F,
}

/// Builds an invariant from a closure over the world.
pub fn invariant<F>(name: &str, when: When, f: F) -> FnInvariant<F>
where
    F: Fn(&World) -> Result<(), String>,
{
    FnInvariant {
        name: name.to_string(),
        when,
        f,
    }
}

impl<F: Fn(&World) -> Result<(), String>> Invariant for FnInvariant<F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn when(&self) -> When {
        self.when
    }
    fn check(&self, world: &World) -> Result<(), String> {
        (self.f)(world)
    }
}

impl<I: Invariant + ?Sized> Invariant for Box<I> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn when(&self) -> When {
        (**self).when()
    }
    fn check(&self, world: &World) -> Result<(), String> {
        (**self).check(world)
    }
}
