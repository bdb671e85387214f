//! What invariants can read: pending timers (owner, destination, message, due time),
//! mailbox contents, and values the system shares with them.

use fsim::check::{When, invariant};
use fsim::sim::*;
use std::cell::Cell;
use std::rc::Rc;

#[derive(Debug, PartialEq)]
struct Tick(u32);

#[test]
fn invariants_read_timers_mailboxes_and_shared_values() {
    let mut sim = Sim::new(Config::default());
    let sink = sim.spawn("sink", |cx| async move {
        cx.sleep(100).await; // leaves what arrives meanwhile in the mailbox
        cx.recv().await;
    });
    sim.spawn("ticker", move |cx| async move {
        cx.send_after(sink, Tick(7), 30);
        cx.send(sink, Tick(1)).await;
    });
    // A value the system shares: here a cell the invariant writes what it saw into.
    let seen: Rc<Cell<(bool, bool)>> = Rc::default();
    sim.share(seen.clone());
    sim.invariant(invariant("looks", When::Always, |w| {
        let timer = w.timers().any(|t| {
            t.due_ms == 30
                && t.dest == Some(&Dest::Pid(Pid(0)))
                && t.message.is_some_and(|m| format!("{m:?}") == "Tick(7)")
        });
        let queued = w
            .mailbox(Pid(0))
            .any(|e| e.peek::<Tick>() == Some(&Tick(1)));
        let cell = w.get::<Rc<Cell<(bool, bool)>>>().expect("shared");
        let (t, q) = cell.get();
        cell.set((t || timer, q || queued));
        Ok(())
    }));
    let r = sim.run(&mut DefaultChooser);
    assert!(!r.outcome.is_failure(), "{:?}", r.outcome);
    assert_eq!(
        seen.get(),
        (true, true),
        "the timer and the queued message were visible"
    );
    assert!(sim.world().get::<String>().is_none());
}

/// `Sim::share` keeps one value per type: sharing another value of a type replaces the
/// first, and values of other types stay as they were.
#[test]
fn shared_values_are_one_per_type() {
    let mut sim = Sim::new(Config::default());
    sim.share(1u32).share(String::from("first")).share(2u64);
    sim.share(String::from("second"));
    let w = sim.world();
    assert_eq!(w.get::<u32>(), Some(&1));
    assert_eq!(w.get::<String>().map(String::as_str), Some("second"));
    assert_eq!(w.get::<u64>(), Some(&2));
    assert_eq!(w.get::<i64>(), None);
}

/// The index of the living that keeps a step's cost independent of history agrees with
/// the full scan, after every step of runs with spawns, exits, kills and restarts.
#[test]
fn the_live_index_agrees_with_a_scan_of_every_pid() {
    let config = fsim::workload::mixed_config();
    for seed in 0..300 {
        let mut sim = Sim::new(config.clone());
        fsim::workload::mixed(&mut sim);
        sim.invariant(invariant("live_index", When::Always, |w| {
            let indexed: Vec<Pid> = w.live_pids().collect();
            let scanned: Vec<Pid> = w.pids().filter(|p| w.is_alive(*p)).collect();
            if indexed == scanned && indexed.len() as u32 == w.live_count() {
                Ok(())
            } else {
                Err(format!("index {indexed:?}, scan {scanned:?}"))
            }
        }));
        let r = sim.run(&mut RandomChooser::new(seed));
        assert!(!r.outcome.is_failure(), "seed {seed}: {:?}", r.outcome);
    }
}

/// `spawn_monitor`: a child that exits at once is seen exiting `normal` in every schedule
/// (the BEAM said `normal` in 200,000 of 200,000 tries); `spawn` then `monitor` can say
/// `noproc`.
#[test]
fn spawn_monitor_sees_the_real_exit_reason_of_a_quick_child_in_every_schedule() {
    let mut noproc_with_two_steps = 0;
    for seed in 0..500 {
        for atomic in [true, false] {
            let mut sim = Sim::new(Config::default());
            let parent = sim.spawn("parent", move |cx| async move {
                let mref = if atomic {
                    cx.spawn_monitor(|_c: Cx| async {}).await.1
                } else {
                    let child = cx.spawn(|_c: Cx| async {}).await;
                    cx.yield_now().await; // the child may run and exit here
                    cx.monitor(child).await
                };
                let env = cx.recv_match(Matcher::Tag(mref)).await;
                let (_, _, reason) = env.down().expect("a DOWN");
                if *reason == ExitReason::NoProc {
                    cx.exit(ExitReason::custom("noproc"));
                }
            });
            let r = sim.run(&mut RandomChooser::new(seed));
            assert!(!r.outcome.is_failure(), "{:?}", r.outcome);
            let noproc = sim.world().exit_reason(parent) == Some(&ExitReason::custom("noproc"));
            if atomic {
                assert!(!noproc, "seed {seed}: spawn_monitor's DOWN said noproc");
            } else {
                noproc_with_two_steps += noproc as u32;
            }
        }
    }
    assert!(
        noproc_with_two_steps > 0,
        "spawn then monitor can miss the exit"
    );
}

#[test]
fn a_violation_is_at_the_step_its_trace_line_has() {
    // An invariant fails after the step that broke it: that step's index, as the trace
    // numbers it, for checks after every step, at quiescence and at the end alike.
    for when in [
        fsim::check::When::Always,
        fsim::check::When::Quiescence,
        fsim::check::When::End,
    ] {
        let mut sim = Sim::new(Config {
            record_trace: true,
            ..Config::default()
        });
        let p = sim.spawn("sender", |cx| async move {
            cx.send(cx.me(), 1u32).await;
            cx.send(cx.me(), 2u32).await;
            cx.recv_match(Matcher::Nothing).await; // waits, its mailbox kept
        });
        sim.invariant(fsim::check::invariant("two_queued", when, move |w| {
            if w.mailbox(p).count() < 2 {
                Ok(())
            } else {
                Err("two messages queued".into())
            }
        }));
        let r = sim.run(&mut DefaultChooser);
        let Outcome::Violation(v) = &r.outcome else {
            panic!("{when:?}: {:?}", r.outcome);
        };
        let last = r.trace.as_ref().unwrap().last().unwrap().step;
        assert_eq!((v.step, r.steps), (last, last + 1), "{when:?}");
    }
}
