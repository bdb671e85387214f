use fsim::sim::*;
use std::time::Instant;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut cfg = Config::default();
    cfg.limits.steps_max = u32::MAX;
    let mut sim = Sim::new(cfg);
    let ponger = sim.spawn("pong", move |cx| async move {
        loop {
            let env = cx.recv().await;
            let from = env.from;
            let v: u64 = env.downcast().unwrap();
            cx.send(from, v + 1);
            if v + 1 >= n {
                break;
            }
        }
    });
    sim.spawn("ping", move |cx| async move {
        cx.send(ponger, 0u64);
        loop {
            let v: u64 = cx.recv().await.downcast().unwrap();
            if v + 1 >= n {
                break;
            }
            cx.send(ponger, v + 1);
        }
    });
    let t = Instant::now();
    let r = sim.run(&mut RandomChooser::new(1));
    let dt = t.elapsed().as_secs_f64();
    println!(
        "{:?} steps={} tape={} {:.1}M steps/s {:.2}M msgs/s",
        r.outcome,
        r.steps,
        r.tape.len(),
        r.steps as f64 / dt / 1e6,
        n as f64 / dt / 1e6
    );
}
