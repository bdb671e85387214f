//! Kernel benchmarks: ping-pong (decisions/s, msgs/s), a ~20-decision three-actor model
//! over many seeds (executions/s), and spawn/exit churn. Targets (issue 2): >= 20M
//! decisions/s on ping-pong and >= 500k executions/s on the small model, on 2 cores.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fsim::sim::{Config, RandomChooser, Sim};
use fsim::workload;
use std::hint::black_box;
use std::time::Duration;

fn steps_of(setup: impl Fn(&mut Sim)) -> u64 {
    let mut sim = Sim::new(workload::unbounded_config());
    setup(&mut sim);
    sim.run(&mut RandomChooser::new(0)).steps as u64
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping_pong");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for n in [10_000u64, 1_000_000] {
        // Throughput in scheduling decisions (steps); msgs/s = decisions/s / 2.
        g.throughput(Throughput::Elements(steps_of(|s| {
            workload::ping_pong(s, n)
        })));
        g.bench_function(format!("{n}_msgs"), |b| {
            b.iter(|| {
                let mut sim = Sim::new(workload::unbounded_config());
                workload::ping_pong(&mut sim, n);
                black_box(sim.run(&mut RandomChooser::new(1)).steps)
            })
        });
    }
    g.finish();
}

fn small_model(c: &mut Criterion) {
    let mut g = c.benchmark_group("three_actors");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    const SEEDS: u64 = 100_000;
    g.throughput(Throughput::Elements(SEEDS));
    g.bench_function("100000_seeds", |b| {
        b.iter(|| {
            let config = Config::default();
            let mut total = 0u64;
            for seed in 0..SEEDS {
                let mut sim = Sim::new(config.clone());
                workload::three_actors(&mut sim);
                total += sim.run(&mut RandomChooser::new(seed)).steps as u64;
            }
            black_box(total)
        })
    });
    g.finish();
}

fn churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_exit_churn");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    const N: u32 = 10_000;
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("10000_children", |b| {
        b.iter(|| {
            let mut sim = Sim::new(workload::unbounded_config());
            workload::churn(&mut sim, N);
            black_box(sim.run(&mut RandomChooser::new(1)).steps)
        })
    });
    g.finish();
}

criterion_group!(benches, ping_pong, small_model, churn);
criterion_main!(benches);
