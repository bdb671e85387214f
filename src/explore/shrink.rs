//! The shrinker: from a failing tape to the best tape it can find that fails the same way
//! (a violation of the same invariant).
//!
//! "Best" is ranked: fewest faults (every crash in a repro is necessary), then fewest
//! steps, then fewest deviations from the default schedule ("preemptions"), then least
//! virtual time, then the tape itself (shorter, then smaller bytes: `default` is the
//! smallest choice). Passes run until a round changes nothing:
//! 1. the failure replays, twice, to the same trace;
//! 2. causal slice: drop the choices of steps the violation does not depend on;
//! 3. remove faults, one at a time;
//! 4. delete chunks of 8, 4, 2, 1 choices, scanning backwards;
//! 5. set blocks to `default`, then lower drawn values;
//! 6. repeat the previous pick, swap adjacent picks;
//! 7. when stuck, move faults earlier, or later — alone, or trading a deviation before
//!    the fault for a default (dropping a preemption shifts the schedule, so the fault
//!    must land later to hit the same window) — and, for one fault, try the default
//!    schedule with the fault at each position.
//!
//! Candidates are cached, a replay that can no longer beat the best is cut off at the
//! best's step count, and the replays are budgeted. Everything is a function of the
//! input: the same failure always shrinks to the same tape.

use crate::sim::{Choice, Outcome, RunReport, Tape};
use std::collections::HashSet;

/// How a candidate is run: replay `tape`, stopping after `steps_max` steps.
pub trait Replay {
    /// One replay.
    fn replay(&mut self, tape: &Tape, steps_max: u32) -> RunReport;
    /// The same with the full trace (for the causal slice).
    fn replay_traced(&mut self, tape: &Tape) -> RunReport;
}

/// Any scenario replays: the shrinker takes every system.
impl Replay for &crate::scenario::Scenario {
    fn replay(&mut self, tape: &Tape, steps_max: u32) -> RunReport {
        self.run_tape_limited(tape, steps_max)
    }
    fn replay_traced(&mut self, tape: &Tape) -> RunReport {
        self.run_tape(tape, true)
    }
}

/// Limits.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Replays at most.
    pub budget: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { budget: 20_000 }
    }
}

/// The rank of a failing run: lower is better.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// Faults injected.
    pub faults: u32,
    /// Steps.
    pub steps: u32,
    /// Deviations from the default schedule.
    pub deviations: u32,
    /// Virtual time at the end.
    pub time_ms: u64,
    /// Tape length.
    pub len: usize,
    /// The tape's bytes.
    pub bytes: Vec<u8>,
}

impl Rank {
    fn of(report: &RunReport, tape: &Tape) -> Rank {
        Rank {
            faults: report.faults,
            steps: report.steps,
            deviations: report.deviations,
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
    /// The failure to keep: the same invariant (and, for a panic, the same place).
    target: crate::check::Violation,
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
        while cand.choices.last() == Some(&Choice::Default) {
            cand.choices.pop(); // past the end every choice is the default
        }
        if self.replays >= self.budget || !self.tried.insert(cand.to_bytes()) {
            return false;
        }
        self.replays += 1;
        let faults = cand
            .choices
            .iter()
            .filter(|c| matches!(c, Choice::Fault(_)))
            .count() as u32;
        // With as many faults as the best, a run longer than the best cannot win.
        let limit = if faults >= self.best_rank.faults {
            self.best_report.steps + 1
        } else {
            u32::MAX
        };
        let r = self.run.replay(&cand, limit);
        if !matches!(&r.outcome, Outcome::Violation(v) if v.same_failure(&self.target)) {
            return false;
        }
        cand.choices.truncate(r.tape.len());
        while cand.choices.last() == Some(&Choice::Default) {
            cand.choices.pop();
        }
        let rank = Rank::of(&r, &cand);
        if rank < self.best_rank {
            self.best = cand;
            self.best_report = r;
            self.best_rank = rank;
            true
        } else {
            false
        }
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

    fn move_faults_earlier(&mut self) -> bool {
        let mut changed = false;
        for i in 1..self.best.len() {
            if matches!(self.best.choices.get(i), Some(Choice::Fault(_)))
                && !matches!(self.best.choices[i - 1], Choice::Fault(_))
            {
                changed |= self.edit(|c| c.swap(i - 1, i));
            }
        }
        changed
    }
}

/// Shrinks `failing`, a tape that ends in a violation when replayed by `run`.
pub fn shrink<R: Replay>(mut run: R, failing: &Tape, opts: Options) -> Result<Shrunk, ShrinkError> {
    let first = run.replay(failing, u32::MAX);
    let Outcome::Violation(v) = &first.outcome else {
        return Err(ShrinkError::NotAViolation(format!("{:?}", first.outcome)));
    };
    let second = run.replay(failing, u32::MAX);
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
        best_rank: Rank::of(&first, &best),
        best,
        best_report: first,
        tried: HashSet::new(),
        replays: 2,
        budget: opts.budget,
    };
    let original_steps = st.best_report.steps;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let mut changed = st.causal_slice();
        changed |= st.remove_faults();
        changed |= st.chunks(false);
        changed |= st.chunks(true);
        changed |= st.lower_draws();
        changed |= st.repeat_and_swap();
        if !changed {
            changed =
                st.move_faults_earlier() | st.move_faults_later() | st.fault_on_default_schedule();
        }
        if !changed || st.replays >= st.budget {
            break;
        }
    }
    Ok(Shrunk {
        tape: st.best,
        report: st.best_report,
        original_steps,
        replays: st.replays,
        rounds,
    })
}
