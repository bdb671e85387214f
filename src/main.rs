//! The `fsim` command line.

use clap::{Parser, Subcommand};
use fsim::sim::determinism::check_seed;
use fsim::sim::{Config, RandomChooser, Sim};
use fsim::workload;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "fsim",
    version,
    about = "Deterministic simulation testing for OTP-style actor systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The CI gate: runs the built-in workloads over a seed budget, checking that every
    /// run ends cleanly and replays to the same trace hash. Exits 1 on any failure.
    Check {
        /// Seeds per workload.
        #[arg(long, default_value_t = 10_000)]
        seeds: u64,
    },
    /// Measures the kernel: ping-pong, a three-actor model over many seeds, spawn churn.
    Bench {
        /// Ping-pong messages.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Seeds of the three-actor model.
        #[arg(long, default_value_t = 100_000)]
        seeds: u64,
        /// Children spawned (and exited) one after another.
        #[arg(long, default_value_t = 100_000)]
        children: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { seeds } => check(seeds),
        Command::Bench {
            messages,
            seeds,
            children,
        } => {
            bench(messages, seeds, children);
            ExitCode::SUCCESS
        }
    }
}

fn check(seeds: u64) -> ExitCode {
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

fn bench(messages: u64, seeds: u64, n: u32) {
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
