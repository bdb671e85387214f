//! shuttle's side. A decision is one call of the scheduler's `next_task`, counted by a
//! wrapper around shuttle's own scheduler.

use crate::{Found, Throughput};
use shuttle::scheduler::{PctScheduler, RandomScheduler, Schedule, Scheduler, Task, TaskId};
use shuttle::sync::mpsc;
use shuttle::{Config, MaxSteps, Runner, thread};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

static DECISIONS: AtomicU64 = AtomicU64::new(0);

/// Counts the decisions of the scheduler it wraps.
#[derive(Debug)]
struct Counting<S>(S);

impl<S: Scheduler> Scheduler for Counting<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.0.new_execution()
    }
    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        DECISIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.0.next_task(runnable, current, is_yielding)
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

fn config() -> Config {
    let mut c = Config::new();
    c.max_steps = MaxSteps::None;
    c.failure_persistence = shuttle::FailurePersistence::None;
    c
}

fn counted_run(iterations: usize, f: impl Fn() + Send + Sync + 'static) -> (Instant, u64) {
    DECISIONS.store(0, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let scheduler = Counting(RandomScheduler::new_from_seed(1, iterations));
    Runner::new(scheduler, config()).run(f);
    (
        started,
        DECISIONS.load(std::sync::atomic::Ordering::Relaxed),
    )
}

/// Two threads pass a counter over shuttle's channels until `n` messages are sent.
pub fn ping_pong(n: u64) -> Throughput {
    let (started, decisions) = counted_run(1, move || {
        let (to_pong, pong_rx) = mpsc::channel::<u64>();
        let (to_ping, ping_rx) = mpsc::channel::<u64>();
        let pong = thread::spawn(move || {
            while let Ok(v) = pong_rx.recv() {
                let _ = to_ping.send(v + 1);
                if v + 1 >= n {
                    break;
                }
            }
        });
        let _ = to_pong.send(0);
        while let Ok(v) = ping_rx.recv() {
            if v + 1 >= n {
                break;
            }
            let _ = to_pong.send(v + 1);
        }
        drop(to_pong);
        pong.join().unwrap();
    });
    Throughput::new(started, decisions, n)
}

/// The ring of 3 threads passing 20 messages; shuttle has no clock, so each timer is
/// `thread::sleep`, which shuttle turns into a context switch.
pub fn ring(executions: u64) -> Throughput {
    let (started, decisions) = counted_run(executions as usize, || {
        let actors = 3u32;
        let messages = 20u32;
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..actors).map(|_| mpsc::channel::<u32>()).unzip();
        let mut handles = Vec::new();
        for (i, rx) in rxs.into_iter().enumerate() {
            let i = i as u32;
            let next = txs[((i + 1) % actors) as usize].clone();
            let mine = (1..=messages).filter(|v| v % actors == i).count();
            handles.push(thread::spawn(move || {
                if i == 0 {
                    let _ = next.send(1);
                }
                for _ in 0..mine {
                    let Ok(v) = rx.recv() else { return };
                    thread::sleep(Duration::from_millis(1));
                    if v < messages {
                        let _ = next.send(v + 1);
                    }
                }
            }));
        }
        drop(txs);
        for h in handles {
            h.join().unwrap();
        }
    });
    Throughput::new(started, decisions, executions)
}

crate::subscribe_race_program!(shuttle);

/// Runs one empty execution, which installs shuttle's panic hook (once per process), so
/// that a hook set afterwards replaces it.
pub fn install_hook() {
    Runner::new(RandomScheduler::new_from_seed(1, 1), config()).run(|| {});
}

/// Executions until the first failure under `scheduler` (at most `limit`).
fn first_failure(scheduler: impl Scheduler + 'static, m: u32) -> Option<u64> {
    executions_to_failure(|| {
        Runner::new(scheduler, config()).run(move || race_body(m));
    })
}

/// Shuttle's random scheduler, seeds 1..=N (`race_seeds`).
pub fn race_random(m: u32) -> Found {
    Found::over_seeds(|seed, limit| {
        first_failure(RandomScheduler::new_from_seed(seed, limit as usize), m)
    })
}

/// Shuttle's PCT scheduler of depth `depth`, seeds 1..=N (`race_seeds`).
pub fn race_pct(m: u32, depth: usize) -> Found {
    Found::over_seeds(|seed, limit| {
        first_failure(PctScheduler::new_from_seed(seed, depth, limit as usize), m)
    })
}
