//! Conformance tests: one or more per rule of OTP_MODEL.md, the rule number in each name.
//! Rules 45–47 (application and test harness) need the Foundation's harness model and
//! are tested with it.

#[path = "../common/mod.rs"]
mod common;

mod harness;
mod names_servers;
mod signals;
mod supervision;
