//! The determinism self-check, on the mixed workload and on a process built to be
//! nondeterministic.

use fsim::sim::determinism::{check_seed, check_seeds};
use fsim::sim::*;
use fsim::workload;
use std::sync::atomic::{AtomicU64, Ordering};

const SEEDS: u64 = 10_000;

#[test]
fn mixed_workload_is_deterministic_over_10000_seeds() {
    let config = workload::mixed_config();
    let checked = check_seeds(&config, 0..SEEDS, workload::mixed).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(checked as u64, SEEDS);
}

#[test]
fn mixed_workload_exercises_faults_restarts_and_timers() {
    let config = workload::mixed_config();
    let (mut faulted, mut restarted, mut jumped, mut distinct) =
        (0, 0, 0, std::collections::BTreeSet::new());
    for seed in 0..300 {
        let r = run_seed(
            &Config {
                record_trace: true,
                ..config.clone()
            },
            seed,
            workload::mixed,
        );
        assert!(!r.outcome.is_failure(), "seed {seed}: {:?}", r.outcome);
        // A run that keeps no effects folds them from borrowed parts: the same hash.
        let unrecorded = run_seed(&config, seed, workload::mixed);
        assert_eq!(unrecorded.trace_hash, r.trace_hash, "seed {seed}");
        // A run that skips the hash is the same run, with a hash of 0.
        let unhashed = run_seed(
            &Config {
                skip_trace_hash: true,
                ..config.clone()
            },
            seed,
            workload::mixed,
        );
        assert_eq!(
            (&unhashed.outcome, unhashed.steps, &unhashed.tape),
            (&unrecorded.outcome, unrecorded.steps, &unrecorded.tape),
            "seed {seed}"
        );
        assert_eq!(
            (unhashed.time_ms, unhashed.faults, unhashed.trace_hash),
            (unrecorded.time_ms, unrecorded.faults, 0),
            "seed {seed}"
        );
        distinct.insert(r.trace_hash);
        faulted += (r.faults > 0) as u32;
        let trace = r.trace.unwrap();
        let spawns_of_a = trace
            .iter()
            .flat_map(|e| &e.effects)
            .filter(
                |e| matches!(e, trace::Effect::Spawn { label: Some(l), .. } if l == "counter_a"),
            )
            .count();
        restarted += (spawns_of_a > 1) as u32;
        jumped += r.tape.choices.contains(&Choice::Jump) as u32;
    }
    assert!(faulted > 100, "faults injected in only {faulted}/300 runs");
    assert!(
        restarted > 10,
        "a supervisor restart happened in only {restarted}/300 runs"
    );
    assert!(jumped > 10, "time jumped early in only {jumped}/300 runs");
    assert!(
        distinct.len() > 200,
        "only {} distinct schedules in 300 seeds",
        distinct.len()
    );
}

#[test]
fn a_seed_replays_from_its_tape_to_the_same_trace_hash() {
    let config = workload::mixed_config();
    for seed in 0..200 {
        let first = run_seed(&config, seed, workload::mixed);
        let again = run_tape(&config, &first.tape, workload::mixed);
        assert_eq!(again.trace_hash, first.trace_hash, "seed {seed}");
        assert_eq!(
            again.tape, first.tape,
            "seed {seed}: the replayed tape is what ran"
        );
        assert_eq!(again.fallbacks, 0, "seed {seed}");
    }
}

static RUNS: AtomicU64 = AtomicU64::new(0);

/// A process whose behaviour depends on state outside the simulation (a global counter
/// that changes between runs): the self-check must catch it and name the step.
fn leaky(sim: &mut Sim) {
    let a = sim.spawn("a", |cx| async move {
        cx.recv().await;
    });
    let b = sim.spawn("b", |cx| async move {
        cx.recv().await;
    });
    sim.spawn("leaky", move |cx| async move {
        cx.send(a, 1u8).await;
        let outside = RUNS.fetch_add(1, Ordering::Relaxed);
        cx.yield_now().await;
        cx.send(if outside.is_multiple_of(2) { a } else { b }, 2u8)
            .await;
    });
}

#[test]
fn a_nondeterministic_process_is_caught_with_the_first_differing_step() {
    let d = check_seed(&Config::default(), 7, leaky).expect_err("the leak must be detected");
    assert_ne!(d.hashes.0, d.hashes.1);
    let step = d
        .step
        .expect("the traced re-runs also differ, so a step is named");
    let (x, y) = *d.events.clone();
    assert_ne!(x, y, "the named step differs");
    let text = d.to_string();
    assert!(text.contains(&format!("step {step}")), "{text}");
}

static STAMPS: AtomicU64 = AtomicU64::new(0);

/// The same schedule, the same receivers, but the *value* sent comes from outside the
/// simulation (a counter that moves between runs): only the message's contents differ.
fn leaky_value(sim: &mut Sim) {
    let sink = sim.spawn("sink", |cx| async move {
        cx.recv().await;
    });
    sim.spawn("stamper", move |cx| async move {
        cx.send(sink, STAMPS.fetch_add(1, Ordering::Relaxed)).await;
    });
}

#[test]
fn nondeterministic_message_data_is_caught_by_the_self_check() {
    let d = check_seed(&Config::default(), 0, leaky_value)
        .expect_err("the same schedule with different message values must not hash the same");
    let (x, y) = *d.events.clone();
    let (x, y) = (
        x.expect("first run's event"),
        y.expect("second run's event"),
    );
    assert_eq!(x.kind.pid(), y.kind.pid(), "same schedule: {x} / {y}");
    assert_ne!(x, y, "the events show the two values");
}

#[test]
fn deterministic_message_data_hashes_the_same_and_values_change_the_hash() {
    let send = |v: u64| {
        move |sim: &mut Sim| {
            let sink = sim.spawn("sink", |cx| async move {
                cx.recv().await;
            });
            sim.spawn("sender", move |cx| async move {
                cx.send(sink, v).await;
            });
        }
    };
    let one = run_seed(&Config::default(), 0, send(1));
    let one_again = run_seed(&Config::default(), 0, send(1));
    let two = run_seed(&Config::default(), 0, send(2));
    assert_eq!(one.trace_hash, one_again.trace_hash);
    assert_ne!(
        one.trace_hash, two.trace_hash,
        "1u64 and 2u64 must hash apart"
    );
    // Recording the full trace does not change the hash.
    let traced = run_seed(
        &Config {
            record_trace: true,
            ..Config::default()
        },
        0,
        send(1),
    );
    assert_eq!(traced.trace_hash, one.trace_hash);
}

/// A world is built from the buffers of the last one that ran on its thread
/// (`World::recycle`): nothing else may carry over. Each seed of the mixed workload
/// (faults, restarts, timers), run on a thread of its own (a fresh world), has the same
/// trace and report as run on one thread after a bigger world with a full trace, a
/// one-node world, worlds cut short by a step bound, and every other seed.
#[test]
fn a_world_built_from_a_recycled_one_runs_as_a_fresh_one() {
    let config = workload::mixed_config();
    let run = |seed: u64| {
        let mut sim = Sim::new(workload::mixed_config());
        workload::mixed(&mut sim);
        let r = sim.run(&mut RandomChooser::new(seed));
        (r.trace_hash, r.steps, r.tape.len(), r.faults, r.time_ms)
    };
    let fresh: Vec<_> = (0..40u64)
        .map(|seed| std::thread::spawn(move || run(seed)).join().unwrap())
        .collect();
    // One thread: a big world with a full trace, a one-node world, then the seeds.
    let mut big = Sim::new(Config {
        record_trace: true,
        ..workload::unbounded_config()
    });
    workload::ping_pong(&mut big, 2_000);
    assert!(big.run(&mut RandomChooser::new(7)).trace.is_some());
    drop(big);
    let mut local = Sim::new(Config {
        delivery: Delivery::Local,
        ..config.clone()
    });
    workload::mixed(&mut local);
    local.run(&mut RandomChooser::new(3));
    drop(local);
    // Cut short by a step bound: timers pending, names held, processes waiting.
    let mut cut_short = 0;
    for seed in 0..20 {
        let mut cut = Sim::new(Config {
            limits: Limits {
                steps_max: 25,
                ..config.limits
            },
            ..config.clone()
        });
        workload::mixed(&mut cut);
        let outcome = cut.run(&mut RandomChooser::new(seed)).outcome;
        cut_short += matches!(outcome, Outcome::BoundHit(_)) as u32;
    }
    assert!(cut_short >= 10, "{cut_short} of 20 cut short");
    let reused: Vec<_> = (0..40u64).map(run).collect();
    assert_eq!(fresh, reused);
    assert!(fresh.iter().any(|r| r.3 > 0), "some seeds inject faults");
}

/// The last events of a run that keeps no full trace carry no effects, even when the
/// world before it on the thread kept them (its ring of recent events is reused).
#[test]
fn an_unrecorded_run_after_a_recorded_one_reports_no_effects() {
    let mut recorded = Sim::new(Config {
        record_trace: true,
        ..workload::unbounded_config()
    });
    workload::ping_pong(&mut recorded, 100);
    let r = recorded.run(&mut RandomChooser::new(7));
    assert!(
        r.recent.iter().filter(|e| !e.effects.is_empty()).count() > 10,
        "a recorded run's last events carry its effects"
    );
    drop(recorded);
    let mut cut = Sim::new(Config {
        limits: Limits {
            steps_max: 10,
            ..Limits::default()
        },
        ..Config::default()
    });
    workload::ping_pong(&mut cut, 100);
    let r = cut.run(&mut RandomChooser::new(7));
    assert!(matches!(r.outcome, Outcome::BoundHit(_)), "{:?}", r.outcome);
    assert_eq!(r.recent.len(), 10);
    for e in &r.recent {
        assert!(e.effects.is_empty(), "step {} kept {:?}", e.step, e.effects);
    }
}
