//! The executor: a single-threaded loop that asks a [`Chooser`] what happens next, does it,
//! and records it. No threads, no wall clock, no OS randomness: a run is a pure function of
//! the system, its configuration and the tape.

use super::choice::{Chooser, Decision, Stepped};
use super::footprint::{self, Mode, Obj};
use super::tape::{Action, Choice, Fault, Tape};
use super::trace::{Event, StepKind, fault_text};
use super::types::{ExitReason, IntoExitReason, Pid};
use super::world::{Bound, Delivery, FaultMenu, Limits, Sched, World};
use crate::check::{Invariant, Violation, When};
use crate::sim::cx::Cx;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub(crate) type ProcFuture = Pin<Box<dyn Future<Output = ExitReason>>>;

/// State shared between the executor and every process's [`Cx`].
pub(crate) struct Shared {
    pub world: RefCell<World>,
    pub futures: RefCell<Vec<Option<ProcFuture>>>,
    /// The invariants, by when they are checked ([`When`] as an index), each in the order
    /// added. Here rather than in the [`Sim`] alone so that a step that ends inside a
    /// process ([`step_in_place`]) is checked like every other.
    pub invariants: RefCell<[Vec<Box<dyn Invariant>>; 3]>,
    /// Whether any invariant is checked at each [`When`] (by its index): a point with
    /// none costs a step one load ([`check`]).
    pub checked_at: Cell<[bool; 3]>,
    /// An invariant that failed after a step that ended inside a process: the run ends
    /// there.
    pub failed_in_place: Cell<Option<Box<Violation>>>,
}

/// How a process body ends a step by unwinding (never printed as a panic).
pub(crate) enum Sentinel {
    /// `exit(reason)` from the process itself, or an injected crash.
    Exit(ExitReason),
    /// An effect of the process killed it (an exit signal to itself, a linked process
    /// that died of it): it is already dead with this reason, and nothing in it (no
    /// GenServer `terminate`) runs any more.
    Dead(ExitReason),
    /// A bound was hit inside an effect; the run ends.
    Abort,
}

thread_local! {
    static IN_PROCESS: Cell<bool> = const { Cell::new(false) };
    /// Whether steps may end inside a process ([`set_steps_in_place`]).
    static IN_PLACE: Cell<bool> = const { Cell::new(true) };
    /// Steps ended inside a process on this thread ([`steps_ended_in_place`]).
    static ENDED_IN_PLACE: Cell<u64> = const { Cell::new(0) };
    /// Where the last panic inside simulated code happened (`file:line:column`).
    static PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that stays quiet for panics inside simulated code
/// (processes, invariants, drops at teardown): the run reports them, with the location
/// the hook notes here, instead of stderr.
fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_PROCESS.with(|c| c.get()) {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                PANIC_AT.with(|p| *p.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f` as simulated code: a panic inside is caught quietly and returned with its
/// message and location.
pub(crate) fn catch_quiet<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn std::any::Any + Send>> {
    let was = IN_PROCESS.with(|c| c.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    IN_PROCESS.with(|c| c.set(was));
    r
}

/// The message and location of a caught panic (the location as the hook noted it).
pub(crate) fn panic_site(payload: &(dyn std::any::Any + Send)) -> (String, Option<String>) {
    (
        panic_message(payload),
        PANIC_AT.with(|p| p.borrow_mut().take()),
    )
}

/// What a panic in a simulated process means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Panics {
    /// A panic (a failed `assert!`, an `unwrap` on `None`, an index out of range) fails
    /// the run: the outcome is a violation of [`crate::check::PANIC`] naming the process,
    /// the message and where it panicked. As in shuttle, loom and madsim, a test fails on
    /// a panic.
    #[default]
    Fail,
    /// A panic is an OTP crash: the process exits with reason `panic: <message>`, its
    /// links and monitors see it, a supervisor restarts it ("let it crash"). One process
    /// (and the processes it spawns afterwards) can opt in with
    /// [`Cx::panics_are_crashes`].
    Crash,
}

/// Configuration of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    /// Limits on steps, processes, mailboxes, tape and time.
    pub limits: Limits,
    /// The faults that may be injected.
    pub faults: FaultMenu,
    /// Keep every event (for replay output and diagrams), not only the last few.
    pub record_trace: bool,
    /// What a panic in a process means (default: it fails the run).
    pub panics: Panics,
    /// How signals travel: on one node (the default) or between nodes.
    pub delivery: Delivery,
    /// Fold nothing into [`RunReport::trace_hash`], which is then 0. A run costs about a
    /// tenth less. Off by default: the determinism self-check, replays and the corpus
    /// compare hashes. A sweep ([`crate::explore::sweep_with`]) compares none: its runs
    /// skip it, and the failures it keeps are run again for it.
    pub skip_trace_hash: bool,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Nothing left to do: no enabled action, no pending timer.
    Quiescent,
    /// Only timers beyond `time_max_ms` are left.
    TimeLimit,
    /// An invariant failed.
    Violation(Violation),
    /// A bound was hit.
    BoundHit(Bound),
}

impl Outcome {
    /// A violation or a bound hit.
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Violation(_) | Outcome::BoundHit(_))
    }
}

/// What one run did.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunReport {
    /// How it ended.
    pub outcome: Outcome,
    /// Steps taken.
    pub steps: u32,
    /// The identity of the run: a hash of every event (0 when the run skipped it,
    /// [`Config::skip_trace_hash`]).
    pub trace_hash: u64,
    /// The choices that actually ran (replaying this tape reproduces the run).
    pub tape: Tape,
    /// Choices that were not valid where they were read and fell back to the default.
    pub fallbacks: u32,
    /// Recorded choices other than the default: picks other than the first action
    /// offered, time jumps, non-zero draws (faults are counted in `faults`). The
    /// shrinker's "preemptions".
    pub deviations: u32,
    /// For each tape entry, the step it was taken before (a draw: the next step); kept
    /// only when the full trace is (`record_trace`).
    pub choice_steps: Vec<u32>,
    /// Faults injected.
    pub faults: u32,
    /// Virtual time at the end.
    pub time_ms: u64,
    /// The last events, when the run failed (or was traced).
    pub recent: Vec<Event>,
    /// Every event, when `record_trace` was set.
    pub trace: Option<Vec<Event>>,
    /// The labels of the processes, by pid, when the run failed or was traced (to name
    /// processes in reports and diagrams).
    #[serde(default)]
    pub labels: Vec<(Pid, String)>,
}

impl RunReport {
    /// Takes the trace hash of `rerun`, the same tape run again with the hash, when it ran
    /// the same (steps and tape): a run that skipped the hash gets the one it would have
    /// had. A rerun that differs (a nondeterministic system) leaves the hash as it was.
    pub(crate) fn take_hash_of(&mut self, rerun: &RunReport) {
        if (rerun.steps, &rerun.tape) == (self.steps, &self.tape) {
            self.trace_hash = rerun.trace_hash;
        }
    }

    /// The report of a world whose construction panicked (a system's `build`): no step
    /// ran, and the outcome is that panic.
    pub(crate) fn build_panicked(payload: &(dyn std::any::Any + Send)) -> RunReport {
        let (message, location) = panic_site(payload);
        let mut v = Violation::new(
            crate::check::PANIC,
            0,
            format!(
                "building the world panicked: {message}{}",
                location
                    .as_deref()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default()
            ),
        );
        v.location = location;
        RunReport::of_outcome(Outcome::Violation(v))
    }

    /// A report with this outcome and nothing else: no step, no choice, no trace.
    pub(crate) fn of_outcome(outcome: Outcome) -> RunReport {
        RunReport {
            outcome,
            steps: 0,
            trace_hash: 0,
            tape: Tape::new(),
            fallbacks: 0,
            deviations: 0,
            choice_steps: Vec::new(),
            faults: 0,
            time_ms: 0,
            recent: Vec::new(),
            trace: None,
            labels: Vec::new(),
        }
    }

    /// The label of `pid`, if it had one.
    pub fn label(&self, pid: Pid) -> Option<&str> {
        self.labels
            .binary_search_by_key(&pid, |(p, _)| *p)
            .ok()
            .map(|i| self.labels[i].1.as_str())
    }
}

thread_local! {
    /// The shared state of the last run that ended on this thread (its world, its
    /// futures' slots) and its working lists: the next [`Sim::new`] keeps their buffers
    /// (`World::recycle`), and moves no world.
    static SPARE: RefCell<Option<(Rc<Shared>, Scratch)>> = const { RefCell::new(None) };
}

/// The most tape entries a run allocates ahead (from the last run's length).
const TAPE_HINT_MAX: usize = 4096;

/// A run's working lists, kept (emptied) for the next run on the thread with its world.
#[derive(Default)]
struct Scratch {
    /// The actions offered at a decision, the default first (`World::offer`).
    offered: Vec<Action>,
    /// The faults offered at a decision.
    faults: Vec<Fault>,
    /// The actions enabled before a step, for a chooser that reduces.
    enabled_before: Vec<Action>,
    /// The length of the last run's tape: the next tape is allocated at that size once.
    tape_len: usize,
}

impl Drop for Sim {
    fn drop(&mut self) {
        // A world never run (or whose run was cut short by a panic outside its
        // processes) still has suspended processes, and they hold the shared state: the
        // run's teardown drops them (a run leaves the list empty). A panic in one has no
        // run left to fail. While this thread unwinds, a second panic would abort it, so
        // then they are left (leaked) instead.
        if !std::thread::panicking() && !self.sh.futures.borrow().is_empty() {
            self.drop_suspended("with a world that was not run to its end");
        }
        // Only a world whose processes are all gone (a run ended, or none was spawned):
        // a suspended process still holds the shared state.
        if let Some(sh) = Rc::get_mut(&mut self.sh)
            && sh.futures.get_mut().is_empty()
        {
            sh.invariants.get_mut().iter_mut().for_each(Vec::clear);
            sh.checked_at.set([false; 3]);
            let scratch = std::mem::take(&mut self.scratch);
            let sh = self.sh.clone();
            SPARE.with(|s| *s.borrow_mut() = Some((sh, scratch)));
        }
    }
}

/// A simulated world under construction, then run once.
pub struct Sim {
    sh: Rc<Shared>,
    ran: bool,
    /// A failure found inside a step (a panic), which ends the run after the step.
    failure: Option<Violation>,
    scratch: Scratch,
}

impl Sim {
    /// An empty world.
    pub fn new(config: Config) -> Self {
        install_quiet_hook();
        let (sh, scratch) = match SPARE.with(|s| s.borrow_mut().take()) {
            Some((mut sh, scratch)) => {
                Rc::get_mut(&mut sh)
                    .expect("a spare world has no other owner (Drop checked)")
                    .world
                    .get_mut()
                    .recycle(
                        config.limits,
                        config.faults,
                        config.record_trace,
                        config.delivery,
                    );
                (sh, scratch)
            }
            None => {
                let world = World::new(
                    config.limits,
                    config.faults,
                    config.record_trace,
                    config.delivery,
                );
                let sh = Rc::new(Shared {
                    world: RefCell::new(world),
                    futures: RefCell::new(Vec::new()),
                    invariants: Default::default(),
                    checked_at: Cell::new([false; 3]),
                    failed_in_place: Cell::new(None),
                });
                (sh, Scratch::default())
            }
        };
        {
            let mut w = sh.world.borrow_mut();
            w.panics = config.panics;
            w.trace.hashing = !config.skip_trace_hash;
            w.in_place = IN_PLACE.get();
        }
        Sim {
            sh,
            ran: false,
            failure: None,
            scratch,
        }
    }

    /// Shares a value with the invariants: they read it with
    /// [`World::get`](crate::sim::World::get). A system puts here what its invariants
    /// need to know about it (its services' names, an observer the processes write to),
    /// so that invariants written outside the system can use it too. One value per type.
    pub fn share<T: 'static>(&mut self, value: T) -> &mut Self {
        let id = std::any::TypeId::of::<T>();
        let value: Rc<dyn std::any::Any> = Rc::new(value);
        let mut w = self.sh.world.borrow_mut();
        match w.shared.iter_mut().find(|(t, _)| *t == id) {
            Some((_, v)) => *v = value,
            None => w.shared.push((id, value)),
        }
        drop(w);
        self
    }

    /// Spawns a top-level process (no parent, no links). Its body starts on its first step.
    pub fn spawn<F, Fut, O>(&mut self, label: &str, body: F) -> Pid
    where
        F: FnOnce(Cx) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
        O: IntoExitReason,
    {
        let mut w = self.sh.world.borrow_mut();
        let label = w.name_of(label);
        let max = w.limits.processes_max;
        let Some(pid) = w.spawn(None, false, Some(label.clone())) else {
            drop(w);
            panic!(
                "the world's top-level process `{label}` is one more than limits.processes_max \
                 ({max}) allows"
            );
        };
        drop(w);
        let fut = make_future(Cx::new(pid, self.sh.clone()), body);
        store_future(&self.sh, pid, fut);
        pid
    }

    /// The pid the next [`Sim::spawn`] will give (pids are handed out in spawn order), so
    /// that top-level processes can be wired to each other before they exist, e.g. a ring.
    pub fn next_pid(&self) -> Pid {
        Pid(self.sh.world.borrow().procs.len() as u32)
    }

    /// Adds an invariant, checked when its [`When`] says.
    pub fn invariant(&mut self, inv: impl Invariant + 'static) -> &mut Self {
        let when = inv.when();
        let mut checked_at = self.sh.checked_at.get();
        checked_at[when as usize] = true;
        self.sh.checked_at.set(checked_at);
        // An invariant already boxed (a scenario's, made by its system's factory) is kept
        // as it is: boxed again, each check after each step would go through two calls.
        let mut slot = Some(inv);
        let boxed = match (&mut slot as &mut dyn std::any::Any)
            .downcast_mut::<Option<Box<dyn Invariant>>>()
        {
            Some(boxed) => boxed.take(),
            None => slot.take().map(|inv| Box::new(inv) as Box<dyn Invariant>),
        };
        self.sh.invariants.borrow_mut()[when as usize].extend(boxed);
        self
    }

    /// Has an invariant of this name been added?
    pub fn has_invariant(&self, name: &str) -> bool {
        self.sh
            .invariants
            .borrow()
            .iter()
            .flatten()
            .any(|i| i.name() == name)
    }

    /// The world, for inspection after (or before) the run.
    pub fn world(&self) -> std::cell::Ref<'_, World> {
        self.sh.world.borrow()
    }

    /// Runs to the end: quiescence, the time limit, a violation or a bound.
    pub fn run<C: Chooser + ?Sized>(&mut self, chooser: &mut C) -> RunReport {
        assert!(
            !self.ran,
            "a Sim runs once; build a new one for the next run"
        );
        self.ran = true;
        let mut tape = Tape {
            choices: Vec::with_capacity(self.scratch.tape_len),
        };
        let mut fallbacks = 0u32;
        let mut deviations = 0u32;
        let mut choice_steps: Vec<u32> = Vec::new();
        let mut faults_injected = 0u32;
        let Scratch {
            mut offered,
            mut faults,
            mut enabled_before,
            ..
        } = std::mem::take(&mut self.scratch);
        // Footprints for a chooser that reduces. Every step depends on every other when
        // an invariant looks at the world between steps (a state in between may differ
        // where the order does not matter at the end) or when the system shares values
        // outside the kernel that the kernel cannot see being written.
        let footprints = chooser.wants_steps();
        let checked_at = self.sh.checked_at.get();
        let everything = footprints
            && (!self.sh.world.borrow().shared.is_empty()
                || checked_at[When::Always as usize]
                || checked_at[When::Quiescence as usize]);
        self.sh.world.borrow_mut().fp_on = footprints;
        let outcome = loop {
            let mut w = self.sh.world.borrow_mut();
            if let Some((pid, n)) = w.draw_request.take() {
                // A process asked `draw(n)`: answer before anything else happens.
                let asked = chooser.choose(&Decision {
                    step: w.step,
                    index: tape.len(),
                    now_ms: w.now_ms(),
                    actions: &[],
                    faults: &[],
                    can_jump: false,
                    draw: n,
                });
                let v = match asked {
                    Choice::Draw(v) if v < n => v,
                    Choice::Default => 0,
                    _ => {
                        fallbacks += 1;
                        0
                    }
                };
                tape.choices.push(Choice::Draw(v));
                if w.trace.recording() {
                    choice_steps.push(w.step);
                }
                deviations += (v != 0) as u32;
                w.draw_answers.insert(pid, v);
                if let Some(h) = w.trace.hasher() {
                    crate::sim::trace::fold(h, 0xD4A0_0000_0000_0000 | v as u64);
                }
                continue;
            }
            if let Some(b) = w.bound_hit.take() {
                break Outcome::BoundHit(b);
            }
            if w.step >= w.limits.steps_max {
                break Outcome::BoundHit(Bound::Steps {
                    max: w.limits.steps_max,
                });
            }
            w.offer(&mut offered);
            let n = offered.len();
            if n == 0 {
                drop(w);
                if let Some(v) = check(&self.sh, When::Quiescence) {
                    break Outcome::Violation(v);
                }
                w = self.sh.world.borrow_mut();
            }
            w.fault_options(&mut faults);
            let can_jump = w.next_deadline().is_some();
            if n == 0 && !can_jump && faults.is_empty() {
                break if w.timers_pending() > 0 {
                    Outcome::TimeLimit
                } else {
                    Outcome::Quiescent
                };
            }
            let actions: &[Action] = &offered;
            let forced = faults.is_empty() && (n == 0 || (n == 1 && !can_jump));
            let choice = if forced {
                if n == 0 {
                    Choice::Jump
                } else {
                    Choice::Pick(actions[0])
                }
            } else {
                let asked = chooser.choose(&Decision {
                    step: w.step,
                    index: tape.len(),
                    now_ms: w.now_ms(),
                    actions,
                    faults: &faults,
                    can_jump,
                    draw: 0,
                });
                let (taken, fell_back, deviated) = validate(asked, actions, &faults, can_jump);
                fallbacks += fell_back as u32;
                deviations += deviated as u32;
                let Some(taken) = taken else {
                    // Only faults were offered and none was taken: the run is over.
                    break Outcome::Quiescent;
                };
                tape.choices.push(taken.clone());
                if w.trace.recording() {
                    choice_steps.push(w.step);
                }
                if tape.len() > w.limits.tape_max {
                    break Outcome::BoundHit(Bound::Tape {
                        max: w.limits.tape_max,
                    });
                }
                taken
            };
            let index = (!forced).then(|| tape.len() - 1);
            let taken = footprints.then(|| {
                begin_footprint(&mut w, &choice, everything, &mut enabled_before);
                choice.clone()
            });
            let (kind, deps) = match choice {
                Choice::Pick(Action::Run(pid)) => {
                    w.start_turn(pid);
                    drop(w);
                    match self.run_process(pid) {
                        Ok(step) => step,
                        Err(v) => break Outcome::Violation(*v),
                    }
                }
                Choice::Pick(Action::Deliver { to, from }) => {
                    let prev = w.procs[to.0 as usize].last_step;
                    let (kind, sent) = w.deliver(to, from);
                    drop(w);
                    (kind, [sent, prev])
                }
                Choice::Jump => {
                    let (kind, set) = w.fire_next_timer();
                    drop(w);
                    (kind, [set, None])
                }
                Choice::Fault(f) => {
                    faults_injected += 1;
                    let prev = w.inject(&f);
                    drop(w);
                    (
                        StepKind::Fault {
                            fault: fault_text(&f),
                        },
                        [prev, None],
                    )
                }
                Choice::Default | Choice::Draw(_) => {
                    unreachable!("validate resolves the default; draws are answered above")
                }
            };
            let step = if footprints {
                self.sh.world.borrow().step
            } else {
                0
            };
            self.end_step(kind, deps);
            if let Some(taken) = taken {
                if self.failure.is_some() {
                    // The run ends here: every step another process would take after
                    // it never happens, so it is in a race with each of them.
                    self.sh.world.borrow_mut().touch(Obj::Global, Mode::Write);
                }
                let told = Told {
                    step,
                    index,
                    taken: &taken,
                    actions: &offered,
                    enabled: &enabled_before,
                    can_jump,
                    faults: &faults,
                    deps,
                };
                tell_step(&self.sh, chooser, told);
            }
            if let Some(v) = self.failure.take() {
                break Outcome::Violation(v);
            }
            if let Some(v) = check(&self.sh, When::Always) {
                break Outcome::Violation(v);
            }
        };
        offered.clear();
        faults.clear();
        enabled_before.clear();
        self.scratch = Scratch {
            offered,
            faults,
            enabled_before,
            tape_len: tape.len().min(TAPE_HINT_MAX),
        };
        let outcome = match outcome {
            Outcome::Quiescent | Outcome::TimeLimit => match check(&self.sh, When::End) {
                Some(v) => Outcome::Violation(v),
                None => outcome,
            },
            other => other,
        };
        let w = self.sh.world.borrow();
        let mut report = RunReport {
            steps: w.step,
            trace_hash: w.trace.hash(),
            tape,
            fallbacks,
            deviations,
            choice_steps,
            faults: faults_injected,
            time_ms: w.now_ms(),
            // The last events matter when something went wrong; copying them for every
            // passing run would cost more than the run itself.
            recent: if outcome.is_failure() || w.trace.recording() {
                w.trace.recent(w.step)
            } else {
                Vec::new()
            },
            trace: w.trace.full.clone(),
            labels: if outcome.is_failure() || w.trace.recording() {
                w.pids()
                    .filter_map(|p| w.label(p).map(|l| (p, l.to_string())))
                    .collect()
            } else {
                Vec::new()
            },
            outcome,
        };
        drop(w);
        self.drop_suspended("at the end of the run");
        if let Some(v) = self.failure.take()
            && !report.outcome.is_failure()
        {
            report.outcome = Outcome::Violation(v);
        }
        report
    }

    /// Teardown: drops every process that is still suspended, each as simulated code
    /// ([`Sim::drop_future`]). This also breaks the cycle future -> `Cx` -> shared state
    /// -> future. The list is kept, emptied, for the next world on this thread (`SPARE`).
    fn drop_suspended(&mut self, when: &str) {
        let mut left = std::mem::take(&mut *self.sh.futures.borrow_mut());
        for (i, fut) in left.iter_mut().enumerate() {
            if let Some(fut) = fut.take() {
                self.drop_future(Pid(i as u32), fut, when);
            }
        }
        left.clear();
        *self.sh.futures.borrow_mut() = left;
    }

    /// Drops a process's future as simulated code: a panic in a `Drop` fails the run.
    fn drop_future(&mut self, pid: Pid, fut: ProcFuture, when: &str) {
        if let Err(payload) = catch_quiet(move || drop(fut)) {
            let (message, location) = panic_site(&*payload);
            if self.failure.is_none() {
                let w = self.sh.world.borrow();
                self.failure = Some(Violation::panic(
                    &w,
                    pid,
                    &format!("panicked while being dropped {when}: {message}"),
                    location,
                ));
            }
        }
    }

    // Called once, from the step loop, like `run_process`: inlined there, a step's kind
    // is not copied into each call's arguments.
    #[inline(always)]
    fn end_step(&mut self, kind: StepKind, deps: [Option<u32>; 2]) {
        let dead: Vec<(Pid, ProcFuture)> = {
            let mut w = self.sh.world.borrow_mut();
            close_step(&mut w, kind, deps);
            if w.dead_futures.is_empty() {
                return;
            }
            // Drained, not taken: the list keeps its buffer for the next death. A process
            // that returned has no future left here (it was dropped as it exited), so
            // the list below is empty and allocates nothing.
            let mut futures = self.sh.futures.borrow_mut();
            w.dead_futures
                .drain(..)
                .filter_map(|p| {
                    futures
                        .get_mut(p.0 as usize)
                        .and_then(Option::take)
                        .map(|f| (p, f))
                })
                .collect()
        };
        // Outside every borrow: a future's locals may run code when dropped.
        for (pid, fut) in dead {
            self.drop_future(pid, fut, "after it was killed");
        }
    }

    /// One `run` step: poll the process until its next yield point. `Err` when steps
    /// ended inside the poll ([`step_in_place`]) and an invariant failed after one: the
    /// process stopped at its point, and the run ends.
    #[inline(always)]
    fn run_process(&mut self, pid: Pid) -> Result<(StepKind, [Option<u32>; 2]), Box<Violation>> {
        let mut fut = self.sh.futures.borrow_mut()[pid.0 as usize]
            .take()
            .expect("invariant: a runnable process has a future");
        begin_run(&mut self.sh.world.borrow_mut(), pid);
        let waker = Waker::noop();
        let mut task_cx = Context::from_waker(waker);
        let polled = catch_quiet(|| fut.as_mut().poll(&mut task_cx));
        let mut w = self.sh.world.borrow_mut();
        w.current = None;
        if let Some(v) = self.sh.failed_in_place.take() {
            drop(w);
            self.sh.futures.borrow_mut()[pid.0 as usize] = Some(fut);
            return Err(v);
        }
        // Read after the poll: a step that ended inside it moved the process's last step.
        let p = w.p(pid);
        let (prev, consumed) = (p.last_step, p.consumed_step);
        let step = w.step;
        w.p(pid).last_step = Some(step);
        let finished = match polled {
            Ok(Poll::Ready(reason)) => Some(reason),
            Ok(Poll::Pending) if w.procs[pid.0 as usize].sched == Sched::Running => {
                Some(foreign_await(&mut self.failure, &w, pid))
            }
            Ok(Poll::Pending) => None,
            Err(payload) => Some(match payload.downcast::<Sentinel>() {
                Ok(s) => match *s {
                    Sentinel::Exit(reason) | Sentinel::Dead(reason) => reason,
                    Sentinel::Abort => ExitReason::custom("fsim: run aborted at a bound"),
                },
                Err(payload) => {
                    let (message, location) = panic_site(&*payload);
                    if !w.procs[pid.0 as usize].panics_crash {
                        self.failure = Some(Violation::panic(
                            &w,
                            pid,
                            &format!("panicked: {message}"),
                            location,
                        ));
                    }
                    ExitReason::Custom(format!("panic: {message}"))
                }
            }),
        };
        match finished {
            Some(reason) => {
                w.die(pid, reason);
                drop(w);
                self.drop_future(pid, fut, "as it exited");
            }
            None => {
                drop(w);
                self.sh.futures.borrow_mut()[pid.0 as usize] = Some(fut);
            }
        }
        Ok((StepKind::Run { pid }, [prev, consumed]))
    }
}

/// A process that returned `Pending` while still running awaited a future that is not
/// its `Cx`'s, which nothing will ever wake. That is a mistake in the test, not an OTP
/// crash, so it fails the run whatever `Panics` says, as a panic would; the process
/// exits with this reason.
#[cold]
#[inline(never)]
fn foreign_await(failure: &mut Option<Violation>, w: &World, pid: Pid) -> ExitReason {
    const FOREIGN: &str = "awaited a future that is not fsim's: a simulated process may only \
        await its Cx (no tokio, no timers, no channels from outside)";
    if failure.is_none() {
        *failure = Some(Violation::panic(w, pid, FOREIGN, None));
    }
    ExitReason::custom(FOREIGN)
}

/// Checks the invariants of `when`; with none of them, only a flag is read (this is
/// called after every step, by the step loop or [`step_in_place`]).
#[inline]
fn check(sh: &Shared, when: When) -> Option<Violation> {
    if !sh.checked_at.get()[when as usize] {
        return None;
    }
    check_now(sh, when)
}

/// Records the end of the step in progress (its kind and the earlier steps it depends
/// on) and counts it.
#[inline(always)]
fn close_step(w: &mut World, kind: StepKind, deps: [Option<u32>; 2]) {
    let step = w.step;
    let now = w.now_ms();
    tracing::debug!(target: "fsim::step", step, time_ms = now, "{kind:?}");
    w.trace.step(step, now, kind, deps);
    w.step += 1;
}

/// `pid`'s step begins: it runs until its next yield point.
#[inline(always)]
fn begin_run(w: &mut World, pid: Pid) {
    w.current = Some(pid);
    let p = w.p(pid);
    p.sched = Sched::Running;
    p.version = p.version.wrapping_add(1);
    p.consumed_step = None;
    if w.fp_on {
        w.run_cause = w.causes.get_mut(pid.0 as usize).and_then(Option::take);
    }
    w.refresh_run(pid);
}

/// Ends the step of `pid`, stopped at an effect point where the next decision can only
/// be `pid` running on ([`World::runs_on_alone`]), and begins its next step without
/// going back to the step loop, which would pick `pid` with no choice: this does what
/// the loop does between the two, in the same order, so that the run, its trace and its
/// checks are the ones the loop makes. The loop's round trip (unwinding the process's
/// futures, the decision, polling down to the point again) is what is saved. `false`
/// when an invariant failed after the step: the run ends there
/// ([`Shared::failed_in_place`]), with the process stopped at its point.
pub(crate) fn step_in_place(sh: &Shared, pid: Pid) -> bool {
    let mut w = sh.world.borrow_mut();
    // The end of `Sim::run_process`, then `Sim::end_step`.
    w.current = None;
    let step = w.step;
    let p = w.p(pid);
    let deps = [p.last_step, p.consumed_step];
    p.last_step = Some(step);
    close_step(&mut w, StepKind::Run { pid }, deps);
    drop(w);
    ENDED_IN_PLACE.set(ENDED_IN_PLACE.get() + 1);
    if let Some(v) = check(sh, When::Always) {
        sh.failed_in_place.set(Some(Box::new(v)));
        return false;
    }
    // The loop's pick of `pid`: `World::start_turn`, then the start of `Sim::run_process`.
    let mut w = sh.world.borrow_mut();
    w.start_turn(pid);
    begin_run(&mut w, pid);
    true
}

/// Whether steps may end inside a process where the next decision has no choice
/// ([`step_in_place`]), for the runs built on this thread from now on (on by default).
/// Off, every step goes back to the step loop: for tests that this changes nothing.
#[doc(hidden)]
pub fn set_steps_in_place(on: bool) {
    IN_PLACE.set(on);
}

/// How many steps ended inside a process ([`step_in_place`]) on this thread since the
/// last call: for tests that the shortcut is taken.
#[doc(hidden)]
pub fn steps_ended_in_place() -> u64 {
    ENDED_IN_PLACE.take()
}

/// [`check`] when some invariant is checked at `when`: each in the order added; the
/// first that fails (or panics) is the violation.
fn check_now(sh: &Shared, when: When) -> Option<Violation> {
    let w = sh.world.borrow();
    let invariants = &sh.invariants.borrow()[when as usize];
    // One guard for the pass: `at` says which invariant was running if one panics.
    let mut at = 0;
    let failed = catch_quiet(|| {
        for (i, inv) in invariants.iter().enumerate() {
            at = i;
            if let Err(message) = inv.check(&w) {
                return Some((i, message));
            }
        }
        None
    });
    // Checks run after a step: the violation is at the step that just ended, the index
    // its trace line has (a panic is at the step it happened in, the same index).
    let step = || w.step.saturating_sub(1);
    match failed {
        Ok(None) => None,
        Ok(Some((i, message))) => Some(Violation::new(invariants[i].name(), step(), message)),
        Err(payload) => {
            let (message, location) = panic_site(&*payload);
            let mut v = Violation::new(
                invariants[at].name(),
                step(),
                format!("the invariant itself panicked: {message}"),
            );
            v.location = location;
            Some(v)
        }
    }
}

/// A step about to run for a chooser that reduces: its footprint starts empty, with
/// what running or injecting touches by itself.
#[cold]
fn begin_footprint(
    w: &mut World,
    choice: &Choice,
    everything: bool,
    enabled_before: &mut Vec<Action>,
) {
    w.fp.clear();
    w.disabled.clear();
    enabled_before.clear();
    enabled_before.extend_from_slice(&w.enabled);
    match choice {
        Choice::Pick(Action::Run(pid)) => w.touch(Obj::Life(*pid), Mode::Read),
        Choice::Fault(_) => w.touch(Obj::Global, Mode::Write),
        _ => {}
    }
    if everything {
        w.touch(Obj::Global, Mode::Write);
    }
}

/// What the step loop knows of a step when it tells a reducing chooser.
struct Told<'a> {
    step: u32,
    index: Option<usize>,
    taken: &'a Choice,
    actions: &'a [Action],
    enabled: &'a [Action],
    can_jump: bool,
    faults: &'a [Fault],
    deps: [Option<u32>; 2],
}

/// Tells a reducing chooser the step that just ran ([`Chooser::stepped`]).
#[cold]
fn tell_step<C: Chooser + ?Sized>(sh: &Shared, chooser: &mut C, t: Told<'_>) {
    let mut w = sh.world.borrow_mut();
    if let Choice::Pick(Action::Run(pid)) = t.taken {
        w.record_turn(*pid);
    }
    footprint::normalize(&mut w.fp);
    let cause = match t.taken {
        Choice::Pick(Action::Run(_)) => w.run_cause.take().or(t.deps[1]),
        // Whichever timer is first fires: its order against setting timers is
        // dependence on the timer queue, not causality.
        Choice::Fault(_) | Choice::Jump => None,
        _ => t.deps[0],
    };
    let fp = std::mem::take(&mut w.fp);
    let disabled = std::mem::take(&mut w.disabled);
    let jump_disabled =
        t.can_jump && !matches!(t.taken, Choice::Jump) && w.next_deadline().is_none();
    drop(w);
    chooser.stepped(&Stepped {
        step: t.step,
        index: t.index,
        taken: t.taken,
        actions: t.actions,
        enabled: t.enabled,
        can_jump: t.can_jump,
        faults: t.faults,
        cause,
        footprint: &fp,
        disabled: &disabled,
        jump_disabled,
    });
    let mut w = sh.world.borrow_mut();
    w.fp = fp;
    w.disabled = disabled;
}

/// Resolves a chooser's answer against what is possible: `(what to do, fell back,
/// deviates from the default)`. `None` means "nothing": only faults were offered and the
/// default is to end.
fn validate(
    c: Choice,
    actions: &[Action],
    faults: &[Fault],
    can_jump: bool,
) -> (Option<Choice>, bool, bool) {
    let default = || {
        if let Some(a) = actions.first() {
            Some(Choice::Pick(*a))
        } else if can_jump {
            Some(Choice::Jump)
        } else {
            None
        }
    };
    match c {
        Choice::Default => (default(), false, false),
        Choice::Pick(a) if actions.contains(&a) => (Some(Choice::Pick(a)), false, actions[0] != a),
        Choice::Fault(f) if faults.contains(&f) => (Some(Choice::Fault(f)), false, false),
        Choice::Jump if can_jump => (Some(Choice::Jump), false, !actions.is_empty()),
        _ => (default(), true, false),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

pub(crate) fn make_future<F, Fut, O>(cx: Cx, body: F) -> ProcFuture
where
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = O> + 'static,
    O: IntoExitReason,
{
    Box::pin(async move { body(cx).await.into_exit_reason() })
}

pub(crate) fn store_future(sh: &Shared, pid: Pid, fut: ProcFuture) {
    let mut futures = sh.futures.borrow_mut();
    let i = pid.0 as usize;
    if futures.len() <= i {
        futures.resize_with(i + 1, || None);
    }
    futures[i] = Some(fut);
}

/// Runs the world that `setup` builds with the seeded random chooser.
pub fn run_seed(config: &Config, seed: u64, setup: impl FnOnce(&mut Sim)) -> RunReport {
    let mut sim = Sim::new(config.clone());
    setup(&mut sim);
    sim.run(&mut super::choice::RandomChooser::new(seed))
}

/// Replays `tape` on the world that `setup` builds.
pub fn run_tape(config: &Config, tape: &Tape, setup: impl FnOnce(&mut Sim)) -> RunReport {
    let mut sim = Sim::new(config.clone());
    setup(&mut sim);
    sim.run(&mut super::choice::ReplayChooser::new(tape.clone()))
}
