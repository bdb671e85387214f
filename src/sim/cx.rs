//! [`Cx`]: how a simulated process talks to the world.
//!
//! Every effect another process can observe, or that reads shared state, is a point where
//! the scheduler may switch: sends, exit signals, links, monitors and their answers,
//! spawns, names, tables, alive checks and a `receive` that only looks (timeout 0). So
//! they are `async`: the process stops just before the effect, the scheduler may run
//! something else (by default the process runs on), and the effect happens when it
//! resumes. A `receive` that waits ends the step; [`Cx::yield_now`] ends the process's
//! turn. Every effect is also a point where an armed "crash after the next effect" fault
//! fires, and where a process that the effect itself killed (an exit signal to itself, a
//! linked process that died of it) stops.

use super::exec::{Sentinel, Shared, make_future, step_in_place, store_future};
use super::footprint::{Mode, Obj, name_key, value_key};
use super::trace::Effect;
use super::types::{ExitReason, IntoExitReason, Name, Payload, Pid, Ref};
use super::world::{Body, Delivery, Dest, Envelope, Matcher, Sched, Signal, TimerKind, World};
use std::any::Any;
use std::borrow::Cow;
use std::cell::{RefCell, RefMut};
use std::collections::BTreeMap;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The reason a process dies with when an injected "crash after effect" fires.
pub const INJECTED_CRASH: &str = "fsim: injected crash";

/// A process's handle on the world. Cheap to clone; valid only inside that process.
#[derive(Clone)]
pub struct Cx {
    me: Pid,
    sh: Rc<Shared>,
}

/// `register/2` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The name is held by this live process.
    #[error("name already registered to {0}")]
    Taken(Pid),
    /// The process already has a name.
    #[error("process already has a registered name")]
    AlreadyNamed,
    /// The process to name is not alive (`badarg`).
    #[error("badarg: {0} is not alive")]
    NotAlive(Pid),
}

/// `send/2` to a name that is not registered raises `badarg` (rule 5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("badarg: no process is registered as {0:?}")]
pub struct NotRegistered(pub String);

/// `link/1` to a process that is not alive, from a process that does not trap exits:
/// on one node the BEAM raises `noproc` in the caller, which it can catch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("noproc: {0} is not alive")]
pub struct NoProc(pub Pid);

/// Access to a table whose owner died (rule 49).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("badarg: table {0} does not exist (its owner terminated)")]
pub struct TableGone(pub u64);

/// `:ets.rename/2` or `:ets.give_away/3` refused (`badarg`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableBadarg {
    /// The table does not exist (its owner terminated, rule 49).
    #[error("badarg: table {0} does not exist")]
    Gone(u64),
    /// Another table has the name.
    #[error("badarg: a table is already named {0:?}")]
    NameTaken(String),
    /// Only the owner may give a table away.
    #[error("badarg: only the owner may give table {0} away")]
    NotOwner(u64),
    /// The new owner is not alive, or is the owner already.
    #[error("badarg: {0} cannot receive the table")]
    BadHeir(Pid),
}

/// The message the new owner of a table receives (`{'ETS-TRANSFER', tab, from, data}`).
#[derive(Debug, Clone, PartialEq)]
pub struct EtsTransfer<D> {
    /// The table.
    pub table: u64,
    /// Its previous owner.
    pub from: Pid,
    /// What the previous owner gave with it.
    pub data: D,
}

/// A typed handle on a process-owned table (an ETS `set`, public access).
pub struct Table<K, V> {
    /// The table's identity.
    pub id: u64,
    _t: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for Table<K, V> {}
impl<K, V> std::fmt::Debug for Table<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({})", self.id)
    }
}

/// Options for [`Cx::spawn_opts`].
#[derive(Clone, Debug, Default)]
pub struct SpawnOpts {
    /// Link the new process to the caller, atomically (rule 9).
    pub link: bool,
    /// A label for traces and fault targeting.
    pub label: Option<String>,
}

impl SpawnOpts {
    /// An unlinked process with this label.
    pub fn labelled(label: impl Into<String>) -> Self {
        SpawnOpts {
            link: false,
            label: Some(label.into()),
        }
    }

    /// The same, linked to the caller.
    pub fn linked(self) -> Self {
        SpawnOpts { link: true, ..self }
    }
}

impl Cx {
    pub(crate) fn new(me: Pid, sh: Rc<Shared>) -> Self {
        Cx { me, sh }
    }

    #[inline]
    fn w(&self) -> RefMut<'_, World> {
        self.sh.world.borrow_mut()
    }

    /// Marks an effect done: if a "crash after the next effect" fault is armed for this
    /// process, it dies now, with the effect kept.
    #[inline]
    fn effect_done(&self, mut w: RefMut<'_, World>) {
        let p = w.p(self.me);
        if p.sched == Sched::Dead {
            // The effect killed this process: an exit signal to itself, or a link that
            // died of it. It stops here, as it does inside `exit/2` on the BEAM.
            let reason = p.exit_reason.clone().unwrap_or(ExitReason::Normal);
            drop(w);
            std::panic::resume_unwind(Box::new(Sentinel::Dead(reason)));
        }
        if p.crash_armed {
            p.crash_armed = false;
            w.fault_dirty = true;
            drop(w);
            std::panic::resume_unwind(Box::new(Sentinel::Exit(ExitReason::custom(INJECTED_CRASH))));
        }
    }

    fn global(&self, mut w: RefMut<'_, World>, op: &'static str) {
        w.trace.effect(Effect::Global {
            pid: self.me,
            op: Cow::Borrowed(op),
        });
        self.effect_done(w);
    }

    /// This process's pid (`self()`).
    pub fn me(&self) -> Pid {
        self.me
    }

    /// Virtual time, in milliseconds.
    pub fn now_ms(&self) -> u64 {
        let w = self.sh.world.borrow();
        if !w.fp_on {
            return w.now_ms();
        }
        drop(w);
        let mut w = self.w();
        w.touch(Obj::Clock, Mode::Read);
        w.now_ms()
    }

    /// The process that spawned this one.
    pub fn parent(&self) -> Option<Pid> {
        self.sh.world.borrow().parent(self.me)
    }

    /// A fresh reference.
    pub fn make_ref(&self) -> Ref {
        self.w().make_ref()
    }

    /// `Process.sleep(ms)`: waits `ms` of virtual time, leaving the mailbox alone (a
    /// receive that matches nothing, with a timeout).
    pub async fn sleep(&self, ms: u64) {
        let nothing = self.recv_timeout(Matcher::Nothing, ms).await;
        debug_assert!(nothing.is_none(), "a matcher that accepts nothing matched");
    }

    /// Ends this process's turn: the scheduler picks what runs next among everything
    /// runnable (`erlang:yield/0`). Effects are scheduling points already; this is for
    /// code that waits by polling.
    pub fn yield_now(&self) -> YieldNow<'_> {
        YieldNow {
            cx: self,
            done: false,
            run_on: false,
        }
    }

    /// A scheduling point before an effect: the scheduler may switch here, and by
    /// default this process runs on.
    fn effect_point(&self) -> YieldNow<'_> {
        YieldNow {
            cx: self,
            done: false,
            run_on: true,
        }
    }

    /// A workload decision recorded on the tape: a value below `n` (`0` for `n <= 1`),
    /// chosen by the run's chooser like every other choice, so replay reproduces it and
    /// the shrinker can lower it. Yields once.
    pub async fn draw(&self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        self.w().draw_request = Some((self.me, n));
        self.effect_point().await;
        self.w().draw_answers.remove(&self.me).unwrap_or(0)
    }

    // ---- messages ---------------------------------------------------------------------

    /// Sends `msg` to `to` (rule 1: asynchronous; to a dead pid it is dropped, rule 4).
    pub async fn send<M: Payload>(&self, to: Pid, msg: M) {
        self.effect_point().await;
        self.send_signal(
            to,
            Signal::Message {
                payload: Box::new(msg),
                tag: None,
            },
        );
    }

    /// Sends `msg` to the alias `tag` held by `to` (dropped on arrival if the alias is no
    /// longer active: late call replies, rule 26).
    pub async fn send_tagged<M: Payload>(&self, to: Pid, tag: Ref, msg: M) {
        self.effect_point().await;
        self.send_signal(
            to,
            Signal::Message {
                payload: Box::new(msg),
                tag: Some(tag),
            },
        );
    }

    fn send_signal(&self, to: Pid, signal: Signal) {
        let mut w = self.w();
        w.push_signal(self.me, to, signal);
        self.effect_done(w);
    }

    /// Sends to a registered name; `Err` (`badarg`) if nobody holds it (rule 5).
    pub async fn send_named<M: Payload>(&self, name: &str, msg: M) -> Result<(), NotRegistered> {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Name(name_key(name)), Mode::Read);
        let Some(to) = w.whereis(name) else {
            self.global(w, "send to unregistered name");
            return Err(NotRegistered(name.to_string()));
        };
        w.push_signal(
            self.me,
            to,
            Signal::Message {
                payload: Box::new(msg),
                tag: None,
            },
        );
        self.effect_done(w);
        Ok(())
    }

    /// Receives the first message in the mailbox (waits for one).
    pub fn recv(&self) -> Recv<'_> {
        self.recv_match(Matcher::Any)
    }

    /// Receives the first message that `matcher` accepts (selective receive).
    pub fn recv_match(&self, matcher: Matcher) -> Recv<'_> {
        Recv(RecvInner::new(self, matcher, None))
    }

    /// Like [`Cx::recv_match`], giving up after `timeout_ms` of virtual time (`None`).
    /// A timeout of 0 only looks at what is already in the mailbox.
    pub fn recv_timeout(&self, matcher: Matcher, timeout_ms: u64) -> RecvTimeout<'_> {
        RecvTimeout(RecvInner::new(self, matcher, Some(timeout_ms)))
    }

    /// Receives the first message of type `T`, leaving others in the mailbox.
    pub async fn recv_type<T: Payload>(&self) -> (Pid, T) {
        let env = self.recv_match(Matcher::of::<T>()).await;
        let from = env.from;
        (from, env.downcast::<T>().expect("matcher accepted a T"))
    }

    // ---- processes --------------------------------------------------------------------

    /// `spawn/1`.
    pub async fn spawn<F, Fut, O>(&self, body: F) -> Pid
    where
        F: FnOnce(Cx) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
        O: IntoExitReason,
    {
        self.spawn_opts(SpawnOpts::default(), body).await
    }

    /// `spawn_link/1`: spawns and links atomically (rule 9).
    pub async fn spawn_link<F, Fut, O>(&self, body: F) -> Pid
    where
        F: FnOnce(Cx) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
        O: IntoExitReason,
    {
        self.spawn_opts(
            SpawnOpts {
                link: true,
                label: None,
            },
            body,
        )
        .await
    }

    /// Spawns with options.
    pub async fn spawn_opts<F, Fut, O>(&self, opts: SpawnOpts, body: F) -> Pid
    where
        F: FnOnce(Cx) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
        O: IntoExitReason,
    {
        self.spawn_with(opts, false, body).await.0
    }

    /// The one spawn: yields (a spawn is globally visible), creates the process, links it
    /// (`opts.link`) and monitors it (`monitor`) in the same step, before it can run.
    async fn spawn_with<F, Fut, O>(
        &self,
        opts: SpawnOpts,
        monitor: bool,
        body: F,
    ) -> (Pid, Option<Ref>)
    where
        F: FnOnce(Cx) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
        O: IntoExitReason,
    {
        self.effect_point().await;
        let mut w = self.w();
        let label = opts.label.as_deref().map(|l| w.name_of(l));
        let Some(pid) = w.spawn(Some(self.me), opts.link, label) else {
            drop(w);
            std::panic::resume_unwind(Box::new(Sentinel::Abort));
        };
        // Both sides of the monitor at once (rule 14's monitor, without the signal's
        // flight).
        let mref = monitor.then(|| {
            let mref = w.make_ref();
            w.p(self.me).monitors.push((mref, pid));
            w.p(pid).monitored_by.push((mref, self.me));
            mref
        });
        drop(w);
        store_future(
            &self.sh,
            pid,
            make_future(Cx::new(pid, self.sh.clone()), body),
        );
        self.effect_done(self.w());
        (pid, mref)
    }

    /// `spawn_monitor/1`: spawns and monitors in one step, as the BEAM does: the monitor is
    /// in place before the child runs, so its `DOWN` carries the child's own exit reason
    /// (never `noproc`, however quickly the child exits), with no handshake to write.
    pub async fn spawn_monitor<F, Fut, O>(&self, body: F) -> (Pid, Ref)
    where
        F: FnOnce(Cx) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
        O: IntoExitReason,
    {
        self.spawn_monitor_opts(SpawnOpts::default(), body).await
    }

    /// [`Cx::spawn_monitor`] with options (a label; `link` links too).
    pub async fn spawn_monitor_opts<F, Fut, O>(&self, opts: SpawnOpts, body: F) -> (Pid, Ref)
    where
        F: FnOnce(Cx) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
        O: IntoExitReason,
    {
        let (pid, mref) = self.spawn_with(opts, true, body).await;
        (pid, mref.expect("spawn_with monitors when asked"))
    }

    /// Sets whether a panic in this process is an OTP crash (`true`: it exits with reason
    /// `panic: <message>`, as a raise does on the BEAM, and a supervisor may restart it)
    /// or a failure of the run (`false`, the default unless the
    /// [`Config`](crate::sim::Config) says [`Panics::Crash`](crate::sim::Panics)).
    /// Processes it spawns afterwards inherit the setting. Returns the old one, like
    /// [`Cx::trap_exit`].
    ///
    /// Opt in for code that is *meant* to crash ("let it crash"); leave it off where a
    /// panic is a failed `assert!` that should fail the test.
    pub fn panics_are_crashes(&self, on: bool) -> bool {
        std::mem::replace(&mut self.w().p(self.me).panics_crash, on)
    }

    /// Is a panic in this process an OTP crash ([`Cx::panics_are_crashes`])?
    pub(crate) fn panic_is_crash(&self) -> bool {
        self.w().p(self.me).panics_crash
    }

    /// Sets this process's label (used in traces and by fault menus).
    pub fn set_label(&self, label: &str) {
        let mut w = self.w();
        let label = w.name_of(label);
        w.p(self.me).label = Some(label);
        w.fault_dirty = true; // fault targets are chosen by label
    }

    /// Puts this process in a fresh spawn group; its descendants inherit it (an
    /// application's group leader, rule 47).
    pub fn new_group(&self) -> u32 {
        let mut w = self.w();
        let g = w.group_new();
        w.p(self.me).group = g;
        g
    }

    /// `Process.alive?/1`: a global read, so it yields first (rule 7).
    pub async fn is_alive(&self, pid: Pid) -> bool {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Life(pid), Mode::Read);
        let alive = w.is_alive(pid);
        self.global(w, "alive?");
        alive
    }

    /// Terminates this process with `reason` (`exit/1`). Does not return.
    pub fn exit(&self, reason: ExitReason) -> ! {
        std::panic::resume_unwind(Box::new(Sentinel::Exit(reason)))
    }

    /// Sends an exit signal to `to` (`exit/2`, rules 10–12).
    /// An exit signal to itself acts at once, as `exit/2` does on the BEAM.
    pub async fn exit_signal(&self, to: Pid, reason: ExitReason) {
        self.effect_point().await;
        self.send_signal(
            to,
            Signal::Exit {
                reason,
                linked: false,
            },
        );
    }

    /// `Process.flag(:trap_exit, on)`; returns the old value.
    pub fn trap_exit(&self, on: bool) -> bool {
        let mut w = self.w();
        w.touch(Obj::Life(self.me), Mode::Write);
        std::mem::replace(&mut w.p(self.me).trap_exit, on)
    }

    // ---- links and monitors -----------------------------------------------------------

    /// `link/1` (rule 9). On one node, linking to a process that is not alive fails with
    /// [`NoProc`] when this process does not trap exits, and gives it an `EXIT` message
    /// with `noproc` when it does (the BEAM's `link/1` on a local pid). Between nodes the
    /// link request travels and a dead target answers with a `noproc` exit signal (rule 4).
    ///
    /// Links follow ERTS's link protocol, so that concurrent `link`/`unlink` calls from
    /// both ends leave both ends agreeing: a link that is already active sends nothing; one
    /// this process is still unlinking becomes active again and a `LINK` goes out.
    pub async fn link(&self, to: Pid) -> Result<(), NoProc> {
        self.effect_point().await;
        if to == self.me {
            return Ok(());
        }
        let mut w = self.w();
        w.touch(Obj::Life(to), Mode::Read);
        w.touch(Obj::Ties(self.me), Mode::Write);
        if w.delivery == Delivery::Local && !w.is_alive(to) && !w.p(self.me).trap_exit {
            self.global(w, "link to a process that is not alive");
            return Err(NoProc(to));
        }
        let p = w.p(self.me);
        if p.link(to) {
            p.unlinking.retain(|(q, _)| *q != to);
            w.push_signal(self.me, to, Signal::Link);
        }
        self.effect_done(w);
        Ok(())
    }

    /// `unlink/1`: once it returns, the link has no effect on this process; the other end
    /// drops its side when the `UNLINK_ID` arrives and acknowledges it.
    pub async fn unlink(&self, to: Pid) {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Ties(self.me), Mode::Write);
        let p = w.p(self.me);
        if p.unlink(to) {
            let id = w.make_ref();
            w.p(self.me).unlinking.push((to, id));
            w.push_signal(self.me, to, Signal::UnlinkId { id });
        }
        self.effect_done(w);
    }

    /// `monitor/1`: a fresh reference each call (rule 14). If the target is already dead,
    /// the `DOWN` with `noproc` is in the mailbox when this returns, as the BIF does for
    /// a local pid.
    pub async fn monitor(&self, target: Pid) -> Ref {
        self.effect_point().await;
        self.monitor_now(target)
    }

    fn monitor_now(&self, target: Pid) -> Ref {
        let mut w = self.w();
        let mref = w.make_ref();
        w.touch(Obj::Life(target), Mode::Read);
        w.touch(Obj::Ties(self.me), Mode::Write);
        let alive = w.is_alive(target);
        if !alive {
            // Reads the channel target -> me, which only its deliveries to this process
            // change: depend on all of them.
            w.touch(Obj::Life(self.me), Mode::Write);
            w.touch(Obj::Mailbox(self.me), Mode::Write);
        }
        if alive {
            w.p(self.me).monitors.push((mref, target));
            w.push_signal(self.me, target, Signal::Monitor { mref });
        } else if w.in_flight(target, self.me) > 0 {
            // The dead process's earlier signals are still on their way: its DOWN queues
            // behind them (rule 2).
            w.p(self.me).monitors.push((mref, target));
            w.push_signal(
                target,
                self.me,
                Signal::Down {
                    mref,
                    reason: ExitReason::NoProc,
                },
            );
        } else {
            w.enqueue(
                self.me,
                target,
                Body::Down {
                    mref,
                    pid: target,
                    reason: ExitReason::NoProc,
                },
            );
        }
        self.effect_done(w);
        mref
    }

    /// `monitor(:process, name)`: the name is resolved once, now (rule 16). An unregistered
    /// name gives an immediate `DOWN` with `noproc` from [`Pid::NONE`].
    pub async fn monitor_name(&self, name: &str) -> Ref {
        self.effect_point().await;
        let target = {
            let mut w = self.w();
            w.touch(Obj::Name(name_key(name)), Mode::Read);
            w.whereis(name)
        };
        match target {
            Some(pid) => self.monitor_now(pid),
            None => {
                let mut w = self.w();
                let mref = w.make_ref();
                w.enqueue(
                    self.me,
                    Pid::NONE,
                    Body::Down {
                        mref,
                        pid: Pid::NONE,
                        reason: ExitReason::NoProc,
                    },
                );
                self.global(w, "monitor unregistered name");
                mref
            }
        }
    }

    /// `demonitor/1,2`: no new `DOWN` for `mref` after this returns; with `flush`, one
    /// already in the mailbox is removed too (rule 15). Returns whether the monitor was on.
    pub async fn demonitor(&self, mref: Ref, flush: bool) -> bool {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Ties(self.me), Mode::Write);
        if flush {
            w.touch(Obj::Mailbox(self.me), Mode::Write);
        }
        let p = w.p(self.me);
        if flush {
            p.mailbox
                .retain(|e| !matches!(e.body, Body::Down { mref: r, .. } if r == mref));
        }
        let Some(i) = p.monitors.iter().position(|(r, _)| *r == mref) else {
            return false;
        };
        let (_, target) = p.monitors.remove(i);
        w.push_signal(self.me, target, Signal::Demonitor { mref });
        self.effect_done(w);
        true
    }

    /// Activates `tag` as an alias of this process: tagged messages are accepted.
    pub fn alias(&self, tag: Ref) {
        let mut w = self.w();
        w.touch(Obj::Ties(self.me), Mode::Write);
        w.p(self.me).aliases.push(tag);
    }

    /// Deactivates an alias: tagged messages arriving later are dropped.
    pub fn unalias(&self, tag: Ref) {
        let mut w = self.w();
        w.touch(Obj::Ties(self.me), Mode::Write);
        w.p(self.me).aliases.retain(|r| *r != tag);
    }

    // ---- names ------------------------------------------------------------------------

    /// `Process.register(self(), name)` (rules 18–19).
    pub async fn register(&self, name: &str) -> Result<(), RegisterError> {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Ties(self.me), Mode::Read);
        if !w.p(self.me).names.is_empty() {
            self.global(w, "register (already named)");
            return Err(RegisterError::AlreadyNamed);
        }
        let name = w.name_of(name);
        let r = w.register(name, self.me).map_err(RegisterError::Taken);
        self.effect_done(w);
        r
    }

    /// `Process.register(pid, name)` for another process (or this one): the name goes to
    /// `pid`; `NotAlive` if it is not alive, `AlreadyNamed` if it has a name.
    pub async fn register_pid(&self, pid: Pid, name: &str) -> Result<(), RegisterError> {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Life(pid), Mode::Read);
        w.touch(Obj::Ties(pid), Mode::Write);
        w.touch(Obj::Name(name_key(name)), Mode::Read);
        let r = if !w.is_alive(pid) {
            Err(RegisterError::NotAlive(pid))
        } else if !w.p(pid).names.is_empty() {
            Err(RegisterError::AlreadyNamed)
        } else {
            let name = w.name_of(name);
            w.register(name, pid).map_err(RegisterError::Taken)
        };
        if r.is_err() {
            self.global(w, "register (refused)");
        } else {
            self.effect_done(w);
        }
        r
    }

    /// `Process.unregister(name)`; false if it was not registered.
    pub async fn unregister(&self, name: &str) -> bool {
        self.effect_point().await;
        let mut w = self.w();
        let r = w.unregister(name);
        self.effect_done(w);
        r
    }

    /// `Process.whereis(name)`.
    pub async fn whereis(&self, name: &str) -> Option<Pid> {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Name(name_key(name)), Mode::Read);
        let r = w.whereis(name);
        self.global(w, "whereis");
        r
    }

    // ---- timers -----------------------------------------------------------------------

    /// `Process.send_after(dest, msg, ms)`: to a pid it is cancelled when the pid dies; to
    /// a name the name is resolved when it fires (rule 48).
    pub fn send_after<M: Payload>(&self, dest: impl Into<Dest>, msg: M, after_ms: u64) -> Ref {
        let mut w = self.w();
        let deadline = w.now_ms().saturating_add(after_ms);
        let (_, seq) = w.add_timer(
            deadline,
            TimerKind::SendAfter {
                from: self.me,
                dest: dest.into(),
                payload: Box::new(msg),
            },
        );
        Ref(seq)
    }

    /// `Process.cancel_timer/1`: the milliseconds that were left, or `None` if it already
    /// fired or never existed.
    pub fn cancel_timer(&self, tref: Ref) -> Option<u64> {
        self.w().cancel_timer(tref)
    }

    // ---- tables -----------------------------------------------------------------------

    /// Creates a table owned by this process (deleted when it dies, rule 49).
    pub async fn table_new<K: Ord + 'static, V: 'static>(&self) -> Table<K, V> {
        self.table_create(None)
            .await
            .expect("an unnamed table cannot clash")
    }

    /// Creates a named table (`:named_table`); `None` if the name is taken.
    pub async fn table_new_named<K: Ord + 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Option<Table<K, V>> {
        let name = self.w().name_of(name);
        self.table_create(Some(name)).await
    }

    async fn table_create<K: Ord + 'static, V: 'static>(
        &self,
        name: Option<Name>,
    ) -> Option<Table<K, V>> {
        self.effect_point().await;
        let mut w = self.w();
        if let Some(n) = &name {
            w.touch(Obj::TableName(name_key(n)), Mode::Write);
        }
        if let Some(n) = &name
            && w.table_names.contains_key(n)
        {
            self.global(w, "table new (name taken)");
            return None;
        }
        let id = w.make_ref().0;
        w.touch(Obj::Table(id), Mode::Write);
        if let Some(n) = &name {
            w.table_names.insert(n.clone(), id);
        }
        w.tables.insert(
            id,
            super::world::Table {
                owner: self.me,
                name,
                data: Box::new(BTreeMap::<K, V>::new()),
            },
        );
        w.p(self.me).tables.push(id);
        w.tables_version = w.tables_version.wrapping_add(1);
        self.global(w, "table new");
        Some(Table {
            id,
            _t: PhantomData,
        })
    }

    /// Looks up a named table; `None` if there is none (or not of type K -> V).
    pub async fn table_by_name<K: Ord + 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Option<Table<K, V>> {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::TableName(name_key(name)), Mode::Read);
        if let Some(id) = w.table_names.get(name).copied() {
            w.touch(Obj::Table(id), Mode::Read);
        }
        let found = w
            .table_names
            .get(name)
            .filter(|id| w.table_read::<K, V>(**id).is_some())
            .map(|id| Table {
                id: *id,
                _t: PhantomData,
            });
        self.global(w, "table lookup by name");
        found
    }

    /// `:ets.rename/2`: the named table is known by `name` from now on, its old name by
    /// nothing. Renaming an unnamed table has no effect, as in ETS.
    pub async fn table_rename<K, V>(&self, t: Table<K, V>, name: &str) -> Result<(), TableBadarg> {
        self.effect_point().await;
        let mut w = self.w();
        if w.fp_on {
            w.touch(Obj::Table(t.id), Mode::Write);
            w.touch(Obj::TableName(name_key(name)), Mode::Write);
            if let Some(Some(old)) = w.tables.get(&t.id).map(|e| e.name.clone()) {
                w.touch(Obj::TableName(name_key(&old)), Mode::Write);
            }
        }
        let r = match w.tables.get(&t.id).map(|e| e.name.clone()) {
            None => Err(TableBadarg::Gone(t.id)),
            Some(None) => Ok(()),
            Some(Some(_)) if w.table_names.contains_key(name) => {
                Err(TableBadarg::NameTaken(name.to_string()))
            }
            Some(Some(old)) => {
                let new = w.name_of(name);
                w.table_names.remove(&old);
                w.table_names.insert(new.clone(), t.id);
                if let Some(e) = w.tables.get_mut(&t.id) {
                    e.name = Some(new);
                }
                w.tables_version = w.tables_version.wrapping_add(1);
                Ok(())
            }
        };
        self.global(w, "table rename");
        r
    }

    /// `:ets.give_away/3`: `to` owns the table from now on (it is deleted when `to` dies)
    /// and receives [`EtsTransfer`] with `data`. Only the owner may give it, to a live
    /// process other than itself.
    pub async fn table_give_away<K, V, D: Payload>(
        &self,
        t: Table<K, V>,
        to: Pid,
        data: D,
    ) -> Result<(), TableBadarg> {
        self.effect_point().await;
        let mut w = self.w();
        w.touch(Obj::Table(t.id), Mode::Write);
        w.touch(Obj::Life(to), Mode::Read);
        w.touch(Obj::Ties(to), Mode::Write);
        let owner = w.tables.get(&t.id).map(|e| e.owner);
        let r = match owner {
            None => Err(TableBadarg::Gone(t.id)),
            Some(o) if o != self.me => Err(TableBadarg::NotOwner(t.id)),
            Some(_) if to == self.me || !w.is_alive(to) => Err(TableBadarg::BadHeir(to)),
            Some(_) => {
                if let Some(e) = w.tables.get_mut(&t.id) {
                    e.owner = to;
                }
                w.p(self.me).tables.retain(|id| *id != t.id);
                w.p(to).tables.push(t.id);
                w.tables_version = w.tables_version.wrapping_add(1);
                let gift = EtsTransfer {
                    table: t.id,
                    from: self.me,
                    data,
                };
                w.push_signal(
                    self.me,
                    to,
                    Signal::Message {
                        payload: Box::new(gift),
                        tag: None,
                    },
                );
                Ok(())
            }
        };
        self.global(w, "table give_away");
        r
    }

    /// Runs `f` on the table's contents as one atomic table operation.
    pub async fn table<K: Ord + 'static, V: 'static, R>(
        &self,
        t: Table<K, V>,
        op: &'static str,
        f: impl FnOnce(&mut BTreeMap<K, V>) -> R,
    ) -> Result<R, TableGone> {
        self.effect_point().await;
        self.table_now(t, op, |m, _| f(m))
    }

    /// One atomic table operation without a yield of its own (for code that has just
    /// yielded): `f` also gets a liveness check, as ETS match specs can call `is_process_alive`.
    pub fn table_now<K: Ord + 'static, V: 'static, R>(
        &self,
        t: Table<K, V>,
        op: &'static str,
        f: impl FnOnce(&mut BTreeMap<K, V>, &dyn Fn(Pid) -> bool) -> R,
    ) -> Result<R, TableGone> {
        self.table_op(t, op, None, true, f)
    }

    /// [`Cx::table_now`] for an operation that only reads (a lookup by a match spec, say):
    /// it leaves [`World::versions`]'s table count as it is. For the reduction it still
    /// counts as an operation on the whole table.
    pub fn table_read_now<K: Ord + 'static, V: 'static, R>(
        &self,
        t: Table<K, V>,
        op: &'static str,
        f: impl FnOnce(&BTreeMap<K, V>, &dyn Fn(Pid) -> bool) -> R,
    ) -> Result<R, TableGone> {
        self.table_op(t, op, None, false, |m, alive| f(m, alive))
    }

    /// `:ets.insert/2`.
    pub async fn table_insert<K: Ord + Hash + 'static, V: 'static>(
        &self,
        t: Table<K, V>,
        k: K,
        v: V,
    ) -> Result<(), TableGone> {
        self.effect_point().await;
        let key = self.key_touch(&k, Mode::Write);
        self.table_op(t, "table insert", key, true, |m, _| {
            m.insert(k, v);
        })
    }

    /// `:ets.lookup/2`.
    pub async fn table_get<K: Ord + Hash + 'static, V: Clone + 'static>(
        &self,
        t: Table<K, V>,
        k: &K,
    ) -> Result<Option<V>, TableGone> {
        self.effect_point().await;
        let key = self.key_touch(k, Mode::Read);
        self.table_op(t, "table lookup", key, false, |m, _| m.get(k).cloned())
    }

    /// `:ets.delete/2`.
    pub async fn table_remove<K: Ord + Hash + 'static, V: 'static>(
        &self,
        t: Table<K, V>,
        k: &K,
    ) -> Result<Option<V>, TableGone> {
        self.effect_point().await;
        let key = self.key_touch(k, Mode::Write);
        self.table_op(t, "table delete", key, true, |m, _| m.remove(k))
    }

    /// How a keyed operation touches its key, when footprints are recorded (the key is
    /// hashed only then).
    fn key_touch<K: Hash>(&self, k: &K, mode: Mode) -> Option<(u64, Mode)> {
        self.sh.world.borrow().fp_on.then(|| (value_key(k), mode))
    }

    /// The one table operation: an operation on one key (`key`) touches that key and
    /// reads that the table exists; any other touches the whole table. One that `writes`
    /// counts in [`World::versions`].
    fn table_op<K: Ord + 'static, V: 'static, R>(
        &self,
        t: Table<K, V>,
        op: &'static str,
        key: Option<(u64, Mode)>,
        writes: bool,
        f: impl FnOnce(&mut BTreeMap<K, V>, &dyn Fn(Pid) -> bool) -> R,
    ) -> Result<R, TableGone> {
        let mut w = self.w();
        if writes {
            w.tables_version = w.tables_version.wrapping_add(1);
        }
        match key {
            Some((k, mode)) => {
                w.touch(Obj::Table(t.id), Mode::Read);
                w.touch(Obj::Key(t.id, k), mode);
            }
            None => w.touch(Obj::Table(t.id), Mode::Write),
        }
        // Borrow the tables mutably and the processes immutably at once: no copy of the
        // liveness of every process per table operation.
        let World {
            tables,
            procs,
            fp_on,
            fp,
            ..
        } = &mut *w;
        let asked = RefCell::new(fp);
        let is_alive = |p: Pid| {
            if *fp_on {
                asked.borrow_mut().push((Obj::Life(p), Mode::Read));
            }
            procs
                .get(p.0 as usize)
                .is_some_and(|p| p.sched != super::world::Sched::Dead)
        };
        let Some(entry) = tables.get_mut(&t.id) else {
            self.global(w, op);
            return Err(TableGone(t.id));
        };
        let map = entry
            .data
            .downcast_mut::<BTreeMap<K, V>>()
            .expect("a Table<K, V> handle always names a table of K -> V");
        let r = f(map, &is_alive);
        self.global(w, op);
        Ok(r)
    }

    // ---- hooks for the OTP layer ------------------------------------------------------

    /// Consumes one armed "fail the next init" fault, if any.
    pub fn take_init_failure(&self) -> bool {
        let mut w = self.w();
        w.touch(Obj::Counters, Mode::Write);
        if w.init_failures_armed > 0 {
            w.init_failures_armed -= 1;
            true
        } else {
            false
        }
    }

    /// Publishes state that invariants can read with [`World::with_state`] (the cell must
    /// be an `RefCell<Option<S>>`).
    pub fn publish_state(&self, cell: Rc<dyn Any>) {
        self.w().p(self.me).state = Some(cell);
    }

    /// Read-only access to the world (for code that models runtime introspection).
    pub fn world(&self) -> std::cell::Ref<'_, World> {
        {
            let mut w = self.w();
            // It may read anything.
            w.touch(Obj::Global, Mode::Read);
        }
        self.sh.world.borrow()
    }
}

impl Pid {
    /// "No process": the pid in a `DOWN` for a name that was not registered.
    pub const NONE: Pid = Pid(u32::MAX);
}

/// Future of [`Cx::yield_now`].
pub struct YieldNow<'a> {
    cx: &'a Cx,
    done: bool,
    /// A scheduling point before an effect (the process runs on by default), rather
    /// than the end of its turn.
    run_on: bool,
}

impl Future for YieldNow<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        self.done = true;
        let me = self.cx.me;
        let mut w = self.cx.w();
        w.p(me).sched = Sched::Ready;
        w.refresh_run(me);
        w.stop_running(me, self.run_on);
        if self.run_on && w.runs_on_alone(me) {
            drop(w);
            if step_in_place(&self.cx.sh, me) {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

struct RecvInner<'a> {
    cx: &'a Cx,
    matcher: Option<Matcher>,
    timeout_ms: Option<u64>,
    /// For `after 0`: the scheduling point before the look.
    point: Option<YieldNow<'a>>,
}

impl<'a> RecvInner<'a> {
    fn new(cx: &'a Cx, matcher: Matcher, timeout_ms: Option<u64>) -> Self {
        RecvInner {
            cx,
            matcher: Some(matcher),
            timeout_ms,
            point: (timeout_ms == Some(0)).then(|| cx.effect_point()),
        }
    }

    fn poll(&mut self, task: &mut Context<'_>) -> Poll<Option<Envelope>> {
        if let Some(point) = &mut self.point
            && Pin::new(point).poll(task).is_pending()
        {
            return Poll::Pending;
        }
        let me = self.cx.me;
        let mut w = self.cx.w();
        if let Some(matcher) = self.matcher.take() {
            if self.timeout_ms == Some(0) {
                // `after 0`: look, do not wait.
                let p = w.p(me);
                let found = p.first_match(&matcher);
                let mode = if found.is_some() {
                    Mode::Write
                } else {
                    Mode::Read
                };
                w.touch(Obj::Mailbox(me), mode);
                let p = w.p(me);
                return Poll::Ready(found.and_then(|i| p.mailbox.remove(i)));
            }
            w.begin_wait(me, matcher, self.timeout_ms);
            return Poll::Pending;
        }
        match w.end_wait(me) {
            Ok(r) => Poll::Ready(r),
            Err(()) => {
                w.p(me).sched = Sched::Waiting;
                w.refresh_run(me);
                Poll::Pending
            }
        }
    }
}

/// Future of [`Cx::recv`] and [`Cx::recv_match`].
pub struct Recv<'a>(RecvInner<'a>);

impl Future for Recv<'_> {
    type Output = Envelope;
    fn poll(mut self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Envelope> {
        self.0
            .poll(task)
            .map(|e| e.expect("a receive without timeout ends only with a message"))
    }
}

/// Future of [`Cx::recv_timeout`]: `None` when the timeout fired first.
pub struct RecvTimeout<'a>(RecvInner<'a>);

impl Future for RecvTimeout<'_> {
    type Output = Option<Envelope>;
    fn poll(mut self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Option<Envelope>> {
        self.0.poll(task)
    }
}
