//! The shrinker: from a failing tape to the best tape it can find that fails the same way
//! (the same invariant and the same violation signature, [`SameFailure`]), then a search
//! that certifies it minimal or finds a better one.
//!
//! "Best" is ranked ([`Rank`]): fewest faults (every crash in a repro is necessary), then
//! fewest deviations from the default schedule (each preemption, reordering, time jump and
//! drawn value other than the first), then fewest steps, then least virtual time, then
//! the tape itself (shorter, then smaller bytes: `default` is the smallest choice). Passes
//! run until a round changes nothing:
//! 1. the failure replays, twice, to the same trace;
//! 2. causal slice: drop the choices of steps the violation does not depend on;
//! 3. remove faults, one at a time;
//! 4. delete chunks of 8, 4, 2, 1 choices, scanning backwards;
//! 5. set blocks to `default`, then lower drawn values;
//! 6. repeat the previous pick, swap adjacent picks;
//! 7. when stuck, move deviations (faults, picks, time jumps) one decision earlier, or
//!    faults later — alone, or trading a deviation before the fault for a default
//!    (dropping a preemption shifts the schedule, so the fault must land later to hit
//!    the same window) — and, for one fault, try the default schedule with the fault at
//!    each position;
//! 8. when still stuck, keep one to three of the best's picks (every other one default);
//! 9. then a focused search: every tape with fewer deviations whose picks all run the
//!    processes the best's picks run (any fault; time jumps if the best has one), level by
//!    level, and at the best's own level every such tape with fewer steps; at most 3,000
//!    runs. A repro with fewer deviations often deviates at other places than the best
//!    (dropping one of the best's picks moves where the others land), and the search
//!    finds it among a few processes' picks instead of every process's, as certification
//!    would (shared_state: 7 deviations -> 2 after 1,920 runs, where certification needed
//!    28,000).
//!
//! Then **certification**: every tape with fewer deviations and faults in all than the
//! best runs (`exhaustive::search` by iterative deepening, no reduction), within a budget
//! of runs. A failure found the same way with no more faults and fewer deviations is
//! better: it is taken, shrunk by the passes again, and the levels below it were already
//! searched. So the result is either certified minimal (with the number of schedules that
//! shows it) or says where the budget ran out.
//!
//! Candidates are cached and the replays are budgeted. Everything is a function of the
//! input: the same failure always shrinks to the same tape.

pub use crate::check::SameFailure;
use crate::sim::{Choice, Chooser, Outcome, Pid, RunReport, Tape};
use std::collections::HashSet;

/// How a candidate is run: replay `tape`, stopping after `steps_max` steps.
pub trait Replay {
    /// One replay. It may skip the trace hash (`trace_hash` 0): the shrinker judges a
    /// candidate by its outcome and length, never by its hash.
    fn replay(&mut self, tape: &Tape, steps_max: u32) -> RunReport;
    /// One whole replay with its trace hash: the shrinker replays the failing tape twice
    /// to see it is deterministic, and the shrunk one for the hash it reports. By
    /// default, [`Replay::replay`].
    fn replay_hashed(&mut self, tape: &Tape) -> RunReport {
        self.replay(tape, u32::MAX)
    }
    /// The same with the full trace (for the causal slice).
    fn replay_traced(&mut self, tape: &Tape) -> RunReport;
    /// One run with `chooser` making every decision (for certification); it may skip the
    /// trace hash.
    fn run_with(&mut self, chooser: &mut dyn Chooser) -> RunReport;
}

/// Any scenario replays: the shrinker takes every system.
impl Replay for &crate::scenario::Scenario {
    fn replay(&mut self, tape: &Tape, steps_max: u32) -> RunReport {
        self.run_tape_unhashed(tape, steps_max)
    }
    fn replay_hashed(&mut self, tape: &Tape) -> RunReport {
        self.run_tape(tape, false)
    }
    fn replay_traced(&mut self, tape: &Tape) -> RunReport {
        self.run_tape(tape, true)
    }
    fn run_with(&mut self, chooser: &mut dyn Chooser) -> RunReport {
        self.run_unhashed(chooser)
    }
}

/// Limits, and what counts as the same failure.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Replays at most, for the passes.
    pub budget: u32,
    /// Runs at most, for certification (0: do not certify).
    pub certify_runs: u64,
    /// When a candidate fails the same way.
    pub same: SameFailure,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            budget: 20_000,
            certify_runs: 50_000,
            same: SameFailure::Signature,
        }
    }
}

/// The rank of a failing run: lower is better. Faults, then deviations, then steps,
/// then virtual time, then the tape (its length, then its bytes); the order of the
/// fields is the order of comparison.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// Faults injected.
    pub faults: u32,
    /// Deviations from the default schedule: picks other than the first offered, time
    /// jumps, drawn values other than 0 (`RunReport::deviations`).
    pub deviations: u32,
    /// Steps.
    pub steps: u32,
    /// Virtual time at the end.
    pub time_ms: u64,
    /// Tape length.
    pub len: usize,
    /// The tape's bytes.
    pub bytes: Vec<u8>,
}

impl Rank {
    /// The rank of `report`, the run of `tape`.
    pub fn of(report: &RunReport, tape: &Tape) -> Rank {
        Rank {
            faults: report.faults,
            deviations: report.deviations,
            steps: report.steps,
            time_ms: report.time_ms,
            len: tape.len(),
            bytes: tape.to_bytes(),
        }
    }
}

/// What shrinking found.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The best tape (`default` where the default was taken).
    pub tape: Tape,
    /// Its run.
    pub report: RunReport,
    /// The run it started from.
    pub original_steps: u32,
    /// Replays spent.
    pub replays: u32,
    /// Rounds of passes.
    pub rounds: u32,
    /// What certification showed.
    pub certificate: Certificate,
}

/// What the search after the passes showed about the shrunk schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// The default schedule, with no fault, fails: a deterministic bug, nothing to
    /// search.
    Deterministic,
    /// Every tape with at most `within` deviations and faults in all ran (`runs` of
    /// them): none fails the same way with no more faults and fewer deviations.
    Minimal {
        /// The level searched completely: the shrunk schedule's faults plus deviations,
        /// less one.
        within: u32,
        /// Runs.
        runs: u64,
    },
    /// The budget ran out: every tape within `within` deviations and faults ran, if
    /// any level was searched completely.
    NotCertified {
        /// The highest level searched completely.
        within: Option<u32>,
        /// Runs.
        runs: u64,
    },
    /// Not asked for (`Options::certify_runs` is 0).
    Skipped,
}

impl Certificate {
    /// In words, with its numbers.
    pub fn describe(&self) -> String {
        match self {
            Certificate::Deterministic => {
                "minimal: the default schedule fails with no fault (a deterministic bug)".into()
            }
            Certificate::Minimal { within, runs } => format!(
                "minimal: every schedule with at most {within} deviation(s) and fault(s) in \
                 all ran ({runs} runs searched), and none with no more faults fails the same \
                 way"
            ),
            Certificate::NotCertified { within, runs } => match within {
                Some(w) => format!(
                    "not certified: budget reached after {runs} runs (every schedule with at \
                     most {w} deviation(s) and fault(s) in all ran, and none with no more \
                     faults fails the same way)"
                ),
                None => format!("not certified: budget reached after {runs} runs"),
            },
            Certificate::Skipped => "not certified (not searched)".into(),
        }
    }

    /// Is the shrunk schedule shown minimal?
    pub fn is_minimal(&self) -> bool {
        matches!(
            self,
            Certificate::Deterministic | Certificate::Minimal { .. }
        )
    }
}

/// Why shrinking could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShrinkError {
    /// The tape does not fail with a violation.
    #[error("the tape does not end in a violation: {0}")]
    NotAViolation(String),
    /// Replaying twice gave different traces.
    #[error("the failure does not replay deterministically (trace {0:016x} then {1:016x})")]
    Nondeterministic(u64, u64),
}

struct State<R> {
    run: R,
    /// The failure to keep.
    target: crate::check::Violation,
    same: SameFailure,
    best: Tape,
    best_report: RunReport,
    best_rank: Rank,
    tried: HashSet<Vec<u8>>,
    replays: u32,
    budget: u32,
}

impl<R: Replay> State<R> {
    /// Runs `cand`; keeps it if it fails the same way and ranks better.
    fn try_tape(&mut self, mut cand: Tape) -> bool {
        strip_defaults(&mut cand);
        if self.replays >= self.budget || !self.tried.insert(cand.to_bytes()) {
            return false;
        }
        let faults = cand
            .choices
            .iter()
            .filter(|c| matches!(c, Choice::Fault(_)))
            .count() as u32;
        if faults > self.best_rank.faults {
            return false; // more faults never rank better
        }
        self.replays += 1;
        // A longer run may still win with fewer deviations, and which picks deviate is
        // known only by running: no cut-off.
        let r = self.run.replay(&cand, u32::MAX);
        if !fails_as(&r, &self.target, self.same) {
            return false;
        }
        let cand = ran(cand, &r);
        let better = Rank::of(&r, &cand) < self.best_rank;
        if better {
            self.adopt(cand, r);
        }
        better
    }

    /// Makes `tape`, whose run is `report`, the best.
    fn adopt(&mut self, tape: Tape, report: RunReport) {
        self.best = ran(tape, &report);
        self.best_rank = Rank::of(&report, &self.best);
        self.best_report = report;
    }

    fn edit(&mut self, f: impl FnOnce(&mut Vec<Choice>)) -> bool {
        let mut c = self.best.clone();
        f(&mut c.choices);
        self.try_tape(c)
    }

    /// Drops every choice whose step the violation does not causally depend on.
    fn causal_slice(&mut self) -> bool {
        let traced = self.run.replay_traced(&self.best);
        let Some(events) = &traced.trace else {
            return false;
        };
        let needed = super::causal_past(events);
        let steps = &traced.choice_steps;
        let keep = |i: usize, c: &Choice| {
            matches!(c, Choice::Fault(_) | Choice::Draw(_))
                || steps
                    .get(i)
                    .is_none_or(|s| needed.get(*s as usize).copied().unwrap_or(true))
        };
        let sliced: Vec<Choice> = self
            .best
            .choices
            .iter()
            .enumerate()
            .filter(|(i, c)| keep(*i, c))
            .map(|(_, c)| c.clone())
            .collect();
        sliced.len() < self.best.len() && self.try_tape(Tape { choices: sliced })
    }

    fn remove_faults(&mut self) -> bool {
        let mut changed = false;
        let mut i = self.best.len();
        while i > 0 {
            i -= 1;
            if i < self.best.len()
                && matches!(self.best.choices[i], Choice::Fault(_))
                && self.edit(|c| drop(c.remove(i)))
            {
                changed = true;
            }
        }
        changed
    }

    /// Deletes (or, with `fill`, sets to default) chunks of 8, 4, 2, 1 from the back,
    /// growing a chunk that worked.
    fn chunks(&mut self, fill: bool) -> bool {
        let mut changed = false;
        for size in [8usize, 4, 2, 1] {
            let mut end = self.best.len();
            while end > 0 {
                let mut n = size.min(end);
                let mut ok = false;
                loop {
                    let s = end.saturating_sub(n);
                    let worked = self.edit(|c| {
                        let e = end.min(c.len());
                        let s = s.min(e);
                        if fill {
                            c[s..e].iter_mut().for_each(|x| {
                                if !matches!(x, Choice::Fault(_)) {
                                    *x = Choice::Default
                                }
                            });
                        } else {
                            c.drain(s..e);
                        }
                    });
                    ok |= worked;
                    if !worked || s == 0 {
                        break;
                    }
                    n *= 2; // grow on success
                }
                changed |= ok;
                end = end.min(self.best.len()).saturating_sub(size.max(1));
            }
        }
        changed
    }

    fn lower_draws(&mut self) -> bool {
        let mut changed = false;
        for i in 0..self.best.len() {
            let Some(Choice::Draw(v)) = self.best.choices.get(i).cloned() else {
                continue;
            };
            for lower in [0, v / 2, v.saturating_sub(1)] {
                if lower < v && self.edit(|c| c[i] = Choice::Draw(lower)) {
                    changed = true;
                    break;
                }
            }
        }
        changed
    }

    fn repeat_and_swap(&mut self) -> bool {
        let mut changed = false;
        for i in 1..self.best.len() {
            let (a, b) = match (self.best.choices.get(i - 1), self.best.choices.get(i)) {
                (Some(a), Some(b)) => (a.clone(), b.clone()),
                _ => break,
            };
            if !matches!(a, Choice::Pick(_)) || !matches!(b, Choice::Pick(_)) || a == b {
                continue;
            }
            changed |= self.edit(|c| c[i] = a.clone()) || self.edit(|c| c.swap(i - 1, i));
        }
        changed
    }

    /// Moves each fault one choice later, and trades a deviation before a fault for a
    /// default plus a later fault: dropping a preemption changes the schedule, so the
    /// fault must then land later to hit the same window.
    fn move_faults_later(&mut self) -> bool {
        let mut changed = false;
        let mut f = self.best.len();
        while f > 0 {
            f -= 1;
            if !matches!(self.best.choices.get(f), Some(Choice::Fault(_))) {
                continue;
            }
            for extra in 1..=2 {
                if self.edit(|c| {
                    c.splice(f..f, std::iter::repeat_n(Choice::Default, extra))
                        .for_each(drop)
                }) {
                    changed = true;
                    break;
                }
            }
            for i in (0..f.min(self.best.len())).rev() {
                if !matches!(
                    self.best.choices.get(i),
                    Some(Choice::Pick(_) | Choice::Jump)
                ) {
                    continue;
                }
                let f = (i + 1..self.best.len())
                    .find(|j| matches!(self.best.choices[*j], Choice::Fault(_)))
                    .unwrap_or(self.best.len());
                for extra in 0..=2 {
                    if self.edit(|c| {
                        c[i] = Choice::Default;
                        let f = f.min(c.len());
                        c.splice(f..f, std::iter::repeat_n(Choice::Default, extra))
                            .for_each(drop);
                    }) {
                        changed = true;
                        break;
                    }
                }
            }
        }
        changed
    }

    /// For a one-fault failure: the default schedule with the fault at each position in
    /// turn (drawn values kept). Finds the preemption-free repro that single edits cannot
    /// reach when every dropped preemption moves the window the fault must hit.
    fn fault_on_default_schedule(&mut self) -> bool {
        let faults: Vec<Choice> = self
            .best
            .choices
            .iter()
            .filter(|c| matches!(c, Choice::Fault(_)))
            .cloned()
            .collect();
        if faults.len() != 1 || self.best_rank.deviations == 0 {
            return false;
        }
        let base: Vec<Choice> = self
            .best
            .choices
            .iter()
            .filter(|c| !matches!(c, Choice::Fault(_)))
            .map(|c| match c {
                Choice::Pick(_) | Choice::Jump => Choice::Default,
                other => other.clone(),
            })
            .collect();
        let limit = (self.best_report.steps as usize + 1).max(base.len());
        let mut changed = false;
        let mut since = None;
        for k in 0..=limit {
            let mut c = base.clone();
            if c.len() < k {
                c.resize(k, Choice::Default);
            }
            c.insert(k, faults[0].clone());
            if self.try_tape(Tape { choices: c }) {
                changed = true;
                since = Some(k);
            }
            if since.is_some_and(|s| k > s + 16) {
                break;
            }
        }
        changed
    }

    /// Keeps only one, two or three of the best's picks and jumps, every other one set
    /// to `default` (faults and draws kept): a repro whose needed deviations are few
    /// among many incidental ones, which single edits cannot reach when each dropped
    /// pick moves where the others land. At most 300 tries.
    fn few_deviations(&mut self) -> bool {
        let picks: Vec<usize> = (0..self.best.len())
            .filter(|&i| matches!(self.best.choices[i], Choice::Pick(_) | Choice::Jump))
            .collect();
        let n = picks.len();
        let mut tries = 0;
        for k in 1..=3.min(n.saturating_sub(1)) {
            if k as u32 >= self.best_rank.deviations {
                break;
            }
            let mut keep: Vec<usize> = (0..k).collect();
            loop {
                tries += 1;
                let mut c = self.best.clone();
                for (j, &i) in picks.iter().enumerate() {
                    if !keep.contains(&j) {
                        c.choices[i] = Choice::Default;
                    }
                }
                if self.try_tape(c) {
                    return true;
                }
                if tries >= 300 || !next_subset(&mut keep, n) {
                    break;
                }
            }
        }
        false
    }

    /// A bounded search for a better repro whose picks all run (or deliver to) the
    /// processes the best's picks choose, faults allowed anywhere and time jumps where the
    /// best has one: level by level, fewer deviations than the best has, then as many and
    /// fewer steps; at most `FOCUSED_RUNS` runs. It finds a repro that needs fewer
    /// deviations at other places than the best's (where no edit of the best's picks
    /// reaches: dropping one moves where the others land) without searching every
    /// process's picks, as certification does.
    fn focused_search(&mut self) -> bool {
        let mut procs: Vec<Pid> = self
            .best
            .choices
            .iter()
            .filter_map(|c| match c {
                Choice::Pick(a) => Some(a.pid()),
                _ => None,
            })
            .collect();
        procs.sort_unstable();
        procs.dedup();
        let jumps = self.best.choices.contains(&Choice::Jump);
        let only = |c: &Choice| match c {
            Choice::Pick(a) => procs.binary_search(&a.pid()).is_ok(),
            Choice::Fault(_) => true,
            Choice::Jump => jumps,
            Choice::Draw(_) | Choice::Default => false,
        };
        let total = self.best_rank.faults + self.best_rank.deviations;
        let mut runs = 0u64;
        for level in 1..=total {
            let left = FOCUSED_RUNS.saturating_sub(runs);
            let budget = u64::from(self.budget.saturating_sub(self.replays));
            if left == 0 || budget == 0 {
                return false;
            }
            // At the best's own level, a repro with as many deviations and fewer steps.
            let found = self.search_better(level, left.min(budget), &only, level == total);
            runs += found.runs;
            self.replays += found.runs as u32;
            if let Some((tape, report)) = found.found {
                self.adopt(tape, report);
                return true;
            }
            if !found.complete {
                return false;
            }
        }
        false
    }

    /// Searches the tapes within `deviations` whose deviations `only` admits for one that
    /// fails the same way and ranks better than the best by faults, then deviations (and
    /// with `fewer_steps`, then steps); at most `max_runs` runs.
    fn search_better(
        &mut self,
        deviations: u32,
        max_runs: u64,
        only: &dyn Fn(&Choice) -> bool,
        fewer_steps: bool,
    ) -> super::exhaustive::Search {
        // The rank's order (faults, deviations, steps), steps counted only when asked.
        let key = |faults: u32, deviations: u32, steps: u32| {
            (faults, deviations, if fewer_steps { steps } else { 0 })
        };
        let best = key(
            self.best_rank.faults,
            self.best_rank.deviations,
            self.best_rank.steps,
        );
        let (target, same) = (&self.target, self.same);
        let better = |r: &RunReport| {
            key(r.faults, r.deviations, r.steps) < best && fails_as(r, target, same)
        };
        let run = &mut self.run;
        super::exhaustive::search_only(
            |c| run.run_with(c),
            better,
            super::exhaustive::Bound {
                deviations,
                max_runs,
            },
            only,
        )
    }

    /// Moves each fault one decision earlier (past anything but a fault), and each pick
    /// or time jump one decision earlier past a default: a deviation taken sooner can
    /// spare the steps the run took before it (a time jump while a process could still
    /// run, taken before that process's next step).
    fn move_deviations_earlier(&mut self) -> bool {
        let mut changed = false;
        for i in 1..self.best.len() {
            let (before, here) = (&self.best.choices[i - 1], self.best.choices.get(i));
            let movable = match here {
                Some(Choice::Fault(_)) => !matches!(before, Choice::Fault(_)),
                Some(Choice::Pick(_) | Choice::Jump) => *before == Choice::Default,
                _ => false,
            };
            if movable {
                changed |= self.edit(|c| c.swap(i - 1, i));
            }
        }
        changed
    }
}

/// Runs at most per [`State::focused_search`].
const FOCUSED_RUNS: u64 = 3_000;

/// Drops trailing defaults: past its end a tape reads the default anyway.
fn strip_defaults(t: &mut Tape) {
    while t.choices.last() == Some(&Choice::Default) {
        t.choices.pop();
    }
}

/// `tape` cut to the choices its run `report` read, trailing defaults dropped.
fn ran(mut tape: Tape, report: &RunReport) -> Tape {
    tape.choices.truncate(report.tape.len());
    strip_defaults(&mut tape);
    tape
}

/// Does `r` end in a violation that is `target`'s failure, judged `how`?
fn fails_as(r: &RunReport, target: &crate::check::Violation, how: SameFailure) -> bool {
    matches!(&r.outcome, Outcome::Violation(v) if v.same_failure(target, how))
}

/// The next `k`-subset of `0..n` in lexicographic order; false after the last.
fn next_subset(keep: &mut [usize], n: usize) -> bool {
    let k = keep.len();
    let Some(i) = (0..k).rev().find(|&i| keep[i] < n - k + i) else {
        return false;
    };
    keep[i] += 1;
    for j in i + 1..k {
        keep[j] = keep[j - 1] + 1;
    }
    true
}

/// Shrinks `failing`, a tape that ends in a violation when replayed by `run`.
pub fn shrink<R: Replay>(mut run: R, failing: &Tape, opts: Options) -> Result<Shrunk, ShrinkError> {
    let first = run.replay_hashed(failing);
    let Outcome::Violation(v) = &first.outcome else {
        return Err(ShrinkError::NotAViolation(format!("{:?}", first.outcome)));
    };
    let second = run.replay_hashed(failing);
    if second.trace_hash != first.trace_hash {
        return Err(ShrinkError::Nondeterministic(
            first.trace_hash,
            second.trace_hash,
        ));
    }
    let mut best = failing.clone();
    best.choices.truncate(first.tape.len());
    let mut st = State {
        run,
        target: v.clone(),
        same: opts.same,
        best_rank: Rank::of(&first, &best),
        best,
        best_report: first,
        tried: HashSet::new(),
        replays: 2,
        budget: opts.budget,
    };
    let original_steps = st.best_report.steps;
    let mut rounds = st.passes();
    let certificate = if opts.certify_runs == 0 {
        Certificate::Skipped
    } else {
        let (certificate, more) = st.certify(opts.certify_runs);
        rounds += more;
        certificate
    };
    // The passes' replays may skip the hash: the shrunk run is replayed once more for it.
    let mut report = st.best_report;
    report.take_hash_of(&st.run.replay_hashed(&st.best));
    Ok(Shrunk {
        tape: st.best,
        report,
        original_steps,
        replays: st.replays,
        rounds,
        certificate,
    })
}

impl<R: Replay> State<R> {
    /// The passes, until a round changes nothing; returns the rounds.
    fn passes(&mut self) -> u32 {
        let mut rounds = 0;
        loop {
            rounds += 1;
            let mut changed = self.causal_slice();
            changed |= self.remove_faults();
            changed |= self.chunks(false);
            changed |= self.chunks(true);
            changed |= self.lower_draws();
            changed |= self.repeat_and_swap();
            if !changed {
                changed = self.move_deviations_earlier()
                    | self.move_faults_later()
                    | self.fault_on_default_schedule();
            }
            if !changed {
                changed = self.few_deviations();
            }
            if !changed {
                changed = self.focused_search();
            }
            if !changed || self.replays >= self.budget {
                return rounds;
            }
        }
    }

    /// Searches every tape with fewer deviations and faults in all than the best, level
    /// by level from none, at most `max_runs` runs. A better failure found is taken and
    /// shrunk by the passes again (every level below it was searched). Returns the
    /// certificate and the rounds of passes run again.
    fn certify(&mut self, max_runs: u64) -> (Certificate, u32) {
        let mut runs = 0u64;
        let mut rounds = 0;
        let mut level = 0u32;
        loop {
            let total = self.best_rank.faults + self.best_rank.deviations;
            if total == 0 {
                return (Certificate::Deterministic, rounds);
            }
            if level >= total {
                let within = total - 1;
                return (Certificate::Minimal { within, runs }, rounds);
            }
            let found = self.search_better(level, max_runs - runs, &|_| true, false);
            runs += found.runs;
            match found.found {
                Some((tape, report)) => {
                    // Better by faults or deviations, whatever its steps: take it.
                    self.adopt(tape, report);
                    rounds += self.passes();
                    // Every level below this one was searched: go on from here.
                }
                None if found.complete => level += 1,
                None => {
                    let within = level.checked_sub(1);
                    return (Certificate::NotCertified { within, runs }, rounds);
                }
            }
        }
    }
}
