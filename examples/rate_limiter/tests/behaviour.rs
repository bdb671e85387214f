//! The rate limiter's required behaviour, through `fsim::test`: the flawed variant is a
//! race (it passes the default schedule, random schedules find it fast, and only through
//! `never_over_limit`); the fixed variant passes 10,000 random schedules, and passes them
//! by limiting.

use fsim::check::{When, invariant};
use fsim::scenario::{Judgement, Scenario};
use fsim::sim::{DefaultChooser, Outcome, Sim};
use fsim::testing::Test;
use rate_limiter::{LIMITER, Limiter, NEVER_OVER_LIMIT, Params, Variant, build, faults};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

fn params(variant: Variant) -> Params {
    Params {
        variant,
        ..Params::default()
    }
}

/// The world of `variant`: its processes and its invariant.
fn world(variant: Variant) -> impl Fn(&mut Sim) + Send + Sync + 'static {
    let p = params(variant);
    move |sim| build(sim, &p)
}

/// A test of `variant` with the system's fault menu (none: the race needs no fault).
#[track_caller]
fn test_of(variant: Variant) -> Test {
    fsim::test(world(variant)).faults(faults(&params(variant)))
}

/// The default schedule (lowest pid first, no fault) of `variant`.
fn default_run(variant: Variant) -> Outcome {
    Scenario::new("default", world(variant))
        .with_faults(faults(&params(variant)))
        .run_chooser(&mut DefaultChooser)
        .outcome
}

#[test]
fn flawed_passes_the_default_schedule() {
    assert_eq!(default_run(Variant::Flawed), Outcome::Quiescent);
}

#[test]
fn fixed_passes_the_default_schedule() {
    assert_eq!(default_run(Variant::Fixed), Outcome::Quiescent);
}

#[test]
fn flawed_is_found_by_random_schedules_within_a_few_runs() {
    let mut runs = Vec::new();
    let mut shrunk = Vec::new();
    for base in 0..20u64 {
        let found = test_of(Variant::Flawed)
            .expect_violation(NEVER_OVER_LIMIT)
            .seed(base << 32)
            .runs(1_000)
            .check()
            .found
            .expect("a test expecting a violation that passes has found it");
        runs.push(found.runs);
        shrunk.push((
            found.shrunk.steps,
            found.shrunk.faults,
            found.shrunk.deviations,
        ));
    }
    let mut sorted = runs.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    eprintln!(
        "rate_limiter flawed: runs to first violation over 20 bases: {runs:?}, median {median}; \
         shrunk (steps, faults, deviations): {shrunk:?}"
    );
    assert!(
        median <= 20,
        "median {median} runs to the first violation: {runs:?}"
    );
}

#[test]
fn flawed_needs_one_deviation_from_the_default_schedule() {
    // The default schedule passes (the search is complete)...
    let (runs, complete) = test_of(Variant::Flawed).check_exhaustive(0);
    assert!(complete, "{runs} schedules, incomplete");
    // ... and one deviation suffices: a client preempted between its check and its
    // increment (a call is a scheduling point), the other client passing its own check.
    let (found_after, _) = test_of(Variant::Flawed)
        .expect_violation(NEVER_OVER_LIMIT)
        .check_exhaustive(1);
    eprintln!(
        "rate_limiter flawed: the default schedule passes; found within 1 deviation after {found_after}"
    );
}

#[test]
fn fixed_passes_every_schedule_within_two_deviations() {
    let (runs, complete) = test_of(Variant::Fixed).check_exhaustive(2);
    assert!(complete, "{runs} schedules, incomplete");
}

#[test]
fn flawed_fails_only_with_never_over_limit() {
    // `check` stops at the first failure; to see that no seed fails any other way, run the
    // test's scenario seed by seed and judge each run against what it expects.
    let test = test_of(Variant::Flawed).expect_violation(NEVER_OVER_LIMIT);
    let s = test.scenario();
    let mut found = 0;
    for seed in 0..2_000 {
        let r = s.run_seed(seed);
        match s.judge(&r.outcome) {
            Judgement::Found => found += 1,
            Judgement::Passed => {}
            Judgement::Unexpected => panic!("seed {seed}: unexpected outcome {:?}", r.outcome),
        }
    }
    eprintln!("rate_limiter flawed: {found} of 2000 seeds violate {NEVER_OVER_LIMIT}");
    assert!(found > 0);
}

#[test]
fn fixed_passes_10000_seeds() {
    let t = std::time::Instant::now();
    let checked = test_of(Variant::Fixed).runs(10_000).check();
    eprintln!(
        "rate_limiter fixed: {} seeds, {} steps, in {:?}",
        checked.runs,
        checked.steps,
        t.elapsed()
    );
    assert_eq!(checked.runs, 10_000);
    assert!(checked.found.is_none());
}

#[test]
fn fixed_fills_windows_to_the_limit_and_opens_new_ones() {
    // Counted over every run: runs, runs that filled a window, runs with a second window.
    let counts = Arc::new([AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)]);
    let c = counts.clone();
    let limit = params(Variant::Fixed).limit;
    let fixed = world(Variant::Fixed);
    fsim::test(move |sim: &mut Sim| {
        fixed(sim);
        // Watch the limiter's windows while it runs (it is stopped at the end), and count
        // what was seen when the run ends.
        let seen = std::rc::Rc::new(std::cell::Cell::new((0u32, 0usize)));
        let watch = seen.clone();
        sim.invariant(invariant("watch_windows", When::Always, move |w| {
            if let Some(pid) = w.whereis(LIMITER)
                && let Some((max, n)) = w.with_state::<Limiter, _>(pid, |l| {
                    let max = l.windows().iter().map(|x| x.grants).max().unwrap_or(0);
                    (max, l.windows().len())
                })
            {
                let (m0, n0) = watch.get();
                watch.set((m0.max(max), n0.max(n)));
            }
            Ok(())
        }));
        let c = c.clone();
        sim.invariant(invariant("count_windows", When::End, move |_| {
            let (max, windows) = seen.get();
            c[0].fetch_add(1, Ordering::Relaxed);
            c[1].fetch_add((max == limit) as u32, Ordering::Relaxed);
            c[2].fetch_add((windows > 1) as u32, Ordering::Relaxed);
            Ok(())
        }));
    })
    .runs(500)
    .check();
    let [runs, full, several] = counts
        .as_ref()
        .each_ref()
        .map(|a| a.load(Ordering::Relaxed));
    eprintln!(
        "rate_limiter fixed: of {runs} runs, {full} filled a window, {several} opened a second"
    );
    // The fixed variant must pass by limiting, not because nothing reaches the limit.
    assert!(runs >= 500, "{runs}");
    assert!(
        full * 2 >= runs,
        "only {full} of {runs} runs filled a window"
    );
    assert!(
        several * 10 >= runs,
        "only {several} of {runs} runs opened a second window"
    );
}

#[test]
fn a_violation_names_the_window() {
    let found = test_of(Variant::Flawed)
        .expect_violation(NEVER_OVER_LIMIT)
        .runs(100)
        .check()
        .found
        .expect("found");
    let Outcome::Violation(v) = &found.shrunk.outcome else {
        panic!("{:?}", found.shrunk.outcome)
    };
    eprintln!("{v}");
    assert!(
        v.message.contains("granted 4 requests, limit 3"),
        "{}",
        v.message
    );
}

/// The regression file `fsim-regressions/flawed_variant_regression.json` was written by
/// this test when it ran the flawed variant expecting a pass: `check` found the race,
/// shrank it and wrote the file. It is checked in; these tests hold it to what it records.
fn regression_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fsim-regressions")
        .join("flawed_variant_regression.json")
}

/// The text of the panic `f` must raise.
fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("it must fail");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn flawed_variant_regression() {
    // Replayed on the flawed variant, the recorded schedule still overshoots the limit.
    let file = regression_file();
    let text = panic_text(|| test_of(Variant::Flawed).replay(&file));
    assert!(
        text.contains("replays to a failure") && text.contains(NEVER_OVER_LIMIT),
        "{text}"
    );
    // And `check` under the test's name replays it first and fails on it, before any seed.
    let text = panic_text(|| {
        test_of(Variant::Flawed)
            .name("flawed_variant_regression")
            .runs(1)
            .check();
    });
    assert!(
        text.contains("still fails its recorded regression") && text.contains(NEVER_OVER_LIMIT),
        "{text}"
    );
}

#[test]
fn flawed_variant_regression_passes_on_the_fixed_variant() {
    test_of(Variant::Fixed).replay(&regression_file());
}
