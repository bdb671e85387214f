//! Workload operations: what a client or a test does, one line each in a scenario
//! (`"update ai.sampling_rate 5"`).

use std::fmt;
use std::str::FromStr;

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// A test's `setup` block: report-era (`start_link` accepting `already_started`, and
    /// an `on_exit` that stops the server) with `tests_touch_supervised`; the suite-wide
    /// instances with `shared_state`; otherwise its own Foundation tree under
    /// `start_supervised` in a fresh namespace.
    Setup,
    /// `ConfigServer.get/1`.
    Get(String),
    /// `ConfigServer.get/0`.
    GetAll,
    /// `ConfigServer.update/2`.
    Update(String, i64),
    /// `GracefulDegradation.update_with_fallback/2`.
    UpdateOrDefer(String, i64),
    /// `ConfigServer.reset/0`.
    Reset,
    /// Start a subscriber process and wait until it has subscribed.
    Subscribe,
    /// `ConfigServer.status/0`.
    Status,
    /// `ConfigServer.available?/0`.
    Available,
    /// Store this many events.
    Store(u32),
    /// Emit this many distinct telemetry events.
    Emit(u32),
    /// Assert the services look like a fresh tree's (what a test assumes at its start).
    CheckFresh,
    /// `Process.sleep/1`.
    Sleep(u64),
}

impl FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Op, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let int = |w: &str| {
            w.parse::<i64>()
                .map_err(|_| format!("`{w}` is not an integer (in `{s}`)"))
        };
        let count = |w: &str| {
            w.parse::<u32>()
                .map_err(|_| format!("`{w}` is not a count (in `{s}`)"))
        };
        Ok(match words.as_slice() {
            ["setup"] => Op::Setup,
            ["get", path] => Op::Get(path.to_string()),
            ["get_all"] => Op::GetAll,
            ["update", path, v] => Op::Update(path.to_string(), int(v)?),
            ["update_or_defer", path, v] => Op::UpdateOrDefer(path.to_string(), int(v)?),
            ["reset"] => Op::Reset,
            ["subscribe"] => Op::Subscribe,
            ["status"] => Op::Status,
            ["available"] => Op::Available,
            ["store", n] => Op::Store(count(n)?),
            ["emit", n] => Op::Emit(count(n)?),
            ["check_fresh"] => Op::CheckFresh,
            ["sleep", ms] => Op::Sleep(count(ms)? as u64),
            _ => {
                return Err(format!(
                    "unknown operation `{s}` (known: setup, get PATH, get_all, update PATH N, \
                     update_or_defer PATH N, reset, subscribe, status, available, store N, \
                     emit N, check_fresh, sleep MS)"
                ));
            }
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Setup => write!(f, "setup"),
            Op::Get(p) => write!(f, "get {p}"),
            Op::GetAll => write!(f, "get_all"),
            Op::Update(p, v) => write!(f, "update {p} {v}"),
            Op::UpdateOrDefer(p, v) => write!(f, "update_or_defer {p} {v}"),
            Op::Reset => write!(f, "reset"),
            Op::Subscribe => write!(f, "subscribe"),
            Op::Status => write!(f, "status"),
            Op::Available => write!(f, "available"),
            Op::Store(n) => write!(f, "store {n}"),
            Op::Emit(n) => write!(f, "emit {n}"),
            Op::CheckFresh => write!(f, "check_fresh"),
            Op::Sleep(ms) => write!(f, "sleep {ms}"),
        }
    }
}
