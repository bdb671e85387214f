//! The side-by-side benchmark: the same workloads on fsim, shuttle, loom and madsim,
//! measured in one run on one machine, printed as one table with the ratio fsim/peer.
//! `cargo run --release` here (see README.md). `--quick` runs smaller sizes, to check
//! that everything builds and runs.

mod fsim_side;
mod loom_side;
mod shuttle_side;

use clap::Parser;
use fsim::explore::Strategy;
use fsim::workload::RaceCrash;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Subscribe requests the race's server handles.
pub const K: u32 = 3;
/// Executions at most per seed (and per exhaustive search) in the race.
pub const LIMIT: u64 = 10_000;

/// The subscribe race for a thread-based checker (shuttle, loom: both mirror std's
/// `sync` and `thread`). The server handles `K` requests in two steps each: record the
/// monitor, then add the subscriber. The fault thread does `m` unrelated steps (atomic
/// increments of its own counter), then crashes the server: it sets a flag the server
/// checks at each of its steps, so the crash lands between two steps and loses only what
/// was not done yet. The main thread checks monitors == subscribers at the end.
#[macro_export]
macro_rules! subscribe_race_program {
    ($lib:ident) => {
        static EXECUTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

        /// Runs `check` (which runs `race_body` until it panics or is done): the
        /// executions up to the first failure, `None` if none failed.
        fn executions_to_failure(check: impl FnOnce()) -> Option<u64> {
            use std::sync::atomic::Ordering::Relaxed;
            EXECUTIONS.store(0, Relaxed);
            let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).is_err();
            failed.then(|| EXECUTIONS.load(Relaxed))
        }

        fn race_body(m: u32) {
            use $lib::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
            use $lib::sync::{Arc, Mutex, mpsc};
            use $lib::thread;
            EXECUTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let monitors = Arc::new(Mutex::new(Vec::new()));
            let subscribers = Arc::new(Mutex::new(Vec::new()));
            let crashed = Arc::new(AtomicBool::new(false));
            let (tx, rx) = mpsc::channel::<u32>();
            let server = {
                let (monitors, subscribers, crashed) =
                    (monitors.clone(), subscribers.clone(), crashed.clone());
                thread::spawn(move || {
                    for _ in 0..$crate::K {
                        let Ok(id) = rx.recv() else { return };
                        if crashed.load(Ordering::SeqCst) {
                            return;
                        }
                        monitors.lock().unwrap().push(id);
                        if crashed.load(Ordering::SeqCst) {
                            return;
                        }
                        subscribers.lock().unwrap().push(id);
                    }
                })
            };
            let client = thread::spawn(move || {
                for id in 0..$crate::K {
                    let _ = tx.send(id);
                }
            });
            let fault = thread::spawn(move || {
                let work = AtomicUsize::new(0);
                for _ in 0..m {
                    work.fetch_add(1, Ordering::SeqCst);
                }
                crashed.store(true, Ordering::SeqCst);
            });
            for h in [server, client, fault] {
                h.join().unwrap();
            }
            let (m, s) = (monitors.lock().unwrap(), subscribers.lock().unwrap());
            assert_eq!(*m, *s, "monitors == subscribers");
        }
    };
}

/// A throughput measurement: elapsed time, decisions made, and units of work (messages or
/// executions).
#[derive(Clone, Copy, Debug)]
pub struct Throughput {
    secs: f64,
    decisions: u64,
    units: u64,
}

impl Throughput {
    fn new(started: Instant, decisions: u64, units: u64) -> Self {
        Throughput {
            secs: started.elapsed().as_secs_f64(),
            decisions,
            units,
        }
    }
    fn decisions_per_s(&self) -> f64 {
        self.decisions as f64 / self.secs
    }
    fn units_per_s(&self) -> f64 {
        self.units as f64 / self.secs
    }
}

/// Best (shortest) of `n` rounds for each measurement, taken in turn (a, b, c, a, b, c,
/// ...), so that a slow spell of a noisy machine falls on every side alike.
fn best_of<const N: usize>(n: usize, fs: [&dyn Fn() -> Throughput; N]) -> [Throughput; N] {
    best_of_all(n, &fs)
        .try_into()
        .unwrap_or_else(|_| unreachable!("one figure per measurement"))
}

/// [`best_of`] for a number of measurements known only at run time.
fn best_of_all(n: usize, fs: &[impl Fn() -> Throughput]) -> Vec<Throughput> {
    let mut best: Vec<Option<Throughput>> = vec![None; fs.len()];
    for _ in 0..n {
        for (f, b) in fs.iter().zip(best.iter_mut()) {
            let t = f();
            if b.is_none_or(|b| t.secs < b.secs) {
                *b = Some(t);
            }
        }
    }
    best.into_iter().map(|b| b.expect("n > 0")).collect()
}

/// Seeds per figure of the crash race: 20, or `PEERS_SEEDS` (a median of 20 moves by a
/// run or two from one set of seeds to the next; 200 settles it).
fn race_seeds() -> u64 {
    std::env::var("PEERS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20)
}

/// Executions to the first failure: one figure per seed (`None`: not within `LIMIT`).
#[derive(Clone, Debug)]
pub struct Found(Vec<Option<u64>>);

impl Found {
    /// Seeds 1..=N (N = `race_seeds()`); `f(seed, limit)` gives the executions to the
    /// first failure.
    fn over_seeds(mut f: impl FnMut(u64, u64) -> Option<u64>) -> Self {
        Found((1..=race_seeds()).map(|seed| f(seed, LIMIT)).collect())
    }
    fn exact(n: Option<u64>) -> Self {
        Found(vec![n])
    }
    /// The median, a miss counting as more than any figure.
    fn median(&self) -> Option<u64> {
        let mut v: Vec<u64> = self.0.iter().map(|n| n.unwrap_or(u64::MAX)).collect();
        v.sort_unstable();
        Some(v[(v.len() - 1) / 2]).filter(|n| *n != u64::MAX)
    }
    fn text(&self) -> String {
        let show = |n: Option<u64>| n.map_or(format!(">{LIMIT}"), |n| n.to_string());
        if self.0.len() == 1 {
            return show(self.0[0]);
        }
        let min = self.0.iter().map(|n| n.unwrap_or(u64::MAX)).min();
        let max = self.0.iter().map(|n| n.unwrap_or(u64::MAX)).max();
        let missed = self.0.iter().filter(|n| n.is_none()).count();
        let as_opt = |n: Option<u64>| n.filter(|n| *n != u64::MAX);
        let mut s = format!(
            "{} ({}..{})",
            show(self.median()),
            show(as_opt(min)),
            show(as_opt(max))
        );
        if missed > 0 {
            s += &format!(", {missed}/{} missed", self.0.len());
        }
        s
    }
}

/// One line of the table.
struct Row {
    workload: String,
    measure: String,
    fsim: String,
    peer: String,
    peer_figure: String,
    /// fsim/peer: for throughput, fsim's figure over the peer's; for executions to a
    /// failure, the peer's median over fsim's (so that above 1 means fsim is better).
    ratio: Option<f64>,
}

impl Row {
    /// A throughput row: `rate` of fsim's measurement against the peer's.
    fn rate(
        workload: &str,
        measure: &str,
        peer: &str,
        fsim: Throughput,
        theirs: Throughput,
        rate: fn(&Throughput) -> f64,
    ) -> Row {
        Row {
            workload: workload.into(),
            measure: measure.into(),
            fsim: si(rate(&fsim)),
            peer: peer.into(),
            peer_figure: si(rate(&theirs)),
            ratio: Some(rate(&fsim) / rate(&theirs)),
        }
    }
}

fn ratio_text(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// Runs the madsim crate (built under `--cfg madsim` by its own `.cargo/config.toml`,
/// which applies because cargo runs in its folder) and reads its one-line JSON result.
fn madsim(dir: &Path, workload: &str, n: u64) -> Throughput {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "run",
            "--release",
            "--quiet",
            "--",
            workload,
            &n.to_string(),
        ])
        .current_dir(dir)
        // Flags from the environment would replace the config's `--cfg madsim`.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "madsim run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("madsim prints JSON");
    Throughput {
        secs: v["secs"].as_f64().expect("secs"),
        decisions: v["decisions"].as_u64().expect("decisions"),
        units: v["n"].as_u64().expect("n"),
    }
}

/// The side-by-side benchmark: the same workloads on fsim, shuttle, loom and madsim, in
/// one run, printed as one table (see README.md).
#[derive(clap::Parser)]
struct Args {
    /// Smaller sizes: a check that every workload runs on every peer (its figures are not
    /// the benchmark's).
    #[arg(long)]
    quick: bool,
    /// Only this workload (repeatable): 1 ping-pong, 2 the timer ring, 3 the crash race, 4
    /// fsim's --jobs curve.
    #[arg(long = "part", value_name = "N", value_parser = clap::value_parser!(u8).range(1..=4))]
    parts: Vec<u8>,
    /// Instead: fsim's side of one workload alone, for a profiler.
    #[arg(long, value_enum, conflicts_with_all = ["quick", "parts"])]
    profile: Option<Profiled>,
    /// With --profile: messages (ping_pong, default 5,000,000) or seeds (ring, default
    /// 200,000).
    #[arg(long, requires = "profile", value_parser = clap::value_parser!(u64).range(1..))]
    size: Option<u64>,
}

/// A workload `--profile` runs.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Profiled {
    /// Ping-pong on one node.
    #[value(name = "ping_pong")]
    PingPong,
    /// The ring of 3 actors with timers.
    Ring,
}

fn main() {
    let args = Args::parse();
    if let Some(workload) = args.profile {
        let t = match workload {
            Profiled::PingPong => fsim_side::ping_pong(args.size.unwrap_or(5_000_000)),
            Profiled::Ring => fsim_side::ring(args.size.unwrap_or(200_000)),
        };
        println!(
            "{:.0} units/s, {:.0} decisions/s",
            t.units_per_s(),
            t.decisions_per_s()
        );
        return;
    }
    let quick = args.quick;
    let part = |n: u8| args.parts.is_empty() || args.parts.contains(&n);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let madsim_dir = root.join("madsim");
    let reps = if quick { 1 } else { 5 };
    let mut rows: Vec<Row> = Vec::new();

    // 1. Ping-pong.
    for n in [10_000u64, 1_000_000].into_iter().filter(|_| part(1)) {
        eprintln!("ping-pong {n}");
        let [f, d, s, m] = best_of(
            reps,
            [
                &|| fsim_side::ping_pong(n),
                &|| fsim_side::ping_pong_between_nodes(n),
                &|| shuttle_side::ping_pong(n),
                &|| madsim(&madsim_dir, "ping_pong", n),
            ],
        );
        // fsim's default delivery model (one node), then between nodes, where a message
        // costs a decision more (its delivery step).
        for (model, f) in [("", f), (", between nodes", d)] {
            let workload = format!("1. ping-pong, {n} msgs{model}");
            for (peer, p) in [("shuttle", s), ("madsim", m)] {
                let decisions = Throughput::decisions_per_s;
                rows.push(Row::rate(&workload, "decisions/s", peer, f, p, decisions));
                rows.push(Row::rate(
                    &workload,
                    "msgs/s",
                    peer,
                    f,
                    p,
                    Throughput::units_per_s,
                ));
            }
        }
    }

    // 2. The tiny model: 3 actors, 20 messages, timers.
    if part(2) {
        eprintln!("ring");
        let execs = if quick { 2_000 } else { 50_000 };
        let [f, fs, s, m] = best_of(
            reps,
            [
                &|| fsim_side::ring(execs),
                &|| fsim_side::ring_as_sweep(execs),
                &|| shuttle_side::ring(execs),
                &|| madsim(&madsim_dir, "ring", execs),
            ],
        );
        assert_eq!(f.decisions, fs.decisions, "a sweep runs the same seeds");
        for (workload, f) in [
            ("2. 3 actors x 20 msgs + timers", f),
            ("2. 3 actors x 20 msgs + timers, as fsim run sweeps it", fs),
        ] {
            for (peer, p, what) in [
                ("shuttle", s, "executions/s"),
                ("madsim", m, "seeds/s (fresh runtime each)"),
            ] {
                rows.push(Row::rate(
                    workload,
                    what,
                    peer,
                    f,
                    p,
                    Throughput::units_per_s,
                ));
            }
        }
    }

    // 3. The crash-between-two-steps race. Each failure a peer finds is a panic of the
    // race's assertion; those are expected and not printed (shuttle's own hook, which
    // would print them, is installed by its first run and replaced here).
    if part(3) {
        shuttle_side::install_hook();
        std::panic::set_hook(Box::new(|info| {
            if !info
                .payload_as_str()
                .is_some_and(|t| t.contains("monitors == subscribers"))
            {
                eprintln!("{info}");
            }
        }));
    }
    for m in [0u32, 20, 40].into_iter().filter(|_| part(3)) {
        eprintln!("race M={m}");
        let loom = loom_side::race(m);
        let shuttle_random = shuttle_side::race_random(m);
        let shuttle_pct = shuttle_side::race_pct(m, 3);
        let fsim_rows = [
            (
                "fsim random",
                fsim_side::race(m, RaceCrash::Fault, Strategy::Random),
                "shuttle random",
                shuttle_random.clone(),
            ),
            (
                "fsim pct:3",
                fsim_side::race(m, RaceCrash::Fault, Strategy::Pct { depth: 3 }),
                "shuttle pct:3",
                shuttle_pct.clone(),
            ),
            (
                "fsim exhaustive",
                fsim_side::race_exhaustive(m, RaceCrash::Fault),
                "loom",
                loom.clone(),
            ),
            (
                "fsim random, crash by the actor",
                fsim_side::race(m, RaceCrash::Actor, Strategy::Random),
                "shuttle random",
                shuttle_random,
            ),
            (
                "fsim pct:3, crash by the actor",
                fsim_side::race(m, RaceCrash::Actor, Strategy::Pct { depth: 3 }),
                "shuttle pct:3",
                shuttle_pct,
            ),
            (
                "fsim exhaustive, crash by the actor",
                fsim_side::race_exhaustive(m, RaceCrash::Actor),
                "loom",
                loom,
            ),
        ];
        for (name, f, peer, p) in fsim_rows {
            rows.push(Row {
                workload: format!("3. crash race, M={m}"),
                measure: format!("executions to failure: {name}"),
                fsim: f.text(),
                peer: peer.into(),
                peer_figure: p.text(),
                ratio: match (f.median(), p.median()) {
                    (Some(f), Some(p)) => Some(p as f64 / f as f64),
                    _ => None,
                },
            });
        }
    }

    // 4. fsim alone: --jobs N against --jobs 1 on the smallest Foundation scenario, for
    // N = 2, 4, 8, ... up to the cores this machine has (at least 2): the scaling curve.
    if part(4) {
        let scenario = fsim_side::smallest_scenario(&root.join("../sim-scenarios"));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let jobs: Vec<usize> = std::iter::successors(Some(2usize), |j| Some(j * 2))
            .take_while(|j| *j <= cores)
            .collect();
        eprintln!("jobs: {} on {cores} cores", scenario.name);
        let seeds = if quick { 500 } else { 20_000 };
        // `--jobs 1` is measured once, in the same rounds as every N.
        let sweeps: Vec<_> = std::iter::once(1)
            .chain(jobs.iter().copied())
            .map(|n| {
                let scenario = &scenario;
                move || fsim_side::sweep(scenario, seeds, n)
            })
            .collect();
        let figures = best_of_all(reps, &sweeps);
        for (n, many) in jobs.iter().zip(&figures[1..]) {
            rows.push(Row::rate(
                &format!("4. {} ({seeds} seeds, {cores} cores)", scenario.name),
                &format!("seeds/s, --jobs {n} vs --jobs 1"),
                "fsim --jobs 1",
                *many,
                figures[0],
                Throughput::units_per_s,
            ));
        }
    }

    println!("| workload | measure | fsim | peer | peer's figure | fsim/peer |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.workload,
            r.measure,
            r.fsim,
            r.peer,
            r.peer_figure,
            ratio_text(r.ratio)
        );
    }
}
