//! Bounds are reported outcomes with the last trace events, never hangs; a panic inside a
//! process is that process's crash.

use fsim::sim::*;

fn config(f: impl FnOnce(&mut Limits)) -> Config {
    let mut c = Config::default();
    f(&mut c.limits);
    c
}

fn assert_bound(r: &RunReport, expected: fn(&Bound) -> bool) {
    match &r.outcome {
        Outcome::BoundHit(b) => assert!(expected(b), "wrong bound: {b:?}"),
        other => panic!("expected a bound hit, got {other:?}"),
    }
    assert!(!r.recent.is_empty(), "a bound hit carries the last events");
    assert!(r.recent.len() <= fsim::sim::trace::RECENT_MAX);
    assert_eq!(
        r.recent.last().unwrap().step + 1,
        r.steps,
        "the last event is the last step"
    );
}

#[test]
fn a_spinning_process_hits_steps_max() {
    let mut sim = Sim::new(config(|l| l.steps_max = 5_000));
    sim.spawn("spinner", |cx| async move {
        for _ in 0.. {
            cx.yield_now().await;
        }
    });
    let r = sim.run(&mut RandomChooser::new(1));
    assert_bound(&r, |b| matches!(b, Bound::Steps { max: 5_000 }));
    assert_eq!(r.steps, 5_000);
    let text = Bound::Steps { max: 5_000 }.to_string();
    assert!(
        text.contains("steps_max (5000)") && text.contains("last trace events"),
        "{text}"
    );
}

#[test]
fn a_spawn_loop_hits_processes_max() {
    let mut sim = Sim::new(config(|l| l.processes_max = 50));
    sim.spawn("bomb", |cx| async move {
        for _ in 0.. {
            cx.spawn(|c: Cx| async move {
                c.recv().await;
            })
            .await;
        }
    });
    let r = sim.run(&mut RandomChooser::new(2));
    assert_bound(&r, |b| matches!(b, Bound::Processes { max: 50 }));
}

#[test]
fn a_flooded_mailbox_hits_mailbox_max() {
    let mut sim = Sim::new(config(|l| l.mailbox_max = 20));
    let sink = sim.spawn("sink", |cx| async move {
        cx.recv_match(Matcher::when(|e| e.is::<()>())).await; // never sent
    });
    sim.spawn("flood", move |cx| async move {
        for i in 0..100u32 {
            cx.send(sink, i).await;
        }
    });
    let r = sim.run(&mut RandomChooser::new(3));
    assert_bound(&r, |b| matches!(b, Bound::Mailbox { max: 20, .. }));
}

#[test]
fn a_long_run_hits_tape_max() {
    let mut sim = Sim::new(config(|l| l.tape_max = 10));
    for _ in 0..3 {
        sim.spawn("worker", |cx| async move {
            for _ in 0..20 {
                cx.yield_now().await;
            }
        });
    }
    let r = sim.run(&mut RandomChooser::new(4));
    assert_bound(&r, |b| matches!(b, Bound::Tape { max: 10 }));
    assert_eq!(r.tape.len(), 11);
}

#[test]
fn a_panic_opted_in_as_a_crash_travels_on_links() {
    for seed in 0..50 {
        let mut sim = Sim::new(Config::default());
        let watcher = sim.spawn("watcher", |cx| async move {
            cx.trap_exit(true);
            cx.panics_are_crashes(true); // inherited by the child spawned below
            let crasher = cx
                .spawn_link(|_c: Cx| async move {
                    let v: Vec<u8> = Vec::new();
                    let _ = v[3]; // index out of bounds
                })
                .await;
            let env = cx.recv().await;
            assert_eq!(env.from, crasher);
            env.exit_reason().cloned().unwrap()
        });
        let r = sim.run(&mut RandomChooser::new(seed));
        assert_eq!(r.outcome, Outcome::Quiescent);
        match sim.world().exit_reason(watcher) {
            Some(ExitReason::Custom(m)) => {
                assert!(m.starts_with("panic: index out of bounds"), "{m}")
            }
            other => panic!("seed {seed}: {other:?}"),
        }
    }
}

/// A future that wakes itself and is pending once, as a foreign runtime's `yield_now`.
struct ForeignYield(bool);

impl std::future::Future for ForeignYield {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            return std::task::Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[test]
fn awaiting_a_foreign_future_fails_the_run_naming_the_process() {
    for panics in [Panics::Fail, Panics::Crash] {
        for self_waking in [false, true] {
            let mut sim = Sim::new(Config {
                panics,
                ..Config::default()
            });
            let after = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let reached = after.clone();
            sim.spawn("foreign", move |_cx| async move {
                if self_waking {
                    ForeignYield(false).await;
                } else {
                    std::future::pending::<()>().await;
                }
                reached.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            let r = sim.run(&mut DefaultChooser);
            let Outcome::Violation(v) = &r.outcome else {
                panic!("{panics:?}, {self_waking}: {:?}", r.outcome);
            };
            assert_eq!(v.invariant, fsim::check::PANIC);
            assert!(
                v.message
                    .starts_with("process <0.0.0> (foreign) awaited a future that is not fsim's"),
                "{}",
                v.message
            );
            assert_eq!((v.step, r.steps), (0, 1), "{panics:?}, {self_waking}");
            // The process was stopped at the await: the code after it never ran.
            assert!(!after.load(std::sync::atomic::Ordering::Relaxed));
        }
    }
}

#[test]
fn periodic_timers_end_at_the_time_limit() {
    #[derive(Debug)]
    struct Tick;
    let mut sim = Sim::new(config(|l| l.time_max_ms = 10_000));
    sim.spawn("ticker", |cx| async move {
        for _ in 0.. {
            cx.send_after(cx.me(), Tick, 1_000);
            cx.recv().await;
        }
    });
    let r = sim.run(&mut RandomChooser::new(5));
    assert_eq!(r.outcome, Outcome::TimeLimit);
    assert_eq!(r.time_ms, 10_000);
}
