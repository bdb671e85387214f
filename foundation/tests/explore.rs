//! The seed runner: the same results whatever the thread count, and shards that add up
//! to the whole range; strategies are functions of their seed.

use fsim::explore::{self, Shard, StopAt, Strategy, Summary};
use fsim::scenario::{Judgement, Scenario};
use fsim::sim::{Choice, Tape};
use std::path::Path;

fn scenario(name: &str) -> Scenario {
    Scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join("sim-scenarios")
            .join(format!("{name}.toml")),
        &fsim_foundation::systems(),
    )
    .unwrap()
}

/// A random sweep of `seeds`, this `shard`, on `threads` threads, stopping as `stop` says.
fn random_sweep(
    s: &Scenario,
    seeds: std::ops::Range<u64>,
    shard: Shard,
    threads: usize,
    stop: StopAt,
) -> explore::Sweep {
    explore::sweep_with(s, Strategy::Random, seeds, shard, threads, stop, None)
}

type Key = (u64, u64, u64, Option<(u64, u64, Tape)>, Option<u64>);

/// What a sweep found: its counts and its first failure's seed, trace hash and tape.
fn key(s: &explore::Sweep) -> Key {
    (
        s.runs,
        s.found,
        s.steps,
        s.first_found
            .as_ref()
            .map(|k| (k.seed, k.report.trace_hash, k.report.tape.clone())),
        s.first_unexpected.as_ref().map(|k| k.seed),
    )
}

#[test]
fn a_sweep_runs_each_seed_as_run_strategy_does() {
    let s = scenario("volatile_subscriptions");
    let seeds = 0..200;
    let sweep = random_sweep(&s, seeds.clone(), Shard::ALL, 2, StopAt::Never);
    // The same seeds one by one (a sweep's runs skip the trace hash; these fold it).
    let (mut found, mut steps, mut first) = (0, 0, None);
    for seed in seeds {
        let r = s.run_strategy(Strategy::Random, seed);
        assert_ne!(r.trace_hash, 0, "seed {seed}: a run hashes by default");
        steps += r.steps as u64;
        if s.judge(&r.outcome) == Judgement::Found {
            found += 1;
            first.get_or_insert((seed, r));
        }
    }
    assert!(found > 0, "the flawed scenario fails on some seeds");
    assert_eq!((sweep.runs, sweep.found, sweep.steps), (200, found, steps));
    let (seed, hashed) = first.unwrap();
    let kept = sweep.first_found.unwrap();
    assert_eq!(kept.seed, seed);
    assert_eq!(
        (
            &kept.report.outcome,
            kept.report.steps,
            &kept.report.tape,
            kept.report.trace_hash
        ),
        (
            &hashed.outcome,
            hashed.steps,
            &hashed.tape,
            hashed.trace_hash
        ),
        "the run kept is the seed's run, and is run again for its trace hash"
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    for (name, stop) in [
        ("volatile_subscriptions", StopAt::FirstFailure),
        ("volatile_subscriptions", StopAt::Never),
        ("alive_check_then_act_fixed", StopAt::Never),
    ] {
        let s = scenario(name);
        let one = random_sweep(&s, 0..300, Shard::ALL, 1, stop);
        for threads in [2, 3, 5] {
            let many = random_sweep(&s, 0..300, Shard::ALL, threads, stop);
            assert_eq!(
                key(&one),
                key(&many),
                "{name} {stop:?} with {threads} threads"
            );
        }
    }
}

#[test]
fn shards_partition_the_range_and_merge_to_the_whole() {
    let s = scenario("volatile_subscriptions");
    let seeds = 10..250;
    let whole = random_sweep(&s, seeds.clone(), Shard::ALL, 2, StopAt::Never);
    let parts: Vec<Summary> = (0..3)
        .map(|k| {
            let shard = Shard { index: k, count: 3 };
            let sw = random_sweep(&s, seeds.clone(), shard, 2, StopAt::Never);
            Summary::of(&s, Strategy::Random, &seeds, shard, &sw)
        })
        .collect();
    assert_eq!(parts.iter().map(|p| p.runs).sum::<u64>(), 240);
    let merged = Summary::merge(&parts).unwrap();
    let all = Summary::of(&s, Strategy::Random, &seeds, Shard::ALL, &whole);
    assert_eq!(merged.len(), 1);
    let m = &merged[0];
    assert_eq!(
        (m.runs, m.found, m.steps, m.first_found),
        (all.runs, all.found, all.steps, all.first_found)
    );
    assert!(all.found > 0, "the flawed scenario fails on some seeds");
    // A shard given twice is refused.
    assert!(Summary::merge(&[parts[0].clone(), parts[0].clone()]).is_err());
    assert_eq!(
        "2/3".parse::<Shard>().unwrap(),
        Shard { index: 2, count: 3 }
    );
    assert!("3/3".parse::<Shard>().is_err());
}

#[test]
fn every_strategy_is_a_function_of_its_seed() {
    let s = scenario("foundation_soak_fixed");
    for strategy in ["random", "pct:2", "pct:3", "pos", "swarm", "portfolio"] {
        let st: Strategy = strategy.parse().unwrap();
        for seed in [0, 7, 1 << 40] {
            let a = s.run_strategy(st, seed);
            let b = s.run_strategy(st, seed);
            assert_eq!(a.trace_hash, b.trace_hash, "{strategy} seed {seed}");
            let replay = s.run_tape(&a.tape, false);
            assert_eq!(
                replay.trace_hash, a.trace_hash,
                "{strategy} seed {seed}: its tape replays it"
            );
        }
        // Different seeds explore different schedules.
        let hashes: std::collections::BTreeSet<u64> = (0..20)
            .map(|seed| s.run_strategy(st, seed).trace_hash)
            .collect();
        assert!(
            hashes.len() > 10,
            "{strategy}: only {} distinct runs in 20 seeds",
            hashes.len()
        );
    }
    assert!("pct:0".parse::<Strategy>().is_err() && "dfs".parse::<Strategy>().is_err());
}

/// PCT schedules by priority: the highest-priority process runs (or takes its deliveries)
/// whenever it can, so it switches between processes far less often than uniform random
/// picks do (at most two-thirds as often; measured: 10,186 against 18,343 over 50 seeds).
#[test]
fn pct_follows_priorities() {
    let s = scenario("shared_state_fixed");
    let switches = |st: Strategy| -> usize {
        (0..50)
            .map(|seed| {
                let pids: Vec<u32> = s
                    .run_strategy(st, seed)
                    .tape
                    .choices
                    .iter()
                    .filter_map(|c| match c {
                        Choice::Pick(a) => Some(a.pid().0),
                        _ => None,
                    })
                    .collect();
                pids.windows(2).filter(|w| w[0] != w[1]).count()
            })
            .sum()
    };
    let (p, r) = (
        switches(Strategy::Pct { depth: 1 }),
        switches(Strategy::Random),
    );
    assert!(3 * p < 2 * r, "pct switches {p} vs random {r}");
}
