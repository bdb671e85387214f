//! The trace: one structured event per step, folded into a rolling hash.
//!
//! The hash is the identity of a run: replay asserts it and the determinism self-check
//! compares it. It is built from plain integer arithmetic over the events' fields (never
//! from pointers or hash-map state), so it is the same on every machine. The last
//! [`RECENT_MAX`] events are always kept (a bound that is hit reports them); the full list
//! only when asked for, since it allocates.

use super::tape::{Fault, reason_text};
use super::types::{ExitReason, Pid};

/// Folds an exit reason structurally (no formatting, no allocation).
pub(crate) fn fold_reason(h: &mut u64, r: &ExitReason) {
    let mut r = r;
    loop {
        match r {
            ExitReason::Normal => fold(h, 1),
            ExitReason::Shutdown => fold(h, 2),
            ExitReason::ShutdownWith(t) => {
                fold(h, 3);
                fold_str(h, t)
            }
            ExitReason::Kill => fold(h, 4),
            ExitReason::Killed => fold(h, 5),
            ExitReason::NoProc => fold(h, 6),
            ExitReason::Timeout => fold(h, 7),
            ExitReason::Custom(t) => {
                fold(h, 9);
                fold_str(h, t)
            }
            ExitReason::CallFailed(inner) => {
                fold(h, 8);
                r = inner;
                continue;
            }
            ExitReason::StopFailed(inner) => {
                fold(h, 10);
                r = inner;
                continue;
            }
        }
        return;
    }
}
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// How many recent events are always kept.
pub const RECENT_MAX: usize = 24;

const FOLD_MUL: u64 = 0x0000_0100_0000_01b3;

/// Folds one word into a hash (FNV-1a over words).
#[inline]
pub(crate) fn fold(h: &mut u64, x: u64) {
    *h = (*h ^ x).wrapping_mul(FOLD_MUL);
}

/// Folds a string's bytes and length.
pub(crate) fn fold_str(h: &mut u64, s: &str) {
    fold_bytes(h, s.as_bytes());
    fold(h, s.len() as u64);
}

/// Folds bytes eight at a time (little-endian words, the last one zero-padded).
#[inline]
fn fold_bytes(h: &mut u64, bytes: &[u8]) {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        fold(h, u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The zero-padded little-endian word, assembled byte by byte: a copy of a
        // variable length into a padded buffer is a call to `memcpy`, and most pieces
        // a `Debug` text is written in are shorter than a word.
        let last = rest
            .iter()
            .rev()
            .fold(0u64, |word, b| (word << 8) | u64::from(*b));
        fold(h, last);
    }
}

/// Folds a message's value: its `Debug` text, without allocating — the stable encoding
/// of message contents in the trace hash (no type names, no addresses). A message whose
/// printed value differs between two runs of one tape makes their hashes differ, which
/// is what the determinism self-check looks for. Integers and booleans fold the same
/// words as their `Debug` text would, without going through `core::fmt` (a test checks
/// the two agree).
#[inline]
pub(crate) fn fold_value(h: &mut u64, v: &dyn super::types::Payload) {
    v.fold_value(h)
}

/// [`fold_value`] for a value of a known type: each payload type's
/// [`super::types::Payload::fold_value`] is this, compiled for that type, so the type
/// comparisons below are settled at compile time.
#[inline(always)]
pub(crate) fn fold_typed<T: std::any::Any + fmt::Debug>(h: &mut u64, v: &T) {
    use std::any::{Any, TypeId};
    let any: &dyn Any = v;
    let id = TypeId::of::<T>();
    macro_rules! integers {
        ($($t:ty),*) => {$(
            if id == TypeId::of::<$t>() {
                let x = *any.downcast_ref::<$t>().expect("the type was just compared");
                #[allow(unused_comparisons)]
                return fold_decimal(h, (x as i128).unsigned_abs() as u64, x < 0);
            }
        )*};
    }
    integers!(u64, u32, usize, u16, u8, i64, i32, isize, i16, i8);
    if id == TypeId::of::<bool>() {
        let b = *any
            .downcast_ref::<bool>()
            .expect("the type was just compared");
        return fold_str(h, if b { "true" } else { "false" });
    }
    fold_debug(h, v)
}

/// What `Debug` of an integer writes, folded as [`fold_debug`] folds it: the sign as one
/// write, the digits as another, then the length.
fn fold_decimal(h: &mut u64, mut x: u64, negative: bool) {
    if negative {
        fold_bytes(h, b"-");
    }
    if x < 100_000_000 {
        // At most eight digits: one word, the first digit in its lowest byte, built
        // from the last digits up (what `fold_bytes` folds for a piece this short).
        let (mut word, mut len) = (0u64, 0u64);
        while x >= 10 {
            word = (word << 16) | u64::from(PAIR_WORDS[(x % 100) as usize]);
            len += 2;
            x /= 100;
        }
        if len == 0 || x > 0 {
            word = (word << 8) | (b'0' + x as u8) as u64;
            len += 1;
        }
        fold(h, word);
        fold(h, len + negative as u64);
        return;
    }
    // Right-aligned digits, written two at a time from the last.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    while x >= 10 {
        at -= 2;
        digits[at..at + 2].copy_from_slice(&DIGIT_PAIRS[(x % 100) as usize]);
        x /= 100;
    }
    if x > 0 {
        at -= 1;
        digits[at] = b'0' + x as u8;
    }
    fold_bytes(h, &digits[at..]);
    fold(h, (digits.len() - at + negative as usize) as u64);
}

/// `00` to `99` as the little-endian word of their two ASCII digits (the first digit in
/// the low byte).
const PAIR_WORDS: [u16; 100] = {
    let mut t = [0u16; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = u16::from_le_bytes(DIGIT_PAIRS[i]);
        i += 1;
    }
    t
};

/// `00` to `99` as their two ASCII digits.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Folds a value's `Debug` text, without allocating (see [`fold_value`]).
pub(crate) fn fold_debug(h: &mut u64, v: &dyn fmt::Debug) {
    struct Folder<'a>(&'a mut u64, u64);
    impl fmt::Write for Folder<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            fold_bytes(self.0, s.as_bytes());
            self.1 += s.len() as u64;
            Ok(())
        }
    }
    let mut f = Folder(h, 0);
    let _ = fmt::write(&mut f, format_args!("{v:?}"));
    let n = f.1;
    fold(h, n);
}

/// How many characters of a message's value traces keep.
pub const VALUE_TEXT_MAX: usize = 120;

/// A value's `Debug` text, cut to [`VALUE_TEXT_MAX`] characters (with `…`).
pub fn value_text(v: &dyn fmt::Debug) -> String {
    struct Cut {
        out: String,
        chars: usize,
        cut: bool,
    }
    impl fmt::Write for Cut {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for ch in s.chars() {
                if self.chars == VALUE_TEXT_MAX {
                    self.cut = true;
                    return Err(fmt::Error);
                }
                self.out.push(ch);
                self.chars += 1;
            }
            Ok(())
        }
    }
    let mut c = Cut {
        out: String::new(),
        chars: 0,
        cut: false,
    };
    let _ = fmt::write(&mut c, format_args!("{v:?}"));
    if c.cut {
        c.out.push('…');
    }
    c.out
}

/// The kind of signal a delivery carried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// An ordinary message: its value (`Debug`, cut to [`VALUE_TEXT_MAX`] characters).
    Message(Cow<'static, str>),
    /// An ordinary message of this Rust type, in a run that did not record values (only
    /// full traces do: formatting every value would cost more than the run).
    Typed(Cow<'static, str>),
    /// A link request.
    Link,
    /// An unlink request (`UNLINK_ID`).
    Unlink,
    /// Its acknowledgement (`UNLINK_ID_ACK`).
    UnlinkAck,
    /// An exit signal with this reason (`linked`: it came from a link).
    Exit {
        /// The reason it carries.
        reason: ExitReason,
        /// Sent by a dying linked process rather than by `exit/2`.
        linked: bool,
    },
    /// A monitor request.
    Monitor,
    /// A demonitor request.
    Demonitor,
    /// A `DOWN` with this reason.
    Down(ExitReason),
}

/// What a step did, in the words of the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepKind {
    /// A process ran until its next yield point.
    Run {
        /// Which.
        pid: Pid,
    },
    /// The head of a channel was delivered.
    Deliver {
        /// Sender.
        from: Pid,
        /// Receiver.
        to: Pid,
        /// What it carried.
        signal: SignalKind,
        /// The receiver no longer existed, so the signal was dropped (or answered noproc).
        dropped: bool,
    },
    /// A timer fired (virtual time moved to its deadline).
    Timer {
        /// Whose timer.
        pid: Option<Pid>,
        /// What it was.
        what: Cow<'static, str>,
    },
    /// A fault was injected.
    Fault {
        /// Which, in tape text form.
        fault: String,
    },
}

impl StepKind {
    #[inline]
    fn fold(&self, h: &mut u64) {
        match self {
            StepKind::Run { pid } => {
                fold(h, 1);
                fold(h, pid.0 as u64)
            }
            StepKind::Deliver {
                from, to, dropped, ..
            } => {
                // The signal itself was folded when it was sent, and a channel is FIFO:
                // the channel identifies what is delivered.
                fold(h, 2);
                fold(h, ((from.0 as u64) << 32) | to.0 as u64);
                fold(h, *dropped as u64);
            }
            StepKind::Timer { pid, .. } => {
                // What the timer carried was folded when it fired (its value, which the
                // text here only shows in full traces).
                fold(h, 3);
                fold(h, pid.map_or(u64::MAX, |p| p.0 as u64));
            }
            StepKind::Fault { fault } => {
                fold(h, 4);
                fold_str(h, fault)
            }
        }
    }

    /// The pid the step is about.
    pub fn pid(&self) -> Option<Pid> {
        match self {
            StepKind::Run { pid } => Some(*pid),
            StepKind::Deliver { to, .. } => Some(*to),
            StepKind::Timer { pid, .. } => *pid,
            StepKind::Fault { .. } => None,
        }
    }
}

/// A borrowed view of a signal: what the hash sees of it, whether the kernel holds the
/// signal itself or a trace holds its [`SignalKind`].
pub(crate) enum SignalView<'a> {
    Message(&'a dyn super::types::Payload),
    Link,
    Unlink,
    UnlinkAck,
    Exit(&'a ExitReason, bool),
    Monitor,
    Demonitor,
    Down(&'a ExitReason),
}

impl SignalView<'_> {
    #[inline]
    fn fold(&self, h: &mut u64) {
        match self {
            SignalView::Message(v) => {
                fold(h, 1);
                fold_value(h, *v)
            }
            SignalView::Link => fold(h, 2),
            SignalView::Unlink => fold(h, 3),
            SignalView::UnlinkAck => fold(h, 9),
            SignalView::Exit(reason, linked) => {
                fold(h, 4 + *linked as u64);
                fold_reason(h, reason)
            }
            SignalView::Monitor => fold(h, 6),
            SignalView::Demonitor => fold(h, 7),
            SignalView::Down(r) => {
                fold(h, 8);
                fold_reason(h, r)
            }
        }
    }
}

impl SignalKind {
    fn view(&self) -> SignalView<'_> {
        match self {
            SignalKind::Message(t) | SignalKind::Typed(t) => SignalView::Message(t),
            SignalKind::Link => SignalView::Link,
            SignalKind::Unlink => SignalView::Unlink,
            SignalKind::UnlinkAck => SignalView::UnlinkAck,
            SignalKind::Exit { reason, linked } => SignalView::Exit(reason, *linked),
            SignalKind::Monitor => SignalView::Monitor,
            SignalKind::Demonitor => SignalView::Demonitor,
            SignalKind::Down(r) => SignalView::Down(r),
        }
    }
}

/// How a sent signal enters the hash: the same for [`Effect::Send`] and for the kernel's
/// path, which folds without building the effect unless the full trace is kept.
#[inline]
pub(crate) fn fold_send(h: &mut u64, from: Pid, to: Pid, signal: SignalView<'_>) {
    fold(h, 11);
    fold(h, ((from.0 as u64) << 32) | to.0 as u64);
    signal.fold(h);
}

/// Something a step did besides its action (only listed in full traces; always hashed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    /// A signal was put on the channel `from -> to`.
    Send {
        /// Sender.
        from: Pid,
        /// Receiver.
        to: Pid,
        /// What.
        signal: SignalKind,
    },
    /// A signal sent and handled by its receiver at once: one node's delivery
    /// ([`crate::sim::Delivery::Local`]), or a signal a process sends itself.
    Signal {
        /// Sender.
        from: Pid,
        /// Receiver.
        to: Pid,
        /// What.
        signal: SignalKind,
        /// The receiver no longer existed, so it was dropped (or answered `noproc`).
        dropped: bool,
    },
    /// A process was spawned.
    Spawn {
        /// Parent.
        parent: Pid,
        /// The new process.
        child: Pid,
        /// Linked at spawn.
        linked: bool,
        /// Its label, if any.
        label: Option<String>,
    },
    /// A process terminated.
    Exit {
        /// Which.
        pid: Pid,
        /// Why.
        reason: ExitReason,
    },
    /// A message entered a mailbox (timers and trapped exits).
    Enqueue {
        /// Whose mailbox.
        pid: Pid,
        /// What.
        what: Cow<'static, str>,
    },
    /// A name was registered or released.
    Name {
        /// The name.
        name: String,
        /// The holder, or `None` when released.
        pid: Option<Pid>,
    },
    /// A global read or write (registry, table, alive check).
    Global {
        /// Who.
        pid: Pid,
        /// What.
        op: Cow<'static, str>,
    },
}

impl Effect {
    fn fold(&self, h: &mut u64) {
        match self {
            Effect::Send { from, to, signal } => fold_send(h, *from, *to, signal.view()),
            Effect::Signal {
                from,
                to,
                signal,
                dropped,
            } => {
                fold_send(h, *from, *to, signal.view());
                fold(h, *dropped as u64);
            }
            Effect::Spawn {
                parent,
                child,
                linked,
                label,
            } => EffectView::Spawn {
                parent: *parent,
                child: *child,
                linked: *linked,
                label: label.as_deref(),
            }
            .fold(h),
            Effect::Exit { pid, reason } => EffectView::Exit { pid: *pid, reason }.fold(h),
            Effect::Enqueue { pid, .. } => {
                // The message's value is folded by the step that put it there.
                fold(h, 14);
                fold(h, pid.0 as u64);
            }
            Effect::Name { name, pid } => EffectView::Name { name, pid: *pid }.fold(h),
            Effect::Global { pid, op } => {
                fold(h, 16);
                fold(h, pid.0 as u64);
                fold_str(h, op);
            }
        }
    }
}

/// A borrowed view of a spawn, an exit or a name effect: what the hash sees of it,
/// whether the kernel holds its parts or a trace holds the [`Effect`] (as [`SignalView`]
/// is for signals). A run that keeps no effects folds one without building its strings.
pub(crate) enum EffectView<'a> {
    Spawn {
        parent: Pid,
        child: Pid,
        linked: bool,
        label: Option<&'a str>,
    },
    Exit {
        pid: Pid,
        reason: &'a ExitReason,
    },
    Name {
        name: &'a str,
        pid: Option<Pid>,
    },
}

impl EffectView<'_> {
    // Always inlined: each call site builds one known variant, and the match folds away.
    #[inline(always)]
    fn fold(&self, h: &mut u64) {
        match *self {
            EffectView::Spawn {
                parent,
                child,
                linked,
                label,
            } => {
                fold(h, 12);
                fold(h, ((parent.0 as u64) << 32) | child.0 as u64);
                fold(h, linked as u64);
                if let Some(l) = label {
                    fold_str(h, l)
                }
            }
            EffectView::Exit { pid, reason } => {
                fold(h, 13);
                fold(h, pid.0 as u64);
                fold_reason(h, reason);
            }
            EffectView::Name { name, pid } => {
                fold(h, 15);
                fold_str(h, name);
                fold(h, pid.map_or(u64::MAX, |p| p.0 as u64));
            }
        }
    }

    fn to_effect(&self) -> Effect {
        match *self {
            EffectView::Spawn {
                parent,
                child,
                linked,
                label,
            } => Effect::Spawn {
                parent,
                child,
                linked,
                label: label.map(str::to_string),
            },
            EffectView::Exit { pid, reason } => Effect::Exit {
                pid,
                reason: reason.clone(),
            },
            EffectView::Name { name, pid } => Effect::Name {
                name: name.to_string(),
                pid,
            },
        }
    }
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Step index, from 0.
    pub step: u32,
    /// Virtual time at the step, in milliseconds.
    pub time_ms: u64,
    /// What ran.
    #[serde(flatten)]
    pub kind: StepKind,
    /// Earlier steps this one causally depends on: the acting process's previous step, and
    /// the step that produced what it consumes (the send, the delivery, the timer's setter).
    pub deps: [Option<u32>; 2],
    /// What the step did (full traces only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>5} t={:<6} ", self.step, self.time_ms)?;
        match &self.kind {
            StepKind::Run { pid } => write!(f, "run {pid}")?,
            StepKind::Deliver {
                from,
                to,
                signal,
                dropped,
            } => {
                write!(f, "deliver {from} -> {to}: {}", signal_text(signal))?;
                if *dropped {
                    write!(f, " (receiver dead)")?;
                }
            }
            StepKind::Timer { pid, what } => match pid {
                Some(p) => write!(f, "timer {what} for {p}")?,
                None => write!(f, "timer {what}")?,
            },
            StepKind::Fault { fault } => write!(f, "FAULT {fault}")?,
        }
        for e in &self.effects {
            write!(f, "\n{:>14}", "")?;
            match e {
                Effect::Send { from, to, signal } => {
                    write!(f, "send {from} -> {to}: {}", signal_text(signal))?
                }
                Effect::Signal {
                    from,
                    to,
                    signal,
                    dropped,
                } => {
                    write!(f, "signal {from} -> {to}: {}", signal_text(signal))?;
                    if *dropped {
                        write!(f, " (receiver dead)")?;
                    }
                }
                Effect::Spawn {
                    parent,
                    child,
                    linked,
                    label,
                } => write!(
                    f,
                    "{} {child}{} by {parent}",
                    if *linked { "spawn_link" } else { "spawn" },
                    label
                        .as_ref()
                        .map(|l| format!(" ({l})"))
                        .unwrap_or_default()
                )?,
                Effect::Exit { pid, reason } => write!(f, "exit {pid}: {reason:?}")?,
                Effect::Enqueue { pid, what } => write!(f, "enqueue {what} in {pid}")?,
                Effect::Name { name, pid } => match pid {
                    Some(p) => write!(f, "register {name} = {p}")?,
                    None => write!(f, "unregister {name}")?,
                },
                Effect::Global { pid, op } => write!(f, "{pid}: {op}")?,
            }
        }
        Ok(())
    }
}

/// A signal in words, as traces print it.
pub fn signal_text(s: &SignalKind) -> String {
    match s {
        SignalKind::Message(t) => t.to_string(),
        SignalKind::Typed(t) => format!("message {}", short_type(t)),
        SignalKind::Link => "link".into(),
        SignalKind::Unlink => "unlink".into(),
        SignalKind::UnlinkAck => "unlink ack".into(),
        SignalKind::Exit { reason, linked } => {
            format!("exit({reason:?}){}", if *linked { " via link" } else { "" })
        }
        SignalKind::Monitor => "monitor".into(),
        SignalKind::Demonitor => "demonitor".into(),
        SignalKind::Down(r) => format!("DOWN({r:?})"),
    }
}

/// `alloc::string::String` -> `String`, keeping generic arguments readable.
pub fn short_type(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut word = String::new();
    for ch in t.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == ':' {
            word.push(ch);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(ch);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(""));
    out
}

pub(crate) fn fault_text(f: &Fault) -> String {
    match f {
        Fault::Kill { pid, reason } => format!("kill {pid} ({})", reason_text(reason)),
        Fault::CrashAfterEffect { pid } => format!("crash {pid} after its next effect"),
        Fault::FailNextInit => "fail the next init".into(),
    }
}

/// Recent events, the full list when recording, and the rolling hash.
#[derive(Debug)]
pub(crate) struct Trace {
    hash: u64,
    /// Whether events are folded into `hash` ([`crate::sim::Config::skip_trace_hash`]).
    pub hashing: bool,
    /// The last [`RECENT_MAX`] events; step `s` lives in slot `s % RECENT_MAX`.
    recent: Vec<Event>,
    pub full: Option<Vec<Event>>,
    /// Effects of the step in progress (full traces only).
    pub effects: Vec<Effect>,
}

impl Trace {
    pub fn new(full: bool) -> Self {
        Trace {
            hash: 0xcbf2_9ce4_8422_2325,
            hashing: true,
            recent: Vec::new(),
            full: full.then(Vec::new),
            effects: Vec::new(),
        }
    }

    /// A new trace that keeps this one's buffers. The ring of recent events keeps its
    /// events too, to be overwritten in place (no event list allocated again): only the
    /// slots of steps already taken are ever read, and each was written in this run.
    pub fn recycled(mut self, full: bool) -> Self {
        let mut t = Trace::new(full);
        t.recent = self.recent;
        self.effects.clear();
        t.effects = self.effects;
        t
    }

    /// Is the full trace (with effects) being kept?
    #[inline]
    pub fn recording(&self) -> bool {
        self.full.is_some()
    }

    /// The hash to fold into, when this run is hashed.
    #[inline(always)]
    pub(crate) fn hasher(&mut self) -> Option<&mut u64> {
        self.hashing.then_some(&mut self.hash)
    }

    /// The run's trace hash: 0 when it was not hashed.
    pub(crate) fn hash(&self) -> u64 {
        if self.hashing { self.hash } else { 0 }
    }

    #[inline]
    pub fn effect(&mut self, e: Effect) {
        if let Some(h) = self.hasher() {
            e.fold(h);
        }
        if self.recording() {
            self.effects.push(e);
        }
    }

    /// An effect from borrowed parts: folded as its [`Effect`] folds, and built only
    /// when the trace keeps effects.
    #[inline(always)]
    pub(crate) fn effect_view(&mut self, e: EffectView<'_>) {
        if let Some(h) = self.hasher() {
            e.fold(h);
        }
        if self.recording() {
            self.effects.push(e.to_effect());
        }
    }

    #[inline]
    pub fn step(&mut self, step: u32, time_ms: u64, kind: StepKind, deps: [Option<u32>; 2]) {
        if let Some(h) = self.hasher() {
            fold(h, step as u64);
            fold(h, time_ms);
            kind.fold(h);
        }
        let slot = step as usize % RECENT_MAX;
        if let Some(e) = self.recent.get_mut(slot) {
            // Overwrite the oldest event in place: no event is built and moved, and its
            // effect list keeps its capacity.
            e.step = step;
            e.time_ms = time_ms;
            e.kind = kind;
            e.deps = deps;
            // Effects are kept only in recorded runs (a ring recycled from one may still
            // hold some): most steps have none to move.
            if !(e.effects.is_empty() && self.effects.is_empty()) {
                e.effects.clear();
                std::mem::swap(&mut e.effects, &mut self.effects);
            }
        } else {
            self.recent.push(Event {
                step,
                time_ms,
                kind,
                deps,
                effects: std::mem::take(&mut self.effects),
            });
        }
        if let Some(full) = &mut self.full {
            full.push(self.recent[slot].clone());
        }
    }

    /// The last events, oldest first.
    pub fn recent(&self, steps: u32) -> Vec<Event> {
        let first = steps.saturating_sub(RECENT_MAX as u32);
        (first..steps)
            .filter_map(|s| self.recent.get(s as usize % RECENT_MAX).cloned())
            .collect()
    }
}

/// A stable 64-bit hash of some bytes (FNV-1a), e.g. a scenario file's content.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        fold(&mut h, *b as u64);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via_fast(v: &dyn crate::sim::types::Payload) -> u64 {
        let mut h = 7;
        fold_value(&mut h, v);
        h
    }

    fn via_debug(v: &dyn fmt::Debug) -> u64 {
        let mut h = 7;
        fold_debug(&mut h, v);
        h
    }

    /// Integers and booleans fold the words their `Debug` text folds: a message's hash
    /// does not depend on which path took it (and recorded corpus hashes stay valid).
    #[test]
    fn the_fast_fold_of_a_number_is_its_debug_fold() {
        let mut unsigned = vec![0u64, 1, 9, 10, 99, 100, 12_345_678, 123_456_789, u64::MAX];
        // Every length of one to eight digits, with zeros and nines inside.
        unsigned.extend(0..1_100);
        unsigned.extend((1..=8).flat_map(|n| {
            let p = 10u64.pow(n);
            [p - 1, p, p + 1, p / 2 + 7, p - p / 10 + 3]
        }));
        unsigned.extend(
            (0..64)
                .map(|i| 1u64 << i)
                .chain((0..64).map(|i| (1u64 << i) - 1)),
        );
        for x in unsigned {
            assert_eq!(via_fast(&x), via_debug(&x), "{x}");
            assert_eq!(via_fast(&(x as u32)), via_debug(&(x as u32)));
            assert_eq!(via_fast(&(x as usize)), via_debug(&(x as usize)));
            assert_eq!(via_fast(&(x as u16)), via_debug(&(x as u16)));
            assert_eq!(via_fast(&(x as u8)), via_debug(&(x as u8)));
            for y in [x as i64, (x as i64).wrapping_neg()] {
                assert_eq!(via_fast(&y), via_debug(&y), "{y}");
                assert_eq!(via_fast(&(y as i32)), via_debug(&(y as i32)), "{y}");
                assert_eq!(via_fast(&(y as isize)), via_debug(&(y as isize)));
                assert_eq!(via_fast(&(y as i16)), via_debug(&(y as i16)));
                assert_eq!(via_fast(&(y as i8)), via_debug(&(y as i8)));
            }
        }
        for m in [i64::MIN, i64::MAX, -1] {
            assert_eq!(via_fast(&m), via_debug(&m), "{m}");
        }
        assert_eq!(via_fast(&true), via_debug(&true));
        assert_eq!(via_fast(&false), via_debug(&false));
        // Anything else takes the Debug path.
        let s = String::from("twelve bytes and more");
        assert_eq!(via_fast(&s), via_debug(&s));
        assert_ne!(via_fast(&1u64), via_fast(&2u64));
    }

    /// The bytes fold as little-endian words, the last one zero-padded: the encoding
    /// recorded corpus hashes were made with, whatever code computes it.
    #[test]
    fn bytes_fold_as_zero_padded_little_endian_words() {
        let bytes: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
        for len in 0..=bytes.len() {
            let b = &bytes[..len];
            let mut expected = 11u64;
            for chunk in b.chunks(8) {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                expected = (expected ^ u64::from_le_bytes(word)).wrapping_mul(FOLD_MUL);
            }
            let mut h = 11u64;
            fold_bytes(&mut h, b);
            assert_eq!(h, expected, "{len} bytes");
        }
        // Pinned (computed with the encoding as first written): a change would make every
        // recorded hash stale.
        let mut h = 11u64;
        fold_str(&mut h, "the words of a trace");
        assert_eq!(h, 0xaaed_85a0_afbb_ac84);
    }
}
