//! Strategies: producers of choices behind the kernel's one [`Chooser`] interface.
//!
//! - [`Strategy::Random`]: random picks (uniform for half the seeds, weighted by a speed
//!   per process for the other half: [`RandomChooser`]), faults and jumps at fixed rates.
//! - [`Strategy::Pct`]: PCT for actors — a random priority per process (the receiver of a
//!   delivery owns it, and its deliveries go before its run), the highest-priority enabled
//!   action runs, and at `depth - 1`
//!   change points drawn over the estimated run length the running process drops below
//!   all others. Faults land at positions drawn the same way.
//! - [`Strategy::Pos`]: partial order sampling — every newly enabled action gets a fresh
//!   random priority; the highest runs.
//! - [`Strategy::Swarm`]: random, but each seed also decides which fault kinds are on and
//!   at what rate.
//! - [`Strategy::Portfolio`]: the seed picks one of the above.
//!
//! Every chooser is a pure function of its seed (ChaCha8), so a strategy plus a seed is a
//! tape.

use crate::sim::{
    Action, Choice, Chooser, Decision, DefaultChooser, Fault, Pid, RandomChooser, RunReport,
};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// PCT's depth at most (bugs of depth above a few are out of PCT's reach anyway).
pub const PCT_DEPTH_MAX: u32 = 100;

/// A way to produce tapes from seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Strategy {
    /// Random picks: uniform, or weighted by per-process speeds ([`RandomChooser`]).
    Random,
    /// PCT with this depth (bug depth: `depth - 1` priority changes).
    Pct {
        /// The depth `d`.
        depth: u32,
    },
    /// Partial order sampling.
    Pos,
    /// Swarm testing over fault kinds and rates.
    Swarm,
    /// A mix: the seed chooses random, PCT (depth 2 or 3), POS or swarm.
    Portfolio,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Random => write!(f, "random"),
            Strategy::Pct { depth } => write!(f, "pct:{depth}"),
            Strategy::Pos => write!(f, "pos"),
            Strategy::Swarm => write!(f, "swarm"),
            Strategy::Portfolio => write!(f, "portfolio"),
        }
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(Strategy::Random),
            "pct" => Ok(Strategy::Pct { depth: 3 }),
            "pos" => Ok(Strategy::Pos),
            "swarm" => Ok(Strategy::Swarm),
            "portfolio" => Ok(Strategy::Portfolio),
            _ => match s.strip_prefix("pct:").map(str::parse::<u32>) {
                Some(Ok(depth)) if (1..=PCT_DEPTH_MAX).contains(&depth) => {
                    Ok(Strategy::Pct { depth })
                }
                _ => Err(format!(
                    "unknown strategy `{s}` (known: random, pct, pct:D with 1 <= D <= \
                     {PCT_DEPTH_MAX}, pos, swarm, portfolio)"
                )),
            },
        }
    }
}

/// What a strategy needs to know about the runs it drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Fault rate of the random strategy (ppm of decisions that offer one).
    pub fault_ppm: u32,
    /// Time-jump rate (ppm).
    pub jump_ppm: u32,
    /// Faults a run may inject.
    pub fault_budget: u32,
    /// Decisions in a typical run (PCT's `k`), e.g. from one default run.
    pub decisions: u32,
    /// Fault points in a typical run: decisions that come right after a step of a process
    /// the fault menu can hit, where a fault meets its victim in a state it was not in a
    /// decision earlier ([`Shape::measure`]). `0` when not measured: planned faults then
    /// land at uniformly drawn decisions.
    pub fault_points: u32,
}

impl Shape {
    /// Runs of about `decisions` decisions with up to `fault_budget` faults, at the
    /// default rates of every entry point ([`crate::sim::choice::DEFAULT_FAULT_PPM`],
    /// [`crate::sim::choice::DEFAULT_JUMP_PPM`]).
    pub fn new(decisions: u32, fault_budget: u32) -> Self {
        Shape {
            fault_ppm: crate::sim::choice::DEFAULT_FAULT_PPM,
            jump_ppm: crate::sim::choice::DEFAULT_JUMP_PPM,
            fault_budget,
            decisions,
            fault_points: 0,
        }
    }

    /// The shape of the runs `run` makes, measured on one run of it with the default
    /// chooser (its decisions and fault points), with up to `fault_budget` faults at the
    /// default rates.
    pub fn measure(fault_budget: u32, run: impl FnOnce(&mut dyn Chooser) -> RunReport) -> Self {
        let (decisions, fault_points) = Shape::measured(run);
        Shape {
            fault_points,
            ..Shape::new(decisions, fault_budget)
        }
    }

    /// The decisions and fault points of one run of `run` with the default chooser.
    pub(crate) fn measured(run: impl FnOnce(&mut dyn Chooser) -> RunReport) -> (u32, u32) {
        struct Count {
            last: LastRun,
            points: u32,
        }
        impl Chooser for Count {
            fn choose(&mut self, d: &Decision<'_>) -> Choice {
                if d.faults.iter().any(|f| self.last.meets(d, f)) {
                    self.points += 1;
                }
                let c = DefaultChooser.choose(d);
                self.last.note(d, &c);
                c
            }
        }
        let mut count = Count {
            last: LastRun::default(),
            points: 0,
        };
        let report = run(&mut count);
        (report.tape.len() as u32, count.points)
    }
}

/// The process the last decision ran, with that decision's step.
#[derive(Clone, Copy, Debug, Default)]
struct LastRun(Option<(u32, Pid)>);

impl LastRun {
    /// The decision at `d` took `c`.
    fn note(&mut self, d: &Decision<'_>, c: &Choice) {
        let ran = match c {
            Choice::Pick(a) => Some(*a),
            Choice::Default => d.actions.first().copied(),
            _ => None,
        };
        self.0 = match ran {
            Some(Action::Run(p)) => Some((d.step, p)),
            _ => None,
        };
    }

    /// Did the step just before `d` run `pid`?
    fn ran(&self, d: &Decision<'_>, pid: Pid) -> bool {
        self.0
            .is_some_and(|(step, p)| p == pid && step + 1 == d.step)
    }

    /// Is `d` a fault point for `f`: does `f` meet its victim right after a step of it?
    /// (A fault without a victim, failing the next `init`, may land anywhere.)
    fn meets(&self, d: &Decision<'_>, f: &Fault) -> bool {
        match f {
            Fault::Kill { pid, .. } | Fault::CrashAfterEffect { pid } => self.ran(d, *pid),
            Fault::FailNextInit => true,
        }
    }
}

impl Strategy {
    /// The chooser for `seed`.
    pub fn chooser(self, seed: u64, shape: Shape) -> Box<dyn Chooser> {
        match self {
            Strategy::Random => {
                Box::new(RandomChooser::new(seed).with_rates(shape.fault_ppm, shape.jump_ppm))
            }
            Strategy::Pct { depth } => Box::new(Pct::new(seed, depth, shape)),
            Strategy::Pos => Box::new(Pos::new(seed, shape)),
            Strategy::Swarm => Box::new(Swarm::new(seed, shape)),
            Strategy::Portfolio => {
                let pick = [
                    Strategy::Random,
                    Strategy::Pct { depth: 2 },
                    Strategy::Pct { depth: 3 },
                    Strategy::Pos,
                    Strategy::Swarm,
                ][(mix(seed) % 5) as usize];
                pick.chooser(seed, shape)
            }
        }
    }
}

/// A seed's own stream, decorrelated from the seed's other uses.
fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

fn mix(seed: u64) -> u64 {
    rng(seed, 0xF0).next_u64()
}

fn below(r: &mut ChaCha8Rng, n: usize) -> usize {
    ((r.next_u32() as u64 * n as u64) >> 32) as usize
}

fn chance(r: &mut ChaCha8Rng, ppm: u32) -> bool {
    ppm > 0 && r.next_u32() % 1_000_000 < ppm
}

/// Where a run's faults land: at fault points drawn uniformly over a typical run's (when
/// the shape has them), else at decisions drawn uniformly over its decisions (a fault due
/// at a decision that offers none waits for the next that does); plus faults by chance at
/// the fault rate.
///
/// A kill at two decisions between which its victim took no step meets the victim in one
/// state; only the fault points (right after a step of the victim) differ. Drawing among
/// them puts a planned fault after each of the victim's steps alike, however many steps
/// of other processes a run interleaves: a crash between two steps of a process is found
/// as often with 40 unrelated steps around as with none.
#[derive(Debug, Clone)]
struct FaultPlan {
    /// Positions of the planned faults, the earliest last: fault points, or decisions.
    due: Vec<u32>,
    /// `due` counts fault points (else decisions).
    by_points: bool,
    /// Fault points met so far.
    points: u32,
    ppm: u32,
}

impl FaultPlan {
    fn new(r: &mut ChaCha8Rng, shape: Shape) -> Self {
        let by_points = shape.fault_points > 0;
        let k = if by_points {
            shape.fault_points
        } else {
            shape.decisions.max(1)
        } as usize;
        // Between one fault and the whole budget (no more than there are places, fault
        // points or decisions, to land on: a run cannot inject more).
        let n = match shape.fault_budget.min(k as u32) {
            0 => 0,
            b => 1 + below(r, b as usize),
        };
        let mut due: Vec<u32> = (0..n).map(|_| below(r, k) as u32).collect();
        due.sort_unstable_by(|a, b| b.cmp(a)); // pop the earliest
        FaultPlan {
            due,
            by_points,
            points: 0,
            ppm: shape.fault_ppm,
        }
    }

    /// A fault now: when one is due by the plan, or by chance at the random strategy's
    /// rate (so a narrow window early in a long run is not left to one uniform draw).
    fn take(&mut self, r: &mut ChaCha8Rng, d: &Decision<'_>, last: LastRun) -> Option<Choice> {
        if d.faults.is_empty() {
            return None;
        }
        if self.by_points {
            let ready = || d.faults.iter().filter(|f| last.meets(d, f));
            let n = ready().count();
            if n > 0 {
                let due = self.due.last().is_some_and(|at| *at <= self.points);
                self.points += 1;
                if due {
                    self.due.pop();
                    let f = ready()
                        .nth(below(r, n))
                        .expect("n of them meet their victim");
                    return Some(Choice::Fault(f.clone()));
                }
            }
            return chance(r, self.ppm)
                .then(|| Choice::Fault(d.faults[below(r, d.faults.len())].clone()));
        }
        let due = self.due.last().is_some_and(|at| *at as usize <= d.index);
        if due {
            self.due.pop();
        }
        (due || chance(r, self.ppm))
            .then(|| Choice::Fault(d.faults[below(r, d.faults.len())].clone()))
    }
}

/// What PCT and POS do before choosing among the actions: draw a value, inject a fault
/// that is due, let time move when nothing else can, or jump by chance.
fn before_picking(
    r: &mut ChaCha8Rng,
    faults: &mut FaultPlan,
    last: LastRun,
    jump_ppm: u32,
    d: &Decision<'_>,
) -> Option<Choice> {
    if d.draw > 0 {
        return Some(Choice::Draw(below(r, d.draw as usize) as u32));
    }
    if let Some(f) = faults.take(r, d, last) {
        return Some(f);
    }
    if d.actions.is_empty() {
        return Some(Choice::Default);
    }
    (d.can_jump && chance(r, jump_ppm)).then_some(Choice::Jump)
}

/// PCT for actors.
#[derive(Debug, Clone)]
pub struct Pct {
    r: ChaCha8Rng,
    /// Priority by pid (higher runs first); change points lower it below every initial one.
    priority: BTreeMap<u32, u64>,
    /// Decision indices where the running process's priority drops, latest first.
    changes: Vec<u32>,
    lowered: u64,
    faults: FaultPlan,
    /// The process the last decision ran (for fault points and change points).
    last: LastRun,
    jump_ppm: u32,
}

impl Pct {
    /// PCT of depth `depth` for runs of about `shape.decisions` decisions.
    pub fn new(seed: u64, depth: u32, shape: Shape) -> Self {
        let mut r = rng(seed, 0x9C7);
        let k = shape.decisions.max(1) as usize;
        // More change points than decisions change nothing more.
        let depth = depth.min(shape.decisions.saturating_add(1)).max(1);
        // Distinct points after the first decision (two at one point are one change).
        let mut changes: Vec<u32> = Vec::new();
        while changes.len() < (depth as usize - 1).min(k.saturating_sub(1)) {
            let c = 1 + below(&mut r, k - 1) as u32;
            if !changes.contains(&c) {
                changes.push(c);
            }
        }
        changes.sort_unstable_by(|a, b| b.cmp(a));
        let faults = FaultPlan::new(&mut r, shape);
        Pct {
            r,
            priority: BTreeMap::new(),
            changes,
            lowered: depth as u64,
            faults,
            last: LastRun::default(),
            jump_ppm: shape.jump_ppm,
        }
    }

    fn priority(&mut self, pid: u32) -> u64 {
        let r = &mut self.r;
        // Initial priorities sit above every change-point priority (< depth).
        *self
            .priority
            .entry(pid)
            .or_insert_with(|| (1 << 32) | r.next_u32() as u64)
    }
}

impl Chooser for Pct {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        let c = self.pick(d);
        self.last.note(d, &c);
        c
    }
}

impl Pct {
    fn pick(&mut self, d: &Decision<'_>) -> Choice {
        if let Some(c) = before_picking(&mut self.r, &mut self.faults, self.last, self.jump_ppm, d)
        {
            return c;
        }
        // A process's deliveries share its priority and go before its own run: a signal
        // can then land between two of its steps (a kill sent by another process, say),
        // which a run-first order would never show.
        let rank = |s: &mut Self, a: &Action| (s.priority(a.pid().0), a.is_delivery());
        let mut best = d.actions[0];
        let mut best_p = rank(self, &best);
        for a in &d.actions[1..] {
            let p = rank(self, a);
            if p > best_p {
                best = *a;
                best_p = p;
            }
        }
        // A change point is a preemption: it waits for a decision where the process
        // picked goes on with its turn (it ran the step before and may run on), so that
        // the others run between two steps of one turn, where atomicity is broken. A
        // process lowered as its turn begins or ends is preempted between two turns,
        // an order the initial priorities already draw.
        let mid = self.last.ran(d, best.pid()) && d.actions[0] == best;
        while mid && self.changes.last().is_some_and(|c| *c as usize <= d.index) {
            self.changes.pop();
            self.lowered -= 1;
            self.priority.insert(best.pid().0, self.lowered);
        }
        Choice::Pick(best)
    }
}

/// Partial order sampling.
#[derive(Debug, Clone)]
pub struct Pos {
    r: ChaCha8Rng,
    priority: BTreeMap<Action, u64>,
    faults: FaultPlan,
    /// The process the last decision ran (for fault points).
    last: LastRun,
    jump_ppm: u32,
}

impl Pos {
    /// POS for `seed`.
    pub fn new(seed: u64, shape: Shape) -> Self {
        let mut r = rng(seed, 0x905);
        let faults = FaultPlan::new(&mut r, shape);
        Pos {
            r,
            priority: BTreeMap::new(),
            faults,
            last: LastRun::default(),
            jump_ppm: shape.jump_ppm,
        }
    }
}

impl Chooser for Pos {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        let c = self.pick(d);
        self.last.note(d, &c);
        c
    }
}

impl Pos {
    fn pick(&mut self, d: &Decision<'_>) -> Choice {
        if let Some(c) = before_picking(&mut self.r, &mut self.faults, self.last, self.jump_ppm, d)
        {
            return c;
        }
        // Actions no longer enabled lose their priority: enabled again, they are new.
        self.priority.retain(|a, _| d.actions.contains(a));
        let mut best = d.actions[0];
        let mut best_p = 0;
        for a in d.actions {
            let r = &mut self.r;
            let p = *self.priority.entry(*a).or_insert_with(|| r.next_u64() | 1);
            if p > best_p {
                best = *a;
                best_p = p;
            }
        }
        self.priority.remove(&best);
        Choice::Pick(best)
    }
}

/// Swarm testing: per seed, a subset of fault kinds and a rate.
#[derive(Debug, Clone)]
pub struct Swarm {
    inner: RandomChooser,
    kill: bool,
    crash: bool,
    fail_init: bool,
}

impl Swarm {
    /// The swarm configuration of `seed`.
    pub fn new(seed: u64, shape: Shape) -> Self {
        let mut r = rng(seed, 0x5A);
        let rates = [5_000, 20_000, 50_000, 100_000];
        let fault_ppm = rates[below(&mut r, rates.len())];
        let (mut kill, mut crash, mut fail_init) = (false, false, false);
        while !(kill || crash || fail_init) {
            kill = r.next_u32().is_multiple_of(2);
            crash = r.next_u32().is_multiple_of(2);
            fail_init = r.next_u32().is_multiple_of(2);
        }
        Swarm {
            inner: RandomChooser::new(seed).with_rates(fault_ppm, shape.jump_ppm),
            kill,
            crash,
            fail_init,
        }
    }

    fn on(&self, f: &Fault) -> bool {
        match f {
            Fault::Kill { .. } => self.kill,
            Fault::CrashAfterEffect { .. } => self.crash,
            Fault::FailNextInit => self.fail_init,
        }
    }
}

impl Chooser for Swarm {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        if d.faults.is_empty() || d.faults.iter().all(|f| self.on(f)) {
            return self.inner.choose(d);
        }
        let faults: Vec<Fault> = d.faults.iter().filter(|f| self.on(f)).cloned().collect();
        self.inner.choose(&Decision {
            faults: &faults,
            ..*d
        })
    }
}
