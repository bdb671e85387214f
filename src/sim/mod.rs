//! The kernel: a seeded, single-threaded, deterministic world of processes.
//!
//! - [`tape`]: the choice tape, with its binary and text encodings;
//! - [`choice`]: the one interface every producer of choices implements;
//! - [`world`]: processes, channels, names, tables, timers and the signal rules;
//! - [`cx`]: what a process can do;
//! - [`exec`]: the step loop;
//! - [`trace`]: events and the trace hash;
//! - [`footprint`]: what a step read and wrote, for partial-order reduction;
//! - [`determinism`]: the self-check that a run is a function of its tape.

pub mod choice;
pub mod cx;
pub mod determinism;
pub mod exec;
pub mod footprint;
pub mod tape;
pub mod trace;
pub mod types;
pub mod world;

pub use choice::{Chooser, Decision, DefaultChooser, RandomChooser, ReplayChooser, Stepped};
pub use cx::{
    Cx, EtsTransfer, NoProc, NotRegistered, RegisterError, SpawnOpts, Table, TableBadarg, TableGone,
};
pub use exec::{Config, Outcome, Panics, RunReport, Sim, run_seed, run_tape};
pub use tape::{Action, Choice, Fault, Tape, TapeError};
pub use trace::{Event, StepKind};
pub use types::{ExitReason, IntoExitReason, Name, Payload, Pid, Ref};
pub use world::{
    Body, Bound, Delivery, Dest, Envelope, FaultMenu, Limits, Matcher, PendingTimer, Targets,
    Versions, World,
};
