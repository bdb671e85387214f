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
/// So does a run whose process awaits a future that is not its `Cx`'s (a tokio timer, a
/// channel from outside), which nothing in the simulation could ever wake.
pub const PANIC: &str = "panic";

/// An invariant that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Which invariant ([`PANIC`] for a panic in a process).
    pub invariant: String,
    /// The step (its index, as the trace numbers it) after which an invariant failed,
    /// or in which a process panicked.
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

    /// Is this the same failure as `other`, judged `how`?
    pub fn same_failure(&self, other: &Violation, how: SameFailure) -> bool {
        self.invariant == other.invariant
            && self.location == other.location
            && (how == SameFailure::Invariant || self.signature() == other.signature())
    }

    /// The message with its pids (`<0.5.0>`), refs (`#Ref<12>`) and numbers abstracted:
    /// which processes and refs a schedule produced, and the counts and values it saw,
    /// differ between schedules that hit one flaw; what went wrong (the words) does not.
    pub fn signature(&self) -> String {
        abstract_ids(&self.message)
    }
}

/// When two failures are the same (for the shrinker and its certification): a shrunk
/// schedule must fail the way the original did, not merely somewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SameFailure {
    /// The same invariant (and, for a panic, the same place in the code).
    Invariant,
    /// That, and the same message with pids and refs abstracted
    /// ([`Violation::signature`]).
    #[default]
    Signature,
}

/// `text` with every pid written `<pid>`, every ref `#Ref` and every number `N`.
fn abstract_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(n) = pid_len(rest) {
            out.push_str("<pid>");
            rest = &rest[n..];
        } else if let Some(n) = ref_len(rest) {
            out.push_str("#Ref");
            rest = &rest[n..];
        } else if rest.as_bytes()[0].is_ascii_digit() {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            out.push('N');
            rest = &rest[n..];
        } else {
            let c = rest.chars().next().expect("not empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The length of a pid `<A.B.C>` (digits) at the start of `s`.
fn pid_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return None;
    }
    let mut i = 1;
    for part in 0..3 {
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let want = if part < 2 { b'.' } else { b'>' };
        if b.get(i) != Some(&want) {
            return None;
        }
        i += 1;
    }
    Some(i)
}

/// The length of a ref `#Ref<digits>` at the start of `s`.
fn ref_len(s: &str) -> Option<usize> {
    let tail = s.strip_prefix("#Ref<")?;
    let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && tail.as_bytes().get(digits) == Some(&b'>')).then_some(5 + digits + 1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_abstracts_pids_refs_and_numbers() {
        let v = Violation::new(
            "x",
            3,
            "<0.12.0> holds #Ref<7> twice; <0.3> and #Ref<> are not ids, 42 a number".into(),
        );
        assert_eq!(
            v.signature(),
            "<pid> holds #Ref twice; <N.N> and #Ref<> are not ids, N a number"
        );
    }

    #[test]
    fn the_same_failure_needs_the_same_signature_unless_told_otherwise() {
        let a = Violation::new("x", 3, "count <0.5.0> is 2".into());
        let b = Violation::new("x", 9, "count <0.7.0> is 3".into());
        let c = Violation::new("x", 3, "total <0.5.0> is 2".into());
        let d = Violation::new("y", 3, "count <0.5.0> is 2".into());
        assert!(a.same_failure(&b, SameFailure::Signature));
        assert!(!a.same_failure(&c, SameFailure::Signature));
        assert!(a.same_failure(&c, SameFailure::Invariant));
        assert!(!a.same_failure(&d, SameFailure::Invariant));
    }
}
