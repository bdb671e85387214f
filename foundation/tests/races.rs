//! The report's races, replayed: every flawed scenario in `sim-scenarios/` finds a
//! violation of the invariant it names within its CI budget with the random strategy, and
//! the failing run replays to the same trace hash; every fixed scenario passes its CI
//! budget; and every flaw has both.

mod common;
use common::scenarios;
use fsim::explore::{self, StopAt};
use fsim::scenario::{Expect, Judgement, Scenario};
use fsim::sim::Outcome;
use fsim_foundation::{Flaw, Flaws, Foundation};

fn foundation(s: &Scenario) -> &Foundation {
    s.system_as::<Foundation>().expect("a Foundation scenario")
}

#[test]
fn every_flaw_has_a_flawed_scenario_and_a_fixed_twin() {
    let all = scenarios();
    for flaw in Flaw::ALL {
        let flawed = all
            .iter()
            .find(|s| s.name == flaw.name())
            .unwrap_or_else(|| panic!("no scenario {}.toml", flaw.name()));
        assert!(
            foundation(flawed).flaws.has(flaw),
            "{} does not switch {flaw} on",
            flawed.name
        );
        assert!(
            matches!(flawed.expect, Expect::Violation(_)),
            "{} must expect a violation",
            flawed.name
        );
        let fixed_name = format!("{}_fixed", flaw.name());
        let fixed = all
            .iter()
            .find(|s| s.name == fixed_name)
            .unwrap_or_else(|| panic!("no scenario {fixed_name}.toml"));
        assert_eq!(
            foundation(fixed).flaws.iter().count(),
            0,
            "{fixed_name} must run the fixed design"
        );
        assert_eq!(
            fixed.expect,
            Expect::Pass,
            "{fixed_name} must expect a pass"
        );
        // The twin checks at least the invariant its flawed sibling breaks.
        let Expect::Violation(inv) = &flawed.expect else {
            unreachable!()
        };
        assert!(
            fixed.invariants.contains(inv),
            "{fixed_name} does not check {inv}"
        );
        assert_eq!(
            foundation(fixed).clients.len(),
            foundation(flawed).clients.len(),
            "{fixed_name}: same workload"
        );
        assert_eq!(
            foundation(fixed).tests.len(),
            foundation(flawed).tests.len(),
            "{fixed_name}: same workload"
        );
    }
}

#[test]
fn flawed_scenarios_find_their_violation_and_replay_it() {
    let mut failures = Vec::new();
    for s in scenarios()
        .iter()
        .filter(|s| matches!(s.expect, Expect::Violation(_)))
    {
        let sw = explore::sweep(
            s,
            s.explore.strategy,
            0..s.explore.ci_seeds,
            StopAt::FirstFailure,
        );
        if let Some(k) = &sw.first_unexpected {
            failures.push(format!(
                "{}: seed {} failed unexpectedly: {}",
                s.name,
                k.seed,
                explore::describe(&k.report.outcome)
            ));
            continue;
        }
        let Some(k) = sw.first_found else {
            failures.push(format!(
                "{}: no violation in {} seeds",
                s.name, s.explore.ci_seeds
            ));
            continue;
        };
        // The same seed gives the same run; its tape replays to the same trace.
        let again = s.run_seed(k.seed);
        assert_eq!(
            again.trace_hash, k.report.trace_hash,
            "{}: seed {} is not deterministic",
            s.name, k.seed
        );
        let replay = s.run_tape(&k.report.tape, false);
        assert_eq!(
            replay.trace_hash, k.report.trace_hash,
            "{}: the tape of seed {} replays differently",
            s.name, k.seed
        );
        assert_eq!(
            replay.outcome, k.report.outcome,
            "{}: replayed outcome differs",
            s.name
        );
        assert_eq!(
            replay.fallbacks, 0,
            "{}: the replayed tape fell back",
            s.name
        );
        assert_eq!(s.judge(&replay.outcome), Judgement::Found);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixed_scenarios_pass_their_budget() {
    let mut failures = Vec::new();
    for s in scenarios().iter().filter(|s| s.expect == Expect::Pass) {
        let sw = explore::sweep(
            s,
            s.explore.strategy,
            0..s.explore.ci_seeds,
            StopAt::FirstFailure,
        );
        if let Some(k) = sw.first_unexpected.or(sw.first_found) {
            let recent: Vec<String> = k.report.recent.iter().map(|e| format!("    {e}")).collect();
            failures.push(format!(
                "{}: seed {}: {}\n{}",
                s.name,
                k.seed,
                explore::describe(&k.report.outcome),
                recent.join("\n")
            ));
        } else {
            assert_eq!(sw.runs, s.explore.ci_seeds, "{}: every seed ran", s.name);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// F5's claim — "race between monitor and subscriber-list update" — is refuted under BEAM
/// semantics: the report-era subscription code keeps its table and its monitors in step
/// under kills and crashes after any single effect.
#[test]
fn the_monitor_before_list_update_claim_is_refuted() {
    let s = scenarios()
        .into_iter()
        .find(|s| s.name == "monitor_then_update")
        .expect("scenario");
    assert!(
        foundation(&s).flaws.has(Flaw::VolatileSubscriptions),
        "it runs the report-era subscription code"
    );
    assert!(
        s.faults.crash_after_effect && s.faults.budget >= 1,
        "with crashes after effects"
    );
    assert!(s.invariants.contains(&"monitors_match".to_string()));
    let mut faulted = 0;
    for seed in 0..s.explore.ci_seeds {
        let r = s.run_seed(seed);
        assert!(
            !r.outcome.is_failure(),
            "seed {seed}: {}",
            explore::describe(&r.outcome)
        );
        faulted += (r.faults > 0) as u32;
    }
    // The claim is tested only by runs in which faults landed.
    assert!(
        faulted as u64 > s.explore.ci_seeds / 4,
        "only {faulted} runs injected a fault"
    );
}

/// The switches matter: the flawed workload run without its switch passes.
#[test]
fn each_race_needs_its_switch() {
    for s in scenarios()
        .iter()
        .filter(|s| matches!(s.expect, Expect::Violation(_)))
    {
        let mut fixed = s.clone().with_system(Foundation {
            flaws: Flaws::none(),
            ..foundation(s).clone()
        });
        fixed.expect = Expect::Pass;
        for seed in 0..200 {
            let r = fixed.run_seed(seed);
            assert!(
                matches!(r.outcome, Outcome::Quiescent | Outcome::TimeLimit),
                "{} without its switch, seed {seed}: {}",
                s.name,
                explore::describe(&r.outcome)
            );
        }
    }
}

/// Bounded exhaustive search at one deviation (faults included) finds every flawed
/// scenario and proves every fixed one — every schedule within the bound passes.
#[test]
fn exhaustive_search_finds_each_flaw_within_three_deviations_and_passes_each_fix_within_one() {
    use fsim::explore::exhaustive::{Bound, deepening, search};
    let mut failures = Vec::new();
    for s in scenarios() {
        let r = match &s.expect {
            // Iterative deepening: the least number of deviations that reaches the flaw.
            Expect::Violation(_) => {
                let (runs, r) =
                    deepening(|c| s.run_chooser(c), |r| r.outcome.is_failure(), 3, 50_000);
                if let Some((_, rep)) = &r.found {
                    eprintln!(
                        "{}: found after {runs} runs, {} deviation(s), {} fault(s)",
                        s.name, rep.deviations, rep.faults
                    );
                }
                r
            }
            Expect::Pass => search(
                |c| s.run_chooser(c),
                |r| r.outcome.is_failure(),
                Bound {
                    deviations: 1,
                    max_runs: 20_000,
                },
            ),
        };
        let ok = match (&s.expect, &r.found) {
            (Expect::Violation(_), Some((tape, report))) => {
                // What the search found replays from its tape.
                let again = s.run_tape(tape, false);
                again.trace_hash == report.trace_hash
                    && s.judge(&report.outcome) == Judgement::Found
            }
            (Expect::Pass, None) => r.complete,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: {} runs, complete {}, found {:?}",
                s.name,
                r.runs,
                r.complete,
                r.found
                    .as_ref()
                    .map(|(_, rep)| explore::describe(&rep.outcome))
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
