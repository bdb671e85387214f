//! A fixed-window rate limiter, as an fsim example.
//!
//! A [`Limiter`] GenServer allows at most `limit` grants per window; a `send_after` timer
//! opens a new window every `window_ms`. `clients` plain processes each make `requests`
//! attempts to get permission.
//!
//! - [`Variant::Flawed`]: a client checks, then acts, over two calls: `call(Count)`, and
//!   if the count is below the limit, `call(Increment)`, counting the request as granted.
//!   Two clients can both see `limit - 1` and both be granted.
//! - [`Variant::Fixed`]: one atomic `call(TryAcquire)` that checks and increments inside
//!   the server.
//!
//! The invariant `never_over_limit` reads the limiter's state between callbacks: the
//! grants of each window (a grant belongs to the window in which the server counted it)
//! are at most `limit`.
//!
//! On the default schedule (lowest pid first) the clients, spawned before the limiter,
//! are served one after another, so the flawed variant passes it: the overshoot is a
//! race, found only by a schedule that splits one client's check from its increment.
//!
//! Three ways in:
//!
//! - in code, [`build`] makes the whole world (processes and invariant), for
//!   `fsim::test(move |sim| build(sim, &params))`;
//! - [`system`] registers it with fsim's command line as `rate_limiter`: a scenario file
//!   gives the [`Params`] at its top level and names the invariant
//!   (`invariants = ["never_over_limit"]`);
//! - the crate's binary is that command line (`cargo run -p rate-limiter -- run
//!   scenarios/`).

#![deny(missing_docs)]

use fsim::check::{Invariant, When, invariant};
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init, Next, StartOpts};
use fsim::sim::{Cx, Envelope, ExitReason, FaultMenu, Matcher, Pid, Sim, SpawnOpts};
use fsim::system::{ParamError, System, SystemDef, Systems};

/// The name the limiter registers under.
pub const LIMITER: &str = "limiter";

/// The label of the client processes.
pub const CLIENT: &str = "client";

/// The invariant: no window grants more than `limit`.
pub const NEVER_OVER_LIMIT: &str = "never_over_limit";

/// Which client protocol runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// One atomic `TryAcquire` call per attempt.
    #[default]
    Fixed,
    /// Check-then-increment over two calls: `Count`, then `Increment`.
    Flawed,
}

/// The system's parameters.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Which client protocol runs.
    pub variant: Variant,
    /// Client processes.
    pub clients: u32,
    /// Attempts each client makes.
    pub requests: u32,
    /// Grants allowed per window.
    pub limit: u32,
    /// Length of a window, in virtual milliseconds.
    pub window_ms: u64,
    /// A client's pause after each attempt, in virtual milliseconds (0: none).
    pub think_ms: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            variant: Variant::Fixed,
            clients: 3,
            requests: 3,
            limit: 3,
            window_ms: 10,
            think_ms: 0,
        }
    }
}

/// One window of the limiter: when it opened and how many grants the server counted in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Virtual time the window opened.
    pub start_ms: u64,
    /// Grants counted while it was the current window.
    pub grants: u32,
}

/// The limiter's state: its limit, its window length and every window so far (the last
/// one is the current window).
#[derive(Clone, Debug)]
pub struct Limiter {
    limit: u32,
    window_ms: u64,
    windows: Vec<Window>,
}

impl Limiter {
    /// A limiter allowing `limit` grants per `window_ms`, with a first window opened at 0.
    pub fn new(limit: u32, window_ms: u64) -> Self {
        Limiter {
            limit,
            window_ms,
            windows: vec![Window {
                start_ms: 0,
                grants: 0,
            }],
        }
    }

    /// Grants allowed per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Every window so far, oldest first; the last is the current one.
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// Grants counted in the current window.
    pub fn count(&self) -> u32 {
        self.current().grants
    }

    /// Counts a grant in the current window unconditionally; returns the new count.
    pub fn increment(&mut self) -> u32 {
        let w = self.current_mut();
        w.grants += 1;
        w.grants
    }

    /// Counts a grant in the current window if it is below the limit; returns whether it
    /// did (check and increment in one step).
    pub fn try_acquire(&mut self) -> bool {
        if self.count() < self.limit {
            self.increment();
            true
        } else {
            false
        }
    }

    /// Opens a new, empty window at `now_ms`.
    pub fn open_window(&mut self, now_ms: u64) {
        self.windows.push(Window {
            start_ms: now_ms,
            grants: 0,
        });
    }

    /// `Err` naming the first window that granted more than the limit.
    pub fn check_windows(&self) -> Result<(), String> {
        match self
            .windows
            .iter()
            .enumerate()
            .find(|(_, w)| w.grants > self.limit)
        {
            None => Ok(()),
            Some((i, w)) => Err(format!(
                "window {i} (opened at {} ms) granted {} requests, limit {}",
                w.start_ms, w.grants, self.limit
            )),
        }
    }

    fn current(&self) -> &Window {
        self.windows
            .last()
            .expect("there is always a current window")
    }

    fn current_mut(&mut self) -> &mut Window {
        self.windows
            .last_mut()
            .expect("there is always a current window")
    }
}

/// Requests to the [`Limiter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimiterCall {
    /// Read the current window's count.
    Count,
    /// Count a grant in the current window, unconditionally.
    Increment,
    /// Count a grant if the current window is below the limit.
    TryAcquire,
}

/// Replies of the [`Limiter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimiterReply {
    /// The current window's count (to `Count`).
    Count(u32),
    /// The count after the increment (to `Increment`).
    Incremented(u32),
    /// Permission given (to `TryAcquire`).
    Granted,
    /// Permission refused: the window is full (to `TryAcquire`).
    Denied,
}

/// The timer message that opens the next window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowTick;

impl GenServer for Limiter {
    type Call = LimiterCall;
    type Reply = LimiterReply;
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        self.windows = vec![Window {
            start_ms: cx.now_ms(),
            grants: 0,
        }];
        cx.send_after(cx.me(), WindowTick, self.window_ms);
        Init::Ok
    }

    async fn handle_call(
        &mut self,
        _cx: &Cx,
        req: LimiterCall,
        _from: Caller,
    ) -> CallReply<LimiterReply> {
        CallReply::Reply(match req {
            LimiterCall::Count => LimiterReply::Count(self.count()),
            LimiterCall::Increment => LimiterReply::Incremented(self.increment()),
            LimiterCall::TryAcquire if self.try_acquire() => LimiterReply::Granted,
            LimiterCall::TryAcquire => LimiterReply::Denied,
        })
    }

    async fn handle_info(&mut self, cx: &Cx, msg: Envelope) -> Next {
        if msg.is::<WindowTick>() {
            self.open_window(cx.now_ms());
            cx.send_after(cx.me(), WindowTick, self.window_ms);
        }
        Next::Continue
    }
}

/// Tells a client which limiter to ask; it waits for this before its first attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// The limiter.
    pub limiter: Pid,
}

/// One attempt with the flawed protocol: check, then increment, over two calls.
async fn attempt_flawed(cx: &Cx, limiter: Pid, limit: u32) -> bool {
    let LimiterReply::Count(n) = gen_server::call(cx, limiter, LimiterCall::Count, None).await
    else {
        unreachable!("Count is answered with a count")
    };
    if n >= limit {
        return false;
    }
    let _: LimiterReply = gen_server::call(cx, limiter, LimiterCall::Increment, None).await;
    true
}

/// One attempt with the fixed protocol: a single atomic call.
async fn attempt_fixed(cx: &Cx, limiter: Pid) -> bool {
    let reply: LimiterReply = gen_server::call(cx, limiter, LimiterCall::TryAcquire, None).await;
    reply == LimiterReply::Granted
}

/// A client: waits for [`Start`], then makes `requests` attempts.
async fn client(cx: Cx, p: Params) {
    let (_, Start { limiter }) = cx.recv_type::<Start>().await;
    for _ in 0..p.requests {
        match p.variant {
            Variant::Flawed => attempt_flawed(&cx, limiter, p.limit).await,
            Variant::Fixed => attempt_fixed(&cx, limiter).await,
        };
        if p.think_ms > 0 {
            cx.sleep(p.think_ms).await;
        }
    }
}

/// The driver: spawns the clients, then the limiter (so the clients have the lower pids),
/// starts the clients, waits for all of them, and stops the limiter.
async fn main(cx: Cx, p: Params) {
    let mut clients = Vec::new();
    for _ in 0..p.clients {
        let params = p.clone();
        let pid = cx
            .spawn_opts(SpawnOpts::labelled(CLIENT), move |c| client(c, params))
            .await;
        clients.push(pid);
    }
    let limiter = gen_server::start_link(
        &cx,
        Limiter::new(p.limit, p.window_ms),
        StartOpts::named(LIMITER),
    )
    .await
    .expect("the limiter starts");
    for &c in &clients {
        cx.monitor(c).await;
        cx.send(c, Start { limiter }).await;
    }
    for _ in &clients {
        cx.recv_match(Matcher::when(|e| e.down().is_some())).await;
    }
    gen_server::stop(&cx, limiter, ExitReason::Normal).await;
}

/// Spawns the system's processes, without invariants (a scenario file names those).
pub fn spawn(sim: &mut Sim, params: &Params) {
    let p = params.clone();
    sim.spawn("main", move |cx| main(cx, p));
}

/// The invariant [`NEVER_OVER_LIMIT`]: no window of the limiter granted more than its
/// limit, checked after every step (while the limiter runs).
pub fn never_over_limit() -> impl Invariant {
    invariant(NEVER_OVER_LIMIT, When::Always, |w| {
        let Some(pid) = w.whereis(LIMITER) else {
            return Ok(());
        };
        w.with_state::<Limiter, _>(pid, Limiter::check_windows)
            .unwrap_or(Ok(()))
    })
}

/// Builds the world: spawns the processes and adds the invariant.
pub fn build(sim: &mut Sim, params: &Params) {
    spawn(sim, params);
    sim.invariant(never_over_limit());
}

/// The fault menu the system is meant to be explored with: none, the race needs no fault.
pub fn faults(_params: &Params) -> FaultMenu {
    FaultMenu::none()
}

/// The system a scenario file configures: its processes (the file names the invariants).
struct Configured(Params);

impl System for Configured {
    fn build(&self, sim: &mut Sim) {
        spawn(sim, &self.0)
    }

    fn describe(&self) -> String {
        let p = &self.0;
        format!(
            "{}: {} clients x {} requests, limit {} per {} ms",
            match p.variant {
                Variant::Flawed => "flawed (check, then increment)",
                Variant::Fixed => "fixed (atomic acquire)",
            },
            p.clients,
            p.requests,
            p.limit,
            p.window_ms
        )
    }
}

/// Parameters the system cannot run with.
fn validate(p: &Params) -> Result<(), ParamError> {
    if p.window_ms == 0 {
        return Err(ParamError::new(
            "window_ms",
            "must be positive (a window of 0 ms reopens forever)",
        ));
    }
    Ok(())
}

/// The rate limiter for fsim's command line: `system = "rate_limiter"`, the [`Params`]
/// at a scenario file's top level, and the invariant `never_over_limit`.
pub fn system() -> SystemDef {
    SystemDef::new(
        "rate_limiter",
        "a fixed-window rate limiter; clients check-then-increment (flawed) or acquire \
         atomically (fixed)",
        |p: Params| {
            validate(&p)?;
            Ok(Configured(p))
        },
    )
    .invariant(
        "no window of the limiter grants more than its limit (after every step)",
        never_over_limit,
    )
}

/// The systems of the crate's command line: the rate limiter.
pub fn systems() -> Systems {
    Systems::new().with(system())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_acquire_stops_at_the_limit_and_a_new_window_resets() {
        let mut l = Limiter::new(2, 10);
        assert!(l.try_acquire());
        assert!(l.try_acquire());
        assert!(!l.try_acquire());
        assert_eq!(l.count(), 2);
        l.open_window(10);
        assert_eq!(l.count(), 0);
        assert!(l.try_acquire());
        assert_eq!(l.check_windows(), Ok(()));
    }

    #[test]
    fn increment_can_overshoot_and_the_check_names_the_window() {
        let mut l = Limiter::new(1, 10);
        l.open_window(10);
        l.increment();
        l.increment();
        let err = l.check_windows().unwrap_err();
        assert!(
            err.contains("window 1 (opened at 10 ms) granted 2"),
            "{err}"
        );
    }
}
