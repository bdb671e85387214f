//! The planted bugs of `fsim bench --shrink` (`src/cli/bench_shrink_bugs.rs`, compiled in
//! here) are what they claim: races or fault bugs that the default schedule does not
//! show, each with the optimum its derivation states, found by the search with
//! partial-order reduction.
//!
//! The optimum is the least `(faults, deviations, steps)`, in that order, over every run
//! that violates the bug's invariant. It is computed by exhaustive search without
//! reduction (`explore::exhaustive`, where a fault counts as a deviation):
//!
//! 1. iterative deepening over the total T = faults + deviations finds the least T0 at
//!    which some run fails;
//! 2. every tape within T0 is run (the search must complete), and the least
//!    `(faults, deviations, steps)` of the failing runs is taken, say `(f, d, s)`;
//! 3. a failing run with fewer than `f` faults could have a total above T0, so that is
//!    ruled out apart: with the fault budget cut to `f - 1`, the search with no bound on
//!    deviations must complete and find nothing (it can: without their fault these
//!    worlds have finitely many schedules, as every loop in them is bounded).
//!
//! Then `f` is the least number of faults, and every run with `f` faults and at most `d`
//! deviations has a total of at most `f + d <= T0`, so step 2 saw them all: `d`, and then
//! `s`, are the least too. The search without reduction runs every tape, so this is a
//! proof, not a sample.
//!
//! Then the shrinker (`fsim bench --shrink`, `src/cli/bench_shrink.rs`), from the noisiest
//! failing run of the first 500 random seeds, must reach the optimum on at least 95% of
//! the bugs and certify every result minimal.

// bench_shrink_bugs.rs and bench_shrink.rs name fsim as `crate::check`,
// `crate::explore`, `crate::scenario` and `crate::sim`.
use fsim::{check, explore, scenario, sim};

#[path = "../src/cli/bench_shrink_bugs.rs"]
mod bench_shrink_bugs;

#[allow(dead_code)] // the table printing is for `fsim bench --shrink`
#[path = "../src/cli/bench_shrink.rs"]
mod bench_shrink;

use bench_shrink_bugs::{Bug, Optimum, bugs};
use fsim::explore::dpor;
use fsim::explore::exhaustive::{self, Bound};
use fsim::scenario::{Judgement, Scenario};
use fsim::sim::{DefaultChooser, FaultMenu, RunReport};
use std::collections::BTreeSet;
use std::time::Instant;

/// The kinds every bug set must cover, at least two bugs each.
const KINDS: [&str; 7] = [
    "lost_update",
    "lease_expiry",
    "crash_between_steps",
    "stale_name",
    "restart_loses_state",
    "cross_sender_order",
    "timer_next_incarnation",
];

/// Kinds a bug may have besides [`KINDS`].
const OTHER_KINDS: [&str; 2] = ["check_then_act", "monitor_window"];

/// No bug needs more faults plus deviations than this.
const MAX_TOTAL: u32 = 4;

/// Runs one search may make.
const MAX_RUNS: u64 = 2_000_000;

fn found(s: &Scenario, r: &RunReport) -> bool {
    s.judge(&r.outcome) == Judgement::Found
}

/// What the exhaustive search showed about one bug.
struct Computed {
    optimum: Optimum,
    /// Runs iterative deepening made until its first failing run.
    runs_to_find: u64,
    /// Runs made in all (deepening, the full search at T0, the proof on faults).
    runs: u64,
}

/// Steps 1 to 3 of the module doc.
fn compute(bug: &Bug) -> Computed {
    let s = (bug.scenario)();
    // 1. The least total at which some run fails.
    let mut runs_to_find = 0;
    let mut first = None;
    for total in 0..=MAX_TOTAL {
        let search = exhaustive::search(
            |c| s.run_chooser(c),
            |r| found(&s, r),
            Bound {
                deviations: total,
                max_runs: MAX_RUNS,
            },
        );
        runs_to_find += search.runs;
        if search.found.is_some() {
            first = Some(total);
            break;
        }
        assert!(
            search.complete,
            "{}: the search within {total} did not complete ({} runs)",
            bug.name, search.runs
        );
    }
    let t0 = first.unwrap_or_else(|| panic!("{}: no failing run within {MAX_TOTAL}", bug.name));
    // 2. Every tape within T0; the least (faults, deviations, steps) of the failures.
    let mut best: Option<(u32, u32, u32)> = None;
    let all = exhaustive::search(
        |c| {
            let r = s.run_chooser(c);
            if found(&s, &r) {
                let k = (r.faults, r.deviations, r.steps);
                best = Some(best.map_or(k, |b| b.min(k)));
            }
            r
        },
        |_| false,
        Bound {
            deviations: t0,
            max_runs: MAX_RUNS,
        },
    );
    assert!(
        all.complete,
        "{}: the search of every tape within {t0} did not complete ({} runs)",
        bug.name, all.runs
    );
    let (faults, deviations, steps) = best.expect("a failing run within T0");
    assert!(faults + deviations <= t0);
    let mut runs = runs_to_find + all.runs;
    // 3. No failure with fewer faults, however many deviations.
    if faults > 0 {
        let fewer = s.clone().with_faults(FaultMenu {
            budget: faults - 1,
            ..s.faults.clone()
        });
        let none = exhaustive::search(
            |c| fewer.run_chooser(c),
            |r| found(&fewer, r),
            Bound {
                deviations: u32::MAX,
                max_runs: MAX_RUNS,
            },
        );
        assert!(
            none.found.is_none(),
            "{}: fails with {} fault(s) and {} deviation(s), fewer faults than the {faults} \
             found within {t0}",
            bug.name,
            none.found.as_ref().map_or(0, |(_, r)| r.faults),
            none.found.as_ref().map_or(0, |(_, r)| r.deviations),
        );
        assert!(
            none.complete,
            "{}: the search with {} fault(s) and no bound did not complete ({} runs)",
            bug.name,
            faults - 1,
            none.runs
        );
        runs += none.runs;
    }
    Computed {
        optimum: Optimum {
            faults,
            deviations,
            steps,
        },
        runs_to_find,
        runs,
    }
}

#[test]
fn the_bug_set_covers_every_kind() {
    let bugs = bugs();
    assert!(bugs.len() >= 22, "{} bugs, fewer than 22", bugs.len());
    let names: BTreeSet<&str> = bugs.iter().map(|b| b.name).collect();
    assert_eq!(names.len(), bugs.len(), "bug names are not unique");
    for b in &bugs {
        assert!(
            b.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{}: not snake_case",
            b.name
        );
        assert!(
            KINDS.contains(&b.kind) || OTHER_KINDS.contains(&b.kind),
            "{}: unknown kind {}",
            b.name,
            b.kind
        );
        assert!(
            b.optimum.faults + b.optimum.deviations >= 1,
            "{}: a planted bug needs a fault or a deviation",
            b.name
        );
        let sentences = b.derivation.matches(". ").count() + 1;
        assert!(
            b.derivation.ends_with('.') && (2..=4).contains(&sentences),
            "{}: the derivation has {sentences} sentence(s), not two to four",
            b.name
        );
        assert!(
            b.derivation.contains(&format!(" {}", b.optimum.steps)),
            "{}: the derivation does not come to its {} steps",
            b.name,
            b.optimum.steps
        );
        let s = (b.scenario)();
        assert_eq!(s.name, b.name, "the scenario is named after its bug");
        assert_eq!(
            s.expect,
            scenario::Expect::Violation(b.invariant.to_string()),
            "{}: the scenario expects its invariant to fail",
            b.name
        );
    }
    for kind in KINDS {
        let n = bugs.iter().filter(|b| b.kind == kind).count();
        assert!(n >= 2, "{n} bug(s) of kind {kind}, fewer than 2");
    }
}

#[test]
fn every_bug_passes_by_default_has_its_optimum_and_is_found_with_reduction() {
    let t0 = Instant::now();
    let mut wrong = Vec::new();
    for bug in bugs() {
        let s = (bug.scenario)();
        let default = s.run_chooser(&mut DefaultChooser);
        assert_eq!(
            s.judge(&default.outcome),
            Judgement::Passed,
            "{}: the default schedule does not pass: {:?}",
            bug.name,
            default.outcome
        );
        let c = compute(&bug);
        let reduced = dpor::search(|ch| s.run_chooser(ch), |r| found(&s, r), 200_000);
        let dpor_runs = reduced.search.runs;
        println!(
            "{:<38} {:<22} faults {} deviations {} steps {:>3}   runs: {:>6} to find, {:>7} \
             in all, {:>5} reduced",
            bug.name,
            bug.kind,
            c.optimum.faults,
            c.optimum.deviations,
            c.optimum.steps,
            c.runs_to_find,
            c.runs,
            dpor_runs
        );
        assert!(
            reduced.search.found.is_some(),
            "{}: the search with partial-order reduction did not find it ({dpor_runs} runs)",
            bug.name
        );
        if c.optimum != bug.optimum {
            wrong.push(format!(
                "{}: computed {:?}, stated {:?}",
                bug.name, c.optimum, bug.optimum
            ));
        }
    }
    println!("{:.1} s", t0.elapsed().as_secs_f64());
    assert!(wrong.is_empty(), "optima differ:\n{}", wrong.join("\n"));
}

#[test]
fn the_shrinker_reaches_the_optimum_and_certifies_it() {
    let bugs = bugs();
    let mut optimal = 0;
    let mut misses = Vec::new();
    for bug in &bugs {
        let m = bench_shrink::measure(bug).unwrap_or_else(|e| panic!("{}: {e}", bug.name));
        println!(
            "{}: from {:?} to {:?} (optimum {:?}); {}",
            bug.name, m.from, m.got, bug.optimum, m.certificate
        );
        assert!(m.certified, "{}: {}", bug.name, m.certificate);
        if m.optimal(bug) {
            optimal += 1;
        } else {
            misses.push(bug.name);
        }
    }
    assert!(
        optimal * 100 >= bugs.len() * 95,
        "optimal on {optimal} of {}; missed {misses:?}",
        bugs.len()
    );
}
