//! The determinism self-check of `fsim check`, and `fsim bench`.

use super::*;

/// The determinism self-check of `fsim check`: fsim's own mixed workload over `seeds`
/// seeds, then each of `scenarios` (the user's systems) over `per_scenario` seeds, every
/// run twice, the trace hashes compared.
pub(super) fn check_determinism(seeds: u64, scenarios: &[Scenario], per_scenario: u64) -> ExitCode {
    let mut code = check(seeds);
    let started = Instant::now();
    let mut runs = 0u64;
    let mut diverged = 0u64;
    for s in scenarios {
        for seed in 0..per_scenario {
            let a = s.run_seed(seed);
            let b = s.run_seed(seed);
            runs += 1;
            if a.trace_hash != b.trace_hash || a.tape != b.tape {
                diverged += 1;
                eprintln!(
                    "{}: seed {seed} is not deterministic: trace hashes {:016x} and {:016x}; \
                     something outside the simulation (a HashMap's order, the clock, a global) \
                     leaks into the system",
                    s.name, a.trace_hash, b.trace_hash
                );
                break;
            }
        }
    }
    println!(
        "scenarios: {} scenario(s) x {per_scenario} seeds run twice, {runs} runs, {diverged} not deterministic ({:.1} s)",
        scenarios.len(),
        started.elapsed().as_secs_f64()
    );
    if diverged > 0 {
        code = ExitCode::from(1);
    }
    code
}

pub(super) fn check(seeds: u64) -> ExitCode {
    let config = workload::mixed_config();
    let started = Instant::now();
    let mut failures = 0u64;
    let mut steps = 0u64;
    for seed in 0..seeds {
        match check_seed(&config, seed, workload::mixed) {
            Ok(r) => {
                steps += r.steps as u64;
                if r.outcome.is_failure() {
                    failures += 1;
                    eprintln!("seed {seed}: {:?}", r.outcome);
                    for e in &r.recent {
                        eprintln!("  {e}");
                    }
                }
            }
            Err(d) => {
                failures += 1;
                eprintln!("{d}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "mixed workload: {seeds} seeds checked twice for determinism, {steps} steps, {failures} failures ({secs:.1} s)"
    );
    println!("{} passed, {} failed", seeds - failures, failures);
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub(super) fn bench_explore() {
    use crate::sim::Outcome;
    println!(
        "| unrelated pairs x messages | decisions | exhaustive (runs) | pct:2 (median runs) | pos | random |"
    );
    println!("|---|---|---|---|---|---|");
    for (pairs, work) in [(0u32, 0u32), (2, 10), (8, 10), (8, 100), (32, 100)] {
        let config = workload::planted_config("writer");
        let run = |c: &mut dyn crate::sim::Chooser| {
            let mut sim = Sim::new(config.clone());
            workload::crash_between_steps(&mut sim, pairs, work);
            sim.run(c)
        };
        let shape = explore::strategy::Shape::measure(1, run);
        let decisions = shape.decisions;
        let found = |r: &crate::sim::RunReport| matches!(r.outcome, Outcome::Violation(_));
        let ex = exhaustive::search(
            run,
            found,
            exhaustive::Bound {
                deviations: 1,
                max_runs: 1_000_000,
            },
        );
        let median_runs = |st: Strategy| {
            let mut v: Vec<u64> = (0..20u64)
                .map(|base| {
                    explore::runs_to_failure(run, found, st, shape, base, 5_000)
                        .map_or(u64::MAX, |(n, _)| n)
                })
                .collect();
            v.sort();
            match v[10] {
                u64::MAX => "> 5000".to_string(),
                n => n.to_string(),
            }
        };
        println!(
            "| {pairs} x {work} | {decisions} | {} | {} | {} | {} |",
            ex.runs,
            median_runs(Strategy::Pct { depth: 2 }),
            median_runs(Strategy::Pos),
            median_runs(Strategy::Random)
        );
    }
}

pub(super) fn bench(messages: u64, seeds: u64, n: u32) {
    let t = Instant::now();
    let mut sim = Sim::new(workload::unbounded_config());
    workload::ping_pong(&mut sim, messages);
    let r = sim.run(&mut RandomChooser::new(1));
    let s = t.elapsed().as_secs_f64();
    println!(
        "ping_pong {messages} msgs: {} decisions in {s:.3} s = {:.2}M decisions/s, {:.2}M msgs/s",
        r.steps,
        r.steps as f64 / s / 1e6,
        messages as f64 / s / 1e6
    );
    let t = Instant::now();
    let mut steps = 0u64;
    let config = Config::default();
    for seed in 0..seeds {
        let mut sim = Sim::new(config.clone());
        workload::three_actors(&mut sim);
        steps += sim.run(&mut RandomChooser::new(seed)).steps as u64;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "three_actors: {seeds} executions in {s:.3} s = {:.0}k executions/s ({:.1} decisions each)",
        seeds as f64 / s / 1e3,
        steps as f64 / seeds as f64
    );
    let t = Instant::now();
    let mut sim = Sim::new(workload::unbounded_config());
    workload::churn(&mut sim, n);
    let r = sim.run(&mut RandomChooser::new(1));
    let s = t.elapsed().as_secs_f64();
    println!(
        "spawn_exit_churn: {n} children in {s:.3} s = {:.2}M spawn+exit/s ({} decisions, {:?})",
        n as f64 / s / 1e6,
        r.steps,
        r.outcome
    );
}

/// `fsim bench --dpor`: programs of Concuerror's DPOR test suite, each with the runs
/// fsim's exhaustive search (no bound on deviations) needs to complete beside the
/// interleavings Concuerror explores (M), and the outcomes the runs showed.
pub(super) fn bench_dpor() {
    bench_dpor::print_table(bench_dpor::BENCH_MAX_RUNS);
}
