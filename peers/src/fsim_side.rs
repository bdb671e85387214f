//! fsim's side: the workloads of `fsim::workload`, driven through the library.

use crate::{Found, Throughput};
use fsim::explore::dpor;
use fsim::explore::strategy::Shape;
use fsim::explore::{Shard, StopAt, Strategy, runs_to_failure, sweep_with};
use fsim::scenario::{Expect, Scenario};
use fsim::sim::{Chooser, Config, Delivery, Outcome, RandomChooser, RunReport, Sim};
use fsim::workload::{self, RaceCrash};
use std::path::Path;
use std::time::Instant;

/// Ping-pong of `n` messages under one seeded random schedule, on one node (the default
/// delivery model: a message is in its receiver's mailbox the moment it is sent).
pub fn ping_pong(n: u64) -> Throughput {
    ping_pong_with(n, Delivery::Local)
}

/// The same between nodes: every message waits on its channel until a delivery step of
/// its own, which the scheduler places.
pub fn ping_pong_between_nodes(n: u64) -> Throughput {
    ping_pong_with(n, Delivery::Distributed)
}

fn ping_pong_with(n: u64, delivery: Delivery) -> Throughput {
    let started = Instant::now();
    let mut sim = Sim::new(Config {
        delivery,
        ..workload::unbounded_config()
    });
    workload::ping_pong(&mut sim, n);
    let r = sim.run(&mut RandomChooser::new(1));
    assert_eq!(
        r.outcome,
        Outcome::Quiescent,
        "ping-pong must run to its end"
    );
    Throughput::new(started, r.steps as u64, n)
}

/// The ring of 3 actors passing 20 messages with timers, `seeds` runs on one thread.
pub fn ring(seeds: u64) -> Throughput {
    let config = Config::default();
    let started = Instant::now();
    let mut decisions = 0u64;
    for seed in 1..=seeds {
        let mut sim = Sim::new(config.clone());
        workload::ring_with_timers(&mut sim, 3, 20);
        let r = sim.run(&mut RandomChooser::new(seed));
        debug_assert_eq!(r.outcome, Outcome::Quiescent);
        decisions += r.steps as u64;
    }
    Throughput::new(started, decisions, seeds)
}

/// The same ring as `fsim run` and `fsim::test` sweep it: a scenario built in code whose
/// seeds 1..=N run through `sweep_with` on one thread (the same runs as [`ring`]; a sweep
/// compares no trace hashes, so its runs fold none).
pub fn ring_as_sweep(seeds: u64) -> Throughput {
    let scenario = Scenario::new("ring", |sim: &mut Sim| {
        workload::ring_with_timers(sim, 3, 20)
    });
    let started = Instant::now();
    let s = sweep_with(
        &scenario,
        Strategy::Random,
        1..seeds + 1,
        Shard::ALL,
        1,
        StopAt::Never,
        None,
    );
    assert_eq!(
        (s.runs, s.found),
        (seeds, 0),
        "every seed of the ring passes"
    );
    Throughput::new(started, s.steps, seeds)
}

fn race_run(m: u32, crash: RaceCrash, chooser: &mut dyn Chooser) -> RunReport {
    workload::run_subscribe_race(crate::K, m, crash, chooser)
}

fn violated(r: &RunReport) -> bool {
    matches!(r.outcome, Outcome::Violation(_))
}

/// Runs to the first violation of the subscribe race, for seeds 1..=N (`race_seeds`), with `strategy`.
pub fn race(m: u32, crash: RaceCrash, strategy: Strategy) -> Found {
    let shape = Shape::measure((crash == RaceCrash::Fault) as u32, |c| {
        race_run(m, crash, c)
    });
    Found::over_seeds(|seed, limit| {
        runs_to_failure(
            |c| race_run(m, crash, c),
            violated,
            strategy,
            shape,
            seed,
            limit,
        )
        .map(|(n, _)| n)
    })
}

/// Runs of exhaustive search to the violation: the search `fsim explore --all` makes,
/// every class of schedules with partial-order reduction (DPOR) and no bound, as loom's
/// is. It is deterministic: one figure.
pub fn race_exhaustive(m: u32, crash: RaceCrash) -> Found {
    let r = dpor::search(|c| race_run(m, crash, c), violated, crate::LIMIT);
    Found::exact(r.search.found.is_some().then_some(r.search.runs))
}

/// The Foundation scenario with the fewest decisions in its default run, among those
/// expected to pass (a full sweep of a flawed one measures failure reporting, not runs).
pub fn smallest_scenario(dir: &Path) -> Scenario {
    let all = fsim::scenario::load_dir(dir, &fsim_foundation::systems())
        .unwrap_or_else(|e| panic!("{e}"));
    all.into_iter()
        .filter(|s| s.expect == Expect::Pass)
        .min_by_key(|s| s.shape().decisions)
        .expect("sim-scenarios/ has scenarios")
}

/// Seeds/s of a full sweep of `seeds` seeds on `threads` threads (`fsim run --jobs`).
pub fn sweep(scenario: &Scenario, seeds: u64, threads: usize) -> Throughput {
    let started = Instant::now();
    let s = sweep_with(
        scenario,
        scenario.explore.strategy,
        0..seeds,
        Shard::ALL,
        threads,
        StopAt::Never,
        None,
    );
    assert_eq!(s.runs, seeds);
    Throughput::new(started, s.steps, seeds)
}
