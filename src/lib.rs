//! fsim: deterministic simulation testing for OTP-style actor systems.
//!
//! Write your actors as async Rust processes (or as [`otp::gen_server::GenServer`]s under
//! [`otp::supervisor`]s), state what must hold as invariants, and fsim runs them over
//! thousands of schedules. Every source of nondeterminism — which process runs next, when
//! each signal arrives, where a fault lands, when virtual time moves — is a recorded
//! choice on a tape, so any failing run replays exactly and shrinks to the few steps that
//! matter.
//!
//! ```
//! use fsim::otp::gen_server::{CallReply, Caller, GenServer, Server};
//! use fsim::sim::Cx;
//!
//! struct Counter(u64);
//! impl GenServer for Counter {
//!     type Call = ();
//!     type Reply = u64;
//!     type Cast = ();
//!     async fn handle_call(&mut self, _cx: &Cx, _: (), _from: Caller) -> CallReply<u64> {
//!         self.0 += 1;
//!         CallReply::Reply(self.0)
//!     }
//! }
//!
//! // In a #[test]: 1,000 schedules; a failing one fails the test, shrunk, with a
//! // regression file and the command that replays it.
//! fsim::test(|sim| {
//!     sim.spawn("client", |cx| async move {
//!         let counter = Server::start_link(&cx, Counter(0), Default::default()).await.unwrap();
//!         assert_eq!(counter.call(&cx, ()).await, 1);
//!     });
//! })
//! .check();
//! ```
//!
//! The library, bottom up (each layer uses only those below it):
//! - [`sim`]: the kernel — processes and what they can do ([`sim::Cx`]), the choice tape,
//!   the executor, channels, the virtual clock, the trace and its hash, the determinism
//!   self-check;
//! - [`otp`]: GenServer, Supervisor, Task, Registry and applications, per the BEAM's rules;
//! - [`check`]: invariants and violations (a panic in a process is one, by default);
//! - [`system`]: the one abstraction every tool takes — a [`system::System`] builds a
//!   world; [`system::SystemDef`] names one for the command line;
//! - [`scenario`]: a system with its faults, limits, exploration budget and expected
//!   outcome, built in code or read from a TOML file;
//! - [`explore`]: strategies (random, PCT, POS, swarm), the parallel sharded seed runner,
//!   exhaustive search, the shrinker, the regression corpus;
//! - [`report`]: schedules in words and sequence diagrams (SVG, HTML, Mermaid);
//! - [`testing`]: the cargo-test entry point, [`test()`];
//! - [`cli`]: the `fsim` command line over your systems, [`cli::main`].
//!
//! fsim's own system under test, the seed report's Foundation layer, is a separate crate
//! (`foundation/` in the repository) built on this public API like any user's system.

#![deny(missing_docs)]

pub mod check;
pub mod cli;
pub mod explore;
pub mod files;
pub mod otp;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod system;
pub mod testing;

pub use testing::{test, test_scenario};

/// Built-in workloads for fsim's own determinism self-check, benchmarks and peer
/// comparison; not part of the library a user needs.
#[doc(hidden)]
pub mod workload;
