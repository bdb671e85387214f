//! Exhaustive search with dynamic partial-order reduction: source sets and sleep sets
//! (Abdulla, Aronis, Jonsson, Sagonas, "Optimal dynamic partial order reduction", POPL
//! 2014, Algorithm 1; the method Concuerror uses for Erlang).
//!
//! # What is reduced
//! Two runs that differ only in the order of steps that commute reach the same world: the
//! same terminal state, the same values in every process. Such runs form one class
//! (a Mazurkiewicz trace), and one run per class is enough. Steps are grouped by
//! *thread*: a process's steps, the deliveries of one channel (between nodes), the timer
//! queue. Each step records its footprint (`sim::footprint`): the objects it read and
//! wrote — a mailbox (an append commutes with taking a message already there), a
//! process's life and ties, a name, a table, the clock, the timers, the counters that
//! number pids and refs. Two steps of different threads are dependent when their
//! footprints conflict. Happens-before is program order, dependence in the order the run
//! took, and causality (a message is taken after it was sent, a signal delivered after it
//! was sent, a timer fires after it was set).
//!
//! After each run, every *race* — two dependent steps of different threads with nothing
//! ordering them but each other — is reversed where it can be: at the decision before the
//! earlier step, a thread that can start the reversed order (an initial of
//! `notdep(e, E).e'`) is added to the decisions to explore, unless one already is.
//! Sleep sets keep a thread that was explored at a decision from being explored again
//! after steps independent of it.
//!
//! # Soundness, and what is not yet sound
//! The method reaches every class when footprints over-approximate what steps do, every
//! enabled thread can be picked, and a thread's next step is known where it matters. The
//! search keeps the first by construction:
//! - every effect of `Cx` records what it touches, and a process reading the whole world
//!   (`Cx::world`) depends on everything;
//! - every step depends on every other when an invariant is checked between steps
//!   (`When::Always`, `When::Quiescence`: the states in between differ among the runs of
//!   one class) or the system shares values outside the kernel (`Sim::share`), whose
//!   writes the kernel cannot see. Such worlds get no reduction;
//! - processes must affect each other only through their `Cx`. State two processes reach
//!   outside it (an `Rc` both hold) is invisible to the reduction: keep it write-only
//!   and per process (an observer that each process writes its own entry of), or use a
//!   table.
//!
//! The other two hold only in part, so a complete search is evidence, not a proof, and
//! it never says "proven" (the bounded search without reduction does):
//! - one node's scheduler holds a process woken a moment ago back (`World::offer`), so
//!   not every enabled process can be picked. Who may preempt a turn is decided when it
//!   begins: the processes runnable then. So:
//!   - a turn's beginning depends on a timer waking a process (`Obj::Sched`);
//!   - a race whose initial is held back where it must be reversed falls back to every
//!     thread offered there, asleep or not (Flanagan and Godefroid's rule for disabled
//!     threads; any other process that runs there ends the turn and lets the held-back
//!     one in, which sleep sets do not see), and where some process is held back every
//!     offered initial is taken;
//!   - and the turn it waits on is itself put in races (`Analysed::turn_races`): with
//!     the last step before it of every other process (had it come later, inside the
//!     turn, it would have ended the turn there: even a step that commutes with
//!     everything lets the held-back process in after it), and with a timer that woke a
//!     process after it began (had it come earlier, that process could have preempted
//!     it). The same where a run is cut short by its sleep set while a process is held
//!     back.
//!
//!   Steps record which processes they made runnable or not (`Obj::Ready`): a
//!   process that starts waiting or ends, one woken. A turn that begins and goes on
//!   reads every live process's entry (who was runnable decides who may preempt it).
//!   For sleep sets that is a dependence: a process asleep whose next step only makes
//!   it wait is woken by a turn that begins, since running it inside that turn (it was
//!   runnable, so it may preempt) is another order than running it before. For races
//!   it is not (as races it took Concuerror's `readers` from 64 runs to over 200,000);
//!   the turn races above stand in. And a wait is not a stutter on one node: a process
//!   that waits ends its turn, and the message that wakes it then leaves it behind the
//!   turn that runs, where arriving first would have let it run on. So a step that ends
//!   in a wait reads its mailbox, in a race with an arrival;
//! - a step disabled by another (a process killed, the signals to it dropped) never
//!   runs, so what it would have touched is unknown: it is put in a race with what
//!   disabled it, as a step that reads the process's life; and where that race must be
//!   reversed at a decision where the disabled step is asleep (its own order was
//!   searched, but only up to the kill), every other offered thread is tried there;
//! - a step's effects depend on the state more than its footprint says: a kill that,
//!   reversed, meets alive the process the earlier step ended takes it and, through its
//!   links, others, whose steps may be among the ones moved before it. So an asleep
//!   initial covers a reversal only where no step of it ends another process and the
//!   later step does not meet a process the earlier one ended; and where one initial is
//!   added, it is one that is awake;
//! - a step that fails the run (a panic) ends it: what other processes would have done
//!   after it never happens, so it depends on every step (it touches everything).
//!
//! The property test (`tests/dpor_reduction.rs`) compares outcomes with the search
//! without reduction on generated worlds of both models: 300 of each in CI, at every
//! bound and within 1, 2 and 3 deviations. Each world a sweep found missed is kept as a
//! test (`worlds_the_reduction_once_missed`, `turn_broken_by_a_process_not_yet_waiting`,
//! `turn_broken_by_a_first_step`): a timed-out receive that then took a message depends
//! on its arrival; a timer waking a process depends on where turns begin; a killed step
//! asleep where its race must be reversed; a turn broken by a process that had not yet
//! waited; a process's first step (it only waits) that slept through a turn it could
//! have preempted; a wait that an arrival would have prevented; a turn broken by a
//! step that commutes with everything; a failing step that ends the run before other
//! processes' steps; a kill that, reversed, takes a linked process that never ran.
//! 3,000-world sweeps, none with a difference: `distributed`, seed 100, 1,636 compared;
//! `local`, seeds 100, 300 and 500, 1,700, 1,734 and 1,679 compared (seed 300 showed
//! four before the last three rules). A complete reduced search is still evidence, not a
//! proof: the rules above are argued, not derived from the theorem, and the sweeps
//! check them.
//!
//! # Bounds
//! A bound on deviations cuts runs by their tape, and the class of a run cut may be
//! reached in this search only by a run the bound also cuts (Coons, Musuvathi,
//! McKinley, "Bounded partial-order reduction", OOPSLA 2013). So the bound is never
//! applied inside this search: [`bounded`] runs it with no bound, and it holds only if
//! none of its runs goes over the bound; then it searched every class, and every tape
//! within the bound is in one of them. At its first run over the bound it stops, and the
//! search without reduction (`exhaustive::search`) runs every tape within the bound
//! instead. The bound cuts no reordering the reduction needs; what it costs is the runs
//! made before the first one over the bound.

use super::exhaustive::Search;
use crate::sim::footprint::{self, Access, Mode, Obj};
use crate::sim::{Action, Choice, Chooser, Decision, Fault, Pid, RunReport, Stepped};
use std::collections::BTreeMap;

/// A thread: the steps that follow one another whatever the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tid {
    /// A process's steps.
    Proc(Pid),
    /// Deliveries on the channel `from -> to` (between nodes).
    Chan(Pid, Pid),
    /// The timer queue: time jumps to the next timer.
    Timer,
}

impl Tid {
    fn of_action(a: Action) -> Tid {
        match a {
            Action::Run(p) => Tid::Proc(p),
            Action::Deliver { to, from } => Tid::Chan(from, to),
        }
    }

    fn of(choice: &Choice) -> Option<Tid> {
        match choice {
            Choice::Pick(a) => Some(Tid::of_action(*a)),
            Choice::Jump => Some(Tid::Timer),
            _ => None,
        }
    }

    fn choice(self) -> Choice {
        match self {
            Tid::Proc(p) => Choice::Pick(Action::Run(p)),
            Tid::Chan(from, to) => Choice::Pick(Action::Deliver { to, from }),
            Tid::Timer => Choice::Jump,
        }
    }
}

/// One way on from a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Alt {
    Thread(Tid),
    Fault(Fault),
    Draw(u32),
    /// Only faults were offered and none taken: the run ends.
    End,
}

impl Alt {
    fn choice(&self) -> Choice {
        match self {
            Alt::Thread(t) => t.choice(),
            Alt::Fault(f) => Choice::Fault(f.clone()),
            Alt::Draw(v) => Choice::Draw(*v),
            Alt::End => Choice::Default,
        }
    }
}

/// A decision of the run being explored, kept across runs for the ones its prefix
/// shares.
#[derive(Debug)]
struct Node {
    /// The threads offered, the default first.
    offered: Vec<Tid>,
    /// The threads enabled (offered or held back by the scheduler); filled when the
    /// step runs.
    enabled: Vec<Tid>,
    /// Taken in the current run.
    taken: Alt,
    /// To explore here (the taken one included).
    backtrack: Vec<Alt>,
    /// Explored here.
    done: Vec<Alt>,
    /// Threads asleep on arrival, with the footprint of their next step.
    sleep: Vec<(Tid, Vec<Access>)>,
    /// Threads explored here, with their step's footprint.
    explored: Vec<(Tid, Vec<Access>)>,
    /// Every thread offered here was asleep: the run from here repeats a class.
    blocked: bool,
}

impl Node {
    fn asleep(&self, t: Tid) -> bool {
        self.sleep.iter().any(|(s, _)| *s == t)
    }

    /// Adds `t` to the threads to explore here (an asleep one would never run).
    fn explore(&mut self, t: Tid) {
        if !self.asleep(t) && !self.backtrack.contains(&Alt::Thread(t)) {
            self.backtrack.push(Alt::Thread(t));
        }
    }

    /// Adds every thread offered here.
    fn explore_all_offered(&mut self) {
        for i in 0..self.offered.len() {
            self.explore(self.offered[i]);
        }
    }

    /// Adds every thread offered here, asleep or not: under one node's delivery a
    /// process that runs here ends the running process's turn, and lets one held back
    /// run. Sleep sets do not see that (the step it would take is the same later), so
    /// the ones asleep are woken.
    fn explore_all_offered_waking(&mut self) {
        self.sleep.retain(|(t, _)| !self.offered.contains(t));
        self.explore_all_offered();
    }

    /// The next alternative to explore here, if any.
    fn next(&self) -> Option<Alt> {
        self.backtrack
            .iter()
            .find(|a| {
                !self.done.contains(a)
                    && match a {
                        Alt::Thread(t) => !self.asleep(*t),
                        _ => true,
                    }
            })
            .cloned()
    }
}

/// A step of the current run.
#[derive(Debug)]
struct Event {
    node: usize,
    /// `None` for a fault.
    tid: Option<Tid>,
    fp: Vec<Access>,
    cause: Option<u32>,
    /// Not a step: the next step of a thread that this step's predecessor disabled (a
    /// process it killed, a channel to it that its death emptied). That step never ran,
    /// but it could have run first: it is in a race with what disabled it.
    pending: bool,
}

/// The chooser of one run: replays the stack's decisions, then extends it.
struct Explorer<'a> {
    stack: &'a mut Vec<Node>,
    /// Decisions seen so far in this run.
    pos: usize,
    events: Vec<Event>,
    /// Sleep set for the next node.
    sleep_next: Vec<(Tid, Vec<Access>)>,
    /// The node where the run became sleep-blocked, if it did.
    blocked_at: Option<usize>,
}

impl Explorer<'_> {
    /// The node at `pos`: the stack's, or a new one with the default (the first offered
    /// thread awake) taken.
    fn node(&mut self, offered: Vec<Tid>, faults: &[Fault], draw: u32) -> &Node {
        let pos = self.pos;
        self.pos += 1;
        if pos < self.stack.len() {
            debug_assert_eq!(
                self.stack[pos].offered, offered,
                "a replayed decision offers what it offered before (determinism)"
            );
            return &self.stack[pos];
        }
        let sleep = if draw > 0 {
            // What the drawing process does next depends on the value: nothing sleeps
            // across a draw.
            self.sleep_next.clear();
            Vec::new()
        } else {
            std::mem::take(&mut self.sleep_next)
        };
        let mut node = Node {
            offered,
            enabled: Vec::new(),
            taken: Alt::End,
            backtrack: Vec::new(),
            done: Vec::new(),
            sleep,
            explored: Vec::new(),
            blocked: false,
        };
        if draw > 0 {
            node.taken = Alt::Draw(0);
            node.backtrack = (0..draw).map(Alt::Draw).collect();
        } else {
            let awake = node.offered.iter().copied().find(|t| !node.asleep(*t));
            node.taken = match (awake, node.offered.first()) {
                (Some(t), _) => Alt::Thread(t),
                (None, Some(t)) => {
                    node.blocked = true;
                    Alt::Thread(*t)
                }
                (None, None) => Alt::End,
            };
            if !node.blocked {
                node.backtrack.push(node.taken.clone());
            }
            node.backtrack
                .extend(faults.iter().cloned().map(Alt::Fault));
            if node.blocked && self.blocked_at.is_none() {
                self.blocked_at = Some(pos);
            }
        }
        self.stack.push(node);
        &self.stack[pos]
    }
}

fn offered_threads(actions: &[Action], can_jump: bool) -> Vec<Tid> {
    let mut v: Vec<Tid> = actions.iter().map(|a| Tid::of_action(*a)).collect();
    if can_jump {
        v.push(Tid::Timer);
    }
    v
}

impl Chooser for Explorer<'_> {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        let offered = if d.draw > 0 {
            Vec::new()
        } else {
            offered_threads(d.actions, d.can_jump)
        };
        self.node(offered, d.faults, d.draw).taken.choice()
    }

    fn wants_steps(&self) -> bool {
        true
    }

    fn stepped(&mut self, s: &Stepped<'_>) {
        let at = if s.index.is_none() {
            // A forced decision: it has a node too (nothing to explore there, but races
            // are placed by node).
            let offered = offered_threads(s.actions, s.can_jump);
            self.node(offered, &[], 0);
            self.pos - 1
        } else {
            self.pos - 1
        };
        let tid = Tid::of(s.taken);
        let fp = s.footprint.to_vec();
        let node = &mut self.stack[at];
        if node.enabled.is_empty() {
            node.enabled = offered_threads(s.enabled, s.can_jump);
        }
        if let Some(t) = tid
            && !node.explored.iter().any(|(e, _)| *e == t)
        {
            node.explored.push((t, fp.clone()));
        }
        // Asleep at the next decision: what was asleep here or explored here before,
        // and is independent of this step.
        self.sleep_next.clear();
        for (q, qfp) in node.sleep.iter().chain(node.explored.iter()) {
            if Some(*q) != tid
                && !footprint::dependent(qfp, &fp)
                && !self.sleep_next.iter().any(|(s, _)| s == q)
            {
                self.sleep_next.push((*q, qfp.clone()));
            }
        }
        self.events.push(Event {
            node: at,
            tid,
            fp,
            cause: s.cause,
            pending: false,
        });
        if s.jump_disabled {
            self.events.push(Event {
                node: at,
                tid: Some(Tid::Timer),
                fp: vec![(Obj::Timers, Mode::Read)],
                cause: None,
                pending: true,
            });
        }
        for a in s.disabled {
            let t = Tid::of_action(*a);
            if Some(t) == tid {
                continue;
            }
            // All that is known of its step: it needed its process (or the receiver of
            // its signal) alive.
            let pid = match t {
                Tid::Proc(p) | Tid::Chan(_, p) => p,
                Tid::Timer => continue,
            };
            self.events.push(Event {
                node: at,
                tid: Some(t),
                fp: vec![(Obj::Life(pid), Mode::Read)],
                cause: None,
                pending: true,
            });
        }
    }
}

/// How the accesses to one object since its last write look, for finding the earlier
/// steps a step depends on.
#[derive(Default)]
struct Track {
    last_write: Option<usize>,
    since: Vec<(usize, Mode, Option<Tid>)>,
}

/// Happens-before and races of one run: adds to the stack's backtrack sets.
fn analyse(stack: &mut [Node], events: &[Event], blocked_at: Option<usize>) {
    // A run cut short by its sleep set: its races end before the decision where it was
    // blocked (what follows repeats an explored class), but the step taken there is
    // kept for the turn it runs in (below).
    let (upto, events) = match blocked_at {
        Some(b) => {
            let upto = events
                .iter()
                .position(|e| e.node >= b)
                .unwrap_or(events.len());
            let end = events
                .iter()
                .position(|e| e.node > b)
                .unwrap_or(events.len());
            (upto, &events[..end])
        }
        None => (events.len(), events),
    };
    // Dense thread numbers.
    let mut threads: Vec<Tid> = events.iter().filter_map(|e| e.tid).collect();
    threads.sort();
    threads.dedup();
    let t_of = |e: &Event| e.tid.map(|t| threads.binary_search(&t).expect("listed"));
    // A fault is a thread of its own per fault step (nothing follows it in program order).
    let n_threads = threads.len() + events.iter().filter(|e| e.tid.is_none()).count();
    let mut fault_slot = threads.len();
    let mut slot: Vec<usize> = Vec::with_capacity(events.len());
    for e in events {
        slot.push(match t_of(e) {
            Some(t) => t,
            None => {
                fault_slot += 1;
                fault_slot - 1
            }
        });
    }
    let mut seq: Vec<u32> = Vec::with_capacity(events.len());
    let mut count = vec![0u32; n_threads];
    // Event index of each step (a pending event is not a step).
    let mut of_step: Vec<usize> = Vec::with_capacity(events.len());
    for (k, (&s, e)) in slot.iter().zip(events).enumerate() {
        if e.pending {
            seq.push(count[s] + 1);
        } else {
            count[s] += 1;
            seq.push(count[s]);
            of_step.push(k);
        }
    }
    let covered = |vc: &[u32], i: usize| vc[slot[i]] >= seq[i];
    let mut vcs: Vec<Vec<u32>> = Vec::with_capacity(events.len());
    let mut last_of: Vec<Option<usize>> = vec![None; n_threads];
    let mut last_global: Option<usize> = None;
    let mut tracks: BTreeMap<Obj, Track> = BTreeMap::new();
    let mut races: Vec<(usize, usize)> = Vec::new();
    let mut cands: Vec<usize> = Vec::new();
    for (j, e) in events.iter().enumerate() {
        let mut vc = match last_of[slot[j]] {
            Some(p) => vcs[p].clone(),
            None => vec![0; n_threads],
        };
        if let Some(&c) = e.cause.and_then(|c| of_step.get(c as usize))
            && c < j
        {
            join(&mut vc, &vcs[c]);
        }
        // Earlier steps this one depends on.
        cands.clear();
        let global = e.fp.first().is_some_and(|a| a.0 == Obj::Global);
        if global {
            cands.extend(last_of.iter().flatten().copied());
        } else {
            cands.extend(last_global);
            for &(o, m) in &e.fp {
                if matches!(o, Obj::Ready(_)) {
                    continue;
                }
                if let Some(t) = tracks.get(&o) {
                    cands.extend(t.last_write);
                    cands.extend(
                        t.since
                            .iter()
                            .filter(|(_, mi, _)| footprint::conflicts(*mi, m))
                            .map(|(i, _, _)| *i),
                    );
                }
            }
        }
        cands.sort_unstable_by(|a, b| b.cmp(a));
        cands.dedup();
        for &i in cands.iter() {
            if slot[i] == slot[j] {
                continue;
            }
            if !covered(&vc, i) {
                // Nothing but this dependence orders i before j: a race. A fault is
                // in races too: it is tried at every decision of a run, but which
                // steps come before it depends on the order the run took.
                if j < upto {
                    races.push((i, j));
                }
                join(&mut vc, &vcs[i]);
            }
        }
        vc[slot[j]] = seq[j];
        if e.pending {
            // Not a step: nothing follows it.
            vcs.push(vc);
            continue;
        }
        // Record this step's accesses.
        if global {
            last_global = Some(j);
        } else {
            for &(o, m) in &e.fp {
                if matches!(o, Obj::Ready(_)) {
                    continue;
                }
                let t = tracks.entry(o).or_default();
                match m {
                    Mode::Write => {
                        t.last_write = Some(j);
                        t.since.clear();
                    }
                    Mode::Append => {
                        t.since.retain(|(_, mi, _)| *mi != Mode::Append);
                        t.since.push((j, m, e.tid));
                    }
                    Mode::Read | Mode::Take => {
                        t.since.retain(|(_, mi, ti)| !(*mi == m && *ti == e.tid));
                        t.since.push((j, m, e.tid));
                    }
                }
            }
        }
        last_of[slot[j]] = Some(j);
        vcs.push(vc);
    }
    let run = Analysed {
        events,
        slot: &slot,
        seq: &seq,
        vcs: &vcs,
    };
    // Reverse each race where it can be. Where a process that must run first is held
    // back by one node's scheduler, the turn it waits on is in a race too.
    let mut held: Vec<usize> = Vec::new();
    // Where the run was blocked, a process held back by the scheduler and not asleep
    // has orders not yet searched: they need the turn the blocked step runs in to
    // have begun otherwise.
    if let Some(b) = blocked_at
        && let Some(k) = (upto..events.len()).find(|&k| !events[k].pending)
    {
        let node = &stack[b];
        if node
            .enabled
            .iter()
            .any(|t| !node.offered.contains(t) && !node.asleep(*t))
        {
            held.push(k);
        }
    }
    for (i, j) in races {
        if run.reverse(stack, i, j) {
            held.push(i);
        }
    }
    let mut seen: Vec<usize> = Vec::new();
    while let Some(i) = held.pop() {
        if seen.contains(&i) {
            continue;
        }
        seen.push(i);
        for (k, s) in run.turn_races(i) {
            if run.reverse(stack, k, s) {
                held.push(k);
            }
        }
    }
}

/// One run, analysed: each event's thread slot, its number in its thread, its vector
/// clock.
struct Analysed<'a> {
    events: &'a [Event],
    slot: &'a [usize],
    seq: &'a [u32],
    vcs: &'a [Vec<u32>],
}

impl Analysed<'_> {
    /// Does the clock `vc` cover event `i` (is `i` before the event of that clock)?
    fn covered(&self, vc: &[u32], i: usize) -> bool {
        vc[self.slot[i]] >= self.seq[i]
    }

    /// Reverses the race of `i` before `j` where it can be: at `i`'s decision, a thread
    /// that can begin `notdep(i).j` is added to the ones to explore. True when one that
    /// must begin it is enabled there but held back by one node's scheduler.
    fn reverse(&self, stack: &mut [Node], i: usize, j: usize) -> bool {
        let events = self.events;
        let n = events[i].node;
        // v = the steps after i not ordered after it, then j; its initials.
        let mut firsts: Vec<(usize, u32)> = Vec::new();
        let mut initials: Vec<Tid> = Vec::new();
        let mut fault_first = false;
        // Processes a step of v ends: an initial of theirs that is asleep here covers v
        // only up to that step (in v's other orders the process never runs at all).
        let mut ended: Vec<Pid> = Vec::new();
        for k in (i + 1..j)
            .filter(|&k| !events[k].pending && !self.covered(&self.vcs[k], i))
            .chain([j])
        {
            ended.extend(events[k].fp.iter().filter_map(|&(o, m)| match o {
                Obj::Life(p) if m == Mode::Write && events[k].tid != Some(Tid::Proc(p)) => Some(p),
                _ => None,
            }));
            let s = self.slot[k];
            let initial = !firsts
                .iter()
                .any(|&(fs, fseq)| fs == s || self.vcs[k][fs] >= fseq);
            if !firsts.iter().any(|&(fs, _)| fs == s) {
                firsts.push((s, self.seq[k]));
            }
            if initial {
                match events[k].tid {
                    Some(t) => initials.push(t),
                    None => fault_first = true,
                }
            }
        }
        let node = &mut stack[n];
        // A fault first: every fault is tried at every decision already.
        if fault_first {
            return false;
        }
        let held = initials
            .iter()
            .any(|t| node.enabled.contains(t) && !node.offered.contains(t));
        let restricted = node.offered.len() < node.enabled.len();
        if events[j].pending && !initials.is_empty() && initials.iter().all(|t| node.asleep(*t)) {
            // The disabled step is asleep here: its own order was searched, but only
            // up to the step that then disabled it. What it would have met after other
            // steps was never seen: try everything else here.
            node.explore_all_offered();
            return held;
        }
        // Where `i` ended a process (or changed its links) that `j` then signals, `j`
        // reversed meets it alive: its signal may end it and, through its links, others,
        // among them the processes whose steps are in v. Then an asleep initial covers
        // nothing.
        let meets_alive = events[i].fp.iter().any(|&(o, m)| {
            matches!(o, Obj::Life(_))
                && m == Mode::Write
                && events[j].fp.iter().any(|&(oj, _)| oj == o)
        });
        let covers = |t: &Tid| {
            !meets_alive && !matches!(t, Tid::Proc(p) if ended.contains(p)) && node.asleep(*t)
        };
        if !restricted
            && initials
                .iter()
                .any(|t| covers(t) || node.backtrack.contains(&Alt::Thread(*t)))
        {
            return held;
        }
        // Asleep ones would never run (`Node::explore`): one of the others.
        let offered: Vec<Tid> = initials
            .iter()
            .copied()
            .filter(|t| node.offered.contains(t) && !node.asleep(*t))
            .collect();
        if !offered.is_empty() {
            // Any one initial would do where every enabled process is offered (the
            // theorem of source sets). Where one node's scheduler holds some back, which
            // orders can follow depends on the turn a step begins: every initial.
            let take = if restricted { offered.len() } else { 1 };
            for t in offered.into_iter().take(take) {
                node.explore(t);
            }
        }
        if held {
            // Enabled but not offered here (one node's scheduler holds a process woken
            // a moment ago back): any other process that runs here ends the turn and
            // lets it in.
            node.explore_all_offered_waking();
        }
        // Otherwise not enabled here: the earlier step enabled it (set the only timer),
        // and nothing can come before that step in its place.
        held
    }

    /// Where a process is held back at event `i`'s decision, the turn `i` runs in
    /// decides it: it is held back because it was not runnable when the turn began. The
    /// races that can change that: the last step before the turn of every other process
    /// (had it come later, inside the turn, it would have ended the turn there: a process
    /// waiting then could have preempted it, and any step, even one that commutes with
    /// everything, lets a held-back process in after it), and a timer after the turn
    /// began that woke a process (had it come earlier, the process could have preempted
    /// the turn).
    fn turn_races(&self, i: usize) -> Vec<(usize, usize)> {
        let events = self.events;
        let Some(Tid::Proc(p)) = events[i].tid else {
            return Vec::new();
        };
        let me = Some(Tid::Proc(p));
        let Some(s) = (0..=i).rev().find(|&k| {
            events[k].tid == me
                && !events[k].pending
                && events[k].fp.contains(&(Obj::Ready(p), Mode::Read))
        }) else {
            return Vec::new();
        };
        let readies = |k: usize| {
            events[k]
                .fp
                .iter()
                .any(|&(o, m)| matches!(o, Obj::Ready(q) if q != p) && m == Mode::Write)
        };
        let mut out = Vec::new();
        let mut last: Vec<(Tid, usize)> = Vec::new();
        for (k, e) in events[..s].iter().enumerate() {
            if let Some(t @ Tid::Proc(_)) = e.tid
                && !e.pending
                && t != Tid::Proc(p)
            {
                match last.iter_mut().find(|(u, _)| *u == t) {
                    Some(l) => l.1 = k,
                    None => last.push((t, k)),
                }
            }
        }
        out.extend(
            last.into_iter()
                .map(|(_, k)| k)
                .filter(|&k| !self.covered(&self.vcs[s], k))
                .map(|k| (k, s)),
        );
        out.extend(
            (s + 1..=i)
                .filter(|&k| {
                    events[k].tid == Some(Tid::Timer)
                        && readies(k)
                        && !self.covered(&self.vcs[k], s)
                })
                .map(|k| (s, k)),
        );
        out
    }
}

fn join(a: &mut [u32], b: &[u32]) {
    for (x, y) in a.iter_mut().zip(b) {
        if *y > *x {
            *x = *y;
        }
    }
}

/// What a reduced search did, beyond [`Search`].
#[derive(Clone, Debug, Default)]
pub struct Reduced {
    /// The search: runs, the first failure, whether it completed.
    pub search: Search,
    /// Runs cut short by their sleep set (every thread offered had been explored in an
    /// equivalent order): counted in `search.runs`.
    pub blocked: u64,
}

impl Reduced {
    /// What a reduced search that found nothing shows, in words with its numbers, beside
    /// `plain`, the same search without reduction (capped: it shows a lower bound). "Proven"
    /// only for a complete search.
    pub fn claim(&self, plain: &Search) -> String {
        let s = &self.search;
        if !s.complete {
            // Neither count is a class count: no ratio.
            return format!(
                "{} runs pass (reduced search incomplete; the search without reduction {} {} \
                 runs)",
                s.runs,
                if plain.complete {
                    "completes in"
                } else {
                    "ran past"
                },
                plain.runs
            );
        }
        let without = if plain.complete {
            format!(
                "{} without reduction: {:.0}x fewer",
                plain.runs,
                plain.runs as f64 / s.runs.max(1) as f64
            )
        } else {
            format!(
                "more than {} without reduction: over {:.0}x fewer",
                plain.runs,
                plain.runs as f64 / s.runs.max(1) as f64
            )
        };
        format!(
            "every class of schedules searched passes ({} runs with partial-order reduction, \
             one per class, {} cut short by a sleep set; {without}); evidence, not a proof: \
             its rules for one node's scheduler and for kills are argued, not proven \
             (explore::dpor)",
            s.runs, self.blocked
        )
    }
}

/// Searches every class of runs (no bound on deviations), at most `max_runs` runs.
/// `run` executes one world with the chooser it is given; `fails` says whether a run
/// counts as found.
pub fn search(
    run: impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    max_runs: u64,
) -> Reduced {
    search_within(run, fails, max_runs, None).0
}

/// What a bounded search did: with the reduction, or without it where the reduction
/// needed a run over the bound.
#[derive(Clone, Debug, Default)]
pub struct Bounded {
    /// Runs over both searches, the first failure, and whether the one that ended it
    /// completed.
    pub search: Search,
    /// The runs the reduced search made; all of `search.runs` when it held.
    pub reduced_runs: u64,
    /// The reduced search searched every class with no run over the bound.
    pub reduced: bool,
}

impl Bounded {
    /// What a bounded search that found nothing shows, in words with its numbers.
    pub fn claim(&self, bound: u32) -> String {
        let s = &self.search;
        match (self.reduced, s.complete) {
            (true, true) => format!(
                "every class of schedules passes, so every schedule within {bound}                  deviation(s) does ({} runs with partial-order reduction, none over the                  bound); evidence, not a proof (explore::dpor)",
                s.runs
            ),
            (true, false) => format!(
                "{} runs with partial-order reduction pass (search incomplete)",
                s.runs
            ),
            (false, complete) => {
                let plain = Search {
                    runs: s.runs - self.reduced_runs,
                    found: None,
                    complete,
                };
                let why = if self.reduced_runs > 0 {
                    format!(
                        "; the reduced search needed a run over the bound after {} runs",
                        self.reduced_runs
                    )
                } else {
                    String::new()
                };
                format!("{}{why}", plain.claim(bound))
            }
        }
    }
}

/// Searches every tape within `bound`. The reduced search runs first, and holds only
/// where none of its runs goes over the bound: then it searched every class, and every
/// tape within the bound is in one. At its first run over the bound it stops (a class
/// may then be within the bound only through a tape it would not run: Coons et al.),
/// and the search without reduction runs every tape within the bound instead. The
/// bound never cuts a reordering the reduction needs.
pub fn bounded(
    mut run: impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    bound: super::exhaustive::Bound,
) -> Bounded {
    let (reduced, over) = search_within(&mut run, &fails, bound.max_runs, Some(bound.deviations));
    if !over {
        return Bounded {
            reduced_runs: reduced.search.runs,
            reduced: reduced.search.complete || reduced.search.found.is_some(),
            search: reduced.search,
        };
    }
    let mut plain = super::exhaustive::search(
        run,
        fails,
        super::exhaustive::Bound {
            deviations: bound.deviations,
            max_runs: bound.max_runs.saturating_sub(reduced.search.runs),
        },
    );
    plain.runs += reduced.search.runs;
    Bounded {
        search: plain,
        reduced_runs: reduced.search.runs,
        reduced: false,
    }
}

/// The reduced search; with `bound`, it stops at the first run whose deviations and
/// faults go over it (true beside the search).
fn search_within(
    mut run: impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    max_runs: u64,
    bound: Option<u32>,
) -> (Reduced, bool) {
    let mut out = Reduced::default();
    let mut stack: Vec<Node> = Vec::new();
    loop {
        if out.search.runs >= max_runs {
            return (out, false);
        }
        let mut ex = Explorer {
            stack: &mut stack,
            pos: 0,
            events: Vec::new(),
            sleep_next: Vec::new(),
            blocked_at: None,
        };
        let report = run(&mut ex);
        out.search.runs += 1;
        let Explorer {
            events, blocked_at, ..
        } = ex;
        if bound.is_some_and(|b| report.deviations.saturating_add(report.faults) > b) {
            return (out, true);
        }
        if fails(&report) {
            out.search.found = Some((report.tape.clone(), report));
            return (out, false);
        }
        if blocked_at.is_some() {
            out.blocked += 1;
        }
        analyse(&mut stack, &events, blocked_at);
        if let Some(b) = blocked_at {
            stack.truncate(b + 1);
        }
        // The deepest decision with something left to explore.
        loop {
            let Some(node) = stack.last_mut() else {
                out.search.complete = true;
                return (out, false);
            };
            if !node.blocked && !node.done.contains(&node.taken) {
                node.done.push(node.taken.clone());
            }
            match node.next() {
                Some(alt) => {
                    node.taken = alt;
                    node.blocked = false;
                    break;
                }
                None => {
                    stack.pop();
                }
            }
        }
    }
}
