//! `fsim bench --shrink`: the shrinker against the hand-derived optimum of every planted
//! bug (`bench_shrink_bugs`). For each bug: the first failing seed of its scenario's
//! random exploration (what `fsim shrink` starts from), shrunk and certified
//! (`explore::shrink`), beside the optimum — faults, deviations, steps — and the time
//! both took.
//!
//! The file is also compiled into `tests/planted_bugs.rs` (by `#[path]`, beside
//! `bench_shrink_bugs.rs`), so it names fsim only as `crate::explore` and `crate::sim`.

use super::bench_shrink_bugs::{Bug, Optimum};
use crate::explore::{self, StopAt, shrink};
use std::time::Instant;

/// What shrinking one planted bug gave.
#[derive(Clone, Debug)]
pub struct Measured {
    /// The failing seed it started from.
    pub seed: u64,
    /// Faults, deviations and steps of that run.
    pub from: Optimum,
    /// Faults, deviations and steps of the shrunk run.
    pub got: Optimum,
    /// What certification showed, in words.
    pub certificate: String,
    /// Certified minimal.
    pub certified: bool,
    /// Shrinking plus certification, milliseconds.
    pub ms: f64,
}

impl Measured {
    /// Equal to the optimum in faults, deviations and steps.
    pub fn optimal(&self, bug: &Bug) -> bool {
        self.got == bug.optimum
    }
}

/// Seeds of random exploration looked at for the failing run to start from.
pub const START_SEEDS: u64 = 500;

/// The noisiest failing run among the first [`START_SEEDS`] seeds of `s`'s random
/// exploration: the most faults and deviations, then the most steps (the lowest seed
/// among equals). A shrinker is measured from a long, noisy failure, not from one that is
/// already short.
fn noisiest_failure(s: &crate::scenario::Scenario) -> Option<(u64, crate::sim::RunReport)> {
    let mut best: Option<(u64, crate::sim::RunReport)> = None;
    for seed in 0..START_SEEDS {
        let r = s.run_seed(seed);
        if s.judge(&r.outcome) != crate::scenario::Judgement::Found {
            continue;
        }
        let key = |r: &crate::sim::RunReport| (r.faults + r.deviations, r.steps);
        if best.as_ref().is_none_or(|(_, b)| key(&r) > key(b)) {
            best = Some((seed, r));
        }
    }
    best
}

/// Shrinks the noisiest failing run of `bug`'s scenario (see [`noisiest_failure`]); if
/// none of those seeds fails, the first failing seed of its exploration budget.
pub fn measure(bug: &Bug) -> Result<Measured, String> {
    let s = (bug.scenario)();
    let (seed, report) = match noisiest_failure(&s) {
        Some(found) => found,
        None => {
            let sweep = explore::sweep(
                &s,
                s.explore.strategy,
                0..s.explore.seeds,
                StopAt::FirstFailure,
            );
            let k = sweep
                .first_found
                .ok_or_else(|| format!("{}: no failing seed in {}", bug.name, s.explore.seeds))?;
            (k.seed, k.report)
        }
    };
    let started = Instant::now();
    let shrunk = shrink::shrink(&s, &report.tape, s.shrink_options()).map_err(|e| e.to_string())?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(Measured {
        seed,
        from: Optimum {
            faults: report.faults,
            deviations: report.deviations,
            steps: report.steps,
        },
        got: Optimum {
            faults: shrunk.report.faults,
            deviations: shrunk.report.deviations,
            steps: shrunk.report.steps,
        },
        certified: shrunk.certificate.is_minimal(),
        certificate: shrunk.certificate.describe(),
        ms,
    })
}

fn fds(o: &Optimum) -> String {
    format!("{}/{}/{}", o.faults, o.deviations, o.steps)
}

/// Prints the table and the summary.
pub fn print_table(bugs: &[Bug]) {
    println!(
        "| bug | kind | optimum f/d/s | shrunk f/d/s | optimal | certified | from f/d/s | ms |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut optimal = 0;
    let mut certified = 0;
    let mut times: Vec<f64> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for bug in bugs {
        match measure(bug) {
            Ok(m) => {
                if !m.optimal(bug) || !m.certified {
                    notes.push(format!(
                        "{} ({}): {}; the optimum: {}",
                        bug.name, bug.invariant, m.certificate, bug.derivation
                    ));
                }
                optimal += m.optimal(bug) as usize;
                certified += m.certified as usize;
                times.push(m.ms);
                println!(
                    "| {} | {} | {} | {} | {} | {} | seed {}: {} | {:.0} |",
                    bug.name,
                    bug.kind,
                    fds(&bug.optimum),
                    fds(&m.got),
                    if m.optimal(bug) { "yes" } else { "no" },
                    if m.certified { "yes" } else { "no" },
                    m.seed,
                    fds(&m.from),
                    m.ms
                );
            }
            Err(e) => println!(
                "| {} | {} | {} | {e} | no | no | - | - |",
                bug.name,
                bug.kind,
                fds(&bug.optimum)
            ),
        }
    }
    for n in &notes {
        println!("\n{n}");
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    let max = times.last().copied().unwrap_or(0.0);
    println!();
    println!(
        "f/d/s: faults, deviations, steps (the shrinker's rank, in that order); optimum: \
         derived by hand and checked by exhaustive search (tests/planted_bugs.rs); from: the \
         noisiest of the failing runs among the first 500 seeds of random exploration, or \
         where none of them fails, the first failing seed of the scenario's budget"
    );
    println!(
        "optimal on {optimal} of {} planted bugs ({:.0}%), certified minimal on {certified}; \
         shrink plus certification median {median:.0} ms, max {max:.0} ms",
        bugs.len(),
        100.0 * optimal as f64 / bugs.len().max(1) as f64
    );
}
