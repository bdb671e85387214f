//! madsim's side of the peer benchmark. `ping_pong N` and `ring SEEDS` run the workloads of
//! `../src/main.rs` on madsim's deterministic runtime (this crate is built with
//! `--cfg madsim`) and print one JSON object each. A decision is one poll of a task: the
//! choice madsim's scheduler makes each time it picks a ready task to run.

use madsim::Config;
use madsim::runtime::Runtime;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A future that counts its polls.
struct Counted<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicU64>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.inner.as_mut().poll(cx)
    }
}

fn counted<F: Future>(polls: &Arc<AtomicU64>, f: F) -> Counted<F> {
    Counted {
        inner: Box::pin(f),
        polls: polls.clone(),
    }
}

/// Two tasks pass a counter back and forth until `n` messages have been sent.
async fn ping_pong(n: u64, polls: Arc<AtomicU64>) {
    let (to_pong, mut pong_rx) = mpsc::unbounded_channel::<u64>();
    let (to_ping, mut ping_rx) = mpsc::unbounded_channel::<u64>();
    let pong = madsim::task::spawn(counted(&polls, async move {
        while let Some(v) = pong_rx.recv().await {
            let _ = to_ping.send(v + 1);
            if v + 1 >= n {
                break;
            }
        }
    }));
    let _ = to_pong.send(0);
    while let Some(v) = ping_rx.recv().await {
        if v + 1 >= n {
            break;
        }
        let _ = to_pong.send(v + 1);
    }
    drop(to_pong); // the last reply may have been ping's: pong's receive then ends
    let _ = pong.await;
}

/// `actors` tasks in a ring pass a token `messages` times; each holder sleeps 1 ms of
/// virtual time before passing it on (fsim's `workload::ring_with_timers`).
async fn ring(actors: u32, messages: u32, polls: Arc<AtomicU64>) {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..actors)
        .map(|_| mpsc::unbounded_channel::<u32>())
        .unzip();
    let mut handles = Vec::new();
    for (i, mut rx) in rxs.into_iter().enumerate() {
        let i = i as u32;
        let next = txs[((i + 1) % actors) as usize].clone();
        let mine = (1..=messages).filter(|v| v % actors == i).count();
        handles.push(madsim::task::spawn(counted(&polls, async move {
            if i == 0 && messages > 0 {
                let _ = next.send(1);
            }
            for _ in 0..mine {
                let Some(v) = rx.recv().await else { return };
                madsim::time::sleep(Duration::from_millis(1)).await;
                if v < messages {
                    let _ = next.send(v + 1);
                }
            }
        })));
    }
    drop(txs);
    for h in handles {
        let _ = h.await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let polls = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workload = args.get(1).map(String::as_str).unwrap_or("");
    match workload {
        "ping_pong" => {
            let rt = Runtime::with_seed_and_config(1, Config::default());
            rt.block_on(counted(&polls, ping_pong(n, polls.clone())));
        }
        "ring" => {
            for seed in 1..=n {
                let rt = Runtime::with_seed_and_config(seed, Config::default());
                rt.block_on(counted(&polls, ring(3, 20, polls.clone())));
            }
        }
        other => {
            eprintln!("usage: fsim-peers-madsim ping_pong N | ring SEEDS (not `{other}`)");
            std::process::exit(2);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "workload": workload,
            "n": n,
            "secs": secs,
            "decisions": polls.load(Ordering::Relaxed),
        })
    );
}
