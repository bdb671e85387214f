//! The world: every process, channel, name, table and timer, and the rules that change
//! them. The executor ([`super::exec`]) decides *what* happens next; this module says what
//! each happening *does*, following OTP_MODEL.md rule by rule.
//!
//! Invariants kept here (checked by `debug_assert!` where cheap):
//! - `enabled` is sorted, without duplicates, and holds exactly: `Run(p)` for every live p
//!   that is ready or waiting with a matching message or an expired receive timeout, and
//!   `Deliver{to, from}` for every non-empty channel.
//! - A dead process owns no name, table, link, monitor, timer or mailbox message.

use super::footprint::{Access, Mode, Obj, name_key};
use super::tape::{Action, Fault};
use super::trace::{Effect, EffectView, SignalKind, SignalView, StepKind, Trace};
use super::types::{ExitReason, Name, Payload, Pid, Ref};
use std::any::Any;
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::rc::Rc;

/// A message in a mailbox, with who sent it.
pub struct Envelope {
    /// The sender (for a timer message, the process that set the timer).
    pub from: Pid,
    /// What it is.
    pub body: Body,
    /// The step that put it in the mailbox.
    pub(crate) step: u32,
}

/// The three kinds of mailbox message.
pub enum Body {
    /// An ordinary message. `tag` is set for messages addressed to an alias (call replies).
    Data {
        /// The value.
        payload: Box<dyn Payload>,
        /// Alias tag.
        tag: Option<Ref>,
    },
    /// `{:EXIT, from, reason}`, for a process that traps exits (rule 11).
    Exit {
        /// The reason.
        reason: ExitReason,
    },
    /// `{:DOWN, ref, :process, pid, reason}` (rule 14).
    Down {
        /// The monitor reference.
        mref: Ref,
        /// The monitored process.
        pid: Pid,
        /// Its exit reason (`noproc` if it did not exist).
        reason: ExitReason,
    },
}

impl Envelope {
    /// Is this an ordinary message of type `T`?
    pub fn is<T: Any>(&self) -> bool {
        matches!(&self.body, Body::Data { payload, .. } if (payload.as_ref() as &dyn Any).is::<T>())
    }

    /// Takes the payload out if it is a `T`; gives the envelope back otherwise.
    pub fn downcast<T: Any>(self) -> Result<T, Envelope> {
        match self.body {
            Body::Data { payload, .. } if (payload.as_ref() as &dyn Any).is::<T>() => {
                let any: Box<dyn Any> = payload;
                Ok(*any.downcast::<T>().expect("type checked above"))
            }
            body => Err(Envelope { body, ..self }),
        }
    }

    /// A reference to the payload if it is a `T`.
    pub fn peek<T: Any>(&self) -> Option<&T> {
        match &self.body {
            Body::Data { payload, .. } => (payload.as_ref() as &dyn Any).downcast_ref::<T>(),
            _ => None,
        }
    }

    /// The exit reason if this is an `EXIT` message.
    pub fn exit_reason(&self) -> Option<&ExitReason> {
        match &self.body {
            Body::Exit { reason } => Some(reason),
            _ => None,
        }
    }

    /// `(ref, pid, reason)` if this is a `DOWN` message.
    pub fn down(&self) -> Option<(Ref, Pid, &ExitReason)> {
        match &self.body {
            Body::Down { mref, pid, reason } => Some((*mref, *pid, reason)),
            _ => None,
        }
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.body {
            Body::Data { payload, tag } => {
                write!(f, "{:?} from {} tag {:?}", payload, self.from, tag)
            }
            Body::Exit { reason } => write!(f, "{{:EXIT, {}, {reason:?}}}", self.from),
            Body::Down { mref, pid, reason } => {
                write!(f, "{{:DOWN, {mref:?}, {pid}, {reason:?}}}")
            }
        }
    }
}

/// Which mailbox messages a `receive` accepts.
#[derive(Clone)]
pub enum Matcher {
    /// Any message.
    Any,
    /// A message addressed to alias `r`, or the `DOWN` of monitor `r` (a call's reply).
    Tag(Ref),
    /// An arbitrary predicate.
    Fn(Rc<dyn Fn(&Envelope) -> bool>),
    /// A message whose payload is of this type ([`Matcher::of`]): no allocation.
    Type(std::any::TypeId),
    /// No message at all: waits only for a timeout, or for a signal that ends the process.
    Nothing,
}

impl Matcher {
    /// A predicate matcher.
    pub fn when(f: impl Fn(&Envelope) -> bool + 'static) -> Self {
        Matcher::Fn(Rc::new(f))
    }

    /// A message whose payload is a `T`.
    pub fn of<T: Any>() -> Self {
        Matcher::Type(std::any::TypeId::of::<T>())
    }

    #[inline]
    pub(crate) fn matches(&self, e: &Envelope) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Tag(r) => match &e.body {
                Body::Data { tag, .. } => *tag == Some(*r),
                Body::Down { mref, .. } => mref == r,
                Body::Exit { .. } => false,
            },
            Matcher::Fn(f) => f(e),
            Matcher::Type(t) => matches!(&e.body,
                Body::Data { payload, .. } if (payload.as_ref() as &dyn Any).type_id() == *t),
            Matcher::Nothing => false,
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Any => write!(f, "Any"),
            Matcher::Tag(r) => write!(f, "Tag({r:?})"),
            Matcher::Fn(_) => write!(f, "Fn"),
            Matcher::Type(_) => write!(f, "Type"),
            Matcher::Nothing => write!(f, "Nothing"),
        }
    }
}

/// Where a timer message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A pid: the timer is cancelled when it dies (rule 48).
    Pid(Pid),
    /// A name, resolved when the timer fires (rule 48).
    Name(Name),
}

impl From<Pid> for Dest {
    fn from(p: Pid) -> Self {
        Dest::Pid(p)
    }
}

impl From<&str> for Dest {
    fn from(n: &str) -> Self {
        Dest::Name(n.into())
    }
}

/// A signal travelling on a channel (rule 1).
pub(crate) enum Signal {
    Message {
        payload: Box<dyn Payload>,
        tag: Option<Ref>,
    },
    Link,
    /// ERTS's `UNLINK_ID`: the sender has dropped its side of the link.
    UnlinkId {
        id: Ref,
    },
    /// `UNLINK_ID_ACK`: the receiver of `UNLINK_ID` has dropped its side too.
    UnlinkAck {
        id: Ref,
    },
    Exit {
        reason: ExitReason,
        linked: bool,
    },
    Monitor {
        mref: Ref,
    },
    Demonitor {
        mref: Ref,
    },
    Down {
        mref: Ref,
        reason: ExitReason,
    },
}

impl Signal {
    /// The signal as traces show it: with the message's value when `values` (full
    /// traces), its type otherwise.
    fn kind(&self, values: bool) -> SignalKind {
        match self {
            Signal::Message { payload, .. } if values => {
                SignalKind::Message(Cow::Owned(super::trace::value_text(&**payload)))
            }
            Signal::Message { payload, .. } => {
                SignalKind::Typed(Cow::Borrowed((**payload).type_name()))
            }
            Signal::Link => SignalKind::Link,
            Signal::UnlinkId { .. } => SignalKind::Unlink,
            Signal::UnlinkAck { .. } => SignalKind::UnlinkAck,
            Signal::Exit { reason, linked } => SignalKind::Exit {
                reason: reason.clone(),
                linked: *linked,
            },
            Signal::Monitor { .. } => SignalKind::Monitor,
            Signal::Demonitor { .. } => SignalKind::Demonitor,
            Signal::Down { reason, .. } => SignalKind::Down(reason.clone()),
        }
    }

    fn view(&self) -> SignalView<'_> {
        match self {
            Signal::Message { payload, .. } => SignalView::Message(&**payload),
            Signal::Link => SignalView::Link,
            Signal::UnlinkId { .. } => SignalView::Unlink,
            Signal::UnlinkAck { .. } => SignalView::UnlinkAck,
            Signal::Exit { reason, linked } => SignalView::Exit(reason, *linked),
            Signal::Monitor { .. } => SignalView::Monitor,
            Signal::Demonitor { .. } => SignalView::Demonitor,
            Signal::Down { reason, .. } => SignalView::Down(reason),
        }
    }

    /// Signals that still mean something after the receiver died: they are answered with
    /// `noproc`.
    fn answered_when_dead(&self) -> bool {
        matches!(self, Signal::Link | Signal::Monitor { .. })
    }
}

struct Queued {
    signal: Signal,
    step: u32,
}

struct Channel {
    from: Pid,
    queue: VecDeque<Queued>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sched {
    /// Yielded at an effect; runs again when picked.
    Ready,
    /// Blocked in `receive`.
    Waiting,
    /// Being polled now.
    Running,
    /// Terminated.
    Dead,
}

pub(crate) struct Proc {
    pub label: Option<Name>,
    pub sched: Sched,
    pub exit_reason: Option<ExitReason>,
    matcher: Matcher,
    /// Index of the first mailbox message the matcher accepts, when waiting.
    match_at: Option<usize>,
    pub timed_out: bool,
    recv_timer: Option<(u64, u64)>,
    pub mailbox: VecDeque<Envelope>,
    pub trap_exit: bool,
    /// Active links, sorted; changed only through [`Proc::link`], [`Proc::unlink`] and
    /// [`Proc::take_links`], which count the change in `links_version`.
    links: Vec<Pid>,
    /// Counts the changes to `links` ([`World::links_version`]).
    links_version: u32,
    /// Links this process has removed on its side and whose `UNLINK_ID` is not yet
    /// acknowledged: (partner, unlink id).
    pub unlinking: Vec<(Pid, Ref)>,
    /// Monitors this process holds: (ref, target).
    pub monitors: Vec<(Ref, Pid)>,
    /// Monitors on this process: (ref, watcher).
    pub monitored_by: Vec<(Ref, Pid)>,
    pub names: Vec<Name>,
    pub tables: Vec<u64>,
    pub aliases: Vec<Ref>,
    /// Sorted by sender.
    inbound: Vec<Channel>,
    pub crash_armed: bool,
    /// A panic in this process is an OTP crash (exit reason `panic: …`) rather than a
    /// failure of the run ([`super::exec::Panics`]).
    pub panics_crash: bool,
    pub parent: Option<Pid>,
    pub group: u32,
    pub last_step: Option<u32>,
    pub consumed_step: Option<u32>,

    /// When it last became runnable ([`World::offer`]'s run-queue order).
    ready_at: u64,
    pub state: Option<Rc<dyn Any>>,
    /// Counts the steps that could change what [`World::version_of`] covers.
    pub version: u32,
}

impl Proc {
    /// Adds a link to `to`, if there is none. True if it was added.
    pub(crate) fn link(&mut self, to: Pid) -> bool {
        match self.links.binary_search(&to) {
            Ok(_) => false,
            Err(i) => {
                self.links.insert(i, to);
                self.links_version = self.links_version.wrapping_add(1);
                true
            }
        }
    }

    /// Removes the link to `to`, if there is one. True if it was removed.
    pub(crate) fn unlink(&mut self, to: Pid) -> bool {
        match self.links.binary_search(&to) {
            Ok(i) => {
                self.links.remove(i);
                self.links_version = self.links_version.wrapping_add(1);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes every link (at death).
    fn take_links(&mut self) -> Vec<Pid> {
        self.links_version = self.links_version.wrapping_add(1);
        std::mem::take(&mut self.links)
    }

    /// The index of the first message in the mailbox that `matcher` accepts. An empty
    /// mailbox, what most receives that wait and every sleep find, sets up no scan.
    #[inline]
    pub(crate) fn first_match(&self, matcher: &Matcher) -> Option<usize> {
        if self.mailbox.is_empty() {
            return None;
        }
        self.mailbox.iter().position(|e| matcher.matches(e))
    }
}

/// What a timer does when it fires.
pub(crate) enum TimerKind {
    SendAfter {
        from: Pid,
        dest: Dest,
        payload: Box<dyn Payload>,
    },
    RecvTimeout {
        pid: Pid,
    },
}

pub(crate) struct Timer {
    kind: TimerKind,
    set_step: Option<u32>,
}

/// Pending timers by (deadline, sequence number): a vector sorted latest first, so the
/// next timer pops off the end. Few timers are pending at once, so a sorted vector beats
/// a tree here, and it keeps its allocation when it empties (a ring of `sleep`s would
/// otherwise allocate and free a tree node per timer).
#[derive(Default)]
struct TimerQueue(Vec<((u64, u64), Timer)>);

impl TimerQueue {
    fn position(&self, key: &(u64, u64)) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| key.cmp(k))
    }

    fn insert(&mut self, key: (u64, u64), timer: Timer) {
        let i = self.position(&key).unwrap_or_else(|i| i);
        self.0.insert(i, (key, timer));
    }

    fn remove(&mut self, key: &(u64, u64)) -> Option<Timer> {
        let i = self.position(key).ok()?;
        Some(self.0.remove(i).1)
    }

    /// Removes the `send_after` set with this ref, if it is pending. A scan: few timers
    /// are pending at once, and an insert moves as many entries.
    fn remove_send_after(&mut self, seq: u64) -> Option<((u64, u64), Timer)> {
        let i = self
            .0
            .iter()
            .position(|((_, s), t)| *s == seq && matches!(t.kind, TimerKind::SendAfter { .. }))?;
        Some(self.0.remove(i))
    }

    fn pop_first(&mut self) -> Option<((u64, u64), Timer)> {
        self.0.pop()
    }

    fn first_key(&self) -> Option<(u64, u64)> {
        self.0.last().map(|(k, _)| *k)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = &((u64, u64), Timer)> {
        self.0.iter()
    }
}

pub(crate) struct Table {
    pub owner: Pid,
    pub name: Option<Name>,
    pub data: Box<dyn Any>,
}

/// What [`World::versions`] counts; two readings are equal only if nothing they count
/// changed in between.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Versions {
    /// Processes spawned so far ([`World::pids`]'s length): a spawn changes it.
    pub spawned: u32,
    /// Processes alive ([`World::live_count`]): with `spawned`, any death changes the
    /// pair.
    pub live: u32,
    /// Changes to the registered names ([`World::whereis`]): a register, an
    /// unregister, a death that drops names.
    pub names: u32,
    /// Changes to tables ([`World::table_read`], [`World::table_named`]): a table made,
    /// written, renamed, given away or dropped; an operation that only reads does not
    /// count.
    pub tables: u32,
}

/// A timer that has not fired yet ([`World::timers`]).
#[derive(Debug)]
pub struct PendingTimer<'a> {
    /// When it fires, in virtual milliseconds.
    pub due_ms: u64,
    /// The process that set it (for a receive timeout, the waiting process).
    pub owner: Pid,
    /// Where its message goes; `None` for a receive timeout.
    pub dest: Option<&'a Dest>,
    /// The message it will deliver; `None` for a receive timeout.
    pub message: Option<&'a dyn Payload>,
}

/// A limit that was reached.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "bound")]
pub enum Bound {
    /// `steps_max` steps ran without the run ending.
    Steps {
        /// The limit.
        max: u32,
    },
    /// A spawn would exceed `processes_max`.
    Processes {
        /// The limit.
        max: u32,
    },
    /// A mailbox grew beyond `mailbox_max`.
    Mailbox {
        /// Whose.
        pid: Pid,
        /// The limit.
        max: u32,
    },
    /// The tape grew beyond `tape_max` entries.
    Tape {
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Steps { max } => write!(
                f,
                "exceeded steps_max ({max}): a process may be looping without waiting, or \
                 messages keep circulating — see the last trace events"
            ),
            Bound::Processes { max } => write!(
                f,
                "exceeded processes_max ({max}): something keeps spawning (a restart or retry loop?)"
            ),
            Bound::Mailbox { pid, max } => write!(
                f,
                "the mailbox of {pid} exceeded mailbox_max ({max}): it receives faster than it handles, \
                 or never receives what it is sent"
            ),
            Bound::Tape { max } => write!(f, "exceeded tape_max ({max} choices)"),
        }
    }
}

/// How signals travel between processes (docs/delivery-models.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// One node, as a real BEAM runs it: a signal is handled by its receiver the moment
    /// it is sent, so causal order holds across senders and a process never runs on with
    /// a signal already queued for it. The scheduler chooses which process runs next (at
    /// every effect), when time moves and where faults land.
    #[default]
    Local,
    /// Between nodes, what the spec allows: one FIFO channel per ordered pair of
    /// processes, and each delivery a step of its own that the scheduler places. A
    /// signal a process sends itself is still handled at once.
    Distributed,
}

impl Delivery {
    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Local => "local",
            Delivery::Distributed => "distributed",
        }
    }
}

/// Limits on a run. Hitting one ends the run with a reported outcome, never a hang. The
/// defaults are the same for a [`crate::sim::Sim`], a scenario file and [`crate::test()`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Steps in one run.
    pub steps_max: u32,
    /// Processes spawned in one run.
    pub processes_max: u32,
    /// Messages waiting in one mailbox.
    pub mailbox_max: u32,
    /// Recorded choices in one run.
    pub tape_max: usize,
    /// Virtual time: a timer beyond this never fires and the run ends there (not an error:
    /// periodic timers would otherwise run forever).
    pub time_max_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps_max: 50_000,
            processes_max: 1_000,
            mailbox_max: 1_000,
            tape_max: 1_000_000,
            time_max_ms: 600_000,
        }
    }
}

/// Which processes a fault may hit.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    /// Every live process.
    #[default]
    All,
    /// Live processes whose label is one of these.
    Labels(Vec<String>),
}

/// The faults a run may inject, and how many.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FaultMenu {
    /// Faults in one run.
    pub budget: u32,
    /// Offer "kill p with this reason" for each reason here.
    pub kill_reasons: Vec<ExitReason>,
    /// Offer "crash p right after its next effect".
    pub crash_after_effect: bool,
    /// Offer "fail the next init".
    pub fail_init: bool,
    /// Who may be hit.
    pub targets: Targets,
}

impl FaultMenu {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    fn offers_any(&self) -> bool {
        self.budget > 0
            && (!self.kill_reasons.is_empty() || self.crash_after_effect || self.fail_init)
    }
}

/// Everything in a simulated world. Invariants read it through its public methods.
pub struct World {
    pub(crate) procs: Vec<Proc>,
    /// Enabled actions, sorted (canonical order).
    pub(crate) enabled: Vec<Action>,
    names: BTreeMap<Name, Pid>,
    pub(crate) tables: BTreeMap<u64, Table>,
    pub(crate) table_names: BTreeMap<Name, u64>,
    timers: TimerQueue,
    now_ms: u64,
    next_ref: u64,
    pub(crate) step: u32,
    pub(crate) current: Option<Pid>,
    pub(crate) trace: Trace,
    pub(crate) limits: Limits,
    pub(crate) menu: FaultMenu,
    pub(crate) faults_left: u32,
    pub(crate) init_failures_armed: u32,
    pub(crate) bound_hit: Option<Bound>,
    /// Processes killed during the step whose futures the executor must drop.
    pub(crate) dead_futures: Vec<Pid>,
    live: u32,
    next_group: u32,
    /// A process's pending `draw(n)`, answered before the next decision.
    pub(crate) draw_request: Option<(Pid, u32)>,
    /// Answers not yet read by their processes.
    pub(crate) draw_answers: BTreeMap<Pid, u32>,
    /// The panic policy of top-level processes.
    pub(crate) panics: super::exec::Panics,
    /// Live pids, sorted. Invariant: exactly the pids whose process is not dead.
    live_list: Vec<Pid>,
    /// Something the fault menu's options depend on changed since they were built.
    pub(crate) fault_dirty: bool,
    /// Values the system under test shares with its invariants ([`World::get`]), one per
    /// type, in the order shared. A handful at most: a scan comparing type ids costs less
    /// than a tree's ordered comparisons, and invariants look them up after every step.
    pub(crate) shared: Vec<(std::any::TypeId, Rc<dyn Any>)>,
    /// How signals travel.
    pub(crate) delivery: Delivery,
    /// Signals handled at once, in the order they were sent (a death inside one sends
    /// more); drained by the outermost [`World::push_signal`].
    handling: VecDeque<(Pid, Pid, Signal)>,
    handling_now: bool,
    /// The process that stopped at an effect and may run on: the default next action.
    pub(crate) running_on: Option<Pid>,
    /// With one node's delivery, the processes that were runnable when the running
    /// process's turn began: the only ones it can be preempted for. One woken during its
    /// turn (spawned, sent a message) starts only once it blocks or stops.
    pub(crate) turn_peers: Vec<Pid>,
    /// Processes that became runnable during the running process's turn (a spawn, a
    /// message), with the effects it had passed then.
    woken: Vec<(Pid, u32)>,
    /// Effects the running process has passed in its turn.
    pub(crate) turn_effects: u32,
    /// Counts the times a process became runnable: the run queue's order.
    ready_seq: u64,
    /// Record what each step touches ([`World::touch`]), for a chooser that reduces.
    pub(crate) fp_on: bool,
    /// Steps may end inside a process where the next decision has no choice
    /// ([`World::runs_on_alone`]); off only to test that this changes nothing.
    pub(crate) in_place: bool,
    /// What the step in progress touched.
    pub(crate) fp: Vec<Access>,
    /// Actions the step in progress disabled (recorded with `fp`).
    pub(crate) disabled: Vec<Action>,
    /// The cause of the process step in progress (from `causes`).
    pub(crate) run_cause: Option<u32>,
    /// By pid, while footprints are recorded: the step a process's next step cannot
    /// come before (its spawn, the timeout that woke it; the send of a message it takes
    /// is its `consumed_step`). Causality for partial-order reduction.
    pub(crate) causes: Vec<Option<u32>>,
    /// Emptied mailboxes of an earlier world's processes, for the next spawns to take
    /// (their buffers, never their messages).
    spare_mailboxes: Vec<VecDeque<Envelope>>,
    /// Labels and names made before, this world's and earlier worlds' on this thread,
    /// the latest last: a sweep spawns the same labels seed after seed, and each is
    /// made once ([`World::name_of`]).
    known_names: Vec<Name>,
    /// Counts the changes to registered names ([`Versions::names`]).
    names_version: u32,
    /// Counts the changes to tables ([`Versions::tables`]).
    pub(crate) tables_version: u32,
    /// [`World::audit_reads`].
    auditing: std::cell::Cell<bool>,
    audited: std::cell::RefCell<Vec<(Pid, bool)>>,
}

/// Mailboxes kept for a later world: how many, and the largest capacity kept (a process
/// that once queued a million messages does not pin their memory).
const SPARE_MAILBOXES: usize = 256;
const SPARE_MAILBOX_CAPACITY: usize = 64;
/// Names [`World::name_of`] keeps, and the longest.
const KNOWN_NAMES: usize = 32;
const KNOWN_NAME_LEN: usize = 64;

/// Effects a process may pass in one turn before it goes to the back of the run queue,
/// as the BEAM preempts a process when its reductions run out: a process that polls in
/// a loop cannot keep the ones it woke from ever running.
pub const TURN_EFFECTS_MAX: u32 = 100;

/// With one node's delivery, the effects the running process passes after it wakes a
/// process (spawns it, sends it a message) before that process can be scheduled in its
/// place: the time another scheduler takes to pick a woken process up. A real BEAM never
/// showed the child of a `spawn` run before the parent's next call (200,000 tries), nor
/// a process woken by a message handle it before its sender's next signal (50,000).
pub const WAKE_EFFECTS: u32 = 2;

impl World {
    pub(crate) fn new(
        limits: Limits,
        menu: FaultMenu,
        full_trace: bool,
        delivery: Delivery,
    ) -> Self {
        World {
            procs: Vec::new(),
            enabled: Vec::new(),
            names: BTreeMap::new(),
            tables: BTreeMap::new(),
            table_names: BTreeMap::new(),
            timers: TimerQueue::default(),
            now_ms: 0,
            next_ref: 1,
            step: 0,
            current: None,
            trace: Trace::new(full_trace),
            limits,
            faults_left: menu.budget,
            menu,
            init_failures_armed: 0,
            bound_hit: None,
            dead_futures: Vec::new(),
            live: 0,
            next_group: 1,
            draw_request: None,
            draw_answers: BTreeMap::new(),
            panics: super::exec::Panics::default(),
            shared: Vec::new(),
            live_list: Vec::new(),
            fault_dirty: true,
            delivery,
            handling: VecDeque::new(),
            handling_now: false,
            running_on: None,
            turn_peers: Vec::new(),
            woken: Vec::new(),
            turn_effects: 0,
            ready_seq: 0,
            fp_on: false,
            in_place: true,
            fp: Vec::new(),
            disabled: Vec::new(),
            run_cause: None,
            causes: Vec::new(),
            spare_mailboxes: Vec::new(),
            known_names: Vec::new(),
            names_version: 0,
            tables_version: 0,
            auditing: std::cell::Cell::new(false),
            audited: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Makes this world a new one, as [`World::new`] builds it, that keeps the old one's
    /// buffers (emptied): a sweep that runs world after world allocates them once, not
    /// once per seed. Nothing else carries over: every field is the new world's.
    pub(crate) fn recycle(
        &mut self,
        limits: Limits,
        menu: FaultMenu,
        full_trace: bool,
        delivery: Delivery,
    ) {
        fn emptied<T>(mut v: Vec<T>) -> Vec<T> {
            v.clear();
            v
        }
        let old = std::mem::replace(self, World::new(limits, menu, full_trace, delivery));
        let w = self;
        let mut procs = old.procs;
        let mut spare = old.spare_mailboxes;
        for p in &mut procs {
            if spare.len() < SPARE_MAILBOXES
                && (1..=SPARE_MAILBOX_CAPACITY).contains(&p.mailbox.capacity())
            {
                let mut mailbox = std::mem::take(&mut p.mailbox);
                mailbox.clear();
                spare.push(mailbox);
            }
        }
        w.spare_mailboxes = spare;
        w.known_names = old.known_names;
        w.procs = emptied(procs);
        w.enabled = emptied(old.enabled);
        w.timers = TimerQueue(emptied(old.timers.0));
        w.dead_futures = emptied(old.dead_futures);
        w.live_list = emptied(old.live_list);
        w.turn_peers = emptied(old.turn_peers);
        w.woken = emptied(old.woken);
        w.fp = emptied(old.fp);
        w.disabled = emptied(old.disabled);
        w.causes = emptied(old.causes);
        let mut handling = old.handling;
        handling.clear();
        w.handling = handling;
        w.trace = old.trace.recycled(full_trace);
    }

    // ---- read-only view, for invariants and tests -------------------------------------

    /// Virtual time, in milliseconds.
    #[inline]
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Steps taken so far.
    #[inline]
    pub fn step(&self) -> u32 {
        self.step
    }

    /// Has `pid` been spawned and not yet terminated?
    #[inline]
    pub fn is_alive(&self, pid: Pid) -> bool {
        self.proc(pid).is_some_and(|p| p.sched != Sched::Dead)
    }

    /// Why `pid` terminated, if it has.
    #[inline]
    pub fn exit_reason(&self, pid: Pid) -> Option<&ExitReason> {
        self.proc(pid).and_then(|p| p.exit_reason.as_ref())
    }

    /// The pid registered under `name`.
    #[inline]
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.names.get(name).copied()
    }

    /// All registered names, in name order.
    pub fn registered(&self) -> impl Iterator<Item = (&str, Pid)> {
        self.names.iter().map(|(n, p)| (&**n, *p))
    }

    /// Every pid ever spawned, in spawn order (`.len()` is how many were spawned).
    pub fn pids(&self) -> impl ExactSizeIterator<Item = Pid> + DoubleEndedIterator + '_ {
        (0..self.procs.len() as u32).map(Pid)
    }

    /// Live pids, in spawn order (from an index of the living: the cost does not grow
    /// with the processes that ever lived).
    pub fn live_pids(&self) -> impl Iterator<Item = Pid> + '_ {
        self.live_list.iter().copied()
    }

    /// Number of live processes.
    #[inline]
    pub fn live_count(&self) -> u32 {
        self.live
    }

    /// Counters of the changes to the world's shared parts, for a check run after every
    /// step that would rather skip the steps that changed nothing it reads: while the
    /// counters it depends on are unchanged, it reads what it read before. The
    /// per-process part is [`World::version_of`]; mailboxes, the signals on their way,
    /// the clock and the timers are counted nowhere.
    #[inline]
    pub fn versions(&self) -> Versions {
        Versions {
            spawned: self.procs.len() as u32,
            live: self.live,
            names: self.names_version,
            tables: self.tables_version,
        }
    }

    /// For the tests of checks that skip by [`World::version_of`]: while `on`, the
    /// accessors of a process's own state ([`World::with_state`], [`World::links`],
    /// [`World::monitors`], [`World::monitored_by`], [`World::traps_exits`]) note the
    /// pid they are asked about, for [`World::audited_reads`].
    #[doc(hidden)]
    pub fn audit_reads(&self, on: bool) {
        self.auditing.set(on);
        self.audited.borrow_mut().clear();
    }

    /// The pids read since [`World::audit_reads`], each with whether only its links were
    /// read (by that accessor call).
    #[doc(hidden)]
    pub fn audited_reads(&self) -> Vec<(Pid, bool)> {
        self.audited.take()
    }

    #[inline(always)]
    fn audit(&self, pid: Pid, links_only: bool) {
        if self.auditing.get() {
            self.note_read(pid, links_only);
        }
    }

    #[cold]
    #[inline(never)]
    fn note_read(&self, pid: Pid, links_only: bool) {
        self.audited.borrow_mut().push((pid, links_only));
    }

    /// Changes whenever `pid`'s links ([`World::links`]) do: a check that reads only
    /// them can watch this rather than [`World::version_of`], which also changes with
    /// everything the process runs. 0 for a pid never spawned.
    #[inline]
    pub fn links_version(&self, pid: Pid) -> u32 {
        self.proc(pid).map_or(0, |p| p.links_version)
    }

    /// Changes whenever a step may have changed what the world holds of `pid` apart
    /// from its mailbox: a step that runs it (its published state, its links and
    /// monitors), a signal handled by it (a link, an exit, a monitor, a `DOWN`), its
    /// death (its exit reason), and the death of a process that monitored it. Its label
    /// and parent never change. 0 for a pid never spawned.
    #[inline]
    pub fn version_of(&self, pid: Pid) -> u32 {
        self.proc(pid).map_or(0, |p| p.version)
    }

    /// The label given at spawn (a GenServer's name, say).
    #[inline]
    pub fn label(&self, pid: Pid) -> Option<&str> {
        self.proc(pid).and_then(|p| p.label.as_deref())
    }

    /// The process that spawned `pid`.
    #[inline]
    pub fn parent(&self, pid: Pid) -> Option<Pid> {
        self.proc(pid).and_then(|p| p.parent)
    }

    /// The spawn group (an application's group leader), inherited from the parent.
    #[inline]
    pub fn group(&self, pid: Pid) -> u32 {
        self.proc(pid).map_or(0, |p| p.group)
    }

    /// The processes `pid` is linked to, as `pid` sees it.
    #[inline]
    pub fn links(&self, pid: Pid) -> &[Pid] {
        self.audit(pid, true);
        self.proc(pid).map_or(&[], |p| &p.links)
    }

    /// Monitors `pid` holds: (reference, target).
    #[inline]
    pub fn monitors(&self, pid: Pid) -> &[(Ref, Pid)] {
        self.audit(pid, false);
        self.proc(pid).map_or(&[], |p| &p.monitors)
    }

    /// Monitors on `pid`: (reference, watcher).
    #[inline]
    pub fn monitored_by(&self, pid: Pid) -> &[(Ref, Pid)] {
        self.audit(pid, false);
        self.proc(pid).map_or(&[], |p| &p.monitored_by)
    }

    /// Messages waiting in `pid`'s mailbox.
    pub fn mailbox_len(&self, pid: Pid) -> usize {
        self.proc(pid).map_or(0, |p| p.mailbox.len())
    }

    /// Does `pid` trap exits?
    pub fn traps_exits(&self, pid: Pid) -> bool {
        self.audit(pid, false);
        self.proc(pid).is_some_and(|p| p.trap_exit)
    }

    /// Signals in flight on the channel `from -> to`.
    pub fn in_flight(&self, from: Pid, to: Pid) -> usize {
        self.proc(to)
            .and_then(|p| p.inbound.iter().find(|c| c.from == from))
            .map_or(0, |c| c.queue.len())
    }

    /// Timers pending.
    pub fn timers_pending(&self) -> usize {
        self.timers.len()
    }

    /// The owner of a table, while it exists.
    #[inline]
    pub fn table_owner(&self, id: u64) -> Option<Pid> {
        self.tables.get(&id).map(|t| t.owner)
    }

    /// The table registered under `name` (a named ETS table), while it exists.
    #[inline]
    pub fn table_named(&self, name: &str) -> Option<u64> {
        self.table_names.get(name).copied()
    }

    /// Reads a table's contents (`None` if it does not exist or is not of type K -> V).
    pub fn table_read<K: Ord + 'static, V: 'static>(&self, id: u64) -> Option<&BTreeMap<K, V>> {
        self.tables.get(&id)?.data.downcast_ref()
    }

    /// Does the table exist (its owner is alive)?
    #[inline]
    pub fn table_exists(&self, id: u64) -> bool {
        self.tables.contains_key(&id)
    }

    /// Reads the observable state a process published (a GenServer's state between
    /// callbacks). `None` if it published none of that type, or is inside a callback.
    pub fn with_state<S: 'static, R>(&self, pid: Pid, f: impl FnOnce(&S) -> R) -> Option<R> {
        self.audit(pid, false);
        let cell = self.proc(pid)?.state.as_ref()?;
        let cell = cell.downcast_ref::<std::cell::RefCell<Option<S>>>()?;
        let guard = cell.try_borrow().ok()?;
        guard.as_ref().map(f)
    }

    /// The messages waiting in `pid`'s mailbox, oldest first (empty for a dead or unknown
    /// pid). [`Envelope::peek`] reads a payload of a known type; `{:?}` prints any.
    pub fn mailbox(&self, pid: Pid) -> impl Iterator<Item = &Envelope> + '_ {
        self.proc(pid).into_iter().flat_map(|p| p.mailbox.iter())
    }

    /// Pending timers, earliest first: `send_after` timers with their message and
    /// destination, and the timeouts of processes waiting in a `receive ... after`.
    pub fn timers(&self) -> impl Iterator<Item = PendingTimer<'_>> + '_ {
        self.timers.iter().rev().map(|(key, t)| match &t.kind {
            TimerKind::SendAfter {
                from,
                dest,
                payload,
            } => PendingTimer {
                due_ms: key.0,
                owner: *from,
                dest: Some(dest),
                message: Some(payload.as_ref()),
            },
            TimerKind::RecvTimeout { pid } => PendingTimer {
                due_ms: key.0,
                owner: *pid,
                dest: None,
                message: None,
            },
        })
    }

    /// A value the system shared with its invariants through [`crate::sim::Sim::share`]
    /// (a handle on its services, an observer), by type.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        let id = std::any::TypeId::of::<T>();
        self.shared
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| v.downcast_ref::<T>())
    }

    /// Enabled actions, in canonical order.
    pub fn enabled(&self) -> &[Action] {
        &self.enabled
    }

    // ---- internal helpers -------------------------------------------------------------

    #[inline]
    fn proc(&self, pid: Pid) -> Option<&Proc> {
        self.procs.get(pid.0 as usize)
    }

    #[inline]
    pub(crate) fn p(&mut self, pid: Pid) -> &mut Proc {
        &mut self.procs[pid.0 as usize]
    }

    /// Notes that the step in progress touched `o` (when a chooser asked for footprints).
    #[inline(always)]
    pub(crate) fn touch(&mut self, o: Obj, m: Mode) {
        if self.fp_on {
            self.record_touch(o, m);
        }
    }

    /// Out of line: only a reducing search records footprints, and the step loop of
    /// every other run stays as small as it was.
    #[cold]
    #[inline(never)]
    fn record_touch(&mut self, o: Obj, m: Mode) {
        self.fp.push((o, m));
    }

    #[cold]
    #[inline(never)]
    fn set_cause(&mut self, pid: Pid, step: u32) {
        let i = pid.0 as usize;
        if self.causes.len() <= i {
            self.causes.resize(i + 1, None);
        }
        self.causes[i] = Some(step);
    }

    /// Under one node's delivery, `q` became runnable or stopped being so, other than
    /// by its own step (whose own runnability `explore::dpor` reads off the enabled sets).
    #[cold]
    #[inline(never)]
    fn record_ready(&mut self, q: Pid) {
        if self.delivery != Delivery::Local || self.current == Some(q) {
            return;
        }
        self.fp.push((Obj::Ready(q), Mode::Write));
        // Woken by a timer, outside any process's step: it waits for the running
        // process's turn to end, so whether that turn began before or after the timer
        // matters.
        if self.current.is_none() {
            self.fp.push((Obj::Sched, Mode::Write));
        }
    }

    #[cold]
    #[inline(never)]
    fn record_turn_start(&mut self, pid: Pid) {
        self.fp.push((Obj::Ready(pid), Mode::Read));
        self.fp.push((Obj::Sched, Mode::Read));
    }

    /// After `pid`'s step under one node's delivery: a process that stopped being
    /// runnable (it waits, it ended) changed who may preempt the turns that begin after
    /// it; a turn that began in this step and goes on read who was runnable then.
    pub(crate) fn record_turn(&mut self, pid: Pid) {
        if self.delivery != Delivery::Local {
            return;
        }
        let began = self.fp.contains(&(Obj::Ready(pid), Mode::Read));
        if self.enabled.binary_search(&Action::Run(pid)).is_err() {
            // Over the turn-start mark: `footprint::normalize` keeps the write.
            self.fp.push((Obj::Ready(pid), Mode::Write));
            // It waits because nothing it takes was there: a message arriving first
            // would have let it run on in its turn, where waiting ends the turn and the
            // message then wakes it behind the turn that runs. So its wait reads its
            // mailbox, and is in a race with an arrival.
            if self.procs[pid.0 as usize].sched == Sched::Waiting {
                self.fp.push((Obj::Mailbox(pid), Mode::Read));
            }
        } else if began && self.running_on == Some(pid) {
            for q in 0..self.procs.len() {
                if q != pid.0 as usize && self.procs[q].sched != Sched::Dead {
                    self.fp.push((Obj::Ready(Pid(q as u32)), Mode::Read));
                }
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn record_disabled(&mut self, a: Action) {
        self.disabled.push(a);
    }

    pub(crate) fn make_ref(&mut self) -> Ref {
        self.touch(Obj::Counters, Mode::Write);
        let r = Ref(self.next_ref);
        self.next_ref += 1;
        r
    }

    #[inline]
    fn set_enabled(&mut self, a: Action, on: bool) {
        match (self.enabled.binary_search(&a), on) {
            (Err(i), true) => {
                insert_at(&mut self.enabled, i, a);
                if let Action::Run(q) = a {
                    if self.fp_on {
                        self.record_ready(q);
                    }
                    self.ready_seq += 1;
                    self.procs[q.0 as usize].ready_at = self.ready_seq;
                    // Only one node's delivery limits whom a woken process may preempt.
                    if self.delivery == Delivery::Local && self.current.is_some_and(|c| c != q) {
                        self.woken.push((q, self.turn_effects));
                    }
                }
            }
            (Ok(i), false) => {
                remove_at(&mut self.enabled, i);
                if self.fp_on {
                    self.record_disabled(a);
                    if let Action::Run(q) = a {
                        self.record_ready(q);
                    }
                }
            }
            _ => {}
        }
    }

    /// Recomputes whether `Run(pid)` is enabled.
    #[inline]
    pub(crate) fn refresh_run(&mut self, pid: Pid) {
        let p = &self.procs[pid.0 as usize];
        let runnable = match p.sched {
            Sched::Ready => true,
            Sched::Waiting => p.match_at.is_some() || p.timed_out,
            Sched::Running | Sched::Dead => false,
        };
        self.set_enabled(Action::Run(pid), runnable);
    }

    /// Fills `out` with the actions offered at this decision, the default first:
    /// - where a process stopped at an effect and may run on, it comes first (it runs
    ///   on), then what the scheduler may do instead: with one node's delivery the
    ///   processes that were runnable when its turn began or that its effects woke
    ///   [`WAKE_EFFECTS`] effects ago, between nodes everything enabled;
    /// - anywhere else, the runnable processes in the order they became runnable (one
    ///   BEAM scheduler's run queue: a process that ends its turn goes to the back), then
    ///   the deliveries in canonical order.
    #[inline(always)]
    pub(crate) fn offer(&self, out: &mut Vec<Action>) {
        out.clear();
        if self.enabled.len() <= 1 {
            // Whichever rule applies, a lone enabled action is all that is offered.
            out.extend_from_slice(&self.enabled);
            return;
        }
        self.offer_among(out);
    }

    /// [`World::offer`] when two or more actions are enabled.
    fn offer_among(&self, out: &mut Vec<Action>) {
        if let Some(p) = self.running_on
            && self.enabled.binary_search(&Action::Run(p)).is_ok()
        {
            let me = Action::Run(p);
            out.push(me);
            match self.delivery {
                Delivery::Local => {
                    out.extend(self.enabled.iter().filter(|a| match a {
                        Action::Run(q) => {
                            *q != p
                                && (self.turn_peers.binary_search(q).is_ok()
                                    || self.woken.iter().rev().find(|(w, _)| w == q).is_some_and(
                                        |(_, at)| self.turn_effects >= at + WAKE_EFFECTS,
                                    ))
                        }
                        Action::Deliver { .. } => true,
                    }))
                }
                Delivery::Distributed => out.extend(self.enabled.iter().filter(|a| **a != me)),
            }
            return;
        }
        let runs = self
            .enabled
            .partition_point(|a| matches!(a, Action::Run(_)));
        out.extend_from_slice(&self.enabled[..runs]);
        out.sort_by_key(|a| match a {
            Action::Run(q) => self.procs[q.0 as usize].ready_at,
            Action::Deliver { .. } => u64::MAX,
        });
        out.extend_from_slice(&self.enabled[runs..]);
    }

    /// `pid` is about to run: if it is not running on from an effect, its turn begins,
    /// and with one node's delivery the processes runnable now are the ones it may be
    /// preempted for.
    #[inline(always)]
    pub(crate) fn start_turn(&mut self, pid: Pid) {
        if self.running_on.take() != Some(pid) {
            self.new_turn(pid);
        }
    }

    /// [`World::start_turn`] for a process that was not running on.
    fn new_turn(&mut self, pid: Pid) {
        self.turn_effects = 0;
        self.woken.clear();
        if self.delivery == Delivery::Local {
            // Who may preempt this turn: every process runnable now, and none that is
            // not. The turn's beginning is marked by reading the process's own entry
            // (`explore::dpor` relates it to the others' when it must).
            if self.fp_on {
                self.record_turn_start(pid);
            }
            self.turn_peers.clear();
            for a in &self.enabled {
                match a {
                    Action::Run(q) if *q != pid => self.turn_peers.push(*q),
                    _ => {}
                }
            }
        }
    }

    /// The running process stops before an effect (`run_on`: it may run on) or ends its
    /// turn (it goes to the back of the run queue).
    pub(crate) fn stop_running(&mut self, pid: Pid, run_on: bool) {
        self.turn_effects += 1;
        if run_on && self.turn_effects < TURN_EFFECTS_MAX {
            self.running_on = Some(pid);
        }
    }

    /// Whether the decision after `pid` stopped at an effect point can only be `pid`
    /// running on, so that the step loop would pick it without a choice and with nothing
    /// to do in between: `pid` runs on and is all that is enabled; no fault can be
    /// offered, no timer jumped to, no draw answered; no bound is near; no killed
    /// process's future waits to be dropped; no chooser watches the steps' footprints.
    /// The step may then end and the next begin inside the process
    /// (`exec::step_in_place`).
    #[inline]
    pub(crate) fn runs_on_alone(&self, pid: Pid) -> bool {
        self.running_on == Some(pid)
            && self.enabled.len() == 1
            && self.in_place
            && !self.fp_on
            && self.draw_request.is_none()
            && self.bound_hit.is_none()
            && self.dead_futures.is_empty()
            && self.step.saturating_add(1) < self.limits.steps_max
            && !self.may_fault()
            && self.next_deadline().is_none()
    }

    pub(crate) fn group_new(&mut self) -> u32 {
        let g = self.next_group;
        self.next_group += 1;
        g
    }

    // ---- processes --------------------------------------------------------------------

    /// A label or registered name with this text: one made before if it is kept, else a
    /// new one, kept if there is room. Only short names are kept, the most recently made
    /// [`KNOWN_NAMES`] of them; which are kept changes nothing a run does.
    pub(crate) fn name_of(&mut self, text: &str) -> Name {
        if let Some(n) = self.known_names.iter().rev().find(|n| ***n == *text) {
            return n.clone();
        }
        let n = Name::from(text);
        if text.len() <= KNOWN_NAME_LEN {
            if self.known_names.len() == KNOWN_NAMES {
                self.known_names.remove(0);
            }
            self.known_names.push(n.clone());
        }
        n
    }

    /// Creates a process (its future is stored by the executor). `None` when the process
    /// bound is hit (recorded in `bound_hit`).
    pub(crate) fn spawn(
        &mut self,
        parent: Option<Pid>,
        link: bool,
        label: Option<Name>,
    ) -> Option<Pid> {
        if self.procs.len() as u32 >= self.limits.processes_max {
            self.bound_hit = Some(Bound::Processes {
                max: self.limits.processes_max,
            });
            return None;
        }
        let pid = Pid(self.procs.len() as u32);
        self.touch(Obj::Counters, Mode::Write);
        if link && let Some(pp) = parent {
            self.touch(Obj::Ties(pp), Mode::Write);
        }
        let group = parent.map_or(0, |pp| self.procs[pp.0 as usize].group);
        // A child inherits its parent's panic policy, as it inherits its group.
        let panics_crash = parent.map_or(self.panics == super::exec::Panics::Crash, |pp| {
            self.procs[pp.0 as usize].panics_crash
        });
        self.procs.push(Proc {
            label: label.clone(),
            sched: Sched::Ready,
            exit_reason: None,
            matcher: Matcher::Any,
            match_at: None,
            timed_out: false,
            recv_timer: None,
            mailbox: self.spare_mailboxes.pop().unwrap_or_default(),
            trap_exit: false,
            links: Vec::new(),
            links_version: 0,
            unlinking: Vec::new(),
            monitors: Vec::new(),
            monitored_by: Vec::new(),
            names: Vec::new(),
            tables: Vec::new(),
            aliases: Vec::new(),
            inbound: Vec::new(),
            crash_armed: false,
            panics_crash,
            parent,
            group,
            last_step: if parent.is_some() {
                Some(self.step)
            } else {
                None
            },
            consumed_step: None,

            state: None,
            ready_at: 0,
            version: 0,
        });
        self.live += 1;
        self.live_list.push(pid); // pids ascend: the list stays sorted
        if self.fp_on && parent.is_some() {
            let step = self.step;
            self.set_cause(pid, step);
        }
        self.fault_dirty = true;
        if let Some(pp) = parent {
            // rule 9: spawn_link links atomically.
            if link {
                self.p(pp).link(pid);
                self.p(pid).link(pp);
            }
            self.trace.effect_view(EffectView::Spawn {
                parent: pp,
                child: pid,
                linked: link,
                label: label.as_deref(),
            });
        }
        self.refresh_run(pid);
        Some(pid)
    }

    /// Terminates `pid` with `reason`: rule 6 (names and tables first, then exit and DOWN
    /// signals), rule 8 (the mailbox is dropped), rule 17 (its monitors and links vanish),
    /// rule 48 (timers to its pid are cancelled), rule 49 (its tables are deleted).
    pub(crate) fn die(&mut self, pid: Pid, reason: ExitReason) {
        if !self.is_alive(pid) {
            return;
        }
        self.trace.effect_view(EffectView::Exit {
            pid,
            reason: &reason,
        });
        if self.fp_on {
            self.touch(Obj::Life(pid), Mode::Write);
            self.touch(Obj::Ties(pid), Mode::Write);
            self.touch(Obj::Mailbox(pid), Mode::Write);
        }
        self.live -= 1;
        if let Ok(i) = self.live_list.binary_search(&pid) {
            self.live_list.remove(i);
        }
        self.fault_dirty = true;
        let p = self.p(pid);
        p.version = p.version.wrapping_add(1);
        p.sched = Sched::Dead;
        p.exit_reason = Some(reason.clone());
        p.mailbox.clear();
        p.match_at = None;
        p.aliases.clear();
        p.crash_armed = false;
        p.state = None;
        let names = std::mem::take(&mut p.names);
        let tables = std::mem::take(&mut p.tables);
        let links = p.take_links();
        p.unlinking.clear();
        let watchers = std::mem::take(&mut p.monitored_by);
        let held = std::mem::take(&mut p.monitors);
        // Signals already on their way in mean nothing now, except link and monitor
        // requests, which are answered with noproc when delivered (rule 4).
        for ch in &mut p.inbound {
            ch.queue.retain(|q| q.signal.answered_when_dead());
        }
        for i in 0..self.procs[pid.0 as usize].inbound.len() {
            let ch = &self.procs[pid.0 as usize].inbound[i];
            if ch.queue.is_empty() {
                let from = ch.from;
                self.set_enabled(Action::Deliver { to: pid, from }, false);
            }
        }
        self.set_enabled(Action::Run(pid), false);
        if self.current != Some(pid) {
            self.dead_futures.push(pid);
        }
        for name in names {
            self.names_version = self.names_version.wrapping_add(1);
            self.touch(Obj::Name(name_key(&name)), Mode::Write);
            self.names.remove(&name);
            self.trace.effect_view(EffectView::Name {
                name: &name,
                pid: None,
            });
        }
        for t in tables {
            self.tables_version = self.tables_version.wrapping_add(1);
            self.touch(Obj::Table(t), Mode::Write);
            if let Some(Table { name: Some(n), .. }) = self.tables.remove(&t) {
                self.touch(Obj::TableName(name_key(&n)), Mode::Write);
                self.table_names.remove(&n);
            }
        }
        let doomed: Vec<(u64, u64)> = self
            .timers
            .iter()
            .filter(|(_, t)| match &t.kind {
                TimerKind::SendAfter { dest, .. } => *dest == Dest::Pid(pid),
                TimerKind::RecvTimeout { pid: p } => *p == pid,
            })
            .map(|(k, _)| *k)
            .collect();
        for key in doomed {
            self.touch(Obj::Timers, Mode::Write);
            self.timers.remove(&key);
        }
        for (mref, target) in held {
            self.touch(Obj::Ties(target), Mode::Write);
            if let Some(t) = self.procs.get_mut(target.0 as usize) {
                t.monitored_by.retain(|(r, _)| *r != mref);
                t.version = t.version.wrapping_add(1);
            }
        }
        for to in links {
            self.push_signal(
                pid,
                to,
                Signal::Exit {
                    reason: reason.clone(),
                    linked: true,
                },
            );
        }
        for (mref, to) in watchers {
            self.push_signal(
                pid,
                to,
                Signal::Down {
                    mref,
                    reason: reason.clone(),
                },
            );
        }
    }

    // ---- signals ----------------------------------------------------------------------

    /// Sends a signal. With one node's delivery (and for a signal to oneself) its receiver
    /// handles it at once; between nodes it goes on the channel `from -> to` (rule 2: one
    /// FIFO per ordered pair) and its delivery is a step of its own.
    pub(crate) fn push_signal(&mut self, from: Pid, to: Pid, signal: Signal) {
        if let Some(h) = self.trace.hasher() {
            super::trace::fold_send(h, from, to, signal.view());
        }
        if self.delivery == Delivery::Local || from == to {
            self.handle_at_once(from, to, signal);
            return;
        }
        if self.trace.recording() {
            let signal = signal.kind(true);
            self.trace.effects.push(Effect::Send { from, to, signal });
        }
        let step = self.step;
        self.touch(Obj::Life(to), Mode::Read);
        let Some(r) = self.procs.get_mut(to.0 as usize) else {
            debug_assert!(false, "signal to a pid that was never spawned: {to}");
            return;
        };
        if r.sched == Sched::Dead && !signal.answered_when_dead() {
            return; // rule 4: dropped
        }
        let i = match r.inbound.binary_search_by_key(&from, |c| c.from) {
            Ok(i) => i,
            Err(i) => {
                r.inbound.insert(
                    i,
                    Channel {
                        from,
                        queue: VecDeque::new(),
                    },
                );
                i
            }
        };
        let q = &mut r.inbound[i].queue;
        q.push_back(Queued { signal, step });
        if q.len() == 1 {
            self.set_enabled(Action::Deliver { to, from }, true);
        }
    }

    /// Has the receiver handle a signal now. Signals that handling sends (a death's exit
    /// and `DOWN` signals) are handled after it, in the order they were sent, by a loop
    /// rather than by recursion, so a long chain of links cannot exhaust the stack.
    fn handle_at_once(&mut self, from: Pid, to: Pid, signal: Signal) {
        if self.handling_now {
            self.handling.push_back((from, to, signal));
            return;
        }
        self.handling_now = true;
        self.handle_one(from, to, signal);
        while let Some((from, to, signal)) = self.handling.pop_front() {
            self.handle_one(from, to, signal);
        }
        self.handling_now = false;
    }

    /// Has `to` handle one signal now (see [`World::handle_at_once`]).
    fn handle_one(&mut self, from: Pid, to: Pid, signal: Signal) {
        self.touch(Obj::Life(to), Mode::Read);
        let dead = !self.is_alive(to);
        // The signal itself was folded when it was sent.
        if let Some(h) = self.trace.hasher() {
            super::trace::fold(h, dead as u64);
        }
        if self.trace.recording() {
            let kind = signal.kind(true);
            self.trace.effects.push(Effect::Signal {
                from,
                to,
                signal: kind,
                dropped: dead,
            });
        }
        if dead {
            self.answer_dead(to, from, signal);
        } else {
            self.apply(to, from, signal);
        }
    }

    /// Rule 4: a link or monitor request that reaches a dead process is answered
    /// `noproc`; any other signal is dropped.
    fn answer_dead(&mut self, dead: Pid, from: Pid, signal: Signal) {
        match signal {
            Signal::Link => self.push_signal(
                dead,
                from,
                Signal::Exit {
                    reason: ExitReason::NoProc,
                    linked: true,
                },
            ),
            Signal::Monitor { mref } => self.push_signal(
                dead,
                from,
                Signal::Down {
                    mref,
                    reason: ExitReason::NoProc,
                },
            ),
            _ => {}
        }
    }

    /// Delivers the head of channel `from -> to`. Returns the step kind for the trace and
    /// the step that sent the signal.
    pub(crate) fn deliver(&mut self, to: Pid, from: Pid) -> (StepKind, Option<u32>) {
        let r = &mut self.procs[to.0 as usize];
        let i = r
            .inbound
            .binary_search_by_key(&from, |c| c.from)
            .expect("deliver: enabled channel exists");
        let q = &mut r.inbound[i].queue;
        let Queued { signal, step } = q
            .pop_front()
            .expect("deliver: enabled channel is non-empty");
        if q.is_empty() {
            self.set_enabled(Action::Deliver { to, from }, false);
        }
        let kind = signal.kind(self.trace.recording());
        self.touch(Obj::Life(to), Mode::Read);
        let dead = !self.is_alive(to);
        if dead {
            self.answer_dead(to, from, signal);
        } else {
            self.apply(to, from, signal);
        }
        self.p(to).last_step = Some(self.step);
        (
            StepKind::Deliver {
                from,
                to,
                signal: kind,
                dropped: dead,
            },
            Some(step),
        )
    }

    fn apply(&mut self, to: Pid, from: Pid, signal: Signal) {
        // Every signal but a message changes the receiver's links or monitors, or its
        // life; a message only its mailbox.
        if !matches!(signal, Signal::Message { .. }) {
            let p = self.p(to);
            p.version = p.version.wrapping_add(1);
        }
        match signal {
            Signal::Message { payload, tag } => {
                if tag.is_some() {
                    self.touch(Obj::Ties(to), Mode::Read);
                }
                if let Some(t) = tag
                    && !self.procs[to.0 as usize].aliases.contains(&t)
                {
                    return; // a reply to an inactive alias is dropped (rule 26, OTP 24+)
                }
                self.enqueue(to, from, Body::Data { payload, tag });
            }
            Signal::Link => {
                self.touch(Obj::Ties(to), Mode::Write);
                // A LINK that meets our own unlink in progress is ignored: our UNLINK_ID
                // is on its way and removes the other side (ERTS link protocol).
                let p = self.p(to);
                if !p.unlinking.iter().any(|(q, _)| *q == from) {
                    p.link(from);
                }
            }
            Signal::UnlinkId { id } => {
                self.touch(Obj::Ties(to), Mode::Write);
                self.p(to).unlink(from);
                self.push_signal(to, from, Signal::UnlinkAck { id });
            }
            Signal::UnlinkAck { id } => {
                self.touch(Obj::Ties(to), Mode::Write);
                self.p(to)
                    .unlinking
                    .retain(|(q, r)| !(*q == from && *r == id))
            }
            Signal::Exit { reason, linked } => self.apply_exit(to, from, reason, linked),
            // rule 17: a monitor whose owner died on the way is gone with its owner.
            Signal::Monitor { mref } => {
                self.touch(Obj::Life(from), Mode::Read);
                if self.is_alive(from) {
                    self.touch(Obj::Ties(to), Mode::Write);
                    self.p(to).monitored_by.push((mref, from))
                }
            }
            Signal::Demonitor { mref } => {
                self.touch(Obj::Ties(to), Mode::Write);
                self.p(to).monitored_by.retain(|(r, _)| *r != mref)
            }
            Signal::Down { mref, reason } => {
                self.touch(Obj::Ties(to), Mode::Write);
                // rule 15: after demonitor no DOWN for that ref is enqueued.
                let p = self.p(to);
                let Some(i) = p.monitors.iter().position(|(r, _)| *r == mref) else {
                    return;
                };
                p.monitors.remove(i);
                self.enqueue(
                    to,
                    from,
                    Body::Down {
                        mref,
                        pid: from,
                        reason,
                    },
                );
            }
        }
    }

    /// Rules 10–12: what an exit signal does to its receiver.
    fn apply_exit(&mut self, to: Pid, from: Pid, reason: ExitReason, linked: bool) {
        if self.fp_on {
            self.touch(Obj::Life(to), Mode::Read);
            if linked {
                self.touch(Obj::Ties(to), Mode::Write);
            }
        }
        let p = self.p(to);
        if linked {
            // A link exit only counts while the link is there (an unlink may have won).
            if !p.unlink(from) {
                return;
            }
        }
        if !linked && reason == ExitReason::Kill {
            self.die(to, ExitReason::Killed); // rule 11: untrappable
        } else if p.trap_exit {
            self.enqueue(to, from, Body::Exit { reason });
        } else if reason == ExitReason::Normal {
            // rule 10/12: ignored, unless a process sends exit(self(), normal) to itself.
            if from == to && !linked {
                self.die(to, ExitReason::Normal);
            }
        } else {
            self.die(to, reason);
        }
    }

    /// Appends to a mailbox (rule 3: arrival order).
    pub(crate) fn enqueue(&mut self, to: Pid, from: Pid, body: Body) {
        let step = self.step;
        let max = self.limits.mailbox_max;
        let env = Envelope { from, body, step };
        self.touch(Obj::Mailbox(to), Mode::Append);
        let p = self.p(to);
        if p.sched == Sched::Waiting && p.match_at.is_none() && p.matcher.matches(&env) {
            p.match_at = Some(p.mailbox.len());
        }
        p.mailbox.push_back(env);
        if p.mailbox.len() as u32 > max {
            self.bound_hit = Some(Bound::Mailbox { pid: to, max });
        }
        self.refresh_run(to);
    }

    // ---- receive ----------------------------------------------------------------------

    /// `pid` blocks in `receive`: the step ends here.
    pub(crate) fn begin_wait(&mut self, pid: Pid, matcher: Matcher, timeout_ms: Option<u64>) {
        let now = self.now_ms;
        // A receive that waits without a timeout takes the same message whether it
        // arrived before this look or after (arrivals' order is the appends' business):
        // the look commutes with an arrival. With a timeout it does not: whether a timer
        // is set depends on what is there.
        if timeout_ms.is_some() {
            self.touch(Obj::Mailbox(pid), Mode::Read);
        }
        let p = self.p(pid);
        p.match_at = p.first_match(&matcher);
        p.matcher = matcher;
        p.timed_out = false;
        p.sched = Sched::Waiting;
        if let (None, Some(t)) = (p.match_at, timeout_ms) {
            let key = self.add_timer(now.saturating_add(t), TimerKind::RecvTimeout { pid });
            self.p(pid).recv_timer = Some(key);
        }
        self.refresh_run(pid);
    }

    /// The process resumed from `receive`: the matching message, or `None` on timeout.
    pub(crate) fn end_wait(&mut self, pid: Pid) -> Result<Option<Envelope>, ()> {
        if self.fp_on {
            // A message taken was there before (and the step follows its send). A
            // receive that timed out would have taken a message that came first, and one
            // that timed out and then saw a message arrive before it ran took it because
            // it arrived first: either way the arrival's order against this step
            // matters (the step follows the timeout, not the send).
            let p = &self.procs[pid.0 as usize];
            let m = if p.match_at.is_some() && !p.timed_out {
                Mode::Take
            } else {
                Mode::Read
            };
            self.touch(Obj::Mailbox(pid), m);
        }
        let p = self.p(pid);
        if let Some(i) = p.match_at.take() {
            let env = if i == 0 {
                p.mailbox.pop_front()
            } else {
                p.mailbox.remove(i)
            };
            let env = env.expect("invariant: the match index is in the mailbox");
            p.consumed_step = Some(env.step);
            p.matcher = Matcher::Any;
            if let Some(key) = p.recv_timer.take() {
                self.touch(Obj::Timers, Mode::Write);
                self.timers.remove(&key);
            }
            return Ok(Some(env));
        }
        if p.timed_out {
            p.timed_out = false;
            p.matcher = Matcher::Any;
            return Ok(None);
        }
        Err(())
    }

    // ---- names ------------------------------------------------------------------------

    pub(crate) fn register(&mut self, name: Name, pid: Pid) -> Result<(), Pid> {
        self.touch(Obj::Name(name_key(&name)), Mode::Write);
        if let Some(holder) = self.names.get(&name) {
            return Err(*holder);
        }
        self.trace.effect_view(EffectView::Name {
            name: &name,
            pid: Some(pid),
        });
        self.names.insert(name.clone(), pid);
        self.names_version = self.names_version.wrapping_add(1);
        self.touch(Obj::Ties(pid), Mode::Write);
        self.p(pid).names.push(name);
        Ok(())
    }

    pub(crate) fn unregister(&mut self, name: &str) -> bool {
        self.touch(Obj::Name(name_key(name)), Mode::Write);
        let Some(pid) = self.names.remove(name) else {
            return false;
        };
        self.names_version = self.names_version.wrapping_add(1);
        self.touch(Obj::Ties(pid), Mode::Write);
        self.p(pid).names.retain(|n| &**n != name);
        self.trace.effect_view(EffectView::Name { name, pid: None });
        true
    }

    // ---- time -------------------------------------------------------------------------

    pub(crate) fn add_timer(&mut self, deadline_ms: u64, kind: TimerKind) -> (u64, u64) {
        self.touch(Obj::Clock, Mode::Read);
        self.touch(Obj::Timers, Mode::Write);
        let seq = self.make_ref().0;
        let set_step = self.current.map(|_| self.step);
        self.timers
            .insert((deadline_ms, seq), Timer { kind, set_step });
        (deadline_ms, seq)
    }

    /// Cancels a `send_after`; returns the milliseconds it had left.
    pub(crate) fn cancel_timer(&mut self, tref: Ref) -> Option<u64> {
        self.touch(Obj::Timers, Mode::Write);
        self.touch(Obj::Clock, Mode::Read);
        // Only a `send_after` is cancelled by its ref; a receive timeout by its key.
        let ((deadline, _), _) = self.timers.remove_send_after(tref.0)?;
        Some(deadline.saturating_sub(self.now_ms))
    }

    /// The next timer's deadline, if it is within the time limit.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.timers
            .first_key()
            .map(|k| k.0)
            .filter(|d| *d <= self.limits.time_max_ms)
    }

    /// Fires the earliest timer, moving the clock to its deadline.
    pub(crate) fn fire_next_timer(&mut self) -> (StepKind, Option<u32>) {
        let ((deadline, seq), timer) = self.timers.pop_first().expect("a timer is pending");
        let step = self.step;
        self.touch(Obj::Clock, Mode::Write);
        self.touch(Obj::Timers, Mode::Write);
        debug_assert!(
            deadline >= self.now_ms,
            "invariant: timers are never set in the past"
        );
        self.now_ms = self.now_ms.max(deadline);
        let kind = match timer.kind {
            TimerKind::SendAfter {
                from,
                dest,
                payload,
            } => {
                if let Some(h) = self.trace.hasher() {
                    super::trace::fold_value(h, &*payload);
                }
                let what = if self.trace.recording() {
                    Cow::Owned(super::trace::value_text(&*payload))
                } else {
                    Cow::Borrowed((*payload).type_name())
                };
                if self.fp_on {
                    match &dest {
                        Dest::Pid(p) => self.touch(Obj::Life(*p), Mode::Read),
                        Dest::Name(n) => self.touch(Obj::Name(name_key(n)), Mode::Read),
                    }
                }
                let target = match &dest {
                    Dest::Pid(p) => Some(*p).filter(|p| self.is_alive(*p)),
                    Dest::Name(n) => self.whereis(n),
                };
                if let Some(to) = target {
                    self.trace.effect(Effect::Enqueue {
                        pid: to,
                        what: what.clone(),
                    });
                    self.enqueue(to, from, Body::Data { payload, tag: None });
                }
                StepKind::Timer { pid: target, what }
            }
            TimerKind::RecvTimeout { pid } => {
                self.touch(Obj::Mailbox(pid), Mode::Write);
                let p = self.p(pid);
                if p.recv_timer == Some((deadline, seq)) {
                    p.recv_timer = None;
                    p.timed_out = true;
                    if self.fp_on {
                        self.set_cause(pid, step);
                    }
                    self.refresh_run(pid);
                }
                StepKind::Timer {
                    pid: Some(pid),
                    what: Cow::Borrowed("receive timeout"),
                }
            }
        };
        (kind, timer.set_step)
    }

    // ---- faults -----------------------------------------------------------------------

    /// Faults the menu offers now (empty when the budget is spent), in canonical order.
    #[inline]
    ///
    /// `out` is the previous step's answer: it is rebuilt only when something the menu
    /// depends on changed (a spawn, an exit, a label, an armed crash, the budget), so the
    /// cost of a step does not grow with the processes that ever lived.
    pub(crate) fn fault_options(&mut self, out: &mut Vec<Fault>) {
        if !self.may_fault() {
            if !out.is_empty() {
                out.clear();
            }
            return;
        }
        if self.fault_dirty {
            self.fault_dirty = false;
            self.fill_fault_options(out);
        }
    }

    /// Whether a fault can still be offered: the budget is not spent and the menu has
    /// something on it.
    #[inline]
    fn may_fault(&self) -> bool {
        self.faults_left > 0 && self.menu.offers_any()
    }

    fn fill_fault_options(&self, out: &mut Vec<Fault>) {
        out.clear();
        for &pid in &self.live_list {
            let p = &self.procs[pid.0 as usize];
            let hit = match &self.menu.targets {
                Targets::All => true,
                Targets::Labels(ls) => p
                    .label
                    .as_ref()
                    .is_some_and(|l| ls.iter().any(|x| **x == **l)),
            };
            if !hit {
                continue;
            }
            for reason in &self.menu.kill_reasons {
                out.push(Fault::Kill {
                    pid,
                    reason: reason.clone(),
                });
            }
            if self.menu.crash_after_effect && !p.crash_armed {
                out.push(Fault::CrashAfterEffect { pid });
            }
        }
        if self.menu.fail_init {
            out.push(Fault::FailNextInit);
        }
        out.sort();
    }

    pub(crate) fn inject(&mut self, fault: &Fault) -> Option<u32> {
        self.faults_left -= 1;
        match fault {
            Fault::Kill { pid, reason } => {
                let prev = self.procs[pid.0 as usize].last_step;
                // As `exit(P, :kill)` does: P exits `killed`, and that is what its links
                // and monitors see.
                let reason = match reason {
                    ExitReason::Kill => ExitReason::Killed,
                    r => r.clone(),
                };
                self.die(*pid, reason);
                self.p(*pid).last_step = Some(self.step);
                prev
            }
            Fault::CrashAfterEffect { pid } => {
                let step = self.step;
                self.fault_dirty = true;
                let p = self.p(*pid);
                p.crash_armed = true;
                let prev = p.last_step;
                p.last_step = Some(step);
                prev
            }
            Fault::FailNextInit => {
                self.init_failures_armed += 1;
                None
            }
        }
    }
}

/// `v.insert(i, x)` for a list a world keeps sorted: the entries after `i` move up one
/// by one. The lists are short (the actions enabled at once), so this costs less than the
/// call to `memmove` an insert makes; on a long list both are linear, as the offer that
/// copies the list at every step is.
#[inline]
fn insert_at<T: Copy>(v: &mut Vec<T>, i: usize, x: T) {
    v.push(x);
    let mut j = v.len() - 1;
    while j > i {
        v.swap(j, j - 1);
        j -= 1;
    }
}

/// `v.remove(i)`, the same way (see [`insert_at`]).
#[inline]
fn remove_at<T: Copy>(v: &mut Vec<T>, i: usize) {
    for j in i + 1..v.len() {
        v.swap(j - 1, j);
    }
    v.pop();
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("step", &self.step)
            .field("now_ms", &self.now_ms)
            .field("live", &self.live)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::new(
            Limits::default(),
            FaultMenu::default(),
            false,
            Delivery::default(),
        )
    }

    /// A name made again is the one kept (no new allocation), in this world and in the
    /// next one recycled from it; at most `KNOWN_NAMES` are kept, the latest, and none
    /// longer than `KNOWN_NAME_LEN`.
    #[test]
    fn names_made_again_are_the_kept_ones_and_the_kept_ones_are_bounded() {
        let mut w = world();
        let a = w.name_of("producer");
        assert!(Rc::ptr_eq(&a, &w.name_of("producer")));
        assert_eq!(&*w.name_of("sink"), "sink");
        w.recycle(
            Limits::default(),
            FaultMenu::default(),
            false,
            Delivery::default(),
        );
        assert!(Rc::ptr_eq(&a, &w.name_of("producer")), "kept across worlds");
        let long = "x".repeat(KNOWN_NAME_LEN + 1);
        let l = w.name_of(&long);
        assert!(
            !Rc::ptr_eq(&l, &w.name_of(&long)),
            "a long name is not kept"
        );
        for i in 0..KNOWN_NAMES {
            w.name_of(&format!("n{i}"));
        }
        assert_eq!(w.known_names.len(), KNOWN_NAMES);
        let b = w.name_of("producer");
        assert!(!Rc::ptr_eq(&a, &b), "the oldest kept names made way");
        assert_eq!(&*b, "producer");
    }

    /// The one-by-one insert and remove give what `Vec::insert` and `Vec::remove` give,
    /// at every position of lists of every length up to 12.
    #[test]
    fn insert_at_and_remove_at_are_vecs_insert_and_remove() {
        for len in 0..12u32 {
            let list: Vec<u32> = (0..len).map(|x| x * 2).collect();
            for i in 0..=list.len() {
                let (mut ours, mut std) = (list.clone(), list.clone());
                insert_at(&mut ours, i, 99);
                std.insert(i, 99);
                assert_eq!(ours, std, "insert at {i} of {len}");
            }
            for i in 0..list.len() {
                let (mut ours, mut std) = (list.clone(), list.clone());
                remove_at(&mut ours, i);
                std.remove(i);
                assert_eq!(ours, std, "remove at {i} of {len}");
            }
        }
    }
}
