//! Exploration: running a scenario over many seeds and judging the runs.

pub mod corpus;
pub mod dpor;
pub mod exhaustive;
pub mod shrink;
pub mod strategy;

use crate::scenario::{Judgement, Scenario};
use crate::sim::{Outcome, RunReport};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
pub use strategy::Strategy;

/// A run worth keeping: its seed and report.
#[derive(Clone, Debug)]
pub struct Kept {
    /// The seed.
    pub seed: u64,
    /// What it did.
    pub report: RunReport,
}

/// The result of running a seed range.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    /// Runs made.
    pub runs: u64,
    /// Runs that violated the invariant the scenario expects to fail.
    pub found: u64,
    /// The first of them.
    pub first_found: Option<Kept>,
    /// The first run that failed in a way the scenario does not expect.
    pub first_unexpected: Option<Kept>,
    /// Steps over all runs.
    pub steps: u64,
    /// The sweep was stopped by [`interrupt`] before it ran every seed: its counts are
    /// of the runs made, a prefix of the range.
    pub interrupted: bool,
}

/// When to stop a sweep early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopAt {
    /// Run every seed.
    Never,
    /// Stop at the first run that finds the expected violation or fails unexpectedly.
    FirstFailure,
}

/// A slice of a seed range: the seeds whose offset from the range's start is `index`
/// modulo `count` (`--shard K/N`), so that N jobs of a CI matrix or a cluster's job array
/// split a range between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This job's index, below `count`.
    pub index: u64,
    /// How many jobs.
    pub count: u64,
}

impl Shard {
    /// The whole range.
    pub const ALL: Shard = Shard { index: 0, count: 1 };
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("shard `{s}`: expected K/N with K < N");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if index < count {
            Ok(Shard { index, count })
        } else {
            Err(bad())
        }
    }
}

/// Runs `seeds` of `scenario` with `strategy` on every core.
pub fn sweep(scenario: &Scenario, strategy: Strategy, seeds: Range<u64>, stop: StopAt) -> Sweep {
    sweep_with(scenario, strategy, seeds, Shard::ALL, threads(), stop, None)
}

/// Executions until the first failing run of a world, driven by `strategy` from seed
/// `(base << 32) + i` for the i-th execution (the sequence `fsim run --bases` uses): the
/// count, 1-based, with the failing run's seed and report (its tape replays it), or `None`
/// if none of the first `limit` fails. For worlds built in code (benchmarks, tests); `run`
/// builds and runs one world with the chooser it is given. (A whole test with shrinking
/// and regression files is [`crate::test()`].)
pub fn runs_to_failure(
    mut run: impl FnMut(&mut dyn crate::sim::Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    strategy: Strategy,
    shape: strategy::Shape,
    base: u64,
    limit: u64,
) -> Option<(u64, Kept)> {
    (0..limit).find_map(|i| {
        let seed = (base << 32) + i;
        let report = run(&mut *strategy.chooser(seed, shape));
        fails(&report).then_some((i + 1, Kept { seed, report }))
    })
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Asks every running sweep to stop after the runs in progress (a command line's SIGINT
/// or SIGTERM handler calls this). The sweeps return what they counted, marked
/// [`Sweep::interrupted`].
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Has [`interrupt`] been called?
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// The cores to use.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs the `shard` of `seeds` on `threads` threads, each world single-threaded. The
/// result is the same whatever the thread count: with [`StopAt::FirstFailure`] it is the
/// sweep up to and including the lowest failing seed, as if run in order. `progress`, if
/// given, counts the runs made (for a progress bar).
pub fn sweep_with(
    scenario: &Scenario,
    strategy: Strategy,
    seeds: Range<u64>,
    shard: Shard,
    threads: usize,
    stop: StopAt,
    progress: Option<&AtomicU64>,
) -> Sweep {
    const CHUNK: u64 = 16;
    let span = seeds.end.saturating_sub(seeds.start);
    let n = span / shard.count + ((span % shard.count) > shard.index) as u64;
    let seed_of = |i: u64| seeds.start + shard.index + i * shard.count;
    let next = AtomicU64::new(0);
    let limit = AtomicU64::new(u64::MAX);
    // Memory stays flat however long the sweep: chunks report counts (runs, steps, found)
    // to a ledger that folds them into the totals in chunk order, holding only the chunks
    // that finished ahead of a slower one. With `FirstFailure`, the first chunk (in order)
    // with a failure is the last one counted: its worker stopped right after the failure
    // (limits only fall), every chunk before it ran whole, and later ones are dropped. A
    // worker keeps the report only of its first found and first unexpected failure (its
    // lowest indices: a worker's chunks ascend).
    struct Tally {
        runs: u64,
        steps: u64,
        found: u64,
        failed: bool,
        /// Cut short by an interrupt: the counted prefix ends here.
        cut: bool,
    }
    #[derive(Default)]
    struct Ledger {
        next: u64,
        ahead: std::collections::BTreeMap<u64, Tally>,
        closed: bool,
        runs: u64,
        steps: u64,
        found: u64,
    }
    impl Ledger {
        fn add(&mut self, chunk: u64, t: Tally, stop: StopAt) {
            self.ahead.insert(chunk, t);
            while !self.closed
                && let Some(t) = self.ahead.remove(&self.next)
            {
                self.runs += t.runs;
                self.steps += t.steps;
                self.found += t.found;
                self.next += 1;
                self.closed = t.cut || (t.failed && stop == StopAt::FirstFailure);
            }
            if self.closed {
                self.ahead.clear();
            }
        }
    }
    let ledger = std::sync::Mutex::new(Ledger::default());
    // No run of a sweep is compared with another, so none folds a trace hash (the kept
    // ones are run again for it, below).
    let config = scenario.unhashed_config();
    type Firsts = [Option<(u64, RunReport)>; 2];
    let work = || {
        let mut firsts: Firsts = [None, None];
        loop {
            let c = next.fetch_add(1, Ordering::Relaxed);
            let first = c.saturating_mul(CHUNK);
            if first >= n || first > limit.load(Ordering::Relaxed) || interrupted() {
                return firsts;
            }
            let mut tally = Tally {
                runs: 0,
                steps: 0,
                found: 0,
                failed: false,
                cut: false,
            };
            for i in first..first.saturating_add(CHUNK).min(n) {
                if i > limit.load(Ordering::Relaxed) {
                    break;
                }
                if interrupted() {
                    // A chunk cut short: counted as far as it ran; the ledger stops
                    // folding here, so the counts stay those of a prefix of the range.
                    tally.cut = true;
                    break;
                }
                let report = scenario.run_strategy_with(&config, strategy, seed_of(i));
                if let Some(p) = progress {
                    p.fetch_add(1, Ordering::Relaxed);
                }
                let j = scenario.judge(&report.outcome);
                tally.runs += 1;
                tally.steps += report.steps as u64;
                tally.found += (j == Judgement::Found) as u64;
                let slot = match j {
                    Judgement::Passed => continue,
                    Judgement::Found => 0,
                    Judgement::Unexpected => 1,
                };
                tally.failed = true;
                if stop == StopAt::FirstFailure {
                    limit.fetch_min(i, Ordering::Relaxed);
                }
                if firsts[slot].is_none() {
                    firsts[slot] = Some((i, report));
                }
            }
            ledger
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(c, tally, stop);
        }
    };
    // A thread with no chunk to take would only be started and joined.
    let threads = threads.min(n.div_ceil(CHUNK).try_into().unwrap_or(usize::MAX));
    let parts: Vec<Firsts> = if threads <= 1 {
        vec![work()]
    } else {
        std::thread::scope(|sc| {
            let hs: Vec<_> = (0..threads).map(|_| sc.spawn(work)).collect();
            hs.into_iter()
                .map(|h| h.join().expect("a sweep worker panicked"))
                .collect()
        })
    };
    let cut = limit.load(Ordering::Relaxed);
    let ledger = ledger.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut s = Sweep {
        runs: ledger.runs,
        steps: ledger.steps,
        found: ledger.found,
        interrupted: interrupted(),
        ..Sweep::default()
    };
    let mut firsts: Firsts = [None, None];
    for worker_firsts in parts {
        for (slot, kept) in worker_firsts.into_iter().enumerate() {
            if let Some((i, report)) = kept.filter(|(i, _)| *i <= cut)
                && firsts[slot].as_ref().is_none_or(|(f, _)| i < *f)
            {
                firsts[slot] = Some((i, report));
            }
        }
    }
    let [found, unexpected] = firsts.map(|f| {
        f.map(|(i, mut report)| {
            // A run kept is run again for its trace hash, which a report carries.
            let seed = seed_of(i);
            report.take_hash_of(&scenario.run_strategy(strategy, seed));
            Kept { seed, report }
        })
    });
    s.first_found = found;
    s.first_unexpected = unexpected;
    s
}

/// A sweep as JSON: what `fsim run --json` writes and `fsim merge` combines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The scenario.
    pub scenario: String,
    /// Its content hash.
    pub scenario_hash: String,
    /// The strategy.
    pub strategy: String,
    /// The seed range, `[start, end)`.
    pub seeds: [u64; 2],
    /// The shards this summary covers (`"0/1"` for all; merged summaries list several).
    pub shards: Vec<String>,
    /// Runs made.
    pub runs: u64,
    /// Runs that found the expected violation.
    pub found: u64,
    /// Steps over all runs.
    pub steps: u64,
    /// The lowest seed that found it, with its run's steps.
    pub first_found: Option<[u64; 2]>,
    /// The lowest seed that failed otherwise, and how.
    pub first_unexpected: Option<(u64, String)>,
    /// The sweep was interrupted (SIGINT, SIGTERM): the counts are of the runs made.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl Summary {
    /// The summary of `sweep`.
    pub fn of(
        s: &Scenario,
        strategy: Strategy,
        seeds: &Range<u64>,
        shard: Shard,
        sweep: &Sweep,
    ) -> Self {
        Summary {
            scenario: s.name.clone(),
            scenario_hash: format!("{:016x}", s.content_hash),
            strategy: strategy.to_string(),
            seeds: [seeds.start, seeds.end],
            shards: vec![format!("{}/{}", shard.index, shard.count)],
            runs: sweep.runs,
            found: sweep.found,
            steps: sweep.steps,
            first_found: sweep
                .first_found
                .as_ref()
                .map(|k| [k.seed, k.report.steps as u64]),
            first_unexpected: sweep
                .first_unexpected
                .as_ref()
                .map(|k| (k.seed, describe(&k.report.outcome))),
            interrupted: sweep.interrupted,
        }
    }

    /// Combines summaries of the same scenario, strategy and range (shards of one job):
    /// all shards of one split (`K/N` for every K below the same N), each once, or an
    /// error saying what is missing, overlapping or out of range.
    pub fn merge(parts: &[Summary]) -> Result<Vec<Summary>, String> {
        let mut out: Vec<Summary> = Vec::new();
        for p in parts {
            if p.interrupted {
                return Err(format!(
                    "{}: shard {} was interrupted; run it again",
                    p.scenario,
                    p.shards.join(", ")
                ));
            }
            for sh in &p.shards {
                let parsed = sh
                    .parse::<Shard>()
                    .map_err(|e| format!("{}: {e}", p.scenario))?;
                let first = out
                    .iter()
                    .find(|o| o.scenario == p.scenario)
                    .or(Some(p))
                    .and_then(|o| o.shards.first())
                    .and_then(|s| s.parse::<Shard>().ok());
                if let Some(f) = first
                    && f.count != parsed.count
                {
                    return Err(format!(
                        "{}: shard {sh} and shard {}/{} split the seeds differently (they overlap)",
                        p.scenario, f.index, f.count
                    ));
                }
            }
            match out.iter_mut().find(|o| o.scenario == p.scenario) {
                None => out.push(p.clone()),
                Some(o) => {
                    if (o.scenario_hash.as_str(), o.strategy.as_str(), o.seeds)
                        != (p.scenario_hash.as_str(), p.strategy.as_str(), p.seeds)
                    {
                        return Err(format!(
                            "{}: summaries of different scenario versions, strategies or seed ranges",
                            p.scenario
                        ));
                    }
                    if let Some(dup) = p.shards.iter().find(|s| o.shards.contains(s)) {
                        return Err(format!("{}: shard {dup} appears twice", p.scenario));
                    }
                    o.shards.extend(p.shards.iter().cloned());
                    let add = |a: u64, b: u64, what: &str| {
                        a.checked_add(b)
                            .ok_or_else(|| format!("{}: {what} overflows", p.scenario))
                    };
                    o.runs = add(o.runs, p.runs, "runs")?;
                    o.found = add(o.found, p.found, "found")?;
                    o.steps = add(o.steps, p.steps, "steps")?;
                    o.first_found = [o.first_found, p.first_found].into_iter().flatten().min();
                    o.first_unexpected = [o.first_unexpected.clone(), p.first_unexpected.clone()]
                        .into_iter()
                        .flatten()
                        .min();
                }
            }
        }
        for o in &out {
            let count = o
                .shards
                .first()
                .and_then(|s| s.parse::<Shard>().ok())
                .map_or(1, |s| s.count);
            if o.shards.len() as u64 != count {
                return Err(format!(
                    "{}: incomplete, shards {} of a split into {count}",
                    o.scenario,
                    o.shards.join(", ")
                ));
            }
        }
        Ok(out)
    }
}

/// A one-line description of an outcome.
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Quiescent => "passed (quiescent)".into(),
        Outcome::TimeLimit => "passed (time limit)".into(),
        Outcome::Violation(v) => v.to_string(),
        Outcome::BoundHit(b) => format!("bound hit: {b}"),
    }
}

/// Which steps of a traced run the last one causally depends on (itself included), by
/// step index.
pub fn causal_past(events: &[crate::sim::Event]) -> Vec<bool> {
    let mut needed = vec![false; events.len()];
    let mut stack: Vec<u32> = events.last().map(|e| e.step).into_iter().collect();
    while let Some(s) = stack.pop() {
        let i = s as usize;
        if i >= needed.len() || needed[i] {
            continue;
        }
        needed[i] = true;
        stack.extend(events[i].deps.iter().flatten().copied());
    }
    needed
}

/// The events of a traced run that the last event causally depends on, in order (the
/// steps a user needs to see).
pub fn causal_slice(report: &RunReport) -> Vec<crate::sim::Event> {
    let Some(events) = &report.trace else {
        return Vec::new();
    };
    events
        .iter()
        .zip(causal_past(events))
        .filter(|(_, n)| *n)
        .map(|(e, _)| e.clone())
        .collect()
}
