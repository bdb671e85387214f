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
        distinct.len() > 250,
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
        cx.send(a, 1u8);
        let outside = RUNS.fetch_add(1, Ordering::Relaxed);
        cx.yield_now().await;
        cx.send(if outside.is_multiple_of(2) { a } else { b }, 2u8);
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
