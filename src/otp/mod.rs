//! The OTP layer on the kernel, following OTP_MODEL.md rule by rule.
//!
//! - [`gen_server`]: `GenServer` callbacks, `start_link`, `call`, `cast`, `stop`;
//! - [`supervisor`]: `Supervisor` with its strategies, restart types, intensity and
//!   shutdown;
//! - [`task`]: `Task` and `Task.Supervisor`;
//! - [`registry`]: Elixir's `Registry` with unique keys and `via` names.

pub mod application;
pub mod ex_unit;
pub mod gen_server;
pub mod registry;
pub mod supervisor;
pub mod task;

pub use gen_server::{CallReply, GenServer, Init, Next, ServerRef, StartError, StartOpts};
pub use supervisor::{ChildSpec, Restart, Shutdown, Strategy, SupSpec};
