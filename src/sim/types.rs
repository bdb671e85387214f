//! Identities and values every layer shares: [`Pid`], [`Ref`], [`ExitReason`], [`Payload`].

use serde::{Deserialize, Serialize};
use std::any::Any;
use std::fmt;

/// A process identifier. Pids are allocated in spawn order and never reused within a run,
/// so a pid is a stable name for "the n-th process spawned in this schedule".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pid(pub u32);

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<0.{}.0>", self.0)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A unique reference (`make_ref/0`): monitor references, call tags, timer references.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ref(pub u64);

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}>", self.0)
    }
}

/// Why a process terminated, or the reason carried by an exit signal (OTP_MODEL rules 9–13).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ExitReason {
    /// `normal`: ignored by non-trapping linked processes (rule 10).
    Normal,
    /// `shutdown`: normal for restart decisions, but kills non-trapping partners (rule 13).
    Shutdown,
    /// `{shutdown, term}`.
    ShutdownWith(String),
    /// `kill`: as an explicit exit signal it is untrappable (rule 11).
    Kill,
    /// `killed`: the reason of a process that received an untrappable `kill`.
    Killed,
    /// `noproc`: the target did not exist.
    NoProc,
    /// `timeout`.
    Timeout,
    /// A failed `GenServer.call`: the caller exits with `{reason, {GenServer, :call, _}}`,
    /// which is never a normal termination, whatever the inner reason (rule 28).
    CallFailed(Box<ExitReason>),
    /// A failed `GenServer.stop`: the caller exits with `{reason, {GenServer, :stop}}`
    /// (`noproc` when the server was not there, `timeout`).
    StopFailed(Box<ExitReason>),
    /// Any other term, e.g. a raised error.
    Custom(String),
}

impl ExitReason {
    /// A custom reason from any displayable term.
    pub fn custom(term: impl fmt::Display) -> Self {
        ExitReason::Custom(term.to_string())
    }

    /// `normal`, `shutdown` or `{shutdown, _}`: no restart for transient children, no
    /// error report (rule 13).
    pub fn is_normal_termination(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        )
    }
}

impl fmt::Debug for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => write!(f, "normal"),
            ExitReason::Shutdown => write!(f, "shutdown"),
            ExitReason::ShutdownWith(t) => write!(f, "{{shutdown, {t}}}"),
            ExitReason::Kill => write!(f, "kill"),
            ExitReason::Killed => write!(f, "killed"),
            ExitReason::NoProc => write!(f, "noproc"),
            ExitReason::Timeout => write!(f, "timeout"),
            ExitReason::CallFailed(r) => write!(f, "{{{r:?}, {{GenServer, :call}}}}"),
            ExitReason::StopFailed(r) => write!(f, "{{{r:?}, {{GenServer, :stop}}}}"),
            ExitReason::Custom(t) => write!(f, "{t}"),
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What a process body may return: `()` means `normal`, an [`ExitReason`] is itself, and
/// `Result<(), ExitReason>` is `normal` or the error.
pub trait IntoExitReason {
    /// The exit reason this value stands for.
    fn into_exit_reason(self) -> ExitReason;
}

impl IntoExitReason for () {
    fn into_exit_reason(self) -> ExitReason {
        ExitReason::Normal
    }
}

impl IntoExitReason for ExitReason {
    fn into_exit_reason(self) -> ExitReason {
        self
    }
}

impl IntoExitReason for Result<(), ExitReason> {
    fn into_exit_reason(self) -> ExitReason {
        self.err().unwrap_or(ExitReason::Normal)
    }
}

/// Anything that can travel in a message: `'static` and printable. Its `Debug` text is
/// what traces show and what the trace hash folds (so a value that prints differently
/// from one run of a tape to the next is caught by the determinism self-check).
pub trait Payload: Any + fmt::Debug {
    /// The Rust type name, for error messages and traces of runs that do not record
    /// values (never hashed: it is not stable across compiler versions).
    fn type_name(&self) -> &'static str;

    /// Folds the value into a trace hash ([`crate::sim::trace`]'s `fold_value`). Every
    /// payload gets it from the blanket impl below, compiled for its own type: an
    /// integer folds its digits directly, with no look-up of its type at run time.
    #[doc(hidden)]
    fn fold_value(&self, h: &mut u64);
}

impl<T: Any + fmt::Debug> Payload for T {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    #[inline]
    fn fold_value(&self, h: &mut u64) {
        super::trace::fold_typed(h, self)
    }
}

/// A registered name (an atom in Erlang terms).
pub type Name = std::rc::Rc<str>;
