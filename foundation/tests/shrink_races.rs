//! The shrinker on the report's races: the passes alone reach the repro that
//! certification proves minimal, so certification only confirms it (it searches the
//! levels below, never the level the repro is at).

use fsim::explore::{self, StopAt, shrink};
use fsim::scenario::{self, Expect, Scenario};
use std::path::Path;

fn flawed() -> Vec<Scenario> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    scenario::load_dir(&root.join("sim-scenarios"), &fsim_foundation::systems())
        .unwrap()
        .into_iter()
        .filter(|s| matches!(s.expect, Expect::Violation(_)))
        .collect()
}

#[test]
fn the_passes_alone_reach_the_certified_minimum_of_every_report_race() {
    let scenarios = flawed();
    assert_eq!(scenarios.len(), 10, "the report has 10 races");
    for s in &scenarios {
        let found = explore::sweep(
            s,
            s.explore.strategy,
            0..s.explore.seeds,
            StopAt::FirstFailure,
        )
        .first_found
        .unwrap_or_else(|| panic!("{}: no failing seed", s.name));
        let tape = &found.report.tape;
        let passes = shrink::shrink(
            s,
            tape,
            shrink::Options {
                certify_runs: 0,
                ..s.shrink_options()
            },
        )
        .unwrap();
        let certified = shrink::shrink(s, tape, s.shrink_options()).unwrap();
        assert!(
            certified.certificate.is_minimal(),
            "{}: {}",
            s.name,
            certified.certificate.describe()
        );
        // The passes' replays skip the trace hash; the shrunk run carries its own.
        let replayed = s.run_tape(&certified.tape, false);
        assert_eq!(
            (certified.report.trace_hash, certified.report.steps),
            (replayed.trace_hash, replayed.steps),
            "{}: the shrunk run's hash",
            s.name
        );
        assert_ne!(replayed.trace_hash, 0, "{}", s.name);
        let rank = |x: &shrink::Shrunk| (x.report.faults, x.report.deviations);
        assert_eq!(
            rank(&passes),
            rank(&certified),
            "{}: the passes stop at (faults, deviations) {:?}, certification finds {:?}",
            s.name,
            rank(&passes),
            rank(&certified)
        );
        // Certification searched only the levels below the repro: every tape with fewer
        // deviations and faults in all, a few hundred runs at most here.
        if let shrink::Certificate::Minimal { runs, .. } = certified.certificate {
            assert!(runs < 1_000, "{}: certification ran {runs}", s.name);
        }
    }
}
