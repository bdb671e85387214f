//! fsim: deterministic simulation testing for OTP-style actor systems.
//!
//! Every source of nondeterminism — which process runs next, when each signal arrives,
//! where a fault lands, when virtual time moves — is a recorded choice on a tape, so any
//! failing run replays exactly and can be shrunk.
//!
//! Layers, each using only those below it:
//! - [`sim`]: the kernel (choice tape, executor, channels, virtual clock, trace);
//! - [`otp`]: GenServer, Supervisor, Task, Registry on top of the kernel, per OTP_MODEL.md;
//! - [`check`]: invariants and violations;
//! - [`foundation`]: the system under test, with the report's flaws as switches;
//! - [`scenario`]: scenario files to runnable worlds;
//! - [`explore`]: strategies, the seed runner, exhaustive search, the shrinker, the corpus;
//! - [`report`]: sequence diagrams;
//! - [`cli`]: the `fsim` command line;
//! - [`workload`]: built-in workloads for the self-check and the benchmarks.

#![deny(missing_docs)]

pub mod check;
pub mod cli;
pub mod explore;
pub mod otp;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod system;
pub mod testing;

pub use testing::{test, test_scenario};
pub mod workload;
