//! Memory stays flat over long sweeps, passing and failing: a run that does not end
//! quiescent leaves suspended processes behind, which the teardown drops, and the sweep
//! keeps counts per chunk of runs, not a record per run. (Its own test binary, so that no
//! other test's allocations share the process's resident set.)

use fsim::explore::{Shard, StopAt, Strategy, sweep_with};
use fsim::scenario::Scenario;
use fsim::sim::{Cx, Sim};

/// Resident set size, in bytes (`/proc/self/statm`, pages of 4 KiB).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Processes that are still waiting when the run ends (a failing run ends early), each
/// holding some memory, and a checker that fails every run when `fail` is set.
fn world(fail: bool) -> impl Fn(&mut Sim) + Send + Sync + 'static {
    move |sim: &mut Sim| {
        let mut waiting = Vec::new();
        for i in 0..8 {
            waiting.push(sim.spawn(&format!("w{i}"), |cx: Cx| async move {
                let ballast = vec![0u8; 4096];
                cx.recv().await;
                drop(ballast);
            }));
        }
        sim.spawn("checker", move |cx: Cx| async move {
            cx.yield_now().await;
            assert!(!fail, "fails every run");
        });
    }
}

fn growth(scenario: &Scenario, seeds: u64) -> (u64, u64) {
    let run = |range: std::ops::Range<u64>| {
        sweep_with(
            scenario,
            Strategy::Random,
            range,
            Shard::ALL,
            2,
            StopAt::Never,
            None,
        )
    };
    let warm = run(0..2_000);
    assert_eq!(warm.runs, 2_000);
    let before = rss();
    let sweep = run(2_000..2_000 + seeds);
    assert_eq!(sweep.runs, seeds);
    (before, rss().saturating_sub(before))
}

#[test]
fn twenty_thousand_failing_and_passing_seeds_grow_the_rss_by_under_20_mb() {
    let failing = Scenario::new("failing", world(true)).expect_violation("panic");
    let (base, grew) = growth(&failing, 20_000);
    assert!(
        grew < 20 << 20,
        "20,000 failing runs grew the RSS from {} MB by {} MB",
        base >> 20,
        grew >> 20
    );
    let passing = Scenario::new("passing", world(false));
    let (base, grew) = growth(&passing, 20_000);
    assert!(
        grew < 20 << 20,
        "20,000 passing runs grew the RSS from {} MB by {} MB",
        base >> 20,
        grew >> 20
    );
}
